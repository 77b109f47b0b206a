/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The recovery code: the 32-byte master key written for humans.
 *
 * Layout. payload = master key (32 bytes) || SHA-256(master key)[0..2] (34 bytes, 272 bits),
 * followed by 8 zero bits, is cut into 56 five-bit symbols written in Crockford's base32
 * alphabet (0-9 A-Z without I L O U). The symbols form 14 groups of 4; each group gets a
 * fifth check symbol, and groups are joined with '-':
 *
 *     XXXXC-XXXXC-XXXXC-XXXXC-XXXXC-XXXXC-XXXXC-XXXXC-XXXXC-XXXXC-XXXXC-XXXXC-XXXXC-XXXXC
 *
 * Check symbol of group i (0-based) with symbols x0..x3, in GF(32) = GF(2)[t]/(t^5+t^2+1)
 * with generator g = t:  c = (i + 1) + g^1*x0 + g^2*x1 + g^3*x2 + g^4*x3  (+ is XOR).
 * The five coefficients (g^1..g^4 for the data, 1 for c itself) are distinct and non-zero,
 * so every single-symbol substitution and every transposition of two symbols inside a group
 * is caught; the (i + 1) term makes a group typed in the wrong position fail too. The
 * 16-bit checksum of the whole key catches what a group check misses (1 in 32 for a group
 * with several errors).
 *
 * Decoding is case-insensitive, ignores whitespace and '-' between groups, reads I and L as 1
 * and O as 0 (Crockford), and also accepts the key as 64 hex digits. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "../crypto/kdf.h"
#include "../crypto/secmem.h"
#include "recovery.h"
#include "log.h"

#define RC_GROUPS 14
#define RC_DATA 4			  /* data symbols per group */
#define RC_GROUPLEN (RC_DATA + 1)	  /* with the check symbol */
#define RC_SYMS (RC_GROUPS * RC_DATA)	  /* 56 data symbols = 280 bits */
#define RC_PAYLOAD (VL_MASTER_KEY_LEN + 2) /* key || 16-bit checksum = 272 bits */
#define RC_TEXTLEN (RC_GROUPS * RC_GROUPLEN + RC_GROUPS - 1)

static const char alphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/* The symbol value of c, or -1. */
static int sym_value(int c)
{
	const char *p;

	c = toupper((unsigned char)c);
	if (c == 'I' || c == 'L')
		c = '1';
	else if (c == 'O')
		c = '0';
	if (c == 0)
		return -1;
	p = strchr(alphabet, c);
	return p ? (int)(p - alphabet) : -1;
}

/* Multiplication in GF(32) modulo t^5 + t^2 + 1 (0x25). */
static unsigned gf32_mul(unsigned a, unsigned b)
{
	unsigned r = 0;

	while (b) {
		if (b & 1)
			r ^= a;
		b >>= 1;
		a <<= 1;
		if (a & 0x20)
			a ^= 0x25;
	}
	return r & 0x1f;
}

static unsigned group_check(unsigned idx, const unsigned x[RC_DATA])
{
	unsigned c = (idx + 1) & 0x1f, gk = 1;

	for (unsigned k = 0; k < RC_DATA; k++) {
		gk = gf32_mul(gk, 2); /* g^(k+1) */
		c ^= gf32_mul(gk, x[k]);
	}
	return c;
}

static int checksum(const uint8_t key[static VL_MASTER_KEY_LEN], uint8_t out[2])
{
	uint8_t h[32];
	int r = vl_sha256(h, key, VL_MASTER_KEY_LEN);

	if (r == 0)
		memcpy(out, h, 2);
	vl_wipe(h, sizeof(h));
	return r;
}

int vl_recovery_encode(const uint8_t key[static VL_MASTER_KEY_LEN], char *out, size_t cap)
{
	uint8_t payload[RC_PAYLOAD + 1] = { 0 }; /* one extra zero byte: the 8 pad bits */
	unsigned syms[RC_SYMS];
	size_t o = 0;
	int r = -ENOSPC;

	if (cap < RC_TEXTLEN + 1)
		goto out;
	memcpy(payload, key, VL_MASTER_KEY_LEN);
	r = checksum(key, payload + VL_MASTER_KEY_LEN);
	if (r < 0)
		goto out;
	/* 56 symbols x 5 bits = 280 bits = 35 bytes */
	for (unsigned s = 0; s < RC_SYMS; s++) {
		unsigned bit = s * 5, v = 0;

		for (unsigned b = 0; b < 5; b++, bit++)
			v = (v << 1) | ((payload[bit / 8] >> (7 - bit % 8)) & 1);
		syms[s] = v;
	}
	for (unsigned g = 0; g < RC_GROUPS; g++) {
		if (g)
			out[o++] = '-';
		for (unsigned k = 0; k < RC_DATA; k++)
			out[o++] = alphabet[syms[g * RC_DATA + k]];
		out[o++] = alphabet[group_check(g, &syms[g * RC_DATA])];
	}
	out[o] = '\0';
	r = (int)o;
out:
	vl_wipe(payload, sizeof(payload));
	vl_wipe(syms, sizeof(syms));
	return r;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower((unsigned char)c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int vl_recovery_decode(const char *text, size_t len, uint8_t key[static VL_MASTER_KEY_LEN],
		       char *err, size_t errcap)
{
	/* Groups as typed (split at separators), and all symbols joined. */
	char joined[2 * RC_TEXTLEN + 1];
	size_t glen[RC_GROUPS + 1] = { 0 }, ngroups = 0, n = 0;
	bool in_group = false, all_hex = true;
	uint8_t payload[RC_PAYLOAD + 1] = { 0 }, sum[2] = { 0 };
	unsigned syms[RC_SYMS];
	int r = -EINVAL;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];

		if (c == '-' || isspace(c)) {
			in_group = false;
			continue;
		}
		if (n >= sizeof(joined) - 1) {
			vl_seterr(err, errcap, "the recovery code is too long (it has %d groups of %d characters)",
			       RC_GROUPS, RC_GROUPLEN);
			goto out;
		}
		if (!in_group) {
			in_group = true;
			ngroups++;
		}
		if (ngroups <= RC_GROUPS)
			glen[ngroups - 1]++;
		joined[n++] = (char)c;
		if (hexval(c) < 0)
			all_hex = false;
	}
	joined[n] = '\0';

	if (n == 2 * VL_MASTER_KEY_LEN && all_hex) {
		/* The master key as 64 hex digits. */
		for (size_t i = 0; i < VL_MASTER_KEY_LEN; i++)
			payload[i] = (uint8_t)(hexval(joined[2 * i]) << 4 | hexval(joined[2 * i + 1]));
		memcpy(key, payload, VL_MASTER_KEY_LEN);
		r = 0;
		goto out;
	}
	if (n != RC_GROUPS * RC_GROUPLEN) {
		/* Name the first group of a wrong length when the groups were separated. */
		if (ngroups == RC_GROUPS) {
			for (size_t g = 0; g < RC_GROUPS; g++) {
				if (glen[g] != RC_GROUPLEN) {
					vl_seterr(err, errcap, "group %zu is mistyped (it has %zu characters, not %d)",
					       g + 1, glen[g], RC_GROUPLEN);
					goto out;
				}
			}
		}
		vl_seterr(err, errcap,
		       "a recovery code has %d groups of %d characters (or is 64 hex digits); got %zu characters",
		       RC_GROUPS, RC_GROUPLEN, n);
		goto out;
	}
	for (unsigned g = 0; g < RC_GROUPS; g++) {
		unsigned x[RC_GROUPLEN];

		for (unsigned k = 0; k < RC_GROUPLEN; k++) {
			int v = sym_value(joined[g * RC_GROUPLEN + k]);

			if (v < 0) {
				vl_seterr(err, errcap, "group %u is mistyped ('%c' is not a recovery-code character)",
				       g + 1, joined[g * RC_GROUPLEN + k]);
				vl_wipe(x, sizeof(x));
				goto out;
			}
			x[k] = (unsigned)v;
		}
		if (group_check(g, x) != x[RC_DATA]) {
			vl_seterr(err, errcap, "group %u is mistyped", g + 1);
			vl_wipe(x, sizeof(x));
			goto out;
		}
		memcpy(&syms[g * RC_DATA], x, RC_DATA * sizeof(x[0]));
		vl_wipe(x, sizeof(x));
	}
	for (unsigned s = 0; s < RC_SYMS; s++) {
		for (unsigned b = 0; b < 5; b++) {
			unsigned bit = s * 5 + b;

			if ((syms[s] >> (4 - b)) & 1)
				payload[bit / 8] |= (uint8_t)(0x80 >> (bit % 8));
		}
	}
	if (payload[RC_PAYLOAD] != 0) {
		/* The pad bits live in the last group. */
		vl_seterr(err, errcap, "group %d is mistyped", RC_GROUPS);
		goto out;
	}
	if (checksum(payload, sum) < 0) {
		r = -EIO;
		vl_seterr(err, errcap, "cannot compute the recovery-code checksum");
		goto out;
	}
	if (!vl_ct_equal(sum, payload + VL_MASTER_KEY_LEN, 2)) {
		vl_seterr(err, errcap,
		       "the recovery code's checksum does not match: a group is mistyped or groups are out of order");
		goto out;
	}
	memcpy(key, payload, VL_MASTER_KEY_LEN);
	r = 0;
out:
	vl_wipe(joined, sizeof(joined));
	vl_wipe(payload, sizeof(payload));
	vl_wipe(syms, sizeof(syms));
	vl_wipe(sum, sizeof(sum));
	return r;
}
