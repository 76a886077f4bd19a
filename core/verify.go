package core

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"vmimages/core/cache"
)

// VerdictStatus is the outcome of verifying one cached image.
type VerdictStatus string

// Verdicts, from best to worst.
const (
	// VerdictOK: every file matched the digest recorded when it was pulled.
	VerdictOK VerdictStatus = "ok"
	// VerdictPartial: the image is not complete (a pull in flight or
	// interrupted, no metadata yet); there is nothing to verify yet.
	VerdictPartial VerdictStatus = "partial"
	// VerdictUnreadable: the image's metadata or a file could not be read.
	VerdictUnreadable VerdictStatus = "unreadable"
	// VerdictDamaged: a file is missing or differs from its recorded digest.
	VerdictDamaged VerdictStatus = "damaged"
)

// rank orders verdicts from best to worst.
func (v VerdictStatus) rank() int {
	switch v {
	case VerdictOK:
		return 0
	case VerdictPartial:
		return 1
	case VerdictUnreadable:
		return 2
	}
	return 3
}

// Worse reports whether v is a worse verdict than w.
func (v VerdictStatus) Worse(w VerdictStatus) bool { return v.rank() > w.rank() }

// Verdict is what verifying one cached image found.
type Verdict struct {
	Key    cache.Key
	Status VerdictStatus
	// Problems are sentences such as "disk.qcow2: sha512 mismatch (…)"
	// or, for a partial or unreadable image, why it could not be checked.
	Problems []string
	// Meta is the image's metadata as verified; nil when unreadable or absent.
	Meta *cache.Meta
}

// VerifyImage re-hashes one cached image and returns its verdict; progress
// may be nil. A partial or unreadable image is a verdict, not an error: err
// is only for ctx ending or an invalid key. The verdict is recorded in the
// image's metadata (cache state "corrupt" after a failed verify) until the
// image is verified again or pulled anew.
func (m *Manager) VerifyImage(ctx context.Context, k cache.Key, progress cache.Progress) (Verdict, error) {
	v, _, err := m.verify(ctx, k, progress)
	return v, err
}

// verify is VerifyImage that also returns the cache's own error for an
// image it could not check, for Verify's older contract.
func (m *Manager) verify(ctx context.Context, k cache.Key, progress cache.Progress) (v Verdict, cause, err error) {
	if err := k.Validate(); err != nil {
		return Verdict{}, nil, err
	}
	v = Verdict{Key: k, Problems: []string{}}
	meta, merr := m.cache.ReadMeta(k)
	if merr == nil && len(meta.Assets) == 0 {
		merr = fmt.Errorf("%w: %s lists no files yet", cache.ErrNotCached, k)
	}
	if merr != nil {
		return m.unverifiable(k, merr), merr, nil
	}
	problems, verr := m.cache.VerifyWithProgress(ctx, k, progress)
	if ctx.Err() != nil {
		return Verdict{}, nil, fmt.Errorf("verify %s: %w", k, context.Cause(ctx))
	}
	if verr != nil {
		return m.unverifiable(k, verr), verr, nil
	}
	v.Meta = meta
	if len(problems) > 0 {
		v.Status, v.Problems = VerdictDamaged, problems
	} else {
		v.Status = VerdictOK
	}
	rec := cache.VerifyMeta{At: m.now(), OK: v.Status == VerdictOK, Problems: problems, Files: problemFiles(meta, problems)}
	if ok, err := m.cache.RecordVerify(k, meta.PulledAt, meta.Build, rec); err == nil && ok {
		meta.Verified = &rec
	}
	return v, nil, nil
}

// unverifiable is the verdict on an image Verify could not check.
func (m *Manager) unverifiable(k cache.Key, err error) Verdict {
	v := Verdict{Key: k, Status: VerdictUnreadable, Problems: []string{err.Error()}}
	if errors.Is(err, cache.ErrNotCached) {
		v.Status = VerdictPartial
		v.Problems = []string{"not complete: a pull is in progress or was interrupted"}
		if im, ierr := m.cache.Image(k); ierr == nil && im.Reason != "" {
			v.Problems = []string{"not complete: " + im.Reason}
		} else if errors.Is(ierr, cache.ErrNotCached) {
			v.Problems = []string{"not in the cache"}
		}
	}
	return v
}

// Verify re-hashes one cached image; progress may be nil. It returns the
// problems found, or an error wrapping ErrNotCached (a *NotCachedError) or
// cache.ErrBadMeta when the image cannot be checked. Like VerifyImage it
// records the outcome in the image's metadata.
func (m *Manager) Verify(ctx context.Context, k cache.Key, progress cache.Progress) ([]string, error) {
	v, cause, err := m.verify(ctx, k, progress)
	if err != nil {
		return nil, err
	}
	if cause != nil {
		if errors.Is(cause, cache.ErrNotCached) {
			return nil, &NotCachedError{Key: k, Err: cause}
		}
		return nil, cause
	}
	return v.Problems, nil
}

// VerifyJob re-hashes a cached image as a job: PhaseQueued, PhaseVerifying
// with BytesDone/BytesTotal counting the bytes hashed, then PhaseDone with
// Snapshot.Verdict set (a damaged image is a done job with a damaged
// verdict). A second VerifyJob of an image being verified returns the same
// job.
func (m *Manager) VerifyJob(ctx context.Context, k cache.Key) *Job {
	return m.startOp(ctx, KindVerify, k, func(ctx context.Context, j *Job) (*PreparedImage, error) {
		j.update(func(s *Snapshot) { s.Phase = PhaseVerifying; s.BytesDone = 0 })
		v, err := m.VerifyImage(ctx, k, func(done, total int64) {
			j.update(func(s *Snapshot) { s.BytesDone, s.BytesTotal = done, total })
		})
		if err != nil {
			return nil, err
		}
		j.update(func(s *Snapshot) {
			s.Verdict = &v
			if v.Meta != nil {
				s.Build = v.Meta.Build
			}
		})
		return nil, nil
	})
}

// problemFiles names the files of meta that problems are about ("disk.qcow2:
// sha512 mismatch …"); nil when a problem names none of them.
func problemFiles(meta *cache.Meta, problems []string) []string {
	var names []string
	for _, a := range meta.Assets {
		names = append(names, a.File)
	}
	if meta.DiskRaw != nil {
		names = append(names, meta.DiskRaw.File)
	}
	var files []string
	for _, p := range problems {
		i := slices.IndexFunc(names, func(n string) bool { return strings.HasPrefix(p, n+":") })
		if i < 0 {
			return nil
		}
		if !slices.Contains(files, names[i]) {
			files = append(files, names[i])
		}
	}
	return files
}
