package core

import (
	"strings"

	"vmimages/core/cache"
)

// logResolution records what a resolve decided: the build, and for each
// asset the file, its digest and the manifest it came from, then which key
// (if any) vouched for the manifests.
func (m *Manager) logResolution(res *Resolution) {
	log := m.opts.Logger
	log.Info("resolved", "distro", res.Distro, "version", res.Version, "arch", res.Arch, "build", res.Build)
	if res.Archived {
		log.Info("release found in the distribution's archive", "note", res.Note)
	}
	for _, a := range res.Assets {
		attrs := []any{"role", a.Role, "url", a.URL, "digest", a.Digest.String(), "size", a.Size, "manifest", a.ChecksumsURL}
		if a.SignatureURL != "" {
			attrs = append(attrs, "manifest_signature", a.SignatureURL)
		}
		log.Info("asset", attrs...)
	}
	attrs := []any{"status", res.SignatureInfo.Status}
	if res.SignatureInfo.Signer != "" {
		attrs = append(attrs, "key", res.SignatureInfo.Signer, "signer", res.SignatureInfo.SignerName)
	} else if len(res.Signature.Keys) > 0 {
		attrs = append(attrs, "expected_keys", strings.Join(res.Signature.Keys, ","))
	}
	if res.SignatureInfo.Note != "" {
		attrs = append(attrs, "note", res.SignatureInfo.Note)
	}
	log.Info("manifest signature", attrs...)
}

// logCached records that a pull was answered from the cache.
func (m *Manager) logCached(k cache.Key, build, why string) {
	m.opts.Logger.Info(why, "image", k.String(), "build", build)
}
