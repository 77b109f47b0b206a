// SPDX-License-Identifier: GPL-2.0-or-later
/* libFuzzer target: the content header, the size arithmetic and block opening.
 * Properties: a parsed header rebuilds to the same bytes; every accepted ciphertext size
 * maps back to itself through vl_cipher_size (but the header-only file); a block opens only with its exact length. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/content.h"
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

static struct vl_filekey *fk;

static void setup(void)
{
	uint8_t master[VL_MASTER_KEY_LEN], id[VL_FILEID_LEN];
	struct vl_keys *k = NULL;

	for (int i = 0; i < VL_MASTER_KEY_LEN; i++)
		master[i] = (uint8_t)i;
	for (int i = 0; i < VL_FILEID_LEN; i++)
		id[i] = (uint8_t)(0xa0 + i);
	if (vl_keys_new(&k, master) != 0 || vl_filekey_new(&fk, k, VL_STREAM_CONTENT, id) != 0)
		abort();
	vl_keys_free(k);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t pt[VL_BLOCK_MAX];
	uint8_t id[VL_FILEID_LEN], h[VL_HEADER_LEN];
	uint64_t csize = 0, psize;
	int r;

	if (fk == NULL)
		setup();
	r = vl_header_parse(data, size, id);
	if (r == 0) {
		vl_header_build(h, id);
		if (size != VL_HEADER_LEN || memcmp(h, data, VL_HEADER_LEN) != 0)
			abort();
	} else if (r != -EIO) {
		abort();
	}
	if (size >= VL_HEADER_LEN) {
		/* the rest, as a block of the file whose header came first */
		r = vl_block_open(fk, 0, true, data + VL_HEADER_LEN, size - VL_HEADER_LEN, pt, sizeof(pt));
		if (r != -EIO && r != (int)(size - VL_HEADER_LEN - VL_BLOCK_OVERHEAD))
			abort();
	}
	if (size >= 9) {
		uint32_t b = 1u << (data[0] % 24);

		for (int i = 1; i < 9; i++)
			csize = csize << 8 | data[i];
		r = vl_plain_size(csize, b, &psize);
		/* a header-only file (24 bytes) is the one other encoding of size 0 */
		if (r == 0 && vl_cipher_size(psize, b) != csize &&
		    !(psize == 0 && csize == VL_HEADER_LEN))
			abort();
		if (r != 0 && r != -EIO && r != -EINVAL)
			abort();
	}
	return 0;
}
