#!/bin/sh
# Imported configurations decide real traffic as the original firewall
# did. Each configuration of tests/data/import/ (written by the real ufw
# and firewall-offline-cmd, see generate.sh there) is imported, applied by
# portctld in a namespace and probed from a peer; the verdicts must be
# those listed here, and 'portctl explain' must say the same of each. With
# PORTCTL_IMPORT_TOOLS=ROOT (extracted ufw and firewalld packages, see
# generate.sh) the originals run in the same namespace -- ufw enabled
# there, firewalld on a private D-Bus (firewalld-run.sh) -- and must give
# the same verdicts on the same probes. Without them the verdicts listed
# are the ones those runs gave.
set -u
. "$(dirname "$0")/lib.sh"
pc_require

portctl="$top_builddir/portctl"
data="$top_srcdir/tests/data/import"
H1=10.77.1.1
H6=fd77:1::1
E1=10.77.2.1

pc_ns_add host
pc_ns_add peer
pc_link host vh1 $H1 $H6 peer vp1 10.77.1.2 fd77:1::2
# An interface named as in the configurations: names are per namespace.
pc_link host eth1 $E1 fd77:2::1 peer vp2 10.77.2.2 fd77:2::2
for a in 10.77.1.3 10.77.1.4 10.77.1.5; do
	pc_in peer ip addr add "$a/24" dev vp1
done
for a in fd77:1::3 fd77:1::4; do
	pc_in peer ip addr add "$a/64" dev vp1 nodad
done
pc_listen host 22 25 80 443 2222 3003 3306 5432 7070 8000 8080 8081 8100 8101 8443 9000 \
	udp:7005 udp:7071 udp:60000
pc_listen peer 25
# Without portctl's shipped "allow ssh": ufw has no such rule.
: >"$PC_TMP/etc/defaults.rules"

# probe_all FIREWALL SET: the probes of SET (lines "FROM PROTO ADDR PORT
# SOURCE WANT" in $PC_TMP/SET.probes) must all get WANT. An ICMPv6 error
# may come only with the SYN's retransmission a second later (ufw rejects
# IPv6 TCP so), hence the longer wait where an answer is expected.
probe_all() {
	while read -r from proto addr port src want; do
		[ "$src" = - ] && src=""
		wait_ms=2500
		[ "$want" = timeout ] && wait_ms=400
		# shellcheck disable=SC2086
		got=$(pc_probe "$from" "$proto" "$addr" "$port" $wait_ms $src)
		# firewalld rejects with ICMP admin-prohibited, which connect()
		# reports as EHOSTUNREACH: refused all the same.
		[ -n "${FIREWALLD:-}" ] && [ "$got" = error ] && got=refused
		[ "$got" = "$want" ] ||
			pc_fail "$1 $2: $proto $addr $port from ${src:-$from} gave $got, expected $want"
	done <"$PC_TMP/$2.probes"
	pc_log "ok: $1 $2: $(wc -l <"$PC_TMP/$2.probes") probes"
}

# explain_all SET: 'portctl explain --offline' says of each probe what the
# traffic showed (accept: open, reject: refused, drop: timeout).
explain_all() {
	set_name=$1
	while read -r from proto addr port src want; do
		case "$addr" in
		10.77.2.*) iface=eth1 peer=10.77.2.2 ;;
		*:*) iface=vh1 peer=fd77:1::2 ;;
		*) iface=vh1 peer=10.77.1.2 ;;
		esac
		[ "$src" = - ] && src=$peer
		if [ "$from" = host ]; then
			set -- out "$proto" "$port" to "$addr" on "$iface"
		else
			set -- in "$proto" "$port" from "$src" on "$iface"
		fi
		verdict=$("$portctl" --config "$PC_TMP/etc" --data-dir "$PC_TMP/share" explain "$@" \
			--offline | sed -n 's/^verdict: *//p')
		case "$verdict" in
		accept*) got=open ;;
		reject) got=refused ;;
		drop) got=timeout ;;
		*) got="$verdict" ;;
		esac
		[ "$got" = "$want" ] || pc_fail "explain $*: $verdict, the traffic: $want"
	done <"$PC_TMP/$set_name.probes"
	pc_log "ok: explain agrees on $set_name"
}

cat >"$PC_TMP/ufw-a.probes" <<'P'
peer tcp 10.77.1.1 22 - open
peer tcp 10.77.1.1 8000 10.77.1.3 open
peer tcp 10.77.1.1 8000 10.77.1.2 timeout
peer tcp 10.77.1.1 8100 10.77.1.3 open
peer tcp 10.77.1.1 8101 10.77.1.3 timeout
peer tcp fd77:1::1 22 fd77:1::3 open
peer tcp fd77:1::1 80 fd77:1::3 timeout
peer tcp fd77:1::1 80 fd77:1::2 open
peer tcp 10.77.1.1 2222 - open
peer tcp 10.77.2.1 5432 - open
peer tcp 10.77.1.1 5432 - timeout
peer tcp 10.77.1.1 443 - open
peer tcp 10.77.1.1 8443 - refused
peer tcp fd77:1::1 9000 fd77:1::2 open
peer tcp 10.77.1.1 9000 - timeout
peer udp 10.77.1.1 7005 - open
peer tcp 10.77.1.1 3306 - timeout
host tcp 10.77.1.2 25 - open
P
cat >"$PC_TMP/ufw-b.probes" <<'P'
peer tcp 10.77.1.1 80 10.77.1.3 timeout
peer tcp 10.77.1.1 80 10.77.1.2 open
peer tcp 10.77.1.1 443 10.77.1.2 open
peer tcp fd77:1::1 443 fd77:1::2 refused
peer tcp fd77:1::1 25 fd77:1::2 open
peer tcp 10.77.1.1 25 - refused
peer tcp 10.77.2.1 443 - refused
peer tcp 10.77.1.1 8081 - open
peer tcp 10.77.1.1 3306 - refused
peer udp 10.77.1.1 7005 - refused
host tcp 10.77.1.2 25 - refused
P
cat >"$PC_TMP/firewalld-a.probes" <<'P'
peer tcp 10.77.1.1 22 10.77.1.2 open
peer tcp 10.77.1.1 443 - open
peer tcp 10.77.1.1 7070 - open
peer udp 10.77.1.1 7071 - open
peer tcp 10.77.1.1 8080 10.77.1.2 open
peer tcp 10.77.1.1 8080 10.77.1.3 refused
peer udp 10.77.1.1 60000 - open
peer tcp 10.77.1.1 80 10.77.1.3 open
peer tcp 10.77.1.1 80 10.77.1.2 refused
peer tcp 10.77.1.1 2222 - open
peer tcp 10.77.1.1 22 10.77.1.4 timeout
peer tcp 10.77.1.1 22 10.77.1.5 refused
peer tcp fd77:1::1 8443 fd77:1::3 open
peer tcp fd77:1::1 8443 fd77:1::2 refused
peer tcp fd77:1::1 3306 fd77:1::4 open
peer tcp fd77:1::1 3306 fd77:1::2 refused
peer tcp 10.77.2.1 5432 - open
peer tcp 10.77.2.1 443 - refused
peer tcp 10.77.1.1 5432 - refused
P
cat >"$PC_TMP/firewalld-b.probes" <<'P'
peer tcp 10.77.1.1 22 10.77.1.2 open
peer tcp 10.77.1.1 3306 10.77.1.2 timeout
peer tcp 10.77.1.1 3003 10.77.1.2 open
peer tcp 10.77.1.1 8080 10.77.1.3 open
peer tcp 10.77.1.1 3003 10.77.1.3 refused
peer tcp 10.77.1.1 22 10.77.1.3 open
peer tcp 10.77.2.1 3306 - open
peer tcp fd77:1::1 3306 fd77:1::2 timeout
P

for set in ufw-a ufw-b firewalld-a firewalld-b; do
	"$portctl" --data-dir "$PC_TMP/share" import "${set%%-*}" "$data/$set" \
		>"$PC_TMP/etc/rules.d/50-import.rules" 2>"$PC_TMP/import.err"
	[ -s "$PC_TMP/etc/rules.d/50-import.rules" ] || pc_fail "import $set: $(cat "$PC_TMP/import.err")"
	pc_apply host || pc_fail "apply $set: $(cat "$PC_TMP/apply.err")"
	probe_all portctl "$set"
	explain_all "$set"
done

if [ -n "${PORTCTL_IMPORT_TOOLS:-}" ]; then
	# The originals, in the same namespace: ufw's own iptables-nft rules,
	# then firewalld itself (on a private D-Bus).
	pc_in host nft delete table inet portctl || pc_fail "nft delete table inet portctl"
	for set in ufw-a ufw-b; do
		pc_in host "$data/generate.sh" --ufw-enable "$PORTCTL_IMPORT_TOOLS" "$data/$set" \
			"$PC_TMP/ufw-$set" || pc_fail "ufw --force enable for $set"
		probe_all ufw "$set"
		pc_in host nft flush ruleset
	done
	if command -v dbus-daemon >/dev/null; then
		for set in firewalld-a firewalld-b; do
			mkdir -p "$PC_TMP/run-$set"
			cp -R "$data/$set" "$PC_TMP/cfg-$set"
			pc_background host "$data/firewalld-run.sh" "$PORTCTL_IMPORT_TOOLS" \
				"$PC_TMP/cfg-$set" "$PC_TMP/run-$set"
			[ "$PC_READY" = ready ] || pc_fail "firewalld for $set: $PC_READY"
			FIREWALLD=1 probe_all firewalld "$set"
			pc_stop "$PC_LAST_PID"
			pc_in host nft flush ruleset
		done
	fi
fi
