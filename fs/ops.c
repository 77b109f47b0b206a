/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The FUSE low-level operations: an inode-based stacked filesystem over the ciphertext
 * tree, like libfuse's example/passthrough_ll.c.
 *
 * Conventions: every internal function returns 0 or -errno; each FUSE handler computes its
 * result and replies exactly once, at its end. Every backing call is an *at() call
 * relative to a parent's O_PATH fd with the on-disk (encrypted) name; the only uses of
 * /proc/self/fd/N are the ones with no *at() equivalent for an O_PATH fd: reopening a file
 * for I/O, chmod and utimens without an open file, xattrs, and linkat without
 * CAP_DAC_READ_SEARCH.
 *
 * Locks: the inode table's mutex (inode.c) is a leaf lock. An inode's rwlock guards its
 * contents: reads take it shared; writes, truncates, O_TRUNC, fallocate, header creation
 * and the open count take it exclusively. No handler holds two inode locks. Name
 * operations in one directory are serialised by the kernel (i_rwsem), except lookups and
 * listings, which never write. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "../crypto/content.h"
#include "../crypto/secmem.h"
#include "../crypto/xattr.h"
#include "backing.h"
#include "dirinfo.h"
#include "dirs.h"
#include "entry.h"
#include "fileio.h"
#include "log.h"
#include "object.h"
#include "ops.h"
#include "opsint.h"
#include "vault.h"
#include "watch.h"

_Static_assert(sizeof(fuse_ino_t) >= sizeof(uintptr_t), "fuse_ino_t must hold a pointer");

#define VL_NAME_MAX 255

/* An open regular file. */
struct vl_fh {
	struct vl_hlink link; /* first member */
	struct vl_fh *inext;  /* the inode's other handles (vl_inode.handles); its lock */
	int acc;	      /* O_RDWR or O_RDONLY: how fd was opened */
	/* backing fd, O_RDWR (or O_RDONLY: read-only opens, -o ro). Closed, and replaced by a
	 * rename that copies the file (dup3), only under the inode's lock. */
	int fd;
	bool append; /* O_APPEND without the writeback cache: we place the writes */
	bool token_checked; /* format 2: the header's place token was checked (first write) */
};

/* ---- small helpers ---- */

void vl_op_handle_add(struct vl_fs *fs, struct vl_hlink *l, bool is_dir)
{
	l->is_dir = is_dir;
	pthread_mutex_lock(&fs->hmutex);
	l->next = fs->handles.next;
	l->prev = &fs->handles;
	l->next->prev = l;
	fs->handles.next = l;
	pthread_mutex_unlock(&fs->hmutex);
	atomic_fetch_add(&fs->nhandles, 1);
}

void vl_op_handle_del(struct vl_fs *fs, struct vl_hlink *l)
{
	pthread_mutex_lock(&fs->hmutex);
	l->prev->next = l->next;
	l->next->prev = l->prev;
	pthread_mutex_unlock(&fs->hmutex);
	atomic_fetch_sub(&fs->nhandles, 1);
}

static struct vl_fs *fsof(fuse_req_t req)
{
	return fuse_req_userdata(req);
}

struct vl_inode *vl_op_inode_of(fuse_req_t req, fuse_ino_t n)
{
	if (n == FUSE_ROOT_ID)
		return fsof(req)->root;
	return (struct vl_inode *)(uintptr_t)n;
}

static fuse_ino_t nodeid_of(const struct vl_fs *fs, const struct vl_inode *in)
{
	return in == fs->root ? FUSE_ROOT_ID : (fuse_ino_t)(uintptr_t)in;
}

/* The entry and attribute timeout: short once changes can no longer be watched. */
static double tmo(const struct vl_fs *fs)
{
	if (atomic_load_explicit(&fs->degraded, memory_order_relaxed) &&
	    fs->timeout > VL_DEGRADED_TIMEOUT)
		return VL_DEGRADED_TIMEOUT;
	return fs->timeout;
}

/* Counts a request for --idle. */
struct vl_fs *vl_op_enter(fuse_req_t req)
{
	struct vl_fs *fs = fsof(req);

	atomic_fetch_add_explicit(&fs->nrequests, 1, memory_order_relaxed);
	return fs;
}

void vl_op_proc_path(char buf[static 32], int fd)
{
	snprintf(buf, 32, "/proc/self/fd/%d", fd);
}

/* Opens the inode's backing file for I/O (no *at() equivalent for an O_PATH fd). The
 * magic link is followed on purpose: it names the inode itself, never a path. */
int vl_op_reopen(const struct vl_inode *in, int flags)
{
	char p[32];
	int fd;

	vl_op_proc_path(p, in->fd);
	fd = open(p, flags | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

/* Opens for reading without touching atime when we may (owner or CAP_FOWNER). */
static int reopen_noatime(const struct vl_inode *in)
{
	int fd = vl_op_reopen(in, O_RDONLY | O_NOATIME);

	if (fd == -EPERM)
		fd = vl_op_reopen(in, O_RDONLY);
	return fd;
}

static int check_name(const char *name, size_t *len)
{
	*len = strlen(name);
	if (*len > VL_NAME_MAX)
		return -ENAMETOOLONG;
	return 0;
}

/* check_name for an operation that changes the directory: -EROFS on a read-only mount. */
static int check_change(const struct vl_fs *fs, const char *name, size_t *len)
{
	if (fs->readonly)
		return -EROFS;
	return check_name(name, len);
}

/* Turns backing attributes into plaintext ones. Never fails, so that stat, rename and
 * unlink keep working on damaged files: a torn ciphertext size (a torn header, or a last
 * block of 1 to 28 bytes) reports the intact blocks plus one byte, so that reads up to the
 * damage work and a read reaching it gets EIO (logged), as for any corrupt block. */
static void fix_stat(const struct vl_fs *fs, const struct vl_inode *in, struct stat *st)
{
	const struct vl_layout l = vl_vault_layout(fs->vault, in->is_long);
	const uint32_t B = l.block_size;
	uint64_t csize = (uint64_t)st->st_size, size = 0;
	mode_t perm = st->st_mode & 07777;

	switch (in->type) {
	case S_IFREG:
		if (vl_plain_size(&l, csize, &size) < 0)
			size = (csize < l.hdrlen ? 0 :
						   (csize - l.hdrlen) / ((uint64_t)B + VL_BLOCK_OVERHEAD) * B) +
			       1;
		break;
	case S_IFLNK:
		if (vl_object_symlink_size(fs->vault, in->is_long, csize, &size) < 0)
			size = 0;
		perm = 0777;
		break;
	case S_IFDIR:
		size = csize;
		break;
	default:
		size = 0;
		break;
	}
	st->st_mode = in->type | perm;
	st->st_size = (off_t)size;
	if (in->type != S_IFDIR)
		st->st_blocks = (blkcnt_t)((size + 511) / 512);
	st->st_rdev = in->is_object ? in->rdev : 0;
}

static int inode_stat(const struct vl_fs *fs, const struct vl_inode *in, struct stat *st)
{
	if (fstatat(in->fd, "", st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	fix_stat(fs, in, st);
	return 0;
}

/* ---- what a directory holds, for lookups of missing names ----
 * A lookup of a name that is not there (every create of an untar starts with one) would
 * try the object kind and then resolve the name as a conflict copy's display name: up to
 * VL_CONFLICT_LOOKUP_MAX candidate splits, each with name encryptions and fstatat. Most
 * directories hold no conflict copy and no object name, so each directory inode keeps
 * which of those its backing directory holds (VL_LOOKUP_* flags), with the directory's
 * mtime and size when that was established:
 * - a lookup fstats the directory: unchanged, the flags hold; changed, the names are
 *   scanned again (getdents and the pure grammar of crypto/conflict.c; nothing decrypted);
 * - after a change of our own (create, mkdir, mknod, symlink, link, rename, unlink, rmdir),
 *   which never makes a conflict copy, the stored mtime is refreshed without a rescan, so
 *   that an untar scans each directory once, not once per file.
 * Race: a change from outside (a sync client) landing between our own change and that
 * refresh is missed until the directory changes again (or the mount restarts): a direct
 * lookup of a conflict copy's display name may then give ENOENT, though listings show it.
 * The same holds when an outside change lands within the same timestamp tick as a scan
 * on a filesystem whose mtime does not move then (docs/SYNC.md, "Lookup cost"). */

/* The flags that hold for the names in backing directory pathfd (O_PATH). 0 or -errno. */
static int scan_dir_flags(int pathfd, unsigned *flags)
{
	bool objects = false, conflicts = false;
	struct dirent *d;
	DIR *dir;
	int r = 0;

	r = vl_dir_stream(pathfd, &dir);
	if (r < 0)
		return r;
	while (!(objects && conflicts)) {
		enum vl_ondisk ek;
		size_t len;

		errno = 0;
		d = readdir(dir);
		if (!d) {
			r = errno ? -errno : 0;
			break;
		}
		/* A long name's kind is known only from its sidecar: count it as an object. */
		if (d->d_name[0] == VL_MARK_OBJECT || d->d_name[0] == VL_MARK_LONG)
			objects = true;
		if (d->d_name[0] == '.' || conflicts)
			continue; /* never a conflict copy: it starts with a veilfs name or "veilfs" */
		len = strlen(d->d_name);
		if ((vl_conflict_split(d->d_name, len, &ek) > 0 && ek != VL_ONDISK_SIDECAR) ||
		    vl_conflict_is_reserved_copy(d->d_name, len, NULL))
			conflicts = true;
	}
	closedir(dir);
	if (r == 0)
		*flags = (objects ? 0 : VL_LOOKUP_NO_OBJECTS) | (conflicts ? 0 : VL_LOOKUP_NO_CONFLICTS);
	return r;
}

static bool same_dir_state(const struct vl_inode *dir, const struct stat *st)
{
	return dir->dknown && dir->dmtim.tv_sec == st->st_mtim.tv_sec &&
	       dir->dmtim.tv_nsec == st->st_mtim.tv_nsec && dir->dsize == st->st_size;
}

/* The VL_LOOKUP_* flags for a lookup in dir: one fstat, and a scan when the backing
 * directory changed since we last knew it. 0 (the full lookup) on any error. */
static unsigned dir_flags(struct vl_inode *dir, bool *rescanned)
{
	unsigned flags = 0;
	bool known;
	struct stat st;

	if (rescanned)
		*rescanned = false;
	if (fstatat(dir->fd, "", &st, AT_EMPTY_PATH) < 0)
		return 0;
	pthread_mutex_lock(&dir->dlock);
	known = same_dir_state(dir, &st);
	if (known)
		flags = dir->dflags;
	pthread_mutex_unlock(&dir->dlock);
	if (known)
		return flags;
	/* The mtime was taken before the scan: a change made meanwhile moves it again, and
	 * the next lookup scans again. */
	if (rescanned)
		*rescanned = true;
	if (scan_dir_flags(dir->fd, &flags) < 0)
		return 0;
	pthread_mutex_lock(&dir->dlock);
	dir->dknown = true;
	dir->dflags = flags;
	dir->dmtim = st.st_mtim;
	dir->dsize = st.st_size;
	pthread_mutex_unlock(&dir->dlock);
	return flags;
}

/* After a change of our own in dir: keeps what is known (minus VL_LOOKUP_NO_OBJECTS when
 * the change added an object or long name) valid for the directory's new mtime. */
static void dir_changed(struct vl_inode *dir, bool added_object)
{
	struct stat st;
	bool ok = fstatat(dir->fd, "", &st, AT_EMPTY_PATH) == 0;

	pthread_mutex_lock(&dir->dlock);
	if (dir->dknown) {
		dir->dknown = ok;
		dir->dmtim = st.st_mtim;
		dir->dsize = st.st_size;
		if (added_object)
			dir->dflags &= ~VL_LOOKUP_NO_OBJECTS;
	}
	pthread_mutex_unlock(&dir->dlock);
}

static bool ename_is_object(const struct vl_ename *e)
{
	return e->kind == VL_KIND_OBJECT || e->is_long;
}

#define VL_LOOKUP_NOTHING_ELSE (VL_LOOKUP_NO_OBJECTS | VL_LOOKUP_NO_CONFLICTS)

/* vl_dir_lookup in directory inode dir, with what dir_flags knows. The plain kind's name
 * first, which finds most existing entries without the fstat of dir_flags. */
static int dir_lookup_di(struct vl_fs *fs, struct vl_inode *dir, struct vl_dirinfo *di,
			 const char *name, size_t len, struct vl_ename *e, struct stat *st)
{
	uint8_t old[VL_DIRID_LEN];
	bool rescanned, changed;
	unsigned flags;
	int r;

	vl_inode_dirinfo(dir, di);
	r = vl_dir_lookup(fs->vault, dir->fd, di, name, len, e, st, VL_LOOKUP_NOTHING_ELSE);
	if (r != -ENOENT)
		return r;
	flags = dir_flags(dir, &rescanned);
	if (di->nalt)
		flags &= ~VL_LOOKUP_NO_CONFLICTS; /* names under the directory's other IDs */
	if (vl_conflict_is_fallback(name, len))
		flags &= ~VL_LOOKUP_NO_CONFLICTS; /* "(name lost) {conflict H}" is no copy */
	r = -ENOENT; /* *e holds the plain kind's names */
	if (flags != VL_LOOKUP_NOTHING_ELSE)
		r = vl_dir_lookup(fs->vault, dir->fd, di, name, len, e, st, flags);
	/* A miss in a directory that someone else changed: its veilfs.dirid may have been
	 * deleted or replaced by a sync client (fs/watch.c follows it too, but a lookup must
	 * not wait for that). */
	if (r == -ENOENT && rescanned && vl_watch_refresh_dirid(fs, dir, &changed, old) == 0 &&
	    changed) {
		vl_inode_dirinfo(dir, di);
		r = vl_dir_lookup(fs->vault, dir->fd, di, name, len, e, st, 0);
	}
	/* Format 2: names may be under IDs that only other names prove (FORMAT.md §5.4 step
	 * 3). Asked once per change of the directory by someone else (dir_flags' scan): our
	 * own creations keep the directory known, so a run of creates costs no listing. */
	if (r == -ENOENT && rescanned && vl_dir_prove_ids(fs->vault, dir->fd, di) > 0) {
		/* A listing may have set more meanwhile: keep the larger set. */
		struct vl_dirinfo *cur = malloc(sizeof(*cur));

		if (cur) {
			vl_inode_dirinfo(dir, cur);
			/* On ENOMEM the inode keeps the old set; this lookup still uses di. */
			if (cur->nalt < di->nalt && !memcmp(cur->id, di->id, VL_DIRID_LEN) &&
			    vl_inode_set_dirinfo(dir, di) < 0)
				vl_log_bad_entry(dir->fd, ".", "out of memory keeping proven IDs");
			free(cur);
		}
		r = vl_dir_lookup(fs->vault, dir->fd, di, name, len, e, st, 0);
	}
	return r;
}

/* The same when the caller does not need the directory's info. */
int vl_op_dir_lookup(struct vl_fs *fs, struct vl_inode *dir, const char *name, size_t len,
		      struct vl_ename *e, struct stat *st)
{
	struct vl_dirinfo *di = malloc(sizeof(*di));
	int r;

	if (!di)
		return -ENOMEM;
	r = dir_lookup_di(fs, dir, di, name, len, e, st);
	free(di);
	return r;
}

/* Format 2: the binding of file entry e of directory dir (info di), for the inode. NULL for
 * format 1 (and *r 0), or on error (*r). */
static struct vl_binding *make_binding(struct vl_fs *fs, const struct vl_dirinfo *di,
				       const struct vl_ename *e, int *r)
{
	struct vl_binding *b;

	*r = 0;
	if (vl_vault_format(fs->vault) < VL_FORMAT_V2)
		return NULL;
	b = malloc(sizeof(*b));
	if (!b) {
		*r = -ENOMEM;
		return NULL;
	}
	*r = vl_ename_binding(fs->vault, di, e, b);
	if (*r < 0) {
		free(b);
		return NULL;
	}
	return b;
}

/* Fills a fresh inode's immutable state from its entry. parent gives the ID for
 * re-deriving a missing veilfs.dirid. */
static int inode_init(struct vl_fs *fs, struct vl_inode *parent, const struct vl_ename *e,
		      struct vl_inode *in, const struct stat *st)
{
	struct vl_object *obj = NULL;
	struct vl_dirinfo *pdi = NULL, *ci = NULL;
	int fd = -1, r = -ENOMEM;

	pdi = malloc(sizeof(*pdi));
	if (!pdi)
		goto out;
	vl_inode_dirinfo(parent, pdi);
	in->is_long = e->is_long;
	r = -EIO;
	if (e->kind == VL_KIND_PLAIN) {
		if (S_ISDIR(st->st_mode)) {
			in->type = S_IFDIR;
			r = -ENOMEM;
			ci = malloc(sizeof(*ci));
			if (!ci)
				goto out;
			/* Its IDs and place, as found under the name (a name under another ID of
			 * the parent is placed under that ID). */
			r = vl_dir_child_info(fs->vault, in->fd, pdi, e, ci);
			if (r == 0)
				r = vl_inode_set_dirinfo(in, ci);
		} else if (S_ISREG(st->st_mode)) {
			in->type = S_IFREG;
			in->bind = make_binding(fs, pdi, e, &r);
			vl_state_note(in, st);
		} else {
			vl_log_bad_entry(parent->fd, e->disk, "not a regular file or directory");
		}
		goto out;
	}
	/* An object file: a symlink or special file stored as a regular file. */
	if (!S_ISREG(st->st_mode)) {
		vl_log_bad_entry(parent->fd, e->disk, "object entry is not a regular file");
		goto out;
	}
	obj = malloc(sizeof(*obj));
	if (!obj) {
		r = -ENOMEM;
		goto out;
	}
	in->bind = make_binding(fs, pdi, e, &r);
	if (r < 0)
		goto out;
	fd = reopen_noatime(in);
	if (fd < 0) {
		r = fd;
		goto out;
	}
	r = vl_object_read(fs->vault, fd, in->bind, obj);
	if (r < 0)
		goto out;
	switch (obj->type) {
	case S_IFLNK:
	case S_IFIFO:
	case S_IFSOCK:
	case S_IFCHR:
	case S_IFBLK:
		in->type = obj->type;
		in->rdev = obj->rdev;
		in->is_object = true;
		vl_state_note(in, st);
		break;
	default:
		r = -EIO;
		break;
	}
out:
	if (fd >= 0)
		close(fd);
	free(obj);
	free(pdi);
	free(ci);
	return r;
}

/* in (found in the table with one more lookup, attributes st) was changed by someone else
 * since our own last change: the kernel's inode of it holds a stale size (the writeback
 * cache never takes one from us again), so take it out of the table (the kernel's
 * references keep it alive; fs/watch.c) and drop the lookup: the caller makes a new inode,
 * a new nodeid. True when it did. */
static bool retire_if_stale(struct vl_fs *fs, struct vl_inode *in, const struct stat *st)
{
	if (!vl_state_stale(in, st))
		return false;
	vl_itable_retire(fs->table, in);
	vl_itable_forget(fs->table, in, 1);
	return true;
}

/* A directory inode already in the table found again as entry e of parent: when it is at
 * another place than its info says (renamed by someone else), its IDs are read again for
 * that place. A failure keeps what the inode had (logged). Files need nothing: their
 * binding changes only through the mount's own renames. */
static void note_parent(struct vl_fs *fs, struct vl_inode *parent, const struct vl_ename *e,
			struct vl_inode *in)
{
	struct vl_dirinfo *pdi = NULL, *ci = NULL;
	uint8_t pid[VL_DIRID_LEN];
	size_t bl = vl_ename_base_len(e);
	bool same;
	int r;

	if (e->is_alt)
		memcpy(pid, e->altid, VL_DIRID_LEN);
	else
		vl_inode_dirid(parent, pid);
	pthread_mutex_lock(&in->idlock);
	same = in->di && !memcmp(in->di->place.parent, pid, VL_DIRID_LEN) && in->di->disklen == bl &&
	       !memcmp(in->di->disk, e->disk, bl);
	pthread_mutex_unlock(&in->idlock);
	if (same)
		return;
	pdi = malloc(sizeof(*pdi));
	ci = malloc(sizeof(*ci));
	r = -ENOMEM;
	if (pdi && ci) {
		vl_inode_dirinfo(parent, pdi);
		r = vl_dir_child_info(fs->vault, in->fd, pdi, e, ci);
		if (r == 0)
			r = vl_inode_set_dirinfo(in, ci);
	}
	if (r < 0)
		vl_log(VL_LOG_WARN, "a directory found at another place keeps its old IDs: %s",
		       strerror(-r));
	free(pdi);
	free(ci);
}

/* Looks up the entry e of parent: one more lookup on the inode, attributes in ep. */
int vl_op_lookup_ename(struct vl_fs *fs, struct vl_inode *parent, const struct vl_ename *e,
			struct fuse_entry_param *ep)
{
	return vl_op_lookup_ename_st(fs, parent, e, NULL, ep);
}

/* The same, given the entry's attributes (fstatat of e->disk) when the caller has them: an
 * inode already in the table then costs no system call (a new one is opened, and its
 * attributes are taken again from the opened fd, which is what identifies it). */
int vl_op_lookup_ename_st(struct vl_fs *fs, struct vl_inode *parent, const struct vl_ename *e,
			   const struct stat *known, struct fuse_entry_param *ep)
{
	struct vl_inode *in = NULL;
	struct stat st;
	int fd, r;

	memset(ep, 0, sizeof(*ep));
	if (known) {
		in = vl_itable_get(fs->table, known->st_dev, known->st_ino);
		if (in && !retire_if_stale(fs, in, known)) {
			st = *known;
			goto found;
		}
	}
	fd = openat(parent->fd, e->disk, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstatat(fd, "", &st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	in = vl_itable_get(fs->table, st.st_dev, st.st_ino);
	if (in && retire_if_stale(fs, in, &st))
		in = NULL;
	if (in) {
		close(fd);
	} else {
		in = vl_inode_new(fd, st.st_dev, st.st_ino);
		if (!in) {
			close(fd);
			return -ENOMEM;
		}
		r = inode_init(fs, parent, e, in, &st);
		if (r < 0) {
			vl_inode_free(in);
			return r;
		}
		in = vl_itable_insert(fs->table, in);
	}
found:
	if (in->type == S_IFDIR) {
		note_parent(fs, parent, e, in);
		vl_watch_dir(fs->watch, in);
	}
	fix_stat(fs, in, &st);
	ep->attr = st;
	ep->ino = nodeid_of(fs, in);
	ep->attr_timeout = tmo(fs);
	ep->entry_timeout = tmo(fs);
	return 0;
}

static int lookup_name(struct vl_fs *fs, struct vl_inode *parent, const char *name,
		       struct fuse_entry_param *ep)
{
	struct vl_ename e;
	struct stat st;
	size_t len;
	int r;

	r = check_name(name, &len);
	if (r < 0)
		return r;
	r = vl_op_dir_lookup(fs, parent, name, len, &e, &st);
	if (r < 0)
		return r;
	return vl_op_lookup_ename_st(fs, parent, &e, &st, ep);
}

/* Writes a long name's sidecar (no-op for short names). vl_write_atomic fsyncs the
 * directory, which an O_PATH fd cannot do: it gets a real fd of the directory. */
static int put_sidecar(const struct vl_inode *dir, const struct vl_ename *e)
{
	int dfd, r;

	if (!e->is_long)
		return 0;
	dfd = vl_dir_open(dir->fd, ".");
	if (dfd < 0)
		return dfd;
	r = vl_dir_put_sidecar(dfd, e);
	close(dfd);
	return r;
}

/* Removes a long name's sidecar once its entry is gone; a failure leaves a stray sidecar,
 * which listings ignore and fsck reports. */
static void drop_sidecar(int dirfd, const struct vl_ename *e)
{
	int r = vl_dir_drop_sidecar(dirfd, e);

	if (r < 0)
		vl_log(VL_LOG_WARN, "could not remove a long-name sidecar: %s", strerror(-r));
}

/* Undoes the lookup that a reply could not deliver. */
void vl_op_unlookup(struct vl_fs *fs, fuse_ino_t ino)
{
	struct vl_inode *in = (struct vl_inode *)(uintptr_t)ino;

	if (ino != FUSE_ROOT_ID && ino != 0)
		vl_itable_forget(fs->table, in, 1);
}

static void reply_entry(fuse_req_t req, int r, const struct fuse_entry_param *ep)
{
	if (r < 0)
		fuse_reply_err(req, -r);
	else if (fuse_reply_entry(req, ep) != 0)
		vl_op_unlookup(fsof(req), ep->ino); /* the request was interrupted */
}

/* Computes e for a new name of kind; -EEXIST when the name exists in any kind (a
 * plaintext name is unique in its directory whatever its marker). di receives the parent's
 * info the names were made with. */
static int name_free(struct vl_fs *fs, struct vl_inode *parent, const char *name, enum vl_kind kind,
		     struct vl_dirinfo *di, struct vl_ename *e)
{
	struct vl_ename other;
	unsigned flags;
	struct stat st;
	size_t len;
	int r;

	r = check_change(fs, name, &len);
	if (r < 0)
		return r;
	/* A plain-kind name is made with O_EXCL (mkdirat, linkat): that finds an entry of
	 * the same name and kind, so in a directory holding no object name, no conflict copy
	 * and no other ID there is nothing else to look for. */
	flags = dir_flags(parent, NULL);
	vl_inode_dirinfo(parent, di);
	if (di->nalt)
		flags &= ~VL_LOOKUP_NO_CONFLICTS;
	if (kind == VL_KIND_PLAIN && flags == VL_LOOKUP_NOTHING_ELSE)
		return vl_ename_make(fs->vault, di, name, len, kind, e);
	r = vl_dir_lookup(fs->vault, parent->fd, di, name, len, &other, &st, flags);
	if (r == 0)
		return -EEXIST;
	if (r != -ENOENT)
		return r;
	return vl_ename_make(fs->vault, di, name, len, kind, e);
}

/* When the daemon runs as root for other users (allow_other), gives a new entry to the
 * caller, as the kernel would have. The group stays the backing default (the parent's,
 * under a set-group-ID parent). chown clears set-ID bits, so they are put back. */
static int give_to_caller(struct vl_fs *fs, fuse_req_t req, const struct vl_inode *parent,
			  int dirfd, const char *disk, mode_t mode)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	struct stat pst;
	gid_t gid;
	char p[32];
	int fd, r = 0;

	if (!fs->is_root || (ctx->uid == 0 && ctx->gid == 0))
		return 0;
	if (fstatat(parent->fd, "", &pst, AT_EMPTY_PATH) < 0)
		return -errno;
	gid = (pst.st_mode & S_ISGID) ? (gid_t)-1 : ctx->gid;
	fd = openat(dirfd, disk, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fchownat(fd, "", ctx->uid, gid, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0)
		r = -errno;
	if (r == 0 && (mode & 07000)) {
		vl_op_proc_path(p, fd);
		if (chmod(p, mode & 07777) < 0)
			r = -errno;
	}
	close(fd);
	return r;
}

/* ---- lifecycle ---- */

static void op_init(void *userdata, struct fuse_conn_info *conn)
{
	struct vl_fs *fs = userdata;

	if (conn->capable & FUSE_CAP_ASYNC_READ)
		conn->want |= FUSE_CAP_ASYNC_READ;
	if (!fs->sharedstorage && !fs->readonly && (conn->capable & FUSE_CAP_WRITEBACK_CACHE))
		conn->want |= FUSE_CAP_WRITEBACK_CACHE;
	if (conn->capable & FUSE_CAP_READDIRPLUS)
		conn->want |= FUSE_CAP_READDIRPLUS | FUSE_CAP_READDIRPLUS_AUTO;
	if (conn->capable & FUSE_CAP_PARALLEL_DIROPS)
		conn->want |= FUSE_CAP_PARALLEL_DIROPS;
	/* The kernel clears set-ID bits on write and chown itself (a setattr to us). */
	conn->want &= ~FUSE_CAP_HANDLE_KILLPRIV;
	/* No locks here: the kernel keeps flock and POSIX locks locally (see veilfs(1)). */
	conn->want &= ~(FUSE_CAP_POSIX_LOCKS | FUSE_CAP_FLOCK_LOCKS);
	/* Splicing buys nothing: every byte is encrypted or decrypted in our buffers. */
	conn->want &= ~(FUSE_CAP_SPLICE_READ | FUSE_CAP_SPLICE_WRITE | FUSE_CAP_SPLICE_MOVE);
	/* 1 MiB requests; libfuse 3.14 derives max_pages from max_write (and caps max_write to
	 * its 1 MiB receive buffer). */
	conn->max_write = 1u << 20;
	conn->max_readahead = 1u << 20;
	fs->writeback = (conn->want & FUSE_CAP_WRITEBACK_CACHE) != 0;
}

static void op_destroy(void *userdata)
{
	(void)userdata; /* everything is freed by vl_fs_free after the loop */
}

/* ---- names ---- */

static void op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct vl_fs *fs = vl_op_enter(req);
	struct fuse_entry_param ep;
	int r = lookup_name(fs, vl_op_inode_of(req, parent), name, &ep);

	reply_entry(req, r, &ep);
}

static void op_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	struct vl_fs *fs = vl_op_enter(req);

	if (ino != FUSE_ROOT_ID)
		vl_itable_forget(fs->table, vl_op_inode_of(req, ino), nlookup);
	fuse_reply_none(req);
}

static void op_forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data *forgets)
{
	struct vl_fs *fs = vl_op_enter(req);

	for (size_t i = 0; i < count; i++)
		if (forgets[i].ino != FUSE_ROOT_ID)
			vl_itable_forget(fs->table, vl_op_inode_of(req, forgets[i].ino),
					 forgets[i].nlookup);
	fuse_reply_none(req);
}

static void op_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct vl_fs *fs = vl_op_enter(req);
	struct stat st;
	int r = inode_stat(fs, vl_op_inode_of(req, ino), &st);

	if (r < 0)
		fuse_reply_err(req, -r);
	else
		fuse_reply_attr(req, &st, tmo(fs));
}

/* After a change of our own to in's backing file (open as fd): records the state it left
 * (fs/watch.c tells ours from a sync client's by it). Caller holds in->lock for writing. */
void vl_op_note_own(struct vl_inode *in, int fd)
{
	struct stat st;

	if (fstat(fd, &st) == 0)
		vl_state_note(in, &st);
	else
		in->sknown = false;
}

/* Before a change of our own through fd: -EIO (logged once) when someone else changed the
 * file since our last change: a write now would land at an offset computed from a size
 * that is no longer true, over the other program's version. (A change that lands between
 * this check and note_own after our write is taken for ours: a true write-write race.)
 * Caller holds in->lock for writing. */
static int check_own(struct vl_inode *in, int fd)
{
	static atomic_bool logged;
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (!vl_state_changed(in, &st))
		return 0;
	if (!atomic_exchange(&logged, true))
		vl_log(VL_LOG_WARN, "a write to a file that another program (a sync client) "
				    "changed since it was opened was refused (EIO): reopen it");
	return -EIO;
}

/* Truncates a regular file to size under its lock, with the handle's fd or a fresh one. */
static int truncate_inode(struct vl_fs *fs, struct vl_inode *in, int hfd, uint64_t size)
{
	struct vl_content *tmp = NULL, *c;
	int fd = hfd, r;

	if (in->type == S_IFDIR)
		return -EISDIR;
	if (in->type != S_IFREG)
		return -EINVAL;
	if (fd < 0) {
		fd = vl_op_reopen(in, O_RDWR);
		if (fd < 0)
			return fd;
	}
	pthread_rwlock_wrlock(&in->lock);
	c = in->content;
	if (!c) {
		r = vl_content_new(&tmp, fs->vault, VL_STREAM_CONTENT, in->bind);
		if (r < 0)
			goto out;
		c = tmp;
	}
	r = vl_content_truncate(c, fd, size);
	vl_op_note_own(in, fd);
out:
	pthread_rwlock_unlock(&in->lock);
	vl_content_free(tmp);
	if (fd != hfd)
		close(fd);
	return r;
}

/* fchmodat2(2) (Linux 6.6): chmod of an O_PATH fd with AT_EMPTY_PATH, without resolving a
 * /proc/self/fd path (a walk through procfs per call: tar sets modes on every file). */
#if !defined(SYS_fchmodat2) && defined(__linux__) && !defined(__alpha__)
#define SYS_fchmodat2 452
#endif

/* Modes and times of in without an open file: by its O_PATH fd where the kernel allows
 * (utimensat with AT_EMPTY_PATH, fchmodat2), else through the /proc magic link. */
static int inode_chmod(const struct vl_inode *in, mode_t mode)
{
	static atomic_bool no_fchmodat2;
	char p[32];

#ifdef SYS_fchmodat2
	if (!atomic_load_explicit(&no_fchmodat2, memory_order_relaxed)) {
		if (syscall(SYS_fchmodat2, in->fd, "", mode, AT_EMPTY_PATH) == 0)
			return 0;
		if (errno == ENOSYS)
			atomic_store_explicit(&no_fchmodat2, true, memory_order_relaxed);
		else if (errno != EINVAL && errno != ENOENT && errno != EOPNOTSUPP)
			return -errno;
	}
#else
	(void)no_fchmodat2;
#endif
	vl_op_proc_path(p, in->fd);
	return chmod(p, mode) < 0 ? -errno : 0;
}

static int inode_utimens(const struct vl_inode *in, const struct timespec tv[2])
{
	static atomic_bool no_empty_path;
	char p[32];

	if (!atomic_load_explicit(&no_empty_path, memory_order_relaxed)) {
		if (utimensat(in->fd, "", tv, AT_EMPTY_PATH) == 0)
			return 0;
		/* Kernels before AT_EMPTY_PATH support here: EINVAL (the flag) or ENOENT. */
		if (errno != EINVAL && errno != ENOENT)
			return -errno;
		atomic_store_explicit(&no_empty_path, true, memory_order_relaxed);
	}
	vl_op_proc_path(p, in->fd);
	return utimensat(AT_FDCWD, p, tv, 0) < 0 ? -errno : 0;
}

static int do_setattr(struct vl_fs *fs, struct vl_inode *in, const struct stat *attr, int valid,
		      const struct vl_fh *h)
{
	int r;

	if (fs->readonly)
		return -EROFS;
	if (valid & FUSE_SET_ATTR_MODE) {
		r = h ? (fchmod(h->fd, attr->st_mode & 07777) < 0 ? -errno : 0) :
			inode_chmod(in, attr->st_mode & 07777);
		if (r < 0)
			return r;
	}
	if (valid & (FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID)) {
		uid_t uid = (valid & FUSE_SET_ATTR_UID) ? attr->st_uid : (uid_t)-1;
		gid_t gid = (valid & FUSE_SET_ATTR_GID) ? attr->st_gid : (gid_t)-1;

		if (fchownat(in->fd, "", uid, gid, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0)
			return -errno;
	}
	if (valid & FUSE_SET_ATTR_SIZE) {
		if (attr->st_size < 0)
			return -EINVAL;
		r = truncate_inode(fs, in, h ? h->fd : -1, (uint64_t)attr->st_size);
		if (r < 0)
			return r;
	}
	if (valid & (FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_MTIME)) {
		struct timespec tv[2] = { { .tv_nsec = UTIME_OMIT }, { .tv_nsec = UTIME_OMIT } };

		if (valid & FUSE_SET_ATTR_ATIME_NOW)
			tv[0].tv_nsec = UTIME_NOW;
		else if (valid & FUSE_SET_ATTR_ATIME)
			tv[0] = attr->st_atim;
		if (valid & FUSE_SET_ATTR_MTIME_NOW)
			tv[1].tv_nsec = UTIME_NOW;
		else if (valid & FUSE_SET_ATTR_MTIME)
			tv[1] = attr->st_mtim;
		/* Under the lock, with the new mtime recorded as ours (fs/watch.c). */
		if (in->type != S_IFDIR)
			pthread_rwlock_wrlock(&in->lock);
		r = h ? (futimens(h->fd, tv) < 0 ? -errno : 0) : inode_utimens(in, tv);
		if (in->type != S_IFDIR) {
			struct stat st;

			if (r == 0 && fstatat(in->fd, "", &st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) == 0)
				vl_state_note(in, &st);
			pthread_rwlock_unlock(&in->lock);
		}
		if (r < 0)
			return r;
	}
	return 0;
}

static void op_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int valid,
		       struct fuse_file_info *fi)
{
	struct vl_fs *fs = vl_op_enter(req);
	struct vl_inode *in = vl_op_inode_of(req, ino);
	const struct vl_fh *h = fi && in->type == S_IFREG ? (struct vl_fh *)(uintptr_t)fi->fh : NULL;
	struct stat st;
	int r = do_setattr(fs, in, attr, valid, h);

	if (r == 0)
		r = inode_stat(fs, in, &st);
	if (r < 0)
		fuse_reply_err(req, -r);
	else
		fuse_reply_attr(req, &st, tmo(fs));
}

static void op_readlink(fuse_req_t req, fuse_ino_t ino)
{
	struct vl_fs *fs = vl_op_enter(req);
	struct vl_inode *in = vl_op_inode_of(req, ino);
	struct vl_object *obj = NULL;
	int fd = -1, r = -EINVAL;

	if (in->type != S_IFLNK)
		goto out;
	r = -ENOMEM;
	obj = malloc(sizeof(*obj));
	if (!obj)
		goto out;
	fd = reopen_noatime(in);
	if (fd < 0) {
		r = fd;
		goto out;
	}
	r = vl_object_read(fs->vault, fd, in->bind, obj);
	if (r == 0 && obj->type != S_IFLNK)
		r = -EIO;
out:
	if (fd >= 0)
		close(fd);
	if (r < 0)
		fuse_reply_err(req, -r);
	else
		fuse_reply_readlink(req, obj->target);
	free(obj);
}

static int do_mkdir(fuse_req_t req, struct vl_fs *fs, struct vl_inode *parent, const char *name,
		    mode_t mode, struct fuse_entry_param *ep)
{
	struct vl_dirinfo pdi, ndi;
	struct vl_ename e;
	int dfd, r;

	r = name_free(fs, parent, name, VL_KIND_PLAIN, &pdi, &e);
	if (r < 0)
		return r;
	/* A long name's sidecar is written atomically: that needs a real directory fd. */
	dfd = e.is_long ? vl_dir_open(parent->fd, ".") : parent->fd;
	if (dfd < 0)
		return dfd;
	vl_watch_expect(fs->watch, parent, IN_CREATE, e.disk);
	r = vl_dir_make(fs->vault, dfd, &pdi, &e, mode & 07777, &ndi);
	if (dfd != parent->fd)
		close(dfd);
	if (r < 0) {
		vl_watch_unexpect(fs->watch, parent, IN_CREATE, e.disk);
		return r;
	}
	dir_changed(parent, ename_is_object(&e));
	r = give_to_caller(fs, req, parent, parent->fd, e.disk, mode);
	if (r < 0)
		vl_log(VL_LOG_WARN, "mkdir: cannot give the new directory to its caller: %s",
		       strerror(-r));
	return vl_op_lookup_ename(fs, parent, &e, ep);
}

static void op_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
	struct vl_fs *fs = vl_op_enter(req);
	struct fuse_entry_param ep;
	int r = do_mkdir(req, fs, vl_op_inode_of(req, parent), name, mode, &ep);

	reply_entry(req, r, &ep);
}

/* Creates an object file (symlink or special file) for o under name. */
static int make_object(fuse_req_t req, struct vl_fs *fs, struct vl_inode *parent, const char *name,
		       const struct vl_object *o, mode_t perm, struct fuse_entry_param *ep)
{
	struct vl_binding *b = NULL;
	struct vl_dirinfo pdi;
	struct vl_ename e;
	bool made = false;
	int fd = -1, r;

	r = name_free(fs, parent, name, VL_KIND_OBJECT, &pdi, &e);
	if (r < 0)
		return r;
	b = make_binding(fs, &pdi, &e, &r);
	if (r < 0)
		return r;
	r = put_sidecar(parent, &e);
	if (r < 0)
		goto out;
	vl_watch_expect(fs->watch, parent, IN_CREATE, e.disk);
	fd = openat(parent->fd, e.disk, O_CREAT | O_EXCL | O_RDWR | O_NOFOLLOW | O_CLOEXEC, perm);
	if (fd < 0) {
		r = -errno;
		vl_watch_unexpect(fs->watch, parent, IN_CREATE, e.disk);
		if (r != -EEXIST)
			drop_sidecar(parent->fd, &e);
		goto out;
	}
	made = true;
	dir_changed(parent, true);
	r = vl_object_write(fs->vault, fd, b, o);
	if (r < 0)
		goto out;
	r = give_to_caller(fs, req, parent, parent->fd, e.disk, perm);
	if (r < 0)
		goto out;
	close(fd);
	fd = -1;
	r = vl_op_lookup_ename(fs, parent, &e, ep);
	if (r == 0)
		made = false;
out:
	if (fd >= 0)
		close(fd);
	if (made) {
		vl_watch_expect(fs->watch, parent, IN_DELETE, e.disk);
		if (unlinkat(parent->fd, e.disk, 0) < 0)
			vl_watch_unexpect(fs->watch, parent, IN_DELETE, e.disk);
		drop_sidecar(parent->fd, &e);
	}
	free(b);
	return r;
}

static void op_symlink(fuse_req_t req, const char *link, fuse_ino_t parent, const char *name)
{
	struct vl_fs *fs = vl_op_enter(req);
	struct fuse_entry_param ep;
	struct vl_object *o = calloc(1, sizeof(*o));
	size_t tlen = strlen(link);
	int r = -ENOMEM;

	if (!o)
		goto out;
	r = -ENAMETOOLONG;
	if (tlen > VL_SYMLINK_MAX)
		goto out;
	r = -ENOENT;
	if (tlen == 0)
		goto out;
	o->type = S_IFLNK;
	o->tlen = tlen;
	memcpy(o->target, link, tlen + 1);
	/* The backing mode of a symlink object is never shown (symlinks show 0777). */
	r = make_object(req, fs, vl_op_inode_of(req, parent), name, o, 0600, &ep);
out:
	free(o);
	reply_entry(req, r, &ep);
}

/* Creates the regular file name and opens it O_RDWR: returns the fd and e. */
static int create_file(fuse_req_t req, struct vl_fs *fs, struct vl_inode *parent, const char *name,
		       mode_t mode, struct vl_ename *e)
{
	struct vl_dirinfo pdi;
	int fd, r;

	r = name_free(fs, parent, name, VL_KIND_PLAIN, &pdi, e);
	if (r < 0)
		return r;
	r = put_sidecar(parent, e);
	if (r < 0)
		return r;
	vl_watch_expect(fs->watch, parent, IN_CREATE, e->disk);
	/* Format 2 writes the header and the empty block at once (FORMAT.md §3.2). */
	fd = vl_file_create(fs->vault, parent->fd, &pdi, e, mode & 07777);
	if (fd < 0) {
		r = fd;
		vl_watch_unexpect(fs->watch, parent, IN_CREATE, e->disk);
		if (r != -EEXIST)
			drop_sidecar(parent->fd, e);
		return r;
	}
	dir_changed(parent, ename_is_object(e));
	r = give_to_caller(fs, req, parent, parent->fd, e->disk, mode);
	if (r < 0) {
		close(fd);
		vl_watch_expect(fs->watch, parent, IN_DELETE, e->disk);
		if (unlinkat(parent->fd, e->disk, 0) < 0)
			vl_watch_unexpect(fs->watch, parent, IN_DELETE, e->disk);
		drop_sidecar(parent->fd, e);
		return r;
	}
	return fd;
}

static void op_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, dev_t rdev)
{
	struct vl_fs *fs = vl_op_enter(req);
	struct vl_inode *dir = vl_op_inode_of(req, parent);
	struct fuse_entry_param ep;
	struct vl_object *o = NULL;
	struct vl_ename e;
	int r;

	switch (mode & S_IFMT) {
	case S_IFREG:
		r = create_file(req, fs, dir, name, mode, &e);
		if (r >= 0) {
			close(r);
			r = vl_op_lookup_ename(fs, dir, &e, &ep);
		}
		break;
	case S_IFIFO:
	case S_IFSOCK:
	case S_IFCHR:
	case S_IFBLK:
		r = -ENOMEM;
		o = calloc(1, sizeof(*o));
		if (!o)
			break;
		o->type = mode & S_IFMT;
		o->rdev = (S_ISCHR(mode) || S_ISBLK(mode)) ? rdev : 0;
		r = make_object(req, fs, dir, name, o, mode & 07777, &ep);
		break;
	default:
		r = -EINVAL;
		break;
	}
	free(o);
	reply_entry(req, r, &ep);
}

/* The directory inode of sst, if the kernel knows it, with its own ID-file writes announced
 * (fs/watch.c leaves them alone); release_dir_idwrites ends that. */
static struct vl_inode *hold_dir_idwrites(struct vl_fs *fs, const struct stat *sst)
{
	struct vl_inode *in = vl_itable_get(fs->table, sst->st_dev, sst->st_ino);

	if (in)
		atomic_fetch_add(&in->idwrites, 1);
	return in;
}

static void release_dir_idwrites(struct vl_fs *fs, struct vl_inode *in)
{
	if (!in)
		return;
	atomic_fetch_sub(&in->idwrites, 1);
	vl_itable_forget(fs->table, in, 1);
}

/* Removes the ID files of the plaintext-empty directory dfd (veilfs.dirid, and in format 2
 * the copies of it, which hold no data of their own: the names under their IDs would be in
 * the directory), keeping their contents in saved (for restore_dirid). -ENOTEMPTY if
 * anything else is in it: foreign files (a sync client's .DS_Store, desktop.ini, conflict
 * copies we cannot read), stray sidecars and (format 1) copies of veilfs.dirid count,
 * because removing what we cannot show could lose someone's data. */
#define VL_SAVED_MAX 8
struct vl_saved_dirid {
	unsigned n;
	struct {
		char name[VL_CONFLICT_NAME_MAX + 1];
		uint8_t buf[VL_IDFILE_MAX];
		ssize_t len;
		mode_t mode;
	} f[VL_SAVED_MAX];
};

static bool is_idfile_name(const char *name, bool copies)
{
	bool conf;

	return !strcmp(name, VL_DIRID_FILE) ||
	       (copies && vl_conflict_is_reserved_copy(name, strlen(name), &conf) && !conf);
}

static int take_dirid(struct vl_fs *fs, int dfd, struct vl_saved_dirid *s)
{
	bool copies = vl_vault_format(fs->vault) >= VL_FORMAT_V2;
	struct dirent *d;
	struct stat st;
	DIR *dir;
	int r = 0;

	s->n = 0;
	r = vl_dir_stream(dfd, &dir);
	if (r < 0)
		return r;
	errno = 0;
	while ((d = readdir(dir))) {
		if (!strcmp(d->d_name, ".") || !strcmp(d->d_name, ".."))
			continue;
		if (is_idfile_name(d->d_name, copies) && s->n < VL_SAVED_MAX &&
		    strlen(d->d_name) <= VL_CONFLICT_NAME_MAX) {
			strcpy(s->f[s->n++].name, d->d_name);
			continue;
		}
		r = -ENOTEMPTY;
		break;
	}
	if (r == 0 && errno)
		r = -errno;
	closedir(dir);
	if (r < 0) {
		s->n = 0;
		return r;
	}
	for (unsigned i = 0; i < s->n; i++) {
		s->f[i].len = vl_read_small(dfd, s->f[i].name, s->f[i].buf, sizeof(s->f[i].buf));
		if (s->f[i].len < 0 && s->f[i].len != -ENOENT)
			vl_log(VL_LOG_WARN, "rmdir: unreadable %s (%s): removing it anyway",
			       s->f[i].name, strerror((int)-s->f[i].len));
		s->f[i].mode = fstatat(dfd, s->f[i].name, &st, AT_SYMLINK_NOFOLLOW) == 0 ?
				       st.st_mode & 07777 :
				       0444;
		if (unlinkat(dfd, s->f[i].name, 0) < 0 && errno != ENOENT) {
			r = -errno;
			s->f[i].len = -1;
			s->n = i + 1;
			return r;
		}
	}
	return 0;
}

/* Puts back the ID files that take_dirid removed from directory pathfd (O_PATH). */
static void restore_dirid(int pathfd, const struct vl_saved_dirid *s)
{
	int dfd, r = 0;

	if (s->n == 0)
		return;
	dfd = vl_dir_open(pathfd, ".");
	if (dfd < 0)
		r = dfd;
	for (unsigned i = 0; i < s->n && dfd >= 0; i++) {
		if (s->f[i].len < 0)
			continue;
		r = vl_write_atomic(dfd, s->f[i].name, s->f[i].buf, (size_t)s->f[i].len,
				    s->f[i].mode, true);
		if (r < 0)
			break;
	}
	if (dfd >= 0)
		close(dfd);
	if (r < 0)
		vl_log(VL_LOG_ERR, "could not restore a veilfs.dirid after a failed removal: %s",
		       strerror(-r));
}

static int do_rmdir(struct vl_fs *fs, struct vl_inode *parent, const char *name)
{
	struct vl_inode *in = NULL;
	struct vl_saved_dirid saved;
	struct vl_ename e;
	struct stat st;
	size_t len;
	int dfd = -1, r;

	r = check_change(fs, name, &len);
	if (r < 0)
		return r;
	r = vl_op_dir_lookup(fs, parent, name, len, &e, &st);
	if (r < 0)
		return r;
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR;
	dfd = openat(parent->fd, e.disk, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	in = hold_dir_idwrites(fs, &st); /* its ID files go: not news for fs/watch.c */
	r = take_dirid(fs, dfd, &saved);
	if (r < 0)
		goto out;
	vl_watch_expect(fs->watch, parent, IN_DELETE, e.disk);
	if (unlinkat(parent->fd, e.disk, AT_REMOVEDIR) < 0) {
		r = -errno;
		vl_watch_unexpect(fs->watch, parent, IN_DELETE, e.disk);
		restore_dirid(dfd, &saved);
		goto out;
	}
	drop_sidecar(parent->fd, &e);
	dir_changed(parent, false);
out:
	release_dir_idwrites(fs, in);
	close(dfd);
	return r;
}

static void op_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct vl_fs *fs = vl_op_enter(req);
	int r = do_rmdir(fs, vl_op_inode_of(req, parent), name);

	fuse_reply_err(req, -r);
}

/* Marks the inode of st, if the kernel knows it, as unlinked by the mount itself. */
static void mark_gone(struct vl_fs *fs, const struct stat *st)
{
	struct vl_inode *in;

	if (S_ISDIR(st->st_mode) || st->st_nlink > 1)
		return;
	in = vl_itable_get(fs->table, st->st_dev, st->st_ino);
	if (in) {
		atomic_store(&in->gone_ours, true);
		vl_itable_forget(fs->table, in, 1);
	}
}

static int do_unlink(struct vl_fs *fs, struct vl_inode *parent, const char *name)
{
	uint8_t id[VL_DIRID_LEN];
	struct vl_ename e;
	struct stat st;
	size_t len;
	int r;

	r = check_change(fs, name, &len);
	if (r < 0)
		return r;
	/* Most entries have the plain kind's name: unlink that at once (a directory gives
	 * EISDIR), and look further (object kind, conflict copies) only when it is missing. */
	vl_inode_dirid(parent, id);
	r = vl_ename_make_id(fs->vault, id, name, len, VL_KIND_PLAIN, &e);
	if (r < 0)
		return r;
	if (fstatat(parent->fd, e.disk, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno != ENOENT)
			return -errno;
		r = vl_op_dir_lookup(fs, parent, name, len, &e, &st);
		if (r < 0)
			return r;
	}
	if (S_ISDIR(st.st_mode))
		return -EISDIR;
	/* An open of this inode through a name the kernel still caches, or /proc/PID/fd, is
	 * not stale (op_open): it was unlinked here. */
	mark_gone(fs, &st);
	vl_watch_expect(fs->watch, parent, IN_DELETE, e.disk);
	if (unlinkat(parent->fd, e.disk, 0) < 0) {
		r = -errno;
		vl_watch_unexpect(fs->watch, parent, IN_DELETE, e.disk);
		return r;
	}
	drop_sidecar(parent->fd, &e);
	dir_changed(parent, false);
	return 0;
}

static void op_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct vl_fs *fs = vl_op_enter(req);
	int r = do_unlink(fs, vl_op_inode_of(req, parent), name);

	fuse_reply_err(req, -r);
}

/* renameat2 of our own, announced to the watcher (an exchange moves both names). */
static int own_rename(struct vl_fs *fs, struct vl_inode *od, const char *from, struct vl_inode *nd,
		      const char *to, unsigned int flags)
{
	int r = 0;

	vl_watch_expect(fs->watch, od, IN_MOVED_FROM, from);
	vl_watch_expect(fs->watch, nd, IN_MOVED_TO, to);
	if (flags & RENAME_EXCHANGE) {
		vl_watch_expect(fs->watch, nd, IN_MOVED_FROM, to);
		vl_watch_expect(fs->watch, od, IN_MOVED_TO, from);
	}
	if (renameat2(od->fd, from, nd->fd, to, flags) < 0) {
		r = -errno;
		vl_watch_unexpect(fs->watch, od, IN_MOVED_FROM, from);
		vl_watch_unexpect(fs->watch, nd, IN_MOVED_TO, to);
		if (flags & RENAME_EXCHANGE) {
			vl_watch_unexpect(fs->watch, nd, IN_MOVED_FROM, to);
			vl_watch_unexpect(fs->watch, od, IN_MOVED_TO, from);
		}
	}
	return r;
}

/* RENAME_EXCHANGE of two entries of different kinds: their on-disk names carry the kind,
 * so each moves to the other's plaintext name under its own kind. Two renames: not atomic
 * (a crash in between leaves both under the first's new name ... and the second's old).
 * Format 1 only (format 2 exchanges only what needs no rewrite, do_rename). */
static int exchange_kinds(struct vl_fs *fs, struct vl_inode *od, const struct vl_dirinfo *odi,
			  const char *oname, struct vl_inode *nd, const struct vl_dirinfo *ndi,
			  const char *nname, const struct vl_ename *src, const struct vl_ename *dst)
{
	struct vl_ename a, b; /* a: src under nname; b: dst under oname */
	int r;

	r = vl_ename_make(fs->vault, ndi, nname, strlen(nname), src->kind, &a);
	if (r == 0)
		r = vl_ename_make(fs->vault, odi, oname, strlen(oname), dst->kind, &b);
	if (r == 0)
		r = put_sidecar(nd, &a);
	if (r == 0)
		r = put_sidecar(od, &b);
	if (r < 0)
		return r;
	r = own_rename(fs, od, src->disk, nd, a.disk, RENAME_NOREPLACE);
	if (r < 0)
		return r;
	r = own_rename(fs, nd, dst->disk, od, b.disk, RENAME_NOREPLACE);
	if (r < 0) {
		if (own_rename(fs, nd, a.disk, od, src->disk, RENAME_NOREPLACE) < 0)
			vl_log(VL_LOG_ERR, "rename exchange: could not undo the first rename");
		return r;
	}
	drop_sidecar(od->fd, src);
	drop_sidecar(nd->fd, dst);
	dir_changed(od, ename_is_object(&b) || (nd == od && ename_is_object(&a)));
	if (nd != od)
		dir_changed(nd, ename_is_object(&a));
	return 0;
}

/* State of a rename, on the heap (names and directory infos are large). */
struct rn {
	struct vl_dirinfo odi, ndi;
	struct vl_ename src, dst, ndst;
	struct vl_saved_dirid saved;
	struct vl_move m;
};

/* After a format-2 move of the entry with attributes sst: the inode the kernel knows of it
 * follows (a file's binding, a directory's place), or, copied, is retired. */
static void moved_inode(struct vl_fs *fs, struct rn *x, const struct stat *sst)
{
	struct vl_inode *in = vl_itable_get(fs->table, sst->st_dev, sst->st_ino);
	struct vl_dirinfo *ci;
	int cfd;

	if (!in)
		return;
	switch (x->m.kind) {
	case VL_MOVE_COPY:
		/* swap_backing moved the inode to the copy (found here under its new key). */
		break;
	case VL_MOVE_DIR:
		ci = malloc(sizeof(*ci));
		cfd = vl_dir_open(x->m.dfd, x->ndst.disk);
		if (ci && cfd >= 0 &&
		    (vl_dir_child_info(fs->vault, cfd, &x->ndi, &x->ndst, ci) < 0 ||
		     vl_inode_set_dirinfo(in, ci) < 0))
			vl_log(VL_LOG_WARN, "rename: a moved directory keeps its old place until it is "
					    "looked up again");
		if (cfd >= 0)
			close(cfd);
		free(ci);
		break;
	default:
		break;
	}
	vl_itable_forget(fs->table, in, 1);
}

/* The file inode of sst (in the table) under its exclusive lock, for a move that rewrites its
 * header: its content object follows the new binding. NULL when the kernel knows none. */
static struct vl_inode *lock_moved_file(struct vl_fs *fs, struct rn *x, const struct stat *sst)
{
	struct vl_inode *in = vl_itable_get(fs->table, sst->st_dev, sst->st_ino);

	if (!in)
		return NULL;
	pthread_rwlock_wrlock(&in->lock);
	x->m.content = in->content;
	/* A copy breaks hard links: those get EXDEV (mv copies them itself). Open handles
	 * follow the copy (swap_backing). */
	x->m.may_copy = sst->st_nlink == 1;
	return in;
}

/* After a rename copied in's backing file to the name x->ndst in x->m.dfd (format 2, the
 * inode locked exclusively): the inode's O_PATH fd, its open handles' fds (dup3 onto the same
 * numbers, atomic for concurrent users), its table key, its binding and layout follow the
 * copy. The kernel's inode and page cache stay valid: the plaintext is the same. Failures are
 * logged: the handles then keep the old (unlinked) file. */
static void swap_backing(struct vl_fs *fs, struct vl_inode *in, struct rn *x)
{
	struct stat st;
	char p[32];
	int pfd, fd, r = 0;

	pfd = openat(x->m.dfd, x->ndst.disk, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (pfd < 0 || fstat(pfd, &st) < 0 || dup3(pfd, in->fd, O_CLOEXEC) < 0) {
		r = -errno;
		goto out;
	}
	for (struct vl_fh *h = in->handles; h; h = h->inext) {
		snprintf(p, sizeof(p), "/proc/self/fd/%d", in->fd);
		fd = open(p, h->acc | O_CLOEXEC);
		if (fd < 0 || dup3(fd, h->fd, O_CLOEXEC) < 0) {
			r = -errno;
			if (fd >= 0)
				close(fd);
			continue;
		}
		close(fd);
	}
	vl_itable_rekey(fs->table, in, st.st_dev, st.st_ino);
	atomic_store(&in->is_long, x->ndst.is_long);
	if (in->bind) {
		*in->bind = x->m.nb;
		if (in->content)
			vl_content_set_binding(in->content, in->bind);
	}
	vl_op_note_own(in, in->fd);
out:
	if (pfd >= 0)
		close(pfd);
	if (r < 0)
		vl_log(VL_LOG_ERR, "rename: a copied file's open handles could not follow the copy: %s",
		       strerror(-r));
}

static void unlock_moved_file(struct vl_fs *fs, struct vl_inode *in, struct rn *x, int r)
{
	struct vl_binding *b;

	if (!in)
		return;
	if (r == 0 && x->m.kind == VL_MOVE_COPY)
		swap_backing(fs, in, x);
	if (r == 0 && x->m.kind == VL_MOVE_REBIND && in->bind) {
		b = in->bind;
		*b = x->m.nb;
		vl_op_note_own(in, in->fd);
	} else if (r == 0 && x->m.kind == VL_MOVE_RENAME && in->bind &&
		   vl_vault_format(fs->vault) >= VL_FORMAT_V2) {
		/* Same binding parent; a conflict copy renamed over its original keeps it. */
		in->bind->is_long = x->m.dst->is_long;
	}
	pthread_rwlock_unlock(&in->lock);
	vl_itable_forget(fs->table, in, 1);
}

/* Format 2's RENAME_EXCHANGE (fs/entry.c vl_exchange): the file inodes of both entries are
 * locked (in address order: the one place where a handler holds two inode locks) so that
 * their contents follow the new bindings; a directory's place is read again. */
static int do_exchange(struct vl_fs *fs, struct vl_inode *od, struct vl_inode *nd, struct rn *x,
		       const struct stat *sst, const struct stat *dstst)
{
	struct vl_inode *ia = NULL, *ib = NULL, *first, *second, *dha = NULL, *dhb = NULL;
	struct vl_xchg xc;
	int afd = -1, bfd = -1, r;

	memset(&xc, 0, sizeof(xc));
	afd = vl_dir_open(od->fd, ".");
	bfd = nd == od ? afd : vl_dir_open(nd->fd, ".");
	if (afd < 0 || bfd < 0) {
		r = afd < 0 ? afd : bfd;
		goto out;
	}
	if (!S_ISDIR(sst->st_mode))
		ia = vl_itable_get(fs->table, sst->st_dev, sst->st_ino);
	if (!S_ISDIR(dstst->st_mode))
		ib = vl_itable_get(fs->table, dstst->st_dev, dstst->st_ino);
	first = ia && ib && (uintptr_t)ib < (uintptr_t)ia ? ib : ia;
	second = first == ia ? ib : ia;
	if (first)
		pthread_rwlock_wrlock(&first->lock);
	if (second && second != first)
		pthread_rwlock_wrlock(&second->lock);
	xc = (struct vl_xchg){ .ad = &x->odi, .bd = &x->ndi, .afd = afd, .bfd = bfd, .a = &x->src,
			       .b = &x->dst, .ast = *sst, .bst = *dstst,
			       .ac = ia ? ia->content : NULL, .bc = ib ? ib->content : NULL };
	if (S_ISDIR(sst->st_mode))
		dha = hold_dir_idwrites(fs, sst);
	if (S_ISDIR(dstst->st_mode))
		dhb = hold_dir_idwrites(fs, dstst);
	vl_watch_expect(fs->watch, od, IN_MOVED_FROM, x->src.disk);
	vl_watch_expect(fs->watch, nd, IN_MOVED_TO, x->dst.disk);
	vl_watch_expect(fs->watch, nd, IN_MOVED_FROM, x->dst.disk);
	vl_watch_expect(fs->watch, od, IN_MOVED_TO, x->src.disk);
	r = vl_exchange(fs->vault, &xc);
	if (r < 0) {
		vl_watch_unexpect(fs->watch, od, IN_MOVED_FROM, x->src.disk);
		vl_watch_unexpect(fs->watch, nd, IN_MOVED_TO, x->dst.disk);
		vl_watch_unexpect(fs->watch, nd, IN_MOVED_FROM, x->dst.disk);
		vl_watch_unexpect(fs->watch, od, IN_MOVED_TO, x->src.disk);
	}
	if (r == 0 && ia && xc.arebound && ia->bind) {
		*ia->bind = xc.anb;
		vl_op_note_own(ia, ia->fd);
	}
	if (r == 0 && ib && xc.brebound && ib->bind) {
		*ib->bind = xc.bnb;
		vl_op_note_own(ib, ib->fd);
	}
	if (second && second != first)
		pthread_rwlock_unlock(&second->lock);
	if (first)
		pthread_rwlock_unlock(&first->lock);
	if (r == 0 && (S_ISDIR(sst->st_mode) || S_ISDIR(dstst->st_mode))) {
		/* Each directory is at the other's place now: read its IDs there. */
		struct vl_inode *da = S_ISDIR(sst->st_mode) ? vl_itable_get(fs->table, sst->st_dev, sst->st_ino) : NULL;
		struct vl_inode *db = S_ISDIR(dstst->st_mode) ? vl_itable_get(fs->table, dstst->st_dev, dstst->st_ino) : NULL;

		if (da) {
			note_parent(fs, nd, &x->dst, da);
			vl_itable_forget(fs->table, da, 1);
		}
		if (db) {
			note_parent(fs, od, &x->src, db);
			vl_itable_forget(fs->table, db, 1);
		}
	}
	if (ia)
		vl_itable_forget(fs->table, ia, 1);
	if (ib)
		vl_itable_forget(fs->table, ib, 1);
out:
	release_dir_idwrites(fs, dha);
	release_dir_idwrites(fs, dhb);
	if (bfd >= 0 && bfd != afd)
		close(bfd);
	if (afd >= 0)
		close(afd);
	return r;
}

static int do_rename(struct vl_fs *fs, struct vl_inode *od, const char *oname, struct vl_inode *nd,
		     const char *nname, unsigned int flags)
{
	struct rn *x = NULL;
	struct vl_inode *fin = NULL, *din = NULL, *tin = NULL;
	struct stat sst, dstst;
	bool have_dst, same_kind, v2 = vl_vault_format(fs->vault) >= VL_FORMAT_V2;
	size_t olen, nlen;
	int tfd = -1, sfd = -1, dfd = -1, r;

	if (fs->readonly)
		return -EROFS;
	if (flags & ~(unsigned int)(RENAME_NOREPLACE | RENAME_EXCHANGE))
		return -EINVAL;
	if ((r = check_name(oname, &olen)) < 0 || (r = check_name(nname, &nlen)) < 0)
		return r;
	x = calloc(1, sizeof(*x));
	if (!x)
		return -ENOMEM;
	r = dir_lookup_di(fs, od, &x->odi, oname, olen, &x->src, &sst);
	if (r < 0)
		goto out;
	r = dir_lookup_di(fs, nd, &x->ndi, nname, nlen, &x->dst, &dstst);
	if (r < 0 && r != -ENOENT)
		goto out;
	have_dst = r == 0;
	r = 0;
	if (have_dst && sst.st_dev == dstst.st_dev && sst.st_ino == dstst.st_ino) {
		r = (flags & RENAME_NOREPLACE) ? -EEXIST : 0; /* the same file: nothing to do */
		goto out;
	}
	if ((flags & RENAME_NOREPLACE) && have_dst) {
		r = -EEXIST;
		goto out;
	}
	if (flags & RENAME_EXCHANGE) {
		r = -ENOENT;
		if (!have_dst)
			goto out;
		if (!v2 && x->src.kind != x->dst.kind) {
			r = exchange_kinds(fs, od, &x->odi, oname, nd, &x->ndi, nname, &x->src, &x->dst);
			goto out;
		}
		if (v2) {
			r = do_exchange(fs, od, nd, x, &sst, &dstst);
			if (r < 0)
				goto out;
			dir_changed(od, false);
			if (nd != od)
				dir_changed(nd, false);
			goto out;
		}
		/* Same kind: the on-disk names stay, and so do their sidecars. */
		r = own_rename(fs, od, x->src.disk, nd, x->dst.disk, RENAME_EXCHANGE);
		if (r < 0)
			goto out;
		dir_changed(od, false);
		if (nd != od)
			dir_changed(nd, false);
		goto out;
	}
	if (have_dst) {
		r = -ENOTDIR;
		if (S_ISDIR(sst.st_mode) && !S_ISDIR(dstst.st_mode))
			goto out;
		r = -EISDIR;
		if (!S_ISDIR(sst.st_mode) && S_ISDIR(dstst.st_mode))
			goto out;
	}
	r = vl_ename_make(fs->vault, &x->ndi, nname, nlen, x->src.kind, &x->ndst);
	if (r < 0)
		goto out;
	/* The target is replaced in place only when it has the new name's on-disk name: not
	 * when it is of the other kind, nor when it is a conflict copy shown under this name. */
	same_kind = have_dst && x->dst.kind == x->src.kind && !strcmp(x->dst.disk, x->ndst.disk);
	/* Real directory fds: helper files are written atomically (fsync of the directory). */
	sfd = vl_dir_open(od->fd, ".");
	dfd = nd == od ? sfd : vl_dir_open(nd->fd, ".");
	if (sfd < 0 || dfd < 0) {
		r = sfd < 0 ? sfd : dfd;
		goto out;
	}
	if (have_dst && S_ISDIR(dstst.st_mode)) {
		/* The backing target holds its ID files: they must go first (and come back if
		 * the rename fails). */
		tfd = openat(nd->fd, x->dst.disk, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (tfd < 0) {
			r = -errno;
			goto out;
		}
		tin = hold_dir_idwrites(fs, &dstst); /* its ID files go: not news for fs/watch.c */
		r = take_dirid(fs, tfd, &x->saved);
		if (r < 0)
			goto out;
	}
	x->m = (struct vl_move){ .sdi = &x->odi, .sfd = sfd, .src = &x->src, .st = sst,
				 .ddi = &x->ndi, .dfd = dfd, .dst = &x->ndst,
				 .flags = have_dst ? 0 : flags, .may_copy = sst.st_nlink == 1 };
	r = vl_move_plan(fs->vault, &x->m);
	if (r < 0)
		goto fail;
	if (x->m.kind == VL_MOVE_REBIND || x->m.kind == VL_MOVE_COPY)
		fin = lock_moved_file(fs, x, &sst);
	if (have_dst)
		mark_gone(fs, &dstst);
	if (x->m.kind == VL_MOVE_COPY) {
		vl_watch_expect(fs->watch, nd, IN_MOVED_TO, x->ndst.disk);
		vl_watch_expect(fs->watch, od, IN_DELETE, x->src.disk);
	} else {
		vl_watch_expect(fs->watch, od, IN_MOVED_FROM, x->src.disk);
		vl_watch_expect(fs->watch, nd, IN_MOVED_TO, x->ndst.disk);
	}
	if (x->m.kind == VL_MOVE_DIR)
		din = hold_dir_idwrites(fs, &sst);
	r = vl_move(fs->vault, &x->m);
	unlock_moved_file(fs, fin, x, r);
	if (r < 0) {
		if (x->m.kind == VL_MOVE_COPY) {
			vl_watch_unexpect(fs->watch, nd, IN_MOVED_TO, x->ndst.disk);
			vl_watch_unexpect(fs->watch, od, IN_DELETE, x->src.disk);
		} else {
			vl_watch_unexpect(fs->watch, od, IN_MOVED_FROM, x->src.disk);
			vl_watch_unexpect(fs->watch, nd, IN_MOVED_TO, x->ndst.disk);
		}
		goto fail;
	}
	if (v2 && x->m.kind != VL_MOVE_RENAME && x->m.kind != VL_MOVE_REBIND)
		moved_inode(fs, x, &sst);
	release_dir_idwrites(fs, din);
	din = NULL;
	if (have_dst && !same_kind) {
		/* The old target has another on-disk name: remove it now. */
		vl_watch_expect(fs->watch, nd, IN_DELETE, x->dst.disk);
		if (unlinkat(nd->fd, x->dst.disk, S_ISDIR(dstst.st_mode) ? AT_REMOVEDIR : 0) < 0) {
			vl_watch_unexpect(fs->watch, nd, IN_DELETE, x->dst.disk);
			vl_log(VL_LOG_WARN, "rename: could not remove the replaced entry: %s",
			       strerror(errno));
		}
		drop_sidecar(nd->fd, &x->dst);
	}
	dir_changed(od, nd == od && ename_is_object(&x->ndst));
	if (nd != od)
		dir_changed(nd, ename_is_object(&x->ndst));
	r = 0;
	goto out;
fail:
	if (tfd >= 0)
		restore_dirid(tfd, &x->saved);
out:
	release_dir_idwrites(fs, din);
	release_dir_idwrites(fs, tin);
	if (tfd >= 0)
		close(tfd);
	if (dfd >= 0 && dfd != sfd)
		close(dfd);
	if (sfd >= 0)
		close(sfd);
	free(x);
	return r;
}

static void op_rename(fuse_req_t req, fuse_ino_t parent, const char *name, fuse_ino_t newparent,
		      const char *newname, unsigned int flags)
{
	struct vl_fs *fs = vl_op_enter(req);
	int r = do_rename(fs, vl_op_inode_of(req, parent), name, vl_op_inode_of(req, newparent), newname, flags);

	fuse_reply_err(req, -r);
}

static int do_link(struct vl_fs *fs, struct vl_inode *in, struct vl_inode *nd, const char *name,
		   struct fuse_entry_param *ep)
{
	struct vl_dirinfo ndi;
	struct vl_ename e;
	bool bad;
	char p[32];
	int r;

	/* Shared storage: another machine sees the two names as two files (sync clients do not
	 * carry hardlinks), so do not make them, as gocryptfs -sharedstorage. */
	if (in->type == S_IFDIR || fs->sharedstorage)
		return -EPERM;
	r = name_free(fs, nd, name, in->is_object ? VL_KIND_OBJECT : VL_KIND_PLAIN, &ndi, &e);
	if (r < 0)
		return r;
	/* Format 2: one header serves every name, so links stay within the directory (under
	 * the ID the file is bound to) and with short names (FORMAT.md §6). */
	pthread_rwlock_rdlock(&in->lock);
	bad = in->bind && (in->is_long || e.is_long || memcmp(in->bind->parent, ndi.id, VL_DIRID_LEN));
	pthread_rwlock_unlock(&in->lock);
	if (bad)
		return -EPERM;
	r = put_sidecar(nd, &e);
	if (r < 0)
		return r;
	/* AT_EMPTY_PATH needs CAP_DAC_READ_SEARCH; the /proc link works for everyone. */
	vl_watch_expect(fs->watch, nd, IN_CREATE, e.disk);
	if (linkat(in->fd, "", nd->fd, e.disk, AT_EMPTY_PATH) < 0) {
		vl_op_proc_path(p, in->fd);
		if (linkat(AT_FDCWD, p, nd->fd, e.disk, AT_SYMLINK_FOLLOW) < 0) {
			r = -errno;
			vl_watch_unexpect(fs->watch, nd, IN_CREATE, e.disk);
			if (r != -EEXIST)
				drop_sidecar(nd->fd, &e);
			return r;
		}
	}
	dir_changed(nd, ename_is_object(&e));
	return vl_op_lookup_ename(fs, nd, &e, ep);
}

static void op_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent, const char *newname)
{
	struct vl_fs *fs = vl_op_enter(req);
	struct fuse_entry_param ep;
	int r = do_link(fs, vl_op_inode_of(req, ino), vl_op_inode_of(req, newparent), newname, &ep);

	reply_entry(req, r, &ep);
}

/* ---- files ---- */

/* An open of in, whose backing file is open as fd: -ESTALE when the kernel's inode of it
 * is stale, that is, someone else removed or replaced the file (nlink 0, and not through
 * the mount) or changed it since our last change (then in is retired from the table). The
 * VFS answers ESTALE from open by walking the path again with LOOKUP_REVAL, which makes
 * the kernel look the name up (op_lookup): the open lands on the current file, with its
 * true size, at once. Caller holds in->lock for writing. */
static int open_stale(struct vl_fs *fs, struct vl_inode *in, int fd)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (st.st_nlink == 0 && !atomic_load(&in->gone_ours))
		return -ESTALE;
	if (!vl_state_changed(in, &st))
		return 0;
	vl_itable_retire(fs->table, in);
	return -ESTALE;
}

/* Opens a handle on regular file in: the backing fd, the open count, O_TRUNC. */
static int open_inode(struct vl_fs *fs, struct vl_inode *in, int flags, int fd,
		      struct vl_fh **out)
{
	struct vl_fh *h = NULL;
	int acc = flags & O_ACCMODE, r;

	if (in->type == S_IFDIR)
		return -EISDIR;
	if (in->type != S_IFREG)
		return -EINVAL; /* the kernel opens special files itself */
	if (fs->readonly && (acc != O_RDONLY || (flags & O_TRUNC)))
		return -EROFS;
	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	if (fd < 0) {
		/* Always read-write: a write of part of a block needs the old block, and the
		 * writeback cache reads through write-only opens. */
		fd = fs->readonly ? -EACCES : vl_op_reopen(in, O_RDWR);
		if (fd == -EACCES && acc == O_RDONLY && !(flags & O_TRUNC))
			fd = vl_op_reopen(in, O_RDONLY);
		if (fd < 0) {
			free(h);
			return fd;
		}
	}
	h->fd = fd;
	/* The kernel places appends itself with the writeback cache. */
	h->append = (flags & O_APPEND) && !fs->writeback;
	pthread_rwlock_wrlock(&in->lock);
	r = open_stale(fs, in, fd);
	if (r == 0 && !in->content)
		r = vl_content_new(&in->content, fs->vault, VL_STREAM_CONTENT, in->bind);
	/* Linux truncates on O_RDONLY|O_TRUNC too, and the kernel (atomic_o_trunc) then
	 * believes the size is 0: so do we. */
	if (r == 0 && (flags & O_TRUNC)) {
		r = vl_content_truncate(in->content, fd, 0);
		vl_op_note_own(in, fd);
	}
	if (r == 0) {
		in->nopen++;
		h->acc = fcntl(fd, F_GETFL) & O_ACCMODE;
		h->inext = in->handles;
		in->handles = h;
	} else if (in->nopen == 0) {
		vl_content_free(in->content);
		in->content = NULL;
	}
	pthread_rwlock_unlock(&in->lock);
	if (r < 0) {
		close(fd);
		free(h);
		return r;
	}
	vl_op_handle_add(fs, &h->link, false);
	*out = h;
	return 0;
}

static void close_handle(struct vl_fs *fs, struct vl_inode *in, struct vl_fh *h)
{
	pthread_rwlock_wrlock(&in->lock);
	for (struct vl_fh **pp = (struct vl_fh **)&in->handles; *pp; pp = &(*pp)->inext) {
		if (*pp == h) {
			*pp = h->inext;
			break;
		}
	}
	close(h->fd); /* under the lock: a copying rename may dup3 onto this number */
	if (in->nopen > 0 && --in->nopen == 0) {
		/* The next open reads the header again: the backing file may be replaced or
		 * rewritten in place by a sync client meanwhile. */
		vl_content_free(in->content);
		in->content = NULL;
	}
	pthread_rwlock_unlock(&in->lock);
	vl_op_handle_del(fs, &h->link);
	free(h);
}

static void op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct vl_fs *fs = vl_op_enter(req);
	struct vl_inode *in = vl_op_inode_of(req, ino);
	struct vl_fh *h = NULL;
	int r = open_inode(fs, in, fi->flags, -1, &h);

	if (r < 0) {
		fuse_reply_err(req, -r);
		return;
	}
	fi->fh = (uint64_t)(uintptr_t)h;
	fi->keep_cache = 0; /* the backing file may have changed since the last open */
	if (fuse_reply_open(req, fi) != 0)
		close_handle(fs, in, h);
}

static int do_create(fuse_req_t req, struct vl_fs *fs, struct vl_inode *parent, const char *name,
		     mode_t mode, int flags, struct fuse_entry_param *ep, struct vl_fh **h)
{
	struct vl_ename e;
	int fd, r;

	fd = create_file(req, fs, parent, name, mode, &e);
	if (fd == -EEXIST && !(flags & O_EXCL)) {
		/* Lost a race with another creator: open what is there, as open(2) would. */
		r = lookup_name(fs, parent, name, ep);
		if (r < 0)
			return r;
		r = open_inode(fs, vl_op_inode_of(req, ep->ino), flags, -1, h);
		if (r < 0)
			vl_op_unlookup(fs, ep->ino);
		return r;
	}
	if (fd < 0)
		return fd;
	r = vl_op_lookup_ename(fs, parent, &e, ep);
	if (r < 0) {
		close(fd);
		return r;
	}
	r = open_inode(fs, vl_op_inode_of(req, ep->ino), flags & ~O_TRUNC, fd, h);
	if (r < 0)
		vl_op_unlookup(fs, ep->ino); /* open_inode closed fd */
	return r;
}

static void op_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
		      struct fuse_file_info *fi)
{
	struct vl_fs *fs = vl_op_enter(req);
	struct fuse_entry_param ep;
	struct vl_fh *h = NULL;
	int r = do_create(req, fs, vl_op_inode_of(req, parent), name, mode, fi->flags, &ep, &h);

	if (r < 0) {
		fuse_reply_err(req, -r);
		return;
	}
	fi->fh = (uint64_t)(uintptr_t)h;
	if (fuse_reply_create(req, &ep, fi) != 0) {
		close_handle(fs, vl_op_inode_of(req, ep.ino), h);
		vl_op_unlookup(fs, ep.ino);
	}
}

static void op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	struct vl_fs *fs = vl_op_enter(req);
	struct vl_inode *in = vl_op_inode_of(req, ino);
	struct vl_fh *h = (struct vl_fh *)(uintptr_t)fi->fh;
	ssize_t n = -ENOMEM;
	void *buf = malloc(size ? size : 1);

	if (buf && off < 0)
		n = -EINVAL;
	else if (buf) {
		pthread_rwlock_rdlock(&in->lock);
		n = vl_content_read(in->content, h->fd, buf, size, (uint64_t)off);
		pthread_rwlock_unlock(&in->lock);
	}
	(void)fs;
	if (n < 0)
		fuse_reply_err(req, (int)-n);
	else
		fuse_reply_buf(req, buf, (size_t)n);
	free(buf);
}

static void op_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size, off_t off,
		     struct fuse_file_info *fi)
{
	struct vl_fs *fs = vl_op_enter(req);
	struct vl_inode *in = vl_op_inode_of(req, ino);
	struct vl_fh *h = (struct vl_fh *)(uintptr_t)fi->fh;
	uint64_t pos = (uint64_t)off;
	ssize_t n = 0;

	if (fs->readonly)
		n = -EROFS;
	else if (off < 0)
		n = -EINVAL;
	pthread_rwlock_wrlock(&in->lock);
	/* Never at an offset computed from a size that a sync client has changed since. */
	if (n == 0)
		n = check_own(in, h->fd);
	/* Page writeback (mmap) may come through an O_APPEND handle: its offsets are real. */
	if (n == 0 && h->append && !fi->writepage)
		n = vl_content_size(in->content, h->fd, &pos); /* append at the real end */
	if (n == 0 && !h->token_checked && in->bind) {
		/* Format 2, the first write through this handle: a header written before its
		 * directory moved gets the current place token (FORMAT.md §5.3). Not at open:
		 * that would read the file (its atime) for every open for writing. A failure
		 * only costs that evidence. */
		int e = vl_content_refresh_token(in->content, h->fd);

		if (e < 0)
			vl_log(VL_LOG_DEBUG, "could not refresh a header's place token: %s",
			       strerror(-e));
		h->token_checked = true;
	}
	if (n == 0) {
		n = vl_content_write(in->content, h->fd, buf, size, pos);
		vl_op_note_own(in, h->fd);
	}
	pthread_rwlock_unlock(&in->lock);
	if (n < 0)
		fuse_reply_err(req, (int)-n);
	else
		fuse_reply_write(req, (size_t)n);
}

static void op_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)ino;
	(void)fi;
	vl_op_enter(req);
	/* Writes went to the backing file when they were made: nothing is buffered here, and
	 * locks are kept by the kernel. ENOSYS makes the kernel stop sending FLUSH (one
	 * round trip less per close(2)); it still writes dirty pages back and reports their
	 * errors at close before it would have sent one (fs/fuse/file.c fuse_flush). */
	fuse_reply_err(req, ENOSYS);
}

static void op_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct vl_fs *fs = vl_op_enter(req);

	close_handle(fs, vl_op_inode_of(req, ino), (struct vl_fh *)(uintptr_t)fi->fh);
	fuse_reply_err(req, 0);
}

static void op_fsync(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi)
{
	struct vl_fh *h = (struct vl_fh *)(uintptr_t)fi->fh;
	int r;

	(void)ino;
	vl_op_enter(req);
	r = datasync ? fdatasync(h->fd) : fsync(h->fd);
	fuse_reply_err(req, r < 0 ? errno : 0);
}

static void op_fallocate(fuse_req_t req, fuse_ino_t ino, int mode, off_t off, off_t len,
			 struct fuse_file_info *fi)
{
	struct vl_fs *fs = vl_op_enter(req);
	struct vl_inode *in = vl_op_inode_of(req, ino);
	struct vl_fh *h = (struct vl_fh *)(uintptr_t)fi->fh;
	uint64_t size, end;
	int r;

	/* Only plain allocation: KEEP_SIZE would need blocks past the end (which fail their
	 * last-block check) and PUNCH_HOLE would need holes (veilfs writes none). */
	if (mode != 0) {
		fuse_reply_err(req, EOPNOTSUPP);
		return;
	}
	if (fs->readonly) {
		fuse_reply_err(req, EROFS);
		return;
	}
	if (off < 0 || len <= 0 || (uint64_t)off + (uint64_t)len > (uint64_t)INT64_MAX) {
		fuse_reply_err(req, off < 0 || len <= 0 ? EINVAL : EFBIG);
		return;
	}
	end = (uint64_t)off + (uint64_t)len;
	pthread_rwlock_wrlock(&in->lock);
	r = check_own(in, h->fd);
	if (r == 0)
		r = vl_content_size(in->content, h->fd, &size);
	if (r == 0 && end > size) {
		r = vl_content_truncate(in->content, h->fd, end);
		vl_op_note_own(in, h->fd);
	}
	pthread_rwlock_unlock(&in->lock);
	fuse_reply_err(req, -r);
}

static void op_lseek(fuse_req_t req, fuse_ino_t ino, off_t off, int whence,
		     struct fuse_file_info *fi)
{
	struct vl_fs *fs = vl_op_enter(req);
	struct vl_fh *h = (struct vl_fh *)(uintptr_t)fi->fh;
	uint64_t size;
	int r;

	(void)fs;
	if (whence != SEEK_DATA && whence != SEEK_HOLE) {
		fuse_reply_err(req, EINVAL);
		return;
	}
	r = vl_content_size(vl_op_inode_of(req, ino)->content, h->fd, &size);
	if (r < 0) {
		fuse_reply_err(req, -r);
		return;
	}
	/* Every byte is data (no sparse ciphertext); the only hole is at the end of file. */
	if (off < 0 || (uint64_t)off >= size)
		fuse_reply_err(req, ENXIO);
	else
		fuse_reply_lseek(req, whence == SEEK_DATA ? off : (off_t)size);
}

static void op_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct vl_fs *fs = vl_op_enter(req);
	struct statvfs sv;

	(void)ino;
	if (fstatvfs(fs->root->fd, &sv) < 0) {
		fuse_reply_err(req, errno);
		return;
	}
	/* Any plaintext name of up to 255 bytes fits: longer encodings become long names. */
	sv.f_namemax = VL_NAME_MAX;
	fuse_reply_statfs(req, &sv);
}

const struct fuse_lowlevel_ops vl_fuse_ops = {
	.init = op_init,
	.destroy = op_destroy,
	.lookup = op_lookup,
	.forget = op_forget,
	.forget_multi = op_forget_multi,
	.getattr = op_getattr,
	.setattr = op_setattr,
	.readlink = op_readlink,
	.mknod = op_mknod,
	.mkdir = op_mkdir,
	.unlink = op_unlink,
	.rmdir = op_rmdir,
	.symlink = op_symlink,
	.rename = op_rename,
	.link = op_link,
	.open = op_open,
	.read = op_read,
	.write = op_write,
	.flush = op_flush,
	.release = op_release,
	.fsync = op_fsync,
	.opendir = vl_op_opendir,
	.readdir = vl_op_readdir,
	.readdirplus = vl_op_readdirplus,
	.releasedir = vl_op_releasedir,
	.fsyncdir = vl_op_fsyncdir,
	.statfs = op_statfs,
	.setxattr = vl_op_setxattr,
	.getxattr = vl_op_getxattr,
	.listxattr = vl_op_listxattr,
	.removexattr = vl_op_removexattr,
	.create = op_create,
	.fallocate = op_fallocate,
	.lseek = op_lseek,
	/* No getlk/setlk/flock: the kernel then keeps locks locally. */
};

int vl_fs_new(struct vl_fs **out, struct vl_vault *v, bool readonly, bool sharedstorage,
	      bool debug)
{
	struct vl_fs *fs = calloc(1, sizeof(*fs));
	struct stat st;
	int fd = -1, r;

	if (!fs)
		return -ENOMEM;
	fs->vault = v;
	fs->readonly = readonly;
	fs->sharedstorage = sharedstorage;
	fs->debug = debug;
	fs->is_root = geteuid() == 0;
	fs->timeout = sharedstorage ? 0.0 : 1.0;
	pthread_mutex_init(&fs->hmutex, NULL);
	fs->handles.next = fs->handles.prev = &fs->handles;
	r = vl_itable_new(&fs->table);
	if (r < 0)
		goto out;
	fd = openat(vl_vault_rootfd(v), ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		r = -errno;
		goto out;
	}
	r = -ENOMEM;
	fs->root = vl_inode_new(fd, st.st_dev, st.st_ino);
	if (!fs->root)
		goto out;
	fd = -1;
	fs->root->type = S_IFDIR;
	r = vl_inode_set_dirinfo(fs->root, vl_vault_root_info(v));
	/* --sharedstorage asks the kernel for everything anyway (timeouts 0, no writeback
	 * cache), and inotify sees no change made on another machine of a network share. */
	if (r == 0 && !sharedstorage)
		r = vl_watch_new(&fs->watch, fs);
	if (r == 0 && fs->watch) {
		vl_itable_on_release(fs->table, vl_watch_release, fs->watch);
		vl_watch_dir(fs->watch, fs->root);
	}
out:
	if (fd >= 0)
		close(fd);
	if (r < 0) {
		fs->vault = NULL; /* not ours on failure */
		vl_fs_free(fs);
		return r;
	}
	*out = fs;
	return 0;
}

int vl_fs_watch_start(struct vl_fs *fs, struct fuse_session *se)
{
	return fs->watch ? vl_watch_start(fs->watch, se) : 0;
}

void vl_fs_watch_stop(struct vl_fs *fs)
{
	if (!fs->watch)
		return;
	if (fs->table)
		vl_itable_on_release(fs->table, NULL, NULL);
	vl_watch_free(fs->watch);
	fs->watch = NULL;
}

void vl_fs_free(struct vl_fs *fs)
{
	if (!fs)
		return;
	/* Handles the kernel never released; their inodes go with the table. */
	while (fs->handles.next && fs->handles.next != &fs->handles) {
		struct vl_hlink *l = fs->handles.next;

		fs->handles.next = l->next;
		if (l->is_dir) {
			vl_op_dh_free((struct vl_dh *)l);
		} else {
			close(((struct vl_fh *)l)->fd);
			free(l);
		}
	}
	pthread_mutex_destroy(&fs->hmutex);
	vl_fs_watch_stop(fs);
	vl_itable_free(fs->table);
	vl_inode_free(fs->root);
	vl_vault_free(fs->vault);
	free(fs);
}
