// SPDX-License-Identifier: GPL-2.0-or-later
/* Directory IDs (FORMAT.md §5): HMAC-SHA256 under K_dirid, deterministic so that two
 * devices creating the same path offline agree on the ID; the ID files of both formats; and
 * format 2's place tokens (HMAC-SHA256 under K_meta). */
#include <errno.h>
#include <string.h>

#include "dirid.h"
#include "kdf.h"
#include "keys_internal.h"
#include "names.h"
#include "secmem.h"

int vl_dirid_root(const struct vl_keys *k, uint8_t out[static VL_DIRID_LEN])
{
	static const char label[] = "veilfs/v1/root";
	uint8_t mac[32];
	int r;

	r = vl_hmac_sha256(mac, k->dirid, sizeof(k->dirid), (const uint8_t *)label,
			   sizeof(label) - 1);
	if (r == 0)
		memcpy(out, mac, VL_DIRID_LEN);
	vl_wipe(mac, sizeof(mac));
	return r == 0 ? 0 : -EIO;
}

int vl_dirid_derive(const struct vl_keys *k, const uint8_t parent[static VL_DIRID_LEN],
		    const char *enc, size_t enclen, uint8_t out[static VL_DIRID_LEN])
{
	uint8_t msg[VL_DIRID_LEN + VL_ENCNAME_MAX], mac[32];
	int r;

	if (enc == NULL || enclen == 0 || enclen > VL_ENCNAME_MAX)
		return -EINVAL;
	memcpy(msg, parent, VL_DIRID_LEN);
	memcpy(msg + VL_DIRID_LEN, enc, enclen);
	r = vl_hmac_sha256(mac, k->dirid, sizeof(k->dirid), msg, VL_DIRID_LEN + enclen);
	if (r == 0)
		memcpy(out, mac, VL_DIRID_LEN);
	vl_wipe(mac, sizeof(mac));
	return r == 0 ? 0 : -EIO;
}

void vl_dirid_file_build(uint8_t out[static VL_DIRID_FILE_LEN], const uint8_t id[static VL_DIRID_LEN])
{
	out[0] = 0;
	out[1] = 1;
	memcpy(out + 2, id, VL_DIRID_LEN);
}

int vl_dirid_file_parse(const uint8_t *buf, size_t len, uint8_t id[static VL_DIRID_LEN])
{
	if (buf == NULL || len != VL_DIRID_FILE_LEN || buf[0] != 0 || buf[1] != 1)
		return -EIO;
	memcpy(id, buf + 2, VL_DIRID_LEN);
	return 0;
}

/* ---- format 2 (FORMAT.md §5.1, §5.3) ---- */

static const char idfile_label[] = "veilfs/v2/dirid";
static const char place_label[] = "veilfs/v2/place";

#define ID2_FLAGS 2
#define ID2_RESERVED 3
#define ID2_ID 4
#define ID2_PTOKEN 20
#define ID2_PLACES 36

/* HMAC-SHA256(K_meta, label || a || b)[0..16]: the message is built in one buffer. */
static int meta_mac(const struct vl_keys *k, const char *label, const uint8_t *a, size_t alen,
		    uint8_t out[static VL_MAC_LEN])
{
	uint8_t msg[32 + VL_IDFILE_MAX], full[32];
	size_t ll = strlen(label);
	int r;

	if (ll + alen > sizeof(msg))
		return -EINVAL;
	memcpy(msg, label, ll);
	memcpy(msg + ll, a, alen);
	r = vl_hmac_sha256(full, k->meta, sizeof(k->meta), msg, ll + alen);
	if (r == 0)
		memcpy(out, full, VL_MAC_LEN);
	vl_wipe(full, sizeof(full));
	return r == 0 ? 0 : -EIO;
}

static bool zero16(const uint8_t *p)
{
	uint8_t acc = 0;

	for (int i = 0; i < 16; i++)
		acc |= p[i];
	return acc == 0;
}

static bool place_name_ok(const char *n, size_t len)
{
	if (len < 1 || len > VL_ENCNAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (n[i] < 0x21 || n[i] > 0x7e)
			return false;
	return true;
}

/* A place is a root place (zero parent, no name) or a named one. */
static bool place_ok(const struct vl_place *p)
{
	if (p->namelen == 0)
		return zero16(p->parent);
	return place_name_ok(p->name, p->namelen);
}

int vl_idfile_build(const struct vl_keys *k, const struct vl_idfile *f, uint8_t *out, size_t cap)
{
	size_t o = ID2_PLACES;
	int r;

	if (f->nplaces < 1 || f->nplaces > 2)
		return -EINVAL;
	for (unsigned i = 0; i < f->nplaces; i++) {
		if (!place_ok(&f->place[i]))
			return -EINVAL;
		o += 18 + f->place[i].namelen;
	}
	if (cap < o + VL_MAC_LEN)
		return -EINVAL;
	out[0] = 0;
	out[1] = VL_FORMAT_V2;
	out[ID2_FLAGS] = f->nplaces == 2 ? VL_IDFILE_TWO_PLACES : 0;
	out[ID2_RESERVED] = 0;
	memcpy(out + ID2_ID, f->id, VL_DIRID_LEN);
	memcpy(out + ID2_PTOKEN, f->ptoken, VL_TOKEN_LEN);
	o = ID2_PLACES;
	for (unsigned i = 0; i < f->nplaces; i++) {
		const struct vl_place *p = &f->place[i];

		memcpy(out + o, p->parent, VL_DIRID_LEN);
		out[o + 16] = (uint8_t)(p->namelen >> 8);
		out[o + 17] = (uint8_t)p->namelen;
		memcpy(out + o + 18, p->name, p->namelen);
		o += 18 + p->namelen;
	}
	r = meta_mac(k, idfile_label, out, o, out + o);
	return r < 0 ? r : (int)(o + VL_MAC_LEN);
}

int vl_idfile_parse(const struct vl_keys *k, const uint8_t *buf, size_t len, struct vl_idfile *f)
{
	uint8_t mac[VL_MAC_LEN];
	struct vl_idfile t;
	size_t o = ID2_PLACES;

	if (buf == NULL || len < ID2_PLACES + 18 + VL_MAC_LEN || len > VL_IDFILE_MAX)
		return -EIO;
	if (buf[0] != 0 || buf[1] != VL_FORMAT_V2 || buf[ID2_RESERVED] != 0 ||
	    (buf[ID2_FLAGS] & ~VL_IDFILE_TWO_PLACES) != 0)
		return -EIO;
	memset(&t, 0, sizeof(t));
	t.nplaces = (buf[ID2_FLAGS] & VL_IDFILE_TWO_PLACES) ? 2 : 1;
	for (unsigned i = 0; i < t.nplaces; i++) {
		struct vl_place *p = &t.place[i];

		if (len - VL_MAC_LEN < o + 18)
			return -EIO;
		memcpy(p->parent, buf + o, VL_DIRID_LEN);
		p->namelen = (size_t)buf[o + 16] << 8 | buf[o + 17];
		if (p->namelen > VL_ENCNAME_MAX || len - VL_MAC_LEN - (o + 18) < p->namelen)
			return -EIO;
		memcpy(p->name, buf + o + 18, p->namelen);
		p->name[p->namelen] = '\0';
		if (!place_ok(p))
			return -EIO;
		o += 18 + p->namelen;
	}
	if (o + VL_MAC_LEN != len) /* trailing data, or a short file */
		return -EIO;
	if (meta_mac(k, idfile_label, buf, o, mac) != 0 || !vl_ct_equal(mac, buf + o, VL_MAC_LEN))
		return -EIO;
	memcpy(t.id, buf + ID2_ID, VL_DIRID_LEN);
	memcpy(t.ptoken, buf + ID2_PTOKEN, VL_TOKEN_LEN);
	*f = t;
	return 0;
}

int vl_place_disk_name(const char *full, size_t fulllen, uint32_t name_max,
		       char out[static VL_ENCNAME_MAX + 1])
{
	if (fulllen == 0 || fulllen > VL_ENCNAME_MAX)
		return -EINVAL;
	if (fulllen > name_max) {
		int r = vl_name_long(full, fulllen, out);

		return r < 0 ? r : VL_LONGNAME_LEN;
	}
	memcpy(out, full, fulllen);
	out[fulllen] = '\0';
	return (int)fulllen;
}

int vl_place_token(const struct vl_keys *k, const uint8_t id[static VL_DIRID_LEN],
		   const uint8_t parent[static VL_DIRID_LEN], const char *disk, size_t disklen,
		   uint8_t out[static VL_TOKEN_LEN])
{
	uint8_t msg[2 * VL_DIRID_LEN + 2 + VL_ENCNAME_MAX];

	if (disklen > VL_ENCNAME_MAX || (disklen > 0 && disk == NULL))
		return -EINVAL;
	memcpy(msg, id, VL_DIRID_LEN);
	memcpy(msg + VL_DIRID_LEN, parent, VL_DIRID_LEN);
	msg[2 * VL_DIRID_LEN] = (uint8_t)(disklen >> 8);
	msg[2 * VL_DIRID_LEN + 1] = (uint8_t)disklen;
	if (disklen)
		memcpy(msg + 2 * VL_DIRID_LEN + 2, disk, disklen);
	return meta_mac(k, place_label, msg, 2 * VL_DIRID_LEN + 2 + disklen, out);
}
