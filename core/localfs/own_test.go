package localfs

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestDiscardForeign(t *testing.T) {
	dir := t.TempDir()
	outside := filepath.Join(dir, "outside")
	if err := os.WriteFile(outside, []byte("keep"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name      string
		plant     func(p string) error
		discarded bool
		err       error
	}{
		{"missing", func(string) error { return nil }, false, nil},
		{"own file", func(p string) error { return os.WriteFile(p, []byte("part"), 0o644) }, false, nil},
		{"hard link", func(p string) error { return os.Link(outside, p) }, true, nil},
		{"symbolic link", func(p string) error { return os.Symlink(outside, p) }, true, nil},
		{"dangling link", func(p string) error { return os.Symlink(filepath.Join(dir, "nowhere"), p) }, true, nil},
		{"directory", func(p string) error { return os.Mkdir(p, 0o755) }, false, ErrNotOwnFile},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "x.part")
			if tc.name == "hard link" {
				p = filepath.Join(dir, "x.part") // same file system as outside
				t.Cleanup(func() { os.Remove(p) })
			}
			if err := tc.plant(p); err != nil {
				t.Fatal(err)
			}
			got, err := DiscardForeign(p)
			if got != tc.discarded || !errors.Is(err, tc.err) || (tc.err == nil && err != nil) {
				t.Fatalf("DiscardForeign = %v, %v; want %v, %v", got, err, tc.discarded, tc.err)
			}
			if _, err := os.Lstat(p); tc.discarded && !errors.Is(err, os.ErrNotExist) {
				t.Errorf("the name is still there: %v", err)
			}
			if b, err := os.ReadFile(outside); err != nil || string(b) != "keep" {
				t.Errorf("the file outside changed: %q, %v", b, err)
			}
		})
	}
}
