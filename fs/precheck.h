/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Checks of the command line made before any password is asked for and before anything is
 * mounted or written, shared by veilfs and veilctl: the cipher directory, the config, the
 * mountpoint, and that no plaintext directory nests with the cipher directory (issue 9 §2,
 * §5). Each failure comes with a one-line message in err that names full paths and says
 * what to do; the caller picks the exit status by which check failed. */
#ifndef VEILFS_FS_PRECHECK_H
#define VEILFS_FS_PRECHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "../crypto/common.h"

/* path as a message should show it: absolute (the current directory put in front of a
 * relative path; nothing resolved, so it is what the user typed). malloc()ed, NULL when out
 * of memory. */
char *vl_path_shown(const char *path);

/* Opens the cipher directory (a symlink given on the command line is followed: the user
 * chose it). O_RDONLY|O_DIRECTORY fd, or -errno (-ENOENT, -ENOTDIR, -EACCES ...). */
int vl_precheck_cipherdir(const char *cipherdir, char *err, size_t errcap) VL_MUST_CHECK;

/* Reads and parses the config exactly as unlocking will (config_path, else veilfs.conf in
 * cipherfd), so that a missing, unreadable, oversized or malformed config is reported as a
 * config problem before a password is asked for. A CIPHERDIR without veilfs.conf and
 * without config_path is "not a veilfs vault" (-ENOENT), unless missing_ok (a recovery with
 * the master key needs no config). 0 or -errno. */
int vl_precheck_config(int cipherfd, const char *cipherdir, const char *config_path,
		       bool missing_ok, char *err, size_t errcap) VL_MUST_CHECK;

/* Checks a mountpoint: an existing directory, not already the root of a mount (of this
 * vault or any other: a second mount would hide the first), and empty unless nonempty.
 * Never waits on a FUSE daemon. O_PATH fd of it, or -errno (-EBUSY: already a mount). */
int vl_precheck_mountpoint(const char *mnt, bool nonempty, char *err, size_t errcap) VL_MUST_CHECK;

/* Refuses when directory fd (path names it in messages; what says what it is: "the
 * mountpoint", "the export destination" ...) and the cipher directory cipherfd are one
 * directory or either lies inside the other, through symlinks and bind mounts
 * (vl_nesting). 0; -EPERM when they nest (err says which way and why that is refused); or
 * -errno when it cannot be checked (refuse then too). */
int vl_precheck_apart(int cipherfd, const char *cipherdir, int fd, const char *path,
		      const char *what, char *err, size_t errcap) VL_MUST_CHECK;

/* True when fd is still the directory (device, inode) that ref was opened on. */
bool vl_same_dir(int fd, int ref);

#endif
