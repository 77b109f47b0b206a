// SPDX-License-Identifier: GPL-2.0-or-later
/* Extended attributes (FORMAT.md §6): names under AES-256-SIV without associated data
 * (deterministic, so a name can be looked up), values under AES-256-GCM bound to the
 * object (file ID or directory ID) and to the encrypted attribute name. */
#include <errno.h>
#include <string.h>

#include "base32.h"
#include "keys_internal.h"
#include "secmem.h"
#include "xattr.h"

#define PREFIX_LEN (sizeof(VL_XATTR_PREFIX) - 1)
#define PADDED_MAX 256
#define SIV_MAX (VL_TAG_LEN + PADDED_MAX)
#define VALUE_MAX (1u << 20)

int vl_xattr_name_encrypt(const struct vl_keys *k, const char *name, size_t len, char *out,
			  size_t outcap)
{
	uint8_t padded[PADDED_MAX], siv[SIV_MAX];
	size_t plen, n;
	int r = -EIO;

	if (name == NULL || len == 0 || len > 255 || memchr(name, '\0', len) != NULL)
		return -EINVAL;
	plen = (len + 15) / 16 * 16;
	if (outcap < PREFIX_LEN + vl_base32_len(VL_TAG_LEN + plen) + 1)
		return -ERANGE;
	memset(padded, 0, sizeof(padded));
	memcpy(padded, name, len);
	/* AD = [] (no components): the name is bound to nothing but the key. */
	if (vl_siv_seal(VL_SIV_AES256, k->xattr_names, k->xattr_names_gen, NULL, 0, padded, plen,
			siv) != 0)
		goto out;
	memcpy(out, VL_XATTR_PREFIX, PREFIX_LEN);
	n = vl_base32_encode(siv, VL_TAG_LEN + plen, out + PREFIX_LEN, outcap - PREFIX_LEN);
	if (n == 0)
		goto out;
	r = (int)(PREFIX_LEN + n);
out:
	vl_wipe(padded, sizeof(padded));
	return r;
}

int vl_xattr_name_decrypt(const struct vl_keys *k, const char *enc, size_t len, char *out,
			  size_t outcap)
{
	uint8_t siv[SIV_MAX], pt[PADDED_MAX];
	size_t plen, nlen;
	int n, r = -EIO;

	if (enc == NULL || len <= PREFIX_LEN || memcmp(enc, VL_XATTR_PREFIX, PREFIX_LEN) != 0)
		return -EINVAL;
	if (len - PREFIX_LEN > vl_base32_len(SIV_MAX))
		return -EINVAL;
	n = vl_base32_decode(enc + PREFIX_LEN, len - PREFIX_LEN, siv, sizeof(siv));
	if (n < 32 || n % 16 != 0)
		return -EINVAL;
	plen = (size_t)n - VL_TAG_LEN;
	if (vl_siv_open(VL_SIV_AES256, k->xattr_names, k->xattr_names_gen, NULL, 0, siv, (size_t)n,
			pt) != 0)
		goto out;
	nlen = plen;
	while (nlen > 0 && pt[nlen - 1] == '\0')
		nlen--;
	if (plen - nlen >= 16 || nlen == 0 || memchr(pt, '\0', nlen) != NULL)
		goto out;
	if (outcap < nlen + 1) {
		r = -ERANGE;
		goto out;
	}
	memcpy(out, pt, nlen);
	out[nlen] = '\0';
	r = (int)nlen;
out:
	vl_wipe(pt, sizeof(pt));
	return r;
}

/* AAD = binding (16) || encoded name (without NUL). */
static int value_aad(uint8_t *aad, size_t cap, const uint8_t *binding, const char *encname,
		     size_t *aadlen)
{
	size_t nlen = strnlen(encname, VL_XATTR_ENCNAME_MAX + 1);

	if (nlen == 0 || nlen > VL_XATTR_ENCNAME_MAX || 16 + nlen > cap)
		return -EINVAL;
	memcpy(aad, binding, 16);
	memcpy(aad + 16, encname, nlen);
	*aadlen = 16 + nlen;
	return 0;
}

int vl_xattr_value_seal(const struct vl_keys *k, const uint8_t binding[static 16],
			const char *encname, const uint8_t *val, size_t len, uint8_t *out,
			size_t outcap)
{
	uint8_t aad[16 + VL_XATTR_ENCNAME_MAX];
	size_t aadlen;
	int r;

	if (len > VALUE_MAX)
		return -E2BIG;
	if (outcap < len + VL_BLOCK_OVERHEAD)
		return -ERANGE;
	r = value_aad(aad, sizeof(aad), binding, encname, &aadlen);
	if (r != 0)
		return r;
	if (vl_random(out, VL_NONCE_LEN) != 0)
		return -EIO;
	if (vl_gcm_seal(k->xattr_values, k->xattr_values_gen, out, aad, aadlen, val, len,
			out + VL_NONCE_LEN, out + VL_NONCE_LEN + len) != 0)
		return -EIO;
	return (int)(len + VL_BLOCK_OVERHEAD);
}

int vl_xattr_value_open(const struct vl_keys *k, const uint8_t binding[static 16],
			const char *encname, const uint8_t *ct, size_t len, uint8_t *out,
			size_t outcap)
{
	uint8_t aad[16 + VL_XATTR_ENCNAME_MAX];
	size_t aadlen, plen;
	int r;

	if (len < VL_BLOCK_OVERHEAD || len - VL_BLOCK_OVERHEAD > VALUE_MAX)
		return -EIO;
	plen = len - VL_BLOCK_OVERHEAD;
	if (outcap < plen)
		return -ERANGE;
	r = value_aad(aad, sizeof(aad), binding, encname, &aadlen);
	if (r != 0)
		return r;
	if (vl_gcm_open(k->xattr_values, k->xattr_values_gen, ct, aad, aadlen, ct + VL_NONCE_LEN,
			plen, ct + VL_NONCE_LEN + plen, out) != 0)
		return -EIO;
	return (int)plen;
}
