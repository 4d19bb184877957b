#!/bin/sh
# A CLI rule that runs on into the first run of a file after the CLI's
# (its `deny from` with the file's), and a rule put between them, which
# cuts that run of addresses in two; then its delete, which joins them
# again. Each in place (one transaction), traffic through the rule put in,
# the addresses of both parts still denied, and a reload after each sends
# nothing: the model left in memory is the full compile's.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon-lib.sh"
pc_require
pcd_setup
pc_config_write portctl.conf "socket-group = $PCD_GROUP" "socket-mode = 0666" "log-level = debug"

{
	seq 100 | awk '{ printf "deny from 10.60.%d.%d\n", int($1 / 256), $1 % 256 }'
	seq 100 | awk '{ printf "allow %d/tcp\n", 6000 + $1 }'
} >"$PC_TMP/etc/rules.d/95-late.rules"
P() { pcd_as_member "$@" >"$PC_TMP/out" 2>&1 || pc_fail "portctl $*: $(cat "$PC_TMP/out")"; }
# Both parts' addresses in the table, and nothing a reload would send.
still_denied() {
	pc_in host nft list table inet portctl >"$PC_TMP/table"
	for a in 192.0.2.1 10.60.0.1 10.60.0.100; do
		grep -q "$a" "$PC_TMP/table" || pc_fail "$1: $a no longer denied"
	done
	pc_monitor_start host "$PC_TMP/monitor"
	P reload
	pc_monitor_stop
	grep -q "^# new generation .*(portctld)" "$PC_TMP/monitor" &&
		pc_fail "$1: a reload after it sent: $(head -c 2000 "$PC_TMP/monitor")"
	pc_log "ok: $1: in place, both parts denied, the model the files'"
}

pcd_start
pcd_in_place deny from 192.0.2.1
pc_expect timeout pc_probe peer tcp 10.99.7.1 7000 300
pcd_in_place insert "$(($(pcd_rule_field 'deny from 192.0.2.1' number) + 1))" allow 7000/tcp
pc_expect refused pc_probe peer tcp 10.99.7.1 7000
still_denied "a port rule cutting a run of addresses"
pcd_in_place delete allow 7000/tcp
pc_expect timeout pc_probe peer tcp 10.99.7.1 7000 300
pc_expect refused pc_probe peer tcp 10.99.7.1 6001
still_denied "its delete, joining the two"
pcd_stop
pc_log "PASS"
