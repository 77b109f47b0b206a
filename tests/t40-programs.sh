#!/usr/bin/env bash
# t40-programs: real programs on the mount: git, SQLite, tar and rsync round trips.
. "$(dirname "$0")/lib.sh"
vl_setup
vl_init || bail "veilctl init failed: $(cat "$VL_TMP/init.out")"
vl_mount || bail "veilfs did not mount"

# --- git
if vl_have git; then
	export HOME=$VL_TMP/home GIT_CONFIG_NOSYSTEM=1
	mkdir -p "$HOME"
	git config --global user.name "veilfs test"
	git config --global user.email "test@example.invalid"
	git config --global init.defaultBranch main
	git config --global gc.auto 0
	repo=$MNT/repo
	ok "git init" git init -q "$repo"
	(
		cd "$repo" || exit 1
		for i in $(seq 1 20); do
			mkdir -p "dir$((i % 4))"
			seq 1 $((i * 200)) >"dir$((i % 4))/file$i"
			printf 'line %d\n' "$i" >>log.txt
			git add -A && git commit -q -m "commit $i" || exit 1
		done
		git mv dir1 renamed && git commit -q -m "rename" || exit 1
		git rm -q -r dir2 && git commit -q -m "remove" || exit 1
	) >"$VL_TMP/git.out" 2>&1
	ok "git add/commit 22 times" test $? = 0
	is "git log has 22 commits" 22 "$(git -C "$repo" rev-list --count HEAD 2>/dev/null)"
	is "git status is clean" "" "$(git -C "$repo" status --porcelain 2>&1)"
	ok "git gc" git -C "$repo" gc -q --aggressive
	ok "git fsck --full" git -C "$repo" fsck --full --strict --no-progress
	ok "git clone from the mount to a plain directory" git clone -q "$repo" "$VL_TMP/clone"
	ok "the clone's tree equals the working tree" diff -r --exclude=.git "$repo" "$VL_TMP/clone"
	ok "git clone from a plain directory into the mount" git clone -q "$VL_TMP/clone" "$MNT/clone2"
	ok "git fsck of the second clone" git -C "$MNT/clone2" fsck --full --no-progress
	cd / || true
	vl_remount || bail "remount failed"
	ok "git fsck after a remount" git -C "$repo" fsck --full --strict --no-progress
	is "git log after a remount" 22 "$(git -C "$repo" rev-list --count HEAD 2>/dev/null)"
else
	skip_test "git" "git is not installed"
fi

# --- SQLite: 2000 transactions, rollback journal and WAL
sql_run() { # DB: runs stdin as SQL
	if vl_have sqlite3; then
		sqlite3 -batch -bail "$1"
	else
		python3 -c 'import sqlite3, sys
c = sqlite3.connect(sys.argv[1], isolation_level=None)
script = sys.stdin.read()
parts = [s for s in script.split(";\n") if s.strip()]
for s in parts:
    for row in c.execute(s):
        print("|".join(str(x) for x in row))' "$1"
	fi
}
if vl_have sqlite3 || python3 -c 'import sqlite3' 2>/dev/null; then
	# The backing disk's fsync is slow (tens of ms on a VM, as slow on plain ext4), so the
	# 2000-transaction runs use synchronous=OFF (rollback journal) and NORMAL (WAL: syncs at
	# checkpoints only); a short run with synchronous=FULL exercises fsync.
	for mode in delete:OFF:2000 wal:NORMAL:2000 full:FULL:60; do
		IFS=: read -r mode sync n <<<"$mode"
		db=$MNT/test-$mode.db
		{
			printf 'PRAGMA journal_mode=%s;\n' "$([ "$mode" = full ] && echo delete || echo "$mode")"
			printf 'PRAGMA synchronous=%s;\n' "$sync"
			printf 'CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT, b BLOB);\n'
			for i in $(seq 1 "$n"); do
				printf "BEGIN;\nINSERT INTO t (v, b) VALUES ('row %d', randomblob(%d));\nUPDATE t SET v = v || '+' WHERE id = %d;\nCOMMIT;\n" \
					"$i" $((i % 700)) $(((i * 37 + 11) % i + 1))
			done
		} | sql_run "$db" >"$VL_TMP/sql-$mode.out" 2>&1
		ok "sqlite ($mode journal, synchronous=$sync): $n transactions" test $? = 0
		is "sqlite ($mode): integrity_check" ok "$(printf 'PRAGMA integrity_check;\n' | sql_run "$db" 2>&1)"
		is "sqlite ($mode): all rows are there" "$n" "$(printf 'SELECT count(*) FROM t;\n' | sql_run "$db" 2>&1)"
	done
	printf 'PRAGMA wal_checkpoint(TRUNCATE);\n' | sql_run "$MNT/test-wal.db" >/dev/null 2>&1
	cd / || true
	vl_remount || bail "remount failed"
	for mode in delete wal full; do
		is "sqlite ($mode) after a remount: integrity_check" ok \
			"$(printf 'PRAGMA integrity_check;\n' | sql_run "$MNT/test-$mode.db" 2>&1)"
	done
	is "no journal file is left behind" "" "$(cd "$MNT" && ls | grep -E 'journal' || true)"
else
	skip_test "sqlite" "neither sqlite3 nor python3's sqlite3 module is installed"
fi

# --- tar and rsync round trips
SRC=/usr/include/linux
if [ ! -d "$SRC" ]; then
	SRC=$VL_TMP/gen
	mkdir -p "$SRC"
	for i in $(seq 1 300); do
		mkdir -p "$SRC/d$((i % 17))"
		head -c $(((i * 977) % 70000)) /dev/urandom >"$SRC/d$((i % 17))/f$i"
	done
	ln -s d1/f1 "$SRC/link"
fi
if vl_have tar; then
	mkdir "$MNT/tar"
	ok "tar into the mount" sh -c 'tar -C "$1" -cf - . | tar -C "$2" -xpf -' sh "$SRC" "$MNT/tar"
	ok "the extracted tree equals the source (diff -r)" diff -r --no-dereference "$SRC" "$MNT/tar"
	mkdir "$VL_TMP/untar"
	ok "tar out of the mount" sh -c 'tar -C "$1" -cf - . | tar -C "$2" -xpf -' sh "$MNT/tar" "$VL_TMP/untar"
	ok "the round trip equals the source" diff -r --no-dereference "$SRC" "$VL_TMP/untar"
	is "tar listings (names, modes, sizes, mtimes) are equal" \
		"$(tar -C "$SRC" -cvvf /dev/null . 2>/dev/null | awk '{print $1, $3, $4, $5, $6}' | sort)" \
		"$(tar -C "$MNT/tar" -cvvf /dev/null . 2>/dev/null | awk '{print $1, $3, $4, $5, $6}' | sort)"
else
	skip_test "tar" "tar is not installed"
fi
if vl_have rsync; then
	ok "rsync -a into the mount" rsync -a "$SRC/" "$MNT/rsync/"
	ok "the rsynced tree equals the source" diff -r --no-dereference "$SRC" "$MNT/rsync"
	is "a second rsync -a finds nothing to do (times, modes, sizes kept)" "" \
		"$(rsync -ai "$SRC/" "$MNT/rsync/" 2>&1)"
	ok "rsync -a --checksum out of the mount" rsync -a --checksum "$MNT/rsync/" "$VL_TMP/rsync-back/"
	ok "the rsync round trip equals the source" diff -r --no-dereference "$SRC" "$VL_TMP/rsync-back"
	# rsync writes a temporary file and renames it over the old one.
	f=$(cd "$MNT/rsync" && find . -type f -size +2k | head -n 1)
	printf 'changed' >>"$VL_TMP/rsync-back/$f"
	ok "rsync of a changed file (temp file + rename)" rsync -a "$VL_TMP/rsync-back/" "$MNT/rsync/"
	ok "the changed file arrived" cmp -s "$VL_TMP/rsync-back/$f" "$MNT/rsync/$f"
	ok "rsync --inplace of a changed file" sh -c 'printf more >>"$1/$3" && rsync -a --inplace "$1/" "$2/" && cmp -s "$1/$3" "$2/$3"' \
		sh "$VL_TMP/rsync-back" "$MNT/rsync" "$f"
else
	skip_test "rsync" "rsync is not installed"
fi
cd / || true
vl_remount || bail "remount failed"
vl_have tar && ok "after a remount: the tar tree equals the source" diff -r --no-dereference "$SRC" "$MNT/tar"
vl_have rsync && ok "after a remount: the rsync tree equals the round trip" diff -r --no-dereference "$VL_TMP/rsync-back" "$MNT/rsync"

vl_umount
done_testing
