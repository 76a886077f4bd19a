package cache

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	"vmimages/core/localfs"
	"vmimages/core/manifest"
)

// Tx is one change to an image on disk: a pull, an update to a new build or
// a conversion. It holds the image's lock from Begin until Commit or Abort.
//
// Nothing a Tx writes is part of the image until Commit: transfers and
// verified downloads wait in .partial (PartFile, Stage), a conversion writes
// there too (RawTemp, StageRaw), and the committed build stays intact and
// listed ready. Commit makes the new build the image in one atomic step, the
// rename of meta.json; Abort leaves the committed build as it was.
//
// A Tx is used by one goroutine at a time; PartFile and Stage may be called
// from several goroutines.
type Tx struct {
	c      *Cache
	k      Key
	dir    string
	unlock func() error
	old    *Meta // the committed build when Begin ran, nil when none

	mu      sync.Mutex // guards staged, kept, raw and keepRaw
	staged  map[string]staged
	kept    map[string]AssetMeta
	raw     *staged // a staged conversion
	keepRaw bool
	done    bool
	proofs  []Proof // the new build's proof (SetProofs), kept by Commit
}

// staged is a file waiting in .partial to become part of the image.
type staged struct {
	path string
	a    AssetMeta
	raw  RawMeta
}

// PartFile names where one asset's transfer happens: Part holds the bytes
// in flight (its sidecar is Part + ".json"), Dest is where the verified file
// waits until Commit. Both are inside the image's .partial directory.
type PartFile struct {
	Part string
	Dest string
}

// Begin starts a change to image k: it creates the image directory if needed,
// takes the image's lock (waiting until ctx ends) and removes what earlier
// changes left behind and no build names (stale conversions, staged files
// from before transactions, files of replaced builds). It refuses
// (ErrUnsafePath) an image whose directory, lock file or .partial is a
// symbolic link.
func (c *Cache) Begin(ctx context.Context, k Key) (*Tx, error) {
	if err := c.check(k); err != nil {
		return nil, err
	}
	unlock, err := c.Lock(ctx, k)
	if err != nil {
		return nil, err
	}
	tx := &Tx{c: c, k: k, dir: c.Dir(k), unlock: unlock,
		staged: map[string]staged{}, kept: map[string]AssetMeta{}}
	if err := tx.begin(); err != nil {
		unlock()
		return nil, err
	}
	return tx, nil
}

func (tx *Tx) begin() error {
	if err := tx.checkPartialDir(); err != nil {
		return err
	}
	m, err := tx.c.readMeta(tx.k)
	switch {
	case err == nil:
		tx.old = m
	case errors.Is(err, ErrNotCached), errors.Is(err, ErrBadMeta):
		// Nothing committed that can be trusted: a pull starts afresh.
	default:
		return err
	}
	return tx.sweep()
}

// ownName matches the names this package gives assets in an image
// directory: the stable names and the build-suffixed ones Commit uses while
// it switches builds ("disk-2.qcow2").
var ownName = regexp.MustCompile(`^(vmlinuz|vmlinux|initramfs|disk)(-[0-9]+)?(\.(qcow2|img|raw))?$`)

// sweep removes files of the image directory that the committed metadata
// does not name and that this package made, and leftovers in .partial that
// no transfer can resume from. The lock is held.
func (tx *Tx) sweep() error {
	named := map[string]bool{}
	if tx.old != nil {
		for _, f := range tx.old.files() {
			named[f] = true
		}
	}
	ents, err := os.ReadDir(tx.dir)
	if err != nil {
		return fmt.Errorf("read %s: %w", tx.dir, err)
	}
	for _, e := range ents {
		n := e.Name()
		stale := strings.HasPrefix(n, stagedPrefix) || strings.HasPrefix(n, legacyRawTemp) ||
			strings.HasPrefix(n, "."+metaFile) || (ownName.MatchString(n) && !named[n])
		if stale && !e.IsDir() {
			if err := os.Remove(filepath.Join(tx.dir, n)); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("remove a leftover: %w", err)
			}
		}
	}
	_, err = tx.tidyPartial()
	return err
}

// tidyPartial removes from .partial what no later pull can use: empty part
// files and notes without a part with bytes, conversions, links and
// whatever else a crash left there. It keeps part files with bytes, their
// notes, and verified downloads, and reports whether any of those stay.
// The lock is held.
func (tx *Tx) tidyPartial() (keep bool, err error) {
	if err := tx.checkPartialDir(); err != nil {
		return true, err // not ours to clean
	}
	pdir := filepath.Join(tx.dir, partialDir)
	ents, err := os.ReadDir(pdir)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return true, fmt.Errorf("read %s: %w", pdir, err)
	}
	size := map[string]int64{}
	for _, e := range ents {
		if fi, err := e.Info(); err == nil && e.Type().IsRegular() {
			size[e.Name()] = fi.Size()
		}
	}
	for _, e := range ents {
		n := e.Name()
		_, regular := size[n]
		useful := false
		if part, ok := strings.CutSuffix(n, ".part.json"); ok {
			useful = regular && ownName.MatchString(part) && size[part+".part"] > 0
		} else if asset, ok := strings.CutSuffix(n, ".part"); ok {
			useful = regular && ownName.MatchString(asset) && size[n] > 0
		} else {
			useful = regular && ownName.MatchString(n) // a verified download
		}
		if useful {
			keep = true
			continue
		}
		if err := os.RemoveAll(filepath.Join(pdir, n)); err != nil {
			return true, fmt.Errorf("remove a leftover: %w", err)
		}
	}
	if !keep {
		os.Remove(pdir)
	}
	return keep, nil
}

// files lists the names m gives files in the image directory.
func (m *Meta) files() []string {
	var out []string
	for _, a := range m.Assets {
		out = append(out, a.File)
	}
	if m.DiskRaw != nil {
		out = append(out, m.DiskRaw.File)
	}
	return out
}

// checkPartialDir makes .partial a real directory of the image, refusing a
// symbolic link or anything else at its name.
func (tx *Tx) checkPartialDir() error {
	p := filepath.Join(tx.dir, partialDir)
	fi, err := os.Lstat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil // made when a transfer needs it
	}
	if err != nil {
		return fmt.Errorf("check %s: %w", p, err)
	}
	if !fi.IsDir() || fi.Mode()&fs.ModeSymlink != 0 {
		return fmt.Errorf("%w: %s is not a directory (a symbolic link?); remove it by hand", ErrUnsafePath, p)
	}
	return nil
}

// partialPath makes .partial if needed and returns name inside it. A name
// that is not a file of our own (a symbolic or hard link planted to make a
// write land elsewhere, a file of another user) is unlinked, so whatever
// writes there starts a new file; a directory at the name is refused
// (ErrUnsafePath).
func (tx *Tx) partialPath(name string) (string, error) {
	dir := filepath.Join(tx.dir, partialDir)
	if err := os.Mkdir(dir, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
		return "", fmt.Errorf("create %s: %w", dir, err)
	}
	if err := tx.checkPartialDir(); err != nil {
		return "", err
	}
	p := filepath.Join(dir, name)
	if _, err := localfs.DiscardForeign(p); errors.Is(err, localfs.ErrNotOwnFile) {
		return "", fmt.Errorf("%w: %s is not a regular file; remove it by hand", ErrUnsafePath, p)
	} else if err != nil {
		return "", err
	}
	return p, nil
}

// Key is the image the transaction changes.
func (tx *Tx) Key() Key { return tx.k }

// Committed returns a copy of the image's committed metadata as Begin found
// it, or nil when the image has no committed build.
func (tx *Tx) Committed() *Meta {
	if tx.old == nil {
		return nil
	}
	m := *tx.old
	m.Assets = slices.Clone(tx.old.Assets)
	if tx.old.DiskRaw != nil {
		r := *tx.old.DiskRaw
		m.DiskRaw = &r
	}
	return &m
}

// Path returns the absolute path of a file the committed metadata names.
func (tx *Tx) Path(file string) string { return filepath.Join(tx.dir, file) }

// PartFile returns where the transfer of the asset with the given role and
// disk format happens. The paths are checked: a symbolic link, a hard link
// or a file of another user found at them is unlinked (a transfer then
// starts from zero), so nothing written there lands outside the cache.
func (tx *Tx) PartFile(role, format string) (PartFile, error) {
	name := AssetName(role, format)
	if name == "" || role == RoleDiskRaw {
		return PartFile{}, fmt.Errorf("part file for %s: unknown asset role %q", tx.k, role)
	}
	var pf PartFile
	var err error
	if pf.Dest, err = tx.partialPath(name); err != nil {
		return PartFile{}, err
	}
	if pf.Part, err = tx.partialPath(name + ".part"); err != nil {
		return PartFile{}, err
	}
	if _, err = tx.partialPath(name + ".part.json"); err != nil {
		return PartFile{}, err
	}
	return pf, nil
}

// Stage records that file, a verified download at the Dest of PartFile(role,
// a.Format), holds the asset a of the new build. a.Role is set to role and
// a.File is chosen by Commit.
func (tx *Tx) Stage(role, file string, a AssetMeta) error {
	want, err := tx.PartFile(role, a.Format)
	if err != nil {
		return err
	}
	if filepath.Clean(file) != want.Dest {
		return fmt.Errorf("stage %s of %s: %s is not the transaction's file %s", role, tx.k, file, want.Dest)
	}
	fi, err := os.Lstat(file)
	if err != nil {
		return fmt.Errorf("stage %s of %s: %w", role, tx.k, err)
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%w: %s is not a regular file", ErrUnsafePath, file)
	}
	a.Role, a.Size = role, fi.Size()
	tx.mu.Lock()
	defer tx.mu.Unlock()
	delete(tx.kept, role)
	tx.staged[role] = staged{path: file, a: a}
	return nil
}

// Keep makes the committed asset with the given role part of the new build,
// its file as it is, and returns it. update, when not nil, may change what
// is recorded about it (such as how its digest was proven now), not its
// file. Keep fails unless the committed build has that asset in place at its
// recorded size.
func (tx *Tx) Keep(role string, update func(*AssetMeta)) (AssetMeta, error) {
	if tx.old == nil {
		return AssetMeta{}, fmt.Errorf("%w: %s", ErrNotCached, tx.k)
	}
	a := tx.old.Asset(role)
	if a == nil {
		return AssetMeta{}, fmt.Errorf("%s has no %s", tx.k, role)
	}
	fi, err := os.Lstat(tx.Path(a.File))
	if err != nil || !fi.Mode().IsRegular() || (a.Size > 0 && fi.Size() != a.Size) {
		return AssetMeta{}, fmt.Errorf("%w: %s: %s is missing, not a regular file or of another size", ErrNotVerified, tx.k, a.File)
	}
	k := *a
	if update != nil {
		update(&k)
		k.Role, k.File, k.Size, k.Digest = a.Role, a.File, a.Size, a.Digest
	}
	tx.mu.Lock()
	defer tx.mu.Unlock()
	delete(tx.staged, role)
	tx.kept[role] = k
	return k, nil
}

// Asset returns the new build's asset with the given role, staged or kept,
// and whether it was kept from the committed build; ok is false when the
// transaction has no such asset.
func (tx *Tx) Asset(role string) (a AssetMeta, kept, ok bool) {
	tx.mu.Lock()
	defer tx.mu.Unlock()
	if s, found := tx.staged[role]; found {
		return s.a, false, true
	}
	if a, found := tx.kept[role]; found {
		return a, true, true
	}
	return AssetMeta{}, false, false
}

// StagedPath returns the file that holds the new build's asset with the
// given role (staged or kept), or "".
func (tx *Tx) StagedPath(role string) string {
	tx.mu.Lock()
	defer tx.mu.Unlock()
	if s, ok := tx.staged[role]; ok {
		return s.path
	}
	if a, ok := tx.kept[role]; ok {
		return tx.Path(a.File)
	}
	return ""
}

// RawTemp returns the file a conversion writes the raw disk to. While it
// exists and the transaction runs, List shows the image as converting;
// Abort and the next Begin remove it.
func (tx *Tx) RawTemp() (string, error) {
	p, err := tx.partialPath(rawTemp)
	if err != nil {
		return "", err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("convert %s: %w", tx.k, err)
	}
	return p, nil
}

// StageRaw records the conversion written to file (RawTemp) as the new
// build's raw disk, converted from the disk with digest source. It computes
// the file's SHA-256 and records it with the file's size and time, before
// the file gets its name.
func (tx *Tx) StageRaw(ctx context.Context, file string, source manifest.Digest, progress Progress) (RawMeta, error) {
	want := filepath.Join(tx.dir, partialDir, rawTemp)
	if filepath.Clean(file) != want {
		return RawMeta{}, fmt.Errorf("stage the raw disk of %s: %s is not the transaction's file %s", tx.k, file, want)
	}
	fi, err := os.Lstat(file)
	if err != nil {
		return RawMeta{}, fmt.Errorf("stage the raw disk of %s: %w", tx.k, err)
	}
	if !fi.Mode().IsRegular() {
		return RawMeta{}, fmt.Errorf("%w: %s is not a regular file", ErrUnsafePath, file)
	}
	h := sha256.New()
	var done int64
	if err := hashFile(ctx, file, h, func(n int64) {
		done += n
		if progress != nil {
			progress(done, fi.Size())
		}
	}); err != nil {
		return RawMeta{}, fmt.Errorf("hash the raw disk of %s: %w", tx.k, err)
	}
	r := RawMeta{
		Digest:       manifest.Digest{Algorithm: manifest.SHA256, Hex: hex.EncodeToString(h.Sum(nil))},
		ModTime:      fi.ModTime().UTC(),
		SourceDigest: source,
		Size:         fi.Size(),
		ConvertedAt:  tx.c.now().UTC(),
	}
	tx.mu.Lock()
	defer tx.mu.Unlock()
	tx.raw = &staged{path: file, raw: r}
	tx.keepRaw = false
	return r, nil
}

// KeepRaw makes the committed raw disk part of the new build.
func (tx *Tx) KeepRaw() error {
	if tx.old == nil || tx.old.DiskRaw == nil {
		return fmt.Errorf("%s has no raw disk", tx.k)
	}
	tx.mu.Lock()
	defer tx.mu.Unlock()
	tx.raw, tx.keepRaw = nil, true
	return nil
}

// RawChange says why the committed raw disk cannot be handed out as it is,
// or "" when it is the conversion it was: in place, and either at the size
// and time recorded when it was hashed or (when those differ) with the
// recorded SHA-256. A raw disk converted from another disk than the
// committed one, or without a recorded digest, has changed too.
func (tx *Tx) RawChange(ctx context.Context, progress Progress) (string, error) {
	if tx.old == nil || tx.old.DiskRaw == nil {
		return "no raw disk", nil
	}
	return rawChange(ctx, tx.dir, tx.old, progress)
}

func rawChange(ctx context.Context, dir string, m *Meta, progress Progress) (string, error) {
	r := m.DiskRaw
	if d := m.Asset(RoleDisk); d == nil || d.Digest != r.SourceDigest {
		return r.File + " was converted from another disk", nil
	}
	if r.Digest.IsZero() {
		return r.File + " has no recorded digest", nil
	}
	p := filepath.Join(dir, r.File)
	fi, err := os.Lstat(p)
	switch {
	case err != nil:
		return r.File + " is missing", nil
	case !fi.Mode().IsRegular():
		return r.File + " is not a regular file", nil
	case fi.Size() != r.Size:
		return fmt.Sprintf("%s changed size (%d bytes, converted %d)", r.File, fi.Size(), r.Size), nil
	case fi.ModTime().Equal(r.ModTime):
		return "", nil
	}
	h, err := r.Digest.NewHash()
	if err != nil {
		return "", err
	}
	var done int64
	if err := hashFile(ctx, p, h, func(n int64) {
		done += n
		if progress != nil {
			progress(done, fi.Size())
		}
	}); err != nil {
		if ctx.Err() != nil {
			return "", context.Cause(ctx)
		}
		return r.File + " cannot be read: " + err.Error(), nil
	}
	if sum := h.Sum(nil); !r.Digest.Matches(sum) {
		return fmt.Sprintf("%s changed since it was converted (sha256 %x, converted %s)", r.File, sum, r.Digest.Hex), nil
	}
	return "", nil
}

// ErrNotVerified means a committed file is not, or is no longer, the
// verified one: missing, not a regular file (a symbolic link), of another
// size, with other bytes than the recorded digest, or changed while a
// conversion read it.
var ErrNotVerified = errors.New("not the verified file")

// Source returns the new build's asset with the given role for a conversion
// to read, proven: a file staged in this transaction was verified as it
// arrived; a kept (committed) file is hashed now against its recorded
// digest. check, called after the conversion and before StageRaw, fails
// (ErrNotVerified) when the file at path changed meanwhile.
func (tx *Tx) Source(ctx context.Context, role string, progress Progress) (path string, check func() error, err error) {
	tx.mu.Lock()
	s, isStaged := tx.staged[role]
	a, isKept := tx.kept[role]
	tx.mu.Unlock()
	switch {
	case isStaged:
		path = s.path
	case isKept:
		path = tx.Path(a.File)
	default:
		return "", nil, fmt.Errorf("%s has no %s to convert", tx.k, role)
	}
	before, err := os.Lstat(path)
	if err != nil {
		return "", nil, fmt.Errorf("%w: %s: %w", ErrNotVerified, path, err)
	}
	if !before.Mode().IsRegular() {
		return "", nil, fmt.Errorf("%w: %s is not a regular file (a symbolic link?)", ErrNotVerified, path)
	}
	if isKept {
		h, err := a.Digest.NewHash()
		if err != nil {
			return "", nil, fmt.Errorf("%s: %w", a.File, err)
		}
		var done int64
		err = hashFile(ctx, path, h, func(n int64) {
			done += n
			if progress != nil {
				progress(done, before.Size())
			}
		})
		if err != nil {
			if ctx.Err() != nil {
				return "", nil, context.Cause(ctx)
			}
			return "", nil, fmt.Errorf("%w: %s: %w", ErrNotVerified, path, err)
		}
		if sum := h.Sum(nil); !a.Digest.Matches(sum) {
			return "", nil, fmt.Errorf("%w: %s has %s %x, the verified disk %s", ErrNotVerified, a.File, a.Digest.Algorithm, sum, a.Digest.Hex)
		}
	}
	check = func() error {
		after, err := os.Lstat(path)
		if err != nil || !os.SameFile(before, after) || after.Size() != before.Size() || !after.ModTime().Equal(before.ModTime()) {
			return fmt.Errorf("%w: %s changed while it was converted", ErrNotVerified, path)
		}
		return nil
	}
	return path, check, nil
}

// Commit makes the new build the image: the staged and kept assets, and the
// staged or kept raw disk, with m's other fields (build, signature, times).
// The switch is one atomic step: staged files are moved beside the committed
// ones (under build-suffixed names where a stable name is still taken),
// then meta.json naming them is written. After the switch, files get their
// stable names back (through hard links, so meta.json never names a missing
// file), the replaced build's files are removed, and .partial keeps only what
// another change can resume.
// Commit ends the transaction and returns the metadata written.
func (tx *Tx) Commit(m *Meta) (*Meta, error) {
	if tx.done {
		return nil, fmt.Errorf("commit %s: transaction already ended", tx.k)
	}
	defer tx.Abort()
	nm := *m
	nm.Distro, nm.Version, nm.Arch = tx.k.Distro, tx.k.Version, tx.k.Arch
	nm.Assets, nm.DiskRaw = nil, nil

	taken := map[string]bool{} // names the committed build still uses
	if tx.old != nil {
		for _, f := range tx.old.files() {
			taken[f] = true
		}
	}
	name := func(stable string) string {
		if !taken[stable] {
			taken[stable] = true
			return stable
		}
		stem, ext := stable, ""
		if i := strings.IndexByte(stable, '.'); i > 0 {
			stem, ext = stable[:i], stable[i:]
		}
		for n := 2; ; n++ {
			g := stem + "-" + strconv.Itoa(n) + ext
			if !taken[g] {
				taken[g] = true
				return g
			}
		}
	}

	type move struct{ from, to string }
	var moves []move
	for _, role := range []string{RoleKernel, RoleKernelImage, RoleInitramfs, RoleDisk} {
		if a, ok := tx.kept[role]; ok {
			nm.Assets = append(nm.Assets, a)
			continue
		}
		s, ok := tx.staged[role]
		if !ok {
			continue
		}
		a := s.a
		a.File = name(AssetName(role, a.Format))
		nm.Assets = append(nm.Assets, a)
		moves = append(moves, move{s.path, a.File})
	}
	switch {
	case tx.raw != nil:
		r := tx.raw.raw
		r.File = name(AssetName(RoleDiskRaw, ""))
		nm.DiskRaw = &r
		moves = append(moves, move{tx.raw.path, r.File})
	case tx.keepRaw:
		r := *tx.old.DiskRaw
		nm.DiskRaw = &r
	}
	if len(nm.Assets) == 0 {
		return nil, fmt.Errorf("commit %s: no assets", tx.k)
	}
	nm.Verified = keptVerdict(nm.Verified, moves == nil, func(file string) bool {
		for _, a := range tx.kept {
			if a.File == file {
				return true
			}
		}
		return tx.keepRaw && tx.old.DiskRaw.File == file
	})
	if err := nm.validate(); err != nil {
		return nil, fmt.Errorf("commit %s: %w", tx.k, err)
	}
	for _, mv := range moves {
		if err := os.Rename(mv.from, tx.Path(mv.to)); err != nil {
			return nil, fmt.Errorf("commit %s: %w", tx.k, err)
		}
	}
	if err := localfs.SyncDir(tx.dir); err != nil {
		return nil, fmt.Errorf("commit %s: %w", tx.k, err)
	}
	if tx.proofs != nil {
		if err := saveProofs(filepath.Join(tx.dir, proofDir), nm.Build, tx.proofs); err != nil {
			return nil, fmt.Errorf("commit %s: %w", tx.k, err)
		}
	}
	// The switch.
	if err := tx.c.WriteMeta(&nm); err != nil {
		return nil, fmt.Errorf("commit %s: %w", tx.k, err)
	}
	tx.old = &nm
	tx.settle()
	return tx.Committed(), nil
}

// keptVerdict is what the last verify said about the files a commit keeps:
// a failure pinned on files stays for the kept ones and is dropped for files
// made anew; a failure pinned on none stays; a success stays only when
// nothing is new.
func keptVerdict(v *VerifyMeta, nothingNew bool, kept func(file string) bool) *VerifyMeta {
	switch {
	case v == nil:
		return nil
	case v.OK:
		if nothingNew {
			return v
		}
		return nil
	case len(v.Files) == 0:
		return v
	}
	out := VerifyMeta{At: v.At}
	for _, f := range v.Files {
		if kept(f) {
			out.Files = append(out.Files, f)
		}
	}
	if len(out.Files) == 0 {
		return nil
	}
	for _, p := range v.Problems {
		if f, _, ok := strings.Cut(p, ": "); !ok || kept(f) {
			out.Problems = append(out.Problems, p)
		}
	}
	return &out
}

// settle gives build-suffixed files their stable names once nothing else
// uses them, then removes files no build names and tidies .partial. Each
// step leaves meta.json naming files that exist; a failure stops it early
// with the image intact, and the next Begin sweeps what is left.
func (tx *Tx) settle() {
	nm := tx.Committed()
	inUse := map[string]bool{}
	for _, f := range nm.files() {
		inUse[f] = true
	}
	var renamed []string // build-suffixed names that got a stable one
	rename := func(file *string, stable string) {
		if *file == stable || inUse[stable] {
			return
		}
		tmp := filepath.Join(tx.dir, partialDir, linkTemp)
		os.Remove(tmp)
		if os.Link(tx.Path(*file), tmp) != nil {
			return // no hard links here: keep the suffixed name
		}
		if os.Rename(tmp, tx.Path(stable)) != nil {
			os.Remove(tmp)
			return
		}
		renamed = append(renamed, *file)
		inUse[stable] = true
		*file = stable
	}
	for i := range nm.Assets {
		rename(&nm.Assets[i].File, AssetName(nm.Assets[i].Role, nm.Assets[i].Format))
	}
	if nm.DiskRaw != nil {
		rename(&nm.DiskRaw.File, AssetName(RoleDiskRaw, ""))
	}
	if len(renamed) > 0 {
		if tx.c.WriteMeta(nm) != nil {
			return
		}
		tx.old = nm
	}
	// Whatever this package made that the build does not name goes: the
	// suffixed names just replaced, the replaced build's files.
	// sweep tidies .partial too: what this change used has moved out, and
	// an interrupted transfer of another change stays for its resume.
	_ = tx.sweep()
	_ = localfs.SyncDir(tx.dir)
}

// Abort ends the transaction without changing the committed build. Part
// files with bytes (and their notes) and verified downloads stay in
// .partial, so the next pull resumes them (a verified download is hashed
// again, not fetched again); everything else there goes: empty parts,
// conversions, temporaries.
// When the image has no committed build and nothing in .partial is worth
// keeping, the image directory is removed, so a failed first pull leaves
// nothing behind. It then releases the lock. Abort after Commit or Abort
// does nothing.
func (tx *Tx) Abort() error {
	if tx.done {
		return nil
	}
	tx.done = true
	defer tx.unlock()
	keep, err := tx.tidyPartial()
	if err != nil {
		keep = true
	}
	if tx.old == nil && !keep {
		if _, err := os.Lstat(filepath.Join(tx.dir, metaFile)); errors.Is(err, fs.ErrNotExist) {
			return tx.c.removeLocked(tx.k)
		}
	}
	return nil
}
