#!/usr/bin/env bash
# tests/golden/ctl-manifest.sh VEILCTL PASSFILE CIPHERDIR: the lines tests/golden/manifest.sh
# (without -x) prints for a vault's plaintext, read without a mount: names, types, sizes and
# symlink targets from `veilctl ls -l`, contents from `veilctl cat` (one call per file). Fails
# when any veilctl call fails. For test trees only: names must not contain a newline or " -> ",
# nor start or end with white space (the `ls -l` line is split on white space).
set -euo pipefail
[ $# -eq 3 ] || {
	echo "usage: $0 VEILCTL PASSFILE CIPHERDIR" >&2
	exit 2
}
ctl=$1 pass=$2 c=$3
tmp=$(mktemp)
trap 'rm -f "$tmp" "$tmp.all"' EXIT

# walk DIR: prints "PATH<TAB>LINE" for every entry below plaintext directory DIR ("" = root).
walk() {
	local dir=$1 out mode size day hm rest name p target
	out=$("$ctl" ls -l --passfile "$pass" "$c" ${dir:+"$dir"} </dev/null)
	[ -n "$out" ] || return 0
	while read -r mode size day hm rest; do
		name=$rest
		[ "${mode:0:1}" = l ] && name=${rest%% -> *}
		p=${dir:+$dir/}$name
		case $mode in
		d*)
			printf './%s\td ./%s\n' "$p" "$p"
			walk "$p"
			;;
		-*)
			"$ctl" cat --passfile "$pass" "$c" "$p" </dev/null >"$tmp"
			printf './%s\tf ./%s %s %s\n' "$p" "$p" "$size" "$(sha256sum <"$tmp" | cut -c1-64)"
			;;
		l*)
			target=${rest#* -> }
			printf './%s\tl ./%s %s %s\n' "$p" "$p" "$size" "$(printf '%s\n' "$target" | sha256sum | cut -c1-64)"
			;;
		p*) printf './%s\tp ./%s\n' "$p" "$p" ;;
		*) printf './%s\t? ./%s\n' "$p" "$p" ;;
		esac
	done <<<"$out"
}

walk "" >"$tmp.all"
LC_ALL=C sort -t "$(printf '\t')" -k1,1 "$tmp.all" | cut -f2-
