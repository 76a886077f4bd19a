package discover_test

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/BurntSushi/toml"

	"vmimages/core/catalog"
	"vmimages/core/discover"
	"vmimages/core/trust"
)

func embedded(t *testing.T) *catalog.Catalog {
	t.Helper()
	cat, err := catalog.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	return cat
}

func version(t *testing.T, cat *catalog.Catalog, distro, name string) *catalog.Version {
	t.Helper()
	d, err := cat.Distro(distro)
	if err != nil {
		t.Fatal(err)
	}
	v, err := d.Version(name)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// embeddedWithout is the shipped catalog without one release, to test how a
// release upstream that the catalog lacks is added.
func embeddedWithout(t *testing.T, distro, name string) *catalog.Catalog {
	t.Helper()
	cat := embedded(t)
	d, err := cat.Distro(distro)
	if err != nil {
		t.Fatal(err)
	}
	d.Versions = slices.DeleteFunc(d.Versions, func(v *catalog.Version) bool { return v.Version == name })
	return cat
}

func latest(t *testing.T, cat *catalog.Catalog, distro string) string {
	t.Helper()
	d, err := cat.Distro(distro)
	if err != nil {
		t.Fatal(err)
	}
	return d.Latest().Version
}

// stillValid round-trips the catalog through TOML and catalog.Load, which
// validates every entry.
func stillValid(t *testing.T, cat *catalog.Catalog) {
	t.Helper()
	var buf bytes.Buffer
	if err := toml.NewEncoder(&buf).Encode(cat); err != nil {
		t.Fatal(err)
	}
	loaded, err := catalog.Load(&buf, "applied")
	if err != nil {
		t.Fatalf("catalog after Apply no longer loads: %v", err)
	}
	if !slices.Equal(loaded.IDs(), cat.IDs()) {
		t.Fatalf("reloaded distros %q, want %q", loaded.IDs(), cat.IDs())
	}
	for i, d := range cat.Distros {
		if got, want := loaded.Distros[i].VersionNames(), d.VersionNames(); !slices.Equal(got, want) {
			t.Fatalf("reloaded %s versions %q, want %q", d.ID, got, want)
		}
	}
}

// TestApplyRefreshed lays the snapshot of the loopback upstreams over the
// shipped catalog.
func TestApplyRefreshed(t *testing.T) {
	u := newUpstream(t, upstreamFiles)
	snap, _ := loopbackOptions(u).Refresh(context.Background(), u.fetcher, catalogAt(t, u), time.Now())
	cat := embeddedWithout(t, "ubuntu", "26.10")
	a324 := embeddedWithout(t, "alpine", "3.24")
	alpine, _ := a324.Distro("alpine")
	d, _ := cat.Distro("alpine")
	*d = *alpine

	ch := discover.ApplyChanges(cat, snap)

	wantAdded := []string{"ubuntu 26.10 (stonking)", "fedora 45", "alpine 3.24, preview"}
	if !slices.Equal(ch.Added, wantAdded) {
		t.Errorf("added %q, want %q", ch.Added, wantAdded)
	}
	wantUpdated := []string{
		"ubuntu 22.04 (jammy): end of life 2027-06-01",
		"ubuntu 25.10 (questing): end of life 2026-07-09",
		"ubuntu 25.10 (questing): no longer supported upstream",
		"ubuntu 26.04 (resolute): end of life 2031-05-29",
		// Fedora supports its two newest releases: 45 is out.
		"fedora 42: no longer supported upstream (Fedora 45 is out)",
		"fedora 43: no longer supported upstream (Fedora 45 is out)",
	}
	if !slices.Equal(ch.Updated, wantUpdated) {
		t.Errorf("updated\n got %q\nwant %q", ch.Updated, wantUpdated)
	}
	// Fedora 40 is listed and supported, but no key for it is pinned.
	if len(ch.Skipped) != 1 || !strings.HasPrefix(ch.Skipped[0], "fedora 40: no signing key pinned") {
		t.Errorf("skipped %q; want fedora 40 for want of a key", ch.Skipped)
	}

	// Ubuntu 26.10 is the new latest, modelled on 26.04.
	if got := latest(t, cat, "ubuntu"); got != "26.10" {
		t.Errorf("ubuntu latest = %s, want 26.10", got)
	}
	v := version(t, cat, "ubuntu", "stonking")
	want := &catalog.Version{Version: "26.10", Codename: "stonking", Arches: []string{"aarch64", "x86_64"}, EOL: "2027-07-01"}
	if !reflect.DeepEqual(v, want) {
		t.Errorf("ubuntu 26.10 = %+v, want %+v", v, want)
	}
	if _, _, arch, err := cat.Lookup(catalog.Ref{Distro: "ubuntu", Version: "latest", Arch: "amd64"}); err != nil || arch != "x86_64" {
		t.Errorf("Lookup(ubuntu latest amd64) = %q, %v", arch, err)
	}
	if v := version(t, cat, "ubuntu", "25.10"); !v.Unsupported || v.Preview {
		t.Errorf("ubuntu 25.10 is unsupported upstream: want Unsupported (not Preview), got %+v", v)
	}

	// Fedora 45 carries its own release key.
	f45 := version(t, cat, "fedora", "45")
	if key := trust.FedoraKey("45"); key == "" || !slices.Equal(f45.Keys, []string{key}) {
		t.Errorf("fedora 45 keys = %q, want [%q]", f45.Keys, key)
	}
	if got := latest(t, cat, "fedora"); got != "45" {
		t.Errorf("fedora latest = %s, want 45", got)
	}

	// Alpine does not say what it supports: 3.24 is there, but not latest.
	if got := latest(t, cat, "alpine"); got != "3.23" {
		t.Errorf("alpine latest = %s, want 3.23", got)
	}
	if !version(t, cat, "alpine", "3.24").Preview {
		t.Error("alpine 3.24 is not a preview")
	}
	// Rocky ships 8, 9 and 10; the listing has nothing new.
	d, _ = cat.Distro("rocky")
	if got := d.VersionNames(); !slices.Equal(got, []string{"8", "9", "10"}) {
		t.Errorf("rocky versions = %q", got)
	}
	if got := latest(t, cat, "fedora"); got != "45" {
		t.Errorf("fedora latest = %s, want 45", got)
	}
	if !version(t, cat, "fedora", "43").Unsupported || version(t, cat, "fedora", "44").Unsupported {
		t.Error("fedora 43 should be unsupported once 45 is out, and 44 not")
	}

	stillValid(t, cat)

	// Applying again changes nothing.
	if again := discover.ApplyChanges(cat, snap); len(again.Added)+len(again.Updated) != 0 {
		t.Errorf("second apply: %+v", again)
	}
}

func TestApplyLatest(t *testing.T) {
	yes, no := true, false
	tests := []struct {
		name       string
		supported  *bool
		wantAdded  string
		wantLatest string
	}{
		{"supported", &yes, "ubuntu 26.10 (stonking)", "26.10"},
		{"unsupported", &no, "ubuntu 26.10 (stonking), preview", "26.04"},
		{"unknown", nil, "ubuntu 26.10 (stonking), preview", "26.04"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cat := embeddedWithout(t, "ubuntu", "26.10")
			snap := &discover.Snapshot{Distros: map[string][]discover.Found{
				"ubuntu": {{Version: "26.10", Codename: "stonking", Supported: tt.supported}},
			}}
			added := discover.Apply(cat, snap)
			if !slices.Equal(added, []string{tt.wantAdded}) {
				t.Errorf("added %q, want [%q]", added, tt.wantAdded)
			}
			if got := latest(t, cat, "ubuntu"); got != tt.wantLatest {
				t.Errorf("latest = %s, want %s", got, tt.wantLatest)
			}
			// Asked for by name or codename, it is there either way.
			if v := version(t, cat, "ubuntu", "stonking"); v.Version != "26.10" || v.Preview == (tt.supported != nil && *tt.supported) {
				t.Errorf("26.10 = %+v", v)
			}
			d, _ := cat.Distro("ubuntu")
			if got := d.VersionNames(); !slices.Equal(got, []string{"22.04", "24.04", "25.10", "26.04", "26.10"}) {
				t.Errorf("versions = %q", got)
			}
			stillValid(t, cat)
		})
	}
}

func TestApplyCases(t *testing.T) {
	yes, no := true, false
	tests := []struct {
		name        string
		distro      string
		found       []discover.Found
		wantAdded   []string
		wantSkipped []string
		check       func(t *testing.T, cat *catalog.Catalog)
	}{
		{name: "fedora without a pinned key", distro: "fedora",
			found:       []discover.Found{{Version: "99", Supported: &yes}},
			wantSkipped: []string{"fedora 99: no signing key pinned for Fedora 99 in this build"},
			check: func(t *testing.T, cat *catalog.Catalog) {
				if got := latest(t, cat, "fedora"); got != "44" {
					t.Errorf("latest = %s, want 44", got)
				}
			}},
		{name: "old unsupported release is not news", distro: "ubuntu",
			found: []discover.Found{{Version: "20.04", Codename: "focal", Supported: &no}}},
		{name: "old supported release is added in order", distro: "ubuntu",
			found:     []discover.Found{{Version: "25.04", Codename: "plucky", Supported: &yes, Arches: []string{"x86_64", "armv7l"}}},
			wantAdded: []string{"ubuntu 25.04 (plucky)"},
			check: func(t *testing.T, cat *catalog.Catalog) {
				d, _ := cat.Distro("ubuntu")
				if got := d.VersionNames(); !slices.Equal(got, []string{"22.04", "24.04", "25.04", "25.10", "26.04"}) {
					t.Errorf("versions = %q", got)
				}
				// armv7l has no spelling in the entry.
				if got := version(t, cat, "ubuntu", "25.04").Arches; !slices.Equal(got, []string{"x86_64"}) {
					t.Errorf("arches = %q", got)
				}
			}},
		{name: "no known arch keeps the model's", distro: "rocky",
			found:     []discover.Found{{Version: "11", Arches: []string{"riscv64"}}},
			wantAdded: []string{"rocky 11, preview"},
			check: func(t *testing.T, cat *catalog.Catalog) {
				v := version(t, cat, "rocky", "11")
				if len(v.Arches) != 0 || v.Keys != nil || !v.Preview {
					t.Errorf("rocky 11 = %+v; want the distro's arches and keys, preview", v)
				}
			}},
		{name: "hostile snapshot", distro: "ubuntu",
			found: []discover.Found{
				{Version: "../../etc", Supported: &yes},
				{Version: "27.04 beta", Supported: &yes},
				{Version: "27.04", Codename: "Evil Name", EOL: "soon", Supported: &yes},
			},
			wantAdded:   []string{"ubuntu 27.04"},
			wantSkipped: []string{`ubuntu "../../etc": not a release number`, `ubuntu "27.04 beta": not a release number`},
			check: func(t *testing.T, cat *catalog.Catalog) {
				if v := version(t, cat, "ubuntu", "27.04"); v.Codename != "" || v.EOL != "" {
					t.Errorf("27.04 = %+v; want the bad codename and EOL dropped", v)
				}
			}},
		{name: "support is not restored", distro: "ubuntu",
			found: []discover.Found{{Version: "25.10", Supported: &no}, {Version: "26.04", Supported: &no}, {Version: "26.04", Supported: &yes}},
			check: func(t *testing.T, cat *catalog.Catalog) {
				if got := latest(t, cat, "ubuntu"); got != "24.04" {
					t.Errorf("latest = %s, want 24.04", got)
				}
			}},
		{name: "unknown distro ignored", distro: "plan9", found: []discover.Found{{Version: "4"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cat := embeddedWithout(t, "ubuntu", "26.10")
			ch := discover.ApplyChanges(cat, &discover.Snapshot{Distros: map[string][]discover.Found{tt.distro: tt.found}})
			if !slices.Equal(ch.Added, tt.wantAdded) {
				t.Errorf("added %q, want %q", ch.Added, tt.wantAdded)
			}
			if !slices.Equal(ch.Skipped, tt.wantSkipped) {
				t.Errorf("skipped %q, want %q", ch.Skipped, tt.wantSkipped)
			}
			if tt.check != nil {
				tt.check(t, cat)
			}
			stillValid(t, cat)
		})
	}
	if got := discover.Apply(embedded(t), nil); got != nil {
		t.Errorf("Apply(nil snapshot) = %q", got)
	}
}

// A new release copies the newest release's own overrides, and shares no
// slice or map with it.
func TestApplyCopiesModel(t *testing.T) {
	const entry = `
[[distro]]
id = "rocky"
base = "https://dl.rockylinux.org/pub/rocky/"
arches = { x86_64 = "x86_64", aarch64 = "aarch64" }
dir = "{version}/images/{arch}/"
assets = [{ role = "disk", file = "Rocky-{version}.{arch}.qcow2", checksums = "CHECKSUM" }]

  [[distro.versions]]
  version = "9"

  [[distro.versions]]
  version = "10"
  arches = ["x86_64"]
  keys = ["FC226859C0860BF0DDB95B085B106C736FEDFC85"]
  dir = "{minor}/images/{arch}/"
  vars = { minor = "10.2" }
  arch_vars = { x86_64 = { level = "v2" } }
  assets = [{ role = "disk", file = "Rocky-{minor}.{arch}.qcow2", checksums = "CHECKSUM" }]
`
	cat, err := catalog.Load(strings.NewReader(entry), "test")
	if err != nil {
		t.Fatal(err)
	}
	discover.Apply(cat, &discover.Snapshot{Distros: map[string][]discover.Found{"rocky": {{Version: "11"}}}})
	v10, v11 := version(t, cat, "rocky", "10"), version(t, cat, "rocky", "11")
	if !reflect.DeepEqual(v10.Spec, v11.Spec) || !slices.Equal(v10.Arches, v11.Arches) {
		t.Fatalf("rocky 11 = %+v; want the spec and arches of %+v", v11, v10)
	}
	if v11.Keys != nil {
		t.Errorf("rocky 11 keys = %q; another release's key is not its own", v11.Keys)
	}
	v11.Assets[0].File = "changed"
	v11.Vars["minor"] = "changed"
	v11.ArchVars["x86_64"]["level"] = "changed"
	v11.Arches[0] = "changed"
	if v10.Assets[0].File == "changed" || v10.Vars["minor"] == "changed" || v10.ArchVars["x86_64"]["level"] == "changed" || v10.Arches[0] == "changed" {
		t.Errorf("rocky 11 shares storage with 10: %+v", v10)
	}
}

func TestSnapshotSaveLoad(t *testing.T) {
	u := newUpstream(t, upstreamFiles)
	taken := time.Date(2026, 10, 20, 12, 0, 0, 0, time.UTC)
	snap, _ := loopbackOptions(u).Refresh(context.Background(), u.fetcher, catalogAt(t, u), taken)

	dir := t.TempDir()
	path := filepath.Join(dir, "state", "upstream.json")
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := snap.Save(path); err != nil {
		t.Fatal(err)
	}
	got, err := discover.LoadSnapshot(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, snap) {
		t.Errorf("round trip:\n got %+v\nwant %+v", got, snap)
	}
	// Nothing but the snapshot is left in the directory.
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("directory holds %v", entries)
	}
	// Save creates the directory.
	if err := snap.Save(filepath.Join(dir, "new", "s.json")); err != nil {
		t.Error(err)
	}

	bad := []struct {
		name, content string
		want          error
	}{
		{"missing", "", fs.ErrNotExist},
		{"garbage", "{", discover.ErrFormat},
		{"not a snapshot", `{"products": {}}`, discover.ErrFormat},
		{"wrong types", `{"taken": "yesterday", "distros": {}}`, discover.ErrFormat},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(dir, tt.name+".json")
			if tt.content != "" {
				if err := os.WriteFile(p, []byte(tt.content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := discover.LoadSnapshot(p); !errors.Is(err, tt.want) {
				t.Errorf("LoadSnapshot = %v, want %v", err, tt.want)
			}
		})
	}
}

// A major that Rocky or AlmaLinux still carry in pub/ is supported there, so
// a refresh adds it back even though it is older than the catalog's newest
// (AlmaLinux 8 and Rocky 8 are supported until 2029).
func TestApplyReaddsOlderMajor(t *testing.T) {
	u := newUpstream(t, upstreamFiles)
	snap, _ := loopbackOptions(u).Refresh(context.Background(), u.fetcher, catalogAt(t, u), time.Now())
	cat := embeddedWithout(t, "rocky", "8")
	ch := discover.ApplyChanges(cat, snap)
	if !slices.Contains(ch.Added, "rocky 8") {
		t.Errorf("added %q, want rocky 8", ch.Added)
	}
	if v := version(t, cat, "rocky", "8"); v.Preview || v.Unsupported {
		t.Errorf("rocky 8 = %+v, want a supported release", v)
	}
	if got := latest(t, cat, "rocky"); got != "10" {
		t.Errorf("rocky latest = %s, want 10", got)
	}
	stillValid(t, cat)
}
