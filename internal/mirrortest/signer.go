package mirrortest

import (
	"bytes"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
)

// Signer is a freshly generated OpenPGP key that signs test manifests, the
// way a distribution signs its own.
type Signer struct {
	Entity *openpgp.Entity
	// Fingerprint is the primary key's fingerprint in upper-case hex.
	Fingerprint string
	// PublicKey is the armored public key, as a user would add it.
	PublicKey []byte
}

// NewSigner generates a key.
func NewSigner(t testing.TB) *Signer {
	t.Helper()
	ent, err := openpgp.NewEntity("Test Signer", "", "signer@example.test", nil)
	if err != nil {
		t.Fatal(err)
	}
	var pub bytes.Buffer
	w, err := armor.Encode(&pub, openpgp.PublicKeyType, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := ent.Serialize(w); err != nil {
		t.Fatal(err)
	}
	w.Close()
	return &Signer{Entity: ent, Fingerprint: strings.ToUpper(hex.EncodeToString(ent.PrimaryKey.Fingerprint)), PublicKey: pub.Bytes()}
}

// Detach returns an armored detached signature over data.
func (s *Signer) Detach(t testing.TB, data []byte) []byte {
	t.Helper()
	var sig bytes.Buffer
	if err := openpgp.ArmoredDetachSign(&sig, s.Entity, bytes.NewReader(data), nil); err != nil {
		t.Fatal(err)
	}
	return sig.Bytes()
}

// UbuntuOverlay is a catalog overlay replacing "ubuntu" with the real
// layout (release-<serial> folders, SHA256SUMS + SHA256SUMS.gpg, unpacked/
// kernel and initrd) signed by the key with fingerprint fp, 24.04 only.
func UbuntuOverlay(fp string) string {
	return `
[[distro]]
id = "ubuntu"
name = "Ubuntu Server"
base = "https://cloud-images.ubuntu.com/releases/"
boot = "direct-kernel"
arches = { x86_64 = "amd64", aarch64 = "arm64" }
signature = { kind = "detached", file = "{checksums}.gpg", keys = ["` + fp + `"] }
discover = [{ list = "{codename}/", match = 'release-(?P<build>\d{8}(?:\.\d+)?)/' }]
dir = "{codename}/release-{build}/"
assets = [
  { role = "disk", file = "ubuntu-{version}-server-cloudimg-{arch}.img", format = "qcow2", checksums = "SHA256SUMS" },
  { role = "kernel", file = "unpacked/ubuntu-{version}-server-cloudimg-{arch}-vmlinuz-generic", checksums = "unpacked/SHA256SUMS" },
  { role = "initramfs", file = "unpacked/ubuntu-{version}-server-cloudimg-{arch}-initrd-generic", checksums = "unpacked/SHA256SUMS", optional = true },
]
versions = [{ version = "24.04", codename = "noble" }]
`
}
