package cli_test

import (
	"bytes"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"vmimages/cli"
	"vmimages/internal/mirrortest"
)

// These tests drive the real binary against hostile or faulty servers.

// TestStrippedKernelSignatureExits3: a mirror that deletes Ubuntu's
// unpacked/SHA256SUMS.gpg and swaps the kernel gets exit 3, before any byte
// of the kernel, the initrd or the disk was asked for, and nothing cached.
func TestStrippedKernelSignatureExits3(t *testing.T) {
	// Built before the sandbox moves XDG_CACHE_HOME, and with it the Go
	// build cache.
	vmimagesBinary(t)
	s := newSandbox(t)
	u := signedUbuntu(t, s)
	kernel := "ubuntu-24.04-server-cloudimg-amd64-vmlinuz-generic"
	evil := mirrortest.Payload("evil kernel", len(u.kernel))
	u.srv.Put(u.dir+"unpacked/"+kernel, evil)
	u.srv.Put(u.dir+"unpacked/SHA256SUMS", mirrortest.GNU(true, mirrortest.SHA256, map[string][]byte{
		kernel: evil, "ubuntu-24.04-server-cloudimg-amd64-initrd-generic": u.initrd,
	}))
	u.srv.SetFault(func(w http.ResponseWriter, r *http.Request) bool {
		if strings.HasSuffix(r.URL.Path, "/unpacked/SHA256SUMS.gpg") {
			http.NotFound(w, r)
			return true
		}
		return false
	})
	p := startProc(t, procEnv(t), "pull", "ubuntu", "24.04", "--arch", "x86_64", "--config", s.config, "--cache-dir", s.cache,
		"--mirror", "ubuntu="+u.srv.URL+"/ubuntu/")
	code := p.wait(t, 60*time.Second)
	stderr := p.stderr.String()
	if code != cli.ExitIntegrity {
		t.Fatalf("exit %d, want %d\nstderr:\n%s", code, cli.ExitIntegrity, stderr)
	}
	if !strings.Contains(stderr, "unpacked/SHA256SUMS") {
		t.Errorf("stderr should name the kernel manifest:\n%s", stderr)
	}
	for _, suffix := range []string{"-vmlinuz-generic", "-initrd-generic", ".img"} {
		if n := u.srv.Count(suffix); n != 0 {
			t.Errorf("%d requests for %s", n, suffix)
		}
	}
	if entries, _ := os.ReadDir(s.imageDir("ubuntu", "24.04", "x86_64")); len(entries) != 0 {
		t.Errorf("the image folder holds %d entries after a refused pull", len(entries))
	}
}

// TestDamagedPartIsDownloadedAgain: a part file whose bytes changed on disk
// (a power loss) makes the resumed file fail its digest; the pull then
// downloads it once more from zero and succeeds, instead of exiting 3 and
// blaming the mirror.
func TestDamagedPartIsDownloadedAgain(t *testing.T) {
	t.Parallel()
	f := slowDebian(t)
	env := procEnv(t)
	cacheDir := t.TempDir()
	args := []string{"pull", "debian", "12", "--arch", "amd64", "--cache-dir", cacheDir, "--mirror", "debian=" + f.URL + "/debian/"}
	imgDir := filepath.Join(cacheDir, "images", "debian", "12", "x86_64")
	part := filepath.Join(imgDir, ".partial", "disk.qcow2.part")

	p := startProc(t, env, args...)
	waitForSize(t, p, part, 2<<20)
	if err := p.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	p.wait(t, 10*time.Second)
	partSize := fileSize(t, part)
	// Damage the kept bytes in place, as a power loss may.
	fd, err := os.OpenFile(part, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fd.WriteAt(bytes.Repeat([]byte{0xAA}, 4096), 1<<20); err != nil {
		t.Fatal(err)
	}
	fd.Close()

	f.setPause(0)
	from := f.count()
	p = startProc(t, env, args...)
	if code := p.wait(t, 60*time.Second); code != 0 {
		t.Fatalf("pull after a damaged part exited %d\nstderr:\n%s", code, p.stderr)
	}
	got, err := os.ReadFile(filepath.Join(imgDir, "disk.qcow2"))
	if err != nil || !bytes.Equal(got, f.data) {
		t.Fatalf("disk differs from the mirror's bytes (err %v)", err)
	}
	var gets []served
	for _, r := range f.requests(t, from) {
		if r.method == http.MethodGet {
			gets = append(gets, r)
		}
	}
	if len(gets) != 2 || gets[0].status != http.StatusPartialContent || gets[0].ifRange == "" ||
		gets[1].rng != "" || gets[1].status != http.StatusOK || gets[1].bytes != int64(len(f.data)) {
		t.Errorf("want a resume from %d, then one whole download; got %+v", partSize, gets)
	}
}

// certFile writes the TLS servers' certificate (httptest's servers share
// one) where SSL_CERT_FILE can name it.
func certFile(t *testing.T, srv *httptest.Server) string {
	path := filepath.Join(t.TempDir(), "cert.pem")
	b := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestHTTPSRedirects: an https mirror may send the client to another https
// host (meta.json then records where the bytes came from), never down to
// plain http.
func TestHTTPSRedirects(t *testing.T) {
	t.Parallel()
	mirror, disk := debianMirror(t)
	plain := httptest.NewServer(mirror.Config.Handler)
	t.Cleanup(plain.Close)
	other := httptest.NewTLSServer(mirror.Config.Handler)
	t.Cleanup(other.Close)
	var to atomic.Pointer[string] // where the front redirects; set before each run
	front := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, ".qcow2") || strings.HasSuffix(r.URL.Path, "SHA512SUMS") {
			http.Redirect(w, r, *to.Load()+r.URL.Path, http.StatusFound)
			return
		}
		mirror.Config.Handler.ServeHTTP(w, r)
	}))
	t.Cleanup(front.Close)
	env := append(procEnv(t), "SSL_CERT_FILE="+certFile(t, front))
	cacheDir := t.TempDir()
	args := []string{"pull", "debian", "12", "--arch", "amd64", "--cache-dir", cacheDir, "--mirror", "debian=" + front.URL + "/debian/"}

	to.Store(&plain.URL)
	p := startProc(t, env, args...)
	code := p.wait(t, 60*time.Second)
	stderr := p.stderr.String()
	if code != cli.ExitFailure || !strings.Contains(stderr, "redirect from https to plain http refused") || !strings.Contains(stderr, plain.URL) || !strings.Contains(stderr, front.URL) {
		t.Fatalf("https → http: exit %d, want %d and the refusal named\nstderr:\n%s", code, cli.ExitFailure, stderr)
	}

	to.Store(&other.URL)
	p = startProc(t, env, args...)
	if code := p.wait(t, 60*time.Second); code != 0 {
		t.Fatalf("https → https on another host: exit %d\nstderr:\n%s", code, p.stderr)
	}
	imgDir := filepath.Join(cacheDir, "images", "debian", "12", "x86_64")
	if got, err := os.ReadFile(filepath.Join(imgDir, "disk.qcow2")); err != nil || !bytes.Equal(got, disk) {
		t.Fatalf("disk differs (err %v)", err)
	}
	b, err := os.ReadFile(filepath.Join(imgDir, "meta.json"))
	if err != nil {
		t.Fatal(err)
	}
	var meta struct {
		Assets []struct{ Role, URL string }
	}
	if err := json.Unmarshal(b, &meta); err != nil || len(meta.Assets) != 1 || !strings.HasPrefix(meta.Assets[0].URL, other.URL+"/debian/") {
		t.Errorf("meta.json assets %+v (err %v); want the final URL on %s", meta.Assets, err, other.URL)
	}
}
