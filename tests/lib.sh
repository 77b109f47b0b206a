# tests/lib.sh: sourced by every shell test. TAP output, private temporary directories, and
# mounts that are always unmounted, even when a test fails or is interrupted.
# Needs $VEILFS, $VEILCTL (set by make check; defaults to the build tree).
set -u

: "${TOP_BUILDDIR:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${TOP_SRCDIR:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${VEILFS:=$TOP_BUILDDIR/veilfs}"
: "${VEILCTL:=$TOP_BUILDDIR/veilctl}"
: "${FUSERMOUNT:=fusermount3}"

vl_n=0
vl_failed=0
vl_mounts=()
VL_TMP=

# ok DESC CMD...: one TAP test point, passing when CMD exits 0.
ok() {
	local desc=$1
	shift
	vl_n=$((vl_n + 1))
	if "$@"; then
		echo "ok $vl_n - $desc"
	else
		echo "not ok $vl_n - $desc"
		vl_failed=$((vl_failed + 1))
	fi
}
# nok DESC CMD...: passes when CMD fails.
nok() {
	local desc=$1
	shift
	vl_n=$((vl_n + 1))
	if "$@"; then
		echo "not ok $vl_n - $desc (command succeeded)"
		vl_failed=$((vl_failed + 1))
	else
		echo "ok $vl_n - $desc"
	fi
}
# is DESC EXPECTED ACTUAL
is() {
	vl_n=$((vl_n + 1))
	if [ "$2" = "$3" ]; then
		echo "ok $vl_n - $1"
	else
		echo "not ok $vl_n - $1"
		printf '#   expected: %s\n#   got:      %s\n' "$2" "$3"
		vl_failed=$((vl_failed + 1))
	fi
}
# skip_test DESC REASON: a skipped point (counted as skipped, never as passed).
skip_test() {
	vl_n=$((vl_n + 1))
	echo "ok $vl_n - $1 # SKIP $2"
}
diag() { printf '# %s\n' "$*"; }
# skip_all REASON: the whole file is skipped (exit 77 semantics through TAP).
skip_all() {
	echo "1..0 # SKIP $*"
	exit 0
}
# done_testing: prints the plan and exits non-zero if anything failed.
done_testing() {
	echo "1..$vl_n"
	[ "$vl_failed" -eq 0 ]
	exit $?
}
bail() {
	echo "Bail out! $*"
	exit 1
}

vl_cleanup() {
	local m
	cd / || true
	for m in "${vl_mounts[@]}"; do
		vl_umount_dir "$m" 2>/dev/null
	done
	[ -n "$VL_TMP" ] && [ -d "$VL_TMP" ] && rm -rf -- "$VL_TMP"
}

# vl_setup: makes $VL_TMP with $CIPHER, $MNT, $PASSFILE (password "test password") and
# registers the cleanup trap.
vl_setup() {
	[ -e /dev/fuse ] || skip_all "no /dev/fuse"
	[ -x "$VEILFS" ] || bail "VEILFS=$VEILFS is not built"
	[ -x "$VEILCTL" ] || bail "VEILCTL=$VEILCTL is not built"
	VL_TMP=$(mktemp -d "${TMPDIR:-/tmp}/veilfs-test.XXXXXX") || bail "mktemp failed"
	trap vl_cleanup EXIT
	trap 'exit 130' INT TERM
	CIPHER=$VL_TMP/cipher
	MNT=$VL_TMP/mnt
	PASSFILE=$VL_TMP/pass
	mkdir -p "$CIPHER" "$MNT"
	printf 'test password\n' >"$PASSFILE"
}

# vl_init [ARGS...] [DIR]: creates a vault in $CIPHER (or the last argument if it is a
# directory path given explicitly via VL_INIT_DIR) with the minimum scrypt cost for speed.
# VL_INIT_FORMAT=1 makes format-1 vaults (the tests named *-v1.sh run their base test so).
vl_init() {
	local fmt=()
	[ -n "${VL_INIT_FORMAT:-}" ] && fmt=(--format "$VL_INIT_FORMAT")
	"$VEILCTL" init --passfile "$PASSFILE" --scrypt-log2n 16 "${fmt[@]}" "$@" "${VL_INIT_DIR:-$CIPHER}" \
		</dev/null >"$VL_TMP/init.out" 2>&1
}

# vl_mount [ARGS...]: mounts $CIPHER on $MNT; vl_mount_at CIPHERDIR MNT [ARGS...] for others.
vl_mount() {
	vl_mount_at "$CIPHER" "$MNT" "$@"
}
vl_mount_at() {
	local c=$1 m=$2
	shift 2
	vl_mounts+=("$m")
	"$VEILFS" --passfile "$PASSFILE" "$@" "$c" "$m" </dev/null
}

vl_umount_dir() {
	local m=$1 i
	mountpoint -q "$m" || return 0
	for i in 1 2 3 4 5 6 7 8 9 10; do
		"$FUSERMOUNT" -u "$m" 2>/dev/null && return 0
		sleep 0.2
	done
	umount -l "$m" 2>/dev/null || "$FUSERMOUNT" -uz "$m"
}
vl_umount() {
	cd / || true
	vl_umount_dir "$MNT"
}

# --- Helpers for the mounted tests t2x..t5x (added by the tests helper) ---
# vl_have PROG: true when PROG is on $PATH.
vl_have() { command -v "$1" >/dev/null 2>&1; }
# vl_errno PYTHON-STATEMENTS: runs them (os, errno, fcntl imported) and prints OK, or the
# errno name of the OSError they raised (ENOENT, EEXIST ...).
vl_errno() {
	python3 -c 'import os, sys, errno, fcntl
try:
    exec(sys.argv[1])
    print("OK")
except OSError as e:
    print(errno.errorcode.get(e.errno, str(e.errno)))' "$1" 2>&1
}
# vl_remount [ARGS...]: unmounts $MNT and mounts it again, so nothing comes from caches.
vl_remount() {
	vl_umount && vl_mount "$@"
}
# vl_drop_caches: writes back and drops the page cache (as root; harmless otherwise).
vl_drop_caches() {
	sync
	echo 3 >/proc/sys/vm/drop_caches 2>/dev/null || true
}
# vl_block_size [CIPHERDIR]: the plaintext block size from the vault's config.
vl_block_size() {
	sed -n 's/^block_size = //p' "${1:-$CIPHER}/veilfs.conf"
}
# vl_mount_fg LOG [ARGS...]: runs veilfs -f in the background (stdout and stderr to LOG) on
# $CIPHER $MNT and waits, bounded, until the mount is up. Sets VL_FGPID. vl_umount_fg stops it.
VL_FGPID=
vl_mount_fg() {
	local log=$1 i
	shift
	vl_mounts+=("$MNT")
	"$VEILFS" -f --passfile "$PASSFILE" "$@" "$CIPHER" "$MNT" </dev/null >"$log" 2>&1 &
	VL_FGPID=$!
	for i in $(seq 1 300); do
		mountpoint -q "$MNT" && return 0
		kill -0 "$VL_FGPID" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}
vl_umount_fg() {
	vl_umount
	[ -n "$VL_FGPID" ] && wait "$VL_FGPID" 2>/dev/null
	VL_FGPID=
	return 0
}

# --- format-aware sizes (format 2, docs/FORMAT.md §3; format 1, docs/FORMAT-v1.md §3) ---
# vl_format [CIPHERDIR]: the vault's format number.
vl_format() { sed -n 's/^format = //p' "${1:-$CIPHER}/veilfs.conf"; }
# vl_hdr [CIPHERDIR]: the header length of a file with a short on-disk name.
vl_hdr() { if [ "$(vl_format "${1:-$CIPHER}")" = 1 ]; then echo 24; else echo 72; fi; }
# vl_csize PSIZE [CIPHERDIR]: the ciphertext size of a file of PSIZE bytes with a short name.
vl_csize() {
	local p=$1 c=${2:-$CIPHER} b h
	b=$(vl_block_size "$c")
	h=$(vl_hdr "$c")
	if [ "$p" -eq 0 ]; then
		if [ "$(vl_format "$c")" = 1 ]; then echo 0; else echo $((h + 28)); fi
		return
	fi
	echo $((h + (p / b) * (b + 28) + (p % b > 0 ? p % b + 28 : 0)))
}

# --- /dev/fuse for ordinary users (added by pkg) ---
# vl_fuse_for_users: makes /dev/fuse 0666, as on a stock Debian system (these machines have
# 0600), for the rest of the test, holding an exclusive lock so that tests running in
# parallel never restore each other's mode. Call vl_fuse_restore from the EXIT trap: it puts
# the old mode back and releases the lock.
VL_FUSE_MODE=
VL_FUSE_LOCKFD=
vl_fuse_for_users() {
	local dir=/run/lock
	[ -d "$dir" ] || dir=/tmp
	exec {VL_FUSE_LOCKFD}>>"$dir/veilfs-dev-fuse.lock" || return 1
	flock -w 900 "$VL_FUSE_LOCKFD" || return 1
	VL_FUSE_MODE=$(stat -c %a /dev/fuse) && chmod 0666 /dev/fuse
}
vl_fuse_restore() {
	[ -n "$VL_FUSE_MODE" ] && chmod "$VL_FUSE_MODE" /dev/fuse
	VL_FUSE_MODE=
	if [ -n "$VL_FUSE_LOCKFD" ]; then
		exec {VL_FUSE_LOCKFD}>&-
		VL_FUSE_LOCKFD=
	fi
	return 0
}
