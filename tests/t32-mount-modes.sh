#!/usr/bin/env bash
# Mounting the ways users do: through mount(8) and /etc/fstab syntax (mount.fuse3 runs
# veilfs with "CIPHERDIR MNT -o opts"), and as an ordinary user through fusermount3.
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" -eq 0 ] || skip_all "needs root (mount(8), switching users)"
vl_setup
ok "init" vl_init
printf 'through fstab\n' >"$VL_TMP/src"
bindir=$(dirname "$VEILFS")

# mount(8) and fstab. mount.fuse3 runs the program named in the source ("PROG#CIPHERDIR",
# type fuse) or, for type fuse.veilfs, "veilfs" from mount's own sanitised PATH (so that
# form needs veilfs installed by make install; tested only when it is).
mounted_file() { mountpoint -q "$MNT" && [ "$(cat "$MNT/f" 2>&1)" = "through fstab" ]; }
if command -v mount.fuse3 >/dev/null || [ -x /sbin/mount.fuse3 ]; then
	vl_mounts+=("$MNT")
	mount -t fuse "$VEILFS#$CIPHER" "$MNT" -o "passfile=$PASSFILE" </dev/null
	is "mount -t fuse PROG#CIPHERDIR MNT -o passfile=FILE succeeds" 0 $?
	is "/proc/mounts shows the type fuse.veilfs" "fuse.veilfs" \
		"$(awk -v m="$MNT" '$2 == m {print $3}' /proc/mounts)"
	mountpoint -q "$MNT" && cp "$VL_TMP/src" "$MNT/f"
	ok "a file written through mount(8)'s mount reads back" mounted_file
	vl_umount
	ok "umount leaves no mount" sh -c '! mountpoint -q "$1"' _ "$MNT"
	printf '%s#%s %s fuse passfile=%s,noauto 0 0\n' "$VEILFS" "$CIPHER" "$MNT" "$PASSFILE" >"$VL_TMP/fstab"
	mount --fstab "$VL_TMP/fstab" "$MNT" </dev/null
	is "an fstab line mounts (mount --fstab FILE MNT)" 0 $?
	ok "the fstab mount shows the file" mounted_file
	vl_umount
	if PATH=/usr/bin:/bin:/usr/sbin:/sbin command -v veilfs >/dev/null; then
		mount -t fuse.veilfs "$CIPHER" "$MNT" -o "passfile=$PASSFILE" </dev/null
		is "mount -t fuse.veilfs with the installed veilfs" 0 $?
		ok "the fuse.veilfs mount shows the file" mounted_file
		vl_umount
	else
		skip_test "mount -t fuse.veilfs" "veilfs is not installed in the system PATH (tests/deb-test.sh installs the package and tests it)"
	fi
else
	skip_test "mount(8) and fstab" "mount.fuse3 is not installed"
fi

# An ordinary user mounts through the set-uid fusermount3.
user=nobody
if id "$user" >/dev/null 2>&1 && command -v setpriv >/dev/null; then
	trap 'vl_fuse_restore; vl_cleanup' EXIT
	vl_fuse_for_users || bail "cannot lock /dev/fuse" # 0666 as on a desktop; restored by the trap
	ucipher=$VL_TMP/user-cipher umnt=$VL_TMP/user-mnt
	mkdir -p "$ucipher" "$umnt"
	cp "$PASSFILE" "$VL_TMP/user-pass"
	chown "$user" "$ucipher" "$umnt" "$VL_TMP/user-pass"
	chmod 0711 "$VL_TMP"
	as_user() { setpriv --reuid="$user" --regid="$(id -g "$user")" --clear-groups -- "$@"; }
	as_user "$VEILCTL" init --passfile "$VL_TMP/user-pass" --scrypt-log2n 16 "$ucipher" </dev/null >/dev/null 2>&1
	is "an ordinary user creates a vault" 0 $?
	vl_mounts+=("$umnt")
	as_user "$VEILFS" --passfile "$VL_TMP/user-pass" "$ucipher" "$umnt" </dev/null
	is "an ordinary user mounts it through fusermount3" 0 $?
	as_user sh -c 'echo mine > "$1/f" && cat "$1/f"' _ "$umnt" >"$VL_TMP/user.out" 2>&1
	is "the user writes and reads a file" "mine" "$(cat "$VL_TMP/user.out")"
	is "the backing file belongs to the user" "$user" \
		"$(stat -c %U "$(find "$ucipher" -type f ! -name 'veilfs.*' | head -1)")"
	as_user fusermount3 -u "$umnt"
	is "the user unmounts with fusermount3 -u" 0 $?
else
	skip_test "mount as an ordinary user" "no user $user or no setpriv"
fi
done_testing
