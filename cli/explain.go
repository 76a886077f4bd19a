package cli

import (
	"errors"
	"fmt"

	"vmimages/core"
	"vmimages/core/catalog"
	"vmimages/core/config"
	"vmimages/core/download"
	"vmimages/core/manifest"
	"vmimages/core/trust"
)

// explain turns an error into a sentence for the command line: what
// happened and, where the cause is known, what to do about it, worded for
// someone at a shell. The core returns typed errors and words no advice.
func explain(err error) string {
	if err == nil {
		return ""
	}
	msg := err.Error()
	var hint string
	var space *core.SpaceError
	switch {
	case errors.Is(err, download.ErrDigestMismatch):
		hint = "the download did not match the published checksum and was discarded; try again later or use another mirror"
	case errors.Is(err, trust.ErrBadSignature), errors.Is(err, trust.ErrUnknownSigner), errors.Is(err, trust.ErrNoSignature):
		hint = "the checksum file's signature could not be verified, so no image bytes were downloaded; if you use a mirror, check that it is complete and current"
	case errors.Is(err, trust.ErrWeakHash), errors.Is(err, manifest.ErrWeakDigest):
		hint = "a weak algorithm (SHA-1 or MD5) cannot prove an image; nothing was downloaded"
	case errors.As(err, &space) || errors.Is(err, core.ErrInsufficientSpace):
		hint = "free some space (vmimages prune) or choose another cache folder (--cache-dir)"
	case errors.Is(err, core.ErrQemuImgMissing):
		hint = "the downloaded image is kept; install qemu-img and run 'vmimages convert' again"
	case errors.Is(err, download.ErrDowngrade):
		hint = "the server sent a secure (https) request on to plain http, which is never followed for checksum files, or for images no signature proves; use another mirror"
	case errors.Is(err, download.ErrTooSlow):
		hint = "the server sends too slowly to be usable; try again later or use another mirror"
	case errors.Is(err, core.ErrInsecure):
		hint = "use an https:// mirror, or mark this mirror allow_insecure in the settings file if you trust the network"
	case errors.Is(err, core.ErrInUse):
		hint = "another vmimages process is using this image; wait for it to finish"
	case errors.Is(err, core.ErrPinnedBuildGone):
		hint = "a plain pull only repairs the build it pinned; the cached files stay as they are. Add --update to switch to upstream's newest build"
	case errors.Is(err, core.ErrNotCached):
		hint = "see 'vmimages list' for what is cached"
	case errors.Is(err, config.ErrInvalid):
		hint = "fix that line of the settings file, or remove it to use the default"
	case errors.Is(err, catalog.ErrNoBuild):
		hint = "the upstream folder holds no image this catalog entry recognises; its layout may have changed (try 'vmimages catalog --refresh', or check your mirror)"
	case core.IsStatus(err, 404):
		hint = "the server does not have that file: the mirror may be incomplete or the upstream layout changed (try 'vmimages catalog --refresh')"
	case core.IsNetwork(err):
		hint = "check the network connection, and the mirror URL if you set one (--mirror, VMIMAGES_MIRROR_<DISTRO>, [mirrors] in the settings file)"
	}
	if hint != "" {
		return fmt.Sprintf("%s\n  → %s", msg, hint)
	}
	return msg
}
