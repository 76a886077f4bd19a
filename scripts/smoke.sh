#!/usr/bin/env bash
# smoke.sh [BINARY] — start the real window under Xvfb twice: with a session
# D-Bus (dbus-run-session; the tray is installed) and without one (no tray).
# Each run waits until a window titled "VM Images" is mapped and takes a
# screenshot. The first run is ended with SIGTERM; the second runs under a
# window manager (openbox) whose close button (Alt+F4) must quit it, since
# there is no tray. Each must exit with status 0, with no "panic" and no
# "Fyne error" in the output. Without BINARY it builds one. SMOKE_OUT names
# the folder for logs and screenshots (default: a temporary one).
#
# Needs xvfb-run (xvfb, xauth), dbus-run-session (dbus), xdotool, import
# (imagemagick), openbox and xprop (x11-utils); `make deps` installs them on
# Debian and Ubuntu.
set -euo pipefail

# --inner BINARY OUT NAME HOW: one run, inside an X server (and maybe a
# bus); HOW is "sigterm" or "wm-close".
if [ "${1:-}" = --inner ]; then
	bin=$2 out=$3 name=$4 how=$5
	log=$out/$name.log
	if [ "$how" = wm-close ]; then
		openbox --sm-disable >"$out/$name-openbox.log" 2>&1 &
		wm=$!
		trap 'kill $wm 2>/dev/null || true' EXIT
		for _ in $(seq 1 100); do
			xprop -root _NET_SUPPORTING_WM_CHECK 2>/dev/null | grep -q "window id" && break
			sleep 0.1
		done
	fi
	mkdir -p "$out/$name-config" "$out/$name-cache"
	XDG_CONFIG_HOME=$out/$name-config VMIMAGES_CACHE_DIR=$out/$name-cache LANG=en_US.UTF-8 \
		"$bin" >"$log" 2>&1 &
	pid=$!
	wid=
	for _ in $(seq 1 150); do
		wid=$(xdotool search --onlyvisible --name '^VM Images' 2>/dev/null | head -n1 || true)
		[ -n "$wid" ] && break
		if ! kill -0 "$pid" 2>/dev/null; then
			echo "smoke[$name]: the app exited before its window appeared:" >&2
			cat "$log" >&2
			exit 1
		fi
		sleep 0.2
	done
	if [ -z "$wid" ]; then
		echo "smoke[$name]: no window titled \"VM Images\" after 30 s" >&2
		cat "$log" >&2
		kill -KILL "$pid" 2>/dev/null || true
		exit 1
	fi
	sleep 2 # let it draw and list the cache
	import -window root "$out/$name.png"
	if [ "$how" != wm-close ]; then
		kill -TERM "$pid"
	fi
	# On a loaded machine a key press sent before the window manager has
	# taken the window over is lost: press again every 3 s, for a minute.
	for i in $(seq 0 299); do
		kill -0 "$pid" 2>/dev/null || break
		if [ "$how" = wm-close ] && [ $((i % 15)) -eq 0 ]; then
			xdotool windowactivate --sync "$wid" key alt+F4 2>/dev/null || true
		fi
		sleep 0.2
	done
	if kill -0 "$pid" 2>/dev/null; then
		echo "smoke[$name]: still running 60 s after $how" >&2
		kill -KILL "$pid" 2>/dev/null || true
		exit 1
	fi
	rc=0
	wait "$pid" || rc=$?
	if [ "$rc" -ne 0 ]; then
		echo "smoke[$name]: exit status $rc after $how, want 0:" >&2
		cat "$log" >&2
		exit 1
	fi
	if grep -qi panic "$log" || grep -q "Fyne error" "$log"; then
		echo "smoke[$name]: the output mentions a panic or a Fyne error:" >&2
		cat "$log" >&2
		exit 1
	fi
	echo "smoke[$name]: window $wid mapped, screenshot $out/$name.png, exit 0 on $how"
	exit 0
fi

cd "$(dirname "$0")/.."
for tool in xvfb-run dbus-run-session xdotool import openbox xprop; do
	if ! command -v "$tool" >/dev/null; then
		echo "smoke: $tool is missing (Debian: apt-get install xvfb xauth dbus dbus-x11 xdotool imagemagick openbox x11-utils)" >&2
		exit 2
	fi
done
out=${SMOKE_OUT:-$(mktemp -d -t vmimages-smoke.XXXXXX)}
mkdir -p "$out"
bin=${1:-}
if [ -z "$bin" ]; then
	bin=$out/vmimages
	go build -tags migrated_fynedo -o "$bin" .
fi
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")
self=$(pwd)/scripts/smoke.sh
# -n: start the search for a free display at a random number, so that
# two X servers started at once (parallel tests) do not race for one.
xvfb=(xvfb-run -a -n $((100 + RANDOM % 400)) -s "-screen 0 1280x800x24")

# 1. With a session bus: the tray is installed (no tray host, so it cannot
# register, which is fine); quitting must not panic.
dbus-run-session -- "${xvfb[@]}" "$self" --inner "$bin" "$out" with-bus sigterm
if grep -q "no session D-Bus" "$out/with-bus.log"; then
	echo "smoke[with-bus]: the app did not find the session bus:" >&2
	cat "$out/with-bus.log" >&2
	exit 1
fi

# 2. Without a session bus: no tray at all (Fyne #6403 would panic on quit),
# and nothing may start a bus of its own; the window manager's close button
# quits.
env -u DBUS_SESSION_BUS_ADDRESS XDG_RUNTIME_DIR="$out/no-runtime-dir" \
	"${xvfb[@]}" "$self" --inner "$bin" "$out" no-bus wm-close
if ! grep -q "no session D-Bus, so no tray icon" "$out/no-bus.log" || grep -qi "systray" "$out/no-bus.log"; then
	echo "smoke[no-bus]: the app did not run without a tray:" >&2
	cat "$out/no-bus.log" >&2
	exit 1
fi
echo "smoke: ok ($out)"
