package gui

import (
	"bufio"
	"bytes"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"

	"vmimages/internal/mirrortest"
)

// registration is one RegisterStatusNotifierItem call.
type registration struct {
	sender dbus.Sender
	item   string
}

// watcher is a minimal StatusNotifierWatcher: it records the items that
// register, which is all a tray host needs to find their menus.
type watcher struct {
	items chan registration
}

// RegisterStatusNotifierItem records an item; service is its object path
// (or bus name) as the item sends it.
func (w *watcher) RegisterStatusNotifierItem(sender dbus.Sender, service string) *dbus.Error {
	w.items <- registration{sender: sender, item: service}
	return nil
}

// notification is one org.freedesktop.Notifications.Notify call.
type notification struct {
	app, summary, body string
}

// notifications is a minimal notification server: it records what it is
// asked to show.
type notifications struct {
	got chan notification
}

// Notify records a notification and returns its id.
func (n *notifications) Notify(app string, replaces uint32, icon, summary, body string, actions []string,
	hints map[string]dbus.Variant, timeout int32) (uint32, *dbus.Error) {
	n.got <- notification{app: app, summary: summary, body: body}
	return 1, nil
}

// trayItem is one entry of a dbusmenu layout.
type trayItem struct {
	id      int32
	label   string
	enabled bool
	visible bool
}

// trayMenu reads a tray item's menu the way a tray host does.
type trayMenu struct {
	t    *testing.T
	menu dbus.BusObject
}

// items calls com.canonical.dbusmenu.GetLayout on the whole menu.
func (m trayMenu) items() ([]trayItem, error) {
	var revision uint32
	var root layoutNode
	call := m.menu.Call("com.canonical.dbusmenu.GetLayout", 0, int32(0), int32(-1), []string{})
	if err := call.Store(&revision, &root); err != nil {
		return nil, err
	}
	var out []trayItem
	collect(root.Children, &out)
	return out, nil
}

// find is the visible item whose label starts with prefix.
func find(items []trayItem, prefix string) (trayItem, bool) {
	for _, it := range items {
		if it.visible && it.label != "" && strings.HasPrefix(it.label, prefix) {
			return it, true
		}
	}
	return trayItem{}, false
}

// waitFor polls the menu until cond holds, failing after 20 s.
func (m trayMenu) waitFor(what string, out *syncBuffer, cond func([]trayItem) bool) []trayItem {
	m.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		items, err := m.items()
		if err == nil && cond(items) {
			return items
		}
		if time.Now().After(deadline) {
			m.t.Fatalf("tray menu: timed out waiting for %s: %+v (err %v)\n%s", what, items, err, out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// click sends the "clicked" event a tray host sends when an item is chosen.
func (m trayMenu) click(it trayItem) {
	m.t.Helper()
	call := m.menu.Call("com.canonical.dbusmenu.Event", 0, it.id, "clicked", dbus.MakeVariant(""), uint32(0))
	if call.Err != nil {
		m.t.Fatalf("clicking %q: %v", it.label, call.Err)
	}
}

// pausedDisk serves a 4 MiB Debian 12 disk that never completes: the first
// request gets 1 MiB, a ranged one 64 KiB, then both stall until the
// client goes away. ranged receives every Range header.
func pausedDisk(t *testing.T) (srv *mirrortest.Server, ranged chan string) {
	srv = mirrortest.New(t)
	disk := mirrortest.Payload("bookworm-tray", 4<<20)
	srv.AddDebian("/debian", "12", "bookworm", "20260810-2566", "amd64", disk)
	ranged = make(chan string, 16)
	srv.SetFault(func(w http.ResponseWriter, r *http.Request) bool {
		if !strings.HasSuffix(r.URL.Path, ".qcow2") || r.Method != http.MethodGet {
			return false
		}
		w.Header().Set("Accept-Ranges", "bytes")
		w.Header().Set("ETag", `"`+mirrortest.SHA256(disk)[:16]+`"`)
		from, send := 0, 1<<20
		if rng := r.Header.Get("Range"); rng != "" {
			ranged <- rng
			fmt.Sscanf(rng, "bytes=%d-", &from)
			send = 64 << 10
			w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", from, len(disk)-1, len(disk)))
			w.Header().Set("Content-Length", fmt.Sprint(len(disk)-from))
			w.WriteHeader(http.StatusPartialContent)
		} else {
			w.Header().Set("Content-Length", fmt.Sprint(len(disk)))
			w.WriteHeader(http.StatusOK)
		}
		w.Write(disk[from : from+send])
		w.(http.Flusher).Flush()
		<-r.Context().Done()
		return true
	})
	return srv, ranged
}

// windowVisible reports whether the app's window is mapped on display.
func windowVisible(display string) bool {
	cmd := exec.Command("xdotool", "search", "--onlyvisible", "--name", "^VM Images")
	cmd.Env = append(os.Environ(), "DISPLAY="+display)
	out, err := cmd.Output()
	return err == nil && strings.TrimSpace(string(out)) != ""
}

// waitWindow waits until the window's visibility is want.
func waitWindow(t *testing.T, display string, want bool, what string, out *syncBuffer) {
	t.Helper()
	// Generous: on a loaded two-core CI machine mapping a window under
	// Xvfb can take many seconds; the loop ends as soon as the state holds.
	deadline := time.Now().Add(60 * time.Second)
	for windowVisible(display) != want {
		if time.Now().After(deadline) {
			t.Fatalf("%s: the window is not %s after 60 s\n%s", what, map[bool]string{true: "shown", false: "hidden"}[want], out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// closeUntilHidden presses Alt+F4 until the window is hidden: a key press
// sent before the window manager has taken the window over is lost, so one
// press is not proof that closing does not work; a minute of presses is.
func closeUntilHidden(t *testing.T, display, what string, out *syncBuffer) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for windowVisible(display) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: the window is not hidden after 60 s of Alt+F4\n%s", what, out.String())
		}
		closeWindow(t, display)
		for wait := time.Now().Add(3 * time.Second); windowVisible(display) && time.Now().Before(wait); {
			time.Sleep(50 * time.Millisecond)
		}
	}
}

// closeWindow presses Alt+F4, which the window manager turns into a close
// request to the window.
func closeWindow(t *testing.T, display string) {
	t.Helper()
	cmd := exec.Command("sh", "-c", `wid=$(xdotool search --onlyvisible --name '^VM Images' | head -n1); [ -z "$wid" ] || xdotool windowactivate --sync "$wid" key alt+F4`)
	cmd.Env = append(os.Environ(), "DISPLAY="+display)
	if out, err := cmd.CombinedOutput(); err != nil && windowVisible(display) {
		t.Fatalf("closing the window: %v\n%s", err, out)
	}
}

// TestTrayOverSessionBus runs the real app on a private session bus where
// a tray host (a StatusNotifierWatcher) runs, under a window manager, with
// a download an earlier run left unfinished. It reads the item the way a
// tray host does and clicks every menu item over D-Bus, checking what each
// does: Resume all and Pause all drive the download (the mirror sees the
// ranged request; the menu follows), the items that open the window show
// it after the window manager's close hid it (the first close sends a
// notification from "VM Images"), item ids stay the same while the menu
// changes, and Quit ends the process with status 0.
func TestTrayOverSessionBus(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: skipping the real-window tray test")
	}
	needTools(t, "dbus-daemon", "Xvfb", "openbox", "xdotool")
	bin := appBinary(t)
	dir := t.TempDir()
	addr := startBus(t, dir)
	display := startXvfb(t)
	startWM(t, display)
	srv, ranged := pausedDisk(t)

	env := append(os.Environ(),
		"DISPLAY="+display,
		"DBUS_SESSION_BUS_ADDRESS="+addr,
		"XDG_CONFIG_HOME="+filepath.Join(dir, "config"),
		"XDG_CACHE_HOME="+filepath.Join(dir, "xdg-cache"),
		"VMIMAGES_CACHE_DIR="+filepath.Join(dir, "cache"),
		"VMIMAGES_MIRROR_DEBIAN="+srv.URL+"/debian/",
		"LANG=en_US.UTF-8",
	)

	// An earlier run (the command line) leaves Debian 12 partly downloaded.
	part := filepath.Join(dir, "cache", "images", "debian", "12", "x86_64", ".partial", "disk.qcow2.part")
	pull := exec.Command(bin, "pull", "debian", "12", "--arch", "x86_64")
	pull.Env = env
	if err := pull.Start(); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(30 * time.Second); ; {
		if fi, err := os.Stat(part); err == nil && fi.Size() >= 1<<20 {
			break
		}
		if time.Now().After(deadline) {
			pull.Process.Kill()
			pull.Wait()
			t.Fatal("the command line never wrote 1 MiB of the disk")
		}
		time.Sleep(20 * time.Millisecond)
	}
	pull.Process.Kill()
	pull.Wait()

	conn, err := dbus.Connect(addr)
	if err != nil {
		t.Fatalf("connecting to the test bus: %v", err)
	}
	defer conn.Close()
	w := &watcher{items: make(chan registration, 8)}
	if err := conn.Export(w, "/StatusNotifierWatcher", watcherName); err != nil {
		t.Fatal(err)
	}
	if reply, err := conn.RequestName(watcherName, dbus.NameFlagDoNotQueue); err != nil || reply != dbus.RequestNameReplyPrimaryOwner {
		t.Fatalf("owning %s: %v (reply %v)", watcherName, err, reply)
	}
	notes := &notifications{got: make(chan notification, 16)}
	if err := conn.Export(notes, "/org/freedesktop/Notifications", "org.freedesktop.Notifications"); err != nil {
		t.Fatal(err)
	}
	if reply, err := conn.RequestName("org.freedesktop.Notifications", dbus.NameFlagDoNotQueue); err != nil || reply != dbus.RequestNameReplyPrimaryOwner {
		t.Fatalf("owning org.freedesktop.Notifications: %v (reply %v)", err, reply)
	}

	var out syncBuffer
	app := exec.Command(bin)
	app.Env = env
	app.Stdout, app.Stderr = &out, &out
	if err := app.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- app.Wait() }()
	t.Cleanup(func() {
		app.Process.Kill()
		<-exited
	})

	var reg registration
	select {
	case reg = <-w.items:
	case err := <-exited:
		t.Fatalf("the app exited (%v) before registering a tray item:\n%s", err, out.String())
	case <-time.After(30 * time.Second):
		t.Fatalf("no RegisterStatusNotifierItem within 30 s:\n%s", out.String())
	}
	path := dbus.ObjectPath(reg.item)
	if !path.IsValid() {
		path = "/StatusNotifierItem"
	}
	item := conn.Object(string(reg.sender), path)
	prop := func(name string) string {
		v, err := item.GetProperty("org.kde.StatusNotifierItem." + name)
		if err != nil {
			t.Fatalf("reading the item's %s: %v", name, err)
		}
		return fmt.Sprint(v.Value())
	}
	if got := prop("Title"); got != "VM Images" {
		t.Errorf("the tray item is titled %q, want \"VM Images\"", got)
	}
	if icon := prop("IconPixmap"); !strings.Contains(icon, "64 64") {
		t.Errorf("IconPixmap is not the 64×64 tray icon")
	}
	v, err := item.GetProperty("org.kde.StatusNotifierItem.Menu")
	if err != nil {
		t.Fatalf("reading the item's Menu property: %v", err)
	}
	menuPath, ok := v.Value().(dbus.ObjectPath)
	if !ok {
		t.Fatalf("Menu property is %T, want an object path", v.Value())
	}
	m := trayMenu{t: t, menu: conn.Object(string(reg.sender), menuPath)}

	items := m.waitFor("the cache line and the interrupted download", &out, func(items []trayItem) bool {
		c, ok1 := find(items, "Cache: ")
		r, ok2 := find(items, "Resume all")
		return ok1 && ok2 && c.label != "Cache: checking…" && r.enabled
	})
	ids := map[string]int32{}
	quits := 0
	for _, it := range items {
		if it.visible && it.label != "" {
			ids[it.label] = it.id
		}
		if it.visible && it.label == "Quit" {
			quits++
		}
	}
	for _, want := range []string{"Open VM Images", "No active downloads", "Verify cache", "Prune…", "Pause all", "Resume all", "Quit"} {
		if _, ok := ids[want]; !ok {
			t.Errorf("tray menu lacks %q: %+v", want, items)
		}
	}
	if quits != 1 {
		t.Errorf("tray menu has %d Quit items", quits)
	}
	if p, _ := find(items, "Pause all"); p.enabled {
		t.Error("Pause all is enabled with nothing running")
	}
	if tip := prop("ToolTip"); !strings.Contains(tip, "no active downloads") {
		t.Errorf("tooltip %s, want it to say there are no active downloads", tip)
	}

	// Resume all continues the download from where the earlier run stopped.
	r, _ := find(items, "Resume all")
	m.click(r)
	select {
	case rng := <-ranged:
		if !strings.HasPrefix(rng, "bytes=") || rng == "bytes=0-" {
			t.Errorf("Resume all asked for %q, want the missing tail", rng)
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("Resume all sent no ranged request to the mirror\n%s", out.String())
	}
	items = m.waitFor("the download in the menu", &out, func(items []trayItem) bool {
		d, ok := find(items, "Debian 12 x86_64 — ")
		p, _ := find(items, "Pause all")
		return ok && strings.HasSuffix(d.label, "%") && p.enabled
	})
	if _, ok := find(items, "No active downloads"); ok {
		t.Error("the menu still says no active downloads")
	}
	if tip := prop("ToolTip"); !strings.Contains(tip, "Debian 12 x86_64") {
		t.Errorf("tooltip %s, want the active download", tip)
	}
	for _, it := range items {
		if old, ok := ids[it.label]; ok && it.visible && old != it.id {
			t.Errorf("%q changed id from %d to %d while the menu updated", it.label, old, it.id)
		}
	}

	// Pause all pauses it.
	p, _ := find(items, "Pause all")
	m.click(p)
	m.waitFor("the download paused", &out, func(items []trayItem) bool {
		d, ok := find(items, "Debian 12 x86_64 — ")
		r, _ := find(items, "Resume all")
		p, _ := find(items, "Pause all")
		return ok && strings.HasSuffix(d.label, "paused") && r.enabled && !p.enabled
	})

	// Every item that opens the window shows it again after the window
	// manager's close button hid it (a tray host is present).
	waitWindow(t, display, true, "start", &out)
	first := true
	for _, label := range []string{"Open VM Images", "Debian 12 x86_64 — ", "Cache: ", "Verify cache", "Prune…"} {
		closeUntilHidden(t, display, "closing the window with a tray host", &out)
		select {
		case err := <-exited:
			t.Fatalf("closing the window ended the app (%v) although a tray host is present\n%s", err, out.String())
		default:
		}
		if first { // the first close says, once, that the app runs on in the tray
			first = false
			select {
			case n := <-notes.got:
				if n.app != "VM Images" || n.summary != "VM Images is still running" {
					t.Errorf("notification %+v, want one from \"VM Images\" saying it is still running", n)
				}
			case <-time.After(15 * time.Second):
				t.Errorf("no notification after the window closed to the tray\n%s", out.String())
			}
		}
		it, ok := find(m.waitFor(label, &out, func(items []trayItem) bool { _, ok := find(items, label); return ok }), label)
		if !ok {
			t.Fatalf("no %q item", label)
		}
		m.click(it)
		waitWindow(t, display, true, "clicking "+label, &out)
	}

	// Quit ends the app, even with a download paused.
	items, _ = m.items()
	q, _ := find(items, "Quit")
	m.click(q)
	select {
	case err := <-exited:
		exited <- err // for the cleanup
		if err != nil {
			t.Errorf("exit after Quit: %v, want status 0\n%s", err, out.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatalf("still running 15 s after the tray's Quit:\n%s", out.String())
	}
	if s := out.String(); strings.Contains(strings.ToLower(s), "panic") || strings.Contains(s, "Fyne error") {
		t.Errorf("the output mentions a panic or a Fyne error:\n%s", s)
	}
	if _, err := os.Stat(part); err != nil {
		t.Errorf("the partial download is gone after Quit: %v", err)
	}
}

// layoutNode is dbusmenu's (ia{sv}av) layout item.
type layoutNode struct {
	ID       int32
	Props    map[string]dbus.Variant
	Children []dbus.Variant
}

// collect walks a layout's children, which arrive as variants of
// (ia{sv}av).
func collect(children []dbus.Variant, out *[]trayItem) {
	for _, c := range children {
		fields, ok := c.Value().([]any)
		if !ok || len(fields) != 3 {
			continue
		}
		id, _ := fields[0].(int32)
		p, _ := fields[1].(map[string]dbus.Variant)
		it := trayItem{id: id, enabled: true, visible: true}
		if l, ok := p["label"].Value().(string); ok {
			it.label = l
		}
		if e, ok := p["enabled"].Value().(bool); ok {
			it.enabled = e
		}
		if v, ok := p["visible"].Value().(bool); ok {
			it.visible = v
		}
		*out = append(*out, it)
		kids, _ := fields[2].([]dbus.Variant)
		collect(kids, out)
	}
}

// startWM runs openbox on display, so that the close button works as on a
// desktop.
func startWM(t *testing.T, display string) {
	t.Helper()
	cmd := exec.Command("openbox", "--sm-disable")
	cmd.Env = append(os.Environ(), "DISPLAY="+display)
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting openbox: %v", err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	// Wait until the window manager owns the screen.
	deadline := time.Now().Add(30 * time.Second)
	for {
		q := exec.Command("xprop", "-root", "_NET_SUPPORTING_WM_CHECK")
		q.Env = cmd.Env
		if out, err := q.Output(); err == nil && strings.Contains(string(out), "window id") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("openbox did not take the screen:\n%s", out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// startBus runs a private session bus for the test and returns its address.
func startBus(t *testing.T, dir string) string {
	t.Helper()
	cmd := exec.Command("dbus-daemon", "--session", "--nofork", "--print-address=1",
		"--address=unix:path="+filepath.Join(dir, "bus"))
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting dbus-daemon: %v", err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("reading the bus address: %v", err)
	}
	return strings.TrimSpace(line)
}

// startXvfb runs an X server for the test and returns its DISPLAY.
func startXvfb(t *testing.T) string {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("Xvfb", "-displayfd", "3", "-screen", "0", "1280x800x24", "-nolisten", "tcp")
	cmd.ExtraFiles = []*os.File{w}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting Xvfb: %v", err)
	}
	w.Close()
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	line, err := bufio.NewReader(r).ReadString('\n')
	r.Close()
	if err != nil {
		t.Fatalf("reading Xvfb's display number: %v", err)
	}
	return ":" + strings.TrimSpace(line)
}

// syncBuffer is a bytes.Buffer safe for the two writers of a process.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
