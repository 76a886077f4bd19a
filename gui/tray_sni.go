//go:build linux || freebsd || openbsd || netbsd

package gui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/systray"

	"vmimages/gui/internal/ui"
	"vmimages/resources"
)

// sniTray is the tray on Linux and the BSDs: a StatusNotifierItem with a
// dbusmenu, driven through fyne.io/systray directly rather than through
// Fyne's tray, which removes and re-adds every item on each change (new
// ids every second make an open menu flicker) and leaves the title and
// tooltip to the app id. Each of the UI's tray slots gets one native item
// for the app's life; changes update it in place.
type sniTray struct {
	u     *ui.UI
	items []*systray.MenuItem // one per slot; nil for separators
	last  []ui.TraySlot       // what each item shows, to touch only changes
	label []string
	off   []bool
	tip   string
}

// fyneID is the id Fyne gets. Here none: the app keeps its settings in its
// own file and sends notifications itself, so Fyne's preferences store is
// unused, and with an id Fyne saves that store on quit while its own file
// watcher reads it back half-written ("Preferences load error: EOF").
const fyneID = ""

// installTray puts the tray up before the app runs; the returned function
// takes it down after the app quit.
func installTray(_ desktop.App, u *ui.UI) (stop func()) {
	t := &sniTray{u: u}
	start, end := systray.RunWithExternalLoop(nil, nil)
	systray.SetIcon(resources.TrayPNG)
	systray.SetTitle("VM Images")
	systray.SetOnTapped(func() { fyne.Do(u.ShowWindow) })
	slots := u.TraySlots()
	t.items = make([]*systray.MenuItem, len(slots))
	t.last = slots
	t.label = make([]string, len(slots))
	t.off = make([]bool, len(slots))
	for i, s := range slots {
		if s.Item.IsSeparator {
			systray.AddSeparator()
			continue
		}
		it := systray.AddMenuItem(s.Item.Label, "")
		t.items[i], t.label[i], t.off[i] = it, s.Item.Label, s.Item.Disabled
		if s.Item.Disabled {
			it.Disable()
		}
		if s.Hidden {
			it.Hide()
		}
		action := s.Item.Action
		go func() {
			for range it.ClickedCh {
				fyne.Do(action)
			}
		}()
	}
	t.tip = u.TrayTooltip()
	systray.SetTooltip(t.tip)
	u.EnableTray(t.update)
	start()
	return end
}

// update changes the native items whose slot changed; on Fyne's thread.
func (t *sniTray) update() {
	for i, s := range t.u.TraySlots() {
		it := t.items[i]
		if it == nil {
			continue
		}
		if s.Item.Label != t.label[i] {
			t.label[i] = s.Item.Label
			it.SetTitle(s.Item.Label)
		}
		if s.Item.Disabled != t.off[i] {
			t.off[i] = s.Item.Disabled
			if s.Item.Disabled {
				it.Disable()
			} else {
				it.Enable()
			}
		}
		if s.Hidden != t.last[i].Hidden {
			if s.Hidden {
				it.Hide()
			} else {
				it.Show()
			}
		}
		t.last[i] = s
	}
	if tip := t.u.TrayTooltip(); tip != t.tip {
		t.tip = tip
		systray.SetTooltip(tip)
	}
}
