package core

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"vmimages/core/cache"
)

// Convert makes disk.raw beside a cached image's disk with qemu-img, unless
// an up-to-date one exists. It holds the image's lock while it works.
func (m *Manager) Convert(ctx context.Context, k cache.Key) (*PreparedImage, error) {
	return m.ConvertWithProgress(ctx, k, nil)
}

// ConvertWithProgress is Convert reporting qemu-img's progress as a
// fraction in [0,1] to progress (when not nil), from another goroutine.
func (m *Manager) ConvertWithProgress(ctx context.Context, k cache.Key, progress func(fraction float64)) (*PreparedImage, error) {
	// Check first: locking creates the image folder.
	if _, err := m.cache.ReadMeta(k); err != nil {
		return nil, notCached(k, err)
	}
	unlock, err := m.cache.Lock(ctx, k)
	if err != nil {
		return nil, fmt.Errorf("locking %s in the cache: %w", k, err)
	}
	defer unlock()
	meta, err := m.cache.ReadMeta(k)
	if err != nil {
		return nil, err
	}
	if err := m.convertLocked(ctx, k, meta, progress); err != nil {
		return nil, err
	}
	return m.prepared(k, meta), nil
}

// ConvertJob converts a cached image's disk to raw as a job: PhaseQueued,
// PhaseWaiting for the image's lock, PhaseConverting with
// Snapshot.Converted in [0,1], then PhaseDone with Snapshot.Result. A second
// ConvertJob of an image being converted returns the same job.
func (m *Manager) ConvertJob(ctx context.Context, k cache.Key) *Job {
	return m.startOp(ctx, KindConvert, k, func(ctx context.Context, j *Job) (*PreparedImage, error) {
		if _, err := m.cache.ReadMeta(k); err != nil {
			return nil, notCached(k, err)
		}
		j.update(func(s *Snapshot) { s.Phase = PhaseWaiting })
		unlock, err := m.cache.Lock(ctx, k)
		if err != nil {
			return nil, fmt.Errorf("locking %s in the cache: %w", k, err)
		}
		defer unlock()
		meta, err := m.cache.ReadMeta(k)
		if err != nil {
			return nil, notCached(k, err)
		}
		j.update(func(s *Snapshot) { s.Phase = PhaseConverting; s.Converted = 0; s.Build = meta.Build })
		if err := m.convertLocked(ctx, k, meta, func(f float64) {
			j.update(func(s *Snapshot) { s.Converted = f })
		}); err != nil {
			return nil, err
		}
		j.update(func(s *Snapshot) { s.Converted = 1 })
		img := m.prepared(k, meta)
		img.Signature = SignatureFromMeta(meta.Signature)
		return img, nil
	})
}

// convertLocked converts with the lock held and records the result in meta.
func (m *Manager) convertLocked(ctx context.Context, k cache.Key, meta *cache.Meta, progress func(float64)) error {
	var disk *cache.AssetMeta
	for i := range meta.Assets {
		if meta.Assets[i].Role == cache.RoleDisk {
			disk = &meta.Assets[i]
		}
	}
	if disk == nil {
		return fmt.Errorf("%s has no disk to convert", k)
	}
	dir := m.cache.Dir(k)
	dst := filepath.Join(dir, cache.AssetName(cache.RoleDiskRaw, "raw"))
	if meta.DiskRaw != nil && meta.DiskRaw.SourceDigest == disk.Digest {
		if fi, err := os.Stat(dst); err == nil && fi.Size() == meta.DiskRaw.Size {
			return nil // up to date
		}
	}
	if disk.Format == "raw" {
		return fmt.Errorf("%s: the disk is already raw (%s)", k, disk.File)
	}
	// A conversion that crashed leaves its temporary file; we hold the lock.
	if stale, _ := filepath.Glob(dst + ".tmp-*"); len(stale) > 0 {
		for _, f := range stale {
			os.Remove(f)
		}
	}
	if err := m.qemu.ConvertToRawProgress(ctx, filepath.Join(dir, disk.File), dst, progress); err != nil {
		return fmt.Errorf("converting %s to raw: %w", k, err)
	}
	fi, err := os.Stat(dst)
	if err != nil {
		return fmt.Errorf("converting %s to raw: %w", k, err)
	}
	meta.DiskRaw = &cache.RawMeta{File: filepath.Base(dst), SourceDigest: disk.Digest, Size: fi.Size(), ConvertedAt: m.now()}
	return m.cache.WriteMeta(meta)
}
