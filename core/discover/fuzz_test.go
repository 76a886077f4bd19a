package discover_test

import (
	"regexp"
	"strings"
	"testing"

	"vmimages/core/discover"
	vers "vmimages/core/version"
)

// relativeRe is what a path from a products file may look like: segments
// below the mirror root, never "..", never absolute.
var relativeRe = regexp.MustCompile(`^[^/\\?#]+(?:/[^/\\?#]+)*$`)

var (
	ubuntuVersionRe = regexp.MustCompile(`^\d{2}\.\d{2}$`)
	codenameRe      = regexp.MustCompile(`^[a-z][a-z0-9-]*$`)
	numberRe        = regexp.MustCompile(`^\d+$`)
)

// FuzzParseUbuntuProducts: whatever a mirror sends, the parser returns
// without panicking, and what it returns is usable as is: well-formed
// versions and codenames, a disk path below the mirror, products sorted.
// Seeds beyond these live in testdata/fuzz/FuzzParseUbuntuProducts; the
// whole products file is not one, as minimising inputs grown from 44 KiB
// stalls the fuzzer (the parse tests cover it).
func FuzzParseUbuntuProducts(f *testing.F) {
	f.Add(readTestdata(f, "index.json"))
	f.Fuzz(func(t *testing.T, b []byte) {
		ps, err := discover.ParseUbuntuProducts(b)
		if err != nil {
			if ps != nil {
				t.Errorf("error %v with products %+v", err, ps)
			}
			return
		}
		for i, p := range ps {
			if !ubuntuVersionRe.MatchString(p.Version) {
				t.Errorf("version %q", p.Version)
			}
			if p.Codename != "" && !codenameRe.MatchString(p.Codename) {
				t.Errorf("codename %q", p.Codename)
			}
			if p.Serial == "" || !relativeRe.MatchString(p.Disk.Path) {
				t.Errorf("product %+v has no serial or a bad disk path", p)
			}
			for _, seg := range strings.Split(p.Disk.Path, "/") {
				if seg == ".." || seg == "." {
					t.Errorf("disk path %q leaves the mirror", p.Disk.Path)
				}
			}
			if i > 0 && vers.Compare(ps[i-1].Version, p.Version) > 0 {
				t.Errorf("products out of order: %q before %q", ps[i-1].Version, p.Version)
			}
		}
	})
}

// FuzzParseFedoraReleases: never a panic, and only numbered Cloud Base
// Generic qcow2 images come back, sorted. Seeds beyond these, among them
// real entries, live in testdata/fuzz/FuzzParseFedoraReleases.
func FuzzParseFedoraReleases(f *testing.F) {
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		rels, err := discover.ParseFedoraReleases(b)
		if err != nil {
			if rels != nil {
				t.Errorf("error %v with releases %+v", err, rels)
			}
			return
		}
		for i, r := range rels {
			if !numberRe.MatchString(r.Version) {
				t.Errorf("version %q", r.Version)
			}
			if r.Arch == "" || r.Size < -1 {
				t.Errorf("release %+v", r)
			}
			if i > 0 && vers.Compare(rels[i-1].Version, r.Version) > 0 {
				t.Errorf("releases out of order: %q before %q", rels[i-1].Version, r.Version)
			}
		}
	})
}
