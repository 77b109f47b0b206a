/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Key derivation: HKDF-SHA256 (RFC 5869), scrypt (RFC 7914), HMAC-SHA256, SHA-256. */
#ifndef VEILFS_CRYPTO_KDF_H
#define VEILFS_CRYPTO_KDF_H

#include "common.h"

/* HKDF-SHA256 extract+expand. 0 or -EIO. */
int vl_hkdf_sha256(uint8_t *out, size_t outlen, const uint8_t *ikm, size_t ikmlen,
		   const uint8_t *salt, size_t saltlen, const uint8_t *info,
		   size_t infolen) VL_MUST_CHECK;
/* scrypt with N = 2^log2_n. Does not enforce the format's minimum costs (the config parser
 * does), so that RFC 7914's small vectors can be tested. 0, -EINVAL or -ENOMEM/-EIO. */
int vl_scrypt(uint8_t *out, size_t outlen, const char *pw, size_t pwlen, const uint8_t *salt,
	      size_t saltlen, unsigned log2_n, uint32_t r, uint32_t p) VL_MUST_CHECK;
int vl_hmac_sha256(uint8_t out[static 32], const uint8_t *key, size_t keylen,
		   const uint8_t *msg, size_t msglen) VL_MUST_CHECK;
int vl_sha256(uint8_t out[static 32], const void *msg, size_t msglen) VL_MUST_CHECK;

#endif
