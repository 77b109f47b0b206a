#!/usr/bin/env python3
"""Applies a sync engine's decisions to two ciphertext trees by hand (t83).

  v2attack-merge.py bisync BASE A B
  v2attack-merge.py unison BASE A B
  v2attack-merge.py syncthing0 BASE A B

BASE is the tree both devices had at the last sync; A and B are the two devices' trees now;
both are changed in place to what the engine leaves. Files only: engines carry directories
by the files in them, and every path is handled on its own (docs/fuse-notes: "Every engine
handles each file on its own"). The rules are those observed with the engines in Debian 12
(see /work/shared/fuse-notes.md and docs/SYNC.md):

bisync (rclone 1.60, A = path1): a file new or changed on both sides becomes NAME..path1
  (A's version) and NAME..path2 (B's) on both sides and NAME disappears, even when both sides
  hold identical bytes; changed on one side: copied to the other; deleted on one side and
  untouched on the other: deleted there (so a directory renamed on one side loses its
  untouched files, helper files included, and keeps a file the other side added); deleted on
  one side and changed on the other: the changed version is kept.
unison (2.52, -prefer A -copyonconflict): a file changed on both sides keeps A's version
  under NAME and B's as "NAME (conflict_on_2025-02-10)" on both sides; identical new files
  are not a conflict; the other rules as above, and a directory deleted on one side is
  deleted on the other when nothing in it was kept (bisync leaves it, empty).
syncthing0 (Syncthing with the folder's "max conflicts" set to 0, docs/SYNC.md): a file
  changed on both sides keeps B's version on both sides and no copy (the losing version is
  dropped); the other rules as for bisync.
Prints one line per decision, for the test's log."""
import os
import shutil
import sys


def dirs(root):
    out = set()
    for d, ds, _ in os.walk(root):
        for x in ds:
            out.add(os.path.relpath(os.path.join(d, x), root))
    return out


def files(root):
    out = set()
    for d, _, fs in os.walk(root):
        for f in fs:
            out.add(os.path.relpath(os.path.join(d, f), root))
    return out


def data(root, rel):
    p = os.path.join(root, rel)
    if not os.path.isfile(p):
        return None
    with open(p, "rb") as f:
        return f.read()


def put(src_root, rel, dst_root, dst_rel=None):
    dst = os.path.join(dst_root, dst_rel or rel)
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    if os.path.exists(dst):
        os.chmod(dst, 0o644)
    shutil.copy2(os.path.join(src_root, rel), dst)


def remove(root, rel):
    p = os.path.join(root, rel)
    if os.path.exists(p):
        os.remove(p)


def merge(engine, base, a, b):
    log = []
    gone_a, gone_b = dirs(base) - dirs(a), dirs(base) - dirs(b)
    for rel in sorted(files(base) | files(a) | files(b)):
        o, x, y = data(base, rel), data(a, rel), data(b, rel)
        ca, cb = x != o, y != o
        if not ca and not cb:
            continue
        if ca and cb and x is not None and y is not None and (x != y or engine == "bisync"):
            if engine == "syncthing0":
                put(b, rel, a)
                log.append("both changed: %s kept from B, A's dropped" % rel)
            elif engine == "bisync":
                # both renamed; each side gets the other's version
                snap_b = rel + "..path2"
                put(b, rel, b, snap_b)
                put(a, rel, a, rel + "..path1")
                put(a, rel + "..path1", b, rel + "..path1")
                put(b, snap_b, a, snap_b)
                remove(a, rel)
                remove(b, rel)
                log.append("both changed: %s -> ..path1 (A), ..path2 (B)" % rel)
            else:
                copy = rel + " (conflict_on_2025-02-10)"
                put(b, rel, b, copy)
                put(b, copy, a, copy)
                put(a, rel, b)
                log.append("both changed: %s kept from A, B's as a copy" % rel)
        elif ca and cb:
            if x is None and y is None:
                log.append("deleted on both: %s" % rel)
            elif x is None:
                put(b, rel, a)
                log.append("deleted on A, changed on B: %s kept" % rel)
            elif y is None:
                put(a, rel, b)
                log.append("deleted on B, changed on A: %s kept" % rel)
            else:
                log.append("identical on both: %s" % rel)
        elif ca:
            if x is None:
                remove(b, rel)
                log.append("deleted on A: %s deleted on B" % rel)
            else:
                put(a, rel, b)
                log.append("changed on A: %s copied to B" % rel)
        else:
            if y is None:
                remove(a, rel)
                log.append("deleted on B: %s deleted on A" % rel)
            else:
                put(b, rel, a)
                log.append("changed on B: %s copied to A" % rel)
    if engine == "unison":
        for root, gone in ((b, gone_a), (a, gone_b)):
            for d in sorted(gone):
                p = os.path.join(root, d)
                if os.path.isdir(p) and not any(fs for _, _, fs in os.walk(p)):
                    shutil.rmtree(p)
                    log.append("directory deleted on one side: %s removed" % d)
    return log


def main():
    if len(sys.argv) != 5 or sys.argv[1] not in ("bisync", "unison", "syncthing0"):
        sys.exit(__doc__)
    for line in merge(*sys.argv[1:5]):
        print(line)


main()
