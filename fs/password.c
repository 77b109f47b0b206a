/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Password sources: --passfile, --extpass, standard input, or a no-echo tty prompt. The
 * password never comes from argv or the environment, and lives only in secure memory. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "../crypto/secmem.h"
#include "password.h"
#include "log.h"

/* Every password buffer has this size, so vl_password_free knows what to release. */
#define VL_PW_ALLOC (VL_PASSWORD_MAX + 1)
/* How much of an --extpass program's output is drained after the first line, so that it
 * does not die of SIGPIPE (and fail) for printing a trailing newline or two. */
#define VL_EXTPASS_DRAIN (1u << 20)

static ssize_t read_retry(int fd, void *buf, size_t len)
{
	ssize_t n;

	do
		n = read(fd, buf, len);
	while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : n;
}

/*
 * Reads the first line of fd into pw (VL_PW_ALLOC bytes): bytes up to the first '\n' or
 * end of input; the '\n' is not part of the password. One byte per read(2), so nothing
 * after the '\n' is consumed: the next reader of a shared stdin gets the next line. With
 * drain, the rest of the input is read and dropped (up to VL_EXTPASS_DRAIN). *empty (when
 * not NULL) tells whether the input ended before its first byte. Returns the length,
 * -ENAMETOOLONG for a line longer than VL_PASSWORD_MAX, or -errno.
 */
static ssize_t read_line(int fd, char *pw, bool drain, bool *empty)
{
	size_t len = 0, drained = 0;
	bool eol = false;
	ssize_t r;
	char ch = 0;

	if (empty)
		*empty = true;
	for (;;) {
		ssize_t n = read_retry(fd, &ch, 1);

		if (n < 0) {
			r = n;
			goto out;
		}
		if (n == 0)
			break;
		if (empty)
			*empty = false;
		if (eol) {
			if (!drain || ++drained > VL_EXTPASS_DRAIN)
				break;
			continue;
		}
		if (ch == '\n') {
			eol = true;
			if (!drain)
				break;
			continue;
		}
		if (len == VL_PASSWORD_MAX) {
			r = -ENAMETOOLONG;
			goto out;
		}
		pw[len++] = ch;
	}
	pw[len] = '\0';
	r = (ssize_t)len;
out:
	vl_wipe(&ch, sizeof(ch)); /* the last password byte read */
	return r;
}

static int from_file(const char *path, char *pw, char *err, size_t errcap)
{
	struct stat st;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		int e = errno;

		vl_seterr(err, errcap, "cannot open password file %s: %s", path, strerror(e));
		return -e;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		vl_seterr(err, errcap,
			  "password file %s is not a regular file (for standard input, use --passfile -)",
			  path);
		close(fd);
		return -EINVAL;
	}
	n = read_line(fd, pw, false, NULL);
	close(fd);
	if (n == -ENAMETOOLONG) {
		vl_seterr(err, errcap, "password in %s is longer than %d bytes", path, VL_PASSWORD_MAX);
		return -EINVAL;
	}
	if (n < 0) {
		vl_seterr(err, errcap, "cannot read password file %s: %s", path, strerror((int)-n));
		return (int)n;
	}
	return (int)n;
}

static int from_program(const char *cmd, char *pw, char *err, size_t errcap)
{
	char *const argv[] = { (char *)"sh", (char *)"-c", (char *)cmd, NULL };
	int p[2], status;
	ssize_t n;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0) {
		int e = errno;

		vl_seterr(err, errcap, "--extpass: pipe: %s", strerror(e));
		return -e;
	}
	pid = fork();
	if (pid < 0) {
		int e = errno;

		close(p[0]);
		close(p[1]);
		vl_seterr(err, errcap, "--extpass: fork: %s", strerror(e));
		return -e;
	}
	if (pid == 0) {
		/* Child: only async-signal-safe calls. dup2 clears close-on-exec on fd 1. */
		if (dup2(p[1], STDOUT_FILENO) < 0)
			_exit(127);
		execv("/bin/sh", argv);
		_exit(127);
	}
	close(p[1]);
	n = read_line(p[0], pw, true, NULL);
	close(p[0]);
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			int e = errno;

			vl_seterr(err, errcap, "--extpass: waitpid: %s", strerror(e));
			return -e;
		}
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		if (WIFEXITED(status))
			vl_seterr(err, errcap, "--extpass program failed (exit status %d)",
			       WEXITSTATUS(status));
		else
			vl_seterr(err, errcap, "--extpass program was killed by signal %d",
			       WIFSIGNALED(status) ? WTERMSIG(status) : 0);
		return -EIO;
	}
	if (n == -ENAMETOOLONG) {
		vl_seterr(err, errcap, "--extpass: password longer than %d bytes", VL_PASSWORD_MAX);
		return -EINVAL;
	}
	if (n < 0) {
		vl_seterr(err, errcap, "--extpass: read: %s", strerror((int)-n));
		return (int)n;
	}
	return (int)n;
}

/* Prompts on the terminal fd with echo off; reads one line into pw. */
static int prompt_tty(int fd, const char *prompt, char *pw, char *err, size_t errcap)
{
	struct termios old, noecho;
	bool restore = false;
	ssize_t n;

	/* Echo off before the prompt appears: whatever is typed after seeing it is hidden
	 * (TCSAFLUSH drops typeahead from before it, as getpass does). */
	if (tcgetattr(fd, &old) == 0) {
		noecho = old;
		noecho.c_lflag &= ~(tcflag_t)(ECHO | ECHOE | ECHOK);
		noecho.c_lflag |= ECHONL; /* show the Enter as a newline */
		if (tcsetattr(fd, TCSAFLUSH, &noecho) == 0)
			restore = true;
	}
	if (write(fd, prompt, strlen(prompt)) < 0) {
		/* keep going: the prompt is cosmetic */
	}
	n = read_line(fd, pw, false, NULL);
	if (restore)
		(void)tcsetattr(fd, TCSANOW, &old);
	if (n == -ENAMETOOLONG) {
		vl_seterr(err, errcap, "password longer than %d bytes", VL_PASSWORD_MAX);
		return -EINVAL;
	}
	if (n < 0) {
		vl_seterr(err, errcap, "cannot read the password from the terminal: %s",
		       strerror((int)-n));
		return (int)n;
	}
	return (int)n;
}

static int from_tty(const char *prompt, bool confirm, char *pw, char *err, size_t errcap)
{
	char *again = NULL;
	int fd, n, m, r;

	fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		vl_seterr(err, errcap, "no password source: cannot open /dev/tty; use --passfile or --extpass");
		return -ENOTTY;
	}
	n = prompt_tty(fd, prompt ? prompt : "Password: ", pw, err, errcap);
	if (n < 0 || !confirm) {
		r = n;
		goto out;
	}
	again = vl_secure_alloc(VL_PW_ALLOC);
	if (!again) {
		r = -ENOMEM;
		vl_seterr(err, errcap, "cannot allocate secure memory");
		goto out;
	}
	m = prompt_tty(fd, "Repeat password: ", again, err, errcap);
	if (m < 0) {
		r = m;
		goto out;
	}
	if (m != n || !vl_ct_equal(pw, again, (size_t)n)) {
		vl_seterr(err, errcap, "the passwords do not match");
		r = -EINVAL;
		goto out;
	}
	r = n;
out:
	vl_secure_free(again, VL_PW_ALLOC);
	close(fd);
	return r;
}

/*
 * Standard input that is not a terminal: its first line, read once even with confirm (a
 * pipe cannot be asked twice). explicit: --passfile - was given, for the messages.
 */
static int from_stdin(bool explicit, char *pw, char *err, size_t errcap)
{
	bool empty;
	ssize_t n;

	n = read_line(STDIN_FILENO, pw, false, &empty);
	if (n == -ENAMETOOLONG) {
		vl_seterr(err, errcap, "the password on standard input is longer than %d bytes",
			  VL_PASSWORD_MAX);
		return -EINVAL;
	}
	if (n < 0) {
		vl_seterr(err, errcap, "cannot read the password from standard input: %s",
			  strerror((int)-n));
		return (int)n;
	}
	if (n == 0 && empty) {
		if (explicit)
			vl_seterr(err, errcap, "--passfile -: standard input is empty");
		else
			vl_seterr(err, errcap,
				  "no password: standard input is not a terminal and is empty; "
				  "pipe the password in, or use --passfile or --extpass");
		return -ENODATA;
	}
	return (int)n;
}

bool vl_passfile_is_stdin(const char *passfile)
{
	return passfile &&
	       (strcmp(passfile, VL_PASSFILE_STDIN) == 0 || strcmp(passfile, "/dev/stdin") == 0);
}

int vl_password_get(const struct vl_pwsrc *src, const char *prompt, bool confirm, char **pw,
		    size_t *len, char *err, size_t errcap)
{
	char *buf;
	int n;

	*pw = NULL;
	*len = 0;
	if (src && src->passfile && src->extpass) {
		vl_seterr(err, errcap, "--passfile and --extpass cannot be used together");
		return -EINVAL;
	}
	buf = vl_secure_alloc(VL_PW_ALLOC);
	if (!buf) {
		vl_seterr(err, errcap, "cannot allocate secure memory");
		return -ENOMEM;
	}
	/* A terminal on stdin is always asked with echo off, even for --passfile -. */
	if (src && src->passfile && !vl_passfile_is_stdin(src->passfile))
		n = from_file(src->passfile, buf, err, errcap);
	else if (src && src->extpass)
		n = from_program(src->extpass, buf, err, errcap);
	else if (isatty(STDIN_FILENO))
		n = from_tty(prompt, confirm, buf, err, errcap);
	else
		n = from_stdin(src && src->passfile, buf, err, errcap);
	if (n == 0) {
		vl_seterr(err, errcap, "empty passwords are not allowed");
		n = -EINVAL;
	}
	if (n < 0) {
		vl_secure_free(buf, VL_PW_ALLOC);
		return n;
	}
	*pw = buf;
	*len = (size_t)n;
	return 0;
}

void vl_password_free(char *pw, size_t len)
{
	(void)len; /* every buffer is VL_PW_ALLOC bytes */
	vl_secure_free(pw, VL_PW_ALLOC);
}
