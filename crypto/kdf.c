// SPDX-License-Identifier: GPL-2.0-or-later
/* HKDF-SHA256 (RFC 5869), scrypt (RFC 7914), HMAC-SHA256 and SHA-256 through OpenSSL 3's
 * EVP_KDF / EVP_MAC / EVP_MD. The algorithm objects are fetched once per process: fetching
 * takes the provider store's lock, and these are used on every file open. */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include "kdf.h"
#include "keys_internal.h"

static pthread_once_t fetch_once = PTHREAD_ONCE_INIT;
static EVP_KDF *g_hkdf;	  /* written once under fetch_once, read-only afterwards */
static EVP_KDF *g_scrypt;
static EVP_MAC *g_hmac;
static EVP_MD *g_sha256;

static void fetch_algs(void)
{
	g_hkdf = EVP_KDF_fetch(NULL, OSSL_KDF_NAME_HKDF, NULL);
	g_scrypt = EVP_KDF_fetch(NULL, OSSL_KDF_NAME_SCRYPT, NULL);
	g_hmac = EVP_MAC_fetch(NULL, OSSL_MAC_NAME_HMAC, NULL);
	g_sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
}

static int fetched(void)
{
	if (!vl_crypto_ready() || pthread_once(&fetch_once, fetch_algs) != 0)
		return -EIO;
	if (!g_hkdf || !g_scrypt || !g_hmac || !g_sha256)
		return -EIO;
	return 0;
}

/* OpenSSL takes const-less pointers in OSSL_PARAM; it only reads them here. */
static OSSL_PARAM octets(const char *name, const void *p, size_t len)
{
	/* a zero-length octet string still needs a valid pointer */
	static const uint8_t empty[1];

	return OSSL_PARAM_construct_octet_string(name, (void *)(len ? p : empty), len);
}

int vl_hkdf_sha256(uint8_t *out, size_t outlen, const uint8_t *ikm, size_t ikmlen,
		   const uint8_t *salt, size_t saltlen, const uint8_t *info, size_t infolen)
{
	EVP_KDF_CTX *ctx = NULL;
	OSSL_PARAM params[5], *p = params;
	int r = -EIO;

	if (fetched() != 0 || outlen == 0 || outlen > 255 * 32)
		return -EIO;
	ctx = EVP_KDF_CTX_new(g_hkdf);
	if (!ctx)
		goto out;
	*p++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0);
	*p++ = octets(OSSL_KDF_PARAM_KEY, ikm, ikmlen);
	/* RFC 5869 §2.2: an absent salt is HashLen zero bytes, which HMAC treats exactly
	 * like an empty key; OpenSSL does the same when no salt is given. */
	if (saltlen > 0)
		*p++ = octets(OSSL_KDF_PARAM_SALT, salt, saltlen);
	if (infolen > 0)
		*p++ = octets(OSSL_KDF_PARAM_INFO, info, infolen);
	*p = OSSL_PARAM_construct_end();
	if (EVP_KDF_derive(ctx, out, outlen, params) != 1) {
		OPENSSL_cleanse(out, outlen);
		goto out;
	}
	r = 0;
out:
	EVP_KDF_CTX_free(ctx); /* cleanses its key copy */
	vl_scrub_stack();      /* HMAC's SHA-256 state, which is the output key */
	return r;
}

int vl_scrypt(uint8_t *out, size_t outlen, const char *pw, size_t pwlen, const uint8_t *salt,
	      size_t saltlen, unsigned log2_n, uint32_t r, uint32_t p)
{
	EVP_KDF_CTX *ctx = NULL;
	OSSL_PARAM params[7], *q = params;
	uint64_t n, maxmem;
	int ret = -EIO;

	if (log2_n < 1 || log2_n > 40 || r == 0 || p == 0 || outlen == 0)
		return -EINVAL;
	n = (uint64_t)1 << log2_n;
	/* OpenSSL refuses to run above maxmem_bytes (default 32 MiB). It needs
	 * 128 * r * (N + 2) bytes for V plus 128 * r * p for B; allow exactly that (plus
	 * slack) so that every cost the format admits (up to 1 GiB) runs. */
	if ((uint64_t)r > (UINT64_MAX / 128) / (n + 2 + p))
		return -EINVAL;
	maxmem = 128 * (uint64_t)r * (n + 2 + p) + (1u << 20);
	if (fetched() != 0)
		return -EIO;
	ctx = EVP_KDF_CTX_new(g_scrypt);
	if (!ctx)
		goto out;
	*q++ = octets(OSSL_KDF_PARAM_PASSWORD, pw, pwlen);
	*q++ = octets(OSSL_KDF_PARAM_SALT, salt, saltlen);
	*q++ = OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_N, &n);
	*q++ = OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_R, &r);
	*q++ = OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_P, &p);
	*q++ = OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_MAXMEM, &maxmem);
	*q = OSSL_PARAM_construct_end();
	if (EVP_KDF_derive(ctx, out, outlen, params) != 1) {
		OPENSSL_cleanse(out, outlen);
		ret = -ENOMEM; /* the usual cause: the V array could not be allocated */
		goto out;
	}
	ret = 0;
out:
	EVP_KDF_CTX_free(ctx); /* cleanses its password copy */
	vl_scrub_stack();      /* PBKDF2's last block, which is the KEK */
	return ret;
}

int vl_hmac_sha256(uint8_t out[static 32], const uint8_t *key, size_t keylen, const uint8_t *msg,
		   size_t msglen)
{
	EVP_MAC_CTX *ctx = NULL;
	OSSL_PARAM params[2];
	size_t olen = 0;
	int r = -EIO;

	if (fetched() != 0)
		return -EIO;
	ctx = EVP_MAC_CTX_new(g_hmac);
	if (!ctx)
		goto out;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0);
	params[1] = OSSL_PARAM_construct_end();
	if (EVP_MAC_init(ctx, key, keylen, params) != 1)
		goto out;
	if (msglen > 0 && EVP_MAC_update(ctx, msg, msglen) != 1)
		goto out;
	if (EVP_MAC_final(ctx, out, &olen, 32) != 1 || olen != 32) {
		OPENSSL_cleanse(out, 32);
		goto out;
	}
	r = 0;
out:
	EVP_MAC_CTX_free(ctx);
	vl_scrub_stack(); /* SHA-256 states of the keyed hash */
	return r;
}

int vl_sha256(uint8_t out[static 32], const void *msg, size_t msglen)
{
	unsigned int olen = 0;

	if (fetched() != 0)
		return -EIO;
	if (EVP_Digest(msg, msglen, out, &olen, g_sha256, NULL) != 1 || olen != 32)
		return -EIO;
	return 0;
}
