/* SPDX-License-Identifier: GPL-2.0-or-later */
/* crypto/conflict.c: the conflict-copy grammar for every provider's form, junk names,
 * hostile provider texts, display names and their inverse (lookup candidates). */
#include "config.h"

#include <errno.h>

#include "tap.h"

#include "crypto/conflict.h"
#include "crypto/names.h"
#include "crypto/secmem.h"

/* A syntactically valid SHORT name: base32 of 32 bytes (52 chars). */
#define E52 "abcdefghijklmnopqrstuvwxyz234567abcdefghijklmnopqrsq"
/* A LONG name and its sidecar: marker + 52 base32 chars of 32 bytes. */
#define L53 "8" E52
#define S53 "9" E52

static size_t split(const char *n, enum vl_ondisk *k)
{
	return vl_conflict_split(n, strlen(n), k);
}

struct want {
	const char *p, *s;
	int hits;
};

static int cand(void *ctx, const char *p, size_t plen, const char *s, size_t slen)
{
	struct want *w = ctx;

	if (strlen(w->p) == plen && !memcmp(p, w->p, plen) && strlen(w->s) == slen &&
	    !memcmp(s, w->s, slen))
		w->hits++;
	return 0;
}

static int count_cb(void *ctx, const char *p, size_t plen, const char *s, size_t slen)
{
	(void)p, (void)plen, (void)s, (void)slen;
	++*(unsigned *)ctx;
	return 0;
}

int main(void)
{
	static const char *const provider[] = {
		" (conflicted copy 2025-02-10)",		 /* Dropbox */
		" (Jane Doe's conflicted copy 2025-02-10)",	 /* Dropbox */
		" (Case Conflict)",				 /* Dropbox */
		" (conflicted copy 2025-02-10 101500)",		 /* Nextcloud, ownCloud */
		" (Conflict Jane 2025-02-10 101500)",		 /* ownCloud */
		"_conflict-20250210-101500",			 /* Nextcloud (old) */
		"-LAPTOP-JANE",					 /* OneDrive */
		" (2)",						 /* OneDrive, Google Drive */
		" 2",						 /* iCloud Drive */
		" (1)",						 /* Google Drive */
		".sync-conflict-20250210-101500-ABCDEFG",	 /* Syncthing */
		" (SFConflict jane@example.org 2025-02-10-10-15-00)", /* Seafile */
		".Conflict",					 /* Resilio */
		".conflict1",					 /* rclone bisync */
		"..path1",					 /* rclone bisync */
		" (Konflikt \xc3\xbc 2025)",			 /* UTF-8 */
	};
	static const char *const junk[] = {
		".DS_Store", "._" E52, "desktop.ini", "Desktop.ini", "Thumbs.db", "Icon\r",
		".dropbox", ".dropbox.cache", ".stfolder", ".stversions", ".stignore", ".sync",
		".nextcloudsync.log", ".owncloudsync.log", ".sync_0123abcd.db", ".sync_0123abcd.db-wal",
		"~$report.docx", ".~lock.report.odt#", ".syncthing." E52 ".tmp", "~syncthing~x.tmp",
		".unison." E52 ".123.unison.tmp", E52 ".a1b2c3d4.partial", E52 ".!sync",
	};
	static const char *const hostile[] = {
		" (a\x01)", " (a\n)", " (a\x7f)", " (a/b)", " (a\\b)", "\xc3", " \xc0\xaf",
		" \xed\xa0\x80", " \xe2\x80\xae" "txt.exe", " \xc2\x85", "a-not-a-separator",
		"2tail", "", " \xf4\x90\x80\x80",
	};
	char name[600], out[VL_CONFLICT_NAME_MAX + 1], big[300];
	enum vl_ondisk k;
	unsigned cnt;
	size_t i;
	int n;

	if (vl_crypto_init() != 0) /* first: libcrypto allocates in the secure pool */
		return 99;
	for (i = 0; i < sizeof(provider) / sizeof(provider[0]); i++) {
		snprintf(name, sizeof(name), "%s%s", E52, provider[i]);
		k = VL_ONDISK_FOREIGN;
		ok(split(name, &k) == 52 && k == VL_ONDISK_SHORT, "short + \"%s\" is a conflict copy", provider[i]);
		snprintf(name, sizeof(name), "1%s%s", E52, provider[i]);
		ok(split(name, &k) == 53 && k == VL_ONDISK_SHORT, "object + \"%s\"", provider[i]);
		snprintf(name, sizeof(name), "%s%s", L53, provider[i]);
		ok(split(name, &k) == 53 && k == VL_ONDISK_LONG, "long + \"%s\"", provider[i]);
		snprintf(name, sizeof(name), "%s%s", S53, provider[i]);
		ok(split(name, &k) == 53 && k == VL_ONDISK_SIDECAR, "sidecar + \"%s\"", provider[i]);
	}
	for (i = 0; i < sizeof(junk) / sizeof(junk[0]); i++) {
		ok(vl_conflict_is_junk(junk[i], strlen(junk[i])), "junk: %zu", i);
		ok(split(junk[i], &k) == 0, "junk is not a conflict copy: %zu", i);
	}
	for (i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
		snprintf(name, sizeof(name), "%s%s", E52, hostile[i]);
		ok(split(name, &k) == 0, "hostile provider text %zu refused", i);
	}
	memset(big, 'x', sizeof(big));
	big[0] = ' ';
	ok(vl_conflict_suffix_ok(big, VL_CONFLICT_SUFFIX_MAX), "254-byte provider text ok");
	ok(!vl_conflict_suffix_ok(big, VL_CONFLICT_SUFFIX_MAX + 1), "255-byte provider text refused");
	{
		/* Stacked texts as engines make them when a copy conflicts again. */
		static const char *const stacked[] = {
			" (conflict_on_2026-12-06_03-11-21) (conflict_on_2026-12-06_03-12-40)"
			" (conflict_on_2026-12-06_03-13-02)",
			"..path1..path2",
			"..path2..path1..path1",
			".sync-conflict-20261206-031121-ABCDEFG.sync-conflict-20261206-031300-HIJKLMN",
			" (conflicted copy 2026-12-06) (conflicted copy 2026-12-07) (1) (2) (3) (4)",
		};
		char dn[VL_CONFLICT_NAME_MAX + 1];

		for (i = 0; i < sizeof(stacked) / sizeof(stacked[0]); i++) {
			int m;

			snprintf(name, sizeof(name), "%s%s", E52, stacked[i]);
			ok(split(name, &k) == 52 && k == VL_ONDISK_SHORT, "stacked text %zu (%zu bytes) accepted",
			   i, strlen(stacked[i]));
			m = vl_conflict_display("report.txt", 10, stacked[i], strlen(stacked[i]), dn, sizeof(dn));
			ok(m > 0 && strstr(dn, stacked[i]) && !strcmp(dn + m - 4, ".txt"),
			   "stacked text %zu shown in the display name", i);
		}
		/* Longest possible: 255-byte name, 52-byte E, 203-byte text; a long plaintext then
		 * needs the fallback form, which fits and keeps the marker's start. */
		memset(name, 'x', sizeof(name));
		memcpy(name, E52 " (conflict_on_", 66);
		name[255] = '\0';
		ok(split(name, &k) == 52, "a 203-byte stacked text fills a 255-byte backing name");
		memset(big, 'p', 200);
		ok(vl_conflict_display(big, 200, name + 52, 203, dn, sizeof(dn)) == -ENAMETOOLONG,
		   "a display name over 255 bytes is refused");
		i = (size_t)vl_conflict_fallback(big, 200, name + 52, 203, name, 255, dn, sizeof(dn));
		ok(i > 0 && i <= 255 && vl_conflict_is_fallback(dn, i), "its fallback form fits 255 bytes");
		memset(big, 'x', sizeof(big));
		big[0] = ' ';
	}
	ok(split(E52, &k) == 0 && split("veilfs.dirid", &k) == 0 && split("veilfs.conf", &k) == 0,
	   "own names are not conflict copies");
	ok(split("abcdefg (1)", &k) == 0, "base32 of an impossible length + text: not a copy");
	ok(split("8abc (1)", &k) == 0, "short long-name + text: not a copy");
	ok(split(" (1)", &k) == 0 && split("(1)", &k) == 0, "no encrypted part: not a copy");
	memset(name, 'a', 300);
	name[300] = '\0';
	memcpy(name, E52 " (1)", 56);
	ok(split(name, &k) == 0, "name over 255 bytes: not a copy");

	/* Display names. */
	n = vl_conflict_display("report.txt", 10, " (conflicted copy 2025-02-10)", 29, out, sizeof(out));
	ok(n > 0 && !strcmp(out, "report (conflicted copy 2025-02-10).txt"), "display before the extension: %s", out);
	n = vl_conflict_display("report.txt", 10, ".sync-conflict-20250210-101500-ABCDEFG", 38, out, sizeof(out));
	ok(n > 0 && !strcmp(out, "report.sync-conflict-20250210-101500-ABCDEFG.txt"), "syncthing form: %s", out);
	n = vl_conflict_display("Makefile", 8, " (1)", 4, out, sizeof(out));
	ok(n > 0 && !strcmp(out, "Makefile (1)"), "no extension: appended: %s", out);
	n = vl_conflict_display(".bashrc", 7, " 2", 2, out, sizeof(out));
	ok(n > 0 && !strcmp(out, ".bashrc 2"), "leading dot is not an extension: %s", out);
	n = vl_conflict_display("a.verylongextension", 19, " 2", 2, out, sizeof(out));
	ok(n > 0 && !strcmp(out, "a.verylongextension 2"), "extension over 16 bytes: appended: %s", out);
	n = vl_conflict_display("a.tar.gz", 8, " (1)", 4, out, sizeof(out));
	ok(n > 0 && !strcmp(out, "a.tar (1).gz"), "last dot only: %s", out);
	memset(big, 'y', 255);
	n = vl_conflict_display(big, 255, " (1)", 4, out, sizeof(out));
	ok(n == -ENAMETOOLONG, "display over 255 bytes: ENAMETOOLONG");
	n = vl_conflict_fallback(big, 255, " (1)", 4, E52 " (1)", 56, out, sizeof(out));
	ok(n == 255 && vl_conflict_is_fallback(out, (size_t)n) && strstr(out, " {conflict "),
	   "fallback form fits 255 bytes and is recognised");
	n = vl_conflict_fallback("report.txt", 10, " (1)", 4, E52 " (1)", 56, out, sizeof(out));
	ok(n > 0 && !strncmp(out, "report (1).txt {conflict ", 25), "fallback keeps the marker: %s", out);
	{
		char o2[VL_CONFLICT_NAME_MAX + 1];
		int m = vl_conflict_fallback("report.txt", 10, " (1)", 4, "1" E52 " (1)", 57, o2, sizeof(o2));

		ok(m == n && strcmp(out, o2) != 0, "fallbacks of two copies differ");
	}
	/* UTF-8 is never cut in the middle by the fallback form. */
	for (i = 0; i < 254; i += 2) {
		big[i] = (char)0xc3;
		big[i + 1] = (char)0xa9;
	}
	n = vl_conflict_fallback(big, 254, " (1)", 4, "x", 1, out, sizeof(out));
	ok(n > 0 && n <= 255 && ((unsigned char)out[n - 29] == 0xa9), "fallback cuts at a UTF-8 boundary");
	ok(!vl_conflict_is_fallback("report.txt", 10) && !vl_conflict_is_fallback("a {conflict 0123}", 17),
	   "ordinary names are not fallbacks");

	/* Candidates invert display names. */
	{
		static const char *const pn[] = { "report.txt", "Makefile", "a b.c", ".bashrc", "x.tar.gz" };

		for (i = 0; i < sizeof(pn) / sizeof(pn[0]); i++) {
			for (size_t j = 0; j < sizeof(provider) / sizeof(provider[0]); j++) {
				struct want w = { pn[i], provider[j], 0 };

				n = vl_conflict_display(pn[i], strlen(pn[i]), provider[j], strlen(provider[j]),
							out, sizeof(out));
				if (n > 0)
					(void)vl_conflict_candidates(out, (size_t)n, VL_CONFLICT_NAME_MAX, cand, &w);
				ok(n > 0 && w.hits == 1, "candidates of \"%s\" include (%s, %s)", out, pn[i], provider[j]);
			}
		}
	}
	cnt = 0;
	(void)vl_conflict_candidates("report", 6, 32, count_cb, &cnt);
	ok(cnt == 0, "a name without separators has no candidates");
	cnt = 0;
	(void)vl_conflict_candidates("Makefile.am", 11, 32, count_cb, &cnt);
	ok(cnt == 1, "Makefile.am: one candidate (%u)", cnt);
	cnt = 0;
	memset(big, ' ', 200);
	big[0] = 'a';
	(void)vl_conflict_candidates(big, 200, 32, count_cb, &cnt);
	ok(cnt == 32, "candidates are bounded (%u)", cnt);

	/* Copies of veilfs.dirid and veilfs.conf. */
	{
		bool conf = true;

		ok(vl_conflict_is_reserved_copy("veilfs (conflicted copy 2025-02-10).dirid", 41, &conf) && !conf,
		   "dirid conflicted copy");
		ok(vl_conflict_is_reserved_copy("veilfs.dirid.sync-conflict-20250210-101500-ABCDEFG", 50, &conf) && !conf,
		   "dirid syncthing copy");
		ok(vl_conflict_is_reserved_copy("veilfs.conf.conflict1", 21, &conf) && conf, "conf bisync copy");
		ok(!vl_conflict_is_reserved_copy("veilfs.dirid", 12, NULL) && !vl_conflict_is_reserved_copy("veilfs", 6, NULL),
		   "reserved names themselves are not copies");
	}
	return done_testing();
}
