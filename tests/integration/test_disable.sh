#!/bin/sh
# disable / enable / reset (real kernel, real traffic): disable takes table
# inet portctl out in one transaction and a closed port is reached; a rule
# and a ban made meanwhile are kept; a restart of portctld stays disabled;
# enable puts rules and bans back in one transaction; reset saves the old
# files as *.bak-TIMESTAMP and brings the shipped defaults, unless the
# lock-out guard refuses (then the files are back in place).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon-lib.sh"
. "$(dirname "$0")/trust-lib.sh"
pc_require
pcd_setup

pc_config_write 10-base.rules 'allow 443/tcp' 'allow 2222/tcp'
pcd_start
pc_listen host tcp:443 tcp:8443 tcp:9000 tcp:22
pc_expect open pc_probe peer tcp 10.99.7.1 443
pc_expect timeout pc_probe peer tcp 10.99.7.1 8443
pcd_as_member ban 192.0.2.9 >/dev/null || pc_fail "ban"

# one_transaction WHAT CMD...: CMD makes portctld commit exactly once.
one_transaction() {
	what=$1
	shift
	pc_monitor_start host "$PC_TMP/monitor"
	"$@" >"$PC_TMP/out" 2>&1 || pc_fail "$what: $(cat "$PC_TMP/out")"
	pc_monitor_stop
	n=$(grep -c "^# new generation .*(portctld)" "$PC_TMP/monitor")
	[ "$n" -eq 1 ] || pc_fail "$what made $n transactions, not 1: $(cat "$PC_TMP/monitor")"
}
table_gone() {
	! pc_in host nft list table inet portctl >/dev/null 2>&1 || pc_fail "$1: table still there"
}
# expect_out CODE TEXT CMD...: exit code and one line of output, exactly.
expect_out() {
	code=$1 text=$2
	shift 2
	"$@" >"$PC_TMP/out" 2>&1
	rc=$?
	[ $rc -eq "$code" ] || pc_fail "'$*' exited $rc, not $code: $(cat "$PC_TMP/out")"
	grep -qxF -- "$text" "$PC_TMP/out" || pc_fail "'$*' said: $(cat "$PC_TMP/out"), not: $text"
}

pcd_log "disable: one transaction, the table is gone, a closed port is reached"
one_transaction "disable" pcd_as_member disable
grep -qxF "portctl disabled: table inet portctl is out of the kernel and portctl filters nothing. Rules and bans are kept; it stays disabled across restarts until 'portctl enable'." "$PC_TMP/out" ||
	pc_fail "disable said: $(cat "$PC_TMP/out")"
table_gone "disable"
pc_expect open pc_probe peer tcp 10.99.7.1 8443
[ -e "$PC_TMP/state/disabled.json" ] || pc_fail "no disabled mark in the state directory"
[ "$(tw_status_field disabled)" = true ] || pc_fail "status --json does not say disabled"
pcd_as_member status >"$PC_TMP/status" || pc_fail "status while disabled"
grep -q "^Status: disabled, table inet portctl" "$PC_TMP/status" &&
	grep -q "^DISABLED: " "$PC_TMP/status" || pc_fail "status does not say disabled: $(cat "$PC_TMP/status")"
expect_out 0 "portctl is already disabled" pcd_as_member disable
expect_out 1 "portctl: portctl is disabled: 'panic' needs it enabled; run 'portctl enable' first" \
	pcd_as_member panic on
expect_out 2 "portctl: 'disa': did you mean 'disable'? write it in full: commands that change rules are never abbreviated" \
	pcd_as_member disa

pcd_log "a rule and a ban while disabled: kept, not in the kernel"
expect_out 0 "rule added: allow 9000/tcp (portctl is disabled: in force after 'portctl enable')" \
	pcd_as_member allow 9000/tcp
pcd_as_member ban 198.51.100.7 >/dev/null || pc_fail "ban while disabled"
grep -q 198.51.100.7 "$(pcd_bans_file)" || pc_fail "the ban is not in bans.json"
table_gone "a change while disabled"

pcd_log "a restart of portctld stays disabled"
pcd_stop
pcd_start
table_gone "restart"
[ "$(tw_status_field disabled)" = true ] || pc_fail "disabled lost in a restart"
pc_expect open pc_probe peer tcp 10.99.7.1 8443

pcd_log "enable: one transaction, rules and bans back"
one_transaction "enable" pcd_as_member enable
grep -qxF "portctl enabled: 4 rules and 2 bans in force again, in one transaction" "$PC_TMP/out" ||
	pc_fail "enable said: $(cat "$PC_TMP/out")"
[ ! -e "$PC_TMP/state/disabled.json" ] || pc_fail "the disabled mark stayed"
pc_expect timeout pc_probe peer tcp 10.99.7.1 8443
pc_expect open pc_probe peer tcp 10.99.7.1 443
pc_expect open pc_probe peer tcp 10.99.7.1 9000
pc_in host nft list table inet portctl >"$PC_TMP/table" || pc_fail "no table after enable"
grep -q 192.0.2.9 "$PC_TMP/table" && grep -q 198.51.100.7 "$PC_TMP/table" ||
	pc_fail "the bans are not back: $(cat "$PC_TMP/table")"
[ "$(tw_status_field disabled)" = false ] || pc_fail "status still says disabled"
expect_out 0 "portctl is already enabled" pcd_as_member enable

reset_as_root() {
	"$PCD_PORTCTL" -s "$PCD_SOCK" -c "$PC_TMP/etc" -d "$PC_TMP/share" reset "$@"
}
snapshot() { (cd "$PC_TMP/etc/rules.d" && ls -A && cat -- *); }

pcd_log "reset that would cut the SSH session (port 2222): refused, files back"
snapshot >"$PC_TMP/before"
SSH_CONNECTION="10.99.7.2 40000 10.99.7.1 2222"
reset_as_root >"$PC_TMP/out" 2>&1
rc=$?
SSH_CONNECTION=""
[ $rc -eq 1 ] || pc_fail "reset over the SSH session exited $rc: $(cat "$PC_TMP/out")"
grep -qxF "portctl: reset refused: the files are back in place" "$PC_TMP/out" ||
	pc_fail "reset refusal said: $(cat "$PC_TMP/out")"
snapshot >"$PC_TMP/after"
cmp -s "$PC_TMP/before" "$PC_TMP/after" || pc_fail "rules.d changed: $(diff "$PC_TMP/before" "$PC_TMP/after")"
pc_expect open pc_probe peer tcp 10.99.7.1 443

pcd_log "reset: old files saved, shipped defaults in force, bans kept"
echo 'zone public policy in drop default' >"$PC_TMP/etc/zones.rules"
reset_as_root >"$PC_TMP/out" 2>&1 || pc_fail "reset: $(cat "$PC_TMP/out")"
grep -qxF "reset to the shipped defaults: the rules in force are now the shipped ones" "$PC_TMP/out" ||
	pc_fail "reset said: $(cat "$PC_TMP/out")"
for f in rules.d/10-base.rules rules.d/90-portctl.rules zones.rules; do
	[ ! -e "$PC_TMP/etc/$f" ] || pc_fail "$f is still in place"
	grep -q "^  $PC_TMP/etc/$f -> $PC_TMP/etc/$f.bak-[0-9]\{8\}-[0-9]\{6\}$" "$PC_TMP/out" ||
		pc_fail "reset does not say where $f went: $(cat "$PC_TMP/out")"
	ls "$PC_TMP/etc/$f".bak-* >/dev/null 2>&1 || pc_fail "$f was not saved"
done
grep -q 'allow 443/tcp' "$PC_TMP"/etc/rules.d/10-base.rules.bak-* || pc_fail "backup content"
pc_expect timeout pc_probe peer tcp 10.99.7.1 443
pc_expect open pc_probe peer tcp 10.99.7.1 22
[ "$(pcd_rule_field 'allow ssh comment "portctl default: see defaults.rules"' origin)" = defaults ] || pc_fail "allow ssh is not in force"
pc_in host nft list table inet portctl | grep -q 198.51.100.7 || pc_fail "reset lost the bans"
exit 0
