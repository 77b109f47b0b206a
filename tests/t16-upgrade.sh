#!/usr/bin/env bash
# t16-upgrade: `veilctl upgrade` converts a format-1 vault to format 2 in place (docs/FORMAT.md
# §10). A format-1 vault is filled through a mount with what format 1 keeps in separate pieces
# (long names and their sidecars, renamed directories, ID-file copies and conflict copies as
# sync engines leave them) and with empty files, symlinks, a fifo, xattrs and deep nesting;
# after the upgrade the mount must show exactly what the format-1 mount showed (path, type,
# size, SHA-256, link count, xattrs: tests/golden/manifest.sh -x), fsck must report nothing
# the format-1 vault did not have (and be clean once the engines' leftovers are resolved), and
# nothing of format 1 may be left. The upgrade is killed (SIGKILL) at many points and run
# again: every time the result must be the same. Hard links, the golden v1 tree, the
# "upgrading" state and the progress line are checked on their own.
. "$(dirname "$0")/lib.sh"
vl_setup
gold=$TOP_SRCDIR/tests/golden
manifest() { "$gold/manifest.sh" -x "$@"; }
rep() { printf "%${2}s" '' | tr ' ' "$1"; } # rep CHAR N: CHAR N times
ctext=' (conflict_on_2026-12-06_03-11-21)'   # unison 2.52 -copyonconflict
ctl() { "$VEILCTL" --passfile "$PASSFILE" "$@" </dev/null; }
enc() { ctl encrypt-path "$@" | head -n 1; } # format 1 adds a "sidecar:" line

# upgrade_of DIR: runs veilctl upgrade on DIR (stderr to DIR.err); its exit status.
upgrade_of() { "$VEILCTL" upgrade --passfile "$PASSFILE" "$1" </dev/null >/dev/null 2>"$1.err"; }
# state_of DIR: "format1", "upgrading" or "format2" from the config; then how many regular
# files of the tree have a format-2 header (docs/FORMAT.md §3.1: version 2 at offset 4) and
# how many format-1 sidecars (9...) and upgrade temporaries (.veilfs.tmp.*) are there.
state_of() {
	python3 - "$1" <<'EOF'
import os, sys
root = sys.argv[1]
conf = open(os.path.join(root, "veilfs.conf")).read()
st = "format1" if "format = 1\n" in conf else ("upgrading" if "upgrading" in conf else "format2")
v2 = files = side = tmp = 0
for d, dirs, names in os.walk(root):
    for n in names:
        p = os.path.join(d, n)
        if n.startswith(".veilfs.tmp."):
            tmp += 1
        elif n.startswith("9"):
            side += 1
        elif n not in ("veilfs.conf",) and not n.startswith("veilfs"):
            files += 1
            with open(p, "rb") as f:
                if f.read(6)[4:6] == b"\x00\x02":
                    v2 += 1
print(f"{st} {v2}/{files} files in format 2, {side} sidecars, {tmp} temporaries")
EOF
}
# conv_upgrade DIR: runs veilctl upgrade on DIR (stderr to DIR.err) and sets conv_ms to the
# milliseconds from its "upgrading to format 2" message (printed right after the config
# rewrite, FORMAT.md §10) to its end: the length of the conversion. Its exit status.
conv_ms=0
conv_upgrade() {
	local f=$VL_TMP/conv.fifo line t0 pid rc
	rm -f "$f" && mkfifo "$f"
	"$VEILCTL" upgrade --passfile "$PASSFILE" "$1" </dev/null >/dev/null 2>"$f" &
	pid=$!
	exec 3<"$f"
	: >"$1.err"
	while IFS= read -r line <&3; do
		printf '%s\n' "$line" >>"$1.err"
		case $line in *"upgrading to format 2"*) break ;; esac
	done
	t0=$(date +%s%N)
	cat <&3 >>"$1.err"
	exec 3<&-
	wait "$pid"
	rc=$?
	conv_ms=$((($(date +%s%N) - t0) / 1000000))
	return $rc
}
# killed_upgrade DIR DELAY: runs veilctl upgrade on DIR and SIGKILLs it DELAY seconds after its
# "upgrading to format 2" message ("before": at once, during the KDF, before the config is
# rewritten).
killed_upgrade() {
	local f=$VL_TMP/kill.fifo line pid
	rm -f "$f" && mkfifo "$f"
	"$VEILCTL" upgrade --passfile "$PASSFILE" "$1" </dev/null >/dev/null 2>"$f" &
	pid=$!
	exec 3<"$f"
	if [ "$2" != before ]; then
		while IFS= read -r line <&3; do
			case $line in *"upgrading to format 2"*) break ;; esac
		done
		sleep "$2"
	fi
	{ # (no "Killed" line from the shell)
		kill -9 "$pid"
		cat <&3 >/dev/null
		exec 3<&-
		wait "$pid"
	} 2>/dev/null
	return 0
}
# fsck_lines FSCK-OUTPUT: its lines but the summary, sorted; the upgrade's temporaries, which
# fsck lists as foreign files, are left out (checked on their own by state_of).
fsck_lines() { grep -v -e '^fsck:' -e '\.veilfs\.tmp\.[0-9a-f]* \[' "$1" | LC_ALL=C sort; }
# kill_points NAME PRISTINE SUMMARY V1-SUMMARY REF-FSCK WINDOW-MS K: K+1 copies of vault
# PRISTINE, each upgrade killed at another point (k = 0 at once, during the KDF; k = 1..K at
# k/K of WINDOW-MS into the conversion), then upgraded again; then the function
# SUMMARY DIR OUT must write V1-SUMMARY (what the format-1 vault showed), fsck must say
# REF-FSCK (what it says after an uninterrupted upgrade), and nothing of format 1 or of the
# upgrade may be left. Where each kill landed is in the test points' names.
kill_points() {
	local name=$1 pristine=$2 summary=$3 v1m=$4 ref=$5 win=$6 n=$7 k c delay st
	for k in $(seq 0 "$n"); do
		c=$VL_TMP/$name.kill$k
		cp -a "$pristine" "$c"
		delay=before
		[ "$k" = 0 ] || delay=$(awk -v w="$win" -v k="$k" -v n="$n" 'BEGIN { printf "%.3f", w * k / n / 1000 }')
		killed_upgrade "$c" "$delay"
		st=$(state_of "$c")
		[ "$k" = 0 ] || delay=+${delay}s
		# (k = 0 nearly always lands here; a busy machine may delay the kill past the rewrite)
		case $st in format1*)
			is "$name: kill point $k ($delay): killed before the config rewrite, nothing written" \
				"$(tree_sum "$pristine")" "$(tree_sum "$c")" ;;
		esac
		upgrade_of "$c"
		is "$name: kill point $k ($delay: $st): the upgrade run again exits 0" 0 $?
		"$summary" "$c" "$c.summary"
		ok "$name: kill point $k: the tree is what format 1 showed" diff -u "$v1m" "$c.summary"
		fsck_of "$c" "$c.fsck"
		ok "$name: kill point $k: fsck says what it says after the uninterrupted upgrade" \
			diff -u <(fsck_lines "$ref") <(fsck_lines "$c.fsck")
		is "$name: kill point $k: format 2 with no sidecar and no temporary left" "format2 0 sidecars, 0 temporaries" \
			"$(state_of "$c" | sed 's/ [0-9]*\/[0-9]* files in format 2,//')"
		rm -rf "$c" "$c.summary" "$c.fsck"
	done
}
# problems FSCK-OUTPUT: the plaintext paths fsck names in its "problem:" lines, sorted.
problems() { sed -n 's/^problem: [^[]*\[\([^]]*\)\].*/\1/p' "$1" | LC_ALL=C sort -u; }
# fsck_of DIR OUT: veilctl fsck of DIR, output to OUT; its exit status.
fsck_of() { "$VEILCTL" fsck --passfile "$PASSFILE" "$1" </dev/null >"$2" 2>&1; }
# mount_manifest DIR OUT: the plaintext manifest of vault DIR through a read-only mount.
mount_manifest() {
	vl_mount_at "$1" "$MNT" -o ro || return 1
	manifest "$MNT" >"$2"
	vl_umount
}
# tree_sum DIR: a digest of every file's bytes and every backing xattr of a ciphertext tree.
tree_sum() {
	(cd "$1" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum &&
		getfattr -R -d -m '^user\.' -e hex . 2>/dev/null) | sha256sum | cut -c1-64
}

# ---- a format-1 vault, filled through a mount ----
VL_INIT_FORMAT=1 vl_init || bail "veilctl init --format 1 failed"
is "the new vault is format 1" 1 "$(vl_format)"
B=$VL_TMP/b # a second device: a copy of the vault (same key)
cp -a "$CIPHER" "$B"
MB=$VL_TMP/mb
mkdir -p "$MB"

lfile=$(rep L 251).txt
ldir=$(rep D 200)
llink=$(rep S 230)
lold=$(rep O 170)
lnew=$(rep N 170)
lconf=$(rep C 146).txt
vl_mount || bail "mount of the format-1 vault failed"
(
	set -e
	cd "$MNT"
	: >empty
	: >empty-xattr
	setfattr -n user.e -v 'on an empty file' empty-xattr
	printf 'abc' >emptied
	truncate -s 0 emptied
	printf x >one-byte
	head -c 4096 /dev/zero | tr '\0' a >block-exact
	head -c 8192 /dev/zero | tr '\0' b >two-blocks
	seq 1 20000 >multi-block
	printf 'long\n' >"$lfile"
	setfattr -n user.long -v 'xattr of a long-named file' "$lfile"
	setfattr -n user.bin -v 0x00ff00 multi-block
	mkdir "$ldir"
	printf 'in a long dir\n' >"$ldir/inside"
	printf 'long in long\n' >"$ldir/$lfile"
	ln -s multi-block link
	ln -s "$(rep t 1000)" long-target-link
	ln -s one-byte "$llink"
	mkfifo fifo
	# renamed directories (format 1: the ID stays the one derived from the first name)
	mkdir -p r/old/sub
	printf 'r1\n' >r/old/sub/f
	mv r/old r/new
	mv r/new/sub r/new/sub2
	printf 'after the rename\n' >r/new/sub2/g
	mkdir "$lold"
	printf 'x\n' >"$lold/x"
	mv "$lold" "$lnew"
	setfattr -n user.dir -v 'xattr of a renamed directory' "$lnew"
	# moved across directories
	mkdir -p a/x/y b
	printf 'moved\n' >a/x/y/m
	mv a/x b/x
	printf 'moved file\n' >a/file
	mv a/file b/file
	# deep nesting, with a long-named level in the middle
	p=deep
	for i in $(seq 1 40); do
		[ "$i" = 20 ] && p=$p/$(rep Q 160) || p=$p/n$i
	done
	mkdir -p "$p"
	printf 'bottom\n' >"$p/bottom"
	# enough entries for the progress line and for kill points during the conversion
	mkdir many docs
	for i in $(seq 1 100); do printf '%s\n' "$i" >"many/f$i"; done
	printf 'doc\n' >docs/readme
	printf 'version A\n' >report.txt
	printf 'long version A\n' >"$lconf"
	# for the ID-file copies of a directory renamed on one device, created on the other
	mkdir X
	printf 'a1\n' >X/a1
	mv X Y
	printf 'a2\n' >Y/a2
)
is "the format-1 tree was written through the mount" 0 $?
vl_umount
ok "second device mounts" vl_mount_at "$B" "$MB"
mkdir "$MB/Y" && printf 'b1\n' >"$MB/Y/b1"
vl_umount_dir "$MB"

# What engines leave, made by hand on the ciphertext (FORMAT-v1.md, docs/SYNC.md):
(
	set -e
	y=$(enc "$CIPHER" Y)
	# rclone bisync: Y made on both devices under different IDs: both ID files renamed, the
	# other device's file copied in.
	mv "$CIPHER/$y/veilfs.dirid" "$CIPHER/$y/veilfs.dirid..path1"
	cp "$B/$y/veilfs.dirid" "$CIPHER/$y/veilfs.dirid..path2"
	b1=$(enc "$B" Y/b1)
	cp "$B/$b1" "$CIPHER/$b1"
	# Dropbox: a duplicate of an ID file.
	m=$(enc "$CIPHER" many)
	cp "$CIPHER/$m/veilfs.dirid" "$CIPHER/$m/veilfs (conflicted copy 2025-02-10).dirid"
	# unison: conflict copies of a directory, of a short-named file, and of a long-named
	# file with its sidecar (both renamed with the same text).
	d=$(enc "$CIPHER" docs)
	cp -a "$CIPHER/$d" "$CIPHER/$d$ctext"
	r=$(enc "$CIPHER" report.txt)
	l=$(enc "$CIPHER" "$lconf")
	cp -p "$CIPHER/$r" "$CIPHER/$r$ctext"
	cp -p "$CIPHER/$l" "$CIPHER/$l$ctext"
	cp -p "$CIPHER/9${l#8}" "$CIPHER/9${l#8}$ctext"
)
is "engine copies made on the ciphertext" 0 $?
ok "mount after the engine copies" vl_mount
printf 'version B\n' >"$MNT/report.txt" && printf 'long version B\n' >"$MNT/$lconf" &&
	printf 'newer\n' >"$MNT/docs/readme"
vl_umount

mount_manifest "$CIPHER" "$VL_TMP/v1.manifest"
ok "the format-1 mount shows the names that only the ID-file copies give" \
	grep -q "^f ./Y/a1 .*" "$VL_TMP/v1.manifest"
ok "the format-1 mount shows the other device's file" grep -q "^f ./Y/b1 " "$VL_TMP/v1.manifest"
ok "the format-1 mount shows the long-named conflict copy" \
	grep -qF "f ./${lconf%.txt}$ctext.txt " "$VL_TMP/v1.manifest"
ok "the format-1 mount shows the directory's conflict copy" grep -qF "f ./docs$ctext/readme " "$VL_TMP/v1.manifest"
ok "the format-1 vault has sidecars to convert" test "$(cd "$CIPHER" && find . -name '9*' | wc -l)" -ge 6
fsck_of "$CIPHER" "$VL_TMP/fsck.v1"
is "fsck of the format-1 vault reports what the engines left (exit 7)" 7 $?
problems "$VL_TMP/fsck.v1" >"$VL_TMP/problems.v1"
diag "problems fsck reports in format 1, by plaintext path: $(paste -sd ' ' "$VL_TMP/problems.v1")"
cp -a "$CIPHER" "$VL_TMP/pristine"
P=$VL_TMP/pristine
nents=$(grep -c '^[dflp] ' "$VL_TMP/v1.manifest")
diag "format-1 tree: $nents entries; $(state_of "$P")"

# ---- the upgrade ----
c=$VL_TMP/full
cp -a "$P" "$c"
conv_upgrade "$c"
is "veilctl upgrade exits 0" 0 $?
sed 's/^/# /' "$c.err"
is "the config says format 2" 2 "$(vl_format "$c")"
is "the config has no feature left" "features =" "$(grep '^features' "$c/veilfs.conf")"
# (Y's veilfs.dirid is missing in format 1, renamed away by bisync: that one is said)
is "no error message but Y's missing ID file" "" "$(grep -i error "$c.err" | grep -v 'missing directory ID file')"
is "no format-1 sidecar and no temporary left" "format2 0 sidecars, 0 temporaries" \
	"$(state_of "$c" | sed 's/ [0-9]*\/[0-9]* files in format 2,//')"
is "every file has a format-2 header" yes "$(state_of "$c" | awk '{ split($2, a, "/"); print (a[1] == a[2]) ? "yes" : "no" }')"
# The engines' leftovers (two IDs for Y, a duplicate ID file) are problems in both formats,
# for the user to resolve (veilctl conflicts --resolve-dirids, fsck --repair): the upgrade
# must not add any, nor hide one.
fsck_of "$c" "$VL_TMP/fsck.full"
is "fsck of the upgraded vault: exit 7 (the engines' leftovers, as before)" 7 $?
problems "$VL_TMP/fsck.full" >"$VL_TMP/problems.full"
is "fsck reports no problem at a path where format 1 had none" "" \
	"$(LC_ALL=C comm -13 "$VL_TMP/problems.v1" "$VL_TMP/problems.full")"
ok "fsck still reports the two IDs of /Y (the upgrade hides no problem)" grep -qx '/Y/a1' "$VL_TMP/problems.full"
mount_manifest "$c" "$VL_TMP/full.manifest"
ok "the mount shows what format 1 showed (path, type, size, SHA-256, links, xattrs)" \
	diff -u "$VL_TMP/v1.manifest" "$VL_TMP/full.manifest"
"$VEILCTL" export --passfile "$PASSFILE" "$c" "$VL_TMP/full.export" </dev/null >/dev/null 2>"$VL_TMP/full.export.err"
is "veilctl export reads every entry" 0 $?
manifest "$VL_TMP/full.export" | grep -v '^[nx] ' >"$VL_TMP/full.export.manifest"
ok "veilctl export shows what format 1 showed (but links and xattrs, which export does not copy)" \
	diff -u <(grep -v '^[nx] ' "$VL_TMP/v1.manifest") "$VL_TMP/full.export.manifest"

sum=$(tree_sum "$c")
upgrade_of "$c"
is "a second upgrade exits 0" 0 $?
ok "a second upgrade says the vault is format 2 already" grep -q "format-2 vault already" "$c.err"
is "a second upgrade changes nothing" "$sum" "$(tree_sum "$c")"

ok "the upgraded vault mounts read-write" vl_mount_at "$c" "$MNT"
printf 'more\n' >>"$MNT/many/f1" && mv "$MNT/b/file" "$MNT/a/file-back" && mv "$MNT/$lnew" "$MNT/r/$lold" &&
	printf 'new\n' >"$MNT/Y/new" && : >"$MNT/empty-new"
is "writes through the mount of the upgraded vault" 0 $?
is "a moved file reads" "moved file" "$(cat "$MNT/a/file-back")"
is "a file in a moved long-named directory reads" x "$(cat "$MNT/r/$lold/x")"
vl_umount
fsck_of "$c" "$VL_TMP/fsck.full2"
problems "$VL_TMP/fsck.full2" >"$VL_TMP/problems.full2"
is "writes through the mount add no problem" "" "$(LC_ALL=C comm -13 "$VL_TMP/problems.v1" "$VL_TMP/problems.full2")"
mount_manifest "$c" "$VL_TMP/full2.manifest"
# (conflicts exits 7 while conflict copies remain: the unison copies stay, for the user)
"$VEILCTL" conflicts --resolve-dirids --passfile "$PASSFILE" "$c" </dev/null >/dev/null 2>"$VL_TMP/resolve.err"
"$VEILCTL" fsck --repair --passfile "$PASSFILE" "$c" </dev/null >"$VL_TMP/repair.out" 2>&1
fsck_of "$c" "$VL_TMP/fsck.full3"
is "after conflicts --resolve-dirids and fsck --repair the upgraded vault is clean" 0 $?
sed 's/^/# /' "$VL_TMP/fsck.full3" | grep '^# problem' | head -5
mount_manifest "$c" "$VL_TMP/full3.manifest"
ok "... and the mount shows the same tree" diff -u "$VL_TMP/full2.manifest" "$VL_TMP/full3.manifest"

# ---- a wrong password changes nothing ----
c=$VL_TMP/wrong
cp -a "$P" "$c"
printf 'not the password\n' >"$VL_TMP/wrongpass"
"$VEILCTL" upgrade --passfile "$VL_TMP/wrongpass" "$c" </dev/null >/dev/null 2>&1
is "a wrong password: exit status 3" 3 $?
is "a wrong password: nothing written" "$(tree_sum "$P")" "$(tree_sum "$c")"

# ---- killed after the config rewrite: the vault says "upgrading" and nothing mounts it ----
# The upgrade's first message follows the config rewrite (FORMAT.md §10); with its stderr a
# full pipe, that write blocks, and the kill lands exactly there.
c=$VL_TMP/blocked
cp -a "$P" "$c"
mkfifo "$VL_TMP/full.fifo"
exec 4<>"$VL_TMP/full.fifo"
head -c 65536 /dev/zero >&4
"$VEILCTL" upgrade --passfile "$PASSFILE" "$c" </dev/null >/dev/null 2>"$VL_TMP/full.fifo" &
pid=$!
for i in $(seq 1 1200); do
	case $(cat "/proc/$pid/wchan" 2>/dev/null) in *pipe_write*) break ;; esac
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.05
done
diag "upgrade blocked in $(cat "/proc/$pid/wchan" 2>/dev/null) after ~$((i * 50)) ms"
{
	kill -9 "$pid"
	wait "$pid"
} 2>/dev/null
exec 4<&-
st=$(state_of "$c")
diag "killed at its first message: $st"
is "killed after the config rewrite: the config says format 2, upgrading" "format = 2|features = upgrading" \
	"$(grep -E '^(format|features) ' "$c/veilfs.conf" | paste -sd '|')"
"$VEILFS" --passfile "$PASSFILE" "$c" "$MNT" </dev/null >/dev/null 2>"$VL_TMP/refused.err"
is "veilfs refuses to mount a vault being upgraded (exit 4: the config's feature, veilfs(1))" 4 $?
vl_mounts+=("$MNT")
nok "... and nothing is mounted" mountpoint -q "$MNT"
ok "... saying to run veilctl upgrade" grep -q "run veilctl upgrade" "$VL_TMP/refused.err"
upgrade_of "$c"
is "the upgrade resumes and exits 0" 0 $?
ok "the resumed upgrade says it resumes" grep -q "resuming an upgrade" "$c.err"
mount_manifest "$c" "$VL_TMP/blocked.manifest"
ok "the resumed upgrade gives what format 1 showed" diff -u "$VL_TMP/v1.manifest" "$VL_TMP/blocked.manifest"

# ---- SIGKILL at many points, then the upgrade again ----
# Kill points spread over the conversion as the uninterrupted run above timed it; whatever
# the timing, every point must end in the same tree.
diag "uninterrupted upgrade: $conv_ms ms of conversion for $nents entries"
kill_points main "$P" mount_manifest "$VL_TMP/v1.manifest" "$VL_TMP/fsck.full" "$conv_ms" "${T16_KILL_POINTS:-8}"

# ---- hard links (FORMAT.md §6, §10: links within one directory under short names stay links;
# a link between directories becomes two files; format 2 has no links under long names) ----
H=$VL_TMP/links
mkdir -p "$H"
VL_INIT_DIR=$H VL_INIT_FORMAT=1 vl_init || bail "init of the links vault failed"
llink2=$(rep L 150)
ok "links vault mounts" vl_mount_at "$H" "$MNT"
(
	set -e
	cd "$MNT"
	mkdir pair triple cross1 cross2
	printf 'pair\n' >pair/a && ln pair/a pair/b
	setfattr -n user.l -v linked pair/a
	printf 'triple\n' >triple/a && ln triple/a triple/b && ln triple/a triple/c
	for i in 1 2 3 4 5 6; do
		mkdir mixed$i
		printf 'mixed\n' >mixed$i/a
		for n in b c "$llink2"; do ln mixed$i/a "mixed$i/$n"; done
	done
	printf 'cross\n' >cross1/a && ln cross1/a cross2/a
)
is "hard links made in the format-1 vault" 0 $?
vl_umount
mount_manifest "$H" "$VL_TMP/links.v1"
upgrade_of "$H"
is "links: the upgrade exits 0" 0 $?
mount_manifest "$H" "$VL_TMP/links.v2"
for d in pair triple; do
	is "links: the $d in one directory keeps its links, xattrs and contents" \
		"$(grep " ./$d/" "$VL_TMP/links.v1")" "$(grep " ./$d/" "$VL_TMP/links.v2")"
done
# Sets with a long name: each name read on its own (a mount would read a second name through
# the inode of the first). Six sets, as the result depends on the order the upgrade meets
# the names in (readdir order).
for i in 1 2 3 4 5 6; do
	r=
	for n in a b c "$llink2"; do r="$r$(ctl cat "$H" "mixed$i/$n" 2>&1 | tr '\n' ' ')|"; done
	is "links: mixed$i, a set with a long name: every name reads on its own after the upgrade" \
		"mixed |mixed |mixed |mixed |" "$r"
done
is "links: a link between directories becomes two files with the same contents" \
	"$(grep '^f ./cross' "$VL_TMP/links.v1")" "$(grep '^f ./cross' "$VL_TMP/links.v2")"
fsck_of "$H" "$VL_TMP/links.fsck"
is "links: fsck of the upgraded vault is clean" 0 $?
sed 's/^/# /' "$VL_TMP/links.fsck" | grep '^# problem' | head -5

# Killed in the middle of a link set: the names converted and those not yet must end as one
# file again. 1000 names of one file (each a link and a rename in the upgrade).
H=$VL_TMP/manylinks
mkdir -p "$H"
VL_INIT_DIR=$H VL_INIT_FORMAT=1 vl_init || bail "init of the manylinks vault failed"
ok "manylinks vault mounts" vl_mount_at "$H" "$MNT"
(
	set -e
	cd "$MNT"
	mkdir set
	printf 'one file\n' >set/l0
	python3 -c 'import os
for i in range(1, 1000): os.link("set/l0", "set/l%d" % i)'
)
is "1000 hard links made in the format-1 vault" 0 $?
vl_umount
# links_summary DIR OUT: the link counts and the contents of the names, through the mount.
links_summary() {
	vl_mount_at "$1" "$MNT" -o ro || return 1
	(cd "$MNT/set" && find . -type f -printf '%n\n' | sort | uniq -c && cat -- * | sha256sum) >"$2"
	vl_umount
}
links_summary "$H" "$VL_TMP/manylinks.v1"
cp -a "$H" "$VL_TMP/manylinks.pristine"
conv_upgrade "$H"
is "manylinks: the upgrade exits 0" 0 $?
links_summary "$H" "$VL_TMP/manylinks.v2"
ok "manylinks: every name keeps its link count" diff -u "$VL_TMP/manylinks.v1" "$VL_TMP/manylinks.v2"
fsck_of "$H" "$VL_TMP/manylinks.fsck"
is "manylinks: fsck is clean" 0 $?
diag "manylinks: $conv_ms ms of conversion"
kill_points manylinks "$VL_TMP/manylinks.pristine" links_summary "$VL_TMP/manylinks.v1" "$VL_TMP/manylinks.fsck" \
	"$conv_ms" 4

# ---- the golden format-1 tree ----
G=$VL_TMP/golden1
cp -R "$gold/v1" "$G" && chmod -R u+w "$G"
printf 'golden\n' >"$VL_TMP/goldenpass"
"$VEILCTL" upgrade --passfile "$VL_TMP/goldenpass" "$G" </dev/null >/dev/null 2>"$VL_TMP/golden.err"
is "golden v1: the upgrade exits 0" 0 $?
is "golden v1: the upgrade of a clean vault prints no error" "" "$(grep -i error "$VL_TMP/golden.err")"
"$VEILCTL" fsck --passfile "$VL_TMP/goldenpass" "$G" </dev/null >"$VL_TMP/golden.fsck" 2>&1
is "golden v1: fsck of the upgraded tree is clean" 0 $?
"$VEILFS" --passfile "$VL_TMP/goldenpass" -o ro "$G" "$MNT" </dev/null
is "golden v1: the upgraded tree mounts" 0 $?
manifest "$MNT" >"$VL_TMP/golden.manifest"
vl_umount
ok "golden v1: the upgraded tree shows v1.expect" diff -u "$gold/v1.expect" "$VL_TMP/golden.manifest"

# ---- progress on a terminal (tools/progress.h: "upgrade: N/M entries (P%)", redrawn, ended at
# 100%, only when stderr is a terminal) ----
c=$VL_TMP/progress
cp -a "$P" "$c"
if vl_have script; then
	script -qec "'$VEILCTL' upgrade --passfile '$PASSFILE' '$c' </dev/null" /dev/null >"$VL_TMP/progress.tty" 2>&1
	is "on a terminal: the upgrade exits 0" 0 $?
	ok "on a terminal: its progress line ends at 100% of the entries" \
		grep -aqE 'upgrade: ([0-9]+)/\1 entries \(100%\)' "$VL_TMP/progress.tty"
else
	skip_test "on a terminal: progress" "script(1) is not installed"
fi
cp -a "$P" "$c.2"
upgrade_of "$c.2"
nok "not on a terminal: no progress line" grep -qaE $'\r|upgrade: [0-9]+/' "$c.2.err"
done_testing
