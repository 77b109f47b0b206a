# tests/sync-lib.sh: scenarios shared by the real-sync-engine tests (t62, t63). The test
# defines engine (one sync run between $CIPHER and $B, non-zero on failure) and calls
# sync_setup, then sync_scenarios.

sync_setup() {
	vl_setup
	vl_init || bail "init: $(cat "$VL_TMP/init.out")"
	B=$VL_TMP/cipherB
	MB=$VL_TMP/mntB
	cp -a "$CIPHER" "$B" # the second device got the vault folder through the sync
	mkdir -p "$MB"
}
mountA() { vl_mount || bail "mount A"; }
mountB() { vl_mount_at "$B" "$MB" || bail "mount B"; }
umountA() { vl_umount; }
umountB() { cd / && vl_umount_dir "$MB"; }
# names DIR: the sorted names in DIR on one line.
names() { ls -A "$1" | sort | tr '\n' ' ' | sed 's/ $//'; }

sync_scenarios() {
	local round rounds=1 n_conf
	# 1. write on A, sync, read on B
	mountA
	printf 'hello from A\n' >"$MNT/hello.txt"
	mkdir -p "$MNT/docs/deep" && printf 'deep\n' >"$MNT/docs/deep/file"
	umountA
	ok "sync after a write on A" engine
	mountB
	is "B reads A's file" "hello from A" "$(cat "$MB/hello.txt" 2>&1)"
	is "B reads A's nested file" deep "$(cat "$MB/docs/deep/file" 2>&1)"
	umountB

	# 2. the same file edited on both sides
	mountA
	printf 'edit A, longer\n' >"$MNT/hello.txt"
	umountA
	mountB
	printf 'edit B, much longer text\n' >"$MB/hello.txt"
	umountB
	# a second run carries a conflict copy that the first made on one side only (unison)
	engine
	ok "a second sync run after the conflict succeeds" engine
	mountA
	mountB
	n_conf=$(ls -A "$MNT" | grep -c '^hello.*txt$')
	ok "A shows the edited file and its conflict copy ($(names "$MNT"))" test "$n_conf" -ge 2
	is "B shows the same names as A" "$(names "$MNT")" "$(names "$MB")"
	both=$(cat "$MNT"/hello*.txt 2>&1 | sort | tr '\n' '|')
	is "both versions are readable on A" "edit A, longer|edit B, much longer text|" "$both"
	both=$(cat "$MB"/hello*.txt 2>&1 | sort | tr '\n' '|')
	is "both versions are readable on B" "edit A, longer|edit B, much longer text|" "$both"
	umountA
	umountB

	# 3. the same directory created offline on both sides, different files inside
	mountA
	mkdir -p "$MNT/trip/day1" && printf 'a\n' >"$MNT/trip/day1/from-a"
	umountA
	mountB
	mkdir -p "$MB/trip/day1" && printf 'b\n' >"$MB/trip/day1/from-b"
	umountB
	ok "sync after creating one directory on both sides" engine
	mountA
	mountB
	is "A sees every file of the merged directory" "from-a from-b" "$(names "$MNT/trip/day1")"
	is "B sees every file of the merged directory" "from-a from-b" "$(names "$MB/trip/day1")"
	is "B reads A's file in the merged directory" a "$(cat "$MB/trip/day1/from-a" 2>&1)"
	umountA
	umountB

	# 4. deleted on one side while edited on the other
	mountA
	rm "$MNT/docs/deep/file"
	umountA
	mountB
	printf 'edited while deleted elsewhere\n' >"$MB/docs/deep/file"
	umountB
	engine
	ok "a second sync run after delete-vs-edit succeeds" engine
	mountA
	mountB
	is "the edit survives on A (no data lost)" "edited while deleted elsewhere" "$(cat "$MNT"/docs/deep/file* 2>&1 | head -1)"
	is "the edit survives on B" "edited while deleted elsewhere" "$(cat "$MB"/docs/deep/file* 2>&1 | head -1)"
	umountA
	umountB

	[ "${VEILFS_LONG_TESTS:-0}" = 1 ] && rounds=20 || rounds=0
	for round in $(seq 1 "$rounds"); do
		mountA
		mountB
		printf 'A%s\n' "$round" >"$MNT/r$((round % 5))"
		printf 'B%s\n' "$round" >"$MB/r$(((round + 2) % 5))"
		mkdir -p "$MNT/d$((round % 3))" "$MB/d$((round % 3))"
		printf x >"$MNT/d$((round % 3))/a$round"
		printf y >"$MB/d$((round % 3))/b$round"
		umountA
		umountB
		engine
		engine
		mountA
		mountB
		is "long round $round: A and B show the same tree" "$(cd "$MNT" && find . | sort)" "$(cd "$MB" && find . | sort)"
		umountA
		umountB
	done
}
