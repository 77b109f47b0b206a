// SPDX-License-Identifier: GPL-2.0-or-later
/* AES-256-GCM and AES-SIV on per-thread, reused EVP contexts.
 *
 * Every FUSE worker thread gets one GCM and one SIV context, created on first use and freed
 * by a pthread key destructor at thread exit (or vl_crypto_thread_cleanup). Nothing is
 * allocated per block. The GCM context remembers the generation of the key it last loaded:
 * consecutive blocks of one file re-initialise it with the IV only, skipping the AES key
 * schedule and the GHASH table. The contexts keep expanded keys for as long as they live;
 * like all of libcrypto's memory they are in the secure pool (secmem.c). A key used without
 * a generation (the password-derived KEK) gets a context of its own, freed (and so wiped)
 * as soon as the one message is done. */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "content.h"
#include "keys_internal.h"

/* 341 nonces per RAND_bytes call. */
#define VL_NONCE_POOL (341 * VL_NONCE_LEN)

static pthread_once_t fetch_once = PTHREAD_ONCE_INIT;
static EVP_CIPHER *g_gcm;    /* set once under fetch_once, read-only afterwards */
static EVP_CIPHER *g_siv256;
static EVP_CIPHER *g_siv128; /* RFC 5297 known-answer tests only */
static pthread_key_t tls_key;
static bool tls_key_ok;
static bool nonce_ok; /* the fork handler is registered */

struct vl_tls {
	EVP_CIPHER_CTX *gcm;
	uint64_t gcm_gen; /* generation of the key loaded in gcm; 0: none or unknown */
	EVP_CIPHER_CTX *siv;
	/* Keyed SIV contexts (S2V initial state computed) for encryption and decryption:
	 * copying one is about twice as fast as loading the key for every name. */
	EVP_CIPHER_CTX *siv_tmpl[2];
	uint64_t siv_gen[2]; /* generation of the key in siv_tmpl[enc]; 0: none */
	/* Block nonces (vl_nonce): RAND_bytes output handed out 12 bytes at a time, each
	 * byte once; nonce_pos == sizeof(nonce_pool) means empty. */
	size_t nonce_pos;
	uint8_t nonce_pool[VL_NONCE_POOL];
};

/* This thread's contexts; the same pointer is the pthread key's value so that the
 * destructor runs at thread exit. */
static _Thread_local struct vl_tls *tls_cur;

static void tls_destroy(void *v)
{
	struct vl_tls *t = v;

	if (t == NULL)
		return;
	EVP_CIPHER_CTX_free(t->gcm); /* cleanses the key schedule */
	EVP_CIPHER_CTX_free(t->siv);
	EVP_CIPHER_CTX_free(t->siv_tmpl[0]);
	EVP_CIPHER_CTX_free(t->siv_tmpl[1]);
	OPENSSL_cleanse(t->nonce_pool, sizeof(t->nonce_pool));
	free(t);
	if (tls_cur == t)
		tls_cur = NULL;
}

/* A forked child must not hand out the nonces its parent still holds: the thread that
 * forked (the only one in the child) empties its pool. */
static void nonce_atfork_child(void)
{
	struct vl_tls *t = tls_cur;

	if (t != NULL) {
		OPENSSL_cleanse(t->nonce_pool, sizeof(t->nonce_pool));
		t->nonce_pos = sizeof(t->nonce_pool);
	}
}

static void fetch_algs(void)
{
	nonce_ok = pthread_atfork(NULL, NULL, nonce_atfork_child) == 0;
	g_gcm = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
	g_siv256 = EVP_CIPHER_fetch(NULL, "AES-256-SIV", NULL);
	g_siv128 = EVP_CIPHER_fetch(NULL, "AES-128-SIV", NULL);
	tls_key_ok = pthread_key_create(&tls_key, tls_destroy) == 0;
}

/* The algorithms are fetched, and libcrypto allocates in the secure pool. */
static bool algs_ready(void)
{
	return vl_crypto_ready() && pthread_once(&fetch_once, fetch_algs) == 0 && g_gcm && g_siv256;
}

static struct vl_tls *tls_get(void)
{
	struct vl_tls *t;

	if (tls_cur != NULL)
		return tls_cur;
	if (!algs_ready() || !tls_key_ok)
		return NULL;
	t = calloc(1, sizeof(*t));
	if (t == NULL)
		return NULL;
	t->gcm = EVP_CIPHER_CTX_new();
	t->siv = EVP_CIPHER_CTX_new();
	t->siv_tmpl[0] = EVP_CIPHER_CTX_new();
	t->siv_tmpl[1] = EVP_CIPHER_CTX_new();
	if (t->gcm == NULL || t->siv == NULL || t->siv_tmpl[0] == NULL || t->siv_tmpl[1] == NULL ||
	    pthread_setspecific(tls_key, t) != 0) {
		tls_destroy(t);
		return NULL;
	}
	t->nonce_pos = sizeof(t->nonce_pool);
	tls_cur = t;
	return t;
}

int vl_nonce(uint8_t out[static VL_NONCE_LEN])
{
	struct vl_tls *t = tls_get();

	if (t == NULL || !nonce_ok)
		return -EIO;
	if (t->nonce_pos + VL_NONCE_LEN > sizeof(t->nonce_pool)) {
		/* Nonces are public; RAND_bytes (the public DRBG) is the right source and one
		 * call per 341 blocks replaces a locked DRBG call per block. */
		if (RAND_bytes(t->nonce_pool, (int)sizeof(t->nonce_pool)) != 1)
			return -EIO;
		t->nonce_pos = 0;
	}
	memcpy(out, t->nonce_pool + t->nonce_pos, VL_NONCE_LEN);
	/* Consumed bytes are cleared so that no copy of a used nonce outlives its use here. */
	memset(t->nonce_pool + t->nonce_pos, 0, VL_NONCE_LEN);
	t->nonce_pos += VL_NONCE_LEN;
	return 0;
}

void vl_crypto_thread_cleanup(void)
{
	struct vl_tls *t = tls_cur;

	if (t == NULL)
		return;
	(void)pthread_setspecific(tls_key, NULL);
	tls_destroy(t);
	tls_cur = NULL;
}

uint64_t vl_key_generation(void)
{
	static _Atomic uint64_t counter;

	return atomic_fetch_add(&counter, 1) + 1; /* never 0 */
}

/* Loads key (unless this thread's context already holds generation gen) and iv for one
 * message. gen == 0: a fresh context, also returned in *own for the caller to free as soon
 * as the message is done. */
static EVP_CIPHER_CTX *gcm_begin(const uint8_t *key, uint64_t gen, const uint8_t *iv, int enc,
				 EVP_CIPHER_CTX **own)
{
	struct vl_tls *t;

	*own = NULL;
	if (gen == 0) {
		if (!algs_ready() || (*own = EVP_CIPHER_CTX_new()) == NULL ||
		    EVP_CipherInit_ex2(*own, g_gcm, key, iv, enc, NULL) != 1)
			return NULL;
		return *own;
	}
	t = tls_get();
	if (t == NULL)
		return NULL;
	if (gen != 0 && t->gcm_gen == gen) {
		/* Same key as last time: new IV only; this resets the GCM state. */
		if (EVP_CipherInit_ex2(t->gcm, NULL, NULL, iv, enc, NULL) == 1)
			return t->gcm;
	}
	t->gcm_gen = 0;
	if (EVP_CipherInit_ex2(t->gcm, g_gcm, key, iv, enc, NULL) != 1)
		return NULL;
	t->gcm_gen = gen;
	return t->gcm;
}

/* Feeds aad then data; out may be NULL only when len == 0. */
static int gcm_update(EVP_CIPHER_CTX *c, const uint8_t *aad, size_t aadlen, const uint8_t *in,
		      size_t len, uint8_t *out)
{
	int outl = 0;

	if (aadlen > INT_MAX || len > INT_MAX)
		return -EIO;
	if (aadlen > 0 && EVP_CipherUpdate(c, NULL, &outl, aad, (int)aadlen) != 1)
		return -EIO;
	if (len > 0 && (EVP_CipherUpdate(c, out, &outl, in, (int)len) != 1 || (size_t)outl != len))
		return -EIO;
	return 0;
}

int vl_gcm_seal(const uint8_t key[static VL_GCM_KEY_LEN], uint64_t gen,
		const uint8_t iv[static VL_NONCE_LEN], const uint8_t *aad, size_t aadlen,
		const uint8_t *pt, size_t len, uint8_t *ct, uint8_t tag[static VL_TAG_LEN])
{
	EVP_CIPHER_CTX *own, *c = gcm_begin(key, gen, iv, 1, &own);
	uint8_t fin[16]; /* GCM's Final writes nothing; a valid pointer even when ct is NULL */
	int outl = 0, r = -EIO;

	if (c == NULL)
		goto out;
	if (gcm_update(c, aad, aadlen, pt, len, ct) != 0 || EVP_EncryptFinal_ex(c, fin, &outl) != 1 ||
	    outl != 0 || EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, VL_TAG_LEN, tag) != 1) {
		if (own == NULL)
			tls_cur->gcm_gen = 0;
		goto out;
	}
	r = 0;
out:
	EVP_CIPHER_CTX_free(own); /* cleanses the key schedule */
	return r;
}

int vl_gcm_open(const uint8_t key[static VL_GCM_KEY_LEN], uint64_t gen,
		const uint8_t iv[static VL_NONCE_LEN], const uint8_t *aad, size_t aadlen,
		const uint8_t *ct, size_t len, const uint8_t tag[static VL_TAG_LEN], uint8_t *pt)
{
	EVP_CIPHER_CTX *own, *c = gcm_begin(key, gen, iv, 0, &own);
	uint8_t fin[16];
	int outl = 0, r = -EIO;

	if (c == NULL)
		goto out;
	/* GCM decrypts before the tag can be checked: the plaintext in pt is wiped below
	 * unless Final verified the tag, so nothing unverified is released. */
	if (EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_TAG, VL_TAG_LEN, (void *)tag) != 1 ||
	    gcm_update(c, aad, aadlen, ct, len, pt) != 0 || EVP_DecryptFinal_ex(c, fin, &outl) != 1 ||
	    outl != 0) {
		if (len > 0)
			OPENSSL_cleanse(pt, len);
		goto out;
	}
	r = 0;
out:
	EVP_CIPHER_CTX_free(own); /* cleanses the key schedule */
	return r;
}

int vl_gcm_kat(bool enc, const uint8_t key[static 32], const uint8_t *iv, size_t ivlen,
	       const uint8_t *aad, size_t aadlen, const uint8_t *in, size_t len, uint8_t *out,
	       uint8_t tag[static VL_TAG_LEN])
{
	EVP_CIPHER_CTX *c = NULL;
	OSSL_PARAM params[2];
	uint8_t fin[16];
	int outl = 0, r = -EIO;

	if (!algs_ready())
		return -EIO;
	c = EVP_CIPHER_CTX_new();
	if (c == NULL)
		goto out;
	params[0] = OSSL_PARAM_construct_size_t("ivlen", &ivlen);
	params[1] = OSSL_PARAM_construct_end();
	if (EVP_CipherInit_ex2(c, g_gcm, NULL, NULL, enc, params) != 1 ||
	    EVP_CipherInit_ex2(c, NULL, key, iv, enc, NULL) != 1)
		goto out;
	if (!enc && EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_TAG, VL_TAG_LEN, tag) != 1)
		goto out;
	if (gcm_update(c, aad, aadlen, in, len, out) != 0 || EVP_CipherFinal_ex(c, fin, &outl) != 1)
		goto out;
	if (enc && EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, VL_TAG_LEN, tag) != 1)
		goto out;
	r = 0;
out:
	if (r != 0 && !enc && len > 0)
		OPENSSL_cleanse(out, len);
	EVP_CIPHER_CTX_free(c);
	return r;
}

static EVP_CIPHER *siv_cipher(enum vl_siv_alg alg)
{
	return alg == VL_SIV_AES128 ? g_siv128 : g_siv256;
}

/* SIV keeps S2V state from the key on, so a context serves one message (RFC 5297). With a
 * key generation (gen != 0) the thread keeps a keyed template per direction and copies it;
 * gen == 0 loads the key into a fresh context, also returned in *own for the caller to free
 * as soon as the message is done. */
static EVP_CIPHER_CTX *siv_begin(enum vl_siv_alg alg, const uint8_t *key, uint64_t gen, int enc,
				 const struct vl_siv_ad *ad, size_t nad, EVP_CIPHER_CTX **own)
{
	EVP_CIPHER_CTX *c;
	EVP_CIPHER *cipher;
	struct vl_tls *t;
	int outl = 0;

	*own = NULL;
	if (!algs_ready())
		return NULL;
	cipher = siv_cipher(alg);
	if (cipher == NULL)
		return NULL;
	if (gen == 0) {
		c = *own = EVP_CIPHER_CTX_new();
		if (c == NULL || EVP_CipherInit_ex2(c, cipher, key, NULL, enc, NULL) != 1)
			return NULL;
	} else {
		t = tls_get();
		if (t == NULL)
			return NULL;
		if (t->siv_gen[enc] != gen) {
			t->siv_gen[enc] = 0;
			if (EVP_CipherInit_ex2(t->siv_tmpl[enc], cipher, key, NULL, enc, NULL) != 1)
				return NULL;
			t->siv_gen[enc] = gen;
		}
		c = t->siv;
		if (EVP_CIPHER_CTX_copy(c, t->siv_tmpl[enc]) != 1)
			return NULL;
	}
	/* Each update with out == NULL is one S2V associated-data component, in order. */
	for (size_t i = 0; i < nad; i++) {
		if (ad[i].len > INT_MAX || EVP_CipherUpdate(c, NULL, &outl, ad[i].p, (int)ad[i].len) != 1)
			return NULL;
	}
	return c;
}

int vl_siv_seal(enum vl_siv_alg alg, const uint8_t *key, uint64_t gen, const struct vl_siv_ad *ad,
		size_t nad, const uint8_t *pt, size_t len, uint8_t *out)
{
	EVP_CIPHER_CTX *own = NULL, *c;
	uint8_t fin[16];
	int outl = 0, fl = 0, r = -EIO;

	if (len > INT_MAX)
		return -EIO;
	c = siv_begin(alg, key, gen, 1, ad, nad, &own);
	if (c == NULL)
		goto out;
	/* RFC 5297 output order: V (the synthetic IV) first, then C. */
	if (EVP_EncryptUpdate(c, out + VL_TAG_LEN, &outl, pt, (int)len) != 1 || (size_t)outl != len ||
	    EVP_EncryptFinal_ex(c, fin, &fl) != 1 || fl != 0 ||
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, VL_TAG_LEN, out) != 1)
		goto out;
	r = 0;
out:
	EVP_CIPHER_CTX_free(own); /* cleanses the key schedule */
	return r;
}

int vl_siv_open(enum vl_siv_alg alg, const uint8_t *key, uint64_t gen, const struct vl_siv_ad *ad,
		size_t nad, const uint8_t *in, size_t inlen, uint8_t *pt)
{
	EVP_CIPHER_CTX *own = NULL, *c;
	uint8_t fin[16];
	size_t len;
	int outl = 0, fl = 0, r = -EIO;

	if (inlen < VL_TAG_LEN || inlen - VL_TAG_LEN > INT_MAX)
		return -EIO;
	len = inlen - VL_TAG_LEN;
	c = siv_begin(alg, key, gen, 0, ad, nad, &own);
	if (c == NULL)
		goto out;
	if (EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_TAG, VL_TAG_LEN, (void *)in) != 1)
		goto out;
	/* OpenSSL's SIV decrypts, recomputes V and wipes the output on mismatch; we wipe
	 * again on every failure path so nothing unverified survives. */
	if (EVP_DecryptUpdate(c, pt, &outl, in + VL_TAG_LEN, (int)len) != 1 || (size_t)outl != len)
		goto out;
	if (EVP_DecryptFinal_ex(c, fin, &fl) != 1 || fl != 0)
		goto out;
	r = 0;
out:
	if (r != 0 && len > 0)
		OPENSSL_cleanse(pt, len);
	EVP_CIPHER_CTX_free(own); /* cleanses the key schedule */
	return r;
}
