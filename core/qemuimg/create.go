package qemuimg

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
)

// CreateOverlay creates dst, a new qcow2 image whose unwritten blocks read
// from the qcow2 image backing (`qemu-img create -f qcow2 -b backing -F
// qcow2`). The backing path is recorded absolute, and its format explicit,
// so qemu-img never probes it. size > 0 makes the overlay's virtual size
// that many bytes (at least the backing image's); 0 keeps the backing's.
func (t Tool) CreateOverlay(ctx context.Context, backing, dst string, size int64) error {
	absBacking, err := filepath.Abs(backing)
	if err != nil {
		return fmt.Errorf("create overlay %q: %w", dst, err)
	}
	absDst, err := filepath.Abs(dst)
	if err != nil {
		return fmt.Errorf("create overlay %q: %w", dst, err)
	}
	args := []string{"create", "-q", "-f", "qcow2", "-b", absBacking, "-F", "qcow2", absDst}
	if size > 0 {
		args = append(args, strconv.FormatInt(size, 10))
	}
	if _, err := t.run(ctx, args...); err != nil {
		return fmt.Errorf("create overlay %s: %w", dst, err)
	}
	return nil
}

// Resize grows the image file of the given format to size bytes of
// virtual disk (`qemu-img resize -f format file size`). It never shrinks:
// qemu-img refuses that without --shrink, which is not passed.
func (t Tool) Resize(ctx context.Context, file, format string, size int64) error {
	abs, err := filepath.Abs(file)
	if err != nil {
		return fmt.Errorf("resize %q: %w", file, err)
	}
	if !convertFormats[format] {
		return fmt.Errorf("resize %s: %w: format %q", file, ErrUnsupportedFormat, format)
	}
	if _, err := t.run(ctx, "resize", "-q", "-f", format, abs, strconv.FormatInt(size, 10)); err != nil {
		return fmt.Errorf("resize %s: %w", file, err)
	}
	return nil
}

// Convert writes src (of format srcFormat) to dst as format dstFormat,
// sparse (`qemu-img convert -f srcFormat -O dstFormat`). Unlike
// ConvertToRaw it writes dst in place: the caller owns dst's name.
func (t Tool) Convert(ctx context.Context, src, srcFormat, dst, dstFormat string) error {
	absSrc, err := filepath.Abs(src)
	if err != nil {
		return fmt.Errorf("convert %q: %w", src, err)
	}
	absDst, err := filepath.Abs(dst)
	if err != nil {
		return fmt.Errorf("convert %q: %w", src, err)
	}
	if !convertFormats[srcFormat] || !convertFormats[dstFormat] {
		return fmt.Errorf("convert %s: %w: %s to %s", src, ErrUnsupportedFormat, srcFormat, dstFormat)
	}
	if _, err := t.run(ctx, "convert", "-f", srcFormat, "-O", dstFormat, absSrc, absDst); err != nil {
		return fmt.Errorf("convert %s: %w", src, err)
	}
	return nil
}
