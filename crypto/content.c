// SPDX-License-Identifier: GPL-2.0-or-later
/* File contents (FORMAT.md §3): header, per-file keys, AES-256-GCM blocks bound to their
 * file ID, index and last-block flag, and the size arithmetic. */
#include <errno.h>
#include <string.h>

#include "content.h"
#include "kdf.h"
#include "keys_internal.h"
#include "secmem.h"

static const uint8_t magic[4] = { 'V', 'E', 'I', 'L' };

struct vl_filekey {
	uint8_t key[VL_GCM_KEY_LEN];
	uint8_t id[VL_FILEID_LEN];
	uint64_t gen; /* vl_key_generation(): lets the thread's GCM context skip key setup */
};

int vl_filekey_new(struct vl_filekey **out, const struct vl_keys *k, enum vl_stream s,
		   const uint8_t id[static VL_FILEID_LEN])
{
	static const char label[] = "veilfs/v1/file";
	uint8_t info[sizeof(label) - 1 + VL_FILEID_LEN];
	struct vl_filekey *fk;
	const uint8_t *parent;
	int r;

	*out = NULL;
	if (s != VL_STREAM_CONTENT && s != VL_STREAM_OBJECT)
		return -EINVAL;
	parent = s == VL_STREAM_CONTENT ? k->content : k->object;
	fk = vl_secure_alloc(sizeof(*fk));
	if (fk == NULL)
		return -ENOMEM;
	/* K_file = HKDF(IKM = K_content or K_object, salt = "", info = label || id) */
	memcpy(info, label, sizeof(label) - 1);
	memcpy(info + sizeof(label) - 1, id, VL_FILEID_LEN);
	r = vl_hkdf_sha256(fk->key, sizeof(fk->key), parent, 32, NULL, 0, info, sizeof(info));
	if (r != 0)
		goto out;
	memcpy(fk->id, id, VL_FILEID_LEN);
	fk->gen = vl_key_generation();
	*out = fk;
	fk = NULL;
out:
	vl_filekey_free(fk);
	return r;
}

void vl_filekey_free(struct vl_filekey *fk)
{
	vl_secure_free(fk, sizeof(*fk));
}

const uint8_t *vl_filekey_id(const struct vl_filekey *fk)
{
	return fk->id;
}

void vl_header_build(uint8_t out[static VL_HEADER_LEN], const uint8_t id[static VL_FILEID_LEN])
{
	memcpy(out, magic, 4);
	out[4] = 0;
	out[5] = VL_FORMAT_VERSION;
	out[6] = 0;
	out[7] = 0;
	memcpy(out + 8, id, VL_FILEID_LEN);
}

int vl_header_parse(const uint8_t *buf, size_t len, uint8_t id[static VL_FILEID_LEN])
{
	if (buf == NULL || len != VL_HEADER_LEN)
		return -EIO;
	if (memcmp(buf, magic, 4) != 0)
		return -EIO;
	if (buf[4] != 0 || buf[5] != VL_FORMAT_VERSION)
		return -EIO;
	if (buf[6] != 0 || buf[7] != 0) /* reserved */
		return -EIO;
	memcpy(id, buf + 8, VL_FILEID_LEN);
	return 0;
}

/* AAD = id || u64be(index) || u8(last) */
#define AAD_LEN (VL_FILEID_LEN + 8 + 1)
static void block_aad(uint8_t aad[static AAD_LEN], const uint8_t *id, uint64_t index, bool last)
{
	memcpy(aad, id, VL_FILEID_LEN);
	for (int i = 0; i < 8; i++)
		aad[VL_FILEID_LEN + i] = (uint8_t)(index >> (56 - 8 * i));
	aad[VL_FILEID_LEN + 8] = last ? 1 : 0;
}

int vl_block_seal_nonce(const struct vl_filekey *fk, uint64_t index, bool last,
			const uint8_t nonce[static VL_NONCE_LEN], const uint8_t *pt, size_t ptlen,
			uint8_t *out, size_t outcap)
{
	uint8_t aad[AAD_LEN];

	if (ptlen == 0 || ptlen > VL_BLOCK_MAX || outcap < ptlen + VL_BLOCK_OVERHEAD)
		return -EIO;
	block_aad(aad, fk->id, index, last);
	memmove(out, nonce, VL_NONCE_LEN);
	return vl_gcm_seal(fk->key, fk->gen, out, aad, sizeof(aad), pt, ptlen, out + VL_NONCE_LEN,
			   out + VL_NONCE_LEN + ptlen);
}

int vl_block_seal(const struct vl_filekey *fk, uint64_t index, bool last, const uint8_t *pt,
		  size_t ptlen, uint8_t *out, size_t outcap)
{
	uint8_t nonce[VL_NONCE_LEN];

	/* A fresh random nonce per block write (FORMAT.md §3 "Nonces"). */
	if (vl_nonce(nonce) != 0)
		return -EIO;
	return vl_block_seal_nonce(fk, index, last, nonce, pt, ptlen, out, outcap);
}

int vl_block_open(const struct vl_filekey *fk, uint64_t index, bool last, const uint8_t *ct,
		  size_t ctlen, uint8_t *pt, size_t ptcap)
{
	uint8_t aad[AAD_LEN];
	size_t len;
	int r;

	if (ctlen <= VL_BLOCK_OVERHEAD || ctlen > VL_BLOCK_MAX + VL_BLOCK_OVERHEAD)
		return -EIO;
	len = ctlen - VL_BLOCK_OVERHEAD;
	if (ptcap < len)
		return -EINVAL;
	block_aad(aad, fk->id, index, last);
	r = vl_gcm_open(fk->key, fk->gen, ct, aad, sizeof(aad), ct + VL_NONCE_LEN, len,
			ct + VL_NONCE_LEN + len, pt);
	return r != 0 ? -EIO : (int)len;
}

static bool block_size_ok(uint32_t b)
{
	return b >= VL_BLOCK_MIN && b <= VL_BLOCK_MAX && (b & (b - 1)) == 0;
}

int vl_plain_size(uint64_t csize, uint32_t block_size, uint64_t *psize)
{
	uint64_t n, s, q, r;

	if (!block_size_ok(block_size))
		return -EINVAL;
	if (csize == 0) {
		*psize = 0;
		return 0;
	}
	if (csize < VL_HEADER_LEN)
		return -EIO; /* torn header */
	n = csize - VL_HEADER_LEN;
	s = (uint64_t)block_size + VL_BLOCK_OVERHEAD;
	q = n / s;
	r = n % s;
	if (r == 0) {
		*psize = q * block_size;
		return 0;
	}
	if (r <= VL_BLOCK_OVERHEAD)
		return -EIO; /* torn block: no room for a byte of plaintext */
	*psize = q * block_size + r - VL_BLOCK_OVERHEAD;
	return 0;
}

uint64_t vl_cipher_size(uint64_t psize, uint32_t block_size)
{
	uint64_t full, rem;

	if (psize == 0 || block_size == 0)
		return 0;
	full = psize / block_size;
	rem = psize % block_size;
	return VL_HEADER_LEN + full * ((uint64_t)block_size + VL_BLOCK_OVERHEAD) +
	       (rem ? rem + VL_BLOCK_OVERHEAD : 0);
}
