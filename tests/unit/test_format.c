// SPDX-License-Identifier: GPL-2.0-or-later
/* The format itself (docs/FORMAT-v1.md): golden vectors that pin every byte, round trips over
 * every block size and name length, a tamper case for every field, the size arithmetic (of
 * both formats: format 2's is docs/FORMAT.md §3.2, with its empty final block), base32 and
 * name classification strictness. Format 2's vectors: tests/unit/test_format_v2.c.
 *
 * The golden values were computed by an independent implementation of FORMAT-v1.md in Python
 * ("cryptography" package: AESGCM, AESSIV; hashlib), kept in tests/unit/format_vectors.py,
 * and agree with this C implementation. If one of them changes, the format changed. */
#include <errno.h>
#include <pthread.h>

#include "crypto/base32.h"
#include "crypto/config.h"
#include "crypto/content.h"
#include "crypto/dirid.h"
#include "crypto/kdf.h"
#include "crypto/keys.h"
#include "crypto/keys_internal.h"
#include "crypto/names.h"
#include "crypto/secmem.h"
#include "crypto/xattr.h"
#include "tests/unit/tap.h"

static struct vl_keys *K;
static uint8_t master[32], fid[16], nonce[12], root[16];

/* Format 1's size arithmetic (FORMAT-v1.md §3), through the layout API that both formats use. */
static int psize1(uint64_t csize, uint32_t b, uint64_t *p)
{
	struct vl_layout l = vl_layout_of(VL_FORMAT_V1, b, false);

	return vl_plain_size(&l, csize, p);
}

static uint64_t csize1(uint64_t psize, uint32_t b)
{
	struct vl_layout l = vl_layout_of(VL_FORMAT_V1, b, false);

	return vl_cipher_size(&l, psize);
}

static uint64_t boff1(uint64_t index, uint32_t b)
{
	struct vl_layout l = vl_layout_of(VL_FORMAT_V1, b, false);

	return vl_block_offset(&l, index);
}

/* ------------------------------------------------------------------ golden vectors */

#define G_CONTENT_BLOCK                                                                      \
	"5645494c00010000a0a1a2a3a4a5a6a7a8a9aaabacadaeaf000102030405060708090a0b5cbd62416eb8" \
	"051e9d22c4c5f5c609359f68e6225f225da15e5b6d7b0adb113240fe39"
#define G_OBJECT_BLOCK                                                                       \
	"5645494c00010000a0a1a2a3a4a5a6a7a8a9aaabacadaeaf000102030405060708090a0b6dac7eefac39" \
	"1a1ff2599f8815a22ec1019c0de5319b81481bf54898"
#define G_CONFIG_HEAD                                                                        \
	"# veilfs vault configuration; see veilfs.conf(5). Do not edit: wrapped_key "        \
	"authenticates every line.\n"                                                        \
	"format = 1\nfeatures =\nblock_size = 4096\nname_max = 220\nkdf = scrypt\n"          \
	"scrypt_log2_n = 16\nscrypt_r = 8\nscrypt_p = 1\n"                                   \
	"salt = 1111111111111111111111111111111111111111111111111111111111111111\n"          \
	"wrap_nonce = 222222222222222222222222\n"
#define G_CONFIG                                                                             \
	G_CONFIG_HEAD "wrapped_key = fcbb5f3c2c8117679d571ba3a95a3673d2186220c1f252989f838d458" \
		      "9a884f99986ba3bc61cad4b100ac1ee4c292627\n"

static void test_golden(void)
{
	uint8_t buf[256], id[16], pt[64];
	char enc[VL_ENCNAME_MAX + 1], dec[256], ln[VL_LONGNAME_LEN + 1];
	struct vl_filekey *fk = NULL;
	enum vl_kind kind;
	int n;

	ok_hex(K->content, 32, "e8fecf3494dc04445750b00b0556d51cbf9c601fab2518b12cb837101dcadede",
	       "golden: K_content");
	ok_hex(K->object, 32, "a36ff341b5d05f13065a859d3bd8c27d62679cad52d74918c43be7d7d98f2e18",
	       "golden: K_object");
	ok_hex(K->names, 64,
	       "617f0d3a6a9dda86f968c57af96b2c37ea8d802c05f172abafe66c3c326cdada"
	       "eb9532ee590965f2f605e7c09ee2efa188653039c1ca5cebb7e9054f1e9f206c",
	       "golden: K_names");
	ok_hex(K->dirid, 32, "2139908a9a99a748fd4c4b6b2bd6452b2021454788467ff014770993ec1fdef2",
	       "golden: K_dirid");
	ok_hex(K->xattr_names, 64,
	       "2c0a8fe34b0b362254dd62b6ffe74f55572361be7988264385781d2211277248"
	       "9ab82ae3aa833418eda43deb3b26c322ca3d1dfb012a2f3ff2279f81c9b98bdc",
	       "golden: K_xattr-names");
	ok_hex(K->xattr_values, 32,
	       "85a1cd6a2a17b6753ae2c7f159c0bdefa5eb55c8d90719e52604624ad6b22637",
	       "golden: K_xattr-values");
	ok(vl_dirid_root(K, root) == 0, "root ID derives");
	ok_hex(root, 16, "7da5aa06858d8bb1c100fd8292e10d83", "golden: ID_root");

	static const struct {
		const char *name;
		enum vl_kind kind;
		const char *enc;
	} names[] = {
		{ "hello.txt", VL_KIND_PLAIN, "u3rvy55pwtyxh5klzoeggtvzirqhexkipg3vjsk3xt6vrd37c5oa" },
		{ "link", VL_KIND_OBJECT, "1dx2cakoqgzsix6saotrdfti3rewepdkoux2vhfsc7d3uu7pbwubq" },
		{ "0123456789abcdef", VL_KIND_PLAIN,
		  "6teqgqnlf4ckqybpataaww5u7wbapk4qntu3oocccq64dpawngta" },
		{ "Gr\xc3\xbc\xc3\x9f"
		  "e, \xe4\xb8\x96\xe7\x95\x8c.txt",
		  VL_KIND_PLAIN,
		  "zb754rvzxpydsg6diypisannnledrx55x23xspqbnlkdmbhblmfceglkvus5vkzds4pmeww2wmn7a" },
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		n = vl_name_encrypt(K, root, names[i].name, strlen(names[i].name), names[i].kind,
				    enc, sizeof(enc));
		ok(n == (int)strlen(names[i].enc) && strcmp(enc, names[i].enc) == 0,
		   "golden: name \"%s\" in root encrypts to %s", names[i].name, names[i].enc);
		n = vl_name_decrypt(K, root, names[i].enc, strlen(names[i].enc), dec, sizeof(dec),
				    &kind);
		ok(n == (int)strlen(names[i].name) && strcmp(dec, names[i].name) == 0 &&
			   kind == names[i].kind,
		   "golden: %s decrypts to \"%s\" with its kind", names[i].enc, names[i].name);
	}

	n = vl_name_encrypt(K, root, "docs", 4, VL_KIND_PLAIN, enc, sizeof(enc));
	ok(n > 0 && strcmp(enc, "6fe5qlbgndjgz2iqsbhdmw7abugyvvqgmrf4lawplfnjuuuosdfq") == 0,
	   "golden: \"docs\" encrypts");
	ok(vl_dirid_derive(K, root, enc, (size_t)n, id) == 0, "child directory ID derives");
	ok_hex(id, 16, "686c997dd6fcbb0713fa2da071de231b", "golden: ID of /docs");
	vl_dirid_file_build(buf, id);
	ok_hex(buf, VL_DIRID_FILE_LEN, "0001686c997dd6fcbb0713fa2da071de231b",
	       "golden: veilfs.dirid of /docs");
	ok(vl_name_long(enc, (size_t)n, ln) == 0 &&
		   strcmp(ln, "8bnep7bvt55ndgeds6blvg2i2kh6viphi55snsrg6obqabw5i2ebq") == 0,
	   "golden: long name of the encoded \"docs\"");
	ok(vl_name_sidecar(enc, (size_t)n, ln) == 0 &&
		   strcmp(ln, "9bnep7bvt55ndgeds6blvg2i2kh6viphi55snsrg6obqabw5i2ebq") == 0,
	   "golden: its sidecar name");

	/* Header + block 0 (last) of a regular file */
	vl_header_build(buf, fid);
	ok(vl_filekey_new(&fk, K, VL_STREAM_CONTENT, fid) == 0, "content file key derives");
	n = vl_block_seal_nonce(fk, 0, true, nonce, (const uint8_t *)"veilfs golden block", 19,
				buf + VL_HEADER_V1_LEN, sizeof(buf) - VL_HEADER_V1_LEN);
	ok(n == 0, "golden content block seals");
	ok_hex(buf, VL_HEADER_V1_LEN + 19 + VL_BLOCK_OVERHEAD, G_CONTENT_BLOCK,
	       "golden: header || block 0 (last) of a regular file");
	n = vl_block_open(fk, 0, true, buf + VL_HEADER_V1_LEN, 19 + VL_BLOCK_OVERHEAD, pt, sizeof(pt));
	ok(n == 19 && memcmp(pt, "veilfs golden block", 19) == 0, "golden content block opens");
	vl_filekey_free(fk);
	fk = NULL;

	/* Block 1 (not last) of an object file: pins K_object's use */
	ok(vl_filekey_new(&fk, K, VL_STREAM_OBJECT, fid) == 0, "object file key derives");
	n = vl_block_seal_nonce(fk, 1, false, nonce, (const uint8_t *)"l/tmp/target", 12,
				buf + VL_HEADER_V1_LEN, sizeof(buf) - VL_HEADER_V1_LEN);
	ok(n == 0, "golden object block seals");
	ok_hex(buf, VL_HEADER_V1_LEN + 12 + VL_BLOCK_OVERHEAD, G_OBJECT_BLOCK,
	       "golden: header || block 1 (not last) of an object file");
	vl_filekey_free(fk);

	n = vl_xattr_name_encrypt(K, "user.comment", 12, enc, sizeof(enc));
	ok(n > 0 && strcmp(enc, "user.veilfs.epg5ms54xlyus7tqistomycqupzxijxkcjlm5rwtlfz4i6p76fqa") == 0,
	   "golden: xattr name user.comment");
	n = unhex("000102030405060708090a0bab1049478ce9175a9bf82c6891c218b876c4759cc8", buf, sizeof(buf));
	n = vl_xattr_value_open(K, fid, "user.veilfs.x", buf, (size_t)n, pt, sizeof(pt));
	ok(n == 5 && memcmp(pt, "value", 5) == 0, "golden: xattr value (AAD = file ID || name) opens");

	struct vl_config cfg;
	char err[256], text[VL_CONFIG_MAX + 1];
	uint8_t m[32];

	ok(vl_config_parse(G_CONFIG, strlen(G_CONFIG), &cfg, err, sizeof(err)) == 0,
	   "golden config parses (%s)", err);
	ok(vl_config_format(&cfg, text, sizeof(text)) == (int)strlen(G_CONFIG) &&
		   strcmp(text, G_CONFIG) == 0,
	   "golden config re-serialises byte for byte");
	memset(m, 0, sizeof(m));
	ok(vl_config_unwrap(&cfg, "golden", 6, m) == 0 && memcmp(m, master, 32) == 0,
	   "golden config unwraps the master key with password \"golden\"");
}

/* ------------------------------------------------------------------ round trips */

static void test_block_roundtrip(void)
{
	size_t max = VL_BLOCK_MAX + VL_BLOCK_OVERHEAD;
	uint8_t *pt = malloc(VL_BLOCK_MAX), *ct = malloc(max), *back = malloc(VL_BLOCK_MAX);
	struct vl_filekey *fk = NULL;
	int fails = 0, sizefails = 0;

	if (!pt || !ct || !back || vl_filekey_new(&fk, K, VL_STREAM_CONTENT, fid) != 0)
		abort();
	for (size_t i = 0; i < VL_BLOCK_MAX; i++)
		pt[i] = (uint8_t)(i * 131 + 7);
	for (uint32_t b = VL_BLOCK_MIN; b <= VL_BLOCK_MAX; b *= 2) {
		size_t lens[] = { 1, 15, b / 2, b - 1, b };

		for (size_t j = 0; j < 5; j++) {
			size_t l = lens[j];

			memset(back, 0, l);
			if (vl_block_seal(fk, j, j == 4, pt, l, ct, l + VL_BLOCK_OVERHEAD) != 0 ||
			    vl_block_open(fk, j, j == 4, ct, l + VL_BLOCK_OVERHEAD, back, b) != (int)l ||
			    memcmp(pt, back, l) != 0)
				fails++;
		}
		/* size arithmetic: plain -> cipher -> plain is the identity, for format 1 and
		 * for format 2's short and long headers */
		uint64_t ps[] = { 0, 1, b - 1, b, b + 1, 2ull * b, 7ull * b + 3, (1ull << 40) + 5 };
		struct vl_layout lay[] = { vl_layout_of(VL_FORMAT_V1, b, false),
					   vl_layout_of(VL_FORMAT_V2, b, false),
					   vl_layout_of(VL_FORMAT_V2, b, true) };
		for (size_t k = 0; k < sizeof(lay) / sizeof(lay[0]); k++)
			for (size_t j = 0; j < sizeof(ps) / sizeof(ps[0]); j++) {
				uint64_t c = vl_cipher_size(&lay[k], ps[j]), back_ps = ~0ull;

				if (vl_plain_size(&lay[k], c, &back_ps) != 0 || back_ps != ps[j])
					sizefails++;
			}
	}
	ok(fails == 0, "blocks of 1, 15, B/2, B-1 and B bytes round-trip for B = 4K..1M (%d failed)",
	   fails);
	ok(sizefails == 0,
	   "vl_plain_size(vl_cipher_size(x)) == x for every block size, both formats (%d failed)",
	   sizefails);
	ok(vl_block_seal(fk, 0, true, pt, VL_BLOCK_MAX + 1, ct, max + 1) == -EIO &&
		   vl_block_seal(fk, 0, true, pt, 100, ct, 100 + VL_BLOCK_OVERHEAD - 1) == -EIO &&
		   vl_block_seal(fk, 0, true, pt, 0, ct, VL_BLOCK_OVERHEAD - 1) == -EIO,
	   "seal refuses an oversized block and a short output buffer");
	/* Format 2's empty final block (FORMAT.md §3.2): 0 bytes seal into nonce || tag, bound to
	 * the file ID, the index and the last flag like any block. */
	ok(vl_block_seal(fk, 0, true, pt, 0, ct, VL_BLOCK_OVERHEAD) == 0 &&
		   vl_block_open(fk, 0, true, ct, VL_BLOCK_OVERHEAD, back, VL_BLOCK_MIN) == 0,
	   "an empty block seals into 28 bytes and opens as 0 bytes");
	ok(vl_block_open(fk, 0, false, ct, VL_BLOCK_OVERHEAD, back, VL_BLOCK_MIN) == -EIO &&
		   vl_block_open(fk, 1, true, ct, VL_BLOCK_OVERHEAD, back, VL_BLOCK_MIN) == -EIO,
	   "the empty block fails as a non-final block or at another index");
	{
		struct vl_filekey *fk2 = NULL;
		uint8_t id2[16];

		memcpy(id2, fid, 16);
		id2[15] ^= 1;
		if (vl_filekey_new(&fk2, K, VL_STREAM_CONTENT, id2) != 0)
			abort();
		ok(vl_block_open(fk2, 0, true, ct, VL_BLOCK_OVERHEAD, back, VL_BLOCK_MIN) == -EIO,
		   "the empty block fails under another file ID");
		vl_filekey_free(fk2);
	}

	/* Blocks sealed with random nonces differ even for the same plaintext. */
	uint8_t c1[64], c2[64];
	ok(vl_block_seal(fk, 0, true, pt, 20, c1, sizeof(c1)) == 0 &&
		   vl_block_seal(fk, 0, true, pt, 20, c2, sizeof(c2)) == 0 &&
		   memcmp(c1, c2, 20 + VL_BLOCK_OVERHEAD) != 0,
	   "two seals of the same block use different nonces");
	vl_filekey_free(fk);
	free(pt);
	free(ct);
	free(back);
}

static void test_name_roundtrip(void)
{
	/* Mixed one- to four-byte UTF-8 sequences; a name of length L is the first L bytes of
	 * this pattern, so cut sequences (invalid UTF-8) are covered too: names are bytes. */
	static const char pat[] = "a\xc3\xa9\xe4\xb8\x96\xf0\x9f\x98\x80-_ .x";
	char name[256], enc[VL_ENCNAME_MAX + 1], dec[256], bad[VL_ENCNAME_MAX + 1];
	int fails = 0, lenfails = 0, classfails = 0, dirfails = 0;
	uint8_t other[16];
	enum vl_kind kind;

	memcpy(other, root, 16);
	other[15] ^= 1;
	for (size_t l = 1; l <= 255; l++) {
		for (size_t i = 0; i < l; i++)
			name[i] = pat[i % (sizeof(pat) - 1)];
		name[l] = '\0';
		if (l == 1 || l == 2)
			name[0] = 'z'; /* avoid "." and ".." */
		for (int k = 0; k < 2; k++) {
			enum vl_kind kd = k ? VL_KIND_OBJECT : VL_KIND_PLAIN;
			int n = vl_name_encrypt(K, root, name, l, kd, enc, sizeof(enc));
			int d = vl_name_decrypt(K, root, enc, (size_t)(n > 0 ? n : 0), dec, sizeof(dec),
						&kind);

			if (n <= 0 || d != (int)l || memcmp(dec, name, l) != 0 || kind != kd)
				fails++;
			if (n != (int)(k + vl_base32_len(16 + (l + 15) / 16 * 16)) || n > VL_ENCNAME_MAX)
				lenfails++;
			if (n > 0 && vl_name_classify(enc, (size_t)n) != VL_ONDISK_SHORT)
				classfails++;
			if (n > 0 && vl_name_decrypt(K, other, enc, (size_t)n, dec, sizeof(dec),
						     &kind) != -EIO)
				dirfails++;
		}
	}
	ok(fails == 0, "names of 1..255 bytes (UTF-8 and plain, both kinds) round-trip (%d failed)",
	   fails);
	ok(lenfails == 0, "encoded length is marker + b32(16 + pad16(len)) (%d wrong)", lenfails);
	ok(classfails == 0, "every encoded name classifies as SHORT (%d wrong)", classfails);
	ok(dirfails == 0, "every name fails to decrypt under another directory ID (%d wrong)",
	   dirfails);

	/* Padding hides the length within 16 bytes. */
	int a = vl_name_encrypt(K, root, "abc", 3, VL_KIND_PLAIN, enc, sizeof(enc));
	int b = vl_name_encrypt(K, root, "abcdefghijklmnop", 16, VL_KIND_PLAIN, bad, sizeof(bad));
	ok(a == b && a == (int)vl_base32_len(32), "names of 3 and 16 bytes encode to the same length");

	/* invalid plaintext names */
	ok(vl_name_encrypt(K, root, "", 0, VL_KIND_PLAIN, enc, sizeof(enc)) == -EINVAL &&
		   vl_name_encrypt(K, root, ".", 1, VL_KIND_PLAIN, enc, sizeof(enc)) == -EINVAL &&
		   vl_name_encrypt(K, root, "..", 2, VL_KIND_PLAIN, enc, sizeof(enc)) == -EINVAL &&
		   vl_name_encrypt(K, root, "a/b", 3, VL_KIND_PLAIN, enc, sizeof(enc)) == -EINVAL &&
		   vl_name_encrypt(K, root, "a\0b", 3, VL_KIND_PLAIN, enc, sizeof(enc)) == -EINVAL,
	   "encrypt refuses empty, ., .., / and NUL");
	memset(name, 'x', 256);
	ok(vl_name_encrypt(K, root, name, 256, VL_KIND_PLAIN, enc, sizeof(enc)) == -EINVAL,
	   "encrypt refuses a 256-byte name");
	ok(vl_name_encrypt(K, root, "abc", 3, VL_KIND_PLAIN, enc, 52) == -ERANGE,
	   "encrypt refuses a short output buffer");
	ok(vl_name_encrypt(K, root, "...", 3, VL_KIND_PLAIN, enc, sizeof(enc)) > 0,
	   "\"...\" is an ordinary name");
}

/* A crafted SIV plaintext under the real names key, as an attacker with the key (or a
 * buggy writer) could produce: decrypt must still refuse it. */
static int craft(const uint8_t *pt, size_t len, char *out)
{
	uint8_t siv[300];
	struct vl_siv_ad ad = { root, 16 };

	if (vl_siv_seal(VL_SIV_AES256, K->names, K->names_gen, &ad, 1, pt, len, siv) != 0)
		return -1;
	return (int)vl_base32_encode(siv, 16 + len, out, VL_ENCNAME_MAX + 1);
}

static void test_name_tamper(void)
{
	char enc[VL_ENCNAME_MAX + 1], dec[256];
	uint8_t pt[48];
	enum vl_kind kind;
	int n, fails = 0;

	n = vl_name_encrypt(K, root, "secret.doc", 10, VL_KIND_PLAIN, enc, sizeof(enc));
	for (int i = 0; i < n; i++) {
		char save = enc[i];

		/* every base32 character changed to another valid one */
		enc[i] = save == 'a' ? 'b' : 'a';
		int r = vl_name_decrypt(K, root, enc, (size_t)n, dec, sizeof(dec), &kind);
		/* the last character carries 2 padding bits: some changes are not base32 */
		if (r != -EIO && r != -EINVAL)
			fails++;
		enc[i] = save;
	}
	ok(fails == 0, "every changed character of an encoded name fails (%d did not)", fails);

	/* marker swap: decrypts, but reports the other kind (the file's tag then fails) */
	char obj[VL_ENCNAME_MAX + 2] = "1";
	memcpy(obj + 1, enc, (size_t)n + 1);
	ok(vl_name_decrypt(K, root, obj, (size_t)n + 1, dec, sizeof(dec), &kind) == 10 &&
		   kind == VL_KIND_OBJECT,
	   "an added object marker only changes the reported kind");

	ok(vl_name_decrypt(K, root, enc, (size_t)n - 1, dec, sizeof(dec), &kind) == -EINVAL &&
		   vl_name_decrypt(K, root, "8abc", 4, dec, sizeof(dec), &kind) == -EINVAL &&
		   vl_name_decrypt(K, root, "", 0, dec, sizeof(dec), &kind) == -EINVAL,
	   "decrypt refuses text that is not an encoded name (-EINVAL)");

	memset(pt, 0, sizeof(pt));
	memcpy(pt, "abc", 3);
	n = craft(pt, 32, enc); /* 3 bytes + 29 NULs: padding of 16 or more */
	ok(n > 0 && vl_name_decrypt(K, root, enc, (size_t)n, dec, sizeof(dec), &kind) == -EIO,
	   "decrypt refuses padding of 16 or more bytes");
	memset(pt, 0, 16);
	n = craft(pt, 16, enc);
	ok(n > 0 && vl_name_decrypt(K, root, enc, (size_t)n, dec, sizeof(dec), &kind) == -EIO,
	   "decrypt refuses an empty name");
	memcpy(pt, "a\0b", 3);
	n = craft(pt, 16, enc);
	ok(n > 0 && vl_name_decrypt(K, root, enc, (size_t)n, dec, sizeof(dec), &kind) == -EIO,
	   "decrypt refuses a NUL inside the name");
	memset(pt, 0, 16);
	memcpy(pt, "..", 2);
	n = craft(pt, 16, enc);
	ok(n > 0 && vl_name_decrypt(K, root, enc, (size_t)n, dec, sizeof(dec), &kind) == -EIO,
	   "decrypt refuses \"..\"");
	memset(pt, 0, 16);
	memcpy(pt, ".", 1);
	n = craft(pt, 16, enc);
	ok(n > 0 && vl_name_decrypt(K, root, enc, (size_t)n, dec, sizeof(dec), &kind) == -EIO,
	   "decrypt refuses \".\"");
	memcpy(pt, "a/b", 3);
	n = craft(pt, 16, enc);
	ok(n > 0 && vl_name_decrypt(K, root, enc, (size_t)n, dec, sizeof(dec), &kind) == -EIO,
	   "decrypt refuses a name with /");
	memset(pt, 'q', 16);
	n = craft(pt, 16, enc);
	ok(n > 0 && vl_name_decrypt(K, root, enc, (size_t)n, dec, sizeof(dec), &kind) == 16,
	   "a crafted 16-byte name without padding decrypts (control)");
}

static void test_block_tamper(void)
{
	uint8_t ct[3][200], pt[200], id2[16];
	struct vl_filekey *fk = NULL, *fk2 = NULL, *fko = NULL;
	size_t cl = 100 + VL_BLOCK_OVERHEAD;
	int fails = 0;

	memcpy(id2, fid, 16);
	id2[0] ^= 0xff;
	if (vl_filekey_new(&fk, K, VL_STREAM_CONTENT, fid) || vl_filekey_new(&fk2, K, VL_STREAM_CONTENT, id2) ||
	    vl_filekey_new(&fko, K, VL_STREAM_OBJECT, fid))
		abort();
	memset(pt, 'p', sizeof(pt));
	for (int i = 0; i < 3; i++)
		if (vl_block_seal(fk, (uint64_t)i, i == 2, pt, 100, ct[i], sizeof(ct[i])) != 0)
			abort();
	ok(vl_block_open(fk, 0, false, ct[0], cl, pt, sizeof(pt)) == 100, "control: block 0 opens");
	for (size_t i = 0; i < cl; i++) {
		ct[0][i] ^= 0x01;
		memset(pt, 0x5a, sizeof(pt));
		if (vl_block_open(fk, 0, false, ct[0], cl, pt, sizeof(pt)) != -EIO || pt[0] != 0)
			fails++;
		ct[0][i] ^= 0x01;
	}
	ok(fails == 0, "a flipped bit in any byte (nonce, ciphertext, tag) fails and wipes (%d not)",
	   fails);
	ok(vl_block_open(fk, 1, false, ct[0], cl, pt, sizeof(pt)) == -EIO &&
		   vl_block_open(fk, 0, false, ct[1], cl, pt, sizeof(pt)) == -EIO,
	   "blocks swapped between index 0 and 1 fail");
	ok(vl_block_open(fk2, 0, false, ct[0], cl, pt, sizeof(pt)) == -EIO,
	   "a block transplanted to another file ID fails");
	ok(vl_block_open(fko, 0, false, ct[0], cl, pt, sizeof(pt)) == -EIO,
	   "a regular file's block read as an object file's fails (K_content vs K_object)");
	ok(vl_block_open(fk, 1, true, ct[1], cl, pt, sizeof(pt)) == -EIO,
	   "truncation at a block boundary: non-final block read as last fails");
	ok(vl_block_open(fk, 2, false, ct[2], cl, pt, sizeof(pt)) == -EIO,
	   "append after the end: last block read in a non-final position fails");
	ok(vl_block_open(fk, 2, true, ct[2], cl, pt, sizeof(pt)) == 100, "control: block 2 as last opens");
	ok(vl_block_open(fk, 2, true, ct[2], cl - 1, pt, sizeof(pt)) == -EIO,
	   "a block cut by one byte fails");
	ok(vl_block_open(fk, 2, true, ct[2], VL_BLOCK_OVERHEAD, pt, sizeof(pt)) == -EIO &&
		   vl_block_open(fk, 2, true, ct[2], 3, pt, sizeof(pt)) == -EIO,
	   "a torn block (no plaintext byte) fails");
	ok(vl_block_open(fk, 2, true, ct[2], cl, pt, 99) == -EINVAL,
	   "open refuses a plaintext buffer that is too small");

	/* header */
	uint8_t h[VL_HEADER_V1_LEN], id[16];
	vl_header_build(h, fid);
	ok(vl_header_parse(h, sizeof(h), id) == 0 && memcmp(id, fid, 16) == 0, "header parses");
	fails = 0;
	for (size_t i = 0; i < 8; i++) {
		h[i] ^= 0x20;
		if (vl_header_parse(h, sizeof(h), id) != -EIO)
			fails++;
		h[i] ^= 0x20;
	}
	ok(fails == 0, "any change to magic, version or reserved field is refused (%d not)", fails);
	ok(vl_header_parse(h, 23, id) == -EIO && vl_header_parse(h, 25, id) == -EIO,
	   "header of 23 or 25 bytes is refused");
	h[8] ^= 1; /* file ID: parses, but every block then fails */
	ok(vl_header_parse(h, sizeof(h), id) == 0 && memcmp(id, id2, 16) != 0 &&
		   vl_block_open(fk2, 2, true, ct[2], cl, pt, sizeof(pt)) == -EIO,
	   "a changed file ID in the header makes the blocks fail");

	vl_filekey_free(fk);
	vl_filekey_free(fk2);
	vl_filekey_free(fko);
	vl_filekey_free(NULL);
	vl_keys_free(NULL);
}

/* ------------------------------------------------------------------ sizes */

static void test_sizes(void) /* format 1 */
{
	uint64_t p = 12345;
	int fails = 0;

	ok(psize1(0, 4096, &p) == 0 && p == 0, "size: 0 bytes -> 0");
	for (uint64_t c = 1; c < 24; c++)
		if (psize1(c, 4096, &p) != -EIO)
			fails++;
	ok(fails == 0, "size: 1..23 bytes (torn header) -> -EIO");
	ok(psize1(24, 4096, &p) == 0 && p == 0, "size: header only -> 0");
	fails = 0;
	for (uint64_t c = 25; c <= 24 + 28; c++)
		if (psize1(c, 4096, &p) != -EIO)
			fails++;
	ok(fails == 0, "size: header + 1..28 bytes (torn block) -> -EIO");
	ok(psize1(24 + 29, 4096, &p) == 0 && p == 1, "size: header + 29 -> 1");
	ok(psize1(24 + 4124, 4096, &p) == 0 && p == 4096, "size: one full block -> 4096");
	ok(psize1(24 + 4124 + 28, 4096, &p) == -EIO, "size: full block + 28 -> -EIO");
	ok(psize1(24 + 4124 + 29, 4096, &p) == 0 && p == 4097, "size: full block + 29 -> 4097");
	ok(psize1(24 + 3 * 65564 + 100, 65536, &p) == 0 && p == 3 * 65536 + 72,
	   "size: B = 64K, 3 blocks + 100 -> 196680");
	ok(psize1(100, 4095, &p) == -EINVAL && psize1(100, 2048, &p) == -EINVAL &&
		   psize1(100, 2u << 20, &p) == -EINVAL,
	   "size: invalid block sizes refused");
	ok(csize1(0, 4096) == 0 && csize1(1, 4096) == 53 &&
		   csize1(4096, 4096) == 4148 && csize1(4097, 4096) == 4177,
	   "cipher size: 0 -> 0, 1 -> 53, 4096 -> 4148, 4097 -> 4177");
	ok(boff1(0, 4096) == 24 && boff1(3, 4096) == 24 + 3 * 4124,
	   "block offsets");
}

/* Format 2 (FORMAT.md §3.2): at least the header and one block; an empty file is the header
 * and an empty final block, so 0 bytes and the header alone are invalid. */
static void test_sizes_v2(void)
{
	const struct vl_layout s = vl_layout_of(VL_FORMAT_V2, 4096, false);
	const struct vl_layout l = vl_layout_of(VL_FORMAT_V2, 4096, true);
	const struct vl_layout b64 = vl_layout_of(VL_FORMAT_V2, 65536, false);
	uint64_t p = 12345;
	int fails = 0;

	ok(s.hdrlen == 72 && l.hdrlen == 346 && s.empty_block && l.empty_block && s.block_size == 4096,
	   "v2 size: layouts of short (72) and long (346) headers, with the empty block");
	for (uint64_t c = 0; c < 72 + 28; c++)
		if (vl_plain_size(&s, c, &p) != -EIO)
			fails++;
	ok(fails == 0, "v2 size: 0..99 bytes (nothing, torn header, header alone, torn empty block) -> -EIO");
	ok(vl_plain_size(&s, 100, &p) == 0 && p == 0, "v2 size: header + 28 (the empty block) -> 0");
	ok(vl_plain_size(&s, 72 + 29, &p) == 0 && p == 1, "v2 size: header + 29 -> 1");
	ok(vl_plain_size(&s, 72 + 4124, &p) == 0 && p == 4096, "v2 size: one full block -> 4096");
	fails = 0;
	for (uint64_t c = 72 + 4124 + 1; c <= 72 + 4124 + 28; c++)
		if (vl_plain_size(&s, c, &p) != -EIO)
			fails++;
	ok(fails == 0, "v2 size: full block + 1..28 (a torn block, not an empty one) -> -EIO");
	ok(vl_plain_size(&s, 72 + 4124 + 29, &p) == 0 && p == 4097, "v2 size: full block + 29 -> 4097");
	fails = 0;
	for (uint64_t c = 0; c < 346 + 28; c++)
		if (vl_plain_size(&l, c, &p) != -EIO)
			fails++;
	ok(fails == 0 && vl_plain_size(&l, 374, &p) == 0 && p == 0 &&
		   vl_plain_size(&l, 346 + 3 * 4124 + 100, &p) == 0 && p == 3 * 4096 + 72,
	   "v2 size, long header: below 374 -> -EIO, 374 -> 0, 3 blocks + 100 -> 12360");
	ok(vl_plain_size(&b64, 72 + 3 * 65564 + 100, &p) == 0 && p == 3 * 65536 + 72,
	   "v2 size: B = 64K, 3 blocks + 100 -> 196680");
	ok(vl_cipher_size(&s, 0) == 100 && vl_cipher_size(&s, 1) == 101 &&
		   vl_cipher_size(&s, 4096) == 4196 && vl_cipher_size(&s, 4097) == 4225 &&
		   vl_cipher_size(&l, 0) == 374 && vl_cipher_size(&l, 1) == 375,
	   "v2 cipher size: 0 -> 100 (long: 374), 1 -> 101 (375), 4096 -> 4196, 4097 -> 4225");
	ok(vl_block_offset(&s, 0) == 72 && vl_block_offset(&s, 3) == 72 + 3 * 4124 &&
		   vl_block_offset(&l, 1) == 346 + 4124,
	   "v2 block offsets");
	{
		struct vl_layout bad = s;

		bad.hdrlen = 73;
		ok(vl_plain_size(&bad, 200, &p) == -EINVAL && vl_cipher_size(&bad, 1) == 0,
		   "a layout with an unknown header length is refused");
	}
}

/* ------------------------------------------------------------------ base32, classify */

static void test_base32_strict(void)
{
	uint8_t out[64];

	ok(vl_base32_decode("MY", 2, out, sizeof(out)) == -EINVAL, "base32: uppercase refused");
	ok(vl_base32_decode("my======", 8, out, sizeof(out)) == -EINVAL, "base32: padding refused");
	ok(vl_base32_decode("mz", 2, out, sizeof(out)) == -EINVAL,
	   "base32: non-zero trailing bits refused (\"mz\" is not \"my\")");
	ok(vl_base32_decode("a", 1, out, sizeof(out)) == -EINVAL &&
		   vl_base32_decode("aaa", 3, out, sizeof(out)) == -EINVAL &&
		   vl_base32_decode("aaaaaa", 6, out, sizeof(out)) == -EINVAL,
	   "base32: impossible lengths 1, 3, 6 (mod 8) refused");
	ok(vl_base32_decode("m0", 2, out, sizeof(out)) == -EINVAL &&
		   vl_base32_decode("m1", 2, out, sizeof(out)) == -EINVAL &&
		   vl_base32_decode("m8", 2, out, sizeof(out)) == -EINVAL &&
		   vl_base32_decode("m ", 2, out, sizeof(out)) == -EINVAL,
	   "base32: 0 1 8 9 and spaces refused");
	ok(vl_base32_decode("mzxw6ytboi", 10, out, 5) == -EINVAL, "base32: small output refused");
	char e[8];
	ok(vl_base32_encode((const uint8_t *)"foo", 3, e, 5) == 0, "base32: small encode buffer refused");
}

static void test_classify(void)
{
	char enc[VL_ENCNAME_MAX + 1], ln[VL_LONGNAME_LEN + 1], sc[VL_LONGNAME_LEN + 1], t[600];
	int n = vl_name_encrypt(K, root, "report.pdf", 10, VL_KIND_PLAIN, enc, sizeof(enc));

	ok(n == 52 && vl_name_classify(enc, 52) == VL_ONDISK_SHORT, "classify: encoded name is SHORT");
	snprintf(t, sizeof(t), "1%s", enc);
	ok(vl_name_classify(t, 53) == VL_ONDISK_SHORT, "classify: object marker + name is SHORT");
	ok(vl_name_classify("veilfs.conf", 11) == VL_ONDISK_RESERVED &&
		   vl_name_classify("veilfs.dirid", 12) == VL_ONDISK_RESERVED,
	   "classify: veilfs.conf and veilfs.dirid are RESERVED");
	ok(vl_name_classify("veilfs.dirid.tmp", 16) == VL_ONDISK_FOREIGN &&
		   vl_name_classify("veilfs.con", 10) == VL_ONDISK_FOREIGN,
	   "classify: near-reserved names are FOREIGN");
	ok(vl_name_long(enc, (size_t)n, ln) == 0 && vl_name_classify(ln, 53) == VL_ONDISK_LONG,
	   "classify: long name is LONG");
	ok(vl_name_sidecar(enc, (size_t)n, sc) == 0 && vl_name_classify(sc, 53) == VL_ONDISK_SIDECAR,
	   "classify: sidecar is SIDECAR");
	ok(vl_name_classify(ln, 52) == VL_ONDISK_FOREIGN && vl_name_classify(ln, 54) == VL_ONDISK_FOREIGN,
	   "classify: a long name cut or extended by one character is FOREIGN");
	/* Conflict copies made by sync clients: FOREIGN, the encrypted run stays intact */
	static const char *const sfx[] = { " (conflicted copy 2025-02-10)", "-HOSTNAME", " 2", " (1)",
					   ".sync-conflict-20250210-123456-ABCDEFG", ".conflict1" };
	int fails = 0;
	for (size_t i = 0; i < sizeof(sfx) / sizeof(sfx[0]); i++) {
		snprintf(t, sizeof(t), "%s%s", enc, sfx[i]);
		if (vl_name_classify(t, strlen(t)) != VL_ONDISK_FOREIGN)
			fails++;
		snprintf(t, sizeof(t), "%s%s", ln, sfx[i]);
		if (vl_name_classify(t, strlen(t)) != VL_ONDISK_FOREIGN)
			fails++;
	}
	ok(fails == 0, "classify: conflict copies of short and long names are FOREIGN");
	ok(vl_name_classify(".DS_Store", 9) == VL_ONDISK_FOREIGN &&
		   vl_name_classify("desktop.ini", 11) == VL_ONDISK_FOREIGN &&
		   vl_name_classify("", 0) == VL_ONDISK_FOREIGN && vl_name_classify("1", 1) == VL_ONDISK_FOREIGN &&
		   vl_name_classify("8", 1) == VL_ONDISK_FOREIGN,
	   "classify: sync clients' files and stubs are FOREIGN");
	for (int i = 0; i < n; i++)
		t[i] = (char)(enc[i] >= 'a' && enc[i] <= 'z' ? enc[i] - 32 : enc[i]);
	ok(vl_name_classify(t, 52) == VL_ONDISK_FOREIGN, "classify: uppercased name is FOREIGN");
	memset(t, 'a', 60);
	ok(vl_name_classify(t, 26) == VL_ONDISK_FOREIGN && vl_name_classify(t, 53) == VL_ONDISK_FOREIGN,
	   "classify: base32 of 16 bytes (no ciphertext) or of 33 bytes is FOREIGN");
	memset(t, 'a', 437);
	ok(vl_name_classify(t, 436) == VL_ONDISK_SHORT && vl_name_classify(t, 437) == VL_ONDISK_FOREIGN,
	   "classify: 272 bytes is the longest SHORT");

	/* sidecars */
	ok(vl_name_sidecar_check(ln, enc, (size_t)n) == 0 && vl_name_sidecar_check(sc, enc, (size_t)n) == 0,
	   "sidecar: contents matching the hash pass for the long name and the sidecar name");
	snprintf(t, sizeof(t), "%s\n", enc);
	ok(vl_name_sidecar_check(ln, t, (size_t)n + 1) == -EIO, "sidecar: a trailing newline fails");
	t[0] = enc[0] == 'a' ? 'b' : 'a';
	memcpy(t + 1, enc + 1, (size_t)n - 1);
	ok(vl_name_sidecar_check(ln, t, (size_t)n) == -EIO, "sidecar: other contents fail");
	ok(vl_name_sidecar_check(ln, sc, 53) == -EIO, "sidecar: contents that are not a full encoded name fail");
	ok(vl_name_sidecar_check(enc, enc, (size_t)n) == -EIO, "sidecar: a short name is not a long name");
}

/* ------------------------------------------------------------------ xattrs, dirid */

static void test_xattr_dirid(void)
{
	char en[VL_XATTR_ENCNAME_MAX + 1], en2[VL_XATTR_ENCNAME_MAX + 1], dn[300];
	uint8_t ct[128], out[128], b2[16];
	int n, c;

	n = vl_xattr_name_encrypt(K, "user.x", 6, en, sizeof(en));
	ok(n > 12 && vl_xattr_name_decrypt(K, en, (size_t)n, dn, sizeof(dn)) == 6 &&
		   strcmp(dn, "user.x") == 0,
	   "xattr name round-trips");
	ok(vl_xattr_name_encrypt(K, "user.x", 6, en2, sizeof(en2)) == n && strcmp(en, en2) == 0,
	   "xattr names are deterministic (lookups work)");
	ok(vl_xattr_name_decrypt(K, "user.other", 10, dn, sizeof(dn)) == -EINVAL &&
		   vl_xattr_name_decrypt(K, "user.veilfs.abc", 15, dn, sizeof(dn)) == -EINVAL,
	   "xattr name: not ours -> -EINVAL");
	en[20] = en[20] == 'a' ? 'b' : 'a';
	ok(vl_xattr_name_decrypt(K, en, (size_t)n, dn, sizeof(dn)) == -EIO, "xattr name: tampered -> -EIO");
	en[20] = en2[20];

	c = vl_xattr_value_seal(K, fid, en, (const uint8_t *)"hello", 5, ct, sizeof(ct));
	ok(c == 5 + VL_BLOCK_OVERHEAD && vl_xattr_value_open(K, fid, en, ct, (size_t)c, out, sizeof(out)) == 5 &&
		   memcmp(out, "hello", 5) == 0,
	   "xattr value round-trips");
	memcpy(b2, fid, 16);
	b2[5] ^= 1;
	ok(vl_xattr_value_open(K, b2, en, ct, (size_t)c, out, sizeof(out)) == -EIO,
	   "xattr value moved to another object fails");
	n = vl_xattr_name_encrypt(K, "user.y", 6, en2, sizeof(en2));
	ok(n > 0 && vl_xattr_value_open(K, fid, en2, ct, (size_t)c, out, sizeof(out)) == -EIO,
	   "xattr value moved to another attribute name fails");
	ct[c - 1] ^= 1;
	ok(vl_xattr_value_open(K, fid, en, ct, (size_t)c, out, sizeof(out)) == -EIO,
	   "xattr value with a flipped tag bit fails");
	c = vl_xattr_value_seal(K, fid, en, NULL, 0, ct, sizeof(ct));
	ok(c == VL_BLOCK_OVERHEAD && vl_xattr_value_open(K, fid, en, ct, (size_t)c, out, sizeof(out)) == 0,
	   "empty xattr value round-trips");

	uint8_t f[VL_DIRID_FILE_LEN], id[16];
	vl_dirid_file_build(f, root);
	ok(vl_dirid_file_parse(f, sizeof(f), id) == 0 && memcmp(id, root, 16) == 0, "dirid file round-trips");
	ok(vl_dirid_file_parse(f, 17, id) == -EIO && vl_dirid_file_parse(f, 19, id) == -EIO,
	   "dirid file of 17 or 19 bytes refused");
	f[1] = 2;
	ok(vl_dirid_file_parse(f, sizeof(f), id) == -EIO, "dirid file version 2 refused");
	uint8_t a[16], b[16];
	ok(vl_dirid_derive(K, root, "abc", 3, a) == 0 && vl_dirid_derive(K, root, "abd", 3, b) == 0 &&
		   memcmp(a, b, 16) != 0 && vl_dirid_derive(K, a, "abc", 3, b) == 0 && memcmp(a, b, 16) != 0,
	   "directory IDs depend on name and parent");
	ok(vl_dirid_derive(K, root, "", 0, a) == -EINVAL, "dirid: empty name refused");
}

/* ------------------------------------------------------------------ config wrap */

static void test_config_wrap(void)
{
	struct vl_config cfg, c2;
	char err[256];
	uint8_t m[32];

	if (vl_config_parse(G_CONFIG, strlen(G_CONFIG), &cfg, err, sizeof(err)) != 0)
		abort();
	ok(vl_config_unwrap(&cfg, "golden!", 7, m) == -EACCES, "unwrap: wrong password -> -EACCES");
	ok(vl_config_unwrap(&cfg, "", 0, m) == -EINVAL, "unwrap: empty password refused");

	/* Each field changed (to a value the parser would accept) must fail the tag. */
	static const char *const what[] = { "block_size", "name_max", "scrypt_log2_n", "scrypt_r",
					    "scrypt_p", "salt", "wrap_nonce",
					    "wrapped_key (ciphertext)", "wrapped_key (tag)" };
	for (int i = 0; i < 9; i++) {
		c2 = cfg;
		switch (i) {
		case 0: c2.block_size = 8192; break;
		case 1: c2.name_max = 219; break;
		case 2: c2.scrypt_log2_n = 17; break;
		case 3: c2.scrypt_r = 9; break;
		case 4: c2.scrypt_p = 2; break;
		case 5: c2.salt[31] ^= 1; break;
		case 6: c2.wrap_nonce[0] ^= 1; break;
		case 7: c2.wrapped_key[3] ^= 1; break;
		case 8: c2.wrapped_key[40] ^= 1; break;
		}
		memset(m, 0x77, sizeof(m));
		ok(vl_config_unwrap(&c2, "golden", 6, m) == -EACCES && m[0] == 0x77,
		   "unwrap: modified %s -> -EACCES, master untouched", what[i]);
	}

	/* wrap draws a fresh salt and nonce and round-trips */
	c2 = cfg;
	ok(vl_config_wrap(&c2, "another pw", 10, master) == 0 && memcmp(c2.salt, cfg.salt, 32) != 0 &&
		   memcmp(c2.wrap_nonce, cfg.wrap_nonce, 12) != 0,
	   "wrap: fresh salt and nonce");
	ok(vl_config_unwrap(&c2, "another pw", 10, m) == 0 && memcmp(m, master, 32) == 0,
	   "wrap/unwrap round-trip");
	c2.scrypt_log2_n = 15;
	ok(vl_config_wrap(&c2, "x", 1, master) == -EINVAL && vl_config_unwrap(&c2, "x", 1, m) == -EINVAL,
	   "wrap/unwrap refuse a config below the KDF minimum");
}

/* ------------------------------------------------------------------ threads */

static void *thread_main(void *arg)
{
	uint8_t id[16], pt[512], ct[600], back[512];
	struct vl_filekey *fk[3] = { 0 };
	long bad = 0;

	memset(id, (int)(intptr_t)arg, 16);
	for (int i = 0; i < 3; i++) {
		id[0] = (uint8_t)i;
		if (vl_filekey_new(&fk[i], K, VL_STREAM_CONTENT, id) != 0)
			return (void *)1;
	}
	memset(pt, (int)(intptr_t)arg, sizeof(pt));
	for (int i = 0; i < 300; i++) {
		struct vl_filekey *a = fk[i % 3], *b = fk[(i + 1) % 3];

		if (vl_block_seal(a, (uint64_t)i, false, pt, sizeof(pt), ct, sizeof(ct)) != 0 ||
		    vl_block_open(a, (uint64_t)i, false, ct, 540, back, sizeof(back)) != 512 ||
		    memcmp(back, pt, 512) != 0 ||
		    vl_block_open(b, (uint64_t)i, false, ct, 540, back, sizeof(back)) != -EIO)
			bad++;
	}
	for (int i = 0; i < 3; i++)
		vl_filekey_free(fk[i]);
	return (void *)bad; /* this thread's contexts are freed by the key destructor */
}

static void test_threads(void)
{
	uint8_t c1[3][100], c2[3][100], pt[72];
	struct vl_filekey *fk[2] = { 0 };
	uint8_t id[16];
	pthread_t th[4];
	long bad = 0;

	/* Cached key generation: A, B, A on one thread gives what fresh contexts give. */
	memset(pt, 'k', sizeof(pt));
	for (int i = 0; i < 2; i++) {
		memcpy(id, fid, 16);
		id[15] = (uint8_t)i;
		if (vl_filekey_new(&fk[i], K, VL_STREAM_CONTENT, id) != 0)
			abort();
	}
	for (int round = 0; round < 2; round++) {
		uint8_t (*c)[100] = round ? c2 : c1;

		vl_crypto_thread_cleanup();
		for (int j = 0; j < 3; j++) {
			if (round == 1)
				vl_crypto_thread_cleanup(); /* fresh context for every block */
			if (vl_block_seal_nonce(fk[j % 2], 4, false, nonce, pt, sizeof(pt), c[j], 100) != 0)
				abort();
		}
	}
	ok(memcmp(c1, c2, sizeof(c1)) == 0,
	   "per-thread context: switching keys A, B, A gives the same output as fresh contexts");
	ok(vl_block_open(fk[0], 4, false, c1[1], 100, pt, sizeof(pt)) == -EIO &&
		   vl_block_open(fk[1], 4, false, c1[1], 100, pt, sizeof(pt)) == 72,
	   "per-thread context: a cached key is never used for another file's block");
	vl_filekey_free(fk[0]);
	vl_filekey_free(fk[1]);

	for (intptr_t i = 0; i < 4; i++)
		if (pthread_create(&th[i], NULL, thread_main, (void *)(i + 1)) != 0)
			abort();
	for (int i = 0; i < 4; i++) {
		void *r;

		pthread_join(th[i], &r);
		bad += (long)r;
	}
	ok(bad == 0, "4 threads x 300 blocks with interleaved keys: all correct (%ld bad)", bad);
}

int main(void)
{
	if (vl_crypto_init() != 0) /* first: libcrypto allocates in the secure pool */
		return 99;
	for (int i = 0; i < 32; i++)
		master[i] = (uint8_t)i;
	for (int i = 0; i < 16; i++)
		fid[i] = (uint8_t)(0xa0 + i);
	for (int i = 0; i < 12; i++)
		nonce[i] = (uint8_t)i;
	if (vl_keys_new(&K, master) != 0) {
		ok(0, "vl_keys_new");
		return done_testing();
	}
	test_golden();
	test_block_roundtrip();
	test_name_roundtrip();
	test_name_tamper();
	test_block_tamper();
	test_sizes();
	test_sizes_v2();
	test_base32_strict();
	test_classify();
	test_xattr_dirid();
	test_config_wrap();
	test_threads();
	vl_keys_free(K);
	vl_crypto_thread_cleanup();
	return done_testing();
}
