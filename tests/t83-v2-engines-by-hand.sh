#!/usr/bin/env bash
# t83-v2-engines-by-hand: what sync engines do to pieces of format-2 entries (issue 10, "What
# breaks today" and §1-3, §9), made by hand on the ciphertext: rclone bisync's both-sides
# `..path1`/`..path2` renames (of long-named files, of the ID files of directories made or
# renamed on both devices), an engine dropping the losing ID file, unison's
# `(conflict_on_DATE)` copies, a deleted original of a long-named copy. (t86 has the
# deliveries: deleted, duplicated and half-written pieces, a file replaced while mounted.)
# Two devices are two vaults sharing the master key (cp -a of one vault); the engines'
# decisions are applied by tests/v2attack-merge.py or spelled out below.
# Promised (FORMAT.md §4.4, §4.5, §5.4, §5.5; SYNC.md): every entry and every copy stays
# visible and readable, both devices show the same tree, and fsck --repair restores the
# right ID and never leaves an entry less visible. Each case is checked through a fresh
# mount, through veilctl ls -R/cat (which must show exactly what the mount shows) and
# through fsck and fsck --repair.
. "${TOP_SRCDIR:-$(dirname "$0")/..}/tests/lib.sh"
. "$TOP_SRCDIR/tests/v2attack-lib.sh"
vl_setup
vl_have python3 || skip_all "python3 is needed"

LF=$(printf 'f%.0s' $(seq 1 150)).txt # a long file name (its encoded name is over name_max)
LFB=${LF%.txt}
LD=$(printf 'd%.0s' $(seq 1 150)) # a long directory name
LD2=$(printf 'e%.0s' $(seq 1 150))
YL=$(printf 'y%.0s' $(seq 1 150))
CONF=' (conflict_on_2025-02-10)'

# --- 1. bisync: a long-named file changed on both devices ---------------------------------
va_new bisync-longfile
vl_mount || bail "mount"
va_put "$MNT/$LF" base
vl_umount
va_dev_b
vl_mount || bail "mount"
va_put "$MNT/$LF" "from A"
vl_umount
va_mount_b
va_put "$MB/$LF" "from B, longer"
cd / && vl_umount_dir "$MB"
c=$(va_enc "$LF")
is "bisync-longfile: the long name is stored as 8 + hash" 8 "$(basename "$c" | cut -c 1)"
va_merge bisync
ok "bisync-longfile: the engine renamed both versions (..path1, ..path2) and removed the original" \
	test -f "$c..path1" -a -f "$c..path2" -a ! -e "$c"
va_check bisync-longfile "$(va_line "$LFB..path1.txt" "from A")" "$(va_line "$LFB..path2.txt" "from B, longer")"
va_mount_b
va_umount_b bisync-longfile
va_fsck bisync-longfile
is "bisync-longfile: fsck exits 0 (the copies are notes)" 0 "$VA_RC"
is "bisync-longfile: fsck notes both copies" 2 "$(grep -c '^info: .*conflict copy of /' "$S/bisync-longfile.fsck")"
va_repair bisync-longfile 0
# SYNC.md: renaming a copy over the original resolves the conflict; deleting a copy leaves the
# original (format 2: a long copy needs nothing of the original, nor the original of it).
vl_mount || bail "mount"
mv "$MNT/$LFB..path1.txt" "$MNT/$LF" && va_put "$MNT/$LFB (1).txt" "a third version"
vl_umount
vl_mount || bail "mount"
rm "$MNT/$LFB..path2.txt"
vl_umount
va_check bisync-longfile-resolved "$(va_line "$LF" "from A")" "$(va_line "$LFB (1).txt" "a third version")"
va_hasnt "bisync-longfile-resolved: no copy is left" "$S/bisync-longfile-resolved.mnt" "..path"
va_fsck bisync-longfile-resolved
is "bisync-longfile-resolved: fsck is clean" 0 "$VA_RC"

# --- 2. bisync: the same new long-named directory made on both devices ---------------------
# Both write byte-identical ID files (derived ID, same place); bisync still renames both.
va_new bisync-longdir
va_dev_b
vl_mount || bail "mount"
mkdir -p "$MNT/$LD/sub" && va_put "$MNT/$LD/fa" "from A" && va_put "$MNT/$LD/sub/sa" "deep A"
vl_umount
va_mount_b
mkdir -p "$MB/$LD/sub" && va_put "$MB/$LD/fb" "from B" && va_put "$MB/$LD/sub/sb" "deep B"
cd / && vl_umount_dir "$MB"
c=$(va_enc "$LD")
ok "bisync-longdir: both devices wrote byte-identical ID files" cmp -s "$c/veilfs.dirid" "$CB/${c#"$CIPHER"/}/veilfs.dirid"
va_merge bisync
ok "bisync-longdir: the engine renamed both ID files (..path1, ..path2) and removed veilfs.dirid" \
	test -f "$c/veilfs.dirid..path1" -a -f "$c/veilfs.dirid..path2" -a ! -e "$c/veilfs.dirid"
va_check bisync-longdir "$LD|d||" "$(va_line "$LD/fa" "from A")" "$(va_line "$LD/fb" "from B")" \
	"$(va_line "$LD/sub/sa" "deep A")" "$(va_line "$LD/sub/sb" "deep B")"
va_mount_b
va_umount_b bisync-longdir
va_fsck bisync-longdir
ok "bisync-longdir: fsck does not say the directory was created twice under different IDs" \
	test "$(va_count "$S/bisync-longdir.fsck" 'created twice')" = 0
ok "bisync-longdir: fsck exits 0 or 7 (a repairable finding), not an error" test "$VA_RC" = 0 -o "$VA_RC" = 7
va_repair bisync-longdir 8
ok "bisync-longdir: after the repair the directory has its veilfs.dirid again" test -f "$c/veilfs.dirid"

# --- 3. bisync: the same new short-named directory made on both devices --------------------
va_new bisync-samedir
va_dev_b
vl_mount || bail "mount"
mkdir -p "$MNT/D/sub" && va_put "$MNT/D/fa" "from A" && va_put "$MNT/D/sub/sa" "deep A"
vl_umount
va_mount_b
mkdir -p "$MB/D/sub" && va_put "$MB/D/fb" "from B" && va_put "$MB/D/sub/sb" "deep B"
cd / && vl_umount_dir "$MB"
c=$(va_enc D)
va_merge bisync
ok "bisync-samedir: the engine renamed both ID files of D and of D/sub" \
	test -f "$c/veilfs.dirid..path2" -a ! -e "$c/veilfs.dirid" -a -f "$(va_enc D/sub)/veilfs.dirid..path1"
va_check bisync-samedir "$(va_line D/fa "from A")" "$(va_line D/fb "from B")" \
	"$(va_line D/sub/sa "deep A")" "$(va_line D/sub/sb "deep B")"
va_mount_b
va_umount_b bisync-samedir
va_fsck bisync-samedir
ok "bisync-samedir: fsck does not say D was created twice under different IDs" \
	test "$(va_count "$S/bisync-samedir.fsck" 'created twice')" = 0
ok "bisync-samedir: fsck exits 0 or 7 (a repairable finding), not an error" test "$VA_RC" = 0 -o "$VA_RC" = 7
va_repair bisync-samedir 8
ok "bisync-samedir: after the repair D and D/sub have their veilfs.dirid again" \
	test -f "$c/veilfs.dirid" -a -f "$(va_enc D/sub)/veilfs.dirid"

# --- 4. bisync: a directory renamed on A (X to a long name YL), created as YL on B ---------
# The two ID files differ (A's keeps X's ID); bisync renames both; YL's name is only in them.
# A's file a1 was written before the rename (its token names X's place), a2 after it.
va_new bisync-twoids
va_dev_b
vl_mount || bail "mount"
mkdir "$MNT/X" && va_put "$MNT/X/a1" "A before the rename" && mv "$MNT/X" "$MNT/$YL" &&
	va_put "$MNT/$YL/a2" "A after the rename"
vl_umount
va_mount_b
mkdir "$MB/$YL" && va_put "$MB/$YL/b1" "from B"
cd / && vl_umount_dir "$MB"
c=$(va_enc "$YL")
nok "bisync-twoids: the two devices' ID files of YL differ" cmp -s "$c/veilfs.dirid" "$CB/${c#"$CIPHER"/}/veilfs.dirid"
va_merge bisync
va_check bisync-twoids "$YL|d||" "$(va_line "$YL/a1" "A before the rename")" "$(va_line "$YL/a2" "A after the rename")" \
	"$(va_line "$YL/b1" "from B")"
va_mount_b
va_umount_b bisync-twoids
va_fsck bisync-twoids
# SYNC.md: the names under the other ID are reported until moved (rename, or conflicts
# --resolve-dirids): fsck exits 7 and says what to do.
is "bisync-twoids: fsck exits 7 (names under another ID of YL)" 7 "$VA_RC"
va_finding "bisync-twoids: fsck says which name is under the other ID and what to do" bisync-twoids \
	"${c#"$CIPHER"/}/" "rename it through the mount"
cp -a "$CIPHER" "$S/twoids.saved"
va_repair bisync-twoids 7
# SYNC.md: `veilctl conflicts --resolve-dirids` moves every name under the directory's own ID
# and removes the ID file copies no longer needed (format 2: the files are bound to their
# directory's ID, so their headers must follow).
rm -rf "$CIPHER" && mv "$S/twoids.saved" "$CIPHER"
"$VEILCTL" --passfile "$PASSFILE" conflicts --resolve-dirids "$CIPHER" </dev/null >"$S/resolve.out" 2>&1
is "bisync-twoids: conflicts --resolve-dirids resolves everything (exit 8)" 8 "$?"
va_check bisync-twoids-resolved "$YL|d||" "$(va_line "$YL/a1" "A before the rename")" "$(va_line "$YL/a2" "A after the rename")" \
	"$(va_line "$YL/b1" "from B")"
is "bisync-twoids-resolved: one ID file is left in YL" veilfs.dirid "$(ls "$c" | grep dirid)"
va_fsck bisync-twoids-resolved
is "bisync-twoids-resolved: fsck is clean" 0 "$VA_RC"

# --- 4b. the same, under an engine that drops the losing version (Syncthing, max conflicts
# 0): Y keeps only B's ID file. A's files written before the rename prove nothing (their
# tokens name X's place), the one written after it proves A's ID for Y's place, and with it
# every name under A's ID shows (FORMAT.md §5.4 step 3), whatever the readdir order.
va_new dropped-id
va_dev_b
vl_mount || bail "mount"
mkdir "$MNT/X"
for i in 1 2 3 4 5 6; do va_put "$MNT/X/a$i" "A $i, before the rename"; done
mv "$MNT/X" "$MNT/Y" && va_put "$MNT/Y/a7" "A 7, after the rename"
vl_umount
va_mount_b
mkdir "$MB/Y" && va_put "$MB/Y/b1" "from B"
cd / && vl_umount_dir "$MB"
va_merge syncthing0
c=$(va_enc Y)
ok "dropped-id: both devices hold B's ID file of Y only" \
	sh -c 'cmp -s "$1/veilfs.dirid" "$2/veilfs.dirid" && test "$(ls "$1" | grep -c dirid)" = 1' - "$c" "$CB/${c#"$CIPHER"/}"
want=()
for i in 1 2 3 4 5 6; do want+=("$(va_line "Y/a$i" "A $i, before the rename")"); done
va_check dropped-id "${want[@]}" "$(va_line Y/a7 "A 7, after the rename")" "$(va_line Y/b1 "from B")"
va_mount_b
va_umount_b dropped-id
va_fsck dropped-id
is "dropped-id: fsck exits 7 (names under another ID of Y, to move)" 7 "$VA_RC"
is "dropped-id: fsck finds no name that does not decrypt" 0 "$(va_count "$S/dropped-id.fsck" 'does not decrypt')"
va_repair dropped-id 7

# --- 5. unison: copies of a long-named file, of a file in a long-named directory, of a
# veilfs.dirid; a long-named directory deleted on A while B added a file to it ------------
va_new unison
vl_mount || bail "mount"
mkdir -p "$MNT/$LD" "$MNT/$LD2" "$MNT/X"
va_put "$MNT/$LF" base && va_put "$MNT/$LD/in" base && va_put "$MNT/$LD2/old" "old in LD2" &&
	va_put "$MNT/X/x1" "x1"
vl_umount
va_dev_b
vl_mount || bail "mount"
va_put "$MNT/$LF" "A's long" && va_put "$MNT/$LD/in" "A's in" && mv "$MNT/X" "$MNT/Y" &&
	rm -r "${MNT:?}/$LD2"
vl_umount
va_mount_b
va_put "$MB/$LF" "B's long" && va_put "$MB/$LD/in" "B's in" && mkdir "$MB/Y" && va_put "$MB/Y/y1" "y1" &&
	va_put "$MB/$LD2/new" "B added this"
cd / && vl_umount_dir "$MB"
cld2=$(va_enc "$CB" "$LD2")
cp -a "$cld2" "$S/b.ld2"
va_merge unison
# The directory deleted on A and changed on B: unison keeps B's whole directory as a copy
# "NAME (conflict_on_DATE)" on both sides, and the original name goes.
for side in "$CIPHER" "$CB"; do
	rm -rf "${side:?}/${cld2#"$CB"/}"
	cp -a "$S/b.ld2" "$side/${cld2#"$CB"/}$CONF"
done
ok "unison: the long-named file's copy is there" test -f "$(va_enc "$LF")$CONF"
ok "unison: Y's veilfs.dirid has a copy" test -f "$(va_enc Y)/veilfs.dirid$CONF"
ok "unison: the long-named directory's copy is there, its original is gone" \
	test -d "$CIPHER/${cld2#"$CB"/}$CONF" -a ! -e "$CIPHER/${cld2#"$CB"/}"
va_check unison "$(va_line "$LF" "A's long")" "$(va_line "$LFB$CONF.txt" "B's long")" \
	"$(va_line "$LD/in" "A's in")" "$(va_line "$LD/in$CONF" "B's in")" "$LD2$CONF|d||" \
	"$(va_line "$LD2$CONF/old" "old in LD2")" "$(va_line "$LD2$CONF/new" "B added this")" \
	"$(va_line Y/x1 x1)" "$(va_line Y/y1 y1)"
va_mount_b
va_umount_b unison
va_fsck unison
ok "unison: fsck notes the long file's copy" grep -q "^info: .*conflict copy of /$LFB" "$S/unison.fsck"
va_repair unison 7
# The original of a long-named copy deleted through the mount: the copy needs nothing of it.
clf=$(va_enc "$LF")
vl_mount || bail "mount"
rm "$MNT/$LF"
vl_umount
va_check unison-origdel "$(va_line "$LFB$CONF.txt" "B's long")"
nok "unison-origdel: the original is gone" grep -q "^$LF|" "$S/unison-origdel.mnt"
va_fsck unison-origdel
va_repair unison-origdel 7
ok "unison, original deleted: the original's ciphertext is gone, the copy's is still there" \
	test ! -e "$clf" -a -f "$clf$CONF"

done_testing
