/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The recovery code: the master key written for humans (grouped, with a checksum per group
 * that catches a mistyped group). Used by veilctl init/passwd/recover and veilfs
 * --masterkey-stdin. */
#ifndef VEILFS_FS_RECOVERY_H
#define VEILFS_FS_RECOVERY_H

#include <stddef.h>
#include <stdint.h>

#include "../crypto/common.h"

/* Longest recovery code text, NUL included. */
#define VL_RECOVERY_MAX 160

/* Writes the recovery code of key into out (NUL-terminated). Returns its length or -ENOSPC. */
int vl_recovery_encode(const uint8_t key[static VL_MASTER_KEY_LEN], char *out, size_t cap) VL_MUST_CHECK;
/* Parses a recovery code (whitespace and line breaks between groups ignored; case
 * insensitive). On a bad group, returns -EINVAL and writes "group N is mistyped" into err.
 * key is written only on success. */
int vl_recovery_decode(const char *text, size_t len, uint8_t key[static VL_MASTER_KEY_LEN],
		       char *err, size_t errcap) VL_MUST_CHECK;

#endif
