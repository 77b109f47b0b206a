#!/usr/bin/env bash
# tests/summary.sh BUILDDIR...: counts the TAP results that automake's harness recorded in the
# .trs files of each build directory and prints the closing line
# `tests: N passed, M failed[, K skipped][, J known bugs (XFAIL)]`. Exits 1 when anything failed
# (an XPASS, a known bug's test that now passes, is a failure: remove its TODO) or nothing ran.
set -u
pass=0 fail=0 skip=0 xfail=0
for d in "$@"; do
	while IFS= read -r line; do
		case $line in
		":test-result: PASS"*) pass=$((pass + 1)) ;;
		":test-result: XFAIL"*) xfail=$((xfail + 1)) ;;
		":test-result: SKIP"*) skip=$((skip + 1)) ;;
		":test-result: "*) fail=$((fail + 1)) ;;
		esac
	done < <(find "$d" -name '*.trs' -exec cat {} + 2>/dev/null)
done
line="tests: $pass passed, $fail failed"
[ "$skip" -gt 0 ] && line="$line, $skip skipped"
# Known bugs (TAP "# TODO" points that fail): not passes; listed in test-suite.log.
[ "$xfail" -gt 0 ] && line="$line, $xfail known bugs (XFAIL)"
echo "$line"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
