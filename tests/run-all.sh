#!/usr/bin/env bash
# tests/run-all.sh: installs the dependencies, builds veilfs twice (the release build with
# -Werror, and an ASan+UBSan build), runs the whole test suite on both, builds, installs and
# purges the Debian package, and ends with
# `tests: N passed, M failed`. This is what `.ci/run` runs. Needs root (apt, FUSE mounts).
#   VEILFS_NO_SANITIZERS=1  skip the sanitizer build
#   VEILFS_NO_DEB=1         skip the Debian package stage (tests/deb-test.sh)
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
jobs=$(nproc 2>/dev/null || echo 2)

bash .ci/deps || exit 1
if [ -f config.status ]; then
	echo "run-all: $top was configured in place (an older tools/demo.sh did that), which breaks" >&2
	echo "run-all: the out-of-tree builds below; run \`make distclean' in $top first" >&2
	exit 1
fi
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
# The Debian package (tests/deb-test.sh): built from a copy of the tree, installed (in a
# private overlay of /usr, /etc and /var), used through /etc/fstab, purged. Its TAP results
# count in the summary like every test's.
if [ -z "${VEILFS_NO_DEB:-}" ]; then
	# The package build's own `make check-unit` leaves .trs files in its work directory:
	# kept apart from $b, so that the summary counts deb-test.sh's results only.
	b=$top/build/deb
	rm -rf "$b" "$top/build/deb-work" && mkdir -p "$b" && builds+=("$b")
	echo "=== deb package"
	AM_TAP_AWK=awk bash build-aux/tap-driver.sh --test-name tests/deb-test.sh \
		--log-file "$b/deb-test.log" --trs-file "$b/deb-test.trs" --color-tests no \
		--enable-hard-errors yes --expect-failure no -- bash tests/deb-test.sh "$top/build/deb-work"
	grep -q '^:test-result: \(FAIL\|ERROR\)' "$b/deb-test.trs" && {
		status=1
		grep -E '^(not ok|Bail out)' -A3 "$b/deb-test.log" | head -40
	}
fi
tests/summary.sh "${builds[@]}" || status=1
exit $status
