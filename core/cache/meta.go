package cache

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"time"

	"vmimages/core/localfs"
	"vmimages/core/manifest"
)

// metaSchema is the version of the meta.json format written by this package.
const metaSchema = 1

// Signature statuses recorded in SignatureMeta.Status.
const (
	// SignatureVerified: the manifest's OpenPGP signature was checked against a
	// pinned key.
	SignatureVerified = "verified"
	// SignatureUnsigned: the distribution publishes no signature for it.
	SignatureUnsigned = "unsigned"
	// SignatureUnchecked: a signature exists but was not checked.
	SignatureUnchecked = "unchecked"
)

// Meta is the metadata of one cached image, stored as meta.json in its
// directory. Only assets whose digest matched are listed.
type Meta struct {
	// Schema is the meta.json format version; WriteMeta sets it.
	Schema    int            `json:"schema"`
	Distro    string         `json:"distro"`
	Version   string         `json:"version"`
	Arch      string         `json:"arch"`
	Build     string         `json:"build,omitempty"`
	Assets    []AssetMeta    `json:"assets"`
	DiskRaw   *RawMeta       `json:"disk_raw,omitempty"`
	Signature *SignatureMeta `json:"signature,omitempty"`
	PulledAt  time.Time      `json:"pulled_at"`
	LastUsed  time.Time      `json:"last_used,omitzero"`
	// Verified is the outcome of the last verify of these files. A pull
	// writes new metadata without it, so it lasts until the image is
	// verified again or pulled anew.
	Verified *VerifyMeta `json:"verified,omitempty"`
}

// VerifyMeta records one verify of an image's files.
type VerifyMeta struct {
	At time.Time `json:"at"`
	// OK is true when every file matched its recorded digest.
	OK bool `json:"ok"`
	// Problems are Verify's findings when OK is false.
	Problems []string `json:"problems,omitempty"`
	// Files names the files the problems are about; empty when a problem
	// is about none in particular (then no file is trusted).
	Files []string `json:"files,omitempty"`
}

// Failed reports whether the image's last verify found problems.
func (m *Meta) Failed() bool { return m.Verified != nil && !m.Verified.OK }

// Distrusts reports whether the last verify found the named file wrong (or
// found problems it could not pin on any file).
func (m *Meta) Distrusts(file string) bool {
	return m.Failed() && (len(m.Verified.Files) == 0 || slices.Contains(m.Verified.Files, file))
}

// FailedRawOnly reports whether the last verify found only the converted
// raw disk wrong; the files that were downloaded are intact.
func (m *Meta) FailedRawOnly() bool {
	if !m.Failed() || m.DiskRaw == nil || len(m.Verified.Files) == 0 {
		return false
	}
	for _, f := range m.Verified.Files {
		if f != m.DiskRaw.File {
			return false
		}
	}
	return true
}

// Key returns the Key the metadata belongs to.
func (m *Meta) Key() Key { return Key{Distro: m.Distro, Version: m.Version, Arch: m.Arch} }

// Asset returns the asset with the given role, or nil.
func (m *Meta) Asset(role string) *AssetMeta {
	for i := range m.Assets {
		if m.Assets[i].Role == role {
			return &m.Assets[i]
		}
	}
	return nil
}

// AssetMeta describes one downloaded asset.
type AssetMeta struct {
	// Role is RoleKernel, RoleInitramfs or RoleDisk.
	Role string `json:"role"`
	// File is the asset's base name inside the image directory (see AssetName).
	File string `json:"file"`
	// URL is where the bytes came from.
	URL string `json:"url"`
	// Digest is the published digest the bytes matched.
	Digest manifest.Digest `json:"digest"`
	// Size is the file's size in bytes.
	Size int64 `json:"size"`
	// Validator is the HTTP ETag or Last-Modified value seen for the transfer.
	Validator string `json:"validator,omitempty"`
	// Format is the disk format ("qcow2", "raw"), empty for kernels and initramfs.
	Format string `json:"format,omitempty"`
	// Source says where the bytes came from: SourceUpstream (""),
	// SourceExtracted or SourceDecompressed. Digest is then the SHA-256
	// computed as the file was written, checked by Verify like any other.
	Source string `json:"source,omitempty"`
	// From names what a local file was made from: the disk partition and
	// path of an extracted file, the kernel a decompressed one came from.
	From string `json:"from,omitempty"`
	// Signature is how this asset's digest was proven: SignatureVerified,
	// SignatureUnsigned or SignatureUnchecked. The image's status
	// (Meta.Signature) is the weakest of its assets'.
	Signature string `json:"signature,omitempty"`
	// ManifestURL is the checksum manifest the digest came from, after
	// redirects; SignatureURL its detached signature's, after redirects,
	// where one was checked. Empty for files made locally.
	ManifestURL  string `json:"manifest_url,omitempty"`
	SignatureURL string `json:"signature_url,omitempty"`
}

// RawMeta describes the raw disk converted locally from the disk asset.
type RawMeta struct {
	// File is the raw disk's base name, "disk.raw".
	File string `json:"file"`
	// Digest is the SHA-256 of the raw disk, computed after the conversion
	// and before the file got its name. Verify checks it; metadata written
	// before it was recorded has none, and such a raw disk is unproven.
	Digest manifest.Digest `json:"digest,omitzero"`
	// ModTime is the raw disk's modification time when Digest was computed;
	// a pull re-hashes the file when its size or ModTime differ.
	ModTime time.Time `json:"mod_time,omitzero"`
	// SourceDigest is the digest of the disk asset it was converted from; a
	// raw disk is up to date when this equals the disk asset's Digest.
	SourceDigest manifest.Digest `json:"source_digest"`
	// Size is the raw disk's apparent size in bytes (the virtual disk size).
	Size        int64     `json:"size"`
	ConvertedAt time.Time `json:"converted_at"`
}

// SignatureMeta records what is known about the signature of the manifest
// that vouched for the assets.
type SignatureMeta struct {
	// Status is SignatureVerified, SignatureUnsigned or SignatureUnchecked.
	Status      string    `json:"status"`
	Signer      string    `json:"signer,omitempty"`
	SignedAt    time.Time `json:"signed_at,omitzero"`
	ManifestURL string    `json:"manifest_url,omitempty"`
}

// reservedNames are names in an image directory that are not assets.
var reservedNames = map[string]bool{metaFile: true, lockFile: true, metaLock: true, partialDir: true}

// validate checks that m belongs to k and names no file outside its directory.
func (m *Meta) validate() error {
	if err := m.Key().Validate(); err != nil {
		return err
	}
	seen := map[string]bool{}
	check := func(what, name string) error {
		if !validPart(name) || reservedNames[name] {
			return fmt.Errorf("%w: %s file name %q", ErrBadMeta, what, truncate(name))
		}
		if seen[name] {
			return fmt.Errorf("%w: file %q listed twice", ErrBadMeta, name)
		}
		seen[name] = true
		return nil
	}
	for _, a := range m.Assets {
		if err := check(a.Role, a.File); err != nil {
			return err
		}
		if a.Size < 0 {
			return fmt.Errorf("%w: %s has a negative size", ErrBadMeta, a.File)
		}
	}
	if m.DiskRaw != nil {
		if err := check(RoleDiskRaw, m.DiskRaw.File); err != nil {
			return err
		}
	}
	return nil
}

// ReadMeta reads an image's metadata. It returns an error wrapping
// ErrNotCached when the image has none (or its path below the root passes
// through a symbolic link, as for Image), and ErrBadMeta when meta.json is
// not valid metadata for k.
func (c *Cache) ReadMeta(k Key) (*Meta, error) {
	if err := c.check(k); err != nil {
		return nil, err
	}
	if err := c.inCache(k); err != nil {
		return nil, err
	}
	return c.readMeta(k)
}

func (c *Cache) readMeta(k Key) (*Meta, error) {
	b, err := os.ReadFile(filepath.Join(c.Dir(k), metaFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s", ErrNotCached, k)
	}
	if err != nil {
		return nil, fmt.Errorf("read metadata of %s: %w", k, err)
	}
	var m Meta
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrBadMeta, k, err)
	}
	if err := m.validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", k, err)
	}
	if m.Key() != k {
		return nil, fmt.Errorf("%w: %s: meta.json names %s", ErrBadMeta, k, m.Key())
	}
	return &m, nil
}

// WriteMeta writes m as the metadata of the image it names, atomically: a
// reader sees the old metadata or the new, never a mix. The image directory
// must exist (Lock creates it); the caller should hold the image's lock.
func (c *Cache) WriteMeta(m *Meta) error {
	if err := m.validate(); err != nil {
		return fmt.Errorf("write metadata: %w", err)
	}
	k := m.Key()
	if c.rootErr != nil {
		return c.rootErr
	}
	return c.withMetaLock(k, func() error { return c.writeMeta(m) })
}

// Touch records now as the image's last use. Prune's OlderThan and MaxSize
// policies go by it.
func (c *Cache) Touch(k Key) error {
	if err := c.check(k); err != nil {
		return err
	}
	return c.withMetaLock(k, func() error {
		m, err := c.readMeta(k)
		if err != nil {
			return err
		}
		m.LastUsed = c.now().UTC()
		return c.writeMeta(m)
	})
}

// RecordVerify stores v as the image's last verify outcome, provided the
// metadata still describes the pull that was verified (pulledAt and build
// as read before verifying); recorded is false when a new pull replaced it
// meanwhile, and the outcome no longer applies.
func (c *Cache) RecordVerify(k Key, pulledAt time.Time, build string, v VerifyMeta) (recorded bool, err error) {
	if err := k.Validate(); err != nil {
		return false, err
	}
	err = c.withMetaLock(k, func() error {
		m, err := c.readMeta(k)
		if err != nil {
			return err
		}
		if !m.PulledAt.Equal(pulledAt) || m.Build != build {
			return nil
		}
		v.At = v.At.UTC()
		m.Verified = &v
		recorded = true
		return c.writeMeta(m)
	})
	return recorded, err
}

// withMetaLock runs fn holding the image's short-lived metadata lock, so that
// Touch's read-modify-write cannot undo a concurrent WriteMeta. It is separate
// from the image lock, which a pull holds for as long as it downloads.
func (c *Cache) withMetaLock(k Key, fn func() error) error {
	// Not through a link planted above the image: nothing is written
	// outside the cache.
	if err := c.inCache(k); err != nil {
		return err
	}
	path := filepath.Join(c.Dir(k), metaLock)
	fl := newFlock(path)
	if err := fl.Lock(); err != nil {
		return fmt.Errorf("lock metadata of %s: %w", k, unsafeLink(path, err))
	}
	defer fl.Close()
	return fn()
}

// writeMeta replaces meta.json atomically and durably (localfs.WriteFile),
// so a crash leaves the old metadata or the new.
func (c *Cache) writeMeta(m *Meta) error {
	m.Schema = metaSchema
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("write metadata of %s: %w", m.Key(), err)
	}
	b = append(b, '\n')
	dir := c.Dir(m.Key())
	if err := localfs.WriteFile(filepath.Join(dir, metaFile), b, 0o644); err != nil {
		return fmt.Errorf("write metadata of %s: %w", m.Key(), err)
	}
	return nil
}
