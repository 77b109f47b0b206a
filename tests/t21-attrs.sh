#!/usr/bin/env bash
# t21-attrs: chmod, chown, utimens (touch -d, UTIME_OMIT via touch -a / -m) on files,
# directories and symlinks; mkdir mode reported at once; truncate grow and shrink.
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || skip_all "needs root (chown, mknod of devices, other users)"
vl_setup
vl_have python3 || skip_all "python3 is needed"
vl_init || bail "veilctl init failed: $(cat "$VL_TMP/init.out")"
vl_mount || bail "veilfs did not mount"
REF=$VL_TMP/ref
mkdir -p "$REF"
B=$(vl_block_size)

cd "$MNT" || bail "cd"
printf 'content\n' >f
mkdir d
ln -s f l
ln -s /nonexistent/target dangling

# --- chmod
chmod 0600 f
is "chmod 0600 on a file" 600 "$(stat -c %a f)"
chmod 4751 f
is "chmod 4751 (setuid bit) on a file" 4751 "$(stat -c %a f)"
chmod 0644 f
chmod 0705 d
is "chmod 0705 on a directory" 705 "$(stat -c %a d)"
chmod 1777 d
is "chmod 1777 (sticky) on a directory" 1777 "$(stat -c %a d)"
chmod 0755 d
chmod 0640 l
is "chmod through a symlink changes the target" 640 "$(stat -c %a f)"
is "a symlink's own mode stays 777" 777 "$(stat -c %a l)"
chmod 0644 f
is "fchmod on an open fd" 0o600 "$(python3 -c "import os, stat
fd = os.open('$MNT/f', os.O_RDONLY); os.fchmod(fd, 0o600); print(oct(stat.S_IMODE(os.fstat(fd).st_mode))); os.close(fd)")"
chmod 0644 f

# --- chown
chown 1234:5678 f
is "chown on a file" 1234:5678 "$(stat -c %u:%g f)"
chown 2345:6789 d
is "chown on a directory" 2345:6789 "$(stat -c %u:%g d)"
chown -h 3456:7890 l
is "chown -h on a symlink changes the link" 3456:7890 "$(stat -c %u:%g l)"
is "chown -h on a symlink leaves the target alone" 1234:5678 "$(stat -c %u:%g f)"
chown :4321 f
is "chown of the group only" 1234:4321 "$(stat -c %u:%g f)"
chown 0:0 f d
chown -h 0:0 l

# --- utimens
T1='2001-02-03 04:05:06.123456789 +0000'
T2='2011-12-13 14:15:16.987654321 +0000'
T3='1999-09-09 09:09:09.5 +0000'
epoch() { date -d "$1" +%s.%N; }
# times PATH: "atime mtime" in seconds.nanoseconds (of the link itself with -h)
times() { stat -c '%.9X %.9Y' "$@"; }
for obj in f d; do
	touch -d "$T1" "$obj"
	is "touch -d sets atime and mtime with nanoseconds ($obj)" "$(epoch "$T1") $(epoch "$T1")" "$(times "$obj")"
	touch -a -d "$T2" "$obj"
	is "touch -a sets atime only; mtime is UTIME_OMIT ($obj)" "$(epoch "$T2") $(epoch "$T1")" "$(times "$obj")"
	touch -m -d "$T3" "$obj"
	is "touch -m sets mtime only; atime is UTIME_OMIT ($obj)" "$(epoch "$T2") $(epoch "$T3")" "$(times "$obj")"
done
touch -h -d "$T1" l
is "touch -h sets the symlink's own times" "$(epoch "$T1") $(epoch "$T1")" "$(times l)"
touch -h -m -d "$T2" l
is "touch -h -m on a symlink (UTIME_OMIT atime)" "$(epoch "$T1") $(epoch "$T2")" "$(times l)"
is "the symlink target's times were not touched by touch -h" "$(epoch "$T2") $(epoch "$T3")" "$(times f)"
touch -h -d "$T3" dangling
is "touch -h on a dangling symlink" "$(epoch "$T3") $(epoch "$T3")" "$(times dangling)"
before=$(date +%s)
touch f
now_m=$(stat -c %Y f)
ok "touch without a time sets mtime to now (UTIME_NOW)" test "$now_m" -ge "$before"
is "futimens on an open fd" 1000000000 "$(python3 -c "import os
fd = os.open('$MNT/f', os.O_RDONLY); os.utime(fd, ns=(1, 1000000000 * 10**9)); print(os.fstat(fd).st_mtime_ns // 10**9); os.close(fd)")"
# A write moves mtime forward.
touch -d "$T1" f
printf x >>f
ok "a write updates mtime" test "$(stat -c %Y f)" -gt "$(date -d "$T1" +%s)"
touch -d "$T1" d
touch d/newfile
ok "creating an entry updates the directory's mtime" test "$(stat -c %Y d)" -gt "$(date -d "$T1" +%s)"

# --- mkdir mode is reported at once, not after a delay
mkdir -m 0151 m151
is "mkdir -m 0151 reports 0151 immediately" 151 "$(stat -c %a m151)"
is "the 0151 directory is listed as a directory" directory "$(stat -c %F m151)"
mkdir -m 0700 m700
is "mkdir -m 0700" 700 "$(stat -c %a m700)"
(umask 027 && mkdir um && printf x >um/f)
is "mkdir honours the umask" 750 "$(stat -c %a um)"
is "create honours the umask" 640 "$(stat -c %a um/f)"
is "mknod/open with mode 0 gives mode 0" 0 "$(python3 -c "import os
os.close(os.open('$MNT/mode0', os.O_CREAT | os.O_WRONLY, 0)); print(oct(os.stat('$MNT/mode0').st_mode & 0o7777)[2:])")"

# --- everything above survives a remount
cd / || true
vl_remount || bail "remount failed"
cd "$MNT" || bail "cd"
is "after remount: mode of m151" 151 "$(stat -c %a m151)"
is "after remount: owner of d" 0:0 "$(stat -c %u:%g d)"
is "after remount: symlink times" "$(epoch "$T1") $(epoch "$T2")" "$(times l)"
is "after remount: dangling symlink times" "$(epoch "$T3") $(epoch "$T3")" "$(times dangling)"
chown -h 3456:7890 l
cd / || true
vl_remount || bail "remount failed"
cd "$MNT" || bail "cd"
is "after remount: symlink owner" 3456:7890 "$(stat -c %u:%g l)"

# --- truncate: shrink and grow, compared with a plain file
head -c $((5 * B + 123)) /dev/urandom >"$REF/tr"
cp "$REF/tr" "$MNT/tr"
steps="$((3 * B + 7)) $((3 * B)) $((8 * B + 1)) $((2 * B - 1)) 1 0 $((B + 5)) $((20 * B)) $B"
for s in $steps; do
	truncate -s "$s" "$MNT/tr"
	truncate -s "$s" "$REF/tr"
	is "truncate to $s: size" "$s" "$(stat -c %s "$MNT/tr")"
	ok "truncate to $s: content equals a plain file's" cmp -s "$MNT/tr" "$REF/tr"
done
# Shrink, then write past the old end: the region between must read as zeros, not stale data.
head -c $((4 * B)) /dev/urandom >"$REF/tr2"
cp "$REF/tr2" "$MNT/tr2"
for p in "$MNT" "$REF"; do
	truncate -s 100 "$p/tr2"
	printf y | dd of="$p/tr2" bs=1 seek=$((3 * B + 10)) conv=notrunc status=none
done
ok "shrink then write past the end: no stale data comes back" cmp -s "$MNT/tr2" "$REF/tr2"
# ftruncate through an fd opened O_WRONLY, then read back
for p in "$MNT" "$REF"; do
	python3 -c "import os
fd = os.open('$p/tr3', os.O_WRONLY | os.O_CREAT, 0o644)
os.write(fd, b'abc' * 3000)
os.ftruncate(fd, 4097)
os.ftruncate(fd, 9000)
os.close(fd)"
done
ok "ftruncate on an O_WRONLY fd (shrink then grow)" cmp -s "$MNT/tr3" "$REF/tr3"
cd / || true
vl_remount || bail "remount failed"
for f in tr tr2 tr3; do
	ok "after remount: truncated file $f equals the plain one" cmp -s "$MNT/$f" "$REF/$f"
done

vl_umount
done_testing
