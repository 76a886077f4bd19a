package trust

import (
	"bytes"
	"crypto"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/clearsign"
	pgperrors "github.com/ProtonMail/go-crypto/openpgp/errors"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
)

// Errors that callers branch on. Every error from VerifyDetached and
// VerifyClearsigned wraps exactly one of the first four.
var (
	// ErrBadSignature means a signature by an allowed key does not match the
	// signed bytes, or the key was expired or revoked when it signed, or
	// the signature has expired.
	ErrBadSignature = errors.New("bad signature")
	// ErrUnknownSigner means the signature was made by a key that is not in
	// the keyring or not allowed to sign this file.
	ErrUnknownSigner = errors.New("unknown signer")
	// ErrWeakHash means the signature uses a broken hash (SHA-1, MD5,
	// RIPEMD-160) and is refused whether or not it would verify.
	ErrWeakHash = errors.New("weak signature hash")
	// ErrNoSignature means there is no signature to check: empty input, or
	// bytes that are not an OpenPGP signature.
	ErrNoSignature = errors.New("no signature")
	// ErrPinnedKey means a caller tried to add a key whose fingerprint is
	// pinned for a distribution.
	ErrPinnedKey = errors.New("key is pinned")
)

// Result says who signed and when, for a signature that verified.
type Result struct {
	// Fingerprint is the signer's primary-key fingerprint, upper-case hex
	// without spaces; it is what the allowed lists name.
	Fingerprint string
	// SignerKeyID is the 16-hex-digit id of the key that made the
	// signature: the primary key or one of its signing subkeys.
	SignerKeyID string
	// Signer is the signer's primary user id, as the key states it.
	Signer string
	// SignedAt is the signature's creation time, in UTC.
	SignedAt time.Time
	// Hash names the signature's digest the way OpenPGP does ("SHA512").
	Hash string
}

// VerifyDetached checks a detached signature (armored or binary, detected
// from its first bytes) over signed, the exact bytes of a file such as
// Ubuntu's SHA256SUMS. allowed lists the primary-key fingerprints that may sign
// this file (white space and case ignored; see Fingerprints, ReleaseKeys and
// AllowedFor); an empty list allows no key, so nothing verifies against it.
//
// A signature is accepted when it verifies, uses a strong hash, was made by an
// allowed key that was valid at the moment it signed, and has not itself
// expired. "Valid at the moment it signed" is deliberate: distributions sign
// checksum files once and keep serving them for years, while their keys expire
// (Fedora's release keys, AlmaLinux 8's 2021 key) or get new self-signatures
// (Ubuntu's 2009 key was re-signed in 2025). Judging an old signature by
// today's key state would refuse genuine old releases; judging it by the key
// as it was when the signature was made is what gpg does too. The price is the
// same as gpg's: whoever holds an expired key can back-date a signature, which
// is why revocations are honoured regardless of date unless they say the key
// was merely superseded or retired.
func (k *Keyring) VerifyDetached(signed, signature []byte, allowed []string) (Result, error) {
	bin, err := decodeSignature(signature)
	if err != nil {
		return Result{}, err
	}
	return k.verify(signed, bin, allowed)
}

// VerifyClearsigned checks a cleartext-signed message such as Fedora's
// CHECKSUM and returns the signed text (dash-escaping undone, trailing
// white space removed, lines ending in "\n") for the caller to parse: only
// that text is covered by the signature. Anything but white space before or
// after the signed message is refused, so no unsigned line can ride along.
// allowed and the acceptance rules are as for VerifyDetached; a "Hash:" header
// that disagrees with the signature's digest is refused as well.
func (k *Keyring) VerifyClearsigned(data []byte, allowed []string) (text []byte, r Result, err error) {
	b, rest := clearsign.Decode(data)
	if b == nil {
		return nil, Result{}, fmt.Errorf("%w: no cleartext-signed message found", ErrNoSignature)
	}
	start := bytes.Index(data, []byte("-----BEGIN PGP SIGNED MESSAGE-----"))
	if start < 0 || len(bytes.TrimSpace(data[:start])) > 0 || len(bytes.TrimSpace(rest)) > 0 {
		return nil, Result{}, fmt.Errorf("%w: the file has text outside the signed message", ErrBadSignature)
	}
	if b.ArmoredSignature.Type != openpgp.SignatureType {
		return nil, Result{}, fmt.Errorf("%w: the signed message ends in a %q block, not a signature", ErrNoSignature, b.ArmoredSignature.Type)
	}
	bin, err := io.ReadAll(b.ArmoredSignature.Body)
	if err != nil {
		return nil, Result{}, fmt.Errorf("%w: corrupt armored signature: %w", ErrNoSignature, err)
	}
	r, err = k.verify(b.Bytes, bin, allowed)
	if err != nil {
		return nil, Result{}, err
	}
	if hs := b.Headers.Values("Hash"); len(hs) > 0 && !slices.Contains(hs, r.Hash) {
		return nil, Result{}, fmt.Errorf("%w: the message's Hash header says %s but the signature uses %s", ErrBadSignature, strings.Join(hs, ","), r.Hash)
	}
	return b.Plaintext, r, nil
}

// decodeSignature returns the binary packets of an armored or binary signature.
func decodeSignature(sig []byte) ([]byte, error) {
	trimmed := bytes.TrimLeft(sig, " \t\r\n")
	if len(trimmed) == 0 {
		return nil, fmt.Errorf("%w: the signature is empty", ErrNoSignature)
	}
	if bytes.HasPrefix(trimmed, []byte("-----BEGIN PGP ")) {
		block, err := armor.Decode(bytes.NewReader(trimmed))
		if err != nil {
			return nil, fmt.Errorf("%w: invalid armor: %w", ErrNoSignature, err)
		}
		if block.Type != openpgp.SignatureType {
			return nil, fmt.Errorf("%w: armored block is a %q, not a signature", ErrNoSignature, block.Type)
		}
		bin, err := io.ReadAll(block.Body)
		if err != nil {
			return nil, fmt.Errorf("%w: corrupt armored signature: %w", ErrNoSignature, err)
		}
		return bin, nil
	}
	// Every OpenPGP packet header has the top bit set; text that is not
	// armor (an HTML error page, say) fails here.
	if sig[0]&0x80 == 0 {
		return nil, fmt.Errorf("%w: neither an armored signature nor an OpenPGP packet", ErrNoSignature)
	}
	return sig, nil
}

// verify checks the binary signature packets bin over signed.
func (k *Keyring) verify(signed, bin []byte, allowed []string) (Result, error) {
	ring, want, err := k.allowedRing(allowed)
	if err != nil {
		return Result{}, err
	}
	sig, raw, issuers, err := selectSignature(bin, ring)
	if err != nil {
		return Result{}, err
	}
	if sig == nil {
		return Result{}, k.unknownSigner(issuers, want)
	}

	// go-crypto checks a signature against one clock, Config.Time, and uses
	// it for everything: the key's expiry and revocations, and whether the
	// key's self-signatures and the signature itself are "expired" (which,
	// for go-crypto, includes being created after that clock). We set the
	// clock to the signature's creation time, so the key is judged as it was
	// when it signed. One thing then needs help: a key re-signed after the
	// file was signed (Ubuntu's key got a new self-signature in 2025;
	// what it signed before then is genuine) has a self-signature "from the future", which
	// go-crypto reports as ErrSignatureExpired after the signature itself
	// and the key's validity have already passed; only that case is let
	// through, once no self-signature's own lifetime had run out by then.
	// Revocations that are not "superseded"/"retired" and the signature's
	// own expiry, which need today's date, are checked after. A signature
	// dated after today is not refused: the local clock (often wrong in a
	// fresh VM) decides nothing but a signature's own expiry.
	at := sig.CreationTime
	cfg := &packet.Config{Time: func() time.Time { return at }}
	vsig, signer, err := openpgp.VerifyDetachedSignature(ring, bytes.NewReader(signed), bytes.NewReader(raw), cfg)
	if vsig == nil || signer == nil {
		if err == nil || errors.Is(err, pgperrors.ErrUnknownIssuer) {
			// selectSignature found a key for this issuer; go-crypto must too.
			return Result{}, fmt.Errorf("%w: internal error: signer not found again (%v)", ErrBadSignature, err)
		}
		return Result{}, fmt.Errorf("%w: %w", ErrBadSignature, err)
	}
	fp := fingerprintOf(signer)
	key, ok := signingKey(signer, vsig)
	if !ok {
		return Result{}, fmt.Errorf("%w: internal error: no signing key %016X in %s", ErrBadSignature, *vsig.IssuerKeyId, fp)
	}
	switch {
	case err == nil:
	case errors.Is(err, pgperrors.ErrSignatureExpired):
		if lapsed := lapsedSelfSignature(key, at); lapsed != nil {
			return Result{}, fmt.Errorf("%w: key %s was not valid on %s: its self-signature of %s had expired", ErrBadSignature, k.label(fp), day(at), day(lapsed.CreationTime))
		}
	case errors.Is(err, pgperrors.ErrKeyExpired):
		return Result{}, fmt.Errorf("%w: made on %s, when key %s had expired or did not exist yet", ErrBadSignature, day(at), k.label(fp))
	case errors.Is(err, pgperrors.ErrKeyRevoked):
		return Result{}, fmt.Errorf("%w: key %s is revoked", ErrBadSignature, k.label(fp))
	default:
		return Result{}, fmt.Errorf("%w: %w", ErrBadSignature, err)
	}
	if hardRevoked(signer.Revocations) || (key.PublicKey != signer.PrimaryKey && hardRevoked(key.Revocations)) {
		return Result{}, fmt.Errorf("%w: key %s is revoked", ErrBadSignature, k.label(fp))
	}
	if l := vsig.SigLifetimeSecs; l != nil && *l != 0 {
		if exp := at.Add(time.Duration(*l) * time.Second); k.clock().After(exp) {
			return Result{}, fmt.Errorf("%w: the signature by %s expired on %s", ErrBadSignature, k.label(fp), day(exp))
		}
	}
	return Result{
		Fingerprint: fp,
		SignerKeyID: fmt.Sprintf("%016X", key.PublicKey.KeyId),
		Signer:      primaryUserID(signer),
		SignedAt:    at.UTC(),
		Hash:        hashName(vsig.Hash),
	}, nil
}

// allowedRing returns the keys of k that allowed names and the normalised
// fingerprints. An empty list is refused: "no keys named" must never mean
// "any key in the ring" (another distribution's, or a user's key).
func (k *Keyring) allowedRing(allowed []string) (openpgp.EntityList, []string, error) {
	if len(allowed) == 0 {
		return nil, nil, fmt.Errorf("%w: no key is allowed to sign this file", ErrUnknownSigner)
	}
	want := make([]string, 0, len(allowed))
	for _, a := range allowed {
		fp, err := normalizeFingerprint(a)
		if err != nil {
			return nil, nil, fmt.Errorf("allowed signers: %w", err)
		}
		want = append(want, fp)
	}
	var ring openpgp.EntityList
	for _, e := range k.entities {
		if slices.Contains(want, fingerprintOf(e)) {
			ring = append(ring, e)
		}
	}
	return ring, want, nil
}

// selectSignature walks the signature packets in bin and returns the first one
// made by a key in ring, re-serialised on its own, as go-crypto would pick it.
// With none, it returns the issuers it saw for the error message.
func selectSignature(bin []byte, ring openpgp.EntityList) (*packet.Signature, []byte, []issuer, error) {
	r := packet.NewOpaqueReader(bytes.NewReader(bin))
	var issuers []issuer
	n := 0
	for {
		op, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, nil, nil, fmt.Errorf("%w: unreadable signature packet: %w", ErrNoSignature, err)
		}
		const tagSignature, tagMarker = 2, 10
		if op.Tag == tagMarker {
			continue
		}
		if op.Tag != tagSignature {
			return nil, nil, nil, fmt.Errorf("%w: found an OpenPGP packet of type %d where a signature was expected", ErrNoSignature, op.Tag)
		}
		n++
		p, err := op.Parse()
		sig, ok := p.(*packet.Signature)
		if err != nil || !ok {
			// go-crypto does not parse MD5 or RIPEMD-160 signatures at all;
			// say why rather than calling them unreadable.
			if name, weak := rawHash(op.Contents); weak {
				return nil, nil, nil, weakHashError(name, "")
			}
			if err == nil {
				err = fmt.Errorf("unsupported packet %T", p)
			}
			return nil, nil, nil, fmt.Errorf("%w: unreadable signature: %w", ErrNoSignature, err)
		}
		if sig.SigType != packet.SigTypeBinary && sig.SigType != packet.SigTypeText {
			return nil, nil, nil, fmt.Errorf("%w: a signature of type 0x%02X is not a signature over a file", ErrNoSignature, uint8(sig.SigType))
		}
		if sig.IssuerKeyId == nil {
			issuers = append(issuers, issuer{})
			continue
		}
		if len(ring.KeysByIdUsage(*sig.IssuerKeyId, packet.KeyFlagSign)) == 0 {
			issuers = append(issuers, issuer{keyID: *sig.IssuerKeyId, fingerprint: sig.IssuerFingerprint})
			continue
		}
		if isWeak(sig.Hash) {
			return nil, nil, nil, weakHashError(hashName(sig.Hash), fmt.Sprintf("%016X", *sig.IssuerKeyId))
		}
		var buf bytes.Buffer
		if err := op.Serialize(&buf); err != nil {
			return nil, nil, nil, fmt.Errorf("%w: %w", ErrNoSignature, err)
		}
		return sig, buf.Bytes(), nil, nil
	}
	if n == 0 {
		return nil, nil, nil, fmt.Errorf("%w: no signature packet found", ErrNoSignature)
	}
	return nil, nil, issuers, nil
}

// issuer is who a signature says made it.
type issuer struct {
	keyID       uint64
	fingerprint []byte
}

// unknownSigner explains which keys signed and which were expected.
func (k *Keyring) unknownSigner(issuers []issuer, want []string) error {
	var by []string
	for _, is := range issuers {
		switch {
		case is.keyID == 0 && is.fingerprint == nil:
			by = append(by, "a key the signature does not name")
		case len(k.entities.KeysById(is.keyID)) > 0:
			// In the keyring but not allowed for this file.
			fp := fingerprintOf(k.entities.KeysById(is.keyID)[0].Entity)
			by = append(by, k.label(fp)+", which may not sign this file")
		case len(is.fingerprint) > 0:
			by = append(by, FormatFingerprint(fmt.Sprintf("%X", is.fingerprint))+" (not in the keyring)")
		default:
			by = append(by, fmt.Sprintf("key ID %016X (not in the keyring)", is.keyID))
		}
	}
	expected := "any key in the keyring"
	if len(want) > 0 {
		labels := make([]string, len(want))
		for i, fp := range want {
			labels[i] = k.label(fp)
		}
		expected = strings.Join(labels, " or ")
	}
	return fmt.Errorf("%w: signed by %s; expected %s", ErrUnknownSigner, strings.Join(by, " and "), expected)
}

// signingKey finds the key of signer that made sig.
func signingKey(signer *openpgp.Entity, sig *packet.Signature) (openpgp.Key, bool) {
	if sig.IssuerKeyId == nil {
		return openpgp.Key{}, false
	}
	keys := openpgp.EntityList{signer}.KeysByIdUsage(*sig.IssuerKeyId, packet.KeyFlagSign)
	if len(keys) == 0 {
		return openpgp.Key{}, false
	}
	return keys[0], true
}

// lapsedSelfSignature returns the first self-signature binding key that had
// passed its own lifetime at t, or nil. Unlike packet.Signature.SigExpired it
// does not count a self-signature made after t as expired: see verify.
func lapsedSelfSignature(key openpgp.Key, t time.Time) *packet.Signature {
	self, _ := key.Entity.PrimarySelfSignature()
	sigs := []*packet.Signature{self}
	if key.PublicKey != key.Entity.PrimaryKey {
		sigs = append(sigs, key.SelfSignature)
		if key.SelfSignature != nil {
			sigs = append(sigs, key.SelfSignature.EmbeddedSignature)
		}
	}
	for _, s := range sigs {
		if s == nil || s.SigLifetimeSecs == nil || *s.SigLifetimeSecs == 0 {
			continue
		}
		if t.After(s.CreationTime.Add(time.Duration(*s.SigLifetimeSecs) * time.Second)) {
			return s
		}
	}
	return nil
}

// hardRevoked reports whether any revocation says the key must not be trusted
// even for what it signed before: RFC 9580 section 5.2.3.31 treats every reason
// but "superseded" and "retired" (including none) as such. Soft revocations
// go-crypto already applies from their creation time.
func hardRevoked(revs []*packet.Signature) bool {
	for _, r := range revs {
		if r.RevocationReason == nil {
			return true
		}
		switch *r.RevocationReason {
		case packet.KeySuperseded, packet.KeyRetired:
		default:
			return true
		}
	}
	return false
}

// isWeak reports whether h is broken for signatures.
func isWeak(h crypto.Hash) bool {
	return h == crypto.SHA1 || h == crypto.MD5 || h == crypto.RIPEMD160
}

// weakHashError refuses a signature for its hash; keyID may be "".
func weakHashError(name, keyID string) error {
	by := ""
	if keyID != "" {
		by = " by key " + keyID
	}
	return fmt.Errorf("%w: the signature%s uses %s, which is broken for signatures (collisions can be made), so it is refused even if it is genuine", ErrWeakHash, by, name)
}

// rawHash reads the hash algorithm of a signature packet that go-crypto would
// not parse, and reports whether it is one we refuse as weak.
func rawHash(contents []byte) (name string, weak bool) {
	var id byte
	switch {
	case len(contents) >= 17 && (contents[0] == 2 || contents[0] == 3):
		id = contents[16] // version, length 5, type, time(4), key id(8), algo, hash
	case len(contents) >= 4 && contents[0] >= 4:
		id = contents[3] // version, type, algo, hash
	default:
		return "", false
	}
	switch id {
	case 1:
		return "MD5", true
	case 2:
		return "SHA1", true
	case 3:
		return "RIPEMD160", true
	}
	return "", false
}

// hashName returns OpenPGP's name for a hash ("SHA512", "SHA3-256").
func hashName(h crypto.Hash) string {
	switch h {
	case crypto.MD5:
		return "MD5"
	case crypto.SHA1:
		return "SHA1"
	case crypto.RIPEMD160:
		return "RIPEMD160"
	case crypto.SHA224:
		return "SHA224"
	case crypto.SHA256:
		return "SHA256"
	case crypto.SHA384:
		return "SHA384"
	case crypto.SHA512:
		return "SHA512"
	case crypto.SHA3_256:
		return "SHA3-256"
	case crypto.SHA3_512:
		return "SHA3-512"
	}
	return h.String()
}

// day formats a time as a UTC date for messages.
func day(t time.Time) string {
	return t.UTC().Format(time.DateOnly)
}
