package ui

import (
	"context"
	"strings"
	"time"

	"fyne.io/fyne/v2/theme"

	"vmimages/core"
	"vmimages/core/cache"
	"vmimages/core/trust"
	"vmimages/core/units"
)

// sizeTimeout bounds the look-up of a download's size.
const sizeTimeout = 30 * time.Second

// sizeInfo is what a download of an image will transfer, as far as known.
type sizeInfo struct {
	bytes   int64 // -1 when the server does not say
	err     error
	pending bool
}

// sizeOf is the download size of image k; the first call starts a look-up
// (the manifest's sizes, else a HEAD request per file) and answers
// "pending" until it ends, when the catalog's detail is drawn again. On
// Fyne's thread.
func (u *UI) sizeOf(k cache.Key) sizeInfo {
	if s, ok := u.sizes[k]; ok {
		return s
	}
	u.sizes[k] = sizeInfo{bytes: -1, pending: true}
	go func() {
		ctx, cancel := context.WithTimeout(u.ctx, sizeTimeout)
		defer cancel()
		n, err := u.downloadSize(ctx, k)
		if u.ctx.Err() != nil {
			return
		}
		u.do(func() {
			u.sizes[k] = sizeInfo{bytes: n, err: err}
			if c := u.cat; c != nil && c.version != nil && c.key() == k {
				c.showState()
			}
		})
	}()
	return u.sizes[k]
}

// downloadSize resolves image k and adds up its files' sizes.
func (u *UI) downloadSize(ctx context.Context, k cache.Key) (int64, error) {
	res, err := u.m.Resolve(ctx, refOf(k))
	if err != nil {
		return -1, err
	}
	var total int64
	for _, a := range res.Assets {
		n := a.Size
		if n < 0 {
			if n, err = u.m.RemoteSize(ctx, a.URL); err != nil {
				return -1, err
			}
		}
		if n < 0 {
			return -1, nil
		}
		total += n
	}
	return total, nil
}

// shortOfSpace reports whether a download of image k will not fit on the
// cache's disk: how many bytes it still needs and how many are free. False
// while either is unknown.
func (u *UI) shortOfSpace(k cache.Key) (need, free int64, short bool) {
	s, ok := u.sizes[k]
	if !ok || s.pending || s.err != nil || s.bytes < 0 || u.freeSpace < 0 {
		return 0, 0, false
	}
	need = s.bytes
	if im, ok := u.imagesByKey[k]; ok && im.State == cache.StatePartial {
		need -= im.SizeBytes // what an earlier run left continues
	}
	return need, u.freeSpace, need > u.freeSpace
}

// askForSpace says that a download will not fit, and offers the ways to
// make room.
func (u *UI) askForSpace(title string, need, free int64) {
	u.showMessage("Not enough space for "+title, theme.WarningIcon(),
		"This download needs "+units.Bytes(need)+", and the cache's disk has "+units.Bytes(free)+" free.",
		"Free some space with Prune…, or choose a cache folder on a larger disk in Settings.",
		[]dialogButton{
			{label: "Cancel"},
			{label: "Settings", action: func() { u.ShowTab("settings") }},
			{label: "Prune…", important: true, action: func() {
				u.ShowTab("cache")
				u.showPrune(nil)
			}},
		})
}

// proofText says how a cached image was proven: who signed its checksums
// and when, where they came from and the disk's digest; or, for a
// distribution that signs nothing, that plainly.
func proofText(m *cache.Meta) string {
	var lines []string
	sig := m.Signature
	switch {
	case sig == nil:
		lines = append(lines, "Not recorded (downloaded by an older version).")
	case sig.Status == core.SigVerified:
		line := "Checksums signed by "
		if name := trust.PinnedLabel(sig.Signer); name != "" {
			line += name + ", key " + trust.FormatFingerprint(sig.Signer)
		} else {
			line += "key " + trust.FormatFingerprint(sig.Signer)
		}
		if !sig.SignedAt.IsZero() {
			line += ", on " + sig.SignedAt.UTC().Format("2006-01-02 15:04 UTC")
		}
		lines = append(lines, line+"; signature verified.")
	case sig.Status == core.SigUnsigned, sig.Status == core.SigUnchecked:
		lines = append(lines, sentence(core.SignatureFromMeta(sig).Note))
	}
	if sig != nil && sig.ManifestURL != "" {
		lines = append(lines, "Checksums from "+sig.ManifestURL)
	}
	if d := m.Asset(cache.RoleDisk); d != nil && d.Digest.Hex != "" {
		lines = append(lines, "Disk "+strings.ToUpper(strings.Replace(string(d.Digest.Algorithm), "sha", "SHA-", 1))+": "+d.Digest.Hex)
	}
	return strings.Join(lines, "\n")
}
