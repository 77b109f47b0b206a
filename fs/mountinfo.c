/* SPDX-License-Identifier: GPL-2.0-or-later */
/* /proc/self/mountinfo, proc(5):
 *   ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPEROPTIONS
 * Fields are separated by single spaces; spaces, tabs, newlines and backslashes inside a
 * field are written as octal escapes (\040 ...). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "mountinfo.h"

/* A mountinfo line holds two paths of up to PATH_MAX bytes, each escaped up to 4 times
 * over, and options: anything longer is not a line the kernel writes. */
#define VL_MOUNTINFO_LINE_MAX (10 * PATH_MAX)
/* Most fields on one line (the optional fields are few: shared:N master:N ...). */
#define VL_MOUNTINFO_FIELDS 32

/* Copies field f of flen bytes into out (cap bytes), undoing the octal escapes. 0, or
 * -EINVAL when it does not fit or holds a malformed escape. */
static int unescape(const char *f, size_t flen, char *out, size_t cap)
{
	size_t i, o = 0;

	for (i = 0; i < flen; i++) {
		char ch = f[i];

		if (ch == '\\') {
			if (flen - i < 4 || f[i + 1] < '0' || f[i + 1] > '3' || f[i + 2] < '0' ||
			    f[i + 2] > '7' || f[i + 3] < '0' || f[i + 3] > '7')
				return -EINVAL;
			ch = (char)((f[i + 1] - '0') * 64 + (f[i + 2] - '0') * 8 + (f[i + 3] - '0'));
			i += 3;
		}
		if (ch == '\0' || o + 1 >= cap)
			return -EINVAL;
		out[o++] = ch;
	}
	out[o] = '\0';
	return 0;
}

/* Parses "MAJ:MIN" (decimal, exactly). */
static int parse_dev(const char *f, size_t flen, dev_t *dev)
{
	unsigned long v[2] = { 0, 0 };
	size_t i = 0;

	for (int k = 0; k < 2; k++) {
		size_t start = i;

		while (i < flen && f[i] >= '0' && f[i] <= '9') {
			if (v[k] > 0xfffffffful / 10)
				return -EINVAL;
			v[k] = v[k] * 10 + (unsigned long)(f[i] - '0');
			i++;
		}
		if (i == start || i - start > 10 || v[k] > 0xfffffffful)
			return -EINVAL;
		if (k == 0) {
			if (i >= flen || f[i] != ':')
				return -EINVAL;
			i++;
		}
	}
	if (i != flen)
		return -EINVAL;
	*dev = makedev((unsigned)v[0], (unsigned)v[1]);
	return 0;
}

/* The user_id= option of a FUSE mount's super options, or -1. */
static long fuse_owner(const char *f, size_t flen)
{
	size_t i = 0;

	while (i < flen) {
		size_t end = i;

		while (end < flen && f[end] != ',')
			end++;
		if (end - i > 8 && !memcmp(f + i, "user_id=", 8)) {
			long v = 0;
			size_t k;

			for (k = i + 8; k < end && f[k] >= '0' && f[k] <= '9' && v < 0x100000000l; k++)
				v = v * 10 + (f[k] - '0');
			return k == end && v < 0x100000000l ? v : -1;
		}
		i = end + 1;
	}
	return -1;
}

int vl_mountinfo_parse(const char *line, size_t len, struct vl_mountent *out)
{
	const char *f[VL_MOUNTINFO_FIELDS];
	size_t fl[VL_MOUNTINFO_FIELDS];
	size_t n = 0, i = 0, sep;

	/* Split on single spaces; an empty field is malformed. */
	while (i <= len) {
		size_t start = i;

		while (i < len && line[i] != ' ')
			i++;
		if (i == start || n == VL_MOUNTINFO_FIELDS)
			return -EINVAL;
		f[n] = line + start;
		fl[n++] = i - start;
		i++;
	}
	/* At least the six fixed fields, "-", and the three after it. */
	for (sep = 6; sep < n; sep++)
		if (fl[sep] == 1 && f[sep][0] == '-')
			break;
	if (n < 10 || sep + 4 != n)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	if (parse_dev(f[2], fl[2], &out->dev) < 0 ||
	    unescape(f[4], fl[4], out->mountpoint, sizeof(out->mountpoint)) < 0 ||
	    unescape(f[sep + 1], fl[sep + 1], out->fstype, sizeof(out->fstype)) < 0)
		return -EINVAL;
	out->owner = strncmp(out->fstype, "fuse", 4) ? -1 : fuse_owner(f[sep + 3], fl[sep + 3]);
	return 0;
}

int vl_mountinfo_find(const char *mnt, dev_t dev, struct vl_mountent *out)
{
	struct vl_mountent *cur = NULL;
	char *line = NULL;
	size_t cap = 0;
	bool found = false;
	ssize_t n;
	FILE *f;
	int r = -ENOENT;

	f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return -errno;
	cur = malloc(sizeof(*cur));
	if (!cur) {
		r = -ENOMEM;
		goto out;
	}
	while ((n = getline(&line, &cap, f)) > 0) {
		if (line[n - 1] == '\n')
			line[--n] = '\0';
		if ((size_t)n > VL_MOUNTINFO_LINE_MAX || vl_mountinfo_parse(line, (size_t)n, cur) < 0)
			continue;
		if (mnt && strcmp(cur->mountpoint, mnt))
			continue;
		if (dev && cur->dev != dev)
			continue;
		*out = *cur; /* later lines are newer mounts: keep going */
		found = true;
	}
	if (ferror(f))
		r = -EIO;
	else if (found)
		r = 0;
out:
	free(line);
	free(cur);
	fclose(f);
	return r;
}
