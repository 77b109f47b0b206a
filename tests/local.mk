# Tests: TAP through the parallel harness. Unit tests are C programs; mounted tests are shell.
LOG_DRIVER = env AM_TAP_AWK='$(AWK)' $(SHELL) $(top_srcdir)/build-aux/tap-driver.sh
TEST_EXTENSIONS = .sh
SH_LOG_DRIVER = $(LOG_DRIVER)
AM_TESTS_ENVIRONMENT = \
	VEILFS='$(abs_top_builddir)/veilfs'; VEILCTL='$(abs_top_builddir)/veilctl'; \
	FUSERMOUNT='$(FUSERMOUNT)'; TOP_SRCDIR='$(abs_top_srcdir)'; TOP_BUILDDIR='$(abs_top_builddir)'; \
	export VEILFS VEILCTL FUSERMOUNT TOP_SRCDIR TOP_BUILDDIR;
EXTRA_DIST += tests

# --- Mounted tests and the fsx exerciser (owner: tests helper) ---
check_PROGRAMS += tests/fsx
tests_fsx_SOURCES = tests/fsx.c
TESTS += \
	tests/t20-basic.sh \
	tests/t21-attrs.sh \
	tests/t22-rename.sh \
	tests/t23-links.sh \
	tests/t24-xattr.sh \
	tests/t25-misc.sh

