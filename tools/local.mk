# tools/: veilctl, on the same library code as the daemon (no FUSE).
bin_PROGRAMS += veilctl
veilctl_SOURCES = tools/veilctl.c tools/veilctl.h tools/fsck.c tools/browse.c tools/conflicts.c tools/upgrade.c
# veilctl run, the control socket client, progress on a terminal (issue 12 §4, §5, §8).
veilctl_SOURCES += tools/mounted.c tools/progress.c tools/progress.h tools/run.c
veilctl_LDADD = $(VL_CORE_LIBS)
