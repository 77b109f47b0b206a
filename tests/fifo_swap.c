/* SPDX-License-Identifier: GPL-2.0-or-later */
/* LD_PRELOAD helper of tests/t14-veilctl-hostile.sh (issue 9 §4). The first time the
 * program fstatat()s the name in $VL_SWAP_NAME and finds a regular file, the entry is
 * replaced by a fifo right after that call returns: what a hostile storage side (or a
 * sync client) can do at that moment. Should the program then open the fifo in a way that
 * waits for a writer (no O_NONBLOCK), it ends with status 99 and says so on stderr, where it
 * would otherwise hang forever. Built without the sanitizers (it runs in front of them). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int swapped;

static int (*real_fstatat_fn(void))(int, const char *, struct stat *, int)
{
	static int (*fn)(int, const char *, struct stat *, int);

	if (!fn)
		fn = (int (*)(int, const char *, struct stat *, int))dlsym(RTLD_NEXT, "fstatat");
	return fn;
}

static int (*real_openat_fn(void))(int, const char *, int, ...)
{
	static int (*fn)(int, const char *, int, ...);

	if (!fn)
		fn = (int (*)(int, const char *, int, ...))dlsym(RTLD_NEXT, "openat");
	return fn;
}

static int watched(const char *path)
{
	const char *w = getenv("VL_SWAP_NAME");

	return w && path && !strcmp(path, w);
}

static void after_stat(int dirfd, const char *path, const struct stat *st)
{
	static const char tmp[] = ".fifo-swap.tmp";

	if (swapped || !watched(path) || !S_ISREG(st->st_mode))
		return;
	swapped = 1;
	if (mkfifoat(dirfd, tmp, 0644) < 0 || renameat(dirfd, tmp, dirfd, path) < 0) {
		fprintf(stderr, "fifo_swap: could not put a fifo in place of %s\n", path);
		_exit(98);
	}
}

static void before_open(int dirfd, const char *path, int flags)
{
	struct stat st;

	if (!swapped || !watched(path) || (flags & O_NONBLOCK))
		return;
	if (real_fstatat_fn()(dirfd, path, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISFIFO(st.st_mode)) {
		fprintf(stderr, "fifo_swap: blocking open of the fifo %s: the program would hang here\n",
			path);
		_exit(99);
	}
}

int fstatat(int dirfd, const char *path, struct stat *st, int flags)
{
	int r = real_fstatat_fn()(dirfd, path, st, flags);

	if (r == 0)
		after_stat(dirfd, path, st);
	return r;
}

/* On 64-bit Linux struct stat64 is struct stat. */
int fstatat64(int dirfd, const char *path, struct stat64 *st, int flags)
{
	return fstatat(dirfd, path, (struct stat *)st, flags);
}

static int do_openat(int dirfd, const char *path, int flags, mode_t mode)
{
	before_open(dirfd, path, flags);
	return real_openat_fn()(dirfd, path, flags, mode);
}

int openat(int dirfd, const char *path, int flags, ...)
{
	mode_t mode = 0;

	if (flags & (O_CREAT | O_TMPFILE)) {
		va_list ap;

		va_start(ap, flags);
		mode = (mode_t)va_arg(ap, int);
		va_end(ap);
	}
	return do_openat(dirfd, path, flags, mode);
}

int openat64(int dirfd, const char *path, int flags, ...)
{
	mode_t mode = 0;

	if (flags & (O_CREAT | O_TMPFILE)) {
		va_list ap;

		va_start(ap, flags);
		mode = (mode_t)va_arg(ap, int);
		va_end(ap);
	}
	return do_openat(dirfd, path, flags, mode);
}

int __openat_2(int dirfd, const char *path, int flags);
int __openat_2(int dirfd, const char *path, int flags)
{
	return do_openat(dirfd, path, flags, 0);
}

int __openat64_2(int dirfd, const char *path, int flags);
int __openat64_2(int dirfd, const char *path, int flags)
{
	return do_openat(dirfd, path, flags, 0);
}
