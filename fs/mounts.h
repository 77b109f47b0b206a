/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Which mount a path or a device number is, in the caller's mount namespace, from
 * /proc/self/mountinfo (lines parsed by fs/mountinfo.c). Used by the daemon (the device
 * number of the mount it just made: a stat() of the mountpoint would wait for its own
 * session loop), by veilctl (is this path the root of a veilfs mount) and by veilctl run
 * (has the daemon mounted yet). */
#ifndef VEILFS_FS_MOUNTS_H
#define VEILFS_FS_MOUNTS_H

#include <limits.h>
#include <sys/types.h>

#include "../crypto/common.h"

/* A mount, copied out of its mountinfo line. */
struct vl_mountent {
	dev_t dev;		   /* st_dev of files on the mount (major:minor) */
	char mountpoint[PATH_MAX]; /* where it is mounted, as the kernel shows it */
	char fstype[64];	   /* "fuse.veilfs", "ext4" ... */
};

/* Finds the newest mount (the last matching line: mounts stacked on one path are listed in
 * the order they were made) whose mountpoint is mnt when mnt is not NULL, and whose device
 * number is dev when dev is not 0. 0 and *out, -ENOENT when none matches, or -errno. Lines
 * that do not parse, or are longer than any the kernel writes, are skipped. */
int vl_mount_find(const char *mnt, dev_t dev, struct vl_mountent *out) VL_MUST_CHECK;

#endif
