// Package manifest owns checksum manifests as distributions publish them: GNU
// coreutils lines ("hex  name", "hex *name", and openSUSE's "hex name"), BSD
// tags ("SHA256 (name) = hex", with "# name: N bytes" size comments),
// bare-hash sidecars, and any of these inside an OpenPGP cleartext-signed
// wrapper. It parses, never fetches, and it never lets a manifest decide a
// local path: names with separators, "..", NUL, control or invisible
// characters are rejected. From a clearsigned file only the signed text is
// read, and text outside the signed message is refused.
package manifest
