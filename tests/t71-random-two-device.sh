#!/usr/bin/env bash
# The seeded randomized two-device test (issue 11 §3, 6; tests/sync-random.py): both vaults
# mounted with default options while rclone bisync and then unison sync their ciphertext
# directories; a few rounds each, with long names and directory renames on format 2 (--full).
# The seed is printed; VEILFS_SYNC_SEED=N replays one.
# tests/soak-sync.sh runs many rounds (and the cases format v1 is known to lose).
. "${TOP_SRCDIR:-$(dirname "$0")/..}/tests/lib.sh"
vl_have rclone || skip_all "rclone is not installed (.ci/deps installs it)"
vl_have unison || skip_all "unison is not installed (.ci/deps installs it)"
vl_setup
seed=${VEILFS_SYNC_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
diag "seed $seed (replay: VEILFS_SYNC_SEED=$seed)"
MB=$VL_TMP/mntB
mkdir -p "$MB"
next=1
rc=0
# Format 2 keeps long names and renamed directories visible under the engines (FORMAT.md §4.4,
# §5): they are in every round (--full). Format 1 is known to lose them (issue 10).
full=
[ "${VL_INIT_FORMAT:-2}" = 2 ] && full=--full
for engine in bisync unison; do
	CIPHER=$VL_TMP/cipher-$engine
	B=$VL_TMP/cipherB-$engine
	mkdir -p "$CIPHER" "$VL_TMP/work-$engine"
	vl_init || bail "init: $(cat "$VL_TMP/init.out")"
	cp -a "$CIPHER" "$B"
	vl_mount || bail "mount A"
	vl_mount_at "$B" "$MB" || bail "mount B"
	python3 "$TOP_SRCDIR/tests/sync-random.py" --seed "$seed" --rounds "${VEILFS_SYNC_ROUNDS:-3}" \
		--engine $engine --a "$MNT" --b "$MB" --ca "$CIPHER" --cb "$B" \
		--work "$VL_TMP/work-$engine" --start $next $full >"$VL_TMP/out-$engine" 2>&1 || rc=1
	grep -v '^# next' "$VL_TMP/out-$engine"
	next=$(sed -n 's/^# next //p' "$VL_TMP/out-$engine")
	[ -n "$next" ] || bail "sync-random.py failed: $(tail -5 "$VL_TMP/out-$engine")"
	cd / && vl_umount_dir "$MB"
	vl_umount
done
echo "1..$((next - 1))"
exit $rc
