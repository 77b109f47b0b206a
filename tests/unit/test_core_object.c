/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fs/object.c: symlinks and special files as object files, strict parsing, on vaults of both
 * formats. */
#include "config.h"

#include <sys/sysmacros.h>

#include "tap.h"
#include "core_util.h"

#include "crypto/content.h"
#include "crypto/secmem.h"
#include "fs/fileio.h"
#include "fs/object.h"

/* An empty object file named name in the root, with its binding in *b (format 2). For
 * format 2 the file holds nothing yet: vl_object_write writes its header. */
static int new_file(struct vl_vault *v, const char *name, struct vl_binding *b)
{
	struct vl_ename e;
	int fd;

	if (vl_ename_make(v, vl_vault_root_info(v), name, strlen(name), VL_KIND_OBJECT, &e) < 0 ||
	    vl_dir_put_sidecar(vl_vault_rootfd(v), &e) < 0 ||
	    vl_ename_binding(v, vl_vault_root_info(v), &e, b) < 0)
		exit(99);
	fd = openat(vl_vault_rootfd(v), e.disk, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		exit(99);
	return fd;
}

/* Writes raw object plaintext with the object stream, as a forger with the key would. */
static int raw_object(struct vl_vault *v, const char *name, const void *pt, size_t len,
		      struct vl_binding *b)
{
	struct vl_content *c = NULL;
	int fd = new_file(v, name, b);

	if (vl_content_new(&c, v, VL_STREAM_OBJECT, b) < 0 || vl_content_create(c, fd) < 0 ||
	    vl_content_write(c, fd, pt, len, 0) != (ssize_t)len)
		exit(99);
	vl_content_free(c);
	return fd;
}

static struct vl_object o, back;

static void run(unsigned fmt)
{
	char dir[PATH_MAX], lname[256];
	const char *F;
	struct vl_binding b, b2;
	struct vl_vault *v;
	struct stat st;
	uint64_t size;
	size_t i;
	int fd;

	v = tc_vault(dir, fmt, 4096, 220, NULL);
	F = tc_fmt(v);

	/* A 4095-byte symlink target: type byte + target = 4096 bytes, one full block. */
	memset(&o, 0, sizeof(o));
	o.type = S_IFLNK;
	o.tlen = VL_SYMLINK_MAX;
	for (i = 0; i < o.tlen; i++)
		o.target[i] = (char)('a' + i % 26);
	o.target[3] = '/';
	fd = new_file(v, "l4095", &b);
	ok(vl_object_write(v, fd, &b, &o) == 0, "%s: write a 4095-byte symlink", F);
	ok(vl_object_read(v, fd, &b, &back) == 0 && back.type == S_IFLNK && back.tlen == VL_SYMLINK_MAX &&
		   !memcmp(back.target, o.target, VL_SYMLINK_MAX) && back.target[VL_SYMLINK_MAX] == '\0',
	   "%s: 4095-byte target reads back", F);
	ok(fstat(fd, &st) == 0 && vl_object_symlink_size(v, false, (uint64_t)st.st_size, &size) == 0 &&
		   size == VL_SYMLINK_MAX,
	   "%s: symlink size from the ciphertext size: 4095", F);
	ok(vl_object_write(v, fd, &b, &o) == -EEXIST, "%s: writing into a non-empty file: EEXIST", F);
	close(fd);

	o.tlen = 1;
	o.target[0] = 'x';
	fd = new_file(v, "l1", &b);
	ok(vl_object_write(v, fd, &b, &o) == 0 && vl_object_read(v, fd, &b, &back) == 0 && back.tlen == 1 &&
		   !strcmp(back.target, "x"),
	   "%s: 1-byte target", F);
	ok(fstat(fd, &st) == 0 && vl_object_symlink_size(v, false, (uint64_t)st.st_size, &size) == 0 &&
		   size == 1,
	   "%s: symlink size of a 1-byte target: 1", F);
	close(fd);

	fd = new_file(v, "bad", &b);
	o.tlen = 0;
	ok(vl_object_write(v, fd, &b, &o) == -EINVAL, "%s: empty target refused", F);
	o.tlen = 3;
	memcpy(o.target, "a\0b", 3);
	ok(vl_object_write(v, fd, &b, &o) == -EINVAL, "%s: target with a NUL refused", F);
	o.tlen = VL_SYMLINK_MAX + 1;
	ok(vl_object_write(v, fd, &b, &o) == -EINVAL, "%s: 4096-byte target refused", F);
	o.type = S_IFREG;
	ok(vl_object_write(v, fd, &b, &o) == -EINVAL, "%s: a regular file is not an object", F);
	ok(tc_csize(fd) == 0, "%s: nothing was written by the refused objects", F);
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
			fd = new_file(v, kinds[i].name, &b);
			ok(vl_object_write(v, fd, &b, &o) == 0 && vl_object_read(v, fd, &b, &back) == 0 &&
				   back.type == o.type && back.rdev == o.rdev,
			   "%s: %s round trip", F, kinds[i].name);
			close(fd);
		}
	}

	/* Strict parsing of forged plaintexts. */
	fd = raw_object(v, "x1", "x", 1, &b);
	ok(vl_object_read(v, fd, &b, &back) == -EIO, "%s: unknown type byte: EIO", F);
	close(fd);
	fd = raw_object(v, "x2", "pX", 2, &b);
	ok(vl_object_read(v, fd, &b, &back) == -EIO, "%s: fifo with a payload: EIO", F);
	close(fd);
	fd = raw_object(v, "x3", "c1234567", 8, &b);
	ok(vl_object_read(v, fd, &b, &back) == -EIO, "%s: device with a 7-byte rdev: EIO", F);
	close(fd);
	fd = raw_object(v, "x4", "l", 1, &b);
	ok(vl_object_read(v, fd, &b, &back) == -EIO, "%s: symlink with an empty target: EIO", F);
	close(fd);
	fd = raw_object(v, "x5", "la\0b", 4, &b);
	ok(vl_object_read(v, fd, &b, &back) == -EIO, "%s: symlink target with a NUL: EIO", F);
	close(fd);
	fd = new_file(v, "x6", &b);
	ok(vl_object_read(v, fd, &b, &back) == -EIO, "%s: empty object file: EIO", F);
	close(fd);

	/* A regular file's content stream is not an object (kind-marker swap). */
	{
		struct vl_content *c = NULL;
		struct vl_ename e;

		fd = tc_file(v, vl_vault_rootfd(v), vl_vault_root_info(v), "reg", VL_KIND_PLAIN, &e, &c);
		if (vl_ename_binding(v, vl_vault_root_info(v), &e, &b2) < 0)
			exit(99);
		ok(vl_content_write(c, fd, "lfoo", 4, 0) == 4 && vl_object_read(v, fd, &b2, &back) == -EIO,
		   "%s: regular file read as an object: EIO", F);
		vl_content_free(c);
		close(fd);
	}

	if (fmt >= VL_FORMAT_V2) {
		/* Format 2: an object is bound to its directory like a regular file, and a
		 * long-named one has the long header, which its size follows. */
		struct vl_binding other = b;

		memset(&o, 0, sizeof(o));
		o.type = S_IFLNK;
		o.tlen = 5;
		memcpy(o.target, "/etc/", 5);
		fd = new_file(v, "bound", &b);
		ok(vl_object_write(v, fd, &b, &o) == 0 && vl_object_read(v, fd, &b, &back) == 0,
		   "%s: a symlink object reads with its binding", F);
		memset(other.parent, 0x5a, sizeof(other.parent));
		ok(vl_object_read(v, fd, &other, &back) == -EIO,
		   "%s: the same object read as bound to another directory: EIO", F);
		close(fd);

		memset(lname, 'L', 200);
		lname[200] = '\0';
		fd = new_file(v, lname, &b);
		ok(b.is_long, "%s: a 200-byte name is long", F);
		ok(vl_object_write(v, fd, &b, &o) == 0 && vl_object_read(v, fd, &b, &back) == 0 &&
			   back.tlen == 5 && !memcmp(back.target, "/etc/", 5),
		   "%s: a long-named symlink object round trip", F);
		ok(tc_csize(fd) == VL_HEADER_LONG_LEN + 6 + VL_BLOCK_OVERHEAD &&
			   vl_object_symlink_size(v, true, tc_csize(fd), &size) == 0 && size == 5,
		   "%s: its size follows the long header (346 + 6 + 28 bytes -> 5)", F);
		ok(vl_object_symlink_size(v, false, tc_csize(fd), &size) == 0 && size != 5,
		   "%s: read as a short-named file's size, it is another size", F);
		ok(vl_object_symlink_size(v, false, VL_HEADER_SHORT_LEN + VL_BLOCK_OVERHEAD, &size) == -EIO,
		   "%s: an empty object (72 + 28 bytes) has no symlink size: EIO", F);
		close(fd);
	}

	vl_vault_free(v);
	tc_rmrf(dir);
}

int main(void)
{
	if (vl_crypto_init() != 0) /* first: libcrypto allocates in the secure pool */
		return 99;
	run(VL_FORMAT_V1);
	run(VL_FORMAT_V2);
	return done_testing();
}
