#!/usr/bin/env bash
# t64-resolve-dirids-idfile (v2attack-9): `veilctl conflicts --resolve-dirids` on a format-2
# directory whose veilfs.dirid exists only as rclone bisync's two copies (renamed from X on
# device A, made anew on device B): the names under B's ID are moved under A's, veilfs.dirid
# is written from the copy holding A's ID before any copy is removed, and the directory keeps
# its ID file, so a long name is not lost and fsck finds nothing. Before, both copies were
# removed and the directory was left with no ID file (a long name shown as "(name lost)").
. "$(dirname "$0")/lib.sh"
vl_setup
P=(--passfile "$PASSFILE")
enc() { "$VEILCTL" encrypt-path "${P[@]}" "$1" "$2" </dev/null | head -n 1; }

# twoids DIR NAME: vault DIR (with DIR.b, the other device) holding NAME as bisync leaves it.
twoids() {
	local a=$1 n=$2 d b1
	mkdir -p "$a"
	VL_INIT_DIR=$a vl_init || bail "veilctl init failed: $(cat "$VL_TMP/init.out")"
	cp -a "$a" "$a.b"
	vl_mount_at "$a" "$MNT" || bail "mount A"
	mkdir "$MNT/X" && printf 'a1\n' >"$MNT/X/a1" && mv "$MNT/X" "$MNT/$n" && printf 'a2\n' >"$MNT/$n/a2" ||
		bail "device A"
	vl_umount
	vl_mount_at "$a.b" "$MNT" || bail "mount B"
	mkdir "$MNT/$n" && printf 'b1\n' >"$MNT/$n/b1" || bail "device B"
	vl_umount
	d=$(enc "$a" "$n")
	b1=$(enc "$a.b" "$n/b1")
	mv "$a/$d/veilfs.dirid" "$a/$d/veilfs.dirid..path1"
	cp "$a.b/$d/veilfs.dirid" "$a/$d/veilfs.dirid..path2"
	cp "$a.b/$b1" "$a/$b1"
	rm -rf "$a.b"
	D=$d
}

for kind in short long; do
	if [ $kind = short ]; then N=Y; else N=$(printf 'y%.0s' $(seq 150)); fi
	A=$VL_TMP/$kind
	twoids "$A" "$N"
	out=$("$VEILCTL" conflicts --resolve-dirids "${P[@]}" "$A" </dev/null 2>/dev/null)
	is "$kind name: conflicts --resolve-dirids exits 8 (every copy resolved)" 8 $?
	ok "  b1 is moved under the directory's own ID" grep -q "/b1	moved under the directory's own ID" <<<"$out"
	ok "  veilfs.dirid is written from the copy holding the ID" \
		grep -q "/veilfs.dirid	written from the sync client's copy" <<<"$out"
	ok "  the directory has its veilfs.dirid" test -f "$A/$D/veilfs.dirid"
	is "  and no copy of it is left" "" "$(cd "$A/$D" && ls -d veilfs.dirid?* 2>/dev/null)"
	is "  the directory keeps its name" "$N" "$("$VEILCTL" ls "${P[@]}" "$A" </dev/null 2>/dev/null)"
	is "  and shows every entry" "a1 a2 b1" "$("$VEILCTL" ls "${P[@]}" "$A" "$N" </dev/null 2>/dev/null | tr '\n' ' ' | sed 's/ $//')"
	"$VEILCTL" fsck --quiet "${P[@]}" "$A" </dev/null >/dev/null 2>&1
	is "  fsck finds nothing" 0 $?
done
done_testing
