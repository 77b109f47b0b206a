/* SPDX-License-Identifier: GPL-2.0-or-later */
/* An unlocked vault: the root directory fd, the config and the subkeys. Shared by the
 * daemon and veilctl. */
#ifndef VEILFS_FS_VAULT_H
#define VEILFS_FS_VAULT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../crypto/common.h"
#include "../crypto/config.h"
#include "../crypto/content.h"

struct vl_keys;
struct vl_vault;
struct vl_dirinfo;

/* Error codes of vault opening that the tools map to exit statuses. */
#define VL_EPASSWORD EACCES	/* wrong password or modified config */
#define VL_EFORMAT EPROTONOSUPPORT /* unknown version or feature */

/* Reads the config (config_path, or CIPHERDIR/veilfs.conf when NULL) without unlocking.
 * -errno on error with a one-line reason in err. */
int vl_vault_read_config(const char *cipherdir, const char *config_path, struct vl_config *cfg,
			 char *err, size_t errcap) VL_MUST_CHECK;
/* Opens and unlocks a vault with a password. On error returns -errno (-EACCES: wrong
 * password or modified config; -EPROTONOSUPPORT: unknown format/feature; -EINVAL: bad
 * config; -ENOENT ...) with a one-line reason in err. */
int vl_vault_open(struct vl_vault **out, const char *cipherdir, const char *config_path,
		  const char *pw, size_t pwlen, char *err, size_t errcap) VL_MUST_CHECK;
/* Opens a vault with the master key itself (recovery), reading block size and name_max from
 * the config if present, else using the format's defaults (4096, 220; a warning is logged).
 * A config that exists but does not parse is an error. */
int vl_vault_open_master(struct vl_vault **out, const char *cipherdir, const char *config_path,
			 const uint8_t master[static VL_MASTER_KEY_LEN], char *err,
			 size_t errcap) VL_MUST_CHECK;
/* Creates a new vault: cipherdir must exist and be empty (but for a foreign config path).
 * Writes the config (atomically) and the root's veilfs.dirid. Returns the new master key in
 * master_out (caller wipes). cfg supplies block_size, name_max and scrypt costs. */
int vl_vault_create(const char *cipherdir, const char *config_path, const struct vl_config *cfg,
		    const char *pw, size_t pwlen, uint8_t master_out[static VL_MASTER_KEY_LEN],
		    char *err, size_t errcap) VL_MUST_CHECK;
/* Rewraps the master key with a new password (new salt and nonce), atomically. */
int vl_vault_rewrap(const char *cipherdir, const char *config_path, const struct vl_config *cfg,
		    const uint8_t master[static VL_MASTER_KEY_LEN], const char *newpw,
		    size_t newpwlen, char *err, size_t errcap) VL_MUST_CHECK;
/* A second view of vault v that reads and writes as format `format` (its own copy of the keys
 * and of the root fd): veilctl upgrade reads format-1 items and writes format-2 ones. 0 or
 * -errno. */
int vl_vault_view(const struct vl_vault *v, unsigned format, struct vl_vault **out) VL_MUST_CHECK;
/* Closes the root fd, wipes and frees the keys; NULL is a no-op. */
void vl_vault_free(struct vl_vault *v);

/* Format 2 vaults with the "upgrading" feature are refused by vl_vault_open*() (-EBUSY, with
 * a message saying to run veilctl upgrade) unless the process called this first (veilctl
 * upgrade does). */
void vl_vault_allow_upgrading(void);

int vl_vault_rootfd(const struct vl_vault *v);
/* The vault's format: VL_FORMAT_V1 or VL_FORMAT_V2. */
unsigned vl_vault_format(const struct vl_vault *v);
/* True while a format-2 vault has the "upgrading" feature (FORMAT.md §10). */
bool vl_vault_upgrading(const struct vl_vault *v);
/* The config as read (never the password material: salt and wrapped key are public). */
const struct vl_config *vl_vault_config(const struct vl_vault *v);
/* The content layout of a file whose on-disk name is long (long_name) or not. */
struct vl_layout vl_vault_layout(const struct vl_vault *v, bool long_name);
const struct vl_keys *vl_vault_keys(const struct vl_vault *v);
uint32_t vl_vault_block_size(const struct vl_vault *v);
uint32_t vl_vault_name_max(const struct vl_vault *v);
const uint8_t *vl_vault_root_id(const struct vl_vault *v);
/* The root directory's info, as read when the vault was opened (FORMAT.md §5.4). */
const struct vl_dirinfo *vl_vault_root_info(const struct vl_vault *v);

#endif
