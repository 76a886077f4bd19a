package trust

import (
	"bytes"
	"crypto"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
)

// The real signed vectors in testdata, as published upstream.
const (
	nobleSums  = "ubuntu/noble-current-20260926/SHA256SUMS"
	jammySums  = "ubuntu/jammy-release-20260722/SHA256SUMS"
	fedoraSums = "fedora/Fedora-Cloud-44-1.7-aarch64-CHECKSUM"

	ubuntuFP   = "D2EB44626FDDC30B513D5BB71A5D6C4C7DB87C81"
	fedora44FP = "36F612DCF27F7D1A48A835E4DBFCF71C6D9F90A6"
)

// t0 is the creation time of generated keys in tests that care about time.
var t0 = time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", filepath.FromSlash(name)))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func embeddedRing(t testing.TB) *Keyring {
	t.Helper()
	k, err := Embedded()
	if err != nil {
		t.Fatalf("Embedded: %v", err)
	}
	return k
}

// withClock returns a copy of k whose clock reads now.
func withClock(k *Keyring, now time.Time) *Keyring {
	c := *k
	c.now = func() time.Time { return now }
	return &c
}

// dearmor returns the binary body of an armored block.
func dearmor(t testing.TB, armored []byte) []byte {
	t.Helper()
	block, err := armor.Decode(bytes.NewReader(armored))
	if err != nil {
		t.Fatalf("armor.Decode: %v", err)
	}
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(block.Body); err != nil {
		t.Fatalf("reading armor body: %v", err)
	}
	return buf.Bytes()
}

// newKey generates an Ed25519 key created at created; lifetime 0 means it
// never expires.
func newKey(t testing.TB, name string, created time.Time, lifetime time.Duration) *openpgp.Entity {
	t.Helper()
	cfg := &packet.Config{
		Algorithm:       packet.PubKeyAlgoEdDSA,
		Time:            func() time.Time { return created },
		KeyLifetimeSecs: uint32(lifetime / time.Second),
	}
	e, err := openpgp.NewEntity(name, "", "test@example.org", cfg)
	if err != nil {
		t.Fatalf("NewEntity: %v", err)
	}
	return e
}

// publicArmor returns e's public key, armored, as a user would paste it.
func publicArmor(t testing.TB, e *openpgp.Entity) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := armor.Encode(&buf, openpgp.PublicKeyType, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Serialize(w); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// signAt makes a binary detached signature over msg by e's primary key with
// hash h, dated at, with an optional lifetime. It builds the packet by hand
// because openpgp.DetachSign refuses what some tests need: SHA-1, and dates
// when the key was not valid.
func signAt(t testing.TB, e *openpgp.Entity, msg []byte, h crypto.Hash, at time.Time, lifetime time.Duration) []byte {
	t.Helper()
	priv := e.PrivateKey
	sig := &packet.Signature{
		Version:      4,
		SigType:      packet.SigTypeBinary,
		PubKeyAlgo:   priv.PubKeyAlgo,
		Hash:         h,
		CreationTime: at,
		IssuerKeyId:  &priv.KeyId,
	}
	if lifetime > 0 {
		secs := uint32(lifetime / time.Second)
		sig.SigLifetimeSecs = &secs
	}
	cfg := &packet.Config{
		DefaultHash: h,
		Time:        func() time.Time { return at },
		// The salt notation go-crypto adds by default has no SHA-1 variant.
		NonDeterministicSignaturesViaNotation: packet.BoolPointer(false),
	}
	hh, err := sig.PrepareSign(cfg)
	if err != nil {
		t.Fatal(err)
	}
	hh.Write(msg)
	if err := sig.Sign(hh, priv, cfg); err != nil {
		t.Fatalf("Sign: %v", err)
	}
	var buf bytes.Buffer
	if err := sig.Serialize(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// sentinels are the errors every verification failure must wrap one of.
var sentinels = []error{ErrBadSignature, ErrUnknownSigner, ErrWeakHash, ErrNoSignature}

// wrapsOneSentinel reports whether err wraps exactly one verification sentinel.
func wrapsOneSentinel(err error) bool {
	n := 0
	for _, s := range sentinels {
		if errors.Is(err, s) {
			n++
		}
	}
	return n == 1
}
