# rules: build fragment, included from the top Makefile.am
# The shipped zones, services and default rules go to $(pkgdatadir) (/usr/share/portctl),
# the settings file to $(sysconfdir)/portctl, beside an empty rules.d/ for
# the administrator's rules.

dist_pkgdata_DATA += rules/zones.rules rules/services.rules
# The one shipped file of rules (allow ssh), read after rules.d/ so that a
# fresh install keeps SSH reachable and the admin's rules still come first.
dist_pkgdata_DATA += rules/defaults.rules

portctlconfdir = $(sysconfdir)/portctl
dist_portctlconf_DATA = rules/portctl.conf

# automake has no way to install an empty directory; these hooks add to the
# top-level ones and stay DESTDIR-safe.  uninstall only removes rules.d when
# it is empty, so an administrator's rules survive "make uninstall".
install-data-local: install-data-local-rules
uninstall-local: uninstall-local-rules

install-data-local-rules:
	$(MKDIR_P) "$(DESTDIR)$(portctlconfdir)/rules.d"

uninstall-local-rules:
	-rmdir "$(DESTDIR)$(portctlconfdir)/rules.d" 2>/dev/null

.PHONY: install-data-local-rules uninstall-local-rules
