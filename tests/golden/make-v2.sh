#!/usr/bin/env bash
# tests/golden/make-v2.sh VEILFS VEILCTL OUTDIR: how tests/golden/v2 was made (kept for the
# record, and to make a tree for a later format version the same way).
#
# Password: "golden" (scrypt N = 2^16). The same plaintext is written twice, into a plain
# directory (the reference) and through a real mount of a fresh format-2 vault made by
# `veilctl init`; the script fails unless the mount then shows exactly the reference, so the
# expected plaintext never comes from veilfs itself. Contents and names are fixed; IDs, nonces,
# salts and times are random or current on every run, so the committed tree is never remade
# byte for byte (run it again only for a new golden tree).
#
# Writes, next to OUTDIR (which must not exist):
#   OUTDIR            the ciphertext tree (commit it as tests/golden/v2)
#   OUTDIR.expect     tests/golden/manifest.sh -x of the reference (tests/golden/v2.expect)
#   OUTDIR.xattrs     the ciphertext's user.* extended attributes, as `getfattr --dump`
#                     writes them and `setfattr --restore` reads them (git keeps no xattrs)
#   OUTDIR.links      the ciphertext's hard links, one "PATH OTHERPATH" line per extra name
#                     (git stores each name as its own file)
# tests/t05-golden.sh restores the last two on its copy of the tree before reading it.
#
# What is in it (docs/FORMAT.md): short and long names of a file, a directory and a symlink
# (§4.4); an empty file, 1 byte, exactly 1 and 2 blocks, 1 block + 1 byte, 3 and 42 blocks
# (§3.2); a file emptied after it had contents (a new file ID, its xattr sealed again, §3.3)
# and one truncated; a directory renamed in its parent and directories (short- and
# long-named) and files (short- and long-named) moved to another directory (§3.5, §5.2); a
# hard link pair (§6); xattrs on files, a long-named file, a directory and the linked pair
# (§6); a fifo and symlinks (object files, §6), one with a 1000-byte target; nested
# directories; and unison's conflict copies (`NAME (conflict_on_DATE)`, §4.5) of a short- and
# of a long-named file, made the way unison makes them: the older version of the file's
# ciphertext kept under the copy's name next to the newer one.
set -euo pipefail
[ $# -eq 3 ] || {
	echo "usage: $0 VEILFS VEILCTL OUTDIR" >&2
	exit 2
}
VEILFS=$1 VEILCTL=$2 OUT=$3
if [ -e "$OUT" ] || [ -e "$OUT.expect" ]; then
	echo "make-v2.sh: $OUT or $OUT.expect exists; remove them first" >&2
	exit 1
fi
here=$(cd "$(dirname "$0")" && pwd)
abs() { case $1 in /*) echo "$1" ;; *) echo "$PWD/$1" ;; esac; }
VEILFS=$(abs "$VEILFS") VEILCTL=$(abs "$VEILCTL") OUT=$(abs "$OUT")
tmp=$(mktemp -d)
trap 'cd /; fusermount3 -u "$tmp/m" 2>/dev/null || true; rm -rf "$tmp"' EXIT
mkdir -p "$OUT" "$tmp/m" "$tmp/ref"
printf 'golden\n' >"$tmp/pass"
m=$tmp/m
ctl() { "$VEILCTL" --passfile "$tmp/pass" "$@" </dev/null; }
mnt() { "$VEILFS" --passfile "$tmp/pass" "$OUT" "$m" </dev/null; }
umnt() {
	cd /
	fusermount3 -u "$m"
}
rep() { printf "%${2}s" '' | tr ' ' "$1"; } # rep CHAR N: CHAR N times

lfile=$(rep L 251).txt   # long file name (§4.4: longer than name_max once encrypted)
ldir=$(rep D 200)        # long directory name
llink=$(rep S 230)       # long symlink name
lmove=$(rep M 180).txt   # long file name moved to another directory
lmdir=$(rep E 190)       # long directory name moved to another directory
lconf=$(rep C 146).txt   # long file name that gets a conflict copy (fits 255 with the text)
ctext=' (conflict_on_2026-12-06_03-11-21)' # unison 2.52 -copyonconflict

# fill DIR: the whole plaintext but the conflict copies, written with ordinary tools.
fill() {
	local d=$1
	: >"$d/empty"
	printf x >"$d/one-byte"
	head -c 4096 /dev/zero | tr '\0' a >"$d/block-exact"
	head -c 4097 /dev/zero | tr '\0' b >"$d/block-plus-one"
	head -c 8192 /dev/zero | tr '\0' c >"$d/two-blocks-exact"
	seq 1 2500 >"$d/three-blocks"
	seq 1 30000 >"$d/multi-block"
	printf 'unicode\n' >"$d/ünïcödé ñame – 日本語.txt"
	printf 'long name\n' >"$d/$lfile"
	printf 'these bytes are gone\n' >"$d/emptied"
	setfattr -n user.kept -v 'sealed again under the new file ID' "$d/emptied"
	: >"$d/emptied"
	printf 'cut to the first three bytes\n' >"$d/truncated"
	truncate -s 3 "$d/truncated"
	printf 'renamed\n' >"$d/before"
	mv "$d/before" "$d/after"
	mkdir -p "$d/dir/sub" "$d/empty-dir" "$d/$ldir"
	printf 'deep\n' >"$d/dir/sub/deep.txt"
	mv "$d/dir/sub" "$d/dir/renamed-sub"
	printf 'in a long-named dir\n' >"$d/$ldir/inside"
	printf 'long in long\n' >"$d/$ldir/$lfile"
	ln -s dir/renamed-sub/deep.txt "$d/link"
	ln -s "$(rep t 1000)" "$d/long-target-link"
	ln -s one-byte "$d/$llink"
	mkfifo "$d/fifo"
	mkdir -p "$d/from/moved-dir/inner" "$d/from/$lmdir" "$d/to"
	printf 'moved with its directory\n' >"$d/from/moved-dir/inner/file"
	printf 'in a moved long-named dir\n' >"$d/from/$lmdir/x"
	printf 'moved file\n' >"$d/from/moved-file"
	printf 'moved long-named file\n' >"$d/from/$lmove"
	printf 'stays\n' >"$d/from/stays"
	mv "$d/from/moved-dir" "$d/to/moved-dir"
	mv "$d/from/$lmdir" "$d/to/$lmdir"
	mv "$d/from/moved-file" "$d/to/moved-file"
	mv "$d/from/$lmove" "$d/to/$lmove"
	mkdir "$d/links"
	printf 'linked\n' >"$d/links/first"
	ln "$d/links/first" "$d/links/second"
	setfattr -n user.comment -v 'golden xattr' "$d/one-byte"
	setfattr -n user.binary -v 0x00ff7f80 "$d/three-blocks"
	setfattr -n user.empty "$d/three-blocks"
	setfattr -n user.on-long -v long "$d/$lfile"
	setfattr -n user.dir -v 'on a directory' "$d/dir"
	setfattr -n user.linked -v 'both names' "$d/links/first"
	mkdir -p "$d/nest/a/b/c/d/e/f"
	printf 'mid\n' >"$d/nest/a/b/mid"
	printf 'leaf\n' >"$d/nest/a/b/c/d/e/f/leaf"
	printf 'version A\n' >"$d/report.txt"
	printf 'long version A\n' >"$d/$lconf"
}

"$VEILCTL" init --passfile "$tmp/pass" --scrypt-log2n 16 "$OUT" >/dev/null
grep -qx 'format = 2' "$OUT/veilfs.conf"
fill "$tmp/ref"
mnt
fill "$m"
umnt

# unison -copyonconflict: the losing side's file is kept as NAME (conflict_on_DATE) and the
# other side's version takes the name. Here: version A's ciphertext is kept, B is written
# through the mount (an O_TRUNC open: a new file ID), and A is put back under the copy's name.
enc() { ctl encrypt-path "$OUT" "$1"; }
er=$(enc report.txt)
el=$(enc "$lconf")
cp -p "$OUT/$er" "$tmp/report.A"
cp -p "$OUT/$el" "$tmp/long.A"
mnt
printf 'version B\n' >"$m/report.txt"
printf 'long version B\n' >"$m/$lconf"
umnt
cp -p "$tmp/report.A" "$OUT/$er$ctext"
cp -p "$tmp/long.A" "$OUT/$el$ctext"
printf 'version B\n' >"$tmp/ref/report.txt"
printf 'long version B\n' >"$tmp/ref/$lconf"
printf 'version A\n' >"$tmp/ref/report$ctext.txt"
printf 'long version A\n' >"$tmp/ref/${lconf%.txt}$ctext.txt"

"$here/manifest.sh" -x "$tmp/ref" >"$OUT.expect"
"$VEILFS" --passfile "$tmp/pass" -o ro "$OUT" "$m" </dev/null
"$here/manifest.sh" -x "$m" >"$tmp/mount.manifest"
umnt
if ! diff -u "$OUT.expect" "$tmp/mount.manifest" >&2; then
	echo "make-v2.sh: the mount does not show the reference tree (above)" >&2
	exit 1
fi
ctl fsck "$OUT" >/dev/null

# What git does not keep: xattrs and hard links of the ciphertext.
(cd "$OUT" && getfattr -R -h -d -m '^user\.' -e hex . 2>/dev/null) >"$OUT.xattrs"
(cd "$OUT" && find . -type f -links +1 -printf '%i %p\n' | LC_ALL=C sort -k1,1n -k2) |
	awk '$1 == ino { print first, $2; next } { ino = $1; first = $2 }' >"$OUT.links"
echo "make-v2.sh: wrote $OUT, $OUT.expect, $OUT.xattrs, $OUT.links" >&2
