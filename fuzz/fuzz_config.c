// SPDX-License-Identifier: GPL-2.0-or-later
/* libFuzzer target: the veilfs.conf parser. Property: whatever it accepts is canonical, so
 * writing the parsed struct back gives the input byte for byte (the wrap AAD relies on
 * this). */
#include <stdlib.h>
#include <string.h>

#include "crypto/config.h"
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256], out[VL_CONFIG_MAX + 1];
	struct vl_config c;
	int r, n;

	r = vl_config_parse((const char *)data, size, &c, err, sizeof(err));
	if (memchr(err, '\0', sizeof(err)) == NULL)
		abort(); /* the message is always terminated */
	if (r == 0) {
		n = vl_config_format(&c, out, sizeof(out));
		if (n != (int)size || memcmp(out, data, size) != 0)
			abort();
	}
	return 0;
}
