package cli

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"vmimages/core"
	"vmimages/core/catalog"
	"vmimages/core/units"
)

type catalogJSON struct {
	Distros []distroJSON `json:"distros"`
	// RefreshedAt is when the upstream refresh in use was taken; null for
	// the embedded catalog alone.
	RefreshedAt *time.Time `json:"refreshed_at"`
	// Refresh says, after --refresh, what each distribution answered.
	Refresh []refreshJSON `json:"refresh,omitempty"`
	// Error says why catalog failed.
	Error string `json:"error,omitempty"`
}

func (d *catalogJSON) setError(msg string) { d.Error = msg }

// refreshJSON is one distribution's answer to --refresh.
type refreshJSON struct {
	ID    string   `json:"id"`
	Found []string `json:"found"`
	Error string   `json:"error,omitempty"`
}

type distroJSON struct {
	ID        string        `json:"id"`
	Name      string        `json:"name"`
	Base      string        `json:"base"`
	Boot      string        `json:"boot"`
	Signature string        `json:"signature"`
	Note      string        `json:"note,omitempty"`
	Latest    string        `json:"latest"`
	Source    string        `json:"source"`
	Versions  []versionJSON `json:"versions"`
}

type versionJSON struct {
	Version string `json:"version"`
	// Supported is false once the release is past its end of life or
	// upstream says so; Preview marks one "latest" never picks.
	Supported bool     `json:"supported"`
	Preview   bool     `json:"preview,omitempty"`
	Codename  string   `json:"codename"` // "" when none; the key is in the contract
	Arches    []string `json:"arches"`
	Assets    []string `json:"assets"`
	EOL       string   `json:"eol,omitempty"`
	// Signature is the release's signature kind: releases of one distro
	// may differ (AlmaLinux signs 8 and 9, not 10).
	Signature string `json:"signature"`
}

func runCatalog(ctx context.Context, r *runner, pos []string) error {
	r.doc = &catalogJSON{Distros: []distroJSON{}}
	if len(pos) > 1 {
		return usagef("catalog takes at most one DISTRO; see 'vmimages help catalog'")
	}
	m, err := r.manager(ctx)
	if err != nil {
		return err
	}
	var refreshed []refreshJSON
	offline := false
	if r.o.refresh {
		res, err := r.refresh(ctx, m)
		if err != nil {
			return err
		}
		offline = res.Offline
		for _, d := range res.Distros {
			rj := refreshJSON{ID: d.Distro, Found: d.Found}
			if rj.Found == nil {
				rj.Found = []string{}
			}
			if d.Err != nil {
				rj.Error = d.Err.Error()
			}
			refreshed = append(refreshed, rj)
		}
	}
	cat := m.Catalog()
	distros := cat.Distros
	if len(pos) == 1 {
		d, err := cat.Distro(pos[0])
		if err != nil {
			return err
		}
		distros = []*catalog.Distro{d}
	}
	doc := catalogJSON{Refresh: refreshed}
	if src := m.CatalogSource(); !src.Refreshed.IsZero() {
		doc.RefreshedAt = &src.Refreshed
	}
	for _, d := range distros {
		dj := distroJSON{ID: d.ID, Name: d.Name, Base: d.Base, Boot: d.Boot, Signature: d.Signature.Kind,
			Note: d.Note, Source: d.Source, Versions: []versionJSON{}}
		if l := d.Latest(); l != nil {
			dj.Latest = l.Version
		}
		for _, v := range d.Versions {
			dj.Versions = append(dj.Versions, versionJSON{Version: v.Version, Codename: v.Codename,
				Supported: v.Supported(time.Now()), Preview: v.Preview,
				Arches: d.ArchList(v), Assets: d.AssetRoles(v), EOL: v.EOL, Signature: d.SignatureFor(v).Kind})
		}
		doc.Distros = append(doc.Distros, dj)
	}
	// Every distribution failing is a failed refresh: the catalog is still
	// shown, and the exit code says it is not fresh.
	var failed error
	if offline {
		failed = fmt.Errorf("catalog --refresh: no distribution answered; showing %s", m.CatalogSource())
	}
	if r.o.json {
		if err := r.printJSON(doc); err != nil {
			return err
		}
		return failed
	}
	tw := tabwriter.NewWriter(r.env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "DISTRO\tVERSION\tCODENAME\tARCHES\tCONTENTS\tBOOT\tSIGNED")
	for _, d := range doc.Distros {
		for _, v := range d.Versions {
			ver := v.Version
			switch {
			case v.Version == d.Latest:
				ver += " (latest)"
			case v.Preview:
				ver += " (preview)"
			case !v.Supported:
				ver += " (end of life)"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", d.ID, ver, dash(v.Codename),
				strings.Join(v.Arches, ","), strings.Join(v.Assets, "+"), d.Boot, signedWord(v.Signature))
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(pos) == 1 && len(doc.Distros) == 1 {
		d := doc.Distros[0]
		fmt.Fprintf(r.env.Stdout, "\n%s: %s\nbase: %s\n", d.Name, d.Note, d.Base)
	}
	switch src := m.CatalogSource(); {
	case failed != nil:
	case src.Refreshed.IsZero() && !r.o.refresh:
		r.infof("catalog: %s (run 'vmimages catalog --refresh' to look upstream)", src)
	default:
		r.infof("catalog: %s", src)
	}
	return failed
}

// refresh asks upstream for releases and says what it found.
func (r *runner) refresh(ctx context.Context, m *core.Manager) (core.RefreshResult, error) {
	r.infof("asking the distributions which releases exist …")
	res, err := m.RefreshCatalog(ctx)
	if err != nil {
		return res, err
	}
	for _, d := range res.Distros {
		if d.Err != nil {
			r.warnf("%s: failed: %v", d.Distro, d.Err)
			continue
		}
		r.infof("%s: upstream has %s", d.Distro, strings.Join(d.Found, ", "))
	}
	if res.Offline {
		return res, nil // runCatalog says so, and fails
	}
	for _, a := range res.Changes.Added {
		r.infof("new: %s", a)
	}
	for _, u := range res.Changes.Updated {
		r.infof("updated: %s", u)
	}
	for _, s := range res.Changes.Skipped {
		r.infof("skipped: %s", s)
	}
	if len(res.Changes.Added) == 0 {
		r.infof("no new releases upstream")
	}
	return res, nil
}

func signedWord(kind string) string {
	switch kind {
	case catalog.SigNone:
		return "no (checksum over HTTPS)"
	case catalog.SigClearsigned:
		return "yes (clearsigned)"
	case catalog.SigDetached:
		return "yes (detached)"
	}
	return kind
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

type resolveJSON struct {
	Distro    string         `json:"distro"`
	Version   string         `json:"version"`
	Codename  string         `json:"codename,omitempty"`
	Arch      string         `json:"arch"`
	Build     string         `json:"build"`
	Boot      string         `json:"boot"`
	Assets    []assetJSON    `json:"assets"`
	Signature *signatureJSON `json:"signature"`
	// Archived: the release was found only in the distribution's archive.
	Archived bool   `json:"archived,omitempty"`
	Note     string `json:"note,omitempty"`
	// Error says why resolve failed; then assets is empty.
	Error string `json:"error,omitempty"`
}

func (d *resolveJSON) setError(msg string) { d.Error = msg }

// assetJSON is a resolved asset with every key of the contract present,
// "format" included when the catalog names none (kernels, initramfs).
type assetJSON struct {
	catalog.Asset
	Format string `json:"format"`
}

// signatureJSON is a SignatureInfo whose "signer" is present (as "") for
// images nobody signs, as the contract lists it.
type signatureJSON struct {
	core.SignatureInfo
	Signer string `json:"signer"`
}

func toSignatureJSON(s core.SignatureInfo) signatureJSON {
	return signatureJSON{SignatureInfo: s, Signer: s.Signer}
}

func runResolve(ctx context.Context, r *runner, pos []string) error {
	failed := &resolveJSON{Arch: r.o.arch, Assets: []assetJSON{}}
	if len(pos) == 2 {
		failed.Distro, failed.Version = pos[0], pos[1]
	}
	r.doc = failed
	if err := needArgs("resolve", pos, 2, "DISTRO VERSION"); err != nil {
		return err
	}
	m, err := r.manager(ctx)
	if err != nil {
		return err
	}
	res, err := m.Resolve(ctx, catalog.Ref{Distro: pos[0], Version: pos[1], Arch: r.o.arch})
	if err != nil {
		return err
	}
	if r.o.json {
		assets := make([]assetJSON, len(res.Assets))
		for i, a := range res.Assets {
			assets[i] = assetJSON{Asset: a, Format: a.Format}
		}
		return r.printJSON(resolveJSON{Distro: res.Distro, Version: res.Version, Codename: res.Codename,
			Arch: res.Arch, Build: res.Build, Boot: res.Boot, Assets: assets, Signature: ptrTo(toSignatureJSON(res.SignatureInfo)),
			Archived: res.Archived, Note: res.Note})
	}
	w := r.env.Stdout
	fmt.Fprintf(w, "%s %s", res.DistroName, res.Version)
	if res.Codename != "" {
		fmt.Fprintf(w, " (%s)", res.Codename)
	}
	fmt.Fprintf(w, " %s, build %s, %s boot\n", res.Arch, res.Build, res.Boot)
	for _, a := range res.Assets {
		size := "size unknown"
		if a.Size >= 0 {
			size = units.Bytes(a.Size)
		}
		fmt.Fprintf(w, "  %-9s %s\n            %s  (%s%s)\n", a.Role, a.URL, a.Digest, size, formatSuffix(a.Format))
	}
	fmt.Fprintf(w, "signature: %s\n", describeSignature(res.SignatureInfo))
	if res.Note != "" {
		fmt.Fprintf(w, "note: %s\n", res.Note)
	}
	return nil
}

func formatSuffix(f string) string {
	if f == "" {
		return ""
	}
	return ", " + f
}

func describeSignature(s core.SignatureInfo) string {
	switch s.Status {
	case core.SigVerified:
		out := "verified, signed by " + s.Signer
		if s.SignerName != "" {
			out += " (" + s.SignerName + ")"
		}
		if s.SignedAt != nil {
			out += " on " + s.SignedAt.UTC().Format(time.DateOnly)
		}
		return out
	case core.SigUnsigned:
		if s.Note != "" {
			return s.Note
		}
		return "checksum over HTTPS; not signed upstream"
	}
	if s.Note != "" {
		return s.Status + ": " + s.Note
	}
	return s.Status
}

func runDir(ctx context.Context, r *runner, pos []string) error {
	if len(pos) != 0 {
		return usagef("dir takes no arguments")
	}
	m, err := r.manager(ctx)
	if err != nil {
		return err
	}
	if err := m.Cache().Err(); err != nil {
		return fmt.Errorf("%w\n  → set HOME, or choose a cache folder with --cache-dir or VMIMAGES_CACHE_DIR", err)
	}
	// Made for the user to open; a folder that cannot be made yet (a
	// read-only disk, a missing mount) is still the answer to "where".
	_ = m.Cache().Create()
	fmt.Fprintln(r.env.Stdout, m.CacheDir())
	return nil
}
