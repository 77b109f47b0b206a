#!/usr/bin/env bash
# t10-veilctl-export: veilctl import of a tree, then ls, cat, export (compared byte for byte
# with the source, modes and mtimes included), export's refusal to overwrite, and
# encrypt-path / decrypt-path round trips including long names. No mount.
. "$(dirname "$0")/lib.sh"
vl_setup
vl_init || bail "veilctl init failed: $(cat "$VL_TMP/init.out")"
P=(--passfile "$PASSFILE")
run() {
	out=$("$@" </dev/null 2>&1)
	rc=$?
}
has() { grep -qF -- "$1" <<<"$out"; }

SRC=$VL_TMP/src/tree
# a 255-byte UTF-8 name: 127 two-byte characters and one more byte
U255=$(printf '\xc3\xa9%.0s' $(seq 1 127))x
# a long directory name (254 bytes)
D254=$(printf '\xc3\xa9%.0s' $(seq 1 126))dd
is "the UTF-8 name is 255 bytes" 255 "$(printf '%s' "$U255" | wc -c)"
mkdir -p "$SRC/sub/deeper" "$SRC/$D254"
: >"$SRC/empty"
head -c 100000 /dev/urandom >"$SRC/multi"
head -c 4096 /dev/urandom >"$SRC/sub/oneblock"
echo "long name" >"$SRC/$U255"
echo deep >"$SRC/$D254/inner"
echo "hello world" >"$SRC/sub/hello.txt"
ln -s ../multi "$SRC/sub/link"
ln -s "$(printf 't%.0s' $(seq 1 300))" "$SRC/longtarget"
chmod 0640 "$SRC/sub/hello.txt"
chmod 0750 "$SRC/sub/deeper"
touch -h -d '2021-03-04 05:06:07' "$SRC/multi" "$SRC/sub/link" "$SRC/empty"
mkfifo "$VL_TMP/src/fifo"

run "$VEILCTL" import "${P[@]}" "$CIPHER" "$SRC"
is "import of a tree exits 0" 0 "$rc"
run "$VEILCTL" import "${P[@]}" "$CIPHER" "$VL_TMP/src/fifo" tree/fifo
is "import of a fifo under another name exits 0" 0 "$rc"
run "$VEILCTL" import "${P[@]}" "$CIPHER" "$SRC/multi" tree
is "importing over an existing name fails" 1 "$rc"
ok "and says it exists" has "already exists"
nok "no plaintext name shows in the ciphertext" sh -c "find '$CIPHER' | grep -e multi -e hello -e tree"

run "$VEILCTL" ls "${P[@]}" "$CIPHER" tree
is "ls exits 0" 0 "$rc"
is "ls lists the names sorted" "$(printf '%s\n' empty fifo longtarget multi sub "$D254" "$U255")" "$out"
run "$VEILCTL" ls -l "${P[@]}" "$CIPHER" tree/sub
ok "ls -l shows the symlink target" has "link -> ../multi"
ok "ls -l shows the fifo" grep -q '^p.* fifo$' <<<"$("$VEILCTL" ls -l "${P[@]}" "$CIPHER" tree </dev/null)"
ok "ls -l shows the mode" grep -q '^-rw-r----- .* 12 .* hello.txt$' <<<"$out"
run "$VEILCTL" ls -R "${P[@]}" "$CIPHER"
ok "ls -R reaches the deepest file" has "inner"
run "$VEILCTL" ls "${P[@]}" "$CIPHER" tree/nothere
is "ls of a missing path exits 9" 9 "$rc"

run "$VEILCTL" cat "${P[@]}" "$CIPHER" tree/sub/hello.txt
is "cat prints the plaintext" "hello world" "$out"
"$VEILCTL" cat "${P[@]}" "$CIPHER" tree/multi </dev/null >"$VL_TMP/multi.out" 2>/dev/null
ok "cat of a multi-block file is byte-exact" cmp -s "$SRC/multi" "$VL_TMP/multi.out"
run "$VEILCTL" cat "${P[@]}" "$CIPHER" tree/sub
is "cat of a directory fails" 1 "$rc"

DEST=$VL_TMP/out
run "$VEILCTL" export "${P[@]}" "$CIPHER" tree "$DEST"
is "export exits 0" 0 "$rc"
ok "exported tree equals the source byte for byte (diff -r)" diff -r --no-dereference "$SRC" "$DEST" -x fifo
ok "the 255-byte UTF-8 name survives" cmp -s "$SRC/$U255" "$DEST/$U255"
ok "the empty file is empty" test -f "$DEST/empty" -a ! -s "$DEST/empty"
is "the symlink target is kept" "../multi" "$(readlink "$DEST/sub/link")"
is "the long symlink target is kept" "$(readlink "$SRC/longtarget")" "$(readlink "$DEST/longtarget")"
ok "the fifo is exported as a fifo" test -p "$DEST/fifo"
listing() { (cd "$1" && find . ! -name fifo ! -path . -printf '%P %y %m %s %TY-%Tm-%Td.%TT\n' | sort); }
is "modes, sizes and mtimes are kept" "$(listing "$SRC")" "$(listing "$DEST")"

run "$VEILCTL" export "${P[@]}" "$CIPHER" tree "$DEST"
is "export over existing files fails" 1 "$rc"
ok "and says to use --force" has "--force"
echo changed >"$DEST/sub/hello.txt"
run "$VEILCTL" export --force "${P[@]}" "$CIPHER" tree "$DEST"
is "export --force exits 0" 0 "$rc"
ok "and overwrote the file" cmp -s "$SRC/sub/hello.txt" "$DEST/sub/hello.txt"
run "$VEILCTL" export "${P[@]}" "$CIPHER" tree/sub/oneblock "$VL_TMP/single"
is "export of a single file exits 0" 0 "$rc"
ok "the single file is byte-exact" cmp -s "$SRC/sub/oneblock" "$VL_TMP/single"
echo bystander >"$VL_TMP/oneblock"
run "$VEILCTL" export --force "${P[@]}" "$CIPHER" tree/sub/oneblock "$VL_TMP/single2"
ok "exporting a file under another name leaves a same-named file alone" grep -qx bystander "$VL_TMP/oneblock"
ok "and writes the new name" cmp -s "$SRC/sub/oneblock" "$VL_TMP/single2"

# encrypt-path / decrypt-path
for p in tree tree/sub/hello.txt "tree/$U255" "tree/$D254/inner" tree/sub/link; do
	e=$("$VEILCTL" encrypt-path "${P[@]}" "$CIPHER" "$p" </dev/null | head -n 1)
	ok "encrypt-path of ${p:0:24}... names an existing ciphertext entry" test -e "$CIPHER/$e"
	d=$("$VEILCTL" decrypt-path "${P[@]}" "$CIPHER" "$e" </dev/null)
	is "decrypt-path round trip of ${p:0:24}..." "$p" "$d"
done
e=$("$VEILCTL" encrypt-path "${P[@]}" "$CIPHER" "tree/$U255" </dev/null)
ok "a long name is stored as 8..." grep -Eq '/8[a-z2-7]{52}$' <<<"$(head -n 1 <<<"$e")"
long=$(head -n 1 <<<"$e")
if [ "$(vl_format)" = 1 ]; then
	side=$(sed -n 's/^sidecar: //p' <<<"$e")
	ok "encrypt-path names its sidecar, which exists" test -f "$CIPHER/$side"
	d=$("$VEILCTL" decrypt-path "${P[@]}" "$CIPHER" "$CIPHER/$side" </dev/null)
	is "decrypt-path of the sidecar (with CIPHERDIR prefix)" "tree/$U255 (sidecar)" "$d"
else
	is "encrypt-path names no sidecar (format 2 keeps the name in the entry)" "" \
		"$(sed -n 's/^sidecar: //p' <<<"$e")"
	ok "and the long entry is a file of its own, with no 9... beside it" \
		test -f "$CIPHER/$long" -a -z "$(find "$CIPHER" -name '9*' -print -quit)"
	d=$("$VEILCTL" decrypt-path "${P[@]}" "$CIPHER" "$CIPHER/$long" </dev/null)
	is "decrypt-path of the long name (with CIPHERDIR prefix)" "tree/$U255" "$d"
fi
run "$VEILCTL" decrypt-path "${P[@]}" "$CIPHER" "$(dirname "$long")/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
is "decrypt-path of a name that does not decrypt fails" 1 "$rc"

done_testing
