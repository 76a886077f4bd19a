package core

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"vmimages/core/cache"
	"vmimages/core/catalog"
	"vmimages/core/download"
	"vmimages/core/manifest"
	"vmimages/core/trust"
)

// Signature statuses, as shown in resolve --json, list --json and the GUI;
// the same words the cache records.
const (
	// SigVerified: every manifest the image's digests came from carries a
	// valid signature by a pinned key of the distribution.
	SigVerified = cache.SignatureVerified
	// SigUnsigned: the distribution signs nothing; the digests rest on the
	// transport they were read over (HTTPS, or plain HTTP where a mirror
	// was allowed it) — the Note says which.
	SigUnsigned = cache.SignatureUnsigned
	// SigUnchecked: the distribution signs, but no key for it is pinned,
	// so the signature was not checked.
	SigUnchecked = cache.SignatureUnchecked
)

// SignatureInfo says how an image's manifests were authenticated.
type SignatureInfo struct {
	Status     string     `json:"status"`
	Signer     string     `json:"signer,omitempty"`
	SignerName string     `json:"signer_name,omitempty"`
	SignedAt   *time.Time `json:"signed_at"`
	Note       string     `json:"note,omitempty"`
}

// SignatureFromMeta is the signature recorded in an image's metadata; the
// zero SignatureInfo when none was recorded.
func SignatureFromMeta(sm *cache.SignatureMeta) SignatureInfo {
	if sm == nil {
		return SignatureInfo{}
	}
	info := SignatureInfo{Status: sm.Status, Signer: sm.Signer}
	if sm.Status == SigUnsigned || sm.Status == SigUnchecked {
		info.Note = unsignedNote(sm.Status, "", "", []string{sm.ManifestURL})
	}
	if !sm.SignedAt.IsZero() {
		at := sm.SignedAt
		info.SignedAt = &at
	}
	return info
}

// Resolution is a resolved image whose manifests passed the signature
// policy.
type Resolution struct {
	*catalog.Resolved
	// SignatureInfo is the image's status: the weakest of its assets'.
	SignatureInfo SignatureInfo
	// AssetSignatures is each asset's signature status, by role.
	AssetSignatures map[string]string

	policy download.URLPolicy // the distro's transport policy

	// Proofs are the distribution's checksum files and the signatures
	// checked over them, exactly as downloaded, for the cache to keep.
	Proofs []cache.Proof
}

// Resolve turns a ref into concrete assets and checks the manifests'
// signatures. Every request goes under the distro's transport policy (see
// transportPolicy). Where a distribution signs, every manifest must carry a
// good signature by a pinned key: a bad or missing one is an error wrapping
// ErrIntegrity, returned before any byte of the files it covers moves.
func (m *Manager) Resolve(ctx context.Context, ref catalog.Ref) (*Resolution, error) {
	cat := m.Catalog()
	d, v, _, err := cat.Lookup(ref)
	if err != nil {
		return nil, err
	}
	policy := m.transportPolicy(d.ID, d.Name, d.SignatureFor(v))
	res, err := cat.Resolve(download.WithURLPolicy(ctx, policy), m.dl, ref)
	if err != nil {
		return nil, err
	}
	if err := m.checkTransport(res); err != nil {
		return nil, err
	}
	sigs := map[string][]byte{}
	info, per, err := m.checkSignatures(download.WithURLPolicy(ctx, policy), res, sigs)
	if err != nil {
		return nil, err
	}
	r := &Resolution{Resolved: res, SignatureInfo: info, AssetSignatures: per, policy: policy, Proofs: proofsOf(res, sigs)}
	m.logResolution(r)
	return r, nil
}

// checkTransport judges every URL of a resolved image by the distro's
// transport policy.
func (m *Manager) checkTransport(res *catalog.Resolved) error {
	policy := m.transportPolicy(res.Distro, res.DistroName, res.Signature)
	if policy == nil {
		return nil
	}
	for _, a := range res.Assets {
		for _, raw := range []string{a.ChecksumsURL, a.SignatureURL, a.URL} {
			if raw == "" {
				continue
			}
			u, err := url.Parse(raw)
			if err != nil {
				return fmt.Errorf("%s: %w", raw, err)
			}
			if err := policy(u); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkSignatures verifies each distinct manifest once and finds each
// asset's digest in the text its signature covers. It returns the image's
// status (the weakest of its assets') and each asset's, by role.
// The detached signatures it fetched are added to sigs by checksum URL.
func (m *Manager) checkSignatures(ctx context.Context, res *catalog.Resolved, sigs map[string][]byte) (SignatureInfo, map[string]string, error) {
	sig := res.Signature
	per := make(map[string]string, len(res.Assets))
	all := func(status string) map[string]string {
		for _, a := range res.Assets {
			per[a.Role] = status
		}
		return per
	}
	if sig.Kind == catalog.SigNone {
		return SignatureInfo{Status: SigUnsigned, Note: unsignedNote(SigUnsigned, "", "", manifestURLs(res))}, all(SigUnsigned), nil
	}
	// Only keys pinned for a distribution, or a user's key added for this
	// very distro, may sign; an entry that names none is never verified.
	named := sig.Keys
	sig.Keys = m.keys.AllowedFor(res.Distro, sig.Keys)
	res.Signature.Keys = sig.Keys
	if len(sig.Keys) == 0 {
		expected := "none named"
		if len(named) > 0 {
			expected = strings.Join(named, ", ")
		}
		return SignatureInfo{Status: SigUnchecked,
			Note: unsignedNote(SigUnchecked, res.DistroName, expected, manifestURLs(res))}, all(SigUnchecked), nil
	}
	var info SignatureInfo
	type checked struct {
		text *manifest.Manifest
		r    trust.Result
		// sigURL is where the detached signature came from after redirects.
		sigURL string
	}
	done := map[string]checked{}
	for i := range res.Assets {
		a := &res.Assets[i]
		c, ok := done[a.ChecksumsURL]
		if !ok {
			text, r, err := m.verifyManifest(ctx, res, a, sigs)
			if err != nil {
				// Fail closed: a manifest the catalog marks as signed is
				// never taken without its signature, whatever file it covers.
				if errors.Is(err, errNoDetachedSignature) {
					return SignatureInfo{}, nil, fmt.Errorf("%w: %s: %w", ErrIntegrity, a.ChecksumsURL, err)
				}
				return SignatureInfo{}, nil, err
			}
			c = checked{text, r, a.SignatureFinalURL}
			done[a.ChecksumsURL] = c
		}
		a.SignatureFinalURL = c.sigURL
		// The digest must come from the bytes the signature covers.
		if e, err := c.text.Lookup(a.Name); err != nil || e.Digest != a.Digest {
			return SignatureInfo{}, nil, fmt.Errorf("%w: %s: the digest of %s is not in the signed text", ErrIntegrity, a.ChecksumsURL, a.Name)
		}
		per[a.Role] = SigVerified
		if a.Role == catalog.RoleDisk || info.Signer == "" {
			at := c.r.SignedAt
			info = SignatureInfo{Status: SigVerified, Signer: c.r.Fingerprint, SignerName: c.r.Signer, SignedAt: &at}
		}
	}
	info.Status = weakestStatus(per)
	return info, per, nil
}

// manifestURLs are the URLs of every manifest res's digests came from.
func manifestURLs(res *catalog.Resolved) []string {
	urls := make([]string, 0, len(res.Assets))
	for _, a := range res.Assets {
		urls = append(urls, cmp.Or(a.ChecksumsFinalURL, a.ChecksumsURL))
	}
	return urls
}

// checksumTransport says what carried digests read from urls: HTTPS, or
// plain HTTP when any of them came over it (a mirror allowed plain http).
// Redirects from https to http are refused for manifests, so a manifest
// that was asked for over HTTPS arrived over HTTPS.
func checksumTransport(urls []string) string {
	for _, raw := range urls {
		if u, err := url.Parse(raw); err == nil && u.Scheme == "http" {
			return "checksum over plain HTTP (allowed for this mirror)"
		}
	}
	return "checksum over HTTPS"
}

// unsignedNote says how the digests of an image whose signature was not
// verified are backed: status is SigUnsigned or SigUnchecked; distro and
// expected (the keys the catalog names) matter for SigUnchecked.
func unsignedNote(status, distro, expected string, urls []string) string {
	transport := checksumTransport(urls)
	if status == SigUnchecked {
		if distro == "" {
			return "signed upstream, but not checked (no key pinned); " + transport
		}
		return fmt.Sprintf("%s signs its checksums, but no key for it is pinned (expected %s); %s", distro, expected, transport)
	}
	return transport + "; not signed upstream"
}

// statusRank orders signature statuses from weakest to strongest: an
// unknown status, a signature that exists but was not checked, a checksum
// the distribution never signed (it rests on HTTPS either way), verified.
var statusRank = map[string]int{SigUnchecked: 1, SigUnsigned: 2, SigVerified: 3}

// weakestStatus is the weakest of the assets' statuses.
func weakestStatus(per map[string]string) string {
	weakest, rank := "", 4
	for _, s := range per {
		if r := statusRank[s]; r < rank {
			weakest, rank = s, r
		}
	}
	return weakest
}

// errNoDetachedSignature: the detached signature a signed manifest needs is
// not published (404) — as when a mirror strips it.
var errNoDetachedSignature = fmt.Errorf("%w: the detached signature is missing", trust.ErrNoSignature)

// verifyManifest checks one manifest's signature and returns the text it
// covers, parsed.
func (m *Manager) verifyManifest(ctx context.Context, res *catalog.Resolved, a *catalog.Asset, sigs map[string][]byte) (*manifest.Manifest, trust.Result, error) {
	sig := res.Signature
	mf := a.Manifest
	var signedText []byte
	var r trust.Result
	var err error
	switch sig.Kind {
	case catalog.SigClearsigned:
		if !mf.Clearsigned {
			return nil, r, fmt.Errorf("%w: %s is not signed; expected a signature by %s", ErrIntegrity, a.ChecksumsURL, strings.Join(sig.Keys, " or "))
		}
		signedText, r, err = m.keys.VerifyClearsigned(mf.Raw, sig.Keys)
	case catalog.SigDetached:
		var sigBytes []byte
		sigBytes, a.SignatureFinalURL, err = m.dl.FetchSmallFinal(ctx, a.SignatureURL, 1<<20)
		if err != nil {
			var se *download.StatusError
			if errors.As(err, &se) && se.Code == 404 {
				return nil, r, fmt.Errorf("%w: %w", errNoDetachedSignature, err)
			}
			return nil, r, fmt.Errorf("fetching signature %s: %w", a.SignatureURL, err)
		}
		r, err = m.keys.VerifyDetached(mf.Raw, sigBytes, sig.Keys)
		signedText = mf.Raw
		if err == nil {
			sigs[a.ChecksumsURL] = sigBytes
		}
	}
	if err != nil {
		return nil, r, fmt.Errorf("%w: %s: signature check failed (expected signer %s): %w", ErrIntegrity, a.ChecksumsURL, strings.Join(sig.Keys, " or "), err)
	}
	signed, err := manifest.ParseBytes(signedText)
	if err != nil {
		return nil, r, fmt.Errorf("%w: signed text of %s: %w", ErrIntegrity, a.ChecksumsURL, err)
	}
	return signed, r, nil
}

// proofsOf lists each distinct checksum file of res and the signature
// fetched for it, if any.
func proofsOf(res *catalog.Resolved, sigs map[string][]byte) []cache.Proof {
	var out []cache.Proof
	done := map[string]bool{}
	for _, a := range res.Assets {
		if done[a.ChecksumsURL] || a.Manifest == nil {
			continue
		}
		done[a.ChecksumsURL] = true
		out = append(out, cache.Proof{Role: cache.ProofChecksums, URL: a.ChecksumsURL, Data: a.Manifest.Raw})
		if s, ok := sigs[a.ChecksumsURL]; ok {
			out = append(out, cache.Proof{Role: cache.ProofSignature, URL: a.SignatureURL, Signs: a.ChecksumsURL, Data: s})
		}
	}
	return out
}
