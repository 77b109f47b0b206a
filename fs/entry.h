/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Making, moving and linking entries of the ciphertext tree with what each format needs
 * (FORMAT.md §3.5, §5.2, §6; FORMAT-v1.md): format 1's sidecars, format 2's bound headers,
 * crash-safe directory moves and the copy of a file whose header layout changes. Shared by
 * the daemon and veilctl. No FUSE, no locks of the daemon: the daemon holds the inode's lock
 * around a call that rewrites a file's header. */
#ifndef VEILFS_FS_ENTRY_H
#define VEILFS_FS_ENTRY_H

#include <stdbool.h>
#include <sys/stat.h>

#include "../crypto/common.h"
#include "dirs.h"
#include "fileio.h"

struct vl_vault;

/* What a move must do to an entry besides renaming it. */
enum vl_move_kind {
	VL_MOVE_RENAME, /* the backing rename alone (format 1, or nothing bound changes) */
	VL_MOVE_REBIND, /* format 2 short-named file into another binding: header rewritten */
	VL_MOVE_COPY,	/* format 2 file whose header layout or long name changes: copied */
	VL_MOVE_DIR,	/* format 2 directory to another place: its ID files rewritten */
};

/* A move of entry src (in directory sdi, open as sfd) to dst's names in directory ddi (open
 * as dfd; dst computed under ddi's primary ID). st: fstatat of src. */
struct vl_move {
	const struct vl_dirinfo *sdi;
	int sfd;
	const struct vl_ename *src;
	struct stat st;
	const struct vl_dirinfo *ddi;
	int dfd;
	const struct vl_ename *dst;
	unsigned flags;	 /* renameat2 flags: 0 (replace) or RENAME_NOREPLACE */
	bool may_copy;	 /* false: a VL_MOVE_COPY gives -EXDEV (open or hard-linked files) */
	/* For VL_MOVE_REBIND the caller may pass the file's content object (the daemon's
	 * inode content, under its exclusive lock) so that its binding follows; else NULL. */
	struct vl_content *content;
	/* Results. */
	enum vl_move_kind kind;
	struct vl_binding nb; /* files, format 2: the binding after the move */
};

/* What kind of move m is (filled in m->kind). 0 or -errno. */
int vl_move_plan(const struct vl_vault *v, struct vl_move *m) VL_MUST_CHECK;
/* Moves the entry (FORMAT.md §3.5, §5.2): plans, then renames with what the plan needs around
 * the rename. On error nothing moved (a failed copy leaves the source). 0 or -errno (-EEXIST
 * with RENAME_NOREPLACE, -EXDEV for a copy that may not be made). */
int vl_move(const struct vl_vault *v, struct vl_move *m) VL_MUST_CHECK;

/* An exchange (RENAME_EXCHANGE) of entries a (in ad, open as afd) and b (in bd, open as bfd),
 * of one kind: each takes the other's name. Format 2 rewrites what names a place around the
 * backing exchange, as a move does (FORMAT.md §3.5, §5.2); -EXDEV for long names or two kinds
 * (a format-2 exchange of those would need copies). For files, the caller may pass their
 * content objects (under their locks) so that their bindings follow. */
struct vl_xchg {
	const struct vl_dirinfo *ad, *bd;
	int afd, bfd;
	const struct vl_ename *a, *b;
	struct stat ast, bst;
	struct vl_content *ac, *bc;
	/* Results (format 2 files): the bindings after the exchange. */
	struct vl_binding anb, bnb;
	bool arebound, brebound;
};
int vl_exchange(const struct vl_vault *v, struct vl_xchg *x) VL_MUST_CHECK;

/* Format 2: true when a hard link of the file entry e (in di) named ne (in ndi) is allowed:
 * same binding (one directory's one ID) and short names (FORMAT.md §6). Format 1: true. */
bool vl_link_allowed(const struct vl_vault *v, const struct vl_dirinfo *di, const struct vl_ename *e,
		     const struct vl_dirinfo *ndi, const struct vl_ename *ne);

/* Creates a regular or object file named e in dirfd (info di) with mode (O_CREAT|O_EXCL) and
 * (format 2) its header and empty block. Returns an O_RDWR fd, or -errno (nothing left
 * behind on failure but a format-1 sidecar the caller drops). */
int vl_file_create(const struct vl_vault *v, int dirfd, const struct vl_dirinfo *di,
		   const struct vl_ename *e, mode_t mode) VL_MUST_CHECK;

/* Format 2, a directory dfd with info di that has IDs without a valid ID file of their own
 * (recovered, or only proven by evidence): writes ID files for them (veilfs.dirid for the
 * primary when it has none; "veilfs.dirid.alt-<hex>" copies for the others) for di's place.
 * Used before a move (so that the move keeps them) and by fsck --repair. Returns how many
 * were written, or -errno. */
int vl_dir_pin_ids(const struct vl_vault *v, int dfd, const struct vl_dirinfo *di,
		   const uint8_t ptoken[static VL_TOKEN_LEN]) VL_MUST_CHECK;

#endif
