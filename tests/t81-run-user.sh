#!/usr/bin/env bash
# t81-run-user: veilctl run as an ordinary user (issue 12 §4), in a user namespace of its
# own. The user is a numeric uid with no capability; COMMAND sees the vault, another process
# of that same uid sees nothing, signals and exit statuses pass, nothing stays mounted. Where
# it cannot work (/dev/fuse closed to the user, user namespaces disabled) it says so and
# exits 6; both are made real here, not simulated: a /dev/fuse of mode 0600, and a user
# namespace whose user.max_user_namespaces is 0.
#
# The test runs in a private mount namespace of its own where /dev/fuse is a node of mode
# 0666, as on a stock Debian system (this kind of machine has 0600): nothing outside the
# test is changed, and tests running at the same time are not affected.
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || skip_all "needs root to set up a user and a /dev/fuse for it"
for p in setpriv unshare python3 pgrep mknod; do
	command -v "$p" >/dev/null || skip_all "$p is not installed"
done
if [ -z "${VL_T81_PRIVATE_NS:-}" ]; then
	VL_T81_PRIVATE_NS=1 exec unshare --mount --propagation private bash "$0" "$@"
fi
vl_setup
U=$((61000 + $$ % 1000))
DEV=$VL_TMP/dev
bg=()
t81_cleanup() {
	local p
	for p in "${bg[@]}"; do
		kill -KILL "$p" 2>/dev/null
	done
	umount /dev/fuse 2>/dev/null
	umount "$DEV" 2>/dev/null
	vl_cleanup
}
trap t81_cleanup EXIT

mkdir "$DEV" && mount -t tmpfs -o mode=0755 tmpfs "$DEV" &&
	mknod -m 0666 "$DEV/fuse" c 10 229 && mknod -m 0600 "$DEV/fuse600" c 10 229 &&
	mount --bind "$DEV/fuse" /dev/fuse || bail "cannot make a private /dev/fuse"
as_user() { env -u XDG_RUNTIME_DIR setpriv --reuid="$U" --regid="$U" --clear-groups "$@"; }
as_user unshare --user true 2>/dev/null ||
	skip_all "unprivileged user namespaces are not available on this machine"

vl_init || bail "veilctl init failed"
printf 'hello vault\n' >"$VL_TMP/hello.txt"
"$VEILCTL" import --passfile "$PASSFILE" "$CIPHER" "$VL_TMP/hello.txt" </dev/null >/dev/null 2>&1 ||
	bail "veilctl import failed"
chmod 0755 "$VL_TMP"
chmod 0644 "$PASSFILE"
chown -R "$U:$U" "$CIPHER" "$MNT"
W=$VL_TMP/u # the user's own directory for the files COMMAND writes
mkdir "$W" && chown "$U:$U" "$W"
R=("$VEILCTL" run --passfile "$PASSFILE")

mounted_anywhere() {
	local f
	for f in /proc/[0-9]*/mountinfo; do
		awk -v m="$1" '$5 == m { f = 1 } END { exit !f }' "$f" 2>/dev/null && return 0
	done
	return 1
}
daemon_left() { pgrep -f -- "veilfs .*$CIPHER " >/dev/null; }
wait_for() {
	local i
	for i in $(seq 1 600); do
		[ -e "$1" ] && return 0
		sleep 0.1
	done
	return 1
}
vault_cat() { "$VEILCTL" cat --passfile "$PASSFILE" "$CIPHER" "$1" </dev/null 2>/dev/null; }

# ---- the command, as the user, sees and writes the vault ----
out=$(as_user "${R[@]}" "$CIPHER" -- sh -c 'id -u; grep ^CapEff /proc/self/status
	cat "$VEILFS_MOUNTPOINT/hello.txt" && echo mine >"$VEILFS_MOUNTPOINT/new.txt" &&
	mkdir "$VEILFS_MOUNTPOINT/dir"; echo "$VEILFS_MOUNTPOINT"; exit 5' </dev/null 2>"$VL_TMP/err")
is "as user $U, run exits with COMMAND's status" 5 $?
is "COMMAND runs as that user" "$U" "$(sed -n 1p <<<"$out")"
ok "with no capability" grep -q "^CapEff:[[:space:]]*0*$" <<<"$out"
ok "COMMAND reads the vault" grep -qx "hello vault" <<<"$out"
is "and writes to it (a file)" mine "$(vault_cat new.txt)"
ok "and makes directories in its root" sh -c '"$1" ls --passfile "$2" "$3" </dev/null | grep -qx dir' \
	_ "$VEILCTL" "$PASSFILE" "$CIPHER"
ok "what it wrote belongs to the user" sh -c '[ -z "$(find "$1" ! -user "$2")" ]' _ "$CIPHER" "$U"
mp=$(tail -n 1 <<<"$out")
nok "the temporary mountpoint is removed" test -e "$mp"
nok "nothing is mounted on it in any namespace" mounted_anywhere "$mp"
nok "no daemon is left" daemon_left
[ -s "$VL_TMP/err" ] && diag "stderr: $(head -c 300 "$VL_TMP/err")"

# ---- while it runs, another process of the same user sees nothing ----
mkfifo "$W/go"
chown "$U:$U" "$W/go"
as_user "${R[@]}" "$CIPHER" -- sh -c 'echo "$VEILFS_MOUNTPOINT $$" >"$1.tmp" && mv "$1.tmp" "$1"
	read x <"$2"' _ "$W/ready" "$W/go" </dev/null >/dev/null 2>"$VL_TMP/err" &
vp=$!
bg+=("$vp")
wait_for "$W/ready" || bail "COMMAND did not start: $(cat "$VL_TMP/err")"
read -r mp cpid <"$W/ready"
ok "COMMAND's namespace has the mount" grep -q " $mp .* - fuse.veilfs " "/proc/$cpid/mountinfo"
nok "a process of the same user outside sees no mount there" as_user mountpoint -q "$mp"
is "it sees the mountpoint empty" "" "$(as_user ls -A "$mp" 2>&1)"
nok "it cannot open a vault file by name" as_user test -e "$mp/hello.txt"
nok "the test's own namespace has no such mount" grep -q " $mp " /proc/self/mountinfo
echo go >"$W/go"
wait "$vp"
is "released, run exits 0" 0 $?
rm -f "$W/ready"
nok "then nothing is mounted anywhere" mounted_anywhere "$mp"

# ---- signals ----
as_user "${R[@]}" "$CIPHER" -- sh -c 'echo $PPID >"$1.tmp" && mv "$1.tmp" "$1"
	while :; do sleep 0.1; done' _ "$W/ready" </dev/null >/dev/null 2>&1 &
vp=$!
bg+=("$vp")
wait_for "$W/ready" || bail "COMMAND did not start"
read -r veilctl_pid <"$W/ready"
bg+=("$veilctl_pid")
is "COMMAND's parent is the user's veilctl" veilctl "$(cat "/proc/$veilctl_pid/comm" 2>&1)"
kill -TERM "$veilctl_pid"
wait "$vp"
is "SIGTERM to the user's veilctl reaches COMMAND: exit 143" 143 $?
rm -f "$W/ready"
nok "no daemon is left" daemon_left
as_user "${R[@]}" "$CIPHER" -- sh -c 'kill -KILL $$' </dev/null >/dev/null 2>&1
is "COMMAND killed by SIGKILL: exit 137" 137 $?

# ---- where it cannot work: a clear message and exit 6 ----
unshare --mount --propagation private sh -c 'mount --bind "$1" /dev/fuse && u=$2 && shift 2 &&
	exec env -u XDG_RUNTIME_DIR setpriv --reuid="$u" --regid="$u" --clear-groups "$@"' _ \
	"$DEV/fuse600" "$U" "${R[@]}" "$CIPHER" -- touch "$W/ran" </dev/null >/dev/null 2>"$VL_TMP/err"
is "/dev/fuse of mode 0600 (not the user's): exit 6" 6 $?
ok "and the message names /dev/fuse and root" grep -q "cannot open /dev/fuse.*run it as root" "$VL_TMP/err"
nok "COMMAND did not run" test -e "$W/ran"

cat >"$VL_TMP/nouserns.py" <<'EOF'
# As root: a user namespace mapping 0 and UID to themselves whose user.max_user_namespaces
# is 0; there, as UID, exec the rest of argv. Exit status: the program's (77: could not set
# it up, with a reason on stdout).
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
uid = int(sys.argv[1])
r, w = os.pipe()
r2, w2 = os.pipe()
pid = os.fork()
if pid == 0:
    os.close(w)
    os.close(r2)
    ok = libc.unshare(0x10000000) == 0  # CLONE_NEWUSER
    os.write(w2, b'ok' if ok else b'no')
    os.close(w2)
    os.read(r, 1)
    if not ok:
        print('unshare(CLONE_NEWUSER) failed for root'); os._exit(77)
    try:
        with open('/proc/sys/user/max_user_namespaces', 'w') as f:
            f.write('0\n')
    except OSError as e:
        print('cannot set user.max_user_namespaces in a user namespace: %s' % e); os._exit(77)
    os.setgroups([])
    os.setgid(uid)
    os.setuid(uid)
    os.execv(sys.argv[2], sys.argv[2:])
os.close(r)
os.close(w2)
if os.read(r2, 2) == b'ok':
    for f in ('uid_map', 'gid_map'):
        with open('/proc/%d/%s' % (pid, f), 'w') as m:
            m.write('0 0 1\n%d %d 1\n' % (uid, uid))
os.write(w, b'x')
_, ws = os.waitpid(pid, 0)
sys.exit(os.waitstatus_to_exitcode(ws))
EOF
why=$(python3 "$VL_TMP/nouserns.py" "$U" "${R[@]}" "$CIPHER" -- touch "$W/ran" </dev/null 2>"$VL_TMP/err")
rc=$?
if [ "$rc" = 77 ]; then
	skip_test "user namespaces disabled: exit 6" "$why"
	skip_test "and the message says so" "$why"
else
	is "user namespaces disabled (user.max_user_namespaces 0): exit 6" 6 "$rc"
	ok "and the message says user namespaces are not available" \
		grep -q "unprivileged user namespaces are not available" "$VL_TMP/err"
fi
nok "COMMAND did not run" test -e "$W/ran"
nok "no daemon is left" daemon_left
done_testing
