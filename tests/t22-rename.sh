#!/usr/bin/env bash
# t22-rename: rename across directories, over existing files, RENAME_NOREPLACE and
# RENAME_EXCHANGE, directory renames, and long-name renames (sidecars follow, none orphaned).
. "$(dirname "$0")/lib.sh"
vl_setup
vl_have python3 || skip_all "python3 is needed (renameat2 through ctypes)"
vl_init || bail "veilctl init failed: $(cat "$VL_TMP/init.out")"
vl_mount || bail "veilfs did not mount"

# renameat2 OLD NEW FLAGS: prints OK or the errno name. 1 = NOREPLACE, 2 = EXCHANGE.
renameat2() {
	python3 -c 'import ctypes, errno, os, sys
libc = ctypes.CDLL(None, use_errno=True)
f = libc.renameat2
f.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
r = f(-100, os.fsencode(sys.argv[1]), -100, os.fsencode(sys.argv[2]), int(sys.argv[3]))
print("OK" if r == 0 else errno.errorcode[ctypes.get_errno()])' "$1" "$2" "$3"
}
# orphans: ciphertext long-name entries (8...) without a sidecar (9...) and sidecars without
# an entry, one per line. Empty when consistent.
# Format 2 has no sidecars: any 9... name is left over.
orphans() {
	local f b
	if [ "$(vl_format)" != 1 ]; then
		find "$CIPHER" -name '9*' | sed 's/^/sidecar in a format-2 vault: /'
		return
	fi
	find "$CIPHER" -name '[89]*' | while IFS= read -r f; do
		b=${f##*/}
		case $b in
		8*) [ -e "${f%/*}/9${b#8}" ] || echo "entry without sidecar: $f" ;;
		9*) [ -e "${f%/*}/8${b#9}" ] || echo "sidecar without entry: $f" ;;
		esac
	done
}
count() { find "$CIPHER" -name "$1" | wc -l; }
# longs: "ENTRIES SIDECARS" of long names; a format-2 long name has no sidecar.
longs() { if [ "$(vl_format)" = 1 ]; then echo "$1 $1"; else echo "$1 0"; fi; }
V1=0
[ "$(vl_format)" = 1 ] && V1=1
long() { printf "%s%0*d" "$1" $((${2:-240} - ${#1})) 0; } # long PREFIX [LEN]: a LEN-byte name

cd "$MNT" || bail "cd"
mkdir a b
printf one >a/f1
printf two >a/f2
printf three >b/f3

# --- plain renames
ok "rename within a directory" mv a/f1 a/g1
is "renamed file has its content" one "$(cat a/g1)"
nok "old name is gone" test -e a/f1
ok "rename across directories" mv a/g1 b/g1
is "moved file has its content" one "$(cat b/g1)"
nok "old name in the source directory is gone" test -e a/g1
ino=$(stat -c %i b/f3)
ok "rename over an existing file" mv -f a/f2 b/f3
is "target has the source's content" two "$(cat b/f3)"
nok "source name is gone" test -e a/f2
is "listing after rename over" "f3 g1" "$(ls b | tr '\n' ' ' | sed 's/ $//')"
is "rename to the same name is a no-op" OK "$(vl_errno "os.rename('$MNT/b/f3', '$MNT/b/f3')")"
is "content after self-rename" two "$(cat b/f3)"
is "rename of a missing name fails with ENOENT" ENOENT "$(vl_errno "os.rename('$MNT/b/none', '$MNT/b/x')")"
is "rename of a file over a directory fails with EISDIR" EISDIR "$(vl_errno "os.rename('$MNT/b/f3', '$MNT/a')")"
# An open file keeps working across its rename.
exec 7<>b/f3
mv b/f3 a/moved-open
printf Z >&7
exec 7>&-
is "a file open across its rename is written under the new name" "Zwo" "$(cat a/moved-open)"
# rename between two links of the same file does nothing (POSIX)
ln a/moved-open a/hl
is "rename between two hard links of one file succeeds" OK "$(vl_errno "os.rename('$MNT/a/moved-open', '$MNT/a/hl')")"
ok "and both names remain" test -e a/moved-open -a -e a/hl

# --- RENAME_NOREPLACE
printf src >a/nr1
printf dst >a/nr2
is "RENAME_NOREPLACE onto an existing name fails with EEXIST" EEXIST "$(renameat2 a/nr1 a/nr2 1)"
is "RENAME_NOREPLACE left the target alone" dst "$(cat a/nr2)"
is "RENAME_NOREPLACE left the source alone" src "$(cat a/nr1)"
is "RENAME_NOREPLACE onto a free name succeeds" OK "$(renameat2 a/nr1 b/nr3 1)"
is "RENAME_NOREPLACE moved the content" src "$(cat b/nr3)"

# --- RENAME_EXCHANGE
printf AAAA >a/x1
printf BB >b/x2
is "RENAME_EXCHANGE of two files in two directories" OK "$(renameat2 a/x1 b/x2 2)"
is "RENAME_EXCHANGE: first name has the second content" BB "$(cat a/x1)"
is "RENAME_EXCHANGE: second name has the first content" AAAA "$(cat b/x2)"
is "RENAME_EXCHANGE: sizes follow the contents" "2 4" "$(stat -c %s a/x1 b/x2 | tr '\n' ' ' | sed 's/ $//')"
mkdir a/xd
printf inside >a/xd/in
is "RENAME_EXCHANGE of a file and a directory" OK "$(renameat2 a/xd b/x2 2)"
ok "RENAME_EXCHANGE: the directory moved" test -d b/x2 -a -f a/xd
is "RENAME_EXCHANGE: the moved directory's child reads" inside "$(cat b/x2/in)"
is "RENAME_EXCHANGE with a missing name fails with ENOENT" ENOENT "$(renameat2 a/x1 a/missing 2)"

# --- directory renames keep their children readable
mkdir -p p/q/r
printf deep >p/q/r/f
printf mid >p/q/f
ok "directory rename" mv p p2
is "child of a renamed directory" mid "$(cat p2/q/f)"
is "grandchild of a renamed directory" deep "$(cat p2/q/r/f)"
ok "directory move into another directory" mv p2 a/p3
is "grandchild after the move" deep "$(cat a/p3/q/r/f)"
mkdir empty-target
ok "rename of a directory over an empty directory" mv -T a/p3 empty-target
is "content after rename over an empty directory" deep "$(cat empty-target/q/r/f)"
mkdir -p full/x
is "rename of a directory over a non-empty one fails with ENOTEMPTY" ENOTEMPTY \
	"$(vl_errno "os.rename('$MNT/empty-target', '$MNT/full')")"
is "rename of a directory into itself fails with EINVAL" EINVAL \
	"$(vl_errno "os.rename('$MNT/full', '$MNT/full/x/y')")"
printf new >empty-target/q/r/created-after
cd / || true
vl_remount || bail "remount failed"
cd "$MNT" || bail "cd"
is "after remount: grandchild of the renamed directory" deep "$(cat empty-target/q/r/f)"
is "after remount: a file created after the rename" new "$(cat empty-target/q/r/created-after)"
is "after remount: listing of the renamed tree" "created-after f f r" "$(cd empty-target/q && ls -R | grep -v '^$' | grep -v ':$' | sort | tr '\n' ' ' | sed 's/ $//')"

# --- long names: sidecars follow, none is left behind
mkdir L M
L1=$(long L1-)
L2=$(long L2- 255)
L3=$(long L3- 200)
printf long1 >"L/$L1"
is "a long name has an entry (and in format 1 a sidecar)" "$(longs 1)" "$(count '8*') $(count '9*')"
ok "long -> long rename in one directory" mv "L/$L1" "L/$L2"
is "content after long -> long rename" long1 "$(cat "L/$L2")"
is "no orphaned sidecar after long -> long rename" "" "$(orphans)"
is "still one long entry (and one sidecar)" "$(longs 1)" "$(count '8*') $(count '9*')"
ok "long -> short rename" mv "L/$L2" L/short
is "content after long -> short rename" long1 "$(cat L/short)"
is "long -> short removes the sidecar" "0 0" "$(count '8*') $(count '9*')"
ok "short -> long rename across directories" mv L/short "M/$L3"
is "content after short -> long rename" long1 "$(cat "M/$L3")"
is "no orphans after short -> long across directories" "" "$(orphans)"
printf other >"L/$L1"
ok "long name renamed over another long name" mv -f "M/$L3" "L/$L1"
is "content after long over long" long1 "$(cat "L/$L1")"
is "no orphans after long over long" "" "$(orphans)"
is "one long entry left" "$(longs 1)" "$(count '8*') $(count '9*')"
mkdir "L/$L2"
printf child >"L/$L2/c"
ok "long-named directory moved to another directory" mv "L/$L2" "M/$L2"
is "child of the moved long-named directory" child "$(cat "M/$L2/c")"
is "no orphans after moving a long-named directory" "" "$(orphans)"
printf x >"M/$L3"
if [ $V1 = 1 ]; then
	is "RENAME_EXCHANGE of two long names" OK "$(renameat2 "M/$L3" "L/$L1" 2)"
	is "RENAME_EXCHANGE of long names swapped the contents" "long1 x" "$(cat "M/$L3") $(cat "L/$L1")"
	is "no orphans after exchanging long names" "" "$(orphans)"
	printf s >M/s
	is "RENAME_EXCHANGE of a long and a short name" OK "$(renameat2 "M/$L3" M/s 2)"
	is "RENAME_EXCHANGE long/short swapped the contents" "long1 s" "$(cat M/s) $(cat "M/$L3")"
	is "no orphans after exchanging a long and a short name" "" "$(orphans)"
else
	# Format 2 keeps a long name in its file's header: an exchange would have to copy both
	# files, and is refused (FORMAT.md §3.5); mv falls back to copying on EXDEV.
	is "RENAME_EXCHANGE of two long names in two directories: EXDEV" EXDEV "$(renameat2 "M/$L3" "L/$L1" 2)"
	is "nothing moved" "x long1" "$(cat "M/$L3") $(cat "L/$L1")"
	printf s >M/s
	is "RENAME_EXCHANGE of a long and a short name: EXDEV" EXDEV "$(renameat2 "M/$L3" M/s 2)"
	is "nothing moved" "s x" "$(cat M/s) $(cat "M/$L3")"
	ok "rename of a long name over a short one (a copy)" mv -f "M/$L3" M/s2
	is "content after the copy" x "$(cat M/s2)"
	mv M/s2 "M/$L3"
	printf long1 >"M/$L3"
	printf s >M/s
	is "no sidecars" "" "$(orphans)"
fi
rm -f "L/$L1"
is "unlink of a long name removes its sidecar" "" "$(orphans)"
cd / || true
vl_remount || bail "remount failed"
cd "$MNT" || bail "cd"
is "after remount: long-named directory's child" child "$(cat "M/$L2/c")"
is "after remount: listing of M" "$(printf '%s\n' "$L2" "$L3" s | sort | tr '\n' ' ')" \
	"$(ls M | sort | tr '\n' ' ')"
is "after remount: no orphans" "" "$(orphans)"

cd / || true
vl_umount
done_testing
