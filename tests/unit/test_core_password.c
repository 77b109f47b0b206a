/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fs/password.c: --passfile, --extpass, and no source without a terminal. */
#include "config.h"

#include "tap.h"
#include "core_util.h"

#include "crypto/secmem.h"
#include "fs/password.h"

#include <sys/wait.h>

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


/* Runs vl_password_get(confirm) in a child whose controlling terminal is a new pty, types
 * each answer after its prompt appears, and collects what the terminal showed in shown.
 * Returns 0 when the child got password want, 1 when it got -EINVAL (mismatch), -1 else. */
static int tty_session(const char *first, const char *second, const char *want, char *shown,
		       size_t cap)
{
	const char *answers[2] = { first, second };
	const char *prompts[2] = { "Password: ", "Repeat password: " };
	char slave[256];
	size_t used = 0;
	int m, status, k = 0;
	pid_t pid;

	shown[0] = '\0';
	m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (m < 0 || grantpt(m) < 0 || unlockpt(m) < 0 || !ptsname(m))
		return -1;
	snprintf(slave, sizeof(slave), "%s", ptsname(m));
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		struct vl_pwsrc none = { NULL, NULL };
		char e[256], *pw = NULL;
		size_t len = 0;
		int sfd, r;

		if (setsid() < 0)
			_exit(10);
		sfd = open(slave, O_RDWR); /* the first tty opened becomes the controlling one */
		if (sfd < 0 || dup2(sfd, STDIN_FILENO) < 0)
			_exit(11);
		r = vl_password_get(&none, "Password: ", true, &pw, &len, e, sizeof(e));
		if (r == 0 && len == strlen(want) && !memcmp(pw, want, len))
			_exit(0);
		_exit(r == -EINVAL ? 1 : 12);
	}
	/* Parent: read the terminal's output; answer each prompt once it is shown. */
	while (used + 1 < cap) {
		ssize_t n = read(m, shown + used, cap - 1 - used);

		if (n <= 0)
			break; /* EIO once the child closed the slave */
		used += (size_t)n;
		shown[used] = '\0';
		if (k < 2 && strstr(shown, prompts[k])) {
			if (write(m, answers[k], strlen(answers[k])) < 0)
				break;
			k++;
		}
	}
	close(m);
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status) == 0 ? 0 : WEXITSTATUS(status) == 1 ? 1 : -1;
}

int main(void)
{
	struct vl_pwsrc src;
	char err[256], big[2000];
	int devnull;

	if (vl_crypto_init() != 0) /* first: libcrypto allocates in the secure pool */
		return 99;
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

	/* The tty prompt, on a pseudo-terminal: echo off, asked twice. */
	{
		char shown[1024];

		ok(tty_session("s3cret\n", "s3cret\n", "s3cret", shown, sizeof(shown)) == 0,
		   "tty prompt: password asked twice and returned");
		ok(strstr(shown, "Password: ") && strstr(shown, "Repeat password: ") &&
			   !strstr(shown, "s3cret"),
		   "tty prompt: both prompts shown, the password never echoed");
		ok(tty_session("one\n", "two\n", "one", shown, sizeof(shown)) == 1,
		   "tty prompt: different answers refused");
	}

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
