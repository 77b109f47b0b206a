# libFuzzer targets (clang). Each gets a short smoke run in make check (tests/fuzz-smoke.sh).
EXTRA_DIST += fuzz/fuzz_config.c fuzz/fuzz_header.c fuzz/fuzz_name.c fuzz/fuzz_idfile.c fuzz/corpus
# The targets are built by $(FUZZ_CC) from the crypto sources directly, not from
# libveilcrypto.a: the library is compiled by $(CC) (often gcc) without fuzzer
# instrumentation, and the fuzzers need the coverage and sanitizers in the code under test.
VL_FUZZ_TARGETS = fuzz/fuzz_config fuzz/fuzz_header fuzz/fuzz_name fuzz/fuzz_idfile
VL_FUZZ_CRYPTO_SRCS = \
	$(srcdir)/crypto/secmem.c $(srcdir)/crypto/aead.c $(srcdir)/crypto/kdf.c \
	$(srcdir)/crypto/keys.c $(srcdir)/crypto/content.c $(srcdir)/crypto/base32.c \
	$(srcdir)/crypto/names.c $(srcdir)/crypto/dirid.c $(srcdir)/crypto/config.c \
	$(srcdir)/crypto/xattr.c $(srcdir)/crypto/conflict.c
VL_FUZZ_CRYPTO_HDRS = \
	$(srcdir)/crypto/common.h $(srcdir)/crypto/keys_internal.h $(srcdir)/crypto/secmem.h \
	$(srcdir)/crypto/kdf.h $(srcdir)/crypto/keys.h $(srcdir)/crypto/content.h \
	$(srcdir)/crypto/base32.h $(srcdir)/crypto/names.h $(srcdir)/crypto/dirid.h \
	$(srcdir)/crypto/config.h $(srcdir)/crypto/xattr.h $(srcdir)/crypto/conflict.h
VL_FUZZ_CFLAGS = -std=gnu11 -g -O1 -pthread -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=all -I$(top_srcdir) -I$(top_builddir) $(CRYPTO_CFLAGS)
VL_FUZZ_LINK = $(FUZZ_CC) $(VL_FUZZ_CFLAGS) -o $@ $(VL_FUZZ_CRYPTO_SRCS)

if HAVE_FUZZ
check_SCRIPTS = $(VL_FUZZ_TARGETS)
CLEANFILES += $(VL_FUZZ_TARGETS)

fuzz/fuzz_config: $(srcdir)/fuzz/fuzz_config.c $(VL_FUZZ_CRYPTO_SRCS) $(VL_FUZZ_CRYPTO_HDRS)
	@$(MKDIR_P) fuzz
	$(AM_V_CC)$(VL_FUZZ_LINK) $(srcdir)/fuzz/fuzz_config.c $(CRYPTO_LIBS)
fuzz/fuzz_header: $(srcdir)/fuzz/fuzz_header.c $(VL_FUZZ_CRYPTO_SRCS) $(VL_FUZZ_CRYPTO_HDRS)
	@$(MKDIR_P) fuzz
	$(AM_V_CC)$(VL_FUZZ_LINK) $(srcdir)/fuzz/fuzz_header.c $(CRYPTO_LIBS)
fuzz/fuzz_name: $(srcdir)/fuzz/fuzz_name.c $(VL_FUZZ_CRYPTO_SRCS) $(VL_FUZZ_CRYPTO_HDRS)
	@$(MKDIR_P) fuzz
	$(AM_V_CC)$(VL_FUZZ_LINK) $(srcdir)/fuzz/fuzz_name.c $(CRYPTO_LIBS)
fuzz/fuzz_idfile: $(srcdir)/fuzz/fuzz_idfile.c $(VL_FUZZ_CRYPTO_SRCS) $(VL_FUZZ_CRYPTO_HDRS)
	@$(MKDIR_P) fuzz
	$(AM_V_CC)$(VL_FUZZ_LINK) $(srcdir)/fuzz/fuzz_idfile.c $(CRYPTO_LIBS)
endif

# ---- the control socket's messages (owner: run; issue 12 §5) ----
EXTRA_DIST += fuzz/fuzz_ctl.c
VL_FUZZ_CTL_SRCS = $(srcdir)/fs/ctlproto.c
VL_FUZZ_CTL_HDRS = $(srcdir)/fs/ctlproto.h $(srcdir)/crypto/common.h
if HAVE_FUZZ
check_SCRIPTS += fuzz/fuzz_ctl
CLEANFILES += fuzz/fuzz_ctl

fuzz/fuzz_ctl: $(srcdir)/fuzz/fuzz_ctl.c $(VL_FUZZ_CTL_SRCS) $(VL_FUZZ_CTL_HDRS)
	@$(MKDIR_P) fuzz
	$(AM_V_CC)$(FUZZ_CC) $(VL_FUZZ_CFLAGS) -o $@ $(srcdir)/fuzz/fuzz_ctl.c $(VL_FUZZ_CTL_SRCS)
endif
