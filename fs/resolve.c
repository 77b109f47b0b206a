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
#include "dirinfo.h"
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
	struct vl_dirinfo *cur = NULL, *nxt = NULL;
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
	copy = strdup(path ? path : "");
	cur = malloc(sizeof(*cur));
	nxt = malloc(sizeof(*nxt));
	if (!copy || !cur || !nxt) {
		r = -ENOMEM;
		goto out;
	}
	*cur = *vl_vault_root_info(v);
	pos = copy;
	comp = next_comp(&pos);
	if (!comp) {
		res->is_root = true;
		r = fstat(curfd, &res->st) < 0 ? -errno : text_str(&cp, 0, ".");
		goto out;
	}
	for (; comp; comp = next) {
		int fd;

		next = next_comp(&pos);
		if (!strcmp(comp, "..")) {
			vl_seterr(err, errcap, "%s: `..' is not supported in vault paths", path);
			r = -EINVAL;
			goto out;
		}
		r = vl_dir_lookup_proving(v, curfd, cur, comp, strlen(comp), &res->e, &res->st, 0);
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
			res->pdi = *cur;
			curfd = -1;
			break;
		}
		if (!S_ISDIR(res->st.st_mode)) {
			vl_seterr(err, errcap, "%s: `%s' is not a directory", path, comp);
			r = -ENOTDIR;
			goto out;
		}
		fd = vl_subdir_open(v, curfd, cur, &res->e, nxt);
		if (fd < 0) {
			r = fd;
			vl_seterr(err, errcap, "%s: cannot open %s: %s (run veilctl fsck)", path,
				  cp.s, strerror(-r));
			goto out;
		}
		close(curfd);
		curfd = fd;
		*cur = *nxt;
	}
	r = 0;
out:
	if (r == -ENOMEM || r == -ENAMETOOLONG)
		vl_seterr(err, errcap, "%s: %s", path, strerror(-r));
	free(copy);
	free(cur);
	free(nxt);
	if (curfd >= 0)
		close(curfd);
	res->cpath = cp.s;
	if (r < 0)
		vl_resolved_release(res);
	return r;
}

int vl_subdir_open(const struct vl_vault *v, int fd, const struct vl_dirinfo *di,
		   const struct vl_ename *e, struct vl_dirinfo *out)
{
	int cfd = vl_dir_open(fd, e->disk), r;

	if (cfd < 0)
		return cfd;
	r = vl_dir_child_info(v, cfd, di, e, out);
	if (r < 0) {
		close(cfd);
		return r;
	}
	return cfd;
}

int vl_resolved_opendir(const struct vl_vault *v, const struct vl_resolved *res,
			struct vl_dirinfo *di)
{
	if (res->is_root) {
		*di = *vl_vault_root_info(v);
		return vl_dir_open(vl_vault_rootfd(v), ".");
	}
	if (!S_ISDIR(res->st.st_mode))
		return -ENOTDIR;
	return vl_subdir_open(v, res->parentfd, &res->pdi, &res->e, di);
}

/* The info a directory e (in the directory with ID pid) would have if made now: its
 * derived ID at its place (encrypt-path and decrypt-path of paths that do not exist). */
static int derived_child(const struct vl_vault *v, const uint8_t pid[static VL_DIRID_LEN],
			 const struct vl_ename *e, struct vl_dirinfo *out)
{
	size_t bl = vl_ename_base_len(e);

	memset(out, 0, sizeof(*out));
	out->format = vl_vault_format(v);
	memcpy(out->place.parent, pid, VL_DIRID_LEN);
	memcpy(out->place.name, e->full, e->fulllen + 1);
	out->place.namelen = e->fulllen;
	memcpy(out->disk, e->disk, bl);
	out->disk[bl] = '\0';
	out->disklen = bl;
	out->flags = VL_DI_DERIVED;
	return vl_dirid_derive(vl_vault_keys(v), pid, e->full, e->fulllen, out->id);
}

/* The start of a walk from the root: a copy of path in *copy, the root's fd in *curfd and
 * its info in *cur, room for the next level's info in *nxt. 0 or -errno (err filled in);
 * the caller frees what was set in either case. */
static int walk_begin(const struct vl_vault *v, const char *path, char **copy, int *curfd,
		      struct vl_dirinfo **cur, struct vl_dirinfo **nxt, char *err, size_t errcap)
{
	*copy = strdup(path);
	*cur = malloc(sizeof(**cur));
	*nxt = malloc(sizeof(**nxt));
	if (!*copy || !*cur || !*nxt)
		return -ENOMEM;
	*curfd = vl_dir_open(vl_vault_rootfd(v), ".");
	if (*curfd < 0) {
		vl_seterr(err, errcap, "cannot open the cipher directory: %s", strerror(-*curfd));
		return *curfd;
	}
	**cur = *vl_vault_root_info(v);
	return 0;
}

int vl_path_encrypt(const struct vl_vault *v, const char *plainpath, char **out, char *err,
		    size_t errcap)
{
	struct text cp = { 0 }, side = { 0 };
	struct vl_dirinfo *cur = NULL, *nxt = NULL;
	char *copy = NULL, *pos, *comp;
	int curfd = -1, r;

	*out = NULL;
	r = walk_begin(v, plainpath, &copy, &curfd, &cur, &nxt, err, errcap);
	if (r < 0)
		goto out;
	pos = copy;
	while ((comp = next_comp(&pos))) {
		struct vl_ename e;
		struct stat st;

		if (!strcmp(comp, "..")) {
			vl_seterr(err, errcap, "%s: `..' is not supported in vault paths",
				  plainpath);
			r = -EINVAL;
			goto out;
		}
		/* Once a component is missing, the rest are shown as they would be made. */
		r = curfd >= 0 ? vl_dir_lookup_proving(v, curfd, cur, comp, strlen(comp), &e, &st, 0) :
				 -ENOENT;
		if (r == -ENOENT) {
			r = vl_ename_make(v, cur, comp, strlen(comp), VL_KIND_PLAIN, &e);
			if (curfd >= 0)
				close(curfd);
			curfd = -1;
		}
		if (r < 0) {
			vl_seterr(err, errcap, "%s: %s", comp,
				  r == -EINVAL ? "invalid name" : strerror(-r));
			goto out;
		}
		if (e.is_long && e.sidecar[0]) { /* format 1 */
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
			int fd = vl_subdir_open(v, curfd, cur, &e, nxt);

			if (fd < 0) {
				r = fd;
				vl_seterr(err, errcap,
					  "%s: cannot read its directory ID (run veilctl fsck)",
					  comp);
				goto out;
			}
			close(curfd);
			curfd = fd;
		} else {
			/* not there (yet): the ID it would get */
			r = derived_child(v, vl_ename_id(&e, cur), &e, nxt);
			if (r < 0) {
				vl_seterr(err, errcap, "%s: %s", comp, strerror(-r));
				goto out;
			}
			if (curfd >= 0)
				close(curfd);
			curfd = -1;
		}
		*cur = *nxt;
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
	free(cur);
	free(nxt);
	free(cp.s);
	free(side.s);
	return r;
}

/* Full encoded name of on-disk name comp in curfd: itself when short; for a long name
 * ('8...') from the entry (format 2) or its verified sidecar (format 1, also when comp is
 * the sidecar '9...'). Length or -errno (-ENODATA: the long name cannot be read; -EISDIR:
 * a reserved name, *what says which; -EINVAL: not an encoded name; -ENOENT: a long name and
 * no directory to read it from). */
static int full_name(const struct vl_vault *v, int curfd, const char *comp,
		     char full[static VL_ENCNAME_MAX + 1], const char **what)
{
	char side[VL_CONFLICT_NAME_MAX + 1], ln[VL_LONGNAME_LEN + 1];
	size_t len = strlen(comp);
	int n;

	*what = NULL;
	switch (vl_name_classify(comp, len)) {
	case VL_ONDISK_SHORT:
		memcpy(full, comp, len + 1);
		return (int)len;
	case VL_ONDISK_SIDECAR:
		if (vl_vault_format(v) >= VL_FORMAT_V2)
			return -EINVAL;
		*what = "sidecar";
		/* fall through */
	case VL_ONDISK_LONG:
		if (curfd < 0)
			return -ENOENT;
		memcpy(ln, comp, VL_LONGNAME_LEN + 1);
		ln[0] = VL_MARK_LONG;
		n = vl_dir_long_entry_name(v, curfd, ln, VL_LONGNAME_LEN, full, side);
		if (n == -ENOENT || n == -EIO || n == -EXDEV)
			return -ENODATA;
		return n;
	case VL_ONDISK_RESERVED:
		*what = "veilfs helper file";
		return -EISDIR;
	default:
		return -EINVAL;
	}
}

/* The reason for a full_name failure. */
static void full_name_err(const struct vl_vault *v, int r, const char *comp, char *err,
			  size_t errcap)
{
	switch (-r) {
	case ENODATA:
		vl_seterr(err, errcap, "%s: its full name cannot be read from %s (run veilctl fsck)",
			  comp, vl_vault_format(v) >= VL_FORMAT_V2 ? "the entry" : "its sidecar");
		break;
	case EINVAL:
	case EISDIR:
		vl_seterr(err, errcap, "%s: not an encrypted veilfs name", comp);
		break;
	case ENOENT:
		vl_seterr(err, errcap,
			  "%s: a long name is read from the entry itself, and the directory "
			  "holding it does not exist",
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
	struct vl_dirinfo *cur = NULL, *nxt = NULL;
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
	r = walk_begin(v, arg, &copy, &curfd, &cur, &nxt, err, errcap);
	if (r < 0)
		goto out;
	pos = copy;
	for (comp = next_comp(&pos); comp; comp = next) {
		char name[256];
		struct vl_ename e;
		enum vl_kind kind;
		const uint8_t *id = cur->id;
		int flen, fd;

		next = next_comp(&pos);
		memset(&e, 0, sizeof(e));
		flen = full_name(v, curfd, comp, e.full, &what);
		if (flen == -EISDIR && !next) {
			/* veilfs.dirid, veilfs.conf ...: named as what they are */
			r = text_str(&pp, '/', comp);
			if (r < 0)
				goto toolong;
			break;
		}
		if (flen < 0) {
			r = flen == -ENOENT ? -ENOENT : flen == -EISDIR ? -EINVAL : flen;
			full_name_err(v, flen, comp, err, errcap);
			goto out;
		}
		e.fulllen = (size_t)flen;
		r = vl_name_decrypt(vl_vault_keys(v), id, e.full, e.fulllen, name, sizeof(name),
				    &kind);
		/* Then under the directory's other IDs (FORMAT.md §5.4). */
		for (unsigned i = 0; r < 0 && i < cur->nalt; i++) {
			id = cur->alt[i];
			r = vl_name_decrypt(vl_vault_keys(v), id, e.full, e.fulllen, name,
					    sizeof(name), &kind);
		}
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
		e.kind = kind;
		e.is_long = comp[0] == VL_MARK_LONG;
		e.is_alt = id != cur->id;
		memcpy(e.altid, id, VL_DIRID_LEN);
		snprintf(e.disk, sizeof(e.disk), "%s", comp);
		fd = curfd >= 0 ? vl_subdir_open(v, curfd, cur, &e, nxt) : -ENOENT;
		r = fd == -ENOENT ? derived_child(v, id, &e, nxt) : fd < 0 ? fd : 0;
		if (r < 0) {
			vl_seterr(err, errcap, "%s: cannot read its directory ID: %s", comp,
				  strerror(-r));
			goto out;
		}
		if (curfd >= 0)
			close(curfd);
		curfd = fd >= 0 ? fd : -1;
		*cur = *nxt;
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
	free(cur);
	free(nxt);
	free(pp.s);
	return r;
}
