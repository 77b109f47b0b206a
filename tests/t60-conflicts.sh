#!/usr/bin/env bash
# Conflict copies made by sync clients (docs/SYNC.md): every provider's naming is listed
# beside the original under a display name keeping the marker; read, write, rename over the
# original, delete; a read-only mount never writes; veilctl conflicts lists and resolves.
. "${TOP_SRCDIR:-$(dirname "$0")/..}/tests/lib.sh"
vl_setup
vl_init || bail "init: $(cat "$VL_TMP/init.out")"

# encname PATH: the ciphertext name of plaintext PATH (root level).
encname() { "$VEILCTL" encrypt-path --passfile "$PASSFILE" "$CIPHER" "$1" </dev/null | sed 's|.*/||'; }

vl_mount || bail "mount"
printf 'original\n' >"$MNT/report.txt"
mkdir "$MNT/dir" && printf 'inner\n' >"$MNT/dir/a.txt"
ln -s target-of-link "$MNT/lnk"
LONG=$(printf 'L%.0s' $(seq 1 180)).txt
printf 'long\n' >"$MNT/$LONG"
vl_umount

R=$(encname report.txt)
D=$(encname dir)
L=$(encname lnk)
ok "encrypt-path gives the names" test -n "$R" -a -n "$D" -a -n "$L" -a -f "$CIPHER/$R"
# one copy per provider (file contents differ so that they are told apart)
i=0
declare -A want
for s in ' (conflicted copy 2025-02-10)' " (Jane's conflicted copy 2025-02-10)" ' (Case Conflict)' \
	' (conflicted copy 2025-02-10 101500)' ' (Conflict Jane 2025-02-10 101500)' \
	'_conflict-20250210-101500' '-LAPTOP' ' (2)' ' 2' ' (1)' \
	'.sync-conflict-20250210-101500-ABCDEFG' ' (SFConflict jane@example.org 2025-02-10-10-15-00)' \
	'.Conflict' '.conflict1' '..path1'; do
	cp "$CIPHER/$R" "$CIPHER/$R$s"
	want["report$s.txt"]=1
	i=$((i + 1))
done
cp -a "$CIPHER/$D" "$CIPHER/$D (conflicted copy 2025-02-10)"
cp -a "$CIPHER/$L" "$CIPHER/$L.sync-conflict-20250210-101500-ABCDEFG"
# a long name: the client copies the entry and (sometimes) the sidecar
LE=$(cd "$CIPHER" && ls | grep '^8' | head -1)
cp "$CIPHER/$LE" "$CIPHER/$LE (1)"
# junk, hostile and temporary names
for j in .DS_Store ._x desktop.ini Thumbs.db $'Icon\r' .dropbox .dropbox.cache .stfolder .stignore \
	.sync .nextcloudsync.log .owncloudsync.log .sync_abc.db '~$doc.docx' '.~lock.x#' \
	"$R.a1b2c3.partial" "$R"$' (\x01)' "$R.!sync"; do
	printf junk >"$CIPHER/$j"
done
mkdir -p "$CIPHER/.stversions"
find "$CIPHER" -printf '%p %s %T@\n' | sort >"$VL_TMP/before"

vl_mount -o ro || bail "mount ro"
ls -A "$MNT" >"$VL_TMP/ls" 2>"$VL_TMP/ls.err"
ok "the listing works next to junk and hostile names" test ! -s "$VL_TMP/ls.err"
missing=
for n in "${!want[@]}"; do grep -qxF -- "$n" "$VL_TMP/ls" || missing="$missing [$n]"; done
is "every provider's conflict copy is listed under its display name" "" "$missing"
ok "a directory's conflict copy is listed" grep -qxF 'dir (conflicted copy 2025-02-10)' "$VL_TMP/ls"
ok "a symlink's conflict copy is listed" grep -qxF 'lnk.sync-conflict-20250210-101500-ABCDEFG' "$VL_TMP/ls"
ok "a long name's conflict copy is listed" grep -qxF "${LONG%.txt} (1).txt" "$VL_TMP/ls"
is "nothing else is listed (originals, copies; no junk)" $((4 + i + 3)) "$(wc -l <"$VL_TMP/ls")"
is "a copy reads (Dropbox form)" original "$(cat "$MNT/report (conflicted copy 2025-02-10).txt")"
is "a copy reads (Syncthing form)" original "$(cat "$MNT/report.sync-conflict-20250210-101500-ABCDEFG.txt")"
is "a copy of a long name reads" long "$(cat "$MNT/${LONG%.txt} (1).txt")"
is "a directory copy's children read" inner "$(cat "$MNT/dir (conflicted copy 2025-02-10)/a.txt")"
is "a symlink copy reads" target-of-link "$(readlink "$MNT/lnk.sync-conflict-20250210-101500-ABCDEFG")"
stat_all() { local n; while IFS= read -r n; do stat -- "$MNT/$n" >/dev/null || return 1; done <"$VL_TMP/ls"; }
ok "stat of every listed name works" stat_all
nok "a name that is not there: ENOENT" test -e "$MNT/report (conflicted copy 1999-01-01).txt"
vl_umount
find "$CIPHER" -printf '%p %s %T@\n' | sort >"$VL_TMP/after"
ok "a read-only mount with conflict copies wrote nothing" cmp -s "$VL_TMP/before" "$VL_TMP/after"

vl_mount || bail "mount rw"
printf 'edited\n' >>"$MNT/report (2).txt"
is "writing a copy works" "$(printf 'original\nedited')" "$(cat "$MNT/report (2).txt")"
ok "deleting a copy works" rm "$MNT/report (1).txt"
nok "the deleted copy is gone" test -e "$MNT/report (1).txt"
ok "the ciphertext of the deleted copy is gone" test ! -e "$CIPHER/$R (1)"
ok "renaming a copy over the original works" mv "$MNT/report (2).txt" "$MNT/report.txt"
is "the original now has the copy's contents" "$(printf 'original\nedited')" "$(cat "$MNT/report.txt")"
ok "the resolved copy's ciphertext is gone" test ! -e "$CIPHER/$R (2)"
ok "renaming a copy to a new name works" mv "$MNT/report 2.txt" "$MNT/kept.txt"
is "the renamed copy reads" original "$(cat "$MNT/kept.txt")"
ok "deleting a long name's copy works" rm "$MNT/${LONG%.txt} (1).txt"
is "the long original is intact" long "$(cat "$MNT/$LONG")"
vl_umount

# veilctl conflicts: the remaining copies are identical to report.txt's old contents, not
# to its new ones; make one identical to the new original.
cp "$CIPHER/$R" "$CIPHER/$R (1)"
out=$("$VEILCTL" conflicts --passfile "$PASSFILE" "$CIPHER" </dev/null 2>/dev/null)
st=$?
is "veilctl conflicts: exit 7 while copies remain" 7 "$st"
ok "veilctl conflicts lists original and copy" grep -qxF "$(printf '/report.txt\t/report (1).txt')" <<<"$out"
ok "veilctl conflicts lists a directory copy" grep -qF '/dir (conflicted copy 2025-02-10)' <<<"$out"
out=$("$VEILCTL" conflicts --resolve-identical --passfile "$PASSFILE" "$CIPHER" </dev/null 2>/dev/null)
st=$?
ok "--resolve-identical removes the identical copy" grep -qxF "$(printf '/report.txt\t/report (1).txt\tremoved (identical)')" <<<"$out"
ok "--resolve-identical keeps a different copy" grep -qF "$(printf '/report (Case Conflict).txt\tkept (differs)')" <<<"$out"
ok "the identical copy's ciphertext is gone" test ! -e "$CIPHER/$R (1)"
ok "a different copy's ciphertext stays" test -e "$CIPHER/$R (Case Conflict)"
is "exit 7 when some copies are kept" 7 "$st"
done_testing
