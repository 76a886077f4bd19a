package trust

import (
	"testing"
)

// FuzzVerifyDetached feeds arbitrary signature bytes against a real manifest:
// verification must never panic, must fail with exactly one of the sentinels,
// and may succeed only for the genuine Ubuntu signature.
func FuzzVerifyDetached(f *testing.F) {
	k := embeddedRing(f)
	signed := readTestdata(f, nobleSums)
	armored := readTestdata(f, nobleSums+".gpg")
	f.Add(armored)
	f.Add(dearmor(f, armored))
	f.Add([]byte{})
	f.Add([]byte("-----BEGIN PGP SIGNATURE-----\n\n-----END PGP SIGNATURE-----\n"))
	f.Fuzz(func(t *testing.T, sig []byte) {
		r, err := k.VerifyDetached(signed, sig, nil)
		if err != nil {
			if !wrapsOneSentinel(err) {
				t.Fatalf("error wraps no single sentinel: %v", err)
			}
			return
		}
		if r.Fingerprint != ubuntuFP {
			t.Fatalf("verified as signed by %s, want only the genuine Ubuntu signature to verify", r.Fingerprint)
		}
	})
}
