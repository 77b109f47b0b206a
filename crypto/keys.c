// SPDX-License-Identifier: GPL-2.0-or-later
/* Subkeys of the master key (FORMAT.md §1): HKDF-SHA256, empty salt, one label each. The
 * format-1 labels are kept by format 2, which adds K_meta; both formats derive all seven. */
#include <errno.h>
#include <string.h>

#include "kdf.h"
#include "keys.h"
#include "keys_internal.h"
#include "secmem.h"

static int derive(uint8_t *out, size_t len, const uint8_t *master, const char *label)
{
	return vl_hkdf_sha256(out, len, master, VL_MASTER_KEY_LEN, NULL, 0,
			      (const uint8_t *)label, strlen(label));
}

int vl_keys_new(struct vl_keys **out, const uint8_t master[static VL_MASTER_KEY_LEN])
{
	struct vl_keys *k;
	int r;

	*out = NULL;
	k = vl_secure_alloc(sizeof(*k));
	if (k == NULL)
		return -ENOMEM;
	if ((r = derive(k->content, sizeof(k->content), master, "veilfs/v1/content")) != 0 ||
	    (r = derive(k->object, sizeof(k->object), master, "veilfs/v1/object")) != 0 ||
	    (r = derive(k->names, sizeof(k->names), master, "veilfs/v1/names")) != 0 ||
	    (r = derive(k->dirid, sizeof(k->dirid), master, "veilfs/v1/dirid")) != 0 ||
	    (r = derive(k->xattr_names, sizeof(k->xattr_names), master, "veilfs/v1/xattr-names")) != 0 ||
	    (r = derive(k->xattr_values, sizeof(k->xattr_values), master, "veilfs/v1/xattr-values")) != 0 ||
	    (r = derive(k->meta, sizeof(k->meta), master, "veilfs/v2/meta")) != 0)
		goto out;
	k->names_gen = vl_key_generation();
	k->xattr_names_gen = vl_key_generation();
	k->xattr_values_gen = vl_key_generation();
	*out = k;
	k = NULL;
	r = 0;
out:
	vl_keys_free(k);
	return r;
}

int vl_keys_dup(struct vl_keys **out, const struct vl_keys *k)
{
	struct vl_keys *n;

	*out = NULL;
	n = vl_secure_alloc(sizeof(*n));
	if (n == NULL)
		return -ENOMEM;
	memcpy(n, k, sizeof(*n));
	n->names_gen = vl_key_generation();
	n->xattr_names_gen = vl_key_generation();
	n->xattr_values_gen = vl_key_generation();
	*out = n;
	return 0;
}

void vl_keys_free(struct vl_keys *k)
{
	vl_secure_free(k, sizeof(*k));
}
