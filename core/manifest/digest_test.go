package manifest

import (
	"crypto/sha256"
	"crypto/sha512"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// Known answers: the digests of "hello".
const (
	helloSHA256 = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
	helloSHA512 = "9b71d224bd62f3785d96d46ad3ea3d73319bfbc2890caadae2dff72519673ca72323c3d99ba5c11d7c7acc6e14b8c5da0c4663475c2e5c3adef46f73bcdec043"
	helloSHA1   = "aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d"
	helloMD5    = "5d41402abc4b2a76b9719d911017c592"
)

func TestParseDigest(t *testing.T) {
	tests := []struct {
		in     string
		alg    Algorithm
		hex    string
		strong bool
	}{
		{"sha256:" + helloSHA256, SHA256, helloSHA256, true},
		{"SHA256:" + strings.ToUpper(helloSHA256), SHA256, helloSHA256, true},
		{"Sha512:" + helloSHA512, SHA512, helloSHA512, true},
		{"sha1:" + helloSHA1, SHA1, helloSHA1, false},
		{"md5:" + helloMD5, MD5, helloMD5, false},
	}
	for _, tt := range tests {
		d, err := ParseDigest(tt.in)
		if err != nil {
			t.Errorf("ParseDigest(%q): %v", tt.in, err)
			continue
		}
		if d.Algorithm != tt.alg || d.Hex != tt.hex {
			t.Errorf("ParseDigest(%q) = %+v", tt.in, d)
		}
		if d.Strong() != tt.strong || d.Algorithm.Strong() != tt.strong {
			t.Errorf("ParseDigest(%q).Strong() = %v, want %v", tt.in, d.Strong(), tt.strong)
		}
		if d.IsZero() {
			t.Errorf("ParseDigest(%q).IsZero() = true", tt.in)
		}
		if got := d.String(); got != string(tt.alg)+":"+tt.hex {
			t.Errorf("String() = %q", got)
		}
		again, err := ParseDigest(d.String())
		if err != nil || again != d {
			t.Errorf("ParseDigest(String()) = %+v, %v; want %+v", again, err, d)
		}
	}
}

func TestParseDigestErrors(t *testing.T) {
	for _, in := range []string{
		"",
		"sha256",
		"sha256:",
		":" + helloSHA256,
		helloSHA256,
		"sha256:" + helloSHA256[:63],
		"sha256:" + helloSHA256 + "0",
		"sha256:" + helloSHA512,
		"sha512:" + helloSHA256,
		"sha384:" + strings.Repeat("ab", 48),
		"blake2b:" + helloSHA512,
		"sha256:" + strings.Repeat("g", 64),
		"sha256: " + helloSHA256[1:],
		" sha256:" + helloSHA256,
		"sha256:" + helloSHA256 + "\n",
		"sha256:" + helloSHA256[:62] + "\x00\x00",
		"sha256:" + helloSHA256[:32] + ":" + helloSHA256[33:],
		"sha-256:" + helloSHA256,
	} {
		d, err := ParseDigest(in)
		if !errors.Is(err, ErrMalformed) {
			t.Errorf("ParseDigest(%q) = %+v, %v; want ErrMalformed", in, d, err)
		}
		if !d.IsZero() {
			t.Errorf("ParseDigest(%q) returned non-zero %+v with an error", in, d)
		}
	}
}

func TestDigestZero(t *testing.T) {
	var z Digest
	if !z.IsZero() || z.String() != "" || z.Strong() {
		t.Errorf("zero Digest: IsZero %v String %q Strong %v", z.IsZero(), z.String(), z.Strong())
	}
	if z.Matches(nil) || z.Matches([]byte{}) {
		t.Error("the zero Digest matches an empty sum")
	}
	if _, err := z.NewHash(); !errors.Is(err, ErrMalformed) {
		t.Errorf("zero NewHash err = %v, want ErrMalformed", err)
	}
	if (Digest{Algorithm: SHA256}).IsZero() || (Digest{Hex: "ab"}).IsZero() {
		t.Error("a half-filled Digest reports IsZero")
	}
}

func TestNewHashAndMatches(t *testing.T) {
	data := []byte("hello")
	tests := []struct {
		d       Digest
		size    int
		wantErr error
	}{
		{Digest{SHA256, helloSHA256}, sha256.Size, nil},
		{Digest{SHA512, helloSHA512}, sha512.Size, nil},
		{Digest{SHA1, helloSHA1}, 0, ErrWeakDigest},
		{Digest{MD5, helloMD5}, 0, ErrWeakDigest},
		{Digest{"sha384", strings.Repeat("ab", 48)}, 0, ErrMalformed},
	}
	for _, tt := range tests {
		h, err := tt.d.NewHash()
		if tt.wantErr != nil {
			if !errors.Is(err, tt.wantErr) || h != nil {
				t.Errorf("%s NewHash = %v, %v; want %v", tt.d.Algorithm, h, err, tt.wantErr)
			}
			// Matches only compares; it still works for weak algorithms.
			if ah := newAnyHash(tt.d.Algorithm); ah != nil {
				ah.Write(data)
				if !tt.d.Matches(ah.Sum(nil)) {
					t.Errorf("%s Matches(correct sum) = false", tt.d.Algorithm)
				}
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s NewHash: %v", tt.d.Algorithm, err)
		}
		if h.Size() != tt.size {
			t.Errorf("%s hash size %d, want %d", tt.d.Algorithm, h.Size(), tt.size)
		}
		h.Write(data)
		sum := h.Sum(nil)
		if !tt.d.Matches(sum) {
			t.Errorf("%s Matches(correct sum) = false", tt.d.Algorithm)
		}
		upper := Digest{tt.d.Algorithm, strings.ToUpper(tt.d.Hex)}
		if !upper.Matches(sum) {
			t.Errorf("%s Matches with upper-case hex = false", tt.d.Algorithm)
		}
		bad := append([]byte(nil), sum...)
		bad[len(bad)-1] ^= 1
		if tt.d.Matches(bad) {
			t.Errorf("%s Matches(flipped sum) = true", tt.d.Algorithm)
		}
		if tt.d.Matches(sum[:len(sum)-1]) || tt.d.Matches(append(sum, 0)) || tt.d.Matches(nil) {
			t.Errorf("%s Matches accepts a sum of the wrong length", tt.d.Algorithm)
		}
		// A fresh hash is independent of the first.
		h2, _ := tt.d.NewHash()
		if tt.d.Matches(h2.Sum(nil)) {
			t.Errorf("%s Matches the empty input's sum", tt.d.Algorithm)
		}
	}
	// The algorithm must agree with the sum's length.
	s256 := sha256.Sum256(data)
	if (Digest{SHA512, helloSHA256}).Matches(s256[:]) {
		t.Error("a SHA-256 value labelled SHA-512 matches")
	}
	if (Digest{SHA256, "zz" + helloSHA256[2:]}).Matches(s256[:]) {
		t.Error("non-hex digest matches")
	}
}

func TestDigestText(t *testing.T) {
	d := Digest{SHA256, helloSHA256}
	b, err := json.Marshal(struct{ D Digest }{d})
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"D":"sha256:` + helloSHA256 + `"}`; string(b) != want {
		t.Errorf("json = %s, want %s", b, want)
	}
	var back struct{ D Digest }
	if err := json.Unmarshal(b, &back); err != nil || back.D != d {
		t.Errorf("round trip = %+v, %v", back.D, err)
	}
	var z Digest = d
	if err := z.UnmarshalText(nil); err != nil || !z.IsZero() {
		t.Errorf("UnmarshalText(empty) = %+v, %v; want zero", z, err)
	}
	if err := z.UnmarshalText([]byte("sha256:abc")); !errors.Is(err, ErrMalformed) {
		t.Errorf("UnmarshalText(bad) err = %v, want ErrMalformed", err)
	}
	if zb, _ := (Digest{}).MarshalText(); len(zb) != 0 {
		t.Errorf("zero MarshalText = %q", zb)
	}
}
