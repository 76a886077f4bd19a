package ui

import (
	"context"
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"vmimages/core"
	"vmimages/core/config"
	"vmimages/internal/registrytest"
)

// TestDownloadRowShowsSource names where a pull's bytes come from: the
// mirror's host for an upstream pull, the registry and repository when the
// registry served the image.
func TestDownloadRowShowsSource(t *testing.T) {
	reg := registrytest.Start(t, registrytest.Options{})
	srv, _ := newMirror(t, 300_000)
	h := newHarness(t, srv, nil)
	u := h.u
	mirrorHost := strings.TrimPrefix(srv.URL, "http://")

	onTray := func() {}
	download := func() string {
		t.Helper()
		if !u.SelectEntry("debian", "12") {
			t.Fatal("debian 12 is not in the catalog view")
		}
		h.waitFor("Download to be offered", func() bool { return u.cat.download.Visible() && !u.cat.download.Disabled() })
		before := len(h.m.Jobs())
		h.tap(u.cat.download)
		u.ShowTab("downloads")
		var row string
		h.waitFor("the row to show Done", func() bool {
			if len(h.m.Jobs()) == before {
				return false
			}
			onTray()
			it := h.dlItem(h.jobRow())
			if it == nil || it.phase.Text != "Done" {
				return false
			}
			row = texts(it)
			return true
		})
		return row
	}

	if row := download(); !strings.Contains(row, "from "+mirrorHost) || strings.Contains(row, "registry") {
		t.Errorf("upstream row does not name the mirror %s:\n%s", mirrorHost, row)
	}

	if _, err := h.m.Push(context.Background(), refOf(hostKey("12")), reg.Ref("lab/vm"), nil); err != nil {
		t.Fatal(err)
	}
	// A cap that makes the registry pull last a few seconds, for the tray.
	if _, err := h.m.SetConfig(config.Config{Registry: reg.Ref("lab/vm"), Bandwidth: "100K"}); err != nil {
		t.Fatal(err)
	}
	if err := h.m.Remove(context.Background(), hostKey("12")); err != nil {
		t.Fatal(err)
	}
	u.reloadCache()
	h.waitFor("the image to leave the cache view", func() bool { return h.cacheRow(hostKey("12")) == "" })
	want := "from registry " + reg.Host + "/lab/vm"
	inTray := false
	onTray = func() {
		if strings.Contains(strings.Join(u.TrayLabels(), "\n"), "Debian 12 "+hostKey("12").Arch+" — ") &&
			strings.Contains(strings.Join(u.TrayLabels(), "\n"), want) {
			inTray = true
		}
	}
	if row := download(); !strings.Contains(row, want) || strings.Contains(row, mirrorHost) {
		t.Errorf("registry row does not read %q:\n%s", want, row)
	}
	if !inTray {
		t.Errorf("the tray never named the registry while the download ran")
	}
}

// TestRegistryFirstToggle switches the registry off and on from Settings:
// the address stays in the settings file, and pulls use the registry only
// while the box is ticked.
func TestRegistryFirstToggle(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.toml")
	h := newHarness(t, nil, func(o *core.Options) { o.ConfigPath = path })
	s := h.u.set
	const addr = "oci://registry.lab:5000/vmimages"
	if !s.regFirst.Checked {
		t.Error("the registry box starts unticked")
	}
	s.registry.SetText(addr)
	test.Tap(s.regFirst)
	h.tap(s.save)
	h.waitFor("the registry saved switched off", func() bool { c, _ := config.Load(path); return c.RegistryOff && !s.save.Disabled() })
	if c, _ := config.Load(path); c.Registry != addr {
		t.Errorf("switching the registry off erased the address: %+v", c)
	}
	if r := h.m.Registry(); r != "" {
		t.Errorf("registry in effect while switched off: %q", r)
	}
	h.tap(s.revert)
	if s.registry.Text != addr || s.regFirst.Checked {
		t.Errorf("after Revert: field %q, box ticked %v", s.registry.Text, s.regFirst.Checked)
	}

	test.Tap(s.regFirst)
	h.tap(s.save)
	h.waitFor("the registry saved switched on", func() bool {
		c, _ := config.Load(path)
		return !c.RegistryOff && c.Registry == addr && !s.save.Disabled()
	})
	if r := h.m.Registry(); r != addr {
		t.Errorf("registry in effect: %q, want %q", r, addr)
	}
}

// TestPublishToRegistry publishes a cached image from the Cache view to a
// real registry: the address comes from Settings, the dialog that follows
// names the tags, the registry holds them, and a registry that is not
// there gets an error that says what to check. The button is off while
// another job runs on the image.
func TestPublishToRegistry(t *testing.T) {
	reg := registrytest.Start(t, registrytest.Options{})
	srv, _ := newMirror(t, 300_000)
	h := newHarness(t, srv, nil)
	u := h.u
	k := hostKey("12")
	if _, err := h.m.Pull(context.Background(), refOf(k), core.PullOptions{}).Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := h.m.SetConfig(config.Config{Registry: reg.Ref("lab/vm"), RegistryOff: true}); err != nil {
		t.Fatal(err)
	}
	u.ShowTab("cache")
	u.reloadCache()
	h.waitFor("the image in the cache view", func() bool { return strings.Contains(h.cacheRow(k), "ready") })
	if !u.cv.Select(k) {
		t.Fatal("cannot select the image")
	}
	c := u.cv

	// Another job on the image turns Publish off until it ends.
	u.ops.start(k, opVerify)
	u.pokeTick()
	h.waitFor("Publish to be off during a verify", func() bool { return c.publish.Disabled() })
	u.ops.end(k)
	u.pokeTick()
	h.waitFor("Publish to be back", func() bool { return !c.publish.Disabled() })

	// How a push in flight shows: the step, the bytes and the bar, as the
	// ticker reads the push's progress.
	u.ops.start(k, opPush)
	u.ops.progressNote(k, 1024, 4096, "uploading disk")
	u.pokeTick()
	h.waitFor("the push's progress", func() bool {
		return c.selStatus.Text == "Publishing to the registry: uploading disk · 1.0 KiB of 4.0 KiB…" && c.opBar.Visible() && c.opBar.Value == 0.25
	})
	if !c.publish.Disabled() || !c.remove.Disabled() {
		t.Error("Publish or Delete is on while a push runs")
	}
	u.ops.end(k)
	u.pokeTick()
	h.waitFor("Publish to be back", func() bool { return !c.publish.Disabled() })

	// The right-click menu offers it too.
	var item *fyne.MenuItem
	for _, it := range c.actionsMenu().Items {
		if it.Label == "Publish to registry…" {
			item = it
		}
	}
	if item == nil || item.Disabled {
		t.Fatalf("the row's menu lacks an enabled Publish to registry…: %+v", item)
	}

	// A registry that is not there: the error says what to check.
	item.Action()
	h.pump()
	f := c.publishForm
	if f == nil || f.addr.Text != reg.Ref("lab/vm") {
		t.Fatalf("the address is not prefilled from Settings: %+v", f)
	}
	f.addr.SetText("oci://127.0.0.1:1/lab/vm")
	h.tap(f.dlg.Buttons["Publish"])
	h.waitFor("the could-not dialog", func() bool {
		d := h.u.dialog
		return d != nil && strings.HasPrefix(d.Title, "Could not publish") && strings.Contains(d.Text, "registry is running")
	})
	h.u.dialog.Hide()

	h.tap(c.publish)
	f = c.publishForm
	h.tap(f.dlg.Buttons["Publish"])
	build := "20260810-2566"
	tags := "12-" + k.Arch + " and 12-" + k.Arch + "-" + build
	h.waitFor("the published dialog", func() bool {
		d := h.u.dialog
		return d != nil && strings.HasPrefix(d.Title, "Published ")
	})
	if d := h.u.dialog; !strings.Contains(d.Text, reg.Host+"/lab/vm/debian") || !strings.Contains(d.Text, tags) || !strings.Contains(d.Text, "Sent disk") {
		t.Errorf("published dialog reads %q", d.Text)
	}
	resp, err := reg.HTTPClient().Get(reg.BaseURL() + "/v2/lab/vm/debian/tags/list")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var list struct{ Tags []string }
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
		t.Fatal(err)
	}
	slices.Sort(list.Tags)
	if want := []string{"12-" + k.Arch, "12-" + k.Arch + "-" + build}; !slices.Equal(list.Tags, want) {
		t.Errorf("the registry holds tags %v, want %v", list.Tags, want)
	}
	if !strings.Contains(c.selStatus.Text, "Published to") {
		t.Errorf("selection status reads %q", c.selStatus.Text)
	}
}
