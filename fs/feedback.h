/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What a person at a terminal sees while a password key is derived (scrypt: about a second
 * on an idle machine, many on a loaded one): one line on stderr, "PROG: WHAT (about X s)...
 * done in Y s", with X measured now on this machine. Nothing at all when stderr is not a
 * terminal (pipes, logs, the daemon once detached). */
#ifndef VEILFS_FS_FEEDBACK_H
#define VEILFS_FS_FEEDBACK_H

#include <stdbool.h>
#include <stdint.h>

#include "../crypto/config.h"

/* The calibration run's cost: N = 2^12 takes about 10 ms here, little next to 2^16..2^24. */
#define VL_KDF_CALIBRATE_LOG2N 12

struct vl_feedback {
	bool on;   /* stderr is a terminal: begin printed, end will finish the line */
	double t0; /* CLOCK_MONOTONIC seconds at begin */
};

/* Estimates how many seconds one scrypt derivation at N = 2^log2_n, r, p takes on this
 * machine now: times one at N = 2^VL_KDF_CALIBRATE_LOG2N with the same r and scales it by
 * N and p (scrypt's time is linear in both), and by the factor measured for a large N
 * running out of the caches (fs/feedback.c). A loaded machine slows the calibration
 * as much as the real run, so the estimate follows the load. Negative if the calibration
 * failed. */
double vl_kdf_estimate(unsigned log2_n, uint32_t r, uint32_t p);
/* When stderr is a terminal, prints "PROG: what (about X s)... " for cfg's scrypt costs
 * (what is e.g. "unlocking"). */
void vl_feedback_begin(struct vl_feedback *fb, const char *what, const struct vl_config *cfg);
/* Finishes the line begin started: "done in Y s" or "failed". No-op if begin printed
 * nothing. */
void vl_feedback_end(struct vl_feedback *fb, bool ok);

#endif
