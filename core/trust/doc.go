// Package trust owns the OpenPGP side of image verification: the distributions'
// signing keys, embedded in the binary and pinned by fingerprint, the keys a user
// adds for their own catalog entries, and the check that a checksum manifest was
// signed by a key allowed to sign it (a detached signature such as Ubuntu's
// SHA256SUMS.gpg, or a cleartext-signed file such as Fedora's CHECKSUM).
//
// It does no I/O: callers hand it bytes they fetched and get back who signed
// them and when, or an error that wraps one of the sentinels (ErrBadSignature,
// ErrUnknownSigner, ErrWeakHash, ErrNoSignature, ErrPinnedKey). Parsing the
// verified text into checksum entries is the manifest package's job.
//
// A signature is judged as of the moment it was made: a key that has expired
// since still vouches for what it signed while it was valid. See
// Keyring.VerifyDetached for the exact rules.
package trust
