package ui

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/test"

	"vmimages/core"
	"vmimages/core/cache"
	"vmimages/core/catalog"
	"vmimages/core/config"
	"vmimages/core/download"
	"vmimages/core/qemuimg"
	"vmimages/core/trust"
)

// shortcut types a keyboard shortcut on the window.
func (h *harness) shortcut(key fyne.KeyName, mod fyne.KeyModifier) {
	h.t.Helper()
	sc, ok := h.win.Canvas().(fyne.Shortcutable)
	if !ok {
		h.t.Fatal("the test canvas takes no shortcuts")
	}
	sc.TypedShortcut(&desktop.CustomShortcut{KeyName: key, Modifier: mod})
	h.pump()
}

// quits is how many times the UI asked the app to quit.
func (h *harness) quitCount() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.quits
}

// TestQuitFromTrayAndKeyboard (issue 9, items 1 and 4): the tray's Quit
// item has its own action and quits; Ctrl+Q quits at once when nothing
// runs, and asks first while a download runs; so does closing the window
// without a tray host.
func TestQuitFromTrayAndKeyboard(t *testing.T) {
	srv, disk := newMirror(t, 3_000_000)
	hangAfter(srv, "20260810-2566.qcow2", disk, 1<<20)
	h := newHarness(t, srv, nil)

	var quit *fyne.MenuItem
	for _, s := range h.u.TraySlots() {
		if s.Item.IsQuit {
			if quit != nil {
				t.Fatal("two Quit items in the tray menu")
			}
			quit = s.Item
		}
	}
	if quit == nil || quit.Action == nil {
		t.Fatalf("the tray's Quit item has no action: %+v", quit)
	}
	quit.Action()
	if h.quitCount() != 1 {
		t.Fatalf("the tray's Quit did not quit")
	}
	h.shortcut(fyne.KeyQ, fyne.KeyModifierShortcutDefault)
	if h.quitCount() != 2 {
		t.Fatalf("Ctrl+Q did not quit with nothing running")
	}

	h.u.Pull(refOf(hostKey("12")), false)
	h.waitFor("the download to run", func() bool { return len(h.u.activeJobs()) == 1 })
	h.shortcut(fyne.KeyQ, fyne.KeyModifierShortcutDefault)
	d := h.topDialog()
	if d == nil || d.Title != "1 download in progress — quit anyway?" || !strings.Contains(d.Text, "resumes where it stopped the next time") {
		t.Fatalf("Ctrl+Q during a download: dialog %+v, quits %d", d, h.quitCount())
	}
	if h.quitCount() != 2 {
		t.Fatal("Ctrl+Q quit without asking during a download")
	}
	h.tap(d.Buttons["Keep running"])
	if h.quitCount() != 2 || h.u.dialog != nil {
		t.Fatal("Keep running quit or left the dialog open")
	}

	h.u.CloseRequested() // no tray host
	h.waitFor("the question", func() bool { return h.u.dialog != nil })
	d = h.topDialog()
	if d.Title != "1 download in progress — quit anyway?" || h.quitCount() != 2 {
		t.Fatalf("closing without a tray during a download: dialog %q, quits %d", d.Title, h.quitCount())
	}
	h.tap(d.Buttons["Quit"])
	if h.quitCount() != 3 {
		t.Fatal("the dialog's Quit did not quit")
	}
}

// TestSelectionAfterDelete (issue 9, item 5): after deleting the selected
// image, no row stays highlighted, and selecting the row that now holds
// the next image shows that image.
func TestSelectionAfterDelete(t *testing.T) {
	h := newHarness(t, nil, nil)
	now := time.Now()
	a, b := hostKey("12"), hostKey("13")
	fakeImage(t, h.m, a, 4096, now, now)
	fakeImage(t, h.m, b, 8192, now, now)
	h.u.reloadCache()
	h.waitFor("two images", func() bool { return len(h.u.cv.shown) == 2 })
	cv := h.u.cv
	first := cv.shown[0].Key
	other := cv.shown[1].Key
	if !cv.Select(first) {
		t.Fatal("cannot select the first image")
	}
	h.tap(cv.remove)
	h.waitFor("the confirmation", func() bool { return h.u.dialog != nil })
	h.tap(h.topDialog().Buttons["Delete"])
	h.waitFor("the image to go", func() bool { return len(cv.shown) == 1 })
	if cv.selPane.Visible() || !cv.noSel.Visible() {
		t.Errorf("the details pane still shows a deleted image")
	}
	cv.list.Select(0) // the row that now holds the other image
	h.pump()
	if !cv.selPane.Visible() || !strings.Contains(cv.selTitle.Text, h.u.imageTitle(other)) {
		t.Fatalf("selecting the remaining row shows %q (pane shown: %v), want %s", cv.selTitle.Text, cv.selPane.Visible(), h.u.imageTitle(other))
	}
}

// TestDeleteWhileDownloading (issue 9, item 2): Delete on an image being
// downloaded says it stops the download and states the bytes on disk; once
// confirmed, the download stops, the image is gone, and no view claims
// otherwise.
func TestDeleteWhileDownloading(t *testing.T) {
	srv, disk := newMirror(t, 3_000_000)
	hangAfter(srv, "20260810-2566.qcow2", disk, 1<<20)
	h := newHarness(t, srv, nil)
	k := hostKey("12")
	h.u.SelectEntry("debian", "12")
	h.tap(h.u.cat.download)
	h.waitFor("1 MiB to arrive", func() bool {
		s, ok := h.u.liveJobs[k]
		return ok && s.BytesDone >= 1<<20
	})
	h.u.reloadCache()
	h.waitFor("the image in the cache view", func() bool { return h.u.cv.Select(k) })
	h.pump()
	cv := h.u.cv
	if cv.remove.Text != "Stop and delete…" {
		t.Errorf("the delete button reads %q during the download", cv.remove.Text)
	}
	h.tap(cv.remove)
	h.waitFor("the confirmation", func() bool { return h.u.dialog != nil })
	d := h.topDialog()
	if d.Title != "Stop the download and delete 1.0 MiB?" {
		t.Fatalf("confirmation reads %q / %q", d.Title, d.Text)
	}
	h.tap(d.Buttons["Stop and delete"])
	h.waitFor("the image to go", func() bool {
		_, cached := h.u.imagesByKey[k]
		_, live := h.u.liveJobs[k]
		return !cached && !live && h.u.listed && len(h.u.ops.copy()) == 0
	})
	if _, err := os.Stat(h.m.Cache().Dir(k)); !os.IsNotExist(err) {
		t.Errorf("the image folder is still there: %v", err)
	}
	h.u.ShowTab("downloads")
	h.pump()
	if dl := texts(h.u.dl.content); len(h.u.dl.rows) != 0 || !h.u.dl.resumeAll.Disabled() || strings.Contains(dl, "What arrived is kept") {
		t.Errorf("the Downloads tab still offers the deleted download:\n%s", dl)
	}
	if st := h.u.cat.state.Text; st != "Not in the cache." {
		t.Errorf("the catalog says %q", st)
	}
}

// TestSpeedAfterResume (issue 9, item 7): after Pause and Resume under a
// 1 MiB/s cap, the speed shown is the speed bytes arrive at, not the bytes
// already on disk counted as new.
func TestSpeedAfterResume(t *testing.T) {
	srv, _ := newMirror(t, 6_000_000)
	h := newHarness(t, srv, func(o *core.Options) { o.Config.Bandwidth = "1M" })
	k := hostKey("12")
	h.u.Pull(refOf(k), false)
	h.u.ShowTab("downloads")
	h.waitFor("1.5 MiB", func() bool { s, ok := h.u.liveJobs[k]; return ok && s.BytesDone >= 3<<19 })
	h.tap(h.dlItem(h.jobRow()).pause)
	h.waitFor("the pause", func() bool { s, ok := h.u.liveJobs[k]; return ok && s.Phase == core.PhasePaused })
	h.tap(h.dlItem(h.jobRow()).resume)
	var worst float64
	var worstText string
	deadline := time.Now().Add(4 * time.Second)
	for time.Now().Before(deadline) {
		h.pump()
		if it := h.dlItem(h.jobRow()); it != nil {
			if v := shownRate(it.detail.Text); v > worst {
				worst, worstText = v, it.detail.Text
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	if worst > 1.6*(1<<20) {
		t.Errorf("after Resume the row said %q under a 1 MiB/s cap", worstText)
	}
}

// shownRate reads the "… · 1.2 MiB/s · …" part of a row, in bytes per second.
func shownRate(text string) float64 {
	for _, part := range strings.Split(text, " · ") {
		num, unit, ok := strings.Cut(strings.TrimSuffix(part, "/s"), " ")
		if !ok || !strings.HasSuffix(part, "/s") {
			continue
		}
		v, err := strconv.ParseFloat(num, 64)
		if err != nil {
			continue
		}
		switch unit {
		case "KiB":
			v *= 1 << 10
		case "MiB":
			v *= 1 << 20
		case "GiB":
			v *= 1 << 30
		}
		return v
	}
	return 0
}

// TestSizeAndSpaceBeforeDownload (issue 9, item 8): the catalog shows the
// download's size before Download is pressed, and when it will not fit it
// warns, and Download asks, pointing to Prune… and Settings; nothing starts.
func TestSizeAndSpaceBeforeDownload(t *testing.T) {
	srv, _ := newMirror(t, 3_000_000)
	h := newHarness(t, srv, nil)
	c := h.u.cat
	h.u.SelectEntry("debian", "12")
	h.waitFor("the size", func() bool { return c.size.Text == "2.9 MiB" })
	if c.space.Visible() {
		t.Errorf("a space warning with %d bytes free: %q", h.u.freeSpace, c.space.Text)
	}
	h.u.freeSpace = 1 << 20 // a disk with 1 MiB free
	c.showState()
	if w := c.space.Text; !c.space.Visible() || !strings.Contains(w, "needs 2.9 MiB") || !strings.Contains(w, "Prune…") {
		t.Errorf("space warning %q (shown %v)", w, c.space.Visible())
	}
	h.tap(c.download)
	d := h.topDialog()
	if d == nil || d.Title != "Not enough space for Debian 12 "+hostKey("12").Arch || d.Buttons["Prune…"] == nil || d.Buttons["Settings"] == nil {
		t.Fatalf("Download on a full disk: dialog %+v", d)
	}
	if n := len(h.m.Jobs()); n != 0 {
		t.Errorf("%d downloads started on a full disk", n)
	}
	h.tap(d.Buttons["Prune…"])
	if h.u.tabs.Selected() != h.u.tabItems["cache"] || h.u.dialog == nil || !strings.HasPrefix(h.u.dialog.Title, "Prune") {
		t.Errorf("Prune… did not open the prune dialog on the Cache tab (dialog %+v)", h.u.dialog)
	}
}

// TestErrorsWordedForTheWindow (issue 9, item 8): no advice in the window
// names a command or a flag.
func TestErrorsWordedForTheWindow(t *testing.T) {
	for _, err := range []error{
		fmt.Errorf("writing: %w", download.ErrInsufficientSpace),
		fmt.Errorf("converting: %w", qemuimg.ErrMissing),
		fmt.Errorf("locking: %w", cache.ErrInUse),
		fmt.Errorf("verify: %w", cache.ErrNotCached),
		fmt.Errorf("resolving: %w", catalog.ErrNoBuild),
		&download.StatusError{Code: 404, URL: "https://example.org/x"},
		&url.Error{Op: "Get", URL: "https://example.org/x", Err: &net.OpError{Op: "dial", Err: errors.New("connection refused")}},
		fmt.Errorf("settings: %w", config.ErrInvalid),
		fmt.Errorf("%w: bad signature", trust.ErrBadSignature),
	} {
		what, todo := explain(err, "")
		if todo == "" || strings.Contains(todo, "vmimages ") || strings.Contains(todo, "--") || strings.Contains(what, "\n") {
			t.Errorf("%v: advice %q", err, todo)
		}
	}
}

// TestProofShown (issue 9, item 9): the details say who signed a cached
// image's checksums and when, where they came from and the disk's digest;
// for a distribution that signs nothing, plainly that.
func TestProofShown(t *testing.T) {
	h := newHarness(t, nil, nil)
	now := time.Now()
	fedora := cache.Key{Distro: "fedora", Version: "44", Arch: hostKey("12").Arch}
	fakeImage(t, h.m, fedora, 4096, now, now)
	meta, err := h.m.Cache().ReadMeta(fedora)
	if err != nil {
		t.Fatal(err)
	}
	meta.Signature = &cache.SignatureMeta{Status: cache.SignatureVerified, Signer: "36F612DCF27F7D1A48A835E4DBFCF71C6D9F90A6",
		SignedAt: time.Date(2026, 4, 14, 9, 30, 0, 0, time.UTC), ManifestURL: "https://example.org/fedora/44/CHECKSUM"}
	if err := h.m.Cache().WriteMeta(meta); err != nil {
		t.Fatal(err)
	}
	debian := hostKey("12")
	fakeImage(t, h.m, debian, 4096, now, now)
	h.u.reloadCache()
	h.waitFor("two images", func() bool { return len(h.u.images) == 2 })

	h.u.SelectEntry("fedora", "44")
	proof := h.u.cat.proof.Text
	for _, want := range []string{"Fedora 44", "36F6 12DC F27F 7D1A 48A8  35E4 DBFC F71C 6D9F 90A6", "2026-04-14 09:30 UTC",
		"https://example.org/fedora/44/CHECKSUM", "Disk SHA-256: " + meta.Asset(cache.RoleDisk).Digest.Hex} {
		if !strings.Contains(proof, want) {
			t.Errorf("Fedora's proof lacks %q:\n%s", want, proof)
		}
	}
	h.u.SelectEntry("debian", "12")
	if proof := h.u.cat.proof.Text; !strings.Contains(proof, "Checksum over HTTPS; not signed upstream.") {
		t.Errorf("Debian's proof:\n%s", proof)
	}
	h.u.cv.Select(fedora)
	h.pump()
	if info := h.u.cv.selInfo.Text; !strings.Contains(info, "Checksums signed by Fedora 44") {
		t.Errorf("the cache pane says %q", info)
	}
}

// TestTitleProgressAndIdle (issue 9, keyboard and desktop list): the
// window's title carries the download's progress while it runs; once it
// is done the title is plain again and the UI stops polling altogether.
func TestTitleProgressAndIdle(t *testing.T) {
	srv, disk := newMirror(t, 3_000_000)
	hangAfter(srv, "20260810-2566.qcow2", disk, 1<<20)
	h := newHarness(t, srv, nil)
	h.u.Pull(refOf(hostKey("12")), false)
	h.waitFor("the progress in the title", func() bool { return h.win.Title() == "VM Images — 34 %" })
	srv.SetFault(nil)
	for _, j := range h.m.Jobs() {
		j.Cancel()
	}
	h.waitFor("a plain title", func() bool { return h.win.Title() == "VM Images" && len(h.u.activeJobs()) == 0 })
	h.u.Pull(refOf(hostKey("13")), false)
	h.waitFor("the second pull to finish", func() bool {
		jobs := h.m.Jobs()
		return len(jobs) == 2 && jobs[1].Snapshot().Phase == core.PhaseDone && len(h.u.activeJobs()) == 0
	})
	h.pump()
	before := h.u.polls.Load()
	for range 15 { // 15 ticks' worth of time: an idle UI polls nothing
		time.Sleep(h.u.opt.Tick)
		h.pump()
	}
	if n := h.u.polls.Load() - before; n > 1 {
		t.Errorf("%d polls in %v with nothing moving", n, 15*h.u.opt.Tick)
	}
}

// TestWindowFits800x500: with an entry shown, a download row and a cached
// image selected, no tab needs more than 800×500.
func TestWindowFits800x500(t *testing.T) {
	srv, disk := newMirror(t, 3_000_000)
	hangAfter(srv, "20260810-2566.qcow2", disk, 1<<20)
	h := newHarness(t, srv, nil)
	fakeImage(t, h.m, hostKey("13"), 4096, time.Now(), time.Now())
	h.u.reloadCache()
	h.waitFor("the image", func() bool { return h.u.cv.Select(hostKey("13")) })
	h.u.SelectEntry("debian", "12")
	h.u.Pull(refOf(hostKey("12")), false)
	h.waitFor("a download row", func() bool { return len(h.u.dl.rows) == 1 })
	for name := range h.u.tabItems {
		h.u.ShowTab(name)
		h.pump()
		if m := h.u.Content().MinSize(); m.Width > 800 || m.Height > 500 {
			t.Errorf("with the %s tab the window needs at least %v", name, m)
		}
	}
}

// key types a key without a modifier on the window, as when no field has
// the focus.
func (h *harness) key(name fyne.KeyName) {
	h.t.Helper()
	h.win.Canvas().OnTypedKey()(&fyne.KeyEvent{Name: name})
	h.pump()
}

// TestKeyboard: Ctrl+F finds, F5 and Ctrl+R refresh, Esc closes a dialog,
// Delete asks to delete the selected image, Enter on a catalog entry
// starts its download, and the menu bar carries the shortcuts.
func TestKeyboard(t *testing.T) {
	srv, _ := newMirror(t, 100_000)
	h := newHarness(t, srv, nil)
	u := h.u
	fakeImage(t, h.m, hostKey("11"), 4096, time.Now(), time.Now())
	u.reloadCache()
	h.waitFor("the image", func() bool { return len(u.cv.all) == 1 })

	h.shortcut(fyne.KeyF, fyne.KeyModifierShortcutDefault)
	if h.win.Canvas().Focused() != u.cat.search || u.tab() != "catalog" {
		t.Errorf("Ctrl+F focused %v on tab %q", h.win.Canvas().Focused(), u.tab())
	}
	h.win.Canvas().Unfocus()
	u.ShowTab("cache")
	h.shortcut(fyne.KeyF, fyne.KeyModifierShortcutDefault)
	if h.win.Canvas().Focused() != u.cv.filter {
		t.Error("Ctrl+F on the Cache tab does not focus its filter")
	}
	h.win.Canvas().Unfocus()

	n := u.reloadN
	h.key(fyne.KeyF5)
	h.shortcut(fyne.KeyR, fyne.KeyModifierShortcutDefault)
	if u.reloadN != n+2 {
		t.Errorf("F5 and Ctrl+R listed the cache %d times, want 2", u.reloadN-n)
	}
	h.waitFor("the listing", func() bool { return len(u.cv.all) == 1 })

	u.cv.Select(hostKey("11"))
	h.key(fyne.KeyDelete)
	h.waitFor("the delete question", func() bool { return u.dialog != nil })
	if d := u.dialog; !strings.HasPrefix(d.Title, "Delete Debian 11") {
		t.Errorf("Delete asked %q", d.Title)
	}
	h.key(fyne.KeyEscape)
	if u.dialog != nil || len(u.cv.all) != 1 {
		t.Error("Esc did not close the question, or something was deleted")
	}

	u.ShowTab("catalog")
	u.SelectEntry("debian", "12")
	h.key(fyne.KeyReturn)
	h.waitFor("the download Enter started", func() bool { return len(h.m.Jobs()) == 1 })
	h.waitFor("it to finish", func() bool { return len(u.activeJobs()) == 0 && len(h.m.Jobs()) == 1 })
	u.SelectEntry("debian", "13")
	u.cat.tree.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn}) // Enter in the focused tree
	h.waitFor("the download Enter in the tree started", func() bool { return len(h.m.Jobs()) == 2 })
	h.waitFor("it to finish", func() bool { return len(u.activeJobs()) == 0 && h.m.Jobs()[1].Snapshot().Phase.Finished() })

	var quit *fyne.MenuItem
	for _, m := range u.MainMenu().Items {
		for _, it := range m.Items {
			if it.IsQuit {
				quit = it
			}
		}
	}
	if quit == nil || quit.Action == nil || quit.Shortcut == nil || quit.Shortcut.ShortcutName() != (&desktop.CustomShortcut{KeyName: fyne.KeyQ, Modifier: fyne.KeyModifierShortcutDefault}).ShortcutName() {
		t.Fatalf("the menu bar's Quit: %+v", quit)
	}
	quit.Action()
	if h.quitCount() != 1 {
		t.Error("the menu bar's Quit did not quit")
	}
}

// TestRightClickAndSort: a right click on a cache row selects it and
// offers its actions, Copy path with a submenu of its files; a catalog
// entry offers its main action, a download row its buttons; the cache
// columns sort by size and by name.
func TestRightClickAndSort(t *testing.T) {
	srv, disk := newMirror(t, 3_000_000)
	hangAfter(srv, "20260810-2566.qcow2", disk, 1<<20)
	h := newHarness(t, srv, nil)
	u := h.u
	now := time.Now()
	fakeImage(t, h.m, cache.Key{Distro: "debian", Version: "13", Arch: "x86_64"}, 1000, now, now)
	fakeImage(t, h.m, cache.Key{Distro: "debian", Version: "11", Arch: "x86_64"}, 9000, now, now)
	u.reloadCache()
	h.waitFor("two images", func() bool { return len(u.cv.shown) == 2 })
	u.ShowTab("cache")
	h.pump()

	var row *rowMenu
	walk(u.cv.list, func(o fyne.CanvasObject) bool {
		if r, ok := o.(*rowMenu); ok && r.key.Version == "13" {
			row = r
			return true
		}
		return false
	})
	if row == nil {
		t.Fatal("no cache row for Debian 13")
	}
	test.TapSecondary(row)
	if k, ok := u.cv.selected(); !ok || k.Key.Version != "13" {
		t.Errorf("the right click selected %+v", k.Key)
	}
	menu := u.cv.actionsMenu()
	var labels []string
	var copyPath *fyne.MenuItem
	for _, it := range menu.Items {
		if strings.HasPrefix(it.Label, "Update to ") {
			continue // there when the background update check has finished
		}
		labels = append(labels, it.Label)
		if it.Label == "Copy path" {
			copyPath = it
		}
	}
	if got := strings.Join(labels, ","); got != "Verify,Convert to raw,Show in folder,Copy path,New VM disk…,Publish to registry…,,Delete…" {
		t.Errorf("the row's menu: %s", got)
	}
	if copyPath == nil || copyPath.ChildMenu == nil || !strings.HasPrefix(copyPath.ChildMenu.Items[0].Label, "Disk (qcow2)") {
		t.Errorf("Copy path has no submenu of files: %+v", copyPath)
	}
	if h.win.Canvas().Overlays().Top() == nil {
		t.Error("the right click showed no menu")
	}
	h.win.Canvas().Overlays().Remove(h.win.Canvas().Overlays().Top())

	// Sorting: Size (largest first), then Image (by name).
	test.Tap(u.cv.headers[3])
	if u.cv.shown[0].Key.Version != "11" || u.cv.headers[3].Text != "Size ▼" {
		t.Errorf("sorted by size: first %s, header %q", u.cv.shown[0].Key, u.cv.headers[3].Text)
	}
	test.Tap(u.cv.headers[3])
	if u.cv.shown[0].Key.Version != "13" {
		t.Errorf("sorted by size, smallest first: first %s", u.cv.shown[0].Key)
	}
	test.Tap(u.cv.headers[0])
	if u.cv.shown[0].Key.Version != "11" || u.cv.headers[0].Text != "Image ▲" {
		t.Errorf("sorted by name: first %s", u.cv.shown[0].Key)
	}

	// A catalog entry's menu offers its main action.
	u.ShowTab("catalog")
	h.pump()
	var node *rowMenu
	walk(u.cat.tree, func(o fyne.CanvasObject) bool {
		if r, ok := o.(*rowMenu); ok && r.id == versionNode("debian", "12") {
			node = r
			return true
		}
		return false
	})
	if node == nil {
		t.Fatal("no tree row for Debian 12")
	}
	if m := u.cat.nodeMenu(node); m == nil || m.Items[0].Label != "Download" || u.cat.version == nil || u.cat.version.Version != "12" {
		t.Errorf("Debian 12's menu: %+v", m)
	}
	test.TapSecondary(node)
	if h.win.Canvas().Overlays().Top() == nil {
		t.Error("a right click on a catalog entry showed no menu")
	}
	h.win.Canvas().Overlays().Remove(h.win.Canvas().Overlays().Top())

	u.Pull(refOf(hostKey("12")), false)
	u.ShowTab("downloads")
	h.waitFor("the download row", func() bool { it := h.dlItem(h.jobRow()); return it != nil && it.cancel.Visible() })
	test.TapSecondary(h.dlItem(h.jobRow()))
	if h.win.Canvas().Overlays().Top() == nil {
		t.Error("a right click on a download showed no menu")
	}
}

// TestVerifyVerdictRemembered (issue 9, item 10): an image that failed
// Verify still shows it after a restart (a new window over the same
// cache), in the cache list, its pane and the catalog; one that passed
// shows when it was verified.
func TestVerifyVerdictRemembered(t *testing.T) {
	h := newHarness(t, nil, nil)
	good, bad := hostKey("12"), hostKey("13")
	fakeImage(t, h.m, good, 300_000, time.Now(), time.Now())
	fakeImage(t, h.m, bad, 300_000, time.Now(), time.Now())
	f, err := os.OpenFile(filepath.Join(h.m.Cache().Dir(bad), "disk.qcow2"), os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteAt([]byte("rot"), 1000)
	f.Close()
	h.u.reloadCache()
	h.waitFor("two images", func() bool { return len(h.u.cv.all) == 2 })
	for _, k := range []cache.Key{good, bad} {
		h.u.cv.Select(k)
		h.tap(h.u.cv.verify)
		h.waitFor("the verdict", func() bool { _, busy := h.u.cv.ops[k]; return !busy && h.u.cv.results[k] != "" })
		if d := h.u.dialog; d != nil {
			d.Hide()
			h.pump()
		}
	}

	// A restart: a new Manager and window over the same cache.
	dir := h.cache
	h2 := newHarness(t, nil, func(o *core.Options) { o.CacheDir = dir })
	h2.u.ShowTab("cache")
	h2.pump()
	if row := h2.cacheRow(bad); !strings.Contains(row, "failed verification") {
		t.Errorf("after a restart the damaged image's row reads:\n%s", row)
	}
	if row := h2.cacheRow(good); !strings.Contains(row, "ready, verified") {
		t.Errorf("after a restart the good image's row reads:\n%s", row)
	}
	h2.u.cv.Select(bad)
	h2.pump()
	if s := h2.u.cv.selStatus.Text; !strings.HasPrefix(s, "Failed verification") || !strings.Contains(s, "disk.qcow2") {
		t.Errorf("the pane says %q", s)
	}
	h2.u.SelectEntry("debian", "13")
	if s := h2.u.cat.state.Text; !strings.Contains(s, "failed verification") || strings.HasPrefix(s, "Ready") {
		t.Errorf("the catalog says %q", s)
	}
}

// TestFailuresOfferWhatCanWork (issue 9, item 6): a tampered download is
// discarded — no bar, no Retry or Resume, but "Try another mirror"; a
// server error keeps what arrived and offers Retry; a full disk offers
// Prune….
func TestFailuresOfferWhatCanWork(t *testing.T) {
	srv, disk := newMirror(t, 300_000)
	tampered := append([]byte(nil), disk...)
	tampered[1000] ^= 0xff
	srv.SetFault(func(w http.ResponseWriter, r *http.Request) bool {
		if !strings.HasSuffix(r.URL.Path, "20260810-2566.qcow2") {
			return false
		}
		http.ServeContent(w, r, "disk.qcow2", time.Time{}, bytes.NewReader(tampered))
		return true
	})
	h := newHarness(t, srv, nil)
	u := h.u
	u.SelectEntry("debian", "12")
	h.tap(u.cat.download)
	h.waitFor("the failure", func() bool { return h.u.dialog != nil })
	d := h.topDialog()
	if d.Buttons["Try another mirror"] == nil || d.Buttons["Retry"] != nil {
		t.Errorf("the dialog for a tampered download offers %v", d.Buttons)
	}
	d.Hide()
	h.pump()
	u.ShowTab("downloads")
	h.pump()
	it := h.dlItem(h.jobRow())
	if it == nil || it.bar.Visible() || it.resume.Text != "Try another mirror" || !it.resume.Visible() {
		t.Fatalf("the tampered download's row:\n%s (bar shown %v)", texts(it), it != nil && it.bar.Visible())
	}
	if st := u.cat.state.Text; strings.Contains(st, "Resume") || strings.Contains(st, "Partly") || u.cat.download.Text != "Try another mirror" {
		t.Errorf("the catalog says %q with [%s]", st, u.cat.download.Text)
	}
	h.tap(it.resume)
	if u.tab() != "settings" {
		t.Errorf("Try another mirror opened the %q tab", u.tab())
	}

	for _, c := range []struct {
		err  error
		want string
	}{
		{&download.StatusError{Code: 503, URL: "https://example.org/x"}, "Retry"},
		{fmt.Errorf("x: %w", download.ErrStalled), "Retry"},
		{fmt.Errorf("x: %w", download.ErrInsufficientSpace), "Prune…"},
		{fmt.Errorf("x: %w", download.ErrDigestMismatch), "Try another mirror"},
		{&download.StatusError{Code: 404, URL: "https://example.org/x"}, ""},
	} {
		if got := u.remedyFor(core.Snapshot{Phase: core.PhaseFailed, Err: c.err}).label; got != c.want {
			t.Errorf("%v: remedy %q, want %q", c.err, got, c.want)
		}
	}
}

// TestOneSourceOfTruth (issue 9, item 3): a first download into an empty
// cache shows in the Cache tab at once, with the same progress the
// catalog, the Downloads row and the tray show, and its size grows there.
func TestOneSourceOfTruth(t *testing.T) {
	srv, disk := newMirror(t, 3_000_000)
	hangAfter(srv, "20260810-2566.qcow2", disk, 1<<20)
	h := newHarness(t, srv, nil)
	u := h.u
	k := hostKey("12")
	u.SelectEntry("debian", "12")
	h.tap(u.cat.download)
	u.ShowTab("cache")
	h.waitFor("the download in every view", func() bool {
		s, ok := u.liveJobs[k]
		if !ok || s.BytesDone < 1<<20 {
			return false
		}
		row := h.cacheRow(k)
		return strings.Contains(row, "downloading 34%") && strings.Contains(row, "1.0 MiB")
	})
	if st := u.cat.state.Text; !strings.HasPrefix(st, "Downloading: 1.0 MiB of 2.9 MiB") {
		t.Errorf("the catalog says %q", st)
	}
	if b := u.cat.badges[versionNode("debian", "12")]; b != "downloading 34%" {
		t.Errorf("the catalog's badge says %q", b)
	}
	if l := strings.Join(u.TrayLabels(), "\n"); !strings.Contains(l, "Debian 12 "+k.Arch+" — 34%") {
		t.Errorf("the tray says:\n%s", l)
	}
	u.cv.Select(k)
	h.pump()
	if s := u.cv.selStatus.Text; !strings.HasPrefix(s, "Downloading: 1.0 MiB of 2.9 MiB") {
		t.Errorf("the cache pane says %q", s)
	}
}

// TestReadmeWindowTable: every "Menu › Item" the README's "Using the
// window" table names is in the window's menu bar, and every Ctrl shortcut
// it names is installed.
func TestReadmeWindowTable(t *testing.T) {
	b, err := os.ReadFile("../../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, table, ok := strings.Cut(string(b), "#### Using the window")
	if !ok {
		t.Fatal("the README has no \"Using the window\" section")
	}
	h := newHarness(t, nil, nil)
	menus := map[string]bool{}
	for _, m := range h.u.MainMenu().Items {
		for _, it := range m.Items {
			menus[m.Label+" › "+it.Label] = true
		}
	}
	keys := map[string]bool{}
	for _, s := range h.u.shortcuts() {
		keys["Ctrl+"+string(s.key)] = true
	}
	rows := 0
	for _, line := range strings.Split(table, "\n") {
		cells := strings.Split(line, "|")
		if len(cells) != 6 || strings.HasPrefix(strings.TrimSpace(cells[1]), "---") || strings.TrimSpace(cells[1]) == "Action" {
			continue
		}
		rows++
		for _, part := range strings.FieldsFunc(cells[4], func(r rune) bool { return r == ';' || r == ',' }) {
			part = strings.TrimSpace(part)
			if strings.HasPrefix(part, "right-click") || strings.HasPrefix(part, "the tray") || part == "—" || !strings.Contains(part, " › ") {
				continue
			}
			if !menus[part] {
				t.Errorf("the README names the menu item %q, which the menu bar lacks", part)
			}
		}
		for _, f := range strings.Fields(strings.NewReplacer(",", " ", "(", " ").Replace(cells[3])) {
			if strings.HasPrefix(f, "Ctrl+") && !keys[f] {
				t.Errorf("the README names the shortcut %s, which the window lacks", f)
			}
		}
	}
	if rows < 15 {
		t.Errorf("the table has %d rows", rows)
	}
}
