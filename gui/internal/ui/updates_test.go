package ui

import (
	"context"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/widget"

	"vmimages/core"
	"vmimages/internal/mirrortest"
)

// Builds the mirror publishes after the cache took 20260810-2566.
const (
	buildB = "20260901-2600"
	buildC = "20261001-2700"
)

// cacheDebian12 pulls Debian 12 from srv into a cache folder with a
// Manager of its own, as an earlier run would have, and returns the folder.
func cacheDebian12(t *testing.T, srv *mirrortest.Server) string {
	t.Helper()
	o := testOptions(t)
	o.Mirrors["debian"] = srv.URL + "/debian/"
	m, err := core.Open(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	img, err := m.Pull(context.Background(), refOf(hostKey("12")), core.PullOptions{}).Wait(context.Background())
	if err != nil || img.Build != "20260810-2566" {
		t.Fatalf("caching debian 12: %+v, %v", img, err)
	}
	return o.CacheDir
}

// trayItem is the tray menu's item whose label starts with prefix, or nil.
func (h *harness) trayItem(prefix string) *fyne.MenuItem {
	for _, it := range h.u.TrayMenu().Items {
		if strings.HasPrefix(it.Label, prefix) {
			return it
		}
	}
	return nil
}

// treeTexts is what the catalog tree shows on screen.
func (h *harness) treeTexts() string { return texts(h.u.cat.tree) }

// TestUpdateBadgeThenUpdate: the cache holds Debian 12 build A and the
// mirror gains build B. The check after start marks it in the cache view,
// the tray and the catalog; "Update to B" pulls it with Update, after
// which the badge is gone; "Check for update" then looks upstream, says
// the build is the newest, and offers build C once the mirror has it.
func TestUpdateBadgeThenUpdate(t *testing.T) {
	srv, _ := newMirror(t, 100_000)
	dir := cacheDebian12(t, srv)
	srv.AddDebian("/debian", "12", "bookworm", buildB, upstreamArch(), mirrortest.Payload("bookworm B", 120_000))

	h := newHarness(t, srv, func(o *core.Options) { o.CacheDir = dir })
	u, k := h.u, hostKey("12")
	refreshes := 0
	u.EnableTray(func() { refreshes++ })
	u.ShowTab("cache")
	h.waitFor("the update badge in the cache view", func() bool { return strings.Contains(h.cacheRow(k), "update "+buildB) })
	row := h.cacheRow(k)
	if !strings.Contains(row, "ready · update "+buildB) || !strings.Contains(row, "20260810-2566") {
		t.Errorf("cache row reads:\n%s", row)
	}
	var state *widget.Label
	walk(u.cv.list, func(o fyne.CanvasObject) bool {
		if l, ok := o.(*widget.Label); ok && strings.HasPrefix(l.Text, "ready · update") {
			state = l
			return true
		}
		return false
	})
	if state == nil || state.Importance != widget.WarningImportance {
		t.Errorf("the State cell is not in the warning colour: %+v", state)
	}
	if !u.cv.updLine.Visible() || !strings.HasPrefix(u.cv.updLine.Text, "1 image has a newer build upstream") {
		t.Errorf("cache footer update line %q (visible %v)", u.cv.updLine.Text, u.cv.updLine.Visible())
	}
	h.waitFor("the tray line", func() bool { return h.trayItem("Updates:") != nil })
	if it := h.trayItem("Updates:"); it.Label != "Updates: 1 image has a newer build" {
		t.Errorf("tray line %q", it.Label)
	}
	if d := h.topDialog(); d != nil {
		t.Errorf("the check opened a dialog %q", d.Title)
	}

	// The tray line opens the Cache tab on the image.
	u.ShowTab("catalog")
	h.trayItem("Updates:").Action()
	if u.tabs.Selected() != u.tabItems["cache"] || !u.cv.hasSel || u.cv.sel != k {
		t.Errorf("the tray line shows tab %q, selection %v %v", u.tabs.Selected().Text, u.cv.hasSel, u.cv.sel)
	}
	if !u.cv.update.Visible() || u.cv.update.Text != "Update to "+buildB {
		t.Errorf("cache pane's update button: %q visible=%v", u.cv.update.Text, u.cv.update.Visible())
	}

	// The catalog offers the update.
	u.ShowTab("catalog")
	if !u.SelectEntry("debian", "12") {
		t.Fatal("no debian 12")
	}
	detail := texts(u.cat.detail)
	for _, want := range []string{"Ready: build 20260810-2566", "Newer build " + buildB + " available upstream.", "[Update to " + buildB + "]"} {
		if !strings.Contains(detail, want) {
			t.Errorf("catalog detail lacks %q:\n%s", want, detail)
		}
	}
	if b := u.cat.badges[versionNode("debian", "12")]; b != "update" || !strings.Contains(h.treeTexts(), "\nupdate\n") {
		t.Errorf("tree badge %q; tree shows:\n%s", b, h.treeTexts())
	}

	before := srv.Count(buildB + ".qcow2")
	h.tap(u.cat.download)
	u.ShowTab("cache")
	h.waitFor("build B in the cache without a badge", func() bool {
		r := h.cacheRow(k)
		return strings.Contains(r, buildB) && strings.Contains(r, "ready") && !strings.Contains(r, "update")
	})
	if srv.Count(buildB+".qcow2") <= before {
		t.Error("the update did not fetch the new disk")
	}
	jobs := h.m.Jobs()
	if len(jobs) != 1 || jobs[0].Snapshot().Build != buildB {
		t.Fatalf("jobs after the update: %d", len(jobs))
	}
	if strings.Contains(h.cacheRow(k), "20260810-2566") {
		t.Errorf("the old build is still listed:\n%s", h.cacheRow(k))
	}
	h.waitFor("the tray line to go", func() bool { return h.trayItem("Updates:") == nil })
	if u.cv.updLine.Visible() {
		t.Errorf("the footer still reads %q", u.cv.updLine.Text)
	}
	if b := u.cat.badges[versionNode("debian", "12")]; b != "ready" {
		t.Errorf("tree badge after the update %q", b)
	}

	// Check for update looks upstream again: nothing newer.
	u.ShowTab("catalog")
	h.waitFor("the Check for update button", func() bool { return u.cat.download.Text == "Check for update" && !u.cat.download.Disabled() })
	if s := u.cat.state.Text; !strings.HasPrefix(s, "Ready: build "+buildB) {
		t.Errorf("catalog state %q", s)
	}
	asked := len(srv.Requests())
	h.tap(u.cat.download)
	h.waitFor("the check's answer", func() bool { return strings.Contains(u.cat.state.Text, "This is the newest build upstream.") })
	if len(srv.Requests()) == asked {
		t.Error("Check for update did not ask the mirror")
	}
	if u.cat.download.Text != "Check for update" {
		t.Errorf("button %q", u.cat.download.Text)
	}

	// A newer build appears: Check for update offers it.
	srv.AddDebian("/debian", "12", "bookworm", buildC, upstreamArch(), mirrortest.Payload("bookworm C", 90_000))
	h.tap(u.cat.download)
	h.waitFor("the offer of build C", func() bool { return u.cat.download.Text == "Update to "+buildC })
	if s := u.cat.state.Text; !strings.Contains(s, "Newer build "+buildC+" available upstream.") || strings.Contains(s, "newest build") {
		t.Errorf("catalog state %q", s)
	}

	// The cache pane's Update button fetches it too.
	u.ShowTab("cache")
	u.cv.Select(k)
	if u.cv.update.Text != "Update to "+buildC {
		t.Fatalf("cache pane's update button %q", u.cv.update.Text)
	}
	h.tap(u.cv.update)
	h.waitFor("build C in the cache without a badge", func() bool {
		r := h.cacheRow(k)
		return strings.Contains(r, buildC) && !strings.Contains(r, "update")
	})
	if u.cv.update.Visible() {
		t.Error("the Update button stays after the update")
	}
	if refreshes == 0 {
		t.Error("the tray menu was never redrawn")
	}
}

// TestUpdateCheckFailureIsQuiet: a mirror that fails makes the check say
// so in one line of the cache footer, without a dialog; the catalog's
// Check for update says it too, and a later good check clears both.
func TestUpdateCheckFailureIsQuiet(t *testing.T) {
	srv, _ := newMirror(t, 100_000)
	dir := cacheDebian12(t, srv)
	srv.SetFault(func(w http.ResponseWriter, r *http.Request) bool {
		http.Error(w, "mirror down for maintenance\nback soon", http.StatusServiceUnavailable)
		return true
	})
	h := newHarness(t, srv, func(o *core.Options) { o.CacheDir = dir })
	u, k := h.u, hostKey("12")
	h.waitFor("the footer line", func() bool { return u.cv.updLine.Visible() })
	line := u.cv.updLine.Text
	if !strings.HasPrefix(line, "Could not check for updates: Debian 12 "+k.Arch+": ") || strings.Contains(line, "\n") {
		t.Errorf("footer line %q", line)
	}
	if u.cv.updLine.Truncation != fyne.TextTruncateEllipsis || u.cv.updLine.Wrapping != fyne.TextWrapOff {
		t.Error("the footer line may take more than one line")
	}
	if d := h.topDialog(); d != nil {
		t.Errorf("a failed check opened a dialog %q: %s", d.Title, d.Text)
	}
	if h.trayItem("Updates:") != nil || strings.Contains(h.cacheRow(k), "update") {
		t.Errorf("a failed check shows an update: %q", h.cacheRow(k))
	}

	u.SelectEntry("debian", "12")
	h.waitFor("the Check for update button", func() bool { return u.cat.download.Text == "Check for update" && !u.cat.download.Disabled() })
	h.tap(u.cat.download)
	h.waitFor("the check's answer", func() bool { return strings.Contains(u.cat.state.Text, "Could not check for a newer build: ") })

	srv.SetFault(nil)
	h.tap(u.cat.download)
	h.waitFor("a good check", func() bool { return strings.Contains(u.cat.state.Text, "This is the newest build upstream.") })
	if u.cv.updLine.Visible() {
		t.Errorf("the footer still reads %q", u.cv.updLine.Text)
	}
}

// TestUpdateCheckRepeats: the periodic check finds a build that appeared
// upstream after the check at start, with no pull in between.
func TestUpdateCheckRepeats(t *testing.T) {
	srv, _ := newMirror(t, 100_000)
	dir := cacheDebian12(t, srv)
	h := newHarness(t, srv, func(o *core.Options) { o.CacheDir = dir },
		func(o *Options) { o.UpdateEvery = 200 * time.Millisecond })
	h.waitFor("the first check", func() bool { return h.u.upd.started >= 1 && !h.u.upd.checking })
	if len(h.u.pendingUpdates()) != 0 {
		t.Fatal("an update before the mirror had one")
	}
	srv.AddDebian("/debian", "12", "bookworm", buildB, upstreamArch(), mirrortest.Payload("bookworm B", 120_000))
	h.waitFor("a later check to find build B", func() bool { return h.trayItem("Updates: 1 image") != nil })
	if n := len(h.m.Jobs()); n != 0 {
		t.Errorf("%d jobs: the check pulled", n)
	}
}

// TestUpdateChecksNeverOverlap: checks asked for while one runs make one
// more run after it, never a second at the same time.
func TestUpdateChecksNeverOverlap(t *testing.T) {
	srv, _ := newMirror(t, 100_000)
	dir := cacheDebian12(t, srv)
	var mu sync.Mutex
	inFlight, most := 0, 0
	srv.SetFault(func(w http.ResponseWriter, r *http.Request) bool {
		if !strings.HasSuffix(r.URL.Path, "/bookworm/") {
			return false
		}
		mu.Lock()
		inFlight++
		most = max(most, inFlight)
		mu.Unlock()
		time.Sleep(100 * time.Millisecond)
		mu.Lock()
		inFlight--
		mu.Unlock()
		return false
	})
	h := newHarness(t, srv, func(o *core.Options) { o.CacheDir = dir }, func(o *Options) { o.UpdateEvery = -1 })
	u := h.u
	if !u.upd.checking || u.upd.started != 1 {
		t.Fatalf("no check after the first listing: %+v", u.upd)
	}
	for range 5 {
		u.checkUpdates()
	}
	h.waitFor("the checks to end", func() bool { return !u.upd.checking })
	mu.Lock()
	defer mu.Unlock()
	if u.upd.started != 2 || most != 1 {
		t.Errorf("%d checks ran, at most %d at once; want 2, 1", u.upd.started, most)
	}
}

// refreshMirror serves Ubuntu's simplestreams (which give 26.10 "stonking" its end of life)
// and listings for Fedora, Alpine, Rocky and AlmaLinux, and points the
// Manager's mirrors for them at it.
func refreshMirror(t *testing.T) (*mirrortest.Server, func(o *core.Options)) {
	srv := mirrortest.New(t)
	for path, file := range map[string]string{
		"/ubuntu/streams/v1/index.json":                              "index.json",
		"/ubuntu/streams/v1/com.ubuntu.cloud:released:download.json": "com.ubuntu.cloud-released-download.json",
	} {
		b, err := os.ReadFile("../../../core/discover/testdata/" + file)
		if err != nil {
			t.Fatal(err)
		}
		srv.Put(path, b)
	}
	for _, p := range []string{"/fedora/44/x", "/fedora/45/x", "/alpine/v3.23/x", "/alpine/v3.24/x", "/rocky/10/x", "/almalinux/10/x"} {
		srv.Put(p, []byte("x"))
	}
	return srv, func(o *core.Options) {
		for _, d := range []string{"ubuntu", "fedora", "alpine", "rocky", "almalinux"} {
			o.Mirrors[d] = srv.URL + "/" + d + "/"
		}
	}
}

// TestCatalogRefresh: Refresh catalog adds the release upstream has to the
// tree and says so; with the mirror gone it says nobody answered and which
// catalog is in use.
func TestCatalogRefresh(t *testing.T) {
	srv, mirrors := refreshMirror(t)
	h := newHarness(t, nil, mirrors)
	c := h.u.cat
	if s := c.sourceLine.Text; !strings.Contains(s, "the catalog built into this version") || strings.Contains(s, "vmimages catalog") {
		t.Errorf("source line %q", s)
	}
	if slices.Contains(c.children["d:fedora"], versionNode("fedora", "45")) {
		t.Fatal("fedora 45 is in the tree before the refresh")
	}
	h.tap(c.refresh)
	if !c.refresh.Disabled() {
		t.Error("Refresh catalog can be pressed twice")
	}
	h.waitFor("the refresh", func() bool { return !c.refreshing })
	if s := c.refreshLine.Text; !c.refreshLine.Visible() || !strings.HasPrefix(s, "New: ") || !strings.Contains(s, "fedora 45") {
		t.Errorf("result line %q (visible %v)", s, c.refreshLine.Visible())
	}
	if !slices.Contains(c.children["d:fedora"], versionNode("fedora", "45")) {
		t.Errorf("fedora's versions in the tree: %v", c.children["d:fedora"])
	}
	if !h.u.SelectEntry("fedora", "45") {
		t.Fatal("fedora 45 cannot be selected")
	}
	if tree := h.treeTexts(); !strings.Contains(tree, "45") {
		t.Errorf("the tree shows:\n%s", tree)
	}
	if !strings.Contains(texts(c.detail), "Fedora Cloud 45") {
		t.Errorf("detail:\n%s", texts(c.detail))
	}
	if s := c.sourceLine.Text; !strings.Contains(s, "updated from upstream on") {
		t.Errorf("source line after the refresh %q", s)
	}

	srv.Close()
	h.tap(c.refresh)
	h.waitFor("the offline refresh", func() bool { return !c.refreshing })
	if s := c.refreshLine.Text; !strings.HasPrefix(s, "No distribution answered; using the built-in catalog updated from upstream on") {
		t.Errorf("offline result line %q", s)
	}
	if !slices.Contains(c.children["d:fedora"], versionNode("fedora", "45")) {
		t.Error("fedora 45 left the tree when the mirror went away")
	}
	if d := h.topDialog(); d != nil {
		t.Errorf("a dialog %q", d.Title)
	}
}

// TestCatalogRefreshOffline: with no upstream answering and no earlier
// refresh, the built-in catalog stays and the line says so.
func TestCatalogRefreshOffline(t *testing.T) {
	srv, mirrors := refreshMirror(t)
	srv.Close()
	h := newHarness(t, nil, mirrors)
	c := h.u.cat
	before := len(c.children["d:ubuntu"])
	h.tap(c.refresh)
	h.waitFor("the refresh", func() bool { return !c.refreshing })
	if s := c.refreshLine.Text; s != "No distribution answered; using the catalog built into this version." {
		t.Errorf("result line %q", s)
	}
	if c.refreshLine.Importance != widget.WarningImportance {
		t.Errorf("result line importance %v", c.refreshLine.Importance)
	}
	if len(c.children["d:ubuntu"]) != before || c.refresh.Disabled() || c.refresh.Text != "Refresh catalog" {
		t.Errorf("tree %v, button %q disabled=%v", c.children["d:ubuntu"], c.refresh.Text, c.refresh.Disabled())
	}
}
