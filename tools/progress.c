/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The status line of a long veilctl command (tools/progress.h). */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../crypto/conflict.h"
#include "../crypto/content.h"
#include "../crypto/names.h"
#include "../fs/vault.h"
#include "progress.h"

/* Seconds between two draws: enough to look alive, few enough writes to cost nothing. */
#define REDRAW_INTERVAL 0.1

/* The one status line of this process (see progress.h); not thread-safe. */
static struct {
	int tty;	/* -1 unknown, 0 no, 1 yes */
	bool begun;	/* between _begin and _end */
	bool drawn;	/* something is on the line */
	const char *what, *unit;
	uint64_t items, items_total, bytes, bytes_total;
	double last;	/* time of the last draw */
} P = { .tty = -1 };

static double mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

bool vc_progress_on(void)
{
	if (P.tty < 0)
		P.tty = isatty(STDERR_FILENO) ? 1 : 0;
	return P.tty == 1;
}

/* "12.3 MiB"-style scale for n: divisor and name. */
static void scale(uint64_t n, double *div, const char **name)
{
	static const char *const names[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	unsigned i = 0;

	*div = 1;
	while (i < 4 && (double)n >= 1024 * *div) {
		*div *= 1024;
		i++;
	}
	*name = names[i];
}

static void draw(void)
{
	char line[256];
	struct winsize ws;
	size_t width = 80;
	int n;

	if (P.bytes_total) {
		uint64_t done = P.bytes < P.bytes_total ? P.bytes : P.bytes_total;
		const char *un;
		double div;

		scale(P.bytes_total, &div, &un);
		n = snprintf(line, sizeof(line), "%s: %.1f/%.1f %s (%u%%)", P.what,
			     (double)done / div, (double)P.bytes_total / div, un,
			     (unsigned)(done * 100 / P.bytes_total));
		if (P.unit && n > 0 && (size_t)n < sizeof(line))
			n += snprintf(line + n, sizeof(line) - (size_t)n, ", %llu %s",
				      (unsigned long long)P.items, P.unit);
	} else if (P.items_total) {
		uint64_t done = P.items < P.items_total ? P.items : P.items_total;

		n = snprintf(line, sizeof(line), "%s: %llu/%llu %s (%u%%)", P.what,
			     (unsigned long long)done, (unsigned long long)P.items_total,
			     P.unit ? P.unit : "", (unsigned)(done * 100 / P.items_total));
	} else {
		const char *un;
		double div;

		scale(P.bytes, &div, &un);
		n = snprintf(line, sizeof(line), "%s: %llu %s, %.1f %s", P.what,
			     (unsigned long long)P.items, P.unit ? P.unit : "items",
			     (double)P.bytes / div, un);
	}
	if (n < 0)
		return;
	/* One terminal line: a wrapped status line could not be erased with \r. */
	if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 1)
		width = ws.ws_col;
	if ((size_t)n >= width)
		line[width - 1] = '\0';
	fprintf(stderr, "\r%s\033[K", line);
	fflush(stderr);
	P.drawn = true;
	P.last = mono_now();
}

static void update(void)
{
	if (P.begun && mono_now() - P.last >= REDRAW_INTERVAL)
		draw();
}

void vc_progress_begin(const char *what, const char *unit, uint64_t items_total,
		       uint64_t bytes_total)
{
	if (!vc_progress_on())
		return;
	P.begun = true;
	P.what = what;
	P.unit = unit;
	P.items = P.bytes = 0;
	P.items_total = items_total;
	P.bytes_total = bytes_total;
	draw();
}

void vc_progress_item(uint64_t n)
{
	P.items += n;
	update();
}

void vc_progress_bytes(uint64_t n)
{
	P.bytes += n;
	update();
}

void vc_progress_clear(void)
{
	if (!P.drawn)
		return;
	fputs("\r\033[K", stderr);
	fflush(stderr);
	P.drawn = false;
	P.last = 0; /* redraw at the next update */
}

void vc_progress_end(void)
{
	if (!P.begun)
		return;
	draw();
	vc_progress_clear();
	P.begun = false;
}

/* ---- counting ---- */

static int count_tree(int topfd, const char *topname, const struct vl_vault *vault,
		      struct vc_tree_count *c)
{
	DIR *stack[VC_COUNT_DEPTH];
	int depth = 0, fd, r = 0;

	memset(c, 0, sizeof(*c));
	fd = openat(topfd, topname, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	stack[0] = fdopendir(fd);
	if (!stack[0]) {
		r = -errno;
		close(fd);
		return r;
	}
	depth = 1;
	while (depth > 0) {
		DIR *d = stack[depth - 1];
		struct dirent *de;
		struct stat st;
		size_t len;

		errno = 0;
		de = readdir(d);
		if (!de) {
			if (errno)
				r = -errno;
			closedir(d);
			depth--;
			if (r < 0)
				break;
			continue;
		}
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		len = strlen(de->d_name);
		if (vault) {
			enum vl_ondisk k = vl_name_classify(de->d_name, len);

			/* What a listing leaves to fs/dirinfo.c: helper files, copies of
			 * veilfs.dirid, format 1's sidecars. The rest are fsck's entries. */
			if (k == VL_ONDISK_RESERVED ||
			    (k == VL_ONDISK_SIDECAR && vl_vault_format(vault) == VL_FORMAT_V1) ||
			    vl_conflict_is_reserved_copy(de->d_name, len, NULL))
				continue;
		}
		c->names++;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue; /* gone meanwhile */
		if (S_ISREG(st.st_mode)) {
			uint64_t p = (uint64_t)st.st_size;

			c->files++;
			c->cbytes += (uint64_t)st.st_size;
			if (vault) {
				/* The header follows the on-disk name's kind (FORMAT.md §3.1). */
				const struct vl_layout l =
					vl_vault_layout(vault, de->d_name[0] == VL_MARK_LONG);

				if (vl_plain_size(&l, (uint64_t)st.st_size, &p) < 0)
					p = 0;
			}
			c->bytes += p;
		} else if (S_ISDIR(st.st_mode)) {
			c->dirs++;
			if (depth == VC_COUNT_DEPTH) {
				r = -ELOOP;
				break;
			}
			fd = openat(dirfd(d), de->d_name,
				    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (fd < 0)
				continue;
			stack[depth] = fdopendir(fd);
			if (!stack[depth]) {
				close(fd);
				continue;
			}
			depth++;
		}
	}
	while (depth > 0)
		closedir(stack[--depth]);
	return r;
}

int vc_progress_count_vault(int dirfd, const struct vl_vault *v, struct vc_tree_count *c)
{
	return count_tree(dirfd, ".", v, c);
}

int vc_progress_count_plain(int dirfd, const char *name, struct vc_tree_count *c)
{
	struct stat st;

	memset(c, 0, sizeof(*c));
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	if (!S_ISDIR(st.st_mode)) {
		c->names = 1;
		if (S_ISREG(st.st_mode)) {
			c->files = 1;
			c->bytes = c->cbytes = (uint64_t)st.st_size;
		}
		return 0;
	}
	return count_tree(dirfd, name, NULL, c);
}
