/* SPDX-License-Identifier: GPL-2.0-or-later */
/* veilctl info's text (fs/vaultinfo.h). */
#include "config.h"

#include <errno.h>
#include <stdio.h>

#include "vaultinfo.h"

int vl_vaultinfo_text(const struct vl_config *cfg, char *out, size_t cap)
{
	int n;

	/* scrypt memory: 128 * r * N bytes (RFC 7914, V), in MiB */
	n = snprintf(out, cap,
		     "format: %u\n"
		     "features: none\n"
		     "block_size: %u\n"
		     "name_max: %u\n"
		     "kdf: scrypt\n"
		     "scrypt_log2_n: %u\n"
		     "scrypt_r: %u\n"
		     "scrypt_p: %u\n"
		     "scrypt_memory: %llu MiB\n"
		     "cipher: AES-256-GCM (contents), AES-256-SIV (names), HKDF-SHA256 subkeys\n",
		     cfg->format, cfg->block_size, cfg->name_max, cfg->scrypt_log2_n, cfg->scrypt_r,
		     cfg->scrypt_p,
		     (unsigned long long)(128ull * cfg->scrypt_r << cfg->scrypt_log2_n) >> 20);
	if (n < 0 || (size_t)n >= cap)
		return -ENOSPC;
	return n;
}
