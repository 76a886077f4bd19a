package ui

import (
	"strings"
	"testing"
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
