/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Opening, creating and re-keying a vault (FORMAT.md §1, §2, §5). */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../crypto/config.h"
#include "../crypto/dirid.h"
#include "../crypto/keys.h"
#include "../crypto/names.h"
#include "../crypto/secmem.h"
#include "backing.h"
#include "dirinfo.h"
#include "dirs.h"
#include "log.h"
#include "vault.h"

/* Helper files are read-only: nothing edits them in place, they are only replaced. */
#define VL_CONFIG_MODE 0400

struct vl_vault {
	int rootfd;		 /* O_RDONLY|O_DIRECTORY of the cipherdir */
	struct vl_keys *keys;	 /* subkeys, secure memory */
	struct vl_config cfg;	 /* as read (or defaults for a recovery without config) */
	struct vl_dirinfo root;	 /* the root's IDs (format 2: always ID_root) */
};

/* Set by veilctl upgrade only (vl_vault_allow_upgrading); read when a vault is opened. */
static bool allow_upgrading;

void vl_vault_allow_upgrading(void)
{
	allow_upgrading = true;
}

/* The user names the cipherdir on the command line: a symlink there is their choice, so it
 * is followed (only the tree below it is walked with O_NOFOLLOW). */
static int open_cipherdir(const char *cipherdir, char *err, size_t errcap)
{
	int fd = open(cipherdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0) {
		int e = errno;

		vl_seterr(err, errcap, "cannot open cipher directory %s: %s", cipherdir, strerror(e));
		return -e;
	}
	return fd;
}

/* Splits config_path into an open fd of its directory and its last component (*base points
 * into config_path). */
static int open_config_parent(const char *config_path, int *dirfd, const char **base)
{
	const char *slash = strrchr(config_path, '/');
	char *dir;
	int fd;

	if (!slash) {
		*base = config_path;
		dir = strdup(".");
	} else {
		*base = slash + 1;
		dir = slash == config_path ? strdup("/") : strndup(config_path, (size_t)(slash - config_path));
	}
	if (!dir)
		return -ENOMEM;
	if (**base == '\0' || !strcmp(*base, ".") || !strcmp(*base, "..")) {
		free(dir);
		return -EINVAL;
	}
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(dir);
	if (fd < 0)
		return -errno;
	*dirfd = fd;
	return 0;
}

/* Reads and parses the config; rootfd is used when config_path is NULL. */
static int read_config(int rootfd, const char *config_path, struct vl_config *cfg, char *err,
		       size_t errcap)
{
	const char *shown = config_path ? config_path : VL_CONFIG_FILE;
	char text[VL_CONFIG_MAX];
	char why[256] = "";
	ssize_t n;
	int r;

	if (config_path)
		n = vl_read_small(AT_FDCWD, config_path, text, sizeof(text));
	else
		n = vl_read_small(rootfd, VL_CONFIG_FILE, text, sizeof(text));
	if (n < 0) {
		if (n == -EFBIG)
			vl_seterr(err, errcap, "config %s is larger than %d bytes", shown, VL_CONFIG_MAX);
		else if (n == -EINVAL)
			vl_seterr(err, errcap, "config %s is not a regular file", shown);
		else
			vl_seterr(err, errcap, "cannot read config %s: %s", shown, strerror((int)-n));
		return (int)n;
	}
	r = vl_config_parse(text, (size_t)n, cfg, why, sizeof(why));
	if (r < 0)
		vl_seterr(err, errcap, "config %s: %s", shown, why[0] ? why : "invalid");
	return r;
}

int vl_vault_read_config(const char *cipherdir, const char *config_path, struct vl_config *cfg,
			 char *err, size_t errcap)
{
	int rootfd = -1;
	int r;

	if (!config_path) {
		rootfd = open_cipherdir(cipherdir, err, errcap);
		if (rootfd < 0)
			return rootfd;
	}
	r = read_config(rootfd, config_path, cfg, err, errcap);
	if (rootfd >= 0)
		close(rootfd);
	return r;
}

/* Builds the vault around an open rootfd, a config and a master key (not kept). */
static int vault_finish(struct vl_vault **out, int rootfd, const struct vl_config *cfg,
			const uint8_t master[static VL_MASTER_KEY_LEN], char *err, size_t errcap)
{
	struct vl_vault *v;
	int r;

	v = calloc(1, sizeof(*v));
	if (!v) {
		vl_seterr(err, errcap, "out of memory");
		return -ENOMEM;
	}
	v->rootfd = rootfd;
	v->cfg = *cfg;
	if (cfg->upgrading && !allow_upgrading) {
		vl_seterr(err, errcap, "an upgrade from format 1 is in progress: run veilctl upgrade "
				       "to finish it before using the vault");
		r = -EBUSY;
		goto out;
	}
	r = vl_keys_new(&v->keys, master);
	if (r < 0) {
		vl_seterr(err, errcap, "cannot derive the vault keys: %s", strerror(-r));
		goto out;
	}
	if (cfg->upgrading) {
		/* Half converted: its root ID file may still be format 1's. veilctl upgrade
		 * reads it in the right format itself; the root's ID is ID_root either way. */
		memset(&v->root, 0, sizeof(v->root));
		v->root.format = cfg->format;
		v->root.root = true;
		r = vl_dirid_root(v->keys, v->root.id);
	} else {
		r = vl_dirinfo_root(v, rootfd, &v->root);
	}
	if (r < 0) {
		vl_seterr(err, errcap, "cannot read the root directory ID %s: %s", VL_DIRID_FILE,
		       strerror(-r));
		goto out;
	}
	*out = v;
	v = NULL;
out:
	if (v) {
		v->rootfd = -1; /* the caller closes it */
		vl_vault_free(v);
	}
	return r;
}

int vl_vault_open(struct vl_vault **out, const char *cipherdir, const char *config_path,
		  const char *pw, size_t pwlen, char *err, size_t errcap)
{
	struct vl_config cfg;
	uint8_t *master = NULL;
	int rootfd;
	int r;

	*out = NULL;
	rootfd = open_cipherdir(cipherdir, err, errcap);
	if (rootfd < 0)
		return rootfd;
	r = read_config(rootfd, config_path, &cfg, err, errcap);
	if (r < 0)
		goto out;
	master = vl_secure_alloc(VL_MASTER_KEY_LEN);
	if (!master) {
		r = -ENOMEM;
		vl_seterr(err, errcap, "cannot allocate secure memory");
		goto out;
	}
	r = vl_config_unwrap(&cfg, pw, pwlen, master);
	if (r == -EACCES) {
		vl_seterr(err, errcap, "wrong password, or the config file was modified");
		goto out;
	}
	if (r < 0) {
		vl_seterr(err, errcap, "cannot unlock the vault: %s", strerror(-r));
		goto out;
	}
	r = vault_finish(out, rootfd, &cfg, master, err, errcap);
	if (r == 0)
		rootfd = -1;
out:
	vl_secure_free(master, VL_MASTER_KEY_LEN);
	vl_wipe(&cfg, sizeof(cfg));
	if (rootfd >= 0)
		close(rootfd);
	return r;
}

int vl_vault_open_master(struct vl_vault **out, const char *cipherdir, const char *config_path,
			 const uint8_t master[static VL_MASTER_KEY_LEN], char *err, size_t errcap)
{
	struct vl_config cfg;
	int rootfd;
	int r;

	*out = NULL;
	rootfd = open_cipherdir(cipherdir, err, errcap);
	if (rootfd < 0)
		return rootfd;
	r = read_config(rootfd, config_path, &cfg, err, errcap);
	if (r == -ENOENT) {
		/* Recovery without a config: the format's defaults. */
		memset(&cfg, 0, sizeof(cfg));
		cfg.format = VL_FORMAT_VERSION; /* a guess: veilctl says which to use */
		cfg.block_size = VL_DEFAULT_BLOCK;
		cfg.name_max = VL_DEFAULT_NAME_MAX;
		cfg.scrypt_log2_n = VL_SCRYPT_DEFAULT_LOG2N;
		cfg.scrypt_r = 8;
		cfg.scrypt_p = 1;
		vl_log(VL_LOG_WARN, "no config found: using block_size %u and name_max %u",
		       cfg.block_size, cfg.name_max);
		r = 0;
	}
	if (r < 0)
		goto out;
	r = vault_finish(out, rootfd, &cfg, master, err, errcap);
	if (r == 0)
		rootfd = -1;
out:
	if (rootfd >= 0)
		close(rootfd);
	return r;
}

/* Wraps master with pw under cfg's costs (fresh salt and nonce), formats it and checks that
 * the text parses back. Returns the text length. */
static int config_text(struct vl_config *cfg, const char *pw, size_t pwlen,
		       const uint8_t master[static VL_MASTER_KEY_LEN], char *text, size_t cap,
		       char *err, size_t errcap)
{
	struct vl_config check;
	char why[256] = "";
	int len, r;

	if (pwlen == 0) {
		vl_seterr(err, errcap, "empty passwords are not allowed");
		return -EINVAL;
	}
	/* The format (and the upgrading feature) stay what the caller has: a password change
	 * never changes them. */
	if (cfg->format != VL_FORMAT_V1 && cfg->format != VL_FORMAT_V2)
		cfg->format = VL_FORMAT_VERSION;
	r = vl_config_wrap(cfg, pw, pwlen, master);
	if (r < 0) {
		vl_seterr(err, errcap, "cannot wrap the master key: %s", strerror(-r));
		return r;
	}
	len = vl_config_format(cfg, text, cap);
	if (len < 0) {
		vl_seterr(err, errcap, "cannot format the config: %s", strerror(-len));
		return len;
	}
	/* The parser enforces every rule of FORMAT.md §2 (block size, name_max, scrypt
	 * minimums): refuse to write what we could not read back. */
	r = vl_config_parse(text, (size_t)len, &check, why, sizeof(why));
	vl_wipe(&check, sizeof(check));
	if (r < 0) {
		vl_seterr(err, errcap, "invalid vault settings: %s", why);
		return r;
	}
	return len;
}

/* Writes the config text atomically, where it belongs. */
static int write_config(int rootfd, const char *config_path, const char *text, size_t len,
			bool noreplace, char *err, size_t errcap)
{
	const char *shown = config_path ? config_path : VL_CONFIG_FILE;
	const char *base = VL_CONFIG_FILE;
	int dirfd = rootfd;
	int r;

	if (config_path) {
		r = open_config_parent(config_path, &dirfd, &base);
		if (r < 0) {
			vl_seterr(err, errcap, "cannot open the directory of config %s: %s", config_path,
			       strerror(-r));
			return r;
		}
	}
	r = vl_write_atomic(dirfd, base, text, len, VL_CONFIG_MODE, noreplace);
	if (r == -EEXIST)
		vl_seterr(err, errcap, "config %s already exists", shown);
	else if (r < 0)
		vl_seterr(err, errcap, "cannot write config %s: %s", shown, strerror(-r));
	if (dirfd != rootfd)
		close(dirfd);
	return r;
}

/* Removes the config written by a failed create. */
static void unlink_config(int rootfd, const char *config_path)
{
	const char *base = VL_CONFIG_FILE;
	int dirfd = rootfd;

	if (config_path && open_config_parent(config_path, &dirfd, &base) < 0)
		return;
	(void)unlinkat(dirfd, base, 0);
	if (dirfd != rootfd)
		close(dirfd);
}

/* 0 when the directory has no entries, -ENOTEMPTY otherwise. */
static int dir_is_empty(int rootfd)
{
	struct dirent *de;
	DIR *d;
	int r = 0;

	r = vl_dir_stream(rootfd, &d);
	if (r < 0)
		return r;
	errno = 0;
	while ((de = readdir(d))) {
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
			r = -ENOTEMPTY;
			break;
		}
	}
	if (!de && errno)
		r = -errno;
	closedir(d);
	return r;
}

int vl_vault_create(const char *cipherdir, const char *config_path, const struct vl_config *cfg,
		    const char *pw, size_t pwlen, uint8_t master_out[static VL_MASTER_KEY_LEN],
		    char *err, size_t errcap)
{
	struct vl_vault tmp;
	uint8_t ptoken[VL_TOKEN_LEN] = { 0 };
	struct vl_keys *keys = NULL;
	char text[VL_CONFIG_MAX + 1];
	uint8_t *master = NULL;
	struct vl_config c = *cfg;
	bool wrote_config = false;
	int rootfd, len, r;

	rootfd = open_cipherdir(cipherdir, err, errcap);
	if (rootfd < 0)
		return rootfd;
	r = dir_is_empty(rootfd);
	if (r == -ENOTEMPTY) {
		vl_seterr(err, errcap, "cipher directory %s is not empty", cipherdir);
		goto out;
	}
	if (r < 0) {
		vl_seterr(err, errcap, "cannot list cipher directory %s: %s", cipherdir, strerror(-r));
		goto out;
	}
	master = vl_secure_alloc(VL_MASTER_KEY_LEN);
	if (!master) {
		r = -ENOMEM;
		vl_seterr(err, errcap, "cannot allocate secure memory");
		goto out;
	}
	r = vl_random(master, VL_MASTER_KEY_LEN);
	if (r < 0) {
		vl_seterr(err, errcap, "cannot draw the master key");
		goto out;
	}
	len = config_text(&c, pw, pwlen, master, text, sizeof(text), err, errcap);
	if (len < 0) {
		r = len;
		goto out;
	}
	r = vl_keys_new(&keys, master);
	if (r < 0) {
		vl_seterr(err, errcap, "cannot derive the vault keys: %s", strerror(-r));
		goto out;
	}
	/* A vault object just good enough for the root's ID file. */
	memset(&tmp, 0, sizeof(tmp));
	tmp.rootfd = -1;
	tmp.keys = keys;
	tmp.cfg = c;
	tmp.root.format = c.format;
	tmp.root.root = true;
	r = vl_dirid_root(keys, tmp.root.id);
	if (r < 0) {
		vl_seterr(err, errcap, "cannot derive the root directory ID");
		goto out;
	}
	r = write_config(rootfd, config_path, text, (size_t)len, true, err, errcap);
	if (r < 0)
		goto out;
	wrote_config = true;
	r = vl_dirinfo_write(&tmp, rootfd, &tmp.root, ptoken, NULL, true);
	if (r < 0) {
		vl_seterr(err, errcap, "cannot write %s: %s", VL_DIRID_FILE, strerror(-r));
		goto out;
	}
	memcpy(master_out, master, VL_MASTER_KEY_LEN);
out:
	if (r < 0 && wrote_config)
		unlink_config(rootfd, config_path); /* leave the directory as we found it */
	vl_keys_free(keys);
	vl_secure_free(master, VL_MASTER_KEY_LEN);
	vl_wipe(&c, sizeof(c));
	vl_wipe(text, sizeof(text));
	close(rootfd);
	return r;
}

int vl_vault_rewrap(const char *cipherdir, const char *config_path, const struct vl_config *cfg,
		    const uint8_t master[static VL_MASTER_KEY_LEN], const char *newpw,
		    size_t newpwlen, char *err, size_t errcap)
{
	char text[VL_CONFIG_MAX + 1];
	struct vl_config c = *cfg;
	int rootfd = -1;
	int len, r;

	if (!config_path) {
		rootfd = open_cipherdir(cipherdir, err, errcap);
		if (rootfd < 0)
			return rootfd;
	}
	/* New salt and nonce (vl_config_wrap draws them), whole file replaced. */
	len = config_text(&c, newpw, newpwlen, master, text, sizeof(text), err, errcap);
	if (len < 0) {
		r = len;
		goto out;
	}
	r = write_config(rootfd, config_path, text, (size_t)len, false, err, errcap);
out:
	vl_wipe(&c, sizeof(c));
	vl_wipe(text, sizeof(text));
	if (rootfd >= 0)
		close(rootfd);
	return r;
}

int vl_vault_view(const struct vl_vault *v, unsigned format, struct vl_vault **out)
{
	struct vl_vault *n;
	int r;

	*out = NULL;
	if (format != VL_FORMAT_V1 && format != VL_FORMAT_V2)
		return -EINVAL;
	n = calloc(1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	n->cfg = v->cfg;
	n->cfg.format = format;
	n->cfg.upgrading = false;
	n->root = v->root;
	n->root.format = format;
	n->rootfd = fcntl(v->rootfd, F_DUPFD_CLOEXEC, 0);
	if (n->rootfd < 0) {
		r = -errno;
		free(n);
		return r;
	}
	r = vl_keys_dup(&n->keys, v->keys);
	if (r < 0) {
		vl_vault_free(n);
		return r;
	}
	*out = n;
	return 0;
}

void vl_vault_free(struct vl_vault *v)
{
	if (!v)
		return;
	if (v->rootfd >= 0)
		close(v->rootfd);
	vl_keys_free(v->keys);
	vl_wipe(v, sizeof(*v));
	free(v);
}

int vl_vault_rootfd(const struct vl_vault *v)
{
	return v->rootfd;
}

const struct vl_keys *vl_vault_keys(const struct vl_vault *v)
{
	return v->keys;
}

uint32_t vl_vault_block_size(const struct vl_vault *v)
{
	return v->cfg.block_size;
}

uint32_t vl_vault_name_max(const struct vl_vault *v)
{
	return v->cfg.name_max;
}

const uint8_t *vl_vault_root_id(const struct vl_vault *v)
{
	return v->root.id;
}

const struct vl_dirinfo *vl_vault_root_info(const struct vl_vault *v)
{
	return &v->root;
}

unsigned vl_vault_format(const struct vl_vault *v)
{
	return v->cfg.format;
}

bool vl_vault_upgrading(const struct vl_vault *v)
{
	return v->cfg.upgrading;
}

const struct vl_config *vl_vault_config(const struct vl_vault *v)
{
	return &v->cfg;
}

struct vl_layout vl_vault_layout(const struct vl_vault *v, bool long_name)
{
	return vl_layout_of(v->cfg.format, v->cfg.block_size, long_name);
}

