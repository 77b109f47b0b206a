#!/usr/bin/env bash
# A directory renamed on one device and created under the new name on another (offline):
# the two veilfs.dirid files differ, the sync client keeps one and makes a conflict copy of
# the other. Every file of both sides must stay visible and readable through both mounts
# (issue 5), renaming one moves it under the directory's own ID, nothing is written while
# listing, and fsck/conflicts report the copy (docs/SYNC.md).
. "${TOP_SRCDIR:-$(dirname "$0")/..}/tests/lib.sh"
vl_setup
vl_init || bail "init: $(cat "$VL_TMP/init.out")"
B=$VL_TMP/cipherB
MB=$VL_TMP/mntB
cp -a "$CIPHER" "$B" # device B gets the vault before either side makes the directory
mkdir -p "$MB"
LONG=$(printf 'L%.0s' $(seq 1 200))

# device A: makes X with files and a subdirectory, then renames X to Y (Y keeps X's ID)
vl_mount || bail "mount A"
mkdir -p "$MNT/X/sub"
printf 'a1\n' >"$MNT/X/a1.txt"
printf 'notes of A\n' >"$MNT/X/notes.txt"
printf 'deep A\n' >"$MNT/X/sub/deep.txt"
mv "$MNT/X" "$MNT/Y"
vl_umount
# device B, offline: makes Y (derived ID) with other files, one of the same name
vl_mount_at "$B" "$MB" || bail "mount B"
mkdir -p "$MB/Y/bsub"
printf 'b1\n' >"$MB/Y/b1.txt"
printf 'notes of B\n' >"$MB/Y/notes.txt"
printf 'long B\n' >"$MB/Y/$LONG"
printf 'deep B\n' >"$MB/Y/bsub/deep.txt"
cd / && vl_umount_dir "$MB"

ya=$("$VEILCTL" encrypt-path --passfile "$PASSFILE" "$CIPHER" Y </dev/null)
yb=$("$VEILCTL" encrypt-path --passfile "$PASSFILE" "$B" Y </dev/null)
is "both devices use the same ciphertext name for Y" "$ya" "$yb"
nok "but different directory IDs" cmp -s "$CIPHER/$ya/veilfs.dirid" "$B/$yb/veilfs.dirid"

# The sync (a fake client, as every real one behaves here): files missing on a side are
# copied; a file present on both sides with different contents keeps the receiving side's
# version and gets the other as a conflict copy. A (Dropbox-like) names it
# "veilfs (conflicted copy DATE).dirid", B (Syncthing-like) "veilfs.dirid.sync-conflict-...".
python3 - "$CIPHER" "$B" <<'PY'
import filecmp, os, shutil, sys
a, b = sys.argv[1:3]
def merge(src, dst, copyname):
    for root, dirs, files in os.walk(src):
        rel = os.path.relpath(root, src)
        d = os.path.join(dst, rel)
        os.makedirs(d, exist_ok=True)
        for f in files:
            s, t = os.path.join(root, f), os.path.join(d, f)
            if not os.path.exists(t):
                shutil.copy2(s, t)
            elif not filecmp.cmp(s, t, shallow=False):
                shutil.copy2(s, os.path.join(d, copyname(f)))
snap_a = a + ".snap"
shutil.copytree(a, snap_a)
merge(b, a, lambda f: "veilfs (conflicted copy 2025-02-10).dirid" if f == "veilfs.dirid" else f + " (conflicted copy 2025-02-10)")
merge(snap_a, b, lambda f: f + ".sync-conflict-20250210-101500-ABCDEFG")
shutil.rmtree(snap_a)
PY
ok "A holds a Dropbox-style copy of Y's veilfs.dirid" test -f "$CIPHER/$ya/veilfs (conflicted copy 2025-02-10).dirid"
ok "B holds a Syncthing-style copy of Y's veilfs.dirid" test -f "$B/$yb/veilfs.dirid.sync-conflict-20250210-101500-ABCDEFG"

snapshot() { (cd "$1" && find . -printf '%p %s %T@ %m\n' | sort); }
before=$(snapshot "$CIPHER")

vl_mount || bail "mount A after sync"
vl_mount_at "$B" "$MB" || bail "mount B after sync"
for side in A B; do
	m=$MNT
	[ $side = B ] && m=$MB
	ls -a "$m/Y" >"$VL_TMP/ls.$side" 2>&1
	for f in a1.txt b1.txt "$LONG" sub bsub; do
		ok "$side: Y/${f:0:20} is listed" grep -qxF -- "$f" "$VL_TMP/ls.$side"
	done
	is "$side: Y holds 9 names (., .., a1, b1, the long one, sub, bsub, two notes)" 9 "$(wc -l <"$VL_TMP/ls.$side")"
	is "$side: reads a1.txt" a1 "$(cat "$m/Y/a1.txt")"
	is "$side: reads b1.txt" b1 "$(cat "$m/Y/b1.txt")"
	is "$side: reads the long name" "long B" "$(cat "$m/Y/$LONG")"
	is "$side: reads sub/deep.txt" "deep A" "$(cat "$m/Y/sub/deep.txt")"
	is "$side: reads bsub/deep.txt" "deep B" "$(cat "$m/Y/bsub/deep.txt")"
	clash=$(grep -F 'notes (other directory ID).txt {conflict ' "$VL_TMP/ls.$side")
	ok "$side: both notes.txt show (one in the fallback form)" test -n "$clash" -a -n "$(grep -xF notes.txt "$VL_TMP/ls.$side")"
	is "$side: the two notes.txt read as the two sides' files" "notes of A|notes of B" \
		"$(printf '%s|%s' "$(cat "$m/Y/notes.txt")" "$(cat "$m/Y/$clash")" | tr '|' '\n' | sort | paste -sd'|')"
done
# a lookup without a listing first (new mount, cold caches)
cd / && vl_umount_dir "$MB"
vl_mount_at "$B" "$MB" || bail "mount B again"
is "B: a file under the other ID is found without listing first" "a1" "$(cat "$MB/Y/a1.txt")"
cd / && vl_umount_dir "$MB"
vl_umount
is "listing and reading wrote nothing in the cipher tree" "$before" "$(snapshot "$CIPHER")"

# fsck and conflicts report the copy, and say what to do
"$VEILCTL" fsck --passfile "$PASSFILE" "$CIPHER" </dev/null >"$VL_TMP/fsck.out" 2>&1
is "fsck: exit 7 (problems found)" 7 "$?"
ok "fsck: names the veilfs.dirid copy" grep -q "copy of veilfs.dirid: the directory was created twice" "$VL_TMP/fsck.out"
ok "fsck: lists names under the copy's ID as visible, with what to do" grep -q "veilfs shows it; rename it through the mount" "$VL_TMP/fsck.out"
nok "fsck: no name reported as undecryptable" grep -q "does not decrypt" "$VL_TMP/fsck.out"
"$VEILCTL" conflicts --passfile "$PASSFILE" "$CIPHER" </dev/null >"$VL_TMP/conf.out" 2>&1
ok "conflicts: reports the veilfs.dirid copy" grep -q "copy of the directory ID file" "$VL_TMP/conf.out"

# Writing and renaming through the mount: a rename moves the name under Y's own ID.
vl_mount || bail "mount A to migrate"
printf 'more\n' >>"$MNT/Y/b1.txt"
is "appending to a file under the other ID" "$(printf 'b1\nmore')" "$(cat "$MNT/Y/b1.txt")"
ok "rename b1.txt away" mv "$MNT/Y/b1.txt" "$MNT/Y/b1.tmp"
ok "and back" mv "$MNT/Y/b1.tmp" "$MNT/Y/b1.txt"
ok "rename the subdirectory bsub away and back" sh -c 'mv "$1/bsub" "$1/bsub2" && mv "$1/bsub2" "$1/bsub"' - "$MNT/Y"
ok "rm of a file under the other ID" rm "$MNT/Y/$LONG"
vl_umount
yid=$CIPHER/$ya
b1=$("$VEILCTL" encrypt-path --passfile "$PASSFILE" "$CIPHER" Y/b1.txt </dev/null)
ok "b1.txt is now stored under Y's own ID" test -f "$CIPHER/$b1"
nok "the long name's entry and sidecar are gone" sh -c 'ls "$1" | grep -q "^[89]"' - "$yid"
# the user deletes the copy: migrated names stay, the others are then hidden (why fsck says
# to rename them first)
rm "$yid/veilfs (conflicted copy 2025-02-10).dirid"
vl_mount || bail "mount A without the copy"
is "migrated file still visible without the copy" "$(printf 'b1\nmore')" "$(cat "$MNT/Y/b1.txt")"
is "migrated directory still visible without the copy" "deep B" "$(cat "$MNT/Y/bsub/deep.txt")"
vl_umount

# veilctl conflicts --resolve-dirids on B (its copy holds A's ID: a1.txt, sub, notes.txt)
"$VEILCTL" conflicts --resolve-dirids --passfile "$PASSFILE" "$B" </dev/null >"$VL_TMP/rd.out" 2>"$VL_TMP/rd.err"
is "resolve-dirids: exit 7 while a name is left (the clashing notes.txt)" 7 "$?"
ok "resolve-dirids: a1.txt moved" grep -q "^/Y/a1.txt	moved under the directory's own ID" "$VL_TMP/rd.out"
ok "resolve-dirids: sub moved" grep -q "^/Y/sub	moved" "$VL_TMP/rd.out"
ok "resolve-dirids: the clashing name kept" grep -q "^/Y/notes (other directory ID).txt {conflict [0-9a-f]*}	kept (the name is taken" "$VL_TMP/rd.out"
ok "resolve-dirids: the copy kept while a name needs it" grep -q "veilfs.dirid.sync-conflict-20250210-101500-ABCDEFG	kept (1 name still" "$VL_TMP/rd.out"
vl_mount_at "$B" "$MB" || bail "mount B after resolve-dirids"
is "B: a1.txt reads after the move" a1 "$(cat "$MB/Y/a1.txt")"
is "B: sub/deep.txt reads after the move" "deep A" "$(cat "$MB/Y/sub/deep.txt")"
clash=$(ls "$MB/Y" | grep -F 'notes (other directory ID).txt {conflict ')
ok "B: rename the clashing notes.txt through the mount" mv "$MB/Y/$clash" "$MB/Y/notes-A.txt"
cd / && vl_umount_dir "$MB"
"$VEILCTL" conflicts --resolve-dirids --passfile "$PASSFILE" "$B" </dev/null >"$VL_TMP/rd.out" 2>"$VL_TMP/rd.err"
is "resolve-dirids again: exit 8 (the copy removed)" 8 "$?"
nok "the copy is gone" test -e "$B/$yb/veilfs.dirid.sync-conflict-20250210-101500-ABCDEFG"
"$VEILCTL" fsck --passfile "$PASSFILE" "$B" </dev/null >"$VL_TMP/fsck.out" 2>&1
is "fsck of B is clean afterwards" 0 "$?"
vl_mount_at "$B" "$MB" || bail "mount B after the cleanup"
is "B: every file of both sides, without any copy" "$(printf '%s\n' a1.txt b1.txt bsub "$LONG" notes-A.txt notes.txt sub | LC_ALL=C sort | paste -sd' ')" \
	"$(ls "$MB/Y" | LC_ALL=C sort | paste -sd' ')"
is "B: notes-A.txt is A's" "notes of A" "$(cat "$MB/Y/notes-A.txt")"
cd / && vl_umount_dir "$MB"
done_testing
