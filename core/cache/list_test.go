package cache

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

func TestListStates(t *testing.T) {
	c := openTest(t)
	files := map[string]string{"vmlinuz": "kernel", "initramfs": "initrd", "disk.qcow2": "disk"}
	ready := Key{"ubuntu", "24.04", "x86_64"}
	putImage(t, c, ready, files, t0)

	corruptMissing := Key{"ubuntu", "22.04", "x86_64"}
	putImage(t, c, corruptMissing, files, t0)
	os.Remove(filepath.Join(c.Dir(corruptMissing), "vmlinuz"))

	corruptSize := Key{"ubuntu", "20.04", "x86_64"}
	putImage(t, c, corruptSize, files, t0)
	os.WriteFile(filepath.Join(c.Dir(corruptSize), "disk.qcow2"), []byte("disk plus"), 0o644)

	corruptMeta := Key{"ubuntu", "18.04", "x86_64"}
	putImage(t, c, corruptMeta, files, t0)
	os.WriteFile(filepath.Join(c.Dir(corruptMeta), "meta.json"), []byte("{"), 0o644)

	partialNoMeta := Key{"debian", "12", "x86_64"}
	unlock, _, _ := c.TryLock(partialNoMeta)
	unlock()

	partialTransfer := Key{"debian", "13", "x86_64"}
	unlock, _, _ = c.TryLock(partialTransfer)
	unlock()
	os.MkdirAll(c.PartialDir(partialTransfer), 0o755)
	os.WriteFile(filepath.Join(c.PartialDir(partialTransfer), "disk.qcow2.part"), []byte("x"), 0o644)

	// An update in flight or interrupted leaves the committed build ready.
	updating := Key{"debian", "14", "x86_64"}
	putImage(t, c, updating, files, t0)
	os.MkdirAll(c.PartialDir(updating), 0o755)
	os.WriteFile(filepath.Join(c.PartialDir(updating), "disk.qcow2.part"), []byte("x"), 0o644)

	emptyPartialDir := Key{"debian", "11", "x86_64"}
	putImage(t, c, emptyPartialDir, files, t0)
	os.MkdirAll(c.PartialDir(emptyPartialDir), 0o755)

	// Converting while a transaction holds the lock; a conversion's
	// leftover without one is not.
	converting := Key{"fedora", "41", "x86_64"}
	putImage(t, c, converting, files, t0)
	tx, err := c.Begin(t.Context(), converting)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Abort()
	tmp, err := tx.RawTemp()
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(tmp, []byte("raw"), 0o644)
	stale := Key{"fedora", "40", "x86_64"}
	putImage(t, c, stale, files, t0)
	os.MkdirAll(c.PartialDir(stale), 0o755)
	os.WriteFile(filepath.Join(c.PartialDir(stale), "disk.raw.tmp"), []byte("raw"), 0o644)

	// Junk the cache did not make is ignored.
	os.MkdirAll(filepath.Join(c.Root(), "images", "Junk", "1", "x"), 0o755)
	os.WriteFile(filepath.Join(c.Root(), "images", "ubuntu", "README"), nil, 0o644)
	outside := t.TempDir()
	os.Symlink(outside, filepath.Join(c.Root(), "images", "linked"))

	images, err := c.List(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	want := map[Key]State{
		ready:           StateReady,
		corruptMissing:  StateCorrupt,
		corruptSize:     StateCorrupt,
		corruptMeta:     StateCorrupt,
		partialNoMeta:   StatePartial,
		partialTransfer: StatePartial,
		updating:        StateReady,
		emptyPartialDir: StateReady,
		converting:      StateConverting,
		stale:           StateReady,
	}
	got := map[Key]State{}
	for _, im := range images {
		got[im.Key] = im.State
		if im.Path != c.Dir(im.Key) {
			t.Errorf("%s: Path = %q", im.Key, im.Path)
		}
		if im.State != StateReady && im.Reason == "" {
			t.Errorf("%s: %s without a reason", im.Key, im.State)
		}
		if im.SizeBytes <= 0 {
			t.Errorf("%s: SizeBytes = %d", im.Key, im.SizeBytes)
		}
	}
	for k, s := range want {
		if got[k] != s {
			t.Errorf("%s: state %q, want %q", k, got[k], s)
		}
	}
	if len(images) != len(want) {
		t.Errorf("List returned %d images, want %d: %v", len(images), len(want), got)
	}
	var keys []Key
	for _, im := range images {
		keys = append(keys, im.Key)
	}
	wantOrder := []Key{emptyPartialDir, partialNoMeta, partialTransfer, updating, stale, converting, corruptMeta, corruptSize, corruptMissing, ready}
	if !slices.Equal(keys, wantOrder) {
		t.Errorf("order\n got %v\nwant %v", keys, wantOrder)
	}
	if TotalBytes(images) <= 0 {
		t.Error("TotalBytes <= 0")
	}
	for _, im := range images {
		if im.Key == ready && (im.Meta == nil || im.Build != "20250601" || !im.LastUsed.Equal(t0) || !im.PulledAt.Equal(t0)) {
			t.Errorf("ready image: %+v", im)
		}
	}
}

func TestListSparseSize(t *testing.T) {
	c := openTest(t)
	k := Key{"ubuntu", "24.04", "x86_64"}
	putImage(t, c, k, map[string]string{"disk.qcow2": "d"}, t0)
	const apparent = 1 << 30
	f, err := os.Create(filepath.Join(c.Dir(k), "disk.raw"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt(make([]byte, 4096), 1<<20); err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(apparent); err != nil {
		t.Fatal(err)
	}
	f.Close()

	images, err := c.List(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(images) != 1 {
		t.Fatalf("List = %v", images)
	}
	size := images[0].SizeBytes
	if size >= apparent/100 || size < 4096 {
		t.Errorf("SizeBytes = %d, want real usage far below the apparent %d", size, apparent)
	}
}

func TestListEmptyAndCancelled(t *testing.T) {
	c := openTest(t)
	images, err := c.List(t.Context())
	if err != nil || len(images) != 0 {
		t.Fatalf("List of empty cache = %v, %v", images, err)
	}
	putImage(t, c, Key{"a", "1", "x"}, map[string]string{"vmlinuz": "k"}, t0)
	ctx, cancel := contextCancelled(t)
	defer cancel()
	if _, err := c.List(ctx); err == nil {
		t.Error("List with a cancelled context succeeded")
	}
}

func TestPartialLastUsedFromFiles(t *testing.T) {
	c := openTest(t)
	k := Key{"debian", "12", "x86_64"}
	unlock, _, _ := c.TryLock(k)
	unlock()
	part := filepath.Join(c.PartialDir(k), "disk.qcow2.part")
	os.MkdirAll(c.PartialDir(k), 0o755)
	os.WriteFile(part, []byte("x"), 0o644)
	old := t0.Add(-48 * time.Hour)
	for _, p := range []string{part, c.PartialDir(k), filepath.Join(c.Dir(k), ".lock"), c.Dir(k)} {
		os.Chtimes(p, old, old)
	}
	images, _ := c.List(t.Context())
	if len(images) != 1 || !images[0].LastUsed.Equal(old) {
		t.Fatalf("partial image LastUsed = %v, want %v", images[0].LastUsed, old)
	}
}

func TestImageJSON(t *testing.T) {
	im := Image{Key: Key{"ubuntu", "24.04", "x86_64"}, Build: "20250601", State: StateReady, SizeBytes: 42, Path: "/c/images/ubuntu/24.04/x86_64", Meta: &Meta{}}
	got := mustJSON(t, im)
	want := `{"distro":"ubuntu","version":"24.04","arch":"x86_64","build":"20250601","state":"ready","size_bytes":42,"path":"/c/images/ubuntu/24.04/x86_64"}`
	if got != want {
		t.Errorf("JSON\n got %s\nwant %s", got, want)
	}
}

func TestImageMatchesList(t *testing.T) {
	c := openTest(t)
	k := Key{Distro: "debian", Version: "12", Arch: "x86_64"}
	if _, err := c.Image(k); !errors.Is(err, ErrNotCached) {
		t.Fatalf("Image of an absent image: %v, want ErrNotCached", err)
	}
	if _, err := c.Image(Key{Distro: "..", Version: "1", Arch: "x"}); !errors.Is(err, ErrBadKey) {
		t.Errorf("hostile key: %v, want ErrBadKey", err)
	}
	putImage(t, c, k, map[string]string{"disk.qcow2": "disk bytes"}, t0)
	putImage(t, c, Key{Distro: "alpine", Version: "3.23", Arch: "x86_64"}, map[string]string{"disk.qcow2": "other"}, t0)
	images, err := c.List(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	im, err := c.Image(k)
	if err != nil {
		t.Fatal(err)
	}
	var listed Image
	for _, x := range images {
		if x.Key == k {
			listed = x
		}
	}
	if im.State != StateReady || im.State != listed.State || im.SizeBytes != listed.SizeBytes || im.Build != listed.Build || im.Path != listed.Path {
		t.Errorf("Image = %+v\nList has %+v", im, listed)
	}
}
