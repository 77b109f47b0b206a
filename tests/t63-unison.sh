#!/usr/bin/env bash
# The sync scenarios of t62 with unison (-batch; conflicts resolved by -prefer newer, and
# -copyonconflict keeps the losing side as a conflict copy). Run while unmounted.
. "${TOP_SRCDIR:-$(dirname "$0")/..}/tests/lib.sh"
. "$TOP_SRCDIR/tests/sync-lib.sh"
vl_have unison || skip_all "unison is not installed (.ci/deps installs it)"
sync_setup
export UNISON=$VL_TMP/unison
mkdir -p "$UNISON"
engine() {
	unison "$CIPHER" "$B" -batch -auto -silent -times -prefer newer -copyonconflict \
		-confirmbigdel=false >>"$VL_TMP/engine.log" 2>&1
}
ok "first unison run" engine
sync_scenarios
diag "conflict copies made by unison: $(cd "$CIPHER" && ls | grep -v '^[a-z2-7]*$' | grep -v '^veilfs' | sed 's/^[0-9a-z]*//' | sort -u | tr '\n' ' ')"
done_testing
