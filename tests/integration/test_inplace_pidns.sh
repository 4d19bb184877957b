#!/bin/sh
# In-place changes with portctld in a PID namespace (unshare --pid --fork),
# 300 rules, a run of rules of a port and a source each, 200 rules of their
# own (the zone in blocks) and a ban in force:
# allow, reject, limit, deny from, ban, unban, insert at the file's end, a
# rule of a port and a source into the run, one of a port, a source and a
# destination into a block, a port range and the deletes are one
# transaction each
# and do what they say to real traffic; a reload afterwards sends nothing;
# a restart in the namespace finds the table as it left it (no transaction).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon-lib.sh"
pc_require
command -v pgrep >/dev/null || pc_skip "needs pgrep"
pcd_setup

LOG="$PC_TMP/portctld.log"
HOST=10.99.7.1
B=10.99.7.3 # the peer's second address: denied, banned
pc_in peer ip addr add "$B/24" dev vp || pc_fail "second peer address"
RULES90="$PC_TMP/etc/rules.d/90-portctl.rules"

expect() {
	pc_expect "$1" pc_probe peer tcp "$HOST" "$2" 500 "${3:-10.99.7.2}"
}

# transactions N CMD...: CMD makes portctld commit exactly N times.
transactions() {
	want=$1
	shift
	pc_monitor_start host "$PC_TMP/monitor"
	"$@" >"$PC_TMP/out" 2>&1 || pc_fail "$*: $(cat "$PC_TMP/out")"
	pc_monitor_stop
	n=$(grep -c "^# new generation .*(portctld)" "$PC_TMP/monitor")
	[ "$n" -eq "$want" ] || pc_fail "$* made $n transactions, not $want: $(cat "$PC_TMP/monitor")"
	pc_log "ok: $*: $n transaction(s)"
}
one() {
	transactions 1 pcd_as_member "$@"
	pcd_as_member diff >"$PC_TMP/out" 2>&1 || pc_fail "after $*: portctl diff: $(cat "$PC_TMP/out")"
}

# portctld in a PID namespace of its own, in the host's network namespace.
pidns_start() {
	# shellcheck disable=SC2046
	nsenter --net="/run/netns/$(pc_ns host)" unshare --pid --fork --kill-child=TERM \
		"$PC_PORTCTLD" $(pc_portctld_args) --socket "$PCD_SOCK" 2>>"$LOG" &
	UNSHARE_PID=$!
	PC_PIDS="$PC_PIDS $UNSHARE_PID"
	pc_until 5 pcd_as_member status >/dev/null 2>&1 ||
		pc_fail "portctld in a PID namespace did not start: $(cat "$LOG")"
	# unshare blocks SIGTERM: stop the daemon itself (pcd_cleanup kills PCD_PID).
	PCD_PID=$(pgrep -P "$UNSHARE_PID")
	grep -q '^NSpid:.*[[:space:]]1$' "/proc/$PCD_PID/status" ||
		pc_fail "portctld is not in a PID namespace"
}
pidns_stop() {
	kill "$PCD_PID" && wait "$UNSHARE_PID"
	PC_PIDS=$(echo "$PC_PIDS" | sed "s/ $UNSHARE_PID\b//")
	PCD_PID=""
}

{
	i=0
	while [ $i -lt 300 ]; do
		echo "allow $((10000 + i))/tcp"
		i=$((i + 1))
	done
	echo "limit 30001/tcp"
} >"$PC_TMP/etc/rules.d/10-bulk.rules"
# Hosts and networks of both families (masked keys: the restart reads
# them back as they were sent).
i=0
while [ $i -lt 100 ]; do
	case $((i % 10)) in
	0) echo "allow $((12000 + i))/tcp from 10.96.$i.0/24" ;;
	5) echo "allow $((12000 + i)) from 2001:db8:$i::/48" ;;
	*) echo "allow $((12000 + i))/tcp from 10.97.0.$i" ;;
	esac
	i=$((i + 1))
done >"$PC_TMP/etc/rules.d/95-hosts.rules"
# 200 rules of their own (a port, a source and a destination network): the zone's
# chain is cut into blocks (chains it jumps to), which the CLI's rules
# after them go into.
seq 200 | awk '{ printf "allow %d/tcp from 10.%d.%d.0/24 %s\n", 20000 + $1, 50 + int($1 / 256), $1 % 256,
		   $1 % 2 ? "to 10.99.7.0/24" : "port 1024-65535/tcp to 10.99.0.0/16" }' \
	>"$PC_TMP/etc/rules.d/50-own.rules"
# PC_SMALL_RUNS=1 (test_inplace_pidns_small.sh): 300 rules of a port or a
# source in turn in the CLI's file, each a run of its own: past 64 small
# runs of a file the zone lowers them rule by rule (no sets), and so the
# CLI's rules after them (no default rules after those: they would end
# the CLI's run in a file of few small runs, which keeps its sets).
if [ -n "${PC_SMALL_RUNS:-}" ]; then
	seq 300 | awk '{ if ($1 % 2) printf "allow %d/tcp\n", 6000 + $1;
			 else printf "deny from 10.50.%d.%d\n", int($1 / 256), $1 % 256 }' \
		>"$RULES90"
	: >"$PC_TMP/etc/defaults.rules"
fi
# Unowned, so that the table the daemon leaves is read back at its restart.
pc_config_write portctl.conf "socket-group = $PCD_GROUP" "socket-mode = 0666" "table-owner = no"
pc_listen host tcp:2001 tcp:2002 tcp:2003 tcp:2005 tcp:2011 tcp:2012 tcp:2021
pidns_start
pcd_as_member ban 192.0.2.9 >/dev/null || pc_fail "ban"

one allow 2001/tcp
expect open 2001
one reject 2002/tcp
expect refused 2002
one limit 2003/tcp
expect open 2003
one deny from "$B"
one allow 2005/tcp
expect open 2005
expect timeout 2005 "$B"
one ban "$B"
expect timeout 2001 "$B"
one unban "$B"
expect open 2001 "$B"
one delete allow 2005/tcp
expect timeout 2005
one delete deny from "$B"
pos=$(cat "$PC_TMP/etc/rules.d/10-bulk.rules" "$PC_TMP/etc/rules.d/50-own.rules" "$RULES90" | grep -cE '^(allow|deny|reject|limit) ')
one insert "$((pos + 1))" allow 2005/tcp
expect open 2005 "$B"
one delete allow 2005/tcp
one delete limit 2003/tcp
expect timeout 2003
one allow 2011/tcp from 10.99.7.2
expect open 2011
expect timeout 2011 "$B"
one allow 2012/tcp from 10.99.7.2 to "$HOST"
pc_in host nft list table inet portctl | awk '/^\tchain / { c = $2 } / dport 2012 / { print c }' |
	grep -q '^in_public_B' || pc_fail "allow 2012/tcp from to is not in a block"
if [ -n "${PC_SMALL_RUNS:-}" ]; then
	pcd_by_rule "allow 2001/tcp"
	pcd_by_rule "allow 2011/tcp from 10.99.7.2"
fi
expect open 2012
expect timeout 2012 "$B"
one allow 2020-2022/tcp
expect open 2021
transactions 0 pcd_as_member reload
pidns_stop

pcd_log "restarted in a PID namespace: the table holds what it left"
pc_monitor_start host "$PC_TMP/monitor"
pidns_start
pc_monitor_stop
n=$(grep -c "^# new generation" "$PC_TMP/monitor")
[ "$n" -eq 0 ] || pc_fail "the restart made $n transactions: $(cat "$PC_TMP/monitor")"
expect open 2001
expect refused 2002
expect open 2011
expect open 2012
expect open 2021
pc_in host nft list table inet portctl | grep -q "192.0.2.9" || pc_fail "the ban is gone"
pidns_stop
exit 0
