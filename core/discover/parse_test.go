package discover_test

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"vmimages/core/discover"
)

// The files under testdata keep the upstreams' structure, trimmed: Ubuntu's
// simplestreams index and released download stream, Fedora's releases.json
// and Apache autoindex pages of the base directories. Product headers and
// the Fedora 40 and 44 x86_64 entries are real; the other digests and the
// 26.10 and Fedora 45 releases are made up for the tests.

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseIndex(t *testing.T) {
	tests := []struct {
		name    string
		doc     string
		want    string
		wantErr bool
	}{
		{name: "testdata", doc: string(readTestdata(t, "index.json")),
			want: "streams/v1/com.ubuntu.cloud:released:download.json"},
		{name: "prefers released download", doc: `{"index": {
			"a:daily:download": {"datatype": "image-downloads", "path": "streams/v1/a:daily:download.json"},
			"com.ubuntu.cloud:released:download": {"datatype": "image-downloads", "path": "streams/v1/com.ubuntu.cloud:released:download.json"}}}`,
			want: "streams/v1/com.ubuntu.cloud:released:download.json"},
		{name: "first image-downloads otherwise", doc: `{"index": {
			"z": {"datatype": "image-downloads", "path": "streams/v1/z.json"},
			"b": {"datatype": "image-downloads", "path": "streams/v1/b.json"},
			"a": {"datatype": "image-ids", "path": "streams/v1/a.json"}}}`,
			want: "streams/v1/b.json"},
		// multipass's test index carries these inside "index".
		{name: "non-object entries", doc: `{"index": {"updated": "Thu, 18 May 2017 12:08:59 +0000", "format": "index:1.0",
			"com.ubuntu.cloud:released:download": {"datatype": "image-downloads", "path": "streams/v1/x.json"}}}`,
			want: "streams/v1/x.json"},
		{name: "no image-downloads", doc: `{"index": {"a": {"datatype": "image-ids", "path": "streams/v1/a.json"}}}`, wantErr: true},
		{name: "no index", doc: `{"format": "index:1.0"}`, wantErr: true},
		{name: "not json", doc: `<html>503</html>`, wantErr: true},
		{name: "absolute path", doc: `{"index": {"d": {"datatype": "image-downloads", "path": "/etc/passwd"}}}`, wantErr: true},
		{name: "parent path", doc: `{"index": {"d": {"datatype": "image-downloads", "path": "streams/../../x.json"}}}`, wantErr: true},
		{name: "other host", doc: `{"index": {"d": {"datatype": "image-downloads", "path": "https://evil.example/x.json"}}}`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := discover.ParseIndex([]byte(tt.doc))
			if tt.wantErr {
				if !errors.Is(err, discover.ErrFormat) {
					t.Fatalf("ParseIndex = %q, %v; want an ErrFormat", got, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseIndex = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestParseUbuntuProductsTestdata(t *testing.T) {
	ps, err := discover.ParseUbuntuProducts(readTestdata(t, "com.ubuntu.cloud-released-download.json"))
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	byKey := map[string]discover.UbuntuProduct{}
	for _, p := range ps {
		k := p.Version + ":" + p.Arch
		keys = append(keys, k)
		byKey[k] = p
	}
	// Sorted by version then arch; the minimal product is not there.
	wantKeys := []string{
		"20.04:x86_64",
		"22.04:aarch64", "22.04:x86_64",
		"24.04:aarch64", "24.04:riscv64", "24.04:x86_64",
		"25.10:aarch64", "25.10:x86_64",
		"26.04:aarch64", "26.04:amd64v3", "26.04:s390x", "26.04:x86_64",
		"26.10:aarch64", "26.10:x86_64",
	}
	if !slices.Equal(keys, wantKeys) {
		t.Fatalf("products\n got %q\nwant %q", keys, wantKeys)
	}
	tests := []struct {
		key  string
		want discover.UbuntuProduct
	}{
		{"26.10:x86_64", discover.UbuntuProduct{
			Version: "26.10", Codename: "stonking", Arch: "x86_64", Supported: true, EOL: "2027-07-01",
			// 20261016 is newer but has no disk1.img yet.
			Serial: "20261015",
			Disk: discover.UbuntuItem{
				Path:   "server/releases/stonking/release-20261015/ubuntu-26.10-server-cloudimg-amd64.img",
				SHA256: "9ff35c91de2b3e043f85bb1b289bcd011430ce57f0b0ae27a6f63940b328d7bc",
				Size:   600001015,
			},
		}},
		{"24.04:aarch64", discover.UbuntuProduct{
			Version: "24.04", Codename: "noble", Arch: "aarch64", Supported: true, EOL: "2029-05-31",
			Serial: "20260705.1", // a respin sorts after its day
			Disk: discover.UbuntuItem{
				Path:   "server/releases/noble/release-20260705.1/ubuntu-24.04-server-cloudimg-arm64.img",
				SHA256: "8d3c02c62417235f49dea59f370e048104aed8d1843a427ad45864e34ec0c063",
				Size:   600000051,
			},
		}},
	}
	for _, tt := range tests {
		if got := byKey[tt.key]; got != tt.want {
			t.Errorf("%s:\n got %+v\nwant %+v", tt.key, got, tt.want)
		}
	}
	if p := byKey["25.10:x86_64"]; p.Supported || p.Codename != "questing" || p.EOL != "2026-07-09" || p.Serial != "20260703" {
		t.Errorf("25.10 = %+v; want unsupported questing, EOL 2026-07-09, serial 20260703", p)
	}
	if p := byKey["26.04:amd64v3"]; p.Serial != "20260801" || !strings.HasSuffix(p.Disk.Path, "-amd64v3.img") {
		t.Errorf("26.04 amd64v3 = %+v; want its own product, serial 20260801", p)
	}
}

func TestParseUbuntuProducts(t *testing.T) {
	const disk = `"items": {"disk1.img": {"path": "server/releases/x/release-20260101/x.img", "sha256": "ab", "size": 5}}`
	tests := []struct {
		name    string
		doc     string
		want    []string // version:arch:codename:serial
		wantErr bool
	}{
		{name: "empty products", doc: `{"products": {}}`},
		{name: "only other streams", doc: `{"products": {
			"com.ubuntu.cloud:minimal:24.04:amd64": {"version": "24.04", "arch": "amd64", "versions": {"20260101": {` + disk + `}}},
			"com.ubuntu.cloud.daily:server:26.10:amd64": {"version": "26.10", "arch": "amd64", "versions": {"20260101": {` + disk + `}}},
			"com.ubuntu.cloud:server:24.04": {"version": "24.04", "arch": "amd64", "versions": {"20260101": {` + disk + `}}}}}`},
		{name: "fields from key", doc: `{"products": {
			"com.ubuntu.cloud:server:26.10:arm64": {"release": "stonking", "versions": {"20260101": {` + disk + `}}}}}`,
			want: []string{"26.10:aarch64:stonking:20260101"}},
		{name: "key and fields disagree", doc: `{"products": {
			"com.ubuntu.cloud:server:26.10:arm64": {"version": "26.04", "arch": "arm64", "versions": {"20260101": {` + disk + `}}}}}`},
		{name: "bad codename", doc: `{"products": {
			"com.ubuntu.cloud:server:26.10:arm64": {"release": "Stonking Stingray", "versions": {"20260101": {` + disk + `}}}}}`},
		{name: "bad version", doc: `{"products": {
			"com.ubuntu.cloud:server:devel:arm64": {"versions": {"20260101": {` + disk + `}}}}}`},
		{name: "no disk item", doc: `{"products": {
			"com.ubuntu.cloud:server:26.10:arm64": {"versions": {"20260101": {"items": {"root.tar.xz": {"path": "a/b.tar.xz"}}}}}}}`},
		{name: "disk path leaves the mirror", doc: `{"products": {
			"com.ubuntu.cloud:server:26.10:arm64": {"versions": {"20260101": {"items": {"disk1.img": {"path": "../../x.img"}}}}}}}`},
		{name: "serials by number", doc: `{"products": {
			"com.ubuntu.cloud:server:26.10:amd64": {"versions": {"20260101.9": {` + disk + `}, "20260101.10": {` + disk + `}, "2026010": {` + disk + `}}}}}`,
			want: []string{"26.10:x86_64::20260101.10"}},
		{name: "broken product beside good ones", doc: `{"products": {
			"com.ubuntu.cloud:server:26.04:amd64": {"versions": "yes"},
			"com.ubuntu.cloud:server:26.10:amd64": {"versions": {"20260101": {` + disk + `}}}}}`,
			want: []string{"26.10:x86_64::20260101"}},
		{name: "only broken products", doc: `{"products": {"com.ubuntu.cloud:server:26.04:amd64": {"supported": "yes"}}}`, wantErr: true},
		{name: "no products", doc: `{"index": {}}`, wantErr: true},
		{name: "products not an object", doc: `{"products": []}`, wantErr: true},
		{name: "not json", doc: `-----BEGIN PGP SIGNED MESSAGE-----`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ps, err := discover.ParseUbuntuProducts([]byte(tt.doc))
			if tt.wantErr {
				if !errors.Is(err, discover.ErrFormat) {
					t.Fatalf("ParseUbuntuProducts = %+v, %v; want an ErrFormat", ps, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, p := range ps {
				got = append(got, strings.Join([]string{p.Version, p.Arch, p.Codename, p.Serial}, ":"))
			}
			if !slices.Equal(got, tt.want) {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestParseFedoraReleasesTestdata(t *testing.T) {
	rels, err := discover.ParseFedoraReleases(readTestdata(t, "releases.json"))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range rels {
		got = append(got, r.Version+":"+r.Arch+":"+r.Build)
	}
	// Betas, the UKI, EC2, raw.xz, ISO and container images are gone;
	// the secondary arches stay (Refresh drops those the catalog lacks).
	want := []string{
		"40:aarch64:1.14",
		"43:aarch64:1.6", "43:x86_64:1.6",
		"44:aarch64:1.7", "44:ppc64le:1.7", "44:s390x:1.7", "44:x86_64:1.7",
		"45:aarch64:1.3", "45:x86_64:1.3",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("releases\n got %q\nwant %q", got, want)
	}
	want44 := discover.FedoraRelease{
		Version: "44", Arch: "x86_64", Build: "1.7",
		Link:   "https://download.fedoraproject.org/pub/fedora/linux/releases/44/Cloud/x86_64/images/Fedora-Cloud-Base-Generic-44-1.7.x86_64.qcow2",
		SHA256: "28680fe5b371a5a82ebf43a31926e086a168e59949d03969c5093e7071f90b7f",
		Size:   583729152,
	}
	if rels[6] != want44 {
		t.Errorf("44 x86_64:\n got %+v\nwant %+v", rels[6], want44)
	}
}

func TestParseFedoraReleases(t *testing.T) {
	const link = "https://download.fedoraproject.org/pub/fedora/linux/releases/45/Cloud/x86_64/images/Fedora-Cloud-Base-Generic-45-1.3.x86_64.qcow2"
	entry := func(version, size string) string {
		return `{"version": "` + version + `", "arch": "x86_64", "link": "` + link + `", "variant": "Cloud", "subvariant": "Cloud_Base", "sha256": "AB", "size": ` + size + `}`
	}
	tests := []struct {
		name    string
		doc     string
		want    []discover.FedoraRelease
		wantErr bool
	}{
		{name: "empty", doc: `[]`},
		{name: "size as string", doc: `[` + entry("45", `"123"`) + `]`,
			want: []discover.FedoraRelease{{Version: "45", Arch: "x86_64", Link: link, Build: "1.3", SHA256: "ab", Size: 123}}},
		{name: "size as number", doc: `[` + entry("45", `123`) + `]`,
			want: []discover.FedoraRelease{{Version: "45", Arch: "x86_64", Link: link, Build: "1.3", SHA256: "ab", Size: 123}}},
		{name: "size missing", doc: `[` + entry("45", `null`) + `]`,
			want: []discover.FedoraRelease{{Version: "45", Arch: "x86_64", Link: link, Build: "1.3", SHA256: "ab", Size: -1}}},
		{name: "build of another version", doc: `[` + entry("44", `"1"`) + `]`,
			want: []discover.FedoraRelease{{Version: "44", Arch: "x86_64", Link: link, SHA256: "ab", Size: 1}}},
		{name: "beta and rawhide", doc: `[` + entry("45 Beta", `"1"`) + `,` + entry("Rawhide", `"1"`) + `,` + entry("", `"1"`) + `]`},
		{name: "odd elements skipped", doc: `[1, "x", null, {"version": 45}, ` + entry("45", `"7"`) + `]`,
			want: []discover.FedoraRelease{{Version: "45", Arch: "x86_64", Link: link, Build: "1.3", SHA256: "ab", Size: 7}}},
		{name: "object, not array", doc: `{"version": "45"}`, wantErr: true},
		{name: "not json", doc: `<!DOCTYPE html>`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := discover.ParseFedoraReleases([]byte(tt.doc))
			if tt.wantErr {
				if !errors.Is(err, discover.ErrFormat) {
					t.Fatalf("ParseFedoraReleases = %+v, %v; want an ErrFormat", got, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tt.want) {
				t.Fatalf("\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestVersionsFromListing(t *testing.T) {
	alpine := regexp.MustCompile(`v(\d+\.\d+)/`)
	major := regexp.MustCompile(`(\d+)/`)
	tests := []struct {
		name    string
		names   []string
		pattern *regexp.Regexp
		want    []string
	}{
		{name: "alpine", pattern: alpine,
			names: []string{"edge/", "latest-stable/", "v3.9/", "v3.24/", "v3.23/", "xv3.25/", "v3.26/old/", "v3.27", "MIRRORS.txt"},
			want:  []string{"3.9", "3.23", "3.24"}},
		{name: "majors, not minors", pattern: major,
			names: []string{"8/", "8.10/", "10/", "9/", "9.8/", "10-kitten/", "RPM-GPG-KEY-Rocky-10"},
			want:  []string{"8", "9", "10"}},
		{name: "no group means the whole name", pattern: regexp.MustCompile(`\d+/`),
			names: []string{"44/", "test/"}, want: []string{"44/"}},
		{name: "duplicates once", pattern: major, names: []string{"9/", "9/"}, want: []string{"9"}},
		{name: "empty group ignored", pattern: regexp.MustCompile(`v(\d*)/`), names: []string{"v/", "v3/"}, want: []string{"3"}},
		{name: "nothing", pattern: major, names: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := discover.VersionsFromListing(tt.names, tt.pattern); !slices.Equal(got, tt.want) {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
}
