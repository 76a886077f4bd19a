package registry_test

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
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
			// The disk goes up in chunks (over TLS and credentials too).
			defer registry.SetChunking(100_000, 64<<10)()
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

// blobDigest reads a blob straight from the registry and hashes it.
func blobDigest(t *testing.T, reg *registrytest.Registry, repo, dgst string) string {
	t.Helper()
	resp, err := reg.HTTPClient().Get(reg.BaseURL() + "/v2/" + repo + "/blobs/" + dgst)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET blob %s: %s", dgst, resp.Status)
	}
	h := sha256.New()
	if _, err := io.Copy(h, resp.Body); err != nil {
		t.Fatal(err)
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

func TestChunkedPushAfterADroppedConnection(t *testing.T) {
	const chunk = 512 << 10
	defer registry.SetChunking(1<<20, chunk)()
	disk := make([]byte, 3<<20)
	if _, err := rand.Read(disk); err != nil {
		t.Fatal(err)
	}
	// Everything through the proxy besides the disk (other layers, the
	// manifest, request headers) is well under this.
	const overhead = 64 << 10
	for _, tc := range []struct {
		name  string
		proxy func(t *testing.T, target string) *registrytest.Proxy
		// most is how many bytes may go up in all.
		most int64
	}{
		// The connection is lost before the fourth chunk: the push goes on
		// from the offset the registry holds, and sends no byte twice.
		{"between chunks", func(t *testing.T, target string) *registrytest.Proxy {
			return registrytest.NewDropProxy(t, target, "PATCH", 4)
		}, int64(len(disk)) + overhead},
		// The connection is cut inside the third chunk: distribution drops
		// an upload that took part of a chunk, so the push starts a new one
		// and still completes. Bytes already in flight when the cut lands
		// (a retried PATCH that meets the cancelled upload) may add up to
		// two chunks; what this bounds is that the push does not start over
		// again and again.
		{"inside a chunk", func(t *testing.T, target string) *registrytest.Proxy {
			return registrytest.NewUploadProxy(t, target, 5*chunk/2)
		}, int64(len(disk)) + 5*chunk/2 + 2*chunk + overhead},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reg := registrytest.Start(t, registrytest.Options{})
			proxy := tc.proxy(t, reg.Host)
			c, err := registry.New(registry.Options{Transport: reg.Transport(), Credentials: credentials.NewMemoryStore()})
			if err != nil {
				t.Fatal(err)
			}
			tgt, err := registry.ParseTarget("oci://" + proxy.Host + "/lab/vm")
			if err != nil {
				t.Fatal(err)
			}
			var done []int64
			res, err := c.Push(context.Background(), tgt, testImage(t, disk), func(p registry.PushProgress) {
				if p.Role == registry.RoleDisk {
					done = append(done, p.BytesDone)
				}
			})
			if err != nil {
				t.Fatal(err)
			}
			if !proxy.Cut() {
				t.Fatal("the proxy never cut the upload")
			}
			if !slices.Contains(res.Sent, registry.RoleDisk) {
				t.Fatalf("disk not sent: %+v", res)
			}
			if up := proxy.Uploaded(); up > tc.most {
				t.Errorf("%d bytes went up for a %d-byte disk, more than %d", up, len(disk), tc.most)
			}
			if got, want := blobDigest(t, reg, "lab/vm/debian", sha(disk).String()), sha(disk).String(); got != want {
				t.Errorf("the registry holds %s for the disk, want %s", got, want)
			}
			if len(done) == 0 || done[len(done)-1] != int64(len(disk)) {
				t.Errorf("disk progress %v does not end at %d", done, len(disk))
			}
		})
	}
}

func TestChunkedPushFallsBackWhenChunksAreRefused(t *testing.T) {
	defer registry.SetChunking(100_000, 64<<10)()
	reg := registrytest.Start(t, registrytest.Options{})
	// A registry front that turns down chunked PATCHes, as some do.
	u, err := url.Parse(reg.BaseURL())
	if err != nil {
		t.Fatal(err)
	}
	var refused atomic.Int32
	rp := httputil.NewSingleHostReverseProxy(u)
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPatch && r.Header.Get("Content-Range") != "" {
			refused.Add(1)
			http.Error(w, "chunked uploads are not supported", http.StatusRequestedRangeNotSatisfiable)
			return
		}
		rp.ServeHTTP(w, r)
	}))
	defer front.Close()
	c, err := registry.New(registry.Options{Transport: reg.Transport(), Credentials: credentials.NewMemoryStore()})
	if err != nil {
		t.Fatal(err)
	}
	tgt, err := registry.ParseTarget("oci://" + strings.TrimPrefix(front.URL, "http://") + "/lab/vm")
	if err != nil {
		t.Fatal(err)
	}
	disk := make([]byte, 300_000)
	if _, err := rand.Read(disk); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Push(context.Background(), tgt, testImage(t, disk), nil); err != nil {
		t.Fatal(err)
	}
	if refused.Load() == 0 {
		t.Error("the push never tried a chunk")
	}
	if got, want := blobDigest(t, reg, "lab/vm/debian", sha(disk).String()), sha(disk).String(); got != want {
		t.Errorf("the registry holds %s for the disk, want %s", got, want)
	}
}

func FuzzRangeEnd(f *testing.F) {
	for _, s := range []string{"0-0", "0-1048575", "bytes=0-99", "", "-", "0-", "0--1", "x-y", "0-99999999999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if n, ok := registry.RangeEnd(s); ok && n < 0 {
			t.Errorf("RangeEnd(%q) = %d, true", s, n)
		}
	})
}
