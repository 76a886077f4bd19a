package discover

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"

	"vmimages/core/catalog"
	"vmimages/core/version"
)

// UbuntuProduct is one server image product of Ubuntu's released download
// stream: one release on one arch, with its newest serial.
type UbuntuProduct struct {
	Version  string // "26.04"
	Codename string // "resolute"
	// Arch is the canonical arch (catalog.NormalizeArch): "x86_64" for
	// amd64. ISA-level variants such as amd64v3 keep their own name, so
	// they never pass for the baseline arch.
	Arch      string
	Supported bool
	EOL       string // support_eol, YYYY-MM-DD; "" when not given
	// Serial is the newest build serial that has a disk image, by
	// version.Compare ("20260720", "20260720.1").
	Serial string
	// Disk is that serial's disk1.img item.
	Disk UbuntuItem
}

// UbuntuItem is one file of a simplestreams product version.
type UbuntuItem struct {
	Path   string // relative to the stream's mirror root
	SHA256 string
	Size   int64
}

// The disk image item of a server product; "uefi1.img" and the tarballs
// beside it are not what the catalog downloads.
const ubuntuDiskItem = "disk1.img"

var (
	ubuntuVersionRe = regexp.MustCompile(`^\d{2}\.\d{2}$`)
	codenameRe      = regexp.MustCompile(`^[a-z][a-z0-9-]{0,31}$`)
	// buildRe bounds what a build id may look like: it ends up in URLs.
	buildRe = regexp.MustCompile(`^[0-9A-Za-z][0-9A-Za-z._-]{0,63}$`)
	dateRe  = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)
)

// ParseIndex reads a simplestreams index (streams/v1/index.json) and returns
// the path, relative to the mirror root, of its image-downloads products
// file. When several entries have that datatype, the one whose path names
// "released:download" wins, then the first by entry name. Entries that are
// not objects are skipped: some indexes carry "updated" and "format" there.
func ParseIndex(b []byte) (productsPath string, err error) {
	var doc struct {
		Index map[string]json.RawMessage `json:"index"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return "", fmt.Errorf("%w: simplestreams index: %w", ErrFormat, err)
	}
	if doc.Index == nil {
		return "", fmt.Errorf("%w: simplestreams index has no \"index\" object", ErrFormat)
	}
	keys := make([]string, 0, len(doc.Index))
	for k := range doc.Index {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var first, preferred string
	for _, k := range keys {
		var e struct {
			Datatype string `json:"datatype"`
			Path     string `json:"path"`
		}
		if json.Unmarshal(doc.Index[k], &e) != nil || e.Datatype != "image-downloads" || e.Path == "" {
			continue
		}
		if first == "" {
			first = e.Path
		}
		if preferred == "" && strings.Contains(e.Path, "released:download") {
			preferred = e.Path
		}
	}
	path := preferred
	if path == "" {
		path = first
	}
	if path == "" {
		return "", fmt.Errorf("%w: simplestreams index has no image-downloads entry", ErrFormat)
	}
	if !relativePath(path) {
		return "", fmt.Errorf("%w: simplestreams products path %q leaves the mirror", ErrFormat, path)
	}
	return path, nil
}

// relativePath reports whether p names a file below the mirror root, so that
// a mirror's index cannot send the fetch to another host or upward.
func relativePath(p string) bool {
	if p == "" || strings.HasPrefix(p, "/") || strings.ContainsAny(p, "\\?#") || strings.Contains(p, "://") {
		return false
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return false
		}
		for _, r := range seg {
			if r < 0x20 || r == 0x7f {
				return false
			}
		}
	}
	return true
}

// ubuntuProduct is the part of a simplestreams product this package reads.
type ubuntuProduct struct {
	Arch       string `json:"arch"`
	Release    string `json:"release"`
	Version    string `json:"version"`
	Supported  *bool  `json:"supported"`
	SupportEOL string `json:"support_eol"`
	Versions   map[string]struct {
		Items map[string]struct {
			Path   string `json:"path"`
			SHA256 string `json:"sha256"`
			Size   int64  `json:"size"`
		} `json:"items"`
	} `json:"versions"`
}

// ParseUbuntuProducts reads a simplestreams products file
// (com.ubuntu.cloud:released:download.json) and returns its server products
// (keys com.ubuntu.cloud:server:<version>:<arch>), sorted by version then
// arch. Other products (minimal, daily, snappy) are ignored, and so is a
// server product whose key and fields disagree, whose version or codename
// is malformed, or that has no serial with a disk1.img. A product whose
// fields have the wrong JSON types is skipped too, unless no server product
// is usable at all: then its error is returned, as the format has changed.
func ParseUbuntuProducts(b []byte) ([]UbuntuProduct, error) {
	var doc struct {
		Products map[string]json.RawMessage `json:"products"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("%w: simplestreams products: %w", ErrFormat, err)
	}
	if doc.Products == nil {
		return nil, fmt.Errorf("%w: simplestreams products file has no \"products\" object", ErrFormat)
	}
	var out []UbuntuProduct
	var firstErr error
	for key, raw := range doc.Products {
		parts := strings.Split(key, ":")
		if len(parts) != 4 || parts[0] != "com.ubuntu.cloud" || parts[1] != "server" {
			continue
		}
		var p ubuntuProduct
		if err := json.Unmarshal(raw, &p); err != nil {
			if firstErr == nil {
				firstErr = fmt.Errorf("%w: simplestreams product %q: %w", ErrFormat, key, err)
			}
			continue
		}
		if up, ok := p.toProduct(parts[2], parts[3]); ok {
			out = append(out, up)
		}
	}
	if len(out) == 0 && firstErr != nil {
		return nil, firstErr
	}
	sort.Slice(out, func(i, j int) bool {
		if c := version.Compare(out[i].Version, out[j].Version); c != 0 {
			return c < 0
		}
		if out[i].Arch != out[j].Arch {
			return out[i].Arch < out[j].Arch
		}
		// Two spellings of one arch (amd64, x86_64) may both be keys; keep
		// the order a function of the input, not of map iteration.
		a, b := out[i], out[j]
		if c := version.Compare(a.Serial, b.Serial); c != 0 {
			return c > 0
		}
		return fmt.Sprint(a) < fmt.Sprint(b)
	})
	return out, nil
}

// toProduct checks a decoded product against the version and arch of its
// key and picks its newest serial that has a disk image.
func (p *ubuntuProduct) toProduct(keyVersion, keyArch string) (UbuntuProduct, bool) {
	version := p.Version
	if version == "" {
		version = keyVersion
	}
	arch := p.Arch
	if arch == "" {
		arch = keyArch
	}
	if version != keyVersion || arch != keyArch || !ubuntuVersionRe.MatchString(version) {
		return UbuntuProduct{}, false
	}
	if p.Release != "" && !codenameRe.MatchString(p.Release) {
		return UbuntuProduct{}, false
	}
	up := UbuntuProduct{
		Version:   version,
		Codename:  p.Release,
		Arch:      catalog.NormalizeArch(arch),
		Supported: p.Supported != nil && *p.Supported,
	}
	if dateRe.MatchString(p.SupportEOL) {
		up.EOL = p.SupportEOL
	}
	serials := make([]string, 0, len(p.Versions))
	for s := range p.Versions {
		if buildRe.MatchString(s) {
			serials = append(serials, s)
		}
	}
	slices.SortFunc(serials, func(a, b string) int { return -compareVersions(a, b) })
	for _, s := range serials {
		it, ok := p.Versions[s].Items[ubuntuDiskItem]
		if !ok || !relativePath(it.Path) {
			continue
		}
		up.Serial = s
		up.Disk = UbuntuItem{Path: it.Path, SHA256: it.SHA256, Size: it.Size}
		return up, true
	}
	return UbuntuProduct{}, false
}

// compareVersions is version.Compare, for functions where a variable named
// version hides the package.
var compareVersions = version.Compare
