package cache

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestRemove(t *testing.T) {
	c := openTest(t)
	a := Key{"ubuntu", "24.04", "x86_64"}
	b := Key{"ubuntu", "24.04", "aarch64"}
	putImage(t, c, a, map[string]string{"vmlinuz": "k"}, t0)
	putImage(t, c, b, map[string]string{"vmlinuz": "k"}, t0)
	os.MkdirAll(c.PartialDir(a), 0o755)
	os.WriteFile(filepath.Join(c.PartialDir(a), "disk.qcow2.part"), []byte("x"), 0o644)

	if err := c.Remove(t.Context(), a); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(c.Dir(a)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("image dir still there: %v", err)
	}
	if _, err := os.Lstat(c.Dir(b)); err != nil {
		t.Errorf("sibling removed: %v", err)
	}
	if err := c.Remove(t.Context(), b); err != nil {
		t.Fatal(err)
	}
	// Now-empty parents are gone, images/ stays.
	if _, err := os.Lstat(filepath.Join(c.Root(), "images", "ubuntu")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("empty distro dir left: %v", err)
	}
	if _, err := os.Lstat(filepath.Join(c.Root(), "images")); err != nil {
		t.Errorf("images dir removed: %v", err)
	}
	if err := c.Remove(t.Context(), a); !errors.Is(err, ErrNotCached) {
		t.Errorf("second Remove = %v, want ErrNotCached", err)
	}
	if _, err := os.Lstat(c.Dir(a)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Remove of a missing image created it: %v", err)
	}
}

func TestRemoveRefusesSymlinks(t *testing.T) {
	k := Key{"ubuntu", "24.04", "x86_64"}
	tests := []struct {
		name string
		link func(c *Cache) string // returns the path to replace with a symlink
	}{
		{"image dir", func(c *Cache) string { return c.Dir(k) }},
		{"version dir", func(c *Cache) string { return filepath.Dir(c.Dir(k)) }},
		{"distro dir", func(c *Cache) string { return filepath.Join(c.Root(), "images", "ubuntu") }},
		{"images dir", func(c *Cache) string { return filepath.Join(c.Root(), "images") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := openTest(t)
			outside := t.TempDir()
			// Lay out the same tree outside, holding a precious file.
			rel, _ := filepath.Rel(tt.link(c), c.Dir(k))
			target := filepath.Join(outside, rel)
			os.MkdirAll(target, 0o755)
			precious := filepath.Join(target, "vmlinuz")
			os.WriteFile(precious, []byte("keep me"), 0o644)

			p := tt.link(c)
			os.MkdirAll(filepath.Dir(p), 0o755)
			os.RemoveAll(p)
			if err := os.Symlink(outside, p); err != nil {
				t.Fatal(err)
			}
			if err := c.Remove(t.Context(), k); !errors.Is(err, ErrUnsafePath) {
				t.Errorf("Remove through a symlinked %s = %v, want ErrUnsafePath", tt.name, err)
			}
			if b, err := os.ReadFile(precious); err != nil || string(b) != "keep me" {
				t.Errorf("file outside the cache damaged: %q, %v", b, err)
			}
			if _, err := os.Lstat(p); err != nil {
				t.Errorf("the symlink itself is gone: %v", err)
			}
			// Lock refuses to work through it as well.
			if _, _, err := c.TryLock(k); !errors.Is(err, ErrUnsafePath) {
				t.Errorf("TryLock = %v, want ErrUnsafePath", err)
			}
		})
	}
}

func TestRemoveKeepsSymlinkTargetsInside(t *testing.T) {
	c := openTest(t)
	k := Key{"ubuntu", "24.04", "x86_64"}
	putImage(t, c, k, map[string]string{"vmlinuz": "k"}, t0)
	outside := t.TempDir()
	precious := filepath.Join(outside, "precious")
	os.WriteFile(precious, []byte("keep me"), 0o644)
	os.Symlink(outside, filepath.Join(c.Dir(k), "disk.qcow2"))
	os.Symlink(outside, filepath.Join(c.PartialDir(k)))
	if err := c.Remove(t.Context(), k); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(precious); err != nil || string(b) != "keep me" {
		t.Errorf("file outside the cache damaged: %q, %v", b, err)
	}
}
