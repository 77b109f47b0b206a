#!/usr/bin/env bash
# t81-run: veilctl run as root (issue 12 §4). COMMAND sees the vault, nobody else does (not
# even another process of the same user), its exit status and signals pass through, and
# afterwards nothing is mounted in any namespace and no daemon is left.
. "$(dirname "$0")/lib.sh"
vl_setup
vl_init || bail "veilctl init failed"
command -v pgrep >/dev/null || skip_all "pgrep (procps) is not installed"

bg=()
t81_cleanup() {
	local p
	for p in "${bg[@]}"; do
		kill -KILL "$p" 2>/dev/null
	done
	vl_cleanup
}
trap t81_cleanup EXIT

printf 'hello vault\n' >"$VL_TMP/hello.txt"
"$VEILCTL" import --passfile "$PASSFILE" "$CIPHER" "$VL_TMP/hello.txt" </dev/null >/dev/null 2>&1 ||
	bail "veilctl import failed"
R=("$VEILCTL" run --passfile "$PASSFILE")

# mounted_anywhere PATH: some process's mount namespace has a mount on PATH.
mounted_anywhere() {
	local f
	for f in /proc/[0-9]*/mountinfo; do
		awk -v m="$1" '$5 == m { f = 1 } END { exit !f }' "$f" 2>/dev/null && return 0
	done
	return 1
}
# daemon_left: a veilfs serving this test's vault still runs.
daemon_left() { pgrep -f -- "veilfs .*$CIPHER " >/dev/null; }
# wait_for FILE: bounded wait (60 s) for FILE to appear.
wait_for() {
	local i
	for i in $(seq 1 600); do
		[ -e "$1" ] && return 0
		sleep 0.1
	done
	return 1
}
# wait_gone PID: bounded wait for a process to end.
wait_gone() {
	local i
	for i in $(seq 1 600); do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.1
	done
	return 1
}
vault_cat() { "$VEILCTL" cat --passfile "$PASSFILE" "$CIPHER" "$1" </dev/null 2>/dev/null; }

# ---- the command sees the vault; its exit status is ours ----
out=$("${R[@]}" "$CIPHER" -- sh -c 'cat "$VEILFS_MOUNTPOINT/hello.txt" &&
	echo written >"$VEILFS_MOUNTPOINT/new.txt" && echo "$VEILFS_MOUNTPOINT"; exit 7' \
	</dev/null 2>"$VL_TMP/err")
is "run exits with COMMAND's exit status" 7 $?
ok "COMMAND reads the vault's files" grep -qx 'hello vault' <<<"$out"
mp=$(tail -n 1 <<<"$out")
ok "VEILFS_MOUNTPOINT names an absolute path" test "${mp#/}" != "$mp"
is "the file COMMAND wrote is in the vault" written "$(vault_cat new.txt)"
nok "the temporary mountpoint is removed" test -e "$mp"
nok "nothing is mounted on it in any namespace" mounted_anywhere "$mp"
nok "no daemon is left" daemon_left

# ---- while COMMAND runs, another process of the same user sees nothing ----
mkfifo "$VL_TMP/go"
"${R[@]}" "$CIPHER" -- sh -c 'echo "$VEILFS_MOUNTPOINT $$" >"$1.tmp" && mv "$1.tmp" "$1"
	read x <"$2"; cat "$VEILFS_MOUNTPOINT/hello.txt" >"$3"' _ "$VL_TMP/ready" "$VL_TMP/go" \
	"$VL_TMP/after" </dev/null >/dev/null 2>"$VL_TMP/err" &
vp=$!
bg+=("$vp")
wait_for "$VL_TMP/ready" || bail "COMMAND did not start: $(cat "$VL_TMP/err")"
read -r mp cpid <"$VL_TMP/ready"
ok "while it runs, COMMAND's namespace has the mount" \
	grep -q " $mp .* - fuse.veilfs " "/proc/$cpid/mountinfo"
nok "another process of the same user sees no mount there" mountpoint -q "$mp"
is "it sees the mountpoint empty" "" "$(ls -A "$mp" 2>&1)"
nok "it cannot open a vault file by name" test -e "$mp/hello.txt"
nok "init's namespace has no such mount" grep -q " $mp " /proc/1/mountinfo
is "nothing was written into the directory underneath" "" "$(ls -A "$mp")"
echo go >"$VL_TMP/go"
wait "$vp"
is "released, run exits 0" 0 $?
is "COMMAND still read the vault at the end" "hello vault" "$(cat "$VL_TMP/after")"
nok "then the mount is gone from every namespace" mounted_anywhere "$mp"
nok "and no daemon is left" daemon_left
rm -f "$VL_TMP/ready"

# ---- --mountpoint: a directory of the user's choice, covered only for COMMAND ----
mkdir "$VL_TMP/appdata"
"${R[@]}" --mountpoint "$VL_TMP/appdata" "$CIPHER" -- sh -c 'echo "$VEILFS_MOUNTPOINT $$" >"$1.tmp" &&
	mv "$1.tmp" "$1"; read x <"$2"' _ "$VL_TMP/ready" "$VL_TMP/go" </dev/null >/dev/null \
	2>"$VL_TMP/err" &
vp=$!
bg+=("$vp")
wait_for "$VL_TMP/ready" || bail "COMMAND did not start: $(cat "$VL_TMP/err")"
read -r mp cpid <"$VL_TMP/ready"
is "VEILFS_MOUNTPOINT is the --mountpoint" "$VL_TMP/appdata" "$mp"
ok "COMMAND's namespace has the vault on it" grep -q " $mp .* - fuse.veilfs " "/proc/$cpid/mountinfo"
is "outside, it stays an empty directory" "" "$(ls -A "$mp" 2>&1)"
echo go >"$VL_TMP/go"
wait "$vp"
is "run --mountpoint exits 0" 0 $?
ok "the directory is kept" test -d "$VL_TMP/appdata"
nok "and nothing is mounted on it anywhere" mounted_anywhere "$VL_TMP/appdata"
rm -f "$VL_TMP/ready"

# ---- signals ----
# SIGTERM to veilctl reaches COMMAND, which exits its own way.
"${R[@]}" "$CIPHER" -- sh -c 'trap "echo term >\"\$2\"; exit 42" TERM; touch "$1"
	while :; do sleep 0.1; done' _ "$VL_TMP/ready" "$VL_TMP/got" </dev/null >/dev/null 2>&1 &
vp=$!
bg+=("$vp")
wait_for "$VL_TMP/ready" || bail "COMMAND did not start"
kill -TERM "$vp"
wait "$vp"
is "SIGTERM to veilctl is passed on: COMMAND's exit status" 42 $?
is "COMMAND got the SIGTERM" term "$(cat "$VL_TMP/got" 2>&1)"
rm -f "$VL_TMP/ready"
# A command killed by a signal: 128 + N, as a shell says.
"${R[@]}" "$CIPHER" -- sh -c 'touch "$1"; while :; do sleep 0.1; done' _ "$VL_TMP/ready" \
	</dev/null >/dev/null 2>&1 &
vp=$!
bg+=("$vp")
wait_for "$VL_TMP/ready" || bail "COMMAND did not start"
kill -HUP "$vp"
wait "$vp"
is "COMMAND killed by the forwarded SIGHUP: exit 129" 129 $?
rm -f "$VL_TMP/ready"
"${R[@]}" "$CIPHER" -- sh -c 'kill -TERM $$' </dev/null >/dev/null 2>&1
is "COMMAND killed by SIGTERM on its own: exit 143" 143 $?
# SIGUSR1 passes and COMMAND lives on.
"${R[@]}" "$CIPHER" -- sh -c 'trap "echo usr1 >\"\$2\"" USR1; touch "$1"
	while [ ! -s "$2" ]; do sleep 0.1; done; exit 3' _ "$VL_TMP/ready" "$VL_TMP/usr1" \
	</dev/null >/dev/null 2>&1 &
vp=$!
bg+=("$vp")
wait_for "$VL_TMP/ready" || bail "COMMAND did not start"
kill -USR1 "$vp"
wait "$vp"
is "SIGUSR1 is passed on and COMMAND goes on to its own end" 3 $?
rm -f "$VL_TMP/ready"
nok "no daemon is left after the signals" daemon_left

# Ctrl-C on the terminal reaches COMMAND (the terminal's foreground group) once, not twice.
cat >"$VL_TMP/ctrlc.py" <<'EOF'
import os, pty, sys, time
d = sys.argv[1]
argv = sys.argv[2:] + ['--', 'sh', '-c',
    'n=0; trap "n=\\$((n+1)); echo int" INT; echo ready; '
    'while [ ! -e "$0/stop" ]; do sleep 0.1; done; echo "ints=$n" >"$0/ints"; exit 5', d]
pid, fd = pty.fork()
if pid == 0:
    os.execv(argv[0], argv)
buf = b''
def until(s):
    global buf
    end = time.monotonic() + 60
    while s not in buf and time.monotonic() < end:
        try:
            c = os.read(fd, 1024)
        except OSError:
            break
        if not c:
            break
        buf += c
    return s in buf
if until(b'ready'):
    os.write(fd, b'\x03')
    until(b'int')
    open(d + '/stop', 'w').close()
try:
    until(b'never')
except OSError:
    pass
_, ws = os.waitpid(pid, 0)
print(os.waitstatus_to_exitcode(ws))
EOF
rc=$(python3 "$VL_TMP/ctrlc.py" "$VL_TMP" "${R[@]}" "$CIPHER" 2>/dev/null)
is "with Ctrl-C on the terminal, run still ends with COMMAND's status" 5 "$rc"
is "COMMAND got the terminal's SIGINT exactly once" "ints=1" "$(cat "$VL_TMP/ints" 2>&1)"

# ---- if veilctl itself is killed, the daemon does not outlive it ----
"${R[@]}" "$CIPHER" -- sh -c 'echo "$VEILFS_MOUNTPOINT $$" >"$1.tmp" && mv "$1.tmp" "$1"
	exec sleep 600' _ "$VL_TMP/ready" </dev/null >/dev/null 2>&1 &
vp=$!
bg+=("$vp")
wait_for "$VL_TMP/ready" || bail "COMMAND did not start"
read -r mp cpid <"$VL_TMP/ready"
bg+=("$cpid")
kill -KILL "$vp"
wait "$vp" 2>/dev/null
for i in $(seq 1 600); do daemon_left || break; sleep 0.1; done
nok "veilctl killed (SIGKILL): the daemon gets SIGTERM and ends" daemon_left
nok "and its mount is gone from COMMAND's namespace" grep -q " $mp " "/proc/$cpid/mountinfo"
kill -KILL "$cpid" 2>/dev/null
rm -f "$VL_TMP/ready"

# ---- a process COMMAND leaves behind inside the mount does not keep it ----
"${R[@]}" "$CIPHER" -- sh -c 'cd "$VEILFS_MOUNTPOINT" && { sleep 600 </dev/null >/dev/null 2>&1 &
	echo $! >"$1"; }' _ "$VL_TMP/leftover" </dev/null >/dev/null 2>"$VL_TMP/err"
is "COMMAND that leaves a process inside the mount: run exits 0" 0 $?
lp=$(cat "$VL_TMP/leftover" 2>/dev/null)
[ -n "$lp" ] && bg+=("$lp")
ok "and says it detaches the busy mount" grep -q "still in use" "$VL_TMP/err"
nok "no daemon is left" daemon_left
ok "the leftover process's namespace has no mount any more" \
	sh -c '[ -r "/proc/$2/mountinfo" ] && ! grep -q " - fuse.veilfs $1 " "/proc/$2/mountinfo"' \
	_ "$CIPHER" "$lp"
[ -n "$lp" ] && kill -KILL "$lp" 2>/dev/null

# ---- failures before COMMAND ----
printf 'wrong\n' >"$VL_TMP/wrong"
"$VEILCTL" run --passfile "$VL_TMP/wrong" "$CIPHER" -- touch "$VL_TMP/ran" </dev/null >/dev/null 2>&1
is "a wrong password: exit 3" 3 $?
nok "and COMMAND did not run" test -e "$VL_TMP/ran"
mkdir "$VL_TMP/notavault"
"${R[@]}" "$VL_TMP/notavault" -- touch "$VL_TMP/ran" </dev/null >/dev/null 2>&1
is "no config: exit 4" 4 $?
"${R[@]}" "$CIPHER" -- "$VL_TMP/no-such-program" </dev/null >/dev/null 2>&1
is "COMMAND not found: exit 127" 127 $?
"${R[@]}" "$CIPHER" -- "$VL_TMP/hello.txt" </dev/null >/dev/null 2>&1
is "COMMAND not executable: exit 126" 126 $?
"${R[@]}" "$CIPHER" </dev/null >/dev/null 2>&1
is "no COMMAND: usage error (exit 2)" 2 $?
nok "no daemon is left after the failures" daemon_left

# ---- --ro, and the password on stdin with the rest left to COMMAND ----
"${R[@]}" --ro "$CIPHER" -- sh -c 'echo x >"$VEILFS_MOUNTPOINT/ro.txt"' </dev/null >/dev/null 2>&1
nok "--ro: COMMAND cannot write" test "$?" = 0
out=$(printf 'test password\nfor the command\n' | "$VEILCTL" run "$CIPHER" -- cat 2>/dev/null)
is "the password piped on stdin; COMMAND reads the rest of stdin" "for the command" "$out"
done_testing
