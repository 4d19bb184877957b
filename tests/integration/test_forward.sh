#!/bin/sh
# Routed traffic between two peers through the protected host: passes by
# default (forward policy accept), is dropped by a zone's "policy forward
# drop" and refused by "reject", and "allow forward PORT" opens one port of
# it again; the zone is chosen by a wildcard interface name (vh*), an exact
# name wins over it; a zone by source address; explain forward agrees.
. "$(dirname "$0")/lib.sh"
pc_require
pc_ns_add host
pc_ns_add peer1
pc_ns_add peer2
pc_link host vh1 10.99.1.1 fd99:1::1 peer1 vp1 10.99.1.2 fd99:1::2
pc_link host vh2 10.99.2.1 fd99:2::1 peer2 vp2 10.99.2.2 fd99:2::2
pc_in peer1 ip route add default via 10.99.1.1
pc_in peer1 ip -6 route add default via fd99:1::1
pc_in peer2 ip route add default via 10.99.2.1
pc_in peer2 ip -6 route add default via fd99:2::1
pc_in host sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 ||
	pc_fail "forwarding on"
pc_listen peer2 tcp:80 tcp:81 tcp:82 tcp:83
# The first IPv6 packets wait for neighbour discovery: resolve it first.
pc_expect open pc_probe peer1 tcp fd99:2::2 80 3000

# both WANT PORT: peer1 to peer2 over v4 and v6.
both() {
	pc_expect "$1" pc_probe peer1 tcp 10.99.2.2 "$2" 300
	pc_expect "$1" pc_probe peer1 tcp fd99:2::2 "$2" 300
}

apply() {
	pc_config_write 10-fwd.rules "$@"
	pc_apply host || pc_fail "apply: $(cat "$PC_TMP/apply.err")"
}

explains() {
	"$top_builddir/portctl" -s "$PC_TMP/none.sock" --config "$PC_TMP/etc" \
		--data-dir "$PC_TMP/share" explain \
		forward tcp "$2" from 10.99.1.2 to 10.99.2.2 on vh1 2>/dev/null |
		grep -q "^verdict: *$1" || pc_fail "explain forward tcp $2 does not say $1"
	pc_log "ok: explain forward tcp $2 -> $1"
}

pc_log "the shipped configuration forwards as before"
apply '# nothing'
both open 80
explains accept 80

pc_log "policy forward drop on the zone of vh* (wildcard), allow forward 80/tcp"
apply 'zone lan interface vh* policy forward drop' 'allow forward 80/tcp zone lan'
both open 80
both timeout 81
explains accept 80
explains drop 81

pc_log "an exact name wins over the wildcard"
apply 'zone lan interface vh* policy forward drop' 'zone up interface vh1 policy forward reject' \
	'allow forward 80/tcp zone lan'
both refused 80
explains reject 80

pc_log "a zone by source address (reverse-path checked, as inbound)"
apply 'zone lan source 10.99.1.0/24,fd99:1::/64 policy forward drop' 'allow forward 80/tcp zone lan'
[ "$(pc_nft_json host '[x["rule"]["chain"] for x in r if "rule" in x and any("fib" in e.get("match", {}).get("left", {}) for e in x["rule"]["expr"])]')" = "['input', 'input', 'forward', 'forward']" ] ||
	pc_fail "no reverse-path check in forward: $(pc_nft_json host '[x["rule"]["chain"] for x in r if "rule" in x and any("fib" in e.get("match", {}).get("left", {}) for e in x["rule"]["expr"])]')"
both open 80
both timeout 81
explains drop 81
# agree: for ports 80-83 over v4 and v6, what explain forward says is what
# the kernel does (accept: open, drop: timeout, reject: refused). The probes
# run at once.
agree() {
	probes=""
	for p in 80 81 82 83; do
		for a in "10.99.1.2 10.99.2.2" "fd99:1::2 fd99:2::2"; do
			set -- $a
			pc_in peer1 "$PC_PROBE" tcp "$2" $p 300 >"$PC_TMP/got.$p.$2" &
			probes="$probes $!"
		done
	done
	# shellcheck disable=SC2086
	wait $probes
	for p in 80 81 82 83; do
		for a in "10.99.1.2 10.99.2.2" "fd99:1::2 fd99:2::2"; do
			set -- $a
			v=$("$top_builddir/portctl" -s "$PC_TMP/none.sock" --config "$PC_TMP/etc" \
				--data-dir "$PC_TMP/share" explain forward tcp $p from "$1" to "$2" \
				on vh1 2>/dev/null | sed -n 's/^verdict: *\([a-z]*\).*/\1/p')
			case $v in accept) want=open ;; drop) want=timeout ;; reject) want=refused ;;
			*) pc_fail "explain forward tcp $p from $1: no verdict" ;; esac
			[ "$(cat "$PC_TMP/got.$p.$2")" = "$want" ] ||
				pc_fail "forward tcp $p from $1: explain says $v, the kernel $(cat "$PC_TMP/got.$p.$2")"
		done
	done
	pc_log "ok: explain forward agrees with the kernel on 8 probes"
}

pc_log "explain forward agrees with the kernel"
apply 'zone lan interface vh* policy forward reject' 'deny forward 81/tcp zone lan' \
	'allow forward 80,82/tcp zone lan' 'reject forward 83/tcp from 10.99.1.0/24 zone lan'
agree
apply 'zone lan source 10.99.1.2,fd99:1::2 policy forward drop' \
	'allow forward 80-82/tcp to 10.99.2.2,fd99:2::2 zone lan' 'deny forward 81/tcp zone lan'
agree
apply 'zone lan interface vh1' 'zone w interface vh* policy forward drop' \
	'deny forward 80/tcp zone lan' 'limit forward 82/tcp zone lan' 'deny forward from fd99:1::2 zone lan'
agree
exit 0
