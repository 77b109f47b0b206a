/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Where a password comes from: --passfile, --extpass, standard input, or a no-echo prompt on
 * the tty. Never argv or the environment. Without --passfile or --extpass: the tty prompt when
 * stdin is a terminal, else the first line of stdin (a pipe or file, as mount helpers and
 * pam_mount give it). */
#ifndef VEILFS_FS_PASSWORD_H
#define VEILFS_FS_PASSWORD_H

#include <stdbool.h>
#include <stddef.h>

#include "../crypto/common.h"

/* Longest accepted password in bytes (longer ones are refused, not cut). */
#define VL_PASSWORD_MAX 1024

/* --passfile values that mean standard input: "-" (and "/dev/stdin", which is no regular file). */
#define VL_PASSFILE_STDIN "-"

struct vl_pwsrc {
	const char *passfile; /* first line of this file; "-": standard input */
	const char *extpass;  /* run with /bin/sh -c, first line of its stdout */
};

/* Gets a password into secure memory (*pw, *len; free with vl_password_free). With
 * confirm, a tty prompt asks twice (a password read from a pipe or file is read once).
 * prompt is the tty prompt text. Standard input is read one byte at a time up to the first
 * '\n', so a second call reads the next line (veilctl passwd: old, then new). 0 or -errno
 * with a one-line reason in err (-ENODATA: stdin is not a terminal and is at its end;
 * -ENOTTY: stdin is a terminal but /dev/tty cannot be opened). */
int vl_password_get(const struct vl_pwsrc *src, const char *prompt, bool confirm, char **pw,
		    size_t *len, char *err, size_t errcap) VL_MUST_CHECK;
void vl_password_free(char *pw, size_t len);
/* Does this --passfile value mean standard input ("-" or "/dev/stdin")? */
bool vl_passfile_is_stdin(const char *passfile);

#endif
