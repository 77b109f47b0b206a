/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Helpers shared by the libveilcore unit tests (tests/unit/test_core_*.c) -- see tests/local.mk: private vaults
 * of either format (VL_FORMAT_V1, VL_FORMAT_V2) in mkdtemp directories with the cheapest scrypt
 * the format allows, and files made the way the library makes them. */
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
#include "fs/dirs.h"
#include "fs/entry.h"
#include "fs/fileio.h"
#include "fs/vault.h"

#define TC_PASSWORD "correct horse battery staple"

static inline void tc_cfg(struct vl_config *cfg, unsigned format, uint32_t bs, uint32_t name_max)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->format = format;
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

/* Creates and opens a vault of the given format in a new temp dir. master may be NULL. Exits
 * on failure. */
static inline struct vl_vault *tc_vault(char dir[PATH_MAX], unsigned format, uint32_t bs,
					uint32_t name_max, uint8_t *master)
{
	uint8_t m[VL_MASTER_KEY_LEN];
	struct vl_vault *v = NULL;
	struct vl_config cfg;
	char err[256] = "";
	int r;

	tc_tmpdir(dir);
	tc_cfg(&cfg, format, bs, name_max);
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
	if (vl_vault_format(v) != format) {
		fprintf(stderr, "# vault of format %u opened as format %u\n", format, vl_vault_format(v));
		exit(99);
	}
	if (master)
		memcpy(master, m, sizeof(m));
	vl_wipe(m, sizeof(m));
	return v;
}

/* "format 1" or "format 2", for test names. */
static inline const char *tc_fmt(const struct vl_vault *v)
{
	return vl_vault_format(v) == VL_FORMAT_V1 ? "format 1" : "format 2";
}

/* A content object for the file entry e of directory di (format 2: bound by e's binding).
 * Exits on failure. */
static inline struct vl_content *tc_content(const struct vl_vault *v, const struct vl_dirinfo *di,
					    const struct vl_ename *e)
{
	struct vl_content *c = NULL;
	struct vl_binding b;
	int r;

	r = vl_ename_binding(v, di, e, &b);
	if (r == 0)
		r = vl_content_new(&c, v, e->kind == VL_KIND_OBJECT ? VL_STREAM_OBJECT : VL_STREAM_CONTENT,
				   &b);
	vl_wipe(&b, sizeof(b));
	if (r < 0) {
		fprintf(stderr, "# tc_content: %d\n", r);
		exit(99);
	}
	return c;
}

/* Creates the regular (VL_KIND_PLAIN) or object file plaintext name in directory dirfd (info
 * di) as the library does (format 1: its sidecar for a long name; vl_file_create: format 2
 * writes its header and empty block, bound to di). Returns an O_RDWR fd; fills *e with its
 * names and, when c is not NULL, *c with a content object for it. Exits on failure. */
static inline int tc_file(const struct vl_vault *v, int dirfd, const struct vl_dirinfo *di,
			  const char *name, enum vl_kind kind, struct vl_ename *e,
			  struct vl_content **c)
{
	int fd, r;

	r = vl_ename_make(v, di, name, strlen(name), kind, e);
	if (r == 0)
		r = vl_dir_put_sidecar(dirfd, e);
	fd = r < 0 ? r : vl_file_create(v, dirfd, di, e, 0600);
	if (fd < 0) {
		fprintf(stderr, "# tc_file %s: %d\n", name, fd);
		exit(99);
	}
	if (c)
		*c = tc_content(v, di, e);
	return fd;
}

/* tc_file of a regular file in the root directory. */
static inline int tc_root_file(const struct vl_vault *v, const char *name, struct vl_content **c)
{
	struct vl_ename e;

	return tc_file(v, vl_vault_rootfd(v), vl_vault_root_info(v), name, VL_KIND_PLAIN, &e, c);
}

/* Size of the file open as fd (UINT64_MAX on error). */
static inline uint64_t tc_csize(int fd)
{
	struct stat st;

	return fstat(fd, &st) == 0 ? (uint64_t)st.st_size : UINT64_MAX;
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
