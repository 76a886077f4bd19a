package catalog_test

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"vmimages/core/catalog"
	"vmimages/core/trust"
)

// TestReadmeTrustTable keeps README's trust table true: per distro and
// release, signed exactly when the catalog signs it, by exactly the keys the
// catalog names, each pinned in the binary for that distro; and every
// release of every shipped distro has a row.
func TestReadmeTrustTable(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	cat, err := catalog.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	fpRe := regexp.MustCompile("`([0-9A-F]{40})`")
	covered := map[string]bool{}
	rows := 0
	for _, line := range strings.Split(string(b), "\n") {
		if !strings.HasPrefix(line, "| `") {
			continue
		}
		cols := strings.Split(line, "|")
		if len(cols) < 6 {
			t.Fatalf("trust table row %q has too few columns", line)
		}
		rows++
		id := strings.Trim(strings.TrimSpace(cols[1]), "`")
		d, err := cat.Distro(id)
		if err != nil {
			t.Errorf("README trust table names %q: %v", id, err)
			continue
		}
		var versions []*catalog.Version
		if rel := strings.TrimSpace(cols[2]); rel == "all" {
			versions = d.Versions
		} else {
			for _, name := range strings.Split(rel, ",") {
				v, err := d.Version(strings.TrimSpace(name))
				if err != nil {
					t.Errorf("README trust table: %s %s: %v", id, name, err)
					continue
				}
				versions = append(versions, v)
			}
		}
		var keys []string
		for _, m := range fpRe.FindAllStringSubmatch(cols[4], -1) {
			keys = append(keys, m[1])
		}
		for _, v := range versions {
			covered[id+" "+v.Version] = true
			sig := d.SignatureFor(v)
			if len(keys) == 0 {
				if sig.Kind != catalog.SigNone {
					t.Errorf("README says %s %s is not checked, the catalog signs it (%s)", id, v.Version, sig.Kind)
				}
				continue
			}
			got := slices.Sorted(slices.Values(sig.Keys))
			if sig.Kind == catalog.SigNone || !slices.Equal(got, slices.Sorted(slices.Values(keys))) {
				t.Errorf("README says %s %s is signed by %q; the catalog says %s by %q", id, v.Version, keys, sig.Kind, sig.Keys)
			}
			for _, k := range keys {
				if !slices.Contains(trust.Fingerprints(id), k) {
					t.Errorf("README names %s for %s, which is not pinned for it", k, id)
				}
			}
		}
	}
	if rows == 0 {
		t.Fatal("no trust table found in README.md")
	}
	for _, d := range cat.Distros {
		for _, v := range d.Versions {
			if !covered[d.ID+" "+v.Version] {
				t.Errorf("README's trust table has no row for %s %s", d.ID, v.Version)
			}
		}
	}
}
