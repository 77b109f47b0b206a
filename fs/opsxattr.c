/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The FUSE extended-attribute operations (FORMAT.md §6): user.* names and values sealed
 * under the file's keys in the backing file's own xattrs. Conventions as in fs/ops.c. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sys/xattr.h>

#include "../crypto/content.h"
#include "../crypto/secmem.h"
#include "../crypto/xattr.h"
#include "fileio.h"
#include "log.h"
#include "ops.h"
#include "opsint.h"
#include "vault.h"

/* Largest backing xattr value: the kernel's XATTR_SIZE_MAX. */
#define VL_XATTR_VALUE_MAX 65536

/* Only the user namespace is stored; security.*, trusted.* and system.* (ACLs) are not
 * supported on a vault. */
static bool xattr_ours(const char *name)
{
	return strncmp(name, "user.", 5) == 0;
}

/* Encrypts an xattr name for the backing file. An encoding longer than the backing limit
 * (XATTR_NAME_MAX: plaintext names over about 135 bytes) cannot exist there: ENODATA for
 * lookups, ERANGE (as for any name too long) for setxattr. */
static int xattr_encname(struct vl_fs *fs, const char *name, char *enc, size_t cap, bool set)
{
	int r = vl_xattr_name_encrypt(vl_vault_keys(fs->vault), name, strlen(name), enc, cap);

	if (r == -ERANGE || r == -E2BIG || (r >= 0 && r > XATTR_NAME_MAX))
		return set ? -ERANGE : -ENODATA;
	return r < 0 ? r : 0;
}

/* The 16 bytes an xattr value is bound to: the directory ID, or the file ID (an empty
 * regular file gets its header first when create is set; without it, ENODATA). */
static int xattr_binding(struct vl_fs *fs, struct vl_inode *in, bool create,
			 uint8_t out[static VL_FILEID_LEN])
{
	struct vl_content *tmp = NULL, *c;
	struct stat st;
	int fd = -1, r;

	if (in->type == S_IFDIR) {
		vl_inode_dirid(in, out);
		return 0;
	}
	pthread_rwlock_wrlock(&in->lock);
	r = -errno;
	if (fstatat(in->fd, "", &st, AT_EMPTY_PATH) < 0)
		goto out;
	r = -ENODATA;
	if (st.st_size == 0 && !create)
		goto out;
	fd = vl_op_reopen(in, create ? O_RDWR : O_RDONLY);
	if (fd < 0) {
		r = fd;
		goto out;
	}
	c = in->content;
	if (!c) {
		r = vl_content_new(&tmp, fs->vault,
				   in->is_object ? VL_STREAM_OBJECT : VL_STREAM_CONTENT, in->bind);
		if (r < 0)
			goto out;
		c = tmp;
	}
	r = vl_content_file_id(c, fd, out);
	if (create)
		vl_op_note_own(in, fd); /* an empty file got its header */
out:
	pthread_rwlock_unlock(&in->lock);
	vl_content_free(tmp);
	if (fd >= 0)
		close(fd);
	return r;
}

void vl_op_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size)
{
	struct vl_fs *fs = vl_op_enter(req);
	struct vl_inode *in = vl_op_inode_of(req, ino);
	char enc[VL_XATTR_ENCNAME_MAX + 1];
	uint8_t bind[VL_FILEID_LEN];
	uint8_t *ct = NULL, *pt = NULL;
	char p[32];
	ssize_t n;
	int r;

	r = -EOPNOTSUPP;
	if (!xattr_ours(name))
		goto out;
	r = xattr_encname(fs, name, enc, sizeof(enc), false);
	if (r < 0)
		goto out;
	r = -ENOMEM;
	ct = malloc(VL_XATTR_VALUE_MAX);
	pt = malloc(VL_XATTR_VALUE_MAX);
	if (!ct || !pt)
		goto out;
	vl_op_proc_path(p, in->fd);
	n = getxattr(p, enc, ct, VL_XATTR_VALUE_MAX);
	if (n < 0) {
		r = -errno;
		goto out;
	}
	r = xattr_binding(fs, in, false, bind);
	if (r == -ENODATA)
		r = -EIO; /* a value bound to a header that is gone */
	if (r < 0)
		goto out;
	r = vl_xattr_value_open(vl_vault_keys(fs->vault), bind, enc, ct, (size_t)n, pt,
				VL_XATTR_VALUE_MAX);
	if (r < 0)
		goto out;
	if (size && (size_t)r > size)
		r = -ERANGE;
out:
	if (r < 0)
		fuse_reply_err(req, -r);
	else if (size == 0)
		fuse_reply_xattr(req, (size_t)r);
	else
		fuse_reply_buf(req, (const char *)pt, (size_t)r);
	if (pt)
		vl_wipe(pt, VL_XATTR_VALUE_MAX);
	free(pt);
	free(ct);
}

void vl_op_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name, const char *value,
		    size_t size, int flags)
{
	struct vl_fs *fs = vl_op_enter(req);
	struct vl_inode *in = vl_op_inode_of(req, ino);
	char enc[VL_XATTR_ENCNAME_MAX + 1];
	uint8_t bind[VL_FILEID_LEN];
	uint8_t *ct = NULL;
	char p[32];
	int r;

	r = -EOPNOTSUPP;
	if (!xattr_ours(name))
		goto out;
	r = -EROFS;
	if (fs->readonly)
		goto out;
	r = -E2BIG;
	if (size > VL_XATTR_VALUE_MAX - VL_BLOCK_OVERHEAD)
		goto out;
	r = xattr_encname(fs, name, enc, sizeof(enc), true);
	if (r < 0)
		goto out;
	r = xattr_binding(fs, in, true, bind);
	if (r < 0)
		goto out;
	r = -ENOMEM;
	ct = malloc(size + VL_BLOCK_OVERHEAD);
	if (!ct)
		goto out;
	r = vl_xattr_value_seal(vl_vault_keys(fs->vault), bind, enc, (const uint8_t *)value, size,
				ct, size + VL_BLOCK_OVERHEAD);
	if (r < 0)
		goto out;
	vl_op_proc_path(p, in->fd);
	r = setxattr(p, enc, ct, (size_t)r, flags) < 0 ? -errno : 0;
out:
	free(ct);
	fuse_reply_err(req, -r);
}

void vl_op_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
	struct vl_fs *fs = vl_op_enter(req);
	struct vl_inode *in = vl_op_inode_of(req, ino);
	const size_t plen = strlen(VL_XATTR_PREFIX);
	char *raw = NULL, *outb = NULL;
	size_t total = 0;
	ssize_t n;
	char p[32];
	int r = 0;

	vl_op_proc_path(p, in->fd);
	for (;;) {
		n = listxattr(p, NULL, 0);
		if (n < 0) {
			r = -errno;
			goto out;
		}
		free(raw);
		raw = malloc((size_t)n + 1);
		outb = realloc(outb, (size_t)n + 1);
		if (!raw || !outb) {
			r = -ENOMEM;
			goto out;
		}
		n = listxattr(p, raw, (size_t)n);
		if (n >= 0)
			break;
		if (errno != ERANGE) { /* ERANGE: the list grew meanwhile, retry */
			r = -errno;
			goto out;
		}
	}
	/* Plaintext names are shorter than their encodings: outb (n + 1 bytes) holds them. */
	for (char *s = raw; s < raw + n; s += strlen(s) + 1) {
		char name[256];
		int len;

		if (strncmp(s, VL_XATTR_PREFIX, plen) != 0)
			continue;
		len = vl_xattr_name_decrypt(vl_vault_keys(fs->vault), s, strlen(s), name,
					    sizeof(name));
		if (len < 0 || !xattr_ours(name))
			continue; /* not decryptable: not shown */
		memcpy(outb + total, name, (size_t)len + 1);
		total += (size_t)len + 1;
	}
	if (size && total > size)
		r = -ERANGE;
out:
	if (r < 0)
		fuse_reply_err(req, -r);
	else if (size == 0)
		fuse_reply_xattr(req, total);
	else
		fuse_reply_buf(req, outb, total);
	free(raw);
	free(outb);
}

void vl_op_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name)
{
	struct vl_fs *fs = vl_op_enter(req);
	struct vl_inode *in = vl_op_inode_of(req, ino);
	char enc[VL_XATTR_ENCNAME_MAX + 1];
	char p[32];
	int r;

	r = -EOPNOTSUPP;
	if (!xattr_ours(name))
		goto out;
	r = -EROFS;
	if (fs->readonly)
		goto out;
	r = xattr_encname(fs, name, enc, sizeof(enc), false);
	if (r < 0)
		goto out;
	vl_op_proc_path(p, in->fd);
	r = removexattr(p, enc) < 0 ? -errno : 0;
out:
	fuse_reply_err(req, -r);
}
