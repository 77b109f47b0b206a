/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The control socket (fs/ctl.h): where it lives, the daemon's server thread, and the client
 * veilctl uses. One request per connection; the server handles one connection at a time
 * with a deadline for the whole exchange, so a stuck client cannot hold it for long and
 * nothing grows with the number of clients. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "../crypto/content.h"
#include "ctl.h"
#include "log.h"
#include "resolve.h"
#include "vault.h"
#include "vaultinfo.h"

/* Directory candidates per uid (fs/ctl.h), the longest "/run/user/4294967295/veilfs". */
#define CTL_DIRS 3
#define CTL_DIR_MAX 64
/* "4095:1048575" at most (12 bits major, 20 bits minor). */
#define CTL_NAME_MAX 24
/* Connections waiting while one is served. */
#define CTL_BACKLOG 8

struct vl_ctl {
	const struct vl_vault *v;
	const struct vl_ctl_mount *m;
	uid_t uid;	 /* the daemon's euid: the only peer answered */
	int lfd;	 /* listening socket */
	int dirfd;	 /* the socket's directory, for the unlink */
	int stopfd;	 /* eventfd: written once by vl_ctl_stop */
	pthread_t thread;
	bool running;
	char name[CTL_NAME_MAX];
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
};

/* The directories where uid's sockets may be, in the order the daemon tries them. */
static int ctl_dirs(uid_t uid, char dirs[CTL_DIRS][CTL_DIR_MAX])
{
	struct stat st;
	char base[32];
	int n = 0;

	if (uid == 0)
		snprintf(dirs[n++], CTL_DIR_MAX, "/run/veilfs");
	snprintf(base, sizeof(base), "/run/user/%u", (unsigned)uid);
	/* The login manager's runtime directory, when this user has one of their own. */
	if (uid != 0 && lstat(base, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == uid)
		snprintf(dirs[n++], CTL_DIR_MAX, "%s/veilfs", base);
	snprintf(dirs[n++], CTL_DIR_MAX, "/tmp/veilfs-%u", (unsigned)uid);
	return n;
}

/* Opens (with create, first makes) directory path and checks that it is uid's own and
 * closed to everybody else: a directory that someone else made, or that others can enter,
 * is refused. fd or -errno (-EPERM for a directory that is not safe) with a reason. */
static int ctl_open_dir(const char *path, uid_t uid, bool create, char *err, size_t errcap)
{
	struct stat st;
	int fd;

	if (create && mkdir(path, 0700) < 0 && errno != EEXIST) {
		int e = errno;

		vl_seterr(err, errcap, "cannot make %s: %s", path, strerror(e));
		return -e;
	}
	fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;

		vl_seterr(err, errcap, "cannot open %s: %s", path, strerror(e));
		return -e;
	}
	if (fstat(fd, &st) < 0 || st.st_uid != uid || (st.st_mode & 077)) {
		vl_seterr(err, errcap,
			  "%s is not a directory of uid %u closed to others (mode 0700): "
			  "not using it",
			  path, (unsigned)uid);
		close(fd);
		return -EPERM;
	}
	return fd;
}

/* Fills a socket address for dir/name. */
static int ctl_addr(struct sockaddr_un *a, const char *dir, const char *name)
{
	int n;

	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	n = snprintf(a->sun_path, sizeof(a->sun_path), "%s/%s", dir, name);
	return n > 0 && (size_t)n < sizeof(a->sun_path) ? 0 : -ENAMETOOLONG;
}

static void ctl_name(dev_t dev, char name[static CTL_NAME_MAX])
{
	snprintf(name, CTL_NAME_MAX, "%u:%u", major(dev), minor(dev));
}

static long ms_left(const struct timespec *deadline)
{
	struct timespec now;
	long ms;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (deadline->tv_sec - now.tv_sec) * 1000 + (deadline->tv_nsec - now.tv_nsec) / 1000000;
	return ms > 0 ? ms : 0;
}

static void deadline_in(struct timespec *d, long ms)
{
	clock_gettime(CLOCK_MONOTONIC, d);
	d->tv_sec += ms / 1000;
	d->tv_nsec += (ms % 1000) * 1000000;
	if (d->tv_nsec >= 1000000000) {
		d->tv_sec++;
		d->tv_nsec -= 1000000000;
	}
}

/* Waits until fd is ready for events, or the deadline. 0, -ETIMEDOUT or -errno. */
static int wait_fd(int fd, short events, const struct timespec *deadline)
{
	for (;;) {
		struct pollfd p = { .fd = fd, .events = events };
		int n = poll(&p, 1, (int)ms_left(deadline));

		if (n > 0)
			return 0;
		if (n == 0)
			return -ETIMEDOUT;
		if (errno != EINTR)
			return -errno;
	}
}

/* Reads exactly len bytes. 0, -EPROTO at an early end of the stream, -ETIMEDOUT, -errno. */
static int read_full(int fd, uint8_t *buf, size_t len, const struct timespec *deadline)
{
	while (len) {
		ssize_t n;
		int r = wait_fd(fd, POLLIN, deadline);

		if (r < 0)
			return r;
		n = recv(fd, buf, len, MSG_DONTWAIT);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EPROTO;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Reads until the peer's end of the stream: anything more is a protocol error. */
static int read_eof(int fd, const struct timespec *deadline)
{
	for (;;) {
		uint8_t extra;
		ssize_t n;
		int r = wait_fd(fd, POLLIN, deadline);

		if (r < 0)
			return r;
		n = recv(fd, &extra, 1, MSG_DONTWAIT);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0)
			return -errno;
		return n == 0 ? 0 : -EPROTO;
	}
}

static int write_full(int fd, const uint8_t *buf, size_t len, const struct timespec *deadline)
{
	while (len) {
		ssize_t n;
		int r = wait_fd(fd, POLLOUT, deadline);

		if (r < 0)
			return r;
		n = send(fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0)
			return -errno;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Reads and drops what the peer still sends, up to one longest request, until its end of
 * the stream or the deadline. */
static void drain(int fd, const struct timespec *deadline)
{
	size_t total = 0;
	uint8_t scratch[4096];

	while (total <= VL_CTL_REQ_HDR + VL_CTL_ARG_MAX && wait_fd(fd, POLLIN, deadline) == 0) {
		ssize_t n = recv(fd, scratch, sizeof(scratch), MSG_DONTWAIT);

		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			return;
		total += (size_t)n;
	}
}

/* Reads one message: a header of hdrlen bytes, then as many as size() says. The buffer is
 * allocated to the announced size only after the header passed its bounds check. */
static int read_msg(int fd, size_t hdrlen, ssize_t (*size)(const uint8_t *), uint8_t **out,
		    size_t *outlen, const struct timespec *deadline)
{
	uint8_t hdr[VL_CTL_RESP_HDR > VL_CTL_REQ_HDR ? VL_CTL_RESP_HDR : VL_CTL_REQ_HDR];
	uint8_t *buf;
	ssize_t total;
	int r;

	r = read_full(fd, hdr, hdrlen, deadline);
	if (r < 0)
		return r;
	total = size(hdr);
	if (total < 0)
		return (int)total;
	buf = malloc((size_t)total + 1);
	if (!buf)
		return -ENOMEM;
	memcpy(buf, hdr, hdrlen);
	r = read_full(fd, buf + hdrlen, (size_t)total - hdrlen, deadline);
	if (r < 0) {
		free(buf);
		return r;
	}
	*out = buf;
	*outlen = (size_t)total;
	return 0;
}

static ssize_t req_size(const uint8_t *hdr)
{
	return vl_ctl_req_size(hdr);
}

static ssize_t resp_size(const uint8_t *hdr)
{
	return vl_ctl_resp_size(hdr);
}

/* ---- the server ---- */

/* The answer to info: the mount, then the vault's settings. malloc'd text or NULL. */
static char *info_text(const struct vl_ctl *c)
{
	char settings[VL_VAULTINFO_MAX];
	char *t = NULL;
	int n;

	if (vl_vaultinfo_text(vl_vault_config(c->v), settings, sizeof(settings)) < 0)
		return NULL;
	n = asprintf(&t,
		     "mountpoint: %s\n"
		     "cipherdir: %s\n"
		     "config: %s%s\n"
		     "%s"
		     "mount: %s%s\n"
		     "daemon_pid: %ld\n",
		     c->m->mountpoint, c->m->cipherdir,
		     c->m->config ? c->m->config : c->m->cipherdir,
		     c->m->config ? "" : "/veilfs.conf", settings,
		     c->m->readonly ? "read-only" : "read-write",
		     c->m->sharedstorage ? ", shared storage" : "", (long)getpid());
	return n < 0 ? NULL : t;
}

/* Works out the answer to req: 0 and *text, or an errno and a reason in err. */
static int answer(const struct vl_ctl *c, const struct vl_ctl_req *req, char **text, char *err,
		  size_t errcap)
{
	char *arg = NULL;
	int r;

	*text = NULL;
	if (req->op == VL_CTL_INFO) {
		*text = info_text(c);
		return *text ? 0 : ENOMEM;
	}
	arg = strndup(req->arg, req->arglen);
	if (!arg)
		return ENOMEM;
	if (req->op == VL_CTL_ENCRYPT_PATH) {
		r = vl_path_encrypt(c->v, arg, text, err, errcap);
	} else if (arg[0] == '/' && !(strncmp(arg, c->m->cipherdir, strlen(c->m->cipherdir)) == 0 &&
				     arg[strlen(c->m->cipherdir)] == '/')) {
		/* An absolute path must lie in this vault's cipher directory. */
		vl_seterr(err, errcap, "%s is not inside the cipher directory %s", arg,
			  c->m->cipherdir);
		r = -EINVAL;
	} else {
		r = vl_path_decrypt(c->v, c->m->cipherdir, arg, text, err, errcap);
	}
	free(arg);
	return r < 0 ? -r : 0;
}

static void serve(struct vl_ctl *c, int fd)
{
	char err[512] = "";
	struct vl_ctl_resp resp = { 0 };
	struct vl_ctl_req req;
	struct timespec deadline;
	struct ucred peer;
	socklen_t plen = sizeof(peer);
	uint8_t *in = NULL, *out = NULL;
	size_t inlen = 0;
	char *text = NULL;
	ssize_t n;
	int r;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &peer, &plen) < 0 || plen != sizeof(peer) ||
	    peer.uid != c->uid) {
		/* The directory is the owner's alone; a stranger here got in some other way. */
		vl_log(VL_LOG_WARN, "control socket: refused a connection from uid %ld",
		       plen == sizeof(peer) ? (long)peer.uid : -1L);
		return;
	}
	deadline_in(&deadline, VL_CTL_TIMEOUT_MS);
	r = read_msg(fd, VL_CTL_REQ_HDR, req_size, &in, &inlen, &deadline);
	if (r == 0)
		r = read_eof(fd, &deadline);
	if (r == 0)
		r = vl_ctl_req_parse(in, inlen, &req);
	if (r == -ETIMEDOUT || r == -ECONNRESET || r == -EPIPE)
		goto out; /* nobody to answer */
	if (r < 0) {
		resp.status = r == -ENOMEM ? ENOMEM : EPROTO;
		snprintf(err, sizeof(err), "malformed request (see veilfs(1), CONTROL SOCKET)");
	} else {
		resp.status = answer(c, &req, &text, err, sizeof(err));
		if (resp.status > VL_CTL_STATUS_MAX)
			resp.status = EIO;
	}
	if (resp.status) {
		resp.text = err[0] ? err : strerror(resp.status);
		resp.textlen = strlen(resp.text);
	} else {
		resp.text = text;
		resp.textlen = strlen(text);
	}
	out = malloc(VL_CTL_RESP_HDR + resp.textlen);
	n = out ? vl_ctl_resp_encode(&resp, out, VL_CTL_RESP_HDR + resp.textlen) : -ENOMEM;
	if (n < 0) {
		vl_log(VL_LOG_WARN, "control socket: cannot encode an answer: %s",
		       strerror((int)-n));
		goto out;
	}
	r = write_full(fd, out, (size_t)n, &deadline);
	if (r < 0) {
		vl_log(VL_LOG_DEBUG, "control socket: cannot send an answer: %s", strerror(-r));
		goto out;
	}
	/* A malformed request may have left bytes unread: closing on them would reset the
	 * connection and the client would lose the answer. Take them (bounded) first. */
	if (shutdown(fd, SHUT_WR) == 0)
		drain(fd, &deadline);
out:
	free(in);
	free(out);
	free(text);
}

static void *ctl_main(void *arg)
{
	struct vl_ctl *c = arg;

	for (;;) {
		struct pollfd p[2] = {
			{ .fd = c->lfd, .events = POLLIN },
			{ .fd = c->stopfd, .events = POLLIN },
		};
		int fd;

		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			vl_log(VL_LOG_ERR, "control socket: poll: %s", strerror(errno));
			break;
		}
		if (p[1].revents)
			break;
		if (!(p[0].revents & POLLIN))
			continue;
		fd = accept4(c->lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue; /* the client gave up already, or a transient error */
		serve(c, fd);
		close(fd);
	}
	vl_crypto_thread_cleanup();
	return NULL;
}

const char *vl_ctl_path(const struct vl_ctl *c)
{
	return c ? c->path : "";
}

int vl_ctl_start(struct vl_ctl **out, const struct vl_vault *v, const struct vl_ctl_mount *m,
		 dev_t dev, char *err, size_t errcap)
{
	char dirs[CTL_DIRS][CTL_DIR_MAX];
	struct sockaddr_un addr;
	struct vl_ctl *c;
	sigset_t all, old;
	struct stat st;
	int i, n, r;

	*out = NULL;
	c = calloc(1, sizeof(*c));
	if (!c) {
		vl_seterr(err, errcap, "out of memory");
		return -ENOMEM;
	}
	c->v = v;
	c->m = m;
	c->uid = geteuid();
	c->lfd = c->dirfd = c->stopfd = -1;
	ctl_name(dev, c->name);
	n = ctl_dirs(c->uid, dirs);
	r = -ENOENT;
	for (i = 0; i < n && c->dirfd < 0; i++) {
		r = ctl_open_dir(dirs[i], c->uid, true, err, errcap);
		if (r >= 0)
			c->dirfd = r;
	}
	if (c->dirfd < 0)
		goto fail;
	i--;
	r = ctl_addr(&addr, dirs[i], c->name);
	if (r < 0) {
		vl_seterr(err, errcap, "%s/%s: path too long for a socket", dirs[i], c->name);
		goto fail;
	}
	memcpy(c->path, addr.sun_path, sizeof(c->path));
	/* A socket of this name belongs to an earlier mount with the same device number,
	 * whose daemon died without removing it. Anything else there is not ours to remove. */
	if (fstatat(c->dirfd, c->name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		if (!S_ISSOCK(st.st_mode) || unlinkat(c->dirfd, c->name, 0) < 0) {
			vl_seterr(err, errcap, "%s exists and is not a stale socket", c->path);
			r = -EEXIST;
			goto fail;
		}
	}
	c->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	c->stopfd = eventfd(0, EFD_CLOEXEC);
	if (c->lfd < 0 || c->stopfd < 0) {
		r = -errno;
		vl_seterr(err, errcap, "socket: %s", strerror(-r));
		goto fail;
	}
	/* No other user can enter the directory, so the moment between bind and chmod, when
	 * the mode still follows the umask, is never visible to anyone else. */
	if (bind(c->lfd, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
	    fchmodat(c->dirfd, c->name, 0600, 0) < 0 || listen(c->lfd, CTL_BACKLOG) < 0) {
		r = -errno;
		vl_seterr(err, errcap, "cannot listen on %s: %s", c->path, strerror(-r));
		(void)unlinkat(c->dirfd, c->name, 0);
		goto fail;
	}
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	r = -pthread_create(&c->thread, NULL, ctl_main, c);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r < 0) {
		vl_seterr(err, errcap, "cannot start the control thread: %s", strerror(-r));
		(void)unlinkat(c->dirfd, c->name, 0);
		goto fail;
	}
	c->running = true;
	*out = c;
	return 0;
fail:
	if (c->lfd >= 0)
		close(c->lfd);
	if (c->stopfd >= 0)
		close(c->stopfd);
	if (c->dirfd >= 0)
		close(c->dirfd);
	free(c);
	return r < 0 ? r : -EIO;
}

void vl_ctl_stop(struct vl_ctl *c)
{
	uint64_t one = 1;

	if (!c)
		return;
	if (c->running) {
		if (write(c->stopfd, &one, sizeof(one)) != sizeof(one))
			vl_log(VL_LOG_WARN, "control socket: cannot stop the thread: %s",
			       strerror(errno));
		else
			pthread_join(c->thread, NULL);
	}
	/* First the name, so that no new client finds a socket nobody answers. */
	if (unlinkat(c->dirfd, c->name, 0) < 0 && errno != ENOENT)
		vl_log(VL_LOG_WARN, "control socket: cannot remove %s: %s", c->path,
		       strerror(errno));
	close(c->lfd);
	close(c->stopfd);
	close(c->dirfd);
	free(c);
}

/* ---- the client ---- */

/* Connects to uid's socket for dev, trying each directory. fd or -errno. */
static int ctl_connect(uid_t uid, dev_t dev, char *err, size_t errcap)
{
	char dirs[CTL_DIRS][CTL_DIR_MAX], name[CTL_NAME_MAX];
	struct sockaddr_un addr;
	int n = ctl_dirs(uid, dirs), r = -ENOENT;

	ctl_name(dev, name);
	for (int i = 0; i < n; i++) {
		char why[256];
		struct stat st;
		int dfd, fd;

		dfd = ctl_open_dir(dirs[i], uid, false, why, sizeof(why));
		if (dfd < 0)
			continue;
		r = fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 ? -errno : 0;
		close(dfd);
		if (r == -ENOENT)
			continue;
		if (r == 0 && (!S_ISSOCK(st.st_mode) || st.st_uid != uid))
			r = -EPERM;
		if (r == 0)
			r = ctl_addr(&addr, dirs[i], name);
		if (r < 0) {
			vl_seterr(err, errcap, "%s/%s: %s", dirs[i], name, strerror(-r));
			return r;
		}
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
			r = -errno;
			if (fd >= 0)
				close(fd);
			vl_seterr(err, errcap, "%s: %s", addr.sun_path, strerror(-r));
			return r;
		}
		return fd;
	}
	vl_seterr(err, errcap, "no control socket %s in %s%s%s", name, dirs[0], n > 1 ? " or " : "",
		  n > 1 ? dirs[n - 1] : "");
	return -ENOENT;
}

int vl_ctl_call(dev_t dev, const struct vl_ctl_req *req, int *status, char **text, char *err,
		size_t errcap)
{
	struct vl_ctl_resp resp;
	struct timespec deadline;
	struct ucred peer;
	socklen_t plen = sizeof(peer);
	uint8_t *out = NULL, *in = NULL;
	size_t inlen = 0;
	uid_t uid = geteuid();
	ssize_t n;
	int fd, r;

	*text = NULL;
	fd = ctl_connect(uid, dev, err, errcap);
	if (fd < 0)
		return fd;
	/* Only the daemon of this very user may answer for the mount. */
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &peer, &plen) < 0 || plen != sizeof(peer) ||
	    peer.uid != uid) {
		vl_seterr(err, errcap, "the control socket is served by another user");
		r = -EPERM;
		goto out;
	}
	out = malloc(VL_CTL_REQ_HDR + req->arglen);
	n = out ? vl_ctl_req_encode(req, out, VL_CTL_REQ_HDR + req->arglen) : -ENOMEM;
	if (n < 0) {
		r = (int)n;
		vl_seterr(err, errcap, "%s",
			  n == -EINVAL ? "invalid request (a path too long, or with a NUL byte)" :
					 strerror((int)-n));
		goto out;
	}
	deadline_in(&deadline, VL_CTL_TIMEOUT_MS);
	r = write_full(fd, out, (size_t)n, &deadline);
	if (r == 0 && shutdown(fd, SHUT_WR) < 0)
		r = -errno;
	if (r < 0) {
		vl_seterr(err, errcap, "cannot send the request: %s", strerror(-r));
		goto out;
	}
	/* Answers can take a while (a big directory to search): a new deadline. */
	deadline_in(&deadline, VL_CTL_TIMEOUT_MS);
	r = read_msg(fd, VL_CTL_RESP_HDR, resp_size, &in, &inlen, &deadline);
	if (r == 0)
		r = read_eof(fd, &deadline);
	if (r == 0)
		r = vl_ctl_resp_parse(in, inlen, &resp);
	if (r < 0) {
		vl_seterr(err, errcap, "no valid answer from the daemon: %s",
			  r == -EPROTO ? "malformed or cut short" : strerror(-r));
		goto out;
	}
	*text = strndup(resp.text, resp.textlen);
	if (!*text) {
		r = -ENOMEM;
		vl_seterr(err, errcap, "out of memory");
		goto out;
	}
	*status = resp.status;
	r = 0;
out:
	free(out);
	free(in);
	close(fd);
	return r;
}
