/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fs/dirs.c: directory IDs, short and long names, listing, foreign and undecryptable
 * entries, deterministic IDs across two trees. */
#include "config.h"

#include "tap.h"
#include "core_util.h"

#include "crypto/dirid.h"
#include "crypto/names.h"
#include "crypto/secmem.h"
#include "fs/backing.h"
#include "fs/dirs.h"

#define MAXSEEN 16

struct seen {
	int n;
	char names[MAXSEEN][256];
	enum vl_kind kinds[MAXSEEN];
};

static int collect(void *ctx, const struct vl_dirent *de)
{
	struct seen *s = ctx;

	if (s->n < MAXSEEN) {
		memcpy(s->names[s->n], de->name, de->namelen + 1);
		s->kinds[s->n] = de->kind;
	}
	s->n++;
	return 0;
}

static int has(const struct seen *s, const char *name, enum vl_kind kind)
{
	int i;

	for (i = 0; i < s->n && i < MAXSEEN; i++)
		if (!strcmp(s->names[i], name) && s->kinds[i] == kind)
			return 1;
	return 0;
}

static int stop_at_first(void *ctx, const struct vl_dirent *de)
{
	(void)de;
	++*(int *)ctx;
	return 42;
}

static void touch(int dirfd, const char *name)
{
	int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

	if (fd < 0) {
		perror(name);
		exit(99);
	}
	close(fd);
}

static int same_file(int d1, const char *n1, int d2, const char *n2)
{
	char a[64], b[64];
	ssize_t x = vl_read_small(d1, n1, a, sizeof(a)), y = vl_read_small(d2, n2, b, sizeof(b));

	return x > 0 && x == y && !memcmp(a, b, (size_t)x);
}

int main(void)
{
	uint8_t master[VL_MASTER_KEY_LEN], id[VL_DIRID_LEN], id2[VL_DIRID_LEN], lid[VL_DIRID_LEN];
	char dir[PATH_MAX], dir2[PATH_MAX], longname[256], err[256];
	struct vl_ename e, e2, el, ef;
	struct vl_vault *v, *w = NULL;
	const uint8_t *root;
	struct seen s;
	struct stat st;
	int rootfd, fd, lfd, r, i, n;

	if (vl_crypto_init() != 0) /* first: libcrypto allocates in the secure pool */
		return 99;
	umask(022);
	v = tc_vault(dir, 4096, 220, master);
	rootfd = vl_vault_rootfd(v);
	root = vl_vault_root_id(v);

	/* Root ID: stored file equals the derived one. */
	ok(vl_dirid_root(vl_vault_keys(v), id) == 0 && !memcmp(id, root, VL_DIRID_LEN),
	   "root ID read from veilfs.dirid equals the derived root ID");

	/* A short-named directory. */
	r = vl_ename_make(v, root, "alpha", 5, VL_KIND_PLAIN, &e);
	ok(r == 0 && !e.is_long && !strcmp(e.disk, e.full) && e.sidecar[0] == '\0',
	   "short name: disk name is the full encoded name");
	ok(vl_dir_make(v, rootfd, root, &e, 0755, id) == 0, "vl_dir_make alpha");
	ok(vl_dirid_derive(vl_vault_keys(v), root, e.full, e.fulllen, id2) == 0 &&
		   !memcmp(id, id2, VL_DIRID_LEN),
	   "its ID is HMAC(K_dirid, parent || F)");
	r = vl_dir_lookup(v, rootfd, root, "alpha", 5, &e2, &st);
	ok(r == 0 && S_ISDIR(st.st_mode) && e2.kind == VL_KIND_PLAIN && !strcmp(e2.disk, e.disk),
	   "lookup finds alpha as a plain directory");
	ok(vl_dir_make(v, rootfd, root, &e, 0755, id2) == -EEXIST, "mkdir again: EEXIST");
	fd = vl_dir_open(rootfd, e.disk);
	ok(fd >= 0 && vl_dir_read_id(v, fd, root, e.full, e.fulllen, id2) == 0 &&
		   !memcmp(id, id2, VL_DIRID_LEN),
	   "veilfs.dirid inside holds the ID");

	/* Missing and malformed veilfs.dirid. */
	ok(unlinkat(fd, VL_DIRID_FILE, 0) == 0, "remove alpha/veilfs.dirid");
	memset(id2, 0, sizeof(id2));
	ok(vl_dir_read_id(v, fd, root, e.full, e.fulllen, id2) == 0 && !memcmp(id, id2, VL_DIRID_LEN),
	   "missing ID file: re-derived");
	ok(faccessat(fd, VL_DIRID_FILE, F_OK, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT,
	   "re-derivation did not write the file");
	ok(vl_dir_read_id(v, fd, root, NULL, 0, id2) == -ENOENT, "missing, no name given: ENOENT");
	ok(vl_write_atomic(fd, VL_DIRID_FILE, "\0\1short", 7, 0444, true) == 0 &&
		   vl_dir_read_id(v, fd, root, e.full, e.fulllen, id2) == -EIO,
	   "malformed ID file (7 bytes): EIO");
	{
		uint8_t buf[VL_DIRID_FILE_LEN];

		vl_dirid_file_build(buf, id);
		buf[1] = 2; /* version 2 */
		ok(vl_write_atomic(fd, VL_DIRID_FILE, buf, sizeof(buf), 0444, false) == 0 &&
			   vl_dir_read_id(v, fd, root, e.full, e.fulllen, id2) == -EIO,
		   "ID file of version 2: EIO");
		vl_dirid_file_build(buf, id);
		ok(vl_write_atomic(fd, VL_DIRID_FILE, buf, sizeof(buf), 0444, false) == 0, "restore it");
	}

	/* A 255-byte UTF-8 directory name: long. */
	for (i = 0; i < 127; i++)
		memcpy(longname + 2 * i, "\xc3\xa9", 2); /* é */
	longname[254] = 'z';
	longname[255] = '\0';
	r = vl_ename_make(v, root, longname, 255, VL_KIND_PLAIN, &el);
	ok(r == 0 && el.is_long && strlen(el.disk) == VL_LONGNAME_LEN && el.disk[0] == '8' &&
		   el.sidecar[0] == '9' && !strcmp(el.disk + 1, el.sidecar + 1),
	   "255-byte name is long: '8'+hash, sidecar '9'+hash");
	ok(vl_dir_make(v, rootfd, root, &el, 0151, lid) == 0, "vl_dir_make with a long name, mode 0151");
	ok(fstatat(rootfd, el.disk, &st, AT_SYMLINK_NOFOLLOW) == 0 && (st.st_mode & 07777) == 0151,
	   "the directory has the mode asked for (0151), not a writable one");
	{
		char side[VL_ENCNAME_MAX + 1];
		ssize_t k = vl_read_small(rootfd, el.sidecar, side, sizeof(side));

		ok(k == (ssize_t)el.fulllen && !memcmp(side, el.full, el.fulllen),
		   "sidecar holds the full encoded name");
	}
	r = vl_dir_lookup(v, rootfd, root, longname, 255, &e2, &st);
	ok(r == 0 && e2.is_long && S_ISDIR(st.st_mode) && !strcmp(e2.disk, el.disk),
	   "lookup of the long name stats the long entry");
	ok(vl_dir_make(v, rootfd, root, &el, 0755, id2) == -EEXIST &&
		   faccessat(rootfd, el.sidecar, F_OK, AT_SYMLINK_NOFOLLOW) == 0,
	   "mkdir of an existing long name: EEXIST, sidecar kept");
	lfd = vl_dir_open(rootfd, el.disk);
	ok(lfd >= 0 && vl_dir_read_id(v, lfd, root, el.full, el.fulllen, id2) == 0 &&
		   !memcmp(lid, id2, VL_DIRID_LEN),
	   "long-named directory's ID file");

	/* A long-named regular file and an object file. */
	longname[254] = 'f';
	ok(vl_ename_make(v, root, longname, 255, VL_KIND_PLAIN, &ef) == 0 && ef.is_long &&
		   vl_dir_put_sidecar(rootfd, &ef) == 0 && vl_dir_put_sidecar(rootfd, &ef) == 0,
	   "put_sidecar twice (same content) is fine");
	touch(rootfd, ef.disk);
	ok(vl_ename_make(v, root, "link", 4, VL_KIND_OBJECT, &e2) == 0 && e2.full[0] == '1',
	   "object kind names start with '1'");
	touch(rootfd, e2.disk);
	r = vl_dir_lookup(v, rootfd, root, "link", 4, &e2, &st);
	ok(r == 0 && e2.kind == VL_KIND_OBJECT && S_ISREG(st.st_mode), "lookup finds the object kind");
	r = vl_dir_lookup(v, rootfd, root, "nothere", 7, &e2, &st);
	ok(r == -ENOENT && e2.kind == VL_KIND_PLAIN && e2.full[0] != '1',
	   "lookup of a missing name: ENOENT, plain names left in e");
	ok(vl_dir_lookup(v, rootfd, root, "a/b", 3, &e2, &st) == -EINVAL, "name with '/': EINVAL");

	/* Foreign files, temp files and an undecryptable name. */
	touch(rootfd, ".DS_Store");
	touch(rootfd, "desktop.ini");
	touch(rootfd, ".veilfs.tmp.0123456789abcdef01234567");
	{
		uint8_t other[VL_DIRID_LEN];
		char enc[VL_ENCNAME_MAX + 1];

		memset(other, 0x5a, sizeof(other));
		/* A well-formed name encrypted for another directory: it does not decrypt here. */
		r = vl_name_encrypt(vl_vault_keys(v), other, "stray", 5, VL_KIND_PLAIN, enc, sizeof(enc));
		ok(r > 0 && vl_name_classify(enc, (size_t)r) == VL_ONDISK_SHORT,
		   "a name encrypted for another directory classifies as short");
		touch(rootfd, enc);
		/* A conflict copy of a real name: listed under its display name (issue 5). */
		{
			char cc[VL_ENCNAME_MAX + 32];

			snprintf(cc, sizeof(cc), "%.200s (conflicted copy)", e.full);
			touch(rootfd, cc);
		}
	}
	memset(&s, 0, sizeof(s));
	r = vl_dir_list(v, rootfd, root, collect, &s);
	longname[254] = 'z';
	ok(r == 0 && s.n == 5, "root lists exactly 5 entries (got %d)", s.n);
	ok(has(&s, "alpha (conflicted copy)", VL_KIND_PLAIN), "conflict copy of alpha listed");
	ok(has(&s, "alpha", VL_KIND_PLAIN), "alpha listed");
	ok(has(&s, longname, VL_KIND_PLAIN), "long-named directory listed with its 255-byte name");
	longname[254] = 'f';
	ok(has(&s, longname, VL_KIND_PLAIN), "long-named file listed");
	ok(has(&s, "link", VL_KIND_OBJECT), "object listed with its kind");
	n = 0;
	ok(vl_dir_list(v, rootfd, root, stop_at_first, &n) == 42 && n == 1,
	   "callback's non-zero return stops the listing");

	/* Damaged sidecar: the long entry is skipped. */
	ok(vl_write_atomic(rootfd, ef.sidecar, "abc", 3, 0444, false) == 0, "damage the file's sidecar");
	memset(&s, 0, sizeof(s));
	ok(vl_dir_list(v, rootfd, root, collect, &s) == 0 && s.n == 4 && !has(&s, longname, VL_KIND_PLAIN),
	   "entry with a bad sidecar is skipped");
	ok(vl_dir_put_sidecar(rootfd, &ef) == 0, "put_sidecar repairs a damaged sidecar");
	memset(&s, 0, sizeof(s));
	ok(vl_dir_list(v, rootfd, root, collect, &s) == 0 && s.n == 5, "listed again after repair");
	ok(vl_dir_drop_sidecar(rootfd, &ef) == 0 && vl_dir_drop_sidecar(rootfd, &ef) == 0,
	   "drop_sidecar twice: missing is not an error");
	memset(&s, 0, sizeof(s));
	ok(vl_dir_list(v, rootfd, root, collect, &s) == 0 && s.n == 4, "entry without sidecar skipped");

	/* Names inside alpha are bound to alpha's ID: alpha's child does not decrypt at root. */
	{
		struct vl_ename c;

		ok(vl_ename_make(v, id, "child", 5, VL_KIND_PLAIN, &c) == 0 &&
			   vl_ename_make(v, root, "child", 5, VL_KIND_PLAIN, &e2) == 0 &&
			   strcmp(c.full, e2.full) != 0,
		   "the same name encrypts differently in two directories");
		touch(fd, c.disk);
		memset(&s, 0, sizeof(s));
		ok(vl_dir_list(v, fd, id, collect, &s) == 0 && s.n == 1 && has(&s, "child", VL_KIND_PLAIN),
		   "alpha lists its child");
		memset(&s, 0, sizeof(s));
		ok(vl_dir_list(v, fd, root, collect, &s) == 0 && s.n == 0,
		   "listed with the wrong directory ID: nothing decrypts");
	}

	/* A directory made twice (renamed on one device, created on another): after the merge
	 * it holds a sync client's copy of veilfs.dirid, and names under the copy's ID must
	 * be listed and found (issue 5). */
	{
		uint8_t gid[VL_DIRID_LEN], oid[VL_DIRID_LEN], ids[VL_DIRID_ALT_MAX][VL_DIRID_LEN];
		uint8_t file[VL_DIRID_FILE_LEN];
		char cc[VL_ENCNAME_MAX + 64], fb[VL_CONFLICT_NAME_MAX + 1], glong[256];
		struct vl_ename g, t, sh, lo, mv;
		int gfd, nfb;

		ok(vl_ename_make(v, root, "gamma", 5, VL_KIND_PLAIN, &g) == 0 &&
			   vl_dir_make(v, rootfd, root, &g, 0755, gid) == 0,
		   "mkdir gamma");
		gfd = vl_dir_open(rootfd, g.disk);
		memset(oid, 0x33, sizeof(oid));
		ok(vl_ename_make(v, gid, "mine.txt", 8, VL_KIND_PLAIN, &t) == 0, "gamma/mine.txt");
		touch(gfd, t.disk);
		ok(vl_ename_make(v, gid, "shared.txt", 10, VL_KIND_PLAIN, &t) == 0, "gamma/shared.txt");
		touch(gfd, t.disk);
		/* The other device's names, under its ID. */
		ok(vl_ename_make(v, oid, "theirs.txt", 10, VL_KIND_PLAIN, &t) == 0, "theirs.txt under the other ID");
		touch(gfd, t.disk);
		snprintf(cc, sizeof(cc), "%s (1)", t.disk);
		touch(gfd, cc);
		ok(vl_ename_make(v, oid, "shared.txt", 10, VL_KIND_PLAIN, &sh) == 0, "shared.txt under the other ID");
		touch(gfd, sh.disk);
		memset(glong, 'q', 255);
		glong[255] = '\0';
		ok(vl_ename_make(v, oid, glong, 255, VL_KIND_PLAIN, &lo) == 0 && lo.is_long &&
			   vl_dir_put_sidecar(gfd, &lo) == 0,
		   "a long name under the other ID, with its sidecar");
		touch(gfd, lo.disk);
		memset(&s, 0, sizeof(s));
		ok(vl_dir_list(v, gfd, gid, collect, &s) == 0 && s.n == 2,
		   "without a veilfs.dirid copy only gamma's own names list (got %d)", s.n);
		ok(vl_dir_lookup(v, gfd, gid, "theirs.txt", 10, &e2, &st) == -ENOENT,
		   "and theirs.txt is not found");

		vl_dirid_file_build(file, oid);
		ok(vl_write_atomic(gfd, "veilfs (conflicted copy 2025-02-10).dirid", file, sizeof(file), 0444, true) == 0,
		   "the sync client's copy of veilfs.dirid arrives");
		ok(vl_write_atomic(gfd, "veilfs.dirid.sync-conflict-20250210-101500-ABCDEFG", "junk", 4, 0444, true) == 0,
		   "and a malformed one");
		ok(vl_write_atomic(gfd, "veilfs.dirid (1)", file, sizeof(file), 0444, true) == 0,
		   "and a duplicate");
		n = vl_dir_alt_ids(gfd, gid, ids);
		ok(n == 1 && !memcmp(ids[0], oid, VL_DIRID_LEN), "vl_dir_alt_ids: one ID (the malformed copy and the duplicate are skipped)");

		memset(&s, 0, sizeof(s));
		r = vl_dir_list(v, gfd, gid, collect, &s);
		nfb = vl_conflict_fallback("shared.txt", 10, " (other directory ID)", 21, sh.disk,
					   strlen(sh.disk), fb, sizeof(fb));
		ok(r == 0 && s.n == 6, "gamma lists 6 entries with the copy (got %d)", s.n);
		ok(has(&s, "mine.txt", VL_KIND_PLAIN) && has(&s, "shared.txt", VL_KIND_PLAIN),
		   "its own names");
		ok(has(&s, "theirs.txt", VL_KIND_PLAIN), "theirs.txt (under the other ID) listed");
		ok(has(&s, glong, VL_KIND_PLAIN), "the long name under the other ID listed");
		ok(has(&s, "theirs (1).txt", VL_KIND_PLAIN), "a conflict copy of a name under the other ID listed");
		ok(nfb > 0 && has(&s, fb, VL_KIND_PLAIN),
		   "the other ID's shared.txt clashes: listed as '%s'", nfb > 0 ? fb : "?");

		r = vl_dir_lookup(v, gfd, gid, "theirs.txt", 10, &e2, &st);
		ok(r == 0 && e2.is_alt && !memcmp(e2.altid, oid, VL_DIRID_LEN) && !strcmp(e2.disk, t.disk),
		   "lookup finds theirs.txt under the other ID, with its on-disk name");
		r = vl_dir_lookup(v, gfd, gid, glong, 255, &e2, &st);
		ok(r == 0 && e2.is_alt && e2.is_long && !strcmp(e2.disk, lo.disk) &&
			   !strcmp(e2.sidecar, lo.sidecar),
		   "lookup finds the long name with its sidecar");
		r = vl_dir_lookup(v, gfd, gid, "theirs (1).txt", 14, &e2, &st);
		ok(r == 0 && e2.is_alt && e2.is_conflict && !strcmp(e2.disk, cc),
		   "lookup finds the conflict copy's display name");
		r = vl_dir_lookup(v, gfd, gid, "shared.txt", 10, &e2, &st);
		ok(r == 0 && !e2.is_alt, "shared.txt is gamma's own");
		r = nfb > 0 ? vl_dir_lookup(v, gfd, gid, fb, (size_t)nfb, &e2, &st) : -1;
		ok(r == 0 && e2.is_alt && !strcmp(e2.disk, sh.disk), "the clashing name is found in its fallback form");
		ok(vl_dir_lookup(v, gfd, gid, "nothere", 7, &e2, &st) == -ENOENT && !e2.is_alt,
		   "a missing name: ENOENT with gamma's own names for a create");

		/* Renaming re-encrypts the name under gamma's own ID: migrated. */
		r = vl_dir_lookup(v, gfd, gid, "theirs.txt", 10, &e2, &st);
		ok(r == 0 && vl_ename_make(v, gid, "theirs.txt", 10, VL_KIND_PLAIN, &mv) == 0 &&
			   renameat(gfd, e2.disk, gfd, mv.disk) == 0,
		   "rename theirs.txt under gamma's ID");
		r = vl_dir_lookup(v, gfd, gid, "theirs.txt", 10, &e2, &st);
		ok(r == 0 && !e2.is_alt && !strcmp(e2.disk, mv.disk), "found as gamma's own now");

		/* More copies than VL_DIRID_ALT_MAX: bounded. */
		for (i = 0; i < VL_DIRID_ALT_MAX + 2; i++) {
			uint8_t x[VL_DIRID_LEN];

			memset(x, 0x40 + i, sizeof(x));
			vl_dirid_file_build(file, x);
			snprintf(cc, sizeof(cc), "veilfs.dirid.conflict%d", i + 1);
			if (vl_write_atomic(gfd, cc, file, sizeof(file), 0444, true) < 0)
				break;
		}
		ok(vl_dir_alt_ids(gfd, gid, ids) == VL_DIRID_ALT_MAX, "at most %d alternate IDs", VL_DIRID_ALT_MAX);
		memset(&s, 0, sizeof(s));
		ok(vl_dir_list(v, gfd, gid, collect, &s) == 0, "still lists");
		ok(vl_dir_alt_ids_cached(gfd, gid, ids) == VL_DIRID_ALT_MAX, "the listing filled the lookup cache");

		/* The copies deleted: a listing refreshes the cache at once (no 1 s wait). */
		for (i = 0; i < VL_DIRID_ALT_MAX + 2; i++) {
			snprintf(cc, sizeof(cc), "veilfs.dirid.conflict%d", i + 1);
			(void)unlinkat(gfd, cc, 0);
		}
		(void)unlinkat(gfd, "veilfs (conflicted copy 2025-02-10).dirid", 0);
		(void)unlinkat(gfd, "veilfs.dirid (1)", 0);
		memset(&s, 0, sizeof(s));
		ok(vl_dir_list(v, gfd, gid, collect, &s) == 0 && !has(&s, glong, VL_KIND_PLAIN),
		   "without the copies, the other ID's names no longer list");
		ok(vl_dir_alt_ids_cached(gfd, gid, ids) == 0, "and the cache knows at once");
		ok(vl_dir_lookup(v, gfd, gid, glong, 255, &e2, &st) == -ENOENT, "nor are they found");
		close(gfd);
	}

	/* Deterministic IDs: a second tree, same master key, same path -> same veilfs.dirid. */
	tc_tmpdir(dir2);
	r = vl_vault_open_master(&w, dir2, NULL, master, err, sizeof(err));
	ok(r == 0, "second tree opened with the same master key (%s)", r ? err : "ok");
	if (r == 0) {
		const uint8_t *root2 = vl_vault_root_id(w);
		uint8_t bid1[VL_DIRID_LEN], bid2[VL_DIRID_LEN], aid2[VL_DIRID_LEN];
		struct vl_ename a2, b1, b2;
		int fd2, bfd1, bfd2;

		ok(!memcmp(root2, root, VL_DIRID_LEN), "same root ID (derived: no veilfs.dirid there)");
		ok(vl_ename_make(w, root2, "alpha", 5, VL_KIND_PLAIN, &a2) == 0 &&
			   vl_dir_make(w, vl_vault_rootfd(w), root2, &a2, 0755, aid2) == 0,
		   "tree 2: mkdir alpha");
		fd2 = vl_dir_open(vl_vault_rootfd(w), a2.disk);
		ok(vl_ename_make(v, id, "beta", 4, VL_KIND_PLAIN, &b1) == 0 &&
			   vl_dir_make(v, fd, id, &b1, 0755, bid1) == 0 &&
			   vl_ename_make(w, aid2, "beta", 4, VL_KIND_PLAIN, &b2) == 0 &&
			   vl_dir_make(w, fd2, aid2, &b2, 0755, bid2) == 0,
		   "both trees: mkdir alpha/beta");
		bfd1 = vl_dir_open(fd, b1.disk);
		bfd2 = vl_dir_open(fd2, b2.disk);
		ok(!strcmp(b1.disk, b2.disk) && bfd1 >= 0 && bfd2 >= 0 &&
			   same_file(bfd1, VL_DIRID_FILE, bfd2, VL_DIRID_FILE),
		   "alpha/beta: same encrypted name and byte-identical veilfs.dirid");
		ok(same_file(fd, VL_DIRID_FILE, fd2, VL_DIRID_FILE), "alpha: byte-identical veilfs.dirid");
		close(bfd1);
		close(bfd2);
		close(fd2);
		vl_vault_free(w);
	}
	tc_rmrf(dir2);

	close(lfd);
	close(fd);
	vl_vault_free(v);
	tc_rmrf(dir);
	return done_testing();
}
