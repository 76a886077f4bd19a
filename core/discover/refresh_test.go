package discover_test

import (
	"vmimages/internal/mirrortest"

	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"vmimages/core/catalog"
	"vmimages/core/discover"
)

// httpFetcher is a plain net/http catalog.Fetcher that records the cap
// asked for each URL.
type httpFetcher = mirrortest.Fetcher

var _ catalog.Fetcher = (*httpFetcher)(nil)

var errStatus = mirrortest.ErrStatus

// upstream is a loopback stand-in for the distributions' servers.
type upstream struct {
	*httptest.Server
	fetcher *httpFetcher
	mu      sync.Mutex
	hits    map[string]int
}

// Paths the loopback server answers, and the testdata file for each; "" is a
// 500. The products file keeps its real name, which has colons, on the
// wire only.
var upstreamFiles = map[string]string{
	"/ubuntu/releases/streams/v1/index.json":                              "index.json",
	"/ubuntu/releases/streams/v1/com.ubuntu.cloud:released:download.json": "com.ubuntu.cloud-released-download.json",
	"/fedoraproject/releases.json":                                        "releases.json",
	"/fedora/linux/releases/":                                             "listing-fedora.html",
	"/alpine/":                                                            "listing-alpine.html",
	"/rocky/":                                                             "listing-rocky.html",
	"/almalinux/":                                                         "",
}

func newUpstream(t *testing.T, files map[string]string) *upstream {
	t.Helper()
	u := &upstream{hits: map[string]int{}}
	u.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u.mu.Lock()
		u.hits[r.URL.Path]++
		u.mu.Unlock()
		name, ok := files[r.URL.Path]
		switch {
		case !ok:
			t.Errorf("unexpected request for %s", r.URL.Path)
			http.NotFound(w, r)
		case name == "":
			http.Error(w, "upstream broke", http.StatusInternalServerError)
		default:
			w.Write(readTestdata(t, name))
		}
	}))
	t.Cleanup(u.Close)
	u.fetcher = &httpFetcher{Client: u.Client()}
	return u
}

func (u *upstream) hitCount(path string) int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.hits[path]
}

// catalogAt is the shipped catalog with its bases moved to the loopback
// server.
func catalogAt(t *testing.T, u *upstream) *catalog.Catalog {
	t.Helper()
	cat, err := catalog.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	for id, dir := range map[string]string{
		"ubuntu": "/ubuntu/releases/", "fedora": "/fedora/linux/releases/", "alpine": "/alpine/",
		"rocky": "/rocky/", "almalinux": "/almalinux/",
	} {
		if err := cat.SetBase(id, u.URL+dir); err != nil {
			t.Fatal(err)
		}
	}
	return cat
}

// loopbackOptions treat the loopback Fedora base as the origin, so that
// releases.json is read.
func loopbackOptions(u *upstream) discover.Options {
	return discover.Options{
		FedoraReleasesURL: u.URL + "/fedoraproject/releases.json",
		FedoraOrigin:      u.URL + "/fedora/linux/releases/",
	}
}

// summary writes a Found compactly for comparison.
func summary(f discover.Found) string {
	sup := "?"
	if f.Supported != nil {
		sup = fmt.Sprint(*f.Supported)
	}
	return fmt.Sprintf("%s %s sup=%s eol=%s %v build=%s", f.Version, f.Codename, sup, f.EOL, f.Arches, f.LatestBuild)
}

func TestRefresh(t *testing.T) {
	u := newUpstream(t, upstreamFiles)
	cat := catalogAt(t, u)
	now := time.Date(2026, 10, 20, 12, 0, 0, 0, time.UTC)

	snap, errs := loopbackOptions(u).Refresh(context.Background(), u.fetcher, cat, now)

	// AlmaLinux answers 500: its error is collected, the others go on.
	if len(errs) != 1 {
		t.Fatalf("errors = %v; want one, for almalinux", errs)
	}
	var se *discover.SourceError
	if !errors.As(errs[0], &se) || se.Distro != "almalinux" || se.URL != u.URL+"/almalinux/" || !errors.Is(errs[0], errStatus) {
		t.Fatalf("error = %v; want a SourceError for almalinux at %s/almalinux/ wrapping the status", errs[0], u.URL)
	}
	if !snap.Taken.Equal(now) {
		t.Errorf("Taken = %v, want %v", snap.Taken, now)
	}
	if _, ok := snap.Distros["almalinux"]; ok {
		t.Error("the failed distro is in the snapshot")
	}

	tests := []struct {
		distro string
		want   []string
	}{
		// 20.04 has only amd64, 26.04 also amd64v3 and s390x: the
		// catalog's ubuntu entry spells x86_64, aarch64, ppc64le, s390x,
		// riscv64, and no amd64v3.
		{"ubuntu", []string{
			"20.04 focal sup=false eol=2025-05-29 [x86_64] build=20250624",
			"22.04 jammy sup=true eol=2027-06-01 [aarch64 x86_64] build=20260705",
			"24.04 noble sup=true eol=2029-05-31 [aarch64 riscv64 x86_64] build=20260705.1",
			"25.10 questing sup=false eol=2026-07-09 [aarch64 x86_64] build=20260703",
			"26.04 resolute sup=true eol=2031-05-29 [aarch64 s390x x86_64] build=20260801",
			"26.10 stonking sup=true eol=2027-07-01 [aarch64 x86_64] build=20261015",
		}},
		// The catalog's fedora entry has x86_64 and aarch64 only.
		{"fedora", []string{
			"40  sup=true eol= [aarch64] build=1.14",
			"43  sup=true eol= [aarch64 x86_64] build=1.6",
			"44  sup=true eol= [aarch64 x86_64] build=1.7",
			"45  sup=true eol= [aarch64 x86_64] build=1.3",
		}},
		{"alpine", []string{
			"2.7  sup=? eol= [] build=", "3.9  sup=? eol= [] build=", "3.20  sup=? eol= [] build=",
			"3.21  sup=? eol= [] build=", "3.22  sup=? eol= [] build=", "3.23  sup=? eol= [] build=",
			"3.24  sup=? eol= [] build=",
		}},
		// Rocky's pub/ holds only supported majors (old ones move to vault/).
		{"rocky", []string{"8  sup=true eol= [] build=", "9  sup=true eol= [] build=", "10  sup=true eol= [] build="}},
	}
	for _, tt := range tests {
		var got []string
		for _, f := range snap.Distros[tt.distro] {
			got = append(got, summary(f))
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("%s:\n got %q\nwant %q", tt.distro, got, tt.want)
		}
	}
	if len(snap.Distros) != len(tests) {
		t.Errorf("snapshot has %d distros, want %d", len(snap.Distros), len(tests))
	}

	// Everything fetched is capped; the products file may be large.
	products := u.URL + "/ubuntu/releases/streams/v1/com.ubuntu.cloud:released:download.json"
	if got := u.fetcher.Caps()[products]; got != 64<<20 {
		t.Errorf("products cap = %d, want 64 MiB", got)
	}
	for url, c := range u.fetcher.Caps() {
		if c <= 0 || c > 64<<20 {
			t.Errorf("%s fetched with cap %d", url, c)
		}
	}
	if n := u.hitCount("/fedora/linux/releases/"); n != 0 {
		t.Errorf("fedora listing read %d times without a mirror", n)
	}
}

// With a Fedora mirror, releases.json (which lives on fedoraproject.org and
// names the origin) is not read: the mirror's own listing is.
func TestRefreshFedoraMirror(t *testing.T) {
	u := newUpstream(t, upstreamFiles)
	cat := catalogAt(t, u)
	opts := discover.Options{FedoraReleasesURL: u.URL + "/fedoraproject/releases.json"} // origin: the real one

	snap, errs := opts.Refresh(context.Background(), u.fetcher, cat, time.Now())

	if len(errs) != 1 { // almalinux
		t.Fatalf("errors = %v; want only almalinux's", errs)
	}
	var got []string
	for _, f := range snap.Distros["fedora"] {
		got = append(got, summary(f))
	}
	want := []string{
		"42  sup=? eol= [] build=", "43  sup=? eol= [] build=", "44  sup=? eol= [] build=", "45  sup=? eol= [] build=",
	}
	if !slices.Equal(got, want) {
		t.Errorf("fedora from the mirror listing:\n got %q\nwant %q", got, want)
	}
	if n := u.hitCount("/fedoraproject/releases.json"); n != 0 {
		t.Errorf("releases.json read %d times behind a mirror", n)
	}
}

// A document that parses but names no release is an error, not an empty
// answer: a mirror's error page or a changed layout must not look like
// "nothing upstream".
func TestRefreshNothingFound(t *testing.T) {
	files := map[string]string{
		"/ubuntu/releases/streams/v1/index.json":                              "index.json",
		"/ubuntu/releases/streams/v1/com.ubuntu.cloud:released:download.json": "index.json", // no products
		"/fedoraproject/releases.json":                                        "listing-alpine.html",
		"/alpine/":                                                            "listing-rocky.html",  // no vM.m/
		"/rocky/":                                                             "listing-alpine.html", // no M/
		"/almalinux/":                                                         "listing-rocky.html",
	}
	u := newUpstream(t, files)
	snap, errs := loopbackOptions(u).Refresh(context.Background(), u.fetcher, catalogAt(t, u), time.Now())

	want := map[string]error{
		"ubuntu": discover.ErrFormat, "fedora": discover.ErrFormat,
		"alpine": discover.ErrNoReleases, "rocky": discover.ErrNoReleases,
	}
	if len(errs) != len(want) {
		t.Fatalf("errors = %v; want %d", errs, len(want))
	}
	for _, err := range errs {
		var se *discover.SourceError
		if !errors.As(err, &se) || !errors.Is(err, want[se.Distro]) {
			t.Errorf("error %v; want a SourceError wrapping %v", err, want[se.Distro])
		}
	}
	if got := snap.Distros["almalinux"]; len(got) != 3 {
		t.Errorf("almalinux = %+v; want 8, 9, 10", got)
	}
}

func TestRefreshCancelled(t *testing.T) {
	u := newUpstream(t, map[string]string{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	snap, errs := loopbackOptions(u).Refresh(ctx, u.fetcher, catalogAt(t, u), time.Now())
	if len(errs) != 5 {
		t.Fatalf("errors = %v; want one per distro", errs)
	}
	for _, err := range errs {
		if !errors.Is(err, context.Canceled) {
			t.Errorf("error %v does not wrap context.Canceled", err)
		}
	}
	if snap == nil || len(snap.Distros) != 0 {
		t.Errorf("snapshot = %+v; want an empty one", snap)
	}
}

// recordingFetcher fails every fetch and records what was asked for.
type recordingFetcher struct {
	mu   sync.Mutex
	urls []string
}

func (f *recordingFetcher) FetchSmall(_ context.Context, url string, _ int64) ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.urls = append(f.urls, url)
	return nil, errStatus
}

// With the shipped catalog and no options, Refresh reads the upstreams'
// own documents. Nothing is fetched: the fetcher only records.
func TestRefreshDefaultURLs(t *testing.T) {
	f := &recordingFetcher{}
	_, errs := discover.Refresh(context.Background(), f, embedded(t), time.Now())
	if len(errs) != 5 {
		t.Errorf("errors = %v; want one per distro", errs)
	}
	slices.Sort(f.urls)
	want := []string{
		"https://cloud-images.ubuntu.com/releases/streams/v1/index.json",
		"https://dl-cdn.alpinelinux.org/alpine/",
		"https://dl.rockylinux.org/pub/rocky/",
		"https://fedoraproject.org/releases.json",
		"https://repo.almalinux.org/almalinux/",
	}
	if !slices.Equal(f.urls, want) {
		t.Errorf("fetched\n %q\nwant\n %q", f.urls, want)
	}
}
