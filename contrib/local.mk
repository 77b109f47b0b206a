# contrib/: the systemd user unit and its credential drop-in, bash completions, and the
# pam_mount example (docs/LOGIN.md). Owner: pkg.
systemduserunit_DATA = contrib/systemd/veilfs@.service
bashcompletion_DATA = contrib/bash-completion/veilctl contrib/bash-completion/veilfs
examplesdir = $(docdir)/examples
examples_DATA = contrib/pam_mount/pam_mount.conf.xml contrib/systemd/credential.conf
dist_doc_DATA = docs/LOGIN.md
EXTRA_DIST += contrib/systemd/veilfs@.service.in contrib/systemd/credential.conf.in \
	contrib/bash-completion/veilctl contrib/pam_mount/pam_mount.conf.xml
CLEANFILES += contrib/systemd/veilfs@.service contrib/systemd/credential.conf \
	contrib/bash-completion/veilfs

# The unit names the installed veilfs (bindir is known only at make time).
VL_SUBST = sed -e 's|@bindir[@]|$(bindir)|g'
contrib/systemd/veilfs@.service: $(srcdir)/contrib/systemd/veilfs@.service.in Makefile
	$(AM_V_GEN)$(MKDIR_P) contrib/systemd && $(VL_SUBST) $(srcdir)/$@.in >$@.tmp && mv $@.tmp $@
contrib/systemd/credential.conf: $(srcdir)/contrib/systemd/credential.conf.in Makefile
	$(AM_V_GEN)$(MKDIR_P) contrib/systemd && $(VL_SUBST) $(srcdir)/$@.in >$@.tmp && mv $@.tmp $@
# bash-completion loads completions by command name: veilfs shares veilctl's file.
contrib/bash-completion/veilfs: $(srcdir)/contrib/bash-completion/veilctl
	$(AM_V_GEN)$(MKDIR_P) contrib/bash-completion && cp $(srcdir)/contrib/bash-completion/veilctl $@
# The Debian packaging travels with the sources (a native package).
EXTRA_DIST += debian/changelog debian/control debian/copyright debian/rules \
	debian/source/format debian/veilfs.docs
