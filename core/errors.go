package core

import (
	"errors"
	"fmt"
	"net"

	"vmimages/core/cache"
	"vmimages/core/catalog"
	"vmimages/core/config"
	"vmimages/core/download"
	"vmimages/core/manifest"
	"vmimages/core/qemuimg"
	"vmimages/core/trust"
)

// Sentinel errors of the core, for callers to branch on with errors.Is.
var (
	// ErrIntegrity wraps every failure that means the bytes or the
	// manifest are not what the distribution published: a digest mismatch,
	// a bad or missing signature, a weak algorithm.
	ErrIntegrity = errors.New("integrity check failed")
	// ErrInsecure: a plain-http source for a distro that signs nothing.
	ErrInsecure = errors.New("insecure source")
	// ErrNotCached: the image asked for is not in the cache.
	ErrNotCached = cache.ErrNotCached
)

// IsIntegrity reports whether err means the bytes could not be proven.
func IsIntegrity(err error) bool {
	return errors.Is(err, ErrIntegrity) ||
		errors.Is(err, download.ErrDigestMismatch) ||
		errors.Is(err, trust.ErrBadSignature) ||
		errors.Is(err, trust.ErrUnknownSigner) ||
		errors.Is(err, trust.ErrWeakHash) ||
		errors.Is(err, trust.ErrNoSignature) ||
		errors.Is(err, manifest.ErrWeakDigest) ||
		errors.Is(err, cache.ErrNotVerified)
}

// Explain turns an error into a sentence for people: what happened and,
// where the cause is known, what to do about it.
func Explain(err error) string {
	if err == nil {
		return ""
	}
	msg := err.Error()
	var hint string
	switch {
	case errors.Is(err, download.ErrDigestMismatch):
		hint = "the download did not match the published checksum and was discarded; try again later or use another mirror"
	case errors.Is(err, trust.ErrBadSignature), errors.Is(err, trust.ErrUnknownSigner), errors.Is(err, trust.ErrNoSignature):
		hint = "the checksum file's signature could not be verified, so no image bytes were downloaded; if you use a mirror, check that it is complete and current"
	case errors.Is(err, trust.ErrWeakHash), errors.Is(err, manifest.ErrWeakDigest):
		hint = "a weak algorithm (SHA-1 or MD5) cannot prove an image; nothing was downloaded"
	case errors.Is(err, download.ErrInsufficientSpace):
		hint = "free some space (vmimages prune) or choose another cache folder (--cache-dir)"
	case errors.Is(err, qemuimg.ErrMissing):
		hint = "the downloaded image is kept; install qemu-img and run 'vmimages convert' again"
	case errors.Is(err, download.ErrDowngrade):
		hint = "the server sent a secure (https) request on to plain http, which is never followed for checksum files, or for images no signature proves; use another mirror"
	case errors.Is(err, download.ErrTooSlow):
		hint = "the server sends too slowly to be usable; try again later or use another mirror"
	case errors.Is(err, ErrInsecure):
		hint = "use an https:// mirror, or mark this mirror allow_insecure in the settings file if you trust the network"
	case errors.Is(err, cache.ErrInUse):
		hint = "another vmimages process is using this image; wait for it to finish"
	case errors.Is(err, ErrNotCached):
		hint = "see 'vmimages list' for what is cached"
	case errors.Is(err, config.ErrInvalid):
		hint = "fix that line of the settings file, or remove it to use the default"
	case errors.Is(err, catalog.ErrNoBuild):
		hint = "the upstream folder holds no image this catalog entry recognises; its layout may have changed (try 'vmimages catalog --refresh', or check your mirror)"
	case isStatus(err, 404):
		hint = "the server does not have that file: the mirror may be incomplete or the upstream layout changed (try 'vmimages catalog --refresh')"
	case isNetwork(err):
		hint = "check the network connection, and the mirror URL if you set one (--mirror, VMIMAGES_MIRROR_<DISTRO>, [mirrors] in the settings file)"
	}
	if hint != "" {
		return fmt.Sprintf("%s\n  → %s", msg, hint)
	}
	return msg
}

func isStatus(err error, code int) bool {
	var se *download.StatusError
	return errors.As(err, &se) && se.Code == code
}

// isNetwork reports a failure to reach a server at all (refused, no route,
// name not found, timed out).
func isNetwork(err error) bool {
	var ne net.Error
	var oe *net.OpError
	var de *net.DNSError
	return errors.As(err, &oe) || errors.As(err, &de) || (errors.As(err, &ne) && ne.Timeout())
}
