package core

import (
	"context"
	"time"
)

// RefreshSchedule says when the catalog refreshes itself in the background:
// at start when the last refresh is older than Every (after StartDelay, so
// it does not compete with start-up), then every Every, and, after a refresh
// that reached no distribution (offline), again after Retry, doubling up to
// MaxRetry.
type RefreshSchedule struct {
	Every      time.Duration
	StartDelay time.Duration
	Retry      time.Duration
	MaxRetry   time.Duration
}

// DefaultRefreshSchedule is daily, a minute after start, with a backoff from
// 5 minutes to 6 hours when offline.
var DefaultRefreshSchedule = RefreshSchedule{Every: 24 * time.Hour, StartDelay: time.Minute, Retry: 5 * time.Minute, MaxRetry: 6 * time.Hour}

// Wait is how long to wait at now before the next refresh, given when the
// last successful one was taken (zero: never) and how many refreshes in a
// row since found every distribution unreachable.
func (s RefreshSchedule) Wait(last time.Time, failures int, now time.Time) time.Duration {
	if failures > 0 {
		d := s.Retry
		for i := 1; i < failures && d < s.MaxRetry; i++ {
			d *= 2
		}
		return min(d, s.MaxRetry)
	}
	if last.IsZero() {
		return 0
	}
	return max(last.Add(s.Every).Sub(now), 0)
}

// Clock is the time source a background refresh waits on. SystemClock is
// the real one; tests pass their own.
type Clock interface {
	Now() time.Time
	After(d time.Duration) <-chan time.Time
}

type systemClock struct{}

func (systemClock) Now() time.Time                         { return time.Now() }
func (systemClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// SystemClock is the wall clock.
var SystemClock Clock = systemClock{}

// AutoRefresh refreshes the catalog in the background on a schedule.
type AutoRefresh struct {
	Schedule RefreshSchedule
	Clock    Clock
	// Last returns when the catalog was last refreshed from upstream
	// (zero: never); Manager.CatalogSource().Refreshed.
	Last func() time.Time
	// Refresh runs one refresh; Manager.RefreshCatalog, or a front's
	// wrapper of it.
	Refresh func(ctx context.Context) (RefreshResult, error)
	// Done is called after each refresh, on Run's goroutine, with its
	// outcome and when the next one is due.
	Done func(res RefreshResult, err error, next time.Time)
}

// AutoRefresh returns the background refresh of m's catalog on schedule s.
func (m *Manager) AutoRefresh(s RefreshSchedule, clock Clock, done func(RefreshResult, error, time.Time)) *AutoRefresh {
	return &AutoRefresh{
		Schedule: s, Clock: clock, Done: done,
		Last:    func() time.Time { return m.CatalogSource().Refreshed },
		Refresh: m.RefreshCatalog,
	}
}

// Run refreshes on schedule until ctx ends. A refresh that reaches no
// distribution, or fails, counts as offline and is retried with backoff; one
// that reaches some is a success (the others keep what was found before).
func (a *AutoRefresh) Run(ctx context.Context) {
	failures := 0
	wait := max(a.Schedule.Wait(a.Last(), 0, a.Clock.Now()), a.Schedule.StartDelay)
	for {
		select {
		case <-ctx.Done():
			return
		case <-a.Clock.After(wait):
		}
		res, err := a.Refresh(ctx)
		if ctx.Err() != nil {
			return
		}
		if err != nil || res.Offline {
			failures++
		} else {
			failures = 0
		}
		wait = a.Schedule.Wait(a.Last(), failures, a.Clock.Now())
		if a.Done != nil {
			a.Done(res, err, a.Clock.Now().Add(wait))
		}
	}
}
