/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Lowercase RFC 4648 base32 without padding (FORMAT.md §4.2). */
#ifndef VEILFS_CRYPTO_BASE32_H
#define VEILFS_CRYPTO_BASE32_H

#include "common.h"

/* Encoded length of len bytes: ceil(len * 8 / 5). */
static inline size_t vl_base32_len(size_t len)
{
	return (len * 8 + 4) / 5;
}
/* Encodes len bytes into out (outcap >= vl_base32_len(len) + 1), NUL-terminated. Returns
 * the encoded length, or 0 if outcap is too small. */
size_t vl_base32_encode(const uint8_t *in, size_t len, char *out, size_t outcap);
/* Strict decode: only [a-z2-7], no impossible length (len mod 8 in {1,3,6}), trailing bits
 * zero. Returns the number of bytes written or -EINVAL (also when outcap is too small). */
int vl_base32_decode(const char *in, size_t len, uint8_t *out, size_t outcap) VL_MUST_CHECK;

#endif
