#!/usr/bin/env bash
# t30-tamper: an attacker edits the ciphertext while the vault is unmounted; the mount must
# give EIO exactly where the damage is, log it with the ciphertext path and block number, and
# keep everything else readable. Tampering happens while unmounted, so no cache hides it.
. "$(dirname "$0")/lib.sh"
vl_setup
vl_have python3 || skip_all "python3 is needed"
vl_init || bail "veilctl init failed: $(cat "$VL_TMP/init.out")"
B=$(vl_block_size)
S=$((B + 28))
LOG=$VL_TMP/veilfs.log

# cpath PLAINPATH: the ciphertext path of a plaintext path.
cpath() {
	local p
	p=$("$VEILCTL" --passfile "$PASSFILE" encrypt-path "$CIPHER" "$1" 2>/dev/null | head -n 1)
	[ -n "$p" ] && printf '%s/%s\n' "$CIPHER" "$p"
}
# readblock FILE N: block N of the plaintext file via dd with bs = block size; fails on EIO.
readblock() { dd if="$MNT/dir/$1" bs="$B" skip="$2" count=1 status=none 2>"$VL_TMP/dd.err"; }
# blk FILE N: block N of the reference plaintext.
blk() { dd if="$VL_TMP/plain/$1" bs="$B" skip="$2" count=1 status=none; }
block_is() { cmp -s <(readblock "$1" "$2") <(blk "$1" "$2"); }
block_eio() { ! readblock "$1" "$2" >/dev/null && grep -q 'Input/output error' "$VL_TMP/dd.err"; }
# flip FILE OFFSET: xor one byte of a ciphertext file.
flip() { python3 -c 'import sys
f = open(sys.argv[1], "r+b"); off = int(sys.argv[2]); f.seek(off); b = f.read(1); f.seek(off); f.write(bytes([b[0] ^ 0x40]))' "$1" "$2"; }
# swap A OFFA B OFFB LEN: exchanges two byte ranges (possibly in one file).
swap() { python3 -c 'import sys
a, oa, b, ob, n = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
fa = open(a, "r+b"); fb = open(b, "r+b") if b != a else fa
fa.seek(oa); x = fa.read(n); fb.seek(ob); y = fb.read(n)
fa.seek(oa); fa.write(y); fb.seek(ob); fb.write(x)' "$@"; }
# cat_eio FILE: reading the whole file fails with EIO.
cat_eio() { ! cat "$MNT/dir/$1" >/dev/null 2>"$VL_TMP/cat.err" && grep -q 'Input/output error' "$VL_TMP/cat.err"; }
quiet() { "$@" >/dev/null 2>&1; }
H=$(vl_hdr)                        # header length (24 in format 1, 72 in format 2)
off() { echo $((H + $1 * S)); } # ciphertext offset of block N

# --- make the plaintext
mkdir -p "$VL_TMP/plain"
for f in flip cut swapa swapb within extend hdr torn ok1; do
	head -c $((3 * B)) /dev/urandom >"$VL_TMP/plain/$f"
done
head -c $((2 * B + 100)) /dev/urandom >"$VL_TMP/plain/partial"
vl_mount || bail "veilfs did not mount"
mkdir "$MNT/dir"
for f in "$VL_TMP"/plain/*; do cp "$f" "$MNT/dir/"; done
printf 'still fine\n' >"$MNT/dir/small"
vl_umount
for f in flip cut swapa swapb within extend hdr torn partial; do
	eval "C_$f=\$(cpath dir/$f)"
done
ok "encrypt-path finds the ciphertext of every file" test -f "$C_flip" -a -f "$C_cut" -a -f "$C_swapa" \
	-a -f "$C_swapb" -a -f "$C_within" -a -f "$C_extend" -a -f "$C_hdr" -a -f "$C_torn" -a -f "$C_partial"
is "a 3-block ciphertext has the format's size" $((H + 3 * S)) "$(stat -c %s "$C_flip")"

# --- tamper (unmounted)
flip "$C_flip" $(($(off 1) + 12 + 100))                # block 1's ciphertext
truncate -s $((H + 2 * S)) "$C_cut"                    # cut at a block boundary
swap "$C_swapa" "$(off 1)" "$C_swapb" "$(off 1)" "$S"  # block 1 of two files exchanged
swap "$C_within" "$(off 0)" "$C_within" "$(off 1)" "$S" # blocks 0 and 1 exchanged
dd if="$C_extend" bs=1 skip="$(off 2)" count="$S" status=none >>"$C_extend" # last block repeated
flip "$C_hdr" 10                                       # file ID in the header
truncate -s 10 "$C_torn"                               # torn header
truncate -s $((H + 2 * S + 10)) "$C_partial"           # torn last block (10 bytes of 128)
# foreign and undecryptable entries in the ciphertext directory
D=$(dirname "$C_flip")
printf 'junk' >"$D/.DS_Store"
printf 'junk' >"$D/desktop.ini"
printf 'junk' >"$D/abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdef" # base32, wrong SIV
printf 'junk' >"$D/abc"                                                         # impossible length
printf 'junk' >"$D/8aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"        # long name, no sidecar
printf 'junk' >"$D/9bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"        # orphan sidecar
printf 'not-the-name' >"$D/9cccccccccccccccccccccccccccccccccccccccccccccccccccc"
printf 'junk' >"$D/8cccccccccccccccccccccccccccccccccccccccccccccccccccc"        # sidecar does not match
mkdir "$D/zzzzzzzzzzzzzzzzzzzzzzzzzz"                                            # undecryptable directory

vl_mount_fg "$LOG" || bail "veilfs -f did not mount: $(cat "$LOG")"
cd "$MNT/dir" || bail "cd"

# flipped byte in block 1
ok "a flipped byte: reading the whole file fails with EIO" cat_eio flip
ok "a flipped byte in block 1: block 1 gives EIO" block_eio flip 1
ok "a flipped byte in block 1: block 0 reads correctly" block_is flip 0
ok "a flipped byte in block 1: block 2 reads correctly" block_is flip 2
is "a flipped byte: st_size is unchanged" $((3 * B)) "$(stat -c %s flip)"
# cut at a block boundary
is "cut at a block boundary: the size shows 2 blocks" $((2 * B)) "$(stat -c %s cut)"
ok "cut at a block boundary: the new last block gives EIO (its last flag is 0)" block_eio cut 1
ok "cut at a block boundary: block 0 reads correctly" block_is cut 0
ok "cut at a block boundary: reading the whole file fails with EIO" cat_eio cut
# blocks swapped between files
ok "block 1 swapped between two files: EIO in the first" block_eio swapa 1
ok "block 1 swapped between two files: EIO in the second" block_eio swapb 1
ok "block 1 swapped between two files: block 0 of the first is fine" block_is swapa 0
ok "block 1 swapped between two files: block 2 of the second is fine" block_is swapb 2
# blocks swapped inside a file
ok "blocks 0 and 1 swapped inside a file: block 0 gives EIO" block_eio within 0
ok "blocks 0 and 1 swapped inside a file: block 1 gives EIO" block_eio within 1
ok "blocks 0 and 1 swapped inside a file: block 2 is fine" block_is within 2
# final block repeated after itself
is "a repeated final block: the size shows 4 blocks" $((4 * B)) "$(stat -c %s extend)"
ok "a repeated final block: the old final block (last flag 1, not last) gives EIO" block_eio extend 2
ok "a repeated final block: the appended copy (wrong index) gives EIO" block_eio extend 3
ok "a repeated final block: block 0 is fine" block_is extend 0
# header
ok "a flipped file-ID byte: block 0 gives EIO" block_eio hdr 0
ok "a flipped file-ID byte: block 2 gives EIO" block_eio hdr 2
nok "a torn header: reading fails" quiet cat torn
nok "a torn last block: reading the whole file fails" quiet cat partial
ok "a torn last block: block 0 reads correctly" block_is partial 0
# the rest is fine
ok "an untouched file in the same directory reads correctly" cmp -s ok1 "$VL_TMP/plain/ok1"
is "a small untouched file reads correctly" "still fine" "$(cat small)"
# listing
want=$(printf '%s\n' cut extend flip hdr ok1 partial small swapa swapb torn within | sort)
got=$(ls -A | sort)
is "foreign, undecryptable and broken long-name entries do not break the listing" "$want" "$got"
ok "stat of every listed entry except the torn ones works" quiet stat $(ls -A | grep -vx -e torn -e partial)
ok "creating a file next to the junk works" sh -c 'printf new >newfile && test "$(cat newfile)" = new'

# the log names the ciphertext file and the block
cd / || true
vl_umount_fg
flip_name=$(basename "$C_flip")
ok "the log names the ciphertext path of the tampered file" grep -qF "$flip_name" "$LOG"
ok "the log names block 1 of the tampered file" \
	sh -c 'grep -F "$1" "$2" | grep -qiE "block[^0-9]{0,3}1([^0-9]|$)"' sh "$flip_name" "$LOG"
ok "the log names the truncated file" grep -qF "$(basename "$C_cut")" "$LOG"
nok "the log does not contain plaintext names" grep -qE 'flip|swapa|within|extend' "$LOG"
diag "log lines: $(wc -l <"$LOG")"
grep -F "$flip_name" "$LOG" | head -n 2 | while IFS= read -r l; do diag "$l"; done

done_testing
