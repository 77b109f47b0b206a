#!/usr/bin/env bash
# t23-links: hard links, symlinks (relative, absolute, 4095-byte targets), fifos, unix
# sockets, device nodes, and stat of each kind, also after a remount.
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || skip_all "needs root (chown, mknod of devices, other users)"
vl_setup
vl_have python3 || skip_all "python3 is needed"
vl_init || bail "veilctl init failed: $(cat "$VL_TMP/init.out")"
vl_mount || bail "veilfs did not mount"

cd "$MNT" || bail "cd"
mkdir d e

# --- hard links. Format 2 binds a file's one header to its directory (FORMAT.md §6): links
# stay in that directory, with short names (X: where the third name goes).
printf 'shared content\n' >d/h1
ok "link" ln d/h1 d/h2
if [ "$(vl_format)" = 1 ]; then
	X=e
	ok "link into another directory" ln d/h1 e/h3
else
	X=d
	is "link into another directory: EPERM (format 2)" EPERM "$(vl_errno "os.link('$MNT/d/h1', '$MNT/e/h3')")"
	ok "a third link in the same directory" ln d/h1 d/h3
fi
is "link count is 3 on every name" "3 3 3" "$(stat -c %h d/h1 d/h2 $X/h3 | tr '\n' ' ' | sed 's/ $//')"
i1=$(stat -c %i d/h1)
is "all names have the same st_ino" "$i1 $i1" "$(stat -c %i d/h2 $X/h3 | tr '\n' ' ' | sed 's/ $//')"
printf 'appended via h3\n' >>$X/h3
is "content written through one name is read through another" \
	"$(printf 'shared content\nappended via h3')" "$(cat d/h1)"
is "size seen through another name follows the write" 31 "$(stat -c %s d/h2)"
python3 -c "import os; fd = os.open('$MNT/d/h2', os.O_RDWR); os.pwrite(fd, b'S', 0); os.close(fd)"
is "overwrite through one name is seen through the others" "Shared content" "$(head -n 1 $X/h3)"
truncate -s 6 d/h2
is "truncate through one name is seen through the others" "Shared" "$(cat $X/h3)"
ok "unlink one name" rm d/h1
is "link count drops to 2" "2 2" "$(stat -c %h d/h2 $X/h3 | tr '\n' ' ' | sed 's/ $//')"
is "the other names still read" Shared "$(cat d/h2)"
chmod 0600 d/h2
is "chmod through one name shows through the other" 600 "$(stat -c %a $X/h3)"
is "link to a directory fails with EPERM" EPERM "$(vl_errno "os.link('$MNT/d', '$MNT/dlink')")"
is "link onto an existing name fails with EEXIST" EEXIST "$(vl_errno "os.link('$MNT/d/h2', '$MNT/$X/h3')")"
L=$(printf 'hl%0250d' 0)
if [ "$(vl_format)" = 1 ]; then
	ok "link with a long name" ln d/h2 "e/$L"
	is "the long-named link reads" Shared "$(cat "e/$L")"
	is "link count after the long link" 3 "$(stat -c %h d/h2)"
else
	is "link with a long name: EPERM (format 2)" EPERM "$(vl_errno "os.link('$MNT/d/h2', '$MNT/d/$L')")"
	is "link count unchanged" 2 "$(stat -c %h d/h2)"
fi
# an empty file linked, then written through the link: the header binds the file ID
: >d/empty
ln d/empty $X/empty-link
printf late >$X/empty-link
is "an empty file written through its link is seen through the first name" late "$(cat d/empty)"

# --- symlinks
printf target >d/t
ok "relative symlink" ln -s t d/rel
is "readlink of a relative symlink" t "$(readlink d/rel)"
is "reading through a relative symlink" target "$(cat d/rel)"
ok "relative symlink to another directory" ln -s ../d/t e/up
is "reading through ../" target "$(cat e/up)"
ok "absolute symlink" ln -s "$MNT/d/t" d/abs
is "readlink of an absolute symlink" "$MNT/d/t" "$(readlink d/abs)"
is "reading through an absolute symlink" target "$(cat d/abs)"
ok "dangling symlink" ln -s /does/not/exist d/dang
is "readlink of a dangling symlink" /does/not/exist "$(readlink d/dang)"
nok "stat -L of a dangling symlink fails" stat -L d/dang 2>/dev/null
is "lstat type of a symlink" "symbolic link" "$(stat -c %F d/rel)"
is "symlink st_size is the target length" 15 "$(stat -c %s d/dang)"
T4095=$(head -c 4095 /dev/zero | tr '\0' 'x')
ok "symlink with a 4095-byte target" ln -s "$T4095" d/longtarget
is "readlink returns all 4095 bytes" 4095 "$(readlink d/longtarget | tr -d '\n' | wc -c)"
ok "the 4095-byte target is exact" test "$(readlink d/longtarget)" = "$T4095"
is "st_size of the 4095-byte symlink" 4095 "$(stat -c %s d/longtarget)"
U=$(printf 'caf\xc3\xa9/\xe6\x97\xa5 space')
ln -s "$U" d/utf8
is "UTF-8 and spaces in a target" "$U" "$(readlink d/utf8)"
SL=$(printf 'sl%0250d' 0)
ln -s t "d/$SL"
is "symlink with a long name" t "$(readlink "d/$SL")"
is "symlink onto an existing name fails with EEXIST" EEXIST "$(vl_errno "os.symlink('x', '$MNT/d/t')")"
ok "link to a symlink is a symlink with 2 links" ln -P d/rel d/rel2
is "link count of the linked symlink" "2 symbolic link" "$(stat -c '%h %F' d/rel2)"
ok "unlink a symlink (target stays)" rm d/abs
ok "the target is still there" test -f d/t
is "no backing symlinks: symlinks are object files" "" "$(find "$CIPHER" -type l)"

# --- fifo
ok "mkfifo" mkfifo d/fifo
is "stat type of a fifo" fifo "$(stat -c %F d/fifo)"
(timeout 20 sh -c 'printf "through the fifo" >"$1"' sh "$MNT/d/fifo") &
wpid=$!
is "a reader gets what a writer puts in the fifo" "through the fifo" "$(timeout 20 cat d/fifo)"
wait $wpid
ok "fifo writer exited cleanly" test $? = 0
is "a fifo made with mknod(2) mode 0640" "640 fifo" "$(python3 -c "import os, stat
os.mknod('$MNT/d/fifo2', stat.S_IFIFO | 0o640); st = os.lstat('$MNT/d/fifo2')
print(oct(stat.S_IMODE(st.st_mode))[2:], 'fifo' if stat.S_ISFIFO(st.st_mode) else 'other')")"

# --- unix socket
sock_out=$(timeout 20 python3 -c 'import os, socket, sys
p = sys.argv[1]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(p); s.listen(1)
if os.fork() == 0:
    c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    c.connect(p); c.sendall(b"over the socket"); c.close(); os._exit(0)
a, _ = s.accept()
data = b""
while True:
    b = a.recv(100)
    if not b: break
    data += b
os.wait()
print(data.decode())' "$MNT/d/sock" 2>&1)
is "bind, connect and talk over a unix socket on the mount" "over the socket" "$sock_out"
is "stat type of a socket" socket "$(stat -c %F d/sock)"

# --- device nodes
ok "mknod of a character device" mknod d/cdev c 1 3
is "stat of a character device: type, major, minor" "character special file 1 3" \
	"$(stat -c '%F %t %T' d/cdev)"
ok "mknod of a block device" mknod d/bdev b 7 200
is "stat of a block device: type, major, minor (hex)" "block special file 7 c8" \
	"$(stat -c '%F %t %T' d/bdev)"

# --- every kind keeps its type after a remount
cd / || true
vl_remount || bail "remount failed"
cd "$MNT" || bail "cd"
is "after remount: kinds" \
	"block special file|character special file|fifo|fifo|regular file|socket|symbolic link" \
	"$(stat -c %F d/bdev d/cdev d/fifo d/fifo2 d/t d/sock d/rel | tr '\n' '|' | sed 's/|$//')"
is "after remount: device numbers" "1 3" "$(stat -c '%t %T' d/cdev)"
ok "after remount: the 4095-byte target" test "$(readlink d/longtarget)" = "$T4095"
is "after remount: UTF-8 target" "$U" "$(readlink d/utf8)"
if [ "$(vl_format)" = 1 ]; then
	is "after remount: hard link count and st_ino" "3 3" "$(stat -c %h d/h2 "e/$L" | tr '\n' ' ' | sed 's/ $//')"
else
	is "after remount: hard link count" "2 2" "$(stat -c %h d/h2 d/h3 | tr '\n' ' ' | sed 's/ $//')"
fi
is "after remount: hard links share st_ino" "$(stat -c %i d/h2)" "$(stat -c %i $X/h3)"
is "after remount: the linked symlink" "2 t" "$(stat -c %h d/rel2) $(readlink d/rel2)"
(timeout 20 sh -c 'printf again >"$1"' sh "$MNT/d/fifo") &
wpid=$!
is "after remount: the fifo still works" again "$(timeout 20 cat d/fifo)"
wait $wpid

cd / || true
vl_umount
done_testing
