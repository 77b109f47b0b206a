#!/usr/bin/env bash
# t86-v2-deliveries-by-hand: what sync engines deliver of format-2 entries (issue 10, "What
# breaks today" and §1-3, §9), made by hand on the ciphertext: a deleted veilfs.dirid of a
# directory renamed twice while the other device added a file to it (bisync), duplicated ID
# files, half-written (truncated) long entries and ID files, a file replaced while mounted.
# (t83 has the engines' renames and copies of pieces of entries.)
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
LD=$(printf 'd%.0s' $(seq 1 150)) # a long directory name

# --- 1. a directory renamed twice on A while B adds a file; the engine deletes its ID file --
va_new renamed-twice
vl_mount || bail "mount"
mkdir "$MNT/X" && va_put "$MNT/X/x1" "x1" && va_put "$MNT/X/x2" "x2" && mv "$MNT/X" "$MNT/Y"
vl_umount
va_dev_b
vl_mount || bail "mount"
mv "$MNT/Y" "$MNT/Z"
vl_umount
va_mount_b
va_put "$MB/Y/f" "B added this to Y"
cd / && vl_umount_dir "$MB"
cy=$(va_enc "$CB" Y)
va_merge bisync
ok "renamed-twice: the engine deleted Y's veilfs.dirid and untouched files, kept B's new file" \
	test ! -e "$cy/veilfs.dirid" -a "$(ls "$cy" | wc -l)" = 1
va_check renamed-twice "$(va_line Y/f "B added this to Y")" "$(va_line Z/x1 x1)" "$(va_line Z/x2 x2)"
va_mount_b
va_umount_b renamed-twice
va_fsck renamed-twice
is "renamed-twice: fsck exits 7 (Y has no valid ID file)" 7 "$VA_RC"
va_finding "renamed-twice: fsck says Y's ID was recovered from its entries" renamed-twice \
	"${cy#"$CB"/}" "recovered"
va_repair renamed-twice 8
ca=$(va_enc Y)
ok "renamed-twice: fsck --repair wrote Y's veilfs.dirid" test -f "$ca/veilfs.dirid"
# The right ID: the directory's own ID, which Z (the same directory, renamed) still holds.
is "renamed-twice: the ID written for Y is the one Z's ID file holds (the directory's own)" \
	"$(od -An -tx1 -j4 -N16 "$(va_enc Z)/veilfs.dirid")" "$(od -An -tx1 -j4 -N16 "$ca/veilfs.dirid" 2>&1)"

# --- 2. duplicated ID files --------------------------------------------------------------
va_new dupids
vl_mount || bail "mount"
mkdir "$MNT/D" && va_put "$MNT/D/f" "in D" && va_put "$MNT/top" "top"
vl_umount
c=$(va_enc D)
for n in 'veilfs.dirid (1)' 'veilfs (conflicted copy 2025-02-10).dirid' \
	'veilfs.dirid.sync-conflict-20250210-101500-ABCDEFG'; do
	cp -p "$c/veilfs.dirid" "$c/$n"
done
cp -p "$CIPHER/veilfs.dirid" "$CIPHER/veilfs.dirid (1)"
va_check dupids "$(va_line D/f "in D")" "$(va_line top top)"
is "dupids: the tree is unchanged by duplicate ID files" \
	"$(printf '%s\n' "D|d||" "$(va_line D/f "in D")" "$(va_line top top)" | LC_ALL=C sort)" "$(cat "$S/dupids.mnt")"
va_fsck dupids
is "dupids: fsck exits 7 (duplicates to remove)" 7 "$VA_RC"
is "dupids: fsck names each duplicate" 4 "$(grep -c '^problem: .*veilfs.*dirid.*own ID again' "$S/dupids.fsck")"
va_repair dupids 8
ok "dupids: veilfs.dirid of D and of the root remain after the repair" \
	test -f "$c/veilfs.dirid" -a -f "$CIPHER/veilfs.dirid"
is "dupids: the repair removed the copies" 0 "$(find "$CIPHER" -name 'veilfs*' ! -name veilfs.dirid ! -name veilfs.conf | wc -l)"

# --- 3. half-written deliveries --------------------------------------------------------
va_new partial
vl_mount || bail "mount"
mkdir -p "$MNT/D" "$MNT/$LD"
va_put "$MNT/$LF" "header cut"
head -c 5000 /dev/zero | tr '\0' x >"$MNT/x$LF"
va_put "$MNT/sibling" sibling && va_put "$MNT/D/f" "in D" && va_put "$MNT/$LD/g" "in LD"
vl_umount
c1=$(va_enc "$LF")
c2=$(va_enc "x$LF")
cd_=$(va_enc D)
cld=$(va_enc "$LD")
truncate -s 200 "$c1"                                # inside the long header (346 bytes)
truncate -s $((346 + 4096 + 28 + 10)) "$c2"         # inside block 1
truncate -s 40 "$cd_/veilfs.dirid"                   # half an ID file
truncate -s 60 "$cld/veilfs.dirid"                   # half the ID file holding a long name
va_mount partial
ls "$MNT" >"$S/partial.ls" 2>&1
nok "partial: a long file cut inside its header is not listed" grep -qxF "$LF" "$S/partial.ls"
ok "partial: its siblings are listed" grep -qx sibling "$S/partial.ls"
is "partial: a long file cut inside block 1: stat shows block 0 plus one byte" 4097 "$(stat -c %s "$MNT/x$LF")"
is "partial: ... reading it fails with EIO" EIO "$(vl_errno "open('$MNT/x$LF','rb').read()")"
is "partial: ... its block 0 reads" "$(head -c 4096 /dev/zero | tr '\0' x | md5sum)" \
	"$(dd if="$MNT/x$LF" bs=4096 count=1 status=none | md5sum)"
is "partial: D with half an ID file: its file reads" "in D" "$(cat "$MNT/D/f" 2>&1)"
ok "partial: the long directory whose ID file is half there is shown as (name lost) {conflict H}" \
	grep -qE '^\(name lost\) \{conflict [0-9a-f]{16}\}$' "$S/partial.ls"
va_umount partial
ok "partial: the log names the long file cut in its header" grep -qF "$(basename "$c1")" "$S/partial.log"
is "partial: one log line names the long file cut in block 1" 1 "$(va_count "$S/partial.log" "$(basename "$c2")")"
ok "partial: the log names D's half ID file" grep -qF "$(basename "$cd_")" "$S/partial.log"
lost=$(grep -oE '^\(name lost\) \{conflict [0-9a-f]{16}\}' "$S/partial.mnt" | head -n 1)
va_check partial-views "$(va_line sibling sibling)" "$(va_line D/f "in D")" "$(va_line "${lost:-(name lost)}/g" "in LD")" \
	"x$LF|f|4097|ERR"
va_fsck partial
is "partial: fsck exits 7" 7 "$VA_RC"
va_finding "partial: fsck reports the long file cut in its header" partial "$c1" "long name"
va_finding "partial: fsck reports the long file cut in block 1" partial "$c2" "cut short"
va_finding "partial: fsck reports D's ID file" partial "$cd_" "veilfs.dirid"
va_finding "partial: fsck reports the long directory's lost name" partial "$cld" "name"
va_repair partial 7
ok "partial: fsck --repair rewrote D's ID file" test "$(stat -c %s "$cd_/veilfs.dirid")" -gt 40
nok "partial: the fsck after the repair no longer reports D" grep -q "^problem: ${cd_#"$CIPHER"/} " "$S/partial-again.fsck"

# --- 4. a file replaced while mounted (written elsewhere, renamed over) -------------------
va_new replaced
vl_mount || bail "mount"
mkdir "$MNT/D"
va_put "$MNT/D/r" "version 1" && va_put "$MNT/$LF" "long version 1"
vl_umount
va_dev_b
va_mount_b
va_put "$MB/D/r" "version 2, from B" && va_put "$MB/$LF" "long version 2, from B"
cd / && vl_umount_dir "$MB"
va_mount replaced
is "replaced: A reads version 1 before the delivery" "version 1" "$(cat "$MNT/D/r")"
is "replaced: A reads the long file's version 1" "long version 1" "$(cat "$MNT/$LF")"
for p in D/r "$LF"; do
	a=$(va_enc "$p")
	b=$CB/${a#"$CIPHER"/}
	cp -p "$b" "$(dirname "$a")/.unison.tmp" && mv "$(dirname "$a")/.unison.tmp" "$a"
done
VA_SNAP=$(va_snap "$CIPHER") # the delivery is not the mount's write
is "replaced: the next open reads B's version" "version 2, from B" "$(cat "$MNT/D/r" 2>&1)"
is "replaced: stat shows B's size" 17 "$(stat -c %s "$MNT/D/r")"
is "replaced: the long file reads B's version" "long version 2, from B" "$(cat "$MNT/$LF" 2>&1)"
va_umount replaced
is "replaced: nothing was logged" "" "$(grep -v -e '^veilfs: info' "$S/replaced.log" | head -n 3)"
va_ctl replaced
va_fsck replaced
is "replaced: fsck is clean" 0 "$VA_RC"

done_testing
