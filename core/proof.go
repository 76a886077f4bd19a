package core

import (
	"errors"
	"fmt"
	"strings"

	"vmimages/core/catalog"
	"vmimages/core/manifest"
	"vmimages/core/trust"
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
// signature against the keys pinned for the distribution (sigs, by
// checksum URL; clearsigned files carry their own), exactly as a pull from
// upstream does: the digest must come from the signed text, and a signed
// distribution's file without its signature is refused. It returns the
// image's status (the weakest of its assets') and each asset's, and an
// error wrapping ErrIntegrity when anything does not prove out.
func (m *Manager) proveClaims(distro, distroName string, sig catalog.Signature, claims []claim, files, sigs map[string][]byte) (SignatureInfo, map[string]string, error) {
	var info SignatureInfo
	per := map[string]string{}
	keys := []string(nil)
	if sig.Kind != catalog.SigNone {
		keys = m.keys.AllowedFor(distro, sig.Keys)
	}
	status := SigVerified
	switch {
	case sig.Kind == catalog.SigNone:
		status = SigUnsigned
		info = SignatureInfo{Status: SigUnsigned, Note: "not signed upstream; checksums as the distribution published them"}
	case len(keys) == 0:
		status = SigUnchecked
		info = SignatureInfo{Status: SigUnchecked, Note: fmt.Sprintf("%s signs its checksums, but no key for it is pinned (expected %s)",
			distroName, strings.Join(sig.Keys, ", "))}
	}
	type checked struct {
		text *manifest.Manifest
		r    trust.Result
	}
	done := map[string]checked{}
	for _, c := range claims {
		ck, ok := done[c.Checksums]
		if !ok {
			raw, ok := files[c.Checksums]
			if !ok {
				return SignatureInfo{}, nil, fmt.Errorf("%w: %w the %s: its checksum file %s is missing", ErrIntegrity, errNoProof, c.Role, c.Checksums)
			}
			parsed, err := manifest.ParseBytes(raw)
			if err != nil {
				return SignatureInfo{}, nil, fmt.Errorf("%w: checksum file %s: %w", ErrIntegrity, c.Checksums, err)
			}
			signedText := raw
			if status == SigVerified {
				switch sig.Kind {
				case catalog.SigClearsigned:
					if !parsed.Clearsigned {
						return SignatureInfo{}, nil, fmt.Errorf("%w: %s is not signed; expected a signature by %s", ErrIntegrity, c.Checksums, strings.Join(keys, " or "))
					}
					signedText, ck.r, err = m.keys.VerifyClearsigned(raw, keys)
				case catalog.SigDetached:
					s, ok := sigs[c.Checksums]
					if !ok {
						return SignatureInfo{}, nil, fmt.Errorf("%w: %w the %s: no signature over %s", ErrIntegrity, errNoProof, c.Role, c.Checksums)
					}
					ck.r, err = m.keys.VerifyDetached(raw, s, keys)
				}
				if err != nil {
					return SignatureInfo{}, nil, fmt.Errorf("%w: %s: signature check failed (expected signer %s): %w", ErrIntegrity, c.Checksums, strings.Join(keys, " or "), err)
				}
			}
			if ck.text, err = manifest.ParseBytes(signedText); err != nil {
				return SignatureInfo{}, nil, fmt.Errorf("%w: signed text of %s: %w", ErrIntegrity, c.Checksums, err)
			}
			done[c.Checksums] = ck
		}
		e, err := ck.text.Lookup(c.Name)
		if err != nil || e.Digest != c.Digest {
			return SignatureInfo{}, nil, fmt.Errorf("%w: %s: the digest %s of %s is not in the distribution's checksum file", ErrIntegrity, c.Checksums, c.Digest, c.Name)
		}
		if e.Size > 0 && c.Size >= 0 && e.Size != c.Size {
			return SignatureInfo{}, nil, fmt.Errorf("%w: %s: %s is %d bytes, the checksum file says %d", ErrIntegrity, c.Checksums, c.Name, c.Size, e.Size)
		}
		per[c.Role] = status
		if status == SigVerified && (c.Role == catalog.RoleDisk || info.Signer == "") {
			at := ck.r.SignedAt
			info = SignatureInfo{Status: SigVerified, Signer: ck.r.Fingerprint, SignerName: ck.r.Signer, SignedAt: &at}
		}
	}
	return info, per, nil
}
