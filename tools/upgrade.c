/* SPDX-License-Identifier: GPL-2.0-or-later */
/* veilctl upgrade: converts a format-1 vault to format 2 in place (docs/FORMAT.md §10).
 *
 * The config first says "format 2, upgrading", so that nothing mounts a half-converted vault.
 * Then every directory, depth first: its ID files in format 2 (same IDs), every file written
 * again under a temporary name with a format-2 header and the same blocks and renamed over
 * itself, subdirectories, and last the directory's format-1 sidecars. Every step is atomic
 * and tells its own state (a format-2 header or ID file never passes for a format-1 one), so
 * a crash anywhere is resumed by running the command again. Names and blocks are not
 * re-encrypted. The tree is read name by name (not through the mount's listing), so that
 * every entry format 1 showed is converted, whatever state it is in. It is walked by
 * veilctl's iterative walker (walk.h): a tree of any depth is converted down to
 * UPGRADE_MAX_DEPTH levels, or the upgrade stops there with an error, never a crash. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "../crypto/conflict.h"
#include "../crypto/dirid.h"
#include "../crypto/names.h"
#include "../crypto/secmem.h"
#include "../fs/backing.h"
#include "../fs/dirinfo.h"
#include "../fs/feedback.h"
#include "../fs/dirs.h"
#include "../fs/fileio.h"
#include "../fs/vault.h"
#include "progress.h"
#include "veilctl.h"
#include "walk.h"

static const char upgrade_usage[] =
	"veilctl upgrade [--passfile FILE | --extpass CMD] [--config FILE] CIPHERDIR";

/* Directory levels converted, the root's included: as deep as veilctl import goes, for the
 * same reasons (tools/browse.c): no ordinary program can name paths that deep, and each
 * level's ID file is put in place by a rename, which the kernel makes slower the deeper the
 * directory, so that 100,000 levels would take many minutes. Only the storage side builds
 * such a tree (format 1 lets it nest copies of one directory without the key). */
#define UPGRADE_MAX_DEPTH 4096

struct up {
	struct vl_vault *v1, *v2; /* the same keys read as format 1 and as format 2 */
	unsigned long dirs, files, done_before, sidecars, errors, seen, total;
	unsigned long damaged; /* unreadable in format 1 already: left as they are */
	unsigned long tmps;    /* temporaries of a killed upgrade, removed */
	bool progress;
	struct vc_path path; /* ciphertext path, for messages */
};

static void up_progress(struct up *u)
{
	if (u->progress)
		vc_progress_item(1);
}

static void up_err(struct up *u, const char *name, const char *what, int r)
{
	size_t old = vc_path_push(&u->path, name);

	if (u->progress)
		vc_progress_clear();
	vc_err("%s: %s%s%s", vc_path_str(&u->path), what, r ? ": " : "", r ? strerror(-r) : "");
	vc_path_pop(&u->path, old);
	u->errors++;
}

/* Counting the names below the root (for the progress line), on the walker: a frame holds
 * the names of its subdirectories, read when it is entered. */
struct count_frame {
	char *dirs; /* NUL-separated */
	size_t len, cap, off;
};

static int count_enter(struct vc_walk *w, void *frame, const int fd[VC_WALK_TREES])
{
	unsigned long *n = vc_walk_ctx(w);
	struct count_frame *f = frame;
	struct dirent *d;
	DIR *dir;

	if (vl_dir_stream(fd[0], &dir) < 0)
		return 0;
	while ((d = readdir(dir))) {
		size_t l = strlen(d->d_name) + 1;

		if (!strcmp(d->d_name, ".") || !strcmp(d->d_name, ".."))
			continue;
		(*n)++;
		if (d->d_type != DT_DIR)
			continue;
		if (f->len + l > f->cap) {
			size_t cap = f->cap ? f->cap * 2 : 64;
			char *b;

			while (cap < f->len + l)
				cap *= 2;
			b = realloc(f->dirs, cap);
			if (!b)
				break; /* a count for a progress line: fewer is fine */
			f->dirs = b;
			f->cap = cap;
		}
		memcpy(f->dirs + f->len, d->d_name, l);
		f->len += l;
	}
	closedir(dir);
	return 0;
}

static int count_next(struct vc_walk *w, void *frame, const int fd[VC_WALK_TREES], void *child,
		      int sub[VC_WALK_TREES])
{
	struct count_frame *f = frame;

	(void)child;
	while (f->off < f->len && vc_walk_depth(w) + 1 < UPGRADE_MAX_DEPTH) {
		const char *name = f->dirs + f->off;

		f->off += strlen(name) + 1;
		sub[0] = vl_dir_open(fd[0], name);
		if (sub[0] >= 0)
			return 1;
		sub[0] = -1;
	}
	return 0;
}

static void count_leave(struct vc_walk *w, void *frame, const int fd[VC_WALK_TREES], int status)
{
	struct count_frame *f = frame;

	(void)w;
	(void)fd;
	(void)status;
	free(f->dirs);
}

/* Counts the names below dfd. */
static unsigned long count_names(int dfd)
{
	static const struct vc_walk_ops ops = {
		.frame_size = sizeof(struct count_frame),
		.enter = count_enter,
		.next = count_next,
		.leave = count_leave,
	};
	struct count_frame root = { 0 };
	int fds[VC_WALK_TREES] = { dfd, -1 };
	unsigned long n = 0;

	if (vc_walk(&ops, &n, fds, &root) < 0)
		return 0;
	return n;
}

/* Format-1 hard links met in one directory: the first name converted, by original inode. */
struct links {
	struct {
		dev_t dev;
		ino_t ino;
		char *name;
	} *v;
	size_t n, cap;
};

static const char *links_find(const struct links *l, const struct stat *st)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->v[i].dev == st->st_dev && l->v[i].ino == st->st_ino)
			return l->v[i].name;
	return NULL;
}

static void links_add(struct links *l, const struct stat *st, const char *name)
{
	if (l->n == l->cap) {
		size_t nc = l->cap ? l->cap * 2 : 8;
		void *nv = realloc(l->v, nc * sizeof(*l->v));

		if (!nv)
			return; /* the other names get copies instead: still correct */
		l->v = nv;
		l->cap = nc;
	}
	l->v[l->n].dev = st->st_dev;
	l->v[l->n].ino = st->st_ino;
	l->v[l->n].name = strdup(name);
	if (l->v[l->n].name)
		l->n++;
}

static void links_free(struct links *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i].name);
	free(l->v);
}

/* Converts the regular or object file `name` of directory dfd (its names e, its directory di
 * in format 2). */
static void convert_file(struct up *u, int dfd, const struct vl_dirinfo *di, const char *name,
			 const struct vl_ename *e, struct links *links)
{
	enum vl_stream s = e->kind == VL_KIND_OBJECT ? VL_STREAM_OBJECT : VL_STREAM_CONTENT;
	struct vl_layout l2 = vl_vault_layout(u->v2, e->is_long);
	uint8_t id[VL_FILEID_LEN];
	struct timespec ts[2];
	struct vl_binding b;
	const char *first;
	struct stat st;
	char tmp[VL_TMP_NAME_SIZE];
	int src = -1, dst = -1, r;
	bool made = false;

	src = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (src < 0 || fstat(src, &st) < 0 || !S_ISREG(st.st_mode)) {
		up_err(u, name, "cannot open", src < 0 ? -errno : -EINVAL);
		goto out;
	}
	switch (vl_file_state(u->v2, src, &l2, id)) {
	case VL_FILE_V2:
		u->done_before++;
		goto out;
	case VL_FILE_DAMAGED:
		/* Unreadable in format 1 too (a torn or foreign header): nothing to convert, and
		 * no reason to keep the whole vault from format 2. fsck reports it afterwards. */
		up_err(u, name, "damaged (not a format-1 file: a torn header?), unreadable before as after; left as it is, `veilctl fsck' reports it", 0);
		u->errors--;
		u->damaged++;
		goto out;
	default:
		break;
	}
	r = vl_tmp_name(tmp);
	if (r < 0)
		goto fail;
	/* A later short name of a format-1 hard link in this directory: link it to the converted
	 * file (whatever st_nlink says now: the earlier names left this inode). A long name
	 * keeps its own name in its header (FORMAT.md §3.1): it gets its own copy. */
	first = e->is_long ? NULL : links_find(links, &st);
	if (first) {
		if (linkat(dfd, first, dfd, tmp, 0) < 0) {
			r = -errno;
			goto fail;
		}
		made = true;
		goto place;
	}
	r = vl_ename_binding(u->v2, di, e, &b);
	if (r < 0)
		goto fail;
	dst = openat(dfd, tmp, O_CREAT | O_EXCL | O_RDWR | O_NOFOLLOW | O_CLOEXEC, (st.st_mode & 07777) | S_IWUSR);
	if (dst < 0) {
		r = -errno;
		goto fail;
	}
	made = true;
	/* The attributes first: an empty file's are sealed again under its new ID. */
	r = vl_copy_user_xattrs(src, dst);
	if (r == 0)
		r = vl_content_upgrade(u->v2, s, &b, src, dst);
	vl_wipe(&b, sizeof(b));
	if (r < 0)
		goto fail;
	if (geteuid() == 0 && fchown(dst, st.st_uid, st.st_gid) < 0) {
		r = -errno;
		goto fail;
	}
	if (fchmod(dst, st.st_mode & 07777) < 0 || fsync(dst) < 0) {
		r = -errno;
		goto fail;
	}
	ts[0] = st.st_atim;
	ts[1] = st.st_mtim;
	if (futimens(dst, ts) < 0) {
		r = -errno;
		goto fail;
	}
place:
	if (renameat(dfd, tmp, dfd, name) < 0) {
		r = -errno;
		goto fail;
	}
	made = false;
	if (st.st_nlink > 1 && !first && !e->is_long)
		links_add(links, &st, name);
	u->files++;
	goto out;
fail:
	up_err(u, name, "cannot convert", r);
out:
	if (made)
		(void)unlinkat(dfd, tmp, 0);
	if (dst >= 0)
		close(dst);
	if (src >= 0)
		close(src);
}

/* The full encoded name of long name `name` (maybe a conflict copy) in dfd: from the entry
 * when it is converted already, else from format 1's sidecar. */
static int long_full(struct up *u, int dfd, const char *name, char full[static VL_ENCNAME_MAX + 1])
{
	char side[VL_CONFLICT_NAME_MAX + 1];
	int n = vl_dir_long_entry_name(u->v2, dfd, name, strlen(name), full, side);

	if (n < 0)
		n = vl_dir_long_entry_name(u->v1, dfd, name, strlen(name), full, side);
	return n;
}

/* One directory being converted: a frame of the walk (walk.h), which holds what the
 * recursion of convert_dir kept on the stack. The root's info is the caller's; a
 * subdirectory's is the frame's own. */
struct up_frame {
	struct vl_dirinfo *di;
	bool own;			/* di is the frame's (freed when it is left) */
	uint8_t ptoken[VL_TOKEN_LEN];	/* its parent's place token */
	char **names;			/* a snapshot of its names (conversions add temporaries) */
	size_t n, i;			/* how many; the next */
	struct links links;		/* format-1 hard links met here */
	size_t old;			/* u->path before its name */
};

/* The info of subdirectory cfd, entry e under ID id of directory di: its format-2 ID files
 * when it was converted already, else its format-1 IDs placed where it is. */
static int sub_info(struct up *u, int cfd, const struct vl_dirinfo *di, const struct vl_ename *e,
		    const uint8_t id[static VL_DIRID_LEN], struct vl_dirinfo *ci)
{
	struct vl_dirinfo *c1 = NULL;
	uint8_t fid[VL_DIRID_LEN];
	size_t bl = vl_ename_base_len(e);
	bool here = false;
	int r;

	memset(ci, 0, sizeof(*ci));
	ci->format = VL_FORMAT_V2;
	memcpy(ci->place.parent, id, VL_DIRID_LEN);
	memcpy(ci->place.name, e->full, e->fulllen + 1);
	ci->place.namelen = e->fulllen;
	memcpy(ci->disk, e->disk, bl);
	ci->disk[bl] = '\0';
	ci->disklen = bl;
	if (vl_idfile_read_id(u->v2, cfd, VL_DIRID_FILE, ci, fid, &here) == 0 && here)
		return vl_dir_child_info(u->v2, cfd, di, e, ci);
	c1 = malloc(sizeof(*c1));
	if (!c1)
		return -ENOMEM;
	r = vl_dir_child_info(u->v1, cfd, di, e, c1);
	if (r == 0) {
		memcpy(ci->id, c1->id, VL_DIRID_LEN);
		ci->nalt = c1->nalt;
		memcpy(ci->alt, c1->alt, sizeof(ci->alt));
	}
	free(c1);
	return r;
}

/* Converts one name of directory dfd (format-2 info di; its format-1 IDs are di's IDs too). A
 * subdirectory is not converted here: it is opened into the child frame c and sub[0], its
 * name left on u->path, and 1 returned; else 0. */
static int convert_name(struct up *u, int dfd, struct vl_dirinfo *di, const char *name,
			struct links *links, size_t depth, struct up_frame *c, int sub[VC_WALK_TREES])
{
	size_t len = strlen(name), el;
	char plain[256];
	struct vl_ename e;
	enum vl_ondisk ek;
	enum vl_kind kind;
	struct stat st;
	const uint8_t *id = NULL;
	int flen;

	memset(&e, 0, sizeof(e));
	switch (vl_name_classify(name, len)) {
	case VL_ONDISK_SHORT:
		el = len;
		ek = VL_ONDISK_SHORT;
		break;
	case VL_ONDISK_LONG:
		el = len;
		ek = VL_ONDISK_LONG;
		break;
	case VL_ONDISK_FOREIGN:
		/* a sync client's conflict copy of an entry */
		el = vl_conflict_split(name, len, &ek);
		if (el == 0 || ek == VL_ONDISK_SIDECAR)
			return 0;
		e.is_conflict = true;
		break;
	default:
		return 0; /* veilfs.conf, veilfs.dirid, sidecars: handled apart */
	}
	if (ek == VL_ONDISK_LONG) {
		flen = long_full(u, dfd, name, e.full);
		if (flen < 0) {
			up_err(u, name, "long name whose full name cannot be read (no sidecar?): left as it is, see veilctl fsck", 0);
			return 0;
		}
		e.fulllen = (size_t)flen;
		e.is_long = true;
	} else {
		memcpy(e.full, name, el);
		e.full[el] = '\0';
		e.fulllen = el;
	}
	/* Under which of the directory's IDs the name is encrypted. */
	if (vl_name_decrypt(vl_vault_keys(u->v2), di->id, e.full, e.fulllen, plain, sizeof(plain), &kind) >= 0)
		id = di->id;
	for (unsigned i = 0; !id && i < di->nalt; i++)
		if (vl_name_decrypt(vl_vault_keys(u->v2), di->alt[i], e.full, e.fulllen, plain, sizeof(plain), &kind) >= 0)
			id = di->alt[i];
	vl_wipe(plain, sizeof(plain));
	if (!id) {
		up_err(u, name, "name does not decrypt in this directory: left as it is, see veilctl fsck", 0);
		return 0;
	}
	e.kind = kind;
	e.is_alt = id != di->id;
	memcpy(e.altid, id, VL_DIRID_LEN);
	snprintf(e.disk, sizeof(e.disk), "%s", name);
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return 0; /* gone meanwhile */
	if (S_ISDIR(st.st_mode) && kind == VL_KIND_PLAIN) {
		struct vl_dirinfo *ci;
		int cfd, r;

		if (depth + 1 >= UPGRADE_MAX_DEPTH) {
			char what[320];

			snprintf(what, sizeof(what),
				 "more than %d levels of directories: not converted (only the storage side makes trees that deep); move this directory out of the cipher directory or delete it, and run veilctl upgrade again",
				 UPGRADE_MAX_DEPTH);
			up_err(u, name, what, 0);
			return 0;
		}
		ci = malloc(sizeof(*ci));
		cfd = ci ? vl_dir_open(dfd, name) : -ENOMEM;
		if (cfd < 0) {
			up_err(u, name, "cannot open the directory", cfd);
			free(ci);
			return 0;
		}
		r = sub_info(u, cfd, di, &e, id, ci);
		if (r == 0)
			r = vl_dir_ptoken(u->v2, di, id, c->ptoken);
		if (r < 0) {
			up_err(u, name, "cannot read the directory's ID", r);
			close(cfd);
			free(ci);
			return 0;
		}
		c->di = ci;
		c->own = true;
		c->old = vc_path_push(&u->path, name);
		sub[0] = cfd;
		return 1;
	}
	if (S_ISREG(st.st_mode))
		convert_file(u, dfd, di, name, &e, links);
	return 0;
}

/* Format 1's ID-file copies of dfd, rewritten in format 2 for the directory's place (the
 * same IDs, so that every name format 1 showed under them is still shown). */
static void convert_copies(struct up *u, int dfd, const struct vl_dirinfo *di,
			   const uint8_t ptoken[static VL_TOKEN_LEN])
{
	uint8_t buf[VL_DIRID_FILE_LEN], id[VL_DIRID_LEN];
	struct dirent *d;
	DIR *dir;
	bool conf;
	int r;

	if (vl_dir_stream(dfd, &dir) < 0)
		return;
	while ((d = readdir(dir))) {
		ssize_t n;

		if (!vl_conflict_is_reserved_copy(d->d_name, strlen(d->d_name), &conf) || conf)
			continue;
		n = vl_read_small(dfd, d->d_name, buf, sizeof(buf));
		if (n < 0 || vl_dirid_file_parse(buf, (size_t)n, id) < 0)
			continue; /* format 2 already, or malformed: fsck reports it */
		r = vl_dirinfo_write_named(u->v2, dfd, d->d_name, id, &di->place, ptoken);
		if (r < 0)
			up_err(u, d->d_name, "cannot convert this copy of veilfs.dirid", r);
	}
	closedir(dir);
}

/* Removes format 1's sidecars of dfd, now that every long entry carries its name. */
static void drop_sidecars(struct up *u, int dfd)
{
	struct dirent *d;
	DIR *dir;

	if (vl_dir_stream(dfd, &dir) < 0)
		return;
	while ((d = readdir(dir))) {
		size_t len = strlen(d->d_name);

		if (d->d_name[0] != VL_MARK_SIDECAR || len < VL_LONGNAME_LEN ||
		    vl_name_classify(d->d_name, VL_LONGNAME_LEN) != VL_ONDISK_SIDECAR)
			continue;
		if (len > VL_LONGNAME_LEN && vl_conflict_split(d->d_name, len, NULL) != VL_LONGNAME_LEN)
			continue; /* not ours */
		if (unlinkat(dfd, d->d_name, 0) < 0)
			up_err(u, d->d_name, "cannot remove the format-1 sidecar", -errno);
		else
			u->sidecars++;
	}
	closedir(dir);
}

/* Entering a directory: 1. its ID files, in format 2, for its place (the same IDs); then a
 * snapshot of its names (conversions add and rename temporaries). */
static int up_enter(struct vc_walk *w, void *frame, const int fd[VC_WALK_TREES])
{
	struct up *u = vc_walk_ctx(w);
	struct up_frame *f = frame;
	struct vl_dirinfo *di = f->di;
	size_t cap = 0;
	struct dirent *d;
	DIR *dir;
	int dfd = fd[0], r;

	u->dirs++;
	if (!(di->flags & VL_DI_FILE)) {
		r = vl_dirinfo_write(u->v2, dfd, di, f->ptoken, NULL, false);
		if (r < 0) {
			up_err(u, VL_DIRID_FILE, "cannot write", r);
			return -EIO;
		}
	}
	convert_copies(u, dfd, di, f->ptoken);
	if (vl_dir_stream(dfd, &dir) < 0) {
		up_err(u, ".", "cannot list", -errno);
		return -EIO;
	}
	while ((d = readdir(dir))) {
		struct stat st;

		if (!strcmp(d->d_name, ".") || !strcmp(d->d_name, ".."))
			continue;
		/* A temporary of an upgrade (or a write) that was killed: only this upgrade
		 * writes the vault now, and the copy is whole elsewhere or redone below. */
		if (!strncmp(d->d_name, VL_TMP_PREFIX, strlen(VL_TMP_PREFIX)) &&
		    fstatat(dfd, d->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode)) {
			if (unlinkat(dfd, d->d_name, 0) == 0)
				u->tmps++;
			continue;
		}
		if (f->n == cap) {
			/* Small at first: the walk keeps one snapshot per level of a deep tree. */
			size_t nc = cap ? cap * 2 : 4;
			char **nv = realloc(f->names, nc * sizeof(*nv));

			if (!nv) {
				up_err(u, ".", "cannot list", -ENOMEM);
				break;
			}
			f->names = nv;
			cap = nc;
		}
		f->names[f->n] = strdup(d->d_name);
		if (f->names[f->n])
			f->n++;
		else
			up_err(u, d->d_name, "cannot convert", -ENOMEM);
	}
	closedir(dir);
	return 0;
}

/* 2. Every name in turn, until a subdirectory, which is walked into. */
static int up_next(struct vc_walk *w, void *frame, const int fd[VC_WALK_TREES], void *child,
		   int sub[VC_WALK_TREES])
{
	struct up *u = vc_walk_ctx(w);
	struct up_frame *f = frame;
	int r = 0;

	while (r == 0 && f->i < f->n) {
		char *name = f->names[f->i++];

		u->seen++;
		up_progress(u);
		r = convert_name(u, fd[0], f->di, name, &f->links, vc_walk_depth(w), child, sub);
		free(name);
	}
	return r;
}

/* 3. The sidecars, once nothing here needs them. */
static void up_leave(struct vc_walk *w, void *frame, const int fd[VC_WALK_TREES], int status)
{
	struct up *u = vc_walk_ctx(w);
	struct up_frame *f = frame;

	if (status == 0)
		drop_sidecars(u, fd[0]);
	else if (status == -ELOOP)
		up_err(u, ".", "a directory inside itself (a bind mount loop): not converted", 0);
	else if (status == -ESTALE)
		up_err(u, ".", "moved while converted: the rest of it was not converted", 0);
	else if (status != -EIO)
		up_err(u, ".", "stopped", status); /* -EIO was reported where it happened */
	while (f->i < f->n)
		free(f->names[f->i++]);
	free(f->names);
	links_free(&f->links);
	if (f->own)
		free(f->di);
	if (vc_walk_depth(w) > 0)
		vc_path_pop(&u->path, f->old);
}

static const struct vc_walk_ops up_ops = {
	.frame_size = sizeof(struct up_frame),
	.enter = up_enter,
	.next = up_next,
	.leave = up_leave,
};

/* Rewrites the config with cfg's format and features, under the same password. */
static int write_config(const char *cipherdir, struct vl_config *cfg, const uint8_t *master,
			const char *pw, size_t pwlen)
{
	char err[512] = "";
	int r = vl_vault_rewrap(cipherdir, vc.config, cfg, master, pw, pwlen, err, sizeof(err));

	if (r < 0)
		vc_err("%s", err[0] ? err : strerror(-r));
	return r;
}

int cmd_upgrade(int argc, char **argv)
{
	static const struct option lo[] = { VC_COMMON_LONGOPTS, { 0 } };
	struct vl_dirinfo *root = NULL;
	struct up u = { 0 };
	struct vl_vault *v = NULL;
	struct vl_feedback fb = { 0 };
	struct vl_config cfg;
	uint8_t *master = NULL;
	char err[512] = "";
	const char *cipherdir;
	char *pw = NULL;
	size_t pwlen = 0;
	int c, ex, r, fd = -1;

	vc_getopt_reset();
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		if (vc_common_opt(c, optarg))
			continue;
		if (c == 'h') {
			printf("usage: %s\n\nConverts a format-1 vault to format 2 in place (docs/FORMAT.md §10): every file\n"
			       "and directory ID file is written again; names and blocks are not re-encrypted.\n"
			       "Unmount the vault everywhere and pause the sync client first. Interrupted, it\n"
			       "resumes where it stopped when run again; until it has finished, veilfs refuses\n"
			       "to mount the vault.\n",
			       upgrade_usage);
			return VL_EXIT_OK;
		}
		return vc_usage(upgrade_usage);
	}
	if (argc - optind != 1)
		return vc_usage(upgrade_usage);
	cipherdir = argv[optind];
	ex = vc_read_config(cipherdir, &cfg);
	if (ex)
		return ex;
	if (cfg.format == VL_FORMAT_V2 && !cfg.upgrading) {
		fprintf(stderr, "veilctl: %s is a format-2 vault already\n", cipherdir);
		vl_wipe(&cfg, sizeof(cfg));
		return VL_EXIT_OK;
	}
	ex = vc_password("Password: ", &pw, &pwlen);
	if (ex)
		goto out;
	master = vl_secure_alloc(VL_MASTER_KEY_LEN);
	if (!master) {
		ex = VL_EXIT_FAILURE;
		goto out;
	}
	vl_feedback_begin(&fb, "unlocking", &cfg);
	r = vl_config_unwrap(&cfg, pw, pwlen, master);
	vl_feedback_end(&fb, r == 0);
	if (r == -EACCES) {
		vc_wrong_password();
		ex = VL_EXIT_PASSWORD;
		goto out;
	}
	ex = VL_EXIT_FAILURE;
	if (r < 0) {
		vc_err("cannot unlock the vault: %s", strerror(-r));
		goto out;
	}
	if (cfg.format == VL_FORMAT_V1) {
		/* From now on no veilfs mounts it until the end (FORMAT.md §10). */
		cfg.format = VL_FORMAT_V2;
		cfg.upgrading = true;
		if (write_config(cipherdir, &cfg, master, pw, pwlen) < 0)
			goto out;
		fprintf(stderr, "veilctl: %s: upgrading to format 2 (veilfs refuses to mount it until this finishes)\n",
			cipherdir);
	} else {
		fprintf(stderr, "veilctl: %s: resuming an upgrade to format 2\n", cipherdir);
	}
	vl_vault_allow_upgrading();
	r = vl_vault_open_master(&v, cipherdir, vc.config, master, err, sizeof(err));
	if (r == 0)
		r = vl_vault_view(v, VL_FORMAT_V2, &u.v2);
	if (r == 0)
		r = vl_vault_view(v, VL_FORMAT_V1, &u.v1);
	if (r < 0) {
		vc_err("%s", err[0] ? err : strerror(-r));
		goto out;
	}
	root = malloc(sizeof(*root));
	fd = vl_dir_open(vl_vault_rootfd(u.v2), ".");
	if (!root || fd < 0)
		goto out;
	/* The root: ID_root in either format; a valid format-2 ID file, or format 1's (whose
	 * copies give its other IDs). */
	{
		uint8_t fid[VL_DIRID_LEN];
		bool here = false;

		*root = *vl_vault_root_info(u.v2);
		if (vl_idfile_read_id(u.v2, fd, VL_DIRID_FILE, root, fid, &here) == 0 && here)
			r = vl_dirinfo_root(u.v2, fd, root);
		else
			r = vl_dirinfo_root(u.v1, fd, root);
		root->format = VL_FORMAT_V2;
		if (!here)
			root->flags &= ~VL_DI_FILE;
		if (r < 0) {
			vc_err("cannot read the root directory's ID: %s", strerror(-r));
			goto out;
		}
	}
	u.progress = vc_progress_on();
	if (u.progress) {
		u.total = count_names(fd);
		vc_progress_begin("upgrade", "entries", u.total, 0);
	}
	{
		struct up_frame top = { .di = root }; /* its parent's token: zeros */
		int fds[VC_WALK_TREES] = { fd, -1 };

		r = vc_walk(&up_ops, &u, fds, &top);
		if (r < 0)
			up_err(&u, ".", "the upgrade stopped", r);
	}
	vc_progress_end();
	fprintf(stderr, "veilctl: %lu directories, %lu files converted (%lu were already), %lu sidecars removed%s\n",
		u.dirs, u.files, u.done_before, u.sidecars, u.errors ? "; with errors" : "");
	if (u.tmps)
		fprintf(stderr, "veilctl: %lu temporar%s of an interrupted run removed\n", u.tmps,
			u.tmps == 1 ? "y" : "ies");
	if (u.errors) {
		vc_err("%lu entr%s could not be converted (above); the vault stays marked \"upgrading\": fix them (see veilctl fsck) and run veilctl upgrade again",
		       u.errors, u.errors == 1 ? "y" : "ies");
		goto out;
	}
	cfg.format = VL_FORMAT_V2;
	cfg.upgrading = false;
	if (write_config(cipherdir, &cfg, master, pw, pwlen) < 0)
		goto out;
	fprintf(stderr, "veilctl: %s is a format-2 vault now\n", cipherdir);
	ex = VL_EXIT_OK;
	if (u.damaged) {
		vc_err("%lu damaged entr%s left as %s (above): run veilctl fsck %s", u.damaged,
		       u.damaged == 1 ? "y was" : "ies were", u.damaged == 1 ? "it was" : "they were",
		       cipherdir);
		ex = VL_EXIT_FSCK_FOUND; /* the same meaning: problems found and left */
	}
out:
	if (fd >= 0)
		close(fd);
	free(root);
	vc_path_free(&u.path);
	vl_vault_free(u.v1);
	vl_vault_free(u.v2);
	vl_vault_free(v);
	vl_secure_free(master, VL_MASTER_KEY_LEN);
	vl_password_free(pw, pwlen);
	vl_wipe(&cfg, sizeof(cfg));
	return ex;
}
