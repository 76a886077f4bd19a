package core

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"vmimages/core/cache"
	"vmimages/core/catalog"
	"vmimages/core/config"
	"vmimages/internal/mirrortest"
)

// newManager opens a Manager over a fresh cache with the given mirrors.
func newManager(t *testing.T, mirrors map[string]string, mutate func(o *Options)) *Manager {
	t.Helper()
	o := Options{CacheDir: t.TempDir(), Mirrors: mirrors, Version: "test",
		Backoff: func(int) time.Duration { return time.Millisecond }}
	if mutate != nil {
		mutate(&o)
	}
	m, err := Open(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Close)
	return m
}

func wait(t *testing.T, j *Job) (*PreparedImage, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	return j.Wait(ctx)
}

func debianMirror(t *testing.T) (*mirrortest.Server, []byte) {
	srv := mirrortest.New(t)
	old := mirrortest.Payload("old", 100_000)
	disk := mirrortest.Payload("bookworm-new", 3_000_000)
	srv.AddDebian("/debian", "12", "bookworm", "20260712-2537", "amd64", old)
	srv.AddDebian("/debian", "12", "bookworm", "20260810-2566", "amd64", disk)
	return srv, disk
}

func TestPullDebianEndToEnd(t *testing.T) {
	srv, disk := debianMirror(t)
	m := newManager(t, map[string]string{"debian": srv.URL + "/debian/"}, nil)
	img, err := wait(t, m.Pull(context.Background(), catalog.Ref{Distro: "debian", Version: "latest", Arch: "amd64"}, PullOptions{}))
	if err == nil {
		t.Fatalf("latest of debian is 13, which the mirror lacks; want an error, got %+v", img)
	}
	img, err = wait(t, m.Pull(context.Background(), catalog.Ref{Distro: "debian", Version: "12", Arch: "amd64"}, PullOptions{}))
	if err != nil {
		t.Fatal(err)
	}
	if img.Build != "20260810-2566" || img.Kernel != "" || img.Initramfs != "" || img.DiskRaw != "" {
		t.Errorf("prepared image = %+v", img)
	}
	want := filepath.Join(m.CacheDir(), "images", "debian", "12", "x86_64", "disk.qcow2")
	if img.Disk != want {
		t.Errorf("disk path %s, want %s", img.Disk, want)
	}
	got, err := os.ReadFile(img.Disk)
	if err != nil || !bytes.Equal(got, disk) {
		t.Fatalf("disk bytes differ from the mirror's (err %v)", err)
	}
	if img.Signature.Status != SigUnsigned {
		t.Errorf("signature status %q, want unsigned", img.Signature.Status)
	}
	meta, err := m.Cache().ReadMeta(cache.Key{Distro: "debian", Version: "12", Arch: "x86_64"})
	if err != nil {
		t.Fatal(err)
	}
	if meta.Build != "20260810-2566" || len(meta.Assets) != 1 || meta.Assets[0].Digest.Hex != mirrortest.SHA512(disk) {
		t.Errorf("meta = %+v", meta)
	}
	// A second pull transfers nothing.
	before := srv.Count(".qcow2")
	if _, err := wait(t, m.Pull(context.Background(), catalog.Ref{Distro: "debian", Version: "bookworm", Arch: "x86_64"}, PullOptions{})); err != nil {
		t.Fatal(err)
	}
	if after := srv.Count(".qcow2"); after != before {
		t.Errorf("second pull fetched the disk again (%d → %d requests)", before, after)
	}
	images, err := m.List(context.Background())
	if err != nil || len(images) != 1 || images[0].State != cache.StateReady {
		t.Fatalf("list = %+v, %v", images, err)
	}
}

func TestPullWrongBytesKeepsGoodCopy(t *testing.T) {
	srv, disk := debianMirror(t)
	m := newManager(t, map[string]string{"debian": srv.URL + "/debian/"}, nil)
	ref := catalog.Ref{Distro: "debian", Version: "12", Arch: "x86_64"}
	img, err := wait(t, m.Pull(context.Background(), ref, PullOptions{}))
	if err != nil {
		t.Fatal(err)
	}
	// Upstream publishes a new build whose file is corrupted in transit.
	newDisk := mirrortest.Payload("bookworm-newer", 2_000_000)
	p := srv.AddDebian("/debian", "12", "bookworm", "20260901-2600", "amd64", newDisk)
	srv.Put(p, mirrortest.Payload("evil", len(newDisk)))
	_, err = wait(t, m.Pull(context.Background(), ref, PullOptions{Update: true}))
	if !IsIntegrity(err) {
		t.Fatalf("want an integrity error, got %v", err)
	}
	got, _ := os.ReadFile(img.Disk)
	if !bytes.Equal(got, disk) {
		t.Error("the earlier good copy was damaged")
	}
	parts, _ := filepath.Glob(filepath.Join(filepath.Dir(img.Disk), ".partial", "*.part"))
	if len(parts) != 0 {
		t.Errorf("partial files left after a mismatch: %v", parts)
	}
}

func TestConcurrentPullsShareOneTransfer(t *testing.T) {
	srv, _ := debianMirror(t)
	m := newManager(t, map[string]string{"debian": srv.URL + "/debian/"}, nil)
	ref := catalog.Ref{Distro: "debian", Version: "12", Arch: "x86_64"}
	var wg sync.WaitGroup
	errs := make([]error, 5)
	for i := range 5 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = wait(t, m.Pull(context.Background(), ref, PullOptions{}))
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := srv.Count("20260810-2566.qcow2"); n != 1 {
		t.Errorf("five pulls made %d transfers, want 1", n)
	}
}

func TestCancelLeavesPartialAndResumes(t *testing.T) {
	srv, disk := debianMirror(t)
	release := make(chan struct{})
	var once sync.Once
	srv.Fault = func(w http.ResponseWriter, r *http.Request) bool {
		if !strings.HasSuffix(r.URL.Path, "20260810-2566.qcow2") || r.Header.Get("Range") != "" {
			return false
		}
		// Send the first megabyte, then hang until the test is done with us.
		w.Header().Set("Content-Length", fmt.Sprint(len(disk)))
		w.Header().Set("Accept-Ranges", "bytes")
		w.Header().Set("ETag", `"`+mirrortest.SHA256(disk)[:16]+`"`)
		w.WriteHeader(http.StatusOK)
		w.Write(disk[:1<<20])
		w.(http.Flusher).Flush()
		once.Do(func() { close(release) })
		select {
		case <-r.Context().Done():
		case <-time.After(30 * time.Second):
		}
		return true
	}
	m := newManager(t, map[string]string{"debian": srv.URL + "/debian/"}, nil)
	ref := catalog.Ref{Distro: "debian", Version: "12", Arch: "x86_64"}
	j := m.Pull(context.Background(), ref, PullOptions{})
	<-release
	deadline := time.Now().Add(10 * time.Second)
	for j.Snapshot().BytesDone < 1<<20 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	j.Cancel()
	if _, err := wait(t, j); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancel: got %v", err)
	}
	if s := j.Snapshot(); s.Phase != PhaseCancelled {
		t.Errorf("phase %s, want cancelled", s.Phase)
	}
	images, _ := m.List(context.Background())
	if len(images) != 1 || images[0].State != cache.StatePartial {
		t.Fatalf("after cancel, list = %+v", images)
	}
	srv.SetFault(nil)
	img, err := wait(t, m.Pull(context.Background(), ref, PullOptions{}))
	if err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(img.Disk)
	if !bytes.Equal(got, disk) {
		t.Fatal("resumed disk differs")
	}
	resumed := false
	for _, r := range srv.Requests() {
		if strings.HasSuffix(r.Path, "20260810-2566.qcow2") && r.Range == fmt.Sprintf("bytes=%d-", 1<<20) {
			resumed = true
		}
	}
	if !resumed {
		t.Errorf("second pull did not resume from 1 MiB: %+v", srv.Requests())
	}
}

func TestPauseResume(t *testing.T) {
	srv, disk := debianMirror(t)
	m := newManager(t, map[string]string{"debian": srv.URL + "/debian/"}, func(o *Options) { o.Config.Bandwidth = "1M" })
	j := m.Pull(context.Background(), catalog.Ref{Distro: "debian", Version: "12", Arch: "x86_64"}, PullOptions{})
	deadline := time.Now().Add(10 * time.Second)
	for j.Snapshot().BytesDone == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	j.Pause()
	time.Sleep(100 * time.Millisecond)
	if s := j.Snapshot(); s.Phase != PhasePaused {
		t.Fatalf("phase %s, want paused", s.Phase)
	}
	m.dl.SetRateLimit(0)
	j.Resume()
	img, err := wait(t, j)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(img.Disk)
	if !bytes.Equal(got, disk) {
		t.Fatal("disk differs after pause and resume")
	}
}

// signedUbuntu publishes an Ubuntu release signed by a fresh key and returns
// a Manager whose settings pin that key for an overlay "ubuntu" entry.
func signedUbuntu(t *testing.T) (*mirrortest.Server, *Manager, *mirrortest.Signer, string) {
	t.Helper()
	signer := mirrortest.NewSigner(t)
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "test.asc")
	os.WriteFile(keyFile, signer.PublicKey, 0o644)
	overlays := filepath.Join(dir, "catalog.d")
	os.MkdirAll(overlays, 0o755)
	os.WriteFile(filepath.Join(overlays, "ubuntu.toml"), []byte(mirrortest.UbuntuOverlay(signer.Fingerprint)), 0o644)
	srv := mirrortest.New(t)
	d := srv.AddUbuntu("/ubuntu", "24.04", "noble", "20260926", "amd64",
		mirrortest.Payload("disk", 500_000), mirrortest.Payload("kernel", 50_000), mirrortest.Payload("initrd", 80_000))
	srv.Put(d+"SHA256SUMS.gpg", signer.Detach(t, srv.Get(d+"SHA256SUMS")))
	srv.Put(d+"unpacked/SHA256SUMS.gpg", signer.Detach(t, srv.Get(d+"unpacked/SHA256SUMS")))
	m := newManager(t, map[string]string{"ubuntu": srv.URL + "/ubuntu/"}, func(o *Options) {
		o.OverlayDir = overlays
		o.Config.Keys = []config.Key{{Distro: "ubuntu", Fingerprint: signer.Fingerprint, File: keyFile}}
	})
	return srv, m, signer, d
}

func TestPullSignedUbuntu(t *testing.T) {
	srv, m, _, d := signedUbuntu(t)
	img, err := wait(t, m.Pull(context.Background(), catalog.Ref{Distro: "ubuntu", Version: "noble", Arch: "x86_64"}, PullOptions{}))
	if err != nil {
		t.Fatal(err)
	}
	if img.Kernel == "" || img.Initramfs == "" || img.Disk == "" {
		t.Fatalf("missing files: %+v", img)
	}
	k, _ := os.ReadFile(img.Kernel)
	if !bytes.Equal(k, srv.Get(d+"unpacked/ubuntu-24.04-server-cloudimg-amd64-vmlinuz-generic")) {
		t.Error("kernel bytes differ")
	}
	if img.Signature.Status != SigVerified || img.Signature.Signer == "" || img.Signature.SignedAt == nil {
		t.Errorf("signature = %+v", img.Signature)
	}
	meta, _ := m.Cache().ReadMeta(cache.Key{Distro: "ubuntu", Version: "24.04", Arch: "x86_64"})
	if meta.Signature == nil || meta.Signature.Signer != img.Signature.Signer || meta.Signature.Status != SigVerified {
		t.Errorf("meta signature = %+v", meta.Signature)
	}
	if len(meta.Assets) != 3 {
		t.Fatalf("meta assets = %+v", meta.Assets)
	}
	for _, a := range meta.Assets {
		if a.Signature != SigVerified {
			t.Errorf("%s: signature %q recorded, want verified", a.Role, a.Signature)
		}
	}
}

// TestStrippedKernelSignatureFailsClosed: a mirror that deletes
// unpacked/SHA256SUMS.gpg and swaps the kernel (and its line in the
// manifest) gets nothing accepted: the pull fails as an integrity error
// before any byte of the kernel, initrd or disk is asked for.
func TestStrippedKernelSignatureFailsClosed(t *testing.T) {
	for _, tt := range []struct {
		name  string
		strip func(srv *mirrortest.Server, d string)
	}{
		{"missing", func(srv *mirrortest.Server, d string) {
			srv.SetFault(func(w http.ResponseWriter, r *http.Request) bool {
				if strings.HasSuffix(r.URL.Path, "/unpacked/SHA256SUMS.gpg") {
					http.NotFound(w, r)
					return true
				}
				return false
			})
		}},
		{"bad", func(srv *mirrortest.Server, d string) {
			// The old signature stays, over a manifest that changed.
		}},
		{"other key", func(srv *mirrortest.Server, d string) {
			srv.Put(d+"unpacked/SHA256SUMS.gpg", mirrortest.NewSigner(t).Detach(t, srv.Get(d+"unpacked/SHA256SUMS")))
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv, m, _, d := signedUbuntu(t)
			evil := mirrortest.Payload("evil kernel", 50_000)
			kernel := "ubuntu-24.04-server-cloudimg-amd64-vmlinuz-generic"
			srv.Put(d+"unpacked/"+kernel, evil)
			srv.Put(d+"unpacked/SHA256SUMS", mirrortest.GNU(true, mirrortest.SHA256, map[string][]byte{
				kernel: evil, "ubuntu-24.04-server-cloudimg-amd64-initrd-generic": srv.Get(d + "unpacked/ubuntu-24.04-server-cloudimg-amd64-initrd-generic"),
			}))
			tt.strip(srv, d)
			_, err := wait(t, m.Pull(context.Background(), catalog.Ref{Distro: "ubuntu", Version: "24.04", Arch: "x86_64"}, PullOptions{}))
			if !IsIntegrity(err) || !strings.Contains(err.Error(), "unpacked/SHA256SUMS") {
				t.Fatalf("want an integrity error naming unpacked/SHA256SUMS, got %v", err)
			}
			for _, suffix := range []string{"-vmlinuz-generic", "-initrd-generic", ".img"} {
				if n := srv.Count(suffix); n != 0 {
					t.Errorf("%d requests for %s after the kernel manifest failed its signature", n, suffix)
				}
			}
			if images, _ := m.List(context.Background()); len(images) != 0 {
				t.Errorf("cache lists %+v after a refused pull", images)
			}
		})
	}
}

func TestTamperedManifestStopsBeforeImageBytes(t *testing.T) {
	srv, m, _, d := signedUbuntu(t)
	sums := srv.Get(d + "SHA256SUMS")
	tampered := bytes.Replace(sums, []byte(mirrortest.SHA256(srv.Get(d+"ubuntu-24.04-server-cloudimg-amd64.img"))),
		[]byte(mirrortest.SHA256([]byte("evil"))), 1)
	if bytes.Equal(tampered, sums) {
		t.Fatal("test did not tamper")
	}
	srv.Put(d+"SHA256SUMS", tampered)
	_, err := wait(t, m.Pull(context.Background(), catalog.Ref{Distro: "ubuntu", Version: "24.04", Arch: "x86_64"}, PullOptions{}))
	if !IsIntegrity(err) {
		t.Fatalf("want integrity error, got %v", err)
	}
	if !strings.Contains(err.Error(), "SHA256SUMS") {
		t.Errorf("error should name the manifest: %v", err)
	}
	if n := srv.Count(".img"); n != 0 {
		t.Errorf("%d image requests after a bad signature, want 0", n)
	}
}

func TestPlainHTTPUnsignedMirrorRefused(t *testing.T) {
	m := newManager(t, nil, nil)
	res := &catalog.Resolved{Distro: "debian", DistroName: "Debian", Signature: catalog.Signature{Kind: catalog.SigNone},
		Assets: []catalog.Asset{{ChecksumsURL: "http://mirror.example/debian/SHA512SUMS"}}}
	if err := m.checkTransport(res); !errors.Is(err, ErrInsecure) {
		t.Errorf("plain http unsigned: got %v, want ErrInsecure", err)
	}
	loop := *res
	loop.Assets = []catalog.Asset{{ChecksumsURL: "http://127.0.0.1:8080/debian/SHA512SUMS"}}
	if err := m.checkTransport(&loop); err != nil {
		t.Errorf("loopback mirror: got %v", err)
	}
	m.cfg.Insecure = []string{"debian"}
	if err := m.checkTransport(res); err != nil {
		t.Errorf("allow_insecure: got %v", err)
	}
}

func TestPullUpdate(t *testing.T) {
	srv, disk := debianMirror(t)
	m := newManager(t, map[string]string{"debian": srv.URL + "/debian/"}, nil)
	ref := catalog.Ref{Distro: "debian", Version: "12", Arch: "x86_64"}
	if _, err := wait(t, m.Pull(context.Background(), ref, PullOptions{})); err != nil {
		t.Fatal(err)
	}
	newDisk := mirrortest.Payload("bookworm-newer", 1_000_000)
	srv.AddDebian("/debian", "12", "bookworm", "20260901-2600", "amd64", newDisk)

	// Without --update a pull keeps the pinned build and asks nothing upstream.
	before := len(srv.Requests())
	img, err := wait(t, m.Pull(context.Background(), ref, PullOptions{}))
	if err != nil || img.Build != "20260810-2566" {
		t.Fatalf("plain pull: %+v, %v", img, err)
	}
	if after := len(srv.Requests()); after != before {
		t.Errorf("plain pull of a cached image made %d requests", after-before)
	}
	updates, err := m.CheckUpdates(context.Background())
	if err != nil || len(updates) != 1 || updates[0].Latest != "20260901-2600" || updates[0].Current != "20260810-2566" {
		t.Fatalf("CheckUpdates = %+v, %v", updates, err)
	}

	img, err = wait(t, m.Pull(context.Background(), ref, PullOptions{Update: true}))
	if err != nil {
		t.Fatal(err)
	}
	if img.Build != "20260901-2600" {
		t.Errorf("update gave build %s", img.Build)
	}
	got, _ := os.ReadFile(img.Disk)
	if !bytes.Equal(got, newDisk) || bytes.Equal(got, disk) {
		t.Error("disk is not the new build")
	}
	if ents, _ := os.ReadDir(filepath.Dir(img.Disk)); len(ents) != 4 { // .lock, .meta.lock, disk.qcow2, meta.json
		t.Errorf("files left beside the new build: %v", ents)
	}
	if updates, _ := m.CheckUpdates(context.Background()); len(updates) != 0 {
		t.Errorf("after the update, CheckUpdates = %+v", updates)
	}
}

func TestResolveRetryShowsInSnapshot(t *testing.T) {
	srv, _ := debianMirror(t)
	seen := make(chan struct{})
	var calls atomic.Int32
	srv.SetFault(func(w http.ResponseWriter, r *http.Request) bool {
		if !strings.HasSuffix(r.URL.Path, "/SHA512SUMS") {
			return false
		}
		if calls.Add(1) == 1 {
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return true
		}
		<-seen // hold the retry until the test saw the notice
		return false
	})
	m := newManager(t, map[string]string{"debian": srv.URL + "/debian/"}, nil)
	j := m.Pull(context.Background(), catalog.Ref{Distro: "debian", Version: "12", Arch: "x86_64"}, PullOptions{})
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(j.Snapshot().Retrying, "503") {
		if time.Now().After(deadline) {
			close(seen)
			t.Fatalf("snapshot never said why resolving retries: %+v", j.Snapshot())
		}
		time.Sleep(5 * time.Millisecond)
	}
	if p := j.Snapshot().Phase; p != PhaseResolving {
		t.Errorf("phase %s, want resolving", p)
	}
	close(seen)
	if _, err := wait(t, j); err != nil {
		t.Fatal(err)
	}
	if s := j.Snapshot(); s.Retrying != "" {
		t.Errorf("retry notice kept after success: %q", s.Retrying)
	}
}

func TestIsLoopbackURL(t *testing.T) {
	for u, want := range map[string]bool{
		"http://127.0.0.1:8080/x": true, "http://127.1.2.3/x": true, "http://[::1]:80/x": true,
		"http://localhost:9/x": true, "http://127.example.com/x": false, "http://localhost.example.com/x": false,
		"http://10.0.0.1/x": false, "http://mirror.example/x": false, "::bad": false,
	} {
		if got := isLoopbackURL(u); got != want {
			t.Errorf("isLoopbackURL(%q) = %v, want %v", u, got, want)
		}
	}
}
