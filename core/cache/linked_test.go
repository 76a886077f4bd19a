package cache

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// TestLinkedParentIsNotTheCache: an image whose folder is reached through a
// symbolic link planted above it (images/<distro> pointing outside) is not
// in the cache for any reader or writer: Image, ReadMeta, Touch,
// RecordVerify and Begin refuse it, List skips it, and nothing outside is
// written.
func TestLinkedParentIsNotTheCache(t *testing.T) {
	// An image made elsewhere, then reached through a link.
	elsewhere := openTest(t)
	k := Key{Distro: "debian", Version: "12", Arch: "x86_64"}
	m := putImage(t, elsewhere, k, map[string]string{"disk.qcow2": "disk"}, t0)
	outsideMeta := filepath.Join(elsewhere.Dir(k), metaFile)
	before, err := os.ReadFile(outsideMeta)
	if err != nil {
		t.Fatal(err)
	}
	namesBefore := dirNames(t, elsewhere.Dir(k))

	c := openTest(t)
	if err := os.MkdirAll(filepath.Join(c.Root(), imagesDir), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(elsewhere.Root(), imagesDir, "debian"), filepath.Join(c.Root(), imagesDir, "debian")); err != nil {
		t.Fatal(err)
	}

	if _, err := c.Image(k); !errors.Is(err, ErrNotCached) || !errors.Is(err, ErrUnsafePath) {
		t.Errorf("Image = %v; want ErrNotCached and ErrUnsafePath", err)
	}
	if _, err := c.ReadMeta(k); !errors.Is(err, ErrNotCached) {
		t.Errorf("ReadMeta = %v; want ErrNotCached", err)
	}
	if err := c.Touch(k); !errors.Is(err, ErrNotCached) {
		t.Errorf("Touch = %v; want ErrNotCached", err)
	}
	if _, err := c.RecordVerify(k, m.PulledAt, m.Build, VerifyMeta{At: t0}); !errors.Is(err, ErrNotCached) {
		t.Errorf("RecordVerify = %v; want ErrNotCached", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if tx, err := c.Begin(ctx, k); !errors.Is(err, ErrUnsafePath) {
		if err == nil {
			tx.Abort()
		}
		t.Errorf("Begin = %v; want ErrUnsafePath", err)
	}
	if images, err := c.List(ctx); err != nil || len(images) != 0 {
		t.Errorf("List = %v, %v; want nothing", images, err)
	}
	if after, err := os.ReadFile(outsideMeta); err != nil || !bytes.Equal(after, before) {
		t.Errorf("the metadata outside the cache changed (err %v)", err)
	}
	if names := dirNames(t, elsewhere.Dir(k)); !slices.Equal(names, namesBefore) {
		t.Errorf("the image folder outside holds %v, was %v", names, namesBefore)
	}
}

// dirNames lists the names in dir.
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}
