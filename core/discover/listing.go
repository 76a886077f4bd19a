package discover

import (
	"regexp"
	"slices"

	"vmimages/core/version"
)

// Patterns for the release directories in the distributions' base listings.
var (
	// alpineDirRe: https://dl-cdn.alpinelinux.org/alpine/ has v3.23/,
	// v3.24/ beside edge/ and latest-stable/.
	alpineDirRe = regexp.MustCompile(`v(\d+\.\d+)/`)
	// majorDirRe: Rocky and AlmaLinux publish each major as 9/, 10/ beside
	// the minors (9.8/) and their vault links; Fedora's releases/ has 43/,
	// 44/ beside test/.
	majorDirRe = regexp.MustCompile(`(\d+)/`)
)

// VersionsFromListing returns the versions named by the entries of a
// directory listing (as catalog.ParseListing gives them) that pattern
// matches in full: the first capture group, or the whole name when pattern
// has none. They come back once each, oldest first by
// version.Compare. An empty capture is ignored.
func VersionsFromListing(names []string, pattern *regexp.Regexp) []string {
	// The match must cover the whole name: "v3.24/" but not "xv3.24/" or
	// "v3.24/old/". Wrapping keeps the group numbers; a pattern that
	// compiled once compiles wrapped.
	whole, err := regexp.Compile(`^(?:` + pattern.String() + `)$`)
	if err != nil {
		return nil
	}
	var out []string
	seen := map[string]bool{}
	for _, n := range names {
		loc := whole.FindStringSubmatchIndex(n)
		if loc == nil {
			continue
		}
		v := n
		if len(loc) >= 4 {
			if loc[2] < 0 {
				continue
			}
			v = n[loc[2]:loc[3]]
		}
		if v == "" || seen[v] {
			continue
		}
		seen[v] = true
		out = append(out, v)
	}
	slices.SortFunc(out, version.Compare)
	return out
}
