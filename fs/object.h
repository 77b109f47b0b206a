/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Object files: symlinks and special files stored as regular ciphertext files
 * (FORMAT.md §6). */
#ifndef VEILFS_FS_OBJECT_H
#define VEILFS_FS_OBJECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "../crypto/common.h"

struct vl_vault;
struct vl_binding;

#define VL_SYMLINK_MAX 4095

struct vl_object {
	mode_t type;   /* S_IFLNK, S_IFIFO, S_IFSOCK, S_IFCHR or S_IFBLK */
	dev_t rdev;    /* devices */
	size_t tlen;   /* symlink target length */
	char target[VL_SYMLINK_MAX + 1]; /* symlink target, NUL-terminated */
};

/* Reads and authenticates the object file open as fd (format 2: bound by b). 0 or
 * -EIO/-errno. */
int vl_object_read(const struct vl_vault *v, int fd, const struct vl_binding *b,
		   struct vl_object *o) VL_MUST_CHECK;
/* Writes object o into the empty regular file open as fd (O_RDWR; format 2: bound by b).
 * 0 or -errno. */
int vl_object_write(const struct vl_vault *v, int fd, const struct vl_binding *b,
		    const struct vl_object *o) VL_MUST_CHECK;
/* st_size of a symlink object from its ciphertext size (plaintext size - 1); long_name: its
 * on-disk name is long (format 2's long header). */
int vl_object_symlink_size(const struct vl_vault *v, bool long_name, uint64_t csize,
			   uint64_t *size) VL_MUST_CHECK;

#endif
