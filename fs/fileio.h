/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Plaintext reads, writes and truncates over a backing ciphertext fd (FORMAT.md §3).
 * Used by the daemon (under the inode's lock) and by veilctl. */
#ifndef VEILFS_FS_FILEIO_H
#define VEILFS_FS_FILEIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "../crypto/common.h"
#include "../crypto/content.h"

struct vl_vault;

/* Per-file crypto state: the cached per-file key (file ID read from the header once).
 * One per inode. The caller serialises writes/truncates/reset against everything, and may
 * run reads in parallel with reads (reads use per-call buffers; the lazily loaded key is
 * guarded by a mutex inside). */
struct vl_content;

int vl_content_new(struct vl_content **out, const struct vl_vault *v, enum vl_stream s) VL_MUST_CHECK;
/* Wipes and frees; NULL is a no-op. */
void vl_content_free(struct vl_content *c);
/* Forgets the cached file ID and key (the backing file may have been replaced). */
void vl_content_reset(struct vl_content *c);

/* Plaintext size of the ciphertext file open as fd (fstat only, never reads). 0 or -errno
 * (-EIO for an impossible ciphertext size). */
int vl_content_size(const struct vl_vault *v, int fd, uint64_t *psize) VL_MUST_CHECK;
/* Reads up to len plaintext bytes at off. Returns the bytes read (short only at end of
 * file), or -EIO when a block touched by the read fails authentication (logged once with the
 * ciphertext path and block index), or -errno. Blocks not touched are not read. */
ssize_t vl_content_read(struct vl_content *c, int fd, void *buf, size_t len, uint64_t off) VL_MUST_CHECK;
/* Writes len bytes at off, growing the file (encrypted zero blocks fill any gap) and
 * keeping the last-block flag right. Space is reserved with fallocate before a block is
 * overwritten, so ENOSPC never leaves a torn block. Returns len or -errno. */
ssize_t vl_content_write(struct vl_content *c, int fd, const void *buf, size_t len, uint64_t off) VL_MUST_CHECK;
/* Sets the plaintext size (shrink or grow). Size 0 keeps the header. 0 or -errno. */
int vl_content_truncate(struct vl_content *c, int fd, uint64_t size) VL_MUST_CHECK;
/* Returns the file ID in id, writing a header first if the file is empty (used to bind
 * xattr values). 0 or -errno. */
int vl_content_file_id(struct vl_content *c, int fd, uint8_t id[static VL_FILEID_LEN]) VL_MUST_CHECK;

#endif
