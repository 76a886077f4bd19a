package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestLoadMissingIsZero(t *testing.T) {
	c, err := Load(filepath.Join(t.TempDir(), "nope.toml"))
	if err != nil || !reflect.DeepEqual(c, Config{}) {
		t.Fatalf("Load(missing) = %+v, %v", c, err)
	}
	if c.ParallelOrDefault() != DefaultParallel || c.BandwidthBytes() != 0 {
		t.Errorf("defaults: parallel %d, bandwidth %d", c.ParallelOrDefault(), c.BandwidthBytes())
	}
}

func TestLoadErrors(t *testing.T) {
	for _, tc := range []struct {
		name, text, want string
	}{
		{"syntax", "parallel = 3\nconvert = \n", ":2:"},
		{"unknown key", "paralel = 3\n", "unknown setting \"paralel\""},
		{"bad convert", "convert = \"sometimes\"\n", "convert must be"},
		{"bad parallel", "parallel = 99\n", "parallel must be"},
		{"bad bandwidth", "bandwidth = \"fast\"\n", "bandwidth"},
		{"registry not oci", "registry = \"https://registry.lab/x\"\n", "registry: not a registry address"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "config.toml")
			os.WriteFile(p, []byte(tc.text), 0o644)
			_, err := Load(p)
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want ErrInvalid mentioning %q", err, tc.want)
			}
		})
	}
}

func TestSaveLoadRoundTrip(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "sub", "config.toml")
	in := Config{CacheDir: "/data/vm", Parallel: 5, Bandwidth: "20M", Convert: ConvertAlways,
		Mirrors: map[string]string{"debian": "https://m.example/debian/"}, Insecure: []string{"alpine"},
		Keys: []Key{{Distro: "mine", Fingerprint: "ABCD", File: filepath.Join(dir, "k.asc")}}}
	if err := in.Save(p); err != nil {
		t.Fatal(err)
	}
	out, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(in, out) {
		t.Errorf("round trip:\n in  %+v\n out %+v", in, out)
	}
	if out.BandwidthBytes() != 20<<20 || out.ParallelOrDefault() != 5 {
		t.Errorf("derived values: %d %d", out.BandwidthBytes(), out.ParallelOrDefault())
	}
	if err := (Config{Convert: "x"}).Save(p); err == nil {
		t.Error("saving an invalid config must fail")
	}
	if again, _ := Load(p); !reflect.DeepEqual(again, in) {
		t.Error("a failed save damaged the file")
	}
}

func TestRelativeKeyFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "config.toml")
	os.WriteFile(p, []byte("[[keys]]\ndistro = \"mine\"\nfingerprint = \"AB\"\nfile = \"mine.asc\"\n"), 0o644)
	c, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	if c.Keys[0].File != filepath.Join(dir, "mine.asc") {
		t.Errorf("key file %q, want it relative to the settings folder", c.Keys[0].File)
	}
}

func TestRegistrySettings(t *testing.T) {
	p := filepath.Join(t.TempDir(), "config.toml")
	if err := os.WriteFile(p, []byte("registry = \"oci://registry.lab:5000/vmimages\"\ninsecure_registries = [\"registry.lab:5000\"]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := Load(p)
	if err != nil || c.Registry != "oci://registry.lab:5000/vmimages" || !reflect.DeepEqual(c.InsecureRegistries, []string{"registry.lab:5000"}) {
		t.Fatalf("Load = %+v, %v", c, err)
	}
	// Switched off, the address is kept.
	c.RegistryOff = true
	if err := c.Save(p); err != nil {
		t.Fatal(err)
	}
	c, err = Load(p)
	if err != nil || !c.RegistryOff || c.Registry != "oci://registry.lab:5000/vmimages" {
		t.Fatalf("after saving registry_off: %+v, %v", c, err)
	}
}
