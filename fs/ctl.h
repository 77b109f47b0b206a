/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The control socket of a mounted vault: veilctl info, encrypt-path and decrypt-path given
 * a mountpoint are answered by the daemon from the vault it holds unlocked, without the
 * password. Owner-only: the socket is mode 0600 in a 0700 directory of the daemon's user,
 * and the daemon answers only peers of its own uid (SO_PEERCRED).
 *
 * Where: the socket of the mount with device number MAJ:MIN (st_dev of the mountpoint,
 * unique among live mounts) is DIR/MAJ:MIN with DIR, for the user with uid U:
 *   U = 0:                       /run/veilfs
 *   /run/user/U owned by U:      /run/user/U/veilfs
 *   otherwise:                   /tmp/veilfs-U (made 0700; refused unless owned by U)
 * The daemon uses the first it can make; a client looks in each. Messages: fs/ctlproto.h.
 * No FUSE. */
#ifndef VEILFS_FS_CTL_H
#define VEILFS_FS_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "../crypto/common.h"
#include "ctlproto.h"

struct vl_vault;
struct vl_ctl;

/* What the daemon says about its mount in an info answer. */
struct vl_ctl_mount {
	const char *cipherdir;	/* absolute */
	const char *config;	/* --config as given, or NULL */
	const char *mountpoint; /* absolute */
	bool readonly, sharedstorage;
};

/* Starts serving the mount with device number dev: binds its socket (replacing a stale
 * one: the device number is the mount's, so an existing socket of that name is a dead
 * daemon's) and answers from a thread that has every signal blocked. v and m must outlive
 * the server. 0 or -errno with a reason in err. */
int vl_ctl_start(struct vl_ctl **out, const struct vl_vault *v, const struct vl_ctl_mount *m,
		 dev_t dev, char *err, size_t errcap) VL_MUST_CHECK;
/* Stops the thread, then closes and removes the socket. NULL is a no-op. */
void vl_ctl_stop(struct vl_ctl *c);
/* The socket's path (for messages), or "" for NULL. */
const char *vl_ctl_path(const struct vl_ctl *c);

/* Sends one request to the daemon serving the mount with device number dev for the
 * caller's euid and waits for its answer (at most VL_CTL_TIMEOUT_MS for each step). On
 * success *status is 0 or the daemon's errno and *text its NUL-terminated text (free()
 * it). -errno for a failure to talk to it, with a reason in err: -ENOENT when no socket
 * exists, -ECONNREFUSED when nobody listens on it (a daemon that died). */
int vl_ctl_call(dev_t dev, const struct vl_ctl_req *req, int *status, char **text, char *err,
		size_t errcap) VL_MUST_CHECK;

/* How long one side waits for the other to send or take a message. */
#define VL_CTL_TIMEOUT_MS 10000

#endif
