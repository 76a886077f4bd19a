package cache

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestProofsKeptByCommit(t *testing.T) {
	c, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	k := Key{Distro: "ubuntu", Version: "24.04", Arch: "x86_64"}
	if _, err := c.Proofs(k, "1"); err == nil {
		t.Fatal("proofs of an image never pulled")
	}
	tx, err := c.Begin(context.Background(), k)
	if err != nil {
		t.Fatal(err)
	}
	pf, err := tx.PartFile(RoleDisk, "qcow2")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(pf.Dest, []byte("disk"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := tx.Stage(RoleDisk, pf.Dest, AssetMeta{URL: "https://x/d.img", Size: 4, Format: "qcow2"}); err != nil {
		t.Fatal(err)
	}
	sums, sig := []byte("abc  d.img\n"), []byte("-----BEGIN PGP SIGNATURE-----\n")
	tx.SetProofs([]Proof{{Role: ProofChecksums, URL: "https://x/SHA256SUMS", Data: sums},
		{Role: ProofSignature, URL: "https://x/SHA256SUMS.gpg", Signs: "https://x/SHA256SUMS", Data: sig}})
	if _, err := tx.Commit(&Meta{Build: "20260926"}); err != nil {
		t.Fatal(err)
	}
	ps, err := c.Proofs(k, "20260926")
	if err != nil || len(ps) != 2 || !bytes.Equal(ps[0].Data, sums) || !bytes.Equal(ps[1].Data, sig) || ps[1].Signs != "https://x/SHA256SUMS" {
		t.Fatalf("Proofs = %+v, %v", ps, err)
	}
	if _, err := c.Proofs(k, "20260101"); err == nil {
		t.Error("proofs of another build")
	}
	// verify and list are not confused by the proof folder.
	im, err := c.Image(k)
	if err != nil || im.State != StateReady {
		t.Errorf("image %+v, %v", im, err)
	}
}

func FuzzProofIndex(f *testing.F) {
	f.Add([]byte(`{"build":"1","proofs":[{"role":"checksums","url":"https://x/S","file":"checksums-1"}]}`))
	f.Add([]byte(`{"build":"1","proofs":[{"role":"checksums","url":"u","file":"../../meta.json"}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		root := t.TempDir()
		c, err := Open(root)
		if err != nil {
			t.Fatal(err)
		}
		k := Key{Distro: "d", Version: "1", Arch: "x86_64"}
		dir := filepath.Join(c.Dir(k), proofDir)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, "checksums-1"), []byte("x"), 0o644)
		os.WriteFile(filepath.Join(dir, proofIndex), b, 0o644)
		ps, err := c.Proofs(k, "1")
		if err != nil {
			return
		}
		for _, p := range ps {
			if filepath.Dir(p.Path) != dir || strings.Contains(p.File, "/") {
				t.Fatalf("proof %q outside the proof folder", p.Path)
			}
		}
	})
}
