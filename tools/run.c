/* SPDX-License-Identifier: GPL-2.0-or-later */
/* veilctl run: mounts a vault in a private mount namespace, runs COMMAND there, and unmounts
 * when it exits. Only COMMAND and its children see the plaintext: the mount exists in no
 * other namespace, and the daemon is started without a control socket (a socket in the
 * user's runtime directory would answer processes outside).
 *
 *   veilctl                        the namespace's first process: waits and forwards signals
 *    +- veilfs -f --no-control     the daemon (its own process group, SIGTERM if we die)
 *    +- COMMAND                    with VEILFS_MOUNTPOINT set
 *
 * As root: unshare(CLONE_NEWNS). As another user: CLONE_NEWUSER | CLONE_NEWNS with the
 * user's own uid and gid mapped to themselves; the daemon gets CAP_SYS_ADMIN of that user
 * namespace (an ambient capability: the kernel allows FUSE mounts there since 4.18), the
 * command gets no capability. The password goes to the daemon through a pipe on its
 * standard input (--passfile -), never argv or the environment. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <linux/capability.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../crypto/secmem.h"
#include "../fs/mounts.h"
#include "../fs/password.h"
#include "veilctl.h"

static const char run_usage[] =
	"veilctl run [--mountpoint DIR] [--ro] [--passfile FILE | --extpass CMD] [--config FILE]\n"
	"             CIPHERDIR [--] COMMAND [ARG...]";

/* How often the mount is looked for while the daemon unlocks (it says when it fails). */
#define RUN_POLL_MS 25

/* Signals that are passed on to COMMAND (SIGCHLD is ours). Job control (SIGTSTP ...) keeps
 * its default: a Ctrl-Z stops veilctl and COMMAND alike. */
static const int forwarded[] = { SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGALRM,
				 SIGWINCH };

struct run {
	const char *cipherdir;
	char **cmd;
	bool ro;
	const char *mnt_arg;	  /* --mountpoint as given */
	char mnt[PATH_MAX];	  /* the mountpoint, absolute */
	bool made_mnt;		  /* a temporary directory of ours, removed at the end */
	bool userns;		  /* ordinary user: in a user namespace of our own */
	sigset_t waited, oldmask; /* the signals we take with sigwaitinfo */
	pid_t daemon, command;
	int daemon_status;	  /* valid once daemon is 0 */
};

/* Writes text to a /proc/self file (the user namespace's maps). 0 or -errno. */
static int write_proc(const char *name, const char *text)
{
	size_t len = strlen(text);
	int fd = open(name, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, text, len);
	if (n < 0 || (size_t)n != len) {
		int e = n < 0 ? errno : EIO;

		close(fd);
		return -e;
	}
	return close(fd) < 0 ? -errno : 0;
}

/* Enters a private mount namespace (and, for an ordinary user, a user namespace mapping only
 * their own ids) where nothing we mount propagates back. Exit status. */
static int enter_namespace(struct run *r)
{
	uid_t uid = geteuid();
	gid_t gid = getegid();
	char map[64];
	int e;

	r->userns = uid != 0;
	if (!r->userns) {
		if (unshare(CLONE_NEWNS) < 0) {
			vc_err("cannot make a private mount namespace: %s", strerror(errno));
			return VL_EXIT_MOUNT;
		}
	} else {
		if (unshare(CLONE_NEWUSER | CLONE_NEWNS) < 0) {
			e = errno;
			vc_err("cannot make a private mount namespace: unprivileged user "
			       "namespaces are not available here (%s; e.g. sysctl "
			       "user.max_user_namespaces is 0, kernel.unprivileged_userns_clone "
			       "is 0, or an AppArmor or SELinux policy forbids them)",
			       strerror(e));
			vc_err("run it as root, or mount with veilfs (then every process of yours "
			       "sees the files)");
			return VL_EXIT_MOUNT;
		}
		/* An unprivileged gid_map needs setgroups denied first (user_namespaces(7)).
		 * The kernel lets a process write its own maps only while it is dumpable
		 * (/proc/self is root's otherwise): dumpable for these three writes, before
		 * any secret exists (the caller reads the password after this). */
		if (prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) < 0) {
			vc_err("cannot map your user and group ids: %s", strerror(errno));
			return VL_EXIT_MOUNT;
		}
		snprintf(map, sizeof(map), "%u %u 1\n", (unsigned)uid, (unsigned)uid);
		e = write_proc("/proc/self/setgroups", "deny");
		if (e == 0)
			e = write_proc("/proc/self/uid_map", map);
		snprintf(map, sizeof(map), "%u %u 1\n", (unsigned)gid, (unsigned)gid);
		if (e == 0)
			e = write_proc("/proc/self/gid_map", map);
		if (vl_process_nodump() < 0) {
			vc_err("cannot make veilctl non-dumpable again: %s", strerror(errno));
			return VL_EXIT_FAILURE;
		}
		if (e < 0) {
			vc_err("cannot map your user and group ids in a new user namespace: %s (a "
			       "security policy may forbid it); run it as root",
			       strerror(-e));
			return VL_EXIT_MOUNT;
		}
	}
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
		vc_err("cannot make the mount namespace private: %s", strerror(errno));
		return VL_EXIT_MOUNT;
	}
	/* A FUSE mount opens /dev/fuse as this user; say so now rather than after unlocking. */
	if (r->userns && access("/dev/fuse", R_OK | W_OK) < 0) {
		vc_err("cannot open /dev/fuse: %s (an ordinary user needs it readable and "
		       "writable, as on a stock Debian system where it is mode 0666); run it "
		       "as root",
		       strerror(errno));
		return VL_EXIT_MOUNT;
	}
	return VL_EXIT_OK;
}

/* In the daemon's child: CAP_SYS_ADMIN of our user namespace survives its execve as an
 * ambient capability (capabilities(7)): inheritable first, then ambient. 0 or -errno. */
static int keep_sys_admin(void)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3];

	if (syscall(SYS_capget, &h, d) < 0)
		return -errno;
	d[CAP_TO_INDEX(CAP_SYS_ADMIN)].inheritable |= CAP_TO_MASK(CAP_SYS_ADMIN);
	if (syscall(SYS_capset, &h, d) < 0 ||
	    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_SYS_ADMIN, 0, 0) < 0)
		return -errno;
	return 0;
}

/* veilfs next to this veilctl (a build tree, or /usr/bin), else NULL for PATH. malloc'd. */
static char *find_veilfs(void)
{
	char self[PATH_MAX], *slash, *path;
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n <= 0)
		return NULL;
	self[n] = '\0';
	slash = strrchr(self, '/');
	if (!slash)
		return NULL;
	*slash = '\0';
	if (asprintf(&path, "%s/veilfs", self) < 0)
		return NULL;
	if (access(path, X_OK) == 0)
		return path;
	free(path);
	return NULL;
}

/* Starts the daemon on r->mnt and hands it the password. Exit status. */
static int start_daemon(struct run *r, const char *pw, size_t pwlen)
{
	char *veilfs = find_veilfs();
	const char *argv[16];
	struct sigaction ign = { .sa_handler = SIG_IGN }, oldpipe;
	pid_t parent = getpid();
	int p[2], n = 0, ex = VL_EXIT_FAILURE;
	ssize_t w;

	argv[n++] = "veilfs";
	argv[n++] = "-f";
	argv[n++] = "--no-control";
	argv[n++] = "--passfile";
	argv[n++] = "-";
	if (r->ro) {
		argv[n++] = "-o";
		argv[n++] = "ro";
	}
	if (vc.config) {
		argv[n++] = "--config";
		argv[n++] = vc.config;
	}
	argv[n++] = r->cipherdir;
	argv[n++] = r->mnt;
	argv[n] = NULL;
	if (pipe2(p, O_CLOEXEC) < 0) {
		vc_err("pipe: %s", strerror(errno));
		goto out;
	}
	r->daemon = fork();
	if (r->daemon < 0) {
		vc_err("fork: %s", strerror(errno));
		close(p[0]);
		close(p[1]);
		goto out;
	}
	if (r->daemon == 0) {
		/* Terminal signals are COMMAND's business; our death is the daemon's end. */
		(void)setpgid(0, 0);
		if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0 || getppid() != parent)
			_exit(VL_EXIT_FAILURE);
		if (dup2(p[0], STDIN_FILENO) < 0)
			_exit(VL_EXIT_FAILURE);
		sigprocmask(SIG_SETMASK, &r->oldmask, NULL);
		if (r->userns && keep_sys_admin() < 0) {
			fprintf(stderr,
				"veilctl: cannot pass CAP_SYS_ADMIN of the user namespace to "
				"veilfs: %s\n",
				strerror(errno));
			_exit(VL_EXIT_MOUNT);
		}
		if (veilfs)
			execv(veilfs, (char *const *)argv);
		else
			execvp("veilfs", (char *const *)argv);
		fprintf(stderr, "veilctl: cannot run %s: %s\n",
			veilfs ? veilfs : "veilfs (from PATH)", strerror(errno));
		_exit(VL_EXIT_FAILURE);
	}
	close(p[0]);
	/* One line of at most VL_PASSWORD_MAX + 1 bytes fits the pipe: this never blocks. A
	 * daemon that died already makes it EPIPE, not SIGPIPE (and COMMAND must not inherit
	 * an ignored SIGPIPE: restored at once). */
	sigaction(SIGPIPE, &ign, &oldpipe);
	w = write(p[1], pw, pwlen);
	if (w == (ssize_t)pwlen)
		w = write(p[1], "\n", 1);
	sigaction(SIGPIPE, &oldpipe, NULL);
	close(p[1]);
	if (w < 0 && errno != EPIPE)
		vc_err("cannot pass the password to veilfs: %s", strerror(errno));
	ex = VL_EXIT_OK; /* whatever went wrong, the daemon's exit status tells */
out:
	free(veilfs);
	return ex;
}

/* Exit status for a child's wait status, as a shell gives it. */
static int shell_status(int ws)
{
	if (WIFEXITED(ws))
		return WEXITSTATUS(ws);
	if (WIFSIGNALED(ws))
		return 128 + WTERMSIG(ws);
	return VL_EXIT_FAILURE;
}

/* Reaps what exited. */
static void reap(struct run *r, int *cmd_status, bool *cmd_done)
{
	pid_t pid;
	int ws;

	while ((pid = waitpid(-1, &ws, WNOHANG)) > 0) {
		if (pid == r->command) {
			*cmd_status = shell_status(ws);
			*cmd_done = true;
		} else if (pid == r->daemon) {
			r->daemon = 0;
			r->daemon_status = ws;
			if (!*cmd_done && r->command > 0)
				vc_err("veilfs stopped (%s %d) while the command runs: its files "
				       "are gone",
				       WIFEXITED(ws) ? "exit status" : "signal",
				       WIFEXITED(ws) ? WEXITSTATUS(ws) : WTERMSIG(ws));
		}
	}
}

/* Waits for the daemon's mount to appear on r->mnt (its device number differs from the
 * directory's, before) while it unlocks. Exit status: OK, the daemon's own when it gave up
 * (it said why), or 128+N when we were told to stop. */
static int wait_mounted(struct run *r, dev_t before)
{
	struct vl_mountent *me = malloc(sizeof(*me));
	struct timespec poll = { 0, RUN_POLL_MS * 1000000L };
	int ex = VL_EXIT_FAILURE;

	if (!me) {
		vc_err("out of memory");
		return VL_EXIT_FAILURE;
	}
	for (;;) {
		siginfo_t si;
		int sig = sigtimedwait(&r->waited, &si, &poll);

		if (sig == SIGCHLD) {
			int ws;

			if (waitpid(r->daemon, &ws, WNOHANG) == r->daemon) {
				r->daemon = 0;
				ex = WIFEXITED(ws) && WEXITSTATUS(ws) ? WEXITSTATUS(ws) :
									  VL_EXIT_MOUNT;
				if (!WIFEXITED(ws) || WEXITSTATUS(ws) == 0)
					vc_err("veilfs ended before the vault was mounted");
				goto out;
			}
		} else if (sig > 0) {
			ex = 128 + sig;
			goto out;
		}
		if (vl_mount_find(r->mnt, 0, me) == 0 && !strcmp(me->fstype, "fuse.veilfs") &&
		    me->dev != before) {
			struct stat st;

			/* Served by the daemon's loop. In a user namespace it also replaces the
			 * root inode's first attributes (owner 0, unmapped there, so the kernel
			 * refused writes to the root) with the real ones. */
			if (stat(r->mnt, &st) < 0) {
				vc_err("%s: the new mount does not answer: %s", r->mnt,
				       strerror(errno));
				goto out;
			}
			ex = VL_EXIT_OK;
			goto out;
		}
	}
out:
	free(me);
	return ex;
}

static void start_command(struct run *r)
{
	r->command = fork();
	if (r->command < 0) {
		vc_err("fork: %s", strerror(errno));
		return;
	}
	if (r->command == 0) {
		int e;

		sigprocmask(SIG_SETMASK, &r->oldmask, NULL);
		if (setenv("VEILFS_MOUNTPOINT", r->mnt, 1) < 0)
			_exit(126);
		execvp(r->cmd[0], r->cmd);
		e = errno;
		fprintf(stderr, "veilctl: %s: %s\n", r->cmd[0], strerror(e));
		_exit(e == ENOENT ? 127 : 126);
	}
}

/* Unmounts, then waits for the daemon to end. A mount still busy (a process COMMAND left
 * behind has a file open) is detached and the daemon stopped: nothing stays mounted and
 * no daemon is left; that process gets errors from then on. */
static void stop_daemon(struct run *r)
{
	if (umount2(r->mnt, 0) < 0) {
		if (errno == EBUSY) {
			vc_err("%s is still in use by a process the command left behind: "
			       "detaching it",
			       r->mnt);
			if (umount2(r->mnt, MNT_DETACH) < 0)
				vc_err("cannot detach %s: %s", r->mnt, strerror(errno));
		}
		/* Detached, or not mounted yet (we were stopped while it unlocked): the
		 * daemon does not learn it from the kernel. */
		kill(r->daemon, SIGTERM);
	}
	while (r->daemon > 0) {
		int ws = 0;
		pid_t pid = waitpid(r->daemon, &ws, 0);

		if (pid == r->daemon || (pid < 0 && errno != EINTR)) {
			r->daemon = 0;
			r->daemon_status = ws;
		}
	}
}

/* The mountpoint: --mountpoint (absolute), or a new private directory. Exit status. */
static int make_mountpoint(struct run *r)
{
	const char *base = getenv("XDG_RUNTIME_DIR");
	struct stat st;

	if (r->mnt_arg) {
		if (!realpath(r->mnt_arg, r->mnt) || stat(r->mnt, &st) < 0 ||
		    !S_ISDIR(st.st_mode)) {
			vc_err("--mountpoint %s: %s", r->mnt_arg,
			       errno ? strerror(errno) : "not a directory");
			return VL_EXIT_MOUNT;
		}
		return VL_EXIT_OK;
	}
	/* Not secret: only its emptiness is seen outside. */
	if (!base || base[0] != '/' || stat(base, &st) < 0 || st.st_uid != geteuid())
		base = "/tmp";
	if (snprintf(r->mnt, sizeof(r->mnt), "%s/veilctl-run.XXXXXX", base) >=
		    (int)sizeof(r->mnt) ||
	    !mkdtemp(r->mnt)) {
		vc_err("cannot make a mountpoint in %s: %s", base, strerror(errno));
		return VL_EXIT_MOUNT;
	}
	r->made_mnt = true;
	return VL_EXIT_OK;
}

int cmd_run(int argc, char **argv)
{
	enum { O_MNT = VC_OPT_FIRST_LOCAL, O_RO };
	static const struct option lo[] = {
		VC_COMMON_LONGOPTS,
		{ "mountpoint", required_argument, NULL, O_MNT },
		{ "ro", no_argument, NULL, O_RO },
		{ 0 },
	};
	struct run r = { .daemon = -1, .command = -1 };
	bool cmd_done = false;
	struct stat before;
	char *pw = NULL;
	size_t pwlen = 0;
	int c, ex, cmd_status = VL_EXIT_FAILURE;

	vc_getopt_reset();
	/* "+": options end at CIPHERDIR; what follows is COMMAND's. */
	while ((c = getopt_long(argc, argv, "+h", lo, NULL)) != -1) {
		if (vc_common_opt(c, optarg))
			continue;
		switch (c) {
		case 'h':
			printf("usage: %s\n\n"
			       "Mounts the vault where only COMMAND and its children see it\n"
			       "(a private mount namespace), runs COMMAND with VEILFS_MOUNTPOINT\n"
			       "set to the mountpoint (a new empty directory, or --mountpoint\n"
			       "DIR), and unmounts when it exits. Signals are passed on; the exit\n"
			       "status is COMMAND's (128+N after signal N). As root, or as a user\n"
			       "where unprivileged user namespaces are allowed.\n",
			       run_usage);
			return VL_EXIT_OK;
		case O_MNT:
			r.mnt_arg = optarg;
			break;
		case O_RO:
			r.ro = true;
			break;
		default:
			return vc_usage(run_usage);
		}
	}
	if (argc - optind < 2)
		return vc_usage(run_usage);
	r.cipherdir = argv[optind];
	r.cmd = argv + optind + 1;
	if (!strcmp(r.cmd[0], "--"))
		r.cmd++;
	if (!r.cmd[0])
		return vc_usage(run_usage);
	ex = vc_check_config(r.cipherdir);
	if (ex)
		return ex;
	ex = make_mountpoint(&r);
	if (ex)
		return ex;
	if (stat(r.mnt, &before) < 0) {
		vc_err("%s: %s", r.mnt, strerror(errno));
		ex = VL_EXIT_MOUNT;
		goto out;
	}
	/* The namespace first: entering a user namespace makes us dumpable for a moment
	 * (enter_namespace), which must happen before the password is in memory. */
	ex = enter_namespace(&r);
	if (ex)
		goto out;
	ex = vc_password("Password: ", &pw, &pwlen);
	if (ex)
		goto out;
	/* From here every signal we care about waits for sigwaitinfo: none is lost between
	 * fork and wait, and each child restores the old mask before exec. */
	sigemptyset(&r.waited);
	sigaddset(&r.waited, SIGCHLD);
	for (size_t i = 0; i < sizeof(forwarded) / sizeof(forwarded[0]); i++)
		sigaddset(&r.waited, forwarded[i]);
	sigprocmask(SIG_BLOCK, &r.waited, &r.oldmask);
	ex = start_daemon(&r, pw, pwlen);
	vl_password_free(pw, pwlen);
	pw = NULL;
	if (ex || r.daemon < 0)
		goto out;
	ex = wait_mounted(&r, before.st_dev);
	if (ex)
		goto out;
	start_command(&r);
	if (r.command < 0) {
		ex = VL_EXIT_FAILURE;
		goto out;
	}
	while (!cmd_done) {
		siginfo_t si;
		int sig = sigwaitinfo(&r.waited, &si);

		if (sig == SIGCHLD) {
			reap(&r, &cmd_status, &cmd_done);
		} else if (sig > 0 && si.si_code != SI_KERNEL) {
			/* Sent to veilctl by a process: passed on. One the terminal sent to
			 * the foreground process group (Ctrl-C ...) reached COMMAND already. */
			kill(r.command, sig);
		}
	}
	ex = cmd_status;
out:
	vl_password_free(pw, pwlen);
	if (r.daemon > 0)
		stop_daemon(&r);
	if (r.made_mnt && rmdir(r.mnt) < 0)
		vc_err("cannot remove the mountpoint %s: %s", r.mnt, strerror(errno));
	return ex;
}
