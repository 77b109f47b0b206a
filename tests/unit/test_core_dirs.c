/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fs/dirs.c and fs/dirinfo.c on vaults of both formats: directory IDs, short and long names,
 * listing, foreign and undecryptable entries, another ID of a directory (a sync client's copy
 * of its ID file), deterministic IDs across two trees. Where format 2 differs by design (no
 * sidecars: a long name lives in its entry; ID files authenticated and bound to their place)
 * the format-2 behaviour is tested. Format 2's own behaviours: tests/unit/test_core_v2.c. */
#include "config.h"

#include "tap.h"
#include "core_util.h"

#include "crypto/dirid.h"
#include "crypto/names.h"
#include "crypto/secmem.h"
#include "fs/backing.h"
#include "fs/dirinfo.h"
#include "fs/dirs.h"
#include "fs/entry.h"

#define MAXSEEN 16

struct seen {
	int n;
	char names[MAXSEEN][256];
	enum vl_kind kinds[MAXSEEN];
	int nhidden;
	char hidden[MAXSEEN][VL_CONFLICT_NAME_MAX + 1];
	enum vl_hidden why[MAXSEEN];
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

static void collect_hidden(void *ctx, const char *disk, enum vl_hidden why)
{
	struct seen *s = ctx;

	if (s->nhidden < MAXSEEN) {
		snprintf(s->hidden[s->nhidden], sizeof(s->hidden[0]), "%s", disk);
		s->why[s->nhidden] = why;
	}
	s->nhidden++;
}

static const struct vl_listcb listcb = { collect, collect_hidden };

/* Lists dirfd (info di) into a fresh *s. */
static int list(const struct vl_vault *v, int dirfd, const struct vl_dirinfo *di, struct seen *s)
{
	memset(s, 0, sizeof(*s));
	return vl_dir_list2(v, dirfd, di, &listcb, s, NULL);
}

static int has(const struct seen *s, const char *name, enum vl_kind kind)
{
	int i;

	for (i = 0; i < s->n && i < MAXSEEN; i++)
		if (!strcmp(s->names[i], name) && s->kinds[i] == kind)
			return 1;
	return 0;
}

static int has_hidden(const struct seen *s, const char *disk, enum vl_hidden why)
{
	for (int i = 0; i < s->nhidden && i < MAXSEEN; i++)
		if (!strcmp(s->hidden[i], disk) && s->why[i] == why)
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

/* A sync client's copy of file from as to (bytes as they are). */
static void copy_file(int dirfd, const char *from, const char *to)
{
	uint8_t buf[8192];
	ssize_t n = vl_read_small(dirfd, from, buf, sizeof(buf));

	if (n < 0 || vl_write_atomic(dirfd, to, buf, (size_t)n, 0600, true) < 0) {
		fprintf(stderr, "# copy %s: %zd\n", from, n);
		exit(99);
	}
}

/* A file of the library's making (tc_file), closed. */
static void mkfile(const struct vl_vault *v, int dirfd, const struct vl_dirinfo *di, const char *name,
		   enum vl_kind kind, struct vl_ename *e)
{
	close(tc_file(v, dirfd, di, name, kind, e, NULL));
}

static int same_file(int d1, const char *n1, int d2, const char *n2)
{
	uint8_t a[VL_IDFILE_MAX], b[VL_IDFILE_MAX];
	ssize_t x = vl_read_small(d1, n1, a, sizeof(a)), y = vl_read_small(d2, n2, b, sizeof(b));

	return x > 0 && x == y && !memcmp(a, b, (size_t)x);
}

/* True when no file of dirfd starts with the format-1 sidecar marker '9'. */
static bool no_sidecars(int dirfd)
{
	struct dirent *d;
	DIR *dir;
	bool none = true;

	if (vl_dir_stream(dirfd, &dir) < 0)
		return false;
	while ((d = readdir(dir)))
		if (d->d_name[0] == VL_MARK_SIDECAR)
			none = false;
	closedir(dir);
	return none;
}

/* Writes an ID file for ID id at di's place (format 2: authenticated, bound to the place) or
 * format 1's 18 bytes, under the file name name. */
static int write_idcopy(const struct vl_vault *v, int dfd, const struct vl_dirinfo *di,
			const uint8_t id[static VL_DIRID_LEN], const char *name)
{
	uint8_t buf[VL_IDFILE_MAX];
	struct vl_idfile f;
	int len;

	if (vl_vault_format(v) == VL_FORMAT_V1) {
		vl_dirid_file_build(buf, id);
		return vl_write_atomic(dfd, name, buf, VL_DIRID_FILE_LEN, 0444, true);
	}
	memset(&f, 0, sizeof(f));
	memcpy(f.id, id, VL_DIRID_LEN);
	f.nplaces = 1;
	f.place[0] = di->place;
	len = vl_idfile_build(vl_vault_keys(v), &f, buf, sizeof(buf));
	return len < 0 ? len : vl_write_atomic(dfd, name, buf, (size_t)len, 0444, true);
}

static void run(unsigned fmt)
{
	uint8_t master[VL_MASTER_KEY_LEN], id[VL_DIRID_LEN];
	char dir[PATH_MAX], dir2[PATH_MAX], longname[256], err[256];
	struct vl_dirinfo alpha, ai, li, tmpi;
	struct vl_ename e, e2, el, ef;
	struct vl_vault *v, *w = NULL;
	const struct vl_dirinfo *root;
	const char *F;
	struct seen s;
	struct stat st;
	bool v2 = fmt >= VL_FORMAT_V2;
	int rootfd, fd, lfd, r, i, n;

	umask(022);
	v = tc_vault(dir, fmt, 4096, 220, master);
	F = tc_fmt(v);
	rootfd = vl_vault_rootfd(v);
	root = vl_vault_root_info(v);

	/* Root ID: stored file equals the derived one. */
	ok(vl_dirid_root(vl_vault_keys(v), id) == 0 && !memcmp(id, root->id, VL_DIRID_LEN) &&
		   !memcmp(id, vl_vault_root_id(v), VL_DIRID_LEN) && (root->flags & VL_DI_FILE),
	   "%s: root ID read from veilfs.dirid equals the derived root ID", F);

	/* A short-named directory. */
	r = vl_ename_make(v, root, "alpha", 5, VL_KIND_PLAIN, &e);
	ok(r == 0 && !e.is_long && !strcmp(e.disk, e.full) && e.sidecar[0] == '\0',
	   "%s: short name: disk name is the full encoded name", F);
	ok(vl_dir_make(v, rootfd, root, &e, 0755, &alpha) == 0, "%s: vl_dir_make alpha", F);
	ok(vl_dirid_derive(vl_vault_keys(v), root->id, e.full, e.fulllen, id) == 0 &&
		   !memcmp(alpha.id, id, VL_DIRID_LEN),
	   "%s: its ID is HMAC(K_dirid, parent || F)", F);
	r = vl_dir_lookup(v, rootfd, root, "alpha", 5, &e2, &st, 0);
	ok(r == 0 && S_ISDIR(st.st_mode) && e2.kind == VL_KIND_PLAIN && !strcmp(e2.disk, e.disk),
	   "%s: lookup finds alpha as a plain directory", F);
	ok(vl_dir_make(v, rootfd, root, &e, 0755, &tmpi) == -EEXIST, "%s: mkdir again: EEXIST", F);
	fd = vl_dir_open(rootfd, e.disk);
	ok(fd >= 0 && vl_dir_child_info(v, fd, root, &e2, &ai) == 0 &&
		   !memcmp(ai.id, alpha.id, VL_DIRID_LEN) && (ai.flags & VL_DI_FILE) && ai.nalt == 0,
	   "%s: veilfs.dirid inside holds the ID", F);

	/* Missing and malformed veilfs.dirid. */
	ok(unlinkat(fd, VL_DIRID_FILE, 0) == 0, "%s: remove alpha/veilfs.dirid", F);
	memset(&ai, 0, sizeof(ai));
	ok(vl_dir_child_info(v, fd, root, &e2, &ai) == 0 && !memcmp(ai.id, alpha.id, VL_DIRID_LEN) &&
		   (ai.flags & VL_DI_MISSING) && (ai.flags & VL_DI_DERIVED) && !(ai.flags & VL_DI_FILE),
	   "%s: missing ID file (and no children): re-derived", F);
	ok(faccessat(fd, VL_DIRID_FILE, F_OK, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT,
	   "%s: re-derivation did not write the file", F);
	if (!v2) {
		ok(vl_dirinfo_read(v, fd, root, root->id, e.disk, e.fulllen, NULL, 0, &ai) == -ENOENT,
		   "%s: missing, no name given: ENOENT", F);
		ok(vl_write_atomic(fd, VL_DIRID_FILE, "\0\1short", 7, 0444, true) == 0 &&
			   vl_dir_child_info(v, fd, root, &e2, &ai) == -EIO,
		   "%s: malformed ID file (7 bytes): EIO", F);
		{
			uint8_t buf[VL_DIRID_FILE_LEN];

			vl_dirid_file_build(buf, alpha.id);
			buf[1] = 2; /* version 2 */
			ok(vl_write_atomic(fd, VL_DIRID_FILE, buf, sizeof(buf), 0444, false) == 0 &&
				   vl_dir_child_info(v, fd, root, &e2, &ai) == -EIO,
			   "%s: ID file of version 2: EIO", F);
		}
	} else {
		/* Format 2: an ID file that is not valid is never used (FORMAT.md §5.1); the
		 * directory then gets its derived ID (it has no children to recover from). */
		uint8_t buf[VL_DIRID_FILE_LEN];

		ok(vl_write_atomic(fd, VL_DIRID_FILE, "\0\1short", 7, 0444, true) == 0 &&
			   vl_dir_child_info(v, fd, root, &e2, &ai) == 0 && (ai.flags & VL_DI_BAD_FILES) &&
			   (ai.flags & VL_DI_DERIVED) && !(ai.flags & VL_DI_FILE) &&
			   !memcmp(ai.id, alpha.id, VL_DIRID_LEN),
		   "%s: malformed ID file (7 bytes): not used, reported, derived ID", F);
		vl_dirid_file_build(buf, alpha.id);
		ok(vl_write_atomic(fd, VL_DIRID_FILE, buf, sizeof(buf), 0444, false) == 0 &&
			   vl_dir_child_info(v, fd, root, &e2, &ai) == 0 && (ai.flags & VL_DI_BAD_FILES) &&
			   !(ai.flags & VL_DI_FILE),
		   "%s: a format-1 ID file is not valid in a format-2 vault", F);
	}
	{
		uint8_t pt[VL_TOKEN_LEN];

		ok(vl_dir_ptoken(v, root, root->id, pt) == 0 &&
			   vl_dirinfo_write(v, fd, &alpha, pt, NULL, false) == 0 &&
			   vl_dir_child_info(v, fd, root, &e2, &ai) == 0 && (ai.flags & VL_DI_FILE) &&
			   !(ai.flags & VL_DI_BAD_FILES) && !memcmp(ai.id, alpha.id, VL_DIRID_LEN),
		   "%s: restore it (vl_dirinfo_write): valid again", F);
	}

	/* A 255-byte UTF-8 directory name: long. */
	for (i = 0; i < 127; i++)
		memcpy(longname + 2 * i, "\xc3\xa9", 2); /* é */
	longname[254] = 'z';
	longname[255] = '\0';
	r = vl_ename_make(v, root, longname, 255, VL_KIND_PLAIN, &el);
	if (!v2)
		ok(r == 0 && el.is_long && strlen(el.disk) == VL_LONGNAME_LEN && el.disk[0] == '8' &&
			   el.sidecar[0] == '9' && !strcmp(el.disk + 1, el.sidecar + 1),
		   "%s: 255-byte name is long: '8'+hash, sidecar '9'+hash", F);
	else
		ok(r == 0 && el.is_long && strlen(el.disk) == VL_LONGNAME_LEN && el.disk[0] == '8' &&
			   el.sidecar[0] == '\0',
		   "%s: 255-byte name is long: '8'+hash, no sidecar", F);
	ok(vl_dir_make(v, rootfd, root, &el, 0151, &li) == 0, "%s: vl_dir_make with a long name, mode 0151",
	   F);
	ok(fstatat(rootfd, el.disk, &st, AT_SYMLINK_NOFOLLOW) == 0 && (st.st_mode & 07777) == 0151,
	   "%s: the directory has the mode asked for (0151), not a writable one", F);
	if (!v2) {
		char side[VL_ENCNAME_MAX + 1];
		ssize_t k = vl_read_small(rootfd, el.sidecar, side, sizeof(side));

		ok(k == (ssize_t)el.fulllen && !memcmp(side, el.full, el.fulllen),
		   "%s: sidecar holds the full encoded name", F);
	} else {
		char full[VL_ENCNAME_MAX + 1];
		int dfd = vl_dir_open(rootfd, el.disk);

		ok(no_sidecars(rootfd) && dfd >= 0 &&
			   vl_dir_long_name(v, dfd, el.disk, full) == (int)el.fulllen &&
			   !memcmp(full, el.full, el.fulllen),
		   "%s: no sidecar; the directory's ID file holds the full encoded name", F);
		if (dfd >= 0)
			close(dfd);
	}
	r = vl_dir_lookup(v, rootfd, root, longname, 255, &e2, &st, 0);
	ok(r == 0 && e2.is_long && S_ISDIR(st.st_mode) && !strcmp(e2.disk, el.disk),
	   "%s: lookup of the long name stats the long entry", F);
	ok(vl_dir_make(v, rootfd, root, &el, 0755, &tmpi) == -EEXIST &&
		   (v2 || faccessat(rootfd, el.sidecar, F_OK, AT_SYMLINK_NOFOLLOW) == 0),
	   "%s: mkdir of an existing long name: EEXIST%s", F, v2 ? "" : ", sidecar kept");
	lfd = vl_dir_open(rootfd, el.disk);
	ok(lfd >= 0 && vl_dir_child_info(v, lfd, root, &e2, &tmpi) == 0 &&
		   !memcmp(li.id, tmpi.id, VL_DIRID_LEN) && (tmpi.flags & VL_DI_FILE),
	   "%s: long-named directory's ID file", F);

	/* A long-named regular file and an object file. */
	longname[254] = 'f';
	ok(vl_ename_make(v, root, longname, 255, VL_KIND_PLAIN, &ef) == 0 && ef.is_long &&
		   vl_dir_put_sidecar(rootfd, &ef) == 0 && vl_dir_put_sidecar(rootfd, &ef) == 0,
	   "%s: put_sidecar twice (same content) is fine", F);
	ok(v2 ? no_sidecars(rootfd) : faccessat(rootfd, ef.sidecar, F_OK, AT_SYMLINK_NOFOLLOW) == 0,
	   "%s: %s", F, v2 ? "put_sidecar writes no sidecar" : "the sidecar exists");
	mkfile(v, rootfd, root, longname, VL_KIND_PLAIN, &ef);
	ok(vl_ename_make(v, root, "link", 4, VL_KIND_OBJECT, &e2) == 0 && e2.full[0] == '1',
	   "%s: object kind names start with '1'", F);
	mkfile(v, rootfd, root, "link", VL_KIND_OBJECT, &e2);
	r = vl_dir_lookup(v, rootfd, root, "link", 4, &e2, &st, 0);
	ok(r == 0 && e2.kind == VL_KIND_OBJECT && S_ISREG(st.st_mode), "%s: lookup finds the object kind", F);
	r = vl_dir_lookup(v, rootfd, root, "nothere", 7, &e2, &st, 0);
	ok(r == -ENOENT && e2.kind == VL_KIND_PLAIN && e2.full[0] != '1',
	   "%s: lookup of a missing name: ENOENT, plain names left in e", F);
	ok(vl_dir_lookup(v, rootfd, root, "a/b", 3, &e2, &st, 0) == -EINVAL, "%s: name with '/': EINVAL", F);

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
		   "%s: a name encrypted for another directory classifies as short", F);
		touch(rootfd, enc);
		/* A conflict copy of a real name: listed under its display name (issue 5). */
		{
			char cc[VL_ENCNAME_MAX + 32];

			snprintf(cc, sizeof(cc), "%.200s (conflicted copy)", e.full);
			ok(mkdirat(rootfd, cc, 0755) == 0, "%s: a conflict copy of directory alpha", F);
			if (v2) {
				/* A sync client copies the directory with its ID file. */
				int cfd = vl_dir_open(rootfd, cc), afd = vl_dir_open(rootfd, e.disk);
				uint8_t buf[VL_IDFILE_MAX];
				ssize_t k = vl_read_small(afd, VL_DIRID_FILE, buf, sizeof(buf));

				if (cfd < 0 || afd < 0 || k < 0 ||
				    vl_write_atomic(cfd, VL_DIRID_FILE, buf, (size_t)k, 0444, true) < 0)
					exit(99);
				close(cfd);
				close(afd);
			}
		}
		r = list(v, rootfd, root, &s);
		longname[254] = 'z';
		ok(r == 0 && s.n == 5, "%s: root lists exactly 5 entries (got %d)", F, s.n);
		ok(has(&s, "alpha (conflicted copy)", VL_KIND_PLAIN), "%s: conflict copy of alpha listed", F);
		ok(has(&s, "alpha", VL_KIND_PLAIN), "%s: alpha listed", F);
		ok(has(&s, longname, VL_KIND_PLAIN), "%s: long-named directory listed with its 255-byte name",
		   F);
		longname[254] = 'f';
		ok(has(&s, longname, VL_KIND_PLAIN), "%s: long-named file listed", F);
		ok(has(&s, "link", VL_KIND_OBJECT), "%s: object listed with its kind", F);
		/* fsck relies on the junk being passed as foreign (it notes it as ignored); helper
		 * files (veilfs.conf, veilfs.dirid, format 1's sidecars) are not reported. */
		ok(s.nhidden == 4 && has_hidden(&s, enc, VL_HIDDEN_UNDECRYPTABLE) &&
			   has_hidden(&s, ".DS_Store", VL_HIDDEN_FOREIGN) &&
			   has_hidden(&s, "desktop.ini", VL_HIDDEN_FOREIGN) &&
			   has_hidden(&s, ".veilfs.tmp.0123456789abcdef01234567", VL_HIDDEN_FOREIGN),
		   "%s: the hidden callback reports the undecryptable name and the junk, no helper file (%d)",
		   F, s.nhidden);
	}
	n = 0;
	ok(vl_dir_list(v, rootfd, root, stop_at_first, &n) == 42 && n == 1,
	   "%s: callback's non-zero return stops the listing", F);

	if (!v2) {
		/* Damaged sidecar: the long entry is skipped. */
		ok(vl_write_atomic(rootfd, ef.sidecar, "abc", 3, 0444, false) == 0,
		   "%s: damage the file's sidecar", F);
		ok(list(v, rootfd, root, &s) == 0 && s.n == 4 && !has(&s, longname, VL_KIND_PLAIN) &&
			   has_hidden(&s, ef.disk, VL_HIDDEN_LONG_NAME),
		   "%s: entry with a bad sidecar is skipped (and reported)", F);
		ok(vl_dir_put_sidecar(rootfd, &ef) == 0, "%s: put_sidecar repairs a damaged sidecar", F);
		ok(list(v, rootfd, root, &s) == 0 && s.n == 5, "%s: listed again after repair", F);
		ok(vl_dir_drop_sidecar(rootfd, &ef) == 0 && vl_dir_drop_sidecar(rootfd, &ef) == 0,
		   "%s: drop_sidecar twice: missing is not an error", F);
		ok(list(v, rootfd, root, &s) == 0 && s.n == 4, "%s: entry without sidecar skipped", F);
	} else {
		/* Format 2: the name is in the long header; a damaged one hides the entry. */
		const uint64_t off = 58 + 5; /* a byte of the SIV output in the long header */
		int ffd = openat(rootfd, ef.disk, O_RDWR | O_CLOEXEC);
		uint8_t b;

		ok(ffd >= 0 && pread(ffd, &b, 1, off) == 1 && (b ^= 1, pwrite(ffd, &b, 1, off) == 1),
		   "%s: damage the long file's header (its name)", F);
		ok(list(v, rootfd, root, &s) == 0 && s.n == 4 && !has(&s, longname, VL_KIND_PLAIN) &&
			   has_hidden(&s, ef.disk, VL_HIDDEN_LONG_NAME),
		   "%s: entry with a damaged long header is skipped (and reported)", F);
		ok(vl_dir_lookup(v, rootfd, root, longname, 255, &e2, &st, 0) == 0 && e2.is_long,
		   "%s: a lookup still finds its on-disk name (the header is checked when it is read)", F);
		{
			struct vl_content *c = tc_content(v, root, &e2);
			uint8_t x[4];

			ok(vl_content_read(c, ffd, x, sizeof(x), 0) == -EIO,
			   "%s: and reading it fails: EIO", F);
			vl_content_free(c);
		}
		ok(pwrite(ffd, (b ^= 1, &b), 1, off) == 1 && list(v, rootfd, root, &s) == 0 && s.n == 5,
		   "%s: listed again after repair", F);
		if (ffd >= 0)
			close(ffd);
	}

	/* Names inside alpha are bound to alpha's ID: alpha's child does not decrypt at root. */
	{
		struct vl_ename c;
		struct vl_dirinfo wrong = *root;

		ok(vl_ename_make(v, &alpha, "child", 5, VL_KIND_PLAIN, &c) == 0 &&
			   vl_ename_make(v, root, "child", 5, VL_KIND_PLAIN, &e2) == 0 &&
			   strcmp(c.full, e2.full) != 0,
		   "%s: the same name encrypts differently in two directories", F);
		mkfile(v, fd, &alpha, "child", VL_KIND_PLAIN, &c);
		ok(list(v, fd, &alpha, &s) == 0 && s.n == 1 && has(&s, "child", VL_KIND_PLAIN),
		   "%s: alpha lists its child", F);
		ok(list(v, fd, &wrong, &s) == 0 && s.n == 0 &&
			   has_hidden(&s, c.disk, VL_HIDDEN_UNDECRYPTABLE),
		   "%s: listed with the wrong directory info: nothing decrypts", F);
	}

	/* A directory made twice (renamed on one device, created on another): after the merge
	 * it holds a sync client's copy of veilfs.dirid, and names under the copy's ID must
	 * be listed and found (issue 5). */
	{
		uint8_t oid[VL_DIRID_LEN];
		char cc[VL_ENCNAME_MAX + 64], fb[VL_CONFLICT_NAME_MAX + 1], glong[256];
		struct vl_ename g, t, sh, lo, mv;
		struct vl_dirinfo gi, oi, gr;
		int gfd, nfb;

		ok(vl_ename_make(v, root, "gamma", 5, VL_KIND_PLAIN, &g) == 0 &&
			   vl_dir_make(v, rootfd, root, &g, 0755, &gi) == 0,
		   "%s: mkdir gamma", F);
		gfd = vl_dir_open(rootfd, g.disk);
		memset(oid, 0x33, sizeof(oid));
		/* The other device's gamma, with another ID: a directory it made as "old" and
		 * renamed to gamma. Its files were written while it was "old" (format 2: their
		 * headers carry the tokens of that place, which prove nothing here). */
		oi = gi;
		memcpy(oi.id, oid, VL_DIRID_LEN);
		if (v2) {
			struct vl_ename old;

			if (vl_ename_make(v, root, "old", 3, VL_KIND_PLAIN, &old) < 0)
				exit(99);
			memcpy(oi.place.name, old.full, old.fulllen + 1);
			oi.place.namelen = old.fulllen;
			memcpy(oi.disk, old.disk, old.fulllen + 1);
			oi.disklen = old.fulllen;
		}
		mkfile(v, gfd, &gi, "mine.txt", VL_KIND_PLAIN, &t);
		mkfile(v, gfd, &gi, "shared.txt", VL_KIND_PLAIN, &t);
		/* The other device's names, under its ID. */
		mkfile(v, gfd, &oi, "theirs.txt", VL_KIND_PLAIN, &t);
		snprintf(cc, sizeof(cc), "%s (1)", t.disk);
		copy_file(gfd, t.disk, cc);
		mkfile(v, gfd, &oi, "shared.txt", VL_KIND_PLAIN, &sh);
		memset(glong, 'q', 255);
		glong[255] = '\0';
		mkfile(v, gfd, &oi, glong, VL_KIND_PLAIN, &lo);
		ok(lo.is_long && (v2 ? lo.sidecar[0] == '\0' : faccessat(gfd, lo.sidecar, F_OK, 0) == 0),
		   "%s: a long name under the other ID%s", F, v2 ? " (no sidecar)" : ", with its sidecar");
		ok(vl_dir_child_info(v, gfd, root, &g, &gr) == 0 && gr.nalt == 0 &&
			   !memcmp(gr.id, gi.id, VL_DIRID_LEN),
		   "%s: without a copy of veilfs.dirid gamma has one ID", F);
		ok(list(v, gfd, &gr, &s) == 0 && s.n == 2,
		   "%s: without a veilfs.dirid copy only gamma's own names list (got %d)", F, s.n);
		ok(vl_dir_lookup(v, gfd, &gr, "theirs.txt", 10, &e2, &st, 0) == -ENOENT,
		   "%s: and theirs.txt is not found", F);

		ok(write_idcopy(v, gfd, &gi, oid, "veilfs (conflicted copy 2025-02-10).dirid") == 0,
		   "%s: the sync client's copy of veilfs.dirid arrives", F);
		ok(vl_write_atomic(gfd, "veilfs.dirid.sync-conflict-20250210-101500-ABCDEFG", "junk", 4, 0444, true) == 0,
		   "%s: and a malformed one", F);
		ok(write_idcopy(v, gfd, &gi, oid, "veilfs.dirid (1)") == 0, "%s: and a duplicate", F);
		ok(vl_dir_child_info(v, gfd, root, &g, &gr) == 0 && gr.nalt == 1 &&
			   !memcmp(gr.id, gi.id, VL_DIRID_LEN) && !memcmp(gr.alt[0], oid, VL_DIRID_LEN) &&
			   (gr.flags & VL_DI_COPIES) && (gr.flags & VL_DI_BAD_FILES) && (gr.flags & VL_DI_COPY_DUP),
		   "%s: one other ID (the malformed copy and the duplicate are skipped, and flagged)", F);

		r = list(v, gfd, &gr, &s);
		nfb = vl_conflict_fallback("shared.txt", 10, " (other directory ID)", 21, sh.disk,
					   strlen(sh.disk), fb, sizeof(fb));
		ok(r == 0 && s.n == 6, "%s: gamma lists 6 entries with the copy (got %d)", F, s.n);
		ok(has(&s, "mine.txt", VL_KIND_PLAIN) && has(&s, "shared.txt", VL_KIND_PLAIN),
		   "%s: its own names", F);
		ok(has(&s, "theirs.txt", VL_KIND_PLAIN), "%s: theirs.txt (under the other ID) listed", F);
		ok(has(&s, glong, VL_KIND_PLAIN), "%s: the long name under the other ID listed", F);
		ok(has(&s, "theirs (1).txt", VL_KIND_PLAIN),
		   "%s: a conflict copy of a name under the other ID listed", F);
		ok(nfb > 0 && has(&s, fb, VL_KIND_PLAIN), "%s: the other ID's shared.txt clashes: listed as '%s'",
		   F, nfb > 0 ? fb : "?");

		r = vl_dir_lookup(v, gfd, &gr, "theirs.txt", 10, &e2, &st, 0);
		ok(r == 0 && e2.is_alt && !memcmp(e2.altid, oid, VL_DIRID_LEN) && !strcmp(e2.disk, t.disk),
		   "%s: lookup finds theirs.txt under the other ID, with its on-disk name", F);
		r = vl_dir_lookup(v, gfd, &gr, glong, 255, &e2, &st, 0);
		ok(r == 0 && e2.is_alt && e2.is_long && !strcmp(e2.disk, lo.disk) &&
			   !strcmp(e2.sidecar, lo.sidecar),
		   "%s: lookup finds the long name%s", F, v2 ? "" : " with its sidecar");
		r = vl_dir_lookup(v, gfd, &gr, "theirs (1).txt", 14, &e2, &st, 0);
		ok(r == 0 && e2.is_alt && e2.is_conflict && !strcmp(e2.disk, cc),
		   "%s: lookup finds the conflict copy's display name", F);
		r = vl_dir_lookup(v, gfd, &gr, "shared.txt", 10, &e2, &st, 0);
		ok(r == 0 && !e2.is_alt, "%s: shared.txt is gamma's own", F);
		r = nfb > 0 ? vl_dir_lookup(v, gfd, &gr, fb, (size_t)nfb, &e2, &st, 0) : -1;
		ok(r == 0 && e2.is_alt && !strcmp(e2.disk, sh.disk),
		   "%s: the clashing name is found in its fallback form", F);
		ok(vl_dir_lookup(v, gfd, &gr, "nothere", 7, &e2, &st, 0) == -ENOENT && !e2.is_alt,
		   "%s: a missing name: ENOENT with gamma's own names for a create", F);

		/* Renaming re-encrypts the name under gamma's ID: migrated (format 2: and its
		 * header is bound to gamma's ID). */
		r = vl_dir_lookup(v, gfd, &gr, "theirs.txt", 10, &e2, &st, 0);
		if (r == 0 && vl_ename_make(v, &gr, "theirs.txt", 10, VL_KIND_PLAIN, &mv) == 0) {
			struct vl_move m = { .sdi = &gr, .sfd = gfd, .src = &e2, .st = st, .ddi = &gr,
					     .dfd = gfd, .dst = &mv, .may_copy = true };

			r = vl_move(v, &m);
			ok(r == 0 && m.kind == (v2 ? VL_MOVE_REBIND : VL_MOVE_RENAME),
			   "%s: rename theirs.txt under gamma's ID (%d)", F, r);
		} else {
			ok(0, "%s: rename theirs.txt under gamma's ID (lookup %d)", F, r);
		}
		r = vl_dir_lookup(v, gfd, &gr, "theirs.txt", 10, &e2, &st, 0);
		ok(r == 0 && !e2.is_alt && !strcmp(e2.disk, mv.disk), "%s: found as gamma's own now", F);
		{
			struct vl_content *c = tc_content(v, &gr, &e2);
			int tfd = openat(gfd, e2.disk, O_RDONLY | O_CLOEXEC);
			uint8_t x[4];

			ok(tfd >= 0 && vl_content_read(c, tfd, x, sizeof(x), 0) == 0,
			   "%s: and it reads (empty) under its new name", F);
			vl_content_free(c);
			if (tfd >= 0)
				close(tfd);
		}

		/* More copies than VL_DIRID_ALT_MAX: bounded. */
		for (i = 0; i < VL_DIRID_ALT_MAX + 2; i++) {
			uint8_t x[VL_DIRID_LEN];

			memset(x, 0x40 + i, sizeof(x));
			snprintf(cc, sizeof(cc), "veilfs.dirid.conflict%d", i + 1);
			if (write_idcopy(v, gfd, &gi, x, cc) < 0)
				break;
		}
		ok(vl_dir_child_info(v, gfd, root, &g, &gr) == 0 && gr.nalt == VL_DIRID_ALT_MAX - 1 &&
			   !memcmp(gr.id, gi.id, VL_DIRID_LEN) && !memcmp(gr.alt[0], oid, VL_DIRID_LEN),
		   "%s: at most %d IDs (the primary and %u others)", F, VL_DIRID_ALT_MAX, gr.nalt);
		ok(list(v, gfd, &gr, &s) == 0 && has(&s, glong, VL_KIND_PLAIN) && has(&s, "mine.txt", VL_KIND_PLAIN),
		   "%s: still lists, under the primary and the other IDs", F);

		/* The copies deleted: the next read of the directory knows at once. */
		for (i = 0; i < VL_DIRID_ALT_MAX + 2; i++) {
			snprintf(cc, sizeof(cc), "veilfs.dirid.conflict%d", i + 1);
			(void)unlinkat(gfd, cc, 0);
		}
		(void)unlinkat(gfd, "veilfs (conflicted copy 2025-02-10).dirid", 0);
		(void)unlinkat(gfd, "veilfs.dirid (1)", 0);
		ok(vl_dir_child_info(v, gfd, root, &g, &gr) == 0 && gr.nalt == 0,
		   "%s: without the copies, gamma has one ID again", F);
		ok(list(v, gfd, &gr, &s) == 0 && !has(&s, glong, VL_KIND_PLAIN) &&
			   has_hidden(&s, lo.disk, VL_HIDDEN_UNDECRYPTABLE),
		   "%s: the other ID's names no longer list (reported as undecryptable)", F);
		ok(vl_dir_lookup(v, gfd, &gr, glong, 255, &e2, &st, 0) == -ENOENT, "%s: nor are they found", F);
		close(gfd);
	}

	/* Deterministic IDs: a second tree, same master key, same path -> same veilfs.dirid. */
	tc_tmpdir(dir2);
	if (!v2) {
		/* Without a config a recovery opens format 2: give tree 2 tree 1's config. */
		char conf[VL_CONFIG_MAX];
		int d2 = open(dir2, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		ssize_t k = vl_read_small(rootfd, VL_CONFIG_FILE, conf, sizeof(conf));

		if (d2 < 0 || k < 0 || vl_write_atomic(d2, VL_CONFIG_FILE, conf, (size_t)k, 0400, true) < 0)
			exit(99);
		close(d2);
	}
	r = vl_vault_open_master(&w, dir2, NULL, master, err, sizeof(err));
	ok(r == 0 && vl_vault_format(w) == fmt, "%s: second tree opened with the same master key (%s)", F,
	   r ? err : "ok");
	if (r == 0) {
		const struct vl_dirinfo *root2 = vl_vault_root_info(w);
		struct vl_dirinfo a2i, b1i, b2i;
		struct vl_ename a2, b1, b2;
		int fd2, bfd1, bfd2;

		ok(!memcmp(root2->id, root->id, VL_DIRID_LEN),
		   "%s: same root ID (derived: no veilfs.dirid there)", F);
		ok(vl_ename_make(w, root2, "alpha", 5, VL_KIND_PLAIN, &a2) == 0 &&
			   vl_dir_make(w, vl_vault_rootfd(w), root2, &a2, 0755, &a2i) == 0,
		   "%s: tree 2: mkdir alpha", F);
		fd2 = vl_dir_open(vl_vault_rootfd(w), a2.disk);
		ok(vl_ename_make(v, &alpha, "beta", 4, VL_KIND_PLAIN, &b1) == 0 &&
			   vl_dir_make(v, fd, &alpha, &b1, 0755, &b1i) == 0 &&
			   vl_ename_make(w, &a2i, "beta", 4, VL_KIND_PLAIN, &b2) == 0 &&
			   vl_dir_make(w, fd2, &a2i, &b2, 0755, &b2i) == 0,
		   "%s: both trees: mkdir alpha/beta", F);
		bfd1 = vl_dir_open(fd, b1.disk);
		bfd2 = vl_dir_open(fd2, b2.disk);
		ok(!strcmp(b1.disk, b2.disk) && bfd1 >= 0 && bfd2 >= 0 &&
			   same_file(bfd1, VL_DIRID_FILE, bfd2, VL_DIRID_FILE),
		   "%s: alpha/beta: same encrypted name and byte-identical veilfs.dirid", F);
		ok(same_file(fd, VL_DIRID_FILE, fd2, VL_DIRID_FILE), "%s: alpha: byte-identical veilfs.dirid", F);
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
}

int main(void)
{
	if (vl_crypto_init() != 0) /* first: libcrypto allocates in the secure pool */
		return 99;
	run(VL_FORMAT_V1);
	run(VL_FORMAT_V2);
	return done_testing();
}
