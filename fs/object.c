/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Object files (FORMAT.md §6): a type byte and its payload, stored in the content format
 * under K_object. Parsing is strict: known type, exact payload length. */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../crypto/content.h"
#include "../crypto/secmem.h"
#include "fileio.h"
#include "object.h"
#include "vault.h"

/* Longest object plaintext: type byte + longest symlink target. */
#define VL_OBJECT_MAX (1 + VL_SYMLINK_MAX)

static int parse(const uint8_t *buf, size_t len, struct vl_object *o)
{
	uint64_t rdev = 0;
	size_t i;

	if (len < 1)
		return -EIO;
	memset(o, 0, sizeof(*o));
	switch (buf[0]) {
	case 'l':
		if (len < 2 || len > VL_OBJECT_MAX || memchr(buf + 1, '\0', len - 1))
			return -EIO;
		o->type = S_IFLNK;
		o->tlen = len - 1;
		memcpy(o->target, buf + 1, len - 1);
		o->target[len - 1] = '\0';
		return 0;
	case 'p':
	case 's':
		if (len != 1)
			return -EIO;
		o->type = buf[0] == 'p' ? S_IFIFO : S_IFSOCK;
		return 0;
	case 'c':
	case 'b':
		if (len != 9)
			return -EIO;
		for (i = 0; i < 8; i++)
			rdev = rdev << 8 | buf[1 + i];
		o->type = buf[0] == 'c' ? S_IFCHR : S_IFBLK;
		o->rdev = (dev_t)rdev;
		return 0;
	default:
		return -EIO;
	}
}

/* Serializes o into buf (VL_OBJECT_MAX bytes). Returns the length or -EINVAL. */
static int build(const struct vl_object *o, uint8_t *buf)
{
	uint64_t rdev = (uint64_t)o->rdev;
	int i;

	switch (o->type & S_IFMT) {
	case S_IFLNK:
		if (o->tlen < 1 || o->tlen > VL_SYMLINK_MAX || memchr(o->target, '\0', o->tlen))
			return -EINVAL;
		buf[0] = 'l';
		memcpy(buf + 1, o->target, o->tlen);
		return (int)(1 + o->tlen);
	case S_IFIFO:
		buf[0] = 'p';
		return 1;
	case S_IFSOCK:
		buf[0] = 's';
		return 1;
	case S_IFCHR:
	case S_IFBLK:
		buf[0] = (o->type & S_IFMT) == S_IFCHR ? 'c' : 'b';
		for (i = 7; i >= 0; i--) {
			buf[1 + i] = (uint8_t)rdev;
			rdev >>= 8;
		}
		return 9;
	default:
		return -EINVAL;
	}
}

int vl_object_read(const struct vl_vault *v, int fd, const struct vl_binding *b,
		   struct vl_object *o)
{
	uint8_t buf[VL_OBJECT_MAX];
	struct vl_content *c = NULL;
	uint64_t size;
	ssize_t n;
	int r;

	r = vl_content_new(&c, v, VL_STREAM_OBJECT, b);
	if (r < 0)
		return r;
	r = vl_content_size(c, fd, &size);
	if (r < 0)
		goto out;
	r = -EIO;
	if (size < 1 || size > VL_OBJECT_MAX)
		goto out;
	n = vl_content_read(c, fd, buf, (size_t)size, 0);
	if (n < 0) {
		r = (int)n;
		goto out;
	}
	r = (uint64_t)n == size ? parse(buf, (size_t)n, o) : -EIO;
out:
	vl_content_free(c);
	vl_wipe(buf, sizeof(buf));
	return r;
}

int vl_object_write(const struct vl_vault *v, int fd, const struct vl_binding *b,
		    const struct vl_object *o)
{
	uint8_t buf[VL_OBJECT_MAX];
	struct vl_content *c = NULL;
	struct stat st;
	ssize_t n;
	int len, r;

	len = build(o, buf);
	if (len < 0)
		return len;
	if (fstat(fd, &st) < 0) {
		r = -errno;
		goto out;
	}
	if (st.st_size != 0) {
		r = -EEXIST; /* objects are written once, into a new file */
		goto out;
	}
	r = vl_content_new(&c, v, VL_STREAM_OBJECT, b);
	if (r < 0)
		goto out;
	r = vl_content_create(c, fd);
	if (r < 0)
		goto out;
	n = vl_content_write(c, fd, buf, (size_t)len, 0);
	r = n < 0 ? (int)n : 0;
out:
	vl_content_free(c);
	vl_wipe(buf, sizeof(buf));
	return r;
}

int vl_object_symlink_size(const struct vl_vault *v, bool long_name, uint64_t csize, uint64_t *size)
{
	struct vl_layout l = vl_vault_layout(v, long_name);
	uint64_t p;
	int r;

	r = vl_plain_size(&l, csize, &p);
	if (r < 0)
		return r;
	if (p < 2)
		return -EIO;
	*size = p - 1;
	return 0;
}
