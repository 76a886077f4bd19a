package discover

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"vmimages/core/catalog"
	"vmimages/core/version"
)

// Where Fedora publishes, when no mirror is set.
const (
	// DefaultFedoraReleasesURL is Fedora's release feed.
	DefaultFedoraReleasesURL = "https://fedoraproject.org/releases.json"
	// DefaultFedoraOrigin is the Fedora base of the shipped catalog. A
	// different base is a mirror, which has no releases.json of its own.
	DefaultFedoraOrigin = "https://download.fedoraproject.org/pub/fedora/linux/releases/"
)

// Size caps on what Refresh fetches; listings use catalog.MaxListingSize.
const (
	// MaxIndexSize caps a simplestreams index.json (a few KiB upstream).
	MaxIndexSize = 1 << 20
	// MaxProductsSize caps a simplestreams products file; Ubuntu's released
	// download stream is 10–20 MiB and grows with every serial.
	MaxProductsSize = 64 << 20
	// MaxReleasesSize caps Fedora's releases.json (a few hundred KiB).
	MaxReleasesSize = 8 << 20
)

// Options are the parameters of a refresh; the zero value is the upstreams'.
type Options struct {
	// FedoraReleasesURL is Fedora's releases.json; "" means
	// DefaultFedoraReleasesURL.
	FedoraReleasesURL string
	// FedoraOrigin is the Fedora base that is not a mirror; "" means
	// DefaultFedoraOrigin. When the catalog's Fedora base differs, the
	// base's directory listing is read instead of releases.json.
	FedoraOrigin string
}

// source finds one distro's releases upstream.
type source func(ctx context.Context, o *Options, f catalog.Fetcher, d *catalog.Distro) ([]Found, error)

// sources are the distros Refresh knows how to look up, by catalog id.
var sources = map[string]source{
	"ubuntu":    refreshUbuntu,
	"fedora":    refreshFedora,
	"alpine":    listingSource(alpineDirRe, false),
	"rocky":     listingSource(majorDirRe, true),
	"almalinux": listingSource(majorDirRe, true),
}

// Covers reports whether Refresh knows how to look up the catalog distro id.
func Covers(id string) bool { return sources[id] != nil }

// Refresh is Options{}.Refresh: it asks the upstreams themselves.
func Refresh(ctx context.Context, f catalog.Fetcher, cat *catalog.Catalog, now time.Time) (*Snapshot, []error) {
	return Options{}.Refresh(ctx, f, cat, now)
}

// Refresh finds which releases exist upstream for the catalog's Ubuntu,
// Fedora, Alpine, Rocky and AlmaLinux entries, reading from each entry's
// base (so a mirror set with catalog.SetBase is honoured):
//
//   - ubuntu: <base>streams/v1/index.json, then the image-downloads
//     products file it names: versions, codenames, support, EOL, arches and
//     the newest serial;
//   - fedora: releases.json (Options.FedoraReleasesURL): versions, arches
//     and compose ids of the Cloud Base Generic images, or, behind a
//     mirror, the listing of <base> (its NN/ directories);
//   - alpine: the listing of <base> (its vM.m/ directories);
//   - rocky, almalinux: the listing of <base> (its major M/ directories).
//
// Distros are looked up concurrently. One that fails is left out of the
// snapshot and its *SourceError is returned; it never stops the others.
// The snapshot is never nil; now is recorded as its Taken time.
func (o Options) Refresh(ctx context.Context, f catalog.Fetcher, cat *catalog.Catalog, now time.Time) (*Snapshot, []error) {
	type job struct {
		d     *catalog.Distro
		src   source
		found []Found
		err   error
	}
	var jobs []*job
	for _, d := range cat.Distros {
		if src := sources[d.ID]; src != nil {
			jobs = append(jobs, &job{d: d, src: src})
		}
	}
	var wg sync.WaitGroup
	for _, j := range jobs {
		wg.Go(func() { j.found, j.err = j.src(ctx, &o, f, j.d) })
	}
	wg.Wait()

	snap := &Snapshot{Taken: now, Distros: map[string][]Found{}}
	var errs []error
	for _, j := range jobs {
		if j.err != nil {
			errs = append(errs, j.err)
			continue
		}
		snap.Distros[j.d.ID] = j.found
	}
	return snap, errs
}

// fetch gets one document, failing with a *SourceError naming it.
func fetch(ctx context.Context, f catalog.Fetcher, d *catalog.Distro, url string, limit int64) ([]byte, error) {
	b, err := f.FetchSmall(ctx, url, limit)
	if err != nil {
		return nil, &SourceError{Distro: d.ID, URL: url, Err: err}
	}
	return b, nil
}

func refreshUbuntu(ctx context.Context, _ *Options, f catalog.Fetcher, d *catalog.Distro) ([]Found, error) {
	indexURL := d.Base + "streams/v1/index.json"
	b, err := fetch(ctx, f, d, indexURL, MaxIndexSize)
	if err != nil {
		return nil, err
	}
	p, err := ParseIndex(b)
	if err != nil {
		return nil, &SourceError{Distro: d.ID, URL: indexURL, Err: err}
	}
	productsURL := d.Base + p
	if b, err = fetch(ctx, f, d, productsURL, MaxProductsSize); err != nil {
		return nil, err
	}
	products, err := ParseUbuntuProducts(b)
	if err != nil {
		return nil, &SourceError{Distro: d.ID, URL: productsURL, Err: err}
	}
	found := ubuntuFound(products, d)
	if len(found) == 0 {
		return nil, &SourceError{Distro: d.ID, URL: productsURL, Err: ErrNoReleases}
	}
	return found, nil
}

// ubuntuFound folds the per-arch products of each release into one Found,
// keeping the arches the catalog entry can spell. A release with none of
// them (an i386-only or amd64v3-only product) is left out.
func ubuntuFound(products []UbuntuProduct, d *catalog.Distro) []Found {
	var out []Found
	for _, p := range products { // sorted by version
		if _, ok := d.Arches[p.Arch]; !ok {
			continue
		}
		if len(out) == 0 || out[len(out)-1].Version != p.Version {
			out = append(out, Found{Version: p.Version, Supported: new(bool)})
		}
		fd := &out[len(out)-1]
		if fd.Codename == "" {
			fd.Codename = p.Codename
		}
		if p.Supported {
			*fd.Supported = true
		}
		fd.EOL = max(fd.EOL, p.EOL)
		if !slices.Contains(fd.Arches, p.Arch) {
			fd.Arches = append(fd.Arches, p.Arch)
		}
		if version.Compare(p.Serial, fd.LatestBuild) > 0 {
			fd.LatestBuild = p.Serial
		}
	}
	return out
}

func refreshFedora(ctx context.Context, o *Options, f catalog.Fetcher, d *catalog.Distro) ([]Found, error) {
	origin := o.FedoraOrigin
	if origin == "" {
		origin = DefaultFedoraOrigin
	}
	if strings.TrimSuffix(d.Base, "/") != strings.TrimSuffix(origin, "/") {
		// A mirror carries the release directories but not the feed,
		// which lives on fedoraproject.org.
		return fromListing(ctx, f, d, majorDirRe, false)
	}
	url := o.FedoraReleasesURL
	if url == "" {
		url = DefaultFedoraReleasesURL
	}
	b, err := fetch(ctx, f, d, url, MaxReleasesSize)
	if err != nil {
		return nil, err
	}
	rels, err := ParseFedoraReleases(b)
	if err != nil {
		return nil, &SourceError{Distro: d.ID, URL: url, Err: err}
	}
	var out []Found
	for _, r := range rels { // sorted by version
		if _, ok := d.Arches[r.Arch]; !ok {
			continue
		}
		if len(out) == 0 || out[len(out)-1].Version != r.Version {
			// releases.json lists pre-releases under "NN Beta", which
			// the parser drops: what is left is released.
			out = append(out, Found{Version: r.Version, Supported: ptr(true)})
		}
		fd := &out[len(out)-1]
		if !slices.Contains(fd.Arches, r.Arch) {
			fd.Arches = append(fd.Arches, r.Arch)
		}
		if version.Compare(r.Build, fd.LatestBuild) > 0 {
			fd.LatestBuild = r.Build
		}
	}
	if len(out) == 0 {
		return nil, &SourceError{Distro: d.ID, URL: url, Err: ErrNoReleases}
	}
	return out, nil
}

// listingSource finds releases as the directories of the distro's base
// listing that pattern matches. current says the listing holds only
// supported releases (Rocky's and AlmaLinux's pub/ trees, whose old majors
// move to vault/), so what it names is supported; Alpine keeps every old
// branch, so its listing says nothing about support.
func listingSource(pattern *regexp.Regexp, current bool) source {
	return func(ctx context.Context, _ *Options, f catalog.Fetcher, d *catalog.Distro) ([]Found, error) {
		return fromListing(ctx, f, d, pattern, current)
	}
}

func fromListing(ctx context.Context, f catalog.Fetcher, d *catalog.Distro, pattern *regexp.Regexp, current bool) ([]Found, error) {
	b, err := fetch(ctx, f, d, d.Base, catalog.MaxListingSize)
	if err != nil {
		return nil, err
	}
	versions := VersionsFromListing(catalog.ParseListing(b), pattern)
	if len(versions) == 0 {
		return nil, &SourceError{Distro: d.ID, URL: d.Base, Err: ErrNoReleases}
	}
	out := make([]Found, len(versions))
	for i, v := range versions {
		out[i] = Found{Version: v}
		if current {
			out[i].Supported = ptr(true)
		}
	}
	return out, nil
}

func ptr[T any](v T) *T { return &v }
