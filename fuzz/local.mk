# libFuzzer targets (clang). Each gets a short smoke run in make check (tests/fuzz-smoke.sh).
EXTRA_DIST += fuzz
