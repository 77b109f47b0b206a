#!/usr/bin/env bash
# t24-xattr: user.* extended attributes on files and directories: set, get (0-byte and
# 4 KiB values), list, remove, create/replace flags, and what the ciphertext shows.
. "$(dirname "$0")/lib.sh"
vl_setup
vl_have python3 || skip_all "python3 is needed"
vl_init || bail "veilctl init failed: $(cat "$VL_TMP/init.out")"
vl_mount || bail "veilfs did not mount"

# py CODE: runs python with os imported, M = the mount.
py() { python3 -c "import os, sys, errno
M = sys.argv[1]
$1" "$MNT"; }
have_attr=0
vl_have setfattr && vl_have getfattr && have_attr=1

# The backing file system must hold a 4 KiB value plus the 28-byte AEAD overhead under a
# long encoded name; ext4 with 4 KiB blocks cannot (one block for all of an inode's xattrs).
BIGLEN=4096
touch "$VL_TMP/probe"
if [ "$(vl_errno "os.setxattr('$VL_TMP/probe', 'user.veilfs.' + 'a' * 40, b'x' * (4096 + 28))")" != OK ]; then
	BIGLEN=3072
	skip_test "4 KiB xattr value" "the backing file system cannot store 4096+28 bytes (testing 3 KiB)"
fi

cd "$MNT" || bail "cd"
printf content >f
mkdir d
: >empty

for obj in f d empty; do
	if [ $have_attr = 1 ]; then
		ok "setfattr user.greeting on $obj" setfattr -n user.greeting -v hello "$obj"
		is "getfattr user.greeting on $obj" hello "$(getfattr --only-values -n user.greeting "$obj")"
	else
		py "os.setxattr(M + '/$obj', 'user.greeting', b'hello')"
		is "os.setxattr/getxattr user.greeting on $obj" "b'hello'" "$(py "print(os.getxattr(M + '/$obj', 'user.greeting'))")"
	fi
	py "os.setxattr(M + '/$obj', 'user.zero', b'')"
	is "0-byte value on $obj" "b''" "$(py "print(os.getxattr(M + '/$obj', 'user.zero'))")"
	is "$BIGLEN-byte value on $obj" ok "$(py "v = bytes((i * 7 + 3) % 256 for i in range($BIGLEN))
os.setxattr(M + '/$obj', 'user.big', v)
print('ok' if os.getxattr(M + '/$obj', 'user.big') == v else 'differs')")"
	is "binary value with NULs on $obj" ok "$(py "v = b'\\0a\\0b\\0'
os.setxattr(M + '/$obj', 'user.bin', v)
print('ok' if os.getxattr(M + '/$obj', 'user.bin') == v else 'differs')")"
	is "list on $obj" "user.big user.bin user.greeting user.zero" \
		"$(py "print(' '.join(sorted(os.listxattr(M + '/$obj'))))")"
	py "os.setxattr(M + '/$obj', 'user.greeting', b'replaced value')"
	is "overwrite a value on $obj" "b'replaced value'" "$(py "print(os.getxattr(M + '/$obj', 'user.greeting'))")"
	is "XATTR_CREATE on an existing name fails with EEXIST ($obj)" EEXIST \
		"$(vl_errno "os.setxattr('$MNT/$obj', 'user.greeting', b'x', os.XATTR_CREATE)")"
	is "XATTR_REPLACE on a missing name fails with ENODATA ($obj)" ENODATA \
		"$(vl_errno "os.setxattr('$MNT/$obj', 'user.nothere', b'x', os.XATTR_REPLACE)")"
	if [ $have_attr = 1 ]; then
		ok "setfattr -x removes user.bin on $obj" setfattr -x user.bin "$obj"
	else
		py "os.removexattr(M + '/$obj', 'user.bin')"
	fi
	is "a removed attribute reads ENODATA ($obj)" ENODATA "$(vl_errno "os.getxattr('$MNT/$obj', 'user.bin')")"
	is "removing a missing attribute fails with ENODATA ($obj)" ENODATA \
		"$(vl_errno "os.removexattr('$MNT/$obj', 'user.bin')")"
	is "list after remove on $obj" "user.big user.greeting user.zero" \
		"$(py "print(' '.join(sorted(os.listxattr(M + '/$obj'))))")"
done
is "a missing attribute reads ENODATA" ENODATA "$(vl_errno "os.getxattr('$MNT/f', 'user.never')")"
is "a too-small buffer gives ERANGE" ERANGE "$(python3 -c "import ctypes, errno
libc = ctypes.CDLL(None, use_errno=True)
buf = ctypes.create_string_buffer(4)
r = libc.getxattr(b'$MNT/f', b'user.greeting', buf, 4)
print('OK' if r >= 0 else errno.errorcode[ctypes.get_errno()])")"
is "size query (size 0) returns the value length" 14 "$(python3 -c "import ctypes
libc = ctypes.CDLL(None, use_errno=True)
print(libc.getxattr(b'$MNT/f', b'user.greeting', None, 0))")"
is "size query of a list (size 0) returns the list length" 33 "$(python3 -c "import ctypes
libc = ctypes.CDLL(None, use_errno=True)
print(libc.listxattr(b'$MNT/f', None, 0))")"
LONGNAME="user.$(printf 'n%.0s' $(seq 1 123))"
is "set an attribute with a 128-byte name" OK "$(vl_errno "os.setxattr('$MNT/f', '$LONGNAME', b'long name')")"
is "get the attribute with a 128-byte name" "b'long name'" "$(py "print(os.getxattr(M + '/f', '$LONGNAME'))" 2>&1)"
is "remove the attribute with a 128-byte name" OK "$(vl_errno "os.removexattr('$MNT/f', '$LONGNAME')")"
is "getxattr of a missing 200-byte name gives ENODATA" ENODATA \
	"$(vl_errno "os.getxattr('$MNT/f', 'user.' + 'm' * 195)")"

# Attributes follow the file through a rename and a hard link.
mv f f-renamed
is "attribute after a rename" "b'replaced value'" "$(py "print(os.getxattr(M + '/f-renamed', 'user.greeting'))")"
ln f-renamed f-link
is "attribute through a hard link" "b'replaced value'" "$(py "print(os.getxattr(M + '/f-link', 'user.greeting'))")"
# Truncating to 0 keeps the attributes (the header, and the file ID, stay).
: >f-renamed
is "attribute after truncation to 0" "b'replaced value'" "$(py "print(os.getxattr(M + '/f-renamed', 'user.greeting'))")"

# --- what the ciphertext shows
names=$(cd "$CIPHER" && find . -mindepth 1 -exec getfattr --absolute-names -d -m - {} + 2>/dev/null |
	grep -v '^#' | sed -n 's/=.*//p' | sort -u)
if [ $have_attr = 1 ]; then
	is "backing attribute names are all user.veilfs.<base32>" "" \
		"$(printf '%s\n' "$names" | grep -vE '^user\.veilfs\.[a-z2-7]+$' | grep -v '^$' || true)"
	is "no backing attribute name contains a plaintext name" "" \
		"$(printf '%s\n' "$names" | grep -E 'greeting' || true)"
	vals=$(cd "$CIPHER" && find . -mindepth 1 -exec getfattr --absolute-names -d -m - -e text {} + 2>/dev/null || true)
	is "no backing value contains a plaintext value" "" "$(printf '%s\n' "$vals" | grep -E 'hello|replaced' || true)"
else
	skip_test "backing attribute names" "getfattr missing"
fi

# --- everything survives a remount
cd / || true
vl_remount || bail "remount failed"
cd "$MNT" || bail "cd"
is "after remount: file attributes" "user.big user.greeting user.zero" \
	"$(py "print(' '.join(sorted(os.listxattr(M + '/f-renamed'))))")"
is "after remount: directory attribute value" "b'replaced value'" "$(py "print(os.getxattr(M + '/d', 'user.greeting'))")"
is "after remount: $BIGLEN-byte value" ok "$(py "v = bytes((i * 7 + 3) % 256 for i in range($BIGLEN))
print('ok' if os.getxattr(M + '/d', 'user.big') == v else 'differs')")"
is "after remount: 0-byte value" "b''" "$(py "print(os.getxattr(M + '/empty', 'user.zero'))")"

cd / || true
vl_umount
done_testing
