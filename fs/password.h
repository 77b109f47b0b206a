/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Where a password comes from: --passfile, --extpass, or a no-echo prompt on the tty.
 * Never argv or the environment; no prompt when stdin is not a terminal. */
#ifndef VEILFS_FS_PASSWORD_H
#define VEILFS_FS_PASSWORD_H

#include <stdbool.h>
#include <stddef.h>

#include "../crypto/common.h"

/* Longest accepted password in bytes (longer ones are refused, not cut). */
#define VL_PASSWORD_MAX 1024

struct vl_pwsrc {
	const char *passfile; /* first line of this file */
	const char *extpass;  /* run with /bin/sh -c, first line of its stdout */
};

/* Gets a password into secure memory (*pw, *len; free with vl_password_free). With
 * confirm, a tty prompt asks twice. prompt is the tty prompt text. 0 or -errno with a
 * one-line reason in err (-ENOTTY: no source and stdin is not a terminal). */
int vl_password_get(const struct vl_pwsrc *src, const char *prompt, bool confirm, char **pw,
		    size_t *len, char *err, size_t errcap) VL_MUST_CHECK;
void vl_password_free(char *pw, size_t len);

#endif
