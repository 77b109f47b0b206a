#!/usr/bin/env bash
# bench/e2e.sh VEILFS VEILCTL [MB]: one quick end-to-end pass on a tmpfs backing (root):
# dd write (bs=1M conv=fsync) and cold read of MB MiB through veilfs and through libfuse's
# passthrough_ll (built at run time from libfuse3-dev's examples), median of 3, plus the
# daemon's CPU seconds. For the full comparison with the peers use bench/run.
set -euo pipefail
VEILFS=$1 VEILCTL=$2 MB=${3:-512}
T=$(mktemp -d /tmp/vl-e2e.XXXXXX)
mkdir -p "$T/back" "$T/mnt"
mount -t tmpfs -o size=$((MB * 3 + 256))m tmpfs "$T/back"
cleanup() { fusermount3 -u "$T/mnt" 2>/dev/null || true; umount "$T/back" 2>/dev/null || true; rm -rf "$T"; }
trap cleanup EXIT
ex=/usr/share/doc/libfuse3-dev/examples
if [ ! -x /tmp/passthrough_ll ]; then
	cc -O2 -o /tmp/passthrough_ll "$ex/passthrough_ll.c" $(pkg-config --cflags --libs fuse3)
fi
median() { sort -n | sed -n 2p; }
run() { # name
	local w=() r=()
	for i in 1 2 3; do
		rm -f "$T/mnt/f"
		w+=("$(dd if=/dev/zero of="$T/mnt/f" bs=1M count="$MB" conv=fsync 2>&1 | awk '/copied/ {printf "%d", $1 / $(NF-3) / 1e6}')")
		echo 3 >/proc/sys/vm/drop_caches
		r+=("$(dd if="$T/mnt/f" of=/dev/null bs=1M 2>&1 | awk '/copied/ {printf "%d", $1 / $(NF-3) / 1e6}')")
	done
	printf '%-16s write %6s MB/s  read %6s MB/s\n' "$1" \
		"$(printf '%s\n' "${w[@]}" | median)" "$(printf '%s\n' "${r[@]}" | median)"
}
if [ -z "${SKIP_PT:-}" ]; then
	mkdir -p "$T/back/pt"
	/tmp/passthrough_ll -o source="$T/back/pt" "$T/mnt"
	run passthrough_ll
	fusermount3 -u "$T/mnt"
fi
mkdir -p "$T/back/v"
printf 'bench\n' >"$T/pass"
"$VEILCTL" init --passfile "$T/pass" --scrypt-log2n 16 "$T/back/v" </dev/null >"$T/init.log" 2>&1 ||
	{ cat "$T/init.log"; exit 1; }
"$VEILFS" --passfile "$T/pass" -f "$T/back/v" "$T/mnt" </dev/null &
pid=$!
for i in $(seq 50); do mountpoint -q "$T/mnt" && break; sleep 0.1; done
run veilfs
echo "veilfs daemon CPU: $(awk '{printf "%.2f s (user %.2f, sys %.2f)", ($14+$15)/100, $14/100, $15/100}' /proc/$pid/stat)"
fusermount3 -u "$T/mnt"
wait $pid || true
