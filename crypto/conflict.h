/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Conflict copies made by sync clients, and the junk files they leave (FORMAT.md §4.2,
 * docs/SYNC.md). Pure functions over byte strings: no keys, no I/O, no allocation.
 *
 * Grammar. An on-disk name N that vl_name_classify() calls FOREIGN is a conflict copy when
 * N = E || S where
 *   - E starts at offset 0 and classifies as SHORT, LONG or SIDECAR: for SHORT, E is the
 *     optional '1' marker and the maximal run of [a-z2-7] after it; for LONG/SIDECAR, E is
 *     the first VL_LONGNAME_LEN bytes;
 *   - S (the provider's text) is 1..VL_CONFLICT_SUFFIX_MAX bytes of valid UTF-8, starts with
 *     an ASCII space or punctuation character (so the base32 run is maximal), and holds no
 *     control character (C0, DEL, C1), no bidirectional override or isolate, no '/', no '\\'.
 * Junk files (vl_conflict_is_junk) are never conflict copies. */
#ifndef VEILFS_CRYPTO_CONFLICT_H
#define VEILFS_CRYPTO_CONFLICT_H

#include "common.h"
#include "names.h"

/* Longest provider text kept: whatever fits beside the shortest encrypted part in a backing
 * name of 255 bytes. Engines stack their texts when a copy conflicts again (unison's
 * " (conflict_on_DATE)" three times is 111 bytes; rclone bisync's "..path1..path2"), so
 * the grammar bounds the text by the name limit, not by one provider's form; a display
 * name that gets too long takes the fallback form. */
#define VL_CONFLICT_SUFFIX_MAX 254
/* Longest plaintext entry name (and display name). */
#define VL_CONFLICT_NAME_MAX 255
/* The fallback display form ends with " {conflict XXXXXXXXXXXXXXXX}" (16 hex digits). */
#define VL_CONFLICT_FB_TAIL_LEN 28
/* Longest extension moved behind the marker ("report.txt" -> "report S.txt"). */
#define VL_CONFLICT_EXT_MAX 16

/* True for files that sync clients and operating systems drop into synced folders
 * (.DS_Store, ._*, desktop.ini, Thumbs.db, Icon\r, .dropbox*, .st*, .sync*, ~$*, .~lock.*#,
 * temporary files of rclone, Syncthing, Unison, Resilio, ...). */
bool vl_conflict_is_junk(const char *name, size_t len);

/* True when s[0..len) is a valid provider text S (see the grammar above). */
bool vl_conflict_suffix_ok(const char *s, size_t len);

/* Splits a FOREIGN on-disk name into E || S. Returns len(E) (> 0) and sets *ekind to the
 * classification of E (SHORT, LONG or SIDECAR), or 0 when name is not a conflict copy (also
 * for junk and for names vl_name_classify does not call FOREIGN). */
size_t vl_conflict_split(const char *name, size_t len, enum vl_ondisk *ekind);

/* True for a conflict copy of veilfs.dirid or veilfs.conf made by a sync client
 * ("veilfs (conflicted copy 2025-02-10).dirid", "veilfs.dirid.sync-conflict-...",
 * "veilfs.conf.conflict1" ...). *is_conf tells which (may be NULL). */
bool vl_conflict_is_reserved_copy(const char *name, size_t len, bool *is_conf);

/* Offset of the extension's '.' in plain name p (last '.', not at offset 0, followed by 1 to
 * VL_CONFLICT_EXT_MAX bytes), or len when p has no extension. */
size_t vl_conflict_ext_pos(const char *p, size_t len);

/* The display name of a conflict copy with plaintext name p and provider text s: s inserted
 * before p's extension, else appended ("report (conflicted copy 2025-02-10).txt"). Writes it
 * NUL-terminated into out (cap >= VL_CONFLICT_NAME_MAX + 1). Returns its length, or
 * -ENAMETOOLONG when it would exceed VL_CONFLICT_NAME_MAX (use the fallback form). */
int vl_conflict_display(const char *p, size_t plen, const char *s, size_t slen, char *out,
			size_t cap) VL_MUST_CHECK;

/* The fallback display name, used when the display name collides with another entry or
 * is too long: the display name (or, when too long, its first bytes cut at a UTF-8
 * boundary) followed by " {conflict H}", H = 16 hex digits of FNV-1a-64 of the on-disk
 * name. Returns its length (<= VL_CONFLICT_NAME_MAX), or -EINVAL for bad arguments. */
int vl_conflict_fallback(const char *p, size_t plen, const char *s, size_t slen, const char *disk,
			 size_t disklen, char *out, size_t cap) VL_MUST_CHECK;

/* text (1..VL_CONFLICT_NAME_MAX - VL_CONFLICT_FB_TAIL_LEN bytes, shown as is) followed by
 * " {conflict H}", H = 16 hex digits of FNV-1a-64 of the on-disk name: the name of an entry
 * that has no plaintext name of its own (format 2's lost long names). Returns its length or
 * -EINVAL. */
int vl_conflict_fallback_plain(const char *text, size_t tlen, const char *disk, size_t disklen,
			       char *out, size_t cap) VL_MUST_CHECK;

/* True when name has the fallback form's tail " {conflict H}". */
bool vl_conflict_is_fallback(const char *name, size_t len);

/* Calls cb(ctx, p, plen, s, slen) for every way display name n could have been made by
 * vl_conflict_display (plaintext p, provider text s), at most max candidates; cb returns
 * non-zero to stop (returned). Candidates start S at an ASCII space or punctuation
 * character at offset >= 1 and end it at the end of n or at n's last '.'. p is a scratch
 * buffer owned by the function. Returns 0, or cb's non-zero value. */
int vl_conflict_candidates(const char *n, size_t len, unsigned max,
			   int (*cb)(void *ctx, const char *p, size_t plen, const char *s, size_t slen),
			   void *ctx);

#endif
