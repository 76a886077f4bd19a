// Package catalog owns the catalog of distributions as data: an embedded
// default catalog (TOML) plus user overlays, each entry describing where a
// distribution publishes its cloud images, how it spells architectures, which
// checksum manifests and signatures stand beside the files, and how to find
// the newest build. Resolve turns (distro, version, arch) into concrete asset
// URLs and digests by reading the upstream's own manifests and directory
// listings; it fetches through a Fetcher the caller provides.
package catalog
