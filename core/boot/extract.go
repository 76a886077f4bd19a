package boot

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strings"
)

// Size caps for the files Extract copies; a filesystem claiming more is
// damaged or hostile.
const (
	MaxKernelSize    = 256 << 20
	MaxInitramfsSize = 1 << 30
)

// Found says what Extract copied and where it was on the disk.
type Found struct {
	Version       string // from the file name: "6.1.0-57-cloud-amd64", Alpine's "virt"
	Kernel        string // path inside its filesystem: "boot/vmlinuz-6.1.0-57-cloud-amd64"
	Initramfs     string // path inside its filesystem: "boot/initrd.img-6.1.0-57-cloud-amd64"
	Partition     int    // 1-based partition number; 0 means the whole disk
	Filesystem    string // "ext4", "xfs" or "vfat"
	PartitionType string // "gpt", "mbr" or "" (no partition table)
	KernelSize    int64
	InitramfsSize int64
}

// candidate is the newest kernel found on one filesystem.
type candidate struct {
	Found
	fsys bootFS
	vol  volume
}

// Extract finds the newest kernel in /boot of the raw disk image disk (size
// bytes) — on the root filesystem or on a separate /boot partition — and
// copies it to kernel and its matching initramfs to initramfs. It reads
// GPT and MBR partition tables and ext4, XFS and FAT filesystems. A disk
// whose kernels could only be on btrfs, LVM or LUKS is an
// *UnsupportedError; a damaged partition table or filesystem a
// *DiskError; no filesystem, no kernel or no initramfs ErrNoFilesystem,
// ErrNoKernel or ErrNoInitramfs. On an error the writers may hold partial
// files and must be discarded.
func Extract(ctx context.Context, disk io.ReaderAt, size int64, kernel, initramfs io.Writer) (Found, error) {
	st := &readerStorage{r: disk, size: size}
	vols, table, err := volumes(st)
	if err != nil {
		return Found{}, err
	}
	var (
		best        *candidate
		unsupported string
		searched    []string
		damaged     error
	)
	for _, v := range vols {
		if err := ctx.Err(); err != nil {
			return Found{}, err
		}
		kind, err := fsKind(st, v)
		if err != nil {
			return Found{}, err
		}
		switch kind {
		case "":
			continue
		case "swap":
			continue
		case "btrfs", "LVM", "LUKS":
			unsupported = kind
			continue
		}
		where := fmt.Sprintf("%s (%s)", v, kind)
		fsys, err := openFS(st, v, kind)
		if err != nil {
			damaged = cmpErr(damaged, &DiskError{Where: where, Reason: "damaged filesystem", Err: err})
			continue
		}
		searched = append(searched, where)
		c, err := newestKernel(fsys)
		if err != nil {
			damaged = cmpErr(damaged, &DiskError{Where: where, Reason: "damaged filesystem", Err: err})
			continue
		}
		if c != nil && (best == nil || newer(c.Version, best.Version)) {
			c.fsys, c.vol = fsys, v
			c.Partition, c.Filesystem, c.PartitionType = v.index, kind, table
			best = c
		}
	}
	switch {
	case best != nil:
	case damaged != nil:
		return Found{}, damaged
	case unsupported != "":
		return Found{}, &UnsupportedError{Filesystem: unsupported}
	case len(searched) == 0:
		return Found{}, ErrNoFilesystem
	default:
		return Found{}, fmt.Errorf("%w (searched %s)", ErrNoKernel, strings.Join(searched, ", "))
	}
	if best.Initramfs == "" {
		return Found{}, fmt.Errorf("%w %s (%s)", ErrNoInitramfs, best.Version, best.Kernel)
	}
	where := fmt.Sprintf("%s (%s)", best.vol, best.Filesystem)
	for _, f := range []struct {
		name string
		max  int64
		w    io.Writer
		n    *int64
	}{
		{best.Kernel, MaxKernelSize, kernel, &best.KernelSize},
		{best.Initramfs, MaxInitramfsSize, initramfs, &best.InitramfsSize},
	} {
		n, err := copyFile(ctx, best.fsys, f.name, f.max, f.w)
		if err != nil {
			if ctx.Err() != nil {
				return Found{}, ctx.Err()
			}
			var de *DiskError
			if errors.As(err, &de) {
				de.Where = where
				return Found{}, de
			}
			return Found{}, err
		}
		*f.n = n
	}
	return best.Found, nil
}

func cmpErr(first, next error) error {
	if first != nil {
		return first
	}
	return next
}

// newestKernel looks in boot/ and at the top of fsys (a separate /boot
// partition) for the newest bootable kernel and its initramfs.
func newestKernel(fsys bootFS) (*candidate, error) {
	var best *candidate
	for _, dir := range []string{"boot", "."} {
		entries, err := safely(func() ([]fs.DirEntry, error) { return fsys.ReadDir(dir) })
		if err != nil {
			if isNotExist(err) {
				continue
			}
			return nil, fmt.Errorf("read %s: %w", dir, err)
		}
		files := map[string]bool{}
		for _, e := range entries {
			if e.Type().IsRegular() {
				files[e.Name()] = true
			}
		}
		for name := range files {
			v, ok := kernelVersion(name)
			if !ok || (best != nil && !newer(v, best.Version)) {
				continue
			}
			c := &candidate{Found: Found{Version: v, Kernel: path.Join(dir, name)}}
			for _, ir := range initramfsNames(v) {
				if files[ir] {
					c.Initramfs = path.Join(dir, ir)
					break
				}
			}
			best = c
		}
		if best != nil {
			return best, nil
		}
	}
	return nil, nil
}

// isNotExist reports a missing directory; the readers word it differently.
func isNotExist(err error) bool {
	if errors.Is(err, fs.ErrNotExist) {
		return true
	}
	msg := err.Error()
	return strings.Contains(msg, "not exist") || strings.Contains(msg, "not found") || strings.Contains(msg, "no such")
}

// copyFile copies the regular file name of fsys to w, refusing files over
// max bytes and failing unless exactly the size the filesystem records
// arrives.
func copyFile(ctx context.Context, fsys bootFS, name string, max int64, w io.Writer) (int64, error) {
	f, err := safely(func() (fs.File, error) { return fsys.Open(name) })
	if err != nil {
		return 0, &DiskError{Reason: "open " + name, Err: err}
	}
	defer f.Close()
	info, err := safely(f.Stat)
	if err != nil {
		return 0, &DiskError{Reason: "stat " + name, Err: err}
	}
	size := info.Size()
	if size <= 0 || size > max {
		return 0, &DiskError{Reason: fmt.Sprintf("%s claims %d bytes (at most %d are accepted)", name, size, max)}
	}
	n, err := safely(func() (int64, error) {
		return io.CopyN(w, &guardReader{ctx: ctx, r: f}, size)
	})
	if err != nil {
		if ctx.Err() != nil {
			return n, ctx.Err()
		}
		return n, &DiskError{Reason: fmt.Sprintf("read %s (%d of %d bytes)", name, n, size), Err: err}
	}
	return n, nil
}

// guardReader stops on cancellation and on a reader that keeps returning
// nothing (a file whose extents do not cover its size), which would
// otherwise spin io.Copy forever.
type guardReader struct {
	ctx   context.Context
	r     io.Reader
	empty int
}

func (g *guardReader) Read(p []byte) (int, error) {
	if err := g.ctx.Err(); err != nil {
		return 0, err
	}
	n, err := g.r.Read(p)
	if n == 0 && err == nil {
		if g.empty++; g.empty > 100 {
			return 0, io.ErrNoProgress
		}
	} else {
		g.empty = 0
	}
	return n, err
}
