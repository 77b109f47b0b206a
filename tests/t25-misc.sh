#!/usr/bin/env bash
# t25-misc: statfs, fallocate, SEEK_DATA/SEEK_HOLE, flock and fcntl locks between processes,
# shared writable mmap, fsync/fdatasync, a 20 MiB file, many small files.
. "$(dirname "$0")/lib.sh"
vl_setup
vl_have python3 || skip_all "python3 is needed"
vl_init || bail "veilctl init failed: $(cat "$VL_TMP/init.out")"
vl_mount || bail "veilfs did not mount"
B=$(vl_block_size)
py() { python3 -c "import os, sys, errno, fcntl, mmap, time
M = sys.argv[1]
$1" "$MNT"; }

cd "$MNT" || bail "cd"

# --- statfs
ok "df on the mount" sh -c 'df -P "$1" >/dev/null' sh "$MNT"
read -r blocks bavail <<<"$(stat -f -c '%b %a' "$MNT")"
ok "statfs reports a size and free space (blocks $blocks, available $bavail)" \
	test "$blocks" -gt 0 -a "$bavail" -gt 0
read -r cblocks cbsize <<<"$(stat -f -c '%b %S' "$CIPHER")"
read -r mblocks mbsize <<<"$(stat -f -c '%b %S' "$MNT")"
ok "statfs total size is the backing file system's, within 10%" \
	test "$((mblocks * mbsize / 1024 * 10))" -ge "$((cblocks * cbsize / 1024 * 9))" -a \
	"$((mblocks * mbsize / 1024 * 10))" -le "$((cblocks * cbsize / 1024 * 11))"

# --- fallocate
ok "fallocate -l on a new file" fallocate -l 100000 fa
is "fallocate grows the size" 100000 "$(stat -c %s fa)"
ok "fallocated range reads as zeros" cmp -s fa <(head -c 100000 /dev/zero)
printf 'keep me' >fb
ok "fallocate -l on a file with data" fallocate -l 20000 fb
ok "data stays and the rest is zeros" cmp -s fb <(printf 'keep me'; head -c $((20000 - 7)) /dev/zero)
ok "fallocate -o/-l inside the file leaves it unchanged" fallocate -o 100 -l 50 fb
is "size after fallocate inside the file" 20000 "$(stat -c %s fb)"

# --- SEEK_DATA / SEEK_HOLE (veilfs stores no holes: only the one at EOF)
head -c 10000 /dev/urandom >sk
printf x | dd of=sk bs=1 seek=$((30 * B)) conv=notrunc status=none
sz=$(stat -c %s sk)
is "SEEK_DATA from 0" 0 "$(py "fd = os.open(M + '/sk', os.O_RDONLY); print(os.lseek(fd, 0, os.SEEK_DATA))")"
is "SEEK_DATA inside the file returns the same offset" 5000 \
	"$(py "fd = os.open(M + '/sk', os.O_RDONLY); print(os.lseek(fd, 5000, os.SEEK_DATA))")"
is "SEEK_HOLE from 0 is EOF" "$sz" "$(py "fd = os.open(M + '/sk', os.O_RDONLY); print(os.lseek(fd, 0, os.SEEK_HOLE))")"
is "SEEK_DATA at EOF fails with ENXIO" ENXIO \
	"$(vl_errno "fd = os.open('$MNT/sk', os.O_RDONLY); os.lseek(fd, $sz, os.SEEK_DATA)")"
is "SEEK_HOLE past EOF fails with ENXIO" ENXIO \
	"$(vl_errno "fd = os.open('$MNT/sk', os.O_RDONLY); os.lseek(fd, $sz + 10, os.SEEK_HOLE)")"
is "SEEK_END" "$sz" "$(py "fd = os.open(M + '/sk', os.O_RDONLY); print(os.lseek(fd, 0, os.SEEK_END))")"

# --- locks between two processes
printf 'lock me' >lk
is "flock: a second process cannot take an exclusive lock held by the first" "held blocked released" "$(py "
p = M + '/lk'
fd = os.open(p, os.O_RDWR)
fcntl.flock(fd, fcntl.LOCK_EX)
out = ['held']
r, w = os.pipe()
pid = os.fork()
if pid == 0:
    fd2 = os.open(p, os.O_RDWR)
    try:
        fcntl.flock(fd2, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.write(w, b'acquired')
    except BlockingIOError:
        os.write(w, b'blocked')
    os._exit(0)
os.waitpid(pid, 0)
out.append(os.read(r, 100).decode())
fcntl.flock(fd, fcntl.LOCK_UN)
pid = os.fork()
if pid == 0:
    fd2 = os.open(p, os.O_RDWR)
    try:
        fcntl.flock(fd2, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.write(w, b'released')
    except BlockingIOError:
        os.write(w, b'still-blocked')
    os._exit(0)
os.waitpid(pid, 0)
out.append(os.read(r, 100).decode())
print(' '.join(out))")"
is "fcntl locks: overlapping range blocked, disjoint range granted, shared+shared granted" \
	"EAGAIN granted granted" "$(py "
import struct
p = M + '/lk'
fd = os.open(p, os.O_RDWR)
fcntl.lockf(fd, fcntl.LOCK_EX, 100, 0)     # bytes 0..99 write-locked
r, w = os.pipe()
pid = os.fork()
if pid == 0:
    fd2 = os.open(p, os.O_RDWR)
    res = []
    try:
        fcntl.lockf(fd2, fcntl.LOCK_EX | fcntl.LOCK_NB, 10, 50)
        res.append('granted')
    except OSError as e:
        res.append(errno.errorcode[e.errno] if e.errno != errno.EACCES else 'EAGAIN')
    try:
        fcntl.lockf(fd2, fcntl.LOCK_EX | fcntl.LOCK_NB, 100, 200)
        res.append('granted')
    except OSError as e:
        res.append(errno.errorcode[e.errno])
    os.write(w, ' '.join(res).encode())
    os._exit(0)
os.waitpid(pid, 0)
a = os.read(r, 100).decode()
fcntl.lockf(fd, fcntl.LOCK_UN, 100, 0)
fcntl.lockf(fd, fcntl.LOCK_SH, 100, 0)
pid = os.fork()
if pid == 0:
    fd2 = os.open(p, os.O_RDONLY)
    try:
        fcntl.lockf(fd2, fcntl.LOCK_SH | fcntl.LOCK_NB, 100, 0)
        os.write(w, b'granted')
    except OSError as e:
        os.write(w, errno.errorcode[e.errno].encode())
    os._exit(0)
os.waitpid(pid, 0)
print(a.split()[0], a.split()[1], os.read(r, 100).decode())")"
is "F_GETLK reports the other process's lock" "write-lock-by-other" "$(py "
import struct
p = M + '/lk'
fd = os.open(p, os.O_RDWR)
fcntl.lockf(fd, fcntl.LOCK_EX, 10, 0)
r, w = os.pipe()
pid = os.fork()
if pid == 0:
    fd2 = os.open(p, os.O_RDWR)
    q = struct.pack('hhqqi', fcntl.F_WRLCK, 0, 0, 10, 0)
    a = fcntl.fcntl(fd2, fcntl.F_GETLK, q)
    t, wh, st, ln, lpid = struct.unpack('hhqqi', a)
    os.write(w, b'write-lock-by-other' if t == fcntl.F_WRLCK and lpid == os.getppid() else ('type %d pid %d' % (t, lpid)).encode())
    os._exit(0)
os.waitpid(pid, 0)
print(os.read(r, 100).decode())")"

# --- shared writable mmap
head -c $((3 * B + 100)) /dev/urandom >"$VL_TMP/mm"
cp "$VL_TMP/mm" mm
py "
import shutil
def edit(path):
    fd = os.open(path, os.O_RDWR)
    m = mmap.mmap(fd, 0)
    m[0:5] = b'HELLO'
    m[$B - 2:$B + 2] = b'XXXX'
    m[3 * $B + 90:3 * $B + 100] = b'0123456789'
    m.flush()
    m.close()
    os.close(fd)
edit(M + '/mm')
edit('$VL_TMP/mm')
"
is "mmap write, msync, read back via read()" ok "$(py "
fd = os.open(M + '/mm', os.O_RDONLY); a = os.read(fd, 1 << 20)
print('ok' if a == open('$VL_TMP/mm', 'rb').read() else 'differs')")"
is "mmap write then read through another fd without msync (page cache coherent)" ok "$(py "
fd = os.open(M + '/mm', os.O_RDWR)
m = mmap.mmap(fd, 0)
m[10:14] = b'ABCD'
fd2 = os.open(M + '/mm', os.O_RDONLY)
print('ok' if os.pread(fd2, 4, 10) == b'ABCD' else 'differs')
m.close()")"
py "fd = os.open('$VL_TMP/mm', os.O_RDWR); os.pwrite(fd, b'ABCD', 10)"
cd / || true
vl_remount || bail "remount failed"
cd "$MNT" || bail "cd"
ok "mmap writes are in the ciphertext (after remount)" cmp -s mm "$VL_TMP/mm"
is "mmap read of a file written with write()" ok "$(py "
fd = os.open(M + '/mm', os.O_RDONLY)
m = mmap.mmap(fd, 0, prot=mmap.PROT_READ)
print('ok' if m[:] == open('$VL_TMP/mm', 'rb').read() else 'differs')")"

# --- fsync, fdatasync, directory fsync
is "fsync and fdatasync succeed" ok "$(py "
fd = os.open(M + '/sy', os.O_RDWR | os.O_CREAT, 0o644)
os.write(fd, b'x' * 10000); os.fsync(fd); os.write(fd, b'y'); os.fdatasync(fd); os.close(fd)
d = os.open(M, os.O_RDONLY | os.O_DIRECTORY); os.fsync(d); os.close(d)
print('ok')")"
ok "sync -f on the mount" sync -f "$MNT/sy"

# --- a 20 MiB file
head -c $((20 * 1024 * 1024)) /dev/urandom >"$VL_TMP/big"
ok "copy 20 MiB into the mount" cp "$VL_TMP/big" big
ok "20 MiB reads back equal" cmp "$VL_TMP/big" big
want=$(vl_csize $((20 * 1024 * 1024)))
is "the ciphertext of 20 MiB has exactly the size of the format" 1 \
	"$(find "$CIPHER" -type f -size "${want}c" | wc -l)"
cd / || true
vl_remount || bail "remount failed"
cd "$MNT" || bail "cd"
ok "20 MiB reads back equal after a remount" cmp "$VL_TMP/big" big
ok "random reads in the 20 MiB file" python3 -c "import random, sys
random.seed(5)
a = open(sys.argv[1], 'rb'); b = open(sys.argv[2], 'rb')
for _ in range(300):
    off = random.randrange(20 * 1024 * 1024); n = random.randrange(1, 70000)
    a.seek(off); b.seek(off)
    if a.read(n) != b.read(n): sys.exit(1)" big "$VL_TMP/big"

# --- many small files
mkdir many "$VL_TMP/many"
for i in $(seq 1 500); do
	printf 'file %d\n' "$i" >"many/f$i"
	printf 'file %d\n' "$i" >"$VL_TMP/many/f$i"
done
is "500 small files listed" 500 "$(ls many | wc -l)"
ok "500 small files read back" diff -r many "$VL_TMP/many"
cd / || true
vl_remount || bail "remount failed"
ok "500 small files after a remount" diff -r "$MNT/many" "$VL_TMP/many"
ok "rm -r of the 500 files" rm -r "$MNT/many"
is "their ciphertext is gone" 0 "$(find "$CIPHER" -mindepth 1 -type d | wc -l)"

# --- readdir while the directory changes
is "unlinking every entry during one readdir pass leaves nothing behind" "1500 0" "$(py "
d = M + '/scan'
os.mkdir(d)
for i in range(1500):
    open('%s/file-%05d-%s' % (d, i, 'x' * (i % 180)), 'w').close()
n = 0
with os.scandir(d) as it:
    for e in it:
        os.unlink(e.path)
        n += 1
print(n, len(os.listdir(d)))")"
is "entries created during readdir: every earlier entry is seen exactly once" "1000 1000 0" "$(py "
d = M + '/scan2'
os.mkdir(d)
for i in range(1000):
    open('%s/a%05d' % (d, i), 'w').close()
seen = []
with os.scandir(d) as it:
    for k, e in enumerate(it):
        seen.append(e.name)
        if k % 10 == 0:
            open('%s/new%05d' % (d, k), 'w').close()
pre = [x for x in seen if x.startswith('a')]
print(len(pre), len(set(pre)), len(seen) - len(set(seen)))")"

# --- four processes writing, appending, truncating and reading one file at once: never EIO
hammer() {
	python3 -c 'import os, random, sys, errno
p, seed = sys.argv[1], int(sys.argv[2])
random.seed(seed)
for i in range(1500):
    fd = os.open(p, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        r = random.random()
        if r < 0.4:
            os.pwrite(fd, os.urandom(random.randrange(1, 9000)), random.randrange(0, 40000))
        elif r < 0.55:
            os.ftruncate(fd, random.randrange(0, 40000))
        elif r < 0.65:
            a = os.open(p, os.O_WRONLY | os.O_APPEND)
            os.write(a, os.urandom(random.randrange(1, 5000)))
            os.close(a)
        else:
            os.pread(fd, random.randrange(1, 20000), random.randrange(0, 40000))
    except OSError as e:
        print("op %d: %s" % (i, e))
        sys.exit(1)
    finally:
        os.close(fd)' "$@"
}
pids=()
for n in 1 2 3 4; do
	hammer "$MNT/hammered" $n >"$VL_TMP/hammer$n.out" 2>&1 &
	pids+=($!)
done
hfail=0
for p in "${pids[@]}"; do
	wait "$p" || hfail=1
done
ok "4 concurrent writers/truncaters/appenders/readers on one file: no error" test $hfail = 0
[ $hfail = 0 ] || cat "$VL_TMP"/hammer*.out | head -n 5 | while IFS= read -r l; do diag "$l"; done
ok "the hammered file reads back completely" sh -c 'test "$(cat "$1" | wc -c)" = "$(stat -c %s "$1")"' sh "$MNT/hammered"
vl_umount
"$VEILCTL" --passfile "$PASSFILE" fsck "$CIPHER" >"$VL_TMP/fsck.out" 2>&1
is "fsck finds the vault clean after the concurrent writers" 0 "$?"
[ -s "$VL_TMP/fsck.out" ] && grep -v '^fsck: ' "$VL_TMP/fsck.out" | head -n 5 | while IFS= read -r l; do diag "$l"; done

done_testing
