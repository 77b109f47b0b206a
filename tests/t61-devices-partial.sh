#!/usr/bin/env bash
# Several devices and partial sync (docs/SYNC.md): two vaults sharing a master key create the
# same directory offline and merge; two mounts of one cipherdir (sharedstorage) see each
# other; a ciphertext replaced under an open file never mixes two files' blocks; a missing
# directory ID file, a missing sidecar, a half-synced file and a zero-length placeholder
# affect only their own entry.
. "${TOP_SRCDIR:-$(dirname "$0")/..}/tests/lib.sh"
vl_setup
vl_init || bail "init: $(cat "$VL_TMP/init.out")"
B=$VL_TMP/cipherB
MB=$VL_TMP/mntB
cp -a "$CIPHER" "$B" # the second device gets the vault before either mounts it
mkdir -p "$MB"

# --- the same directory created offline on two devices ---
vl_mount || bail "mount A"
mkdir -p "$MNT/photos/2025" && printf 'from A\n' >"$MNT/photos/2025/a.jpg"
vl_umount
vl_mount_at "$B" "$MB" || bail "mount B"
mkdir -p "$MB/photos/2025" && printf 'from B\n' >"$MB/photos/2025/b.jpg"
cd / && vl_umount_dir "$MB"
pa=$("$VEILCTL" encrypt-path --passfile "$PASSFILE" "$CIPHER" photos/2025 </dev/null)
pb=$("$VEILCTL" encrypt-path --passfile "$PASSFILE" "$B" photos/2025 </dev/null)
is "both devices chose the same ciphertext path" "$pa" "$pb"
ok "both devices wrote byte-identical directory ID files" cmp "$CIPHER/$pa/veilfs.dirid" "$B/$pb/veilfs.dirid"
# the sync: copy each side's missing files to the other (what every sync client does here)
cp -an "$B/." "$CIPHER/" && cp -an "$CIPHER/." "$B/"
vl_mount || bail "mount A after sync"
vl_mount_at "$B" "$MB" || bail "mount B after sync"
is "after the merge, A sees both files" "a.jpg b.jpg" "$(ls "$MNT/photos/2025" | tr '\n' ' ' | sed 's/ $//')"
is "after the merge, B sees both files" "a.jpg b.jpg" "$(ls "$MB/photos/2025" | tr '\n' ' ' | sed 's/ $//')"
is "B reads A's file" "from A" "$(cat "$MB/photos/2025/a.jpg")"
cd / && vl_umount_dir "$MB"
vl_umount

# --- two mounts of one cipherdir with --sharedstorage ---
vl_mount --sharedstorage || bail "mount shared 1"
vl_mount_at "$CIPHER" "$MB" --sharedstorage || bail "mount shared 2"
printf 'one\n' >"$MNT/shared.txt"
is "the second mount reads a file the first just wrote" one "$(cat "$MB/shared.txt")"
printf 'two\n' >"$MB/shared.txt"
is "the first mount sees the second's rewrite at once" two "$(cat "$MNT/shared.txt")"
rm "$MB/shared.txt"
nok "the first mount sees the second's unlink at once" test -e "$MNT/shared.txt"
cd / && vl_umount_dir "$MB"
vl_umount

# --- a ciphertext replaced under an open file ---
vl_mount --sharedstorage || bail "mount"
python3 -c 'import sys; open(sys.argv[1],"wb").write(b"F"*12288); open(sys.argv[2],"wb").write(b"G"*12288)' \
	"$MNT/f" "$MNT/g"
cf=$CIPHER/$("$VEILCTL" encrypt-path --passfile "$PASSFILE" "$CIPHER" f </dev/null)
cg=$CIPHER/$("$VEILCTL" encrypt-path --passfile "$PASSFILE" "$CIPHER" g </dev/null)
cp "$cg" "$VL_TMP/g.cipher"
# replaced by rename (how sync clients deliver a file), then in place (how a few do)
res=$(python3 - "$MNT/f" "$cf" "$VL_TMP/g.cipher" <<'PY'
import os, sys, shutil
mnt, cf, gsrc = sys.argv[1:4]
out = []
for mode in ("rename", "inplace"):
    fd = os.open(mnt, os.O_RDONLY)
    first = os.pread(fd, 4096, 0)
    if mode == "rename":
        shutil.copy(gsrc, cf + ".tmp")
        os.rename(cf + ".tmp", cf)
    else:
        with open(gsrc, "rb") as s, open(cf, "r+b") as d:
            d.write(s.read())
    try:
        rest = os.pread(fd, 8192, 4096)
        whole = os.pread(fd, 12288, 0)
        fine = first == b"F" * 4096 and rest in (b"F" * 8192, b"G" * 8192) and whole in (b"F" * 12288, b"G" * 12288)
        # Replaced by rename, the open file keeps its old contents (POSIX; docs/SYNC.md)
        if fine and mode == "rename":
            fine = rest == b"F" * 8192 and whole == b"F" * 12288
            with open(mnt, "rb") as n:
                fine = fine and n.read() == b"G" * 12288  # a new open reads the new file
        out.append(mode + (":ok" if fine else ":MIXED"))
    except OSError as e:
        out.append(mode + (":eio" if e.errno == 5 else ":err%d" % e.errno))
    os.close(fd)
    # restore f for the next round
    with open(mnt, "wb") as w:
        w.write(b"F" * 12288)
print(" ".join(out))
PY
)
diag "replaced under an open file: $res"
ok "rename over an open file: the open file keeps the old contents, a new open gets the new" grep -Eq 'rename:ok' <<<"$res"
ok "in-place rewrite under an open file: old or new or EIO, never mixed" grep -Eq 'inplace:(ok|eio)' <<<"$res"
vl_umount

# --- partial sync ---
vl_mount || bail "mount"
mkdir "$MNT/p" "$MNT/p/sub"
printf 'sub child\n' >"$MNT/p/sub/child"
printf 'sibling\n' >"$MNT/p/sibling"
python3 -c 'import sys; open(sys.argv[1],"wb").write(b"H"*10000)' "$MNT/p/half"
: >"$MNT/p/empty"
LONG=$(printf 'N%.0s' $(seq 1 200))
printf 'long\n' >"$MNT/p/$LONG"
vl_umount
cp_=$CIPHER/$("$VEILCTL" encrypt-path --passfile "$PASSFILE" "$CIPHER" p </dev/null)
csub=$CIPHER/$("$VEILCTL" encrypt-path --passfile "$PASSFILE" "$CIPHER" p/sub </dev/null)
chalf=$CIPHER/$("$VEILCTL" encrypt-path --passfile "$PASSFILE" "$CIPHER" p/half </dev/null)
rm "$csub/veilfs.dirid"                      # not delivered yet
if [ "$(vl_format)" = 1 ]; then
	rm "$cp_"/9*                         # the long name's sidecar not delivered yet
	lost='missing long-name sidecar'
else
	# Format 2 keeps a long name in its entry's header: a placeholder not yet filled in
	# (zero length) cannot say its name. And an empty file is not zero bytes, so a zero-
	# length placeholder of one is told from it.
	: >"$cp_"/8*
	: >"$CIPHER/$("$VEILCTL" encrypt-path --passfile "$PASSFILE" "$CIPHER" p/empty </dev/null)"
	lost='long name that cannot be read from its entry'
fi
truncate -s $(( $(stat -c %s "$chalf") - 3000 )) "$chalf" # half a file
vl_mount -f -d >"$VL_TMP/log" 2>&1 &
for _ in $(seq 50); do mountpoint -q "$MNT" && break; sleep 0.1; done
vl_mounts+=("$MNT")
is "missing directory ID file: the children still read" "sub child" "$(cat "$MNT/p/sub/child")"
ok "missing directory ID file: nothing was written back" test ! -e "$csub/veilfs.dirid"
is "missing sidecar (format 2: long entry not filled in): the long entry is hidden, its siblings are listed" "empty half sibling sub" \
	"$(ls "$MNT/p" | tr '\n' ' ' | sed 's/ $//')"
ok "missing sidecar: logged" grep -q "$lost" "$VL_TMP/log"
ok "a half-synced file: stat works" sh -c 'stat -c %s "$1" >/dev/null' - "$MNT/p/half"
nok "a half-synced file: reading it fails" sh -c 'cat "$1" >/dev/null 2>&1' - "$MNT/p/half"
ok "a half-synced file: its first block still reads" dd if="$MNT/p/half" of=/dev/null bs=4096 count=1 status=none
if [ "$(vl_format)" = 1 ]; then
	is "format 1: a zero-length placeholder has size 0" 0 "$(stat -c %s "$MNT/p/empty")"
	is "format 1: a zero-length placeholder reads as an empty file" "" "$(cat "$MNT/p/empty")"
else
	# Like any torn file: the intact part plus one byte, so that a read reaches the damage.
	is "format 2: a zero-length placeholder has size 1" 1 "$(stat -c %s "$MNT/p/empty")"
	is "format 2: reading a zero-length placeholder is EIO, not an empty file" EIO \
		"$(vl_errno "open('$MNT/p/empty','rb').read()")"
fi
is "siblings are unaffected" sibling "$(cat "$MNT/p/sibling")"
vl_umount
done_testing
