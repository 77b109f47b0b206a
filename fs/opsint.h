/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What the files of the FUSE layer share (fs/ops.c, fs/opsdir.c, fs/opsxattr.c): request
 * helpers, the handle list, lookups, and the operations that live outside fs/ops.c. Not
 * used outside the daemon's FUSE layer. Locks and conventions as stated in fs/ops.c. */
#ifndef VEILFS_FS_OPSINT_H
#define VEILFS_FS_OPSINT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

#include "../crypto/common.h"
#include "entry.h"
#include "ops.h"

struct vl_dh;

/* The mount of req, its request counted for --idle. */
struct vl_fs *vl_op_enter(fuse_req_t req);
/* The inode of FUSE node ID n. */
struct vl_inode *vl_op_inode_of(fuse_req_t req, fuse_ino_t n);
/* Puts l (a file or directory handle) on / takes it off the mount's list of open handles
 * (under fs->hmutex). */
void vl_op_handle_add(struct vl_fs *fs, struct vl_hlink *l, bool is_dir);
void vl_op_handle_del(struct vl_fs *fs, struct vl_hlink *l);
/* "/proc/self/fd/FD": for the calls that have no *at() form on an O_PATH fd. */
void vl_op_proc_path(char buf[static 32], int fd);
/* Opens in's backing file (an O_PATH fd) again with flags. The fd or -errno. */
int vl_op_reopen(const struct vl_inode *in, int flags) VL_MUST_CHECK;
/* Looks name (len bytes) up in dir: its names in e, its attributes in st. 0 or -errno. */
int vl_op_dir_lookup(struct vl_fs *fs, struct vl_inode *dir, const char *name, size_t len,
		     struct vl_ename *e, struct stat *st) VL_MUST_CHECK;
/* Looks the entry e of parent up: one more lookup on the inode, attributes in ep; _st
 * with its attributes known (fstatat of e->disk), or known NULL. 0 or -errno. */
int vl_op_lookup_ename(struct vl_fs *fs, struct vl_inode *parent, const struct vl_ename *e,
		       struct fuse_entry_param *ep) VL_MUST_CHECK;
int vl_op_lookup_ename_st(struct vl_fs *fs, struct vl_inode *parent, const struct vl_ename *e,
			  const struct stat *known, struct fuse_entry_param *ep) VL_MUST_CHECK;
/* Undoes a lookup that a reply could not deliver. */
void vl_op_unlookup(struct vl_fs *fs, fuse_ino_t ino);
/* After a change of our own to in's backing file (open as fd): records the state it left
 * (fs/watch.c tells ours from a sync client's by it). Caller holds in->lock for writing. */
void vl_op_note_own(struct vl_inode *in, int fd);

/* fs/opsdir.c: directory handles. vl_op_dh_free accepts NULL. */
void vl_op_dh_free(struct vl_dh *d);
void vl_op_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void vl_op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		   struct fuse_file_info *fi);
void vl_op_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		       struct fuse_file_info *fi);
void vl_op_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void vl_op_fsyncdir(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi);

/* fs/opsxattr.c: extended attributes (FORMAT.md §6). */
void vl_op_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size);
void vl_op_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name, const char *value,
		    size_t size, int flags);
void vl_op_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size);
void vl_op_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name);

#endif
