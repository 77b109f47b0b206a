/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The FUSE low-level operations of the daemon and the state they share. */
#ifndef VEILFS_FS_OPS_H
#define VEILFS_FS_OPS_H

#define FUSE_USE_VERSION 312
#include <fuse_lowlevel.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "inode.h"

struct vl_vault;
struct vl_watch;

/* Entry and attribute timeout once changes under the mount can no longer be watched
 * (fs/watch.c: inotify missing, its queue overflowed, or out of watches). */
#define VL_DEGRADED_TIMEOUT 0.1

/* Open handles are linked in vl_fs so that the ones the kernel never released (a lazy
 * unmount, an aborted connection) are freed at exit. */
struct vl_hlink {
	struct vl_hlink *prev, *next;
	bool is_dir;
};

struct vl_fs {
	struct vl_vault *vault; /* owned */
	struct vl_itable *table; /* owned */
	struct vl_inode *root;	 /* FUSE_ROOT_ID; not in the table; owned */
	double timeout;		 /* entry and attribute timeout, seconds */
	bool readonly;		 /* -o ro: never write to the backing tree */
	bool sharedstorage;	 /* no writeback cache, timeouts 0 */
	bool debug;
	bool writeback;		 /* negotiated in init: the kernel places O_APPEND writes */
	bool is_root;		 /* euid 0: chown new entries to the caller */
	struct vl_watch *watch;	 /* owned; NULL with --sharedstorage or without inotify */
	atomic_bool degraded;	 /* changes are not watched: VL_DEGRADED_TIMEOUT */
	/* For --idle: requests seen and handles open. */
	atomic_uint_fast64_t nrequests;
	atomic_int nhandles;
	pthread_mutex_t hmutex;
	struct vl_hlink handles; /* list head; protected by hmutex */
};

/* Makes the state for vault v (taking ownership of v only on success). 0 or -errno. */
int vl_fs_new(struct vl_fs **out, struct vl_vault *v, bool readonly, bool sharedstorage,
	      bool debug) VL_MUST_CHECK;
/* Frees the inode table and the vault (wiping keys); NULL is a no-op. */
void vl_fs_free(struct vl_fs *fs);

/* Starts the thread that follows changes made under the mount by other programs (after
 * the daemon has forked, before the session loop); stops it (before se goes). */
int vl_fs_watch_start(struct vl_fs *fs, struct fuse_session *se) VL_MUST_CHECK;
void vl_fs_watch_stop(struct vl_fs *fs);

extern const struct fuse_lowlevel_ops vl_fuse_ops;

#endif
