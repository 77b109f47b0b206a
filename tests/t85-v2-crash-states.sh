#!/usr/bin/env bash
# t85-v2-crash-states: renames of format 2 cut short at each step (FORMAT.md §3.5, §5.2), made
# real by killing the daemon at the system call that begins the next step (strace's fault
# injection: the call fails and SIGKILL follows, so nothing after it runs), then checked
# through a fresh mount, veilctl and fsck/--repair. Promised: a crash at any point leaves the
# file or directory readable under its old or its new name, fsck --repair finishes the rename,
# and nothing becomes less visible. Last, FORMAT.md §7: a moving header kept in the storage's
# version history can move the file back into the directory it came from, and nowhere else.
. "${TOP_SRCDIR:-$(dirname "$0")/..}/tests/lib.sh"
. "$TOP_SRCDIR/tests/v2attack-lib.sh"
vl_setup
vl_have python3 || skip_all "python3 is needed"
vl_have strace || skip_all "strace is needed to stop the daemon at a chosen system call (.ci/deps installs it)"

LF=$(printf 'l%.0s' $(seq 1 150)) # a long name (its encoded name is over name_max)

# crash TAG CALL N CMD...: mounts $CIPHER (veilfs -f, log $S/TAG.log), stops the daemon with
# SIGKILL at its Nth CALL system call after CMD starts (the call itself fails), runs CMD
# through the mount, and cleans up the dead mount. True when the daemon died that way.
crash() {
	local tag=$1 call=$2 n=$3 sp i t died=1
	shift 3
	vl_mount_fg "$S/$tag.log" || bail "$tag: veilfs did not mount"
	strace -f -qq -p "$VL_FGPID" -o /dev/null -e trace="$call" \
		-e inject="$call:error=EIO:signal=KILL:when=$n" 2>"$S/$tag.strace" &
	sp=$!
	# Wait (bounded) until strace traces every thread of the daemon.
	for i in $(seq 1 100); do
		t=0
		for f in /proc/"$VL_FGPID"/task/*/status; do
			grep -q "^TracerPid:[[:space:]]*$sp$" "$f" 2>/dev/null || t=1
		done
		[ $t = 0 ] && break
		sleep 0.1
	done
	(cd / && "$@") >"$S/$tag.cmd" 2>&1
	for i in $(seq 1 100); do
		kill -0 "$VL_FGPID" 2>/dev/null || { died=0; break; }
		sleep 0.1
	done
	kill "$sp" 2>/dev/null
	wait "$sp" 2>/dev/null
	vl_umount
	wait "$VL_FGPID" 2>/dev/null
	VL_FGPID=
	return $died
}

# --- 1. a file moved to another directory, killed before the rename (after step 1) ---------
va_new file-step1
vl_mount || bail "mount"
mkdir "$MNT/d1" "$MNT/d2" "$MNT/d3"
va_put "$MNT/d1/f" "the file" && va_put "$MNT/d3/x" "x in d3"
vl_umount
cf=$(va_enc d1/f)
ok "file-step1: the daemon died at the rename" crash file-step1 renameat2 1 mv "$MNT/d1/f" "$MNT/d2/f"
is "file-step1: the file kept its name, now with a moving header (flag 2)" 02 \
	"$(od -An -tx1 -j6 -N1 "$cf" 2>&1 | tr -d ' ')"
cp -p "$cf" "$S/moving.origin" # what the storage's version history keeps
va_check file-step1 "$(va_line d1/f "the file")" "$(va_line d3/x "x in d3")"
va_hasnt "file-step1: the file is not in the destination" "$S/file-step1.mnt" "d2/f|"
va_fsck file-step1
is "file-step1: fsck exits 7" 7 "$VA_RC"
va_finding "file-step1: fsck says the rename was cut short" file-step1 "$cf" "cut short"
va_repair file-step1 8
is "file-step1: the repair wrote the final header (no moving flag)" 00 "$(od -An -tx1 -j6 -N1 "$cf" | tr -d ' ')"

# --- 2. the same file moved, killed after the rename, before the final header --------------
ok "file-step2: the daemon died at the final header's write" crash file-step2 pwrite64 2 \
	mv "$MNT/d1/f" "$MNT/d2/f"
cf2=$(va_enc d2/f)
is "file-step2: the file is in the destination with a moving header" 02 \
	"$(od -An -tx1 -j6 -N1 "$cf2" 2>&1 | tr -d ' ')"
va_check file-step2 "$(va_line d2/f "the file")"
va_hasnt "file-step2: the file is no longer in the origin" "$S/file-step2.mnt" "d1/f|"
va_fsck file-step2
is "file-step2: fsck exits 7" 7 "$VA_RC"
va_finding "file-step2: fsck says the rename was cut short" file-step2 "$cf2" "cut short"
va_repair file-step2 8
cp -p "$cf2" "$S/final.dest"

# --- 3. FORMAT.md §7: the moving header from version history, replayed ----------------------
# Back in the directory it came from (under its old name): accepted. Over a file of a third
# directory: refused.
cp -p "$S/moving.origin" "$cf"
cp -f "$S/moving.origin" "$(va_enc d3/x)"
va_mount replay
is "replay: the moving header moves the file back into its origin (§7)" "the file" "$(cat "$MNT/d1/f" 2>&1)"
is "replay: the file also stays in its destination" "the file" "$(cat "$MNT/d2/f" 2>&1)"
is "replay: the moving header over a file of a third directory reads EIO" EIO "$(va_eio "$MNT/d3/x")"
va_umount replay
is "replay: one log line names the third directory's file" 1 "$(va_count "$S/replay.log" "$(basename "$(va_enc d3/x)")")"
va_fsck replay
va_finding "replay: fsck: the replayed file in the origin is a rename cut short" replay "$cf" "cut short"
va_finding "replay: fsck: the file in the third directory belongs elsewhere" replay "$(va_enc d3/x)" "another directory"

# --- 4. a directory renamed, killed before the rename (after step 1) -------------------------
va_new dir-step1
vl_mount || bail "mount"
mkdir -p "$MNT/P/X" "$MNT/Q" && va_put "$MNT/P/X/in" "in X" && va_put "$MNT/P/X/in2" "in X too"
vl_umount
cx=$(va_enc P/X)
ok "dir-step1: the daemon died at the directory's rename" crash dir-step1 renameat2 1 mv "$MNT/P/X" "$MNT/Q/Y"
is "dir-step1: the directory kept its name; its ID file names two places (flag 1)" 01 \
	"$(od -An -tx1 -j2 -N1 "$cx/veilfs.dirid" 2>&1 | tr -d ' ')"
va_check dir-step1 "$(va_line P/X/in "in X")" "$(va_line P/X/in2 "in X too")"
va_fsck dir-step1
is "dir-step1: fsck exits 7" 7 "$VA_RC"
va_finding "dir-step1: fsck says the rename was cut short" dir-step1 "${cx#"$CIPHER"/}" "cut short"
va_repair dir-step1 8
is "dir-step1: the repair left one place in the ID file" 00 "$(od -An -tx1 -j2 -N1 "$cx/veilfs.dirid" | tr -d ' ')"

# --- 5. the same directory renamed, killed after the rename, before the final ID file ------
ok "dir-step2: the daemon died at the final ID file's rename" crash dir-step2 renameat 2 \
	mv "$MNT/P/X" "$MNT/Q/$LF"
cy=$(va_enc "Q/$LF")
is "dir-step2: the directory has its new (long) name; its ID file names two places" 01 \
	"$(od -An -tx1 -j2 -N1 "$cy/veilfs.dirid" 2>&1 | tr -d ' ')"
va_check dir-step2 "$(va_line "Q/$LF/in" "in X")" "$(va_line "Q/$LF/in2" "in X too")"
va_hasnt "dir-step2: X is no longer in P" "$S/dir-step2.mnt" "P/X"
va_fsck dir-step2
is "dir-step2: fsck exits 7" 7 "$VA_RC"
va_finding "dir-step2: fsck says the rename was cut short" dir-step2 "${cy#"$CIPHER"/}" "cut short"
va_repair dir-step2 8

# --- 6. a file moved to a long name (a copy: §3.5), killed before the old name is removed ---
va_new copy-step
vl_mount || bail "mount"
mkdir "$MNT/d1" "$MNT/d2" && va_put "$MNT/d1/f" "copied file"
vl_umount
ok "copy-step: the daemon died at the removal of the old name" crash copy-step unlinkat 1 \
	mv "$MNT/d1/f" "$MNT/d2/$LF"
va_check copy-step "$(va_line d1/f "copied file")" "$(va_line "d2/$LF" "copied file")"
va_fsck copy-step
is "copy-step: fsck finds nothing wrong with two readable copies" 0 "$VA_RC"
va_repair copy-step 0

done_testing
