/* SPDX-License-Identifier: GPL-2.0-or-later */
/* veilfs: mounts the plaintext view of a vault.
 *
 *   veilfs [options] CIPHERDIR MOUNTPOINT
 *
 * Order of work, so that every error is a clear message and a non-zero exit status from the
 * command the user typed: parse and check the arguments, fork (the parent waits for the
 * child's word; mlock()ed key memory is not inherited by fork, so we fork BEFORE the keys
 * exist), unlock the vault, mount, and only then detach and tell the parent "ready". */
#include "config.h"

#include "ops.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../crypto/secmem.h"
#include "ctl.h"
#include "exitcodes.h"
#include "feedback.h"
#include "log.h"
#include "mounts.h"
#include "password.h"
#include "recovery.h"
#include "vault.h"

struct vl_cmd {
	char *passfile, *extpass, *config, *idle;
	int masterkey_stdin, sharedstorage, nonempty, nocontrol;
	int ro, allow_other, help, version;
	char *cipherdir;
	char *mountpoint; /* as given, for the checks before libfuse's */
	int nonopts;
	int bad;
};

enum { KEY_HELP, KEY_VERSION, KEY_RO, KEY_ALLOW_OTHER };

#define VL_OPT(t, f, v) { t, offsetof(struct vl_cmd, f), v }
static const struct fuse_opt vl_opts[] = {
	VL_OPT("--passfile=%s", passfile, 0),
	VL_OPT("--passfile %s", passfile, 0),
	VL_OPT("passfile=%s", passfile, 0),
	VL_OPT("--extpass=%s", extpass, 0),
	VL_OPT("--extpass %s", extpass, 0),
	VL_OPT("extpass=%s", extpass, 0),
	VL_OPT("--config=%s", config, 0),
	VL_OPT("--config %s", config, 0),
	VL_OPT("config=%s", config, 0),
	VL_OPT("--idle=%s", idle, 0),
	VL_OPT("--idle %s", idle, 0),
	VL_OPT("idle=%s", idle, 0),
	VL_OPT("--masterkey-stdin", masterkey_stdin, 1),
	VL_OPT("masterkey_stdin", masterkey_stdin, 1),
	VL_OPT("--sharedstorage", sharedstorage, 1),
	VL_OPT("sharedstorage", sharedstorage, 1),
	VL_OPT("nonempty", nonempty, 1),
	VL_OPT("--no-control", nocontrol, 1),
	VL_OPT("nocontrol", nocontrol, 1),
	FUSE_OPT_KEY("-h", KEY_HELP),
	FUSE_OPT_KEY("--help", KEY_HELP),
	FUSE_OPT_KEY("-V", KEY_VERSION),
	FUSE_OPT_KEY("--version", KEY_VERSION),
	FUSE_OPT_KEY("ro", KEY_RO),
	FUSE_OPT_KEY("allow_other", KEY_ALLOW_OTHER),
	FUSE_OPT_END
};

static int opt_proc(void *data, const char *arg, int key, struct fuse_args *outargs)
{
	struct vl_cmd *c = data;

	(void)outargs;
	switch (key) {
	case KEY_HELP:
		c->help = 1;
		return 0;
	case KEY_VERSION:
		c->version = 1;
		return 0;
	case KEY_RO:
		c->ro = 1;
		return 1; /* the kernel mounts read-only too */
	case KEY_ALLOW_OTHER:
		c->allow_other = 1;
		return 1;
	case FUSE_OPT_KEY_NONOPT:
		if (c->nonopts++ == 0) {
			c->cipherdir = strdup(arg);
			return c->cipherdir ? 0 : -1;
		}
		if (c->nonopts == 2) {
			free(c->mountpoint);
			c->mountpoint = strdup(arg);
			return c->mountpoint ? 1 : -1; /* fuse_parse_cmdline takes it too */
		}
		fprintf(stderr, "veilfs: unexpected argument '%s'\n", arg);
		c->bad = 1;
		return 0;
	default:
		return 1; /* options for libfuse and the kernel */
	}
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: veilfs [options] CIPHERDIR MOUNTPOINT\n"
		"\n"
		"Mounts the plaintext view of the vault in CIPHERDIR on MOUNTPOINT.\n"
		"\n"
		"veilfs options:\n"
		"    --passfile FILE, -o passfile=FILE  password: first line of FILE (- for stdin)\n"
		"    --extpass CMD, -o extpass=CMD      password: first line printed by CMD (sh -c)\n"
		"    --config FILE, -o config=FILE      the vault's config kept outside CIPHERDIR\n"
		"    --masterkey-stdin                  unlock with the recovery code (or 64 hex\n"
		"                                       digits) read from standard input\n"
		"    --idle DURATION, -o idle=DURATION  unmount after DURATION (30s, 10m, 1h) with no\n"
		"                                       open file and no request\n"
		"    --sharedstorage, -o sharedstorage  another machine writes CIPHERDIR too: no\n"
		"                                       writeback cache, no attribute caching,\n"
		"                                       no hardlinks\n"
		"    -o nonempty                        allow a non-empty mountpoint\n"
		"    --no-control, -o nocontrol         no control socket (veilctl info, encrypt-path\n"
		"                                       and decrypt-path given the mountpoint)\n"
		"    -o ro                              read-only: never writes to CIPHERDIR\n"
		"    -o allow_other                     other users may use the mount (implies\n"
		"                                       -o default_permissions)\n"
		"    -f                                 stay in the foreground\n"
		"    -d                                 debug output (implies -f)\n"
		"    -s                                 single-threaded\n"
		"    -h, --help                         this help\n"
		"    -V, --version                      version\n"
		"\n"
		"Without --passfile, --extpass or --masterkey-stdin the password is asked on the\n"
		"terminal, or, when standard input is not a terminal (a pipe or a file, as mount\n"
		"helpers and pam_mount give it), read from its first line. Other -o options go\n"
		"to FUSE (see below). Names and attributes are cached by the kernel for 1 s (0\n"
		"with --sharedstorage). From /etc/fstab:\n"
		"  CIPHERDIR MOUNTPOINT fuse.veilfs passfile=/path/to/file,noauto 0 0\n"
		"(mount(8) runs mount.fuse3, which runs veilfs from PATH).\n"
		"\n");
}

/* Parses "30", "30s", "10m", "1h", "2d" into seconds. */
static int parse_duration(const char *s, unsigned long *out)
{
	char *end;
	unsigned long v, mul = 1;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *s == '-')
		return -EINVAL;
	if (*end) {
		switch (*end) {
		case 's': mul = 1; break;
		case 'm': mul = 60; break;
		case 'h': mul = 3600; break;
		case 'd': mul = 86400; break;
		default: return -EINVAL;
		}
		if (end[1])
			return -EINVAL;
	}
	if (v == 0 || v > 365ul * 86400 / mul)
		return -EINVAL;
	*out = v * mul;
	return 0;
}

static int check_dir(const char *what, const char *path, bool need_empty)
{
	struct dirent *d;
	struct stat st;
	DIR *dir;
	int found = 0;

	if (stat(path, &st) < 0) {
		fprintf(stderr, "veilfs: %s %s: %s\n", what, path, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		fprintf(stderr, "veilfs: %s %s is not a directory\n", what, path);
		return -1;
	}
	if (!need_empty)
		return 0;
	dir = opendir(path);
	if (!dir) {
		fprintf(stderr, "veilfs: %s %s: %s\n", what, path, strerror(errno));
		return -1;
	}
	while ((d = readdir(dir)))
		if (strcmp(d->d_name, ".") && strcmp(d->d_name, "..")) {
			found = 1;
			break;
		}
	closedir(dir);
	if (found) {
		fprintf(stderr,
			"veilfs: %s %s is not empty (use -o nonempty to mount over it anyway)\n",
			what, path);
		return -1;
	}
	return 0;
}

/* Unlocks the vault. Returns an exit status (VL_EXIT_OK on success). */
static int unlock(const struct vl_cmd *c, struct vl_vault **v)
{
	char err[256] = "";
	int r, status = VL_EXIT_FAILURE;

	if (c->masterkey_stdin) {
		uint8_t key[VL_MASTER_KEY_LEN];
		char *text = vl_secure_alloc(1024);
		size_t len = 0;
		ssize_t n;

		if (!text) {
			fprintf(stderr, "veilfs: out of memory\n");
			return VL_EXIT_FAILURE;
		}
		while (len < 1023 && (n = read(STDIN_FILENO, text + len, 1023 - len)) != 0) {
			if (n < 0) {
				if (errno == EINTR)
					continue;
				break;
			}
			len += (size_t)n;
		}
		r = vl_recovery_decode(text, len, key, err, sizeof(err));
		vl_secure_free(text, 1024);
		if (r < 0) {
			fprintf(stderr, "veilfs: recovery code: %s\n", err[0] ? err : strerror(-r));
			return VL_EXIT_PASSWORD;
		}
		r = vl_vault_open_master(v, c->cipherdir, c->config, key, err, sizeof(err));
		vl_wipe(key, sizeof(key));
	} else {
		struct vl_pwsrc src = { .passfile = c->passfile, .extpass = c->extpass };
		struct vl_feedback fb = { 0 };
		struct vl_config cfg;
		char *pw = NULL;
		size_t pwlen = 0;

		r = vl_password_get(&src, "Password: ", false, &pw, &pwlen, err, sizeof(err));
		if (r < 0) {
			fprintf(stderr, "veilfs: %s\n", err[0] ? err : strerror(-r));
			return VL_EXIT_NOPASS;
		}
		/* The costs for the estimate; vl_vault_open reads and reports the config. */
		if (vl_vault_read_config(c->cipherdir, c->config, &cfg, NULL, 0) == 0)
			vl_feedback_begin(&fb, "unlocking", &cfg);
		r = vl_vault_open(v, c->cipherdir, c->config, pw, pwlen, err, sizeof(err));
		vl_feedback_end(&fb, r == 0);
		vl_password_free(pw, pwlen);
	}
	if (r == 0)
		return VL_EXIT_OK;
	fprintf(stderr, "veilfs: %s\n", err[0] ? err : strerror(-r));
	switch (-r) {
	case VL_EPASSWORD:
		status = VL_EXIT_PASSWORD;
		break;
	case VL_EFORMAT:
	case EINVAL:
	case ENOENT:
	case EBUSY: /* the upgrading feature: veilctl upgrade must finish first */
		status = VL_EXIT_CONFIG;
		break;
	}
	return status;
}

/* --idle: a watcher thread that unmounts (by SIGTERM to ourselves, which ends the session
 * loop like Ctrl-C) when no handle is open and no request came for the whole period. */
struct vl_idle {
	pthread_t thread;
	pthread_mutex_t mutex;
	pthread_cond_t cond;
	bool stop; /* protected by mutex */
	unsigned long seconds;
	struct vl_fs *fs;
};

static void *idle_main(void *arg)
{
	struct vl_idle *w = arg;
	uint64_t seen = atomic_load(&w->fs->nrequests);
	struct timespec now, last, until;

	clock_gettime(CLOCK_MONOTONIC, &last);
	pthread_mutex_lock(&w->mutex);
	while (!w->stop) {
		uint64_t cur;

		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_sec += 1;
		pthread_cond_timedwait(&w->cond, &w->mutex, &until);
		if (w->stop)
			break;
		clock_gettime(CLOCK_MONOTONIC, &now);
		cur = atomic_load(&w->fs->nrequests);
		if (cur != seen || atomic_load(&w->fs->nhandles) > 0) {
			seen = cur;
			last = now;
			continue;
		}
		if ((unsigned long)(now.tv_sec - last.tv_sec) >= w->seconds) {
			vl_log(VL_LOG_INFO, "idle for %lu s: unmounting", w->seconds);
			kill(getpid(), SIGTERM);
			break;
		}
	}
	pthread_mutex_unlock(&w->mutex);
	return NULL;
}

static int idle_start(struct vl_idle *w)
{
	sigset_t all, old;
	int r;

	pthread_mutex_init(&w->mutex, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&w->cond, &ca);
	pthread_condattr_destroy(&ca);
	/* Signals go to the session loop, never to the watcher. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	r = pthread_create(&w->thread, NULL, idle_main, w);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return -r;
}

static void idle_stop(struct vl_idle *w)
{
	pthread_mutex_lock(&w->mutex);
	w->stop = true;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->mutex);
	pthread_join(w->thread, NULL);
	pthread_cond_destroy(&w->cond);
	pthread_mutex_destroy(&w->mutex);
}

/* Forks; the parent waits for the child's status byte (or its exit) and exits with it.
 * Returns the write end of the pipe in the child. */
static int early_fork(void)
{
	int p[2];
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0) {
		perror("veilfs: pipe");
		exit(VL_EXIT_FAILURE);
	}
	pid = fork();
	if (pid < 0) {
		perror("veilfs: fork");
		exit(VL_EXIT_FAILURE);
	}
	if (pid > 0) {
		unsigned char status = VL_EXIT_FAILURE;
		ssize_t n;
		int ws;

		close(p[1]);
		do
			n = read(p[0], &status, 1);
		while (n < 0 && errno == EINTR);
		if (n == 1 && status == VL_EXIT_OK)
			_exit(VL_EXIT_OK);
		/* No word: the child failed and exits with its status. */
		while (waitpid(pid, &ws, 0) < 0 && errno == EINTR)
			;
		_exit(WIFEXITED(ws) ? WEXITSTATUS(ws) : VL_EXIT_FAILURE);
	}
	close(p[0]);
	return p[1];
}

/* Detaches the child once mounted, and tells the parent. */
static void detach(int notify)
{
	unsigned char ok = VL_EXIT_OK;
	int fd;

	(void)setsid();
	if (chdir("/") < 0)
		vl_log(VL_LOG_WARN, "chdir /: %s", strerror(errno));
	fd = open("/dev/null", O_RDWR);
	if (fd >= 0) {
		dup2(fd, STDIN_FILENO);
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		if (fd > STDERR_FILENO)
			close(fd);
	}
	vl_log_to_syslog("veilfs");
	if (write(notify, &ok, 1) != 1)
		vl_log(VL_LOG_WARN, "could not notify the parent process");
	close(notify);
}

/* The device number of the veilfs mount on mountpoint, from /proc/self/mountinfo: a stat()
 * of the mountpoint would wait for the session loop, which is not running yet. 0 or
 * -errno. */
static int mount_dev(const char *mountpoint, dev_t *dev)
{
	struct vl_mountent *me = malloc(sizeof(*me));
	int r;

	if (!me)
		return -ENOMEM;
	r = vl_mount_find(mountpoint, 0, me);
	if (r == 0 && strcmp(me->fstype, "fuse.veilfs"))
		r = -ENOENT; /* something was mounted over ours already */
	if (r == 0)
		*dev = me->dev;
	free(me);
	return r;
}

/* The kernel caps readahead at the mount's bdi read_ahead_kb (128 KiB by default), whatever
 * max_readahead the session negotiated, so cold sequential reads arrive as 128 KiB requests.
 * As root, raise it to 1 MiB for this mount (its bdi is named after its device number).
 * Failure only costs speed and is ignored (an ordinary user cannot write sysfs). */
static void raise_readahead(dev_t dev)
{
	char path[96];
	int fd;

	if (geteuid() != 0 || !dev)
		return;
	snprintf(path, sizeof(path), "/sys/class/bdi/%u:%u/read_ahead_kb", major(dev), minor(dev));
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	if (write(fd, "1024", 4) != 4)
		vl_log(VL_LOG_DEBUG, "could not raise readahead: %s", strerror(errno));
	close(fd);
}

/* Parses a copy of args with a session that is never mounted: -1 (libfuse printed why) if
 * an option is unknown. */
static int probe_fuse_options(const struct fuse_args *args)
{
	struct fuse_args copy = FUSE_ARGS_INIT(0, NULL);
	struct fuse_session *se;
	int i;

	for (i = 0; i < args->argc; i++) {
		if (fuse_opt_add_arg(&copy, args->argv[i]) < 0) {
			fuse_opt_free_args(&copy);
			return -1;
		}
	}
	se = fuse_session_new(&copy, &vl_fuse_ops, sizeof(vl_fuse_ops), NULL);
	fuse_opt_free_args(&copy);
	if (!se)
		return -1;
	fuse_session_destroy(se);
	return 0;
}

int main(int argc, char *argv[])
{
	struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
	struct fuse_cmdline_opts fo = { 0 };
	struct vl_cmd c = { 0 };
	struct fuse_session *se = NULL;
	struct fuse_loop_config *lc = NULL;
	struct vl_vault *v = NULL;
	struct vl_fs *fs = NULL;
	struct vl_idle idle = { 0 };
	struct vl_ctl_mount ctlm = { 0 };
	struct vl_ctl *ctl = NULL;
	char *cipherdir_abs = NULL;
	dev_t dev = 0;
	bool idle_on = false, mounted = false, handlers = false;
	unsigned long idle_s = 0;
	char *fsname = NULL;
	int notify = -1;
	int status = VL_EXIT_USAGE, r;

	/* First of all, before any secret exists: libcrypto allocates in the locked,
	 * non-dumpable pool, and this process can leave no core dump (a core of a mounted
	 * vault, kept on disk by systemd-coredump, would hold its keys; non-dumpable also
	 * keeps other users' processes from ptrace and /proc/PID/mem). */
	if (vl_crypto_init() != 0 || vl_process_nodump() != 0) {
		fprintf(stderr, "veilfs: cannot set up protected memory for the keys\n");
		return VL_EXIT_FAILURE;
	}
	/* glibc gives every thread its own malloc arena, and each FUSE worker's arena keeps
	 * its megabytes of request buffers: with ten workers the daemon held 57 MiB after a
	 * streaming write, 21 MiB with arenas shared (bench/run's rss row). */
	(void)mallopt(M_ARENA_MAX, 2);
	if (fuse_opt_parse(&args, &c, vl_opts, opt_proc) < 0 || c.bad)
		goto out;
	if (c.help) {
		usage(stdout);
		printf("FUSE options:\n");
		fuse_cmdline_help();
		fuse_lowlevel_help();
		status = VL_EXIT_OK;
		goto out;
	}
	if (c.version) {
		printf("veilfs %s (format %d), libfuse %s\n", PACKAGE_VERSION, VL_FORMAT_VERSION,
		       fuse_pkgversion());
		status = VL_EXIT_OK;
		goto out;
	}
	if (!c.cipherdir || !c.mountpoint) {
		usage(stderr);
		goto out;
	}
	/* Before libfuse's own parse, which would fail on a bad mountpoint with status 2. */
	status = VL_EXIT_MOUNT;
	if (check_dir("mountpoint", c.mountpoint, !c.nonempty) < 0)
		goto out;
	status = VL_EXIT_USAGE;
	if (fuse_parse_cmdline(&args, &fo) != 0)
		goto out;
	if (fo.show_help || fo.show_version) {
		usage(stdout);
		status = VL_EXIT_OK;
		goto out;
	}
	if (!c.cipherdir || !fo.mountpoint) {
		usage(stderr);
		goto out;
	}
	if ((c.passfile != NULL) + (c.extpass != NULL) + (c.masterkey_stdin != 0) > 1) {
		fprintf(stderr, "veilfs: give only one of --passfile, --extpass, --masterkey-stdin\n");
		goto out;
	}
	if (c.idle && parse_duration(c.idle, &idle_s) < 0) {
		fprintf(stderr, "veilfs: --idle %s: expected a duration like 30s, 10m or 1h\n",
			c.idle);
		goto out;
	}
	if (c.allow_other && fuse_opt_add_arg(&args, "-odefault_permissions") < 0)
		goto nomem;
	/* fsname shows CIPHERDIR in mount(8) and /proc/mounts; the type is fuse.veilfs. */
	if (fuse_opt_add_opt(&fsname, "subtype=veilfs") < 0)
		goto nomem;
	{
		char *fsopt = NULL;

		cipherdir_abs = realpath(c.cipherdir, NULL);
		if (cipherdir_abs && asprintf(&fsopt, "fsname=%s", cipherdir_abs) > 0)
			r = fuse_opt_add_opt_escaped(&fsname, fsopt);
		else
			r = 0;
		free(fsopt);
		if (r < 0)
			goto nomem;
	}
	if (fuse_opt_add_arg(&args, "-o") < 0 || fuse_opt_add_arg(&args, fsname) < 0)
		goto nomem;

	/* libfuse checks its -o options only in fuse_session_new: try them on a copy now, so
	 * that a typo is a usage error before any password is asked for. */
	status = VL_EXIT_USAGE;
	if (probe_fuse_options(&args) < 0)
		goto out;
	status = VL_EXIT_FAILURE;
	if (check_dir("CIPHERDIR", c.cipherdir, false) < 0)
		goto out;

	if (fo.debug)
		vl_log_set_debug(1);
	if (!fo.foreground)
		notify = early_fork();

	status = unlock(&c, &v);
	if (status != VL_EXIT_OK)
		goto out;
	status = VL_EXIT_FAILURE;
	r = vl_fs_new(&fs, v, c.ro != 0, c.sharedstorage != 0, fo.debug != 0);
	if (r < 0) {
		fprintf(stderr, "veilfs: %s: %s\n", c.cipherdir, strerror(-r));
		vl_vault_free(v);
		goto out;
	}
	v = NULL;

	status = VL_EXIT_USAGE; /* libfuse has printed which option it did not know */
	se = fuse_session_new(&args, &vl_fuse_ops, sizeof(vl_fuse_ops), fs);
	if (!se)
		goto out;
	status = VL_EXIT_FAILURE;
	if (fuse_set_signal_handlers(se) != 0)
		goto out;
	handlers = true;
	status = VL_EXIT_MOUNT;
	if (fuse_session_mount(se, fo.mountpoint) != 0) {
		fprintf(stderr, "veilfs: could not mount on %s\n", fo.mountpoint);
		goto out;
	}
	mounted = true;
	if (mount_dev(fo.mountpoint, &dev) < 0)
		vl_log(VL_LOG_WARN, "%s is not in /proc/self/mountinfo as a veilfs mount",
		       fo.mountpoint);
	raise_readahead(dev);
	/* The control socket: started before the umask below, and before detaching so that
	 * a failure is seen on the terminal. The mount works without it. */
	if (!c.nocontrol && dev && cipherdir_abs) {
		char err[512] = "";

		ctlm.cipherdir = cipherdir_abs;
		ctlm.config = c.config;
		ctlm.mountpoint = fo.mountpoint;
		ctlm.readonly = c.ro != 0;
		ctlm.sharedstorage = c.sharedstorage != 0;
		if (vl_ctl_start(&ctl, fs->vault, &ctlm, dev, err, sizeof(err)) < 0)
			vl_log(VL_LOG_WARN, "no control socket: %s", err);
	}
	/* The kernel applied the caller's umask to every mode it sends us. */
	umask(0);
	if (notify >= 0) {
		detach(notify);
		notify = -1;
	} else if (chdir("/") < 0) {
		vl_log(VL_LOG_WARN, "chdir /: %s", strerror(errno));
	}
	vl_log(VL_LOG_INFO, "mounted %s on %s%s%s", c.cipherdir, fo.mountpoint,
	       c.ro ? " read-only" : "", c.sharedstorage ? " (shared storage)" : "");

	if (vl_fs_watch_start(fs, se) < 0)
		vl_log(VL_LOG_WARN, "could not start the thread that follows changes under %s: "
				    "changes made there by other programs show after the cache timeout",
		       c.cipherdir);
	if (idle_s) {
		idle.seconds = idle_s;
		idle.fs = fs;
		if (idle_start(&idle) == 0)
			idle_on = true;
		else
			vl_log(VL_LOG_WARN, "--idle: could not start the watcher thread");
	}
	if (fo.singlethread) {
		r = fuse_session_loop(se);
	} else {
		lc = fuse_loop_cfg_create();
		if (!lc) {
			r = -ENOMEM;
		} else {
			fuse_loop_cfg_set_clone_fd(lc, fo.clone_fd);
			fuse_loop_cfg_set_idle_threads(lc, fo.max_idle_threads > 0 &&
								   fo.max_idle_threads != UINT_MAX ?
							   fo.max_idle_threads :
							   10);
			if (fo.max_threads)
				fuse_loop_cfg_set_max_threads(lc, fo.max_threads);
			r = fuse_session_loop_mt(se, lc);
		}
	}
	status = r == 0 ? VL_EXIT_OK : VL_EXIT_FAILURE;
	if (r != 0)
		vl_log(VL_LOG_ERR, "session loop ended with an error (%d)", r);
	else
		vl_log(VL_LOG_INFO, "unmounted %s", fo.mountpoint);
	goto out;
nomem:
	fprintf(stderr, "veilfs: out of memory\n");
	status = VL_EXIT_FAILURE;
out:
	if (idle_on)
		idle_stop(&idle);
	vl_ctl_stop(ctl); /* before the vault goes, and as soon as the mount is gone */
	if (fs)
		vl_fs_watch_stop(fs); /* it talks to the kernel through se */
	if (mounted)
		fuse_session_unmount(se);
	if (handlers)
		fuse_remove_signal_handlers(se);
	if (se)
		fuse_session_destroy(se);
	fuse_loop_cfg_destroy(lc);
	vl_fs_free(fs); /* wipes the keys */
	if (notify >= 0)
		close(notify); /* the parent sees no word and takes our exit status */
	free(fsname);
	free(cipherdir_abs);
	free(fo.mountpoint);
	free(c.passfile);
	free(c.extpass);
	free(c.config);
	free(c.idle);
	free(c.cipherdir);
	free(c.mountpoint);
	fuse_opt_free_args(&args);
	return status;
}
