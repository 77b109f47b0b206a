#!/usr/bin/env bash
# t82-control: the control socket (issue 12 §5). A mounted vault answers veilctl info,
# encrypt-path and decrypt-path given its mountpoint, without the password, with the same
# answers and exit statuses as the offline commands; the socket is owner-only (0600 in a
# 0700 directory, peers of another uid refused even when they reach it), malformed requests
# get an error and do not stop it, and it disappears on unmount, SIGTERM and SIGINT.
#
# The test runs in a private mount namespace with a tmpfs on /run/veilfs, so that it can
# open that directory to a stranger without touching the real one.
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || skip_all "needs root (the sockets of root's mounts are in /run/veilfs)"
for p in setpriv unshare; do
	command -v "$p" >/dev/null || skip_all "$p is not installed"
done
# The system's python: a stranger's process cannot use root's own (pyenv ...).
PY=/usr/bin/python3
[ -x "$PY" ] || skip_all "$PY is not installed"
if [ -z "${VL_T82_PRIVATE_NS:-}" ]; then
	[ -d /run/veilfs ] || mkdir -m 0700 /run/veilfs || skip_all "cannot make /run/veilfs"
	VL_T82_PRIVATE_NS=1 exec unshare --mount --propagation private bash "$0" "$@"
fi
vl_setup
mount -t tmpfs -o mode=0700 tmpfs /run/veilfs || bail "cannot mount a private /run/veilfs"
t82_cleanup() {
	vl_cleanup
	umount /run/veilfs 2>/dev/null
}
trap t82_cleanup EXIT
U=$((62000 + $$ % 1000))
P=(--passfile "$PASSFILE")

vl_init || bail "veilctl init failed"
vl_mount_fg "$VL_TMP/log" || bail "mount failed: $(cat "$VL_TMP/log")"
LONG=$(printf 'l%.0s' $(seq 1 240))
mkdir -p "$MNT/docs/deep" && echo a >"$MNT/docs/a.txt" && echo l >"$MNT/docs/$LONG" &&
	echo s >"$MNT/docs/deep/space name.txt" || bail "cannot write the mount"
sock_of() { echo "/run/veilfs/$(stat -c '%Hd:%Ld' "$1")"; }
SOCK=$(sock_of "$MNT")

# ---- where, and who may use it ----
ok "the socket is /run/veilfs/MAJ:MIN of the mount" test -S "$SOCK"
is "the socket is mode 0600" 600 "$(stat -c %a "$SOCK")"
is "its directory is mode 0700, root's" "700 0" "$(stat -c '%a %u' /run/veilfs)"

# run CMD...: $out (stdout), $err (stderr), $rc.
run() {
	out=$("$@" 2>"$VL_TMP/stderr" </dev/null)
	rc=$?
	err=$(cat "$VL_TMP/stderr")
}

# ---- info ----
run "$VEILCTL" info "$MNT"
is "info MOUNTPOINT exits 0 with no password source (stdin empty)" 0 "$rc"
ok "it names the mountpoint" grep -qx "mountpoint: $MNT" <<<"$out"
ok "and the cipher directory" grep -qx "cipherdir: $(realpath "$CIPHER")" <<<"$out"
ok "and the daemon" grep -qx "daemon_pid: $VL_FGPID" <<<"$out"
ok "and the mount's state" grep -qx "mount: read-write" <<<"$out"
settings() { sed -n '/^format:/,/^cipher:/p'; }
is "the vault's settings are those of offline info" "$("$VEILCTL" info "$CIPHER" | settings)" \
	"$(settings <<<"$out")"

# ---- encrypt-path and decrypt-path: the offline answers, without a password ----
same() { # DESC CMD ARG...: the mounted answer (stdout and exit status) equals the offline one
	local desc=$1 cmd=$2 arg=$3 mo mr oo orr
	mo=$("$VEILCTL" "$cmd" "$MNT" "$arg" </dev/null 2>/dev/null)
	mr=$?
	oo=$("$VEILCTL" "$cmd" "${P[@]}" "$CIPHER" "$arg" </dev/null 2>/dev/null)
	orr=$?
	vl_n=$((vl_n + 1))
	if [ "$mo" = "$oo" ] && [ "$mr" = "$orr" ]; then
		echo "ok $vl_n - $desc"
	else
		echo "not ok $vl_n - $desc"
		printf '#   mounted: %s (exit %s)\n#   offline: %s (exit %s)\n' "$mo" "$mr" "$oo" "$orr"
		vl_failed=$((vl_failed + 1))
	fi
}
for p in docs docs/a.txt "docs/$LONG" "docs/deep/space name.txt" not/there/yet "" /docs/./a.txt; do
	same "encrypt-path ${p:0:20}: as offline" encrypt-path "$p"
done
run "$VEILCTL" encrypt-path "$MNT" "$MNT/docs/a.txt"
is "encrypt-path of MOUNTPOINT/PATH is that of PATH" \
	"$("$VEILCTL" encrypt-path "${P[@]}" "$CIPHER" docs/a.txt </dev/null)" "$out"
ea=$("$VEILCTL" encrypt-path "$MNT" docs/a.txt </dev/null)
el=$("$VEILCTL" encrypt-path "$MNT" "docs/$LONG" </dev/null)
side=$(sed -n 's/^sidecar: //p' <<<"$el")
el=$(head -n 1 <<<"$el")
if [ "$(vl_format)" = 1 ]; then
	ok "format 1: the long name has a sidecar" test -f "$CIPHER/$side"
else
	is "format 2: the long name has no sidecar (its entry holds it)" "" "$side"
fi
# a long name below a directory that does not exist (its sidecar cannot be read)
nx=$("$VEILCTL" encrypt-path "$MNT" docs/nothere </dev/null)/$(basename "$el")
for e in "$ea" "$el" "$side" "$(dirname "$ea")/veilfs.dirid" "$CIPHER/$ea" "$(dirname "$ea")/zzzz" \
	"$nx"; do
	same "decrypt-path ...${e: -16}: as offline" decrypt-path "$e"
done
run "$VEILCTL" decrypt-path "$MNT" "$(realpath "$CIPHER")/$ea"
is "decrypt-path of an absolute path in the cipher directory" docs/a.txt "$out"
run "$VEILCTL" decrypt-path "$MNT" "$ea"
is "decrypt-path round trip through the socket" docs/a.txt "$out"
run "$VEILCTL" decrypt-path "$MNT" /etc/passwd
is "an absolute path outside the cipher directory: exit 1" 1 "$rc"
ok "and says so" grep -q "is not inside the cipher directory" <<<"$err"
run "$VEILCTL" decrypt-path "$MNT" "$nx"
is "a long name in a directory that does not exist: exit 9" 9 "$rc"
run "$VEILCTL" encrypt-path "$MNT" docs/../x
is "\`..' in a path: exit 1" 1 "$rc"
run "$VEILCTL" info "$MNT/docs"
is "a directory inside the mount instead of its root: exit 2" 2 "$rc"
ok "and the message names the mountpoint" grep -q "give its mountpoint $MNT" <<<"$err"

# ---- strangers ----
cat >"$VL_TMP/client.py" <<'EOF'
# client.py SOCKET HEXREQUEST [SHUT]: sends the request, prints the answer in hex and the
# status (or the errno name of a failure).
import errno, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
try:
    s.connect(sys.argv[1])
except OSError as e:
    print(errno.errorcode.get(e.errno, e.errno)); sys.exit(0)
try:
    s.sendall(bytes.fromhex(sys.argv[2]))
    if len(sys.argv) < 4:
        s.shutdown(socket.SHUT_WR)
except (BrokenPipeError, ConnectionResetError):
    pass  # the peer closed already: read what it said, if anything
data = b''
s.settimeout(30)
while True:
    try:
        c = s.recv(65536)
    except ConnectionResetError:
        break  # closed without reading our request: nothing more comes
    if not c:
        break
    data += c
if len(data) >= 12:
    print('status=%d text=%s' % (int.from_bytes(data[4:6], 'big'), data[12:].decode(errors='replace')))
else:
    print('answer=%s' % data.hex())
EOF
chmod 0711 "$VL_TMP" && chmod 0644 "$VL_TMP/client.py" # the stranger runs it too
INFO=564c513101000000 # "VLQ1", op 1 (info), 0, length 0
is "a request as another uid: the 0700 directory keeps it out" EACCES \
	"$(setpriv --reuid="$U" --regid="$U" --clear-groups "$PY" "$VL_TMP/client.py" "$SOCK" "$INFO")"
chmod 0711 /run/veilfs && chmod 0666 "$SOCK"
is "a stranger who reaches the socket gets no answer" "answer=" \
	"$(setpriv --reuid="$U" --regid="$U" --clear-groups "$PY" "$VL_TMP/client.py" "$SOCK" "$INFO")"
chmod 0700 /run/veilfs && chmod 0600 "$SOCK"
ok "and the daemon logged the refusal with the uid" grep -q "refused a connection from uid $U" "$VL_TMP/log"
ok "root gets an answer" grep -q "^status=0 text=mountpoint: $MNT" \
	<<<"$("$PY" "$VL_TMP/client.py" "$SOCK" "$INFO")"

# ---- malformed requests get an error and change nothing ----
bad() { "$PY" "$VL_TMP/client.py" "$SOCK" "$1"; }
ok "garbage: status EPROTO (71), malformed request" grep -q "^status=71 text=malformed request" \
	<<<"$(bad 68656c6c6f20776f726c64)"
ok "a request cut short: EPROTO" grep -q "^status=71 " <<<"$(bad 564c513102000010616263)"
ok "an info request with trailing data: EPROTO" grep -q "^status=71 " <<<"$(bad ${INFO}ff)"
ok "an unknown op: EPROTO" grep -q "^status=71 " <<<"$(bad 564c513109000000)"
ok "a length over the bound: EPROTO" grep -q "^status=71 " <<<"$(bad 564c51310200ffff61)"
ok "a NUL in the path: EPROTO" grep -q "^status=71 " <<<"$(bad 564c5131020000026100)"
run "$VEILCTL" info "$MNT"
is "the daemon answers after all that" 0 "$rc"
ok "and the mount works" test "$(cat "$MNT/docs/a.txt")" = a

# ---- the socket goes with the mount ----
vl_umount_fg
nok "fusermount -u: the socket is gone" test -e "$SOCK"
# A script's background jobs start with SIGINT ignored, and libfuse then leaves it so: this
# daemon starts with SIGINT at its default, as from a terminal.
mount_fg_sigint() {
	local i
	vl_mounts+=("$MNT")
	"$PY" -c 'import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL)
os.execv(sys.argv[1], sys.argv[1:])' "$VEILFS" -f --passfile "$PASSFILE" "$CIPHER" "$MNT" \
		</dev/null >"$VL_TMP/log" 2>&1 &
	VL_FGPID=$!
	for i in $(seq 1 300); do
		mountpoint -q "$MNT" && return 0
		kill -0 "$VL_FGPID" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}
for sig in TERM INT; do
	mount_fg_sigint || bail "mount failed: $(cat "$VL_TMP/log")"
	s=$(sock_of "$MNT")
	ok "mounted again: a socket for the new mount" test -S "$s"
	kill -"$sig" "$VL_FGPID"
	wait "$VL_FGPID"
	VL_FGPID=
	nok "SIG$sig to the daemon: the socket is gone" test -e "$s"
	nok "and the mount" mountpoint -q "$MNT"
done
vl_mount_fg "$VL_TMP/log" --no-control || bail "mount failed"
nok "--no-control: no socket" test -e "$(sock_of "$MNT")"
run "$VEILCTL" info "$MNT"
is "info then exits 1" 1 "$rc"
ok "and says the mount has no control socket" grep -q "no-control" <<<"$err"
vl_umount_fg
is "nothing is left in /run/veilfs" "" "$(ls -A /run/veilfs)"
done_testing
