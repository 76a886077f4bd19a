package ui

import (
	"context"
	"errors"
	"net"
	"net/url"

	"vmimages/core"
	"vmimages/core/catalog"
	"vmimages/core/config"
	"vmimages/core/download"
	"vmimages/core/manifest"
	"vmimages/core/trust"
)

// explain turns an error into two sentences for people: what happened and
// what to do. The core returns typed errors and words no advice; advice
// worded for the window (Settings, Retry, Prune…) comes from advice, else
// fallback.
func explain(err error, fallback string) (what, todo string) {
	if err == nil {
		return "", ""
	}
	what = err.Error()
	todo = advice(err)
	if todo == "" {
		todo = fallback
	}
	return sentence(what), sentence(todo)
}

// explainPull explains why a pull failed.
func explainPull(err error) (what, todo string) {
	return explain(err, "Press Retry to try again; what was already downloaded is kept.")
}

// advice is advice worded for the window; "" when there is none.
func advice(err error) string {
	var se *download.StatusError
	var ue *url.Error
	var ne net.Error
	switch {
	case errors.Is(err, download.ErrDigestMismatch):
		return "The download did not match the published checksum and was discarded. Try again later, or use another mirror in Settings."
	case errors.Is(err, trust.ErrBadSignature), errors.Is(err, trust.ErrUnknownSigner), errors.Is(err, trust.ErrNoSignature):
		return "The checksum file's signature could not be verified, so no image bytes were downloaded. If you use a mirror, check in Settings that it is complete and current."
	case errors.Is(err, trust.ErrWeakHash), errors.Is(err, manifest.ErrWeakDigest):
		return "A weak algorithm (SHA-1 or MD5) cannot prove an image; nothing was downloaded."
	case errors.Is(err, core.ErrInsufficientSpace):
		return "Free some space with Prune… in the Cache tab, or choose another cache folder in Settings."
	case errors.Is(err, core.ErrQemuImgMissing):
		return "The downloaded image is kept; install qemu-img (the qemu-utils or qemu-img package), then press Convert again."
	case errors.Is(err, download.ErrDowngrade):
		return "The server sent a secure (https) request on to plain http, which is never followed for checksum files or for images no signature proves. Choose another mirror in Settings."
	case errors.Is(err, download.ErrTooSlow):
		return "The server sends too slowly to be usable. Try again later, or choose another mirror in Settings."
	case errors.Is(err, core.ErrInsecure):
		return "Use an https:// mirror in Settings, or allow this plain-http mirror in the settings file if you trust the network."
	case errors.Is(err, core.ErrInUse):
		return "Another vmimages process is using this image; wait for it to finish."
	case errors.Is(err, core.ErrNotCached):
		return "The Cache tab shows what is cached."
	case errors.As(err, &se) && (se.Code == 404 || se.Code == 410):
		return "The server does not have this file. If you use a mirror, check its URL in Settings; otherwise the distribution may have withdrawn this build, so try again later."
	case errors.As(err, &se) && (se.Code == 401 || se.Code == 403):
		return "The server refused access. If you use a mirror, check its URL in Settings."
	case errors.As(err, &se) && se.Code >= 500:
		return "The server had a problem. Try again later; Retry continues where the download stopped."
	case errors.Is(err, download.ErrStalled):
		return "The server stopped sending data. Press Retry; the download continues where it stopped."
	case errors.Is(err, download.ErrSizeMismatch):
		return "The server sent a different size than it announced. Try again later or use another mirror."
	case errors.Is(err, catalog.ErrNoBuild):
		return "Upstream publishes no build of this version for this architecture. Choose another version or architecture, or check the mirror in Settings."
	case errors.Is(err, catalog.ErrNotInCatalog):
		return "Choose an entry from the Catalog tab."
	case errors.Is(err, config.ErrInvalid):
		return "Correct the value and save again."
	case errors.Is(err, context.Canceled):
		return "Nothing to do: it was cancelled."
	case errors.As(err, &ue), errors.As(err, &ne):
		return "Check the network connection and any proxy settings, then press Retry; what was already downloaded is kept."
	}
	return ""
}
