package ui

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"vmimages/core"
	"vmimages/internal/mirrortest"
)

// TestKernelCheck: "Also provide kernel + initramfs for direct boot" asks
// the core for them; this mirror's disk has no /boot, so the pull says
// kernel extraction failed (and the disk itself is cached).
func TestKernelCheck(t *testing.T) {
	srv, _ := newMirror(t, 300_000)
	h := newHarness(t, srv, nil)
	u := h.u
	if !u.SelectEntry("debian", "12") {
		t.Fatal("debian 12 is not in the catalog view")
	}
	if u.cat.kernel.Text != "Also provide kernel + initramfs for direct boot" || !u.cat.kernel.Visible() {
		t.Fatalf("kernel check %q", u.cat.kernel.Text)
	}
	u.cat.kernel.SetChecked(true)
	h.tap(u.cat.download)
	h.waitFor("the kernel extraction error", func() bool {
		d := h.u.dialog
		return d != nil && strings.Contains(d.Text, "kernel extraction")
	})
}

// TestNewVMDisk: "New VM disk…" in the cache view makes a writable copy of
// the selected image at the chosen path and size, and refuses to
// overwrite a file.
func TestNewVMDisk(t *testing.T) {
	if _, err := exec.LookPath("qemu-img"); err != nil {
		t.Skip("qemu-img is needed")
	}
	dir := t.TempDir()
	q := filepath.Join(dir, "src.qcow2")
	if out, err := exec.Command("qemu-img", "create", "-q", "-f", "qcow2", q, "32M").CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	qcow, err := os.ReadFile(q)
	if err != nil {
		t.Fatal(err)
	}
	srv := mirrortest.New(t)
	srv.AddDebian("/debian", "12", "bookworm", "20260810-2566", upstreamArch(), qcow)
	h := newHarness(t, srv, nil)
	u := h.u
	k := hostKey("12")
	if _, err := h.m.Pull(context.Background(), refOf(k), core.PullOptions{}).Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	u.ShowTab("cache")
	u.reloadCache()
	h.waitFor("the image in the cache view", func() bool { return strings.Contains(h.cacheRow(k), "ready") })
	if !u.cv.Select(k) {
		t.Fatal("cannot select the image")
	}
	dst := filepath.Join(dir, "vm.raw")
	create := func() {
		h.tap(u.cv.newDisk)
		f := u.cv.newDiskForm
		f.path.SetText(dst)
		f.size.SetText("64M")
		h.tap(f.dlg.Buttons["Create"])
	}
	create()
	h.waitFor("the made-it dialog", func() bool {
		d := h.u.dialog
		return d != nil && d.Title == "New VM disk" && strings.Contains(d.Text, dst)
	})
	if fi, err := os.Stat(dst); err != nil || fi.Size() != 64<<20 {
		t.Fatalf("the new disk: %v, %v", fi, err)
	}
	h.u.dialog.Hide()
	create()
	h.waitFor("the refusal", func() bool {
		d := h.u.dialog
		return d != nil && d.Title == "Could not make the VM disk" && strings.Contains(d.Text, "never overwritten")
	})
}
