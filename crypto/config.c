// SPDX-License-Identifier: GPL-2.0-or-later
/* veilfs.conf (FORMAT.md §2): a strict parser (fixed lines in fixed order, exact spacing,
 * bounded values, no trailing data), the writer producing the one canonical text, and the
 * scrypt + AES-256-GCM wrap of the master key whose AAD is every line before wrapped_key.
 * Because text and struct correspond one to one, unwrap re-serialises the struct to obtain
 * exactly the bytes that were authenticated. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "kdf.h"
#include "keys_internal.h"
#include "secmem.h"

#define COMMENT \
	"# veilfs vault configuration; see veilfs.conf(5). Do not edit: wrapped_key authenticates every line."
#define NLINES 12
#define SCRYPT_MEM_MAX (1ull << 30)
/* "wrapped_key = " + 96 hex + "\n" */
#define WRAPPED_LINE_LEN (14 + 2 * VL_WRAPPED_LEN + 1)

static void seterr(char *err, size_t errcap, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void seterr(char *err, size_t errcap, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errcap == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errcap, fmt, ap);
	va_end(ap);
}

/* Decimal: 1 to 10 digits, no sign, no leading zero. */
static bool parse_dec(const char *s, size_t n, uint64_t *v)
{
	uint64_t x = 0;

	if (n == 0 || n > 10 || (n > 1 && s[0] == '0'))
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		x = x * 10 + (uint64_t)(s[i] - '0');
	}
	*v = x;
	return true;
}

/* Lowercase hex of exactly outlen bytes. */
static bool parse_hex(const char *s, size_t n, uint8_t *out, size_t outlen)
{
	if (n != 2 * outlen)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		int v;

		if (c >= '0' && c <= '9')
			v = c - '0';
		else if (c >= 'a' && c <= 'f')
			v = c - 'a' + 10;
		else
			return false;
		if (i % 2 == 0)
			out[i / 2] = (uint8_t)(v << 4);
		else
			out[i / 2] |= (uint8_t)v;
	}
	return true;
}

static bool block_size_ok(uint64_t b)
{
	return b >= VL_BLOCK_MIN && b <= VL_BLOCK_MAX && (b & (b - 1)) == 0;
}

static bool scrypt_mem_ok(uint64_t log2n, uint64_t r)
{
	return 128 * r <= (SCRYPT_MEM_MAX >> log2n);
}

/* The field checks shared by parser and writer; NULL when fine, else the reason. */
static const char *check_block_size(uint64_t v)
{
	return block_size_ok(v) ? NULL : "must be a power of two from 4096 to 1048576";
}
static const char *check_name_max(uint64_t v)
{
	return v >= 64 && v <= 255 ? NULL : "must be from 64 to 255";
}
static const char *check_log2n(uint64_t v)
{
	return v >= VL_SCRYPT_MIN_LOG2N && v <= VL_SCRYPT_MAX_LOG2N ? NULL : "must be from 16 to 24";
}
static const char *check_r(uint64_t v)
{
	return v >= 8 && v <= 32 ? NULL : "must be from 8 to 32";
}
static const char *check_p(uint64_t v)
{
	return v >= 1 && v <= 16 ? NULL : "must be from 1 to 16";
}

static bool config_valid(const struct vl_config *c)
{
	return (c->format == VL_FORMAT_V1 || c->format == VL_FORMAT_V2) &&
	       !(c->upgrading && c->format != VL_FORMAT_V2) && !check_block_size(c->block_size) &&
	       !check_name_max(c->name_max) && !check_log2n(c->scrypt_log2_n) &&
	       !check_r(c->scrypt_r) && !check_p(c->scrypt_p) &&
	       scrypt_mem_ok(c->scrypt_log2_n, c->scrypt_r);
}

/* A cursor over the text, one '\n'-terminated line at a time. */
struct cursor {
	const char *p;
	size_t left;
	int line; /* number of the line last returned, from 1 */
};

static bool next_line(struct cursor *c, const char **s, size_t *n)
{
	const char *nl = memchr(c->p, '\n', c->left);

	if (nl == NULL)
		return false;
	*s = c->p;
	*n = (size_t)(nl - c->p);
	c->left -= *n + 1;
	c->p = nl + 1;
	c->line++;
	return true;
}

/* Line is "key = value": sets value. */
static bool key_value(const char *s, size_t n, const char *key, const char **v, size_t *vn)
{
	size_t kl = strlen(key);

	if (n < kl + 3 || memcmp(s, key, kl) != 0 || memcmp(s + kl, " = ", 3) != 0)
		return false;
	*v = s + kl + 3;
	*vn = n - kl - 3;
	return true;
}

/* FORMAT.md: the format version is checked before anything else, so that a newer vault
 * gets the upgrade message, not a complaint about a line it may have changed. */
static int check_format_first(const char *text, size_t len, char *err, size_t errcap)
{
	const char *l2 = memchr(text, '\n', len), *v, *end;
	uint64_t f;
	size_t vn;

	if (l2 == NULL)
		return 0;
	l2++;
	end = memchr(l2, '\n', len - (size_t)(l2 - text));
	if (end == NULL)
		end = text + len;
	if (!key_value(l2, (size_t)(end - l2), "format", &v, &vn) || !parse_dec(v, vn, &f))
		return 0; /* left to the line-by-line parser, which names the problem */
	if (f != VL_FORMAT_V1 && f != VL_FORMAT_V2) {
		seterr(err, errcap,
		       "vault format %llu is not supported by this veilfs (it reads formats %d and "
		       "%d); upgrade veilfs",
		       (unsigned long long)f, VL_FORMAT_V1, VL_FORMAT_V2);
		return -EPROTONOSUPPORT;
	}
	return 0;
}

/* The features line of a config of the given format. Format 1 defines no feature; format 2
 * defines "upgrading". Unknown and repeated tokens are refused. */
static int parse_features(const char *s, size_t n, unsigned format, bool *upgrading, char *err,
			  size_t errcap)
{
	const char *v;
	size_t vn;

	*upgrading = false;
	if (n == strlen("features =") && memcmp(s, "features =", n) == 0)
		return 0; /* the empty list */
	if (!key_value(s, n, "features", &v, &vn) || vn == 0) {
		seterr(err, errcap, "line 3: expected \"features =\" followed by nothing or \" \" and a "
				    "comma-separated list");
		return -EINVAL;
	}
	/* Syntax first: tokens [a-z0-9-]+ separated by single commas. */
	for (size_t i = 0; i < vn; i++) {
		if (v[i] == ',' ? (i == 0 || i + 1 == vn || v[i + 1] == ',') :
				  !((v[i] >= 'a' && v[i] <= 'z') || (v[i] >= '0' && v[i] <= '9') ||
				    v[i] == '-')) {
			seterr(err, errcap, "line 3 (features): %s",
			       v[i] == ',' ? "empty feature name" : "invalid character in feature list");
			return -EINVAL;
		}
	}
	for (size_t start = 0, i = 0; i <= vn; i++) {
		size_t toklen;

		if (i < vn && v[i] != ',')
			continue;
		toklen = i - start;
		if (format == VL_FORMAT_V2 && toklen == strlen("upgrading") &&
		    memcmp(v + start, "upgrading", toklen) == 0 && !*upgrading) {
			*upgrading = true;
		} else if (format == VL_FORMAT_V2 && toklen == strlen("upgrading") &&
			   memcmp(v + start, "upgrading", toklen) == 0) {
			seterr(err, errcap, "line 3 (features): feature upgrading given twice");
			return -EINVAL;
		} else {
			seterr(err, errcap,
			       "unknown feature flag %.*s: this vault was made by a newer veilfs",
			       (int)(toklen > 64 ? 64 : toklen), v + start);
			return -EPROTONOSUPPORT;
		}
		start = i + 1;
	}
	return 0;
}

int vl_config_parse(const char *text, size_t len, struct vl_config *cfg, char *err, size_t errcap)
{
	static const struct {
		const char *key;
		const char *(*check)(uint64_t);
	} dec[] = {
		/* lines 4, 5, then 7 to 9 */
		{ "block_size", check_block_size },
		{ "name_max", check_name_max },
		{ "scrypt_log2_n", check_log2n },
		{ "scrypt_r", check_r },
		{ "scrypt_p", check_p },
	};
	uint64_t vals[5], f;
	struct vl_config c;
	struct cursor cur;
	const char *s, *v, *why;
	size_t n, vn;
	int r;

	seterr(err, errcap, "invalid config");
	if (text == NULL)
		return -EINVAL;
	r = check_format_first(text, len, err, errcap);
	if (r != 0)
		return r;
	if (len > VL_CONFIG_MAX) {
		seterr(err, errcap, "config is larger than %d bytes", VL_CONFIG_MAX);
		return -EINVAL;
	}
	/* ASCII text only; a stray \r (edited on Windows) gets its own message. */
	for (size_t i = 0, line = 1; i < len; i++) {
		unsigned char ch = (unsigned char)text[i];

		if (ch == '\n') {
			line++;
		} else if (ch == '\r') {
			seterr(err, errcap, "line %zu: carriage return (\\r) is not allowed", line);
			return -EINVAL;
		} else if (ch < 0x20 || ch > 0x7e) {
			seterr(err, errcap, "line %zu: byte 0x%02x is not printable ASCII", line, ch);
			return -EINVAL;
		}
	}

	memset(&c, 0, sizeof(c));
	cur = (struct cursor){ text, len, 0 };
#define NEXT()                                                                               \
	do {                                                                                 \
		if (!next_line(&cur, &s, &n)) {                                              \
			seterr(err, errcap,                                                  \
			       cur.left ? "line %d: missing newline at end of file"          \
					: "line %d: missing (the config has %d lines)",      \
			       cur.line + 1, NLINES);                                        \
			return -EINVAL;                                                      \
		}                                                                            \
	} while (0)

	NEXT();
	if (n != strlen(COMMENT) || memcmp(s, COMMENT, n) != 0) {
		seterr(err, errcap, "line 1: expected the comment \"%s\"", COMMENT);
		return -EINVAL;
	}
	NEXT();
	if (!key_value(s, n, "format", &v, &vn) || !parse_dec(v, vn, &f)) {
		seterr(err, errcap, "line 2: expected \"format = <decimal>\"");
		return -EINVAL;
	}
	c.format = (unsigned)f; /* 1 or 2, checked by check_format_first */
	NEXT();
	r = parse_features(s, n, c.format, &c.upgrading, err, errcap);
	if (r != 0)
		return r;
	for (int i = 0; i < 5; i++) {
		if (i == 2) { /* line 6 */
			NEXT();
			if (n != strlen("kdf = scrypt") || memcmp(s, "kdf = scrypt", n) != 0) {
				seterr(err, errcap, "line 6: expected \"kdf = scrypt\"");
				return -EINVAL;
			}
		}
		NEXT();
		if (!key_value(s, n, dec[i].key, &v, &vn)) {
			seterr(err, errcap, "line %d: expected \"%s = <decimal>\"", cur.line, dec[i].key);
			return -EINVAL;
		}
		if (!parse_dec(v, vn, &vals[i])) {
			seterr(err, errcap,
			       "line %d (%s): not a decimal (digits only, no sign, no leading zero, "
			       "at most 10 digits)",
			       cur.line, dec[i].key);
			return -EINVAL;
		}
		why = dec[i].check(vals[i]);
		if (why != NULL) {
			seterr(err, errcap, "line %d (%s): %s", cur.line, dec[i].key, why);
			return -EINVAL;
		}
	}
	c.block_size = (uint32_t)vals[0];
	c.name_max = (uint32_t)vals[1];
	c.scrypt_log2_n = (unsigned)vals[2];
	c.scrypt_r = (uint32_t)vals[3];
	c.scrypt_p = (uint32_t)vals[4];
	if (!scrypt_mem_ok(c.scrypt_log2_n, c.scrypt_r)) {
		seterr(err, errcap, "line 8 (scrypt_r): scrypt memory 128 * r * 2^log2_n exceeds 1 GiB");
		return -EINVAL;
	}
	NEXT();
	if (!key_value(s, n, "salt", &v, &vn) || !parse_hex(v, vn, c.salt, sizeof(c.salt))) {
		seterr(err, errcap, "line 10: expected \"salt = <64 lowercase hex digits>\"");
		return -EINVAL;
	}
	NEXT();
	if (!key_value(s, n, "wrap_nonce", &v, &vn) ||
	    !parse_hex(v, vn, c.wrap_nonce, sizeof(c.wrap_nonce))) {
		seterr(err, errcap, "line 11: expected \"wrap_nonce = <24 lowercase hex digits>\"");
		return -EINVAL;
	}
	NEXT();
	if (!key_value(s, n, "wrapped_key", &v, &vn) ||
	    !parse_hex(v, vn, c.wrapped_key, sizeof(c.wrapped_key))) {
		seterr(err, errcap, "line 12: expected \"wrapped_key = <96 lowercase hex digits>\"");
		return -EINVAL;
	}
#undef NEXT
	if (cur.left != 0) {
		seterr(err, errcap, "trailing data after line %d", NLINES);
		return -EINVAL;
	}
	*cfg = c;
	seterr(err, errcap, "ok");
	return 0;
}

static void hex(char *out, const uint8_t *in, size_t len)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * len] = '\0';
}

int vl_config_format(const struct vl_config *cfg, char *out, size_t outcap)
{
	char salt[2 * VL_SALT_LEN + 1], nonce[2 * VL_NONCE_LEN + 1], wk[2 * VL_WRAPPED_LEN + 1];
	int n;

	if (!config_valid(cfg))
		return -EINVAL;
	hex(salt, cfg->salt, sizeof(cfg->salt));
	hex(nonce, cfg->wrap_nonce, sizeof(cfg->wrap_nonce));
	hex(wk, cfg->wrapped_key, sizeof(cfg->wrapped_key));
	n = snprintf(out, outcap,
		     COMMENT "\n"
			     "format = %u\n"
			     "features =%s\n"
			     "block_size = %u\n"
			     "name_max = %u\n"
			     "kdf = scrypt\n"
			     "scrypt_log2_n = %u\n"
			     "scrypt_r = %u\n"
			     "scrypt_p = %u\n"
			     "salt = %s\n"
			     "wrap_nonce = %s\n"
			     "wrapped_key = %s\n",
		     cfg->format, cfg->upgrading ? " upgrading" : "", cfg->block_size, cfg->name_max, cfg->scrypt_log2_n, cfg->scrypt_r,
		     cfg->scrypt_p, salt, nonce, wk);
	if (n < 0 || (size_t)n >= outcap)
		return -ENOSPC;
	return n;
}

/* KEK = scrypt(pw, salt, N, r, p, 32) and the AAD (the text before the wrapped_key line). */
static int kek_and_aad(const struct vl_config *cfg, const char *pw, size_t pwlen, uint8_t kek[32],
		       char *text, size_t textcap, size_t *aadlen)
{
	int n, r;

	if (pw == NULL || pwlen == 0)
		return -EINVAL; /* FORMAT.md §2: empty passwords are refused */
	n = vl_config_format(cfg, text, textcap);
	if (n < 0)
		return n;
	*aadlen = (size_t)n - WRAPPED_LINE_LEN;
	r = vl_scrypt(kek, 32, pw, pwlen, cfg->salt, sizeof(cfg->salt), cfg->scrypt_log2_n,
		      cfg->scrypt_r, cfg->scrypt_p);
	return r;
}

int vl_config_wrap(struct vl_config *cfg, const char *pw, size_t pwlen,
		   const uint8_t master[static VL_MASTER_KEY_LEN])
{
	char text[VL_CONFIG_MAX + 1];
	uint8_t *kek = NULL;
	size_t aadlen = 0;
	int r;

	if (!config_valid(cfg))
		return -EINVAL;
	if (vl_random(cfg->salt, sizeof(cfg->salt)) != 0 ||
	    vl_random(cfg->wrap_nonce, sizeof(cfg->wrap_nonce)) != 0)
		return -EIO;
	kek = vl_secure_alloc(32);
	if (kek == NULL)
		return -ENOMEM;
	r = kek_and_aad(cfg, pw, pwlen, kek, text, sizeof(text), &aadlen);
	if (r != 0)
		goto out;
	/* gen 0: a one-shot context, wiped and freed before the call returns. */
	r = vl_gcm_seal(kek, 0, cfg->wrap_nonce, (const uint8_t *)text, aadlen, master,
			VL_MASTER_KEY_LEN, cfg->wrapped_key, cfg->wrapped_key + VL_MASTER_KEY_LEN);
out:
	vl_secure_free(kek, 32);
	return r;
}

int vl_config_unwrap(const struct vl_config *cfg, const char *pw, size_t pwlen,
		     uint8_t master[static VL_MASTER_KEY_LEN])
{
	char text[VL_CONFIG_MAX + 1];
	uint8_t *kek = NULL, *key = NULL;
	size_t aadlen = 0;
	int r;

	if (!config_valid(cfg))
		return -EINVAL;
	kek = vl_secure_alloc(32);
	key = vl_secure_alloc(VL_MASTER_KEY_LEN);
	if (kek == NULL || key == NULL) {
		r = -ENOMEM;
		goto out;
	}
	r = kek_and_aad(cfg, pw, pwlen, kek, text, sizeof(text), &aadlen);
	if (r != 0)
		goto out;
	/* A wrong password and an edited field look the same: the tag does not verify.
	 * gen 0: a one-shot context, wiped and freed before the call returns. */
	if (vl_gcm_open(kek, 0, cfg->wrap_nonce, (const uint8_t *)text, aadlen, cfg->wrapped_key,
			VL_MASTER_KEY_LEN, cfg->wrapped_key + VL_MASTER_KEY_LEN, key) != 0) {
		r = -EACCES;
		goto out;
	}
	memcpy(master, key, VL_MASTER_KEY_LEN);
	r = 0;
out:
	vl_secure_free(kek, 32);
	vl_secure_free(key, VL_MASTER_KEY_LEN);
	return r;
}
