package ui

import (
	"cmp"
	"path/filepath"
	"slices"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/widget"

	"vmimages/core/cache"
)

// rowMenu wraps a list or tree row so that a right click opens a menu of
// the row's actions.
type rowMenu struct {
	widget.BaseWidget
	content fyne.CanvasObject
	key     cache.Key // the cache row's image
	id      string    // the tree row's node
	menu    func(*rowMenu) *fyne.Menu
}

func newRowMenu(content fyne.CanvasObject, menu func(*rowMenu) *fyne.Menu) *rowMenu {
	r := &rowMenu{content: content, menu: menu}
	r.ExtendBaseWidget(r)
	return r
}

// CreateRenderer draws the row's content.
func (r *rowMenu) CreateRenderer() fyne.WidgetRenderer { return widget.NewSimpleRenderer(r.content) }

// TappedSecondary opens the row's menu where the pointer is.
func (r *rowMenu) TappedSecondary(ev *fyne.PointEvent) {
	m := r.menu(r)
	if m == nil {
		return
	}
	if c := fyne.CurrentApp().Driver().CanvasForObject(r); c != nil {
		widget.ShowPopUpMenuAtPosition(m, c, ev.AbsolutePosition)
	}
}

// buttonItem is a menu item that does what button b does, enabled as it is.
func buttonItem(b *widget.Button) *fyne.MenuItem {
	it := fyne.NewMenuItem(b.Text, func() {
		if !b.Disabled() && b.OnTapped != nil {
			b.OnTapped()
		}
	})
	it.Disabled = b.Disabled()
	return it
}

// rowMenu is a cache row's menu: it selects the row, then offers what the
// buttons under the list offer.
func (c *cacheView) rowMenu(r *rowMenu) *fyne.Menu {
	if !c.Select(r.key) {
		return nil
	}
	return c.actionsMenu()
}

// actionsMenu lists the selected image's actions, as its buttons are now.
func (c *cacheView) actionsMenu() *fyne.Menu {
	im, ok := c.selected()
	if !ok {
		return nil
	}
	copyPath := fyne.NewMenuItem("Copy path", nil)
	copyPath.ChildMenu = c.copyMenu(im)
	items := []*fyne.MenuItem{buttonItem(c.verify), buttonItem(c.convert), buttonItem(c.reveal), copyPath}
	if c.newDisk.Visible() {
		items = append(items, buttonItem(c.newDisk))
	}
	items = append(items, buttonItem(c.publish))
	if c.update.Visible() {
		items = append(items, buttonItem(c.update))
	}
	items = append(items, fyne.NewMenuItemSeparator(), buttonItem(c.remove))
	return fyne.NewMenu("", items...)
}

// copyMenu offers the paths of an image's files — the disk first — and of
// its folder.
func (c *cacheView) copyMenu(im cache.Image) *fyne.Menu {
	var items []*fyne.MenuItem
	add := func(label, path string) {
		items = append(items, fyne.NewMenuItem(label+" — "+filepath.Base(path), func() { c.copyToClipboard(path) }))
	}
	if m := im.Meta; m != nil {
		for _, role := range []string{cache.RoleDisk, cache.RoleKernel, cache.RoleInitramfs} {
			if a := m.Asset(role); a != nil {
				label := strings.ToUpper(role[:1]) + role[1:]
				if role == cache.RoleDisk {
					label = "Disk (" + a.Format + ")"
				}
				add(label, filepath.Join(im.Path, a.File))
			}
			if role == cache.RoleDisk && m.DiskRaw != nil {
				add("Raw disk", filepath.Join(im.Path, m.DiskRaw.File))
			}
		}
	}
	items = append(items, fyne.NewMenuItem("Folder", func() { c.copyToClipboard(im.Path) }))
	return fyne.NewMenu("Copy path", items...)
}

// copyToClipboard puts path on the clipboard and says so.
func (c *cacheView) copyToClipboard(path string) {
	c.u.app.Clipboard().SetContent(path)
	c.selStatus.SetText("Copied " + path + " to the clipboard.")
}

// showCopyMenu opens the Copy path menu under its button.
func (c *cacheView) showCopyMenu() {
	im, ok := c.selected()
	if !ok {
		return
	}
	cv := fyne.CurrentApp().Driver().CanvasForObject(c.copyPath)
	if cv == nil {
		return
	}
	widget.ShowPopUpMenuAtRelativePosition(c.copyMenu(im), cv, fyne.NewPos(0, c.copyPath.Size().Height), c.copyPath)
}

// nodeMenu is a catalog entry's menu: it shows the entry, then offers the
// detail's main action and, for a cached image, the Cache tab.
func (c *catalogView) nodeMenu(r *rowMenu) *fyne.Menu {
	d, v := c.lookup(r.id)
	if v == nil {
		return nil
	}
	c.tree.Select(r.id)
	c.show(d, v)
	items := []*fyne.MenuItem{buttonItem(c.download)}
	k := c.key()
	if _, ok := c.u.imagesByKey[k]; ok {
		items = append(items, fyne.NewMenuItem("Show in the Cache tab", func() {
			c.u.ShowTab("cache")
			c.u.cv.Select(k)
		}))
	}
	return fyne.NewMenu("", items...)
}

// TappedSecondary opens a download row's menu: the row's buttons.
func (it *dlItem) TappedSecondary(ev *fyne.PointEvent) {
	var items []*fyne.MenuItem
	for _, b := range []*widget.Button{it.pause, it.resume, it.details, it.cancel, it.remove} {
		if b.Visible() {
			items = append(items, buttonItem(b))
		}
	}
	if len(items) == 0 {
		return
	}
	if c := fyne.CurrentApp().Driver().CanvasForObject(it); c != nil {
		widget.ShowPopUpMenuAtPosition(fyne.NewMenu("", items...), c, ev.AbsolutePosition)
	}
}

// MainMenu is the window's menu bar, to install with SetMainMenu: every
// action that is not tied to one row, with its shortcut. Menu shortcuts
// work even while a text field has the focus.
func (u *UI) MainMenu() *fyne.MainMenu {
	mod := fyne.KeyModifierShortcutDefault
	withKey := func(it *fyne.MenuItem, key fyne.KeyName) *fyne.MenuItem {
		it.Shortcut = &desktop.CustomShortcut{KeyName: key, Modifier: mod}
		return it
	}
	whenAttached := func(fn func()) func() {
		return func() {
			if u.m != nil {
				fn()
			}
		}
	}
	quit := withKey(fyne.NewMenuItem("Quit", u.QuitRequested), fyne.KeyQ)
	quit.IsQuit = true
	settings := fyne.NewMenuItem("Settings", func() { u.ShowTab("settings") })
	file := fyne.NewMenu("File",
		withKey(fyne.NewMenuItem("Refresh", u.refreshTab), fyne.KeyR),
		withKey(fyne.NewMenuItem("Find", u.focusSearch), fyne.KeyF),
		settings,
		fyne.NewMenuItemSeparator(),
		quit)
	downloads := fyne.NewMenu("Downloads",
		fyne.NewMenuItem("Pause all", whenAttached(u.pauseAll)),
		fyne.NewMenuItem("Resume all", whenAttached(u.resumeAll)),
		fyne.NewMenuItem("Clear finished", whenAttached(func() { u.dl.clearFinished() })),
		fyne.NewMenuItem("Show downloads", func() { u.ShowTab("downloads") }))
	cacheMenu := fyne.NewMenu("Cache",
		fyne.NewMenuItem("Verify all", whenAttached(func() { u.ShowTab("cache"); u.cv.startVerifyAll() })),
		fyne.NewMenuItem("Prune…", whenAttached(func() { u.ShowTab("cache"); u.showPrune(nil) })),
		fyne.NewMenuItem("Show cache", func() { u.ShowTab("cache") }))
	return fyne.NewMainMenu(file, downloads, cacheMenu)
}

// sortColumns are the cache list's sortable columns, by header index.
var sortColumns = []string{"Image", "Build", "State", "Size", "Last used"}

// sortImages orders the shown images by the chosen column.
func (c *cacheView) sortImages() {
	slices.SortStableFunc(c.shown, func(a, b cache.Image) int {
		var r int
		switch c.sortCol {
		case 1:
			r = cmp.Compare(a.Build, b.Build)
		case 2:
			r = cmp.Compare(string(a.State), string(b.State))
		case 3:
			r = cmp.Compare(a.SizeBytes, b.SizeBytes)
		case 4:
			r = a.LastUsed.Compare(b.LastUsed)
		}
		if r == 0 {
			r = cmp.Compare(c.u.imageTitle(a.Key), c.u.imageTitle(b.Key))
		}
		if c.sortDesc {
			r = -r
		}
		return r
	})
}

// sortBy sorts by column i; again on the same column reverses the order.
// Size and last use start with the largest and newest.
func (c *cacheView) sortBy(i int) {
	if c.sortCol == i {
		c.sortDesc = !c.sortDesc
	} else {
		c.sortCol, c.sortDesc = i, i == 3 || i == 4
	}
	for j, b := range c.headers {
		text := sortColumns[j]
		if j == c.sortCol {
			text += map[bool]string{false: " ▲", true: " ▼"}[c.sortDesc]
		}
		setButtonText(b, text)
	}
	c.applyFilter()
}
