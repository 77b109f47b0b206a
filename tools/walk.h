/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The one tree walker of veilctl (export, import, ls -R, fsck, conflicts): depth first,
 * iterative (an explicit stack, no recursion), over one directory tree or two in step (the
 * tree read and the tree written: the vault and the export destination, or the import
 * source and the vault). Any depth and any breadth (issue 9 §4): the stack grows on the
 * heap, and only the deepest VC_WALK_WINDOW levels keep their directories open (100,000
 * levels would exceed RLIMIT_NOFILE); climbing back above them reopens each directory by
 * openat(child, "..") and uses it only if it is the directory left (device and inode), so
 * a directory moved meanwhile ends the walk of that part with -ESTALE instead of walking
 * somewhere else. A directory that is its own ancestor (a bind mount loop) is not entered
 * (-ELOOP). What is done in each directory is the caller's, in three callbacks. */
#ifndef VEILFS_TOOLS_WALK_H
#define VEILFS_TOOLS_WALK_H

#include <stddef.h>

#include "../crypto/common.h"

#define VC_WALK_TREES 2
/* Levels whose directories stay open: at most 2 * VC_WALK_WINDOW fds, plus the root's. */
#define VC_WALK_WINDOW 32

struct vc_walk;

/* The callbacks. Each directory gets a frame of frame_size bytes (the root's is copied
 * from the caller, a child's is zeroed and then filled by next). fd[] are the directory's
 * fds in each tree (-1 for a tree not walked), valid during the call only; the walker owns
 * them. A negative return is an -errno for this directory: the walker calls leave with it
 * and goes on with the parent, except -ENOMEM and -ECANCELED, which end the whole walk (every
 * frame still open is left with that status). */
struct vc_walk_ops {
	size_t frame_size;
	/* The directory was entered (fds open). 0 or -errno. */
	int (*enter)(struct vc_walk *w, void *frame, const int fd[VC_WALK_TREES]);
	/* Handles the directory's entries until the next subdirectory to walk into: returns 1
	 * after opening it in each tree (sub[]: O_RDONLY|O_DIRECTORY fds, handed to the walker;
	 * -1 for a tree not walked) and filling child (its frame). 0 when none is left, or
	 * -errno. */
	int (*next)(struct vc_walk *w, void *frame, const int fd[VC_WALK_TREES], void *child,
		    int sub[VC_WALK_TREES]);
	/* The directory is done, with status 0, or the -errno that ended it (then fd[] may be
	 * -1, and enter may not have run: for -ELOOP, or when its fds could not be checked).
	 * Called exactly once for every frame, the root's included; frees what the frame
	 * holds. */
	void (*leave)(struct vc_walk *w, void *frame, const int fd[VC_WALK_TREES], int status);
};

/* Walks from the root directories root[] (root[1] == -1 for one tree; they stay open and
 * the caller's); next must give a subdirectory in every tree the root has. ctx is passed
 * through (vc_walk_ctx). root_frame holds no resource before enter: when the walk cannot
 * start (-ENOMEM), no callback runs. 0, or the -errno that ended the walk (-ENOMEM,
 * -ECANCELED). */
int vc_walk(const struct vc_walk_ops *ops, void *ctx, const int root[VC_WALK_TREES],
	    const void *root_frame) VL_MUST_CHECK;

void *vc_walk_ctx(const struct vc_walk *w);
/* The depth of the directory being handled: 0 for the root. */
size_t vc_walk_depth(const struct vc_walk *w);

#endif
