#!/usr/bin/env bash
# When changes under CIPHERDIR can no longer be watched, the mount says so once in its log
# and falls back to 0.1 s cache timeouts, and opens stay exact (issue 11 §1; docs/SYNC.md
# "Fallback"). Inotify runs out for real here, without touching any system-wide limit: the
# daemon runs as a throwaway user whose inotify instances (fs.inotify.max_user_instances,
# counted per user) a helper of the same user has all taken.
. "${TOP_SRCDIR:-$(dirname "$0")/..}/tests/lib.sh"
vl_have setpriv || skip_all "setpriv (util-linux) is not installed"
fm=$(command -v "$FUSERMOUNT") || skip_all "$FUSERMOUNT is not installed"
[ -u "$fm" ] || skip_all "$fm is not set-user-ID root: no FUSE mounts for other users"
[ "$(id -u)" -eq 0 ] || skip_all "needs root to run the daemon as a throwaway user"
PY=/usr/bin/python3 # the system's: a per-user interpreter (pyenv) may be unreadable to others
[ -x "$PY" ] || skip_all "$PY is not installed"
vl_have useradd || skip_all "useradd is not installed"
vl_setup
# A user of its own (fusermount3 wants a name), so that no other program's inotify
# instances are taken; removed at the end if this test made it.
NAME=veilfs-t72
made_user=
if ! id -u $NAME >/dev/null 2>&1; then
	useradd --system --no-create-home --shell /usr/sbin/nologin $NAME 2>"$VL_TMP/useradd.err" ||
		bail "useradd: $(cat "$VL_TMP/useradd.err")"
	made_user=1
fi
U=$(id -u $NAME)
ASUSER=(setpriv --reuid="$U" --regid="$(id -g $NAME)" --clear-groups)
asuser() { "${ASUSER[@]}" "$@"; }
fusemode=$(stat -c %a /dev/fuse)
helper=
daemon=
restore() {
	[ -n "$helper" ] && kill "$helper" 2>/dev/null
	# root cannot stat another user's FUSE mount (mountpoint(1) says "not a mount
	# point"), so vl_umount_dir would skip it: ask /proc/mounts, unmount as root
	cd / && grep -qs " $MNT fuse" /proc/mounts && { "$FUSERMOUNT" -u "$MNT" || umount -l "$MNT"; }
	if [ -n "$daemon" ]; then # the daemon ends with its mount; the user can go after it
		for i in $(seq 1 50); do kill -0 "$daemon" 2>/dev/null || break; sleep 0.1; done
		kill "$daemon" 2>/dev/null
		wait "$daemon" 2>/dev/null
	fi
	[ -n "$helper" ] && wait "$helper" 2>/dev/null
	chmod "$fusemode" /dev/fuse
	vl_cleanup
	[ -n "$made_user" ] && userdel $NAME 2>/dev/null
}
trap restore EXIT
chmod 0666 /dev/fuse # a user's FUSE mount opens /dev/fuse itself (0600 on these machines)
chmod 0755 "$VL_TMP"
vl_init || bail "init: $(cat "$VL_TMP/init.out")"
chown -R $U:"$(id -g $NAME)" "$CIPHER" "$MNT" "$PASSFILE"

# the helper takes every inotify instance the user may have
"${ASUSER[@]}" "$PY" -c '
import ctypes, sys, time
libc = ctypes.CDLL(None, use_errno=True)
fds = [libc.inotify_init1(0) for _ in range(100000)]
print(sum(1 for f in fds if f >= 0), flush=True)
time.sleep(3600)' >"$VL_TMP/helper.out" 2>&1 &
helper=$!
for i in $(seq 1 100); do [ -s "$VL_TMP/helper.out" ] && break; sleep 0.1; done
ok "the helper holds all of the user's inotify instances ($(cat "$VL_TMP/helper.out"))" \
	test "$(cat "$VL_TMP/helper.out")" -gt 0
"${ASUSER[@]}" "$VEILFS" -f --passfile "$PASSFILE" "$CIPHER" "$MNT" </dev/null >"$VL_TMP/log" 2>&1 &
daemon=$!
vl_mounts+=("$MNT")
for i in $(seq 1 300); do grep -qs " $MNT fuse" /proc/mounts && break; sleep 0.1; done
grep -qs " $MNT fuse" /proc/mounts || bail "the daemon did not mount as uid $U: $(cat "$VL_TMP/log")"
ok "the log says once that changes are not watched, and the fallback" \
	grep -q 'inotify is not available: .* falling back to 0.1 s cache timeouts' "$VL_TMP/log"

asuser sh -c "printf 'short\n' >'$MNT/f'; cat '$MNT/f' >/dev/null"
e=$CIPHER/$("$VEILCTL" encrypt-path --passfile "$PASSFILE" "$CIPHER" f </dev/null)
asuser sh -c "printf 'a longer second version\n' >'$MNT/g'"
eg=$CIPHER/$("$VEILCTL" encrypt-path --passfile "$PASSFILE" "$CIPHER" g </dev/null)
cat "$eg" >"$e" # rewritten in place by someone else
is "unwatched: an open right after an in-place rewrite reads the new version" \
	'a longer second version' "$(asuser cat "$MNT/f" 2>&1)"
# stat of the cached path: right after the 0.1 s timeout (bounded poll, not timed)
ok "unwatched: stat shows the new size once the short timeout ends" sh -c '
	for i in $(seq 1 100); do
		[ "$(setpriv --reuid='$U' --regid='"$(id -g $NAME)"' --clear-groups stat -c %s "$1")" = 24 ] && exit 0
		sleep 0.05
	done; exit 1' - "$MNT/f"
rm "$e"
nok "unwatched: an open of a file deleted under CIPHERDIR fails at once" asuser cat "$MNT/f"
done_testing
