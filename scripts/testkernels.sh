#!/usr/bin/env bash
# testkernels.sh [DIR] — real kernels and busybox for the direct-boot tests,
# fetched once from Debian's archive into DIR (testdata/kernels by default,
# ignored by git):
#
#   DIR/amd64/vmlinuz  DIR/amd64/busybox   linux-image-*-cloud-amd64, busybox-static
#   DIR/arm64/vmlinuz  DIR/arm64/busybox   linux-image-*-cloud-arm64, busybox-static:arm64
#   DIR/VERSION                            the kernel's version (uname -r)
#
# The current cloud kernel is found with apt-cache (the linux-image-cloud-*
# meta-packages), so the tests always use what Debian ships now. Needs
# apt-get and dpkg (Debian/Ubuntu); elsewhere it says so and does nothing,
# and the tests that need these files skip (or fail when CI is set).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DIR=${1:-$ROOT/testdata/kernels}

if [ -s "$DIR/VERSION" ] && [ -s "$DIR/amd64/vmlinuz" ] && [ -s "$DIR/arm64/vmlinuz" ] &&
	[ -x "$DIR/amd64/busybox" ] && [ -x "$DIR/arm64/busybox" ]; then
	exit 0
fi
if ! command -v apt-get >/dev/null || ! command -v dpkg >/dev/null; then
	echo "testkernels: not Debian/Ubuntu; the direct-boot tests need $DIR filled by hand (see this script)" >&2
	exit 0
fi
SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo

if ! dpkg --print-foreign-architectures | grep -qx arm64; then
	$SUDO dpkg --add-architecture arm64
	$SUDO apt-get update -qq
fi
dep() { apt-cache depends "$1" 2>/dev/null | awk '/Depends: linux-image-/ {print $2; exit}'; }
amd=$(dep linux-image-cloud-amd64)
if [ -z "$amd" ]; then
	$SUDO apt-get update -qq
	amd=$(dep linux-image-cloud-amd64)
fi
[ -n "$amd" ] || { echo "testkernels: apt-cache knows no linux-image-cloud-amd64" >&2; exit 1; }
ver=${amd#linux-image-}
ver=${ver%-amd64}  # 6.1.0-57-cloud
arm=linux-image-$ver-arm64

tmp=$(mktemp -d "${TMPDIR:-/tmp}/testkernels.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
# As root apt-get warns that it downloads "unsandboxed"; that is expected here.
(cd "$tmp" && apt-get download -q "$amd" "$arm:arm64" busybox-static busybox-static:arm64 2>&1 >/dev/null |
	{ grep -v unsandboxed || true; } >&2)
rm -rf "$DIR.new"
for a in amd64 arm64; do
	mkdir -p "$DIR.new/$a" "$tmp/$a-k" "$tmp/$a-b"
	dpkg-deb -x "$tmp"/linux-image-*_"$a".deb "$tmp/$a-k"
	dpkg-deb -x "$tmp"/busybox-static_*_"$a".deb "$tmp/$a-b"
	cp "$tmp/$a-k/boot/vmlinuz-$ver-$a" "$DIR.new/$a/vmlinuz"
	install -m 755 "$tmp/$a-b/bin/busybox" "$DIR.new/$a/busybox"
done
echo "$ver" >"$DIR.new/VERSION"
rm -rf "$DIR"
mv "$DIR.new" "$DIR"
echo "testkernels: Debian $ver kernels and busybox in $DIR"
