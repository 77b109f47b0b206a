#!/usr/bin/env bash
# t84-v2-tamper: the storage side, without the key, against format 2 (issue 10, "Tamper";
# FORMAT.md §3, §5 and the threat model §7). Each attack is made by hand on the ciphertext of
# an unmounted vault and checked through a fresh mount (EIO and one log line naming the
# ciphertext path, or the entry not shown), through veilctl ls/cat, and through fsck (exit
# status and the finding) and fsck --repair (which must leave every entry at least as
# visible as before). What §7 says remains possible (a swap of two files of one directory,
# rolling back a block rewritten in place, a whole file) is shown to be possible, and to be
# no more than that.
. "${TOP_SRCDIR:-$(dirname "$0")/..}/tests/lib.sh"
. "$TOP_SRCDIR/tests/v2attack-lib.sh"
vl_setup
vl_have python3 || skip_all "python3 is needed"

LF=$(printf 'f%.0s' $(seq 1 150)).txt # long names (encoded names over name_max)
LF2=y$LF
LFB=${LF%.txt}
B=4096     # the default block size (checked below)
BS=$((B + 28))
H=72       # the short header
HL=346     # the long header
# off N [HDR]: the ciphertext offset of block N.
off() { echo $((${2:-$H} + $1 * BS)); }
# splice SRC SRCOFF DST DSTOFF LEN: copies LEN bytes of SRC at SRCOFF over DST at DSTOFF.
splice() {
	python3 -c 'import sys
s, so, d, do, n = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
with open(s, "rb") as f:
    f.seek(so); x = f.read(n)
assert len(x) == n
with open(d, "r+b") as f:
    f.seek(do); f.write(x)' "$@"
}
# blk MNTPATH N: MD5 of plaintext block N read through the mount, or EIO.
blk() {
	dd if="$1" bs=$B skip="$2" count=1 status=none 2>"$S/dd.err" | md5sum | cut -d' ' -f1 |
		{ read -r m; if grep -q 'Input/output error' "$S/dd.err"; then echo EIO; else echo "$m"; fi; }
}
# fill CHAR N: N bytes of CHAR; md5blk CHAR: MD5 of a block of CHAR.
fill() { head -c "$2" /dev/zero | tr '\0' "$1"; }
md5blk() { fill "$1" $B | md5sum | cut -d' ' -f1; }
# logged TAG CPATH: how many lines of the mount's log name the ciphertext file CPATH.
logged() { va_count "$S/$1.log" "$(basename "$2")"; }
# fileid CPATH: the file ID in a header (bytes 8 to 24).
fileid() { od -An -tx1 -j8 -N16 "$1" | tr -d ' \n'; }

# --- 1. a file's ciphertext copied over a file in another directory ----------------------
va_new crossdir
is "crossdir: the vault has 4096-byte blocks" $B "$(vl_block_size)"
vl_mount || bail "mount"
mkdir "$MNT/d1" "$MNT/d2"
va_put "$MNT/d1/a" "A in d1" && va_put "$MNT/d2/b" "B in d2" && va_put "$MNT/d1/m" "moved away"
ln -s target-one "$MNT/d1/lnk" && ln -s target-two "$MNT/d2/lnk2"
va_put "$MNT/d1/$LF" "long in d1" && va_put "$MNT/d2/$LF" "long in d2"
vl_umount
cb=$(va_enc d2/b)
cl=$(va_enc d2/lnk2)
cf=$(va_enc "d2/$LF")
cm=$(va_enc d1/m)
cp "$(va_enc d1/a)" "$cb"
cp "$(va_enc d1/lnk)" "$cl"
cp "$(va_enc "d1/$LF")" "$cf"
mv "$cm" "$(dirname "$cb")/" # moved into d2 under its own name
va_mount crossdir
is "crossdir: a file copied over another directory's file: EIO" EIO "$(va_eio "$MNT/d2/b")"
is "crossdir: a symlink object copied over another directory's symlink: EIO" EIO "$(va_eio "$MNT/d2/lnk2")"
is "crossdir: a long-named file copied over another directory's: EIO" EIO "$(va_eio "$MNT/d2/$LF")"
ls "$MNT/d2" >"$S/crossdir.ls" 2>&1
nok "crossdir: a file moved into another directory is not listed there" grep -qx m "$S/crossdir.ls"
is "crossdir: ... and not found by a lookup" ENOENT "$(vl_errno "os.stat('$MNT/d2/m')")"
is "crossdir: the originals still read" "A in d1|target-one|long in d1" \
	"$(cat "$MNT/d1/a")|$(readlink "$MNT/d1/lnk")|$(cat "$MNT/d1/$LF")"
va_umount crossdir
is "crossdir: one log line names the copied file" 1 "$(logged crossdir "$cb")"
is "crossdir: one log line names the copied symlink object" 1 "$(logged crossdir "$cl")"
is "crossdir: one log line names the copied long-named file" 1 "$(logged crossdir "$cf")"
is "crossdir: one log line names the moved-in file" 1 "$(logged crossdir "$cm")"
nok "crossdir: the log holds no plaintext name" grep -qE 'target-|fffffffffffffff|in d1|in d2' "$S/crossdir.log"
va_check crossdir-views "d2/b|?||ERR" "d2/lnk2|?||ERR" "$(va_line d1/a "A in d1")"
# A long-named entry shows the name its header keeps: one from elsewhere cannot be listed
# (its name is not the on-disk one), and a lookup of the name finds it and reads EIO.
va_hasnt "crossdir: the mount does not list the long-named file from elsewhere" "$S/crossdir-views.mnt" "d2/$LF|"
va_hasnt "crossdir: veilctl does not list it" "$S/crossdir-views.ctl" "d2/$LF|"
nok "crossdir: veilctl cat of it fails" "$VEILCTL" --passfile "$PASSFILE" cat "$CIPHER" "d2/$LF" </dev/null
va_fsck crossdir
is "crossdir: fsck exits 7" 7 "$VA_RC"
va_finding "crossdir: fsck: the copied file belongs to another directory" crossdir "$cb" "another directory"
va_finding "crossdir: fsck: the copied symlink object belongs to another directory" crossdir "$cl" "another directory"
va_finding "crossdir: fsck: the copied long-named file" crossdir "$cf" "another directory|not its own name|another entry"
va_finding "crossdir: fsck: the moved-in name does not decrypt" crossdir "$(dirname "$cb")/$(basename "$cm")" "does not decrypt"
va_repair crossdir 7

# --- 2. ID files of other directories dropped in, with those directories' entries ---------
va_new inject
vl_mount || bail "mount"
mkdir "$MNT/d1" "$MNT/d2" "$MNT/d3" "$MNT/d4"
va_put "$MNT/d1/own" "own of d1" && va_put "$MNT/d2/s1" "secret 1 of d2" && va_put "$MNT/d2/s2" "secret 2 of d2"
va_put "$MNT/d3/own3" "own of d3" && va_put "$MNT/d4/t" "t of d4" && va_put "$MNT/d4/u" "u of d4"
vl_umount
c1=$(va_enc d1)
c2=$(va_enc d2)
c3=$(va_enc d3)
c4=$(va_enc d4)
# d1: a conflict copy of d2's ID file, and d2's entries moved in
cp "$c2/veilfs.dirid" "$c1/veilfs.dirid (conflict_on_2025-02-10)"
for f in "$c2"/*; do [ "$(basename "$f")" = veilfs.dirid ] || mv "$f" "$c1/"; done
# d3: its veilfs.dirid replaced by d4's, and copies of d4's entries
cp "$c3/veilfs.dirid" "$S/d3.dirid"
cp -f "$c4/veilfs.dirid" "$c3/veilfs.dirid"
for f in "$c4"/*; do [ "$(basename "$f")" = veilfs.dirid ] || cp "$f" "$c3/"; done
va_mount inject
ls "$MNT/d1" >"$S/inject.ls1" 2>&1
ls "$MNT/d3" >"$S/inject.ls3" 2>&1
is "inject: d1 with d2's ID file copy and d2's entries lists only its own" own "$(cat "$S/inject.ls1")"
is "inject: d3 with d4's ID file and d4's entries lists only its own" own3 "$(cat "$S/inject.ls3")"
is "inject: a lookup of d2's entry in d1 finds nothing" ENOENT "$(vl_errno "os.stat('$MNT/d1/s1')")"
is "inject: a lookup of d4's entry in d3 finds nothing" ENOENT "$(vl_errno "os.stat('$MNT/d3/t')")"
va_umount inject
is "inject: one log line names the injected copy" 1 "$(va_count "$S/inject.log" "veilfs.dirid (conflict_on_2025-02-10)")"
is "inject: one log line names d3's replaced ID file" 1 \
	"$(grep -F "veilfs.dirid in" "$S/inject.log" | grep -cF "$(basename "$c3")")"
va_check inject-views "$(va_line d1/own "own of d1")" "$(va_line d3/own3 "own of d3")" \
	"$(va_line d4/t "t of d4")"
va_hasnt "inject: veilctl shows d2's entries nowhere" "$S/inject-views.ctl" "/s1|"
va_hasnt "inject: the mount shows d2's entries nowhere" "$S/inject-views.mnt" "/s1|"
va_fsck inject
is "inject: fsck exits 7" 7 "$VA_RC"
va_finding "inject: fsck: the injected copy is an ID file of another place" inject \
	"$c1/veilfs.dirid (conflict_on_2025-02-10)" "another place"
va_finding "inject: fsck: d3's ID file is of another place" inject "$c3/veilfs.dirid" "another place"
va_finding "inject: fsck: d2's moved entries do not decrypt in d1" inject "$c1/" "does not decrypt"
va_repair inject 7
is "inject: fsck --repair wrote d3's own ID file again (the one veilfs wrote)" \
	"$(od -An -tx1 -j4 -N16 "$S/d3.dirid")" "$(od -An -tx1 -j4 -N16 "$c3/veilfs.dirid")"

# --- 3. a directory moved elsewhere with its veilfs.dirid ----------------------------------
va_new dirmove
vl_mount || bail "mount"
mkdir -p "$MNT/d5/sub" "$MNT/d5/sub2" "$MNT/d6/target"
va_put "$MNT/d5/sub/deep" "deep in sub" && va_put "$MNT/d5/sub2/deep2" "deep in sub2" && va_put "$MNT/d6/keep" keep
vl_umount
csub=$(va_enc d5/sub)
csub2=$(va_enc d5/sub2)
ctg=$(va_enc d6/target)
rm -rf "$ctg" && mv "$csub" "$ctg"       # over another directory's name
mv "$csub2" "$(va_enc d6)/"              # under its own name
va_mount dirmove
is "dirmove: a directory moved over another's name shows none of its entries" "" "$(ls "$MNT/d6/target" 2>&1)"
is "dirmove: ... and a lookup of its entry finds nothing" ENOENT "$(vl_errno "os.stat('$MNT/d6/target/deep')")"
is "dirmove: a directory moved under its own name is not listed" "keep target" "$(ls "$MNT/d6" | tr '\n' ' ' | sed 's/ $//')"
va_umount dirmove
is "dirmove: one log line names the moved ID file" 1 \
	"$(grep -F "veilfs.dirid in" "$S/dirmove.log" | grep -cF "$(basename "$ctg")")"
va_check dirmove-views "$(va_line d6/keep keep)" "d6/target|d||"
va_hasnt "dirmove: no view shows the moved entries" "$S/dirmove-views.ctl" "deep"
va_fsck dirmove
is "dirmove: fsck exits 7" 7 "$VA_RC"
va_finding "dirmove: fsck: the moved ID file is of another place" dirmove "$ctg/veilfs.dirid" "another place"
va_finding "dirmove: fsck: the moved entry does not decrypt" dirmove "$ctg/" "does not decrypt"
va_finding "dirmove: fsck: the moved-in directory's name does not decrypt" dirmove \
	"$(va_enc d6)/$(basename "$csub2")" "does not decrypt"
va_repair dirmove 7

# --- 4. the root's veilfs.dirid replaced by another directory's, or another vault's -------
va_new root
vl_mount || bail "mount"
mkdir "$MNT/d1" && va_put "$MNT/top" top && va_put "$MNT/d1/f" "f in d1"
vl_umount
cp "$CIPHER/veilfs.dirid" "$S/root.dirid"
cp -f "$(va_enc d1)/veilfs.dirid" "$CIPHER/veilfs.dirid"
va_mount root
is "root: the mount works and lists the root's own entries" "d1 top" "$(ls "$MNT" | tr '\n' ' ' | sed 's/ $//')"
is "root: the root's files read" "top" "$(cat "$MNT/top")"
va_umount root
ok "root: the log names the root's ID file" grep -qF "veilfs.dirid in $CIPHER" "$S/root.log"
va_check root-views "$(va_line top top)" "$(va_line d1/f "f in d1")"
va_fsck root
is "root: fsck exits 7" 7 "$VA_RC"
va_finding "root: fsck reports the root's ID file" root "veilfs.dirid" "root|another place"
va_repair root 8
ok "root: fsck --repair wrote the root's own ID file again" cmp -s "$S/root.dirid" "$CIPHER/veilfs.dirid"
# another vault's (another key)
mkdir "$S/other"
VL_INIT_DIR=$S/other vl_init || bail "init other"
cp -f "$S/other/veilfs.dirid" "$CIPHER/veilfs.dirid"
va_check root-other "$(va_line top top)" "$(va_line d1/f "f in d1")"
ok "root-other: the log names the root's ID file" grep -qF "veilfs.dirid in $CIPHER" "$S/root-other.log"
va_fsck root-other
is "root-other: fsck exits 7" 7 "$VA_RC"
va_finding "root-other: fsck: another vault's root ID file does not authenticate" root-other veilfs.dirid "authenticate|root"

# --- 5. files cut to 0 bytes and to their header -------------------------------------------
va_new cuts
vl_mount || bail "mount"
mkdir "$MNT/d"
va_put "$MNT/d/zero" "cut to nothing" && va_put "$MNT/d/hdr" "cut to the header" && va_put "$MNT/d/ok" fine
va_put "$MNT/d/$LF" "long, cut to the header" && va_put "$MNT/d/$LF2" "long, cut to nothing"
ln -s some-target "$MNT/d/lnk"
: >"$MNT/d/empty"
vl_umount
is "cuts: an empty file is a header and an empty block (100 bytes)" 100 "$(stat -c %s "$(va_enc d/empty)")"
cz=$(va_enc d/zero)
ch=$(va_enc d/hdr)
cl=$(va_enc "d/$LF")
cl2=$(va_enc "d/$LF2")
cs=$(va_enc d/lnk)
truncate -s 0 "$cz"
truncate -s $H "$ch"
truncate -s $HL "$cl"
truncate -s 0 "$cl2"
truncate -s $H "$cs"
va_mount cuts
is "cuts: a file cut to 0 bytes reads EIO" EIO "$(va_eio "$MNT/d/zero")"
is "cuts: a file cut to its header (72 bytes) reads EIO" EIO "$(va_eio "$MNT/d/hdr")"
is "cuts: a long-named file cut to its header (346 bytes) reads EIO" EIO "$(va_eio "$MNT/d/$LF")"
is "cuts: a symlink object cut to its header: EIO" EIO "$(va_eio "$MNT/d/lnk")"
is "cuts: stat of the cut files shows the intact blocks plus one byte" "1 1 1" \
	"$(stat -c %s "$MNT/d/zero" "$MNT/d/hdr" "$MNT/d/$LF" | tr '\n' ' ' | sed 's/ $//')"
ok "cuts: the genuine empty file reads as empty" cmp -s /dev/null "$MNT/d/empty"
is "cuts: the untouched file reads" fine "$(cat "$MNT/d/ok")"
nok "cuts: a long-named file cut to nothing is not listed (its name is in its header)" grep -qxF "$LF2" <(ls "$MNT/d")
va_umount cuts
for x in cz:"cut to 0" ch:"cut to its header" cl:"long, cut to its header" cl2:"long, cut to 0" cs:"symlink cut to its header"; do
	v=${x%%:*}
	is "cuts: one log line names the file $v (${x#*:})" 1 "$(logged cuts "${!v}")"
done
va_check cuts-views "d/zero|?||ERR" "d/hdr|?||ERR" "d/$LF|?||ERR" "d/lnk|?||ERR" "$(va_line d/ok fine)" \
	"$(va_line d/empty "")"
va_fsck cuts
is "cuts: fsck exits 7" 7 "$VA_RC"
va_finding "cuts: fsck: the file cut to 0 bytes" cuts "$cz" "0 bytes"
va_finding "cuts: fsck: the file cut to its header" cuts "$ch" "cut to its header"
va_finding "cuts: fsck: the long-named file cut to its header" cuts "$cl" "cut to its header"
va_finding "cuts: fsck: the long-named file cut to nothing" cuts "$cl2" "long name|0 bytes"
va_finding "cuts: fsck: the symlink object cut to its header" cuts "$cs" "cut to its header"
is "cuts: fsck does not report the genuine empty file" 0 "$(va_count "$S/cuts.fsck" "$(basename "$(va_enc d/empty)")")"
va_repair cuts 7

# --- 6. blocks from before an O_TRUNC or a truncate to 0 spliced in --------------------------
va_new splice
vl_mount || bail "mount"
fill a $((3 * B)) >"$MNT/f" && fill a $((3 * B)) >"$MNT/g"
setfattr -n user.note -v kept "$MNT/f" 2>/dev/null
vl_umount
cf=$(va_enc f)
cg=$(va_enc g)
cp "$cf" "$S/f.old" && cp "$cg" "$S/g.old"
vl_mount || bail "mount"
fill b $((3 * B)) >"$MNT/f" # O_TRUNC
python3 -c 'import os, sys
os.truncate(sys.argv[1], 0)
with open(sys.argv[1], "r+b") as f: f.write(b"c" * int(sys.argv[2]))' "$MNT/g" $((3 * B))
vl_umount
nok "splice: open(O_TRUNC) drew a new file ID" test "$(fileid "$S/f.old")" = "$(fileid "$cf")"
nok "splice: truncate to 0 drew a new file ID" test "$(fileid "$S/g.old")" = "$(fileid "$cg")"
splice "$S/f.old" "$(off 1)" "$cf" "$(off 1)" $BS # an old middle block
splice "$S/g.old" "$(off 2)" "$cg" "$(off 2)" $BS # the old final block
va_mount splice
is "splice: the extended attribute was sealed again under the new ID" kept \
	"$(getfattr --absolute-names --only-values -n user.note "$MNT/f" 2>&1)"
is "splice: a block from before O_TRUNC fails (EIO)" EIO "$(blk "$MNT/f" 1)"
is "splice: ... the blocks around it read the new contents" "$(md5blk b) $(md5blk b)" "$(blk "$MNT/f" 0) $(blk "$MNT/f" 2)"
is "splice: the final block from before a truncate to 0 fails (EIO)" EIO "$(blk "$MNT/g" 2)"
is "splice: ... block 0 reads the new contents" "$(md5blk c)" "$(blk "$MNT/g" 0)"
va_umount splice
is "splice: one log line names f" 1 "$(logged splice "$cf")"
is "splice: one log line names g" 1 "$(logged splice "$cg")"
va_check splice-views "f|?||ERR" "g|?||ERR"
va_fsck splice
is "splice: fsck exits 7" 7 "$VA_RC"
va_finding "splice: fsck names block 1 of f" splice "$cf" "block 1 fails"
va_finding "splice: fsck names block 2 of g" splice "$cg" "block 2 fails"
va_repair splice 7

# --- 7. two entries swapped within one directory (FORMAT.md §7: possible for two short-named
# files or two object files; detected for long names and for a file swapped with an object) --
va_new swap
ok "swap: FORMAT.md §7 says two short-named files (or two objects) of one directory can be exchanged" \
	grep -q 'exchange the contents of two whole short-named files (or two object files) of one directory' \
	"$TOP_SRCDIR/docs/FORMAT.md"
ok "swap: FORMAT.md §7 says a swap involving a long-named entry, or a file and an object, is detected" \
	sh -c 'tr "\n" " " <"$1" | grep -q "a swap involving one is detected (EIO, fsck), and so is a regular file swapped with an *object file"' \
	- "$TOP_SRCDIR/docs/FORMAT.md"
vl_mount || bail "mount"
va_put "$MNT/a" "contents of a" && va_put "$MNT/b" "contents of b, longer"
va_put "$MNT/$LF" "long one" && va_put "$MNT/$LF2" "long two"
va_put "$MNT/c" "a regular file" && ln -s a-target "$MNT/s"
ln -s first-target "$MNT/s1" && ln -s second-target-longer "$MNT/s2"
vl_umount
xswap() { mv "$1" "$S/swap.tmp" && mv "$2" "$1" && mv "$S/swap.tmp" "$2"; }
xswap "$(va_enc a)" "$(va_enc b)"
cl=$(va_enc "$LF")
cl2=$(va_enc "$LF2")
xswap "$cl" "$cl2"
cc=$(va_enc c)
cs=$(va_enc s)
xswap "$cc" "$cs"
xswap "$(va_enc s1)" "$(va_enc s2)"
va_mount swap
is "swap: a reads b's contents, without an error" "contents of b, longer" "$(cat "$MNT/a" 2>&1)"
is "swap: b reads a's contents, without an error" "contents of a" "$(cat "$MNT/b" 2>&1)"
is "swap: two symlinks swapped show each other's target, without an error" "second-target-longer first-target" \
	"$(readlink "$MNT/s1" 2>&1) $(readlink "$MNT/s2" 2>&1)"
is "swap: long-named files swapped: the first reads EIO (its header keeps its name)" EIO "$(va_eio "$MNT/$LF")"
is "swap: ... the second too" EIO "$(va_eio "$MNT/$LF2")"
is "swap: a file and a symlink swapped: the file's name reads EIO" EIO "$(va_eio "$MNT/c")"
is "swap: ... the symlink's name too" EIO "$(va_eio "$MNT/s")"
va_umount swap
va_check swap-views "$(va_line a "contents of b, longer")" "$(va_line b "contents of a")" "c|?||ERR" \
	"s|?||ERR" "s1|l|20|second-target-longer" "s2|l|12|first-target"
va_hasnt "swap: the mount lists neither long-named file (each header keeps the other's name)" "$S/swap-views.mnt" "$LFB"
va_hasnt "swap: veilctl lists neither" "$S/swap-views.ctl" "$LFB"
va_fsck swap
is "swap: fsck exits 7" 7 "$VA_RC"
is "swap: fsck cannot see the swap of two short-named files or two symlinks (as §7 says)" 0 \
	"$(grep -c -e "$(basename "$(va_enc a)")" -e "$(basename "$(va_enc b)")" -e "$(basename "$(va_enc s1)")" \
		-e "$(basename "$(va_enc s2)")" "$S/swap.fsck")"
va_finding "swap: fsck: the first long-named file" swap "$cl" "not its own name|another entry"
va_finding "swap: fsck: the second long-named file" swap "$cl2" "not its own name|another entry"
va_finding "swap: fsck: the file under the symlink's name" swap "$cs" "says it is"
va_finding "swap: fsck: the symlink under the file's name" swap "$cc" "says it is"
va_repair swap 7

# --- 8. rollbacks: a block rewritten in place (accepted, §7), and nothing more ---------------
va_new rollback
vl_mount || bail "mount"
for n in f f2 h; do fill a $((3 * B)) >"$MNT/$n"; done
fill a $((2 * B)) >"$MNT/g"
vl_umount
for n in f f2 g h; do cp "$(va_enc $n)" "$S/$n.old"; done
vl_mount || bail "mount"
for n in f f2 h; do fill b $B | dd of="$MNT/$n" bs=$B seek=1 conv=notrunc status=none; done
fill b $B >>"$MNT/g" # g grows: its old final block is no longer final
vl_umount
cf=$(va_enc f)
ok "rollback: an in-place write keeps the file ID" test "$(fileid "$S/f.old")" = "$(fileid "$cf")"
splice "$S/f.old" "$(off 1)" "$cf" "$(off 1)" $BS           # old block 1 at index 1
splice "$S/f2.old" "$(off 1)" "$(va_enc f2)" "$(off 2)" $BS  # old block 1 at index 2
splice "$S/g.old" "$(off 1)" "$(va_enc g)" "$(off 1)" $BS    # old final block 1, now not final
cp -p "$S/h.old" "$(va_enc h)"                              # the whole file rolled back
va_mount rollback
is "rollback: an old version of a block rewritten in place reads back without an error (§7)" \
	"$(md5blk a) $(md5blk a) $(md5blk a)" "$(blk "$MNT/f" 0) $(blk "$MNT/f" 1) $(blk "$MNT/f" 2)"
is "rollback: the old block at another index fails (EIO)" EIO "$(blk "$MNT/f2" 2)"
is "rollback: the old final block where the file has grown fails (EIO)" EIO "$(blk "$MNT/g" 1)"
is "rollback: a whole file rolled back reads its old version (§7)" "$(md5blk a)" "$(blk "$MNT/h" 1)"
va_umount rollback
va_check rollback-views "f|f|$((3 * B))|$(fill a $((3 * B)) | md5sum | cut -d' ' -f1)" "f2|?||ERR" "g|?||ERR" \
	"h|f|$((3 * B))|$(fill a $((3 * B)) | md5sum | cut -d' ' -f1)"
va_fsck rollback
is "rollback: fsck exits 7 (the misplaced blocks)" 7 "$VA_RC"
is "rollback: fsck cannot see the rolled-back block (the accepted residual risk)" 0 "$(va_count "$S/rollback.fsck" "$(basename "$cf")")"
va_finding "rollback: fsck: the old block at another index" rollback "$(va_enc f2)" "block 2 fails"
va_finding "rollback: fsck: the old final block" rollback "$(va_enc g)" "block 1 fails"
va_repair rollback 7

# --- 8b. §7: what the storage side can do to a directory and to names ------------------------
# It can hide a directory's entries by deleting its ID file and every child written since its
# last rename (the rest carry tokens of the old place); deleting the ID file alone hides
# nothing. And it can choose conflict-copy texts, which veilctl conflicts lists.
va_new stale
vl_mount || bail "mount"
mkdir "$MNT/X" && va_put "$MNT/X/a1" "written before the rename" && mv "$MNT/X" "$MNT/Y" &&
	va_put "$MNT/Y/a2" "written after the rename" && va_put "$MNT/README" "read me"
vl_umount
cy=$(va_enc Y)
ca1=$(va_enc Y/a1)
ca2=$(va_enc Y/a2)
rm -f "$cy/veilfs.dirid"
va_check stale-idfile "$(va_line Y/a1 "written before the rename")" "$(va_line Y/a2 "written after the rename")"
rm "$ca2"
cr=$(va_enc README)
mv "$cr" "$cr.desktop"
va_mount stale
is "stale: with the ID file and the newer child gone, the older child is hidden" "" "$(ls "$MNT/Y" 2>&1)"
is "stale: ... and not found by a lookup" ENOENT "$(vl_errno "os.stat('$MNT/Y/a1')")"
is "stale: a text appended to a ciphertext name shows the entry under another name" \
	"read me" "$(cat "$MNT/README.desktop" 2>&1)"
va_umount stale
va_ctl stale
va_hasnt "stale: the hidden child is not shown anywhere" "$S/stale.mnt" "a1|"
"$VEILCTL" --passfile "$PASSFILE" conflicts "$CIPHER" </dev/null >"$S/conflicts.out" 2>&1
is "stale: veilctl conflicts exits 7 (a copy remains)" 7 "$?"
is "stale: veilctl conflicts lists the renamed entry with its original name" \
	"$(printf '/README\t/README.desktop\t(no entry has the original name)')" "$(grep -F README "$S/conflicts.out")"
va_fsck stale
is "stale: fsck exits 7" 7 "$VA_RC"
va_finding "stale: fsck reports the hidden child" stale "$ca1" "does not decrypt"
va_repair stale 7

# --- 9. §7: the storage side cannot read names, contents, targets or xattrs; nor weaken the KDF
va_new secrets
vl_mount || bail "mount"
mkdir "$MNT/SECRETDIR1"
va_put "$MNT/SECRETDIR1/SECRETNAME1" "SECRETCONTENT1"
ln -s SECRETTARGET1 "$MNT/SECRETDIR1/SECRETLINK1"
setfattr -n user.SECRETXATTR1 -v SECRETVALUE1 "$MNT/SECRETDIR1/SECRETNAME1"
va_put "$MNT/$LF" "SECRETCONTENT2"
vl_umount
is "secrets: no ciphertext name holds a plaintext name" "" "$(find "$CIPHER" | grep -e SECRET -e fffff)"
nok "secrets: no ciphertext file holds plaintext" grep -raq SECRET "$CIPHER"
nok "secrets: no backing extended attribute holds plaintext" \
	sh -c 'getfattr -R -d -m - "$1" 2>/dev/null | grep -q SECRET' - "$CIPHER"
# §7: the storage side controls metadata (a setuid bit on a ciphertext shows through the
# mount), and veilfs mounts nosuid,nodev so that this gives nothing.
chmod 4755 "$(va_enc SECRETDIR1/SECRETNAME1)"
vl_mount || bail "mount"
is "secrets: a mode set on the ciphertext shows through the mount (the storage controls metadata)" 4755 \
	"$(stat -c %a "$MNT/SECRETDIR1/SECRETNAME1")"
o=,$(findmnt -no OPTIONS "$MNT"),
ok "secrets: the mount is nosuid and nodev" test "${o#*,nosuid,}" != "$o" -a "${o#*,nodev,}" != "$o"
vl_umount
# The KDF cost edited in the config: below the minimum, the config is refused (exit 4); any
# other edit fails the key unwrapping, which authenticates every line (exit 3).
cp "$CIPHER/veilfs.conf" "$S/conf.orig"
for x in 15:4 17:3; do
	sed -i "s/^scrypt_log2_n = 16\$/scrypt_log2_n = ${x%:*}/" "$CIPHER/veilfs.conf"
	vl_mounts+=("$MNT")
	"$VEILFS" --passfile "$PASSFILE" "$CIPHER" "$MNT" </dev/null >"$S/edit.out" 2>&1
	is "secrets: the mount refuses a config edited to scrypt_log2_n = ${x%:*} (exit ${x#*:})" "${x#*:}" "$?"
	vl_umount
	cp -f "$S/conf.orig" "$CIPHER/veilfs.conf"
done

done_testing
