/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Backing I/O: the only code that touches the ciphertext directory. Every call is an *at()
 * call relative to a directory fd, with O_NOFOLLOW; paths are never joined as strings. */
#ifndef VEILFS_FS_BACKING_H
#define VEILFS_FS_BACKING_H

#include <dirent.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "../crypto/common.h"

/* Opens directory name under dirfd (O_RDONLY|O_DIRECTORY|O_NOFOLLOW|O_CLOEXEC).
 * name may be "." . Returns the fd or -errno. */
int vl_dir_open(int dirfd, const char *name) VL_MUST_CHECK;
/* Opens a directory stream on directory dirfd (which may be an O_PATH fd) through a new
 * file description of ".", so that two listings of one directory never share an offset.
 * 0 and *out set (closedir() it), or -errno. */
int vl_dir_stream(int dirfd, DIR **out) VL_MUST_CHECK;
/* pread/pwrite that loop over short transfers and EINTR. read returns bytes read (less
 * than len only at end of file) or -errno; write returns 0 or -errno. */
ssize_t vl_pread_full(int fd, void *buf, size_t len, uint64_t off) VL_MUST_CHECK;
int vl_pwrite_full(int fd, const void *buf, size_t len, uint64_t off) VL_MUST_CHECK;
/* Reads the whole regular file name under dirfd into buf (cap bytes). Returns its length,
 * -EFBIG if it is larger than cap, or -errno (ENOENT when missing). */
ssize_t vl_read_small(int dirfd, const char *name, void *buf, size_t cap) VL_MUST_CHECK;
/* Writes a file atomically: a temporary name in dirfd, fsync, renameat over name, fsync of
 * dirfd. With noreplace, fails with -EEXIST instead of replacing. 0 or -errno. */
int vl_write_atomic(int dirfd, const char *name, const void *buf, size_t len, mode_t mode,
		    bool noreplace) VL_MUST_CHECK;
/* Prefix of the temporary names that veilfs and veilctl write in the ciphertext directory:
 * starts with '.', so it classifies as a foreign name and listings skip it; one left by a
 * crash is removed by fsck --repair and by a resumed upgrade. */
#define VL_TMP_PREFIX ".veilfs.tmp."
/* The size of a buffer for vl_tmp_name: the prefix, 24 hex digits and the NUL. */
#define VL_TMP_NAME_SIZE (sizeof(VL_TMP_PREFIX) + 24)
/* A fresh temporary name (VL_TMP_PREFIX and 96 random bits in hex) in out. 0 or -errno. */
int vl_tmp_name(char out[static VL_TMP_NAME_SIZE]) VL_MUST_CHECK;
/* Copies the user.* extended attributes of the backing file src to dst as they are (their
 * values are sealed to the file ID, which a copy keeps). Attributes that cannot be read are
 * skipped. 0 or -errno. */
int vl_copy_user_xattrs(int src, int dst) VL_MUST_CHECK;
/* Returns the path of fd in the ciphertext tree for log messages only (readlink of
 * /proc/self/fd/N; "?" if unknown). Never used to open anything. */
const char *vl_fd_path(int fd, char *buf, size_t cap);

#endif
