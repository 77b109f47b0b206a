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

struct vl_keys;
struct vl_vault;

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
/* Closes the root fd, wipes and frees the keys; NULL is a no-op. */
void vl_vault_free(struct vl_vault *v);

int vl_vault_rootfd(const struct vl_vault *v);
const struct vl_keys *vl_vault_keys(const struct vl_vault *v);
uint32_t vl_vault_block_size(const struct vl_vault *v);
uint32_t vl_vault_name_max(const struct vl_vault *v);
const uint8_t *vl_vault_root_id(const struct vl_vault *v);
/* The config the vault was opened with (its costs and sizes; the wrapped key is the one on
 * disk, not a secret). Valid as long as v. */
const struct vl_config *vl_vault_config(const struct vl_vault *v);

#endif
