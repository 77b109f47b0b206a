/* SPDX-License-Identifier: GPL-2.0-or-later */
/* veilctl conflicts: lists the conflict copies that sync clients made (docs/SYNC.md) with
 * plaintext paths, and with --resolve-identical removes the copies whose plaintext is
 * byte-identical to the original's. XXH3 is a prefilter only: a copy is removed after a
 * full byte comparison, never on a hash match alone. Run it while the vault is not mounted
 * and the sync client is paused. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xxhash.h>

#include "../crypto/conflict.h"
#include "../crypto/dirid.h"
#include "../crypto/names.h"
#include "../crypto/secmem.h"
#include "../fs/backing.h"
#include "../fs/dirs.h"
#include "../fs/entry.h"
#include "../fs/fileio.h"
#include "../fs/log.h"
#include "../fs/vault.h"
#include "progress.h"
#include "veilctl.h"

static const char conflicts_usage[] =
	"veilctl conflicts [--resolve-identical] [--resolve-dirids] [--passfile FILE | --extpass CMD] CIPHERDIR";

#define CMP_CHUNK (256 * 1024)
#define MAX_DEPTH 256

struct ent {
	char *name, *orig, *suffix;
	struct vl_ename e; /* names (for a conflict copy: the copy's) */
	bool is_conflict;
	enum vl_kind kind;
};

struct ents {
	struct ent *v;
	size_t n, cap;
	struct vl_vault *vault;
	const struct vl_dirinfo *di;
};

struct cx {
	struct vl_vault *v;
	bool resolve, resolve_dirids;
	unsigned long found, removed, errors;
	struct vc_path path;
};

static int collect(void *ctx, const struct vl_dirent *de)
{
	struct ents *l = ctx;
	struct ent *x;

	if (l->n == l->cap) {
		size_t nc = l->cap ? l->cap * 2 : 16;
		struct ent *nv = realloc(l->v, nc * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		l->v = nv;
		l->cap = nc;
	}
	x = &l->v[l->n];
	memset(x, 0, sizeof(*x));
	x->name = strdup(de->name);
	x->orig = de->conflict ? strndup(de->orig, de->origlen) : NULL;
	x->suffix = de->conflict ? strndup(de->suffix, de->suffixlen) : NULL;
	if (!x->name || (de->conflict && (!x->orig || !x->suffix))) {
		free(x->name);
		free(x->orig);
		free(x->suffix);
		return -ENOMEM;
	}
	x->kind = de->kind;
	x->is_conflict = de->conflict != NULL;
	if (vc_dirent_ename(l->vault, l->di, de, &x->e) < 0) {
		free(x->name);
		free(x->orig);
		free(x->suffix);
		return -EIO;
	}
	l->n++;
	return 0;
}

static void ents_free(struct ents *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].name);
		free(l->v[i].orig);
		free(l->v[i].suffix);
	}
	free(l->v);
}

/* Reads the whole plaintext of fd through c, passing chunks to fn. 0 or -errno. */
static int hash_file(struct vl_content *c, int fd, uint8_t *buf, uint64_t *h)
{
	XXH3_state_t *st = XXH3_createState();
	uint64_t off = 0;
	int r = 0;

	if (!st)
		return -ENOMEM;
	XXH3_64bits_reset(st);
	for (;;) {
		ssize_t n = vl_content_read(c, fd, buf, CMP_CHUNK, off);

		if (n < 0) {
			r = (int)n;
			break;
		}
		if (n == 0)
			break;
		XXH3_64bits_update(st, buf, (size_t)n);
		off += (uint64_t)n;
	}
	*h = XXH3_64bits_digest(st);
	XXH3_freeState(st);
	return r;
}

/* 1 when the plaintexts of a (entry ea) and b (entry eb) of directory di are byte-identical,
 * 0 when they differ, or -errno. */
static int same_plaintext(struct vl_vault *v, const struct vl_dirinfo *di, const struct vl_ename *ea,
			  const struct vl_ename *eb, int a, int b)
{
	enum vl_stream s = ea->kind == VL_KIND_OBJECT ? VL_STREAM_OBJECT : VL_STREAM_CONTENT;
	struct vl_content *ca = NULL, *cb = NULL;
	struct vl_binding ba_, bb_;
	uint8_t *ba = NULL, *bb = NULL;
	uint64_t sa, sb, ha, hb, off = 0;
	int r;

	r = vl_ename_binding(v, di, ea, &ba_);
	if (r == 0)
		r = vl_ename_binding(v, di, eb, &bb_);
	if (r == 0)
		r = vl_content_new(&ca, v, s, &ba_);
	if (r == 0)
		r = vl_content_new(&cb, v, s, &bb_);
	if (r == 0)
		r = vl_content_size(ca, a, &sa);
	if (r == 0)
		r = vl_content_size(cb, b, &sb);
	if (r < 0)
		goto out;
	if (sa != sb) {
		r = 0;
		goto out;
	}
	ba = malloc(CMP_CHUNK);
	bb = malloc(CMP_CHUNK);
	if (!ba || !bb) {
		r = -ENOMEM;
		goto out;
	}
	/* Prefilter: different hashes mean different contents. */
	r = hash_file(ca, a, ba, &ha);
	if (r == 0)
		r = hash_file(cb, b, bb, &hb);
	if (r < 0)
		goto out;
	if (ha != hb) {
		r = 0;
		goto out;
	}
	/* Equal hashes decide nothing: compare every byte. */
	for (;;) {
		ssize_t na = vl_content_read(ca, a, ba, CMP_CHUNK, off);
		ssize_t nb = vl_content_read(cb, b, bb, CMP_CHUNK, off);

		if (na < 0 || nb < 0) {
			r = na < 0 ? (int)na : (int)nb;
			goto out;
		}
		if (na != nb || memcmp(ba, bb, (size_t)na) != 0) {
			r = 0;
			goto out;
		}
		if (na == 0)
			break;
		off += (uint64_t)na;
	}
	r = 1;
out:
	if (ba)
		vl_wipe(ba, CMP_CHUNK);
	if (bb)
		vl_wipe(bb, CMP_CHUNK);
	free(ba);
	free(bb);
	vl_content_free(ca);
	vl_content_free(cb);
	return r;
}

/* Handles one conflict copy x of directory dfd (info l->di) whose entries are l. */
static void one_conflict(struct cx *x, int dfd, const struct ents *l, const struct ent *c)
{
	const struct ent *o = NULL;
	struct stat sc, so, again;
	size_t old;
	int fa = -1, fb = -1, r;

	for (size_t i = 0; i < l->n; i++)
		if (!l->v[i].is_conflict && !strcmp(l->v[i].name, c->orig))
			o = &l->v[i];
	x->found++;
	vc_progress_clear(); /* the listing goes to the same terminal */
	old = vc_path_push(&x->path, c->orig);
	printf("/%s\t", vc_path_str(&x->path));
	vc_path_pop(&x->path, old);
	old = vc_path_push(&x->path, c->name);
	printf("/%s", vc_path_str(&x->path));
	vc_path_pop(&x->path, old);
	if (!x->resolve) {
		printf("\n");
		return;
	}
	if (!o) {
		printf("\tkept (no original)\n");
		return;
	}
	if (fstatat(dfd, c->e.disk, &sc, AT_SYMLINK_NOFOLLOW) < 0 ||
	    fstatat(dfd, o->e.disk, &so, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(sc.st_mode) ||
	    !S_ISREG(so.st_mode) || c->kind != o->kind) {
		printf("\tkept (not two files of one kind)\n");
		return;
	}
	fa = openat(dfd, c->e.disk, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	fb = openat(dfd, o->e.disk, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fa < 0 || fb < 0) {
		printf("\tkept (cannot open: %s)\n", strerror(errno));
		x->errors++;
		goto out;
	}
	r = same_plaintext(x->v, l->di, &c->e, &o->e, fa, fb);
	if (r < 0) {
		printf("\tkept (%s)\n", r == -EIO ? "a block fails authentication" : strerror(-r));
		x->errors++;
		goto out;
	}
	if (r == 0) {
		printf("\tkept (differs)\n");
		goto out;
	}
	/* Remove exactly the file that was compared: not one put in its place meanwhile. */
	if (fstat(fa, &sc) < 0 || fstatat(dfd, c->e.disk, &again, AT_SYMLINK_NOFOLLOW) < 0 ||
	    again.st_ino != sc.st_ino || again.st_dev != sc.st_dev || again.st_size != sc.st_size ||
	    again.st_mtim.tv_sec != sc.st_mtim.tv_sec || again.st_mtim.tv_nsec != sc.st_mtim.tv_nsec) {
		printf("\tkept (changed while compared)\n");
		goto out;
	}
	if (unlinkat(dfd, c->e.disk, 0) < 0) {
		printf("\tkept (cannot remove: %s)\n", strerror(errno));
		x->errors++;
		goto out;
	}
	if (vl_dir_drop_sidecar(dfd, &c->e) < 0)
		vc_err("could not remove the sidecar of a removed copy");
	x->removed++;
	printf("\tremoved (identical)\n");
out:
	if (fa >= 0)
		close(fa);
	if (fb >= 0)
		close(fb);
}

/* Reports sync-client copies of veilfs.dirid and veilfs.conf in dfd (vl_dir_list skips
 * them): a dirid copy means the directory was created twice under different IDs. */
static void reserved_copies(struct cx *x, int dfd)
{
	struct dirent *d;
	int fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *dir = fd >= 0 ? fdopendir(fd) : NULL;
	bool conf;

	if (!dir) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((d = readdir(dir)) != NULL) {
		if (!vl_conflict_is_reserved_copy(d->d_name, strlen(d->d_name), &conf))
			continue;
		x->found++;
		if (!conf && x->resolve_dirids)
			continue; /* resolve_dirids() reports it */
		vc_progress_clear();
		fprintf(stderr,
			conf ? "veilctl: /%s: %s is a sync client's copy of the vault config: the password "
			       "was changed on two devices; keep the config whose password you know and "
			       "delete the other\n"
			     : "veilctl: /%s: %s is a sync client's copy of the directory ID file: the "
			       "directory was created twice under different IDs (renamed on one device, "
			       "created on another); veilfs shows the names of both; rename each name "
			       "that `veilctl fsck' lists as under the other ID through the mount (to a "
			       "new name and back), then delete this copy\n",
			vc_path_str(&x->path), d->d_name);
	}
	closedir(dir);
}

/* Format 1: a directory under a veilfs.dirid copy's ID whose own veilfs.dirid is missing
 * derives its ID from that ID and its old name: write it down before the rename changes both.
 * (Format 2's move pins every ID itself, fs/entry.c.) */
static int pin_dirid(struct cx *x, int dfd, const struct vl_dirinfo *di, const struct vl_ename *e)
{
	uint8_t zero[VL_TOKEN_LEN] = { 0 };
	struct vl_dirinfo *ci = malloc(sizeof(*ci));
	int cfd = -1, r = -ENOMEM;

	if (!ci)
		return r;
	cfd = vc_subdir_open(x->v, dfd, di, e, ci);
	r = cfd < 0 ? cfd : 0;
	if (r == 0 && (ci->flags & VL_DI_MISSING))
		r = vl_dirinfo_write(x->v, cfd, ci, zero, NULL, true);
	if (cfd >= 0)
		close(cfd);
	free(ci);
	return r;
}

/* Moves one name from another ID of the directory (di) to its primary ID: the plaintext
 * name, kind and contents stay (a format-2 file's header follows, a directory's ID files
 * too). 0, -EEXIST (the name is taken under the primary ID), or -errno. */
static int move_to_id(struct cx *x, int dfd, const struct vl_dirinfo *di, const struct vl_ename *e)
{
	struct vl_ename *t = calloc(1, sizeof(*t));
	struct vl_move m;
	enum vl_kind kind, other;
	char plain[256];
	struct stat st;
	int r, n;

	if (!t)
		return -ENOMEM;
	n = vl_name_decrypt(vl_vault_keys(x->v), e->altid, e->full, e->fulllen, plain, sizeof(plain), &kind);
	r = n < 0 ? n : 0;
	/* A plaintext name is unique in its directory whatever its kind. */
	other = kind == VL_KIND_PLAIN ? VL_KIND_OBJECT : VL_KIND_PLAIN;
	if (r == 0 && (r = vl_ename_make(x->v, di, plain, (size_t)n, other, t)) == 0 &&
	    fstatat(dfd, t->disk, &st, AT_SYMLINK_NOFOLLOW) == 0)
		r = -EEXIST;
	if (r == 0)
		r = vl_ename_make(x->v, di, plain, (size_t)n, kind, t);
	if (r == 0 && fstatat(dfd, e->disk, &st, AT_SYMLINK_NOFOLLOW) < 0)
		r = -errno;
	if (r == 0 && kind == VL_KIND_PLAIN && S_ISDIR(st.st_mode) &&
	    vl_vault_format(x->v) == VL_FORMAT_V1)
		r = pin_dirid(x, dfd, di, e);
	if (r == 0) {
		m = (struct vl_move){ .sdi = di, .sfd = dfd, .src = e, .st = st, .ddi = di,
				      .dfd = dfd, .dst = t, .flags = RENAME_NOREPLACE,
				      .may_copy = st.st_nlink == 1 };
		r = vl_move(x->v, &m);
	}
	vl_wipe(plain, sizeof(plain));
	vl_wipe(t, sizeof(*t));
	free(t);
	return r;
}

/* --resolve-dirids: moves every name of directory dfd (info di) that is encrypted under
 * another ID than its primary (a sync client's copy of veilfs.dirid, or an ID its children
 * prove) under the primary ID (docs/SYNC.md), then removes the copies of veilfs.dirid whose ID
 * no name uses any more. Conflict copies under such an ID and names taken under the primary
 * ID are left and reported. */
static void resolve_dirids(struct cx *x, int dfd, const struct vl_dirinfo *di0)
{
	struct vl_dirinfo *di = malloc(sizeof(*di));
	struct ents l = { .vault = x->v };
	unsigned left[VL_DIRID_ALT_MAX] = { 0 };
	struct vl_listcb cb = { collect, NULL };
	uint8_t cid[VL_DIRID_LEN];
	struct dirent *d;

	vc_progress_clear(); /* its report goes to the same terminal */
	DIR *dir = NULL;
	size_t old;
	int fd, r;
	bool conf, here;

	if (!di) {
		x->errors++;
		return;
	}
	*di = *di0;
	l.di = di;
	/* The listing adds the IDs its names prove. */
	r = vl_dir_list2(x->v, dfd, di0, &cb, &l, di);
	if (r < 0) {
		vc_err("/%s: cannot list: %s", vc_path_str(&x->path), strerror(-r));
		x->errors++;
		goto out;
	}
	for (size_t i = 0; i < l.n; i++) {
		const struct ent *c = &l.v[i];
		unsigned k;

		if (!c->e.is_alt)
			continue;
		for (k = 0; k < di->nalt && memcmp(di->alt[k], c->e.altid, VL_DIRID_LEN); k++)
			;
		old = vc_path_push(&x->path, c->name);
		if (c->is_conflict) {
			printf("/%s\tkept (a conflict copy under another directory ID: resolve it through the mount)\n",
			       vc_path_str(&x->path));
			r = -EEXIST;
		} else {
			r = move_to_id(x, dfd, di, &c->e);
			if (r == 0)
				printf("/%s\tmoved under the directory's own ID\n", vc_path_str(&x->path));
			else if (r == -EEXIST)
				printf("/%s\tkept (the name is taken under the directory's own ID: rename it through the mount)\n",
				       vc_path_str(&x->path));
			else
				printf("/%s\tkept (%s)\n", vc_path_str(&x->path), strerror(-r));
			if (r < 0 && r != -EEXIST)
				x->errors++;
		}
		vc_path_pop(&x->path, old);
		if (r < 0 && k < di->nalt)
			left[k]++;
	}
	/* Remove the copies that no name needs any more (and those holding the directory's
	 * primary ID); keep malformed ones, those of another place and those still in use. */
	fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	dir = fd >= 0 ? fdopendir(fd) : NULL;
	if (!dir) {
		if (fd >= 0)
			close(fd);
		x->errors++;
		goto out;
	}
	while ((d = readdir(dir)) != NULL) {
		unsigned k;

		if (!vl_conflict_is_reserved_copy(d->d_name, strlen(d->d_name), &conf) || conf)
			continue;
		old = vc_path_push(&x->path, d->d_name);
		if (vl_idfile_read_id(x->v, fd, d->d_name, di, cid, &here) < 0 || !here) {
			printf("/%s\tkept (not a valid directory ID file of this directory; delete it by hand)\n",
			       vc_path_str(&x->path));
		} else {
			for (k = 0; k < di->nalt && memcmp(di->alt[k], cid, VL_DIRID_LEN); k++)
				;
			if (k < di->nalt && left[k]) {
				printf("/%s\tkept (%u name%s still under its ID)\n", vc_path_str(&x->path), left[k],
				       left[k] == 1 ? "" : "s");
			} else if (unlinkat(fd, d->d_name, 0) < 0) {
				printf("/%s\tkept (cannot remove: %s)\n", vc_path_str(&x->path), strerror(errno));
				x->errors++;
			} else {
				printf("/%s\tremoved (every name is under the directory's own ID now)\n",
				       vc_path_str(&x->path));
				x->removed++;
			}
		}
		vc_path_pop(&x->path, old);
	}
out:
	if (dir)
		closedir(dir);
	ents_free(&l);
	free(di);
}

static int walk(struct cx *x, int dfd, const struct vl_dirinfo *di, int depth)
{
	struct ents l = { .vault = x->v, .di = di };
	struct vl_dirinfo *ci = NULL;
	int r;

	if (depth > MAX_DEPTH)
		return -ELOOP;
	vc_progress_item(1);
	reserved_copies(x, dfd);
	if (x->resolve_dirids)
		resolve_dirids(x, dfd, di);
	r = vl_dir_list(x->v, dfd, di, collect, &l);
	if (r < 0) {
		vc_err("/%s: cannot list: %s", vc_path_str(&x->path), strerror(-r));
		x->errors++;
		ents_free(&l);
		return 0;
	}
	for (size_t i = 0; i < l.n; i++)
		if (l.v[i].is_conflict)
			one_conflict(x, dfd, &l, &l.v[i]);
	ci = malloc(sizeof(*ci));
	for (size_t i = 0; ci && i < l.n; i++) {
		const struct ent *c = &l.v[i];
		struct stat st;
		size_t old;
		int cfd;

		if (c->kind != VL_KIND_PLAIN || fstatat(dfd, c->e.disk, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISDIR(st.st_mode))
			continue;
		cfd = vc_subdir_open(x->v, dfd, di, &c->e, ci);
		if (cfd < 0) {
			vc_err("/%s/%s: cannot open the directory", vc_path_str(&x->path), c->name);
			x->errors++;
			continue;
		}
		old = vc_path_push(&x->path, c->name);
		r = walk(x, cfd, ci, depth + 1);
		vc_path_pop(&x->path, old);
		close(cfd);
		if (r < 0)
			x->errors++;
	}
	if (!ci)
		x->errors++;
	free(ci);
	ents_free(&l);
	return 0;
}

int cmd_conflicts(int argc, char **argv)
{
	enum { OPT_RESOLVE = VC_OPT_FIRST_LOCAL, OPT_DIRIDS };
	static const struct option lo[] = {
		{ "resolve-identical", no_argument, NULL, OPT_RESOLVE },
		{ "resolve-dirids", no_argument, NULL, OPT_DIRIDS },
		VC_COMMON_LONGOPTS,
		{ 0 },
	};
	struct cx x = { 0 };
	int c, ex, fd;

	vc_getopt_reset();
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		if (vc_common_opt(c, optarg))
			continue;
		if (c == OPT_RESOLVE) {
			x.resolve = true;
			continue;
		}
		if (c == OPT_DIRIDS) {
			x.resolve_dirids = true;
			continue;
		}
		if (c == 'h') {
			printf("usage: %s\n\nLists every conflict copy a sync client made, one per line:\n"
			       "ORIGINAL<TAB>COPY (plaintext paths). --resolve-identical removes the copies\n"
			       "whose plaintext is byte-identical to the original's and adds a third column.\n"
			       "--resolve-dirids moves the names encrypted under the ID of a sync client's copy\n"
			       "of veilfs.dirid under the directory's own ID and removes the copies no longer\n"
			       "needed (a directory renamed on one device and created on another).\n"
			       "Run it while the vault is not mounted.\n",
			       conflicts_usage);
			return VL_EXIT_OK;
		}
		return vc_usage(conflicts_usage);
	}
	if (argc - optind != 1)
		return vc_usage(conflicts_usage);
	ex = vc_unlock(argv[optind], &x.v);
	if (ex)
		return ex;
	fd = vl_dir_open(vl_vault_rootfd(x.v), ".");
	if (fd < 0) {
		vc_err("%s: %s", argv[optind], strerror(-fd));
		ex = VL_EXIT_FAILURE;
		goto out;
	}
	if (vc_progress_on()) {
		struct vc_tree_count tc;

		vc_progress_begin("conflicts", "directories",
				  vc_progress_count_vault(fd, x.v, &tc) == 0 ?
					  tc.dirs + 1 :
					  0,
				  0);
	}
	(void)walk(&x, fd, vl_vault_root_info(x.v), 0);
	vc_progress_end();
	close(fd);
	if (x.errors)
		ex = VL_EXIT_FAILURE;
	else if (x.found == 0)
		ex = VL_EXIT_OK;
	else if (x.removed == x.found)
		ex = VL_EXIT_FSCK_REPAIRED;
	else
		ex = VL_EXIT_FSCK_FOUND;
	if (x.found)
		fprintf(stderr, "veilctl: %lu conflict cop%s%s\n", x.found, x.found == 1 ? "y" : "ies",
			x.resolve ? "" : " (--resolve-identical removes identical ones)");
	if (x.resolve || x.resolve_dirids)
		fprintf(stderr, "veilctl: %lu removed\n", x.removed);
out:
	vc_path_free(&x.path);
	vl_vault_free(x.v);
	return ex;
}
