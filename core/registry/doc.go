// Package registry owns vmimages' use of OCI registries (through
// oras.land/oras-go/v2): where an image lives in one (Target), the artifact
// format an image is stored in (Image: media types and annotations), pushing
// a verified image with its upstream proof, fetching the manifest and the
// small proof files back, and the transport that registries expect —
// credentials from the Docker and Podman files and credential helpers,
// https by default and plain http only for loopback or listed hosts.
//
// An image is one OCI artifact in the repository REPO/<distro>, tagged
// <version>-<arch> (moved to the newest build pushed) and
// <version>-<arch>-<build> (pinned). Its layers are the disk (and kernel,
// initramfs where the image has them), the distribution's checksum files and
// their signatures exactly as downloaded; annotations carry the upstream URLs
// and digests, the build, the signer, the signing time and when the image was
// pulled. The package proves OCI digests of what it reads; proving the
// upstream digests and signatures is the caller's (core's) job, since only
// the caller holds the catalog and the pinned keys.
package registry
