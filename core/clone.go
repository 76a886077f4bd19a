package core

import (
	"context"
	"fmt"
	"path/filepath"

	"vmimages/core/cache"
	"vmimages/core/disk"
)

// CloneOptions tune Clone.
type CloneOptions struct {
	// Size, when > 0, grows the new disk to this many bytes.
	Size int64
}

// Clone makes dst a writable disk for one VM from the cached image k, so
// that no VM boots from the cache's verified copy: a reflink or clonefile
// where the filesystem allows, else a qcow2 overlay backed by the cached
// qcow2 when dst ends in .qcow2, else a sparse copy (see package disk).
// A raw dst is made from disk.raw when an up-to-date one is cached, from
// the disk otherwise (converted by qemu-img if it is qcow2). It never
// overwrites dst (disk.ErrExists) and holds the image's lock while it reads,
// so the image cannot be removed meanwhile.
func (m *Manager) Clone(ctx context.Context, k cache.Key, dst string, opts CloneOptions) (disk.Result, error) {
	// Check first: locking creates the image folder.
	if _, err := m.cache.ReadMeta(k); err != nil {
		return disk.Result{}, err
	}
	tx, err := m.cache.Begin(ctx, k)
	if err != nil {
		return disk.Result{}, fmt.Errorf("locking %s in the cache: %w", k, err)
	}
	defer tx.Abort()
	meta := tx.Committed()
	if meta == nil {
		return disk.Result{}, fmt.Errorf("%w: %s", ErrNotCached, k)
	}
	d := meta.Asset(cache.RoleDisk)
	if d == nil {
		return disk.Result{}, fmt.Errorf("%s has no disk", k)
	}
	src := disk.Source{Path: tx.Path(d.File), Format: d.Format}
	if src.Format != "qcow2" {
		src.Format = "raw"
	}
	if disk.Format(dst) == "raw" && src.Format != "raw" && meta.DiskRaw != nil {
		if change, err := tx.RawChange(ctx, nil); err == nil && change == "" {
			src = disk.Source{Path: tx.Path(meta.DiskRaw.File), Format: "raw"}
		}
	}
	abs, err := filepath.Abs(dst)
	if err != nil {
		return disk.Result{}, err
	}
	res, err := disk.Clone(ctx, src, abs, disk.Options{Size: opts.Size, QemuImg: m.qemu})
	if err != nil {
		return disk.Result{}, err
	}
	_ = m.cache.Touch(k)
	return res, nil
}
