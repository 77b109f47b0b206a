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
#include "../crypto/conflict.h"
#include "../crypto/names.h"

struct vl_vault;

/* An entry's names in its ciphertext directory. */
struct vl_ename {
	char full[VL_ENCNAME_MAX + 1]; /* full encoded name, marker included */
	size_t fulllen;
	char disk[VL_ENCNAME_MAX + 1]; /* name in the backing dir: full, or the long name */
	/* Sidecar name when is_long, else "". A conflict copy of a long name ('8' hash S) has
	 * its own sidecar ('9' hash S) when the sync client copied that one too; when it shares
	 * the original's, this is "": removing the copy must not remove the original's. */
	char sidecar[VL_CONFLICT_NAME_MAX + 1];
	bool is_long;
	/* A sync client's conflict copy: disk is full (or the long name) followed by the
	 * provider's text (docs/SYNC.md); full is the original entry's encoded name. */
	bool is_conflict;
	/* The name is encrypted under altid, the ID held by a sync client's conflict copy of
	 * the directory's veilfs.dirid (the directory was made twice under two IDs: renamed on
	 * one device, created on another; docs/SYNC.md). Renaming the entry re-encrypts its
	 * name under the directory's own ID. */
	bool is_alt;
	uint8_t altid[VL_DIRID_LEN];
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
 * *st (fstatat, AT_SYMLINK_NOFOLLOW). When neither exists, resolves name as the display name
 * of a conflict copy (as vl_dir_list shows it): only names with an ASCII space or punctuation
 * character after their first byte cost anything more (at most VL_CONFLICT_LOOKUP_MAX
 * candidate splits, two encryptions and two fstatat each; a fallback-form name lists the
 * directory). Then e->is_conflict is set and e->disk is the copy's on-disk name.
 * Last, when the directory has conflict copies of its veilfs.dirid, tries the same under
 * each of their IDs (found once exactly: e->is_alt). Whether it has any is cached per
 * directory (see vl_dir_alt_ids_cached): one fstat per negative lookup.
 * 0, -ENOENT (with the plain kind's names of name in *e), or -errno. */
int vl_dir_lookup(const struct vl_vault *v, int dirfd, const uint8_t dirid[static VL_DIRID_LEN],
		  const char *name, size_t len, struct vl_ename *e, struct stat *st) VL_MUST_CHECK;
/* Flags of vl_dir_lookup_flags, for a caller that knows what the backing directory holds
 * (fs/ops.c keeps that per directory inode, keyed by the directory's mtime). */
/* No object names ('1...', nor long names '8...', whose kind is unknown): skip the object
 * kind's fstatat. */
#define VL_LOOKUP_NO_OBJECTS 1u
/* No conflict copy E || S of any entry and no copy of veilfs.dirid: a name not found as
 * is gets -ENOENT at once (no display-name, fallback-form or other-ID search). */
#define VL_LOOKUP_NO_CONFLICTS 2u
/* vl_dir_lookup with flags (0: the same as vl_dir_lookup). */
int vl_dir_lookup_flags(const struct vl_vault *v, int dirfd, const uint8_t dirid[static VL_DIRID_LEN],
			const char *name, size_t len, struct vl_ename *e, struct stat *st,
			unsigned flags) VL_MUST_CHECK;
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

/* Most conflict copies of veilfs.dirid whose IDs are used in one directory. */
#define VL_DIRID_ALT_MAX 8
/* Reads the IDs held by sync clients' conflict copies of veilfs.dirid in dirfd
 * (vl_conflict_is_reserved_copy), each strictly parsed (malformed ones are logged and
 * skipped), without primary and duplicates, at most VL_DIRID_ALT_MAX (more are logged).
 * Lists dirfd; never writes. Returns how many, or -errno. */
int vl_dir_alt_ids(int dirfd, const uint8_t primary[static VL_DIRID_LEN],
		   uint8_t ids[VL_DIRID_ALT_MAX][VL_DIRID_LEN]) VL_MUST_CHECK;
/* The same through a small process-wide cache keyed by the backing directory (device,
 * inode), its ID and its mtime: re-read when the mtime changed, but at most once a second
 * per directory (a create loop changes the mtime every time; a listing refreshes the entry
 * for free). A directory that cannot be read has none. Thread-safe. Returns how many. */
unsigned vl_dir_alt_ids_cached(int dirfd, const uint8_t primary[static VL_DIRID_LEN],
			       uint8_t ids[VL_DIRID_ALT_MAX][VL_DIRID_LEN]);

/* Most candidate splits a lookup of a display name tries (vl_conflict_candidates). */
#define VL_CONFLICT_LOOKUP_MAX 32
/* Most conflict copies listed in one directory (more are skipped and logged). */
#define VL_CONFLICT_LIST_MAX 4096

/* One listed entry. */
struct vl_dirent {
	const char *name; /* plaintext (a conflict copy's display name), NUL-terminated */
	size_t namelen;
	const char *disk; /* on-disk name */
	enum vl_kind kind;
	unsigned char d_type; /* backing d_type (DT_REG, DT_DIR, DT_UNKNOWN ...) */
	uint64_t d_ino;	      /* backing inode number */
	/* Conflict copies only (else NULL/0): the original's plaintext name, the provider's
	 * text, and the copy's names as vl_dir_lookup returns them. */
	const char *orig;
	size_t origlen;
	const char *suffix;
	size_t suffixlen;
	const struct vl_ename *conflict;
	/* Conflict copies and entries named under a veilfs.dirid copy's ID (names->is_alt),
	 * else NULL: the names vl_dir_lookup returns for this entry. */
	const struct vl_ename *names;
};
/* Lists directory dirfd (ID dirid): calls cb for every entry whose name decrypts (short
 * names, and long names whose sidecar verifies), then for every conflict copy (FORMAT.md
 * §4.2, docs/SYNC.md) under its display name: the provider's text inserted before the
 * extension, or the fallback form when that collides with an entry or another copy or
 * exceeds 255 bytes. Names (and copies) that do not decrypt under dirid are retried under
 * the IDs of the directory's veilfs.dirid conflict copies and listed under their own name,
 * or, when that names another entry, in the fallback form with the text " (other
 * directory ID)". Reserved names, sidecars, junk and other foreign files are skipped
 * quietly; undecryptable names are skipped and logged once. Never writes. cb returns 0 to
 * continue, or non-zero to stop (returned). 0 or -errno. */
int vl_dir_list(const struct vl_vault *v, int dirfd, const uint8_t dirid[static VL_DIRID_LEN],
		int (*cb)(void *ctx, const struct vl_dirent *de), void *ctx) VL_MUST_CHECK;

/* The plaintext name that a listing shows for on-disk name dname (NUL-terminated) in
 * dirfd (ID id) when dname is an entry's own name: short names decrypt, long names through
 * their sidecar. For fs/watch.c, which tells the kernel which names changed. Returns its
 * length; -ENOENT for names that are not entries (reserved, sidecar, foreign, conflict
 * copies); -EBADMSG when it does not decrypt under id; else -errno (logged). */
int vl_dir_entry_name(const struct vl_vault *v, int dirfd, const uint8_t id[static VL_DIRID_LEN],
		      const char *dname, char plain[static 256]) VL_MUST_CHECK;

#endif
