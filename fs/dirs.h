/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Entries of the ciphertext tree's directories: names (short and long names, kinds, conflict
 * copies, names under a directory's other IDs), lookups and listings, and making and removing
 * entries with what each format needs (FORMAT.md §4, §5; FORMAT-v1.md §4, §5). With
 * fs/dirinfo.c, the one resolver that the mount, fsck, the browsing commands and conflicts use.
 * No FUSE. */
#ifndef VEILFS_FS_DIRS_H
#define VEILFS_FS_DIRS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "../crypto/common.h"
#include "../crypto/conflict.h"
#include "../crypto/names.h"
#include "dirinfo.h"

struct vl_vault;
struct vl_binding;

/* An entry's names in its ciphertext directory. */
struct vl_ename {
	char full[VL_ENCNAME_MAX + 1]; /* full encoded name, marker included ("" when lost) */
	size_t fulllen;
	char disk[VL_ENCNAME_MAX + 1]; /* name in the backing dir: full, or the long name */
	/* Format 1: sidecar name when is_long, else "". A conflict copy of a long name ('8' hash
	 * S) has its own sidecar ('9' hash S) when the sync client copied that one too; when it
	 * shares the original's, this is "": removing the copy must not remove the original's. */
	char sidecar[VL_CONFLICT_NAME_MAX + 1];
	bool is_long;
	/* A sync client's conflict copy: disk is the entry's on-disk name followed by the
	 * provider's text (docs/SYNC.md); full is the original entry's encoded name. */
	bool is_conflict;
	/* The name is encrypted under altid, another ID of the directory than its primary
	 * (a sync client's copy of veilfs.dirid, or an ID proven by children, FORMAT.md §5.4).
	 * Renaming the entry re-encrypts its name under the primary ID. */
	bool is_alt;
	uint8_t altid[VL_DIRID_LEN];
	/* Format 2: a long-named directory whose full name is lost with its ID file (shown as
	 * "(name lost) {conflict H}", FORMAT.md §5.4). full is "". */
	bool name_lost;
	enum vl_kind kind;
};

/* The ID e's name is encrypted under in directory di. */
static inline const uint8_t *vl_ename_id(const struct vl_ename *e, const struct vl_dirinfo *di)
{
	return e->is_alt ? e->altid : di->id;
}
/* The on-disk base name of e (disk without the conflict text): its length. */
size_t vl_ename_base_len(const struct vl_ename *e);
/* Format 2: the binding of the file entry e in directory di (FORMAT.md §3.1): the ID its name
 * is under, that ID's place token, and for a long name its SIV output. 0 or -errno. */
int vl_ename_binding(const struct vl_vault *v, const struct vl_dirinfo *di, const struct vl_ename *e,
		     struct vl_binding *b) VL_MUST_CHECK;

/* Computes the encoded, on-disk and (format 1) sidecar names of plaintext name with kind in
 * directory di, under its primary ID. -EINVAL for an invalid name. */
int vl_ename_make(const struct vl_vault *v, const struct vl_dirinfo *di, const char *name,
		  size_t len, enum vl_kind kind, struct vl_ename *e) VL_MUST_CHECK;
/* The same under a given ID. */
int vl_ename_make_id(const struct vl_vault *v, const uint8_t id[static VL_DIRID_LEN],
		     const char *name, size_t len, enum vl_kind kind, struct vl_ename *e) VL_MUST_CHECK;

/* Flags of vl_dir_lookup, for a caller that knows what the backing directory holds (fs/ops.c
 * keeps that per directory inode, keyed by the directory's mtime). */
/* No object names ('1...', nor long names '8...', whose kind is unknown): skip the object
 * kind's fstatat. */
#define VL_LOOKUP_NO_OBJECTS 1u
/* No conflict copy E || S of any entry, no other ID: a name not found as is gets -ENOENT at
 * once (no display-name, fallback-form or other-ID search). */
#define VL_LOOKUP_NO_CONFLICTS 2u

/* Finds plaintext name in directory dirfd (info di): tries the plain kind, then the object
 * kind. Fills *e and *st (fstatat, AT_SYMLINK_NOFOLLOW). When neither exists, resolves name as
 * the display name of a conflict copy (as vl_dir_list shows it): only names with an ASCII
 * space or punctuation character after their first byte cost anything more (at most
 * VL_CONFLICT_LOOKUP_MAX candidate splits, two encryptions and two fstatat each; a
 * fallback-form name lists the directory). Then e->is_conflict is set and e->disk is the
 * copy's on-disk name. Last, the same under each of di's other IDs (found once exactly:
 * e->is_alt). 0, -ENOENT (with the plain kind's names of name under the primary ID in *e),
 * or -errno. */
int vl_dir_lookup(const struct vl_vault *v, int dirfd, const struct vl_dirinfo *di, const char *name,
		  size_t len, struct vl_ename *e, struct stat *st, unsigned flags) VL_MUST_CHECK;

/* Format 2, FORMAT.md §5.4 step 3: the IDs that names of directory dirfd prove for its place
 * and that di lacks, added to di (a listing without callbacks). Returns how many were added
 * (0 for format 1), or -errno. */
int vl_dir_prove_ids(const struct vl_vault *v, int dirfd, struct vl_dirinfo *di) VL_MUST_CHECK;
/* vl_dir_lookup, and on -ENOENT (format 2) vl_dir_prove_ids and, when it added IDs, the
 * lookup again under them: what a lookup without a cache of the directory does. */
int vl_dir_lookup_proving(const struct vl_vault *v, int dirfd, struct vl_dirinfo *di,
			  const char *name, size_t len, struct vl_ename *e, struct stat *st,
			  unsigned flags) VL_MUST_CHECK;

/* The directory entry e found in dirfd (info di) is a directory open as cfd: its info. */
int vl_dir_child_info(const struct vl_vault *v, int cfd, const struct vl_dirinfo *di,
		      const struct vl_ename *e, struct vl_dirinfo *out) VL_MUST_CHECK;

/* Format 1: for a long name, writes the sidecar atomically (before the entry is created).
 * No-op for short names and format 2. 0 or -errno. */
int vl_dir_put_sidecar(int dirfd, const struct vl_ename *e) VL_MUST_CHECK;
/* Format 1: removes the sidecar of a long name after the entry was removed or renamed away;
 * missing is not an error. No-op for format 2. */
int vl_dir_drop_sidecar(int dirfd, const struct vl_ename *e) VL_MUST_CHECK;
/* Creates directory e->disk in parentfd (info pdi) with mode, its ID file (ID derived from
 * pdi's primary ID and e->full) and, format 1, for a long name, the sidecar first. On failure
 * removes what it made. Fills the new directory's info. 0 or -errno (-EEXIST ...). */
int vl_dir_make(const struct vl_vault *v, int parentfd, const struct vl_dirinfo *pdi,
		const struct vl_ename *e, mode_t mode, struct vl_dirinfo *out) VL_MUST_CHECK;

/* Format 2: the place token of directory di's parent (the ptoken of di's ID file) given the
 * parent's info. */
int vl_dir_ptoken(const struct vl_vault *v, const struct vl_dirinfo *pdi, const uint8_t pid[static VL_DIRID_LEN],
		  uint8_t out[static VL_TOKEN_LEN]) VL_MUST_CHECK;

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
	/* Conflict copies, entries named under another ID of the directory, and lost names
	 * (format 2), else NULL: the names vl_dir_lookup returns for this entry. (For the
	 * others, vl_ename_make of the name under the directory's primary ID gives them.) */
	const struct vl_ename *names;
};

/* What a listing reports about an on-disk name that it does not show (for fsck). */
enum vl_hidden {
	VL_HIDDEN_UNDECRYPTABLE, /* an entry name (or copy) that decrypts under no ID */
	VL_HIDDEN_LONG_NAME,	 /* a long name whose full name cannot be read */
	VL_HIDDEN_OTHER_ENTRY,	 /* format 2: a long entry whose header holds another's name */
	VL_HIDDEN_TOO_LONG,	 /* a short name longer than name_max */
	VL_HIDDEN_TOO_MANY,	 /* over VL_CONFLICT_LIST_MAX conflict copies */
	VL_HIDDEN_FOREIGN,	 /* a foreign name that is not a conflict copy (junk included) */
};
/* Optional callbacks of vl_dir_list2. */
struct vl_listcb {
	/* Every shown entry; returns 0 to continue, non-zero to stop (returned). */
	int (*entry)(void *ctx, const struct vl_dirent *de);
	/* Every on-disk name that is not shown and is not a helper file (veilfs.dirid and its
	 * copies, veilfs.conf, format 1's sidecars): junk is reported as VL_HIDDEN_FOREIGN. */
	void (*hidden)(void *ctx, const char *disk, enum vl_hidden why);
};

/* Lists directory dirfd (info di): calls cb for every entry whose name decrypts, then for
 * every conflict copy under its display name: the provider's text inserted before the
 * extension, or the fallback form when that collides with an entry or another copy or exceeds
 * 255 bytes. Names (and copies) that do not decrypt under di's primary ID are retried under its
 * other IDs, and (format 2) under the IDs their own evidence proves for di's place (FORMAT.md
 * §5.5); such names are listed under their own name, or, when that names another entry, in the
 * fallback form with the text " (other directory ID)". Reserved names, helper files, junk and
 * other foreign files are skipped quietly; undecryptable names are skipped and logged once.
 * Never writes. 0 or -errno. */
int vl_dir_list(const struct vl_vault *v, int dirfd, const struct vl_dirinfo *di,
		int (*cb)(void *ctx, const struct vl_dirent *de), void *ctx) VL_MUST_CHECK;
/* The same with a hidden-name callback; when found is not NULL, the IDs proven by evidence
 * are added to it (a copy of di the caller keeps). */
int vl_dir_list2(const struct vl_vault *v, int dirfd, const struct vl_dirinfo *di,
		 const struct vl_listcb *cb, void *ctx, struct vl_dirinfo *found) VL_MUST_CHECK;

/* Format 2: the full encoded name of the long-named entry disk (a long name, or a conflict
 * copy of one) in dirfd, read from the entry itself (a file's header or a directory's ID
 * file); its kind in *kind. Format 1: from its sidecar (the copy's own, else the original's).
 * Returns its length or -errno (-ENOENT: no full name can be read; -EXDEV: an authentic header
 * holding another entry's name, logged here for a file as a read of it logs). */
int vl_dir_long_entry_name(const struct vl_vault *v, int dirfd, const char *disk, size_t disklen,
			   char full[static VL_ENCNAME_MAX + 1], char sidecar[static VL_CONFLICT_NAME_MAX + 1])
	VL_MUST_CHECK;

/* The plaintext name that a listing shows for on-disk name dname (NUL-terminated) in
 * dirfd (ID id) when dname is an entry's own name: short names decrypt, long names through
 * their sidecar. For fs/watch.c, which tells the kernel which names changed. Returns its
 * length; -ENOENT for names that are not entries (reserved, sidecar, foreign, conflict
 * copies); -EBADMSG when it does not decrypt under id; else -errno (logged). */
int vl_dir_entry_name(const struct vl_vault *v, int dirfd, const uint8_t id[static VL_DIRID_LEN],
		      const char *dname, char plain[static 256]) VL_MUST_CHECK;

#endif
