#!/usr/bin/env bash
# t10-veilctl-fsck: veilctl fsck on a clean format-1 vault and after each kind of planted damage:
# the exit status (0 clean, 7 problems remain, 8 all repaired), the finding naming the
# ciphertext path, and --repair fixing only the safe cases. Trees are built with veilctl
# import (no mount).
. "$(dirname "$0")/lib.sh"
vl_setup
# Format 1's findings (sidecars, 24-byte headers, torn headers); format 2's: t15-fsck-v2.sh.
VL_INIT_FORMAT=1 vl_init || bail "veilctl init failed: $(cat "$VL_TMP/init.out")"
P=(--passfile "$PASSFILE")
B=4096
S=$((B + 28))

SRC=$VL_TMP/src
LONG=$(printf 'l%.0s' $(seq 1 200))
mkdir -p "$SRC/t/sub" "$SRC/t/dir2"
head -c $((B * 5 + 100)) /dev/urandom >"$SRC/t/multi"
echo small >"$SRC/t/small"
echo other >"$SRC/t/sub/other"
echo long >"$SRC/t/$LONG"
ln -s small "$SRC/t/link"
"$VEILCTL" import "${P[@]}" "$CIPHER" "$SRC/t" </dev/null 2>"$VL_TMP/err" || bail "import failed: $(cat "$VL_TMP/err")"

run() {
	out=$("$@" </dev/null 2>&1)
	rc=$?
}
has() { grep -qF -- "$1" <<<"$out"; }
# enc PLAINPATH: the ciphertext path relative to the vault
enc() { "$VEILCTL" encrypt-path "${P[@]}" "$CIPHER" "$1" </dev/null | head -n 1; }
# fresh NAME: a copy of the clean vault in $V
fresh() {
	V=$VL_TMP/$1
	rm -rf "$V"
	cp -a "$CIPHER" "$V"
}
fsck() { run "$VEILCTL" fsck "${P[@]}" "$@"; [ -n "${SHOW:-}" ] && printf "%s\n" "$out" | sed "s|^|# |" ; }

MULTI=$(enc t/multi)
SMALL=$(enc t/small)
SUB=$(enc t/sub)
LONGE=$(enc "t/$LONG")
LONGSIDE=$("$VEILCTL" encrypt-path "${P[@]}" "$CIPHER" "t/$LONG" </dev/null | sed -n 's/^sidecar: //p')
ok "encrypt-path gave the paths" test -f "$CIPHER/$MULTI" -a -f "$CIPHER/$SMALL" -a -d "$CIPHER/$SUB" -a -f "$CIPHER/$LONGE" -a -f "$CIPHER/$LONGSIDE"

fsck "$CIPHER"
is "fsck of a clean vault exits 0" 0 "$rc"
ok "and reports no problem" has "0 problems"

# flipped byte in block 1
fresh flip
printf '\x55' | dd of="$V/$MULTI" bs=1 seek=$((24 + S + 40)) conv=notrunc status=none
fsck "$V"
is "flipped block byte: exit 7" 7 "$rc"
ok "names the ciphertext path" has "$MULTI"
ok "names the plaintext path" has "[/t/multi]"
ok "names block 1" has "block 1 fails"

# cut at a block boundary
fresh cut
truncate -s $((24 + 2 * S)) "$V/$MULTI"
fsck "$V"
is "truncated at a block boundary: exit 7" 7 "$rc"
ok "says truncated at a block boundary" has "truncated at a block boundary"
ok "names the file" has "$MULTI"

# half-synced: size inside a block's overhead, and inside the data
fresh half
truncate -s $((24 + 2 * S + 10)) "$V/$MULTI"
fsck "$V"
is "size ending inside a nonce: exit 7" 7 "$rc"
ok "says the size is impossible" has "cut short or is half synced"
ok "names the file" has "$MULTI"
fresh half2
truncate -s $((24 + 2 * S + 500)) "$V/$MULTI"
fsck "$V"
is "size ending inside a block's data: exit 7" 7 "$rc"
ok "the torn last block fails" grep -qF "$MULTI [/t/multi]: block 2 fails" <<<"$out"

# torn header, repaired
fresh torn
truncate -s 10 "$V/$SMALL"
fsck "$V"
is "torn header: exit 7" 7 "$rc"
ok "says torn header" has "torn header"
ok "names the file" has "$SMALL"
fsck --repair "$V"
is "fsck --repair of a torn header: exit 8" 8 "$rc"
is "the torn header was truncated to 0" 0 "$(stat -c %s "$V/$SMALL")"
fsck "$V"
is "then fsck exits 0" 0 "$rc"

# missing veilfs.dirid, repaired
fresh dirid
rm -f "$V/$SUB/veilfs.dirid"
fsck "$V"
is "missing veilfs.dirid: exit 7" 7 "$rc"
ok "names the directory" has "$SUB [/t/sub]: veilfs.dirid is missing"
fsck --repair "$V"
is "fsck --repair re-creates it: exit 8" 8 "$rc"
ok "and says it is right only if never renamed" has "never renamed"
ok "the re-created ID file is the original" cmp -s "$CIPHER/$SUB/veilfs.dirid" "$V/$SUB/veilfs.dirid"
fsck "$V"
is "a second fsck exits 0" 0 "$rc"
run "$VEILCTL" cat "${P[@]}" "$V" t/sub/other
is "the directory's file reads again" "other" "$out"

# malformed veilfs.dirid: reported, not repaired
fresh baddirid
chmod u+w "$V/$SUB/veilfs.dirid"
printf 'xx' >"$V/$SUB/veilfs.dirid"
fsck --repair "$V"
is "malformed veilfs.dirid: exit 7 even with --repair" 7 "$rc"
ok "says malformed" has "veilfs.dirid is malformed"

# orphan sidecar, repaired
fresh orphan
ORPH=$("$VEILCTL" encrypt-path "${P[@]}" "$V" "t/${LONG}x" </dev/null | sed -n 's/^sidecar: //p')
ok "encrypt-path names a sidecar for a new long name" test -n "$ORPH"
cp "$V/$LONGSIDE" "$V/$ORPH"
fsck "$V"
is "orphan sidecar: exit 7" 7 "$rc"
ok "names the sidecar" has "$ORPH"
ok "says orphan" has "orphan sidecar"
fsck --repair "$V"
is "fsck --repair removes it: exit 8" 8 "$rc"
ok "the orphan is gone" test ! -e "$V/$ORPH"
ok "the real sidecar stays" test -f "$V/$LONGSIDE"
fsck "$V"
is "then fsck exits 0" 0 "$rc"

# long name whose sidecar is missing
fresh noside
rm -f "$V/$LONGSIDE"
fsck --repair "$V"
is "long name without sidecar: exit 7 (not repairable)" 7 "$rc"
ok "names the entry" has "$LONGE"
ok "says the sidecar is missing" has "without its sidecar"
ok "the entry is not deleted" test -f "$V/$LONGE"

# undecryptable name: an entry moved into another directory
fresh moved
mv "$V/$SMALL" "$V/$SUB/"
fsck "$V"
is "undecryptable name: exit 7" 7 "$rc"
ok "names the ciphertext path" has "$SUB/$(basename "$SMALL")"
ok "says it does not decrypt" has "does not decrypt"

# foreign files and conflict copies are notes only
fresh notes
echo x >"$V/.DS_Store"
cp "$V/$SMALL" "$V/$SMALL (conflicted copy 2025-02-10)"
fsck "$V"
is "foreign file and conflict copy: exit 0" 0 "$rc"
ok "the conflict copy is named with its plaintext" has "conflict copy of /t/small"
ok "the foreign file is a note" grep -q '^info: .DS_Store' <<<"$out"

# corrupt symlink object
fresh obj
LINK=$(enc t/link)
printf '\x01' | dd of="$V/$LINK" bs=1 seek=30 conv=notrunc status=none
fsck "$V"
is "corrupt symlink object: exit 7" 7 "$rc"
ok "names it" has "$LINK"

# an extended attribute that does not decrypt
fresh xattr
if python3 -c "import os,sys; os.setxattr(sys.argv[1], 'user.veilfs.aaaaaaaaaaaaaaaaaaaaaaaaaa', b'x')" "$V/$SMALL" 2>/dev/null; then
	fsck "$V"
	is "undecryptable xattr name: exit 7" 7 "$rc"
	ok "names the file and the attribute" has "$SMALL [/t/small]: extended attribute user.veilfs.aaaa"
else
	skip_test "undecryptable xattr name" "no user xattrs on $VL_TMP"
fi

# --quiet prints only problems
fsck --quiet "$CIPHER"
is "fsck --quiet on a clean vault prints nothing" "" "$out"

done_testing
