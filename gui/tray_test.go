package gui

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
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

// TestTrayOverSessionBus starts the real app on a private session bus where
// a StatusNotifierWatcher runs, and reads the tray menu the way a tray host
// does: the item registers, and its dbusmenu lists the labels the app
// promises. SIGTERM then ends the app with status 0 and no panic.
func TestTrayOverSessionBus(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: skipping the real-window tray test")
	}
	needTools(t, "dbus-daemon", "Xvfb")
	bin := appBinary(t)
	dir := t.TempDir()
	addr := startBus(t, dir)
	display := startXvfb(t)

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

	var out syncBuffer
	app := exec.Command(bin)
	app.Env = append(os.Environ(),
		"DISPLAY="+display,
		"DBUS_SESSION_BUS_ADDRESS="+addr,
		"XDG_CONFIG_HOME="+filepath.Join(dir, "config"),
		"VMIMAGES_CACHE_DIR="+filepath.Join(dir, "cache"),
		"LANG=en_US.UTF-8",
	)
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
	v, err := item.GetProperty("org.kde.StatusNotifierItem.Menu")
	if err != nil {
		t.Fatalf("reading the item's Menu property: %v", err)
	}
	menuPath, ok := v.Value().(dbus.ObjectPath)
	if !ok {
		t.Fatalf("Menu property is %T, want an object path", v.Value())
	}
	icon, err := item.GetProperty("org.kde.StatusNotifierItem.IconPixmap")
	if err != nil || !strings.Contains(fmt.Sprint(icon.Value()), "64 64") {
		t.Errorf("IconPixmap is not the 64×64 tray icon: %v", err)
	}

	menu := conn.Object(string(reg.sender), menuPath)
	var labels []string
	deadline := time.Now().Add(20 * time.Second)
	for {
		labels, err = menuLabels(menu)
		if err == nil && contains(labels, "Cache: 0 B in 0 images") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("tray menu never showed the cache: labels %q, err %v\n%s", labels, err, out.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
	for _, want := range []string{"Open VM Images", "No active downloads", "Verify cache", "Prune…", "Pause all", "Resume all", "Quit"} {
		if !contains(labels, want) {
			t.Errorf("tray menu lacks %q: %q", want, labels)
		}
	}
	if n := strings.Count(strings.Join(labels, "\n"), "Quit"); n != 1 {
		t.Errorf("tray menu has %d Quit items: %q", n, labels)
	}

	if err := app.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		exited <- err // for the cleanup
		if err != nil {
			t.Errorf("exit after SIGTERM: %v, want status 0\n%s", err, out.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatalf("still running 15 s after SIGTERM:\n%s", out.String())
	}
	if strings.Contains(strings.ToLower(out.String()), "panic") {
		t.Errorf("the output mentions a panic:\n%s", out.String())
	}
}

// menuLabels calls com.canonical.dbusmenu.GetLayout on the whole menu and
// returns every item's label.
func menuLabels(menu dbus.BusObject) ([]string, error) {
	var revision uint32
	var root layoutNode
	call := menu.Call("com.canonical.dbusmenu.GetLayout", 0, int32(0), int32(-1), []string{})
	if err := call.Store(&revision, &root); err != nil {
		return nil, err
	}
	var labels []string
	collect(root.Props, root.Children, &labels)
	return labels, nil
}

// layoutNode is dbusmenu's (ia{sv}av) layout item.
type layoutNode struct {
	ID       int32
	Props    map[string]dbus.Variant
	Children []dbus.Variant
}

// collect walks a layout, whose children arrive as variants of (ia{sv}av).
func collect(props map[string]dbus.Variant, children []dbus.Variant, labels *[]string) {
	if l, ok := props["label"]; ok {
		if s, ok := l.Value().(string); ok {
			*labels = append(*labels, s)
		}
	}
	for _, c := range children {
		fields, ok := c.Value().([]any)
		if !ok || len(fields) != 3 {
			continue
		}
		p, _ := fields[1].(map[string]dbus.Variant)
		kids, _ := fields[2].([]dbus.Variant)
		collect(p, kids, labels)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
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
