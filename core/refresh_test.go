package core

import (
	"context"
	"os"
	"strings"
	"testing"

	"vmimages/internal/mirrortest"
)

func TestRefreshCatalogAddsReleasesAndFallsBack(t *testing.T) {
	srv := mirrortest.New(t)
	index, err := os.ReadFile("discover/testdata/index.json")
	if err != nil {
		t.Fatal(err)
	}
	products, err := os.ReadFile("discover/testdata/com.ubuntu.cloud-released-download.json")
	if err != nil {
		t.Fatal(err)
	}
	srv.Put("/ubuntu/streams/v1/index.json", index)
	srv.Put("/ubuntu/streams/v1/com.ubuntu.cloud:released:download.json", products)
	for _, p := range []string{"/fedora/44/x", "/fedora/45/x", "/alpine/v3.23/x", "/alpine/v3.24/x", "/rocky/10/x", "/almalinux/10/x"} {
		srv.Put(p, []byte("x"))
	}
	mirrors := map[string]string{}
	for _, d := range []string{"ubuntu", "fedora", "alpine", "rocky", "almalinux"} {
		mirrors[d] = srv.URL + "/" + d + "/"
	}
	cacheDir := t.TempDir()
	open := func() *Manager {
		return newManager(t, mirrors, func(o *Options) { o.CacheDir = cacheDir })
	}
	m := open()
	if !m.CatalogSource().Refreshed.IsZero() {
		t.Fatal("a fresh cache has no refresh")
	}
	res, err := m.RefreshCatalog(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if res.Offline || len(res.Failed) != 0 {
		t.Fatalf("refresh: offline %v, failed %v", res.Offline, res.Failed)
	}
	joined := strings.Join(res.Changes.Added, "; ")
	if !strings.Contains(joined, "fedora 45") {
		t.Errorf("added = %q, want fedora 45", joined)
	}
	d, _ := m.Catalog().Distro("ubuntu")
	if v, err := d.Version("stonking"); err != nil || v.Version != "26.10" {
		t.Errorf("codename lookup after refresh: %v, %v", v, err)
	}

	// A later run, offline: the stored refresh still applies, and says so.
	srv.Close()
	m2 := open()
	if m2.CatalogSource().Refreshed.IsZero() {
		t.Fatal("the stored refresh was not loaded")
	}
	d2, _ := m2.Catalog().Distro("ubuntu")
	if v, err := d2.Version("26.10"); err != nil || v.EOL == "" {
		t.Errorf("26.10's end of life from the refresh lost after restart: %v, %v", v, err)
	}
	f2, _ := m2.Catalog().Distro("fedora")
	if _, err := f2.Version("45"); err != nil {
		t.Errorf("fedora 45 lost after restart: %v", err)
	}
	res2, err := m2.RefreshCatalog(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !res2.Offline || len(res2.Failed) == 0 {
		t.Errorf("offline refresh: %+v", res2)
	}
	if !strings.Contains(res2.Source.String(), "updated from upstream on") {
		t.Errorf("offline source = %q", res2.Source)
	}
	// With neither network nor a stored refresh: the embedded catalog.
	m3 := newManager(t, mirrors, nil)
	res3, _ := m3.RefreshCatalog(context.Background())
	if !res3.Offline || !strings.Contains(res3.Source.String(), "built into this version") {
		t.Errorf("no refresh at all: %+v, %q", res3, res3.Source)
	}
}
