/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unlock feedback (fs/feedback.h). */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "../crypto/kdf.h"
#include "../crypto/secmem.h"
#include "feedback.h"

/* On the 2-core test machine a run at N = 2^18 took 1.15-1.41 s where 2^12 scaled up said
 * 0.92 s, and 2^16 took 1.07x the scaled figure: a large N leaves the caches and faults in
 * fresh pages. With this factor the estimates came within 0.1 s at 2^16..2^18. */
#define VL_KDF_LARGE_N_FACTOR 1.2

static double mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double vl_kdf_estimate(unsigned log2_n, uint32_t r, uint32_t p)
{
	/* Not a secret: a fixed password and salt, only to time the work. */
	static const uint8_t salt[16] = { 0 };
	unsigned cal = log2_n < VL_KDF_CALIBRATE_LOG2N ? log2_n : VL_KDF_CALIBRATE_LOG2N;
	uint8_t out[32];
	double t0, t = 0;

	if (log2_n > 40 || r == 0 || p == 0)
		return -1;
	/* The best of two runs: the first also pays for OpenSSL's one-time setup. */
	for (int i = 0; i < 2; i++) {
		double d;
		int rc;

		t0 = mono_now();
		rc = vl_scrypt(out, sizeof(out), "calibration", 11, salt, sizeof(salt), cal, r, 1);
		if (rc < 0)
			return -1;
		d = mono_now() - t0;
		if (i == 0 || d < t)
			t = d;
	}
	vl_wipe(out, sizeof(out));
	t *= (double)((uint64_t)1 << (log2_n - cal)) * p;
	return log2_n > cal ? t * VL_KDF_LARGE_N_FACTOR : t;
}

void vl_feedback_begin(struct vl_feedback *fb, const char *what, const struct vl_config *cfg)
{
	double est;

	fb->on = false;
	if (!isatty(STDERR_FILENO))
		return;
	est = vl_kdf_estimate(cfg->scrypt_log2_n, cfg->scrypt_r, cfg->scrypt_p);
	if (est < 0)
		fprintf(stderr, "%s: %s (scrypt N=2^%u)... ", program_invocation_short_name, what,
			cfg->scrypt_log2_n);
	else
		fprintf(stderr, "%s: %s (scrypt N=2^%u, about %.*f s)... ",
			program_invocation_short_name, what, cfg->scrypt_log2_n, est < 10 ? 1 : 0,
			est < 0.1 ? 0.1 : est);
	fflush(stderr);
	fb->on = true;
	fb->t0 = mono_now();
}

void vl_feedback_end(struct vl_feedback *fb, bool ok)
{
	if (!fb->on)
		return;
	if (ok)
		fprintf(stderr, "done in %.1f s\n", mono_now() - fb->t0);
	else
		fprintf(stderr, "failed\n");
	fb->on = false;
}
