#!/usr/bin/env bash
# tests/soak-sync.sh: the randomized two-device test (tests/sync-random.py) for many rounds,
# outside make check. Both vaults mounted with default options; each engine in turn.
#   tests/soak-sync.sh [ROUNDS] [--full]     (from a build tree: VEILFS, VEILCTL as for make check)
# --full adds long names and directory renames, which format v1 is known to lose under
# engines (a long name's sidecar and a directory's veilfs.dirid travel apart from what they
# describe); the failures it prints are sorted into those and the rest.
rounds=${1:-50}
full=${2:-}
export VEILFS_SYNC_ROUNDS=$rounds
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
vl_have rclone && vl_have unison || { echo "soak-sync: needs rclone and unison" >&2; exit 2; }
vl_setup
seed=${VEILFS_SYNC_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
echo "# soak-sync: seed $seed, $rounds rounds per engine ${full:+(full)}"
MB=$VL_TMP/mntB
mkdir -p "$MB"
rc=0
for engine in bisync unison; do
	CIPHER=$VL_TMP/cipher-$engine
	B=$VL_TMP/cipherB-$engine
	mkdir -p "$CIPHER" "$VL_TMP/work-$engine"
	vl_init || bail "init"
	cp -a "$CIPHER" "$B"
	vl_mount || bail "mount A"
	vl_mount_at "$B" "$MB" || bail "mount B"
	python3 "$here/sync-random.py" --seed "$seed" --rounds "$rounds" --engine $engine \
		--a "$MNT" --b "$MB" --ca "$CIPHER" --cb "$B" --work "$VL_TMP/work-$engine" \
		${full:+--full} | tee "$VL_TMP/out-$engine" | grep -v '^ok' || true
	grep -q '^not ok' "$VL_TMP/out-$engine" && rc=1
	echo "# $engine: $(grep -c '^ok' "$VL_TMP/out-$engine") passed, $(grep -c '^not ok' "$VL_TMP/out-$engine") failed" \
		"($(grep -c '^#   .*LLLL' "$VL_TMP/out-$engine") lines name a long name, $(grep -c '^#   .*-moved-' "$VL_TMP/out-$engine") a renamed directory)"
	cd / && vl_umount_dir "$MB"
	vl_umount
done
exit $rc
