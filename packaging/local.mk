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

# Distro packaging: Debian (packaging/debian, copied to debian/ of a fresh
# dist tree by "make deb"), RPM (packaging/rpm), fail2ban action, Ansible.
PC_DEBIAN_FILES = packaging/debian/changelog packaging/debian/control \
	packaging/debian/copyright packaging/debian/rules \
	packaging/debian/postinst packaging/debian/postrm packaging/debian/prerm \
	packaging/debian/source/format packaging/debian/portctl.lintian-overrides
EXTRA_DIST += $(PC_DEBIAN_FILES) packaging/rpm/portctl.spec \
	packaging/fail2ban/action.d/portctl.conf

# The fail2ban action, for fail2ban's action.d.
fail2banactiondir = $(sysconfdir)/fail2ban/action.d
dist_fail2banaction_DATA = packaging/fail2ban/action.d/portctl.conf

# Packaging checks: the units verify; the fail2ban action bans for real.
TESTS += tests/packaging/test_units.sh tests/packaging/test_ansible_syntax.sh \
	tests/integration/test_fail2ban.sh
EXTRA_DIST += tests/packaging/test_units.sh tests/packaging/test_ansible_syntax.sh \
	tests/integration/test_fail2ban.sh tests/packaging/deb-chroot.sh \
	tests/packaging/deb-systemd.sh tests/packaging/deb-lifecycle.sh \
	tests/packaging/deb-fail2ban.sh tests/packaging/container-lib.sh \
	tests/bench/bench_ban.sh \
	packaging/ansible/portctl-rules.yml packaging/ansible/files/50-web.rules

# "make deb": binary .deb from this tree's dist tarball, built the way a
# Debian builder would (dpkg-buildpackage in a clean unpacked tree); the
# .deb, .changes and .buildinfo land in the build directory.
PC_DEB_DIR = deb-build
deb: dist-gzip
	rm -rf $(PC_DEB_DIR) && $(MKDIR_P) $(PC_DEB_DIR)
	cp $(distdir).tar.gz $(PC_DEB_DIR)/$(PACKAGE)_$(VERSION).orig.tar.gz
	tar -C $(PC_DEB_DIR) -xzf $(distdir).tar.gz
	cp -R $(PC_DEB_DIR)/$(distdir)/packaging/debian $(PC_DEB_DIR)/$(distdir)/debian
	cd $(PC_DEB_DIR)/$(distdir) && dpkg-buildpackage -us -uc -b
	mv -f $(PC_DEB_DIR)/*.deb $(PC_DEB_DIR)/*.changes $(PC_DEB_DIR)/*.buildinfo .

# "make deb-lintian": the package must stay free of lintian errors and
# warnings (overrides, each with its reason, in portctl.lintian-overrides).
deb-lintian: deb
	lintian --fail-on error,warning --info $(PACKAGE)_$(VERSION)-*.changes

# "make rpm": binary and source RPMs from the same dist tarball. On a
# builder whose rpm database knows no build dependencies (Debian), run
# make rpm RPMBUILD_FLAGS=--nodeps.
PC_RPM_DIR = $(abs_builddir)/rpm-build
rpm: dist-gzip
	rm -rf $(PC_RPM_DIR) && $(MKDIR_P) $(PC_RPM_DIR)/SOURCES
	cp $(distdir).tar.gz $(PC_RPM_DIR)/SOURCES/
	cp $(srcdir)/packaging/sysusers.d/portctl.conf $(PC_RPM_DIR)/SOURCES/portctl.sysusers
	rpmbuild --define "_topdir $(PC_RPM_DIR)" $(RPMBUILD_FLAGS) -ba $(srcdir)/packaging/rpm/portctl.spec

CLEANFILES += $(PACKAGE)_*.deb $(PACKAGE)-dbgsym_*.deb $(PACKAGE)_*.changes \
	$(PACKAGE)_*.buildinfo
clean-local: clean-local-packaging
clean-local-packaging:
	rm -rf $(PC_DEB_DIR) $(PC_RPM_DIR)
.PHONY: deb deb-lintian rpm clean-local-packaging
# test_fail2ban.sh runs inside the root-ruleset bracket like the others.
PC_F2B_LOG = tests/integration/test_fail2ban.sh.log
$(PC_ROOT_AFTER_LOG): $(PC_F2B_LOG)
$(PC_F2B_LOG): $(PC_ROOT_BEFORE_LOG)

# The fleet playbook run by ansible-playbook against a portctld in the
# test's namespace (77 without ansible-core), bracketed like the others.
TESTS += tests/integration/test_ansible.sh
EXTRA_DIST += tests/integration/test_ansible.sh
PC_ANSIBLE_LOG = tests/integration/test_ansible.sh.log
$(PC_ROOT_AFTER_LOG): $(PC_ANSIBLE_LOG)
$(PC_ANSIBLE_LOG): $(PC_ROOT_BEFORE_LOG)
