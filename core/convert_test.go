package core

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"vmimages/core/catalog"
)

// TestPullRawReportsConversion pulls a real qcow2 with Raw set and checks
// the raw disk and the conversion progress the job reported.
func TestPullRawReportsConversion(t *testing.T) {
	if _, err := exec.LookPath("qemu-img"); err != nil {
		t.Skip("qemu-img not installed (Debian: qemu-utils; make deps installs it)")
	}
	dir := t.TempDir()
	q := filepath.Join(dir, "d.qcow2")
	for _, args := range [][]string{
		{"qemu-img", "create", "-q", "-f", "qcow2", q, "16M"},
		{"qemu-io", "-c", "write -P 0xcd 0 2M", q},
	} {
		if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
			t.Skipf("%v: %v %s", args, err, out)
		}
	}
	disk, _ := os.ReadFile(q)
	srv, _ := debianMirror(t)
	srv.AddDebian("/debian", "12", "bookworm", "20261001-2700", "amd64", disk)
	m := newManager(t, map[string]string{"debian": srv.URL + "/debian/"}, nil)
	j := m.Pull(context.Background(), catalog.Ref{Distro: "debian", Version: "12", Arch: "x86_64"}, PullOptions{Raw: true})
	img, err := wait(t, j)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(img.DiskRaw)
	if err != nil || len(raw) != 16<<20 || raw[0] != 0xcd || raw[3<<20] != 0 {
		t.Fatalf("raw disk wrong: %d bytes, %v", len(raw), err)
	}
	if s := j.Snapshot(); s.Converted != 1 {
		t.Errorf("snapshot Converted = %v after the conversion, want 1", s.Converted)
	}
	// Converting again is a no-op: the raw disk is up to date.
	var calls int
	if _, err := m.ConvertWithProgress(context.Background(), j.Snapshot().Key, func(float64) { calls++ }); err != nil || calls != 0 {
		t.Errorf("second convert: err %v, %d progress calls (want none: up to date)", err, calls)
	}
}
