#!/usr/bin/env bash
# t13-mount-safety (issue 9 §2, §3, §5): veilfs refuses a mountpoint inside the cipher
# directory and a cipher directory inside the mountpoint, also through symlinks and bind
# mounts and with --config outside; refuses a mountpoint that is already a mount; reports a
# bad config, a missing cipher directory and a directory that is not a vault with their exit
# statuses and full paths; stops with exit 0 on SIGTERM and SIGINT; mounts nosuid,nodev
# unless -o suid / -o dev, which warn.
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || skip_all "needs root (bind mounts, tmpfs, another user)"
vl_setup
vl_have setpriv || skip_all "setpriv is needed"
id nobody >/dev/null 2>&1 || skip_all "user nobody is needed"
vl_init || bail "veilctl init failed: $(cat "$VL_TMP/init.out")"
T=$VL_TMP

# try_mount CIPHERDIR MNT [ARGS...]: veilfs with its output in $T/out; MNT is unmounted at
# exit should it mount. Returns veilfs's exit status.
try_mount() {
	local c=$1 m=$2
	shift 2
	vl_mounts+=("$m")
	"$VEILFS" --passfile "$PASSFILE" "$@" "$c" "$m" </dev/null >"$T/out" 2>&1
}
said() { grep -qF -- "$1" "$T/out"; }
# mounts on DIR in /proc/self/mountinfo (the paths here have no characters it escapes)
nmounts() { awk -v m="$1" '$5 == m { n++ } END { print n + 0 }' /proc/self/mountinfo; }
mounted_at() { [ "$(nmounts "$1")" -gt 0 ]; }
listing() { (cd "$CIPHER" && find . -printf '%p %y %s\n' | LC_ALL=C sort); }
as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }

# ---- §2: the mountpoint and the cipher directory must not nest
mkdir -p "$CIPHER/inside" "$CIPHER/sub/deeper"
before=$(listing)

try_mount "$CIPHER" "$CIPHER/inside"
is "a mountpoint inside CIPHERDIR is refused with exit 6" 6 $?
nok "  nothing is mounted there" mounted_at "$CIPHER/inside"
ok "  the message says why and names both full paths" \
	said "mountpoint $CIPHER/inside is inside the cipher directory $CIPHER: plaintext must never be written where the sync client uploads the vault"

try_mount "$CIPHER" "$CIPHER" -o nonempty
is "CIPHERDIR itself as the mountpoint (-o nonempty) is refused with exit 6" 6 $?
ok "  the message says it is the cipher directory" said "is the cipher directory $CIPHER itself"
nok "  nothing is mounted there" mounted_at "$CIPHER"

ln -s "$CIPHER/inside" "$T/link"
try_mount "$CIPHER" "$T/link"
is "a symlink to a directory inside CIPHERDIR as the mountpoint: exit 6" 6 $?
nok "  nothing is mounted" mounted_at "$CIPHER/inside"

# ".." at the root of a bind mount leaves CIPHERDIR's file system: only mountinfo tells.
mkdir "$T/bsub"
vl_sysmount "$T/bsub" --bind "$CIPHER/sub" || bail "bind mount of CIPHERDIR/sub"
try_mount "$CIPHER" "$T/bsub/deeper"
is "a mountpoint in a bind mount of a subdirectory of CIPHERDIR: exit 6" 6 $?
nok "  nothing is mounted" mounted_at "$T/bsub/deeper"
ok "  the message names the cipher directory" said "is inside the cipher directory $CIPHER"

mkdir "$T/banc"
vl_sysmount "$T/banc" --bind "$T" || bail "bind mount of the test directory"
try_mount "$T/banc/cipher" "$CIPHER/inside"
is "CIPHERDIR given through a bind mount of its parent, the mountpoint inside the real one: exit 6" 6 $?
nok "  nothing is mounted" mounted_at "$CIPHER/inside"

mkdir "$T/outer"
cp -a "$CIPHER" "$T/outer/vault"
try_mount "$T/outer/vault" "$T/outer" -o nonempty
is "a mountpoint that holds CIPHERDIR (-o nonempty): exit 6" 6 $?
ok "  the message says the cipher directory is inside the mountpoint" \
	said "the cipher directory $T/outer/vault is inside mountpoint $T/outer"
nok "  nothing is mounted" mounted_at "$T/outer"

mkdir "$T/bvault"
vl_sysmount "$T/bvault" --bind "$T/outer/vault" || bail "bind mount of the vault"
try_mount "$T/bvault" "$T/outer" -o nonempty
is "CIPHERDIR given as a bind mount from elsewhere, its real place inside the mountpoint: exit 6" 6 $?
nok "  nothing is mounted" mounted_at "$T/outer"

mv "$CIPHER/veilfs.conf" "$T/outside.conf"
try_mount "$CIPHER" "$CIPHER/inside" --config "$T/outside.conf"
is "with --config outside CIPHERDIR, a mountpoint inside it is still refused (exit 6)" 6 $?
nok "  nothing is mounted" mounted_at "$CIPHER/inside"
ok "  while the same config mounts on a directory beside it" try_mount "$CIPHER" "$MNT" --config "$T/outside.conf"
vl_umount
mv "$T/outside.conf" "$CIPHER/veilfs.conf"
is "the refused mounts wrote nothing into CIPHERDIR" "$before" "$(listing)"

# ---- §5: a mountpoint that is already a mount is refused, not stacked
ok "a mountpoint beside CIPHERDIR mounts" try_mount "$CIPHER" "$MNT"
printf 'first\n' >"$MNT/f"
try_mount "$CIPHER" "$MNT"
is "mounting the same vault again on that mountpoint: exit 6" 6 $?
ok "  the message says it is already a mount point" said "mountpoint $MNT is already a mount point (fuse.veilfs)"
nok "  and does not suggest -o nonempty" said "nonempty"
is "  still one mount there" 1 "$(nmounts "$MNT")"
try_mount "$CIPHER" "$MNT" -o nonempty
is "  the same with -o nonempty: exit 6" 6 $?
is "  still one mount there" 1 "$(nmounts "$MNT")"
is "  and the first mount still works" first "$(cat "$MNT/f")"
vl_umount
mkdir "$T/tmnt"
vl_sysmount "$T/tmnt" -t tmpfs -o size=1m tmpfs || bail "tmpfs"
try_mount "$CIPHER" "$T/tmnt"
is "a mountpoint that is an empty tmpfs mount: exit 6" 6 $?
ok "  the message names its file system type" said "mountpoint $T/tmnt is already a mount point (tmpfs)"
is "  one mount there (the tmpfs)" 1 "$(nmounts "$T/tmnt")"

# ---- §5: config and cipher directory problems, with their exit statuses and full paths
head -c 5000 /dev/zero | tr '\0' x >"$T/big.conf"
try_mount "$CIPHER" "$MNT" --config "$T/big.conf"
is "a config over 4096 bytes: exit 4" 4 $?
ok "  the message names its full path" said "config $T/big.conf is larger than 4096 bytes"
nok "  nothing is mounted" mounted_at "$MNT"
mkdir -p "$T/u/m"
cp -a "$CIPHER" "$T/u/c"
cp "$PASSFILE" "$T/u/pass"
chmod 0711 "$T"
chmod 0755 "$T/u" "$T/u/c" "$T/u/m"
chmod 0644 "$T/u/pass"
chmod 0600 "$T/u/c/veilfs.conf"
as_nobody "$VEILFS" --passfile "$T/u/pass" "$T/u/c" "$T/u/m" </dev/null >"$T/out" 2>&1
is "a config the user cannot read: exit 4 (3 would mean a wrong password)" 4 $?
ok "  the message names its full path and the reason" said "cannot read config $T/u/c/veilfs.conf: Permission denied"
chmod 0700 "$T"

try_mount "$T/nonexistent" "$MNT"
is "a missing cipher directory: exit 10" 10 $?
ok "  the message names its full path" said "cipher directory $T/nonexistent does not exist"
mkdir "$T/notavault"
try_mount "$T/notavault" "$MNT"
is "a directory without veilfs.conf: exit 4" 4 $?
ok "  the message says it is not a veilfs vault" said "$T/notavault is not a veilfs vault"
(cd "$T" && "$VEILFS" --passfile "$PASSFILE" nonexistent mnt </dev/null >"$T/out" 2>&1)
is "relative paths: a missing cipher directory is exit 10" 10 $?
ok "  and the message shows its full path" said "cipher directory $T/nonexistent does not exist"
(cd "$T" && "$VEILFS" --passfile "$PASSFILE" cipher nomnt </dev/null >"$T/out" 2>&1)
is "relative paths: a missing mountpoint is exit 6" 6 $?
ok "  and the message shows its full path" said "mountpoint $T/nomnt does not exist"
"$VEILCTL" info "$T/nonexistent" </dev/null >"$T/out" 2>&1
is "veilctl with a missing cipher directory: exit 10" 10 $?
"$VEILCTL" info "$T/notavault" </dev/null >"$T/out" 2>&1
is "veilctl with a directory that is not a vault: exit 4" 4 $?
ok "  the message says it is not a veilfs vault" said "$T/notavault is not a veilfs vault"

# ---- §5: veilfs -f stops cleanly on SIGTERM and SIGINT
# fg_mount LOG: veilfs -f in the background with SIGINT at its default action (a script's
# background jobs ignore SIGINT, and libfuse leaves an ignored signal alone).
fg_mount() {
	local i
	vl_mounts+=("$MNT")
	env --default-signal=INT "$VEILFS" -f --passfile "$PASSFILE" "$CIPHER" "$MNT" </dev/null >"$1" 2>&1 &
	VL_FGPID=$!
	for i in $(seq 1 300); do
		mountpoint -q "$MNT" && return 0
		kill -0 "$VL_FGPID" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}
for sig in TERM INT; do
	if fg_mount "$T/fg-$sig.log"; then
		kill -"$sig" "$VL_FGPID"
		wait "$VL_FGPID"
		is "veilfs -f stopped by SIG$sig exits 0" 0 $?
		nok "  and has unmounted" mounted_at "$MNT"
		nok "  and logged no error" grep -qi error "$T/fg-$sig.log"
	else
		ok "veilfs -f mounts (for SIG$sig)" false
	fi
	VL_FGPID=
done

# ---- §3: nosuid,nodev unless asked for; -o suid and -o dev warn
opts() { awk -v m="$MNT" '$5 == m { print $6 }' /proc/self/mountinfo | tr ',' ' '; }
vl_mount || bail "mount"
cp /usr/bin/id "$MNT/myid"
chmod 0755 "$MNT/myid"
vl_umount
e=$("$VEILCTL" encrypt-path --passfile "$PASSFILE" "$CIPHER" myid </dev/null | head -n 1)
chmod 04755 "$CIPHER/$e" # the storage side sets the bit on the ciphertext: nothing authenticates it
chmod 0711 "$T"
chmod 0755 "$CIPHER"
ok "a mount with -o allow_other" try_mount "$CIPHER" "$MNT" -o allow_other
ok "  is nosuid by default" grep -qw nosuid <<<"$(opts)"
ok "  is nodev by default" grep -qw nodev <<<"$(opts)"
is "  a set-user-ID bit the storage side set does not make user nobody root" 65534 "$(as_nobody "$MNT/myid" -u 2>&1)"
vl_umount
ok "a mount with -o allow_other,suid" try_mount "$CIPHER" "$MNT" -o allow_other,suid
ok "  warns about it" said "warning: -o suid"
nok "  is not nosuid" grep -qw nosuid <<<"$(opts)"
is "  there the storage side's bit takes effect (what veilfs(1) warns about)" 0 "$(as_nobody "$MNT/myid" -u 2>&1)"
vl_umount
ok "a mount with -o dev" try_mount "$CIPHER" "$MNT" -o dev
ok "  warns about it" said "warning: -o dev"
nok "  is not nodev" grep -qw nodev <<<"$(opts)"
ok "  but is still nosuid" grep -qw nosuid <<<"$(opts)"
vl_umount
chmod 0700 "$T"

# ---- the help and the manual say so
ok "veilfs --help names -o suid and -o dev" grep -q -- '-o suid, -o dev' <<<"$("$VEILFS" --help 2>&1)"
man=$(MANWIDTH=200 man -l "$TOP_SRCDIR/man/veilfs.1" 2>/dev/null || mandoc -T ascii "$TOP_SRCDIR/man/veilfs.1")
ok "veilfs(1) documents exit status 10" grep -Eq '^ +10 +cipherdir does not exist' <<<"$man"
ok "veilfs(1) says what -o allow_other means when the storage side sets a mode" \
	grep -q 'making a ciphertext file mode 0644 lets every local user' <<<"$(tr -s ' \n' ' ' <<<"$man")"
done_testing
