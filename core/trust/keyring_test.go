package trust

import (
	"errors"
	"os"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
)

func TestEmbeddedKeysMatchPins(t *testing.T) {
	k := embeddedRing(t)
	if again, _ := Embedded(); again != k {
		t.Error("Embedded returned a different keyring on the second call; want the cached one")
	}
	if len(k.entities) != len(pins) {
		t.Errorf("embedded keyring has %d keys, pin table has %d", len(k.entities), len(pins))
	}
	byFP := map[string]bool{}
	for _, e := range k.entities {
		fp := fingerprintOf(e)
		byFP[fp] = true
		if _, ok := pinByFingerprint(fp); !ok {
			t.Errorf("embedded key %s is not pinned", fp)
		}
	}
	for _, p := range pins {
		t.Run(p.distro+"/"+p.fingerprint, func(t *testing.T) {
			if !byFP[p.fingerprint] {
				t.Fatalf("pinned key %s (%s) missing from the embedded keyring", p.fingerprint, p.label)
			}
			// The file in the tree must be the one that was checked with gpg.
			data, err := os.ReadFile("keys/" + p.file)
			if err != nil {
				t.Fatal(err)
			}
			ents, err := readArmoredKeys(data)
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for _, e := range ents {
				if fingerprintOf(e) == p.fingerprint {
					found = true
					if err := checkSigningKeys(e); err != nil {
						t.Errorf("pinned key cannot sign: %v", err)
					}
				}
			}
			if !found {
				t.Errorf("%s does not hold %s", p.file, p.fingerprint)
			}
		})
	}
}

// The 2021 AlmaLinux 8 key expired on 2024-01-12; it must load anyway, so
// what it signed while valid still verifies.
func TestEmbeddedKeepsExpiredKey(t *testing.T) {
	const old = "5E9B8F5617B5066CE92057C3488FCF7C3ABB34F8"
	k := embeddedRing(t)
	for _, e := range k.entities {
		if fingerprintOf(e) != old {
			continue
		}
		self, _ := e.PrimarySelfSignature()
		if !e.PrimaryKey.KeyExpired(self, time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)) {
			t.Errorf("key %s should count as expired in 2025", old)
		}
		if e.PrimaryKey.KeyExpired(self, time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC)) {
			t.Errorf("key %s should count as valid in 2023", old)
		}
		return
	}
	t.Fatalf("expired AlmaLinux 8 key %s not in the embedded keyring", old)
}

func TestLoadKeysChecksPins(t *testing.T) {
	e := newKey(t, "Some Distro", t0, 0)
	fp := fingerprintOf(e)
	armored := publicArmor(t, e)
	ubuntu, err := os.ReadFile("keys/ubuntu/uec-image-automatic-signing-key.asc")
	if err != nil {
		t.Fatal(err)
	}
	good := pin{fp, "some", "Some Distro", "", "some/key.asc"}
	tests := []struct {
		name    string
		files   fstest.MapFS
		pins    []pin
		wantErr string
	}{
		{"pinned", fstest.MapFS{"keys/some/key.asc": {Data: armored}}, []pin{good}, ""},
		{"unpinned key", fstest.MapFS{"keys/some/key.asc": {Data: armored}}, nil, "not pinned"},
		{"pinned to another file", fstest.MapFS{"keys/other/key.asc": {Data: armored}}, []pin{good}, "pinned to some/key.asc"},
		{"pin without key", fstest.MapFS{"keys/some/key.asc": {Data: armored}}, []pin{good, pins[0]}, "was not found"},
		{"pin names another key", fstest.MapFS{"keys/ubuntu/uec-image-automatic-signing-key.asc": {Data: ubuntu}}, []pin{{pins[1].fingerprint, "ubuntu", "x", "", "ubuntu/uec-image-automatic-signing-key.asc"}}, "not pinned"},
		{"not a key", fstest.MapFS{"keys/some/key.asc": {Data: []byte("hello")}}, []pin{good}, "no armored public key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := loadKeys(tt.files, tt.pins)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("loadKeys: %v", err)
				}
				if len(k.entities) != 1 || fingerprintOf(k.entities[0]) != fp {
					t.Fatalf("loaded %d keys, want just %s", len(k.entities), fp)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("loadKeys error = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestWith(t *testing.T) {
	base := embeddedRing(t)
	e := newKey(t, "My Mirror", t0, 0)
	fp := fingerprintOf(e)
	armored := publicArmor(t, e)
	other := newKey(t, "Someone Else", t0, 0)
	ubuntuKey, err := os.ReadFile("keys/ubuntu/uec-image-automatic-signing-key.asc")
	if err != nil {
		t.Fatal(err)
	}
	var priv strings.Builder
	w, err := armor.Encode(&priv, openpgp.PrivateKeyType, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.SerializePrivate(w, nil); err != nil {
		t.Fatal(err)
	}
	w.Close()

	added, err := base.With("mydistro", armored, strings.ToLower(FormatFingerprint(fp)))
	if err != nil {
		t.Fatalf("With(generated key): %v", err)
	}
	if len(added.entities) != len(base.entities)+1 {
		t.Errorf("With: %d keys, want %d", len(added.entities), len(base.entities)+1)
	}
	if len(base.entities) != len(pins) {
		t.Errorf("With changed the embedded keyring: %d keys", len(base.entities))
	}

	tests := []struct {
		name    string
		ring    *Keyring
		armored []byte
		fp      string
		wantIs  error
		wantErr string
	}{
		{"wrong fingerprint", base, armored, fingerprintOf(other), nil, "not the expected"},
		{"pinned fingerprint, its own key", base, ubuntuKey, ubuntuFP, ErrPinnedKey, "cannot be replaced"},
		{"pinned fingerprint, another key", base, armored, ubuntuFP, ErrPinnedKey, "cannot be replaced"},
		{"pinned, spaced and lower case", base, ubuntuKey, strings.ToLower(FormatFingerprint(ubuntuFP)), ErrPinnedKey, ""},
		{"pinned, even on an empty keyring", &Keyring{}, ubuntuKey, ubuntuFP, ErrPinnedKey, ""},
		{"added twice", added, armored, fp, nil, "already in the keyring"},
		{"not hex", base, armored, "not a fingerprint", nil, "invalid fingerprint"},
		{"short", base, armored, fp[:16], nil, "invalid fingerprint"},
		{"garbage", base, []byte("-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nAAAA\n-----END PGP PUBLIC KEY BLOCK-----\n"), fp, nil, "reading key"},
		{"empty", base, nil, fp, nil, "no armored public key"},
		{"private key", base, []byte(priv.String()), fp, nil, "expected a"},
		{"two keys", base, append(append([]byte{}, armored...), publicArmor(t, other)...), fp, nil, "exactly one key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := tt.ring.With("mydistro", tt.armored, tt.fp)
			if err == nil {
				t.Fatalf("With succeeded (%d keys), want an error", len(k.entities))
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("With error = %v, want %v", err, tt.wantIs)
			}
			if tt.wantIs == nil && errors.Is(err, ErrPinnedKey) {
				t.Errorf("With error = %v, should not be ErrPinnedKey", err)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("With error = %q, want it to contain %q", err, tt.wantErr)
			}
		})
	}

	// The zero Keyring is empty and can be extended.
	var zero Keyring
	if k, err := zero.With("mydistro", armored, fp); err != nil || len(k.entities) != 1 {
		t.Errorf("zero Keyring With: %v", err)
	}
}

func TestFingerprintHelpers(t *testing.T) {
	if got := Fingerprints("fedora"); len(got) != 6 {
		t.Errorf("Fingerprints(fedora) = %d keys, want 6", len(got))
	}
	if got := Fingerprints("ubuntu"); len(got) != 2 || got[0] != ubuntuFP {
		t.Errorf("Fingerprints(ubuntu) = %v, want the UEC key first", got)
	}
	if got := Fingerprints("almalinux"); len(got) != 4 {
		t.Errorf("Fingerprints(almalinux) = %v, want 4 (two for AlmaLinux 8)", got)
	}
	for _, d := range []string{"rocky", "opensuse", "alpine"} {
		if len(Fingerprints(d)) == 0 {
			t.Errorf("Fingerprints(%s) is empty", d)
		}
	}
	if got := Fingerprints("debian"); got != nil {
		t.Errorf("Fingerprints(debian) = %v, want nil: Debian signs nothing", got)
	}
	fs := Fingerprints("ubuntu")
	fs[0] = "changed"
	if Fingerprints("ubuntu")[0] != ubuntuFP {
		t.Error("Fingerprints returned a slice that aliases the pin table")
	}

	fedora := []struct{ in, want string }{
		{"44", fedora44FP},
		{" 44 ", fedora44FP},
		{"44 Beta", fedora44FP},
		{"44_Beta", fedora44FP},
		{"42", "B0F4950458F69E1150C6C5EDC8AC4916105EF944"},
		{"47", "B2E766FA50CA6FA2D5ED06FC09D879E09488FB64"},
		{"41", ""},
		{"rawhide", ""},
		{"", ""},
	}
	for _, tt := range fedora {
		if got := FedoraKey(tt.in); got != tt.want {
			t.Errorf("FedoraKey(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}

	format := []struct{ in, want string }{
		{ubuntuFP, "D2EB 4462 6FDD C30B 513D  5BB7 1A5D 6C4C 7DB8 7C81"},
		{"d2eb 4462 6fdd c30b 513d 5bb7 1a5d 6c4c 7db8 7c81", "D2EB 4462 6FDD C30B 513D  5BB7 1A5D 6C4C 7DB8 7C81"},
		{"0x" + ubuntuFP, "D2EB 4462 6FDD C30B 513D  5BB7 1A5D 6C4C 7DB8 7C81"},
		{strings.Repeat("AB", 32), strings.TrimSpace(strings.Repeat("ABAB ", 16))},
		{"not hex", "nothex"},
	}
	for _, tt := range format {
		if got := FormatFingerprint(tt.in); got != tt.want {
			t.Errorf("FormatFingerprint(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if n, err := normalizeFingerprint(FormatFingerprint(ubuntuFP)); err != nil || n != ubuntuFP {
		t.Errorf("normalizeFingerprint(FormatFingerprint(fp)) = %q, %v; want the fingerprint back", n, err)
	}
}

// Rocky 10's pin is the key the project's own pages name
// (rockylinux.org resources/gpg-key-info.md: FC22…FC85, "Release
// Engineering (Rocky Linux 10)"), not the "Release key 2024" (55AF…B0F7)
// that the rocky-linux/checksums repository's keys/fingerprints lists.
func TestRocky10PinIsTheProjectsKey(t *testing.T) {
	k := embeddedRing(t)
	const want = "FC226859C0860BF0DDB95B085B106C736FEDFC85"
	if got := ReleaseKeys("rocky", "10"); len(got) != 1 || got[0] != want {
		t.Fatalf("rocky 10 keys = %q, want %s", got, want)
	}
	if k.HasAny([]string{"55AF04D9A30C2ADDDC2285DDD8BE58F945A8B0F7"}) {
		t.Error("the checksums repository's 2024 key is pinned")
	}
	for _, e := range k.entities {
		if fingerprintOf(e) == want && primaryUserID(e) != "Release Engineering (Rocky Linux 10) <releng@rockylinux.org>" {
			t.Errorf("rocky 10 key user id %q", primaryUserID(e))
		}
	}
}
