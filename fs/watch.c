/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Coherence under a live sync client (issue 11; docs/SYNC.md "Sync while mounted").
 *
 * The kernel caches names (dentries), attributes and file pages; with the writeback cache
 * it even treats its own i_size of a regular file as the truth and never takes a size from
 * us again while it keeps the inode (fs/fuse/inode.c, fuse_change_attributes). So:
 * - one inotify watch per backing directory that the kernel knows (directory inodes in the
 *   table, and the root), added at lookup and removed when the inode is freed;
 * - a thread (never a FUSE request handler, and holding none of our locks while it talks
 *   to the kernel: libfuse's rule for notify_inval_entry) reads the events and, for a
 *   change that is not ours, drops the kernel's dentry of the name (inval_entry) and the
 *   directory's attributes; for a file changed in place it also retires the inode from
 *   the table (inode.h: the next lookup makes a new nodeid, so a fresh kernel inode with
 *   the true size) and drops the old one's pages (inval_inode);
 * - ours from theirs: name changes that the mount makes itself are announced before the
 *   system call (vl_watch_expect) and their events skipped; content changes are compared
 *   with the size and mtime that our own last change left (vl_state_*, under the inode
 *   lock), so our own writes never invalidate anything;
 * - requests do not wait for the thread: a lookup that finds a changed inode retires it,
 *   and an open of a stale inode answers ESTALE, which makes the VFS walk the path again
 *   with LOOKUP_REVAL (a real lookup), so the next open or lookup is right at once.
 * When inotify is missing, its queue overflows, or watches run out
 * (fs.inotify.max_user_watches), the mount falls back to short cache timeouts
 * (VL_DEGRADED_TIMEOUT) and says so once in the log. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>
#include <xxhash.h>

#include "../crypto/conflict.h"
#include "../crypto/names.h"
#include "backing.h"
#include "dirinfo.h"
#include "dirs.h"
#include "log.h"
#include "ops.h"
#include "vault.h"
#include "watch.h"

#define VL_WATCH_MASK                                                                              \
	(IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_MODIFY | IN_CLOSE_WRITE |        \
	 IN_ATTRIB | IN_EXCL_UNLINK | IN_ONLYDIR)
#define VL_NAME_EVENTS	  (IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO)
#define VL_CONTENT_EVENTS (IN_MODIFY | IN_CLOSE_WRITE | IN_ATTRIB)
/* After the first event of a batch, the thread waits this long for more before it reads
 * them all: one wakeup and one check per file for the bursts that local work makes (an
 * untar: a create, writes, a close and two or three attribute changes per file), for a
 * delay that stays far below the kernel's caches' timeouts (SYNC.md states it). */
#define VL_WATCH_BATCH_MS 2
/* Expected own name events kept at most (more: the events count as someone else's, which
 * costs an invalidation, never coherence). */
#define VL_EXPECT_CAP 16384u

struct wnode {
	struct wnode *next;
	int wd;
	struct vl_inode *dir;
};

struct xslot {
	uint64_t key; /* 0: never used */
	uint32_t count;
};

struct vl_watch {
	struct vl_fs *fs;
	struct fuse_session *se;
	int ifd; /* inotify */
	int efd; /* eventfd: stop the thread */
	pthread_t thread;
	bool started;
	pthread_mutex_t mutex;
	struct wnode **map; /* wd -> directory inode; protected by mutex */
	size_t nmap, count; /* protected by mutex */
	struct xslot *xt;   /* expected own events, open addressing; protected by mutex */
	size_t xused;	    /* slots with a key; protected by mutex */
};

static void degrade(struct vl_fs *fs, const char *why)
{
	if (!atomic_exchange(&fs->degraded, true))
		vl_log(VL_LOG_WARN,
		       "%s: changes made under the mount by other programs may not be noticed at "
		       "once; falling back to %.1f s cache timeouts",
		       why, VL_DEGRADED_TIMEOUT);
}

/* ---- wd -> directory ---- */

static size_t wslot(const struct vl_watch *w, int wd)
{
	return (size_t)(unsigned)wd & (w->nmap - 1);
}

/* Caller holds w->mutex. */
static struct vl_inode *map_find(struct vl_watch *w, int wd)
{
	for (struct wnode *n = w->map[wslot(w, wd)]; n; n = n->next)
		if (n->wd == wd)
			return n->dir;
	return NULL;
}

/* Caller holds w->mutex. */
static void map_del(struct vl_watch *w, int wd)
{
	for (struct wnode **pp = &w->map[wslot(w, wd)]; *pp; pp = &(*pp)->next) {
		if ((*pp)->wd == wd) {
			struct wnode *n = *pp;

			*pp = n->next;
			free(n);
			w->count--;
			return;
		}
	}
}

/* Caller holds w->mutex. */
static int map_add(struct vl_watch *w, int wd, struct vl_inode *dir)
{
	struct wnode *n;

	if (w->count >= w->nmap * 2) {
		size_t nn = w->nmap * 2;
		struct wnode **m = calloc(nn, sizeof(*m));

		if (m) {
			for (size_t i = 0; i < w->nmap; i++) {
				while (w->map[i]) {
					struct wnode *x = w->map[i];

					w->map[i] = x->next;
					x->next = m[(size_t)(unsigned)x->wd & (nn - 1)];
					m[(size_t)(unsigned)x->wd & (nn - 1)] = x;
				}
			}
			free(w->map);
			w->map = m;
			w->nmap = nn;
		}
	}
	n = malloc(sizeof(*n));
	if (!n)
		return -ENOMEM;
	n->wd = wd;
	n->dir = dir;
	n->next = w->map[wslot(w, wd)];
	w->map[wslot(w, wd)] = n;
	w->count++;
	return 0;
}

void vl_watch_dir(struct vl_watch *w, struct vl_inode *dir)
{
	char p[32];
	int wd;

	if (!w)
		return;
	pthread_mutex_lock(&w->mutex);
	if (dir->wd >= 0)
		goto out;
	/* inotify has no *at() form: the magic link names the directory itself. */
	snprintf(p, sizeof(p), "/proc/self/fd/%d", dir->fd);
	wd = inotify_add_watch(w->ifd, p, VL_WATCH_MASK);
	if (wd < 0) {
		if (errno == ENOSPC)
			degrade(w->fs,
				"out of inotify watches (raise fs.inotify.max_user_watches)");
		else if (errno != ENOENT)
			degrade(w->fs, "inotify_add_watch failed");
		goto out;
	}
	if (map_find(w, wd)) {
		/* The same backing directory under another inode (cannot happen: directories are
		 * unique in the table); keep the first. */
		goto out;
	}
	if (map_add(w, wd, dir) < 0) {
		inotify_rm_watch(w->ifd, wd);
		goto out;
	}
	dir->wd = wd;
out:
	pthread_mutex_unlock(&w->mutex);
}

void vl_watch_release(void *ctx, struct vl_inode *in)
{
	struct vl_watch *w = ctx;

	if (!w || in->type != S_IFDIR)
		return;
	pthread_mutex_lock(&w->mutex);
	if (in->wd >= 0) {
		map_del(w, in->wd);
		inotify_rm_watch(w->ifd, in->wd);
		in->wd = -1;
	}
	pthread_mutex_unlock(&w->mutex);
}

/* ---- our own name changes ---- */

static uint64_t xkey(int wd, uint32_t mask, const char *disk)
{
	uint64_t seed = ((uint64_t)(unsigned)wd << 32) | (mask & VL_NAME_EVENTS);
	uint64_t k = XXH3_64bits_withSeed(disk, strlen(disk), seed);

	return k ? k : 1;
}

/* Caller holds w->mutex. The slot of key, or where it would go; NULL when full. */
static struct xslot *xfind(struct vl_watch *w, uint64_t key)
{
	size_t i = (size_t)key & (VL_EXPECT_CAP - 1);

	for (size_t n = 0; n < VL_EXPECT_CAP; n++, i = (i + 1) & (VL_EXPECT_CAP - 1))
		if (w->xt[i].key == key || w->xt[i].key == 0)
			return &w->xt[i];
	return NULL;
}

/* Caller holds w->mutex: drops the slots whose count fell to 0 (open addressing keeps
 * them as markers until then). */
static void xcompact(struct vl_watch *w)
{
	struct xslot *old = w->xt, *n = calloc(VL_EXPECT_CAP, sizeof(*n));

	if (!n)
		return;
	w->xt = n;
	w->xused = 0;
	for (size_t i = 0; i < VL_EXPECT_CAP; i++) {
		struct xslot *s;

		if (!old[i].count)
			continue;
		s = xfind(w, old[i].key);
		*s = old[i];
		w->xused++;
	}
	free(old);
}

void vl_watch_expect(struct vl_watch *w, const struct vl_inode *dir, uint32_t mask,
		     const char *disk)
{
	struct xslot *s;
	uint64_t key;

	if (!w)
		return;
	pthread_mutex_lock(&w->mutex);
	if (dir->wd < 0)
		goto out;
	key = xkey(dir->wd, mask, disk);
	if (w->xused >= VL_EXPECT_CAP * 3 / 4)
		xcompact(w);
	s = xfind(w, key);
	if (!s || (s->key == 0 && w->xused >= VL_EXPECT_CAP * 3 / 4))
		goto out; /* full of pending events: this one will count as someone else's */
	if (s->key == 0) {
		s->key = key;
		w->xused++;
	}
	s->count++;
out:
	pthread_mutex_unlock(&w->mutex);
}

void vl_watch_unexpect(struct vl_watch *w, const struct vl_inode *dir, uint32_t mask,
		       const char *disk)
{
	struct xslot *s;

	if (!w)
		return;
	pthread_mutex_lock(&w->mutex);
	if (dir->wd >= 0) {
		s = xfind(w, xkey(dir->wd, mask, disk));
		if (s && s->key && s->count)
			s->count--;
	}
	pthread_mutex_unlock(&w->mutex);
}

/* Caller holds w->mutex. True (and consumed) when the event is one of ours. */
static bool xtake(struct vl_watch *w, int wd, uint32_t mask, const char *name)
{
	struct xslot *s = xfind(w, xkey(wd, mask, name));

	if (!s || !s->key || !s->count)
		return false;
	s->count--;
	return true;
}

/* ---- the state our own last change left ---- */

void vl_state_note(struct vl_inode *in, const struct stat *st)
{
	in->sknown = true;
	in->ssize = st->st_size;
	in->smtim = st->st_mtim;
}

bool vl_state_changed(const struct vl_inode *in, const struct stat *st)
{
	return in->sknown && (in->ssize != st->st_size || in->smtim.tv_sec != st->st_mtim.tv_sec ||
			      in->smtim.tv_nsec != st->st_mtim.tv_nsec);
}

bool vl_state_stale(struct vl_inode *in, const struct stat *st)
{
	struct stat now;
	bool r;

	if (in->type == S_IFDIR)
		return false;
	pthread_rwlock_rdlock(&in->lock);
	/* st may have been taken while one of our own writes was under way: confirm. */
	r = vl_state_changed(in, st) &&
	    fstatat(in->fd, "", &now, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) == 0 &&
	    vl_state_changed(in, &now);
	pthread_rwlock_unlock(&in->lock);
	return r;
}

/* ---- directory IDs ---- */

int vl_watch_refresh_dirid(struct vl_fs *fs, struct vl_inode *dir, bool *changed,
			   uint8_t old[static VL_DIRID_LEN])
{
	struct vl_dirinfo *cur = malloc(sizeof(*cur)), *n = malloc(sizeof(*n));
	int r = -ENOMEM;

	*changed = false;
	if (!cur || !n)
		goto out;
	vl_inode_dirinfo(dir, cur);
	memcpy(old, cur->id, VL_DIRID_LEN);
	/* Read again for the place the directory was last found at (the root: its own). */
	if (dir == fs->root)
		r = vl_dirinfo_root(fs->vault, dir->fd, n);
	else
		r = vl_dirinfo_read(fs->vault, dir->fd, NULL, cur->place.parent, cur->disk,
				    cur->disklen, cur->place.namelen ? cur->place.name : NULL,
				    cur->place.namelen, n);
	if (r < 0)
		goto out;
	if (memcmp(n->id, cur->id, VL_DIRID_LEN) != 0 || n->nalt != cur->nalt ||
	    memcmp(n->alt, cur->alt, sizeof(n->alt[0]) * n->nalt) != 0) {
		r = vl_inode_set_dirinfo(dir, n);
		*changed = r == 0;
	}
out:
	free(cur);
	free(n);
	return r;
}

static bool idfile_same(const struct vl_inode *dir, bool have, const struct stat *st)
{
	return dir->idfknown && dir->idfhave == have &&
	       (!have || (dir->idfino == st->st_ino && dir->idfmtim.tv_sec == st->st_mtim.tv_sec &&
			  dir->idfmtim.tv_nsec == st->st_mtim.tv_nsec));
}

void vl_watch_check_dirid(struct vl_fs *fs, struct vl_inode *dir)
{
	uint8_t old[VL_DIRID_LEN];
	struct stat st;
	bool have, same, first, changed;

	/* Our own rename is rewriting the ID files: the renamer reads them again after. */
	if (atomic_load(&dir->idwrites) > 0)
		return;
	have = fstatat(dir->fd, VL_DIRID_FILE, &st, AT_SYMLINK_NOFOLLOW) == 0;
	pthread_mutex_lock(&dir->idlock);
	same = idfile_same(dir, have, &st);
	first = !dir->idfknown;
	pthread_mutex_unlock(&dir->idlock);
	if (same)
		return;
	/* The first time, the ID read when the inode was made stands for this file (a change
	 * in between is the watch thread's to see); later, re-read. */
	if (!first && vl_watch_refresh_dirid(fs, dir, &changed, old) < 0)
		return;
	pthread_mutex_lock(&dir->idlock);
	dir->idfknown = true;
	dir->idfhave = have;
	if (have) {
		dir->idfino = st.st_ino;
		dir->idfmtim = st.st_mtim;
	}
	pthread_mutex_unlock(&dir->idlock);
}

/* ---- telling the kernel ---- */

static fuse_ino_t nodeid(const struct vl_watch *w, const struct vl_inode *in)
{
	return in == w->fs->root ? FUSE_ROOT_ID : (fuse_ino_t)(uintptr_t)in;
}

static void inval_name(struct vl_watch *w, const struct vl_inode *dir, const char *name, size_t len)
{
	/* -ENOENT: the kernel holds no such dentry; nothing to do. */
	(void)fuse_lowlevel_notify_inval_entry(w->se, nodeid(w, dir), name, len);
}

/* Drops the kernel's dentries that on-disk name disk of dir may be shown under: its own
 * name (short names decrypt; long names through the sidecar, when it is still there), or
 * for a conflict copy of a short name both its display and fallback forms. A long-name
 * copy, and a name under a veilfs.dirid copy's ID, are left to the entry timeout; an open
 * of a removed entry still gets ESTALE at once (op_open). */
static void inval_disk(struct vl_watch *w, struct vl_inode *dir, const char *disk, bool gone)
{
	const struct vl_keys *k = vl_vault_keys(w->fs->vault);
	char plain[256], e[VL_ENCNAME_MAX + 1], out[VL_CONFLICT_NAME_MAX + 1];
	uint8_t id[VL_DIRID_LEN];
	size_t len = strlen(disk), elen;
	enum vl_ondisk ek;
	enum vl_kind kind;
	int n;

	vl_inode_dirid(dir, id);
	switch (vl_name_classify(disk, len)) {
	case VL_ONDISK_SHORT:
		n = vl_name_decrypt(k, id, disk, len, plain, sizeof(plain), &kind);
		if (n > 0)
			inval_name(w, dir, plain, (size_t)n);
		return;
	case VL_ONDISK_LONG:
		if (gone)
			return; /* its sidecar is gone too, most likely */
		n = vl_dir_entry_name(w->fs->vault, dir->fd, id, disk, plain);
		if (n > 0)
			inval_name(w, dir, plain, (size_t)n);
		return;
	case VL_ONDISK_FOREIGN:
		break;
	default:
		return;
	}
	elen = vl_conflict_split(disk, len, &ek);
	if (elen == 0 || ek != VL_ONDISK_SHORT || elen > VL_ENCNAME_MAX)
		return;
	memcpy(e, disk, elen);
	e[elen] = '\0';
	n = vl_name_decrypt(k, id, e, elen, plain, sizeof(plain), &kind);
	if (n <= 0)
		return;
	n = vl_conflict_display(plain, (size_t)n, disk + elen, len - elen, out, sizeof(out));
	if (n > 0)
		inval_name(w, dir, out, (size_t)n);
	n = vl_conflict_fallback(plain, strlen(plain), disk + elen, len - elen, disk, len, out,
				 sizeof(out));
	if (n > 0)
		inval_name(w, dir, out, (size_t)n);
}

struct inval_all {
	struct vl_watch *w;
	struct vl_inode *dir;
};

static int inval_cb(void *ctx, const struct vl_dirent *de)
{
	struct inval_all *a = ctx;

	inval_name(a->w, a->dir, de->name, de->namelen);
	return 0;
}

/* dir's veilfs.dirid (or a copy of it) changed: re-read the ID; when it differs, every name
 * the kernel knows in dir was decrypted under the old one. */
static void dirid_event(struct vl_watch *w, struct vl_inode *dir)
{
	uint8_t old[VL_DIRID_LEN];
	struct inval_all a = {w, dir};
	bool changed;
	int dfd;

	struct vl_dirinfo *di;

	if (atomic_load(&dir->idwrites) > 0)
		return; /* our own rename rewrites them, and reads them again after */
	if (vl_watch_refresh_dirid(w->fs, dir, &changed, old) < 0 || !changed)
		return;
	vl_log(VL_LOG_INFO, "a directory's veilfs.dirid changed under the mount: names re-read");
	di = calloc(1, sizeof(*di));
	dfd = di ? vl_dir_open(dir->fd, ".") : -ENOMEM;
	if (dfd >= 0) {
		/* The names the kernel may know were decrypted under the old primary ID. */
		vl_inode_dirinfo(dir, di);
		memcpy(di->id, old, VL_DIRID_LEN);
		if (vl_dir_list(w->fs->vault, dfd, di, inval_cb, &a) < 0)
			vl_log(VL_LOG_WARN, "could not list a directory whose ID changed: names "
					    "it showed may stay for the cache timeout");
		close(dfd);
	}
	free(di);
}

/* A file of dir written, truncated or touched: when it is an inode the kernel knows and
 * the change is not ours, retire it and drop the kernel's name and pages of it. */
static void content_event(struct vl_watch *w, struct vl_inode *dir, const char *disk)
{
	struct vl_itable *t = w->fs->table;
	struct vl_inode *in;
	struct stat st;

	if (fstatat(dir->fd, disk, &st, AT_SYMLINK_NOFOLLOW) < 0 || S_ISDIR(st.st_mode))
		return;
	in = vl_itable_get(t, st.st_dev, st.st_ino);
	if (!in)
		return;
	if (vl_state_stale(in, &st)) {
		vl_itable_retire(t, in);
		(void)fuse_lowlevel_notify_inval_inode(w->se, nodeid(w, in), 0, 0);
		inval_disk(w, dir, disk, false);
	}
	vl_itable_forget(t, in, 1);
}

static void handle(struct vl_watch *w, const struct inotify_event *ev)
{
	struct vl_inode *dir;
	size_t len;
	bool ours = false;

	if (ev->mask & IN_Q_OVERFLOW) {
		degrade(w->fs, "the inotify queue overflowed");
		return;
	}
	pthread_mutex_lock(&w->mutex);
	dir = map_find(w, ev->wd);
	if (dir && (ev->mask & IN_IGNORED)) {
		/* The directory is gone (or unwatched): forget the watch. */
		map_del(w, ev->wd);
		dir->wd = -1;
		dir = NULL;
	}
	if (dir && ev->len && (ev->mask & VL_NAME_EVENTS))
		ours = xtake(w, ev->wd, ev->mask, ev->name);
	/* A reference, so that a forget does not free dir while we use it. */
	if (dir && dir != w->fs->root && !vl_itable_hold(w->fs->table, dir))
		dir = NULL;
	pthread_mutex_unlock(&w->mutex);
	if (!dir)
		return;
	if (ours || ev->len == 0)
		goto out;
	len = strlen(ev->name);
	if (!strcmp(ev->name, VL_DIRID_FILE) ||
	    (vl_conflict_is_reserved_copy(ev->name, len, NULL) && strstr(ev->name, "dirid"))) {
		dirid_event(w, dir);
		goto out;
	}
	switch (vl_name_classify(ev->name, len)) {
	case VL_ONDISK_SHORT:
	case VL_ONDISK_LONG:
		break;
	case VL_ONDISK_FOREIGN:
		if (vl_conflict_split(ev->name, len, NULL) == 0)
			goto out; /* junk, temporaries, foreign files: never shown */
		break;
	default:
		goto out; /* sidecars, veilfs.conf */
	}
	if (ev->mask & VL_NAME_EVENTS) {
		inval_disk(w, dir, ev->name, ev->mask & (IN_DELETE | IN_MOVED_FROM));
		(void)fuse_lowlevel_notify_inval_inode(w->se, nodeid(w, dir), -1, 0);
	} else if (ev->mask & VL_CONTENT_EVENTS) {
		content_event(w, dir, ev->name);
	}
out:
	if (dir != w->fs->root)
		vl_itable_forget(w->fs->table, dir, 1);
}

/* True for a named event that only says a file's contents or attributes changed. */
static bool content_only(const struct inotify_event *ev)
{
	return ev && ev->len && (ev->mask & VL_CONTENT_EVENTS) &&
	       !(ev->mask & (VL_NAME_EVENTS | IN_IGNORED | IN_Q_OVERFLOW));
}

static void *watch_main(void *arg)
{
	struct vl_watch *w = arg;
	/* Aligned for struct inotify_event; room for many events per read. */
	_Alignas(struct inotify_event) char buf[65536];

	for (;;) {
		struct pollfd p[2] = {{.fd = w->ifd, .events = POLLIN},
				      {.fd = w->efd, .events = POLLIN}};
		const struct inotify_event *prev = NULL;
		ssize_t n;

		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[1].revents)
			break;
		/* Let the burst arrive (or the stop: then at once). */
		if (poll(&p[1], 1, VL_WATCH_BATCH_MS) > 0)
			break;
		n = read(w->ifd, buf, sizeof(buf));
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			degrade(w->fs, "reading inotify events failed");
			break;
		}
		for (char *q = buf; q < buf + n;) {
			const struct inotify_event *ev = (const struct inotify_event *)q;

			/* A content event right after one for the same name checks the
			 * same file state (both are handled after the read): skip it. */
			if (!content_only(ev) || !content_only(prev) || prev->wd != ev->wd ||
			    strcmp(prev->name, ev->name) != 0)
				handle(w, ev);
			prev = ev;
			q += sizeof(*ev) + ev->len;
		}
	}
	return NULL;
}

int vl_watch_new(struct vl_watch **out, struct vl_fs *fs)
{
	struct vl_watch *w = calloc(1, sizeof(*w));

	*out = NULL;
	if (!w)
		return -ENOMEM;
	w->fs = fs;
	w->efd = -1;
	w->nmap = 256;
	w->map = calloc(w->nmap, sizeof(*w->map));
	w->xt = calloc(VL_EXPECT_CAP, sizeof(*w->xt));
	if (!w->map || !w->xt) {
		free(w->map);
		free(w->xt);
		free(w);
		return -ENOMEM;
	}
	pthread_mutex_init(&w->mutex, NULL);
	w->ifd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	if (w->ifd < 0) {
		degrade(fs, "inotify is not available");
		vl_watch_free(w);
		return 0;
	}
	*out = w;
	return 0;
}

int vl_watch_start(struct vl_watch *w, struct fuse_session *se)
{
	sigset_t all, old;
	int r;

	w->se = se;
	w->efd = eventfd(0, EFD_CLOEXEC);
	if (w->efd < 0)
		return -errno;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	r = pthread_create(&w->thread, NULL, watch_main, w);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r != 0)
		return -r;
	w->started = true;
	return 0;
}

void vl_watch_free(struct vl_watch *w)
{
	if (!w)
		return;
	if (w->started) {
		uint64_t one = 1;

		if (write(w->efd, &one, sizeof(one)) < 0)
			vl_log(VL_LOG_WARN, "could not stop the watch thread: %s", strerror(errno));
		else
			pthread_join(w->thread, NULL);
	}
	if (w->efd >= 0)
		close(w->efd);
	if (w->ifd >= 0)
		close(w->ifd);
	for (size_t i = 0; i < w->nmap; i++) {
		while (w->map[i]) {
			struct wnode *n = w->map[i];

			w->map[i] = n->next;
			n->dir->wd = -1;
			free(n);
		}
	}
	free(w->map);
	free(w->xt);
	pthread_mutex_destroy(&w->mutex);
	free(w);
}
