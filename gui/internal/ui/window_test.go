package ui

import (
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"

	"vmimages/core"
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
	deadline := time.Now().Add(3 * time.Second)
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
