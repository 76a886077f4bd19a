package core

import (
	"context"
	"net/http"
	"os"
	"sync"
	"testing"
	"time"

	"vmimages/internal/mirrortest"
)

// fakeClock is a Clock the test moves: every After is handed to the test,
// which advances the time and fires it.
type fakeClock struct {
	mu    sync.Mutex
	now   time.Time
	waits chan fakeWait
}

type fakeWait struct {
	d    time.Duration
	fire chan time.Time
}

func newFakeClock(now time.Time) *fakeClock {
	return &fakeClock{now: now, waits: make(chan fakeWait, 1)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	w := fakeWait{d: d, fire: make(chan time.Time, 1)}
	c.waits <- w
	return w.fire
}

// next takes the wait Run asked for, checks its length, moves the clock
// past it and fires it.
func (c *fakeClock) next(t *testing.T, want time.Duration) {
	t.Helper()
	var w fakeWait
	select {
	case w = <-c.waits:
	case <-time.After(30 * time.Second):
		t.Fatalf("no wait asked for; want one of %s", want)
	}
	if w.d != want {
		t.Fatalf("waits %s, want %s", w.d, want)
	}
	c.mu.Lock()
	c.now = c.now.Add(w.d)
	now := c.now
	c.mu.Unlock()
	w.fire <- now
}

func TestRefreshScheduleWait(t *testing.T) {
	s := DefaultRefreshSchedule
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name     string
		last     time.Time
		failures int
		want     time.Duration
	}{
		{"never refreshed", time.Time{}, 0, 0},
		{"two days ago", now.Add(-48 * time.Hour), 0, 0},
		{"two hours ago", now.Add(-2 * time.Hour), 0, 22 * time.Hour},
		{"clock behind the last refresh", now.Add(time.Hour), 0, 25 * time.Hour},
		{"offline once", now.Add(-48 * time.Hour), 1, 5 * time.Minute},
		{"offline twice", now.Add(-48 * time.Hour), 2, 10 * time.Minute},
		{"offline 7 times", time.Time{}, 7, 320 * time.Minute},
		{"offline for long", time.Time{}, 40, 6 * time.Hour},
	} {
		if got := s.Wait(tc.last, tc.failures, now); got != tc.want {
			t.Errorf("%s: Wait = %s, want %s", tc.name, got, tc.want)
		}
	}
}

// The background refresh runs against the real Manager and a loopback
// mirror: a minute after start when never refreshed, then daily; offline
// it backs off (5 min, 10 min, …) and returns to daily once upstream
// answers; a later start waits out the day since the last refresh.
func TestAutoRefreshSchedule(t *testing.T) {
	srv := mirrortest.New(t)
	index, err := os.ReadFile("discover/testdata/index.json")
	if err != nil {
		t.Fatal(err)
	}
	products, err := os.ReadFile("discover/testdata/com.ubuntu.cloud-released-download.json")
	if err != nil {
		t.Fatal(err)
	}
	srv.Put("/ubuntu/streams/v1/index.json", index)
	srv.Put("/ubuntu/streams/v1/com.ubuntu.cloud:released:download.json", products)
	for _, p := range []string{"/fedora/44/x", "/fedora/45/x", "/alpine/v3.24/x", "/rocky/10/x", "/almalinux/10/x"} {
		srv.Put(p, []byte("x"))
	}
	var offline bool
	var mu sync.Mutex
	srv.SetFault(func(w http.ResponseWriter, r *http.Request) bool {
		mu.Lock()
		defer mu.Unlock()
		if offline {
			http.Error(w, "no route", http.StatusServiceUnavailable)
		}
		return offline
	})
	setOffline := func(v bool) { mu.Lock(); offline = v; mu.Unlock() }
	mirrors := map[string]string{}
	for _, d := range []string{"ubuntu", "fedora", "alpine", "rocky", "almalinux"} {
		mirrors[d] = srv.URL + "/" + d + "/"
	}
	clock := newFakeClock(time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC))
	cacheDir := t.TempDir()
	open := func() *Manager {
		return newManager(t, mirrors, func(o *Options) { o.CacheDir = cacheDir; o.Now = clock.Now })
	}

	type outcome struct {
		res  RefreshResult
		err  error
		next time.Time
	}
	run := func(m *Manager) (chan outcome, func()) {
		done := make(chan outcome, 1)
		ctx, cancel := context.WithCancel(context.Background())
		stopped := make(chan struct{})
		go func() {
			defer close(stopped)
			m.AutoRefresh(DefaultRefreshSchedule, clock, func(res RefreshResult, err error, next time.Time) {
				done <- outcome{res, err, next}
			}).Run(ctx)
		}()
		stop := func() {
			cancel()
			<-stopped
			select { // the wait it asked for before it saw ctx end
			case <-clock.waits:
			default:
			}
		}
		t.Cleanup(func() { cancel(); <-stopped })
		return done, stop
	}
	got := func(done chan outcome) outcome {
		t.Helper()
		select {
		case o := <-done:
			return o
		case <-time.After(60 * time.Second):
			t.Fatal("no refresh outcome")
		}
		return outcome{}
	}

	m := open()
	done, stop := run(m)
	clock.next(t, time.Minute) // never refreshed: a minute after start
	o := got(done)
	if o.err != nil || o.res.Offline || m.CatalogSource().Refreshed != clock.Now() {
		t.Fatalf("first refresh: %+v; source %v", o, m.CatalogSource())
	}
	if want := clock.Now().Add(24 * time.Hour); !o.next.Equal(want) {
		t.Errorf("next refresh %s, want %s", o.next, want)
	}
	if _, err := m.Catalog().Distro("fedora"); err != nil {
		t.Fatal(err)
	}

	clock.next(t, 24*time.Hour) // daily
	got(done)
	setOffline(true)
	clock.next(t, 24*time.Hour)
	if o := got(done); !o.res.Offline {
		t.Fatalf("offline refresh: %+v", o.res)
	}
	clock.next(t, 5*time.Minute) // backoff
	got(done)
	clock.next(t, 10*time.Minute)
	got(done)
	setOffline(false)
	clock.next(t, 20*time.Minute)
	if o := got(done); o.res.Offline {
		t.Fatalf("back online: %+v", o.res)
	}
	last := m.CatalogSource().Refreshed
	stop()

	// A later start, two hours on: the day since the last refresh is waited
	// out, not refreshed again at once.
	clock.mu.Lock()
	clock.now = last.Add(2 * time.Hour)
	clock.mu.Unlock()
	m2 := open()
	if !m2.CatalogSource().Refreshed.Equal(last) {
		t.Fatalf("stored refresh %v, want %v", m2.CatalogSource().Refreshed, last)
	}
	run(m2)
	clock.next(t, 22*time.Hour)
}
