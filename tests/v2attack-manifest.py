#!/usr/bin/env python3
"""Plaintext manifests of a vault, for the format-2 attack tests (t83, t84).

  v2attack-manifest.py mount MNTDIR
  v2attack-manifest.py paths MNTDIR PATH...
  v2attack-manifest.py ctl VEILCTL PASSFILE CIPHERDIR

Both print one line per entry, sorted bytewise: PATH|TYPE|SIZE|WHAT, where TYPE is d, f, l, p,
s, c or b; SIZE is the size shown (empty for directories); WHAT is the MD5 of a file's
plaintext, a symlink's target, or ERR when reading it failed. `mount` walks a mount (a
directory that cannot be listed gives WHAT = ERR on its line); `paths` looks up and reads
only the given paths, without listing any directory first (so a fresh mount has nothing
cached; a path not found gives PATH|-||ENOENT or the errno's name); `ctl` asks veilctl only
(`ls -l -R` once, then `cat` for every regular file; an entry veilctl marks unreadable gives
PATH|?||ERR), so the views of one vault can be compared line by line."""
import concurrent.futures
import errno
import hashlib
import os
import re
import stat
import subprocess
import sys


def entry_line(root, p):
    fp = os.path.join(root, p)
    try:
        st = os.lstat(fp)
    except OSError as e:
        return "%s|-||%s" % (p, errno.errorcode.get(e.errno, str(e.errno)))
    m = st.st_mode
    if stat.S_ISDIR(m):
        return "%s|d||" % p
    if stat.S_ISREG(m):
        try:
            with open(fp, "rb") as f:
                what = hashlib.md5(f.read()).hexdigest()
        except OSError:
            what = "ERR"
        return "%s|f|%d|%s" % (p, st.st_size, what)
    if stat.S_ISLNK(m):
        try:
            what = os.readlink(fp)
        except OSError:
            what = "ERR"
        return "%s|l|%d|%s" % (p, st.st_size, what)
    t = "p" if stat.S_ISFIFO(m) else "s" if stat.S_ISSOCK(m) else "c" if stat.S_ISCHR(m) else "b"
    return "%s|%s|%d|" % (p, t, st.st_size)


def mount_manifest(root):
    out = []

    def walk(rel):
        full = os.path.join(root, rel) if rel else root
        try:
            names = os.listdir(full)
        except OSError:
            out.append("%s|d||ERR" % rel)
            return
        for n in names:
            p = os.path.join(rel, n) if rel else n
            line = entry_line(root, p)
            out.append(line)
            if line.endswith("|d||"):
                walk(p)

    walk("")
    return out


LINE = re.compile(r"^(\S)\S{9}\s+(\d+) \d{4}-\d\d-\d\d \d\d:\d\d (.*)$")
BAD = re.compile(r"^\?{10}\s+\? \S+ \S+ (.*) \(unreadable: run veilctl fsck\)$")


def ctl_manifest(veilctl, passfile, cipher):
    base = [veilctl, "--passfile", passfile]
    r = subprocess.run(base + ["ls", "-l", "-R", cipher], stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, cats = [], []
    if r.returncode != 0:
        out.append("|ls-exit-%d||ERR" % r.returncode)
    d = ""
    for line in r.stdout.decode("utf-8", "surrogateescape").split("\n"):
        if line == "":
            continue
        if line.startswith("/") and line.endswith(":") and not LINE.match(line):
            d = line[1:-1]
            continue
        m = LINE.match(line)
        bad = BAD.match(line)
        if bad:
            out.append("%s|?||ERR" % (d + "/" + bad.group(1) if d else bad.group(1)))
            continue
        if not m:
            out.append("%s|?||UNPARSED %s" % (d, line))
            continue
        t, size, name = m.group(1), int(m.group(2)), m.group(3)
        what = ""
        if t == "l":
            name, _, what = name.partition(" -> ")
        p = d + "/" + name if d else name
        if t == "-":
            cats.append((p, size))
        elif t == "d":
            out.append("%s|d||" % p)
        else:
            out.append("%s|%s|%d|%s" % (p, t, size, what))

    def cat(item):
        # each veilctl cat is a lookup of its own (no listing before it), and pays the KDF
        c = subprocess.run(base + ["cat", cipher, item[0]], stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        what = hashlib.md5(c.stdout).hexdigest() if c.returncode == 0 else "ERR"
        return "%s|f|%d|%s" % (item[0], item[1], what)

    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        out.extend(pool.map(cat, cats))
    return out


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "mount":
        lines = mount_manifest(sys.argv[2])
    elif len(sys.argv) >= 3 and sys.argv[1] == "paths":
        lines = [entry_line(sys.argv[2], p) for p in sys.argv[3:]]
    elif len(sys.argv) == 5 and sys.argv[1] == "ctl":
        lines = ctl_manifest(*sys.argv[2:5])
    else:
        sys.exit(__doc__)
    lines.sort(key=lambda s: s.encode("utf-8", "surrogateescape"))
    sys.stdout.buffer.write("".join(l + "\n" for l in lines).encode("utf-8", "surrogateescape"))


main()
