// SPDX-License-Identifier: GPL-2.0-or-later
/* libFuzzer target: format 2's directory ID file (FORMAT.md §5.1) and place tokens.
 * Properties: a parsed ID file rebuilds to the same bytes; one built from the input's fields
 * parses back to them, and any flipped bit makes it fail. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/dirid.h"
#include "crypto/keys.h"
#include "crypto/secmem.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* Before the first OpenSSL call: libcrypto allocates in the secure pool. */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (vl_crypto_init() != 0)
		abort();
	return 0;
}

static struct vl_keys *keys;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t buf[VL_IDFILE_MAX], tok[VL_TOKEN_LEN];
	struct vl_idfile f, back;
	int r, n;

	if (keys == NULL) {
		uint8_t master[VL_MASTER_KEY_LEN];

		for (int i = 0; i < VL_MASTER_KEY_LEN; i++)
			master[i] = (uint8_t)i;
		if (vl_keys_new(&keys, master) != 0)
			abort();
	}
	r = vl_idfile_parse(keys, data, size, &f);
	if (r == 0) {
		n = vl_idfile_build(keys, &f, buf, sizeof(buf));
		if (n < 0 || (size_t)n != size || memcmp(buf, data, size) != 0)
			abort();
	} else if (r != -EIO) {
		abort();
	}
	if (size < 40)
		return 0;
	memset(&f, 0, sizeof(f));
	memcpy(f.id, data, 16);
	memcpy(f.ptoken, data + 16, 16);
	f.nplaces = 1 + (data[32] & 1);
	for (unsigned i = 0; i < f.nplaces; i++) {
		size_t len = (data[33 + i] % 2) ? 0 : 1 + data[35 + i] % 64;

		memcpy(f.place[i].parent, data + 8 * i, 16);
		for (size_t k = 0; k < len; k++)
			f.place[i].name[k] = (char)('a' + (data[(37 + k) % size] % 26));
		f.place[i].namelen = len;
	}
	n = vl_idfile_build(keys, &f, buf, sizeof(buf));
	if (n > 0) {
		if (vl_idfile_parse(keys, buf, (size_t)n, &back) != 0 || back.nplaces != f.nplaces ||
		    memcmp(back.id, f.id, 16) || memcmp(back.ptoken, f.ptoken, 16))
			abort();
		buf[data[38] % (unsigned)n] ^= (uint8_t)(1u << (data[39] % 8));
		if (vl_idfile_parse(keys, buf, (size_t)n, &back) == 0)
			abort();
	} else if (n != -EINVAL) {
		abort();
	}
	if (vl_place_token(keys, f.id, f.place[0].parent, f.place[0].name, f.place[0].namelen, tok) != 0)
		abort();
	return 0;
}
