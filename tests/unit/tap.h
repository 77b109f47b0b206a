/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Minimal TAP producer for the C unit tests (automake's tap-driver.sh reads it).
 *   plan(n);  ok(cond, "what %d", x);  ...  return done_testing();
 * plan() is optional: without it done_testing() prints the plan at the end. The exit status
 * is non-zero when any test failed or the count differs from the plan. Header-only: one
 * test program is one translation unit. */
#ifndef VEILFS_TESTS_TAP_H
#define VEILFS_TESTS_TAP_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int tap_planned = -1;
static int tap_run;
static int tap_failed;

static inline void plan(int n)
{
	tap_planned = n;
	printf("1..%d\n", n);
	fflush(stdout);
}

static inline void diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline void diag(const char *fmt, ...)
{
	va_list ap;

	fputs("# ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	fflush(stdout);
}

static inline bool tap_ok(bool pass, const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static inline bool tap_ok(bool pass, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	tap_run++;
	if (!pass)
		tap_failed++;
	printf("%sok %d - ", pass ? "" : "not ", tap_run);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	if (!pass)
		printf("#   failed at %s:%d\n", file, line);
	fflush(stdout);
	return pass;
}

#define ok(cond, ...) tap_ok(!!(cond), __FILE__, __LINE__, __VA_ARGS__)

static inline int done_testing(void)
{
	if (tap_planned < 0)
		printf("1..%d\n", tap_run);
	else if (tap_run != tap_planned)
		printf("# planned %d tests but ran %d\n", tap_planned, tap_run);
	fflush(stdout);
	return tap_failed != 0 || (tap_planned >= 0 && tap_run != tap_planned);
}

/* Test helpers: hex strings to bytes and back. unhex returns the byte count, or -1 when
 * the string is not even-length lowercase/uppercase hex or does not fit. */
static inline int unhex(const char *hex, uint8_t *out, size_t cap)
{
	size_t n = strlen(hex);

	if (n % 2 != 0 || n / 2 > cap)
		return -1;
	for (size_t i = 0; i < n / 2; i++) {
		unsigned v;

		if (sscanf(hex + 2 * i, "%2x", &v) != 1)
			return -1;
		out[i] = (uint8_t)v;
	}
	return (int)(n / 2);
}

static inline void tohex(const uint8_t *in, size_t len, char *out)
{
	static const char d[] = "0123456789abcdef";

	for (size_t i = 0; i < len; i++) {
		out[2 * i] = d[in[i] >> 4];
		out[2 * i + 1] = d[in[i] & 15];
	}
	out[2 * len] = '\0';
}

/* ok() that the len bytes at got equal the hex string want; prints what it got otherwise. */
#define ok_hex(got, len, want, ...) tap_ok_hex((got), (len), (want), __FILE__, __LINE__, __VA_ARGS__)
static inline bool tap_ok_hex(const uint8_t *got, size_t len, const char *want, const char *file,
			      int line, const char *fmt, ...) __attribute__((format(printf, 6, 7)));
static inline bool tap_ok_hex(const uint8_t *got, size_t len, const char *want, const char *file,
			      int line, const char *fmt, ...)
{
	char msg[256], *h = malloc(2 * len + 1);
	bool pass;
	va_list ap;

	if (h == NULL)
		abort();
	tohex(got, len, h);
	pass = strcmp(h, want) == 0;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	tap_ok(pass, file, line, "%s", msg);
	if (!pass)
		printf("#   got  %s\n#   want %s\n", h, want);
	free(h);
	return pass;
}

#endif
