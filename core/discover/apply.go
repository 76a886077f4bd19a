package discover

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"vmimages/core/catalog"
	"vmimages/core/trust"
	"vmimages/core/version"
)

// Changes is what ApplyChanges did to a catalog, one line per release, in
// catalog order.
type Changes struct {
	// Added are new releases: "ubuntu 26.10 (stonking)", with
	// ", preview" when upstream does not say it is supported.
	Added []string
	// Updated are releases whose EOL or support changed.
	Updated []string
	// Skipped are new releases left out, with the reason.
	Skipped []string
}

// discoveredVersionRe bounds the versions Apply adds: the upstreams it reads
// number their releases, and a snapshot file may have been edited.
var discoveredVersionRe = regexp.MustCompile(`^\d{1,4}(?:\.\d{1,4}){0,2}$`)

// Apply is ApplyChanges returning only the releases it added.
func Apply(cat *catalog.Catalog, s *Snapshot) (added []string) {
	return ApplyChanges(cat, s).Added
}

// ApplyChanges lays a snapshot over a catalog, changing it in place:
//
//   - A release upstream that the catalog lacks is added as a copy of the
//     distro's newest release (its layout, discovery steps and assets), with
//     the codename, EOL and arches the snapshot gives (arches the entry
//     cannot spell are dropped; none known means the model's). It is a
//     preview, which "latest" never picks, unless upstream says it is
//     supported. A release older than the catalog's newest is added only if
//     upstream says it is supported: the catalog leaves out old releases on
//     purpose.
//   - A release of a distro that signs each major release with its own key
//     (Fedora; AlmaLinux and Rocky, where the release is signed) needs that
//     key pinned in package trust (trust.ReleaseKeys); without one it is
//     skipped, as its checksums could not be verified.
//   - Fedora supports its two newest releases: once a release N is found
//     released upstream, every catalog release up to N-2 is marked
//     Unsupported (Fedora's release life cycle ends N-2 four weeks after N
//     ships; the catalog says so from the day N is seen).
//   - A release the catalog has gets the snapshot's EOL, and is marked
//     Unsupported when upstream says it is no longer supported, so that
//     "latest" skips it.
//
// Distros the snapshot names that the catalog lacks are ignored.
func ApplyChanges(cat *catalog.Catalog, s *Snapshot) Changes {
	var ch Changes
	if cat == nil || s == nil {
		return ch
	}
	for _, d := range cat.Distros {
		found := s.Distros[d.ID]
		if len(found) == 0 || len(d.Versions) == 0 {
			continue
		}
		for _, f := range found {
			applyOne(d, f, &ch)
		}
		if n := supportWindow[d.ID]; n > 0 {
			endOldReleases(d, found, n, &ch)
		}
	}
	return ch
}

// supportWindow is, per distro, how many of its newest releases upstream
// supports at once, where that is the distribution's fixed policy.
var supportWindow = map[string]int{"fedora": 2}

// endOldReleases marks the catalog's releases older than the window below
// the newest release found (and said supported) as Unsupported.
func endOldReleases(d *catalog.Distro, found []Found, window int, ch *Changes) {
	newest := -1
	for _, f := range found {
		if n, err := strconv.Atoi(f.Version); err == nil && (f.Supported == nil || *f.Supported) && n > newest {
			newest = n
		}
	}
	if newest < 0 {
		return
	}
	for _, v := range d.Versions {
		n, err := strconv.Atoi(v.Version)
		if err != nil || n > newest-window || v.Unsupported {
			continue
		}
		v.Unsupported = true
		ch.Updated = append(ch.Updated, fmt.Sprintf("%s: no longer supported upstream (%s %d is out)", describe(d.ID, v.Version, v.Codename), keyOwner(d), newest))
	}
}

func applyOne(d *catalog.Distro, f Found, ch *Changes) {
	if !discoveredVersionRe.MatchString(f.Version) {
		ch.Skipped = append(ch.Skipped, fmt.Sprintf("%s %q: not a release number", d.ID, f.Version))
		return
	}
	codename := f.Codename
	if !codenameRe.MatchString(codename) {
		codename = ""
	}
	eol := f.EOL
	if !dateRe.MatchString(eol) {
		eol = ""
	}
	if v := findVersion(d, f.Version); v != nil {
		name := describe(d.ID, v.Version, v.Codename)
		if eol != "" && eol != v.EOL {
			ch.Updated = append(ch.Updated, fmt.Sprintf("%s: end of life %s", name, eol))
			v.EOL = eol
		}
		if f.Supported != nil && !*f.Supported && !v.Unsupported {
			ch.Updated = append(ch.Updated, name+": no longer supported upstream")
			v.Unsupported = true
		}
		if v.Codename == "" && codename != "" {
			v.Codename = codename
		}
		return
	}

	model := newest(d)
	supported := f.Supported != nil && *f.Supported
	name := describe(d.ID, f.Version, codename)
	if !supported && version.Compare(f.Version, model.Version) < 0 {
		// Old releases are not news; most are out of support.
		return
	}
	v := &catalog.Version{
		Version:  f.Version,
		Codename: codename,
		Arches:   slices.Clone(model.Arches),
		Preview:  !supported,
		EOL:      eol,
		Spec:     cloneSpec(model.Spec),
	}
	if arches := knownArches(d, f.Arches); len(arches) > 0 {
		v.Arches = arches
	}
	v.Signature = model.Signature
	if len(model.Keys) > 0 && d.SignatureFor(v).Kind != catalog.SigNone {
		// A distro that names keys per release signs each release with a
		// new key: the model's would reject the new checksums, and any
		// other would be a guess.
		keys := trust.ReleaseKeys(d.ID, f.Version)
		if len(keys) == 0 {
			ch.Skipped = append(ch.Skipped, fmt.Sprintf("%s: no signing key pinned for %s %s in this build", name, keyOwner(d), f.Version))
			return
		}
		v.Keys = keys
	}
	// Keep the versions in ascending order, the way the catalog lists them.
	i := len(d.Versions)
	for j, old := range d.Versions {
		if isNumeric(old.Version) && version.Compare(old.Version, v.Version) > 0 {
			i = j
			break
		}
	}
	d.Versions = slices.Insert(d.Versions, i, v)
	if v.Preview {
		name += ", preview"
	}
	ch.Added = append(ch.Added, name)
}

// keyOwner names a distribution the way its keys do ("Fedora 45").
func keyOwner(d *catalog.Distro) string {
	switch d.ID {
	case "fedora":
		return "Fedora"
	case "rocky":
		return "Rocky Linux"
	}
	return d.Name
}

// describe names a release for people: "ubuntu 26.10 (stonking)".
func describe(id, version, codename string) string {
	if codename == "" {
		return id + " " + version
	}
	return fmt.Sprintf("%s %s (%s)", id, version, codename)
}

func findVersion(d *catalog.Distro, version string) *catalog.Version {
	for _, v := range d.Versions {
		if strings.EqualFold(v.Version, version) {
			return v
		}
	}
	return nil
}

// newest is the distro's highest numbered release, previews included, or
// its last one when none is numbered.
func newest(d *catalog.Distro) *catalog.Version {
	var best *catalog.Version
	for _, v := range d.Versions {
		if best == nil || isNumeric(v.Version) && (!isNumeric(best.Version) || version.Compare(v.Version, best.Version) > 0) {
			best = v
		}
	}
	return best
}

func isNumeric(v string) bool { return v != "" && '0' <= v[0] && v[0] <= '9' }

// knownArches keeps the arches the distro entry can spell, sorted.
func knownArches(d *catalog.Distro, arches []string) []string {
	var out []string
	for _, a := range arches {
		a = catalog.NormalizeArch(a)
		if _, ok := d.Arches[a]; ok && !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	slices.Sort(out)
	return out
}

// cloneSpec deep-copies a spec so the new release shares nothing with its
// model.
func cloneSpec(s catalog.Spec) catalog.Spec {
	s.Discover = slices.Clone(s.Discover)
	s.Assets = slices.Clone(s.Assets)
	s.Vars = maps.Clone(s.Vars)
	if s.ArchVars != nil {
		av := make(map[string]map[string]string, len(s.ArchVars))
		for a, m := range s.ArchVars {
			av[a] = maps.Clone(m)
		}
		s.ArchVars = av
	}
	return s
}
