#!/bin/sh
# ICMP, other protocols and source ports, with real traffic: ping is the
# zone's (after its rules), so "deny from" and the block zone lose it while
# the default zone keeps it; "deny icmp echo-request" takes IPv4 ping only;
# "allow proto gre" and source ports reach the kernel; explain agrees.
. "$(dirname "$0")/lib.sh"
pc_require

PING="$top_srcdir/tests/integration/ping.py"
PORTCTL="$top_builddir/portctl"
ping_from() { pc_in "$1" python3 "$PING" "$2" 1000; }
# connect_sport NS ADDR PORT SPORT: open or timeout, from that source port.
connect_sport() {
	pc_in "$1" python3 -c '
import socket, sys
s = socket.socket()
s.settimeout(0.5)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("", int(sys.argv[3])))
try:
    s.connect((sys.argv[1], int(sys.argv[2])))
    print("open")
except OSError:
    print("timeout")' "$2" "$3" "$4"
}
apply() { pc_apply host || pc_fail "apply: $(cat "$PC_TMP/apply.err")"; }

pc_ns_add host
for i in 1 2; do
	pc_ns_add "peer$i"
	pc_link host "vh$i" "10.99.$i.1" "fd99:$i::1" "peer$i" "vp$i" "10.99.$i.2" "fd99:$i::2"
done

pc_log "the shipped defaults: the default zone answers ping, IPv4 and IPv6"
apply
pc_expect reply ping_from peer1 10.99.1.1
pc_expect reply ping_from peer1 fd99:1::1

pc_log "deny from a host takes its ping; the block zone refuses ping"
pc_config_write 10-test.rules 'zone block interface vh2 policy in reject' 'deny from 10.99.1.2,fd99:1::2'
apply
pc_expect timeout ping_from peer1 10.99.1.1
pc_expect timeout ping_from peer1 fd99:1::1
pc_expect timeout ping_from peer2 10.99.2.1
pc_expect timeout ping_from peer2 fd99:2::1

pc_log "deny icmp echo-request: IPv4 ping only; icmpv6 for IPv6"
pc_config_write 10-test.rules 'deny icmp echo-request,timestamp-request'
apply
pc_expect timeout ping_from peer1 10.99.1.1
pc_expect reply ping_from peer1 fd99:1::1
pc_config_write 10-test.rules 'deny icmpv6 echo-request from fd99:1::2'
apply
pc_expect reply ping_from peer1 10.99.1.1
pc_expect timeout ping_from peer1 fd99:1::1

pc_log "allow icmp in the block zone answers ping there again"
pc_config_write 10-test.rules 'zone block interface vh2 policy in reject' 'allow icmp echo-request zone block'
apply
pc_expect reply ping_from peer2 10.99.2.1
pc_expect timeout ping_from peer2 fd99:2::1

pc_log "source ports: only connections from ports 40000-40100 reach 7000/tcp"
pc_config_write 10-test.rules 'allow 7000/tcp from 10.99.1.2 port 40000-40100' \
	'allow proto gre from 10.99.1.0/24' 'allow proto 115'
apply
pc_listen host tcp:7000
pc_expect open connect_sport peer1 10.99.1.1 7000 40050
pc_expect timeout connect_sport peer1 10.99.1.1 7000 41000
out=$(pc_in host nft list chain inet portctl in_public) || pc_fail "nft list"
echo "$out" | grep -q "ip saddr 10.99.1.0/24 meta l4proto gre counter packets 0 bytes 0 accept" ||
	pc_fail "no gre rule: $out"
echo "$out" | grep -q "meta l4proto l2tp counter packets 0 bytes 0 accept" ||
	pc_fail "no proto 115 rule: $out"
echo "$out" | grep -q "tcp dport 7000 tcp sport 40000-40100" || pc_fail "no source port match: $out"

pc_log "explain: ICMP types, protocols and source ports"
X() { "$PORTCTL" --config "$PC_TMP/etc" --data-dir "$PC_TMP/share" explain --offline "$@"; }
pc_config_write 10-test.rules 'deny from 10.99.1.2' 'allow 53/udp from any port 53' \
	'allow proto esp' 'zone block interface vh2 policy in reject'
X in icmp echo-request from 10.99.1.2 >"$PC_TMP/x" || pc_fail "explain icmp"
grep -q "^verdict: drop" "$PC_TMP/x" && grep -q "10-test.rules:1" "$PC_TMP/x" ||
	pc_fail "deny from does not decide ping: $(cat "$PC_TMP/x")"
X in icmp from 10.99.3.2 >"$PC_TMP/x" || pc_fail "explain icmp"
grep -q "^verdict: accept" "$PC_TMP/x" && grep -q "answers ping" "$PC_TMP/x" ||
	pc_fail "ping not answered: $(cat "$PC_TMP/x")"
X in icmpv6 on vh2 | grep -q "^verdict: reject" || pc_fail "block zone answers ping"
X in proto esp | grep -q "^verdict: accept" || pc_fail "proto esp"
X in proto gre | grep -q "^verdict: drop" || pc_fail "proto gre"
X in udp 53 from 192.0.2.1 port 53 | grep -q "^verdict: accept" || pc_fail "sport 53"
X in udp 53 from 192.0.2.1 port 54 | grep -q "^verdict: drop" || pc_fail "sport 54"
pc_log "all passed"
