/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Entries of the ciphertext tree's directories (FORMAT.md §4, §5; FORMAT-v1.md §4, §5):
 * names, lookups, listings, and making directories. Which IDs a directory has is decided in
 * fs/dirinfo.c. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../crypto/conflict.h"
#include "../crypto/content.h"
#include "../crypto/dirid.h"
#include "../crypto/names.h"
#include "../crypto/secmem.h"
#include "backing.h"
#include "dirs.h"
#include "fileio.h"
#include "log.h"
#include "vault.h"

#define VL_HELPER_MODE 0444 /* veilfs.dirid and sidecars: replaced, never edited */

/* The log line of a long-named entry whose (authentic) header holds another entry's name. */
#define VL_OTHER_ENTRY_TEXT \
	"long-named entry whose header holds another entry's name (moved, copied or swapped here)"

/* The name shown for a long-named directory whose full name is lost (FORMAT.md §5.4). */
static const char lost_name[] = "(name lost)";

static bool is_v2(const struct vl_vault *v)
{
	return vl_vault_format(v) >= VL_FORMAT_V2;
}

/* True for a sync client's copy of veilfs.dirid (not of veilfs.conf). */
static bool is_dirid_copy(const char *name, size_t len)
{
	bool conf;

	return vl_conflict_is_reserved_copy(name, len, &conf) && !conf;
}

size_t vl_ename_base_len(const struct vl_ename *e)
{
	if (e->is_long || e->name_lost)
		return VL_LONGNAME_LEN;
	if (e->is_conflict)
		return e->fulllen;
	return strlen(e->disk);
}

int vl_ename_binding(const struct vl_vault *v, const struct vl_dirinfo *di, const struct vl_ename *e,
		     struct vl_binding *b)
{
	bool obj;
	int r;

	memset(b, 0, sizeof(*b));
	memcpy(b->parent, vl_ename_id(e, di), VL_DIRID_LEN);
	b->is_long = e->is_long;
	if (!is_v2(v))
		return 0;
	r = vl_dirinfo_token(v, di, b->parent, b->token);
	if (r < 0 || !e->is_long)
		return r;
	r = vl_name_siv_from_full(e->full, e->fulllen, b->name, sizeof(b->name), &obj);
	if (r < 0)
		return r;
	b->namelen = (size_t)r;
	return 0;
}

int vl_ename_make_id(const struct vl_vault *v, const uint8_t id[static VL_DIRID_LEN],
		     const char *name, size_t len, enum vl_kind kind, struct vl_ename *e)
{
	int r;

	memset(e, 0, sizeof(*e));
	r = vl_name_encrypt(vl_vault_keys(v), id, name, len, kind, e->full, sizeof(e->full));
	if (r < 0)
		return r;
	e->fulllen = (size_t)r;
	e->kind = kind;
	if (e->fulllen > vl_vault_name_max(v)) {
		e->is_long = true;
		r = vl_name_long(e->full, e->fulllen, e->disk);
		if (r == 0 && !is_v2(v))
			r = vl_name_sidecar(e->full, e->fulllen, e->sidecar);
		return r;
	}
	memcpy(e->disk, e->full, e->fulllen + 1);
	return 0;
}

int vl_ename_make(const struct vl_vault *v, const struct vl_dirinfo *di, const char *name,
		  size_t len, enum vl_kind kind, struct vl_ename *e)
{
	return vl_ename_make_id(v, di->id, name, len, kind, e);
}

/* The lookup of an entry's own name under ID id: the plain kind, then (unless the caller knows
 * the directory holds no object names) the object kind. */
static int lookup_kinds(const struct vl_vault *v, int dirfd, const uint8_t id[static VL_DIRID_LEN],
			const char *name, size_t len, struct vl_ename *e, struct stat *st,
			bool objects)
{
	static const enum vl_kind kinds[] = { VL_KIND_PLAIN, VL_KIND_OBJECT };
	size_t i;
	int r;

	for (i = 0; i < (objects ? 2u : 1u); i++) {
		r = vl_ename_make_id(v, id, name, len, kinds[i], e);
		if (r < 0)
			return r;
		if (fstatat(dirfd, e->disk, st, AT_SYMLINK_NOFOLLOW) == 0)
			return 0;
		if (errno != ENOENT)
			return -errno;
	}
	return -ENOENT;
}

static int lookup_plain(const struct vl_vault *v, int dirfd, const uint8_t id[static VL_DIRID_LEN],
			const char *name, size_t len, struct vl_ename *e, struct stat *st)
{
	return lookup_kinds(v, dirfd, id, name, len, e, st, true);
}

/* True when sidecar file name in dirfd holds exactly e's full encoded name. */
static bool sidecar_holds(int dirfd, const char *name, const struct vl_ename *e)
{
	char buf[VL_ENCNAME_MAX + 1];
	ssize_t n = vl_read_small(dirfd, name, buf, sizeof(buf));

	return n == (ssize_t)e->fulllen && memcmp(buf, e->full, e->fulllen) == 0;
}

/* Turns e (an entry's names) into the names of its conflict copy with provider text s:
 * the on-disk name gets s, and (format 1) a long name keeps the copy's own sidecar
 * ('9' hash s) when one exists with the right contents, else none (the original's is shared). */
static int conflict_names(int dirfd, struct vl_ename *e, const char *s, size_t slen)
{
	size_t dl = strlen(e->disk), sl;

	if (dl + slen > VL_CONFLICT_NAME_MAX)
		return -ENAMETOOLONG;
	memcpy(e->disk + dl, s, slen);
	e->disk[dl + slen] = '\0';
	e->is_conflict = true;
	if (e->is_long && e->sidecar[0]) {
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
	const uint8_t *id;
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
		if (vl_ename_make_id(c->v, c->id, p, plen, kinds[i], &c->t) < 0)
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
	c->id = id;
	(void)vl_conflict_candidates(name, len, VL_CONFLICT_LOOKUP_MAX, cand_cb, c);
	r = c->err ? c->err : c->found == 1 ? 0 : -ENOENT;
	if (r == 0) {
		*e = c->e;
		*st = c->st;
	}
	free(c);
	return r;
}

/* The last resort of a lookup: name (or a conflict copy's display name) under the
 * directory's other IDs. Found under exactly one: 0; else -ENOENT (the listing shows clashing
 * names in the fallback form), or -errno. */
static int lookup_alt(const struct vl_vault *v, int dirfd, const struct vl_dirinfo *di,
		      const char *name, size_t len, struct vl_ename *e, struct stat *st)
{
	struct vl_ename *t = NULL;
	unsigned found = 0;
	struct stat tst;
	int r = -ENOENT;

	if (di->nalt == 0)
		return -ENOENT;
	t = malloc(sizeof(*t));
	if (!t)
		return -ENOMEM;
	for (unsigned i = 0; i < di->nalt; i++) {
		r = lookup_plain(v, dirfd, di->alt[i], name, len, t, &tst);
		if (r == -ENOENT)
			r = lookup_display(v, dirfd, di->alt[i], name, len, t, &tst);
		if (r == -ENOENT)
			continue;
		if (r < 0)
			goto out;
		t->is_alt = true;
		memcpy(t->altid, di->alt[i], VL_DIRID_LEN);
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

int vl_dir_lookup(const struct vl_vault *v, int dirfd, const struct vl_dirinfo *di, const char *name,
		  size_t len, struct vl_ename *e, struct stat *st, unsigned flags)
{
	int r;

	r = lookup_kinds(v, dirfd, di->id, name, len, e, st, !(flags & VL_LOOKUP_NO_OBJECTS));
	if (r != -ENOENT)
		return r;
	if (flags & VL_LOOKUP_NO_CONFLICTS) {
		/* Nothing else can match: no conflict copy, no other ID. Without the object
		 * kind's try, *e still holds the plain kind's names. */
		if (flags & VL_LOOKUP_NO_OBJECTS)
			return -ENOENT;
	} else if (vl_conflict_is_fallback(name, len)) {
		/* Rare (collisions, overlong display names, lost names): list the directory,
		 * which also covers names under the directory's other IDs. */
		struct fb_ctx *fc = calloc(1, sizeof(*fc));

		if (!fc)
			return -ENOMEM;
		fc->name = name;
		fc->len = len;
		r = vl_dir_list(v, dirfd, di, fb_cb, fc);
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
		r = lookup_display(v, dirfd, di->id, name, len, e, st);
		if (r == -ENOENT)
			r = lookup_alt(v, dirfd, di, name, len, e, st);
		if (r != -ENOENT)
			return r;
	}
	/* Not found: leave the plain kind's names in *e, what a create needs. */
	r = vl_ename_make(v, di, name, len, VL_KIND_PLAIN, e);
	return r < 0 ? r : -ENOENT;
}

int vl_dir_child_info(const struct vl_vault *v, int cfd, const struct vl_dirinfo *di,
		      const struct vl_ename *e, struct vl_dirinfo *out)
{
	size_t bl = vl_ename_base_len(e);
	const char *full = e->name_lost || e->fulllen == 0 ? NULL : e->full;

	return vl_dirinfo_read(v, cfd, di, vl_ename_id(e, di), e->disk, bl, full,
			       full ? e->fulllen : 0, out);
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

int vl_dir_ptoken(const struct vl_vault *v, const struct vl_dirinfo *pdi, const uint8_t pid[static VL_DIRID_LEN],
		  uint8_t out[static VL_TOKEN_LEN])
{
	if (!is_v2(v)) {
		memset(out, 0, VL_TOKEN_LEN);
		return 0;
	}
	return vl_dirinfo_token(v, pdi, pid, out);
}

int vl_dir_make(const struct vl_vault *v, int parentfd, const struct vl_dirinfo *pdi,
		const struct vl_ename *e, mode_t mode, struct vl_dirinfo *out)
{
	uint8_t ptoken[VL_TOKEN_LEN];
	struct vl_dirinfo ni;
	bool made_dir = false, drop_sidecar = false;
	mode_t extra;
	struct stat st;
	int fd = -1;
	int r;

	memset(&ni, 0, sizeof(ni));
	ni.format = vl_vault_format(v);
	/* New names go under the parent's primary ID, and so does the new directory's place. */
	memcpy(ni.place.parent, pdi->id, VL_DIRID_LEN);
	memcpy(ni.place.name, e->full, e->fulllen + 1);
	ni.place.namelen = e->fulllen;
	memcpy(ni.disk, e->disk, strlen(e->disk) + 1);
	ni.disklen = strlen(e->disk);
	ni.flags = VL_DI_FILE;
	ni.filed = 1u; /* its ID is in the veilfs.dirid written below, as a read would say */
	r = vl_dirid_derive(vl_vault_keys(v), pdi->id, e->full, e->fulllen, ni.id);
	if (r == 0)
		r = vl_dir_ptoken(v, pdi, pdi->id, ptoken);
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
	r = vl_dirinfo_write(v, fd, &ni, ptoken, NULL, true);
	if (r < 0)
		goto out;
	if (extra) {
		if (fstat(fd, &st) < 0 || fchmod(fd, st.st_mode & 07777 & ~extra) < 0) {
			r = -errno;
			(void)unlinkat(fd, VL_DIRID_FILE, 0);
			goto out;
		}
	}
	*out = ni;
	made_dir = drop_sidecar = false;
out:
	if (fd >= 0)
		close(fd);
	if (made_dir)
		(void)unlinkat(parentfd, e->disk, AT_REMOVEDIR);
	if (drop_sidecar && e->is_long && e->sidecar[0])
		(void)unlinkat(parentfd, e->sidecar, 0);
	return r;
}

/* Format 1: reads and checks the sidecar named side (NUL-terminated) of long name ln; enc
 * receives the full encoded name. Returns its length or -errno. */
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

/* Format 2: the full name of a long-named regular file, from its long header. */
static int long_file_name(const struct vl_vault *v, int fd, const char *base,
			  char full[static VL_ENCNAME_MAX + 1])
{
	uint8_t hdr[VL_HEADER_LONG_LEN];
	char want[VL_LONGNAME_LEN + 1];
	struct vl_header h;
	ssize_t n;
	int len;

	n = vl_pread_full(fd, hdr, sizeof(hdr), 0);
	if (n != (ssize_t)sizeof(hdr) || vl_header2_parse(vl_vault_keys(v), hdr, sizeof(hdr), &h) < 0 ||
	    !(h.flags & VL_HDR_LONG))
		return -EIO;
	len = vl_name_full_from_siv((h.flags & VL_HDR_OBJECT) != 0, h.name, h.namelen, full);
	if (len < 0)
		return -EIO;
	if (vl_name_long(full, (size_t)len, want) < 0 || (size_t)len <= vl_vault_name_max(v))
		return -EIO; /* no writer makes it: damage */
	/* An authentic header that holds another entry's name: moved, copied or swapped here. */
	if (memcmp(want, base, VL_LONGNAME_LEN) != 0)
		return -EXDEV;
	return len;
}

int vl_dir_long_entry_name(const struct vl_vault *v, int dirfd, const char *disk, size_t disklen,
			   char full[static VL_ENCNAME_MAX + 1], char sidecar[static VL_CONFLICT_NAME_MAX + 1])
{
	char base[VL_LONGNAME_LEN + 1];
	struct stat st;
	ssize_t n;
	int fd, r;

	sidecar[0] = '\0';
	if (disklen < VL_LONGNAME_LEN || disklen > VL_CONFLICT_NAME_MAX || disk[0] != VL_MARK_LONG)
		return -EINVAL;
	memcpy(base, disk, VL_LONGNAME_LEN);
	base[VL_LONGNAME_LEN] = '\0';
	if (!is_v2(v)) {
		/* The copy's own sidecar ('9' hash S) if the client copied it too, else the
		 * original's: both hold the same bytes, since the name is their hash. */
		memcpy(sidecar, disk, disklen + 1);
		sidecar[0] = VL_MARK_SIDECAR;
		n = read_sidecar(v, dirfd, base, sidecar, full);
		if (n < 0 && disklen > VL_LONGNAME_LEN) {
			memcpy(sidecar, base, sizeof(base));
			sidecar[0] = VL_MARK_SIDECAR;
			n = read_sidecar(v, dirfd, base, sidecar, full);
			if (n >= 0)
				sidecar[0] = '\0'; /* shared with the original: never the copy's */
		}
		if (n < 0)
			sidecar[0] = '\0';
		return (int)n;
	}
	/* Format 2: the entry carries its name. */
	fd = openat(dirfd, disk, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		r = -errno;
	else if (S_ISDIR(st.st_mode))
		r = vl_dir_long_name(v, fd, base, full);
	else if (S_ISREG(st.st_mode)) {
		r = long_file_name(v, fd, base, full);
		/* Logged here, keyed by the file as a read of it logs: a lookup and a
		 * listing of it make one line. The caller logs every other failure. */
		if (r == -EXDEV)
			vl_log_bad_block(fd, UINT64_MAX, VL_MISPLACED_TEXT);
	} else
		r = -EIO;
	close(fd);
	return r;
}

/* True when the backing entry dname in dfd is a directory (d_type, else fstatat). */
static bool is_backing_dir(int dfd, const char *dname, unsigned char d_type)
{
	struct stat st;

	if (d_type != DT_UNKNOWN)
		return d_type == DT_DIR;
	return fstatat(dfd, dname, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
}

/* Decrypts one listed name under id. Returns the plaintext length and, when e != NULL,
 * fills e with the entry's names; -ENOENT quietly for names that are not entries (reserved,
 * sidecar, foreign); -EBADMSG, not logged, when the name does not decrypt under id (the
 * caller may try other IDs); -ENODATA for a long-named directory whose name is lost (format
 * 2: the caller shows it under lost_name); other -errno, logged. */
static int list_one(const struct vl_vault *v, int dfd, const uint8_t id[static VL_DIRID_LEN],
		    const char *dname, size_t dlen, unsigned char d_type, char *plain, size_t cap,
		    enum vl_kind *kind, struct vl_ename *e)
{
	char side[VL_CONFLICT_NAME_MAX + 1];
	char enc[VL_ENCNAME_MAX + 1];
	const char *full = dname;
	size_t fulllen = dlen;
	int n, r;

	switch (vl_name_classify(dname, dlen)) {
	case VL_ONDISK_SHORT:
		/* A short name longer than name_max would be looked up as a long name: not
		 * reachable, so not listed either. */
		if (dlen > vl_vault_name_max(v)) {
			vl_log_bad_entry(dfd, dname, "short name longer than name_max");
			return -E2BIG;
		}
		break;
	case VL_ONDISK_LONG:
		n = vl_dir_long_entry_name(v, dfd, dname, dlen, enc, side);
		if (n < 0) {
			if (is_v2(v) && n != -ENOENT && n != -EIO && n != -EXDEV)
				return n;
			if (is_v2(v) && n != -EXDEV && is_backing_dir(dfd, dname, d_type))
				return -ENODATA;
			if (n == -EXDEV && !is_backing_dir(dfd, dname, d_type))
				return -EXDEV; /* logged by vl_dir_long_entry_name */
			vl_log_bad_entry(dfd, dname, n == -ENOENT ? "missing long-name sidecar"
						     : n == -EXDEV ? VL_OTHER_ENTRY_TEXT
						     : is_v2(v) ? "long name that cannot be read from its entry"
								: "bad long-name sidecar");
			return n == -EXDEV ? -EXDEV : -ENOLINK;
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

	return list_one(v, dirfd, id, dname, strlen(dname), DT_UNKNOWN, plain, 256, &kind, NULL);
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
 * not decrypt under id; -ENODATA for a copy of a long-named directory whose name is lost;
 * else 0 or -errno (logged). */
static int list_conflict(const struct vl_vault *v, int dfd, const uint8_t id[static VL_DIRID_LEN],
			 const char *dname, size_t dlen, unsigned char d_type, struct pend *p)
{
	enum vl_ondisk ek;
	enum vl_kind kind;
	int n;
	size_t el;
	int r;

	el = vl_conflict_split(dname, dlen, &ek);
	if (el == 0 || ek == VL_ONDISK_SIDECAR)
		return -ENOENT;
	memset(&p->e, 0, sizeof(p->e));
	if (ek == VL_ONDISK_SHORT) {
		if (el > vl_vault_name_max(v)) {
			vl_log_bad_entry(dfd, dname, "conflict copy of a short name longer than name_max");
			return -E2BIG;
		}
		memcpy(p->e.full, dname, el);
		p->e.full[el] = '\0';
		p->e.fulllen = el;
	} else {
		n = vl_dir_long_entry_name(v, dfd, dname, dlen, p->e.full, p->e.sidecar);
		if (n < 0) {
			if (is_v2(v) && n != -ENOENT && n != -EIO && n != -EXDEV)
				return n;
			if (is_v2(v) && n != -EXDEV && is_backing_dir(dfd, dname, d_type))
				return -ENODATA;
			if (n == -EXDEV && !is_backing_dir(dfd, dname, d_type))
				return -EXDEV; /* logged by vl_dir_long_entry_name */
			vl_log_bad_entry(dfd, dname, n == -EXDEV ? VL_OTHER_ENTRY_TEXT
						     : "conflict copy of a long name whose name cannot be read");
			return n == -EXDEV ? -EXDEV : -ENOLINK;
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

/* True when plaintext name p names an entry under the directory's primary ID or any other
 * ID but skip (an index into di->alt, or VL_DIRID_ALT_MAX for none). */
static bool name_taken(const struct vl_vault *v, int fd, const struct vl_dirinfo *di, unsigned skip,
		       const char *p, size_t plen)
{
	struct vl_ename tmp;
	struct stat st;

	if (lookup_plain(v, fd, di->id, p, plen, &tmp, &st) == 0)
		return true;
	for (unsigned j = 0; j < di->nalt; j++)
		if (j != skip && lookup_plain(v, fd, di->alt[j], p, plen, &tmp, &st) == 0)
			return true;
	return false;
}

/* Gives every pending conflict copy its display name (FORMAT.md §4.5): the provider's text
 * before the extension, or the fallback form when that is too long, names an existing
 * entry, or is shared by two copies. Then passes them to cb. */
static int list_pending(const struct vl_vault *v, int fd, const struct vl_dirinfo *di, struct pend *pd,
			size_t np, const struct vl_listcb *cb, void *ctx)
{
	size_t i, j;
	int n, r;

	for (i = 0; i < np; i++) {
		struct pend *p = &pd[i];

		n = vl_conflict_display(p->plain, p->plen, p->e.disk + p->elen, p->dlen - p->elen,
					p->disp, sizeof(p->disp));
		p->fallback = n < 0 ||
			      name_taken(v, fd, di, VL_DIRID_ALT_MAX, p->disp, (size_t)n);
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
		r = cb->entry(ctx, &de);
		if (r != 0)
			return r;
	}
	return 0;
}

/* Names that did not decrypt under the directory's primary ID, kept until the listing has
 * seen all the ID-file copies. Grows with the number of such names (a snapshot of the
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

/* Shows a name that decrypted under other ID di->alt[i]: under its own name, or in the
 * fallback form when that names another entry (the primary's wins; between two other IDs,
 * both get the fallback form, as lookups find neither). */
static int emit_alt(const struct vl_vault *v, int fd, const struct vl_dirinfo *di, unsigned i,
		    const struct retry *t, const char *dname, const char *plain, size_t plen,
		    const struct vl_ename *e, const struct vl_listcb *cb, void *ctx)
{
	static const char mark[] = " (other directory ID)";
	char disp[VL_CONFLICT_NAME_MAX + 1];
	struct vl_dirent de;
	int n;

	memset(&de, 0, sizeof(de));
	de.name = plain;
	de.namelen = plen;
	if (name_taken(v, fd, di, i, plain, plen)) {
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
	return cb->entry(ctx, &de);
}

/* Shows a long-named directory whose name is lost (format 2), as "(name lost) {conflict H}"
 * (FORMAT.md §5.4). */
static int emit_lost(int fd, const char *dname, size_t dlen, unsigned char d_type, uint64_t d_ino,
		     const struct vl_dirinfo *di, const struct vl_listcb *cb, void *ctx)
{
	char disp[VL_CONFLICT_NAME_MAX + 1];
	struct vl_ename e;
	struct vl_dirent de;
	int n;

	n = vl_conflict_fallback_plain(lost_name, sizeof(lost_name) - 1, dname, dlen, disp,
				       sizeof(disp));
	if (n < 0)
		return 0;
	vl_log_bad_entry(fd, dname, "long-named directory whose name is lost with its ID file");
	memset(&e, 0, sizeof(e));
	memcpy(e.disk, dname, dlen + 1);
	e.is_long = true;
	e.name_lost = true;
	e.is_conflict = dlen > VL_LONGNAME_LEN;
	e.kind = VL_KIND_PLAIN;
	/* Its place is under the primary ID as far as anyone can tell. */
	(void)di;
	memset(&de, 0, sizeof(de));
	de.name = disp;
	de.namelen = (size_t)n;
	de.disk = e.disk;
	de.kind = VL_KIND_PLAIN;
	de.d_type = d_type;
	de.d_ino = d_ino;
	de.names = &e;
	return cb->entry(ctx, &de);
}

/* Why list_one or list_conflict's error n hides an entry. */
static enum vl_hidden hidden_why(int n)
{
	return n == -E2BIG ? VL_HIDDEN_TOO_LONG : n == -EXDEV ? VL_HIDDEN_OTHER_ENTRY : VL_HIDDEN_LONG_NAME;
}

static void hidden(const struct vl_listcb *cb, void *ctx, const char *dname, enum vl_hidden why)
{
	if (cb->hidden)
		cb->hidden(ctx, dname, why);
}

/* Tries a name (or copy) that decrypted under no known ID under other ID di->alt[i]: 1 when
 * shown (or pending), 0 when not, or -errno. A non-zero return of the callback is put in
 * *stop. */
static int retry_under(const struct vl_vault *v, int fd, const struct vl_dirinfo *di, unsigned i,
		       const struct retry *t, const char *dname, struct pend **pd, size_t *np,
		       size_t *cap, struct vl_ename *e, const struct vl_listcb *cb, void *ctx,
		       int *stop)
{
	char plain[256];
	enum vl_kind kind;
	size_t dlen = strlen(dname);
	int n, r;

	if (!t->copy) {
		n = list_one(v, fd, di->alt[i], dname, dlen, t->d_type, plain, sizeof(plain), &kind, e);
		if (n < 0)
			return 0;
		e->is_alt = true;
		memcpy(e->altid, di->alt[i], VL_DIRID_LEN);
		*stop = emit_alt(v, fd, di, i, t, dname, plain, (size_t)n, e, cb, ctx);
		vl_wipe(plain, sizeof(plain));
		return 1;
	}
	r = pend_room(fd, dname, pd, *np, cap);
	if (r != 0)
		return r > 0 ? 1 : r; /* logged */
	if (list_conflict(v, fd, di->alt[i], dname, dlen, t->d_type, &(*pd)[*np]) < 0)
		return 0;
	(*pd)[*np].e.is_alt = true;
	memcpy((*pd)[*np].e.altid, di->alt[i], VL_DIRID_LEN);
	(*pd)[*np].d_type = t->d_type;
	(*pd)[*np].d_ino = t->d_ino;
	(*np)++;
	return 1;
}

/* True when name t decrypts under one of di's IDs (primary or other). scratch: room for a
 * copy's parse. */
static bool decrypts_under_any(const struct vl_vault *v, int fd, const struct vl_dirinfo *di,
			       const struct retry *t, const char *dname, struct pend *scratch)
{
	char plain[256];
	enum vl_kind kind;
	size_t dlen = strlen(dname);
	bool ok = false;

	for (unsigned i = 0; i <= di->nalt && !ok; i++) {
		const uint8_t *id = i == 0 ? di->id : di->alt[i - 1];

		if (!t->copy)
			ok = list_one(v, fd, id, dname, dlen, t->d_type, plain, sizeof(plain), &kind,
				      NULL) >= 0;
		else
			ok = list_conflict(v, fd, id, dname, dlen, t->d_type, scratch) >= 0;
	}
	vl_wipe(plain, sizeof(plain));
	vl_wipe(scratch, sizeof(*scratch));
	return ok;
}

/* Format 2, FORMAT.md §5.4 step 3: adds to di the IDs proven for its place by the names
 * (of rt) that decrypt under none of its IDs. Every such name is asked before any name is
 * retried, so what is shown does not depend on readdir order. Returns how many were added. */
static int prove_ids(const struct vl_vault *v, int fd, struct vl_dirinfo *di,
		     const struct retries *rt)
{
	struct pend *scratch = malloc(sizeof(*scratch));
	int added = 0;

	if (!scratch)
		return -ENOMEM;
	for (size_t k = 0; k < rt->n; k++) {
		const struct retry *t = &rt->v[k];
		const char *dname = rt->names + t->off;
		uint8_t ids[VL_EVIDENCE_MAX][VL_DIRID_LEN];
		unsigned n = 0;

		if (decrypts_under_any(v, fd, di, t, dname, scratch))
			continue;
		if (vl_dir_child_evidence(v, fd, dname, di->place.parent, di->disk, di->disklen, ids,
					  &n) < 0)
			continue;
		for (unsigned j = 0; j < n; j++) {
			if (vl_dirinfo_has(di, ids[j]) || !vl_dirinfo_add(di, ids[j]))
				continue; /* known, or the table is full (logged by fsck) */
			di->flags |= VL_DI_EVIDENCE;
			added++;
		}
	}
	free(scratch);
	return added;
}

/* Retries the names that did not decrypt under the directory's primary ID under each other
 * ID, after (format 2) adding the IDs the names' own evidence proves for the directory's
 * place: entries are shown at once, conflict copies join the pending ones. Names that
 * decrypt under no ID are logged and reported. di is the listing's own copy: proven IDs are
 * added to it. Returns 0, the callback's non-zero return, or -errno. */
static int list_retries(const struct vl_vault *v, int fd, struct vl_dirinfo *di,
			const struct retries *rt, struct pend **pd, size_t *np, size_t *cap,
			const struct vl_listcb *cb, void *ctx)
{
	struct vl_ename *e;
	int stop = 0, shown = 0;

	if (is_v2(v) && rt->n) {
		int r = prove_ids(v, fd, di, rt);

		if (r < 0)
			return r;
	}
	e = malloc(sizeof(*e));
	if (!e)
		return -ENOMEM;
	for (size_t k = 0; k < rt->n && !stop && shown >= 0; k++) {
		const struct retry *t = &rt->v[k];
		const char *dname = rt->names + t->off;

		shown = 0;
		for (unsigned i = 0; i < di->nalt && !shown; i++)
			shown = retry_under(v, fd, di, i, t, dname, pd, np, cap, e, cb, ctx, &stop);
		if (shown == 0) {
			vl_log_bad_entry(fd, dname, t->copy ? "undecryptable conflict copy"
							    : "undecryptable name");
			hidden(cb, ctx, dname, VL_HIDDEN_UNDECRYPTABLE);
		}
	}
	vl_wipe(e, sizeof(*e));
	free(e);
	return shown < 0 ? shown : stop;
}

int vl_dir_list2(const struct vl_vault *v, int dirfd, const struct vl_dirinfo *di0,
		 const struct vl_listcb *cb, void *ctx, struct vl_dirinfo *found)
{
	struct retries rt = { 0 };
	struct vl_dirinfo *di = NULL;
	struct pend *pd = NULL;
	size_t np = 0, cap = 0;
	char plain[256];
	struct dirent *d;
	DIR *dir = NULL;
	int fd, r = 0;

	di = malloc(sizeof(*di));
	if (!di)
		return -ENOMEM;
	*di = *di0;
	/* A new open file description: a dup() would share the offset with dirfd, and two
	 * listings of one directory could run at once. */
	fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		free(di);
		return -errno;
	}
	dir = fdopendir(fd);
	if (!dir) {
		r = -errno;
		close(fd);
		free(di);
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
		n = list_one(v, fd, di->id, d->d_name, dlen, d->d_type, plain, sizeof(plain), &kind, NULL);
		if (n == -ENODATA) {
			r = emit_lost(fd, d->d_name, dlen, d->d_type, d->d_ino, di, cb, ctx);
			if (r != 0)
				break;
			continue;
		}
		if (n == -ENOENT) {
			/* Not an entry of ours: maybe a copy of veilfs.dirid (read by dirinfo),
			 * or a sync client's conflict copy of an entry. */
			if (is_dirid_copy(d->d_name, dlen) ||
			    vl_name_classify(d->d_name, dlen) == VL_ONDISK_RESERVED ||
			    (!is_v2(v) && vl_name_classify(d->d_name, dlen) == VL_ONDISK_SIDECAR))
				continue; /* helper files: fs/dirinfo.c, or format 1's sidecars */
			if (vl_conflict_is_junk(d->d_name, dlen)) {
				hidden(cb, ctx, d->d_name, VL_HIDDEN_FOREIGN);
				continue;
			}
			r = pend_room(fd, d->d_name, &pd, np, &cap);
			if (r < 0)
				break;
			if (r > 0) {
				r = 0;
				hidden(cb, ctx, d->d_name, VL_HIDDEN_TOO_MANY);
				continue;
			}
			n = list_conflict(v, fd, di->id, d->d_name, dlen, d->d_type, &pd[np]);
			if (n == 0) {
				pd[np].d_type = d->d_type;
				pd[np].d_ino = d->d_ino;
				np++;
			} else if (n == -EBADMSG) {
				r = retry_add(&rt, d->d_name, dlen, d->d_type, d->d_ino, true);
				if (r < 0)
					break;
			} else if (n == -ENODATA) {
				r = emit_lost(fd, d->d_name, dlen, d->d_type, d->d_ino, di, cb, ctx);
				if (r != 0)
					break;
			} else if (n == -ENOENT) {
				if (vl_conflict_split(d->d_name, dlen, NULL) == 0)
					hidden(cb, ctx, d->d_name, VL_HIDDEN_FOREIGN);
			} else {
				hidden(cb, ctx, d->d_name, hidden_why(n));
			}
			continue;
		}
		if (n == -EBADMSG) {
			r = retry_add(&rt, d->d_name, dlen, d->d_type, d->d_ino, false);
			if (r < 0)
				break;
			continue;
		}
		if (n < 0) {
			hidden(cb, ctx, d->d_name, hidden_why(n));
			continue; /* logged */
		}
		memset(&de, 0, sizeof(de));
		de.name = plain;
		de.namelen = (size_t)n;
		de.disk = d->d_name;
		de.kind = kind;
		de.d_type = d->d_type;
		de.d_ino = d->d_ino;
		r = cb->entry(ctx, &de);
		if (r != 0)
			break;
	}
	if (r == 0 && rt.n > 0)
		r = list_retries(v, fd, di, &rt, &pd, &np, &cap, cb, ctx);
	if (r == 0 && np > 0)
		r = list_pending(v, fd, di, pd, np, cb, ctx);
	if (r == 0 && found)
		*found = *di;
	if (pd)
		vl_wipe(pd, cap * sizeof(*pd));
	free(pd);
	if (rt.names)
		vl_wipe(rt.names, rt.ncap);
	free(rt.names);
	free(rt.v);
	free(di);
	vl_wipe(plain, sizeof(plain));
	closedir(dir);
	return r;
}

struct list_adapter {
	int (*cb)(void *ctx, const struct vl_dirent *de);
	void *ctx;
};

static int adapt_entry(void *ctx, const struct vl_dirent *de)
{
	struct list_adapter *a = ctx;

	return a->cb(a->ctx, de);
}

int vl_dir_list(const struct vl_vault *v, int dirfd, const struct vl_dirinfo *di,
		int (*cb)(void *ctx, const struct vl_dirent *de), void *ctx)
{
	struct list_adapter a = { cb, ctx };
	struct vl_listcb lc = { adapt_entry, NULL };

	return vl_dir_list2(v, dirfd, di, &lc, &a, NULL);
}

static int prove_entry(void *ctx, const struct vl_dirent *de)
{
	(void)ctx;
	(void)de;
	return 0;
}

int vl_dir_prove_ids(const struct vl_vault *v, int dirfd, struct vl_dirinfo *di)
{
	const struct vl_listcb cb = { prove_entry, NULL };
	struct vl_dirinfo *found;
	int r;

	if (!is_v2(v))
		return 0;
	found = malloc(sizeof(*found));
	if (!found)
		return -ENOMEM;
	r = vl_dir_list2(v, dirfd, di, &cb, NULL, found);
	if (r == 0) {
		r = (int)(found->nalt - di->nalt);
		if (r > 0)
			*di = *found;
	}
	free(found);
	return r;
}

int vl_dir_lookup_proving(const struct vl_vault *v, int dirfd, struct vl_dirinfo *di,
			  const char *name, size_t len, struct vl_ename *e, struct stat *st,
			  unsigned flags)
{
	int r = vl_dir_lookup(v, dirfd, di, name, len, e, st, flags);

	if (r != -ENOENT || !is_v2(v))
		return r;
	r = vl_dir_prove_ids(v, dirfd, di);
	if (r <= 0)
		return r < 0 ? r : -ENOENT; /* *e still holds the plain kind's names */
	return vl_dir_lookup(v, dirfd, di, name, len, e, st, 0);
}
