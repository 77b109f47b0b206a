/* SPDX-License-Identifier: GPL-2.0-or-later */
/* bench/hotpath: drives veilfs's content read and write paths (fs/fileio.c over crypto/)
 * without FUSE, for instruction counts that stay comparable on a busy machine.
 *
 *   bench/hotpath.sh [MB]      builds this file against a build tree and runs it under
 *                              callgrind, one count per phase
 *   VL_BENCH_FORMAT=1|2        the vault's format (default 2, what veilctl init makes)
 *
 * Every phase is a function named phase_*, so `valgrind --tool=callgrind
 * --toggle-collect='phase_*'` counts only the phases, not the vault's scrypt. Phases:
 *   seqwrite   MB MiB in 1 MiB writes to a new file (the writeback cache's request size)
 *   seqwrite128  the same in 128 KiB writes
 *   overwrite  4 KiB aligned overwrites at pseudo-random blocks (no growth)
 *   partial    100-byte writes at odd offsets (read-modify-write of one block)
 *   seqread    the file in 128 KiB reads
 *   randread   4 KiB reads at pseudo-random blocks
 *   keys       per-file key create/free (what every open of a new inode costs)
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../tests/unit/core_util.h"
#include "crypto/content.h"
#include "crypto/secmem.h"
#include "fs/fileio.h"

#define NOINLINE __attribute__((noinline))

static struct vl_vault *v;
static uint8_t *buf;
static size_t mb = 16;
static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void die(const char *what, long r)
{
	fprintf(stderr, "hotpath: %s: %ld\n", what, r);
	exit(1);
}

/* A new file name in the vault's root, made as the library makes it (format 2: its header and
 * empty block); *c receives its content object. */
static int new_file(const char *name, struct vl_content **c)
{
	return tc_root_file(v, name, c);
}

static void do_seqwrite(struct vl_content *c, int fd, size_t chunk)
{
	for (uint64_t off = 0; off < (uint64_t)mb << 20; off += chunk) {
		ssize_t n = vl_content_write(c, fd, buf, chunk, off);

		if (n != (ssize_t)chunk)
			die("write", (long)n);
	}
}

static NOINLINE void phase_seqwrite(struct vl_content *c, int fd)
{
	do_seqwrite(c, fd, 1 << 20);
}

static NOINLINE void phase_seqwrite128(struct vl_content *c, int fd)
{
	do_seqwrite(c, fd, 128 << 10);
}

static NOINLINE void phase_overwrite(struct vl_content *c, int fd, int count)
{
	uint64_t nblk = ((uint64_t)mb << 20) / 4096;

	for (int i = 0; i < count; i++) {
		ssize_t n = vl_content_write(c, fd, buf, 4096, next() % nblk * 4096);

		if (n != 4096)
			die("overwrite", (long)n);
	}
}

static NOINLINE void phase_partial(struct vl_content *c, int fd, int count)
{
	uint64_t size = (uint64_t)mb << 20;

	for (int i = 0; i < count; i++) {
		ssize_t n = vl_content_write(c, fd, buf, 100, next() % (size - 100));

		if (n != 100)
			die("partial", (long)n);
	}
}

static NOINLINE void phase_seqread(struct vl_content *c, int fd)
{
	for (uint64_t off = 0; off < (uint64_t)mb << 20; off += 128 << 10) {
		ssize_t n = vl_content_read(c, fd, buf, 128 << 10, off);

		if (n != 128 << 10)
			die("read", (long)n);
	}
}

static NOINLINE void phase_randread(struct vl_content *c, int fd, int count)
{
	uint64_t nblk = ((uint64_t)mb << 20) / 4096;

	for (int i = 0; i < count; i++) {
		ssize_t n = vl_content_read(c, fd, buf, 4096, next() % nblk * 4096);

		if (n != 4096)
			die("randread", (long)n);
	}
}

static NOINLINE void phase_keys(int count)
{
	uint8_t id[VL_FILEID_LEN] = { 0 };

	for (int i = 0; i < count; i++) {
		struct vl_filekey *fk;

		memcpy(id, &i, sizeof(i));
		if (vl_filekey_new(&fk, vl_vault_keys(v), VL_STREAM_CONTENT, id) != 0)
			die("filekey", 0);
		vl_filekey_free(fk);
	}
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	char dir[PATH_MAX];
	struct vl_content *c = NULL;
	const char *only = argc > 2 ? argv[2] : NULL, *fmt = getenv("VL_BENCH_FORMAT");
	unsigned format = fmt && *fmt ? (unsigned)atoi(fmt) : VL_FORMAT_V2;
	double t;
	int fd;

	if (vl_crypto_init() != 0) /* first: libcrypto allocates in the secure pool */
		die("vl_crypto_init", 0);
	if (argc > 1)
		mb = (size_t)atol(argv[1]);
	if (mb < 1)
		mb = 1;
	if (format != VL_FORMAT_V1 && format != VL_FORMAT_V2)
		die("VL_BENCH_FORMAT must be 1 or 2", (long)format);
	v = tc_vault(dir, format, 4096, 255, NULL);
	printf("# format %u\n", format);
	buf = malloc(1 << 20);
	if (!buf)
		die("malloc", 0);
	memset(buf, 0x5a, 1 << 20);

#define RUN(name, call)                                                            \
	do {                                                                       \
		if (!only || strcmp(only, name) == 0) {                            \
			t = now();                                                 \
			call;                                                      \
			printf("%-12s %8.1f ms\n", name, (now() - t) * 1e3);       \
		}                                                                  \
	} while (0)

	fd = new_file("a", &c);
	RUN("seqwrite", phase_seqwrite(c, fd));
	vl_content_free(c);
	close(fd);
	fd = new_file("b", &c);
	RUN("seqwrite128", phase_seqwrite128(c, fd));
	if (only && strcmp(only, "seqwrite128") != 0)
		do_seqwrite(c, fd, 1 << 20); /* the file the other phases need */
	RUN("overwrite", phase_overwrite(c, fd, 2000));
	RUN("partial", phase_partial(c, fd, 2000));
	RUN("seqread", phase_seqread(c, fd));
	RUN("randread", phase_randread(c, fd, 2000));
	RUN("keys", phase_keys(2000));
	close(fd);
	vl_content_free(c);
	vl_vault_free(v);
	free(buf);
	tc_rmrf(dir);
	return 0;
}
