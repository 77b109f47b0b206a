#!/usr/bin/env bash
# t12-secrets-core: no key reaches a core dump (issue 9 §1).
#
# tests/keyscan computes from veilfs.conf and the password the KEK, the master key, every
# subkey and its key-equivalent forms, the per-file keys of every file in the vault, the
# password and the recovery code, and searches a process for any 16-byte window of them:
# its gcore, and the memory a core would hold (readable, not MADV_DONTDUMP) read live
# through /proc/PID/mem. A control process holding every secret in ordinary heap shows each
# search can find each secret. Searched: a mounted daemon after several threads wrote and
# read files, `veilctl cat` blocked writing into a full pipe, `veilctl init` blocked
# printing the recovery code. With ulimit -c unlimited, SIGABRT of the daemon or of veilctl
# leaves no core file, where a dumpable control process leaves one.
. "$(dirname "$0")/lib.sh"
vl_setup
[ "$(id -u)" -eq 0 ] || skip_all "needs root: reading a non-dumpable process's memory, setting core_pattern"
KEYSCAN=$TOP_BUILDDIR/tests/keyscan
[ -x "$KEYSCAN" ] || bail "KEYSCAN=$KEYSCAN is not built"
vl_have gcore || bail "gcore (gdb) is needed: bash .ci/deps installs it"
vl_have python3 || bail "python3 is needed"

# gdb 13 writes every mapping of an AddressSanitizer process, its terabytes of PROT_NONE
# reservations included, as zeros (a 73 GB core of the daemon here): in that build only the
# /proc/PID/mem searches run, and ASan makes mlock() a no-op.
asan=0
ldd "$VEILFS" 2>/dev/null | grep -q libasan && asan=1
ASAN_WHY="AddressSanitizer build: gcore would write the terabytes of ASan's reservations"

pids=()
old_pattern=
t12_cleanup() {
	local p
	for p in "${pids[@]}"; do
		kill -CONT "$p" 2>/dev/null
		kill -KILL "$p" 2>/dev/null
	done
	[ -n "$old_pattern" ] && printf '%s\n' "$old_pattern" >/proc/sys/kernel/core_pattern
	vl_cleanup
}
trap t12_cleanup EXIT

# A long random password: a window of it in memory would be a hit too.
head -c 30 /dev/urandom | base64 | tr -d '\n' >"$PASSFILE"
echo >>"$PASSFILE"
vl_init || bail "veilctl init failed: $(cat "$VL_TMP/init.out")"

# ks CONFIG [keyscan args...]: runs keyscan (output in $VL_TMP/ks.out, shown on failure).
ks() {
	local conf=$1
	shift
	"$KEYSCAN" --config "$conf" --passfile "$PASSFILE" "$@" >"$VL_TMP/ks.out" 2>&1
	local r=$?
	[ $r -eq 0 ] || sed 's/^/#   /' "$VL_TMP/ks.out" | head -20
	return $r
}
# until_in_write PID: waits (bounded) until PID is blocked in write(2) on fd 1.
until_in_write() {
	local i s
	for i in $(seq 1 600); do
		read -r s <"/proc/$1/syscall" 2>/dev/null || return 1
		case $s in "1 0x1 "*) return 0 ;; esac
		sleep 0.1
	done
	return 1
}
# fill_fd FD: writes into the pipe on FD until it is full.
fill_fd() {
	python3 - "$1" <<'EOF'
import fcntl, os, sys
fd = int(sys.argv[1])
fl = fcntl.fcntl(fd, fcntl.F_GETFL)
fcntl.fcntl(fd, fcntl.F_SETFL, fl | os.O_NONBLOCK)
for chunk in (4096, 1):
    try:
        while True:
            os.write(fd, b"\0" * chunk)
    except BlockingIOError:
        pass
fcntl.fcntl(fd, fcntl.F_SETFL, fl)
EOF
}
# core_of PID: the gcore file of PID, or nothing.
gcore_of() {
	gcore -o "$VL_TMP/core" "$1" >"$VL_TMP/gcore.log" 2>&1 && [ -s "$VL_TMP/core.$1" ] &&
		echo "$VL_TMP/core.$1"
}

# ---- the control: a dumpable process holding every secret in ordinary heap ----
mkdir "$VL_TMP/ctl"
{ printf 'VEIL\0\1\0\0'; head -c 16 /dev/urandom; } >"$VL_TMP/ctl/header"
"$KEYSCAN" --config "$CIPHER/veilfs.conf" --passfile "$PASSFILE" --cipherdir "$VL_TMP/ctl" \
	--recovery --hold >"$VL_TMP/hold.out" 2>&1 &
hold=$!
pids+=("$hold")
for i in $(seq 1 300); do
	grep -q ready "$VL_TMP/hold.out" && break
	sleep 0.1
done
ok "control: every secret (keys, forms, password, recovery code, file keys) is found in the memory of a process that holds them" \
	ks "$CIPHER/veilfs.conf" --cipherdir "$VL_TMP/ctl" --min-files 1 --recovery --expect-all --pid "$hold"
if [ $asan = 1 ]; then
	skip_test "control: ... and in its gcore" "$ASAN_WHY"
else
	core=$(gcore_of "$hold")
	ok "control: ... and in its gcore" ks "$CIPHER/veilfs.conf" --cipherdir "$VL_TMP/ctl" --min-files 1 --recovery --expect-all ${core:-/nonexistent}
	rm -f "$VL_TMP"/core.*
fi
kill "$hold"
wait "$hold" 2>/dev/null

# ---- a mounted daemon after several threads wrote and read ----
vl_mount_fg "$VL_TMP/veilfs.log" || bail "veilfs did not mount: $(cat "$VL_TMP/veilfs.log")"
daemon=$VL_FGPID
ok "4 threads write, read back and check files, xattrs, symlinks, renames and a long name" python3 - "$MNT" <<'EOF'
import os, sys, threading
M = sys.argv[1]
bad = []
def work(t):
    try:
        d = os.path.join(M, "t%d" % t)
        os.mkdir(d)
        for i in range(3):
            data = os.urandom(300000 + 4099 * i)
            p = os.path.join(d, "f%d" % i)
            with open(p, "wb") as f:
                f.write(data)
            with open(p, "rb") as f:
                if f.read() != data:
                    bad.append(p)
            os.setxattr(p, "user.note", b"value %d" % i)
            if os.getxattr(p, "user.note") != b"value %d" % i:
                bad.append(p + " xattr")
        os.symlink("f0", os.path.join(d, "link"))
        os.rename(os.path.join(d, "f2"), os.path.join(d, "g" * 200))
        if os.readlink(os.path.join(d, "link")) != "f0" or len(os.listdir(d)) != 4:
            bad.append(d)
    except OSError as e:
        bad.append(str(e))
ts = [threading.Thread(target=work, args=(t,)) for t in range(4)]
[t.start() for t in ts]
[t.join() for t in ts]
sys.exit(1 if bad else 0)
EOF
exec 7<"$MNT/t0/f0" # an open file: its key is in use during the searches
if [ $asan = 1 ]; then
	skip_test "the daemon's key memory is locked (VmLck > 0)" "AddressSanitizer makes mlock() a no-op"
else
	lck=$(awk '/^VmLck/ {print $2}' "/proc/$daemon/status")
	ok "the daemon's key memory is locked (VmLck ${lck:-?} kB)" test "${lck:-0}" -gt 0
fi
nok "no warning about unlocked key memory (root may lock)" grep -q "cannot lock" "$VL_TMP/veilfs.log"
kill -STOP "$daemon"
ok "no secret in the memory a core of the daemon would hold" ks "$CIPHER/veilfs.conf" --cipherdir "$CIPHER" --min-files 12 --pid "$daemon"
kill -CONT "$daemon"
if [ $asan = 1 ]; then
	skip_test "gcore of the daemon" "$ASAN_WHY"
	skip_test "no secret in the daemon's gcore" "$ASAN_WHY"
else
	core=$(gcore_of "$daemon")
	ok "gcore of the daemon" test -n "$core"
	ok "no secret in the daemon's gcore" ks "$CIPHER/veilfs.conf" --cipherdir "$CIPHER" --min-files 12 ${core:-/nonexistent}
	rm -f "$VL_TMP"/core.*
fi
exec 7<&-
vl_umount_fg

# ---- veilctl cat blocked writing into a full pipe ----
mkfifo "$VL_TMP/fifo"
exec 8<>"$VL_TMP/fifo" # a reader that never reads
"$VEILCTL" cat --passfile "$PASSFILE" "$CIPHER" /t1/f1 >"$VL_TMP/fifo" 2>"$VL_TMP/cat.err" </dev/null &
cat_pid=$!
pids+=("$cat_pid")
ok "veilctl cat blocks writing into a full pipe" until_in_write "$cat_pid"
kill -STOP "$cat_pid"
ok "no secret in the memory a core of veilctl cat would hold" ks "$CIPHER/veilfs.conf" --cipherdir "$CIPHER" --min-files 12 --pid "$cat_pid"
if [ $asan = 1 ]; then
	skip_test "no secret in a gcore of veilctl cat" "$ASAN_WHY"
else
	core=$(gcore_of "$cat_pid")
	ok "no secret in a gcore of veilctl cat" ks "$CIPHER/veilfs.conf" --cipherdir "$CIPHER" --min-files 12 ${core:-/nonexistent}
	rm -f "$VL_TMP"/core.*
fi
kill -KILL "$cat_pid" # a stopped process dies of SIGKILL too
wait "$cat_pid" 2>/dev/null
exec 8<&-

# ---- veilctl init blocked printing the recovery code ----
mkdir "$VL_TMP/c2"
mkfifo "$VL_TMP/fifo2"
exec 9<>"$VL_TMP/fifo2"
fill_fd 9
"$VEILCTL" init --passfile "$PASSFILE" --scrypt-log2n 16 "$VL_TMP/c2" >"$VL_TMP/fifo2" 2>"$VL_TMP/init2.err" </dev/null &
init_pid=$!
pids+=("$init_pid")
ok "veilctl init blocks printing the recovery code into a full pipe" until_in_write "$init_pid"
kill -STOP "$init_pid"
ok "no secret nor the recovery code in the memory a core of veilctl init would hold" \
	ks "$VL_TMP/c2/veilfs.conf" --recovery --pid "$init_pid"
if [ $asan = 1 ]; then
	skip_test "no secret nor the recovery code in a gcore of veilctl init" "$ASAN_WHY"
else
	core=$(gcore_of "$init_pid")
	ok "no secret nor the recovery code in a gcore of veilctl init" ks "$VL_TMP/c2/veilfs.conf" --recovery ${core:-/nonexistent}
	rm -f "$VL_TMP"/core.*
fi
kill -KILL "$init_pid" # a stopped process dies of SIGKILL too
wait "$init_pid" 2>/dev/null
exec 9<&-

# ---- SIGABRT with ulimit -c unlimited: no core file ----
old_pattern=$(cat /proc/sys/kernel/core_pattern)
mkdir "$VL_TMP/cores"
printf '%s\n' "$VL_TMP/cores/core.%e.%p" >/proc/sys/kernel/core_pattern
ulimit -c unlimited
sleep 60 &
ctl=$!
pids+=("$ctl")
# Not before it is sleep: the forked shell would run this script's EXIT trap on SIGABRT.
for i in $(seq 1 300); do
	[ "$(readlink "/proc/$ctl/exe")" = "$(readlink -f "$(command -v sleep)")" ] && break
	sleep 0.1
done
kill -ABRT "$ctl"
wait "$ctl" 2>/dev/null
ok "control: a dumpable process killed by SIGABRT leaves a core in $VL_TMP/cores" \
	test -s "$VL_TMP/cores/core.sleep.$ctl"

# ASan turns core dumps off itself (disable_coredump): ask it not to, so that only
# PR_SET_DUMPABLE stands between the signal and a core.
export ASAN_OPTIONS="${ASAN_OPTIONS:-}${ASAN_OPTIONS:+:}disable_coredump=0"
vl_mount_fg "$VL_TMP/veilfs2.log" || bail "veilfs did not mount again: $(cat "$VL_TMP/veilfs2.log")"
daemon=$VL_FGPID
cat "$MNT/t2/f0" >/dev/null
kill -ABRT "$daemon"
wait "$daemon"
is "the daemon died of SIGABRT" 134 "$?"
cd / && { "$FUSERMOUNT" -u "$MNT" 2>/dev/null || umount -l "$MNT"; }
ok "it left no core file" test -z "$(ls "$VL_TMP/cores" | grep -v '^core\.sleep\.')"

exec 8<>"$VL_TMP/fifo"
"$VEILCTL" cat --passfile "$PASSFILE" "$CIPHER" /t1/f1 >"$VL_TMP/fifo" 2>"$VL_TMP/cat2.err" </dev/null &
cat_pid=$!
pids+=("$cat_pid")
until_in_write "$cat_pid"
kill -ABRT "$cat_pid"
wait "$cat_pid"
is "veilctl cat died of SIGABRT" 134 "$?"
exec 8<&-
ok "it left no core file" test -z "$(ls "$VL_TMP/cores" | grep -v '^core\.sleep\.')"
printf '%s\n' "$old_pattern" >/proc/sys/kernel/core_pattern
old_pattern=
done_testing
