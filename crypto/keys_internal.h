/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Internals of the crypto layer, shared by the crypto sources and the unit tests only. Nothing
 * outside crypto/ and tests/unit/ may include this file. */
#ifndef VEILFS_CRYPTO_KEYS_INTERNAL_H
#define VEILFS_CRYPTO_KEYS_INTERNAL_H

#include "common.h"

#define VL_GCM_KEY_LEN 32
#define VL_SIV_KEY_LEN 64 /* AES-256-SIV: 32-byte MAC key || 32-byte CTR key */

/* The vault's subkeys (FORMAT.md §1); always in vl_secure_alloc memory. */
struct vl_keys {
	uint8_t content[32];	  /* HKDF info "veilfs/v1/content" */
	uint8_t object[32];	  /* "veilfs/v1/object" */
	uint8_t names[64];	  /* "veilfs/v1/names" */
	uint8_t dirid[32];	  /* "veilfs/v1/dirid" */
	uint8_t xattr_names[64];  /* "veilfs/v1/xattr-names" */
	uint8_t xattr_values[32]; /* "veilfs/v1/xattr-values" */
	uint8_t meta[32];	  /* "veilfs/v2/meta": MACs of headers, ID files, place tokens */
	/* key generations (see vl_key_generation) for the thread-cached contexts */
	uint64_t names_gen;
	uint64_t xattr_names_gen;
	uint64_t xattr_values_gen;
};

/* A process-unique, non-zero number for a key. The per-thread GCM context remembers the
 * generation of the key it holds, so consecutive operations under one key only reload the
 * IV. Two keys never share a generation, so a stale schedule can never be reused. */
uint64_t vl_key_generation(void);

/* True once vl_crypto_init has routed libcrypto's allocations into the secure pool. Every
 * entry point that makes OpenSSL allocate checks it and fails (-EIO) before: a main()
 * without vl_crypto_init would otherwise put key schedules in the ordinary heap silently. */
bool vl_crypto_ready(void);

/* Wipes the VL_STACK_SCRUB bytes of stack below the caller's frame: OpenSSL leaves what its
 * locals held there when it returns (PBKDF2 inside scrypt leaves the derived KEK, HKDF the
 * SHA-256 state that is the derived key), and a later core of the thread would show it.
 * Called at the end of the KDF wrappers. OpenSSL 3.0.19 writes at most 4.0 KiB below the
 * caller's frame in them (scrypt 4023 bytes, HKDF 3767, HMAC 3447): 16 KiB is four times
 * that, and costs about 0.1 us (glibc's memset). */
#define VL_STACK_SCRUB (16u << 10)
void vl_scrub_stack(void);

/* AES-256-GCM with a 12-byte IV on this thread's reused context. gen == 0 means "one-shot":
 * the key is loaded into a fresh context that is freed (wiped) before the call returns, so
 * no schedule of it outlives the call (the KEK). seal writes len bytes to ct and the tag;
 * open verifies the tag, writes len bytes to pt and wipes them on failure. 0 or -EIO. */
int vl_gcm_seal(const uint8_t key[static VL_GCM_KEY_LEN], uint64_t gen,
		const uint8_t iv[static VL_NONCE_LEN], const uint8_t *aad, size_t aadlen,
		const uint8_t *pt, size_t len, uint8_t *ct, uint8_t tag[static VL_TAG_LEN]) VL_MUST_CHECK;
int vl_gcm_open(const uint8_t key[static VL_GCM_KEY_LEN], uint64_t gen,
		const uint8_t iv[static VL_NONCE_LEN], const uint8_t *aad, size_t aadlen,
		const uint8_t *ct, size_t len, const uint8_t tag[static VL_TAG_LEN],
		uint8_t *pt) VL_MUST_CHECK;

/* A fresh random 96-bit nonce for one block write: 12 bytes of this thread's pool of
 * RAND_bytes output, each byte handed out once (refilled when empty, emptied in a forked
 * child, wiped at thread exit). 0 or -EIO. */
int vl_nonce(uint8_t out[static VL_NONCE_LEN]) VL_MUST_CHECK;

/* One associated-data component of an SIV message (RFC 5297 S2V input). */
struct vl_siv_ad {
	const uint8_t *p;
	size_t len;
};

enum vl_siv_alg {
	VL_SIV_AES256, /* the format's AES-256-SIV, 64-byte key */
	VL_SIV_AES128, /* RFC 5297's vectors (32-byte key): known-answer tests only */
};

/* SIV seal: out receives V (16) || C (len). gen as for GCM (0: a one-shot context, no
 * cached template). 0 or -EIO. */
int vl_siv_seal(enum vl_siv_alg alg, const uint8_t *key, uint64_t gen, const struct vl_siv_ad *ad,
		size_t nad, const uint8_t *pt, size_t len, uint8_t *out) VL_MUST_CHECK;
/* SIV open of V || C (inlen >= 16): verifies V, writes inlen - 16 bytes to pt (wiped on
 * failure). 0 or -EIO. */
int vl_siv_open(enum vl_siv_alg alg, const uint8_t *key, uint64_t gen, const struct vl_siv_ad *ad,
		size_t nad, const uint8_t *in, size_t inlen, uint8_t *pt) VL_MUST_CHECK;

/* AES-256-GCM with any IV length on a fresh context: for the NIST vectors with 8- and
 * 60-byte IVs only. enc: pt -> ct and tag out; !enc: ct + tag -> pt. 0 or -EIO. */
int vl_gcm_kat(bool enc, const uint8_t key[static 32], const uint8_t *iv, size_t ivlen,
	       const uint8_t *aad, size_t aadlen, const uint8_t *in, size_t len, uint8_t *out,
	       uint8_t tag[static VL_TAG_LEN]) VL_MUST_CHECK;

#endif
