#!/usr/bin/env bash
# t50-crash: kill -9 of the daemon during heavy writes, lazy unmount, remount.
# What must hold afterwards, precisely:
#  1. every file that was fsynced (and not written again) before the kill reads back intact;
#  2. every file that was written and closed before the writers started reads back intact
#     (close flushes to the daemon; a killed daemon loses nothing that reached the backing fs);
#  3. every other file (being written at the kill) can be listed and stat'ed; reading it
#     either succeeds or fails with EIO only (a torn last block), never another error;
#  4. `veilctl fsck` runs to completion (exit 0 "clean" or 7 "problems found");
#  5. the mount works normally afterwards (create, write, read back).
. "$(dirname "$0")/lib.sh"
vl_setup
vl_have python3 || skip_all "python3 is needed"
vl_init || bail "veilctl init failed: $(cat "$VL_TMP/init.out")"
LOG=$VL_TMP/veilfs.log

vl_mount_fg "$LOG" || bail "veilfs -f did not mount: $(cat "$LOG")"
mkdir "$MNT/old" "$MNT/busy" "$VL_TMP/old"
# 2. closed before the writers start
for i in $(seq 1 20); do
	head -c $((i * 3001)) /dev/urandom >"$VL_TMP/old/f$i"
	cp "$VL_TMP/old/f$i" "$MNT/old/f$i"
done
# 1. fsynced with known content
head -c 1000000 /dev/urandom >"$VL_TMP/synced"
python3 -c "import os, sys
fd = os.open(sys.argv[2], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
data = open(sys.argv[1], 'rb').read()
os.write(fd, data); os.fsync(fd); os.close(fd)" "$VL_TMP/synced" "$MNT/synced"
ok "the fsynced file is written" cmp -s "$VL_TMP/synced" "$MNT/synced"

# writers: appends, random overwrites, truncates, new files; they run until killed.
writer() { # N
	python3 -c 'import os, random, sys
n = int(sys.argv[1]); d = sys.argv[2]
random.seed(n)
i = 0
while True:
    i += 1
    p = "%s/w%d-%d" % (d, n, i % 5)
    try:
        fd = os.open(p, os.O_RDWR | os.O_CREAT, 0o644)
        for _ in range(20):
            off = random.randrange(0, 300000)
            os.pwrite(fd, os.urandom(random.randrange(1, 20000)), off)
        if random.random() < 0.2:
            os.ftruncate(fd, random.randrange(0, 200000))
        os.close(fd)
    except OSError:
        sys.exit(0)' "$1" "$MNT/busy" &
}
wpids=()
for n in 1 2 3 4; do
	writer $n
	wpids+=($!)
done
# let them write (how long does not matter for the assertions)
for i in $(seq 1 50); do
	[ "$(find "$MNT/busy" -type f 2>/dev/null | wc -l)" -ge 8 ] && break
	sleep 0.1
done
sleep 1
ok "the daemon is still running under load" kill -0 "$VL_FGPID"
kill -9 "$VL_FGPID"
wait "$VL_FGPID" 2>/dev/null
for p in "${wpids[@]}"; do
	kill -9 "$p" 2>/dev/null
done
for p in "${wpids[@]}"; do
	wait "$p" 2>/dev/null
done
VL_FGPID=
ok "lazy unmount of the dead mount" sh -c '"$1" -uz "$2" 2>/dev/null || umount -l "$2"' sh "$FUSERMOUNT" "$MNT"
nok "the mountpoint is free" mountpoint -q "$MNT"

# fsck on the crashed vault
"$VEILCTL" --passfile "$PASSFILE" fsck "$CIPHER" >"$VL_TMP/fsck.out" 2>&1
rc=$?
ok "veilctl fsck runs to completion on the crashed vault (exit $rc: 0 or 7)" test "$rc" = 0 -o "$rc" = 7
[ "$rc" = 0 ] || head -n 5 "$VL_TMP/fsck.out" | while IFS= read -r l; do diag "fsck: $l"; done
nok "fsck does not report the fsynced or the closed files" grep -qE 'synced|/old/' "$VL_TMP/fsck.out"

vl_mount || bail "remount after the crash failed"
ok "1. the fsynced file is intact" cmp -s "$VL_TMP/synced" "$MNT/synced"
ok "2. every file closed before the writers started is intact" diff -r "$VL_TMP/old" "$MNT/old"
n_busy=$(ls "$MNT/busy" | wc -l)
ok "3. the files being written are listed ($n_busy)" test "$n_busy" -ge 1
quiet() { "$@" >/dev/null 2>&1; }
ok "3. every file being written can be stat'ed" quiet stat "$MNT"/busy/*
bad=
for f in "$MNT"/busy/*; do
	if ! cat "$f" >/dev/null 2>"$VL_TMP/err"; then
		grep -q 'Input/output error' "$VL_TMP/err" || bad="$bad ${f##*/}:$(cat "$VL_TMP/err")"
		diag "${f##*/}: EIO after the crash"
	fi
done
is "3. reading a file being written succeeds or fails with EIO only" "" "$bad"
printf 'after the crash\n' >"$MNT/new"
is "5. the mount works after the crash" "after the crash" "$(cat "$MNT/new")"
ok "5. files that were being written can be replaced" sh -c 'for f in "$1"/busy/*; do printf ok >"$f" || exit 1; done' sh "$MNT"
vl_umount
"$VEILCTL" --passfile "$PASSFILE" fsck "$CIPHER" >"$VL_TMP/fsck2.out" 2>&1
is "fsck is clean once the torn files were rewritten" 0 "$?"
[ -s "$VL_TMP/fsck2.out" ] && head -n 5 "$VL_TMP/fsck2.out" | while IFS= read -r l; do diag "$l"; done

done_testing
