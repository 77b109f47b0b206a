/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Memory for secrets: mlock()ed, MADV_DONTDUMP, wiped before release; libcrypto's own
 * allocations (every key schedule and KDF state) routed into it. */
#ifndef VEILFS_CRYPTO_SECMEM_H
#define VEILFS_CRYPTO_SECMEM_H

#include "common.h"

/* Routes every libcrypto allocation into the secure pool (CRYPTO_set_mem_functions), so that
 * no OpenSSL context holding a key lives in dumpable or swappable memory. Must run before
 * the first OpenSSL call of the process: call it first thing in main(). Idempotent. 0, or
 * -EBUSY when libcrypto had already allocated (the call came too late: a bug). The crypto
 * functions refuse to run (-EIO) until it has succeeded. */
int vl_crypto_init(void) VL_MUST_CHECK;

/* prctl(PR_SET_DUMPABLE, 0): no kernel core dump of this process (ulimit -c,
 * systemd-coredump), no ptrace attach or /proc/PID/mem by other non-root processes. Call
 * before the first secret exists. Inherited by fork, reset by execve. 0 or -errno. */
int vl_process_nodump(void) VL_MUST_CHECK;

/* Returns zeroed, locked, non-dumpable memory of len bytes, or NULL (errno set). A failed
 * mlock (RLIMIT_MEMLOCK) is tolerated with one warning on stderr per process; the memory
 * stays out of core dumps. */
void *vl_secure_alloc(size_t len) VL_MUST_CHECK;
/* Wipes and releases memory from vl_secure_alloc; len is the length it was allocated with.
 * p == NULL is a no-op. */
void vl_secure_free(void *p, size_t len);
/* explicit_bzero: a wipe the compiler cannot drop (glibc's vectorised memset; OpenSSL 3.0's
 * OPENSSL_cleanse stores 8 bytes per 4 instructions on x86_64). */
void vl_wipe(void *p, size_t len);
/* Constant-time comparison: true when the len bytes are equal. */
bool vl_ct_equal(const void *a, const void *b, size_t len) VL_MUST_CHECK;
/* Fills buf from the CSPRNG (RAND_priv_bytes). 0 or -EIO. */
int vl_random(void *buf, size_t len) VL_MUST_CHECK;

/* The pool's counters, for tests and diagnostics. */
struct vl_secmem_stats {
	size_t live_blocks;  /* allocations not yet freed (libcrypto's and vl_secure_alloc's) */
	size_t mapped_bytes; /* pool mappings (all MADV_DONTDUMP) */
	size_t locked_bytes; /* of which mlock()ed */
};
void vl_secmem_stats(struct vl_secmem_stats *st);

#endif
