#!/usr/bin/env bash
# dist.sh builds the release files into dist/ (DIST_DIR), reproducibly: the
# same commit gives the same bytes, whoever builds it and wherever the
# checkout is (-trimpath, no VCS stamp, fixed mtimes, owners and modes,
# sorted entries, gzip without a name or time).
#
#   vmimages_<version>_linux_{amd64,arm64}.tar.gz    static command line (nogui, CGO_ENABLED=0)
#   vmimages_<version>_darwin_{amd64,arm64}.tar.gz   command line (nogui)
#   vmimages_<version>_linux_<arch>_desktop.tar.xz   the window, from `make package`
#   SHA256SUMS
#
# Each command-line archive holds vmimages, its man page vmimages.1 (made by
# the binary from its own help texts), completion scripts and the README.
#
# Settings (environment): VERSION, COMMIT, SOURCE_DATE_EPOCH (default: the
# commit's time), DIST_DIR, DIST_TARGETS ("os/arch …"), DIST_DESKTOP=0 to
# leave the desktop package out, GO.
set -euo pipefail
cd "$(dirname "$0")/.."

GO=${GO:-go}
VERSION=${VERSION:-$(git describe --tags --always --dirty 2>/dev/null || echo dev)}
COMMIT=${COMMIT:-$(git rev-parse HEAD 2>/dev/null || true)}
SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || echo 0)}
OUT=${DIST_DIR:-dist}
TARGETS=${DIST_TARGETS:-linux/amd64 linux/arm64 darwin/amd64 darwin/arm64}
DESKTOP=${DIST_DESKTOP:-1}
export LC_ALL=C TZ=UTC GOFLAGS="${GOFLAGS:-} -buildvcs=false"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
rm -rf "$OUT"
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

ldflags="-s -w -buildid= -X main.version=$VERSION -X main.commit=$COMMIT"

# pack DIR ARCHIVE COMPRESSOR: a tar of DIR (its name as the top folder) with
# fixed metadata, compressed by COMPRESSOR.
pack() {
	local dir=$1 archive=$2
	shift 2
	tar --sort=name --format=gnu --mtime="@$SOURCE_DATE_EPOCH" \
		--owner=0 --group=0 --numeric-owner --mode='u+rw,go-w,a+rX' \
		-C "$(dirname "$dir")" -cf - "$(basename "$dir")" | "$@" >"$archive"
}

# The man page and completion scripts come from a binary for this machine.
CGO_ENABLED=0 "$GO" build -trimpath -tags nogui -ldflags "$ldflags" -o "$work/host/vmimages" .
"$work/host/vmimages" __man >"$work/vmimages.1"
for sh in bash zsh fish; do
	"$work/host/vmimages" completion "$sh" >"$work/completion.$sh"
done

for target in $TARGETS; do
	os=${target%/*} arch=${target#*/}
	name="vmimages_${VERSION}_${os}_${arch}"
	dir="$work/$name"
	mkdir -p "$dir/completions"
	echo "building $name"
	CGO_ENABLED=0 GOOS=$os GOARCH=$arch "$GO" build -trimpath -tags nogui -ldflags "$ldflags" -o "$dir/vmimages" .
	cp "$work/vmimages.1" README.md "$dir/"
	cp "$work/completion.bash" "$dir/completions/vmimages.bash"
	cp "$work/completion.zsh" "$dir/completions/_vmimages"
	cp "$work/completion.fish" "$dir/completions/vmimages.fish"
	pack "$dir" "$OUT/$name.tar.gz" gzip -9 -n
done

if [ "$DESKTOP" != 0 ]; then
	# `make package` (fyne package) leaves "<Name>.tar.xz" here; its entries
	# carry build times, so it is unpacked and packed again like the rest.
	app=$(sed -n 's/^ *Name *= *"\(.*\)"/\1/p' FyneApp.toml | head -1)
	rm -f "$app.tar.xz"
	# fyne package builds with -trimpath (-release) and takes -ldflags from
	# GOFLAGS, one word each.
	GOFLAGS="$GOFLAGS -ldflags=-X=main.version=$VERSION -ldflags=-X=main.commit=$COMMIT" make package
	arch=$("$GO" env GOARCH)
	name="vmimages_${VERSION}_linux_${arch}_desktop"
	mkdir -p "$work/$name"
	tar -xJf "$app.tar.xz" -C "$work/$name"
	rm -f "$app.tar.xz"
	pack "$work/$name" "$OUT/$name.tar.xz" xz -9 -T1 -c
fi

(cd "$OUT" && sha256sum -- *.tar.* >SHA256SUMS)
echo "release files in $OUT:"
ls -l "$OUT"
