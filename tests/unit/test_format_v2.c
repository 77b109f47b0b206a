// SPDX-License-Identifier: GPL-2.0-or-later
/* Format 2 (docs/FORMAT.md) pinned byte for byte, against an independent implementation.
 *
 * Every G_* value below was printed by tests/unit/format_vectors_v2.py, which was written from
 * FORMAT.md alone (Python "cryptography": AESGCM, AESSIV; hashlib), before the C
 * implementation was read. Three groups of checks:
 *   1. the crypto layer computes the same bytes (subkeys, IDs, place tokens, ID files, short,
 *      long and moving headers, blocks, configs, the recovery code);
 *   2. a tamper case for every field of a header and of an ID file (each byte flipped: refused,
 *      nothing filled), and the parser's rules behind the MAC (re-MACed headers and ID files
 *      that break one rule of FORMAT.md §3.1 or §5.1 each: refused);
 *   3. the library (libveilcore) reads a vault written by the Python reference's bytes: the
 *      config unlocks, the resolver finds every directory's ID and every name, files and the
 *      symlink read back; the binding rules of §3.1 refuse misplaced files; and what the
 *      library writes (ID files, moving headers, new files) is what FORMAT.md says.
 * If one of the G_* values changes, the format changed. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto/config.h"
#include "crypto/conflict.h"
#include "crypto/content.h"
#include "crypto/dirid.h"
#include "crypto/kdf.h"
#include "crypto/keys.h"
#include "crypto/keys_internal.h"
#include "crypto/names.h"
#include "crypto/secmem.h"
#include "fs/dirinfo.h"
#include "fs/dirs.h"
#include "fs/entry.h"
#include "fs/fileio.h"
#include "fs/object.h"
#include "fs/recovery.h"
#include "fs/vault.h"
#include "tests/unit/core_util.h"
#include "tests/unit/tap.h"

/* ------------------------------------------------------------------ the vectors */

#define G_K_CONTENT "e8fecf3494dc04445750b00b0556d51cbf9c601fab2518b12cb837101dcadede"
#define G_K_OBJECT  "a36ff341b5d05f13065a859d3bd8c27d62679cad52d74918c43be7d7d98f2e18"
#define G_K_NAMES                                                                                  \
	"617f0d3a6a9dda86f968c57af96b2c37ea8d802c05f172abafe66c3c326cdadaeb9532ee590965f2f605e7c0" \
	"9ee2efa188653039c1ca5cebb7e9054f1e9f206c"
#define G_K_DIRID "2139908a9a99a748fd4c4b6b2bd6452b2021454788467ff014770993ec1fdef2"
#define G_K_XATTR_NAMES                                                                            \
	"2c0a8fe34b0b362254dd62b6ffe74f55572361be7988264385781d22112772489ab82ae3aa833418eda43deb" \
	"3b26c322ca3d1dfb012a2f3ff2279f81c9b98bdc"
#define G_K_XATTR_VALUES "85a1cd6a2a17b6753ae2c7f159c0bdefa5eb55c8d90719e52604624ad6b22637"
#define G_K_META	 "b2ace54c81b9f50b9ba8fbd1b5dad247b0032b99640a479c41d83d93efc2ccd0"
#define G_ID_ROOT	 "7da5aa06858d8bb1c100fd8292e10d83"
#define G_T_ROOT	 "c000d961bddae6dcf668b7f5dc99cfa5"
#define G_IDFILE_ROOT                                                                              \
	"000200007da5aa06858d8bb1c100fd8292e10d83000000000000000000000000000000000000000000000000" \
	"000000000000000000000c65a7305cef1bc9e5afa54cc96cd843"
#define G_F_DOCS  "6fe5qlbgndjgz2iqsbhdmw7abugyvvqgmrf4lawplfnjuuuosdfq"
#define G_ID_DOCS "686c997dd6fcbb0713fa2da071de231b"
#define G_T_DOCS  "253163aaa39f3bb33185b673703f2cd6"
#define G_IDFILE_DOCS                                                                              \
	"00020000686c997dd6fcbb0713fa2da071de231bc000d961bddae6dcf668b7f5dc99cfa57da5aa06858d8bb1" \
	"c100fd8292e10d83003436666535716c62676e646a677a326971736268646d77376162756779767671676d72" \
	"66346c6177706c666e6a7575756f73646671b8fb1a1c24a8f1e39bf49ee8634733af"
#define G_F_DOCUMENTS "tz2wk6otuwubg4d3fedcou4uolgvbo56zpcjj6ukn2z6xdpeqkga"
#define G_IDFILE_DOCS_RENAMING                                                                     \
	"00020100686c997dd6fcbb0713fa2da071de231bc000d961bddae6dcf668b7f5dc99cfa57da5aa06858d8bb1" \
	"c100fd8292e10d830034747a32776b366f747577756267346433666564636f7534756f6c6776626f35367a70" \
	"636a6a36756b6e327a3678647065716b67617da5aa06858d8bb1c100fd8292e10d83003436666535716c6267" \
	"6e646a677a326971736268646d77376162756779767671676d7266346c6177706c666e6a7575756f73646671" \
	"ef30d3f6d1bebfb70485f7743fce7c11"
#define G_F_WORK  "jk6wftwpbucquc573wvrcrvaund4adsfmd2z25ja6rfukwfwglma"
#define G_ID_WORK "83e96fbcb9d80836c98b747636cecfe4"
#define G_T_WORK  "928fe397da06fc581a84b59c7141dde5"
#define G_F_OLD	  "rzlhyupuu5a2w2jautosim33khdu3brp5sd5helk4d3y5s45vu3q"
#define G_IDFILE_DOCS_MOVING                                                                       \
	"00020100686c997dd6fcbb0713fa2da071de231b928fe397da06fc581a84b59c7141dde583e96fbcb9d80836" \
	"c98b747636cecfe40034727a6c68797570757535613277326a6175746f73696d33336b686475336272703573" \
	"643568656c6b3464337935733435767533717da5aa06858d8bb1c100fd8292e10d83003436666535716c6267" \
	"6e646a677a326971736268646d77376162756779767671676d7266346c6177706c666e6a7575756f73646671" \
	"9fe5e88afbe1b550b31cae39523907db"
#define G_T_DOCS_AT_OLD "6ed5edf69167127a35d80da808018b1e"
#define G_F_LDIR                                                                                   \
	"jf27eg5fzd6akyzuit5diub7wacamotydjezd3ay6ysgu4p5awor5qtawmxortekusux4d2lobcnv3ex56722rym" \
	"rnzaakbbjjxuktsztlbkubfa6mvqdggne2cifbygpk4z6yttysamq3ognbxhuipsuqjbopsn75kpqac2b5mvrvbz" \
	"7nmtrm6ggdp4qppua7yyymvn66uxbjj7gjjief6nbqygt32hvv53thikstkiufg65wjvnr6bopsmzcmwsjm2y4ro" \
	"yhakzou4agxdm4otgzc5baobdxonabkiyykl4ctatnwdd76amjw4qin2s2xp7kwe34lhw4b2bxxsrzii27ipsbc5" \
	"bqpx57q"
#define G_N_LDIR	    "8ozwqo4zfhxj4gnokfaivu75c7zvujqkxcvvbl6heqsslpaleofkq"
#define G_ID_LDIR	    "ecd55b869e49c29e79689946726bff36"
#define G_ID_LDIR_NAME_LOST "26ab50ecaf2ffd29b3e289e638773721"
#define G_T_LDIR	    "94a15aace024930ac601b7e3f16c40e5"
#define G_IDFILE_LDIR                                                                              \
	"00020000ecd55b869e49c29e79689946726bff36c000d961bddae6dcf668b7f5dc99cfa57da5aa06858d8bb1" \
	"c100fd8292e10d8301676a663237656735667a6436616b797a756974356469756237776163616d6f7479646a" \
	"657a64336179367973677534703561776f7235717461776d786f7274656b757375783464326c6f62636e7633" \
	"6578353637323272796d726e7a61616b62626a6a78756b74737a746c626b75626661366d76716467676e6532" \
	"636966627967706b347a367974747973616d71336f676e6278687569707375716a626f70736e37356b707161" \
	"633262356d767276627a376e6d74726d3667676470347170707561377979796d766e36367578626a6a37676a" \
	"6a696566366e6271796774333268767635337468696b73746b697566673635776a766e7236626f70736d7a63" \
	"6d77736a6d327934726f7968616b7a6f7534616778646d346f74677a633562616f6264786f6e61626b697979" \
	"6b6c34637461746e7764643736616d6a773471696e3273327870376b776533346c687734623262787873727a" \
	"6969323769707362633562717078353771b4754531aa95660ed9402b48105414f7"
#define G_F_HELLO "imlizkhehhssagwpsxmdqypvrujzpt6p2zywdlpe3kvc2jdwan3q"
#define G_HEADER_SHORT                                                                             \
	"5645494c00020000a0a1a2a3a4a5a6a7a8a9aaabacadaeaf686c997dd6fcbb0713fa2da071de231b253163aa" \
	"a39f3bb33185b673703f2cd6a4f21fc599e8ddc910322f38a72a86ea"
#define G_FILE_EMPTY                                                                               \
	"5645494c00020000a0a1a2a3a4a5a6a7a8a9aaabacadaeaf686c997dd6fcbb0713fa2da071de231b253163aa" \
	"a39f3bb33185b673703f2cd6a4f21fc599e8ddc910322f38a72a86ea000102030405060708090a0b8b714497" \
	"140959ae6b3c3250be02e73a"
#define G_FILE_ONE_BLOCK                                                                           \
	"5645494c00020000a0a1a2a3a4a5a6a7a8a9aaabacadaeaf686c997dd6fcbb0713fa2da071de231b253163aa" \
	"a39f3bb33185b673703f2cd6a4f21fc599e8ddc910322f38a72a86ea000102030405060708090a0b5cbd6241" \
	"6eb8051e9d22c4c5f5c609359f68e6225f225da15e5b6d7b0adb113240fe39"
#define G_FILE_TWO_SHA256 "3b6c9af6667c5b9f53e57c921f0cc707ffb7aa25a99d2ea6715d059d7e4de58d"
#define G_FILE_TWO_TAG0	  "21da8377abf5cc8d18967343de22049a"
#define G_FILE_TWO_BLOCK1                                                                          \
	"101112131415161718191a1b949977632ee4f64a3111d43d5c585d7866ed8df5b48e66ddc09aa872223dc39e" \
	"59cc1adc0b299b335dff4419b32fa42583a09d09bc9922543b5d42b2214e13e4b393a3ad0b3b79e268f873de" \
	"19e80e9dfff543258e09b10059ee42b7530cf461d5b6489cb014fe24be3cf93a1dcda636d7cd77df"
#define G_HEADER_MOVING                                                                            \
	"5645494c00020200a0a1a2a3a4a5a6a7a8a9aaabacadaeaf7da5aa06858d8bb1c100fd8292e10d83686c997d" \
	"d6fcbb0713fa2da071de231be9f430df646200a9bb34919a209261ec"
#define G_SIV_LFILE                                                                                \
	"4fa04d5cb6460dfbdc79520ce553ecf6a41c36e3ee1880613e9ca91cc8fe2b00c3f33fa8696a4fdd727f7520" \
	"9577ba2beeaa3cf9016d626a834babc3a467aa0564ff07831fa1899f1fb41c6ffcb8812424b6b1bec5c4dc42" \
	"45814d042771fbcfc9fc4a067672759ea60b103c1f70188f144a96bbd5cd1e6f7f80847bf7509a1016222c06" \
	"ea8dfdb5f2dad826415393eccce051c54bf3896eab2c55df7344902c96993c49ce3a8d33ab88477f02e9d2aa" \
	"83f86727a263fa87e2b72f831115c1455b369061758eb188364d6737300a7906049018b77fa4f5be4ca560e1" \
	"f101ed78e606c817ffe739884554d37088c69d0d"
#define G_N_LFILE "8jbqijxhn2ykmaqjyqourfsald4cynb37kpbqs7zjmsm6hx22emwq"
#define G_HEADER_LONG                                                                              \
	"5645494c00020100a0a1a2a3a4a5a6a7a8a9aaabacadaeaf686c997dd6fcbb0713fa2da071de231b253163aa" \
	"a39f3bb33185b673703f2cd600f04fa04d5cb6460dfbdc79520ce553ecf6a41c36e3ee1880613e9ca91cc8fe" \
	"2b00c3f33fa8696a4fdd727f75209577ba2beeaa3cf9016d626a834babc3a467aa0564ff07831fa1899f1fb4" \
	"1c6ffcb8812424b6b1bec5c4dc4245814d042771fbcfc9fc4a067672759ea60b103c1f70188f144a96bbd5cd" \
	"1e6f7f80847bf7509a1016222c06ea8dfdb5f2dad826415393eccce051c54bf3896eab2c55df7344902c9699" \
	"3c49ce3a8d33ab88477f02e9d2aa83f86727a263fa87e2b72f831115c1455b369061758eb188364d6737300a" \
	"7906049018b77fa4f5be4ca560e1f101ed78e606c817ffe739884554d37088c69d0d00000000000000000000" \
	"0000000000000000000000000000000000000000000096100fd9991e2078e192e5673875918b"
#define G_EMPTY_BLOCK "000102030405060708090a0b8b714497140959ae6b3c3250be02e73a"
#define G_N_LOBJ      "8vttl33b7oir2jhtxom5jhw7bs4jxer2alewgq4whlrmvgxujlprq"
#define G_HEADER_LONG_OBJECT                                                                       \
	"5645494c00020500a0a1a2a3a4a5a6a7a8a9aaabacadaeaf7da5aa06858d8bb1c100fd8292e10d83c000d961" \
	"bddae6dcf668b7f5dc99cfa500e036413f9f3ee86f4834ec833a72f6015443fda17e3374861f6d0ea9cbccbb" \
	"adafce087372e7b1998b3c5a1c601d424a010be12d6e116b997f7fe8388e629aac084a2769fdd6f08bcdfd71" \
	"4864e24072be8df2b340bd57501b0ed35679bf813958806ac5be5aa48800e6ee02431ceafeb7c2ec39a36c61" \
	"003c642bdfdf9910e870810ee4366afeffb7bbb3a53944c7645ef76474acd4e51bfdea9ce854488ca702796c" \
	"f644d812b68a02be066e7e136280aeed1f2c1f57e66fd33a10ff28cde8b3824aca059183cec0ced45fc0dadd" \
	"9fd9533e4fcab720fc5053a45fdf367e27340000000000000000000000000000000000000000000000000000" \
	"0000000000000000000000000000000000000000000074eec606290cf9a7d24fd2ad3d065c8b"
#define G_F_LINK "1dx2cakoqgzsix6saotrdfti3rewepdkoux2vhfsc7d3uu7pbwubq"
#define G_FILE_SYMLINK                                                                             \
	"5645494c00020400a0a1a2a3a4a5a6a7a8a9aaabacadaeaf7da5aa06858d8bb1c100fd8292e10d83c000d961" \
	"bddae6dcf668b7f5dc99cfa539e6ff502e74a0cdc201906b09566a36000102030405060708090a0b6dac7eef" \
	"ac391a1ff2599f88d5ddd23171d8520a53b61fb0e395799a"
#define G_CONFIG_HEAD(features)                                                                    \
	"# veilfs vault configuration; see veilfs.conf(5). Do not edit: wrapped_key "              \
	"authenticates every line.\n"                                                              \
	"format = 2\nfeatures =" features "\nblock_size = 4096\nname_max = 220\nkdf = scrypt\n"    \
	"scrypt_log2_n = 16\nscrypt_r = 8\nscrypt_p = 1\n"                                         \
	"salt = 1111111111111111111111111111111111111111111111111111111111111111\n"                \
	"wrap_nonce = 222222222222222222222222\n"
#define G_CONFIG                                                                                   \
	G_CONFIG_HEAD("")                                                                          \
	"wrapped_key = fcbb5f3c2c8117679d571ba3a95a3673d2186220c1f252989f838d45"                   \
	"89a884f9e88d989e7e7ada7fea8af050967aac00\n"
#define G_CONFIG_UPGRADING                                                                         \
	G_CONFIG_HEAD(" upgrading")                                                                \
	"wrapped_key = fcbb5f3c2c8117679d571ba3a95a3673d2186220c1f252"                             \
	"989f838d4589a884f9a13d53f1963f8f9bcabbe05ebb64bf81\n"
#define G_RECOVERY                                                                                 \
	"000GC-40R4Y-0M301-E209M-185G2-R38EE-1W810-24GKG-2GAH0-C5RR1-34D1A-P70XT-3RFPH-63804"
#define G_FNV_COPY "fbfabefc7c02c2d9" /* FNV-1a-64 of G_F_HELLO " (conflicted copy 2025-02-10)" */

/* ------------------------------------------------------------------ fixtures */

static struct vl_keys *K;
static uint8_t master[32], fid[16], n0[12], n1[12], zero16[16];
static uint8_t id_root[16], t_root[16], id_docs[16], t_docs[16], id_work[16], t_work[16];
static uint8_t siv_lfile[VL_HDR_NAME_MAX];
static uint8_t two_pt[4196];

/* G_ hex to bytes; exits on a bad constant (a defect of this file, not of the library). */
static size_t H(const char *hex, uint8_t *out, size_t cap)
{
	int n = unhex(hex, out, cap);

	if (n < 0) {
		fprintf(stderr, "bad hex constant\n");
		exit(99);
	}
	return (size_t)n;
}

static void set_place(struct vl_place *p, const uint8_t parent[16], const char *name)
{
	memset(p, 0, sizeof(*p));
	memcpy(p->parent, parent, 16);
	p->namelen = strlen(name);
	memcpy(p->name, name, p->namelen + 1);
}

/* The MAC of FORMAT.md §3.1 / §5.1 recomputed over buf (whose last 16 bytes are the MAC), so
 * that a rule behind the MAC can be tested on its own. */
static void remac(const char *prefix, uint8_t *buf, size_t len)
{
	uint8_t msg[2048], mac[32];
	size_t pl = strlen(prefix);

	if (len < 16 || pl + len > sizeof(msg))
		abort();
	memcpy(msg, prefix, pl);
	memcpy(msg + pl, buf, len - 16);
	if (vl_hmac_sha256(mac, K->meta, 32, msg, pl + len - 16) != 0)
		abort();
	memcpy(buf + len - 16, mac, 16);
}

static bool all_bytes(const void *p, size_t len, uint8_t v)
{
	for (size_t i = 0; i < len; i++)
		if (((const uint8_t *)p)[i] != v)
			return false;
	return true;
}

/* The header parser refuses buf[0..len) and fills nothing. */
static bool header_refused(const uint8_t *buf, size_t len)
{
	struct vl_header h;

	memset(&h, 0x5a, sizeof(h));
	return vl_header2_parse(K, buf, len, &h) == -EIO && all_bytes(&h, sizeof(h), 0x5a);
}

static bool idfile_refused(const uint8_t *buf, size_t len)
{
	struct vl_idfile f;

	memset(&f, 0x5a, sizeof(f));
	return vl_idfile_parse(K, buf, len, &f) == -EIO && all_bytes(&f, sizeof(f), 0x5a);
}

/* ------------------------------------------------------------------ 1. the bytes */

static void test_keys_and_ids(void)
{
	ok_hex(K->content, 32, G_K_CONTENT, "K_content");
	ok_hex(K->object, 32, G_K_OBJECT, "K_object");
	ok_hex(K->names, 64, G_K_NAMES, "K_names");
	ok_hex(K->dirid, 32, G_K_DIRID, "K_dirid");
	ok_hex(K->xattr_names, 64, G_K_XATTR_NAMES, "K_xattr-names");
	ok_hex(K->xattr_values, 32, G_K_XATTR_VALUES, "K_xattr-values");
	ok_hex(K->meta, 32, G_K_META, "K_meta (HKDF info veilfs/v2/meta)");
	ok(vl_dirid_root(K, id_root) == 0, "ID_root derives");
	ok_hex(id_root, 16, G_ID_ROOT, "ID_root");
}

static void test_dirs(void)
{
	char enc[VL_ENCNAME_MAX + 1], disk[VL_ENCNAME_MAX + 1], ln[VL_LONGNAME_LEN + 1];
	uint8_t buf[VL_IDFILE_MAX], tok[16], id[16];
	struct vl_idfile f, back;
	int n;

	ok(vl_place_token(K, id_root, zero16, "", 0, t_root) == 0, "root place token computes");
	ok_hex(t_root, 16, G_T_ROOT, "T(ID_root, 0^16, empty): the root's place token");

	memset(&f, 0, sizeof(f));
	memcpy(f.id, id_root, 16);
	f.nplaces = 1;
	set_place(&f.place[0], zero16, "");
	n = vl_idfile_build(K, &f, buf, sizeof(buf));
	ok(n == 70, "root ID file is 70 bytes (%d)", n);
	ok_hex(buf, 70, G_IDFILE_ROOT, "root ID file (ptoken zeros, root place)");
	ok(vl_idfile_parse(K, buf, 70, &back) == 0 && memcmp(back.id, id_root, 16) == 0 &&
		   back.nplaces == 1 && back.place[0].namelen == 0 && all_bytes(back.ptoken, 16, 0),
	   "root ID file parses back");

	/* the child directory "docs" of the root */
	n = vl_name_encrypt(K, id_root, "docs", 4, VL_KIND_PLAIN, enc, sizeof(enc));
	ok(n == 52 && strcmp(enc, G_F_DOCS) == 0, "F of \"docs\" in the root");
	ok(vl_dirid_derive(K, id_root, G_F_DOCS, 52, id_docs) == 0, "ID_docs derives");
	ok_hex(id_docs, 16, G_ID_DOCS, "derived ID of docs: HMAC(K_dirid, ID_root || F)");
	ok(vl_place_token(K, id_docs, id_root, G_F_DOCS, 52, t_docs) == 0,
	   "token of docs computes");
	ok_hex(t_docs, 16, G_T_DOCS, "T(ID_docs, ID_root, F_docs)");
	memcpy(f.id, id_docs, 16);
	memcpy(f.ptoken, t_root, 16);
	set_place(&f.place[0], id_root, G_F_DOCS);
	n = vl_idfile_build(K, &f, buf, sizeof(buf));
	ok(n == 122, "ID file of docs is 36 + 18 + 52 + 16 bytes (%d)", n);
	ok_hex(buf, 122, G_IDFILE_DOCS, "ID file of docs (ptoken T_root, one place)");
	ok(vl_idfile_parse(K, buf, 122, &back) == 0 && memcmp(back.id, id_docs, 16) == 0 &&
		   memcmp(back.ptoken, t_root, 16) == 0 && back.nplaces == 1 &&
		   memcmp(back.place[0].parent, id_root, 16) == 0 &&
		   strcmp(back.place[0].name, G_F_DOCS) == 0,
	   "ID file of docs parses back");

	/* renamed to "documents" in the root: two places, the new one first (§5.2 step 1) */
	n = vl_name_encrypt(K, id_root, "documents", 9, VL_KIND_PLAIN, enc, sizeof(enc));
	ok(n == 52 && strcmp(enc, G_F_DOCUMENTS) == 0, "F of \"documents\" in the root");
	f.nplaces = 2;
	set_place(&f.place[0], id_root, G_F_DOCUMENTS);
	set_place(&f.place[1], id_root, G_F_DOCS);
	n = vl_idfile_build(K, &f, buf, sizeof(buf));
	ok(n == 192, "two-place ID file is 192 bytes (%d)", n);
	ok_hex(buf, 192, G_IDFILE_DOCS_RENAMING, "ID file of docs during its rename (TWO_PLACES)");
	ok(vl_idfile_parse(K, buf, 192, &back) == 0 && back.nplaces == 2 &&
		   strcmp(back.place[0].name, G_F_DOCUMENTS) == 0 &&
		   strcmp(back.place[1].name, G_F_DOCS) == 0,
	   "two-place ID file parses back, places in order");

	/* docs moved into "work" as "old": the ptoken is the destination parent's token */
	n = vl_name_encrypt(K, id_root, "work", 4, VL_KIND_PLAIN, enc, sizeof(enc));
	ok(n == 52 && strcmp(enc, G_F_WORK) == 0, "F of \"work\" in the root");
	ok(vl_dirid_derive(K, id_root, G_F_WORK, 52, id_work) == 0 &&
		   vl_place_token(K, id_work, id_root, G_F_WORK, 52, t_work) == 0,
	   "ID and token of work compute");
	ok_hex(id_work, 16, G_ID_WORK, "ID_work");
	ok_hex(t_work, 16, G_T_WORK, "T_work");
	n = vl_name_encrypt(K, id_work, "old", 3, VL_KIND_PLAIN, enc, sizeof(enc));
	ok(n == 52 && strcmp(enc, G_F_OLD) == 0, "F of \"old\" in work");
	memcpy(f.ptoken, t_work, 16);
	set_place(&f.place[0], id_work, G_F_OLD);
	n = vl_idfile_build(K, &f, buf, sizeof(buf));
	ok(n == 192, "cross-parent two-place ID file is 192 bytes (%d)", n);
	ok_hex(buf, 192, G_IDFILE_DOCS_MOVING, "ID file of docs moving into work as old");
	ok(vl_place_token(K, id_docs, id_work, G_F_OLD, 52, tok) == 0, "token of docs at old");
	ok_hex(tok, 16, G_T_DOCS_AT_OLD, "T(ID_docs, ID_work, F_old)");

	/* a long-named directory: 'D' x 200 */
	char dname[201];
	memset(dname, 'D', 200);
	dname[200] = '\0';
	n = vl_name_encrypt(K, id_root, dname, 200, VL_KIND_PLAIN, enc, sizeof(enc));
	ok(n == 359 && strcmp(enc, G_F_LDIR) == 0, "F of a 200-byte directory name (359 chars)");
	ok(vl_place_disk_name(G_F_LDIR, 359, 220, disk) == 53 && strcmp(disk, G_N_LDIR) == 0,
	   "its on-disk name is 8 || b32(SHA-256(F))");
	ok(vl_name_long(G_F_LDIR, 359, ln) == 0 && strcmp(ln, G_N_LDIR) == 0,
	   "vl_name_long gives the same on-disk name");
	ok(vl_place_disk_name(G_F_DOCS, 52, 220, disk) == 52 && strcmp(disk, G_F_DOCS) == 0,
	   "a short F is its own on-disk name");
	ok(vl_place_disk_name(G_F_LDIR, 359, 255, disk) == 53, "359 > name_max 255: still long");
	ok(vl_dirid_derive(K, id_root, G_F_LDIR, 359, id) == 0, "long directory ID derives");
	ok_hex(id, 16, G_ID_LDIR, "derived ID of the long-named directory (from F)");
	ok(vl_dirid_derive(K, id_root, G_N_LDIR, 53, tok) == 0, "name-lost ID derives");
	ok_hex(tok, 16, G_ID_LDIR_NAME_LOST, "derived ID of it with its name lost (from N, §5.4)");
	ok(vl_place_token(K, id, id_root, G_N_LDIR, 53, tok) == 0, "long directory token");
	ok_hex(tok, 16, G_T_LDIR, "T(ID_ldir, ID_root, N): tokens use the on-disk name");
	memcpy(f.id, id, 16);
	memcpy(f.ptoken, t_root, 16);
	f.nplaces = 1;
	set_place(&f.place[0], id_root, G_F_LDIR);
	n = vl_idfile_build(K, &f, buf, sizeof(buf));
	ok(n == 429, "ID file of the long-named directory is 429 bytes (%d)", n);
	ok_hex(buf, 429, G_IDFILE_LDIR, "ID file of the long-named directory (keeps F)");
}

static void test_files(void)
{
	uint8_t buf[8192], sum[32], pt[8192];
	char enc[VL_ENCNAME_MAX + 1], disk[VL_ENCNAME_MAX + 1];
	struct vl_filekey *fk = NULL, *fo = NULL;
	struct vl_header h, back;
	bool object = true;
	int n;

	n = vl_name_encrypt(K, id_docs, "hello.txt", 9, VL_KIND_PLAIN, enc, sizeof(enc));
	ok(n == 52 && strcmp(enc, G_F_HELLO) == 0, "F of \"hello.txt\" in docs");

	memset(&h, 0, sizeof(h));
	memcpy(h.id, fid, 16);
	memcpy(h.parent, id_docs, 16);
	memcpy(h.token, t_docs, 16);
	n = vl_header2_build(K, &h, buf, sizeof(buf));
	ok(n == VL_HEADER_SHORT_LEN, "short header is 72 bytes (%d)", n);
	ok_hex(buf, 72, G_HEADER_SHORT, "short header (parent ID_docs, token T_docs)");
	ok(vl_header2_parse(K, buf, 72, &back) == 0 && back.flags == 0 &&
		   memcmp(back.id, fid, 16) == 0 && memcmp(back.parent, id_docs, 16) == 0 &&
		   memcmp(back.token, t_docs, 16) == 0,
	   "short header parses back");

	ok(vl_filekey_new(&fk, K, VL_STREAM_CONTENT, fid) == 0, "content file key derives");
	ok(vl_block_seal_nonce(fk, 0, true, n0, (const uint8_t *)"", 0, buf + 72, 28) == 0,
	   "the empty final block seals");
	ok_hex(buf, 100, G_FILE_EMPTY, "empty file: header || empty final block (100 bytes)");
	ok(vl_block_open(fk, 0, true, buf + 72, 28, pt, sizeof(pt)) == 0,
	   "the empty final block opens as last");
	ok(vl_block_open(fk, 0, false, buf + 72, 28, pt, sizeof(pt)) == -EIO,
	   "the empty block does not open as a non-final block");

	ok(vl_block_seal_nonce(fk, 0, true, n0, (const uint8_t *)"veilfs golden block", 19,
			       buf + 72, 47) == 0,
	   "one-block file seals");
	ok_hex(buf, 72 + 47, G_FILE_ONE_BLOCK, "file of one block");

	/* two blocks: 4096 + 100 bytes */
	for (size_t i = 0; i < sizeof(two_pt); i++)
		two_pt[i] = (uint8_t)(i * 7 + 3);
	ok(vl_block_seal_nonce(fk, 0, false, n0, two_pt, 4096, buf + 72, 4124) == 0 &&
		   vl_block_seal_nonce(fk, 1, true, n1, two_pt + 4096, 100, buf + 72 + 4124, 128) ==
			   0,
	   "two-block file seals");
	ok(vl_sha256(sum, buf, 72 + 4124 + 128) == 0, "sha256");
	ok_hex(sum, 32, G_FILE_TWO_SHA256, "file of two blocks (SHA-256 of 4324 bytes)");
	ok_hex(buf + 72 + 4108, 16, G_FILE_TWO_TAG0, "tag of block 0 (last = 0)");
	ok_hex(buf + 72 + 4124, 128, G_FILE_TWO_BLOCK1, "block 1 (last = 1)");
	vl_filekey_free(fk);

	/* moving header: docs/hello.txt -> /hello.txt */
	h.flags = VL_HDR_MOVING;
	memcpy(h.parent, id_root, 16);
	memcpy(h.token, id_docs, 16);
	n = vl_header2_build(K, &h, buf, sizeof(buf));
	ok(n == 72, "moving header is short");
	ok_hex(buf, 72, G_HEADER_MOVING, "moving header (parent ID_root, token ID_docs, flag 2)");

	/* long header: a 210-byte name in docs */
	char lname[211];
	memset(lname, 'L', 200);
	memcpy(lname + 200, "-long.txtx", 10);
	lname[210] = '\0';
	n = vl_name_encrypt(K, id_docs, lname, 210, VL_KIND_PLAIN, enc, sizeof(enc));
	ok(n == 384, "F of a 210-byte name is 384 chars (%d)", n);
	n = vl_name_siv_from_full(enc, (size_t)n, siv_lfile, sizeof(siv_lfile), &object);
	ok(n == 240 && !object, "its SIV output is 240 bytes");
	ok_hex(siv_lfile, 240, G_SIV_LFILE, "SIV output V || C of the long name");
	ok(vl_place_disk_name(enc, 384, 220, disk) == 53 && strcmp(disk, G_N_LFILE) == 0,
	   "on-disk long name of the long entry");
	ok(vl_name_classify(G_N_LFILE, 53) == VL_ONDISK_LONG, "it classifies as LONG");
	ok(vl_name_full_from_siv(false, siv_lfile, 240, disk) == 384 && strcmp(disk, enc) == 0,
	   "F recomputed from the header's SIV output");
	h.flags = VL_HDR_LONG;
	memcpy(h.parent, id_docs, 16);
	memcpy(h.token, t_docs, 16);
	h.namelen = 240;
	memcpy(h.name, siv_lfile, 240);
	n = vl_header2_build(K, &h, buf, sizeof(buf));
	ok(n == VL_HEADER_LONG_LEN, "long header is 346 bytes (%d)", n);
	ok_hex(buf, 346, G_HEADER_LONG, "long header (n = 240, zero padding)");
	memset(&back, 0, sizeof(back));
	ok(vl_header2_parse(K, buf, 346, &back) == 0 && back.flags == VL_HDR_LONG &&
		   back.namelen == 240 && memcmp(back.name, siv_lfile, 240) == 0,
	   "long header parses back with its name");

	/* a symlink object in the root */
	n = vl_name_encrypt(K, id_root, "link", 4, VL_KIND_OBJECT, enc, sizeof(enc));
	ok(n == 53 && strcmp(enc, G_F_LINK) == 0, "F of the symlink \"link\" (marker 1)");
	memset(&h, 0, sizeof(h));
	h.flags = VL_HDR_OBJECT;
	memcpy(h.id, fid, 16);
	memcpy(h.parent, id_root, 16);
	memcpy(h.token, t_root, 16);
	ok(vl_header2_build(K, &h, buf, sizeof(buf)) == 72 &&
		   vl_filekey_new(&fo, K, VL_STREAM_OBJECT, fid) == 0 &&
		   vl_block_seal_nonce(fo, 0, true, n0, (const uint8_t *)"l/tmp/target", 12,
				       buf + 72, 40) == 0,
	   "symlink object seals");
	ok_hex(buf, 112, G_FILE_SYMLINK, "symlink object file (flag 4, K_object)");
	vl_filekey_free(fo);

	/* a long object: the marker of F comes from the OBJECT flag */
	char oname[201];
	memset(oname, 'S', 200);
	oname[200] = '\0';
	n = vl_name_encrypt(K, id_root, oname, 200, VL_KIND_OBJECT, enc, sizeof(enc));
	ok(n == 360 && enc[0] == '1', "F of a 200-byte symlink name: marker + 359 chars");
	ok(n == 360 && vl_place_disk_name(enc, 360, 220, disk) == 53 && strcmp(disk, G_N_LOBJ) == 0,
	   "on-disk name of the long symlink hashes F with its marker");
	n = n == 360 ? vl_name_siv_from_full(enc, 360, h.name, sizeof(h.name), &object) : -1;
	ok(n == 224 && object, "its SIV output is 224 bytes, object kind");
	h.flags = VL_HDR_LONG | VL_HDR_OBJECT;
	h.namelen = 224;
	ok(vl_header2_build(K, &h, buf, sizeof(buf)) == VL_HEADER_LONG_LEN,
	   "long object header builds");
	ok_hex(buf, 346, G_HEADER_LONG_OBJECT, "long object header (flags LONG | OBJECT)");
}

static void test_sizes(void)
{
	struct vl_layout s = vl_layout_of(VL_FORMAT_V2, 4096, false);
	struct vl_layout l = vl_layout_of(VL_FORMAT_V2, 4096, true);
	uint64_t p = 77;

	ok(vl_cipher_size(&s, 0) == 100 && vl_cipher_size(&l, 0) == 374,
	   "empty file: 100 bytes (short name), 374 (long name)");
	ok(vl_cipher_size(&s, 19) == 119 && vl_cipher_size(&s, 4196) == 4324,
	   "one- and two-block files have the vectors' sizes");
	ok(vl_plain_size(&s, 100, &p) == 0 && p == 0, "100 bytes: size 0");
	ok(vl_plain_size(&s, 119, &p) == 0 && p == 19, "119 bytes: size 19");
	ok(vl_plain_size(&s, 4324, &p) == 0 && p == 4196, "4324 bytes: size 4196");
	ok(vl_plain_size(&s, 72 + 4124, &p) == 0 && p == 4096, "a full block: size 4096");
	ok(vl_plain_size(&s, 0, &p) == -EIO && vl_plain_size(&s, 72, &p) == -EIO &&
		   vl_plain_size(&s, 99, &p) == -EIO,
	   "0 bytes, the header alone, and a torn empty block are invalid");
	ok(vl_plain_size(&s, 72 + 4124 + 28, &p) == -EIO &&
		   vl_plain_size(&s, 72 + 4124 + 1, &p) == -EIO,
	   "a full block followed by 1 or 28 bytes is invalid (torn block)");
	ok(vl_plain_size(&l, 374, &p) == 0 && p == 0 && vl_plain_size(&l, 346, &p) == -EIO &&
		   vl_plain_size(&l, 100, &p) == -EIO,
	   "long header: 374 is empty, 346 and 100 are invalid");
}

static void test_config(void)
{
	static const char *texts[2] = {G_CONFIG, G_CONFIG_UPGRADING};
	char err[256] = "", out[VL_CONFIG_MAX + 1];
	struct vl_config cfg;
	uint8_t m[32];

	for (int i = 0; i < 2; i++) {
		const char *t = texts[i];

		err[0] = '\0';
		ok(vl_config_parse(t, strlen(t), &cfg, err, sizeof(err)) == 0 && cfg.format == 2 &&
			   cfg.upgrading == (i == 1) && cfg.scrypt_log2_n == 16,
		   "format-2 config%s parses (%s)", i ? " with features = upgrading" : "", err);
		ok(vl_config_format(&cfg, out, sizeof(out)) == (int)strlen(t) &&
			   strcmp(out, t) == 0,
		   "format-2 config%s re-serialises byte for byte", i ? " (upgrading)" : "");
		memset(m, 0, sizeof(m));
		ok(vl_config_unwrap(&cfg, "golden", 6, m) == 0 && memcmp(m, master, 32) == 0,
		   "format-2 config%s unwraps the master key with \"golden\"",
		   i ? " (upgrading)" : "");
		cfg.upgrading = !cfg.upgrading;
		ok(vl_config_unwrap(&cfg, "golden", 6, m) == -EACCES,
		   "toggling the upgrading flag%s fails the wrap tag", i ? " off" : " on");
	}
}

/* A config text with the golden fields but the given format and features lines. */
static void cfg_text(char *out, size_t cap, const char *format, const char *features)
{
	snprintf(out, cap,
		 "# veilfs vault configuration; see veilfs.conf(5). Do not edit: wrapped_key "
		 "authenticates every line.\nformat = %s\nfeatures =%s\nblock_size = 4096\n"
		 "name_max = 220\nkdf = scrypt\nscrypt_log2_n = 16\nscrypt_r = 8\nscrypt_p = 1\n"
		 "salt = 1111111111111111111111111111111111111111111111111111111111111111\n"
		 "wrap_nonce = 222222222222222222222222\nwrapped_key = %s\n",
		 format, features,
		 "fcbb5f3c2c8117679d571ba3a95a3673d2186220c1f252989f838d4589a884f9e88d989e7e7ada7fe"
		 "a8af050967aac00");
}

static void test_config_rules(void)
{
	static const struct {
		const char *format, *features, *why;
		int want;
	} cases[] = {
		{"2", "", "control: format 2, no features", 0},
		{"2", " upgrading", "control: format 2, upgrading", 0},
		{"1", " upgrading", "format 1 defines no feature: upgrading refused",
		 -EPROTONOSUPPORT},
		{"2", " upgrading,upgrading", "a repeated feature refused", -EINVAL},
		{"2", " upgrading,frobnicate", "an unknown feature refused", -EPROTONOSUPPORT},
		{"3", "", "format 3 refused", -EPROTONOSUPPORT},
		{"02", "", "format 02 (leading zero) refused", -EINVAL},
	};
	char t[VL_CONFIG_MAX], err[256];
	struct vl_config cfg;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int r;

		cfg_text(t, sizeof(t), cases[i].format, cases[i].features);
		err[0] = '\0';
		r = vl_config_parse(t, strlen(t), &cfg, err, sizeof(err));
		ok(cases[i].want == 0 ? r == 0 : r < 0, "config: %s (%d: %s)", cases[i].why, r,
		   err);
	}
}

static void test_recovery_fnv(void)
{
	char code[VL_RECOVERY_MAX], err[128] = "", out[300], disk[128];
	uint8_t m[32];
	int n;

	n = vl_recovery_encode(master, code, sizeof(code));
	ok(n == (int)strlen(G_RECOVERY) && strcmp(code, G_RECOVERY) == 0,
	   "recovery code of master 00..1f");
	if (n > 0 && strcmp(code, G_RECOVERY) != 0)
		diag("got %s", code);
	memset(m, 0, sizeof(m));
	ok(vl_recovery_decode(G_RECOVERY, strlen(G_RECOVERY), m, err, sizeof(err)) == 0 &&
		   memcmp(m, master, 32) == 0,
	   "the reference's recovery code decodes to the master key (%s)", err);

	snprintf(disk, sizeof(disk), "%s (conflicted copy 2025-02-10)", G_F_HELLO);
	n = vl_conflict_fallback_plain("x", 1, disk, strlen(disk), out, sizeof(out));
	ok(n == (int)strlen("x {conflict " G_FNV_COPY "}") &&
		   strcmp(out, "x {conflict " G_FNV_COPY "}") == 0,
	   "fallback form: FNV-1a-64 of the on-disk name (%s)", n > 0 ? out : "error");
}

/* ------------------------------------------------------------------ 2. tamper */

struct field {
	const char *name;
	size_t off, len;
};

/* Every byte of every field flipped (two bits each): refused, nothing filled. One test point
 * per field. */
static void tamper_fields(const char *what, const uint8_t *valid, size_t len,
			  const struct field *fl, size_t nf,
			  bool (*refused)(const uint8_t *, size_t))
{
	uint8_t *b = malloc(len);

	if (!b)
		abort();
	for (size_t i = 0; i < nf; i++) {
		int bad = 0;

		for (size_t j = fl[i].off; j < fl[i].off + fl[i].len; j++) {
			for (int bit = 0; bit < 8; bit += 7) {
				memcpy(b, valid, len);
				b[j] ^= (uint8_t)(1u << bit);
				if (!refused(b, len))
					bad++;
			}
		}
		ok(bad == 0 && fl[i].off + fl[i].len <= len,
		   "%s: every byte of %s flipped: refused (%d accepted)", what, fl[i].name, bad);
	}
	free(b);
}

static void test_header_tamper(void)
{
	static const struct field sf[] = {
		{"magic", 0, 4},    {"version", 4, 2},	{"flags", 6, 1},   {"reserved", 7, 1},
		{"file ID", 8, 16}, {"parent", 24, 16}, {"token", 40, 16}, {"mac", 56, 16},
	};
	static const struct field lf[] = {
		{"magic", 0, 4},      {"version", 4, 2},  {"flags", 6, 1},
		{"reserved", 7, 1},   {"file ID", 8, 16}, {"parent", 24, 16},
		{"token", 40, 16},    {"n", 56, 2},	  {"name (SIV output)", 58, 240},
		{"padding", 298, 32}, {"mac", 330, 16},
	};
	uint8_t s[72], l[346], b[400];
	struct vl_header h;
	int bad;

	H(G_HEADER_SHORT, s, sizeof(s));
	H(G_HEADER_LONG, l, sizeof(l));
	ok(vl_header2_parse(K, s, 72, &h) == 0 && vl_header2_parse(K, l, 346, &h) == 0,
	   "the reference's short and long headers parse");
	tamper_fields("short header", s, 72, sf, sizeof(sf) / sizeof(sf[0]), header_refused);
	tamper_fields("long header", l, 346, lf, sizeof(lf) / sizeof(lf[0]), header_refused);
	H(G_HEADER_MOVING, b, sizeof(b));
	tamper_fields("moving header", b, 72, sf, sizeof(sf) / sizeof(sf[0]), header_refused);

	/* The rules behind the MAC: each header below carries a valid MAC. */
	memcpy(b, s, 72);
	remac("veilfs/v2/header", b, 72);
	ok(memcmp(b, s, 72) == 0 && vl_header2_parse(K, b, 72, &h) == 0,
	   "re-MAC of an unchanged header reproduces the reference's MAC (the cases below test "
	   "the rules, not the MAC)");
#define HCASE(base, blen, edit, desc)                                                              \
	do {                                                                                       \
		memcpy(b, base, blen);                                                             \
		edit;                                                                              \
		remac("veilfs/v2/header", b, blen);                                                \
		ok(header_refused(b, blen), "header with a valid MAC: " desc " refused");          \
	} while (0)
	HCASE(s, 72, b[3] = 'M', "magic VEIM");
	HCASE(s, 72, b[5] = 1, "version 1");
	HCASE(s, 72, b[5] = 3, "version 3");
	HCASE(s, 72, b[7] = 1, "reserved byte 1");
	bad = 0;
	for (int bit = 3; bit < 8; bit++) {
		memcpy(b, s, 72);
		b[6] = (uint8_t)(1u << bit);
		remac("veilfs/v2/header", b, 72);
		bad += !header_refused(b, 72);
	}
	ok(bad == 0, "header with a valid MAC: each unknown flag bit 3..7 refused (%d accepted)",
	   bad);
	HCASE(s, 72, b[6] = VL_HDR_LONG, "LONG flag on a 72-byte header");
	HCASE(l, 346, b[6] = 0, "346-byte header without LONG");
	HCASE(l, 346, b[6] = VL_HDR_LONG | VL_HDR_MOVING, "MOVING with LONG");
	HCASE(l, 346, (b[56] = 0, b[57] = 16), "n = 16");
	HCASE(l, 346, (b[56] = 0, b[57] = 0), "n = 0");
	HCASE(l, 346, (b[56] = 0, b[57] = 248), "n = 248 (not a multiple of 16)");
	HCASE(l, 346, (b[56] = 1, b[57] = 32), "n = 288 (over 272)");
	HCASE(l, 346, b[329] = 1, "a nonzero padding byte");
	HCASE(l, 346, (b[56] = 0, b[57] = 224),
	      "n = 224 leaving the name's last 16 bytes as padding");

	/* lengths */
	ok(header_refused(s, 71) && header_refused(l, 345) && header_refused(l, 72),
	   "a cut header (71, 345 bytes; the first 72 bytes of a long one) is refused");
	memcpy(b, s, 72);
	b[72] = 0;
	ok(header_refused(b, 73), "a short header with one more byte is refused");
	memcpy(b, s, 56);
	memset(b + 56, 0, 290);
	b[6] = VL_HDR_LONG;
	b[56] = 0;
	b[57] = 32;
	memcpy(b + 58, siv_lfile, 32);
	remac("veilfs/v2/header", b, 346);
	ok(vl_header2_parse(K, b, 346, &h) == 0 && h.namelen == 32,
	   "control: a re-MACed long header with n = 32 parses (the builder is right)");
#undef HCASE
}

static void test_idfile_tamper(void)
{
	static const struct field f1[] = {
		{"version", 0, 2},  {"flags", 2, 1},	 {"reserved", 3, 1},
		{"ID", 4, 16},	    {"ptoken", 20, 16},	 {"place parent", 36, 16},
		{"place m", 52, 2}, {"place F", 54, 52}, {"mac", 106, 16},
	};
	static const struct field f2[] = {
		{"flags", 2, 1},
		{"ID", 4, 16},
		{"ptoken", 20, 16},
		{"place 1 parent", 36, 16},
		{"place 1 m", 52, 2},
		{"place 1 F", 54, 52},
		{"place 2 parent", 106, 16},
		{"place 2 m", 122, 2},
		{"place 2 F", 124, 52},
		{"mac", 176, 16},
	};
	static const struct field fr[] = {
		{"ID", 4, 16},	    {"ptoken", 20, 16}, {"place parent", 36, 16},
		{"place m", 52, 2}, {"mac", 54, 16},
	};
	uint8_t d[122], r2[192], rt[70], b[1024];
	struct vl_idfile f;

	H(G_IDFILE_DOCS, d, sizeof(d));
	H(G_IDFILE_DOCS_RENAMING, r2, sizeof(r2));
	H(G_IDFILE_ROOT, rt, sizeof(rt));
	ok(vl_idfile_parse(K, d, 122, &f) == 0 && vl_idfile_parse(K, r2, 192, &f) == 0 &&
		   vl_idfile_parse(K, rt, 70, &f) == 0,
	   "the reference's ID files parse");
	tamper_fields("ID file", d, 122, f1, sizeof(f1) / sizeof(f1[0]), idfile_refused);
	tamper_fields("two-place ID file", r2, 192, f2, sizeof(f2) / sizeof(f2[0]), idfile_refused);
	tamper_fields("root ID file", rt, 70, fr, sizeof(fr) / sizeof(fr[0]), idfile_refused);

	memcpy(b, d, 122);
	remac("veilfs/v2/dirid", b, 122);
	ok(memcmp(b, d, 122) == 0, "re-MAC of an unchanged ID file reproduces the reference's MAC");
#define ICASE(base, blen, edit, desc)                                                              \
	do {                                                                                       \
		memcpy(b, base, blen);                                                             \
		edit;                                                                              \
		remac("veilfs/v2/dirid", b, blen);                                                 \
		ok(idfile_refused(b, blen), "ID file with a valid MAC: " desc " refused");         \
	} while (0)
	ICASE(d, 122, b[1] = 1, "version 1");
	ICASE(d, 122, b[1] = 3, "version 3");
	ICASE(d, 122, b[2] = 2, "unknown flag 2");
	ICASE(d, 122, b[2] = 0x80, "unknown flag 0x80");
	ICASE(d, 122, b[3] = 1, "reserved byte 1");
	ICASE(d, 122, b[2] = 1, "TWO_PLACES with one place");
	ICASE(r2, 192, b[2] = 0, "two places without TWO_PLACES (trailing data)");
	ICASE(d, 122, b[60] = (uint8_t)0x80, "a non-ASCII byte in F");
	ICASE(d, 122, b[53] = 51, "m one short of the place (trailing byte)");
	ICASE(d, 122, b[53] = 53, "m one past the place");
	/* m = 0 outside the root: a place with a parent ID and no name */
	memcpy(b, d, 52);
	b[52] = 0;
	b[53] = 0;
	ok((remac("veilfs/v2/dirid", b, 70), idfile_refused(b, 70)),
	   "ID file with a valid MAC: m = 0 with a nonzero parent refused");
	/* m = 438 (over 437), and the control m = 436 */
	for (int m = 436; m <= 438; m += 2) {
		size_t len = 36 + 18 + (size_t)m + 16;

		memcpy(b, d, 52);
		b[52] = (uint8_t)(m >> 8);
		b[53] = (uint8_t)m;
		memset(b + 54, 'a', (size_t)m);
		remac("veilfs/v2/dirid", b, len);
		if (m == 436)
			ok(vl_idfile_parse(K, b, len, &f) == 0 && f.place[0].namelen == 436,
			   "control: a re-MACed ID file with m = 436 parses");
		else
			ok(idfile_refused(b, len), "ID file with a valid MAC: m = 438 refused");
	}
	ok(idfile_refused(d, 121) && idfile_refused(d, 36 + 18 + 16 - 1),
	   "a cut ID file is refused");
	memcpy(b, d, 122);
	b[122] = 0;
	ok(idfile_refused(b, 123), "an ID file with a trailing byte is refused");
	/* a header MAC is not an ID-file MAC: same key, other prefix */
	memcpy(b, d, 122);
	remac("veilfs/v2/header", b, 122);
	ok(idfile_refused(b, 122), "an ID file MACed with the header prefix is refused");
#undef ICASE
}

/* ------------------------------------------------------------------ 3. the library */

static int put(int dirfd, const char *name, const char *hex, size_t cut)
{
	uint8_t buf[8192];
	size_t n = H(hex, buf, sizeof(buf));
	int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);

	if (cut && cut < n)
		n = cut;
	if (fd < 0 || write(fd, buf, n) != (ssize_t)n) {
		perror(name);
		exit(99);
	}
	close(fd);
	return 0;
}

static int put_bytes(int dirfd, const char *name, const void *p, size_t n)
{
	int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);

	if (fd < 0 || write(fd, p, n) != (ssize_t)n) {
		perror(name);
		exit(99);
	}
	close(fd);
	return 0;
}

static int mkdir_open(int dirfd, const char *name)
{
	int fd;

	if (mkdirat(dirfd, name, 0700) < 0 ||
	    (fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		perror(name);
		exit(99);
	}
	return fd;
}

/* Reads a whole small file into buf; its length or -1. */
static ssize_t slurp(int dirfd, const char *name, uint8_t *buf, size_t cap)
{
	int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, cap);
	close(fd);
	return n;
}

struct listing {
	char names[16][256];
	int n;
};

static int list_cb(void *ctx, const struct vl_dirent *de)
{
	struct listing *l = ctx;

	if (l->n < 16)
		snprintf(l->names[l->n], 256, "%s", de->name);
	l->n++;
	return 0;
}

static bool listed(const struct listing *l, const char *name)
{
	for (int i = 0; i < l->n && i < 16; i++)
		if (strcmp(l->names[i], name) == 0)
			return true;
	return false;
}

struct hidden {
	char disk[8][256];
	enum vl_hidden why[8];
	int n;
};

static void hidden_cb(void *ctx, const char *disk, enum vl_hidden why)
{
	struct hidden *h = ctx;

	if (h->n < 8) {
		snprintf(h->disk[h->n], 256, "%s", disk);
		h->why[h->n] = why;
	}
	h->n++;
}

static bool was_hidden(const struct hidden *h, const char *disk, enum vl_hidden why)
{
	for (int i = 0; i < h->n && i < 8; i++)
		if (strcmp(h->disk[i], disk) == 0 && h->why[i] == why)
			return true;
	return false;
}

/* A format-2 file with header h (MACed here) and an empty final block under stream s. */
static void put_header_file(int dirfd, const char *name, const struct vl_header *h,
			    enum vl_stream s)
{
	uint8_t buf[VL_HEADER_LONG_LEN + VL_BLOCK_OVERHEAD];
	struct vl_filekey *fk = NULL;
	int n = vl_header2_build(K, h, buf, sizeof(buf));

	if (n < 0 || vl_filekey_new(&fk, K, s, h->id) != 0 ||
	    vl_block_seal_nonce(fk, 0, true, n0, buf, 0, buf + n, VL_BLOCK_OVERHEAD) != 0)
		exit(99);
	vl_filekey_free(fk);
	put_bytes(dirfd, name, buf, (size_t)n + VL_BLOCK_OVERHEAD);
}

static int hidden_entry_cb(void *ctx, const struct vl_dirent *de)
{
	(void)ctx;
	(void)de;
	return 0;
}

/* Reads the file name in dirfd with binding b: its size and contents. Returns the bytes read
 * or -errno (size errors included). */
static ssize_t read_bound(const struct vl_vault *v, int dirfd, const char *name, enum vl_stream s,
			  const struct vl_binding *b, uint8_t *buf, size_t cap)
{
	struct vl_content *c = NULL;
	uint64_t size = 0;
	ssize_t r;
	int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	r = vl_content_new(&c, v, s, b);
	if (r == 0)
		r = vl_content_size(c, fd, &size);
	if (r == 0)
		r = vl_content_read(c, fd, buf, cap, 0);
	if (r >= 0 && (uint64_t)r != size)
		r = -ERANGE;
	vl_content_free(c);
	close(fd);
	return r;
}

static void bind(struct vl_binding *b, const uint8_t parent[16], const uint8_t tok[16])
{
	memset(b, 0, sizeof(*b));
	memcpy(b->parent, parent, 16);
	memcpy(b->token, tok, 16);
}

static void test_library(void)
{
	char dir[PATH_MAX], err[256] = "", lname[211], full[VL_ENCNAME_MAX + 1];
	uint8_t buf[8192], hdr[400], fi[8192];
	struct vl_dirinfo docs, work, ldir;
	struct vl_binding b;
	struct vl_vault *v = NULL;
	struct listing L;
	struct vl_ename e;
	struct vl_object o;
	struct stat st;
	int root, docsfd, workfd, ldirfd, r;
	struct hidden hid = {.n = 0};
	char enc[VL_ENCNAME_MAX + 1], ln[VL_LONGNAME_LEN + 1], tname[121];
	struct vl_header hh;
	ssize_t n;

	/* A vault made of the reference's bytes only. */
	tc_tmpdir(dir);
	root = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		exit(99);
	put_bytes(root, "veilfs.conf", G_CONFIG, strlen(G_CONFIG));
	put(root, "veilfs.dirid", G_IDFILE_ROOT, 0);
	put(root, G_F_LINK, G_FILE_SYMLINK, 0);
	{
		/* the long symlink: its long header and the symlink's block (hex from offset 72) */
		size_t hl = H(G_HEADER_LONG_OBJECT, fi, sizeof(fi));

		hl += H(G_FILE_SYMLINK + 2 * 72, fi + hl, sizeof(fi) - hl);
		put_bytes(root, G_N_LOBJ, fi, hl);
	}
	docsfd = mkdir_open(root, G_F_DOCS);
	put(docsfd, "veilfs.dirid", G_IDFILE_DOCS, 0);
	put(docsfd, G_F_HELLO, G_FILE_ONE_BLOCK, 0);
	put(docsfd, G_N_LFILE, G_HEADER_LONG G_EMPTY_BLOCK, 0);
	/* the same long file under a long name its header's name does not hash to */
	put(docsfd, "8aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	    G_HEADER_LONG G_EMPTY_BLOCK, 0);
	/* a long header whose F is not longer than name_max, under F's long name (§3.1) */
	memset(&hh, 0, sizeof(hh));
	memcpy(hh.id, fid, 16);
	memcpy(hh.parent, id_docs, 16);
	memcpy(hh.token, t_docs, 16);
	hh.flags = VL_HDR_LONG;
	r = vl_name_encrypt(K, id_docs, "shortname", 9, VL_KIND_PLAIN, enc, sizeof(enc));
	if (r != 52 || vl_name_long(enc, 52, ln) != 0 ||
	    vl_name_siv_from_full(enc, 52, hh.name, sizeof(hh.name), &(bool){false}) != 32)
		exit(99);
	hh.namelen = 32;
	put_header_file(docsfd, ln, &hh, VL_STREAM_CONTENT);
	/* a short on-disk name longer than name_max (120-byte name: 231 characters) (§4.3) */
	memset(tname, 'T', 120);
	tname[120] = '\0';
	r = vl_name_encrypt(K, id_docs, tname, 120, VL_KIND_PLAIN, enc, sizeof(enc));
	if (r != 231)
		exit(99);
	hh.flags = 0;
	hh.namelen = 0;
	put_header_file(docsfd, enc, &hh, VL_STREAM_CONTENT);
	workfd = mkdir_open(root, G_F_WORK);
	ldirfd = mkdir_open(root, G_N_LDIR);
	put(ldirfd, "veilfs.dirid", G_IDFILE_LDIR, 0);

	r = vl_vault_open(&v, dir, NULL, "golden", 6, err, sizeof(err));
	ok(r == 0, "the library opens a vault written from the reference's bytes (%s)", err);
	if (r != 0)
		goto out;
	ok(vl_vault_format(v) == 2 && !vl_vault_upgrading(v), "it is a format-2 vault");
	ok(memcmp(vl_vault_root_id(v), id_root, 16) == 0 &&
		   (vl_vault_root_info(v)->flags & VL_DI_FILE) &&
		   !(vl_vault_root_info(v)->flags & VL_DI_BAD_FILES),
	   "the root's ID file is valid and holds ID_root");

	/* directories */
	r = vl_dirinfo_read(v, docsfd, vl_vault_root_info(v), id_root, G_F_DOCS, 52, G_F_DOCS, 52,
			    &docs);
	ok(r == 0 && memcmp(docs.id, id_docs, 16) == 0 && (docs.flags & VL_DI_FILE) &&
		   !(docs.flags & VL_DI_BAD_FILES),
	   "docs: its ID file is valid for its place (flags %#x)", r == 0 ? docs.flags : 0);
	ok(vl_dirinfo_token(v, &docs, id_docs, buf) == 0 && memcmp(buf, t_docs, 16) == 0,
	   "docs: the library's place token is T_docs");
	ok(vl_dir_ptoken(v, vl_vault_root_info(v), id_root, buf) == 0 &&
		   memcmp(buf, t_root, 16) == 0,
	   "the ptoken for a child of the root is T_root");
	r = vl_dirinfo_read(v, ldirfd, vl_vault_root_info(v), id_root, G_N_LDIR, 53, NULL, 0,
			    &ldir);
	ok(r == 0 && (ldir.flags & VL_DI_FILE) && strcmp(ldir.place.name, G_F_LDIR) == 0,
	   "the long-named directory: ID file valid, F read from it");
	H(G_ID_LDIR, buf, 16);
	ok(r == 0 && memcmp(ldir.id, buf, 16) == 0, "the long-named directory has ID_ldir");
	ok(vl_dir_long_name(v, ldirfd, G_N_LDIR, full) == 359 && strcmp(full, G_F_LDIR) == 0,
	   "vl_dir_long_name reads F from the ID file");
	r = vl_dirinfo_read(v, workfd, vl_vault_root_info(v), id_root, G_F_WORK, 52, G_F_WORK, 52,
			    &work);
	ok(r == 0 && memcmp(work.id, id_work, 16) == 0 && (work.flags & VL_DI_DERIVED),
	   "work without an ID file and children: the derived ID");

	/* listings */
	memset(&L, 0, sizeof(L));
	memset(lname, 'D', 200);
	lname[200] = '\0';
	ok(vl_dir_list(v, root, vl_vault_root_info(v), list_cb, &L) == 0 && L.n == 5 &&
		   listed(&L, "docs") && listed(&L, "work") && listed(&L, "link") &&
		   listed(&L, lname),
	   "the root lists docs, work, link, the 200-byte directory and symlink (%d entries)", L.n);
	memset(lname, 'S', 200);
	ok(listed(&L, lname), "... the 200-byte symlink among them");
	memset(&L, 0, sizeof(L));
	memset(lname, 'L', 200);
	memcpy(lname + 200, "-long.txtx", 11);
	ok(vl_dir_list(v, docsfd, &docs, list_cb, &L) == 0 && L.n == 2 && listed(&L, "hello.txt") &&
		   listed(&L, lname),
	   "docs lists hello.txt and the 210-byte name only (%d entries)", L.n);
	struct vl_listcb cb = {hidden_entry_cb, hidden_cb};
	ok(vl_dir_list2(v, docsfd, &docs, &cb, &hid, NULL) == 0 &&
		   was_hidden(&hid, "8aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
			      VL_HIDDEN_OTHER_ENTRY),
	   "a long file under a long name its header's name does not hash to is hidden, as "
	   "another entry's (§3.1)");
	ok(was_hidden(&hid, ln, VL_HIDDEN_LONG_NAME),
	   "a long header whose F is not longer than name_max is hidden (§3.1, §4.4)");
	ok(was_hidden(&hid, enc, VL_HIDDEN_TOO_LONG),
	   "a short on-disk name longer than name_max is not listed (§4.3)");

	/* files through lookup and binding */
	r = vl_dir_lookup(v, docsfd, &docs, "hello.txt", 9, &e, &st, 0);
	ok(r == 0 && strcmp(e.disk, G_F_HELLO) == 0, "lookup of hello.txt finds F_hello");
	ok(r == 0 && vl_ename_binding(v, &docs, &e, &b) == 0 &&
		   memcmp(b.parent, id_docs, 16) == 0 && memcmp(b.token, t_docs, 16) == 0 &&
		   !b.is_long,
	   "its binding is (ID_docs, T_docs, short)");
	n = read_bound(v, docsfd, G_F_HELLO, VL_STREAM_CONTENT, &b, buf, sizeof(buf));
	ok(n == 19 && memcmp(buf, "veilfs golden block", 19) == 0, "hello.txt reads back (%zd)", n);
	r = vl_dir_lookup(v, docsfd, &docs, lname, 210, &e, &st, 0);
	ok(r == 0 && e.is_long && strcmp(e.disk, G_N_LFILE) == 0 &&
		   vl_ename_binding(v, &docs, &e, &b) == 0 && b.is_long && b.namelen == 240 &&
		   memcmp(b.name, siv_lfile, 240) == 0,
	   "lookup of the long name: N_lfile, binding carries its SIV output");
	n = read_bound(v, docsfd, G_N_LFILE, VL_STREAM_CONTENT, &b, buf, sizeof(buf));
	ok(n == 0, "the long file reads as empty (%zd)", n);
	r = vl_dir_lookup(v, root, vl_vault_root_info(v), "link", 4, &e, &st, 0);
	ok(r == 0 && e.kind == VL_KIND_OBJECT && strcmp(e.disk, G_F_LINK) == 0 &&
		   vl_ename_binding(v, vl_vault_root_info(v), &e, &b) == 0 &&
		   memcmp(b.parent, id_root, 16) == 0 && memcmp(b.token, t_root, 16) == 0,
	   "lookup of link finds the object, bound to (ID_root, T_root)");
	{
		int lfd = openat(root, G_F_LINK, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

		r = lfd < 0 ? -errno : vl_object_read(v, lfd, &b, &o);
		ok(r == 0 && o.type == S_IFLNK && o.tlen == 11 &&
			   strcmp(o.target, "/tmp/target") == 0,
		   "the symlink object reads: /tmp/target (%d)", r);
		if (lfd >= 0)
			close(lfd);
	}

	memset(tname, 0, sizeof(tname));
	{
		char sname[201];
		int lfd;

		memset(sname, 'S', 200);
		sname[200] = '\0';
		r = vl_dir_lookup(v, root, vl_vault_root_info(v), sname, 200, &e, &st, 0);
		ok(r == 0 && e.is_long && e.kind == VL_KIND_OBJECT &&
			   strcmp(e.disk, G_N_LOBJ) == 0 &&
			   vl_ename_binding(v, vl_vault_root_info(v), &e, &b) == 0 && b.is_long,
		   "lookup of the 200-byte symlink: long object entry");
		lfd = openat(root, G_N_LOBJ, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		r = lfd < 0 ? -errno : vl_object_read(v, lfd, &b, &o);
		ok(r == 0 && o.type == S_IFLNK && strcmp(o.target, "/tmp/target") == 0,
		   "the long symlink reads: /tmp/target (%d)", r);
		if (lfd >= 0)
			close(lfd);
	}

	/* the binding rules of §3.1, with files written from the reference's bytes */
	bind(&b, id_work, t_work);
	ok(read_bound(v, docsfd, G_F_HELLO, VL_STREAM_CONTENT, &b, buf, sizeof(buf)) == -EIO,
	   "hello.txt read as if it were in work (parent differs): EIO");
	bind(&b, id_docs, t_root);
	n = read_bound(v, docsfd, G_F_HELLO, VL_STREAM_CONTENT, &b, buf, sizeof(buf));
	ok(n == 19, "a token that is not the directory's current one is not checked on open (%zd)",
	   n);
	bind(&b, id_root, t_root);
	ok(read_bound(v, root, G_F_LINK, VL_STREAM_CONTENT, &b, buf, sizeof(buf)) == -EIO,
	   "the symlink object read as a regular file (OBJECT flag vs kind): EIO");
	bind(&b, id_docs, t_docs);
	{
		int hfd = openat(docsfd, G_F_HELLO, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

		ok(hfd >= 0 && vl_object_read(v, hfd, &b, &o) != 0,
		   "a regular file read as an object: refused");
		if (hfd >= 0)
			close(hfd);
	}
	bind(&b, id_docs, t_docs);
	b.is_long = true;
	b.namelen = 240;
	memcpy(b.name, siv_lfile, 240);
	put(docsfd, "hello-long-header", G_HEADER_LONG G_EMPTY_BLOCK, 0);
	put(docsfd, "empty-short", G_FILE_EMPTY, 0);
	ok(read_bound(v, docsfd, "hello-long-header", VL_STREAM_CONTENT, &b, buf, sizeof(buf)) == 0,
	   "control: the long file reads with the long binding");
	b.is_long = false;
	ok(read_bound(v, docsfd, "hello-long-header", VL_STREAM_CONTENT, &b, buf, sizeof(buf)) ==
		   -EIO,
	   "a long header under a short on-disk name: EIO");
	ok(read_bound(v, docsfd, "empty-short", VL_STREAM_CONTENT, &b, buf, sizeof(buf)) == 0,
	   "control: the empty short file reads with the short binding");
	b.is_long = true;
	ok(read_bound(v, docsfd, "empty-short", VL_STREAM_CONTENT, &b, buf, sizeof(buf)) == -EIO,
	   "a short header under a long on-disk name: EIO");
	b.is_long = false;
	put(docsfd, "cut-to-header", G_FILE_EMPTY, 72);
	put_bytes(docsfd, "cut-to-nothing", "", 0);
	ok(read_bound(v, docsfd, "cut-to-header", VL_STREAM_CONTENT, &b, buf, sizeof(buf)) == -EIO,
	   "an empty file cut to its header: EIO");
	ok(read_bound(v, docsfd, "cut-to-nothing", VL_STREAM_CONTENT, &b, buf, sizeof(buf)) == -EIO,
	   "an empty file cut to nothing: EIO");

	/* a moving header is accepted in both directories and nowhere else (§3.1, §3.5) */
	n = (ssize_t)H(G_HEADER_MOVING, fi, sizeof(fi));
	n += (ssize_t)H(G_FILE_ONE_BLOCK + 2 * 72, fi + n, sizeof(fi) - (size_t)n);
	put_bytes(docsfd, "moving", fi, (size_t)n);
	bind(&b, id_root, t_root);
	ok(read_bound(v, docsfd, "moving", VL_STREAM_CONTENT, &b, buf, sizeof(buf)) == 19,
	   "a moving header reads in the destination (parent)");
	bind(&b, id_docs, t_docs);
	ok(read_bound(v, docsfd, "moving", VL_STREAM_CONTENT, &b, buf, sizeof(buf)) == 19,
	   "a moving header reads in the origin (token field)");
	bind(&b, id_work, t_work);
	ok(read_bound(v, docsfd, "moving", VL_STREAM_CONTENT, &b, buf, sizeof(buf)) == -EIO,
	   "a moving header read in a third directory: EIO");

	/* ID files in the wrong place */
	{
		put(workfd, "veilfs.dirid", G_IDFILE_DOCS, 0);
		r = vl_dirinfo_read(v, workfd, vl_vault_root_info(v), id_root, G_F_WORK, 52,
				    G_F_WORK, 52, &work);
		ok(r == 0 && memcmp(work.id, id_docs, 16) != 0 && (work.flags & VL_DI_BAD_FILES),
		   "docs's ID file dropped into work is not used there (flags %#x)", work.flags);
		(void)unlinkat(workfd, "veilfs.dirid", 0);
		put(workfd, "veilfs.dirid", G_IDFILE_DOCS_MOVING, 0);
		r = vl_dirinfo_read(v, workfd, vl_vault_root_info(v), id_root, G_F_WORK, 52,
				    G_F_WORK, 52, &work);
		ok(r == 0 && memcmp(work.id, id_docs, 16) != 0,
		   "a two-place ID file naming neither place of work is not used there");
		(void)unlinkat(workfd, "veilfs.dirid", 0);
	}
	/* the two-place file is valid at both of its places */
	{
		int dd = mkdir_open(root, G_F_DOCUMENTS);
		struct vl_dirinfo x;

		put(dd, "veilfs.dirid", G_IDFILE_DOCS_RENAMING, 0);
		r = vl_dirinfo_read(v, dd, vl_vault_root_info(v), id_root, G_F_DOCUMENTS, 52,
				    G_F_DOCUMENTS, 52, &x);
		ok(r == 0 && memcmp(x.id, id_docs, 16) == 0 && (x.flags & VL_DI_TWO_PLACES),
		   "the two-place ID file is valid at its new place");
		close(dd);
		dd = mkdir_open(workfd, G_F_OLD);
		put(dd, "veilfs.dirid", G_IDFILE_DOCS_MOVING, 0);
		r = vl_dirinfo_read(v, dd, &work, id_work, G_F_OLD, 52, G_F_OLD, 52, &x);
		ok(r == 0 && memcmp(x.id, id_docs, 16) == 0 && (x.flags & VL_DI_TWO_PLACES),
		   "the cross-parent two-place ID file is valid at work/old");
		close(dd);
	}

	/* What the library writes. */
	{
		int dd = mkdir_open(root, "w-docs");
		struct vl_place np;

		r = vl_dirinfo_write(v, dd, &docs, t_root, NULL, true);
		n = slurp(dd, "veilfs.dirid", buf, sizeof(buf));
		ok(r == 0 && n == 122, "the library writes docs's ID file (%d, %zd bytes)", r, n);
		H(G_IDFILE_DOCS, fi, sizeof(fi));
		ok(n == 122 && memcmp(buf, fi, 122) == 0, "... byte for byte the reference's");
		ok(fstatat(dd, "veilfs.dirid", &st, AT_SYMLINK_NOFOLLOW) == 0 &&
			   (st.st_mode & 07777) == 0444,
		   "ID files have mode 0444 (§5.6)");
		set_place(&np, id_root, G_F_DOCUMENTS);
		r = vl_dirinfo_relocate(v, dd, id_root, G_F_DOCS, 52, &np, true, t_root);
		n = slurp(dd, "veilfs.dirid", buf, sizeof(buf));
		H(G_IDFILE_DOCS_RENAMING, fi, sizeof(fi));
		ok(r == 1 && n == 192 && memcmp(buf, fi, 192) == 0,
		   "relocation with the old place kept: the reference's two-place file (%d, %zd)",
		   r, n);
		set_place(&np, id_work, G_F_OLD);
		r = vl_dirinfo_relocate(v, dd, id_root, G_F_DOCUMENTS, 52, &np, false, t_work);
		n = slurp(dd, "veilfs.dirid", buf, sizeof(buf));
		{
			struct vl_idfile f;

			ok(r == 1 && n == 122 && vl_idfile_parse(K, buf, 122, &f) == 0 &&
				   f.nplaces == 1 && memcmp(f.ptoken, t_work, 16) == 0 &&
				   memcmp(f.place[0].parent, id_work, 16) == 0 &&
				   strcmp(f.place[0].name, G_F_OLD) == 0,
			   "relocation to work/old without the old place: one place (%d, %zd)", r,
			   n);
		}
		close(dd);
	}
	{
		/* vl_content_rebind of the reference's file gives the reference's moving header */
		struct vl_content *c = NULL;
		struct vl_binding nb;
		int fd;

		put(docsfd, "rebind", G_FILE_ONE_BLOCK, 0);
		fd = openat(docsfd, "rebind", O_RDWR | O_NOFOLLOW | O_CLOEXEC);
		bind(&b, id_docs, t_docs);
		bind(&nb, id_root, t_root);
		r = (fd < 0) ? -errno : vl_content_new(&c, v, VL_STREAM_CONTENT, &b);
		if (r == 0)
			r = vl_content_rebind(c, fd, &nb, true);
		n = pread(fd, hdr, 72, 0);
		H(G_HEADER_MOVING, fi, sizeof(fi));
		ok(r == 0 && n == 72 && memcmp(hdr, fi, 72) == 0,
		   "a move's first step writes the reference's moving header (%d)", r);
		r = vl_content_rebind(c, fd, &nb, false);
		n = pread(fd, hdr, 72, 0);
		{
			struct vl_header h2;

			ok(r == 0 && n == 72 && vl_header2_parse(K, hdr, 72, &h2) == 0 &&
				   h2.flags == 0 && memcmp(h2.id, fid, 16) == 0 &&
				   memcmp(h2.parent, id_root, 16) == 0 &&
				   memcmp(h2.token, t_root, 16) == 0,
			   "its last step writes the final header: same ID, parent ID_root, "
			   "T_root");
		}
		vl_content_free(c);
		if (fd >= 0)
			close(fd);
	}
	{
		/* a new file and emptying it (§3.3) */
		struct vl_content *c = NULL;
		struct vl_header h1, h2;
		uint8_t zeros[5000] = {0};
		int fd;

		r = vl_ename_make(v, &docs, "new.txt", 7, VL_KIND_PLAIN, &e);
		fd = r == 0 ? vl_file_create(v, docsfd, &docs, &e, 0600) : r;
		ok(fd >= 0 && fstat(fd, &st) == 0 && st.st_size == 100,
		   "a new file is created as 100 bytes (header || empty block)");
		ok(fd >= 0 && pread(fd, hdr, 72, 0) == 72 &&
			   vl_header2_parse(K, hdr, 72, &h1) == 0 && h1.flags == 0 &&
			   memcmp(h1.parent, id_docs, 16) == 0 && memcmp(h1.token, t_docs, 16) == 0,
		   "its header: parent ID_docs, token T_docs");
		bind(&b, id_docs, t_docs);
		r = fd < 0 ? fd : vl_content_new(&c, v, VL_STREAM_CONTENT, &b);
		ok(r == 0 &&
			   vl_content_write(c, fd, zeros, sizeof(zeros), 0) ==
				   (ssize_t)sizeof(zeros) &&
			   vl_content_truncate(c, fd, 0) == 0 && fstat(fd, &st) == 0 &&
			   st.st_size == 100,
		   "written, then truncated to 0: 100 bytes again");
		ok(fd >= 0 && pread(fd, hdr, 72, 0) == 72 &&
			   vl_header2_parse(K, hdr, 72, &h2) == 0 &&
			   memcmp(h2.id, h1.id, 16) != 0 && memcmp(h2.parent, id_docs, 16) == 0 &&
			   memcmp(h2.token, t_docs, 16) == 0,
		   "emptying drew a new file ID and kept parent and token (§3.3)");
		vl_content_free(c);
		if (fd >= 0)
			close(fd);
	}
	{
		/* Emptying a file whose header carries a stale token: §5.3 says writers refresh the
		 * token whenever they write a header, emptying included (§3.3's "same parent, token
		 * and name" reads as if the old token were kept; reported as a FORMAT.md fix). */
		struct vl_content *c = NULL;
		struct vl_header h2;
		int fd;

		memset(&hh, 0, sizeof(hh));
		memcpy(hh.id, fid, 16);
		memcpy(hh.parent, id_docs, 16);
		memcpy(hh.token, t_root, 16); /* a stale token: docs was elsewhere */
		put_header_file(docsfd, "stale", &hh, VL_STREAM_CONTENT);
		fd = openat(docsfd, "stale", O_RDWR | O_NOFOLLOW | O_CLOEXEC);
		bind(&b, id_docs, t_docs);
		r = fd < 0 ? -errno : vl_content_new(&c, v, VL_STREAM_CONTENT, &b);
		if (r == 0)
			r = vl_content_truncate(c, fd, 0);
		ok(r == 0 && pread(fd, hdr, 72, 0) == 72 &&
			   vl_header2_parse(K, hdr, 72, &h2) == 0 && memcmp(h2.id, fid, 16) != 0 &&
			   memcmp(h2.parent, id_docs, 16) == 0 && memcmp(h2.token, t_docs, 16) == 0,
		   "emptying a file with a stale token writes the directory's current token "
		   "(§5.3)");
		vl_content_free(c);
		if (fd >= 0)
			close(fd);
	}
	{
		/* A directory under the long name of an F that is not longer than name_max, whose
		 * ID file names (ID_root, F): that place is (ID_root, F), not this one (§5.1). */
		int dd;
		struct vl_dirinfo x;
		struct vl_idfile f;
		uint8_t sid[16];

		r = vl_name_encrypt(K, id_root, "sdir", 4, VL_KIND_PLAIN, enc, sizeof(enc));
		if (r != 52 || vl_name_long(enc, 52, ln) != 0 ||
		    vl_dirid_derive(K, id_root, enc, 52, sid) != 0)
			exit(99);
		dd = mkdir_open(root, ln);
		memset(&f, 0, sizeof(f));
		memcpy(f.id, sid, 16);
		memcpy(f.ptoken, t_root, 16);
		f.nplaces = 1;
		set_place(&f.place[0], id_root, enc);
		n = vl_idfile_build(K, &f, buf, sizeof(buf));
		put_bytes(dd, "veilfs.dirid", buf, (size_t)n);
		r = vl_dirinfo_read(v, dd, vl_vault_root_info(v), id_root, ln, 53, NULL, 0, &x);
		ok(r == 0 && !(x.flags & VL_DI_FILE) && (x.flags & VL_DI_BAD_FILES) &&
			   memcmp(x.id, sid, 16) != 0,
		   "a long-named directory whose ID file holds a short F: the file is not valid "
		   "there");
		ok(vl_dir_long_name(v, dd, ln, full) == -ENOENT,
		   "... and its name is not read from it");
		close(dd);
	}
out:
	vl_vault_free(v);
	close(docsfd);
	close(workfd);
	close(ldirfd);
	close(root);
	tc_rmrf(dir);
}

/* An ID file for directory id at place (parent, full) with ptoken, written as name in dfd. */
static void put_idfile(int dfd, const char *name, const uint8_t id[16], const uint8_t ptoken[16],
		       const uint8_t parent[16], const char *full)
{
	uint8_t buf[VL_IDFILE_MAX];
	struct vl_idfile f;
	int n;

	memset(&f, 0, sizeof(f));
	memcpy(f.id, id, 16);
	memcpy(f.ptoken, ptoken, 16);
	f.nplaces = 1;
	set_place(&f.place[0], parent, full);
	n = vl_idfile_build(K, &f, buf, sizeof(buf));
	if (n < 0)
		exit(99);
	put_bytes(dfd, name, buf, (size_t)n);
}

/* A file named name (encrypted under x) in dfd, with a header bound to x at place (P, N). */
static void put_child_file(int dfd, const uint8_t x[16], const uint8_t P[16], const char *N,
			   const char *name)
{
	char enc[VL_ENCNAME_MAX + 1];
	struct vl_header h;

	memset(&h, 0, sizeof(h));
	memset(h.id, name[0], 16);
	memcpy(h.parent, x, 16);
	if (vl_place_token(K, x, P, N, strlen(N), h.token) != 0 ||
	    vl_name_encrypt(K, x, name, strlen(name), VL_KIND_PLAIN, enc, sizeof(enc)) <= 0)
		exit(99);
	put_header_file(dfd, enc, &h, VL_STREAM_CONTENT);
}

/* §5.4 and §5.5: which IDs a directory has when its ID file is lost or copied. Each case is a
 * directory of the root made by hand from FORMAT.md's rules. */
static void test_resolver(void)
{
	char dir[PATH_MAX], err[256] = "", F[VL_ENCNAME_MAX + 1], Fs[VL_ENCNAME_MAX + 1];
	uint8_t X1[16], X2[16], tok[16];
	struct vl_vault *v = NULL;
	struct vl_dirinfo di;
	struct listing L;
	int root, d, r;

	memset(X1, 0xe1, 16); /* X1 > X2 bytewise: order by count or by name, never by value */
	memset(X2, 0x21, 16);
	tc_tmpdir(dir);
	root = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		exit(99);
	put_bytes(root, "veilfs.conf", G_CONFIG, strlen(G_CONFIG));
	put(root, "veilfs.dirid", G_IDFILE_ROOT, 0);
	r = vl_vault_open(&v, dir, NULL, "golden", 6, err, sizeof(err));
	ok(r == 0, "resolver: vault opens (%s)", err);
	if (r != 0)
		goto out;

	/* 1. No ID file: two children prove X1, one proves X2; the majority is primary. */
	if (vl_name_encrypt(K, id_root, "majority", 8, VL_KIND_PLAIN, F, sizeof(F)) != 52)
		exit(99);
	d = mkdir_open(root, F);
	put_child_file(d, X1, id_root, F, "a1");
	put_child_file(d, X1, id_root, F, "a2");
	put_child_file(d, X2, id_root, F, "b1");
	r = vl_dirinfo_read(v, d, vl_vault_root_info(v), id_root, F, 52, F, 52, &di);
	ok(r == 0 && (di.flags & VL_DI_RECOVERED) && memcmp(di.id, X1, 16) == 0 && di.nalt == 1 &&
		   memcmp(di.alt[0], X2, 16) == 0,
	   "§5.4: the recovered ID most children carry is primary, the other is kept");
	memset(&L, 0, sizeof(L));
	ok(r == 0 && vl_dir_list(v, d, &di, list_cb, &L) == 0 && L.n == 3 && listed(&L, "a1") &&
		   listed(&L, "a2") && listed(&L, "b1"),
	   "§5.4: names under both recovered IDs are listed (%d)", L.n);
	close(d);

	/* 2. A tie: the smallest ID bytewise is primary. */
	if (vl_name_encrypt(K, id_root, "tie", 3, VL_KIND_PLAIN, F, sizeof(F)) != 52)
		exit(99);
	d = mkdir_open(root, F);
	put_child_file(d, X1, id_root, F, "a1");
	put_child_file(d, X2, id_root, F, "b1");
	r = vl_dirinfo_read(v, d, vl_vault_root_info(v), id_root, F, 52, F, 52, &di);
	ok(r == 0 && memcmp(di.id, X2, 16) == 0,
	   "§5.4: on a tie the smallest recovered ID is primary");
	close(d);

	/* 3. A child that was moved in carries the token of another place: no evidence. */
	if (vl_name_encrypt(K, id_root, "movedin", 7, VL_KIND_PLAIN, F, sizeof(F)) != 52)
		exit(99);
	d = mkdir_open(root, F);
	put_child_file(d, X1, id_root, G_F_DOCS, "a1");
	r = vl_dirinfo_read(v, d, vl_vault_root_info(v), id_root, F, 52, F, 52, &di);
	ok(r == 0 && memcmp(di.id, X1, 16) != 0 && (di.flags & VL_DI_DERIVED),
	   "§5.5: a child whose token names another place proves nothing (derived ID)");
	close(d);

	/* 4. Copies of veilfs.dirid: the first valid one in bytewise name order is primary. */
	if (vl_name_encrypt(K, id_root, "copies", 6, VL_KIND_PLAIN, F, sizeof(F)) != 52)
		exit(99);
	d = mkdir_open(root, F);
	/* "veilfs (" < "veilfs.d" bytewise: X1 first although X1 > X2 */
	put_idfile(d, "veilfs.dirid.sync-conflict-20250210-101010-ABCDEFG", X2, t_root, id_root, F);
	put_idfile(d, "veilfs (conflicted copy 2025-02-10).dirid", X1, t_root, id_root, F);
	r = vl_dirinfo_read(v, d, vl_vault_root_info(v), id_root, F, 52, F, 52, &di);
	ok(r == 0 && memcmp(di.id, X1, 16) == 0 && di.nalt == 1 && memcmp(di.alt[0], X2, 16) == 0,
	   "§5.4: without veilfs.dirid, the copies are read in bytewise name order");
	put_idfile(d, "veilfs.dirid", X2, t_root, id_root, F);
	r = vl_dirinfo_read(v, d, vl_vault_root_info(v), id_root, F, 52, F, 52, &di);
	ok(r == 0 && memcmp(di.id, X2, 16) == 0 && di.nalt == 1 && memcmp(di.alt[0], X1, 16) == 0,
	   "§5.4: veilfs.dirid first, then the copies (duplicates once)");
	close(d);

	/* 5. Evidence from a subdirectory's ID file, and from a sync client's copy of it. */
	for (int copy = 0; copy < 2; copy++) {
		int sd;

		if (vl_name_encrypt(K, id_root, copy ? "evcopy" : "evfile", 6, VL_KIND_PLAIN, F,
				    sizeof(F)) != 52 ||
		    vl_name_encrypt(K, X1, "sub", 3, VL_KIND_PLAIN, Fs, sizeof(Fs)) != 52 ||
		    vl_place_token(K, X1, id_root, F, 52, tok) != 0)
			exit(99);
		d = mkdir_open(root, F);
		sd = mkdir_open(d, Fs);
		put_idfile(sd, copy ? "veilfs (conflicted copy 2025-02-10).dirid" : "veilfs.dirid",
			   X2, tok, X1, Fs);
		r = vl_dirinfo_read(v, d, vl_vault_root_info(v), id_root, F, 52, F, 52, &di);
		if (!copy)
			ok(r == 0 && memcmp(di.id, X1, 16) == 0 && (di.flags & VL_DI_RECOVERED),
			   "§5.5: a subdirectory's ID file (place parent X, ptoken T(X, P, N)) "
			   "proves X");
		else
			ok(r == 0 && memcmp(di.id, X1, 16) == 0 && (di.flags & VL_DI_RECOVERED),
			   "§5.5: a sync client's copy of a subdirectory's ID file proves X too");
		close(sd);
		close(d);
	}
out:
	vl_vault_free(v);
	close(root);
	tc_rmrf(dir);
}

int main(void)
{
	if (vl_crypto_init() != 0) /* first: libcrypto allocates in the secure pool */
		return 99;
	for (int i = 0; i < 32; i++)
		master[i] = (uint8_t)i;
	for (int i = 0; i < 16; i++)
		fid[i] = (uint8_t)(0xa0 + i);
	for (int i = 0; i < 12; i++) {
		n0[i] = (uint8_t)i;
		n1[i] = (uint8_t)(0x10 + i);
	}
	if (vl_keys_new(&K, master) != 0) {
		ok(0, "vl_keys_new");
		return done_testing();
	}
	test_keys_and_ids();
	test_dirs();
	test_files();
	test_sizes();
	test_config();
	test_config_rules();
	test_recovery_fnv();
	test_header_tamper();
	test_idfile_tamper();
	test_library();
	test_resolver();
	vl_keys_free(K);
	vl_crypto_thread_cleanup();
	return done_testing();
}
