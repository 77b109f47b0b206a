# tools/: veilctl, on the same library code as the daemon (no FUSE).
bin_PROGRAMS += veilctl
veilctl_SOURCES = tools/veilctl.c tools/veilctl.h tools/fsck.c tools/browse.c tools/conflicts.c \
	tools/upgrade.c tools/walk.c tools/walk.h
veilctl_LDADD = $(VL_CORE_LIBS)
