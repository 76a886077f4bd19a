package download

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

// attemptLimiter is the grab.RateLimiter of one attempt: it draws from the
// Client's shared limiter and tells the stall watchdog when a pause is the
// limiter's doing rather than the server's.
type attemptLimiter struct {
	lim     *rate.Limiter
	waiting *atomic.Bool
}

// WaitN implements grab.RateLimiter.
func (a *attemptLimiter) WaitN(ctx context.Context, n int) error {
	if a.lim.Limit() == rate.Inf {
		return nil
	}
	a.waiting.Store(true)
	defer a.waiting.Store(false)
	for n > 0 {
		k := min(n, a.lim.Burst())
		if err := a.lim.WaitN(ctx, k); err != nil {
			return err
		}
		n -= k
	}
	return nil
}

// watchdog cancels an attempt with ErrStalled when activity has not changed
// for timeout while busy reports false. It returns when ctx ends.
func watchdog(ctx context.Context, cancel context.CancelCauseFunc, timeout time.Duration, activity func() int64, busy func() bool) {
	every := min(max(timeout/5, 10*time.Millisecond), time.Second)
	t := time.NewTicker(every)
	defer t.Stop()
	last, since := activity(), time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			if a := activity(); a != last || (busy != nil && busy()) {
				last, since = a, now
				continue
			}
			if now.Sub(since) >= timeout {
				cancel(fmt.Errorf("%w: no data for %s", ErrStalled, timeout))
				return
			}
		}
	}
}
