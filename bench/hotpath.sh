#!/usr/bin/env bash
# bench/hotpath.sh [BUILDDIR] [MB]: builds bench/hotpath.c against BUILDDIR's libraries
# (default: the source tree; `make libveilcore.a libveilcrypto.a` first) and prints the
# instructions of every phase under callgrind (comparable on a busy machine), then one
# wall-clock run without valgrind. Instruction counts are whole-phase totals: divide by the
# phase's work (see the header of bench/hotpath.c). VL_BENCH_FORMAT=1|2 picks the vault's
# format (default 2).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
B=$(cd "${1:-$top}" && pwd)
MB=${2:-16}
export TMPDIR=${TMPDIR:-/dev/shm} # tmpfs backing, like the benchmark
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
make -s -C "$B" libveilcore.a libveilcrypto.a
cc -std=gnu11 -O2 -g -pthread -I"$top" -I"$B" -o "$tmp/hotpath" "$here/hotpath.c" \
	"$B/libveilcore.a" "$B/libveilcrypto.a" $(pkg-config --libs libcrypto libxxhash)
echo "# instructions per phase ($MB MiB file, format ${VL_BENCH_FORMAT:-2}, callgrind)"
for p in seqwrite seqwrite128 overwrite partial seqread randread keys; do
	valgrind --tool=callgrind --callgrind-out-file="$tmp/cg.$p" --toggle-collect='phase_*' \
		"$tmp/hotpath" "$MB" "$p" >/dev/null 2>"$tmp/err.$p" || { cat "$tmp/err.$p"; exit 1; }
	ir=$(grep -m1 '^summary:' "$tmp/cg.$p" | awk '{print $2}')
	printf '%-12s %14s Ir\n' "$p" "$ir"
	[ -n "${HOTPATH_KEEP:-}" ] && cp "$tmp/cg.$p" "$HOTPATH_KEEP.$p"
done
echo "# wall clock (noisy on a shared machine)"
"$tmp/hotpath" "$MB"
