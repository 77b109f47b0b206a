/* SPDX-License-Identifier: GPL-2.0-or-later */
/* One line of /proc/self/mountinfo (proc(5)), parsed strictly. The kernel writes the file,
 * but the paths in it are names anyone who can create a directory chose (a mount under the
 * synced folder has names the storage side picked), so the parser is bounded and fuzzed
 * (fuzz/fuzz_mountinfo.c). No allocation, no I/O. */
#ifndef VEILFS_FS_MOUNTINFO_H
#define VEILFS_FS_MOUNTINFO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "../crypto/common.h"

/* A parsed line. The strings point into the caller's line (unescaped in place). */
struct vl_mountinfo {
	uint64_t id;	    /* mount ID (statx's stx_mnt_id) */
	uint64_t parent;    /* parent mount ID */
	dev_t dev;	    /* st_dev of the file system */
	const char *root;   /* the mount's root within its file system ("/" for the whole) */
	const char *mnt;    /* mount point, relative to the process's root */
	const char *fstype; /* "ext4", "fuse.veilfs" ... */
};

/* Parses line (len bytes, without the '\n'; NUL bytes make it invalid), rewriting it in
 * place: "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPEROPTS".
 * ROOT and MOUNTPOINT must be absolute; their octal escapes (\040 for a space, \011, \012,
 * \134) are decoded, and a decoded NUL or any other backslash is refused. 0, or -EINVAL for
 * anything else. line must have room for len + 1 bytes (a NUL is written at len). */
int vl_mountinfo_parse(char *line, size_t len, struct vl_mountinfo *m) VL_MUST_CHECK;

/* True when path a is b or a directory below b, by components ("/a/b" is below "/a", "/ab"
 * is not). Both must be absolute, without "." or ".." components (as in mountinfo). */
bool vl_mountinfo_path_within(const char *a, const char *b);

#endif
