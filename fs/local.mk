# fs/: the backing-I/O and vault library shared with tools/ (libveilcore.a), and the FUSE
# daemon. Only the daemon's files (fs/main.c, the FUSE layer fs/ops*.c and fs/watch.c)
# include FUSE headers.
noinst_LIBRARIES += libveilcore.a
libveilcore_a_SOURCES = \
	fs/backing.c fs/backing.h \
	fs/log.c fs/log.h \
	fs/vault.c fs/vault.h \
	fs/fileio.c fs/fileio.h \
	fs/dirs.c fs/dirs.h \
	fs/dirinfo.c fs/dirinfo.h \
	fs/entry.c fs/entry.h \
	fs/object.c fs/object.h \
	fs/password.c fs/password.h \
	fs/exitcodes.h \
	fs/recovery.c fs/recovery.h \
	fs/nesting.c fs/nesting.h \
	fs/precheck.c fs/precheck.h

VL_CORE_LIBS = libveilcore.a libveilcrypto.a $(CRYPTO_LIBS) $(XXHASH_LIBS)

bin_PROGRAMS += veilfs
veilfs_SOURCES = fs/main.c fs/ops.c fs/ops.h fs/opsdir.c fs/opsxattr.c fs/opsint.h fs/inode.c fs/inode.h fs/watch.c fs/watch.h
veilfs_CFLAGS = $(AM_CFLAGS) $(FUSE_CFLAGS)
veilfs_LDADD = $(VL_CORE_LIBS) $(FUSE_LIBS)

# Paths resolved for both veilctl and the control socket, the control socket itself, mount
# lookups and unlock feedback (issue 12 §5, §8).
libveilcore_a_SOURCES += \
	fs/resolve.c fs/resolve.h \
	fs/vaultinfo.c fs/vaultinfo.h \
	fs/ctlproto.c fs/ctlproto.h \
	fs/ctl.c fs/ctl.h \
	fs/mountinfo.c fs/mountinfo.h \
	fs/mounts.c fs/mounts.h \
	fs/feedback.c fs/feedback.h
