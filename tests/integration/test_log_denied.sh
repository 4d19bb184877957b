#!/bin/sh
# Logging of denials with real traffic: a zone's log-denied logs what its
# policy drops, prefixed with the zone and "policy"; a rule's log names its
# FILE:LINE; log-group sends both to an nflog group (ulogd, journald), read
# here from the kernel by nflogread as they would read it.
. "$(dirname "$0")/lib.sh"
pc_require

NFLOGREAD="$top_builddir/tests/integration/nflogread"
apply() { pc_apply host || pc_fail "apply: $(cat "$PC_TMP/apply.err")"; }
# logged PREFIX PROBE...: start reading group 7, send the probe, and the
# first line nflogread prints (it exits after one packet) must be PREFIX.
logged() {
	want=$1
	shift
	out="$PC_TMP/nflog.out"
	rm -f "$out"
	pc_background host "$NFLOGREAD" 7 "$out"
	reader=$PC_LAST_PID
	"$@" >/dev/null
	pc_until 5 test -s "$out" || pc_fail "nothing logged to group 7 after: $*"
	got=$(cat "$out")
	pc_stop "$reader"
	[ "$got" = "$want" ] || pc_fail "logged '$got', expected '$want'"
	pc_log "ok: $* logged '$got'"
}

pc_ns_add host
pc_ns_add peer1
pc_link host vh1 10.99.1.1 fd99:1::1 peer1 vp1 10.99.1.2 fd99:1::2

pc_log "log-denied on the default zone, to nflog group 7"
pc_config_write portctl.conf 'log-group = 7'
pc_config_write 10-test.rules 'zone public policy in drop log-denied default' \
	'deny 8081/tcp from 10.99.1.2 log' \
	'deny 8082/tcp from 10.99.1.2 log level info prefix "ssh"'
apply
pc_in host nft list chain inet portctl in_public >"$PC_TMP/chain" || pc_fail "list in_public"
grep -q 'log prefix "portctl public policy in " group 7' "$PC_TMP/chain" ||
	pc_fail "no policy log rule in in_public: $(cat "$PC_TMP/chain")"
# Only a policy that drops is logged: out accepts.
pc_in host nft list chain inet portctl out_public | grep -q 'policy' &&
	pc_fail "out_public logs an accepting policy"

logged "portctl public policy in " pc_probe peer1 tcp 10.99.1.1 8080 300
logged "portctl public 10-test.rules:2 " pc_probe peer1 tcp 10.99.1.1 8081 300
# The user's prefix replaces "portctl" on the log-group statement; a
# level means nothing to nflog and is left out; watch's group keeps ours.
logged "ssh public 10-test.rules:3 " pc_probe peer1 tcp 10.99.1.1 8082 300
pc_in host nft list chain inet portctl in_public >"$PC_TMP/chain" || pc_fail "list in_public"
grep -q 'log prefix "ssh public 10-test.rules:3 " group 7' "$PC_TMP/chain" ||
	pc_fail "no prefixed log on group 7: $(cat "$PC_TMP/chain")"
grep -q 'log prefix "portctl public 10-test.rules:3 " group 2' "$PC_TMP/chain" ||
	pc_fail "watch's group lost its prefix: $(cat "$PC_TMP/chain")"

pc_log "to the kernel log, the level and prefix as given"
pc_config_write portctl.conf 'log-group = kernel'
pc_config_write 10-test.rules \
	'zone public policy in drop log-denied level notice prefix "drops" default' \
	'deny 8081/tcp from 10.99.1.2 log' \
	'deny 8082/tcp from 10.99.1.2 log level info prefix "ssh"'
apply
pc_in host nft list chain inet portctl in_public >"$PC_TMP/chain" || pc_fail "list in_public"
grep -q 'log prefix "ssh public 10-test.rules:3 " level info' "$PC_TMP/chain" ||
	pc_fail "no 'level info' kernel log: $(cat "$PC_TMP/chain")"
grep -q '8081 limit rate 10/minute log prefix "portctl public 10-test.rules:2 " log' "$PC_TMP/chain" ||
	pc_fail "a plain log changed: $(cat "$PC_TMP/chain")"
grep -q 'log prefix "drops public policy in " level notice' "$PC_TMP/chain" ||
	pc_fail "no 'level notice' policy log: $(cat "$PC_TMP/chain")"

pc_log "without log-denied, no policy log rule"
pc_config_write 10-test.rules 'zone public policy in drop default'
apply
pc_in host nft list chain inet portctl in_public | grep -q 'log' &&
	pc_fail "in_public logs without log-denied"
pc_log "PASS"
