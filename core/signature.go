package core

import (
	"context"
	"errors"
	"fmt"
	"net"
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
	// SigUnsigned: the distribution signs nothing; the digests were read
	// over HTTPS.
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
	SignatureInfo SignatureInfo
}

// Resolve turns a ref into concrete assets and checks the manifests'
// signatures. Where a distribution signs, a bad or missing signature is an
// error wrapping ErrIntegrity, returned before any image byte moves.
func (m *Manager) Resolve(ctx context.Context, ref catalog.Ref) (*Resolution, error) {
	res, err := m.Catalog().Resolve(ctx, m.dl, ref)
	if err != nil {
		return nil, err
	}
	if err := m.checkTransport(res); err != nil {
		return nil, err
	}
	info, err := m.checkSignatures(ctx, res)
	if err != nil {
		return nil, err
	}
	r := &Resolution{Resolved: res, SignatureInfo: info}
	m.logResolution(r)
	return r, nil
}

// checkTransport refuses plain http for a distro that signs nothing, unless
// the user marked it allow_insecure: its digests would then rest on nothing.
func (m *Manager) checkTransport(res *catalog.Resolved) error {
	if res.Signature.Kind != catalog.SigNone {
		return nil
	}
	for _, id := range m.Config().Insecure {
		if strings.EqualFold(id, res.Distro) {
			return nil
		}
	}
	for _, a := range res.Assets {
		if strings.HasPrefix(a.ChecksumsURL, "http://") && !isLoopbackURL(a.ChecksumsURL) {
			return fmt.Errorf("%w: %s publishes no signatures and %s is plain http", ErrInsecure, res.DistroName, a.ChecksumsURL)
		}
	}
	return nil
}

// isLoopbackURL lets tests and local mirrors on this machine use http. It
// looks at the parsed host, so names such as 127.example.com do not pass.
func isLoopbackURL(u string) bool {
	p, err := url.Parse(u)
	if err != nil {
		return false
	}
	host := p.Hostname()
	if ip := net.ParseIP(host); ip != nil {
		return ip.IsLoopback()
	}
	return host == "localhost"
}

// checkSignatures verifies each distinct manifest once.
func (m *Manager) checkSignatures(ctx context.Context, res *catalog.Resolved) (SignatureInfo, error) {
	sig := res.Signature
	if sig.Kind == catalog.SigNone {
		return SignatureInfo{Status: SigUnsigned, Note: "checksum over HTTPS; not signed upstream"}, nil
	}
	if !m.keys.HasAny(sig.Keys) {
		return SignatureInfo{Status: SigUnchecked,
			Note: fmt.Sprintf("%s signs its checksums, but no key for it is pinned (expected %s); checksum over HTTPS",
				res.DistroName, strings.Join(sig.Keys, ", "))}, nil
	}
	var info SignatureInfo
	var notes []string
	done := map[string]bool{}
	for i := range res.Assets {
		a := &res.Assets[i]
		if done[a.ChecksumsURL] {
			continue
		}
		done[a.ChecksumsURL] = true
		r, err := m.verifyManifest(ctx, res, a)
		if err != nil {
			if a.Role != catalog.RoleDisk && errors.Is(err, errNoDetachedSignature) {
				// Ubuntu's unpacked/ folder may carry no signature of its own.
				notes = append(notes, fmt.Sprintf("%s checksums (%s) are not signed upstream; read over HTTPS", a.Role, a.ChecksumsURL))
				continue
			}
			if errors.Is(err, errNoDetachedSignature) {
				return SignatureInfo{}, fmt.Errorf("%w: %w", ErrIntegrity, err)
			}
			return SignatureInfo{}, err
		}
		if a.Role == catalog.RoleDisk || info.Signer == "" {
			at := r.SignedAt
			info = SignatureInfo{Status: SigVerified, Signer: r.Fingerprint, SignerName: r.Signer, SignedAt: &at}
		}
	}
	info.Note = strings.Join(notes, "; ")
	return info, nil
}

var errNoDetachedSignature = errors.New("no detached signature published")

// verifyManifest checks one manifest's signature and that the asset's
// digest is in the signed text.
func (m *Manager) verifyManifest(ctx context.Context, res *catalog.Resolved, a *catalog.Asset) (trust.Result, error) {
	sig := res.Signature
	mf := a.Manifest
	var signedText []byte
	var r trust.Result
	var err error
	switch sig.Kind {
	case catalog.SigClearsigned:
		if !mf.Clearsigned {
			return r, fmt.Errorf("%w: %s is not signed; expected a signature by %s", ErrIntegrity, a.ChecksumsURL, strings.Join(sig.Keys, " or "))
		}
		signedText, r, err = m.keys.VerifyClearsigned(mf.Raw, sig.Keys)
	case catalog.SigDetached:
		var sigBytes []byte
		sigBytes, err = m.dl.FetchSmall(ctx, a.SignatureURL, 1<<20)
		if err != nil {
			var se *download.StatusError
			if errors.As(err, &se) && se.Code == 404 {
				return r, fmt.Errorf("%w: %s: %w", errNoDetachedSignature, a.SignatureURL, err)
			}
			return r, fmt.Errorf("fetching signature %s: %w", a.SignatureURL, err)
		}
		r, err = m.keys.VerifyDetached(mf.Raw, sigBytes, sig.Keys)
		signedText = mf.Raw
	}
	if err != nil {
		return r, fmt.Errorf("%w: %s: signature check failed (expected signer %s): %w", ErrIntegrity, a.ChecksumsURL, strings.Join(sig.Keys, " or "), err)
	}
	// The digest must come from the bytes the signature covers.
	signed, err := manifest.ParseBytes(signedText)
	if err != nil {
		return r, fmt.Errorf("%w: signed text of %s: %w", ErrIntegrity, a.ChecksumsURL, err)
	}
	e, err := signed.Lookup(a.Name)
	if err != nil || e.Digest != a.Digest {
		return r, fmt.Errorf("%w: %s: the digest of %s is not in the signed text", ErrIntegrity, a.ChecksumsURL, a.Name)
	}
	return r, nil
}
