package catalog

import (
	"runtime"
	"strings"
)

// The canonical architecture names used in the cache and in output.
const (
	ArchX86_64  = "x86_64"
	ArchAarch64 = "aarch64"
)

var archAliases = map[string]string{
	"x86_64": ArchX86_64, "amd64": ArchX86_64, "x64": ArchX86_64,
	"aarch64": ArchAarch64, "arm64": ArchAarch64,
	"ppc64le": "ppc64le", "ppc64el": "ppc64le",
	"s390x": "s390x", "riscv64": "riscv64",
	"armv7l": "armv7l", "armhf": "armv7l",
}

// NormalizeArch maps an architecture spelling (amd64, arm64, x86_64,
// aarch64, …) to the canonical name. Unknown spellings come back as given,
// lower-cased, so that the caller's error can list what exists.
func NormalizeArch(a string) string {
	a = strings.ToLower(strings.TrimSpace(a))
	if c, ok := archAliases[a]; ok {
		return c
	}
	return a
}

// HostArch is the canonical name of the architecture this program runs on.
func HostArch() string { return NormalizeArch(runtime.GOARCH) }
