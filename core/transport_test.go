package core

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
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
	"vmimages/core/download"
	"vmimages/internal/mirrortest"
)

// These tests put real TLS servers (httptest, 127.0.0.1) in front of the
// loopback mirror: an https mirror or redirector that sends the client on to
// another https server or down to plain http.

const (
	bookwormBuild = "20260810-2566"
	bookwormDisk  = "/debian/bookworm/" + bookwormBuild + "/debian-12-genericcloud-amd64-" + bookwormBuild + ".qcow2"
)

// tlsTransport trusts httptest's TLS servers (they share one certificate).
func tlsTransport(srv *httptest.Server) *http.Transport {
	tr := download.NewTransport()
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	tr.TLSClientConfig = &tls.Config{RootCAs: pool}
	return tr
}

// redirector is an https server that answers requests for which to returns
// a URL with a 302 to it, and serves everything else from the mirror.
type redirector struct {
	*httptest.Server
	mirror *mirrortest.Server
	to     func(r *http.Request) string

	mu  sync.Mutex
	log []string // paths redirected
}

func newRedirector(t *testing.T, mirror *mirrortest.Server, to func(r *http.Request) string) *redirector {
	rd := &redirector{mirror: mirror, to: to}
	rd.Server = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u := rd.to(r); u != "" {
			rd.mu.Lock()
			rd.log = append(rd.log, r.Method+" "+r.URL.Path)
			rd.mu.Unlock()
			http.Redirect(w, r, u, http.StatusFound)
			return
		}
		mirror.Config.Handler.ServeHTTP(w, r)
	}))
	t.Cleanup(rd.Close)
	return rd
}

// tlsMirror serves the mirror's files over https.
func tlsMirror(t *testing.T, mirror *mirrortest.Server) *httptest.Server {
	s := httptest.NewTLSServer(mirror.Config.Handler)
	t.Cleanup(s.Close)
	return s
}

func TestRedirectToPlainHTTPIsRefused(t *testing.T) {
	for _, tt := range []struct{ name, suffix string }{
		{"manifest", "/SHA512SUMS"},
		{"image", ".qcow2"},
		{"listing", "/bookworm/"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			plain, _ := debianMirror(t) // http://127.0.0.1:…, allowed as a local mirror on its own
			rd := newRedirector(t, plain, func(r *http.Request) string {
				if strings.HasSuffix(r.URL.Path, tt.suffix) {
					return plain.URL + r.URL.Path
				}
				return ""
			})
			m := newManager(t, map[string]string{"debian": rd.URL + "/debian/"}, func(o *Options) { o.Transport = tlsTransport(rd.Server) })
			img, err := wait(t, m.Pull(context.Background(), catalog.Ref{Distro: "debian", Version: "12", Arch: "x86_64"}, PullOptions{}))
			if !errors.Is(err, download.ErrDowngrade) {
				t.Fatalf("an https mirror redirecting %s to http: got %+v, %v; want a refused downgrade", tt.suffix, img, err)
			}
			if !strings.Contains(err.Error(), plain.URL) {
				t.Errorf("the error should name the http URL: %v", err)
			}
			// Refused before the request: the plain server never saw it.
			if n := plain.Count(tt.suffix); n != 0 {
				t.Errorf("the plain http server got %d requests for %s: %+v", n, tt.suffix, plain.Requests())
			}
			if images, _ := m.List(context.Background()); len(images) != 0 && tt.name != "image" {
				t.Errorf("cache lists %+v", images)
			}
			if _, err := m.Cache().ReadMeta(cache.Key{Distro: "debian", Version: "12", Arch: "x86_64"}); err == nil {
				t.Error("meta.json written for an image fetched through a downgrade")
			}
		})
	}
}

func TestRedirectToAnotherHTTPSHost(t *testing.T) {
	mirror, disk := debianMirror(t)
	target := tlsMirror(t, mirror)
	rd := newRedirector(t, mirror, func(r *http.Request) string {
		if strings.HasSuffix(r.URL.Path, ".qcow2") || strings.HasSuffix(r.URL.Path, "SHA512SUMS") {
			return target.URL + r.URL.Path
		}
		return ""
	})
	m := newManager(t, map[string]string{"debian": rd.URL + "/debian/"}, func(o *Options) { o.Transport = tlsTransport(rd.Server) })
	img, err := wait(t, m.Pull(context.Background(), catalog.Ref{Distro: "debian", Version: "12", Arch: "x86_64"}, PullOptions{}))
	if err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(img.Disk)
	if !bytes.Equal(got, disk) || img.Signature.Status != SigUnsigned {
		t.Fatalf("disk differs or status %q", img.Signature.Status)
	}
	meta, err := m.Cache().ReadMeta(cache.Key{Distro: "debian", Version: "12", Arch: "x86_64"})
	if err != nil {
		t.Fatal(err)
	}
	if a := meta.Asset(cache.RoleDisk); a == nil || a.URL != target.URL+bookwormDisk {
		t.Errorf("meta.json records %+v; want the final URL %s", a, target.URL+bookwormDisk)
	}
}

// signedUbuntuBehind publishes a signed Ubuntu release on a plain mirror and
// opens a Manager that reaches it through an https redirector.
func signedUbuntuBehind(t *testing.T, to func(plain *mirrortest.Server, r *http.Request) string) (*mirrortest.Server, *redirector, *Manager, string) {
	t.Helper()
	signer := mirrortest.NewSigner(t)
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "test.asc")
	os.WriteFile(keyFile, signer.PublicKey, 0o644)
	overlays := filepath.Join(dir, "catalog.d")
	os.MkdirAll(overlays, 0o755)
	os.WriteFile(filepath.Join(overlays, "ubuntu.toml"), []byte(mirrortest.UbuntuOverlay(signer.Fingerprint)), 0o644)
	plain := mirrortest.New(t)
	d := plain.AddUbuntu("/ubuntu", "24.04", "noble", "20260926", "amd64",
		mirrortest.Payload("disk", 500_000), mirrortest.Payload("kernel", 50_000), mirrortest.Payload("initrd", 80_000))
	plain.Put(d+"SHA256SUMS.gpg", signer.Detach(t, plain.Get(d+"SHA256SUMS")))
	plain.Put(d+"unpacked/SHA256SUMS.gpg", signer.Detach(t, plain.Get(d+"unpacked/SHA256SUMS")))
	rd := newRedirector(t, plain, func(r *http.Request) string { return to(plain, r) })
	m := newManager(t, map[string]string{"ubuntu": rd.URL + "/ubuntu/"}, func(o *Options) {
		o.OverlayDir = overlays
		o.Config.Keys = []config.Key{{Distro: "ubuntu", Fingerprint: signer.Fingerprint, File: keyFile}}
		o.Transport = tlsTransport(rd.Server)
	})
	return plain, rd, m, d
}

// TestSignedImageBytesMayComeOverHTTP: where a pinned signature proves the
// digests, a redirector may send the image bytes to a plain http mirror;
// the manifest and its signature may not be downgraded.
func TestSignedImageBytesMayComeOverHTTP(t *testing.T) {
	ref := catalog.Ref{Distro: "ubuntu", Version: "24.04", Arch: "x86_64"}
	t.Run("image", func(t *testing.T) {
		plain, _, m, d := signedUbuntuBehind(t, func(plain *mirrortest.Server, r *http.Request) string {
			if strings.HasSuffix(r.URL.Path, ".img") || strings.HasSuffix(r.URL.Path, "-generic") {
				return plain.URL + r.URL.Path
			}
			return ""
		})
		img, err := wait(t, m.Pull(context.Background(), ref, PullOptions{}))
		if err != nil {
			t.Fatal(err)
		}
		if img.Signature.Status != SigVerified {
			t.Errorf("status %q, want verified", img.Signature.Status)
		}
		got, _ := os.ReadFile(img.Disk)
		if !bytes.Equal(got, plain.Get(d+"ubuntu-24.04-server-cloudimg-amd64.img")) {
			t.Error("disk bytes differ")
		}
		meta, _ := m.Cache().ReadMeta(cache.Key{Distro: "ubuntu", Version: "24.04", Arch: "x86_64"})
		if a := meta.Asset(cache.RoleDisk); a == nil || a.URL != plain.URL+d+"ubuntu-24.04-server-cloudimg-amd64.img" || a.Signature != SigVerified {
			t.Errorf("meta.json disk = %+v; want the final http URL, verified", a)
		}
	})
	for _, suffix := range []string{"/SHA256SUMS", "/SHA256SUMS.gpg", "/unpacked/SHA256SUMS", "/unpacked/SHA256SUMS.gpg"} {
		t.Run(suffix, func(t *testing.T) {
			plain, _, m, _ := signedUbuntuBehind(t, func(plain *mirrortest.Server, r *http.Request) string {
				if strings.HasSuffix(r.URL.Path, suffix) {
					return plain.URL + r.URL.Path
				}
				return ""
			})
			_, err := wait(t, m.Pull(context.Background(), ref, PullOptions{}))
			if !errors.Is(err, download.ErrDowngrade) {
				t.Fatalf("%s redirected to http: %v, want a refused downgrade", suffix, err)
			}
			if n := plain.Count(suffix); n != 0 {
				t.Errorf("the plain http server got %d requests for %s: %+v", n, suffix, plain.Requests())
			}
			for _, img := range []string{".img", "-generic"} {
				if n := plain.Count(img); n != 0 {
					t.Errorf("%d requests for %s after a refused manifest", n, img)
				}
			}
		})
	}
}

// TestPlainHTTPHopJudged: a local http mirror (allowed) that redirects an
// unsigned distro's manifest to plain http elsewhere is refused: the policy
// judges every hop, not only the configured URL.
func TestPlainHTTPHopJudged(t *testing.T) {
	mirror, _ := debianMirror(t)
	other := mirrortest.New(t) // stands for a plain http server elsewhere
	_, port, _ := net.SplitHostPort(other.Listener.Addr().String())
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "SHA512SUMS") {
			http.Redirect(w, r, "http://mirror.example:"+port+r.URL.Path, http.StatusFound)
			return
		}
		mirror.Config.Handler.ServeHTTP(w, r)
	}))
	t.Cleanup(front.Close)
	// Every name dials this machine: no lookup, no packet leaves it.
	tr := download.NewTransport()
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		_, p, _ := net.SplitHostPort(addr)
		return (&net.Dialer{}).DialContext(ctx, network, "127.0.0.1:"+p)
	}
	m := newManager(t, map[string]string{"debian": front.URL + "/debian/"}, func(o *Options) { o.Transport = tr })
	_, err := m.Resolve(context.Background(), catalog.Ref{Distro: "debian", Version: "12", Arch: "x86_64"})
	if !errors.Is(err, ErrInsecure) || !strings.Contains(err.Error(), "mirror.example") {
		t.Fatalf("got %v, want ErrInsecure naming the hop", err)
	}
	if n := len(other.Requests()); n != 0 {
		t.Errorf("the refused hop was requested: %+v", other.Requests())
	}
}

// gatedMirror serves one file with its own ETag (two mirrors of one file
// rarely agree on ETags). While held, a request for the whole file gets the
// first half, then nothing until the client goes away.
type gatedMirror struct {
	*httptest.Server
	name string
	data []byte
	etag string

	mu   sync.Mutex
	held bool
	log  []served
}

type served struct {
	method, rng, ifRange string
	status               int
	done                 bool // the handler returned
}

func newGatedMirror(t *testing.T, name string, mirror *mirrortest.Server, path string, data []byte) *gatedMirror {
	g := &gatedMirror{name: name, data: data, etag: `"` + name + `-` + mirrortest.SHA256(data)[:8] + `"`, held: true}
	g.Server = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != path {
			mirror.Config.Handler.ServeHTTP(w, r)
			return
		}
		g.mu.Lock()
		held := g.held
		i := len(g.log)
		g.log = append(g.log, served{method: r.Method, rng: r.Header.Get("Range"), ifRange: r.Header.Get("If-Range")})
		g.mu.Unlock()
		w.Header().Set("ETag", g.etag)
		w.Header().Set("Accept-Ranges", "bytes")
		rec := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		if held && r.Method == http.MethodGet && r.Header.Get("Range") == "" {
			w.Header().Set("Content-Length", fmt.Sprint(len(data)))
			w.WriteHeader(http.StatusOK)
			w.Write(data[:len(data)/2])
			w.(http.Flusher).Flush()
			<-r.Context().Done()
		} else {
			http.ServeContent(rec, r, "disk", time.Date(2026, 8, 10, 0, 0, 0, 0, time.UTC), bytes.NewReader(data))
		}
		g.mu.Lock()
		g.log[i].status, g.log[i].done = rec.status, true
		g.mu.Unlock()
	}))
	t.Cleanup(g.Close)
	return g
}

func (g *gatedMirror) release() {
	g.mu.Lock()
	g.held = false
	g.mu.Unlock()
}

// requests returns the log once every handler in it has returned (a client
// may be done before its handler notices).
func (g *gatedMirror) requests() []served {
	deadline := time.Now().Add(10 * time.Second)
	for {
		g.mu.Lock()
		out := append([]served(nil), g.log...)
		g.mu.Unlock()
		pending := false
		for _, r := range out {
			pending = pending || !r.done
		}
		if !pending || time.Now().After(deadline) {
			return out
		}
		time.Sleep(10 * time.Millisecond)
	}
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

// TestResumeAsksTheMirrorTheBytesCameFrom: behind a redirector that sends
// each request to the next of two mirrors (each with its own ETag), an
// interrupted pull resumes from the mirror its part came from, with that
// mirror's validator, and fetches only the missing tail.
func TestResumeAsksTheMirrorTheBytesCameFrom(t *testing.T) {
	mirror, disk := debianMirror(t)
	a := newGatedMirror(t, "a", mirror, bookwormDisk, disk)
	b := newGatedMirror(t, "b", mirror, bookwormDisk, disk)
	var mu sync.Mutex
	next := 0
	rd := newRedirector(t, mirror, func(r *http.Request) string {
		if r.URL.Path != bookwormDisk {
			return ""
		}
		mu.Lock()
		defer mu.Unlock()
		next++
		if next%2 == 1 {
			return a.URL + r.URL.Path
		}
		return b.URL + r.URL.Path
	})
	m := newManager(t, map[string]string{"debian": rd.URL + "/debian/"}, func(o *Options) { o.Transport = tlsTransport(rd.Server) })
	ref := catalog.Ref{Distro: "debian", Version: "12", Arch: "x86_64"}
	part := filepath.Join(m.CacheDir(), "images", "debian", "12", "x86_64", ".partial", "disk.qcow2.part")

	ctx, cancel := context.WithCancel(context.Background())
	j := m.Pull(ctx, ref, PullOptions{})
	half := int64(len(disk) / 2)
	deadline := time.Now().Add(20 * time.Second)
	for {
		if fi, err := os.Stat(part); err == nil && fi.Size() >= half {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the part file never reached %d bytes", half)
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if _, err := wait(t, j); !errors.Is(err, context.Canceled) {
		t.Fatalf("first pull: %v, want cancelled", err)
	}
	if n := len(a.requests()); n != 1 {
		t.Fatalf("mirror a served %d requests in the first pull, want 1", n)
	}
	a.release()
	b.release()

	img, err := wait(t, m.Pull(context.Background(), ref, PullOptions{}))
	if err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(img.Disk)
	if !bytes.Equal(got, disk) {
		t.Fatal("disk differs")
	}
	if rb := b.requests(); len(rb) != 0 {
		t.Errorf("the resume went to mirror b, whose validator the part does not hold: %+v", rb)
	}
	ranged := false
	for _, r := range a.requests()[1:] {
		switch {
		case r.method == http.MethodHead:
		case r.rng == fmt.Sprintf("bytes=%d-", half) && r.ifRange == a.etag && r.status == http.StatusPartialContent:
			ranged = true
		default:
			t.Errorf("unexpected request to mirror a: %+v", r)
		}
	}
	if !ranged {
		t.Errorf("no range request from %d with a's validator: %+v", half, a.requests())
	}
	meta, _ := m.Cache().ReadMeta(cache.Key{Distro: "debian", Version: "12", Arch: "x86_64"})
	if d := meta.Asset(cache.RoleDisk); d == nil || d.URL != a.URL+bookwormDisk || d.Validator != a.etag {
		t.Errorf("meta.json disk = %+v; want a's URL and validator", d)
	}
}

// TestTricklingListingGivesUp: a server that sends a listing one byte at a
// time never stalls, yet a resolve ends with ErrTooSlow once the small
// documents' deadline passes, instead of hanging.
func TestTricklingListingGivesUp(t *testing.T) {
	mirror, _ := debianMirror(t)
	mirror.Fault = func(w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path != "/debian/bookworm/" {
			return false
		}
		w.WriteHeader(http.StatusOK)
		tick := time.NewTicker(50 * time.Millisecond) // the server's pace, not a test wait
		defer tick.Stop()
		for {
			select {
			case <-r.Context().Done():
				return true
			case <-tick.C:
				w.Write([]byte("<"))
				w.(http.Flusher).Flush()
			}
		}
	}
	m := newManager(t, map[string]string{"debian": mirror.URL + "/debian/"}, func(o *Options) { o.SmallTimeout = time.Second })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	start := time.Now()
	_, err := m.Resolve(ctx, catalog.Ref{Distro: "debian", Version: "12", Arch: "x86_64"})
	if !errors.Is(err, download.ErrTooSlow) || !strings.Contains(err.Error(), mirror.URL+"/debian/bookworm/") {
		t.Fatalf("after %s: %v, want ErrTooSlow naming the listing", time.Since(start).Round(time.Millisecond), err)
	}
}

// TestTransportPolicy: plain http is accepted only where the transport
// carries no proof (a pinned key checks the manifests), for a distro in
// allow_insecure, or on this machine.
func TestTransportPolicy(t *testing.T) {
	m := newManager(t, nil, func(o *Options) { o.Config.Insecure = []string{"trusted"} })
	pinned := "D2EB44626FDDC30B513D5BB71A5D6C4C7DB87C81" // built in (Ubuntu)
	for _, tt := range []struct {
		name, distro string
		sig          catalog.Signature
		url          string
		ok           bool
	}{
		{"https, unsigned", "debian", catalog.Signature{Kind: catalog.SigNone}, "https://mirror.example/x", true},
		{"http, unsigned", "debian", catalog.Signature{Kind: catalog.SigNone}, "http://mirror.example/x", false},
		{"http, unsigned, loopback", "debian", catalog.Signature{Kind: catalog.SigNone}, "http://127.0.0.1:8080/x", true},
		{"http, unsigned, ::1", "debian", catalog.Signature{Kind: catalog.SigNone}, "http://[::1]:8080/x", true},
		{"http, unsigned, localhost", "debian", catalog.Signature{Kind: catalog.SigNone}, "http://localhost/x", true},
		{"http, unsigned, look-alike", "debian", catalog.Signature{Kind: catalog.SigNone}, "http://127.0.0.1.example/x", false},
		{"http, allow_insecure", "trusted", catalog.Signature{Kind: catalog.SigNone}, "http://mirror.example/x", true},
		{"http, signed, key pinned", "ubuntu", catalog.Signature{Kind: catalog.SigDetached, Keys: []string{pinned}}, "http://mirror.example/x", true},
		{"http, signed, no key pinned", "mine", catalog.Signature{Kind: catalog.SigDetached, Keys: []string{"0123456789ABCDEF0123456789ABCDEF01234567"}}, "http://mirror.example/x", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := &catalog.Resolved{Distro: tt.distro, DistroName: tt.distro, Signature: tt.sig,
				Assets: []catalog.Asset{{URL: tt.url, ChecksumsURL: tt.url}}}
			err := m.checkTransport(res)
			if tt.ok && err != nil || !tt.ok && !errors.Is(err, ErrInsecure) {
				t.Errorf("%s: got %v, want ok=%v", tt.url, err, tt.ok)
			}
		})
	}
}

func TestWeakestStatus(t *testing.T) {
	for _, tt := range []struct {
		per  map[string]string
		want string
	}{
		{map[string]string{"disk": SigVerified, "kernel": SigVerified}, SigVerified},
		{map[string]string{"disk": SigVerified, "kernel": SigUnsigned}, SigUnsigned},
		{map[string]string{"disk": SigUnsigned, "kernel": SigUnchecked, "initramfs": SigVerified}, SigUnchecked},
		{map[string]string{"disk": SigVerified, "kernel": ""}, ""},
	} {
		if got := weakestStatus(tt.per); got != tt.want {
			t.Errorf("weakestStatus(%v) = %q, want %q", tt.per, got, tt.want)
		}
	}
}

// TestManifestURLsAfterRedirects: meta.json records where each asset's
// manifest and signature came from after redirects — the image-level
// manifest_url (the disk's) and one per asset, for Ubuntu's two manifests
// (SHA256SUMS for the disk, unpacked/SHA256SUMS for kernel and initramfs).
func TestManifestURLsAfterRedirects(t *testing.T) {
	t.Run("debian", func(t *testing.T) {
		mirror, _ := debianMirror(t)
		target := tlsMirror(t, mirror)
		rd := newRedirector(t, mirror, func(r *http.Request) string {
			if strings.HasSuffix(r.URL.Path, "SHA512SUMS") {
				return target.URL + r.URL.Path
			}
			return ""
		})
		m := newManager(t, map[string]string{"debian": rd.URL + "/debian/"}, func(o *Options) { o.Transport = tlsTransport(rd.Server) })
		if _, err := wait(t, m.Pull(context.Background(), catalog.Ref{Distro: "debian", Version: "12", Arch: "x86_64"}, PullOptions{})); err != nil {
			t.Fatal(err)
		}
		meta, err := m.Cache().ReadMeta(cache.Key{Distro: "debian", Version: "12", Arch: "x86_64"})
		if err != nil {
			t.Fatal(err)
		}
		want := target.URL + "/debian/bookworm/" + bookwormBuild + "/SHA512SUMS"
		if meta.Signature == nil || meta.Signature.ManifestURL != want {
			t.Errorf("signature = %+v; want manifest_url %s", meta.Signature, want)
		}
		if a := meta.Asset(cache.RoleDisk); a == nil || a.ManifestURL != want {
			t.Errorf("disk = %+v; want manifest_url %s", a, want)
		}
	})
	t.Run("ubuntu", func(t *testing.T) {
		var target atomic.Pointer[httptest.Server]
		plain, rd, m, d := signedUbuntuBehind(t, func(plain *mirrortest.Server, r *http.Request) string {
			if tg := target.Load(); tg != nil && (strings.HasSuffix(r.URL.Path, "SHA256SUMS") || strings.HasSuffix(r.URL.Path, "SHA256SUMS.gpg")) {
				return tg.URL + r.URL.Path
			}
			return ""
		})
		target.Store(tlsMirror(t, plain))
		if _, err := wait(t, m.Pull(context.Background(), catalog.Ref{Distro: "ubuntu", Version: "24.04", Arch: "x86_64"}, PullOptions{})); err != nil {
			t.Fatal(err)
		}
		meta, err := m.Cache().ReadMeta(cache.Key{Distro: "ubuntu", Version: "24.04", Arch: "x86_64"})
		if err != nil {
			t.Fatal(err)
		}
		tg := target.Load().URL
		if meta.Signature == nil || meta.Signature.ManifestURL != tg+d+"SHA256SUMS" {
			t.Errorf("signature = %+v; want manifest_url %s", meta.Signature, tg+d+"SHA256SUMS")
		}
		for role, sums := range map[string]string{cache.RoleDisk: d + "SHA256SUMS", cache.RoleKernel: d + "unpacked/SHA256SUMS", cache.RoleInitramfs: d + "unpacked/SHA256SUMS"} {
			a := meta.Asset(role)
			if a == nil || a.ManifestURL != tg+sums || a.SignatureURL != tg+sums+".gpg" || a.Signature != SigVerified {
				t.Errorf("%s = %+v; want manifest_url %s and signature_url %s.gpg (not %s…), verified", role, a, tg+sums, tg+sums, rd.URL)
			}
		}
	})
}
