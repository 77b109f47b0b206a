/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The FUSE directory handles: a listing snapshot taken at opendir (and again at a rewind),
 * served by readdir and readdirplus. Conventions and locks as in fs/ops.c. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backing.h"
#include "dirinfo.h"
#include "dirs.h"
#include "entry.h"
#include "ops.h"
#include "opsint.h"
#include "watch.h"

/* One entry of a directory listing snapshot (taken at opendir). */
struct vl_snapent {
	char *name; /* plaintext, then (one allocation) the on-disk name; "" for . and .. */
	const char *disk;
	struct vl_ename *names; /* conflict copies and other-ID names: their names, else NULL */
	enum vl_kind kind;
	unsigned char d_type;
	uint64_t d_ino;
};

/* An open directory: the listing snapshot; offsets are indices + 1. */
struct vl_dh {
	struct vl_hlink link; /* first member */
	struct vl_snapent *ents;
	size_t n, cap;
	struct vl_dirinfo di; /* the directory's IDs the snapshot was listed under */
	/* Entries went out: a readdir at offset 0 is a rewind (rewinddir, or lseek to 0)
	 * and lists the directory again, as POSIX wants. The kernel sends one readdir of a
	 * handle at a time (f_pos_lock), so the snapshot needs no lock. */
	bool served;
};

static int snap_add(struct vl_dh *d, const char *name, const char *disk,
		    const struct vl_ename *names, enum vl_kind kind, unsigned char d_type,
		    uint64_t d_ino)
{
	size_t nl = strlen(name), dl = disk ? strlen(disk) : 0;
	struct vl_snapent *s;

	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 16;
		struct vl_snapent *e = realloc(d->ents, cap * sizeof(*e));

		if (!e)
			return -ENOMEM;
		d->ents = e;
		d->cap = cap;
	}
	s = &d->ents[d->n];
	s->name = malloc(nl + dl + 2);
	if (!s->name)
		return -ENOMEM;
	memcpy(s->name, name, nl + 1);
	memcpy(s->name + nl + 1, disk ? disk : "", dl + 1);
	s->disk = s->name + nl + 1;
	s->names = NULL;
	if (names) {
		s->names = malloc(sizeof(*names));
		if (!s->names) {
			free(s->name);
			return -ENOMEM;
		}
		*s->names = *names;
	}
	s->kind = kind;
	s->d_type = d_type;
	s->d_ino = d_ino;
	d->n++;
	return 0;
}

/* The names of snapshot entry s, as vl_dir_lookup would give them, without encrypting
 * again: a short on-disk name is the full encoded name. A long name's full name is in its
 * sidecar, so it is computed (one encryption). */
static int snap_ename(struct vl_fs *fs, const struct vl_dh *d, const struct vl_snapent *s,
		      struct vl_ename *e)
{
	size_t dl = strlen(s->disk);

	if (s->names) {
		*e = *s->names;
		return 0;
	}
	if (dl == 0 || vl_name_classify(s->disk, dl) != VL_ONDISK_SHORT)
		return vl_ename_make(fs->vault, &d->di, s->name, strlen(s->name), s->kind, e);
	memset(e, 0, sizeof(*e));
	memcpy(e->full, s->disk, dl + 1);
	e->fulllen = dl;
	memcpy(e->disk, s->disk, dl + 1);
	e->kind = s->kind;
	return 0;
}

static int snap_cb(void *ctx, const struct vl_dirent *de)
{
	/* Object types are not known without reading each object: DT_UNKNOWN. */
	return snap_add(ctx, de->name, de->disk, de->names, de->kind,
			de->kind == VL_KIND_OBJECT ? DT_UNKNOWN : de->d_type, de->d_ino);
}

static void dh_clear(struct vl_dh *d)
{
	for (size_t i = 0; i < d->n; i++) {
		free(d->ents[i].name);
		free(d->ents[i].names);
	}
	d->n = 0;
	d->served = false;
}

void vl_op_dh_free(struct vl_dh *d)
{
	if (!d)
		return;
	dh_clear(d);
	free(d->ents);
	free(d);
}

/* Lists directory in into d's snapshot (emptied first). 0 or -errno. */
static int snap_fill(struct vl_fs *fs, struct vl_inode *in, struct vl_dh *d)
{
	struct stat st;
	uint64_t up;
	int dfd = -1, r;

	dh_clear(d);
	vl_watch_check_dirid(fs, in);
	vl_inode_dirinfo(in, &d->di);
	dfd = vl_dir_open(in->fd, ".");
	if (dfd < 0) {
		r = dfd;
		goto out;
	}
	/* ".." of the root is outside the vault: it shows the root itself. */
	up = in != fs->root && fstatat(in->fd, "..", &st, AT_SYMLINK_NOFOLLOW) == 0 ? st.st_ino
										    : in->ino;
	r = snap_add(d, ".", NULL, NULL, VL_KIND_PLAIN, DT_DIR, in->ino);
	if (r == 0)
		r = snap_add(d, "..", NULL, NULL, VL_KIND_PLAIN, DT_DIR, up);
	if (r == 0) {
		struct vl_listcb cb = {snap_cb, NULL};
		struct vl_dirinfo *found = malloc(sizeof(*found));

		r = found ? vl_dir_list2(fs->vault, dfd, &d->di, &cb, d, found) : -ENOMEM;
		/* IDs that names of the directory proved for it (FORMAT.md §5.5): lookups use
		 * them from now on. */
		if (r == 0 && found->nalt > d->di.nalt && vl_inode_set_dirinfo(in, found) == 0)
			d->di = *found;
		free(found);
	}
out:
	if (dfd >= 0)
		close(dfd);
	return r;
}

static int do_opendir(struct vl_fs *fs, struct vl_inode *in, struct vl_dh **out)
{
	struct vl_dh *d = calloc(1, sizeof(*d));
	int r;

	if (!d)
		return -ENOMEM;
	r = snap_fill(fs, in, d);
	if (r < 0)
		vl_op_dh_free(d);
	else
		*out = d;
	return r;
}

void vl_op_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct vl_fs *fs = vl_op_enter(req);
	struct vl_dh *d = NULL;
	int r = do_opendir(fs, vl_op_inode_of(req, ino), &d);

	if (r < 0) {
		fuse_reply_err(req, -r);
		return;
	}
	fi->fh = (uint64_t)(uintptr_t)d;
	vl_op_handle_add(fs, &d->link, true);
	if (fuse_reply_open(req, fi) != 0) {
		vl_op_handle_del(fs, &d->link);
		vl_op_dh_free(d);
	}
}

/* The lookup that readdirplus gives with entry s (names e). When the listed inode number
 * is already in the table (rm -rf lists what was just looked up), one fstatat of the name
 * finds it (identity from the name, not from the possibly stale listing); else open it. */
static int snap_lookup(struct vl_fs *fs, struct vl_inode *dir, const struct vl_snapent *s,
		       const struct vl_ename *e, struct fuse_entry_param *ep)
{
	struct stat st;

	if (vl_itable_has(fs->table, dir->dev, (ino_t)s->d_ino)) {
		if (fstatat(dir->fd, e->disk, &st, AT_SYMLINK_NOFOLLOW) < 0)
			return -errno;
		return vl_op_lookup_ename_st(fs, dir, e, &st, ep);
	}
	return vl_op_lookup_ename(fs, dir, e, ep);
}

static void do_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		       struct fuse_file_info *fi, bool plus)
{
	struct vl_fs *fs = vl_op_enter(req);
	struct vl_inode *dir = vl_op_inode_of(req, ino);
	struct vl_dh *d = (struct vl_dh *)(uintptr_t)fi->fh;
	char *buf = malloc(size ? size : 1), *p = buf;
	size_t rem = size;

	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	if (off == 0 && d->served) {
		int r = snap_fill(fs, dir, d);

		if (r < 0) {
			free(buf);
			fuse_reply_err(req, -r);
			return;
		}
	}
	for (size_t i = off < 0 ? d->n : (size_t)off; i < d->n; i++) {
		const struct vl_snapent *s = &d->ents[i];
		struct fuse_entry_param ep;
		struct vl_ename e;
		struct stat est;
		size_t sz;

		memset(&ep, 0, sizeof(ep));
		ep.attr.st_ino = (ino_t)s->d_ino;
		ep.attr.st_mode = (mode_t)s->d_type << 12;
		if (!plus) {
			sz = fuse_add_direntry(req, p, rem, s->name, &ep.attr, (off_t)(i + 1));
		} else {
			/* Every entry but . and .. carries a lookup. An entry whose lookup fails
			 * (removed meanwhile, unreadable object) goes out without attributes. */
			/* The names come from the snapshot (conflict copies and other-ID names
			 * with their own); if the entry changed since, a full lookup. */
			if (i >= 2 &&
			    (snap_ename(fs, d, s, &e) < 0 ||
			     snap_lookup(fs, dir, s, &e, &ep) < 0) &&
			    (vl_op_dir_lookup(fs, dir, s->name, strlen(s->name), &e, &est) < 0 ||
			     vl_op_lookup_ename_st(fs, dir, &e, &est, &ep) < 0)) {
				memset(&ep, 0, sizeof(ep));
				ep.attr.st_ino = (ino_t)s->d_ino;
				ep.attr.st_mode = (mode_t)s->d_type << 12;
			}
			sz = fuse_add_direntry_plus(req, p, rem, s->name, &ep, (off_t)(i + 1));
		}
		if (sz > rem) {
			if (plus)
				vl_op_unlookup(fs, ep.ino);
			break;
		}
		p += sz;
		rem -= sz;
	}
	if (size - rem > 0)
		d->served = true;
	fuse_reply_buf(req, buf, size - rem);
	free(buf);
}

void vl_op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		   struct fuse_file_info *fi)
{
	do_readdir(req, ino, size, off, fi, false);
}

void vl_op_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		       struct fuse_file_info *fi)
{
	do_readdir(req, ino, size, off, fi, true);
}

void vl_op_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct vl_fs *fs = vl_op_enter(req);

	struct vl_dh *d = (struct vl_dh *)(uintptr_t)fi->fh;

	(void)ino;
	vl_op_handle_del(fs, &d->link);
	vl_op_dh_free(d);
	fuse_reply_err(req, 0);
}

void vl_op_fsyncdir(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi)
{
	int dfd, r = 0;

	(void)fi;
	vl_op_enter(req);
	dfd = vl_dir_open(vl_op_inode_of(req, ino)->fd, ".");
	if (dfd < 0) {
		r = dfd;
	} else {
		if ((datasync ? fdatasync(dfd) : fsync(dfd)) < 0)
			r = -errno;
		close(dfd);
	}
	fuse_reply_err(req, -r);
}
