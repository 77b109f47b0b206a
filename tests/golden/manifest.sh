#!/usr/bin/env bash
# tests/golden/manifest.sh [-x] DIR: one line per entry of a plaintext tree, sorted bytewise by
# path (as `find DIR -mindepth 1 | LC_ALL=C sort`):
#   TYPE PATH SIZE SHA256-or-TARGET
# with TYPE f (SHA-256 of the contents), l (SHA-256 of the target and a newline, as
# `readlink | sha256sum`), d and p (no size), ? (anything else). Modes and times are left out:
# git does not keep them for the golden tree's files.
# With -x, each entry's line is followed by the backing metadata a format can carry:
#   n PATH NLINK              for a non-directory with more than one link
#   x PATH NAME 0xHEX-VALUE   for each user.* extended attribute (none on symlinks), sorted
# (tests/golden/v1.expect has no such lines: its tree has neither.)
# One process for the whole tree (python3), so that tests can take manifests often.
set -euo pipefail
meta=0
if [ "${1:-}" = -x ]; then
	meta=1
	shift
fi
[ $# -eq 1 ] || {
	echo "usage: $0 [-x] DIR" >&2
	exit 2
}
exec python3 - "$meta" "$1" <<'EOF_PY'
import hashlib, os, stat, sys

meta = sys.argv[1] == "1"
os.chdir(sys.argv[2])
paths = []
for d, dirs, files in os.walk(b".", followlinks=False):
    for n in dirs + files:
        paths.append(os.path.join(d, n))
paths.sort()
out = sys.stdout.buffer
for p in paths:
    st = os.lstat(p)
    if stat.S_ISLNK(st.st_mode):
        t = hashlib.sha256(os.readlink(p) + b"\n").hexdigest()
        out.write(b"l %s %d %s\n" % (p, st.st_size, t.encode()))
    elif stat.S_ISDIR(st.st_mode):
        out.write(b"d %s\n" % p)
    elif stat.S_ISFIFO(st.st_mode):
        out.write(b"p %s\n" % p)
    elif stat.S_ISREG(st.st_mode):
        h = hashlib.sha256()
        with open(p, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
        out.write(b"f %s %d %s\n" % (p, st.st_size, h.hexdigest().encode()))
    else:
        out.write(b"? %s\n" % p)
    if not meta:
        continue
    if not os.path.isdir(p) and st.st_nlink != 1:
        out.write(b"n %s %d\n" % (p, st.st_nlink))
    if stat.S_ISLNK(st.st_mode):
        continue  # symlinks cannot hold user.* attributes, and their targets' are not theirs
    lines = []
    for name in os.listxattr(p, follow_symlinks=False):
        if not name.startswith("user."):
            continue
        try:
            v = os.getxattr(p, name, follow_symlinks=False)
        except OSError:
            continue
        lines.append(b"%s 0x%s" % (os.fsencode(name), v.hex().encode()))
    for l in sorted(lines):
        out.write(b"x %s %s\n" % (p, l))
EOF_PY
