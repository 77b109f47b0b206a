// SPDX-License-Identifier: GPL-2.0-or-later
/* Directory IDs (FORMAT.md §5): HMAC-SHA256 under K_dirid, deterministic so that two
 * devices creating the same path offline agree on the ID. */
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
