#!/bin/sh
# Bans hold (product promise 7): a banned peer stays out, and another peer
# stays in, through every kind of change: reload, stop and start, kill -9
# and start, apply --confirm and confirm, a rollback, panic on and off;
# each of those reaches the kernel as one transaction, bans included.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon-lib.sh"
pc_require
pcd_setup
pc_ns_add peer2
pc_link host vh2 10.99.8.1 fd99:8::1 peer2 vp2 10.99.8.2 fd99:8::2
pc_config_write 10-web.rules 'allow 80/tcp'
P() { "$PCD_PORTCTL" -s "$PCD_SOCK" "$@"; }

pcd_start
pc_listen host tcp:80 tcp:81

# Not open: a timeout, or an error where the ban stops neighbour discovery
# too (IPv6: the host's answers to a banned address are dropped as well).
shut() {
	got=$(pc_probe "$@")
	case "$got" in timeout | error) pc_log "ok: $* -> $got" ;; *) pc_fail "'$*' gave '$got'" ;; esac
}

banned() {
	pcd_log "$1: the banned peer is out, the other in (v4 and v6)"
	shut peer tcp 10.99.7.1 80
	shut peer tcp fd99:7::1 80
	pc_expect open pc_probe peer2 tcp 10.99.8.1 80
	pc_expect open pc_probe peer2 tcp fd99:8::1 80
}

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

pc_expect open pc_probe peer tcp 10.99.7.1 80
one_transaction "ban 10.99.7.2" pcd_as_member ban 10.99.7.2
one_transaction "ban fd99:7::2" pcd_as_member ban fd99:7::2
banned "after the bans"
grep -q fd99:7::2 "$(pcd_bans_file)" || pc_fail "the bans were not kept in the state directory"

pcd_log "a ban again is fine (fail2ban restarting), unban of a host not banned is exit 0"
pcd_as_member ban 10.99.7.2 >/dev/null || pc_fail "a repeated ban failed"
pcd_as_member unban 192.0.2.55 >"$PC_TMP/out" || pc_fail "unban of a host not banned: $(cat "$PC_TMP/out")"
grep -q "not banned" "$PC_TMP/out" || pc_fail "unban says: $(cat "$PC_TMP/out")"

pc_config_write 10-web.rules 'allow 80/tcp' 'allow 81/tcp'
one_transaction "reload" pcd_as_member reload
banned "after a reload"
pc_expect open pc_probe peer2 tcp 10.99.8.1 81

pcd_stop
pcd_start
banned "after stop and start"

kill -9 "$PCD_PID"
wait "$PCD_PID" 2>/dev/null
PCD_PID=""
banned "while portctld is dead (kill -9)"
pcd_start
banned "after kill -9 and start"

pc_config_write 10-web.rules 'allow 80/tcp'
one_transaction "apply --confirm" pcd_as_member apply --confirm 60
banned "on trial (apply --confirm)"
pcd_as_member confirm >/dev/null || pc_fail "confirm"
banned "after confirm"
pc_expect timeout pc_probe peer2 tcp 10.99.8.1 81

pcd_log "an unconfirmed apply rolls back, bans and all"
pc_config_write 10-web.rules 'allow 80/tcp' 'allow 81/tcp'
pcd_as_member apply --confirm 1 >/dev/null || pc_fail "apply --confirm 1"
pc_expect open pc_probe peer2 tcp 10.99.8.1 81
for _ in $(seq 200); do
	P --json status | grep -q pending_confirm || break
	sleep 0.05
done
P --json status | grep -q pending_confirm && pc_fail "no rollback within 10 s"
pc_expect timeout pc_probe peer2 tcp 10.99.8.1 81
banned "after the rollback"

pcd_log "panic on and off"
one_transaction "panic on" pcd_as_member panic on
pc_expect timeout pc_probe peer2 tcp 10.99.8.1 80
one_transaction "panic off" pcd_as_member panic off
banned "after panic off"

pcd_log "a ban made in panic mode holds when it ends"
pcd_as_member panic on >/dev/null || pc_fail "panic on"
pcd_as_member ban 10.99.8.99 >/dev/null || pc_fail "a ban in panic mode was refused"
pcd_as_member panic off >/dev/null || pc_fail "panic off"
grep -q "10.99.8.99" "$(pcd_bans_file)" || pc_fail "the ban in panic mode was not kept"

pcd_log "unban lets the peer in again, and stays so through a restart"
one_transaction "unban" pcd_as_member unban 10.99.7.2
pc_expect open pc_probe peer tcp 10.99.7.1 80
shut peer tcp fd99:7::1 80
pcd_stop
pcd_start
pc_expect open pc_probe peer tcp 10.99.7.1 80
shut peer tcp fd99:7::1 80

pcd_log "a ban cuts the host's established connection and its ping; unban brings both back"
pc_config_write 10-web.rules 'allow 80/tcp' 'allow 5000/tcp'
pcd_as_member reload >/dev/null || pc_fail "reload with 5000/tcp"
STREAM="$top_srcdir/tests/integration/stream.py"
PING="$top_srcdir/tests/integration/ping.py"
pc_background host python3 "$STREAM" server 5000
pc_background peer2 python3 "$STREAM" client 10.99.8.1 5000 "$PC_TMP/echoed"
echoed() { cat "$PC_TMP/echoed"; }
grows_past() { [ "$(echoed)" -gt "$1" ]; }
pc_until 15 grows_past 3 || pc_fail "the stream passes no data"
[ "$(pc_in peer2 python3 "$PING" 10.99.8.1 1000)" = reply ] || pc_fail "no ping before the ban"
pcd_as_member ban 10.99.8.2 >/dev/null || pc_fail "ban 10.99.8.2"
# Nothing to wait for when nothing may happen: the count must stand still.
sleep 0.3
stopped=$(echoed)
sleep 1
[ "$(echoed)" = "$stopped" ] || pc_fail "the banned host's stream still flows ($stopped -> $(echoed))"
[ "$(pc_in peer2 python3 "$PING" 10.99.8.1 1000)" = timeout ] || pc_fail "the banned host still pings"
pcd_as_member unban 10.99.8.2 >/dev/null || pc_fail "unban 10.99.8.2"
pc_until 15 grows_past "$stopped" || pc_fail "the stream did not resume after the unban"
[ "$(pc_in peer2 python3 "$PING" 10.99.8.1 1000)" = reply ] || pc_fail "no ping after the unban"

pcd_log "a ban with a timeout lapses by itself, in the kernel and in the state directory,"
pcd_log "also when it ends before a ban made earlier"
pcd_as_member ban 10.99.8.3 --timeout 600 >/dev/null || pc_fail "ban 10.99.8.3 --timeout 600"
pcd_as_member ban 10.99.8.2 --timeout 3 >/dev/null || pc_fail "ban --timeout 3"
shut peer2 tcp 10.99.8.1 80
lapsed() { [ "$(pc_probe peer2 tcp 10.99.8.1 80)" = open ] && ! grep -q 10.99.8.2 "$(pcd_bans_file)"; }
pc_until 15 lapsed || pc_fail "the ban did not lapse within 15 s"
grep -q 10.99.8.3 "$(pcd_bans_file)" || pc_fail "the longer ban lapsed with the shorter one"
pcd_as_member unban 10.99.8.3 >/dev/null || pc_fail "unban 10.99.8.3"

pcd_log "bans = no refuses ban and unban (exit 4), other changes go on"
pc_config_write portctl.conf "socket-group = $PCD_GROUP" "socket-mode = 0666" "bans = no"
pcd_as_member reload >/dev/null || pc_fail "reload with bans = no"
pcd_as_member ban 10.99.8.2 >/dev/null 2>&1
[ $? -eq 4 ] || pc_fail "a ban with bans = no is not exit 4"
pc_expect open pc_probe peer2 tcp 10.99.8.1 80
exit 0
