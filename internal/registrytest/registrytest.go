// Package registrytest runs a real OCI registry for tests: Debian's
// docker-registry (the CNCF distribution registry) on 127.0.0.1, with its
// storage in a temporary folder, either plain http without auth or https with
// a certificate made for the test and htpasswd basic auth. It is not a mock:
// every request goes to the registry the project's users run.
package registrytest

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"golang.org/x/crypto/bcrypt"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/registry/remote"
)

// Binary is the registry's program as Debian installs it.
const Binary = "docker-registry"

// Options choose how the registry runs.
type Options struct {
	// Auth serves https with a fresh certificate and requires basic auth
	// (htpasswd) as User / Password.
	Auth bool
}

// The account of a registry started with Auth.
const (
	User     = "lab"
	Password = "s3cret-pass"
)

// Registry is a running registry.
type Registry struct {
	// Host is "127.0.0.1:PORT".
	Host string
	// Root is the storage folder (storage.filesystem.rootdirectory).
	Root string
	// CAFile is the PEM certificate to trust (Auth only), fit for
	// SSL_CERT_FILE.
	CAFile string
	// TLS is set when it serves https.
	TLS bool

	t      testing.TB
	config string
	cmd    *exec.Cmd
	done   chan struct{}
	log    *os.File
}

// Find returns the registry's path. When it is missing a test fails under
// CI (make deps installs it) and is skipped elsewhere.
func Find(t testing.TB) string {
	t.Helper()
	p, err := exec.LookPath(Binary)
	if err == nil {
		return p
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("%s is not installed (Debian package docker-registry; run make deps)", Binary)
	}
	t.Skipf("%s is not installed (Debian package docker-registry; run make deps)", Binary)
	return ""
}

// Start runs a registry until the test ends.
func Start(t testing.TB, o Options) *Registry {
	t.Helper()
	bin := Find(t)
	dir := t.TempDir()
	r := &Registry{t: t, Root: filepath.Join(dir, "storage"), config: filepath.Join(dir, "config.yml"), TLS: o.Auth}
	if err := os.MkdirAll(r.Root, 0o755); err != nil {
		t.Fatal(err)
	}
	r.Host = net.JoinHostPort("127.0.0.1", fmt.Sprint(freePort(t)))
	cfg := fmt.Sprintf(`version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: %s
  delete:
    enabled: true
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: %s
  secret: vmimages-test-secret
`, r.Root, r.Host)
	if o.Auth {
		cert, key := writeCert(t, dir)
		r.CAFile = cert
		hash, err := bcrypt.GenerateFromPassword([]byte(Password), bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		htpasswd := filepath.Join(dir, "htpasswd")
		if err := os.WriteFile(htpasswd, []byte(User+":"+string(hash)+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		cfg += fmt.Sprintf(`  tls:
    certificate: %s
    key: %s
auth:
  htpasswd:
    realm: vmimages-test
    path: %s
`, cert, key, htpasswd)
	}
	if err := os.WriteFile(r.config, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	lf, err := os.Create(filepath.Join(dir, "registry.log"))
	if err != nil {
		t.Fatal(err)
	}
	r.log = lf
	r.start(bin)
	t.Cleanup(r.Stop)
	return r
}

func (r *Registry) start(bin string) {
	r.t.Helper()
	r.cmd = exec.Command(bin, "serve", r.config)
	r.cmd.Stdout, r.cmd.Stderr = r.log, r.log
	dieWithParent(r.cmd)
	if err := r.cmd.Start(); err != nil {
		r.t.Fatal(err)
	}
	r.done = make(chan struct{})
	go func(cmd *exec.Cmd, done chan struct{}) { _ = cmd.Wait(); close(done) }(r.cmd, r.done)
	r.waitReady()
}

// waitReady polls /v2/ until the registry answers (200, or 401 with auth).
func (r *Registry) waitReady() {
	r.t.Helper()
	client := r.HTTPClient()
	deadline := time.Now().Add(20 * time.Second)
	for {
		select {
		case <-r.done:
			b, _ := os.ReadFile(r.log.Name())
			r.t.Fatalf("%s exited at start:\n%s", Binary, b)
		default:
		}
		resp, err := client.Get(r.BaseURL() + "/v2/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusUnauthorized {
				return
			}
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(r.log.Name())
			r.t.Fatalf("%s did not answer on %s: %v\n%s", Binary, r.Host, err, b)
		}
		time.Sleep(50 * time.Millisecond) // polling a server's readiness, not ordering goroutines
	}
}

// Stop ends the registry; its storage stays until the test ends.
func (r *Registry) Stop() {
	if r.cmd == nil || r.cmd.Process == nil {
		return
	}
	select {
	case <-r.done:
	default:
		_ = r.cmd.Process.Kill()
		<-r.done
	}
}

// BaseURL is "http://HOST" or "https://HOST".
func (r *Registry) BaseURL() string {
	if r.TLS {
		return "https://" + r.Host
	}
	return "http://" + r.Host
}

// Ref is "oci://HOST/" + repo, the form the command line takes.
func (r *Registry) Ref(repo string) string {
	return "oci://" + r.Host + "/" + strings.TrimPrefix(repo, "/")
}

// Transport trusts the registry's certificate (when it has one).
func (r *Registry) Transport() *http.Transport {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if r.CAFile != "" {
		pool := x509.NewCertPool()
		b, err := os.ReadFile(r.CAFile)
		if err != nil {
			r.t.Fatal(err)
		}
		pool.AppendCertsFromPEM(b)
		tr.TLSClientConfig = &tls.Config{RootCAs: pool}
	}
	return tr
}

// HTTPClient is a plain client for the registry's API (no credentials).
func (r *Registry) HTTPClient() *http.Client {
	return &http.Client{Transport: r.Transport(), Timeout: 10 * time.Second}
}

// BlobPath is where the registry keeps a blob's bytes on disk, for tests
// that damage storage behind its back. dgst is "sha256:<hex>".
func (r *Registry) BlobPath(dgst string) string {
	alg, hex, _ := strings.Cut(dgst, ":")
	return filepath.Join(r.Root, "docker", "registry", "v2", "blobs", alg, hex[:2], hex, "data")
}

// freePort asks the kernel for a port that is free now.
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// writeCert makes a self-signed certificate for 127.0.0.1 and localhost.
func writeCert(t testing.TB, dir string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: "vmimages test registry"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

// Proxy is a TCP proxy on 127.0.0.1 in front of a plain-http registry that
// drops one connection after it has carried CutAfter bytes towards the
// client, the way a flaky network drops a long transfer. It records the
// Range headers clients sent, so a test can see a transfer resume.
type Proxy struct {
	// Host is the proxy's "127.0.0.1:PORT".
	Host string

	l        net.Listener
	target   string
	cutAfter int64

	// upload: cut the client-to-registry direction instead.
	upload bool
	// dropBefore, when set, is a request line prefix ("PATCH "): the
	// connection is dropped just before the dropNth such request, none
	// of whose bytes reach the registry.
	dropBefore string
	dropNth    int
	seen       int

	mu       sync.Mutex
	cut      bool
	ranges   []string
	uploaded int64
}

// NewUploadProxy starts a proxy to target that cuts the first connection
// to carry more than cutAfter bytes towards the registry, the way a flaky
// network drops a long upload.
func NewUploadProxy(t testing.TB, target string, cutAfter int64) *Proxy {
	p := NewProxy(t, target, 0)
	p.mu.Lock()
	p.upload, p.cutAfter = true, cutAfter
	p.mu.Unlock()
	return p
}

// NewDropProxy starts a proxy to target that drops the connection just
// before the nth request whose line starts with method (say "PATCH"), so
// none of that request reaches the registry: a connection lost between
// two requests.
func NewDropProxy(t testing.TB, target, method string, nth int) *Proxy {
	p := NewProxy(t, target, 0)
	p.mu.Lock()
	p.dropBefore, p.dropNth = method+" /v2/", nth
	p.mu.Unlock()
	return p
}

// Uploaded is the number of bytes clients sent towards the registry
// (requests, headers included) through the proxy.
func (p *Proxy) Uploaded() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.uploaded
}

// NewProxy starts a proxy to target ("127.0.0.1:PORT") that cuts the first
// connection to pass cutAfter bytes (0: never).
func NewProxy(t testing.TB, target string, cutAfter int64) *Proxy {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &Proxy{Host: l.Addr().String(), l: l, target: target, cutAfter: cutAfter}
	go p.accept()
	t.Cleanup(func() { l.Close() })
	return p
}

// Cut reports whether a connection was dropped.
func (p *Proxy) Cut() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cut
}

// Ranges returns the Range header values of the requests seen.
func (p *Proxy) Ranges() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.ranges...)
}

func (p *Proxy) accept() {
	for {
		c, err := p.l.Accept()
		if err != nil {
			return
		}
		go p.serve(c)
	}
}

func (p *Proxy) serve(c net.Conn) {
	defer c.Close()
	s, err := net.Dial("tcp", p.target)
	if err != nil {
		return
	}
	defer s.Close()
	go func() {
		// Client to registry: note Range headers as they pass.
		var sent int64
		buf := make([]byte, 32<<10)
		for {
			n, err := c.Read(buf)
			if n > 0 {
				p.note(buf[:n])
				if i := p.dropAt(buf[:n]); i >= 0 {
					_, _ = s.Write(buf[:i])
					p.count(int64(i))
					s.Close()
					c.Close()
					return
				}
				if p.cutNow(true, sent, n) {
					_, _ = s.Write(buf[:p.cutAfter-sent])
					p.count(p.cutAfter - sent)
					s.Close()
					c.Close()
					return
				}
				sent += int64(n)
				p.count(int64(n))
				if _, werr := s.Write(buf[:n]); werr != nil {
					return
				}
			}
			if err != nil {
				s.Close()
				return
			}
		}
	}()
	var sent int64
	buf := make([]byte, 32<<10)
	for {
		n, err := s.Read(buf)
		if n > 0 {
			if p.cutNow(false, sent, n) {
				_, _ = c.Write(buf[:p.cutAfter-sent])
				return // closes both ends mid-response
			}
			sent += int64(n)
			if _, werr := c.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// cutNow says whether this read, n bytes after sent in the direction
// towards the registry (up) or the client, is where the one cut happens.
func (p *Proxy) cutNow(up bool, sent int64, n int) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	cut := up == p.upload && !p.cut && p.cutAfter > 0 && sent+int64(n) > p.cutAfter
	if cut {
		p.cut = true
	}
	return cut
}

// dropAt is where in b the request to drop before starts, or -1.
func (p *Proxy) dropAt(b []byte) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.dropBefore == "" || p.cut {
		return -1
	}
	off := 0
	for {
		i := strings.Index(string(b[off:]), p.dropBefore)
		if i < 0 {
			return -1
		}
		if p.seen++; p.seen == p.dropNth {
			p.cut = true
			return off + i
		}
		off += i + len(p.dropBefore)
	}
}

func (p *Proxy) count(n int64) {
	p.mu.Lock()
	p.uploaded += n
	p.mu.Unlock()
}

func (p *Proxy) note(b []byte) {
	for _, line := range strings.Split(string(b), "\r\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.EqualFold(k, "Range") {
			p.mu.Lock()
			p.ranges = append(p.ranges, strings.TrimSpace(v))
			p.mu.Unlock()
		}
	}
}

// EditManifest changes the manifest tagged tag in repo the way a
// compromised registry could: edit gets the manifest and a function that
// uploads a new blob, and the edited manifest is pushed under the same tag.
// Plain-http registries only.
func (r *Registry) EditManifest(t testing.TB, repo, tag string, edit func(m *ocispec.Manifest, upload func(mediaType string, b []byte) ocispec.Descriptor)) {
	t.Helper()
	ctx := context.Background()
	rp, err := remote.NewRepository(r.Host + "/" + repo)
	if err != nil {
		t.Fatal(err)
	}
	rp.PlainHTTP = !r.TLS
	rp.Client = &http.Client{Transport: r.Transport()}
	desc, rc, err := rp.FetchReference(ctx, tag)
	if err != nil {
		t.Fatal(err)
	}
	b, err := content.ReadAll(rc, desc)
	rc.Close()
	if err != nil {
		t.Fatal(err)
	}
	var m ocispec.Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	edit(&m, func(mediaType string, b []byte) ocispec.Descriptor {
		d := content.NewDescriptorFromBytes(mediaType, b)
		if err := rp.Push(ctx, d, bytes.NewReader(b)); err != nil {
			t.Fatal(err)
		}
		return d
	})
	nb, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	nd := content.NewDescriptorFromBytes(desc.MediaType, nb)
	if err := rp.PushReference(ctx, nd, bytes.NewReader(nb), tag); err != nil {
		t.Fatal(err)
	}
}

// CopyTag tags the manifest tagged from in repo as to as well.
func (r *Registry) CopyTag(t testing.TB, repo, from, to string) {
	t.Helper()
	ctx := context.Background()
	rp, err := remote.NewRepository(r.Host + "/" + repo)
	if err != nil {
		t.Fatal(err)
	}
	rp.PlainHTTP = !r.TLS
	rp.Client = &http.Client{Transport: r.Transport()}
	desc, err := rp.Resolve(ctx, from)
	if err != nil {
		t.Fatal(err)
	}
	if err := rp.Tag(ctx, desc, to); err != nil {
		t.Fatal(err)
	}
}
