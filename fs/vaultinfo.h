/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The settings `veilctl info' shows, as "key: value" lines: one text for the offline command
 * and for the daemon's control socket. Needs no key. */
#ifndef VEILFS_FS_VAULTINFO_H
#define VEILFS_FS_VAULTINFO_H

#include <stddef.h>

#include "../crypto/common.h"
#include "../crypto/config.h"

/* Enough for every line vl_vaultinfo_text writes. */
#define VL_VAULTINFO_MAX 1024

/* Writes the lines for cfg (format, features, block size, name_max, the KDF and its costs,
 * the ciphers) into out, NUL-terminated, each ending in a newline. Returns the length or
 * -ENOSPC. */
int vl_vaultinfo_text(const struct vl_config *cfg, char *out, size_t cap) VL_MUST_CHECK;

#endif
