package cache

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/adrg/xdg"
)

// Sentinel errors that callers branch on with errors.Is.
var (
	// ErrBadKey means a Key component is empty, too long, or uses characters
	// outside [a-z0-9._-].
	ErrBadKey = errors.New("invalid image key")
	// ErrNotCached means the image has no directory or no metadata in the cache.
	ErrNotCached = errors.New("image not in cache")
	// ErrBadMeta means an image's meta.json cannot be read as valid metadata.
	ErrBadMeta = errors.New("invalid image metadata")
	// ErrUnsafePath means a path below the cache root is a symbolic link or
	// not a directory, so the cache refuses to delete through it.
	ErrUnsafePath = errors.New("unsafe path in cache")
	// ErrInUse means another process or goroutine holds an image's lock.
	ErrInUse = errors.New("image in use")
	// ErrNoRoot means no cache folder could be worked out: neither
	// XDG_CACHE_HOME nor HOME is set to an absolute path.
	ErrNoRoot = errors.New("no cache folder")
)

// Names inside the root and inside each image directory.
const (
	imagesDir  = "images"
	tagFile    = "CACHEDIR.TAG"
	metaFile   = "meta.json"
	lockFile   = ".lock"
	metaLock   = ".meta.lock"
	partialDir = ".partial"
	// rawTemp, in .partial, is where a transaction's conversion writes.
	rawTemp = "disk.raw.tmp"
	// linkTemp, in .partial, is the temporary name of a hard link that
	// Commit renames over a stable name.
	linkTemp = "link.tmp"
	// stagedPrefix marked files of a new build in the image directory
	// before transactions existed; Begin removes leftovers.
	stagedPrefix = ".next-"
	// legacyRawTemp marked conversions in the image directory before
	// transactions existed ("disk.raw.tmp-<pid>"); Begin removes leftovers.
	legacyRawTemp = "disk.raw.tmp-"
)

// cacheDirTag is the standard cache directory tag (https://bford.info/cachedir/),
// which backup tools use to skip the cache.
const cacheDirTag = "Signature: 8a477f597d28d172789f06886806bc55\n" +
	"# This file is a cache directory tag created by vmimages.\n" +
	"# For information about cache directory tags, see:\n" +
	"#\thttps://bford.info/cachedir/\n"

// Asset roles, as the catalog and the CLI JSON name them.
const (
	RoleKernel    = "kernel"
	RoleInitramfs = "initramfs"
	RoleDisk      = "disk"
	// RoleDiskRaw is the raw disk converted locally from the disk asset.
	RoleDiskRaw = "disk_raw"
	// RoleKernelImage is the uncompressed arm64 Image decompressed locally
	// from a compressed upstream kernel (which stays, verified, as
	// RoleKernel).
	RoleKernelImage = "kernel_image"
)

// Where an asset's bytes came from (AssetMeta.Source).
const (
	SourceUpstream     = ""             // downloaded and checked against the published digest
	SourceExtracted    = "extracted"    // copied from /boot of the verified disk
	SourceDecompressed = "decompressed" // decompressed from the verified kernel
)

// AssetName returns the stable file name of an asset inside its image
// directory: "vmlinuz", "initramfs", "disk.qcow2" for a qcow2 disk, "disk.img"
// for a raw or unknown disk format, "disk.raw" for the converted raw disk and
// "vmlinux" for the decompressed arm64 Image.
// It returns "" for an unknown role.
func AssetName(role, format string) string {
	switch role {
	case RoleKernel:
		return "vmlinuz"
	case RoleInitramfs:
		return "initramfs"
	case RoleDisk:
		if strings.EqualFold(format, "qcow2") {
			return "disk.qcow2"
		}
		return "disk.img"
	case RoleDiskRaw:
		return "disk.raw"
	case RoleKernelImage:
		return "vmlinux"
	}
	return ""
}

// DefaultRoot returns the default cache root, $XDG_CACHE_HOME/vmimages
// (~/.cache/vmimages on Linux, ~/Library/Caches/vmimages on macOS). Overrides
// from flags, environment or configuration are the caller's to apply. It
// returns an error wrapping ErrNoRoot when neither XDG_CACHE_HOME nor HOME is
// an absolute path, rather than a folder below "/".
func DefaultRoot() (string, error) {
	if v := os.Getenv("XDG_CACHE_HOME"); filepath.IsAbs(v) {
		return filepath.Join(v, "vmimages"), nil
	}
	if h := os.Getenv("HOME"); !filepath.IsAbs(h) || !filepath.IsAbs(xdg.CacheHome) {
		return "", fmt.Errorf("%w: neither XDG_CACHE_HOME nor HOME is set to an absolute path", ErrNoRoot)
	}
	return filepath.Join(xdg.CacheHome, "vmimages"), nil
}

// Cache is an image cache rooted at one directory. It is safe for concurrent
// use; coordination between processes goes through Lock.
type Cache struct {
	root    string
	rootErr error // why there is no root (Unavailable)
	now     func() time.Time
}

// Option configures a Cache in Open.
type Option func(*Cache)

// WithClock makes the cache read the time from now instead of time.Now; it is
// used for LastUsed stamps and for the ages of images without metadata.
func WithClock(now func() time.Time) Option {
	return func(c *Cache) { c.now = now }
}

// Open opens the cache at root. It creates nothing: root, its CACHEDIR.TAG
// and its images directory are made by the first change (Begin, Lock), so
// that commands which only read, or need no cache at all, work where the
// folder cannot be created. A relative root is made absolute.
func Open(root string, opts ...Option) (*Cache, error) {
	if root == "" {
		return nil, errors.New("open cache: empty root directory")
	}
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("open cache %q: %w", root, err)
	}
	c := &Cache{root: abs, now: time.Now}
	for _, o := range opts {
		o(c)
	}
	return c, nil
}

// Unavailable returns a Cache without a root: every method that touches the
// disk, and Err, returns why (err, typically wrapping ErrNoRoot). It lets a program that cannot place its cache still
// do what needs none.
func Unavailable(err error, opts ...Option) *Cache {
	c := &Cache{rootErr: err, now: time.Now}
	for _, o := range opts {
		o(c)
	}
	return c
}

// check returns why the cache has no root, or k's validation error.
func (c *Cache) check(k Key) error {
	if c.rootErr != nil {
		return c.rootErr
	}
	return k.Validate()
}

// Err reports why the cache has no root (see Unavailable), or nil.
func (c *Cache) Err() error { return c.rootErr }

// Create makes the cache folder, its CACHEDIR.TAG and its images directory
// now rather than at the first change. Nothing needs it; it is for a front
// that shows the folder to a user who may open it.
func (c *Cache) Create() error { return c.ensureRoot() }

// ensureRoot creates the root, its CACHEDIR.TAG and its images directory.
func (c *Cache) ensureRoot() error {
	if c.rootErr != nil {
		return c.rootErr
	}
	// The root itself may be a link (a cache kept on another disk); what
	// the cache makes below it may not.
	if err := os.MkdirAll(c.root, 0o755); err != nil {
		return fmt.Errorf("create the cache folder: %w", err)
	}
	if err := c.mkdirBelowRoot(imagesDir); err != nil {
		return fmt.Errorf("create the cache folder: %w", err)
	}
	if err := writeTag(filepath.Join(c.root, tagFile)); err != nil {
		return fmt.Errorf("create the cache folder: %w", err)
	}
	return nil
}

// writeTag creates the cache directory tag unless it already exists.
func writeTag(path string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if _, err := f.WriteString(cacheDirTag); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// Root returns the absolute cache root directory, "" for an Unavailable cache.
func (c *Cache) Root() string { return c.root }

// Dir returns the directory of an image: <root>/images/<distro>/<version>/<arch>.
// It does not validate k; every method that touches the disk does.
func (c *Cache) Dir(k Key) string {
	return filepath.Join(c.root, imagesDir, k.Distro, k.Version, k.Arch)
}

// PartialDir returns the directory where an image's transfers in flight live.
func (c *Cache) PartialDir(k Key) string {
	return filepath.Join(c.Dir(k), partialDir)
}

// Key identifies one image: a distribution, a version and an architecture, as
// the catalog names them (for example "ubuntu", "24.04", "x86_64").
type Key struct {
	Distro  string `json:"distro"`
	Version string `json:"version"`
	Arch    string `json:"arch"`
}

// keyPart is what each Key component must match. The first character cannot
// be a dot, which rules out ".", ".." and hidden names.
var keyPart = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)

// Validate returns an error wrapping ErrBadKey unless every component of k is
// 1–64 characters of [a-z0-9._-] starting with a letter or digit.
func (k Key) Validate() error {
	for _, p := range [...]struct{ name, v string }{
		{"distro", k.Distro}, {"version", k.Version}, {"arch", k.Arch},
	} {
		if !validPart(p.v) {
			return fmt.Errorf("%w: %s %q must be 1-64 characters of a-z, 0-9, '.', '_', '-' starting with a letter or digit",
				ErrBadKey, p.name, truncate(p.v))
		}
	}
	return nil
}

func validPart(s string) bool {
	return s != "." && s != ".." && keyPart.MatchString(s)
}

// String formats k as "distro/version/arch".
func (k Key) String() string { return k.Distro + "/" + k.Version + "/" + k.Arch }

// truncate keeps hostile input short inside error messages.
func truncate(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}
