# Tests: TAP through the parallel harness. Unit tests are C programs; mounted tests are shell.
LOG_DRIVER = env AM_TAP_AWK='$(AWK)' $(SHELL) $(top_srcdir)/build-aux/tap-driver.sh
TEST_EXTENSIONS = .sh
SH_LOG_DRIVER = $(LOG_DRIVER)
AM_TESTS_ENVIRONMENT = \
	VEILFS='$(abs_top_builddir)/veilfs'; VEILCTL='$(abs_top_builddir)/veilctl'; \
	FUSERMOUNT='$(FUSERMOUNT)'; TOP_SRCDIR='$(abs_top_srcdir)'; TOP_BUILDDIR='$(abs_top_builddir)'; \
	export VEILFS VEILCTL FUSERMOUNT TOP_SRCDIR TOP_BUILDDIR;
# Listed file by file: a directory in EXTRA_DIST would also take the build tree's outputs.
EXTRA_DIST += tests/lib.sh tests/sync-lib.sh tests/summary.sh tests/run-all.sh tests/golden \
	tests/unit/tap.h tests/unit/core_util.h tests/unit/format_vectors.py tests/fuzz-smoke.sh tests/soak.sh \
	tests/t05-golden.sh tests/t10-veilctl-config.sh tests/t10-veilctl-export.sh \
	tests/t10-veilctl-fsck.sh tests/t11-man-help.sh tests/t20-basic.sh tests/t21-attrs.sh \
	tests/t22-rename.sh tests/t23-links.sh tests/t24-xattr.sh tests/t25-misc.sh \
	tests/t30-tamper.sh tests/t31-options.sh tests/t32-mount-modes.sh tests/t40-programs.sh \
	tests/t45-fsx.sh tests/t50-crash.sh tests/t60-conflicts.sh tests/t61-devices-partial.sh \
	tests/t62-rclone-bisync.sh tests/t63-unison.sh tests/t64-dirid-conflict.sh \
	tests/t65-sync-mounted.sh tests/t66-syncthing.sh

# --- Mounted tests and the fsx exerciser (owner: tests helper) ---
check_PROGRAMS += tests/fsx
tests_fsx_SOURCES = tests/fsx.c
TESTS += \
	tests/t20-basic.sh \
	tests/t21-attrs.sh \
	tests/t22-rename.sh \
	tests/t23-links.sh \
	tests/t24-xattr.sh \
	tests/t25-misc.sh \
	tests/t30-tamper.sh \
	tests/t31-options.sh \
	tests/t40-programs.sh \
	tests/t45-fsx.sh \
	tests/t50-crash.sh

# --- libveilcore unit tests (owner: fs core library) ---
VL_CORE_TESTS = \
	tests/unit/test_core_fileio \
	tests/unit/test_core_dirs \
	tests/unit/test_core_vault \
	tests/unit/test_core_object \
	tests/unit/test_core_password
check_PROGRAMS += $(VL_CORE_TESTS)
TESTS += $(VL_CORE_TESTS)
VL_CORE_TEST_HDRS = tests/unit/tap.h tests/unit/core_util.h
tests_unit_test_core_fileio_SOURCES = tests/unit/test_core_fileio.c $(VL_CORE_TEST_HDRS)
tests_unit_test_core_fileio_LDADD = $(VL_CORE_LIBS)
tests_unit_test_core_dirs_SOURCES = tests/unit/test_core_dirs.c $(VL_CORE_TEST_HDRS)
tests_unit_test_core_dirs_LDADD = $(VL_CORE_LIBS)
tests_unit_test_core_vault_SOURCES = tests/unit/test_core_vault.c $(VL_CORE_TEST_HDRS)
tests_unit_test_core_vault_LDADD = $(VL_CORE_LIBS)
tests_unit_test_core_object_SOURCES = tests/unit/test_core_object.c $(VL_CORE_TEST_HDRS)
tests_unit_test_core_object_LDADD = $(VL_CORE_LIBS)
tests_unit_test_core_password_SOURCES = tests/unit/test_core_password.c $(VL_CORE_TEST_HDRS)
tests_unit_test_core_password_LDADD = $(VL_CORE_LIBS)

# ---- crypto layer unit tests and fuzz smoke run (owned by the crypto engineer) ----
VL_UNIT_LDADD = libveilcrypto.a $(CRYPTO_LIBS)
check_PROGRAMS += tests/unit/test_kat tests/unit/test_format tests/unit/test_config
tests_unit_test_kat_SOURCES = tests/unit/test_kat.c tests/unit/tap.h
tests_unit_test_kat_LDADD = $(VL_UNIT_LDADD)
tests_unit_test_format_SOURCES = tests/unit/test_format.c tests/unit/tap.h
tests_unit_test_format_LDADD = $(VL_UNIT_LDADD)
tests_unit_test_config_SOURCES = tests/unit/test_config.c tests/unit/tap.h
tests_unit_test_config_LDADD = $(VL_UNIT_LDADD)
TESTS += tests/unit/test_kat tests/unit/test_format tests/unit/test_config tests/fuzz-smoke.sh

# ---- veilctl tests, no mount (owned by the veilctl engineer) ----
TESTS += tests/t10-veilctl-config.sh tests/t10-veilctl-fsck.sh tests/t10-veilctl-export.sh

# ---- the golden vault of format v1 (owned by the lead) ----
TESTS += tests/t05-golden.sh

# ---- sync: conflict copies, partial sync, several devices, real sync engines (owner: sync engineer) ----
check_PROGRAMS += tests/unit/test_conflict
tests_unit_test_conflict_SOURCES = tests/unit/test_conflict.c tests/unit/tap.h
tests_unit_test_conflict_LDADD = $(VL_UNIT_LDADD)
TESTS += tests/unit/test_conflict
TESTS += tests/t60-conflicts.sh tests/t61-devices-partial.sh tests/t62-rclone-bisync.sh \
	tests/t63-unison.sh

# ---- man pages and --help of every command (owned by the lead) ----
TESTS += tests/t11-man-help.sh tests/t32-mount-modes.sh

# ---- sync, continued: veilfs.dirid conflict copies, sync while mounted (owner: sync engineer) ----
TESTS += tests/t64-dirid-conflict.sh tests/t65-sync-mounted.sh tests/t66-syncthing.sh

# ---- lookups of missing names: per-directory knowledge of copies and objects (owner: perf) ----
TESTS += tests/t67-lookup-cache.sh
EXTRA_DIST += tests/t67-lookup-cache.sh

# ---- mount coherence under a live sync client: watches, stale inodes, rewinddir (owner: watch) ----
TESTS += tests/t68-watch-coherence.sh tests/t69-rewinddir.sh
EXTRA_DIST += tests/t68-watch-coherence.sh tests/t69-rewinddir.sh
TESTS += tests/t70-engines-mounted.sh
EXTRA_DIST += tests/t70-engines-mounted.sh
TESTS += tests/t71-random-two-device.sh
EXTRA_DIST += tests/t71-random-two-device.sh tests/sync-random.py tests/soak-sync.sh
TESTS += tests/t72-watch-fallback.sh
EXTRA_DIST += tests/t72-watch-fallback.sh

# ---- format 2 (issue 10): the core mount tests again on format-1 vaults, which stay
# readable and writable (owner: lead) ----
VL_V1_TESTS = tests/t20-basic-v1.sh tests/t21-attrs-v1.sh tests/t22-rename-v1.sh \
	tests/t23-links-v1.sh tests/t24-xattr-v1.sh tests/t25-misc-v1.sh tests/t30-tamper-v1.sh \
	tests/t61-devices-partial-v1.sh
TESTS += $(VL_V1_TESTS)
EXTRA_DIST += $(VL_V1_TESTS)

# ---- format 2 pinned by an independent implementation of FORMAT.md (owner: v2vec) ----
# Linked with libveilcore too: it also reads a vault made of the reference's bytes.
check_PROGRAMS += tests/unit/test_format_v2
tests_unit_test_format_v2_SOURCES = tests/unit/test_format_v2.c tests/unit/tap.h tests/unit/core_util.h
tests_unit_test_format_v2_LDADD = $(VL_CORE_LIBS)
TESTS += tests/unit/test_format_v2
EXTRA_DIST += tests/unit/format_vectors_v2.py

# ---- libveilcore unit tests of format 2 (owner: v2unit) ----
check_PROGRAMS += tests/unit/test_core_v2
tests_unit_test_core_v2_SOURCES = tests/unit/test_core_v2.c $(VL_CORE_TEST_HDRS)
tests_unit_test_core_v2_LDADD = $(VL_CORE_LIBS)
TESTS += tests/unit/test_core_v2
EXTRA_DIST += tests/unit/test_core_v2.c

# ---- keys out of core dumps: the secure pool, keyscan, gcore and SIGABRT (owner: secmem) ----
check_PROGRAMS += tests/unit/test_secmem tests/keyscan
tests_unit_test_secmem_SOURCES = tests/unit/test_secmem.c tests/unit/tap.h
tests_unit_test_secmem_LDADD = $(VL_UNIT_LDADD)
tests_keyscan_SOURCES = tests/keyscan.c
tests_keyscan_LDADD = $(VL_CORE_LIBS)
TESTS += tests/unit/test_secmem tests/t12-secrets-core.sh
EXTRA_DIST += tests/t12-secrets-core.sh

# ---- veilctl run, the control socket, feedback on a terminal (owner: run; issue 12 §4, §5, §8) ----
check_PROGRAMS += tests/unit/test_ctl
tests_unit_test_ctl_SOURCES = tests/unit/test_ctl.c tests/unit/tap.h
tests_unit_test_ctl_LDADD = $(VL_CORE_LIBS)
TESTS += tests/unit/test_ctl
TESTS += tests/t81-run.sh tests/t81-run-user.sh
EXTRA_DIST += tests/t81-run.sh tests/t81-run-user.sh
TESTS += tests/t82-control.sh tests/t82-feedback.sh
EXTRA_DIST += tests/t82-control.sh tests/t82-feedback.sh

# ---- packaging and login mounts: password on stdin, pam_mount, systemd, Debian package (owner: pkg) ----
TESTS += tests/t80-password-stdin.sh tests/t80-pam-mount.sh tests/t80-systemd.sh tests/t80-install.sh
EXTRA_DIST += tests/t80-password-stdin.sh tests/t80-pam-mount.sh tests/t80-systemd.sh \
	tests/t80-install.sh tests/deb-test.sh tests/pristine-install.sh
# The unit tests only: no FUSE, no root, nothing changed outside the build tree. What a
# package build runs (debian/rules). A new tests/unit/ program belongs in this list too.
VL_UNIT_CHECK = $(VL_CORE_TESTS) tests/unit/test_kat tests/unit/test_format \
	tests/unit/test_config tests/unit/test_conflict
check-unit:
	$(MAKE) $(AM_MAKEFLAGS) check TESTS='$(VL_UNIT_CHECK)'
.PHONY: check-unit

# ---- issue 9 §2-§6: mountpoint safety, exit codes and signals, hostile trees in veilctl,
# conflict-copy names (owner: harden) ----
check_PROGRAMS += tests/unit/test_nesting
tests_unit_test_nesting_SOURCES = tests/unit/test_nesting.c tests/unit/tap.h
tests_unit_test_nesting_LDADD = $(VL_CORE_LIBS)
TESTS += tests/unit/test_nesting \
	tests/t13-mount-safety.sh tests/t14-veilctl-hostile.sh tests/t14-deep-trees.sh
VL_UNIT_CHECK += tests/unit/test_nesting
EXTRA_DIST += tests/t13-mount-safety.sh tests/t14-veilctl-hostile.sh tests/t14-deep-trees.sh \
	tests/fifo_swap.c
# An LD_PRELOAD helper of t14 (a fifo swapped in after a type check). Built without the
# sanitizers' flags: it runs in front of their runtime.
check_DATA = tests/fifo_swap.so
CLEANFILES += tests/fifo_swap.so
tests/fifo_swap.so: $(srcdir)/tests/fifo_swap.c
	@$(MKDIR_P) tests
	$(AM_V_CC)$(CC) -std=gnu11 -O1 -Wall -shared -fPIC -o $@ $(srcdir)/tests/fifo_swap.c -ldl

# ---- harden's tests on format 2 (issue 9 §4 on issue 10's format): a tree of 100,000 levels
# made with the key, as veilfs makes each level; conflicts --resolve-dirids keeps a
# directory's ID file (v2attack-9) (owner: toolsmerge) ----
check_PROGRAMS += tests/mkdeep
tests_mkdeep_SOURCES = tests/mkdeep.c
tests_mkdeep_LDADD = $(VL_CORE_LIBS)
TESTS += tests/t64-resolve-dirids-idfile.sh
EXTRA_DIST += tests/t64-resolve-dirids-idfile.sh

# ---- format 2: veilctl upgrade from format 1, killed at many points; the golden v2 tree is
# read by t05 (owner: v2golden) ----
TESTS += tests/t16-upgrade.sh
EXTRA_DIST += tests/t16-upgrade.sh

# ---- format 2 attacks: sync engines' and the storage side's changes made by hand, checked
# through the mount, veilctl and fsck (owner: v2attack) ----
TESTS += tests/t83-v2-engines-by-hand.sh tests/t84-v2-tamper.sh tests/t85-v2-crash-states.sh \
	tests/t86-v2-deliveries-by-hand.sh
EXTRA_DIST += tests/t83-v2-engines-by-hand.sh tests/t84-v2-tamper.sh tests/t85-v2-crash-states.sh \
	tests/t86-v2-deliveries-by-hand.sh \
	tests/v2attack-lib.sh tests/v2attack-manifest.py \
	tests/v2attack-merge.py
