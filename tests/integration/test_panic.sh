#!/bin/sh
# panic on|off: a live TCP connection over veth stops passing data at once
# (established connections are dropped too), off restores the same rules,
# status shows the mode, and the mode survives a restart of portctld.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon-lib.sh"
. "$(dirname "$0")/trust-lib.sh"
pc_require
pcd_setup

STREAM="$top_srcdir/tests/integration/stream.py"
COUNT="$PC_TMP/echoed"

pc_config_write 10-base.rules 'allow 5000/tcp' 'allow 443/tcp'
pcd_start
pc_listen host tcp:443
pc_background host python3 "$STREAM" server 5000
pc_background peer python3 "$STREAM" client 10.99.7.1 5000 "$COUNT"

echoed() { cat "$COUNT"; }
# grows_past N: the connection passes data again (more than N bytes echoed).
grows_past() { [ "$(echoed)" -gt "$1" ]; }

tw_wait grows_past 3 || pc_fail "the connection does not pass data"
pc_expect open pc_probe peer tcp 10.99.7.1 443
rules_before=$(pc_in host nft list table inet portctl | grep -c .)

pcd_log "over SSH, panic on needs --force"
SSH_CONNECTION="10.99.7.2 40000 10.99.7.1 22"
pcd_as_member panic on 2>"$PC_TMP/err"
rc=$?
SSH_CONNECTION=""
[ $rc -eq 1 ] || pc_fail "panic on over SSH without --force exited $rc"
grep -q -- "--force" "$PC_TMP/err" || pc_fail "no --force hint: $(cat "$PC_TMP/err")"

pcd_log "panic on: the live connection stops"
pcd_as_member panic on >"$PC_TMP/out" || pc_fail "panic on"
grep -q "PANIC MODE ON" "$PC_TMP/out" || pc_fail "panic on said: $(cat "$PC_TMP/out")"
sleep 0.3
stopped=$(echoed)
sleep 1
[ "$(echoed)" = "$stopped" ] || pc_fail "data still passes in panic mode ($stopped -> $(echoed))"
pc_expect timeout pc_probe peer tcp 10.99.7.1 443
[ "$(tw_status_field panic)" = true ] || pc_fail "status does not show panic mode"
pcd_as_member status | grep -q "PANIC MODE" || pc_fail "status text does not show panic"
pcd_as_member allow 8080/tcp 2>"$PC_TMP/err"
[ $? -eq 1 ] || pc_fail "a rule change in panic mode must be refused"
grep -q "panic off" "$PC_TMP/err" || pc_fail "refusal does not point at panic off"

pcd_log "panic survives a restart of portctld"
pcd_stop
pcd_start
[ "$(tw_status_field panic)" = true ] || pc_fail "panic mode lost in a restart"
pc_expect timeout pc_probe peer tcp 10.99.7.1 443
[ "$(echoed)" = "$stopped" ] || pc_fail "data passed after the restart"

pcd_log "panic off: the same rules, and the connection passes data again"
pcd_as_member panic off >"$PC_TMP/out" || pc_fail "panic off"
[ "$(tw_status_field panic)" = false ] || pc_fail "status still shows panic"
rules_after=$(pc_in host nft list table inet portctl | grep -c .)
[ "$rules_after" = "$rules_before" ] || pc_fail "table has $rules_after lines, before $rules_before"
pc_expect open pc_probe peer tcp 10.99.7.1 443
tw_wait grows_past "$stopped" || pc_fail "the connection did not resume"
[ ! -e "$PC_TMP/state/panic.json" ] || pc_fail "panic mark left"
exit 0
