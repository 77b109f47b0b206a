#!/usr/bin/env bash
# A default mount (writeback cache, 1 s caches) stays coherent while another program -- a
# sync client -- changes CIPHERDIR under it (issue 11, docs/SYNC.md "Sync while mounted"):
# a file replaced by rename, rewritten in place, truncated or deleted, new entries, new
# conflict copies (stacked suffixes too), a deleted or replaced veilfs.dirid. "At once"
# checks run right after the change, with no wait: the next open or lookup must see it.
# Checks of what the kernel caches without asking (a stat within the attribute timeout)
# poll, bounded; the time they took is printed, never asserted. Every scenario ends by
# comparing the live mount with a fresh mount of the same CIPHERDIR.
. "${TOP_SRCDIR:-$(dirname "$0")/..}/tests/lib.sh"
vl_setup
vl_init || bail "init: $(cat "$VL_TMP/init.out")"
B=$VL_TMP/cipherB
MB=$VL_TMP/mntB
FRESH=$VL_TMP/fresh
mkdir -p "$MB" "$FRESH"
cp -a "$CIPHER" "$B" # the other device: same vault, its ciphertexts are what the engine brings

enc() { "$VEILCTL" encrypt-path --passfile "$PASSFILE" "$1" "$2" </dev/null; }
# deliver PATH: copy B's ciphertext of PATH into CIPHER as engines do (temporary + rename)
deliver() {
	local e
	e=$(enc "$B" "$1") || return 1
	cp "$B/$e" "$CIPHER/$e.unison.tmp" && mv -f "$CIPHER/$e.unison.tmp" "$CIPHER/$e"
}
# deliver_inplace PATH: rewrite CIPHER's ciphertext of PATH with B's, same inode (rclone 1.60)
deliver_inplace() {
	local e
	e=$(enc "$B" "$1") || return 1
	cat "$B/$e" >"$CIPHER/$e"
}
onB() { vl_mount_at "$B" "$MB" || bail "mount B"; "$@"; cd / && vl_umount_dir "$MB"; }
writeB() { mkdir -p "$(dirname "$MB/$1")" && printf '%s' "$2" >"$MB/$1"; }
# until_ok CMD...: runs CMD every 0.01 s until it succeeds, at most 1000 times (10 s).
until_ok() {
	local i
	for i in $(seq 1 1000); do
		"$@" 2>/dev/null && return 0
		sleep 0.01
	done
	return 1
}
size_is() { [ "$(stat -c %s "$1" 2>/dev/null)" = "$2" ]; }
# tree DIR: every path with its type, size and md5, sorted
tree() { (cd "$1" && find . -mindepth 1 -printf '%p %y %s\n' | sort && find . -type f -exec md5sum {} + | sort -k2); }
# same_as_fresh DESC: the live mount shows what a mount made now shows
same_as_fresh() {
	vl_mount_at "$CIPHER" "$FRESH" || bail "fresh mount"
	is "$1: the live mount shows what a fresh mount shows" "$(tree "$FRESH")" "$(tree "$MNT")"
	cd / && vl_umount_dir "$FRESH"
}

vl_mount || bail "mount A"
printf 'short\n' >"$MNT/f"
mkdir -p "$MNT/d"
printf 'in d\n' >"$MNT/d/g"
# B gets the same tree (the sync so far)
onB sh -c "printf 'short\n' >'$MB/f'; mkdir -p '$MB/d'; printf 'in d\n' >'$MB/d/g'"
rm -rf "$B" && cp -a "$CIPHER" "$B"
cat "$MNT/f" "$MNT/d/g" >/dev/null # looked up and cached on A

# --- replaced by rename, through an already looked-up path ---
onB writeB f 'the second version, much longer than the first'
deliver f
is "replaced by rename: read at once at the new size" \
	'the second version, much longer than the first' "$(cat "$MNT/f")"
start=$(date +%s%N)
ok "replaced by rename: stat shows the new size (polled)" until_ok size_is "$MNT/f" 46
diag "stat showed the new size after $((($(date +%s%N) - start) / 1000000)) ms"
same_as_fresh "replaced by rename"

# --- an append right after a replacement lands at the true end ---
cat "$MNT/f" >/dev/null
onB writeB f 'third version from B|'
deliver f
printf 'appended on A' >>"$MNT/f"
is "append after a replacement keeps B's version and A's append" \
	'third version from B|appended on A' "$(cat "$MNT/f")"

# --- rewritten in place (same backing inode) ---
onB writeB f 'in place: B wrote this'
cat "$MNT/f" >/dev/null
deliver_inplace f
is "rewritten in place: read at once" 'in place: B wrote this' "$(cat "$MNT/f")"
ok "rewritten in place: stat shows the new size (polled)" until_ok size_is "$MNT/f" 22
onB writeB f 'in place again, longer than before|'
deliver_inplace f
printf 'A' >>"$MNT/f"
is "append right after an in-place rewrite lands at the true end" \
	'in place again, longer than before|A' "$(cat "$MNT/f")"
same_as_fresh "rewritten in place"

# --- no write at a stale offset through a handle opened before the change ---
cat "$MNT/f" >/dev/null
onB writeB f 'B rewrote it while A held it open for appending'
ef=$CIPHER/$(enc "$CIPHER" f)
res=$(python3 - "$MNT/f" "$B/$(enc "$B" f)" "$ef" <<'PY'
import os, sys
mnt, src, dst = sys.argv[1:4]
fd = os.open(mnt, os.O_WRONLY | os.O_APPEND)
open(dst, "r+b").write(open(src, "rb").read())   # the engine rewrites in place meanwhile
try:
    os.write(fd, b"stale append")
    os.fsync(fd)
    os.close(fd)
    print("written")
except OSError as e:
    print("refused")
PY
)
is "a write through a handle opened before an in-place change is refused" refused "$res"
ok "the engine's version is intact in CIPHERDIR" cmp "$B/$(enc "$B" f)" "$ef"
is "and reads back whole through the mount" 'B rewrote it while A held it open for appending' "$(cat "$MNT/f")"

# --- truncated (B emptied the file) and deleted ---
# Format 1's empty file is zero bytes; format 2's is a header and an empty final block.
onB writeB f ''
deliver_inplace f
is "truncated: read at once as empty" "" "$(cat "$MNT/f")"
ok "truncated: stat shows size 0 (polled)" until_ok size_is "$MNT/f" 0
rm -f "$ef"
nok "deleted: an open fails at once" cat "$MNT/f"
nok "deleted: not listed" sh -c "ls '$MNT' | grep -qx f"
same_as_fresh "truncated and deleted"

# --- new entries, and a new conflict copy with a stacked suffix ---
onB sh -c "printf 'new from B\n' >'$MB/new.txt'; mkdir -p '$MB/newdir'; printf 'x\n' >'$MB/newdir/x'"
en=$(enc "$B" new.txt)
ed=$(enc "$B" newdir)
cp "$B/$en" "$CIPHER/$en"
cp -a "$B/$ed" "$CIPHER/$ed"
is "a new file reads at once" 'new from B' "$(cat "$MNT/new.txt")"
is "a new directory lists at once" x "$(ls "$MNT/newdir")"
s3=' (conflict_on_2026-12-06_03-11-21) (conflict_on_2026-12-06_03-12-40) (conflict_on_2026-12-06_03-13-02)'
cp "$B/$en" "$CIPHER/$en$s3"
cp -a "$B/$ed" "$CIPHER/$ed$s3"
is "a new conflict copy with a 3-times stacked suffix (${#s3} bytes) reads at once" \
	'new from B' "$(cat "$MNT/new$s3.txt")"
is "a directory copy with a stacked suffix shows its contents" x "$(ls "$MNT/newdir$s3")"
ok "veilctl conflicts lists the stacked copies" sh -c \
	"'$VEILCTL' conflicts --passfile '$PASSFILE' '$CIPHER' </dev/null | grep -c 'conflict_on_2026-12-06_03-13-02' | grep -qx 2"
same_as_fresh "new entries and conflict copies"

# --- a copy the mount cannot show is an fsck problem, not info ---
cp "$B/$en" "$CIPHER/$en $(printf '\033')[31m(1)"
"$VEILCTL" fsck --passfile "$PASSFILE" "$CIPHER" </dev/null >"$VL_TMP/fsck.out" 2>&1
st=$?
ok "fsck exits non-zero for a copy the mount does not show (exit $st)" test "$st" -ne 0
ok "fsck names it as a problem" grep -q '^problem: .*does not show' "$VL_TMP/fsck.out"
rm -f "$CIPHER/$en $(printf '\033')[31m(1)"

# --- veilfs.dirid replaced, and deleted ---
cat "$MNT/d/g" >/dev/null
pd=$(enc "$CIPHER" d)
# B renames d away and makes a new d: a new ID (derived), with a file of its own
onB sh -c "mv '$MB/d' '$MB/d-old' && mkdir '$MB/d' && printf 'under the new ID\n' >'$MB/d/h'"
cp "$B/$pd/veilfs.dirid" "$CIPHER/$pd/.veilfs.dirid.tmp" && mv -f "$CIPHER/$pd/.veilfs.dirid.tmp" "$CIPHER/$pd/veilfs.dirid"
cp "$B/$pd/$(enc "$B" d/h | sed 's|.*/||')" "$CIPHER/$pd/"
is "replaced veilfs.dirid: a name under the new ID reads at once" 'under the new ID' "$(cat "$MNT/d/h")"
same_as_fresh "replaced veilfs.dirid"
rm -f "$CIPHER/$pd/veilfs.dirid"
live=$(ls "$MNT/d" 2>&1) # right after the change: no wait for the watch thread
vl_mount_at "$CIPHER" "$FRESH" || bail "fresh mount"
is "deleted veilfs.dirid: a listing right after lists what a fresh mount lists" "$(ls "$FRESH/d" 2>&1)" "$live"
cd / && vl_umount_dir "$FRESH"
same_as_fresh "deleted veilfs.dirid"

# --- the coherence delay: an outside change, then stat through the mount until it shows ---
printf 'x' >"$MNT/probe"
ep=$CIPHER/$(enc "$CIPHER" probe)
delays=$(python3 - "$MNT/probe" "$ep" "$PASSFILE" <<'PY'
import os, sys, time, shutil
mnt, ep = sys.argv[1], sys.argv[2]
out = []
for i in range(30):
    os.stat(mnt)                      # the kernel has the inode and its size cached
    size = os.stat(mnt).st_size
    shutil.copyfile(ep, ep + ".tmp")  # an engine's temporary...
    with open(ep + ".tmp", "ab") as f:
        pass
    t0 = time.monotonic()
    os.rename(ep + ".tmp", ep)        # ...renamed over: a new backing inode
    while True:
        st = os.stat(mnt)
        # the dentry must move to the new inode: its st_ino is the backing inode's
        if st.st_ino == os.stat(ep).st_ino:
            break
        if time.monotonic() - t0 > 10:
            break
        time.sleep(0.0005)
    out.append((time.monotonic() - t0) * 1000)
out.sort()
print("%.1f %.1f" % (out[len(out) // 2], out[-1]))
PY
)
diag "coherence delay of a stat after a replace-by-rename, 30 runs: median and worst ms: $delays"
ok "30 replacements all showed through stat (bounded poll of 10 s each)" \
	test "$(echo "$delays" | awk '{print ($2 < 10000)}')" = 1

vl_umount
done_testing
