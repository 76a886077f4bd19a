package cache

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
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
	os.WriteFile(filepath.Join(dir, ".partial", "disk.qcow2.part.json"), []byte("{}"), 0o644)
	os.WriteFile(filepath.Join(dir, ".partial", "vmlinuz.part"), nil, 0o644)
	os.WriteFile(filepath.Join(dir, ".partial", "vmlinuz.part.json"), []byte("{}"), 0o644)
	os.WriteFile(filepath.Join(dir, ".partial", "initramfs"), []byte("verified"), 0o644)
	os.WriteFile(filepath.Join(dir, ".partial", "vmlinuz.extracted"), []byte("x"), 0o644)
	os.MkdirAll(filepath.Join(dir, ".partial", "scratch"), 0o755)

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
	// The part with bytes, its note and the verified download stay for the
	// next pull; the empty part, the conversion and the rest went.
	names = nil
	ents, _ = os.ReadDir(filepath.Join(dir, ".partial"))
	for _, e := range ents {
		names = append(names, e.Name())
	}
	if want := []string{"disk.qcow2.part", "disk.qcow2.part.json", "initramfs"}; !slices.Equal(names, want) {
		t.Errorf(".partial after Abort holds %v, want %v", names, want)
	}
	if im, err := c.Image(k); err != nil || im.State != StateReady {
		t.Errorf("image after Abort: %+v, %v", im, err)
	}
}

// TestCommitKeepsVerdictOfKeptFiles: a failed verify stays recorded for the
// files a commit keeps and goes for the files it makes anew.
func TestCommitKeepsVerdictOfKeptFiles(t *testing.T) {
	c := openTest(t)
	k := Key{"debian", "12", "x86_64"}
	m := putImage(t, c, k, map[string]string{"vmlinuz": "kernel", "disk.qcow2": "disk"}, t0)
	dir := c.Dir(k)
	os.WriteFile(filepath.Join(dir, "disk.raw"), []byte("raw"), 0o644)
	m.DiskRaw = &RawMeta{File: "disk.raw", Digest: sha([]byte("raw")), SourceDigest: m.Asset(RoleDisk).Digest, Size: 3}
	m.Verified = &VerifyMeta{At: t0, Files: []string{"vmlinuz", "disk.raw"},
		Problems: []string{"vmlinuz: sha256 mismatch (expected a, got b)", "disk.raw: sha256 mismatch (expected c, got d)"}}
	if err := c.WriteMeta(m); err != nil {
		t.Fatal(err)
	}

	tx, err := c.Begin(t.Context(), k)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Abort()
	for _, role := range []string{RoleKernel, RoleDisk} {
		if _, err := tx.Keep(role, nil); err != nil {
			t.Fatal(err)
		}
	}
	tmp, err := tx.RawTemp()
	if err != nil {
		t.Fatal(err)
	}
	// An update interrupted earlier left a part for its resume.
	part := filepath.Join(dir, ".partial", "disk.qcow2.part")
	if err := os.WriteFile(part, []byte("half of the next build"), 0o644); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(part+".json", []byte("{}"), 0o644)
	os.WriteFile(tmp, []byte("new raw"), 0o644)
	if _, err := tx.StageRaw(t.Context(), tmp, m.Asset(RoleDisk).Digest, nil); err != nil {
		t.Fatal(err)
	}
	got, err := tx.Commit(tx.Committed())
	if err != nil {
		t.Fatal(err)
	}
	if v := got.Verified; v == nil || !slices.Equal(v.Files, []string{"vmlinuz"}) || len(v.Problems) != 1 || !strings.HasPrefix(v.Problems[0], "vmlinuz:") {
		t.Errorf("verdict after a new raw disk: %+v; want only vmlinuz's failure", v)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, got.DiskRaw.File)); string(b) != "new raw" || got.DiskRaw.File != "disk.raw" {
		t.Errorf("raw disk %s holds %q", got.DiskRaw.File, b)
	}
	if im, _ := c.Image(k); im.State != StateCorrupt {
		t.Errorf("state %s; the kernel's failed verify must still show", im.State)
	}
	if _, err := os.Stat(part); err != nil {
		t.Errorf("a conversion's commit dropped another change's part: %v", err)
	}
}
