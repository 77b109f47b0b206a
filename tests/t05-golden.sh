#!/usr/bin/env bash
# The golden vault of format version 1 (tests/golden/v1, password "golden", made by
# tests/golden/make-golden.sh) must be readable by every later version, through veilctl
# and through a mount, with exactly the plaintext recorded in tests/golden/v1.expect.
. "$(dirname "$0")/lib.sh"
vl_setup
gold=$TOP_SRCDIR/tests/golden
cp -R "$gold/v1" "$VL_TMP/v1" && chmod -R u+w "$VL_TMP/v1"
printf 'golden\n' >"$PASSFILE"
man=$VL_TMP/manifest

"$VEILCTL" fsck --passfile "$PASSFILE" "$VL_TMP/v1" </dev/null >"$VL_TMP/fsck.out" 2>&1
is "fsck of the golden vault finds nothing" 0 $?

"$VEILCTL" export --passfile "$PASSFILE" "$VL_TMP/v1" "$VL_TMP/export" </dev/null >/dev/null 2>"$VL_TMP/export.err"
is "veilctl export of the golden vault succeeds" 0 $?
"$gold/manifest.sh" "$VL_TMP/export" >"$man.export"
ok "exported plaintext equals v1.expect" diff -u "$gold/v1.expect" "$man.export"

before=$(cd "$VL_TMP/v1" && find . -type f -exec sha256sum {} + | LC_ALL=C sort)
ok "read-only mount of the golden vault" vl_mount_at "$VL_TMP/v1" "$MNT" -o ro
"$gold/manifest.sh" "$MNT" >"$man.mount"
ok "mounted plaintext equals v1.expect" diff -u "$gold/v1.expect" "$man.mount"
is "readlink of a 1000-byte target" 1000 "$(readlink "$MNT/long-target-link" | tr -d '\n' | wc -c)"
ok "fifo is a fifo" test -p "$MNT/fifo"
vl_umount
after=$(cd "$VL_TMP/v1" && find . -type f -exec sha256sum {} + | LC_ALL=C sort)
is "a read-only mount wrote nothing" "$before" "$after"

ok "read-write mount of the golden vault" vl_mount_at "$VL_TMP/v1" "$MNT"
printf 'new\n' >>"$MNT/three-blocks" && printf 'new file\n' >"$MNT/dir/new"
ok "appending to a golden file keeps its old contents" \
	cmp -n 11393 "$MNT/three-blocks" "$VL_TMP/export/three-blocks"
is "a new file in a golden directory" "new file" "$(cat "$MNT/dir/new")"
vl_umount

printf 'not golden\n' >"$VL_TMP/wrong"
"$VEILCTL" ls --passfile "$VL_TMP/wrong" "$VL_TMP/v1" </dev/null >/dev/null 2>&1
is "a wrong password is refused with exit status 3" 3 $?
done_testing
