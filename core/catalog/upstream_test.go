package catalog_test

import (
	"vmimages/internal/mirrortest"

	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"path"
	"strings"
	"sync"
	"testing"

	"vmimages/core/catalog"
	"vmimages/core/manifest"
)

// This file holds the test's stand-in for the distributions' web servers: a
// loopback server over a tree written by hand in resolve_test.go, and a small
// real HTTP fetcher. Nothing here reads default.toml.

// httpFetcher is a plain net/http catalog.Fetcher (status checked, size
// capped), shared with other packages' tests.
type httpFetcher = *mirrortest.Fetcher

var _ catalog.Fetcher = httpFetcher(nil)

// Listing styles of the autoindex pages.
const (
	apache = iota // mod_autoindex FancyIndexing table with "Parent Directory"
	nginx         // <pre> with "../"
)

// upstream is a hand-written copy of part of a distribution's public tree.
type upstream struct {
	mu     sync.Mutex
	files  map[string][]byte // URL path → body
	status map[string]int    // URL path → forced status
	hits   []string          // every path asked for, in order
}

func newUpstream() *upstream {
	return &upstream{files: map[string][]byte{}, status: map[string]int{}}
}

// put stores body at p, replacing what was there.
func (u *upstream) put(p string, body []byte) { u.files[p] = body }

// putString is put for text.
func (u *upstream) putString(p, body string) { u.put(p, []byte(body)) }

// blob stores a generated image at p and returns its bytes. Each path gets
// distinct bytes, so a digest says exactly which file was picked.
func (u *upstream) blob(p string) []byte {
	b := []byte("vmimages catalog test payload at " + p + "\n")
	u.put(p, b)
	return b
}

// fail makes p answer with code.
func (u *upstream) fail(p string, code int) { u.status[p] = code }

// index stores an autoindex page for dir (a URL path ending in "/").
func (u *upstream) index(style int, dir string, entries ...string) {
	if style == apache {
		u.put(dir, apacheIndex(dir, entries))
	} else {
		u.put(dir, nginxIndex(dir, entries))
	}
}

func (u *upstream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	u.mu.Lock()
	u.hits = append(u.hits, r.URL.Path)
	u.mu.Unlock()
	if r.Method != http.MethodGet {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if code, ok := u.status[r.URL.Path]; ok {
		http.Error(w, http.StatusText(code), code)
		return
	}
	b, ok := u.files[r.URL.Path]
	if !ok {
		http.NotFound(w, r)
		return
	}
	if strings.HasSuffix(r.URL.Path, "/") {
		w.Header().Set("Content-Type", "text/html;charset=UTF-8")
	} else {
		w.Header().Set("Content-Type", "application/octet-stream")
	}
	_, _ = w.Write(b)
}

// serve starts a loopback server over u, closed when the test ends.
func (u *upstream) serve(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(u)
	t.Cleanup(srv.Close)
	return srv
}

// requests returns the paths asked for so far.
func (u *upstream) requests() []string {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]string(nil), u.hits...)
}

// assertStayedUnder fails the test when any request left root.
func (u *upstream) assertStayedUnder(t *testing.T, root string) {
	t.Helper()
	for _, p := range u.requests() {
		c := path.Clean(p)
		if strings.HasSuffix(p, "/") {
			c += "/"
		}
		if !strings.HasPrefix(c, root) || strings.Contains(p, "..") {
			t.Errorf("request for %q left the mirror root %q", p, root)
		}
	}
}

// display shortens a name the way autoindex modules do, keeping the href whole.
func display(name string, width int) string {
	if len(name) > width {
		return html.EscapeString(name[:width-3]) + "..&gt;"
	}
	return html.EscapeString(name)
}

func parentOf(dir string) string {
	p := path.Dir(strings.TrimSuffix(dir, "/"))
	if p == "/" {
		return "/"
	}
	return p + "/"
}

// apacheIndex renders what Apache httpd's mod_autoindex serves with
// FancyIndexing and HTMLTable on (cloud-images.ubuntu.com, cloud.debian.org,
// dl.fedoraproject.org, cloud.centos.org).
func apacheIndex(dir string, entries []string) []byte {
	var b strings.Builder
	title := html.EscapeString(strings.TrimSuffix(dir, "/"))
	fmt.Fprintf(&b, `<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 3.2 Final//EN">
<html>
 <head>
  <title>Index of %s</title>
 </head>
 <body>
<h1>Index of %s</h1>
  <table>
   <tr><th valign="top"><img src="/icons/blank.gif" alt="[ICO]"></th><th><a href="?C=N;O=D">Name</a></th><th><a href="?C=M;O=A">Last modified</a></th><th><a href="?C=S;O=A">Size</a></th><th><a href="?C=D;O=A">Description</a></th></tr>
   <tr><th colspan="5"><hr></th></tr>
<tr><td valign="top"><img src="/icons/back.gif" alt="[PARENTDIR]"></td><td><a href="%s">Parent Directory</a>       </td><td>&nbsp;</td><td align="right">  - </td><td>&nbsp;</td></tr>
`, title, title, html.EscapeString(parentOf(dir)))
	for i, e := range entries {
		icon, alt, size := "/icons/unknown.gif", "[   ]", fmt.Sprintf("%dM", 100+i)
		if strings.HasSuffix(e, "/") {
			icon, alt, size = "/icons/folder.gif", "[DIR]", "-"
		}
		fmt.Fprintf(&b, `<tr><td valign="top"><img src="%s" alt="%s"></td><td><a href="%s">%s</a></td><td align="right">2026-07-%02d 10:%02d  </td><td align="right">%s</td><td>&nbsp;</td></tr>
`, icon, alt, html.EscapeString(e), display(e, 23), 1+i%28, i%60, size)
	}
	b.WriteString(`   <tr><th colspan="5"><hr></th></tr>
</table>
<address>Apache/2.4.58 (Ubuntu) Server Port 443</address>
</body></html>
`)
	return []byte(b.String())
}

// nginxIndex renders nginx's autoindex page (repo.almalinux.org,
// dl.rockylinux.org, dl-cdn.alpinelinux.org, geo.mirror.pkgbuild.com).
func nginxIndex(dir string, entries []string) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "<html>\r\n<head><title>Index of %s</title></head>\r\n<body>\r\n<h1>Index of %s</h1><hr><pre><a href=\"../\">../</a>\r\n",
		html.EscapeString(dir), html.EscapeString(dir))
	for i, e := range entries {
		size := "-"
		if !strings.HasSuffix(e, "/") {
			size = fmt.Sprint(1000 + i)
		}
		fmt.Fprintf(&b, "<a href=\"%s\">%s</a>%s%02d-Jul-2026 10:%02d %19s\r\n",
			html.EscapeString(e), display(e, 50), strings.Repeat(" ", max(1, 51-min(len(e), 50))), 1+i%28, i%60, size)
	}
	b.WriteString("</pre><hr></body>\r\n</html>\r\n")
	return []byte(b.String())
}

func sha256Of(b []byte) manifest.Digest {
	s := sha256.Sum256(b)
	return manifest.Digest{Algorithm: manifest.SHA256, Hex: hex.EncodeToString(s[:])}
}

func sha512Of(b []byte) manifest.Digest {
	s := sha512.Sum512(b)
	return manifest.Digest{Algorithm: manifest.SHA512, Hex: hex.EncodeToString(s[:])}
}

// fakeSignature is an armored block shaped like a real one; nothing in the
// catalog checks signatures.
const fakeSignature = `-----BEGIN PGP SIGNATURE-----

iQIzBAEBCAAdFiEENrYS3PJ/fRpIqDXk2/z3HG2fkKYFAmiAAAAACgkQ2/z3HG2f
kKZ0dGVzdCBzaWduYXR1cmUsIG5vdCBjaGVja2VkIGJ5IHRoZSBjYXRhbG9n
=AAAA
-----END PGP SIGNATURE-----
`

// clearsign wraps body the way Fedora's CHECKSUM files are wrapped.
func clearsign(body string) string {
	return "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\n" + body + fakeSignature
}
