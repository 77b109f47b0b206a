// SPDX-License-Identifier: GPL-2.0-or-later
/* Lowercase RFC 4648 base32 without padding (FORMAT.md §4.2). The decoder is strict so that
 * every byte string has exactly one encoding: a name can never alias another. */
#include <errno.h>

#include "base32.h"

static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz234567";

size_t vl_base32_encode(const uint8_t *in, size_t len, char *out, size_t outcap)
{
	size_t olen = vl_base32_len(len), o = 0;
	uint32_t acc = 0;
	int bits = 0;

	if (len > SIZE_MAX / 8 || outcap < olen + 1)
		return 0;
	for (size_t i = 0; i < len; i++) {
		acc = (acc << 8) | in[i];
		bits += 8;
		while (bits >= 5) {
			bits -= 5;
			out[o++] = alphabet[(acc >> bits) & 31];
		}
		acc &= (1u << bits) - 1; /* keep only the unconsumed bits */
	}
	if (bits > 0)
		out[o++] = alphabet[(acc << (5 - bits)) & 31];
	out[o] = '\0';
	return o;
}

static int value_of(char c)
{
	if (c >= 'a' && c <= 'z')
		return c - 'a';
	if (c >= '2' && c <= '7')
		return c - '2' + 26;
	return -1;
}

int vl_base32_decode(const char *in, size_t len, uint8_t *out, size_t outcap)
{
	size_t need, o = 0;
	uint32_t acc = 0;
	int bits = 0;

	/* Lengths 1, 3 and 6 (mod 8) are never produced by the encoder. */
	switch (len % 8) {
	case 1:
	case 3:
	case 6:
		return -EINVAL;
	}
	if (len > (size_t)INT32_MAX)
		return -EINVAL;
	need = len * 5 / 8;
	if (outcap < need)
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		int v = value_of(in[i]);

		if (v < 0)
			return -EINVAL;
		acc = (acc << 5) | (uint32_t)v;
		bits += 5;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (uint8_t)(acc >> bits);
		}
		acc &= (1u << bits) - 1;
	}
	/* Leftover bits are padding of the last character and must be zero. */
	if (acc != 0)
		return -EINVAL;
	return (int)o;
}
