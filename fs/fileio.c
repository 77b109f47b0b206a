/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Plaintext reads, writes and truncates over a ciphertext file (FORMAT.md §3, FORMAT-v1.md
 * §3).
 *
 * Locking: the caller holds the file's lock, exclusively for writes, truncates and header
 * rewrites; reads may run in parallel with reads. Reads therefore use per-call buffers only,
 * and the lazily loaded file key (with what the header said) is guarded by c->lock. Writes
 * and truncates may replace the key because no read runs beside them. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sys/xattr.h>

#include "../crypto/content.h"
#include "../crypto/secmem.h"
#include "../crypto/xattr.h"
#include "backing.h"
#include "fileio.h"
#include "log.h"
#include "vault.h"

/* Upper bound of one batch of sealed blocks (one buffer, one pwrite). Larger writes and
 * truncates that grow a file by a lot are done in several batches. */
#define VL_BATCH_BYTES (4u << 20)
/* Scratch buffers up to this size stay with their thread for the next request (a 1 MiB
 * request's ciphertext with its overhead fits); larger ones are freed after use. */
#define VL_SCRATCH_KEEP ((2u << 20) + 4096)

/*
 * Scratch buffers, reused across requests instead of a malloc per request (measured in
 * bench/hotpath.sh). ct holds ciphertext only; pt holds plaintext, so every user wipes what
 * it put there before returning. A request takes a set (from the shared pool, or a new one)
 * on its first scratch_get and gives it back with scratch_release when it ends; the pool
 * keeps at most VL_SCRATCH_POOL sets, so memory follows the number of requests running at
 * once (about the number of cores), not the number of FUSE worker threads (up to 10, each
 * of which would otherwise keep megabytes). One user at a time per thread: no function
 * below that holds a scratch buffer calls another that takes the same one. A set still held
 * at thread exit is freed by a pthread key destructor.
 */
#define VL_SCRATCH_POOL 4
enum { SCR_CT, SCR_PT, SCR_RCT, SCR_N };
struct scratch {
	uint8_t *p[SCR_N];
	size_t cap[SCR_N];
};
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;
static pthread_key_t scratch_key;
static bool scratch_key_ok;
static _Thread_local struct scratch *tls_scratch;
static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static struct scratch *pool[VL_SCRATCH_POOL]; /* protected by pool_lock */
static unsigned pool_n;			       /* protected by pool_lock */

static void scratch_destroy(void *v)
{
	struct scratch *s = v;

	if (!s)
		return;
	for (int i = 0; i < SCR_N; i++) {
		/* Every user wipes its plaintext already; this is belt and braces for pt. */
		if (i == SCR_PT)
			vl_wipe(s->p[i], s->cap[i]);
		free(s->p[i]);
	}
	free(s);
	if (tls_scratch == s)
		tls_scratch = NULL;
}

static void scratch_init(void)
{
	scratch_key_ok = pthread_key_create(&scratch_key, scratch_destroy) == 0;
}

/* This thread's buffer `which` with at least len bytes (contents undefined), or NULL. */
static uint8_t *scratch_get(int which, size_t len)
{
	struct scratch *s = tls_scratch;
	uint8_t *p;

	if (!s) {
		if (pthread_once(&scratch_once, scratch_init) != 0 || !scratch_key_ok)
			return NULL;
		pthread_mutex_lock(&pool_lock);
		if (pool_n > 0)
			s = pool[--pool_n];
		pthread_mutex_unlock(&pool_lock);
		if (!s)
			s = calloc(1, sizeof(*s));
		if (!s)
			return NULL;
		if (pthread_setspecific(scratch_key, s) != 0) {
			free(s);
			return NULL;
		}
		tls_scratch = s;
	}
	if (s->cap[which] >= len)
		return s->p[which];
	if (which == SCR_PT)
		vl_wipe(s->p[which], s->cap[which]);
	free(s->p[which]);
	s->p[which] = NULL;
	s->cap[which] = 0;
	p = malloc(len);
	if (!p)
		return NULL;
	s->p[which] = p;
	s->cap[which] = len;
	return p;
}

/* Ends a use of buffer `which`: frees it if it grew past what a thread keeps. */
static void scratch_put(int which)
{
	struct scratch *s = tls_scratch;

	if (s && s->cap[which] > VL_SCRATCH_KEEP) {
		if (which == SCR_PT)
			vl_wipe(s->p[which], s->cap[which]);
		free(s->p[which]);
		s->p[which] = NULL;
		s->cap[which] = 0;
	}
}

/* Ends a request's use of its scratch set: back to the pool, or freed if the pool is full. */
static void scratch_release(void)
{
	struct scratch *s = tls_scratch;

	if (!s)
		return;
	(void)pthread_setspecific(scratch_key, NULL);
	tls_scratch = NULL;
	pthread_mutex_lock(&pool_lock);
	if (pool_n < VL_SCRATCH_POOL) {
		pool[pool_n++] = s;
		s = NULL;
	}
	pthread_mutex_unlock(&pool_lock);
	scratch_destroy(s);
}

struct vl_content {
	const struct vl_vault *v;
	enum vl_stream stream;
	unsigned format;	 /* the vault's: VL_FORMAT_V1 or VL_FORMAT_V2 */
	struct vl_layout l;	 /* header length follows the binding's is_long (format 2) */
	bool bound;		 /* format 2: b is set */
	struct vl_binding b;	 /* format 2: where the file is; changed only under the
				  * caller's exclusive lock */
	pthread_mutex_t lock;	 /* guards fk, htoken, hmoving */
	struct vl_filekey *fk;	 /* cached key of the header's file ID; protected by lock */
	uint8_t htoken[VL_TOKEN_LEN]; /* format 2: the token field of the header read; lock */
	bool hmoving;		 /* format 2: that header was a moving header; lock */
};

static void set_binding(struct vl_content *c, const struct vl_binding *b)
{
	c->bound = b != NULL;
	if (b)
		c->b = *b;
	c->l = vl_layout_of(c->format, vl_vault_block_size(c->v), b && b->is_long);
}

int vl_content_new(struct vl_content **out, const struct vl_vault *v, enum vl_stream s,
		   const struct vl_binding *b)
{
	struct vl_content *c = calloc(1, sizeof(*c));

	if (!c)
		return -ENOMEM;
	c->v = v;
	c->stream = s;
	c->format = vl_vault_format(v);
	set_binding(c, c->format >= VL_FORMAT_V2 ? b : NULL);
	pthread_mutex_init(&c->lock, NULL);
	*out = c;
	return 0;
}

void vl_content_free(struct vl_content *c)
{
	if (!c)
		return;
	vl_filekey_free(c->fk);
	pthread_mutex_destroy(&c->lock);
	vl_wipe(c, sizeof(*c));
	free(c);
}

void vl_content_reset(struct vl_content *c)
{
	pthread_mutex_lock(&c->lock);
	vl_filekey_free(c->fk);
	c->fk = NULL;
	pthread_mutex_unlock(&c->lock);
}

void vl_content_set_binding(struct vl_content *c, const struct vl_binding *b)
{
	vl_content_reset(c);
	if (c->format >= VL_FORMAT_V2)
		set_binding(c, b);
}

static bool v2(const struct vl_content *c)
{
	return c->format >= VL_FORMAT_V2;
}

static uint32_t bsize(const struct vl_content *c)
{
	return c->l.block_size;
}

/* Ciphertext and plaintext size of fd. */
static int sizes(const struct vl_content *c, int fd, uint64_t *csize, uint64_t *psize)
{
	struct stat st;
	int r;

	if (fstat(fd, &st) < 0)
		return -errno;
	*csize = (uint64_t)st.st_size;
	r = vl_plain_size(&c->l, *csize, psize);
	if (r < 0) {
		/* A torn header or torn last block: report it like a failed block. */
		if (*csize > c->l.hdrlen) {
			uint64_t blk = (*csize - c->l.hdrlen) /
				       ((uint64_t)c->l.block_size + VL_BLOCK_OVERHEAD);
			vl_log_corrupt_block(fd, blk);
		} else {
			vl_log_corrupt_block(fd, UINT64_MAX);
		}
	}
	return r;
}

int vl_content_size(const struct vl_content *c, int fd, uint64_t *psize)
{
	uint64_t csize;

	return sizes(c, fd, &csize, psize);
}

/* Format 2: what the binding says the header must hold (FORMAT.md §3.1). */
static bool header_fits(const struct vl_content *c, const struct vl_header *h)
{
	bool lng = (h->flags & VL_HDR_LONG) != 0, obj = (h->flags & VL_HDR_OBJECT) != 0;

	if (lng != c->b.is_long || obj != (c->stream == VL_STREAM_OBJECT))
		return false;
	if (!vl_ct_equal(h->parent, c->b.parent, VL_DIRID_LEN) &&
	    !((h->flags & VL_HDR_MOVING) && vl_ct_equal(h->token, c->b.parent, VL_DIRID_LEN)))
		return false;
	return !lng || (h->namelen == c->b.namelen && vl_ct_equal(h->name, c->b.name, h->namelen));
}

/* Reads and checks the header of fd: the file ID, and (format 2) the token field. Caller
 * holds c->lock. */
static int read_header(struct vl_content *c, int fd, uint8_t id[static VL_FILEID_LEN])
{
	uint8_t hdr[VL_HEADER_LONG_LEN];
	struct vl_header h;
	ssize_t n;
	int r;

	if (v2(c) && !c->bound) {
		vl_log(VL_LOG_ERR, "internal: format-2 file read without its binding");
		return -EIO;
	}
	n = vl_pread_full(fd, hdr, c->l.hdrlen, 0);
	if (n < 0)
		return (int)n;
	if (!v2(c)) {
		r = vl_header_parse(hdr, (size_t)n, id);
	} else {
		r = vl_header2_parse(vl_vault_keys(c->v), hdr, (size_t)n, &h);
		if (r == 0 && !header_fits(c, &h)) {
			vl_log_bad_block(fd, UINT64_MAX, VL_MISPLACED_TEXT);
			r = -EIO;
		}
		if (r == 0) {
			memcpy(id, h.id, VL_FILEID_LEN);
			memcpy(c->htoken, h.token, VL_TOKEN_LEN);
			c->hmoving = (h.flags & VL_HDR_MOVING) != 0;
		}
		vl_wipe(&h, sizeof(h));
	}
	if (r < 0)
		vl_log_corrupt_block(fd, UINT64_MAX); /* the header */
	return r;
}

/* Returns the file key, reading and checking the header on first use. The file must have
 * a header. The pointer stays valid until vl_content_reset or _free, which the caller's lock
 * keeps away from every user. */
static int get_key(struct vl_content *c, int fd, const struct vl_filekey **fk)
{
	uint8_t id[VL_FILEID_LEN];
	int r = 0;

	pthread_mutex_lock(&c->lock);
	if (c->fk)
		goto out;
	r = read_header(c, fd, id);
	if (r == 0)
		r = vl_filekey_new(&c->fk, vl_vault_keys(c->v), c->stream, id);
out:
	if (r == 0)
		*fk = c->fk;
	pthread_mutex_unlock(&c->lock);
	return r;
}

/* Format 1: makes the key for a new header (a cached ID is reused: the file had a header
 * that someone removed, and xattrs may be bound to the ID). Caller holds the file exclusively. */
static int new_key(struct vl_content *c, const struct vl_filekey **fk)
{
	uint8_t id[VL_FILEID_LEN];
	int r = 0;

	pthread_mutex_lock(&c->lock);
	if (!c->fk) {
		r = vl_random(id, sizeof(id));
		if (r == 0)
			r = vl_filekey_new(&c->fk, vl_vault_keys(c->v), c->stream, id);
	}
	if (r == 0)
		*fk = c->fk;
	pthread_mutex_unlock(&c->lock);
	return r;
}

/* Format 2: serializes the header for file ID id under the content's binding into out
 * (VL_HEADER_LONG_LEN bytes). moving_from: NULL for a final header, else the origin
 * directory's ID (FORMAT.md §3.5). Returns the length or -errno. */
static int build_header(const struct vl_content *c, const struct vl_binding *b,
			const uint8_t id[static VL_FILEID_LEN], const uint8_t *moving_from,
			uint8_t *out)
{
	struct vl_header h;
	int r;

	memset(&h, 0, sizeof(h));
	h.flags = (b->is_long ? VL_HDR_LONG : 0) | (c->stream == VL_STREAM_OBJECT ? VL_HDR_OBJECT : 0) |
		  (moving_from ? VL_HDR_MOVING : 0);
	memcpy(h.id, id, VL_FILEID_LEN);
	memcpy(h.parent, b->parent, VL_DIRID_LEN);
	memcpy(h.token, moving_from ? moving_from : b->token, VL_TOKEN_LEN);
	if (b->is_long) {
		h.namelen = b->namelen;
		memcpy(h.name, b->name, b->namelen);
	}
	r = vl_header2_build(vl_vault_keys(c->v), &h, out, VL_HEADER_LONG_LEN);
	vl_wipe(&h, sizeof(h));
	return r;
}

/* Plaintext length of block i in a file of psize bytes (0 if beyond the end). */
static size_t block_len(uint64_t psize, uint64_t i, uint32_t B)
{
	uint64_t start = i * B;

	if (start >= psize)
		return 0;
	return psize - start < B ? (size_t)(psize - start) : B;
}

/* Format 2: checks the empty final block of an empty file (a file cut to the header plus 28
 * bytes of its first block must not read as empty). 0 or -EIO. */
static int check_empty_block(struct vl_content *c, int fd, uint64_t csize)
{
	const struct vl_filekey *fk;
	uint8_t ct[VL_BLOCK_OVERHEAD], pt[1];
	ssize_t n;
	int r;

	r = get_key(c, fd, &fk);
	if (r < 0)
		return r;
	n = vl_pread_full(fd, ct, sizeof(ct), c->l.hdrlen);
	if (n != (ssize_t)sizeof(ct) || csize != c->l.hdrlen + VL_BLOCK_OVERHEAD ||
	    vl_block_open(fk, 0, true, ct, sizeof(ct), pt, sizeof(pt)) != 0) {
		vl_log_corrupt_block(fd, 0);
		return -EIO;
	}
	return 0;
}

ssize_t vl_content_read(struct vl_content *c, int fd, void *buf, size_t len, uint64_t off)
{
	const uint32_t B = bsize(c);
	const uint64_t S = (uint64_t)B + VL_BLOCK_OVERHEAD;
	const struct vl_filekey *fk;
	uint64_t csize, psize, end, first, last, final, i, coff;
	uint8_t *ct = NULL, *tmp = NULL;
	size_t ctlen, done = 0;
	bool torn = false, tmp_used = false;
	ssize_t n, r;

	r = sizes(c, fd, &csize, &psize);
	if (r == -EIO && csize > c->l.hdrlen + (v2(c) ? VL_BLOCK_OVERHEAD : 0)) {
		/* A torn last block (a half-synced or cut file): the complete blocks before it
		 * stay readable (they were written as non-final blocks); the torn one is block
		 * q, which fails below. Matches the size stat reports: q * B + 1. */
		uint64_t q = (csize - c->l.hdrlen) / S;

		psize = q * B + 1;
		torn = true;
	} else if (r < 0) {
		return r;
	}
	if (psize == 0 && v2(c))
		return check_empty_block(c, fd, csize);
	if (len == 0 || off >= psize)
		return 0;
	end = psize - off < len ? psize : off + len;
	first = off / B;
	last = (end - 1) / B;
	final = (psize - 1) / B;
	if (torn && last == final) {
		vl_log_corrupt_block(fd, final);
		return -EIO;
	}
	r = get_key(c, fd, &fk);
	if (r < 0)
		return r;

	/* One pread for every block the request touches, into this thread's buffer (reads
	 * run in parallel: nothing shared between threads). */
	coff = vl_block_offset(&c->l, first);
	ctlen = (size_t)((last == final ? csize : vl_block_offset(&c->l, last + 1)) - coff);
	ct = scratch_get(SCR_CT, ctlen);
	if (!ct) {
		r = -ENOMEM;
		goto out;
	}
	n = vl_pread_full(fd, ct, ctlen, coff);
	if (n < 0) {
		r = n;
		goto out;
	}
	if ((size_t)n != ctlen) {
		/* Shrunk under us (by someone outside veilfs): the last block is cut. */
		vl_log_corrupt_block(fd, last);
		r = -EIO;
		goto out;
	}
	for (i = first; i <= last; i++) {
		size_t blen = block_len(psize, i, B);
		uint64_t bstart = i * B;
		/* Part of the block the caller wants. */
		size_t from = off > bstart ? (size_t)(off - bstart) : 0;
		size_t to = end - bstart < blen ? (size_t)(end - bstart) : blen;
		uint8_t *dst;
		int m;

		/* Whole blocks decrypt straight into the caller's buffer (written only after
		 * the tag verified); partial ones go through tmp. */
		if (from == 0 && to == blen) {
			dst = (uint8_t *)buf + done;
		} else {
			if (!tmp)
				tmp = scratch_get(SCR_PT, B);
			if (!tmp) {
				r = -ENOMEM;
				goto out;
			}
			dst = tmp;
			tmp_used = true;
		}
		m = vl_block_open(fk, i, i == final, ct + (i - first) * S, blen + VL_BLOCK_OVERHEAD,
				  dst, B);
		if (m != (int)blen) {
			vl_log_corrupt_block(fd, i);
			r = -EIO;
			goto out;
		}
		if (dst == tmp)
			memcpy((uint8_t *)buf + done, tmp + from, to - from);
		done += to - from;
	}
	r = (ssize_t)done;
out:
	if (ct)
		scratch_put(SCR_CT);
	if (tmp_used)
		vl_wipe(tmp, B);
	if (tmp)
		scratch_put(SCR_PT);
	scratch_release();
	return r;
}

/* Reads and authenticates block i of the current file (for read-modify-write) into pt
 * (B bytes; the tail beyond the block's length is zeroed). */
static int read_block(struct vl_content *c, const struct vl_filekey *fk, int fd, uint64_t psize,
		      uint64_t i, uint8_t *pt, uint8_t *ct)
{
	const uint32_t B = bsize(c);
	size_t blen = block_len(psize, i, B);
	uint64_t final = (psize - 1) / B;
	ssize_t n;
	int m;

	n = vl_pread_full(fd, ct, blen + VL_BLOCK_OVERHEAD, vl_block_offset(&c->l, i));
	if (n < 0)
		return (int)n;
	m = -EIO;
	if ((size_t)n == blen + VL_BLOCK_OVERHEAD)
		m = vl_block_open(fk, i, i == final, ct, blen + VL_BLOCK_OVERHEAD, pt, B);
	if (m != (int)blen) {
		vl_log_corrupt_block(fd, i);
		return -EIO;
	}
	memset(pt + blen, 0, B - blen);
	return 0;
}

/* Reserves disk space for the ciphertext growing from csize to new_csize, so that ENOSPC
 * comes now and not in the middle of writing blocks. FALLOC_FL_KEEP_SIZE: if anything fails
 * later, no zero-filled tail (a torn block) is left behind. */
static int reserve(int fd, uint64_t csize, uint64_t new_csize)
{
	if (new_csize <= csize)
		return 0;
	if (fallocate(fd, FALLOC_FL_KEEP_SIZE, (off_t)csize, (off_t)(new_csize - csize)) == 0)
		return 0;
	if (errno == EOPNOTSUPP || errno == ENOSYS || errno == EINTR)
		return 0; /* no reservation possible here: write and hope */
	return -errno;
}

/*
 * The one write path: makes the plaintext [off, off + len) equal to data (zeros when data
 * is NULL), growing the file to at least off + len. Blocks rewritten:
 *  - from the block of min(off, old size) (a gap after the old end is filled with zeros)
 *    to the block of off + len - 1;
 *  - plus the old last block if the file grows past it, to clear its `last` flag.
 * Partially covered old blocks are read, authenticated and merged. Sealed blocks are
 * batched into one buffer and one pwrite per VL_BATCH_BYTES. Format 2's empty final block of
 * an empty file is block 0 of length 0: the first write replaces it. Caller holds the file
 * exclusively.
 */
static int update(struct vl_content *c, int fd, const uint8_t *data, size_t len, uint64_t off)
{
	const uint32_t B = bsize(c);
	const uint64_t S = (uint64_t)B + VL_BLOCK_OVERHEAD;
	const struct vl_filekey *fk = NULL;
	uint64_t csize, psize, new_size, ws, fb, lb, old_n, new_final, i, batch_blocks;
	uint8_t *pt = NULL, *out = NULL, *rct = NULL;
	bool header = false;
	int r;

	r = sizes(c, fd, &csize, &psize);
	if (r < 0)
		return r;
	if (len == 0)
		return 0;
	new_size = off + len > psize ? off + len : psize;
	ws = off < psize ? off : psize;
	fb = ws / B;
	lb = (off + len - 1) / B;
	old_n = (psize + B - 1) / B;
	new_final = (new_size - 1) / B;
	/* Growing past a full old last block: it must be re-sealed with last = 0. */
	if (new_size > psize && old_n > 0 && old_n - 1 < fb)
		fb = old_n - 1;

	if (csize == 0 && !v2(c)) {
		r = new_key(c, &fk);
		header = true;
	} else {
		r = get_key(c, fd, &fk);
	}
	if (r < 0)
		return r;
	r = reserve(fd, csize, vl_cipher_size(&c->l, new_size));
	if (r < 0)
		return r;

	batch_blocks = VL_BATCH_BYTES / S;
	if (batch_blocks == 0)
		batch_blocks = 1;
	if (batch_blocks > lb - fb + 1)
		batch_blocks = lb - fb + 1;
	out = scratch_get(SCR_CT, VL_HEADER_V1_LEN + batch_blocks * S);
	if (!out) {
		r = -ENOMEM;
		goto out;
	}

	for (i = fb; i <= lb;) {
		uint64_t bend = i + batch_blocks - 1 < lb ? i + batch_blocks - 1 : lb;
		uint64_t woff = vl_block_offset(&c->l, i);
		size_t pos = 0;

		if (header) {
			/* First write to an empty format-1 file: header and blocks in one pwrite. */
			vl_header_build(out, vl_filekey_id(fk));
			pos = VL_HEADER_V1_LEN;
			woff = 0;
			header = false;
		}
		for (; i <= bend; i++) {
			uint64_t bstart = i * B;
			size_t old_len = block_len(psize, i, B);
			size_t new_len = block_len(new_size, i, B);
			/* Bytes of this block that come from data: [from, to). */
			uint64_t lo = off > bstart ? off : bstart;
			uint64_t hi = off + len < bstart + B ? off + len : bstart + B;
			bool covers = lo <= bstart && hi >= bstart + old_len;
			const uint8_t *src;

			if (data && lo <= bstart && hi >= bstart + new_len) {
				/* The caller's data is the whole new block: seal it in place. */
				src = data + (bstart - off);
			} else {
				if (!pt) {
					pt = scratch_get(SCR_PT, B);
					rct = scratch_get(SCR_RCT, S);
					if (!pt || !rct) {
						r = -ENOMEM;
						goto out;
					}
				}
				if (old_len > 0 && !covers) {
					r = read_block(c, fk, fd, psize, i, pt, rct);
					if (r < 0)
						goto out;
				} else {
					memset(pt, 0, new_len);
				}
				if (hi > lo) {
					if (data)
						memcpy(pt + (lo - bstart), data + (lo - off),
						       (size_t)(hi - lo));
					else
						memset(pt + (lo - bstart), 0, (size_t)(hi - lo));
				}
				src = pt;
			}
			r = vl_block_seal(fk, i, i == new_final, src, new_len, out + pos,
					  new_len + VL_BLOCK_OVERHEAD);
			if (r < 0)
				goto out;
			pos += new_len + VL_BLOCK_OVERHEAD;
		}
		r = vl_pwrite_full(fd, out, pos, woff);
		if (r < 0)
			goto out;
	}
	r = 0;
out:
	if (pt) {
		vl_wipe(pt, B);
		scratch_put(SCR_PT);
		scratch_put(SCR_RCT);
	}
	if (out)
		scratch_put(SCR_CT);
	scratch_release();
	return r;
}

ssize_t vl_content_write(struct vl_content *c, int fd, const void *buf, size_t len, uint64_t off)
{
	int r;

	if (len > SSIZE_MAX || off > (uint64_t)INT64_MAX - len)
		return -EFBIG;
	r = update(c, fd, buf, len, off);
	return r < 0 ? r : (ssize_t)len;
}

/* Format 2: re-seals the extended-attribute values of fd from file ID old to file ID new
 * (FORMAT.md §3.3). A value that does not open under old is left as it was (logged). */
static int reseal_xattrs(struct vl_content *c, int fd, const uint8_t old[static VL_FILEID_LEN],
			 const uint8_t new[static VL_FILEID_LEN])
{
	const size_t plen = strlen(VL_XATTR_PREFIX), vmax = 65536;
	const struct vl_keys *k = vl_vault_keys(c->v);
	char *names = NULL;
	uint8_t *ct = NULL, *pt = NULL;
	ssize_t n;
	int r = 0;

	n = flistxattr(fd, NULL, 0);
	if (n <= 0)
		return n < 0 && errno != ENOTSUP ? -errno : 0;
	names = malloc((size_t)n + 1);
	ct = malloc(vmax);
	pt = malloc(vmax);
	if (!names || !ct || !pt) {
		r = -ENOMEM;
		goto out;
	}
	n = flistxattr(fd, names, (size_t)n);
	if (n < 0) {
		r = -errno;
		goto out;
	}
	names[n] = '\0';
	for (char *s = names; s < names + n; s += strlen(s) + 1) {
		ssize_t vl;
		int m;

		if (strncmp(s, VL_XATTR_PREFIX, plen) != 0)
			continue;
		vl = fgetxattr(fd, s, ct, vmax);
		if (vl < 0)
			continue;
		m = vl_xattr_value_open(k, old, s, ct, (size_t)vl, pt, vmax);
		if (m < 0) {
			vl_log_bad_entry(fd, s, "extended attribute that does not authenticate, left as is");
			continue;
		}
		m = vl_xattr_value_seal(k, new, s, pt, (size_t)m, ct, vmax);
		vl_wipe(pt, vmax);
		if (m < 0 || fsetxattr(fd, s, ct, (size_t)m, XATTR_REPLACE) < 0) {
			r = m < 0 ? m : -errno;
			break;
		}
	}
out:
	if (pt)
		vl_wipe(pt, vmax);
	free(pt);
	free(ct);
	free(names);
	return r;
}

/* Format 2: writes a fresh file ID's header and empty final block and cuts the file there
 * (creation and FORMAT.md §3.3). Replaces the cached key. Caller holds the file exclusively. */
static int fresh_id(struct vl_content *c, int fd, bool have_old)
{
	uint8_t buf[VL_HEADER_LONG_LEN + VL_BLOCK_OVERHEAD], id[VL_FILEID_LEN], old[VL_FILEID_LEN];
	struct vl_filekey *fk = NULL;
	const struct vl_filekey *ofk;
	int len, r;

	if (!c->bound)
		return -EIO;
	if (have_old) {
		r = get_key(c, fd, &ofk);
		if (r < 0)
			have_old = false; /* a broken header: nothing to carry over */
		else
			memcpy(old, vl_filekey_id(ofk), VL_FILEID_LEN);
	}
	r = vl_random(id, sizeof(id));
	if (r == 0)
		r = vl_filekey_new(&fk, vl_vault_keys(c->v), c->stream, id);
	if (r < 0)
		goto out;
	len = build_header(c, &c->b, id, NULL, buf);
	if (len < 0) {
		r = len;
		goto out;
	}
	r = vl_block_seal(fk, 0, true, NULL, 0, buf + len, VL_BLOCK_OVERHEAD);
	if (r == 0)
		r = vl_pwrite_full(fd, buf, (size_t)len + VL_BLOCK_OVERHEAD, 0);
	if (r == 0 && ftruncate(fd, (off_t)len + VL_BLOCK_OVERHEAD) < 0)
		r = -errno;
	if (r < 0)
		goto out;
	if (have_old)
		r = reseal_xattrs(c, fd, old, id);
	pthread_mutex_lock(&c->lock);
	vl_filekey_free(c->fk);
	c->fk = fk;
	fk = NULL;
	memcpy(c->htoken, c->b.token, VL_TOKEN_LEN);
	c->hmoving = false;
	pthread_mutex_unlock(&c->lock);
out:
	vl_filekey_free(fk);
	vl_wipe(id, sizeof(id));
	return r;
}

int vl_content_create(struct vl_content *c, int fd)
{
	struct stat st;

	if (!v2(c))
		return 0;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (st.st_size != 0)
		return -EEXIST;
	return fresh_id(c, fd, false);
}

int vl_content_truncate(struct vl_content *c, int fd, uint64_t size)
{
	const uint32_t B = bsize(c);
	const struct vl_filekey *fk;
	uint64_t csize, psize, n;
	uint8_t *pt = NULL, *ct = NULL;
	size_t nlen;
	int r;

	r = sizes(c, fd, &csize, &psize);
	if (r < 0 && !(v2(c) && size == 0))
		return r;
	if (size == 0 && v2(c))
		return fresh_id(c, fd, true); /* always: a new ID, even when already empty */
	if (size == psize)
		return 0;
	if (size > psize) {
		if (size > (uint64_t)INT64_MAX)
			return -EFBIG;
		/* Growing is writing zeros: encrypted zero blocks, no holes (§3). */
		return update(c, fd, NULL, size - psize, psize);
	}
	if (size == 0) {
		/* Format 1: keep the header: the file ID and the xattrs bound to it stay. */
		return ftruncate(fd, VL_HEADER_V1_LEN) < 0 ? -errno : 0;
	}
	/* Shrink: re-seal the new last block with last = 1, then cut. */
	r = get_key(c, fd, &fk);
	if (r < 0)
		return r;
	n = (size - 1) / B;
	nlen = block_len(size, n, B);
	pt = malloc(B);
	ct = malloc((size_t)B + VL_BLOCK_OVERHEAD);
	if (!pt || !ct) {
		r = -ENOMEM;
		goto out;
	}
	r = read_block(c, fk, fd, psize, n, pt, ct);
	if (r < 0)
		goto out;
	r = vl_block_seal(fk, n, true, pt, nlen, ct, nlen + VL_BLOCK_OVERHEAD);
	if (r < 0)
		goto out;
	r = vl_pwrite_full(fd, ct, nlen + VL_BLOCK_OVERHEAD, vl_block_offset(&c->l, n));
	if (r < 0)
		goto out;
	if (ftruncate(fd, (off_t)vl_cipher_size(&c->l, size)) < 0)
		r = -errno;
out:
	if (pt) {
		vl_wipe(pt, B);
		free(pt);
	}
	free(ct);
	return r;
}

int vl_content_file_id(struct vl_content *c, int fd, uint8_t id[static VL_FILEID_LEN])
{
	uint8_t hdr[VL_HEADER_V1_LEN];
	const struct vl_filekey *fk;
	uint64_t csize, psize;
	int r;

	r = sizes(c, fd, &csize, &psize);
	if (r < 0)
		return r;
	if (csize == 0 && !v2(c)) {
		/* An empty format-1 file gets a header so that xattr values can be bound to its
		 * ID. */
		r = new_key(c, &fk);
		if (r < 0)
			return r;
		vl_header_build(hdr, vl_filekey_id(fk));
		r = vl_pwrite_full(fd, hdr, sizeof(hdr), 0);
		if (r < 0)
			return r;
	} else {
		r = get_key(c, fd, &fk);
		if (r < 0)
			return r;
	}
	memcpy(id, vl_filekey_id(fk), VL_FILEID_LEN);
	return 0;
}

/* Format 2: rewrites the header of fd in place for binding b (same file ID). */
static int rewrite_header(struct vl_content *c, int fd, const struct vl_binding *b,
			  const uint8_t *moving_from)
{
	uint8_t buf[VL_HEADER_LONG_LEN];
	const struct vl_filekey *fk;
	int len, r;

	r = get_key(c, fd, &fk);
	if (r < 0)
		return r;
	len = build_header(c, b, vl_filekey_id(fk), moving_from, buf);
	if (len < 0)
		return len;
	return vl_pwrite_full(fd, buf, (size_t)len, 0);
}

int vl_content_refresh_token(struct vl_content *c, int fd)
{
	const struct vl_filekey *fk;
	bool stale;
	int r;

	if (!v2(c))
		return 0;
	r = get_key(c, fd, &fk);
	if (r < 0)
		return r;
	pthread_mutex_lock(&c->lock);
	stale = !c->hmoving && !vl_ct_equal(c->htoken, c->b.token, VL_TOKEN_LEN);
	pthread_mutex_unlock(&c->lock);
	if (!stale)
		return 0;
	r = rewrite_header(c, fd, &c->b, NULL);
	if (r == 0) {
		pthread_mutex_lock(&c->lock);
		memcpy(c->htoken, c->b.token, VL_TOKEN_LEN);
		pthread_mutex_unlock(&c->lock);
	}
	return r;
}

int vl_content_rebind(struct vl_content *c, int fd, const struct vl_binding *nb, bool moving)
{
	int r;

	if (!v2(c))
		return 0;
	if (!c->bound || nb->is_long != c->b.is_long)
		return -EINVAL;
	r = rewrite_header(c, fd, nb, moving ? c->b.parent : NULL);
	if (r == 0 && moving && fdatasync(fd) < 0)
		r = -errno;
	if (r < 0)
		return r;
	pthread_mutex_lock(&c->lock);
	c->b = *nb;
	memcpy(c->htoken, moving ? c->b.parent : nb->token, VL_TOKEN_LEN);
	c->hmoving = moving;
	pthread_mutex_unlock(&c->lock);
	return 0;
}

/* Copies len bytes from src at soff to dst at doff: copy_file_range (a reflink or an
 * in-kernel copy where the filesystem can), else read and write. */
static int copy_range(int src, uint64_t soff, int dst, uint64_t doff, uint64_t len)
{
	uint8_t *buf = NULL;
	int r = 0;

	while (len > 0) {
		loff_t so = (loff_t)soff, d = (loff_t)doff;
		ssize_t n = copy_file_range(src, &so, dst, &d, len > (1u << 30) ? (1u << 30) : len, 0);

		if (n < 0 && (errno == EINTR))
			continue;
		if (n <= 0)
			break;
		soff += (uint64_t)n;
		doff += (uint64_t)n;
		len -= (uint64_t)n;
	}
	if (len == 0)
		return 0;
	buf = malloc(1u << 20);
	if (!buf)
		return -ENOMEM;
	while (len > 0 && r == 0) {
		size_t want = len > (1u << 20) ? (1u << 20) : (size_t)len;
		ssize_t n = vl_pread_full(src, buf, want, soff);

		if (n < 0)
			r = (int)n;
		else if ((size_t)n != want)
			r = -EIO; /* shrank under us */
		else
			r = vl_pwrite_full(dst, buf, want, doff);
		soff += want;
		doff += want;
		len -= want;
	}
	free(buf);
	return r;
}

int vl_content_copy_rebound(struct vl_content *c, int src, int dst, const struct vl_binding *nb)
{
	uint8_t buf[VL_HEADER_LONG_LEN];
	const struct vl_filekey *fk;
	struct vl_layout nl;
	uint64_t csize, psize;
	int len, r;

	if (!v2(c))
		return -EINVAL;
	r = sizes(c, src, &csize, &psize);
	if (r < 0)
		return r;
	r = get_key(c, src, &fk);
	if (r < 0)
		return r;
	len = build_header(c, nb, vl_filekey_id(fk), NULL, buf);
	if (len < 0)
		return len;
	nl = vl_layout_of(c->format, c->l.block_size, nb->is_long);
	if ((uint32_t)len != nl.hdrlen)
		return -EINVAL;
	r = vl_pwrite_full(dst, buf, (size_t)len, 0);
	if (r == 0)
		r = copy_range(src, c->l.hdrlen, dst, nl.hdrlen, csize - c->l.hdrlen);
	return r;
}

int vl_content_header(struct vl_content *c, int fd, struct vl_header *h)
{
	uint8_t hdr[VL_HEADER_LONG_LEN];
	ssize_t n;
	int r;

	if (!v2(c) || !c->bound)
		return -EINVAL;
	n = vl_pread_full(fd, hdr, c->l.hdrlen, 0);
	if (n < 0)
		return (int)n;
	r = vl_header2_parse(vl_vault_keys(c->v), hdr, (size_t)n, h);
	if (r == 0 && !header_fits(c, h))
		r = -EIO;
	return r;
}

enum vl_file_state vl_file_state(const struct vl_vault *v2, int fd, const struct vl_layout *l2,
				 uint8_t id[static VL_FILEID_LEN])
{
	uint8_t hdr[VL_HEADER_LONG_LEN];
	struct vl_header h;
	struct stat st;
	ssize_t n;

	if (fstat(fd, &st) < 0)
		return VL_FILE_DAMAGED;
	if (st.st_size == 0)
		return VL_FILE_V1_EMPTY;
	n = vl_pread_full(fd, hdr, l2->hdrlen, 0);
	if (n == (ssize_t)l2->hdrlen && vl_header2_parse(vl_vault_keys(v2), hdr, (size_t)n, &h) == 0)
		return VL_FILE_V2;
	if (n >= VL_HEADER_V1_LEN && vl_header_parse(hdr, VL_HEADER_V1_LEN, id) == 0)
		return st.st_size == VL_HEADER_V1_LEN ? VL_FILE_V1_EMPTY : VL_FILE_V1;
	return VL_FILE_DAMAGED;
}

int vl_content_upgrade(const struct vl_vault *v2, enum vl_stream s, const struct vl_binding *b,
		       int src, int dst)
{
	struct vl_content *c = NULL;
	const struct vl_layout l1 = vl_layout_of(VL_FORMAT_V1, vl_vault_block_size(v2), false);
	uint8_t id[VL_FILEID_LEN], oid[VL_FILEID_LEN], buf[VL_HEADER_LONG_LEN + VL_BLOCK_OVERHEAD];
	struct vl_filekey *fk = NULL;
	enum vl_file_state st;
	struct stat sst;
	int len, r;

	r = vl_content_new(&c, v2, s, b);
	if (r < 0)
		return r;
	st = vl_file_state(v2, src, &c->l, id);
	if (st == VL_FILE_V2 || st == VL_FILE_DAMAGED) {
		r = st == VL_FILE_V2 ? -EEXIST : -EIO;
		goto out;
	}
	if (fstat(src, &sst) < 0) {
		r = -errno;
		goto out;
	}
	/* Emptied files get a new ID (FORMAT.md §3.3), so an empty one does on upgrade too;
	 * a file never written had none. */
	memcpy(oid, id, sizeof(oid));
	if (sst.st_size <= VL_HEADER_V1_LEN)
		r = vl_random(id, sizeof(id));
	if (r == 0)
		r = vl_filekey_new(&fk, vl_vault_keys(v2), s, id);
	if (r < 0)
		goto out;
	len = build_header(c, b, id, NULL, buf);
	if (len < 0) {
		r = len;
		goto out;
	}
	if (sst.st_size <= VL_HEADER_V1_LEN) {
		/* An empty file: header and the empty final block. */
		r = vl_block_seal(fk, 0, true, NULL, 0, buf + len, VL_BLOCK_OVERHEAD);
		if (r == 0)
			r = vl_pwrite_full(dst, buf, (size_t)len + VL_BLOCK_OVERHEAD, 0);
		if (r == 0 && sst.st_size > 0)
			r = reseal_xattrs(c, dst, oid, id);
		goto out;
	}
	/* The same blocks after the new header: the block format did not change. */
	r = vl_pwrite_full(dst, buf, (size_t)len, 0);
	if (r == 0)
		r = copy_range(src, l1.hdrlen, dst, (uint64_t)len, (uint64_t)sst.st_size - l1.hdrlen);
out:
	vl_filekey_free(fk);
	vl_content_free(c);
	vl_wipe(id, sizeof(id));
	vl_wipe(oid, sizeof(oid));
	return r;
}
