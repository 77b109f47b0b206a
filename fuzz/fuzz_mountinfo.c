// SPDX-License-Identifier: GPL-2.0-or-later
/* libFuzzer target: one /proc/self/mountinfo line (fs/mountinfo.c), whose paths can hold
 * names that whoever made the directories chose. Properties: the parser accepts or says
 * -EINVAL, nothing else; an accepted line gives absolute paths and a file system type
 * inside the buffer; escaping the paths again and parsing the result gives the same
 * fields; a path lies within itself and within "/". */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>

#include "fs/mountinfo.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The kernel's escaping of a path in mountinfo (seq_file mangle of " \t\n\\"). */
static size_t escape(const char *s, char *out)
{
	size_t n = 0;

	for (; *s; s++) {
		if (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\\')
			n += (size_t)sprintf(out + n, "\\%03o", (unsigned char)*s);
		else
			out[n++] = *s;
	}
	out[n] = '\0';
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vl_mountinfo m, again;
	char *buf, *line, *root, *mnt;
	int r;

	if (size > 1 << 16)
		return 0;
	buf = malloc(size + 1);
	if (!buf)
		abort();
	memcpy(buf, data, size);
	r = vl_mountinfo_parse(buf, size, &m);
	if (r != 0 && r != -EINVAL)
		abort();
	if (r == 0) {
		if (m.root < buf || m.root > buf + size || m.mnt < buf || m.mnt > buf + size ||
		    m.fstype < buf || m.fstype >= buf + size)
			abort();
		if (m.root[0] != '/' || m.mnt[0] != '/' || !m.fstype[0] || strchr(m.fstype, ' '))
			abort();
		if (!vl_mountinfo_path_within(m.root, m.root) || !vl_mountinfo_path_within(m.mnt, "/"))
			abort();
		root = malloc(4 * strlen(m.root) + 1);
		mnt = malloc(4 * strlen(m.mnt) + 1);
		line = malloc(8 * size + 128);
		if (!root || !mnt || !line)
			abort();
		escape(m.root, root);
		escape(m.mnt, mnt);
		r = sprintf(line, "%llu %llu %u:%u %s %s rw - %s none rw", (unsigned long long)m.id,
			    (unsigned long long)m.parent, major(m.dev), minor(m.dev), root, mnt, m.fstype);
		if (vl_mountinfo_parse(line, (size_t)r, &again) != 0 || again.id != m.id ||
		    again.parent != m.parent || again.dev != m.dev || strcmp(again.root, m.root) ||
		    strcmp(again.mnt, m.mnt) || strcmp(again.fstype, m.fstype))
			abort();
		free(root);
		free(mnt);
		free(line);
	}
	free(buf);
	return 0;
}
