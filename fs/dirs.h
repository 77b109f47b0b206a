/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Directories of the ciphertext tree: directory IDs, name resolution (short and long
 * names, kinds), listing. No FUSE. */
#ifndef VEILFS_FS_DIRS_H
#define VEILFS_FS_DIRS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "../crypto/common.h"
#include "../crypto/names.h"

struct vl_vault;

/* An entry's names in its ciphertext directory. */
struct vl_ename {
	char full[VL_ENCNAME_MAX + 1]; /* full encoded name, marker included */
	size_t fulllen;
	char disk[VL_ENCNAME_MAX + 1]; /* name in the backing dir: full, or the long name */
	char sidecar[VL_LONGNAME_LEN + 1]; /* sidecar name when is_long, else "" */
	bool is_long;
	enum vl_kind kind;
};

/* Reads the ID of directory dirfd from its veilfs.dirid. If the file is missing and
 * parent_id/enc are given, re-derives it (never writes; logs once). The root passes
 * parent_id == NULL and gets the root ID when the file is missing. 0 or -errno (-EIO for a
 * malformed file). */
int vl_dir_read_id(const struct vl_vault *v, int dirfd, const uint8_t *parent_id,
		   const char *enc, size_t enclen, uint8_t id[static VL_DIRID_LEN]) VL_MUST_CHECK;
/* Computes the encoded, on-disk and sidecar names of plaintext name with kind in a
 * directory with ID dirid. -EINVAL for an invalid name. */
int vl_ename_make(const struct vl_vault *v, const uint8_t dirid[static VL_DIRID_LEN],
		  const char *name, size_t len, enum vl_kind kind, struct vl_ename *e) VL_MUST_CHECK;
/* Finds plaintext name in dirfd: tries the plain kind, then the object kind. Fills *e and
 * *st (fstatat, AT_SYMLINK_NOFOLLOW). 0, -ENOENT, or -errno. */
int vl_dir_lookup(const struct vl_vault *v, int dirfd, const uint8_t dirid[static VL_DIRID_LEN],
		  const char *name, size_t len, struct vl_ename *e, struct stat *st) VL_MUST_CHECK;
/* For a long name, writes the sidecar atomically (before the entry is created). No-op for
 * short names. 0 or -errno. */
int vl_dir_put_sidecar(int dirfd, const struct vl_ename *e) VL_MUST_CHECK;
/* Removes the sidecar of a long name after the entry was removed or renamed away; missing
 * is not an error. */
int vl_dir_drop_sidecar(int dirfd, const struct vl_ename *e) VL_MUST_CHECK;
/* Creates directory e->disk in parentfd with mode, its veilfs.dirid (ID derived from
 * parent_id and e->full) and, for a long name, the sidecar first. On failure removes what
 * it made. Returns the new ID in id. 0 or -errno (-EEXIST ...). */
int vl_dir_make(const struct vl_vault *v, int parentfd, const uint8_t parent_id[static VL_DIRID_LEN],
		const struct vl_ename *e, mode_t mode, uint8_t id[static VL_DIRID_LEN]) VL_MUST_CHECK;

/* One listed entry. */
struct vl_dirent {
	const char *name; /* plaintext, NUL-terminated */
	size_t namelen;
	const char *disk; /* on-disk name */
	enum vl_kind kind;
	unsigned char d_type; /* backing d_type (DT_REG, DT_DIR, DT_UNKNOWN ...) */
	uint64_t d_ino;	      /* backing inode number */
};
/* Lists directory dirfd (ID dirid): calls cb for every entry whose name decrypts (short
 * names, and long names whose sidecar verifies). Reserved names, sidecars and foreign
 * files are skipped quietly; undecryptable names are skipped and logged once. Never writes.
 * cb returns 0 to continue, or non-zero to stop (returned). 0 or -errno. */
int vl_dir_list(const struct vl_vault *v, int dirfd, const uint8_t dirid[static VL_DIRID_LEN],
		int (*cb)(void *ctx, const struct vl_dirent *de), void *ctx) VL_MUST_CHECK;

#endif
