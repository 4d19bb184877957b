#!/bin/sh
# portctld --remove-table, what the package's removal runs: refused while a
# portctld serves or while another process owns the table (the rules and the
# ban stay); once the daemon is stopped, one transaction deletes table inet
# portctl and nothing else (another program's table stays), after which the
# port it closed and the banned peer get in: the machine is unfiltered by
# portctl. A second run finds no table and commits nothing.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon-lib.sh"
pc_require
pcd_setup
pc_ns_add peer2
pc_link host vh2 10.99.8.1 fd99:8::1 peer2 vp2 10.99.8.2 fd99:8::2
pc_config_write 10-web.rules 'allow 80/tcp'
pc_in host nft add table inet pcother || pc_fail "nft add table inet pcother"
pc_in host nft add chain inet pcother input '{ type filter hook input priority 10; }'

pcd_start
pc_listen host tcp:80 tcp:81
"$PCD_PORTCTL" -s "$PCD_SOCK" ban 10.99.8.2 >/dev/null || pc_fail "portctl ban 10.99.8.2"
filtered() {
	pc_expect open pc_probe peer tcp 10.99.7.1 80
	pc_expect timeout pc_probe peer tcp 10.99.7.1 81
	pc_expect timeout pc_probe peer2 tcp 10.99.8.1 80
}
filtered

# remove_table: portctld --remove-table in the host namespace; its
# output in $PC_TMP/remove.out and .err.
remove_table() {
	# shellcheck disable=SC2046
	pc_in host "$PC_PORTCTLD" --remove-table $(pc_portctld_args) --socket "$PCD_SOCK" \
		>"$PC_TMP/remove.out" 2>"$PC_TMP/remove.err"
}

pcd_log "refused while portctld serves"
remove_table && pc_fail "--remove-table ran beside a running portctld"
grep -q "portctld is already running (pid $PCD_PID)" "$PC_TMP/remove.err" ||
	pc_fail "--remove-table: $(cat "$PC_TMP/remove.err")"
pc_in host nft list table inet portctl >/dev/null || pc_fail "the table went"
filtered

pcd_log "the daemon stopped: the rules stay"
pcd_stop
filtered

pcd_log "refused while another process owns the table"
pc_background host "$PC_HOLDER" "$PC_TMP/etc" "$PC_TMP/share" "$PC_TMP/state"
holder=$PC_LAST_PID
remove_table && pc_fail "--remove-table deleted a table another process owns"
grep -q "owned by a running process" "$PC_TMP/remove.err" ||
	pc_fail "--remove-table: $(cat "$PC_TMP/remove.err")"
pc_stop "$holder"
pc_in host nft list table inet portctl >/dev/null || pc_fail "the table went"

pcd_log "deleted in one transaction; the machine is unfiltered by portctl"
pc_monitor_start host "$PC_TMP/monitor"
remove_table || pc_fail "--remove-table: $(cat "$PC_TMP/remove.err")"
pc_monitor_stop
grep -q "table inet portctl deleted" "$PC_TMP/remove.out" ||
	pc_fail "--remove-table said: $(cat "$PC_TMP/remove.out")"
[ "$(grep -c "^# new generation" "$PC_TMP/monitor")" -eq 1 ] ||
	pc_fail "not one transaction: $(cat "$PC_TMP/monitor")"
grep -q "^delete table inet portctl" "$PC_TMP/monitor" ||
	pc_fail "no delete of the table: $(cat "$PC_TMP/monitor")"
grep -q "pcother" "$PC_TMP/monitor" && pc_fail "another table was touched: $(cat "$PC_TMP/monitor")"
pc_in host nft list table inet portctl >/dev/null 2>&1 && pc_fail "table inet portctl is still there"
pc_in host nft list chain inet pcother input >/dev/null || pc_fail "table inet pcother went too"
pc_expect open pc_probe peer tcp 10.99.7.1 81
pc_expect open pc_probe peer2 tcp 10.99.8.1 80

pcd_log "again: no table, no transaction"
pc_monitor_start host "$PC_TMP/monitor"
remove_table || pc_fail "a second --remove-table failed: $(cat "$PC_TMP/remove.err")"
pc_monitor_stop
grep -q "no table inet portctl" "$PC_TMP/remove.out" ||
	pc_fail "--remove-table said: $(cat "$PC_TMP/remove.out")"
grep -q "^# new generation" "$PC_TMP/monitor" && pc_fail "a transaction without a table: $(cat "$PC_TMP/monitor")"
pc_in host nft delete table inet pcother
exit 0
