# src/daemon: portctld, the privileged daemon (one-shot modes and serve mode).
# The daemon's modules join through PORTCTLD_SOURCES; apply.c is shared with
# test and benchmark drivers through libapply.a.
noinst_LIBRARIES += src/daemon/libapply.a
src_daemon_libapply_a_SOURCES = src/daemon/apply.c include/portctl/apply.h
APPLY_LIBS = src/daemon/libapply.a $(NETLINK_LIBS)

sbin_PROGRAMS += src/daemon/portctld
PORTCTLD_SOURCES = src/daemon/portctld.c
PORTCTLD_LIBS = $(APPLY_LIBS)
src_daemon_portctld_SOURCES = $(PORTCTLD_SOURCES)
src_daemon_portctld_LDADD = $(PORTCTLD_LIBS)

# Serve mode (socket, peers, privileges, commands): libserve.a, linked into
# portctld after libapply.a's users, so its users come first.
noinst_LIBRARIES += src/daemon/libserve.a
src_daemon_libserve_a_SOURCES = include/portctl/daemon.h \
	src/daemon/daemon.c src/daemon/commands.c src/daemon/handlers.h \
	src/daemon/readout.c src/daemon/readout.h \
	src/daemon/state.c src/daemon/state.h src/daemon/model.c src/daemon/model.h \
	src/daemon/kernel.c src/daemon/kernel.h src/daemon/lockout.h src/daemon/reply.h \
	src/daemon/reply.c \
	src/daemon/change.c src/daemon/persist.c src/daemon/persist.h \
	src/daemon/server.c src/daemon/serve.h src/daemon/peer.c \
	src/daemon/privs.c src/daemon/notify.c src/daemon/log.c src/daemon/log.h \
	src/daemon/confirm.c src/daemon/lockout.c src/daemon/panic.c
# disable / enable.
src_daemon_libserve_a_SOURCES += src/daemon/enable.c
# Rule equality by meaning (delete, duplicates).
src_daemon_libserve_a_SOURCES += src/daemon/rule_same.c
# Privilege separation: the writer of 90-portctl.rules.
src_daemon_libserve_a_SOURCES += src/daemon/privsep.c src/daemon/privsep.h
# Reads answered in a child process (diff), the daemon serving on.
src_daemon_libserve_a_SOURCES += src/daemon/worker.c src/daemon/worker.h
# One daemon at a time.
src_daemon_libserve_a_SOURCES += src/daemon/lock.c src/daemon/lock.h
# The idle footprint: freed heap and clean code pages given back.
src_daemon_libserve_a_SOURCES += src/daemon/memory.c src/daemon/memory.h
check_PROGRAMS += tests/unit/test_memory
TESTS += tests/unit/test_memory
tests_unit_test_memory_SOURCES = tests/unit/test_memory.c src/daemon/memory.c
tests_unit_test_memory_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_memory_LDADD = $(CHECK_LIBS)
# Rate-limited logging of client floods.
src_daemon_libserve_a_SOURCES += src/daemon/logflood.c src/daemon/logflood.h
check_PROGRAMS += tests/unit/test_logflood
TESTS += tests/unit/test_logflood
tests_unit_test_logflood_SOURCES = tests/unit/test_logflood.c src/daemon/logflood.c \
	src/daemon/log.c
tests_unit_test_logflood_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_logflood_LDADD = $(CHECK_LIBS)
# Bans for fail2ban (portctl ban/unban).
src_daemon_libserve_a_SOURCES += src/daemon/ban.c
# Temporary rules (--timeout).
src_daemon_libserve_a_SOURCES += src/daemon/temporary.c src/daemon/temporary.h
# Read side of trust (explain, export, diff) and drift detection.
src_daemon_libserve_a_SOURCES += src/daemon/cmd_explain.c src/daemon/drift.c src/daemon/drift.h
# portctl watch: packets logged to the watch nflog group, streamed.
src_daemon_libserve_a_SOURCES += src/daemon/watch.c src/daemon/watch.h
# metrics: counters, bans, applies and drift for Prometheus.
src_daemon_libserve_a_SOURCES += src/daemon/metrics.c
SERVE_LIBS = src/daemon/libserve.a $(APPLY_LIBS) $(PROTO_LIBS) $(CAPNG_LIBS) $(JANSSON_LIBS)
src_daemon_portctld_LDADD += $(SERVE_LIBS)

# The log's escaping of control characters (no root needed).
check_PROGRAMS += tests/unit/test_log
TESTS += tests/unit/test_log
tests_unit_test_log_SOURCES = tests/unit/test_log.c src/daemon/log.c
tests_unit_test_log_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_log_LDADD = $(CHECK_LIBS)

# Benchmark driver for one-rule changes (tests/bench/bench_apply.sh runs it).
noinst_PROGRAMS += tests/bench/bench_incr
tests_bench_bench_incr_SOURCES = tests/bench/bench_incr.c
tests_bench_bench_incr_LDADD = $(APPLY_LIBS)
dist_noinst_SCRIPTS += tests/bench/bench_apply.sh

# Serve-mode integration tests (root, in network namespaces; 77 otherwise).
PC_DAEMON_TESTS = tests/integration/test_daemon.sh tests/integration/test_daemon_hostile.sh \
	tests/integration/test_cli_commands.sh tests/integration/test_daemon_startup.sh
# apply --confirm, the lock-out guard, panic mode.
PC_DAEMON_TESTS += tests/integration/test_confirm.sh tests/integration/test_lockout.sh \
	tests/integration/test_panic.sh tests/integration/test_bans.sh \
	tests/integration/test_ban_owners.sh
# Privilege separation and hand edits racing CLI changes.
PC_DAEMON_TESTS += tests/integration/test_privsep.sh
# Temporary rules (--timeout): expiry, reload, restart.
PC_DAEMON_TESTS += tests/integration/test_temporary.sh
# Files the daemon reads: type, owner, mode, UTF-8; redaction; log escaping.
PC_DAEMON_TESTS += tests/integration/test_file_safety.sh
# Drift: foreign commits, meters, a PID namespace, one repair.
PC_DAEMON_TESTS += tests/integration/test_drift.sh
# Events lost to another program's burst: checked once, then built on.
PC_DAEMON_TESTS += tests/integration/test_drift_overrun.sh
# A change installed as a difference: counters kept, no SYN lost, no-op reload.
PC_DAEMON_TESTS += tests/integration/test_install_diff.sh
# One daemon at a time; fair slots under hostile clients.
PC_DAEMON_TESTS += tests/integration/test_daemon_lock.sh tests/integration/test_daemon_fair.sh
# The real fail2ban (Debian's package) banning through the shipped action.
PC_DAEMON_TESTS += tests/integration/test_fail2ban_real.sh
# disable / enable / reset.
PC_DAEMON_TESTS += tests/integration/test_disable.sh
PC_DAEMON_TESTS += tests/integration/test_inplace.sh
# A hand-written CLI rules file kept as it is through random changes, hand edits, restarts.
PC_DAEMON_TESTS += tests/integration/test_cli_file_text.sh
# Random changes of every kind on mixed shapes: each reload after one sends
# nothing, each restart changes nothing (in place = the full compile).
PC_DAEMON_TESTS += tests/integration/test_cli_random.sh
PC_DAEMON_TESTS += tests/integration/test_counters_kept.sh
# Counters of rules a change in place moves (blocks, runs cut and joined).
PC_DAEMON_TESTS += tests/integration/test_counters_moved.sh
# Many small runs in blocks: rules of their own, counted, changed in place.
PC_DAEMON_TESTS += tests/integration/test_small_runs.sh
# A run of addresses cut in two by a rule put in it, and joined by its delete.
PC_DAEMON_TESTS += tests/integration/test_run_cut.sh
PC_DAEMON_TESTS += tests/integration/test_inplace_rollback.sh
# Runs named by their files: a limit next to a big file leaves its maps.
PC_DAEMON_TESTS += tests/integration/test_run_names.sh
# In-place changes racing other programs' commits, over IPv6, in a PID namespace;
# racing and in a PID namespace again with the CLI's rules lowered rule by rule.
PC_DAEMON_TESTS += tests/integration/test_inplace_race.sh tests/integration/test_inplace_v6.sh \
	tests/integration/test_inplace_pidns.sh tests/integration/test_inplace_race_small.sh \
	tests/integration/test_inplace_pidns_small.sh
# delete by meaning, duplicates.
PC_DAEMON_TESTS += tests/integration/test_delete_meaning.sh
PC_DAEMON_TESTS += tests/integration/test_cli_zone.sh
# metrics against real traffic, checked by promtool (Debian's prometheus).
PC_DAEMON_TESTS += tests/integration/test_metrics.sh
# portctld --remove-table, run by the package's removal.
PC_DAEMON_TESTS += tests/integration/test_remove_table.sh
# SIGTERM answers the clients accepted before it.
PC_DAEMON_TESTS += tests/integration/test_daemon_drain.sh
# Named address sets fed from list files.
PC_DAEMON_TESTS += tests/integration/test_sets.sh
# The last good copy: written after the reply, at exit, whole after kill -9.
PC_DAEMON_TESTS += tests/integration/test_state_copy.sh
# User and group read from the files: no NSS module mapped.
PC_DAEMON_TESTS += tests/integration/test_nss_files.sh
# Containers and routed traffic: published ports obey the in rules; forward rules.
PC_DAEMON_TESTS += tests/integration/test_containers.sh tests/integration/test_forward.sh
EXTRA_DIST += tests/integration/hostile_clients.py
EXTRA_DIST += tests/integration/trust-lib.sh tests/integration/stream.py \
	tests/integration/syn_sender.py
TESTS += $(PC_DAEMON_TESTS)
EXTRA_DIST += $(PC_DAEMON_TESTS) tests/integration/daemon-lib.sh tests/integration/bans_saved.py
# Ordered after root-ruleset-before.sh and before -after.sh by
# tests/integration/local.mk (PC_DAEMON_TESTS is listed there).

# The command handlers' fuzz target, end to end through a real kernel in a
# network namespace of its own: libFuzzer with --enable-fuzzing, else a
# regression test over its seed corpus (root; 77 without).
EXTRA_DIST += tests/fuzz/corpus/daemon
if ENABLE_FUZZING
noinst_PROGRAMS += tests/fuzz/fuzz_daemon
tests_fuzz_fuzz_daemon_SOURCES = tests/fuzz/fuzz_daemon.c
tests_fuzz_fuzz_daemon_CFLAGS = $(AM_CFLAGS) -DFUZZING -fsanitize=fuzzer,address,undefined
tests_fuzz_fuzz_daemon_LDFLAGS = -fsanitize=fuzzer,address,undefined
tests_fuzz_fuzz_daemon_LDADD = $(SERVE_LIBS)
else
check_PROGRAMS += tests/fuzz/fuzz_daemon
TESTS += tests/fuzz/fuzz_daemon
tests_fuzz_fuzz_daemon_SOURCES = tests/fuzz/fuzz_daemon.c
tests_fuzz_fuzz_daemon_CFLAGS = $(AM_CFLAGS)
tests_fuzz_fuzz_daemon_LDADD = $(SERVE_LIBS)
endif

# The daemon's pure parts (model.c): bans, compose, candidates; no root.
check_PROGRAMS += tests/unit/test_model
TESTS += tests/unit/test_model
tests_unit_test_model_SOURCES = tests/unit/test_model.c
tests_unit_test_model_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_model_LDADD = $(SERVE_LIBS) $(CHECK_LIBS)

# Rule equality by meaning (delete, duplicates).
check_PROGRAMS += tests/unit/test_rule_same
TESTS += tests/unit/test_rule_same
tests_unit_test_rule_same_SOURCES = tests/unit/test_rule_same.c
tests_unit_test_rule_same_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_rule_same_LDADD = $(SERVE_LIBS) $(CHECK_LIBS)

# The CLI rules file writer and the privileged writer's channel (no root).
check_PROGRAMS += tests/unit/test_persist
TESTS += tests/unit/test_persist
tests_unit_test_persist_SOURCES = tests/unit/test_persist.c
tests_unit_test_persist_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_persist_LDADD = $(SERVE_LIBS) $(CHECK_LIBS)

# The last good copy: only what changed is written, whole at every instant.
check_PROGRAMS += tests/unit/test_state_copy
TESTS += tests/unit/test_state_copy
tests_unit_test_state_copy_SOURCES = tests/unit/test_state_copy.c
tests_unit_test_state_copy_CFLAGS = $(TEST_CFLAGS) -DTOP_SRCDIR='"$(abs_top_srcdir)"'
tests_unit_test_state_copy_LDADD = $(APPLY_LIBS) $(CHECK_LIBS)
