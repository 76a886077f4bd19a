package cache

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/adrg/xdg"

	"vmimages/core/manifest"
)

var t0 = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

func openTest(t *testing.T) *Cache {
	t.Helper()
	c, err := Open(t.TempDir(), WithClock(func() time.Time { return t0 }))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func sha(b []byte) manifest.Digest {
	s := sha256.Sum256(b)
	return manifest.Digest{Algorithm: manifest.SHA256, Hex: hex.EncodeToString(s[:])}
}

// putImage creates a complete image with the given files (name → content)
// and metadata recording them.
func putImage(t *testing.T, c *Cache, k Key, files map[string]string, pulled time.Time) *Meta {
	t.Helper()
	unlock, ok, err := c.TryLock(k)
	if err != nil || !ok {
		t.Fatalf("TryLock(%s) = %v, %v", k, ok, err)
	}
	defer unlock()
	m := &Meta{Distro: k.Distro, Version: k.Version, Arch: k.Arch, Build: "20250601", PulledAt: pulled}
	for _, role := range []string{RoleKernel, RoleInitramfs, RoleDisk} {
		name := AssetName(role, "qcow2")
		body, ok := files[name]
		if !ok {
			continue
		}
		if err := os.WriteFile(filepath.Join(c.Dir(k), name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		format := ""
		if role == RoleDisk {
			format = "qcow2"
		}
		m.Assets = append(m.Assets, AssetMeta{Role: role, File: name, URL: "https://example.org/" + name,
			Digest: sha([]byte(body)), Size: int64(len(body)), Format: format})
	}
	if err := c.WriteMeta(m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestKeyValidate(t *testing.T) {
	good := []Key{
		{"ubuntu", "24.04", "x86_64"},
		{"debian", "12", "aarch64"},
		{"fedora", "41-1.4", "x86_64"},
		{"a", "0", "z"},
		{strings.Repeat("a", 64), "1", "x"},
	}
	for _, k := range good {
		if err := k.Validate(); err != nil {
			t.Errorf("Validate(%q) = %v, want nil", k, err)
		}
	}
	bad := []Key{
		{"", "24.04", "x86_64"},
		{".", "24.04", "x86_64"},
		{"..", "24.04", "x86_64"},
		{"ubuntu", "..", "x86_64"},
		{"ubuntu", "24.04", "."},
		{"../etc", "24.04", "x86_64"},
		{"ubuntu", "24.04/../../..", "x86_64"},
		{"ubuntu", "/etc", "x86_64"},
		{"ubuntu", "24.04", "x86_64\x00"},
		{"Ubuntu", "24.04", "x86_64"},
		{"ubuntu", ".hidden", "x86_64"},
		{"ubuntu", "-rf", "x86_64"},
		{"ubuntu", "24 04", "x86_64"},
		{"ubuntu", "24.04\n", "x86_64"},
		{"ubuntu", "24.04", `x86\64`},
		{"übuntu", "24.04", "x86_64"},
		{strings.Repeat("a", 65), "1", "x"},
	}
	c := openTest(t)
	for _, k := range bad {
		if err := k.Validate(); !errors.Is(err, ErrBadKey) {
			t.Errorf("Validate(%q) = %v, want ErrBadKey", k, err)
		}
		// Every entry point that touches the disk refuses it too.
		if _, _, err := c.TryLock(k); !errors.Is(err, ErrBadKey) {
			t.Errorf("TryLock(%q) = %v, want ErrBadKey", k, err)
		}
		if err := c.Remove(t.Context(), k); !errors.Is(err, ErrBadKey) {
			t.Errorf("Remove(%q) = %v, want ErrBadKey", k, err)
		}
		if _, err := c.ReadMeta(k); !errors.Is(err, ErrBadKey) {
			t.Errorf("ReadMeta(%q) = %v, want ErrBadKey", k, err)
		}
		if _, err := c.Verify(t.Context(), k); !errors.Is(err, ErrBadKey) {
			t.Errorf("Verify(%q) = %v, want ErrBadKey", k, err)
		}
		if err := c.Touch(k); !errors.Is(err, ErrBadKey) {
			t.Errorf("Touch(%q) = %v, want ErrBadKey", k, err)
		}
		m := &Meta{Distro: k.Distro, Version: k.Version, Arch: k.Arch}
		if err := c.WriteMeta(m); !errors.Is(err, ErrBadKey) {
			t.Errorf("WriteMeta(%q) = %v, want ErrBadKey", k, err)
		}
	}
	// Nothing was created.
	if ents, _ := os.ReadDir(c.Root()); len(ents) != 0 {
		t.Errorf("root holds %d entries, want none", len(ents))
	}
}

func TestAssetName(t *testing.T) {
	tests := []struct{ role, format, want string }{
		{RoleKernel, "", "vmlinuz"},
		{RoleInitramfs, "", "initramfs"},
		{RoleDisk, "qcow2", "disk.qcow2"},
		{RoleDisk, "QCOW2", "disk.qcow2"},
		{RoleDisk, "raw", "disk.img"},
		{RoleDisk, "", "disk.img"},
		{RoleDisk, "vmdk", "disk.img"},
		{RoleDiskRaw, "", "disk.raw"},
		{"dtb", "", ""},
	}
	for _, tt := range tests {
		if got := AssetName(tt.role, tt.format); got != tt.want {
			t.Errorf("AssetName(%q, %q) = %q, want %q", tt.role, tt.format, got, tt.want)
		}
	}
}

func TestOpen(t *testing.T) {
	root := filepath.Join(t.TempDir(), "a", "b")
	c, err := Open(root)
	if err != nil {
		t.Fatal(err)
	}
	// Opening creates nothing; the first change makes the folder.
	if _, err := os.Stat(root); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Open created %s: %v", root, err)
	}
	if images, err := c.List(t.Context()); err != nil || len(images) != 0 {
		t.Fatalf("List of a cache not yet made = %v, %v", images, err)
	}
	tx, err := c.Begin(t.Context(), Key{"ubuntu", "24.04", "x86_64"})
	if err != nil {
		t.Fatal(err)
	}
	tx.Abort()
	tag, err := os.ReadFile(filepath.Join(root, "CACHEDIR.TAG"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(tag), "Signature: 8a477f597d28d172789f06886806bc55") {
		t.Errorf("CACHEDIR.TAG = %q", tag)
	}
	if fi, err := os.Stat(filepath.Join(root, "images")); err != nil || !fi.IsDir() {
		t.Errorf("images dir: %v", err)
	}
	k := Key{"ubuntu", "24.04", "x86_64"}
	if got, want := c.Dir(k), filepath.Join(root, "images", "ubuntu", "24.04", "x86_64"); got != want {
		t.Errorf("Dir = %q, want %q", got, want)
	}
	if got, want := c.PartialDir(k), filepath.Join(c.Dir(k), ".partial"); got != want {
		t.Errorf("PartialDir = %q, want %q", got, want)
	}
	// Opening again keeps the tag and succeeds.
	if _, err := Open(root); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(""); err == nil {
		t.Error("Open(\"\") succeeded")
	}
}

func TestDefaultRoot(t *testing.T) {
	t.Cleanup(xdg.Reload)
	dir := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", dir)
	xdg.Reload()
	if got, err := DefaultRoot(); got != filepath.Join(dir, "vmimages") || err != nil {
		t.Errorf("DefaultRoot() = %q, %v, want %q", got, err, filepath.Join(dir, "vmimages"))
	}
	t.Setenv("XDG_CACHE_HOME", "")
	t.Setenv("HOME", "")
	xdg.Reload()
	if got, err := DefaultRoot(); !errors.Is(err, ErrNoRoot) {
		t.Errorf("without HOME: DefaultRoot() = %q, %v, want ErrNoRoot", got, err)
	}
}

func TestMetaRoundTrip(t *testing.T) {
	c := openTest(t)
	k := Key{"debian", "12", "x86_64"}
	if _, err := c.ReadMeta(k); !errors.Is(err, ErrNotCached) {
		t.Fatalf("ReadMeta before pull = %v, want ErrNotCached", err)
	}
	m := putImage(t, c, k, map[string]string{"vmlinuz": "k", "disk.qcow2": "d"}, t0.Add(-time.Hour))
	m.Signature = &SignatureMeta{Status: SignatureVerified, Signer: "Debian CD signing key", SignedAt: t0, ManifestURL: "https://example.org/SHA512SUMS"}
	m.DiskRaw = nil
	if err := c.WriteMeta(m); err != nil {
		t.Fatal(err)
	}
	got, err := c.ReadMeta(k)
	if err != nil {
		t.Fatal(err)
	}
	a, b := mustJSON(t, m), mustJSON(t, got)
	if a != b {
		t.Errorf("round trip differs:\n%s\n%s", a, b)
	}
	raw, _ := os.ReadFile(filepath.Join(c.Dir(k), "meta.json"))
	if !strings.Contains(string(raw), `"digest": "sha256:`) {
		t.Errorf("digest not written as sha256:<hex>: %s", raw)
	}
	if err := c.Touch(k); err != nil {
		t.Fatal(err)
	}
	got, _ = c.ReadMeta(k)
	if !got.LastUsed.Equal(t0) {
		t.Errorf("LastUsed after Touch = %v, want %v", got.LastUsed, t0)
	}
	// No temporary files are left behind.
	ents, _ := os.ReadDir(c.Dir(k))
	for _, e := range ents {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Errorf("left %s", e.Name())
		}
	}
	if err := c.Touch(Key{"debian", "13", "x86_64"}); !errors.Is(err, ErrNotCached) {
		t.Errorf("Touch of missing image = %v, want ErrNotCached", err)
	}
}

func mustJSON(t *testing.T, v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestMetaHostileFileNames(t *testing.T) {
	c := openTest(t)
	k := Key{"debian", "12", "x86_64"}
	putImage(t, c, k, map[string]string{"vmlinuz": "k"}, t0)
	for _, name := range []string{"", ".", "..", "../../../etc/passwd", "/etc/passwd", "a/b", "meta.json", ".lock", ".partial", "Disk"} {
		m := &Meta{Distro: k.Distro, Version: k.Version, Arch: k.Arch,
			Assets: []AssetMeta{{Role: RoleDisk, File: name}}}
		if err := c.WriteMeta(m); !errors.Is(err, ErrBadMeta) {
			t.Errorf("WriteMeta with file %q = %v, want ErrBadMeta", name, err)
		}
		// A tampered meta.json is refused on read as well.
		b, _ := json.Marshal(m)
		if err := os.WriteFile(filepath.Join(c.Dir(k), "meta.json"), b, 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := c.ReadMeta(k); !errors.Is(err, ErrBadMeta) {
			t.Errorf("ReadMeta with file %q = %v, want ErrBadMeta", name, err)
		}
	}
	// A meta.json naming another image is refused.
	m := &Meta{Distro: "ubuntu", Version: "12", Arch: "x86_64"}
	b, _ := json.Marshal(m)
	os.WriteFile(filepath.Join(c.Dir(k), "meta.json"), b, 0o644)
	if _, err := c.ReadMeta(k); !errors.Is(err, ErrBadMeta) {
		t.Errorf("ReadMeta of foreign meta = %v, want ErrBadMeta", err)
	}
}
