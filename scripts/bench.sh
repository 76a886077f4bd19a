#!/usr/bin/env bash
# bench.sh BINARY — what a verified `vmimages pull` costs over a bare curl of
# the same bytes, on this machine, in this run.
#
# It serves a random file (1 GiB by default) from 127.0.0.1 with
# internal/benchserve (http.FileServer: Range, listings, sendfile) laid out
# as a Debian mirror (SHA512SUMS) and as a "bench" catalog overlay entry
# (SHA256SUMS), then times with /usr/bin/time, RUNS times each, interleaved:
#
#   curl -o f URL                      the floor: the bare transfer
#   curl -o f URL && sha256sum f       what a careful user does by hand
#   vmimages pull bench 1              transfer + streaming SHA-256
#   curl -o f URL && sha512sum f
#   vmimages pull debian 12            transfer + streaming SHA-512
#
# then, with Debian's docker-registry on 127.0.0.1 (make deps installs it),
#
#   vmimages push bench 1 oci://…      the whole image, once (peak RSS)
#   curl -o f …/v2/…/blobs/<digest>    the floor: the registry's blob, bare
#   vmimages pull bench 1 --registry … both the OCI and the upstream digest
#
# and once a pull resumed from 50% (a rate-limited pull SIGKILLed when its
# part file reaches half the size), counting the bytes the server sent.
# It prints median wall seconds, peak RSS, ratios and PASS/MISS against the
# targets:
#
#   SHA-256 pull <= 1.25 x curl; SHA-512 pull <= 1.40 x curl;
#   the resumed pull transfers only the missing part (+-1% of the file);
#   peak RSS of every pull <= 64 MiB;
#   registry pull <= 1.25 x curl of the blob; push and registry pull <= 64 MiB.
#
# The page cache cannot be dropped without root, so the file is read once
# before the runs and every run starts warm. Environment: BENCH_SIZE_MIB
# (1024), BENCH_RUNS (3). Needs curl, sha256sum, sha512sum, GNU time, go.
set -euo pipefail

BIN=${1:?usage: scripts/bench.sh BINARY}
SIZE_MIB=${BENCH_SIZE_MIB:-1024}
RUNS=${BENCH_RUNS:-3}

for tool in curl sha256sum sha512sum go awk stat; do
	command -v "$tool" >/dev/null || { echo "bench: $tool is needed" >&2; exit 1; }
done
[ -x /usr/bin/time ] || { echo "bench: GNU time (/usr/bin/time) is needed (Debian: apt-get install time)" >&2; exit 1; }
[ -x "$BIN" ] || { echo "bench: $BIN is not an executable" >&2; exit 1; }

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")
WORK=$(mktemp -d "${TMPDIR:-/tmp}/vmimages-bench.XXXXXX")
SERVER_PID=""
PULL_PID=""

cleanup() {
	for pid in $PULL_PID $SERVER_PID; do
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# vmimages runs with its own settings, overlays and cache, and a UTF-8
# locale (Fyne logs locale errors without one).
while IFS= read -r var; do unset "$var"; done < <(env | awk -F= '/^VMIMAGES_/ {print $1}')
export LANG=en_US.UTF-8
export XDG_CONFIG_HOME=$WORK/config XDG_CACHE_HOME=$WORK/xdg-cache

SIZE=$((SIZE_MIB << 20))
BUILD=20260810-2566
DEB_DIR=$WORK/www/debian/bookworm/$BUILD
DEB_NAME=debian-12-genericcloud-amd64-$BUILD.qcow2
BENCH_DIR=$WORK/www/bench/1
BENCH_NAME=bench-1-amd64.qcow2
OUT=$WORK/out
mkdir -p "$DEB_DIR" "$BENCH_DIR" "$OUT" "$XDG_CONFIG_HOME/vmimages/catalog.d"

echo "bench: writing $SIZE_MIB MiB of random bytes and their manifests …" >&2
head -c "$SIZE" /dev/urandom >"$DEB_DIR/$DEB_NAME"
ln "$DEB_DIR/$DEB_NAME" "$BENCH_DIR/$BENCH_NAME" # one file, one page cache
SHA512=$(sha512sum <"$DEB_DIR/$DEB_NAME" | awk '{print $1}')
SHA256=$(sha256sum <"$DEB_DIR/$DEB_NAME" | awk '{print $1}')
printf '%s  %s\n' "$SHA512" "$DEB_NAME" >"$DEB_DIR/SHA512SUMS"
printf '%s  %s\n' "$SHA256" "$BENCH_NAME" >"$BENCH_DIR/SHA256SUMS"
cat "$DEB_DIR/$DEB_NAME" >/dev/null # warm-up: every run reads from the page cache

# A catalog entry whose manifest is SHA-256 (Debian's is SHA-512).
cat >"$XDG_CONFIG_HOME/vmimages/catalog.d/bench.toml" <<'EOF'
[[distro]]
id = "bench"
name = "Bench"
base = "https://bench.invalid/"
boot = "firmware"
arches = { x86_64 = "amd64" }
signature = { kind = "none" }
dir = "{version}/"
assets = [
  { role = "disk", file = "bench-{version}-{arch}.qcow2", format = "qcow2", checksums = "SHA256SUMS" },
]
versions = [{ version = "1" }]
EOF
printf 'bandwidth = "256M"\n' >"$WORK/slow.toml"

echo "bench: building and starting internal/benchserve …" >&2
(cd "$ROOT" && go build -o "$WORK/benchserve" ./internal/benchserve)
"$WORK/benchserve" -dir "$WORK/www" -addr 127.0.0.1:0 -log "$WORK/served.log" >"$WORK/url" &
SERVER_PID=$!
for _ in $(seq 200); do
	[ -s "$WORK/url" ] && break
	sleep 0.05
done
URL=$(head -n1 "$WORK/url")
[ -n "$URL" ] || { echo "bench: benchserve printed no URL" >&2; exit 1; }
DEB_URL=$URL/debian/bookworm/$BUILD/$DEB_NAME
BENCH_URL=$URL/bench/1/$BENCH_NAME
CACHE=$WORK/cache
PULL=("$BIN" pull --arch amd64 -q --cache-dir "$CACHE" --mirror "debian=$URL/debian/" --mirror "bench=$URL/bench/")

# measure NAME COMMAND…: time COMMAND and append "seconds KiB" to $WORK/m.NAME.
measure() {
	local name=$1
	shift
	if ! /usr/bin/time -f '%e %M' -o "$WORK/time" "$@" >"$WORK/stdout" 2>"$WORK/stderr"; then
		echo "bench: $name failed:" >&2
		cat "$WORK/stderr" "$WORK/time" >&2
		exit 1
	fi
	tail -n1 "$WORK/time" >>"$WORK/m.$name"
}

# The by-hand commands. sha*sum -c proves the bytes like vmimages does.
curl_sha() { # ALGO URL NAME SUM
	curl -sS -o "$OUT/$3" "$2" && (cd "$OUT" && printf '%s  %s\n' "$4" "$3" | "$1" -c --quiet -)
}
export OUT
export -f curl_sha

for run in $(seq "$RUNS"); do
	echo "bench: run $run of $RUNS …" >&2
	measure curl curl -sS -o "$OUT/f" "$DEB_URL"
	rm -f "$OUT/f"
	measure curl256 bash -c 'curl_sha "$@"' _ sha256sum "$BENCH_URL" "$BENCH_NAME" "$SHA256"
	rm -f "$OUT/$BENCH_NAME"
	measure pull256 "${PULL[@]}" bench 1
	rm -rf "$CACHE"
	measure curl512 bash -c 'curl_sha "$@"' _ sha512sum "$DEB_URL" "$DEB_NAME" "$SHA512"
	rm -f "$OUT/$DEB_NAME"
	measure pull512 "${PULL[@]}" debian 12
	rm -rf "$CACHE"
done

# A pull resumed from 50%: a rate-limited pull killed at half the file.
echo "bench: resuming a pull killed at 50% …" >&2
PART=$CACHE/images/debian/12/x86_64/.partial/disk.qcow2.part
"${PULL[@]}" --config "$WORK/slow.toml" debian 12 &
PULL_PID=$!
while :; do
	part_size=$(stat -c %s "$PART" 2>/dev/null || echo 0)
	[ "$part_size" -ge $((SIZE / 2)) ] && break
	kill -0 "$PULL_PID" 2>/dev/null || { echo "bench: the pull ended before reaching 50%" >&2; exit 1; }
	sleep 0.01
done
kill -KILL "$PULL_PID"
wait "$PULL_PID" 2>/dev/null || true
PULL_PID=""
PART_SIZE=$(stat -c %s "$PART")
MISSING=$((SIZE - PART_SIZE))
mark=$(wc -l <"$WORK/served.log")
measure resume "${PULL[@]}" debian 12
sleep 0.3 # let the server log the request it just finished
SENT=$(tail -n +"$((mark + 1))" "$WORK/served.log" | awk -v p="/debian/bookworm/$BUILD/$DEB_NAME" '$2 == p {s += $5} END {print s + 0}')
RANGES=$(tail -n +"$((mark + 1))" "$WORK/served.log" | awk -v p="/debian/bookworm/$BUILD/$DEB_NAME" '$2 == p && $1 == "GET" {print $3}' | paste -sd, -)
cmp -s "$CACHE/images/debian/12/x86_64/disk.qcow2" "$DEB_DIR/$DEB_NAME" || { echo "bench: the resumed disk differs" >&2; exit 1; }
rm -rf "$CACHE"

# An OCI registry on 127.0.0.1 (Debian's docker-registry, plain http on
# loopback): push the SHA-256 image once, then pull it from the registry into
# an empty cache (upstream unreachable) against a bare curl of the same blob.
REG_PID=""
if command -v docker-registry >/dev/null; then
	echo "bench: OCI registry: push once, then pull vs curl of the blob …" >&2
	mkdir -p "$WORK/registry"
	for _ in $(seq 20); do
		REG_PORT=$((20000 + RANDOM % 30000))
		cat >"$WORK/registry.yml" <<EOF2
version: 0.1
log: {level: error, accesslog: {disabled: true}}
storage: {filesystem: {rootdirectory: $WORK/registry}}
http: {addr: 127.0.0.1:$REG_PORT}
EOF2
		docker-registry serve "$WORK/registry.yml" >"$WORK/registry.log" 2>&1 &
		REG_PID=$!
		for _ in $(seq 100); do
			curl -fsS -o /dev/null "http://127.0.0.1:$REG_PORT/v2/" 2>/dev/null && break
			kill -0 "$REG_PID" 2>/dev/null || break
			sleep 0.05
		done
		kill -0 "$REG_PID" 2>/dev/null && curl -fsS -o /dev/null "http://127.0.0.1:$REG_PORT/v2/" && break
		kill "$REG_PID" 2>/dev/null || true
		wait "$REG_PID" 2>/dev/null || true
		REG_PID=""
	done
	[ -n "$REG_PID" ] || { echo "bench: docker-registry did not start" >&2; cat "$WORK/registry.log" >&2; exit 1; }
	SERVER_PID="$SERVER_PID $REG_PID"
	REG=oci://127.0.0.1:$REG_PORT/bench
	"${PULL[@]}" --cache-dir "$WORK/regsrc" bench 1 >/dev/null
	measure push "$BIN" push -q bench 1 --arch amd64 "$REG" --cache-dir "$WORK/regsrc"
	BLOB_URL=http://127.0.0.1:$REG_PORT/v2/bench/bench/blobs/sha256:$SHA256
	for run in $(seq "$RUNS"); do
		measure regcurl curl -fsS -o "$OUT/blob" "$BLOB_URL"
		rm -f "$OUT/blob"
		measure regpull "$BIN" pull --arch amd64 -q --cache-dir "$CACHE" --registry "$REG" --mirror "bench=http://127.0.0.1:9/bench/" bench 1
		cmp -s "$CACHE/images/bench/1/x86_64/disk.qcow2" "$BENCH_DIR/$BENCH_NAME" || { echo "bench: the disk pulled from the registry differs" >&2; exit 1; }
		rm -rf "$CACHE"
	done
	rm -rf "$WORK/regsrc"
fi

# median NAME: median seconds; peak NAME: largest RSS in MiB.
median() { sort -n "$WORK/m.$1" | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
peak() { awk 'BEGIN {m = 0} $2 > m {m = $2} END {printf "%.1f", m / 1024}' "$WORK/m.$1"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf (b > 0) ? "%.2f" : "-", a / b}'; }
verdict() { awk -v x="$1" -v lim="$2" 'BEGIN {print (x <= lim) ? "PASS" : "MISS"}'; }

T_CURL=$(median curl)
T_C256=$(median curl256)
T_P256=$(median pull256)
T_C512=$(median curl512)
T_P512=$(median pull512)
T_RES=$(median resume)
RSS_MAX=$(cat "$WORK/m.pull256" "$WORK/m.pull512" "$WORK/m.resume" | awk '$2 > m {m = $2} END {printf "%.1f", m / 1024}')

echo
echo "vmimages bench: $SIZE_MIB MiB over 127.0.0.1, median of $RUNS run(s), warm page cache, $(nproc) CPU(s)"
printf '%-38s %8s %10s %8s %11s\n' "" "seconds" "peak RSS" "x curl" "x curl+sha"
printf '%-38s %8.2f %6s MiB %8s %11s\n' "curl (bare transfer)" "$T_CURL" "$(peak curl)" "1.00" ""
printf '%-38s %8.2f %6s MiB %8s %11s\n' "curl + sha256sum -c" "$T_C256" "$(peak curl256)" "$(ratio "$T_C256" "$T_CURL")" "1.00"
printf '%-38s %8.2f %6s MiB %8s %11s\n' "vmimages pull (SHA-256)" "$T_P256" "$(peak pull256)" "$(ratio "$T_P256" "$T_CURL")" "$(ratio "$T_P256" "$T_C256")"
printf '%-38s %8.2f %6s MiB %8s %11s\n' "curl + sha512sum -c" "$T_C512" "$(peak curl512)" "$(ratio "$T_C512" "$T_CURL")" "1.00"
printf '%-38s %8.2f %6s MiB %8s %11s\n' "vmimages pull (SHA-512)" "$T_P512" "$(peak pull512)" "$(ratio "$T_P512" "$T_CURL")" "$(ratio "$T_P512" "$T_C512")"
printf '%-38s %8.2f %6s MiB %8s %11s\n' "vmimages pull resumed at $((PART_SIZE * 100 / SIZE))% (SHA-512)" "$T_RES" "$(peak resume)" "$(ratio "$T_RES" "$T_CURL")" ""
echo
if [ -n "$REG_PID" ]; then
	printf '%-38s %8.2f %6s MiB %8s %11s\n' "curl of the blob from the registry" "$(median regcurl)" "$(peak regcurl)" "1.00" ""
	printf '%-38s %8.2f %6s MiB %8s %11s\n' "vmimages pull from the registry" "$(median regpull)" "$(peak regpull)" "$(ratio "$(median regpull)" "$(median regcurl)")" ""
	printf '%-38s %8.2f %6s MiB %8s %11s\n' "vmimages push (first, whole image)" "$(median push)" "$(peak push)" "" ""
fi
printf 'resume: part file %d bytes; missing %d; server sent %d (requests: %s)\n' "$PART_SIZE" "$MISSING" "$SENT" "${RANGES:-none}"
echo

# Direct boot (pull --kernel): kernel + initramfs out of a 3 GiB-capacity
# qcow2 disk (GPT, ESP, ext4 root holding Debian's real kernel, a 60 MiB
# initramfs and 400 MiB of other files), and an arm64 kernel (Debian's real
# Image, gzip -9 as Ubuntu ships it) decompressed, each next to its download
# over 127.0.0.1 and next to a 100 Mbit/s line (12.5 MB/s).
KDIR=$ROOT/testdata/kernels
BOOT_OK=0
if [ -s "$KDIR/VERSION" ] && command -v sfdisk >/dev/null && command -v mkfs.ext4 >/dev/null && command -v qemu-img >/dev/null; then
	BOOT_OK=1
	echo "bench: building a 3 GiB-capacity disk with a real kernel in /boot …" >&2
	(cd "$ROOT" && go build -o "$WORK/bootbench" ./internal/bootbench)
	KV=$(cat "$KDIR/VERSION")-amd64
	BD=$WORK/bootdisk
	mkdir -p "$BD/tree/boot" "$BD/tree/usr" "$WORK/www/boot"
	cp "$KDIR/amd64/vmlinuz" "$BD/tree/boot/vmlinuz-$KV"
	head -c 60M /dev/urandom >"$BD/tree/boot/initrd.img-$KV"
	head -c 400M /dev/urandom >"$BD/tree/usr/payload"
	truncate -s 3G "$BD/disk.raw"
	ROOT_SECTORS=$((6291456 - 206848 - 2048))
	printf 'label: gpt\nstart=2048, size=204800, type=U\nstart=206848, size=%d, type=L\n' "$ROOT_SECTORS" |
		sfdisk -q --no-reread --no-tell-kernel "$BD/disk.raw"
	truncate -s $((ROOT_SECTORS * 512)) "$BD/root.fs"
	mkfs.ext4 -q -F -d "$BD/tree" "$BD/root.fs"
	dd if="$BD/root.fs" of="$BD/disk.raw" bs=1M seek=101 conv=notrunc,sparse status=none
	qemu-img convert -f raw -O qcow2 "$BD/disk.raw" "$WORK/www/boot/disk.qcow2"
	rm -rf "$BD"
	gzip -9 -c "$KDIR/arm64/vmlinuz" >"$WORK/www/boot/Image.gz"
	for run in $(seq "$RUNS"); do
		measure dlq curl -sS -o "$OUT/disk.qcow2" "$URL/boot/disk.qcow2"
		measure dlk curl -sS -o "$OUT/Image.gz" "$URL/boot/Image.gz"
	done
	T_EXT=$(RUNS=$RUNS "$WORK/bootbench" extract "$OUT/disk.qcow2")
	T_DEC=$(RUNS=$RUNS "$WORK/bootbench" decompress "$OUT/Image.gz")
	Q_SIZE=$(stat -c %s "$OUT/disk.qcow2")
	K_SIZE=$(stat -c %s "$OUT/Image.gz")
	T_DLQ=$(median dlq)
	T_DLK=$(median dlk)
	LINE_Q=$(awk -v n="$Q_SIZE" 'BEGIN {printf "%.2f", n / 12500000}')
	LINE_K=$(awk -v n="$K_SIZE" 'BEGIN {printf "%.2f", n / 12500000}')
	rm -f "$OUT/disk.qcow2" "$OUT/Image.gz"
	echo "direct boot                               seconds  download 127.0.0.1  x it  download 100 Mbit/s  x it"
	printf '%-40s %8.2f %19.2f %5s %20.2f %5s\n' "extract from 3 GiB disk ($((Q_SIZE >> 20)) MiB qcow2)" "$T_EXT" "$T_DLQ" "$(ratio "$T_EXT" "$T_DLQ")" "$LINE_Q" "$(ratio "$T_EXT" "$LINE_Q")"
	printf '%-40s %8.2f %19.2f %5s %20.2f %5s\n' "decompress arm64 Image ($((K_SIZE >> 20)) MiB gzip)" "$T_DEC" "$T_DLK" "$(ratio "$T_DEC" "$T_DLK")" "$LINE_K" "$(ratio "$T_DEC" "$LINE_K")"
	echo
else
	echo "bench: direct boot skipped: needs testdata/kernels (make testkernels), sfdisk, mkfs.ext4, qemu-img" >&2
fi

R256=$(ratio "$T_P256" "$T_CURL")
R512=$(ratio "$T_P512" "$T_CURL")
DIFF=$(awk -v s="$SENT" -v m="$MISSING" -v n="$SIZE" 'BEGIN {d = s - m; if (d < 0) d = -d; printf "%.4f", d / n}')
misses=0
target() { # VERDICT TEXT
	printf '%-5s %s\n' "$1" "$2"
	[ "$1" = PASS ] || misses=$((misses + 1))
}
target "$(verdict "$R256" 1.25)" "SHA-256 pull <= 1.25 x bare transfer: $R256"
target "$(verdict "$R512" 1.40)" "SHA-512 pull <= 1.40 x bare transfer: $R512"
target "$(verdict "$DIFF" 0.01)" "resumed pull sends only the missing part (+-1% of the file): $SENT of $MISSING bytes"
target "$(verdict "$RSS_MAX" 64)" "peak RSS of a pull <= 64 MiB: $RSS_MAX MiB"
if [ -n "$REG_PID" ]; then
	RREG=$(ratio "$(median regpull)" "$(median regcurl)")
	RSS_REG=$(cat "$WORK/m.push" "$WORK/m.regpull" | awk '$2 > m {m = $2} END {printf "%.1f", m / 1024}')
	target "$(verdict "$RREG" 1.25)" "registry pull <= 1.25 x curl of the blob: $RREG"
	target "$(verdict "$RSS_REG" 64)" "peak RSS of push and registry pull <= 64 MiB: $RSS_REG MiB"
else
	target MISS "registry: docker-registry is not installed (make deps)"
fi
if [ "$BOOT_OK" = 1 ]; then
	RE=$(ratio "$T_EXT" "$LINE_Q")
	RD=$(ratio "$T_DEC" "$LINE_K")
	target "$(verdict "$RE" 0.25)" "kernel extraction <= 0.25 x the disk's download at 100 Mbit/s: $RE"
	target "$(verdict "$RD" 0.25)" "arm64 decompression <= 0.25 x the kernel's download at 100 Mbit/s: $RD"
fi
if [ "$misses" -eq 0 ]; then
	echo "all targets met"
else
	echo "$misses target(s) missed"
fi
