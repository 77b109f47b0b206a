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
#include "crypto/conflict.h"
#include "crypto/dirid.h"
#include "crypto/keys.h"
#include "crypto/names.h"
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
static uint8_t root[VL_DIRID_LEN];

static void setup(void)
{
	uint8_t master[VL_MASTER_KEY_LEN];

	for (int i = 0; i < VL_MASTER_KEY_LEN; i++)
		master[i] = (uint8_t)i;
	if (vl_keys_new(&keys, master) != 0 || vl_dirid_root(keys, root) != 0)
		abort();
}

static int fuzz_found;

/* Candidate callback: finds the (p, s) split the display name was built from. */
static int fuzz_cand(void *ctx, const char *p, size_t plen, const char *sfx, size_t slen)
{
	const char *orig = ctx;

	(void)sfx;
	if (memcmp(p, orig, plen) == 0 && plen + slen > plen && !memcmp(sfx, orig + plen, slen))
		fuzz_found = 1;
	return 0;
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

	/* Conflict-copy grammar: a split gives an encoded prefix and a valid provider text;
	 * a display name built from the input is found again among its candidates. */
	{
		enum vl_ondisk ek;
		size_t el = vl_conflict_split(s, size, &ek);
		static char disp[VL_CONFLICT_NAME_MAX + 1];

		if (el > 0 && (el >= size || vl_name_classify(s, el) != ek || !vl_conflict_suffix_ok(s + el, size - el) ||
			       vl_conflict_is_junk(s, size)))
			abort();
		if (el > 0) {
			/* Any accepted text, however long, has a fallback form within 255 bytes. */
			n = vl_conflict_fallback("report.txt", 10, s + el, size - el, s, size, disp, sizeof(disp));
			if (n <= 0 || n > VL_CONFLICT_NAME_MAX || !vl_conflict_is_fallback(disp, (size_t)n))
				abort();
		}
		if (size > 1 && size <= VL_CONFLICT_NAME_MAX && vl_conflict_suffix_ok(s + size / 2, size - size / 2) &&
		    !memchr(s, '\0', size / 2) && !memchr(s, '/', size / 2)) {
			n = vl_conflict_display(s, size / 2, s + size / 2, size - size / 2, disp, sizeof(disp));
			if (n < 0 || (size_t)n != size)
				abort();
			(void)vl_conflict_candidates(disp, (size_t)n, VL_CONFLICT_NAME_MAX, fuzz_cand, (void *)s);
			if (!fuzz_found)
				abort();
			fuzz_found = 0;
		}
	}
	return 0;
}
