package trust

import (
	"bytes"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
)

//go:embed keys/*/*.asc
var keyFiles embed.FS

// Keyring is a set of OpenPGP public keys that may sign checksum manifests:
// the pinned distribution keys from Embedded, plus any added with With.
// A Keyring never changes once made, so it is safe for concurrent use; the
// zero Keyring is empty.
type Keyring struct {
	entities openpgp.EntityList
	info     map[string]keyInfo // by primary fingerprint
	// now is the clock used only to honour a signature's own expiration
	// time; nil means time.Now. Tests set it.
	now func() time.Time
}

// keyInfo is what the keyring knows about a key beyond its packets.
type keyInfo struct {
	label string
	// distro is the catalog distro a user key was added for; "" for the
	// embedded keys, whose pins name their distro.
	distro string
}

// embedded parses the embedded keys once per process.
var embedded = sync.OnceValues(func() (*Keyring, error) { return loadKeys(keyFiles, pins) })

// Embedded returns the keyring of every pinned distribution key. It is parsed
// once and shared: callers get the same *Keyring each time and extend it with
// With, which copies. An error means the binary was built with a key file that
// does not match its pin, and no signature can be trusted.
func Embedded() (*Keyring, error) {
	return embedded()
}

// loadKeys reads keys/*/*.asc from fsys and checks them against pins both
// ways: every key found must be pinned to the file it is in, and every pin
// must have been found.
func loadKeys(fsys fs.FS, pins []pin) (*Keyring, error) {
	names, err := fs.Glob(fsys, "keys/*/*.asc")
	if err != nil {
		return nil, fmt.Errorf("listing embedded keys: %w", err)
	}
	byFP := make(map[string]pin, len(pins))
	for _, p := range pins {
		byFP[p.fingerprint] = p
	}
	k := &Keyring{info: make(map[string]keyInfo, len(pins))}
	for _, name := range names {
		file := strings.TrimPrefix(name, "keys/")
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("reading embedded key %s: %w", file, err)
		}
		ents, err := readArmoredKeys(data)
		if err != nil {
			return nil, fmt.Errorf("embedded key %s: %w", file, err)
		}
		for _, e := range ents {
			fp := fingerprintOf(e)
			p, ok := byFP[fp]
			if !ok {
				return nil, fmt.Errorf("embedded key file %s holds key %s, which is not pinned", file, FormatFingerprint(fp))
			}
			if p.file != file {
				return nil, fmt.Errorf("embedded key %s is pinned to %s but found in %s", FormatFingerprint(fp), p.file, file)
			}
			if _, dup := k.info[fp]; dup {
				return nil, fmt.Errorf("embedded key %s appears twice", FormatFingerprint(fp))
			}
			k.entities = append(k.entities, e)
			k.info[fp] = keyInfo{label: p.label}
		}
	}
	// ReadKeyRing skips keys it cannot parse, so a pin without its key means
	// a file that silently lost one.
	for _, p := range pins {
		if _, ok := k.info[p.fingerprint]; !ok {
			return nil, fmt.Errorf("pinned key %s (%s) was not found in %s", FormatFingerprint(p.fingerprint), p.label, p.file)
		}
	}
	return k, nil
}

// With returns a copy of k that also trusts the armored public key, for the
// catalog distro distro only (see AllowedFor). The armor must hold exactly
// one primary key whose fingerprint is fingerprint (white space and case are
// ignored). It is how users add keys for their own catalog entries. A fingerprint that is pinned for a distribution is refused with
// ErrPinnedKey, so configuration can never replace a distribution's key; a key
// already in k, a key without a signing-capable key, and RSA keys under 2048
// bits or DSA keys are refused too. k itself is not changed.
func (k *Keyring) With(distro string, armored []byte, fingerprint string) (*Keyring, error) {
	distro = strings.ToLower(strings.TrimSpace(distro))
	if distro == "" {
		return nil, fmt.Errorf("key %s: a user key must name the distro it signs for", strings.TrimSpace(fingerprint))
	}
	want, err := normalizeFingerprint(fingerprint)
	if err != nil {
		return nil, err
	}
	if p, ok := pinByFingerprint(want); ok {
		return nil, fmt.Errorf("%w: %s is the embedded key %q and cannot be replaced or added again", ErrPinnedKey, FormatFingerprint(want), p.label)
	}
	if _, ok := k.info[want]; ok {
		return nil, fmt.Errorf("key %s is already in the keyring", FormatFingerprint(want))
	}
	ents, err := readArmoredKeys(armored)
	if err != nil {
		return nil, fmt.Errorf("reading key %s: %w", FormatFingerprint(want), err)
	}
	if len(ents) != 1 {
		return nil, fmt.Errorf("reading key %s: want exactly one key, found %d", FormatFingerprint(want), len(ents))
	}
	e := ents[0]
	if got := fingerprintOf(e); got != want {
		return nil, fmt.Errorf("key fingerprint is %s, not the expected %s", FormatFingerprint(got), FormatFingerprint(want))
	}
	if err := checkSigningKeys(e); err != nil {
		return nil, fmt.Errorf("key %s: %w", FormatFingerprint(want), err)
	}
	info := maps.Clone(k.info)
	if info == nil {
		info = make(map[string]keyInfo, 1)
	}
	info[want] = keyInfo{label: primaryUserID(e), distro: distro}
	return &Keyring{
		entities: slices.Concat(k.entities, openpgp.EntityList{e}),
		info:     info,
		now:      k.now,
	}, nil
}

// AllowedFor returns the fingerprints among fps (normalised; entries that are
// not fingerprints are dropped) that may sign for the catalog distro: an
// embedded, pinned key, or a user key added for that distro with With. A user
// key added for another distro is left out, so an overlay cannot borrow it.
// The result may be empty: then nothing may sign, and nothing verifies.
func (k *Keyring) AllowedFor(distro string, fps []string) []string {
	distro = strings.ToLower(strings.TrimSpace(distro))
	var out []string
	for _, fp := range fps {
		n, err := normalizeFingerprint(fp)
		if err != nil || slices.Contains(out, n) {
			continue
		}
		info, ok := k.info[n]
		if !ok {
			continue
		}
		if _, pinned := pinByFingerprint(n); pinned || info.distro == distro {
			out = append(out, n)
		}
	}
	return out
}

// readArmoredKeys reads every public key block in data. Unlike
// openpgp.ReadArmoredKeyRing it does not stop after the first block: a key
// file may hold several (AlmaLinux 8's does).
func readArmoredKeys(data []byte) (openpgp.EntityList, error) {
	begin := []byte("-----BEGIN PGP ")
	var all openpgp.EntityList
	rest := data
	for {
		i := bytes.Index(rest, begin)
		if i < 0 {
			break
		}
		rest = rest[i:]
		chunk := rest
		if j := bytes.Index(rest[len(begin):], begin); j >= 0 {
			chunk, rest = rest[:len(begin)+j], rest[len(begin)+j:]
		} else {
			rest = nil
		}
		block, err := armor.Decode(bytes.NewReader(chunk))
		if err != nil {
			return nil, fmt.Errorf("invalid armor: %w", err)
		}
		if block.Type != openpgp.PublicKeyType {
			return nil, fmt.Errorf("expected a %q block, found %q", openpgp.PublicKeyType, block.Type)
		}
		ents, err := openpgp.ReadKeyRing(block.Body)
		if err != nil {
			return nil, fmt.Errorf("invalid key: %w", err)
		}
		all = append(all, ents...)
	}
	if len(all) == 0 {
		return nil, fmt.Errorf("no armored public key found")
	}
	return all, nil
}

// checkSigningKeys makes sure e can sign at all, and with nothing weak.
func checkSigningKeys(e *openpgp.Entity) error {
	var signers []*packet.PublicKey
	if s, _ := e.PrimarySelfSignature(); s != nil && s.FlagsValid && s.FlagSign {
		signers = append(signers, e.PrimaryKey)
	}
	for _, sub := range e.Subkeys {
		if sub.Sig != nil && sub.Sig.FlagsValid && sub.Sig.FlagSign {
			signers = append(signers, sub.PublicKey)
		}
	}
	if len(signers) == 0 {
		return fmt.Errorf("no key in it may make signatures")
	}
	for _, pk := range signers {
		switch pk.PubKeyAlgo {
		case packet.PubKeyAlgoDSA:
			return fmt.Errorf("DSA signing keys are refused as too weak")
		case packet.PubKeyAlgoRSA, packet.PubKeyAlgoRSASignOnly:
			bits, err := pk.BitLength()
			if err != nil {
				return err
			}
			if bits < 2048 {
				return fmt.Errorf("RSA signing key of %d bits is too weak: want at least 2048", bits)
			}
		}
	}
	return nil
}

// fingerprintOf returns e's primary-key fingerprint in upper-case hex.
func fingerprintOf(e *openpgp.Entity) string {
	return strings.ToUpper(hex.EncodeToString(e.PrimaryKey.Fingerprint))
}

// primaryUserID returns the user id that e presents first, or "".
func primaryUserID(e *openpgp.Entity) string {
	if id := e.PrimaryIdentity(); id != nil {
		return id.Name
	}
	return ""
}

// label names a key for error messages: its pin label or user id.
func (k *Keyring) label(fp string) string {
	if info, ok := k.info[fp]; ok && info.label != "" {
		return FormatFingerprint(fp) + " (" + info.label + ")"
	}
	if p, ok := pinByFingerprint(fp); ok {
		return FormatFingerprint(fp) + " (" + p.label + ")"
	}
	return FormatFingerprint(fp)
}

// clock returns the current time for signature-expiry checks.
func (k *Keyring) clock() time.Time {
	if k.now != nil {
		return k.now()
	}
	return time.Now()
}
