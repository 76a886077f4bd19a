package disk

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"vmimages/core/qemuimg"
)

// Method says how Clone made a disk.
type Method string

// The ways Clone makes a disk, cheapest first.
const (
	MethodReflink   Method = "reflink"   // FICLONE: shares extents copy-on-write (Linux btrfs, XFS)
	MethodClonefile Method = "clonefile" // clonefile(2): the same on macOS APFS
	MethodOverlay   Method = "overlay"   // a qcow2 overlay whose backing file is the cached qcow2
	MethodCopy      Method = "copy"      // a sparse copy (or a qemu-img conversion between formats)
)

// ErrExists means the destination already exists; Clone never overwrites.
var ErrExists = errors.New("destination already exists")

// ErrShrink means the requested size is below the image's own: growing is
// safe, shrinking would cut off the filesystem.
var ErrShrink = errors.New("requested size is smaller than the image")

// Source is a cached disk to clone.
type Source struct {
	Path   string
	Format string // "raw" or "qcow2"
}

// Options tune Clone.
type Options struct {
	// Size, when > 0, grows the new disk to this many bytes of virtual size.
	Size int64
	// QemuImg runs qemu-img for overlays, conversions and qcow2 resizing.
	QemuImg qemuimg.Tool
	// NoReflink skips reflink and clonefile (tests of the fallbacks).
	NoReflink bool
}

// Result describes the disk Clone made.
type Result struct {
	Path   string
	Format string // "raw" or "qcow2"
	Method Method
	Size   int64 // virtual size in bytes
	// Backing is the file an overlay reads unwritten blocks from: a hard
	// link to the cached qcow2 beside the overlay when the filesystem
	// allows (it then survives the cache replacing or removing its copy),
	// else the cached file itself.
	Backing string
}

// Format is the format a destination name asks for: "qcow2" for a name
// ending in .qcow2, "raw" otherwise.
func Format(dst string) string {
	if strings.HasSuffix(strings.ToLower(dst), ".qcow2") {
		return "qcow2"
	}
	return "raw"
}

// Clone makes dst a new writable disk with src's contents, in the format
// dst's name asks for (Format). It writes a temporary file beside dst and
// links it into place only when complete, so dst never holds a partial
// disk, and fails with ErrExists, leaving dst alone, if dst exists.
func Clone(ctx context.Context, src Source, dst string, opts Options) (Result, error) {
	res := Result{Path: dst, Format: Format(dst)}
	fail := func(err error) (Result, error) {
		return Result{}, fmt.Errorf("clone to %s: %w", dst, err)
	}
	if _, err := os.Lstat(dst); err == nil {
		return fail(ErrExists)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fail(err)
	}
	if src.Format != "raw" && src.Format != "qcow2" {
		return fail(fmt.Errorf("source format %q is not raw or qcow2", src.Format))
	}
	srcSize, err := virtualSize(ctx, opts.QemuImg, src)
	if err != nil {
		return fail(err)
	}
	if opts.Size > 0 && opts.Size < srcSize {
		return fail(fmt.Errorf("%w (%d < %d bytes)", ErrShrink, opts.Size, srcSize))
	}
	tmp := filepath.Join(filepath.Dir(dst), "."+filepath.Base(dst)+".tmp-"+strconv.Itoa(os.Getpid()))
	_ = os.Remove(tmp) // a leftover of a crashed run with our pid
	done := false
	defer func() {
		if !done {
			_ = os.Remove(tmp)
			if res.Backing != "" && res.Backing == BackingName(dst) {
				_ = os.Remove(res.Backing)
			}
		}
	}()

	res.Method, res.Backing, err = place(ctx, src, tmp, dst, res.Format, opts)
	if err != nil {
		return fail(err)
	}
	res.Size = srcSize
	if opts.Size > srcSize {
		if res.Format == "raw" {
			err = os.Truncate(tmp, opts.Size)
		} else if res.Method != MethodOverlay { // an overlay is created at its size
			err = opts.QemuImg.Resize(ctx, tmp, "qcow2", opts.Size)
		}
		if err != nil {
			return fail(err)
		}
		res.Size = opts.Size
	}
	if err := syncFile(tmp); err != nil {
		return fail(err)
	}
	// A hard link fails if dst appeared meanwhile, unlike a rename.
	if err := os.Link(tmp, dst); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fail(ErrExists)
		}
		return fail(err)
	}
	done = true
	_ = os.Remove(tmp)
	return res, nil
}

// place writes the new disk at tmp and says how, and what an overlay is
// backed by.
func place(ctx context.Context, src Source, tmp, dst, format string, opts Options) (Method, string, error) {
	if src.Format != format {
		// Another format: qemu-img writes it, sparse.
		return MethodCopy, "", opts.QemuImg.Convert(ctx, src.Path, src.Format, tmp, format)
	}
	if !opts.NoReflink {
		if m, err := reflink(src.Path, tmp); err == nil {
			return m, "", nil
		}
		_ = os.Remove(tmp)
	}
	if format == "qcow2" {
		// The cache replaces files by rename and never writes one in
		// place, so a hard link pins the very bytes this overlay builds on.
		backing := src.Path
		pinned := BackingName(dst)
		if err := os.Link(src.Path, pinned); err == nil {
			backing = pinned
		}
		if err := opts.QemuImg.CreateOverlay(ctx, backing, tmp, opts.Size); err != nil {
			if backing == pinned {
				_ = os.Remove(pinned)
			}
			return "", "", err
		}
		return MethodOverlay, backing, nil
	}
	return MethodCopy, "", sparseCopy(ctx, src.Path, tmp)
}

// BackingName is the hard link to the cached qcow2 that an overlay at dst
// is backed by when the filesystem allows: ".<name>.backing" beside it.
func BackingName(dst string) string {
	return filepath.Join(filepath.Dir(dst), "."+filepath.Base(dst)+".backing")
}

// virtualSize is the size of the disk a guest sees.
func virtualSize(ctx context.Context, q qemuimg.Tool, src Source) (int64, error) {
	if src.Format == "raw" {
		fi, err := os.Stat(src.Path)
		if err != nil {
			return 0, err
		}
		return fi.Size(), nil
	}
	info, err := q.Info(ctx, src.Path)
	if err != nil {
		return 0, err
	}
	if info.Format != src.Format {
		return 0, fmt.Errorf("%s is %s, not %s", src.Path, info.Format, src.Format)
	}
	return info.VirtualSize, nil
}

// sparseCopy copies src to dst, leaving holes where src has holes or
// zeros, so a mostly empty raw disk stays mostly unallocated.
func sparseCopy(ctx context.Context, src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	fi, err := in.Stat()
	if err != nil {
		return err
	}
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	defer out.Close()
	size := fi.Size()
	buf := make([]byte, 1<<20)
	for pos := int64(0); pos < size; {
		if err := ctx.Err(); err != nil {
			return err
		}
		data, hole := dataRange(in, pos, size)
		for off := data; off < hole; {
			n, err := in.ReadAt(buf[:min(int64(len(buf)), hole-off)], off)
			if n > 0 && !allZero(buf[:n]) {
				if _, werr := out.WriteAt(buf[:n], off); werr != nil {
					return werr
				}
			}
			off += int64(n)
			if err == io.EOF {
				break
			}
			if err != nil {
				return err
			}
		}
		pos = hole
	}
	if err := out.Truncate(size); err != nil {
		return err
	}
	return out.Close()
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

func syncFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}
