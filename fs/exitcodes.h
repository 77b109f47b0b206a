/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Exit statuses of veilfs and veilctl: documented in veilfs(1) and veilctl(1) and stable. */
#ifndef VEILFS_FS_EXITCODES_H
#define VEILFS_FS_EXITCODES_H

enum vl_exit {
	VL_EXIT_OK = 0,
	VL_EXIT_FAILURE = 1,   /* any other failure (I/O error, out of memory ...) */
	VL_EXIT_USAGE = 2,     /* bad command line */
	VL_EXIT_PASSWORD = 3,  /* wrong password, or the config was modified */
	VL_EXIT_CONFIG = 4,    /* config missing, malformed, or of an unsupported version/feature */
	VL_EXIT_NOPASS = 5,    /* no password (stdin empty, passfile unreadable ...) */
	VL_EXIT_MOUNT = 6,     /* the mount failed (mountpoint missing or busy, no /dev/fuse ...) */
	VL_EXIT_FSCK_FOUND = 7,	 /* fsck: problems found (some or all not repaired) */
	VL_EXIT_FSCK_REPAIRED = 8, /* fsck --repair: problems found and all repaired */
	VL_EXIT_NOTFOUND = 9,  /* a path given to veilctl does not exist in the vault */
};

#endif
