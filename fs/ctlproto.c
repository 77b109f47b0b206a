/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Control socket messages (fs/ctlproto.h). Every length is checked against its bound
 * before it is used, and a message is accepted only when it has exactly the length its
 * header announces. */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "ctlproto.h"

static const uint8_t req_magic[4] = { 'V', 'L', 'Q', '1' };
static const uint8_t resp_magic[4] = { 'V', 'L', 'A', '1' };

static unsigned get16(const uint8_t *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* The argument length an op takes: info none, the path ops 1..VL_CTL_ARG_MAX bytes. */
static bool req_len_ok(unsigned op, size_t len)
{
	switch (op) {
	case VL_CTL_INFO:
		return len == 0;
	case VL_CTL_ENCRYPT_PATH:
	case VL_CTL_DECRYPT_PATH:
		return len >= 1 && len <= VL_CTL_ARG_MAX;
	}
	return false;
}

ssize_t vl_ctl_req_size(const uint8_t hdr[static VL_CTL_REQ_HDR])
{
	size_t len = get16(hdr + 6);

	if (memcmp(hdr, req_magic, 4) || hdr[5] != 0 || !req_len_ok(hdr[4], len))
		return -EPROTO;
	return (ssize_t)(VL_CTL_REQ_HDR + len);
}

int vl_ctl_req_parse(const uint8_t *buf, size_t len, struct vl_ctl_req *req)
{
	ssize_t want;

	if (len < VL_CTL_REQ_HDR)
		return -EPROTO;
	want = vl_ctl_req_size(buf);
	if (want < 0 || (size_t)want != len)
		return -EPROTO;
	/* Paths are C strings on both ends: a NUL would cut them short. */
	if (memchr(buf + VL_CTL_REQ_HDR, '\0', len - VL_CTL_REQ_HDR))
		return -EPROTO;
	req->op = (enum vl_ctl_op)buf[4];
	req->arg = (const char *)buf + VL_CTL_REQ_HDR;
	req->arglen = len - VL_CTL_REQ_HDR;
	return 0;
}

ssize_t vl_ctl_req_encode(const struct vl_ctl_req *req, uint8_t *out, size_t cap)
{
	if (!req_len_ok((unsigned)req->op, req->arglen) ||
	    (req->arglen && memchr(req->arg, '\0', req->arglen)))
		return -EINVAL;
	if (cap < VL_CTL_REQ_HDR + req->arglen)
		return -ENOSPC;
	memcpy(out, req_magic, 4);
	out[4] = (uint8_t)req->op;
	out[5] = 0;
	put16(out + 6, (unsigned)req->arglen);
	if (req->arglen)
		memcpy(out + VL_CTL_REQ_HDR, req->arg, req->arglen);
	return (ssize_t)(VL_CTL_REQ_HDR + req->arglen);
}

ssize_t vl_ctl_resp_size(const uint8_t hdr[static VL_CTL_RESP_HDR])
{
	uint32_t len = get32(hdr + 8);

	if (memcmp(hdr, resp_magic, 4) || get16(hdr + 4) > VL_CTL_STATUS_MAX || hdr[6] || hdr[7] ||
	    len > VL_CTL_TEXT_MAX)
		return -EPROTO;
	return (ssize_t)(VL_CTL_RESP_HDR + (size_t)len);
}

int vl_ctl_resp_parse(const uint8_t *buf, size_t len, struct vl_ctl_resp *resp)
{
	ssize_t want;

	if (len < VL_CTL_RESP_HDR)
		return -EPROTO;
	want = vl_ctl_resp_size(buf);
	if (want < 0 || (size_t)want != len)
		return -EPROTO;
	if (memchr(buf + VL_CTL_RESP_HDR, '\0', len - VL_CTL_RESP_HDR))
		return -EPROTO;
	resp->status = (int)get16(buf + 4);
	resp->text = (const char *)buf + VL_CTL_RESP_HDR;
	resp->textlen = len - VL_CTL_RESP_HDR;
	return 0;
}

ssize_t vl_ctl_resp_encode(const struct vl_ctl_resp *resp, uint8_t *out, size_t cap)
{
	if (resp->status < 0 || resp->status > VL_CTL_STATUS_MAX ||
	    resp->textlen > VL_CTL_TEXT_MAX ||
	    (resp->textlen && memchr(resp->text, '\0', resp->textlen)))
		return -EINVAL;
	if (cap < VL_CTL_RESP_HDR + resp->textlen)
		return -ENOSPC;
	memcpy(out, resp_magic, 4);
	put16(out + 4, (unsigned)resp->status);
	out[6] = 0;
	out[7] = 0;
	put32(out + 8, (uint32_t)resp->textlen);
	if (resp->textlen)
		memcpy(out + VL_CTL_RESP_HDR, resp->text, resp->textlen);
	return (ssize_t)(VL_CTL_RESP_HDR + resp->textlen);
}
