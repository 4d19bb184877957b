#!/bin/sh
# Counters survive a restart of portctld and a drift repair: the daemon
# installs only the difference against what the kernel holds. With real
# traffic counted by rules and map elements, bans, a limit meter and a log
# rule present: a restart with the same files sends no transaction
# (table-owner = no) or one of the table's flags alone (the table claimed
# again), and no counter goes back; a restart after another file changed
# sends one transaction and the other counters stay; a rule or a map
# element deleted by hand comes back alone, the other counters stay; the
# same restart in a PID namespace; and table-owner turned off again, which
# sends nothing (the kernel keeps the table's PERSIST flag).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon-lib.sh"
pc_require
command -v pgrep >/dev/null || pc_skip "needs pgrep"
pcd_setup

LOG="$PC_TMP/portctld.log"
MON="$PC_TMP/monitor"

P() {
	"$PCD_PORTCTL" -s "$PCD_SOCK" "$@"
}

settings="socket-group = $PCD_GROUP
socket-mode = 0666
log-level = debug"
pc_config_write portctl.conf "$settings" "table-owner = no"
pc_config_write 10-base.rules 'limit 22/tcp' 'allow 80/tcp' 'allow 8080/tcp' \
	'allow 443/tcp log' 'allow 5000/tcp from 10.99.7.2' 'deny from 10.99.8.0/24'
pc_config_write 20-other.rules 'allow 9000/tcp'

# Every counter of the table, one "KEY PACKETS" a line: a rule's by its
# handle (a rule sent again gets a new one), an element's by its set and
# key (one sent again starts from 0).
table_counters() {
	pc_in host nft -a -j list table inet portctl >"$PC_TMP/c.json" || pc_fail "list table"
	python3 - "$PC_TMP/c.json" <<'PY'
import json, sys
def walk(o, found):
    if isinstance(o, dict):
        if isinstance(o.get("counter"), dict) and "packets" in o["counter"]:
            found.append((o.get("val"), o["counter"]["packets"]))
        for v in o.values():
            walk(v, found)
    elif isinstance(o, list):
        for v in o:
            walk(v, found)
for o in json.load(open(sys.argv[1]))["nftables"]:
    found = []
    if "rule" in o:
        walk(o["rule"]["expr"], found)
        for i, (_, n) in enumerate(found):
            print("rule%d/%d" % (o["rule"]["handle"], i), n)
    for kind in ("set", "map"):
        if kind in o:
            walk(o[kind].get("elem", []), found)
            for val, n in found:
                key = json.dumps(val, sort_keys=True).replace(" ", "")
                print("%s:%s" % (o[kind]["name"], key), n)
PY
	[ $? -eq 0 ] || pc_fail "cannot read the table's counters"
}

# counters_kept BEFORE AFTER [GONE]: every counter of BEFORE is in AFTER
# (but GONE, a key of what was deleted by hand), none went back, and some
# counted something.
counters_kept() {
	python3 - "$@" <<'PY'
import sys
def load(p):
    return dict(l.rsplit(" ", 1) for l in open(p).read().splitlines())
a, b = load(sys.argv[1]), load(sys.argv[2])
gone = sys.argv[3] if len(sys.argv) > 3 else None
keys = [k for k in a if k != gone]
missing = [k for k in keys if k not in b]
assert not missing, "gone: %s" % missing[:5]
back = [(k, a[k], b[k]) for k in keys if int(b[k]) < int(a[k])]
assert not back, "went back: %s" % back[:5]
assert sum(int(a[k]) > 0 for k in keys) >= 5, "too few counters counted anything"
PY
}

# Traffic the rules count (refused without a listener, but counted) and
# that fills the limit meter.
traffic() {
	for port in 22 80 8080 443 5000 9000; do
		pc_probe peer tcp 10.99.7.1 "$port" >/dev/null
	done
}

gens_by() {
	grep -c "^# new generation .* ($1)\$" "$MON"
}

gens_all() {
	grep -c "^# new generation" "$MON"
}

# What the generations of portctld in the monitor window did, one event a line.
events_by_portctld() {
	awk '/^# new generation/ { if ($0 ~ /\(portctld\)$/) printf "%s", block; block = ""; next }
	     { block = block $0 "\n" }' "$MON"
}

# restart WHAT: stop and start portctld under the monitor.
restart() {
	pc_monitor_start host "$MON"
	pcd_stop
	pcd_start
	pc_monitor_stop
	pcd_log "$1: $(gens_all) generation(s), $(events_by_portctld | wc -l) event(s):" \
		"$(events_by_portctld | head -2 | cut -c1-60 | tr '\n' ';')"
}

pcd_start
traffic
traffic
P ban 203.0.113.7 >/dev/null || pc_fail "ban"
P ban 198.51.100.0/24 --timeout 3600 >/dev/null || pc_fail "ban with a timeout"
# The limit meter holds the peer: its elements are the kernel's, no difference.
pc_in host nft list table inet portctl | sed -n '/set meter4_[a-z0-9_]* {/,/}/p' |
	grep -q "elements = { 10.99.7.2" || pc_fail "the limit meter has no element"
table_counters >"$PC_TMP/before"

restart "table-owner = no, same files"
[ "$(gens_all)" -eq 0 ] || pc_fail "a restart with the same files committed: $(cat "$MON")"
table_counters >"$PC_TMP/after"
counters_kept "$PC_TMP/before" "$PC_TMP/after" || pc_fail "a restart reset counters"
pc_in host nft list set inet portctl ban4 | grep -q "203.0.113.7" || pc_fail "ban lost"
pc_expect refused pc_probe peer tcp 10.99.7.1 80

pcd_log "another file changed while stopped: one transaction, the rest keeps counting"
traffic
table_counters >"$PC_TMP/before"
pc_config_write 20-other.rules 'allow 9000/tcp' 'allow 9001/tcp'
restart "20-other.rules changed"
[ "$(gens_all)" -eq 1 ] && [ "$(gens_by portctld)" -eq 1 ] ||
	pc_fail "expected one transaction: $(cat "$MON")"
events_by_portctld | grep -q "delete" && pc_fail "something was deleted: $(events_by_portctld)"
events_by_portctld | grep -q "9001" || pc_fail "9001/tcp not sent: $(events_by_portctld)"
table_counters >"$PC_TMP/after"
counters_kept "$PC_TMP/before" "$PC_TMP/after" || pc_fail "untouched counters went back"

pcd_log "drift: a rule deleted by hand comes back alone"
traffic
table_counters >"$PC_TMP/before"
handle=$(pc_in host nft -a list chain inet portctl in_public |
	sed -n 's/.* dport 5000 .* # handle \([0-9]*\)$/\1/p')
[ -n "$handle" ] || pc_fail "no rule for 5000/tcp"
: >"$LOG"
pc_monitor_start host "$MON"
pc_in host nft delete rule inet portctl in_public handle "$handle" || pc_fail "nft delete rule"
pc_until 15 grep -q "drift repaired" "$LOG" || pc_fail "not repaired: $(tail -5 "$LOG")"
pc_monitor_stop
[ "$(gens_by portctld)" -eq 1 ] || pc_fail "the repair took $(gens_by portctld) generations"
[ "$(events_by_portctld | wc -l)" -eq 1 ] && events_by_portctld | grep -q "rule .* dport 5000" ||
	pc_fail "the repair sent more than the rule: $(events_by_portctld | head -5)"
table_counters >"$PC_TMP/after"
counters_kept "$PC_TMP/before" "$PC_TMP/after" "rule$handle/0" ||
	pc_fail "the repair reset counters"

pcd_log "drift: a map element deleted by hand comes back alone"
traffic
table_counters >"$PC_TMP/before"
map=$(grep '"tcp",8080' "$PC_TMP/before" | cut -d: -f1)
[ -n "$map" ] || pc_fail "no map element for 8080/tcp: $(cat "$PC_TMP/before")"
: >"$LOG"
pc_monitor_start host "$MON"
pc_in host nft delete element inet portctl "$map" '{ tcp . 8080 }' || pc_fail "nft delete element"
pc_until 15 grep -q "drift repaired" "$LOG" || pc_fail "not repaired: $(tail -5 "$LOG")"
pc_monitor_stop
[ "$(gens_by portctld)" -eq 1 ] || pc_fail "the repair took $(gens_by portctld) generations"
[ "$(events_by_portctld | wc -l)" -eq 1 ] && events_by_portctld | grep -q "add element .* 8080" ||
	pc_fail "the repair sent more than the element: $(events_by_portctld | head -5)"
table_counters >"$PC_TMP/after"
counters_kept "$PC_TMP/before" "$PC_TMP/after" "$map:{\"concat\":[\"tcp\",8080]}" ||
	pc_fail "the repair reset counters"
P diff >/dev/null || pc_fail "diff after the repairs is not empty"

pcd_log "table-owner = yes: a restart claims the table again, in a transaction of its flags"
pc_config_write portctl.conf "$settings"
restart "table-owner turned on"
traffic
table_counters >"$PC_TMP/before"
restart "table-owner = yes, same files"
[ "$(gens_all)" -eq 1 ] || pc_fail "expected one transaction: $(cat "$MON")"
events_by_portctld | grep -q "rule\|element\|chain\|set " &&
	pc_fail "the claim sent more than the table: $(events_by_portctld | head -5)"
table_counters >"$PC_TMP/after"
counters_kept "$PC_TMP/before" "$PC_TMP/after" || pc_fail "the claim reset counters"
pc_in host nft add rule inet portctl in_public accept 2>/dev/null &&
	pc_fail "the table is not owned after the restart"

pcd_log "the same restart with portctld in a PID namespace"
traffic
table_counters >"$PC_TMP/before"
pc_monitor_start host "$MON"
pcd_stop
# shellcheck disable=SC2046
nsenter --net="/run/netns/$(pc_ns host)" unshare --pid --fork --kill-child=TERM \
	"$PC_PORTCTLD" $(pc_portctld_args) --socket "$PCD_SOCK" 2>>"$LOG" &
UNSHARE_PID=$!
PC_PIDS="$PC_PIDS $UNSHARE_PID"
pc_until 5 P status >/dev/null 2>&1 || pc_fail "portctld in a PID namespace did not start"
pc_monitor_stop
PCD_PID=$(pgrep -P "$UNSHARE_PID")
grep -q '^NSpid:.*[[:space:]]1$' "/proc/$PCD_PID/status" ||
	pc_fail "portctld is not in a PID namespace"
[ "$(gens_all)" -eq 1 ] || pc_fail "expected one transaction: $(cat "$MON")"
table_counters >"$PC_TMP/after"
counters_kept "$PC_TMP/before" "$PC_TMP/after" ||
	pc_fail "a restart in a PID namespace reset counters"
kill "$PCD_PID" && wait "$UNSHARE_PID"
PCD_PID=""

# The kernel clears no table's PERSIST: the table, left without its owner,
# is kept as it is (not made anew, its counters lost).
pcd_log "table-owner = no again: a restart sends nothing"
traffic
table_counters >"$PC_TMP/before"
pc_config_write portctl.conf "$settings" "table-owner = no"
pc_monitor_start host "$MON"
pcd_start
pc_monitor_stop
[ "$(gens_all)" -eq 0 ] || pc_fail "giving the table up committed: $(cat "$MON")"
table_counters >"$PC_TMP/after"
counters_kept "$PC_TMP/before" "$PC_TMP/after" || pc_fail "giving the table up reset counters"
pcd_as_member allow 7100/tcp >/dev/null || pc_fail "allow after giving the table up"
pc_in host nft add rule inet portctl in_public counter ||
	pc_fail "the table is still owned with table-owner = no"
pcd_log "ok"
