#!/usr/bin/env bash
# A real sync engine (rclone bisync) running while both ciphertext directories are mounted,
# with --sharedstorage and with the default caches: a write on A shows on B's mount once the
# caches expire, and an edit on both sides gives conflict copies readable on both mounts.
# Each check polls with a bounded loop (the cache timeout is 1 s by default): no timing is
# asserted. docs/SYNC.md, "Sync while mounted".
. "${TOP_SRCDIR:-$(dirname "$0")/..}/tests/lib.sh"
. "$TOP_SRCDIR/tests/sync-lib.sh"
vl_have rclone || skip_all "rclone is not installed (.ci/deps installs it)"
sync_setup
engine() {
	rclone bisync "$CIPHER" "$B" --workdir "$VL_TMP/bisync" --config /dev/null -q "$@" \
		>>"$VL_TMP/engine.log" 2>&1
}
# until CMD...: runs CMD every 0.1 s until it succeeds, at most 100 times.
until_ok() {
	local i
	for i in $(seq 1 100); do
		"$@" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}
reads() { [ "$(cat "$1" 2>/dev/null)" = "$2" ]; }
# versions DIR PREFIX: the sorted contents of DIR/PREFIX* joined by '|'.
versions() { cat "$1/$2"* 2>/dev/null | sort | paste -sd'|'; }
has_versions() { [ "$(versions "$1" "$2")" = "$3" ]; }

ok "first bisync (--resync), unmounted" engine --resync
for mode in shared default; do
	args=()
	[ $mode = shared ] && args=(--sharedstorage)
	vl_mount "${args[@]}" || bail "mount A ($mode)"
	vl_mount_at "$B" "$MB" "${args[@]}" || bail "mount B ($mode)"
	ls "$MB" >/dev/null # B has looked at its root before the file arrives
	printf 'from A\n' >"$MNT/w-$mode.txt"
	ok "$mode: bisync while both sides are mounted" engine
	ok "$mode: B's mount shows A's new file" until_ok reads "$MB/w-$mode.txt" "from A"
	printf 'edit A, longer\n' >"$MNT/w-$mode.txt"
	printf 'edit B, much longer text\n' >"$MB/w-$mode.txt"
	engine
	ok "$mode: a second bisync run after the conflict succeeds" engine
	ok "$mode: both versions readable on A ($(names "$MNT" | tr ' ' '\n' | grep -c "^w-$mode") names)" \
		until_ok has_versions "$MNT" "w-$mode" "edit A, longer|edit B, much longer text"
	ok "$mode: both versions readable on B" \
		until_ok has_versions "$MB" "w-$mode" "edit A, longer|edit B, much longer text"
	is "$mode: A and B show the same names" "$(names "$MNT")" "$(names "$MB")"
	# a file kept open on B while the engine replaces its ciphertext: old or new, never mixed
	printf 'v1 %.0s' $(seq 1 3000) >"$MNT/open-$mode.txt"
	engine
	until_ok reads "$MB/open-$mode.txt" "$(cat "$MNT/open-$mode.txt")"
	exec 9<"$MB/open-$mode.txt"
	printf 'v2 %.0s' $(seq 1 3000) >"$MNT/open-$mode.txt"
	engine
	got=$(cat <&9 2>/dev/null)
	exec 9<&-
	ok "$mode: a file open on B while the engine replaced it reads one whole version" \
		test "$got" = "$(printf 'v1 %.0s' $(seq 1 3000))" -o "$got" = "$(printf 'v2 %.0s' $(seq 1 3000))"
	ok "$mode: a new open on B reads the new version" until_ok reads "$MB/open-$mode.txt" "$(printf 'v2 %.0s' $(seq 1 3000))"
	umountB
	vl_umount
done
diag "conflict copies made by rclone bisync: $(cd "$CIPHER" && ls | grep -v '^[a-z2-7]*$' | grep -v '^veilfs' | sed 's/^[0-9a-z]*//' | sort -u | tr '\n' ' ')"
done_testing
