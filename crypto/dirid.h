/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Directory IDs (FORMAT.md §5): deterministic derivation and the veilfs.dirid file. */
#ifndef VEILFS_CRYPTO_DIRID_H
#define VEILFS_CRYPTO_DIRID_H

#include "common.h"

struct vl_keys;

#define VL_DIRID_FILE_LEN 18

/* ID_root = HMAC-SHA256(K_dirid, "veilfs/v1/root")[0..16]. 0 or -EIO. */
int vl_dirid_root(const struct vl_keys *k, uint8_t out[static VL_DIRID_LEN]) VL_MUST_CHECK;
/* ID = HMAC-SHA256(K_dirid, parent || enc)[0..16], enc the child's full encoded name. */
int vl_dirid_derive(const struct vl_keys *k, const uint8_t parent[static VL_DIRID_LEN],
		    const char *enc, size_t enclen, uint8_t out[static VL_DIRID_LEN]) VL_MUST_CHECK;
/* The 18-byte file contents: u16be(1) || id. */
void vl_dirid_file_build(uint8_t out[static VL_DIRID_FILE_LEN], const uint8_t id[static VL_DIRID_LEN]);
/* Strict parse of file contents: exactly 18 bytes, version 1. 0 or -EIO. */
int vl_dirid_file_parse(const uint8_t *buf, size_t len, uint8_t id[static VL_DIRID_LEN]) VL_MUST_CHECK;

#endif
