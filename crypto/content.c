// SPDX-License-Identifier: GPL-2.0-or-later
/* File contents (FORMAT.md §3, FORMAT-v1.md §3): headers of both formats (format 2's bound to
 * the file's directory and authenticated with K_meta), per-file keys, AES-256-GCM blocks bound
 * to their file ID, index and last-block flag, and the size arithmetic. */
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

void vl_header_build(uint8_t out[static VL_HEADER_V1_LEN], const uint8_t id[static VL_FILEID_LEN])
{
	memcpy(out, magic, 4);
	out[4] = 0;
	out[5] = VL_FORMAT_V1;
	out[6] = 0;
	out[7] = 0;
	memcpy(out + 8, id, VL_FILEID_LEN);
}

int vl_header_parse(const uint8_t *buf, size_t len, uint8_t id[static VL_FILEID_LEN])
{
	if (buf == NULL || len != VL_HEADER_V1_LEN)
		return -EIO;
	if (memcmp(buf, magic, 4) != 0)
		return -EIO;
	if (buf[4] != 0 || buf[5] != VL_FORMAT_V1)
		return -EIO;
	if (buf[6] != 0 || buf[7] != 0) /* reserved */
		return -EIO;
	memcpy(id, buf + 8, VL_FILEID_LEN);
	return 0;
}

/* Format 2 header layout (FORMAT.md §3.1): offsets of the fields. */
#define H2_FLAGS 6
#define H2_RESERVED 7
#define H2_ID 8
#define H2_PARENT 24
#define H2_TOKEN 40
#define H2_NAMELEN 56
#define H2_NAME 58
static const char header_label[] = "veilfs/v2/header";

/* mac = HMAC-SHA256(K_meta, "veilfs/v2/header" || buf[0..len))[0..16] */
static int header_mac(const struct vl_keys *k, const uint8_t *buf, size_t len,
		      uint8_t mac[static VL_MAC_LEN])
{
	uint8_t msg[sizeof(header_label) - 1 + VL_HEADER_LONG_LEN], full[32];
	int r;

	if (len > VL_HEADER_LONG_LEN - VL_MAC_LEN)
		return -EINVAL;
	memcpy(msg, header_label, sizeof(header_label) - 1);
	memcpy(msg + sizeof(header_label) - 1, buf, len);
	r = vl_hmac_sha256(full, k->meta, sizeof(k->meta), msg, sizeof(header_label) - 1 + len);
	if (r == 0)
		memcpy(mac, full, VL_MAC_LEN);
	vl_wipe(full, sizeof(full));
	return r == 0 ? 0 : -EIO;
}

static bool header2_fields_ok(const struct vl_header *h)
{
	if (h->flags & ~(unsigned)(VL_HDR_LONG | VL_HDR_MOVING | VL_HDR_OBJECT))
		return false;
	if ((h->flags & VL_HDR_LONG) && (h->flags & VL_HDR_MOVING))
		return false;
	if (h->flags & VL_HDR_LONG)
		return h->namelen >= 32 && h->namelen <= VL_HDR_NAME_MAX && h->namelen % 16 == 0;
	return true;
}

int vl_header2_build(const struct vl_keys *k, const struct vl_header *h, uint8_t *out, size_t cap)
{
	size_t len;
	int r;

	if (!header2_fields_ok(h))
		return -EINVAL;
	len = (h->flags & VL_HDR_LONG) ? VL_HEADER_LONG_LEN : VL_HEADER_SHORT_LEN;
	if (cap < len)
		return -EINVAL;
	memset(out, 0, len);
	memcpy(out, magic, 4);
	out[5] = VL_FORMAT_V2;
	out[H2_FLAGS] = (uint8_t)h->flags;
	memcpy(out + H2_ID, h->id, VL_FILEID_LEN);
	memcpy(out + H2_PARENT, h->parent, VL_DIRID_LEN);
	memcpy(out + H2_TOKEN, h->token, VL_TOKEN_LEN);
	if (h->flags & VL_HDR_LONG) {
		out[H2_NAMELEN] = (uint8_t)(h->namelen >> 8);
		out[H2_NAMELEN + 1] = (uint8_t)h->namelen;
		memcpy(out + H2_NAME, h->name, h->namelen); /* the rest stays zero */
	}
	r = header_mac(k, out, len - VL_MAC_LEN, out + len - VL_MAC_LEN);
	return r < 0 ? r : (int)len;
}

int vl_header2_parse(const struct vl_keys *k, const uint8_t *buf, size_t len, struct vl_header *h)
{
	uint8_t mac[VL_MAC_LEN];
	struct vl_header t;
	bool lng;

	if (buf == NULL || (len != VL_HEADER_SHORT_LEN && len != VL_HEADER_LONG_LEN))
		return -EIO;
	if (memcmp(buf, magic, 4) != 0 || buf[4] != 0 || buf[5] != VL_FORMAT_V2 ||
	    buf[H2_RESERVED] != 0)
		return -EIO;
	memset(&t, 0, sizeof(t));
	t.flags = buf[H2_FLAGS];
	lng = (t.flags & VL_HDR_LONG) != 0;
	if (lng != (len == VL_HEADER_LONG_LEN))
		return -EIO;
	if (lng) {
		t.namelen = (size_t)buf[H2_NAMELEN] << 8 | buf[H2_NAMELEN + 1];
		if (t.namelen > VL_HDR_NAME_MAX)
			return -EIO;
		/* Padding must be zero: one header, one byte string. */
		for (size_t i = H2_NAME + t.namelen; i < H2_NAME + VL_HDR_NAME_MAX; i++)
			if (buf[i] != 0)
				return -EIO;
	}
	if (!header2_fields_ok(&t))
		return -EIO;
	/* The MAC before anything is used. */
	if (header_mac(k, buf, len - VL_MAC_LEN, mac) != 0 ||
	    !vl_ct_equal(mac, buf + len - VL_MAC_LEN, VL_MAC_LEN))
		return -EIO;
	memcpy(t.id, buf + H2_ID, VL_FILEID_LEN);
	memcpy(t.parent, buf + H2_PARENT, VL_DIRID_LEN);
	memcpy(t.token, buf + H2_TOKEN, VL_TOKEN_LEN);
	if (lng)
		memcpy(t.name, buf + H2_NAME, t.namelen);
	*h = t;
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

	if (ptlen > VL_BLOCK_MAX || outcap < ptlen + VL_BLOCK_OVERHEAD)
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

	if (ctlen < VL_BLOCK_OVERHEAD || ctlen > VL_BLOCK_MAX + VL_BLOCK_OVERHEAD)
		return -EIO;
	len = ctlen - VL_BLOCK_OVERHEAD;
	if (ptcap < len)
		return -EINVAL;
	block_aad(aad, fk->id, index, last);
	r = vl_gcm_open(fk->key, fk->gen, ct, aad, sizeof(aad), ct + VL_NONCE_LEN, len,
			ct + VL_NONCE_LEN + len, pt);
	return r != 0 ? -EIO : (int)len;
}

static bool layout_ok(const struct vl_layout *l)
{
	uint32_t b = l->block_size;

	return b >= VL_BLOCK_MIN && b <= VL_BLOCK_MAX && (b & (b - 1)) == 0 &&
	       (l->hdrlen == VL_HEADER_V1_LEN || l->hdrlen == VL_HEADER_SHORT_LEN ||
		l->hdrlen == VL_HEADER_LONG_LEN);
}

int vl_plain_size(const struct vl_layout *l, uint64_t csize, uint64_t *psize)
{
	uint64_t n, s, q, r;

	if (!layout_ok(l))
		return -EINVAL;
	if (!l->empty_block && csize == 0) {
		*psize = 0; /* format 1: a file never written */
		return 0;
	}
	/* Format 2: at least a header and the (possibly empty) final block; a file cut to its
	 * header or to nothing is invalid. Format 1: a torn header. */
	if (csize < l->hdrlen + (l->empty_block ? VL_BLOCK_OVERHEAD : 0))
		return -EIO;
	n = csize - l->hdrlen;
	s = (uint64_t)l->block_size + VL_BLOCK_OVERHEAD;
	q = n / s;
	r = n % s;
	if (r == 0) {
		if (q == 0 && l->empty_block)
			return -EIO; /* unreachable: n >= 28 */
		*psize = q * l->block_size;
		return 0;
	}
	if (l->empty_block && q == 0 && r == VL_BLOCK_OVERHEAD) {
		*psize = 0; /* the empty final block */
		return 0;
	}
	if (r <= VL_BLOCK_OVERHEAD)
		return -EIO; /* torn block: no room for a byte of plaintext */
	*psize = q * l->block_size + r - VL_BLOCK_OVERHEAD;
	return 0;
}

uint64_t vl_cipher_size(const struct vl_layout *l, uint64_t psize)
{
	uint64_t full, rem;

	if (!layout_ok(l))
		return 0;
	if (psize == 0)
		return l->empty_block ? l->hdrlen + VL_BLOCK_OVERHEAD : 0;
	full = psize / l->block_size;
	rem = psize % l->block_size;
	return l->hdrlen + full * ((uint64_t)l->block_size + VL_BLOCK_OVERHEAD) +
	       (rem ? rem + VL_BLOCK_OVERHEAD : 0);
}
