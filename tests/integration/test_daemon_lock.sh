#!/bin/sh
# One daemon at a time: a second portctld (serve mode or --apply-once) is
# refused with the first one's pid and touches neither its socket nor the
# table; the first keeps serving; once it is gone a new one starts, also
# over the stale socket a killed daemon leaves behind.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon-lib.sh"
pc_require
pcd_setup
pc_config_write 10-base.rules 'allow 22/tcp'
pcd_start
pc_listen host tcp:8080

# nft monitor gives no sign that it has subscribed: commit to a table of
# our own until it shows, then every later generation is in the file.
nsenter --net="/run/netns/$(pc_ns host)" nft monitor >"$PC_TMP/monitor" 2>&1 &
mon=$!
PC_PIDS="$PC_PIDS $mon"
for i in $(seq 100); do
	pc_in host nft add table inet pcsync$i
	grep -q "^add table inet pcsync" "$PC_TMP/monitor" && break
	sleep 0.05
done
grep -q "^add table inet pcsync" "$PC_TMP/monitor" || pc_fail "nft monitor never started"
synced=$(wc -l <"$PC_TMP/monitor")

inode=$(stat -c %i "$PCD_SOCK")
# shellcheck disable=SC2046
pc_in host "$PC_PORTCTLD" $(pc_portctld_args) --socket "$PCD_SOCK" 2>"$PC_TMP/second.err" &&
	pc_fail "a second portctld was not refused"
grep -q "portctld is already running (pid $PCD_PID)" "$PC_TMP/second.err" ||
	pc_fail "second portctld: $(cat "$PC_TMP/second.err")"
# shellcheck disable=SC2046
pc_in host "$PC_PORTCTLD" --apply-once $(pc_portctld_args) --socket "$PCD_SOCK" \
	2>"$PC_TMP/once.err" && pc_fail "portctld --apply-once was not refused"
grep -q "portctld is already running (pid $PCD_PID)" "$PC_TMP/once.err" ||
	pc_fail "--apply-once: $(cat "$PC_TMP/once.err")"
[ "$(stat -c %i "$PCD_SOCK")" = "$inode" ] || pc_fail "the socket was replaced"
kill -0 "$PCD_PID" || pc_fail "the first portctld died"

"$PCD_PORTCTL" -s "$PCD_SOCK" allow 8080/tcp >/dev/null || pc_fail "allow 8080/tcp"
[ "$(pcd_nft_has 8080)" = True ] || pc_fail "8080 is not in the table"
pc_expect open pc_probe peer tcp 10.99.7.1 8080
# The allow is the only transaction since the monitor synced: the refused
# daemons committed nothing.
for _ in $(seq 100); do
	tail -n +"$((synced + 1))" "$PC_TMP/monitor" | grep -q "tcp \. 8080" && break
	sleep 0.05
done
n=$(tail -n +"$((synced + 1))" "$PC_TMP/monitor" | grep -c "^# new generation")
[ "$n" -eq 1 ] || pc_fail "$n generations, not 1: $(cat "$PC_TMP/monitor")"

pcd_log "after the first one exits, a new one starts"
pcd_stop
pcd_start
"$PCD_PORTCTL" -s "$PCD_SOCK" allow 8081/tcp >/dev/null || pc_fail "allow 8081/tcp"

pcd_log "a killed daemon's stale socket is replaced"
kill -9 "$PCD_PID" && wait "$PCD_PID" 2>/dev/null
PCD_PID=""
[ -S "$PCD_SOCK" ] || pc_fail "no stale socket left to test with"
pcd_start
[ "$(grep -c "already running" "$PC_TMP/portctld.log")" -eq 0 ] ||
	pc_fail "a daemon was refused after the first one was gone: $(cat "$PC_TMP/portctld.log")"
"$PCD_PORTCTL" -s "$PCD_SOCK" status >/dev/null || pc_fail "status after the restart"
exit 0
