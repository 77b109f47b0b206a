/* SPDX-License-Identifier: GPL-2.0-or-later */
/* veilctl fsck: checks the whole ciphertext tree through the library's resolver (fs/dirinfo.c
 * decides which IDs a directory has, fs/dirs.c what every name is and what the mount shows),
 * then every block, header, object and extended attribute with the crypto primitives. Each
 * finding is one line on stdout naming the ciphertext path (relative to CIPHERDIR) and,
 * where the name decrypts, the plaintext path. Anything in the ciphertext that the mount does
 * not show is a problem. --repair fixes only what cannot lose data. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "../crypto/conflict.h"
#include "../crypto/content.h"
#include "../crypto/dirid.h"
#include "../crypto/names.h"
#include "../crypto/secmem.h"
#include "../crypto/xattr.h"
#include "../fs/backing.h"
#include "../fs/dirs.h"
#include "../fs/entry.h"
#include "../fs/fileio.h"
#include "../fs/object.h"
#include "../fs/vault.h"
#include "progress.h"
#include "veilctl.h"
#include "walk.h"

/* How many failing blocks of one file are named before "and N more". */
#define MAX_BLOCKS_SHOWN 5

struct fsck {
	struct vl_vault *v;
	const struct vl_keys *k;
	bool v2;
	bool repair, quiet, progress;
	unsigned long problems, repaired, notes;
	unsigned long dirs, files, objects, entries;
	struct vc_path cpath; /* ciphertext path of what is being checked */
	struct vc_path ppath; /* plaintext path, "" for the root */
	bool ppath_known;
	/* The directory being checked has a valid veilfs.dirid holding its primary ID (read,
	 * or written by this repair): only then are duplicate copies of it removed. */
	bool idfile_ok;
};

static void progress(struct fsck *f)
{
	if (f->progress)
		vc_progress_item(1);
}

static void progress_clear(struct fsck *f)
{
	if (f->progress)
		vc_progress_clear();
}

/* One finding line: "KIND: CPATH [/PLAINPATH]: message". */
static void finding(struct fsck *f, const char *kind, const char *fmt, va_list ap)
{
	progress_clear(f);
	printf("%s: %s", kind, vc_path_str(&f->cpath));
	/* the plaintext path, or that of the directory when the name itself is unreadable */
	printf(f->ppath_known ? " [/%s]" : " [in /%s]", f->ppath.len ? f->ppath.s : "");
	fputs(": ", stdout);
	vprintf(fmt, ap);
	putchar('\n');
}

static void problem(struct fsck *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void problem(struct fsck *f, const char *fmt, ...)
{
	va_list ap;

	f->problems++;
	va_start(ap, fmt);
	finding(f, "problem", fmt, ap);
	va_end(ap);
}

/* A problem found and repaired: counts as both. */
static void repaired(struct fsck *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void repaired(struct fsck *f, const char *fmt, ...)
{
	va_list ap;

	f->problems++;
	f->repaired++;
	va_start(ap, fmt);
	finding(f, "repaired", fmt, ap);
	va_end(ap);
}

static void note(struct fsck *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(struct fsck *f, const char *fmt, ...)
{
	va_list ap;

	f->notes++;
	if (f->quiet)
		return;
	va_start(ap, fmt);
	finding(f, "info", fmt, ap);
	va_end(ap);
}

/* ---- contents ---- */

/* Checks the blocks of a ciphertext file of csize bytes with layout l and file ID id. */
static void check_blocks(struct fsck *f, int fd, const struct vl_layout *l, uint64_t csize,
			 enum vl_stream s, bool size_ok, const uint8_t id[static VL_FILEID_LEN])
{
	const uint32_t B = l->block_size;
	uint64_t n = csize - l->hdrlen, S = (uint64_t)B + VL_BLOCK_OVERHEAD;
	uint64_t nblocks = n / S + (n % S ? 1 : 0), shown = 0, bad = 0, first_bad = 0;
	struct vl_filekey *fk = NULL;
	uint8_t *ct = NULL, *pt = NULL;

	if (!size_ok)
		nblocks = n / S; /* the torn tail was reported; check the whole blocks before it */
	ct = malloc(S);
	pt = malloc(B);
	if (!ct || !pt || vl_filekey_new(&fk, f->k, s, id) < 0) {
		problem(f, "cannot check the blocks: out of memory or key derivation failed");
		goto out;
	}
	for (uint64_t i = 0; i < nblocks; i++) {
		uint64_t off = vl_block_offset(l, i);
		size_t len = (size_t)(csize - off < S ? csize - off : S);
		bool last = size_ok && i == nblocks - 1;
		ssize_t got = vl_pread_full(fd, ct, len, off);

		if (got != (ssize_t)len) {
			problem(f, "block %llu: read error", (unsigned long long)i);
			goto out;
		}
		if (f->progress)
			vc_progress_bytes(len + (i == 0 ? l->hdrlen : 0));
		if (vl_block_open(fk, i, last, ct, len, pt, B) >= 0)
			continue;
		/* A file cut at a block boundary: its last block is not marked last. */
		if (last && i > 0 && bad == 0 && vl_block_open(fk, i, false, ct, len, pt, B) >= 0) {
			problem(f, "truncated at a block boundary after block %llu: its last block is not marked final (the end of the file is missing)",
				(unsigned long long)i);
			bad++;
			continue;
		}
		if (bad++ == 0)
			first_bad = i;
		if (shown < MAX_BLOCKS_SHOWN) {
			problem(f, "block %llu fails authentication (corrupted, or moved from elsewhere)",
				(unsigned long long)i);
			shown++;
		}
	}
	if (bad > shown && bad > MAX_BLOCKS_SHOWN)
		problem(f, "and %llu more corrupt blocks (the first at %llu)",
			(unsigned long long)(bad - shown), (unsigned long long)first_bad);
out:
	vl_filekey_free(fk);
	free(ct);
	if (pt)
		vl_wipe(pt, B);
	free(pt);
}

/* Format 1: a torn header (1..23 bytes, no data) is truncated to 0: those bytes hold no data. */
static void repair_torn_header(struct fsck *f, int dirfd, const char *disk, uint64_t csize)
{
	struct stat st;
	int fd;

	if (!f->repair) {
		problem(f, "torn header (%llu bytes, no data): `veilctl fsck --repair' truncates it to an empty file",
			(unsigned long long)csize);
		return;
	}
	fd = openat(dirfd, disk, O_WRONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	/* re-check on the open file: a sync client may have finished writing it meanwhile */
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size != (off_t)csize ||
	    ftruncate(fd, 0) < 0 || fsync(fd) < 0)
		problem(f, "torn header (%llu bytes, no data); could not truncate it: %s",
			(unsigned long long)csize, strerror(errno));
	else
		repaired(f, "torn header (%llu bytes, no data) truncated to an empty file",
			 (unsigned long long)csize);
	if (fd >= 0)
		close(fd);
}

/* ---- xattrs ---- */

static void check_xattrs(struct fsck *f, int fd, const uint8_t *binding)
{
	char *list = NULL, *name;
	uint8_t *val = NULL, *pt = NULL;
	ssize_t n;

	n = flistxattr(fd, NULL, 0);
	if (n <= 0)
		return;
	list = malloc((size_t)n + 1);
	if (!list)
		return;
	n = flistxattr(fd, list, (size_t)n);
	if (n <= 0)
		goto out;
	list[n] = '\0';
	for (name = list; name < list + n; name += strlen(name) + 1) {
		char plain[256];
		ssize_t vl;
		int r;

		if (strncmp(name, VL_XATTR_PREFIX, strlen(VL_XATTR_PREFIX)))
			continue; /* not ours */
		r = vl_xattr_name_decrypt(f->k, name, strlen(name), plain, sizeof(plain));
		if (r < 0) {
			problem(f, "extended attribute %s: its name does not decrypt", name);
			continue;
		}
		vl_wipe(plain, sizeof(plain));
		if (!binding) {
			problem(f, "extended attribute %s on an empty file without a header (cannot be bound)", name);
			continue;
		}
		vl = fgetxattr(fd, name, NULL, 0);
		if (vl < 0) {
			problem(f, "extended attribute %s: cannot read: %s", name, strerror(errno));
			continue;
		}
		free(val);
		free(pt);
		val = malloc((size_t)vl + 1);
		pt = malloc((size_t)vl + 1);
		if (!val || !pt)
			goto out;
		vl = fgetxattr(fd, name, val, (size_t)vl);
		if (vl < 0)
			continue;
		r = vl_xattr_value_open(f->k, binding, name, val, (size_t)vl, pt, (size_t)vl + 1);
		if (r < 0)
			problem(f, "extended attribute %s: its value fails authentication (corrupted, or copied from another file or attribute)",
				name);
		else
			vl_wipe(pt, (size_t)r);
	}
out:
	free(list);
	free(val);
	free(pt);
}

/* ---- files ---- */

/* Format 2: the header of fd (layout l), checked field by field so that the finding says
 * what is wrong (FORMAT.md §3.1). Fills id; *moving for a moving header. True when the
 * header can be used. */
static bool check_header2(struct fsck *f, int fd, const struct vl_layout *l, const struct vl_binding *b,
			  bool object, uint8_t id[static VL_FILEID_LEN], bool *moving)
{
	uint8_t hdr[VL_HEADER_LONG_LEN];
	struct vl_header h;
	bool fits;

	*moving = false;
	if (vl_pread_full(fd, hdr, l->hdrlen, 0) != (ssize_t)l->hdrlen) {
		problem(f, "cannot read the header: %s", strerror(errno));
		return false;
	}
	if (vl_header2_parse(f->k, hdr, l->hdrlen, &h) < 0) {
		problem(f, "header does not authenticate (corrupted, or not a format-2 veilfs file of this vault)");
		return false;
	}
	if (((h.flags & VL_HDR_OBJECT) != 0) != object) {
		problem(f, "header says it is %s, its name says otherwise", object ? "a regular file" : "a symlink or special file");
		return false;
	}
	fits = vl_ct_equal(h.parent, b->parent, VL_DIRID_LEN) ||
	       ((h.flags & VL_HDR_MOVING) && vl_ct_equal(h.token, b->parent, VL_DIRID_LEN));
	if (!fits) {
		problem(f, "belongs to another directory (its ciphertext was moved or copied here from elsewhere): veilfs refuses to read it");
		return false;
	}
	if (b->is_long && (h.namelen != b->namelen || !vl_ct_equal(h.name, b->name, h.namelen))) {
		problem(f, "the long name kept in its header is not its own name");
		return false;
	}
	*moving = (h.flags & VL_HDR_MOVING) != 0;
	memcpy(id, h.id, VL_FILEID_LEN);
	return true;
}

/* Format 2: finishes a rename cut short (FORMAT.md §3.5): the final header for where the
 * file is. */
static void finish_move(struct fsck *f, int dirfd, const char *disk, enum vl_stream s,
			const struct vl_binding *b)
{
	struct vl_content *c = NULL;
	int fd, r;

	if (!f->repair) {
		problem(f, "a rename into this directory was cut short (moving header): `veilctl fsck --repair' finishes it");
		return;
	}
	fd = openat(dirfd, disk, O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	r = fd < 0 ? -errno : vl_content_new(&c, f->v, s, b);
	if (r == 0)
		r = vl_content_rebind(c, fd, b, false);
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	if (r < 0)
		problem(f, "a rename into this directory was cut short (moving header); cannot finish it: %s",
			strerror(-r));
	else
		repaired(f, "a rename cut short finished (the header names this directory only)");
	vl_content_free(c);
	if (fd >= 0)
		close(fd);
}

/* A regular or object file e of directory dirfd (info di). */
static void check_file(struct fsck *f, int dirfd, const struct vl_dirinfo *di, const struct vl_ename *e)
{
	struct vl_layout l = vl_vault_layout(f->v, e->is_long);
	enum vl_stream s = e->kind == VL_KIND_OBJECT ? VL_STREAM_OBJECT : VL_STREAM_CONTENT;
	uint8_t id[VL_FILEID_LEN];
	struct vl_binding b;
	uint64_t psize;
	struct stat st;
	bool hdr = false, size_ok, moving = false;
	int fd;

	fd = openat(dirfd, e->disk, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		problem(f, "cannot open: %s", strerror(errno));
		if (fd >= 0)
			close(fd);
		return;
	}
	if (vl_ename_binding(f->v, di, e, &b) < 0) {
		problem(f, "cannot compute where the file belongs");
		close(fd);
		return;
	}
	if (e->kind == VL_KIND_OBJECT)
		f->objects++;
	else
		f->files++;
	if (!f->v2 && e->kind == VL_KIND_PLAIN && st.st_size == 0) {
		check_xattrs(f, fd, NULL);
		goto out;
	}
	if (!f->v2 && e->kind == VL_KIND_PLAIN && st.st_size < (off_t)l.hdrlen) {
		close(fd);
		repair_torn_header(f, dirfd, e->disk, (uint64_t)st.st_size);
		return;
	}
	if (f->v2 && st.st_size < (off_t)l.hdrlen + VL_BLOCK_OVERHEAD) {
		if (st.st_size == 0)
			problem(f, "empty ciphertext (0 bytes): the file was cut to nothing, or a sync client has not delivered it; its data is not here");
		else if (st.st_size == (off_t)l.hdrlen)
			problem(f, "cut to its header (%lld bytes): its data is not here", (long long)st.st_size);
		else
			problem(f, "size %lld is too small for a header and a block: cut short or half synced",
				(long long)st.st_size);
		goto out;
	}
	size_ok = vl_plain_size(&l, (uint64_t)st.st_size, &psize) == 0;
	if (!size_ok)
		problem(f, "size %lld ends inside a block's nonce or tag: the file was cut short or is half synced",
			(long long)st.st_size);
	if (f->v2) {
		hdr = check_header2(f, fd, &l, &b, e->kind == VL_KIND_OBJECT, id, &moving);
	} else {
		uint8_t h1[VL_HEADER_V1_LEN];

		hdr = vl_pread_full(fd, h1, sizeof(h1), 0) == (ssize_t)sizeof(h1) &&
		      vl_header_parse(h1, sizeof(h1), id) == 0;
		if (!hdr)
			problem(f, "bad header (magic, version or reserved field): not a veilfs v1 file");
	}
	if (hdr)
		check_blocks(f, fd, &l, (uint64_t)st.st_size, s, size_ok, id);
	if (hdr && e->kind == VL_KIND_OBJECT) {
		struct vl_object o;

		if (vl_object_read(f->v, fd, &b, &o) < 0)
			problem(f, "symlink or special file (object file, %lld bytes) does not decrypt",
				(long long)st.st_size);
	}
	check_xattrs(f, fd, hdr ? id : NULL);
	if (hdr && moving)
		finish_move(f, dirfd, e->disk, s, &b);
out:
	vl_wipe(&b, sizeof(b));
	close(fd);
}

/* ---- directories ---- */

/* Entries and hidden names of one directory, collected by the listing. */
struct item {
	char *name;		/* plaintext (display) name, or NULL for a hidden name */
	char *disk;		/* on-disk name */
	struct vl_ename *e;	/* shown entries: their names */
	char *orig, *suffix;	/* conflict copies */
	enum vl_hidden why;	/* hidden names */
};
struct items {
	struct vl_vault *v;
	const struct vl_dirinfo *di;
	struct item *v_;
	size_t n, cap;
	int err;
};

static struct item *items_add(struct items *l)
{
	if (l->n == l->cap) {
		size_t nc = l->cap ? l->cap * 2 : 64;
		struct item *nv = realloc(l->v_, nc * sizeof(*nv));

		if (!nv)
			return NULL;
		l->v_ = nv;
		l->cap = nc;
	}
	memset(&l->v_[l->n], 0, sizeof(l->v_[0]));
	return &l->v_[l->n++];
}

static int item_entry(void *ctx, const struct vl_dirent *de)
{
	struct items *l = ctx;
	struct item *it = items_add(l);

	if (!it)
		return -ENOMEM;
	it->name = strndup(de->name, de->namelen);
	it->disk = strdup(de->disk);
	it->e = malloc(sizeof(*it->e));
	if (de->conflict) {
		it->orig = strndup(de->orig, de->origlen);
		it->suffix = strndup(de->suffix, de->suffixlen);
	}
	if (!it->name || !it->disk || !it->e || (de->conflict && (!it->orig || !it->suffix)) ||
	    vc_dirent_ename(l->v, l->di, de, it->e) < 0) {
		l->err = -ENOMEM;
		return -ENOMEM;
	}
	return 0;
}

static void item_hidden(void *ctx, const char *disk, enum vl_hidden why)
{
	struct items *l = ctx;
	struct item *it = items_add(l);

	if (!it || !(it->disk = strdup(disk))) {
		l->err = -ENOMEM;
		return;
	}
	it->why = why;
}

static int item_cmp(const void *a, const void *b)
{
	return strcmp(((const struct item *)a)->disk, ((const struct item *)b)->disk);
}

static void items_free(struct items *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v_[i].name);
		free(l->v_[i].disk);
		free(l->v_[i].e);
		free(l->v_[i].orig);
		free(l->v_[i].suffix);
	}
	free(l->v_);
}

static const char alt_msg[] =
	"name is encrypted under another ID of its directory than the one new names get (the "
	"directory was created twice: renamed on one device, created on another; or its ID file "
	"was replaced); veilfs shows it; rename it through the mount (to another name and back) or "
	"run `veilctl conflicts --resolve-dirids' to move it under the directory's own ID";

/* A name that the listing does not show (and is not junk or a helper file). */
static void hidden_name(struct fsck *f, int dfd, const struct vl_dirinfo *di, const struct item *it)
{
	size_t len = strlen(it->disk), run = 0;
	char full[VL_ENCNAME_MAX + 1], plain[256], side[VL_CONFLICT_NAME_MAX + 1];
	enum vl_kind kind;

	switch (it->why) {
	case VL_HIDDEN_UNDECRYPTABLE:
		problem(f, "name does not decrypt in this directory (corrupted, or moved here from another directory); veilfs does not show it");
		return;
	case VL_HIDDEN_LONG_NAME:
		if (!f->v2)
			problem(f, "long name without its sidecar %c%s (or with a sidecar that does not match it): its name is lost; the data is still there (veilfs does not show it)",
				VL_MARK_SIDECAR, it->disk + 1);
		else
			problem(f, "long name whose full name cannot be read from the entry (header or ID file damaged); veilfs does not show it");
		return;
	case VL_HIDDEN_OTHER_ENTRY:
		problem(f, "long-named entry whose header is authentic but holds another entry's name (its ciphertext was moved, copied or swapped here); veilfs does not show it");
		return;
	case VL_HIDDEN_TOO_LONG:
		problem(f, "a short name longer than the vault's name_max: veilfs does not show it");
		return;
	case VL_HIDDEN_TOO_MANY:
		problem(f, "more conflict copies in one directory than veilfs lists (%d); this one is not shown",
			VL_CONFLICT_LIST_MAX);
		return;
	case VL_HIDDEN_FOREIGN:
	default:
		break;
	}
	if (!strncmp(it->disk, VL_TMP_PREFIX, strlen(VL_TMP_PREFIX))) {
		struct stat st;

		/* veilfs's own temporary (an ID file, a copy, an upgrade's file): one that is
		 * still here when nothing runs was left by a crash. */
		if (!f->repair)
			problem(f, "a temporary file left by an interrupted veilfs write or upgrade: `veilctl fsck --repair' removes it");
		else if (fstatat(dfd, it->disk, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
			problem(f, "a temporary file left by an interrupted veilfs write; not a regular file now: left alone");
		else if (unlinkat(dfd, it->disk, 0) < 0)
			problem(f, "a temporary file left by an interrupted veilfs write; cannot remove it: %s", strerror(errno));
		else
			repaired(f, "a temporary file left by an interrupted veilfs write removed");
		return;
	}
	if (vl_conflict_is_junk(it->disk, len)) {
		note(f, "a sync client's or the system's own file (ignored)");
		return;
	}
	/* The longest prefix marker? [a-z2-7]+ is the name a client copied (FORMAT.md §4.5): a
	 * copy that decrypts but whose text the grammar refuses hides data. */
	if (it->disk[0] == VL_MARK_OBJECT || it->disk[0] == VL_MARK_LONG)
		run = 1;
	while (run < len && ((it->disk[run] >= 'a' && it->disk[run] <= 'z') ||
			     (it->disk[run] >= '2' && it->disk[run] <= '7')))
		run++;
	if (run > 0 && run < len && run <= VL_ENCNAME_MAX) {
		char base[VL_ENCNAME_MAX + 1];
		enum vl_ondisk od;
		int flen = -1;

		memcpy(base, it->disk, run);
		base[run] = '\0';
		od = vl_name_classify(base, run);
		if (od == VL_ONDISK_SHORT) {
			memcpy(full, base, run + 1);
			flen = (int)run;
		} else if (od == VL_ONDISK_LONG) {
			flen = vl_dir_long_entry_name(f->v, dfd, it->disk, len, full, side);
		}
		if (flen > 0) {
			bool dec = vl_name_decrypt(f->k, di->id, full, (size_t)flen, plain, sizeof(plain), &kind) >= 0;

			for (unsigned i = 0; !dec && i < di->nalt; i++)
				dec = vl_name_decrypt(f->k, di->alt[i], full, (size_t)flen, plain, sizeof(plain), &kind) >= 0;
			if (dec) {
				size_t oldp = vc_path_push(&f->ppath, plain);

				problem(f, "copy of /%s that the mount does not show (the text after the encrypted "
					   "name has a control, bidirectional or path character, or is not UTF-8): "
					   "rename the ciphertext entry to a plain suffix such as \" (1)\"",
					f->ppath.s);
				vc_path_pop(&f->ppath, oldp);
				return;
			}
		}
	}
	if (!f->v2 && it->disk[0] == VL_MARK_SIDECAR)
		return; /* format 1 sidecars: checked by orphans() */
	note(f, "foreign file, not made by veilfs (ignored)");
}

/* Format 1: sidecars ('9...') whose long name ('8...', or a copy of it) is gone. */
static void orphans(struct fsck *f, int dfd)
{
	struct dirent *d;
	DIR *dir;
	size_t oldc;

	if (vl_dir_stream(dfd, &dir) < 0)
		return;
	while ((d = readdir(dir))) {
		char lname[VL_CONFLICT_NAME_MAX + 1];
		struct stat st;
		size_t len = strlen(d->d_name);

		if (vl_name_classify(d->d_name, len) != VL_ONDISK_SIDECAR &&
		    !(d->d_name[0] == VL_MARK_SIDECAR && len > VL_LONGNAME_LEN &&
		      vl_name_classify(d->d_name, VL_LONGNAME_LEN) == VL_ONDISK_FOREIGN &&
		      vl_conflict_split(d->d_name, len, NULL) == VL_LONGNAME_LEN))
			continue;
		if (len > VL_CONFLICT_NAME_MAX)
			continue;
		memcpy(lname, d->d_name, len + 1);
		lname[0] = VL_MARK_LONG;
		if (fstatat(dfd, lname, &st, AT_SYMLINK_NOFOLLOW) == 0)
			continue; /* its entry is there */
		if (len > VL_LONGNAME_LEN)
			continue; /* a sidecar copy without its entry copy: the original's is used */
		{
			/* A copy '8<h>S' still needs the original sidecar '9<h>'. */
			struct dirent *d2;
			DIR *dir2;
			bool needed = false;

			if (vl_dir_stream(dfd, &dir2) == 0) {
				while (!needed && (d2 = readdir(dir2)))
					needed = d2->d_name[0] == VL_MARK_LONG && strlen(d2->d_name) > VL_LONGNAME_LEN &&
						 !memcmp(d2->d_name, lname, VL_LONGNAME_LEN);
				closedir(dir2);
			}
			if (needed)
				continue;
		}
		oldc = vc_path_push(&f->cpath, d->d_name);
		f->ppath_known = false;
		if (!f->repair)
			problem(f, "orphan sidecar (no entry %s): `veilctl fsck --repair' removes it", lname);
		else if (unlinkat(dfd, d->d_name, 0) < 0)
			problem(f, "orphan sidecar (no entry %s); cannot remove it: %s", lname, strerror(errno));
		else
			repaired(f, "orphan sidecar removed (it held only the name of an entry that is gone)");
		vc_path_pop(&f->cpath, oldc);
	}
	closedir(dir);
}

/* The ID files of directory dfd (info di): copies, files that are not valid here, a rename
 * cut short, duplicates; repairs what loses nothing. */
static void check_idfiles(struct fsck *f, int dfd, const struct vl_dirinfo *di,
			  const uint8_t ptoken[static VL_TOKEN_LEN])
{
	struct dirent *d;
	DIR *dir;
	size_t oldc;
	bool conf, here;
	int r;

	if (vl_dir_stream(dfd, &dir) < 0)
		return;
	while ((d = readdir(dir))) {
		uint8_t id[VL_DIRID_LEN];
		bool is_file = !strcmp(d->d_name, VL_DIRID_FILE);

		if (!is_file && !vl_conflict_is_reserved_copy(d->d_name, strlen(d->d_name), &conf))
			continue;
		if (!is_file && conf) {
			oldc = vc_path_push(&f->cpath, d->d_name);
			f->ppath_known = false;
			problem(f, "a sync client's copy of veilfs.conf: the password was changed on two devices; keep the config whose password you know, delete the other");
			vc_path_pop(&f->cpath, oldc);
			continue;
		}
		if (is_file && !f->v2)
			continue; /* format 1: check_dir reports a missing or malformed one */
		oldc = vc_path_push(&f->cpath, d->d_name);
		f->ppath_known = false;
		r = vl_idfile_read_id(f->v, dfd, d->d_name, di, id, &here);
		if (r < 0 || !here) {
			if (!f->v2)
				problem(f, "malformed conflict copy of veilfs.dirid: ignored by veilfs; delete it");
			else if (r < 0)
				problem(f, "directory ID file that does not authenticate (corrupted, or not made with this vault's key): not used");
			else
				problem(f, "directory ID file of another place (moved, copied or dropped here from another directory): not used");
		} else if (is_file) {
			/* valid veilfs.dirid: nothing to say */
		} else if (!memcmp(id, di->id, VL_DIRID_LEN)) {
			/* Without a valid veilfs.dirid this copy holds the ID: check_ids2 said so. */
			if (!f->idfile_ok)
				;
			else if (!f->repair)
				problem(f, "a sync client's copy of veilfs.dirid holding the directory's own ID again: `veilctl fsck --repair' removes it");
			else if (unlinkat(dfd, d->d_name, 0) < 0)
				problem(f, "a duplicate copy of veilfs.dirid; cannot remove it: %s", strerror(errno));
			else
				repaired(f, "a duplicate copy of veilfs.dirid removed (veilfs.dirid holds the same ID)");
		} else {
			problem(f, "a sync client's copy of veilfs.dirid: the directory was created twice under different IDs (renamed on one device, created on another); veilfs shows the names under both; rename each name reported as under this copy's ID through the mount (to another name and back), then delete this copy");
		}
		vc_path_pop(&f->cpath, oldc);
	}
	closedir(dir);
	if (f->v2 && (di->flags & VL_DI_TWO_PLACES)) {
		if (!f->repair) {
			problem(f, "its ID file names two places (a rename was cut short): `veilctl fsck --repair' finishes it");
		} else {
			r = vl_dirinfo_relocate(f->v, dfd, di->place.parent, di->disk, di->disklen, &di->place,
						false, ptoken);
			if (r < 0)
				problem(f, "its ID file names two places (a rename was cut short); cannot finish it: %s",
					strerror(-r));
			else
				repaired(f, "a rename cut short finished (the ID file names this place only)");
		}
	}
}

/* Format 2: what fs/dirinfo.c had to do to find the IDs, and the ID files to write. */
static void check_ids2(struct fsck *f, int dfd, const struct vl_dirinfo *di,
		       const uint8_t ptoken[static VL_TOKEN_LEN])
{
	bool unfiled = !(di->filed & 1u);
	int r;

	for (unsigned i = 0; i < di->nalt; i++)
		unfiled |= !(di->filed & (1u << (i + 1)));
	if (di->flags & VL_DI_NAME_LOST)
		problem(f, "a long-named directory whose ID file is lost, and with it its name: veilfs shows it as \"(name lost) {conflict ...}\"; rename it through the mount to give it a name");
	if (di->root) {
		if (!(di->flags & VL_DI_FILE)) {
			if (!f->repair) {
				problem(f, "the root's veilfs.dirid is missing or invalid: `veilctl fsck --repair' writes it");
			} else if ((r = vl_dirinfo_write(f->v, dfd, di, ptoken, NULL, false)) < 0) {
				problem(f, "the root's veilfs.dirid is missing or invalid; cannot write it: %s", strerror(-r));
			} else {
				repaired(f, "the root's veilfs.dirid written");
			}
		}
		return;
	}
	if (di->place.namelen == 0)
		return;
	if (!unfiled && !(di->flags & VL_DI_FILE) && (di->flags & VL_DI_MISSING)) {
		/* The primary ID is only in a sync client's copy (bisync renamed both sides'
		 * veilfs.dirid): write veilfs.dirid before any duplicate copy goes. */
		if (!f->repair) {
			problem(f, "veilfs.dirid is missing; the directory's ID is in a sync client's copy of it: `veilctl fsck --repair' writes veilfs.dirid");
		} else if ((r = vl_dirinfo_write(f->v, dfd, di, ptoken, NULL, false)) < 0) {
			problem(f, "veilfs.dirid is missing; cannot write it from the sync client's copy: %s", strerror(-r));
		} else {
			repaired(f, "veilfs.dirid written again from the sync client's copy holding the directory's ID");
			f->idfile_ok = true;
		}
	}
	if (!unfiled)
		return;
	if (!f->repair) {
		problem(f, "%s: `veilctl fsck --repair' writes the ID file%s",
			(di->flags & VL_DI_RECOVERED) ? "no valid veilfs.dirid; the directory's ID was recovered from what its entries carry" :
			(di->flags & VL_DI_DERIVED)   ? "no valid veilfs.dirid and no entry proving an ID; the derived ID is used" :
							"entries whose directory ID has no ID file of its own (proven by their own headers)",
			di->nalt ? "s" : "");
		return;
	}
	r = vl_dir_pin_ids(f->v, dfd, di, ptoken);
	if (r < 0)
		problem(f, "the directory's ID has no valid ID file; cannot write it: %s", strerror(-r));
	else
		repaired(f, "directory ID file%s written for the ID%s its entries use", r == 1 ? "" : "s",
			 r == 1 ? "" : "s");
}

/* Format 1: a missing or malformed veilfs.dirid (fs/dirinfo.c re-derives a missing one). */
static void check_ids1(struct fsck *f, int dfd, const struct vl_dirinfo *di)
{
	uint8_t zero[VL_TOKEN_LEN] = { 0 };
	int r;

	if (!(di->flags & VL_DI_MISSING))
		return;
	if (!f->repair)
		problem(f, "%s is missing: `veilctl fsck --repair' re-creates it from the derived ID (right unless the directory was renamed)",
			VL_DIRID_FILE);
	else if ((r = vl_dirinfo_write(f->v, dfd, di, zero, NULL, true)) < 0)
		problem(f, "%s is missing; cannot re-create it: %s", VL_DIRID_FILE, strerror(-r));
	else
		repaired(f, "%s re-created from the derived ID (right only if the directory was never renamed; if names below fail to decrypt, it was)",
			 VL_DIRID_FILE);
}

/* A directory being checked: one frame of the walk (walk.h), which holds what the recursion
 * of check_dir kept on the stack. The root's info is the vault's; a subdirectory's is the
 * frame's own. Once the last entry has been handled (its subdirectory opened), the frame
 * lets go of its info and its list, so that a chain of 100,000 directories holds neither
 * per level while it is walked. */
struct fsck_frame {
	const struct vl_dirinfo *di;	/* its info as found from its parent */
	struct vl_dirinfo *own;		/* di when the frame's own (not the root's) */
	struct vl_dirinfo *found;	/* di with the IDs its names prove (FORMAT.md §5.5) */
	struct items l;			/* its entries and hidden names, sorted by on-disk name */
	size_t i;			/* the next item */
	uint8_t ptoken[VL_TOKEN_LEN];	/* its parent's place token (for ID files written) */
	size_t oldc, oldp;		/* f->cpath, f->ppath before its names */
};

static void frame_release(struct fsck_frame *fr)
{
	items_free(&fr->l);
	memset(&fr->l, 0, sizeof(fr->l));
	free(fr->found);
	free(fr->own);
	fr->found = fr->own = NULL;
	fr->di = NULL;
}

/* Opens subdirectory entry e of dfd (info di) for the walk: its info and its parent's token
 * into the child frame c, its fd into sub[0]. 1, or 0 after reporting the problem (the walk
 * goes on with the next entry). */
static int open_subdir(struct fsck *f, int dfd, const struct vl_dirinfo *di,
		       const struct vl_ename *e, struct fsck_frame *c, int sub[VC_WALK_TREES])
{
	struct vl_dirinfo *ci = malloc(sizeof(*ci));
	int cfd, r;

	if (!ci) {
		problem(f, "out of memory");
		return 0;
	}
	cfd = vl_dir_open(dfd, e->disk);
	if (cfd < 0) {
		problem(f, "cannot open the directory: %s", strerror(-cfd));
		free(ci);
		return 0;
	}
	r = vl_dir_child_info(f->v, cfd, di, e, ci);
	if (r == -EIO && !f->v2) {
		/* Format 1: a malformed veilfs.dirid; walk with the derived ID, as before. */
		problem(f, "%s is malformed (wrong length or version): not repaired; if the directory was never renamed, delete it and run `veilctl fsck --repair'",
			VL_DIRID_FILE);
		memset(ci, 0, sizeof(*ci));
		ci->format = VL_FORMAT_V1;
		r = vl_dirid_derive(f->k, vl_ename_id(e, di), e->full, e->fulllen, ci->id);
	}
	if (r == 0)
		r = vl_dir_ptoken(f->v, di, vl_ename_id(e, di), c->ptoken);
	if (r < 0) {
		problem(f, "cannot read the directory's ID: %s", strerror(-r));
		close(cfd);
		free(ci);
		return 0;
	}
	c->di = c->own = ci;
	sub[0] = cfd;
	return 1;
}

/* Entering a directory: its IDs and ID files, its xattrs, then its entries are listed.
 * f->cpath/ppath name the directory. */
static int fsck_enter(struct vc_walk *w, void *frame, const int fd[VC_WALK_TREES])
{
	struct fsck *f = vc_walk_ctx(w);
	struct fsck_frame *fr = frame;
	struct vl_listcb cb = { item_entry, item_hidden };
	const struct vl_dirinfo *di = fr->di;
	int dfd = fd[0], r;

	f->dirs++;
	fr->found = malloc(sizeof(*fr->found));
	if (!fr->found) {
		problem(f, "out of memory");
		return -ENOMEM;
	}
	f->ppath_known = true;
	f->idfile_ok = !f->v2 || (di->flags & VL_DI_FILE);
	if (f->v2)
		check_ids2(f, dfd, di, fr->ptoken);
	else
		check_ids1(f, dfd, di);
	check_xattrs(f, dfd, di->id);
	check_idfiles(f, dfd, di, fr->ptoken);
	fr->l.v = f->v;
	fr->l.di = di;
	r = vl_dir_list2(f->v, dfd, di, &cb, &fr->l, fr->found);
	if (r == 0 && fr->l.err)
		r = fr->l.err;
	fr->l.di = NULL;
	if (r < 0) {
		f->ppath_known = true;
		problem(f, "cannot list the directory: %s", strerror(-r));
		return r == -ENOMEM ? r : -EIO;
	}
	/* IDs that the listing found proven by names of their own (FORMAT.md §5.5). */
	if (f->v2 && fr->found->nalt > di->nalt) {
		f->ppath_known = true;
		check_ids2(f, dfd, fr->found, fr->ptoken);
	}
	if (!f->v2)
		orphans(f, dfd);
	if (fr->l.n)
		qsort(fr->l.v_, fr->l.n, sizeof(fr->l.v_[0]), item_cmp);
	/* From here on the entries use found. */
	free(fr->own);
	fr->own = NULL;
	fr->di = NULL;
	return 0;
}

/* Checks the entries in order until a subdirectory, which is walked into. */
static int fsck_next(struct vc_walk *w, void *frame, const int fd[VC_WALK_TREES], void *child,
		     int sub[VC_WALK_TREES])
{
	struct fsck *f = vc_walk_ctx(w);
	struct fsck_frame *fr = frame, *c = child;
	int dfd = fd[0];

	while (fr->i < fr->l.n) {
		const struct item *it = &fr->l.v_[fr->i++];
		size_t oldc = vc_path_push(&f->cpath, it->disk), oldp;
		struct stat st;

		f->entries++;
		progress(f);
		if (!it->name) {
			f->ppath_known = false;
			hidden_name(f, dfd, fr->found, it);
			vc_path_pop(&f->cpath, oldc);
			continue;
		}
		f->ppath_known = true;
		if (it->orig) {
			oldp = vc_path_push(&f->ppath, it->orig);
			note(f, "conflict copy of /%s made by a sync client (suffix \"%s\"): compare, keep one, delete the other",
			     f->ppath.s, it->suffix);
			vc_path_pop(&f->ppath, oldp);
		}
		oldp = vc_path_push(&f->ppath, it->name);
		if (it->e->is_alt)
			problem(f, "%s", alt_msg);
		if (fstatat(dfd, it->disk, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			if (errno != ENOENT) /* removed meanwhile: nothing to check */
				problem(f, "cannot stat: %s", strerror(errno));
		} else if (S_ISDIR(st.st_mode)) {
			if (it->e->kind == VL_KIND_OBJECT) {
				problem(f, "a directory under an object-file name (marker 1): veilfs cannot show it");
			} else if (open_subdir(f, dfd, fr->found, it->e, c, sub)) {
				/* Its names stay on the paths until it is left. */
				c->oldc = oldc;
				c->oldp = oldp;
				if (fr->i == fr->l.n)
					frame_release(fr); /* nothing left to check here */
				return 1;
			}
		} else if (S_ISREG(st.st_mode)) {
			check_file(f, dfd, fr->found, it->e);
		} else {
			problem(f, "a backing %s: veilfs stores only regular files and directories; not shown",
				S_ISLNK(st.st_mode) ? "symlink" : "special file");
		}
		vc_path_pop(&f->ppath, oldp);
		vc_path_pop(&f->cpath, oldc);
	}
	return 0;
}

static void fsck_leave(struct vc_walk *w, void *frame, const int fd[VC_WALK_TREES], int status)
{
	struct fsck *f = vc_walk_ctx(w);
	struct fsck_frame *fr = frame;

	(void)fd;
	f->ppath_known = true;
	if (status == -ELOOP)
		problem(f, "a directory inside itself (a bind mount loop): not checked");
	else if (status == -ESTALE)
		problem(f, "moved while checked: the rest of it was not checked");
	else if (status == -ENOTDIR)
		problem(f, "not a directory any more");
	frame_release(fr);
	if (vc_walk_depth(w) > 0) {
		vc_path_pop(&f->ppath, fr->oldp);
		vc_path_pop(&f->cpath, fr->oldc);
	}
}

static const struct vc_walk_ops fsck_ops = {
	.frame_size = sizeof(struct fsck_frame),
	.enter = fsck_enter,
	.next = fsck_next,
	.leave = fsck_leave,
};

static const char fsck_usage[] =
	"veilctl fsck [--repair] [--quiet] [--passfile FILE | --extpass CMD] [--config FILE] CIPHERDIR";

int cmd_fsck(int argc, char **argv)
{
	enum { O_REPAIR = VC_OPT_FIRST_LOCAL };
	static const struct option lo[] = {
		VC_COMMON_LONGOPTS,
		{ "repair", no_argument, NULL, 'r' },
		{ "quiet", no_argument, NULL, 'q' },
		{ 0 },
	};
	struct fsck_frame root = { 0 };
	struct fsck f = { 0 };
	int c, ex, fd, r;

	vc_getopt_reset();
	while ((c = getopt_long(argc, argv, "hrq", lo, NULL)) != -1) {
		if (vc_common_opt(c, optarg))
			continue;
		switch (c) {
		case 'h':
			printf("usage: %s\n\nChecks every name, directory ID, header, block, object and extended\n"
			       "attribute of a vault; anything the mount would not show is a problem.\n"
			       "--repair fixes only what loses no data: a missing or invalid directory ID file\n"
			       "(written for the ID the entries prove), a rename cut short, a duplicate copy\n"
			       "of veilfs.dirid, and in format-1 vaults an orphan sidecar or a torn header.\n"
			       "Exit 0: clean; 7: problems remain; 8: all problems repaired.\n",
			       fsck_usage);
			return VL_EXIT_OK;
		case 'r':
			f.repair = true;
			break;
		case 'q':
			f.quiet = true;
			break;
		default:
			return vc_usage(fsck_usage);
		}
	}
	if (argc - optind != 1)
		return vc_usage(fsck_usage);
	ex = vc_unlock(argv[optind], &f.v);
	if (ex)
		return ex;
	f.k = vl_vault_keys(f.v);
	f.v2 = vl_vault_format(f.v) >= VL_FORMAT_V2;
	f.progress = !f.quiet && vc_progress_on();
	if (f.progress) {
		/* entries and bytes: every name is checked, every block of every file read */
		struct vc_tree_count tc;
		bool known = vc_progress_count_vault(vl_vault_rootfd(f.v), f.v, &tc) == 0;

		vc_progress_begin("fsck", "entries", known ? tc.names : 0, known ? tc.cbytes : 0);
	}
	f.ppath_known = true;
	fd = vl_dir_open(vl_vault_rootfd(f.v), ".");
	if (fd < 0) {
		vc_progress_end();
		vc_err("%s: %s", argv[optind], strerror(-fd));
		vl_vault_free(f.v);
		return VL_EXIT_FAILURE;
	}
	root.di = vl_vault_root_info(f.v); /* its parent's token: zeros (FORMAT.md §5.3) */
	{
		int fds[VC_WALK_TREES] = { fd, -1 };

		r = vc_walk(&fsck_ops, &f, fds, &root);
	}
	if (r < 0)
		problem(&f, "the check stopped: %s", strerror(-r));
	close(fd);
	vc_progress_end();
	if (!f.quiet || f.problems)
		printf("fsck: %lu directories, %lu files, %lu symlinks/special files; %lu problem%s (%lu repaired), %lu note%s\n",
		       f.dirs, f.files, f.objects, f.problems, f.problems == 1 ? "" : "s", f.repaired,
		       f.notes, f.notes == 1 ? "" : "s");
	if (f.problems > f.repaired)
		printf("fsck: %lu problem%s not repaired%s\n", f.problems - f.repaired,
		       f.problems - f.repaired == 1 ? "" : "s",
		       f.repair ? "" : " (try --repair for the safe fixes)");
	ex = f.problems == 0 ? VL_EXIT_OK : f.problems == f.repaired ? VL_EXIT_FSCK_REPAIRED : VL_EXIT_FSCK_FOUND;
	vc_path_free(&f.cpath);
	vc_path_free(&f.ppath);
	vl_vault_free(f.v);
	return ex;
}
