// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * keyscan: searches files (core dumps) for a vault's secrets.
 *
 *   keyscan --config FILE --passfile FILE [--cipherdir DIR]... [--min-files N] [--recovery]
 *           [--expect-all | --hold] [--pid PID]... [CORE...]
 *
 * From the config and the password it computes, following FORMAT.md §1-§3 with the crypto
 * primitives only (not the code under test's key schedule): the scrypt KEK, the master key,
 * every subkey, the HKDF pseudo-random keys that stand for the master key and the content and
 * object keys (PRK = HMAC-SHA256(zero salt, IKM); whoever holds one derives what its IKM
 * derives), the SHA-256 midstates of HMAC under those PRKs and under K_dirid (what an HMAC
 * context keeps instead of the key), the password when it is 16 bytes or longer, with
 * --recovery the recovery-code text, and the per-file keys (from K_content and from
 * K_object) of every file under each --cipherdir that starts with a format-1 or format-2 header
 * (--min-files N: an error unless at least N such files were found, so that a vault whose
 * headers this program cannot read fails the test instead of searching for no file key).
 * Each is searched as bytes and as byte-swapped 32-bit words (SHA-256 keeps its message
 * schedule and state that way: an HKDF output lingers on the stack as such words), and each
 * HMAC key (the PRKs, K_dirid, the password of scrypt's PBKDF2) also XORed with the HMAC
 * pads, as a hash block holds it.
 *
 * Any 16-byte window of a secret found in a CORE is a hit: an expanded AES key schedule
 * starts with the key, so a cached cipher context is found too. --pid PID scans the memory of
 * a live (preferably stopped) process instead, through /proc/PID/mem: every readable mapping
 * that /proc/PID/smaps does not flag dd (MADV_DONTDUMP), which is what gcore and the kernel
 * write to a core. (gcore itself is impractical for an AddressSanitizer process: gdb 13 dumps
 * its terabytes of PROT_NONE reservations as zeros.)
 *
 * Exit status: 0 when no secret is found (with --expect-all: when every secret is found in
 * the union of the cores), 1 otherwise, 2 on a usage or setup error.
 *
 * --hold copies every secret into ordinary heap, prints "ready" and waits for a signal: a
 * dumpable process whose gcore must show every secret (the control that proves a scan can
 * fail).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto/config.h"
#include "crypto/content.h"
#include "crypto/kdf.h"
#include "crypto/secmem.h"
#include "fs/recovery.h"

#define WIN 16
#ifndef VL_HEADER_LEN
#define VL_HEADER_LEN VL_HEADER_V1_LEN /* format 2's common.h names format 1's header so */
#endif
#define MAXSECRETS 8192

struct secret {
	char name[128];
	uint8_t *p;
	size_t len;
	size_t hits;
	char *where;	   /* first hit: core file or process */
	size_t off;	   /* and offset */
};

static struct secret secrets[MAXSECRETS];
static size_t nsecrets;

static void die(const char *what)
{
	fprintf(stderr, "keyscan: %s\n", what);
	exit(2);
}

static void add1(const char *name, const void *p, size_t len)
{
	struct secret *s;

	if (len < WIN)
		die("secret shorter than a window");
	if (nsecrets == MAXSECRETS)
		die("too many secrets");
	s = &secrets[nsecrets++];
	snprintf(s->name, sizeof(s->name), "%s", name);
	s->p = malloc(len);
	if (!s->p)
		die("out of memory");
	memcpy(s->p, p, len);
	s->len = len;
}

/* The secret as bytes, and as byte-swapped 32-bit words when it is a whole number of them. */
static void add(const char *name, const void *p, size_t len)
{
	const uint8_t *b = p;
	uint8_t sw[128];
	char n[128];

	add1(name, p, len);
	if (len % 4 != 0 || len > sizeof(sw))
		return;
	for (size_t i = 0; i < len; i++)
		sw[i] = b[(i & ~(size_t)3) + 3 - (i & 3)];
	snprintf(n, sizeof(n), "%.96s (swapped words)", name);
	add1(n, sw, len);
}

/* An HMAC key as the hash block holds it: XORed with ipad and with opad (both forms). */
static void add_padded(const char *name, const uint8_t *key, size_t len)
{
	uint8_t x[128];
	char n[128];

	if (len > sizeof(x))
		die("HMAC key too long");
	for (int k = 0; k < 2; k++) {
		for (size_t i = 0; i < len; i++)
			x[i] = key[i] ^ (k ? 0x5c : 0x36);
		snprintf(n, sizeof(n), "%.64s ^ %s", name, k ? "opad" : "ipad");
		add(n, x, len);
	}
}

/* ---- SHA-256 compression (FIPS 180-4 §6.2.2), for the HMAC midstates ---- */
static const uint32_t K256[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
	0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
	0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
	0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
	0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
	0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
	0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
	0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
	0xc67178f2,
};

static uint32_t ror(uint32_t x, int n)
{
	return (x >> n) | (x << (32 - n));
}

static void sha256_block(uint32_t h[8], const uint8_t blk[64])
{
	uint32_t w[64], a, b, c, d, e, f, g, k, t1, t2;

	for (int i = 0; i < 16; i++)
		w[i] = (uint32_t)blk[4 * i] << 24 | (uint32_t)blk[4 * i + 1] << 16 |
		       (uint32_t)blk[4 * i + 2] << 8 | blk[4 * i + 3];
	for (int i = 16; i < 64; i++)
		w[i] = (ror(w[i - 2], 17) ^ ror(w[i - 2], 19) ^ (w[i - 2] >> 10)) + w[i - 7] +
		       (ror(w[i - 15], 7) ^ ror(w[i - 15], 18) ^ (w[i - 15] >> 3)) + w[i - 16];
	a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], k = h[7];
	for (int i = 0; i < 64; i++) {
		t1 = k + (ror(e, 6) ^ ror(e, 11) ^ ror(e, 25)) + ((e & f) ^ (~e & g)) + K256[i] + w[i];
		t2 = (ror(a, 2) ^ ror(a, 13) ^ ror(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
		k = g, g = f, f = e, e = d + t1, d = c, c = b, b = a, a = t1 + t2;
	}
	h[0] += a, h[1] += b, h[2] += c, h[3] += d, h[4] += e, h[5] += f, h[6] += g, h[7] += k;
}

/* The state an HMAC-SHA256 context keeps for key (<= 64 bytes) after absorbing key ^ pad:
 * as native 32-bit words (OpenSSL's SHA256_CTX) and as big-endian bytes. */
static void add_midstates(const char *name, const uint8_t *key, size_t keylen)
{
	static const uint32_t iv[8] = { 0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
					0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19 };
	static const struct {
		uint8_t pad;
		const char *what;
	} pads[2] = { { 0x36, "inner" }, { 0x5c, "outer" } };
	char n[96];

	for (int k = 0; k < 2; k++) {
		uint8_t blk[64] = { 0 }, be[32];
		uint32_t h[8];

		memcpy(blk, key, keylen);
		for (int i = 0; i < 64; i++)
			blk[i] ^= pads[k].pad;
		memcpy(h, iv, sizeof(h));
		sha256_block(h, blk);
		for (int i = 0; i < 8; i++) {
			be[4 * i] = (uint8_t)(h[i] >> 24);
			be[4 * i + 1] = (uint8_t)(h[i] >> 16);
			be[4 * i + 2] = (uint8_t)(h[i] >> 8);
			be[4 * i + 3] = (uint8_t)h[i];
		}
		snprintf(n, sizeof(n), "HMAC %s state of %.64s", pads[k].what, name);
		add(n, be, sizeof(be)); /* and, swapped, the native words of a SHA256_CTX */
	}
}

/* HKDF-Extract with the format's empty salt (RFC 5869 §2.2: HashLen zero bytes). */
static void prk(uint8_t out[32], const uint8_t *ikm, size_t len)
{
	static const uint8_t zero[32];

	if (vl_hmac_sha256(out, zero, sizeof(zero), ikm, len) != 0)
		die("HMAC failed");
}

static void subkey(uint8_t *out, size_t len, const uint8_t *ikm, const char *label)
{
	if (vl_hkdf_sha256(out, len, ikm, 32, NULL, 0, (const uint8_t *)label, strlen(label)) != 0)
		die("HKDF failed");
}

static uint8_t k_content[32], k_object[32];

static void add_file(const uint8_t id[static VL_FILEID_LEN])
{
	static const char label[] = "veilfs/v1/file";
	uint8_t info[sizeof(label) - 1 + VL_FILEID_LEN], k[32];
	char n[96], hex[2 * VL_FILEID_LEN + 1];

	for (int i = 0; i < VL_FILEID_LEN; i++)
		snprintf(hex + 2 * i, 3, "%02x", id[i]);
	for (size_t i = 0; i < nsecrets; i++)
		if (strstr(secrets[i].name, hex))
			return; /* a hard link or a file seen twice */
	memcpy(info, label, sizeof(label) - 1);
	memcpy(info + sizeof(label) - 1, id, VL_FILEID_LEN);
	if (vl_hkdf_sha256(k, 32, k_content, 32, NULL, 0, info, sizeof(info)) != 0)
		die("HKDF failed");
	snprintf(n, sizeof(n), "file key %s", hex);
	add(n, k, 32);
	if (vl_hkdf_sha256(k, 32, k_object, 32, NULL, 0, info, sizeof(info)) != 0)
		die("HKDF failed");
	snprintf(n, sizeof(n), "object key %s", hex);
	add(n, k, 32);
}

/* Format 2's header (FORMAT.md §3.1): "VEIL", u16be 2, flags, 0, then the file ID. The MAC
 * is not checked: a forged header only adds a key to search for. */
static bool v2_file_id(const uint8_t hdr[static 24], uint8_t id[static VL_FILEID_LEN])
{
	if (memcmp(hdr, "VEIL", 4) != 0 || hdr[4] != 0 || hdr[5] != 2)
		return false;
	memcpy(id, hdr + 8, VL_FILEID_LEN);
	return true;
}

/* Every regular file under dirfd whose first bytes are a header (format 1 or 2) gives a file
 * ID. */
static void walk(int dirfd, unsigned *nfiles)
{
	DIR *d = fdopendir(dirfd);
	struct dirent *de;

	if (!d)
		die("cannot list a cipher directory");
	while ((de = readdir(d))) {
		uint8_t hdr[VL_HEADER_LEN], id[VL_FILEID_LEN];
		struct stat st;
		int fd;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		fd = openat(dirfd, de->d_name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
		if (fd < 0 || fstat(fd, &st) < 0) {
			if (fd >= 0)
				close(fd);
			continue;
		}
		if (S_ISDIR(st.st_mode)) {
			walk(fd, nfiles); /* closes fd */
			continue;
		}
		if (S_ISREG(st.st_mode) && pread(fd, hdr, sizeof(hdr), 0) == (ssize_t)sizeof(hdr) &&
		    (vl_header_parse(hdr, sizeof(hdr), id) == 0 || v2_file_id(hdr, id))) {
			add_file(id);
			(*nfiles)++;
		}
		close(fd);
	}
	closedir(d);
}

static size_t read_file(const char *path, char *buf, size_t cap)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t len = 0;
	ssize_t n;

	if (fd < 0)
		die("cannot open an input file");
	while (len < cap && (n = read(fd, buf + len, cap - len)) > 0)
		len += (size_t)n;
	close(fd);
	return len;
}

/* ---- the scan: a hash set of every 16-byte window, probed at every offset ---- */
struct slot {
	uint8_t w[WIN];
	uint32_t secret; /* index + 1; 0: empty */
};
static struct slot *table;
static size_t tmask;

static uint64_t load64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static size_t hash(uint64_t v)
{
	return (size_t)((v * 0x9e3779b97f4a7c15ull) >> 20) & tmask;
}

static size_t build_table(void)
{
	size_t nwin = 0, cap = 1;

	for (size_t i = 0; i < nsecrets; i++)
		nwin += secrets[i].len - WIN + 1;
	while (cap < 4 * nwin)
		cap <<= 1;
	table = calloc(cap, sizeof(*table));
	if (!table)
		die("out of memory");
	tmask = cap - 1;
	for (size_t i = 0; i < nsecrets; i++) {
		for (size_t o = 0; o + WIN <= secrets[i].len; o++) {
			size_t h = hash(load64(secrets[i].p + o));

			while (table[h].secret)
				h = (h + 1) & tmask;
			memcpy(table[h].w, secrets[i].p + o, WIN);
			table[h].secret = (uint32_t)i + 1;
		}
	}
	return nwin;
}

/* Probes every offset of buf (len bytes) that leaves a whole window; hits are reported at
 * base + offset in where. */
static void scan_buf(const uint8_t *m, size_t len, const char *where, size_t base)
{
	for (size_t o = 0; o + WIN <= len; o++) {
		size_t h = hash(load64(m + o));

		for (; table[h].secret; h = (h + 1) & tmask) {
			struct secret *s;

			if (memcmp(table[h].w, m + o, WIN) != 0)
				continue;
			s = &secrets[table[h].secret - 1];
			if (s->hits++ == 0) {
				s->where = strdup(where);
				s->off = base + o;
				if (!s->where)
					die("out of memory");
			}
		}
	}
}

/* The memory a core of pid would hold: readable mappings not flagged dd. Read in chunks
 * that overlap by a window less one byte, so no window at a chunk edge is missed. */
static size_t scan_pid(const char *pid)
{
	enum { CHUNK = 1 << 20 };
	char path[64], line[512], where[96];
	unsigned long lo = 0, hi = 0;
	bool readable = false;
	size_t bytes = 0;
	uint8_t *buf;
	FILE *maps;
	int mem;

	snprintf(path, sizeof(path), "/proc/%s/smaps", pid);
	maps = fopen(path, "re");
	snprintf(path, sizeof(path), "/proc/%s/mem", pid);
	mem = open(path, O_RDONLY | O_CLOEXEC);
	buf = malloc(CHUNK);
	if (!maps || mem < 0 || !buf)
		die("cannot read the memory of --pid (not root? no such process?)");
	snprintf(where, sizeof(where), "pid %s", pid);
	while (fgets(line, sizeof(line), maps)) {
		unsigned long l, h;
		char perms[8];

		/* A mapping's first line ("lo-hi perms ..."); sscanf may have stored into l
		 * before failing on a field line such as "FilePmdMapped:". */
		if (sscanf(line, "%lx-%lx %7s", &l, &h, perms) == 3 && strchr(line, '-') < strchr(line, ' ')) {
			lo = l;
			hi = h;
			readable = perms[0] == 'r';
			continue;
		}
		if (strncmp(line, "VmFlags:", 8) != 0 || !readable)
			continue;
		if (strstr(line, " dd") != NULL)
			continue; /* MADV_DONTDUMP: never in a core */
		for (unsigned long a = lo; a < hi;) {
			size_t want = hi - a < CHUNK ? hi - a : CHUNK;
			ssize_t n = pread(mem, buf, want, (off_t)a);

			if (n <= 0)
				break; /* [vvar] and the like cannot be read: not in a core either */
			scan_buf(buf, (size_t)n, where, a);
			bytes += (size_t)n;
			if ((size_t)n < want || a + (size_t)n >= hi)
				break;
			a += (size_t)n - (WIN - 1);
		}
	}
	free(buf);
	close(mem);
	fclose(maps);
	return bytes;
}

static size_t scan(const char *path)
{
	struct stat st;
	const uint8_t *m;
	size_t bytes;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0)
		die("cannot open a core file");
	bytes = (size_t)st.st_size;
	if (bytes < WIN) {
		close(fd);
		return bytes;
	}
	m = mmap(NULL, bytes, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (m == MAP_FAILED)
		die("cannot map a core file");
	scan_buf(m, bytes, path, 0);
	munmap((void *)m, bytes);
	return bytes;
}

int main(int argc, char **argv)
{
	enum { O_CONFIG = 256, O_PASSFILE, O_CIPHERDIR, O_RECOVERY, O_EXPECT_ALL, O_HOLD, O_PID,
	       O_MIN_FILES };
	static const struct option lo[] = {
		{ "config", required_argument, NULL, O_CONFIG },
		{ "passfile", required_argument, NULL, O_PASSFILE },
		{ "cipherdir", required_argument, NULL, O_CIPHERDIR },
		{ "recovery", no_argument, NULL, O_RECOVERY },
		{ "expect-all", no_argument, NULL, O_EXPECT_ALL },
		{ "hold", no_argument, NULL, O_HOLD },
		{ "pid", required_argument, NULL, O_PID },
		{ "min-files", required_argument, NULL, O_MIN_FILES },
		{ 0 },
	};
	static const struct {
		const char *label;
		size_t len;
	} labels[] = {
		{ "veilfs/v1/content", 32 },	 { "veilfs/v1/object", 32 },
		{ "veilfs/v1/names", 64 },	 { "veilfs/v1/dirid", 32 },
		{ "veilfs/v1/xattr-names", 64 }, { "veilfs/v1/xattr-values", 32 },
		/* format 2's MAC key; for a format-1 vault it is one more needle, never a miss */
		{ "veilfs/v2/meta", 32 },
	};
	const char *config = NULL, *passfile = NULL, *dirs[16], *pids[16];
	bool recovery = false, expect_all = false, hold = false;
	char text[VL_CONFIG_MAX], pw[1025], why[256] = "";
	uint8_t kek[32], master[32], p[32], k[64], dirid[32];
	size_t ndirs = 0, npids = 0, pwlen, found = 0, bytes = 0, nwin;
	unsigned nfiles = 0, min_files = 0;
	struct vl_config cfg;
	int c;

	if (vl_crypto_init() != 0)
		die("vl_crypto_init failed");
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case O_CONFIG:
			config = optarg;
			break;
		case O_PASSFILE:
			passfile = optarg;
			break;
		case O_CIPHERDIR:
			if (ndirs == sizeof(dirs) / sizeof(dirs[0]))
				die("too many --cipherdir");
			dirs[ndirs++] = optarg;
			break;
		case O_RECOVERY:
			recovery = true;
			break;
		case O_EXPECT_ALL:
			expect_all = true;
			break;
		case O_HOLD:
			hold = true;
			break;
		case O_MIN_FILES:
			min_files = (unsigned)atoi(optarg);
			break;
		case O_PID:
			if (npids == sizeof(pids) / sizeof(pids[0]))
				die("too many --pid");
			pids[npids++] = optarg;
			break;
		default:
			die("usage: keyscan --config FILE --passfile FILE [--cipherdir DIR]... "
			    "[--min-files N] [--recovery] [--expect-all | --hold] [--pid PID]... [CORE...]");
		}
	}
	if (!config || !passfile || (hold && expect_all))
		die("--config and --passfile are required; --hold and --expect-all exclude each other");

	if (vl_config_parse(text, read_file(config, text, sizeof(text)), &cfg, why, sizeof(why)) != 0)
		die(why);
	pwlen = read_file(passfile, pw, sizeof(pw) - 1);
	pw[pwlen] = '\0';
	pwlen = strcspn(pw, "\n"); /* the first line, as veilfs reads a passfile */

	/* FORMAT.md §2: KEK = scrypt(password, salt, N, r, p, 32), which wraps the master key. */
	if (vl_scrypt(kek, sizeof(kek), pw, pwlen, cfg.salt, sizeof(cfg.salt), cfg.scrypt_log2_n,
		      cfg.scrypt_r, cfg.scrypt_p) != 0)
		die("scrypt failed");
	if (vl_config_unwrap(&cfg, pw, pwlen, master) != 0)
		die("the password does not open this config");
	add("KEK", kek, sizeof(kek));
	add("master key", master, sizeof(master));
	if (pwlen >= WIN) {
		add("password", pw, pwlen);
		if (pwlen <= 64)
			add_padded("password", (const uint8_t *)pw, pwlen); /* PBKDF2's HMAC key */
	}
	if (recovery) {
		char code[VL_RECOVERY_MAX];
		int n = vl_recovery_encode(master, code, sizeof(code));

		if (n < WIN)
			die("cannot encode the recovery code");
		add("recovery code", code, (size_t)n);
	}
	/* FORMAT.md §1: subkeys by HKDF from the master key; the PRK stands for the master. */
	prk(p, master, sizeof(master));
	add("HKDF PRK of the master key", p, sizeof(p));
	add_padded("HKDF PRK of the master key", p, sizeof(p));
	add_midstates("the master key's PRK", p, sizeof(p));
	for (size_t i = 0; i < sizeof(labels) / sizeof(labels[0]); i++) {
		subkey(k, labels[i].len, master, labels[i].label);
		add(labels[i].label, k, labels[i].len);
		if (!strcmp(labels[i].label, "veilfs/v1/content"))
			memcpy(k_content, k, 32);
		if (!strcmp(labels[i].label, "veilfs/v1/object"))
			memcpy(k_object, k, 32);
		if (!strcmp(labels[i].label, "veilfs/v1/dirid"))
			memcpy(dirid, k, 32);
	}
	prk(p, k_content, 32);
	add("HKDF PRK of veilfs/v1/content", p, sizeof(p));
	add_padded("HKDF PRK of veilfs/v1/content", p, sizeof(p));
	add_midstates("K_content's PRK", p, sizeof(p));
	prk(p, k_object, 32);
	add("HKDF PRK of veilfs/v1/object", p, sizeof(p));
	add_padded("HKDF PRK of veilfs/v1/object", p, sizeof(p));
	add_midstates("K_object's PRK", p, sizeof(p));
	add_padded("veilfs/v1/dirid", dirid, sizeof(dirid));
	add_midstates("K_dirid", dirid, sizeof(dirid));
	/* FORMAT.md §3: per-file keys of every file with a header. */
	for (size_t i = 0; i < ndirs; i++) {
		int fd = open(dirs[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC);

		if (fd < 0)
			die("cannot open a --cipherdir");
		walk(fd, &nfiles);
	}
	if (nfiles < min_files) {
		fprintf(stderr, "keyscan: %u files with a header found, --min-files %u\n", nfiles, min_files);
		return 2;
	}

	if (hold) {
		/* The copies in secrets[] are ordinary heap: a core of this process has them. */
		printf("ready\n");
		fflush(stdout);
		for (;;)
			pause();
	}
	nwin = build_table();
	for (int i = optind; i < argc; i++)
		bytes += scan(argv[i]);
	for (size_t i = 0; i < npids; i++)
		bytes += scan_pid(pids[i]);
	for (size_t i = 0; i < nsecrets; i++) {
		struct secret *s = &secrets[i];

		if (s->hits) {
			found++;
			printf("FOUND %s: %zu windows, first in %s at offset %#zx\n", s->name, s->hits,
			       s->where, s->off);
		} else if (expect_all) {
			printf("MISSING %s\n", s->name);
		}
	}
	printf("# %zu of %zu secrets found (%zu files with a header, %zu windows, %zu bytes scanned)\n",
	       found, nsecrets, (size_t)nfiles, nwin, bytes);
	if (expect_all)
		return found == nsecrets && nsecrets > 0 ? 0 : 1;
	return found == 0 ? 0 : 1;
}
