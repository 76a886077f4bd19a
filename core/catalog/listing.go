package catalog

import (
	"bytes"
	"html"
	"net/url"
	"regexp"
	"strings"
	"unicode"
)

// MaxListingSize caps a directory listing page.
const MaxListingSize = 8 << 20

var hrefRe = regexp.MustCompile(`(?i)<a\s[^>]*?href\s*=\s*(?:"([^"]*)"|'([^']*)')`)

// ParseListing extracts the entry names of an Apache or nginx autoindex page.
// Directories keep their trailing "/". Links that leave the directory
// (absolute, parent, query-only, other hosts) and names with path separators
// or control characters are dropped, so a listing never decides a local path.
func ParseListing(page []byte) []string {
	seen := map[string]bool{}
	var out []string
	for _, m := range hrefRe.FindAllSubmatch(page, -1) {
		raw := m[1]
		if len(raw) == 0 {
			raw = m[2]
		}
		name, ok := listingName(string(bytes.TrimSpace(raw)))
		if ok && !seen[name] {
			seen[name] = true
			out = append(out, name)
		}
	}
	return out
}

func listingName(href string) (string, bool) {
	href = html.UnescapeString(href)
	if href == "" || strings.HasPrefix(href, "?") || strings.HasPrefix(href, "#") ||
		strings.HasPrefix(href, "/") || strings.Contains(href, "://") || strings.HasPrefix(href, "mailto:") {
		return "", false
	}
	if i := strings.IndexAny(href, "?#"); i >= 0 {
		href = href[:i]
	}
	name, err := url.PathUnescape(href)
	if err != nil {
		return "", false
	}
	name = strings.TrimPrefix(name, "./")
	dir := strings.HasSuffix(name, "/")
	base := strings.TrimSuffix(name, "/")
	if base == "" || base == "." || base == ".." || strings.ContainsAny(base, "/\\") {
		return "", false
	}
	for _, r := range base {
		if unicode.IsControl(r) { // C0, DEL and C1 (U+0085, U+009B CSI, …)
			return "", false
		}
	}
	if dir {
		return base + "/", true
	}
	return base, true
}
