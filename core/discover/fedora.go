package discover

import (
	"encoding/json"
	"fmt"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"vmimages/core/catalog"
	"vmimages/core/version"
)

// FedoraRelease is one Cloud Base Generic qcow2 image listed in Fedora's
// releases.json.
type FedoraRelease struct {
	Version string // "44"
	Arch    string // canonical, catalog.NormalizeArch
	Link    string // the image URL as published
	// Build is the compose id from the file name ("1.7"), "" when the name
	// has neither the current nor the Fedora 40 layout.
	Build  string
	SHA256 string
	Size   int64 // -1 when not given or not a number
}

var (
	fedoraVersionRe = regexp.MustCompile(`^\d{1,4}$`)
	// Fedora 41 on: Fedora-Cloud-Base-Generic-44-1.7.x86_64.qcow2.
	fedoraNameRe = regexp.MustCompile(`^Fedora-Cloud-Base-Generic-(\d+)-(\d+(?:\.\d+)*)\.([a-z0-9_]+)\.qcow2$`)
	// Fedora 40: Fedora-Cloud-Base-Generic.x86_64-40-1.14.qcow2.
	fedoraOldNameRe = regexp.MustCompile(`^Fedora-Cloud-Base-Generic\.([a-z0-9_]+)-(\d+)-(\d+(?:\.\d+)*)\.qcow2$`)
)

// fedoraEntry is one element of releases.json. size is a string upstream;
// a number is accepted too.
type fedoraEntry struct {
	Version    string          `json:"version"`
	Arch       string          `json:"arch"`
	Link       string          `json:"link"`
	Variant    string          `json:"variant"`
	Subvariant string          `json:"subvariant"`
	SHA256     string          `json:"sha256"`
	Size       json.RawMessage `json:"size"`
}

// ParseFedoraReleases reads Fedora's releases.json (a top-level array of
// {version, arch, link, variant, subvariant, sha256, size}) and keeps the
// Cloud Base Generic qcow2 images: variant "Cloud", subvariant "Cloud_Base",
// a link containing "Generic" and ending in ".qcow2". Pre-releases
// ("45 Beta") and anything whose version is not a number are skipped, and
// so are elements that are not objects of that shape. The result is sorted
// by version, then arch.
func ParseFedoraReleases(b []byte) ([]FedoraRelease, error) {
	var raw []json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, fmt.Errorf("%w: fedora releases.json: %w", ErrFormat, err)
	}
	var out []FedoraRelease
	for _, r := range raw {
		var e fedoraEntry
		if json.Unmarshal(r, &e) != nil {
			continue
		}
		if e.Variant != "Cloud" || e.Subvariant != "Cloud_Base" ||
			!strings.Contains(e.Link, "Generic") || !strings.HasSuffix(e.Link, ".qcow2") ||
			!fedoraVersionRe.MatchString(e.Version) || e.Arch == "" {
			continue
		}
		fr := FedoraRelease{
			Version: e.Version,
			Arch:    catalog.NormalizeArch(e.Arch),
			Link:    e.Link,
			SHA256:  strings.ToLower(e.SHA256),
			Size:    parseSize(e.Size),
		}
		fr.Build = fedoraBuild(path.Base(e.Link), e.Version)
		out = append(out, fr)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if c := version.Compare(a.Version, b.Version); c != 0 {
			return c < 0
		}
		if a.Arch != b.Arch {
			return a.Arch < b.Arch
		}
		// Several images of one (version, arch) keep an order that
		// depends on the input only.
		if c := version.Compare(a.Build, b.Build); c != 0 {
			return c > 0
		}
		return a.Link < b.Link
	})
	return out, nil
}

// fedoraBuild extracts the compose id from an image name of either layout,
// provided the name's version is the entry's.
func fedoraBuild(name, version string) string {
	if m := fedoraNameRe.FindStringSubmatch(name); m != nil && m[1] == version {
		return m[2]
	}
	if m := fedoraOldNameRe.FindStringSubmatch(name); m != nil && m[2] == version {
		return m[3]
	}
	return ""
}

// parseSize reads a size given as a JSON string or number.
func parseSize(raw json.RawMessage) int64 {
	s := strings.Trim(strings.TrimSpace(string(raw)), `"`)
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return -1
	}
	return n
}
