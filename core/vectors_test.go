package core

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"vmimages/core/catalog"
	"vmimages/core/manifest"
	"vmimages/internal/mirrortest"
)

// These tests resolve through the distributions' real signed manifests
// (copied into core/trust/testdata) served from a loopback mirror, so the
// whole path — listing, manifest, signature by the pinned key, digest from
// the signed text — runs on published bytes.

func TestResolveRealUbuntuRelease(t *testing.T) {
	sums, err := os.ReadFile("trust/testdata/ubuntu/jammy-release-20260722/SHA256SUMS")
	if err != nil {
		t.Fatal(err)
	}
	sig, err := os.ReadFile("trust/testdata/ubuntu/jammy-release-20260722/SHA256SUMS.gpg")
	if err != nil {
		t.Fatal(err)
	}
	srv := mirrortest.New(t)
	dir := "/ubuntu/jammy/release-20260722/"
	srv.Put(dir+"SHA256SUMS", sums)
	srv.Put(dir+"SHA256SUMS.gpg", sig)
	srv.Put("/ubuntu/jammy/release-20251010/SHA256SUMS", []byte("old"))
	kernel, initrd := []byte("kernel"), []byte("initrd")
	srv.Put(dir+"unpacked/SHA256SUMS", mirrortest.GNU(true, mirrortest.SHA256, map[string][]byte{
		"ubuntu-22.04-server-cloudimg-amd64-vmlinuz-generic": kernel,
		"ubuntu-22.04-server-cloudimg-amd64-initrd-generic":  initrd,
	}))
	// The built-in entry: the disk's manifest verifies by the real key,
	// but unpacked/SHA256SUMS has no signature beside it (Ubuntu publishes
	// one; this mirror stripped it). Fail closed, naming it.
	m := newManager(t, map[string]string{"ubuntu": srv.URL + "/ubuntu/"}, nil)
	_, err = m.Resolve(context.Background(), catalog.Ref{Distro: "ubuntu", Version: "jammy", Arch: "amd64"})
	if !IsIntegrity(err) || !strings.Contains(err.Error(), dir+"unpacked/SHA256SUMS.gpg") {
		t.Fatalf("stripped unpacked/SHA256SUMS.gpg: %v, want an integrity error naming it", err)
	}

	// A disk-only entry shows the real signature path end to end.
	overlays := t.TempDir()
	os.WriteFile(filepath.Join(overlays, "ubuntu.toml"), []byte(ubuntuDiskOnly), 0o644)
	m = newManager(t, map[string]string{"ubuntu": srv.URL + "/ubuntu/"}, func(o *Options) { o.OverlayDir = overlays })
	res, err := m.Resolve(context.Background(), catalog.Ref{Distro: "ubuntu", Version: "jammy", Arch: "amd64"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Build != "20260722" {
		t.Errorf("build %s", res.Build)
	}
	if d := res.Disk(); d.Digest.String() != "sha256:757908b2fd6d5b1431bb45070fc1f56cbf017d4025568d292ece37d9cc75e812" ||
		d.URL != srv.URL+dir+"ubuntu-22.04-server-cloudimg-amd64.img" {
		t.Errorf("disk = %+v", d)
	}
	s := res.SignatureInfo
	if s.Status != SigVerified || s.Signer != "D2EB44626FDDC30B513D5BB71A5D6C4C7DB87C81" || s.SignedAt == nil ||
		s.SignedAt.UTC().Format(time.DateOnly) != "2026-07-22" {
		t.Errorf("signature = %+v", s)
	}
	if res.AssetSignatures[catalog.RoleDisk] != SigVerified {
		t.Errorf("disk signature %q", res.AssetSignatures[catalog.RoleDisk])
	}

	// One changed byte in the signed manifest: refused, nothing trusted.
	srv.Put(dir+"SHA256SUMS", bytes.Replace(sums, []byte("757908b2"), []byte("757908b3"), 1))
	_, err = m.Resolve(context.Background(), catalog.Ref{Distro: "ubuntu", Version: "22.04", Arch: "x86_64"})
	if !IsIntegrity(err) || !strings.Contains(err.Error(), "D2EB44626FDDC30B513D5BB71A5D6C4C7DB87C81") {
		t.Errorf("tampered SHA256SUMS: %v (want an integrity error naming the expected signer)", err)
	}
	// A missing signature on the disk's manifest is refused too.
	srv.Put(dir+"SHA256SUMS", sums)
	srv.SetFault(func(w http.ResponseWriter, r *http.Request) bool {
		if strings.HasSuffix(r.URL.Path, dir+"SHA256SUMS.gpg") {
			http.NotFound(w, r)
			return true
		}
		return false
	})
	if _, err := m.Resolve(context.Background(), catalog.Ref{Distro: "ubuntu", Version: "22.04", Arch: "x86_64"}); !IsIntegrity(err) {
		t.Errorf("missing SHA256SUMS.gpg: %v, want an integrity error", err)
	}
}

// ubuntuDiskOnly is Ubuntu's built-in entry without the unpacked/ files.
const ubuntuDiskOnly = `
[[distro]]
id = "ubuntu"
name = "Ubuntu Server"
base = "https://cloud-images.ubuntu.com/releases/"
boot = "firmware"
arches = { x86_64 = "amd64" }
signature = { kind = "detached", file = "{checksums}.gpg", keys = ["D2EB44626FDDC30B513D5BB71A5D6C4C7DB87C81"] }
discover = [{ list = "{codename}/", match = 'release-(?P<build>\d{8}(?:\.\d+)?)/' }]
dir = "{codename}/release-{build}/"
assets = [{ role = "disk", file = "ubuntu-{version}-server-cloudimg-{arch}.img", format = "qcow2", checksums = "SHA256SUMS" }]
versions = [{ version = "22.04", codename = "jammy" }]
`

func TestResolveRealFedoraClearsigned(t *testing.T) {
	checksum, err := os.ReadFile("trust/testdata/fedora/Fedora-Cloud-44-1.7-aarch64-CHECKSUM")
	if err != nil {
		t.Fatal(err)
	}
	srv := mirrortest.New(t)
	dir := "/fedora/44/Cloud/aarch64/images/"
	srv.Put(dir+"Fedora-Cloud-44-1.7-aarch64-CHECKSUM", checksum)
	srv.Put(dir+"Fedora-Cloud-Base-Generic-44-1.7.aarch64.qcow2", []byte("stand-in"))
	srv.Put(dir+"Fedora-Cloud-Base-UEFI-UKI-44-1.7.aarch64.qcow2", []byte("stand-in"))
	m := newManager(t, map[string]string{"fedora": srv.URL + "/fedora/"}, nil)
	res, err := m.Resolve(context.Background(), catalog.Ref{Distro: "fedora", Version: "44", Arch: "arm64"})
	if err != nil {
		t.Fatal(err)
	}
	d := res.Disk()
	if d.Name != "Fedora-Cloud-Base-Generic-44-1.7.aarch64.qcow2" || d.Size != 528154624 ||
		d.Digest.Hex != "55c60a3b80d3616a08705afd0459e75fe9f03c54aba7a46e4002a41a72fa0d5b" {
		t.Errorf("disk = %+v", d)
	}
	if s := res.SignatureInfo; s.Status != SigVerified || s.Signer != "36F612DCF27F7D1A48A835E4DBFCF71C6D9F90A6" {
		t.Errorf("signature = %+v", s)
	}
	// The same text, but the mirror strips the signature: refused.
	start := bytes.Index(checksum, []byte("\n\n")) + 2
	end := bytes.Index(checksum, []byte("-----BEGIN PGP SIGNATURE-----"))
	srv.Put(dir+"Fedora-Cloud-44-1.7-aarch64-CHECKSUM", checksum[start:end])
	if _, err := m.Resolve(context.Background(), catalog.Ref{Distro: "fedora", Version: "44", Arch: "aarch64"}); !IsIntegrity(err) {
		t.Errorf("unsigned CHECKSUM: %v, want an integrity error", err)
	}
	// The signed text intact, but a mirror adds lines around it: the added
	// lines are not covered, so the manifest is refused as tampered (an
	// integrity failure, exit 3), before any image byte moves.
	for name, text := range map[string][]byte{
		"text before": append([]byte("SHA256 (evil.qcow2) = "+strings.Repeat("0", 64)+"\n"), checksum...),
		"text after":  append(append([]byte{}, checksum...), "SHA256 (evil.qcow2) = 00\n"...),
	} {
		srv.Put(dir+"Fedora-Cloud-44-1.7-aarch64-CHECKSUM", text)
		_, err := m.Resolve(context.Background(), catalog.Ref{Distro: "fedora", Version: "44", Arch: "aarch64"})
		if !IsIntegrity(err) || !errors.Is(err, manifest.ErrOutsideSignature) {
			t.Errorf("%s the clearsigned message: %v, want an integrity error", name, err)
		}
	}
	if n := srv.Count(".qcow2"); n != 0 {
		t.Errorf("the image was requested %d times", n)
	}
}
