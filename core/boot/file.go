package boot

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"vmimages/core/qemuimg"
)

// ExtractFile is Extract for the disk image file disk in any format
// qemu-img converts (qcow2, raw, vpc, vhdx): anything but raw is first
// converted by q to a sparse raw file in tmpDir, removed afterwards.
func ExtractFile(ctx context.Context, q qemuimg.Tool, disk, tmpDir string, kernel, initramfs io.Writer) (Found, error) {
	info, err := q.Info(ctx, disk)
	if err != nil {
		return Found{}, fmt.Errorf("kernel extraction: %w", err)
	}
	raw := disk
	if info.Format != "raw" {
		tmp, err := os.MkdirTemp(tmpDir, ".extract-")
		if err != nil {
			return Found{}, fmt.Errorf("kernel extraction: %w", err)
		}
		defer os.RemoveAll(tmp)
		raw = filepath.Join(tmp, "disk.raw")
		if err := q.ConvertToRaw(ctx, disk, raw); err != nil {
			return Found{}, fmt.Errorf("kernel extraction: %w", err)
		}
	}
	f, err := os.Open(raw)
	if err != nil {
		return Found{}, fmt.Errorf("kernel extraction: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return Found{}, fmt.Errorf("kernel extraction: %w", err)
	}
	return Extract(ctx, f, fi.Size(), kernel, initramfs)
}
