package ui

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"vmimages/core"
	"vmimages/core/cache"
	"vmimages/core/config"
	"vmimages/internal/mirrortest"
)

// TestDownloadProgressThenCache taps Download on the catalog entry, sees
// the row's progress bar move, pauses and resumes, and finds the image
// ready in the cache view, with a notification.
func TestDownloadProgressThenCache(t *testing.T) {
	srv, disk := newMirror(t, 3_000_000)
	h := newHarness(t, srv, func(o *core.Options) { o.Config.Bandwidth = "1M" })
	u := h.u

	if !u.SelectEntry("debian", "12") {
		t.Fatal("debian 12 is not in the catalog view")
	}
	detail := texts(u.cat.detail)
	for _, want := range []string{"Debian 12", "Disk (qcow2).", "Firmware boot", "Checksum over plain HTTP (allowed for this mirror); not signed upstream.", "Not in the cache.", "[Download]"} {
		if !strings.Contains(detail, want) {
			t.Errorf("catalog detail lacks %q:\n%s", want, detail)
		}
	}
	if u.cat.arch.Selected != hostKey("12").Arch {
		t.Errorf("arch preselected %q, want the host's %q", u.cat.arch.Selected, hostKey("12").Arch)
	}
	h.tap(u.cat.download)
	u.ShowTab("downloads")

	// The row's bar moves: two readings strictly between 0 and 1, rising.
	var first float64
	h.waitFor("the progress bar to start", func() bool {
		it := h.dlItem(h.jobRow())
		if it == nil || !it.bar.Visible() {
			return false
		}
		first = it.bar.Value
		return first > 0 && first < 0.9
	})
	h.waitFor("the progress bar to move", func() bool {
		it := h.dlItem(h.jobRow())
		return it != nil && it.bar.Value > first
	})
	it := h.dlItem(h.jobRow())
	row := texts(it)
	if !strings.Contains(row, "Debian 12 "+hostKey("12").Arch) || !strings.Contains(row, "Downloading") || !strings.Contains(row, " of 2.9 MiB") {
		t.Errorf("downloading row reads:\n%s", row)
	}
	if !strings.Contains(texts(u.cat.detail), "Downloading:") || !u.cat.download.Disabled() {
		t.Errorf("catalog does not show the download in progress:\n%s", texts(u.cat.detail))
	}

	h.tap(it.pause)
	h.waitFor("the row to show Paused", func() bool {
		it := h.dlItem(h.jobRow())
		return it != nil && strings.HasPrefix(it.phase.Text, "Paused") && it.resume.Visible()
	})
	if _, err := h.m.SetConfig(config.Config{}); err != nil { // lift the cap
		t.Fatal(err)
	}
	test.AssertNotificationSent(t, &fyne.Notification{Title: "Download finished",
		Content: "Debian 12 " + hostKey("12").Arch + " (build 20260810-2566) is ready in the cache."}, func() {
		h.tap(h.dlItem(h.jobRow()).resume)
		h.waitFor("the row to show Done", func() bool {
			it := h.dlItem(h.jobRow())
			return it != nil && it.phase.Text == "Done"
		})
	})
	got, err := os.ReadFile(filepath.Join(h.cache, "images", "debian", "12", hostKey("12").Arch, "disk.qcow2"))
	if err != nil || !bytes.Equal(got, disk) {
		t.Fatalf("the cached disk differs from the mirror's (%v)", err)
	}

	u.ShowTab("cache")
	h.waitFor("the cache view to list the image as ready", func() bool {
		r := h.cacheRow(hostKey("12"))
		return strings.Contains(r, "ready") && strings.Contains(r, "20260810-2566") && strings.Contains(r, "2.9 MiB")
	})
	if f := texts(u.cv.footer); !strings.Contains(f, "1 image · 2.9 MiB") || !strings.Contains(f, "free on that disk") {
		t.Errorf("cache footer reads %q", f)
	}
	if !strings.Contains(texts(u.cat.detail), "Ready: build 20260810-2566") {
		t.Errorf("catalog does not show the image as cached:\n%s", texts(u.cat.detail))
	}
	if !strings.Contains(strings.Join(u.TrayLabels(), "\n"), "Cache: 2.9 MiB in 1 image") {
		t.Errorf("tray labels %q", u.TrayLabels())
	}
}

// TestCancelLeavesPartialThenDelete cancels a download half way: the cache
// view shows a partial image, which Delete (confirmed) removes.
func TestCancelLeavesPartialThenDelete(t *testing.T) {
	srv, disk := newMirror(t, 3_000_000)
	hangAfter(srv, "20260810-2566.qcow2", disk, 1<<20)
	h := newHarness(t, srv, nil)
	u := h.u
	u.SelectEntry("debian", "12")
	h.tap(u.cat.download)
	u.ShowTab("downloads")
	h.waitFor("1 MiB to arrive", func() bool {
		it := h.dlItem(h.jobRow())
		return it != nil && it.cancel.Visible() && strings.HasPrefix(it.detail.Text, "1.0 MiB of 2.9 MiB")
	})
	h.tap(h.dlItem(h.jobRow()).cancel)
	h.waitFor("the row to show Cancelled", func() bool {
		it := h.dlItem(h.jobRow())
		return it != nil && it.phase.Text == "Cancelled" && it.resume.Visible() && !it.cancel.Visible()
	})
	if d := h.topDialog(); d != nil {
		t.Errorf("cancelling opened a dialog %q", d.Title)
	}

	u.ShowTab("cache")
	k := hostKey("12")
	h.waitFor("the cache view to list the image as partial", func() bool {
		return strings.Contains(h.cacheRow(k), "partial")
	})
	if !u.cv.Select(k) {
		t.Fatal("cannot select the partial image")
	}
	h.tap(u.cv.remove)
	h.waitFor("the delete confirmation", func() bool { return h.u.dialog != nil })
	d := h.topDialog()
	if d == nil || !strings.HasPrefix(d.Title, "Delete Debian 12") || !strings.Contains(d.Text, "You can download it again") {
		t.Fatalf("no delete confirmation: %+v", d)
	}
	h.tap(d.Buttons["Delete"])
	h.waitFor("the image to leave the cache view", func() bool { return len(u.cv.all) == 0 })
	if _, err := os.Stat(h.m.Cache().Dir(k)); !os.IsNotExist(err) {
		t.Errorf("image directory still there: %v", err)
	}
	if !strings.Contains(texts(u.cv.content), "The cache is empty") {
		t.Errorf("empty cache view reads:\n%s", texts(u.cv.content))
	}
}

// TestServerErrorShowsDialog: the mirror answers 404 for the disk; the row
// shows the error and a dialog says what happened and what to do; neither
// the row nor the catalog offers a Retry or a Resume, which cannot help.
func TestServerErrorShowsDialog(t *testing.T) {
	srv, _ := newMirror(t, 100_000)
	srv.Fault = func(w http.ResponseWriter, r *http.Request) bool {
		if strings.HasSuffix(r.URL.Path, ".qcow2") {
			http.NotFound(w, r)
			return true
		}
		return false
	}
	h := newHarness(t, srv, nil)
	u := h.u
	u.SelectEntry("debian", "12")
	u.ShowTab("downloads")
	test.AssertNotificationSent(t, nil, func() {}) // resets the record
	h.tap(u.cat.download)
	h.waitFor("an error dialog", func() bool { return h.topDialog() != nil })
	d := h.topDialog()
	if d.Title != "Download failed" || !strings.Contains(d.Text, "could not be downloaded") ||
		!strings.Contains(d.Text, "404") || !strings.Contains(d.Text, "The server does not have this file") {
		t.Errorf("dialog %q reads:\n%s", d.Title, d.Text)
	}
	on := texts(h.win.Canvas().Overlays().Top())
	if !strings.Contains(on, "What to do") || !strings.Contains(on, "check its URL in Settings") {
		t.Errorf("the dialog on screen reads:\n%s", on)
	}
	h.tap(d.Buttons["Close"])
	if h.u.dialog != nil {
		t.Fatal("Close left the dialog open")
	}
	it := h.dlItem(h.jobRow())
	if it == nil || it.phase.Text != "Failed" || !it.details.Visible() || it.resume.Visible() || !strings.Contains(it.detail.Text, "404") {
		t.Fatalf("failed row reads (a 404 is not worth a Retry):\n%s", texts(it))
	}
	if st := u.cat.state.Text; !strings.HasPrefix(st, "The last download failed") || strings.Contains(st, "Resume") {
		t.Errorf("the catalog says %q", st)
	}
	h.tap(it.details)
	if d := h.topDialog(); d == nil || d.Title != "Download failed" {
		t.Fatalf("Details opened %+v", d)
	}
}

// TestResumeFromEarlierRun: an image a previous run left partial is listed
// as interrupted at start; Resume finishes it from the part file.
func TestResumeFromEarlierRun(t *testing.T) {
	srv, disk := newMirror(t, 3_000_000)
	hangAfter(srv, "20260810-2566.qcow2", disk, 1<<20)
	dir := t.TempDir()
	first := newHarness(t, srv, func(o *core.Options) { o.CacheDir = dir })
	j := first.m.Pull(context.Background(), refOf(hostKey("12")), core.PullOptions{})
	first.waitFor("1 MiB to arrive", func() bool { return j.Snapshot().BytesDone >= 1<<20 })
	first.m.Close() // the app quits mid-download
	first.u.Close()
	srv.Fault = nil

	h := newHarness(t, srv, func(o *core.Options) { o.CacheDir = dir })
	h.u.ShowTab("downloads")
	id := "partial:" + hostKey("12").String()
	h.waitFor("the interrupted download to be listed", func() bool {
		it := h.dlItem(id)
		return it != nil && it.phase.Text == "Interrupted" && it.resume.Visible()
	})
	if !strings.Contains(h.dlItem(id).detail.Text, "1.0 MiB downloaded in an earlier session") {
		t.Errorf("row reads:\n%s", texts(h.dlItem(id)))
	}
	if !strings.Contains(strings.Join(h.u.TrayLabels(), "\n"), "Resume all") {
		t.Errorf("tray labels %q", h.u.TrayLabels())
	}
	h.tap(h.dlItem(id).resume)
	h.waitFor("the resumed job to finish", func() bool {
		it := h.dlItem(h.jobRow())
		return it != nil && it.phase.Text == "Done" && h.dlItem(id) == nil
	})
	resumed := false
	for _, r := range srv.Requests() {
		resumed = resumed || strings.HasSuffix(r.Path, ".qcow2") && r.Range == "bytes=1048576-"
	}
	if !resumed {
		t.Error("the download started over instead of resuming from the part file")
	}
}

// TestBrokenSettingsFileDialog: a settings file that does not parse opens
// a dialog that names the file and offers to continue with defaults.
func TestBrokenSettingsFileDialog(t *testing.T) {
	h := newShell(t)
	path := filepath.Join(t.TempDir(), "config.toml")
	os.WriteFile(path, []byte("parallel = \"lots\"\n"), 0o644)
	cacheDir := t.TempDir()
	t.Setenv("VMIMAGES_CACHE_DIR", cacheDir)
	h.u.Open(func() (core.Options, error) { return core.LoadOptions(path, "", nil) })
	h.waitFor("the settings dialog", func() bool { return h.u.dialog != nil })
	d := h.topDialog()
	if d.Title != "The settings file has an error" || !strings.Contains(d.Text, path) ||
		!strings.Contains(d.Text, "Fix the settings file or delete it") {
		t.Fatalf("dialog %q reads:\n%s", d.Title, d.Text)
	}
	if d.Buttons["Quit"] == nil {
		t.Fatal("no Quit button")
	}
	h.tap(d.Buttons["Continue with defaults"])
	h.waitFor("the views", func() bool { return h.u.Manager() != nil && h.u.listed })
	t.Cleanup(h.u.Manager().Close)
	h.u.ShowTab("settings")
	if h.u.Manager().CacheDir() != cacheDir {
		t.Errorf("cache dir %s, want the environment's %s", h.u.Manager().CacheDir(), cacheDir)
	}
	if s := texts(h.u.set.content); !strings.Contains(s, "The settings file has an error, so VM Images started with the defaults") {
		t.Errorf("settings view does not say it cannot save:\n%s", s)
	}
	b, _ := os.ReadFile(path)
	if string(b) != "parallel = \"lots\"\n" {
		t.Errorf("the broken file was rewritten: %q", b)
	}
}

// TestQuitButtonOnBrokenCache: a cache that cannot be opened says so, and
// Quit quits.
func TestQuitButtonOnBrokenCache(t *testing.T) {
	h := newShell(t)
	file := filepath.Join(t.TempDir(), "not-a-dir")
	os.WriteFile(file, nil, 0o644)
	h.u.Open(func() (core.Options, error) { return core.Options{CacheDir: filepath.Join(file, "cache")}, nil })
	h.waitFor("the error dialog", func() bool { return h.u.dialog != nil })
	d := h.topDialog()
	if d.Title != "The cache could not be opened" || !strings.Contains(d.Text, "not-a-dir") {
		t.Errorf("dialog %q reads %q", d.Title, d.Text)
	}
	h.tap(d.Buttons["Quit"])
	if h.quits != 1 {
		t.Errorf("Quit called %d times", h.quits)
	}
}

// TestSettingsSave writes the settings file the CLI reads and says which
// changes wait for a restart; a bad mirror line is refused with its line.
func TestSettingsSave(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.toml")
	h := newHarness(t, nil, func(o *core.Options) { o.ConfigPath = path })
	s := h.u.set
	s.parallel.SetSelected("5")
	s.bandwidth.SetText("20M")
	s.convert.SetSelected("Always")
	h.tap(s.save)
	h.waitFor("the saved note", func() bool { return strings.HasPrefix(s.status.Text, "Saved.") })
	if strings.Contains(s.status.Text, "next start") {
		t.Errorf("status %q asks for a restart without cause", s.status.Text)
	}
	c, err := config.Load(path)
	if err != nil || c.Parallel != 5 || c.Bandwidth != "20M" || c.Convert != "always" {
		t.Fatalf("saved %+v, %v", c, err)
	}
	if !h.u.cat.raw.Checked {
		t.Error("convert=always did not tick the catalog's raw check")
	}

	s.mirrors.SetText("debian=https://mirror.example.org/debian/\n\n# comment\n")
	h.tap(s.save)
	h.waitFor("the restart note", func() bool { return strings.Contains(s.status.Text, "take effect at the next start") })
	c, _ = config.Load(path)
	if c.Mirrors["debian"] != "https://mirror.example.org/debian/" || c.Parallel != 5 {
		t.Errorf("saved %+v", c)
	}

	// The registry applies to the next pull; a bad address is refused.
	s.registry.SetText("oci://registry.lab:5000/vmimages")
	h.tap(s.save)
	// The file is written before the Manager takes the new settings, and
	// Save is off until both are done: wait for the button.
	h.waitFor("the registry saved", func() bool { c, _ := config.Load(path); return c.Registry != "" && !s.save.Disabled() })
	if h.m.Registry() != "oci://registry.lab:5000/vmimages" {
		t.Errorf("registry in effect: %q", h.m.Registry())
	}
	s.registry.SetText("https://registry.lab/x")
	h.tap(s.save)
	h.waitFor("a dialog about the registry", func() bool { d := h.topDialog(); return d != nil && strings.Contains(d.Text, "registry") })
	s.registry.SetText("")

	s.mirrors.SetText("debian=https://a.example/\ndebain=https://b.example/")
	h.tap(s.save)
	d := h.topDialog()
	if d == nil || !strings.Contains(d.Text, "Line 2 of Mirrors: “debain” is not a distribution") {
		t.Fatalf("bad mirror line: %+v", d)
	}
	c, _ = config.Load(path)
	if c.Mirrors["debian"] != "https://mirror.example.org/debian/" {
		t.Errorf("a refused save changed the file: %+v", c)
	}
}

// TestPruneShowsWhatWouldGo: the prune dialog lists what a policy would
// remove before anything goes, and Remove removes exactly that.
func TestPruneShowsWhatWouldGo(t *testing.T) {
	h := newHarness(t, nil, nil)
	now := time.Now()
	old := cache.Key{Distro: "debian", Version: "12", Arch: "x86_64"}
	recent := cache.Key{Distro: "debian", Version: "13", Arch: "x86_64"}
	fakeImage(t, h.m, old, 50_000, now.Add(-90*24*time.Hour), now.Add(-60*24*time.Hour))
	fakeImage(t, h.m, recent, 70_000, now.Add(-2*24*time.Hour), now.Add(-time.Hour))
	h.u.reloadCache()
	h.waitFor("two images", func() bool { return len(h.u.cv.all) == 2 })

	h.tap(h.u.cv.prune)
	p := h.u.pruneDlg
	if d := h.topDialog(); d == nil || d.Title != "Prune the cache" {
		t.Fatalf("no prune dialog: %+v", d)
	}
	if !p.remove.Disabled() || !strings.Contains(p.preview.Text, "Fill in at least one rule") {
		t.Errorf("empty policy: remove enabled=%v, preview %q", !p.remove.Disabled(), p.preview.Text)
	}
	test.Type(p.olderThan, "abc")
	if !strings.Contains(p.preview.Text, "is not a duration such as 30d") || !p.remove.Disabled() {
		t.Errorf("bad duration: preview %q", p.preview.Text)
	}
	p.olderThan.SetText("30d")
	h.waitFor("the dry run", func() bool { return !p.remove.Disabled() })
	list := texts(p.items)
	if !strings.Contains(p.preview.Text, "Would remove 1 image, freeing") || !strings.Contains(list, "Debian 12 x86_64") || strings.Contains(list, "Debian 13") {
		t.Fatalf("preview %q, list:\n%s", p.preview.Text, list)
	}
	if _, err := os.Stat(h.m.Cache().Dir(old)); err != nil {
		t.Fatal("the dry run removed the image")
	}
	h.tap(p.remove)
	h.waitFor("the result", func() bool { d := h.u.dialog; return d != nil && d.Title == "Cache pruned" })
	if !strings.HasPrefix(h.u.dialog.Text, "Removed 1 image and freed") {
		t.Errorf("result reads %q", h.u.dialog.Text)
	}
	h.waitFor("the listing to drop the image", func() bool { return len(h.u.cv.all) == 1 })
	if h.u.cv.all[0].Key != recent {
		t.Errorf("kept %v", h.u.cv.all[0].Key)
	}
}

// TestVerifyRevealCopy: Verify reports a good image and a damaged one;
// Show in folder hands over the image's folder; Copy path offers the
// image's files, the disk first, and the folder.
func TestVerifyRevealCopy(t *testing.T) {
	h := newHarness(t, nil, nil)
	good := cache.Key{Distro: "debian", Version: "12", Arch: "x86_64"}
	bad := cache.Key{Distro: "debian", Version: "13", Arch: "x86_64"}
	fakeImage(t, h.m, good, 300_000, time.Now(), time.Now())
	fakeImage(t, h.m, bad, 300_000, time.Now(), time.Now())
	f, _ := os.OpenFile(filepath.Join(h.m.Cache().Dir(bad), "disk.qcow2"), os.O_WRONLY, 0)
	f.WriteAt([]byte("rot"), 1000)
	f.Close()
	h.u.reloadCache()
	h.waitFor("two images", func() bool { return len(h.u.cv.all) == 2 })
	cv := h.u.cv
	h.u.ShowTab("cache")

	cv.Select(good)
	h.tap(cv.verify)
	h.waitFor("the verify result", func() bool { return strings.Contains(h.cacheRow(good), "verified just now") })
	if h.u.dialog != nil {
		t.Errorf("a good image opened a dialog: %q", h.u.dialog.Text)
	}
	cv.Select(bad)
	h.tap(cv.verify)
	h.waitFor("the damage dialog", func() bool { return h.u.dialog != nil })
	if d := h.topDialog(); !strings.Contains(d.Title, "is damaged") || !strings.Contains(d.Text, "Delete the image and download it again") {
		t.Errorf("dialog %q: %s", d.Title, d.Text)
	}
	h.tap(h.u.dialog.Buttons["Close"])
	if !strings.Contains(h.cacheRow(bad), "1 problem") {
		t.Errorf("row reads %q", h.cacheRow(bad))
	}

	cv.Select(good)
	h.tap(cv.copyPath) // a menu of the image's files, the disk first
	pop := h.win.Canvas().Overlays().Top()
	if pop == nil {
		t.Fatal("Copy path opened no menu")
	}
	im, _ := cv.selected()
	menu := cv.copyMenu(im)
	if n := len(menu.Items); n != 2 || menu.Items[0].Label != "Disk (qcow2) — disk.qcow2" || menu.Items[1].Label != "Folder" {
		t.Errorf("Copy path offers %d items, first %q", n, menu.Items[0].Label)
	}
	menu.Items[0].Action()
	if got := h.app.Clipboard().Content(); got != filepath.Join(h.m.Cache().Dir(good), "disk.qcow2") {
		t.Errorf("clipboard %q, want the disk's path", got)
	}
	h.win.Canvas().Overlays().Remove(pop)
	h.tap(cv.reveal)
	h.waitFor("the file manager", func() bool { h.mu.Lock(); defer h.mu.Unlock(); return len(h.revealed) == 1 })
	if h.revealed[0] != h.m.Cache().Dir(good) {
		t.Errorf("revealed %q", h.revealed[0])
	}

	// Verify all sums up in one dialog.
	h.tap(cv.verifyAll)
	h.waitFor("the summary", func() bool { d := h.u.dialog; return d != nil && d.Title == "Some images are damaged" })
	if !strings.Contains(h.u.dialog.Text, "1 of 2 images failed verification: Debian 13 x86_64") {
		t.Errorf("summary reads %q", h.u.dialog.Text)
	}
}

// TestConvertToRaw converts a real qcow2 made by qemu-img from the cache
// view.
func TestConvertToRaw(t *testing.T) {
	qemu, err := exec.LookPath("qemu-img")
	if err != nil {
		t.Skip("qemu-img is not installed (Debian: qemu-utils)")
	}
	img := filepath.Join(t.TempDir(), "disk.qcow2")
	if out, err := exec.Command(qemu, "create", "-f", "qcow2", img, "16M").CombinedOutput(); err != nil {
		t.Fatalf("qemu-img create: %v\n%s", err, out)
	}
	disk, _ := os.ReadFile(img)
	srv := mirrortest.New(t)
	srv.AddDebian("/debian", "12", "bookworm", "20260810-2566", upstreamArch(), disk)
	h := newHarness(t, srv, nil)
	k := hostKey("12")
	if _, err := h.m.Pull(context.Background(), refOf(k), core.PullOptions{}).Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	h.u.reloadCache()
	h.waitFor("the image", func() bool { return len(h.u.cv.all) == 1 })
	h.u.ShowTab("cache")
	h.u.cv.Select(k)
	h.tap(h.u.cv.convert)
	start := time.Now()
	h.waitFor("the conversion", func() bool {
		if d := h.u.dialog; d != nil {
			t.Fatalf("convert failed: %s", d.Text)
		}
		if time.Since(start) > 15*time.Second {
			t.Fatalf("row %q, ops %v, results %v", h.cacheRow(k), h.u.cv.ops, h.u.cv.results)
		}
		return strings.Contains(h.cacheRow(k), "converted to raw")
	})
	fi, err := os.Stat(filepath.Join(h.m.Cache().Dir(k), "disk.raw"))
	if err != nil || fi.Size() != 16<<20 {
		t.Fatalf("disk.raw: %v %v", fi, err)
	}
	h.waitFor("the raw disk in the listing", func() bool { return h.u.cv.convert.Text == "Raw disk present" && h.u.cv.convert.Disabled() })
}

// TestConvertWithoutQemuImg (issue 9, item 8): without qemu-img, Convert
// is disabled and says how to install it, and so is the catalog's raw
// choice.
func TestConvertWithoutQemuImg(t *testing.T) {
	h := newHarness(t, nil, func(o *core.Options) { o.QemuImg = filepath.Join(t.TempDir(), "no-qemu-img") })
	k := cache.Key{Distro: "debian", Version: "12", Arch: "x86_64"}
	fakeImage(t, h.m, k, 1000, time.Now(), time.Now())
	h.u.reloadCache()
	h.waitFor("the image", func() bool { return len(h.u.cv.all) == 1 })
	h.u.cv.Select(k)
	h.pump()
	if !h.u.cv.convert.Disabled() {
		t.Error("Convert is enabled without qemu-img")
	}
	if s := h.u.cv.selStatus.Text; !strings.Contains(s, "needs qemu-img: install it") || !strings.Contains(s, "qemu-utils") {
		t.Errorf("the cache pane says %q", s)
	}
	h.u.SelectEntry("debian", "13")
	if !h.u.cat.raw.Disabled() || !h.u.cat.rawHint.Visible() {
		t.Error("the catalog offers the raw conversion without qemu-img")
	}
}

// TestCatalogSearchAndArch filters the tree and describes a direct-kernel,
// signed entry.
func TestCatalogSearchAndArch(t *testing.T) {
	h := newHarness(t, nil, nil)
	c := h.u.cat
	test.Type(c.search, "trixie")
	if got := c.children[""]; len(got) != 1 || got[0] != "d:debian" || len(c.children["d:debian"]) != 1 {
		t.Errorf("search trixie shows %v / %v", got, c.children["d:debian"])
	}
	c.search.SetText("no such thing")
	if !c.noMatch.Visible() || !strings.Contains(c.noMatch.Text, "No image matches “no such thing”") {
		t.Errorf("no-match label %q visible=%v", c.noMatch.Text, c.noMatch.Visible())
	}
	c.search.SetText("")
	c.archFilter.SetSelected("aarch64")
	for _, d := range c.children[""] {
		if d == "d:arch" {
			t.Error("Arch Linux (x86_64 only) is listed for aarch64")
		}
	}
	c.archFilter.SetSelected(allArches)
	if !h.u.SelectEntry("ubuntu", "24.04") {
		t.Fatal("no ubuntu 24.04")
	}
	detail := texts(c.detail)
	for _, want := range []string{"Kernel; initramfs, when published; disk (qcow2).", "Direct kernel boot", "OpenPGP-signed checksums", "“noble”"} {
		if !strings.Contains(detail, want) {
			t.Errorf("ubuntu detail lacks %q:\n%s", want, detail)
		}
	}
	if len(c.arch.Options) < 2 {
		t.Errorf("arch choices %v", c.arch.Options)
	}
}

// TestCloseKeepsAppInTray: with a tray host the close button hides the
// window; without one it quits.
func TestCloseKeepsAppInTray(t *testing.T) {
	h := newHarness(t, nil, nil)
	h.trayHost = true
	h.u.CloseRequested()
	h.waitFor("the close to be handled", func() bool { return h.u.hintedTray })
	if h.quits != 0 {
		t.Error("closing quit although a tray host is present")
	}
	h.mu.Lock()
	h.trayHost = false
	h.mu.Unlock()
	h.u.CloseRequested()
	h.waitFor("the quit", func() bool { h.mu.Lock(); defer h.mu.Unlock(); return h.quits == 1 })
}

// TestTrayMenu lists the labels the tray shows, follows an active download
// and refreshes the D-Bus menu at most once a second.
func TestTrayMenu(t *testing.T) {
	srv, disk := newMirror(t, 3_000_000)
	hangAfter(srv, "20260810-2566.qcow2", disk, 1<<20)
	h := newHarness(t, srv, nil)
	refreshes := 0
	h.u.EnableTray(func() { refreshes++ })
	labels := strings.Join(h.u.TrayLabels(), "\n")
	for _, want := range []string{"Open VM Images", "No active downloads", "Cache: 0 B in 0 images", "Verify cache", "Prune…", "Pause all", "Resume all", "Quit"} {
		if !strings.Contains(labels, want) {
			t.Errorf("tray lacks %q:\n%s", want, labels)
		}
	}
	h.u.Pull(refOf(hostKey("12")), false)
	want := "Debian 12 " + hostKey("12").Arch + " — 34%"
	h.waitFor("the download in the tray", func() bool { return strings.Contains(strings.Join(h.u.TrayLabels(), "\n"), want) })
	start, n := time.Now(), refreshes
	for time.Since(start) < 1500*time.Millisecond {
		h.pump()
		time.Sleep(5 * time.Millisecond)
	}
	if refreshes-n > 2 {
		t.Errorf("%d tray refreshes in 1.5 s", refreshes-n)
	}
	for _, it := range h.u.TrayMenu().Items {
		if it.Label == "Pause all" && it.Disabled {
			t.Error("Pause all is disabled during a download")
		}
	}
}

// TestManyImagesStayCheap: with 500 cached images and 5 downloads, a tick
// refreshes only the download rows and the cache rows (the downloading
// images) that changed, and never rebuilds the cache list.
func TestManyImagesStayCheap(t *testing.T) {
	srv := mirrortest.New(t)
	var refs []cache.Key
	for _, v := range []struct{ ver, code string }{{"12", "bookworm"}, {"13", "trixie"}} {
		dir := "/debian/" + v.code + "/20260810-2566/"
		files := map[string][]byte{}
		for _, a := range []struct{ up, canon string }{{"amd64", "x86_64"}, {"arm64", "aarch64"}} {
			name := "debian-" + v.ver + "-genericcloud-" + a.up + "-20260810-2566.qcow2"
			files[name] = mirrortest.Payload(v.ver+a.up, 8_000_000)
			srv.Put(dir+name, files[name])
			refs = append(refs, cache.Key{Distro: "debian", Version: v.ver, Arch: a.canon})
		}
		srv.Put(dir+"SHA512SUMS", mirrortest.GNU(false, mirrortest.SHA512, files))
	}
	centos := mirrortest.Payload("centos", 8_000_000)
	name := "CentOS-Stream-GenericCloud-9-20261020.0.x86_64.qcow2"
	srv.Put("/centos/9-stream/x86_64/images/"+name, centos)
	srv.Put("/centos/9-stream/x86_64/images/CHECKSUM", mirrortest.BSD(map[string][]byte{name: centos}))
	refs = append(refs, cache.Key{Distro: "centos-stream", Version: "9", Arch: "x86_64"})

	h := newHarness(t, srv, func(o *core.Options) { o.Config.Bandwidth = "1M"; o.Config.Parallel = 5 })
	now := time.Now()
	for i := range 500 {
		fakeImage(t, h.m, cache.Key{Distro: "fedora", Version: itoa(1000 + i), Arch: "x86_64"}, 4096, now, now)
	}
	h.u.reloadCache()
	h.waitFor("500 images", func() bool { return len(h.u.cv.all) == 500 })
	h.u.ShowTab("downloads")
	for _, k := range refs {
		h.u.Pull(refOf(k), false)
	}
	h.waitFor("5 downloads moving", func() bool {
		moving := 0
		if d := h.u.dialog; d != nil {
			t.Fatalf("a dialog: %s", d.Text)
		}
		for _, j := range h.m.Jobs() {
			if s := j.Snapshot(); s.Phase == core.PhaseDownloading && s.BytesDone > 0 {
				moving++
			}
		}
		return moving == 5
	})
	before := h.u.stats
	var worst time.Duration
	for range 20 {
		h.u.tickBusy.Store(false)
		h.u.tick()
		select {
		case fn := <-h.q:
			start := time.Now()
			fn()
			worst = max(worst, time.Since(start))
		case <-time.After(100 * time.Millisecond): // nothing changed: no tick posted
		}
		h.pump()
		time.Sleep(30 * time.Millisecond)
	}
	after := h.u.stats
	ticks := after.ticks - before.ticks
	if got := after.downloadRows - before.downloadRows; got > 5*ticks || got == 0 || after.fullDownloads != before.fullDownloads {
		t.Errorf("%d download row refreshes and %d full refreshes in %d ticks with 5 jobs", got, after.fullDownloads-before.fullDownloads, ticks)
	}
	if after.fullCache != before.fullCache || after.cacheRows-before.cacheRows > 5*ticks {
		t.Errorf("ticks rebuilt the cache list (%d→%d full, %d→%d rows)", before.fullCache, after.fullCache, before.cacheRows, after.cacheRows)
		for _, j := range h.m.Jobs() {
			s := j.Snapshot()
			t.Logf("job %s: %s %d/%d %v", s.Title, s.Phase, s.BytesDone, s.BytesTotal, s.Err)
		}
	}
	t.Logf("slowest tick on the UI thread: %v", worst)
	if len(h.u.dl.rows) != 5 {
		t.Errorf("%d download rows", len(h.u.dl.rows))
	}
}

// TestIdleTicksPostNothing: with nothing changing, the ticker leaves Fyne's
// thread alone.
func TestIdleTicksPostNothing(t *testing.T) {
	srv, _ := newMirror(t, 100_000)
	h := newHarness(t, srv, nil)
	h.u.Pull(refOf(hostKey("12")), false)
	h.waitFor("the pull to finish", func() bool {
		jobs := h.m.Jobs()
		return len(jobs) == 1 && jobs[0].Snapshot().Phase == core.PhaseDone && h.u.stats.ticks > 0
	})
	time.Sleep(100 * time.Millisecond)
	h.pump()
	before := h.u.stats.ticks
	for range 20 {
		time.Sleep(20 * time.Millisecond)
		h.pump()
	}
	if n := h.u.stats.ticks - before; n != 0 {
		t.Errorf("%d ticks applied in 400 ms with nothing changing", n)
	}
}
