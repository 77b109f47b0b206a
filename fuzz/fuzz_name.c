// SPDX-License-Identifier: GPL-2.0-or-later
/* libFuzzer target: on-disk name handling. Properties: classification agrees with
 * decryption (a SHORT name is never "not of encoded form"); base32 decoding is the exact
 * inverse of encoding; a name that decrypts encrypts back to the same text; the dirid file
 * parser and the sidecar check only accept what their builders produce. Keys: master
 * 00..1f, root directory ID, as in the golden vectors. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/base32.h"
#include "crypto/dirid.h"
#include "crypto/keys.h"
#include "crypto/names.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct vl_keys *keys;
static uint8_t root[VL_DIRID_LEN];

static void setup(void)
{
	uint8_t master[VL_MASTER_KEY_LEN];

	for (int i = 0; i < VL_MASTER_KEY_LEN; i++)
		master[i] = (uint8_t)i;
	if (vl_keys_new(&keys, master) != 0 || vl_dirid_root(keys, root) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t bin[4096];
	static char txt[8192], dec[256], enc[VL_ENCNAME_MAX + 1], ln[VL_LONGNAME_LEN + 1];
	const char *s = (const char *)data;
	enum vl_ondisk kind = vl_name_classify(s, size);
	enum vl_kind k;
	int n, r;

	if (keys == NULL)
		setup();

	n = vl_base32_decode(s, size, bin, sizeof(bin));
	if (n >= 0) {
		size_t e = vl_base32_encode(bin, (size_t)n, txt, sizeof(txt));

		if (e != size || memcmp(txt, data, size) != 0)
			abort();
	}

	r = vl_name_decrypt(keys, root, s, size, dec, sizeof(dec), &k);
	if (kind == VL_ONDISK_SHORT && r == -EINVAL)
		abort();
	if (r > 0) {
		if (kind != VL_ONDISK_SHORT || strlen(dec) != (size_t)r)
			abort();
		n = vl_name_encrypt(keys, root, dec, (size_t)r, k, enc, sizeof(enc));
		if (n != (int)size || memcmp(enc, data, size) != 0)
			abort();
		/* and its long form checks against itself as sidecar contents */
		if (vl_name_long(s, size, ln) != 0 || vl_name_sidecar_check(ln, s, size) != 0)
			abort();
	} else if (r != -EIO && r != -EINVAL) {
		abort();
	}

	uint8_t id[VL_DIRID_LEN], f[VL_DIRID_FILE_LEN];
	if (vl_dirid_file_parse(data, size, id) == 0) {
		vl_dirid_file_build(f, id);
		if (size != VL_DIRID_FILE_LEN || memcmp(f, data, size) != 0)
			abort();
	}

	/* "longname\0contents" */
	const char *nul = memchr(s, '\0', size);
	if (nul != NULL) {
		size_t ll = (size_t)(nul - s), cl = size - ll - 1;

		if (vl_name_sidecar_check(s, nul + 1, cl) == 0) {
			if (ll != VL_LONGNAME_LEN || vl_name_classify(nul + 1, cl) != VL_ONDISK_SHORT ||
			    vl_name_long(nul + 1, cl, ln) != 0 || memcmp(ln + 1, s + 1, VL_LONGNAME_LEN - 1) != 0)
				abort();
		}
	}
	return 0;
}
