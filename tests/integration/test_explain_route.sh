#!/bin/sh
# explain without "on IFACE" on a host whose zones are bound to interfaces:
# the daemon takes the interface of the route back to the "from" address,
# as real traffic from that host arrives there, and says so; real probes
# from a peer on each interface must get the verdict explain gives. Where
# no route is known (or offline), the answer names the interface-bound
# zones it did not consider.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon-lib.sh"
pc_require
pcd_setup
pc_ns_add peer2
pc_link host vh2 10.99.8.1 fd99:8::1 peer2 vp2 10.99.8.2 fd99:8::2

P() {
	"$PCD_PORTCTL" -c "$PC_TMP/etc" -d "$top_srcdir/rules" -s "$PCD_SOCK" "$@"
}

# explain_is OUT LINE: the answer in OUT has this exact line.
explain_is() {
	grep -qxF "$2" "$1" || pc_fail "expected '$2' in: $(cat "$1")"
}

# public (shipped, default, policy drop) on vh; lab on vh2 lets all in.
pc_config_write 10-zones.rules 'zone lab interface vh2 policy in accept'
pcd_start
pc_listen host tcp:444

pcd_log "real traffic: 444 is open from vh2's peer, dropped from vh's"
pc_expect open pc_probe peer2 tcp 10.99.8.1 444
pc_expect timeout pc_probe peer tcp 10.99.7.1 444 300
pc_expect open pc_probe peer2 tcp fd99:8::1 444

pcd_log "explain without 'on': the route to the source picks the interface"
P explain in tcp 444 from 10.99.8.2 >"$PC_TMP/out" || pc_fail "explain failed"
grep -qx "packet:  in tcp/444 from 10.99.8.2 to .* (any) in on vh2 (the route to 10.99.8.2)" \
	"$PC_TMP/out" || pc_fail "packet: $(cat "$PC_TMP/out")"
explain_is "$PC_TMP/out" "zone:    lab, because of interface vh2"
explain_is "$PC_TMP/out" "verdict: accept"
grep -q "^note:" "$PC_TMP/out" && pc_fail "a routed answer has a note: $(cat "$PC_TMP/out")"
P explain in tcp 444 from fd99:8::2 >"$PC_TMP/out" || pc_fail "explain v6 failed"
explain_is "$PC_TMP/out" "zone:    lab, because of interface vh2"
explain_is "$PC_TMP/out" "verdict: accept"
P explain in tcp 444 from 10.99.7.2 >"$PC_TMP/out" || pc_fail "explain failed"
grep -qx "packet:  in tcp/444 from 10.99.7.2 to .* (any) in on vh (the route to 10.99.7.2)" \
	"$PC_TMP/out" || pc_fail "packet: $(cat "$PC_TMP/out")"
grep -q "^zone:    public, the default zone" "$PC_TMP/out" || pc_fail "zone: $(cat "$PC_TMP/out")"
explain_is "$PC_TMP/out" "verdict: drop"
P explain --json in tcp 444 from 10.99.8.2 >"$PC_TMP/out.json" || pc_fail "explain --json"
python3 - "$PC_TMP/out.json" <<'PY' || pc_fail "explain --json: $(cat "$PC_TMP/out.json")"
import json, sys
a = json.load(open(sys.argv[1]))["data"]
assert a["interface"] == "vh2" and a["interface_from"] == "route", a
assert a["zone"] == "lab" and a["zone_reason"] == "interface" and a["interface_zones"] == [], a
PY

pcd_log "'on IFACE' given wins over the route"
P explain in tcp 444 from 10.99.8.2 on vh >"$PC_TMP/out" || pc_fail "explain on vh"
grep -qx "packet:  in tcp/444 from 10.99.8.2 to .* (any) in on vh" "$PC_TMP/out" ||
	pc_fail "packet: $(cat "$PC_TMP/out")"
explain_is "$PC_TMP/out" "verdict: drop"

pcd_log "no route to the source: the answer names the zones it did not consider"
P explain in tcp 444 from 203.0.113.9 >"$PC_TMP/out" || pc_fail "explain unrouted"
explain_is "$PC_TMP/out" "note:    assumes no interface; on one of these it would be that zone: lab (vh2) accept; give 'on IFACE' to choose"
explain_is "$PC_TMP/out" "verdict: drop"
P explain --json in tcp 444 from 203.0.113.9 >"$PC_TMP/out.json" || pc_fail "explain --json"
python3 - "$PC_TMP/out.json" <<'PY' || pc_fail "explain --json: $(cat "$PC_TMP/out.json")"
import json, sys
a = json.load(open(sys.argv[1]))["data"]
assert a["interface"] is None and a["interface_from"] == "none", a
assert a["interface_zones"] == [{"zone": "lab", "interfaces": ["vh2"], "verdict": "accept"}], a
PY

pcd_log "offline: no route lookup, the same note"
P explain --offline in tcp 444 from 10.99.8.2 >"$PC_TMP/out" || pc_fail "explain --offline"
explain_is "$PC_TMP/out" "note:    assumes no interface; on one of these it would be that zone: lab (vh2) accept; give 'on IFACE' to choose"
pcd_stop
pcd_log "ok"
