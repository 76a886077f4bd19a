package trust

import (
	"fmt"
	"strings"
)

// pin ties an embedded key file to the primary-key fingerprint it must contain.
// The fingerprints come from keys/README.md in the shared key set, where each
// was checked with gpg; a file whose keys do not match is refused at load.
type pin struct {
	fingerprint string // upper-case hex, no spaces
	distro      string // catalog distro id
	label       string // for people
	release     string // the release this key signs, when it is per-release
	file        string // path under keys/
}

// pins lists every embedded key. Order matters only for Fingerprints.
var pins = []pin{
	{"D2EB44626FDDC30B513D5BB71A5D6C4C7DB87C81", "ubuntu", "UEC Image Automatic Signing Key <cdimage@ubuntu.com>", "", "ubuntu/uec-image-automatic-signing-key.asc"},
	{"4A3CE3CD565D7EB5C810E2B97FF3F408476CF100", "ubuntu", "Ubuntu Cloud Image Builder <ubuntu-cloudbuilder-noreply@canonical.com>", "", "ubuntu/cloud-image-builder.asc"},

	{"B0F4950458F69E1150C6C5EDC8AC4916105EF944", "fedora", "Fedora 42", "42", "fedora/fedora-42-primary.asc"},
	{"C6E7F081CF80E13146676E88829B606631645531", "fedora", "Fedora 43", "43", "fedora/fedora-43-primary.asc"},
	{"36F612DCF27F7D1A48A835E4DBFCF71C6D9F90A6", "fedora", "Fedora 44", "44", "fedora/fedora-44-primary.asc"},
	{"4F50A6114CD5C6976A7F1179655A4B02F577861E", "fedora", "Fedora 45", "45", "fedora/fedora-45-primary.asc"},
	{"D924B10D3E810DABDD8B56B596E7E91491211FCE", "fedora", "Fedora 46", "46", "fedora/fedora-46-primary.asc"},
	{"B2E766FA50CA6FA2D5ED06FC09D879E09488FB64", "fedora", "Fedora 47", "47", "fedora/fedora-47-primary.asc"},

	// AlmaLinux 8 ships two keys in one file; the 2021 one expired on
	// 2024-01-12 and stays so that what it signed before then still verifies.
	{"5E9B8F5617B5066CE92057C3488FCF7C3ABB34F8", "almalinux", "AlmaLinux 8 (2021 key, expired 2024-01-12)", "8", "almalinux/almalinux-8.asc"},
	{"BC5EDDCADF502C077F1582882AE81E8ACED7258B", "almalinux", "AlmaLinux OS 8", "8", "almalinux/almalinux-8.asc"},
	{"BF18AC2876178908D6E71267D36CB86CB86B3716", "almalinux", "AlmaLinux OS 9", "9", "almalinux/almalinux-9.asc"},
	{"EE6DB7B98F5BF5EDD9DA0DE5DEE5C11CC2A1E572", "almalinux", "AlmaLinux OS 10", "10", "almalinux/almalinux-10.asc"},

	// Rocky 10: the project's own key page (rockylinux.org
	// resources/gpg-key-info.md, and docs.rockylinux.org) and
	// dl.rockylinux.org/pub/rocky/RPM-GPG-KEY-Rocky-10 give FC22…FC85. The
	// rocky-linux/checksums repository's keys/fingerprints names 55AF…B0F7,
	// the fingerprint of the "Release key 2024" its own key file holds: a
	// different key, which signs nothing the project's pages point to.
	{"7051C470A929F454CEBE37B715AF5DAC6D745A60", "rocky", "Rocky Linux 8 Release Engineering", "8", "rocky/rocky-8.asc"},
	{"21CB256AE16FC54C6E652949702D426D350D275D", "rocky", "Rocky Linux 9 Release key 2022", "9", "rocky/rocky-9.asc"},
	{"FC226859C0860BF0DDB95B085B106C736FEDFC85", "rocky", "Rocky Linux 10 Release Engineering", "10", "rocky/rocky-10.asc"},

	// arch-boxes signs every image and its .SHA256 (binary .sig, ed25519).
	// The key block is the one in arch-boxes' README.md (archlinux/arch-boxes
	// @7f733af26fe9a0c93fdabba13e7803cbe803374a); its signing subkey
	// 656E4C5AC1CC3B86E539D97E343635A6859A9174 expires on 2027-05-28, and a
	// signature is judged at its own date.
	{"1B9A16984A4E8CB448712D2AE0B78BF4326C6F8F", "arch", "arch-boxes <arch-boxes@archlinux.org>", "", "arch/arch-boxes.asc"},

	{"AD485664E901B867051AB15F35A2F86E29B700A4", "opensuse", "openSUSE Project Signing Key", "", "opensuse/opensuse-project-signing-key.asc"},

	{"0482D84022F52DF1C4E7CD43293ACD0907D9495A", "alpine", "Natanael Copa <ncopa@alpinelinux.org> (Alpine)", "", "alpine/ncopa.asc"},
}

// pinByFingerprint returns the pin for a normalised fingerprint.
func pinByFingerprint(fp string) (pin, bool) {
	for _, p := range pins {
		if p.fingerprint == fp {
			return p, true
		}
	}
	return pin{}, false
}

// Fingerprints returns the pinned primary-key fingerprints for a distro id
// ("ubuntu", "fedora", "almalinux", "rocky", "opensuse", "alpine", "arch"), in a fixed
// order, or nil for a distro with no pinned key. The result is a new slice
// that the caller may keep and change; it is meant for the allowed argument
// of Keyring.VerifyDetached and Keyring.VerifyClearsigned.
func Fingerprints(distro string) []string {
	var fps []string
	for _, p := range pins {
		if p.distro == distro {
			fps = append(fps, p.fingerprint)
		}
	}
	return fps
}

// ReleaseKeys returns the pinned fingerprints of the keys that sign the given
// release of a distro whose keys change per major release (Fedora, AlmaLinux,
// Rocky), in pin order, or nil when none is pinned. version may name a minor
// or a pre-release ("10.1", "44 Beta", "44_Beta"): its major picks the key.
func ReleaseKeys(distro, version string) []string {
	v := strings.TrimSpace(version)
	if i := strings.IndexAny(v, " _-."); i >= 0 {
		v = v[:i]
	}
	var out []string
	for _, p := range pins {
		if p.distro == distro && p.release != "" && p.release == v {
			out = append(out, p.fingerprint)
		}
	}
	return out
}

// FedoraKey returns the fingerprint of the key that signs Fedora release
// version (for example "44"; "44 Beta" and "44_Beta" name the same key, as
// Fedora signs a release's beta with its release key), or "" when no key is
// pinned for that release.
func FedoraKey(version string) string {
	v := strings.TrimSpace(version)
	if i := strings.IndexAny(v, " _-"); i >= 0 {
		v = v[:i]
	}
	for _, p := range pins {
		if p.distro == "fedora" && p.release == v {
			return p.fingerprint
		}
	}
	return ""
}

// FormatFingerprint writes a fingerprint for people: upper-case hex in groups
// of four, with a double space between the two halves of a 40-digit (v4)
// fingerprint as gpg prints it, so it can be compared with a distribution's
// web page at a glance. Input that is not hex is returned with only its
// spaces removed.
func FormatFingerprint(fp string) string {
	n, err := normalizeFingerprint(fp)
	if err != nil {
		return strings.Join(strings.Fields(fp), "")
	}
	var b strings.Builder
	for i := 0; i < len(n); i += 4 {
		if i > 0 {
			b.WriteByte(' ')
			if len(n) == 40 && i == 20 {
				b.WriteByte(' ')
			}
		}
		b.WriteString(n[i:min(i+4, len(n))])
	}
	return b.String()
}

// normalizeFingerprint removes white space and an optional 0x prefix, upper-cases
// the rest and checks that it is a v4 (40 hex digits) or v6 (64) fingerprint.
func normalizeFingerprint(fp string) (string, error) {
	s := strings.ToUpper(strings.Join(strings.Fields(fp), ""))
	s = strings.TrimPrefix(s, "0X")
	if len(s) != 40 && len(s) != 64 {
		return "", fmt.Errorf("invalid fingerprint %q: want 40 or 64 hex digits, got %d", fp, len(s))
	}
	for _, c := range s {
		if (c < '0' || c > '9') && (c < 'A' || c > 'F') {
			return "", fmt.Errorf("invalid fingerprint %q: %q is not a hex digit", fp, c)
		}
	}
	return s, nil
}
