// SPDX-License-Identifier: GPL-2.0-or-later
/* Conflict copies and sync-client junk (see conflict.h for the grammar, docs/SYNC.md for
 * what each provider does). Everything here is bounded by VL_CONFLICT_NAME_MAX and never
 * reads past len: the names come from the cloud side. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "conflict.h"

static bool is_b32(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '2' && c <= '7');
}

/* ASCII space or punctuation: the only characters that may start a provider text. */
static bool is_sep(char c)
{
	unsigned char u = (unsigned char)c;

	return u == ' ' || (u > ' ' && u < 0x7f && !(u >= '0' && u <= '9') &&
			    !(u >= 'a' && u <= 'z') && !(u >= 'A' && u <= 'Z'));
}

static bool eq(const char *a, size_t alen, const char *lit)
{
	size_t n = strlen(lit);

	return alen == n && memcmp(a, lit, n) == 0;
}

static bool ieq(const char *a, size_t alen, const char *lit)
{
	size_t n = strlen(lit);

	if (alen != n)
		return false;
	for (size_t i = 0; i < n; i++) {
		char x = a[i], y = lit[i];

		if (x >= 'A' && x <= 'Z')
			x = (char)(x - 'A' + 'a');
		if (y >= 'A' && y <= 'Z')
			y = (char)(y - 'A' + 'a');
		if (x != y)
			return false;
	}
	return true;
}

static bool starts(const char *a, size_t alen, const char *lit)
{
	size_t n = strlen(lit);

	return alen >= n && memcmp(a, lit, n) == 0;
}

static bool ends(const char *a, size_t alen, const char *lit)
{
	size_t n = strlen(lit);

	return alen >= n && memcmp(a + alen - n, lit, n) == 0;
}

static bool contains(const char *a, size_t alen, const char *lit)
{
	size_t n = strlen(lit);

	for (size_t i = 0; i + n <= alen; i++)
		if (memcmp(a + i, lit, n) == 0)
			return true;
	return false;
}

bool vl_conflict_is_junk(const char *name, size_t len)
{
	static const char *const exact[] = {
		".DS_Store", ".dropbox", ".dropbox.attr", ".dropbox.cache", ".stfolder",
		".stversions", ".stignore", ".stglobalignore", ".sync", ".nextcloudsync.log",
		".owncloudsync.log", ".directory", ".localized", ".Spotlight-V100", ".Trashes",
		".fseventsd", ".TemporaryItems", ".SyncID", ".SyncIgnore", ".SyncArchive",
		"Icon\r",
	};
	static const char *const exact_ci[] = { "desktop.ini", "thumbs.db", "ehthumbs.db" };

	if (name == NULL || len == 0)
		return false;
	for (size_t i = 0; i < sizeof(exact) / sizeof(exact[0]); i++)
		if (eq(name, len, exact[i]))
			return true;
	for (size_t i = 0; i < sizeof(exact_ci) / sizeof(exact_ci[0]); i++)
		if (ieq(name, len, exact_ci[i]))
			return true;
	/* AppleDouble files, Office lock files, LibreOffice locks. */
	if (starts(name, len, "._") || starts(name, len, "~$") ||
	    (starts(name, len, ".~lock.") && ends(name, len, "#")))
		return true;
	/* Nextcloud/ownCloud journals: .sync_<hex>.db, .sync_<hex>.db-wal, ._sync_... */
	if ((starts(name, len, ".sync_") || starts(name, len, "._sync_")) && contains(name, len, ".db"))
		return true;
	/* Temporary files of transfers in flight: Syncthing, Unison, rsync-like tools, our own
	 * atomic writes, rclone (NAME.XXXXXXXX.partial), Resilio (NAME.!sync), Dropbox. */
	if (starts(name, len, ".syncthing.") || starts(name, len, "~syncthing~") ||
	    starts(name, len, ".unison.") || starts(name, len, ".veilfs.tmp.") ||
	    ends(name, len, ".partial") || ends(name, len, ".!sync") || ends(name, len, ".!bt") ||
	    starts(name, len, ".~tmp~"))
		return true;
	return false;
}

/* Length of the valid UTF-8 sequence at s (1..4), or 0 when invalid or not allowed in a
 * provider text (C0/C1 controls, DEL, bidirectional controls). */
static size_t utf8_ok_at(const unsigned char *s, size_t len)
{
	uint32_t cp;
	size_t n;

	if (s[0] < 0x80) {
		if (s[0] < 0x20 || s[0] == 0x7f || s[0] == '/' || s[0] == '\\')
			return 0;
		return 1;
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 2;
		cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3;
		cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	if (len < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0; /* overlong, out of range, surrogate */
	if (cp <= 0x9f)
		return 0; /* C1 controls */
	if (cp == 0x061c || cp == 0x200e || cp == 0x200f || (cp >= 0x202a && cp <= 0x202e) ||
	    (cp >= 0x2066 && cp <= 0x2069))
		return 0; /* bidirectional marks, overrides and isolates: the marker must read as is */
	return n;
}

bool vl_conflict_suffix_ok(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, n;

	if (s == NULL || len == 0 || len > VL_CONFLICT_SUFFIX_MAX || !is_sep(s[0]))
		return false;
	while (i < len) {
		n = utf8_ok_at(u + i, len - i);
		if (n == 0)
			return false;
		i += n;
	}
	return true;
}

size_t vl_conflict_split(const char *name, size_t len, enum vl_ondisk *ekind)
{
	enum vl_ondisk k;
	size_t e;

	if (name == NULL || len == 0 || len > VL_CONFLICT_NAME_MAX)
		return 0;
	if (vl_name_classify(name, len) != VL_ONDISK_FOREIGN || vl_conflict_is_junk(name, len))
		return 0;
	if (name[0] == VL_MARK_LONG || name[0] == VL_MARK_SIDECAR) {
		e = VL_LONGNAME_LEN;
		if (len <= e)
			return 0;
	} else {
		e = name[0] == VL_MARK_OBJECT ? 1 : 0;
		while (e < len && is_b32(name[e]))
			e++;
		if (e == len)
			return 0;
	}
	k = vl_name_classify(name, e);
	if (k != VL_ONDISK_SHORT && k != VL_ONDISK_LONG && k != VL_ONDISK_SIDECAR)
		return 0;
	if (!vl_conflict_suffix_ok(name + e, len - e))
		return 0;
	if (ekind)
		*ekind = k;
	return e;
}

size_t vl_conflict_ext_pos(const char *p, size_t len)
{
	size_t d = len;

	while (d > 0 && p[d - 1] != '.')
		d--;
	if (d < 2) /* no '.', or only at offset 0 */
		return len;
	d--;
	if (len - d - 1 < 1 || len - d - 1 > VL_CONFLICT_EXT_MAX)
		return len;
	return d;
}

/* Builds p[0..x) || s || p[x..plen) into out without a length limit (cap checked). */
static int build(const char *p, size_t plen, const char *s, size_t slen, char *out, size_t cap)
{
	size_t x = vl_conflict_ext_pos(p, plen);

	if (plen + slen + 1 > cap)
		return -ENAMETOOLONG;
	memcpy(out, p, x);
	memcpy(out + x, s, slen);
	memcpy(out + x + slen, p + x, plen - x);
	out[plen + slen] = '\0';
	return (int)(plen + slen);
}

int vl_conflict_display(const char *p, size_t plen, const char *s, size_t slen, char *out,
			size_t cap)
{
	if (p == NULL || s == NULL || out == NULL || plen == 0 || plen > VL_CONFLICT_NAME_MAX ||
	    !vl_conflict_suffix_ok(s, slen))
		return -EINVAL;
	if (plen + slen > VL_CONFLICT_NAME_MAX)
		return -ENAMETOOLONG;
	return build(p, plen, s, slen, out, cap);
}

static uint64_t fnv1a64(const char *s, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)s[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

int vl_conflict_fallback(const char *p, size_t plen, const char *s, size_t slen, const char *disk,
			 size_t disklen, char *out, size_t cap)
{
	char tmp[VL_CONFLICT_NAME_MAX + VL_CONFLICT_SUFFIX_MAX + 1];
	size_t head;
	int n;

	if (p == NULL || s == NULL || disk == NULL || out == NULL || plen == 0 ||
	    plen > VL_CONFLICT_NAME_MAX || !vl_conflict_suffix_ok(s, slen) ||
	    cap < VL_CONFLICT_NAME_MAX + 1)
		return -EINVAL;
	n = build(p, plen, s, slen, tmp, sizeof(tmp));
	if (n < 0)
		return n;
	head = (size_t)n;
	if (head > VL_CONFLICT_NAME_MAX - VL_CONFLICT_FB_TAIL_LEN) {
		head = VL_CONFLICT_NAME_MAX - VL_CONFLICT_FB_TAIL_LEN;
		/* Never cut inside a UTF-8 sequence. */
		while (head > 0 && ((unsigned char)tmp[head] & 0xc0) == 0x80)
			head--;
	}
	memcpy(out, tmp, head);
	n = snprintf(out + head, cap - head, " {conflict %016llx}",
		     (unsigned long long)fnv1a64(disk, disklen));
	if (n != VL_CONFLICT_FB_TAIL_LEN)
		return -EINVAL;
	return (int)head + n;
}

int vl_conflict_fallback_plain(const char *text, size_t tlen, const char *disk, size_t disklen,
			       char *out, size_t cap)
{
	int n;

	if (text == NULL || disk == NULL || out == NULL || tlen == 0 ||
	    tlen > VL_CONFLICT_NAME_MAX - VL_CONFLICT_FB_TAIL_LEN || cap < tlen + VL_CONFLICT_FB_TAIL_LEN + 1)
		return -EINVAL;
	memcpy(out, text, tlen);
	n = snprintf(out + tlen, cap - tlen, " {conflict %016llx}",
		     (unsigned long long)fnv1a64(disk, disklen));
	if (n != VL_CONFLICT_FB_TAIL_LEN)
		return -EINVAL;
	return (int)tlen + n;
}

bool vl_conflict_is_fallback(const char *name, size_t len)
{
	const char *t;

	if (name == NULL || len <= VL_CONFLICT_FB_TAIL_LEN)
		return false;
	t = name + len - VL_CONFLICT_FB_TAIL_LEN;
	if (memcmp(t, " {conflict ", 11) != 0 || t[VL_CONFLICT_FB_TAIL_LEN - 1] != '}')
		return false;
	for (size_t i = 11; i < VL_CONFLICT_FB_TAIL_LEN - 1; i++)
		if (!((t[i] >= '0' && t[i] <= '9') || (t[i] >= 'a' && t[i] <= 'f')))
			return false;
	return true;
}

int vl_conflict_candidates(const char *n, size_t len, unsigned max,
			   int (*cb)(void *ctx, const char *p, size_t plen, const char *s, size_t slen),
			   void *ctx)
{
	char p[VL_CONFLICT_NAME_MAX + 1];
	size_t lastdot = len, plen;
	unsigned made = 0;
	int r;

	if (n == NULL || len < 2 || len > VL_CONFLICT_NAME_MAX)
		return 0;
	for (size_t i = len; i > 0; i--) {
		if (n[i - 1] == '.') {
			lastdot = i - 1;
			break;
		}
	}
	for (size_t i = 1; i < len && made < max; i++) {
		if (!is_sep(n[i]))
			continue;
		/* S inserted before the extension: n = P[0..i) S P[lastdot..). */
		if (lastdot > i && lastdot < len && vl_conflict_suffix_ok(n + i, lastdot - i)) {
			memcpy(p, n, i);
			memcpy(p + i, n + lastdot, len - lastdot);
			plen = i + (len - lastdot);
			if (vl_conflict_ext_pos(p, plen) == i) {
				made++;
				r = cb(ctx, p, plen, n + i, lastdot - i);
				if (r)
					return r;
			}
		}
		/* S appended: n = P S, P without an extension. */
		if (made < max && vl_conflict_suffix_ok(n + i, len - i) &&
		    vl_conflict_ext_pos(n, i) == i) {
			memcpy(p, n, i);
			made++;
			r = cb(ctx, p, i, n + i, len - i);
			if (r)
				return r;
		}
	}
	return 0;
}

bool vl_conflict_is_reserved_copy(const char *name, size_t len, bool *is_conf)
{
	static const char *const base[] = { VL_DIRID_FILE, VL_CONFIG_FILE };

	if (name == NULL || len < 8 || len > VL_CONFLICT_NAME_MAX || !starts(name, len, "veilfs"))
		return false;
	/* Both display-like forms of both files: "veilfs S.dirid" and "veilfs.dirid S". */
	for (size_t b = 0; b < 2; b++) {
		size_t bl = strlen(base[b]), x = vl_conflict_ext_pos(base[b], bl);
		bool inserted, appended;

		if (len <= bl)
			continue;
		inserted = memcmp(name, base[b], x) == 0 && ends(name, len, base[b] + x) &&
			   vl_conflict_suffix_ok(name + x, len - bl);
		appended = starts(name, len, base[b]) && vl_conflict_suffix_ok(name + bl, len - bl);
		if (inserted || appended) {
			if (is_conf)
				*is_conf = b == 1;
			return true;
		}
	}
	return false;
}
