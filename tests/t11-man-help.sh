#!/usr/bin/env bash
# Man pages lint clean and render; every command answers --help with exit 0 and a usage
# line; a bad option is a usage error (exit 2).
. "$(dirname "$0")/lib.sh"
vl_setup
for page in veilfs.1 veilctl.1 veilfs.conf.5; do
	src=$TOP_SRCDIR/man/$page
	if command -v mandoc >/dev/null; then
		ok "$page: mandoc -T lint finds no warning" mandoc -T lint -W warning "$src"
	else
		skip_test "$page: mandoc -T lint" "mandoc is not installed"
	fi
	if command -v man >/dev/null; then
		out=$(MANWIDTH=80 man -l "$src" 2>"$VL_TMP/man.err")
		is "$page: man -l renders without messages" "" "$(cat "$VL_TMP/man.err")"
	else
		out=$(mandoc -T utf8 "$src" 2>/dev/null)
	fi
	ok "$page: the rendering has a NAME and an EXIT STATUS or FILES section" \
		sh -c 'printf "%s" "$1" | grep -q "^NAME" && printf "%s" "$1" | grep -Eq "^(EXIT STATUS|FILES)"' _ "$out"
done

out=$("$VEILFS" --help 2>&1)
is "veilfs --help exits 0" 0 $?
ok "veilfs --help shows the usage" sh -c 'printf "%s" "$1" | grep -q "CIPHERDIR MOUNTPOINT"' _ "$out"
"$VEILFS" --no-such-option "$CIPHER" "$MNT" </dev/null >/dev/null 2>&1
is "veilfs with an unknown option exits 2" 2 $?
ok "veilfs --version names veilfs" sh -c '"$1" --version | grep -q veilfs' _ "$VEILFS"

out=$("$VEILCTL" --help 2>&1)
is "veilctl --help exits 0" 0 $?
for cmd in init passwd info fsck ls cat export import encrypt-path decrypt-path speed conflicts run; do
	out=$("$VEILCTL" "$cmd" --help 2>&1)
	is "veilctl $cmd --help exits 0" 0 $?
	ok "veilctl $cmd --help shows its usage" sh -c 'printf "%s" "$1" | grep -q "usage: veilctl $2"' _ "$out" "$cmd"
done
"$VEILCTL" frobnicate </dev/null >/dev/null 2>&1
is "veilctl with an unknown command exits 2" 2 $?
"$VEILCTL" info --no-such-option "$CIPHER" </dev/null >/dev/null 2>&1
is "veilctl info with an unknown option exits 2" 2 $?
done_testing
