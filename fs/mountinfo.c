/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Strict parser of one /proc/self/mountinfo line (proc(5), "/proc/[pid]/mountinfo"). */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/sysmacros.h>

#include "mountinfo.h"

/* Takes the next space-separated field of [*p, end): NUL-terminates it and advances *p past
 * the separator. NULL when there is none, or when it is empty (two spaces in a row). */
static char *next_field(char **p, char *end)
{
	char *s = *p, *sp;

	if (s >= end)
		return NULL;
	sp = memchr(s, ' ', (size_t)(end - s));
	if (sp == s)
		return NULL;
	if (sp) {
		*sp = '\0';
		*p = sp + 1;
	} else {
		*p = end; /* the line's NUL is at end */
	}
	return s;
}

/* A decimal without sign or leading zeros (but "0"), at most 19 digits, ending at stop. */
static int parse_u64(const char *s, char stop, const char **after, uint64_t *out)
{
	uint64_t v = 0;
	size_t n = 0;

	if (s[0] == '0' && s[1] >= '0' && s[1] <= '9')
		return -EINVAL;
	for (; s[n] >= '0' && s[n] <= '9'; n++) {
		if (n == 19)
			return -EINVAL;
		v = v * 10 + (uint64_t)(s[n] - '0');
	}
	if (n == 0 || s[n] != stop)
		return -EINVAL;
	*after = s + n;
	*out = v;
	return 0;
}

/* Decodes the kernel's octal escapes (seq_file's mangle: space, tab, newline, backslash)
 * in place. The path must be absolute. -EINVAL for a malformed or NUL escape, or a bare
 * backslash. */
static int unescape_path(char *s)
{
	char *w = s;

	if (s[0] != '/')
		return -EINVAL;
	for (; *s; s++) {
		int v;

		if (*s != '\\') {
			*w++ = *s;
			continue;
		}
		if (s[1] < '0' || s[1] > '3' || s[2] < '0' || s[2] > '7' || s[3] < '0' ||
		    s[3] > '7')
			return -EINVAL;
		v = (s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0');
		if (v == 0)
			return -EINVAL;
		*w++ = (char)v;
		s += 3;
	}
	*w = '\0';
	return 0;
}

int vl_mountinfo_parse(char *line, size_t len, struct vl_mountinfo *m)
{
	char *p = line, *end = line + len, *f, *root, *mnt;
	const char *after;
	uint64_t maj, min;

	memset(m, 0, sizeof(*m));
	line[len] = '\0';
	if (memchr(line, '\0', len))
		return -EINVAL;
	f = next_field(&p, end);
	if (!f || parse_u64(f, '\0', &after, &m->id) < 0)
		return -EINVAL;
	f = next_field(&p, end);
	if (!f || parse_u64(f, '\0', &after, &m->parent) < 0)
		return -EINVAL;
	f = next_field(&p, end);
	if (!f || parse_u64(f, ':', &after, &maj) < 0 ||
	    parse_u64(after + 1, '\0', &after, &min) < 0 || maj > 0xfff || min > 0xfffff)
		return -EINVAL;
	m->dev = makedev((unsigned)maj, (unsigned)min);
	root = next_field(&p, end);
	mnt = next_field(&p, end);
	if (!root || !mnt || unescape_path(root) < 0 || unescape_path(mnt) < 0)
		return -EINVAL;
	if (!next_field(&p, end)) /* per-mount options */
		return -EINVAL;
	/* Optional fields ("shared:1", "master:2" ...) until the lone "-". */
	for (;;) {
		f = next_field(&p, end);
		if (!f)
			return -EINVAL;
		if (!strcmp(f, "-"))
			break;
	}
	f = next_field(&p, end);
	if (!f)
		return -EINVAL;
	m->fstype = f;
	/* The source and the super options follow; the source may be "none" or contain
	 * escapes, and nothing here needs them. */
	m->root = root;
	m->mnt = mnt;
	return 0;
}

bool vl_mountinfo_path_within(const char *a, const char *b)
{
	size_t lb = strlen(b);

	if (a[0] != '/' || b[0] != '/')
		return false;
	if (lb == 1)
		return true; /* everything is below "/" */
	if (strncmp(a, b, lb))
		return false;
	return a[lb] == '\0' || a[lb] == '/';
}
