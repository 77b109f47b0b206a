/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fs/object.c: symlinks and special files as object files, strict parsing. */
#include "config.h"

#include <sys/sysmacros.h>

#include "tap.h"
#include "core_util.h"

#include "crypto/content.h"
#include "crypto/secmem.h"
#include "fs/fileio.h"
#include "fs/object.h"

static int new_file(struct vl_vault *v, const char *name)
{
	int fd = openat(vl_vault_rootfd(v), name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

	if (fd < 0)
		exit(99);
	return fd;
}

/* Writes raw object plaintext with the object stream, as a forger with the key would. */
static int raw_object(struct vl_vault *v, const char *name, const void *pt, size_t len)
{
	struct vl_content *c = NULL;
	int fd = new_file(v, name);

	if (vl_content_new(&c, v, VL_STREAM_OBJECT) < 0 || vl_content_write(c, fd, pt, len, 0) != (ssize_t)len)
		exit(99);
	vl_content_free(c);
	return fd;
}

static struct vl_object o, back;

int main(void)
{
	char dir[PATH_MAX];
	struct vl_vault *v;
	struct stat st;
	uint64_t size;
	size_t i;
	int fd;

	if (vl_crypto_init() != 0) /* first: libcrypto allocates in the secure pool */
		return 99;
	v = tc_vault(dir, 4096, 220, NULL);

	/* A 4095-byte symlink target: type byte + target = 4096 bytes, one full block. */
	memset(&o, 0, sizeof(o));
	o.type = S_IFLNK;
	o.tlen = VL_SYMLINK_MAX;
	for (i = 0; i < o.tlen; i++)
		o.target[i] = (char)('a' + i % 26);
	o.target[3] = '/';
	fd = new_file(v, "l4095");
	ok(vl_object_write(v, fd, &o) == 0, "write a 4095-byte symlink");
	ok(vl_object_read(v, fd, &back) == 0 && back.type == S_IFLNK && back.tlen == VL_SYMLINK_MAX &&
		   !memcmp(back.target, o.target, VL_SYMLINK_MAX) && back.target[VL_SYMLINK_MAX] == '\0',
	   "4095-byte target reads back");
	ok(fstat(fd, &st) == 0 && vl_object_symlink_size(v, (uint64_t)st.st_size, &size) == 0 &&
		   size == VL_SYMLINK_MAX,
	   "symlink size from the ciphertext size: 4095");
	ok(vl_object_write(v, fd, &o) == -EEXIST, "writing into a non-empty file: EEXIST");
	close(fd);

	o.tlen = 1;
	o.target[0] = 'x';
	fd = new_file(v, "l1");
	ok(vl_object_write(v, fd, &o) == 0 && vl_object_read(v, fd, &back) == 0 && back.tlen == 1 &&
		   !strcmp(back.target, "x"),
	   "1-byte target");
	close(fd);

	fd = new_file(v, "bad");
	o.tlen = 0;
	ok(vl_object_write(v, fd, &o) == -EINVAL, "empty target refused");
	o.tlen = 3;
	memcpy(o.target, "a\0b", 3);
	ok(vl_object_write(v, fd, &o) == -EINVAL, "target with a NUL refused");
	o.tlen = VL_SYMLINK_MAX + 1;
	ok(vl_object_write(v, fd, &o) == -EINVAL, "4096-byte target refused");
	o.type = S_IFREG;
	ok(vl_object_write(v, fd, &o) == -EINVAL, "a regular file is not an object");
	close(fd);

	{
		static const struct {
			mode_t type;
			const char *name;
		} kinds[] = { { S_IFIFO, "fifo" }, { S_IFSOCK, "sock" }, { S_IFCHR, "chr" }, { S_IFBLK, "blk" } };

		for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
			memset(&o, 0, sizeof(o));
			o.type = kinds[i].type;
			o.rdev = (kinds[i].type == S_IFCHR || kinds[i].type == S_IFBLK) ? makedev(259, 70000) : 0;
			fd = new_file(v, kinds[i].name);
			ok(vl_object_write(v, fd, &o) == 0 && vl_object_read(v, fd, &back) == 0 &&
				   back.type == o.type && back.rdev == o.rdev,
			   "%s round trip", kinds[i].name);
			close(fd);
		}
	}

	/* Strict parsing of forged plaintexts. */
	fd = raw_object(v, "x1", "x", 1);
	ok(vl_object_read(v, fd, &back) == -EIO, "unknown type byte: EIO");
	close(fd);
	fd = raw_object(v, "x2", "pX", 2);
	ok(vl_object_read(v, fd, &back) == -EIO, "fifo with a payload: EIO");
	close(fd);
	fd = raw_object(v, "x3", "c1234567", 8);
	ok(vl_object_read(v, fd, &back) == -EIO, "device with a 7-byte rdev: EIO");
	close(fd);
	fd = raw_object(v, "x4", "l", 1);
	ok(vl_object_read(v, fd, &back) == -EIO, "symlink with an empty target: EIO");
	close(fd);
	fd = raw_object(v, "x5", "la\0b", 4);
	ok(vl_object_read(v, fd, &back) == -EIO, "symlink target with a NUL: EIO");
	close(fd);
	fd = new_file(v, "x6");
	ok(vl_object_read(v, fd, &back) == -EIO, "empty object file: EIO");
	close(fd);

	/* A regular file's content stream is not an object (kind-marker swap). */
	{
		struct vl_content *c = NULL;

		fd = new_file(v, "reg");
		ok(vl_content_new(&c, v, VL_STREAM_CONTENT) == 0 && vl_content_write(c, fd, "lfoo", 4, 0) == 4 &&
			   vl_object_read(v, fd, &back) == -EIO,
		   "regular file read as an object: EIO");
		vl_content_free(c);
		close(fd);
	}

	vl_vault_free(v);
	tc_rmrf(dir);
	return done_testing();
}
