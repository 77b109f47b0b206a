#!/usr/bin/env bash
# t20-basic: create, write, read, append, O_TRUNC, O_EXCL, write-only opens, empty files,
# sizes, mkdir/rmdir, unlink, readdir and names of every length. Every result is compared
# with the same operation on a plain directory ($REF).
. "$(dirname "$0")/lib.sh"
vl_setup
vl_have python3 || skip_all "python3 is needed"
vl_init || bail "veilctl init failed: $(cat "$VL_TMP/init.out")"
vl_mount || bail "veilfs did not mount"
REF=$VL_TMP/ref
mkdir -p "$REF"
B=$(vl_block_size)

# both SHELL-CODE: runs the code in the mount and in the reference directory.
both() {
	(cd "$MNT" && eval "$1") && (cd "$REF" && eval "$1")
}
same() { cmp -s "$MNT/$1" "$REF/$1"; }

head -c 300000 /dev/urandom >"$VL_TMP/rand"

# --- create, write, read
both 'printf "hello world\n" >a'
ok "create and write, read back" same a
both 'printf "more\n" >>a'
ok "append with O_APPEND (>>)" same a
both 'head -c 10000 "$VL_TMP/rand" >big && printf x >>big'
ok "append after 2 blocks" same big
# An O_APPEND fd positioned at 0 still writes at the end.
both 'python3 -c "import os; fd = os.open(\"a\", os.O_WRONLY | os.O_APPEND); os.lseek(fd, 0, 0); os.write(fd, b\"tail\"); os.close(fd)"'
ok "O_APPEND write ignores the file offset" same a

# --- O_TRUNC
both 'head -c 12345 "$VL_TMP/rand" >t && printf short >t'
ok "O_TRUNC replaces the content" same t
is "O_TRUNC size" 5 "$(stat -c %s "$MNT/t")"
both 'head -c 9000 "$VL_TMP/rand" >t0 && : >t0'
is "O_TRUNC to 0 gives size 0" 0 "$(stat -c %s "$MNT/t0")"
both 'printf again >>t0'
ok "write after truncation to 0" same t0

# --- O_EXCL
is "O_EXCL on an existing name fails with EEXIST" EEXIST \
	"$(vl_errno "os.open('$MNT/a', os.O_CREAT | os.O_EXCL | os.O_WRONLY)")"
is "O_EXCL on a new name succeeds" OK \
	"$(vl_errno "os.close(os.open('$MNT/excl', os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))")"
is "O_EXCL file has the requested mode" 600 "$(stat -c %a "$MNT/excl")"

# --- write-only opens: a partial-block write needs the old block.
both 'head -c 20000 "$VL_TMP/rand" >wo'
both 'printf ABCDEFG | dd of=wo bs=1 seek=4090 conv=notrunc status=none'
ok "O_WRONLY write straddling a block boundary" same wo
both 'printf Z | dd of=wo bs=1 seek=30000 conv=notrunc status=none'
ok "O_WRONLY write past EOF fills the gap with zeros" same wo
both 'python3 -c "import os; fd = os.open(\"wonly\", os.O_WRONLY | os.O_CREAT, 0o644); os.pwrite(fd, b\"x\" * 5000, 0); os.pwrite(fd, b\"y\", 4095); os.close(fd)"'
ok "O_WRONLY create, write, rewrite one byte" same wonly

# --- empty files: format 1, a 0-byte ciphertext; format 2, a header and an empty final block
ESZ=$(vl_csize 0)
nzero_before=$(find "$CIPHER" -type f -size "${ESZ}c" | wc -l)
: >"$MNT/empty"
nzero_after=$(find "$CIPHER" -type f -size "${ESZ}c" | wc -l)
is "an empty file is a $ESZ-byte ciphertext (format $(vl_format))" $((nzero_before + 1)) "$nzero_after"
is "empty file has size 0" 0 "$(stat -c %s "$MNT/empty")"
is "empty file reads nothing" 0 "$(wc -c <"$MNT/empty")"

# --- sizes: st_size exact, st_blocks counts plaintext, not ciphertext
sizes="1 $((B - 1)) $B $((B + 1)) $((3 * B)) 100000 1048576"
all_ok=0
for s in $sizes; do
	head -c "$s" /dev/zero | tr '\0' 'q' >"$MNT/size$s"
	[ "$(stat -c %s "$MNT/size$s")" = "$s" ] || {
		diag "size$s: st_size $(stat -c %s "$MNT/size$s")"
		all_ok=1
	}
done
ok "st_size is the plaintext size ($sizes)" [ $all_ok = 0 ]
vl_remount || bail "remount failed"
all_ok=0
for s in $sizes; do
	[ "$(stat -c %s "$MNT/size$s")" = "$s" ] || all_ok=1
done
ok "st_size is right after a remount (computed from the ciphertext size)" [ $all_ok = 0 ]
blocks=$(stat -c %b "$MNT/size1048576")
ok "st_blocks of 1 MiB: at least 2048 and not the ciphertext's 2063+ (got $blocks)" \
	test "$blocks" -ge 2048 -a "$blocks" -le 2056
blocks=$(stat -c %b "$MNT/size1")
ok "st_blocks of a 1-byte file is small (got $blocks)" test "$blocks" -ge 1 -a "$blocks" -le 8
is "st_blocks of an empty file is 0" 0 "$(stat -c %b "$MNT/empty")"

# --- mkdir, rmdir
mkdir "$MNT/d"
ok "mkdir makes a directory" test -d "$MNT/d"
is "a new directory has 2 links" 2 "$(stat -c %h "$MNT/d")"
mkdir "$MNT/d/sub"
is "a subdirectory adds a link to its parent" 3 "$(stat -c %h "$MNT/d")"
touch "$MNT/d/sub/f"
is "rmdir of a non-empty directory fails with ENOTEMPTY" ENOTEMPTY "$(vl_errno "os.rmdir('$MNT/d/sub')")"
is "mkdir over an existing name fails with EEXIST" EEXIST "$(vl_errno "os.mkdir('$MNT/d/sub')")"
rm "$MNT/d/sub/f"
ok "rmdir of an empty directory" rmdir "$MNT/d/sub"
nok "the removed directory is gone" test -e "$MNT/d/sub"
is "rmdir of a file fails with ENOTDIR" ENOTDIR "$(vl_errno "os.rmdir('$MNT/a')")"
is "lookup of a missing name fails with ENOENT" ENOENT "$(vl_errno "os.stat('$MNT/nonexistent')")"

# --- unlink
nfiles=$(find "$CIPHER" -type f | wc -l)
ok "unlink" rm "$MNT/t"
nok "unlinked file is gone" test -e "$MNT/t"
is "unlink removes the ciphertext file" $((nfiles - 1)) "$(find "$CIPHER" -type f | wc -l)"
is "unlink of a directory fails with EISDIR" EISDIR "$(vl_errno "os.unlink('$MNT/d')")"

# --- names from 1 to 255 bytes, UTF-8 and spaces; listing equals the created set
mkdir "$MNT/names" "$REF/names"
mk_names() { # prints one name per line
	local n
	for n in 1 2 15 16 17 31 32 33 100 130 137 138 139 140 150 175 200 220 240 254 255; do
		printf '%*s\n' "$n" '' | tr ' ' 'n'
	done
	printf 'with space\n  leading and trailing  \n'
	printf 'caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\n'
	# 127 two-byte characters: 254 bytes
	python3 -c 'print("\u00e9" * 127)'
	# 85 three-byte characters: 255 bytes
	python3 -c 'print("\u65e5" * 85)'
	printf 'a.b.c\n-dash\n.hidden\n..dots\n#hash%%\n'
}
n_created=0
while IFS= read -r name; do
	printf '%s' "$name" >"$MNT/names/$name" && printf '%s' "$name" >"$REF/names/$name" &&
		n_created=$((n_created + 1))
done < <(mk_names)
is "all $(mk_names | wc -l) names could be created" "$(mk_names | wc -l)" "$n_created"
is "readdir lists exactly the created names" "$(cd "$REF/names" && ls -A | LC_ALL=C sort)" \
	"$(cd "$MNT/names" && ls -A | LC_ALL=C sort)"
ok "each name reads back its own content" diff -r "$MNT/names" "$REF/names"
is "a 256-byte name fails with ENAMETOOLONG" ENAMETOOLONG \
	"$(vl_errno "open('$MNT/names/' + 'x' * 256, 'w')")"
if [ "$(vl_format)" = 1 ]; then
	ok "long names use the long-name form (8... entries with 9... sidecars)" \
		test -n "$(find "$CIPHER" -name '8*' -print -quit)" -a -n "$(find "$CIPHER" -name '9*' -print -quit)"
else
	ok "long names use the long-name form (8... entries that carry their names, no sidecars)" \
		test -n "$(find "$CIPHER" -name '8*' -print -quit)" -a -z "$(find "$CIPHER" -name '9*' -print -quit)"
fi

# --- the ciphertext tree shows no plaintext names or contents
mkdir "$MNT/secretdirname"
printf 'PLAINTEXTMARKER-%s\n' {1..100} >"$MNT/secretdirname/secretfilename"
sync
leaks=$(cd "$CIPHER" && find . | grep -E "secret|with space|nnnnnnnn|$(printf 'caf\xc3\xa9')" || true)
is "no plaintext name appears in the ciphertext tree" "" "$leaks"
leaks=$(grep -rl PLAINTEXTMARKER "$CIPHER" || true)
is "no plaintext content appears in the ciphertext tree" "" "$leaks"
bad=$(find "$CIPHER" -mindepth 1 -printf '%f\n' |
	grep -vE '^(veilfs\.conf|veilfs\.dirid|[a-z2-7]+|1[a-z2-7]+|[89][a-z2-7]{52})$' || true)
is "every ciphertext name matches the format" "" "$bad"

# --- everything survives a remount
vl_remount || bail "remount failed"
ok "after remount: names and contents" diff -r "$MNT/names" "$REF/names"
for f in a big t0 wo wonly; do
	ok "after remount: $f" same $f
done
ok "after remount: empty file still empty" test -f "$MNT/empty" -a ! -s "$MNT/empty"
ok "after remount: nested content" grep -q PLAINTEXTMARKER-100 "$MNT/secretdirname/secretfilename"

vl_umount
done_testing
