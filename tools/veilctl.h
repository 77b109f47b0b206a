/* SPDX-License-Identifier: GPL-2.0-or-later */
/* veilctl internals shared by its command files. Every command returns an exit status of
 * fs/exitcodes.h; only main() exits. */
#ifndef VEILFS_TOOLS_VEILCTL_H
#define VEILFS_TOOLS_VEILCTL_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "../crypto/common.h"
#include "../crypto/config.h"
#include "../crypto/names.h"
#include "../fs/ctlproto.h"
#include "../fs/dirs.h"
#include "../fs/exitcodes.h"
#include "../fs/password.h"

struct vl_vault;

/* Options every command accepts, before or after the command name. */
struct vc_common {
	struct vl_pwsrc pw;
	const char *config;
};
extern struct vc_common vc;

enum {
	VC_OPT_PASSFILE = 256,
	VC_OPT_EXTPASS,
	VC_OPT_CONFIG,
	VC_OPT_FIRST_LOCAL, /* commands number their own long-only options from here */
};

#define VC_COMMON_LONGOPTS                                                                    \
	{ "passfile", required_argument, NULL, VC_OPT_PASSFILE },                             \
	{ "extpass", required_argument, NULL, VC_OPT_EXTPASS },                               \
	{ "config", required_argument, NULL, VC_OPT_CONFIG },                                 \
	{ "help", no_argument, NULL, 'h' }

/* For results that are deliberately ignored (best effort): GCC ignores a (void) cast on
 * warn_unused_result. */
static inline void vc_ignore(long r)
{
	(void)r;
}

/* Handles a common option returned by getopt_long: true if it was one. */
bool vc_common_opt(int c, const char *arg);
/* "veilctl: message" on stderr. */
void vc_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints usage to stderr with a hint and returns VL_EXIT_USAGE. */
int vc_usage(const char *usage);
/* getopt_long over a command's argv (argv[0] is the command name). Resets getopt. */
void vc_getopt_reset(void);

/* Reads the config (exit 4 on a bad one), gets the password and unlocks CIPHERDIR.
 * Returns VL_EXIT_OK and *v, or the exit status after printing why. */
int vc_unlock(const char *cipherdir, struct vl_vault **v);
/* Reads and checks CIPHERDIR's config without unlocking it, as vc_unlock does first: exit
 * status, after printing why. */
int vc_check_config(const char *cipherdir);
/* Reads CIPHERDIR's config (exit 4 on a bad one, with the message printed). */
int vc_read_config(const char *cipherdir, struct vl_config *cfg);
/* Gets the password from the common options' source (or the terminal, or stdin) into
 * secure memory (vl_password_free it): exit status, after printing why. */
int vc_password(const char *prompt, char **pw, size_t *len);
/* Says "wrong password" the way every command does. */
void vc_wrong_password(void);
/* Maps a -errno to an exit status for errors that are not about the password. */
int vc_exit_for(int r);

/* A growable path for messages: "a/b/c". */
struct vc_path {
	char *s;
	size_t len, cap;
};
/* Appends "/name" (or "name" when empty); returns the previous length for vc_path_pop. */
size_t vc_path_push(struct vc_path *p, const char *name);
void vc_path_pop(struct vc_path *p, size_t oldlen);
void vc_path_free(struct vc_path *p);
const char *vc_path_str(const struct vc_path *p);

/* A plaintext path resolved in the vault. */
struct vc_res {
	bool is_root;	      /* PATH was empty or "/" */
	int parentfd;	      /* backing dir holding the entry (-1 for the root) */
	struct vl_dirinfo pdi; /* the parent directory's IDs and place (unset for the root) */
	struct vl_ename e;    /* the entry's names (unset for the root) */
	struct stat st;	      /* fstatat of the entry (the root dir itself for the root) */
	struct vc_path cpath; /* ciphertext path relative to CIPHERDIR */
};
/* Resolves PATH component by component (vl_dir_lookup, directory IDs). 0, or -errno with
 * a reason in err (-ENOENT: VL_EXIT_NOTFOUND). Release with vc_res_free. */
int vc_resolve(struct vl_vault *v, const char *path, struct vc_res *res, char *err, size_t errcap);
void vc_res_free(struct vc_res *res);
/* Opens the resolved directory and reads its IDs (fs/dirinfo.h). fd or -errno. */
int vc_res_opendir(struct vl_vault *v, const struct vc_res *res, struct vl_dirinfo *di);
/* Opens subdirectory entry e of directory fd (info di) and reads its IDs. fd or -errno. */
int vc_subdir_open(struct vl_vault *v, int fd, const struct vl_dirinfo *di, const struct vl_ename *e,
		   struct vl_dirinfo *out);
/* The names of a listed entry: de->names, else made under the directory's primary ID. */
int vc_dirent_ename(struct vl_vault *v, const struct vl_dirinfo *di, const struct vl_dirent *de,
		    struct vl_ename *out);

/* When target (the first operand of info, encrypt-path or decrypt-path) is the root of a
 * mounted veilfs, asks its daemon over the control socket (no password), prints the answer
 * or the error, and returns true with the exit status in *ex. False when target is not a
 * veilfs mount: the command then treats it as a cipher directory. (tools/mounted.c) */
bool vc_mounted_call(const char *target, enum vl_ctl_op op, const char *arg, int *ex);

int cmd_fsck(int argc, char **argv);
int cmd_ls(int argc, char **argv);
int cmd_cat(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_import(int argc, char **argv);
int cmd_encrypt_path(int argc, char **argv);
int cmd_decrypt_path(int argc, char **argv);
int cmd_conflicts(int argc, char **argv);
int cmd_upgrade(int argc, char **argv);
int cmd_run(int argc, char **argv);

#endif
