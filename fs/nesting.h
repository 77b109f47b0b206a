/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Whether one directory lies inside another, seen through symlinks and bind mounts: the
 * check that keeps plaintext out of the ciphertext directory (a mountpoint, or an export
 * destination, inside CIPHERDIR would put plaintext where the sync client uploads it;
 * CIPHERDIR inside the mountpoint would show the plaintext view to the sync client under
 * the synced folder's path). Directories are compared by device and inode, never by path
 * strings. Shared by veilfs and veilctl. */
#ifndef VEILFS_FS_NESTING_H
#define VEILFS_FS_NESTING_H

#include "../crypto/common.h"

enum vl_nesting {
	VL_NEST_APART,	/* neither is inside the other */
	VL_NEST_SAME,	/* one directory (perhaps reached by two paths) */
	VL_NEST_A_IN_B, /* a is below b */
	VL_NEST_B_IN_A, /* b is below a */
};

/* Most directories one walk visits (ancestors, and their other places under bind mounts). */
#define VL_NEST_MAX_NODES 65536

/* Decides how directories a and b (open fds of any kind, O_PATH included) nest. From each,
 * walks ".." up to the root of the mount namespace, collecting (st_dev, st_ino). Where the
 * walk reaches the root of a mount that shows a subdirectory of its file system (a bind
 * mount; ".." there leaves the file system), it also continues from every other place the
 * same directory is mounted (/proc/self/mountinfo: another mount of the same device whose
 * root is an ancestor of this one's), each opened and checked by device and inode before
 * it is used. Never waits on a FUSE daemon (statx with AT_STATX_DONT_SYNC, O_PATH opens).
 * 0 and *how, or -errno (-ELOOP past VL_NEST_MAX_NODES). */
int vl_nesting(int a, int b, enum vl_nesting *how) VL_MUST_CHECK;

/* True when directory fd is the root of a mount (of any file system, bind mounts included).
 * 1, 0, or -errno. Never waits on a FUSE daemon. */
int vl_is_mount_root(int fd) VL_MUST_CHECK;

#endif
