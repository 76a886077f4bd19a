package trust

import (
	"bytes"
	"crypto"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	pgperrors "github.com/ProtonMail/go-crypto/openpgp/errors"
	"github.com/ProtonMail/go-crypto/openpgp/packet"

	"vmimages/core/manifest"
)

func TestVerifyRealVectors(t *testing.T) {
	k := embeddedRing(t)
	ubuntu := func(at time.Time) Result {
		return Result{
			Fingerprint: ubuntuFP,
			SignerKeyID: "1A5D6C4C7DB87C81",
			Signer:      "UEC Image Automatic Signing Key <cdimage@ubuntu.com>",
			SignedAt:    at,
			Hash:        "SHA512",
		}
	}
	noble := ubuntu(time.Date(2026, 9, 26, 18, 23, 12, 0, time.UTC))
	jammy := ubuntu(time.Date(2026, 7, 22, 19, 16, 8, 0, time.UTC))
	fedora := Result{
		Fingerprint: fedora44FP,
		SignerKeyID: "DBFCF71C6D9F90A6",
		Signer:      "Fedora (44) <fedora-44-primary@fedoraproject.org>",
		SignedAt:    time.Date(2026, 4, 24, 15, 34, 18, 0, time.UTC),
		Hash:        "SHA256",
	}

	detached := []struct {
		name    string
		sums    string
		binary  bool
		allowed []string
		want    Result
	}{
		{"noble armored, Ubuntu keys", nobleSums, false, Fingerprints("ubuntu"), noble},
		{"noble binary, Ubuntu keys", nobleSums, true, Fingerprints("ubuntu"), noble},
		{"noble binary, exact key in people's format", nobleSums, true, []string{"d2eb 4462 6fdd c30b 513d  5bb7 1a5d 6c4c 7db8 7c81"}, noble},
		{"jammy armored", jammySums, false, Fingerprints("ubuntu"), jammy},
		{"jammy binary", jammySums, true, []string{ubuntuFP}, jammy},
	}
	for _, tt := range detached {
		t.Run(tt.name, func(t *testing.T) {
			signed := readTestdata(t, tt.sums)
			sig := readTestdata(t, tt.sums+".gpg")
			if tt.binary {
				sig = dearmor(t, sig)
				if bytes.HasPrefix(sig, []byte("-----")) {
					t.Fatal("dearmored signature is still armored")
				}
			}
			got, err := k.VerifyDetached(signed, sig, tt.allowed)
			if err != nil {
				t.Fatalf("VerifyDetached: %v", err)
			}
			if got != tt.want {
				t.Errorf("VerifyDetached = %+v\nwant %+v", got, tt.want)
			}
		})
	}

	clearsigned := []struct {
		name    string
		allowed []string
	}{
		{"Fedora 44 key", []string{FedoraKey("44")}},
		{"any Fedora key", Fingerprints("fedora")},
	}
	data := readTestdata(t, fedoraSums)
	for _, tt := range clearsigned {
		t.Run("fedora clearsigned, "+tt.name, func(t *testing.T) {
			text, got, err := k.VerifyClearsigned(data, tt.allowed)
			if err != nil {
				t.Fatalf("VerifyClearsigned: %v", err)
			}
			if got != fedora {
				t.Errorf("VerifyClearsigned = %+v\nwant %+v", got, fedora)
			}
			if !bytes.HasPrefix(text, []byte("# Fedora-Cloud-Base-AmazonEC2-44-1.7.aarch64.raw.xz: 513786992 bytes\n")) ||
				!bytes.HasSuffix(text, []byte("= 403b4b1de4bec1d730a08f035e5b79c3381ace8f22e59f1e29681e8a65844edf")) ||
				bytes.Contains(text, []byte("PGP")) {
				t.Errorf("signed text is not exactly the body of the message:\n%s", text)
			}
		})
	}
}

// The text VerifyClearsigned vouches for is what manifest parses out of the
// whole file: nothing is lost or added between verifying and parsing.
func TestClearsignedTextMatchesManifest(t *testing.T) {
	data := readTestdata(t, fedoraSums)
	text, _, err := embeddedRing(t).VerifyClearsigned(data, []string{fedora44FP})
	if err != nil {
		t.Fatal(err)
	}
	whole, err := manifest.ParseBytes(data)
	if err != nil {
		t.Fatal(err)
	}
	signed, err := manifest.ParseBytes(text)
	if err != nil {
		t.Fatal(err)
	}
	if !whole.Clearsigned || len(whole.Entries) != 6 || !slices.Equal(whole.Entries, signed.Entries) {
		t.Errorf("manifest of the file (%d entries, clearsigned %v) differs from manifest of the signed text (%d entries)",
			len(whole.Entries), whole.Clearsigned, len(signed.Entries))
	}
}

// flip returns a copy of b with byte i changed.
func flip(b []byte, i int) []byte {
	c := bytes.Clone(b)
	c[i] ^= 0x01
	return c
}

func TestTamperedSignedText(t *testing.T) {
	k := embeddedRing(t)
	for _, sums := range []string{nobleSums, jammySums} {
		signed := readTestdata(t, sums)
		sig := readTestdata(t, sums+".gpg")
		for _, i := range []int{0, len(signed) / 2, len(signed) - 1} {
			_, err := k.VerifyDetached(flip(signed, i), sig, Fingerprints("ubuntu"))
			if !errors.Is(err, ErrBadSignature) {
				t.Errorf("%s with byte %d changed: err = %v, want ErrBadSignature", sums, i, err)
			}
		}
		if _, err := k.VerifyDetached(append(bytes.Clone(signed), '\n'), sig, Fingerprints("ubuntu")); !errors.Is(err, ErrBadSignature) {
			t.Errorf("%s with a line appended: err = %v, want ErrBadSignature", sums, err)
		}
	}

	data := readTestdata(t, fedoraSums)
	for _, marker := range []string{"55c60a3b", "528154624", "Generic-44", "SHA256 (Fedora-Cloud-Base-AmazonEC2"} {
		i := bytes.Index(data, []byte(marker))
		if i < 0 {
			t.Fatalf("marker %q not in %s", marker, fedoraSums)
		}
		if _, _, err := k.VerifyClearsigned(flip(data, i+1), []string{fedora44FP}); !errors.Is(err, ErrBadSignature) {
			t.Errorf("CHECKSUM with %q changed: err = %v, want ErrBadSignature", marker, err)
		}
	}
}

// sigLayout finds the regions of a v4 signature packet with a two-byte
// old-format length, as gpg writes them.
func sigLayout(t *testing.T, b []byte) (hashedEnd, unhashedEnd int) {
	t.Helper()
	if b[0] != 0x89 || b[3] != 4 {
		t.Fatalf("unexpected signature packet start % x", b[:4])
	}
	hashedEnd = 3 + 6 + (int(b[7])<<8 | int(b[8]))
	unhashedEnd = hashedEnd + 2 + (int(b[hashedEnd])<<8 | int(b[hashedEnd+1]))
	return hashedEnd, unhashedEnd
}

func TestTamperedSignature(t *testing.T) {
	k := embeddedRing(t)
	signed := readTestdata(t, nobleSums)
	armored := readTestdata(t, nobleSums+".gpg")
	bin := dearmor(t, armored)
	hashedEnd, unhashedEnd := sigLayout(t, bin)
	mpi := unhashedEnd + 2 + 2 // after the 16-bit hash prefix and the MPI bit count

	// Every byte the signature covers or that carries the signature value:
	// the header, the hashed part, and the RSA value. Left out, because
	// OpenPGP does not protect them and changing them forges nothing: the
	// unhashed subpackets, the 16-bit hash prefix, and the MPI's bit count
	// (its low bits do not change which bytes are read as the value).
	for i := range bin {
		if i >= hashedEnd && i < mpi {
			continue
		}
		_, err := k.VerifyDetached(signed, flip(bin, i), Fingerprints("ubuntu"))
		switch {
		case err == nil:
			t.Errorf("signature with byte %d changed still verifies", i)
		case !wrapsOneSentinel(err):
			t.Errorf("signature with byte %d changed: err = %v, want one of the sentinels", i, err)
		case i >= mpi && !errors.Is(err, ErrBadSignature):
			t.Errorf("signature value with byte %d changed: err = %v, want ErrBadSignature", i, err)
		case i < 3 && !errors.Is(err, ErrNoSignature):
			t.Errorf("signature packet header with byte %d changed: err = %v, want ErrNoSignature", i, err)
		}
	}
	if _, err := k.VerifyDetached(signed, bin[:len(bin)/2], Fingerprints("ubuntu")); !errors.Is(err, ErrNoSignature) {
		t.Errorf("truncated signature: err = %v, want ErrNoSignature", err)
	}

	// In armored form a changed character is caught by the armor checksum or
	// by the signature; either way it must not verify.
	lines := bytes.Split(armored, []byte("\n"))
	for _, pos := range [][2]int{{2, 10}, {5, 30}, {len(lines) - 4, 3}} {
		c := bytes.Clone(armored)
		off := 0
		for _, l := range lines[:pos[0]] {
			off += len(l) + 1
		}
		i := off + pos[1]
		if c[i] == 'A' {
			c[i] = 'B'
		} else {
			c[i] = 'A'
		}
		_, err := k.VerifyDetached(signed, c, Fingerprints("ubuntu"))
		if !errors.Is(err, ErrBadSignature) && !errors.Is(err, ErrNoSignature) {
			t.Errorf("armored signature with line %d col %d changed: err = %v, want ErrBadSignature or ErrNoSignature", pos[0], pos[1], err)
		}
	}

	data := readTestdata(t, fedoraSums)
	i := bytes.Index(data, []byte("xUibVal")) // line 5 of the armor: the RSA value
	if i < 0 {
		t.Fatal("marker not in the Fedora signature")
	}
	c := bytes.Clone(data)
	c[i+2] = 'j'
	if _, _, err := k.VerifyClearsigned(c, []string{fedora44FP}); !errors.Is(err, ErrBadSignature) && !errors.Is(err, ErrNoSignature) {
		t.Errorf("Fedora signature body changed: err = %v, want ErrBadSignature or ErrNoSignature", err)
	}
}

func TestUnknownSignerThenWith(t *testing.T) {
	base := embeddedRing(t)
	signed := readTestdata(t, nobleSums)
	e := newKey(t, "Test Signer", t0, 0)
	fp := fingerprintOf(e)
	var sig bytes.Buffer
	if err := openpgp.ArmoredDetachSign(&sig, e, bytes.NewReader(signed), nil); err != nil {
		t.Fatal(err)
	}

	_, err := base.VerifyDetached(signed, sig.Bytes(), []string{fp})
	if !errors.Is(err, ErrUnknownSigner) {
		t.Fatalf("signature by an unknown key: err = %v, want ErrUnknownSigner", err)
	}
	if !strings.Contains(err.Error(), FormatFingerprint(fp)) {
		t.Errorf("error %q does not name the signer %s", err, FormatFingerprint(fp))
	}

	k, err := base.With("mydistro", publicArmor(t, e), fp)
	if err != nil {
		t.Fatal(err)
	}
	want := Result{
		Fingerprint: fp,
		SignerKeyID: fp[24:], // a v4 key id is the fingerprint's last 64 bits
		Signer:      "Test Signer <test@example.org>",
		Hash:        "SHA256",
	}
	for _, allowed := range [][]string{{fp}, {ubuntuFP, strings.ToLower(fp)}} {
		got, err := k.VerifyDetached(signed, sig.Bytes(), allowed)
		if err != nil {
			t.Fatalf("after With, allowed %v: %v", allowed, err)
		}
		if got.SignedAt.IsZero() || !got.SignedAt.Equal(got.SignedAt.UTC()) {
			t.Errorf("SignedAt = %v, want the signature's time in UTC", got.SignedAt)
		}
		got.SignedAt = time.Time{}
		if got != want {
			t.Errorf("after With, allowed %v: %+v\nwant %+v", allowed, got, want)
		}
	}

	// Added, but not allowed for this file.
	_, err = k.VerifyDetached(signed, sig.Bytes(), Fingerprints("ubuntu"))
	if !errors.Is(err, ErrUnknownSigner) || !strings.Contains(err.Error(), "may not sign") {
		t.Errorf("added key not in allowed: err = %v, want ErrUnknownSigner saying it may not sign", err)
	}
	// The embedded keyring did not learn the key.
	if _, err := base.VerifyDetached(signed, sig.Bytes(), []string{fp}); !errors.Is(err, ErrUnknownSigner) {
		t.Errorf("embedded keyring after With: err = %v, want ErrUnknownSigner", err)
	}
}

func TestWrongDistributionKey(t *testing.T) {
	k := embeddedRing(t)
	stranger := fingerprintOf(newKey(t, "Stranger", t0, 0))
	fedora := readTestdata(t, fedoraSums)
	noble := readTestdata(t, nobleSums)
	nobleSig := readTestdata(t, nobleSums+".gpg")

	tests := []struct {
		name     string
		verify   func(allowed []string) error
		allowed  []string
		mentions []string
	}{
		{"Fedora CHECKSUM, Ubuntu keys allowed", clearsignedErr(k, fedora), Fingerprints("ubuntu"), []string{"Fedora 44", "may not sign", "cdimage@ubuntu.com"}},
		{"Fedora CHECKSUM, Fedora 43 key allowed", clearsignedErr(k, fedora), []string{FedoraKey("43")}, []string{"Fedora 44", "Fedora 43"}},
		{"noble SHA256SUMS, Fedora 44 key allowed", detachedErr(k, noble, nobleSig), []string{FedoraKey("44")}, []string{"D2EB 4462", "Fedora 44"}},
		{"noble SHA256SUMS, a key not in the ring allowed", detachedErr(k, noble, nobleSig), []string{stranger}, []string{FormatFingerprint(stranger)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.verify(tt.allowed)
			if !errors.Is(err, ErrUnknownSigner) {
				t.Fatalf("err = %v, want ErrUnknownSigner", err)
			}
			for _, m := range tt.mentions {
				if !strings.Contains(err.Error(), m) {
					t.Errorf("error %q does not mention %q", err, m)
				}
			}
		})
	}

	err := detachedErr(k, noble, nobleSig)([]string{"D2EB"})
	if err == nil || wrapsOneSentinel(err) {
		t.Errorf("malformed allowed fingerprint: err = %v, want a plain error", err)
	}
}

func clearsignedErr(k *Keyring, data []byte) func([]string) error {
	return func(allowed []string) error {
		_, _, err := k.VerifyClearsigned(data, allowed)
		return err
	}
}

func detachedErr(k *Keyring, signed, sig []byte) func([]string) error {
	return func(allowed []string) error {
		_, err := k.VerifyDetached(signed, sig, allowed)
		return err
	}
}

func TestWeakHash(t *testing.T) {
	signed := readTestdata(t, nobleSums)
	e := newKey(t, "Old Habits", t0, 0)
	fp := fingerprintOf(e)
	k, err := embeddedRing(t).With("mydistro", publicArmor(t, e), fp)
	if err != nil {
		t.Fatal(err)
	}
	sha1Sig := signAt(t, e, signed, crypto.SHA1, t0.Add(time.Hour), 0)
	// go-crypto itself would accept it: the refusal is ours.
	if _, err := openpgp.CheckDetachedSignature(openpgp.EntityList{e}, bytes.NewReader(signed), bytes.NewReader(sha1Sig), nil); err != nil {
		t.Fatalf("the SHA-1 signature does not even verify in go-crypto: %v", err)
	}

	// go-crypto does not parse MD5 or RIPEMD-160 signatures; patch the hash
	// id of a good signature to see that they are named, not just unreadable.
	good := signAt(t, e, signed, crypto.SHA256, t0.Add(time.Hour), 0)
	if _, err := k.VerifyDetached(signed, good, []string{fp}); err != nil {
		t.Fatalf("SHA-256 signature: %v", err)
	}
	withHashID := func(id byte) []byte {
		c := bytes.Clone(good)
		c[newFormatBodyOffset(t, c)+3] = id
		return c
	}

	tests := []struct {
		name string
		sig  []byte
		hash string
	}{
		{"SHA-1", sha1Sig, "SHA1"},
		{"SHA-1 armored", armorSig(t, sha1Sig), "SHA1"},
		{"MD5", withHashID(1), "MD5"},
		{"RIPEMD-160", withHashID(3), "RIPEMD160"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := k.VerifyDetached(signed, tt.sig, []string{fp})
			if !errors.Is(err, ErrWeakHash) {
				t.Fatalf("err = %v, want ErrWeakHash", err)
			}
			if !strings.Contains(err.Error(), tt.hash) || !strings.Contains(err.Error(), "broken") {
				t.Errorf("error %q should name %s and say why it is refused", err, tt.hash)
			}
		})
	}
}

// newFormatBodyOffset returns where the body of a new-format packet starts.
func newFormatBodyOffset(t *testing.T, b []byte) int {
	t.Helper()
	switch {
	case b[0]&0xC0 != 0xC0:
		t.Fatalf("not a new-format packet: %x", b[0])
	case b[1] < 192:
		return 2
	case b[1] < 224:
		return 3
	case b[1] == 255:
		return 6
	}
	t.Fatalf("partial length in a signature packet")
	return 0
}

func armorSig(t *testing.T, bin []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := armor.Encode(&buf, openpgp.SignatureType, nil)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(bin)
	w.Close()
	return buf.Bytes()
}

// A key is judged as it was when it signed: expiry since then does not
// matter, a new self-signature since then does not matter, a signature made
// outside the key's life or after a revocation does.
func TestKeyValidityAtSigningTime(t *testing.T) {
	const day = 24 * time.Hour
	msg := []byte("SHA256 (image.qcow2) = 00\n")
	resign := func(at time.Time) func(*testing.T, *openpgp.Entity) {
		return func(t *testing.T, e *openpgp.Entity) {
			id := e.PrimaryIdentity()
			yes := true
			s := &packet.Signature{
				Version: 4, SigType: packet.SigTypePositiveCert, PubKeyAlgo: e.PrimaryKey.PubKeyAlgo,
				Hash: crypto.SHA256, CreationTime: at, IssuerKeyId: &e.PrimaryKey.KeyId,
				FlagsValid: true, FlagSign: true, FlagCertify: true, IsPrimaryId: &yes,
			}
			if err := s.SignUserId(id.Name, e.PrimaryKey, e.PrivateKey, &packet.Config{Time: func() time.Time { return at }}); err != nil {
				t.Fatal(err)
			}
			id.Signatures = append(id.Signatures, s)
			id.SelfSignature = s
		}
	}
	revoke := func(reason packet.ReasonForRevocation, at time.Time) func(*testing.T, *openpgp.Entity) {
		return func(t *testing.T, e *openpgp.Entity) {
			if err := e.RevokeKey(reason, "test", &packet.Config{Time: func() time.Time { return at }}); err != nil {
				t.Fatal(err)
			}
		}
	}

	tests := []struct {
		name        string
		keyLife     time.Duration
		change      func(*testing.T, *openpgp.Entity)
		signedAt    time.Time
		sigLife     time.Duration
		now         time.Time
		wantErr     error // nil: verifies
		wantMessage string
		goCryptoErr error // what go-crypto alone says, at the signature's time
	}{
		{name: "signed while valid, key expired since", keyLife: 30 * day, signedAt: t0.Add(day), now: t0.AddDate(10, 0, 0)},
		{name: "signed after the key expired", keyLife: 30 * day, signedAt: t0.Add(40 * day), now: t0.Add(41 * day), wantErr: ErrBadSignature, wantMessage: "had expired"},
		{name: "signed before the key existed", signedAt: t0.Add(-day), now: t0.Add(day), wantErr: ErrBadSignature, wantMessage: "did not exist"},
		{name: "key re-signed after the signature", change: resign(t0.Add(20 * day)), signedAt: t0.Add(day), now: t0.Add(30 * day), goCryptoErr: pgperrors.ErrSignatureExpired},
		{name: "signature within its own lifetime", signedAt: t0.Add(day), sigLife: 7 * day, now: t0.Add(2 * day)},
		{name: "signature past its own lifetime", signedAt: t0.Add(day), sigLife: 7 * day, now: t0.Add(30 * day), wantErr: ErrBadSignature, wantMessage: "expired on"},
		{name: "superseded after signing", change: revoke(packet.KeySuperseded, t0.Add(10*day)), signedAt: t0.Add(day), now: t0.Add(20 * day)},
		{name: "superseded before signing", change: revoke(packet.KeySuperseded, t0.Add(10*day)), signedAt: t0.Add(11 * day), now: t0.Add(20 * day), wantErr: ErrBadSignature, wantMessage: "revoked"},
		{name: "compromised after signing", change: revoke(packet.KeyCompromised, t0.Add(10*day)), signedAt: t0.Add(day), now: t0.Add(20 * day), wantErr: ErrBadSignature, wantMessage: "revoked"},
		{name: "revoked without a reason after signing", change: revoke(packet.NoReason, t0.Add(10*day)), signedAt: t0.Add(day), now: t0.Add(20 * day), wantErr: ErrBadSignature, wantMessage: "revoked"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newKey(t, "Time Test", t0, tt.keyLife)
			if tt.change != nil {
				tt.change(t, e)
			}
			fp := fingerprintOf(e)
			k, err := embeddedRing(t).With("mydistro", publicArmor(t, e), fp)
			if err != nil {
				t.Fatal(err)
			}
			k = withClock(k, tt.now)
			sig := signAt(t, e, msg, crypto.SHA256, tt.signedAt, tt.sigLife)

			if tt.goCryptoErr != nil {
				cfg := &packet.Config{Time: func() time.Time { return tt.signedAt }}
				_, _, err := openpgp.VerifyDetachedSignature(k.entities, bytes.NewReader(msg), bytes.NewReader(sig), cfg)
				if !errors.Is(err, tt.goCryptoErr) {
					t.Fatalf("go-crypto alone: err = %v, want %v (the case this test exists for)", err, tt.goCryptoErr)
				}
			}

			got, err := k.VerifyDetached(msg, sig, []string{fp})
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("VerifyDetached: %v", err)
				}
				if !got.SignedAt.Equal(tt.signedAt) || got.Fingerprint != fp {
					t.Errorf("VerifyDetached = %+v, want %s signed at %v", got, fp, tt.signedAt)
				}
				return
			}
			if !errors.Is(err, tt.wantErr) || !strings.Contains(err.Error(), tt.wantMessage) {
				t.Fatalf("VerifyDetached err = %v, want %v mentioning %q", err, tt.wantErr, tt.wantMessage)
			}
		})
	}
}

func TestNoSignature(t *testing.T) {
	k := embeddedRing(t)
	signed := readTestdata(t, nobleSums)
	keyFile := []byte(nil)
	for _, e := range k.entities {
		if fingerprintOf(e) == ubuntuFP {
			keyFile = publicArmor(t, e)
		}
	}
	nobleBin := dearmor(t, readTestdata(t, nobleSums+".gpg"))
	var message bytes.Buffer
	w, err := armor.Encode(&message, "PGP MESSAGE", nil)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(nobleBin)
	w.Close()

	tests := []struct {
		name    string
		sig     []byte
		mention string
	}{
		{"nil", nil, "empty"},
		{"empty", []byte{}, "empty"},
		{"white space", []byte(" \r\n\t\n"), "empty"},
		{"an HTML error page", []byte("<!DOCTYPE html><html><body>404 Not Found</body></html>"), "neither an armored signature nor an OpenPGP packet"},
		{"a public key, armored", keyFile, "not a signature"},
		{"a public key, binary", dearmor(t, keyFile), "where a signature was expected"},
		{"an armored message, not a signature", message.Bytes(), "not a signature"},
		{"broken armor", []byte("-----BEGIN PGP SIGNATURE-----\n\n!!!!\n-----END PGP SIGNATURE-----\n"), ""},
		{"a lone packet tag", []byte{0x89}, ""},
		{"half a signature", nobleBin[:len(nobleBin)/2], ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := k.VerifyDetached(signed, tt.sig, Fingerprints("ubuntu"))
			if !errors.Is(err, ErrNoSignature) || !strings.Contains(err.Error(), tt.mention) {
				t.Fatalf("err = %v, want ErrNoSignature mentioning %q", err, tt.mention)
			}
		})
	}
}

func TestVerifyClearsignedFraming(t *testing.T) {
	k := embeddedRing(t)
	data := readTestdata(t, fedoraSums)
	s := string(data)
	tests := []struct {
		name    string
		data    string
		wantErr error
		mention string
	}{
		{"CRLF line endings", strings.ReplaceAll(s, "\n", "\r\n"), nil, ""},
		{"surrounding white space", "\n\n" + s + "\n \n", nil, ""},
		{"a plain manifest", string(readTestdata(t, nobleSums)), ErrNoSignature, ""},
		{"empty", "", ErrNoSignature, ""},
		{"an unsigned line appended", s + "SHA256 (evil.qcow2) = " + strings.Repeat("0", 64) + "\n", ErrBadSignature, "outside"},
		{"an unsigned line before", "SHA256 (evil.qcow2) = " + strings.Repeat("0", 64) + "\n" + s, ErrBadSignature, "outside"},
		{"a second signed message appended", s + s, ErrBadSignature, "outside"},
		{"Hash header that disagrees", strings.Replace(s, "Hash: SHA256", "Hash: SHA512", 1), ErrBadSignature, "Hash header"},
		{"no signature block", s[:strings.Index(s, "-----BEGIN PGP SIGNATURE-----")], ErrNoSignature, ""},
	}
	want, _, err := k.VerifyClearsigned(data, []string{fedora44FP})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text, _, err := k.VerifyClearsigned([]byte(tt.data), []string{fedora44FP})
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("VerifyClearsigned: %v", err)
				}
				if !bytes.Equal(text, want) {
					t.Errorf("text differs from the text of the original file:\n%s", text)
				}
				return
			}
			if !errors.Is(err, tt.wantErr) || !strings.Contains(err.Error(), tt.mention) {
				t.Fatalf("err = %v, want %v mentioning %q", err, tt.wantErr, tt.mention)
			}
			if text != nil {
				t.Errorf("text returned with an error: %q", text)
			}
		})
	}
}

// An empty list of allowed keys allows no key: a signature that would verify
// by the right key, or by a user's key in the ring, is refused, so a catalog
// entry that names no keys can never be reported verified.
func TestEmptyAllowedListVerifiesNothing(t *testing.T) {
	base := embeddedRing(t)
	signed := readTestdata(t, nobleSums)
	sig := readTestdata(t, nobleSums+".gpg")
	e := newKey(t, "User Key", t0, 0)
	k, err := base.With("mydistro", publicArmor(t, e), fingerprintOf(e))
	if err != nil {
		t.Fatal(err)
	}
	var userSig bytes.Buffer
	if err := openpgp.ArmoredDetachSign(&userSig, e, bytes.NewReader(signed), nil); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		sig     []byte
		allowed []string
	}{
		{"pinned key, nil list", sig, nil},
		{"pinned key, empty list", sig, []string{}},
		{"user key, nil list", userSig.Bytes(), nil},
	} {
		if _, err := k.VerifyDetached(signed, tc.sig, tc.allowed); !errors.Is(err, ErrUnknownSigner) {
			t.Errorf("%s: err = %v, want ErrUnknownSigner", tc.name, err)
		}
	}
	data := readTestdata(t, fedoraSums)
	if _, _, err := k.VerifyClearsigned(data, nil); !errors.Is(err, ErrUnknownSigner) {
		t.Errorf("clearsigned, nil list: err = %v, want ErrUnknownSigner", err)
	}
}

// A user key is scoped to the distro it was added for: AllowedFor keeps it
// for that distro only, and keeps pinned keys for any entry that names them.
func TestAllowedForScopesUserKeys(t *testing.T) {
	e := newKey(t, "User Key", t0, 0)
	fp := fingerprintOf(e)
	k, err := embeddedRing(t).With("MyDistro", publicArmor(t, e), fp)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		distro string
		fps    []string
		want   []string
	}{
		{"mydistro", []string{strings.ToLower(FormatFingerprint(fp))}, []string{fp}},
		{"otherdistro", []string{fp}, nil},
		{"otherdistro", []string{fp, ubuntuFP}, []string{ubuntuFP}},
		{"ubuntu", []string{"not hex", ubuntuFP, ubuntuFP}, []string{ubuntuFP}},
		{"mydistro", nil, nil},
		{"mydistro", []string{fingerprintOf(newKey(t, "Absent", t0, 0))}, nil},
	} {
		if got := k.AllowedFor(tc.distro, tc.fps); !slices.Equal(got, tc.want) {
			t.Errorf("AllowedFor(%q, %q) = %q, want %q", tc.distro, tc.fps, got, tc.want)
		}
	}
	if _, err := embeddedRing(t).With("", publicArmor(t, e), fp); err == nil {
		t.Error("With without a distro succeeded")
	}
}

// Arch's key block from the arch-boxes README is embedded and pinned, with the
// signing subkey that makes its signatures.
func TestArchBoxesKeyPinned(t *testing.T) {
	k := embeddedRing(t)
	const archFP = "1B9A16984A4E8CB448712D2AE0B78BF4326C6F8F"
	if !slices.Equal(Fingerprints("arch"), []string{archFP}) {
		t.Fatalf("Fingerprints(arch) = %q", Fingerprints("arch"))
	}
	var found bool
	for _, e := range k.entities {
		if fingerprintOf(e) != archFP {
			continue
		}
		found = true
		if len(e.Subkeys) != 1 || fmt.Sprintf("%X", e.Subkeys[0].PublicKey.Fingerprint) != "656E4C5AC1CC3B86E539D97E343635A6859A9174" {
			t.Errorf("arch-boxes subkeys = %+v", e.Subkeys)
		}
		exp := e.Subkeys[0].Sig.CreationTime.Add(time.Duration(*e.Subkeys[0].Sig.KeyLifetimeSecs) * time.Second)
		if exp.UTC().Format(time.DateOnly) != "2027-05-28" {
			t.Errorf("signing subkey expires %s, want 2027-05-28", exp)
		}
	}
	if !found {
		t.Fatal("arch-boxes key not in the embedded ring")
	}
}

func TestReleaseKeys(t *testing.T) {
	for _, tc := range []struct {
		distro, version string
		want            []string
	}{
		{"almalinux", "8", []string{"5E9B8F5617B5066CE92057C3488FCF7C3ABB34F8", "BC5EDDCADF502C077F1582882AE81E8ACED7258B"}},
		{"almalinux", "9.6", []string{"BF18AC2876178908D6E71267D36CB86CB86B3716"}},
		{"rocky", "10", []string{"FC226859C0860BF0DDB95B085B106C736FEDFC85"}},
		{"fedora", "44 Beta", []string{fedora44FP}},
		{"fedora", "99", nil},
		{"ubuntu", "24.04", nil},
	} {
		if got := ReleaseKeys(tc.distro, tc.version); !slices.Equal(got, tc.want) {
			t.Errorf("ReleaseKeys(%s, %s) = %q, want %q", tc.distro, tc.version, got, tc.want)
		}
	}
}

// Arch's key signs with a subkey that expires (2027-05-28 for arch-boxes):
// a signature made while the subkey was valid stays good after it expired,
// and one dated after its expiry is refused. The same shape of key is made
// here, since no real Arch signature is in the stored sources.
func TestSigningSubkeyJudgedAtSignatureTime(t *testing.T) {
	created := time.Date(2022, 5, 29, 0, 0, 0, 0, time.UTC)
	e := newKey(t, "arch-boxes-like", created, 0)
	cfg := &packet.Config{Algorithm: packet.PubKeyAlgoEdDSA, Time: func() time.Time { return created },
		KeyLifetimeSecs: uint32((5 * 365 * 24 * time.Hour) / time.Second)}
	if err := e.AddSigningSubkey(cfg); err != nil {
		t.Fatal(err)
	}
	sub := e.Subkeys[len(e.Subkeys)-1]
	expires := created.Add(5 * 365 * 24 * time.Hour)
	k, err := embeddedRing(t).With("arch", publicArmor(t, e), fingerprintOf(e))
	if err != nil {
		t.Fatal(err)
	}
	k = withClock(k, expires.Add(365*24*time.Hour)) // today: a year after expiry
	signed := []byte("f419d4e29aebfc017ad4c9de330a3be0d7eefba710b269108b116aaca1122926  Arch-Linux-x86_64-cloudimg-20260715.556894.qcow2\n")
	sign := func(at time.Time) []byte {
		sig := &packet.Signature{Version: 4, SigType: packet.SigTypeBinary, PubKeyAlgo: sub.PrivateKey.PubKeyAlgo,
			Hash: crypto.SHA256, CreationTime: at, IssuerKeyId: &sub.PrivateKey.KeyId}
		scfg := &packet.Config{DefaultHash: crypto.SHA256, Time: func() time.Time { return at }}
		h, err := sig.PrepareSign(scfg)
		if err != nil {
			t.Fatal(err)
		}
		h.Write(signed)
		if err := sig.Sign(h, sub.PrivateKey, scfg); err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := sig.Serialize(&buf); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	allowed := []string{fingerprintOf(e)}
	r, err := k.VerifyDetached(signed, sign(expires.Add(-24*time.Hour)), allowed)
	if err != nil {
		t.Fatalf("signed the day before the subkey expired, checked a year later: %v", err)
	}
	if r.SignerKeyID != fmt.Sprintf("%016X", sub.PublicKey.KeyId) {
		t.Errorf("signer key %s, want the subkey", r.SignerKeyID)
	}
	if _, err := k.VerifyDetached(signed, sign(expires.Add(24*time.Hour)), allowed); !errors.Is(err, ErrBadSignature) {
		t.Errorf("signed the day after the subkey expired: %v, want ErrBadSignature", err)
	}
}
