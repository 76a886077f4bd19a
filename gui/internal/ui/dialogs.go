package ui

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// dialogButton is one button of a dialog; a nil action just closes it.
type dialogButton struct {
	label     string
	important bool
	danger    bool
	keepOpen  bool
	action    func()
}

// shownDialog records a dialog the UI opened: the window shows it, and
// tests read and tap it here.
type shownDialog struct {
	Title   string
	Text    string
	Buttons map[string]*widget.Button
	d       *dialog.CustomDialog
	closed  bool
}

// Hide closes the dialog.
func (s *shownDialog) Hide() { s.d.Hide() }

// showMessage opens a dialog that says what happened and, when todo is not
// empty, what to do about it. With no buttons it gets a Close button.
func (u *UI) showMessage(title string, icon fyne.Resource, what, todo string, buttons []dialogButton) *shownDialog {
	items := []fyne.CanvasObject{wrapLabel(what)}
	text := what
	if todo != "" {
		items = append(items, widget.NewLabelWithStyle("What to do", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}), wrapLabel(todo))
		text += "\n" + todo
	}
	return u.showCustom(title, icon, container.NewVBox(items...), text, buttons)
}

// confirm asks before something that cannot be undone.
func (u *UI) confirm(title, what, confirmLabel string, onConfirm func()) *shownDialog {
	return u.showMessage(title, theme.WarningIcon(), what, "", []dialogButton{
		{label: "Cancel"},
		{label: confirmLabel, danger: true, action: onConfirm},
	})
}

// showCustom opens a dialog with body and buttons, at a width where text
// wraps into readable lines.
func (u *UI) showCustom(title string, icon fyne.Resource, body fyne.CanvasObject, text string, buttons []dialogButton) *shownDialog {
	if len(buttons) == 0 {
		buttons = []dialogButton{{label: "Close", important: true}}
	}
	sd := &shownDialog{Title: title, Text: text, Buttons: map[string]*widget.Button{}}
	content := container.New(&widthLayout{width: 520}, body)
	if icon != nil {
		content = container.NewBorder(nil, nil, container.NewVBox(widget.NewIcon(icon)), nil, content)
	}
	d := dialog.NewCustomWithoutButtons(title, content, u.win)
	var objs []fyne.CanvasObject
	for _, b := range buttons {
		btn := widget.NewButton(b.label, nil)
		action, keep := b.action, b.keepOpen
		btn.OnTapped = func() {
			if !keep {
				d.Hide()
			}
			if action != nil {
				action()
			}
		}
		switch {
		case b.danger:
			btn.Importance = widget.DangerImportance
		case b.important:
			btn.Importance = widget.HighImportance
		}
		objs = append(objs, btn)
		sd.Buttons[b.label] = btn
	}
	d.SetButtons(objs)
	d.SetOnClosed(func() {
		sd.closed = true
		if u.dialog == sd {
			u.dialog = nil
		}
	})
	sd.d = d
	u.dialog = sd
	u.dialogs = append(u.dialogs, sd)
	d.Show()
	return sd
}

// wrapLabel is a label that wraps at word boundaries.
func wrapLabel(s string) *widget.Label {
	l := widget.NewLabel(s)
	l.Wrapping = fyne.TextWrapWord
	return l
}

// widthLayout gives its objects a fixed width and the height they need at
// that width, so wrapped text in a dialog reads as a paragraph rather than
// a column of single words.
type widthLayout struct{ width float32 }

// MinSize lays the objects out at the fixed width and reports their height.
func (l *widthLayout) MinSize(objects []fyne.CanvasObject) fyne.Size {
	var h float32
	for _, o := range objects {
		o.Resize(fyne.NewSize(l.width, o.MinSize().Height))
		h = max(h, o.MinSize().Height)
	}
	return fyne.NewSize(l.width, h)
}

// Layout gives every object the whole space.
func (l *widthLayout) Layout(objects []fyne.CanvasObject, size fyne.Size) {
	for _, o := range objects {
		o.Move(fyne.NewPos(0, 0))
		o.Resize(size)
	}
}

// sentence capitalizes s and ends it with a full stop.
func sentence(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return s
	}
	r, n := utf8.DecodeRuneInString(s)
	s = string(unicode.ToUpper(r)) + s[n:]
	if !strings.HasSuffix(s, ".") && !strings.HasSuffix(s, "?") && !strings.HasSuffix(s, "!") {
		s += "."
	}
	return s
}
