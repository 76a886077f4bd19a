package cache

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"vmimages/core/version"
)

// State is the condition of a cached image, as List finds it on disk.
type State string

// The states of an image, in the order List checks for them.
const (
	// StateConverting: a process that holds the image's lock is writing a
	// raw conversion. A conversion's leftover without a live holder is not
	// reported (the next change removes it).
	StateConverting State = "converting"
	// StatePartial: no committed build yet (transfers in flight or
	// interrupted, or nothing at all), or metadata without assets. An image
	// with a committed build is never partial: an update in flight or
	// interrupted leaves it ready.
	StatePartial State = "partial"
	// StateCorrupt: the metadata names an asset that is missing or whose size
	// differs, the metadata cannot be read, or the image's last verify found
	// problems (until it is verified again or pulled anew). Verify tells more.
	StateCorrupt State = "corrupt"
	// StateReady: every asset the metadata names is in place at its size.
	StateReady State = "ready"
)

// ReasonFailedVerify starts the Reason of an image that is StateCorrupt
// because its last verify found problems.
const ReasonFailedVerify = "failed verification"

// Image is one image directory as List found it.
type Image struct {
	Key
	Build string `json:"build,omitempty"`
	State State  `json:"state"`
	// Reason says why State is not StateReady, as a sentence fragment.
	Reason string `json:"reason,omitempty"`
	// SizeBytes is the space the directory really occupies, .partial
	// included; sparse files count for their allocated blocks only.
	SizeBytes int64  `json:"size_bytes"`
	Path      string `json:"path"`
	// Meta is the image's metadata, nil when it has none or it is unreadable.
	Meta *Meta `json:"-"`
	// LastUsed is the metadata's LastUsed, else its PulledAt; for an image
	// with transfers in flight or without metadata, the newest modification
	// time in its directory counts too.
	LastUsed time.Time `json:"last_used,omitzero"`
	PulledAt time.Time `json:"pulled_at,omitzero"`
}

// TotalBytes sums the SizeBytes of images.
func TotalBytes(images []Image) int64 {
	var n int64
	for _, im := range images {
		n += im.SizeBytes
	}
	return n
}

// List returns every image directory in the cache (images/<distro>/<version>/<arch>),
// sorted by distro, version (so "9" < "10" and "22.04" < "24.04") and arch.
// Directories with invalid names and symbolic links are skipped: the cache
// did not make them. List takes no locks.
func (c *Cache) List(ctx context.Context) ([]Image, error) {
	if c.rootErr != nil {
		return nil, c.rootErr
	}
	base := filepath.Join(c.root, imagesDir)
	var out []Image
	if fi, err := os.Lstat(base); err == nil && !fi.IsDir() {
		return nil, nil // a link or a file: the cache did not make it
	}
	distros, err := subdirs(base)
	if err != nil {
		return nil, fmt.Errorf("list cache: %w", err)
	}
	for _, d := range distros {
		versions, err := subdirs(filepath.Join(base, d))
		if err != nil {
			return nil, fmt.Errorf("list cache: %w", err)
		}
		for _, v := range versions {
			arches, err := subdirs(filepath.Join(base, d, v))
			if err != nil {
				return nil, fmt.Errorf("list cache: %w", err)
			}
			for _, a := range arches {
				if err := ctx.Err(); err != nil {
					return nil, fmt.Errorf("list cache: %w", err)
				}
				im, err := c.inspect(Key{Distro: d, Version: v, Arch: a})
				if err != nil {
					return nil, fmt.Errorf("list cache: %w", err)
				}
				out = append(out, im)
			}
		}
	}
	slices.SortFunc(out, func(a, b Image) int { return compareKeys(a.Key, b.Key) })
	return out, nil
}

// Image reports one cached image as List would, without walking the rest of
// the cache. It returns ErrNotCached when the image has no directory, or
// when its path below the root passes through a symbolic link (which List
// skips too; the error then wraps ErrUnsafePath as well).
func (c *Cache) Image(k Key) (Image, error) {
	if err := c.check(k); err != nil {
		return Image{}, err
	}
	if err := c.inCache(k); err != nil {
		return Image{}, err
	}
	return c.inspect(k)
}

// inCache returns nil when images/<distro>/<version>/<arch> below the root
// are all real directories. Otherwise it returns an error wrapping
// ErrNotCached: the image is not in the cache when one is missing, nor when
// one is a symbolic link or not a directory, which the cache did not make
// and List skips (the error then wraps ErrUnsafePath too).
func (c *Cache) inCache(k Key) error {
	err := c.checkNoSymlinks(k)
	if errors.Is(err, ErrUnsafePath) {
		return fmt.Errorf("%w: %s: %w", ErrNotCached, k, err)
	}
	return err
}

// subdirs lists the real (not symlinked) subdirectories of dir whose names
// are valid key components. A directory that vanished lists as empty.
func subdirs(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range ents {
		if e.IsDir() && validPart(e.Name()) {
			names = append(names, e.Name())
		}
	}
	return names, nil
}

// inspect works out the state, size and times of one image directory.
func (c *Cache) inspect(k Key) (Image, error) {
	dir := c.Dir(k)
	im := Image{Key: k, Path: dir}

	var newest time.Time
	partialFiles, converting := false, false
	tempPath := filepath.Join(partialDir, rawTemp)
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil // removed while we walk
			}
			return err
		}
		fi, err := d.Info() // lstat: links count as themselves
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		im.SizeBytes += diskUsage(fi)
		if fi.ModTime().After(newest) {
			newest = fi.ModTime()
		}
		rel, _ := filepath.Rel(dir, p)
		switch {
		case d.IsDir():
		case rel == tempPath:
			converting = true
		case strings.HasPrefix(rel, partialDir+string(filepath.Separator)):
			partialFiles = true
		}
		return nil
	})
	if err != nil {
		return im, fmt.Errorf("inspect %s: %w", k, err)
	}

	m, merr := c.readMeta(k)
	if merr == nil {
		im.Meta = m
		im.Build = m.Build
		im.PulledAt = m.PulledAt
		im.LastUsed = m.LastUsed
		if im.LastUsed.IsZero() {
			im.LastUsed = m.PulledAt
		}
	}
	missing := ""
	if m != nil {
		missing = missingAsset(dir, m)
	}

	// A conversion's file without a live lock holder is a leftover.
	converting = converting && c.lockHeld(k)
	switch {
	case converting:
		im.State, im.Reason = StateConverting, "raw conversion in progress"
	case errors.Is(merr, ErrNotCached) && partialFiles:
		im.State, im.Reason = StatePartial, "transfers in progress or interrupted"
	case errors.Is(merr, ErrNotCached):
		im.State, im.Reason = StatePartial, "no metadata yet"
	case merr != nil:
		im.State, im.Reason = StateCorrupt, merr.Error()
	case len(m.Assets) == 0:
		im.State, im.Reason = StatePartial, "metadata lists no assets"
	case missing != "":
		im.State, im.Reason = StateCorrupt, missing
	case m.Failed():
		im.State, im.Reason = StateCorrupt, ReasonFailedVerify
		switch v := m.Verified; {
		case len(v.Files) > 0:
			im.Reason += ": " + strings.Join(v.Files, ", ")
		case len(v.Problems) > 0:
			first, _, _ := strings.Cut(v.Problems[0], " (")
			im.Reason += ": " + first
		}
	default:
		im.State = StateReady
	}
	if im.State == StatePartial && newest.After(im.LastUsed) {
		im.LastUsed = newest
	}
	return im, nil
}

// missingAsset returns a sentence about the first asset that is not in place
// at its recorded size, or "".
func missingAsset(dir string, m *Meta) string {
	check := func(file string, size int64) string {
		fi, err := os.Lstat(filepath.Join(dir, file))
		switch {
		case err != nil:
			return file + ": missing"
		case !fi.Mode().IsRegular():
			return file + ": not a regular file"
		case size > 0 && fi.Size() != size:
			return fmt.Sprintf("%s: size %d bytes, expected %d", file, fi.Size(), size)
		}
		return ""
	}
	for _, a := range m.Assets {
		if s := check(a.File, a.Size); s != "" {
			return s
		}
	}
	if m.DiskRaw != nil {
		return check(m.DiskRaw.File, m.DiskRaw.Size)
	}
	return ""
}

// compareKeys orders keys by distro, version (version-aware) and arch.
func compareKeys(a, b Key) int {
	if c := strings.Compare(a.Distro, b.Distro); c != 0 {
		return c
	}
	if c := version.Compare(a.Version, b.Version); c != 0 {
		return c
	}
	return strings.Compare(a.Arch, b.Arch)
}
