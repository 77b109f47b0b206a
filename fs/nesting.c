/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Whether one directory lies inside another (issue 9 §2). Walking ".." from a directory
 * gives the (st_dev, st_ino) chain of its ancestors in the mount namespace, which sees
 * through symlinks (we start from opened directories) and through a bind mount of an
 * ancestor (the bound inodes are the same ones). It does not see above the root of a bind
 * mount of a subdirectory: ".." there goes to the mountpoint's parent, not to the
 * directory's parent in its file system. So at such a mount root the walk also continues
 * from every other place where that directory is visible: another mount of the same file
 * system whose root is an ancestor of this mount's root (/proc/self/mountinfo). Such a
 * place is found by its path, then opened and used only if its device and inode are the
 * mount root's. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "mountinfo.h"
#include "nesting.h"

/* A directory as one mount shows it. */
struct node {
	dev_t dev;
	ino_t ino;
	uint64_t mnt; /* mount ID, 0 when the kernel does not say (before Linux 5.8) */
	bool mount_root;
};

/* The nodes one walk reached: an array, and an open-addressing index over it. */
struct nodes {
	struct node *v;
	size_t n, cap;
	uint32_t *slot; /* index + 1, 0 = empty; nslot is a power of two > 2 * n */
	size_t nslot;
};

/* The lines of /proc/self/mountinfo, read once per vl_nesting when a bind mount needs it. */
struct mounts {
	bool loaded;
	struct vl_mountinfo *m;
	char **lines;
	size_t n;
};

/* A stack of open fds still to visit. */
struct fdstack {
	int *v;
	size_t n, cap;
};

static uint64_t node_hash(const struct node *x)
{
	uint64_t h = (uint64_t)x->dev * 0x9e3779b97f4a7c15ull;

	h ^= (uint64_t)x->ino + 0x7f4a7c159e3779b9ull + (h << 6) + (h >> 2);
	h ^= x->mnt * 0xc2b2ae3d27d4eb4full;
	return h ^ (h >> 29);
}

static bool node_same(const struct node *a, const struct node *b)
{
	return a->dev == b->dev && a->ino == b->ino && a->mnt == b->mnt;
}

static int nodes_rehash(struct nodes *s, size_t nslot)
{
	uint32_t *slot = calloc(nslot, sizeof(*slot));

	if (!slot)
		return -ENOMEM;
	for (size_t i = 0; i < s->n; i++) {
		size_t j = node_hash(&s->v[i]) & (nslot - 1);

		while (slot[j])
			j = (j + 1) & (nslot - 1);
		slot[j] = (uint32_t)(i + 1);
	}
	free(s->slot);
	s->slot = slot;
	s->nslot = nslot;
	return 0;
}

/* Adds x unless present: 1 added, 0 present, or -errno. */
static int nodes_add(struct nodes *s, const struct node *x)
{
	size_t j;
	int r;

	if (s->nslot && s->nslot > 2 * (s->n + 1)) {
		for (j = node_hash(x) & (s->nslot - 1); s->slot[j]; j = (j + 1) & (s->nslot - 1))
			if (node_same(&s->v[s->slot[j] - 1], x))
				return 0;
	} else {
		for (size_t i = 0; i < s->n; i++)
			if (node_same(&s->v[i], x))
				return 0;
		r = nodes_rehash(s, s->nslot ? s->nslot * 2 : 64);
		if (r < 0)
			return r;
		for (j = node_hash(x) & (s->nslot - 1); s->slot[j]; j = (j + 1) & (s->nslot - 1))
			;
	}
	if (s->n >= VL_NEST_MAX_NODES)
		return -ELOOP;
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 32;
		struct node *v = realloc(s->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n] = *x;
	s->slot[j] = (uint32_t)(s->n + 1);
	s->n++;
	return 1;
}

static void nodes_free(struct nodes *s)
{
	free(s->v);
	free(s->slot);
	memset(s, 0, sizeof(*s));
}

/* Device and inode of x seen anywhere in s (under any mount). */
static bool nodes_has_inode(const struct nodes *s, const struct node *x)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i].dev == x->dev && s->v[i].ino == x->ino)
			return true;
	return false;
}

static int fds_push(struct fdstack *st, int fd)
{
	if (st->n == st->cap) {
		size_t cap = st->cap ? st->cap * 2 : 16;
		int *v = realloc(st->v, cap * sizeof(*v));

		if (!v) {
			close(fd);
			return -ENOMEM;
		}
		st->v = v;
		st->cap = cap;
	}
	st->v[st->n++] = fd;
	return 0;
}

static void fds_free(struct fdstack *st)
{
	while (st->n)
		close(st->v[--st->n]);
	free(st->v);
	memset(st, 0, sizeof(*st));
}

/* The node of fd. AT_STATX_DONT_SYNC: a FUSE mount answers from its cache, so a hung
 * daemon cannot make the check hang. */
static int node_of(int fd, struct node *x)
{
	struct statx sx;

	memset(x, 0, sizeof(*x));
	if (statx(fd, "", AT_EMPTY_PATH | AT_STATX_DONT_SYNC | AT_SYMLINK_NOFOLLOW,
		  STATX_TYPE | STATX_INO | STATX_MNT_ID, &sx) < 0)
		return -errno;
	if (!S_ISDIR(sx.stx_mode))
		return -ENOTDIR;
	x->dev = makedev(sx.stx_dev_major, sx.stx_dev_minor);
	x->ino = (ino_t)sx.stx_ino;
	if (sx.stx_mask & STATX_MNT_ID)
		x->mnt = sx.stx_mnt_id;
	if (sx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT)
		x->mount_root = (sx.stx_attributes & STATX_ATTR_MOUNT_ROOT) != 0;
	return 0;
}

static void mounts_free(struct mounts *mi)
{
	for (size_t i = 0; i < mi->n; i++)
		free(mi->lines[i]);
	free(mi->lines);
	free(mi->m);
	memset(mi, 0, sizeof(*mi));
}

/* Reads /proc/self/mountinfo. Lines that do not parse are skipped: a line we cannot read
 * only hides a place to look, and the file is the kernel's. */
static int mounts_load(struct mounts *mi)
{
	size_t cap = 0, lcap = 0;
	char *line = NULL;
	ssize_t len;
	FILE *f;
	int r = 0;

	mi->loaded = true;
	f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return -errno;
	while ((len = getline(&line, &lcap, f)) > 0) {
		if (line[len - 1] == '\n')
			line[--len] = '\0';
		if (mi->n == cap) {
			size_t nc = cap ? cap * 2 : 64;
			struct vl_mountinfo *m = realloc(mi->m, nc * sizeof(*m));
			char **l;

			if (!m) {
				r = -ENOMEM;
				break;
			}
			mi->m = m;
			l = realloc(mi->lines, nc * sizeof(*l));
			if (!l) {
				r = -ENOMEM;
				break;
			}
			mi->lines = l;
			cap = nc;
		}
		mi->lines[mi->n] = strdup(line);
		if (!mi->lines[mi->n]) {
			r = -ENOMEM;
			break;
		}
		if (vl_mountinfo_parse(mi->lines[mi->n], (size_t)len, &mi->m[mi->n]) < 0) {
			free(mi->lines[mi->n]);
			continue;
		}
		mi->n++;
	}
	free(line);
	fclose(f);
	return r;
}

/* x is the root of mount x->mnt. Pushes an fd of every other place where the same
 * directory is visible through a mount of the same file system that also shows its
 * parent (so the walk can go on upwards there). */
static int push_other_places(struct mounts *mi, const struct node *x, struct fdstack *work)
{
	const struct vl_mountinfo *self = NULL;
	int r;

	if (!x->mnt)
		return 0; /* kernel before 5.8: bind mounts of subdirectories are not followed */
	if (!mi->loaded) {
		r = mounts_load(mi);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < mi->n && !self; i++)
		if (mi->m[i].id == x->mnt)
			self = &mi->m[i];
	if (!self || !strcmp(self->root, "/"))
		return 0; /* the file system's own root: no ancestors in it */
	for (size_t i = 0; i < mi->n; i++) {
		const struct vl_mountinfo *o = &mi->m[i];
		const char *rest;
		struct node y;
		char *path;
		int fd;

		if (o == self || o->dev != self->dev ||
		    !vl_mountinfo_path_within(self->root, o->root))
			continue;
		rest = strcmp(o->root, "/") ? self->root + strlen(o->root) : self->root;
		if (asprintf(&path, "%s%s", strcmp(o->mnt, "/") ? o->mnt : "", rest) < 0)
			return -ENOMEM;
		fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
		free(path);
		if (fd < 0)
			continue; /* covered by another mount, or not reachable from our root */
		if (node_of(fd, &y) < 0 || y.dev != x->dev || y.ino != x->ino) {
			close(fd);
			continue;
		}
		r = fds_push(work, fd);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Every directory that fd is, or lies below, into s. */
static int ancestors(int fd, struct mounts *mi, struct nodes *s)
{
	struct fdstack work = { 0 };
	int r;

	fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	r = fds_push(&work, fd);
	while (r == 0 && work.n) {
		struct node x, up;
		int cur = work.v[--work.n], parent;

		r = node_of(cur, &x);
		if (r == 0)
			r = nodes_add(s, &x);
		if (r <= 0) {
			close(cur);
			continue; /* r == 0: seen already (through this mount) */
		}
		r = 0;
		parent = openat(cur, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (parent < 0) {
			r = -errno;
			close(cur);
			break;
		}
		r = node_of(parent, &up);
		if (r < 0) {
			close(parent);
			close(cur);
			break;
		}
		/* Without the statx attribute (before Linux 5.8), a change of device or mount
		 * ID on the way up is a mount root too (a bind mount within one file system
		 * is then not seen: nothing tells it apart). */
		if (!x.mount_root && (up.dev != x.dev || (x.mnt && up.mnt && up.mnt != x.mnt)))
			x.mount_root = true;
		if (node_same(&up, &x))
			close(parent); /* the root of the namespace (or of a chroot) */
		else
			r = fds_push(&work, parent);
		if (r == 0 && x.mount_root)
			r = push_other_places(mi, &x, &work);
		close(cur);
	}
	fds_free(&work);
	return r;
}

int vl_nesting(int a, int b, enum vl_nesting *how)
{
	struct nodes sa = { 0 }, sb = { 0 };
	struct mounts mi = { 0 };
	struct node na, nb;
	int r;

	*how = VL_NEST_APART;
	r = node_of(a, &na);
	if (r == 0)
		r = node_of(b, &nb);
	if (r < 0)
		return r;
	if (na.dev == nb.dev && na.ino == nb.ino) {
		*how = VL_NEST_SAME;
		return 0;
	}
	r = ancestors(a, &mi, &sa);
	if (r == 0)
		r = ancestors(b, &mi, &sb);
	if (r < 0)
		goto out;
	if (nodes_has_inode(&sa, &nb))
		*how = VL_NEST_A_IN_B;
	else if (nodes_has_inode(&sb, &na))
		*how = VL_NEST_B_IN_A;
out:
	nodes_free(&sa);
	nodes_free(&sb);
	mounts_free(&mi);
	return r;
}

int vl_is_mount_root(int fd)
{
	struct node x, up;
	int parent, r;

	r = node_of(fd, &x);
	if (r < 0)
		return r;
	if (x.mount_root)
		return 1;
	parent = openat(fd, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (parent < 0)
		return -errno;
	r = node_of(parent, &up);
	close(parent);
	if (r < 0)
		return r;
	return up.dev != x.dev || (x.mnt && up.mnt && up.mnt != x.mnt) || node_same(&up, &x);
}
