// SPDX-License-Identifier: GPL-2.0-or-later
/* Entry names (FORMAT.md §4): NUL padding to 16, AES-256-SIV with the parent directory ID as
 * the one associated-data component, lowercase base32, kind markers and long names. */
#include <errno.h>
#include <string.h>

#include "base32.h"
#include "kdf.h"
#include "keys_internal.h"
#include "names.h"
#include "secmem.h"

#define NAME_MAX_BYTES 255
#define PADDED_MAX 256			     /* 255 rounded up to 16 */
#define SIV_MAX (VL_TAG_LEN + PADDED_MAX)    /* 272 */
#define HASH_B32_LEN 52			     /* base32 of 32 bytes */

static bool plain_name_ok(const char *name, size_t len)
{
	if (len == 0 || len > NAME_MAX_BYTES)
		return false;
	if (memchr(name, '\0', len) != NULL || memchr(name, '/', len) != NULL)
		return false;
	if ((len == 1 && name[0] == '.') || (len == 2 && name[0] == '.' && name[1] == '.'))
		return false;
	return true;
}

/* Length of the decoded SIV output if text is base32 of a possible one (16 + 16k bytes,
 * 1 <= k <= 16), else 0. Decodes into buf (SIV_MAX bytes). */
static size_t siv_b32_decode(const char *text, size_t len, uint8_t buf[static SIV_MAX])
{
	int n;

	if (len < vl_base32_len(32) || len > vl_base32_len(SIV_MAX))
		return 0;
	n = vl_base32_decode(text, len, buf, SIV_MAX);
	if (n < 32 || n > SIV_MAX || n % 16 != 0)
		return 0;
	return (size_t)n;
}

int vl_name_encrypt(const struct vl_keys *k, const uint8_t dirid[static VL_DIRID_LEN],
		    const char *name, size_t namelen, enum vl_kind kind, char *out, size_t outcap)
{
	uint8_t padded[PADDED_MAX], siv[SIV_MAX];
	struct vl_siv_ad ad = { dirid, VL_DIRID_LEN };
	size_t plen, o = 0, n;
	int r = -EIO;

	if (!plain_name_ok(name, namelen) || (kind != VL_KIND_PLAIN && kind != VL_KIND_OBJECT))
		return -EINVAL;
	plen = (namelen + 15) / 16 * 16;
	if (outcap < (kind == VL_KIND_OBJECT) + vl_base32_len(VL_TAG_LEN + plen) + 1)
		return -ERANGE;
	memset(padded, 0, sizeof(padded));
	memcpy(padded, name, namelen);
	if (vl_siv_seal(VL_SIV_AES256, k->names, k->names_gen, &ad, 1, padded, plen, siv) != 0)
		goto out;
	if (kind == VL_KIND_OBJECT)
		out[o++] = VL_MARK_OBJECT;
	n = vl_base32_encode(siv, VL_TAG_LEN + plen, out + o, outcap - o);
	if (n == 0)
		goto out;
	r = (int)(o + n);
out:
	vl_wipe(padded, sizeof(padded));
	return r;
}

int vl_name_decrypt(const struct vl_keys *k, const uint8_t dirid[static VL_DIRID_LEN],
		    const char *enc, size_t enclen, char *out, size_t outcap, enum vl_kind *kind)
{
	uint8_t siv[SIV_MAX], pt[PADDED_MAX];
	struct vl_siv_ad ad = { dirid, VL_DIRID_LEN };
	enum vl_kind kd = VL_KIND_PLAIN;
	size_t n, plen, len;
	int r = -EIO;

	if (enclen > 0 && enc[0] == VL_MARK_OBJECT) {
		kd = VL_KIND_OBJECT;
		enc++;
		enclen--;
	}
	n = siv_b32_decode(enc, enclen, siv);
	if (n == 0)
		return -EINVAL;
	plen = n - VL_TAG_LEN;
	if (vl_siv_open(VL_SIV_AES256, k->names, k->names_gen, &ad, 1, siv, n, pt) != 0)
		goto out;
	/* Strip the NUL padding: 0 to 15 bytes; a longer run means an empty name or a
	 * writer that is not us. */
	len = plen;
	while (len > 0 && pt[len - 1] == '\0')
		len--;
	if (plen - len >= 16 || !plain_name_ok((const char *)pt, len))
		goto out;
	if (outcap < len + 1) {
		r = -ERANGE;
		goto out;
	}
	memcpy(out, pt, len);
	out[len] = '\0';
	*kind = kd;
	r = (int)len;
out:
	vl_wipe(pt, sizeof(pt));
	return r;
}

static bool hash_name_ok(const char *name, size_t len)
{
	uint8_t h[32];

	return len == VL_LONGNAME_LEN && vl_base32_decode(name + 1, len - 1, h, sizeof(h)) == 32;
}

enum vl_ondisk vl_name_classify(const char *name, size_t len)
{
	uint8_t siv[SIV_MAX];

	if (name == NULL || len == 0)
		return VL_ONDISK_FOREIGN;
	if ((len == strlen(VL_CONFIG_FILE) && memcmp(name, VL_CONFIG_FILE, len) == 0) ||
	    (len == strlen(VL_DIRID_FILE) && memcmp(name, VL_DIRID_FILE, len) == 0))
		return VL_ONDISK_RESERVED;
	if (name[0] == VL_MARK_LONG || name[0] == VL_MARK_SIDECAR) {
		if (!hash_name_ok(name, len))
			return VL_ONDISK_FOREIGN;
		return name[0] == VL_MARK_LONG ? VL_ONDISK_LONG : VL_ONDISK_SIDECAR;
	}
	if (name[0] == VL_MARK_OBJECT) {
		name++;
		len--;
	}
	return siv_b32_decode(name, len, siv) != 0 ? VL_ONDISK_SHORT : VL_ONDISK_FOREIGN;
}

static int hash_name(char mark, const char *enc, size_t enclen, char out[static VL_LONGNAME_LEN + 1])
{
	uint8_t h[32];

	if (enclen == 0 || enclen > VL_ENCNAME_MAX)
		return -EIO;
	if (vl_sha256(h, enc, enclen) != 0)
		return -EIO;
	out[0] = mark;
	if (vl_base32_encode(h, sizeof(h), out + 1, VL_LONGNAME_LEN) != HASH_B32_LEN)
		return -EIO;
	return 0;
}

int vl_name_long(const char *enc, size_t enclen, char out[static VL_LONGNAME_LEN + 1])
{
	return hash_name(VL_MARK_LONG, enc, enclen, out);
}

int vl_name_sidecar(const char *enc, size_t enclen, char out[static VL_LONGNAME_LEN + 1])
{
	return hash_name(VL_MARK_SIDECAR, enc, enclen, out);
}

int vl_name_sidecar_check(const char *longname, const char *content, size_t len)
{
	char want[VL_LONGNAME_LEN + 1];
	size_t lnlen;

	if (longname == NULL || content == NULL)
		return -EIO;
	lnlen = strnlen(longname, VL_LONGNAME_LEN + 1);
	if (vl_name_classify(longname, lnlen) != VL_ONDISK_LONG &&
	    vl_name_classify(longname, lnlen) != VL_ONDISK_SIDECAR)
		return -EIO;
	/* The contents must be a full encoded name (marker? + SIV base32), nothing else. */
	if (len == 0 || len > VL_ENCNAME_MAX || content[0] == VL_MARK_LONG ||
	    content[0] == VL_MARK_SIDECAR || vl_name_classify(content, len) != VL_ONDISK_SHORT)
		return -EIO;
	if (hash_name(longname[0], content, len, want) != 0)
		return -EIO;
	return vl_ct_equal(want, longname, VL_LONGNAME_LEN) ? 0 : -EIO;
}

int vl_name_full_from_siv(bool object, const uint8_t *siv, size_t len,
			  char out[static VL_ENCNAME_MAX + 1])
{
	size_t o = object ? 1 : 0, n;

	if (siv == NULL || len < 32 || len > SIV_MAX || len % 16 != 0)
		return -EINVAL;
	if (object)
		out[0] = VL_MARK_OBJECT;
	n = vl_base32_encode(siv, len, out + o, VL_ENCNAME_MAX + 1 - o);
	return n == 0 ? -EINVAL : (int)(o + n);
}

int vl_name_siv_from_full(const char *full, size_t len, uint8_t *out, size_t cap, bool *object)
{
	uint8_t siv[SIV_MAX];
	bool obj = len > 0 && full[0] == VL_MARK_OBJECT;
	size_t n;

	if (full == NULL || len == 0 || vl_name_classify(full, len) != VL_ONDISK_SHORT)
		return -EINVAL;
	n = siv_b32_decode(full + obj, len - obj, siv);
	if (n == 0 || cap < n)
		return -EINVAL;
	memcpy(out, siv, n);
	*object = obj;
	return (int)n;
}
