#!/bin/sh
# Real traffic over veth links into a namespace where portctld applied the
# rules: ports, ranges, UDP, from, two zones by interface, reject vs deny,
# outbound deny, and limit (two rules, one meter), over IPv4 and IPv6.
. "$(dirname "$0")/lib.sh"
pc_require
pc_ns_add host
pc_ns_add peer1
pc_ns_add peer2
pc_link host vh1 10.99.1.1 fd99:1::1 peer1 vp1 10.99.1.2 fd99:1::2
pc_link host vh2 10.99.2.1 fd99:2::1 peer2 vp2 10.99.2.2 fd99:2::2
pc_in peer1 ip addr add 10.99.1.3/24 dev vp1
pc_in peer1 ip addr add fd99:1::3/64 dev vp1 nodad

pc_config_write 10-zones.rules \
	'zone public interface vh1 default' \
	'zone lab interface vh2'
pc_config_write 20-rules.rules \
	'allow 443/tcp' \
	'allow 60000-61000/udp' \
	'allow 5353/udp' \
	'reject in 113/tcp' \
	'deny in 114/tcp' \
	'allow 8080/tcp from 10.99.1.3,fd99:1::3' \
	'limit 22/tcp' \
	'limit 2222/tcp rate 100/minute burst 20' \
	'deny out 25/tcp' \
	'allow 444/tcp zone lab'
pc_apply host || pc_fail "apply failed: $(cat "$PC_TMP/apply.err")"

pc_listen host tcp:443 tcp:444 tcp:113 tcp:114 tcp:8080 tcp:22 tcp:2222 udp:5353 udp:5354 udp:60500
pc_listen peer1 tcp:25 tcp:26

for a in 10.99.1.1 fd99:1::1; do
	pc_expect open pc_probe peer1 tcp $a 443
	pc_expect timeout pc_probe peer1 tcp $a 444
	pc_expect refused pc_probe peer1 tcp $a 113
	pc_expect open pc_probe peer1 udp $a 5353
	pc_expect open pc_probe peer1 udp $a 60500
done
pc_expect timeout pc_probe peer1 tcp 10.99.1.1 114
pc_expect timeout pc_probe peer1 udp 10.99.1.1 5354

# from: one source address of the peer is allowed, the other is not.
pc_expect open pc_probe peer1 tcp 10.99.1.1 8080 500 10.99.1.3
pc_expect timeout pc_probe peer1 tcp 10.99.1.1 8080 500 10.99.1.2
pc_expect open pc_probe peer1 tcp fd99:1::1 8080 500 fd99:1::3
pc_expect timeout pc_probe peer1 tcp fd99:1::1 8080 500 fd99:1::2

# Zones by interface: vh2 is "lab", where 444 is open and 443 is not.
pc_expect open pc_probe peer2 tcp 10.99.2.1 444
pc_expect open pc_probe peer2 tcp fd99:2::1 444
pc_expect timeout pc_probe peer2 tcp 10.99.2.1 443

# Outbound: 25/tcp is denied, 26/tcp is not.
pc_expect timeout pc_probe host tcp 10.99.1.2 25
pc_expect open pc_probe host tcp 10.99.1.2 26

# limit 22/tcp: 6 new connections per minute per source, burst 6. Count
# the successes of a quick burst of 10 from one source (named: an IPv6
# peer may prefer its newer address); once dropped, later ones are too.
for pair in "10.99.1.1 10.99.1.2 10.99.1.3" "fd99:1::1 fd99:1::2 fd99:1::3"; do
	set -- $pair
	a=$1 src=$2 other=$3
	results=""
	for i in 1 2 3 4 5 6 7 8 9 10; do
		results="$results $(pc_probe peer1 tcp $a 22 300 $src)"
	done
	pc_log "limit 22/tcp burst from $src:$results"
	opened=$(echo "$results" | tr ' ' '\n' | grep -c '^open$')
	[ "$opened" -ge 5 ] && [ "$opened" -le 7 ] || pc_fail "limit let $opened of 10 through:$results"
	echo "$results" | grep -q 'timeout.*open' &&
		pc_fail "limit let a connection through after a drop:$results"
	# Another limit rule keeps its own budget for the same source: the
	# zone's meter is keyed by source and rule.
	for i in 1 2 3 4 5 6 7 8 9 10; do
		pc_expect open pc_probe peer1 tcp $a 2222 500 $src
	done
	# Another source address has its own budget.
	pc_expect open pc_probe peer1 tcp $a 22 500 $other
done
exit 0
