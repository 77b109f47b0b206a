/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Memory for secrets: mlock()ed, MADV_DONTDUMP, wiped before release. */
#ifndef VEILFS_CRYPTO_SECMEM_H
#define VEILFS_CRYPTO_SECMEM_H

#include "common.h"

/* Returns zeroed, locked, non-dumpable memory of len bytes, or NULL (errno set).
 * A failed mlock (RLIMIT_MEMLOCK) is tolerated once with a warning on stderr. */
void *vl_secure_alloc(size_t len) VL_MUST_CHECK;
/* Wipes and releases memory from vl_secure_alloc; len must be the length it was allocated
 * with (small objects live in a shared slab). p == NULL is a no-op. */
void vl_secure_free(void *p, size_t len);
/* OPENSSL_cleanse: a wipe the compiler cannot drop. */
void vl_wipe(void *p, size_t len);
/* Constant-time comparison: true when the len bytes are equal. */
bool vl_ct_equal(const void *a, const void *b, size_t len) VL_MUST_CHECK;
/* Fills buf from the CSPRNG (RAND_priv_bytes). 0 or -EIO. */
int vl_random(void *buf, size_t len) VL_MUST_CHECK;

#endif
