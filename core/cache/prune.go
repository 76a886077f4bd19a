package cache

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// PrunePolicy says which images Prune removes. Each rule is off at its zero
// value, and an image goes when any rule that is on picks it.
type PrunePolicy struct {
	// KeepNewest keeps the N most recently pulled images of each distro (by
	// PulledAt) and picks the rest. Images with transfers in flight are
	// neither counted nor picked by this rule.
	KeepNewest int
	// OlderThan picks images last used (by LastUsed, else PulledAt) more than
	// this long before Now, partial ones included.
	OlderThan time.Duration
	// MaxSize, after the other rules, picks the least recently used images
	// until the cache's total SizeBytes is at most MaxSize.
	MaxSize int64
	// Now is the time OlderThan counts back from. Prune fills it from the
	// cache's clock when zero; for PruneCandidates a zero Now picks nothing
	// by age.
	Now time.Time
	// Keep lists images that are never picked, such as those in use; they
	// still count toward MaxSize.
	Keep []Key
}

// PruneCandidates returns the images that policy p picks, in the order of
// images. It is a pure function of its arguments.
func PruneCandidates(images []Image, p PrunePolicy) []Image {
	picked := make([]bool, len(images))

	if p.KeepNewest > 0 {
		byDistro := map[string][]int{}
		for i, im := range images {
			if im.State != StatePartial {
				byDistro[im.Distro] = append(byDistro[im.Distro], i)
			}
		}
		for _, idx := range byDistro {
			slices.SortFunc(idx, func(a, b int) int {
				x, y := images[a], images[b]
				if c := y.PulledAt.Compare(x.PulledAt); c != 0 {
					return c // newest first
				}
				return -compareKeys(x.Key, y.Key) // then the higher version
			})
			for _, i := range idx[min(p.KeepNewest, len(idx)):] {
				picked[i] = true
			}
		}
	}

	if p.OlderThan > 0 && !p.Now.IsZero() {
		cutoff := p.Now.Add(-p.OlderThan)
		for i, im := range images {
			if lastUsed(im).Before(cutoff) {
				picked[i] = true
			}
		}
	}

	for i, im := range images {
		if slices.Contains(p.Keep, im.Key) {
			picked[i] = false
		}
	}

	if p.MaxSize > 0 {
		var total int64
		var lru []int
		for i, im := range images {
			if picked[i] {
				continue
			}
			total += im.SizeBytes
			if !slices.Contains(p.Keep, im.Key) {
				lru = append(lru, i)
			}
		}
		slices.SortFunc(lru, func(a, b int) int {
			x, y := images[a], images[b]
			return cmp.Or(
				lastUsed(x).Compare(lastUsed(y)),
				x.PulledAt.Compare(y.PulledAt),
				compareKeys(x.Key, y.Key),
			)
		})
		for _, i := range lru {
			if total <= p.MaxSize {
				break
			}
			picked[i] = true
			total -= images[i].SizeBytes
		}
	}

	var out []Image
	for i, im := range images {
		if picked[i] {
			out = append(out, im)
		}
	}
	return out
}

// lastUsed is when an image was last used, falling back to when it was pulled.
func lastUsed(im Image) time.Time {
	if im.LastUsed.IsZero() {
		return im.PulledAt
	}
	return im.LastUsed
}

// InUseError reports images Prune left alone because another holder had
// their lock. It matches ErrInUse with errors.Is.
type InUseError struct {
	Images []Image
}

// Error lists the images skipped.
func (e *InUseError) Error() string {
	names := make([]string, len(e.Images))
	for i, im := range e.Images {
		names[i] = im.Key.String()
	}
	return fmt.Sprintf("%v: skipped %s", ErrInUse, strings.Join(names, ", "))
}

// Unwrap returns ErrInUse.
func (e *InUseError) Unwrap() error { return ErrInUse }

// Prune removes the images policy p picks from the cache, or with dryRun only
// reports them. Images whose lock someone else holds are not touched, and
// the policy is applied again as if they were in p.Keep, so MaxSize picks
// others instead. removed and freed (the sum of their SizeBytes) describe what
// was (or, with dryRun, would be) removed even when err is not nil: err
// then wraps an *InUseError for skipped images and the errors of removals
// that failed.
func (c *Cache) Prune(ctx context.Context, p PrunePolicy, dryRun bool) (removed []Image, freed int64, err error) {
	if c.rootErr != nil {
		return nil, 0, c.rootErr
	}
	if p.Now.IsZero() {
		p.Now = c.now()
	}
	images, err := c.List(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("prune: %w", err)
	}
	p.Keep = slices.Clone(p.Keep)

	locks := map[Key]func() error{}
	defer func() {
		for _, unlock := range locks {
			unlock()
		}
	}()
	var skipped []Image
	var errs []error
	var cands []Image
	for {
		cands = PruneCandidates(images, p)
		again := false
		for _, im := range cands {
			if _, ok := locks[im.Key]; ok {
				continue
			}
			if err := ctx.Err(); err != nil {
				return nil, 0, fmt.Errorf("prune: %w", err)
			}
			unlock, ok, err := c.lockExisting(im.Key)
			if err != nil {
				if !errors.Is(err, ErrNotCached) { // gone already: nothing to do
					errs = append(errs, fmt.Errorf("prune %s: %w", im.Key, err))
				}
				p.Keep = append(p.Keep, im.Key)
				again = true
				continue
			}
			if !ok {
				skipped = append(skipped, im)
				p.Keep = append(p.Keep, im.Key)
				again = true
				continue
			}
			locks[im.Key] = unlock
		}
		if !again {
			break
		}
	}

	for _, im := range cands {
		if !dryRun {
			if err := ctx.Err(); err != nil {
				errs = append(errs, fmt.Errorf("prune: %w", err))
				break
			}
			if err := c.removeLocked(im.Key); err != nil {
				errs = append(errs, err)
				continue
			}
		}
		removed = append(removed, im)
		freed += im.SizeBytes
	}
	if len(skipped) > 0 {
		errs = append(errs, &InUseError{Images: skipped})
	}
	return removed, freed, errors.Join(errs...)
}

// lockExisting is TryLock for an image that must already exist: it does not
// create a directory someone else removed meanwhile.
func (c *Cache) lockExisting(k Key) (func() error, bool, error) {
	if err := c.checkNoSymlinks(k); err != nil {
		return nil, false, err
	}
	return c.tryLock(k)
}
