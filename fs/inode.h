/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The daemon's inode table: one entry per backing (st_dev, st_ino) that the kernel knows,
 * holding an O_PATH fd, the lookup count and per-inode state. No FUSE types here. */
#ifndef VEILFS_FS_INODE_H
#define VEILFS_FS_INODE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "../crypto/common.h"

struct vl_content;
struct vl_binding;
struct vl_dirinfo;

struct vl_inode {
	struct vl_inode *hnext; /* protected by the table mutex */
	uint64_t nlookup;	/* protected by the table mutex */
	/* Taken out of the table because someone else changed its backing file (fs/watch.c):
	 * the kernel's references and open handles keep it alive, a new lookup makes a new
	 * inode (a new nodeid, so a fresh kernel inode with the true size). Protected by the
	 * table mutex; never cleared. */
	bool retired;
	/* backing st_dev: the key, with ino. Changed only by vl_itable_rekey (under the table
	 * mutex), when a rename copied the backing file (format 2, fs/entry.c). */
	dev_t dev;
	ino_t ino;
	/* O_PATH|O_NOFOLLOW fd of the backing inode. The number never changes; a rename that
	 * copies the file points it to the copy with dup3 (atomic for any concurrent user). */
	int fd;
	mode_t type;		/* plaintext S_IFMT type; immutable */
	bool is_object;		/* backing regular file holding a symlink or special file */
	dev_t rdev;		/* devices: from the object; immutable */
	/* Directories: what the directory is, its IDs and its place (fs/dirinfo.h), which a
	 * sync client can change under a live mount (its veilfs.dirid deleted or replaced) and
	 * a rename through the mount changes. Read it with vl_inode_dirinfo or
	 * vl_inode_dirid; fs/watch.c refreshes it. Protected by idlock (a leaf lock). */
	pthread_mutex_t idlock;
	struct vl_dirinfo *di;
	/* Directories: ID-file writes of our own in progress (a rename rewrites the ID files of
	 * the directory it moves): fs/watch.c leaves their events alone, and the renamer reads
	 * the IDs again when it is done. */
	atomic_int idwrites;
	/* Regular and object files of a format-2 vault: where the file is bound (its header's
	 * parent, token and long name; fs/fileio.h), NULL in format 1. Protected by lock. */
	struct vl_binding *bind;
	atomic_bool is_long; /* the on-disk name is long (format 2's long header); set under lock */
	void *handles;	     /* fs/ops.c's open handles of this file; protected by lock */
	/* Directories: the veilfs.dirid file the IDs were last read from: (inode, mtime), or
	 * missing, when idfknown. A listing compares them with one fstatat and re-reads on a
	 * change (fs/watch.c). Protected by idlock. */
	bool idfknown, idfhave;
	ino_t idfino;
	struct timespec idfmtim;
	int wd; /* inotify watch of a directory, -1 when none; protected by the watch mutex */
	/* Contents lock: reads shared; writes, truncates, header creation exclusive. */
	pthread_rwlock_t lock;
	struct vl_content *content; /* regular and object files; protected by lock */
	unsigned nopen;		    /* open handles; protected by lock (write) */
	/* Non-directories: the backing size and mtime as our own last change (or the lookup
	 * that made the inode) left them. A difference means someone else changed the file
	 * (fs/watch.c). Written under lock (write), read under lock (read or write). */
	bool sknown;
	off_t ssize;
	struct timespec smtim;
	/* Unlinked (or replaced) through the mount: an open of it is not stale. */
	atomic_bool gone_ours;
	/* Directories: what the backing directory holds as far as a lookup of a missing name
	 * cares (ops.c dir_flags: VL_LOOKUP_* flags of fs/dirs.h), valid while the backing
	 * directory's mtime and size are dmtim and dsize. Protected by dlock (a leaf lock). */
	pthread_mutex_t dlock;
	bool dknown;
	unsigned dflags;
	struct timespec dmtim;
	off_t dsize;
};

struct vl_itable;

int vl_itable_new(struct vl_itable **out) VL_MUST_CHECK;
/* Frees every remaining inode (closing fds, wiping contents) and the table. */
void vl_itable_free(struct vl_itable *t);

/* Finds the inode of (dev, ino) and adds one lookup. NULL if it is not in the table. */
struct vl_inode *vl_itable_get(struct vl_itable *t, dev_t dev, ino_t ino);
/* True when (dev, ino) is in the table (a hint: it may be gone by the time it is used). */
bool vl_itable_has(struct vl_itable *t, dev_t dev, ino_t ino);
/* Inserts the fresh inode *in (nlookup 1) unless (dev, ino) is there already: then the
 * existing one gets one more lookup, *in is freed, and the existing one is returned. */
struct vl_inode *vl_itable_insert(struct vl_itable *t, struct vl_inode *in);
/* Drops n lookups; frees the inode at zero. */
void vl_itable_forget(struct vl_itable *t, struct vl_inode *in, uint64_t n);
/* Adds one lookup to in unless it is dying (lookup count 0): a reference for code that is
 * not a kernel request (fs/watch.c). False when dying. The caller guarantees that in is not
 * yet freed (the release hook below runs before every free). */
bool vl_itable_hold(struct vl_itable *t, struct vl_inode *in);
/* The backing file of in is now (dev, ino) (a rename that copied it): moves it in the table. */
void vl_itable_rekey(struct vl_itable *t, struct vl_inode *in, dev_t dev, ino_t ino);
/* Takes in out of the table (see vl_inode.retired); its lookups stay. */
void vl_itable_retire(struct vl_itable *t, struct vl_inode *in);
/* fn(ctx, in) runs before every inode of the table is freed, outside the table mutex. */
void vl_itable_on_release(struct vl_itable *t, void (*fn)(void *ctx, struct vl_inode *in),
			  void *ctx);
/* Calls fn(ctx, in) for every directory inode in the table, under the table mutex (fn must
 * not block nor take the table mutex). */
void vl_itable_each_dir(struct vl_itable *t, void (*fn)(void *ctx, struct vl_inode *in),
			void *ctx);

/* Copies a directory inode's current primary ID into id (under idlock). */
void vl_inode_dirid(struct vl_inode *in, uint8_t id[static VL_DIRID_LEN]);
/* Copies a directory inode's info into out (under idlock). */
void vl_inode_dirinfo(struct vl_inode *in, struct vl_dirinfo *out);
/* Replaces a directory inode's info (under idlock). 0 or -ENOMEM. */
int vl_inode_set_dirinfo(struct vl_inode *in, const struct vl_dirinfo *di) VL_MUST_CHECK;

/* A new unlinked inode owning fd (closed by vl_inode_free), nlookup 1. NULL on ENOMEM. */
struct vl_inode *vl_inode_new(int fd, dev_t dev, ino_t ino);
void vl_inode_free(struct vl_inode *in);

#endif
