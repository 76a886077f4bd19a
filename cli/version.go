package cli

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"

	"vmimages/core/catalog"
	"vmimages/core/trust"
)

// versionDoc is `vmimages version --json`.
type versionDoc struct {
	Version   string `json:"version"`
	Commit    string `json:"commit"`
	GoVersion string `json:"go_version"`
	OS        string `json:"os"`
	Arch      string `json:"arch"`
	// GUI is true when the window is built in (false for -tags nogui).
	GUI bool `json:"gui"`
	// Keys are the signing keys pinned in this binary, per distro.
	Keys []pinnedKey `json:"pinned_keys"`
}

type pinnedKey struct {
	Distro      string `json:"distro"`
	Fingerprint string `json:"fingerprint"`
}

func runVersion(ctx context.Context, r *runner, pos []string) error {
	if len(pos) != 0 {
		return usagef("version takes no arguments")
	}
	doc, err := r.versionDoc()
	if err != nil {
		return err
	}
	if r.o.json {
		return r.printJSON(doc)
	}
	w := r.env.Stdout
	fmt.Fprintf(w, "vmimages %s\n", doc.Version)
	if doc.Commit != "" {
		fmt.Fprintf(w, "commit:  %s\n", doc.Commit)
	}
	fmt.Fprintf(w, "go:      %s %s/%s\n", doc.GoVersion, doc.OS, doc.Arch)
	window := "built in"
	if !doc.GUI {
		window = "not in this build (nogui)"
	}
	fmt.Fprintf(w, "window:  %s\n", window)
	fmt.Fprintf(w, "pinned signing keys:\n")
	for _, k := range doc.Keys {
		fmt.Fprintf(w, "  %-10s %s\n", k.Distro, trust.FormatFingerprint(k.Fingerprint))
	}
	return nil
}

func (r *runner) versionDoc() (versionDoc, error) {
	doc := versionDoc{Version: r.env.Version, Commit: r.env.Commit, GoVersion: runtime.Version(),
		OS: runtime.GOOS, Arch: runtime.GOARCH, GUI: r.env.GUI, Keys: []pinnedKey{}}
	if doc.Commit == "" {
		doc.Commit = vcsRevision()
	}
	cat, err := catalog.Embedded()
	if err != nil {
		return doc, err
	}
	for _, d := range cat.Distros {
		for _, fp := range trust.Fingerprints(d.ID) {
			doc.Keys = append(doc.Keys, pinnedKey{Distro: d.ID, Fingerprint: fp})
		}
	}
	return doc, nil
}

// vcsRevision is the commit the go command stamped into the binary, when it
// did (not with -buildvcs=false, nor for a build outside a checkout).
func vcsRevision() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	var rev, modified string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			modified = s.Value
		}
	}
	if rev != "" && modified == "true" {
		rev += "-dirty"
	}
	return rev
}
