/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Which IDs a directory has, and where it is (FORMAT.md §5, FORMAT-v1.md §5).
 *
 * Format 2: an ID file counts only when its MAC verifies and it names the directory's place;
 * a directory without one gets the IDs its children prove with place tokens, else the derived
 * ID. Format 1: veilfs.dirid as is (re-derived when missing), plus the IDs of sync clients'
 * copies of it. Nothing here writes, except vl_dirinfo_write. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../crypto/conflict.h"
#include "../crypto/content.h"
#include "../crypto/dirid.h"
#include "../crypto/names.h"
#include "../crypto/secmem.h"
#include "backing.h"
#include "dirinfo.h"
#include "log.h"
#include "vault.h"

#define VL_DIRID_MODE 0444 /* ID files are replaced, never edited */
/* Most ID-file copies read in one directory (more are logged and ignored). */
#define VL_IDCOPY_MAX 64

bool vl_dirinfo_has(const struct vl_dirinfo *di, const uint8_t id[static VL_DIRID_LEN])
{
	if (!memcmp(di->id, id, VL_DIRID_LEN))
		return true;
	for (unsigned i = 0; i < di->nalt; i++)
		if (!memcmp(di->alt[i], id, VL_DIRID_LEN))
			return true;
	return false;
}

bool vl_dirinfo_add(struct vl_dirinfo *di, const uint8_t id[static VL_DIRID_LEN])
{
	if (vl_dirinfo_has(di, id) || di->nalt >= VL_DIRID_ALT_MAX - 1)
		return false;
	memcpy(di->alt[di->nalt++], id, VL_DIRID_LEN);
	return true;
}

int vl_dirinfo_token(const struct vl_vault *v, const struct vl_dirinfo *di,
		     const uint8_t id[static VL_DIRID_LEN], uint8_t out[static VL_TOKEN_LEN])
{
	return vl_place_token(vl_vault_keys(v), id, di->place.parent, di->disk, di->disklen, out);
}

/* True for a sync client's copy of veilfs.dirid (not of veilfs.conf). */
static bool is_dirid_copy(const char *name, size_t len)
{
	bool conf;

	return vl_conflict_is_reserved_copy(name, len, &conf) && !conf;
}

/* The names of the ID-file copies in dfd, sorted bytewise (readdir order must not matter:
 * the first valid one can become the primary ID). Returns how many (at most VL_IDCOPY_MAX),
 * or -errno. names[i] are malloc'ed; free with free_names. */
static int copy_names(int dfd, char *names[VL_IDCOPY_MAX])
{
	struct dirent *d;
	DIR *dir;
	int n = 0, r;

	r = vl_dir_stream(dfd, &dir);
	if (r < 0)
		return r;
	for (;;) {
		errno = 0;
		d = readdir(dir);
		if (!d) {
			r = errno ? -errno : 0;
			break;
		}
		if (!is_dirid_copy(d->d_name, strlen(d->d_name)))
			continue;
		if (n == VL_IDCOPY_MAX) {
			vl_log_bad_entry(dfd, d->d_name, "too many copies of veilfs.dirid; this one is not read");
			continue;
		}
		names[n] = strdup(d->d_name);
		if (!names[n]) {
			r = -ENOMEM;
			break;
		}
		n++;
	}
	closedir(dir);
	/* insertion sort: at most VL_IDCOPY_MAX names */
	for (int i = 1; i < n; i++)
		for (int j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
			char *t = names[j];

			names[j] = names[j - 1];
			names[j - 1] = t;
		}
	if (r < 0) {
		for (int i = 0; i < n; i++)
			free(names[i]);
		return r;
	}
	return n;
}

static void free_names(char *names[], int n)
{
	for (int i = 0; i < n; i++)
		free(names[i]);
}

/* Adds an ID to di: the first becomes the primary. filed: it comes from a valid ID file. */
static void take_id_f(struct vl_dirinfo *di, bool *have, const uint8_t id[static VL_DIRID_LEN],
		      bool filed)
{
	if (!*have) {
		memcpy(di->id, id, VL_DIRID_LEN);
		*have = true;
		if (filed)
			di->filed |= 1u;
	} else if (vl_dirinfo_add(di, id)) {
		if (filed)
			di->filed |= 1u << di->nalt;
	} else if (!vl_dirinfo_has(di, id)) {
		vl_log(VL_LOG_WARN, "a directory has more than %d IDs; the others are not used",
		       VL_DIRID_ALT_MAX);
	}
}

static void take_id(struct vl_dirinfo *di, bool *have, const uint8_t id[static VL_DIRID_LEN])
{
	take_id_f(di, have, id, di->format >= VL_FORMAT_V2);
}

/* ---- format 1 ---- */

static int read_v1(const struct vl_vault *v, int dfd, struct vl_dirinfo *di)
{
	char *names[VL_IDCOPY_MAX];
	uint8_t buf[VL_DIRID_FILE_LEN], id[VL_DIRID_LEN];
	bool have = false;
	ssize_t n;
	int nn, r;

	n = vl_read_small(dfd, VL_DIRID_FILE, buf, sizeof(buf));
	if (n >= 0) {
		if (vl_dirid_file_parse(buf, (size_t)n, id) < 0) {
			vl_log_bad_entry(dfd, VL_DIRID_FILE, "malformed directory ID file");
			return -EIO;
		}
		di->flags |= VL_DI_FILE;
		take_id(di, &have, id);
	} else if (n == -EFBIG || n == -EINVAL) {
		vl_log_bad_entry(dfd, VL_DIRID_FILE, "malformed directory ID file");
		return -EIO;
	} else if (n != -ENOENT) {
		return (int)n;
	} else {
		/* Missing (a sync client may not have delivered it yet): the ID is a function
		 * of the key, the parent and the name, so re-derive it. Never written back. */
		if (di->root)
			r = vl_dirid_root(vl_vault_keys(v), id);
		else if (di->place.namelen)
			r = vl_dirid_derive(vl_vault_keys(v), di->place.parent, di->place.name,
					    di->place.namelen, id);
		else
			return -ENOENT;
		if (r < 0)
			return r;
		vl_log_bad_entry(dfd, VL_DIRID_FILE, "missing directory ID file, re-derived");
		di->flags |= VL_DI_MISSING | VL_DI_DERIVED;
		take_id(di, &have, id);
	}
	/* Sync clients' copies (format 1 reads them unauthenticated, FORMAT-v1.md §5). */
	nn = copy_names(dfd, names);
	if (nn < 0)
		return 0; /* unreadable (e.g. mode 0311): no listing shows such names either */
	for (int i = 0; i < nn; i++) {
		n = vl_read_small(dfd, names[i], buf, sizeof(buf));
		if (n < 0 || vl_dirid_file_parse(buf, (size_t)n, id) < 0) {
			if (n != -ENOENT)
				vl_log_bad_entry(dfd, names[i], "malformed conflict copy of veilfs.dirid");
			di->flags |= VL_DI_BAD_FILES;
			continue;
		}
		if (vl_dirinfo_has(di, id)) {
			di->flags |= VL_DI_COPY_DUP;
			continue;
		}
		di->flags |= VL_DI_COPIES;
		take_id(di, &have, id);
	}
	free_names(names, nn);
	return 0;
}

/* ---- format 2 ---- */

/* True when place p (as written in an ID file) names the place (parent, disk). */
static bool place_names(const struct vl_vault *v, const struct vl_place *p,
			const uint8_t parent[static VL_DIRID_LEN], const char *disk, size_t disklen)
{
	char n[VL_ENCNAME_MAX + 1];
	int len;

	if (memcmp(p->parent, parent, VL_DIRID_LEN) != 0)
		return false;
	if (p->namelen == 0)
		return disklen == 0;
	len = vl_place_disk_name(p->name, p->namelen, vl_vault_name_max(v), n);
	return len > 0 && (size_t)len == disklen && !memcmp(n, disk, disklen);
}

/* Reads ID file name in dfd strictly: 0 and *f, -ENOENT, or -EIO (logged as bad unless
 * quiet). */
static int read_idfile_q(const struct vl_vault *v, int dfd, const char *name, struct vl_idfile *f,
			 bool quiet);

static int read_idfile(const struct vl_vault *v, int dfd, const char *name, struct vl_idfile *f)
{
	return read_idfile_q(v, dfd, name, f, false);
}

static int read_idfile_q(const struct vl_vault *v, int dfd, const char *name, struct vl_idfile *f,
			 bool quiet)
{
	uint8_t buf[VL_IDFILE_MAX];
	ssize_t n;

	n = vl_read_small(dfd, name, buf, sizeof(buf));
	if (n == -ENOENT)
		return -ENOENT;
	if (n < 0 && n != -EFBIG && n != -EINVAL)
		return (int)n;
	if (n < 0 || vl_idfile_parse(vl_vault_keys(v), buf, (size_t)n, f) < 0) {
		if (!quiet)
			vl_log_bad_entry(dfd, name, "directory ID file that does not authenticate");
		return -EIO;
	}
	return 0;
}

/* The place of f that names (parent, disk), or NULL. */
static const struct vl_place *place_of(const struct vl_vault *v, const struct vl_idfile *f,
				       const uint8_t parent[static VL_DIRID_LEN], const char *disk,
				       size_t disklen)
{
	for (unsigned i = 0; i < f->nplaces; i++)
		if (place_names(v, &f->place[i], parent, disk, disklen))
			return &f->place[i];
	return NULL;
}

int vl_dir_long_name(const struct vl_vault *v, int dfd, const char *base,
		     char full[static VL_ENCNAME_MAX + 1])
{
	char *names[VL_IDCOPY_MAX];
	struct vl_idfile f;
	int nn, r = -ENOENT;

	nn = copy_names(dfd, names);
	if (nn < 0)
		nn = 0;
	for (int i = -1; i < nn && r == -ENOENT; i++) {
		/* Quiet: a listing that cannot learn the name logs the entry itself. */
		if (read_idfile_q(v, dfd, i < 0 ? VL_DIRID_FILE : names[i], &f, true) < 0)
			continue;
		for (unsigned k = 0; k < f.nplaces; k++) {
			char n[VL_ENCNAME_MAX + 1];
			int len = f.place[k].namelen ?
					  vl_place_disk_name(f.place[k].name, f.place[k].namelen,
							     vl_vault_name_max(v), n) :
					  -EINVAL;

			if (len == VL_LONGNAME_LEN && !memcmp(n, base, VL_LONGNAME_LEN)) {
				memcpy(full, f.place[k].name, f.place[k].namelen + 1);
				r = (int)f.place[k].namelen;
				break;
			}
		}
	}
	free_names(names, nn);
	return r;
}

int vl_dir_child_evidence(const struct vl_vault *v, int dirfd, const char *name,
			  const uint8_t parent_id[static VL_DIRID_LEN], const char *disk, size_t disklen,
			  uint8_t ids[VL_EVIDENCE_MAX][VL_DIRID_LEN], unsigned *n)
{
	const struct vl_keys *k = vl_vault_keys(v);
	uint8_t hdr[VL_HEADER_LONG_LEN], tok[VL_TOKEN_LEN];
	struct vl_header h;
	struct vl_idfile f;
	struct stat st;
	ssize_t len;
	int fd, r;

	*n = 0;
	fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		r = -errno;
		goto out;
	}
	r = -ENOENT;
	if (S_ISREG(st.st_mode)) {
		size_t hl = name[0] == VL_MARK_LONG ? VL_HEADER_LONG_LEN : VL_HEADER_SHORT_LEN;

		len = vl_pread_full(fd, hdr, hl, 0);
		if (len != (ssize_t)hl || vl_header2_parse(k, hdr, hl, &h) < 0 ||
		    (h.flags & VL_HDR_MOVING))
			goto out;
		if (vl_place_token(k, h.parent, parent_id, disk, disklen, tok) == 0 &&
		    vl_ct_equal(tok, h.token, VL_TOKEN_LEN)) {
			memcpy(ids[(*n)++], h.parent, VL_DIRID_LEN);
			r = 0;
		}
	} else if (S_ISDIR(st.st_mode)) {
		/* The ptoken of the subdirectory's ID file, and of a sync client's copies of it
		 * (bisync renames both sides of a conflict: then only copies are left). */
		char *names[VL_IDCOPY_MAX];
		int nn = copy_names(fd, names);

		if (nn < 0)
			nn = 0;
		for (int c = -1; c < nn && *n < VL_EVIDENCE_MAX; c++) {
			if (read_idfile(v, fd, c < 0 ? VL_DIRID_FILE : names[c], &f) < 0)
				continue;
			for (unsigned i = 0; i < f.nplaces && *n < VL_EVIDENCE_MAX; i++) {
				bool dup = false;

				if (f.place[i].namelen == 0)
					continue;
				if (vl_place_token(k, f.place[i].parent, parent_id, disk, disklen, tok) < 0 ||
				    !vl_ct_equal(tok, f.ptoken, VL_TOKEN_LEN))
					continue;
				for (unsigned j = 0; j < *n && !dup; j++)
					dup = !memcmp(ids[j], f.place[i].parent, VL_DIRID_LEN);
				if (!dup) {
					memcpy(ids[(*n)++], f.place[i].parent, VL_DIRID_LEN);
					r = 0;
				}
			}
		}
		free_names(names, nn);
	}
out:
	close(fd);
	return r;
}

/* Recovery (FORMAT.md §5.5): the IDs that children prove for the place, most carried first.
 * Returns how many were found (into di), or -errno. */
struct ev {
	uint8_t id[VL_DIRID_LEN];
	unsigned count;
};

static int recover(const struct vl_vault *v, int dfd, struct vl_dirinfo *di, bool *have)
{
	struct ev evs[VL_DIRID_ALT_MAX];
	unsigned nev = 0;
	struct dirent *d;
	DIR *dir;
	int r;

	r = vl_dir_stream(dfd, &dir);
	if (r < 0)
		return r;
	for (;;) {
		uint8_t ids[VL_EVIDENCE_MAX][VL_DIRID_LEN];
		unsigned n;
		enum vl_ondisk k;

		errno = 0;
		d = readdir(dir);
		if (!d) {
			r = errno ? -errno : 0;
			break;
		}
		k = vl_name_classify(d->d_name, strlen(d->d_name));
		if (k != VL_ONDISK_SHORT && k != VL_ONDISK_LONG &&
		    vl_conflict_split(d->d_name, strlen(d->d_name), NULL) == 0)
			continue;
		if (vl_dir_child_evidence(v, dfd, d->d_name, di->place.parent, di->disk, di->disklen,
					  ids, &n) < 0)
			continue;
		for (unsigned i = 0; i < n; i++) {
			unsigned j;

			for (j = 0; j < nev && memcmp(evs[j].id, ids[i], VL_DIRID_LEN); j++)
				;
			if (j == nev) {
				if (nev == VL_DIRID_ALT_MAX)
					continue;
				memcpy(evs[nev].id, ids[i], VL_DIRID_LEN);
				evs[nev++].count = 0;
			}
			evs[j].count++;
		}
	}
	closedir(dir);
	if (r < 0)
		return r;
	/* Most carried first; ties: the smallest ID (FORMAT.md §5.4). */
	for (unsigned i = 1; i < nev; i++)
		for (unsigned j = i; j > 0; j--) {
			struct ev t;

			if (evs[j - 1].count > evs[j].count ||
			    (evs[j - 1].count == evs[j].count &&
			     memcmp(evs[j - 1].id, evs[j].id, VL_DIRID_LEN) < 0))
				break;
			t = evs[j];
			evs[j] = evs[j - 1];
			evs[j - 1] = t;
		}
	for (unsigned i = 0; i < nev; i++)
		take_id_f(di, have, evs[i].id, false);
	return (int)nev;
}

static int read_v2(const struct vl_vault *v, int dfd, struct vl_dirinfo *di, const char *full,
		   size_t fulllen)
{
	char *names[VL_IDCOPY_MAX];
	struct vl_idfile f;
	bool have = false;
	uint8_t id[VL_DIRID_LEN];
	int nn, r;

	nn = copy_names(dfd, names);
	if (nn < 0)
		nn = 0; /* unreadable: only veilfs.dirid */
	for (int i = -1; i < nn; i++) {
		const char *name = i < 0 ? VL_DIRID_FILE : names[i];
		const struct vl_place *p;

		r = read_idfile(v, dfd, name, &f);
		if (r == -ENOENT) {
			if (i < 0)
				di->flags |= VL_DI_MISSING;
			continue;
		}
		if (r < 0) {
			di->flags |= VL_DI_BAD_FILES;
			continue;
		}
		p = place_of(v, &f, di->place.parent, di->disk, di->disklen);
		if (!p || (di->root && memcmp(f.id, di->id, VL_DIRID_LEN) != 0)) {
			vl_log_bad_entry(dfd, name, "directory ID file of another place (moved, copied "
						    "or injected): not used");
			di->flags |= VL_DI_BAD_FILES;
			continue;
		}
		if (di->root) {
			/* the root uses ID_root (already set) */
			di->flags |= i < 0 ? VL_DI_FILE : 0;
			di->filed |= 1u;
			continue;
		}
		if (!have && full == NULL && p->namelen) {
			/* A long name is learnt from its ID file. */
			memcpy(di->place.name, p->name, p->namelen + 1);
			di->place.namelen = p->namelen;
		}
		if (f.nplaces == 2)
			di->flags |= VL_DI_TWO_PLACES;
		if (vl_dirinfo_has(di, f.id) && have) {
			di->flags |= VL_DI_COPY_DUP;
			continue;
		}
		di->flags |= i < 0 ? VL_DI_FILE : VL_DI_COPIES;
		take_id(di, &have, f.id);
	}
	free_names(names, nn);
	if (have || di->root)
		return 0;
	/* No valid ID file: the children's evidence, else the derived ID. A long name was
	 * known only from an ID file: it is lost either way (FORMAT.md §5.4 step 2). */
	if (di->place.namelen == 0)
		di->flags |= VL_DI_NAME_LOST;
	r = recover(v, dfd, di, &have);
	if (r > 0) {
		di->flags |= VL_DI_RECOVERED;
		vl_log_bad_entry(dfd, VL_DIRID_FILE, "no valid directory ID file: ID recovered from the "
						     "children");
		return 0;
	}
	if (di->place.namelen == 0)
		di->flags |= VL_DI_NAME_LOST;
	if (di->place.namelen)
		r = vl_dirid_derive(vl_vault_keys(v), di->place.parent, di->place.name,
				    di->place.namelen, id);
	else
		r = vl_dirid_derive(vl_vault_keys(v), di->place.parent, di->disk, di->disklen, id);
	if (r < 0)
		return r;
	di->flags |= VL_DI_DERIVED;
	take_id_f(di, &have, id, false);
	vl_log_bad_entry(dfd, VL_DIRID_FILE, "no valid directory ID file: using the derived ID");
	(void)fulllen;
	return 0;
}

int vl_dirinfo_root(const struct vl_vault *v, int rootfd, struct vl_dirinfo *out)
{
	int r;

	memset(out, 0, sizeof(*out));
	out->format = vl_vault_format(v);
	out->root = true;
	if (out->format == VL_FORMAT_V1)
		return read_v1(v, rootfd, out);
	r = vl_dirid_root(vl_vault_keys(v), out->id);
	if (r < 0)
		return r;
	r = read_v2(v, rootfd, out, NULL, 0);
	if (r == 0 && !(out->flags & VL_DI_FILE))
		vl_log_bad_entry(rootfd, VL_DIRID_FILE, "the root's directory ID file is missing or "
							"invalid; using the root ID");
	return r;
}

int vl_dirinfo_read(const struct vl_vault *v, int dirfd, const struct vl_dirinfo *pparent,
		    const uint8_t parent_id[static VL_DIRID_LEN], const char *disk, size_t disklen,
		    const char *full, size_t fulllen, struct vl_dirinfo *out)
{
	(void)pparent;
	memset(out, 0, sizeof(*out));
	out->format = vl_vault_format(v);
	if (disklen == 0 || disklen > VL_ENCNAME_MAX || (full && (fulllen == 0 || fulllen > VL_ENCNAME_MAX)))
		return -EINVAL;
	memcpy(out->place.parent, parent_id, VL_DIRID_LEN);
	memcpy(out->disk, disk, disklen);
	out->disk[disklen] = '\0';
	out->disklen = disklen;
	if (full) {
		memcpy(out->place.name, full, fulllen);
		out->place.name[fulllen] = '\0';
		out->place.namelen = fulllen;
	}
	if (out->format == VL_FORMAT_V1)
		return read_v1(v, dirfd, out);
	return read_v2(v, dirfd, out, full, fulllen);
}

int vl_dirinfo_write(const struct vl_vault *v, int dfd, const struct vl_dirinfo *di,
		     const uint8_t ptoken[static VL_TOKEN_LEN], const struct vl_place *from,
		     bool noreplace)
{
	uint8_t buf[VL_IDFILE_MAX];
	struct vl_idfile f;
	int len;

	if (di->format == VL_FORMAT_V1) {
		vl_dirid_file_build(buf, di->id);
		return vl_write_atomic(dfd, VL_DIRID_FILE, buf, VL_DIRID_FILE_LEN, VL_DIRID_MODE,
				       noreplace);
	}
	memset(&f, 0, sizeof(f));
	memcpy(f.id, di->id, VL_DIRID_LEN);
	if (!di->root)
		memcpy(f.ptoken, ptoken, VL_TOKEN_LEN);
	f.place[0] = di->place;
	f.nplaces = 1;
	if (from) {
		f.place[1] = *from;
		f.nplaces = 2;
	}
	len = vl_idfile_build(vl_vault_keys(v), &f, buf, sizeof(buf));
	if (len < 0)
		return len;
	return vl_write_atomic(dfd, VL_DIRID_FILE, buf, (size_t)len, VL_DIRID_MODE, noreplace);
}

int vl_dirinfo_relocate(const struct vl_vault *v, int dfd, const uint8_t oparent[static VL_DIRID_LEN],
			const char *odisk, size_t odisklen, const struct vl_place *np, bool with_old,
			const uint8_t ptoken[static VL_TOKEN_LEN])
{
	char *names[VL_IDCOPY_MAX];
	struct vl_idfile f;
	uint8_t buf[VL_IDFILE_MAX];
	int nn, done = 0, r = 0;

	nn = copy_names(dfd, names);
	if (nn < 0)
		return nn;
	for (int i = -1; i < nn && r >= 0; i++) {
		const char *name = i < 0 ? VL_DIRID_FILE : names[i];
		const struct vl_place *op;
		struct vl_place keep;
		int len;

		if (read_idfile(v, dfd, name, &f) < 0)
			continue;
		op = place_of(v, &f, oparent, odisk, odisklen);
		if (!op)
			continue;
		keep = *op;
		f.place[0] = *np;
		f.nplaces = 1;
		if (with_old && !(keep.namelen == np->namelen &&
				  !memcmp(keep.parent, np->parent, VL_DIRID_LEN) &&
				  !memcmp(keep.name, np->name, np->namelen))) {
			f.place[1] = keep;
			f.nplaces = 2;
		}
		memcpy(f.ptoken, ptoken, VL_TOKEN_LEN);
		len = vl_idfile_build(vl_vault_keys(v), &f, buf, sizeof(buf));
		if (len < 0) {
			r = len;
			break;
		}
		r = vl_write_atomic(dfd, name, buf, (size_t)len, VL_DIRID_MODE, false);
		if (r == 0)
			done++;
	}
	free_names(names, nn);
	return r < 0 ? r : done;
}

/* Writes an ID file of one place (id at np, with ptoken) atomically as name in dfd; with
 * noreplace, an existing name is left as it is (-EEXIST). 0 or -errno. */
static int write_idfile(const struct vl_vault *v, int dfd, const char *name,
			const uint8_t id[static VL_DIRID_LEN], const struct vl_place *np,
			const uint8_t ptoken[static VL_TOKEN_LEN], bool noreplace)
{
	uint8_t buf[VL_IDFILE_MAX];
	struct vl_idfile f;
	int len;

	memset(&f, 0, sizeof(f));
	memcpy(f.id, id, VL_DIRID_LEN);
	memcpy(f.ptoken, ptoken, VL_TOKEN_LEN);
	f.place[0] = *np;
	f.nplaces = 1;
	len = vl_idfile_build(vl_vault_keys(v), &f, buf, sizeof(buf));
	if (len < 0)
		return len;
	return vl_write_atomic(dfd, name, buf, (size_t)len, VL_DIRID_MODE, noreplace);
}

int vl_dirinfo_write_alt(const struct vl_vault *v, int dfd, const uint8_t id[static VL_DIRID_LEN],
			 const struct vl_place *np, const uint8_t ptoken[static VL_TOKEN_LEN])
{
	static const char hex[] = "0123456789abcdef";
	char name[sizeof(VL_DIRID_FILE) + 5 + 16];
	size_t o;
	int r;

	o = (size_t)snprintf(name, sizeof(name), "%s.alt-", VL_DIRID_FILE);
	for (int i = 0; i < 8; i++) {
		name[o++] = hex[id[i] >> 4];
		name[o++] = hex[id[i] & 15];
	}
	name[o] = '\0';
	r = write_idfile(v, dfd, name, id, np, ptoken, true);
	return r == -EEXIST ? 0 : r;
}

int vl_idfile_read_id(const struct vl_vault *v, int dfd, const char *name, const struct vl_dirinfo *di,
		      uint8_t id[static VL_DIRID_LEN], bool *valid_here)
{
	uint8_t buf[VL_DIRID_FILE_LEN];
	struct vl_idfile f;
	ssize_t n;
	int r;

	*valid_here = false;
	if (vl_vault_format(v) == VL_FORMAT_V1) {
		n = vl_read_small(dfd, name, buf, sizeof(buf));
		if (n < 0)
			return n == -EFBIG || n == -EINVAL ? -EIO : (int)n;
		r = vl_dirid_file_parse(buf, (size_t)n, id);
		*valid_here = r == 0;
		return r;
	}
	r = read_idfile_q(v, dfd, name, &f, true);
	if (r < 0)
		return r;
	memcpy(id, f.id, VL_DIRID_LEN);
	*valid_here = place_of(v, &f, di->place.parent, di->disk, di->disklen) != NULL &&
		      (!di->root || !memcmp(f.id, di->id, VL_DIRID_LEN));
	return 0;
}

int vl_dirinfo_write_named(const struct vl_vault *v, int dfd, const char *name,
			   const uint8_t id[static VL_DIRID_LEN], const struct vl_place *np,
			   const uint8_t ptoken[static VL_TOKEN_LEN])
{
	return write_idfile(v, dfd, name, id, np, ptoken, false);
}
