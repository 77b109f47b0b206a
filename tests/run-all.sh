#!/usr/bin/env bash
# tests/run-all.sh: installs the dependencies, builds veilfs twice (the release build with
# -Werror, and an ASan+UBSan build), runs the whole test suite on both, and ends with
# `tests: N passed, M failed`. This is what `.ci/run` runs. Needs root (apt, FUSE mounts).
#   VEILFS_NO_SANITIZERS=1  skip the sanitizer build
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
jobs=$(nproc 2>/dev/null || echo 2)

bash .ci/deps || exit 1
if [ ! -x configure ] || [ configure.ac -nt configure ]; then
	autoreconf -fi || exit 1
fi

status=0
builds=()
run_build() { # name configure-args...
	local name=$1
	shift
	local b="$top/build/$name"
	rm -rf "$b" && mkdir -p "$b" && builds+=("$b")
	echo "=== $name build: ./configure $*"
	(cd "$b" && "$top/configure" -q "$@" && make -s -j"$jobs") || {
		echo "=== $name build FAILED"
		status=1
		return
	}
	echo "=== $name tests"
	(cd "$b" && make -s -j"$jobs" check) || status=1
	[ -f "$b/test-suite.log" ] && grep -E '^(FAIL|ERROR|XPASS)' "$b/test-suite.log" >/dev/null &&
		sed -n '/^\(FAIL\|ERROR\|XPASS\)/,/^$/p' "$b/test-suite.log" | head -200
}

run_build release --enable-werror
if [ -z "${VEILFS_NO_SANITIZERS:-}" ]; then
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		VEILFS_SANITIZED=1 run_build sanitizers --enable-werror --enable-sanitizers
fi
tests/summary.sh "${builds[@]}" || status=1
exit $status
