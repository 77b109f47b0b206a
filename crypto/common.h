/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Shared definitions of the crypto layer: no OpenSSL types leak out of crypto/. */
#ifndef VEILFS_CRYPTO_COMMON_H
#define VEILFS_CRYPTO_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VL_MUST_CHECK __attribute__((warn_unused_result))

/* Format versions this code reads and writes (docs/FORMAT.md, FORMAT-v1.md). */
#define VL_FORMAT_V1 1
#define VL_FORMAT_V2 2
#define VL_FORMAT_VERSION VL_FORMAT_V2 /* the newest: what veilctl init makes */
#define VL_MASTER_KEY_LEN 32
#define VL_FILEID_LEN 16
#define VL_DIRID_LEN 16
#define VL_TOKEN_LEN 16
#define VL_MAC_LEN 16 /* truncated HMAC-SHA256 of headers and ID files (format 2) */
#define VL_HEADER_V1_LEN 24
#define VL_HEADER_SHORT_LEN 72 /* format 2, short on-disk name */
#define VL_HEADER_LONG_LEN 346 /* format 2, long on-disk name: carries the entry's name */
#define VL_NONCE_LEN 12
#define VL_TAG_LEN 16
#define VL_BLOCK_OVERHEAD (VL_NONCE_LEN + VL_TAG_LEN)
#define VL_BLOCK_MIN 4096u
#define VL_BLOCK_MAX 1048576u
#define VL_DEFAULT_BLOCK 4096u
#define VL_DEFAULT_NAME_MAX 220u

#endif
