#!/bin/sh
# Zones that cannot be spoofed: a packet enters a zone by its source address
# only if that source routes back out of the interface it came in on
# (reverse-path = strict, the default); loose only asks for a route back,
# off does not check. Overlapping zone sources: the longest prefix wins.
#
# peer1 (public side, vh1) forges sources of the internal zone (vh2). A
# forged SYN that the firewall let through cannot complete the handshake
# (the SYN-ACK goes out vh2), so whether portctl accepted it is read from a
# counting table behind portctl's input chain, and a drop from the counter
# of portctl's reverse-path rule.
. "$(dirname "$0")/lib.sh"
pc_require
pc_ns_add host
pc_ns_add peer1
pc_ns_add peer2
pc_link host vh1 10.99.1.1 fd99:1::1 peer1 vp1 10.99.1.2 fd99:1::2
pc_link host vh2 10.99.2.1 fd99:2::1 peer2 vp2 10.99.2.2 fd99:2::2
# The forged sources, held by peer1 so that it can bind them: one of the
# internal network, one the host has no route to at all.
pc_in peer1 ip addr add 10.99.2.77/32 dev vp1
pc_in peer1 ip addr add 10.98.0.5/32 dev vp1
pc_in peer1 ip addr add fd99:2::77/128 dev vp1 nodad
# The kernel's own IPv4 reverse-path filter stays out of the way: the
# test is about portctl's.
pc_in host sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 \
	net.ipv4.conf.vh1.rp_filter=0 net.ipv4.conf.vh2.rp_filter=0 ||
	pc_fail "cannot turn the kernel's rp_filter off in the host namespace"

pc_in host nft -f - <<'NFT' || pc_fail "counting table"
table inet probe {
	set seen4 { type ipv4_addr . inet_service; flags dynamic; }
	set seen6 { type ipv6_addr . inet_service; flags dynamic; }
	chain input {
		type filter hook input priority 10; policy accept;
		meta nfproto ipv4 tcp flags syn add @seen4 { ip saddr . tcp dport }
		meta nfproto ipv6 tcp flags syn add @seen6 { ip6 saddr . tcp dport }
	}
}
NFT

# seen 4|6 ADDR PORT: portctl let a SYN from ADDR to PORT through.
seen() {
	pc_in host nft get element inet probe "seen$1" "{ $2 . $3 }" >/dev/null 2>&1
}

seen_reset() {
	pc_in host nft flush set inet probe seen4 && pc_in host nft flush set inet probe seen6
}

# rpf_drops 4|6: the packets portctl's reverse-path rule dropped.
rpf_drops() {
	pc_in host nft list chain inet portctl input |
		sed -n "s/.*@zone_src$1_rpf .*counter packets \([0-9]*\) .*/\1/p"
}

# spoof_dropped 4|6 SRC DST: a SYN forged by peer1 is dropped by the check.
spoof_dropped() {
	before=$(rpf_drops "$1")
	pc_expect timeout pc_probe peer1 tcp "$3" 8080 300 "$2"
	after=$(rpf_drops "$1")
	[ "${after:-0}" -gt "${before:-0}" ] ||
		pc_fail "no reverse-path drop counted for $2 ($before -> $after)"
	! seen "$1" "$2" 8080 || pc_fail "a SYN forged from $2 got through"
	pc_log "ok: forged $2 dropped by the reverse-path check"
}

# spoof_accepted 4|6 SRC DST: a SYN forged by peer1 gets through portctl
# (its SYN-ACK goes astray, so the probe itself times out).
spoof_accepted() {
	pc_probe peer1 tcp "$3" 8080 100 "$2" >/dev/null
	i=0
	until seen "$1" "$2" 8080; do
		i=$((i + 1))
		[ $i -lt 50 ] || pc_fail "a SYN forged from $2 did not get through"
		sleep 0.1
	done
	pc_log "ok: forged $2 let through"
}

zones() {
	pc_config_write 10-zones.rules \
		'zone public interface vh1 default' \
		'zone internal interface vh2 source 10.99.2.0/24,10.98.0.0/16,fd99:2::/64' \
		'allow 8080/tcp zone internal'
}

pc_listen host tcp:8080 tcp:9001 tcp:9002

step() { pc_log "--- $*"; }

step "reverse-path = strict (the default)"
zones
pc_apply host || pc_fail "apply failed: $(cat "$PC_TMP/apply.err")"
pc_nft_json host '[x["rule"] for x in r if "rule" in x]' | grep -q "'fib'" ||
	pc_fail "no fib expression in the ruleset"
# Legitimate: the internal network through its own interface.
pc_expect open pc_probe peer2 tcp 10.99.2.1 8080
pc_expect open pc_probe peer2 tcp fd99:2::1 8080
# peer1 as itself is in public, where 8080 is closed. (These also settle
# peer1's ARP and neighbour entries for the host before it forges.)
pc_expect timeout pc_probe peer1 tcp 10.99.1.1 8080 300
pc_expect timeout pc_probe peer1 tcp fd99:1::1 8080 300
spoof_dropped 4 10.99.2.77 10.99.1.1
spoof_dropped 6 fd99:2::77 fd99:1::1
spoof_dropped 4 10.98.0.5 10.99.1.1
# Loopback, even from an address of the internal zone, is untouched.
pc_expect open pc_probe host tcp 10.99.2.1 8080 300 10.99.2.1
pc_expect open pc_probe host tcp fd99:2::1 8080 300 fd99:2::1
pc_expect open pc_probe host tcp 127.0.0.1 8080
pc_expect open pc_probe host tcp ::1 8080

step "reverse-path = loose: a route back via any interface will do"
seen_reset
pc_config_write portctl.conf 'reverse-path = loose'
pc_apply host || pc_fail "apply failed: $(cat "$PC_TMP/apply.err")"
pc_expect open pc_probe peer2 tcp 10.99.2.1 8080
spoof_accepted 4 10.99.2.77 10.99.1.1
spoof_accepted 6 fd99:2::77 fd99:1::1
spoof_dropped 4 10.98.0.5 10.99.1.1

step "reverse-path = off: the forged source gets in, as it did before the check"
seen_reset
pc_config_write portctl.conf 'reverse-path = off'
pc_apply host || pc_fail "apply failed: $(cat "$PC_TMP/apply.err")"
[ -z "$(rpf_drops 4)" ] || pc_fail "a reverse-path rule with reverse-path = off"
pc_expect open pc_probe peer2 tcp 10.99.2.1 8080
spoof_accepted 4 10.99.2.77 10.99.1.1
spoof_accepted 6 fd99:2::77 fd99:1::1
spoof_accepted 4 10.98.0.5 10.99.1.1

step "overlapping sources of two zones: the longest prefix wins"
rm -f "$PC_TMP/etc/portctl.conf"
pc_config_write 10-zones.rules \
	'zone public interface vh1 default' \
	'zone a source 10.99.0.0/16,fd99::/16' \
	'zone b source 10.99.2.0/24,fd99:2::/64' \
	'allow 9001/tcp zone a' \
	'allow 9002/tcp zone b'
pc_apply host || pc_fail "apply failed: $(cat "$PC_TMP/apply.err")"
for a in 10.99.2.1 fd99:2::1; do
	pc_expect open pc_probe peer2 tcp $a 9002
	pc_expect timeout pc_probe peer2 tcp $a 9001 300
done
for a in 10.99.1.1 fd99:1::1; do
	pc_expect open pc_probe peer1 tcp $a 9001
	pc_expect timeout pc_probe peer1 tcp $a 9002 300
done

step "the same prefix in two zones stays an error"
pc_config_write 20-same.rules 'zone c source 10.99.2.0/24'
pc_apply host && pc_fail "the same source prefix in two zones was accepted"
grep -q "source 10.99.2.0/24 of zone 'c' is already a source of zone 'b'" "$PC_TMP/apply.err" ||
	pc_fail "unexpected error: $(cat "$PC_TMP/apply.err")"
exit 0
