#!/bin/sh
# Differential test: "portctl explain" against the kernel. Random
# configurations (zones with interfaces and sources, allow/deny/reject
# rules with ports, ranges, services, from, out rules, forwards) are applied
# to a firewall namespace with two veth peers; random probes (tcp/udp, port,
# source address, interface) go through the real kernel and each verdict is
# compared with explain's. The seed is printed; PORTCTL_SEED=N replays it.
#
# Telling verdicts apart without time-outs per probe: all probes of a
# configuration are sent at once. A reject comes back at once (TCP reset,
# ICMP unreachable). Behind portctl's input chain (priority 0) a counting
# table at priority 10 records (source, protocol, port) of every packet
# portctl let through, and drops it: that is an accept. Neither: a drop.
# A forward's packets go to the forward hook instead, towards vhc: there
# the table records them by the port the client connected to.
. "$(dirname "$0")/lib.sh"
pc_require
PORTCTL="$top_builddir/portctl"
[ -x "$PORTCTL" ] || pc_skip "portctl not built at $PORTCTL"

seed=${PORTCTL_SEED:-$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')}
configs=${PORTCTL_CONFIGS:-50}
probes=${PORTCTL_PROBES:-12}
pc_log "seed $seed (replay: PORTCTL_SEED=$seed), $configs configurations, $probes probes each"

pc_ns_add fw
pc_ns_add pa
pc_ns_add pb
pc_link fw vha 10.99.1.1 fd99:1::1 pa vpa 10.99.1.2 fd99:1::2
pc_link fw vhb 10.99.2.1 fd99:2::1 pb vpb 10.99.2.2 fd99:2::2
# All probes of a configuration go out at once, and the kernel rate-limits
# the ICMP errors a reject sends: a suppressed port-unreachable would look
# like a drop. These sysctls are per network namespace.
pc_in fw sysctl -qw net.ipv4.icmp_ratelimit=0 net.ipv6.icmp.ratelimit=0 \
	net.ipv4.icmp_msgs_per_sec=100000 net.ipv4.icmp_msgs_burst=100000 ||
	pc_fail "cannot lift the ICMP rate limits in the firewall namespace"
for a in 10.99.1.66/24 10.99.1.130/24; do pc_in pa ip addr add "$a" dev vpa; done
pc_in pa ip addr add fd99:1::66/64 dev vpa nodad
for a in 10.99.2.66/24 10.99.2.200/24; do pc_in pb ip addr add "$a" dev vpb; done
pc_in pb ip addr add fd99:2::ab/64 dev vpb nodad

# The forwards' side: their packets are counted before they get there.
pc_ns_add bk
pc_link fw vhc 10.99.3.1 fd99:3::1 bk vbk 10.99.3.2 fd99:3::2
pc_in fw sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 ||
	pc_fail "cannot enable forwarding in the firewall namespace"

pc_in fw nft -f - <<'NFT' || pc_fail "counting table"
table inet probe {
	set seen4 { type ipv4_addr . inet_proto . inet_service; flags dynamic; }
	set seen6 { type ipv6_addr . inet_proto . inet_service; flags dynamic; }
	chain input {
		type filter hook input priority 10; policy accept;
		meta nfproto ipv4 meta l4proto { tcp, udp } add @seen4 { ip saddr . meta l4proto . th dport } drop
		meta nfproto ipv6 meta l4proto { tcp, udp } add @seen6 { ip6 saddr . meta l4proto . th dport } drop
	}
	chain forward {
		type filter hook forward priority 10; policy accept;
		meta nfproto ipv4 meta l4proto { tcp, udp } add @seen4 { ip saddr . meta l4proto . ct original proto-dst } drop
		meta nfproto ipv6 meta l4proto { tcp, udp } add @seen6 { ip6 saddr . meta l4proto . ct original proto-dst } drop
	}
}
NFT

PORTCTL="$PORTCTL" PORTCTLD="$PC_PORTCTLD" CONFIG="$PC_TMP/etc" DATA="$top_srcdir/rules" \
	STATE="$PC_TMP/state" TMP="$PC_TMP" FW=$(pc_ns fw) NS_pa=$(pc_ns pa) NS_pb=$(pc_ns pb) \
	${PC_PY:-python3} "$top_srcdir/tests/integration/explain_gen.py" run "$seed" "$configs" "$probes" ||
	pc_fail "explain and the kernel disagree (replay: PORTCTL_SEED=$seed)"
