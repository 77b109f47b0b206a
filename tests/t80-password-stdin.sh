#!/usr/bin/env bash
# t80-password-stdin: the password on standard input (issue 12 §1). Without --passfile or
# --extpass and with stdin not a terminal, veilfs and veilctl read the first line of stdin;
# --passfile - (and /dev/stdin) say so explicitly; veilctl passwd reads old and new from two
# lines. Strict: an empty stdin, an empty line and a line over 1024 bytes are refused.
. "$(dirname "$0")/lib.sh"
vl_setup
PW='test password'

# run CMD... <<<input: sets $rc and $out (stdout+stderr).
run() {
	out=$("$@" 2>&1)
	rc=$?
}
has() { grep -qF -- "$1" <<<"$out"; }
mounted() { mountpoint -q "$MNT"; }
opens_with() { # PASSWORD [CIPHERDIR]: veilctl ls unlocks with it
	printf '%s\n' "$1" >"$VL_TMP/try"
	"$VEILCTL" ls --passfile "$VL_TMP/try" "${2:-$CIPHER}" </dev/null >/dev/null 2>&1
}

# ---- veilctl ----
run "$VEILCTL" init --scrypt-log2n 16 "$CIPHER" < <(printf '%s\n' "$PW")
is "init reads the password once from a pipe" 0 "$rc"
ok "the vault opens with the piped password" opens_with "$PW"
printf '%s\n' "$PW" >"$VL_TMP/file-stdin"
run "$VEILCTL" ls "$CIPHER" <"$VL_TMP/file-stdin"
is "ls with stdin a regular file" 0 "$rc"
run "$VEILCTL" ls "$CIPHER" < <(printf '%s' "$PW")
is "ls with the password piped without a newline" 0 "$rc"
run "$VEILCTL" ls --passfile - "$CIPHER" < <(printf '%s\n' "$PW")
is "ls --passfile -" 0 "$rc"
run "$VEILCTL" --passfile - ls "$CIPHER" < <(printf '%s\n' "$PW")
is "--passfile - before the command" 0 "$rc"
run "$VEILCTL" ls --passfile /dev/stdin "$CIPHER" < <(printf '%s\n' "$PW")
is "ls --passfile /dev/stdin (a pipe: read as -)" 0 "$rc"
run "$VEILCTL" ls "$CIPHER" < <(printf 'not it\n')
is "a wrong piped password exits 3" 3 "$rc"
run "$VEILCTL" ls "$CIPHER" </dev/null
is "an empty stdin exits 5" 5 "$rc"
ok "and says so" has "standard input is not a terminal and is empty"
run "$VEILCTL" ls --passfile - "$CIPHER" </dev/null
is "--passfile - with an empty stdin exits 5" 5 "$rc"
run "$VEILCTL" ls "$CIPHER" < <(printf '\n%s\n' "$PW")
is "an empty first line is refused (exit 5), not skipped" 5 "$rc"
run "$VEILCTL" ls "$CIPHER" < <(head -c 1025 /dev/zero | tr '\0' a; echo)
is "a 1025-byte line is refused (exit 5)" 5 "$rc"
ok "and says it is too long" has "longer than 1024 bytes"
mkfifo "$VL_TMP/fifo"
run "$VEILCTL" ls --passfile "$VL_TMP/fifo" "$CIPHER" </dev/null
is "a FIFO given as --passfile is refused (exit 5)" 5 "$rc"
ok "and the message points to --passfile -" has "use --passfile -"

# passwd: old on line 1, new on line 2
run "$VEILCTL" passwd "$CIPHER" < <(printf '%s\n%s\n' "$PW" 'second pw')
is "passwd reads old and new from two lines" 0 "$rc"
ok "the new password opens the vault" opens_with 'second pw'
nok "the old one no longer does" opens_with "$PW"
run "$VEILCTL" passwd "$CIPHER" < <(printf '%s\n' 'second pw')
is "passwd with only the old line exits 5" 5 "$rc"
ok "and leaves the password as it was" opens_with 'second pw'
printf 'second pw\n' >"$VL_TMP/old"
run "$VEILCTL" passwd --passfile "$VL_TMP/old" "$CIPHER" < <(printf 'third pw\n')
is "passwd --passfile OLD takes the new password from line 1" 0 "$rc"
ok "which opens the vault" opens_with 'third pw'
run "$VEILCTL" passwd --new-passfile - "$CIPHER" < <(printf 'third pw\n%s\n' "$PW")
is "passwd --new-passfile -: old and new from stdin" 0 "$rc"
ok "the vault opens with the password set that way" opens_with "$PW"
run "$VEILCTL" passwd "$CIPHER" < <(printf 'wrong\n%s\n' 'x')
is "passwd with a wrong old line exits 3" 3 "$rc"
run "$VEILCTL" passwd --recovery "$CIPHER" < <(printf 'AAAAA\nnew\n')
is "passwd --recovery without --new-passfile and stdin not a terminal: usage error" 2 "$rc"
ok "and says to use --new-passfile" has "--new-passfile FILE"

# ---- veilfs ----
vl_mounts+=("$MNT")
roundtrip() { # writes and reads a file on the mount
	mounted && echo "$1" >"$MNT/f" && [ "$(cat "$MNT/f")" = "$1" ]
}
run "$VEILFS" "$CIPHER" "$MNT" < <(printf '%s\n' "$PW")
is "veilfs reads the password from a pipe" 0 "$rc"
ok "the mount works" roundtrip piped
vl_umount
run "$VEILFS" --passfile - "$CIPHER" "$MNT" < <(printf '%s\n' "$PW")
is "veilfs --passfile -" 0 "$rc"
ok "the mount works" roundtrip dash
vl_umount
run "$VEILFS" -o passfile=- "$CIPHER" "$MNT" < <(printf '%s\n' "$PW")
is "veilfs -o passfile=-" 0 "$rc"
ok "the mount works" roundtrip odash
vl_umount
run "$VEILFS" "$CIPHER" "$MNT" <"$VL_TMP/file-stdin"
is "veilfs with stdin a regular file" 0 "$rc"
vl_umount
run "$VEILFS" "$CIPHER" "$MNT" </dev/null
is "veilfs with an empty stdin exits 5" 5 "$rc"
nok "and mounts nothing" mounted
ok "and says stdin is empty" has "standard input is not a terminal and is empty"
run "$VEILFS" "$CIPHER" "$MNT" < <(printf 'wrong\n')
is "veilfs with a wrong piped password exits 3" 3 "$rc"
nok "and mounts nothing" mounted
run "$VEILFS" "$CIPHER" "$MNT" < <(head -c 1025 /dev/zero | tr '\0' a)
is "veilfs with a 1025-byte password on stdin exits 5" 5 "$rc"
nok "and mounts nothing" mounted
run "$VEILFS" --masterkey-stdin --passfile - "$CIPHER" "$MNT" </dev/null
is "--masterkey-stdin with --passfile - is a usage error" 2 "$rc"

# The password never shows in a process's arguments or environment while mounted.
"$VEILFS" -f "$CIPHER" "$MNT" < <(printf '%s\n' "$PW") >"$VL_TMP/fg.log" 2>&1 &
fgpid=$!
for _ in $(seq 1 300); do mounted && break; kill -0 "$fgpid" 2>/dev/null || break; sleep 0.1; done
ok "veilfs -f reads the password from a pipe and mounts" mounted
printf '%s' "$PW" >"$VL_TMP/needle"
leaks=$(grep -lFf "$VL_TMP/needle" /proc/[0-9]*/cmdline /proc/[0-9]*/environ 2>/dev/null)
is "no process has the password in its argv or environment" "" "$leaks"
vl_umount
wait "$fgpid"

# mount(8) passes its standard input to the helper: what pam_mount and scripts rely on.
if [ "$(id -u)" -eq 0 ] && { command -v mount.fuse3 >/dev/null || [ -x /sbin/mount.fuse3 ]; }; then
	run mount -t fuse "$VEILFS#$CIPHER" "$MNT" < <(printf '%s\n' "$PW")
	is "mount -t fuse PROG#CIPHERDIR with the password on stdin" 0 "$rc"
	ok "the mount works" roundtrip mount8
	vl_umount
	run mount -t fuse "$VEILFS#$CIPHER" "$MNT" -o passfile=- < <(printf '%s\n' "$PW")
	is "mount -t fuse ... -o passfile=-" 0 "$rc"
	vl_umount
	run mount -t fuse "$VEILFS#$CIPHER" "$MNT" < <(printf 'wrong\n')
	ok "mount(8) with a wrong password on stdin fails" test "$rc" -ne 0
	nok "and mounts nothing" mounted
else
	skip_test "mount(8) with the password on stdin" "needs root and mount.fuse3"
fi
done_testing
