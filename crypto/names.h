/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Entry names: AES-256-SIV, NUL padding to 16, lowercase base32, kind markers, long-name
 * hashing (FORMAT.md §4). */
#ifndef VEILFS_CRYPTO_NAMES_H
#define VEILFS_CRYPTO_NAMES_H

#include "common.h"

struct vl_keys;

/* Longest full encoded name: marker + base32 of (16 + 256) bytes. */
#define VL_ENCNAME_MAX (1 + 436)
/* A long name or sidecar: marker + base32(SHA-256). */
#define VL_LONGNAME_LEN 53

#define VL_MARK_OBJECT '1'
#define VL_MARK_LONG '8'
#define VL_MARK_SIDECAR '9'
#define VL_DIRID_FILE "veilfs.dirid"
#define VL_CONFIG_FILE "veilfs.conf"

/* Kinds of a full encoded name. */
enum vl_kind {
	VL_KIND_PLAIN,	/* regular file or directory */
	VL_KIND_OBJECT, /* symlink or special file stored as a file (marker '1') */
};

/* What an on-disk entry name is. */
enum vl_ondisk {
	VL_ONDISK_SHORT,   /* a full encoded name, stored as is */
	VL_ONDISK_LONG,	   /* '8' + hash: read the sidecar */
	VL_ONDISK_SIDECAR, /* '9' + hash */
	VL_ONDISK_RESERVED, /* veilfs.conf, veilfs.dirid */
	VL_ONDISK_FOREIGN, /* anything else: not ours (or a conflict copy) */
};

/* Encrypts plaintext name (1..255 bytes, no '/', no NUL, not . or ..) in directory dirid
 * into the full encoded name with kind's marker, NUL-terminated in out (outcap >=
 * VL_ENCNAME_MAX + 1). Returns its length, -EINVAL for an invalid name, -EIO on failure. */
int vl_name_encrypt(const struct vl_keys *k, const uint8_t dirid[static VL_DIRID_LEN],
		    const char *name, size_t namelen, enum vl_kind kind, char *out,
		    size_t outcap) VL_MUST_CHECK;
/* Decrypts a full encoded name (marker included) into out (NUL-terminated, outcap >= 256).
 * Returns the plaintext length and sets *kind, or -EIO (not decryptable, bad padding,
 * invalid plaintext name) / -EINVAL (not of encoded form). Nothing is released unverified. */
int vl_name_decrypt(const struct vl_keys *k, const uint8_t dirid[static VL_DIRID_LEN],
		    const char *enc, size_t enclen, char *out, size_t outcap,
		    enum vl_kind *kind) VL_MUST_CHECK;
/* Classifies an on-disk entry name. Strict: SHORT only for marker? + valid base32 of a
 * possible SIV output length; LONG/SIDECAR only for exactly VL_LONGNAME_LEN bytes. */
enum vl_ondisk vl_name_classify(const char *name, size_t len);
/* The long on-disk name ('8' + b32(SHA-256(enc))) of a full encoded name, and its sidecar
 * ('9' + same). out receives VL_LONGNAME_LEN bytes + NUL. 0 or -EIO. */
int vl_name_long(const char *enc, size_t enclen, char out[static VL_LONGNAME_LEN + 1]) VL_MUST_CHECK;
int vl_name_sidecar(const char *enc, size_t enclen, char out[static VL_LONGNAME_LEN + 1]) VL_MUST_CHECK;
/* The full encoded name ('1'? + b32) of an SIV output of len bytes (a format-2 long header's
 * name field, FORMAT.md §3.1). Returns its length, or -EINVAL for a length that is not
 * 16 + 16k (k = 1..16). */
int vl_name_full_from_siv(bool object, const uint8_t *siv, size_t len,
			  char out[static VL_ENCNAME_MAX + 1]) VL_MUST_CHECK;
/* The reverse: the SIV output of full encoded name full (out: VL_ENCNAME_MAX bytes is enough)
 * and its kind. Returns the SIV length, or -EINVAL when full is not a short encoded name. */
int vl_name_siv_from_full(const char *full, size_t len, uint8_t *out, size_t cap,
			  bool *object) VL_MUST_CHECK;
/* Checks sidecar contents against the long name it belongs to ('8'... or '9'... form):
 * valid full encoded name whose hash matches. 0 or -EIO. */
int vl_name_sidecar_check(const char *longname, const char *content, size_t len) VL_MUST_CHECK;

#endif
