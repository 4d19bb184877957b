# packaging: systemd units, sysusers and tmpfiles snippets.
dist_systemdsystemunit_DATA = packaging/systemd/portctld.socket
nodist_systemdsystemunit_DATA = packaging/systemd/portctld.service
dist_sysusers_DATA = packaging/sysusers.d/portctl.conf
dist_tmpfiles_DATA = packaging/tmpfiles.d/portctl.conf
EXTRA_DIST += packaging/systemd/portctld.service.in
CLEANFILES += packaging/systemd/portctld.service

# The unit names the installed daemon's path.
packaging/systemd/portctld.service: packaging/systemd/portctld.service.in Makefile
	$(AM_V_GEN)$(MKDIR_P) packaging/systemd && \
	sed -e 's|@sbindir[@]|$(sbindir)|g' $(srcdir)/packaging/systemd/portctld.service.in > $@
