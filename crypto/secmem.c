// SPDX-License-Identifier: GPL-2.0-or-later
/* Memory for secrets (FORMAT.md §1): a pool whose every page is MADV_DONTDUMP (never in a core
 * dump, gcore included) and mlock()ed when RLIMIT_MEMLOCK allows (never in swap), wiped on
 * every free. vl_secure_alloc serves our own key buffers from it; vl_crypto_init routes all of
 * libcrypto's allocations into it, because OpenSSL keeps expanded key schedules, GHASH
 * tables, HMAC states and DRBG states in contexts it allocates itself, where mlock on our
 * own buffers cannot reach.
 *
 * Layout. Every block has a 16-byte header (its class and the size asked for), so free()
 * needs no size and the caller's bytes keep malloc's 16-byte alignment. Requests up to
 * SMALL_MAX bytes are served from NCLASS size classes (16-byte steps to 128, then four per
 * power of two: at most 25% slack), carved from ARENA-byte mappings; a freed block is wiped
 * at once and goes on its class's free list for reuse, and arenas are kept until exit, so the
 * pool holds the peak of what was alive at once. Larger requests (scrypt's work area) get a
 * mapping of their own, unmapped on free.
 *
 * Locking: one mutex per class (its free list and counters), arena_lock for carving new
 * blocks, big_lock for the list of large mappings; order class -> arena, and big alone. A
 * file open derives one per-file key: an HKDF, 32 allocations and 32 frees by libcrypto
 * (callgrind), each a lock and unlock of an uncontended mutex and a wipe. Measured: 2.25 us
 * of CPU per key with glibc's malloc, 2.81 us with this pool and the stack scrub; not
 * measurable in the daemon's CPU time through a mount (see the commit that set the scrub
 * to 16 KiB). A per-thread cache would save part of the locking; not worth its code yet.
 *
 * fork: mlock is not inherited, so a child locks its copies again (pthread_atfork, all locks
 * held across the fork so that the child's lists are consistent). MADV_DONTDUMP is inherited.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* program_invocation_short_name: the warning names veilfs or veilctl */
#endif
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "keys_internal.h"
#include "secmem.h"

/* Under AddressSanitizer the pool poisons what is not handed out, so that an overflow or a
 * use after free inside libcrypto's blocks is still reported (ASan does not see mmap). */
#if defined(__SANITIZE_ADDRESS__)
#define VL_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define VL_ASAN 1
#endif
#endif
#ifdef VL_ASAN
#include <sanitizer/asan_interface.h>
#define POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define POISON(p, n) ((void)(p), (void)(n))
#define UNPOISON(p, n) ((void)(p), (void)(n))
#endif

#define HDR 16
#define NCLASS 39
#define SMALL_MAX (32768 - HDR)
#define ARENA (256u << 10)
/* A large mapping whose mlock fails is not worth a warning above this size: only scrypt's
 * work area (64 MiB at the minimum cost) is that large, an ordinary user's RLIMIT_MEMLOCK
 * (8 MiB) can never hold it, and it lives only while scrypt runs (under a second). It stays
 * non-dumpable and is wiped by OpenSSL and by us. */
#define QUIET_BIG (1u << 20)
#define CLS_BIG 0xffffffffu
#define MAGIC_USED 0x5ec3e3b1u
#define MAGIC_FREE 0xf3eeb10cu

struct blk {
	union {
		size_t len;	  /* in use: the size asked for */
		struct blk *next; /* free: the next free block of its class */
	} u;
	uint32_t cls;	/* class index, or CLS_BIG */
	uint32_t magic; /* MAGIC_USED or MAGIC_FREE */
};
_Static_assert(sizeof(struct blk) == HDR, "the header keeps malloc's 16-byte alignment");

struct class {
	pthread_mutex_t lock;
	struct blk *free; /* protected by lock; every free block's bytes are zero */
	size_t live;	  /* protected by lock */
} __attribute__((aligned(64)));

static struct class classes[NCLASS] = {
	[0 ... NCLASS - 1] = { .lock = PTHREAD_MUTEX_INITIALIZER },
};

/* The first bytes of every arena; the rest is carved into blocks. */
struct arena {
	struct arena *next; /* protected by arena_lock */
	bool locked;	    /* the mlock succeeded */
	uint8_t pad[HDR - sizeof(void *) - sizeof(bool)];
};
_Static_assert(sizeof(struct arena) == HDR, "blocks in an arena stay 16-byte aligned");

static pthread_mutex_t arena_lock = PTHREAD_MUTEX_INITIALIZER;
static struct arena *arenas;	      /* protected by arena_lock */
static uint8_t *arena_cur, *arena_end; /* protected by arena_lock: the uncarved rest */
static size_t arena_mapped, arena_locked; /* protected by arena_lock */

/* A large block: its own mapping, listed for fork and the counters. */
struct big {
	struct big *prev, *next; /* protected by big_lock */
	size_t maplen;
	size_t locked; /* the mlock succeeded (a word: keeps b 16-byte aligned) */
	struct blk b;
};
_Static_assert(sizeof(struct big) % HDR == 0, "large blocks stay 16-byte aligned");

static pthread_mutex_t big_lock = PTHREAD_MUTEX_INITIALIZER;
static struct big *bigs;		    /* protected by big_lock */
static size_t big_live, big_mapped, big_locked; /* protected by big_lock */

static atomic_bool crypto_ready;

static size_t class_size(uint32_t c)
{
	unsigned e;

	if (c < 7)
		return 32 + 16 * (size_t)c; /* 32 .. 128 */
	e = 7 + (c - 7) / 4;
	return ((size_t)1 << e) + ((c - 7) % 4 + 1) * ((size_t)1 << e) / 4;
}

/* The smallest class holding s bytes (header included), 1 <= s <= 32768. */
static uint32_t class_of(size_t s)
{
	unsigned e;

	if (s <= 128)
		return s <= 32 ? 0 : (uint32_t)((s + 15) / 16 - 2);
	e = 63 - (unsigned)__builtin_clzll((unsigned long long)(s - 1)); /* 2^e < s <= 2^(e+1) */
	return 7 + (e - 7) * 4 + (uint32_t)((s - 1 - ((size_t)1 << e)) / ((size_t)1 << (e - 2)));
}

static size_t page_round(size_t len)
{
	long pg = sysconf(_SC_PAGESIZE);
	size_t p = pg > 0 ? (size_t)pg : 4096;

	return (len + p - 1) / p * p;
}

static void warn_unlocked(int err)
{
	static atomic_bool warned;

	if (atomic_exchange(&warned, true))
		return;
	fprintf(stderr,
		"%s: warning: cannot lock key memory in RAM (%s): keys stay out of core dumps "
		"but may be written to swap; raise RLIMIT_MEMLOCK (ulimit -l, LimitMEMLOCK=) to "
		"avoid this\n",
		program_invocation_short_name,
		err == ENOMEM || err == EPERM || err == EAGAIN ? "RLIMIT_MEMLOCK too low" :
								  strerror(err));
}

/* A zero-filled mapping of maplen bytes (a page multiple), excluded from core dumps before
 * anything is written to it, and locked if the limit allows. NULL (errno set) when it cannot
 * be mapped or excluded: memory that a core dump would hold is never used for secrets. */
static void *map_secure(size_t maplen, bool warn, bool *locked)
{
	void *p = mmap(NULL, maplen, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	UNPOISON(p, maplen); /* ASan keeps the shadow of an unmapped range as it was */
	if (madvise(p, maplen, MADV_DONTDUMP) != 0) {
		int e = errno;

		(void)munmap(p, maplen);
		errno = e;
		return NULL;
	}
	*locked = mlock(p, maplen) == 0;
	if (!*locked && warn)
		warn_unlocked(errno);
	return p;
}

/* ---- fork ---- */

static void fork_prepare(void)
{
	for (int c = 0; c < NCLASS; c++)
		pthread_mutex_lock(&classes[c].lock);
	pthread_mutex_lock(&arena_lock);
	pthread_mutex_lock(&big_lock);
}

static void fork_parent(void)
{
	pthread_mutex_unlock(&big_lock);
	pthread_mutex_unlock(&arena_lock);
	for (int c = NCLASS - 1; c >= 0; c--)
		pthread_mutex_unlock(&classes[c].lock);
}

static void fork_child(void)
{
	/* mlock is not inherited: lock the child's copies again, silently (the parent has
	 * warned already if the limit was too low). MADV_DONTDUMP is inherited. */
	for (struct arena *a = arenas; a; a = a->next)
		if (a->locked)
			(void)mlock(a, ARENA);
	for (struct big *g = bigs; g; g = g->next)
		if (g->locked)
			(void)mlock(g, g->maplen);
	fork_parent();
}

static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

static void atfork_register(void)
{
	/* Without the handlers a child's pool would only lose its locks: not fatal. */
	(void)pthread_atfork(fork_prepare, fork_parent, fork_child);
}

/* ---- the pool ---- */

/* A new block of size bytes (header included) from the current arena; called with the
 * class's lock held (order class -> arena). NULL with errno set. */
static struct blk *carve(size_t size)
{
	struct blk *b;

	(void)pthread_once(&atfork_once, atfork_register);
	pthread_mutex_lock(&arena_lock);
	if ((size_t)(arena_end - arena_cur) < size) {
		bool locked;
		struct arena *a = map_secure(ARENA, true, &locked);

		if (a == NULL) {
			pthread_mutex_unlock(&arena_lock);
			return NULL;
		}
		a->next = arenas;
		a->locked = locked;
		arenas = a;
		arena_mapped += ARENA;
		arena_locked += locked ? ARENA : 0;
		arena_cur = (uint8_t *)a + sizeof(*a);
		arena_end = (uint8_t *)a + ARENA;
		POISON(arena_cur, (size_t)(arena_end - arena_cur));
	}
	b = (struct blk *)(void *)arena_cur;
	arena_cur += size;
	pthread_mutex_unlock(&arena_lock);
	UNPOISON(b, HDR);
	return b;
}

static void *big_alloc(size_t n)
{
	size_t maplen = page_round(n + sizeof(struct big));
	struct big *g;
	bool locked;

	g = map_secure(maplen, maplen <= QUIET_BIG, &locked);
	if (g == NULL)
		return NULL;
	g->maplen = maplen;
	g->locked = locked;
	g->b.u.len = n;
	g->b.cls = CLS_BIG;
	g->b.magic = MAGIC_USED;
	POISON((uint8_t *)(&g->b + 1) + n, maplen - sizeof(*g) - n);
	pthread_mutex_lock(&big_lock);
	g->prev = NULL;
	g->next = bigs;
	if (bigs)
		bigs->prev = g;
	bigs = g;
	big_live++;
	big_mapped += maplen;
	big_locked += locked ? maplen : 0;
	pthread_mutex_unlock(&big_lock);
	return &g->b + 1;
}

static void big_free(struct blk *b)
{
	struct big *g = (struct big *)(void *)((uint8_t *)b - offsetof(struct big, b));

	explicit_bzero(b + 1, b->u.len);
	pthread_mutex_lock(&big_lock);
	if (g->prev)
		g->prev->next = g->next;
	else
		bigs = g->next;
	if (g->next)
		g->next->prev = g->prev;
	big_live--;
	big_mapped -= g->maplen;
	big_locked -= g->locked ? g->maplen : 0;
	pthread_mutex_unlock(&big_lock);
	UNPOISON(g, g->maplen);
	(void)munmap(g, g->maplen); /* unlocks too */
}

static void *pool_alloc(size_t n)
{
	struct class *k;
	struct blk *b;
	uint32_t c;

	if (n == 0 || n > SIZE_MAX / 2) {
		errno = n == 0 ? EINVAL : ENOMEM;
		return NULL;
	}
	if (n > SMALL_MAX)
		return big_alloc(n);
	c = class_of(n + HDR);
	k = &classes[c];
	pthread_mutex_lock(&k->lock);
	b = k->free;
	if (b != NULL)
		k->free = b->u.next;
	else
		b = carve(class_size(c));
	if (b != NULL)
		k->live++;
	pthread_mutex_unlock(&k->lock);
	if (b == NULL)
		return NULL;
	b->u.len = n;
	b->cls = c;
	b->magic = MAGIC_USED;
	UNPOISON(b + 1, n);
	return b + 1;
}

/* The header of a block handed out by the pool. A pointer that is not one (a foreign
 * pointer, a double free, a header overwritten by an overflow) means the heap is corrupt:
 * continuing could hand a key's memory out twice, so the process stops. */
static struct blk *header(void *p)
{
	struct blk *b = (struct blk *)p - 1;

	if (b->magic != MAGIC_USED || (b->cls >= NCLASS && b->cls != CLS_BIG)) {
		fprintf(stderr, "%s: secure memory: bad free or corrupted block at %p\n",
			program_invocation_short_name, p);
		abort();
	}
	return b;
}

static void pool_free(void *p)
{
	struct class *k;
	struct blk *b;

	if (p == NULL)
		return;
	b = header(p);
	if (b->cls == CLS_BIG) {
		big_free(b);
		return;
	}
	/* Wiped before it is listed as free: a free block's bytes are all zero. */
	explicit_bzero(p, b->u.len);
	POISON(p, class_size(b->cls) - HDR);
	b->magic = MAGIC_FREE;
	k = &classes[b->cls];
	pthread_mutex_lock(&k->lock);
	b->u.next = k->free;
	k->free = b;
	k->live--;
	pthread_mutex_unlock(&k->lock);
}

static void *pool_realloc(void *p, size_t n)
{
	struct blk *b;
	size_t cap, old;
	void *q;

	if (p == NULL)
		return pool_alloc(n);
	if (n == 0) {
		pool_free(p);
		return NULL;
	}
	b = header(p);
	old = b->u.len;
	cap = b->cls == CLS_BIG ? ((struct big *)(void *)((uint8_t *)b - offsetof(struct big, b)))->maplen -
					  sizeof(struct big) :
				  class_size(b->cls) - HDR;
	if (n <= cap) {
		/* In place; a shrink wipes the tail it gives up. */
		if (n < old)
			explicit_bzero((uint8_t *)p + n, old - n);
		POISON(p, cap);
		UNPOISON(p, n);
		b->u.len = n;
		return p;
	}
	q = pool_alloc(n);
	if (q == NULL)
		return NULL; /* p stays valid, as realloc(3) */
	memcpy(q, p, old);
	pool_free(p);
	return q;
}

/* libcrypto's allocator hooks (file and line are OpenSSL's debugging arguments). */
static void *os_malloc(size_t n, const char *file, int line)
{
	(void)file;
	(void)line;
	return pool_alloc(n);
}

static void *os_realloc(void *p, size_t n, const char *file, int line)
{
	(void)file;
	(void)line;
	return pool_realloc(p, n);
}

static void os_free(void *p, const char *file, int line)
{
	(void)file;
	(void)line;
	pool_free(p);
}

static int init_result = -EBUSY;

static void install(void)
{
	(void)pthread_once(&atfork_once, atfork_register);
	/* OpenSSL refuses once it has allocated anything: then some OpenSSL call ran before
	 * us and its memory (perhaps a key) is in the ordinary heap. */
	if (CRYPTO_set_mem_functions(os_malloc, os_realloc, os_free) != 1)
		return;
	init_result = 0;
	atomic_store(&crypto_ready, true);
}

int vl_crypto_init(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	if (pthread_once(&once, install) != 0)
		return -EBUSY;
	return init_result;
}

__attribute__((noinline)) void vl_scrub_stack(void)
{
	uint8_t below[VL_STACK_SCRUB];

	explicit_bzero(below, sizeof(below));
	/* below escapes: the wipe cannot be dropped, nor the array shrunk. */
	__asm__ volatile("" : : "r"(below) : "memory");
}

bool vl_crypto_ready(void)
{
	return atomic_load_explicit(&crypto_ready, memory_order_acquire);
}

int vl_process_nodump(void)
{
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
		return -errno;
	return 0;
}

void *vl_secure_alloc(size_t len)
{
	void *p = pool_alloc(len);

	if (p != NULL)
		memset(p, 0, len);
	return p;
}

void vl_secure_free(void *p, size_t len)
{
	(void)len; /* the header knows; the argument keeps call sites explicit */
	pool_free(p);
}

void vl_secmem_stats(struct vl_secmem_stats *st)
{
	memset(st, 0, sizeof(*st));
	for (int c = 0; c < NCLASS; c++) {
		pthread_mutex_lock(&classes[c].lock);
		st->live_blocks += classes[c].live;
		pthread_mutex_unlock(&classes[c].lock);
	}
	pthread_mutex_lock(&arena_lock);
	st->mapped_bytes += arena_mapped;
	st->locked_bytes += arena_locked;
	pthread_mutex_unlock(&arena_lock);
	pthread_mutex_lock(&big_lock);
	st->live_blocks += big_live;
	st->mapped_bytes += big_mapped;
	st->locked_bytes += big_locked;
	pthread_mutex_unlock(&big_lock);
}

void vl_wipe(void *p, size_t len)
{
	if (p != NULL && len > 0)
		explicit_bzero(p, len);
}

bool vl_ct_equal(const void *a, const void *b, size_t len)
{
	return CRYPTO_memcmp(a, b, len) == 0;
}

int vl_random(void *buf, size_t len)
{
	uint8_t *p = buf;

	if (!vl_crypto_ready())
		return -EIO;
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
