#!/usr/bin/env bash
# tests/soak.sh: the fsx exerciser's soak mode, outside make check. For each seed, a fresh
# vault and mount, OPS random operations compared with a plain directory, then a 2-thread run.
#   sudo TOP_BUILDDIR=build/release tests/soak.sh [SEEDS] [OPS]   (default: "11 22 33 44", 250000)
# Prints TAP; the 4 default seeds make one million operations (about 10 minutes here).
. "$(dirname "$0")/lib.sh"
SEEDS=${1:-11 22 33 44}
OPS=${2:-250000}
FSX=${FSX:-$TOP_BUILDDIR/tests/fsx}
[ -x "$FSX" ] || bail "tests/fsx is not built ($FSX)"
vl_setup
for seed in $SEEDS; do
	rm -rf "$CIPHER" "$VL_TMP/ref"
	mkdir -p "$CIPHER" "$VL_TMP/ref"
	vl_init || bail "veilctl init failed"
	vl_mount || bail "veilfs did not mount"
	ok "fsx seed $seed, $OPS ops" "$FSX" -s "$seed" -n "$OPS" "$MNT" "$VL_TMP/ref"
	rm -rf "$VL_TMP/ref"/* "${MNT:?}"/*
	ok "fsx seed $seed, 2 threads, $((OPS / 10)) ops each" "$FSX" -s "$seed" -t 2 -n "$((OPS / 10))" "$MNT" "$VL_TMP/ref"
	vl_umount
done
done_testing
