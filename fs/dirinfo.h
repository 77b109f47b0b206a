/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What a directory of the ciphertext tree is: its IDs and its place (FORMAT.md §5,
 * FORMAT-v1.md §5). The one place that decides which IDs a directory has, used by the mount,
 * fsck, the browsing commands and conflicts. No FUSE. */
#ifndef VEILFS_FS_DIRINFO_H
#define VEILFS_FS_DIRINFO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../crypto/common.h"
#include "../crypto/dirid.h"
#include "../crypto/names.h"

struct vl_vault;

/* Most IDs of one directory that are used (the primary included). */
#define VL_DIRID_ALT_MAX 8
/* At most this many IDs proven by one child (its ID file's places and copies). */
#define VL_EVIDENCE_MAX 4

/* How a directory's IDs were found (vl_dirinfo.flags). */
#define VL_DI_FILE 0x01u	   /* veilfs.dirid is valid */
#define VL_DI_COPIES 0x02u	   /* a sync client's copy of veilfs.dirid gave another valid ID */
#define VL_DI_RECOVERED 0x04u	   /* no valid ID file: IDs from the children's evidence (§5.5) */
#define VL_DI_DERIVED 0x08u	   /* no valid ID file and no evidence: the derived ID */
#define VL_DI_NAME_LOST 0x10u	   /* a long-named directory without a valid ID file: F unknown */
#define VL_DI_BAD_FILES 0x20u	   /* an ID file (or copy) that is not valid here was seen */
#define VL_DI_TWO_PLACES 0x40u	   /* the valid ID file names two places (a rename was cut) */
#define VL_DI_EVIDENCE 0x80u	   /* more IDs proven by children whose names did not decrypt */
#define VL_DI_MISSING 0x100u	   /* veilfs.dirid is missing (format 1: re-derived) */
#define VL_DI_COPY_DUP 0x200u	   /* a valid copy of veilfs.dirid repeats an ID already known */

/* A directory: where it is and which IDs its children's names are encrypted under. */
struct vl_dirinfo {
	unsigned format;
	uint8_t id[VL_DIRID_LEN]; /* the primary ID: new and renamed names go under it */
	unsigned nalt;		  /* more IDs whose names are shown (other valid copies, evidence) */
	uint8_t alt[VL_DIRID_ALT_MAX - 1][VL_DIRID_LEN];
	bool root;
	/* Format 2: the place (FORMAT.md §5.1): the ID the directory's name is encrypted under in
	 * its parent, its full encoded name (namelen 0 when lost or for the root), and its
	 * on-disk base name N (no conflict text; empty for the root). Format 1: place.parent and
	 * place.name are what re-derives a missing ID (the parent's ID and F). */
	struct vl_place place;
	char disk[VL_ENCNAME_MAX + 1];
	size_t disklen;
	unsigned flags; /* VL_DI_* */
	/* Format 2: which IDs come from a valid ID file of their own: bit 0 the primary, bit
	 * i + 1 alt[i]. The others were recovered or proven by evidence (vl_dir_pin_ids). */
	unsigned filed;
};

/* The root directory of the vault. 0 or -errno. Format 2: a missing or invalid root ID file
 * (another ID, another place) is logged and flagged (VL_DI_FILE unset, VL_DI_BAD_FILES); the
 * root still uses ID_root (FORMAT.md §5.1). */
int vl_dirinfo_root(const struct vl_vault *v, int rootfd, struct vl_dirinfo *out) VL_MUST_CHECK;
/* The directory dirfd, found in its parent (info pparent) under the ID parent_id (the parent's
 * primary or one of its others) with on-disk base name disk (no conflict text) and full
 * encoded name full (NULL when not known: a long name whose ID file is needed to learn it).
 * Reads its ID files (veilfs.dirid, then the copies in bytewise name order), keeps those valid
 * for its place, and recovers IDs from the children when none is (format 2), or re-derives a
 * missing one (format 1). Never writes. 0 or -errno. */
int vl_dirinfo_read(const struct vl_vault *v, int dirfd, const struct vl_dirinfo *pparent,
		    const uint8_t parent_id[static VL_DIRID_LEN], const char *disk, size_t disklen,
		    const char *full, size_t fulllen, struct vl_dirinfo *out) VL_MUST_CHECK;
/* True when id is one of di's IDs (primary or other). */
bool vl_dirinfo_has(const struct vl_dirinfo *di, const uint8_t id[static VL_DIRID_LEN]);
/* Adds id to di's other IDs (no-op when known or full). True when added. */
bool vl_dirinfo_add(struct vl_dirinfo *di, const uint8_t id[static VL_DIRID_LEN]);
/* Format 2: the place token of di under its ID id (FORMAT.md §5.3). 0 or -errno. */
int vl_dirinfo_token(const struct vl_vault *v, const struct vl_dirinfo *di,
		     const uint8_t id[static VL_DIRID_LEN], uint8_t out[static VL_TOKEN_LEN]) VL_MUST_CHECK;

/* Format 2: the full encoded name of a long-named directory dfd (on-disk base name base, 53
 * bytes), read from its ID files (any with a valid MAC and a place whose name hashes to base).
 * Returns its length, or -ENOENT when no ID file tells it, -errno. */
int vl_dir_long_name(const struct vl_vault *v, int dfd, const char *base,
		     char full[static VL_ENCNAME_MAX + 1]) VL_MUST_CHECK;

/* Evidence (FORMAT.md §5.5) that the directory at place (parent_id, disk) has an ID, from the
 * child called name in dirfd: a regular file's header, or a subdirectory's ID file and its
 * conflict copies. Sets *n distinct IDs in ids. 0 or -errno (-ENOENT: no evidence). */
int vl_dir_child_evidence(const struct vl_vault *v, int dirfd, const char *name,
			  const uint8_t parent_id[static VL_DIRID_LEN], const char *disk, size_t disklen,
			  uint8_t ids[VL_EVIDENCE_MAX][VL_DIRID_LEN], unsigned *n) VL_MUST_CHECK;

/* Writes the ID file of directory dfd (info di: its primary ID and place) with ptoken, the
 * token of its parent, and, when from is not NULL, a second place (a rename in progress,
 * FORMAT.md §5.2). Format 1: the 18-byte file. Atomic (temporary name, fsync, rename, fsync).
 * 0 or -errno. */
int vl_dirinfo_write(const struct vl_vault *v, int dfd, const struct vl_dirinfo *di,
		     const uint8_t ptoken[static VL_TOKEN_LEN], const struct vl_place *from,
		     bool noreplace) VL_MUST_CHECK;

/* Format 2: rewrites every ID file of directory dfd (veilfs.dirid and its copies) that is valid
 * for the place (oparent, odisk) with place np, keeping the valid old place as a second place
 * when with_old is set (a rename in progress, FORMAT.md §5.2), and ptoken. Each file is
 * replaced atomically. Returns how many were rewritten, or -errno. */
int vl_dirinfo_relocate(const struct vl_vault *v, int dfd, const uint8_t oparent[static VL_DIRID_LEN],
			const char *odisk, size_t odisklen, const struct vl_place *np, bool with_old,
			const uint8_t ptoken[static VL_TOKEN_LEN]) VL_MUST_CHECK;
/* Format 2: writes a copy of the ID file for ID id at place np named
 * "veilfs.dirid.alt-<16 hex of id>" (a name that readers take as a sync client's copy), unless
 * one exists. 0 or -errno. */
int vl_dirinfo_write_alt(const struct vl_vault *v, int dfd, const uint8_t id[static VL_DIRID_LEN],
			 const struct vl_place *np, const uint8_t ptoken[static VL_TOKEN_LEN]) VL_MUST_CHECK;
/* Format 2: writes (replacing) the ID file called name in dfd for ID id at place np. */
int vl_dirinfo_write_named(const struct vl_vault *v, int dfd, const char *name,
			   const uint8_t id[static VL_DIRID_LEN], const struct vl_place *np,
			   const uint8_t ptoken[static VL_TOKEN_LEN]) VL_MUST_CHECK;

/* The ID held by ID file (or copy) name in dfd, read strictly (format 2: MAC verified, its
 * places are not checked; *valid_here tells whether one names di's place). 0 or -errno
 * (-EIO: malformed or not authentic). */
int vl_idfile_read_id(const struct vl_vault *v, int dfd, const char *name, const struct vl_dirinfo *di,
		      uint8_t id[static VL_DIRID_LEN], bool *valid_here) VL_MUST_CHECK;

#endif
