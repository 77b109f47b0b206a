/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fs/fileio.c against an in-memory model, and tamper cases through the content layer. */
#include "config.h"

#include "tap.h"
#include "core_util.h"

#include <pthread.h>
#include <sys/mount.h>
#include <time.h>

#include "crypto/content.h"
#include "crypto/secmem.h"
#include "fs/fileio.h"
#include "fs/log.h"

static int new_file(struct vl_vault *v, const char *name)
{
	int fd = openat(vl_vault_rootfd(v), name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

	if (fd < 0) {
		perror(name);
		exit(99);
	}
	return fd;
}

static uint64_t csize_of(int fd)
{
	struct stat st;

	return fstat(fd, &st) == 0 ? (uint64_t)st.st_size : UINT64_MAX;
}

/* Random writes, truncates and reads against a model buffer. Returns the number of
 * mismatches (diagnosed). */
static void model_run(uint32_t bs, uint64_t seed)
{
	const size_t cap = 6 * (size_t)bs + 123;
	uint8_t *model = calloc(1, cap), *buf = malloc(cap), *data = malloc(cap);
	char dir[PATH_MAX], name[64];
	struct vl_content *c = NULL;
	struct vl_vault *v;
	uint64_t s = seed, size = 0, psize;
	int fd, step, bad = 0;
	const int steps = 160;

	v = tc_vault(dir, bs, 220, NULL);
	snprintf(name, sizeof(name), "model-%u-%llu", bs, (unsigned long long)seed);
	fd = new_file(v, name);
	if (vl_content_new(&c, v, VL_STREAM_CONTENT) < 0)
		exit(99);
	for (step = 0; step < steps && !bad; step++) {
		unsigned op = (unsigned)(tc_rand(&s) % 10);
		uint64_t off, len;
		ssize_t n;
		size_t i;

		if (op < 5) { /* write */
			off = tc_rand(&s) % (cap - 1);
			len = 1 + tc_rand(&s) % (bs * 5 / 2);
			if (off + len > cap)
				len = cap - off;
			for (i = 0; i < len; i++)
				data[i] = (uint8_t)tc_rand(&s);
			n = vl_content_write(c, fd, data, len, off);
			if (n != (ssize_t)len) {
				diag("step %d: write(%llu, %llu) = %zd", step, (unsigned long long)off,
				     (unsigned long long)len, n);
				bad++;
				break;
			}
			if (off > size)
				memset(model + size, 0, off - size);
			memcpy(model + off, data, len);
			if (off + len > size)
				size = off + len;
		} else if (op < 7) { /* truncate */
			uint64_t ns = tc_rand(&s) % 4 == 0 ? (tc_rand(&s) % 3) * bs
							   : tc_rand(&s) % cap;
			int r = vl_content_truncate(c, fd, ns);

			if (r < 0) {
				diag("step %d: truncate(%llu) = %d", step, (unsigned long long)ns, r);
				bad++;
				break;
			}
			if (ns > size)
				memset(model + size, 0, ns - size);
			size = ns;
		} else if (op < 9) { /* read a random range */
			off = tc_rand(&s) % cap;
			len = tc_rand(&s) % (bs * 3);
			if (len > cap)
				len = cap;
			n = vl_content_read(c, fd, buf, len, off);
			uint64_t want = off >= size ? 0 : (size - off < len ? size - off : len);

			if (n != (ssize_t)want || (want && memcmp(buf, model + off, want))) {
				diag("step %d: read(%llu, %llu) = %zd, want %llu", step,
				     (unsigned long long)off, (unsigned long long)len, n,
				     (unsigned long long)want);
				bad++;
				break;
			}
		} else { /* forget the cached key: the header must be read back */
			vl_content_reset(c);
		}
		if (vl_content_size(v, fd, &psize) < 0 || psize != size) {
			diag("step %d: size %llu, want %llu", step, (unsigned long long)psize,
			     (unsigned long long)size);
			bad++;
		}
		if (csize_of(fd) != vl_cipher_size(size, bs) &&
		    !(size == 0 && csize_of(fd) == VL_HEADER_LEN)) {
			diag("step %d: ciphertext size %llu for plaintext %llu", step,
			     (unsigned long long)csize_of(fd), (unsigned long long)size);
			bad++;
		}
	}
	ok(!bad, "block %u seed %llu: %d random steps match the model", bs,
	   (unsigned long long)seed, step);

	/* The whole file read back by a fresh content state (cold key). */
	vl_content_free(c);
	c = NULL;
	if (vl_content_new(&c, v, VL_STREAM_CONTENT) < 0)
		exit(99);
	memset(buf, 0xaa, cap);
	ssize_t n = vl_content_read(c, fd, buf, cap, 0);
	ok(n == (ssize_t)size && !memcmp(buf, model, size),
	   "block %u seed %llu: whole file (%llu bytes) reads back", bs, (unsigned long long)seed,
	   (unsigned long long)size);

	vl_content_free(c);
	close(fd);
	vl_vault_free(v);
	tc_rmrf(dir);
	free(model);
	free(buf);
	free(data);
}

static void flip(int fd, uint64_t off)
{
	uint8_t b;

	if (pread(fd, &b, 1, (off_t)off) != 1)
		exit(99);
	b ^= 0x01;
	if (pwrite(fd, &b, 1, (off_t)off) != 1)
		exit(99);
}

static void copy_range(int from, uint64_t foff, int to, uint64_t toff, size_t len)
{
	uint8_t *b = malloc(len);

	if (!b || pread(from, b, len, (off_t)foff) != (ssize_t)len ||
	    pwrite(to, b, len, (off_t)toff) != (ssize_t)len)
		exit(99);
	free(b);
}

/* Reads block i (B bytes or less at the end) and says whether it matches plain. */
static ssize_t read_block(struct vl_content *c, int fd, uint32_t B, uint64_t i, const uint8_t *plain,
			  bool *same)
{
	uint8_t *b = malloc(B);
	ssize_t n = vl_content_read(c, fd, b, B, i * B);

	*same = n > 0 && !memcmp(b, plain + i * B, (size_t)n);
	free(b);
	return n;
}

static void tamper_tests(void)
{
	const uint32_t B = 4096;
	const uint64_t S = B + VL_BLOCK_OVERHEAD;
	const size_t size = 5 * B + 100; /* blocks 0..5, the last partial */
	uint8_t *plain = malloc(size);
	uint8_t scratch[16];
	char dir[PATH_MAX];
	struct vl_content *c = NULL, *c2 = NULL;
	uint8_t id[VL_FILEID_LEN], id2[VL_FILEID_LEN];
	struct vl_vault *v;
	uint64_t psize, s = 42;
	unsigned long sup;
	bool same;
	size_t i;
	int fd, fd2, r;

	for (i = 0; i < size; i++)
		plain[i] = (uint8_t)tc_rand(&s);
	v = tc_vault(dir, B, 220, NULL);
	fd = new_file(v, "a");
	fd2 = new_file(v, "b");
	if (vl_content_new(&c, v, VL_STREAM_CONTENT) < 0 || vl_content_new(&c2, v, VL_STREAM_CONTENT) < 0)
		exit(99);

	/* Header-only file: vl_content_file_id on an empty file. */
	ok(vl_content_file_id(c, fd, id) == 0 && csize_of(fd) == VL_HEADER_LEN,
	   "file_id of an empty file writes a 24-byte header");
	ok(vl_content_size(v, fd, &psize) == 0 && psize == 0, "header-only file has size 0");
	ok(vl_content_write(c, fd, plain, size, 0) == (ssize_t)size, "write 5 blocks + 100 bytes");
	vl_content_reset(c);
	ok(vl_content_file_id(c, fd, id2) == 0 && !memcmp(id, id2, sizeof(id)),
	   "file ID kept by the first write to a header-only file");
	ok(vl_content_write(c2, fd2, plain, size, 0) == (ssize_t)size, "write the same to file b");

	/* Flip one byte of block 2's ciphertext. */
	flip(fd, vl_block_offset(2, B) + VL_NONCE_LEN + 7);
	vl_content_reset(c);
	ok(read_block(c, fd, B, 2, plain, &same) == -EIO, "flipped byte in block 2: read EIO");
	ok(read_block(c, fd, B, 1, plain, &same) == B && same, "block 1 still reads");
	ok(read_block(c, fd, B, 3, plain, &same) == B && same, "block 3 still reads");
	ok(vl_content_read(c, fd, scratch, 10, 2 * B - 5) == -EIO,
	   "a read straddling blocks 1 and 2 fails");
	sup = vl_log_suppressed();
	ok(read_block(c, fd, B, 2, plain, &same) == -EIO && vl_log_suppressed() == sup + 1,
	   "second failure of block 2 counted, not logged again");
	{
		uint8_t x[10];
		ok(vl_content_write(c, fd, x, sizeof(x), 2 * B + 10) == -EIO,
		   "partial write into the corrupt block fails (no silent re-seal)");
	}
	flip(fd, vl_block_offset(2, B) + VL_NONCE_LEN + 7);
	ok(read_block(c, fd, B, 2, plain, &same) == B && same, "flipped back: block 2 reads");

	/* Flip the nonce and the tag. */
	flip(fd, vl_block_offset(4, B));
	ok(read_block(c, fd, B, 4, plain, &same) == -EIO, "flipped nonce: EIO");
	flip(fd, vl_block_offset(4, B));
	flip(fd, vl_block_offset(4, B) + S - 1);
	ok(read_block(c, fd, B, 4, plain, &same) == -EIO, "flipped tag: EIO");
	flip(fd, vl_block_offset(4, B) + S - 1);

	/* Header: wrong ID means every block fails; bad magic is EIO. */
	flip(fd, 8);
	vl_content_reset(c);
	ok(read_block(c, fd, B, 0, plain, &same) == -EIO, "flipped file ID: EIO");
	flip(fd, 8);
	flip(fd, 0);
	vl_content_reset(c);
	ok(read_block(c, fd, B, 0, plain, &same) == -EIO, "bad magic: EIO");
	flip(fd, 0);
	vl_content_reset(c);
	ok(read_block(c, fd, B, 0, plain, &same) == B && same, "header restored");

	/* Swap blocks 1 and 3 (same length). */
	{
		uint8_t *b1 = malloc(S), *b3 = malloc(S);

		if (pread(fd, b1, S, vl_block_offset(1, B)) != (ssize_t)S ||
		    pread(fd, b3, S, vl_block_offset(3, B)) != (ssize_t)S ||
		    pwrite(fd, b3, S, vl_block_offset(1, B)) != (ssize_t)S ||
		    pwrite(fd, b1, S, vl_block_offset(3, B)) != (ssize_t)S)
			exit(99);
		ok(read_block(c, fd, B, 1, plain, &same) == -EIO &&
			   read_block(c, fd, B, 3, plain, &same) == -EIO,
		   "swapped blocks 1 and 3: both EIO");
		if (pwrite(fd, b1, S, vl_block_offset(1, B)) != (ssize_t)S ||
		    pwrite(fd, b3, S, vl_block_offset(3, B)) != (ssize_t)S)
			exit(99);
		ok(read_block(c, fd, B, 1, plain, &same) == B && same, "swapped back");
		free(b1);
		free(b3);
	}

	/* Transplant block 1 of file b (same plaintext, other file ID) into file a. */
	{
		uint8_t *save = malloc(S);

		if (pread(fd, save, S, vl_block_offset(1, B)) != (ssize_t)S)
			exit(99);
		copy_range(fd2, vl_block_offset(1, B), fd, vl_block_offset(1, B), S);
		ok(read_block(c, fd, B, 1, plain, &same) == -EIO, "block transplanted from another file: EIO");
		if (pwrite(fd, save, S, vl_block_offset(1, B)) != (ssize_t)S)
			exit(99);
		free(save);
	}

	/* Append a copy of the final block after it: the old final block is no longer last. */
	{
		uint64_t cs = csize_of(fd);
		copy_range(fd, vl_block_offset(4, B), fd, cs, S);
		ok(vl_content_size(v, fd, &psize) == 0 && psize == 6 * B + 100 &&
			   read_block(c, fd, B, 5, plain, &same) == -EIO &&
			   read_block(c, fd, B, 6, plain, &same) == -EIO,
		   "block appended after the end: old final and appended block EIO");
		ok(read_block(c, fd, B, 4, plain, &same) == B && same, "block 4 still reads");
		if (ftruncate(fd, (off_t)cs) < 0)
			exit(99);
		ok(read_block(c, fd, B, 5, plain, &same) == 100 && same, "appended block removed");
	}

	/* Cut the ciphertext at a block boundary: the new last block has last = 0. */
	if (ftruncate(fd, (off_t)vl_block_offset(3, B)) < 0)
		exit(99);
	ok(vl_content_size(v, fd, &psize) == 0 && psize == 3 * B, "cut file shows 3 blocks");
	ok(read_block(c, fd, B, 2, plain, &same) == -EIO, "cut at a block boundary: last block EIO");
	ok(read_block(c, fd, B, 1, plain, &same) == B && same, "earlier blocks still read");

	/* Torn last block and torn header. */
	if (ftruncate(fd, (off_t)(vl_block_offset(2, B) + 10)) < 0)
		exit(99);
	ok(vl_content_size(v, fd, &psize) == -EIO, "torn block (10 bytes): size EIO");
	ok(vl_content_read(c, fd, scratch, 1, 0) == 1, "torn block: block 0 still reads");
	ok(vl_content_read(c, fd, scratch, 1, 2 * (uint64_t)B) == -EIO, "torn block: its read EIO");
	if (ftruncate(fd, 10) < 0)
		exit(99);
	vl_content_reset(c);
	ok(vl_content_size(v, fd, &psize) == -EIO, "torn header: size EIO");
	ok(vl_content_read(c, fd, scratch, 1, 0) == -EIO, "torn header: read EIO");
	ok(vl_content_write(c, fd, scratch, 1, 0) == -EIO, "torn header: write EIO");

	/* Truncate to 0 keeps the header and the file ID. */
	r = vl_content_file_id(c2, fd2, id);
	ok(r == 0 && vl_content_truncate(c2, fd2, 0) == 0 && csize_of(fd2) == VL_HEADER_LEN,
	   "truncate to 0 keeps the header");
	vl_content_reset(c2);
	ok(vl_content_file_id(c2, fd2, id2) == 0 && !memcmp(id, id2, sizeof(id)),
	   "file ID unchanged by truncate to 0");
	ok(vl_content_write(c2, fd2, plain, 3 * B, 0) == 3 * B && vl_content_truncate(c2, fd2, 2 * B) == 0 &&
		   read_block(c2, fd2, B, 1, plain, &same) == B && same,
	   "shrink to a block boundary re-seals the new last block");
	ok(vl_content_truncate(c2, fd2, 5 * B) == 0 && read_block(c2, fd2, B, 4, plain, &same) == B,
	   "grow writes zero blocks that authenticate");

	/* A regular file read with the object stream's keys fails (kind marker swap). */
	{
		struct vl_content *co = NULL;
		uint8_t b[16];

		if (vl_content_new(&co, v, VL_STREAM_OBJECT) < 0)
			exit(99);
		ok(vl_content_read(co, fd2, b, sizeof(b), 0) == -EIO, "content read as object: EIO");
		vl_content_free(co);
	}

	vl_content_free(c);
	vl_content_free(c2);
	close(fd);
	close(fd2);
	vl_vault_free(v);
	tc_rmrf(dir);
	free(plain);
}

/* A big write (larger than one batch) and a big grow, in one go. */
static void big_tests(void)
{
	const uint32_t B = 4096;
	const size_t size = (5u << 20) + 77;
	uint8_t *a = malloc(size), *b = malloc(size);
	struct vl_content *c = NULL;
	char dir[PATH_MAX];
	struct vl_vault *v;
	uint64_t s = 7;
	size_t i;
	int fd;

	for (i = 0; i < size; i++)
		a[i] = (uint8_t)tc_rand(&s);
	v = tc_vault(dir, B, 220, NULL);
	fd = new_file(v, "big");
	if (vl_content_new(&c, v, VL_STREAM_CONTENT) < 0)
		exit(99);
	ok(vl_content_write(c, fd, a, size, 3) == (ssize_t)size, "5 MiB write at offset 3");
	ok(vl_content_read(c, fd, b, size, 3) == (ssize_t)size && !memcmp(a, b, size), "reads back");
	ok(vl_content_truncate(c, fd, 11u << 20) == 0 &&
		   vl_content_read(c, fd, b, 1u << 20, 10u << 20) == (1 << 20),
	   "grow by 6 MiB reads back");
	memset(a, 0, 1u << 20);
	ok(!memcmp(a, b, 1u << 20), "grown part is zeros");
	vl_content_free(c);
	close(fd);
	vl_vault_free(v);
	tc_rmrf(dir);
	free(a);
	free(b);
}


/* Parallel reads on one vl_content with a cold key: the contract lets reads run together. */
struct preader {
	struct vl_content *c;
	int fd;
	const uint8_t *plain;
	size_t size;
	uint64_t seed;
	int bad;
};

static void *preader_run(void *arg)
{
	struct preader *p = arg;
	uint8_t *b = malloc(3 * 4096);
	int i;

	for (i = 0; i < 300; i++) {
		uint64_t off = tc_rand(&p->seed) % p->size;
		size_t len = (size_t)(tc_rand(&p->seed) % (3 * 4096));
		size_t want = off + len > p->size ? p->size - off : len;
		ssize_t n = vl_content_read(p->c, p->fd, b, len, off);

		if (n != (ssize_t)want || memcmp(b, p->plain + off, want))
			p->bad++;
	}
	free(b);
	return NULL;
}

static void parallel_reads(void)
{
	const size_t size = 20 * 4096 + 5;
	uint8_t *plain = malloc(size);
	struct preader pr[4];
	pthread_t th[4];
	struct vl_content *c = NULL;
	char dir[PATH_MAX];
	struct vl_vault *v;
	uint64_t s = 99;
	int fd, i, bad = 0, started = 0;

	for (size_t j = 0; j < size; j++)
		plain[j] = (uint8_t)tc_rand(&s);
	v = tc_vault(dir, 4096, 220, NULL);
	fd = new_file(v, "par");
	if (vl_content_new(&c, v, VL_STREAM_CONTENT) < 0 || vl_content_write(c, fd, plain, size, 0) != (ssize_t)size)
		exit(99);
	vl_content_reset(c); /* every thread races to load the key */
	for (i = 0; i < 4; i++) {
		pr[i] = (struct preader){ c, fd, plain, size, 1000 + (uint64_t)i, 0 };
		if (pthread_create(&th[i], NULL, preader_run, &pr[i]) == 0)
			started++;
	}
	for (i = 0; i < started; i++) {
		pthread_join(th[i], NULL);
		bad += pr[i].bad;
	}
	ok(started == 4 && bad == 0, "4 threads x 300 parallel reads on a cold key: all correct (%d bad)", bad);
	vl_content_free(c);
	close(fd);
	vl_vault_free(v);
	tc_rmrf(dir);
	free(plain);
}


/* ENOSPC on a small tmpfs: the file written so far stays whole and readable (space is
 * reserved before blocks are rewritten). Needs CAP_SYS_ADMIN for the mount; skipped
 * otherwise (reported as a TAP skip, never as a pass). */
static void enospc_test(void)
{
	const size_t chunk = 3000, cap = 1u << 20;
	uint8_t *model = malloc(cap), *back = malloc(cap);
	char mnt[PATH_MAX], dir[PATH_MAX + 16];
	struct vl_content *c = NULL;
	struct vl_vault *v = NULL;
	struct vl_config cfg;
	char err[256];
	uint8_t m[VL_MASTER_KEY_LEN];
	uint64_t s = 5, size = 0, psize;
	ssize_t n = 0;
	int fd;

	tc_tmpdir(mnt);
	if (mount("veilfs-test", mnt, "tmpfs", 0, "size=256k") < 0) {
		tap_run++;
		printf("ok %d # SKIP ENOSPC test: cannot mount a tmpfs (%s)\n", tap_run, strerror(errno));
		rmdir(mnt);
		free(model);
		free(back);
		return;
	}
	snprintf(dir, sizeof(dir), "%s/v", mnt);
	tc_cfg(&cfg, 4096, 220);
	if (mkdir(dir, 0700) < 0 ||
	    vl_vault_create(dir, NULL, &cfg, TC_PASSWORD, strlen(TC_PASSWORD), m, err, sizeof(err)) < 0 ||
	    vl_vault_open(&v, dir, NULL, TC_PASSWORD, strlen(TC_PASSWORD), err, sizeof(err)) < 0)
		exit(99);
	fd = new_file(v, "fill");
	if (vl_content_new(&c, v, VL_STREAM_CONTENT) < 0)
		exit(99);
	while (size + chunk <= cap) {
		for (size_t i = 0; i < chunk; i++)
			model[size + i] = (uint8_t)tc_rand(&s);
		n = vl_content_write(c, fd, model + size, chunk, size);
		if (n < 0)
			break;
		size += chunk;
	}
	ok(n == -ENOSPC, "writing until the tmpfs is full ends in ENOSPC (%zd after %llu bytes)", n,
	   (unsigned long long)size);
	ok(vl_content_size(v, fd, &psize) == 0 && psize == size, "size after ENOSPC is the last good size");
	vl_content_reset(c);
	ok(vl_content_read(c, fd, back, cap, 0) == (ssize_t)size && !memcmp(back, model, size),
	   "after ENOSPC the whole file reads back (no torn block)");
	vl_content_free(c);
	close(fd);
	vl_vault_free(v);
	if (umount2(mnt, MNT_DETACH) == 0)
		rmdir(mnt);
	free(model);
	free(back);
}

int main(void)
{
	static const uint32_t sizes[] = { 4096, 16384 };
	uint64_t seeds[3] = { 1, 0xdecafbad, 0 };
	const char *env = getenv("VL_TEST_SEED");
	size_t i, j;

	if (vl_crypto_init() != 0) /* first: libcrypto allocates in the secure pool */
		return 99;
	seeds[2] = env ? strtoull(env, NULL, 0) : (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	if (!seeds[2])
		seeds[2] = 1;
	diag("random seed %llu (replay with VL_TEST_SEED)", (unsigned long long)seeds[2]);
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		for (j = 0; j < 3; j++)
			model_run(sizes[i], seeds[j]);
	tamper_tests();
	big_tests();
	parallel_reads();
	enospc_test();
	return done_testing();
}
