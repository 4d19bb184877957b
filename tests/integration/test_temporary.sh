#!/bin/sh
# Temporary rules (--timeout): in force at once, gone by themselves when the
# time is up (kernel and model together, without a command, in place as
# their delete: one transaction, a reload then sends nothing), kept through a
# reload and a restart with the time they have left (and so diff says),
# not put back when they expired while portctld was stopped, and deleted
# like other rules.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon-lib.sh"
pc_require
pcd_setup
P() { "$PCD_PORTCTL" -s "$PCD_SOCK" "$@"; }
TEMP="$PC_TMP/state/temporary.json"

pc_config_write portctl.conf "socket-group = $PCD_GROUP" "socket-mode = 0666" "log-level = debug"
pcd_start
pc_listen host tcp:7000 tcp:7001 tcp:7003

pcd_log "a rule with --timeout 3s is in force, then gone without a command"
P allow 7000/tcp from 10.99.7.2 --timeout 3s >"$PC_TMP/out" || pc_fail "allow: $(cat "$PC_TMP/out")"
grep -q "^rule added for [1-3]s (until it expires or is deleted): allow 7000/tcp from 10.99.7.2$" \
	"$PC_TMP/out" || pc_fail "reply: $(cat "$PC_TMP/out")"
pc_expect open pc_probe peer tcp 10.99.7.1 7000
pc_monitor_start host "$PC_TMP/monitor"
gone() {
	[ "$(pc_probe peer tcp 10.99.7.1 7000 200)" = timeout ] &&
		[ -z "$(pcd_rule_field "allow 7000/tcp from 10.99.7.2" text)" ]
}
pc_until 30 gone || pc_fail "the temporary rule did not go: $(P status)"
pc_monitor_stop
grep -q "temporary rule expired: allow 7000/tcp from 10.99.7.2" "$PC_TMP/portctld.log" ||
	pc_fail "expiry not logged"
# As its delete: in place, one transaction; the model the files' then.
grep -q "in place: runtime rule deleted allow 7000/tcp from 10.99.7.2" "$PC_TMP/portctld.log" ||
	pc_fail "the expiry did not go in place: $(grep 7000 "$PC_TMP/portctld.log")"
[ "$(grep -c "^# new generation .*(portctld)" "$PC_TMP/monitor")" -eq 1 ] ||
	pc_fail "the expiry was not one transaction: $(cat "$PC_TMP/monitor")"
pc_monitor_start host "$PC_TMP/monitor"
P reload >/dev/null || pc_fail "reload"
pc_monitor_stop
[ "$(grep -c "^# new generation" "$PC_TMP/monitor")" -eq 0 ] ||
	pc_fail "a reload after the expiry sent: $(cat "$PC_TMP/monitor")"
[ ! -e "$TEMP" ] || pc_fail "temporary.json still there: $(cat "$TEMP")"

pcd_log "status shows the time left; reload and restart keep it, a runtime rule goes"
P allow 7001/tcp --timeout 1h >/dev/null || pc_fail "allow --timeout 1h"
P allow 7002/tcp --runtime >/dev/null || pc_fail "allow --runtime"
left=$(pcd_rule_field "allow 7001/tcp" expires_in)
[ "$left" -gt 3500 ] && [ "$left" -le 3600 ] || pc_fail "expires_in $left"
P status | grep -q "^allow 7001/tcp .*(expires in [0-9]*m[0-9]*s)$\|^allow 7001/tcp .*(expires in 1h)$" ||
	pc_fail "status: $(P status)"
# diff says what reload does: the runtime rule goes, the temporary stays.
P diff >"$PC_TMP/diff" && pc_fail "diff shows no change: $(cat "$PC_TMP/diff")"
grep -q "^- allow 7002/tcp " "$PC_TMP/diff" || pc_fail "diff keeps the runtime rule: $(cat "$PC_TMP/diff")"
grep -q "7001" "$PC_TMP/diff" && pc_fail "diff drops the temporary rule: $(cat "$PC_TMP/diff")"
P reload >/dev/null || pc_fail "reload"
P diff >"$PC_TMP/diff" || pc_fail "diff after the reload: $(cat "$PC_TMP/diff")"
[ -n "$(pcd_rule_field "allow 7001/tcp" expires_in)" ] || pc_fail "reload dropped it: $(P status)"
[ -z "$(pcd_rule_field "allow 7002/tcp" text)" ] || pc_fail "reload kept the runtime rule"
pcd_stop
pcd_start
after=$(pcd_rule_field "allow 7001/tcp" expires_in)
[ -n "$after" ] && [ "$after" -le "$left" ] && [ "$after" -gt 3500 ] ||
	pc_fail "after the restart expires_in is '$after' (was $left)"
pc_expect open pc_probe peer tcp 10.99.7.1 7001

pcd_log "a temporary rule that expired while portctld was stopped is not put back"
P allow 7003/tcp --timeout 2s >/dev/null || pc_fail "allow 7003 --timeout 2s"
ends=$(python3 -c 'import json,sys; print(next(r["expires"] for r in json.load(open(sys.argv[1]))["rules"] if r["rule"] == "allow 7003/tcp"))' "$TEMP")
pcd_stop
past() { [ "$(date +%s)" -gt "$ends" ]; }
pc_until 10 past || pc_fail "the clock did not pass $ends"
pcd_start
[ -z "$(pcd_rule_field "allow 7003/tcp" text)" ] || pc_fail "an expired rule came back"
[ -n "$(pcd_rule_field "allow 7001/tcp" expires_in)" ] || pc_fail "the 1h rule went"
grep -q "temporary rule 'allow 7003/tcp' expired while portctld was stopped" "$PC_TMP/portctld.log" ||
	pc_fail "not logged"
pc_expect timeout pc_probe peer tcp 10.99.7.1 7003

pcd_log "delete removes a temporary rule; --timeout is refused where it means nothing"
P delete allow 7001/tcp >/dev/null || pc_fail "delete"
[ -z "$(pcd_rule_field "allow 7001/tcp" text)" ] || pc_fail "not deleted"
[ ! -e "$TEMP" ] || pc_fail "temporary.json after the delete: $(cat "$TEMP")"
P allow 22/tcp --timeout 10x >"$PC_TMP/out" 2>&1
[ $? -eq 2 ] && grep -q -- "--timeout takes a duration: 30s, 10m, 2h, 1d" "$PC_TMP/out" ||
	pc_fail "bad duration: $(cat "$PC_TMP/out")"
P delete allow 22/tcp --timeout 1m >"$PC_TMP/out" 2>&1
[ $? -eq 2 ] && grep -q "delete takes no --timeout" "$PC_TMP/out" || pc_fail "delete --timeout"
pcd_log "a temporary rule that no longer fits the files is left out at start, the files apply"
pc_config_write 20-lab.rules 'zone lab interface lab0' 'allow 7004/tcp'
P reload >/dev/null || pc_fail "reload with zone lab"
P allow 7005/tcp zone lab --timeout 1h >/dev/null || pc_fail "allow zone lab --timeout"
pcd_stop
pc_config_write 20-lab.rules 'allow 7004/tcp'
pcd_start
[ -n "$(pcd_rule_field "allow 7004/tcp" text)" ] || pc_fail "the files did not apply: $(P status)"
[ -z "$(pcd_rule_field "allow 7005/tcp zone lab" text)" ] || pc_fail "the rule came back"
grep -q "the temporary rules are left out" "$PC_TMP/portctld.log" || pc_fail "not logged"
pcd_log "all passed"
