/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Directory IDs (FORMAT.md §5, FORMAT-v1.md §5): deterministic derivation, the veilfs.dirid
 * file of both formats, and format 2's place tokens. */
#ifndef VEILFS_CRYPTO_DIRID_H
#define VEILFS_CRYPTO_DIRID_H

#include "common.h"
#include "names.h"

struct vl_keys;

#define VL_DIRID_FILE_LEN 18 /* format 1 */

/* ID_root = HMAC-SHA256(K_dirid, "veilfs/v1/root")[0..16]. 0 or -EIO. */
int vl_dirid_root(const struct vl_keys *k, uint8_t out[static VL_DIRID_LEN]) VL_MUST_CHECK;
/* ID = HMAC-SHA256(K_dirid, parent || enc)[0..16], enc the child's full encoded name (format 2
 * also uses the on-disk name of a long-named directory whose name is lost). */
int vl_dirid_derive(const struct vl_keys *k, const uint8_t parent[static VL_DIRID_LEN],
		    const char *enc, size_t enclen, uint8_t out[static VL_DIRID_LEN]) VL_MUST_CHECK;
/* Format 1's 18-byte file contents: u16be(1) || id. */
void vl_dirid_file_build(uint8_t out[static VL_DIRID_FILE_LEN], const uint8_t id[static VL_DIRID_LEN]);
/* Strict parse of format 1's file contents: exactly 18 bytes, version 1. 0 or -EIO. */
int vl_dirid_file_parse(const uint8_t *buf, size_t len, uint8_t id[static VL_DIRID_LEN]) VL_MUST_CHECK;

/* ---- format 2 ---- */

/* Where a directory is (FORMAT.md §5.1): the ID its name is encrypted under in its parent,
 * and its full encoded name (empty for the root). */
struct vl_place {
	uint8_t parent[VL_DIRID_LEN];
	size_t namelen;			/* 0 (root) or 1..VL_ENCNAME_MAX */
	char name[VL_ENCNAME_MAX + 1];	/* NUL-terminated */
};

/* A format-2 ID file: one place, or two while the directory is being renamed. */
#define VL_IDFILE_TWO_PLACES 1u
struct vl_idfile {
	uint8_t id[VL_DIRID_LEN];
	uint8_t ptoken[VL_TOKEN_LEN]; /* the parent's place token (zeros in the root) */
	unsigned nplaces;	      /* 1 or 2 */
	struct vl_place place[2];
};
/* Largest ID file: header, two places of the longest name, MAC. */
#define VL_IDFILE_MAX (36 + 2 * (18 + VL_ENCNAME_MAX) + VL_MAC_LEN)

/* Serializes f with its MAC into out. Returns the length, or -EINVAL (bad fields, cap too
 * small) / -EIO. */
int vl_idfile_build(const struct vl_keys *k, const struct vl_idfile *f, uint8_t *out,
		    size_t cap) VL_MUST_CHECK;
/* Strictly parses exactly len bytes and verifies the MAC in constant time; nothing is filled
 * unless everything checks. Names in places must be 1..VL_ENCNAME_MAX printable ASCII bytes
 * (except a root place: zero parent, empty name). 0 or -EIO. */
int vl_idfile_parse(const struct vl_keys *k, const uint8_t *buf, size_t len,
		    struct vl_idfile *f) VL_MUST_CHECK;

/* The on-disk base name N of a full encoded name F: F itself when it fits name_max, else its
 * long name '8' + b32(SHA-256(F)). out holds VL_ENCNAME_MAX + 1 bytes. Returns len(N) or -errno. */
int vl_place_disk_name(const char *full, size_t fulllen, uint32_t name_max,
		       char out[static VL_ENCNAME_MAX + 1]) VL_MUST_CHECK;
/* T(X, P, N) = HMAC-SHA256(K_meta, "veilfs/v2/place" || X || P || u16be(len N) || N)[0..16],
 * N the on-disk base name (FORMAT.md §5.3). 0 or -errno. */
int vl_place_token(const struct vl_keys *k, const uint8_t id[static VL_DIRID_LEN],
		   const uint8_t parent[static VL_DIRID_LEN], const char *disk, size_t disklen,
		   uint8_t out[static VL_TOKEN_LEN]) VL_MUST_CHECK;

#endif
