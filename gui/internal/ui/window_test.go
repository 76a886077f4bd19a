package ui

import (
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
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
