/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fs/vault.c: create, open, wrong password, modified config, rewrap, outside config,
 * recovery with the master key. */
#include "config.h"

#include "tap.h"
#include "core_util.h"

#include "crypto/dirid.h"
#include "crypto/names.h"
#include "crypto/secmem.h"
#include "fs/backing.h"

#define PW TC_PASSWORD
#define PWLEN strlen(TC_PASSWORD)

static int conf_fd(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		exit(99);
	return fd;
}

/* Replaces the first occurrence of from by to (same length) in dir/veilfs.conf. */
static int edit_conf(const char *dir, const char *from, const char *to)
{
	char text[VL_CONFIG_MAX + 1], *p;
	int fd = conf_fd(dir);
	ssize_t n = vl_read_small(fd, VL_CONFIG_FILE, text, VL_CONFIG_MAX);
	int r = -1;

	if (n > 0) {
		text[n] = '\0';
		p = strstr(text, from);
		if (p && strlen(from) == strlen(to)) {
			memcpy(p, to, strlen(to));
			r = vl_write_atomic(fd, VL_CONFIG_FILE, text, (size_t)n, 0600, false);
		}
	}
	close(fd);
	return r;
}

static ssize_t read_conf(const char *dir, char *text)
{
	int fd = conf_fd(dir);
	ssize_t n = vl_read_small(fd, VL_CONFIG_FILE, text, VL_CONFIG_MAX);

	close(fd);
	if (n >= 0)
		text[n] = '\0';
	return n;
}

int main(void)
{
	uint8_t master[VL_MASTER_KEY_LEN], m2[VL_MASTER_KEY_LEN], rid[VL_DIRID_LEN];
	char dir[PATH_MAX], odir[PATH_MAX], cpath[PATH_MAX + 32], err[256];
	char before[VL_CONFIG_MAX + 1], after[VL_CONFIG_MAX + 1];
	struct vl_vault *v = NULL;
	struct vl_config cfg, rc;
	int r, fd;

	if (vl_crypto_init() != 0) /* first: libcrypto allocates in the secure pool */
		return 99;
	tc_cfg(&cfg, 16384, 100);
	tc_tmpdir(dir);
	err[0] = '\0';
	r = vl_vault_create(dir, NULL, &cfg, PW, PWLEN, master, err, sizeof(err));
	ok(r == 0, "create (%s)", err);
	fd = conf_fd(dir);
	ok(faccessat(fd, VL_CONFIG_FILE, F_OK, 0) == 0 && faccessat(fd, VL_DIRID_FILE, F_OK, 0) == 0,
	   "config and root veilfs.dirid written");
	close(fd);
	r = vl_vault_open(&v, dir, NULL, PW, PWLEN, err, sizeof(err));
	ok(r == 0 && v, "open with the right password");
	if (v) {
		ok(vl_vault_block_size(v) == 16384 && vl_vault_name_max(v) == 100,
		   "block size and name_max from the config");
		ok(vl_dirid_root(vl_vault_keys(v), rid) == 0 &&
			   !memcmp(rid, vl_vault_root_id(v), VL_DIRID_LEN),
		   "root ID");
		ok(vl_vault_rootfd(v) >= 0, "root fd");
	}
	vl_vault_free(v);
	vl_vault_free(NULL);
	v = NULL;

	ok(vl_vault_read_config(dir, NULL, &rc, err, sizeof(err)) == 0 && rc.block_size == 16384 &&
		   rc.scrypt_log2_n == 16,
	   "read_config without a password");

	err[0] = '\0';
	r = vl_vault_open(&v, dir, NULL, "wrong", 5, err, sizeof(err));
	ok(r == -EACCES && !v && strstr(err, "wrong password, or the config file was modified"),
	   "wrong password: EACCES (%s)", err);
	r = vl_vault_open(&v, dir, NULL, PW, PWLEN - 1, err, sizeof(err));
	ok(r == -EACCES, "password missing its last byte: EACCES");

	/* Create refuses a non-empty directory and an existing vault. */
	err[0] = '\0';
	r = vl_vault_create(dir, NULL, &cfg, PW, PWLEN, m2, err, sizeof(err));
	ok(r == -ENOTEMPTY && strstr(err, "not empty"), "create over a vault refused (%s)", err);
	tc_tmpdir(odir);
	fd = conf_fd(odir);
	close(openat(fd, "stray", O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
	r = vl_vault_create(odir, NULL, &cfg, PW, PWLEN, m2, err, sizeof(err));
	ok(r == -ENOTEMPTY, "create in a non-empty directory refused");
	ok(unlinkat(fd, "stray", 0) == 0, "empty it");
	r = vl_vault_create(odir, NULL, &cfg, "", 0, m2, err, sizeof(err));
	ok(r == -EINVAL && faccessat(fd, VL_CONFIG_FILE, F_OK, 0) < 0, "empty password refused, nothing written");
	{
		struct vl_config bad = cfg;

		bad.block_size = 3000;
		r = vl_vault_create(odir, NULL, &bad, PW, PWLEN, m2, err, sizeof(err));
		ok(r < 0 && faccessat(fd, VL_CONFIG_FILE, F_OK, 0) < 0,
		   "block size 3000 refused, nothing written (%s)", err);
		bad = cfg;
		bad.scrypt_log2_n = 15;
		r = vl_vault_create(odir, NULL, &bad, PW, PWLEN, m2, err, sizeof(err));
		ok(r < 0 && faccessat(fd, VL_CONFIG_FILE, F_OK, 0) < 0, "scrypt 2^15 refused (%s)", err);
	}
	close(fd);
	ok(vl_vault_create("/nonexistent-veilfs-dir", NULL, &cfg, PW, PWLEN, m2, err, sizeof(err)) == -ENOENT,
	   "create in a missing directory: ENOENT");

	/* Modified config fields: detected. */
	ok(edit_conf(dir, "block_size = 16384", "block_size = 32768") == 0, "edit block_size");
	r = vl_vault_open(&v, dir, NULL, PW, PWLEN, err, sizeof(err));
	ok(r == -EACCES && !v, "edited block_size: EACCES");
	ok(edit_conf(dir, "block_size = 32768", "block_size = 16384") == 0, "restore block_size");
	ok(edit_conf(dir, "format = 1", "format = 2") == 0, "edit format");
	err[0] = '\0';
	r = vl_vault_open(&v, dir, NULL, PW, PWLEN, err, sizeof(err));
	ok(r == -EPROTONOSUPPORT && strstr(err, "not supported"), "format 2: EPROTONOSUPPORT (%s)", err);
	ok(edit_conf(dir, "format = 2", "format = 1") == 0, "restore format");
	ok(edit_conf(dir, "scrypt_log2_n = 16", "scrypt_log2_n = 15") == 0, "weaken scrypt");
	r = vl_vault_open(&v, dir, NULL, PW, PWLEN, err, sizeof(err));
	ok(r == -EINVAL, "scrypt below the minimum: EINVAL (%s)", err);
	ok(edit_conf(dir, "scrypt_log2_n = 15", "scrypt_log2_n = 16") == 0, "restore scrypt");
	r = vl_vault_open(&v, dir, NULL, PW, PWLEN, err, sizeof(err));
	ok(r == 0, "opens again after restoring");
	vl_vault_free(v);
	v = NULL;

	/* Rewrap: new salt and nonce, old password no longer works. */
	ok(read_conf(dir, before) > 0, "config read");
	r = vl_vault_read_config(dir, NULL, &rc, err, sizeof(err));
	ok(r == 0 && vl_vault_rewrap(dir, NULL, &rc, master, "new password", 12, err, sizeof(err)) == 0,
	   "rewrap with a new password");
	ok(read_conf(dir, after) > 0 && strstr(after, "salt = ") &&
		   strncmp(strstr(before, "salt = "), strstr(after, "salt = "), 71) != 0 &&
		   strncmp(strstr(before, "wrap_nonce = "), strstr(after, "wrap_nonce = "), 37) != 0,
	   "new salt and new nonce");
	ok(vl_vault_open(&v, dir, NULL, PW, PWLEN, err, sizeof(err)) == -EACCES, "old password refused");
	r = vl_vault_open(&v, dir, NULL, "new password", 12, err, sizeof(err));
	ok(r == 0 && v && vl_vault_block_size(v) == 16384, "new password opens");
	vl_vault_free(v);
	v = NULL;

	/* Recovery with the master key. */
	r = vl_vault_open_master(&v, dir, NULL, master, err, sizeof(err));
	ok(r == 0 && v && !memcmp(vl_vault_root_id(v), rid, VL_DIRID_LEN) && vl_vault_name_max(v) == 100,
	   "open with the master key reads the config's settings");
	vl_vault_free(v);
	v = NULL;

	/* Config outside the cipherdir. */
	snprintf(cpath, sizeof(cpath), "%s/my.conf", odir);
	{
		char cdir[PATH_MAX];

		tc_tmpdir(cdir);
		r = vl_vault_create(cdir, cpath, &cfg, PW, PWLEN, m2, err, sizeof(err));
		ok(r == 0, "create with --config outside (%s)", err);
		fd = conf_fd(cdir);
		ok(faccessat(fd, VL_CONFIG_FILE, F_OK, 0) < 0 && faccessat(fd, VL_DIRID_FILE, F_OK, 0) == 0,
		   "no config in the cipherdir, root ID file there");
		close(fd);
		ok(vl_vault_open(&v, cdir, NULL, PW, PWLEN, err, sizeof(err)) == -ENOENT,
		   "open without --config: ENOENT");
		r = vl_vault_open(&v, cdir, cpath, PW, PWLEN, err, sizeof(err));
		ok(r == 0 && v, "open with --config");
		vl_vault_free(v);
		v = NULL;
		ok(vl_vault_rewrap(cdir, cpath, &cfg, m2, "pw2", 3, err, sizeof(err)) == 0 &&
			   vl_vault_open(&v, cdir, cpath, "pw2", 3, err, sizeof(err)) == 0,
		   "rewrap of an outside config");
		vl_vault_free(v);
		v = NULL;
		tc_rmrf(cdir);
		tc_tmpdir(cdir);
		r = vl_vault_create(cdir, cpath, &cfg, PW, PWLEN, m2, err, sizeof(err));
		fd = conf_fd(cdir);
		ok(r == -EEXIST && faccessat(fd, VL_DIRID_FILE, F_OK, 0) < 0,
		   "create does not overwrite an existing outside config (%s)", err);
		close(fd);
		tc_rmrf(cdir);
	}
	/* Symlinked config path is refused (O_NOFOLLOW). */
	{
		char lpath[PATH_MAX + 32];

		snprintf(lpath, sizeof(lpath), "%s/link.conf", odir);
		ok(symlink(cpath, lpath) == 0 && vl_vault_read_config(dir, lpath, &rc, err, sizeof(err)) == -ELOOP,
		   "config path that is a symlink: ELOOP");
	}

	vl_wipe(master, sizeof(master));
	vl_wipe(m2, sizeof(m2));
	tc_rmrf(odir);
	tc_rmrf(dir);
	return done_testing();
}
