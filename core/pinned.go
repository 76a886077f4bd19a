package core

import (
	"cmp"
	"errors"
	"fmt"
	"net/http"
	"path"

	"vmimages/core/cache"
	"vmimages/core/catalog"
)

// ErrPinnedBuildGone: a pull without Update had to fetch files of the
// image's pinned build again (files a verify found wrong, or missing), and
// upstream no longer has that build. A pull never switches builds on its
// own; only an update does.
var ErrPinnedBuildGone = errors.New("the pinned build is no longer upstream")

// PinnedBuildGoneError says which build is gone and what upstream has now.
// It matches ErrPinnedBuildGone with errors.Is.
type PinnedBuildGoneError struct {
	Key   cache.Key
	Build string // the pinned build
	// Upstream is the newest build upstream has now.
	Upstream string
	// Err is why the pinned build counts as gone: a file answered 404, or
	// upstream's file at the recorded URL has another digest now.
	Err error
}

func (e *PinnedBuildGoneError) Error() string {
	return fmt.Sprintf("%s: build %s, which the cache pins, is no longer upstream (upstream has build %s): %v",
		e.Key, e.Build, e.Upstream, e.Err)
}

// Unwrap returns the cause.
func (e *PinnedBuildGoneError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrPinnedBuildGone) hold.
func (e *PinnedBuildGoneError) Is(target error) bool { return target == ErrPinnedBuildGone }

// pinnedResolution returns what a pull without Update fetches for image k:
// the latest resolution when the cache has no committed build of k or it is
// that build; otherwise the committed (pinned) build as meta.json records
// it, each upstream file at its recorded URL with its recorded digest and
// signature status, proven when it was pulled. latest is used for its
// transport policy and to tell a file that upstream replaced at the same
// URL (a *PinnedBuildGoneError). pinned is nil when latest is returned.
func (m *Manager) pinnedResolution(k cache.Key, latest *Resolution) (res *Resolution, pinned *cache.Meta, err error) {
	meta, err := m.cache.ReadMeta(k)
	if err != nil || len(meta.Assets) == 0 || meta.Build == latest.Build || meta.Build == "" {
		return latest, nil, nil // nothing pinned, or the pinned build is upstream's newest
	}
	r := *latest.Resolved
	r.Build, r.Assets, r.Archived, r.Note = meta.Build, nil, false, ""
	per := map[string]string{}
	manifestURL := ""
	if meta.Signature != nil {
		manifestURL = meta.Signature.ManifestURL
	}
	for _, a := range meta.Assets {
		if a.Source != cache.SourceUpstream {
			continue // made here from the verified disk or kernel, not fetched
		}
		if la := latest.Asset(a.Role); la != nil && la.URL == a.URL && la.Digest != a.Digest {
			return nil, nil, &PinnedBuildGoneError{Key: k, Build: meta.Build, Upstream: latest.Build,
				Err: fmt.Errorf("%s now has %s %s, not the pinned %s", a.URL, la.Digest.Algorithm, la.Digest.Hex, a.Digest.Hex)}
		}
		r.Assets = append(r.Assets, catalog.Asset{Role: a.Role, Name: path.Base(a.URL), URL: a.URL, Digest: a.Digest,
			Size: a.Size, Format: a.Format, ChecksumsURL: cmp.Or(a.ManifestURL, manifestURL), SignatureURL: a.SignatureURL})
		per[a.Role] = a.Signature
	}
	if len(r.Assets) == 0 {
		return latest, nil, nil
	}
	if err := m.checkTransport(&r); err != nil {
		return nil, nil, err
	}
	return &Resolution{Resolved: &r, SignatureInfo: SignatureFromMeta(meta.Signature), AssetSignatures: per, policy: latest.policy}, meta, nil
}

// pinnedGone turns the failure to fetch a pinned build's file because
// upstream no longer has it (404 or 410) into a *PinnedBuildGoneError.
func pinnedGone(k cache.Key, pinned *cache.Meta, latest string, err error) error {
	if pinned == nil || !(isStatus(err, http.StatusNotFound) || isStatus(err, http.StatusGone)) {
		return err
	}
	return &PinnedBuildGoneError{Key: k, Build: pinned.Build, Upstream: latest, Err: err}
}
