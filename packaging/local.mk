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

# portctl metrics for node_exporter's textfile collector, every 15 s once
# enabled (systemctl enable --now portctl-metrics.timer); not enabled by
# the packages.
dist_systemdsystemunit_DATA += packaging/systemd/portctl-metrics.timer
nodist_systemdsystemunit_DATA += packaging/systemd/portctl-metrics.service
EXTRA_DIST += packaging/systemd/portctl-metrics.service.in
CLEANFILES += packaging/systemd/portctl-metrics.service
packaging/systemd/portctl-metrics.service: packaging/systemd/portctl-metrics.service.in Makefile
	$(AM_V_GEN)$(MKDIR_P) packaging/systemd && \
	sed -e 's|@bindir[@]|$(bindir)|g' $(srcdir)/packaging/systemd/portctl-metrics.service.in > $@

# Distro packaging: Debian (packaging/debian, copied to debian/ of a fresh
# dist tree by "make deb"), RPM (packaging/rpm), fail2ban action, Ansible.
PC_DEBIAN_FILES = packaging/debian/changelog packaging/debian/control \
	packaging/debian/copyright packaging/debian/rules \
	packaging/debian/postinst packaging/debian/postrm packaging/debian/prerm \
	packaging/debian/source/format packaging/debian/portctl.lintian-overrides
EXTRA_DIST += $(PC_DEBIAN_FILES) packaging/rpm/portctl.spec packaging/rpm/80-portctl.preset \
	packaging/fail2ban/action.d/portctl.conf

# The fail2ban action, for fail2ban's action.d.
fail2banactiondir = $(sysconfdir)/fail2ban/action.d
dist_fail2banaction_DATA = packaging/fail2ban/action.d/portctl.conf
# allowipv6 = auto, so that fail2ban does not warn at every start.
fail2banconfdir = $(sysconfdir)/fail2ban/fail2ban.d
dist_fail2banconf_DATA = packaging/fail2ban/fail2ban.d/portctl.conf

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

# "make rpm": binary and source RPMs from the same dist tarball. rpmbuild
# checks BuildRequires against the rpm database; on a builder whose
# database holds no package at all (Debian's rpm), that check cannot pass
# and is skipped (--nodeps), which the output says. RPMBUILD_FLAGS adds
# more, e.g. "--without check".
PC_RPM_DIR = $(abs_builddir)/rpm-build
rpm: dist-gzip
	rm -rf $(PC_RPM_DIR) && $(MKDIR_P) $(PC_RPM_DIR)/SOURCES
	cp $(distdir).tar.gz $(PC_RPM_DIR)/SOURCES/
	cp $(srcdir)/packaging/sysusers.d/portctl.conf $(PC_RPM_DIR)/SOURCES/portctl.sysusers
	nodeps=; if ! rpm -q --quiet rpm 2>/dev/null; then \
		echo "rpm: the rpm database is empty (not an RPM system): --nodeps"; nodeps=--nodeps; \
	fi; \
	rpmbuild --define "_topdir $(PC_RPM_DIR)" $$nodeps $(RPMBUILD_FLAGS) \
		-ba $(srcdir)/packaging/rpm/portctl.spec

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

# The portctl Ansible module (a collection built and installed with
# ansible-galaxy) run against a portctld in the test's namespace.
PC_ANSIBLE_COLLECTION = packaging/ansible/collections/ansible_collections/portctl/portctl
EXTRA_DIST += $(PC_ANSIBLE_COLLECTION)/galaxy.yml $(PC_ANSIBLE_COLLECTION)/README.md \
	$(PC_ANSIBLE_COLLECTION)/LICENSE $(PC_ANSIBLE_COLLECTION)/meta/runtime.yml \
	$(PC_ANSIBLE_COLLECTION)/plugins/modules/portctl.py
TESTS += tests/integration/test_ansible_module.sh
EXTRA_DIST += tests/integration/test_ansible_module.sh packaging/ansible/README.md
PC_ANSIBLE_MODULE_LOG = tests/integration/test_ansible_module.sh.log
$(PC_ROOT_AFTER_LOG): $(PC_ANSIBLE_MODULE_LOG)
$(PC_ANSIBLE_MODULE_LOG): $(PC_ROOT_BEFORE_LOG)
