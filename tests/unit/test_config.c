// SPDX-License-Identifier: GPL-2.0-or-later
/* veilfs.conf parser strictness (FORMAT.md §2): every deviation from the one canonical text
 * is refused with a message that names the line; the format version is checked first; formats
 * 1 and 2 are read, and format 2's one feature flag. */
#include <errno.h>
#include <string.h>

#include "crypto/config.h"
#include "crypto/secmem.h"
#include "tests/unit/tap.h"

static const char *const good_lines[12] = {
	"# veilfs vault configuration; see veilfs.conf(5). Do not edit: wrapped_key authenticates every line.",
	"format = 1",
	"features =",
	"block_size = 4096",
	"name_max = 220",
	"kdf = scrypt",
	"scrypt_log2_n = 17",
	"scrypt_r = 8",
	"scrypt_p = 1",
	"salt = 00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
	"wrap_nonce = 0123456789abcdef01234567",
	"wrapped_key = 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
	"202122232425262728292a2b2c2d2e2f",
};

static char text[8192];

/* Builds the config from lines, with line `which` (1-based; 0 = none) replaced by repl
 * (NULL: removed). */
static size_t build(int which, const char *repl)
{
	size_t n = 0;

	text[0] = '\0';
	for (int i = 0; i < 12; i++) {
		const char *l = i + 1 == which ? repl : good_lines[i];

		if (l == NULL)
			continue;
		n += (size_t)snprintf(text + n, sizeof(text) - n, "%s\n", l);
	}
	return n;
}

static int parse(size_t len, char *err, size_t errcap)
{
	struct vl_config c;

	return vl_config_parse(text, len, &c, err, errcap);
}

/* Expects -EINVAL (or want) with a message containing needle. */
static void refused(int want, const char *needle, size_t len, const char *what)
{
	char err[256] = "";
	int r = parse(len, err, sizeof(err));

	ok(r == want && err[0] != '\0' && strstr(err, needle) != NULL,
	   "refused: %s (r=%d, \"%s\")", what, r, err);
}

int main(void)
{
	struct vl_config c;
	char err[256], out[VL_CONFIG_MAX + 1];
	size_t n;
	int r;

	if (vl_crypto_init() != 0) /* first: libcrypto allocates in the secure pool */
		return 99;
	n = build(0, NULL);
	r = vl_config_parse(text, n, &c, err, sizeof(err));
	ok(r == 0, "the canonical config parses (%s)", err);
	ok(c.format == 1 && c.block_size == 4096 && c.name_max == 220 && c.scrypt_log2_n == 17 &&
		   c.scrypt_r == 8 && c.scrypt_p == 1 && c.salt[1] == 0x11 && c.wrap_nonce[11] == 0x67 &&
		   c.wrapped_key[47] == 0x2f,
	   "every field is read");
	ok(vl_config_format(&c, out, sizeof(out)) == (int)n && strcmp(out, text) == 0,
	   "format(parse(text)) == text");
	ok(vl_config_format(&c, out, 100) == -ENOSPC, "format into a small buffer: -ENOSPC");

	/* Each line missing, and each pair of neighbouring lines swapped */
	for (int i = 1; i <= 12; i++) {
		char needle[16];

		n = build(i, NULL);
		snprintf(needle, sizeof(needle), "line %d", i);
		refused(-EINVAL, needle, n, "a missing line");
	}
	for (int i = 1; i < 12; i++) {
		char needle[16];

		n = 0;
		for (int j = 0; j < 12; j++) {
			int k = j == i - 1 ? i : j == i ? i - 1 : j;

			n += (size_t)snprintf(text + n, sizeof(text) - n, "%s\n", good_lines[k]);
		}
		snprintf(needle, sizeof(needle), "line %d", i);
		refused(-EINVAL, needle, n, "two neighbouring lines swapped");
	}

	/* Spacing, case, encodings */
	static const struct {
		int line;
		const char *repl, *needle, *what;
	} cases[] = {
		{ 1, "# veilfs vault configuration", "line 1", "another comment" },
		{ 2, "format =1", "line 2", "no space after =" },
		{ 2, "format  = 1", "line 2", "two spaces before =" },
		{ 2, " format = 1", "line 2", "leading space" },
		{ 2, "format = 01", "line 2", "leading zero in format" },
		{ 2, "Format = 1", "line 2", "uppercase key" },
		{ 3, "features = ", "line 3", "features with a trailing space" },
		{ 3, "features= ", "line 3", "features without space before =" },
		{ 3, "features = a,,b", "line 3", "empty feature token" },
		{ 3, "features = Foo", "line 3", "uppercase feature token" },
		{ 3, "features = a b", "line 3", "space in feature list" },
		{ 3, "features = a,", "line 3", "trailing comma" },
		{ 4, "block_size = 4096 ", "line 4", "trailing space" },
		{ 4, "block_size = 04096", "line 4", "leading zero" },
		{ 4, "block_size = +4096", "line 4", "sign" },
		{ 4, "block_size = 4096x", "line 4", "junk after the number" },
		{ 4, "block_size = 4095", "line 4", "block size not a power of two" },
		{ 4, "block_size = 2048", "line 4", "block size below 4096" },
		{ 4, "block_size = 2097152", "line 4", "block size above 1 MiB" },
		{ 4, "block_size = 10000000000", "line 4", "11 digits" },
		{ 4, "block_size = ", "line 4", "empty value" },
		{ 5, "name_max = 63", "line 5", "name_max below 64" },
		{ 5, "name_max = 256", "line 5", "name_max above 255" },
		{ 6, "kdf = argon2id", "line 6", "another KDF" },
		{ 6, "kdf = SCRYPT", "line 6", "uppercase KDF" },
		{ 7, "scrypt_log2_n = 15", "line 7", "N below 2^16 (KDF weakened)" },
		{ 7, "scrypt_log2_n = 25", "line 7", "N above 2^24" },
		{ 7, "scrypt_log2_n = 21", "line 8", "scrypt memory above 1 GiB" },
		{ 8, "scrypt_r = 7", "line 8", "r below 8 (KDF weakened)" },
		{ 8, "scrypt_r = 33", "line 8", "r above 32" },
		{ 9, "scrypt_p = 0", "line 9", "p = 0" },
		{ 9, "scrypt_p = 17", "line 9", "p above 16" },
		{ 10, "salt = 00112233445566778899AABBCCDDEEFF00112233445566778899aabbccddeeff", "line 10",
		  "uppercase hex" },
		{ 10, "salt = 00112233445566778899aabbccddeeff00112233445566778899aabbccddee", "line 10",
		  "salt one byte short" },
		{ 10, "salt = 00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff00",
		  "line 10", "salt one byte long" },
		{ 10, "salt = 0g112233445566778899aabbccddeeff00112233445566778899aabbccddeeff", "line 10",
		  "non-hex digit" },
		{ 11, "wrap_nonce = 0123456789abcdef0123456", "line 11", "odd-length nonce" },
		{ 12, "wrapped_key = 00", "line 12", "short wrapped key" },
		{ 12, "wrapped_key = 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
		      "202122232425262728292a2b2c2d2e2f ",
		  "line 12", "trailing space after the wrapped key" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		n = build(cases[i].line, cases[i].repl);
		refused(-EINVAL, cases[i].needle, n, cases[i].what);
	}

	/* The maximum accepted costs: N = 2^20 with r = 8 is exactly 1 GiB */
	n = build(7, "scrypt_log2_n = 20");
	ok(parse(n, err, sizeof(err)) == 0, "scrypt 128 * 8 * 2^20 = 1 GiB is accepted (%s)", err);
	n = build(4, "block_size = 1048576");
	ok(parse(n, err, sizeof(err)) == 0, "block_size 1 MiB is accepted");

	/* Version and features. This veilfs reads formats 1 and 2 (FORMAT.md §2); 3 is the
	 * first it does not know. */
	n = build(2, "format = 2");
	ok(vl_config_parse(text, n, &c, err, sizeof(err)) == 0 && c.format == 2 && !c.upgrading,
	   "format 2 parses (%s)", err);
	ok(vl_config_format(&c, out, sizeof(out)) == (int)n && strcmp(out, text) == 0,
	   "format 2: format(parse(text)) == text");
	n = build(2, "format = 2");
	{
		/* features = upgrading: format 2 only. */
		char *f = strstr(text, "features =\n");
		size_t before = (size_t)(f - text);
		char tail[8192];

		snprintf(tail, sizeof(tail), "%s", f + strlen("features =\n"));
		n = before + (size_t)snprintf(text + before, sizeof(text) - before,
					      "features = upgrading\n%s", tail);
	}
	ok(vl_config_parse(text, n, &c, err, sizeof(err)) == 0 && c.format == 2 && c.upgrading,
	   "format 2 with features = upgrading parses (%s)", err);
	ok(vl_config_format(&c, out, sizeof(out)) == (int)n && strcmp(out, text) == 0,
	   "format 2 with upgrading: format(parse(text)) == text");
	n = build(3, "features = upgrading");
	refused(-EPROTONOSUPPORT, "unknown feature flag upgrading", n,
		"format 1 with the upgrading flag (format 2's only)");
	{
		static const char *const dup = "features = upgrading,upgrading";

		n = build(3, dup);
		memcpy(strstr(text, "format = 1"), "format = 2", 10);
		refused(-EINVAL, "line 3", n, "format 2 with upgrading given twice");
	}
	n = build(2, "format = 3");
	refused(-EPROTONOSUPPORT,
		"vault format 3 is not supported by this veilfs (it reads formats 1 and 2); upgrade veilfs",
		n, "format 3, with the exact upgrade message");
	n = build(2, "format = 3");
	memcpy(text, "# a future comment line; changed", 32);
	refused(-EPROTONOSUPPORT, "vault format 3 is not supported", n,
		"format 3 is reported before a line 1 it does not know");
	n = build(2, "format = 3");
	n += (size_t)snprintf(text + n, sizeof(text) - n, "some_future_field = 1\n");
	refused(-EPROTONOSUPPORT, "vault format 3", n, "format 3 with extra lines");
	n = build(2, "format = 0");
	refused(-EPROTONOSUPPORT, "vault format 0", n, "format 0");
	n = build(3, "features = sparse-files");
	refused(-EPROTONOSUPPORT,
		"unknown feature flag sparse-files: this vault was made by a newer veilfs", n,
		"an unknown feature flag, named");
	n = build(3, "features = a1,b2");
	refused(-EPROTONOSUPPORT, "unknown feature flag a1", n, "the first of two unknown flags named");

	/* Bytes */
	n = build(0, NULL);
	text[n - 1] = 'x';
	refused(-EINVAL, "line 12", n, "no newline at the end");
	n = build(0, NULL);
	refused(-EINVAL, "line 12", n - 1, "last newline cut off");
	n = build(0, NULL);
	n += (size_t)snprintf(text + n, sizeof(text) - n, "x");
	refused(-EINVAL, "trailing data", n, "trailing byte after the last line");
	n = build(0, NULL);
	n += (size_t)snprintf(text + n, sizeof(text) - n, "\n");
	refused(-EINVAL, "trailing data", n, "trailing empty line");
	n = build(5, "name_max = 220\r");
	refused(-EINVAL, "line 5: carriage return", n, "\\r before \\n");
	n = build(0, NULL);
	text[30] = '\0';
	refused(-EINVAL, "line 1", n, "a NUL byte");
	n = build(0, NULL);
	text[30] = (char)0xc3;
	refused(-EINVAL, "line 1", n, "a non-ASCII byte");
	n = build(0, NULL);
	memset(text + n, '#', 5000);
	refused(-EINVAL, "larger than 4096", n + 5000, "a config over 4096 bytes");
	refused(-EINVAL, "line 1", 0, "an empty file");

	/* The parser never writes *cfg on failure */
	memset(&c, 0x5a, sizeof(c));
	n = build(9, "scrypt_p = 0");
	ok(vl_config_parse(text, n, &c, err, sizeof(err)) == -EINVAL && c.block_size == 0x5a5a5a5a,
	   "a refused config leaves *cfg untouched");
	ok(vl_config_parse(text, n, &c, NULL, 0) == -EINVAL, "err may be NULL");

	/* The writer refuses what the reader would refuse */
	n = build(0, NULL);
	if (vl_config_parse(text, n, &c, err, sizeof(err)) != 0)
		abort();
	c.block_size = 3000;
	ok(vl_config_format(&c, out, sizeof(out)) == -EINVAL, "format refuses an invalid block size");
	c.block_size = 4096;
	c.scrypt_log2_n = 15;
	ok(vl_config_format(&c, out, sizeof(out)) == -EINVAL, "format refuses a weak KDF");
	return done_testing();
}
