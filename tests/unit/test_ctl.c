/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The control socket's messages (fs/ctlproto.c): round trips, and every way a message can be
 * malformed is refused. Mount lookups (fs/mounts.c) on this machine's /proc. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "../../fs/ctlproto.h"
#include "../../fs/mounts.h"
#include "tap.h"

static uint8_t buf[VL_CTL_RESP_HDR + VL_CTL_TEXT_MAX + 16];

static int req_parse(const uint8_t *b, size_t len)
{
	struct vl_ctl_req q;

	return vl_ctl_req_parse(b, len, &q);
}

static void test_requests(void)
{
	static char big[VL_CTL_ARG_MAX + 1];
	struct vl_ctl_req q = { .op = VL_CTL_ENCRYPT_PATH, .arg = "docs/a.txt", .arglen = 10 }, p;
	ssize_t n;

	n = vl_ctl_req_encode(&q, buf, sizeof(buf));
	ok(n == VL_CTL_REQ_HDR + 10, "a request encodes to header + argument");
	ok(!memcmp(buf, "VLQ1\x02\x00\x00\x0a", 8),
	   "its header is VLQ1, op 2, 0, length 10 big-endian");
	ok(vl_ctl_req_size(buf) == n, "the header announces the whole length");
	ok(vl_ctl_req_parse(buf, (size_t)n, &p) == 0 && p.op == VL_CTL_ENCRYPT_PATH &&
		   p.arglen == 10 && !memcmp(p.arg, "docs/a.txt", 10),
	   "it parses back to the same request");
	ok(req_parse(buf, (size_t)n - 1) == -EPROTO, "one byte short: refused");
	ok(req_parse(buf, (size_t)n + 1) == -EPROTO, "one byte of trailing data: refused");
	buf[0] = 'X';
	ok(req_parse(buf, (size_t)n) == -EPROTO, "a wrong magic: refused");
	buf[0] = 'V';
	buf[5] = 1;
	ok(req_parse(buf, (size_t)n) == -EPROTO, "a non-zero reserved byte: refused");
	buf[5] = 0;
	buf[4] = 4;
	ok(req_parse(buf, (size_t)n) == -EPROTO, "an unknown op: refused");
	buf[4] = 0;
	ok(req_parse(buf, (size_t)n) == -EPROTO, "op 0: refused");
	buf[4] = VL_CTL_INFO;
	ok(req_parse(buf, (size_t)n) == -EPROTO, "info with an argument: refused");
	buf[4] = VL_CTL_DECRYPT_PATH;
	buf[12] = '\0';
	ok(req_parse(buf, (size_t)n) == -EPROTO, "a NUL inside the path: refused");

	q.op = VL_CTL_INFO;
	q.arg = NULL;
	q.arglen = 0;
	n = vl_ctl_req_encode(&q, buf, sizeof(buf));
	ok(n == VL_CTL_REQ_HDR && vl_ctl_req_parse(buf, (size_t)n, &p) == 0 && p.op == VL_CTL_INFO,
	   "info: a header alone, and it parses");
	q.op = VL_CTL_DECRYPT_PATH;
	ok(vl_ctl_req_encode(&q, buf, sizeof(buf)) == -EINVAL,
	   "a path op without a path is not encoded");
	memcpy(buf, "VLQ1\x03\x00\x00\x00", 8);
	ok(vl_ctl_req_size(buf) == -EPROTO, "and a path op of length 0 is refused");

	memset(big, 'a', sizeof(big));
	q.arg = big;
	q.arglen = VL_CTL_ARG_MAX;
	n = vl_ctl_req_encode(&q, buf, sizeof(buf));
	ok(n == VL_CTL_REQ_HDR + VL_CTL_ARG_MAX && vl_ctl_req_parse(buf, (size_t)n, &p) == 0,
	   "the longest argument (%d bytes) encodes and parses", VL_CTL_ARG_MAX);
	q.arglen = VL_CTL_ARG_MAX + 1;
	ok(vl_ctl_req_encode(&q, buf, sizeof(buf)) == -EINVAL, "one byte more is not encoded");
	memcpy(buf, "VLQ1\x02\x00\x80\x01", 8);
	ok(vl_ctl_req_size(buf) == -EPROTO, "and a header announcing it is refused");
	q.arglen = 10;
	ok(vl_ctl_req_encode(&q, buf, VL_CTL_REQ_HDR + 9) == -ENOSPC,
	   "too small an output: -ENOSPC");
}

static void test_responses(void)
{
	static char text[VL_CTL_TEXT_MAX + 1];
	struct vl_ctl_resp a = { .status = 0, .text = "docs\n", .textlen = 5 }, b;
	ssize_t n;

	n = vl_ctl_resp_encode(&a, buf, sizeof(buf));
	ok(n == VL_CTL_RESP_HDR + 5 && !memcmp(buf, "VLA1\0\0\0\0\0\0\0\x05", 12),
	   "a response is VLA1, status, 0 0, length 32 bits big-endian, text");
	ok(vl_ctl_resp_size(buf) == n && vl_ctl_resp_parse(buf, (size_t)n, &b) == 0 &&
		   b.status == 0 && b.textlen == 5 && !memcmp(b.text, "docs\n", 5),
	   "it parses back");
	ok(vl_ctl_resp_parse(buf, (size_t)n + 1, &b) == -EPROTO, "trailing data: refused");
	ok(vl_ctl_resp_parse(buf, (size_t)n - 1, &b) == -EPROTO, "cut short: refused");
	a.status = ENOENT;
	n = vl_ctl_resp_encode(&a, buf, sizeof(buf));
	ok(n > 0 && vl_ctl_resp_parse(buf, (size_t)n, &b) == 0 && b.status == ENOENT,
	   "an errno travels");
	buf[4] = 0x10; /* status 4096 + ENOENT */
	ok(vl_ctl_resp_parse(buf, (size_t)n, &b) == -EPROTO, "a status above %d: refused",
	   VL_CTL_STATUS_MAX);
	buf[4] = 0;
	buf[6] = 1;
	ok(vl_ctl_resp_parse(buf, (size_t)n, &b) == -EPROTO, "a non-zero reserved byte: refused");
	buf[6] = 0;
	buf[12] = '\0';
	ok(vl_ctl_resp_parse(buf, (size_t)n, &b) == -EPROTO, "a NUL in the text: refused");
	a.status = -1;
	ok(vl_ctl_resp_encode(&a, buf, sizeof(buf)) == -EINVAL, "a negative status is not encoded");
	memset(text, 'x', sizeof(text));
	a.status = 0;
	a.text = text;
	a.textlen = VL_CTL_TEXT_MAX;
	n = vl_ctl_resp_encode(&a, buf, sizeof(buf));
	ok(n == VL_CTL_RESP_HDR + VL_CTL_TEXT_MAX && vl_ctl_resp_parse(buf, (size_t)n, &b) == 0,
	   "the longest text encodes and parses");
	a.textlen = VL_CTL_TEXT_MAX + 1;
	ok(vl_ctl_resp_encode(&a, buf, sizeof(buf)) == -EINVAL, "one byte more is not encoded");
	memcpy(buf, "VLA1\0\0\0\0\x00\x10\x00\x01", 12);
	ok(vl_ctl_resp_size(buf) == -EPROTO, "and a header announcing it is refused");
}

static void test_mounts(void)
{
	struct vl_mountent *e = malloc(sizeof(*e));
	struct stat st;

	if (!e || stat("/proc", &st) < 0)
		abort();
	ok(vl_mount_find("/proc", 0, e) == 0 && !strcmp(e->fstype, "proc") && e->dev == st.st_dev,
	   "/proc is found by its path, as proc, with the st_dev stat gives");
	ok(vl_mount_find(NULL, st.st_dev, e) == 0 && !strcmp(e->mountpoint, "/proc"),
	   "and by its device number");
	ok(vl_mount_find("/proc", makedev(4095, 1048575), e) == -ENOENT,
	   "a path with another device number: -ENOENT");
	ok(vl_mount_find("/no/such/mount", 0, e) == -ENOENT, "a path that is no mount: -ENOENT");
	free(e);
}

int main(void)
{
	plan(35);
	test_requests();
	test_responses();
	test_mounts();
	return done_testing();
}
