#!/usr/bin/env bash
# Two ciphertext directories kept in sync by a real engine, each mounted by veilfs. The
# engine (rclone bisync here, unison in t63) runs while both sides are unmounted, as a
# sync client on another device would see a quiet folder (docs/SYNC.md explains why).
# VEILFS_LONG_TESTS=1 adds rounds of random edits.
. "${TOP_SRCDIR:-$(dirname "$0")/..}/tests/lib.sh"
. "$TOP_SRCDIR/tests/sync-lib.sh"
vl_have rclone || skip_all "rclone is not installed (.ci/deps installs it)"
sync_setup
engine() {
	rclone bisync "$CIPHER" "$B" --workdir "$VL_TMP/bisync" --config /dev/null -q "$@" \
		>>"$VL_TMP/engine.log" 2>&1
}
ok "first bisync (--resync)" engine --resync
sync_scenarios
diag "conflict copies made by rclone bisync: $(cd "$CIPHER" && ls | grep -v '^[a-z2-7]*$' | grep -v '^veilfs' | sed 's/^[0-9a-z]*//' | sort -u | tr '\n' ' ')"
done_testing
