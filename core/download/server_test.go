package download

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"vmimages/core/manifest"
)

// testServer serves one file the way a real server does (ETag,
// Last-Modified, Accept-Ranges, Range, If-Range, HEAD) and injects faults,
// one per GET, in the order given.
type testServer struct {
	*httptest.Server
	t *testing.T

	// Set before the first request.
	noRanges      bool          // ignore Range and do not advertise it
	lieRanges     bool          // advertise ranges, answer 200 to them
	ignoreIfRange bool          // honour Range even when If-Range fails
	chunked       bool          // send no Content-Length (chunked bodies)
	delay         time.Duration // pause before each GET's body
	onGet         func(n int)   // called as GET number n (1-based) starts

	mu          sync.Mutex
	body        []byte
	etag        string // "" sends none
	lastMod     string // "" sends none
	faults      []fault
	dropHeads   int    // close the connection on this many HEADs
	forever     *fault // applied once faults run out
	gets        []getLog
	heads       int
	sent        int64 // body bytes written, all GETs together
	inflight    int
	maxInflight int
}

// fault is what one GET does wrong.
type fault struct {
	status     int           // answer this status with no body
	retryAfter string        // Retry-After header with status
	dropAfter  int64         // close the connection after this many body bytes
	stallAfter int64         // send this many bytes, then stop sending
	stallFor   time.Duration // how long a stall lasts (or until the client leaves)
	gate       chan struct{} // with stallAfter: resume when closed
	after      func(*testServer)
}

type getLog struct {
	rangeHdr, ifRange, userAgent, acceptEncoding string
	status                                       int
}

func newTestServer(t *testing.T, body []byte) *testServer {
	t.Helper()
	s := &testServer{t: t, body: body, etag: `"v1"`, lastMod: "Mon, 02 Jan 2006 15:04:05 GMT"}
	s.Server = httptest.NewServer(s)
	t.Cleanup(s.Close)
	return s
}

func (s *testServer) url() string { return s.URL + "/images/disk.qcow2" }

// setBody replaces the served file, as an upstream rebuild would.
func (s *testServer) setBody(b []byte, etag, lastMod string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.body, s.etag, s.lastMod = b, etag, lastMod
}

func (s *testServer) log() []getLog {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]getLog(nil), s.gets...)
}

func (s *testServer) counts() (gets, heads int, sent int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.gets), s.heads, s.sent
}

func (s *testServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	body, etag, lastMod := s.body, s.etag, s.lastMod
	h := w.Header()
	if etag != "" {
		h.Set("ETag", etag)
	}
	if lastMod != "" {
		h.Set("Last-Modified", lastMod)
	}
	if !s.noRanges {
		h.Set("Accept-Ranges", "bytes")
	}
	switch r.Method {
	case http.MethodHead:
		s.heads++
		drop := s.dropHeads > 0
		s.dropHeads--
		s.mu.Unlock()
		if drop {
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				conn.Close()
			}
			return
		}
		if !s.chunked {
			h.Set("Content-Length", strconv.Itoa(len(body)))
		}
		w.WriteHeader(http.StatusOK)
		return
	case http.MethodGet:
	default:
		s.mu.Unlock()
		w.WriteHeader(http.StatusMethodNotAllowed)
		return
	}
	var f fault
	if len(s.faults) > 0 {
		f, s.faults = s.faults[0], s.faults[1:]
	} else if s.forever != nil {
		f = *s.forever
	}
	entry := getLog{
		rangeHdr:       r.Header.Get("Range"),
		ifRange:        r.Header.Get("If-Range"),
		userAgent:      r.Header.Get("User-Agent"),
		acceptEncoding: r.Header.Get("Accept-Encoding"),
	}
	n := len(s.gets) + 1
	s.gets = append(s.gets, entry)
	s.inflight++
	s.maxInflight = max(s.maxInflight, s.inflight)
	s.mu.Unlock()
	left := false
	leave := func() {
		if !left {
			left = true
			s.mu.Lock()
			s.inflight--
			s.mu.Unlock()
		}
	}
	defer leave()
	if s.onGet != nil {
		s.onGet(n)
	}
	setStatus := func(code int) {
		s.mu.Lock()
		s.gets[n-1].status = code
		s.mu.Unlock()
	}

	if f.status != 0 {
		if f.retryAfter != "" {
			h.Set("Retry-After", f.retryAfter)
		}
		setStatus(f.status)
		http.Error(w, http.StatusText(f.status), f.status)
		return
	}

	start, status := 0, http.StatusOK
	if rg := entry.rangeHdr; rg != "" && !s.noRanges && !s.lieRanges {
		ifr := entry.ifRange
		if ifr == "" || s.ignoreIfRange || (ifr == etag && etag != "") || (ifr == lastMod && lastMod != "") {
			first, ok := parseRangeHeader(rg)
			if !ok {
				s.t.Errorf("server: unexpected Range %q", rg)
			}
			if first >= len(body) {
				h.Set("Content-Range", fmt.Sprintf("bytes */%d", len(body)))
				setStatus(http.StatusRequestedRangeNotSatisfiable)
				w.WriteHeader(http.StatusRequestedRangeNotSatisfiable)
				return
			}
			start, status = first, http.StatusPartialContent
			h.Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", first, len(body)-1, len(body)))
		}
	}
	setStatus(status)
	content := body[start:]
	if !s.chunked {
		h.Set("Content-Length", strconv.Itoa(len(content)))
	}
	if s.delay > 0 {
		time.Sleep(s.delay)
	}

	if f.dropAfter > 0 {
		s.drop(w, status, content[:f.dropAfter])
		if f.after != nil {
			f.after(s)
		}
		return
	}
	w.WriteHeader(status)
	if f.stallAfter > 0 {
		s.write(w, content[:f.stallAfter])
		w.(http.Flusher).Flush()
		content = content[f.stallAfter:]
		timer := time.NewTimer(f.stallFor)
		defer timer.Stop()
		select {
		case <-f.gate:
		case <-timer.C:
		case <-r.Context().Done():
			if f.after != nil {
				f.after(s)
			}
			return
		}
	}
	// Leave before the last chunk: the client cannot finish, and so start
	// its next request, before this point.
	for len(content) > 0 {
		k := min(len(content), 32<<10)
		if k == len(content) {
			leave()
		}
		if !s.write(w, content[:k]) {
			return
		}
		content = content[k:]
	}
	if f.after != nil {
		f.after(s)
	}
}

// write counts bytes before sending them: the client may finish, and the
// test read the count, before Write returns.
func (s *testServer) write(w http.ResponseWriter, b []byte) bool {
	s.mu.Lock()
	s.sent += int64(len(b))
	s.mu.Unlock()
	n, err := w.Write(b)
	if n < len(b) {
		s.mu.Lock()
		s.sent -= int64(len(b) - n)
		s.mu.Unlock()
	}
	return err == nil
}

// drop answers with part of the body and closes the connection, as a
// network failure mid-file would.
func (s *testServer) drop(w http.ResponseWriter, status int, part []byte) {
	hdr := w.Header().Clone()
	conn, rw, err := w.(http.Hijacker).Hijack()
	if err != nil {
		s.t.Errorf("server: hijack: %v", err)
		return
	}
	defer conn.Close()
	fmt.Fprintf(rw, "HTTP/1.1 %d %s\r\n", status, http.StatusText(status))
	hdr.Write(rw)
	if s.chunked {
		// A chunked body cut before its last chunk: the client can tell.
		fmt.Fprint(rw, "Transfer-Encoding: chunked\r\n")
	}
	fmt.Fprint(rw, "Connection: close\r\n\r\n")
	s.mu.Lock()
	s.sent += int64(len(part))
	s.mu.Unlock()
	if s.chunked {
		fmt.Fprintf(rw, "%x\r\n", len(part))
	}
	rw.Write(part)
	if s.chunked {
		fmt.Fprint(rw, "\r\n")
	}
	rw.Flush()
}

func parseRangeHeader(s string) (int, bool) {
	v, ok := strings.CutPrefix(s, "bytes=")
	if !ok {
		return 0, false
	}
	a, b, ok := strings.Cut(v, "-")
	if !ok || b != "" {
		return 0, false
	}
	n, err := strconv.Atoi(a)
	return n, err == nil && n >= 0
}

// testBytes returns n deterministic pseudo-random bytes.
func testBytes(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 42))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func sha256Of(b []byte) manifest.Digest {
	sum := sha256.Sum256(b)
	return manifest.Digest{Algorithm: manifest.SHA256, Hex: hex.EncodeToString(sum[:])}
}
