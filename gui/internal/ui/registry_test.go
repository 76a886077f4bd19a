package ui

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

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
	if _, err := h.m.SetConfig(config.Config{Registry: reg.Ref("lab/vm")}); err != nil {
		t.Fatal(err)
	}
	if err := h.m.Remove(context.Background(), hostKey("12")); err != nil {
		t.Fatal(err)
	}
	u.reloadCache()
	h.waitFor("the image to leave the cache view", func() bool { return h.cacheRow(hostKey("12")) == "" })
	want := "from registry " + reg.Host + "/lab/vm"
	if row := download(); !strings.Contains(row, want) || strings.Contains(row, mirrorHost) {
		t.Errorf("registry row does not read %q:\n%s", want, row)
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
	h.waitFor("the registry saved switched off", func() bool { c, _ := config.Load(path); return c.RegistryOff })
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
	h.waitFor("the registry saved switched on", func() bool { c, _ := config.Load(path); return !c.RegistryOff && c.Registry == addr })
	if r := h.m.Registry(); r != addr {
		t.Errorf("registry in effect: %q, want %q", r, addr)
	}
}
