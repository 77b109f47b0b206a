/* SPDX-License-Identifier: GPL-2.0-or-later */
/* File contents: header, per-file keys, AES-256-GCM blocks, size arithmetic (FORMAT.md §3).
 * Pure functions over buffers; cipher contexts are per thread and reused (never allocated
 * per block). */
#ifndef VEILFS_CRYPTO_CONTENT_H
#define VEILFS_CRYPTO_CONTENT_H

#include "common.h"

struct vl_keys;

/* Which parent key a file's key is derived from. */
enum vl_stream {
	VL_STREAM_CONTENT, /* regular files: K_content */
	VL_STREAM_OBJECT,  /* symlinks and special files: K_object */
};

/* A per-file key bound to its file ID; in secure memory. */
struct vl_filekey;

int vl_filekey_new(struct vl_filekey **out, const struct vl_keys *k, enum vl_stream s,
		   const uint8_t id[static VL_FILEID_LEN]) VL_MUST_CHECK;
void vl_filekey_free(struct vl_filekey *fk);
/* The file ID the key is bound to (VL_FILEID_LEN bytes). */
const uint8_t *vl_filekey_id(const struct vl_filekey *fk);

/* Writes the 24-byte header for file ID id. */
void vl_header_build(uint8_t out[static VL_HEADER_LEN], const uint8_t id[static VL_FILEID_LEN]);
/* Parses exactly VL_HEADER_LEN bytes: 0 and id filled, or -EIO (bad magic, version or
 * reserved field, or len != VL_HEADER_LEN). */
int vl_header_parse(const uint8_t *buf, size_t len, uint8_t id[static VL_FILEID_LEN]) VL_MUST_CHECK;

/* Encrypts block `index` (ptlen in 1..block size) into out, which must hold
 * ptlen + VL_BLOCK_OVERHEAD bytes: nonce || ciphertext || tag, with a fresh random nonce.
 * 0 or -EIO. */
int vl_block_seal(const struct vl_filekey *fk, uint64_t index, bool last, const uint8_t *pt,
		  size_t ptlen, uint8_t *out, size_t outcap) VL_MUST_CHECK;
/* Same with a caller-chosen nonce: for golden vectors in tests only. */
int vl_block_seal_nonce(const struct vl_filekey *fk, uint64_t index, bool last,
			const uint8_t nonce[static VL_NONCE_LEN], const uint8_t *pt, size_t ptlen,
			uint8_t *out, size_t outcap) VL_MUST_CHECK;
/* Verifies and decrypts block `index` (ctlen = plaintext + VL_BLOCK_OVERHEAD). GCM decrypts
 * into pt while it computes the tag; on a tag failure pt is wiped before returning, so no
 * unverified plaintext is ever released. Returns the plaintext length, -EIO (tampered, torn
 * or misplaced block), or -EINVAL (ptcap too small). */
int vl_block_open(const struct vl_filekey *fk, uint64_t index, bool last, const uint8_t *ct,
		  size_t ctlen, uint8_t *pt, size_t ptcap) VL_MUST_CHECK;

/* Plaintext size of a ciphertext of csize bytes: 0, or -EIO if no valid file has that size. */
int vl_plain_size(uint64_t csize, uint32_t block_size, uint64_t *psize) VL_MUST_CHECK;
/* Ciphertext size of a plaintext of psize bytes (0 -> 0, a header is counted otherwise). */
uint64_t vl_cipher_size(uint64_t psize, uint32_t block_size);
/* Ciphertext offset of block index. */
static inline uint64_t vl_block_offset(uint64_t index, uint32_t block_size)
{
	return VL_HEADER_LEN + index * ((uint64_t)block_size + VL_BLOCK_OVERHEAD);
}

/* Releases this thread's cipher contexts (also done by a thread-exit destructor). */
void vl_crypto_thread_cleanup(void);

#endif
