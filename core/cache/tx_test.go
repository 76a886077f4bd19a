package cache

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestBeginSweeps: a change starts by removing what no build names — files
// of a replaced build, build-suffixed names a switch left, staged files and
// conversions from before transactions — and keeps what meta.json names,
// build-suffixed or not, and files the cache did not make.
func TestBeginSweeps(t *testing.T) {
	c := openTest(t)
	k := Key{"debian", "12", "x86_64"}
	m := putImage(t, c, k, map[string]string{"disk.qcow2": "disk"}, t0)
	dir := c.Dir(k)
	// A switch that stopped before the stable name came back.
	os.Rename(filepath.Join(dir, "disk.qcow2"), filepath.Join(dir, "disk-2.qcow2"))
	m.Assets[0].File = "disk-2.qcow2"
	if err := c.WriteMeta(m); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"disk.qcow2", "disk-3.qcow2", "vmlinuz", ".next-disk.qcow2", "disk.raw.tmp-42", "notes.txt"} {
		os.WriteFile(filepath.Join(dir, n), []byte("x"), 0o644)
	}
	os.MkdirAll(filepath.Join(dir, ".partial"), 0o755)
	os.WriteFile(filepath.Join(dir, ".partial", "disk.raw.tmp"), []byte("x"), 0o644)
	os.WriteFile(filepath.Join(dir, ".partial", "disk.qcow2.part"), []byte("x"), 0o644)

	tx, err := c.Begin(t.Context(), k)
	if err != nil {
		t.Fatal(err)
	}
	if got := tx.Committed(); got == nil || got.Assets[0].File != m.Assets[0].File {
		t.Fatalf("Committed = %+v", got)
	}
	var names []string
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		names = append(names, e.Name())
	}
	if want := []string{".lock", ".meta.lock", ".partial", "disk-2.qcow2", "meta.json", "notes.txt"}; !slices.Equal(names, want) {
		t.Errorf("after Begin the folder holds %v, want %v", names, want)
	}
	if err := tx.Abort(); err != nil {
		t.Fatal(err)
	}
	// The part file with bytes stays for a resume; the conversion went.
	ents, _ = os.ReadDir(filepath.Join(dir, ".partial"))
	if len(ents) != 1 || ents[0].Name() != "disk.qcow2.part" {
		t.Errorf(".partial after Abort: %v", ents)
	}
	if im, err := c.Image(k); err != nil || im.State != StateReady {
		t.Errorf("image after Abort: %+v, %v", im, err)
	}
}
