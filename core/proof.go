package core

import (
	"errors"
	"fmt"
	"strings"

	"vmimages/core/catalog"
	"vmimages/core/manifest"
)

// claim is an asset's digest as something other than the distribution's
// own server states it (a registry's annotations, the cache's metadata),
// to be proven against the distribution's checksum file and signature.
type claim struct {
	Role, Name string
	Digest     manifest.Digest
	Size       int64 // -1 when unknown
	Checksums  string
}

// errNoProof: an artifact lacks the checksum file or signature needed.
var errNoProof = errors.New("no proof for")

// proveClaims checks each claim against the checksum file it names (files,
// by URL, as published) and, where the distribution signs, that file's
// signature against the pinned keys (sigs, by checksum URL; clearsigned
// files carry their own). The digest must come from the signed text. It
// returns how the proof was authenticated, and an error wrapping
// ErrIntegrity when anything does not prove out.
func (m *Manager) proveClaims(distroName string, sig catalog.Signature, claims []claim, files, sigs map[string][]byte) (SignatureInfo, error) {
	var info SignatureInfo
	var notes []string
	texts := map[string]*manifest.Manifest{}
	signing := sig.Kind != catalog.SigNone && m.keys.HasAny(sig.Keys)
	switch {
	case sig.Kind == catalog.SigNone:
		info = SignatureInfo{Status: SigUnsigned, Note: distroName + " signs nothing; checksums as recorded upstream"}
	case !signing:
		info = SignatureInfo{Status: SigUnchecked, Note: fmt.Sprintf("%s signs its checksums, but no key for it is pinned (expected %s)",
			distroName, strings.Join(sig.Keys, ", "))}
	}
	for _, c := range claims {
		mf, ok := texts[c.Checksums]
		if !ok {
			raw, ok := files[c.Checksums]
			if !ok {
				return SignatureInfo{}, fmt.Errorf("%w: %w the %s: its checksum file %s is missing", ErrIntegrity, errNoProof, c.Role, c.Checksums)
			}
			parsed, err := manifest.ParseBytes(raw)
			if err != nil {
				return SignatureInfo{}, fmt.Errorf("%w: checksum file %s: %w", ErrIntegrity, c.Checksums, err)
			}
			signedText := raw
			if signing {
				var text []byte
				var at SignatureInfo
				switch sig.Kind {
				case catalog.SigClearsigned:
					if !parsed.Clearsigned {
						return SignatureInfo{}, fmt.Errorf("%w: %s is not signed; expected a signature by %s", ErrIntegrity, c.Checksums, strings.Join(sig.Keys, " or "))
					}
					t, r, err := m.keys.VerifyClearsigned(raw, sig.Keys)
					if err != nil {
						return SignatureInfo{}, fmt.Errorf("%w: %s: signature check failed (expected signer %s): %w", ErrIntegrity, c.Checksums, strings.Join(sig.Keys, " or "), err)
					}
					text = t
					signedAt := r.SignedAt
					at = SignatureInfo{Status: SigVerified, Signer: r.Fingerprint, SignerName: r.Signer, SignedAt: &signedAt}
				case catalog.SigDetached:
					s, ok := sigs[c.Checksums]
					if !ok {
						if c.Role != catalog.RoleDisk {
							// Ubuntu's unpacked/ folder may carry no signature of its own.
							notes = append(notes, fmt.Sprintf("%s checksums (%s) are not signed upstream", c.Role, c.Checksums))
							text = raw
							break
						}
						return SignatureInfo{}, fmt.Errorf("%w: %w the %s: no signature over %s", ErrIntegrity, errNoProof, c.Role, c.Checksums)
					}
					r, err := m.keys.VerifyDetached(raw, s, sig.Keys)
					if err != nil {
						return SignatureInfo{}, fmt.Errorf("%w: %s: signature check failed (expected signer %s): %w", ErrIntegrity, c.Checksums, strings.Join(sig.Keys, " or "), err)
					}
					text = raw
					signedAt := r.SignedAt
					at = SignatureInfo{Status: SigVerified, Signer: r.Fingerprint, SignerName: r.Signer, SignedAt: &signedAt}
				}
				if at.Status != "" && (c.Role == catalog.RoleDisk || info.Signer == "") {
					info = at
				}
				signedText = text
			}
			if mf, err = manifest.ParseBytes(signedText); err != nil {
				return SignatureInfo{}, fmt.Errorf("%w: signed text of %s: %w", ErrIntegrity, c.Checksums, err)
			}
			texts[c.Checksums] = mf
		}
		e, err := mf.Lookup(c.Name)
		if err != nil || e.Digest != c.Digest {
			return SignatureInfo{}, fmt.Errorf("%w: %s: the digest %s of %s is not in the distribution's checksum file", ErrIntegrity, c.Checksums, c.Digest, c.Name)
		}
		if e.Size > 0 && c.Size >= 0 && e.Size != c.Size {
			return SignatureInfo{}, fmt.Errorf("%w: %s: %s is %d bytes, the checksum file says %d", ErrIntegrity, c.Checksums, c.Name, c.Size, e.Size)
		}
	}
	if len(notes) > 0 {
		info.Note = strings.Join(append([]string{info.Note}, notes...), "; ")
		info.Note = strings.TrimPrefix(info.Note, "; ")
	}
	return info, nil
}
