#!/usr/bin/env bash
# t14-veilctl-hostile (issue 9 §2, §3, §4, §6): veilctl against what the storage side can do
# without the key, and against hostile plaintext trees. Export and import never create
# set-ID bits or device files and never chown unless asked, and apply the umask; they refuse
# destinations and sources that overlap the cipher directory (symlinks and bind mounts
# included); the walkers handle a wide directory and a bind mount loop; no open hangs on a
# fifo swapped in after the type was checked; conflicts lists every entry shown under a
# name that is not its own. 100,000 levels: t14-deep-trees.sh.
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || skip_all "needs root (tmpfs, bind mounts, chown, mknod)"
vl_setup
vl_have python3 || skip_all "python3 is needed"
T=$VL_TMP
umask 022
# A tmpfs for everything here: the deep trees would take minutes to remove from a disk, and
# import fsyncs every file.
mkdir "$T/fs"
vl_sysmount "$T/fs" -t tmpfs -o size=2g,nr_inodes=2m tmpfs || bail "tmpfs"
CIPHER=$T/fs/cipher
mkdir "$CIPHER"
vl_init || bail "veilctl init failed: $(cat "$VL_TMP/init.out")"
P=(--passfile "$PASSFILE")
run() {
	out=$("$@" </dev/null 2>&1)
	rc=$?
}
has() { grep -qF -- "$1" <<<"$out"; }
enc() { "$VEILCTL" encrypt-path "${P[@]}" "$CIPHER" "$1" </dev/null | head -n 1; }
listing() { (cd "$CIPHER" && find . -printf '%p %y %s\n' | LC_ALL=C sort); }
nodes() { find "$1" \( -type b -o -type c \) | wc -l; }

# ---- §3: metadata the storage side controls
SRC=$T/fs/src
mkdir -p "$SRC/tree/d"
printf '#!/bin/sh\necho hi\n' >"$SRC/tree/prog"
printf 'plain\n' >"$SRC/tree/d/file"
chmod 0755 "$SRC/tree/prog"
run "$VEILCTL" import "${P[@]}" "$CIPHER" "$SRC/tree"
is "import of a tree exits 0" 0 "$rc"
chown 65534:65534 "$CIPHER/$(enc tree/prog)" # chown first: it clears set-ID bits
chmod 04755 "$CIPHER/$(enc tree/prog)"
chmod 02664 "$CIPHER/$(enc tree/d/file)"
chmod 01777 "$CIPHER/$(enc tree/d)"
run "$VEILCTL" export "${P[@]}" "$CIPHER" tree "$T/fs/x1"
is "export exits 0" 0 "$rc"
is "export: no set-user-ID bit from the storage side" 755 "$(stat -c %a "$T/fs/x1/prog")"
is "export: no set-group-ID bit" 644 "$(stat -c %a "$T/fs/x1/d/file")"
is "export: no sticky bit" 755 "$(stat -c %a "$T/fs/x1/d")"
is "export: no chown (the file is the exporter's)" "0:0" "$(stat -c %u:%g "$T/fs/x1/prog")"
(umask 027 && "$VEILCTL" export "${P[@]}" "$CIPHER" tree "$T/fs/x2" </dev/null >/dev/null 2>&1)
is "export applies the umask (027: 0755 becomes 0750)" 750 "$(stat -c %a "$T/fs/x2/prog")"
is "  also to directories (01777 becomes 0750)" 750 "$(stat -c %a "$T/fs/x2/d")"
run "$VEILCTL" export --same-permissions "${P[@]}" "$CIPHER" tree "$T/fs/x3"
is "export --same-permissions keeps the set-user-ID bit" 4755 "$(stat -c %a "$T/fs/x3/prog")"
is "  and the sticky bit" 1777 "$(stat -c %a "$T/fs/x3/d")"
run "$VEILCTL" export --same-owner "${P[@]}" "$CIPHER" tree "$T/fs/x4"
is "export --same-owner sets the owner found" "65534:65534" "$(stat -c %u:%g "$T/fs/x4/prog")"

mkdir -p "$SRC/set"
printf 'x\n' >"$SRC/set/suid"
chown 65534:65534 "$SRC/set/suid"
chmod 04755 "$SRC/set/suid"
run "$VEILCTL" import "${P[@]}" "$CIPHER" "$SRC/set" set
is "import of a set-user-ID file exits 0" 0 "$rc"
is "import: the ciphertext has no set-user-ID bit" 755 "$(stat -c %a "$CIPHER/$(enc set/suid)")"
is "import: no chown (the ciphertext is the importer's)" "0:0" "$(stat -c %u:%g "$CIPHER/$(enc set/suid)")"
run "$VEILCTL" import --same-permissions --same-owner "${P[@]}" "$CIPHER" "$SRC/set" set2
is "import --same-permissions keeps the bit" 4755 "$(stat -c %a "$CIPHER/$(enc set2/suid)")"
is "import --same-owner copies the owner" "65534:65534" "$(stat -c %u:%g "$CIPHER/$(enc set2/suid)")"

mkdir -p "$SRC/dev"
mknod "$SRC/dev/null" c 1 3
printf 'x\n' >"$SRC/dev/keep"
run "$VEILCTL" import "${P[@]}" "$CIPHER" "$SRC/dev" dev
is "import of a device file without --devices exits 0" 0 "$rc"
ok "  says it skipped it" has "a character device: not imported (--devices stores device files)"
run "$VEILCTL" ls "${P[@]}" "$CIPHER" dev
is "  only the regular file is in the vault" keep "$out"
run "$VEILCTL" import --devices "${P[@]}" "$CIPHER" "$SRC/dev" dev2
is "import --devices stores it" 0 "$rc"
run "$VEILCTL" export "${P[@]}" "$CIPHER" dev2 "$T/fs/x5"
is "export of a device file without --devices exits 0" 0 "$rc"
ok "  says it skipped it" has "a character device: not exported (--devices creates device files)"
is "  no device file was created" 0 "$(nodes "$T/fs/x5")"
ok "  the other file was exported" test -f "$T/fs/x5/keep"
run "$VEILCTL" export --devices "${P[@]}" "$CIPHER" dev2 "$T/fs/x6"
is "export --devices creates it, with its device number" "c 1,3" "$(stat -c '%F' "$T/fs/x6/null" | cut -c1) $(stat -c '%t,%T' "$T/fs/x6/null")"

# ---- §2: export and import must not overlap the cipher directory
mkdir "$CIPHER/plainhere"
before=$(listing)
run "$VEILCTL" export "${P[@]}" "$CIPHER" tree "$CIPHER/plainhere/out"
is "export into the cipher directory is refused with exit 2" 2 "$rc"
ok "  the message says why, with full paths" has "the export destination $CIPHER/plainhere is inside the cipher directory $CIPHER"
is "  nothing was written there" "$before" "$(listing)"
run "$VEILCTL" export "${P[@]}" "$CIPHER" tree "$T/fs"
is "export into a directory that holds the cipher directory: exit 2" 2 "$rc"
ok "  the message says the cipher directory is inside it" has "the cipher directory $CIPHER is inside the export destination $T/fs"
is "  nothing was written into the cipher directory" "$before" "$(listing)"
ln -s "$CIPHER/plainhere" "$T/fs/link"
run "$VEILCTL" export "${P[@]}" "$CIPHER" tree "$T/fs/link"
is "export through a symlink into the cipher directory: exit 2" 2 "$rc"
mkdir "$T/fs/bind"
vl_sysmount "$T/fs/bind" --bind "$CIPHER/plainhere" || bail "bind mount"
run "$VEILCTL" export "${P[@]}" "$CIPHER" tree "$T/fs/bind/out"
is "export into a bind mount of a directory inside the cipher directory: exit 2" 2 "$rc"
is "  nothing was written into the cipher directory" "$before" "$(listing)"
run "$VEILCTL" export "${P[@]}" "$CIPHER" tree/d/file "$T/fs/one"
is "export of one file beside the cipher directory works" 0 "$rc"
run "$VEILCTL" import "${P[@]}" "$CIPHER" "$CIPHER/plainhere" again
is "import from inside the cipher directory: exit 2" 2 "$rc"
ok "  the message says why" has "the import source $CIPHER/plainhere is inside the cipher directory $CIPHER"
run "$VEILCTL" import "${P[@]}" "$CIPHER" "$T/fs" whole
is "import of a directory that holds the cipher directory: exit 2" 2 "$rc"
is "  nothing was written into the cipher directory" "$before" "$(listing)"

# ---- §4: breadth, loops, fifos (depth: t14-deep-trees.sh)
# A wide directory: 5,000 entries.
mkdir "$T/fs/wide"
(cd "$T/fs/wide" && seq -f 'f%g' 1 5000 | xargs touch)
run "$VEILCTL" import "${P[@]}" "$CIPHER" "$T/fs/wide" wide
is "import of 5,000 entries in one directory exits 0" 0 "$rc"
run "$VEILCTL" export "${P[@]}" "$CIPHER" wide "$T/fs/wide-out"
is "  and they all export again" 5000 "$(find "$T/fs/wide-out" -type f | wc -l)"

# A bind mount of a directory inside itself in the source: a loop, reported, not followed.
mkdir -p "$T/fs/loop/in"
vl_sysmount "$T/fs/loop/in" --bind "$T/fs/loop" || bail "bind mount"
run "$VEILCTL" import "${P[@]}" "$CIPHER" "$T/fs/loop" loop
is "import of a tree that contains itself (bind mount) exits 1 (no crash)" 1 "$rc"
ok "  and says why" has "$T/fs/loop/in: a directory inside itself (a bind mount loop): not imported"

# A fifo put in place of a file right after its type was checked (tests/fifo_swap.so): no
# open may wait for a writer.
SWAP=$TOP_BUILDDIR/tests/fifo_swap.so
if [ -f "$SWAP" ]; then
	swap() { # NAME CMD...: runs CMD with the swap of NAME; $out, $rc
		out=$(VL_SWAP_NAME=$1 LD_PRELOAD=$SWAP \
			ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0 "${@:2}" </dev/null 2>&1)
		rc=$?
	}
	mkdir -p "$T/fs/fsrc"
	printf 'victim\n' >"$T/fs/fsrc/victim"
	ln -s target "$T/fs/fsrc/lnk"
	run "$VEILCTL" import "${P[@]}" "$CIPHER" "$T/fs/fsrc" f
	V=$(enc f/victim)
	cp -a "$CIPHER/$V" "$T/fs/victim.saved"
	swap "${V##*/}" "$VEILCTL" export "${P[@]}" "$CIPHER" f "$T/fs/fout"
	is "export: a fifo swapped in for a file fails that file (exit 1), without hanging" 1 "$rc"
	ok "  and says the file changed" has "changed while exported (not a file any more)"
	rm -f "$CIPHER/$V" && cp -a "$T/fs/victim.saved" "$CIPHER/$V"
	swap "${V##*/}" "$VEILCTL" cat "${P[@]}" "$CIPHER" f/victim
	is "cat: a fifo swapped in fails (exit 1), without hanging" 1 "$rc"
	ok "  and says it is not a regular file" has "not a regular file"
	rm -f "$CIPHER/$V" && cp -a "$T/fs/victim.saved" "$CIPHER/$V"
	L=$(enc f/lnk)
	cp -a "$CIPHER/$L" "$T/fs/lnk.saved"
	swap "${L##*/}" "$VEILCTL" ls -l "${P[@]}" "$CIPHER" f
	is "ls -l: a fifo swapped in for a symlink's object file does not hang (exit 0)" 0 "$rc"
	ok "  and shows it as unreadable" has "lnk (unreadable: run veilctl fsck)"
	rm -f "$CIPHER/$L" && cp -a "$T/fs/lnk.saved" "$CIPHER/$L"
	swap victim "$VEILCTL" import "${P[@]}" "$CIPHER" "$T/fs/fsrc" f2
	is "import: a fifo swapped in for a source file fails that file (exit 1), without hanging" 1 "$rc"
	ok "  and says the file changed" has "changed while imported (not a file any more)"
else
	skip_test "fifo swaps" "tests/fifo_swap.so was not built"
fi

# ---- §6: entries shown under a name that is not their own, in both formats. shown FORMAT:
# the storage side appends text to two ciphertext names, and one directory of $CIPHER ends
# up with a name under two of its directory IDs (the second shown in the fallback form).
shown() {
	local f=$1 D1 D2 E1 E2
	run "$VEILCTL" import "${P[@]}" "$CIPHER" "$SRC/tree/d/file" README
	run "$VEILCTL" import "${P[@]}" "$CIPHER" "$SRC/tree/prog" install
	R=$(enc README)
	I=$(enc install)
	mv "$CIPHER/$R" "$CIPHER/$R.desktop" # the storage side appends text to ciphertext names
	mv "$CIPHER/$I" "$CIPHER/$I.sh"
	mkdir -p "$T/fs/n$f/d1" "$T/fs/n$f/d2"
	printf 'one\n' >"$T/fs/n$f/d1/notes.txt"
	printf 'two\n' >"$T/fs/n$f/d2/notes.txt"
	if [ "$f" = 1 ]; then
		# Format 1, without the key: d1 gets d2's entry and a copy of its veilfs.dirid.
		run "$VEILCTL" import "${P[@]}" "$CIPHER" "$T/fs/n$f" n
		D1=$(enc n/d1)
		D2=$(enc n/d2)
		E2=$(enc n/d2/notes.txt)
		cp "$CIPHER/$E2" "$CIPHER/$D1/"
		cp "$CIPHER/$D2/veilfs.dirid" "$CIPHER/$D1/veilfs (conflicted copy 2025-02-10).dirid"
	else
		# Format 2: that is refused (d2's ID file names d2's place, its entry d2's ID) ...
		run "$VEILCTL" import "${P[@]}" "$CIPHER" "$T/fs/n$f" x
		D1=$(enc x/d1)
		D2=$(enc x/d2)
		E2=$(enc x/d2/notes.txt)
		cp "$CIPHER/$E2" "$CIPHER/$D1/"
		cp "$CIPHER/$D2/veilfs.dirid" "$CIPHER/$D1/veilfs (conflicted copy 2025-02-10).dirid"
		run "$VEILCTL" ls "${P[@]}" "$CIPHER" x/d1
		is "format 2: d2's entry and ID file copied into d1 are not shown there" notes.txt \
			"$(grep -v '^veilctl: error: ' <<<"$out")"
		ok "  the copied ID file is logged as of another place" has "directory ID file of another place"
		# ... but a sync client makes it: d1 renamed from X on one device keeps X's ID (its
		# ID file names d1's place now), d1 made on another gets the derived ID, and the
		# client keeps both ID files and both entries (FORMAT.md §5.4).
		vl_mount || bail "mount"
		mkdir -p "$MNT/n/X" && printf 'one\n' >"$MNT/n/X/notes.txt" && mv "$MNT/n/X" "$MNT/n/d1" ||
			bail "mkdir and rename through the mount"
		vl_umount
		D1=$(enc n/d1)
		E1=$(enc n/d1/notes.txt)
		cp "$CIPHER/$D1/veilfs.dirid" "$T/fs/dirid.X"
		cp "$CIPHER/$E1" "$T/fs/notes.X"
		vl_mount || bail "mount"
		rm -r "$MNT/n/d1" && mkdir "$MNT/n/d1" && printf 'two\n' >"$MNT/n/d1/notes.txt" ||
			bail "the second d1 through the mount"
		vl_umount
		[ "$(enc n/d1/notes.txt)" != "$E1" ] || bail "the second d1 has the first one's ID"
		cp "$T/fs/notes.X" "$CIPHER/$E1"
		cp "$T/fs/dirid.X" "$CIPHER/$D1/veilfs (conflicted copy 2025-02-10).dirid"
	fi
	run "$VEILCTL" ls "${P[@]}" "$CIPHER" n/d1
	ok "format $f: ls shows the other notes.txt in d1 in the fallback form" \
		grep -q '^notes (other directory ID).txt {conflict [0-9a-f]*}$' <<<"$out"
	run "$VEILCTL" conflicts "${P[@]}" "$CIPHER"
	is "format $f: conflicts exits 7" 7 "$rc"
	ok "  it lists README shown as README.desktop, and that no README is left" \
		grep -qxF "$(printf '/README\t/README.desktop\t(no entry has the original name)')" <<<"$out"
	ok "  it lists install shown as install.sh" \
		grep -qxF "$(printf '/install\t/install.sh\t(no entry has the original name)')" <<<"$out"
	ok "  it lists the name under the other directory ID with its own name" \
		grep -q "^/n/d1/notes.txt	/n/d1/notes (other directory ID).txt {conflict [0-9a-f]*}\$" <<<"$out"
	ok "  and says that names were changed" has "shown under a changed name while no entry has the original name"
	run "$VEILCTL" conflicts --resolve-identical "${P[@]}" "$CIPHER"
	ok "  --resolve-identical keeps the name under the other ID" \
		grep -q "^/n/d1/notes.txt	/n/d1/notes (other directory ID).txt {conflict [0-9a-f]*}	kept (a name under another directory ID: see --resolve-dirids)\$" <<<"$out"
}
shown 2
CIPHER=$T/fs/cipher1
mkdir "$CIPHER"
VL_INIT_FORMAT=1 vl_init || bail "veilctl init --format 1 failed: $(cat "$VL_TMP/init.out")"
shown 1

# ---- the help and the manual say so
for cmd in export import; do
	run "$VEILCTL" "$cmd" --help
	for o in --same-permissions --same-owner --devices; do
		ok "veilctl $cmd --help names $o" has "$o"
	done
done
man=$(MANWIDTH=200 man -l "$TOP_SRCDIR/man/veilctl.1" 2>/dev/null || mandoc -T ascii "$TOP_SRCDIR/man/veilctl.1")
ok "veilctl(1) documents --same-permissions" grep -q -- '--same-permissions' <<<"$man"
ok "veilctl(1) documents exit status 10" grep -Eq '^ +10 +cipherdir does not exist' <<<"$man"
ok "veilctl(1) says conflicts marks a name whose original is gone" grep -q 'no entry has the original name' <<<"$man"
done_testing
