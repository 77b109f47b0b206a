/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fs/mountinfo.c, fs/nesting.c and fs/precheck.c without mounting anything (bind mounts
 * are tested in tests/t13-mount-safety.sh and t14-veilctl-hostile.sh): the mountinfo line
 * parser accepts the kernel's lines and refuses every malformed field; vl_nesting tells
 * inside, outside and the same directory apart through symlinks and O_PATH fds; the
 * config check names full paths. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "fs/mountinfo.h"
#include "fs/nesting.h"
#include "fs/precheck.h"
#include "tap.h"

/* Parses a copy of text; the fields point into *keep (freed by the caller). */
static int parse(const char *text, struct vl_mountinfo *m, char **keep)
{
	size_t len = strlen(text);

	*keep = malloc(len + 1);
	if (!*keep)
		abort();
	memcpy(*keep, text, len + 1);
	return vl_mountinfo_parse(*keep, len, m);
}

static void test_parse(void)
{
	static const char *const bad[] = {
		"",
		"36 35 98:0 /mnt1 /mnt/parent rw,noatime master:1 ext3 /dev/root rw",  /* no "-" */
		"36 35 98:0 /mnt1 /mnt/parent rw -",				   /* no type */
		"36  35 98:0 /mnt1 /mnt/parent rw - ext3 /dev/root rw",		   /* empty field */
		"036 35 98:0 /mnt1 /mnt/parent rw - ext3 /dev/root rw",		   /* leading zero */
		"36 35 98 /mnt1 /mnt/parent rw - ext3 /dev/root rw",		   /* no minor */
		"36 35 98:0x /mnt1 /mnt/parent rw - ext3 /dev/root rw",		   /* trailing text */
		"36 35 4096:0 /mnt1 /mnt/parent rw - ext3 /dev/root rw",	   /* major > 12 bits */
		"36 35 98:0 mnt1 /mnt/parent rw - ext3 /dev/root rw",		   /* relative root */
		"36 35 98:0 /mnt1 mnt/parent rw - ext3 /dev/root rw",		   /* relative mnt */
		"36 35 98:0 /a\\9bc /mnt rw - ext3 /dev/root rw",		   /* not octal */
		"36 35 98:0 /a\\000b /mnt rw - ext3 /dev/root rw",		   /* NUL */
		"36 35 98:0 /a\\ /mnt rw - ext3 /dev/root rw",			   /* bare backslash */
		"36 35 98:0 /a\\40 /mnt rw - ext3 /dev/root rw",		   /* short escape */
		"99999999999999999999 35 98:0 / /mnt rw - ext3 /dev/root rw",	   /* 20 digits */
		"-1 35 98:0 / /mnt rw - ext3 /dev/root rw",			   /* sign */
		"36 35 98:0 / /mnt",						   /* cut short */
	};
	struct vl_mountinfo m;
	char *keep;
	int r;

	r = parse("36 35 98:0 /mnt1 /mnt/parent rw,noatime master:1 - ext3 /dev/root rw,errors=continue",
		  &m, &keep);
	ok(r == 0 && m.id == 36 && m.parent == 35 && m.dev == makedev(98, 0) &&
		   !strcmp(m.root, "/mnt1") && !strcmp(m.mnt, "/mnt/parent") && !strcmp(m.fstype, "ext3"),
	   "the example line of proc(5) parses into its fields");
	free(keep);
	r = parse("52 27 254:3 /tmp/with\\040space/c\\134d /mnt/b\\011ind\\012x rw shared:1 master:2 - fuse.veilfs /tmp/c rw",
		  &m, &keep);
	ok(r == 0 && !strcmp(m.root, "/tmp/with space/c\\d") && !strcmp(m.mnt, "/mnt/b\tind\nx") &&
		   !strcmp(m.fstype, "fuse.veilfs"),
	   "octal escapes (space, backslash, tab, newline) are decoded; optional fields skipped");
	free(keep);
	r = parse("1 0 0:1 / / rw - rootfs rootfs rw", &m, &keep);
	ok(r == 0 && m.id == 1 && m.parent == 0 && !strcmp(m.mnt, "/"), "the root mount, ID 1");
	free(keep);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		r = parse(bad[i], &m, &keep);
		ok(r == -EINVAL, "malformed line %zu is refused with -EINVAL (%d)", i, r);
		free(keep);
	}
	{
		char line[] = "36 35 98:0 /a\0b /mnt rw - ext3 x rw";

		ok(vl_mountinfo_parse(line, sizeof(line) - 1, &m) == -EINVAL, "a NUL byte in the line is refused");
	}
}

static void test_within(void)
{
	ok(vl_mountinfo_path_within("/a/b", "/a"), "/a/b is within /a");
	ok(vl_mountinfo_path_within("/a", "/a"), "/a is within itself");
	ok(!vl_mountinfo_path_within("/ab", "/a"), "/ab is not within /a");
	ok(!vl_mountinfo_path_within("/a", "/a/b"), "/a is not within /a/b");
	ok(vl_mountinfo_path_within("/x/y", "/"), "everything is within /");
	ok(!vl_mountinfo_path_within("a/b", "a"), "relative paths are never within anything");
}

static int opendir_path(const char *p, int flags)
{
	int fd = open(p, flags | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0) {
		perror(p);
		exit(99);
	}
	return fd;
}

static void test_nesting(const char *top)
{
	char a[300], b[300], c[300], link[300], file[300];
	enum vl_nesting how;
	int fa, fb, fc, fl, fr, r;

	snprintf(a, sizeof(a), "%s/a", top);
	snprintf(b, sizeof(b), "%s/a/b/deeper", top);
	snprintf(c, sizeof(c), "%s/c", top);
	snprintf(link, sizeof(link), "%s/c/link", top);
	snprintf(file, sizeof(file), "%s/a/file", top);
	if (mkdir(a, 0700) < 0 || mkdir(c, 0700) < 0)
		exit(99);
	snprintf(b, sizeof(b), "%s/a/b", top);
	if (mkdir(b, 0700) < 0)
		exit(99);
	snprintf(b, sizeof(b), "%s/a/b/deeper", top);
	if (mkdir(b, 0700) < 0 || symlink(b, link) < 0 || close(open(file, O_CREAT | O_WRONLY, 0600)) < 0)
		exit(99);
	fa = opendir_path(a, O_RDONLY);
	fb = opendir_path(b, O_PATH);
	fc = opendir_path(c, O_RDONLY);
	fl = opendir_path(link, O_PATH);
	fr = opendir_path("/", O_PATH);

	r = vl_nesting(fb, fa, &how);
	ok(r == 0 && how == VL_NEST_A_IN_B, "a/b/deeper is inside a (%d, %d)", r, how);
	r = vl_nesting(fa, fb, &how);
	ok(r == 0 && how == VL_NEST_B_IN_A, "and the other way round");
	r = vl_nesting(fa, fc, &how);
	ok(r == 0 && how == VL_NEST_APART, "a and c are apart");
	r = vl_nesting(fa, fa, &how);
	ok(r == 0 && how == VL_NEST_SAME, "a is a");
	r = vl_nesting(fl, fb, &how);
	ok(r == 0 && how == VL_NEST_SAME, "a symlink in c opened is a/b/deeper itself");
	r = vl_nesting(fl, fa, &how);
	ok(r == 0 && how == VL_NEST_A_IN_B, "the directory opened through a symlink in c is inside a");
	r = vl_nesting(fl, fc, &how);
	ok(r == 0 && how == VL_NEST_APART, "and not inside c, where the symlink is");
	r = vl_nesting(fa, fr, &how);
	ok(r == 0 && how == VL_NEST_A_IN_B, "everything is inside /");
	{
		int ff = open(file, O_RDONLY | O_CLOEXEC);

		r = vl_nesting(ff, fa, &how);
		ok(r == -ENOTDIR, "a file is not a directory to compare (%d)", r);
		close(ff);
	}
	ok(vl_is_mount_root(fr) == 1, "/ is the root of a mount");
	ok(vl_is_mount_root(fa) == 0, "a directory made here is not");
	{
		int fp = open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);

		if (fp >= 0) {
			ok(vl_is_mount_root(fp) == 1, "/proc is the root of a mount");
			close(fp);
		}
	}
	close(fa);
	close(fb);
	close(fc);
	close(fl);
	close(fr);
}

static void test_config(const char *top)
{
	char dir[300], conf[320], err[1024], want[400];
	int fd, cfd, r;

	snprintf(dir, sizeof(dir), "%s/vault", top);
	if (mkdir(dir, 0700) < 0)
		exit(99);
	cfd = vl_precheck_cipherdir(dir, err, sizeof(err));
	ok(cfd >= 0, "an existing directory opens as a cipher directory");
	r = vl_precheck_config(cfd, dir, NULL, false, err, sizeof(err));
	snprintf(want, sizeof(want), "%s is not a veilfs vault", dir);
	ok(r == -ENOENT && strstr(err, want), "no veilfs.conf: not a veilfs vault (%s)", err);
	ok(vl_precheck_config(cfd, dir, NULL, true, err, sizeof(err)) == 0,
	   "no veilfs.conf is fine for a recovery with the master key");
	snprintf(conf, sizeof(conf), "%s/veilfs.conf", dir);
	fd = open(conf, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	for (int i = 0; i < 5000 / 50; i++)
		if (write(fd, "0123456789012345678901234567890123456789012345678\n", 50) != 50)
			exit(99);
	close(fd);
	r = vl_precheck_config(cfd, dir, NULL, false, err, sizeof(err));
	snprintf(want, sizeof(want), "config %s is larger than 4096 bytes", conf);
	ok(r == -EFBIG && strstr(err, want), "a config over 4096 bytes, named in full (%s)", err);
	if (truncate(conf, 100) < 0)
		exit(99);
	r = vl_precheck_config(cfd, dir, NULL, false, err, sizeof(err));
	ok(r == -EINVAL && !strncmp(err, "config ", 7) && strstr(err, conf), "a malformed config: -EINVAL, named (%s)", err);
	r = vl_precheck_config(cfd, dir, dir, false, err, sizeof(err));
	ok(r == -EINVAL && strstr(err, "is not a regular file"), "--config naming a directory (%s)", err);
	close(cfd);
	snprintf(want, sizeof(want), "%s/missing", top);
	r = vl_precheck_cipherdir(want, err, sizeof(err));
	ok(r == -ENOENT && strstr(err, "does not exist") && strstr(err, want), "a missing cipher directory (%s)", err);
	r = vl_precheck_cipherdir(conf, err, sizeof(err));
	ok(r == -ENOTDIR && strstr(err, "is not a directory"), "a file as the cipher directory (%s)", err);
}

static int rm_tree(const char *top)
{
	char cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", top);
	return system(cmd);
}

int main(void)
{
	const char *t = getenv("TMPDIR");
	char top[256];

	snprintf(top, sizeof(top), "%s/vl-nest-XXXXXX", t && *t ? t : "/tmp");
	if (!mkdtemp(top)) {
		perror("mkdtemp");
		return 99;
	}
	test_parse();
	test_within();
	test_nesting(top);
	test_config(top);
	if (rm_tree(top) != 0)
		diag("could not remove %s", top);
	return done_testing();
}
