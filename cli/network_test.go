package cli_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// testCert is a self-signed server certificate and its PEM file, for
// SSL_CERT_FILE.
type testCert struct {
	cert tls.Certificate
	file string
}

func makeCert(t *testing.T, notBefore, notAfter time.Time, names []string, ips ...net.IP) testCert {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: "vmimages test mirror", Organization: []string{"vmimages tests"}},
		NotBefore:    notBefore, NotAfter: notAfter,
		DNSNames: names, IPAddresses: ips,
		IsCA: true, BasicConstraintsValid: true,
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "ca.pem")
	writeFile(t, file, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})))
	return testCert{cert: tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, file: file}
}

// tlsFront serves h over HTTPS on 127.0.0.1 with cert, counting requests.
type tlsFront struct {
	*httptest.Server
	mu       sync.Mutex
	requests int
}

func serveTLS(t *testing.T, h http.Handler, cert testCert) *tlsFront {
	t.Helper()
	f := &tlsFront{}
	f.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.requests++
		f.mu.Unlock()
		h.ServeHTTP(w, r)
	}))
	f.TLS = &tls.Config{Certificates: []tls.Certificate{cert.cert}}
	f.Config.ErrorLog = nullLogger()
	f.StartTLS()
	t.Cleanup(f.Close)
	return f
}

func (f *tlsFront) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.requests
}

func (f *tlsFront) port() string {
	_, p, _ := net.SplitHostPort(f.Listener.Addr().String())
	return p
}

// connectProxy is an HTTP proxy on 127.0.0.1 that tunnels CONNECT requests
// for any host to 127.0.0.1 on the same port, as a proxy would after
// resolving the name: the client never resolves it, and nothing leaves this
// machine.
type connectProxy struct {
	*httptest.Server
	mu    sync.Mutex
	hosts []string
}

func serveProxy(t *testing.T) *connectProxy {
	t.Helper()
	p := &connectProxy{}
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodConnect {
			http.Error(w, "CONNECT only", http.StatusMethodNotAllowed)
			return
		}
		p.mu.Lock()
		p.hosts = append(p.hosts, r.Host)
		p.mu.Unlock()
		_, port, err := net.SplitHostPort(r.Host)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		up, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", port))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		w.WriteHeader(http.StatusOK)
		conn, buf, err := http.NewResponseController(w).Hijack()
		if err != nil {
			up.Close()
			return
		}
		go func() {
			io.Copy(up, buf)
			up.(*net.TCPConn).CloseWrite()
		}()
		io.Copy(conn, up)
		conn.Close()
		up.Close()
	}))
	t.Cleanup(p.Close)
	return p
}

func (p *connectProxy) seen() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.hosts...)
}

func nullLogger() *log.Logger { return log.New(io.Discard, "", 0) }

// debianOverTLS serves the Debian mirror over HTTPS with cert.
func debianOverTLS(t *testing.T, cert testCert) (*tlsFront, []byte) {
	t.Helper()
	mirror, disk := debianMirror(t)
	return serveTLS(t, mirror.Config.Handler, cert), disk
}

// TestTLSFailuresSayWhatFailed runs the binary against HTTPS mirrors whose
// certificate is not trusted, expired, or for another host: each fails at
// once (one attempt, no retries), says which, and no request reaches the
// server.
func TestTLSFailuresSayWhatFailed(t *testing.T) {
	t.Parallel()
	now := time.Now()
	localhost := []net.IP{net.IPv4(127, 0, 0, 1)}
	for _, tc := range []struct {
		name    string
		cert    testCert
		trusted bool
		want    []string
	}{
		{"unknown authority", makeCert(t, now.Add(-time.Hour), now.Add(time.Hour), nil, localhost...), false,
			[]string{"TLS: the server's certificate is signed by an unknown authority", "issued by", "SSL_CERT_FILE"}},
		{"expired", makeCert(t, now.Add(-48*time.Hour), now.Add(-24*time.Hour), nil, localhost...), true,
			[]string{"TLS: the server's certificate has expired or is not valid yet", "valid from", "clock"}},
		{"wrong host", makeCert(t, now.Add(-time.Hour), now.Add(time.Hour), []string{"other.test"}), true,
			[]string{"TLS: the server's certificate is for another host", "it is for other.test, not 127.0.0.1", "mirror URL"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv, _ := debianOverTLS(t, tc.cert)
			env := procEnv(t)
			if tc.trusted {
				env = append(env, "SSL_CERT_FILE="+tc.cert.file)
			}
			p := startProc(t, env, "resolve", "-v", "debian", "12", "--arch", "amd64", "--cache-dir", t.TempDir(),
				"--mirror", "debian="+srv.URL+"/debian/")
			code := p.wait(t, 20*time.Second)
			stderr := p.stderr.String()
			if code != 1 {
				t.Errorf("exit %d, want 1", code)
			}
			for _, w := range tc.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q", w)
				}
			}
			if n := strings.Count(stderr, `msg="http request failed"`); n != 1 {
				t.Errorf("%d failed requests logged, want 1 (no retries)", n)
			}
			if srv.count() != 0 {
				t.Errorf("%d requests reached the server", srv.count())
			}
			if t.Failed() {
				t.Logf("stderr:\n%s", stderr)
			}
		})
	}
}

// TestSSLCertFile: a certificate authority named in SSL_CERT_FILE is
// trusted, as for other programs.
func TestSSLCertFile(t *testing.T) {
	t.Parallel()
	cert := makeCert(t, time.Now().Add(-time.Hour), time.Now().Add(time.Hour), nil, net.IPv4(127, 0, 0, 1))
	srv, disk := debianOverTLS(t, cert)
	cacheDir := t.TempDir()
	p := startProc(t, append(procEnv(t), "SSL_CERT_FILE="+cert.file), "pull", "debian", "12", "--arch", "amd64",
		"--cache-dir", cacheDir, "--mirror", "debian="+srv.URL+"/debian/")
	if code := p.wait(t, 30*time.Second); code != 0 {
		t.Fatalf("exit %d\nstderr:\n%s", code, p.stderr)
	}
	got, err := os.ReadFile(filepath.Join(cacheDir, "images", "debian", "12", "x86_64", "disk.qcow2"))
	if err != nil || string(got) != string(disk) {
		t.Errorf("disk differs from the mirror's (err %v)", err)
	}
}

// TestHTTPSProxy: HTTPS_PROXY carries every request to an https mirror
// through the proxy (CONNECT), and NO_PROXY exempts the hosts it names. Go
// never proxies loopback addresses, so the mirror is named mirror.test (only
// the proxy resolves it) or 0.0.0.0 (which reaches 127.0.0.1 on Linux).
func TestHTTPSProxy(t *testing.T) {
	t.Parallel()
	cert := makeCert(t, time.Now().Add(-time.Hour), time.Now().Add(time.Hour), []string{"mirror.test"}, net.IPv4zero, net.IPv4(127, 0, 0, 1))

	srv, disk := debianOverTLS(t, cert)
	proxy := serveProxy(t)
	base := append(procEnv(t), "SSL_CERT_FILE="+cert.file, "HTTPS_PROXY="+proxy.URL)
	pull := func(env []string, host string) {
		t.Helper()
		cacheDir := t.TempDir()
		p := startProc(t, env, "pull", "debian", "12", "--arch", "amd64", "--cache-dir", cacheDir,
			"--mirror", "debian=https://"+net.JoinHostPort(host, srv.port())+"/debian/")
		if code := p.wait(t, 30*time.Second); code != 0 {
			t.Fatalf("pull from %s: exit %d\nstderr:\n%s", host, code, p.stderr)
		}
		got, err := os.ReadFile(filepath.Join(cacheDir, "images", "debian", "12", "x86_64", "disk.qcow2"))
		if err != nil || string(got) != string(disk) {
			t.Errorf("disk from %s differs from the mirror's (err %v)", host, err)
		}
	}
	only := func(hosts []string, want string) bool {
		for _, h := range hosts {
			if h != want {
				return false
			}
		}
		return len(hosts) > 0
	}

	pull(base, "mirror.test")
	if seen := proxy.seen(); !only(seen, "mirror.test:"+srv.port()) {
		t.Errorf("through HTTPS_PROXY the proxy saw %q, want CONNECT mirror.test:%s", seen, srv.port())
	}
	before := len(proxy.seen())
	pull(append(base, "NO_PROXY=example.org,0.0.0.0"), "0.0.0.0")
	if seen := proxy.seen(); len(seen) != before {
		t.Errorf("NO_PROXY=0.0.0.0 still went through the proxy: %q", seen[before:])
	}
	pull(base, "0.0.0.0")
	if seen := proxy.seen()[before:]; !only(seen, "0.0.0.0:"+srv.port()) {
		t.Errorf("without NO_PROXY the proxy saw %q, want CONNECT 0.0.0.0:%s", seen, srv.port())
	}
	// This machine's own addresses never go through the proxy.
	before = len(proxy.seen())
	pull(base, "127.0.0.1")
	if seen := proxy.seen(); len(seen) != before {
		t.Errorf("a loopback mirror went through the proxy: %q", seen[before:])
	}
	if srv.count() == 0 {
		t.Error("the mirror served nothing")
	}
}
