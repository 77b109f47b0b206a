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
#include "../fs/object.h"
#include "../fs/resolve.h"
#include "../fs/vault.h"
#include "progress.h"
#include "veilctl.h"

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
		int fd = openat(dirfd, e->disk, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);

		ei->is_object = true;
		if (fd < 0 || vl_ename_binding(v, di, e, &b) < 0 || vl_object_read(v, fd, &b, &ei->obj) < 0) {
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
		size_t cap = l->cap ? l->cap * 2 : 64;
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

/* Lists directory fd (info di); with recurse, then each subdirectory under a header. */
static int ls_dir(struct vl_vault *v, int fd, const struct vl_dirinfo *di, const char *shown,
		  bool lng, bool recurse)
{
	struct vl_dirinfo *ci = NULL;
	struct ls_list l;
	int ex = VL_EXIT_OK, r;

	r = ls_read(v, fd, di, &l);
	if (r < 0) {
		vc_err("%s: cannot list: %s", shown, strerror(-r));
		ls_list_free(&l);
		return VL_EXIT_FAILURE;
	}
	for (size_t i = 0; i < l.n; i++) {
		struct stat st;

		if (fstatat(fd, l.items[i].e->disk, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue; /* removed meanwhile */
		ls_print(v, fd, di, l.items[i].name, l.items[i].e, &st, lng);
	}
	if (!recurse)
		goto out;
	ci = malloc(sizeof(*ci));
	if (!ci) {
		ex = VL_EXIT_FAILURE;
		goto out;
	}
	for (size_t i = 0; i < l.n; i++) {
		struct stat st;
		char *sub;
		int cfd;

		if (fstatat(fd, l.items[i].e->disk, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode))
			continue;
		if (asprintf(&sub, "%s/%s", shown, l.items[i].name) < 0) {
			ex = VL_EXIT_FAILURE;
			break;
		}
		cfd = vc_subdir_open(v, fd, di, l.items[i].e, ci);
		if (cfd < 0) {
			vc_err("%s: cannot open directory (run veilctl fsck)", sub);
			ex = VL_EXIT_FAILURE;
		} else {
			printf("\n%s:\n", sub);
			r = ls_dir(v, cfd, ci, sub, lng, true);
			if (r)
				ex = r;
			close(cfd);
		}
		free(sub);
	}
out:
	free(ci);
	ls_list_free(&l);
	return ex;
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
	fd = openat(res.parentfd, res.e.disk, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		vc_err("%s: cannot open %s: %s", argv[optind + 1], vc_path_str(&res.cpath), strerror(errno));
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

/* ---- export ---- */

static const char export_usage[] =
	"veilctl export [--force] [--passfile FILE | --extpass CMD] CIPHERDIR [PATH] DEST";

struct xp {
	struct vl_vault *v;
	bool force;
	unsigned long files, dirs, errors;
};

static void set_times(int fd, const struct stat *st)
{
	struct timespec ts[2] = { st->st_atim, st->st_mtim };

	vc_ignore(futimens(fd, ts));
}

static void set_times_at(int dirfd, const char *name, const struct stat *st)
{
	struct timespec ts[2] = { st->st_atim, st->st_mtim };

	vc_ignore(utimensat(dirfd, name, ts, AT_SYMLINK_NOFOLLOW));
}

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

static int export_dir(struct xp *x, int srcfd, const struct vl_dirinfo *di, int dstfd,
		      const char *shown);

/* Exports one entry (names e in srcfd, directory info di) into dstfd as name. */
static void export_entry(struct xp *x, int srcfd, const struct vl_dirinfo *di,
			 const struct vl_ename *e, int dstfd, const char *name, const char *shown)
{
	const char *disk = e->disk;
	struct entry_info ei;
	struct stat st;
	int fd = -1, ofd = -1, r;

	if (fstatat(srcfd, disk, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		vc_err("%s: %s", shown, strerror(errno));
		x->errors++;
		return;
	}
	if (S_ISDIR(st.st_mode)) {
		struct vl_dirinfo *ci = malloc(sizeof(*ci));
		int cfd, dfd;

		cfd = ci ? vc_subdir_open(x->v, srcfd, di, e, ci) : -ENOMEM;
		if (cfd < 0) {
			vc_err("%s: cannot open the directory (run veilctl fsck)", shown);
			free(ci);
			x->errors++;
			return;
		}
		if (mkdirat(dstfd, name, 0700) < 0 && errno != EEXIST) {
			vc_err("%s: cannot create directory: %s", shown, strerror(errno));
			close(cfd);
			free(ci);
			x->errors++;
			return;
		}
		dfd = openat(dstfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (dfd < 0) {
			vc_err("%s: cannot open the destination directory: %s", shown, strerror(errno));
			close(cfd);
			free(ci);
			x->errors++;
			return;
		}
		export_dir(x, cfd, ci, dfd, shown);
		vc_ignore(fchmod(dfd, st.st_mode & 07777));
		set_times(dfd, &st);
		close(dfd);
		close(cfd);
		free(ci);
		x->dirs++;
		return;
	}
	entry_info(x->v, srcfd, di, e, &st, &ei);
	if (ei.bad) {
		vc_err("%s: cannot be read (corrupt; see veilctl fsck)", shown);
		x->errors++;
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
			r = mkfifoat(dstfd, name, st.st_mode & 07777) < 0 ? -errno : 0;
			break;
		case S_IFCHR:
		case S_IFBLK:
			r = mknodat(dstfd, name, ei.obj.type | (st.st_mode & 07777), ei.obj.rdev) < 0 ? -errno : 0;
			break;
		default:
			vc_err("%s: a socket: not exported", shown);
			return;
		}
		if (r < 0) {
			vc_err("%s: cannot create: %s", shown, strerror(-r));
			x->errors++;
			return;
		}
		if (ei.obj.type != S_IFLNK)
			vc_ignore(fchmodat(dstfd, name, st.st_mode & 07777, 0));
		set_times_at(dstfd, name, &st);
		x->files++;
		vc_progress_item(1);
		return;
	}
	fd = openat(srcfd, disk, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		vc_err("%s: %s", shown, strerror(errno));
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
		vc_ignore(fchmod(ofd, st.st_mode & 07777));
		set_times(ofd, &st);
		x->files++;
		vc_progress_item(1);
	}
	close(ofd);
	close(fd);
}

static int export_dir(struct xp *x, int srcfd, const struct vl_dirinfo *di, int dstfd,
		      const char *shown)
{
	struct ls_list l;
	int r;

	r = ls_read(x->v, srcfd, di, &l);
	if (r < 0) {
		vc_err("%s: cannot list: %s", shown[0] ? shown : "/", strerror(-r));
		x->errors++;
		ls_list_free(&l);
		return r;
	}
	for (size_t i = 0; i < l.n; i++) {
		char *sub;

		if (asprintf(&sub, "%s/%s", shown, l.items[i].name) < 0) {
			x->errors++;
			break;
		}
		export_entry(x, srcfd, di, l.items[i].e, dstfd, l.items[i].name, sub);
		free(sub);
	}
	ls_list_free(&l);
	return 0;
}

int cmd_export(int argc, char **argv)
{
	enum { O_FORCE = VC_OPT_FIRST_LOCAL };
	static const struct option lo[] = {
		VC_COMMON_LONGOPTS,
		{ "force", no_argument, NULL, 'f' },
		{ 0 },
	};
	struct vc_res res = { .parentfd = -1 };
	struct xp x = { 0 };
	const char *path = "", *dest;
	int c, ex, dstfd = -1;

	vc_getopt_reset();
	while ((c = getopt_long(argc, argv, "hf", lo, NULL)) != -1) {
		if (vc_common_opt(c, optarg))
			continue;
		switch (c) {
		case 'h':
			printf("usage: %s\n\nCopies PATH (default: the whole vault) out of the vault into DEST.\n"
			       "A directory's contents go into DEST (created if missing); a file becomes DEST,\n"
			       "or DEST/NAME when DEST is a directory. Existing files are not overwritten\n"
			       "without --force.\n",
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
	dest = argv[argc - 1];
	ex = vc_unlock(argv[optind], &x.v);
	if (ex)
		return ex;
	ex = resolve_or_report(x.v, path, &res);
	if (ex)
		goto out;
	ex = VL_EXIT_FAILURE;
	if (S_ISDIR(res.st.st_mode)) {
		struct vl_dirinfo di;
		int sfd;

		if (mkdir(dest, 0700) < 0 && errno != EEXIST) {
			vc_err("%s: cannot create: %s", dest, strerror(errno));
			goto out;
		}
		dstfd = open(dest, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dstfd < 0) {
			vc_err("%s: not a directory: %s", dest, strerror(errno));
			goto out;
		}
		sfd = vc_res_opendir(x.v, &res, &di);
		if (sfd < 0) {
			vc_err("%s: cannot open the directory: %s (run veilctl fsck)", path, strerror(-sfd));
			goto out;
		}
		if (vc_progress_on()) {
			struct vc_tree_count tc;

			if (vc_progress_count_vault(sfd, x.v, &tc) < 0)
				tc.bytes = 0;
			vc_progress_begin("export", "files", 0, tc.bytes);
		}
		export_dir(&x, sfd, &di, dstfd, res.is_root ? "" : path);
		if (!res.is_root) {
			vc_ignore(fchmod(dstfd, res.st.st_mode & 07777));
			set_times(dstfd, &res.st);
		}
		close(sfd);
		x.dirs++;
	} else {
		const char *slash = strrchr(path, '/');
		const char *base = slash ? slash + 1 : path;
		struct stat dst;
		char *dir = NULL;
		const char *name;

		if (stat(dest, &dst) == 0 && S_ISDIR(dst.st_mode)) {
			dir = strdup(dest);
			name = base;
		} else {
			const char *ds = strrchr(dest, '/');

			dir = ds ? (ds == dest ? strdup("/") : strndup(dest, (size_t)(ds - dest))) : strdup(".");
			name = ds ? ds + 1 : dest;
		}
		if (!dir) {
			vc_err("out of memory");
			goto out;
		}
		dstfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dstfd < 0) {
			vc_err("%s: %s", dir, strerror(errno));
			free(dir);
			goto out;
		}
		free(dir);
		if (vc_progress_on()) {
			const struct vl_layout l = vl_vault_layout(x.v, res.e.is_long);
			uint64_t psize = 0;

			if (S_ISREG(res.st.st_mode) &&
			    vl_plain_size(&l, (uint64_t)res.st.st_size, &psize) < 0)
				psize = 0;
			vc_progress_begin("export", "files", 1, psize);
		}
		(void)base;
		export_entry(&x, res.parentfd, &res.pdi, &res.e, dstfd, name, path);
	}
	vc_progress_end();
	fprintf(stderr, "veilctl: exported %lu files and %lu directories%s\n", x.files, x.dirs,
		x.errors ? " with errors" : "");
	ex = x.errors ? VL_EXIT_FAILURE : VL_EXIT_OK;
out:
	if (dstfd >= 0)
		close(dstfd);
	vc_res_free(&res);
	vl_vault_free(x.v);
	return ex;
}

/* ---- import ---- */

static const char import_usage[] =
	"veilctl import [--passfile FILE | --extpass CMD] CIPHERDIR SRC [DESTPATH]";

struct ip {
	struct vl_vault *v;
	unsigned long files, dirs, errors;
};

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
	fd = create_file(x->v, dirfd, di, e, st->st_mode & 07777);
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
	set_times(fd, st);
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
	mode_t m = S_ISLNK(o->type) ? 0600 : st->st_mode & 07777;
	struct vl_binding b;
	int fd, r;

	r = vl_ename_binding(x->v, di, e, &b);
	if (r < 0)
		return r;
	r = vl_dir_put_sidecar(dirfd, e);
	if (r < 0)
		return r;
	/* An object is written whole into an empty file (vl_object_write makes the header). */
	fd = openat(dirfd, e->disk, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, m);
	if (fd < 0) {
		r = -errno;
		vc_ignore(vl_dir_drop_sidecar(dirfd, e));
		return r;
	}
	r = vl_object_write(x->v, fd, &b, o);
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	if (r == 0)
		set_times(fd, st);
	close(fd);
	if (r < 0) {
		(void)unlinkat(dirfd, e->disk, 0);
		vc_ignore(vl_dir_drop_sidecar(dirfd, e));
	}
	return r;
}

/* Imports source entry name (in srcdirfd) as plaintext name into vault dir dirfd (ID id). */
static void import_entry(struct ip *x, int srcdirfd, const char *srcname, int dirfd,
			 const struct vl_dirinfo *di, const char *name, const char *shown)
{
	struct vl_object o = { 0 };
	struct vl_ename e;
	struct stat st;
	int r, sfd;

	if (fstatat(srcdirfd, srcname, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		vc_err("%s: %s", shown, strerror(errno));
		x->errors++;
		return;
	}
	r = vl_ename_make(x->v, di, name, strlen(name),
			  S_ISREG(st.st_mode) || S_ISDIR(st.st_mode) ? VL_KIND_PLAIN : VL_KIND_OBJECT, &e);
	if (r < 0) {
		vc_err("%s: invalid name for a vault", shown);
		x->errors++;
		return;
	}
	if (S_ISDIR(st.st_mode)) {
		struct vl_dirinfo *ci = malloc(sizeof(*ci));
		struct dirent *de;
		DIR *d;
		int cfd;

		/* Made writable for its children; its mode is set at the end. */
		r = ci ? vl_dir_make(x->v, dirfd, di, &e, 0700, ci) : -ENOMEM;
		if (r < 0) {
			vc_err("%s: cannot create the directory in the vault: %s", shown, strerror(-r));
			x->errors++;
			free(ci);
			return;
		}
		cfd = vl_dir_open(dirfd, e.disk);
		sfd = openat(srcdirfd, srcname, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		d = sfd >= 0 ? fdopendir(sfd) : NULL;
		if (cfd < 0 || !d) {
			vc_err("%s: %s", shown, strerror(cfd < 0 ? -cfd : errno));
			x->errors++;
			if (d)
				closedir(d);
			else if (sfd >= 0)
				close(sfd);
			if (cfd >= 0)
				close(cfd);
			free(ci);
			return;
		}
		while ((errno = 0, de = readdir(d))) {
			char *sub;

			if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
				continue;
			if (asprintf(&sub, "%s/%s", shown, de->d_name) < 0) {
				x->errors++;
				break;
			}
			import_entry(x, sfd, de->d_name, cfd, ci, de->d_name, sub);
			free(sub);
		}
		vc_ignore(fchmod(cfd, st.st_mode & 07777));
		set_times(cfd, &st);
		closedir(d);
		close(cfd);
		free(ci);
		x->dirs++;
		return;
	}
	if (S_ISREG(st.st_mode)) {
		sfd = openat(srcdirfd, srcname, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (sfd < 0) {
			vc_err("%s: %s", shown, strerror(errno));
			x->errors++;
			return;
		}
		r = import_file(x, sfd, dirfd, di, &e, &st);
		close(sfd);
	} else {
		o.type = st.st_mode & S_IFMT;
		if (S_ISLNK(st.st_mode)) {
			ssize_t n = readlinkat(srcdirfd, srcname, o.target, sizeof(o.target));

			if (n <= 0 || (size_t)n >= sizeof(o.target)) {
				vc_err("%s: cannot read the symlink (or its target is over %d bytes)",
				       shown, VL_SYMLINK_MAX);
				x->errors++;
				return;
			}
			o.target[n] = '\0';
			o.tlen = (size_t)n;
		} else if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
			o.rdev = st.st_rdev;
		}
		r = import_object(x, dirfd, di, &e, &o, &st);
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

int cmd_import(int argc, char **argv)
{
	static const struct option lo[] = { VC_COMMON_LONGOPTS, { 0 } };
	struct vc_res res = { .parentfd = -1 };
	struct vl_dirinfo di;
	struct ip x = { 0 };
	const char *src, *destpath, *name;
	char *srcdir = NULL, *destcopy = NULL, *srcname = NULL;
	int c, ex, dirfd = -1, sdirfd = -1;
	struct stat sst;

	vc_getopt_reset();
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		if (vc_common_opt(c, optarg))
			continue;
		if (c == 'h') {
			printf("usage: %s\n\nCopies SRC (a file or a directory tree) into the vault without mounting it:\n"
			       "into DESTPATH when it is an existing directory of the vault (default: the root),\n"
			       "else as DESTPATH. Modes and modification times are kept.\n",
			       import_usage);
			return VL_EXIT_OK;
		}
		return vc_usage(import_usage);
	}
	if (argc - optind < 2 || argc - optind > 3)
		return vc_usage(import_usage);
	src = argv[optind + 1];
	destpath = argc - optind == 3 ? argv[optind + 2] : "";
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
		if (!srcdir || !srcname || !*srcname || !strcmp(srcname, ".") || !strcmp(srcname, "..")) {
			vc_err("%s: give a file or directory by name", src);
			ex = VL_EXIT_USAGE;
			goto out;
		}
	}
	sdirfd = open(srcdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (sdirfd < 0 || fstatat(sdirfd, srcname, &sst, AT_SYMLINK_NOFOLLOW) < 0) {
		vc_err("%s: %s", src, strerror(errno));
		ex = VL_EXIT_FAILURE;
		goto out;
	}
	ex = vc_unlock(argv[optind], &x.v);
	if (ex)
		goto out;
	name = srcname;
	{
		char err[512] = "";
		int r = vc_resolve(x.v, destpath, &res, err, sizeof(err));

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
	import_entry(&x, sdirfd, srcname, dirfd, &di, name, src);
	vc_progress_end();
	fprintf(stderr, "veilctl: imported %lu files and %lu directories%s\n", x.files, x.dirs,
		x.errors ? " with errors" : "");
	ex = x.errors ? VL_EXIT_FAILURE : VL_EXIT_OK;
out:
	if (dirfd >= 0)
		close(dirfd);
	if (sdirfd >= 0)
		close(sdirfd);
	free(srcdir);
	free(srcname);
	free(destcopy);
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
