/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The veilfs.conf text (FORMAT.md §2): strict parser, writer, master-key wrap and unwrap.
 * Pure over buffers; reading and writing the file is the caller's business. */
#ifndef VEILFS_CRYPTO_CONFIG_H
#define VEILFS_CRYPTO_CONFIG_H

#include "common.h"

#define VL_CONFIG_MAX 4096
#define VL_SALT_LEN 32
#define VL_WRAPPED_LEN (VL_MASTER_KEY_LEN + VL_TAG_LEN)
#define VL_SCRYPT_MIN_LOG2N 16
#define VL_SCRYPT_MAX_LOG2N 24
#define VL_SCRYPT_DEFAULT_LOG2N 18

struct vl_config {
	unsigned format;	/* VL_FORMAT_V1 or VL_FORMAT_V2 */
	bool upgrading;		/* format 2 feature "upgrading": veilctl upgrade has not finished */
	uint32_t block_size;	/* power of two, VL_BLOCK_MIN..VL_BLOCK_MAX */
	uint32_t name_max;	/* 64..255 */
	unsigned scrypt_log2_n; /* 16..24 */
	uint32_t scrypt_r;	/* 8..32 */
	uint32_t scrypt_p;	/* 1..16 */
	uint8_t salt[VL_SALT_LEN];
	uint8_t wrap_nonce[VL_NONCE_LEN];
	uint8_t wrapped_key[VL_WRAPPED_LEN];
};

/* Strictly parses a config text of len bytes into *cfg. On error returns -EINVAL (or
 * -EPROTONOSUPPORT for an unknown format version or feature flag) and writes a one-line
 * reason that names the offending line into err (errcap bytes, NUL-terminated). */
int vl_config_parse(const char *text, size_t len, struct vl_config *cfg, char *err,
		    size_t errcap) VL_MUST_CHECK;
/* Serializes *cfg into out (NUL-terminated). Returns the length, or -ENOSPC. */
int vl_config_format(const struct vl_config *cfg, char *out, size_t outcap) VL_MUST_CHECK;

/* Fills salt and nonce with fresh random bytes, derives the KEK from the password with
 * cfg's scrypt costs and wraps master into cfg->wrapped_key; the AAD is the serialized
 * config up to the wrapped_key line. 0 or -errno. */
int vl_config_wrap(struct vl_config *cfg, const char *pw, size_t pwlen,
		   const uint8_t master[static VL_MASTER_KEY_LEN]) VL_MUST_CHECK;
/* Unwraps the master key with the password. -EACCES for a wrong password or any modified
 * field (indistinguishable), other -errno on failure. master is written only on success. */
int vl_config_unwrap(const struct vl_config *cfg, const char *pw, size_t pwlen,
		     uint8_t master[static VL_MASTER_KEY_LEN]) VL_MUST_CHECK;

#endif
