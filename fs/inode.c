/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The inode table: a chained hash table keyed by backing (st_dev, st_ino), grown by
 * doubling, protected by one mutex (held only for table and lookup-count changes, never
 * across I/O). Model: libfuse example/passthrough_ll.c, with a hash instead of a list. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "../crypto/secmem.h"
#include "dirinfo.h"
#include "fileio.h"
#include "inode.h"

struct vl_itable {
	pthread_mutex_t mutex;
	struct vl_inode **buckets; /* protected by mutex */
	size_t nbuckets;	   /* power of two; protected by mutex */
	size_t count;		   /* protected by mutex */
	struct vl_inode *retired;  /* retired inodes, linked by hnext; protected by mutex */
	void (*release)(void *ctx, struct vl_inode *in); /* set before any request */
	void *release_ctx;
};

#define VL_ITABLE_INITIAL 1024

static size_t slot(const struct vl_itable *t, dev_t dev, ino_t ino)
{
	uint64_t key[2] = { (uint64_t)dev, (uint64_t)ino };

	return (size_t)XXH3_64bits(key, sizeof(key)) & (t->nbuckets - 1);
}

int vl_itable_new(struct vl_itable **out)
{
	struct vl_itable *t = calloc(1, sizeof(*t));

	if (!t)
		return -ENOMEM;
	t->nbuckets = VL_ITABLE_INITIAL;
	t->buckets = calloc(t->nbuckets, sizeof(*t->buckets));
	if (!t->buckets) {
		free(t);
		return -ENOMEM;
	}
	pthread_mutex_init(&t->mutex, NULL);
	*out = t;
	return 0;
}

void vl_itable_free(struct vl_itable *t)
{
	if (!t)
		return;
	for (size_t i = 0; i <= t->nbuckets; i++) {
		struct vl_inode *in = i < t->nbuckets ? t->buckets[i] : t->retired;

		while (in) {
			struct vl_inode *next = in->hnext;

			if (t->release)
				t->release(t->release_ctx, in);
			vl_inode_free(in);
			in = next;
		}
	}
	free(t->buckets);
	pthread_mutex_destroy(&t->mutex);
	free(t);
}

/* Caller holds t->mutex. */
static struct vl_inode *find_locked(struct vl_itable *t, dev_t dev, ino_t ino)
{
	for (struct vl_inode *in = t->buckets[slot(t, dev, ino)]; in; in = in->hnext)
		if (in->dev == dev && in->ino == ino)
			return in;
	return NULL;
}

/* Caller holds t->mutex. A failed allocation only leaves the table denser. */
static void grow_locked(struct vl_itable *t)
{
	size_t n = t->nbuckets * 2;
	struct vl_inode **b = calloc(n, sizeof(*b));
	struct vl_inode **old = t->buckets;
	size_t oldn = t->nbuckets;

	if (!b)
		return;
	t->buckets = b;
	t->nbuckets = n;
	for (size_t i = 0; i < oldn; i++) {
		struct vl_inode *in = old[i];

		while (in) {
			struct vl_inode *next = in->hnext;
			size_t s = slot(t, in->dev, in->ino);

			in->hnext = b[s];
			b[s] = in;
			in = next;
		}
	}
	free(old);
}

struct vl_inode *vl_itable_get(struct vl_itable *t, dev_t dev, ino_t ino)
{
	struct vl_inode *in;

	pthread_mutex_lock(&t->mutex);
	in = find_locked(t, dev, ino);
	if (in)
		in->nlookup++;
	pthread_mutex_unlock(&t->mutex);
	return in;
}

bool vl_itable_has(struct vl_itable *t, dev_t dev, ino_t ino)
{
	bool r;

	pthread_mutex_lock(&t->mutex);
	r = find_locked(t, dev, ino) != NULL;
	pthread_mutex_unlock(&t->mutex);
	return r;
}

struct vl_inode *vl_itable_insert(struct vl_itable *t, struct vl_inode *in)
{
	struct vl_inode *have;

	pthread_mutex_lock(&t->mutex);
	have = find_locked(t, in->dev, in->ino);
	if (have) {
		have->nlookup++;
	} else {
		size_t s;

		if (t->count >= t->nbuckets * 2)
			grow_locked(t);
		s = slot(t, in->dev, in->ino);
		in->nlookup = 1;
		in->hnext = t->buckets[s];
		t->buckets[s] = in;
		t->count++;
	}
	pthread_mutex_unlock(&t->mutex);
	if (have) {
		vl_inode_free(in); /* lost a race with another lookup of the same inode */
		return have;
	}
	return in;
}

void vl_itable_forget(struct vl_itable *t, struct vl_inode *in, uint64_t n)
{
	bool gone = false;

	pthread_mutex_lock(&t->mutex);
	if (n > in->nlookup)
		n = in->nlookup; /* never underflow, whatever the kernel sends */
	in->nlookup -= n;
	if (in->nlookup == 0) {
		struct vl_inode **pp;

		pp = in->retired ? &t->retired : &t->buckets[slot(t, in->dev, in->ino)];

		while (*pp && *pp != in)
			pp = &(*pp)->hnext;
		if (*pp) {
			*pp = in->hnext;
			if (!in->retired)
				t->count--;
		}
		gone = true;
	}
	pthread_mutex_unlock(&t->mutex);
	if (gone) {
		if (t->release)
			t->release(t->release_ctx, in);
		vl_inode_free(in);
	}
}

bool vl_itable_hold(struct vl_itable *t, struct vl_inode *in)
{
	bool r;

	pthread_mutex_lock(&t->mutex);
	r = in->nlookup > 0;
	if (r)
		in->nlookup++;
	pthread_mutex_unlock(&t->mutex);
	return r;
}

void vl_itable_rekey(struct vl_itable *t, struct vl_inode *in, dev_t dev, ino_t ino)
{
	pthread_mutex_lock(&t->mutex);
	if (!in->retired) {
		struct vl_inode **pp = &t->buckets[slot(t, in->dev, in->ino)];

		while (*pp && *pp != in)
			pp = &(*pp)->hnext;
		if (*pp) {
			size_t s;

			*pp = in->hnext;
			in->dev = dev;
			in->ino = ino;
			s = slot(t, dev, ino);
			in->hnext = t->buckets[s];
			t->buckets[s] = in;
		}
	} else {
		in->dev = dev;
		in->ino = ino;
	}
	pthread_mutex_unlock(&t->mutex);
}

void vl_itable_retire(struct vl_itable *t, struct vl_inode *in)
{
	pthread_mutex_lock(&t->mutex);
	if (!in->retired && in->nlookup > 0) {
		struct vl_inode **pp = &t->buckets[slot(t, in->dev, in->ino)];

		while (*pp && *pp != in)
			pp = &(*pp)->hnext;
		if (*pp) {
			*pp = in->hnext;
			t->count--;
			in->retired = true;
			in->hnext = t->retired;
			t->retired = in;
		}
	}
	pthread_mutex_unlock(&t->mutex);
}

void vl_itable_on_release(struct vl_itable *t, void (*fn)(void *ctx, struct vl_inode *in),
			  void *ctx)
{
	t->release = fn;
	t->release_ctx = ctx;
}

void vl_inode_dirid(struct vl_inode *in, uint8_t id[static VL_DIRID_LEN])
{
	pthread_mutex_lock(&in->idlock);
	if (in->di)
		memcpy(id, in->di->id, VL_DIRID_LEN);
	else
		memset(id, 0, VL_DIRID_LEN);
	pthread_mutex_unlock(&in->idlock);
}

void vl_inode_dirinfo(struct vl_inode *in, struct vl_dirinfo *out)
{
	pthread_mutex_lock(&in->idlock);
	if (in->di)
		*out = *in->di;
	else
		memset(out, 0, sizeof(*out));
	pthread_mutex_unlock(&in->idlock);
}

int vl_inode_set_dirinfo(struct vl_inode *in, const struct vl_dirinfo *di)
{
	struct vl_dirinfo *n = malloc(sizeof(*n));

	if (!n)
		return -ENOMEM;
	*n = *di;
	pthread_mutex_lock(&in->idlock);
	free(in->di);
	in->di = n;
	pthread_mutex_unlock(&in->idlock);
	return 0;
}

struct vl_inode *vl_inode_new(int fd, dev_t dev, ino_t ino)
{
	struct vl_inode *in = calloc(1, sizeof(*in));

	if (!in)
		return NULL;
	in->fd = fd;
	in->dev = dev;
	in->ino = ino;
	in->nlookup = 1;
	in->wd = -1;
	pthread_rwlock_init(&in->lock, NULL);
	pthread_mutex_init(&in->dlock, NULL);
	pthread_mutex_init(&in->idlock, NULL);
	return in;
}

void vl_inode_free(struct vl_inode *in)
{
	if (!in)
		return;
	vl_content_free(in->content);
	if (in->fd >= 0)
		close(in->fd);
	pthread_rwlock_destroy(&in->lock);
	pthread_mutex_destroy(&in->dlock);
	pthread_mutex_destroy(&in->idlock);
	free(in->di);
	if (in->bind)
		vl_wipe(in->bind, sizeof(*in->bind));
	free(in->bind);
	free(in);
}
