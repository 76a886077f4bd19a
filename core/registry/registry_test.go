package registry_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"oras.land/oras-go/v2/registry/remote/credentials"

	"vmimages/core/manifest"
	"vmimages/core/registry"
	"vmimages/internal/registrytest"
)

func writeFile(t *testing.T, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func sha(b []byte) manifest.Digest {
	s := sha256.Sum256(b)
	return manifest.Digest{Algorithm: manifest.SHA256, Hex: hex.EncodeToString(s[:])}
}

// testImage is a small image with a disk, a checksums file and a signature.
func testImage(t *testing.T, disk []byte) *registry.Image {
	sums := []byte(sha(disk).Hex + " *disk-1.qcow2\n")
	base := "https://example.test/d/1/"
	return &registry.Image{Distro: "debian", Version: "12", Arch: "x86_64", Build: "20260810",
		SignatureStatus: "verified", Signer: "ABCD", SignedAt: time.Date(2026, 8, 10, 1, 2, 3, 0, time.UTC),
		PulledAt: time.Date(2026, 8, 11, 0, 0, 0, 0, time.UTC),
		Layers: []registry.Layer{
			{Role: registry.RoleDisk, Name: "disk-1.qcow2", Format: "qcow2", URL: base + "disk-1.qcow2",
				UpstreamDigest: sha(disk), Checksums: base + "SHA256SUMS", Path: writeFile(t, "disk", disk), Size: int64(len(disk))},
			{Role: registry.RoleChecksums, Name: "SHA256SUMS", URL: base + "SHA256SUMS", Path: writeFile(t, "sums", sums)},
			{Role: registry.RoleSignature, Name: "SHA256SUMS.gpg", URL: base + "SHA256SUMS.gpg", Checksums: base + "SHA256SUMS",
				Path: writeFile(t, "sig", []byte("-----BEGIN PGP SIGNATURE-----\n"))},
		}}
}

func TestPushFetchAgainstRealRegistry(t *testing.T) {
	for _, auth := range []bool{false, true} {
		t.Run(map[bool]string{false: "plain", true: "tls+htpasswd"}[auth], func(t *testing.T) {
			reg := registrytest.Start(t, registrytest.Options{Auth: auth})
			store := credentials.NewMemoryStore()
			c, err := registry.New(registry.Options{Transport: reg.Transport(), Credentials: store})
			if err != nil {
				t.Fatal(err)
			}
			tgt, err := registry.ParseTarget(reg.Ref("lab/vm"))
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			disk := make([]byte, 300_000)
			for i := range disk {
				disk[i] = byte(i * 7)
			}
			im := testImage(t, disk)
			if auth {
				if _, err := c.Push(ctx, tgt, im, nil); !errors.Is(err, registry.ErrUnauthorized) {
					t.Fatalf("push without credentials: %v, want ErrUnauthorized", err)
				}
				if err := c.Login(ctx, reg.Host, registrytest.User, "wrong"); err == nil {
					t.Fatal("login with a wrong password succeeded")
				}
				if err := c.Login(ctx, reg.Host, registrytest.User, registrytest.Password); err != nil {
					t.Fatal(err)
				}
			}
			res, err := c.Push(ctx, tgt, im, nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Sent) != 3 || len(res.Skipped) != 0 {
				t.Errorf("first push: sent %v skipped %v", res.Sent, res.Skipped)
			}
			res, err = c.Push(ctx, tgt, testImage(t, disk), nil)
			if err != nil {
				t.Fatal(err)
			}
			if slices.Contains(res.Sent, registry.RoleDisk) || !slices.Contains(res.Skipped, registry.RoleDisk) {
				t.Errorf("second push sent the disk again: sent %v skipped %v", res.Sent, res.Skipped)
			}
			for _, tag := range []string{"12-x86_64", "12-x86_64-20260810"} {
				r, err := c.Fetch(ctx, tgt, "debian", tag)
				if err != nil {
					t.Fatal(err)
				}
				got := r.Image
				if got.Build != "20260810" || got.Signer != "ABCD" || !got.SignedAt.Equal(im.SignedAt) || len(got.Layers) != 3 {
					t.Errorf("fetched %+v", got)
				}
				d := got.Layer(registry.RoleDisk)
				if d.UpstreamDigest != sha(disk) || d.URL != im.Layers[0].URL || d.Format != "qcow2" {
					t.Errorf("disk layer %+v", d)
				}
				b, err := r.ReadSmall(ctx, *got.Layer(registry.RoleChecksums))
				if err != nil || string(b) != sha(disk).Hex+" *disk-1.qcow2\n" {
					t.Errorf("checksums %q, %v", b, err)
				}
			}
			if _, err := c.Fetch(ctx, tgt, "debian", "13-x86_64"); !errors.Is(err, registry.ErrNotFound) {
				t.Errorf("missing tag: %v, want ErrNotFound", err)
			}
		})
	}
}
