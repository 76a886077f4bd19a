package core

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"strings"

	"vmimages/core/catalog"
	"vmimages/core/download"
)

// transportPolicy judges each URL a request for a distro goes to: the first
// one and every redirect hop, so the final URL too. Plain http is accepted
// only where the transport carries no proof: the distro's manifests are
// signed and a pinned key checks them, the user marked the distro
// allow_insecure, or the server is on this machine (a local mirror). It
// returns nil when every URL is acceptable.
//
// Independently of this policy the download client never follows a redirect
// from https to plain http, except for image bytes whose digest a pinned
// signature proves (fetchAsset): a manifest and its signature are never
// downgraded.
func (m *Manager) transportPolicy(distro, name string, sig catalog.Signature) download.URLPolicy {
	for _, id := range m.Config().Insecure {
		if strings.EqualFold(id, distro) {
			return nil
		}
	}
	signed := sig.Kind != catalog.SigNone && m.keys.HasAny(sig.Keys)
	if signed {
		return nil
	}
	return func(u *url.URL) error {
		if u.Scheme == "https" || isLoopbackHost(u.Hostname()) {
			return nil
		}
		if sig.Kind == catalog.SigNone {
			return fmt.Errorf("%w: %s publishes no signatures and %s is plain http", ErrInsecure, name, u.Redacted())
		}
		return fmt.Errorf("%w: no key is pinned to check %s's signatures and %s is plain http", ErrInsecure, name, u.Redacted())
	}
}

// isLoopbackURL lets tests and local mirrors on this machine use http. It
// looks at the parsed host, so names such as 127.example.com do not pass.
func isLoopbackURL(u string) bool {
	p, err := url.Parse(u)
	if err != nil {
		return false
	}
	return isLoopbackHost(p.Hostname())
}

func isLoopbackHost(host string) bool {
	if ip := net.ParseIP(host); ip != nil {
		return ip.IsLoopback()
	}
	return host == "localhost"
}

// fetchAsset downloads one asset of a resolved image under the distro's
// transport policy. A redirect to plain http is followed only when a pinned
// signature proves the asset's digest: the bytes are then checked against
// it whichever server sends them.
func (m *Manager) fetchAsset(ctx context.Context, res *Resolution, req download.Request, progress func(download.Progress)) (download.Result, error) {
	for _, a := range res.Assets {
		if a.URL == req.URL && res.AssetSignatures[a.Role] == SigVerified {
			req.AllowDowngrade = true
		}
	}
	return m.dl.Fetch(download.WithURLPolicy(ctx, res.policy), req, progress)
}
