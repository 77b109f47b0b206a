/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fsx: a model-based random file-system exerciser in the spirit of fsx(8).
 *
 * It applies the same random operations to a file set on the file system under test
 * (DIR_ON_MOUNT) and to a plain reference directory (REF_DIR_PLAIN), and compares the results
 * of every call (return value and errno), the size and full content of the touched file after
 * every step, and every `-c` steps the whole file set and both directory listings. The
 * reference directory is the model: any difference is a bug in the file system under test
 * (or in the reference file system, which is assumed to be right).
 *
 * Operations: writes at random offsets and sizes (block-straddling, exact blocks, far past
 * the end), O_APPEND writes, truncate up and down (by fd and by path), shared-mmap writes and
 * reads, reads, rename (new name, over another file, across directories, long names), hard
 * links, unlink (also of open files), fsync/fdatasync, close and reopen (O_APPEND, O_TRUNC),
 * fallocate, reads through a fresh fd, and renames of a directory holding open files.
 *
 * Every decision comes from one PRNG per thread seeded from -s, and is taken from the state of
 * the reference side only, so a run replays exactly from its seed (on empty directories).
 * With -t N, N threads each own a disjoint file set (DIR/fsx-SEED/tK) and all of them write
 * one shared file with pwrite at non-overlapping, block-unaligned ranges; that file is compared
 * after all threads finished.
 *
 * Exit status: 0 all equal, 1 a mismatch (the op log tail, the seed and the first differing
 * offset are printed), 2 usage or setup error.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#else
#define _GNU_SOURCE
#endif

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#define MAXSLOTS 32
#define LOGN 40
#define LOGLEN 240
#define NSIDES 2 /* 0: file system under test, 1: reference */
#define NDIRS 2	 /* 0: tK, 1: tK/sub */

static const char *side_name[NSIDES] = { "mount", "reference" };

/* Options; read-only once the threads run. */
static uint64_t opt_seed;
static uint64_t opt_ops = 10000;
static unsigned opt_threads = 1;
static unsigned opt_soak_secs; /* 0: no time limit */
static unsigned opt_slots = 8;
static uint64_t opt_maxsize = 192 * 1024;
static uint64_t opt_bs = 4096;
static unsigned opt_check = 50;
static bool opt_verbose;
static bool opt_nommap;
static bool opt_nolinks;
/* -2: format 2's rules (FORMAT.md §3.5): hard links only within one directory between short
 * names, and a file with several links keeps its directory and short name when renamed. */
static bool opt_v2links;
static char root[NSIDES][PATH_MAX]; /* DIR/fsx-SEED on each side */
static time_t t_start;

static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;

struct slot {
	bool named;		/* has a name in dir `dir` */
	int dir;
	char name[256];
	int fd[NSIDES];		/* -1 when closed; an open slot without a name is unlinked */
	bool append;		/* the fds were opened with O_APPEND */
};

struct ctx {
	unsigned id;
	uint64_t rng;
	uint64_t opno;
	uint64_t namegen;
	char dpath[NSIDES][NDIRS][PATH_MAX];
	int dfd[NSIDES][NDIRS];
	struct slot slot[MAXSLOTS];
	int shfd[NSIDES];
	uint64_t sh_lo, sh_hi; /* this thread's range of the shared file */
	char log[LOGN][LOGLEN];
	uint64_t nlog;
	unsigned char *buf;		/* write data */
	unsigned char *rbuf[NSIDES];	/* read-back buffers */
	size_t rcap;
};

/* splitmix64: tiny, good enough, and deterministic everywhere. */
static uint64_t rnd(struct ctx *c)
{
	uint64_t z = (c->rng += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint64_t rndn(struct ctx *c, uint64_t n)
{
	return n ? rnd(c) % n : 0;
}

static void logop(struct ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void logop(struct ctx *c, const char *fmt, ...)
{
	char *p = c->log[c->nlog % LOGN];
	int n = snprintf(p, LOGLEN, "t%u #%" PRIu64 ": ", c->id, c->opno);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(p + n, LOGLEN - (size_t)n, fmt, ap);
	va_end(ap);
	c->nlog++;
	if (opt_verbose) {
		pthread_mutex_lock(&out_lock);
		fprintf(stderr, "%s\n", p);
		pthread_mutex_unlock(&out_lock);
	}
}

static void fail(struct ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));
static void fail(struct ctx *c, const char *fmt, ...)
{
	va_list ap;
	uint64_t i = c->nlog > LOGN ? c->nlog - LOGN : 0;

	pthread_mutex_lock(&out_lock);
	fprintf(stderr, "fsx: MISMATCH in thread %u at op %" PRIu64 ": ", c->id, c->opno);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nfsx: last operations:\n");
	for (; i < c->nlog; i++)
		fprintf(stderr, "  %s\n", c->log[i % LOGN]);
	fprintf(stderr, "fsx: replay with: -s %" PRIu64 " -n %" PRIu64 " -t %u -N %u -m %" PRIu64
			" -b %" PRIu64 "%s%s%s (on empty directories)\n",
		opt_seed, opt_ops, opt_threads, opt_slots, opt_maxsize, opt_bs,
		opt_nommap ? " -M" : "", opt_nolinks ? " -L" : "", opt_v2links ? " -2" : "");
	fflush(stderr);
	_exit(1);
}

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&out_lock);
	fprintf(stderr, "fsx: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	_exit(2);
}

/* Compares the results of one call made on both sides. */
static void same_result(struct ctx *c, const char *what, const long r[NSIDES], const int e[NSIDES])
{
	if (r[0] == r[1] && (r[0] >= 0 || e[0] == e[1]))
		return;
	fail(c, "%s: mount returned %ld (%s), reference returned %ld (%s)", what, r[0],
	     r[0] < 0 ? strerror(e[0]) : "ok", r[1], r[1] < 0 ? strerror(e[1]) : "ok");
}

/* Like same_result for calls returning a descriptor: only success or errno must agree. */
static void same_status(struct ctx *c, const char *what, const long r[NSIDES], const int e[NSIDES])
{
	long n[NSIDES] = { r[0] < 0 ? r[0] : 0, r[1] < 0 ? r[1] : 0 };

	same_result(c, what, n, e);
}

static void ensure_rbuf(struct ctx *c, size_t n)
{
	int s;

	if (n <= c->rcap)
		return;
	for (s = 0; s < NSIDES; s++) {
		free(c->rbuf[s]);
		c->rbuf[s] = malloc(n);
		if (!c->rbuf[s])
			die("out of memory");
	}
	c->rcap = n;
}

/* Fills len bytes with data unique to this op, so misplaced data shows up. */
static void fill(struct ctx *c, size_t len)
{
	uint64_t x = rnd(c);
	size_t i;

	for (i = 0; i < len; i++) {
		if (i % 8 == 0) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
		}
		c->buf[i] = (unsigned char)(x >> (8 * (i % 8)));
	}
	/* An all-zero block must not hide a missing write. */
	if (len && c->buf[0] == 0)
		c->buf[0] = 0xa5;
}

/* Reads a whole file through fd into buf (cap bytes). Returns bytes read or -errno. */
static long read_all(int fd, unsigned char *buf, size_t cap)
{
	size_t got = 0;

	while (got < cap) {
		ssize_t n = pread(fd, buf + got, cap - got, (off_t)got);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (long)got;
}

static void slot_path(struct ctx *c, int s, const struct slot *sl, char *out, size_t cap)
{
	snprintf(out, cap, "%s/%s", c->dpath[s][sl->dir], sl->name);
}

/* fstat of the slot on side s: through its fd if open, else through its name. */
static int slot_stat(struct ctx *c, int s, const struct slot *sl, struct stat *st)
{
	if (sl->fd[s] >= 0)
		return fstat(sl->fd[s], st) ? -errno : 0;
	return fstatat(c->dfd[s][sl->dir], sl->name, st, AT_SYMLINK_NOFOLLOW) ? -errno : 0;
}

/* Plaintext size on the reference side (decisions depend only on the reference). */
static uint64_t ref_size(struct ctx *c, const struct slot *sl)
{
	struct stat st;
	int r = slot_stat(c, 1, sl, &st);

	if (r)
		fail(c, "stat of reference slot '%s' failed: %s", sl->name, strerror(-r));
	return (uint64_t)st.st_size;
}

static void compare_bytes(struct ctx *c, const char *what, const unsigned char *a,
			  const unsigned char *b, size_t len, uint64_t base)
{
	size_t i;

	if (!memcmp(a, b, len))
		return;
	for (i = 0; i < len && a[i] == b[i]; i++)
		;
	fail(c, "%s: content differs at offset %" PRIu64 " (block %" PRIu64 " + %" PRIu64
		"): mount has 0x%02x, reference 0x%02x",
	     what, base + i, (base + i) / opt_bs, (base + i) % opt_bs, a[i], b[i]);
}

/* Compares type, size, link count and full content of a slot's file on both sides. */
static void compare_slot(struct ctx *c, struct slot *sl, const char *why)
{
	struct stat st[NSIDES];
	int fd[NSIDES] = { -1, -1 };
	long n[NSIDES];
	int s, r;
	char what[400];

	if (!sl->named && sl->fd[0] < 0)
		return;
	snprintf(what, sizeof(what), "%s: file '%s'%s", why, sl->named ? sl->name : "?",
		 sl->named ? "" : " (unlinked, open)");
	for (s = 0; s < NSIDES; s++) {
		r = slot_stat(c, s, sl, &st[s]);
		if (r)
			fail(c, "%s: stat on the %s failed: %s", what, side_name[s], strerror(-r));
	}
	if ((st[0].st_mode & S_IFMT) != (st[1].st_mode & S_IFMT))
		fail(c, "%s: type differs (mount 0%o, reference 0%o)", what, st[0].st_mode & S_IFMT,
		     st[1].st_mode & S_IFMT);
	if (st[0].st_size != st[1].st_size)
		fail(c, "%s: size differs: mount %lld, reference %lld", what, (long long)st[0].st_size,
		     (long long)st[1].st_size);
	if (st[0].st_nlink != st[1].st_nlink)
		fail(c, "%s: link count differs: mount %lu, reference %lu", what,
		     (unsigned long)st[0].st_nlink, (unsigned long)st[1].st_nlink);
	ensure_rbuf(c, (size_t)st[1].st_size + 1);
	for (s = 0; s < NSIDES; s++) {
		if (sl->fd[s] >= 0) {
			fd[s] = sl->fd[s];
		} else {
			fd[s] = openat(c->dfd[s][sl->dir], sl->name, O_RDONLY | O_CLOEXEC);
			if (fd[s] < 0)
				fail(c, "%s: open for reading on the %s failed: %s", what, side_name[s],
				     strerror(errno));
		}
		/* One byte more than the size: a file longer than it says shows up. */
		n[s] = read_all(fd[s], c->rbuf[s], (size_t)st[1].st_size + 1);
		if (fd[s] != sl->fd[s])
			close(fd[s]);
		if (n[s] < 0)
			fail(c, "%s: read on the %s failed: %s", what, side_name[s], strerror((int)-n[s]));
	}
	if (n[0] != n[1])
		fail(c, "%s: read returned %ld bytes on the mount, %ld on the reference", what, n[0],
		     n[1]);
	compare_bytes(c, what, c->rbuf[0], c->rbuf[1], (size_t)n[0], 0);
}

static int cmpstr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted listing of path (without . and ..). Returns the count; *out is malloc'd. */
static size_t list_dir(struct ctx *c, const char *path, char ***out)
{
	DIR *d = opendir(path);
	struct dirent *de;
	char **v = NULL;
	size_t n = 0, cap = 0;

	if (!d)
		fail(c, "opendir %s: %s", path, strerror(errno));
	errno = 0;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 32;
			v = realloc(v, cap * sizeof(*v));
			if (!v)
				die("out of memory");
		}
		v[n] = strdup(de->d_name);
		if (!v[n])
			die("out of memory");
		n++;
	}
	if (errno)
		fail(c, "readdir %s: %s", path, strerror(errno));
	closedir(d);
	if (n)
		qsort(v, n, sizeof(*v), cmpstr);
	*out = v;
	return n;
}

static void free_list(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void compare_listing(struct ctx *c, int dir)
{
	char **a, **b;
	size_t na = list_dir(c, c->dpath[0][dir], &a);
	size_t nb = list_dir(c, c->dpath[1][dir], &b);
	size_t i;

	for (i = 0; i < na && i < nb; i++)
		if (strcmp(a[i], b[i]))
			fail(c, "listing of %s differs: mount has '%s' where reference has '%s'",
			     c->dpath[0][dir], a[i], b[i]);
	if (na != nb)
		fail(c, "listing of %s differs: mount has %zu entries, reference %zu (first extra: '%s')",
		     c->dpath[0][dir], na, nb, na > nb ? a[nb] : b[na]);
	free_list(a, na);
	free_list(b, nb);
}

static void compare_all(struct ctx *c, const char *why)
{
	unsigned i;

	for (i = 0; i < opt_slots; i++)
		compare_slot(c, &c->slot[i], why);
	compare_listing(c, 0);
	compare_listing(c, 1);
}

/* A fresh name: short, long (long-name path of the mount), or with UTF-8 and spaces. */
static void make_name_kind(struct ctx *c, unsigned i, char *out, uint64_t kind)
{
	int n;

	c->namegen++;
	if (kind == 0) {
		n = snprintf(out, 256, "f%u.%" PRIu64 " caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac", i,
			     c->namegen);
	} else if (kind <= 2) {
		size_t want = 100 + (size_t)rndn(c, 156); /* 100..255 bytes */

		n = snprintf(out, 256, "f%u.%" PRIu64 "-", i, c->namegen);
		while ((size_t)n < want) {
			out[n] = (char)('a' + (n % 26));
			n++;
		}
		out[n] = '\0';
	} else {
		n = snprintf(out, 256, "f%u.%" PRIu64, i, c->namegen);
	}
	(void)n;
}

static void make_name(struct ctx *c, unsigned i, char *out)
{
	make_name_kind(c, i, out, rndn(c, 8));
}

/* A name that is short on disk in every format (under 100 bytes). */
static void make_short_name(struct ctx *c, unsigned i, char *out)
{
	make_name_kind(c, i, out, rndn(c, 2) ? 0 : 3);
}

static bool short_name(const char *name)
{
	return strlen(name) < 100;
}

static void close_slot(struct ctx *c, struct slot *sl)
{
	long r[NSIDES];
	int e[NSIDES], s;

	if (sl->fd[0] < 0)
		return;
	for (s = 0; s < NSIDES; s++) {
		errno = 0;
		r[s] = close(sl->fd[s]);
		e[s] = errno;
		sl->fd[s] = -1;
	}
	same_result(c, "close", r, e);
}

static void open_slot(struct ctx *c, struct slot *sl, int extra)
{
	long r[NSIDES];
	int e[NSIDES], s;

	for (s = 0; s < NSIDES; s++) {
		errno = 0;
		r[s] = openat(c->dfd[s][sl->dir], sl->name, O_RDWR | O_CLOEXEC | extra, 0644);
		e[s] = errno;
	}
	same_status(c, "open", r, e);
	if (r[0] < 0)
		fail(c, "open of '%s' failed on both sides: %s", sl->name, strerror(e[0]));
	for (s = 0; s < NSIDES; s++)
		sl->fd[s] = (int)r[s];
	sl->append = (extra & O_APPEND) != 0;
}

/* Makes sure the slot holds a file with fds open; creates it when the slot is empty. */
static void need_open(struct ctx *c, unsigned i)
{
	struct slot *sl = &c->slot[i];

	if (sl->fd[0] >= 0)
		return;
	if (!sl->named) {
		sl->dir = (int)rndn(c, 4) == 0;
		make_name(c, i, sl->name);
		logop(c, "create slot %u dir %d '%s'", i, sl->dir, sl->name);
		open_slot(c, sl, O_CREAT | O_EXCL);
		sl->named = true;
		return;
	}
	logop(c, "open slot %u '%s'", i, sl->name);
	open_slot(c, sl, 0);
}

static void do_pwrite(struct ctx *c, struct slot *sl, size_t len, uint64_t off, const char *what)
{
	long r[NSIDES];
	int e[NSIDES], s;

	for (s = 0; s < NSIDES; s++) {
		errno = 0;
		r[s] = pwrite(sl->fd[s], c->buf, len, (off_t)off);
		e[s] = errno;
	}
	same_result(c, what, r, e);
}

static void op_write(struct ctx *c, unsigned i)
{
	struct slot *sl = &c->slot[i];
	uint64_t size, off, len, k, max = opt_maxsize;

	need_open(c, i);
	size = ref_size(c, sl);
	switch (rndn(c, 10)) {
	case 0: case 1: case 2: case 3: /* anywhere in or just past the file */
		off = rndn(c, size + 1);
		len = 1 + rndn(c, 3 * opt_bs);
		break;
	case 4: case 5: /* straddling a block boundary */
		k = 1 + rndn(c, max / opt_bs);
		off = k * opt_bs - 1 - rndn(c, 64);
		len = 2 + rndn(c, 128);
		break;
	case 6: /* far past the end */
		off = size + rndn(c, max > size ? max - size + 1 : 1);
		len = 1 + rndn(c, opt_bs);
		break;
	case 7: /* exact blocks */
		off = rndn(c, max / opt_bs) * opt_bs;
		len = opt_bs * (1 + rndn(c, 2));
		break;
	case 8: /* tiny */
		off = rndn(c, max);
		len = 1 + rndn(c, 16);
		break;
	default: /* large */
		off = rndn(c, max / 2);
		len = 1 + rndn(c, max / 2);
		break;
	}
	if (off > max)
		off = max;
	if (off + len > max + opt_bs)
		len = max + opt_bs - off;
	fill(c, (size_t)len);
	if (sl->append) {
		/* Linux pwrite on an O_APPEND fd appends; say so in the log instead of relying on it. */
		long r[NSIDES];
		int e[NSIDES], s;

		logop(c, "append-write slot %u '%s' len %" PRIu64 " (size %" PRIu64 ")", i, sl->name,
		      len, size);
		for (s = 0; s < NSIDES; s++) {
			errno = 0;
			r[s] = write(sl->fd[s], c->buf, (size_t)len);
			e[s] = errno;
		}
		same_result(c, "write (O_APPEND)", r, e);
		return;
	}
	logop(c, "write slot %u '%s' off %" PRIu64 " len %" PRIu64 " (size %" PRIu64 ")", i, sl->name,
	      off, len, size);
	do_pwrite(c, sl, (size_t)len, off, "pwrite");
}

/* An O_APPEND write through a second, short-lived fd. */
static void op_append(struct ctx *c, unsigned i)
{
	struct slot *sl = &c->slot[i];
	long r[NSIDES];
	int e[NSIDES], fd[NSIDES], s;
	uint64_t size, len;

	if (!sl->named) {
		op_write(c, i);
		return;
	}
	size = ref_size(c, sl);
	if (size >= opt_maxsize) {
		op_write(c, i);
		return;
	}
	len = 1 + rndn(c, rndn(c, 2) ? 64 : 2 * opt_bs);
	fill(c, (size_t)len);
	logop(c, "append slot %u '%s' len %" PRIu64 " (size %" PRIu64 ") via O_WRONLY|O_APPEND fd", i,
	      sl->name, len, size);
	for (s = 0; s < NSIDES; s++) {
		errno = 0;
		fd[s] = openat(c->dfd[s][sl->dir], sl->name, O_WRONLY | O_APPEND | O_CLOEXEC);
		r[s] = fd[s];
		e[s] = errno;
	}
	same_status(c, "open O_WRONLY|O_APPEND", r, e);
	if (fd[0] < 0)
		return;
	for (s = 0; s < NSIDES; s++) {
		errno = 0;
		r[s] = write(fd[s], c->buf, (size_t)len);
		e[s] = errno;
	}
	same_result(c, "write (O_APPEND)", r, e);
	for (s = 0; s < NSIDES; s++) {
		errno = 0;
		r[s] = close(fd[s]);
		e[s] = errno;
	}
	same_result(c, "close", r, e);
}

static void op_read(struct ctx *c, unsigned i)
{
	struct slot *sl = &c->slot[i];
	uint64_t size, off, len;
	long r[NSIDES];
	int e[NSIDES], s;

	need_open(c, i);
	size = ref_size(c, sl);
	off = rndn(c, 8) ? rndn(c, size + 1) : rndn(c, size + 2 * opt_bs);
	len = 1 + rndn(c, rndn(c, 2) ? 3 * opt_bs : opt_maxsize);
	logop(c, "read slot %u '%s' off %" PRIu64 " len %" PRIu64 " (size %" PRIu64 ")", i, sl->name,
	      off, len, size);
	ensure_rbuf(c, (size_t)len);
	for (s = 0; s < NSIDES; s++) {
		errno = 0;
		r[s] = pread(sl->fd[s], c->rbuf[s], (size_t)len, (off_t)off);
		e[s] = errno;
	}
	same_result(c, "pread", r, e);
	if (r[0] > 0)
		compare_bytes(c, "pread", c->rbuf[0], c->rbuf[1], (size_t)r[0], off);
}

static void op_truncate(struct ctx *c, unsigned i)
{
	struct slot *sl = &c->slot[i];
	uint64_t size, ns;
	long r[NSIDES];
	int e[NSIDES], s;
	bool bypath;
	char path[PATH_MAX + 256];

	if (!sl->named)
		need_open(c, i);
	size = ref_size(c, sl);
	switch (rndn(c, 6)) {
	case 0:
		ns = 0;
		break;
	case 1: /* a block boundary */
		ns = rndn(c, opt_maxsize / opt_bs + 1) * opt_bs;
		break;
	case 2: case 3: /* down */
		ns = rndn(c, size + 1);
		break;
	default: /* up */
		ns = size + rndn(c, opt_maxsize > size ? opt_maxsize - size + 1 : 1);
		break;
	}
	bypath = sl->named && (sl->fd[0] < 0 || rndn(c, 2));
	logop(c, "truncate%s slot %u '%s' %" PRIu64 " -> %" PRIu64, bypath ? "(path)" : "(fd)", i,
	      sl->name, size, ns);
	for (s = 0; s < NSIDES; s++) {
		errno = 0;
		if (bypath) {
			slot_path(c, s, sl, path, sizeof(path));
			r[s] = truncate(path, (off_t)ns);
		} else {
			r[s] = ftruncate(sl->fd[s], (off_t)ns);
		}
		e[s] = errno;
	}
	same_result(c, bypath ? "truncate" : "ftruncate", r, e);
}

static void op_mmap(struct ctx *c, unsigned i, bool wr)
{
	struct slot *sl = &c->slot[i];
	uint64_t size, off, len;
	void *m[NSIDES];
	long r[NSIDES];
	int e[NSIDES], s;

	need_open(c, i);
	size = ref_size(c, sl);
	if (size == 0 || opt_nommap) {
		op_write(c, i);
		return;
	}
	off = rndn(c, size);
	len = 1 + rndn(c, size - off < 2 * opt_bs ? size - off : 2 * opt_bs);
	if (wr)
		fill(c, (size_t)len);
	logop(c, "mmap-%s slot %u '%s' off %" PRIu64 " len %" PRIu64 " (size %" PRIu64 ")",
	      wr ? "write" : "read", i, sl->name, off, len, size);
	for (s = 0; s < NSIDES; s++) {
		m[s] = mmap(NULL, (size_t)size, PROT_READ | (wr ? PROT_WRITE : 0), MAP_SHARED,
			    sl->fd[s], 0);
		r[s] = m[s] == MAP_FAILED ? -1 : 0;
		e[s] = errno;
	}
	same_result(c, "mmap", r, e);
	if (m[0] == MAP_FAILED)
		return;
	if (wr) {
		for (s = 0; s < NSIDES; s++) {
			memcpy((char *)m[s] + off, c->buf, (size_t)len);
			errno = 0;
			r[s] = msync(m[s], (size_t)size, MS_SYNC);
			e[s] = errno;
		}
		same_result(c, "msync", r, e);
	} else {
		compare_bytes(c, "mmap read", (unsigned char *)m[0] + off, (unsigned char *)m[1] + off,
			      (size_t)len, off);
	}
	for (s = 0; s < NSIDES; s++)
		munmap(m[s], (size_t)size);
}

/* Finds another named slot (not i), or -1. */
/* The link count of a named slot's file on the reference side (0 if it cannot be seen). */
static nlink_t slot_nlink(struct ctx *c, struct slot *sl)
{
	struct stat st;

	if (fstatat(c->dfd[1][sl->dir], sl->name, &st, AT_SYMLINK_NOFOLLOW))
		return 0;
	return st.st_nlink;
}

static int other_named(struct ctx *c, unsigned i)
{
	unsigned k, j = (unsigned)rndn(c, opt_slots);

	for (k = 0; k < opt_slots; k++, j = (j + 1) % opt_slots)
		if (j != i && c->slot[j].named)
			return (int)j;
	return -1;
}

/* Finds an empty slot (no name, no fd), or -1. */
static int empty_slot(struct ctx *c)
{
	unsigned k, j = (unsigned)rndn(c, opt_slots);

	for (k = 0; k < opt_slots; k++, j = (j + 1) % opt_slots)
		if (!c->slot[j].named && c->slot[j].fd[0] < 0)
			return (int)j;
	return -1;
}

/* The name of slot j went away (renamed over or unlinked). */
static void lose_name(struct slot *sl)
{
	sl->named = false;
}

static void op_rename(struct ctx *c, unsigned i)
{
	struct slot *sl = &c->slot[i];
	long r[NSIDES];
	int e[NSIDES], s, j = -1, ndir;
	char nname[256];
	struct stat a, b;

	if (!sl->named) {
		need_open(c, i);
		return;
	}
	if (rndn(c, 5) < 2)
		j = other_named(c, i);
	if (opt_v2links && slot_nlink(c, sl) > 1) {
		/* Format 2 refuses to move a file with several links (EXDEV, see t45). */
		if (j >= 0 && (c->slot[j].dir != sl->dir || !short_name(c->slot[j].name)))
			j = -1;
		ndir = sl->dir;
		if (j >= 0)
			memcpy(nname, c->slot[j].name, sizeof(nname));
		else
			make_short_name(c, i, nname);
	} else if (j >= 0) {
		ndir = c->slot[j].dir;
		memcpy(nname, c->slot[j].name, sizeof(nname));
	} else {
		ndir = (int)rndn(c, 2);
		make_name(c, i, nname);
	}
	logop(c, "rename slot %u '%s' (dir %d) -> %s'%s' (dir %d)", i, sl->name, sl->dir,
	      j >= 0 ? "over existing " : "", nname, ndir);
	for (s = 0; s < NSIDES; s++) {
		errno = 0;
		r[s] = renameat(c->dfd[s][sl->dir], sl->name, c->dfd[s][ndir], nname);
		e[s] = errno;
	}
	same_result(c, "rename", r, e);
	if (r[1] < 0)
		return;
	if (j >= 0) {
		/* rename between two links of one file does nothing (POSIX). */
		if (!fstatat(c->dfd[1][sl->dir], sl->name, &a, AT_SYMLINK_NOFOLLOW) &&
		    !fstatat(c->dfd[1][ndir], nname, &b, AT_SYMLINK_NOFOLLOW) && a.st_ino == b.st_ino)
			return;
		lose_name(&c->slot[j]);
	}
	sl->dir = ndir;
	memcpy(sl->name, nname, sizeof(nname));
}

static void op_link(struct ctx *c, unsigned i)
{
	struct slot *sl = &c->slot[i];
	long r[NSIDES];
	int e[NSIDES], s, j;
	struct slot *t;

	j = opt_nolinks ? -1 : empty_slot(c);
	if (!sl->named || j < 0 || (opt_v2links && !short_name(sl->name))) {
		op_write(c, i);
		return;
	}
	t = &c->slot[j];
	if (opt_v2links) {
		t->dir = sl->dir;
		make_short_name(c, (unsigned)j, t->name);
	} else {
		t->dir = (int)rndn(c, 2);
		make_name(c, (unsigned)j, t->name);
	}
	logop(c, "link slot %u '%s' -> slot %d '%s' (dir %d)", i, sl->name, j, t->name, t->dir);
	for (s = 0; s < NSIDES; s++) {
		errno = 0;
		r[s] = linkat(c->dfd[s][sl->dir], sl->name, c->dfd[s][t->dir], t->name, 0);
		e[s] = errno;
	}
	same_result(c, "link", r, e);
	t->named = true;
	compare_slot(c, t, "after link");
}

static void op_unlink(struct ctx *c, unsigned i)
{
	struct slot *sl = &c->slot[i];
	long r[NSIDES];
	int e[NSIDES], s;

	if (!sl->named) {
		need_open(c, i);
		return;
	}
	/* Half of the time the file stays open and is used while unlinked. */
	if (rndn(c, 2))
		close_slot(c, sl);
	logop(c, "unlink slot %u '%s'%s", i, sl->name, sl->fd[0] >= 0 ? " (still open)" : "");
	for (s = 0; s < NSIDES; s++) {
		errno = 0;
		r[s] = unlinkat(c->dfd[s][sl->dir], sl->name, 0);
		e[s] = errno;
	}
	same_result(c, "unlink", r, e);
	lose_name(sl);
}

static void op_sync(struct ctx *c, unsigned i)
{
	struct slot *sl = &c->slot[i];
	long r[NSIDES];
	int e[NSIDES], s;
	bool data = rndn(c, 2);

	need_open(c, i);
	logop(c, "%s slot %u '%s'", data ? "fdatasync" : "fsync", i, sl->name);
	for (s = 0; s < NSIDES; s++) {
		errno = 0;
		r[s] = data ? fdatasync(sl->fd[s]) : fsync(sl->fd[s]);
		e[s] = errno;
	}
	same_result(c, data ? "fdatasync" : "fsync", r, e);
}

static void op_reopen(struct ctx *c, unsigned i)
{
	struct slot *sl = &c->slot[i];
	int extra = 0;

	if (sl->fd[0] >= 0) {
		logop(c, "close slot %u '%s'", i, sl->named ? sl->name : "(unlinked)");
		close_slot(c, sl);
	}
	if (!sl->named)
		return; /* an unlinked file is gone now; the slot is empty */
	if (!rndn(c, 4))
		extra |= O_APPEND;
	if (!rndn(c, 12))
		extra |= O_TRUNC;
	logop(c, "reopen slot %u '%s'%s%s", i, sl->name, extra & O_APPEND ? " O_APPEND" : "",
	      extra & O_TRUNC ? " O_TRUNC" : "");
	open_slot(c, sl, extra);
}

/* fallocate mode 0: may grow the file, never changes data. */
static void op_fallocate(struct ctx *c, unsigned i)
{
	struct slot *sl = &c->slot[i];
	uint64_t size, off, len;
	long r[NSIDES];
	int e[NSIDES], s;

	need_open(c, i);
	size = ref_size(c, sl);
	off = rndn(c, size + opt_bs);
	len = 1 + rndn(c, 2 * opt_bs);
	if (off + len > opt_maxsize + opt_bs) {
		off = rndn(c, size + 1);
		len = 1;
	}
	logop(c, "fallocate slot %u '%s' off %" PRIu64 " len %" PRIu64 " (size %" PRIu64 ")", i,
	      sl->name, off, len, size);
	for (s = 0; s < NSIDES; s++) {
		errno = 0;
		r[s] = fallocate(sl->fd[s], 0, (off_t)off, (off_t)len);
		e[s] = errno;
	}
	same_result(c, "fallocate", r, e);
}

/* A read through a second, freshly opened fd: what one fd wrote, another must see. */
static void op_fresh_read(struct ctx *c, unsigned i)
{
	struct slot *sl = &c->slot[i];
	uint64_t size, off, len;
	long r[NSIDES];
	int e[NSIDES], fd[NSIDES], s;

	if (!sl->named) {
		op_read(c, i);
		return;
	}
	size = ref_size(c, sl);
	off = rndn(c, size + 1);
	len = 1 + rndn(c, 4 * opt_bs);
	logop(c, "read via a new fd slot %u '%s' off %" PRIu64 " len %" PRIu64 " (size %" PRIu64 ")",
	      i, sl->name, off, len, size);
	for (s = 0; s < NSIDES; s++) {
		errno = 0;
		fd[s] = openat(c->dfd[s][sl->dir], sl->name, O_RDONLY | O_CLOEXEC);
		r[s] = fd[s];
		e[s] = errno;
	}
	same_status(c, "open O_RDONLY", r, e);
	if (fd[0] < 0)
		return;
	ensure_rbuf(c, (size_t)len);
	for (s = 0; s < NSIDES; s++) {
		errno = 0;
		r[s] = pread(fd[s], c->rbuf[s], (size_t)len, (off_t)off);
		e[s] = errno;
		close(fd[s]);
	}
	same_result(c, "pread (new fd)", r, e);
	if (r[0] > 0)
		compare_bytes(c, "pread (new fd)", c->rbuf[0], c->rbuf[1], (size_t)r[0], off);
}

/* Renames the subdirectory while files in it may be open; the dir fds follow it. */
static void op_dir_rename(struct ctx *c)
{
	char np[NSIDES][PATH_MAX];
	long r[NSIDES];
	int e[NSIDES], s;
	char nm[64];

	c->namegen++;
	snprintf(nm, sizeof(nm), "sub.%" PRIu64, c->namegen);
	logop(c, "rename directory %s -> %s", strrchr(c->dpath[1][1], '/') + 1, nm);
	for (s = 0; s < NSIDES; s++) {
		if ((size_t)snprintf(np[s], PATH_MAX, "%s/%s", c->dpath[s][0], nm) >= PATH_MAX)
			die("path too long");
		errno = 0;
		r[s] = rename(c->dpath[s][1], np[s]);
		e[s] = errno;
	}
	same_result(c, "rename (directory)", r, e);
	if (r[0] < 0)
		return;
	for (s = 0; s < NSIDES; s++)
		memcpy(c->dpath[s][1], np[s], PATH_MAX);
	compare_listing(c, 0);
	compare_listing(c, 1);
}

static void op_shared(struct ctx *c)
{
	uint64_t span = c->sh_hi - c->sh_lo, off, len;
	long r[NSIDES];
	int e[NSIDES], s;

	off = c->sh_lo + rndn(c, span);
	len = 1 + rndn(c, c->sh_hi - off);
	if (len > 3 * opt_bs)
		len = 1 + rndn(c, 3 * opt_bs);
	fill(c, (size_t)len);
	logop(c, "shared pwrite off %" PRIu64 " len %" PRIu64, off, len);
	for (s = 0; s < NSIDES; s++) {
		errno = 0;
		r[s] = pwrite(c->shfd[s], c->buf, (size_t)len, (off_t)off);
		e[s] = errno;
	}
	same_result(c, "pwrite (shared file)", r, e);
}

static bool time_up(void)
{
	return opt_soak_secs && time(NULL) - t_start >= (time_t)opt_soak_secs;
}

static void *run(void *arg)
{
	struct ctx *c = arg;
	unsigned i, w;

	for (c->opno = 1; !opt_ops || c->opno <= opt_ops; c->opno++) {
		if ((c->opno & 63) == 0 && time_up())
			break;
		i = (unsigned)rndn(c, opt_slots);
		w = (unsigned)rndn(c, 100);
		if (w < 26)
			op_write(c, i);
		else if (w < 38)
			op_read(c, i);
		else if (w < 44)
			op_append(c, i);
		else if (w < 53)
			op_truncate(c, i);
		else if (w < 58)
			op_mmap(c, i, true);
		else if (w < 61)
			op_mmap(c, i, false);
		else if (w < 67)
			op_rename(c, i);
		else if (w < 71)
			op_link(c, i);
		else if (w < 75)
			op_unlink(c, i);
		else if (w < 79)
			op_sync(c, i);
		else if (w < 86)
			op_reopen(c, i);
		else if (w < 88)
			op_fallocate(c, i);
		else if (w < 91)
			op_fresh_read(c, i);
		else if (w < 92) {
			op_dir_rename(c);
			continue;
		} else if (w < 95) {
			op_shared(c);
			continue;
		} else if (w < 96) {
			unsigned k;

			logop(c, "close all");
			for (k = 0; k < opt_slots; k++)
				close_slot(c, &c->slot[k]);
			compare_all(c, "after close all");
			continue;
		} else {
			need_open(c, i);
		}
		compare_slot(c, &c->slot[i], "after op");
		if (opt_check && c->opno % opt_check == 0)
			compare_all(c, "periodic check");
		if (opt_verbose && c->opno % 1000 == 0) {
			pthread_mutex_lock(&out_lock);
			fprintf(stderr, "fsx: thread %u: %" PRIu64 " ops\n", c->id, c->opno);
			pthread_mutex_unlock(&out_lock);
		}
	}
	compare_all(c, "final check");
	for (i = 0; i < opt_slots; i++)
		close_slot(c, &c->slot[i]);
	compare_all(c, "final check after close");
	c->opno--;
	return NULL;
}

static int mkdir_p1(const char *p)
{
	return mkdir(p, 0755) && errno != EEXIST ? -errno : 0;
}

static void setup_ctx(struct ctx *c, unsigned id)
{
	int s, d, r;
	unsigned i;
	uint64_t region;

	memset(c, 0, sizeof(*c));
	c->id = id;
	c->rng = opt_seed * 0x2545f4914f6cdd1dull + id + 1;
	for (s = 0; s < NSIDES; s++) {
		if ((size_t)snprintf(c->dpath[s][0], PATH_MAX, "%s/t%u", root[s], id) >= PATH_MAX ||
		    (size_t)snprintf(c->dpath[s][1], PATH_MAX, "%s/t%u/sub", root[s], id) >= PATH_MAX)
			die("path too long");
		for (d = 0; d < NDIRS; d++) {
			r = mkdir_p1(c->dpath[s][d]);
			if (r)
				die("mkdir %s: %s", c->dpath[s][d], strerror(-r));
			c->dfd[s][d] = open(c->dpath[s][d], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			if (c->dfd[s][d] < 0)
				die("open %s: %s", c->dpath[s][d], strerror(errno));
		}
	}
	for (i = 0; i < MAXSLOTS; i++)
		c->slot[i].fd[0] = c->slot[i].fd[1] = -1;
	c->buf = malloc((size_t)(opt_maxsize + 2 * opt_bs));
	if (!c->buf)
		die("out of memory");
	ensure_rbuf(c, (size_t)(opt_maxsize + 4 * opt_bs));
	/* Unaligned, non-overlapping ranges of the shared file: neighbours share blocks. */
	region = 3 * opt_bs + 1237;
	c->sh_lo = id * region;
	c->sh_hi = c->sh_lo + region;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: fsx [-s SEED] [-n OPS] [-t THREADS] [-S SECONDS] [-N SLOTS] [-m MAXSIZE]\n"
		"           [-b BLOCKSIZE] [-c CHECKEVERY] [-M] [-L] [-2] [-v] DIR_ON_MOUNT REF_DIR_PLAIN\n"
		"  -n 0 runs until the time limit -S (0: none) or until killed (soak).\n"
		"  -M: no mmap operations. -L: no hard links (veilfs --sharedstorage refuses them).\n"
		"  -2: format 2's link rules: links within one directory between short names only,\n"
		"      and a file with several links is renamed within its directory only.\n");
	exit(2);
}

static uint64_t num(const char *s)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s || *end)
		usage();
	return (uint64_t)v;
}

int main(int argc, char **argv)
{
	int o, s;
	unsigned t;
	struct ctx *ctxs;
	pthread_t *tids;
	bool have_seed = false;
	char base[NSIDES][PATH_MAX];
	uint64_t total = 0;

	while ((o = getopt(argc, argv, "s:n:t:S:N:m:b:c:ML2v")) != -1) {
		switch (o) {
		case 's': opt_seed = num(optarg); have_seed = true; break;
		case 'n': opt_ops = num(optarg); break;
		case 't': opt_threads = (unsigned)num(optarg); break;
		case 'S': opt_soak_secs = (unsigned)num(optarg); break;
		case 'N': opt_slots = (unsigned)num(optarg); break;
		case 'm': opt_maxsize = num(optarg); break;
		case 'b': opt_bs = num(optarg); break;
		case 'c': opt_check = (unsigned)num(optarg); break;
		case 'M': opt_nommap = true; break;
		case 'L': opt_nolinks = true; break;
		case '2': opt_v2links = true; break;
		case 'v': opt_verbose = true; break;
		default: usage();
		}
	}
	if (argc - optind != 2 || opt_threads < 1 || opt_threads > 64 || opt_slots < 2 ||
	    opt_slots > MAXSLOTS || opt_bs < 512 || opt_maxsize < 2 * opt_bs ||
	    opt_maxsize > (1u << 30))
		usage();
	if (!have_seed) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		opt_seed = ((uint64_t)ts.tv_nsec ^ ((uint64_t)getpid() << 20)) % 1000000000u;
	}
	for (s = 0; s < NSIDES; s++) {
		if (!realpath(argv[optind + s], base[s]))
			die("%s: %s", argv[optind + s], strerror(errno));
		if ((size_t)snprintf(root[s], PATH_MAX, "%s/fsx-%" PRIu64, base[s], opt_seed) >= PATH_MAX)
			die("path too long");
		if (mkdir(root[s], 0755))
			die("mkdir %s: %s (use empty directories or another seed)", root[s], strerror(errno));
	}
	printf("fsx: seed %" PRIu64 " ops %" PRIu64 " threads %u slots %u maxsize %" PRIu64
	       " blocksize %" PRIu64 "%s%s%s\n",
	       opt_seed, opt_ops, opt_threads, opt_slots, opt_maxsize, opt_bs,
	       opt_nommap ? " nommap" : "", opt_nolinks ? " nolinks" : "", opt_v2links ? " v2links" : "");
	fflush(stdout);
	t_start = time(NULL);

	ctxs = calloc(opt_threads, sizeof(*ctxs));
	tids = calloc(opt_threads, sizeof(*tids));
	if (!ctxs || !tids)
		die("out of memory");
	for (t = 0; t < opt_threads; t++) {
		setup_ctx(&ctxs[t], t);
		for (s = 0; s < NSIDES; s++) {
			char p[PATH_MAX + 16];

			if ((size_t)snprintf(p, sizeof(p), "%s/shared", root[s]) >= sizeof(p))
				die("path too long");
			ctxs[t].shfd[s] = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
			if (ctxs[t].shfd[s] < 0)
				die("open %s: %s", p, strerror(errno));
		}
	}
	for (t = 0; t < opt_threads; t++)
		if (pthread_create(&tids[t], NULL, run, &ctxs[t]))
			die("pthread_create failed");
	for (t = 0; t < opt_threads; t++) {
		pthread_join(tids[t], NULL);
		total += ctxs[t].opno;
	}

	/* The shared file, after every thread is done. */
	{
		struct ctx *c = &ctxs[0];
		struct stat st[NSIDES];
		long n[NSIDES];

		c->opno = 0;
		logop(c, "compare shared file");
		for (s = 0; s < NSIDES; s++)
			if (fstat(c->shfd[s], &st[s]))
				fail(c, "fstat shared on the %s: %s", side_name[s], strerror(errno));
		if (st[0].st_size != st[1].st_size)
			fail(c, "shared file size differs: mount %lld, reference %lld",
			     (long long)st[0].st_size, (long long)st[1].st_size);
		ensure_rbuf(c, (size_t)st[1].st_size + 1);
		for (s = 0; s < NSIDES; s++) {
			n[s] = read_all(c->shfd[s], c->rbuf[s], (size_t)st[1].st_size + 1);
			if (n[s] < 0)
				fail(c, "read shared on the %s: %s", side_name[s], strerror((int)-n[s]));
		}
		if (n[0] != n[1])
			fail(c, "shared file: read %ld bytes on the mount, %ld on the reference", n[0], n[1]);
		compare_bytes(c, "shared file", c->rbuf[0], c->rbuf[1], (size_t)n[0], 0);
		for (t = 0; t < opt_threads; t++)
			for (s = 0; s < NSIDES; s++)
				close(ctxs[t].shfd[s]);
	}
	printf("fsx: seed %" PRIu64 ": %" PRIu64 " ops in %u thread%s, all equal\n", opt_seed, total,
	       opt_threads, opt_threads == 1 ? "" : "s");
	for (t = 0; t < opt_threads; t++) {
		int d;

		for (s = 0; s < NSIDES; s++) {
			for (d = 0; d < NDIRS; d++)
				close(ctxs[t].dfd[s][d]);
			free(ctxs[t].rbuf[s]);
		}
		free(ctxs[t].buf);
	}
	free(ctxs);
	free(tids);
	return 0;
}
