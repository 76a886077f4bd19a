package catalog

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
	"vmimages/core/version"
)

//go:embed default.toml
var defaultTOML []byte

// Sentinel errors that callers branch on with errors.Is.
var (
	// ErrNotInCatalog: the distro, version or arch asked for is not in the
	// catalog. The error is a *NotFoundError listing what exists.
	ErrNotInCatalog = errors.New("not in catalog")
	// ErrInvalid: a catalog file breaks the schema.
	ErrInvalid = errors.New("invalid catalog")
)

// Boot kinds: how a VM starts an image.
const (
	// BootDirectKernel: kernel and initramfs are published beside the disk,
	// so a VMM can boot them directly.
	BootDirectKernel = "direct-kernel"
	// BootFirmware: only a disk is published; boot it through firmware.
	BootFirmware = "firmware"
)

// Signature kinds: what the distribution publishes to sign its manifests.
const (
	SigDetached    = "detached"    // a separate signature file over the manifest
	SigClearsigned = "clearsigned" // the manifest itself is a cleartext-signed message
	SigNone        = "none"        // nothing is signed upstream
)

// Discovery sources for a Step.
const (
	SourceListing  = "listing"  // an Apache/nginx autoindex HTML page
	SourceManifest = "manifest" // the names inside a checksum manifest
)

// Catalog is the set of distributions the program knows how to resolve.
type Catalog struct {
	Distros []*Distro `toml:"distro"`
}

// Distro describes one distribution: where it publishes and how to resolve
// its files. Fields holding templates may use {version}, {codename}, {arch}
// (the upstream spelling), {major}, {file}, {checksums}, and any variable
// bound by Vars, ArchVars or a discovery step's named groups.
type Distro struct {
	ID        string            `toml:"id" json:"id"`
	Name      string            `toml:"name" json:"name"`
	Base      string            `toml:"base" json:"base"`
	Boot      string            `toml:"boot" json:"boot"`
	Note      string            `toml:"note" json:"note,omitempty"`
	Arches    map[string]string `toml:"arches" json:"-"`
	Signature Signature         `toml:"signature" json:"signature"`
	// Archive is where the distribution moves releases past their end of
	// life, as a URL relative to Base ("../../../archive/fedora/linux/
	// releases/") or an absolute one. A relative archive follows a mirror
	// that replaces Base. When a release's files are gone from Base,
	// Resolve tries the archive and says so.
	Archive string `toml:"archive" json:"archive,omitempty"`
	Spec

	Versions []*Version `toml:"versions" json:"-"`

	// Source names the file the entry came from ("embedded" or a path).
	Source string `toml:"-" json:"source"`
}

// Spec is the part of a distro that a version may override.
type Spec struct {
	// Discover steps run in order, each binding variables from the newest
	// matching name in a listing or manifest.
	Discover []Step `toml:"discover" json:"-"`
	// Dir is the directory holding the files, relative to Base.
	Dir string `toml:"dir" json:"-"`
	// Build formats the build id; default "{build}" when a step binds it.
	Build string `toml:"build" json:"-"`
	// Assets lists the files of an image.
	Assets []AssetSpec `toml:"assets" json:"-"`
	// Vars are extra template variables.
	Vars map[string]string `toml:"vars" json:"-"`
	// ArchVars are extra template variables per canonical arch.
	ArchVars map[string]map[string]string `toml:"arch_vars" json:"-"`
}

// Signature records how a distribution signs its manifests.
type Signature struct {
	Kind string `toml:"kind" json:"kind"`
	// File is the detached signature's path template relative to Dir.
	File string `toml:"file" json:"file,omitempty"`
	// Keys are the fingerprints allowed to sign.
	Keys []string `toml:"keys" json:"keys,omitempty"`
}

// Step is one discovery step.
type Step struct {
	// List is the directory (relative to Base) to read.
	List string `toml:"list"`
	// Source is SourceListing (default) or SourceManifest.
	Source string `toml:"source"`
	// Manifest is the manifest's name in List when Source is SourceManifest.
	Manifest string `toml:"manifest"`
	// Match is an anchored regular expression template; its named groups
	// become variables. Values substituted into it are quoted.
	Match string `toml:"match"`
	// Order names the groups that decide which match is newest, compared
	// in this order (version order); groups it leaves out follow in
	// pattern order. Empty means pattern order.
	Order []string `toml:"order"`
	// Prefer ranks the values of a group, best first, for matches that tie
	// on every group before it: {vendor = ["nocloud", "generic"]}. A value
	// not listed ranks below every listed one.
	Prefer map[string][]string `toml:"prefer"`
}

// AssetSpec describes one file of an image.
type AssetSpec struct {
	Role      string `toml:"role"`      // "disk", "kernel" or "initramfs"
	File      string `toml:"file"`      // path template relative to Dir
	Format    string `toml:"format"`    // "qcow2", "raw", …; "" for kernels
	Checksums string `toml:"checksums"` // manifest path template relative to Dir
	Optional  bool   `toml:"optional"`  // missing upstream is not an error
}

// Version is one release of a distro.
type Version struct {
	Version  string   `toml:"version" json:"version"`
	Codename string   `toml:"codename" json:"codename,omitempty"`
	Arches   []string `toml:"arches" json:"arches"`
	// Keys overrides the distro's signing keys for this release.
	Keys []string `toml:"keys" json:"-"`
	// Signature overrides the distro's signature record for this release,
	// for distributions that sign some releases and not others.
	Signature *Signature `toml:"signature" json:"-"`
	// Preview marks a release that "latest" never picks (not yet
	// released, or found upstream without a word on its support).
	Preview bool `toml:"preview" json:"preview,omitempty"`
	// Unsupported marks a release its distribution no longer supports;
	// "latest" skips it too. It can still be pulled.
	Unsupported bool `toml:"unsupported" json:"unsupported,omitempty"`
	// EOL is the end-of-life date, YYYY-MM-DD, when known.
	EOL string `toml:"eol" json:"eol,omitempty"`
	Spec
}

// Roles of assets.
const (
	RoleDisk      = "disk"
	RoleKernel    = "kernel"
	RoleInitramfs = "initramfs"
)

var idRe = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)

// Load parses one catalog file. name is used in error messages; a syntax
// error carries the line number.
func Load(r io.Reader, name string) (*Catalog, error) {
	var c Catalog
	md, err := toml.NewDecoder(r).Decode(&c)
	if err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return nil, fmt.Errorf("%w: %s:%d: %s", ErrInvalid, name, pe.Position.Line, pe.Message)
		}
		return nil, fmt.Errorf("%w: %s: %w", ErrInvalid, name, err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		return nil, fmt.Errorf("%w: %s: unknown key %q", ErrInvalid, name, und[0].String())
	}
	for i, d := range c.Distros {
		d.Source = name
		if err := d.validate(); err != nil {
			return nil, fmt.Errorf("%w: %s: distro #%d: %w", ErrInvalid, name, i+1, err)
		}
	}
	return &c, nil
}

// Embedded returns the catalog shipped inside the binary.
func Embedded() (*Catalog, error) {
	return Load(bytes.NewReader(defaultTOML), "embedded")
}

// Problem is an overlay file that could not be used.
type Problem struct {
	File string
	Err  error
}

func (p Problem) Error() string { return p.Err.Error() }

// LoadWithOverlays returns the embedded catalog with every *.toml file in dir
// laid over it, in name order: an entry with the id of a shipped one
// replaces it, a new id is added. A broken overlay is skipped and reported
// in problems; it never stops the others. A missing dir is not a problem.
func LoadWithOverlays(dir string) (*Catalog, []Problem, error) {
	c, err := Embedded()
	if err != nil {
		return nil, nil, err
	}
	if dir == "" {
		return c, nil, nil
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.toml"))
	if err != nil {
		return nil, nil, fmt.Errorf("listing catalog overlays in %s: %w", dir, err)
	}
	sort.Strings(files)
	var problems []Problem
	for _, f := range files {
		o, err := loadFile(f)
		if err != nil {
			problems = append(problems, Problem{File: f, Err: err})
			continue
		}
		for _, d := range o.Distros {
			c.put(d)
		}
	}
	return c, problems, nil
}

func loadFile(path string) (*Catalog, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	defer f.Close()
	return Load(io.LimitReader(f, 4<<20), path)
}

// put adds d, replacing a distro with the same id.
func (c *Catalog) put(d *Distro) {
	for i, old := range c.Distros {
		if old.ID == d.ID {
			c.Distros[i] = d
			return
		}
	}
	c.Distros = append(c.Distros, d)
}

// IDs lists the distro ids in catalog order.
func (c *Catalog) IDs() []string {
	ids := make([]string, len(c.Distros))
	for i, d := range c.Distros {
		ids[i] = d.ID
	}
	return ids
}

// Distro finds a distro by id (case-insensitive).
func (c *Catalog) Distro(id string) (*Distro, error) {
	id = strings.ToLower(strings.TrimSpace(id))
	for _, d := range c.Distros {
		if d.ID == id {
			return d, nil
		}
	}
	return nil, &NotFoundError{What: "distro", Asked: id, Available: c.IDs()}
}

// SetBase replaces a distro's base URL (a mirror). The layout below it must
// be the upstream's.
func (c *Catalog) SetBase(id, base string) error {
	d, err := c.Distro(id)
	if err != nil {
		return err
	}
	if err := checkBase(base); err != nil {
		return fmt.Errorf("mirror for %s: %w", id, err)
	}
	d.Base = withSlash(base)
	return nil
}

// NotFoundError says what was asked for and what exists instead.
type NotFoundError struct {
	What      string // "distro", "version" or "arch"
	Asked     string
	Of        string // the distro (and version) it was looked up in
	Available []string
}

func (e *NotFoundError) Error() string {
	of := ""
	if e.Of != "" {
		of = " of " + e.Of
	}
	avail := "none"
	if len(e.Available) > 0 {
		avail = strings.Join(e.Available, ", ")
	}
	return fmt.Sprintf("unknown %s %q%s; available: %s", e.What, e.Asked, of, avail)
}

// Unwrap makes errors.Is(err, ErrNotInCatalog) true.
func (e *NotFoundError) Unwrap() error { return ErrNotInCatalog }

// VersionNames lists the distro's versions in catalog order.
func (d *Distro) VersionNames() []string {
	out := make([]string, len(d.Versions))
	for i, v := range d.Versions {
		out[i] = v.Version
	}
	return out
}

// Latest is the newest supported release: the highest numbered one that
// is not a preview and has not passed its end-of-life date, or the first
// listed when none is numbered (rolling distros). When every release is
// past its end of life, the newest of them is still the answer.
func (d *Distro) Latest() *Version { return d.LatestAt(time.Now()) }

// LatestAt is Latest as of the given time.
func (d *Distro) LatestAt(now time.Time) *Version {
	if v := d.newest(func(v *Version) bool { return !v.Preview && !v.Unsupported && !v.EndedBy(now) }); v != nil {
		return v
	}
	return d.newest(func(v *Version) bool { return !v.Preview })
}

func (d *Distro) newest(ok func(*Version) bool) *Version {
	var best *Version
	for _, v := range d.Versions {
		if !ok(v) {
			continue
		}
		switch {
		case best == nil:
			best = v
		case isNumericVersion(v.Version) && (!isNumericVersion(best.Version) || version.Compare(v.Version, best.Version) > 0):
			best = v
		}
	}
	return best
}

// Supported reports whether the release is still supported at now: not
// marked unsupported and not past its end-of-life date.
func (v *Version) Supported(now time.Time) bool { return !v.Unsupported && !v.EndedBy(now) }

// EndedBy reports whether the release's end-of-life date is before now.
// An unknown or unreadable date never ends.
func (v *Version) EndedBy(now time.Time) bool {
	if v.EOL == "" {
		return false
	}
	t, err := time.Parse(time.DateOnly, v.EOL)
	return err == nil && now.After(t.Add(24*time.Hour))
}

// Version finds a version by name, codename or "latest".
func (d *Distro) Version(name string) (*Version, error) {
	name = strings.ToLower(strings.TrimSpace(name))
	if name == "latest" {
		if v := d.Latest(); v != nil {
			return v, nil
		}
	}
	for _, v := range d.Versions {
		if strings.ToLower(v.Version) == name || (v.Codename != "" && strings.ToLower(v.Codename) == name) {
			return v, nil
		}
	}
	return nil, &NotFoundError{What: "version", Asked: name, Of: d.ID, Available: append(d.VersionNames(), "latest")}
}

// ArchList is the version's canonical arches, or the distro's when the
// version names none, sorted.
func (d *Distro) ArchList(v *Version) []string {
	if len(v.Arches) > 0 {
		return v.Arches
	}
	out := make([]string, 0, len(d.Arches))
	for a := range d.Arches {
		out = append(out, a)
	}
	slices.Sort(out)
	return out
}

// HasKernel reports whether the version publishes a kernel beside the disk.
func (d *Distro) HasKernel(v *Version) bool {
	for _, a := range d.spec(v).Assets {
		if a.Role == RoleKernel {
			return true
		}
	}
	return false
}

// AssetRoles lists the roles of the version's assets in catalog order.
func (d *Distro) AssetRoles(v *Version) []string {
	var out []string
	for _, a := range d.spec(v).Assets {
		out = append(out, a.Role)
	}
	return out
}

// spec merges the version's overrides over the distro's defaults.
func (d *Distro) spec(v *Version) Spec {
	s := d.Spec
	if v == nil {
		return s
	}
	if len(v.Discover) > 0 {
		s.Discover = v.Discover
	}
	if v.Dir != "" {
		s.Dir = v.Dir
	}
	if v.Build != "" {
		s.Build = v.Build
	}
	if len(v.Assets) > 0 {
		s.Assets = v.Assets
	}
	s.Vars = mergeVars(d.Vars, v.Vars)
	s.ArchVars = map[string]map[string]string{}
	for a, m := range d.ArchVars {
		s.ArchVars[a] = mergeVars(nil, m)
	}
	for a, m := range v.ArchVars {
		s.ArchVars[a] = mergeVars(s.ArchVars[a], m)
	}
	return s
}

func mergeVars(a, b map[string]string) map[string]string {
	out := make(map[string]string, len(a)+len(b))
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

// SignatureFor returns the signature record for a version, with its keys:
// the version's own record when it has one, else the distro's; the
// version's keys, when it names any, replace the record's.
func (d *Distro) SignatureFor(v *Version) Signature {
	s := d.Signature
	if v != nil && v.Signature != nil {
		s = *v.Signature
	}
	if v != nil && len(v.Keys) > 0 {
		s.Keys = v.Keys
	}
	if s.Kind == "" {
		s.Kind = SigNone
	}
	return s
}

func (d *Distro) validate() error {
	if !idRe.MatchString(d.ID) {
		return fmt.Errorf("id %q must be lower-case letters, digits, '.', '_' or '-'", d.ID)
	}
	if d.Name == "" {
		d.Name = d.ID
	}
	if err := checkBase(d.Base); err != nil {
		return fmt.Errorf("%s: %w", d.ID, err)
	}
	d.Base = withSlash(d.Base)
	switch d.Boot {
	case "":
		d.Boot = BootFirmware
	case BootFirmware, BootDirectKernel:
	default:
		return fmt.Errorf("%s: boot must be %q or %q", d.ID, BootFirmware, BootDirectKernel)
	}
	if err := d.Signature.validate(); err != nil {
		return fmt.Errorf("%s: %w", d.ID, err)
	}
	if d.Archive != "" {
		if _, err := d.archiveBase(); err != nil {
			return fmt.Errorf("%s: archive: %w", d.ID, err)
		}
	}
	if len(d.Arches) == 0 {
		return fmt.Errorf("%s: no arches", d.ID)
	}
	for a := range d.Arches {
		if NormalizeArch(a) != a {
			return fmt.Errorf("%s: arch %q must be spelled %q", d.ID, a, NormalizeArch(a))
		}
	}
	if len(d.Versions) == 0 {
		return fmt.Errorf("%s: no versions", d.ID)
	}
	for _, v := range d.Versions {
		if !idRe.MatchString(strings.ToLower(v.Version)) {
			return fmt.Errorf("%s: bad version %q", d.ID, v.Version)
		}
		if v.Signature != nil {
			if err := v.Signature.validate(); err != nil {
				return fmt.Errorf("%s %s: %w", d.ID, v.Version, err)
			}
		}
		// A signed release must name the keys that may sign it: an empty
		// list would otherwise have to mean "any key in the ring".
		if sig := d.SignatureFor(v); sig.Kind != SigNone && len(sig.Keys) == 0 {
			return fmt.Errorf("%s %s: signature.kind is %s but no keys are named: list the fingerprints that sign it (signature.keys, or keys on the version)", d.ID, v.Version, sig.Kind)
		}
		for i, a := range v.Arches {
			v.Arches[i] = NormalizeArch(a)
			if _, ok := d.Arches[v.Arches[i]]; !ok {
				return fmt.Errorf("%s %s: arch %q has no spelling in [arches]", d.ID, v.Version, a)
			}
		}
		s := d.spec(v)
		if s.Dir == "" {
			return fmt.Errorf("%s %s: no dir", d.ID, v.Version)
		}
		disk := false
		for _, a := range s.Assets {
			switch a.Role {
			case RoleDisk:
				disk = true
			case RoleKernel, RoleInitramfs:
			default:
				return fmt.Errorf("%s %s: asset role %q must be disk, kernel or initramfs", d.ID, v.Version, a.Role)
			}
			if a.File == "" || a.Checksums == "" {
				return fmt.Errorf("%s %s: asset %s needs file and checksums", d.ID, v.Version, a.Role)
			}
		}
		if !disk {
			return fmt.Errorf("%s %s: no disk asset", d.ID, v.Version)
		}
		for _, st := range s.Discover {
			if st.Match == "" {
				return fmt.Errorf("%s %s: discover step without match", d.ID, v.Version)
			}
			re, err := regexp.Compile(expandRegexp(st.Match, map[string]string{}))
			if err != nil {
				return fmt.Errorf("%s %s: discover match: %w", d.ID, v.Version, err)
			}
			for _, g := range st.Order {
				if re.SubexpIndex(g) < 0 {
					return fmt.Errorf("%s %s: discover order names %q, which the match does not capture", d.ID, v.Version, g)
				}
			}
			for g := range st.Prefer {
				if re.SubexpIndex(g) < 0 {
					return fmt.Errorf("%s %s: discover prefer names %q, which the match does not capture", d.ID, v.Version, g)
				}
			}
			switch st.Source {
			case "", SourceListing:
			case SourceManifest:
				if st.Manifest == "" {
					return fmt.Errorf("%s %s: manifest step needs manifest", d.ID, v.Version)
				}
			default:
				return fmt.Errorf("%s %s: discover source must be listing or manifest", d.ID, v.Version)
			}
		}
	}
	return nil
}

func (s *Signature) validate() error {
	switch s.Kind {
	case "":
		s.Kind = SigNone
	case SigNone, SigClearsigned:
	case SigDetached:
		if s.File == "" {
			return fmt.Errorf("a detached signature needs signature.file")
		}
	default:
		return fmt.Errorf("signature.kind must be detached, clearsigned or none")
	}
	return nil
}

// archiveBase resolves Archive against Base.
func (d *Distro) archiveBase() (string, error) {
	b, err := url.Parse(d.Base)
	if err != nil {
		return "", err
	}
	r, err := url.Parse(d.Archive)
	if err != nil {
		return "", err
	}
	out := b.ResolveReference(r).String()
	if err := checkBase(out); err != nil {
		return "", err
	}
	return withSlash(out), nil
}

func checkBase(base string) error {
	if !strings.HasPrefix(base, "https://") && !strings.HasPrefix(base, "http://") {
		return fmt.Errorf("base URL %q must start with https:// or http://", base)
	}
	return nil
}

func withSlash(s string) string {
	if strings.HasSuffix(s, "/") {
		return s
	}
	return s + "/"
}

// Clone copies the catalog deeply enough that changing a distro's or a
// version's fields, or adding versions, leaves the original untouched
// (specs are shared: they are never changed in place).
func (c *Catalog) Clone() *Catalog {
	out := &Catalog{Distros: make([]*Distro, len(c.Distros))}
	for i, d := range c.Distros {
		dc := *d
		dc.Versions = make([]*Version, len(d.Versions))
		for j, v := range d.Versions {
			vc := *v
			dc.Versions[j] = &vc
		}
		out.Distros[i] = &dc
	}
	return out
}
