// SPDX-License-Identifier: GPL-2.0-or-later
/* Memory for secrets (FORMAT.md §1): one anonymous mapping per allocation, mlock()ed so it
 * never reaches swap, MADV_DONTDUMP so it never reaches a core dump, wiped before unmap. */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
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

void *vl_secure_alloc(size_t len)
{
	static atomic_bool warned;
	size_t maplen;
	void *p;

	if (len == 0 || len > SIZE_MAX / 2) {
		errno = EINVAL;
		return NULL;
	}
	maplen = page_round(len);
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

void vl_secure_free(void *p, size_t len)
{
	size_t maplen;

	if (p == NULL)
		return;
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
