#!/usr/bin/env bash
# screenshots.sh [BINARY] — regenerate docs/screenshots/*.png from the real
# window under Xvfb: catalog, downloads (a download in progress from a local
# mirror), cache (a few images), settings and the prune dialog.
#
# A local mirror (gui/internal/devmirror) serves Debian and CentOS Stream
# images on 127.0.0.1; the command line fills a throw-away cache from it, so
# every screen shows real, verified data. Nothing touches the user's cache
# or settings, and nothing reaches the internet.
#
# BINARY must be built with the tag guihooks (make screenshots does): only
# such a build reads the VMIMAGES_GUI_* variables that steer the window.
# Needs xvfb-run, xdotool and import (imagemagick); `make deps` installs them.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
bin=${1:-./vmimages-shots}
[ -x "$bin" ] || { echo "screenshots: $bin is not an executable; run make screenshots (it builds one with the tag guihooks)" >&2; exit 2; }
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")
for tool in xvfb-run xdotool import; do
	command -v "$tool" >/dev/null || { echo "screenshots: $tool is missing (Debian: apt-get install xvfb xauth xdotool imagemagick)" >&2; exit 2; }
done

work=$(mktemp -d -t vmimages-shots.XXXXXX)
mirror_pid=
cleanup() {
	[ -n "$mirror_pid" ] && kill "$mirror_pid" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

# The mirror: trixie (Debian 13) x86_64 and CentOS Stream 10 are sent slowly
# so that a download is still running when the picture is taken.
go build -o "$work/devmirror" ./gui/internal/devmirror
"$work/devmirror" -dir "$work/mirror" -rate 3M \
	-slow "debian-13-genericcloud-amd64,CentOS-Stream-GenericCloud-10" >"$work/mirror.url" 2>"$work/mirror.log" &
mirror_pid=$!
for _ in $(seq 1 1200); do # it writes its images first: up to two minutes on a busy machine
	[ -s "$work/mirror.url" ] && break
	sleep 0.1
done
url=$(head -n1 "$work/mirror.url")
[ -n "$url" ] || { echo "screenshots: the local mirror did not start" >&2; cat "$work/mirror.log" >&2; exit 1; }

export XDG_CONFIG_HOME=$work/config VMIMAGES_CACHE_DIR=$work/cache LANG=en_US.UTF-8 FYNE_THEME=light
unset DBUS_SESSION_BUS_ADDRESS
mkdir -p "$XDG_CONFIG_HOME/vmimages"
cat >"$XDG_CONFIG_HOME/vmimages/config.toml" <<EOF
parallel = 3
bandwidth = "40M"

[mirrors]
debian = "$url/debian/"
centos-stream = "$url/centos/"
EOF

# A few cached images, pulled and verified for real.
"$bin" -q pull debian 12 --arch x86_64
"$bin" -q pull debian 12 --arch aarch64
"$bin" -q pull debian 13 --arch aarch64
"$bin" -q pull centos-stream 9 --arch x86_64
# One download interrupted by an earlier session.
"$bin" -q pull centos-stream 10 --arch x86_64 >/dev/null 2>&1 &
pull=$!
sleep 4
kill -INT "$pull"
wait "$pull" || true

out=$root/docs/screenshots
mkdir -p "$out"

# shoot NAME SECONDS [VAR=VALUE...]: start the window with the variables,
# wait SECONDS after it maps, and save the window as NAME.png.
shoot() {
	local name=$1 settle=$2
	shift 2
	env "$@" xvfb-run -a -s "-screen 0 1280x800x24" bash -c '
		"$0" >"$1.log" 2>&1 &
		pid=$!
		wid=
		for _ in $(seq 1 150); do
			wid=$(xdotool search --onlyvisible --name "^VM Images" 2>/dev/null | head -n1 || true)
			[ -n "$wid" ] && break
			sleep 0.2
		done
		[ -n "$wid" ] || { echo "screenshots: no window for $3" >&2; cat "$1.log" >&2; kill $pid; exit 1; }
		for _ in $(seq 1 600); do # the views exist once the hooks ran
			grep -q "start-up hooks applied" "$1.log" && break
			sleep 0.1
		done
		sleep "$2"
		import -window "$wid" "$3"
		kill -TERM $pid
		wait $pid
	' "$bin" "$work/$name" "$settle" "$out/$name.png"
	echo "screenshots: $out/$name.png"
}

shoot catalog 2 VMIMAGES_GUI_TAB=catalog VMIMAGES_GUI_SELECT="debian 12"
shoot cache 2 VMIMAGES_GUI_TAB=cache VMIMAGES_GUI_SELECT="debian 12"
shoot settings 2 VMIMAGES_GUI_TAB=settings
shoot prune 3 VMIMAGES_GUI_TAB=cache VMIMAGES_GUI_PRUNE="keep=1"
# Last: it leaves Debian 13 x86_64 partly downloaded.
shoot downloads 6 VMIMAGES_GUI_TAB=downloads VMIMAGES_GUI_PULL="debian 13 x86_64"
