/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The control socket's messages (fs/ctlproto.c) and the mountinfo parser (fs/mountinfo.c):
 * round trips, and every way a message or a line can be malformed is refused. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>

#include "../../fs/ctlproto.h"
#include "../../fs/mountinfo.h"
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
	ok(!memcmp(buf, "VLQ1\x02\x00\x00\x0a", 8), "its header is VLQ1, op 2, 0, length 10 big-endian");
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
	ok(vl_ctl_req_encode(&q, buf, sizeof(buf)) == -EINVAL, "a path op without a path is not encoded");
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
	ok(vl_ctl_req_encode(&q, buf, VL_CTL_REQ_HDR + 9) == -ENOSPC, "too small an output: -ENOSPC");
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

static int mi(const char *line, struct vl_mountent *e)
{
	return vl_mountinfo_parse(line, strlen(line), e);
}

static void test_mountinfo(void)
{
	struct vl_mountent *e = malloc(sizeof(*e));

	if (!e)
		abort();
	ok(mi("74 50 0:43 / /tmp/veilfs-test.BNoK4A/mnt rw,nosuid,nodev,relatime - fuse.veilfs "
	      "/tmp/c rw,user_id=1000,group_id=1000",
	      e) == 0 &&
		   e->dev == makedev(0, 43) && !strcmp(e->mountpoint, "/tmp/veilfs-test.BNoK4A/mnt") &&
		   !strcmp(e->fstype, "fuse.veilfs") && e->owner == 1000,
	   "a FUSE line: device, mountpoint, type and owner");
	ok(mi("36 35 98:0 /mnt1 /mnt\\0402 rw,noatime master:1 shared:7 - ext3 /dev/root rw,errors=continue",
	      e) == 0 &&
		   e->dev == makedev(98, 0) && !strcmp(e->mountpoint, "/mnt 2") && e->owner == -1,
	   "optional fields and an escaped space");
	ok(mi("36 35 98:0 / /a\\134b rw - ext4 /dev/x rw", e) == 0 && !strcmp(e->mountpoint, "/a\\b"),
	   "an escaped backslash");
	ok(mi("36 35 98:0 / /a\\999 rw - ext4 /dev/x rw", e) == -EINVAL, "a bad escape: refused");
	ok(mi("36 35 98:0 / /a\\000 rw - ext4 /dev/x rw", e) == -EINVAL, "an escaped NUL: refused");
	ok(mi("36 35 98:0 / /a\\04 - ext4 /dev/x rw", e) == -EINVAL, "a cut escape: refused");
	ok(mi("36 35 98:0 / /a rw ext4 /dev/x rw", e) == -EINVAL, "no separator: refused");
	ok(mi("36 35 98:0 / /a rw - ext4 /dev/x", e) == -EINVAL, "a field missing after it: refused");
	ok(mi("36 35 98:0 / /a rw - ext4 /dev/x rw extra", e) == -EINVAL, "one too many: refused");
	ok(mi("36 35 98-0 / /a rw - ext4 /dev/x rw", e) == -EINVAL, "a device without ':': refused");
	ok(mi("36 35 98:0x / /a rw - ext4 /dev/x rw", e) == -EINVAL, "a device with junk: refused");
	ok(mi("36 35 4294967296:0 / /a rw - ext4 /dev/x rw", e) == -EINVAL, "a major over 32 bits: refused");
	ok(mi("36  35 98:0 / /a rw - ext4 /dev/x rw", e) == -EINVAL, "an empty field: refused");
	ok(mi("36 35 98:0 / /a rw - ext4 /dev/x rw ", e) == -EINVAL, "a trailing space: refused");
	ok(mi("", e) == -EINVAL, "an empty line: refused");
	ok(mi("1 2 0:5 / /m rw - fuse.veilfs c rw,user_id=12x", e) == 0 && e->owner == -1,
	   "a malformed user_id is no owner");
	free(e);
}

int main(void)
{
	plan(47);
	test_requests();
	test_responses();
	test_mountinfo();
	return done_testing();
}
