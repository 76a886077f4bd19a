package core

import (
	"context"
	"errors"
	"fmt"

	"vmimages/core/cache"
)

// Convert makes disk.raw beside a cached image's disk with qemu-img, unless
// an up-to-date one exists. It holds the image's lock while it works.
func (m *Manager) Convert(ctx context.Context, k cache.Key) (*PreparedImage, error) {
	return m.ConvertWithProgress(ctx, k, nil)
}

// ConvertWithProgress is Convert reporting qemu-img's progress as a
// fraction in [0,1] to progress (when not nil), from another goroutine.
// The disk is proven first: hashed against its recorded digest (a mismatch
// or a symbolic link fails with an error wrapping cache.ErrNotVerified,
// which IsIntegrity reports), and checked unchanged after the conversion.
func (m *Manager) ConvertWithProgress(ctx context.Context, k cache.Key, progress func(fraction float64)) (*PreparedImage, error) {
	return m.convert(ctx, k, progressFunc(progress), nil)
}

// ConvertJob converts a cached image's disk to raw as a job: PhaseQueued,
// PhaseWaiting for the image's lock, PhaseConverting with
// Snapshot.Converted in [0,1] (the disk is proven by hash first, at 0),
// then PhaseDone with Snapshot.Result. A second ConvertJob of an image
// being converted returns the same job.
func (m *Manager) ConvertJob(ctx context.Context, k cache.Key) *Job {
	return m.startOp(ctx, KindConvert, k, func(ctx context.Context, j *Job) (*PreparedImage, error) {
		img, err := m.convert(ctx, k, j, func() {
			j.update(func(s *Snapshot) { s.Phase = PhaseWaiting })
		})
		if err != nil {
			return nil, err
		}
		j.update(func(s *Snapshot) { s.Phase = PhaseConverting; s.Converted = 1; s.Build = img.Build })
		return img, nil
	})
}

// convert is ConvertWithProgress telling c how it goes; waiting, when not
// nil, is called before it waits for the image's lock.
func (m *Manager) convert(ctx context.Context, k cache.Key, c converter, waiting func()) (*PreparedImage, error) {
	// Check first, so that a missing image is reported as such.
	if _, err := m.cache.ReadMeta(k); err != nil {
		return nil, notCached(k, err)
	}
	if waiting != nil {
		waiting()
	}
	tx, err := m.cache.Begin(ctx, k)
	if err != nil {
		return nil, fmt.Errorf("locking %s in the cache: %w", k, err)
	}
	defer tx.Abort()
	meta := tx.Committed()
	if meta == nil {
		return nil, &NotCachedError{Key: k}
	}
	change, err := tx.RawChange(ctx, nil)
	if err != nil {
		return nil, err
	}
	if change == "" {
		return m.prepared(k, meta), nil // up to date
	}
	for _, a := range meta.Assets {
		if _, err := tx.Keep(a.Role, nil); err != nil {
			return nil, err
		}
	}
	if err := m.convertTx(ctx, tx, c); err != nil {
		return nil, err
	}
	if meta, err = tx.Commit(meta); err != nil {
		return nil, err
	}
	return m.prepared(k, meta), nil
}

// converter is told how a conversion goes.
type converter interface {
	converted(fraction float64)
	notice(s string)
}

// progressFunc adapts a progress callback (nil for none) to a converter.
type progressFunc func(float64)

func (f progressFunc) converted(x float64) {
	if f != nil {
		f(x)
	}
}

func (progressFunc) notice(string) {}

// converted reports the conversion's progress in the job's snapshot.
func (j *Job) converted(f float64) {
	j.update(func(s *Snapshot) { s.Phase = PhaseConverting; s.Converted = f })
}

// convertTx converts the transaction's disk (staged, or kept and proven by
// hash) into the transaction's raw file and stages it with its SHA-256.
// Nothing gets a name until the caller commits.
func (m *Manager) convertTx(ctx context.Context, tx *cache.Tx, c converter) error {
	k := tx.Key()
	disk, kept, ok := tx.Asset(cache.RoleDisk)
	if !ok {
		return fmt.Errorf("%s has no disk to convert", k)
	}
	if disk.Format == "raw" {
		return fmt.Errorf("%s: the disk is already raw (%s)", k, disk.File)
	}
	c.converted(0)
	src, check, err := tx.Source(ctx, cache.RoleDisk, nil)
	if err != nil {
		if kept {
			m.distrust(tx, disk, err)
		}
		return fmt.Errorf("converting %s to raw: %w", k, err)
	}
	tmp, err := tx.RawTemp()
	if err != nil {
		return err
	}
	if err := m.qemu.ConvertToRawProgress(ctx, src, tmp, c.converted); err != nil {
		return fmt.Errorf("converting %s to raw: %w", k, err)
	}
	if err := check(); err != nil {
		if kept {
			m.distrust(tx, disk, err)
		}
		return fmt.Errorf("converting %s to raw: %w", k, err)
	}
	if _, err := tx.StageRaw(ctx, tmp, disk.Digest, nil); err != nil {
		return err
	}
	return nil
}

// distrust records, as a failed verify would, that the committed file of
// asset a is not the verified one (err wraps cache.ErrNotVerified): the
// image then lists as corrupt, naming the file, and a pull fetches it
// again instead of handing it out. Other errors record nothing.
func (m *Manager) distrust(tx *cache.Tx, a cache.AssetMeta, err error) {
	old := tx.Committed()
	if old == nil || !errors.Is(err, cache.ErrNotVerified) {
		return
	}
	rec := cache.VerifyMeta{At: m.now(), Problems: []string{a.File + ": " + err.Error()}, Files: []string{a.File}}
	if _, rerr := m.cache.RecordVerify(tx.Key(), old.PulledAt, old.Build, rec); rerr != nil {
		m.opts.Logger.Warn("could not record that a file is not the verified one", "image", tx.Key().String(), "file", a.File, "err", rerr)
	}
}
