/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Checks of the command line before anything is unlocked, mounted or written. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../crypto/config.h"
#include "../crypto/names.h"
#include "../crypto/secmem.h"
#include "backing.h"
#include "log.h"
#include "mountinfo.h"
#include "nesting.h"
#include "precheck.h"

char *vl_path_shown(const char *path)
{
	char cwd[PATH_MAX];
	char *s;

	if (path[0] == '/' || !getcwd(cwd, sizeof(cwd)))
		return strdup(path);
	while (path[0] == '.' && path[1] == '/')
		path += 2;
	if (!strcmp(path, ".") || !path[0])
		return strdup(cwd);
	if (asprintf(&s, "%s%s%s", cwd, strcmp(cwd, "/") ? "/" : "", path) < 0)
		return NULL;
	return s;
}

int vl_precheck_cipherdir(const char *cipherdir, char *err, size_t errcap)
{
	int fd = open(cipherdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), e = errno;
	char *shown;
	const char *s;

	if (fd >= 0)
		return fd;
	shown = vl_path_shown(cipherdir);
	s = shown ? shown : cipherdir;
	if (e == ENOENT)
		vl_seterr(err, errcap, "cipher directory %s does not exist", s);
	else if (e == ENOTDIR)
		vl_seterr(err, errcap, "cipher directory %s is not a directory", s);
	else
		vl_seterr(err, errcap, "cannot open cipher directory %s: %s", s, strerror(e));
	free(shown);
	return -e;
}

int vl_precheck_config(int cipherfd, const char *cipherdir, const char *config_path,
		       bool missing_ok, char *err, size_t errcap)
{
	char *text = NULL, *dir = NULL, *shown = NULL, why[256] = "";
	struct vl_config cfg;
	ssize_t n;
	int r = -ENOMEM;

	memset(&cfg, 0, sizeof(cfg));
	dir = vl_path_shown(cipherdir);
	if (config_path)
		shown = vl_path_shown(config_path);
	else if (dir && asprintf(&shown, "%s/%s", dir, VL_CONFIG_FILE) < 0)
		shown = NULL;
	text = malloc(VL_CONFIG_MAX);
	if (!dir || !shown || !text) {
		vl_seterr(err, errcap, "out of memory");
		goto out;
	}
	if (config_path)
		n = vl_read_small(AT_FDCWD, config_path, text, VL_CONFIG_MAX);
	else
		n = vl_read_small(cipherfd, VL_CONFIG_FILE, text, VL_CONFIG_MAX);
	r = n < 0 ? (int)n : 0;
	switch (-r) {
	case 0:
		break;
	case ENOENT:
		if (missing_ok)
			r = 0;
		else if (config_path)
			vl_seterr(err, errcap, "config %s does not exist", shown);
		else
			vl_seterr(err, errcap,
				  "%s is not a veilfs vault: it has no %s (if its config is kept elsewhere, give --config FILE)",
				  dir, VL_CONFIG_FILE);
		goto out;
	case EFBIG:
		vl_seterr(err, errcap, "config %s is larger than %d bytes: not a veilfs config", shown,
			  VL_CONFIG_MAX);
		goto out;
	case EINVAL:
		vl_seterr(err, errcap, "config %s is not a regular file", shown);
		goto out;
	case ELOOP:
		vl_seterr(err, errcap, "config %s is a symlink: give the file it points to", shown);
		goto out;
	default:
		vl_seterr(err, errcap, "cannot read config %s: %s", shown, strerror(-r));
		goto out;
	}
	r = vl_config_parse(text, (size_t)n, &cfg, why, sizeof(why));
	if (r < 0)
		vl_seterr(err, errcap, "config %s: %s", shown, why[0] ? why : "invalid");
out:
	vl_wipe(&cfg, sizeof(cfg));
	free(text);
	free(dir);
	free(shown);
	return r;
}

/* The file system type of the mount whose root fd is, for a message ("" if unknown). */
static void mount_type(int fd, char *out, size_t cap)
{
	struct vl_mountinfo m;
	struct statx sx;
	size_t lcap = 0;
	char *line = NULL;
	ssize_t len;
	FILE *f;

	out[0] = '\0';
	if (statx(fd, "", AT_EMPTY_PATH | AT_STATX_DONT_SYNC, STATX_MNT_ID, &sx) < 0 ||
	    !(sx.stx_mask & STATX_MNT_ID))
		return;
	f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return;
	while ((len = getline(&line, &lcap, f)) > 0) {
		if (line[len - 1] == '\n')
			line[--len] = '\0';
		if (vl_mountinfo_parse(line, (size_t)len, &m) == 0 && m.id == sx.stx_mnt_id) {
			snprintf(out, cap, "%s", m.fstype);
			break;
		}
	}
	free(line);
	fclose(f);
}

int vl_precheck_mountpoint(const char *mnt, bool nonempty, char *err, size_t errcap)
{
	char *shown = vl_path_shown(mnt), type[64];
	const char *s = shown ? shown : mnt;
	struct dirent *d;
	DIR *dir = NULL;
	int fd, r;

	/* O_PATH: crossing into a mount on top does not ask its file system anything. */
	fd = open(mnt, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		if (r == -ENOENT)
			vl_seterr(err, errcap, "mountpoint %s does not exist (create the directory first)",
				  s);
		else if (r == -ENOTDIR)
			vl_seterr(err, errcap, "mountpoint %s is not a directory", s);
		else
			vl_seterr(err, errcap, "mountpoint %s: %s", s, strerror(-r));
		goto out;
	}
	r = vl_is_mount_root(fd);
	if (r < 0) {
		vl_seterr(err, errcap, "mountpoint %s: %s", s, strerror(-r));
		goto out;
	}
	if (r > 0) {
		mount_type(fd, type, sizeof(type));
		vl_seterr(err, errcap,
			  "mountpoint %s is already a mount point%s%s%s: a second mount would hide it; unmount it first (fusermount3 -u %s) or choose another directory",
			  s, type[0] ? " (" : "", type, type[0] ? ")" : "", s);
		r = -EBUSY;
		goto out;
	}
	if (nonempty) {
		r = 0;
		goto out;
	}
	r = vl_dir_stream(fd, &dir);
	if (r < 0) {
		vl_seterr(err, errcap, "mountpoint %s: %s", s, strerror(-r));
		goto out;
	}
	while ((errno = 0, d = readdir(dir)) != NULL) {
		if (strcmp(d->d_name, ".") && strcmp(d->d_name, "..")) {
			vl_seterr(err, errcap,
				  "mountpoint %s is not empty: its files would be hidden while the vault is mounted (use -o nonempty to mount over them anyway)",
				  s);
			r = -ENOTEMPTY;
			goto out;
		}
	}
	r = errno ? -errno : 0;
	if (r < 0)
		vl_seterr(err, errcap, "mountpoint %s: %s", s, strerror(-r));
out:
	if (dir)
		closedir(dir);
	if (r < 0 && fd >= 0)
		close(fd);
	free(shown);
	return r < 0 ? r : fd;
}

int vl_precheck_apart(int cipherfd, const char *cipherdir, int fd, const char *path,
		      const char *what, char *err, size_t errcap)
{
	static const char why[] =
		"plaintext must never be written where the sync client uploads the vault, nor the "
		"plaintext view shown in its place; choose a directory outside the cipher "
		"directory that does not contain it";
	char *cs = vl_path_shown(cipherdir), *ps = vl_path_shown(path);
	enum vl_nesting how;
	int r;

	r = vl_nesting(fd, cipherfd, &how);
	if (r < 0) {
		vl_seterr(err, errcap,
			  "cannot check that %s %s and the cipher directory %s do not overlap: %s",
			  what, ps ? ps : path, cs ? cs : cipherdir, strerror(-r));
		goto out;
	}
	r = how == VL_NEST_APART ? 0 : -EPERM;
	if (how == VL_NEST_SAME)
		vl_seterr(err, errcap, "%s %s is the cipher directory %s itself: %s", what,
			  ps ? ps : path, cs ? cs : cipherdir, why);
	else if (how == VL_NEST_A_IN_B)
		vl_seterr(err, errcap, "%s %s is inside the cipher directory %s: %s", what,
			  ps ? ps : path, cs ? cs : cipherdir, why);
	else if (how == VL_NEST_B_IN_A)
		vl_seterr(err, errcap, "the cipher directory %s is inside %s %s: %s",
			  cs ? cs : cipherdir, what, ps ? ps : path, why);
out:
	free(cs);
	free(ps);
	return r;
}

bool vl_same_dir(int fd, int ref)
{
	struct stat a, b;

	return fstat(fd, &a) == 0 && fstat(ref, &b) == 0 && a.st_dev == b.st_dev &&
	       a.st_ino == b.st_ino;
}
