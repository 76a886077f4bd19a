package registry

import (
	"encoding/json"
	"github.com/opencontainers/image-spec/specs-go"
	"strings"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

func TestParseTarget(t *testing.T) {
	for _, c := range []struct {
		in         string
		host, repo string
		ok         bool
	}{
		{"oci://registry.lab:5000/team/vmimages", "registry.lab:5000", "team/vmimages", true},
		{"oci://127.0.0.1:5000/lab", "127.0.0.1:5000", "lab", true},
		{"oci://[::1]:5000/lab/", "[::1]:5000", "lab", true},
		{"oci://ghcr.io", "ghcr.io", "", true},
		{"oci://Registry.Lab/a.b_c-d", "registry.lab", "a.b_c-d", true},
		{"https://registry.lab/x", "", "", false},
		{"oci://registry.lab/Team", "", "", false},
		{"oci://registry.lab/team:tag", "", "", false},
		{"oci://registry.lab:0/x", "", "", false},
		{"oci://registry.lab:99999/x", "", "", false},
		{"oci:///x", "", "", false},
		{"oci://a..b/x", "", "", false},
		{"oci://host/a//b", "", "", false},
		{"oci://[1.2.3.4]/x", "", "", false},
	} {
		got, err := ParseTarget(c.in)
		if (err == nil) != c.ok || got.Host != c.host || got.Repo != c.repo {
			t.Errorf("ParseTarget(%q) = %+v, %v", c.in, got, err)
		}
	}
}

func TestLoopbackAndPlainHTTP(t *testing.T) {
	c := &Client{opts: Options{Insecure: []string{"lab.example:5000", "other.example"}}}
	for in, want := range map[string]bool{
		"oci://127.0.0.1:5000/x": true, "oci://localhost/x": true, "oci://[::1]:80/x": true,
		"oci://lab.example:5000/x": true, "oci://lab.example:5001/x": false, "oci://other.example:1/x": true,
		"oci://127.example.com/x": false, "oci://10.0.0.1/x": false,
	} {
		tg, err := ParseTarget(in)
		if err != nil {
			t.Fatal(err)
		}
		if got := c.allowedPlain(tg); got != want {
			t.Errorf("allowedPlain(%s) = %v, want %v", in, got, want)
		}
	}
}

func FuzzParseTarget(f *testing.F) {
	f.Add("oci://registry.lab:5000/team/vmimages")
	f.Fuzz(func(t *testing.T, s string) {
		tg, err := ParseTarget(s)
		if err != nil {
			return
		}
		again, err := ParseTarget(tg.String())
		if err != nil || again != tg {
			t.Fatalf("%q → %+v → %q → %+v, %v", s, tg, tg.String(), again, err)
		}
		if strings.ContainsAny(tg.Repo, ":@ ") {
			t.Fatalf("repo %q", tg.Repo)
		}
	})
}

func FuzzParseManifest(f *testing.F) {
	f.Add([]byte(`{"schemaVersion":2}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		im, err := ParseManifest(b)
		if err != nil {
			return
		}
		if im.Layer(RoleDisk) == nil {
			t.Fatal("accepted without a disk")
		}
		for _, l := range im.Layers {
			if l.IsAsset() && (im.ChecksumsFor(l.Checksums) == nil || !l.UpstreamDigest.Strong()) {
				t.Fatalf("asset %+v without proof", l)
			}
			if strings.Contains(l.Name, "/") {
				t.Fatalf("name %q", l.Name)
			}
		}
		// What was accepted survives a round trip through the writer.
		var descs []ocispec.Descriptor
		for _, l := range im.Layers {
			descs = append(descs, l.descriptor())
		}
		out, _ := json.Marshal(ocispec.Manifest{Versioned: specsV2, MediaType: ocispec.MediaTypeImageManifest,
			ArtifactType: ArtifactType, Layers: descs, Annotations: im.annotations()})
		if _, err := ParseManifest(out); err != nil {
			t.Fatalf("re-encoded manifest refused: %v", err)
		}
	})
}

var specsV2 = specs.Versioned{SchemaVersion: 2}
