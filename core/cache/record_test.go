package cache

import (
	"testing"
	"time"
)

// TestRecordVerify: a failed verify outcome makes the image corrupt, naming
// the files found wrong; an outcome for a pull that was since replaced is
// not recorded; a new metadata write (a pull) forgets it.
func TestRecordVerify(t *testing.T) {
	c := openTest(t)
	k := Key{Distro: "debian", Version: "12", Arch: "x86_64"}
	m := putImage(t, c, k, map[string]string{"disk.qcow2": "disk", "vmlinuz": "kernel"}, t0)
	failed := VerifyMeta{At: t0, Problems: []string{"disk.qcow2: sha256 mismatch (expected a, got b)"}, Files: []string{"disk.qcow2"}}

	if ok, err := c.RecordVerify(k, t0.Add(-time.Hour), m.Build, failed); ok || err != nil {
		t.Fatalf("recorded for another pull: %v, %v", ok, err)
	}
	if ok, err := c.RecordVerify(k, m.PulledAt, "other-build", failed); ok || err != nil {
		t.Fatalf("recorded for another build: %v, %v", ok, err)
	}
	if im, _ := c.Image(k); im.State != StateReady {
		t.Fatalf("state %s after a stale outcome", im.State)
	}
	if ok, err := c.RecordVerify(k, m.PulledAt, m.Build, failed); !ok || err != nil {
		t.Fatalf("RecordVerify = %v, %v", ok, err)
	}
	im, err := c.Image(k)
	if err != nil || im.State != StateCorrupt || im.Reason != ReasonFailedVerify+": disk.qcow2" {
		t.Fatalf("image %s (%q), %v", im.State, im.Reason, err)
	}
	if !im.Meta.Distrusts("disk.qcow2") || im.Meta.Distrusts("vmlinuz") || im.Meta.FailedRawOnly() {
		t.Errorf("verdict %+v: want only disk.qcow2 distrusted", im.Meta.Verified)
	}

	if ok, err := c.RecordVerify(k, m.PulledAt, m.Build, VerifyMeta{At: t0, OK: true}); !ok || err != nil {
		t.Fatalf("RecordVerify ok = %v, %v", ok, err)
	}
	if im, _ := c.Image(k); im.State != StateReady || im.Meta.Verified == nil || !im.Meta.Verified.OK {
		t.Errorf("verified again: %s, %+v", im.State, im.Meta.Verified)
	}

	c.RecordVerify(k, m.PulledAt, m.Build, failed)
	fresh := *m
	fresh.Verified = nil
	if err := c.WriteMeta(&fresh); err != nil {
		t.Fatal(err)
	}
	if im, _ := c.Image(k); im.State != StateReady {
		t.Errorf("after new metadata: %s (%s)", im.State, im.Reason)
	}
}
