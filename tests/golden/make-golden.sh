#!/usr/bin/env bash
# tests/golden/make-golden.sh VEILFS VEILCTL OUTDIR: how tests/golden/v1 was made (kept for the
# record; every run draws new random IDs and nonces, so the committed tree is never remade).
# Password: "golden". The tree is written through a real mount.
set -euo pipefail
VEILFS=$1 VEILCTL=$2 OUT=$3
tmp=$(mktemp -d)
trap 'cd /; fusermount3 -u "$tmp/m" 2>/dev/null; rm -rf "$tmp"' EXIT
mkdir -p "$OUT" "$tmp/m"
printf 'golden\n' >"$tmp/pass"
"$VEILCTL" init --passfile "$tmp/pass" --scrypt-log2n 16 "$OUT" </dev/null >/dev/null
"$VEILFS" --passfile "$tmp/pass" "$OUT" "$tmp/m" </dev/null
m=$tmp/m
: >"$m/empty"
printf x >"$m/one-byte"
head -c 4096 /dev/zero | tr '\0' a >"$m/block-exact"
head -c 4097 /dev/zero | tr '\0' b >"$m/block-plus-one"
seq 1 2500 >"$m/three-blocks"
printf 'unicode\n' >"$m/ünïcödé ñame – 日本語.txt"
long=$(printf 'L%.0s' $(seq 1 251)).txt
printf 'long name\n' >"$m/$long"
mkdir -p "$m/dir/sub" "$m/empty-dir" "$m/$(printf 'D%.0s' $(seq 1 200))"
printf 'deep\n' >"$m/dir/sub/deep.txt"
printf 'in a long-named dir\n' >"$m/$(printf 'D%.0s' $(seq 1 200))/inside"
ln -s dir/sub/deep.txt "$m/link"
ln -s "$(printf 't%.0s' $(seq 1 1000))" "$m/long-target-link"
mkfifo "$m/fifo"
mv "$m/dir/sub" "$m/dir/renamed-sub"
cd /
fusermount3 -u "$m"
