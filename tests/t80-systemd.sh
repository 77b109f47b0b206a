#!/usr/bin/env bash
# t80-systemd: the user service template veilfs@.service (issue 12 §3, docs/LOGIN.md).
# systemd-analyze verify checks the unit offline (no running systemd needed). Then, as root,
# a real `systemd --user` runs for a test user, as at login, in a private mount namespace
# (where /run/systemd/system exists, so systemd believes it booted) and in a cgroup
# delegated to the user: veilfs@NAME starts with the password from the kernel keyring or
# from a credential (the shipped drop-in), mounts, stops with a clean unmount, fails with
# nothing mounted when the key is missing or wrong, and an enabled instance mounts when the
# manager starts and unmounts when it stops (login and logout).
. "$(dirname "$0")/lib.sh"
command -v systemd-analyze >/dev/null || skip_all "systemd-analyze is not installed (package systemd)"

# Part 2 needs its own mount namespace: the whole test runs again inside one.
if [ "$(id -u)" -eq 0 ] && [ -z "${VL_T80_NS:-}" ] && command -v unshare >/dev/null &&
	unshare -m --propagation private true 2>/dev/null; then
	VL_T80_NS=1 exec unshare -m --propagation private bash "$0" "$@"
fi
vl_setup
unit_in=$TOP_BUILDDIR/contrib/systemd/veilfs@.service
dropin_in=$TOP_BUILDDIR/contrib/systemd/credential.conf
[ -f "$unit_in" ] && [ -f "$dropin_in" ] || bail "$unit_in is not built (make)"
# The built unit names the installed veilfs; these copies name the one under test.
bindir=$(dirname "$VEILFS")
mkdir -p "$VL_TMP/units"
sed "s|^\(ExecStart=\)[^ ]*/veilfs |\1$VEILFS |" "$unit_in" >"$VL_TMP/units/veilfs@.service"
sed "s|^\(ExecStart=\)[^ ]*/veilfs |\1$VEILFS |" "$dropin_in" >"$VL_TMP/credential.conf"
ok "the unit's ExecStart names the veilfs under test" \
	grep -qF "ExecStart=$VEILFS --extpass" "$VL_TMP/units/veilfs@.service"
ok "the drop-in's ExecStart too" grep -qF "ExecStart=$VEILFS --passfile" "$VL_TMP/credential.conf"

# ---- Part 1: systemd-analyze verify, offline ----
# Documentation= names man pages: a MANPATH with ours lets verify check they exist.
mkdir -p "$VL_TMP/man/man1" "$VL_TMP/rt"
chmod 0700 "$VL_TMP/rt"
ln -s "$TOP_SRCDIR/man/veilfs.1" "$TOP_SRCDIR/man/veilctl.1" "$VL_TMP/man/man1/"
verify() { # UNITFILE: prints what verify says; status in $rc
	out=$(cd "$(dirname "$1")" && XDG_RUNTIME_DIR=$VL_TMP/rt MANPATH=$VL_TMP/man \
		systemd-analyze verify --user "./$(basename "$1")" 2>&1)
	rc=$?
}
cp "$VL_TMP/units/veilfs@.service" "$VL_TMP/units/veilfs@home.service"
verify "$VL_TMP/units/veilfs@home.service"
is "systemd-analyze verify --user veilfs@home.service exits 0" 0 "$rc"
is "and reports nothing" "" "$out"
[ -n "$out" ] && diag "$out"
mkdir -p "$VL_TMP/units/veilfs@home.service.d"
cp "$VL_TMP/credential.conf" "$VL_TMP/units/veilfs@home.service.d/"
out=$(cd "$VL_TMP/units" && XDG_RUNTIME_DIR=$VL_TMP/rt MANPATH=$VL_TMP/man \
	SYSTEMD_UNIT_PATH=$VL_TMP/units: systemd-analyze verify --user veilfs@home.service 2>&1)
is "verify with the credential drop-in reports nothing" "0:" "$?:$out"
mkdir -p "$VL_TMP/bad"
sed 's/^Type=forking/Type=forkng/' "$VL_TMP/units/veilfs@.service" >"$VL_TMP/bad/veilfs@home.service"
verify "$VL_TMP/bad/veilfs@home.service"
ok "verify does report a broken copy (Type=forkng)" grep -q "forkng" <<<"$out"

# ---- Part 2: a real user manager ----
if [ "$(id -u)" -ne 0 ] || [ -z "${VL_T80_NS:-}" ]; then
	skip_test "veilfs@.service under a running systemd --user" "needs root and unshare -m"
	done_testing
fi
systemd_bin=$(command -v /lib/systemd/systemd /usr/lib/systemd/systemd | head -n 1)
cg2=
[ -f /sys/fs/cgroup/unified/cgroup.procs ] && cg2=/sys/fs/cgroup/unified
[ -z "$cg2" ] && [ -f /sys/fs/cgroup/cgroup.controllers ] && cg2=/sys/fs/cgroup
cg1=
grep -q ' /sys/fs/cgroup/systemd cgroup .*name=systemd' /proc/mounts && cg1=/sys/fs/cgroup/systemd
missing=
for prog in keyctl setpriv useradd systemctl; do
	PATH=$PATH:/usr/sbin:/sbin command -v "$prog" >/dev/null || missing="$missing $prog"
done
[ -z "$systemd_bin" ] && missing="$missing systemd"
[ -z "$cg2" ] && missing="$missing cgroup2"
if [ -n "$missing" ]; then
	skip_test "veilfs@.service under a running systemd --user" "missing:$missing (.ci/deps installs keyutils)"
	done_testing
fi
PATH=$PATH:/usr/sbin:/sbin

user=vlt80s-$$
home=$VL_TMP/home
cgname=veilfs-t80-$$
made_user= mgr=
sd_cleanup() {
	local d pid
	cd / || true
	[ -n "$mgr" ] && kill "$mgr" 2>/dev/null && wait "$mgr" 2>/dev/null
	if [ -n "$made_user" ]; then
		mountpoint -q "$home/Private" && umount -l "$home/Private"
		for pid in $(ps -o pid= -u "$user" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
		# a cgroup can be removed only once its processes are gone
		for _ in $(seq 1 50); do [ -z "$(ps -o pid= -u "$user")" ] && break; sleep 0.1; done
		userdel "$user" 2>/dev/null
		groupdel "$user" 2>/dev/null
	fi
	for d in "$cg2/$cgname" ${cg1:+"$cg1/$cgname"}; do
		[ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
	done
	vl_fuse_restore
	vl_cleanup
}
trap sd_cleanup EXIT

useradd -M -d "$home" -s /bin/sh -U "$user" || bail "useradd failed"
made_user=1
chmod 0711 "$VL_TMP"
mkdir -m 0700 "$home" "$home/rt"
uid=$(id -u "$user") gid=$(id -g "$user")
as_user() {
	setpriv --reuid="$uid" --regid="$gid" --init-groups -- env -i HOME="$home" USER="$user" \
		XDG_RUNTIME_DIR="$home/rt" PATH=/usr/local/bin:/usr/bin:/bin "$@"
}
sysctl_user() {
	as_user systemctl --user "$@"
	local r=$?
	# what each start and stop left, for the diagnostics of a failure
	case $1 in start | stop | disable) { echo "== systemctl --user $* -> $r"
		as_user systemctl --user status --no-pager veilfs@v.service 2>&1; } >>"$VL_TMP/status.log" ;;
	esac
	return $r
}
# The daemon runs from a copy the user can reach (the build tree may be private).
mkdir -m 0755 "$VL_TMP/bin" && cp "$VEILFS" "$VEILCTL" "$VL_TMP/bin/"
veilfs=$VL_TMP/bin/veilfs
mkdir -p "$home/.config/systemd/user" "$home/.config/veilfs" "$home/vault" "$home/Private"
sed "s|^\(ExecStart=\)[^ ]*/veilfs |\1$veilfs |" "$unit_in" >"$home/.config/systemd/user/veilfs@.service"
printf 'CIPHERDIR=%s\nMOUNTPOINT=%s\n' "$home/vault" "$home/Private" >"$home/.config/veilfs/v.env"
chown -R "$user:" "$home"
printf 'svc password\n' | as_user "$VL_TMP/bin/veilctl" init --scrypt-log2n 16 "$home/vault" >/dev/null 2>&1
is "the user creates a vault" 0 $?

# Only in this mount namespace: /run/systemd/system, systemd's sign of having booted.
[ -d /run/systemd ] || mkdir -p /run/systemd
mount -t tmpfs -o mode=0755 veilfs-t80 /run/systemd && mkdir /run/systemd/system ||
	bail "cannot mount a tmpfs on /run/systemd in the test's mount namespace"
for d in "$cg2/$cgname" ${cg1:+"$cg1/$cgname"}; do
	mkdir "$d" && chown -R "$user:" "$d" || bail "cannot delegate the cgroup $d"
done
vl_fuse_for_users || bail "cannot lock /dev/fuse" # FUSE as the user; /dev/fuse is 0666 on a stock system

# start_manager: systemd --user for the user, as user@.service starts it at login.
start_manager() {
	local i
	sh -c 'for f in "$@"; do echo $$ >"$f/cgroup.procs" || exit 1; done
		exec setpriv --reuid='"$uid"' --regid='"$gid"' --init-groups -- env -i HOME='"$home"' \
		USER='"$user"' XDG_RUNTIME_DIR='"$home/rt"' PATH=/usr/local/bin:/usr/bin:/bin \
		'"$systemd_bin"' --user --default-standard-output=inherit --default-standard-error=inherit' \
		_ "$cg2/$cgname" ${cg1:+"$cg1/$cgname"} >>"$VL_TMP/manager.log" 2>&1 &
	mgr=$!
	for i in $(seq 1 300); do
		case $(sysctl_user is-system-running 2>/dev/null) in
		running | degraded) return 0 ;;
		esac
		kill -0 "$mgr" 2>/dev/null || break
		sleep 0.1
	done
	return 1
}
stop_manager() { # as at logout: systemd --user stops every unit, then exits
	kill "$mgr" && wait "$mgr"
	mgr=
}
if ! start_manager; then
	diag "systemd --user did not come up:"
	sed 's/^/#   /' "$VL_TMP/manager.log" | tail -20
	skip_test "veilfs@.service under a running systemd --user" "systemd --user cannot run here (log above)"
	done_testing
fi
ok "a systemd --user manager runs for the test user" true

mounted() { grep -q " $home/Private fuse.veilfs " /proc/mounts; }
state() {
	printf '%s/%s' "$(sysctl_user show -p ActiveState --value veilfs@v.service)" \
		"$(sysctl_user show -p Result --value veilfs@v.service)"
}
main_pid() { sysctl_user show -p MainPID --value veilfs@v.service; }
daemon_gone() { # PID: the process ends within 10 s
	local i
	for i in $(seq 1 100); do
		[ -d "/proc/$1" ] && [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" != Z ] || return 0
		sleep 0.1
	done
	return 1
}
set_key() { # the user key veilfs:v holds PASSWORD (keyctl padd reads it from stdin)
	as_user sh -c 'keyctl clear @u && printf %s "$1" | keyctl padd user veilfs:v @u' \
		_ "$1" >/dev/null
}

# ---- the kernel keyring ----
set_key 'svc password'
is "the password goes into the user keyring (keyctl padd from stdin)" 0 $?
sysctl_user start veilfs@v.service
is "systemctl --user start veilfs@v" 0 $?
ok "the vault is mounted on ~/Private" mounted
is "the unit is active" "active/success" "$(state)"
pid=$(main_pid)
ok "its main process is the veilfs daemon" grep -q "^$veilfs" <(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)
as_user sh -c 'echo "through the service" >"$1/f"' _ "$home/Private"
is "the user writes and reads a file in it" "through the service" "$(as_user cat "$home/Private/f" 2>&1)"
printf 'svc password' >"$VL_TMP/needle"
is "no process has the password in its argv or environment" "" \
	"$(grep -lFf "$VL_TMP/needle" /proc/[0-9]*/cmdline /proc/[0-9]*/environ 2>/dev/null)"
sysctl_user stop veilfs@v.service
is "systemctl --user stop veilfs@v" 0 $?
nok "unmounted" mounted
is "the unit is inactive, not failed" "inactive/success" "$(state)"
ok "the daemon has exited" daemon_gone "$pid"

as_user keyctl clear @u
sysctl_user start veilfs@v.service 2>/dev/null
ok "without the key, start fails" test $? -ne 0
nok "and nothing is mounted" mounted
is "the unit is failed" "failed/exit-code" "$(state)"
sysctl_user reset-failed veilfs@v.service
set_key 'not the password'
sysctl_user start veilfs@v.service 2>/dev/null
ok "with a wrong key, start fails" test $? -ne 0
nok "and nothing is mounted" mounted
sysctl_user reset-failed veilfs@v.service

# ---- at login and logout: an enabled instance ----
set_key 'svc password'
sysctl_user enable veilfs@v.service >/dev/null 2>&1
is "systemctl --user enable veilfs@v" 0 $?
stop_manager
start_manager
is "a new manager starts (a new login)" 0 $?
for _ in $(seq 1 100); do mounted && break; sleep 0.1; done
ok "and mounts the enabled vault by itself" mounted
is "the file is still there" "through the service" "$(as_user cat "$home/Private/f" 2>&1)"
pid=$(main_pid)
stop_manager
nok "stopping the manager (the last logout) unmounts it" mounted
ok "and the daemon exits" daemon_gone "$pid"
start_manager || bail "systemd --user did not start again"
for _ in $(seq 1 100); do mounted && break; sleep 0.1; done
sysctl_user disable --now veilfs@v.service >/dev/null 2>&1
is "disable --now" 0 $?
nok "unmounts" mounted

# ---- a credential instead of the keyring (the shipped drop-in) ----
as_user keyctl clear @u
mkdir -p "$home/.config/systemd/user/veilfs@v.service.d"
sed "s|^\(ExecStart=\)[^ ]*/veilfs |\1$veilfs |" "$dropin_in" \
	>"$home/.config/systemd/user/veilfs@v.service.d/credential.conf"
(umask 077 && printf 'svc password\n' >"$home/.config/veilfs/v.password")
chown -R "$user:" "$home/.config"
sysctl_user daemon-reload
sysctl_user start veilfs@v.service
is "with the credential drop-in (no key in the keyring), start succeeds" 0 $?
ok "and mounts" mounted
pid=$(main_pid)
ok "veilfs read the password from the credentials directory" \
	grep -q -- "--passfile [^ ]*/credentials/veilfs@v.service/password" \
	<(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)
sysctl_user stop veilfs@v.service
nok "stop unmounts" mounted
is "and leaves the unit inactive" "inactive/success" "$(state)"

# ---- stop while the mount is busy ----
sysctl_user start veilfs@v.service
as_user sh -c 'cd "$1" && exec sleep 60' _ "$home/Private" &
busy=$!
for _ in $(seq 1 50); do [ "$(readlink "/proc/$busy/cwd" 2>/dev/null)" = "$home/Private" ] && break; sleep 0.1; done
pid=$(main_pid)
sysctl_user stop veilfs@v.service
nok "stop with a process inside the mount still detaches it" mounted
ok "and the daemon exits" daemon_gone "$pid"
is "and the unit is inactive, not failed (SIGTERM is a clean stop: exit 0)" "inactive/success" "$(state)"
kill "$busy" 2>/dev/null
wait "$busy" 2>/dev/null
[ "$vl_failed" -eq 0 ] || {
	diag "manager log:"
	tail -40 "$VL_TMP/manager.log" | sed 's/^/#   /'
	diag "systemctl status after each start and stop:"
	sed 's/^/#   /' "$VL_TMP/status.log"
}
done_testing
