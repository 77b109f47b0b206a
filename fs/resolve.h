/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Plaintext paths and ciphertext paths of a vault, one implementation for veilctl (ls, cat,
 * export, import, encrypt-path, decrypt-path) and for the daemon's control socket. Paths
 * are walked component by component from the vault's root fd with *at() calls; `..' is
 * refused. No FUSE. */
#ifndef VEILFS_FS_RESOLVE_H
#define VEILFS_FS_RESOLVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "../crypto/common.h"
#include "dirinfo.h"
#include "dirs.h"

struct vl_vault;

/* Longest text vl_path_encrypt or vl_path_decrypt returns (a longer one is -ENAMETOOLONG):
 * a plaintext path of 32 KiB in one-byte components is about 1.8 MiB of ciphertext path,
 * so this bounds what a request can make the daemon build. */
#define VL_PATHTEXT_MAX (1u << 20)

/* A plaintext path resolved in the vault. */
struct vl_resolved {
	bool is_root;			 /* the path was empty, "/" or only "." components */
	int parentfd;			 /* backing dir holding the entry (-1 for the root) */
	struct vl_dirinfo pdi;		 /* its IDs and place (unset for the root) */
	struct vl_ename e;		 /* the entry's names (unset for the root) */
	struct stat st;			 /* fstatat of the entry (or of the root) */
	char *cpath;			 /* ciphertext path from CIPHERDIR, "." for the root */
};

/* Resolves plaintext path (components separated by '/'; empty components and "." are
 * skipped) with vl_dir_lookup_proving and the directories' IDs (fs/dirinfo.h). 0, or -errno with a one-line reason in
 * err: -ENOENT (missing), -ENOTDIR (a middle component is not a directory), -EINVAL (`..'
 * or a name that cannot be in a vault), -EIO (a directory ID that does not parse) ...
 * Release *res with vl_resolved_release, also after a failure. */
int vl_resolve(const struct vl_vault *v, const char *path, struct vl_resolved *res, char *err,
	       size_t errcap) VL_MUST_CHECK;
/* Closes parentfd and frees cpath; safe to call twice. */
void vl_resolved_release(struct vl_resolved *res);
/* Opens the resolved directory and reads its IDs into di. fd or -errno (-ENOTDIR). */
int vl_resolved_opendir(const struct vl_vault *v, const struct vl_resolved *res,
			struct vl_dirinfo *di) VL_MUST_CHECK;
/* Opens subdirectory entry e of directory fd (info di) and reads its IDs into out. fd or
 * -errno. */
int vl_subdir_open(const struct vl_vault *v, int fd, const struct vl_dirinfo *di,
		   const struct vl_ename *e, struct vl_dirinfo *out) VL_MUST_CHECK;

/* encrypt-path: the ciphertext path of plainpath relative to CIPHERDIR, then (format 1) one
 * line "sidecar: PATH" per component stored under a long name. Components that do not exist
 * are shown as they would be created (a regular file or directory, with the ID a new
 * directory would get). On success *out is a NUL-terminated text ending in a newline
 * (free() it). 0 or -errno with a reason in err. */
int vl_path_encrypt(const struct vl_vault *v, const char *plainpath, char **out, char *err,
		    size_t errcap) VL_MUST_CHECK;
/* decrypt-path: the plaintext path of cipherpath (relative to CIPHERDIR; a leading prefix
 * followed by '/' is dropped first when prefix is not NULL), followed by " (sidecar)" or
 * " (veilfs helper file)" when it names one. Long names are read from the entry (format 1:
 * long names and sidecars through their sidecar). *out as for vl_path_encrypt. 0 or -errno (-ENOENT: a long name whose directory
 * does not exist) with a reason in err. */
int vl_path_decrypt(const struct vl_vault *v, const char *prefix, const char *cipherpath,
		    char **out, char *err, size_t errcap) VL_MUST_CHECK;

#endif
