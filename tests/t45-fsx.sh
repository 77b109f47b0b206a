#!/usr/bin/env bash
# t45-fsx: the model-based exerciser tests/fsx on the mount against a plain directory: two
# seeds single-threaded, one run with 2 threads (plus the shared pwrite file), then the whole
# trees compared again after a remount (nothing may come only from the page cache).
# FSX_SEED=N adds a run with that seed; FSX_OPS=N changes the number of operations.
. "$(dirname "$0")/lib.sh"
FSX=${FSX:-$TOP_BUILDDIR/tests/fsx}
[ -x "$FSX" ] || skip_all "tests/fsx is not built ($FSX)"
vl_setup
vl_init || bail "veilctl init failed: $(cat "$VL_TMP/init.out")"
vl_mount || bail "veilfs did not mount"
B=$(vl_block_size)
OPS=${FSX_OPS:-3000}
REF=$VL_TMP/ref
mkdir -p "$REF"

# fsx_run DESC ARGS...: one TAP point; on failure its output goes to the TAP diagnostics.
# Format 2 keeps hard links within one directory between short names (FORMAT.md §3.5): fsx -2
# follows those rules, and the refusals are checked below.
FSXV=()
[ "$(vl_format)" = 2 ] && FSXV=(-2)
fsx_run() {
	local desc=$1
	shift
	if "$FSX" -b "$B" "${FSXV[@]}" "$@" "$MNT" "$REF" >"$VL_TMP/fsx.out" 2>&1; then
		ok "$desc ($(tail -n 1 "$VL_TMP/fsx.out" | sed 's/^fsx: //'))" true
	else
		ok "$desc" false
		tail -n 60 "$VL_TMP/fsx.out" | while IFS= read -r l; do diag "$l"; done
	fi
}

fsx_run "fsx seed 1, $OPS ops" -s 1 -n "$OPS"
fsx_run "fsx seed 2, $OPS ops, long files (1 MiB)" -s 2 -n "$OPS" -m 1048576 -N 6
fsx_run "fsx seed 3, 2 threads x $((OPS / 2)) ops, shared file" -s 3 -n $((OPS / 2)) -t 2
fsx_run "fsx seed 4, $((OPS / 2)) ops, no mmap, 16 files" -s 4 -n $((OPS / 2)) -N 16 -M
if [ -n "${FSX_SEED:-}" ]; then
	fsx_run "fsx seed $FSX_SEED (from FSX_SEED)" -s "$FSX_SEED" -n "$OPS"
fi
if [ "$(vl_format)" = 2 ]; then
	L=$(printf 'l%.0s' $(seq 200))
	mkdir -p "$MNT/lk/a" "$MNT/lk/b"
	echo linked >"$MNT/lk/a/f"
	is "format 2: a hard link into another directory is EPERM" EPERM \
		"$(vl_errno "os.link('$MNT/lk/a/f', '$MNT/lk/b/f')")"
	is "format 2: a hard link under a long name is EPERM" EPERM \
		"$(vl_errno "os.link('$MNT/lk/a/f', '$MNT/lk/a/$L')")"
	is "format 2: a hard link in the same directory under a short name works" OK \
		"$(vl_errno "os.link('$MNT/lk/a/f', '$MNT/lk/a/g')")"
	is "format 2: moving a file with two links to another directory is EXDEV" EXDEV \
		"$(vl_errno "os.rename('$MNT/lk/a/f', '$MNT/lk/b/f')")"
	is "format 2: renaming a file with two links to a long name is EXDEV" EXDEV \
		"$(vl_errno "os.rename('$MNT/lk/a/f', '$MNT/lk/a/$L')")"
	is "format 2: both links still read after the refusals" "linked linked" \
		"$(cat "$MNT/lk/a/f" "$MNT/lk/a/g" | tr '\n' ' ' | sed 's/ $//')"
	ok "format 2: mv(1) moves a linked file across directories (its copy fallback)" \
		mv "$MNT/lk/a/f" "$MNT/lk/b/f"
	is "format 2: after mv both names read" "linked linked" \
		"$(cat "$MNT/lk/b/f" "$MNT/lk/a/g" | tr '\n' ' ' | sed 's/ $//')"
	rm -rf "$MNT/lk"
fi
cd / || true
vl_remount || bail "remount failed"
ok "after a remount, every fsx tree on the mount equals its reference" diff -r "$MNT" "$REF"

# --sharedstorage: no writeback cache, no attribute cache (other kernel paths), and no hard
# links (refused with EPERM by design, like gocryptfs -sharedstorage): fsx -L.
cd / || true
vl_umount
vl_mount --sharedstorage || bail "veilfs --sharedstorage did not mount"
fsx_run "fsx seed 5 on a --sharedstorage mount, $((OPS / 2)) ops" -s 5 -n $((OPS / 2)) -L
fsx_run "fsx seed 6 on a --sharedstorage mount, 2 threads" -s 6 -n $((OPS / 4)) -t 2 -L
is "--sharedstorage refuses hard links with EPERM" EPERM \
	"$(vl_errno "open('$MNT/lt', 'w').close(); os.link('$MNT/lt', '$MNT/lt2')")"
cd / || true
vl_umount

# A vault with 64 KiB blocks.
CIPHER=$VL_TMP/cipher64
mkdir -p "$CIPHER"
vl_init --block-size 65536 || bail "veilctl init --block-size 65536 failed: $(cat "$VL_TMP/init.out")"
B=$(vl_block_size)
is "the second vault has 64 KiB blocks" 65536 "$B"
REF=$VL_TMP/ref64
mkdir -p "$REF"
vl_mount || bail "veilfs did not mount the 64 KiB vault"
fsx_run "fsx seed 7 on 64 KiB blocks, files up to 1 MiB" -s 7 -n $((OPS / 2)) -m 1048576
cd / || true
vl_remount || bail "remount failed"
ok "64 KiB vault: after a remount the tree equals its reference" diff -r "$MNT" "$REF"
ok "the same seed replays the same operations (seed 1 log equals itself)" \
	sh -c '"$1" -v -b "$2" $6 -s 11 -n 300 "$3" "$4" 2>"$5/l1" >/dev/null &&
		mkdir "$5/r2" "$5/r3" && "$1" -v -b "$2" $6 -s 11 -n 300 "$5/r2" "$5/r3" 2>"$5/l2" >/dev/null &&
		cmp -s "$5/l1" "$5/l2"' sh "$FSX" "$B" "$MNT" "$REF" "$VL_TMP" "${FSXV[*]}"

vl_umount
done_testing
