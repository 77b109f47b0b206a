/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fs/vault.c: create, open, wrong password, modified config, rewrap, outside config,
 * recovery with the master key, on vaults of both formats; format 2's "upgrading" feature. */
#include "config.h"

#include "tap.h"
#include "core_util.h"

#include "crypto/dirid.h"
#include "crypto/names.h"
#include "crypto/secmem.h"
#include "fs/backing.h"
#include "fs/dirinfo.h"

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

static void run(unsigned fmt)
{
	const char *F = fmt == VL_FORMAT_V1 ? "format 1" : "format 2";
	const char *fline = fmt == VL_FORMAT_V1 ? "format = 1" : "format = 2";
	const char *fother = fmt == VL_FORMAT_V1 ? "format = 2" : "format = 1";
	uint8_t master[VL_MASTER_KEY_LEN], m2[VL_MASTER_KEY_LEN], rid[VL_DIRID_LEN];
	char dir[PATH_MAX], odir[PATH_MAX], cpath[PATH_MAX + 32], err[256];
	char before[VL_CONFIG_MAX + 1], after[VL_CONFIG_MAX + 1];
	struct vl_vault *v = NULL;
	struct vl_config cfg, rc;
	int r, fd;

	tc_cfg(&cfg, fmt, 16384, 100);
	tc_tmpdir(dir);
	err[0] = '\0';
	r = vl_vault_create(dir, NULL, &cfg, PW, PWLEN, master, err, sizeof(err));
	ok(r == 0, "%s: create (%s)", F, err);
	fd = conf_fd(dir);
	ok(faccessat(fd, VL_CONFIG_FILE, F_OK, 0) == 0 && faccessat(fd, VL_DIRID_FILE, F_OK, 0) == 0,
	   "%s: config and root veilfs.dirid written", F);
	{
		uint8_t buf[VL_IDFILE_MAX];
		/* Format 1: u16be(1) || ID; format 2: 36-byte head, the root place (18 bytes), MAC. */
		ssize_t want = fmt == VL_FORMAT_V1 ? VL_DIRID_FILE_LEN : 36 + 18 + VL_MAC_LEN;

		ok(vl_read_small(fd, VL_DIRID_FILE, buf, sizeof(buf)) == want && buf[0] == 0 &&
			   buf[1] == fmt,
		   "%s: the root's veilfs.dirid is the format's (%zd bytes, version %u)", F, want, fmt);
	}
	close(fd);
	r = vl_vault_open(&v, dir, NULL, PW, PWLEN, err, sizeof(err));
	ok(r == 0 && v, "%s: open with the right password", F);
	if (v) {
		ok(vl_vault_format(v) == fmt && !vl_vault_upgrading(v) &&
			   vl_vault_config(v)->format == fmt,
		   "%s: the vault's format is the config's", F);
		ok(vl_vault_block_size(v) == 16384 && vl_vault_name_max(v) == 100,
		   "%s: block size and name_max from the config", F);
		ok(vl_dirid_root(vl_vault_keys(v), rid) == 0 &&
			   !memcmp(rid, vl_vault_root_id(v), VL_DIRID_LEN),
		   "%s: root ID", F);
		ok(vl_vault_root_info(v)->root && (vl_vault_root_info(v)->flags & VL_DI_FILE) &&
			   !(vl_vault_root_info(v)->flags & VL_DI_BAD_FILES) && vl_vault_root_info(v)->nalt == 0,
		   "%s: the root's info: its ID file read, nothing else", F);
		ok(vl_vault_rootfd(v) >= 0, "%s: root fd", F);
		{
			struct vl_layout l = vl_vault_layout(v, false), ll = vl_vault_layout(v, true);

			ok(l.block_size == 16384 &&
				   l.hdrlen == (fmt == VL_FORMAT_V1 ? VL_HEADER_V1_LEN : VL_HEADER_SHORT_LEN) &&
				   ll.hdrlen == (fmt == VL_FORMAT_V1 ? VL_HEADER_V1_LEN : VL_HEADER_LONG_LEN) &&
				   l.empty_block == (fmt != VL_FORMAT_V1),
			   "%s: the content layouts of short and long names", F);
		}
	}
	vl_vault_free(v);
	vl_vault_free(NULL);
	v = NULL;

	ok(vl_vault_read_config(dir, NULL, &rc, err, sizeof(err)) == 0 && rc.block_size == 16384 &&
		   rc.scrypt_log2_n == 16 && rc.format == fmt,
	   "%s: read_config without a password", F);

	err[0] = '\0';
	r = vl_vault_open(&v, dir, NULL, "wrong", 5, err, sizeof(err));
	ok(r == -EACCES && !v && strstr(err, "wrong password, or the config file was modified"),
	   "%s: wrong password: EACCES (%s)", F, err);
	r = vl_vault_open(&v, dir, NULL, PW, PWLEN - 1, err, sizeof(err));
	ok(r == -EACCES, "%s: password missing its last byte: EACCES", F);

	/* Create refuses a non-empty directory and an existing vault. */
	err[0] = '\0';
	r = vl_vault_create(dir, NULL, &cfg, PW, PWLEN, m2, err, sizeof(err));
	ok(r == -ENOTEMPTY && strstr(err, "not empty"), "%s: create over a vault refused (%s)", F, err);
	tc_tmpdir(odir);
	fd = conf_fd(odir);
	close(openat(fd, "stray", O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
	r = vl_vault_create(odir, NULL, &cfg, PW, PWLEN, m2, err, sizeof(err));
	ok(r == -ENOTEMPTY, "%s: create in a non-empty directory refused", F);
	ok(unlinkat(fd, "stray", 0) == 0, "%s: empty it", F);
	r = vl_vault_create(odir, NULL, &cfg, "", 0, m2, err, sizeof(err));
	ok(r == -EINVAL && faccessat(fd, VL_CONFIG_FILE, F_OK, 0) < 0,
	   "%s: empty password refused, nothing written", F);
	{
		struct vl_config bad = cfg;

		bad.block_size = 3000;
		r = vl_vault_create(odir, NULL, &bad, PW, PWLEN, m2, err, sizeof(err));
		ok(r < 0 && faccessat(fd, VL_CONFIG_FILE, F_OK, 0) < 0,
		   "%s: block size 3000 refused, nothing written (%s)", F, err);
		bad = cfg;
		bad.scrypt_log2_n = 15;
		r = vl_vault_create(odir, NULL, &bad, PW, PWLEN, m2, err, sizeof(err));
		ok(r < 0 && faccessat(fd, VL_CONFIG_FILE, F_OK, 0) < 0, "%s: scrypt 2^15 refused (%s)", F,
		   err);
	}
	close(fd);
	ok(vl_vault_create("/nonexistent-veilfs-dir", NULL, &cfg, PW, PWLEN, m2, err, sizeof(err)) == -ENOENT,
	   "%s: create in a missing directory: ENOENT", F);

	/* Modified config fields: detected. */
	ok(edit_conf(dir, "block_size = 16384", "block_size = 32768") == 0, "%s: edit block_size", F);
	r = vl_vault_open(&v, dir, NULL, PW, PWLEN, err, sizeof(err));
	ok(r == -EACCES && !v, "%s: edited block_size: EACCES", F);
	ok(edit_conf(dir, "block_size = 32768", "block_size = 16384") == 0, "%s: restore block_size", F);
	/* The other supported format: the format line is authenticated like every other. */
	ok(edit_conf(dir, fline, fother) == 0, "%s: edit the format to the other one", F);
	err[0] = '\0';
	r = vl_vault_open(&v, dir, NULL, PW, PWLEN, err, sizeof(err));
	ok(r == -EACCES && !v, "%s: %s: EACCES (%s)", F, fother, err);
	ok(edit_conf(dir, fother, "format = 3") == 0, "%s: edit format to 3", F);
	err[0] = '\0';
	r = vl_vault_open(&v, dir, NULL, PW, PWLEN, err, sizeof(err));
	ok(r == -EPROTONOSUPPORT && !v && strstr(err, "not supported") && strstr(err, "formats 1 and 2"),
	   "%s: format 3: EPROTONOSUPPORT (%s)", F, err);
	ok(edit_conf(dir, "format = 3", fline) == 0, "%s: restore format", F);
	ok(edit_conf(dir, "scrypt_log2_n = 16", "scrypt_log2_n = 15") == 0, "%s: weaken scrypt", F);
	r = vl_vault_open(&v, dir, NULL, PW, PWLEN, err, sizeof(err));
	ok(r == -EINVAL, "%s: scrypt below the minimum: EINVAL (%s)", F, err);
	ok(edit_conf(dir, "scrypt_log2_n = 15", "scrypt_log2_n = 16") == 0, "%s: restore scrypt", F);
	r = vl_vault_open(&v, dir, NULL, PW, PWLEN, err, sizeof(err));
	ok(r == 0, "%s: opens again after restoring", F);
	vl_vault_free(v);
	v = NULL;

	/* Rewrap: new salt and nonce, old password no longer works. */
	ok(read_conf(dir, before) > 0, "%s: config read", F);
	r = vl_vault_read_config(dir, NULL, &rc, err, sizeof(err));
	ok(r == 0 && vl_vault_rewrap(dir, NULL, &rc, master, "new password", 12, err, sizeof(err)) == 0,
	   "%s: rewrap with a new password", F);
	ok(read_conf(dir, after) > 0 && strstr(after, "salt = ") &&
		   strncmp(strstr(before, "salt = "), strstr(after, "salt = "), 71) != 0 &&
		   strncmp(strstr(before, "wrap_nonce = "), strstr(after, "wrap_nonce = "), 37) != 0,
	   "%s: new salt and new nonce", F);
	ok(strstr(after, fline) != NULL, "%s: rewrap keeps the format", F);
	ok(vl_vault_open(&v, dir, NULL, PW, PWLEN, err, sizeof(err)) == -EACCES, "%s: old password refused",
	   F);
	r = vl_vault_open(&v, dir, NULL, "new password", 12, err, sizeof(err));
	ok(r == 0 && v && vl_vault_block_size(v) == 16384 && vl_vault_format(v) == fmt,
	   "%s: new password opens", F);
	vl_vault_free(v);
	v = NULL;

	/* Recovery with the master key. */
	r = vl_vault_open_master(&v, dir, NULL, master, err, sizeof(err));
	ok(r == 0 && v && !memcmp(vl_vault_root_id(v), rid, VL_DIRID_LEN) && vl_vault_name_max(v) == 100 &&
		   vl_vault_format(v) == fmt,
	   "%s: open with the master key reads the config's settings", F);
	vl_vault_free(v);
	v = NULL;

	/* Config outside the cipherdir. */
	snprintf(cpath, sizeof(cpath), "%s/my.conf", odir);
	{
		char cdir[PATH_MAX];

		tc_tmpdir(cdir);
		r = vl_vault_create(cdir, cpath, &cfg, PW, PWLEN, m2, err, sizeof(err));
		ok(r == 0, "%s: create with --config outside (%s)", F, err);
		fd = conf_fd(cdir);
		ok(faccessat(fd, VL_CONFIG_FILE, F_OK, 0) < 0 && faccessat(fd, VL_DIRID_FILE, F_OK, 0) == 0,
		   "%s: no config in the cipherdir, root ID file there", F);
		close(fd);
		ok(vl_vault_open(&v, cdir, NULL, PW, PWLEN, err, sizeof(err)) == -ENOENT,
		   "%s: open without --config: ENOENT", F);
		r = vl_vault_open(&v, cdir, cpath, PW, PWLEN, err, sizeof(err));
		ok(r == 0 && v && vl_vault_format(v) == fmt, "%s: open with --config", F);
		vl_vault_free(v);
		v = NULL;
		ok(vl_vault_rewrap(cdir, cpath, &cfg, m2, "pw2", 3, err, sizeof(err)) == 0 &&
			   vl_vault_open(&v, cdir, cpath, "pw2", 3, err, sizeof(err)) == 0,
		   "%s: rewrap of an outside config", F);
		vl_vault_free(v);
		v = NULL;
		tc_rmrf(cdir);
		tc_tmpdir(cdir);
		r = vl_vault_create(cdir, cpath, &cfg, PW, PWLEN, m2, err, sizeof(err));
		fd = conf_fd(cdir);
		ok(r == -EEXIST && faccessat(fd, VL_DIRID_FILE, F_OK, 0) < 0,
		   "%s: create does not overwrite an existing outside config (%s)", F, err);
		close(fd);
		tc_rmrf(cdir);
	}
	/* Symlinked config path is refused (O_NOFOLLOW). */
	{
		char lpath[PATH_MAX + 32];

		snprintf(lpath, sizeof(lpath), "%s/link.conf", odir);
		ok(symlink(cpath, lpath) == 0 && vl_vault_read_config(dir, lpath, &rc, err, sizeof(err)) == -ELOOP,
		   "%s: config path that is a symlink: ELOOP", F);
	}

	vl_wipe(master, sizeof(master));
	vl_wipe(m2, sizeof(m2));
	tc_rmrf(odir);
	tc_rmrf(dir);
}

/* Recovery without any config: the newest format's defaults. */
static void no_config(void)
{
	uint8_t master[VL_MASTER_KEY_LEN];
	char dir[PATH_MAX], err[256] = "";
	struct vl_vault *v = NULL;
	int r;

	memset(master, 0x42, sizeof(master));
	tc_tmpdir(dir);
	r = vl_vault_open_master(&v, dir, NULL, master, err, sizeof(err));
	ok(r == 0 && v && vl_vault_format(v) == VL_FORMAT_V2 && vl_vault_block_size(v) == 4096 &&
		   vl_vault_name_max(v) == 220,
	   "open with the master key and no config: format 2, block 4096, name_max 220 (%s)", err);
	ok(v && !(vl_vault_root_info(v)->flags & VL_DI_FILE), "and no root ID file was read or written");
	vl_vault_free(v);
	tc_rmrf(dir);
}

/* Format 2's "upgrading" feature (FORMAT.md §2, §10): refused until the process says it is
 * veilctl upgrade. Last: vl_vault_allow_upgrading cannot be taken back. */
static void upgrading(void)
{
	uint8_t master[VL_MASTER_KEY_LEN];
	char dir[PATH_MAX], text[VL_CONFIG_MAX + 1], err[256] = "";
	struct vl_vault *v = NULL;
	struct vl_config cfg;
	int r;

	tc_cfg(&cfg, VL_FORMAT_V2, 4096, 220);
	cfg.upgrading = true;
	tc_tmpdir(dir);
	r = vl_vault_create(dir, NULL, &cfg, PW, PWLEN, master, err, sizeof(err));
	ok(r == 0 && read_conf(dir, text) > 0 && strstr(text, "\nfeatures = upgrading\n"),
	   "a format-2 vault with the upgrading feature (%s)", err);
	err[0] = '\0';
	r = vl_vault_open(&v, dir, NULL, PW, PWLEN, err, sizeof(err));
	ok(r == -EBUSY && !v && strstr(err, "veilctl upgrade"), "open refused: EBUSY (%s)", err);
	err[0] = '\0';
	r = vl_vault_open_master(&v, dir, NULL, master, err, sizeof(err));
	ok(r == -EBUSY && !v && strstr(err, "veilctl upgrade"), "open with the master key refused: EBUSY");
	ok(edit_conf(dir, "upgrading", "xpgrading") == 0 &&
		   vl_vault_open(&v, dir, NULL, PW, PWLEN, err, sizeof(err)) == -EPROTONOSUPPORT &&
		   edit_conf(dir, "xpgrading", "upgrading") == 0,
	   "an unknown feature flag in its place: EPROTONOSUPPORT");
	vl_vault_allow_upgrading();
	r = vl_vault_open(&v, dir, NULL, PW, PWLEN, err, sizeof(err));
	ok(r == 0 && v && vl_vault_upgrading(v) && vl_vault_format(v) == VL_FORMAT_V2,
	   "veilctl upgrade (allowed) opens it and sees the feature");
	vl_vault_free(v);
	vl_wipe(master, sizeof(master));
	tc_rmrf(dir);
}

int main(void)
{
	if (vl_crypto_init() != 0) /* first: libcrypto allocates in the secure pool */
		return 99;
	run(VL_FORMAT_V1);
	run(VL_FORMAT_V2);
	no_config();
	upgrading();
	return done_testing();
}
