package ui

import (
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"vmimages/core"
	"vmimages/internal/mirrortest"
)

// stepClock is a core.Clock whose waits the test releases one by one.
type stepClock struct {
	mu    sync.Mutex
	now   time.Time
	waits chan time.Duration
	fire  chan time.Time
}

func (c *stepClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *stepClock) After(d time.Duration) <-chan time.Time {
	c.waits <- d
	return c.fire
}

// release lets the pending wait end after moving the clock past it.
func (c *stepClock) release(t *testing.T, h *harness, want time.Duration) {
	t.Helper()
	var d time.Duration
	h.waitFor("the background refresh to wait", func() bool {
		select {
		case d = <-c.waits:
			return true
		default:
			return false
		}
	})
	if d != want {
		t.Fatalf("background refresh waits %s, want %s", d, want)
	}
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
	c.fire <- c.now
}

// The window refreshes the catalog by itself: a minute after start when it
// was never refreshed, then says what it found and when, shows the new
// release, and tries again with backoff when nothing answers.
func TestWindowRefreshesCatalogInBackground(t *testing.T) {
	srv := mirrortest.New(t)
	for name, p := range map[string]string{
		"index.json": "/ubuntu/streams/v1/index.json",
		"com.ubuntu.cloud-released-download.json": "/ubuntu/streams/v1/com.ubuntu.cloud:released:download.json",
	} {
		b, err := os.ReadFile("../../../core/discover/testdata/" + name)
		if err != nil {
			t.Fatal(err)
		}
		srv.Put(p, b)
	}
	for _, p := range []string{"/fedora/44/x", "/fedora/45/x", "/alpine/v3.24/x", "/rocky/10/x", "/almalinux/10/x"} {
		srv.Put(p, []byte("x"))
	}
	var mu sync.Mutex
	offline := false
	srv.SetFault(func(w http.ResponseWriter, r *http.Request) bool {
		mu.Lock()
		defer mu.Unlock()
		if offline {
			http.Error(w, "unreachable", http.StatusServiceUnavailable)
		}
		return offline
	})
	clock := &stepClock{now: time.Date(2026, 11, 30, 9, 0, 0, 0, time.Local), waits: make(chan time.Duration, 1), fire: make(chan time.Time, 1)}
	h := newHarness(t, srv, func(o *core.Options) {
		for _, d := range []string{"ubuntu", "fedora", "alpine", "rocky", "almalinux"} {
			o.Mirrors[d] = srv.URL + "/" + d + "/"
		}
		o.Now = clock.Now
	}, func(o *Options) { o.UpdateEvery = -1 })
	h.u.StartAutoRefresh(core.DefaultRefreshSchedule, clock)

	clock.release(t, h, time.Minute)
	h.waitFor("the background refresh's outcome", func() bool {
		return h.u.cat.refreshLine.Visible() && strings.Contains(h.u.cat.refreshLine.Text, "Checked upstream at 09:01")
	})
	if line := h.u.cat.refreshLine.Text; !strings.Contains(line, "fedora 45") || !strings.Contains(line, "Next check Tue 09:01") {
		t.Errorf("refresh line = %q, want the new release and the next check", line)
	}
	if src := h.u.cat.sourceLine.Text; !strings.Contains(src, "updated from upstream on 2026-11-30") {
		t.Errorf("source line = %q, want when it last refreshed", src)
	}

	mu.Lock()
	offline = true
	mu.Unlock()
	clock.release(t, h, 24*time.Hour)
	h.waitFor("the offline outcome", func() bool { return strings.Contains(h.u.cat.refreshLine.Text, "Trying again") })
	clock.release(t, h, 5*time.Minute)
}
