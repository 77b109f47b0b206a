// SPDX-License-Identifier: GPL-2.0-or-later
/* Memory for secrets (FORMAT.md §1): mlock()ed so it never reaches swap, MADV_DONTDUMP so
 * it never reaches a core dump, wiped before release.
 *
 * Small objects (up to SLOT bytes: the per-file keys, one per open file) come from a slab
 * of locked chunks, so opening thousands of files costs no mmap/mlock/madvise/munmap each;
 * a freed slot is wiped at once and reused, chunks are kept until exit (their number is
 * bounded by the most small secrets alive at once). Larger objects get their own mapping,
 * wiped before unmap. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "secmem.h"

static size_t page_round(size_t len)
{
	long pg = sysconf(_SC_PAGESIZE);
	size_t p = pg > 0 ? (size_t)pg : 4096;

	return (len + p - 1) / p * p;
}

/* A locked, non-dumpable, zero-filled mapping of maplen bytes (a page multiple), or NULL. */
static void *map_locked(size_t maplen)
{
	static atomic_bool warned;
	void *p;

	p = mmap(NULL, maplen, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	/* Secrets must not be swapped; RLIMIT_MEMLOCK may be small for unprivileged users,
	 * so a failure is tolerated but said once. */
	if (mlock(p, maplen) != 0 && !atomic_exchange(&warned, true))
		fprintf(stderr, "veilfs: warning: cannot lock key memory (%s); keys may be "
				"swapped out. Raise RLIMIT_MEMLOCK to avoid this.\n",
			errno == ENOMEM || errno == EPERM ? "RLIMIT_MEMLOCK too low" : "mlock failed");
#ifdef MADV_DONTDUMP
	(void)madvise(p, maplen, MADV_DONTDUMP);
#endif
	return p; /* anonymous mappings are zero-filled */
}

/* The slab: SLOT-byte slots in CHUNK-byte locked chunks. A free slot holds zeros except
 * its first word, the next free slot; slab_lock guards slab_free. */
#define SLOT 64
#define CHUNK (64u << 10)
static pthread_mutex_t slab_lock = PTHREAD_MUTEX_INITIALIZER;
static void *slab_free; /* protected by slab_lock */

static void *slab_alloc(void)
{
	void *p;

	pthread_mutex_lock(&slab_lock);
	if (slab_free == NULL) {
		uint8_t *c = map_locked(CHUNK);

		if (c == NULL) {
			pthread_mutex_unlock(&slab_lock);
			return NULL;
		}
		/* Thread the new chunk's slots onto the free list (slot 0 first). */
		for (size_t i = 0; i < CHUNK / SLOT; i++) {
			void *next = i + 1 < CHUNK / SLOT ? c + (i + 1) * SLOT : NULL;

			memcpy(c + i * SLOT, &next, sizeof(next));
		}
		slab_free = c;
	}
	p = slab_free;
	memcpy(&slab_free, p, sizeof(slab_free));
	pthread_mutex_unlock(&slab_lock);
	memset(p, 0, sizeof(void *)); /* the rest of a free slot is already zero */
	return p;
}

static void slab_release(void *p)
{
	OPENSSL_cleanse(p, SLOT);
	pthread_mutex_lock(&slab_lock);
	memcpy(p, &slab_free, sizeof(slab_free));
	slab_free = p;
	pthread_mutex_unlock(&slab_lock);
}

void *vl_secure_alloc(size_t len)
{
	if (len == 0 || len > SIZE_MAX / 2) {
		errno = EINVAL;
		return NULL;
	}
	if (len <= SLOT)
		return slab_alloc();
	return map_locked(page_round(len));
}

void vl_secure_free(void *p, size_t len)
{
	size_t maplen;

	if (p == NULL)
		return;
	if (len <= SLOT) {
		slab_release(p);
		return;
	}
	maplen = page_round(len);
	OPENSSL_cleanse(p, maplen);
	(void)munlock(p, maplen);
	(void)munmap(p, maplen);
}

void vl_wipe(void *p, size_t len)
{
	if (p != NULL && len > 0)
		OPENSSL_cleanse(p, len);
}

bool vl_ct_equal(const void *a, const void *b, size_t len)
{
	return CRYPTO_memcmp(a, b, len) == 0;
}

int vl_random(void *buf, size_t len)
{
	uint8_t *p = buf;

	/* RAND_priv_bytes takes an int length. */
	while (len > 0) {
		int n = len > (1u << 30) ? (1 << 30) : (int)len;

		if (RAND_priv_bytes(p, n) != 1)
			return -EIO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}
