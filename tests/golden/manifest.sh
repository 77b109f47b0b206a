#!/usr/bin/env bash
# tests/golden/manifest.sh [-x] DIR: one line per entry of a plaintext tree, sorted:
#   TYPE PATH SIZE SHA256-or-TARGET
# (modes and times are left out: git does not keep them for the golden tree's files).
# With -x, each entry's line is followed by the backing metadata a format can carry:
#   n PATH NLINK              for a non-directory with more than one link
#   x PATH NAME 0xHEX-VALUE   for each user.* extended attribute, by name
# (tests/golden/v1.expect has no such lines: its tree has neither.)
set -euo pipefail
meta=false
if [ "${1:-}" = -x ]; then
	meta=true
	shift
fi
cd "$1"
find . -mindepth 1 -print0 | LC_ALL=C sort -z | while IFS= read -r -d '' p; do
	if [ -L "$p" ]; then
		printf 'l %s %s %s\n' "$p" "$(stat -c %s "$p")" "$(readlink "$p" | sha256sum | cut -c1-64)"
	elif [ -d "$p" ]; then
		printf 'd %s\n' "$p"
	elif [ -p "$p" ]; then
		printf 'p %s\n' "$p"
	elif [ -f "$p" ]; then
		printf 'f %s %s %s\n' "$p" "$(stat -c %s "$p")" "$(sha256sum <"$p" | cut -c1-64)"
	else
		printf '? %s\n' "$p"
	fi
	$meta || continue
	if [ ! -d "$p" ] && [ "$(stat -c %h "$p")" != 1 ]; then
		printf 'n %s %s\n' "$p" "$(stat -c %h "$p")"
	fi
	# Symlinks cannot hold user.* attributes (the kernel refuses them), and their targets
	# are not theirs: -h, and nothing is asked of them.
	[ -L "$p" ] && continue
	getfattr -h --absolute-names -d -m '^user\.' -e hex -- "$p" 2>/dev/null |
		sed -n 's/^\(user\.[^=]*\)=\(0x.*\)$/\1 \2/p' | LC_ALL=C sort |
		while read -r name val; do
			printf 'x %s %s %s\n' "$p" "$name" "$val"
		done
done
