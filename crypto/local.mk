# crypto/: pure functions over buffers and keys; the only place OpenSSL headers appear.
noinst_LIBRARIES += libveilcrypto.a
libveilcrypto_a_SOURCES = \
	crypto/common.h \
	crypto/secmem.c crypto/secmem.h \
	crypto/aead.c \
	crypto/kdf.c crypto/kdf.h \
	crypto/keys.c crypto/keys.h crypto/keys_internal.h \
	crypto/content.c crypto/content.h \
	crypto/base32.c crypto/base32.h \
	crypto/names.c crypto/names.h \
	crypto/dirid.c crypto/dirid.h \
	crypto/config.c crypto/config.h \
	crypto/xattr.c crypto/xattr.h \
	crypto/conflict.c crypto/conflict.h
