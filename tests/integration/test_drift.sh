#!/bin/sh
# Drift that sees only real drift: with a limit meter filled by traffic, a
# log rule, a rate rule and 160 more rules, commits of other programs to
# their own tables cost portctld no generation and leave our table and its
# counters alone, also with the daemon in a PID namespace; its own changes
# are never compared; a hand-deleted rule (table-owner = no) is repaired
# exactly once, with a log line naming it, and no more than 3 times a minute.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon-lib.sh"
pc_require
command -v pgrep >/dev/null || pc_skip "needs pgrep"
pcd_setup

LOG="$PC_TMP/portctld.log"
MON="$PC_TMP/monitor"
NFOREIGN=0 # commits of others to other tables since the daemon started

P() {
	"$PCD_PORTCTL" -c "$PC_TMP/etc" -d "$top_srcdir/rules" -s "$PCD_SOCK" "$@"
}


# foreign NFT-ARGS...: one commit by another program (nft) to another table.
foreign() {
	pc_in host nft "$@" || pc_fail "nft $*"
	NFOREIGN=$((NFOREIGN + 1))
}

# Start with an empty log and a new count of the commits of others.
daemon_fresh() {
	: >"$LOG"
	NFOREIGN=0
}

ignored_seen() {
	n=$(sed -n 's/.*(\([0-9]*\) since start)$/\1/p' "$LOG" | tail -1)
	[ "${n:-0}" -ge "$NFOREIGN" ]
}

# portctld has read every commit of others made so far, and done whatever
# it does about them (a repair would be committed by then).
daemon_settle() {
	pc_until 15 ignored_seen ||
		pc_fail "portctld did not read every foreign commit: $(tail -3 "$LOG")"
}

# gens_by NAME: generations of the last monitor window committed by NAME.
gens_by() {
	grep -c "^# new generation .* ($1)\$" "$MON"
}

gens_all() {
	grep -c "^# new generation" "$MON"
}

# The table without counter values and without the elements the packet
# path puts into meters; handles stay: a rewrite would change them.
table_shape() {
	pc_in host nft -a -j list table inet portctl >"$PC_TMP/t.json" || pc_fail "list table"
	python3 - "$PC_TMP/t.json" <<'PY'
import json, sys
def strip(o):
    if isinstance(o, dict):
        # nft -j leaves "dynamic" out of a meter's flags; "timeout" is there.
        if isinstance(o.get("set"), dict) and {"dynamic", "timeout"} & set(o["set"].get("flags", [])):
            o["set"].pop("elem", None)
        return {k: (None if k == "counter" else strip(v)) for k, v in o.items()}
    if isinstance(o, list):
        return [strip(v) for v in o]
    return o
print(json.dumps(strip(json.load(open(sys.argv[1]))["nftables"]), indent=1, sort_keys=True))
PY
	[ $? -eq 0 ] || pc_fail "cannot read the table's shape"
}

# Every counter of the table as "HANDLE-OR-ELEMENT packets", one a line.
table_counters() {
	pc_in host nft -a -j list table inet portctl >"$PC_TMP/c.json" || pc_fail "list table"
	python3 - "$PC_TMP/c.json" <<'PY'
import json, sys
def walk(o, where):
    if isinstance(o, dict):
        if "counter" in o and isinstance(o["counter"], dict) and "packets" in o["counter"]:
            print(where, o["counter"]["packets"])
        for k, v in o.items():
            walk(v, where + "/" + k)
    elif isinstance(o, list):
        for i, v in enumerate(o):
            walk(v, where + "/" + str(i))
for o in json.load(open(sys.argv[1]))["nftables"]:
    if "rule" in o:
        walk(o["rule"]["expr"], "rule%d" % o["rule"]["handle"])
    elif "set" in o and "elem" in o["set"]:
        walk(o["set"]["elem"], "set-" + o["set"]["name"])
PY
	[ $? -eq 0 ] || pc_fail "cannot read the table's counters"
}

# counters_kept BEFORE AFTER: no counter went back (a rewrite zeroes them all).
counters_kept() {
	python3 - "$1" "$2" <<'PY'
import sys
def load(p):
    return dict(l.rsplit(" ", 1) for l in open(p).read().splitlines())
a, b = load(sys.argv[1]), load(sys.argv[2])
assert a.keys() == b.keys(), (sorted(a.keys() ^ b.keys()))[:5]
back = [k for k in a if int(b[k]) < int(a[k])]
assert not back, back[:5]
assert any(int(v) > 0 for v in a.values()), "no counter counted anything"
PY
}

meter_filled() {
	meter=$(pc_in host nft list table inet portctl | sed -n 's/^\tset \(meter4_[a-z0-9_]*\) {$/\1/p')
	pc_in host nft -j list set inet portctl "$meter" | grep -q '"elem"'
}

# Twenty commits to a table of another program, with chains, sets,
# elements and rules: none of them touches ours.
foreign_commits() {
	foreign add table inet other
	foreign add chain inet other c '{ type filter hook input priority 10; }'
	foreign add set inet other s '{ type ipv4_addr; }'
	for i in $(seq 1 8); do
		foreign add rule inet other c tcp dport $((30000 + i)) accept
		foreign add element inet other s "{ 192.0.2.$i }"
	done
	foreign delete table inet other
}

settings="socket-group = $PCD_GROUP
socket-mode = 0666
log-level = debug"
pc_config_write portctl.conf "$settings"
{
	echo 'limit 22/tcp'
	echo 'allow 80/tcp log'
	echo 'allow 8080/tcp rate 10/second'
	for i in $(seq 1 160); do
		# Rules of their own (of one port each with a source alone, or
		# toward hosts or networks, they would be one run's set
		# elements: every other one of the clients' source ports too).
		echo "allow $((20000 + i))/tcp from 10.98.$((i / 200)).$((i % 200 + 1)) $([ $((i % 2)) = 1 ] && echo to 10.99.7.0/24 || echo port 1024-65535/tcp to 10.99.0.0/16)"
	done
} >"$PC_TMP/etc/rules.d/10-drift.rules"

# quiet_commits NAME: the foreign commits cost portctld nothing.
quiet_commits() {
	pcd_log "$1: traffic fills the limit meter, 20 commits to another table"
	for _ in 1 2 3; do
		pc_probe peer tcp 10.99.7.1 22 >/dev/null
		pc_probe peer tcp 10.99.7.1 80 >/dev/null
		pc_probe peer tcp 10.99.7.1 8080 >/dev/null
	done
	meter_filled || pc_fail "$1: the limit meter has no element"
	table_shape >"$PC_TMP/shape.before"
	table_counters >"$PC_TMP/counters.before"
	pc_monitor_start host "$MON"
	foreign_commits
	daemon_settle
	pc_monitor_stop
	[ "$(gens_by portctld)" -eq 0 ] ||
		pc_fail "$1: portctld committed $(gens_by portctld) times: $(grep -A3 'differ' "$LOG" | head -8)"
	[ "$(gens_all)" -eq 20 ] || pc_fail "$1: expected 20 generations, saw $(gens_all)"
	grep -q "comparing table inet portctl" "$LOG" && pc_fail "$1: a commit of another table was compared"
	table_shape >"$PC_TMP/shape.after"
	diff -u "$PC_TMP/shape.before" "$PC_TMP/shape.after" >&2 || pc_fail "$1: our table changed"
	table_counters >"$PC_TMP/counters.after"
	counters_kept "$PC_TMP/counters.before" "$PC_TMP/counters.after" ||
		pc_fail "$1: counters went back"
	pcd_log "$1: 20 foreign commits, 0 generations by portctld, table and counters kept"

	pcd_log "$1: our own allow is one generation and never compared"
	pc_monitor_start host "$MON"
	for port in 40001 40002 40003; do
		P allow $port/tcp >/dev/null || pc_fail "$1: allow $port"
	done
	daemon_settle
	pc_monitor_stop
	[ "$(gens_by portctld)" -eq 3 ] && [ "$(gens_all)" -eq 3 ] ||
		pc_fail "$1: 3 allows gave $(gens_all) generations: $(cat "$MON")"
	grep -q "comparing table inet portctl\|changed by another\|differs from\|repair" "$LOG" &&
		pc_fail "$1: our own change was taken for drift: $(grep "comparing\|repair" "$LOG" | head -3)"
	P delete allow 40001/tcp >/dev/null && P delete allow 40002/tcp >/dev/null &&
		P delete allow 40003/tcp >/dev/null || pc_fail "$1: delete"

	pcd_log "$1: a ban, a reload that keeps it, an unban: 1, 0 and 1 generations, never compared"
	pc_monitor_start host "$MON"
	P ban 203.0.113.99 >/dev/null || pc_fail "$1: ban"
	P reload >/dev/null || pc_fail "$1: reload"
	pc_in host nft list set inet portctl ban4 | grep -q "203.0.113.99" ||
		pc_fail "$1: the ban is not in the kernel after the reload"
	P unban 203.0.113.99 >/dev/null || pc_fail "$1: unban"
	daemon_settle
	pc_monitor_stop
	[ "$(gens_by portctld)" -eq 2 ] && [ "$(gens_all)" -eq 2 ] ||
		pc_fail "$1: ban, reload, unban gave $(gens_all) generations: $(cat "$MON")"
	grep -q "comparing table inet portctl\|changed by another\|repair" "$LOG" &&
		pc_fail "$1: a ban was taken for drift: $(grep "comparing\|repair" "$LOG" | head -3)"
}

daemon_fresh
pcd_start
quiet_commits "plain"
pcd_stop

pcd_log "in a PID namespace: the kernel reports the host's pid for our commits"
daemon_fresh
# shellcheck disable=SC2046
nsenter --net="/run/netns/$(pc_ns host)" unshare --pid --fork --kill-child=TERM \
	"$PC_PORTCTLD" $(pc_portctld_args) --socket "$PCD_SOCK" 2>>"$LOG" &
PCD_PID=$!
pc_until 5 P status >/dev/null 2>&1 || pc_fail "portctld in a PID namespace did not start: $(cat "$LOG")"
UNSHARE_PID=$PCD_PID
PC_PIDS="$PC_PIDS $UNSHARE_PID"
# unshare blocks SIGTERM: stop the daemon itself (pcd_cleanup kills PCD_PID).
PCD_PID=$(pgrep -P "$UNSHARE_PID")
grep -q '^NSpid:.*[[:space:]]1$' "/proc/$PCD_PID/status" || pc_fail "portctld is not in a PID namespace"
quiet_commits "pid namespace"
kill "$PCD_PID" && wait "$UNSHARE_PID"
PCD_PID=""

pcd_log "table-owner = no: a hand-deleted rule is repaired exactly once"
pc_config_write portctl.conf "$settings" "table-owner = no"
daemon_fresh
pcd_start
# A meter's elements are no difference: only the deleted rule is.
pc_probe peer tcp 10.99.7.1 22 >/dev/null
meter_filled || pc_fail "the limit meter has no element"
# where_is PORT: the chain (the zone's, or one of its blocks) and handle
# of the rule of tcp port PORT, into chain and handle.
where_is() {
	set -- $(pc_in host nft -a list table inet portctl |
		awk -v p=" dport $1 " '/chain / { c = $2 } index($0, p) { print c, $NF; exit }')
	chain=${1:-} handle=${2:-}
}
where_is 20007
[ -n "$handle" ] || pc_fail "no rule for 20007/tcp"
pc_monitor_start host "$MON"
pc_in host nft delete rule inet portctl "$chain" handle "$handle" || pc_fail "nft delete rule"
pc_until 15 grep -q "drift repaired" "$LOG" || pc_fail "not repaired: $(tail -5 "$LOG")"
# A later commit elsewhere: once the daemon has read it, it has read the
# events of its own repair too, and a second repair would have happened.
foreign add table inet after
daemon_settle
pc_monitor_stop
[ "$(gens_by portctld)" -eq 1 ] && [ "$(gens_all)" -eq 3 ] ||
	pc_fail "the repair took $(gens_by portctld) generations: $(cat "$MON")"
where_is 20007
[ -n "$handle" ] || pc_fail "rule not back"
grep -q "changed by another process (pid [1-9][0-9]*, nft): 1 difference " "$LOG" ||
	pc_fail "drift not logged: $(grep -A6 "changed by" "$LOG")"
grep -q "missing: rule of 'allow 20007/tcp from 10.98.0.8 to 10.99.7.0/24'" "$LOG" ||
	pc_fail "the log does not name the rule: $(grep -A2 'changed by' "$LOG")"
[ "$(grep -c 'comparing table inet portctl' "$LOG")" -eq 1 ] ||
	pc_fail "compared $(grep -c 'comparing table inet portctl' "$LOG") times, expected once"
P diff >/dev/null || pc_fail "diff after the repair is not empty"

pcd_log "repairs are limited: a fourth within a minute waits for the minute's end"
repairs_are() {
	[ "$(grep -c "drift repaired" "$LOG")" -eq "$1" ]
}
delete_20007() {
	where_is 20007
	pc_in host nft delete rule inet portctl "$chain" handle "$handle" || pc_fail "nft delete rule"
}
# 163 entries: the zone chain is cut into blocks (chains it jumps to); the
# third repair is of a rule in one of them, made there again.
delete_20160() {
	chain=$(pc_in host nft -a list table inet portctl | awk '/chain / { c = $2 } / dport 20160 / { print c; exit }')
	case $chain in in_public_B*) ;; *) pc_fail "20160/tcp is in chain '$chain', not in a block" ;; esac
	handle=$(pc_in host nft -a list chain inet portctl "$chain" | sed -n 's/.* dport 20160 .* # handle \([0-9]*\)$/\1/p')
	pc_in host nft delete rule inet portctl "$chain" handle "$handle" || pc_fail "nft delete rule"
}
delete_20007
pc_until 15 repairs_are 2 || pc_fail "repair 2: $(tail -3 "$LOG")"
delete_20160
pc_until 15 repairs_are 3 || pc_fail "repair 3: $(tail -3 "$LOG")"
pc_in host nft list chain inet portctl "$chain" | grep -q " dport 20160 " ||
	pc_fail "20160/tcp not back in its block $chain"
grep -q "missing: rule of 'allow 20160/tcp from 10.98.0.161 port 1024-65535/tcp to 10.99.0.0/16'" "$LOG" ||
	pc_fail "the log does not name the block's rule: $(grep -A2 'changed by' "$LOG" | tail -3)"
delete_20007
pc_until 15 grep -q "3 repairs within 60 s, not repairing again" "$LOG" ||
	pc_fail "the fourth repair was not held back: $(tail -3 "$LOG")"
repairs_are 3 || pc_fail "repaired a fourth time within a minute"
where_is 20007
[ -z "$handle" ] || pc_fail "the rule came back beyond the limit"
pcd_stop
pcd_log "ok"
