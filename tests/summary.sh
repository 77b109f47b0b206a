#!/usr/bin/env bash
# tests/summary.sh BUILDDIR...: counts the TAP results that automake's harness recorded in the
# .trs files of each build directory and prints the closing line
# `tests: N passed, M failed[, K skipped]`. Exits 1 when anything failed or nothing ran.
set -u
pass=0 fail=0 skip=0
for d in "$@"; do
	while IFS= read -r line; do
		case $line in
		":test-result: PASS"* | ":test-result: XFAIL"*) pass=$((pass + 1)) ;;
		":test-result: SKIP"*) skip=$((skip + 1)) ;;
		":test-result: "*) fail=$((fail + 1)) ;;
		esac
	done < <(find "$d" -name '*.trs' -exec cat {} + 2>/dev/null)
done
line="tests: $pass passed, $fail failed"
[ "$skip" -gt 0 ] && line="$line, $skip skipped"
echo "$line"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
