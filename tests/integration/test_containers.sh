#!/bin/sh
# Promise 8: a port a container runtime publishes (DNAT by the runtime's own
# tables to a container on a local bridge) obeys the in rules of the
# client's zone, on the port the client connected to. Three runtime shapes
# in the protected host namespace, one after the other: docker (ip/ip6 nat
# and filter tables, FORWARD policy drop), podman/netavark (inet netavark)
# and libvirt NAT (virbr0, its own tables, IPv4 only). For each: closed by
# default, open after "allow 8080/tcp" (one transaction), closed for a
# "deny from" source and a banned one, closed by "deny 8080/tcp", limited by
# "limit 8080/tcp" (per source, the zone's meter), open to one client alone by
# rules of a port and a source each, among 200 rules of their own and
# among 300 small runs (rules of their own by rule), closed in panic, open after panic
# off; the container reaches a peer (masqueraded) except in panic. Then
# published-ports = runtime gives docker's behaviour back.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon-lib.sh"
pc_require
pcd_setup

P() { env -u SSH_CONNECTION "$PCD_PORTCTL" -s "$PCD_SOCK" "$@"; }

# A second and a third source address on the peer: a denied and a banned one.
pc_in peer ip addr add 10.99.7.3/24 dev vp
pc_in peer ip addr add 10.99.7.4/24 dev vp
pc_in peer ip addr add fd99:7::3/64 dev vp nodad
pc_in peer ip addr add fd99:7::4/64 dev vp nodad
pc_in host sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 ||
	pc_fail "forwarding on"
pc_listen peer tcp:9000

pcd_start

# ctr_add NAME BRIDGE GW4/LEN ADDR4 [GW6 ADDR6]: a bridge in the host, a
# container namespace on it with a listener on port 80.
ctr_add() {
	pc_in host ip link add "$2" type bridge || pc_fail "bridge $2"
	pc_in host ip addr add "$3" dev "$2"
	pc_in host ip link set "$2" up
	pc_ns_add "$1"
	ip link add "v$1" netns "$(pc_ns host)" type veth peer name eth0 netns "$(pc_ns "$1")" ||
		pc_fail "veth to $1"
	pc_in host ip link set "v$1" master "$2" up
	pc_in "$1" ip addr add "$4/${3#*/}" dev eth0
	pc_in "$1" ip link set eth0 up
	pc_in "$1" ip route add default via "${3%/*}"
	if [ $# -ge 6 ]; then
		pc_in host ip addr add "$5/64" dev "$2" nodad
		pc_in "$1" ip addr add "$6/64" dev eth0 nodad
		pc_in "$1" ip -6 route add default via "$5"
	fi
	pc_listen "$1" tcp:80
}

# published WANT [SOURCE]: what the peer gets on the published port, v4 and,
# when the shape has it, v6 (the same source host: .3 / ::3).
published() {
	pc_expect "$1" pc_probe peer tcp 10.99.7.1 8080 300 ${2:+10.99.7.$2}
	[ -z "$V6" ] || pc_expect "$1" pc_probe peer tcp fd99:7::1 8080 300 ${2:+fd99:7::$2}
}

outbound() {
	pc_expect "$2" pc_probe "$1" tcp 10.99.7.2 9000 300
	[ -z "$V6" ] || pc_expect "$2" pc_probe "$1" tcp fd99:7::2 9000 300
}

# scenario CONTAINER: the whole story for one shape.
scenario() {
	pcd_log "$1: closed by default, the container goes out"
	published timeout
	outbound "$1" open
	pcd_log "$1: allow 8080/tcp opens it, in one transaction"
	pc_monitor_start host "$PC_TMP/mon"
	P allow 8080/tcp >/dev/null || pc_fail "allow 8080/tcp"
	pc_monitor_stop
	[ "$(grep -c '^# new generation' "$PC_TMP/mon")" = 1 ] ||
		pc_fail "allow 8080/tcp: $(grep -c '^# new generation' "$PC_TMP/mon") transactions"
	published open
	[ "$(pcd_rule_field 'allow 8080/tcp' packets)" -gt 0 ] ||
		pc_fail "status counts no packet for allow 8080/tcp"
	pcd_log "$1: a denied source and a banned one stay out"
	P insert 1 deny from 10.99.7.3,fd99:7::3 >/dev/null || pc_fail "deny from"
	published timeout 3
	published open
	P ban 10.99.7.4 >/dev/null && P ban fd99:7::4 >/dev/null || pc_fail "ban"
	published timeout 4
	P unban 10.99.7.4 >/dev/null && P unban fd99:7::4 >/dev/null || pc_fail "unban"
	published open 4
	pcd_log "$1: a deny of the port closes it; a limit counts the client's connections"
	P insert 1 deny 8080/tcp >/dev/null || pc_fail "deny 8080/tcp"
	published timeout
	P delete deny 8080/tcp >/dev/null || pc_fail "delete deny 8080/tcp"
	P insert 1 limit 8080/tcp rate 2/minute burst 2 >/dev/null || pc_fail "limit 8080/tcp"
	results=""
	for i in 1 2 3 4 5 6; do
		results="$results $(pc_probe peer tcp 10.99.7.1 8080 300 10.99.7.2)"
	done
	pc_log "$1: limit 8080/tcp, a burst from one client:$results"
	opened=$(echo "$results" | tr ' ' '\n' | grep -c '^open$')
	[ "$opened" -ge 1 ] && [ "$opened" -le 3 ] ||
		pc_fail "$1: the limit let $opened of 6 through:$results"
	echo "$results" | grep -q 'timeout.*open' &&
		pc_fail "$1: the limit let a connection through after a drop:$results"
	P delete limit 8080/tcp rate 2/minute burst 2 >/dev/null || pc_fail "delete limit 8080/tcp"
	published open
	pcd_log "$1: rules of a port and a source each (a run of ports) decide it by the client"
	P delete allow 8080/tcp >/dev/null || pc_fail "delete allow 8080/tcp"
	P allow 8080/tcp from 10.99.7.2,fd99:7::2 >/dev/null || pc_fail "allow 8080/tcp from"
	P allow 8081/tcp from 10.99.7.5 >/dev/null || pc_fail "allow 8081/tcp from"
	published open 2
	published timeout 4
	P delete allow 8081/tcp from 10.99.7.5 >/dev/null || pc_fail "delete allow 8081/tcp from"
	P delete allow 8080/tcp from 10.99.7.2,fd99:7::2 >/dev/null || pc_fail "delete allow from"
	pcd_log "$1: rules of a port, a source and a host each (a run toward hosts) decide it by client and host"
	P allow 8080/tcp from 10.99.7.2 to 10.99.7.1 >/dev/null || pc_fail "allow 8080/tcp from to"
	P allow 8080/tcp from fd99:7::2 to fd99:7::1 >/dev/null || pc_fail "allow 8080/tcp from to, IPv6"
	P allow 8080/tcp from 10.99.7.4 to 10.99.7.9 >/dev/null || pc_fail "allow 8080/tcp to another"
	pc_in host nft list chain inet portctl pub_public |
		grep -q 'ct original ip daddr \. ip saddr @in_public_.*_n32x32_src4_accept' ||
		pc_fail "$1: no run toward hosts in pub_public: $(pc_in host nft list chain inet portctl pub_public)"
	published open 2
	published timeout 4
	P delete allow 8080/tcp from 10.99.7.2 to 10.99.7.1 >/dev/null || pc_fail "delete from to"
	P delete allow 8080/tcp from fd99:7::2 to fd99:7::1 >/dev/null || pc_fail "delete from to, IPv6"
	P delete allow 8080/tcp from 10.99.7.4 to 10.99.7.9 >/dev/null || pc_fail "delete to another"
	published timeout 2
	pcd_log "$1: rules of a port, a source and a network each (a run toward networks) decide it by client and the address it connected to"
	P allow 8080/tcp from 10.99.7.2 to 10.99.7.0/24 >/dev/null || pc_fail "allow 8080/tcp from to NET"
	P allow 8080/tcp from 10.99.7.4 to 10.99.8.0/24 >/dev/null || pc_fail "allow 8080/tcp to another NET"
	P allow 8080/tcp from fd99:7::2 to fd99:7::/64 >/dev/null || pc_fail "allow 8080/tcp from to NET, IPv6"
	P allow 8080/tcp from fd99:7::4 to fd99:8::/64 >/dev/null || pc_fail "allow 8080/tcp to another NET, IPv6"
	pc_in host nft list chain inet portctl pub_public | grep 'ct original ip daddr' |
		grep -q '_n24x32_src4_accept' ||
		pc_fail "$1: no run toward networks in pub_public: $(pc_in host nft list chain inet portctl pub_public)"
	published open 2
	published timeout 4
	P delete allow 8080/tcp from 10.99.7.2 to 10.99.7.0/24 >/dev/null || pc_fail "delete from to NET"
	P delete allow 8080/tcp from 10.99.7.4 to 10.99.8.0/24 >/dev/null || pc_fail "delete to another NET"
	P delete allow 8080/tcp from fd99:7::2 to fd99:7::/64 >/dev/null || pc_fail "delete from to NET, IPv6"
	P delete allow 8080/tcp from fd99:7::4 to fd99:8::/64 >/dev/null || pc_fail "delete to another NET, IPv6"
	published timeout 2
	pcd_log "$1: 200 rules of their own: the zone's chains in blocks; one of them decides it"
	seq 200 | awk '{ printf "allow %d/tcp from 10.%d.%d.0/24 %s\n", 20000 + $1, 50 + int($1 / 256), $1 % 256,
		   $1 % 2 ? "to 10.99.7.0/24" : "port 1024-65535/tcp to 10.99.0.0/16" }' \
		>"$PC_TMP/etc/rules.d/10-own.rules"
	P reload >/dev/null || pc_fail "reload with 200 rules of their own"
	P allow 8080/tcp from 10.99.7.2,fd99:7::2 to 10.99.7.1,fd99:7::1 >/dev/null ||
		pc_fail "allow 8080/tcp from to"
	pc_in host nft list table inet portctl |
		awk '/^\tchain / { c = $2 } /ct original proto-dst 8080 / { print c }' | grep -q '^pub_public_B' ||
		pc_fail "$1: the published port's rule is not in a block of pub_public"
	published open 2
	published timeout 4
	P delete allow 8080/tcp from 10.99.7.2,fd99:7::2 to 10.99.7.1,fd99:7::1 >/dev/null ||
		pc_fail "delete allow 8080/tcp from to"
	published timeout 2
	pcd_log "$1: 300 rules of ports and addresses in turn: small runs by rule in blocks"
	seq 300 | awk '{ if ($1 % 2) printf "allow %d/tcp\n", 20000 + $1;
			 else printf "deny from 10.60.%d.%d\n", int($1 / 256), $1 % 256 }' \
		>"$PC_TMP/etc/rules.d/10-own.rules"
	P reload >/dev/null || pc_fail "reload with 300 rules in turn"
	P allow 8080/tcp from 10.99.7.2,fd99:7::2 >/dev/null || pc_fail "allow 8080/tcp from, in turn"
	pc_in host nft list table inet portctl |
		awk '/^\tchain / { c = $2 } /ct original proto-dst 8080 / { print c }' | grep -q '^pub_public_B' ||
		pc_fail "$1: the published port's rule of a small run is no kernel rule of pub_public's blocks"
	published open 2
	published timeout 4
	[ "$(pcd_rule_field 'allow 8080/tcp from 10.99.7.2,fd99:7::2' packets)" -gt 0 ] ||
		pc_fail "$1: status counts nothing at the small run's rule"
	P delete allow 8080/tcp from 10.99.7.2,fd99:7::2 >/dev/null || pc_fail "delete, in turn"
	published timeout 2
	rm -f "$PC_TMP/etc/rules.d/10-own.rules"
	P reload >/dev/null || pc_fail "reload without them"
	P allow 8080/tcp >/dev/null || pc_fail "allow 8080/tcp again"
	published open 4
	pcd_log "$1: panic closes it and stops the container's traffic, off opens it again"
	P panic on >/dev/null || pc_fail "panic on"
	published timeout
	outbound "$1" timeout
	P panic off >/dev/null || pc_fail "panic off"
	published open
	outbound "$1" open
	# The next shape starts from the shipped configuration again.
	rm -f "$PC_TMP/etc/rules.d/90-portctl.rules"
	P reload >/dev/null || pc_fail "reload"
}

# shape_done CONTAINER BRIDGE TABLE...: the runtime goes away.
shape_done() {
	pc_stop "$PC_LAST_CTR"
	ctr=$1
	br=$2
	shift 2
	for t in "$@"; do
		pc_in host nft delete table $t || pc_fail "delete table $t"
	done
	pc_in host ip link del "$br"
	ip netns del "$(pc_ns "$ctr")"
}

pcd_log "docker shape"
ctr_add ctrd docker0 172.30.0.1/16 172.30.0.2 fd00:30::1 fd00:30::2
PC_LAST_CTR=$PC_LAST_PID
for fam in ip ip6; do
	if [ $fam = ip ]; then ctr=172.30.0.2 net=172.30.0.0/16 to=172.30.0.2:80
	else ctr=fd00:30::2 net=fd00:30::/64 to=[fd00:30::2]:80; fi
	pc_in host nft -f - <<EOF || pc_fail "docker's $fam tables"
table $fam nat {
	chain PREROUTING { type nat hook prerouting priority dstnat; policy accept;
		fib daddr type local counter jump DOCKER; }
	chain POSTROUTING { type nat hook postrouting priority srcnat; policy accept;
		$fam saddr $net oifname != "docker0" counter masquerade; }
	chain DOCKER {
		iifname "docker0" counter return
		iifname != "docker0" meta l4proto tcp tcp dport 8080 counter dnat to $to; }
}
table $fam filter {
	chain FORWARD { type filter hook forward priority filter; policy drop;
		counter jump DOCKER-USER
		oifname "docker0" ct state related,established counter accept
		oifname "docker0" counter jump DOCKER
		iifname "docker0" oifname != "docker0" counter accept
		iifname "docker0" oifname "docker0" counter accept; }
	chain DOCKER {
		$fam daddr $ctr iifname != "docker0" oifname "docker0" meta l4proto tcp tcp dport 80 counter accept; }
	chain DOCKER-USER { counter return; }
}
EOF
done
V6=yes
scenario ctrd
pcd_log "docker shape: status counts a forward rule (the container's outbound traffic)"
P allow forward 9000/tcp >/dev/null || pc_fail "allow forward 9000/tcp"
outbound ctrd open
[ "$(pcd_rule_field 'allow forward 9000/tcp' packets)" -gt 0 ] ||
	pc_fail "status counts no packet for allow forward 9000/tcp"
rm -f "$PC_TMP/etc/rules.d/90-portctl.rules"
pcd_log "docker shape, published-ports = runtime: open without a rule (a reload, then a restart)"
echo "published-ports = runtime" >>"$PC_TMP/etc/portctl.conf"
P reload >/dev/null || pc_fail "reload"
published open
pcd_stop
pcd_start
published open
sed -i '/^published-ports/d' "$PC_TMP/etc/portctl.conf"
P reload >/dev/null || pc_fail "reload"
published timeout
shape_done ctrd docker0 "ip nat" "ip filter" "ip6 nat" "ip6 filter"

pcd_log "podman (netavark) shape"
ctr_add ctrp podman0 10.88.0.1/16 10.88.0.2 fd00:88::1 fd00:88::2
PC_LAST_CTR=$PC_LAST_PID
pc_in host nft -f - <<'EOF' || pc_fail "netavark's table"
table inet netavark {
	chain PREROUTING { type nat hook prerouting priority dstnat; policy accept;
		fib daddr type local jump NETAVARK-HOSTPORT-DNAT; }
	chain POSTROUTING { type nat hook postrouting priority srcnat; policy accept;
		ip saddr 10.88.0.0/16 ip daddr != 10.88.0.0/16 masquerade
		ip6 saddr fd00:88::/64 ip6 daddr != fd00:88::/64 masquerade; }
	chain FORWARD { type filter hook forward priority filter; policy accept;
		ct state invalid drop
		ct state related,established accept
		ip saddr 10.88.0.0/16 accept
		ip6 saddr fd00:88::/64 accept; }
	chain NETAVARK-HOSTPORT-DNAT {
		ip daddr != 10.88.0.0/16 tcp dport 8080 dnat ip to 10.88.0.2:80
		ip6 daddr != fd00:88::/64 tcp dport 8080 dnat ip6 to [fd00:88::2]:80; }
}
EOF
V6=yes
scenario ctrp
shape_done ctrp podman0 "inet netavark"

pcd_log "libvirt NAT shape (IPv4), a port forwarded to a guest by the admin's own nat table"
ctr_add ctrv virbr0 192.168.122.1/24 192.168.122.2
PC_LAST_CTR=$PC_LAST_PID
pc_in host nft -f - <<'EOF' || pc_fail "libvirt's tables"
table ip libvirt_network {
	chain forward { type filter hook forward priority filter; policy accept;
		counter jump guest_cross
		counter jump guest_input
		counter jump guest_output; }
	chain guest_output {
		ip saddr 192.168.122.0/24 iif "virbr0" counter accept
		iif "virbr0" counter reject; }
	chain guest_input {
		oif "virbr0" ip daddr 192.168.122.0/24 ct state established,related counter accept
		oif "virbr0" ip daddr 192.168.122.2 tcp dport 80 ct status dnat counter accept
		oif "virbr0" counter reject; }
	chain guest_cross { iif "virbr0" oif "virbr0" counter accept; }
	chain guest_nat { type nat hook postrouting priority srcnat; policy accept;
		ip saddr 192.168.122.0/24 ip daddr != 192.168.122.0/24 counter masquerade; }
}
table ip vm_ports {
	chain prerouting { type nat hook prerouting priority dstnat; policy accept;
		fib daddr type local tcp dport 8080 dnat to 192.168.122.2:80; }
}
EOF
V6=
scenario ctrv
shape_done ctrv virbr0 "ip libvirt_network" "ip vm_ports"
exit 0
