/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Plaintext reads, writes and truncates over a backing ciphertext fd (FORMAT.md §3,
 * FORMAT-v1.md §3). Used by the daemon (under the inode's lock) and by veilctl. */
#ifndef VEILFS_FS_FILEIO_H
#define VEILFS_FS_FILEIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "../crypto/common.h"
#include "../crypto/content.h"

struct vl_vault;

/* Where a file is, for format 2's header (FORMAT.md §3.1): what its header must say and what a
 * header written for it says. Format 1 files ignore it. */
struct vl_binding {
	uint8_t parent[VL_DIRID_LEN]; /* the ID the entry's name is encrypted under */
	uint8_t token[VL_TOKEN_LEN];  /* that directory's current place token */
	bool is_long;		      /* the on-disk name is long: long header carrying the name */
	size_t namelen;		      /* is_long: the entry's SIV output (its name) */
	uint8_t name[VL_HDR_NAME_MAX];
};

/* Per-file crypto state: the cached per-file key (file ID read from the header once) and the
 * file's binding. One per inode. The caller serialises writes/truncates/reset against
 * everything, and may run reads in parallel with reads (reads use per-call buffers; the lazily
 * loaded key is guarded by a mutex inside). */
struct vl_content;

/* A content object for a file of stream s. For a format-2 vault, b says where the file is (it
 * is copied); a format-2 content without a binding refuses every read and write (-EIO). */
int vl_content_new(struct vl_content **out, const struct vl_vault *v, enum vl_stream s,
		   const struct vl_binding *b) VL_MUST_CHECK;
/* Wipes and frees; NULL is a no-op. */
void vl_content_free(struct vl_content *c);
/* Forgets the cached file ID and key (the backing file may have been replaced). */
void vl_content_reset(struct vl_content *c);
/* Replaces the binding (the entry was renamed: its header is rewritten by vl_content_rebind).
 * Forgets the cached key. */
void vl_content_set_binding(struct vl_content *c, const struct vl_binding *b);

/* Plaintext size of the ciphertext file open as fd (fstat only, never reads). 0 or -errno
 * (-EIO for an impossible ciphertext size, logged). */
int vl_content_size(const struct vl_content *c, int fd, uint64_t *psize) VL_MUST_CHECK;
/* Reads up to len plaintext bytes at off. Returns the bytes read (short only at end of
 * file), or -EIO when the header or a block touched by the read fails authentication (logged
 * once with the ciphertext path and block index), or -errno. Blocks not touched are not read. */
ssize_t vl_content_read(struct vl_content *c, int fd, void *buf, size_t len, uint64_t off) VL_MUST_CHECK;
/* Writes len bytes at off, growing the file (encrypted zero blocks fill any gap) and
 * keeping the last-block flag right. Space is reserved with fallocate before a block is
 * overwritten, so ENOSPC never leaves a torn block. Returns len or -errno. */
ssize_t vl_content_write(struct vl_content *c, int fd, const void *buf, size_t len, uint64_t off) VL_MUST_CHECK;
/* Sets the plaintext size (shrink or grow). Format 1: size 0 keeps the header. Format 2: size
 * 0 draws a new file ID (FORMAT.md §3.3: header and empty block rewritten, extended
 * attributes sealed again). 0 or -errno. */
int vl_content_truncate(struct vl_content *c, int fd, uint64_t size) VL_MUST_CHECK;
/* Format 2: writes a new file's header and empty final block into the empty file fd (also a
 * format-1 no-op, where a new file stays empty). 0 or -errno. */
int vl_content_create(struct vl_content *c, int fd) VL_MUST_CHECK;
/* Returns the file ID in id, writing a header first if a format-1 file is empty (used to bind
 * xattr values). 0 or -errno. */
int vl_content_file_id(struct vl_content *c, int fd, uint8_t id[static VL_FILEID_LEN]) VL_MUST_CHECK;
/* Format 2, before a write through a new open: when the header's place token is not the
 * binding's (the directory moved since the header was written), rewrites the header with it
 * (FORMAT.md §5.3). No-op for format 1. 0 or -errno. */
int vl_content_refresh_token(struct vl_content *c, int fd) VL_MUST_CHECK;
/* Format 2: rewrites the header in place for binding nb (the content keeps its file ID and
 * blocks). With moving, writes the moving header of FORMAT.md §3.5 step 1 (nb's parent, the
 * old parent in the token field) and fdatasyncs; else the final header. The new binding must
 * have the same header layout (short/long) as the old one. Afterwards the content's binding is
 * nb. 0 or -errno. */
int vl_content_rebind(struct vl_content *c, int fd, const struct vl_binding *nb, bool moving) VL_MUST_CHECK;
/* Format 2: a copy of the file open as src (O_RDONLY is enough) into the empty file dst,
 * bound to nb (which may have another header layout): new header with the same file ID, the
 * same blocks. 0 or -errno. */
int vl_content_copy_rebound(struct vl_content *c, int src, int dst, const struct vl_binding *nb) VL_MUST_CHECK;
/* The state of a file open as fd in the hands of veilctl upgrade (FORMAT.md §10): its format-1
 * file ID (a header of its own, or none: an empty file never written), or already format 2. */
enum vl_file_state { VL_FILE_V1, VL_FILE_V1_EMPTY, VL_FILE_V2, VL_FILE_DAMAGED };
/* Tells which (layout l2 is the file's format-2 layout; the format-2 vault v2 checks the MAC).
 * id receives a format-1 header's file ID. */
enum vl_file_state vl_file_state(const struct vl_vault *v2, int fd, const struct vl_layout *l2,
				 uint8_t id[static VL_FILEID_LEN]);
/* veilctl upgrade: writes into the empty file dst the format-2 version of the format-1 file src
 * (stream s): a header bound by b with the same file ID, then the same blocks. An empty file
 * (0 bytes, or only its header) gets a new file ID and its empty final block (FORMAT.md §10),
 * and the extended-attribute values already copied to dst are sealed again under the new
 * ID: copy them before. v2 is the format-2 view of the vault. 0 or -errno. */
int vl_content_upgrade(const struct vl_vault *v2, enum vl_stream s, const struct vl_binding *b,
		       int src, int dst) VL_MUST_CHECK;
/* Format 2: the header of the file open as fd, checked against the binding. 0 or -EIO. */
int vl_content_header(struct vl_content *c, int fd, struct vl_header *h) VL_MUST_CHECK;

#endif
