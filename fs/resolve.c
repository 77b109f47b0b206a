/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Plaintext and ciphertext paths (fs/resolve.h). Moved here from veilctl so that the tools
 * and the daemon's control socket answer with one implementation. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../crypto/dirid.h"
#include "../crypto/names.h"
#include "backing.h"
#include "dirs.h"
#include "log.h"
#include "resolve.h"
#include "vault.h"

/* A growing text, at most VL_PATHTEXT_MAX bytes. */
struct text {
	char *s;
	size_t len, cap;
};

/* Appends sep (when the text is not empty and sep is not 0), then len bytes of s. 0,
 * -ENAMETOOLONG past VL_PATHTEXT_MAX, or -ENOMEM. */
static int text_add(struct text *t, char sep, const char *s, size_t len)
{
	size_t need = t->len + len + 2;

	if (need > VL_PATHTEXT_MAX)
		return -ENAMETOOLONG;
	if (need > t->cap) {
		size_t cap = t->cap ? t->cap : 256;
		char *n;

		while (cap < need)
			cap *= 2;
		n = realloc(t->s, cap);
		if (!n)
			return -ENOMEM;
		t->s = n;
		t->cap = cap;
	}
	if (sep && t->len)
		t->s[t->len++] = sep;
	memcpy(t->s + t->len, s, len);
	t->len += len;
	t->s[t->len] = '\0';
	return 0;
}

static int text_str(struct text *t, char sep, const char *s)
{
	return text_add(t, sep, s, strlen(s));
}

/* Next path component after *pos (skipping empty ones and "."), NUL-terminated in place, or
 * NULL at the end. */
static char *next_comp(char **pos)
{
	char *c;

	for (;;) {
		c = *pos;
		while (*c == '/')
			c++;
		if (!*c)
			return NULL;
		*pos = c + strcspn(c, "/");
		if (**pos)
			*(*pos)++ = '\0';
		if (strcmp(c, "."))
			return c;
	}
}

void vl_resolved_release(struct vl_resolved *res)
{
	if (res->parentfd >= 0)
		close(res->parentfd);
	res->parentfd = -1;
	free(res->cpath);
	res->cpath = NULL;
}

int vl_resolve(const struct vl_vault *v, const char *path, struct vl_resolved *res, char *err,
	       size_t errcap)
{
	uint8_t id[VL_DIRID_LEN];
	struct text cp = { 0 };
	char *copy = NULL, *pos, *comp, *next;
	int curfd, r;

	memset(res, 0, sizeof(*res));
	res->parentfd = -1;
	curfd = vl_dir_open(vl_vault_rootfd(v), ".");
	if (curfd < 0) {
		vl_seterr(err, errcap, "cannot open the cipher directory: %s", strerror(-curfd));
		return curfd;
	}
	memcpy(id, vl_vault_root_id(v), VL_DIRID_LEN);
	copy = strdup(path ? path : "");
	if (!copy) {
		r = -ENOMEM;
		goto out;
	}
	pos = copy;
	comp = next_comp(&pos);
	if (!comp) {
		res->is_root = true;
		r = fstat(curfd, &res->st) < 0 ? -errno : text_str(&cp, 0, ".");
		goto out;
	}
	for (; comp; comp = next) {
		uint8_t cid[VL_DIRID_LEN];
		int fd;

		next = next_comp(&pos);
		if (!strcmp(comp, "..")) {
			vl_seterr(err, errcap, "%s: `..' is not supported in vault paths", path);
			r = -EINVAL;
			goto out;
		}
		r = vl_dir_lookup(v, curfd, id, comp, strlen(comp), &res->e, &res->st);
		if (r < 0) {
			if (r == -ENOENT)
				vl_seterr(err, errcap, "%s: no such file or directory in the vault",
					  path);
			else if (r == -EINVAL || r == -ENAMETOOLONG)
				vl_seterr(err, errcap, "%s: invalid name", path);
			else
				vl_seterr(err, errcap, "%s: %s", path, strerror(-r));
			goto out;
		}
		r = text_str(&cp, '/', res->e.disk);
		if (r < 0)
			goto out;
		if (!next) {
			res->parentfd = curfd;
			memcpy(res->parent_id, id, VL_DIRID_LEN);
			curfd = -1;
			break;
		}
		if (!S_ISDIR(res->st.st_mode)) {
			vl_seterr(err, errcap, "%s: `%s' is not a directory", path, comp);
			r = -ENOTDIR;
			goto out;
		}
		fd = vl_dir_open(curfd, res->e.disk);
		if (fd < 0) {
			r = fd;
			vl_seterr(err, errcap, "%s: %s", path, strerror(-r));
			goto out;
		}
		/* A name found under a veilfs.dirid copy's ID re-derives from that ID. */
		r = vl_dir_read_id(v, fd, res->e.is_alt ? res->e.altid : id, res->e.full,
				   res->e.fulllen, cid);
		if (r < 0) {
			close(fd);
			vl_seterr(err, errcap, "%s: bad directory ID in %s (run veilctl fsck)",
				  path, cp.s);
			goto out;
		}
		close(curfd);
		curfd = fd;
		memcpy(id, cid, VL_DIRID_LEN);
	}
	r = 0;
out:
	if (r == -ENOMEM || r == -ENAMETOOLONG)
		vl_seterr(err, errcap, "%s: %s", path, strerror(-r));
	free(copy);
	if (curfd >= 0)
		close(curfd);
	res->cpath = cp.s;
	if (r < 0)
		vl_resolved_release(res);
	return r;
}

int vl_resolved_opendir(const struct vl_vault *v, const struct vl_resolved *res,
			uint8_t id[static VL_DIRID_LEN])
{
	int fd, r;

	if (res->is_root) {
		memcpy(id, vl_vault_root_id(v), VL_DIRID_LEN);
		return vl_dir_open(vl_vault_rootfd(v), ".");
	}
	if (!S_ISDIR(res->st.st_mode))
		return -ENOTDIR;
	fd = vl_dir_open(res->parentfd, res->e.disk);
	if (fd < 0)
		return fd;
	/* A name found under a veilfs.dirid copy's ID re-derives from that ID. */
	r = vl_dir_read_id(v, fd, res->e.is_alt ? res->e.altid : res->parent_id, res->e.full,
			   res->e.fulllen, id);
	if (r < 0) {
		close(fd);
		return r;
	}
	return fd;
}

int vl_path_encrypt(const struct vl_vault *v, const char *plainpath, char **out, char *err,
		    size_t errcap)
{
	struct text cp = { 0 }, side = { 0 };
	uint8_t id[VL_DIRID_LEN];
	char *copy = NULL, *pos, *comp;
	int curfd = -1, r;

	*out = NULL;
	copy = strdup(plainpath);
	if (!copy) {
		r = -ENOMEM;
		goto out;
	}
	curfd = vl_dir_open(vl_vault_rootfd(v), ".");
	if (curfd < 0) {
		r = curfd;
		vl_seterr(err, errcap, "cannot open the cipher directory: %s", strerror(-r));
		goto out;
	}
	memcpy(id, vl_vault_root_id(v), VL_DIRID_LEN);
	pos = copy;
	while ((comp = next_comp(&pos))) {
		uint8_t cid[VL_DIRID_LEN];
		struct vl_ename e;
		struct stat st;

		if (!strcmp(comp, "..")) {
			vl_seterr(err, errcap, "%s: `..' is not supported in vault paths",
				  plainpath);
			r = -EINVAL;
			goto out;
		}
		/* Once a component is missing, the rest are shown as they would be made. */
		r = curfd >= 0 ? vl_dir_lookup(v, curfd, id, comp, strlen(comp), &e, &st) : -ENOENT;
		if (r == -ENOENT) {
			r = vl_ename_make(v, id, comp, strlen(comp), VL_KIND_PLAIN, &e);
			if (curfd >= 0)
				close(curfd);
			curfd = -1;
		}
		if (r < 0) {
			vl_seterr(err, errcap, "%s: %s", comp,
				  r == -EINVAL ? "invalid name" : strerror(-r));
			goto out;
		}
		if (e.is_long) {
			size_t old = cp.len;

			r = text_str(&cp, '/', e.sidecar);
			if (r == 0)
				r = text_str(&side, 0, "sidecar: ");
			if (r == 0)
				r = text_add(&side, 0, cp.s, cp.len);
			if (r == 0)
				r = text_add(&side, 0, "\n", 1);
			if (r < 0)
				goto toolong;
			cp.len = old;
			cp.s[old] = '\0';
		}
		r = text_str(&cp, '/', e.disk);
		if (r < 0)
			goto toolong;
		if (curfd >= 0 && S_ISDIR(st.st_mode)) {
			const uint8_t *pid = e.is_alt ? e.altid : id;
			int fd = vl_dir_open(curfd, e.disk);

			r = fd < 0 ? fd : vl_dir_read_id(v, fd, pid, e.full, e.fulllen, cid);
			if (r < 0) {
				vl_seterr(err, errcap,
					  "%s: cannot read its directory ID (run veilctl fsck)",
					  comp);
				if (fd >= 0)
					close(fd);
				goto out;
			}
			close(curfd);
			curfd = fd;
		} else {
			/* not there (yet): the ID it would get */
			r = vl_dirid_derive(vl_vault_keys(v), id, e.full, e.fulllen, cid);
			if (r < 0) {
				vl_seterr(err, errcap, "%s: %s", comp, strerror(-r));
				goto out;
			}
			if (curfd >= 0)
				close(curfd);
			curfd = -1;
		}
		memcpy(id, cid, VL_DIRID_LEN);
	}
	if (!cp.len)
		r = text_str(&cp, 0, ".");
	else
		r = 0;
	if (r == 0)
		r = text_add(&cp, 0, "\n", 1);
	if (r == 0 && side.len)
		r = text_add(&cp, 0, side.s, side.len);
	if (r < 0)
		goto toolong;
	*out = cp.s;
	cp.s = NULL;
	goto out;
toolong:
	vl_seterr(err, errcap, "%s: %s", plainpath, strerror(-r));
out:
	if (curfd >= 0)
		close(curfd);
	free(copy);
	free(cp.s);
	free(side.s);
	return r;
}

/* Full encoded name of on-disk name comp in curfd: itself when short, the verified sidecar
 * contents when long ('8...') or when comp is the sidecar ('9...'). Length or -errno
 * (-ENODATA: the sidecar is missing; -EBADMSG: it does not match; -EISDIR: a reserved
 * name, *what says which; -EINVAL: not an encoded name; -ENOENT: a long name and no
 * directory to read its sidecar from). */
static int full_name(int curfd, const char *comp, char full[static VL_ENCNAME_MAX + 1],
		     const char **what)
{
	size_t len = strlen(comp);
	char side[VL_LONGNAME_LEN + 1];
	ssize_t n;

	*what = NULL;
	switch (vl_name_classify(comp, len)) {
	case VL_ONDISK_SHORT:
		memcpy(full, comp, len + 1);
		return (int)len;
	case VL_ONDISK_LONG:
	case VL_ONDISK_SIDECAR:
		if (curfd < 0)
			return -ENOENT;
		memcpy(side, comp, VL_LONGNAME_LEN + 1);
		if (comp[0] == VL_MARK_SIDECAR)
			*what = "sidecar";
		side[0] = VL_MARK_SIDECAR;
		n = vl_read_small(curfd, side, full, VL_ENCNAME_MAX);
		if (n < 0)
			return n == -ENOENT ? -ENODATA : (int)n;
		if (vl_name_sidecar_check(comp, full, (size_t)n) < 0)
			return -EBADMSG;
		full[n] = '\0';
		return (int)n;
	case VL_ONDISK_RESERVED:
		*what = "veilfs helper file";
		return -EISDIR;
	default:
		return -EINVAL;
	}
}

/* The reason for a full_name failure. */
static void full_name_err(int r, const char *comp, char *err, size_t errcap)
{
	switch (-r) {
	case ENODATA:
		vl_seterr(err, errcap, "%s: its sidecar %c%s is missing (run veilctl fsck)", comp,
			  VL_MARK_SIDECAR, comp + 1);
		break;
	case EBADMSG:
		vl_seterr(err, errcap, "%s: its sidecar does not match the name (run veilctl fsck)",
			  comp);
		break;
	case EINVAL:
	case EISDIR:
		vl_seterr(err, errcap, "%s: not an encrypted veilfs name", comp);
		break;
	case ENOENT:
		vl_seterr(err, errcap,
			  "%s: a long name needs its sidecar, and the directory holding it "
			  "does not exist",
			  comp);
		break;
	default:
		vl_seterr(err, errcap, "%s: %s", comp, strerror(-r));
	}
}

int vl_path_decrypt(const struct vl_vault *v, const char *prefix, const char *cipherpath,
		    char **out, char *err, size_t errcap)
{
	struct text pp = { 0 };
	uint8_t id[VL_DIRID_LEN];
	const char *arg = cipherpath, *what = NULL;
	char *copy = NULL, *pos, *comp, *next;
	int curfd = -1, r;

	*out = NULL;
	if (prefix) {
		size_t pl = strlen(prefix);

		while (pl > 1 && prefix[pl - 1] == '/')
			pl--;
		if (pl && !strncmp(arg, prefix, pl) && arg[pl] == '/')
			arg += pl + 1;
	}
	copy = strdup(arg);
	if (!copy) {
		r = -ENOMEM;
		goto out;
	}
	curfd = vl_dir_open(vl_vault_rootfd(v), ".");
	if (curfd < 0) {
		r = curfd;
		vl_seterr(err, errcap, "cannot open the cipher directory: %s", strerror(-r));
		goto out;
	}
	memcpy(id, vl_vault_root_id(v), VL_DIRID_LEN);
	pos = copy;
	for (comp = next_comp(&pos); comp; comp = next) {
		char full[VL_ENCNAME_MAX + 1], name[256];
		uint8_t cid[VL_DIRID_LEN];
		enum vl_kind kind;
		int flen, fd;

		next = next_comp(&pos);
		flen = full_name(curfd, comp, full, &what);
		if (flen == -EISDIR && !next) {
			/* veilfs.dirid, veilfs.conf ...: named as what they are */
			r = text_str(&pp, '/', comp);
			if (r < 0)
				goto toolong;
			break;
		}
		if (flen < 0) {
			r = flen == -ENOENT ? -ENOENT : flen == -EISDIR ? -EINVAL : flen;
			full_name_err(flen, comp, err, errcap);
			goto out;
		}
		r = vl_name_decrypt(vl_vault_keys(v), id, full, (size_t)flen, name, sizeof(name),
				    &kind);
		if (r < 0) {
			vl_seterr(err, errcap,
				  "%s: does not decrypt in this directory (a wrong path, a moved "
				  "entry, or corruption)",
				  comp);
			r = -EBADMSG;
			goto out;
		}
		r = text_str(&pp, '/', name);
		if (r < 0)
			goto toolong;
		if (!next)
			break;
		fd = curfd >= 0 ? vl_dir_open(curfd, comp) : -ENOENT;
		if (fd >= 0)
			r = vl_dir_read_id(v, fd, id, full, (size_t)flen, cid);
		else if (fd == -ENOENT)
			r = vl_dirid_derive(vl_vault_keys(v), id, full, (size_t)flen, cid);
		else
			r = fd;
		if (r < 0) {
			vl_seterr(err, errcap, "%s: cannot read its directory ID: %s", comp,
				  strerror(-r));
			if (fd >= 0)
				close(fd);
			goto out;
		}
		if (curfd >= 0)
			close(curfd);
		curfd = fd >= 0 ? fd : -1;
		memcpy(id, cid, VL_DIRID_LEN);
	}
	r = pp.len ? 0 : text_str(&pp, 0, ".");
	if (r == 0 && what) {
		r = text_str(&pp, 0, " (");
		if (r == 0)
			r = text_str(&pp, 0, what);
		if (r == 0)
			r = text_str(&pp, 0, ")");
	}
	if (r == 0)
		r = text_add(&pp, 0, "\n", 1);
	if (r < 0)
		goto toolong;
	*out = pp.s;
	pp.s = NULL;
	goto out;
toolong:
	vl_seterr(err, errcap, "%s: %s", cipherpath, strerror(-r));
out:
	if (curfd >= 0)
		close(curfd);
	free(copy);
	free(pp.s);
	return r;
}
