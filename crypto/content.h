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

/* Format 1's 24-byte header for file ID id (FORMAT-v1.md §3). */
void vl_header_build(uint8_t out[static VL_HEADER_V1_LEN], const uint8_t id[static VL_FILEID_LEN]);
/* Parses exactly VL_HEADER_V1_LEN bytes of a format-1 header: 0 and id filled, or -EIO (bad
 * magic, version or reserved field, or len != VL_HEADER_V1_LEN). */
int vl_header_parse(const uint8_t *buf, size_t len, uint8_t id[static VL_FILEID_LEN]) VL_MUST_CHECK;

/* Format 2 headers (FORMAT.md §3.1). */
#define VL_HDR_LONG 1u	 /* long layout: carries the entry's SIV output (its name) */
#define VL_HDR_MOVING 2u /* being moved: token holds the origin directory's ID */
#define VL_HDR_OBJECT 4u /* an object file (symlink, special file) */
#define VL_HDR_NAME_MAX 272 /* SIV output of the longest name: 16 + 256 */

struct vl_header {
	unsigned flags;		      /* VL_HDR_* */
	uint8_t id[VL_FILEID_LEN];    /* file ID */
	uint8_t parent[VL_DIRID_LEN]; /* the directory the file is bound to */
	uint8_t token[VL_TOKEN_LEN];  /* its place token, or (MOVING) the origin's ID */
	size_t namelen;		      /* LONG: length of name, 32..272, a multiple of 16 */
	uint8_t name[VL_HDR_NAME_MAX]; /* LONG: the entry's SIV output V || C */
};

/* Serializes h and its MAC into out (cap >= VL_HEADER_LONG_LEN for a long header). Returns
 * the header length (VL_HEADER_SHORT_LEN or VL_HEADER_LONG_LEN), or -EINVAL for fields out of
 * range, -EIO if the MAC fails. */
int vl_header2_build(const struct vl_keys *k, const struct vl_header *h, uint8_t *out,
		     size_t cap) VL_MUST_CHECK;
/* Strictly parses a format-2 header of exactly len bytes (VL_HEADER_SHORT_LEN or
 * VL_HEADER_LONG_LEN, which must agree with the LONG flag) and verifies its MAC in constant
 * time. Nothing is filled unless everything checks. 0 or -EIO. */
int vl_header2_parse(const struct vl_keys *k, const uint8_t *buf, size_t len,
		     struct vl_header *h) VL_MUST_CHECK;

/* Where a file's blocks are, for the size arithmetic (FORMAT.md §3.2, FORMAT-v1.md §3). */
struct vl_layout {
	uint32_t block_size; /* plaintext block size B */
	uint32_t hdrlen;     /* VL_HEADER_V1_LEN, VL_HEADER_SHORT_LEN or VL_HEADER_LONG_LEN */
	bool empty_block;    /* format 2: an empty file is header || one empty final block */
};
/* The layout of a file in a vault of the given format with the given on-disk name kind. */
static inline struct vl_layout vl_layout_of(unsigned format, uint32_t block_size, bool long_name)
{
	struct vl_layout l = { block_size, VL_HEADER_V1_LEN, false };

	if (format >= VL_FORMAT_V2) {
		l.hdrlen = long_name ? VL_HEADER_LONG_LEN : VL_HEADER_SHORT_LEN;
		l.empty_block = true;
	}
	return l;
}

/* Encrypts block `index` (ptlen in 0..block size; 0 only for format 2's empty final block)
 * into out, which must hold ptlen + VL_BLOCK_OVERHEAD bytes: nonce || ciphertext || tag, with
 * a fresh random nonce. 0 or -EIO. */
int vl_block_seal(const struct vl_filekey *fk, uint64_t index, bool last, const uint8_t *pt,
		  size_t ptlen, uint8_t *out, size_t outcap) VL_MUST_CHECK;
/* Same with a caller-chosen nonce: for golden vectors in tests only. */
int vl_block_seal_nonce(const struct vl_filekey *fk, uint64_t index, bool last,
			const uint8_t nonce[static VL_NONCE_LEN], const uint8_t *pt, size_t ptlen,
			uint8_t *out, size_t outcap) VL_MUST_CHECK;
/* Verifies and decrypts block `index` (ctlen = plaintext + VL_BLOCK_OVERHEAD, plaintext of
 * 0 bytes allowed: the caller decides where an empty block is valid). GCM decrypts into pt
 * while it computes the tag; on a tag failure pt is wiped before returning, so no unverified
 * plaintext is ever released. Returns the plaintext length, -EIO (tampered, torn or misplaced
 * block), or -EINVAL (ptcap too small). */
int vl_block_open(const struct vl_filekey *fk, uint64_t index, bool last, const uint8_t *ct,
		  size_t ctlen, uint8_t *pt, size_t ptcap) VL_MUST_CHECK;

/* Plaintext size of a ciphertext of csize bytes: 0, -EIO if no valid file has that size, or
 * -EINVAL for a bad layout. Format 1: 0 bytes and a header alone are empty files; format 2:
 * a file is at least its header and one (empty) block. */
int vl_plain_size(const struct vl_layout *l, uint64_t csize, uint64_t *psize) VL_MUST_CHECK;
/* Ciphertext size of a plaintext of psize bytes (format 1: 0 -> 0; format 2: 0 -> header +
 * one empty block). */
uint64_t vl_cipher_size(const struct vl_layout *l, uint64_t psize);
/* Ciphertext offset of block index. */
static inline uint64_t vl_block_offset(const struct vl_layout *l, uint64_t index)
{
	return l->hdrlen + index * ((uint64_t)l->block_size + VL_BLOCK_OVERHEAD);
}

/* Releases this thread's cipher contexts (also done by a thread-exit destructor). */
void vl_crypto_thread_cleanup(void);

#endif
