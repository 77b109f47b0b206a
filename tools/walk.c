/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Iterative depth-first walker over one or two directory trees (see walk.h). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "walk.h"

/* The walker's part of a frame; the caller's part lives in w->user at the same index. */
struct wframe {
	int fd[VC_WALK_TREES]; /* -1 when closed (outside the window) or not walked */
	bool has[VC_WALK_TREES];
	dev_t dev[VC_WALK_TREES];
	ino_t ino[VC_WALK_TREES];
	uint64_t mnt; /* mount ID of tree 0's directory (0: unknown) */
	int status;   /* 0, or the -errno leave gets */
};

struct vc_walk {
	const struct vc_walk_ops *ops;
	void *ctx;
	struct wframe *f;
	char *user;	   /* frame_size bytes per frame */
	size_t depth, cap; /* frames in use, allocated */
	int fatal;	   /* -ENOMEM or -ECANCELED once the walk must end */
};

void *vc_walk_ctx(const struct vc_walk *w)
{
	return w->ctx;
}

size_t vc_walk_depth(const struct vc_walk *w)
{
	return w->depth ? w->depth - 1 : 0;
}

static void *user_frame(struct vc_walk *w, size_t i)
{
	return w->user + i * w->ops->frame_size;
}

static bool is_fatal(int r)
{
	return r == -ENOMEM || r == -ECANCELED;
}

/* Room for frames [0, n]. */
static int grow(struct vc_walk *w, size_t n)
{
	size_t cap;
	struct wframe *f;
	char *u;

	if (n < w->cap)
		return 0;
	cap = w->cap ? w->cap * 2 : 64;
	while (cap <= n)
		cap *= 2;
	f = realloc(w->f, cap * sizeof(*f));
	if (!f)
		return -ENOMEM;
	w->f = f;
	u = realloc(w->user, cap * (w->ops->frame_size ? w->ops->frame_size : 1));
	if (!u)
		return -ENOMEM;
	w->user = u;
	w->cap = cap;
	return 0;
}

/* Device, inode and (for tree 0) mount ID of a frame's fds. */
static int identify(struct wframe *f)
{
	for (int k = 0; k < VC_WALK_TREES; k++) {
		struct statx sx;

		if (!f->has[k])
			continue;
		if (statx(f->fd[k], "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW,
			  STATX_TYPE | STATX_INO | (k == 0 ? STATX_MNT_ID : 0), &sx) < 0)
			return -errno;
		if (!S_ISDIR(sx.stx_mode))
			return -ENOTDIR;
		f->dev[k] = makedev(sx.stx_dev_major, sx.stx_dev_minor);
		f->ino[k] = (ino_t)sx.stx_ino;
		if (k == 0 && (sx.stx_mask & STATX_MNT_ID))
			f->mnt = sx.stx_mnt_id;
	}
	return 0;
}

/* A directory can be its own ancestor only through a mount (a bind mount of an ancestor
 * below itself): only a step onto another device or mount pays for the scan of the
 * ancestors, so a deep tree on one file system costs nothing here. */
static bool is_loop(const struct vc_walk *w, size_t d)
{
	const struct wframe *c = &w->f[d], *p;

	if (d == 0 || !c->has[0])
		return false;
	p = &w->f[d - 1];
	if (c->dev[0] == p->dev[0] && c->mnt == p->mnt)
		return false;
	for (size_t i = 0; i < d; i++)
		if (w->f[i].dev[0] == c->dev[0] && w->f[i].ino[0] == c->ino[0])
			return true;
	return false;
}

/* Makes frame d (filled by next) the top: identifies it, closes the fds of the frame that
 * leaves the window, and enters it. */
static void push(struct vc_walk *w, const int sub[VC_WALK_TREES])
{
	size_t d = w->depth;
	struct wframe *c = &w->f[d];
	int r;

	memset(c, 0, sizeof(*c));
	for (int k = 0; k < VC_WALK_TREES; k++) {
		c->fd[k] = sub[k];
		c->has[k] = sub[k] >= 0;
	}
	w->depth++;
	/* The root's fds are the caller's and stay open. */
	if (d > VC_WALK_WINDOW) {
		struct wframe *old = &w->f[d - VC_WALK_WINDOW];

		for (int k = 0; k < VC_WALK_TREES; k++) {
			if (old->fd[k] >= 0)
				close(old->fd[k]);
			old->fd[k] = -1;
		}
	}
	r = identify(c);
	if (r == 0 && is_loop(w, d))
		r = -ELOOP;
	if (r == 0)
		r = w->ops->enter ? w->ops->enter(w, user_frame(w, d), c->fd) : 0;
	c->status = r;
	if (is_fatal(r))
		w->fatal = r;
}

/* Reopens what the parent of top has closed, from top's fds: "..", checked to be the
 * directory that was left. A parent that cannot be reopened is lost (-ESTALE). */
static void reopen_parent(struct vc_walk *w, size_t top)
{
	struct wframe *c = &w->f[top], *p = &w->f[top - 1];

	for (int k = 0; k < VC_WALK_TREES; k++) {
		struct stat st;
		int fd;

		if (!p->has[k] || p->fd[k] >= 0)
			continue;
		fd = c->fd[k] < 0 ? -1 : openat(c->fd[k], "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd >= 0 && fstat(fd, &st) == 0 && st.st_dev == p->dev[k] &&
		    st.st_ino == p->ino[k]) {
			p->fd[k] = fd;
			continue;
		}
		if (fd >= 0)
			close(fd);
		if (p->status == 0)
			p->status = -ESTALE;
	}
}

int vc_walk(const struct vc_walk_ops *ops, void *ctx, const int root[VC_WALK_TREES],
	    const void *root_frame)
{
	struct vc_walk w = { .ops = ops, .ctx = ctx };
	int r;

	r = grow(&w, 1);
	if (r < 0)
		goto out;
	memcpy(user_frame(&w, 0), root_frame, ops->frame_size);
	push(&w, root);
	while (w.depth > 0) {
		size_t top = w.depth - 1;
		struct wframe *f = &w.f[top];

		if (w.fatal && f->status == 0)
			f->status = w.fatal;
		if (f->status == 0) {
			int sub[VC_WALK_TREES] = { -1, -1 };

			r = grow(&w, w.depth);
			if (r == 0) {
				f = &w.f[top];
				memset(user_frame(&w, w.depth), 0, ops->frame_size);
				r = ops->next(&w, user_frame(&w, top), f->fd,
					      user_frame(&w, w.depth), sub);
			}
			if (r > 0) {
				push(&w, sub);
				continue;
			}
			for (int k = 0; k < VC_WALK_TREES; k++)
				if (sub[k] >= 0)
					close(sub[k]);
			f->status = r;
			if (is_fatal(r))
				w.fatal = r;
		}
		/* The parent first: leave may make top unsearchable (export applies the
		 * directory's mode), and ".." needs search permission. */
		if (top > 0)
			reopen_parent(&w, top);
		ops->leave(&w, user_frame(&w, top), f->fd, f->status);
		if (top > 0)
			for (int k = 0; k < VC_WALK_TREES; k++)
				if (f->fd[k] >= 0)
					close(f->fd[k]);
		w.depth--;
	}
	r = w.fatal;
out:
	free(w.f);
	free(w.user);
	return r;
}
