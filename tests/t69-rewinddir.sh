#!/usr/bin/env bash
# Listings follow changes (issue 11 §4): a rewinddir lists what is there now (POSIX: names
# created since opendir appear after a rewind; a filesystem test suite creates 10,000 names
# between opendir and rewinddir), and a new opendir after a change made under CIPHERDIR by
# another program lists the change.
. "${TOP_SRCDIR:-$(dirname "$0")/..}/tests/lib.sh"
vl_setup
vl_init || bail "init: $(cat "$VL_TMP/init.out")"
vl_mount || bail "mount"
mkdir "$MNT/d"
printf 'x' >"$MNT/d/first"
# opendir, read all, create 10,000 names (and remove one), rewinddir, read all again
res=$(python3 - "$MNT/d" <<'PY'
import ctypes, ctypes.util, os, sys
libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
class dirent(ctypes.Structure):
    _fields_ = [("d_ino", ctypes.c_uint64), ("d_off", ctypes.c_int64),
                ("d_reclen", ctypes.c_ushort), ("d_type", ctypes.c_ubyte),
                ("d_name", ctypes.c_char * 256)]
libc.opendir.restype = ctypes.c_void_p
libc.readdir.restype = ctypes.POINTER(dirent)
libc.readdir.argtypes = [ctypes.c_void_p]
libc.rewinddir.argtypes = [ctypes.c_void_p]
libc.closedir.argtypes = [ctypes.c_void_p]
d = sys.argv[1]
def names(dp):
    out = set()
    while True:
        e = libc.readdir(dp)
        if not e:
            return out
        n = e.contents.d_name.decode()
        if n not in (".", ".."):
            out.add(n)
dp = libc.opendir(d.encode())
before = names(dp)
for i in range(10000):
    os.close(os.open(os.path.join(d, "n%05d" % i), os.O_CREAT | os.O_WRONLY, 0o644))
os.unlink(os.path.join(d, "first"))
libc.rewinddir(dp)
after = names(dp)
libc.closedir(dp)
expect = {"n%05d" % i for i in range(10000)}
print(len(before), len(after), after == expect)
PY
)
is "before the rewind: 1 name; after: 10000, exactly the ones created" "1 10000 True" "$res"

# a name created under CIPHERDIR by another program shows in a new listing at once
enc=$("$VEILCTL" encrypt-path --passfile "$PASSFILE" "$CIPHER" d/n00000 </dev/null)
cp "$CIPHER/$enc" "$CIPHER/$enc (conflicted copy 2026-12-06)"
ok "a new opendir lists a copy made under CIPHERDIR a moment ago" \
	sh -c "ls '$MNT/d' | grep -qx 'n00000 (conflicted copy 2026-12-06)'"
rm "$CIPHER/$enc"
nok "a new opendir no longer lists a name removed under CIPHERDIR" sh -c "ls '$MNT/d' | grep -qx n00000"
vl_umount
done_testing
