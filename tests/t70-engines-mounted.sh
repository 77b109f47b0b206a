#!/usr/bin/env bash
# Real sync engines (rclone bisync, which rewrites files in place, and unison, which
# replaces them by rename) while both devices are mounted with the default options
# (writeback cache, 1 s caches): a file the engine replaced is read at its new size at once
# through a path looked up before; an append right after a replacement keeps both
# versions; both trees are equal after the sync (issue 11 §1-3, 6; docs/SYNC.md).
. "${TOP_SRCDIR:-$(dirname "$0")/..}/tests/lib.sh"
. "$TOP_SRCDIR/tests/sync-lib.sh"
vl_have rclone || skip_all "rclone is not installed (.ci/deps installs it)"
vl_have unison || skip_all "unison is not installed (.ci/deps installs it)"
vl_setup
MB=$VL_TMP/mntB
mkdir -p "$MB"
run_engine() {
	case $ENGINE in
	bisync) rclone bisync "$CIPHER" "$B" --workdir "$VL_TMP/bisync" --config /dev/null -q "$@" ;;
	unison) unison "$CIPHER" "$B" -batch -auto -silent -times -prefer newer -copyonconflict \
		-confirmbigdel=false ;;
	esac >>"$VL_TMP/engine.log" 2>&1
}
# until_ok CMD...: every 0.01 s, at most 1000 times (a bound, not a timing check)
until_ok() {
	local i
	for i in $(seq 1 1000); do
		"$@" 2>/dev/null && return 0
		sleep 0.01
	done
	return 1
}
size_is() { [ "$(stat -c %s "$1" 2>/dev/null)" = "$2" ]; }
tree() { (cd "$1" && find . -mindepth 1 -printf '%p %y %s\n' | sort && find . -type f -exec md5sum {} + | sort -k2); }
long='the second version from A, much longer than the first one'

for ENGINE in bisync unison; do
	CIPHER=$VL_TMP/cipher-$ENGINE
	B=$VL_TMP/cipherB-$ENGINE
	mkdir -p "$CIPHER"
	vl_init || bail "init: $(cat "$VL_TMP/init.out")"
	cp -a "$CIPHER" "$B"
	[ $ENGINE = bisync ] && { run_engine --resync || bail "first bisync"; }
	mountA
	mountB
	printf 'v1\n' >"$MNT/f.txt"
	mkdir -p "$MNT/dir" && printf 'nested\n' >"$MNT/dir/n"
	ok "$ENGINE: sync while both are mounted" run_engine
	is "$ENGINE: B reads A's new file at once" v1 "$(cat "$MB/f.txt" 2>&1)"
	stat "$MB/f.txt" >/dev/null # B's kernel has the inode and its size cached
	printf '%s\n' "$long" >"$MNT/f.txt"
	run_engine
	is "$ENGINE: B reads the replaced file whole at once" "$long" "$(cat "$MB/f.txt" 2>&1)"
	ok "$ENGINE: B's stat shows the new size (bounded poll)" until_ok size_is "$MB/f.txt" $((${#long} + 1))
	# an append on B right after the engine brought A's next version
	cat "$MB/f.txt" >/dev/null
	printf 'v3 from A\n' >"$MNT/f.txt"
	run_engine
	printf 'appended on B\n' >>"$MB/f.txt"
	run_engine
	run_engine
	is "$ENGINE: the append after a replacement kept A's version (B)" \
		"v3 from A|appended on B" "$(paste -sd'|' "$MB/f.txt" 2>&1)"
	is "$ENGINE: and A reads the same" "v3 from A|appended on B" "$(paste -sd'|' "$MNT/f.txt" 2>&1)"
	# deleted and created by the engine under a looked-up directory
	ls "$MB/dir" >/dev/null
	rm "$MNT/dir/n" && printf 'other\n' >"$MNT/dir/o"
	run_engine
	is "$ENGINE: B lists the engine's delete and create at once" o "$(ls "$MB/dir" 2>&1)"
	nok "$ENGINE: B's open of the deleted file fails at once" cat "$MB/dir/n"
	is "$ENGINE: both trees are equal after the sync" "$(tree "$MNT")" "$(tree "$MB")"
	umountA
	umountB
done
done_testing
