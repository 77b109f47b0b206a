#!/usr/bin/env bash
# t31-options: -o ro never writes, wrong password, bad cipherdir/mountpoint, --extpass,
# --config, --idle, --masterkey-stdin with the recovery code, allow_other.
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || skip_all "needs root (chown, mknod of devices, other users)"
vl_setup
vl_have python3 || skip_all "python3 is needed"
vl_init || bail "veilctl init failed: $(cat "$VL_TMP/init.out")"

# snapshot: every ciphertext entry with type, size, mode, mtime, ctime, xattrs and content hash.
snapshot() {
	(cd "$CIPHER" && find . -printf '%p %y %s %m %T@ %C@\n' | LC_ALL=C sort &&
		find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum &&
		getfattr -R -d -m - -e hex . 2>/dev/null)
}
mounted() { mountpoint -q "$MNT"; }
# run_veilfs ARGS...: runs veilfs, stdout+stderr to $VL_TMP/out, returns its status.
run_veilfs() { "$VEILFS" "$@" </dev/null >"$VL_TMP/out" 2>&1; }

# --- a vault with content
vl_mount || bail "veilfs did not mount"
mkdir -p "$MNT/d/e"
printf 'read only content\n' >"$MNT/d/f"
head -c 100000 /dev/urandom >"$MNT/d/e/big"
ln -s f "$MNT/d/link"
printf 'x' >"$MNT/$(printf 'L%0230d' 0)"
python3 -c "import os; os.setxattr('$MNT/d/f', 'user.a', b'v')"
chmod 0644 "$MNT/d/f"
vl_umount

# --- -o ro
before=$(snapshot)
sleep 1.1 # a write during the read-only mount would show as a newer mtime/ctime
ok "-o ro mounts" vl_mount -o ro
is "ro: reading works" "read only content" "$(cat "$MNT/d/f")"
ok "ro: reading a 100 kB file" test "$(wc -c <"$MNT/d/e/big")" = 100000
ls -laR "$MNT" >/dev/null
find "$MNT" -exec stat {} + >/dev/null
python3 -c "import os; os.listxattr('$MNT/d/f'); os.getxattr('$MNT/d/f', 'user.a')"
is "ro: create fails with EROFS" EROFS "$(vl_errno "open('$MNT/new', 'w')")"
is "ro: writing an existing file fails with EROFS" EROFS "$(vl_errno "open('$MNT/d/f', 'a')")"
is "ro: truncate fails with EROFS" EROFS "$(vl_errno "os.truncate('$MNT/d/f', 0)")"
is "ro: mkdir fails with EROFS" EROFS "$(vl_errno "os.mkdir('$MNT/nd')")"
is "ro: unlink fails with EROFS" EROFS "$(vl_errno "os.unlink('$MNT/d/f')")"
is "ro: rename fails with EROFS" EROFS "$(vl_errno "os.rename('$MNT/d/f', '$MNT/d/g')")"
is "ro: chmod fails with EROFS" EROFS "$(vl_errno "os.chmod('$MNT/d/f', 0o600)")"
is "ro: utime fails with EROFS" EROFS "$(vl_errno "os.utime('$MNT/d/f', (1, 1))")"
is "ro: setxattr fails with EROFS" EROFS "$(vl_errno "os.setxattr('$MNT/d/f', 'user.b', b'x')")"
is "ro: symlink fails with EROFS" EROFS "$(vl_errno "os.symlink('x', '$MNT/s')")"
vl_umount
after=$(snapshot)
is "ro: the ciphertext tree is unchanged (names, sizes, modes, mtimes, ctimes, xattrs, contents)" \
	"$before" "$after"
[ "$before" = "$after" ] || diff <(printf '%s\n' "$before") <(printf '%s\n' "$after") | head -n 10 |
	while IFS= read -r l; do diag "$l"; done

# -o ro with a missing veilfs.dirid: re-derived in memory, never written back
ddir=$("$VEILCTL" --passfile "$PASSFILE" encrypt-path "$CIPHER" d/e 2>/dev/null | head -n 1)
cp "$CIPHER/$ddir/veilfs.dirid" "$VL_TMP/saved.dirid"
rm "$CIPHER/$ddir/veilfs.dirid"
before=$(snapshot)
vl_mount -o ro || bail "ro mount failed"
is "ro with a missing veilfs.dirid: the directory still reads" 100000 "$(wc -c <"$MNT/d/e/big")"
vl_umount
is "ro with a missing veilfs.dirid: nothing was written (the file stays missing)" "$before" "$(snapshot)"
cp "$VL_TMP/saved.dirid" "$CIPHER/$ddir/veilfs.dirid"

# --- wrong password
printf 'wrong password\n' >"$VL_TMP/wrongpass"
run_veilfs --passfile "$VL_TMP/wrongpass" "$CIPHER" "$MNT"
rc=$?
is "wrong password: exit status 3" 3 "$rc"
nok "wrong password: nothing is mounted" mounted
ok "wrong password: says so" grep -qi 'password' "$VL_TMP/out"

# --- bad cipherdir and mountpoint
run_veilfs --passfile "$PASSFILE" "$VL_TMP/nonexistent" "$MNT"
rc=$?
ok "missing cipherdir: non-zero exit ($rc)" test "$rc" -ne 0
nok "missing cipherdir: nothing is mounted" mounted
ok "missing cipherdir: the message names it" grep -q nonexistent "$VL_TMP/out"
mkdir "$VL_TMP/notavault"
run_veilfs --passfile "$PASSFILE" "$VL_TMP/notavault" "$MNT"
is "a directory without veilfs.conf: exit status 4" 4 "$?"
run_veilfs --passfile "$PASSFILE" "$CIPHER" "$VL_TMP/nomnt"
rc=$?
is "missing mountpoint: exit status 6" 6 "$rc"
ok "missing mountpoint: the message names it" grep -q nomnt "$VL_TMP/out"
mkdir "$VL_TMP/full"
touch "$VL_TMP/full/file"
run_veilfs --passfile "$PASSFILE" "$CIPHER" "$VL_TMP/full"
rc=$?
ok "non-empty mountpoint: non-zero exit ($rc)" test "$rc" -ne 0
nok "non-empty mountpoint: nothing is mounted" mountpoint -q "$VL_TMP/full"
ok "non-empty mountpoint: the message says why" grep -qiE 'empty' "$VL_TMP/out"
mountpoint -q "$VL_TMP/full" && vl_umount_dir "$VL_TMP/full"
run_veilfs --passfile "$PASSFILE" "$CIPHER"
is "one argument only: usage error (exit status 2)" 2 "$?"
run_veilfs --passfile "$VL_TMP/nopassfile" "$CIPHER" "$MNT"
is "unreadable passfile: exit status 5" 5 "$?"
nok "unreadable passfile: nothing is mounted" mounted
ok "mounting the same mountpoint twice fails" sh -c '"$1" --passfile "$2" "$3" "$4" && ! "$1" --passfile "$2" "$3" "$4" </dev/null >/dev/null 2>&1' \
	sh "$VEILFS" "$PASSFILE" "$CIPHER" "$MNT"
vl_mounts+=("$MNT")
vl_umount

# --- --extpass
ok "--extpass mounts" run_veilfs --extpass "cat '$PASSFILE'" "$CIPHER" "$MNT"
vl_mounts+=("$MNT")
is "--extpass: content readable" "read only content" "$(cat "$MNT/d/f")"
vl_umount
run_veilfs --extpass "echo nope" "$CIPHER" "$MNT"
is "--extpass with a wrong password: exit status 3" 3 "$?"
run_veilfs --extpass "exit 1" "$CIPHER" "$MNT"
rc=$?
ok "--extpass whose command fails: non-zero exit ($rc)" test "$rc" -ne 0
nok "--extpass whose command fails: nothing is mounted" mounted

# --- --config outside the cipherdir
mv "$CIPHER/veilfs.conf" "$VL_TMP/outside.conf"
ok "--config FILE mounts with the config outside CIPHERDIR" vl_mount --config "$VL_TMP/outside.conf"
is "--config: content readable" "read only content" "$(cat "$MNT/d/f")"
vl_umount
run_veilfs --passfile "$PASSFILE" "$CIPHER" "$MNT"
is "without --config and without veilfs.conf: exit status 4" 4 "$?"
mv "$VL_TMP/outside.conf" "$CIPHER/veilfs.conf"

# --- --idle
ok "--idle 2s mounts" vl_mount --idle 2s
# Poll /proc/self/mounts, not the mount itself: a stat of it is a request that resets the
# idle timer.
in_mounts() { awk -v m="$MNT" '$2 == m { f = 1 } END { exit !f }' /proc/self/mounts; }
ok "--idle: the mount is listed in /proc/self/mounts" in_mounts
gone=no
for i in $(seq 1 100); do # bounded: at most 30 s
	in_mounts || { gone=yes; break; }
	sleep 0.3
done
is "--idle 2s: unmounted by itself" yes "$gone"
mounted && vl_umount
ok "--idle: mounts again afterwards" vl_mount --idle 1h
is "--idle: content readable" "read only content" "$(cat "$MNT/d/f")"
vl_umount

# --- --masterkey-stdin with the recovery code printed by veilctl init
code=$(grep -oE '[0-9A-Z]{5}(-[0-9A-Z]{5})+' "$VL_TMP/init.out" | tr '\n' '-' | sed 's/-$//')
ok "veilctl init printed a recovery code" test -n "$code"
mv "$CIPHER/veilfs.conf" "$VL_TMP/saved.conf"
printf '%s\n' "$code" | "$VEILFS" --masterkey-stdin "$CIPHER" "$MNT" >"$VL_TMP/out" 2>&1
rc=$?
vl_mounts+=("$MNT")
is "--masterkey-stdin without veilfs.conf: mounts" 0 "$rc"
is "--masterkey-stdin: content readable" "read only content" "$(cat "$MNT/d/f" 2>&1)"
ok "--masterkey-stdin: long names readable" test -f "$MNT/$(printf 'L%0230d' 0)"
vl_umount
if [ "${code:0:1}" = 0 ]; then bad=1${code:1}; else bad=0${code:1}; fi
printf '%s\n' "$bad" | "$VEILFS" --masterkey-stdin "$CIPHER" "$MNT" >"$VL_TMP/out" 2>&1
rc=$?
ok "--masterkey-stdin with a mistyped code: non-zero exit ($rc)" test "$rc" -ne 0
nok "--masterkey-stdin with a mistyped code: nothing is mounted" mounted
ok "--masterkey-stdin with a mistyped code: names the group" grep -qi 'group' "$VL_TMP/out"
mv "$VL_TMP/saved.conf" "$CIPHER/veilfs.conf"

# --- allow_other (implies default_permissions): another user can read but not write
if vl_have setpriv && id nobody >/dev/null 2>&1; then
	chmod 755 "$VL_TMP"
	ok "-o allow_other mounts" vl_mount -o allow_other
	printf 'other\n' >"$MNT/pub"
	chmod 0644 "$MNT/pub"
	chmod 0755 "$MNT" "$MNT/d"
	as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
	is "allow_other: user nobody reads a 0644 file" other "$(as_nobody cat "$MNT/pub" 2>&1)"
	nok "allow_other: user nobody cannot write a 0644 file of root" as_nobody sh -c "printf x >>'$MNT/pub'" 2>/dev/null
	nok "allow_other: user nobody cannot create in a 0755 directory of root" as_nobody touch "$MNT/d/new" 2>/dev/null
	is "allow_other: the file is unchanged" other "$(cat "$MNT/pub")"
	chmod 0600 "$MNT/pub"
	nok "allow_other: user nobody cannot read a 0600 file of root" as_nobody cat "$MNT/pub" 2>/dev/null
	vl_umount
	ok "without allow_other, another user cannot even stat the mount" vl_mount
	nok "without allow_other: user nobody gets nothing" as_nobody stat "$MNT/pub" 2>/dev/null
	vl_umount
else
	skip_test "allow_other" "setpriv or user nobody missing"
fi

done_testing
