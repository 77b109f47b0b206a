#!/usr/bin/env bash
# The golden vaults of format versions 1 and 2 (tests/golden/v1 and v2, password "golden",
# made by tests/golden/make-golden.sh and make-v2.sh) must be readable by every later
# version, through veilctl (export, ls and cat) and through a mount, with exactly the
# plaintext recorded in tests/golden/v1.expect and v2.expect, and fsck must find nothing.
. "$(dirname "$0")/lib.sh"
vl_setup
gold=$TOP_SRCDIR/tests/golden
printf 'golden\n' >"$PASSFILE"

# golden VERSION FORMAT: every check of one golden tree.
golden() {
	local v=$1 fmt=$2 c=$VL_TMP/$1 man=$VL_TMP/$1.manifest exp=$VL_TMP/$1.expect before after
	cp -R "$gold/$v" "$c" && chmod -R u+w "$c"
	# Git keeps neither the backing xattrs nor the hard links: put them back (make-v2.sh).
	if [ -f "$gold/$v.xattrs" ]; then
		ok "$v: backing xattrs restored" sh -c 'cd "$1" && setfattr --restore="$2"' sh "$c" "$gold/$v.xattrs"
	fi
	if [ -f "$gold/$v.links" ]; then
		ok "$v: backing hard links restored" sh -c 'cd "$1" && while read -r a b; do ln -f "$a" "$b" || exit 1; done <"$2"' \
			sh "$c" "$gold/$v.links"
	fi
	# What veilctl can show: everything but link counts and xattrs (the n and x lines).
	grep -v '^[nx] ' "$gold/$v.expect" >"$exp"
	is "$v: the vault is format $fmt" "$fmt" "$(vl_format "$c")"

	"$VEILCTL" fsck --passfile "$PASSFILE" "$c" </dev/null >"$VL_TMP/$v.fsck" 2>&1
	is "$v: fsck of the golden vault finds nothing" 0 $?

	"$VEILCTL" export --passfile "$PASSFILE" "$c" "$VL_TMP/$v.export" </dev/null >/dev/null 2>"$VL_TMP/$v.export.err"
	is "$v: veilctl export of the golden vault succeeds" 0 $?
	"$gold/manifest.sh" "$VL_TMP/$v.export" >"$man.export"
	ok "$v: exported plaintext equals $v.expect" diff -u "$exp" "$man.export"

	"$gold/ctl-manifest.sh" "$VEILCTL" "$PASSFILE" "$c" >"$man.ctl" 2>"$VL_TMP/$v.ctl.err"
	is "$v: veilctl ls and cat of every entry succeed" 0 $?
	ok "$v: plaintext by veilctl ls and cat equals $v.expect" diff -u "$exp" "$man.ctl"

	before=$(cd "$c" && find . -type f -exec sha256sum {} + | LC_ALL=C sort)
	ok "$v: read-only mount of the golden vault" vl_mount_at "$c" "$MNT" -o ro
	"$gold/manifest.sh" -x "$MNT" >"$man.mount"
	ok "$v: mounted plaintext, link counts and xattrs equal $v.expect" diff -u "$gold/$v.expect" "$man.mount"
	is "$v: readlink of a 1000-byte target" 1000 "$(readlink "$MNT/long-target-link" | tr -d '\n' | wc -c)"
	ok "$v: fifo is a fifo" test -p "$MNT/fifo"
	vl_umount
	after=$(cd "$c" && find . -type f -exec sha256sum {} + | LC_ALL=C sort)
	is "$v: a read-only mount wrote nothing" "$before" "$after"

	ok "$v: read-write mount of the golden vault" vl_mount_at "$c" "$MNT"
	printf 'new\n' >>"$MNT/three-blocks" && printf 'new file\n' >"$MNT/dir/new"
	ok "$v: appending to a golden file keeps its old contents" \
		cmp -n 11393 "$MNT/three-blocks" "$VL_TMP/$v.export/three-blocks"
	is "$v: a new file in a golden directory" "new file" "$(cat "$MNT/dir/new")"
	vl_umount
}

golden v1 1

golden v2 2
# Format 2 only (docs/FORMAT.md §3.2, §4.4): an empty file is its header and an empty final
# block, and no format-1 sidecar (9...) is left anywhere.
c=$VL_TMP/v2
e=$("$VEILCTL" encrypt-path --passfile "$PASSFILE" "$c" empty </dev/null)
is "v2: the empty file's ciphertext is 100 bytes" 100 "$(stat -c %s "$c/$e" 2>&1)"
is "v2: no format-1 sidecar in the tree" "" "$(cd "$c" && find . -name '9*')"
ok "v2: read-write mount again" vl_mount_at "$c" "$MNT"
printf 'more\n' >>"$MNT/links/first"
is "v2: a write through one link shows through the other" "$(printf 'linked\nmore')" "$(cat "$MNT/links/second")"
mv "$MNT/to/moved-file" "$MNT/from/moved-back" && mv "$MNT/dir/renamed-sub" "$MNT/nest/sub-moved"
is "v2: a golden file moved back across directories reads" "moved file" "$(cat "$MNT/from/moved-back")"
is "v2: a golden directory moved into another reads" "deep" "$(cat "$MNT/nest/sub-moved/deep.txt")"
vl_umount
"$VEILCTL" fsck --passfile "$PASSFILE" "$c" </dev/null >"$VL_TMP/v2.fsck2" 2>&1
is "v2: fsck after writes through the mount finds nothing" 0 $?

printf 'not golden\n' >"$VL_TMP/wrong"
for v in v1 v2; do
	"$VEILCTL" ls --passfile "$VL_TMP/wrong" "$VL_TMP/$v" </dev/null >/dev/null 2>&1
	is "$v: a wrong password is refused with exit status 3" 3 $?
done
done_testing
