#!/usr/bin/env bash
# tests/golden/manifest.sh DIR: one line per entry of a plaintext tree, sorted:
#   TYPE PATH SIZE SHA256-or-TARGET
# (modes and times are left out: git does not keep them for the golden tree's files).
set -euo pipefail
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
done
