// SPDX-License-Identifier: GPL-2.0-or-later
/* Known-answer tests: the published vectors for every primitive, run through the same EVP
 * call paths the format uses (crypto/aead.c, crypto/kdf.c, crypto/base32.c). */
#include <errno.h>

#include "crypto/base32.h"
#include "crypto/content.h"
#include "crypto/kdf.h"
#include "crypto/keys_internal.h"
#include "crypto/secmem.h"
#include "tests/unit/tap.h"

#define MAXB 512

/* ---- AES-256-GCM: McGrew & Viega, "The Galois/Counter Mode of Operation", test cases
 * 13 to 18 (the AES-256 ones). 13-16 have 96-bit IVs and run through the production path
 * (vl_gcm_seal/vl_gcm_open); 17 (64-bit IV) and 18 (480-bit IV) need vl_gcm_kat. */
#define K0 "0000000000000000000000000000000000000000000000000000000000000000"
#define K1 "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308"
#define P64 "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72" \
	    "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255"
#define P60 "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72" \
	    "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39"
#define A20 "feedfacedeadbeeffeedfacedeadbeefabaddad2"
static const struct gcm_tv {
	int tc;
	const char *key, *iv, *pt, *aad, *ct, *tag;
} gcm[] = {
	{ 13, K0, "000000000000000000000000", "", "", "", "530f8afbc74536b9a963b4f1c4cb738b" },
	{ 14, K0, "000000000000000000000000", "00000000000000000000000000000000", "",
	  "cea7403d4d606b6e074ec5d3baf39d18", "d0d1c8a799996bf0265b98b5d48ab919" },
	{ 15, K1, "cafebabefacedbaddecaf888", P64, "",
	  "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
	  "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad",
	  "b094dac5d93471bdec1a502270e3cc6c" },
	{ 16, K1, "cafebabefacedbaddecaf888", P60, A20,
	  "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
	  "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662",
	  "76fc6ece0f4e1768cddf8853bb2d551b" },
	{ 17, K1, "cafebabefacedbad", P60, A20,
	  "c3762df1ca787d32ae47c13bf19844cbaf1ae14d0b976afac52ff7d79bba9de0"
	  "feb582d33934a4f0954cc2363bc73f7862ac430e64abe499f47c9b1f",
	  "3a337dbf46a792c45e454913fe2ea8f2" },
	{ 18, K1,
	  "9313225df88406e555909c5aff5269aa6a7a9538534f7da1e4c303d2a318a728"
	  "c3c0c95156809539fcf0e2429a6b525416aedbf5a0de6a57a637b39b",
	  P60, A20,
	  "5a8def2f0c9e53f1f75d7853659e2a20eeb2b22aafde6419a058ab4f6f746bf4"
	  "0fc0c3b780f244452da3ebf1c5d82cdea2418997200ef82e44ae7e3f",
	  "a44a8266ee1c8eb0c8b5d4cf5ae9f19a" },
};

static void test_gcm(void)
{
	for (size_t t = 0; t < sizeof(gcm) / sizeof(gcm[0]); t++) {
		const struct gcm_tv *v = &gcm[t];
		uint8_t key[32], iv[64], pt[MAXB], aad[MAXB], ct[MAXB], out[MAXB], tag[16];
		int ivlen = unhex(v->iv, iv, sizeof(iv)), plen = unhex(v->pt, pt, sizeof(pt));
		int alen = unhex(v->aad, aad, sizeof(aad));
		int r;

		(void)unhex(v->key, key, sizeof(key));
		if (ivlen == 12) {
			/* gen 0: a one-shot context; gen: cached path on the second use (one
			 * generation per vector: two keys never share one) */
			uint64_t gen = 1000 + (uint64_t)v->tc;

			r = vl_gcm_seal(key, 0, iv, aad, (size_t)alen, pt, (size_t)plen, ct, tag);
			ok(r == 0, "GCM TC%d: seal", v->tc);
			ok_hex(ct, (size_t)plen, v->ct, "GCM TC%d: ciphertext", v->tc);
			ok_hex(tag, 16, v->tag, "GCM TC%d: tag", v->tc);
			r = vl_gcm_open(key, gen, iv, aad, (size_t)alen, ct, (size_t)plen, tag, out);
			r |= vl_gcm_open(key, gen, iv, aad, (size_t)alen, ct, (size_t)plen, tag, out);
			ok(r == 0 && memcmp(out, pt, (size_t)plen) == 0,
			   "GCM TC%d: open (fresh and cached key) gives the plaintext", v->tc);
			tag[15] ^= 1;
			memset(out, 0xaa, sizeof(out));
			r = vl_gcm_open(key, gen, iv, aad, (size_t)alen, ct, (size_t)plen, tag, out);
			ok(r == -EIO && (plen == 0 || out[0] == 0),
			   "GCM TC%d: a flipped tag bit fails and the output is wiped", v->tc);
		} else {
			r = vl_gcm_kat(true, key, iv, (size_t)ivlen, aad, (size_t)alen, pt,
				       (size_t)plen, ct, tag);
			ok(r == 0, "GCM TC%d (%d-byte IV): seal", v->tc, ivlen);
			ok_hex(ct, (size_t)plen, v->ct, "GCM TC%d: ciphertext", v->tc);
			ok_hex(tag, 16, v->tag, "GCM TC%d: tag", v->tc);
			r = vl_gcm_kat(false, key, iv, (size_t)ivlen, aad, (size_t)alen, ct,
				       (size_t)plen, out, tag);
			ok(r == 0 && memcmp(out, pt, (size_t)plen) == 0, "GCM TC%d: open", v->tc);
			aad[0] ^= 1;
			r = vl_gcm_kat(false, key, iv, (size_t)ivlen, aad, (size_t)alen, ct,
				       (size_t)plen, out, tag);
			ok(r == -EIO, "GCM TC%d: modified AAD fails", v->tc);
		}
	}
}

/* ---- AES-SIV: RFC 5297 Appendix A.1 (deterministic, one AD component) and A.2 (nonce
 * as the last of three AD components), AES-128-SIV with 32-byte keys. Then the AES-256-SIV
 * vector from OpenSSL's test data (the RFC has none for 512-bit keys). */
static void test_siv(void)
{
	uint8_t key[64], ad[3][64], pt[MAXB], out[MAXB], back[MAXB];
	struct vl_siv_ad a[3];
	int plen, r;

	/* A.1 */
	(void)unhex("fffefdfcfbfaf9f8f7f6f5f4f3f2f1f0f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff", key, 64);
	a[0].len = (size_t)unhex("101112131415161718191a1b1c1d1e1f2021222324252627", ad[0], 64);
	a[0].p = ad[0];
	plen = unhex("112233445566778899aabbccddee", pt, sizeof(pt));
	r = vl_siv_seal(VL_SIV_AES128, key, 0, a, 1, pt, (size_t)plen, out);
	ok(r == 0, "SIV RFC 5297 A.1: seal");
	ok_hex(out, 16 + (size_t)plen,
	       "85632d07c6e8f37f950acd320a2ecc93"
	       "40c02b9690c4dc04daef7f6afe5c",
	       "SIV RFC 5297 A.1: output is V || C");
	r = vl_siv_open(VL_SIV_AES128, key, 0, a, 1, out, 16 + (size_t)plen, back);
	ok(r == 0 && memcmp(back, pt, (size_t)plen) == 0, "SIV RFC 5297 A.1: open");
	out[20] ^= 0x80;
	memset(back, 0x55, sizeof(back));
	r = vl_siv_open(VL_SIV_AES128, key, 0, a, 1, out, 16 + (size_t)plen, back);
	ok(r == -EIO && back[0] == 0, "SIV A.1: modified C fails, output wiped");
	out[20] ^= 0x80;
	ad[0][3] ^= 1;
	ok(vl_siv_open(VL_SIV_AES128, key, 0, a, 1, out, 16 + (size_t)plen, back) == -EIO,
	   "SIV A.1: modified AD fails");

	/* A.2 */
	(void)unhex("7f7e7d7c7b7a79787776757473727170404142434445464748494a4b4c4d4e4f", key, 64);
	a[0].len = (size_t)unhex("00112233445566778899aabbccddeeffdeaddadadeaddadaffeeddccbbaa9988"
				 "7766554433221100",
				 ad[0], 64);
	a[1].len = (size_t)unhex("102030405060708090a0", ad[1], 64);
	a[2].len = (size_t)unhex("09f911029d74e35bd84156c5635688c0", ad[2], 64);
	a[0].p = ad[0];
	a[1].p = ad[1];
	a[2].p = ad[2];
	plen = unhex("7468697320697320736f6d6520706c61696e7465787420746f20656e6372797074"
		     "207573696e67205349562d414553",
		     pt, sizeof(pt));
	r = vl_siv_seal(VL_SIV_AES128, key, 0, a, 3, pt, (size_t)plen, out);
	ok(r == 0, "SIV RFC 5297 A.2: seal with three AD components");
	ok_hex(out, 16 + (size_t)plen,
	       "7bdb6e3b432667eb06f4d14bff2fbd0f"
	       "cb900f2fddbe404326601965c889bf17dba77ceb094fa663b7a3f748ba8af829"
	       "ea64ad544a272e9c485b62a3fd5c0d",
	       "SIV RFC 5297 A.2: output is V || C");
	r = vl_siv_open(VL_SIV_AES128, key, 0, a, 3, out, 16 + (size_t)plen, back);
	ok(r == 0 && memcmp(back, pt, (size_t)plen) == 0, "SIV RFC 5297 A.2: open");
	/* The order of AD components matters (S2V is not commutative). */
	a[2].p = ad[1];
	a[2].len = 10;
	a[1].p = ad[2];
	a[1].len = 16;
	ok(vl_siv_open(VL_SIV_AES128, key, 0, a, 3, out, 16 + (size_t)plen, back) == -EIO,
	   "SIV A.2: swapped AD components fail");

	/* AES-256-SIV (the format's variant), OpenSSL evpciph_aes_siv.txt */
	(void)unhex("fffefdfcfbfaf9f8f7f6f5f4f3f2f1f0f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff"
		    "f0f1f2f3f4f5f6f7f8f9fafbfcfdfefffffefdfcfbfaf9f8f7f6f5f4f3f2f1f0",
		    key, 64);
	a[0].len = (size_t)unhex("101112131415161718191a1b1c1d1e1f2021222324252627", ad[0], 64);
	a[0].p = ad[0];
	plen = unhex("112233445566778899aabbccddee", pt, sizeof(pt));
	r = vl_siv_seal(VL_SIV_AES256, key, 0, a, 1, pt, (size_t)plen, out);
	ok(r == 0, "AES-256-SIV: seal");
	ok_hex(out, 16 + (size_t)plen, "724dfb2eaf94dbb19b0ba3a299a0801ef3b05a55498ec2552690b89810e4",
	       "AES-256-SIV: known answer");
	/* Reusing the thread's SIV context, or its keyed template (gen != 0, first load then
	 * copy), must not carry S2V state between messages. */
	r = vl_siv_seal(VL_SIV_AES256, key, 0, a, 1, pt, (size_t)plen, back);
	ok(r == 0 && memcmp(back, out, 16 + (size_t)plen) == 0,
	   "AES-256-SIV: the reused context gives the same output again");
	r = vl_siv_seal(VL_SIV_AES256, key, 99, a, 1, pt, (size_t)plen, back);
	r |= vl_siv_seal(VL_SIV_AES256, key, 99, a, 1, pt, (size_t)plen, back);
	ok(r == 0 && memcmp(back, out, 16 + (size_t)plen) == 0,
	   "AES-256-SIV: the cached keyed template gives the same output");
	r = vl_siv_open(VL_SIV_AES256, key, 99, a, 1, out, 16 + (size_t)plen, back);
	r |= vl_siv_open(VL_SIV_AES256, key, 99, a, 1, out, 16 + (size_t)plen, back);
	ok(r == 0 && memcmp(back, pt, (size_t)plen) == 0,
	   "AES-256-SIV: open through the cached template (twice)");
}

/* ---- HKDF-SHA256: RFC 5869 Appendix A, test cases 1 to 3. */
static void seq(uint8_t *p, size_t n, uint8_t start)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(start + i);
}

static void test_hkdf(void)
{
	uint8_t ikm[80], salt[80], info[80], okm[82];

	memset(ikm, 0x0b, 22);
	seq(salt, 13, 0x00);
	seq(info, 10, 0xf0);
	ok(vl_hkdf_sha256(okm, 42, ikm, 22, salt, 13, info, 10) == 0, "HKDF RFC 5869 case 1: runs");
	ok_hex(okm, 42,
	       "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf"
	       "34007208d5b887185865",
	       "HKDF RFC 5869 case 1: OKM");

	seq(ikm, 80, 0x00);
	seq(salt, 80, 0x60);
	seq(info, 80, 0xb0);
	ok(vl_hkdf_sha256(okm, 82, ikm, 80, salt, 80, info, 80) == 0, "HKDF RFC 5869 case 2: runs");
	ok_hex(okm, 82,
	       "b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c"
	       "59045a99cac7827271cb41c65e590e09da3275600c2f09b8367793a9aca3db71"
	       "cc30c58179ec3e87c14c01d5c1f3434f1d87",
	       "HKDF RFC 5869 case 2: OKM (long inputs)");

	memset(ikm, 0x0b, 22);
	ok(vl_hkdf_sha256(okm, 42, ikm, 22, NULL, 0, NULL, 0) == 0, "HKDF RFC 5869 case 3: runs");
	ok_hex(okm, 42,
	       "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d"
	       "9d201395faa4b61a96c8",
	       "HKDF RFC 5869 case 3: OKM (empty salt and info, as the format uses)");
}

/* ---- scrypt: RFC 7914 §12, the N=16 and N=1024 vectors. */
static void test_scrypt(void)
{
	uint8_t out[64];

	ok(vl_scrypt(out, 64, "", 0, (const uint8_t *)"", 0, 4, 1, 1) == 0,
	   "scrypt RFC 7914 (\"\", \"\", N=16, r=1, p=1): runs");
	ok_hex(out, 64,
	       "77d6576238657b203b19ca42c18a0497f16b4844e3074ae8dfdffa3fede21442"
	       "fcd0069ded0948f8326a753a0fc81f17e8d3e0fb2e0d3628cf35e20c38d18906",
	       "scrypt RFC 7914 vector 1");
	ok(vl_scrypt(out, 64, "password", 8, (const uint8_t *)"NaCl", 4, 10, 8, 16) == 0,
	   "scrypt RFC 7914 (\"password\", \"NaCl\", N=1024, r=8, p=16): runs");
	ok_hex(out, 64,
	       "fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b373162"
	       "2eaf30d92e22a3886ff109279d9830dac727afb94a83ee6d8360cbdfa2cc0640",
	       "scrypt RFC 7914 vector 2");
	ok(vl_scrypt(out, 64, "x", 1, (const uint8_t *)"y", 1, 0, 1, 1) == -EINVAL &&
		   vl_scrypt(out, 64, "x", 1, (const uint8_t *)"y", 1, 4, 0, 1) == -EINVAL,
	   "scrypt: N=1 and r=0 are refused");
}

/* ---- HMAC-SHA256 (RFC 4231 case 2) and SHA-256 (FIPS 180-2 "abc"). */
static void test_hmac_sha(void)
{
	uint8_t out[32];

	ok(vl_hmac_sha256(out, (const uint8_t *)"Jefe", 4,
			  (const uint8_t *)"what do ya want for nothing?", 28) == 0,
	   "HMAC-SHA256 RFC 4231 case 2: runs");
	ok_hex(out, 32, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
	       "HMAC-SHA256 RFC 4231 case 2");
	ok(vl_sha256(out, "abc", 3) == 0, "SHA-256 runs");
	ok_hex(out, 32, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
	       "SHA-256(\"abc\")");
}

/* ---- base32: RFC 4648 §10, lowercased, without padding. */
static void test_base32(void)
{
	static const char *const tv[][2] = {
		{ "", "" },	     { "f", "my" },	    { "fo", "mzxq" },
		{ "foo", "mzxw6" }, { "foob", "mzxw6yq" }, { "fooba", "mzxw6ytb" },
		{ "foobar", "mzxw6ytboi" },
	};
	for (size_t i = 0; i < sizeof(tv) / sizeof(tv[0]); i++) {
		char enc[32];
		uint8_t dec[32];
		size_t n = strlen(tv[i][0]);
		size_t e = vl_base32_encode((const uint8_t *)tv[i][0], n, enc, sizeof(enc));
		int d = vl_base32_decode(tv[i][1], strlen(tv[i][1]), dec, sizeof(dec));

		ok(e == strlen(tv[i][1]) && strcmp(enc, tv[i][1]) == 0 && d == (int)n &&
			   memcmp(dec, tv[i][0], n) == 0,
		   "base32 RFC 4648 \"%s\" <-> \"%s\"", tv[i][0], tv[i][1]);
	}
}

int main(void)
{
	if (vl_crypto_init() != 0) /* first: libcrypto allocates in the secure pool */
		return 99;
	test_gcm();
	test_siv();
	test_hkdf();
	test_scrypt();
	test_hmac_sha();
	test_base32();
	vl_crypto_thread_cleanup();
	return done_testing();
}
