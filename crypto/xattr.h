/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Extended attributes (FORMAT.md §6): encrypted names and object-bound values. */
#ifndef VEILFS_CRYPTO_XATTR_H
#define VEILFS_CRYPTO_XATTR_H

#include "common.h"

struct vl_keys;

#define VL_XATTR_PREFIX "user.veilfs."
/* Longest backing xattr name: prefix + base32(16 + 256). */
#define VL_XATTR_ENCNAME_MAX (12 + 436)

/* Encrypts an xattr name (1..255 bytes, no NUL) into "user.veilfs." + base32, NUL-terminated.
 * Returns length or -EINVAL/-ERANGE/-EIO. */
int vl_xattr_name_encrypt(const struct vl_keys *k, const char *name, size_t len, char *out,
			  size_t outcap) VL_MUST_CHECK;
/* Decrypts a backing xattr name; -EINVAL if not ours, -EIO if it fails. Returns length. */
int vl_xattr_name_decrypt(const struct vl_keys *k, const char *enc, size_t len, char *out,
			  size_t outcap) VL_MUST_CHECK;
/* Value: nonce || GCM(AAD = binding || encname) || tag; out holds len + VL_BLOCK_OVERHEAD.
 * Returns the ciphertext length or -errno. */
int vl_xattr_value_seal(const struct vl_keys *k, const uint8_t binding[static 16],
			const char *encname, const uint8_t *val, size_t len, uint8_t *out,
			size_t outcap) VL_MUST_CHECK;
int vl_xattr_value_open(const struct vl_keys *k, const uint8_t binding[static 16],
			const char *encname, const uint8_t *ct, size_t len, uint8_t *out,
			size_t outcap) VL_MUST_CHECK;

#endif
