/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Mount lookups in /proc/self/mountinfo (fs/mounts.h). */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mountinfo.h"
#include "mounts.h"

/* A mountinfo line holds two paths of up to PATH_MAX bytes, each escaped up to 4 times
 * over, and options: anything longer is not a line the kernel writes. */
#define VL_MOUNTINFO_LINE_MAX (10 * PATH_MAX)

int vl_mount_find(const char *mnt, dev_t dev, struct vl_mountent *out)
{
	struct vl_mountinfo m;
	char *line = NULL;
	size_t cap = 0;
	bool found = false;
	ssize_t n;
	FILE *f;
	int r = -ENOENT;

	f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return -errno;
	/* getline leaves room for the NUL the parser writes at the line's end. */
	while ((n = getline(&line, &cap, f)) > 0) {
		if (line[n - 1] == '\n')
			line[--n] = '\0';
		if ((size_t)n > VL_MOUNTINFO_LINE_MAX)
			continue;
		if (vl_mountinfo_parse(line, (size_t)n, &m) < 0)
			continue;
		if ((mnt && strcmp(m.mnt, mnt)) || (dev && m.dev != dev))
			continue;
		if (strlen(m.mnt) >= sizeof(out->mountpoint) ||
		    strlen(m.fstype) >= sizeof(out->fstype))
			continue;
		/* later lines are newer mounts: keep going */
		out->dev = m.dev;
		strcpy(out->mountpoint, m.mnt);
		strcpy(out->fstype, m.fstype);
		found = true;
	}
	if (ferror(f))
		r = -EIO;
	else if (found)
		r = 0;
	free(line);
	fclose(f);
	return r;
}
