/* SPDX-License-Identifier: GPL-2.0-or-later */
/* veilctl commands that read or write plaintext without a mount: ls, cat, export, import,
 * encrypt-path, decrypt-path. Backing I/O relative to directory fds, O_NOFOLLOW. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "../crypto/content.h"
#include "../crypto/dirid.h"
#include "../crypto/names.h"
#include "../crypto/secmem.h"
#include "../fs/backing.h"
#include "../fs/entry.h"
#include "../fs/fileio.h"
#include "../fs/nesting.h"
#include "../fs/object.h"
#include "../fs/precheck.h"
#include "../fs/resolve.h"
#include "../fs/vault.h"
#include "progress.h"
#include "veilctl.h"
#include "walk.h"

#define COPY_CHUNK (256 * 1024)

/* ---- paths for messages ---- */

size_t vc_path_push(struct vc_path *p, const char *name)
{
	size_t old = p->len, nl = strlen(name), need = p->len + nl + 2;

	if (need > p->cap) {
		size_t cap = p->cap ? p->cap : 256;
		char *s;

		while (cap < need)
			cap *= 2;
		s = realloc(p->s, cap);
		if (!s) {
			fputs("veilctl: out of memory\n", stderr);
			exit(VL_EXIT_FAILURE); /* tools only: no sane way on */
		}
		p->s = s;
		p->cap = cap;
	}
	if (p->len)
		p->s[p->len++] = '/';
	memcpy(p->s + p->len, name, nl + 1);
	p->len += nl;
	return old;
}

void vc_path_pop(struct vc_path *p, size_t oldlen)
{
	p->len = oldlen;
	if (p->s)
		p->s[oldlen] = '\0';
}

void vc_path_free(struct vc_path *p)
{
	free(p->s);
	memset(p, 0, sizeof(*p));
}

const char *vc_path_str(const struct vc_path *p)
{
	return p->len ? p->s : ".";
}

/* ---- resolving plaintext paths (the implementation is fs/resolve.c) ---- */

void vc_res_free(struct vc_res *res)
{
	if (res->parentfd >= 0)
		close(res->parentfd);
	res->parentfd = -1;
	vc_path_free(&res->cpath);
}

int vc_subdir_open(struct vl_vault *v, int fd, const struct vl_dirinfo *di, const struct vl_ename *e,
		   struct vl_dirinfo *out)
{
	return vl_subdir_open(v, fd, di, e, out);
}

int vc_dirent_ename(struct vl_vault *v, const struct vl_dirinfo *di, const struct vl_dirent *de,
		    struct vl_ename *out)
{
	if (de->names) {
		*out = *de->names;
		return 0;
	}
	return vl_ename_make(v, di, de->name, de->namelen, de->kind, out);
}

int vc_resolve(struct vl_vault *v, const char *path, struct vc_res *res, char *err, size_t errcap)
{
	struct vl_resolved r;
	int rc = vl_resolve(v, path, &r, err, errcap);

	memset(res, 0, sizeof(*res));
	res->parentfd = -1;
	if (rc < 0) {
		vl_resolved_release(&r);
		return rc;
	}
	res->is_root = r.is_root;
	res->parentfd = r.parentfd;
	r.parentfd = -1; /* now res's */
	res->pdi = r.pdi;
	res->e = r.e;
	res->st = r.st;
	if (!r.is_root)
		vc_path_push(&res->cpath, r.cpath);
	vl_resolved_release(&r);
	return 0;
}

int vc_res_opendir(struct vl_vault *v, const struct vc_res *res, struct vl_dirinfo *di)
{
	struct vl_resolved r = {
		.is_root = res->is_root,
		.parentfd = res->parentfd,
		.pdi = res->pdi,
		.e = res->e,
		.st = res->st,
	};

	return vl_resolved_opendir(v, &r, di);
}

/* Resolves PATH and prints the error; returns the exit status. */
static int resolve_or_report(struct vl_vault *v, const char *path, struct vc_res *res)
{
	char err[512] = "";
	int r = vc_resolve(v, path, res, err, sizeof(err));

	if (r == 0)
		return VL_EXIT_OK;
	vc_err("%s", err[0] ? err : strerror(-r));
	return r == -ENOENT ? VL_EXIT_NOTFOUND : VL_EXIT_FAILURE;
}

/* ---- entries: type, size, object contents ---- */

struct entry_info {
	mode_t mode; /* type from the object for object files, permissions from the backing */
	uint64_t size;
	struct vl_object obj; /* valid when is_object */
	bool is_object;
	bool bad;	      /* could not be read (corrupt object, impossible size) */
};

static void entry_info(struct vl_vault *v, int dirfd, const struct vl_dirinfo *di,
		       const struct vl_ename *e, const struct stat *st, struct entry_info *ei)
{
	struct vl_layout l = vl_vault_layout(v, e->is_long);
	struct vl_binding b;

	memset(ei, 0, sizeof(*ei));
	ei->mode = st->st_mode;
	if (S_ISDIR(st->st_mode)) {
		ei->size = (uint64_t)st->st_size;
		return;
	}
	if (!S_ISREG(st->st_mode)) {
		ei->bad = true;
		return;
	}
	if (e->kind == VL_KIND_OBJECT) {
		/* O_NONBLOCK and the type of the opened file: a fifo swapped in after the
		 * caller's fstatat must not hang us. */
		int fd = openat(dirfd, e->disk, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
		struct stat fst;

		ei->is_object = true;
		if (fd < 0 || fstat(fd, &fst) < 0 || !S_ISREG(fst.st_mode) ||
		    vl_ename_binding(v, di, e, &b) < 0 || vl_object_read(v, fd, &b, &ei->obj) < 0) {
			ei->bad = true;
		} else {
			ei->mode = ei->obj.type | (st->st_mode & 07777);
			ei->size = ei->obj.type == S_IFLNK ? ei->obj.tlen : 0;
		}
		if (fd >= 0)
			close(fd);
		return;
	}
	if (vl_plain_size(&l, (uint64_t)st->st_size, &ei->size) < 0)
		ei->bad = true;
}

static void mode_string(mode_t m, char out[11])
{
	static const char rwx[] = "rwxrwxrwx";

	out[0] = S_ISDIR(m) ? 'd' : S_ISLNK(m) ? 'l' : S_ISFIFO(m) ? 'p' : S_ISSOCK(m) ? 's' :
		 S_ISCHR(m) ? 'c' : S_ISBLK(m) ? 'b' : '-';
	for (int i = 0; i < 9; i++)
		out[i + 1] = (m & (0400 >> i)) ? rwx[i] : '-';
	if (m & S_ISUID)
		out[3] = (m & S_IXUSR) ? 's' : 'S';
	if (m & S_ISGID)
		out[6] = (m & S_IXGRP) ? 's' : 'S';
	if (m & S_ISVTX)
		out[9] = (m & S_IXOTH) ? 't' : 'T';
	out[10] = '\0';
}

/* Opens a regular file name in dirfd for reading without following a symlink or waiting on
 * a fifo put in its place, and checks the type on the opened fd. fd or -errno (-EINVAL:
 * not a regular file any more). */
static int open_regular(int dirfd, const char *name, struct stat *st)
{
	int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC), r = 0;

	if (fd < 0)
		return -errno;
	if (fstat(fd, st) < 0)
		r = -errno;
	else if (!S_ISREG(st->st_mode))
		r = -EINVAL;
	if (r < 0) {
		close(fd);
		return r;
	}
	return fd;
}

/* ---- ls ---- */

static const char ls_usage[] = "veilctl ls [-l] [-R] [--passfile FILE | --extpass CMD] CIPHERDIR [PATH]";

struct ls_item {
	char *name;
	struct vl_ename *e; /* its names, as a lookup gives them */
};
struct ls_list {
	struct vl_vault *v;
	const struct vl_dirinfo *di;
	struct ls_item *items;
	size_t n, cap;
};

static int ls_collect(void *ctx, const struct vl_dirent *de)
{
	struct ls_list *l = ctx;

	if (l->n == l->cap) {
		/* Small at first: a walk keeps one list per level of a deep tree. */
		size_t cap = l->cap ? l->cap * 2 : 4;
		struct ls_item *it = realloc(l->items, cap * sizeof(*it));

		if (!it)
			return -ENOMEM;
		l->items = it;
		l->cap = cap;
	}
	l->items[l->n].name = strdup(de->name);
	l->items[l->n].e = malloc(sizeof(struct vl_ename));
	if (!l->items[l->n].name || !l->items[l->n].e ||
	    vc_dirent_ename(l->v, l->di, de, l->items[l->n].e) < 0) {
		free(l->items[l->n].name);
		free(l->items[l->n].e);
		return -ENOMEM;
	}
	l->n++;
	return 0;
}

static int ls_cmp(const void *a, const void *b)
{
	return strcmp(((const struct ls_item *)a)->name, ((const struct ls_item *)b)->name);
}

static void ls_list_free(struct ls_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->items[i].name);
		free(l->items[i].e);
	}
	free(l->items);
	memset(l, 0, sizeof(*l));
}

/* Lists directory fd (info di) into l, sorted by name. 0 or -errno. */
static int ls_read(struct vl_vault *v, int fd, const struct vl_dirinfo *di, struct ls_list *l)
{
	int r;

	memset(l, 0, sizeof(*l));
	l->v = v;
	l->di = di;
	r = vl_dir_list(v, fd, di, ls_collect, l);
	if (r == 0 && l->n)
		qsort(l->items, l->n, sizeof(*l->items), ls_cmp);
	return r;
}

static void ls_print(struct vl_vault *v, int dirfd, const struct vl_dirinfo *di, const char *name,
		     const struct vl_ename *e, const struct stat *st, bool lng)
{
	struct entry_info ei;
	char ms[11], tb[32];
	struct tm tm;

	if (!lng) {
		printf("%s\n", name);
		return;
	}
	entry_info(v, dirfd, di, e, st, &ei);
	mode_string(ei.mode, ms);
	if (!localtime_r(&st->st_mtime, &tm) || !strftime(tb, sizeof(tb), "%Y-%m-%d %H:%M", &tm))
		strcpy(tb, "?");
	if (ei.bad) {
		printf("?????????? %12s %s %s (unreadable: run veilctl fsck)\n", "?", tb, name);
		return;
	}
	if (ei.is_object && (S_ISCHR(ei.mode) || S_ISBLK(ei.mode)))
		printf("%s %5u, %5u %s %s\n", ms, major(ei.obj.rdev), minor(ei.obj.rdev), tb, name);
	else
		printf("%s %12llu %s %s", ms, (unsigned long long)ei.size, tb, name);
	if (ei.is_object && S_ISLNK(ei.mode))
		printf(" -> %s", ei.obj.target);
	if (!(ei.is_object && (S_ISCHR(ei.mode) || S_ISBLK(ei.mode))))
		putchar('\n');
}

/* The directory info of a frame of a walk over the vault: the root's is the caller's, a
 * subdirectory's is the frame's own (own == di). A frame lets go of it, and of its entry
 * list, as soon as no subdirectory of it is left to open (vc_dirs_done), so that a chain of
 * 100,000 directories holds no list and no info per level while it is walked. */
struct vc_dirref {
	const struct vl_dirinfo *di;
	struct vl_dirinfo *own;
};

static void vc_dirref_free(struct vc_dirref *d)
{
	free(d->own);
	d->own = NULL;
	d->di = NULL;
}

/* ls and ls -R: one directory listed per frame of the walk (walk.h). */
struct ls_ctx {
	struct vl_vault *v;
	bool lng, recurse;
	int ex;
	struct vc_path path; /* the directory's plaintext path as shown: "" for the root */
};

struct ls_frame {
	struct vc_dirref d;
	struct ls_list l;
	size_t i;      /* the next entry to look at for a subdirectory */
	size_t oldlen; /* ctx path before this directory's name */
};

/* Appends "/NAME" to the shown path: "PATH/NAME", and "/NAME" in the root, which is
 * shown as "". Returns the length before. */
static size_t ls_path_push(struct vc_path *p, const char *name)
{
	size_t old = vc_path_push(p, name);

	if (old == 0) { /* vc_path_push left room for one more byte */
		memmove(p->s + 1, p->s, p->len + 1);
		p->s[0] = '/';
		p->len++;
	}
	return old;
}

/* Lists the directory, sorted. */
static int ls_enter(struct vc_walk *w, void *frame, const int fd[VC_WALK_TREES])
{
	struct ls_ctx *x = vc_walk_ctx(w);
	struct ls_frame *f = frame;
	int r;

	r = ls_read(x->v, fd[0], f->d.di, &f->l);
	if (r < 0) {
		vc_err("%s: cannot list: %s", vc_path_str(&x->path), strerror(-r));
		x->ex = VL_EXIT_FAILURE;
		return r == -ENOMEM ? r : -EIO;
	}
	for (size_t i = 0; i < f->l.n; i++) {
		const struct ls_item *it = &f->l.items[i];
		struct stat st;

		if (fstatat(fd[0], it->e->disk, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue; /* removed meanwhile */
		ls_print(x->v, fd[0], f->d.di, it->name, it->e, &st, x->lng);
	}
	return 0;
}

/* With -R, each subdirectory in turn, under a header. */
static int ls_next(struct vc_walk *w, void *frame, const int fd[VC_WALK_TREES], void *child,
		   int sub[VC_WALK_TREES])
{
	struct ls_ctx *x = vc_walk_ctx(w);
	struct ls_frame *f = frame, *c = child;

	while (x->recurse && f->i < f->l.n) {
		const struct ls_item *it = &f->l.items[f->i++];
		struct stat st;
		size_t old;
		int cfd;

		if (fstatat(fd[0], it->e->disk, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISDIR(st.st_mode))
			continue;
		c->d.own = malloc(sizeof(*c->d.own));
		if (!c->d.own)
			return -ENOMEM;
		c->d.di = c->d.own;
		old = ls_path_push(&x->path, it->name);
		cfd = vc_subdir_open(x->v, fd[0], f->d.di, it->e, c->d.own);
		if (cfd < 0) {
			vc_err("%s: cannot open directory (run veilctl fsck)", vc_path_str(&x->path));
			x->ex = VL_EXIT_FAILURE;
			vc_dirref_free(&c->d);
			vc_path_pop(&x->path, old);
			continue;
		}
		printf("\n%s:\n", vc_path_str(&x->path));
		c->oldlen = old;
		sub[0] = cfd;
		if (f->i == f->l.n) { /* nothing left to open here */
			ls_list_free(&f->l);
			vc_dirref_free(&f->d);
		}
		return 1;
	}
	return 0;
}

static void ls_leave(struct vc_walk *w, void *frame, const int fd[VC_WALK_TREES], int status)
{
	struct ls_ctx *x = vc_walk_ctx(w);
	struct ls_frame *f = frame;

	(void)fd;
	if (status == -ELOOP || status == -ESTALE || status == -ENOTDIR) {
		vc_err("%s: %s", vc_path_str(&x->path),
		       status == -ELOOP ? "a directory inside itself (a bind mount loop): not listed" :
		       status == -ESTALE ? "moved while listed: the rest of it was not listed" :
					   "not a directory any more");
		x->ex = VL_EXIT_FAILURE;
	}
	ls_list_free(&f->l);
	vc_dirref_free(&f->d);
	if (vc_walk_depth(w) > 0)
		vc_path_pop(&x->path, f->oldlen);
}

static const struct vc_walk_ops ls_ops = {
	.frame_size = sizeof(struct ls_frame),
	.enter = ls_enter,
	.next = ls_next,
	.leave = ls_leave,
};

/* Lists directory fd (info di), shown as shown; with recurse, then each subdirectory under a
 * header. Returns the exit status. */
static int ls_dir(struct vl_vault *v, int fd, const struct vl_dirinfo *di, const char *shown,
		  bool lng, bool recurse)
{
	struct ls_ctx x = { .v = v, .lng = lng, .recurse = recurse };
	struct ls_frame root = { .d.di = di };
	int fds[VC_WALK_TREES] = { fd, -1 }, r;

	if (shown[0])
		vc_path_push(&x.path, shown);
	r = vc_walk(&ls_ops, &x, fds, &root);
	if (r < 0) {
		vc_err("ls stopped: %s", strerror(-r));
		x.ex = VL_EXIT_FAILURE;
	}
	vc_path_free(&x.path);
	return x.ex;
}

int cmd_ls(int argc, char **argv)
{
	static const struct option lo[] = { VC_COMMON_LONGOPTS, { 0 } };
	struct vl_vault *v = NULL;
	struct vc_res res = { .parentfd = -1 };
	bool lng = false, recurse = false;
	const char *path;
	int c, ex;

	vc_getopt_reset();
	while ((c = getopt_long(argc, argv, "hlR", lo, NULL)) != -1) {
		if (vc_common_opt(c, optarg))
			continue;
		switch (c) {
		case 'h':
			printf("usage: %s\n\nLists plaintext names in the vault without mounting it.\n", ls_usage);
			return VL_EXIT_OK;
		case 'l':
			lng = true;
			break;
		case 'R':
			recurse = true;
			break;
		default:
			return vc_usage(ls_usage);
		}
	}
	if (argc - optind < 1 || argc - optind > 2)
		return vc_usage(ls_usage);
	path = argc - optind == 2 ? argv[optind + 1] : "";
	ex = vc_unlock(argv[optind], &v);
	if (ex)
		return ex;
	ex = resolve_or_report(v, path, &res);
	if (ex)
		goto out;
	if (S_ISDIR(res.st.st_mode)) {
		struct vl_dirinfo *di = malloc(sizeof(*di));
		int fd = di ? vc_res_opendir(v, &res, di) : -ENOMEM;

		if (fd < 0) {
			vc_err("%s: cannot open directory: %s (run veilctl fsck)", path, strerror(-fd));
			ex = VL_EXIT_FAILURE;
			free(di);
			goto out;
		}
		ex = ls_dir(v, fd, di, res.is_root ? "" : path, lng, recurse);
		close(fd);
		free(di);
	} else {
		const char *slash = strrchr(path, '/');

		ls_print(v, res.parentfd, &res.pdi, slash ? slash + 1 : path, &res.e, &res.st, lng);
	}
out:
	vc_res_free(&res);
	vl_vault_free(v);
	return ex;
}

/* ---- cat ---- */

static const char cat_usage[] = "veilctl cat [--passfile FILE | --extpass CMD] CIPHERDIR PATH";

/* Copies the plaintext of ciphertext file fd to out_fd. 0, -EIO (corrupt block, logged) or
 * -errno. */
static int copy_out(struct vl_vault *v, const struct vl_dirinfo *di, const struct vl_ename *e, int fd,
		    int out_fd)
{
	struct vl_content *c = NULL;
	struct vl_binding b;
	uint8_t *buf = NULL;
	uint64_t off = 0;
	int r;

	r = vl_ename_binding(v, di, e, &b);
	if (r == 0)
		r = vl_content_new(&c, v, VL_STREAM_CONTENT, &b);
	if (r < 0)
		goto out;
	buf = malloc(COPY_CHUNK);
	if (!buf) {
		r = -ENOMEM;
		goto out;
	}
	for (;;) {
		ssize_t n = vl_content_read(c, fd, buf, COPY_CHUNK, off);

		if (n < 0) {
			r = (int)n;
			goto out;
		}
		if (n == 0)
			break;
		for (ssize_t w = 0; w < n;) {
			ssize_t k = write(out_fd, buf + w, (size_t)(n - w));

			if (k < 0 && errno == EINTR)
				continue;
			if (k < 0) {
				r = -errno;
				goto out;
			}
			w += k;
		}
		off += (uint64_t)n;
		vc_progress_bytes((uint64_t)n);
	}
	r = 0;
out:
	if (buf)
		vl_wipe(buf, COPY_CHUNK);
	free(buf);
	vl_content_free(c);
	return r;
}

int cmd_cat(int argc, char **argv)
{
	static const struct option lo[] = { VC_COMMON_LONGOPTS, { 0 } };
	struct vc_res res = { .parentfd = -1 };
	struct vl_vault *v = NULL;
	int c, ex, fd = -1, r;

	vc_getopt_reset();
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		if (vc_common_opt(c, optarg))
			continue;
		if (c == 'h') {
			printf("usage: %s\n\nWrites the plaintext of a file in the vault to stdout.\n", cat_usage);
			return VL_EXIT_OK;
		}
		return vc_usage(cat_usage);
	}
	if (argc - optind != 2)
		return vc_usage(cat_usage);
	ex = vc_unlock(argv[optind], &v);
	if (ex)
		return ex;
	ex = resolve_or_report(v, argv[optind + 1], &res);
	if (ex)
		goto out;
	ex = VL_EXIT_FAILURE;
	if (res.is_root || S_ISDIR(res.st.st_mode)) {
		vc_err("%s is a directory (use veilctl ls or export)", argv[optind + 1]);
		goto out;
	}
	if (res.e.kind == VL_KIND_OBJECT || !S_ISREG(res.st.st_mode)) {
		vc_err("%s is a symlink or special file (veilctl ls -l shows it)", argv[optind + 1]);
		goto out;
	}
	{
		struct stat st;

		fd = open_regular(res.parentfd, res.e.disk, &st);
	}
	if (fd < 0) {
		vc_err("%s: cannot open %s: %s", argv[optind + 1], vc_path_str(&res.cpath),
		       fd == -EINVAL ? "not a regular file" : strerror(-fd));
		fd = -1;
		goto out;
	}
	{
		const struct vl_layout l = vl_vault_layout(v, res.e.is_long);
		uint64_t psize;

		/* Not when the file itself goes to the terminal: the line would cut into it. */
		if (vc_progress_on() && !isatty(STDOUT_FILENO) &&
		    vl_plain_size(&l, (uint64_t)res.st.st_size, &psize) == 0)
			vc_progress_begin("cat", NULL, 0, psize);
	}
	r = copy_out(v, &res.pdi, &res.e, fd, STDOUT_FILENO);
	vc_progress_end();
	if (r == -EIO)
		vc_err("%s (%s): a block fails authentication: the file is corrupt (see veilctl fsck)",
		       argv[optind + 1], vc_path_str(&res.cpath));
	else if (r < 0)
		vc_err("%s: %s", argv[optind + 1], strerror(-r));
	else
		ex = VL_EXIT_OK;
out:
	if (fd >= 0)
		close(fd);
	vc_res_free(&res);
	vl_vault_free(v);
	return ex;
}

/* ---- export and import: what they keep, and what the storage side must not choose ---- */

/* Options of export and import about metadata. The mode bits, owner and times of a
 * ciphertext entry are the storage side's (FORMAT.md §7): by default neither command
 * creates set-user-ID, set-group-ID or sticky bits or device files, or changes an owner,
 * and both apply the umask, as cp does (issue 9 §3). */
struct xmeta {
	bool same_perms; /* --same-permissions: every mode bit as found, no umask */
	bool same_owner; /* --same-owner: the owner and group as found */
	bool devices;	 /* --devices: device files are created (export) or stored (import) */
	mode_t mask;	 /* mode bits applied: 07777, or 0777 & ~umask */
};

enum { O_SAME_PERMS = VC_OPT_FIRST_LOCAL + 16, O_SAME_OWNER, O_DEVICES };
#define XMETA_LONGOPTS                                                                        \
	{ "same-permissions", no_argument, NULL, O_SAME_PERMS },                              \
	{ "same-owner", no_argument, NULL, O_SAME_OWNER },                                    \
	{ "devices", no_argument, NULL, O_DEVICES }

/* Handles an option of XMETA_LONGOPTS: true if it was one. */
static bool xmeta_opt(struct xmeta *m, int c)
{
	switch (c) {
	case O_SAME_PERMS:
		m->same_perms = true;
		return true;
	case O_SAME_OWNER:
		m->same_owner = true;
		return true;
	case O_DEVICES:
		m->devices = true;
		return true;
	}
	return false;
}

static void xmeta_init(struct xmeta *m)
{
	mode_t um = umask(0);

	umask(um);
	m->mask = m->same_perms ? 07777 : 0777 & ~um;
}

/* Owner first: chown clears set-ID bits, which the mode then sets (with
 * --same-permissions). Best effort, as cp -p: a failure does not fail the copy. */
static void apply_meta(const struct xmeta *m, int fd, const struct stat *st, bool mode)
{
	struct timespec ts[2] = { st->st_atim, st->st_mtim };

	if (m->same_owner)
		vc_ignore(fchown(fd, st->st_uid, st->st_gid));
	if (mode)
		vc_ignore(fchmod(fd, st->st_mode & m->mask));
	vc_ignore(futimens(fd, ts));
}

/* The same for an entry that cannot be opened (symlink, fifo, device) by name in dirfd. */
static void apply_meta_at(const struct xmeta *m, int dirfd, const char *name, const struct stat *st,
			  bool mode)
{
	struct timespec ts[2] = { st->st_atim, st->st_mtim };

	if (m->same_owner)
		vc_ignore(fchownat(dirfd, name, st->st_uid, st->st_gid, AT_SYMLINK_NOFOLLOW));
	if (mode)
		vc_ignore(fchmodat(dirfd, name, st->st_mode & m->mask, AT_SYMLINK_NOFOLLOW));
	vc_ignore(utimensat(dirfd, name, ts, AT_SYMLINK_NOFOLLOW));
}

static const char *device_kind(mode_t type)
{
	return S_ISBLK(type) ? "a block device" : "a character device";
}

/* Refuses (exit 2) a directory fd used by export or import that overlaps the cipher
 * directory cipherfd (issue 9 §2). */
static int refuse_overlap(int cipherfd, const char *cipherdir, int fd, const char *path,
			  const char *what)
{
	char err[1024] = "";

	if (vl_precheck_apart(cipherfd, cipherdir, fd, path, what, err, sizeof(err)) == 0)
		return VL_EXIT_OK;
	vc_err("refused: %s", err);
	return VL_EXIT_USAGE;
}

/* Refuses (exit 2) a plaintext directory inside, or equal to, the cipher directory of the
 * vault given as cipherdir (the other direction needs the directory itself: see
 * refuse_overlap). Checked before the password is asked for. */
static int refuse_inside(const char *cipherdir, const char *dir, const char *what)
{
	char err[1024] = "";
	enum vl_nesting how;
	int cfd, fd, ex = VL_EXIT_OK, r;

	cfd = vl_precheck_cipherdir(cipherdir, err, sizeof(err));
	if (cfd < 0) {
		vc_err("%s", err);
		return cfd == -ENOMEM ? VL_EXIT_FAILURE : VL_EXIT_CIPHERDIR;
	}
	fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		close(cfd);
		return VL_EXIT_OK; /* reported where it is used */
	}
	r = vl_nesting(fd, cfd, &how);
	if (r < 0 || how == VL_NEST_SAME || how == VL_NEST_A_IN_B)
		ex = refuse_overlap(cfd, cipherdir, fd, dir, what);
	close(fd);
	close(cfd);
	return ex;
}

/* ---- export ---- */

static const char export_usage[] =
	"veilctl export [--force] [--same-permissions] [--same-owner] [--devices]\n"
	"               [--passfile FILE | --extpass CMD] CIPHERDIR [PATH] DEST";

struct xp {
	struct vl_vault *v;
	bool force;
	struct xmeta m;
	unsigned long files, dirs, skipped, errors;
	struct vc_path path; /* plaintext path of what is exported, for messages */
};

/* One directory of the vault and its copy in the destination (tree 0: the vault, tree 1:
 * the destination). */
struct xp_frame {
	struct vc_dirref d; /* the vault directory's IDs */
	struct ls_list l;   /* the vault directory's entries */
	size_t i;	    /* the next one */
	size_t oldlen;	    /* x->path before this directory's name */
	struct stat st;	  /* the vault directory's, for its copy's mode and times */
	bool created;	  /* the copy was made by this export: it gets the mode and times */
};

/* With --force, makes room for a new non-directory entry name in dstfd. */
static int make_room(struct xp *x, int dstfd, const char *name)
{
	struct stat st;

	if (fstatat(dstfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!x->force)
		return -EEXIST;
	if (S_ISDIR(st.st_mode))
		return -EISDIR;
	return unlinkat(dstfd, name, 0) < 0 ? -errno : 0;
}

/* Exports one entry that is not a directory (names e in srcfd, directory info di, backing
 * stat st) into dstfd as name. x->path names it. */
static void export_file(struct xp *x, int srcfd, const struct vl_dirinfo *di,
			const struct vl_ename *e, const struct stat *st, int dstfd, const char *name)
{
	const char *shown = vc_path_str(&x->path);
	struct entry_info ei;
	struct stat fst;
	int fd = -1, ofd = -1, r;

	entry_info(x->v, srcfd, di, e, st, &ei);
	if (ei.bad) {
		vc_err("%s: cannot be read (corrupt; see veilctl fsck)", shown);
		x->errors++;
		return;
	}
	if (ei.is_object && ei.obj.type == S_IFSOCK) {
		vc_err("%s: a socket: not exported", shown);
		x->skipped++;
		return;
	}
	if (ei.is_object && (S_ISCHR(ei.obj.type) || S_ISBLK(ei.obj.type)) && !x->m.devices) {
		vc_err("%s: %s: not exported (--devices creates device files)", shown,
		       device_kind(ei.obj.type));
		x->skipped++;
		return;
	}
	r = make_room(x, dstfd, name);
	if (r == -EEXIST) {
		vc_err("%s: exists in the destination (use --force to overwrite)", shown);
		x->errors++;
		return;
	}
	if (r < 0) {
		vc_err("%s: cannot replace the destination: %s", shown, strerror(-r));
		x->errors++;
		return;
	}
	if (ei.is_object) {
		switch (ei.obj.type) {
		case S_IFLNK:
			r = symlinkat(ei.obj.target, dstfd, name) < 0 ? -errno : 0;
			break;
		case S_IFIFO:
			r = mkfifoat(dstfd, name, st->st_mode & x->m.mask & 0777) < 0 ? -errno : 0;
			break;
		default: /* a device, with --devices */
			r = mknodat(dstfd, name, ei.obj.type | (st->st_mode & x->m.mask & 0777),
				    ei.obj.rdev) < 0 ? -errno : 0;
			break;
		}
		if (r < 0) {
			vc_err("%s: cannot create: %s", shown, strerror(-r));
			x->errors++;
			return;
		}
		apply_meta_at(&x->m, dstfd, name, st, ei.obj.type != S_IFLNK);
		x->files++;
		vc_progress_item(1);
		return;
	}
	fd = open_regular(srcfd, e->disk, &fst);
	if (fd < 0) {
		vc_err("%s: %s", shown, fd == -EINVAL ? "changed while exported (not a file any more)" :
							strerror(-fd));
		x->errors++;
		return;
	}
	ofd = openat(dstfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (ofd < 0) {
		vc_err("%s: cannot create: %s", shown, strerror(errno));
		x->errors++;
		close(fd);
		return;
	}
	r = copy_out(x->v, di, e, fd, ofd);
	if (r < 0) {
		if (r == -EIO)
			vc_err("%s: a block fails authentication: not exported (see veilctl fsck)", shown);
		else
			vc_err("%s: %s", shown, strerror(-r));
		(void)unlinkat(dstfd, name, 0); /* no half file that looks whole */
		x->errors++;
	} else {
		apply_meta(&x->m, ofd, &fst, true);
		x->files++;
		vc_progress_item(1);
	}
	close(ofd);
	close(fd);
}

/* Opens vault directory it (in fd[0], info di) and its copy in the destination (made if
 * missing): the child frame c and its fds sub[]. 0 or -errno (reported). */
static int export_open_dir(struct xp *x, const int fd[VC_WALK_TREES], const struct vl_dirinfo *di,
			   const struct ls_item *it, struct xp_frame *c, int sub[VC_WALK_TREES])
{
	const char *shown = vc_path_str(&x->path);
	int r;

	c->d.own = malloc(sizeof(*c->d.own));
	if (!c->d.own)
		return -ENOMEM;
	c->d.di = c->d.own;
	sub[0] = vc_subdir_open(x->v, fd[0], di, it->e, c->d.own);
	if (sub[0] < 0 || fstat(sub[0], &c->st) < 0) {
		vc_err("%s: cannot open the directory (run veilctl fsck)", shown);
		r = -EIO;
		goto out;
	}
	c->created = mkdirat(fd[1], it->name, 0700) == 0;
	if (!c->created && errno != EEXIST) {
		r = -errno;
		vc_err("%s: cannot create directory: %s", shown, strerror(-r));
		goto out;
	}
	sub[1] = openat(fd[1], it->name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (sub[1] < 0) {
		r = -errno;
		vc_err("%s: cannot open the destination directory: %s", shown, strerror(-r));
		goto out;
	}
	r = 0;
out:
	if (r < 0) {
		x->errors++;
		if (sub[0] >= 0)
			close(sub[0]);
		sub[0] = -1;
		vc_dirref_free(&c->d);
	}
	return r;
}

static int export_enter(struct vc_walk *w, void *frame, const int fd[VC_WALK_TREES])
{
	struct xp *x = vc_walk_ctx(w);
	struct xp_frame *f = frame;
	int r;

	r = ls_read(x->v, fd[0], f->d.di, &f->l);
	if (r < 0) {
		vc_err("%s: cannot list: %s", x->path.len ? vc_path_str(&x->path) : "/",
		       strerror(-r));
		x->errors++;
		return r == -ENOMEM ? r : -EIO;
	}
	return 0;
}

static int export_next(struct vc_walk *w, void *frame, const int fd[VC_WALK_TREES], void *child,
		       int sub[VC_WALK_TREES])
{
	struct xp *x = vc_walk_ctx(w);
	struct xp_frame *f = frame, *c = child;

	while (f->i < f->l.n) {
		const struct ls_item *it = &f->l.items[f->i++];
		/* "/NAME" in the vault's root, as before the walker */
		size_t old = ls_path_push(&x->path, it->name);
		struct stat st;
		int r;

		if (fstatat(fd[0], it->e->disk, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			vc_err("%s: %s", vc_path_str(&x->path), strerror(errno));
			x->errors++;
		} else if (!S_ISDIR(st.st_mode)) {
			export_file(x, fd[0], f->d.di, it->e, &st, fd[1], it->name);
		} else {
			r = export_open_dir(x, fd, f->d.di, it, c, sub);
			if (r == 0) {
				c->oldlen = old; /* the name stays on x->path until leave */
				if (f->i == f->l.n) { /* nothing left to open here */
					ls_list_free(&f->l);
					vc_dirref_free(&f->d);
				}
				return 1;
			}
			if (r == -ENOMEM)
				return r;
		}
		vc_path_pop(&x->path, old);
	}
	return 0;
}

static void export_leave(struct vc_walk *w, void *frame, const int fd[VC_WALK_TREES], int status)
{
	struct xp *x = vc_walk_ctx(w);
	struct xp_frame *f = frame;

	if (status == -ELOOP || status == -ESTALE) {
		vc_err("%s: %s", vc_path_str(&x->path),
		       status == -ELOOP ? "a directory inside itself (a bind mount loop): not exported"
					: "moved while exported: the rest of it was not exported");
		x->errors++;
	}
	if (f->created && fd[1] >= 0)
		apply_meta(&x->m, fd[1], &f->st, true);
	if (status == 0)
		x->dirs++;
	ls_list_free(&f->l);
	vc_dirref_free(&f->d);
	if (vc_walk_depth(w) > 0)
		vc_path_pop(&x->path, f->oldlen);
}

static const struct vc_walk_ops export_ops = {
	.frame_size = sizeof(struct xp_frame),
	.enter = export_enter,
	.next = export_next,
	.leave = export_leave,
};

/* The directory DEST names, or that would hold it: for the check that it is not inside the
 * cipher directory, before the password is asked for. malloc()ed. */
static char *dest_dir(const char *dest)
{
	struct stat st;
	const char *slash;

	if (stat(dest, &st) == 0 && S_ISDIR(st.st_mode))
		return strdup(dest);
	slash = strrchr(dest, '/');
	if (!slash)
		return strdup(".");
	return slash == dest ? strdup("/") : strndup(dest, (size_t)(slash - dest));
}

int cmd_export(int argc, char **argv)
{
	enum { O_FORCE = VC_OPT_FIRST_LOCAL };
	static const struct option lo[] = {
		VC_COMMON_LONGOPTS,
		{ "force", no_argument, NULL, 'f' },
		XMETA_LONGOPTS,
		{ 0 },
	};
	struct vc_res res = { .parentfd = -1 };
	struct xp x = { 0 };
	const char *path = "", *dest, *cipherdir;
	char *dshown = NULL, *ddir = NULL;
	int c, ex, dstfd = -1;

	vc_getopt_reset();
	while ((c = getopt_long(argc, argv, "hf", lo, NULL)) != -1) {
		if (vc_common_opt(c, optarg) || xmeta_opt(&x.m, c))
			continue;
		switch (c) {
		case 'h':
			printf("usage: %s\n\nCopies PATH (default: the whole vault) out of the vault into DEST.\n"
			       "A directory's contents go into DEST (created if missing); a file becomes DEST,\n"
			       "or DEST/NAME when DEST is a directory. Existing files are not overwritten\n"
			       "without --force. Modification times are kept; modes are kept without the\n"
			       "set-user-ID, set-group-ID and sticky bits and with the umask applied, as the\n"
			       "storage side sets them (--same-permissions keeps every bit); the owner is not\n"
			       "changed (--same-owner sets it); device files are skipped (--devices creates\n"
			       "them). DEST must not be inside the cipher directory, nor contain it.\n",
			       export_usage);
			return VL_EXIT_OK;
		case 'f':
			x.force = true;
			break;
		default:
			return vc_usage(export_usage);
		}
	}
	if (argc - optind == 3)
		path = argv[optind + 1];
	else if (argc - optind != 2)
		return vc_usage(export_usage);
	cipherdir = argv[optind];
	dest = argv[argc - 1];
	xmeta_init(&x.m);
	ddir = dest_dir(dest);
	dshown = vl_path_shown(dest);
	if (!ddir || !dshown) {
		vc_err("out of memory");
		ex = VL_EXIT_FAILURE;
		goto out;
	}
	ex = refuse_inside(cipherdir, ddir, "the export destination");
	if (ex)
		goto out;
	ex = vc_unlock(cipherdir, &x.v);
	if (ex)
		goto out;
	ex = resolve_or_report(x.v, path, &res);
	if (ex)
		goto out;
	ex = VL_EXIT_FAILURE;
	if (S_ISDIR(res.st.st_mode)) {
		struct xp_frame root = { .st = res.st };
		struct vl_dirinfo *di;
		int fds[VC_WALK_TREES], sfd, r;

		root.created = mkdir(dest, 0700) == 0;
		if (!root.created && errno != EEXIST) {
			vc_err("%s: cannot create: %s", dshown, strerror(errno));
			goto out;
		}
		dstfd = open(dest, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dstfd < 0) {
			vc_err("%s: not a directory: %s", dshown, strerror(errno));
			goto out;
		}
		/* Now DEST exists: it must not hold the cipher directory either. */
		ex = refuse_overlap(vl_vault_rootfd(x.v), cipherdir, dstfd, dest,
				    "the export destination");
		if (ex) {
			if (root.created)
				(void)rmdir(dest);
			goto out;
		}
		ex = VL_EXIT_FAILURE;
		di = malloc(sizeof(*di));
		sfd = di ? vc_res_opendir(x.v, &res, di) : -ENOMEM;
		if (sfd < 0) {
			vc_err("%s: cannot open the directory: %s (run veilctl fsck)", path, strerror(-sfd));
			free(di);
			goto out;
		}
		root.d.di = di;
		/* The vault's root keeps the destination's mode and times. */
		root.created = root.created && !res.is_root;
		if (!res.is_root)
			vc_path_push(&x.path, path);
		if (vc_progress_on()) {
			struct vc_tree_count tc;

			if (vc_progress_count_vault(sfd, x.v, &tc) < 0)
				tc.bytes = 0;
			vc_progress_begin("export", "files", 0, tc.bytes);
		}
		fds[0] = sfd;
		fds[1] = dstfd;
		r = vc_walk(&export_ops, &x, fds, &root);
		close(sfd);
		free(di);
		if (r < 0) {
			vc_err("export stopped: %s", strerror(-r));
			x.errors++;
		}
	} else {
		const char *slash = strrchr(path, '/');
		const char *base = slash ? slash + 1 : path;
		struct stat dst;
		const char *name;

		if (stat(dest, &dst) == 0 && S_ISDIR(dst.st_mode)) {
			name = base;
		} else {
			const char *ds = strrchr(dest, '/');

			name = ds ? ds + 1 : dest;
		}
		dstfd = open(ddir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dstfd < 0) {
			vc_err("%s: %s", dshown, strerror(errno));
			goto out;
		}
		if (vc_progress_on()) {
			const struct vl_layout l = vl_vault_layout(x.v, res.e.is_long);
			uint64_t psize = 0;

			if (S_ISREG(res.st.st_mode) &&
			    vl_plain_size(&l, (uint64_t)res.st.st_size, &psize) < 0)
				psize = 0;
			vc_progress_begin("export", "files", 1, psize);
		}
		vc_path_push(&x.path, path);
		export_file(&x, res.parentfd, &res.pdi, &res.e, &res.st, dstfd, name);
	}
	vc_progress_end();
	fprintf(stderr, "veilctl: exported %lu files and %lu directories%s%s\n", x.files, x.dirs,
		x.skipped ? ", skipped some" : "", x.errors ? " with errors" : "");
	ex = x.errors ? VL_EXIT_FAILURE : VL_EXIT_OK;
out:
	if (dstfd >= 0)
		close(dstfd);
	free(ddir);
	free(dshown);
	vc_path_free(&x.path);
	vc_res_free(&res);
	vl_vault_free(x.v);
	return ex;
}

/* ---- import ---- */

static const char import_usage[] =
	"veilctl import [--same-permissions] [--same-owner] [--devices]\n"
	"               [--passfile FILE | --extpass CMD] CIPHERDIR SRC [DESTPATH]";

/* Directory levels import goes down, SRC's included. Deeper plaintext paths can be named by
 * no ordinary program (PATH_MAX is 4096 bytes, and a level is at least "a/"), and a
 * ciphertext path (27 bytes or more per level) is past every sync client's limit much
 * earlier. It also bounds a cost outside our hands: each directory's veilfs.dirid is put in
 * place by a rename, which the kernel makes slower the deeper the directory (13 us at the
 * top, 370 us at 20,000 levels on tmpfs), so 100,000 levels took 649 s. */
#define IMPORT_MAX_DEPTH 4096

struct ip {
	struct vl_vault *v;
	struct xmeta m;
	unsigned long files, dirs, skipped, errors;
	struct vc_path path; /* source path of what is imported, for messages */
};

/* The names of a source directory, read whole when it is entered (an open directory
 * stream per level would be an fd per level). */
struct names {
	char *buf; /* NUL-separated */
	size_t len, cap;
};

/* One source directory and the vault directory it is imported into (tree 0: the source,
 * tree 1: the vault). The root frame is the directories holding SRC and DESTPATH, with
 * SRC's name alone in names and DESTPATH's last component as its name in the vault. */
struct ip_frame {
	struct names names;
	size_t off;	       /* of the next name in names.buf */
	const char *rootname;  /* the root frame: the name in the vault, else NULL (the same) */
	struct vc_dirref d;    /* the vault directory's IDs */
	size_t oldlen;	       /* x->path before this directory's name */
	struct stat st;	       /* the source directory's, for the vault directory */
	bool apply;	       /* the vault directory gets the mode and times at the end */
};

static int names_add(struct names *ns, const char *name)
{
	size_t l = strlen(name) + 1;

	if (ns->len + l > ns->cap) {
		size_t cap = ns->cap ? ns->cap * 2 : 64;
		char *b;

		while (cap < ns->len + l)
			cap *= 2;
		b = realloc(ns->buf, cap);
		if (!b)
			return -ENOMEM;
		ns->buf = b;
		ns->cap = cap;
	}
	memcpy(ns->buf + ns->len, name, l);
	ns->len += l;
	return 0;
}

/* Creates a backing regular or object file for ename e in dirfd (info di): format 1's sidecar
 * first, format 2's header and empty block. fd or -errno. */
static int create_file(struct vl_vault *v, int dirfd, const struct vl_dirinfo *di,
		       const struct vl_ename *e, mode_t mode)
{
	int fd, r;

	r = vl_dir_put_sidecar(dirfd, e);
	if (r < 0)
		return r;
	fd = vl_file_create(v, dirfd, di, e, mode);
	if (fd < 0)
		vc_ignore(vl_dir_drop_sidecar(dirfd, e));
	return fd;
}

static int import_file(struct ip *x, int sfd, int dirfd, const struct vl_dirinfo *di,
		       const struct vl_ename *e, const struct stat *st)
{
	struct vl_content *c = NULL;
	struct vl_binding b;
	uint8_t *buf = NULL;
	uint64_t off = 0;
	int fd = -1, r;

	buf = malloc(COPY_CHUNK);
	if (!buf)
		return -ENOMEM;
	r = vl_ename_binding(x->v, di, e, &b);
	if (r == 0)
		r = vl_content_new(&c, x->v, VL_STREAM_CONTENT, &b);
	if (r < 0)
		goto out;
	fd = create_file(x->v, dirfd, di, e, 0600);
	if (fd < 0) {
		r = fd;
		goto out;
	}
	for (;;) {
		ssize_t n = read(sfd, buf, COPY_CHUNK), w;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			goto out;
		}
		if (n == 0)
			break;
		w = vl_content_write(c, fd, buf, (size_t)n, off);
		if (w < 0) {
			r = (int)w;
			goto out;
		}
		off += (uint64_t)n;
		vc_progress_bytes((uint64_t)n);
	}
	if (fsync(fd) < 0) {
		r = -errno;
		goto out;
	}
	apply_meta(&x->m, fd, st, true);
	r = 0;
out:
	if (r < 0 && fd >= 0) {
		(void)unlinkat(dirfd, e->disk, 0);
		vc_ignore(vl_dir_drop_sidecar(dirfd, e));
	}
	if (fd >= 0)
		close(fd);
	vl_content_free(c);
	if (buf)
		vl_wipe(buf, COPY_CHUNK);
	free(buf);
	return r;
}

static int import_object(struct ip *x, int dirfd, const struct vl_dirinfo *di,
			 const struct vl_ename *e, const struct vl_object *o, const struct stat *st)
{
	struct vl_binding b;
	int fd, r;

	r = vl_ename_binding(x->v, di, e, &b);
	if (r < 0)
		return r;
	r = vl_dir_put_sidecar(dirfd, e);
	if (r < 0)
		return r;
	/* An object is written whole into an empty file (vl_object_write makes the header). */
	fd = openat(dirfd, e->disk, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		r = -errno;
		vc_ignore(vl_dir_drop_sidecar(dirfd, e));
		return r;
	}
	r = vl_object_write(x->v, fd, &b, o);
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	/* A symlink's mode means nothing (veilfs shows 0777); its object file stays 0600. */
	if (r == 0)
		apply_meta(&x->m, fd, st, !S_ISLNK(o->type));
	close(fd);
	if (r < 0) {
		(void)unlinkat(dirfd, e->disk, 0);
		vc_ignore(vl_dir_drop_sidecar(dirfd, e));
	}
	return r;
}

/* Imports source entry srcname of srcdirfd, which is not a directory (fstatat gave st), as
 * plaintext name into vault directory dirfd (info di). x->path names it. */
static void import_nondir(struct ip *x, int srcdirfd, const char *srcname, struct stat *st,
			  int dirfd, const struct vl_dirinfo *di, const char *name)
{
	const char *shown = vc_path_str(&x->path);
	struct vl_object *o = NULL;
	struct vl_ename e;
	int r, sfd;

	if ((S_ISCHR(st->st_mode) || S_ISBLK(st->st_mode)) && !x->m.devices) {
		vc_err("%s: %s: not imported (--devices stores device files)", shown,
		       device_kind(st->st_mode));
		x->skipped++;
		return;
	}
	r = vl_ename_make(x->v, di, name, strlen(name),
			  S_ISREG(st->st_mode) ? VL_KIND_PLAIN : VL_KIND_OBJECT, &e);
	if (r < 0) {
		vc_err("%s: invalid name for a vault", shown);
		x->errors++;
		return;
	}
	if (S_ISREG(st->st_mode)) {
		sfd = open_regular(srcdirfd, srcname, st);
		if (sfd < 0) {
			vc_err("%s: %s", shown, sfd == -EINVAL ? "changed while imported (not a file any more)" :
								   strerror(-sfd));
			x->errors++;
			return;
		}
		r = import_file(x, sfd, dirfd, di, &e, st);
		close(sfd);
	} else {
		o = calloc(1, sizeof(*o));
		if (!o) {
			vc_err("out of memory");
			x->errors++;
			return;
		}
		o->type = st->st_mode & S_IFMT;
		if (S_ISLNK(st->st_mode)) {
			ssize_t n = readlinkat(srcdirfd, srcname, o->target, sizeof(o->target));

			if (n <= 0 || (size_t)n >= sizeof(o->target)) {
				vc_err("%s: cannot read the symlink (or its target is over %d bytes)",
				       shown, VL_SYMLINK_MAX);
				x->errors++;
				free(o);
				return;
			}
			o->target[n] = '\0';
			o->tlen = (size_t)n;
		} else if (S_ISCHR(st->st_mode) || S_ISBLK(st->st_mode)) {
			o->rdev = st->st_rdev;
		}
		r = import_object(x, dirfd, di, &e, o, st);
		vl_wipe(o, sizeof(*o));
		free(o);
	}
	if (r == -EEXIST)
		vc_err("%s: already exists in the vault", shown);
	else if (r < 0)
		vc_err("%s: %s", shown, strerror(-r));
	if (r < 0)
		x->errors++;
	else
		x->files++;
	vc_progress_item(1);
}

/* Creates vault directory name in fd[1] (info di) for source directory srcname of fd[0],
 * and opens both: the child frame c and its fds sub[]. 0 or -errno (reported). */
static int import_open_dir(struct ip *x, const int fd[VC_WALK_TREES], const struct vl_dirinfo *di,
			   const char *srcname, const char *name, struct ip_frame *c,
			   int sub[VC_WALK_TREES])
{
	const char *shown = vc_path_str(&x->path);
	struct vl_ename *e = malloc(sizeof(*e));
	int r;

	c->d.own = malloc(sizeof(*c->d.own));
	c->d.di = c->d.own;
	if (!e || !c->d.own) {
		free(e);
		vc_dirref_free(&c->d);
		return -ENOMEM;
	}
	sub[0] = openat(fd[0], srcname, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (sub[0] < 0 || fstat(sub[0], &c->st) < 0) {
		r = -errno;
		vc_err("%s: %s", shown, strerror(-r));
		goto out;
	}
	r = vl_ename_make(x->v, di, name, strlen(name), VL_KIND_PLAIN, e);
	if (r < 0) {
		vc_err("%s: invalid name for a vault", shown);
		goto out;
	}
	/* Made writable for its children; its mode is set when it is left. */
	r = vl_dir_make(x->v, fd[1], di, e, 0700, c->d.own);
	if (r < 0) {
		vc_err("%s: cannot create the directory in the vault: %s", shown, strerror(-r));
		goto out;
	}
	sub[1] = vl_dir_open(fd[1], e->disk);
	r = sub[1] < 0 ? sub[1] : 0;
	if (r < 0)
		vc_err("%s: %s", shown, strerror(-r));
out:
	free(e);
	if (r < 0) {
		x->errors++;
		if (sub[0] >= 0)
			close(sub[0]);
		sub[0] = sub[1] = -1;
		vc_dirref_free(&c->d);
	}
	c->apply = r == 0;
	return r;
}

static int import_enter(struct vc_walk *w, void *frame, const int fd[VC_WALK_TREES])
{
	struct ip *x = vc_walk_ctx(w);
	struct ip_frame *f = frame;
	struct dirent *de;
	DIR *d;
	int r;

	if (f->rootname)
		return 0; /* the root frame: its one name is given */
	r = vl_dir_stream(fd[0], &d);
	if (r < 0) {
		vc_err("%s: %s", vc_path_str(&x->path), strerror(-r));
		x->errors++;
		return r;
	}
	while ((errno = 0, de = readdir(d)) != NULL) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		r = names_add(&f->names, de->d_name);
		if (r < 0)
			break;
	}
	if (r == 0 && errno) {
		r = -errno;
		vc_err("%s: cannot list: %s", vc_path_str(&x->path), strerror(-r));
		x->errors++;
	}
	closedir(d);
	return r;
}

static int import_next(struct vc_walk *w, void *frame, const int fd[VC_WALK_TREES], void *child,
		       int sub[VC_WALK_TREES])
{
	struct ip *x = vc_walk_ctx(w);
	struct ip_frame *f = frame, *c = child;

	while (f->off < f->names.len) {
		const char *srcname = f->names.buf + f->off;
		const char *name = f->rootname ? f->rootname : srcname;
		size_t old = f->rootname ? x->path.len : vc_path_push(&x->path, srcname);
		struct stat st;
		int r;

		f->off += strlen(srcname) + 1;
		if (fstatat(fd[0], srcname, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			vc_err("%s: %s", vc_path_str(&x->path), strerror(errno));
			x->errors++;
		} else if (!S_ISDIR(st.st_mode)) {
			import_nondir(x, fd[0], srcname, &st, fd[1], f->d.di, name);
		} else if (vc_walk_depth(w) >= IMPORT_MAX_DEPTH) {
			vc_err("%s: more than %d levels of directories: not imported (no ordinary program can name paths that deep)",
			       vc_path_str(&x->path), IMPORT_MAX_DEPTH);
			x->errors++;
		} else {
			r = import_open_dir(x, fd, f->d.di, srcname, name, c, sub);
			if (r == 0) {
				c->oldlen = old; /* the name stays on x->path until leave */
				if (f->off == f->names.len && !f->rootname) {
					/* nothing left to create here */
					free(f->names.buf);
					memset(&f->names, 0, sizeof(f->names));
					f->off = 0;
					vc_dirref_free(&f->d);
				}
				return 1;
			}
			if (r == -ENOMEM)
				return r;
		}
		vc_path_pop(&x->path, old);
	}
	return 0;
}

static void import_leave(struct vc_walk *w, void *frame, const int fd[VC_WALK_TREES], int status)
{
	struct ip *x = vc_walk_ctx(w);
	struct ip_frame *f = frame;

	if (status == -ELOOP || status == -ESTALE) {
		vc_err("%s: %s", vc_path_str(&x->path),
		       status == -ELOOP ? "a directory inside itself (a bind mount loop): not imported"
					: "moved while imported: the rest of it was not imported");
		x->errors++;
	}
	if (f->apply && fd[1] >= 0)
		apply_meta(&x->m, fd[1], &f->st, true);
	if (f->apply && status == 0)
		x->dirs++;
	free(f->names.buf);
	vc_dirref_free(&f->d);
	if (vc_walk_depth(w) > 0)
		vc_path_pop(&x->path, f->oldlen);
}

static const struct vc_walk_ops import_ops = {
	.frame_size = sizeof(struct ip_frame),
	.enter = import_enter,
	.next = import_next,
	.leave = import_leave,
};

int cmd_import(int argc, char **argv)
{
	static const struct option lo[] = { VC_COMMON_LONGOPTS, XMETA_LONGOPTS, { 0 } };
	struct vc_res res = { .parentfd = -1 };
	struct ip_frame root = { 0 };
	struct vl_dirinfo di;
	struct ip x = { 0 };
	const char *src, *destpath, *name, *cipherdir;
	char *srcdir = NULL, *destcopy = NULL, *srcname = NULL, *sshown = NULL;
	int c, ex, dirfd = -1, sdirfd = -1, r;
	struct stat sst;

	vc_getopt_reset();
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		if (vc_common_opt(c, optarg) || xmeta_opt(&x.m, c))
			continue;
		if (c == 'h') {
			printf("usage: %s\n\nCopies SRC (a file or a directory tree) into the vault without mounting it:\n"
			       "into DESTPATH when it is an existing directory of the vault (default: the root),\n"
			       "else as DESTPATH. Modification times are kept; modes are kept without the\n"
			       "set-user-ID, set-group-ID and sticky bits and with the umask applied\n"
			       "(--same-permissions keeps every bit); the owner is not copied (--same-owner\n"
			       "copies it); device files are skipped (--devices stores them). SRC must not be\n"
			       "inside the cipher directory, nor a directory that contains it.\n",
			       import_usage);
			return VL_EXIT_OK;
		}
		return vc_usage(import_usage);
	}
	if (argc - optind < 2 || argc - optind > 3)
		return vc_usage(import_usage);
	cipherdir = argv[optind];
	src = argv[optind + 1];
	destpath = argc - optind == 3 ? argv[optind + 2] : "";
	xmeta_init(&x.m);
	{
		/* SRC as (its directory, its last component), trailing slashes dropped */
		char *s = strdup(src), *slash;
		size_t l;

		if (!s) {
			vc_err("out of memory");
			return VL_EXIT_FAILURE;
		}
		l = strlen(s);
		while (l > 1 && s[l - 1] == '/')
			s[--l] = '\0';
		slash = strrchr(s, '/');
		if (!slash) {
			srcdir = strdup(".");
			srcname = strdup(s);
		} else {
			srcname = strdup(slash + 1);
			*slash = '\0';
			srcdir = strdup(slash == s ? "/" : s);
		}
		free(s);
		sshown = vl_path_shown(src);
		if (!srcdir || !srcname || !sshown || !*srcname || !strcmp(srcname, ".") ||
		    !strcmp(srcname, "..")) {
			vc_err("%s: give a file or directory by name", src);
			ex = VL_EXIT_USAGE;
			goto out;
		}
	}
	sdirfd = open(srcdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (sdirfd < 0 || fstatat(sdirfd, srcname, &sst, AT_SYMLINK_NOFOLLOW) < 0) {
		vc_err("%s: %s", sshown, strerror(errno));
		ex = VL_EXIT_FAILURE;
		goto out;
	}
	/* A directory SRC must not be in the cipher directory nor hold it (the import would
	 * read what it writes); a file SRC must not be in it. */
	if (S_ISDIR(sst.st_mode)) {
		char err[1024] = "";
		int sfd = openat(sdirfd, srcname, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		int cfd = vl_precheck_cipherdir(cipherdir, err, sizeof(err));

		if (cfd < 0) {
			vc_err("%s", err);
			ex = cfd == -ENOMEM ? VL_EXIT_FAILURE : VL_EXIT_CIPHERDIR;
		} else if (sfd < 0) {
			vc_err("%s: %s", sshown, strerror(errno));
			ex = VL_EXIT_FAILURE;
		} else {
			ex = refuse_overlap(cfd, cipherdir, sfd, src, "the import source");
		}
		if (sfd >= 0)
			close(sfd);
		if (cfd >= 0)
			close(cfd);
	} else {
		ex = refuse_inside(cipherdir, srcdir, "the import source");
	}
	if (ex)
		goto out;
	ex = vc_unlock(cipherdir, &x.v);
	if (ex)
		goto out;
	name = srcname;
	{
		char err[512] = "";

		r = vc_resolve(x.v, destpath, &res, err, sizeof(err));
		if (r == -ENOENT) {
			/* DESTPATH is the new name: its parent must exist */
			char *slash;

			destcopy = strdup(destpath);
			if (!destcopy) {
				ex = VL_EXIT_FAILURE;
				goto out;
			}
			slash = strrchr(destcopy, '/');
			if (slash) {
				*slash = '\0';
				name = slash + 1;
			} else {
				name = destcopy;
			}
			ex = resolve_or_report(x.v, slash ? destcopy : "", &res);
			if (ex)
				goto out;
		} else if (r < 0) {
			vc_err("%s", err);
			ex = VL_EXIT_FAILURE;
			goto out;
		}
	}
	if (!S_ISDIR(res.st.st_mode)) {
		vc_err("%s exists in the vault and is not a directory", destpath);
		ex = VL_EXIT_FAILURE;
		goto out;
	}
	dirfd = vc_res_opendir(x.v, &res, &di);
	if (dirfd < 0) {
		vc_err("%s: cannot open the directory: %s", destpath, strerror(-dirfd));
		ex = VL_EXIT_FAILURE;
		goto out;
	}
	if (vc_progress_on()) {
		struct vc_tree_count tc;

		if (vc_progress_count_plain(sdirfd, srcname, &tc) < 0)
			tc.bytes = 0;
		vc_progress_begin("import", "files", 0, tc.bytes);
	}
	r = names_add(&root.names, srcname);
	if (r == 0) {
		int fds[VC_WALK_TREES] = { sdirfd, dirfd };

		root.rootname = name;
		root.d.di = &di;
		vc_path_push(&x.path, sshown);
		r = vc_walk(&import_ops, &x, fds, &root);
	} else {
		free(root.names.buf);
	}
	vc_progress_end();
	if (r < 0) {
		vc_err("import stopped: %s", strerror(-r));
		x.errors++;
	}
	fprintf(stderr, "veilctl: imported %lu files and %lu directories%s%s\n", x.files, x.dirs,
		x.skipped ? ", skipped some" : "", x.errors ? " with errors" : "");
	ex = x.errors ? VL_EXIT_FAILURE : VL_EXIT_OK;
out:
	if (dirfd >= 0)
		close(dirfd);
	if (sdirfd >= 0)
		close(sdirfd);
	free(srcdir);
	free(srcname);
	free(sshown);
	free(destcopy);
	vc_path_free(&x.path);
	vc_res_free(&res);
	vl_vault_free(x.v);
	return ex;
}

/* ---- encrypt-path / decrypt-path (the implementation is fs/resolve.c) ---- */

static const char encpath_usage[] =
	"veilctl encrypt-path [--passfile FILE | --extpass CMD] CIPHERDIR|MOUNTPOINT PLAINPATH";
static const char decpath_usage[] =
	"veilctl decrypt-path [--passfile FILE | --extpass CMD] CIPHERDIR|MOUNTPOINT CIPHERPATH";

/* Common option loop of the two commands. */
static int path_cmd_opts(int argc, char **argv, const char *usage, const char *what)
{
	static const struct option lo[] = { VC_COMMON_LONGOPTS, { 0 } };
	int c;

	vc_getopt_reset();
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		if (vc_common_opt(c, optarg))
			continue;
		if (c == 'h') {
			printf("usage: %s\n\n%s\n", usage, what);
			return -1;
		}
		return vc_usage(usage);
	}
	if (argc - optind != 2)
		return vc_usage(usage);
	return VL_EXIT_OK;
}

/* Runs one of the two commands: through the mount's control socket when the first operand
 * is a veilfs mountpoint, else by unlocking the cipher directory. */
static int path_cmd(int argc, char **argv, enum vl_ctl_op op, const char *usage, const char *what)
{
	struct vl_vault *v = NULL;
	char err[512] = "";
	char *text = NULL;
	int ex, r;

	ex = path_cmd_opts(argc, argv, usage, what);
	if (ex)
		return ex < 0 ? VL_EXIT_OK : ex;
	if (vc_mounted_call(argv[optind], op, argv[optind + 1], &ex))
		return ex;
	ex = vc_unlock(argv[optind], &v);
	if (ex)
		return ex;
	if (op == VL_CTL_ENCRYPT_PATH)
		r = vl_path_encrypt(v, argv[optind + 1], &text, err, sizeof(err));
	else
		r = vl_path_decrypt(v, argv[optind], argv[optind + 1], &text, err, sizeof(err));
	if (r < 0) {
		vc_err("%s", err[0] ? err : strerror(-r));
		ex = r == -ENOENT ? VL_EXIT_NOTFOUND : VL_EXIT_FAILURE;
	} else {
		fputs(text, stdout);
	}
	free(text);
	vl_vault_free(v);
	return ex;
}

int cmd_encrypt_path(int argc, char **argv)
{
	return path_cmd(argc, argv, VL_CTL_ENCRYPT_PATH, encpath_usage,
			"Prints the ciphertext path (relative to CIPHERDIR) of a plaintext path, then one\n"
			"`sidecar: PATH' line per long-named component. Components that do not exist yet\n"
			"are shown as veilfs would create them as a file or directory. Given the\n"
			"MOUNTPOINT of a mounted vault, asks its daemon: no password needed.");
}

int cmd_decrypt_path(int argc, char **argv)
{
	return path_cmd(argc, argv, VL_CTL_DECRYPT_PATH, decpath_usage,
			"Prints the plaintext path of a ciphertext path (relative to CIPHERDIR, or starting\n"
			"with CIPHERDIR). Long names ('8...') and sidecars ('9...') are read from their sidecar.\n"
			"Given the MOUNTPOINT of a mounted vault, asks its daemon: no password needed.");
}
