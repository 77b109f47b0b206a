/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Reading /proc/self/mountinfo (proc(5)): which mount a path or a device number is, in the
 * caller's mount namespace. Used by the daemon (the device number of the mount it just
 * made: a stat() of the mountpoint would wait for its own session loop) and by veilctl
 * (is this path the root of a veilfs mount, and whose). */
#ifndef VEILFS_FS_MOUNTINFO_H
#define VEILFS_FS_MOUNTINFO_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "../crypto/common.h"

/* One line of mountinfo, unescaped (\040 and the like). */
struct vl_mountent {
	dev_t dev;		    /* st_dev of files on the mount (major:minor) */
	char mountpoint[PATH_MAX];  /* where it is mounted, as the kernel shows it */
	char fstype[64];	    /* "fuse.veilfs", "ext4" ... */
	long owner;		    /* FUSE mounts: the user_id= super option, else -1 */
};

/* Finds the newest mount (the last line: mounts stacked on one path are listed in the order
 * they were made) that matches: mountpoint equal to mnt when mnt is not NULL, and device
 * number equal to dev when dev is not 0. 0 and *out, -ENOENT when none matches, or
 * -errno. Lines longer than the longest path the kernel can show are skipped. */
int vl_mountinfo_find(const char *mnt, dev_t dev, struct vl_mountent *out) VL_MUST_CHECK;
/* Parses one mountinfo line (no newline) of len bytes into *out. 0, or -EINVAL for a line
 * that does not have the documented shape. Exposed for the unit tests. */
int vl_mountinfo_parse(const char *line, size_t len, struct vl_mountent *out) VL_MUST_CHECK;

#endif
