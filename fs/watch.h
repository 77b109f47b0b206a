/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Coherence with a sync client that changes the ciphertext directory under a live mount
 * (issue 11, docs/SYNC.md "Sync while mounted"): one inotify watch per backing directory
 * that the kernel knows, a thread that turns other programs' changes into kernel cache
 * invalidations, and the per-inode record of our own last change that tells ours from
 * theirs. */
#ifndef VEILFS_FS_WATCH_H
#define VEILFS_FS_WATCH_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/inotify.h>
#include <sys/stat.h>

#include "inode.h"

struct vl_fs;
struct vl_watch;
struct fuse_session;

/* Makes the watcher of fs (an inotify instance; no thread yet). When inotify is not
 * available, *out is NULL and the mount falls back to short timeouts (logged). 0 or
 * -errno (-ENOMEM). */
int vl_watch_new(struct vl_watch **out, struct vl_fs *fs) VL_MUST_CHECK;
/* Starts the thread that sends the kernel invalidations through se. 0 or -errno. */
int vl_watch_start(struct vl_watch *w, struct fuse_session *se) VL_MUST_CHECK;
/* Stops the thread (before se goes away) and frees; NULL is a no-op. */
void vl_watch_free(struct vl_watch *w);
/* Watches directory inode dir (idempotent). Running out of watches degrades the mount
 * (logged once). */
void vl_watch_dir(struct vl_watch *w, struct vl_inode *dir);
/* The inode table's release hook: forgets dir's watch before the inode is freed. */
void vl_watch_release(void *ctx, struct vl_inode *in);

/* Our own change of a name: before the system call, vl_watch_expect(dir, mask, disk) with
 * mask one of IN_CREATE, IN_DELETE, IN_MOVED_FROM, IN_MOVED_TO, so that the thread skips
 * the event it makes; vl_watch_unexpect when the call failed (no event comes). */
void vl_watch_expect(struct vl_watch *w, const struct vl_inode *dir, uint32_t mask,
		     const char *disk);
void vl_watch_unexpect(struct vl_watch *w, const struct vl_inode *dir, uint32_t mask,
		       const char *disk);

/* Records st (the backing file's attributes after our own change) as in's known state.
 * Caller holds in->lock for writing. */
void vl_state_note(struct vl_inode *in, const struct stat *st);
/* True when st differs from in's known state: someone else changed the backing file.
 * Caller holds in->lock (read or write). */
bool vl_state_changed(const struct vl_inode *in, const struct stat *st);
/* The same check for an inode found by a lookup, with the entry's attributes st (taken
 * without the lock): confirms a difference under in->lock with a fresh fstat. */
bool vl_state_stale(struct vl_inode *in, const struct stat *st);

/* Re-reads directory dir's veilfs.dirid (re-deriving a missing one as a fresh mount
 * would). Sets *changed and old (the ID before) when it differs. 0 or -errno. */
int vl_watch_refresh_dirid(struct vl_fs *fs, struct vl_inode *dir, bool *changed,
			   uint8_t old[static VL_DIRID_LEN]) VL_MUST_CHECK;

/* For a listing of dir: re-reads its ID when its veilfs.dirid is not the file it was last
 * read from (one fstatat), so that a listing right after a sync client replaced or
 * deleted it does not wait for the watch thread. */
void vl_watch_check_dirid(struct vl_fs *fs, struct vl_inode *dir);

#endif
