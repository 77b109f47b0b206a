// SPDX-License-Identifier: GPL-2.0-or-later
/* The secure pool (crypto/secmem.c) and vl_crypto_init: where keys live.
 *
 * Placement is read back from /proc/self/smaps (VmFlags dd = MADV_DONTDUMP, lo = mlocked).
 * The key searches read this process's memory through /proc/self/mem, as a core writer
 * would: every readable mapping, without the dd ones unless a search says otherwise. Each
 * search has a control that plants the key where the search must find it. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "crypto/config.h"
#include "crypto/content.h"
#include "crypto/kdf.h"
#include "crypto/keys.h"
#include "crypto/keys_internal.h"
#include "crypto/names.h"
#include "crypto/secmem.h"
#include "tests/unit/tap.h"

/* AddressSanitizer intercepts mlock() as a no-op that succeeds: nothing can be locked. */
#if defined(__SANITIZE_ADDRESS__)
#define NO_MLOCK "AddressSanitizer makes mlock() a no-op"
#endif

#define WIN 16

static bool has_flag(const char *vmflags, const char *flag)
{
	size_t n = strlen(flag);

	for (const char *p = vmflags + 8; (p = strstr(p, flag)) != NULL; p += n)
		if (p[-1] == ' ' && (p[n] == ' ' || p[n] == '\n' || p[n] == '\0'))
			return true;
	return false;
}

/* The VmFlags line of the mapping that holds p (in pid's smaps, "self" for us), or false. */
static bool vmflags_of(const char *pid, const void *p, char *out, size_t cap)
{
	unsigned long a = (unsigned long)p;
	char path[64], line[512];
	bool in = false, found = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%s/smaps", pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		unsigned long l, h;
		char perms[8];

		if (sscanf(line, "%lx-%lx %7s", &l, &h, perms) == 3 && strchr(line, '-') < strchr(line, ' ')) {
			in = a >= l && a < h;
			continue;
		}
		if (in && strncmp(line, "VmFlags:", 8) == 0) {
			snprintf(out, cap, "%s", line);
			found = true;
			break;
		}
	}
	fclose(f);
	return found;
}

static bool placed(const void *p, const char *flag)
{
	char fl[512];

	return vmflags_of("self", p, fl, sizeof(fl)) && has_flag(fl, flag);
}

/* ---- searching this process's memory ---- */

struct needle {
	const char *name;
	const uint8_t *p;
	size_t len;
};

/* Windows of the needles found in readable mappings (with dd ones when with_dd), read
 * through /proc/self/mem; the needles' own bytes are not counted. Reservations made with
 * MAP_NORESERVE are left out. */
static size_t search(const struct needle *nd, size_t nn, bool with_dd, const char **first)
{
	enum { CHUNK = 1 << 20 };
	unsigned long lo = 0, hi = 0;
	uint8_t *buf = vl_secure_alloc(CHUNK); /* dd: never part of what it searches */
	static uint8_t bitmap[65536 / 8];
	bool readable = false;
	size_t hits = 0;
	char line[512];
	FILE *maps = fopen("/proc/self/smaps", "re");
	int mem = open("/proc/self/mem", O_RDONLY | O_CLOEXEC);

	if (!buf || !maps || mem < 0)
		abort();
	memset(bitmap, 0, sizeof(bitmap));
	for (size_t i = 0; i < nn; i++)
		for (size_t o = 0; o + WIN <= nd[i].len; o++) {
			unsigned k = nd[i].p[o] | (unsigned)nd[i].p[o + 1] << 8;

			bitmap[k / 8] |= (uint8_t)(1u << (k % 8));
		}
	while (fgets(line, sizeof(line), maps)) {
		unsigned long l, h;
		char perms[8];

		if (sscanf(line, "%lx-%lx %7s", &l, &h, perms) == 3 && strchr(line, '-') < strchr(line, ' ')) {
			lo = l;
			hi = h;
			readable = perms[0] == 'r';
			continue;
		}
		if (strncmp(line, "VmFlags:", 8) != 0 || !readable || (!with_dd && has_flag(line, "dd")))
			continue;
		/* MAP_NORESERVE: ASan's shadow (terabytes, dd); the pool never maps so. */
		if (has_flag(line, "nr"))
			continue;
		for (unsigned long a = lo; a < hi;) {
			size_t want = hi - a < CHUNK ? hi - a : CHUNK;
			ssize_t n = pread(mem, buf, want, (off_t)a);

			if (n <= 0)
				break;
			for (size_t o = 0; o + WIN <= (size_t)n; o++) {
				unsigned k = buf[o] | (unsigned)buf[o + 1] << 8;
				uintptr_t at = a + o;

				if (!(bitmap[k / 8] & (1u << (k % 8))))
					continue;
				for (size_t i = 0; i < nn; i++) {
					uintptr_t s = (uintptr_t)nd[i].p;

					if (at + WIN > s && at < s + nd[i].len)
						continue; /* the needle itself */
					for (size_t w = 0; w + WIN <= nd[i].len; w++) {
						if (memcmp(buf + o, nd[i].p + w, WIN) == 0) {
							if (hits++ == 0 && first)
								*first = nd[i].name;
							break;
						}
					}
				}
			}
			if ((size_t)n < want || a + (size_t)n >= hi)
				break;
			a += (size_t)n - (WIN - 1);
		}
	}
	fclose(maps);
	close(mem);
	vl_secure_free(buf, CHUNK);
	return hits;
}

/* Needles for a key: its bytes and its byte-swapped 32-bit words (how SHA-256 holds a block
 * or a digest). The swapped copy is in secure memory; free it with forms_free. */
static size_t forms(struct needle *nd, const char *name, const uint8_t *k, size_t len)
{
	uint8_t *sw = vl_secure_alloc(len);

	if (!sw)
		abort();
	for (size_t i = 0; i < len; i++)
		sw[i] = k[(i & ~(size_t)3) + 3 - (i & 3)];
	nd[0] = (struct needle){ name, k, len };
	nd[1] = (struct needle){ name, sw, len };
	return 2;
}

static void forms_free(struct needle *nd, size_t n)
{
	for (size_t i = 1; i < n; i += 2)
		vl_secure_free((void *)nd[i].p, nd[i].len);
}

static size_t live(void)
{
	struct vl_secmem_stats st;

	vl_secmem_stats(&st);
	return st.live_blocks;
}

/* ---- the tests ---- */

static void test_placement(void)
{
	static const size_t sizes[] = { 1, 32, 4000, 32752, 32753, 100000, 2u << 20 };
	struct vl_secmem_stats st;

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		uint8_t *p = vl_secure_alloc(sizes[i]);
		bool zero = p != NULL;

		for (size_t k = 0; p && k < sizes[i]; k++)
			zero &= p[k] == 0;
		ok(zero, "vl_secure_alloc(%zu): zeroed memory", sizes[i]);
		ok(p && placed(p, "dd"), "vl_secure_alloc(%zu): MADV_DONTDUMP (VmFlags dd)", sizes[i]);
#ifdef NO_MLOCK
		printf("ok %d - vl_secure_alloc(%zu): mlocked # SKIP %s\n", ++tap_run, sizes[i], NO_MLOCK);
#else
		if (geteuid() == 0)
			ok(p && placed(p, "lo"), "vl_secure_alloc(%zu): mlocked (VmFlags lo)", sizes[i]);
		else
			printf("ok %d - vl_secure_alloc(%zu): mlocked # SKIP not root: RLIMIT_MEMLOCK may be too low\n",
			       ++tap_run, sizes[i]);
#endif
		vl_secure_free(p, sizes[i]);
	}
	vl_secmem_stats(&st);
	ok(st.mapped_bytes > 0 && st.mapped_bytes >= st.locked_bytes, "stats: %zu bytes mapped, %zu locked",
	   st.mapped_bytes, st.locked_bytes);
}

/* Every size class, its edges and the large path: the whole requested length is usable
 * (ASan reports a write past what the pool unpoisoned), and frees return every block. */
static void test_sizes(void)
{
	size_t before = live(), n = 0;
	bool good = true;
	void *p[512];

	for (size_t s = 1; s <= 70000 && n < 512; s += s < 300 ? 1 : s / 7) {
		p[n] = vl_secure_alloc(s);
		if (!p[n]) {
			good = false;
			break;
		}
		memset(p[n], 0x5a, s);
		n++;
	}
	ok(good && live() == before + n, "%zu allocations of 1 to 70000 bytes, each written in full", n);
	for (size_t i = 0; i < n; i++)
		vl_secure_free(p[i], 0);
	ok(live() == before, "all returned to the pool (live %zu, before %zu)", live(), before);
	errno = 0;
	ok(vl_secure_alloc(0) == NULL && errno == EINVAL, "a zero-length allocation is refused");
	vl_secure_free(NULL, 8); /* a no-op */
}

/* What LeakSanitizer no longer sees (libcrypto allocates in the pool): every operation
 * gives back what it took. */
static void test_no_leaks(void)
{
	static const char pw[] = "a password";
	uint8_t master[32] = { 1 }, id[16] = { 2 }, dirid[16] = { 3 }, out[64], blk[4096 + 28];
	struct vl_keys *k = NULL;
	struct vl_filekey *fk = NULL;
	struct vl_config cfg = { .format = 1, .block_size = 4096, .name_max = 220, .scrypt_log2_n = 16, .scrypt_r = 8, .scrypt_p = 1 };
	char enc[VL_ENCNAME_MAX + 1];
	size_t base = 0;
	bool good = true;

	for (int round = 0; round < 3; round++) {
		good &= vl_hkdf_sha256(out, 64, master, 32, NULL, 0, (const uint8_t *)"x", 1) == 0;
		good &= vl_hmac_sha256(out, master, 32, id, 16) == 0;
		good &= vl_keys_new(&k, master) == 0;
		good &= vl_filekey_new(&fk, k, VL_STREAM_CONTENT, id) == 0;
		good &= vl_block_seal(fk, 0, true, blk, 4096, blk, sizeof(blk)) == 0;
		good &= vl_name_encrypt(k, dirid, "name.txt", 8, VL_KIND_PLAIN, enc, sizeof(enc)) > 0;
		good &= vl_config_wrap(&cfg, pw, sizeof(pw) - 1, master) == 0;
		good &= vl_config_unwrap(&cfg, pw, sizeof(pw) - 1, out) == 0;
		good &= vl_random(out, 64) == 0;
		vl_filekey_free(fk);
		vl_keys_free(k);
		/* The first round sets up what lives as long as the thread or the process
		 * (contexts, fetched algorithms, DRBGs); later rounds must not add to it. */
		if (round == 0)
			base = live();
	}
	ok(good && live() == base, "hkdf, hmac, keys, file keys, seal, names, wrap, unwrap, random: "
				   "nothing left behind (%zu live blocks, %zu after one round)", live(), base);
	vl_crypto_thread_cleanup();
	ok(live() < base, "the thread's contexts are released at cleanup (%zu live blocks)", live());
}

/* libcrypto's contexts hold the keys they use: none of them may be in dumpable memory. */
static void test_contexts_not_dumpable(void)
{
	static const char pw[] = "a password for the KEK test";
	uint8_t id[VL_FILEID_LEN] = { 9, 8, 7 }, dirid[VL_DIRID_LEN] = { 1 }, blk[4096 + 28] = { 0 };
	uint8_t *master = vl_secure_alloc(32), *names = vl_secure_alloc(64), *content = vl_secure_alloc(32);
	uint8_t *file = vl_secure_alloc(32), *kek = vl_secure_alloc(32), *tmp = vl_secure_alloc(32);
	uint8_t info[14 + VL_FILEID_LEN], *copy;
	struct vl_config cfg = { .format = 1, .block_size = 4096, .name_max = 220, .scrypt_log2_n = 16, .scrypt_r = 8, .scrypt_p = 1 };
	struct vl_filekey *fk = NULL;
	struct vl_keys *k = NULL;
	char enc[VL_ENCNAME_MAX + 1], dec[256];
	enum vl_kind kind;
	const char *what = "";
	size_t hits;
	bool good;

	good = master && names && content && file && kek && tmp && vl_random(master, 32) == 0 &&
	       vl_keys_new(&k, master) == 0;
	/* The expected keys, by FORMAT.md §1 and §3, straight into secure memory. */
	memcpy(info, "veilfs/v1/file", 14);
	memcpy(info + 14, id, VL_FILEID_LEN);
	good = good &&
	       vl_hkdf_sha256(names, 64, master, 32, NULL, 0, (const uint8_t *)"veilfs/v1/names", 15) == 0 &&
	       vl_hkdf_sha256(content, 32, master, 32, NULL, 0, (const uint8_t *)"veilfs/v1/content", 17) == 0 &&
	       vl_hkdf_sha256(file, 32, content, 32, NULL, 0, info, sizeof(info)) == 0;
	/* Use them: the thread's SIV templates keep the names key, its GCM context the file key. */
	good = good && vl_name_encrypt(k, dirid, "secret name", 11, VL_KIND_PLAIN, enc, sizeof(enc)) > 0 &&
	       vl_name_decrypt(k, dirid, enc, strlen(enc), dec, sizeof(dec), &kind) > 0 &&
	       vl_filekey_new(&fk, k, VL_STREAM_CONTENT, id) == 0 &&
	       vl_block_seal(fk, 0, true, blk, 4096, blk, sizeof(blk)) == 0;
	ok(good, "keys derived and used");
	{
		struct needle nd[8];
		size_t n = 0;

		n += forms(nd + n, "master key", master, 32);
		n += forms(nd + n, "names key", names, 64);
		n += forms(nd + n, "content key", content, 32);
		n += forms(nd + n, "file key", file, 32);
		hits = search(nd, n, true, &what);
		ok(hits > 0, "control: the keys are found when dd memory is searched too (%zu windows, %s)",
		   hits, what);
		hits = search(nd, n, false, &what);
		ok(hits == 0, "no window of the master, names, content or file key in dumpable memory (%zu, %s)",
		   hits, hits ? what : "-");
		copy = malloc(64);
		if (!copy)
			abort();
		memcpy(copy, names, 64);
		hits = search(nd, n, false, &what);
		ok(hits > 0, "control: a copy of the names key in the ordinary heap is found (%zu windows)", hits);
		vl_wipe(copy, 64);
		free(copy);
		forms_free(nd, n);
	}

	/* The KEK is used on a one-shot context: after wrap and unwrap no copy of it is left
	 * anywhere, secure pool included. */
	good = vl_config_wrap(&cfg, pw, sizeof(pw) - 1, master) == 0 &&
	       vl_config_unwrap(&cfg, pw, sizeof(pw) - 1, tmp) == 0 && memcmp(tmp, master, 32) == 0 &&
	       vl_scrypt(kek, 32, pw, sizeof(pw) - 1, cfg.salt, sizeof(cfg.salt), 16, 8, 1) == 0;
	ok(good, "wrap and unwrap with a password");
	{
		struct needle nd[2];
		size_t n = forms(nd, "KEK", kek, 32);
		uint8_t tag[16];

		hits = search(nd, n, true, &what);
		ok(hits == 0, "after wrap, unwrap and scrypt the KEK is nowhere in memory, secure pool and "
			      "stack included (%zu)", hits);
		/* Control: the same key through the cached path stays in this thread's context. */
		good = vl_gcm_seal(kek, vl_key_generation(), cfg.wrap_nonce, NULL, 0, master, 32, tmp, tag) == 0;
		hits = search(nd, n, true, &what);
		ok(good && hits > 0, "control: a key used with a generation stays in the thread's context (%zu)",
		   hits);
		ok(search(nd, n, false, &what) == 0, "that context is not in dumpable memory");
		vl_crypto_thread_cleanup();
		hits = search(nd, n, true, &what);
		ok(hits == 0, "the thread's contexts are wiped when released (%zu)", hits);
		forms_free(nd, n);
	}
	vl_filekey_free(fk);
	vl_keys_free(k);
	vl_secure_free(master, 32);
	vl_secure_free(names, 64);
	vl_secure_free(content, 32);
	vl_secure_free(file, 32);
	vl_secure_free(kek, 32);
	vl_secure_free(tmp, 32);
}

/* Runs fn in a child with its stderr on a pipe; returns the exit status and the stderr text. */
static int in_child(int (*fn)(void), char *err, size_t cap)
{
	int p[2], st = -1;
	size_t len = 0;
	ssize_t n;
	pid_t pid;

	fflush(stdout);
	if (pipe(p) != 0)
		abort();
	pid = fork();
	if (pid == 0) {
		close(p[0]);
		dup2(p[1], STDERR_FILENO);
		_exit(fn()); /* no atexit handlers, no leak check of a half-finished test */
	}
	close(p[1]);
	while (len + 1 < cap && (n = read(p[0], err + len, cap - 1 - len)) > 0)
		len += (size_t)n;
	err[len] = '\0';
	close(p[0]);
	waitpid(pid, &st, 0);
	return st;
}

static __attribute__((unused)) size_t count(const char *s, const char *what)
{
	size_t n = 0;

	for (; (s = strstr(s, what)) != NULL; s++)
		n++;
	return n;
}

/* Without CAP_IPC_LOCK and with RLIMIT_MEMLOCK 0, mlock fails: a mapping over 1 MiB (only
 * scrypt's work area) says nothing, the first other one warns once, and everything stays
 * non-dumpable. Exit status: a bit per failed check. */
static int child_unlocked(void)
{
	struct rlimit rl = { 0, 0 };
	char fl[512];
	void *big, *p[64];
	int bad = 0;

	if (geteuid() == 0 && setuid(65534) != 0) /* nobody: no CAP_IPC_LOCK */
		return 64;
	if (setrlimit(RLIMIT_MEMLOCK, &rl) != 0)
		return 65;
	big = vl_secure_alloc(2u << 20);
	if (!big || !vmflags_of("self", big, fl, sizeof(fl)) || !has_flag(fl, "dd") || has_flag(fl, "lo"))
		bad |= 1;
	fputs("MARK big\n", stderr);
	/* 64 blocks of 16 KiB: more than one new arena. */
	for (int i = 0; i < 64; i++) {
		p[i] = vl_secure_alloc(16000);
		if (!p[i] || !vmflags_of("self", p[i], fl, sizeof(fl)) || !has_flag(fl, "dd"))
			bad |= 2;
	}
	if (vl_random(p[0], 32) != 0) /* libcrypto still works */
		bad |= 4;
	for (int i = 0; i < 64; i++)
		vl_secure_free(p[i], 16000);
	vl_secure_free(big, 2u << 20);
	return bad;
}

static void test_unlocked(void)
{
	char err[4096];
	int st = in_child(child_unlocked, err, sizeof(err));
	const char *mark = strstr(err, "MARK big\n");

	ok(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	   "mlock refused: allocations still work, stay MADV_DONTDUMP (status %d)", st);
#ifdef NO_MLOCK
	(void)mark;
	printf("ok %d - one warning, and none for scrypt's large work area # SKIP %s\n", ++tap_run, NO_MLOCK);
#else
	if (!ok(mark && count(err, "cannot lock key memory") == 1 && count(mark, "cannot lock key memory") == 1,
		"one warning, and none for scrypt's large work area"))
		diag("the child's stderr: %s", err);
#endif
}

#ifdef NO_MLOCK
static void test_fork(void)
{
	printf("ok %d - a forked child's pool is locked again # SKIP %s\n", ++tap_run, NO_MLOCK);
}
#else
static char *g_locked_block;

/* fork: mlock is not inherited; the pool locks the child's copies again. */
static int child_after_fork(void)
{
	char fl[512];

	if (!vmflags_of("self", g_locked_block, fl, sizeof(fl)))
		return 2;
	return has_flag(fl, "lo") && has_flag(fl, "dd") ? 0 : 1;
}

static void test_fork(void)
{
	char err[256];
	int st;

	if (geteuid() != 0) {
		printf("ok %d - a forked child's pool is locked again # SKIP not root\n", ++tap_run);
		return;
	}
	g_locked_block = vl_secure_alloc(64);
	st = in_child(child_after_fork, err, sizeof(err));
	ok(WIFEXITED(st) && WEXITSTATUS(st) == 0, "a forked child's pool is locked again and dd (status %d)", st);
	vl_secure_free(g_locked_block, 64);
}
#endif

static int child_double_free(void)
{
	void *p = vl_secure_alloc(100);

	vl_secure_free(p, 100);
	vl_secure_free(p, 100);
	return 0;
}

static int child_nodump(void)
{
	if (prctl(PR_GET_DUMPABLE) != 1)
		return 1; /* the control: dumpable before */
	if (vl_process_nodump() != 0)
		return 2;
	return prctl(PR_GET_DUMPABLE) == 0 ? 0 : 3;
}

int main(void)
{
	char err[4096];
	int st;

	if (vl_crypto_init() != 0) /* first: libcrypto allocates in the secure pool */
		return 99;
	ok(vl_crypto_init() == 0 && vl_crypto_ready(), "vl_crypto_init is idempotent");
	test_placement();
	test_sizes();
	test_no_leaks();
	test_contexts_not_dumpable();
	test_unlocked();
	test_fork();
	st = in_child(child_double_free, err, sizeof(err));
	ok(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT, "a double free stops the process (status %d)", st);
	st = in_child(child_nodump, err, sizeof(err));
	ok(WIFEXITED(st) && WEXITSTATUS(st) == 0, "vl_process_nodump makes a dumpable process non-dumpable (%d)",
	   st);
	vl_crypto_thread_cleanup();
	return done_testing();
}
