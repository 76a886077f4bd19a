package ui

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"vmimages/core"
	"vmimages/core/cache"
	"vmimages/core/catalog"
	"vmimages/core/manifest"
	"vmimages/internal/mirrortest"
)

// harness drives the real views over a real Manager on a loopback mirror.
// Functions the UI hands to Options.Do are queued and run on the test
// goroutine, which plays Fyne's thread: the widgets are touched by one
// goroutine only, as in the app.
type harness struct {
	t     *testing.T
	app   fyne.App
	win   fyne.Window
	u     *UI
	m     *core.Manager
	q     chan func()
	srv   *mirrortest.Server
	cache string

	mu       sync.Mutex
	quits    int
	revealed []string
	trayHost bool
}

// upstreamArch is Debian's spelling of this machine's arch.
func upstreamArch() string {
	if catalog.HostArch() == "aarch64" {
		return "arm64"
	}
	return "amd64"
}

// hostKey is the cache key of Debian version v for this machine.
func hostKey(v string) cache.Key {
	return cache.Key{Distro: "debian", Version: v, Arch: catalog.HostArch()}
}

// newMirror serves Debian 12 (a disk of diskSize bytes) and 13 for this
// machine's arch.
func newMirror(t *testing.T, diskSize int) (*mirrortest.Server, []byte) {
	srv := mirrortest.New(t)
	disk := mirrortest.Payload("bookworm", diskSize)
	srv.AddDebian("/debian", "12", "bookworm", "20260810-2566", upstreamArch(), disk)
	srv.AddDebian("/debian", "13", "trixie", "20261101-0001", upstreamArch(), mirrortest.Payload("trixie", 200_000))
	return srv, disk
}

// newHarness opens a Manager over a fresh cache (or o.CacheDir) and the
// mirror, and attaches a UI in a test window; ui changes the UI's options.
func newHarness(t *testing.T, srv *mirrortest.Server, mutate func(o *core.Options), ui ...func(o *Options)) *harness {
	t.Helper()
	h := newShell(t, ui...)
	h.srv = srv
	o := testOptions(t)
	if srv != nil {
		o.Mirrors["debian"] = srv.URL + "/debian/"
		o.Mirrors["centos-stream"] = srv.URL + "/centos/"
	}
	if mutate != nil {
		mutate(&o)
	}
	m, err := core.Open(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Close)
	h.m, h.cache = m, o.CacheDir
	h.u.Attach(m)
	h.waitFor("the first cache listing", func() bool { return h.u.listed })
	return h
}

// testOptions are a Manager's options for a test: a fresh cache, and
// retries that do not wait, so that a mirror that fails fails at once.
func testOptions(t testing.TB) core.Options {
	return core.Options{CacheDir: t.TempDir(), Version: "test", Mirrors: map[string]string{},
		Backoff: func(int) time.Duration { return time.Millisecond }}
}

// newShell makes the app, the window and a UI without a Manager; ui
// changes the UI's options.
func newShell(t *testing.T, ui ...func(o *Options)) *harness {
	t.Helper()
	h := &harness{t: t, q: make(chan func(), 10000)}
	h.app = test.NewTempApp(t)
	h.win = test.NewTempWindow(t, widget.NewLabel(""))
	opt := Options{
		Do:       func(fn func()) { h.q <- fn },
		Tick:     20 * time.Millisecond,
		TrayHost: func() bool { h.mu.Lock(); defer h.mu.Unlock(); return h.trayHost },
		Reveal: func(p string) error {
			h.mu.Lock()
			defer h.mu.Unlock()
			h.revealed = append(h.revealed, p)
			return nil
		},
		Quit: func() { h.mu.Lock(); h.quits++; h.mu.Unlock() },
		GOOS: "linux",
	}
	for _, f := range ui {
		f(&opt)
	}
	h.u = New(h.app, h.win, opt)
	h.win.SetContent(h.u.Content())
	h.win.Resize(fyne.NewSize(1000, 700))
	t.Cleanup(h.u.Close)
	return h
}

// pump runs the queued UI functions.
func (h *harness) pump() {
	for {
		select {
		case fn := <-h.q:
			start := time.Now()
			fn()
			if d := time.Since(start); d > time.Second {
				h.t.Logf("a UI function took %v", d)
			}

		default:
			return
		}
	}
}

// waitFor pumps until cond holds, failing the test after 20 s.
func (h *harness) waitFor(what string, cond func() bool) {
	h.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		h.pump()
		if cond() {
			return
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// walk visits o and the visible objects inside it, depth first, until fn
// returns true.
func walk(o fyne.CanvasObject, fn func(fyne.CanvasObject) bool) bool {
	if o == nil || !o.Visible() {
		return false
	}
	if fn(o) {
		return true
	}
	var kids []fyne.CanvasObject
	switch x := o.(type) {
	case *fyne.Container:
		kids = x.Objects
	case fyne.Widget:
		kids = test.WidgetRenderer(x).Objects()
	}
	for _, k := range kids {
		if walk(k, fn) {
			return true
		}
	}
	return false
}

// texts collects the text of every visible label inside o.
func texts(o fyne.CanvasObject) string {
	var b strings.Builder
	walk(o, func(o fyne.CanvasObject) bool {
		switch x := o.(type) {
		case *widget.Label:
			b.WriteString(x.Text + "\n")
		case *widget.Button:
			b.WriteString("[" + x.Text + "]\n")
		}
		return false
	})
	return b.String()
}

// dlItem returns the visible downloads row drawing row id, or nil.
func (h *harness) dlItem(id string) *dlItem {
	var found *dlItem
	walk(h.u.dl.list, func(o fyne.CanvasObject) bool {
		if it, ok := o.(*dlItem); ok && it.rowID == id {
			found = it
			return true
		}
		return false
	})
	return found
}

// jobRow is the id of the newest job's row.
func (h *harness) jobRow() string {
	jobs := h.m.Jobs()
	if len(jobs) == 0 {
		return ""
	}
	return "job:" + itoa(jobs[len(jobs)-1].ID())
}

// cacheRow returns the texts of the visible cache row showing k.
func (h *harness) cacheRow(k cache.Key) string {
	title := h.u.imageTitle(k)
	var row string
	walk(h.u.cv.list, func(o fyne.CanvasObject) bool {
		c, ok := o.(*fyne.Container)
		if !ok || len(c.Objects) != 5 {
			return false
		}
		if l, ok := c.Objects[0].(*widget.Label); ok && l.Text == title {
			row = texts(c)
			return true
		}
		return false
	})
	return row
}

// topDialog is the dialog on top of the window, checked to be on screen.
func (h *harness) topDialog() *shownDialog {
	h.t.Helper()
	d := h.u.dialog
	if d == nil {
		return nil
	}
	if h.win.Canvas().Overlays().Top() == nil {
		h.t.Fatalf("dialog %q is recorded but the window shows no overlay", d.Title)
	}
	return d
}

// tap taps a button after checking it is visible and enabled.
func (h *harness) tap(b *widget.Button) {
	h.t.Helper()
	if b == nil || !b.Visible() || b.Disabled() {
		h.t.Fatalf("button %v is not there to tap", b)
	}
	test.Tap(b)
	h.pump()
}

// hangAfter makes the mirror send the first n bytes of files ending in
// suffix, then stall until the request is cancelled.
func hangAfter(srv *mirrortest.Server, suffix string, data []byte, n int) {
	srv.Fault = func(w http.ResponseWriter, r *http.Request) bool {
		if !strings.HasSuffix(r.URL.Path, suffix) || r.Method != http.MethodGet || r.Header.Get("Range") != "" {
			return false
		}
		w.Header().Set("Content-Length", fmt.Sprint(len(data)))
		w.Header().Set("Accept-Ranges", "bytes")
		w.Header().Set("ETag", `"`+mirrortest.SHA256(data)[:16]+`"`)
		w.WriteHeader(http.StatusOK)
		w.Write(data[:n])
		w.(http.Flusher).Flush()
		select {
		case <-r.Context().Done():
		case <-time.After(30 * time.Second):
		}
		return true
	}
}

// fakeImage writes a ready image of size bytes into the cache with the
// given pull and use times.
func fakeImage(t testing.TB, m *core.Manager, k cache.Key, size int, pulled, used time.Time) {
	t.Helper()
	dir := m.Cache().Dir(k)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	data := mirrortest.Payload(k.String(), size)
	if err := os.WriteFile(filepath.Join(dir, "disk.qcow2"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	err := m.Cache().WriteMeta(&cache.Meta{
		Distro: k.Distro, Version: k.Version, Arch: k.Arch, Build: "20260101", PulledAt: pulled, LastUsed: used,
		Assets: []cache.AssetMeta{{Role: cache.RoleDisk, File: "disk.qcow2", Size: int64(size), Format: "qcow2",
			URL:    "https://example.org/" + k.String(),
			Digest: manifest.Digest{Algorithm: manifest.SHA256, Hex: mirrortest.SHA256(data)}}},
		Signature: &cache.SignatureMeta{Status: cache.SignatureUnsigned},
	})
	if err != nil {
		t.Fatal(err)
	}
}
