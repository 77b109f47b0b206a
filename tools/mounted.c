/* SPDX-License-Identifier: GPL-2.0-or-later */
/* veilctl info, encrypt-path and decrypt-path given a mountpoint: the answer comes from the
 * mount's daemon over its control socket (fs/ctl.h), without the password. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../fs/ctl.h"
#include "../fs/mounts.h"
#include "veilctl.h"

/* A plaintext path given as MOUNTPOINT/PATH (as typed, or with the mountpoint's real
 * path): PATH. Anything else is a path relative to the vault's root already. */
static const char *strip_mount(const char *arg, const char *target, const char *mnt)
{
	const char *prefixes[2] = { target, mnt };

	for (int i = 0; i < 2; i++) {
		size_t l = strlen(prefixes[i]);

		while (l > 1 && prefixes[i][l - 1] == '/')
			l--;
		if (!strncmp(arg, prefixes[i], l) && (arg[l] == '/' || arg[l] == '\0'))
			return arg[l] ? arg + l + 1 : "";
	}
	return arg;
}

bool vc_mounted_call(const char *target, enum vl_ctl_op op, const char *arg, int *ex)
{
	struct vl_mountent *me = NULL;
	struct vl_ctl_req req = { .op = op };
	char err[512] = "";
	char *abs = NULL, *text = NULL;
	struct stat st;
	bool handled = false;
	int status = 0, r;

	*ex = VL_EXIT_FAILURE;
	if (stat(target, &st) < 0 || !S_ISDIR(st.st_mode))
		return false;
	abs = realpath(target, NULL);
	if (!abs)
		return false; /* the command itself will say what is wrong with target */
	me = malloc(sizeof(*me));
	if (!me) {
		vc_err("out of memory");
		handled = true;
		goto out;
	}
	/* The mount that holds target, in our mount namespace. */
	if (vl_mount_find(NULL, st.st_dev, me) < 0 || strcmp(me->fstype, "fuse.veilfs"))
		goto out;
	handled = true;
	if (strcmp(me->mountpoint, abs)) {
		vc_err("%s is inside the veilfs mount at %s: give its mountpoint %s, or the "
		       "cipher directory",
		       target, me->mountpoint, me->mountpoint);
		*ex = VL_EXIT_USAGE;
		goto out;
	}
	if (op == VL_CTL_ENCRYPT_PATH)
		arg = strip_mount(arg, target, abs);
	/* The protocol takes 1 byte or more; the empty path means the root ("." offline). */
	if (op != VL_CTL_INFO && arg && !*arg)
		arg = op == VL_CTL_ENCRYPT_PATH ? "/" : ".";
	req.arg = arg;
	req.arglen = arg ? strlen(arg) : 0;
	r = vl_ctl_call(st.st_dev, &req, &status, &text, err, sizeof(err));
	if (r < 0) {
		vc_err("%s: cannot ask the daemon of this mount: %s%s", target, err,
		       r == -ENOENT || r == -ECONNREFUSED ?
			       " (mounted by another user, with --no-control, by an older veilfs,"
			       " or its daemon died); give the cipher directory instead" :
			       "");
		goto out;
	}
	if (status) {
		vc_err("%s", text);
		*ex = status == ENOENT ? VL_EXIT_NOTFOUND : VL_EXIT_FAILURE;
		goto out;
	}
	fputs(text, stdout);
	*ex = VL_EXIT_OK;
out:
	free(text);
	free(abs);
	free(me);
	return handled;
}
