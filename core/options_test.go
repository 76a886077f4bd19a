package core

import (
	"os"
	"path/filepath"
	"testing"

	"vmimages/core/config"
)

func TestLoadOptionsPrecedence(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.toml")
	os.WriteFile(cfg, []byte(`cache_dir = "/from/config"
[mirrors]
debian = "https://config.example/debian/"
fedora = "https://config.example/fedora/"
alpine = "https://config.example/alpine/"
`), 0o644)
	t.Setenv("VMIMAGES_CACHE_DIR", "")
	o, err := LoadOptions(cfg, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if o.CacheDir != "/from/config" || o.SoftMirrors["debian"] != "https://config.example/debian/" {
		t.Errorf("config only: %+v", o)
	}
	t.Setenv("VMIMAGES_CACHE_DIR", "/from/env")
	t.Setenv("VMIMAGES_MIRROR_DEBIAN", "https://env.example/debian/")
	t.Setenv("VMIMAGES_MIRROR_CENTOS_STREAM", "https://env.example/centos/")
	o, err = LoadOptions(cfg, "", map[string]string{"fedora": "https://flag.example/fedora/"})
	if err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]string{
		"debian": "https://env.example/debian/", "centos-stream": "https://env.example/centos/",
		"fedora": "https://flag.example/fedora/", "alpine": "https://config.example/alpine/",
	} {
		got := o.SoftMirrors[k]
		if v, ok := o.Mirrors[k]; ok {
			got = v
		}
		if got != want {
			t.Errorf("mirror %s = %q, want %q", k, o.Mirrors[k], want)
		}
	}
	if o.CacheDir != "/from/env" {
		t.Errorf("env cache dir: %q", o.CacheDir)
	}
	o, _ = LoadOptions(cfg, "rel/cache", nil)
	if want, _ := filepath.Abs("rel/cache"); o.CacheDir != want {
		t.Errorf("flag cache dir %q, want %q", o.CacheDir, want)
	}
}

func TestOpenAppliesMirrorsAndRejectsBadOnes(t *testing.T) {
	m := newManager(t, map[string]string{"debian": "http://127.0.0.1:1/deb"}, nil)
	d, _ := m.Catalog().Distro("debian")
	if d.Base != "http://127.0.0.1:1/deb/" {
		t.Errorf("base %q", d.Base)
	}
	if _, err := Open(t.Context(), Options{CacheDir: t.TempDir(), Mirrors: map[string]string{"nosuch": "https://x/"}}); err == nil {
		t.Error("a mirror for an unknown distro must be an error")
	}
	if _, err := Open(t.Context(), Options{CacheDir: t.TempDir(), Mirrors: map[string]string{"debian": "ftp://x/"}}); err == nil {
		t.Error("a non-http mirror must be an error")
	}
}

func TestBadSoftMirrorIsAProblemNotAnError(t *testing.T) {
	m := newManager(t, nil, func(o *Options) {
		o.SoftMirrors = map[string]string{"nosuch": "https://x.example/", "debian": "https://d.example/debian/"}
	})
	if len(m.CatalogProblems()) != 1 {
		t.Fatalf("problems = %v", m.CatalogProblems())
	}
	if d, _ := m.Catalog().Distro("debian"); d.Base != "https://d.example/debian/" {
		t.Errorf("the good soft mirror was not applied: %s", d.Base)
	}
}

func TestOverlayDirFollowsAnExplicitSettingsFile(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "elsewhere.toml")
	o, err := LoadOptions(cfg, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if o.OverlayDir != config.OverlayDir() {
		t.Errorf("no catalog.d beside the file: overlays from %q, want the XDG one %q", o.OverlayDir, config.OverlayDir())
	}
	os.Mkdir(filepath.Join(dir, "catalog.d"), 0o755)
	if o, _ = LoadOptions(cfg, "", nil); o.OverlayDir != filepath.Join(dir, "catalog.d") {
		t.Errorf("catalog.d beside the file: overlays from %q", o.OverlayDir)
	}
}
