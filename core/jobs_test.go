package core

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"vmimages/core/cache"
)

// flip inverts the middle byte of path.
func flip(t *testing.T, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0xff
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func verifyJob(t *testing.T, m *Manager, k cache.Key) Verdict {
	t.Helper()
	j := m.VerifyJob(context.Background(), k)
	if _, err := wait(t, j); err != nil {
		t.Fatal(err)
	}
	s := j.Snapshot()
	if s.Kind != KindVerify || s.Phase != PhaseDone || s.Verdict == nil {
		t.Fatalf("verify job ended %+v", s)
	}
	return *s.Verdict
}

func imageState(t *testing.T, m *Manager, k cache.Key) cache.Image {
	t.Helper()
	im, err := m.Cache().Image(k)
	if err != nil {
		t.Fatal(err)
	}
	return im
}

// TestVerifyVerdictIsRemembered: a verify that finds damage leaves the image
// "corrupt" in the cache, also for a Manager opened later (a restart of
// the app), until it is verified again or pulled anew.
func TestVerifyVerdictIsRemembered(t *testing.T) {
	srv, disk := debianMirror(t)
	mirrors := map[string]string{"debian": srv.URL + "/debian/"}
	m := newManager(t, mirrors, nil)
	img, err := wait(t, m.Pull(context.Background(), debian12, PullOptions{}))
	if err != nil {
		t.Fatal(err)
	}
	k := cache.Key{Distro: "debian", Version: "12", Arch: "x86_64"}

	j := m.VerifyJob(context.Background(), k)
	if _, err := wait(t, j); err != nil {
		t.Fatal(err)
	}
	if s := j.Snapshot(); s.Verdict == nil || s.Verdict.Status != VerdictOK || s.BytesDone != int64(len(disk)) || s.BytesTotal != int64(len(disk)) {
		t.Fatalf("verify of an intact image: %+v", s)
	}

	flip(t, img.Disk)
	if v := verifyJob(t, m, k); v.Status != VerdictDamaged || len(v.Problems) == 0 {
		t.Fatalf("verdict %+v, want damaged", v)
	}
	restarted := newManager(t, mirrors, func(o *Options) { o.CacheDir = m.CacheDir() })
	if im := imageState(t, restarted, k); im.State != cache.StateCorrupt {
		t.Fatalf("after a failed verify and a restart the image is %s (%s), want corrupt", im.State, im.Reason)
	}
	// A pull of it does not hand out the damaged image as cached.
	if _, err := wait(t, restarted.Pull(context.Background(), debian12, PullOptions{})); err != nil {
		t.Fatal(err)
	}
	checkDisk(t, img, disk)
	if im := imageState(t, restarted, k); im.State != cache.StateReady || im.Meta.Verified != nil {
		t.Fatalf("pulled anew: %s (%s), verified %+v", im.State, im.Reason, im.Meta.Verified)
	}

	// Damaged, then repaired: verifying again makes it ready.
	flip(t, img.Disk)
	if _, err := restarted.Verify(context.Background(), k, nil); err != nil {
		t.Fatal(err)
	}
	if im := imageState(t, restarted, k); im.State != cache.StateCorrupt {
		t.Fatalf("Verify (the window's call) did not record the failure: %s", im.State)
	}
	flip(t, img.Disk)
	if v := verifyJob(t, restarted, k); v.Status != VerdictOK {
		t.Fatalf("verdict %+v after repair", v)
	}
	if im := imageState(t, restarted, k); im.State != cache.StateReady || im.Meta.Verified == nil || !im.Meta.Verified.OK {
		t.Fatalf("verified again: %s, verified %+v", im.State, im.Meta.Verified)
	}
}

// TestVerifyVerdicts: partial and unreadable images are verdicts, not errors.
func TestVerifyVerdicts(t *testing.T) {
	m := newManager(t, nil, nil)
	partial := cache.Key{Distro: "debian", Version: "12", Arch: "x86_64"}
	os.MkdirAll(filepath.Join(m.Cache().PartialDir(partial)), 0o755)
	os.WriteFile(filepath.Join(m.Cache().PartialDir(partial), "disk.qcow2.part"), []byte("abc"), 0o644)
	unreadable := cache.Key{Distro: "debian", Version: "13", Arch: "x86_64"}
	os.MkdirAll(m.Cache().Dir(unreadable), 0o755)
	os.WriteFile(filepath.Join(m.Cache().Dir(unreadable), "meta.json"), []byte("{not json"), 0o644)
	for k, want := range map[cache.Key]VerdictStatus{partial: VerdictPartial, unreadable: VerdictUnreadable} {
		v, err := m.VerifyImage(context.Background(), k, nil)
		if err != nil || v.Status != want || len(v.Problems) == 0 {
			t.Errorf("%s: verdict %+v, %v; want %s with a reason", k, v, err, want)
		}
	}
	if !VerdictDamaged.Worse(VerdictUnreadable) || !VerdictUnreadable.Worse(VerdictPartial) || !VerdictPartial.Worse(VerdictOK) {
		t.Error("verdict order wrong")
	}
}

// TestRemoveJob removes an image as a job; a missing image fails with a
// *NotCachedError.
func TestRemoveJob(t *testing.T) {
	srv, _ := debianMirror(t)
	m := newManager(t, map[string]string{"debian": srv.URL + "/debian/"}, nil)
	if _, err := wait(t, m.Pull(context.Background(), debian12, PullOptions{})); err != nil {
		t.Fatal(err)
	}
	k := cache.Key{Distro: "debian", Version: "12", Arch: "x86_64"}
	j := m.RemoveJob(context.Background(), k)
	if _, err := wait(t, j); err != nil {
		t.Fatal(err)
	}
	if s := j.Snapshot(); s.Kind != KindRemove || s.Phase != PhaseDone {
		t.Errorf("remove job: %+v", s)
	}
	if _, err := os.Stat(m.Cache().Dir(k)); !os.IsNotExist(err) {
		t.Errorf("image still on disk: %v", err)
	}
	_, err := wait(t, m.RemoveJob(context.Background(), k))
	var nc *NotCachedError
	if !errors.As(err, &nc) || !errors.Is(err, ErrNotCached) || nc.Key != k {
		t.Errorf("removing a missing image: %v, want a *NotCachedError", err)
	}
}

// TestConvertJob converts a cached qcow2 as a job with progress.
func TestConvertJob(t *testing.T) {
	if _, err := exec.LookPath("qemu-img"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("qemu-img not installed (make deps installs qemu-utils)")
		}
		t.Skip("qemu-img not installed (Debian: qemu-utils; make deps installs it)")
	}
	q := filepath.Join(t.TempDir(), "d.qcow2")
	if out, err := exec.Command("qemu-img", "create", "-q", "-f", "qcow2", q, "8M").CombinedOutput(); err != nil {
		t.Fatalf("%v %s", err, out)
	}
	disk, _ := os.ReadFile(q)
	srv, _ := debianMirror(t)
	srv.AddDebian("/debian", "12", "bookworm", "20261001-2700", "amd64", disk)
	m := newManager(t, map[string]string{"debian": srv.URL + "/debian/"}, nil)
	if _, err := wait(t, m.Pull(context.Background(), debian12, PullOptions{})); err != nil {
		t.Fatal(err)
	}
	k := cache.Key{Distro: "debian", Version: "12", Arch: "x86_64"}
	j := m.ConvertJob(context.Background(), k)
	img, err := wait(t, j)
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(img.DiskRaw); err != nil || fi.Size() != 8<<20 {
		t.Fatalf("raw disk: %v", err)
	}
	if s := j.Snapshot(); s.Kind != KindConvert || s.Phase != PhaseDone || s.Converted != 1 || s.Result == nil {
		t.Errorf("convert job: %+v", s)
	}

	// A verify that finds only the raw disk changed marks the image
	// corrupt; a pull converts the raw disk again from the proven disk
	// without downloading anything, and the image is ready again.
	flip(t, img.DiskRaw)
	v := verifyJob(t, m, k)
	if v.Status != VerdictDamaged || v.Meta == nil || !v.Meta.FailedRawOnly() {
		t.Fatalf("verdict %+v (recorded %+v), want damaged, raw disk only", v, v.Meta.Verified)
	}
	if im := imageState(t, m, k); im.State != cache.StateCorrupt {
		t.Fatalf("state %s after a failed verify", im.State)
	}
	before := srv.Count(".qcow2")
	pj := m.Pull(context.Background(), debian12, PullOptions{})
	if _, err := wait(t, pj); err != nil {
		t.Fatal(err)
	}
	if srv.Count(".qcow2") != before {
		t.Error("the intact disk was downloaded again")
	}
	if n := pj.Snapshot().Notices; len(n) == 0 || !strings.Contains(n[0], "converting again") {
		t.Errorf("notices %q, want the raw disk converted again", n)
	}
	if im := imageState(t, m, k); im.State != cache.StateReady {
		t.Errorf("state %s (%s) after the pull, want ready", im.State, im.Reason)
	}
	if v := verifyJob(t, m, k); v.Status != VerdictOK {
		t.Errorf("verdict %+v after the pull", v)
	}
}

// TestRemoveCancelsTheImagesJobs: removing an image stops a conversion of
// it that waits for the image's lock, instead of converting a removed image
// after.
func TestRemoveCancelsTheImagesJobs(t *testing.T) {
	srv, _ := debianMirror(t)
	m := newManager(t, map[string]string{"debian": srv.URL + "/debian/"}, nil)
	if _, err := wait(t, m.Pull(context.Background(), debian12, PullOptions{})); err != nil {
		t.Fatal(err)
	}
	k := cache.Key{Distro: "debian", Version: "12", Arch: "x86_64"}
	unlock, err := m.Cache().Lock(context.Background(), k) // another process's pull, say
	if err != nil {
		t.Fatal(err)
	}
	conv := m.ConvertJob(context.Background(), k)
	waitPhase(t, conv, PhaseWaiting)
	rm := m.RemoveJob(context.Background(), k)
	if _, err := wait(t, conv); !errors.Is(err, context.Canceled) {
		t.Fatalf("the conversion waiting for a removed image ended %v", err)
	}
	unlock()
	if _, err := wait(t, rm); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(m.Cache().Dir(k)); !os.IsNotExist(err) {
		t.Errorf("image still on disk: %v", err)
	}
}
