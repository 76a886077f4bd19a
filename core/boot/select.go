package boot

import (
	"strings"
	"unicode"
)

// kernelPrefixes name kernel files: vmlinuz-V everywhere, Image-V on
// arm64 SUSE.
var kernelPrefixes = []string{"vmlinuz-", "Image-"}

// notForBooting marks kernels and initramfs images kept for recovery,
// crash dumps or rollback, which a VM should never boot by default.
var notForBooting = []string{"rescue", "fallback", "kdump", ".old", ".bak", ".sig", ".hmac", ".efi", ".dtb"}

// kernelVersion returns V for a kernel file named vmlinuz-V, or false when
// the name is not a kernel to boot.
func kernelVersion(name string) (string, bool) {
	for _, p := range kernelPrefixes {
		if v, ok := strings.CutPrefix(name, p); ok && v != "" {
			for _, bad := range notForBooting {
				if strings.Contains(v, bad) {
					return "", false
				}
			}
			return v, true
		}
	}
	return "", false
}

// initramfsNames are the names an initramfs for kernel version v has:
// Debian/Ubuntu, RHEL/Fedora/Arch, Alpine, SUSE.
func initramfsNames(v string) []string {
	return []string{"initrd.img-" + v, "initramfs-" + v + ".img", "initramfs-" + v, "initrd-" + v, "initrd-" + v + ".img"}
}

// newer reports whether kernel version a is newer than b. Numeric versions
// ("6.8.0-49-generic") compare number by number and win over flavour names
// ("virt", "lts", Alpine's), of which "virt" — the one built for VMs —
// wins.
func newer(a, b string) bool {
	na, nb := startsWithDigit(a), startsWithDigit(b)
	switch {
	case na != nb:
		return na
	case !na:
		if (a == "virt") != (b == "virt") {
			return a == "virt"
		}
		return a < b
	}
	return compareVersions(a, b) > 0
}

func startsWithDigit(s string) bool { return s != "" && s[0] >= '0' && s[0] <= '9' }

// compareVersions compares runs of digits as numbers and everything else
// as text: 6.1.0-57 > 6.1.0-9, 6.10 > 6.9.
func compareVersions(a, b string) int {
	for a != "" && b != "" {
		ta, ra := token(a)
		tb, rb := token(b)
		if c := compareTokens(ta, tb); c != 0 {
			return c
		}
		a, b = ra, rb
	}
	switch {
	case a != "":
		return 1
	case b != "":
		return -1
	}
	return 0
}

func token(s string) (tok, rest string) {
	digit := unicode.IsDigit(rune(s[0]))
	i := 1
	for i < len(s) && unicode.IsDigit(rune(s[i])) == digit {
		i++
	}
	return s[:i], s[i:]
}

func compareTokens(a, b string) int {
	da, db := unicode.IsDigit(rune(a[0])), unicode.IsDigit(rune(b[0]))
	if da && db {
		a, b = strings.TrimLeft(a, "0"), strings.TrimLeft(b, "0")
		if len(a) != len(b) {
			if len(a) < len(b) {
				return -1
			}
			return 1
		}
	} else if da != db {
		if da {
			return 1
		}
		return -1
	}
	return strings.Compare(a, b)
}
