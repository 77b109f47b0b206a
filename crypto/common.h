/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Shared definitions of the crypto layer: no OpenSSL types leak out of crypto/. */
#ifndef VEILFS_CRYPTO_COMMON_H
#define VEILFS_CRYPTO_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VL_MUST_CHECK __attribute__((warn_unused_result))

#define VL_FORMAT_VERSION 1
#define VL_MASTER_KEY_LEN 32
#define VL_FILEID_LEN 16
#define VL_DIRID_LEN 16
#define VL_HEADER_LEN 24
#define VL_NONCE_LEN 12
#define VL_TAG_LEN 16
#define VL_BLOCK_OVERHEAD (VL_NONCE_LEN + VL_TAG_LEN)
#define VL_BLOCK_MIN 4096u
#define VL_BLOCK_MAX 1048576u
#define VL_DEFAULT_BLOCK 4096u
#define VL_DEFAULT_NAME_MAX 220u

#endif
