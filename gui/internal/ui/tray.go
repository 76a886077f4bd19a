package ui

import (
	"slices"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/lang"

	"vmimages/core"
	"vmimages/core/cache"
	"vmimages/core/units"
)

// trayRefreshEvery is the shortest time between two tray menu refreshes:
// each one rebuilds the whole D-Bus menu.
const trayRefreshEvery = time.Second

// maxTrayDownloads is how many downloads the tray menu lists by name.
const maxTrayDownloads = 5

// trayMenu keeps the tray menu in step with the downloads and the cache.
type trayMenu struct {
	u       *UI
	menu    *fyne.Menu
	refresh func() // menu.Refresh once the tray is installed; nil before
	shown   string // the labels the menu shows now
	lastAt  time.Time
}

func newTrayMenu(u *UI) *trayMenu {
	t := &trayMenu{u: u, menu: fyne.NewMenu("VM Images")}
	t.menu.Items, t.shown = t.items()
	return t
}

// TrayMenu is the menu to install with desktop.App.SetSystemTrayMenu,
// before the app runs.
func (u *UI) TrayMenu() *fyne.Menu { return u.tray.menu }

// EnableTray says the tray menu is installed; refresh redraws it (the
// menu's Refresh) and is called at most once a second, on Fyne's thread.
func (u *UI) EnableTray(refresh func()) { u.tray.refresh = refresh }

// TrayLabels lists the tray menu's labels as they are now.
func (u *UI) TrayLabels() []string {
	var out []string
	for _, it := range u.tray.menu.Items {
		if !it.IsSeparator {
			out = append(out, it.Label)
		}
	}
	return out
}

// rebuild recomputes the menu and redraws the tray when its labels
// changed, at most once a second unless forced.
func (t *trayMenu) rebuild(force bool) {
	items, sig := t.items()
	if sig == t.shown {
		t.u.trayPending.Store(false)
		return
	}
	now := time.Now()
	if t.refresh != nil && !force && now.Sub(t.lastAt) < trayRefreshEvery {
		t.u.trayPending.Store(true) // a later tick retries
		return
	}
	t.u.trayPending.Store(false)
	t.menu.Items, t.shown = items, sig
	if t.refresh != nil {
		t.lastAt = now
		t.u.stats.trayRefreshes++
		t.refresh()
	}
}

// items builds the menu and a signature of its labels and states.
func (t *trayMenu) items() ([]*fyne.MenuItem, string) {
	u := t.u
	show := func(tab string) func() {
		return func() {
			u.ShowWindow()
			u.ShowTab(tab)
		}
	}
	items := []*fyne.MenuItem{fyne.NewMenuItem("Open VM Images", u.ShowWindow), fyne.NewMenuItemSeparator()}
	if u.m == nil {
		it := fyne.NewMenuItem("Opening the cache…", nil)
		it.Disabled = true
		items = append(items, it)
		return withQuit(items), signature(items)
	}

	var live []core.Snapshot
	for _, s := range u.liveJobs {
		live = append(live, s)
	}
	slices.SortFunc(live, func(a, b core.Snapshot) int { return a.ID - b.ID })
	running, paused := false, len(u.dl.partialKeys()) > 0
	for i, s := range live {
		if s.Phase == core.PhasePaused {
			paused = true
		} else {
			running = true
		}
		if i == maxTrayDownloads {
			more := fyne.NewMenuItem("… and "+itoa(len(live)-maxTrayDownloads)+" more", show("downloads"))
			items = append(items, more)
			break
		}
		items = append(items, fyne.NewMenuItem(s.Title+" — "+trayProgress(s), show("downloads")))
	}
	if len(live) == 0 {
		it := fyne.NewMenuItem("No active downloads", show("downloads"))
		items = append(items, it)
	}
	items = append(items, fyne.NewMenuItemSeparator())

	cacheLabel := "Cache: checking…"
	if u.listed {
		cacheLabel = "Cache: " + units.Bytes(cache.TotalBytes(u.images)) + " in " + plural(len(u.images), "image", "images")
	}
	items = append(items, fyne.NewMenuItem(cacheLabel, show("cache")))
	if ups := u.pendingUpdates(); len(ups) > 0 {
		label := "Updates: " + plural(len(ups), "image has a newer build", "images have newer builds")
		items = append(items, fyne.NewMenuItem(label, func() {
			show("cache")()
			if now := u.pendingUpdates(); len(now) > 0 {
				u.cv.Select(now[0]) // the first one, with its Update button
			}
		}))
	}
	items = append(items,
		fyne.NewMenuItemSeparator(),
		fyne.NewMenuItem("Verify cache", func() {
			show("cache")()
			u.cv.startVerifyAll()
		}),
		fyne.NewMenuItem("Prune…", func() {
			show("cache")()
			u.showPrune(nil)
		}),
	)
	pause := fyne.NewMenuItem("Pause all", u.pauseAll)
	pause.Disabled = !running
	resume := fyne.NewMenuItem("Resume all", u.resumeAll)
	resume.Disabled = !paused
	items = append(items, pause, resume)
	return withQuit(items), signature(items)
}

// withQuit ends the menu with Fyne's Quit item. Fyne appends one itself,
// but only after it has drawn the menu, so a menu whose items are replaced
// would show it one refresh late; an item labelled like Fyne's, without an
// action, is taken as Fyne's own and quits the app.
func withQuit(items []*fyne.MenuItem) []*fyne.MenuItem {
	quit := fyne.NewMenuItem(lang.L("Quit"), nil)
	quit.IsQuit = true
	return append(items, fyne.NewMenuItemSeparator(), quit)
}

// trayProgress is a job's state in a few characters: "45%", "paused".
func trayProgress(s core.Snapshot) string {
	switch s.Phase {
	case core.PhasePaused:
		return "paused"
	case core.PhaseQueued, core.PhaseResolving, core.PhaseWaiting:
		return "waiting"
	case core.PhaseConverting:
		return "converting"
	}
	if s.BytesTotal <= 0 {
		return "starting"
	}
	return itoa(int(s.Fraction()*100)) + "%"
}

// signature is the menu's labels and enabled states in one string.
func signature(items []*fyne.MenuItem) string {
	var b strings.Builder
	for _, it := range items {
		if it.IsSeparator {
			b.WriteString("|")
			continue
		}
		b.WriteString(it.Label)
		if it.Disabled {
			b.WriteString("(off)")
		}
		b.WriteString("\n")
	}
	return b.String()
}
