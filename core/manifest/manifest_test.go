package manifest

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// Real vectors, copied from the distributions' servers (see
// testdata/vectors and the keys README in the shared notes).
const (
	vecNoble  = "ubuntu/noble-current-20260926/SHA256SUMS"
	vecJammy  = "ubuntu/jammy-release-20260722/SHA256SUMS"
	vecFedora = "fedora/Fedora-Cloud-44-1.7-aarch64-CHECKSUM"
	vecDebian = "debian/bookworm-latest-SHA512SUMS"
	vecAlpine = "alpine/nocloud_alpine-3.23.0-x86_64-uefi-cloudinit-r0.qcow2.sha512"
)

var allVectors = []string{vecNoble, vecJammy, vecFedora, vecDebian, vecAlpine}

func readVector(t testing.TB, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "vectors", filepath.FromSlash(rel)))
	if err != nil {
		t.Fatalf("reading vector: %v", err)
	}
	return b
}

func mustParse(t *testing.T, b []byte) *Manifest {
	t.Helper()
	m, err := ParseBytes(b)
	if err != nil {
		t.Fatalf("ParseBytes: %v", err)
	}
	return m
}

// Synthetic digests, recognisable in failures.
var (
	hex32  = strings.Repeat("d4", 16)
	hex40  = strings.Repeat("5a", 20)
	hex64a = strings.Repeat("a1", 32)
	hex64b = strings.Repeat("b2", 32)
	hex128 = strings.Repeat("c3", 64)
)

type wantEntry struct {
	name   string // looked up with Lookup
	digest string // "alg:hex"
	size   int64
}

func TestParseRealVectors(t *testing.T) {
	tests := []struct {
		file        string
		clearsigned bool
		entries     int
		names       int
		firstName   string
		want        []wantEntry
	}{
		{
			file: vecFedora, clearsigned: true, entries: 6, names: 6,
			firstName: "Fedora-Cloud-Base-AmazonEC2-44-1.7.aarch64.raw.xz",
			want: []wantEntry{
				{"Fedora-Cloud-Base-Generic-44-1.7.aarch64.qcow2", "sha256:55c60a3b80d3616a08705afd0459e75fe9f03c54aba7a46e4002a41a72fa0d5b", 528154624},
				{"Fedora-Cloud-Base-AmazonEC2-44-1.7.aarch64.raw.xz", "sha256:090d3cb07b266535ff81603d12cd143626caedc51be46977fef5f9161d5117b3", 513786992},
				{"Fedora-Cloud-Base-UEFI-UKI-44-1.7.aarch64.qcow2", "sha256:809a34279fdce4ecbdfa9e7bebd27ee3d255cb90d6ad83e7fb15211634cf95f9", 555810816},
				{"Fedora-Cloud-Base-Vagrant-libvirt-44-1.7.aarch64.vagrant.libvirt.box", "sha256:403b4b1de4bec1d730a08f035e5b79c3381ace8f22e59f1e29681e8a65844edf", 751600056},
			},
		},
		{
			file: vecNoble, entries: 66, names: 66,
			firstName: "noble-server-cloudimg-arm64-azure.vhd.tar.gz",
			want: []wantEntry{
				{"noble-server-cloudimg-amd64.img", "sha256:6a81c37564db9b1ee84e141922625e1d7c5b389b99bb3c572e0243607d5bb4d2", -1},
				{"noble-server-cloudimg-arm64.img", "sha256:1d6bffe64b848468ac97f821d369a4846d983de1800ccf6b5ec8853e85cefc55", -1},
				{"noble-server-cloudimg-amd64-root.tar.xz", "sha256:820311e238ea34d76a8ca2643d6c01065212e9417109e7397d70472a236df261", -1},
				{"noble-server-cloudimg-ppc64el.tar.gz", "sha256:f2a9128c818cc16c24eb8a4beff80df5c2a8c817fdb350ac83741b19fc5e5156", -1},
			},
		},
		{
			file: vecJammy, entries: 69, names: 69,
			firstName: "ubuntu-22.04-server-cloudimg-amd64.vmdk",
			want: []wantEntry{
				{"ubuntu-22.04-server-cloudimg-amd64.img", "sha256:757908b2fd6d5b1431bb45070fc1f56cbf017d4025568d292ece37d9cc75e812", -1},
				{"ubuntu-22.04-server-cloudimg-amd64-disk-kvm.img", "sha256:69a8564e8867233ccd5bd07da52ee697e3cecd0a0f1990ee17121ddb2546141d", -1},
			},
		},
		{
			file: vecDebian, entries: 44, names: 44,
			firstName: "debian-12-azure-amd64.json",
			want: []wantEntry{
				{"debian-12-genericcloud-amd64.qcow2", "sha512:da702efced2cd98017790d0e00fee81f1e1404d3f990a4741f52e6f18bde9856d37799c053b3baa48805048a595d2a6a13c41b8287ec6f76ec27b7ef1b67a215", -1},
				{"debian-12-generic-amd64.qcow2", "sha512:c651c2f3fd1ee342f225724959a86a97ad804027c3f057e03189455d093d07a006390929a22df0f95a5269291badc619964bde8bf9e2a33b6f3a01f492895068", -1},
				{"debian-12-genericcloud-arm64.qcow2", "sha512:95f72a3dbc9bbe261aee622ffe0c1b89085d843c9631b720738557a3640e229847deee7f0f87a29b566bf56ba7ecdc9010fb4b844c3477ca76a00865cf016fc1", -1},
			},
		},
		{
			file: vecAlpine, entries: 1, names: 0,
			want: []wantEntry{
				{"nocloud_alpine-3.23.0-x86_64-uefi-cloudinit-r0.qcow2", "sha512:2ae30006299896d225c9d4de36e9a7c3d047c9b4a5793efe3a6422ec5040e8ee5f7d71326aa9922ffa446fbd11ed6cd1a8d0af4659b3d00233d3fea3550d2d78", -1},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			raw := readVector(t, tt.file)
			m, err := Parse(bytes.NewReader(raw))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if !bytes.Equal(m.Raw, raw) {
				t.Errorf("Raw differs from the input (%d vs %d bytes)", len(m.Raw), len(raw))
			}
			if m.Clearsigned != tt.clearsigned {
				t.Errorf("Clearsigned = %v, want %v", m.Clearsigned, tt.clearsigned)
			}
			if !tt.clearsigned && m.Signature != nil {
				t.Errorf("Signature = %q for an unsigned file", m.Signature)
			}
			if len(m.Entries) != tt.entries {
				t.Errorf("%d entries, want %d", len(m.Entries), tt.entries)
			}
			names := m.Names()
			if len(names) != tt.names {
				t.Errorf("%d names, want %d", len(names), tt.names)
			}
			if tt.firstName != "" && (len(names) == 0 || names[0] != tt.firstName) {
				t.Errorf("Names()[0] = %q, want %q", first(names), tt.firstName)
			}
			for _, e := range m.Entries {
				if strings.HasPrefix(e.Name, "*") || strings.HasPrefix(e.Name, " ") {
					t.Errorf("entry name %q kept a mode marker or separator", e.Name)
				}
				if !e.Digest.Strong() {
					t.Errorf("entry %q has weak digest %s", e.Name, e.Digest)
				}
			}
			for _, w := range tt.want {
				e, err := m.Lookup(w.name)
				if err != nil {
					t.Errorf("Lookup(%q): %v", w.name, err)
					continue
				}
				if got := e.Digest.String(); got != w.digest {
					t.Errorf("Lookup(%q) digest = %s, want %s", w.name, got, w.digest)
				}
				if e.Size != w.size {
					t.Errorf("Lookup(%q) size = %d, want %d", w.name, e.Size, w.size)
				}
				if tt.names > 0 && e.Name != w.name {
					t.Errorf("Lookup(%q) returned entry named %q", w.name, e.Name)
				}
			}
		})
	}
}

func first(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}

func TestFedoraClearsigned(t *testing.T) {
	raw := readVector(t, vecFedora)
	m := mustParse(t, raw)
	sig := string(m.Signature)
	if !strings.HasPrefix(sig, "-----BEGIN PGP SIGNATURE-----\n") {
		t.Errorf("Signature does not begin with the armor header: %.40q", sig)
	}
	if !strings.HasSuffix(sig, "-----END PGP SIGNATURE-----") {
		t.Errorf("Signature does not end with the armor footer: %q", sig[max(0, len(sig)-40):])
	}
	// The checksum of the armored data, a known line of the real signature.
	if !strings.Contains(sig, "\n=Me1A\n") || !strings.Contains(sig, "iQIzBAEBCAAdFiEENvYS3PJ/fRpIqDXk2/z3HG2fkKYFAmnrjXoACgkQ2/z3HG2f") {
		t.Errorf("Signature lost the armored data: %q", sig)
	}
	if strings.Contains(sig, "SHA256 (") {
		t.Errorf("Signature swallowed signed text")
	}
	want := []string{
		"Fedora-Cloud-Base-AmazonEC2-44-1.7.aarch64.raw.xz",
		"Fedora-Cloud-Base-Azure-44-1.7.aarch64.vhdfixed.xz",
		"Fedora-Cloud-Base-GCE-44-1.7.aarch64.tar.gz",
		"Fedora-Cloud-Base-Generic-44-1.7.aarch64.qcow2",
		"Fedora-Cloud-Base-UEFI-UKI-44-1.7.aarch64.qcow2",
		"Fedora-Cloud-Base-Vagrant-libvirt-44-1.7.aarch64.vagrant.libvirt.box",
	}
	if got := m.Names(); !slices.Equal(got, want) {
		t.Errorf("Names() = %q\nwant %q", got, want)
	}
	sizes := []int64{513786992, 531866092, 517158695, 528154624, 555810816, 751600056}
	for i, e := range m.Entries {
		if e.Size != sizes[i] {
			t.Errorf("entry %q size %d, want %d", e.Name, e.Size, sizes[i])
		}
	}
	// "Hash: SHA256" is an armor header, not a line of the text.
	if _, err := m.Lookup("Hash"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Lookup(Hash) = %v, want ErrNotFound", err)
	}
}

// clearsign wraps text (already dash-escaped) the way gpg --clearsign does,
// with a stand-in signature block whose lines are easy to spot.
func clearsign(text string) string {
	return "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\n" + text + fakeSig
}

const fakeSig = "-----BEGIN PGP SIGNATURE-----\n\niQIzBAEBCAAdFiEENvYS3PJ/fakefakefake\n=ABCD\n-----END PGP SIGNATURE-----\n"

func TestClearsignedOnlySignedText(t *testing.T) {
	signed := "SHA256 (signed.img) = " + hex64a + "\n"
	tests := []struct {
		name    string
		in      string
		wantErr error
		names   []string
	}{
		{name: "plain", in: clearsign(signed), names: []string{"signed.img"}},
		{name: "leading blank lines", in: "\n \r\n" + clearsign(signed), names: []string{"signed.img"}},
		{name: "trailing blank lines", in: clearsign(signed) + "\n\r\n\t\n", names: []string{"signed.img"}},
		{name: "no Hash header", in: "-----BEGIN PGP SIGNED MESSAGE-----\n\n" + signed + fakeSig, names: []string{"signed.img"}},
		{
			name:    "unsigned line before the message",
			in:      hex64b + "  evil.img\n" + clearsign(signed),
			wantErr: ErrMalformed,
		},
		{
			name:    "unsigned line after the message",
			in:      clearsign(signed) + hex64b + "  evil.img\n",
			wantErr: ErrMalformed,
		},
		{
			name:    "second clearsigned message after the first",
			in:      clearsign(signed) + clearsign("SHA256 (evil.img) = "+hex64b+"\n"),
			wantErr: ErrMalformed,
		},
		{
			name:    "missing signature block",
			in:      "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\n" + signed,
			wantErr: ErrMalformed,
		},
		{
			name:    "unterminated signature block",
			in:      "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\n" + signed + "-----BEGIN PGP SIGNATURE-----\n\nabcd\n",
			wantErr: ErrMalformed,
		},
		{
			name:    "no body",
			in:      "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n",
			wantErr: ErrMalformed,
		},
		{
			name:    "junk on the header line",
			in:      "-----BEGIN PGP SIGNED MESSAGE-----junk\nHash: SHA256\n\n" + signed + fakeSig,
			wantErr: ErrMalformed,
		},
		{
			name:    "BOM before the header",
			in:      "\uFEFF" + clearsign(signed),
			wantErr: ErrMalformed,
		},
		{
			name:    "header not at the start of a line",
			in:      " " + clearsign(signed),
			wantErr: ErrMalformed,
		},
		{
			name:    "empty signed text",
			in:      clearsign(""),
			wantErr: ErrMalformed,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := ParseBytes([]byte(tt.in))
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v (manifest %+v)", err, tt.wantErr, m)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseBytes: %v", err)
			}
			if !m.Clearsigned {
				t.Errorf("Clearsigned = false")
			}
			if got := m.Names(); !slices.Equal(got, tt.names) {
				t.Errorf("Names() = %q, want %q", got, tt.names)
			}
			if string(m.Signature) != strings.TrimSuffix(fakeSig, "\n") {
				t.Errorf("Signature = %q", m.Signature)
			}
		})
	}
}

func TestClearsignedSignatureBlockIsNotText(t *testing.T) {
	// The armored signature holds a line shaped like a checksum: it must not
	// become an entry, and it must stay part of Signature.
	sig := "-----BEGIN PGP SIGNATURE-----\n\n" + hex64b + "  evil.img\n=ABCD\n-----END PGP SIGNATURE-----\n"
	in := "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\n" + hex64a + "  good.img\n" + sig
	m := mustParse(t, []byte(in))
	if got := m.Names(); !slices.Equal(got, []string{"good.img"}) {
		t.Errorf("Names() = %q, want [good.img]", got)
	}
	if _, err := m.Lookup("evil.img"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Lookup(evil.img) = %v, want ErrNotFound", err)
	}
	if !bytes.Contains(m.Signature, []byte("evil.img")) {
		t.Errorf("Signature lost its body: %q", m.Signature)
	}
}

func TestClearsignedDashEscaped(t *testing.T) {
	// gpg escapes every text line that starts with "-"; an escaped signature
	// header is text, and the real signature follows later.
	text := "- " + hex64a + "  -dash-first.img\n" +
		"- -----BEGIN PGP SIGNATURE-----\n" +
		"SHA256 (after-escaped-header.img) = " + hex64b + "\n" +
		"- SHA512 (escaped-bsd.img) = " + hex128 + "\n"
	m := mustParse(t, []byte(clearsign(text)))
	want := []string{"-dash-first.img", "after-escaped-header.img", "escaped-bsd.img"}
	if got := m.Names(); !slices.Equal(got, want) {
		t.Fatalf("Names() = %q, want %q", got, want)
	}
	if string(m.Signature) != strings.TrimSuffix(fakeSig, "\n") {
		t.Errorf("Signature = %q, want the real block", m.Signature)
	}
	e, err := m.Lookup("escaped-bsd.img")
	if err != nil || e.Digest.String() != "sha512:"+hex128 {
		t.Errorf("Lookup(escaped-bsd.img) = %v, %v", e.Digest, err)
	}
	// Outside a clearsigned message "- " is not an escape: the line is no
	// checksum line at all.
	plain := "- " + hex64a + "  dashed.img\n" + hex64b + "  ok.img\n"
	pm := mustParse(t, []byte(plain))
	if got := pm.Names(); !slices.Equal(got, []string{"ok.img"}) {
		t.Errorf("plain Names() = %q, want [ok.img]", got)
	}
}

func TestCRLF(t *testing.T) {
	for _, file := range []string{vecNoble, vecFedora, vecDebian, vecAlpine} {
		t.Run(file, func(t *testing.T) {
			lf := readVector(t, file)
			crlf := bytes.ReplaceAll(lf, []byte("\n"), []byte("\r\n"))
			a := mustParse(t, lf)
			b := mustParse(t, crlf)
			if len(a.Entries) != len(b.Entries) {
				t.Fatalf("LF %d entries, CRLF %d", len(a.Entries), len(b.Entries))
			}
			for i := range a.Entries {
				if a.Entries[i] != b.Entries[i] {
					t.Errorf("entry %d: LF %+v, CRLF %+v", i, a.Entries[i], b.Entries[i])
				}
			}
			if a.Clearsigned != b.Clearsigned {
				t.Errorf("Clearsigned LF %v, CRLF %v", a.Clearsigned, b.Clearsigned)
			}
			if b.Clearsigned && !bytes.HasPrefix(b.Signature, []byte("-----BEGIN PGP SIGNATURE-----\r\n")) {
				t.Errorf("CRLF Signature = %.40q", b.Signature)
			}
		})
	}
}

func TestGNUShapes(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		lookup string
		digest string
	}{
		{"two spaces", hex64a + "  AlmaLinux-9-GenericCloud-latest.x86_64.qcow2\n", "AlmaLinux-9-GenericCloud-latest.x86_64.qcow2", "sha256:" + hex64a},
		{"binary marker", hex64a + " *noble-server-cloudimg-amd64.img\n", "noble-server-cloudimg-amd64.img", "sha256:" + hex64a},
		{"one space (openSUSE Leap 15.6)", hex64a + " openSUSE-Leap-15.6-Minimal-VM.x86_64-Cloud.qcow2\n", "openSUSE-Leap-15.6-Minimal-VM.x86_64-Cloud.qcow2", "sha256:" + hex64a},
		{"tab", hex64a + "\tArch-Linux-x86_64-cloudimg.qcow2\n", "Arch-Linux-x86_64-cloudimg.qcow2", "sha256:" + hex64a},
		{"text mode keeps a star in the name", hex64a + "  *star.img\n", "*star.img", "sha256:" + hex64a},
		{"no trailing newline", hex64a + "  last.img", "last.img", "sha256:" + hex64a},
		{"trailing blanks", hex64a + "  blank.img \t \n", "blank.img", "sha256:" + hex64a},
		{"upper-case hex folds", strings.ToUpper(hex64a) + "  up.img\n", "up.img", "sha256:" + hex64a},
		{"sha512 by length", hex128 + "  big.img\n", "big.img", "sha512:" + hex128},
		{"dot-slash prefix", hex64a + "  ./dot.img\n", "dot.img", "sha256:" + hex64a},
		{"dot-slash on the query", hex64a + "  dot2.img\n", "./dot2.img", "sha256:" + hex64a},
		{"name with spaces", hex64a + "  my image.img\n", "my image.img", "sha256:" + hex64a},
		{"name shaped like a BSD tag", hex64a + "  (x) = abc\n", "(x) = abc", "sha256:" + hex64a},
		{"one space and a BSD-shaped name", hex64a + " (x) = abc\n", "(x) = abc", "sha256:" + hex64a},
		{"BOM before the first line", "\uFEFF" + hex64a + "  bom.img\n", "bom.img", "sha256:" + hex64a},
		{"comments and junk skipped", "# comment\nnot a line\n\n" + hex64a + "  c.img\n", "c.img", "sha256:" + hex64a},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := mustParse(t, []byte(tt.in))
			e, err := m.Lookup(tt.lookup)
			if err != nil {
				t.Fatalf("Lookup(%q): %v (entries %+v)", tt.lookup, err, m.Entries)
			}
			if e.Digest.String() != tt.digest {
				t.Errorf("digest %s, want %s", e.Digest, tt.digest)
			}
			if e.Size != -1 {
				t.Errorf("size %d, want -1", e.Size)
			}
			if len(m.Entries) != 1 {
				t.Errorf("%d entries, want 1: %+v", len(m.Entries), m.Entries)
			}
		})
	}
}

func TestBSDShapes(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		lookup string
		digest string
		size   int64
	}{
		{"sha256", "SHA256 (a.qcow2) = " + hex64a + "\n", "a.qcow2", "sha256:" + hex64a, -1},
		{"sha512 FreeBSD", "SHA512 (FreeBSD-14.3-RELEASE-arm64-aarch64-BASIC-CLOUDINIT-ufs.qcow2.xz) = " + hex128 + "\n", "FreeBSD-14.3-RELEASE-arm64-aarch64-BASIC-CLOUDINIT-ufs.qcow2.xz", "sha512:" + hex128, -1},
		{"openssl dgst style", "SHA2-256(o.img)= " + hex64a + "\n", "o.img", "sha256:" + hex64a, -1},
		{"lower-case tag", "sha256 (l.img) = " + hex64a + "\n", "l.img", "sha256:" + hex64a, -1},
		{"size comment", "# s.img: 12345 bytes\nSHA256 (s.img) = " + hex64a + "\n", "s.img", "sha256:" + hex64a, 12345},
		{"size comment after the line", "SHA256 (s.img) = " + hex64a + "\n# s.img: 7 bytes\n", "s.img", "sha256:" + hex64a, 7},
		{"size comment for another file", "# other.img: 9 bytes\nSHA256 (s.img) = " + hex64a + "\n", "s.img", "sha256:" + hex64a, -1},
		{"size overflowing int64 ignored", "# s.img: 99999999999999999999 bytes\nSHA256 (s.img) = " + hex64a + "\n", "s.img", "sha256:" + hex64a, -1},
		{"strongest of three", "MD5 (x.img) = " + hex32 + "\nSHA1 (x.img) = " + hex40 + "\nSHA512 (x.img) = " + hex128 + "\nSHA256 (x.img) = " + hex64a + "\n", "x.img", "sha512:" + hex128, -1},
		{"unknown tag skipped", "SHA384 (x.img) = " + strings.Repeat("ab", 48) + "\nSHA256 (x.img) = " + hex64a + "\n", "x.img", "sha256:" + hex64a, -1},
		{"parenthesis in name", "SHA256 (a (1).img) = " + hex64a + "\n", "a (1).img", "sha256:" + hex64a, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := mustParse(t, []byte(tt.in))
			e, err := m.Lookup(tt.lookup)
			if err != nil {
				t.Fatalf("Lookup(%q): %v (entries %+v)", tt.lookup, err, m.Entries)
			}
			if e.Digest.String() != tt.digest {
				t.Errorf("digest %s, want %s", e.Digest, tt.digest)
			}
			if e.Size != tt.size {
				t.Errorf("size %d, want %d", e.Size, tt.size)
			}
		})
	}
}

func TestLookupExact(t *testing.T) {
	jammy := mustParse(t, readVector(t, vecJammy))
	noble := mustParse(t, readVector(t, vecNoble))
	debian := mustParse(t, readVector(t, vecDebian))
	tests := []struct {
		m      *Manifest
		name   string
		digest string // "" means ErrNotFound
	}{
		{jammy, "ubuntu-22.04-server-cloudimg-amd64.img", "sha256:757908b2fd6d5b1431bb45070fc1f56cbf017d4025568d292ece37d9cc75e812"},
		{jammy, "ubuntu-22.04-server-cloudimg-amd64-disk-kvm.img", "sha256:69a8564e8867233ccd5bd07da52ee697e3cecd0a0f1990ee17121ddb2546141d"},
		{jammy, "ubuntu-22.04-server-cloudimg-amd64-root.tar.xz", "sha256:ed951c8f3698f4380944aafd55986f1915b821a0d76e52e937c3f7b1856c3a95"},
		{noble, "noble-server-cloudimg-amd64.img", "sha256:6a81c37564db9b1ee84e141922625e1d7c5b389b99bb3c572e0243607d5bb4d2"},
		{noble, "noble-server-cloudimg-amd64.squashfs", "sha256:09b828ec72127a070dcf158616554102a65bb0ebf49219a8d8f8bc7a83d29a25"},
		{noble, "noble-server-cloudimg-amd64.squashfs.manifest", "sha256:7a1a34f50dcdae1d98c51dc08283492a5e012afbf9e3233c0ebc39ce85ddb5c2"},
		{debian, "debian-12-genericcloud-amd64.qcow2", "sha512:da702efced2cd98017790d0e00fee81f1e1404d3f990a4741f52e6f18bde9856d37799c053b3baa48805048a595d2a6a13c41b8287ec6f76ec27b7ef1b67a215"},
		{debian, "debian-12-generic-amd64.qcow2", "sha512:c651c2f3fd1ee342f225724959a86a97ad804027c3f057e03189455d093d07a006390929a22df0f95a5269291badc619964bde8bf9e2a33b6f3a01f492895068"},
		// Prefixes, substrings, wildcards and near-misses never match.
		{jammy, "ubuntu-22.04-server-cloudimg-amd64", ""},
		{jammy, "ubuntu-22.04-server-cloudimg-amd64.im", ""},
		{jammy, "server-cloudimg-amd64.img", ""},
		{jammy, "amd64.img", ""},
		{jammy, "ubuntu-22.04-server-cloudimg-amd64ximg", ""},
		{jammy, "ubuntu-22.04-server-cloudimg-amd64.img.", ""},
		{jammy, "ubuntu-22.04-server-cloudimg-amd64.img ", ""},
		{jammy, " ubuntu-22.04-server-cloudimg-amd64.img", ""},
		{jammy, "*ubuntu-22.04-server-cloudimg-amd64.img", ""},
		{jammy, "UBUNTU-22.04-SERVER-CLOUDIMG-AMD64.IMG", ""},
		{jammy, "ubuntu-22.04-server-cloudimg-amd64-disk", ""},
		{jammy, "disk-kvm.img", ""},
		{jammy, ".*", ""},
		{jammy, "", ""},
		{noble, "noble-server-cloudimg-amd64", ""},
		{noble, "noble-server-cloudimg-amd64.squash", ""},
		{debian, "debian-12-genericcloud-amd64", ""},
		{debian, "debian-12-generic", ""},
		{debian, "12-genericcloud-amd64.qcow2", ""},
		{debian, "debian-12-genericcloud-amd64.qcow2\n", ""},
	}
	for _, tt := range tests {
		e, err := tt.m.Lookup(tt.name)
		if tt.digest == "" {
			if !errors.Is(err, ErrNotFound) {
				t.Errorf("Lookup(%q) = %+v, %v; want ErrNotFound", tt.name, e, err)
			}
			if err != nil && (errors.Is(err, ErrWeakDigest) || errors.Is(err, ErrMalformed)) {
				t.Errorf("Lookup(%q) error %v wraps the wrong sentinel", tt.name, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("Lookup(%q): %v", tt.name, err)
			continue
		}
		if e.Name != tt.name || e.Digest.String() != tt.digest {
			t.Errorf("Lookup(%q) = %q %s, want %s", tt.name, e.Name, e.Digest, tt.digest)
		}
	}
}

func TestLookupBareSidecar(t *testing.T) {
	m := mustParse(t, readVector(t, vecAlpine))
	const want = "sha512:2ae30006299896d225c9d4de36e9a7c3d047c9b4a5793efe3a6422ec5040e8ee5f7d71326aa9922ffa446fbd11ed6cd1a8d0af4659b3d00233d3fea3550d2d78"
	for _, name := range []string{"nocloud_alpine-3.23.0-x86_64-uefi-cloudinit-r0.qcow2", "anything.img", ""} {
		e, err := m.Lookup(name)
		if err != nil {
			t.Fatalf("Lookup(%q): %v", name, err)
		}
		if e.Digest.String() != want || e.Name != "" || e.Size != -1 {
			t.Errorf("Lookup(%q) = %+v", name, e)
		}
	}
	if n := m.Names(); len(n) != 0 {
		t.Errorf("Names() = %q, want none", n)
	}
	// A bare MD5 or SHA-1 sidecar never suffices.
	for _, h := range []string{hex32, hex40} {
		wm := mustParse(t, []byte(h+"\n"))
		if _, err := wm.Lookup("x.img"); !errors.Is(err, ErrWeakDigest) {
			t.Errorf("bare %d-hex sidecar: Lookup err = %v, want ErrWeakDigest", len(h), err)
		}
	}
}

func TestLookupWeakAndConflicts(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		lookup  string
		wantErr error
		digest  string
	}{
		{"only SHA1 and MD5 (BSD)", "SHA1 (w.img) = " + hex40 + "\nMD5 (w.img) = " + hex32 + "\nSHA256 (other.img) = " + hex64a + "\n", "w.img", ErrWeakDigest, ""},
		{"only MD5 (md5sum)", hex32 + "  w.img\n", "w.img", ErrWeakDigest, ""},
		{"only SHA1 (sha1sum)", hex40 + " *w.img\n", "w.img", ErrWeakDigest, ""},
		{"strong beside weak", "MD5 (w.img) = " + hex32 + "\nSHA256 (w.img) = " + hex64a + "\n", "w.img", nil, "sha256:" + hex64a},
		{"conflicting sha256", hex64a + "  c.img\n" + hex64b + "  c.img\n", "c.img", ErrMalformed, ""},
		{"conflict through ./", hex64a + "  c.img\n" + hex64b + "  ./c.img\n", "c.img", ErrMalformed, ""},
		{"conflict in sha256 ignored under sha512", hex64a + "  c.img\n" + hex128 + "  c.img\n" + hex64b + "  c.img\n", "c.img", nil, "sha512:" + hex128},
		{"repeated identical line", hex64a + "  d.img\n" + hex64a + " *d.img\n", "d.img", nil, "sha256:" + hex64a},
		{"conflict elsewhere does not matter", hex64a + "  c.img\n" + hex64b + "  c.img\n" + hex64a + "  ok.img\n", "ok.img", nil, "sha256:" + hex64a},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := mustParse(t, []byte(tt.in))
			e, err := m.Lookup(tt.lookup)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("Lookup(%q) = %+v, %v; want %v", tt.lookup, e, err, tt.wantErr)
				}
				if errors.Is(err, ErrNotFound) {
					t.Errorf("error %v also claims ErrNotFound", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Lookup(%q): %v", tt.lookup, err)
			}
			if e.Digest.String() != tt.digest {
				t.Errorf("digest %s, want %s", e.Digest, tt.digest)
			}
		})
	}
}

func TestNames(t *testing.T) {
	in := hex64a + "  b.img\n" +
		"SHA512 (a.img) = " + hex128 + "\n" +
		hex64b + " *./b.img\n" +
		"MD5 (c.img) = " + hex32 + "\n" +
		hex64a + "  a.img\n"
	m := mustParse(t, []byte(in))
	want := []string{"b.img", "a.img", "c.img"}
	if got := m.Names(); !slices.Equal(got, want) {
		t.Errorf("Names() = %q, want %q", got, want)
	}
	if len(m.Entries) != 5 {
		t.Errorf("%d entries, want 5", len(m.Entries))
	}
}

func TestParseErrors(t *testing.T) {
	html := `<!DOCTYPE html>
<html><head><title>404 Not Found</title></head>
<body><h1>Not Found</h1><p>The requested URL /releases/SHA256SUMS was not found.</p>
<!-- build ` + hex64a + ` -->
</body></html>
`
	tests := []struct {
		name string
		in   string
		want error
	}{
		// Hostile names, in both shapes.
		{"parent traversal GNU", hex64a + "  ../etc/passwd\n", ErrUnsafeName},
		{"parent traversal BSD", "SHA256 (../etc/passwd) = " + hex64a + "\n", ErrUnsafeName},
		{"dot-slash then parent", hex64a + "  ./../x.img\n", ErrUnsafeName},
		{"slash", hex64a + "  a/b\n", ErrUnsafeName},
		{"absolute", hex64a + "  /etc/passwd\n", ErrUnsafeName},
		{"backslash", hex64a + "  a\\b\n", ErrUnsafeName},
		{"backslash BSD", "SHA256 (..\\..\\x) = " + hex64a + "\n", ErrUnsafeName},
		{"dotdot inside", hex64a + "  a..b\n", ErrUnsafeName},
		{"only dot", hex64a + "  .\n", ErrUnsafeName},
		{"only dotdot", "SHA256 (..) = " + hex64a + "\n", ErrUnsafeName},
		{"only dot-slash", hex64a + "  ./\n", ErrUnsafeName},
		{"empty BSD name", "SHA256 () = " + hex64a + "\n", ErrUnsafeName},
		{"NUL", hex64a + "  a\x00b\n", ErrUnsafeName},
		{"NUL BSD", "SHA256 (a\x00.img) = " + hex64a + "\n", ErrUnsafeName},
		{"ESC", hex64a + "  a\x1b[31mb\n", ErrUnsafeName},
		{"DEL", hex64a + "  a\x7fb\n", ErrUnsafeName},
		{"bell", hex64a + "  a\x07\n", ErrUnsafeName},
		{"inner CR", hex64a + "  a\rb\n", ErrUnsafeName},
		{"CR CR LF", hex64a + "  a.img\r\r\n", ErrUnsafeName},
		{"C1 NEL", hex64a + "  a\u0085b\n", ErrUnsafeName},
		{"bidi override", hex64a + "  gpj.\u202eexe.img\n", ErrUnsafeName},
		{"zero-width space", hex64a + "  a\u200b.img\n", ErrUnsafeName},
		{"no-break space", hex64a + "  a\u00a0.img\n", ErrUnsafeName},
		{"line separator", hex64a + "  a\u2028.img\n", ErrUnsafeName},
		{"invalid UTF-8", hex64a + "  a\xff.img\n", ErrUnsafeName},
		{"replacement char", hex64a + "  a\uFFFD.img\n", ErrUnsafeName},
		{"hostile name after good lines", hex64a + "  ok.img\n" + hex64b + "  ../../x\n", ErrUnsafeName},
		{"hostile name in clearsigned text", clearsign(hex64a + "  ../x\n"), ErrUnsafeName},

		// Digests of the wrong length or shape.
		{"BSD sha256 with 63 hex", "SHA256 (x) = " + hex64a[:63] + "\n", ErrMalformed},
		{"BSD sha256 with 65 hex", "SHA256 (x) = " + hex64a + "a\n", ErrMalformed},
		{"BSD sha256 with a sha512", "SHA256 (x) = " + hex128 + "\n", ErrMalformed},
		{"BSD md5 with a sha256", "MD5 (x) = " + hex64a + "\n", ErrMalformed},
		{"GNU only 63 hex", hex64a[:63] + "  x.img\n", ErrMalformed},
		{"GNU only 65 hex", hex64a + "f  x.img\n", ErrMalformed},
		{"GNU only 129 hex", hex128 + "f  x.img\n", ErrMalformed},
		{"GNU only 31 hex", hex32[:31] + "  x.img\n", ErrMalformed},
		{"GNU non-hex", strings.Repeat("g", 64) + "  x.img\n", ErrMalformed},
		{"bare 63 hex", hex64a[:63] + "\n", ErrMalformed},
		{"bare 96 hex (sha384)", strings.Repeat("ab", 48) + "\n", ErrMalformed},

		// Shapes that are not a manifest.
		{"empty", "", ErrMalformed},
		{"blank lines", "\n\r\n  \n\t\n", ErrMalformed},
		{"only comments", "# nothing here\n# x.img: 5 bytes\n", ErrMalformed},
		{"HTML page", html, ErrMalformed},
		{"JSON", `{"sha256": "` + hex64a + `", "name": "x.img"}`, ErrMalformed},
		{"mixed bare and named", hex64a + "\n" + hex64b + "  x.img\n", ErrMalformed},
		{"named then bare", "SHA256 (x.img) = " + hex64a + "\n" + hex128 + "\n", ErrMalformed},
		{"two bare lines", hex64a + "\n" + hex64b + "\n", ErrMalformed},
		{"GNU escaped name line", "\\" + hex64a + "  a\\\\b\n", ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := ParseBytes([]byte(tt.in))
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v (manifest %+v)", err, tt.want, m)
			}
			if m != nil {
				t.Errorf("manifest %+v returned with error", m)
			}
			for _, other := range []error{ErrMalformed, ErrTooLarge, ErrUnsafeName, ErrNotFound, ErrWeakDigest} {
				if other != tt.want && errors.Is(err, other) {
					t.Errorf("err %v also wraps %v", err, other)
				}
			}
			// Parse (the reader path) agrees.
			if _, err := Parse(strings.NewReader(tt.in)); !errors.Is(err, tt.want) {
				t.Errorf("Parse err = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestDetachedSignatureIsNotAManifest(t *testing.T) {
	for _, f := range []string{vecNoble + ".gpg", vecJammy + ".gpg"} {
		if _, err := ParseBytes(readVector(t, f)); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: err = %v, want ErrMalformed", f, err)
		}
	}
}

func TestSizeLimit(t *testing.T) {
	line := hex64a + "  x.img\n"
	// Exactly MaxSize bytes: the manifest line, then comment padding.
	pad := MaxSize - len(line)
	var b strings.Builder
	b.WriteString(line)
	for pad > 0 {
		n := min(pad, 1000)
		b.WriteString("#" + strings.Repeat("p", n-2) + "\n")
		pad -= n
	}
	exact := b.String()
	if len(exact) != MaxSize {
		t.Fatalf("test input is %d bytes, want %d", len(exact), MaxSize)
	}
	m, err := Parse(strings.NewReader(exact))
	if err != nil {
		t.Fatalf("Parse of exactly MaxSize bytes: %v", err)
	}
	if e, err := m.Lookup("x.img"); err != nil || e.Digest.Hex != hex64a {
		t.Errorf("Lookup = %+v, %v", e, err)
	}

	over := exact + "\n"
	if _, err := Parse(strings.NewReader(over)); !errors.Is(err, ErrTooLarge) {
		t.Errorf("Parse of MaxSize+1 bytes: err = %v, want ErrTooLarge", err)
	}
	if _, err := ParseBytes([]byte(over)); !errors.Is(err, ErrTooLarge) {
		t.Errorf("ParseBytes of MaxSize+1 bytes: err = %v, want ErrTooLarge", err)
	}
	// An endless reader is cut off, not buffered.
	r := &countingReader{r: infinite{}}
	if _, err := Parse(r); !errors.Is(err, ErrTooLarge) {
		t.Errorf("Parse of an endless stream: err = %v, want ErrTooLarge", err)
	}
	if r.n > MaxSize+1 {
		t.Errorf("read %d bytes from an endless stream, want at most %d", r.n, MaxSize+1)
	}
}

type infinite struct{}

func (infinite) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'a'
	}
	return len(p), nil
}

type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

type failingReader struct{}

var errBoom = errors.New("boom")

func (failingReader) Read([]byte) (int, error) { return 0, errBoom }

func TestParseReadError(t *testing.T) {
	_, err := Parse(failingReader{})
	if !errors.Is(err, errBoom) {
		t.Errorf("err = %v, want the reader's error", err)
	}
}
