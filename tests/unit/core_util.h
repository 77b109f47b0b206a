/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Helpers shared by the libveilcore unit tests (tests/unit/test_core_*.c) -- see tests/local.mk: private vaults
 * in mkdtemp directories with the cheapest scrypt the format allows. */
#ifndef VEILFS_TESTS_CORE_UTIL_H
#define VEILFS_TESTS_CORE_UTIL_H

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto/config.h"
#include "crypto/secmem.h"
#include "fs/vault.h"

#define TC_PASSWORD "correct horse battery staple"

static inline void tc_cfg(struct vl_config *cfg, uint32_t bs, uint32_t name_max)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->format = 1;
	cfg->block_size = bs;
	cfg->name_max = name_max;
	cfg->scrypt_log2_n = 16; /* the format's minimum: fast tests */
	cfg->scrypt_r = 8;
	cfg->scrypt_p = 1;
}

/* mkdtemp under $TMPDIR (or /tmp); dir receives the path. Exits on failure (tests only). */
static inline void tc_tmpdir(char dir[PATH_MAX])
{
	const char *t = getenv("TMPDIR");

	snprintf(dir, PATH_MAX, "%s/vl-core-XXXXXX", t && *t ? t : "/tmp");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		exit(99);
	}
}

/* Creates and opens a vault in a new temp dir. master may be NULL. Exits on failure. */
static inline struct vl_vault *tc_vault(char dir[PATH_MAX], uint32_t bs, uint32_t name_max,
					uint8_t *master)
{
	uint8_t m[VL_MASTER_KEY_LEN];
	struct vl_vault *v = NULL;
	struct vl_config cfg;
	char err[256] = "";
	int r;

	tc_tmpdir(dir);
	tc_cfg(&cfg, bs, name_max);
	r = vl_vault_create(dir, NULL, &cfg, TC_PASSWORD, strlen(TC_PASSWORD), m, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "# vl_vault_create: %d %s\n", r, err);
		exit(99);
	}
	r = vl_vault_open(&v, dir, NULL, TC_PASSWORD, strlen(TC_PASSWORD), err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "# vl_vault_open: %d %s\n", r, err);
		exit(99);
	}
	if (master)
		memcpy(master, m, sizeof(m));
	vl_wipe(m, sizeof(m));
	return v;
}

static inline int tc_rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(p) < 0 ? -1 : 0;
}

static inline void tc_rmrf(const char *dir)
{
	(void)nftw(dir, tc_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Small deterministic PRNG for model tests (xorshift64*): the seed is printed so that a
 * failure can be replayed. */
static inline uint64_t tc_rand(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ull;
}

#endif
