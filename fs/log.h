/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Logging for the daemon and the tools: stderr while in the foreground, syslog once
 * daemonized. Never logs plaintext names or contents of a vault. */
#ifndef VEILFS_FS_LOG_H
#define VEILFS_FS_LOG_H

#include <stddef.h>
#include <stdint.h>

enum vl_log_level { VL_LOG_ERR, VL_LOG_WARN, VL_LOG_INFO, VL_LOG_DEBUG };

void vl_log_to_syslog(const char *ident);
/* Formats a one-line error reason into err (errcap bytes, NUL-terminated); err == NULL or
 * errcap == 0 is a no-op. Used by the library calls that explain a failure to the tools. */
void vl_seterr(char *err, size_t errcap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void vl_log_set_debug(int on);
void vl_log(enum vl_log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Logs an authentication failure of block `block` of the ciphertext file open as fd, once
 * per (file, block) for the life of the process (later ones are counted, not logged).
 * block == UINT64_MAX means the header (or an impossible ciphertext size). */
void vl_log_corrupt_block(int fd, uint64_t block);
/* The same with the reason instead of "corrupt" (the header when block is UINT64_MAX): for
 * example "authentic but misplaced" for a header bound to another entry. */
void vl_log_bad_block(int fd, uint64_t block, const char *why);
/* The why of vl_log_bad_block for an authentic format-2 header bound elsewhere. One text,
 * so that a lookup and a listing of the same file log one line (the key is the file). */
#define VL_MISPLACED_TEXT \
	"misplaced (authentic, but bound to another directory or name: moved, copied or swapped here)"
/* Logs a problem with a ciphertext entry (undecryptable name, bad sidecar, ...) once. */
void vl_log_bad_entry(int dirfd, const char *diskname, const char *what);
/* How many repeated corruption/bad-entry reports were counted but not logged. */
unsigned long vl_log_suppressed(void);

#endif
