package ui

import (
	"context"
	"errors"
	"net"
	"net/url"

	"vmimages/core"
	"vmimages/core/cache"
	"vmimages/core/catalog"
	"vmimages/core/config"
	"vmimages/core/download"
	"vmimages/core/manifest"
	"vmimages/core/qemuimg"
	"vmimages/core/registry"
	"vmimages/core/trust"
)

// explain turns an error into two sentences for people: what happened and
// what to do. The core returns typed errors and words no advice; the
// advice here is worded for the window (Settings, Prune…, Retry), never for
// the command line; fallback is the advice when the cause is not known.
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
	fallback := "Press Retry to try again; what was already downloaded is kept."
	if failureOf(err) != failTransient {
		fallback = "Check the settings and try again."
	}
	return explain(err, fallback)
}

// failure sorts failed pulls by what can help: only a transient failure is
// worth a Retry.
type failure int

const (
	failOther     failure = iota // a cause Retry would not change
	failTransient                // the network or the server: Retry may work
	failIntegrity                // the bytes or their proof are wrong: another mirror
	failSpace                    // the disk is full: Prune… or another cache folder
	failCancelled                // the user stopped it
)

// failureOf classifies a pull's error.
func failureOf(err error) failure {
	var se *download.StatusError
	switch {
	case err == nil:
		return failOther
	case errors.Is(err, context.Canceled):
		return failCancelled
	case errors.Is(err, download.ErrInsufficientSpace):
		return failSpace
	case core.IsIntegrity(err), errors.Is(err, download.ErrSizeMismatch), errors.Is(err, download.ErrDowngrade),
		errors.Is(err, core.ErrInsecure), errors.Is(err, download.ErrTLS):
		return failIntegrity
	case errors.As(err, &se):
		if se.Code >= 500 || se.Code == 408 || se.Code == 429 {
			return failTransient
		}
		return failOther
	case errors.Is(err, download.ErrStalled), errors.Is(err, download.ErrTooSlow), isNetwork(err):
		return failTransient
	}
	return failOther
}

// isNetwork reports a failure to reach or hear from a server.
func isNetwork(err error) bool {
	var ue *url.Error
	var ne net.Error
	return errors.As(err, &ue) || errors.As(err, &ne)
}

// advice is what to do about err, worded for the window; "" when the
// cause is not known.
func advice(err error) string {
	var se *download.StatusError
	switch {
	case errors.As(err, &se) && (se.Code == 404 || se.Code == 410):
		return "The server does not have this file. If you use a mirror, check its URL in Settings; otherwise the distribution may have withdrawn this build: press Refresh catalog in the Catalog tab, or try again later."
	case errors.As(err, &se) && (se.Code == 401 || se.Code == 403):
		return "The server refused access. If you use a mirror, check its URL in Settings."
	case errors.As(err, &se) && se.Code >= 500:
		return "The server had a problem. Press Retry later; the download continues where it stopped."
	case errors.Is(err, download.ErrInsufficientSpace):
		return "Free some space with Prune… in the Cache tab, or choose a cache folder on a larger disk in Settings."
	case errors.Is(err, download.ErrDigestMismatch):
		return "The download did not match the published checksum and was discarded. Try another mirror in Settings, or try again later."
	case errors.Is(err, trust.ErrBadSignature), errors.Is(err, trust.ErrUnknownSigner), errors.Is(err, trust.ErrNoSignature):
		return "The checksum file's signature could not be verified, so no image was downloaded. If you use a mirror, check in Settings that it is complete and current, or try another one."
	case errors.Is(err, trust.ErrWeakHash), errors.Is(err, manifest.ErrWeakDigest):
		return "Only a weak checksum (SHA-1 or MD5) is published, which cannot prove an image; nothing was downloaded. Try another mirror in Settings."
	case errors.Is(err, download.ErrSizeMismatch):
		return "The server sent a different size than it announced. Try another mirror in Settings, or try again later."
	case errors.Is(err, download.ErrDowngrade):
		return "The server redirected a secure request to plain http, which is never followed. Choose another mirror in Settings."
	case errors.Is(err, download.ErrTLS):
		return "The server's certificate could not be trusted. Check the mirror's URL in Settings, the system's certificates and any proxy."
	case errors.Is(err, core.ErrInsecure):
		return "This distribution signs nothing, so a plain-http mirror cannot be trusted. Use an https:// mirror in Settings."
	case errors.Is(err, download.ErrStalled):
		return "The server stopped sending data. Press Retry; the download continues where it stopped."
	case errors.Is(err, download.ErrTooSlow):
		return "The server sends too slowly to be usable. Press Retry later, or choose another mirror in Settings."
	case errors.Is(err, qemuimg.ErrMissing):
		return "The image itself is kept. " + qemuImgHint
	case errors.Is(err, cache.ErrInUse):
		return "Another program is using this image, perhaps a download from the command line. Wait for it to finish, then try again."
	case errors.Is(err, cache.ErrNotCached):
		return "The image is no longer in the cache. Download it again from the Catalog tab."
	case errors.Is(err, catalog.ErrNoBuild):
		return "Upstream publishes no build of this version for this architecture. Choose another version or architecture, press Refresh catalog, or check the mirror in Settings."
	case errors.Is(err, catalog.ErrNotInCatalog):
		return "Choose an entry from the Catalog tab."
	case errors.Is(err, registry.ErrUnauthorized):
		return "The registry refused access. Log in to it first: docker login, podman login or vmimages login HOST in a terminal save credentials this window uses too."
	case errors.Is(err, registry.ErrPlainHTTP):
		return "The registry speaks plain http. Use one that speaks https, or list its host under insecure_registries in the settings file."
	case errors.Is(err, core.ErrNoProof):
		return "This image was downloaded by an older version that did not keep the distribution's checksum files, so it cannot be published with its proof. Delete it and download it again."
	case errors.Is(err, registry.ErrBadManifest), errors.Is(err, registry.ErrBlobDigest):
		return "The registry served something that does not prove out; nothing was cached. Tell whoever runs the registry."
	case errors.As(err, new(*registry.NetError)):
		return "Check that the registry is running and that the address is right."
	case errors.Is(err, config.ErrInvalid):
		return "Correct the value in Settings and save again."
	case errors.Is(err, context.Canceled):
		return "Nothing to do: it was cancelled."
	case isNetwork(err):
		return "Check the network connection and any proxy, and the mirror's URL in Settings if you set one, then press Retry; what was already downloaded is kept."
	}
	return ""
}

// qemuImgHint says how to install qemu-img, which raw conversion needs.
const qemuImgHint = "Converting to raw needs qemu-img: install it (Debian and Ubuntu: sudo apt install qemu-utils; Fedora: sudo dnf install qemu-img; macOS: brew install qemu), then start VM Images again."
