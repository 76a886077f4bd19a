package catalog_test

import (
	"strings"
	"testing"
	"unicode"

	"vmimages/core/catalog"
)

// FuzzParseListing: whatever a server sends, every name ParseListing returns
// is one entry of the directory: no separator but a single trailing "/", not
// "." or "..", no control character. Seeds beyond these live in
// testdata/fuzz/FuzzParseListing.
func FuzzParseListing(f *testing.F) {
	f.Add([]byte(apachePage))
	f.Add([]byte(apacheListPage))
	f.Add([]byte(nginxPage))
	f.Add([]byte(lighttpdPage))
	for _, h := range hostileHrefs {
		f.Add([]byte(`<a href="` + h + `">x</a>`))
	}
	f.Fuzz(func(t *testing.T, page []byte) {
		names := catalog.ParseListing(page)
		seen := map[string]bool{}
		for _, n := range names {
			if seen[n] {
				t.Errorf("name %q returned twice", n)
			}
			seen[n] = true
			base := strings.TrimSuffix(n, "/")
			switch {
			case base == "", base == ".", base == "..":
				t.Errorf("name %q is not an entry", n)
			case strings.ContainsAny(base, `/\`):
				t.Errorf("name %q holds a path separator", n)
			}
			for _, r := range n {
				if unicode.IsControl(r) {
					t.Errorf("name %q holds control character %U", n, r)
				}
			}
		}
		// Parsing is a pure function of the page.
		again := catalog.ParseListing(page)
		if strings.Join(again, "\x00") != strings.Join(names, "\x00") {
			t.Errorf("second parse %q differs from first %q", again, names)
		}
	})
}
