// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * mkdeep: makes a deep tree in a vault for tests/t14-deep-trees.sh (issue 9 §4).
 *
 *   mkdeep --passfile FILE CIPHERDIR DEPTH
 *
 * Creates the plaintext tree a/a/.../a (DEPTH directories, each called "a") under the
 * vault's root, with an empty file "a" in the deepest directory and a sync client's conflict
 * copy of that file ("E (1)", its ciphertext copied). Each level is what veilfs's mkdir makes
 * (vl_dir_make: the name, the derived ID, the ID file of format 1 or of format 2 with its
 * place and its parent's token), and the files are what its create makes (vl_file_create),
 * all through the library; only the ID files are written in place, not through a temporary
 * and a rename as vl_dir_make does, because the kernel makes a rename slower the deeper the
 * directory (FORMAT.md does not depend on how the bytes got there). A format-2 tree this
 * deep can only be made with the key: the storage side cannot nest copies of a directory
 * there as it can in format 1, since an ID file names its place.
 *
 * Exit status: 0 done, 1 failure (a message on stderr), 2 usage.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../crypto/dirid.h"
#include "../crypto/secmem.h"
#include "../fs/backing.h"
#include "../fs/dirinfo.h"
#include "../fs/dirs.h"
#include "../fs/entry.h"
#include "../fs/vault.h"

static int fail(const char *what, int r)
{
	fprintf(stderr, "mkdeep: %s: %s\n", what, strerror(r < 0 ? -r : r));
	return 1;
}

/* Writes the ID file of directory dfd (info di, parent's token ptoken) as vl_dirinfo_write
 * does, but in place. 0 or -errno. */
static int write_idfile(const struct vl_vault *v, int dfd, const struct vl_dirinfo *di,
			const uint8_t ptoken[static VL_TOKEN_LEN])
{
	uint8_t buf[VL_IDFILE_MAX];
	struct vl_idfile f;
	int fd, len, r = 0;

	if (vl_vault_format(v) == VL_FORMAT_V1) {
		vl_dirid_file_build(buf, di->id);
		len = VL_DIRID_FILE_LEN;
	} else {
		memset(&f, 0, sizeof(f));
		memcpy(f.id, di->id, VL_DIRID_LEN);
		memcpy(f.ptoken, ptoken, VL_TOKEN_LEN);
		f.place[0] = di->place;
		f.nplaces = 1;
		len = vl_idfile_build(vl_vault_keys(v), &f, buf, sizeof(buf));
		if (len < 0)
			return len;
	}
	fd = openat(dfd, VL_DIRID_FILE, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0444);
	if (fd < 0)
		return -errno;
	if (vl_pwrite_full(fd, buf, (size_t)len, 0) < 0)
		r = -EIO;
	close(fd);
	return r;
}

/* Copies file name of dfd to copy (a new file) byte for byte. 0 or -errno. */
static int copy_file(int dfd, const char *name, const char *copy)
{
	uint8_t buf[4096];
	int in, out, r = 0;
	ssize_t n;
	uint64_t off = 0;

	in = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (in < 0)
		return -errno;
	out = openat(dfd, copy, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (out < 0) {
		r = -errno;
		close(in);
		return r;
	}
	while ((n = vl_pread_full(in, buf, sizeof(buf), off)) > 0) {
		if (vl_pwrite_full(out, buf, (size_t)n, off) < 0) {
			r = -EIO;
			break;
		}
		off += (uint64_t)n;
	}
	if (n < 0)
		r = (int)n;
	close(in);
	close(out);
	return r;
}

int main(int argc, char **argv)
{
	struct vl_dirinfo *di = malloc(sizeof(*di)), *ci = malloc(sizeof(*ci));
	uint8_t ptoken[VL_TOKEN_LEN];
	struct vl_vault *v = NULL;
	struct vl_ename e;
	char pw[1024], err[512] = "", copy[VL_ENCNAME_MAX + 8];
	long depth;
	int fd, cfd, r;
	ssize_t n;

	if (vl_crypto_init() < 0)
		return fail("cannot set up the secure memory", -ENOMEM);
	if (argc != 5 || strcmp(argv[1], "--passfile") != 0 || (depth = atol(argv[4])) < 1) {
		fputs("usage: mkdeep --passfile FILE CIPHERDIR DEPTH\n", stderr);
		return 2;
	}
	if (!di || !ci)
		return fail("out of memory", -ENOMEM);
	fd = open(argv[2], O_RDONLY | O_CLOEXEC);
	n = fd < 0 ? -errno : read(fd, pw, sizeof(pw) - 1);
	if (fd >= 0)
		close(fd);
	if (n < 0)
		return fail(argv[2], (int)n);
	pw[n] = '\0';
	r = vl_vault_open(&v, argv[3], NULL, pw, strcspn(pw, "\n"), err, sizeof(err));
	vl_wipe(pw, sizeof(pw));
	if (r < 0)
		return fail(err[0] ? err : "cannot open the vault", r);
	*di = *vl_vault_root_info(v);
	fd = vl_dir_open(vl_vault_rootfd(v), ".");
	if (fd < 0)
		return fail(argv[3], fd);
	for (long i = 0; i < depth; i++) {
		/* What vl_dir_make does, but for the rename. */
		r = vl_ename_make(v, di, "a", 1, VL_KIND_PLAIN, &e);
		if (r < 0)
			return fail("vl_ename_make", r);
		memset(ci, 0, sizeof(*ci));
		ci->format = vl_vault_format(v);
		memcpy(ci->place.parent, di->id, VL_DIRID_LEN);
		memcpy(ci->place.name, e.full, e.fulllen + 1);
		ci->place.namelen = e.fulllen;
		memcpy(ci->disk, e.disk, strlen(e.disk) + 1);
		ci->disklen = strlen(e.disk);
		ci->flags = VL_DI_FILE;
		ci->filed = 1u;
		r = vl_dirid_derive(vl_vault_keys(v), di->id, e.full, e.fulllen, ci->id);
		if (r == 0)
			r = vl_dir_ptoken(v, di, di->id, ptoken);
		if (r < 0)
			return fail("the directory's ID", r);
		if (mkdirat(fd, e.disk, 0755) < 0)
			return fail("mkdir", -errno);
		cfd = vl_dir_open(fd, e.disk);
		if (cfd < 0)
			return fail("open", cfd);
		r = write_idfile(v, cfd, ci, ptoken);
		if (r < 0)
			return fail("the ID file", r);
		close(fd);
		fd = cfd;
		*di = *ci;
	}
	r = vl_ename_make(v, di, "a", 1, VL_KIND_PLAIN, &e);
	cfd = r < 0 ? r : vl_file_create(v, fd, di, &e, 0644);
	if (cfd < 0)
		return fail("the file at the bottom", cfd);
	close(cfd);
	snprintf(copy, sizeof(copy), "%s (1)", e.disk);
	r = copy_file(fd, e.disk, copy);
	if (r < 0)
		return fail("the conflict copy", r);
	close(fd);
	vl_vault_free(v);
	free(di);
	free(ci);
	return 0;
}
