#!/usr/bin/env bash
# t80-pam-mount: an encrypted home directory at login (issue 12 §2, docs/LOGIN.md). A test
# user logs in through pamtester with Debian's pam_mount and the shipped example config
# (contrib/pam_mount/pam_mount.conf.xml): open_session mounts ~/.vault on ~/Private with
# the login password, close_session unmounts it; a wrong password mounts nothing; after a
# login password change the vault stays locked until the documented `veilctl passwd`.
# Changes the system for its duration and restores it on every exit: a user and a group,
# /etc/pam.d/veilfs-t80-PID, /etc/security/pam_mount.conf.xml, the mode of /dev/fuse
# (vl_fuse_for_users).
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" -eq 0 ] || skip_all "needs root (a test user, PAM configuration)"
for prog in pamtester pmvarrun useradd groupadd chpasswd setpriv xmllint; do
	PATH=$PATH:/usr/sbin:/sbin command -v "$prog" >/dev/null ||
		skip_all "$prog is not installed (.ci/deps installs pamtester, libpam-mount-bin, libxml2-utils)"
done
pam_mount_so=$(find /lib/*/security /usr/lib/*/security -name pam_mount.so 2>/dev/null | head -n 1)
[ -n "$pam_mount_so" ] || skip_all "pam_mount.so is not installed (package libpam-mount)"
[ -e /etc/security/pam_mount.conf.xml ] || skip_all "no /etc/security/pam_mount.conf.xml"
vl_setup
PATH=$PATH:/usr/sbin:/sbin

user=vlt80-$$
group=vlt80g-$$
home=/home/$user
service=veilfs-t80-$$
conf=/etc/security/pam_mount.conf.xml
cp -p "$conf" "$VL_TMP/pam_mount.conf.xml.orig" || bail "cannot back up $conf"
made_user=

pam_cleanup() {
	local pid
	cd / || true
	cp -p "$VL_TMP/pam_mount.conf.xml.orig" "$conf"
	rm -f "/etc/pam.d/$service"
	vl_fuse_restore
	if [ -n "$made_user" ]; then
		mountpoint -q "$home/Private" && umount -l "$home/Private"
		for pid in $(ps -o pid= -u "$user" 2>/dev/null); do kill "$pid" 2>/dev/null; done
		userdel "$user" 2>/dev/null
		groupdel "$user" 2>/dev/null
		rm -rf -- "$home" "/run/pam_mount/$user"
	fi
	groupdel "$group" 2>/dev/null
	vl_cleanup
}
trap pam_cleanup EXIT

groupadd "$group" || bail "groupadd failed"
useradd -M -d "$home" -s /bin/sh -U -G "$group" "$user" || bail "useradd failed"
made_user=1
mkdir -m 0700 "$home" && chown "$user:" "$home" || bail "cannot make $home"
as_user() { setpriv --reuid="$user" --regid="$(id -g "$user")" --init-groups -- "$@"; }
set_login() { printf '%s:%s\n' "$user" "$1" | chpasswd; }
set_login 'login pw one'

# The binaries where the user can run them (the build tree may be under a private home).
chmod 0711 "$VL_TMP"
mkdir -m 0755 "$VL_TMP/bin"
cp "$VEILFS" "$VEILCTL" "$VL_TMP/bin/" && chmod 0755 "$VL_TMP/bin/"*
veilctl=$VL_TMP/bin/veilctl

# The user's vault, created with the login password, holding one file.
as_user mkdir "$home/.vault" "$home/Private"
printf 'login pw one\n' | as_user "$veilctl" init --scrypt-log2n 16 "$home/.vault" >/dev/null 2>&1
is "the user creates ~/.vault with the login password on stdin" 0 $?
mkdir -m 0755 "$VL_TMP/src" && printf 'secret plans\n' >"$VL_TMP/src/hello.txt"
printf 'login pw one\n' | as_user "$veilctl" import "$home/.vault" "$VL_TMP/src/hello.txt" hello.txt \
	>"$VL_TMP/import.log" 2>&1
rc=$?
is "and puts a file into it" 0 "$rc"
[ "$rc" -eq 0 ] || sed 's/^/# /' "$VL_TMP/import.log"

# The shipped example, with the test's group and veilfs binary put in.
example=$TOP_SRCDIR/contrib/pam_mount/pam_mount.conf.xml
ok "the example pam_mount config is well-formed XML" xmllint --noout "$example"
sed -e "s|sgrp=\"veilfs\"|sgrp=\"$group\"|" -e "s|path=\"veilfs#|path=\"$VL_TMP/bin/veilfs#|" \
	"$example" >"$conf"
ok "the example names one volume, which the test adapted" \
	grep -q "sgrp=\"$group\" fstype=\"fuse\" path=\"$VL_TMP/bin/veilfs#/home/%(USER)/.vault\"" "$conf"

# A login service as Debian's pam-auth-update writes it (common-auth, common-session), plus
# a probe after pam_mount that records, on open and on close, what the user sees.
cat >"$VL_TMP/probe.sh" <<EOF
#!/bin/sh
mnt=$home/Private
{
	echo "== \$PAM_TYPE"
	if grep -q " \$mnt fuse.veilfs " /proc/mounts; then echo mounted; else echo not-mounted; fi
	setpriv --reuid=$user --regid=$(id -g "$user") --init-groups -- cat "\$mnt/hello.txt" 2>/dev/null
	grep -lFf $VL_TMP/needle /proc/[0-9]*/cmdline /proc/[0-9]*/environ 2>/dev/null | sed 's/^/leak /'
} >>$VL_TMP/probe.log 2>&1
exit 0
EOF
chmod 0755 "$VL_TMP/probe.sh"
cat >"/etc/pam.d/$service" <<EOF
auth     required  pam_unix.so
auth     optional  pam_mount.so
account  required  pam_unix.so
session  optional  pam_mount.so
session  optional  pam_exec.so $VL_TMP/probe.sh
EOF

# pam_mount runs the FUSE mount as the user; /dev/fuse is 0666 on a stock system.
vl_fuse_for_users || bail "cannot lock /dev/fuse"

# login PASSWORD: authenticate, open and close a session in one pamtester (pam_mount keeps
# its volume list in the PAM handle). Sets $rc; the probe's record is in $VL_TMP/probe.log.
login() {
	printf '%s' "$1" >"$VL_TMP/needle"
	: >"$VL_TMP/probe.log"
	printf '%s\n' "$1" | pamtester "$service" "$user" authenticate open_session close_session \
		>"$VL_TMP/pamtester.log" 2>&1
	rc=$?
}
section() { sed -n "/^== $1\$/,/^== /p" "$VL_TMP/probe.log" | sed '/^== /d'; }
no_daemon_left() { # no live (non-zombie) process of the user, within 10 s of the logout
	local i
	for i in $(seq 1 100); do
		[ -z "$(ps -o stat= -u "$user" | grep -v '^Z')" ] && return 0
		sleep 0.1
	done
	ps -o pid,stat,cmd -u "$user" | sed 's/^/# /'
	return 1
}
not_mounted() { ! grep -q " $home/Private " /proc/mounts; }

login 'login pw one'
is "login: pamtester authenticate open_session close_session succeeds" 0 "$rc"
ok "open_session mounted the vault on ~/Private" grep -qx mounted <(section open_session)
is "during the session the user reads the plaintext" "secret plans" \
	"$(section open_session | sed -n 2p)"
is "no process has the login password in its argv or environment" "" \
	"$(grep '^leak' "$VL_TMP/probe.log")"
ok "close_session unmounted it" grep -qx not-mounted <(section close_session)
ok "nothing is mounted after the logout" not_mounted
ok "no veilfs daemon of the user is left running" no_daemon_left
ok "the login count in /run/pam_mount went back to none" \
	sh -c '! [ -s "/run/pam_mount/$1" ] || [ "$(cat "/run/pam_mount/$1")" = 0 ]' _ "$user"
[ "$vl_failed" -eq 0 ] || sed 's/^/# /' "$VL_TMP/pamtester.log"

login 'not the password'
ok "a wrong login password fails the login" test "$rc" -ne 0
ok "and mounts nothing" not_mounted
is "and opens no session" "" "$(section open_session)"

# The login password changes (passwd, chpasswd ...): pam_mount does not rewrap the vault.
set_login 'login pw two'
login 'login pw two'
is "after a login password change the login still succeeds" 0 "$rc"
ok "but the vault, still under the old password, is not mounted" \
	grep -qx not-mounted <(section open_session)
ok "and nothing is left mounted" not_mounted
ok "pam_mount's log names veilfs's reason" grep -q "veilfs: wrong password" "$VL_TMP/pamtester.log"
ok "and no veilfs process is left" no_daemon_left

# The documented remedy: veilctl passwd, the old login password on line 1, the new on line 2.
printf '%s\n%s\n' 'login pw one' 'login pw two' | as_user "$veilctl" passwd "$home/.vault" >/dev/null 2>&1
is "veilctl passwd with the old and new login passwords on stdin" 0 $?
login 'login pw two'
is "the next login succeeds" 0 "$rc"
ok "and mounts the vault again" grep -qx mounted <(section open_session)
is "with the plaintext readable" "secret plans" "$(section open_session | sed -n 2p)"
ok "and the logout unmounts it" not_mounted
ok "leaving no daemon" no_daemon_left
done_testing
