# src/cli: the portctl program — global options, the command table, and one
# file per command — plus its end-to-end test.
bin_PROGRAMS += portctl
portctl_SOURCES = \
	src/cli/cli.h \
	src/cli/portctl.c \
	src/cli/cmd_check.c \
	src/cli/cmd_daemon.c src/cli/cmd_rule.c src/cli/cmd_status.c src/cli/cmd_reload.c \
	src/cli/cmd_apply.c src/cli/session.c
portctl_LDADD = $(LANG_LIBS) $(JANSSON_LIBS)
# Bans (fail2ban) and the exposure report (listeners joined with the plan).
portctl_SOURCES += src/cli/cmd_ban.c src/cli/cmd_exposure.c
portctl_LDADD += $(COMPILE_LIBS)
# explain (daemon or offline, through the plan), export and diff.
portctl_SOURCES += src/cli/cmd_watch.c
portctl_SOURCES += src/cli/cmd_explain.c src/cli/cmd_export.c
portctl_LDADD += $(PROTO_LIBS) $(JANSSON_LIBS)
# disable, enable, reset.
portctl_SOURCES += src/cli/cmd_enable.c
# metrics, in the Prometheus text format; its formatter is unit-tested alone.
portctl_SOURCES += src/cli/cmd_metrics.c src/cli/metrics-format.c src/cli/metrics-format.h
check_PROGRAMS += tests/unit/test_metrics_format
TESTS += tests/unit/test_metrics_format
tests_unit_test_metrics_format_SOURCES = tests/unit/test_metrics_format.c \
	src/cli/metrics-format.c src/cli/metrics-format.h
tests_unit_test_metrics_format_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_metrics_format_LDADD = $(UTIL_LIBS) $(JANSSON_LIBS) $(CHECK_LIBS)
# Other tables' DNAT rules (published ports) for exposure.
portctl_LDADD += $(NETLINK_LIBS)

TESTS += tests/integration/test_cli_check.sh
dist_noinst_SCRIPTS += tests/integration/test_cli_check.sh
TESTS += tests/integration/test_check_lint.sh
dist_noinst_SCRIPTS += tests/integration/test_check_lint.sh
# ban/unban's words and requests, against a stand-in daemon.
TESTS += tests/integration/test_cli_ban.sh
dist_noinst_SCRIPTS += tests/integration/test_cli_ban.sh
EXTRA_DIST += tests/integration/fake_daemon.py
# Abbreviations, check - and binary files, --json errors: no daemon needed.
TESTS += tests/integration/test_cli_words.sh
dist_noinst_SCRIPTS += tests/integration/test_cli_words.sh

# bash-completion finds a completion by the command's name.
bashcompletiondir = $(datadir)/bash-completion/completions
bashcompletion_DATA = completion/portctl
completion/portctl: completion/portctl.bash
	$(AM_V_GEN)$(MKDIR_P) completion && cp $(srcdir)/completion/portctl.bash $@
CLEANFILES += completion/portctl
EXTRA_DIST += completion/portctl.bash
# import ufw|firewalld: another firewall's files as one rules file.
portctl_SOURCES += src/cli/cmd_import.c src/cli/import.h src/cli/import_common.c \
	src/cli/import_ufw.c src/cli/import_firewalld.c src/cli/import_firewalld_table.c \
	src/cli/habits.c
EXTRA_DIST += tools/gen-firewalld-services.py
TESTS += tests/integration/test_import.sh
dist_noinst_SCRIPTS += tests/integration/test_import.sh
EXTRA_DIST += tests/data/import
# The imports decide real traffic as the originals (root: namespaces).
TESTS += tests/integration/test_import_traffic.sh
dist_noinst_SCRIPTS += tests/integration/test_import_traffic.sh
