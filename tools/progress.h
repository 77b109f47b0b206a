/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Progress of a long veilctl command (fsck, export, import, conflicts, cat, speed; upgrade):
 * one status line on stderr, redrawn at most ten times a second, with a percentage when
 * the total is known, e.g.
 *     export: 12.3/45.6 MiB (27%), 120 files
 * Drawn only when stderr is a terminal: never in pipes or logs, and nothing is counted or
 * measured for it otherwise. One line per process: veilctl runs one command, so the state
 * is the process's (as the terminal is); not thread-safe.
 *
 * Use: count the totals (vc_progress_count_*) only when vc_progress_on(); _begin; _item
 * and _bytes as work is done; _clear before printing anything else on the terminal (vc_err
 * does); _end before the command's summary. */
#ifndef VEILFS_TOOLS_PROGRESS_H
#define VEILFS_TOOLS_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>

struct vl_vault;

/* True when a status line would be shown (stderr is a terminal). */
bool vc_progress_on(void);
/* Starts the line for command what ("fsck" ...): items counted in unit ("files",
 * "entries" ...; may be NULL when only bytes count), each total 0 when unknown. With a
 * byte total, bytes give the percentage; else items with an item total. Draws at once. */
void vc_progress_begin(const char *what, const char *unit, uint64_t items_total,
		       uint64_t bytes_total);
void vc_progress_item(uint64_t n);
void vc_progress_bytes(uint64_t n);
/* Erases the line; the next update draws it again. */
void vc_progress_clear(void);
/* Draws the final state, then erases the line and stops. No-op when not begun. */
void vc_progress_end(void);

/* Totals of a tree, for _begin. */
struct vc_tree_count {
	uint64_t dirs;	 /* directories below the top */
	uint64_t files;	 /* regular files */
	uint64_t names;	 /* every entry */
	uint64_t bytes;	 /* sizes of the regular files (plaintext sizes for a vault) */
	uint64_t cbytes; /* vault: their ciphertext sizes */
};
/* Counts the ciphertext tree below directory fd dirfd of vault v: every name but . and ..,
 * the helper files (veilfs.conf, veilfs.dirid and its copies) and format 1's sidecars, and
 * of those the directories, regular files, their ciphertext and plaintext sizes. Reads no contents and decrypts
 * nothing. Directories deeper than VC_COUNT_DEPTH make the total unknown: -ELOOP. 0 or
 * -errno (then the caller shows counts without a total). */
int vc_progress_count_vault(int dirfd, const struct vl_vault *v, struct vc_tree_count *c);
/* The same for an ordinary tree (import's source): name in dirfd, a file or a directory;
 * every entry is counted, bytes are the sizes of regular files. */
int vc_progress_count_plain(int dirfd, const char *name, struct vc_tree_count *c);

/* Deepest directory level the counters descend to (one fd per level). */
#define VC_COUNT_DEPTH 256

#endif
