/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Directories of the ciphertext tree (FORMAT.md §4, §5): IDs, entry names, listing. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../crypto/dirid.h"
#include "../crypto/names.h"
#include "backing.h"
#include "dirs.h"
#include "log.h"
#include "vault.h"

#define VL_HELPER_MODE 0444 /* veilfs.dirid and sidecars: replaced, never edited */

int vl_dir_read_id(const struct vl_vault *v, int dirfd, const uint8_t *parent_id,
		   const char *enc, size_t enclen, uint8_t id[static VL_DIRID_LEN])
{
	uint8_t buf[VL_DIRID_FILE_LEN];
	ssize_t n;
	int r;

	n = vl_read_small(dirfd, VL_DIRID_FILE, buf, sizeof(buf));
	if (n >= 0) {
		r = vl_dirid_file_parse(buf, (size_t)n, id);
		if (r < 0)
			vl_log_bad_entry(dirfd, VL_DIRID_FILE, "malformed directory ID file");
		return r;
	}
	if (n == -EFBIG || n == -EINVAL) {
		vl_log_bad_entry(dirfd, VL_DIRID_FILE, "malformed directory ID file");
		return -EIO;
	}
	if (n != -ENOENT)
		return (int)n;
	/* Missing (a sync client may not have delivered it yet): the ID is a function of the
	 * key, the parent and the name, so re-derive it. Never written back: this code runs
	 * in lookups and listings, which must not change the cipher tree. */
	if (!parent_id)
		r = vl_dirid_root(vl_vault_keys(v), id);
	else if (enc)
		r = vl_dirid_derive(vl_vault_keys(v), parent_id, enc, enclen, id);
	else
		return -ENOENT;
	if (r == 0)
		vl_log_bad_entry(dirfd, VL_DIRID_FILE, "missing directory ID file, re-derived");
	return r;
}

int vl_ename_make(const struct vl_vault *v, const uint8_t dirid[static VL_DIRID_LEN],
		  const char *name, size_t len, enum vl_kind kind, struct vl_ename *e)
{
	int r;

	memset(e, 0, sizeof(*e));
	r = vl_name_encrypt(vl_vault_keys(v), dirid, name, len, kind, e->full, sizeof(e->full));
	if (r < 0)
		return r;
	e->fulllen = (size_t)r;
	e->kind = kind;
	if (e->fulllen > vl_vault_name_max(v)) {
		e->is_long = true;
		r = vl_name_long(e->full, e->fulllen, e->disk);
		if (r == 0)
			r = vl_name_sidecar(e->full, e->fulllen, e->sidecar);
		return r;
	}
	memcpy(e->disk, e->full, e->fulllen + 1);
	return 0;
}

int vl_dir_lookup(const struct vl_vault *v, int dirfd, const uint8_t dirid[static VL_DIRID_LEN],
		  const char *name, size_t len, struct vl_ename *e, struct stat *st)
{
	static const enum vl_kind kinds[] = { VL_KIND_PLAIN, VL_KIND_OBJECT };
	size_t i;
	int r;

	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		r = vl_ename_make(v, dirid, name, len, kinds[i], e);
		if (r < 0)
			return r;
		if (fstatat(dirfd, e->disk, st, AT_SYMLINK_NOFOLLOW) == 0)
			return 0;
		if (errno != ENOENT)
			return -errno;
	}
	/* Not found: leave the plain kind's names in *e, what a create needs. */
	r = vl_ename_make(v, dirid, name, len, VL_KIND_PLAIN, e);
	return r < 0 ? r : -ENOENT;
}

int vl_dir_put_sidecar(int dirfd, const struct vl_ename *e)
{
	char old[VL_ENCNAME_MAX + 1];
	ssize_t n;
	int r;

	if (!e->is_long)
		return 0;
	r = vl_write_atomic(dirfd, e->sidecar, e->full, e->fulllen, VL_HELPER_MODE, true);
	if (r != -EEXIST)
		return r;
	/* One exists: the same content (the name is a hash of it) is fine; anything else is
	 * damage that the right content repairs. */
	n = vl_read_small(dirfd, e->sidecar, old, sizeof(old));
	if (n == (ssize_t)e->fulllen && !memcmp(old, e->full, e->fulllen))
		return 0;
	vl_log_bad_entry(dirfd, e->sidecar, "replacing a damaged long-name sidecar");
	return vl_write_atomic(dirfd, e->sidecar, e->full, e->fulllen, VL_HELPER_MODE, false);
}

int vl_dir_drop_sidecar(int dirfd, const struct vl_ename *e)
{
	if (!e->is_long)
		return 0;
	if (unlinkat(dirfd, e->sidecar, 0) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

int vl_dir_make(const struct vl_vault *v, int parentfd, const uint8_t parent_id[static VL_DIRID_LEN],
		const struct vl_ename *e, mode_t mode, uint8_t id[static VL_DIRID_LEN])
{
	uint8_t buf[VL_DIRID_FILE_LEN];
	uint8_t newid[VL_DIRID_LEN];
	bool made_dir = false, drop_sidecar = false;
	mode_t extra;
	struct stat st;
	int fd = -1;
	int r;

	r = vl_dirid_derive(vl_vault_keys(v), parent_id, e->full, e->fulllen, newid);
	if (r < 0)
		return r;
	r = vl_dir_put_sidecar(parentfd, e);
	if (r < 0)
		return r;
	/* We need to write veilfs.dirid inside: create with u+wx and take back afterwards what
	 * the caller did not ask for, so that the directory has its final mode before the
	 * caller replies (mkdir(name, 0151) must not be reported as writable). */
	extra = (mode_t)(S_IWUSR | S_IXUSR) & ~mode;
	if (mkdirat(parentfd, e->disk, (mode & 07777) | S_IWUSR | S_IXUSR) < 0) {
		r = -errno;
		/* EEXIST: the sidecar belongs to the existing entry; keep it. */
		drop_sidecar = r != -EEXIST;
		goto out;
	}
	made_dir = true;
	drop_sidecar = true;
	fd = vl_dir_open(parentfd, e->disk);
	if (fd < 0) {
		r = fd;
		goto out;
	}
	vl_dirid_file_build(buf, newid);
	r = vl_write_atomic(fd, VL_DIRID_FILE, buf, sizeof(buf), VL_HELPER_MODE, true);
	if (r < 0)
		goto out;
	if (extra) {
		if (fstat(fd, &st) < 0 || fchmod(fd, st.st_mode & 07777 & ~extra) < 0) {
			r = -errno;
			(void)unlinkat(fd, VL_DIRID_FILE, 0);
			goto out;
		}
	}
	memcpy(id, newid, VL_DIRID_LEN);
	made_dir = drop_sidecar = false;
out:
	if (fd >= 0)
		close(fd);
	if (made_dir)
		(void)unlinkat(parentfd, e->disk, AT_REMOVEDIR);
	if (drop_sidecar && e->is_long)
		(void)unlinkat(parentfd, e->sidecar, 0);
	return r;
}

/* Decrypts one listed name. Returns the plaintext length or -errno (logged). */
static int list_one(const struct vl_vault *v, int dfd, const uint8_t dirid[static VL_DIRID_LEN],
		    const char *dname, size_t dlen, char *plain, size_t cap, enum vl_kind *kind)
{
	char side[VL_LONGNAME_LEN + 1];
	char enc[VL_ENCNAME_MAX + 1];
	const char *full = dname;
	size_t fulllen = dlen;
	ssize_t n;
	int r;

	switch (vl_name_classify(dname, dlen)) {
	case VL_ONDISK_SHORT:
		/* A short name longer than name_max would be looked up as a long name: not
		 * reachable, so not listed either. */
		if (dlen > vl_vault_name_max(v)) {
			vl_log_bad_entry(dfd, dname, "short name longer than name_max");
			return -EIO;
		}
		break;
	case VL_ONDISK_LONG:
		memcpy(side, dname, VL_LONGNAME_LEN + 1);
		side[0] = VL_MARK_SIDECAR;
		n = vl_read_small(dfd, side, enc, VL_ENCNAME_MAX);
		if (n < 0) {
			vl_log_bad_entry(dfd, dname, n == -ENOENT ? "missing long-name sidecar"
								: "unreadable long-name sidecar");
			return n == -ENOENT ? -EIO : (int)n;
		}
		enc[n] = '\0';
		if (vl_name_sidecar_check(dname, enc, (size_t)n) < 0 ||
		    (size_t)n <= vl_vault_name_max(v)) {
			vl_log_bad_entry(dfd, dname, "bad long-name sidecar");
			return -EIO;
		}
		full = enc;
		fulllen = (size_t)n;
		break;
	default:
		return -ENOENT; /* reserved, sidecar, foreign: not an entry, quietly */
	}
	r = vl_name_decrypt(vl_vault_keys(v), dirid, full, fulllen, plain, cap, kind);
	if (r < 0)
		vl_log_bad_entry(dfd, dname, "undecryptable name");
	return r;
}

int vl_dir_list(const struct vl_vault *v, int dirfd, const uint8_t dirid[static VL_DIRID_LEN],
		int (*cb)(void *ctx, const struct vl_dirent *de), void *ctx)
{
	char plain[256];
	struct dirent *d;
	DIR *dir = NULL;
	int fd, r = 0;

	/* A new open file description: a dup() would share the offset with dirfd, and two
	 * listings of one directory could run at once. */
	fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	dir = fdopendir(fd);
	if (!dir) {
		r = -errno;
		close(fd);
		return r;
	}
	for (;;) {
		struct vl_dirent de;
		enum vl_kind kind;
		size_t dlen;
		int n;

		errno = 0;
		d = readdir(dir);
		if (!d) {
			r = errno ? -errno : 0;
			break;
		}
		if (!strcmp(d->d_name, ".") || !strcmp(d->d_name, ".."))
			continue;
		dlen = strlen(d->d_name);
		n = list_one(v, fd, dirid, d->d_name, dlen, plain, sizeof(plain), &kind);
		if (n < 0)
			continue; /* logged (or quietly not ours) */
		de.name = plain;
		de.namelen = (size_t)n;
		de.disk = d->d_name;
		de.kind = kind;
		de.d_type = d->d_type;
		de.d_ino = d->d_ino;
		r = cb(ctx, &de);
		if (r != 0)
			break;
	}
	closedir(dir);
	return r;
}
