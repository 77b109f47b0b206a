/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The vault's subkeys, derived from the master key (FORMAT.md §1). */
#ifndef VEILFS_CRYPTO_KEYS_H
#define VEILFS_CRYPTO_KEYS_H

#include "common.h"

struct vl_keys;

/* Derives every subkey from master into secure memory. The caller keeps and wipes master.
 * 0 and *out set, or -errno. */
int vl_keys_new(struct vl_keys **out, const uint8_t master[static VL_MASTER_KEY_LEN]) VL_MUST_CHECK;
/* A copy of k in its own secure memory (new key generations). 0 or -errno. */
int vl_keys_dup(struct vl_keys **out, const struct vl_keys *k) VL_MUST_CHECK;
/* Wipes and frees; NULL is a no-op. */
void vl_keys_free(struct vl_keys *k);

#endif
