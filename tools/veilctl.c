/* SPDX-License-Identifier: GPL-2.0-or-later */
/* veilctl: create, inspect, check and read veilfs vaults without mounting them.
 * This file: main(), the shared helpers, and init, passwd, info, speed. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../crypto/config.h"
#include "../crypto/content.h"
#include "../crypto/dirid.h"
#include "../crypto/kdf.h"
#include "../crypto/keys.h"
#include "../crypto/names.h"
#include "../crypto/secmem.h"
#include "../fs/backing.h"
#include "../fs/feedback.h"
#include "../fs/log.h"
#include "../fs/recovery.h"
#include "../fs/vault.h"
#include "../fs/vaultinfo.h"
#include "progress.h"
#include "veilctl.h"

struct vc_common vc;

void vc_err(const char *fmt, ...)
{
	va_list ap;

	vc_progress_clear();
	fputs("veilctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int vc_usage(const char *usage)
{
	fprintf(stderr, "usage: %s\nTry `veilctl COMMAND --help' or man veilctl.\n", usage);
	return VL_EXIT_USAGE;
}

void vc_getopt_reset(void)
{
	optind = 0; /* GNU: full re-initialisation, then starts at argv[1] */
	opterr = 1;
}

bool vc_common_opt(int c, const char *arg)
{
	switch (c) {
	case VC_OPT_PASSFILE:
		vc.pw.passfile = arg;
		return true;
	case VC_OPT_EXTPASS:
		vc.pw.extpass = arg;
		return true;
	case VC_OPT_CONFIG:
		vc.config = arg;
		return true;
	}
	return false;
}

int vc_exit_for(int r)
{
	switch (-r) {
	case ENOENT:
		return VL_EXIT_NOTFOUND;
	case VL_EFORMAT:
	case EINVAL:
	case EFBIG:
		return VL_EXIT_CONFIG;
	case VL_EPASSWORD:
		return VL_EXIT_PASSWORD;
	}
	return VL_EXIT_FAILURE;
}

/* Config problems are reported before a password is asked for. */
static int read_config(const char *cipherdir, struct vl_config *cfg)
{
	char err[512] = "";
	struct stat st;
	int r;

	if (stat(cipherdir, &st) < 0 || !S_ISDIR(st.st_mode)) {
		vc_err("%s is not a directory: %s", cipherdir, errno ? strerror(errno) : "not a directory");
		return VL_EXIT_FAILURE;
	}
	r = vl_vault_read_config(cipherdir, vc.config, cfg, err, sizeof(err));
	if (r == -ENOENT) {
		vc_err("%s: no veilfs.conf (not a vault? use --config FILE if it is kept elsewhere)",
		       cipherdir);
		return VL_EXIT_CONFIG;
	}
	if (r < 0) {
		vc_err("%s", err);
		return r == -ENOMEM ? VL_EXIT_FAILURE : VL_EXIT_CONFIG;
	}
	return VL_EXIT_OK;
}

/* Password errors: no source is exit 5, anything but memory trouble too (the source could
 * not give a password). */
static int password_get(const struct vl_pwsrc *src, const char *prompt, bool confirm, char **pw,
			size_t *len)
{
	char err[256] = "";
	int r = vl_password_get(src, prompt, confirm, pw, len, err, sizeof(err));

	if (r == 0)
		return VL_EXIT_OK;
	if (r == -ENOTTY)
		vc_err("%s (give --passfile FILE or --extpass CMD, or pipe the password in)",
		       err[0] ? err : "no password source: cannot open /dev/tty");
	else
		vc_err("%s", err[0] ? err : strerror(-r));
	return r == -ENOMEM ? VL_EXIT_FAILURE : VL_EXIT_NOPASS;
}

int vc_check_config(const char *cipherdir)
{
	struct vl_config cfg;
	int ex = read_config(cipherdir, &cfg);

	vl_wipe(&cfg, sizeof(cfg));
	return ex;
}

int vc_password(const char *prompt, char **pw, size_t *len)
{
	return password_get(&vc.pw, prompt, false, pw, len);
}

static void wrong_password(void)
{
	vc_err("wrong password (or veilfs.conf was modified); try again, or use `veilctl passwd --recovery'");
}

int vc_read_config(const char *cipherdir, struct vl_config *cfg)
{
	return read_config(cipherdir, cfg);
}

void vc_wrong_password(void)
{
	wrong_password();
}

int vc_unlock(const char *cipherdir, struct vl_vault **v)
{
	struct vl_feedback fb = { 0 };
	struct vl_config cfg;
	char err[512] = "";
	char *pw = NULL;
	size_t pwlen = 0;
	int ex, r;

	ex = read_config(cipherdir, &cfg);
	if (ex) {
		vl_wipe(&cfg, sizeof(cfg));
		return ex;
	}
	ex = password_get(&vc.pw, "Password: ", false, &pw, &pwlen);
	if (ex) {
		vl_wipe(&cfg, sizeof(cfg));
		return ex;
	}
	vl_feedback_begin(&fb, "unlocking", &cfg);
	vl_wipe(&cfg, sizeof(cfg));
	r = vl_vault_open(v, cipherdir, vc.config, pw, pwlen, err, sizeof(err));
	vl_feedback_end(&fb, r == 0);
	vl_password_free(pw, pwlen);
	if (r == -VL_EPASSWORD) {
		wrong_password();
		return VL_EXIT_PASSWORD;
	}
	if (r < 0) {
		vc_err("%s", err[0] ? err : strerror(-r));
		return r == -ENOENT || r == -VL_EFORMAT || r == -EINVAL || r == -EBUSY ? VL_EXIT_CONFIG :
											  VL_EXIT_FAILURE;
	}
	return VL_EXIT_OK;
}

/* Parses a decimal option value in [min, max]. */
static bool parse_uint(const char *s, unsigned long min, unsigned long max, unsigned long *out)
{
	char *end;
	unsigned long x;

	errno = 0;
	if (!s || *s < '0' || *s > '9')
		return false;
	x = strtoul(s, &end, 10);
	if (errno || *end || x < min || x > max)
		return false;
	*out = x;
	return true;
}

/* Block sizes may be given as 4096, 4K, 64K or 1M. */
static bool parse_size(const char *s, unsigned long *out)
{
	char *end;
	unsigned long x;

	errno = 0;
	if (!s || *s < '0' || *s > '9')
		return false;
	x = strtoul(s, &end, 10);
	if (errno)
		return false;
	if (*end == 'k' || *end == 'K') {
		x *= 1024;
		end++;
	} else if (*end == 'm' || *end == 'M') {
		x *= 1024 * 1024;
		end++;
	}
	if (*end)
		return false;
	*out = x;
	return true;
}

static bool valid_block_size(unsigned long bs)
{
	return bs >= VL_BLOCK_MIN && bs <= VL_BLOCK_MAX && (bs & (bs - 1)) == 0;
}

/* ---- init ---- */

/* Prints the recovery code with write(2) from secure memory: through stdio it would stay in
 * stdout's buffer, ordinary heap, for as long as the process runs (a blocked pipe, a slow
 * terminal). VL_EXIT_OK or VL_EXIT_FAILURE (stdout refused it). */
static int print_recovery(const char *code, const char *cipherdir)
{
	static const char fmt[] =
		"Recovery code (shown only now; write it down and keep it somewhere safe):\n\n"
		"    %.41s\n    %s\n\n"
		"Anyone with this code can decrypt the vault without the password. If the password\n"
		"is lost, `veilctl passwd --recovery %s' sets a new one with it.\n";
	size_t len = 0, done = 0;
	char *text = NULL;
	int n, e = ENOMEM;

	/* The only time the master key is shown. Two lines of 7 groups fit a terminal. */
	n = snprintf(NULL, 0, fmt, code, code + 42, cipherdir);
	if (n < 0)
		goto out;
	len = (size_t)n;
	text = vl_secure_alloc(len + 1);
	if (!text || snprintf(text, len + 1, fmt, code, code + 42, cipherdir) != n)
		goto out;
	e = EIO;
	if (fflush(stdout) != 0) /* keep the order of anything printed before */
		goto out;
	while (done < len) {
		ssize_t w = write(STDOUT_FILENO, text + done, len - done);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			e = w < 0 ? errno : EIO;
			goto out;
		}
		done += (size_t)w;
	}
	e = 0;
out:
	if (e != 0)
		vc_err("cannot print the recovery code on stdout: %s", strerror(e));
	vl_secure_free(text, len + 1);
	return e == 0 ? VL_EXIT_OK : VL_EXIT_FAILURE;
}

static const char init_usage[] =
	"veilctl init [--passfile FILE | --extpass CMD] [--block-size N] [--scrypt-log2n N]\n"
	"             [--name-max N] [--format 1|2] [--config FILE] CIPHERDIR";

static int cmd_init(int argc, char **argv)
{
	enum { O_BS = VC_OPT_FIRST_LOCAL, O_LOG2N, O_NAMEMAX, O_FORMAT };
	static const struct option lo[] = {
		VC_COMMON_LONGOPTS,
		{ "block-size", required_argument, NULL, O_BS },
		{ "scrypt-log2n", required_argument, NULL, O_LOG2N },
		{ "name-max", required_argument, NULL, O_NAMEMAX },
		{ "format", required_argument, NULL, O_FORMAT },
		{ 0 },
	};
	struct vl_config cfg = {
		.format = VL_FORMAT_VERSION,
		.block_size = VL_DEFAULT_BLOCK,
		.name_max = VL_DEFAULT_NAME_MAX,
		.scrypt_log2_n = VL_SCRYPT_DEFAULT_LOG2N,
		.scrypt_r = 8,
		.scrypt_p = 1,
	};
	struct vl_feedback fb = { 0 };
	uint8_t *master = NULL;
	char *code = NULL; /* the recovery code is the master key: secure memory */
	char err[512] = "";
	const char *cipherdir;
	char *pw = NULL;
	size_t pwlen = 0;
	unsigned long x;
	struct stat st;
	int c, ex = VL_EXIT_FAILURE, r;

	vc_getopt_reset();
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		if (vc_common_opt(c, optarg))
			continue;
		switch (c) {
		case 'h':
			printf("usage: %s\n\nCreates a vault in the empty directory CIPHERDIR and prints its recovery code.\n"
			       "The password is asked twice on a terminal; from a pipe or file on standard input\n"
			       "(or --passfile -) its first line is read, once.\n",
			       init_usage);
			return VL_EXIT_OK;
		case O_BS:
			if (!parse_size(optarg, &x) || !valid_block_size(x)) {
				vc_err("--block-size: a power of two from 4096 to 1048576 (4K ... 1M), not %s", optarg);
				return VL_EXIT_USAGE;
			}
			cfg.block_size = (uint32_t)x;
			break;
		case O_LOG2N:
			if (!parse_uint(optarg, VL_SCRYPT_MIN_LOG2N, VL_SCRYPT_MAX_LOG2N, &x)) {
				vc_err("--scrypt-log2n: %d to %d, not %s", VL_SCRYPT_MIN_LOG2N,
				       VL_SCRYPT_MAX_LOG2N, optarg);
				return VL_EXIT_USAGE;
			}
			cfg.scrypt_log2_n = (unsigned)x;
			break;
		case O_NAMEMAX:
			if (!parse_uint(optarg, 64, 255, &x)) {
				vc_err("--name-max: 64 to 255, not %s", optarg);
				return VL_EXIT_USAGE;
			}
			cfg.name_max = (uint32_t)x;
			break;
		case O_FORMAT:
			/* Format 1 only for devices that cannot run a format-2 veilfs yet
			 * (FORMAT.md §10). */
			if (!parse_uint(optarg, VL_FORMAT_V1, VL_FORMAT_V2, &x)) {
				vc_err("--format: 1 or 2, not %s", optarg);
				return VL_EXIT_USAGE;
			}
			cfg.format = (unsigned)x;
			break;
		default:
			return vc_usage(init_usage);
		}
	}
	if (argc - optind != 1)
		return vc_usage(init_usage);
	cipherdir = argv[optind];
	/* Check what we can before asking for a password twice. */
	if (stat(cipherdir, &st) < 0 || !S_ISDIR(st.st_mode)) {
		vc_err("%s: not an existing directory (create it first)", cipherdir);
		return VL_EXIT_FAILURE;
	}
	ex = password_get(&vc.pw, "New password: ", true, &pw, &pwlen);
	if (ex)
		return ex;
	master = vl_secure_alloc(VL_MASTER_KEY_LEN);
	code = vl_secure_alloc(VL_RECOVERY_MAX);
	if (!master || !code) {
		vc_err("cannot allocate secure memory");
		ex = VL_EXIT_FAILURE;
		goto out;
	}
	vl_feedback_begin(&fb, "deriving the key from the password", &cfg);
	r = vl_vault_create(cipherdir, vc.config, &cfg, pw, pwlen, master, err, sizeof(err));
	vl_feedback_end(&fb, r == 0);
	if (r < 0) {
		vc_err("%s", err[0] ? err : strerror(-r));
		ex = r == -EINVAL ? VL_EXIT_USAGE : VL_EXIT_FAILURE;
		goto out;
	}
	r = vl_recovery_encode(master, code, VL_RECOVERY_MAX);
	if (r < 0) {
		vc_err("cannot encode the recovery code");
		ex = VL_EXIT_FAILURE;
		goto out;
	}
	fprintf(stderr, "veilctl: created a vault in %s (format %u, block size %u, scrypt N = 2^%u)\n",
		cipherdir, cfg.format, cfg.block_size, cfg.scrypt_log2_n);
	ex = print_recovery(code, cipherdir);
out:
	vl_secure_free(code, VL_RECOVERY_MAX);
	vl_secure_free(master, VL_MASTER_KEY_LEN);
	vl_password_free(pw, pwlen);
	vl_wipe(&cfg, sizeof(cfg));
	return ex;
}

/* ---- passwd ---- */

static const char passwd_usage[] =
	"veilctl passwd [--passfile FILE | --extpass CMD] [--new-passfile FILE] [--config FILE] CIPHERDIR\n"
	"       veilctl passwd --recovery [--new-passfile FILE] [--config FILE] CIPHERDIR";

/* Reads the recovery code: a no-echo prompt on a terminal, else all of stdin. */
static int read_recovery(uint8_t master[static VL_MASTER_KEY_LEN])
{
	char err[256] = "";
	char buf[1024];
	char *text = NULL;
	size_t len = 0;
	int ex = VL_EXIT_NOPASS, r;

	if (isatty(STDIN_FILENO)) {
		struct vl_pwsrc none = { 0 };

		ex = password_get(&none, "Recovery code: ", false, &text, &len);
		if (ex)
			return ex;
		r = vl_recovery_decode(text, len, master, err, sizeof(err));
		vl_password_free(text, len);
	} else {
		ssize_t n;

		while (len < sizeof(buf) && (n = read(STDIN_FILENO, buf + len, sizeof(buf) - len)) != 0) {
			if (n < 0) {
				if (errno == EINTR)
					continue;
				vc_err("cannot read the recovery code from stdin: %s", strerror(errno));
				goto out;
			}
			len += (size_t)n;
		}
		if (len == 0) {
			vc_err("no recovery code on stdin (type it on a terminal, or pipe it in)");
			goto out;
		}
		r = vl_recovery_decode(buf, len, master, err, sizeof(err));
	}
	if (r < 0) {
		vc_err("recovery code: %s", err);
		ex = VL_EXIT_PASSWORD;
		goto out;
	}
	ex = VL_EXIT_OK;
out:
	vl_wipe(buf, sizeof(buf));
	return ex;
}

/* Does master belong to the vault? The root's veilfs.dirid is HMAC(K_dirid, ...) of the
 * master key, so a wrong key cannot match it. Without that file, any short name in the root
 * must decrypt. 0, -EACCES (not this vault's key) or -errno. */
static int check_master(const char *cipherdir, const uint8_t master[static VL_MASTER_KEY_LEN])
{
	uint8_t want[VL_DIRID_LEN], have[VL_DIRID_LEN], file[VL_IDFILE_MAX];
	struct vl_keys *keys = NULL;
	struct dirent *de;
	DIR *d = NULL;
	int rootfd = -1, r;
	ssize_t n;

	r = vl_keys_new(&keys, master);
	if (r < 0)
		goto out;
	r = vl_dirid_root(keys, want);
	if (r < 0)
		goto out;
	rootfd = open(cipherdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0) {
		r = -errno;
		goto out;
	}
	n = vl_read_small(rootfd, VL_DIRID_FILE, file, sizeof(file));
	if (n >= 0) {
		struct vl_idfile f;

		/* Format 2: the root's ID file authenticates only under the vault's own K_meta;
		 * format 1: it holds ID_root, which only the vault's key derives. */
		if (vl_idfile_parse(keys, file, (size_t)n, &f) == 0)
			r = vl_ct_equal(want, f.id, sizeof(want)) ? 0 : -EACCES;
		else if (vl_dirid_file_parse(file, (size_t)n, have) == 0)
			r = vl_ct_equal(want, have, sizeof(want)) ? 0 : -EACCES;
		else
			r = -EACCES;
		goto out;
	}
	d = fdopendir(rootfd);
	if (!d) {
		r = -errno;
		goto out;
	}
	rootfd = -1;
	r = 0;
	while ((de = readdir(d))) {
		char name[256];
		enum vl_kind kind;
		size_t len = strlen(de->d_name);

		if (vl_name_classify(de->d_name, len) != VL_ONDISK_SHORT)
			continue;
		if (vl_name_decrypt(keys, want, de->d_name, len, name, sizeof(name), &kind) >= 0) {
			vl_wipe(name, sizeof(name));
			r = 0;
			break;
		}
		r = -EACCES;
	}
out:
	if (d)
		closedir(d);
	if (rootfd >= 0)
		close(rootfd);
	vl_keys_free(keys);
	return r;
}

static int cmd_passwd(int argc, char **argv)
{
	enum { O_NEWPASS = VC_OPT_FIRST_LOCAL, O_RECOVERY };
	static const struct option lo[] = {
		VC_COMMON_LONGOPTS,
		{ "new-passfile", required_argument, NULL, O_NEWPASS },
		{ "recovery", no_argument, NULL, O_RECOVERY },
		{ 0 },
	};
	struct vl_pwsrc newsrc = { 0 };
	struct vl_feedback fb = { 0 };
	struct vl_config cfg;
	char err[512] = "";
	char *pw = NULL, *newpw = NULL;
	size_t pwlen = 0, newlen = 0;
	uint8_t *master = NULL;
	bool recovery = false;
	const char *cipherdir;
	int c, ex, r;

	vc_getopt_reset();
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		if (vc_common_opt(c, optarg))
			continue;
		switch (c) {
		case 'h':
			printf("usage: %s\n\nChanges the vault's password: new salt, new nonce, the whole config replaced.\n"
			       "--recovery reads the recovery code (from the terminal, or all of stdin) instead of the old password.\n"
			       "When standard input is not a terminal, each password not given by a file is the next\n"
			       "line of stdin: the old password on line 1, the new one on line 2 (read once).\n",
			       passwd_usage);
			return VL_EXIT_OK;
		case O_NEWPASS:
			newsrc.passfile = optarg;
			break;
		case O_RECOVERY:
			recovery = true;
			break;
		default:
			return vc_usage(passwd_usage);
		}
	}
	if (argc - optind != 1)
		return vc_usage(passwd_usage);
	if (recovery && (vc.pw.passfile || vc.pw.extpass)) {
		vc_err("--recovery replaces the old password: give the new one with --new-passfile");
		return VL_EXIT_USAGE;
	}
	/* Without a terminal, the recovery code takes all of stdin: no line is left for the
	 * new password. */
	if (recovery && !isatty(STDIN_FILENO) &&
	    (!newsrc.passfile || vl_passfile_is_stdin(newsrc.passfile))) {
		vc_err("--recovery reads the recovery code from standard input, which is not a "
		       "terminal: give the new password with --new-passfile FILE");
		return VL_EXIT_USAGE;
	}
	cipherdir = argv[optind];
	ex = read_config(cipherdir, &cfg);
	if (ex)
		return ex;
	master = vl_secure_alloc(VL_MASTER_KEY_LEN);
	if (!master) {
		vc_err("cannot allocate secure memory");
		ex = VL_EXIT_FAILURE;
		goto out;
	}
	if (recovery) {
		ex = read_recovery(master);
		if (ex)
			goto out;
		r = check_master(cipherdir, master);
		if (r == -EACCES) {
			vc_err("this recovery code does not belong to the vault in %s", cipherdir);
			ex = VL_EXIT_PASSWORD;
			goto out;
		}
		if (r < 0) {
			vc_err("cannot check the recovery code against %s: %s", cipherdir, strerror(-r));
			ex = VL_EXIT_FAILURE;
			goto out;
		}
	} else {
		ex = password_get(&vc.pw, "Old password: ", false, &pw, &pwlen);
		if (ex)
			goto out;
		vl_feedback_begin(&fb, "checking the old password", &cfg);
		r = vl_config_unwrap(&cfg, pw, pwlen, master);
		vl_feedback_end(&fb, r == 0);
		if (r == -EACCES) {
			wrong_password();
			ex = VL_EXIT_PASSWORD;
			goto out;
		}
		if (r < 0) {
			vc_err("cannot unlock the vault: %s", strerror(-r));
			ex = VL_EXIT_FAILURE;
			goto out;
		}
	}
	ex = password_get(&newsrc, "New password: ", true, &newpw, &newlen);
	if (ex)
		goto out;
	vl_feedback_begin(&fb, "wrapping the key with the new password", &cfg);
	r = vl_vault_rewrap(cipherdir, vc.config, &cfg, master, newpw, newlen, err, sizeof(err));
	vl_feedback_end(&fb, r == 0);
	if (r < 0) {
		vc_err("%s", err[0] ? err : strerror(-r));
		ex = VL_EXIT_FAILURE;
		goto out;
	}
	fprintf(stderr, "veilctl: password changed; the old password no longer opens this config\n"
			"veilctl: (copies of the old veilfs.conf, e.g. in a cloud's version history, still open with it)\n");
	ex = VL_EXIT_OK;
out:
	vl_secure_free(master, VL_MASTER_KEY_LEN);
	vl_password_free(pw, pwlen);
	vl_password_free(newpw, newlen);
	vl_wipe(&cfg, sizeof(cfg));
	return ex;
}

/* ---- info ---- */

static const char info_usage[] = "veilctl info [--config FILE] CIPHERDIR|MOUNTPOINT";

static int cmd_info(int argc, char **argv)
{
	static const struct option lo[] = { VC_COMMON_LONGOPTS, { 0 } };
	char text[VL_VAULTINFO_MAX];
	struct vl_config cfg;
	const char *cipherdir;
	int c, ex;

	vc_getopt_reset();
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		if (vc_common_opt(c, optarg))
			continue;
		if (c == 'h') {
			printf("usage: %s\n\nShows a vault's settings; needs no password. Given the MOUNTPOINT of a\n"
			       "mounted vault, its daemon answers, with the mount's state.\n",
			       info_usage);
			return VL_EXIT_OK;
		}
		return vc_usage(info_usage);
	}
	if (argc - optind != 1)
		return vc_usage(info_usage);
	cipherdir = argv[optind];
	if (vc_mounted_call(cipherdir, VL_CTL_INFO, NULL, &ex))
		return ex;
	ex = read_config(cipherdir, &cfg);
	if (ex)
		return ex;
	printf("cipherdir: %s\n", cipherdir);
	if (vc.config)
		printf("config: %s\n", vc.config);
	else
		printf("config: %s/%s\n", cipherdir, VL_CONFIG_FILE);
	if (vl_vaultinfo_text(&cfg, text, sizeof(text)) < 0) {
		vc_err("cannot format the settings");
		ex = VL_EXIT_FAILURE;
	} else {
		fputs(text, stdout);
	}
	vl_wipe(&cfg, sizeof(cfg));
	return ex;
}

/* ---- speed ---- */

static const char speed_usage[] = "veilctl speed [--block-size N]";

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Seals and opens blocks of bs bytes for about 0.15 s each; MB/s into *seal and *open. */
static int speed_block(const struct vl_keys *keys, uint32_t bs, double *seal, double *open)
{
	uint8_t id[VL_FILEID_LEN] = { 1 };
	struct vl_filekey *fk = NULL;
	uint8_t *pt = NULL, *ct = NULL;
	unsigned long n;
	double t0, t;
	int r = -ENOMEM;

	pt = calloc(1, bs);
	ct = malloc((size_t)bs + VL_BLOCK_OVERHEAD);
	if (!pt || !ct)
		goto out;
	r = vl_filekey_new(&fk, keys, VL_STREAM_CONTENT, id);
	if (r < 0)
		goto out;
	t0 = now();
	for (n = 0, t = t0; t - t0 < 0.15; n++) {
		r = vl_block_seal(fk, n, false, pt, bs, ct, (size_t)bs + VL_BLOCK_OVERHEAD);
		if (r < 0)
			goto out;
		if ((n & 7) == 0)
			t = now();
	}
	t = now();
	*seal = (double)n * bs / (t - t0) / 1e6;
	r = vl_block_seal(fk, 0, false, pt, bs, ct, (size_t)bs + VL_BLOCK_OVERHEAD);
	if (r < 0)
		goto out;
	t0 = now();
	for (n = 0, t = t0; t - t0 < 0.15; n++) {
		r = vl_block_open(fk, 0, false, ct, (size_t)bs + VL_BLOCK_OVERHEAD, pt, bs);
		if (r < 0)
			goto out;
		if ((n & 7) == 0)
			t = now();
	}
	t = now();
	*open = (double)n * bs / (t - t0) / 1e6;
	r = 0;
out:
	vl_filekey_free(fk);
	free(pt);
	free(ct);
	return r;
}

static int cmd_speed(int argc, char **argv)
{
	enum { O_BS = VC_OPT_FIRST_LOCAL };
	static const struct option lo[] = {
		{ "block-size", required_argument, NULL, O_BS },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	static const uint32_t sizes[] = { 4096, 8192, 16384, 32768, 65536, 131072, 1048576 };
	uint8_t master[VL_MASTER_KEY_LEN], dirid[VL_DIRID_LEN] = { 0 }, salt[VL_SALT_LEN] = { 0 };
	struct vl_keys *keys = NULL;
	char enc[VL_ENCNAME_MAX + 1], dec[256], kek[32];
	unsigned long one = 0, n;
	enum vl_kind kind;
	double t0, t, s, o;
	int c, ex = VL_EXIT_FAILURE, r;

	vc_getopt_reset();
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'h':
			printf("usage: %s\n\nMeasures block encryption and decryption per block size, name\n"
			       "encryption, and the unlock time at the default scrypt cost. No vault needed.\n",
			       speed_usage);
			return VL_EXIT_OK;
		case O_BS:
			if (!parse_size(optarg, &one) || !valid_block_size(one)) {
				vc_err("--block-size: a power of two from 4096 to 1048576, not %s", optarg);
				return VL_EXIT_USAGE;
			}
			break;
		default:
			return vc_usage(speed_usage);
		}
	}
	if (argc != optind)
		return vc_usage(speed_usage);
	if (vl_random(master, sizeof(master)) < 0 || vl_keys_new(&keys, master) < 0) {
		vc_err("cannot set up keys");
		goto out;
	}
	printf("%-10s %12s %12s\n", "block", "seal MB/s", "open MB/s");
	fflush(stdout);
	/* the block sizes, names, unlock; each row is cleared off the status line first */
	vc_progress_begin("speed", "measurements",
			  (one ? 1 : sizeof(sizes) / sizeof(sizes[0])) + 2, 0);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		if (one && sizes[i] != one)
			continue;
		r = speed_block(keys, sizes[i], &s, &o);
		if (r < 0) {
			vc_err("block size %u: %s", sizes[i], strerror(-r));
			goto out;
		}
		vc_progress_clear();
		if (sizes[i] >= 1048576)
			printf("%-10s %12.1f %12.1f\n", "1M", s, o);
		else
			printf("%-10u %12.1f %12.1f\n", sizes[i] / 1024, s, o);
		fflush(stdout);
		vc_progress_item(1);
	}
	/* Names: a typical 20-byte file name. */
	t0 = now();
	for (n = 0, t = t0; t - t0 < 0.15; n++) {
		if (vl_name_encrypt(keys, dirid, "holiday-photo-12.jpg", 20, VL_KIND_PLAIN, enc, sizeof(enc)) < 0) {
			vc_err("name encryption failed");
			goto out;
		}
		if ((n & 15) == 0)
			t = now();
	}
	t = now();
	s = (double)n / (t - t0);
	t0 = now();
	for (n = 0, t = t0; t - t0 < 0.15; n++) {
		if (vl_name_decrypt(keys, dirid, enc, strlen(enc), dec, sizeof(dec), &kind) < 0) {
			vc_err("name decryption failed");
			goto out;
		}
		if ((n & 15) == 0)
			t = now();
	}
	t = now();
	o = (double)n / (t - t0);
	vc_progress_clear();
	printf("names: %.0f encrypted/s, %.0f decrypted/s\n", s, o);
	fflush(stdout);
	vc_progress_item(1);
	t0 = now();
	r = vl_scrypt((uint8_t *)kek, sizeof(kek), "password", 8, salt, sizeof(salt),
		      VL_SCRYPT_DEFAULT_LOG2N, 8, 1);
	t = now();
	if (r < 0) {
		vc_err("scrypt failed: %s", strerror(-r));
		goto out;
	}
	vc_progress_item(1);
	vc_progress_end();
	printf("unlock: %.2f s (scrypt N = 2^%d, r = 8, p = 1, the default cost)\n", t - t0,
	       VL_SCRYPT_DEFAULT_LOG2N);
	ex = VL_EXIT_OK;
out:
	vc_progress_end();
	vl_wipe(master, sizeof(master));
	vl_wipe(kek, sizeof(kek));
	vl_keys_free(keys);
	return ex;
}

/* ---- main ---- */

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *what;
} commands[] = {
	{ "init", cmd_init, "create a vault and show its recovery code" },
	{ "passwd", cmd_passwd, "change the password (or set a new one with the recovery code)" },
	{ "info", cmd_info, "show a vault's settings (no password)" },
	{ "fsck", cmd_fsck, "check (and with --repair, fix) a vault" },
	{ "ls", cmd_ls, "list plaintext names" },
	{ "cat", cmd_cat, "write a file's plaintext to stdout" },
	{ "export", cmd_export, "copy plaintext files out of a vault" },
	{ "import", cmd_import, "copy files into a vault without mounting it" },
	{ "encrypt-path", cmd_encrypt_path, "show the ciphertext path of a plaintext path" },
	{ "decrypt-path", cmd_decrypt_path, "show the plaintext path of a ciphertext path" },
	{ "conflicts", cmd_conflicts, "list sync conflict copies (--resolve-identical, --resolve-dirids)" },
	{ "upgrade", cmd_upgrade, "convert a format-1 vault to format 2 in place (resumable)" },
	{ "speed", cmd_speed, "measure encryption speed" },
	{ "run", cmd_run, "run a command that alone sees the vault mounted" },
};

static void main_help(FILE *f)
{
	fprintf(f, "usage: veilctl [--passfile FILE | --extpass CMD] [--config FILE] COMMAND [ARGS]\n\n"
		   "Commands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-13s %s\n", commands[i].name, commands[i].what);
	fprintf(f, "\nPasswords come from --passfile FILE (its first line), --extpass CMD, a no-echo prompt\n"
		   "on a terminal, or the first line of standard input when it is not a terminal\n"
		   "(--passfile - says so explicitly).\n"
		   "\n`veilctl COMMAND --help' describes a command; see veilctl(1).\n");
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		VC_COMMON_LONGOPTS,
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	int c, ex;

	/* First of all, before any secret exists: libcrypto allocates in the locked,
	 * non-dumpable pool, and this process can leave no core dump: every command but info
	 * holds a password or the vault's keys while it runs, and a core kept on disk would
	 * keep them. Non-dumpable also keeps other users' processes from ptrace. */
	if (vl_crypto_init() != 0 || vl_process_nodump() != 0) {
		vc_err("cannot set up protected memory for the keys");
		return VL_EXIT_FAILURE;
	}
	/* Global options stop at the command name ("+"). */
	while ((c = getopt_long(argc, argv, "+hV", lo, NULL)) != -1) {
		if (vc_common_opt(c, optarg))
			continue;
		switch (c) {
		case 'h':
			main_help(stdout);
			return VL_EXIT_OK;
		case 'V':
			printf("veilctl %s (format %d)\n", PACKAGE_VERSION, VL_FORMAT_VERSION);
			return VL_EXIT_OK;
		default:
			main_help(stderr);
			return VL_EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		main_help(stderr);
		return VL_EXIT_USAGE;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(argv[optind], commands[i].name))
			continue;
		ex = commands[i].fn(argc - optind, argv + optind);
		if (fflush(stdout) != 0 || ferror(stdout)) {
			vc_err("write error on stdout");
			if (ex == VL_EXIT_OK)
				ex = VL_EXIT_FAILURE;
		}
		vl_crypto_thread_cleanup();
		return ex;
	}
	vc_err("unknown command `%s'", argv[optind]);
	main_help(stderr);
	return VL_EXIT_USAGE;
}
