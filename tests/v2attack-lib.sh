# tests/v2attack-lib.sh: helpers of the format-2 attack tests (t83, t84), sourced after
# tests/lib.sh. Each scenario gets its own vault (and, for two devices, a copy sharing its
# master key) under $VL_TMP, and is checked three ways: a fresh mount (its own log), veilctl
# (ls -l -R and cat), and veilctl fsck / fsck --repair.
VA_MF=$TOP_SRCDIR/tests/v2attack-manifest.py

# va_new NAME: a fresh format-2 vault for one scenario. Sets $S (the scenario's directory),
# $CIPHER and $MNT (device A), $CB and $MB (device B, made by va_dev_b).
va_new() {
	S=$VL_TMP/$1
	CIPHER=$S/a
	MNT=$S/ma
	CB=$S/b
	MB=$S/mb
	mkdir -p "$CIPHER" "$MNT" "$MB"
	vl_init || bail "$1: veilctl init failed: $(cat "$VL_TMP/init.out")"
	[ "$(vl_format)" = 2 ] || bail "$1: veilctl init did not make a format-2 vault"
}
# va_dev_b: device B gets the vault as it is now (the sync client copied it); $S/base keeps
# that state, the last one both devices agreed on (what a sync engine compares against).
va_dev_b() {
	rm -rf "$CB" "$S/base" && cp -a "$CIPHER" "$CB" && cp -a "$CIPHER" "$S/base"
}
# va_merge ENGINE: the engine's decisions applied to both devices (tests/v2attack-merge.py).
va_merge() {
	python3 "$TOP_SRCDIR/tests/v2attack-merge.py" "$1" "$S/base" "$CIPHER" "$CB" >"$S/merge.log" ||
		bail "$1 merge failed"
	sed 's/^/# merge: /' "$S/merge.log" | cut -c 1-160
}
# va_mount_b / va_umount_b TAG: device B's mount (no log); va_umount_b writes $S/TAG.mntb
# and checks that B shows exactly what A showed ($S/TAG.mnt).
va_mount_b() { vl_mount_at "$CB" "$MB" || bail "device B did not mount"; }
va_umount_b() {
	cd / || true
	python3 "$VA_MF" mount "$MB" >"$S/$1.mntb"
	vl_umount_dir "$MB"
	va_same "$1: both devices show the same tree" "$S/$1.mnt" "$S/$1.mntb"
}
# va_enc [CIPHERDIR] PATH: the absolute ciphertext path of plaintext PATH.
va_enc() {
	local c=$CIPHER p
	if [ $# = 2 ]; then
		c=$1
		shift
	fi
	p=$("$VEILCTL" encrypt-path --passfile "$PASSFILE" "$c" "$1" </dev/null) && [ -n "$p" ] &&
		printf '%s/%s\n' "$c" "$p"
}
# va_put MNTDIR/PATH TEXT: writes TEXT (no newline) through a mount.
va_put() { printf '%s' "$2" >"$1"; }
# va_line PATH TEXT: the manifest line of a regular file holding TEXT (no newline).
va_line() { printf '%s|f|%d|%s\n' "$1" "${#2}" "$(printf '%s' "$2" | md5sum | cut -d' ' -f1)"; }
# va_snap CIPHERDIR: the ciphertext tree (names, types, sizes, mtimes, modes), to prove that
# reading wrote nothing.
va_snap() { (cd "$1" && find . -printf '%p %y %s %T@ %m\n' | LC_ALL=C sort); }
# va_eio MNTPATH: prints EIO when reading the file (or the symlink's target) fails so, else
# OK or the errno's name.
va_eio() {
	vl_errno "p = '$1'
if os.path.islink(p): os.readlink(p)
else: open(p, 'rb').read()"
}
# va_count FILE TEXT: how many lines of FILE contain TEXT.
va_count() { grep -cF -- "$2" "$1" 2>/dev/null || true; }

# va_mount TAG: a fresh foreground mount of $CIPHER on $MNT, logging to $S/TAG.log.
va_mount() {
	VA_SNAP=$(va_snap "$CIPHER")
	vl_mount_fg "$S/$1.log" || bail "$1: veilfs did not mount: $(cat "$S/$1.log")"
}
# va_umount TAG: writes the mount's manifest to $S/TAG.mnt, unmounts, and checks that the
# mount wrote nothing into the ciphertext (SYNC.md: nothing is written while reading).
va_umount() {
	cd / || true
	python3 "$VA_MF" mount "$MNT" >"$S/$1.mnt"
	vl_umount_fg
	is "$1: the mount wrote nothing into the ciphertext" "$VA_SNAP" "$(va_snap "$CIPHER")"
}
# va_norm: manifest lines on stdin with unreadable contents (ERR) reduced to PATH|?||ERR:
# veilctl ls -l marks such an entry unreadable without a type or size.
va_norm() { sed -E 's/^([^|]*)\|[^|]*\|[^|]*\|(ERR|EIO)$/\1|?||ERR/'; }
# va_ctl TAG: veilctl's manifest ($S/TAG.ctl); checks that it equals the mount's ($S/TAG.mnt).
va_ctl() {
	local snap
	snap=$(va_snap "$CIPHER")
	python3 "$VA_MF" ctl "$VEILCTL" "$PASSFILE" "$CIPHER" | va_norm >"$S/$1.ctl"
	is "$1: veilctl ls/cat wrote nothing into the ciphertext" "$snap" "$(va_snap "$CIPHER")"
	va_norm <"$S/$1.mnt" >"$S/$1.mnt.norm"
	va_same "$1: veilctl ls -R and cat show exactly what the mount shows" "$S/$1.mnt.norm" "$S/$1.ctl"
}
# va_short TEXT: TEXT with runs of more than 8 equal characters shortened, for test names.
va_short() { printf '%s' "$1" | sed -E 's/(.)\1{8,}/\1\1\1...\1/g'; }
# va_check TAG LINE...: the three views of $CIPHER; each must show every LINE (a manifest
# line, va_line; PATH|?||ERR for an entry that is listed but cannot be read). The mount is
# fresh: each LINE's path is first looked up and read directly (no listing before, so nothing
# is cached: $S/TAG.direct), then the whole tree is listed ($S/TAG.mnt); then veilctl ls -l
# -R and cat ($S/TAG.ctl). Unreadable entries are compared as PATH|?||ERR (va_norm).
va_check() {
	local tag=$1 l p paths=()
	shift
	for l in "$@"; do paths+=("${l%%|*}"); done
	va_mount "$tag"
	python3 "$VA_MF" paths "$MNT" "${paths[@]}" >"$S/$tag.direct"
	va_umount "$tag"
	va_ctl "$tag"
	va_norm <"$S/$tag.direct" >"$S/$tag.direct.norm"
	for l in "$@"; do
		p=$(va_short "${l%%|*}")
		l=$(printf '%s\n' "$l" | va_norm)
		va_has "$tag: $p: a lookup in a fresh mount finds it, reads it (or fails as due)" "$S/$tag.direct.norm" "$l"
		va_has "$tag: $p: the mount lists it, reads it (or fails as due)" "$S/$tag.mnt.norm" "$l"
		va_has "$tag: $p: veilctl ls -l -R and cat show it (or fail as due)" "$S/$tag.ctl" "$l"
	done
}
# va_same DESC FILE1 FILE2: a test point passing when both files are equal (diff shown).
va_same() {
	if cmp -s "$2" "$3"; then
		ok "$1" true
	else
		ok "$1" false
		diff "$2" "$3" | cut -c 1-200 | head -n 20 | sed 's/^/#   /'
	fi
}
# va_has DESC FILE LINE: FILE (a manifest) holds LINE exactly.
va_has() {
	if grep -qxF -- "$3" "$2"; then
		ok "$1" true
	else
		ok "$1" false
		printf '#   wanted: %s\n' "$3" | cut -c 1-200
		sed 's/^/#   have:   /' "$2" | cut -c 1-200 | head -n 8
	fi
}
# va_hasnt DESC FILE TEXT: no line of FILE contains TEXT.
va_hasnt() { nok "$1" grep -qF -- "$3" "$2"; }

# va_fsck TAG [--repair]: veilctl fsck of $CIPHER; output in $S/TAG.fsck, exit status in $VA_RC.
va_fsck() {
	local tag=$1
	shift
	"$VEILCTL" --passfile "$PASSFILE" fsck "$@" "$CIPHER" </dev/null >"$S/$tag.fsck" 2>"$S/$tag.fsck.err"
	VA_RC=$?
}
# va_finding DESC TAG CPATH ERE: a "problem" (or "repaired") line of $S/TAG.fsck names the
# ciphertext path CPATH (absolute or relative to $CIPHER) and matches ERE.
va_finding() {
	local rel=${3#"$CIPHER"/}
	if grep -E '^(problem|repaired): ' "$S/$2.fsck" | grep -F -- "$rel" | grep -qE -- "$4"; then
		ok "$1" true
	else
		ok "$1" false
		sed 's/^/#   fsck: /' "$S/$2.fsck" | cut -c 1-240 | head -n 20
	fi
}
# va_repair TAG EXIT: fsck --repair (exit status EXIT expected) after the views of TAG;
# then a fresh mount: every entry the mount showed before (path, type, size, MD5) is still
# found by a direct lookup and in the listing, and a second fsck finds no problem (exit 0,
# notes allowed) when EXIT is 0 or 8.
va_repair() {
	local tag=$1 want=$2 lost paths=()
	va_fsck "$tag-repair" --repair
	is "$tag: fsck --repair exits $want" "$want" "$VA_RC"
	[ "$VA_RC" = "$want" ] || sed 's/^/#   fsck: /' "$S/$tag-repair.fsck" | cut -c 1-240 | head -n 20
	mapfile -t paths < <(cut -d'|' -f1 "$S/$tag.mnt")
	va_mount "$tag-after"
	python3 "$VA_MF" paths "$MNT" "${paths[@]}" >"$S/$tag-after.direct"
	va_umount "$tag-after"
	lost=$(LC_ALL=C comm -23 <(LC_ALL=C sort "$S/$tag.mnt") <(LC_ALL=C sort "$S/$tag-after.direct"))
	is "$tag: after fsck --repair, a lookup finds every entry shown before, unchanged" "" "$lost"
	lost=$(LC_ALL=C comm -23 <(LC_ALL=C sort "$S/$tag.mnt") <(LC_ALL=C sort "$S/$tag-after.mnt"))
	is "$tag: after fsck --repair, the listing shows every entry shown before, unchanged" "" "$lost"
	va_fsck "$tag-again"
	if [ "$want" = 8 ] || [ "$want" = 0 ]; then
		is "$tag: the fsck after the repair is clean (exit 0)" 0 "$VA_RC"
		is "$tag: the fsck after the repair reports no problem" "" \
			"$(grep -E '^problem' "$S/$tag-again.fsck" | cut -c 1-200)"
	fi
}
