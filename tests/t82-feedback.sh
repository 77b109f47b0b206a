#!/usr/bin/env bash
# t82-feedback: what a person at a terminal sees (issue 12 §8). Unlocking says so with an
# estimated time; long veilctl commands draw a progress line against the total, end it at
# 100% and erase it. The terminal is a real pty (python3's pty module): the tty path is what
# runs. Nothing of it appears when stderr is not a terminal, and never on stdout.
. "$(dirname "$0")/lib.sh"
vl_setup
command -v python3 >/dev/null || skip_all "python3 is not installed"
P=(--passfile "$PASSFILE")

# ptyrun NAME CMD...: runs CMD with stderr on a pty (stdin /dev/null, stdout a pipe);
# what the terminal got goes to $VL_TMP/NAME.tty, stdout to $VL_TMP/NAME.out. Exit status
# is CMD's.
cat >"$VL_TMP/ptyrun.py" <<'EOF'
import os, pty, sys
base, argv = sys.argv[1], sys.argv[2:]
master, slave = pty.openpty()
out = open(base + '.out', 'wb')
pid = os.fork()
if pid == 0:
    os.close(master)
    null = os.open('/dev/null', os.O_RDONLY)
    os.dup2(null, 0)
    os.dup2(out.fileno(), 1)
    os.dup2(slave, 2)
    os.execv(argv[0], argv)
os.close(slave)
tty = b''
while True:
    try:
        c = os.read(master, 65536)
    except OSError:
        break  # EIO: every holder of the terminal closed it
    if not c:
        break
    tty += c
_, ws = os.waitpid(pid, 0)
open(base + '.tty', 'wb').write(tty)
sys.exit(os.waitstatus_to_exitcode(ws))
EOF
ptyrun() {
	local name=$1
	shift
	python3 "$VL_TMP/ptyrun.py" "$VL_TMP/$name" "$@"
}
tty_has() { grep -qaE -- "$2" "$VL_TMP/$1.tty"; }
# fmt BYTES: "X.Y/X.Y UNIT" as the progress line shows a finished total.
fmt() {
	awk -v n="$1" 'BEGIN { split("B KiB MiB GiB TiB", u, " "); d = 1; i = 1
		while (i < 5 && n >= 1024 * d) { d *= 1024; i++ }
		printf "%.1f/%.1f %s", n / d, n / d, u[i] }'
}
ere() { sed 's/[.()]/\\&/g'; } # a literal for grep -E

# ---- unlocking ----
ptyrun init "$VEILCTL" init "${P[@]}" --scrypt-log2n 16 "$CIPHER"
is "init on a terminal exits 0" 0 $?
ok "init says it derives the key, with an estimate" \
	tty_has init "deriving the key from the password \(scrypt N=2\^16, about [0-9]+\.[0-9] s\)\.\.\. done in [0-9]+\.[0-9] s"
ptyrun ls "$VEILCTL" ls "${P[@]}" "$CIPHER"
is "ls on a terminal exits 0" 0 $?
ok "unlocking says so with the expected time, then how long it took" \
	tty_has ls "^veilctl: unlocking \(scrypt N=2\^16, about [0-9]+\.[0-9] s\)\.\.\. done in [0-9]+\.[0-9] s"
nok "the estimate is not zero" tty_has ls "about 0\.0 s"
printf 'not the password\n' >"$VL_TMP/wrong"
ptyrun wrong "$VEILCTL" ls --passfile "$VL_TMP/wrong" "$CIPHER"
is "a wrong password on a terminal exits 3" 3 $?
ok "the line ends in failed, then the reason" tty_has wrong "unlocking .*\.\.\. failed"
"$VEILCTL" ls "${P[@]}" "$CIPHER" </dev/null >/dev/null 2>"$VL_TMP/ls.err"
is "stderr not a terminal: not a word about unlocking" "" "$(cat "$VL_TMP/ls.err")"
ptyrun veilfs "$VEILFS" "${P[@]}" "$CIPHER" "$MNT"
is "veilfs on a terminal mounts" 0 $?
vl_mounts+=("$MNT")
ok "veilfs says it unlocks, with the expected time" \
	tty_has veilfs "^veilfs: unlocking \(scrypt N=2\^16, about [0-9]+\.[0-9] s\)\.\.\. done in"
vl_umount
vl_mount 2>"$VL_TMP/veilfs.err"
is "veilfs with stderr not a terminal says nothing about it" "" "$(cat "$VL_TMP/veilfs.err")"
vl_umount
printf 'second password\n' >"$VL_TMP/new"
ptyrun passwd "$VEILCTL" passwd "${P[@]}" --new-passfile "$VL_TMP/new" "$CIPHER"
is "passwd on a terminal exits 0" 0 $?
ok "passwd says it checks the old password" tty_has passwd "checking the old password \(scrypt N=2\^16, about"
ok "and that it wraps the key with the new one" tty_has passwd "wrapping the key with the new password \(scrypt"
P=(--passfile "$VL_TMP/new")

# ---- progress: a vault with a known content ----
mkdir -p "$VL_TMP/src/sub"
head -c 300000 /dev/urandom >"$VL_TMP/src/big"
printf 'small\n' >"$VL_TMP/src/small.txt"
printf 'y\n' >"$VL_TMP/src/sub/y.txt"
PBYTES=$(find "$VL_TMP/src" -type f -printf '%s\n' | awk '{ s += $1 } END { print s }')
ptyrun import "$VEILCTL" import "${P[@]}" "$CIPHER" "$VL_TMP/src"
is "import on a terminal exits 0" 0 $?
ok "import ends its progress line at 100% of the source's bytes, 3 files" \
	tty_has import "import: $(fmt "$PBYTES" | ere) \(100%\), 3 files"
ok "and starts it at 0%" tty_has import "import: 0\.0/[0-9.]+ KiB \(0%\)"
ok "and erases it before its summary" tty_has import $'\r\033\\[Kveilctl: imported'

# Totals fsck counts: every entry name (not veilfs.conf, veilfs.dirid, or format 1's
# sidecars), and the ciphertext of the files it reads block by block.
if [ "$(vl_format)" = 1 ]; then
	NAMES=$(find "$CIPHER" -mindepth 1 ! -name veilfs.conf ! -name veilfs.dirid ! -name '9*' | wc -l)
else
	NAMES=$(find "$CIPHER" -mindepth 1 ! -name veilfs.conf ! -name veilfs.dirid | wc -l)
fi
CBYTES=$(find "$CIPHER" -type f ! -name veilfs.conf ! -name veilfs.dirid ! -name '9*' -printf '%s\n' |
	awk '{ s += $1 } END { print s }')
ptyrun fsck "$VEILCTL" fsck "${P[@]}" "$CIPHER"
is "fsck on a terminal exits 0" 0 $?
ok "fsck's progress ends at 100% of the ciphertext and every name ($NAMES)" \
	tty_has fsck "fsck: $(fmt "$CBYTES" | ere) \(100%\), $NAMES entries"
nok "its stdout (a pipe) has no progress" grep -qaE $'\r|fsck: [0-9.]+/' "$VL_TMP/fsck.out"
ok "its stdout has the summary" grep -q "^fsck: .* 0 problems" "$VL_TMP/fsck.out"
"$VEILCTL" fsck "${P[@]}" "$CIPHER" </dev/null >/dev/null 2>"$VL_TMP/fsck.err"
nok "fsck with stderr not a terminal: no progress line" grep -qa $'\r' "$VL_TMP/fsck.err"

ptyrun export "$VEILCTL" export "${P[@]}" "$CIPHER" src "$VL_TMP/out"
is "export on a terminal exits 0" 0 $?
ok "export's progress ends at 100% of the plaintext bytes, 3 files" \
	tty_has export "export: $(fmt "$PBYTES" | ere) \(100%\), 3 files"
ok "and the copy is whole" diff -r "$VL_TMP/src" "$VL_TMP/out"
ptyrun cat "$VEILCTL" cat "${P[@]}" "$CIPHER" src/big
is "cat on a terminal exits 0" 0 $?
ok "cat's progress ends at 100% of the file" tty_has cat "cat: $(fmt 300000 | ere) \(100%\)"
ok "and stdout is the file, byte for byte, without the progress" cmp "$VL_TMP/src/big" "$VL_TMP/cat.out"
cat >"$VL_TMP/ttyout.py" <<'EOF'
import os, pty, sys
pid, fd = pty.fork()  # stdout and stderr on one terminal
if pid == 0:
    os.execv(sys.argv[2], sys.argv[2:])
tty = b''
while True:
    try:
        c = os.read(fd, 65536)
    except OSError:
        break
    if not c:
        break
    tty += c
os.waitpid(pid, 0)
open(sys.argv[1], 'wb').write(tty)
EOF
python3 "$VL_TMP/ttyout.py" "$VL_TMP/cattty" "$VEILCTL" cat "${P[@]}" "$CIPHER" src/small.txt
ok "cat to the terminal itself shows the file" grep -q "^small" "$VL_TMP/cattty"
nok "and no progress line cuts into it" grep -qa "cat: " "$VL_TMP/cattty"
# conflicts walks every directory: the root, src and src/sub.
ptyrun conflicts "$VEILCTL" conflicts "${P[@]}" "$CIPHER"
is "conflicts on a terminal exits 0 (none)" 0 $?
ok "conflicts' progress ends at 3/3 directories" tty_has conflicts "conflicts: 3/3 directories \(100%\)"
ptyrun speed "$VEILCTL" speed --block-size 4K
is "speed on a terminal exits 0" 0 $?
ok "speed's progress ends at 3/3 measurements" tty_has speed "speed: 3/3 measurements \(100%\)"
ok "and its results are on stdout, without the progress" \
	sh -c 'grep -q "^unlock: " "$1" && ! grep -qa "$(printf "\r")" "$1"' _ "$VL_TMP/speed.out"
done_testing
