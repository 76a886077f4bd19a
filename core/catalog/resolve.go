package catalog

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"path"
	"regexp"
	"slices"
	"strings"

	"vmimages/core/manifest"
	"vmimages/core/version"
)

// ErrNoBuild: the upstream directory holds no file or build that the
// catalog entry's pattern accepts.
var ErrNoBuild = errors.New("no matching build upstream")

// Fetcher fetches small documents (manifests, listings) into memory, failing
// when they exceed max bytes. download.Client implements it.
type Fetcher interface {
	FetchSmall(ctx context.Context, url string, max int64) ([]byte, error)
}

// FinalURLFetcher is a Fetcher that also says where a document came from
// after redirects. Resolve records that URL (Asset.ChecksumsFinalURL) when
// its Fetcher is one; otherwise a manifest is taken to come from the URL
// asked for.
type FinalURLFetcher interface {
	Fetcher
	FetchSmallFinal(ctx context.Context, url string, max int64) (body []byte, finalURL string, err error)
}

// fetchFinal fetches url with f and says where it came from.
func fetchFinal(ctx context.Context, f Fetcher, url string, max int64) ([]byte, string, error) {
	if ff, ok := f.(FinalURLFetcher); ok {
		return ff.FetchSmallFinal(ctx, url, max)
	}
	b, err := f.FetchSmall(ctx, url, max)
	return b, url, err
}

// Ref names an image: a distro, a version (or "latest", or a codename) and a
// canonical arch ("" means the host's).
type Ref struct {
	Distro, Version, Arch string
}

func (r Ref) String() string { return r.Distro + " " + r.Version + " " + r.Arch }

// Resolved is a concrete image: every asset with its URL and digest.
type Resolved struct {
	Distro     string    `json:"distro"`
	DistroName string    `json:"distro_name"`
	Version    string    `json:"version"`
	Codename   string    `json:"codename,omitempty"`
	Arch       string    `json:"arch"`
	Build      string    `json:"build"`
	Boot       string    `json:"boot"`
	Assets     []Asset   `json:"assets"`
	Signature  Signature `json:"-"`
	// Archived is true when the files came from the distribution's archive
	// (Distro.Archive) because the release is gone from its usual place.
	Archived bool `json:"archived,omitempty"`
	// Note says so for people.
	Note string `json:"note,omitempty"`
}

// Asset is one file of a resolved image.
type Asset struct {
	Role   string          `json:"role"`
	Name   string          `json:"name"`
	URL    string          `json:"url"`
	Digest manifest.Digest `json:"digest"`
	// Size in bytes when the manifest gives it, else -1.
	Size   int64  `json:"size"`
	Format string `json:"format,omitempty"`
	// ChecksumsURL is the manifest the digest came from; SignatureURL its
	// detached signature, when the distribution publishes one.
	ChecksumsURL string `json:"checksums_url"`
	SignatureURL string `json:"signature_url,omitempty"`
	// ChecksumsFinalURL is where the manifest came from after redirects
	// ("" when unknown: then ChecksumsURL); SignatureFinalURL likewise for
	// the detached signature, once it was fetched.
	ChecksumsFinalURL string `json:"-"`
	SignatureFinalURL string `json:"-"`
	// Manifest is the parsed manifest, kept for signature checks.
	Manifest *manifest.Manifest `json:"-"`
}

// Disk returns the disk asset.
func (r *Resolved) Disk() *Asset { return r.Asset(RoleDisk) }

// Asset returns the asset with the role, or nil.
func (r *Resolved) Asset(role string) *Asset {
	for i := range r.Assets {
		if r.Assets[i].Role == role {
			return &r.Assets[i]
		}
	}
	return nil
}

// FetchError is a failed fetch of a catalog document, naming its URL.
type FetchError struct {
	URL string
	Err error
}

func (e *FetchError) Error() string {
	if strings.Contains(e.Err.Error(), e.URL) {
		return e.Err.Error() // the cause already names the URL
	}
	return fmt.Sprintf("fetching %s: %v", e.URL, e.Err)
}

// Unwrap returns the cause.
func (e *FetchError) Unwrap() error { return e.Err }

// Lookup checks a ref against the catalog without any network access and
// returns the distro, version and canonical arch it names.
func (c *Catalog) Lookup(ref Ref) (*Distro, *Version, string, error) {
	d, err := c.Distro(ref.Distro)
	if err != nil {
		return nil, nil, "", err
	}
	v, err := d.Version(ref.Version)
	if err != nil {
		return nil, nil, "", err
	}
	arch := NormalizeArch(ref.Arch)
	if arch == "" {
		arch = HostArch()
	}
	arches := d.ArchList(v)
	for _, a := range arches {
		if a == arch {
			return d, v, arch, nil
		}
	}
	return nil, nil, "", &NotFoundError{What: "arch", Asked: arch, Of: d.ID + " " + v.Version, Available: arches}
}

// Resolve turns a ref into concrete assets by reading the distribution's own
// listings and manifests through f. Manifests are parsed and kept in the
// result; their signatures are checked by the caller.
//
// A release that is gone from the distro's base (a fetch fails) is looked
// for in the distro's archive, when it names one; the result then says
// Archived. When both fail, the error is the one from the base.
func (c *Catalog) Resolve(ctx context.Context, f Fetcher, ref Ref) (*Resolved, error) {
	d, v, arch, err := c.Lookup(ref)
	if err != nil {
		return nil, err
	}
	res, err := resolveAt(ctx, f, d, v, arch, d.Base)
	var fe *FetchError
	if err == nil || d.Archive == "" || !errors.As(err, &fe) || ctx.Err() != nil {
		return res, err
	}
	archive, aerr := d.archiveBase()
	if aerr != nil {
		return nil, err
	}
	res, aerr = resolveAt(ctx, f, d, v, arch, archive)
	if aerr != nil {
		return nil, err
	}
	res.Archived = true
	res.Note = fmt.Sprintf("%s %s is no longer at %s; its files come from the distribution's archive at %s", d.Name, v.Version, d.Base, archive)
	return res, nil
}

// resolveAt resolves a version against one base URL (Base, or the archive).
func resolveAt(ctx context.Context, f Fetcher, d *Distro, v *Version, arch, base string) (*Resolved, error) {
	s := d.spec(v)
	vars := mergeVars(s.Vars, s.ArchVars[arch])
	vars["version"] = v.Version
	vars["codename"] = v.Codename
	vars["arch"] = d.Arches[arch]
	vars["major"] = strings.SplitN(v.Version, ".", 2)[0]

	for i, st := range s.Discover {
		if err := discover(ctx, f, base, st, vars); err != nil {
			return nil, fmt.Errorf("%s %s %s: discovery step %d: %w", d.ID, v.Version, arch, i+1, err)
		}
	}
	dir, err := expand(s.Dir, vars)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", d.ID, v.Version, err)
	}
	dir = withSlash(dir)
	buildT := s.Build
	if buildT == "" {
		if _, ok := vars["build"]; ok {
			buildT = "{build}"
		}
	}
	build, err := expand(buildT, vars)
	if err != nil {
		return nil, fmt.Errorf("%s %s: build: %w", d.ID, v.Version, err)
	}

	res := &Resolved{
		Distro: d.ID, DistroName: d.Name, Version: v.Version, Codename: v.Codename,
		Arch: arch, Build: build, Boot: d.Boot, Signature: d.SignatureFor(v),
	}
	manifests := map[string]fetchedManifest{}
	for _, as := range s.Assets {
		a, err := resolveAsset(ctx, f, base+dir, as, vars, res.Signature, manifests)
		if err != nil {
			if as.Optional && errors.Is(err, manifest.ErrNotFound) {
				continue
			}
			return nil, fmt.Errorf("%s %s %s: %s: %w", d.ID, v.Version, arch, as.Role, err)
		}
		res.Assets = append(res.Assets, a)
	}
	if res.Build == "" {
		// Fixed names that upstream overwrites: the digest is the build.
		if disk := res.Disk(); disk != nil {
			res.Build = string(disk.Digest.Algorithm) + "-" + disk.Digest.Hex[:12]
		}
	}
	return res, nil
}

// fetchedManifest is a manifest read during one Resolve, with the URL it
// came from after redirects.
type fetchedManifest struct {
	m     *manifest.Manifest
	final string
}

func resolveAsset(ctx context.Context, f Fetcher, dirURL string, as AssetSpec, vars map[string]string, sig Signature, cache map[string]fetchedManifest) (Asset, error) {
	file, err := expand(as.File, vars)
	if err != nil {
		return Asset{}, err
	}
	av := mergeVars(vars, map[string]string{"file": file})
	sums, err := expand(as.Checksums, av)
	if err != nil {
		return Asset{}, err
	}
	av["checksums"] = sums
	sumsURL := dirURL + sums
	fm, ok := cache[sumsURL]
	if !ok {
		b, final, err := fetchFinal(ctx, f, sumsURL, manifest.MaxSize)
		if err != nil {
			return Asset{}, &FetchError{URL: sumsURL, Err: err}
		}
		m, err := manifest.ParseBytes(b)
		if err != nil {
			return Asset{}, fmt.Errorf("%s: %w", sumsURL, err)
		}
		fm = fetchedManifest{m: m, final: final}
		cache[sumsURL] = fm
	}
	m := fm.m
	name := path.Base(file)
	e, err := m.Lookup(name)
	if err != nil {
		return Asset{}, fmt.Errorf("%s: %w", sumsURL, err)
	}
	a := Asset{
		Role: as.Role, Name: name, URL: dirURL + file, Digest: e.Digest, Size: e.Size,
		Format: as.Format, ChecksumsURL: sumsURL, ChecksumsFinalURL: fm.final, Manifest: m,
	}
	if sig.Kind == SigDetached {
		sf, err := expand(sig.File, av)
		if err != nil {
			return Asset{}, err
		}
		a.SignatureURL = dirURL + sf
	}
	return a, nil
}

// discover runs one step: it reads a listing or manifest and binds the
// named groups of the newest matching name into vars.
func discover(ctx context.Context, f Fetcher, base string, st Step, vars map[string]string) error {
	dir, err := expand(st.List, vars)
	if err != nil {
		return err
	}
	if dir != "" {
		dir = withSlash(dir)
	}
	// Always anchored: a pattern matches a whole name or nothing.
	re, err := regexp.Compile("^(?:" + expandRegexp(st.Match, vars) + ")$")
	if err != nil {
		return fmt.Errorf("bad pattern: %w", err)
	}
	var names []string
	var from string
	switch st.Source {
	case SourceManifest:
		mf, err := expand(st.Manifest, vars)
		if err != nil {
			return err
		}
		from = base + dir + mf
		b, err := f.FetchSmall(ctx, from, manifest.MaxSize)
		if err != nil {
			return &FetchError{URL: from, Err: err}
		}
		m, err := manifest.ParseBytes(b)
		if err != nil {
			return fmt.Errorf("%s: %w", from, err)
		}
		names = m.Names()
	default:
		from = base + dir
		b, err := f.FetchSmall(ctx, from, MaxListingSize)
		if err != nil {
			return &FetchError{URL: from, Err: err}
		}
		names = ParseListing(b)
	}
	best, groups := pickNewest(re, names, st.Order, st.Prefer)
	if best == nil {
		return fmt.Errorf("%w: nothing in %s matches %s", ErrNoBuild, from, re)
	}
	for i, g := range groups {
		if g != "" {
			vars[g] = best[i]
		}
	}
	return nil
}

// pickNewest returns the submatches of the name whose captured groups are
// the greatest: compared group by group in version order, the groups named
// in order first, then the rest in pattern order; a group with a preference
// list compares by rank in it instead.
func pickNewest(re *regexp.Regexp, names []string, order []string, prefer map[string][]string) (best []string, groups []string) {
	groups = re.SubexpNames()
	idx := make([]int, 0, len(groups))
	for _, name := range order {
		if i := re.SubexpIndex(name); i > 0 && !slices.Contains(idx, i) {
			idx = append(idx, i)
		}
	}
	for i := 1; i < len(groups); i++ {
		if !slices.Contains(idx, i) {
			idx = append(idx, i)
		}
	}
	for _, n := range names {
		m := re.FindStringSubmatch(n)
		if m == nil {
			continue
		}
		if best == nil || compareGroups(m, best, idx, groups, prefer) > 0 {
			best = m
		}
	}
	return best, groups
}

func compareGroups(a, b []string, idx []int, names []string, prefer map[string][]string) int {
	for _, i := range idx {
		if p, ok := prefer[names[i]]; ok {
			if c := cmp.Compare(rank(p, b[i]), rank(p, a[i])); c != 0 {
				return c
			}
			continue
		}
		if c := version.Compare(a[i], b[i]); c != 0 {
			return c
		}
	}
	return 0
}

// rank is v's place in a preference list; unlisted values come last.
func rank(p []string, v string) int {
	if i := slices.Index(p, v); i >= 0 {
		return i
	}
	return len(p)
}
