package boot

import (
	"strings"

	"vmimages/core/version"
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
	return version.Compare(a, b) > 0
}

func startsWithDigit(s string) bool { return s != "" && s[0] >= '0' && s[0] <= '9' }
