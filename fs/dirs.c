/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Directories of the ciphertext tree (FORMAT.md §4, §5): IDs, entry names, listing. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../crypto/conflict.h"
#include "../crypto/dirid.h"
#include "../crypto/names.h"
#include "../crypto/secmem.h"
#include "backing.h"
#include "dirs.h"
#include "log.h"
#include "vault.h"

#define VL_HELPER_MODE 0444 /* veilfs.dirid and sidecars: replaced, never edited */

int vl_dir_read_id(const struct vl_vault *v, int dirfd, const uint8_t *parent_id,
		   const char *enc, size_t enclen, uint8_t id[static VL_DIRID_LEN])
{
	uint8_t buf[VL_DIRID_FILE_LEN];
	ssize_t n;
	int r;

	n = vl_read_small(dirfd, VL_DIRID_FILE, buf, sizeof(buf));
	if (n >= 0) {
		r = vl_dirid_file_parse(buf, (size_t)n, id);
		if (r < 0)
			vl_log_bad_entry(dirfd, VL_DIRID_FILE, "malformed directory ID file");
		return r;
	}
	if (n == -EFBIG || n == -EINVAL) {
		vl_log_bad_entry(dirfd, VL_DIRID_FILE, "malformed directory ID file");
		return -EIO;
	}
	if (n != -ENOENT)
		return (int)n;
	/* Missing (a sync client may not have delivered it yet): the ID is a function of the
	 * key, the parent and the name, so re-derive it. Never written back: this code runs
	 * in lookups and listings, which must not change the cipher tree. */
	if (!parent_id)
		r = vl_dirid_root(vl_vault_keys(v), id);
	else if (enc)
		r = vl_dirid_derive(vl_vault_keys(v), parent_id, enc, enclen, id);
	else
		return -ENOENT;
	if (r == 0)
		vl_log_bad_entry(dirfd, VL_DIRID_FILE, "missing directory ID file, re-derived");
	return r;
}

/* ---- IDs of sync clients' conflict copies of veilfs.dirid ----
 * A directory renamed on one device (it keeps its ID) and created under the new name on
 * another (derived ID) merges into one directory holding two veilfs.dirid files, one under
 * a conflict name. Names encrypted under the other ID must still show (docs/SYNC.md). */

/* Adds the ID in copy name of dfd to ids unless malformed, primary, or already there. */
static void alt_add(int dfd, const char *name, const uint8_t primary[static VL_DIRID_LEN],
		    uint8_t ids[VL_DIRID_ALT_MAX][VL_DIRID_LEN], unsigned *n)
{
	uint8_t buf[VL_DIRID_FILE_LEN], id[VL_DIRID_LEN];
	ssize_t len;

	len = vl_read_small(dfd, name, buf, sizeof(buf));
	if (len < 0 || vl_dirid_file_parse(buf, (size_t)len, id) < 0) {
		if (len != -ENOENT) /* removed meanwhile: nothing to say */
			vl_log_bad_entry(dfd, name, "malformed conflict copy of veilfs.dirid");
		return;
	}
	if (!memcmp(id, primary, VL_DIRID_LEN))
		return;
	for (unsigned i = 0; i < *n; i++)
		if (!memcmp(ids[i], id, VL_DIRID_LEN))
			return;
	if (*n == VL_DIRID_ALT_MAX) {
		vl_log_bad_entry(dfd, name, "too many conflict copies of veilfs.dirid; this one is not used");
		return;
	}
	memcpy(ids[(*n)++], id, VL_DIRID_LEN);
}

/* True for a sync client's copy of veilfs.dirid (not of veilfs.conf). */
static bool is_dirid_copy(const char *name, size_t len)
{
	bool conf;

	return vl_conflict_is_reserved_copy(name, len, &conf) && !conf;
}

int vl_dir_alt_ids(int dirfd, const uint8_t primary[static VL_DIRID_LEN],
		   uint8_t ids[VL_DIRID_ALT_MAX][VL_DIRID_LEN])
{
	struct dirent *d;
	unsigned n = 0;
	DIR *dir;
	int r = 0;

	r = vl_dir_stream(dirfd, &dir);
	if (r < 0)
		return r;
	for (;;) {
		errno = 0;
		d = readdir(dir);
		if (!d) {
			r = errno ? -errno : 0;
			break;
		}
		if (is_dirid_copy(d->d_name, strlen(d->d_name)))
			alt_add(dirfd, d->d_name, primary, ids, &n);
	}
	closedir(dir);
	return r < 0 ? r : (int)n;
}

/* The cache: a direct-mapped table, small because directories with such copies are rare and
 * a miss costs one listing of the directory. Holds no secret (the IDs are stored in clear
 * in the cipher tree). */
#define ALT_SLOTS 64
#define ALT_RESCAN_NS 1000000000ull

struct alt_slot {
	dev_t dev;
	ino_t ino;
	struct timespec mtim; /* the directory's mtime when it was read */
	uint64_t when;	      /* monotonic ns of the reading; 0: empty slot */
	uint8_t primary[VL_DIRID_LEN];
	unsigned n;
	uint8_t ids[VL_DIRID_ALT_MAX][VL_DIRID_LEN];
};

static pthread_mutex_t alt_lock = PTHREAD_MUTEX_INITIALIZER;
static struct alt_slot alt_cache[ALT_SLOTS]; /* protected by alt_lock */

static uint64_t now_ns(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC_COARSE, &ts) < 0)
		return 1;
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec + 1;
}

static struct alt_slot *alt_slot_of(const struct stat *st)
{
	uint64_t h = ((uint64_t)st->st_dev * 0x9e3779b97f4a7c15ull) ^ (uint64_t)st->st_ino;

	return &alt_cache[(h ^ (h >> 29)) % ALT_SLOTS];
}

static void alt_store(const struct stat *st, const uint8_t primary[static VL_DIRID_LEN],
		      uint8_t ids[VL_DIRID_ALT_MAX][VL_DIRID_LEN], unsigned n, uint64_t when)
{
	struct alt_slot *s = alt_slot_of(st);

	pthread_mutex_lock(&alt_lock);
	s->dev = st->st_dev;
	s->ino = st->st_ino;
	s->mtim = st->st_mtim;
	s->when = when;
	memcpy(s->primary, primary, VL_DIRID_LEN);
	s->n = n;
	memcpy(s->ids, ids, (size_t)n * VL_DIRID_LEN);
	pthread_mutex_unlock(&alt_lock);
}

unsigned vl_dir_alt_ids_cached(int dirfd, const uint8_t primary[static VL_DIRID_LEN],
			       uint8_t ids[VL_DIRID_ALT_MAX][VL_DIRID_LEN])
{
	struct alt_slot *s;
	struct stat st;
	uint64_t now;
	int n = -1;

	if (fstatat(dirfd, "", &st, AT_EMPTY_PATH) < 0)
		return 0;
	now = now_ns();
	s = alt_slot_of(&st);
	pthread_mutex_lock(&alt_lock);
	if (s->when && s->dev == st.st_dev && s->ino == st.st_ino &&
	    !memcmp(s->primary, primary, VL_DIRID_LEN) &&
	    ((s->mtim.tv_sec == st.st_mtim.tv_sec && s->mtim.tv_nsec == st.st_mtim.tv_nsec) ||
	     now - s->when < ALT_RESCAN_NS)) {
		n = (int)s->n;
		memcpy(ids, s->ids, (size_t)n * VL_DIRID_LEN);
	}
	pthread_mutex_unlock(&alt_lock);
	if (n >= 0)
		return (unsigned)n;
	n = vl_dir_alt_ids(dirfd, primary, ids);
	if (n < 0)
		return 0; /* unreadable (e.g. mode 0311): no listing shows such names either */
	alt_store(&st, primary, ids, (unsigned)n, now);
	return (unsigned)n;
}

int vl_ename_make(const struct vl_vault *v, const uint8_t dirid[static VL_DIRID_LEN],
		  const char *name, size_t len, enum vl_kind kind, struct vl_ename *e)
{
	int r;

	memset(e, 0, sizeof(*e));
	r = vl_name_encrypt(vl_vault_keys(v), dirid, name, len, kind, e->full, sizeof(e->full));
	if (r < 0)
		return r;
	e->fulllen = (size_t)r;
	e->kind = kind;
	if (e->fulllen > vl_vault_name_max(v)) {
		e->is_long = true;
		r = vl_name_long(e->full, e->fulllen, e->disk);
		if (r == 0)
			r = vl_name_sidecar(e->full, e->fulllen, e->sidecar);
		return r;
	}
	memcpy(e->disk, e->full, e->fulllen + 1);
	return 0;
}

/* The lookup of an entry's own name: the plain kind, then (unless the caller knows the
 * directory holds no object names) the object kind. */
static int lookup_kinds(const struct vl_vault *v, int dirfd, const uint8_t dirid[static VL_DIRID_LEN],
			const char *name, size_t len, struct vl_ename *e, struct stat *st,
			bool objects)
{
	static const enum vl_kind kinds[] = { VL_KIND_PLAIN, VL_KIND_OBJECT };
	size_t i;
	int r;

	for (i = 0; i < (objects ? 2u : 1u); i++) {
		r = vl_ename_make(v, dirid, name, len, kinds[i], e);
		if (r < 0)
			return r;
		if (fstatat(dirfd, e->disk, st, AT_SYMLINK_NOFOLLOW) == 0)
			return 0;
		if (errno != ENOENT)
			return -errno;
	}
	return -ENOENT;
}

static int lookup_plain(const struct vl_vault *v, int dirfd, const uint8_t dirid[static VL_DIRID_LEN],
			const char *name, size_t len, struct vl_ename *e, struct stat *st)
{
	return lookup_kinds(v, dirfd, dirid, name, len, e, st, true);
}

/* True when sidecar file name in dirfd holds exactly e's full encoded name. */
static bool sidecar_holds(int dirfd, const char *name, const struct vl_ename *e)
{
	char buf[VL_ENCNAME_MAX + 1];
	ssize_t n = vl_read_small(dirfd, name, buf, sizeof(buf));

	return n == (ssize_t)e->fulllen && memcmp(buf, e->full, e->fulllen) == 0;
}

/* Turns e (an entry's names) into the names of its conflict copy with provider text s:
 * the on-disk name gets s, and a long name keeps the copy's own sidecar ('9' hash s) when
 * one exists with the right contents, else none (the original's is shared). */
static int conflict_names(int dirfd, struct vl_ename *e, const char *s, size_t slen)
{
	size_t dl = strlen(e->disk), sl;

	if (dl + slen > VL_CONFLICT_NAME_MAX)
		return -ENAMETOOLONG;
	memcpy(e->disk + dl, s, slen);
	e->disk[dl + slen] = '\0';
	e->is_conflict = true;
	if (e->is_long) {
		sl = strlen(e->sidecar);
		if (sl + slen <= VL_CONFLICT_NAME_MAX) {
			memcpy(e->sidecar + sl, s, slen);
			e->sidecar[sl + slen] = '\0';
			if (sidecar_holds(dirfd, e->sidecar, e))
				return 0;
		}
		e->sidecar[0] = '\0';
	}
	return 0;
}

struct cand_ctx {
	const struct vl_vault *v;
	int dirfd;
	const uint8_t *dirid;
	unsigned found;
	int err;
	struct vl_ename e, t;
	struct stat st;
};

/* One way the looked-up name could be a display name: P and S. Counts the on-disk conflict
 * copies E || S that exist, of either kind; more than one is ambiguous (the listing shows
 * those in the fallback form). */
static int cand_cb(void *ctx, const char *p, size_t plen, const char *s, size_t slen)
{
	static const enum vl_kind kinds[] = { VL_KIND_PLAIN, VL_KIND_OBJECT };
	struct cand_ctx *c = ctx;
	enum vl_ondisk ek;
	struct stat st;
	size_t el;

	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		if (vl_ename_make(c->v, c->dirid, p, plen, kinds[i], &c->t) < 0)
			return 0; /* not a valid plaintext name */
		el = strlen(c->t.disk);
		if (el + slen > VL_CONFLICT_NAME_MAX)
			continue;
		memcpy(c->t.disk + el, s, slen);
		c->t.disk[el + slen] = '\0';
		if (fstatat(c->dirfd, c->t.disk, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			if (errno == ENOENT || errno == ENAMETOOLONG)
				continue;
			c->err = -errno;
			return 1;
		}
		/* Exactly what the listing calls a conflict copy (not junk such as an rclone
		 * ".partial" file, whose name would otherwise parse). */
		if (vl_conflict_split(c->t.disk, el + slen, &ek) != el)
			continue;
		c->t.disk[el] = '\0';
		if (conflict_names(c->dirfd, &c->t, s, slen) < 0)
			continue;
		if (++c->found == 1) {
			c->e = c->t;
			c->st = st;
		} else {
			return 1; /* ambiguous: shown in the fallback form only */
		}
	}
	return 0;
}

struct fb_ctx {
	const char *name;
	size_t len;
	bool found;
	struct vl_ename e;
};

static int fb_cb(void *ctx, const struct vl_dirent *de)
{
	struct fb_ctx *c = ctx;

	if (!de->names || de->namelen != c->len || memcmp(de->name, c->name, c->len) != 0)
		return 0;
	c->e = *de->names;
	c->found = true;
	return 1;
}

/* Resolves name as the display name of a conflict copy of an entry named under id. 0 (one
 * copy: *e, *st), -ENOENT (none, or ambiguous), or -errno. */
static int lookup_display(const struct vl_vault *v, int dirfd, const uint8_t id[static VL_DIRID_LEN],
			  const char *name, size_t len, struct vl_ename *e, struct stat *st)
{
	struct cand_ctx *c = calloc(1, sizeof(*c));
	int r;

	if (!c)
		return -ENOMEM;
	c->v = v;
	c->dirfd = dirfd;
	c->dirid = id;
	(void)vl_conflict_candidates(name, len, VL_CONFLICT_LOOKUP_MAX, cand_cb, c);
	r = c->err ? c->err : c->found == 1 ? 0 : -ENOENT;
	if (r == 0) {
		*e = c->e;
		*st = c->st;
	}
	free(c);
	return r;
}

/* The last resort of a lookup: name (or a conflict copy's display name) under the IDs of
 * the directory's veilfs.dirid conflict copies. Found under exactly one: 0; else -ENOENT
 * (the listing shows clashing names in the fallback form), or -errno. */
static int lookup_alt(const struct vl_vault *v, int dirfd, const uint8_t dirid[static VL_DIRID_LEN],
		      const char *name, size_t len, struct vl_ename *e, struct stat *st)
{
	uint8_t ids[VL_DIRID_ALT_MAX][VL_DIRID_LEN];
	unsigned n = vl_dir_alt_ids_cached(dirfd, dirid, ids), found = 0;
	struct vl_ename *t = NULL;
	struct stat tst;
	int r = -ENOENT;

	if (n == 0)
		return -ENOENT;
	t = malloc(sizeof(*t));
	if (!t)
		return -ENOMEM;
	for (unsigned i = 0; i < n; i++) {
		r = lookup_plain(v, dirfd, ids[i], name, len, t, &tst);
		if (r == -ENOENT)
			r = lookup_display(v, dirfd, ids[i], name, len, t, &tst);
		if (r == -ENOENT)
			continue;
		if (r < 0)
			goto out;
		t->is_alt = true;
		memcpy(t->altid, ids[i], VL_DIRID_LEN);
		if (++found == 1) {
			*e = *t;
			*st = tst;
		}
	}
	r = found == 1 ? 0 : -ENOENT;
out:
	free(t);
	return r;
}

int vl_dir_lookup(const struct vl_vault *v, int dirfd, const uint8_t dirid[static VL_DIRID_LEN],
		  const char *name, size_t len, struct vl_ename *e, struct stat *st)
{
	return vl_dir_lookup_flags(v, dirfd, dirid, name, len, e, st, 0);
}

int vl_dir_lookup_flags(const struct vl_vault *v, int dirfd, const uint8_t dirid[static VL_DIRID_LEN],
			const char *name, size_t len, struct vl_ename *e, struct stat *st,
			unsigned flags)
{
	int r;

	r = lookup_kinds(v, dirfd, dirid, name, len, e, st, !(flags & VL_LOOKUP_NO_OBJECTS));
	if (r != -ENOENT)
		return r;
	if (flags & VL_LOOKUP_NO_CONFLICTS) {
		/* Nothing else can match: no conflict copy, no veilfs.dirid copy. Without the
		 * object kind's try, *e still holds the plain kind's names. */
		if (flags & VL_LOOKUP_NO_OBJECTS)
			return -ENOENT;
	} else if (vl_conflict_is_fallback(name, len)) {
		/* Rare (collisions, overlong display names): list the directory, which also
		 * covers names under the IDs of veilfs.dirid copies. */
		struct fb_ctx *fc = calloc(1, sizeof(*fc));

		if (!fc)
			return -ENOMEM;
		fc->name = name;
		fc->len = len;
		r = vl_dir_list(v, dirfd, dirid, fb_cb, fc);
		if (r >= 0 && fc->found) {
			r = fstatat(dirfd, fc->e.disk, st, AT_SYMLINK_NOFOLLOW) < 0 ? -errno : 0;
			if (r == 0)
				*e = fc->e;
		} else if (r >= 0) {
			r = -ENOENT;
		}
		free(fc);
		if (r != -ENOENT)
			return r;
	} else {
		r = lookup_display(v, dirfd, dirid, name, len, e, st);
		if (r == -ENOENT)
			r = lookup_alt(v, dirfd, dirid, name, len, e, st);
		if (r != -ENOENT)
			return r;
	}
	/* Not found: leave the plain kind's names in *e, what a create needs. */
	r = vl_ename_make(v, dirid, name, len, VL_KIND_PLAIN, e);
	return r < 0 ? r : -ENOENT;
}

int vl_dir_put_sidecar(int dirfd, const struct vl_ename *e)
{
	char old[VL_ENCNAME_MAX + 1];
	ssize_t n;
	int r;

	if (!e->is_long || !e->sidecar[0])
		return 0;
	r = vl_write_atomic(dirfd, e->sidecar, e->full, e->fulllen, VL_HELPER_MODE, true);
	if (r != -EEXIST)
		return r;
	/* One exists: the same content (the name is a hash of it) is fine; anything else is
	 * damage that the right content repairs. */
	n = vl_read_small(dirfd, e->sidecar, old, sizeof(old));
	if (n == (ssize_t)e->fulllen && !memcmp(old, e->full, e->fulllen))
		return 0;
	vl_log_bad_entry(dirfd, e->sidecar, "replacing a damaged long-name sidecar");
	return vl_write_atomic(dirfd, e->sidecar, e->full, e->fulllen, VL_HELPER_MODE, false);
}

int vl_dir_drop_sidecar(int dirfd, const struct vl_ename *e)
{
	if (!e->is_long || !e->sidecar[0])
		return 0;
	if (unlinkat(dirfd, e->sidecar, 0) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

int vl_dir_make(const struct vl_vault *v, int parentfd, const uint8_t parent_id[static VL_DIRID_LEN],
		const struct vl_ename *e, mode_t mode, uint8_t id[static VL_DIRID_LEN])
{
	uint8_t buf[VL_DIRID_FILE_LEN];
	uint8_t newid[VL_DIRID_LEN];
	bool made_dir = false, drop_sidecar = false;
	mode_t extra;
	struct stat st;
	int fd = -1;
	int r;

	r = vl_dirid_derive(vl_vault_keys(v), parent_id, e->full, e->fulllen, newid);
	if (r < 0)
		return r;
	r = vl_dir_put_sidecar(parentfd, e);
	if (r < 0)
		return r;
	/* We need to write veilfs.dirid inside: create with u+rwx and take back afterwards what
	 * the caller did not ask for, so that the directory has its final mode before the
	 * caller replies (mkdir(name, 0151) must not be reported as writable). */
	extra = (mode_t)(S_IRUSR | S_IWUSR | S_IXUSR) & ~mode;
	if (mkdirat(parentfd, e->disk, (mode & 07777) | S_IRUSR | S_IWUSR | S_IXUSR) < 0) {
		r = -errno;
		/* EEXIST: the sidecar belongs to the existing entry; keep it. */
		drop_sidecar = r != -EEXIST;
		goto out;
	}
	made_dir = true;
	drop_sidecar = true;
	fd = vl_dir_open(parentfd, e->disk);
	if (fd < 0) {
		r = fd;
		goto out;
	}
	vl_dirid_file_build(buf, newid);
	r = vl_write_atomic(fd, VL_DIRID_FILE, buf, sizeof(buf), VL_HELPER_MODE, true);
	if (r < 0)
		goto out;
	if (extra) {
		if (fstat(fd, &st) < 0 || fchmod(fd, st.st_mode & 07777 & ~extra) < 0) {
			r = -errno;
			(void)unlinkat(fd, VL_DIRID_FILE, 0);
			goto out;
		}
	}
	memcpy(id, newid, VL_DIRID_LEN);
	made_dir = drop_sidecar = false;
out:
	if (fd >= 0)
		close(fd);
	if (made_dir)
		(void)unlinkat(parentfd, e->disk, AT_REMOVEDIR);
	if (drop_sidecar && e->is_long)
		(void)unlinkat(parentfd, e->sidecar, 0);
	return r;
}

/* Reads and checks the sidecar named side (NUL-terminated) of long name ln; enc receives the
 * full encoded name. Returns its length or -errno. */
static ssize_t read_sidecar(const struct vl_vault *v, int dfd, const char *ln, const char *side,
			    char enc[static VL_ENCNAME_MAX + 1])
{
	ssize_t n = vl_read_small(dfd, side, enc, VL_ENCNAME_MAX);

	if (n < 0)
		return n;
	enc[n] = '\0';
	if (vl_name_sidecar_check(ln, enc, (size_t)n) < 0 || (size_t)n <= vl_vault_name_max(v))
		return -EIO;
	return n;
}

/* Decrypts one listed name under id. Returns the plaintext length and, when e != NULL,
 * fills e with the entry's names; -ENOENT quietly for names that are not entries (reserved,
 * sidecar, foreign); -EBADMSG, not logged, when the name does not decrypt under id (the
 * caller may try other IDs); other -errno, logged. */
static int list_one(const struct vl_vault *v, int dfd, const uint8_t id[static VL_DIRID_LEN],
		    const char *dname, size_t dlen, char *plain, size_t cap, enum vl_kind *kind,
		    struct vl_ename *e)
{
	char side[VL_LONGNAME_LEN + 1];
	char enc[VL_ENCNAME_MAX + 1];
	const char *full = dname;
	size_t fulllen = dlen;
	ssize_t n;
	int r;

	switch (vl_name_classify(dname, dlen)) {
	case VL_ONDISK_SHORT:
		/* A short name longer than name_max would be looked up as a long name: not
		 * reachable, so not listed either. */
		if (dlen > vl_vault_name_max(v)) {
			vl_log_bad_entry(dfd, dname, "short name longer than name_max");
			return -EIO;
		}
		break;
	case VL_ONDISK_LONG:
		memcpy(side, dname, VL_LONGNAME_LEN + 1);
		side[0] = VL_MARK_SIDECAR;
		n = read_sidecar(v, dfd, dname, side, enc);
		if (n < 0) {
			vl_log_bad_entry(dfd, dname, n == -ENOENT ? "missing long-name sidecar"
					 : n == -EIO	  ? "bad long-name sidecar"
							  : "unreadable long-name sidecar");
			return n == -ENOENT ? -EIO : (int)n;
		}
		full = enc;
		fulllen = (size_t)n;
		break;
	default:
		return -ENOENT; /* reserved, sidecar, foreign: not an entry, quietly */
	}
	r = vl_name_decrypt(vl_vault_keys(v), id, full, fulllen, plain, cap, kind);
	if (r < 0)
		return -EBADMSG;
	if (e) {
		memset(e, 0, sizeof(*e));
		memcpy(e->full, full, fulllen);
		e->full[fulllen] = '\0';
		e->fulllen = fulllen;
		memcpy(e->disk, dname, dlen + 1);
		e->kind = *kind;
		if (full != dname) {
			e->is_long = true;
			memcpy(e->sidecar, side, sizeof(side));
		}
	}
	return r;
}

int vl_dir_entry_name(const struct vl_vault *v, int dirfd, const uint8_t id[static VL_DIRID_LEN],
		      const char *dname, char plain[static 256])
{
	enum vl_kind kind;

	return list_one(v, dirfd, id, dname, strlen(dname), plain, 256, &kind, NULL);
}

/* A conflict copy found by a listing, shown once the whole directory has been read. */
struct pend {
	struct vl_ename e;
	char plain[256];
	size_t plen;
	size_t elen; /* where the provider's text starts in e.disk */
	size_t dlen;
	unsigned char d_type;
	uint64_t d_ino;
	bool fallback;
	char disp[VL_CONFLICT_NAME_MAX + 1];
	size_t displen;
};

/* Parses and decrypts a conflict copy's on-disk name under id into p. -ENOENT quietly when
 * dname is not one (junk, foreign, a copy of a sidecar); -EBADMSG, not logged, when it does
 * not decrypt under id; else 0 or -errno (logged). */
static int list_conflict(const struct vl_vault *v, int dfd, const uint8_t id[static VL_DIRID_LEN],
			 const char *dname, size_t dlen, struct pend *p)
{
	char ln[VL_LONGNAME_LEN + 1];
	enum vl_ondisk ek;
	enum vl_kind kind;
	ssize_t n;
	size_t el;
	int r;

	el = vl_conflict_split(dname, dlen, &ek);
	if (el == 0 || ek == VL_ONDISK_SIDECAR)
		return -ENOENT;
	memset(&p->e, 0, sizeof(p->e));
	if (ek == VL_ONDISK_SHORT) {
		if (el > vl_vault_name_max(v)) {
			vl_log_bad_entry(dfd, dname, "conflict copy of a short name longer than name_max");
			return -EIO;
		}
		memcpy(p->e.full, dname, el);
		p->e.full[el] = '\0';
		p->e.fulllen = el;
	} else {
		memcpy(ln, dname, VL_LONGNAME_LEN);
		ln[VL_LONGNAME_LEN] = '\0';
		/* The copy's own sidecar ('9' hash S) if the client copied it too, else the
		 * original's: both hold the same bytes, since the name is their hash. */
		memcpy(p->e.sidecar, dname, dlen + 1);
		p->e.sidecar[0] = VL_MARK_SIDECAR;
		n = read_sidecar(v, dfd, ln, p->e.sidecar, p->e.full);
		if (n < 0) {
			char sc[VL_LONGNAME_LEN + 1];

			memcpy(sc, ln, sizeof(sc));
			sc[0] = VL_MARK_SIDECAR;
			p->e.sidecar[0] = '\0';
			n = read_sidecar(v, dfd, ln, sc, p->e.full);
		}
		if (n < 0) {
			vl_log_bad_entry(dfd, dname, "conflict copy of a long name without a valid sidecar");
			return n == -ENOENT ? -EIO : (int)n;
		}
		p->e.fulllen = (size_t)n;
		p->e.is_long = true;
	}
	r = vl_name_decrypt(vl_vault_keys(v), id, p->e.full, p->e.fulllen, p->plain,
			    sizeof(p->plain), &kind);
	if (r < 0)
		return -EBADMSG;
	p->plen = (size_t)r;
	p->e.kind = kind;
	p->e.is_conflict = true;
	memcpy(p->e.disk, dname, dlen + 1);
	p->elen = el;
	p->dlen = dlen;
	return 0;
}

/* The IDs a listing tries: the directory's, then those of its veilfs.dirid copies. */
struct ids {
	const uint8_t *primary;
	unsigned n;
	uint8_t alt[VL_DIRID_ALT_MAX][VL_DIRID_LEN];
};

/* True when plaintext name p names an entry under the directory's ID or any alternate ID
 * but skip (an index into ids->alt, or VL_DIRID_ALT_MAX for none). */
static bool name_taken(const struct vl_vault *v, int fd, const struct ids *ids, unsigned skip,
		       const char *p, size_t plen)
{
	struct vl_ename tmp;
	struct stat st;

	if (lookup_plain(v, fd, ids->primary, p, plen, &tmp, &st) == 0)
		return true;
	for (unsigned j = 0; j < ids->n; j++)
		if (j != skip && lookup_plain(v, fd, ids->alt[j], p, plen, &tmp, &st) == 0)
			return true;
	return false;
}

/* Gives every pending conflict copy its display name (FORMAT.md §4.2): the provider's text
 * before the extension, or the fallback form when that is too long, names an existing
 * entry, or is shared by two copies. Then passes them to cb. */
static int list_pending(const struct vl_vault *v, int fd, const struct ids *ids, struct pend *pd,
			size_t np, int (*cb)(void *ctx, const struct vl_dirent *de), void *ctx)
{
	size_t i, j;
	int n, r;

	for (i = 0; i < np; i++) {
		struct pend *p = &pd[i];

		n = vl_conflict_display(p->plain, p->plen, p->e.disk + p->elen, p->dlen - p->elen,
					p->disp, sizeof(p->disp));
		p->fallback = n < 0 ||
			      name_taken(v, fd, ids, VL_DIRID_ALT_MAX, p->disp, (size_t)n);
		p->displen = n < 0 ? 0 : (size_t)n;
	}
	for (i = 0; i < np; i++)
		for (j = i + 1; j < np; j++)
			if (pd[i].displen && pd[i].displen == pd[j].displen &&
			    !memcmp(pd[i].disp, pd[j].disp, pd[i].displen))
				pd[i].fallback = pd[j].fallback = true;
	for (i = 0; i < np; i++) {
		struct pend *p = &pd[i];
		struct vl_dirent de;

		if (p->fallback) {
			n = vl_conflict_fallback(p->plain, p->plen, p->e.disk + p->elen,
						 p->dlen - p->elen, p->e.disk, p->dlen, p->disp,
						 sizeof(p->disp));
			if (n < 0)
				continue;
			p->displen = (size_t)n;
		}
		memset(&de, 0, sizeof(de));
		de.name = p->disp;
		de.namelen = p->displen;
		de.disk = p->e.disk;
		de.kind = p->e.kind;
		de.d_type = p->d_type;
		de.d_ino = p->d_ino;
		de.orig = p->plain;
		de.origlen = p->plen;
		de.suffix = p->e.disk + p->elen;
		de.suffixlen = p->dlen - p->elen;
		de.conflict = &p->e;
		de.names = &p->e;
		r = cb(ctx, &de);
		if (r != 0)
			return r;
	}
	return 0;
}

/* Names that did not decrypt under the directory's ID, kept until the listing has seen
 * all the veilfs.dirid copies. Grows with the number of such names (a snapshot of the
 * directory, which the caller keeps anyway, is larger). */
struct retry {
	size_t off; /* of the name in names */
	uint64_t d_ino;
	unsigned char d_type;
	bool copy; /* a conflict copy E || S, not an entry */
};

struct retries {
	struct retry *v;
	size_t n, cap;
	char *names;
	size_t len, ncap;
};

static int retry_add(struct retries *rt, const char *name, size_t len, unsigned char d_type,
		     uint64_t d_ino, bool copy)
{
	if (rt->n == rt->cap) {
		size_t nc = rt->cap ? rt->cap * 2 : 16;
		struct retry *nv = realloc(rt->v, nc * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		rt->v = nv;
		rt->cap = nc;
	}
	if (rt->len + len + 1 > rt->ncap) {
		size_t nc = rt->ncap ? rt->ncap * 2 : 4096;
		char *nn;

		while (nc < rt->len + len + 1)
			nc *= 2;
		nn = realloc(rt->names, nc);
		if (!nn)
			return -ENOMEM;
		rt->names = nn;
		rt->ncap = nc;
	}
	memcpy(rt->names + rt->len, name, len + 1);
	rt->v[rt->n++] = (struct retry){ .off = rt->len, .d_ino = d_ino, .d_type = d_type, .copy = copy };
	rt->len += len + 1;
	return 0;
}

/* Makes room for one more pending conflict copy. 0, 1 when the limit is reached (logged),
 * or -ENOMEM. */
static int pend_room(int fd, const char *dname, struct pend **pd, size_t np, size_t *cap)
{
	size_t ncap;
	struct pend *p;

	if (np < *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 8;
	if (ncap > VL_CONFLICT_LIST_MAX)
		ncap = VL_CONFLICT_LIST_MAX;
	if (np == ncap) {
		vl_log_bad_entry(fd, dname, "too many conflict copies in one directory");
		return 1;
	}
	p = realloc(*pd, ncap * sizeof(**pd));
	if (!p)
		return -ENOMEM;
	*pd = p;
	*cap = ncap;
	return 0;
}

/* Shows a name that decrypted under alternate ID ids->alt[i]: under its own name, or in the
 * fallback form when that names another entry (the directory's own wins; between two
 * alternate IDs, both get the fallback form, as lookups find neither). */
static int emit_alt(const struct vl_vault *v, int fd, const struct ids *ids, unsigned i,
		    const struct retry *t, const char *dname, const char *plain, size_t plen,
		    const struct vl_ename *e, int (*cb)(void *ctx, const struct vl_dirent *de), void *ctx)
{
	static const char mark[] = " (other directory ID)";
	char disp[VL_CONFLICT_NAME_MAX + 1];
	struct vl_dirent de;
	int n;

	memset(&de, 0, sizeof(de));
	de.name = plain;
	de.namelen = plen;
	if (name_taken(v, fd, ids, i, plain, plen)) {
		n = vl_conflict_fallback(plain, plen, mark, sizeof(mark) - 1, dname, strlen(dname),
					 disp, sizeof(disp));
		if (n < 0)
			return 0;
		de.name = disp;
		de.namelen = (size_t)n;
	}
	de.disk = dname;
	de.kind = e->kind;
	de.d_type = t->d_type;
	de.d_ino = t->d_ino;
	de.names = e;
	return cb(ctx, &de);
}

/* Retries the names that did not decrypt under the directory's ID under each alternate ID:
 * entries are shown at once, conflict copies join the pending ones. Names that decrypt
 * under no ID are logged. */
static int list_retries(const struct vl_vault *v, int fd, const struct ids *ids,
			const struct retries *rt, struct pend **pd, size_t *np, size_t *cap,
			int (*cb)(void *ctx, const struct vl_dirent *de), void *ctx)
{
	struct vl_ename *e = malloc(sizeof(*e));
	char plain[256];
	int r = 0;

	if (!e)
		return -ENOMEM;
	for (size_t k = 0; k < rt->n && r == 0; k++) {
		const struct retry *t = &rt->v[k];
		const char *dname = rt->names + t->off;
		size_t dlen = strlen(dname);
		bool shown = false;

		for (unsigned i = 0; i < ids->n && !shown && r == 0; i++) {
			enum vl_kind kind;
			int n;

			if (!t->copy) {
				n = list_one(v, fd, ids->alt[i], dname, dlen, plain, sizeof(plain), &kind, e);
				if (n < 0)
					continue;
				e->is_alt = true;
				memcpy(e->altid, ids->alt[i], VL_DIRID_LEN);
				r = emit_alt(v, fd, ids, i, t, dname, plain, (size_t)n, e, cb, ctx);
				shown = true;
				continue;
			}
			r = pend_room(fd, dname, pd, *np, cap);
			if (r != 0) {
				r = r > 0 ? 0 : r;
				shown = true; /* logged */
				continue;
			}
			if (list_conflict(v, fd, ids->alt[i], dname, dlen, &(*pd)[*np]) < 0)
				continue;
			(*pd)[*np].e.is_alt = true;
			memcpy((*pd)[*np].e.altid, ids->alt[i], VL_DIRID_LEN);
			(*pd)[*np].d_type = t->d_type;
			(*pd)[*np].d_ino = t->d_ino;
			(*np)++;
			shown = true;
		}
		if (!shown && r == 0)
			vl_log_bad_entry(fd, dname, t->copy ? "undecryptable conflict copy"
							    : "undecryptable name");
	}
	vl_wipe(plain, sizeof(plain));
	vl_wipe(e, sizeof(*e));
	free(e);
	return r;
}

int vl_dir_list(const struct vl_vault *v, int dirfd, const uint8_t dirid[static VL_DIRID_LEN],
		int (*cb)(void *ctx, const struct vl_dirent *de), void *ctx)
{
	struct retries rt = { 0 };
	struct pend *pd = NULL;
	struct ids *ids = NULL;
	size_t np = 0, cap = 0;
	char plain[256];
	struct stat dst;
	struct dirent *d;
	DIR *dir = NULL;
	uint64_t when;
	int fd, r = 0;

	ids = calloc(1, sizeof(*ids));
	if (!ids)
		return -ENOMEM;
	ids->primary = dirid;
	/* A new open file description: a dup() would share the offset with dirfd, and two
	 * listings of one directory could run at once. */
	fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		free(ids);
		return -errno;
	}
	/* The mtime before reading: a change made while we read makes the cache re-read. */
	when = now_ns();
	if (fstat(fd, &dst) < 0) {
		r = -errno;
		close(fd);
		free(ids);
		return r;
	}
	dir = fdopendir(fd);
	if (!dir) {
		r = -errno;
		close(fd);
		free(ids);
		return r;
	}
	for (;;) {
		struct vl_dirent de;
		enum vl_kind kind;
		size_t dlen;
		int n;

		errno = 0;
		d = readdir(dir);
		if (!d) {
			r = errno ? -errno : 0;
			break;
		}
		if (!strcmp(d->d_name, ".") || !strcmp(d->d_name, ".."))
			continue;
		dlen = strlen(d->d_name);
		n = list_one(v, fd, dirid, d->d_name, dlen, plain, sizeof(plain), &kind, NULL);
		if (n == -ENOENT) {
			/* Not an entry of ours: maybe a copy of veilfs.dirid, or a sync client's
			 * conflict copy of an entry. */
			if (is_dirid_copy(d->d_name, dlen)) {
				alt_add(fd, d->d_name, dirid, ids->alt, &ids->n);
				continue;
			}
			r = pend_room(fd, d->d_name, &pd, np, &cap);
			if (r < 0)
				break;
			if (r > 0) {
				r = 0;
				continue;
			}
			n = list_conflict(v, fd, dirid, d->d_name, dlen, &pd[np]);
			if (n == 0) {
				pd[np].d_type = d->d_type;
				pd[np].d_ino = d->d_ino;
				np++;
			} else if (n == -EBADMSG) {
				r = retry_add(&rt, d->d_name, dlen, d->d_type, d->d_ino, true);
				if (r < 0)
					break;
			}
			continue;
		}
		if (n == -EBADMSG) {
			r = retry_add(&rt, d->d_name, dlen, d->d_type, d->d_ino, false);
			if (r < 0)
				break;
			continue;
		}
		if (n < 0)
			continue; /* logged */
		memset(&de, 0, sizeof(de));
		de.name = plain;
		de.namelen = (size_t)n;
		de.disk = d->d_name;
		de.kind = kind;
		de.d_type = d->d_type;
		de.d_ino = d->d_ino;
		r = cb(ctx, &de);
		if (r != 0)
			break;
	}
	if (r == 0) {
		/* The whole directory was read: lookups can use what we found. */
		alt_store(&dst, dirid, ids->alt, ids->n, when);
		if (rt.n > 0)
			r = list_retries(v, fd, ids, &rt, &pd, &np, &cap, cb, ctx);
	}
	if (r == 0 && np > 0)
		r = list_pending(v, fd, ids, pd, np, cb, ctx);
	if (pd)
		vl_wipe(pd, cap * sizeof(*pd));
	free(pd);
	if (rt.names)
		vl_wipe(rt.names, rt.ncap);
	free(rt.names);
	free(rt.v);
	free(ids);
	vl_wipe(plain, sizeof(plain));
	closedir(dir);
	return r;
}
