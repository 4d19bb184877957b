#!/bin/sh
# A docker-shaped published port (bridge docker0 172.30.0.1/16, a container
# at 172.30.0.2 listening on 80, "ip nat" PREROUTING -> DOCKER "tcp dport
# 8080 dnat to 172.30.0.2:80", "ip filter" FORWARD accept; written with
# iptables-nft as docker does, so the DNAT is an xt target), a podman-shaped
# one (table inet netavark, native "dnat ip to", port 8082), and a forward
# of portctl's own (9090): explain and exposure name who publishes or
# forwards each port, and explain's verdict (published ports: the in rules
# on the original port) agrees with a real probe.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon-lib.sh"
pc_require
pcd_setup

pc_ns_add ctr
pc_in host ip link add docker0 type bridge || pc_fail "bridge"
pc_in host ip addr add 172.30.0.1/16 dev docker0
pc_in host ip link set docker0 up
ip link add vc netns "$(pc_ns host)" type veth peer name eth0 netns "$(pc_ns ctr)" || pc_fail "veth"
pc_in host ip link set vc master docker0 up
pc_in ctr ip addr add 172.30.0.2/16 dev eth0
pc_in ctr ip link set eth0 up
pc_in ctr ip route add default via 172.30.0.1
pc_in host sysctl -qw net.ipv4.ip_forward=1 || pc_fail "ip_forward"
if command -v iptables-nft >/dev/null; then
	pcd_log "docker's tables, as docker writes them (iptables-nft)"
	pc_in host sh -e <<'IPT' || pc_fail "docker's tables (iptables-nft)"
iptables-nft -t nat -N DOCKER
iptables-nft -t nat -A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER
iptables-nft -t nat -A DOCKER ! -i docker0 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 172.30.0.2:80
iptables-nft -t nat -A POSTROUTING -s 172.30.0.0/16 ! -o docker0 -j MASQUERADE
iptables-nft -P FORWARD DROP
iptables-nft -A FORWARD -o docker0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
iptables-nft -A FORWARD -i docker0 -j ACCEPT
iptables-nft -A FORWARD -d 172.30.0.2 ! -i docker0 -o docker0 -p tcp -m tcp --dport 80 -j ACCEPT
IPT
else
	pcd_log "docker's tables with nft (no iptables-nft here)"
	pc_in host nft -f - <<'NFT' || pc_fail "docker's tables"
table ip nat {
	chain PREROUTING { type nat hook prerouting priority dstnat; fib daddr type local jump DOCKER; }
	chain DOCKER { iifname != "docker0" tcp dport 8080 counter dnat to 172.30.0.2:80; }
	chain POSTROUTING { type nat hook postrouting priority srcnat; ip saddr 172.30.0.0/16 oifname != "docker0" masquerade; }
}
table ip filter {
	chain FORWARD { type filter hook forward priority filter; policy drop;
		ct state established,related accept; iifname "docker0" accept;
		oifname "docker0" ip daddr 172.30.0.2 tcp dport 80 accept; }
}
NFT
fi
pc_in host nft -f - <<'NFT' || pc_fail "podman's table"
table inet netavark {
	chain PREROUTING { type nat hook prerouting priority dstnat; fib daddr type local jump NETAVARK-HOSTPORT-DNAT; }
	chain NETAVARK-HOSTPORT-DNAT { tcp dport 8082 dnat ip to 172.30.0.2:80; }
}
NFT
pc_listen ctr tcp:80

pc_config_write 10-base.rules 'allow 22/tcp' 'forward 9090/tcp to 172.30.0.2:80 comment fwd'
pcd_start
explain() { "$PCD_PORTCTL" -s "$PCD_SOCK" --json explain in tcp "$@" from 10.99.7.2; }
field() { python3 -c "import json,sys; a=json.load(sys.stdin)['data']; print(eval(sys.argv[1]))" "$1"; }
# agree PORT VERDICT: explain's verdict is VERDICT and a probe from the peer
# says the same (the forward chain judges published ports by the in rules
# on the port the client connected to).
agree() {
	verdict=$(explain "$1" | field "a['verdict']")
	[ "$verdict" = "$2" ] || pc_fail "port $1: explain says $verdict, expected $2"
	got=$(pc_probe peer tcp 10.99.7.1 "$1")
	case "$verdict/$got" in
	accept/open | drop/timeout) pcd_log "ok: port $1: explain $verdict, probe $got" ;;
	*) pc_fail "port $1: explain says $verdict, the probe gave $got" ;;
	esac
}

pcd_log "explain names docker's DNAT"
explain 8080 >"$PC_TMP/ex.json" || pc_fail "explain"
[ "$(field "a['published'][0]['to']" <"$PC_TMP/ex.json")" = 172.30.0.2:80 ] ||
	pc_fail "explain does not say published to 172.30.0.2:80: $(cat "$PC_TMP/ex.json")"
[ "$(field "a['published'][0]['table'] + ' ' + a['published'][0]['chain']" <"$PC_TMP/ex.json")" = "nat DOCKER" ] ||
	pc_fail "explain names the wrong table: $(cat "$PC_TMP/ex.json")"
"$PCD_PORTCTL" -s "$PCD_SOCK" explain in tcp 8080 from 10.99.7.2 | grep -q "published to 172.30.0.2:80 by table ip nat, chain DOCKER" ||
	pc_fail "explain's text: $("$PCD_PORTCTL" -s "$PCD_SOCK" explain in tcp 8080 from 10.99.7.2)"
[ "$(explain 8081 | field "len(a['published'])")" = 0 ] || pc_fail "8081 is not published"
[ "$(field "a['direction'] + ' ' + a['published_judged_by'] + ' ' + a['decided_by']" <"$PC_TMP/ex.json")" = "in in policy" ] ||
	pc_fail "explain 8080 is not judged by the in rules: $(cat "$PC_TMP/ex.json")"
agree 8080 drop
explain 8082 >"$PC_TMP/ex.json"
[ "$(field "a['published'][0]['family'] + ' ' + a['published'][0]['table'] + ' ' + a['published'][0]['chain'] + ' ' + a['published'][0]['to']" <"$PC_TMP/ex.json")" = "inet netavark NETAVARK-HOSTPORT-DNAT 172.30.0.2:80" ] ||
	pc_fail "explain 8082 (podman's shape): $(cat "$PC_TMP/ex.json")"
[ "$(field "a['published_unknown']" <"$PC_TMP/ex.json")" = 0 ] ||
	pc_fail "DNAT rules not understood: $(cat "$PC_TMP/ex.json")"
agree 8082 drop

pcd_log "allow 8080/tcp: explain and the probe say accept"
pcd_as_member allow 8080/tcp >/dev/null || pc_fail "allow"
agree 8080 accept
agree 8082 drop
pcd_as_member delete allow 8080/tcp >/dev/null || pc_fail "delete"

# (To the container's port 80, which docker's FORWARD accepts: an accept
# in our table cannot overrule another table's drop.)
pcd_log "our forward: explain says forwarded, by FILE:LINE, and the probe gets in"
explain 9090 >"$PC_TMP/ex.json"
[ "$(field "a['forwarded_to']" <"$PC_TMP/ex.json")" = 172.30.0.2:80 ] ||
	pc_fail "explain 9090: $(cat "$PC_TMP/ex.json")"
"$PCD_PORTCTL" -s "$PCD_SOCK" explain in tcp 9090 from 10.99.7.2 |
	grep -q "forwarded to 172.30.0.2:80 by .*10-base.rules:2" || pc_fail "explain's text for 9090"
agree 9090 accept
pcd_as_member ban 10.99.7.2 >/dev/null || pc_fail "ban"
agree 9090 drop
pcd_as_member unban 10.99.7.2 >/dev/null || pc_fail "unban"

pcd_log "exposure lists both, with the zones that reach them"
pcd_as_member allow 8080/tcp >/dev/null || pc_fail "allow"
pc_in host "$PCD_PORTCTL" -c "$PC_TMP/etc" -d "$PC_TMP/share" --json exposure >"$PC_TMP/exp.json" ||
	pc_fail "exposure"
python3 - "$PC_TMP/exp.json" <<'PY' || pc_fail "exposure: $(cat "$PC_TMP/exp.json")"
import json, sys
nat = json.load(open(sys.argv[1]))["data"]["nat"]
pub = [n for n in nat if n["kind"] == "published" and n["port"] == "8080"]
podman = [n for n in nat if n["kind"] == "published" and n["port"] == "8082"]
assert podman and podman[0]["zones"] == [], podman
# Each once: the tables are read one by one (natscan), each dump kept to
# its table.
assert len(pub) == 1 and len(podman) == 1, nat
fwd = [n for n in nat if n["kind"] == "forward" and n["port"] == "9090/tcp"]
assert pub and pub[0]["to"] == "172.30.0.2:80", nat
assert "public" in [z["zone"] for z in pub[0]["zones"]], pub
assert fwd and fwd[0]["to"] == "172.30.0.2:80" and fwd[0]["zones"] == ["public"], fwd
PY
pc_in host "$PCD_PORTCTL" -c "$PC_TMP/etc" -d "$PC_TMP/share" exposure | tee "$PC_TMP/exp.txt" |
	grep -q "8080/tcp -> 172.30.0.2:80 (published by table ip nat, chain DOCKER): reached from public" ||
	pc_fail "exposure's text: $(cat "$PC_TMP/exp.txt")"
pcd_log "ok"
