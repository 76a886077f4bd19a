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

// trayRefreshEvery is the shortest time between two tray updates while
// downloads move: a tray host re-reads the menu on each.
const trayRefreshEvery = time.Second

// maxTrayDownloads is how many downloads the tray menu lists by name.
const maxTrayDownloads = 5

// TraySlot is one entry of the tray menu. The menu has a fixed list of
// slots, in a fixed order, so that a tray can create one native item per
// slot once and change it in place: item ids stay stable while downloads
// move. A hidden slot is not shown. Item.Action runs on Fyne's thread.
type TraySlot struct {
	Item   *fyne.MenuItem
	Hidden bool
}

// trayMenu keeps the tray menu in step with the downloads and the cache.
type trayMenu struct {
	u       *UI
	slots   []TraySlot
	menu    *fyne.Menu // the visible slots' items, for Fyne's own tray
	tooltip string
	refresh func() // tells the tray to redraw; nil before it is installed
	shown   string // signature of what the tray shows now
	lastAt  time.Time
	timer   *time.Timer // a refresh waiting for its slot

	open, none, more, cacheLine, updates, verify, prune, pause, resume, quit *fyne.MenuItem
	downloads                                                                []*fyne.MenuItem
}

func newTrayMenu(u *UI) *trayMenu {
	t := &trayMenu{u: u, menu: fyne.NewMenu("VM Images")}
	show := func(tab string) func() {
		return func() {
			u.ShowWindow()
			u.ShowTab(tab)
		}
	}
	sep := func() { t.slots = append(t.slots, TraySlot{Item: fyne.NewMenuItemSeparator()}) }
	add := func(label string, action func()) *fyne.MenuItem {
		it := fyne.NewMenuItem(label, action)
		t.slots = append(t.slots, TraySlot{Item: it})
		return it
	}
	t.open = add("Open VM Images", u.ShowWindow)
	sep()
	for range maxTrayDownloads {
		t.downloads = append(t.downloads, add("", show("downloads")))
	}
	t.more = add("", show("downloads"))
	t.none = add("No active downloads", show("downloads"))
	sep()
	t.cacheLine = add("Cache: checking…", show("cache"))
	t.updates = add("", func() {
		show("cache")()
		if now := u.pendingUpdates(); len(now) > 0 {
			u.cv.Select(now[0]) // the first one, with its Update button
		}
	})
	sep()
	t.verify = add("Verify cache", func() {
		show("cache")()
		if u.cv != nil {
			u.cv.startVerifyAll()
		}
	})
	t.prune = add("Prune…", func() {
		show("cache")()
		if u.m != nil {
			u.showPrune(nil)
		}
	})
	t.pause = add("Pause all", u.pauseAll)
	t.resume = add("Resume all", u.resumeAll)
	sep()
	// Quit has its own action: Fyne fills in an action only for a Quit
	// item it appends itself, after it has copied the others' actions, so
	// an item left without one would do nothing.
	t.quit = add(lang.L("Quit"), func() { u.opt.Quit() })
	t.quit.IsQuit = true
	t.compute()
	t.shown = t.signature()
	t.menu.Items = t.visible()
	return t
}

// TrayMenu is the menu to install with desktop.App.SetSystemTrayMenu,
// before the app runs, on desktops where Fyne draws the tray.
func (u *UI) TrayMenu() *fyne.Menu { return u.tray.menu }

// TraySlots lists the tray menu's slots: always the same items in the same
// order; see TraySlot.
func (u *UI) TraySlots() []TraySlot { return slices.Clone(u.tray.slots) }

// TrayTooltip is the tray icon's tooltip: the active downloads.
func (u *UI) TrayTooltip() string { return u.tray.tooltip }

// EnableTray says a tray shows the menu; refresh redraws it from TrayMenu
// or TraySlots and TrayTooltip. It is called on Fyne's thread when they
// change, at most once a second while only progress moves.
func (u *UI) EnableTray(refresh func()) { u.tray.refresh = refresh }

// TrayLabels lists the labels the tray menu shows now.
func (u *UI) TrayLabels() []string {
	var out []string
	for _, it := range u.tray.menu.Items {
		if !it.IsSeparator {
			out = append(out, it.Label)
		}
	}
	return out
}

// rebuild brings the slots up to date and redraws the tray when what it
// shows changed: at once when forced or when more than progress changed,
// else at most once a second.
func (t *trayMenu) rebuild(force bool) {
	before := t.structure()
	t.compute()
	sig := t.signature()
	if sig == t.shown {
		return
	}
	now := time.Now()
	if t.refresh != nil && !force && t.structure() == before && now.Sub(t.lastAt) < trayRefreshEvery {
		if t.timer == nil { // a later, one-off retry: nothing runs while idle
			t.timer = time.AfterFunc(trayRefreshEvery-now.Sub(t.lastAt), func() {
				t.u.do(func() {
					t.timer = nil
					t.rebuild(true)
				})
			})
		}
		return
	}
	if t.timer != nil {
		t.timer.Stop()
		t.timer = nil
	}
	t.shown = sig
	t.menu.Items = t.visible()
	if t.refresh != nil {
		t.lastAt = now
		t.u.stats.trayRefreshes++
		t.refresh()
	}
}

// compute fills the slots from the UI's state.
func (t *trayMenu) compute() {
	u := t.u
	for _, it := range t.downloads {
		t.hide(it, true)
	}
	t.hide(t.more, true)
	t.hide(t.updates, true)
	if u.m == nil || u.dl == nil {
		t.none.Label, t.none.Disabled = "Opening the cache…", true
		t.hide(t.none, false)
		t.cacheLine.Label = "Cache: checking…"
		t.pause.Disabled, t.resume.Disabled, t.verify.Disabled, t.prune.Disabled = true, true, true, true
		t.tooltip = "VM Images"
		return
	}
	t.verify.Disabled, t.prune.Disabled = false, false
	live := u.activeJobs()
	running, paused := false, len(u.dl.partialKeys()) > 0
	var tips []string
	for i, s := range live {
		if s.Phase == core.PhasePaused {
			paused = true
		} else {
			running = true
		}
		line := s.Title + " — " + trayProgress(s)
		if from := u.sourceText(s); strings.HasPrefix(from, "from registry ") {
			line += " " + from // upstream is the usual case: only a registry is named
		}
		tips = append(tips, line)
		if i < maxTrayDownloads {
			t.downloads[i].Label = line
			t.hide(t.downloads[i], false)
		}
	}
	if n := len(live) - maxTrayDownloads; n > 0 {
		t.more.Label = "… and " + itoa(n) + " more"
		t.hide(t.more, false)
	}
	t.none.Label, t.none.Disabled = "No active downloads", false
	t.hide(t.none, len(live) > 0)
	switch {
	case len(live) == 0:
		t.tooltip = "VM Images — no active downloads"
	default:
		t.tooltip = "VM Images — " + plural(len(live), "download", "downloads") + ":\n" + strings.Join(tips, "\n")
	}
	t.cacheLine.Label = "Cache: checking…"
	if u.listed {
		t.cacheLine.Label = "Cache: " + units.Bytes(cache.TotalBytes(u.images)) + " in " + plural(len(u.images), "image", "images")
	}
	if ups := u.pendingUpdates(); len(ups) > 0 {
		t.updates.Label = "Updates: " + plural(len(ups), "image has a newer build", "images have newer builds")
		t.hide(t.updates, false)
	}
	t.pause.Disabled = !running
	t.resume.Disabled = !paused
}

// hide sets a slot's Hidden flag by its item.
func (t *trayMenu) hide(it *fyne.MenuItem, hidden bool) {
	for i := range t.slots {
		if t.slots[i].Item == it {
			t.slots[i].Hidden = hidden
			return
		}
	}
}

// visible lists the items of the slots shown.
func (t *trayMenu) visible() []*fyne.MenuItem {
	var out []*fyne.MenuItem
	for _, s := range t.slots {
		if !s.Hidden {
			out = append(out, s.Item)
		}
	}
	return out
}

// structure is which slots are shown and enabled: a change there is
// redrawn at once, not throttled like progress.
func (t *trayMenu) structure() string {
	var b strings.Builder
	for _, s := range t.slots {
		switch {
		case s.Hidden:
			b.WriteByte('h')
		case s.Item.Disabled:
			b.WriteByte('d')
		default:
			b.WriteByte('v')
		}
	}
	return b.String()
}

// signature is everything the tray shows, in one string.
func (t *trayMenu) signature() string {
	var b strings.Builder
	b.WriteString(t.structure())
	for _, s := range t.slots {
		if !s.Hidden {
			b.WriteString("\n" + s.Item.Label)
		}
	}
	b.WriteString("\n" + t.tooltip)
	return b.String()
}

// activeJobs lists the jobs that have not finished, oldest first.
func (u *UI) activeJobs() []core.Snapshot {
	var live []core.Snapshot
	for _, s := range u.liveJobs {
		live = append(live, s)
	}
	slices.SortFunc(live, func(a, b core.Snapshot) int { return a.ID - b.ID })
	return live
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
