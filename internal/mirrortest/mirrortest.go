// Package mirrortest serves a distribution mirror on 127.0.0.1 for tests:
// files at paths, Apache-style autoindex pages for every directory, Range
// and If-Range like a real server (via http.ServeContent), a log of every
// request, and hooks to inject faults. It also writes the real manifest
// shapes the distributions publish.
package mirrortest

import (
	"bytes"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"path"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// Request is one logged request.
type Request struct {
	Method, Path, Range, IfRange string
}

// Server is a loopback mirror.
type Server struct {
	*httptest.Server
	mu    sync.Mutex
	files map[string]file
	log   []Request
	// Fault, when set, sees every request first; returning true means it
	// answered (or broke) the request itself. Set it before requests flow,
	// or use SetFault while they do.
	Fault func(w http.ResponseWriter, r *http.Request) bool
}

// SetFault replaces the fault hook safely while requests are in flight.
func (s *Server) SetFault(f func(w http.ResponseWriter, r *http.Request) bool) {
	s.mu.Lock()
	s.Fault = f
	s.mu.Unlock()
}

type file struct {
	data []byte
	mod  time.Time
	etag string
}

// New starts a server that stops when the test ends.
func New(t testing.TB) *Server {
	s := &Server{files: map[string]file{}}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

// Put stores data at an absolute path ("/debian/bookworm/…"), replacing
// what was there with a new ETag.
func (s *Server) Put(p string, data []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sum := sha256.Sum256(data)
	s.files[path.Clean("/"+p)] = file{data: data, mod: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(len(s.files)) * time.Second),
		etag: `"` + hex.EncodeToString(sum[:8]) + `"`}
}

// Get returns the bytes stored at p.
func (s *Server) Get(p string) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.files[path.Clean("/"+p)].data
}

// Requests returns a copy of the request log.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.log...)
}

// Count is the number of GET requests whose path ends with suffix.
func (s *Server) Count(suffix string) int {
	n := 0
	for _, r := range s.Requests() {
		if r.Method == http.MethodGet && strings.HasSuffix(r.Path, suffix) {
			n++
		}
	}
	return n
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.log = append(s.log, Request{Method: r.Method, Path: r.URL.Path, Range: r.Header.Get("Range"), IfRange: r.Header.Get("If-Range")})
	fault := s.Fault
	s.mu.Unlock()
	if fault != nil && fault(w, r) {
		return
	}
	p := path.Clean(r.URL.Path)
	s.mu.Lock()
	f, ok := s.files[p]
	var children []string
	if !ok {
		children = s.childrenLocked(p)
	}
	s.mu.Unlock()
	switch {
	case ok:
		w.Header().Set("ETag", f.etag)
		w.Header().Set("Accept-Ranges", "bytes")
		http.ServeContent(w, r, path.Base(p), f.mod, bytes.NewReader(f.data))
	case len(children) > 0 && strings.HasSuffix(r.URL.Path, "/"):
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, Autoindex(r.URL.Path, children))
	case len(children) > 0:
		http.Redirect(w, r, r.URL.Path+"/", http.StatusMovedPermanently)
	default:
		http.NotFound(w, r)
	}
}

// childrenLocked lists the direct children of dir: files by name,
// directories with a trailing slash.
func (s *Server) childrenLocked(dir string) []string {
	prefix := strings.TrimSuffix(dir, "/") + "/"
	seen := map[string]bool{}
	for p := range s.files {
		rest, ok := strings.CutPrefix(p, prefix)
		if !ok || rest == "" {
			continue
		}
		if i := strings.IndexByte(rest, '/'); i >= 0 {
			seen[rest[:i+1]] = true
		} else {
			seen[rest] = true
		}
	}
	out := make([]string, 0, len(seen))
	for n := range seen {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Autoindex renders an Apache-style directory index.
func Autoindex(dir string, names []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 3.2 Final//EN\">\n<html>\n <head>\n  <title>Index of %s</title>\n </head>\n <body>\n<h1>Index of %s</h1>\n  <table>\n", html.EscapeString(dir), html.EscapeString(dir))
	b.WriteString("   <tr><th valign=\"top\"><img src=\"/icons/blank.gif\" alt=\"[ICO]\"></th><th><a href=\"?C=N;O=D\">Name</a></th><th><a href=\"?C=M;O=A\">Last modified</a></th><th><a href=\"?C=S;O=A\">Size</a></th></tr>\n")
	b.WriteString("<tr><td valign=\"top\"><img src=\"/icons/back.gif\" alt=\"[PARENTDIR]\"></td><td><a href=\"/\">Parent Directory</a></td><td>&nbsp;</td><td align=\"right\">  - </td></tr>\n")
	for _, n := range names {
		fmt.Fprintf(&b, "<tr><td valign=\"top\"><img src=\"/icons/unknown.gif\" alt=\"[   ]\"></td><td><a href=\"%s\">%s</a></td><td align=\"right\">2026-11-01 00:00  </td><td align=\"right\">  1M</td></tr>\n",
			html.EscapeString(n), html.EscapeString(n))
	}
	b.WriteString("</table>\n</body></html>\n")
	return b.String()
}

// SHA256 is the hex SHA-256 of data.
func SHA256(data []byte) string {
	s := sha256.Sum256(data)
	return hex.EncodeToString(s[:])
}

// SHA512 is the hex SHA-512 of data.
func SHA512(data []byte) string {
	s := sha512.Sum512(data)
	return hex.EncodeToString(s[:])
}

// GNU renders a coreutils manifest ("hex  name", or "hex *name" when binary).
func GNU(binary bool, sum func([]byte) string, files map[string][]byte) []byte {
	var b strings.Builder
	for _, n := range sortedNames(files) {
		sep := "  "
		if binary {
			sep = " *"
		}
		fmt.Fprintf(&b, "%s%s%s\n", sum(files[n]), sep, n)
	}
	return []byte(b.String())
}

// BSD renders a BSD-tag manifest with "# name: N bytes" comments.
func BSD(files map[string][]byte) []byte {
	var b strings.Builder
	for _, n := range sortedNames(files) {
		fmt.Fprintf(&b, "# %s: %d bytes\nSHA256 (%s) = %s\n", n, len(files[n]), n, SHA256(files[n]))
	}
	return []byte(b.String())
}

func sortedNames(m map[string][]byte) []string {
	out := make([]string, 0, len(m))
	for n := range m {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Payload makes n deterministic, incompressible-looking bytes from seed.
func Payload(seed string, n int) []byte {
	out := make([]byte, 0, n+32)
	block := sha256.Sum256([]byte(seed))
	for len(out) < n {
		out = append(out, block[:]...)
		block = sha256.Sum256(block[:])
	}
	return out[:n]
}

// AddDebian publishes a Debian genericcloud build the way cloud.debian.org
// lays it out: <prefix>/<codename>/<build>/debian-<N>-genericcloud-<arch>-<build>.qcow2
// with a GNU SHA512SUMS beside it. arch is Debian's spelling (amd64, arm64).
func (s *Server) AddDebian(prefix, version, codename, build, arch string, disk []byte) string {
	dir := strings.TrimSuffix(prefix, "/") + "/" + codename + "/" + build + "/"
	name := fmt.Sprintf("debian-%s-genericcloud-%s-%s.qcow2", version, arch, build)
	s.Put(dir+name, disk)
	json := fmt.Sprintf("debian-%s-genericcloud-%s-%s.json", version, arch, build)
	s.Put(dir+json, []byte("{}"))
	s.Put(dir+"SHA512SUMS", GNU(false, SHA512, map[string][]byte{name: disk, json: []byte("{}")}))
	return dir + name
}

// AddUbuntu publishes an Ubuntu release the way cloud-images.ubuntu.com
// does: <prefix>/<codename>/release-<serial>/ubuntu-<ver>-server-cloudimg-<arch>.img
// with SHA256SUMS (binary marker) and unpacked/ kernel, initrd and
// SHA256SUMS. Signatures are the caller's to add. It returns the dir.
func (s *Server) AddUbuntu(prefix, version, codename, serial, arch string, disk, kernel, initrd []byte) string {
	dir := strings.TrimSuffix(prefix, "/") + "/" + codename + "/release-" + serial + "/"
	base := fmt.Sprintf("ubuntu-%s-server-cloudimg-%s", version, arch)
	s.Put(dir+base+".img", disk)
	kvm := []byte("kvm variant " + serial)
	s.Put(dir+base+"-disk-kvm.img", kvm)
	s.Put(dir+"SHA256SUMS", GNU(true, SHA256, map[string][]byte{base + ".img": disk, base + "-disk-kvm.img": kvm}))
	s.Put(dir+"unpacked/"+base+"-vmlinuz-generic", kernel)
	s.Put(dir+"unpacked/"+base+"-initrd-generic", initrd)
	s.Put(dir+"unpacked/SHA256SUMS", GNU(true, SHA256, map[string][]byte{base + "-vmlinuz-generic": kernel, base + "-initrd-generic": initrd}))
	return dir
}
