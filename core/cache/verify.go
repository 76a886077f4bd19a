package cache

import (
	"context"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
)

// verifyBuffer is the read size while hashing.
const verifyBuffer = 1 << 20

// Progress is told, after each chunk hashed, how many bytes of how many in
// total have been hashed so far. It runs on the verifying goroutine and must
// return quickly.
type Progress func(done, total int64)

// Verify re-hashes every asset of an image against the digest recorded when
// it was pulled, and the converted raw disk against the SHA-256 recorded
// when it was converted, and checks the raw disk's source.
// Each problem found is a sentence such as "disk.qcow2: sha256 mismatch
// (expected …, got …)" or "vmlinuz: missing"; no problems means the image is
// intact. err is for what stops the check itself: an invalid key, an image
// that is not cached (ErrNotCached), unreadable metadata (ErrBadMeta) or ctx
// ending. Verify takes no lock, so it never waits behind a pull.
func (c *Cache) Verify(ctx context.Context, k Key) (problems []string, err error) {
	return c.VerifyWithProgress(ctx, k, nil)
}

// VerifyWithProgress is Verify reporting the bytes hashed to progress, which
// may be nil.
func (c *Cache) VerifyWithProgress(ctx context.Context, k Key, progress Progress) (problems []string, err error) {
	if err := c.check(k); err != nil {
		return nil, err
	}
	m, err := c.readMeta(k)
	if err != nil {
		return nil, err
	}
	dir := c.Dir(k)

	type job struct {
		a  AssetMeta
		fi os.FileInfo
	}
	var jobs []job
	var total int64
	for _, a := range m.Assets {
		fi, err := os.Lstat(filepath.Join(dir, a.File))
		switch {
		case err != nil:
			problems = append(problems, a.File+": missing")
			continue
		case !fi.Mode().IsRegular():
			problems = append(problems, a.File+": not a regular file")
			continue
		case a.Size > 0 && fi.Size() != a.Size:
			// The hash cannot match either; don't spend the time.
			problems = append(problems, fmt.Sprintf("%s: size %d bytes, expected %d", a.File, fi.Size(), a.Size))
			continue
		case a.Digest.IsZero():
			problems = append(problems, a.File+": no digest recorded, cannot verify")
			continue
		case !a.Digest.Strong():
			problems = append(problems, fmt.Sprintf("%s: recorded digest is %s, too weak to verify", a.File, a.Digest.Algorithm))
			continue
		}
		jobs = append(jobs, job{a, fi})
		total += fi.Size()
	}
	if r := m.DiskRaw; r != nil && !r.Digest.IsZero() {
		if fi, err := os.Lstat(filepath.Join(dir, r.File)); err == nil && fi.Mode().IsRegular() {
			total += fi.Size()
		}
	}

	var done int64
	for _, j := range jobs {
		h, err := j.a.Digest.NewHash()
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v", j.a.File, err))
			continue
		}
		err = hashFile(ctx, filepath.Join(dir, j.a.File), h, func(n int64) {
			done += n
			if progress != nil {
				progress(done, total)
			}
		})
		if ctx.Err() != nil {
			return nil, fmt.Errorf("verify %s: %w", k, context.Cause(ctx))
		}
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: cannot read: %v", j.a.File, err))
			continue
		}
		if sum := h.Sum(nil); !j.a.Digest.Matches(sum) {
			problems = append(problems, fmt.Sprintf("%s: %s mismatch (expected %s, got %x)",
				j.a.File, j.a.Digest.Algorithm, j.a.Digest.Hex, sum))
		}
	}

	if r := m.DiskRaw; r != nil {
		fi, err := os.Lstat(filepath.Join(dir, r.File))
		switch {
		case err != nil:
			problems = append(problems, r.File+": missing")
		case !fi.Mode().IsRegular():
			problems = append(problems, r.File+": not a regular file")
		case r.Size > 0 && fi.Size() != r.Size:
			problems = append(problems, fmt.Sprintf("%s: size %d bytes, expected %d", r.File, fi.Size(), r.Size))
		case r.Digest.IsZero():
			problems = append(problems, r.File+": no digest recorded (converted by an older version), cannot verify")
		default:
			if p, err := verifyRaw(ctx, filepath.Join(dir, r.File), r, func(n int64) {
				done += n
				if progress != nil {
					progress(done, total)
				}
			}); err != nil {
				return nil, fmt.Errorf("verify %s: %w", k, err)
			} else if p != "" {
				problems = append(problems, p)
			}
		}
		if d := m.Asset(RoleDisk); d != nil && r.SourceDigest != d.Digest {
			problems = append(problems, fmt.Sprintf("%s: converted from another disk (%s), not %s",
				r.File, r.SourceDigest, d.Digest))
		}
	}
	return problems, nil
}

// verifyRaw hashes the raw disk at path against r.Digest and returns the
// problem found, or "". err is for ctx ending.
func verifyRaw(ctx context.Context, path string, r *RawMeta, step func(int64)) (string, error) {
	h, err := r.Digest.NewHash()
	if err != nil {
		return fmt.Sprintf("%s: %v", r.File, err), nil
	}
	err = hashFile(ctx, path, h, step)
	if ctx.Err() != nil {
		return "", context.Cause(ctx)
	}
	if err != nil {
		return fmt.Sprintf("%s: cannot read: %v", r.File, err), nil
	}
	if sum := h.Sum(nil); !r.Digest.Matches(sum) {
		return fmt.Sprintf("%s: %s mismatch (expected %s, got %x)", r.File, r.Digest.Algorithm, r.Digest.Hex, sum), nil
	}
	return "", nil
}

// hashFile streams path into h, calling step with the bytes of each chunk
// and stopping when ctx ends.
func hashFile(ctx context.Context, path string, h hash.Hash, step func(int64)) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	buf := make([]byte, verifyBuffer)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		n, err := f.Read(buf)
		if n > 0 {
			h.Write(buf[:n])
			step(int64(n))
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}
