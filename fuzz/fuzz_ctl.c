// SPDX-License-Identifier: GPL-2.0-or-later
/* libFuzzer target: the control socket's messages (fs/ctlproto.c). The first byte picks
 * requests or answers. Properties: a message that parses is canonical (encoding it again
 * gives the input byte for byte), its header announced exactly its length, and a header
 * refused by the size check never parses. */
#include <stdlib.h>
#include <string.h>

#include "fs/ctlproto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t out[VL_CTL_RESP_HDR + VL_CTL_TEXT_MAX];

static void fuzz_req(const uint8_t *d, size_t n)
{
	struct vl_ctl_req q;
	ssize_t want = n >= VL_CTL_REQ_HDR ? vl_ctl_req_size(d) : -1;

	if (vl_ctl_req_parse(d, n, &q) != 0)
		return;
	if (want != (ssize_t)n || q.arg != (const char *)d + VL_CTL_REQ_HDR ||
	    memchr(q.arg, '\0', q.arglen))
		abort();
	if (vl_ctl_req_encode(&q, out, sizeof(out)) != (ssize_t)n || memcmp(out, d, n))
		abort();
}

static void fuzz_resp(const uint8_t *d, size_t n)
{
	struct vl_ctl_resp r;
	ssize_t want = n >= VL_CTL_RESP_HDR ? vl_ctl_resp_size(d) : -1;

	if (vl_ctl_resp_parse(d, n, &r) != 0)
		return;
	if (want != (ssize_t)n || r.status < 0 || r.status > VL_CTL_STATUS_MAX ||
	    memchr(r.text, '\0', r.textlen))
		abort();
	if (vl_ctl_resp_encode(&r, out, sizeof(out)) != (ssize_t)n || memcmp(out, d, n))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	if (data[0] & 1)
		fuzz_resp(data + 1, size - 1);
	else
		fuzz_req(data + 1, size - 1);
	return 0;
}
