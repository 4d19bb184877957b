# tests/integration: end-to-end tests in network namespaces (root; 77 otherwise).
check_PROGRAMS += tests/integration/probe tests/integration/holder
tests_integration_probe_SOURCES = tests/integration/probe.c
tests_integration_holder_SOURCES = tests/integration/holder.c
tests_integration_holder_LDADD = $(APPLY_LIBS)

PC_INTEGRATION_TESTS = \
	tests/integration/apply-shape.sh \
	tests/integration/atomic.sh \
	tests/integration/owner.sh \
	tests/integration/traffic.sh
TESTS += tests/integration/root-ruleset-before.sh $(PC_INTEGRATION_TESTS) \
	tests/integration/root-ruleset-after.sh
EXTRA_DIST += tests/integration/lib.sh tests/integration/root-ruleset-before.sh \
	tests/integration/root-ruleset-after.sh $(PC_INTEGRATION_TESTS)
CLEANFILES += tests/integration/root-ruleset.before

# The root-ruleset check brackets the suite even under make -j. Without a
# TEST_EXTENSIONS entry for .sh, a test's log is its name plus ".log"; the
# names go through variables so that automake leaves its own rules alone.
PC_ROOT_BEFORE_LOG = tests/integration/root-ruleset-before.sh.log
PC_ROOT_AFTER_LOG = tests/integration/root-ruleset-after.sh.log
PC_BRACKETED_TESTS = $(PC_INTEGRATION_TESTS) $(PC_DAEMON_TESTS)
$(PC_BRACKETED_TESTS:.sh=.sh.log): $(PC_ROOT_BEFORE_LOG)
$(PC_ROOT_AFTER_LOG): $(PC_BRACKETED_TESTS:.sh=.sh.log) $(PC_ROOT_BEFORE_LOG)

# The read side of trust (explain, export, diff, drift) and the differential
# test of explain against the kernel, bracketed like the others.
PC_READ_TESTS = tests/integration/test_explain.sh tests/integration/test_explain_kernel.sh \
	tests/integration/test_explain_route.sh
TESTS += $(PC_READ_TESTS)
EXTRA_DIST += $(PC_READ_TESTS) tests/integration/explain_gen.py
$(PC_READ_TESTS:.sh=.sh.log): $(PC_ROOT_BEFORE_LOG)
$(PC_ROOT_AFTER_LOG): $(PC_READ_TESTS:.sh=.sh.log)

# The exposure report against real listeners, bracketed like the others.
PC_EXPOSURE_TESTS = tests/integration/test_exposure.sh
TESTS += $(PC_EXPOSURE_TESTS)
EXTRA_DIST += $(PC_EXPOSURE_TESTS)
$(PC_EXPOSURE_TESTS:.sh=.sh.log): $(PC_ROOT_BEFORE_LOG)
$(PC_ROOT_AFTER_LOG): $(PC_EXPOSURE_TESTS:.sh=.sh.log)

# Zones that cannot be spoofed: the reverse-path check, bracketed like the others.
PC_RPF_TESTS = tests/integration/test_rpf.sh tests/integration/test_icmp_proto.sh
TESTS += $(PC_RPF_TESTS)
EXTRA_DIST += $(PC_RPF_TESTS)
$(PC_RPF_TESTS:.sh=.sh.log): $(PC_ROOT_BEFORE_LOG)
$(PC_ROOT_AFTER_LOG): $(PC_RPF_TESTS:.sh=.sh.log)
# Bans in the kernel with real traffic, through the element-only path,
# without the daemon (banapply), bracketed like the others.
# A kernel that refuses a validated configuration, for atomic.sh.
check_PROGRAMS += tests/integration/refuseapply
tests_integration_refuseapply_SOURCES = tests/integration/refuseapply.c
tests_integration_refuseapply_LDADD = $(APPLY_LIBS)
check_PROGRAMS += tests/integration/banapply
tests_integration_banapply_SOURCES = tests/integration/banapply.c
tests_integration_banapply_LDADD = $(APPLY_LIBS)
PC_BAN_TESTS = tests/integration/test_bans_kernel.sh tests/integration/test_bans_journal.sh
TESTS += $(PC_BAN_TESTS)
EXTRA_DIST += $(PC_BAN_TESTS) tests/integration/ping.py
$(PC_BAN_TESTS:.sh=.sh.log): $(PC_ROOT_BEFORE_LOG)
$(PC_ROOT_AFTER_LOG): $(PC_BAN_TESTS:.sh=.sh.log)
# Status counters of overlapping rules over zones, bracketed like the others.
PC_STATUS_TESTS = tests/integration/test_status_counters.sh tests/integration/test_status_paged.sh \
	tests/integration/test_status_addr_counters.sh
# diff answered by a worker process, explain from the plan in force.
PC_STATUS_TESTS += tests/integration/test_reads_worker.sh
TESTS += $(PC_STATUS_TESTS)
EXTRA_DIST += $(PC_STATUS_TESTS)
$(PC_STATUS_TESTS:.sh=.sh.log): $(PC_ROOT_BEFORE_LOG)
$(PC_ROOT_AFTER_LOG): $(PC_STATUS_TESTS:.sh=.sh.log)
# Port forwarding and masquerade through the host, bracketed like the others.
PC_NAT_TESTS = tests/integration/test_portforward.sh tests/integration/test_published_explain.sh
TESTS += $(PC_NAT_TESTS)
EXTRA_DIST += $(PC_NAT_TESTS) tests/integration/nat_backend.py
$(PC_NAT_TESTS:.sh=.sh.log): $(PC_ROOT_BEFORE_LOG)
$(PC_ROOT_AFTER_LOG): $(PC_NAT_TESTS:.sh=.sh.log)

# Logging of denials to an nflog group, read back from the kernel, bracketed like the others.
check_PROGRAMS += tests/integration/nflogread
tests_integration_nflogread_SOURCES = tests/integration/nflogread.c
tests_integration_nflogread_CFLAGS = $(AM_CFLAGS) $(MNL_CFLAGS)
tests_integration_nflogread_LDADD = $(MNL_LIBS)
PC_LOG_TESTS = tests/integration/test_log_denied.sh tests/integration/test_watch.sh
TESTS += $(PC_LOG_TESTS)
EXTRA_DIST += $(PC_LOG_TESTS)
$(PC_LOG_TESTS:.sh=.sh.log): $(PC_ROOT_BEFORE_LOG)
$(PC_ROOT_AFTER_LOG): $(PC_LOG_TESTS:.sh=.sh.log)

# Counters kept across restarts of portctld and drift repairs (only the
# difference against the kernel is installed), bracketed like the others.
PC_RESTART_TESTS = tests/integration/test_restart_counters.sh
# A restart that builds on the memo of the stop, and each case that must not.
PC_RESTART_TESTS += tests/integration/test_restart_memo.sh
TESTS += $(PC_RESTART_TESTS)
EXTRA_DIST += $(PC_RESTART_TESTS)
$(PC_RESTART_TESTS:.sh=.sh.log): $(PC_ROOT_BEFORE_LOG)
$(PC_ROOT_AFTER_LOG): $(PC_RESTART_TESTS:.sh=.sh.log)
