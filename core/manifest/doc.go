// Package manifest owns checksum manifests as distributions publish them: GNU
// coreutils lines ("hex  name", "hex *name"), BSD tags ("SHA256 (name) = hex",
// with "# name: N bytes" size comments), bare-hash sidecars, and any of these
// inside an OpenPGP cleartext-signed wrapper. It parses, never fetches, and it
// never lets a manifest decide a local path: names with separators, "..", NUL or
// control characters are rejected.
package manifest
