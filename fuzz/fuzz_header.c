// SPDX-License-Identifier: GPL-2.0-or-later
/* libFuzzer target: the content headers of both formats (FORMAT.md §3.1, FORMAT-v1.md §3),
 * the size arithmetic of every layout, and block opening.
 * Properties: a parsed header (format 1, format 2 short and long) rebuilds to the same bytes;
 * every accepted ciphertext size maps back to itself through vl_cipher_size (but format 1's
 * header-only file); a block opens only with its exact length. */
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
static struct vl_keys *keys;

static void setup(void)
{
	uint8_t master[VL_MASTER_KEY_LEN], id[VL_FILEID_LEN];

	for (int i = 0; i < VL_MASTER_KEY_LEN; i++)
		master[i] = (uint8_t)i;
	for (int i = 0; i < VL_FILEID_LEN; i++)
		id[i] = (uint8_t)(0xa0 + i);
	if (vl_keys_new(&keys, master) != 0 || vl_filekey_new(&fk, keys, VL_STREAM_CONTENT, id) != 0)
		abort();
}

static void headers(const uint8_t *data, size_t size)
{
	uint8_t id[VL_FILEID_LEN], h[VL_HEADER_LONG_LEN];
	struct vl_header hd;
	int r, n;

	r = vl_header_parse(data, size, id);
	if (r == 0) {
		vl_header_build(h, id);
		if (size != VL_HEADER_V1_LEN || memcmp(h, data, VL_HEADER_V1_LEN) != 0)
			abort();
	} else if (r != -EIO) {
		abort();
	}
	r = vl_header2_parse(keys, data, size, &hd);
	if (r == 0) {
		n = vl_header2_build(keys, &hd, h, sizeof(h));
		if (n < 0 || (size_t)n != size || memcmp(h, data, size) != 0)
			abort();
	} else if (r != -EIO) {
		abort();
	}
	/* A well-formed header built from the input's bytes parses back to the same fields. */
	if (size >= 64) {
		memset(&hd, 0, sizeof(hd));
		hd.flags = data[0] & 7u;
		memcpy(hd.id, data + 1, 16);
		memcpy(hd.parent, data + 17, 16);
		memcpy(hd.token, data + 33, 16);
		hd.namelen = 16u * (1u + data[49] % 17u);
		memcpy(hd.name, data, size < hd.namelen ? size : hd.namelen);
		n = vl_header2_build(keys, &hd, h, sizeof(h));
		if (n > 0) {
			struct vl_header back;

			if (vl_header2_parse(keys, h, (size_t)n, &back) != 0 || back.flags != hd.flags ||
			    memcmp(back.id, hd.id, 16) || memcmp(back.parent, hd.parent, 16) ||
			    memcmp(back.token, hd.token, 16))
				abort();
			h[data[50] % (unsigned)n] ^= (uint8_t)(1u << (data[51] % 8)); /* any flip fails */
			if (vl_header2_parse(keys, h, (size_t)n, &back) == 0)
				abort();
		} else if (n != -EINVAL) {
			abort();
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t pt[VL_BLOCK_MAX];
	static const uint32_t hdrs[] = { VL_HEADER_V1_LEN, VL_HEADER_SHORT_LEN, VL_HEADER_LONG_LEN };
	uint64_t csize = 0, psize;
	int r;

	if (fk == NULL)
		setup();
	headers(data, size);
	if (size >= VL_HEADER_V1_LEN) {
		/* the rest, as a block of the file whose header came first */
		r = vl_block_open(fk, 0, true, data + VL_HEADER_V1_LEN, size - VL_HEADER_V1_LEN, pt,
				  sizeof(pt));
		if (r != -EIO && r != (int)(size - VL_HEADER_V1_LEN - VL_BLOCK_OVERHEAD))
			abort();
	}
	if (size >= 10) {
		struct vl_layout l;

		for (int i = 1; i < 9; i++)
			csize = csize << 8 | data[i];
		l.block_size = 1u << (data[0] % 24);
		l.hdrlen = hdrs[data[9] % 3];
		l.empty_block = l.hdrlen != VL_HEADER_V1_LEN;
		r = vl_plain_size(&l, csize, &psize);
		/* format 1's header-only file is the one other encoding of size 0 */
		if (r == 0 && vl_cipher_size(&l, psize) != csize &&
		    !(!l.empty_block && psize == 0 && csize == VL_HEADER_V1_LEN))
			abort();
		if (r == 0 && l.empty_block && csize < l.hdrlen + VL_BLOCK_OVERHEAD)
			abort(); /* format 2: nothing shorter than a header and a block is a file */
		if (r != 0 && r != -EIO && r != -EINVAL)
			abort();
	}
	return 0;
}
