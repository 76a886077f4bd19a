package manifest

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"hash"
	"strings"
)

// Algorithm names a digest algorithm in lower case, as used in "sha256:<hex>".
type Algorithm string

// The algorithms a manifest may carry. Only SHA256 and SHA512 are strong enough
// to prove an image; SHA1 and MD5 are read so that a manifest carrying them
// parses, but they never suffice.
const (
	SHA256 Algorithm = "sha256"
	SHA512 Algorithm = "sha512"
	SHA1   Algorithm = "sha1"
	MD5    Algorithm = "md5"
)

// hexLen is the length of a hex digest of each algorithm.
var hexLen = map[Algorithm]int{SHA256: 64, SHA512: 128, SHA1: 40, MD5: 32}

// Strong reports whether the algorithm is accepted as proof of an image's bytes.
func (a Algorithm) Strong() bool { return a == SHA256 || a == SHA512 }

// rank orders algorithms from weakest to strongest.
func (a Algorithm) rank() int {
	switch a {
	case SHA512:
		return 4
	case SHA256:
		return 3
	case SHA1:
		return 2
	case MD5:
		return 1
	}
	return 0
}

// algorithmForHexLen guesses the algorithm from a bare hex digest's length.
func algorithmForHexLen(n int) (Algorithm, bool) {
	for a, l := range hexLen {
		if l == n {
			return a, true
		}
	}
	return "", false
}

// Digest is an algorithm and a lower-case hex value.
type Digest struct {
	Algorithm Algorithm
	Hex       string
}

// String formats the digest as "algorithm:hex", or "" for the zero Digest.
func (d Digest) String() string {
	if d.IsZero() {
		return ""
	}
	return string(d.Algorithm) + ":" + d.Hex
}

// IsZero reports whether d is the zero Digest.
func (d Digest) IsZero() bool { return d.Algorithm == "" && d.Hex == "" }

// Strong reports whether d uses an algorithm that may prove an image.
func (d Digest) Strong() bool { return d.Algorithm.Strong() }

// MarshalText implements encoding.TextMarshaler.
func (d Digest) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Digest) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*d = Digest{}
		return nil
	}
	p, err := ParseDigest(string(b))
	if err != nil {
		return err
	}
	*d = p
	return nil
}

// NewHash returns a fresh hash for the digest's algorithm. It returns
// ErrWeakDigest for SHA-1 and MD5, which are never enough to prove a file.
func (d Digest) NewHash() (hash.Hash, error) {
	switch d.Algorithm {
	case SHA256:
		return sha256.New(), nil
	case SHA512:
		return sha512.New(), nil
	case SHA1, MD5:
		return nil, fmt.Errorf("%w: %s", ErrWeakDigest, d.Algorithm)
	}
	return nil, fmt.Errorf("%w: unknown algorithm %q", ErrMalformed, d.Algorithm)
}

// newAnyHash returns a hash for any known algorithm, weak ones included; it is
// only used to compare, never to accept.
func newAnyHash(a Algorithm) hash.Hash {
	switch a {
	case SHA256:
		return sha256.New()
	case SHA512:
		return sha512.New()
	case SHA1:
		return sha1.New()
	case MD5:
		return md5.New()
	}
	return nil
}

// Matches reports whether sum (raw bytes from a hash) equals the digest. It is
// false for the zero Digest, for an unknown algorithm, and whenever sum or the
// hex value do not have the algorithm's length, so an empty sum never matches.
func (d Digest) Matches(sum []byte) bool {
	want, known := hexLen[d.Algorithm]
	if !known || len(d.Hex) != want || len(sum)*2 != want {
		return false
	}
	b, err := hex.DecodeString(d.Hex)
	return err == nil && subtle.ConstantTimeCompare(b, sum) == 1
}

// ParseDigest parses "algorithm:hex" (for example "sha256:ab12…"). The hex
// value must have the algorithm's length; upper case is accepted and folded.
func ParseDigest(s string) (Digest, error) {
	alg, val, ok := strings.Cut(s, ":")
	if !ok {
		return Digest{}, fmt.Errorf("%w: digest %q lacks an algorithm prefix", ErrMalformed, truncate(s))
	}
	return newDigest(Algorithm(strings.ToLower(alg)), val)
}

// newDigest checks a hex value against the algorithm and folds it to lower case.
func newDigest(alg Algorithm, val string) (Digest, error) {
	want, known := hexLen[alg]
	if !known {
		return Digest{}, fmt.Errorf("%w: unknown digest algorithm %q", ErrMalformed, truncate(string(alg)))
	}
	if len(val) != want || !isHex(val) {
		return Digest{}, fmt.Errorf("%w: %s digest must be %d hex characters", ErrMalformed, alg, want)
	}
	return Digest{Algorithm: alg, Hex: strings.ToLower(val)}, nil
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return s != ""
}

// truncate keeps hostile input short inside error messages.
func truncate(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}
