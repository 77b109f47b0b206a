/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Making, moving and linking entries (FORMAT.md §3.5, §5.2, §6; FORMAT-v1.md §4.4).
 *
 * A move in format 2 is made crash-safe by what is written around the backing rename: a file
 * gets a moving header (valid in both directories) before and its final header after; a
 * directory's ID files name both places before and the new one after. A file whose header
 * layout changes (a short and a long name) or whose long name changes is copied. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "../crypto/content.h"
#include "../crypto/secmem.h"
#include "backing.h"
#include "entry.h"
#include "log.h"
#include "vault.h"

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE 1
#endif

static bool is_v2(const struct vl_vault *v)
{
	return vl_vault_format(v) >= VL_FORMAT_V2;
}

static enum vl_stream stream_of(const struct vl_ename *e)
{
	return e->kind == VL_KIND_OBJECT ? VL_STREAM_OBJECT : VL_STREAM_CONTENT;
}

bool vl_link_allowed(const struct vl_vault *v, const struct vl_dirinfo *di, const struct vl_ename *e,
		     const struct vl_dirinfo *ndi, const struct vl_ename *ne)
{
	if (!is_v2(v))
		return true;
	return !e->is_long && !ne->is_long && !memcmp(vl_ename_id(e, di), ndi->id, VL_DIRID_LEN);
}

int vl_file_create(const struct vl_vault *v, int dirfd, const struct vl_dirinfo *di,
		   const struct vl_ename *e, mode_t mode)
{
	struct vl_content *c = NULL;
	struct vl_binding b;
	int fd, r;

	fd = openat(dirfd, e->disk, O_CREAT | O_EXCL | O_RDWR | O_NOFOLLOW | O_CLOEXEC, mode & 07777);
	if (fd < 0)
		return -errno;
	if (!is_v2(v))
		return fd;
	r = vl_ename_binding(v, di, e, &b);
	if (r == 0)
		r = vl_content_new(&c, v, stream_of(e), &b);
	if (r == 0)
		r = vl_content_create(c, fd);
	vl_content_free(c);
	vl_wipe(&b, sizeof(b));
	if (r < 0) {
		close(fd);
		(void)unlinkat(dirfd, e->disk, 0);
		return r;
	}
	return fd;
}

int vl_dir_pin_ids(const struct vl_vault *v, int dfd, const struct vl_dirinfo *di,
		   const uint8_t ptoken[static VL_TOKEN_LEN])
{
	int done = 0, r;

	if (!is_v2(v) || di->place.namelen == 0)
		return 0; /* format 1, the root (ID_root), or a lost name: no place to write */
	if (!(di->filed & 1u)) {
		r = vl_dirinfo_write(v, dfd, di, ptoken, NULL, false);
		if (r < 0)
			return r;
		done++;
	}
	for (unsigned i = 0; i < di->nalt; i++) {
		if (di->filed & (1u << (i + 1)))
			continue;
		r = vl_dirinfo_write_alt(v, dfd, di->alt[i], &di->place, ptoken);
		if (r < 0)
			return r;
		done++;
	}
	return done;
}

int vl_move_plan(const struct vl_vault *v, struct vl_move *m)
{
	const uint8_t *opar = vl_ename_id(m->src, m->sdi);
	size_t obl = vl_ename_base_len(m->src), nbl = vl_ename_base_len(m->dst);
	bool same_parent = !memcmp(opar, m->ddi->id, VL_DIRID_LEN);
	int r;

	m->kind = VL_MOVE_RENAME;
	memset(&m->nb, 0, sizeof(m->nb));
	if (!is_v2(v))
		return 0;
	if (S_ISDIR(m->st.st_mode)) {
		/* The directory's place is its parent's ID and its on-disk base name. */
		if (m->src->name_lost || !same_parent || obl != nbl ||
		    memcmp(m->src->disk, m->dst->disk, obl) != 0)
			m->kind = VL_MOVE_DIR;
		return 0;
	}
	r = vl_ename_binding(v, m->ddi, m->dst, &m->nb);
	if (r < 0)
		return r;
	if (!m->src->is_long && !m->dst->is_long)
		m->kind = same_parent ? VL_MOVE_RENAME : VL_MOVE_REBIND;
	else if (!(same_parent && m->src->is_long && m->dst->is_long &&
		   m->src->fulllen == m->dst->fulllen &&
		   !memcmp(m->src->full, m->dst->full, m->dst->fulllen)))
		m->kind = VL_MOVE_COPY;
	return 0;
}

/* Format 1 and plain renames: the backing rename, with format 1's sidecars around it. */
static int move_rename(const struct vl_vault *v, struct vl_move *m)
{
	struct stat st;
	int r;

	(void)v;
	r = vl_dir_put_sidecar(m->dfd, m->dst);
	if (r < 0)
		return r;
	if (renameat2(m->sfd, m->src->disk, m->dfd, m->dst->disk, m->flags) < 0) {
		r = -errno;
		/* Keep a sidecar that an existing entry of that name needs. */
		if (m->dst->is_long && m->dst->sidecar[0] &&
		    fstatat(m->dfd, m->dst->disk, &st, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT)
			(void)unlinkat(m->dfd, m->dst->sidecar, 0);
		return r;
	}
	if (m->src->is_long && m->src->sidecar[0] &&
	    !(m->sfd == m->dfd && !strcmp(m->src->sidecar, m->dst->sidecar))) {
		r = vl_dir_drop_sidecar(m->sfd, m->src);
		if (r < 0)
			vl_log(VL_LOG_WARN, "could not remove a long-name sidecar: %s", strerror(-r));
	}
	return 0;
}

/* Format 2: the copy of FORMAT.md §3.5's last paragraph. */
static int move_copy(const struct vl_vault *v, struct vl_move *m)
{
	struct vl_content *c = NULL;
	struct vl_binding ob;
	struct timespec ts[2];
	char tmp[VL_TMP_NAME_SIZE];
	bool made = false;
	int src = -1, dst = -1, r;

	if (!m->may_copy)
		return -EXDEV;
	r = vl_ename_binding(v, m->sdi, m->src, &ob);
	if (r == 0)
		r = vl_tmp_name(tmp);
	if (r < 0)
		return r;
	src = openat(m->sfd, m->src->disk, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (src < 0) {
		r = -errno;
		goto out;
	}
	dst = openat(m->dfd, tmp, O_CREAT | O_EXCL | O_RDWR | O_NOFOLLOW | O_CLOEXEC,
		     (m->st.st_mode & 07777) | S_IWUSR);
	if (dst < 0) {
		r = -errno;
		goto out;
	}
	made = true;
	r = vl_content_new(&c, v, stream_of(m->src), &ob);
	if (r == 0)
		r = vl_content_copy_rebound(c, src, dst, &m->nb);
	if (r == 0)
		r = vl_copy_user_xattrs(src, dst);
	if (r < 0)
		goto out;
	if (geteuid() == 0 && fchown(dst, m->st.st_uid, m->st.st_gid) < 0)
		vl_log(VL_LOG_WARN, "rename: the copy keeps the daemon's owner: %s", strerror(errno));
	if (fchmod(dst, m->st.st_mode & 07777) < 0 || fsync(dst) < 0) {
		r = -errno;
		goto out;
	}
	ts[0] = m->st.st_atim;
	ts[1] = m->st.st_mtim;
	(void)futimens(dst, ts);
	if (renameat2(m->dfd, tmp, m->dfd, m->dst->disk, m->flags) < 0) {
		r = -errno;
		goto out;
	}
	made = false;
	if (unlinkat(m->sfd, m->src->disk, 0) < 0)
		vl_log(VL_LOG_ERR, "rename: the file was copied to its new name but the old name could "
				   "not be removed: %s", strerror(errno));
	r = 0;
out:
	vl_content_free(c);
	if (dst >= 0)
		close(dst);
	if (src >= 0)
		close(src);
	if (made)
		(void)unlinkat(m->dfd, tmp, 0);
	vl_wipe(&ob, sizeof(ob));
	return r;
}

/* Format 2: a short-named file into another binding (FORMAT.md §3.5). */
static int move_rebind(const struct vl_vault *v, struct vl_move *m)
{
	struct vl_content *own = NULL, *c = m->content;
	struct vl_binding ob;
	int fd, r, e;

	r = vl_ename_binding(v, m->sdi, m->src, &ob);
	if (r < 0)
		return r;
	fd = openat(m->sfd, m->src->disk, O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		if (r == -EACCES && m->may_copy) /* a read-only file we may not rewrite */
			return move_copy(v, m);
		return r;
	}
	if (!c) {
		r = vl_content_new(&own, v, stream_of(m->src), &ob);
		if (r < 0)
			goto out;
		c = own;
	}
	r = vl_content_rebind(c, fd, &m->nb, true);
	if (r < 0)
		goto out;
	if (renameat2(m->sfd, m->src->disk, m->dfd, m->dst->disk, m->flags) < 0) {
		r = -errno;
		/* Undo: the file stays where it is, bound there. */
		e = vl_content_rebind(c, fd, &ob, false);
		if (e < 0)
			vl_log(VL_LOG_ERR, "rename: could not restore a file's header after a failed "
					   "rename (fsck --repair finishes it): %s", strerror(-e));
		goto out;
	}
	r = vl_content_rebind(c, fd, &m->nb, false);
	if (r < 0) {
		/* The moving header stays valid here: fsck --repair finishes it. */
		vl_log(VL_LOG_WARN, "rename: the moved file keeps its moving header: %s", strerror(-r));
		r = 0;
	}
out:
	close(fd);
	vl_content_free(own);
	vl_wipe(&ob, sizeof(ob));
	return r;
}

/* Format 2: a directory to another place (FORMAT.md §5.2). */
static int move_dir(const struct vl_vault *v, struct vl_move *m)
{
	uint8_t optoken[VL_TOKEN_LEN], nptoken[VL_TOKEN_LEN];
	const uint8_t *opar = vl_ename_id(m->src, m->sdi);
	size_t obl = vl_ename_base_len(m->src), nbl = strlen(m->dst->disk);
	struct vl_dirinfo *ci = NULL;
	struct vl_place np;
	int cfd, r, e;

	cfd = openat(m->sfd, m->src->disk, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (cfd < 0)
		return -errno;
	ci = malloc(sizeof(*ci));
	if (!ci) {
		r = -ENOMEM;
		goto out;
	}
	r = vl_dir_child_info(v, cfd, m->sdi, m->src, ci);
	if (r == 0)
		r = vl_dir_ptoken(v, m->sdi, opar, optoken);
	if (r == 0)
		r = vl_dir_ptoken(v, m->ddi, m->ddi->id, nptoken);
	if (r < 0)
		goto out;
	memset(&np, 0, sizeof(np));
	memcpy(np.parent, m->ddi->id, VL_DIRID_LEN);
	memcpy(np.name, m->dst->full, m->dst->fulllen + 1);
	np.namelen = m->dst->fulllen;
	if (!m->src->name_lost) {
		/* Every ID gets an ID file, and every ID file names both places. */
		r = vl_dir_pin_ids(v, cfd, ci, optoken);
		if (r >= 0)
			r = vl_dirinfo_relocate(v, cfd, opar, m->src->disk, obl, &np, true, nptoken);
		if (r < 0)
			goto out;
	}
	if (renameat2(m->sfd, m->src->disk, m->dfd, m->dst->disk, m->flags) < 0) {
		r = -errno;
		if (!m->src->name_lost) {
			e = vl_dirinfo_relocate(v, cfd, np.parent, m->dst->disk, nbl, &ci->place, false,
						optoken);
			if (e < 0)
				vl_log(VL_LOG_WARN, "rename: a directory's ID file keeps two places "
						    "(fsck --repair finishes it): %s", strerror(-e));
		}
		goto out;
	}
	if (m->src->name_lost) {
		ci->place = np;
		memcpy(ci->disk, m->dst->disk, nbl + 1);
		ci->disklen = nbl;
		ci->filed = 0;
		r = vl_dir_pin_ids(v, cfd, ci, nptoken);
	} else {
		r = vl_dirinfo_relocate(v, cfd, np.parent, m->dst->disk, nbl, &np, false, nptoken);
	}
	if (r < 0) {
		vl_log(VL_LOG_WARN, "rename: a moved directory's ID file keeps two places (fsck "
				    "--repair finishes it): %s", strerror(-r));
	}
	r = 0;
out:
	free(ci);
	close(cfd);
	return r;
}

/* One side of an exchange: entry e (in di, open in dfd) takes the name o (in odi), whose ID
 * is nid. Files get a moving header (then *c, the content used, and *fd stay open for the
 * final one); directories get their ID files naming both places. *nb receives a file's new
 * binding. */
struct xside {
	struct vl_content *own, *c;
	int fd;
	int cfd;
	struct vl_dirinfo *ci;
	struct vl_binding ob, nb;
	struct vl_place np;
	uint8_t optoken[VL_TOKEN_LEN], nptoken[VL_TOKEN_LEN];
	bool prepared;
};

static int xside_prepare(const struct vl_vault *v, struct xside *s, int dfd, const struct vl_dirinfo *di,
			 const struct vl_ename *e, const struct stat *st, const struct vl_dirinfo *odi,
			 const struct vl_ename *o, struct vl_content *c)
{
	const uint8_t *id = vl_ename_id(e, di), *nid = vl_ename_id(o, odi);
	int r;

	s->fd = s->cfd = -1;
	if (S_ISDIR(st->st_mode)) {
		s->ci = malloc(sizeof(*s->ci));
		if (!s->ci)
			return -ENOMEM;
		s->cfd = openat(dfd, e->disk, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (s->cfd < 0)
			return -errno;
		r = vl_dir_child_info(v, s->cfd, di, e, s->ci);
		if (r == 0)
			r = vl_dir_ptoken(v, di, id, s->optoken);
		if (r == 0)
			r = vl_dir_ptoken(v, odi, nid, s->nptoken);
		if (r < 0)
			return r;
		memcpy(s->np.parent, nid, VL_DIRID_LEN);
		memcpy(s->np.name, o->full, o->fulllen + 1);
		s->np.namelen = o->fulllen;
		r = vl_dir_pin_ids(v, s->cfd, s->ci, s->optoken);
		if (r >= 0)
			r = vl_dirinfo_relocate(v, s->cfd, id, e->disk, vl_ename_base_len(e), &s->np, true,
						s->nptoken);
		s->prepared = r >= 0;
		return r < 0 ? r : 0;
	}
	r = vl_ename_binding(v, di, e, &s->ob);
	if (r == 0)
		r = vl_ename_binding(v, odi, o, &s->nb);
	if (r < 0)
		return r;
	s->fd = openat(dfd, e->disk, O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (s->fd < 0)
		return -errno;
	s->c = c;
	if (!s->c) {
		r = vl_content_new(&s->own, v, stream_of(e), &s->ob);
		if (r < 0)
			return r;
		s->c = s->own;
	}
	r = vl_content_rebind(s->c, s->fd, &s->nb, true);
	s->prepared = r == 0;
	return r;
}

/* Finishes (done: the exchange happened) or undoes one side. */
static void xside_end(const struct vl_vault *v, struct xside *s, bool done, const struct vl_ename *e,
		      const struct vl_ename *o)
{
	int r = 0;

	if (s->prepared && s->cfd >= 0) {
		if (done)
			r = vl_dirinfo_relocate(v, s->cfd, s->np.parent, o->disk, vl_ename_base_len(o),
						&s->np, false, s->nptoken);
		else
			r = vl_dirinfo_relocate(v, s->cfd, s->np.parent, o->disk, vl_ename_base_len(o),
						&s->ci->place, false, s->optoken);
	} else if (s->prepared) {
		r = vl_content_rebind(s->c, s->fd, done ? &s->nb : &s->ob, false);
	}
	(void)e;
	if (r < 0)
		vl_log(VL_LOG_WARN, "rename exchange: an entry keeps the record of both places (fsck "
				    "--repair finishes it): %s", strerror(-r));
	if (s->fd >= 0)
		close(s->fd);
	if (s->cfd >= 0)
		close(s->cfd);
	vl_content_free(s->own);
	free(s->ci);
	vl_wipe(&s->ob, sizeof(s->ob));
}

int vl_exchange(const struct vl_vault *v, struct vl_xchg *x)
{
	struct xside sa, sb;
	bool same;
	int r;

	x->arebound = x->brebound = false;
	/* An object's on-disk name is marked (FORMAT.md §6) and its contents are sealed as an
	 * object: it cannot take a plain entry's name as it is. */
	if (x->a->kind != x->b->kind)
		return -EXDEV;
	if (!is_v2(v))
		return renameat2(x->afd, x->a->disk, x->bfd, x->b->disk, RENAME_EXCHANGE) < 0 ? -errno : 0;
	/* A long file header holds its own name (§3.1): a copy would be needed. */
	if ((!S_ISDIR(x->ast.st_mode) && x->a->is_long) || (!S_ISDIR(x->bst.st_mode) && x->b->is_long))
		return -EXDEV;
	same = !memcmp(vl_ename_id(x->a, x->ad), vl_ename_id(x->b, x->bd), VL_DIRID_LEN);
	/* Short-named files of one directory keep their binding (the directory, not the name);
	 * a directory's place is its name too, so its ID file follows (§5.2). */
	if (same && !S_ISDIR(x->ast.st_mode) && !S_ISDIR(x->bst.st_mode))
		return renameat2(x->afd, x->a->disk, x->bfd, x->b->disk, RENAME_EXCHANGE) < 0 ? -errno : 0;
	/* A file with other links stays bound to its place (as in vl_move). */
	if (!same && ((S_ISREG(x->ast.st_mode) && x->ast.st_nlink > 1) ||
		      (S_ISREG(x->bst.st_mode) && x->bst.st_nlink > 1)))
		return -EXDEV;
	memset(&sa, 0, sizeof(sa));
	memset(&sb, 0, sizeof(sb));
	sa.fd = sa.cfd = sb.fd = sb.cfd = -1;
	r = 0;
	if (!same || S_ISDIR(x->ast.st_mode))
		r = xside_prepare(v, &sa, x->afd, x->ad, x->a, &x->ast, x->bd, x->b, x->ac);
	if (r == 0 && (!same || S_ISDIR(x->bst.st_mode)))
		r = xside_prepare(v, &sb, x->bfd, x->bd, x->b, &x->bst, x->ad, x->a, x->bc);
	if (r == 0 && renameat2(x->afd, x->a->disk, x->bfd, x->b->disk, RENAME_EXCHANGE) < 0)
		r = -errno;
	/* Done: a is named o = b now, and b is named a. */
	xside_end(v, &sa, r == 0, x->a, x->b);
	xside_end(v, &sb, r == 0, x->b, x->a);
	if (r == 0 && !same && !S_ISDIR(x->ast.st_mode)) {
		x->anb = sa.nb;
		x->arebound = true;
	}
	if (r == 0 && !same && !S_ISDIR(x->bst.st_mode)) {
		x->bnb = sb.nb;
		x->brebound = true;
	}
	vl_wipe(&sa.nb, sizeof(sa.nb));
	vl_wipe(&sb.nb, sizeof(sb.nb));
	return r;
}

int vl_move(const struct vl_vault *v, struct vl_move *m)
{
	int r = vl_move_plan(v, m);

	if (r < 0)
		return r;
	switch (m->kind) {
	case VL_MOVE_REBIND:
		/* Another link stays bound to the old place: a new header would break it. */
		if (S_ISREG(m->st.st_mode) && m->st.st_nlink > 1)
			return -EXDEV;
		return move_rebind(v, m);
	case VL_MOVE_COPY:
		return move_copy(v, m);
	case VL_MOVE_DIR:
		return move_dir(v, m);
	case VL_MOVE_RENAME:
	default:
		return move_rename(v, m);
	}
}
