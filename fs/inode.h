/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The daemon's inode table: one entry per backing (st_dev, st_ino) that the kernel knows,
 * holding an O_PATH fd, the lookup count and per-inode state. No FUSE types here. */
#ifndef VEILFS_FS_INODE_H
#define VEILFS_FS_INODE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "../crypto/common.h"

struct vl_content;

struct vl_inode {
	struct vl_inode *hnext; /* protected by the table mutex */
	uint64_t nlookup;	/* protected by the table mutex */
	dev_t dev;		/* backing st_dev: the key, with ino; immutable */
	ino_t ino;
	int fd;			/* O_PATH|O_NOFOLLOW fd of the backing inode; immutable */
	mode_t type;		/* plaintext S_IFMT type; immutable */
	bool is_object;		/* backing regular file holding a symlink or special file */
	dev_t rdev;		/* devices: from the object; immutable */
	uint8_t dirid[VL_DIRID_LEN]; /* directories: read once at creation; immutable */
	/* Contents lock: reads shared; writes, truncates, header creation exclusive. */
	pthread_rwlock_t lock;
	struct vl_content *content; /* regular and object files; protected by lock */
	unsigned nopen;		    /* open handles; protected by lock (write) */
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

/* A new unlinked inode owning fd (closed by vl_inode_free), nlookup 1. NULL on ENOMEM. */
struct vl_inode *vl_inode_new(int fd, dev_t dev, ino_t ino);
void vl_inode_free(struct vl_inode *in);

#endif
