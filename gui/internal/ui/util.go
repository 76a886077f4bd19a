package ui

import (
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"vmimages/core/cache"
)

func itoa(n int) string { return strconv.Itoa(n) }

// plural is "1 image" or "3 images".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return itoa(n) + " " + many
}

// opKind is a long cache operation on one image.
type opKind string

const (
	opVerify  opKind = "verifying"
	opConvert opKind = "converting"
	opDelete  opKind = "deleting"
	opPush    opKind = "publishing"
)

// opState is the progress of one cache operation.
type opState struct {
	kind        opKind
	done, total int64  // bytes hashed so far, for verify
	note        string // the step under way, for a push
}

// fraction is done/total in [0,1], or -1 when unknown.
func (o opState) fraction() float64 {
	if o.total <= 0 {
		return -1
	}
	return min(1, float64(o.done)/float64(o.total))
}

// opTable holds the cache operations in flight; goroutines write it, the
// ticker copies it.
type opTable struct {
	mu sync.Mutex
	m  map[cache.Key]*opState
}

// start records an operation; false when one already runs on k.
func (t *opTable) start(k cache.Key, kind opKind) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.m[k] != nil {
		return false
	}
	t.m[k] = &opState{kind: kind}
	return true
}

// progress updates an operation's byte counts.
func (t *opTable) progress(k cache.Key, done, total int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if o := t.m[k]; o != nil {
		o.done, o.total = done, total
	}
}

// progressNote updates an operation's byte counts and its step.
func (t *opTable) progressNote(k cache.Key, done, total int64, note string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if o := t.m[k]; o != nil {
		o.done, o.total, o.note = done, total, note
	}
}

// end forgets an operation.
func (t *opTable) end(k cache.Key) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.m, k)
}

// copy returns the operations in flight.
func (t *opTable) copy() map[cache.Key]opState {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make(map[cache.Key]opState, len(t.m))
	for k, o := range t.m {
		out[k] = *o
	}
	return out
}

// NoSessionBusAddress is what the app sets DBUS_SESSION_BUS_ADDRESS to when
// the desktop has no session bus, so that no library starts one on its
// own; child processes get the variable removed again.
const NoSessionBusAddress = "unix:path=/nonexistent/vmimages-no-session-bus"

// revealInFileManager opens dir in the desktop's file manager.
func revealInFileManager(dir string) error {
	var cmd *exec.Cmd
	switch runtime.GOOS {
	case "darwin":
		cmd = exec.Command("open", dir)
	case "windows":
		cmd = exec.Command("explorer", dir)
	default:
		cmd = exec.Command("xdg-open", dir)
	}
	cmd.Env = childEnv()
	if err := cmd.Start(); err != nil {
		return err
	}
	go cmd.Wait() //nolint:errcheck // the file manager's exit status tells nothing
	return nil
}

// childEnv is the environment for programs the app starts.
func childEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if kv == "DBUS_SESSION_BUS_ADDRESS="+NoSessionBusAddress {
			continue
		}
		env = append(env, kv)
	}
	return env
}

// columns lays cells out side by side: every cell has a fixed width except
// the first, which takes the rest. Header and rows share one columns value,
// so they line up.
type columns struct {
	widths []float32 // widths[0] is the first column's minimum
}

// Layout places the cells left to right, each vertically centred.
func (c *columns) Layout(objects []fyne.CanvasObject, size fyne.Size) {
	pad := theme.Padding()
	fixed := c.fixedWidth(len(objects))
	x := float32(0)
	for i, o := range objects {
		w := c.width(i)
		if i == 0 {
			w = max(size.Width-fixed, 0)
		}
		h := o.MinSize().Height
		o.Move(fyne.NewPos(x, (size.Height-h)/2))
		o.Resize(fyne.NewSize(w, h))
		x += w + pad
	}
}

// MinSize is the fixed widths plus the first column's minimum.
func (c *columns) MinSize(objects []fyne.CanvasObject) fyne.Size {
	var h float32
	for _, o := range objects {
		h = max(h, o.MinSize().Height)
	}
	return fyne.NewSize(c.fixedWidth(len(objects))+c.width(0), h)
}

func (c *columns) width(i int) float32 {
	if i < len(c.widths) {
		return c.widths[i]
	}
	return 100
}

// fixedWidth is the width of every column but the first, with padding.
func (c *columns) fixedWidth(n int) float32 {
	var w float32
	for i := 1; i < n; i++ {
		w += c.width(i) + theme.Padding()
	}
	return w
}

// matches reports whether every word of query is in one of the fields.
func matches(query string, fields ...string) bool {
	hay := strings.ToLower(strings.Join(fields, " "))
	for _, w := range strings.Fields(strings.ToLower(query)) {
		if !strings.Contains(hay, w) {
			return false
		}
	}
	return true
}

// setLabel changes a label only when its text or importance differ: every
// Refresh re-measures the text, and list rows are redrawn on every tick.
func setLabel(l *widget.Label, text string, imp widget.Importance) {
	if l.Text == text && l.Importance == imp {
		return
	}
	l.Text, l.Importance = text, imp
	l.Refresh()
}

// setText changes a label's text only when it differs.
func setText(l *widget.Label, text string) { setLabel(l, text, l.Importance) }

// setButtonText changes a button's text only when it differs.
func setButtonText(b *widget.Button, text string) {
	if b.Text != text {
		b.SetText(text)
	}
}

// setVisible shows or hides o.
func setVisible(o fyne.CanvasObject, on bool) {
	if on {
		o.Show()
	} else {
		o.Hide()
	}
}
