/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The control socket's messages (docs in veilfs(1), CONTROL SOCKET): one request and one
 * response per connection, each a fixed header and a bounded body. Pure functions over
 * buffers: strict parsers (exact length, known values only, no NUL in text) that the
 * daemon, veilctl, the unit tests and fuzz/fuzz_ctl.c share.
 *
 *   request:  "VLQ1" OP(1) 0(1) LEN(2, big-endian) ARG(LEN)
 *   response: "VLA1" STATUS(2, big-endian) 0(2) LEN(4, big-endian) TEXT(LEN)
 *
 * OP is 1 (info: LEN 0), 2 (encrypt-path) or 3 (decrypt-path: LEN 1..VL_CTL_ARG_MAX).
 * STATUS is 0, or the errno of the failure with a one-line reason as TEXT. */
#ifndef VEILFS_FS_CTLPROTO_H
#define VEILFS_FS_CTLPROTO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "../crypto/common.h"

#define VL_CTL_REQ_HDR 8
#define VL_CTL_RESP_HDR 12
/* Longest path argument: deep ciphertext paths are longer than PATH_MAX. */
#define VL_CTL_ARG_MAX 32768
/* Longest response text (the longest vl_path_encrypt answer, fs/resolve.h). */
#define VL_CTL_TEXT_MAX (1u << 20)
/* Highest errno a response may carry. */
#define VL_CTL_STATUS_MAX 4095

enum vl_ctl_op {
	VL_CTL_INFO = 1,
	VL_CTL_ENCRYPT_PATH = 2,
	VL_CTL_DECRYPT_PATH = 3,
};

struct vl_ctl_req {
	enum vl_ctl_op op;
	const char *arg; /* not NUL-terminated; points into the parsed buffer */
	size_t arglen;
};

struct vl_ctl_resp {
	int status;	  /* 0 or a positive errno */
	const char *text; /* not NUL-terminated; points into the parsed buffer */
	size_t textlen;
};

/* Total size of the request whose header is hdr, or -EPROTO. */
ssize_t vl_ctl_req_size(const uint8_t hdr[static VL_CTL_REQ_HDR]) VL_MUST_CHECK;
/* Parses exactly len bytes as one request. 0 or -EPROTO. */
int vl_ctl_req_parse(const uint8_t *buf, size_t len, struct vl_ctl_req *req) VL_MUST_CHECK;
/* Writes req into out (cap bytes). Its length, -EINVAL for a request the parser would
 * refuse, or -ENOSPC. */
ssize_t vl_ctl_req_encode(const struct vl_ctl_req *req, uint8_t *out, size_t cap) VL_MUST_CHECK;

/* The same for responses. */
ssize_t vl_ctl_resp_size(const uint8_t hdr[static VL_CTL_RESP_HDR]) VL_MUST_CHECK;
int vl_ctl_resp_parse(const uint8_t *buf, size_t len, struct vl_ctl_resp *resp) VL_MUST_CHECK;
ssize_t vl_ctl_resp_encode(const struct vl_ctl_resp *resp, uint8_t *out, size_t cap) VL_MUST_CHECK;

#endif
