// Package ui builds the window of VM Images — the catalog, downloads, cache
// and settings views — and the tray menu, over a core.Manager. It never
// imports fyne.io/fyne/v2/app, so its tests run on Fyne's test driver
// without a display or OpenGL.
//
// Threading: widgets change only on Fyne's thread, in widget callbacks or
// in functions handed to Options.Do (fyne.Do in the app). Every core call
// that may touch the disk or the network runs in its own goroutine and
// hands its result back through Options.Do. A ticker reads every job's
// Snapshot a few times a second and updates the rows that changed in one
// call to Options.Do.
//
// Update checks (core.Manager.CheckUpdates) run after the first cache
// listing, after every finished pull, every Options.UpdateEvery and when
// the catalog's "Check for update" asks, one at a time; what they find lives
// on Fyne's thread and shows as badges in the cache and catalog views and a
// line in the tray menu. A check and a catalog refresh never run together:
// the refresh changes the catalog the check reads.
package ui

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"vmimages/core"
	"vmimages/core/cache"
	"vmimages/core/catalog"
)

// Options configure a UI. The zero value is what the app uses.
type Options struct {
	// Do runs fn on Fyne's thread; nil means fyne.Do. Tests queue the
	// functions and run them on the test goroutine.
	Do func(fn func())
	// Tick is how often progress is read; 0 means 250 ms (4 Hz).
	Tick time.Duration
	// Now is the clock for ages such as "3 days ago"; nil means time.Now.
	Now func() time.Time
	// TrayHost reports whether a tray host shows the tray icon right now;
	// nil means there is none. It may block briefly: it runs in a
	// goroutine.
	TrayHost func() bool
	// Reveal shows a folder in the file manager; nil means xdg-open (open
	// on macOS). It runs in a goroutine.
	Reveal func(path string) error
	// Quit ends the app; nil means fyne.App.Quit.
	Quit func()
	// GOOS decides what the "auto" raw conversion default means; "" is
	// runtime.GOOS.
	GOOS string
	// OnAttach runs on Fyne's thread once the Manager is open and the
	// views are built.
	OnAttach func()
	// NoNotifications turns desktop notifications off, for a desktop
	// without a session bus to send them on.
	NoNotifications bool
	// Notify sends a desktop notification; it must not block. nil means
	// fyne.App.SendNotification.
	Notify func(title, body string)
	// UpdateEvery is how often the cached images are checked for newer
	// builds upstream, besides once after the first cache listing and after
	// every finished pull; 0 means 6 hours, negative never.
	UpdateEvery time.Duration
}

// UI is the window's content and the tray menu over one Manager.
type UI struct {
	app fyne.App
	win fyne.Window
	opt Options

	ctx  context.Context
	stop context.CancelFunc

	root     *fyne.Container // the loading screen, then the tabs
	loading  *widget.Label
	tabs     *container.AppTabs
	tabItems map[string]*container.TabItem

	// Set once by Attach, on Fyne's thread; read by goroutines it starts
	// after.
	m *core.Manager

	cat  *catalogView
	dl   *downloadsView
	cv   *cacheView
	set  *settingsView
	tray *trayMenu

	pruneDlg *pruneDialog // the prune dialog last opened

	// UI-thread state.
	images      []cache.Image // the last cache listing
	imagesByKey map[cache.Key]cache.Image
	freeSpace   int64 // -1 while unknown
	listed      bool  // images holds a listing
	liveJobs    map[cache.Key]core.Snapshot
	notified    map[int]bool   // jobs whose end was announced
	dialog      *shownDialog   // the dialog on top, nil when none
	dialogs     []*shownDialog // every dialog shown, oldest first
	settingsErr string         // why settings cannot be saved, if so
	hintedTray  bool           // the "still running in the tray" note was sent
	wantCached  *cache.Key     // select this image in the Cache tab once listed
	upd         updateState    // what the last update check found
	speeds      map[int]*speedMeter
	sizes       map[cache.Key]sizeInfo // download sizes looked up

	poke      chan struct{}
	tickBusy  atomic.Bool
	polls     atomic.Int64 // ticks run, for the idle test
	tickMu    sync.Mutex   // guards lastSnaps and lastOps
	lastSnaps []jobSnap
	lastOps   map[cache.Key]opState
	ops       opTable
	unsub     func()
	loopDone  chan struct{}
	reloadMu  sync.Mutex
	reloadN   int        // generation of cache listings, to drop stale ones
	netMu     sync.Mutex // one update check or catalog refresh at a time

	// stats count row refreshes, for tests that check the UI does no more
	// work per tick than needed.
	stats struct {
		ticks, downloadRows, cacheRows, fullDownloads, fullCache, trayRefreshes int
	}
}

// New builds the UI's shell on window w: a loading screen until Attach (or
// Open) brings a Manager. It does not show the window.
func New(a fyne.App, w fyne.Window, opt Options) *UI {
	if opt.Do == nil {
		opt.Do = fyne.Do
	}
	if opt.Tick <= 0 {
		opt.Tick = 250 * time.Millisecond
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.TrayHost == nil {
		opt.TrayHost = func() bool { return false }
	}
	if opt.Reveal == nil {
		opt.Reveal = revealInFileManager
	}
	if opt.Quit == nil {
		opt.Quit = a.Quit
	}
	if opt.GOOS == "" {
		opt.GOOS = runtime.GOOS
	}
	if opt.UpdateEvery == 0 {
		opt.UpdateEvery = updateCheckEvery
	}
	ctx, stop := context.WithCancel(context.Background())
	u := &UI{
		app: a, win: w, opt: opt, ctx: ctx, stop: stop,
		freeSpace: -1,
		liveJobs:  map[cache.Key]core.Snapshot{},
		speeds:    map[int]*speedMeter{},
		sizes:     map[cache.Key]sizeInfo{},
		notified:  map[int]bool{},
		poke:      make(chan struct{}, 1),
		ops:       opTable{m: map[cache.Key]*opState{}},
		upd:       newUpdateState(),
	}
	u.loading = widget.NewLabel("Opening the cache…")
	u.loading.Alignment = fyne.TextAlignCenter
	u.root = container.NewStack(container.NewCenter(u.loading))
	u.tray = newTrayMenu(u)
	u.addShortcuts()
	return u
}

// Content is the window's content: set it once; it changes inside.
func (u *UI) Content() fyne.CanvasObject { return u.root }

// Manager is the Manager in use, nil until Attach.
func (u *UI) Manager() *core.Manager { return u.m }

// do runs fn on Fyne's thread.
func (u *UI) do(fn func()) { u.opt.Do(fn) }

// Open reads the settings with load (core.LoadOptions in the app) and opens
// the Manager, both in a goroutine, then attaches it. When either fails a
// dialog says what happened and what to do.
func (u *UI) Open(load func() (core.Options, error)) {
	go func() {
		opts, err := load()
		if err != nil {
			u.do(func() { u.startupFailed(err, true) })
			return
		}
		u.openWith(opts)
	}()
}

func (u *UI) openWith(opts core.Options) {
	m, err := core.Open(u.ctx, opts)
	if err == nil {
		// The window shows and manages the cache: make its folder now, so
		// a folder that cannot be made is said at the start.
		if err = m.Cache().Create(); err != nil {
			m.Close()
		}
	}
	if err != nil {
		u.do(func() { u.startupFailed(err, false) })
		return
	}
	u.do(func() { u.Attach(m) })
}

// startupFailed explains why the Manager could not open. A broken settings
// file can be bypassed: the app then runs on defaults and saves nothing.
func (u *UI) startupFailed(err error, settings bool) {
	u.loading.SetText("VM Images could not start.")
	what, todo := explain(err, "Fix the problem above, then start VM Images again.")
	buttons := []dialogButton{{label: "Quit", action: u.opt.Quit}}
	if settings {
		todo = "Fix the settings file or delete it, then start VM Images again. You can also continue with the default settings for now; changes made in Settings will then not be saved."
		buttons = append(buttons, dialogButton{label: "Continue with defaults", important: true, action: func() {
			u.settingsErr = "The settings file has an error, so VM Images started with the defaults and cannot save changes. Fix or delete the file and start again: " + what
			u.loading.SetText("Opening the cache…")
			go func() {
				opts, err := defaultOptions()
				if err != nil {
					u.do(func() { u.startupFailed(err, false) })
					return
				}
				u.openWith(opts)
			}()
		}})
	}
	title := "The cache could not be opened"
	if settings {
		title = "The settings file has an error"
	}
	u.showMessage(title, theme.ErrorIcon(), what, todo, buttons)
}

// defaultOptions are the options without a settings file: the environment
// still counts (VMIMAGES_CACHE_DIR, VMIMAGES_MIRROR_*), and nothing is
// saved.
func defaultOptions() (core.Options, error) {
	missing := filepath.Join(os.TempDir(), "vmimages-no-settings", "none.toml")
	o, err := core.LoadOptions(missing, "", nil)
	o.ConfigPath = ""
	return o, err
}

// Attach builds the views over m and starts reading progress. Call it on
// Fyne's thread, once.
func (u *UI) Attach(m *core.Manager) {
	u.m = m
	u.cat = newCatalogView(u)
	u.dl = newDownloadsView(u)
	u.cv = newCacheView(u)
	u.set = newSettingsView(u)
	u.tabItems = map[string]*container.TabItem{
		"catalog":   container.NewTabItemWithIcon("Catalog", theme.SearchIcon(), u.cat.content),
		"downloads": container.NewTabItemWithIcon("Downloads", theme.DownloadIcon(), u.dl.content),
		"cache":     container.NewTabItemWithIcon("Cache", theme.StorageIcon(), u.cv.content),
		"settings":  container.NewTabItemWithIcon("Settings", theme.SettingsIcon(), u.set.content),
	}
	u.tabs = container.NewAppTabs(u.tabItems["catalog"], u.tabItems["downloads"], u.tabItems["cache"], u.tabItems["settings"])
	u.root.Objects = []fyne.CanvasObject{u.tabs}
	u.root.Refresh()
	u.unsub = m.Subscribe(u.pokeTick)
	u.loopDone = make(chan struct{})
	go u.loop()
	if u.opt.UpdateEvery > 0 {
		go u.updateLoop(u.opt.UpdateEvery)
	}
	u.reloadCache()
	u.tray.rebuild(true)
	if u.opt.OnAttach != nil {
		u.opt.OnAttach()
	}
}

// Close stops the ticker and the UI's goroutines. It does not close the
// Manager.
func (u *UI) Close() {
	u.stop()
	if u.unsub != nil {
		u.unsub()
	}
	if u.loopDone != nil {
		<-u.loopDone
	}
}

// ShowTab selects a tab by name: "catalog", "downloads", "cache" or
// "settings". Unknown names and calls before Attach do nothing.
func (u *UI) ShowTab(name string) {
	if it := u.tabItems[name]; it != nil {
		u.tabs.Select(it)
	}
}

// ShowWindow brings the window up, for the tray.
func (u *UI) ShowWindow() {
	u.win.Show()
	u.win.RequestFocus()
}

// CloseRequested handles the window's close button: with a tray host the
// window hides and the app keeps running in the tray; without one the app
// quits, after asking when downloads are running. Install it with
// SetCloseIntercept.
func (u *UI) CloseRequested() {
	go func() {
		host := u.opt.TrayHost()
		u.do(func() {
			if !host {
				u.QuitRequested()
				return
			}
			u.win.Hide()
			if !u.hintedTray {
				u.hintedTray = true
				u.notify("VM Images is still running",
					"Downloads continue in the background. Use the tray icon to open the window or quit.")
			}
		})
	}()
}

// QuitRequested quits, after asking when downloads are running (they
// resume at the next start). Ctrl+Q and closing the window without a tray
// come here; the tray's Quit quits at once.
func (u *UI) QuitRequested() {
	n := len(u.activeJobs())
	if n == 0 {
		u.opt.Quit()
		return
	}
	title := plural(n, "download", "downloads") + " in progress — quit anyway?"
	what := "What has arrived is kept: the download resumes where it stopped the next time you start VM Images."
	if n > 1 {
		what = "What has arrived is kept: the downloads resume where they stopped the next time you start VM Images."
	}
	u.showMessage(title, theme.QuestionIcon(), what, "", []dialogButton{
		{label: "Keep running"},
		{label: "Quit", important: true, action: u.opt.Quit},
	})
}

// pokeTick asks for a progress update soon; safe from any goroutine.
func (u *UI) pokeTick() {
	select {
	case u.poke <- struct{}{}:
	default:
	}
}

// loop reads progress on a ticker while something moves, and at once
// when poked (a job starts or ends, the user acts). With nothing moving it
// sleeps: an idle window does no periodic work.
func (u *UI) loop() {
	defer close(u.loopDone)
	t := time.NewTimer(u.opt.Tick)
	t.Stop()
	moving := true // the first tick tells
	for {
		var tc <-chan time.Time
		if moving {
			t.Reset(u.opt.Tick)
			tc = t.C
		}
		select {
		case <-u.ctx.Done():
			t.Stop()
			return
		case <-tc:
		case <-u.poke:
			t.Stop()
		}
		moving = u.tick()
	}
}

// jobSnap pairs a job with the snapshot read this tick.
type jobSnap struct {
	job  *core.Job
	snap core.Snapshot
	at   time.Time // when the snapshot was read
}

// tick reads every job's snapshot and the cache operations off Fyne's
// thread, then applies them in one Do. Nothing is posted when nothing
// changed since the last tick, and a tick that is still waiting to be
// applied makes the next one skip, so a busy UI thread is never flooded.
//
// It reports whether anything moves: a job that is neither finished nor
// paused, or a cache operation.
func (u *UI) tick() (moving bool) {
	u.tickMu.Lock()
	defer u.tickMu.Unlock()
	u.polls.Add(1)
	jobs := u.m.Jobs()
	snaps := make([]jobSnap, len(jobs))
	for i, j := range jobs {
		snaps[i] = jobSnap{job: j, snap: j.Snapshot(), at: time.Now()}
		if p := snaps[i].snap.Phase; !p.Finished() && p != core.PhasePaused {
			moving = true
		}
	}
	ops := u.ops.copy()
	moving = moving || len(ops) > 0
	if u.sameAsLastTick(snaps, ops) {
		return moving
	}
	if !u.tickBusy.CompareAndSwap(false, true) {
		return true // try again soon
	}
	u.lastSnaps, u.lastOps = snaps, ops
	u.do(func() {
		u.tickBusy.Store(false)
		u.apply(snaps, ops)
	})
	return moving
}

// sameAsLastTick reports whether snaps and ops are what the last posted
// tick carried; u.tickMu is held.
func (u *UI) sameAsLastTick(snaps []jobSnap, ops map[cache.Key]opState) bool {
	if u.lastSnaps == nil || len(snaps) != len(u.lastSnaps) || len(ops) != len(u.lastOps) {
		return false
	}
	for i := range snaps {
		if !sameSnapshot(snaps[i].snap, u.lastSnaps[i].snap) {
			return false
		}
	}
	for k, o := range ops {
		if u.lastOps[k] != o {
			return false
		}
	}
	return true
}

// apply brings every view up to date with one tick's data.
func (u *UI) apply(snaps []jobSnap, ops map[cache.Key]opState) {
	u.stats.ticks++
	snaps = slices.Clone(snaps) // the ticker keeps the originals to compare
	u.measureSpeeds(snaps)
	ended, pulled := false, false
	live := map[cache.Key]core.Snapshot{}
	active := 0
	for _, js := range snaps {
		s := js.snap
		if !s.Phase.Finished() {
			live[s.Key] = s
			active++
			continue
		}
		if u.notified[s.ID] {
			continue
		}
		u.notified[s.ID] = true
		ended = true
		pulled = pulled || s.Phase == core.PhaseDone
		u.announce(s)
	}
	u.liveJobs = live
	u.dl.update(snaps)
	u.cv.updateOps(ops)
	u.cv.updateLive(live)
	u.cat.updateJobs()
	title := "Downloads"
	if active > 0 {
		title = "Downloads (" + itoa(active) + ")"
	}
	if it := u.tabItems["downloads"]; it != nil && it.Text != title {
		it.Text = title
		u.tabs.Refresh()
	}
	u.showProgressInTitle()
	u.tray.rebuild(false)
	if ended {
		u.reloadCache()
	}
	if pulled {
		u.checkUpdates() // the cache changed: what is new upstream may too
	}
}

// showProgressInTitle puts the active downloads' progress in the window's
// title, "VM Images — 42 %", so that it shows in the task bar.
func (u *UI) showProgressInTitle() {
	title := "VM Images"
	var done, total int64
	for _, s := range u.liveJobs {
		if s.BytesTotal > 0 && s.Phase != core.PhasePaused {
			done += s.BytesDone
			total += s.BytesTotal
		}
	}
	if total > 0 {
		title += " — " + itoa(int(100*float64(done)/float64(total))) + " %"
	}
	if u.win.Title() != title {
		u.win.SetTitle(title)
	}
}

// announce tells the user a job ended: a notification, and for a failure
// the error in a dialog unless another dialog is already open.
func (u *UI) announce(s core.Snapshot) {
	switch s.Phase {
	case core.PhaseDone:
		body := s.Title + " is ready in the cache."
		if s.Build != "" {
			body = s.Title + " (build " + s.Build + ") is ready in the cache."
		}
		u.notify("Download finished", body)
	case core.PhaseFailed:
		what, _ := explainPull(s.Err)
		u.notify("Download failed", s.Title+": "+what)
		if u.dialog == nil {
			u.showFailure(s)
		}
	}
}

// notify sends a desktop notification.
func (u *UI) notify(title, body string) {
	switch {
	case u.opt.NoNotifications:
	case u.opt.Notify != nil:
		u.opt.Notify(title, body)
	default:
		u.app.SendNotification(fyne.NewNotification(title, body))
	}
}

// reloadCache lists the cache and the free space in a goroutine, then
// updates every view that shows them.
func (u *UI) reloadCache() {
	u.reloadMu.Lock()
	u.reloadN++
	gen := u.reloadN
	u.reloadMu.Unlock()
	go func() {
		images, err := u.m.List(u.ctx)
		free, ferr := u.m.FreeSpace()
		if ferr != nil {
			free = -1
		}
		u.reloadMu.Lock()
		stale := gen != u.reloadN
		u.reloadMu.Unlock()
		if stale || u.ctx.Err() != nil {
			return
		}
		u.do(func() {
			if err != nil {
				what, todo := explain(err, "Check that the cache folder exists and is readable, or choose another one in Settings.")
				u.cv.setError(what + " " + todo)
				return
			}
			u.setImages(images, free)
		})
	}()
}

// setImages installs a new cache listing in every view.
func (u *UI) setImages(images []cache.Image, free int64) {
	u.images = images
	u.freeSpace = free
	u.listed = true
	u.imagesByKey = make(map[cache.Key]cache.Image, len(images))
	for _, im := range images {
		u.imagesByKey[im.Key] = im
	}
	u.cv.setImages(images, free)
	if k := u.wantCached; k != nil && u.cv.Select(*k) {
		u.wantCached = nil
	}
	u.dl.setImages()
	u.cat.updateCached()
	u.tray.rebuild(false)
	if u.upd.started == 0 {
		u.checkUpdates() // the first look upstream, once the cache is known
	}
}

// pull starts a pull in a goroutine and asks for a prompt progress update.
func (u *UI) pull(ref catalog.Ref, opts core.PullOptions) {
	go func() {
		u.m.Pull(u.ctx, ref, opts)
		u.pokeTick()
	}()
}

// distroName is the distro's display name, or its id.
func (u *UI) distroName(id string) string {
	if d, err := u.m.Catalog().Distro(id); err == nil {
		return d.Name
	}
	return id
}

// imageTitle names a cached image for people: "Debian 12 x86_64".
func (u *UI) imageTitle(k cache.Key) string {
	return u.distroName(k.Distro) + " " + k.Version + " " + k.Arch
}

// refOf is the catalog ref of a cached image.
func refOf(k cache.Key) catalog.Ref {
	return catalog.Ref{Distro: k.Distro, Version: k.Version, Arch: k.Arch}
}

// pauseAll pauses every running job.
func (u *UI) pauseAll() {
	go func() {
		for _, j := range u.m.Jobs() {
			if p := j.Snapshot().Phase; !p.Finished() && p != core.PhasePaused {
				j.Pause()
			}
		}
		u.pokeTick()
	}()
}

// resumeAll resumes paused jobs and restarts downloads an earlier run left
// unfinished.
func (u *UI) resumeAll() {
	partial := u.dl.partialKeys()
	go func() {
		for _, j := range u.m.Jobs() {
			if j.Snapshot().Phase == core.PhasePaused {
				j.Resume()
				go u.pokeWhenResumed(j)
			}
		}
		for _, k := range partial {
			u.m.Pull(u.ctx, refOf(k), core.PullOptions{RawDefault: true})
		}
		u.pokeTick()
	}()
}

// pokeWhenResumed asks for a progress update once job j has left the
// paused state: the ticker sleeps while nothing moves, and a resumed job
// may take a moment to move again. It gives up after a while.
func (u *UI) pokeWhenResumed(j *core.Job) {
	t := time.NewTicker(u.opt.Tick)
	defer t.Stop()
	deadline := time.After(30 * time.Second)
	for j.Snapshot().Phase == core.PhasePaused {
		select {
		case <-t.C:
		case <-deadline:
			return
		case <-u.ctx.Done():
			return
		}
	}
	u.pokeTick()
}

// SelectEntry shows distro id at version ver (a name, codename or
// "latest") in the Catalog tab, and selects its image for this machine's
// arch in the Cache tab once the cache is listed. False when the catalog
// has no such entry.
func (u *UI) SelectEntry(id, ver string) bool {
	if u.cat == nil || !u.cat.Select(id, ver) {
		return false
	}
	k := u.cat.key()
	u.wantCached = &k
	if u.listed && u.cv.Select(k) {
		u.wantCached = nil
	}
	return true
}

// Pull starts pulling ref, as the Download button does.
func (u *UI) Pull(ref catalog.Ref, raw bool) {
	if u.m != nil {
		u.pull(ref, core.PullOptions{Raw: raw})
	}
}

// ShowPrune opens the prune dialog with its fields filled from in.
func (u *UI) ShowPrune(in PruneInput) { u.showPrune(&in) }
