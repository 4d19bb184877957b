#!/bin/sh
# portctl watch: with log-denied on the default zone, a packet from a peer
# to a closed port shows up in a watcher (an unprivileged user, as status)
# naming the zone and "policy"; a "deny ... log" rule's packet names the
# rule's FILE:LINE. Each is waited for as it arrives, never slept on.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon-lib.sh"
pc_require
pcd_setup
P() { "$PCD_PORTCTL" -s "$PCD_SOCK" "$@"; }
OUT="$PC_TMP/watch.out"

pc_config_write 10-test.rules 'zone public policy in drop log-denied default' \
	'deny 7005/tcp from 10.99.7.2 log'
pcd_start

# seen PYTHON-CONDITION: a JSON line of the watcher satisfies it (e is the event).
seen() {
	python3 - "$OUT" "$1" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    try:
        e = json.loads(line)
    except ValueError:
        continue
    if eval("(" + sys.argv[2] + ")"):
        sys.exit(0)
sys.exit(1)
PY
}

pcd_log "an unprivileged watcher; its first line is portctld's answer"
pcd_as_other watch --json >"$OUT" 2>"$PC_TMP/watch.err" &
WATCHER=$!
PC_PIDS="$PC_PIDS $WATCHER"
pc_until 10 seen 'e.get("status") == 0' ||
	pc_fail "watch did not start: $(cat "$OUT" "$PC_TMP/watch.err")"

pcd_log "a closed port: the zone's policy decides"
pc_expect timeout pc_probe peer tcp 10.99.7.1 7004 300
pc_until 5 seen 'e.get("zone") == "public" and e.get("decided_by") == "policy" and
    e.get("direction") == "in" and e.get("source") == "10.99.7.2" and e.get("port") == 7004 and
    e.get("protocol") == "tcp" and e.get("interface") == "vh"' ||
	pc_fail "no policy line: $(cat "$OUT")"

pcd_log "a deny rule with log: its FILE:LINE"
pc_expect timeout pc_probe peer tcp 10.99.7.1 7005 300
pc_until 5 seen 'e.get("decided_by") == "rule" and e.get("rule") == "10-test.rules:2" and
    e.get("zone") == "public" and e.get("port") == 7005' ||
	pc_fail "no rule line: $(cat "$OUT")"

pcd_log "the human form"
pc_stop "$WATCHER"
pcd_as_other watch >"$OUT" 2>"$PC_TMP/watch.err" &
WATCHER=$!
PC_PIDS="$PC_PIDS $WATCHER"
pc_until 10 grep -q "^watching" "$PC_TMP/watch.err" || pc_fail "watch did not start"
pc_expect timeout pc_probe peer tcp 10.99.7.1 7006 300
pc_until 5 grep -q "^public  *policy in  *tcp  *10.99.7.2 -> 10.99.7.1 port 7006 on vh$" "$OUT" ||
	pc_fail "human line: $(cat "$OUT")"
pc_stop "$WATCHER"
pcd_log "PASS"
