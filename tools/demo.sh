#!/usr/bin/env bash
# tools/demo.sh: installs the dependencies, builds veilfs, creates a demo vault and mounts it.
#   ./demo/cipher  the ciphertext directory (what a sync client would upload)
#   ./demo/plain   the plaintext mount
# The demo password is random, kept in ./demo/passfile (mode 0600). Unmount with
#   fusermount3 -u demo/plain
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
if [ "$(id -u)" -eq 0 ]; then bash .ci/deps; else sudo bash .ci/deps; fi
# Build out of the source tree, in build/demo: a tree configured in place would make the
# VPATH builds of tests/run-all.sh fail ("source directory already configured").
[ -x configure ] || autoreconf -fi
mkdir -p build/demo
(cd build/demo && { [ -f Makefile ] || ../../configure -q; } && make -s -j"$(nproc)" veilfs veilctl)
bin=$top/build/demo

demo=$top/demo
mkdir -p "$demo/cipher" "$demo/plain"
if mountpoint -q "$demo/plain"; then
	echo "demo: already mounted on $demo/plain"
	exit 0
fi
if [ ! -f "$demo/cipher/veilfs.conf" ]; then
	umask 077
	head -c 18 /dev/urandom | base64 >"$demo/passfile"
	echo "demo: creating a vault in $demo/cipher (password in $demo/passfile)"
	"$bin/veilctl" init --passfile "$demo/passfile" "$demo/cipher" </dev/null
fi
"$bin/veilfs" --passfile "$demo/passfile" "$demo/cipher" "$demo/plain" </dev/null
echo "Hello from veilfs. This line is stored encrypted." >"$demo/plain/hello.txt"
mkdir -p "$demo/plain/photos" && date >"$demo/plain/photos/taken-at.txt"
echo
echo "plaintext view ($demo/plain):"
ls -lR "$demo/plain"
echo
echo "ciphertext view ($demo/cipher), what the cloud sees:"
ls -lR "$demo/cipher"
echo
echo "Unmount with: fusermount3 -u $demo/plain"
