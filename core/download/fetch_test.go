package download

import (
	"bytes"
	"context"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"vmimages/core/manifest"
)

const testSize = 256 << 10

func testClient(opts Options) *Client {
	if opts.Backoff == nil {
		opts.Backoff = func(int) time.Duration { return time.Millisecond }
	}
	if opts.UserAgent == "" {
		opts.UserAgent = "vmimages/test"
	}
	return New(opts)
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// progressLog collects progress callbacks.
type progressLog struct {
	mu sync.Mutex
	ps []Progress
}

func (l *progressLog) add(p Progress) {
	l.mu.Lock()
	l.ps = append(l.ps, p)
	l.mu.Unlock()
}

func (l *progressLog) all() []Progress {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]Progress(nil), l.ps...)
}

func assertFile(t *testing.T, path string, want []byte) {
	t.Helper()
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s: %d bytes differ from the expected %d bytes", path, len(got), len(want))
	}
}

func assertNoPart(t *testing.T, dest string) {
	t.Helper()
	part, side := partPaths(dest)
	for _, p := range []string{part, side} {
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s still exists (err %v)", p, err)
		}
	}
}

// writePart leaves a part file and sidecar as an earlier run would.
func writePart(t *testing.T, dest string, b []byte, sc *sidecar) {
	t.Helper()
	part, side := partPaths(dest)
	if err := os.MkdirAll(filepath.Dir(part), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(part, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if sc != nil {
		if err := writeSidecar(side, *sc); err != nil {
			t.Fatal(err)
		}
	}
}

func TestFetchFresh(t *testing.T) {
	body := testBytes(testSize, 1)
	srv := newTestServer(t, body)
	c := testClient(Options{UserAgent: "vmimages/9.9"})
	dest := filepath.Join(t.TempDir(), "disk.qcow2")
	var pl progressLog
	res, err := c.Fetch(testContext(t), Request{URL: srv.url(), Dest: dest, Part: partOf(dest), Digest: sha256Of(body), Size: testSize}, pl.add)
	if err != nil {
		t.Fatal(err)
	}
	want := Result{Status: StatusDownloaded, Path: dest, Size: testSize, Transferred: testSize, Validator: `"v1"`, FinalURL: srv.url()}
	if res != want {
		t.Errorf("result %+v, want %+v", res, want)
	}
	assertFile(t, dest, body)
	assertNoPart(t, dest)
	log := srv.log()
	if len(log) != 1 || log[0].userAgent != "vmimages/9.9" || log[0].acceptEncoding != "identity" || log[0].rangeHdr != "" {
		t.Errorf("requests %+v, want one plain GET with our User-Agent and no compression", log)
	}
	ps := pl.all()
	if len(ps) == 0 || ps[len(ps)-1].Phase != PhaseVerifying || ps[len(ps)-1].BytesDone != testSize {
		t.Errorf("last progress %+v, want verifying with all bytes done", ps)
	}
}

func TestFetchSha512(t *testing.T) {
	body := testBytes(testSize, 2)
	srv := newTestServer(t, body)
	d, err := manifest.ParseDigest("sha512:" + sha512Hex(body))
	if err != nil {
		t.Fatal(err)
	}
	dest := filepath.Join(t.TempDir(), "vmlinuz")
	if _, err := testClient(Options{}).Fetch(testContext(t), Request{URL: srv.url(), Dest: dest, Part: partOf(dest), Digest: d, Size: -1}, nil); err != nil {
		t.Fatal(err)
	}
	assertFile(t, dest, body)
}

func TestFetchRejectsBadRequests(t *testing.T) {
	body := testBytes(1024, 3)
	srv := newTestServer(t, body)
	dest := filepath.Join(t.TempDir(), "disk")
	good := sha256Of(body)
	tests := []struct {
		name string
		req  Request
		want error
	}{
		{"zero digest", Request{URL: srv.url(), Dest: dest, Part: partOf(dest)}, ErrDigestRequired},
		{"sha1", Request{URL: srv.url(), Dest: dest, Part: partOf(dest), Digest: manifest.Digest{Algorithm: manifest.SHA1, Hex: strings.Repeat("a", 40)}}, manifest.ErrWeakDigest},
		{"md5", Request{URL: srv.url(), Dest: dest, Part: partOf(dest), Digest: manifest.Digest{Algorithm: manifest.MD5, Hex: strings.Repeat("a", 32)}}, manifest.ErrWeakDigest},
		{"short hex", Request{URL: srv.url(), Dest: dest, Part: partOf(dest), Digest: manifest.Digest{Algorithm: manifest.SHA256, Hex: "abc"}}, manifest.ErrMalformed},
		{"ftp", Request{URL: "ftp://example.org/x", Dest: dest, Part: partOf(dest), Digest: good}, nil},
		{"no dest", Request{URL: srv.url(), Digest: good}, nil},
		{"no part", Request{URL: srv.url(), Dest: dest, Digest: good}, nil},
		{"part is dest", Request{URL: srv.url(), Dest: dest, Part: dest, Digest: good}, nil},
	}
	c := testClient(Options{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.Fetch(testContext(t), tt.req, nil)
			if err == nil || (tt.want != nil && !errors.Is(err, tt.want)) {
				t.Fatalf("err %v, want %v", err, tt.want)
			}
		})
	}
	if gets, heads, _ := srv.counts(); gets+heads != 0 {
		t.Errorf("server saw %d requests, want none", gets+heads)
	}
	if _, err := os.Stat(filepath.Dir(dest) + "/.partial"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf(".partial created for a refused request")
	}
}

func TestFetchResumeAfterDrop(t *testing.T) {
	const half = testSize / 2
	tests := []struct {
		name       string
		etag, lm   string
		size       int64
		wantRange  string // Range of the second GET
		wantIfR    string
		wantSent   int64
		wantTransf int64
	}{
		{"etag", `"abc"`, "Tue, 03 Jan 2006 15:04:05 GMT", testSize, "bytes=131072-", `"abc"`, testSize, testSize},
		{"etag size unknown", `"abc"`, "", -1, "bytes=131072-", `"abc"`, testSize, testSize},
		{"etag no content-length", `"abc"`, "", -2, "bytes=131072-", `"abc"`, testSize, testSize},
		{"last-modified only", "", "Tue, 03 Jan 2006 15:04:05 GMT", testSize, "bytes=131072-", "Tue, 03 Jan 2006 15:04:05 GMT", testSize, testSize},
		{"weak etag uses last-modified", `W/"abc"`, "Tue, 03 Jan 2006 15:04:05 GMT", testSize, "bytes=131072-", "Tue, 03 Jan 2006 15:04:05 GMT", testSize, testSize},
		// Without a validator a resume could splice two versions: restart.
		{"no validator restarts", "", "", testSize, "", "", half + testSize, half + testSize},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := testBytes(testSize, 4)
			srv := newTestServer(t, body)
			srv.setBody(body, tt.etag, tt.lm)
			srv.faults = []fault{{dropAfter: half}}
			if tt.size == -2 {
				srv.chunked, tt.size = true, -1
			}
			dest := filepath.Join(t.TempDir(), "disk.qcow2")
			var pl progressLog
			res, err := testClient(Options{}).Fetch(testContext(t), Request{URL: srv.url(), Dest: dest, Part: partOf(dest), Digest: sha256Of(body), Size: tt.size}, pl.add)
			if err != nil {
				t.Fatal(err)
			}
			assertFile(t, dest, body)
			assertNoPart(t, dest)
			log := srv.log()
			if len(log) != 2 {
				t.Fatalf("server saw %d GETs %+v, want 2", len(log), log)
			}
			if log[1].rangeHdr != tt.wantRange || log[1].ifRange != tt.wantIfR {
				t.Errorf("second GET Range %q If-Range %q, want %q %q", log[1].rangeHdr, log[1].ifRange, tt.wantRange, tt.wantIfR)
			}
			if _, _, sent := srv.counts(); sent != tt.wantSent {
				t.Errorf("server sent %d body bytes, want %d", sent, tt.wantSent)
			}
			if res.Transferred != tt.wantTransf || res.Resumed != 0 {
				t.Errorf("Transferred %d Resumed %d, want %d and 0", res.Transferred, res.Resumed, tt.wantTransf)
			}
			sawRetry := false
			for _, p := range pl.all() {
				if p.Phase == PhaseRetrying && p.Err != nil && strings.Contains(p.Err.Error(), srv.url()) {
					sawRetry = true
				}
			}
			if !sawRetry {
				t.Errorf("no retrying progress naming the URL: %+v", pl.all())
			}
		})
	}
}

func TestFetchExistingPart(t *testing.T) {
	const half = testSize / 2
	body := testBytes(testSize, 5)
	other := testBytes(testSize, 6)
	tests := []struct {
		name       string
		part       []byte
		sc         func(url string) *sidecar
		size       int64
		wantGets   int
		wantRange  string
		wantTransf int64
		wantResume int64
		wantErr    error
		digest     manifest.Digest // asked for; zero means body's
	}{
		{"valid sidecar resumes", body[:half], func(u string) *sidecar {
			return &sidecar{URL: u, Validator: `"v1"`, Size: testSize, Digest: sha256Of(body)}
		}, testSize, 1, "bytes=131072-", half, half, nil, manifest.Digest{}},
		{"valid sidecar size unknown", body[:half], func(u string) *sidecar {
			return &sidecar{URL: u, Validator: `"v1"`, Size: -1, Digest: sha256Of(body)}
		}, -1, 1, "bytes=131072-", half, half, nil, manifest.Digest{}},
		{"complete part is only verified", body, func(u string) *sidecar {
			return &sidecar{URL: u, Validator: `"v1"`, Size: testSize, Digest: sha256Of(body)}
		}, testSize, 0, "", 0, testSize, nil, manifest.Digest{}},
		{"no sidecar restarts", body[:half], func(string) *sidecar { return nil }, testSize, 1, "", testSize, 0, nil, manifest.Digest{}},
		{"other url restarts", body[:half], func(u string) *sidecar {
			return &sidecar{URL: u + "?old", Validator: `"v1"`, Size: testSize, Digest: sha256Of(body)}
		}, testSize, 1, "", testSize, 0, nil, manifest.Digest{}},
		{"other digest restarts", body[:half], func(u string) *sidecar {
			return &sidecar{URL: u, Validator: `"v1"`, Size: testSize, Digest: sha256Of(other)}
		}, testSize, 1, "", testSize, 0, nil, manifest.Digest{}},
		{"no validator restarts", body[:half], func(u string) *sidecar {
			return &sidecar{URL: u, Size: testSize, Digest: sha256Of(body)}
		}, testSize, 1, "", testSize, 0, nil, manifest.Digest{}},
		{"part larger than file restarts", append(append([]byte(nil), body...), 1, 2, 3), func(u string) *sidecar {
			return &sidecar{URL: u, Validator: `"v1"`, Size: -1, Digest: sha256Of(body)}
		}, testSize, 1, "", testSize, 0, nil, manifest.Digest{}},
		{"stale validator: server sends whole file", other[:half], func(u string) *sidecar {
			return &sidecar{URL: u, Validator: `"v0"`, Size: testSize, Digest: sha256Of(body)}
		}, testSize, 2, "bytes=131072-", testSize, 0, nil, manifest.Digest{}},
		// A part damaged on disk (a power loss): the resumed file is wrong,
		// so one clean download from zero follows, and it is right.
		{"damaged part: one clean download", other[:half], func(u string) *sidecar {
			return &sidecar{URL: u, Validator: `"v1"`, Size: testSize, Digest: sha256Of(body)}
		}, testSize, 2, "bytes=131072-", half + testSize, 0, nil, manifest.Digest{}},
		// The clean download is wrong too: now the server is to blame.
		{"damaged part and wrong server", other[:half], func(u string) *sidecar {
			return &sidecar{URL: u, Validator: `"v1"`, Size: testSize, Digest: sha256Of(other)}
		}, testSize, 2, "bytes=131072-", 0, 0, ErrDigestMismatch, sha256Of(other)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newTestServer(t, body)
			dest := filepath.Join(t.TempDir(), "disk.qcow2")
			writePart(t, dest, tt.part, tt.sc(srv.url()))
			digest := tt.digest
			if digest.IsZero() {
				digest = sha256Of(body)
			}
			res, err := testClient(Options{}).Fetch(testContext(t), Request{URL: srv.url(), Dest: dest, Part: partOf(dest), Digest: digest, Size: tt.size}, nil)
			log := srv.log()
			if len(log) != tt.wantGets {
				t.Fatalf("server saw %d GETs %+v, want %d", len(log), log, tt.wantGets)
			}
			if tt.wantGets > 0 && log[0].rangeHdr != tt.wantRange {
				t.Errorf("first GET Range %q, want %q", log[0].rangeHdr, tt.wantRange)
			}
			assertNoPart(t, dest)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err %v, want %v", err, tt.wantErr)
				}
				if _, err := os.Stat(dest); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("dest exists after a failure")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			assertFile(t, dest, body)
			if res.Transferred != tt.wantTransf || res.Resumed != tt.wantResume {
				t.Errorf("Transferred %d Resumed %d, want %d %d", res.Transferred, res.Resumed, tt.wantTransf, tt.wantResume)
			}
		})
	}
}

// TestFetchNeverSplices covers servers whose answer to a resume must not be
// appended to the part file.
func TestFetchNeverSplices(t *testing.T) {
	const half = testSize / 2
	v1 := testBytes(testSize, 7)
	v2 := testBytes(testSize, 8) // same size: length checks cannot tell
	rebuild := func(s *testServer) { s.setBody(v2, `"v2"`, "Wed, 04 Jan 2006 15:04:05 GMT") }
	tests := []struct {
		name       string
		setup      func(*testServer)
		digest     manifest.Digest
		want       []byte // nil: a DigestError is expected
		wantRanged bool   // the second GET carried a Range
	}{
		{"no range support", func(s *testServer) { s.noRanges = true }, sha256Of(v1), v1, false},
		{"200 to a range request", func(s *testServer) { s.lieRanges = true }, sha256Of(v1), v1, true},
		{"changed upstream, new digest", func(s *testServer) { s.faults[0].after = rebuild }, sha256Of(v2), v2, true},
		{"changed upstream, old digest", func(s *testServer) { s.faults[0].after = rebuild }, sha256Of(v1), nil, true},
		{"changed upstream, If-Range ignored", func(s *testServer) {
			s.faults[0].after = rebuild
			s.ignoreIfRange = true
		}, sha256Of(v2), v2, true},
	}
	// Each case runs with the size given, with it unknown but sent as
	// Content-Length, and with no Content-Length at all (grab's length
	// checks cannot help there; only the resume guard can).
	sizes := []struct {
		name    string
		size    int64
		chunked bool
	}{{"size known", testSize, false}, {"size unknown", -1, false}, {"no content-length", -1, true}}
	for _, tt := range tests {
		for _, sz := range sizes {
			t.Run(tt.name+"/"+sz.name, func(t *testing.T) {
				size := sz.size
				srv := newTestServer(t, v1)
				srv.chunked = sz.chunked
				srv.faults = []fault{{dropAfter: half}}
				tt.setup(srv)
				dest := filepath.Join(t.TempDir(), "disk.qcow2")
				_, err := testClient(Options{}).Fetch(testContext(t), Request{URL: srv.url(), Dest: dest, Part: partOf(dest), Digest: tt.digest, Size: size}, nil)
				log := srv.log()
				if len(log) < 2 || (log[1].rangeHdr != "") != tt.wantRanged {
					t.Errorf("GETs %+v: want a second GET, ranged %v", log, tt.wantRanged)
				}
				for i, g := range log[1:] {
					if g.status == 200 && g.rangeHdr != "" && i+2 == len(log) {
						t.Errorf("the last GET was a range request answered 200: its body was kept")
					}
				}
				assertNoPart(t, dest)
				if tt.want == nil {
					var de *DigestError
					if !errors.As(err, &de) || !errors.Is(err, ErrDigestMismatch) {
						t.Fatalf("err %v, want a DigestError", err)
					}
					if de.Actual != sha256Of(v2) || de.Expected != sha256Of(v1) || de.URL != srv.url() {
						t.Errorf("DigestError %+v: want the new file's digest as Actual", de)
					}
					if _, err := os.Stat(dest); !errors.Is(err, os.ErrNotExist) {
						t.Errorf("dest exists after a digest mismatch")
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				assertFile(t, dest, tt.want)
			})
		}
	}
}

func TestFetchDigestMismatchKeepsEarlierCopy(t *testing.T) {
	good := testBytes(testSize, 9) // an earlier release, already in place
	want := testBytes(testSize, 10)
	wrong := append([]byte(nil), want...)
	wrong[testSize/3] ^= 0xff
	srv := newTestServer(t, wrong)
	dest := filepath.Join(t.TempDir(), "disk.qcow2")
	if err := os.WriteFile(dest, good, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := testClient(Options{}).Fetch(testContext(t), Request{URL: srv.url(), Dest: dest, Part: partOf(dest), Digest: sha256Of(want), Size: testSize}, nil)
	var de *DigestError
	if !errors.As(err, &de) || !errors.Is(err, ErrDigestMismatch) {
		t.Fatalf("err %v, want a DigestError", err)
	}
	if de.URL != srv.url() || de.File != dest || de.Expected != sha256Of(want) || de.Actual != sha256Of(wrong) {
		t.Errorf("DigestError %+v", de)
	}
	if !strings.Contains(err.Error(), srv.url()) {
		t.Errorf("error %q does not name the URL", err)
	}
	if gets, _, _ := srv.counts(); gets != 1 {
		t.Errorf("server saw %d GETs, want 1 (no retry on a digest mismatch)", gets)
	}
	assertFile(t, dest, good)
	assertNoPart(t, dest)
}

func TestFetchCached(t *testing.T) {
	body := testBytes(testSize, 11)
	tests := []struct {
		name     string
		existing []byte
		size     int64
		want     Status
		wantGets int
	}{
		{"right bytes", body, testSize, StatusCached, 0},
		{"right bytes size unknown", body, -1, StatusCached, 0},
		{"wrong bytes same size", testBytes(testSize, 12), testSize, StatusDownloaded, 1},
		{"truncated", body[:100], testSize, StatusDownloaded, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newTestServer(t, body)
			dest := filepath.Join(t.TempDir(), "disk.qcow2")
			if err := os.WriteFile(dest, tt.existing, 0o644); err != nil {
				t.Fatal(err)
			}
			res, err := testClient(Options{}).Fetch(testContext(t), Request{URL: srv.url(), Dest: dest, Part: partOf(dest), Digest: sha256Of(body), Size: tt.size}, nil)
			if err != nil {
				t.Fatal(err)
			}
			if res.Status != tt.want || res.Size != testSize || res.Path != dest {
				t.Errorf("result %+v, want status %v", res, tt.want)
			}
			if gets, heads, _ := srv.counts(); gets != tt.wantGets || heads != 0 {
				t.Errorf("server saw %d GETs %d HEADs, want %d and 0", gets, heads, tt.wantGets)
			}
			assertFile(t, dest, body)
		})
	}
}

func TestFetchStallIsRetried(t *testing.T) {
	body := testBytes(testSize, 13)
	srv := newTestServer(t, body)
	srv.faults = []fault{{stallAfter: testSize / 2, stallFor: 20 * time.Second}}
	dest := filepath.Join(t.TempDir(), "disk.qcow2")
	c := testClient(Options{StallTimeout: 200 * time.Millisecond})
	var pl progressLog
	start := time.Now()
	res, err := c.Fetch(testContext(t), Request{URL: srv.url(), Dest: dest, Part: partOf(dest), Digest: sha256Of(body), Size: testSize}, pl.add)
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("took %v: the stall was not cut short", d)
	}
	assertFile(t, dest, body)
	log := srv.log()
	if len(log) != 2 || log[1].rangeHdr != "bytes=131072-" {
		t.Errorf("GETs %+v, want a second GET resuming at 131072", log)
	}
	if res.Transferred != testSize {
		t.Errorf("Transferred %d, want %d", res.Transferred, testSize)
	}
	stalled := false
	for _, p := range pl.all() {
		stalled = stalled || (p.Phase == PhaseRetrying && errors.Is(p.Err, ErrStalled))
	}
	if !stalled {
		t.Errorf("no retrying progress with ErrStalled")
	}
}

func TestFetchHTTPStatus(t *testing.T) {
	body := testBytes(4096, 14)
	tests := []struct {
		name      string
		faults    []fault
		forever   *fault
		wantGets  int
		wantCode  int // 0: success
		minTime   time.Duration
		wantGivUp bool
	}{
		{"404 fails at once", nil, &fault{status: 404}, 1, 404, 0, false},
		{"403 fails at once", nil, &fault{status: 403}, 1, 403, 0, false},
		{"500 then success", []fault{{status: 500}}, nil, 2, 0, 0, false},
		{"408 then success", []fault{{status: 408}}, nil, 2, 0, 0, false},
		{"429 honours Retry-After", []fault{{status: 429, retryAfter: "1"}}, nil, 2, 0, 900 * time.Millisecond, false},
		{"503 forever gives up", nil, &fault{status: 503}, 4, 503, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newTestServer(t, body)
			srv.faults, srv.forever = tt.faults, tt.forever
			dest := filepath.Join(t.TempDir(), "disk.qcow2")
			c := testClient(Options{Retries: 3})
			start := time.Now()
			_, err := c.Fetch(testContext(t), Request{URL: srv.url(), Dest: dest, Part: partOf(dest), Digest: sha256Of(body), Size: int64(len(body))}, nil)
			gets, heads, _ := srv.counts()
			if gets != tt.wantGets || heads != 0 {
				t.Errorf("server saw %d GETs %d HEADs, want %d and 0", gets, heads, tt.wantGets)
			}
			if d := time.Since(start); d < tt.minTime {
				t.Errorf("took %v, want at least %v", d, tt.minTime)
			}
			if tt.wantCode == 0 {
				if err != nil {
					t.Fatal(err)
				}
				assertFile(t, dest, body)
				return
			}
			var se *StatusError
			if !errors.As(err, &se) || se.Code != tt.wantCode || se.URL != srv.url() || !errors.Is(err, ErrHTTPStatus) {
				t.Fatalf("err %v, want a StatusError %d", err, tt.wantCode)
			}
			if !strings.Contains(err.Error(), srv.url()) || strings.Contains(err.Error(), "gave up") != tt.wantGivUp {
				t.Errorf("error %q: want the URL named, giving up %v", err, tt.wantGivUp)
			}
			assertNoPart(t, dest)
		})
	}
}

func TestFetchSharesOneTransferPerDest(t *testing.T) {
	body := testBytes(testSize, 15)
	srv := newTestServer(t, body)
	release := make(chan struct{})
	srv.onGet = func(int) { <-release }
	c := testClient(Options{})
	dest := filepath.Join(t.TempDir(), "disk.qcow2")
	req := Request{URL: srv.url(), Dest: dest, Part: partOf(dest), Digest: sha256Of(body), Size: testSize}
	ctx := testContext(t)

	const n = 5
	var wg sync.WaitGroup
	results := make([]Result, n)
	errs := make([]error, n)
	logs := make([]progressLog, n)
	for i := range n {
		wg.Go(func() { results[i], errs[i] = c.Fetch(ctx, req, logs[i].add) })
	}
	// Hold the transfer until all five callers joined it.
	deadline := time.Now().Add(10 * time.Second)
	for {
		c.mu.Lock()
		f := c.flights[dest]
		joined := f != nil && f.refs == n
		c.mu.Unlock()
		if joined {
			break
		}
		if time.Now().After(deadline) {
			close(release)
			t.Fatal("the five calls never shared one flight")
		}
		time.Sleep(5 * time.Millisecond)
	}
	close(release)
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("call %d: %v", i, errs[i])
		}
		if results[i].Status != StatusDownloaded {
			t.Errorf("call %d: %+v", i, results[i])
		}
		if ps := logs[i].all(); len(ps) == 0 || ps[len(ps)-1].BytesDone != testSize {
			t.Errorf("call %d saw no progress to the end: %+v", i, ps)
		}
	}
	if gets, heads, _ := srv.counts(); gets != 1 || heads != 0 {
		t.Errorf("server saw %d GETs %d HEADs, want one GET", gets, heads)
	}
	assertFile(t, dest, body)
}

func TestFetchParallelLimit(t *testing.T) {
	body := testBytes(64<<10, 16)
	tests := []struct {
		name     string
		parallel int
		barrier  bool // every GET waits until all three arrived
		wantMax  int
	}{
		{"three at once", 3, true, 3},
		{"one at a time", 1, false, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newTestServer(t, body)
			if tt.barrier {
				var mu sync.Mutex
				arrived := 0
				all := make(chan struct{})
				srv.onGet = func(int) {
					mu.Lock()
					if arrived++; arrived == 3 {
						close(all)
					}
					mu.Unlock()
					select {
					case <-all:
					case <-time.After(10 * time.Second):
						t.Error("the three transfers never ran at once")
					}
				}
			} else {
				srv.delay = 30 * time.Millisecond // room for an overlap to show
			}
			c := testClient(Options{Parallel: tt.parallel})
			dir := t.TempDir()
			ctx := testContext(t)
			var wg sync.WaitGroup
			for i := range 3 {
				wg.Go(func() {
					dest := filepath.Join(dir, "disk"+strconv.Itoa(i))
					if _, err := c.Fetch(ctx, Request{URL: srv.url(), Dest: dest, Part: partOf(dest), Digest: sha256Of(body), Size: -1}, nil); err != nil {
						t.Error(err)
					}
				})
			}
			wg.Wait()
			srv.mu.Lock()
			got := srv.maxInflight
			srv.mu.Unlock()
			if got != tt.wantMax {
				t.Errorf("at most %d transfers ran at once, want %d", got, tt.wantMax)
			}
		})
	}
}

func TestSetParallelAtRunTime(t *testing.T) {
	body := testBytes(64<<10, 17)
	srv := newTestServer(t, body)
	firstIn := make(chan struct{})
	release := make(chan struct{})
	srv.onGet = func(n int) {
		if n == 1 {
			close(firstIn)
			<-release // the first transfer holds the only slot
		}
	}
	c := testClient(Options{Parallel: 1})
	dir := t.TempDir()
	ctx := testContext(t)
	var wg sync.WaitGroup
	wg.Go(func() {
		if _, err := c.Fetch(ctx, Request{URL: srv.url(), Dest: filepath.Join(dir, "a"), Part: partOf(filepath.Join(dir, "a")), Digest: sha256Of(body), Size: -1}, nil); err != nil {
			t.Error(err)
		}
	})
	<-firstIn
	waiting := make(chan struct{})
	var once sync.Once
	done := make(chan error, 1)
	go func() {
		_, err := c.Fetch(ctx, Request{URL: srv.url(), Dest: filepath.Join(dir, "b"), Part: partOf(filepath.Join(dir, "b")), Digest: sha256Of(body), Size: -1}, func(p Progress) {
			if p.Phase == PhaseWaiting {
				once.Do(func() { close(waiting) })
			}
		})
		done <- err
	}()
	<-waiting
	c.SetParallel(2)
	select {
	case err := <-done:
		if err != nil {
			t.Error(err)
		}
	case <-time.After(10 * time.Second):
		t.Error("the second transfer did not start after SetParallel(2)")
	}
	close(release)
	wg.Wait()
}

func TestFetchRateLimit(t *testing.T) {
	// The limiter starts with one burst of tokens; the rest of the file
	// must wait for the rate. Only a lower bound on time is asserted.
	const bps = 4 * copyBufferSize
	size := 3 * copyBufferSize
	minTime := time.Duration(float64(size-copyBufferSize) / bps * float64(time.Second)) // 0.5s
	body := testBytes(size, 18)
	tests := []struct {
		name string
		opts Options
		set  func(*Client)
	}{
		{"option", Options{RateLimit: bps}, func(*Client) {}},
		{"set at run time", Options{}, func(c *Client) { c.SetRateLimit(bps) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newTestServer(t, body)
			c := testClient(tt.opts)
			tt.set(c)
			dest := filepath.Join(t.TempDir(), "disk")
			start := time.Now()
			if _, err := c.Fetch(testContext(t), Request{URL: srv.url(), Dest: dest, Part: partOf(dest), Digest: sha256Of(body), Size: int64(size)}, nil); err != nil {
				t.Fatal(err)
			}
			if d := time.Since(start); d < minTime*8/10 {
				t.Errorf("took %v at %d B/s, want at least %v", d, bps, minTime*8/10)
			}
			assertFile(t, dest, body)
		})
	}
}

func TestFetchInsufficientSpace(t *testing.T) {
	const half = testSize / 2
	body := testBytes(testSize, 19)
	tests := []struct {
		name     string
		free     int64
		extra    int64
		size     int64
		part     bool // half the file is already there
		wantErr  bool
		wantGets int
	}{
		{"too small", testSize - 1, 0, testSize, false, true, 0},
		{"extra space counts", testSize + 10, 100, testSize, false, true, 0},
		{"only the rest is needed", half + 10, 0, testSize, true, false, 1},
		{"enough", testSize, 0, testSize, false, false, 1},
		{"size unknown: checked on the response", testSize - 1, 0, -1, false, true, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newTestServer(t, body)
			dest := filepath.Join(t.TempDir(), "disk.qcow2")
			if tt.part {
				writePart(t, dest, body[:half], &sidecar{URL: srv.url(), Validator: `"v1"`, Size: testSize, Digest: sha256Of(body)})
			}
			var asked string
			c := testClient(Options{FreeSpace: func(dir string) (int64, error) { asked = dir; return tt.free, nil }})
			_, err := c.Fetch(testContext(t), Request{URL: srv.url(), Dest: dest, Part: partOf(dest), Digest: sha256Of(body), Size: tt.size, ExtraSpace: tt.extra}, nil)
			gets, _, sent := srv.counts()
			if gets != tt.wantGets {
				t.Errorf("server saw %d GETs, want %d", gets, tt.wantGets)
			}
			if asked != filepath.Dir(dest) {
				t.Errorf("free space asked for %q, want %q", asked, filepath.Dir(dest))
			}
			if !tt.wantErr {
				if err != nil {
					t.Fatal(err)
				}
				assertFile(t, dest, body)
				return
			}
			if !errors.Is(err, ErrInsufficientSpace) {
				t.Fatalf("err %v, want ErrInsufficientSpace", err)
			}
			var se *SpaceError
			if !errors.As(err, &se) || se.Free != tt.free || !strings.Contains(err.Error(), "need ") || !strings.Contains(err.Error(), " free") {
				t.Errorf("error %q (%+v): want need and free named", err, se)
			}
			if sent > 0 && tt.size >= 0 {
				t.Errorf("server sent %d bytes", sent)
			}
			if fileSize(func() string { p, _ := partPaths(dest); return p }()) != 0 {
				t.Errorf("bytes were written")
			}
		})
	}
}

func TestFetchCancelKeepsPartForResume(t *testing.T) {
	const half = testSize / 2
	body := testBytes(testSize, 20)
	srv := newTestServer(t, body)
	gate := make(chan struct{})
	defer close(gate)
	srv.faults = []fault{{stallAfter: half, stallFor: time.Minute, gate: gate}}
	dest := filepath.Join(t.TempDir(), "disk.qcow2")
	c := testClient(Options{})
	req := Request{URL: srv.url(), Dest: dest, Part: partOf(dest), Digest: sha256Of(body), Size: testSize}

	ctx, cancel := context.WithCancel(testContext(t))
	var cancelled time.Time
	_, err := c.Fetch(ctx, req, func(p Progress) {
		if p.Phase == PhaseDownloading && p.BytesDone == half && cancelled.IsZero() {
			cancelled = time.Now()
			cancel()
		}
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v, want context.Canceled", err)
	}
	if d := time.Since(cancelled); d > 2*time.Second {
		t.Errorf("Fetch returned %v after cancel", d)
	}
	part, side := partPaths(dest)
	if n := fileSize(part); n != half {
		t.Fatalf("part holds %d bytes, want %d", n, half)
	}
	if sc, ok := readSidecar(side); !ok || sc.Validator != `"v1"` || sc.URL != srv.url() {
		t.Fatalf("sidecar %+v %v", sc, ok)
	}
	if _, err := os.Stat(dest); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("dest exists after cancel")
	}

	res, err := c.Fetch(testContext(t), req, nil)
	if err != nil {
		t.Fatal(err)
	}
	assertFile(t, dest, body)
	if res.Resumed != half || res.Transferred != half {
		t.Errorf("Resumed %d Transferred %d, want %d each", res.Resumed, res.Transferred, half)
	}
	if log := srv.log(); len(log) != 2 || log[1].rangeHdr != "bytes=131072-" {
		t.Errorf("GETs %+v, want the second to resume at 131072", log)
	}
}

func TestFetchCancelOneOfTwoCallers(t *testing.T) {
	body := testBytes(testSize, 21)
	srv := newTestServer(t, body)
	release := make(chan struct{})
	srv.onGet = func(int) { <-release }
	c := testClient(Options{})
	dest := filepath.Join(t.TempDir(), "disk.qcow2")
	req := Request{URL: srv.url(), Dest: dest, Part: partOf(dest), Digest: sha256Of(body), Size: testSize}

	ctx1, cancel1 := context.WithCancel(testContext(t))
	first := make(chan error, 1)
	go func() { _, err := c.Fetch(ctx1, req, nil); first <- err }()
	second := make(chan error, 1)
	go func() { _, err := c.Fetch(testContext(t), req, nil); second <- err }()
	for {
		c.mu.Lock()
		f := c.flights[dest]
		joined := f != nil && f.refs == 2
		c.mu.Unlock()
		if joined {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel1()
	if err := <-first; !errors.Is(err, context.Canceled) {
		t.Errorf("first caller: %v, want context.Canceled", err)
	}
	close(release)
	if err := <-second; err != nil {
		t.Errorf("second caller: %v (the transfer must go on for it)", err)
	}
	assertFile(t, dest, body)
}

func TestFetchSmall(t *testing.T) {
	doc := []byte("abc123  disk.qcow2\n")
	tests := []struct {
		name     string
		faults   []fault
		forever  *fault
		limit    int64
		chunked  bool
		wantErr  error
		wantGets int
	}{
		{"ok", nil, nil, 1024, false, nil, 1},
		{"exactly the cap", nil, nil, int64(len(doc)), false, nil, 1},
		{"too large by Content-Length", nil, nil, 5, false, ErrTooLarge, 1},
		{"too large chunked", nil, nil, 5, true, ErrTooLarge, 1},
		{"500 then ok", []fault{{status: 500}}, nil, 1024, false, nil, 2},
		{"404", nil, &fault{status: 404}, 1024, false, ErrHTTPStatus, 1},
		{"503 forever", nil, &fault{status: 503}, 1024, false, ErrHTTPStatus, 3},
		{"dropped then ok", []fault{{dropAfter: 3}}, nil, 1024, false, nil, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newTestServer(t, doc)
			srv.faults, srv.forever = tt.faults, tt.forever
			url := srv.url()
			if tt.chunked {
				// No Content-Length: the cap must hold while reading.
				chunked := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
					w.Write(doc[:4])
					w.(http.Flusher).Flush()
					w.Write(doc[4:])
				}))
				t.Cleanup(chunked.Close)
				url = chunked.URL + "/SHA256SUMS"
			}
			c := testClient(Options{Retries: 2, UserAgent: "vmimages/small"})
			b, err := c.FetchSmall(testContext(t), url, tt.limit)
			if gets, _, _ := srv.counts(); !tt.chunked && gets != tt.wantGets {
				t.Errorf("server saw %d GETs, want %d", gets, tt.wantGets)
			}
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) || !strings.Contains(err.Error(), url) {
					t.Fatalf("err %v, want %v naming the URL", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(b, doc) {
				t.Errorf("got %q, want %q", b, doc)
			}
			if log := srv.log(); log[0].userAgent != "vmimages/small" {
				t.Errorf("User-Agent %q", log[0].userAgent)
			}
		})
	}
}

func TestDefaultBackoff(t *testing.T) {
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second, 30 * time.Second, 30 * time.Second, 30 * time.Second}
	for i, w := range want {
		if got := DefaultBackoff(i + 1); got != w {
			t.Errorf("DefaultBackoff(%d) = %v, want %v", i+1, got, w)
		}
	}
	if got := DefaultBackoff(100); got != 30*time.Second {
		t.Errorf("DefaultBackoff(100) = %v", got)
	}
}

func TestParseContentRange(t *testing.T) {
	tests := []struct {
		in                 string
		first, last, total int64
		ok                 bool
	}{
		{"bytes 100-199/200", 100, 199, 200, true},
		{"bytes 0-0/*", 0, 0, -1, true},
		{"bytes 100-199/150", 0, 0, 0, false},
		{"bytes 200-100/300", 0, 0, 0, false},
		{"bytes */200", 0, 0, 0, false},
		{"items 1-2/3", 0, 0, 0, false},
		{"", 0, 0, 0, false},
		{"bytes -1-5/10", 0, 0, 0, false},
	}
	for _, tt := range tests {
		first, last, total, ok := parseContentRange(tt.in)
		if ok != tt.ok || (ok && (first != tt.first || last != tt.last || total != tt.total)) {
			t.Errorf("parseContentRange(%q) = %d %d %d %v", tt.in, first, last, total, ok)
		}
	}
}

func sha512Hex(b []byte) string {
	sum := sha512.Sum512(b)
	return hex.EncodeToString(sum[:])
}

// grab asks with HEAD before it resumes; a failed HEAD must cost one attempt,
// not the download.
func TestFetchHeadFailureIsRetried(t *testing.T) {
	const half = testSize / 2
	body := testBytes(testSize, 22)
	srv := newTestServer(t, body)
	srv.dropHeads = 1
	dest := filepath.Join(t.TempDir(), "disk.qcow2")
	writePart(t, dest, body[:half], &sidecar{URL: srv.url(), Validator: `"v1"`, Size: testSize, Digest: sha256Of(body)})
	res, err := testClient(Options{}).Fetch(testContext(t), Request{URL: srv.url(), Dest: dest, Part: partOf(dest), Digest: sha256Of(body), Size: testSize}, nil)
	if err != nil {
		t.Fatal(err)
	}
	assertFile(t, dest, body)
	gets, heads, _ := srv.counts()
	if gets != 1 || heads != 2 || srv.log()[0].rangeHdr != "bytes=131072-" {
		t.Errorf("%d GETs %d HEADs %+v, want two HEADs and one ranged GET", gets, heads, srv.log())
	}
	if res.Transferred != half || res.Resumed != half {
		t.Errorf("Transferred %d Resumed %d, want %d each", res.Transferred, res.Resumed, half)
	}
}

func TestNewTransport(t *testing.T) {
	tr := NewTransport()
	if !tr.DisableCompression || !tr.ForceAttemptHTTP2 || tr.Proxy == nil || tr.DialContext == nil ||
		tr.TLSHandshakeTimeout == 0 || tr.ResponseHeaderTimeout == 0 {
		t.Errorf("transport %+v", tr)
	}
}

func TestFreeSpace(t *testing.T) {
	n, err := freeSpace(t.TempDir())
	if err != nil || n <= 0 {
		t.Errorf("freeSpace = %d, %v", n, err)
	}
}

func TestFetchSmallRetriesAreBounded(t *testing.T) {
	srv := newTestServer(t, []byte("x"))
	srv.forever = &fault{status: 503}
	c := testClient(Options{Retries: 10})
	_, err := c.FetchSmall(testContext(t), srv.url(), 1024)
	if !errors.Is(err, ErrHTTPStatus) {
		t.Fatalf("err %v", err)
	}
	if gets, _, _ := srv.counts(); gets != maxSmallRetries+1 {
		t.Errorf("server saw %d GETs, want %d: small documents give up sooner than transfers", gets, maxSmallRetries+1)
	}
}

func TestFetchSmallRetryNotice(t *testing.T) {
	srv := newTestServer(t, []byte("x"))
	srv.faults = []fault{{status: 503}, {status: 502}}
	var causes []string
	ctx := WithRetryNotice(testContext(t), func(err error) { causes = append(causes, err.Error()) })
	if _, err := testClient(Options{Retries: 3}).FetchSmall(ctx, srv.url(), 1024); err != nil {
		t.Fatal(err)
	}
	if len(causes) != 2 || !strings.Contains(causes[0], "503") || !strings.Contains(causes[1], "502") {
		t.Errorf("retry notices = %q, want the 503 then the 502", causes)
	}
}

// partOf is where these tests keep a transfer in flight for dest, in the
// layout the cache uses: dest's folder's .partial/<name>.part.
func partOf(dest string) string {
	return filepath.Join(filepath.Dir(dest), ".partial", filepath.Base(dest)+".part")
}

// partPaths returns partOf(dest) and its sidecar.
func partPaths(dest string) (part, side string) {
	part = partOf(dest)
	return part, part + ".json"
}

// TestSmallDocumentsHaveADeadline: the README promises two minutes.
func TestSmallDocumentsHaveADeadline(t *testing.T) {
	if got := New(Options{}).opts.SmallTimeout; got != 2*time.Minute {
		t.Errorf("default small-document deadline %s, want 2m", got)
	}
}

// TestResumeSourceRefusedByPolicy: a part whose recorded source the URL
// policy now refuses is not resumed from there (nothing is sent to it); the
// file is fetched again from zero from the URL asked for.
func TestResumeSourceRefusedByPolicy(t *testing.T) {
	const half = testSize / 2
	body := testBytes(testSize, 11)
	srv := newTestServer(t, body)
	old := newTestServer(t, body) // where the part once came from
	dest := filepath.Join(t.TempDir(), "disk.qcow2")
	writePart(t, dest, body[:half], &sidecar{URL: srv.url(), Source: old.url(), Validator: `"v1"`, Size: testSize, Digest: sha256Of(body)})
	ctx := WithURLPolicy(testContext(t), func(u *url.URL) error {
		if u.Host == old.Listener.Addr().String() {
			return errors.New("refused")
		}
		return nil
	})
	res, err := testClient(Options{}).Fetch(ctx, Request{URL: srv.url(), Dest: dest, Part: partOf(dest), Digest: sha256Of(body), Size: testSize}, nil)
	if err != nil {
		t.Fatal(err)
	}
	assertFile(t, dest, body)
	if n := len(old.log()); n != 0 {
		t.Errorf("the refused source got %d requests", n)
	}
	if log := srv.log(); len(log) != 1 || log[0].rangeHdr != "" || res.FinalURL != srv.url() {
		t.Errorf("want one whole GET from the URL asked for; log %+v, result %+v", log, res)
	}
}
