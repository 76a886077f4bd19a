package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/widget"
)

// addShortcuts installs the window's keyboard shortcuts; Ctrl stands for
// Cmd on macOS (fyne.KeyModifierShortcutDefault). The main menu carries
// the same shortcuts, which work even while a text field has the focus.
// Keys without a modifier (F5, Delete, Enter, Esc) act when no field has
// the focus; Enter and Delete also work in the catalog tree and the cache
// list.
func (u *UI) addShortcuts() {
	c := u.win.Canvas()
	for _, s := range u.shortcuts() {
		fn := s.fn
		c.AddShortcut(&desktop.CustomShortcut{KeyName: s.key, Modifier: s.mod}, func(fyne.Shortcut) { fn() })
	}
	c.SetOnTypedKey(u.typedKey)
}

// shortcut is one keyboard shortcut with a modifier.
type shortcut struct {
	key fyne.KeyName
	mod fyne.KeyModifier
	fn  func()
}

func (u *UI) shortcuts() []shortcut {
	mod := fyne.KeyModifierShortcutDefault
	return []shortcut{
		{fyne.KeyQ, mod, u.QuitRequested},
		{fyne.KeyF, mod, u.focusSearch},
		{fyne.KeyR, mod, u.refreshTab},
	}
}

// typedKey handles the keys without a modifier that no widget took.
func (u *UI) typedKey(ev *fyne.KeyEvent) {
	switch ev.Name {
	case fyne.KeyEscape:
		if u.dialog != nil {
			u.dialog.Hide()
		}
	case fyne.KeyF5:
		u.refreshTab()
	case fyne.KeyDelete:
		if u.tab() == "cache" && u.dialog == nil {
			u.cv.deleteSelected()
		}
	case fyne.KeyReturn, fyne.KeyEnter:
		if u.tab() == "catalog" && u.dialog == nil {
			u.cat.enter()
		}
	}
}

// tab is the name of the tab shown, "" before Attach.
func (u *UI) tab() string {
	if u.tabs == nil {
		return ""
	}
	for name, it := range u.tabItems {
		if u.tabs.Selected() == it {
			return name
		}
	}
	return ""
}

// focusSearch puts the cursor in the search field of the tab shown: the
// catalog's search, or the cache's filter; from another tab, the catalog's.
func (u *UI) focusSearch() {
	if u.tabs == nil {
		return
	}
	e := u.cat.search
	if u.tab() == "cache" {
		e = u.cv.filter
	} else {
		u.ShowTab("catalog")
	}
	u.win.Canvas().Focus(e)
}

// refreshTab refreshes what the tab shows: the catalog asks upstream for
// new releases; the other tabs list the cache again.
func (u *UI) refreshTab() {
	switch u.tab() {
	case "":
	case "catalog":
		u.cat.startRefresh()
	default:
		u.reloadCache()
	}
}

// enter does what Enter on a catalog entry means: the detail's main
// button (Download, Resume, Update, Check for update) when it is enabled.
func (c *catalogView) enter() {
	if c.version != nil && !c.download.Disabled() && c.download.Visible() {
		c.startDownload()
	}
}

// keyTree is the catalog's tree: Enter on an entry selects it and starts
// its download, like the Download button.
type keyTree struct {
	widget.Tree
	onEnter func()
}

// TypedKey handles Enter; other keys move through the tree as usual.
func (t *keyTree) TypedKey(ev *fyne.KeyEvent) {
	if ev.Name == fyne.KeyReturn || ev.Name == fyne.KeyEnter {
		t.Tree.TypedKey(&fyne.KeyEvent{Name: fyne.KeySpace}) // selects the focused entry
		t.onEnter()
		return
	}
	t.Tree.TypedKey(ev)
}

// keyList is the cache's list: Delete asks to delete the focused image.
type keyList struct {
	widget.List
	onDelete func()
}

// TypedKey handles Delete; other keys move through the list as usual.
func (l *keyList) TypedKey(ev *fyne.KeyEvent) {
	if ev.Name == fyne.KeyDelete {
		l.List.TypedKey(&fyne.KeyEvent{Name: fyne.KeySpace}) // selects the focused row
		l.onDelete()
		return
	}
	l.List.TypedKey(ev)
}
