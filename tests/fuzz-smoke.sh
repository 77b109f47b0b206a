#!/usr/bin/env bash
# fuzz-smoke: runs each libFuzzer target (fuzz/) for about 10 seconds from its seed corpus.
# A crash, sanitizer report or broken property fails the test point. When the fuzzers were
# not built (no clang with -fsanitize=fuzzer) every point is a SKIP, never a pass.
. "$(dirname "$0")/lib.sh"

targets=(fuzz_config fuzz_header fuzz_name fuzz_idfile fuzz_ctl)
secs=${VL_FUZZ_SECONDS:-10}

work=$(mktemp -d "${TMPDIR:-/tmp}/veilfs-fuzz.XXXXXX") || bail "mktemp failed"
trap 'rm -rf -- "$work"' EXIT
trap 'exit 130' INT TERM

for t in "${targets[@]}"; do
	bin=$TOP_BUILDDIR/fuzz/$t
	seeds=$TOP_SRCDIR/fuzz/corpus/$t
	if [ ! -x "$bin" ]; then
		skip_test "$t runs ${secs}s without a finding" "fuzzers not built (configure found no clang with -fsanitize=fuzzer)"
		continue
	fi
	mkdir -p "$work/$t"
	# New inputs go to the private corpus (first directory); the seeds are only read.
	# -runs bounds the work on a fast machine, -max_total_time on a slow one.
	if "$bin" -max_total_time="$secs" -runs=3000000 -timeout=20 -rss_limit_mb=2048 \
		-artifact_prefix="$work/$t-" "$work/$t" "$seeds" >"$work/$t.log" 2>&1; then
		vl_n=$((vl_n + 1))
		echo "ok $vl_n - $t runs ${secs}s without a finding ($(grep -o 'Done [0-9]* runs' "$work/$t.log" | tail -1))"
	else
		vl_n=$((vl_n + 1))
		vl_failed=$((vl_failed + 1))
		echo "not ok $vl_n - $t found a problem"
		tail -n 40 "$work/$t.log" | sed 's/^/#   /'
		for a in "$work/$t"-*; do
			[ -f "$a" ] && echo "#   input (hex): $(od -An -tx1 -v "$a" | tr -d ' \n' | head -c 2000)"
		done
	fi
done
done_testing
