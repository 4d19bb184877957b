#!/bin/sh
# portctl exposure against real listeners in a namespace: it names the rule
# (zone and FILE:LINE) that exposes a listener, a listener no zone reaches,
# and a rule that opens a port nobody listens on (one of its own, or of a
# run of ports), in text and in --json;
# then real traffic from a peer confirms what the report claims.
. "$(dirname "$0")/lib.sh"
pc_require

PORTCTL="$top_builddir/portctl"
[ -x "$PORTCTL" ] || pc_skip "portctl not built at $PORTCTL"

pc_ns_add host
pc_ns_add peer
pc_link host vh 10.99.8.1 fd99:8::1 peer vp 10.99.8.2 fd99:8::2

# The peer's link is bound to no zone, so it is in the default zone
# (public); "lan" is reached only from 10.98.0.0/16 or eth1.
RULES="$PC_TMP/etc/rules.d/10-test.rules"
pc_config_write 10-test.rules \
	'zone lan interface eth1 source 10.98.0.0/16' \
	'allow 22/tcp comment "ssh"' \
	'allow 53/udp zone lan' \
	'allow 8443/tcp' \
	'allow 9001/tcp from 10.97.0.0/24' \
	'allow 9002/tcp from 10.97.1.1' \
	'deny 9003/tcp from 10.97.0.0/16'
pc_listen host tcp:22 tcp:631 udp:53

exposure() {
	pc_in host "$PORTCTL" --config "$PC_TMP/etc" --data-dir "$top_srcdir/rules" "$@"
}

pc_log "exposure, plain"
exposure exposure >"$PC_TMP/exposure.txt" 2>"$PC_TMP/exposure.err" ||
	pc_fail "exposure exited $?: $(cat "$PC_TMP/exposure.err")"
cat "$PC_TMP/exposure.txt" >&2

# want_line PATTERN: a line of the plain report matches (grep -E).
want_line() {
	grep -Eq -- "$1" "$PC_TMP/exposure.txt" || pc_fail "no line matching '$1' in the report"
	pc_log "ok: report has '$1'"
}

# The probe listens on [::] dual-stack: IPv4 and IPv6 packets both count.
want_line "^tcp +\[::\]:22 .*public/ipv4 \($RULES:2\)"
want_line "^tcp +\[::\]:631 +reached from no zone$"
want_line "^udp +\[::\]:53 .*lan/ipv4 \($RULES:3\)"
want_line "8443/tcp in zone public: $RULES:4 \(allow 8443/tcp\)"
if grep -Eq "^udp +\[::\]:53 .*public" "$PC_TMP/exposure.txt"; then
	pc_fail "udp 53 reported as reached from public"
fi
if grep -Eq "^ +(22|53|631)/" "$PC_TMP/exposure.txt"; then
	pc_fail "a port somebody listens on is reported as unused"
fi

pc_log "exposure --json"
exposure --json exposure >"$PC_TMP/exposure.json" || pc_fail "exposure --json exited $?"
python3 - "$PC_TMP/exposure.json" "$RULES" <<'PY' || pc_fail "exposure --json is wrong"
import json, sys
report = json.load(open(sys.argv[1]))["data"]
rules = sys.argv[2]

def listener(proto, port):
    found = [l for l in report["listeners"] if l["proto"] == proto and l["port"] == port]
    assert found, "no listener %s/%d in %s" % (proto, port, report["listeners"])
    return found[0]

def accepting(l):
    return {(z["zone"], z["family"]): z for z in l["zones"] if z["verdict"] == "accept"}

ssh = accepting(listener("tcp", 22))
for fam in ("ipv4", "ipv6"):
    z = ssh.get(("public", fam))
    assert z, "tcp 22 not reached from public/%s: %s" % (fam, ssh)
    assert z["by"] == "rule" and z["rule"] == rules + ":2", z
    assert z["text"] == 'allow 22/tcp comment "ssh"', z
assert accepting(listener("tcp", 631)) == {}, listener("tcp", 631)
dns = accepting(listener("udp", 53))
assert set(z for z, _ in dns) == {"lan"}, dns
assert dns[("lan", "ipv4")]["rule"] == rules + ":3", dns
unused = [(u["zone"], u["proto"], u["ports"], u["rule"]) for u in report["unused"]]
assert ("public", "tcp", "8443", rules + ":4") in unused, unused
assert not [u for u in unused if u[2] in ("22", "53", "631")], unused
# A run of ports (rules of a port and a source each): each port it allows.
assert ("public", "tcp", "9001", rules + ":5") in unused, unused
assert ("public", "tcp", "9002", rules + ":6") in unused, unused
assert not [u for u in unused if u[2] == "9003"], unused
print("json report ok", file=sys.stderr)
PY

pc_log "the kernel agrees: what the report says is reached is reached"
pc_apply host || pc_fail "apply failed: $(cat "$PC_TMP/apply.err")"
pc_expect open pc_probe peer tcp 10.99.8.1 22
pc_expect open pc_probe peer tcp fd99:8::1 22
pc_expect timeout pc_probe peer tcp 10.99.8.1 631
pc_expect timeout pc_probe peer udp 10.99.8.1 53
exit 0
