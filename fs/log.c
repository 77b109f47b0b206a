/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Logging: stderr in the foreground, syslog once daemonized. Corruption reports are
 * deduplicated so that a damaged file read in a loop does not flood the log. */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <xxhash.h>

#include "backing.h"
#include "log.h"

/* Remembered (file, block) and (dir, name) keys. When the set fills up it is cleared, so
 * memory stays bounded; a cleared key may be logged once more. */
#define VL_SEEN_SLOTS 4096u

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static bool use_syslog;	    /* protected by log_lock */
static int debug_on;	    /* protected by log_lock */
static uint64_t seen[VL_SEEN_SLOTS]; /* open addressing; 0 = empty; protected by log_lock */
static unsigned seen_count;	    /* protected by log_lock */
static unsigned long suppressed;    /* repeats not logged; protected by log_lock */

void vl_log_to_syslog(const char *ident)
{
	pthread_mutex_lock(&log_lock);
	openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
	use_syslog = true;
	pthread_mutex_unlock(&log_lock);
}

void vl_log_set_debug(int on)
{
	pthread_mutex_lock(&log_lock);
	debug_on = on;
	pthread_mutex_unlock(&log_lock);
}

static void vlog_locked(enum vl_log_level lvl, const char *fmt, va_list ap)
{
	static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };
	static const char *const tag[] = { "error", "warning", "info", "debug" };
	int saved = errno;

	if (lvl == VL_LOG_DEBUG && !debug_on)
		return;
	if (use_syslog) {
		vsyslog(prio[lvl], fmt, ap);
	} else {
		fprintf(stderr, "%s: %s: ", program_invocation_short_name, tag[lvl]);
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
	}
	errno = saved;
}

void vl_log(enum vl_log_level lvl, const char *fmt, ...)
{
	va_list ap;

	if ((unsigned)lvl > VL_LOG_DEBUG)
		lvl = VL_LOG_ERR;
	va_start(ap, fmt);
	pthread_mutex_lock(&log_lock);
	vlog_locked(lvl, fmt, ap);
	pthread_mutex_unlock(&log_lock);
	va_end(ap);
}

/* Inserts key; returns true if it was new. Caller holds log_lock. */
static bool seen_insert(uint64_t key)
{
	unsigned i;

	if (key == 0)
		key = 1;
	if (seen_count >= VL_SEEN_SLOTS * 3 / 4) {
		memset(seen, 0, sizeof(seen));
		seen_count = 0;
	}
	for (i = (unsigned)(key % VL_SEEN_SLOTS);; i = (i + 1) % VL_SEEN_SLOTS) {
		if (seen[i] == key)
			return false;
		if (seen[i] == 0) {
			seen[i] = key;
			seen_count++;
			return true;
		}
	}
}

static void log_once(uint64_t key, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void log_once(uint64_t key, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	pthread_mutex_lock(&log_lock);
	if (seen_insert(key))
		vlog_locked(VL_LOG_ERR, fmt, ap);
	else
		suppressed++;
	pthread_mutex_unlock(&log_lock);
	va_end(ap);
}

void vl_log_corrupt_block(int fd, uint64_t block)
{
	vl_log_bad_block(fd, block, "corrupt");
}

void vl_log_bad_block(int fd, uint64_t block, const char *why)
{
	struct {
		uint64_t dev, ino, block;
		uint8_t kind;
	} k;
	char path[4096];
	struct stat st;

	memset(&k, 0, sizeof(k)); /* padding bytes are hashed too */
	if (fstat(fd, &st) == 0) {
		k.dev = st.st_dev;
		k.ino = st.st_ino;
	}
	k.block = block;
	k.kind = 'b';
	if (block == UINT64_MAX)
		log_once(XXH3_64bits(&k, sizeof(k)), "%s header in %s", why,
			 vl_fd_path(fd, path, sizeof(path)));
	else
		log_once(XXH3_64bits(&k, sizeof(k)), "%s block %llu in %s", why,
			 (unsigned long long)block, vl_fd_path(fd, path, sizeof(path)));
}

void vl_log_bad_entry(int dirfd, const char *diskname, const char *what)
{
	struct {
		uint64_t dev, ino, name;
		uint8_t kind;
	} k;
	char path[4096];
	struct stat st;

	memset(&k, 0, sizeof(k));
	if (fstat(dirfd, &st) == 0) {
		k.dev = st.st_dev;
		k.ino = st.st_ino;
	}
	k.name = XXH3_64bits(diskname, strlen(diskname));
	k.kind = 'e';
	/* Only ciphertext names are logged: never plaintext. */
	log_once(XXH3_64bits(&k, sizeof(k)), "%s: %s in %s", what, diskname,
		 vl_fd_path(dirfd, path, sizeof(path)));
}

unsigned long vl_log_suppressed(void)
{
	unsigned long n;

	pthread_mutex_lock(&log_lock);
	n = suppressed;
	pthread_mutex_unlock(&log_lock);
	return n;
}

void vl_seterr(char *err, size_t errcap, const char *fmt, ...)
{
	va_list ap;

	if (!err || errcap == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errcap, fmt, ap);
	va_end(ap);
}
