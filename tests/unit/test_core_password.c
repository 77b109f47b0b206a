/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fs/password.c: --passfile, --extpass, the tty prompt, and standard input (implicit when it
 * is not a terminal, explicit with --passfile -). */
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
static int tty_session(const char *passfile, const char *first, const char *second,
		       const char *want, char *shown, size_t cap)
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
		struct vl_pwsrc none = { passfile, NULL };
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

/* Makes stdin a pipe holding len bytes of content (closed: the reader sees their end), or
 * /dev/null with devnull. 0 or -1. */
static int stdin_from(const char *content, size_t len, bool devnull)
{
	int p[2];

	if (devnull) {
		int fd = open("/dev/null", O_RDONLY);

		if (fd < 0 || dup2(fd, STDIN_FILENO) < 0)
			return -1;
		close(fd);
		return 0;
	}
	if (len > 65536 || pipe(p) < 0)
		return -1;
	if (write(p[1], content, len) != (ssize_t)len)
		return -1;
	close(p[1]);
	if (dup2(p[0], STDIN_FILENO) < 0)
		return -1;
	close(p[0]);
	return 0;
}

/* Makes stdin a regular file holding content. */
static int stdin_file(const char *content, size_t len)
{
	int fd = open(passfile(content, len), O_RDONLY);

	if (fd < 0 || dup2(fd, STDIN_FILENO) < 0)
		return -1;
	close(fd);
	return 0;
}

/* vl_password_get with confirm from the default source gives want. */
static bool confirm_once(const char *want)
{
	char e[256], *pw = NULL;
	size_t len = 0;
	bool r;

	r = vl_password_get(NULL, "New password: ", true, &pw, &len, e, sizeof(e)) == 0 &&
	    len == strlen(want) && !memcmp(pw, want, len);
	vl_password_free(pw, len);
	return r;
}

/* vl_password_get from src gives a password of want_len bytes. */
static bool check_len(const struct vl_pwsrc *src, size_t want_len)
{
	char e[256], *pw = NULL;
	size_t len = 0;
	bool r;

	r = vl_password_get(src, "Password: ", false, &pw, &len, e, sizeof(e)) == 0 &&
	    len == want_len;
	vl_password_free(pw, len);
	return r;
}

int main(void)
{
	struct vl_pwsrc src;
	char err[256], big[2000];

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

		ok(tty_session(NULL, "s3cret\n", "s3cret\n", "s3cret", shown, sizeof(shown)) == 0,
		   "tty prompt: password asked twice and returned");
		ok(strstr(shown, "Password: ") && strstr(shown, "Repeat password: ") &&
			   !strstr(shown, "s3cret"),
		   "tty prompt: both prompts shown, the password never echoed");
		ok(tty_session(NULL, "one\n", "two\n", "one", shown, sizeof(shown)) == 1,
		   "tty prompt: different answers refused");
		ok(tty_session("-", "t3rm\n", "t3rm\n", "t3rm", shown, sizeof(shown)) == 0 &&
			   strstr(shown, "Repeat password: ") && !strstr(shown, "t3rm"),
		   "--passfile - on a terminal: the same no-echo prompt, asked twice");
	}

	/* Standard input that is not a terminal: read without a source, or with --passfile -. */
	memset(&src, 0, sizeof(src));
	ok(stdin_from("", 0, false) == 0 &&
		   check(&src, NULL, -ENODATA, err, sizeof(err)) &&
		   !strcmp(err, "no password: standard input is not a terminal and is empty; "
				"pipe the password in, or use --passfile or --extpass"),
	   "no source, stdin a pipe at its end: ENODATA (%s)", err);
	ok(stdin_from("", 0, true) == 0 && check(NULL, NULL, -ENODATA, err, sizeof(err)),
	   "NULL source, stdin /dev/null: ENODATA (%s)", err);
	ok(stdin_from("piped\n", 6, false) == 0 && check(&src, "piped", 0, err, sizeof(err)),
	   "no source, stdin a pipe: its first line");
	ok(stdin_from("no newline", 10, false) == 0 && check(&src, "no newline", 0, err, sizeof(err)),
	   "stdin without a newline at the end");
	ok(stdin_from("old\nnew\n", 8, false) == 0 && check(&src, "old", 0, err, sizeof(err)) &&
		   check(&src, "new", 0, err, sizeof(err)) && check(&src, NULL, -ENODATA, err, sizeof(err)),
	   "one line per call: old, new, then the end");
	ok(stdin_from("once\n", 5, false) == 0 && confirm_once("once") &&
		   check(&src, NULL, -ENODATA, err, sizeof(err)),
	   "confirm with stdin not a terminal: read once, one line");
	ok(stdin_file("from a file\nrest\n", 17) == 0 && check(&src, "from a file", 0, err, sizeof(err)) &&
		   check(&src, "rest", 0, err, sizeof(err)),
	   "stdin a regular file: line by line too");
	ok(stdin_from("\nsecond\n", 8, false) == 0 && check(&src, NULL, -EINVAL, err, sizeof(err)) &&
		   strstr(err, "empty"),
	   "an empty first line on stdin is refused, not skipped (%s)", err);
	memset(big, 'b', sizeof(big));
	big[VL_PASSWORD_MAX] = '\n';
	ok(stdin_from(big, VL_PASSWORD_MAX + 1, false) == 0 && check_len(&src, VL_PASSWORD_MAX),
	   "a %d-byte line on stdin is accepted whole", VL_PASSWORD_MAX);
	big[VL_PASSWORD_MAX] = 'b';
	big[VL_PASSWORD_MAX + 1] = '\n';
	ok(stdin_from(big, VL_PASSWORD_MAX + 2, false) == 0 &&
		   check(&src, NULL, -EINVAL, err, sizeof(err)) &&
		   strstr(err, "longer than 1024 bytes"),
	   "a %d-byte line on stdin is refused, not cut (%s)", VL_PASSWORD_MAX + 1, err);
	src.passfile = "-";
	ok(stdin_from("dash\n", 5, false) == 0 && check(&src, "dash", 0, err, sizeof(err)),
	   "--passfile -: the first line of stdin");
	ok(stdin_from("", 0, false) == 0 && check(&src, NULL, -ENODATA, err, sizeof(err)) &&
		   !strcmp(err, "--passfile -: standard input is empty"),
	   "--passfile - at the end of stdin: ENODATA (%s)", err);
	src.passfile = "/dev/stdin";
	ok(stdin_from("devstdin\n", 9, false) == 0 && check(&src, "devstdin", 0, err, sizeof(err)),
	   "--passfile /dev/stdin: the same as -");
	src.passfile = "-";
	src.extpass = "echo x";
	ok(stdin_from("dash\n", 5, false) == 0 && check(&src, NULL, -EINVAL, err, sizeof(err)),
	   "--passfile - and --extpass together refused");
	src.extpass = NULL;
	{
		char fifo[PATH_MAX + 8];

		snprintf(fifo, sizeof(fifo), "%s/fifo", tmp);
		src.passfile = fifo;
		ok(mkfifo(fifo, 0600) == 0 && check(&src, NULL, -EINVAL, err, sizeof(err)) &&
			   strstr(err, "use --passfile -"),
		   "a FIFO as --passfile is refused, naming --passfile - (%s)", err);
	}
	ok(!vl_passfile_is_stdin(NULL) && !vl_passfile_is_stdin("--") &&
		   !vl_passfile_is_stdin("./-") && vl_passfile_is_stdin("-"),
	   "only - and /dev/stdin mean standard input");

	tc_rmrf(tmp);
	return done_testing();
}
