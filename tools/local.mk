# tools/: veilctl, on the same library code as the daemon.
bin_PROGRAMS += veilctl
veilctl_SOURCES = tools/veilctl.c
veilctl_LDADD = $(VL_CORE_LIBS)
