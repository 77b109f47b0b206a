/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fs/password.c: --passfile, --extpass, and no source without a terminal. */
#include "config.h"

#include "tap.h"
#include "core_util.h"

#include "fs/password.h"

static char tmp[PATH_MAX];

static const char *passfile(const char *content, size_t len)
{
	static char path[PATH_MAX + 16];
	FILE *f;

	snprintf(path, sizeof(path), "%s/pw", tmp);
	f = fopen(path, "w");
	if (!f || fwrite(content, 1, len, f) != len || fclose(f) != 0)
		exit(99);
	return path;
}

/* Runs vl_password_get and compares with want (NULL: expect failure code want_r). */
static int check(const struct vl_pwsrc *src, const char *want, int want_r, char *err, size_t errcap)
{
	char *pw = NULL;
	size_t len = 0;
	int r;

	err[0] = '\0';
	r = vl_password_get(src, "Password: ", false, &pw, &len, err, errcap);
	if (want) {
		r = r == 0 && len == strlen(want) && !memcmp(pw, want, len) && pw[len] == '\0';
	} else {
		r = r == want_r && pw == NULL && err[0] != '\0';
	}
	vl_password_free(pw, len);
	return r;
}

int main(void)
{
	struct vl_pwsrc src;
	char err[256], big[2000];
	int devnull;

	tc_tmpdir(tmp);
	memset(&src, 0, sizeof(src));

	src.passfile = passfile("secret\nsecond line\n", 19);
	ok(check(&src, "secret", 0, err, sizeof(err)), "passfile: first line, newline stripped");
	src.passfile = passfile("no newline", 10);
	ok(check(&src, "no newline", 0, err, sizeof(err)), "passfile without a newline");
	src.passfile = passfile("sp ace \r\n", 9);
	ok(check(&src, "sp ace \r", 0, err, sizeof(err)), "only the \\n is stripped");
	src.passfile = passfile("\nsecret\n", 8);
	ok(check(&src, NULL, -EINVAL, err, sizeof(err)), "empty first line refused (%s)", err);
	src.passfile = passfile("", 0);
	ok(check(&src, NULL, -EINVAL, err, sizeof(err)), "empty file refused");
	memset(big, 'a', sizeof(big));
	src.passfile = passfile(big, sizeof(big));
	ok(check(&src, NULL, -EINVAL, err, sizeof(err)), "2000-byte password refused (%s)", err);
	src.passfile = "/nonexistent/veilfs-pw";
	ok(check(&src, NULL, -ENOENT, err, sizeof(err)), "missing passfile: ENOENT (%s)", err);
	src.passfile = tmp;
	ok(check(&src, NULL, -EINVAL, err, sizeof(err)), "passfile that is a directory refused");
	src.passfile = NULL;

	src.extpass = "echo hunter2";
	ok(check(&src, "hunter2", 0, err, sizeof(err)), "extpass: echo");
	src.extpass = "printf 'a b\\nsecond\\n'; seq 1 100000";
	ok(check(&src, "a b", 0, err, sizeof(err)), "extpass: first line of much output");
	src.extpass = "printf x";
	ok(check(&src, "x", 0, err, sizeof(err)), "extpass: no trailing newline");
	src.extpass = "echo nope; exit 3";
	ok(check(&src, NULL, -EIO, err, sizeof(err)) && strstr(err, "exit status 3"),
	   "extpass exiting 3 fails (%s)", err);
	src.extpass = "true";
	ok(check(&src, NULL, -EINVAL, err, sizeof(err)), "extpass printing nothing: empty refused");
	src.extpass = "kill -TERM $$";
	ok(check(&src, NULL, -EIO, err, sizeof(err)), "extpass killed by a signal fails (%s)", err);

	src.passfile = passfile("x\n", 2);
	ok(check(&src, NULL, -EINVAL, err, sizeof(err)), "passfile and extpass together refused");

	/* No source and stdin not a terminal. */
	memset(&src, 0, sizeof(src));
	devnull = open("/dev/null", O_RDONLY);
	if (devnull < 0 || dup2(devnull, STDIN_FILENO) < 0)
		exit(99);
	close(devnull);
	ok(check(&src, NULL, -ENOTTY, err, sizeof(err)) &&
		   !strcmp(err, "no password source: stdin is not a terminal; use --passfile or --extpass"),
	   "no source, stdin not a tty: ENOTTY (%s)", err);
	ok(check(NULL, NULL, -ENOTTY, err, sizeof(err)), "NULL source is the tty too");

	tc_rmrf(tmp);
	return done_testing();
}
