#!/usr/bin/env bash
# t14-deep-trees (issue 9 §4): every tree walker of veilctl (export, ls -R, fsck, conflicts,
# import, upgrade) on 100,000 levels, in both formats. Format 1: a ciphertext tree that the
# storage side builds without the key by nesting copies of one directory is exported,
# listed, checked and searched whole, and veilctl upgrade stops at 4096 levels with a clear
# error (the vault stays "upgrading") and finishes once the tree is gone. Format 2, where
# the storage side cannot nest a directory in itself (an ID file names its place): the same
# depth made with the key (tests/mkdeep, as veilfs's mkdir makes each level) is exported,
# listed, checked and searched whole. A plaintext tree that deep is imported down to 4096
# levels and then refused with a clear error. Before the walker, import and export crashed
# at about 1,700 levels, and fsck and export of format 2 at 100,000.
# Under the sanitizers (VEILFS_SANITIZED=1, tests/run-all.sh) the trees are 20,000 levels
# deep: still twelve times the old crash, and the walker's window of open directories
# (32 levels) is crossed as often as needed; 100,000 would take minutes there.
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || skip_all "needs root (tmpfs)"
vl_setup
vl_have python3 || skip_all "python3 is needed"
MKDEEP=$TOP_BUILDDIR/tests/mkdeep
[ -x "$MKDEEP" ] || bail "tests/mkdeep is not built"
T=$VL_TMP
DEPTH=100000
[ -n "${VEILFS_SANITIZED:-}" ] && DEPTH=20000
diag "trees of $DEPTH levels"
# A tmpfs: a tree this deep takes seconds to remove from a disk, where unmounting is instant.
mkdir "$T/fs"
vl_sysmount "$T/fs" -t tmpfs -o size=2g,nr_inodes=2m tmpfs || bail "tmpfs"
P=(--passfile "$PASSFILE")
run() {
	out=$("$@" </dev/null 2>&1)
	rc=$?
}
has() { grep -qF -- "$1" <<<"$out"; }
enc() { "$VEILCTL" encrypt-path "${P[@]}" "$CIPHER" "$1" </dev/null | head -n 1; }

# depth DIR: how many nested directories "a" DIR has, and what the deepest holds
depth() {
	python3 - "$1" <<'EOF'
import os, sys
fd, n = os.open(sys.argv[1], os.O_RDONLY | os.O_DIRECTORY), 0
while True:
    try:
        sub = os.open("a", os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
    except OSError:
        break
    os.close(fd)
    fd, n = sub, n + 1
print(n, " ".join(sorted(os.listdir(fd))))
EOF
}

# walkers FORMAT: export, ls -R, fsck and conflicts of $CIPHER, which holds a/a/.../a
# ($DEPTH directories) with a file "a" and its conflict copy "a (1)" at the bottom.
walkers() {
	local f=$1
	run "$VEILCTL" export "${P[@]}" "$CIPHER" a "$T/fs/deep-out$f"
	is "format $f: export of $DEPTH levels exits 0 (no crash)" 0 "$rc"
	is "  every level is exported, down to the two files at the bottom" "$((DEPTH - 1)) a a (1)" \
		"$(depth "$T/fs/deep-out$f")"
	# (its output is quadratic in the depth: each level's header is its whole path)
	"$VEILCTL" ls -R "${P[@]}" "$CIPHER" </dev/null >/dev/null 2>"$T/ls.err"
	is "format $f: ls -R of $DEPTH levels exits 0" 0 $?
	run "$VEILCTL" fsck "${P[@]}" "$CIPHER"
	is "format $f: fsck of $DEPTH levels exits 0 (no crash)" 0 "$rc"
	ok "  and counted every directory" has "fsck: $((DEPTH + 1)) directories"
	out=$("$VEILCTL" conflicts "${P[@]}" "$CIPHER" </dev/null 2>/dev/null)
	is "format $f: conflicts of $DEPTH levels exits 7 (one copy found, no crash)" 7 "$?"
	is "  the copy at the bottom is listed with its path ($((DEPTH + 1)) components)" \
		"$((2 * DEPTH + 2)) $((2 * DEPTH + 6))" \
		"$(awk -F'\t' 'NF >= 2 && $2 ~ / \(1\)$/ { print length($1), length($2) }' <<<"$out")"
}

# ---- format 1: $DEPTH levels built by the storage side without the key: one ciphertext
# directory (name N of "a" in the root) nested in itself, each level given a copy of the
# root's veilfs.dirid so that N decrypts at every level; at the bottom a file N and a
# sync-client copy of it.
CIPHER=$T/fs/cipher1
mkdir "$CIPHER"
VL_INIT_FORMAT=1 vl_init || bail "veilctl init --format 1 failed: $(cat "$VL_TMP/init.out")"
mkdir -p "$T/fs/src/a"
run "$VEILCTL" import "${P[@]}" "$CIPHER" "$T/fs/src/a"
N=$(enc a)
rm -rf "${CIPHER:?}/$N"
python3 - "$CIPHER" "$N" "$DEPTH" <<'EOF' || bail "could not build the deep ciphertext tree"
import os, sys
root, name, depth = sys.argv[1], sys.argv[2], int(sys.argv[3])
dirid = os.path.join(root, "veilfs.dirid")
fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
for i in range(depth):
    os.mkdir(name, dir_fd=fd)
    sub = os.open(name, os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
    os.close(fd)
    fd = sub
    os.link(dirid, "veilfs.dirid", dst_dir_fd=fd)
for n in (name, name + " (1)"):
    f = os.open(n, os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd)
    os.close(f)
EOF
walkers 1

# veilctl upgrade of that vault converts 4096 levels, then stops with a clear error.
run "$VEILCTL" upgrade "${P[@]}" "$CIPHER"
is "format 1: upgrade of $DEPTH levels exits 1 (no crash)" 1 "$rc"
ok "  saying where it stopped and why" has "more than 4096 levels of directories: not converted"
ok "  and that the vault stays marked upgrading" has 'the vault stays marked "upgrading"'
ok "  (its config says so)" grep -q '^features = .*upgrading' "$CIPHER/veilfs.conf"
rm -rf "${CIPHER:?}/$N"
run "$VEILCTL" upgrade "${P[@]}" "$CIPHER"
is "  once the tree is removed, upgrade again finishes (exit 0)" 0 "$rc"
is "  and the vault is format 2" 2 "$(vl_format)"

# ---- format 2: the same depth made with the key.
CIPHER=$T/fs/cipher2
mkdir "$CIPHER"
vl_init || bail "veilctl init failed: $(cat "$VL_TMP/init.out")"
is "the default vault is format 2" 2 "$(vl_format)"
"$MKDEEP" "${P[@]}" "$CIPHER" "$DEPTH" || bail "tests/mkdeep could not build the tree"
walkers 2

# A plaintext tree of $DEPTH levels: import stops at 4096 with a clear error.
python3 - "$T/fs/pdeep" "$DEPTH" <<'EOF' || bail "could not build the deep plaintext tree"
import os, sys
os.mkdir(sys.argv[1])
fd = os.open(sys.argv[1], os.O_RDONLY | os.O_DIRECTORY)
for i in range(int(sys.argv[2])):
    os.mkdir("a", dir_fd=fd)
    sub = os.open("a", os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
    os.close(fd)
    fd = sub
EOF
run "$VEILCTL" import "${P[@]}" "$CIPHER" "$T/fs/pdeep" pdeep
is "import of $DEPTH levels exits 1 (no crash)" 1 "$rc"
ok "  saying where it stopped and why" has "more than 4096 levels of directories: not imported"
run "$VEILCTL" export "${P[@]}" "$CIPHER" pdeep "$T/fs/pdeep-out"
is "  the 4096 levels imported export again" "4095 " "$(depth "$T/fs/pdeep-out")"

done_testing
