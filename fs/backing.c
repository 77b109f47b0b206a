/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Backing I/O: every access to the ciphertext directory goes through an *at() call relative
 * to a directory fd, with O_NOFOLLOW, so a symlink planted in the synced folder is never
 * followed. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "../crypto/secmem.h"
#include "backing.h"

int vl_dir_open(int dirfd, const char *name)
{
	int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

ssize_t vl_pread_full(int fd, void *buf, size_t len, uint64_t off)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = pread(fd, (char *)buf + done, len - done, (off_t)(off + done));

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			break; /* end of file */
		done += (size_t)n;
	}
	return (ssize_t)done;
}

int vl_pwrite_full(int fd, const void *buf, size_t len, uint64_t off)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = pwrite(fd, (const char *)buf + done, len - done, (off_t)(off + done));

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EIO; /* cannot happen for regular files; do not spin */
		done += (size_t)n;
	}
	return 0;
}

ssize_t vl_read_small(int dirfd, const char *name, void *buf, size_t cap)
{
	struct stat st;
	ssize_t r;
	int fd;

	/* O_NONBLOCK: a fifo planted under a reserved name must not hang the open. */
	fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		r = -errno;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		r = -EINVAL;
		goto out;
	}
	if (st.st_size < 0 || (uint64_t)st.st_size > cap) {
		r = -EFBIG;
		goto out;
	}
	r = vl_pread_full(fd, buf, cap, 0);
	if (r < 0)
		goto out;
	/* The file may have grown since fstat: a full buffer means it might not fit. */
	if ((size_t)r == cap) {
		char extra;
		ssize_t n = vl_pread_full(fd, &extra, 1, cap);

		if (n < 0)
			r = n;
		else if (n > 0)
			r = -EFBIG;
	}
out:
	close(fd);
	return r;
}

/* renameat2(RENAME_NOREPLACE) through syscall(): glibc's wrapper is missing on older
 * systems, and the kernel's ENOSYS/EINVAL tell us to fall back. */
static int rename_noreplace(int dirfd, const char *from, const char *to)
{
#ifdef SYS_renameat2
	if (syscall(SYS_renameat2, dirfd, from, dirfd, to, 1u /* RENAME_NOREPLACE */) == 0)
		return 0;
	if (errno != ENOSYS && errno != EINVAL)
		return -errno;
#endif
	/* Fallback for file systems without RENAME_NOREPLACE: link fails with EEXIST. */
	if (linkat(dirfd, from, dirfd, to, 0) < 0)
		return -errno;
	if (unlinkat(dirfd, from, 0) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

int vl_tmp_name(char out[static VL_TMP_NAME_SIZE])
{
	static const char hex[] = "0123456789abcdef";
	uint8_t rnd[12];
	size_t o = sizeof(VL_TMP_PREFIX) - 1;
	int r = vl_random(rnd, sizeof(rnd));

	if (r < 0)
		return r;
	memcpy(out, VL_TMP_PREFIX, o);
	for (size_t i = 0; i < sizeof(rnd); i++) {
		out[o++] = hex[rnd[i] >> 4];
		out[o++] = hex[rnd[i] & 15];
	}
	out[o] = '\0';
	return 0;
}

int vl_copy_user_xattrs(int src, int dst)
{
	const size_t vmax = 65536; /* the kernel's limit for one value */
	char *names = NULL;
	uint8_t *val = NULL;
	ssize_t n;
	int r = 0;

	n = flistxattr(src, NULL, 0);
	if (n <= 0)
		return n < 0 && errno != ENOTSUP ? -errno : 0;
	names = malloc((size_t)n + 1);
	val = malloc(vmax);
	if (!names || !val) {
		r = -ENOMEM;
		goto out;
	}
	n = flistxattr(src, names, (size_t)n);
	if (n < 0) {
		r = -errno;
		goto out;
	}
	names[n] = '\0';
	for (char *s = names; s < names + n; s += strlen(s) + 1) {
		ssize_t len;

		if (strncmp(s, "user.", 5) != 0)
			continue;
		len = fgetxattr(src, s, val, vmax);
		if (len < 0)
			continue;
		if (fsetxattr(dst, s, val, (size_t)len, 0) < 0) {
			r = -errno;
			break;
		}
	}
out:
	free(val);
	free(names);
	return r;
}

int vl_write_atomic(int dirfd, const char *name, const void *buf, size_t len, mode_t mode,
		    bool noreplace)
{
	char tmp[VL_TMP_NAME_SIZE];
	bool made = false;
	int fd = -1;
	int r;

	r = vl_tmp_name(tmp);
	if (r < 0)
		return r;
	fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd < 0) {
		r = -errno;
		goto out;
	}
	made = true;
	r = vl_pwrite_full(fd, buf, len, 0);
	if (r < 0)
		goto out;
	if (fsync(fd) < 0) {
		r = -errno;
		goto out;
	}
	if (close(fd) < 0) {
		fd = -1;
		r = -errno;
		goto out;
	}
	fd = -1;
	if (noreplace) {
		r = rename_noreplace(dirfd, tmp, name);
	} else {
		r = renameat(dirfd, tmp, dirfd, name) < 0 ? -errno : 0;
	}
	if (r < 0)
		goto out;
	made = false; /* the temporary name is gone */
	/* Make the new name durable. */
	if (fsync(dirfd) < 0)
		r = -errno;
out:
	if (fd >= 0)
		close(fd);
	if (made)
		(void)unlinkat(dirfd, tmp, 0);
	return r;
}

const char *vl_fd_path(int fd, char *buf, size_t cap)
{
	char proc[64];
	ssize_t n;

	if (cap < 2)
		return "?";
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	n = readlink(proc, buf, cap - 1);
	if (n < 0)
		return "?";
	buf[n] = '\0';
	return buf;
}

int vl_dir_stream(int dirfd, DIR **out)
{
	int fd, r;

	*out = NULL;
	fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	*out = fdopendir(fd);
	if (!*out) {
		r = -errno;
		close(fd);
		return r;
	}
	return 0;
}
