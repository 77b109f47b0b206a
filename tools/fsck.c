/* SPDX-License-Identifier: GPL-2.0-or-later */
/* veilctl fsck: walks the whole ciphertext tree with the crypto primitives, so that every
 * failure is seen (vl_dir_list skips bad entries on purpose). Each finding is one line on
 * stdout naming the ciphertext path (relative to CIPHERDIR) and, where the name decrypts,
 * the plaintext path. --repair fixes only what cannot lose data. */
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
#include "../fs/object.h"
#include "../fs/vault.h"
#include "progress.h"
#include "veilctl.h"

/* How many failing blocks of one file are named before "and N more". */
#define MAX_BLOCKS_SHOWN 5

struct fsck {
	struct vl_vault *v;
	const struct vl_keys *k;
	uint32_t bs;
	bool repair, quiet, progress;
	unsigned long problems, repaired, notes;
	unsigned long dirs, files, objects, entries;
	struct vc_path cpath; /* ciphertext path of what is being checked */
	struct vc_path ppath; /* plaintext path, "" for the root */
	bool ppath_known;
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

static void repaired(struct fsck *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void repaired(struct fsck *f, const char *fmt, ...)
{
	va_list ap;

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

/* Checks the blocks of a ciphertext file of csize bytes (header at 0). Sets *id to the file
 * ID when the header parses (for the xattr binding). Returns true when the header parsed. */
static bool check_blocks(struct fsck *f, int fd, uint64_t csize, enum vl_stream s, bool size_ok,
			 uint8_t id[static VL_FILEID_LEN])
{
	uint64_t n = csize - VL_HEADER_LEN, S = (uint64_t)f->bs + VL_BLOCK_OVERHEAD;
	uint64_t nblocks = n / S + (n % S ? 1 : 0), shown = 0, bad = 0, first_bad = 0;
	uint8_t hdr[VL_HEADER_LEN];
	struct vl_filekey *fk = NULL;
	uint8_t *ct = NULL, *pt = NULL;
	bool ok = false;

	if (vl_pread_full(fd, hdr, sizeof(hdr), 0) != (ssize_t)sizeof(hdr)) {
		problem(f, "cannot read the header: %s", strerror(errno));
		return false;
	}
	if (vl_header_parse(hdr, sizeof(hdr), id) < 0) {
		problem(f, "bad header (magic, version or reserved field): not a veilfs v1 file");
		return false;
	}
	ok = true;
	if (!size_ok)
		nblocks = n / S; /* the torn tail was reported; check the whole blocks before it */
	ct = malloc(S);
	pt = malloc(f->bs);
	if (!ct || !pt || vl_filekey_new(&fk, f->k, s, id) < 0) {
		problem(f, "cannot check the blocks: out of memory or key derivation failed");
		goto out;
	}
	for (uint64_t i = 0; i < nblocks; i++) {
		uint64_t off = vl_block_offset(i, f->bs);
		size_t len = (size_t)(csize - off < S ? csize - off : S);
		bool last = size_ok && i == nblocks - 1;
		ssize_t got = vl_pread_full(fd, ct, len, off);

		if (got != (ssize_t)len) {
			problem(f, "block %llu: read error", (unsigned long long)i);
			goto out;
		}
		if (f->progress)
			vc_progress_bytes(len + (i == 0 ? VL_HEADER_LEN : 0));
		if (vl_block_open(fk, i, last, ct, len, pt, f->bs) >= 0)
			continue;
		/* A file cut at a block boundary: its last block is not marked last. */
		if (last && i > 0 && bad == 0 && vl_block_open(fk, i, false, ct, len, pt, f->bs) >= 0) {
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
		vl_wipe(pt, f->bs);
	free(pt);
	return ok;
}

/* A torn header (1..23 bytes, no data) is truncated to 0: those bytes can hold no data. */
static void repair_torn_header(struct fsck *f, int dirfd, const char *disk, uint64_t csize)
{
	struct stat st;
	int fd;

	if (!f->repair) {
		problem(f, "torn header (%llu bytes, no data): `veilctl fsck --repair' truncates it to an empty file",
			(unsigned long long)csize);
		return;
	}
	fd = openat(dirfd, disk, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
	/* re-check on the open file: a sync client may have finished writing it meanwhile */
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size != (off_t)csize ||
	    ftruncate(fd, 0) < 0 || fsync(fd) < 0) {
		problem(f, "torn header (%llu bytes, no data); could not truncate it: %s",
			(unsigned long long)csize, strerror(errno));
	} else {
		f->problems++;
		repaired(f, "torn header (%llu bytes, no data) truncated to an empty file",
			 (unsigned long long)csize);
	}
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

/* ---- entries ---- */

static void check_dir(struct fsck *f, int parentfd, const uint8_t *parent_id, const char *disk,
		      const char *full, size_t fulllen);

/* A regular file (content or object) disk in dirfd. */
static void check_file(struct fsck *f, int dirfd, const char *disk, enum vl_kind kind)
{
	uint8_t id[VL_FILEID_LEN];
	uint64_t psize;
	struct stat st;
	bool hdr = false, size_ok;
	int fd;

	fd = openat(dirfd, disk, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		problem(f, "cannot open: %s", strerror(errno));
		if (fd >= 0)
			close(fd);
		return;
	}
	if (kind == VL_KIND_OBJECT) {
		struct vl_object o;

		f->objects++;
		if (vl_object_read(f->v, fd, &o) < 0)
			problem(f, "symlink or special file (object file, %lld bytes) does not decrypt",
				(long long)st.st_size);
		else {
			uint8_t h[VL_HEADER_LEN];

			if (vl_pread_full(fd, h, sizeof(h), 0) == (ssize_t)sizeof(h) &&
			    vl_header_parse(h, sizeof(h), id) == 0)
				check_xattrs(f, fd, id);
		}
		close(fd);
		return;
	}
	f->files++;
	if (st.st_size == 0) {
		check_xattrs(f, fd, NULL);
		close(fd);
		return;
	}
	if (st.st_size < VL_HEADER_LEN) {
		close(fd);
		repair_torn_header(f, dirfd, disk, (uint64_t)st.st_size);
		return;
	}
	size_ok = vl_plain_size((uint64_t)st.st_size, f->bs, &psize) == 0;
	if (!size_ok)
		problem(f, "size %lld ends inside a block's nonce or tag: the file was cut short or is half synced",
			(long long)st.st_size);
	hdr = check_blocks(f, fd, (uint64_t)st.st_size, VL_STREAM_CONTENT, size_ok, id);
	check_xattrs(f, fd, hdr ? id : NULL);
	close(fd);
}

/* Checks entry disk (full encoded name full, plaintext name plain) of directory dirfd. */
static void check_entry(struct fsck *f, int dirfd, const uint8_t *dirid, const char *disk,
			const char *full, size_t fulllen, const char *plain, enum vl_kind kind)
{
	size_t oldc = vc_path_push(&f->cpath, disk);
	size_t oldp = vc_path_push(&f->ppath, plain);
	struct stat st;

	f->ppath_known = true;
	if (fstatat(dirfd, disk, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno != ENOENT) /* removed meanwhile: nothing to check */
			problem(f, "cannot stat: %s", strerror(errno));
	} else if (S_ISDIR(st.st_mode)) {
		if (kind == VL_KIND_OBJECT)
			problem(f, "a directory under an object-file name (marker 1): veilfs cannot show it");
		else
			check_dir(f, dirfd, dirid, disk, full, fulllen);
	} else if (S_ISREG(st.st_mode)) {
		check_file(f, dirfd, disk, kind);
	} else {
		problem(f, "a backing %s: veilfs stores only regular files and directories; not shown",
			S_ISLNK(st.st_mode) ? "symlink" : "special file");
	}
	vc_path_pop(&f->ppath, oldp);
	vc_path_pop(&f->cpath, oldc);
}

/* Verified sidecar contents of long name disk in dirfd. Length, or -ENOENT / -EIO. */
static int read_sidecar(int dirfd, const char *disk, char full[static VL_ENCNAME_MAX + 1])
{
	char side[VL_LONGNAME_LEN + 1];
	ssize_t n;

	memcpy(side, disk, VL_LONGNAME_LEN + 1);
	side[0] = VL_MARK_SIDECAR;
	n = vl_read_small(dirfd, side, full, VL_ENCNAME_MAX);
	if (n < 0)
		return n == -ENOENT ? -ENOENT : -EIO;
	if (vl_name_sidecar_check(disk, full, (size_t)n) < 0)
		return -EIO;
	full[n] = '\0';
	return (int)n;
}

/* Names of a directory, sorted (the tree may be repaired while we walk it). */
struct names {
	char **v;
	size_t n, cap;
};

static int names_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool names_has(const struct names *ns, const char *name)
{
	return bsearch(&name, ns->v, ns->n, sizeof(char *), names_cmp) != NULL;
}

static void names_free(struct names *ns)
{
	for (size_t i = 0; i < ns->n; i++)
		free(ns->v[i]);
	free(ns->v);
}

static int names_read(int dirfd, struct names *ns)
{
	struct dirent *de;
	DIR *d;
	int fd = vl_dir_open(dirfd, "."), r = 0;

	memset(ns, 0, sizeof(*ns));
	if (fd < 0)
		return fd;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -errno;
	}
	while ((errno = 0, de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (ns->n == ns->cap) {
			size_t cap = ns->cap ? ns->cap * 2 : 64;
			char **v = realloc(ns->v, cap * sizeof(*v));

			if (!v) {
				r = -ENOMEM;
				break;
			}
			ns->v = v;
			ns->cap = cap;
		}
		ns->v[ns->n] = strdup(de->d_name);
		if (!ns->v[ns->n]) {
			r = -ENOMEM;
			break;
		}
		ns->n++;
	}
	if (r == 0 && errno)
		r = -errno;
	closedir(d);
	if (ns->n)
		qsort(ns->v, ns->n, sizeof(char *), names_cmp);
	return r;
}

/* The IDs of a directory's veilfs.dirid conflict copies (docs/SYNC.md). */
struct alts {
	int n;
	uint8_t id[VL_DIRID_ALT_MAX][VL_DIRID_LEN];
};

/* Decrypts full under the first alternate ID that fits: its index, or -1. */
static int decrypt_alt(struct fsck *f, const struct alts *a, const char *full, size_t flen,
		       char plain[static 256], enum vl_kind *kind)
{
	for (int i = 0; i < a->n; i++)
		if (vl_name_decrypt(f->k, a->id[i], full, flen, plain, 256, kind) >= 0)
			return i;
	return -1;
}

static const char alt_msg[] =
	"name is encrypted under the ID of a sync client's copy of veilfs.dirid (the directory "
	"was created twice: renamed on one device, created on another); veilfs shows it; rename "
	"it through the mount (to another name and back) to move it under this directory's ID";

/* A foreign name: a sync client's conflict copy of one of ours, or someone else's file. */
static void check_foreign(struct fsck *f, int dirfd, const uint8_t *dirid, const struct alts *a,
			  const char *name)
{
	size_t len = strlen(name), run = 0;
	char full[VL_ENCNAME_MAX + 1], plain[256];
	enum vl_ondisk od;
	enum vl_kind kind;
	int flen;

	/* The longest prefix marker? [a-z2-7]+ is the name the client copied (FORMAT.md §4.2). */
	if (name[0] == VL_MARK_OBJECT || name[0] == VL_MARK_LONG || name[0] == VL_MARK_SIDECAR)
		run = 1;
	while (run < len && ((name[run] >= 'a' && name[run] <= 'z') || (name[run] >= '2' && name[run] <= '7')))
		run++;
	if (run > 0 && run < len && run <= VL_ENCNAME_MAX) {
		char base[VL_ENCNAME_MAX + 1];

		memcpy(base, name, run);
		base[run] = '\0';
		od = vl_name_classify(base, run);
		flen = -1;
		if (od == VL_ONDISK_SHORT) {
			memcpy(full, base, run + 1);
			flen = (int)run;
		} else if (od == VL_ONDISK_LONG) {
			flen = read_sidecar(dirfd, base, full);
		} else if (od == VL_ONDISK_SIDECAR) {
			note(f, "conflict copy of a long-name sidecar (%s); veilfs ignores it", base);
			return;
		}
		if (flen > 0 && (vl_name_decrypt(f->k, dirid, full, (size_t)flen, plain, sizeof(plain), &kind) >= 0 ||
				 decrypt_alt(f, a, full, (size_t)flen, plain, &kind) >= 0)) {
			size_t oldp = vc_path_push(&f->ppath, plain);

			note(f, "conflict copy of /%s made by a sync client (suffix \"%s\"): compare, keep one, delete the other",
			     f->ppath.s, name + run);
			vc_path_pop(&f->ppath, oldp);
			return;
		}
	}
	note(f, "foreign file, not made by veilfs (ignored)");
}

/* Walks directory dirfd (ID id): every name classified and checked. */
static void walk(struct fsck *f, int dirfd, const uint8_t id[static VL_DIRID_LEN])
{
	struct alts *a = calloc(1, sizeof(*a));
	struct names ns;
	bool conf;
	int r;

	if (!a) {
		problem(f, "out of memory");
		return;
	}
	a->n = vl_dir_alt_ids(dirfd, id, a->id);
	if (a->n < 0)
		a->n = 0;
	r = names_read(dirfd, &ns);
	if (r < 0) {
		problem(f, "cannot list the directory: %s", strerror(-r));
		names_free(&ns);
		free(a);
		return;
	}
	for (size_t i = 0; i < ns.n; i++) {
		const char *name = ns.v[i];
		size_t len = strlen(name), oldc;
		char full[VL_ENCNAME_MAX + 1], plain[256];
		enum vl_kind kind;
		int flen, ai = -1;

		f->entries++;
		progress(f);
		switch (vl_name_classify(name, len)) {
		case VL_ONDISK_RESERVED:
			if (!strcmp(name, VL_DIRID_FILE) || (!strcmp(name, VL_CONFIG_FILE) && f->cpath.len == 0))
				continue; /* checked by check_dir / by unlocking */
			oldc = vc_path_push(&f->cpath, name);
			f->ppath_known = false;
			note(f, "a %s outside the root: ignored", name);
			vc_path_pop(&f->cpath, oldc);
			continue;
		case VL_ONDISK_SHORT:
			r = vl_name_decrypt(f->k, id, name, len, plain, sizeof(plain), &kind);
			if (r < 0 && (ai = decrypt_alt(f, a, name, len, plain, &kind)) >= 0) {
				oldc = vc_path_push(&f->cpath, name);
				f->ppath_known = false;
				problem(f, "%s", alt_msg);
				vc_path_pop(&f->cpath, oldc);
				check_entry(f, dirfd, a->id[ai], name, name, len, plain, kind);
				continue;
			}
			if (r < 0) {
				oldc = vc_path_push(&f->cpath, name);
				f->ppath_known = false;
				problem(f, "name does not decrypt in this directory (corrupted, or moved here from another directory)");
				vc_path_pop(&f->cpath, oldc);
				continue;
			}
			check_entry(f, dirfd, id, name, name, len, plain, kind);
			continue;
		case VL_ONDISK_LONG:
			oldc = vc_path_push(&f->cpath, name);
			f->ppath_known = false;
			flen = read_sidecar(dirfd, name, full);
			if (flen == -ENOENT) {
				problem(f, "long name without its sidecar %c%s: its name is lost; the data is still there (veilfs does not show it)",
					VL_MARK_SIDECAR, name + 1);
			} else if (flen < 0) {
				problem(f, "long name whose sidecar %c%s does not match it", VL_MARK_SIDECAR, name + 1);
			} else if (vl_name_decrypt(f->k, id, full, (size_t)flen, plain, sizeof(plain), &kind) < 0) {
				ai = decrypt_alt(f, a, full, (size_t)flen, plain, &kind);
				if (ai < 0) {
					problem(f, "long name (sidecar verified) does not decrypt in this directory");
				} else {
					problem(f, "%s", alt_msg);
					vc_path_pop(&f->cpath, oldc);
					check_entry(f, dirfd, a->id[ai], name, full, (size_t)flen, plain, kind);
					continue;
				}
			} else {
				vc_path_pop(&f->cpath, oldc);
				check_entry(f, dirfd, id, name, full, (size_t)flen, plain, kind);
				continue;
			}
			vc_path_pop(&f->cpath, oldc);
			continue;
		case VL_ONDISK_SIDECAR: {
			char lname[VL_LONGNAME_LEN + 1];

			memcpy(lname, name, VL_LONGNAME_LEN + 1);
			lname[0] = VL_MARK_LONG;
			if (names_has(&ns, lname))
				continue; /* checked with its entry */
			oldc = vc_path_push(&f->cpath, name);
			f->ppath_known = false;
			if (!f->repair) {
				problem(f, "orphan sidecar (no entry %s): `veilctl fsck --repair' removes it", lname);
			} else if (unlinkat(dirfd, name, 0) < 0) {
				problem(f, "orphan sidecar (no entry %s); cannot remove it: %s", lname, strerror(errno));
			} else {
				f->problems++;
				repaired(f, "orphan sidecar removed (it held only the name of an entry that is gone)");
			}
			vc_path_pop(&f->cpath, oldc);
			continue;
		}
		default:
			oldc = vc_path_push(&f->cpath, name);
			f->ppath_known = false;
			if (vl_conflict_is_reserved_copy(name, len, &conf)) {
				if (conf)
					problem(f, "a sync client's copy of veilfs.conf: the password was changed on two devices; keep the config whose password you know, delete the other");
				else
					problem(f, "a sync client's copy of veilfs.dirid: the directory was created twice under different IDs (renamed on one device, created on another); veilfs shows the names under both; rename each name reported as under this copy's ID through the mount (to another name and back), then delete this copy");
				vc_path_pop(&f->cpath, oldc);
				continue;
			}
			check_foreign(f, dirfd, id, a, name);
			vc_path_pop(&f->cpath, oldc);
			continue;
		}
	}
	names_free(&ns);
	free(a);
}

/* Checks a directory: its veilfs.dirid, its xattrs, then its entries. parent_id == NULL for
 * the root. f->cpath/ppath name the directory. */
static void check_dir(struct fsck *f, int parentfd, const uint8_t *parent_id, const char *disk,
		      const char *full, size_t fulllen)
{
	uint8_t derived[VL_DIRID_LEN], id[VL_DIRID_LEN], buf[64];
	bool have = false;
	ssize_t n;
	int fd, r;

	f->dirs++;
	fd = vl_dir_open(parentfd, disk);
	if (fd < 0) {
		problem(f, "cannot open the directory: %s", strerror(-fd));
		return;
	}
	r = parent_id ? vl_dirid_derive(f->k, parent_id, full, fulllen, derived) : vl_dirid_root(f->k, derived);
	if (r < 0) {
		problem(f, "cannot derive the directory ID");
		goto out;
	}
	n = vl_read_small(fd, VL_DIRID_FILE, buf, sizeof(buf));
	if (n >= 0 && vl_dirid_file_parse(buf, (size_t)n, id) == 0) {
		have = true; /* may differ from derived: the directory was renamed (fine) */
	} else if (n == -ENOENT) {
		uint8_t file[VL_DIRID_FILE_LEN];

		vl_dirid_file_build(file, derived);
		if (!f->repair) {
			problem(f, "%s is missing: `veilctl fsck --repair' re-creates it from the derived ID (right unless the directory was renamed)",
				VL_DIRID_FILE);
		} else if ((r = vl_write_atomic(fd, VL_DIRID_FILE, file, sizeof(file), 0444, true)) < 0) {
			problem(f, "%s is missing; cannot re-create it: %s", VL_DIRID_FILE, strerror(-r));
		} else {
			f->problems++;
			repaired(f, "%s re-created from the derived ID (right only if the directory was never renamed; if names below fail to decrypt, it was)",
				 VL_DIRID_FILE);
		}
	} else {
		problem(f, "%s is malformed (%s): not repaired; if the directory was never renamed, delete it and run `veilctl fsck --repair'",
			VL_DIRID_FILE, n < 0 ? strerror((int)-n) : "wrong length or version");
	}
	if (!have)
		memcpy(id, derived, VL_DIRID_LEN);
	check_xattrs(f, fd, id);
	walk(f, fd, id);
out:
	close(fd);
}

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
	struct fsck f = { 0 };
	int c, ex;

	vc_getopt_reset();
	while ((c = getopt_long(argc, argv, "hrq", lo, NULL)) != -1) {
		if (vc_common_opt(c, optarg))
			continue;
		switch (c) {
		case 'h':
			printf("usage: %s\n\nChecks every name, directory ID, sidecar, block, object and extended\n"
			       "attribute of a vault. --repair fixes only what loses no data: a missing\n"
			       "veilfs.dirid, an orphan sidecar, a torn header. Exit 0: clean; 7: problems\n"
			       "remain; 8: all problems repaired.\n",
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
	f.bs = vl_vault_block_size(f.v);
	f.progress = !f.quiet && vc_progress_on();
	if (f.progress) {
		/* entries and bytes: every name is checked, every block of every file read */
		struct vc_tree_count tc;
		bool known = vc_progress_count_vault(vl_vault_rootfd(f.v), f.bs, &tc) == 0;

		vc_progress_begin("fsck", "entries", known ? tc.names : 0, known ? tc.cbytes : 0);
	}
	f.ppath_known = true;
	check_dir(&f, vl_vault_rootfd(f.v), NULL, ".", NULL, 0);
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
