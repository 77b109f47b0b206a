#!/usr/bin/env python3
# tests/sync-random.py: a seeded randomized two-device test (issue 11 §3, 6). Both vaults
# are mounted (default options) while a real engine syncs their ciphertext directories.
# Each round, each device makes random changes through its mount; then the engine runs
# (twice: unison carries a conflict copy on the next run); then the invariant is checked:
# every version that was the last one written on either device, for a path that neither
# device deleted, is visible through both mounts, byte-identical (as the file itself or as
# a conflict copy beside it), and both mounts show the same tree. Prints TAP.
#
#   sync-random.py --seed N --rounds N --engine bisync|unison --a MNT --b MNT
#                  --ca CIPHERDIR --cb CIPHERDIR --work DIR [--full]
#
# --full adds what format v1 is known to lose under engines (long names, whose sidecar the
# engine carries apart, and directory renames, whose veilfs.dirid it can delete): the
# soak script uses it to report those failures; make check runs without it.
import argparse
import hashlib
import os
import random
import re
import subprocess
import sys
import time

ap = argparse.ArgumentParser()
ap.add_argument("--seed", type=int, required=True)
ap.add_argument("--rounds", type=int, default=3)
ap.add_argument("--engine", choices=("bisync", "unison"), required=True)
ap.add_argument("--a", required=True)
ap.add_argument("--b", required=True)
ap.add_argument("--ca", required=True)
ap.add_argument("--cb", required=True)
ap.add_argument("--work", required=True)
ap.add_argument("--full", action="store_true")
ap.add_argument("--start", type=int, default=1, help="first TAP number")
o = ap.parse_args()
rng = random.Random(o.seed)
n = o.start - 1
failed = 0


def tap(good, desc, diag=None):
    global n, failed
    n += 1
    print("%s %d - %s" % ("ok" if good else "not ok", n, desc))
    if not good:
        failed += 1
        for line in (diag or "").splitlines()[:40]:
            print("#   " + line)
    sys.stdout.flush()


def engine():
    log = open(os.path.join(o.work, "engine-%s.log" % o.engine), "a")
    if o.engine == "bisync":
        # --force: a renamed top directory is most of the vault deleted and created again,
        # which bisync's safety check stops (as unison's -confirmbigdel=false below).
        cmd = ["rclone", "bisync", o.ca, o.cb, "--workdir", os.path.join(o.work, "bisync"),
               "--config", "/dev/null", "-q", "--force"]
    else:
        cmd = ["unison", o.ca, o.cb, "-batch", "-auto", "-silent", "-times", "-prefer", "newer",
               "-copyonconflict", "-confirmbigdel=false"]
    return subprocess.call(cmd, stdout=log, stderr=log) == 0


DIRS = ["", "d0", "d1", "d0/e"]
NAMES = ["f0", "f1", "f2.txt", "f3.txt", "f4"]
if o.full:
    NAMES.append("L" * 180 + ".txt")  # a long name: '8...' with a '9...' sidecar


def files(root):
    out = {}
    for dp, dns, fns in os.walk(root):
        for f in fns:
            p = os.path.join(dp, f)
            try:
                out[os.path.relpath(p, root)] = open(p, "rb").read()
            except OSError as e:
                out[os.path.relpath(p, root)] = ("<%s>" % e.strerror).encode()
    return out


def has_files(d):
    for dp, dns, fns in os.walk(d):
        if fns:
            return True
    return False


def tree(root):
    lines = []
    for rel, data in sorted(files(root).items()):
        lines.append("%s %d %s" % (rel, len(data), hashlib.md5(data).hexdigest()))
    dirs = []
    for dp, dns, fns in os.walk(root):
        for d in dns:
            # rclone bisync 1.60 carries files only, and was seen to leave a new
            # directory whose one ciphertext file is its veilfs.dirid uncopied over many
            # runs (the same with plain directories, no veilfs involved): an empty
            # plaintext directory is not compared under bisync, nor one that holds only
            # such directories (a directory renamed on the other device leaves its
            # subdirectories' ciphertext directories behind, their files deleted).
            if o.engine == "bisync" and not has_files(os.path.join(dp, d)):
                continue
            dirs.append(os.path.relpath(os.path.join(dp, d), root) + "/")
    return "\n".join(sorted(dirs) + lines)


def act(dev, mnt, rnd, last, deleted):
    """Random changes on one device; records its last version per path and its deletes."""
    for k in range(rng.randint(3, 8)):
        d = rng.choice(DIRS)
        p = os.path.join(d, rng.choice(NAMES)) if d else rng.choice(NAMES)
        full = os.path.join(mnt, p)
        op = rng.choice(["write", "write", "append", "delete", "mkdir"] +
                        (["rendir"] if o.full else []))
        tag = ("%s r%d op%d %s\n" % (dev, rnd, k, p)).encode()
        try:
            if op in ("write", "append"):
                os.makedirs(os.path.dirname(full), exist_ok=True)
                if op == "append" and os.path.isfile(full):
                    with open(full, "ab") as f:
                        f.write(tag)
                else:
                    with open(full, "wb") as f:
                        f.write(tag * rng.randint(1, 300))
                deleted.discard(p)
                last[p] = None  # read back at the end of the round
            elif op == "delete" and os.path.isfile(full):
                os.unlink(full)
                deleted.add(p)
                last.pop(p, None)
            elif op == "mkdir":
                os.makedirs(os.path.join(mnt, d, "m%d" % rng.randint(0, 2)), exist_ok=True)
            elif op == "rendir" and d and os.path.isdir(os.path.join(mnt, d)):
                os.rename(os.path.join(mnt, d), os.path.join(mnt, d + "-moved-%s%d" % (dev, rnd)))
        except OSError as e:
            print("# %s: %s %s: %s" % (dev, op, p, e))
    for p in list(last):
        if last[p] is None:
            try:
                last[p] = open(os.path.join(mnt, p), "rb").read()
            except OSError:
                last.pop(p)


# What the engines append to a copy's name (SYNC.md): unison's " (conflict...)", rclone
# bisync's "..path1"/"..path2", Syncthing's ".sync-conflict-...".
COPY = re.compile(r"^( \(conflict|\.\.path[12]|\.sync-conflict-)")


def dirs_like(mnt, rel):
    """The directories that stand for rel: rel itself and, component by component, the
    conflict copies an engine made of it (unison keeps a directory deleted on one side and
    changed on the other as such a copy)."""
    out = [mnt]
    for comp in [c for c in rel.split("/") if c]:
        nxt = []
        for d in out:
            try:
                names = os.listdir(d)
            except OSError:
                continue
            for f in names:
                if (f == comp or (f.startswith(comp) and COPY.match(f[len(comp):]))) and \
                        os.path.isdir(os.path.join(d, f)):
                    nxt.append(os.path.join(d, f))
        out = nxt
    return out


def visible(mnt, p, data):
    """True when data is the content of p or of a file beside it (a conflict copy), in p's
    directory or in a conflict copy of it."""
    for d in dirs_like(mnt, os.path.dirname(p)):
        try:
            for f in os.listdir(d):
                q = os.path.join(d, f)
                if os.path.isfile(q) and open(q, "rb").read() == data:
                    return True
        except OSError:
            pass
    return False


print("# seed %d, engine %s, %d rounds%s" % (o.seed, o.engine, o.rounds, ", full" if o.full else ""))
if o.engine == "bisync" and not os.path.isdir(os.path.join(o.work, "bisync")):
    # The first bisync run must be --resync, which lets path1 win every file that differs:
    # as a user sets bisync up, it runs once on the two fresh vaults, before any change.
    with open(os.path.join(o.work, "engine-bisync.log"), "a") as log:
        if subprocess.call(["rclone", "bisync", o.ca, o.cb, "--workdir",
                            os.path.join(o.work, "bisync"), "--config", "/dev/null", "-q",
                            "--resync"], stdout=log, stderr=log) != 0:
            sys.exit("sync-random.py: the first rclone bisync --resync failed")
for rnd in range(1, o.rounds + 1):
    # unison's fast check takes a file whose inode, size and modification time match its
    # archive for unchanged, and did not see a same-size rewrite in place made within the
    # same second as the last sync: it was never synced (soak, seed 3057199109, round
    # 17; passes with this pause). Real changes come seconds apart; so do the rounds.
    time.sleep(1.05)
    lastA, lastB, delA, delB = {}, {}, set(), set()
    act("A", o.a, rnd, lastA, delA)
    act("B", o.b, rnd, lastB, delB)
    good = engine()
    good = engine() and good
    tap(good, "seed %d round %d: %s runs succeed" % (o.seed, rnd, o.engine))
    missing = []
    for dev, last in (("A", lastA), ("B", lastB)):
        for p, data in sorted(last.items()):
            if p in delA or p in delB:
                continue
            for mdev, mnt in (("A", o.a), ("B", o.b)):
                if not visible(mnt, p, data):
                    missing.append("%s's last version of %s (%d bytes) is not visible on %s" %
                                   (dev, p, len(data), mdev))
    tap(not missing, "seed %d round %d: every last version visible on both mounts" % (o.seed, rnd),
        "\n".join(missing))
    ta, tb = tree(o.a), tree(o.b)
    diff = ""
    if ta != tb:
        la, lb = set(ta.splitlines()), set(tb.splitlines())
        diff = "only on A:\n  " + "\n  ".join(sorted(la - lb)) + "\nonly on B:\n  " + \
            "\n  ".join(sorted(lb - la))
    tap(ta == tb, "seed %d round %d: both mounts show the same tree" % (o.seed, rnd), diff)
print("# next %d" % (n + 1))
sys.exit(1 if failed else 0)
