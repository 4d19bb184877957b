#!/bin/sh
# Promise 10: a change keeps the counters of every rule it does not touch.
# A rule with kernel rules of its own (limit, log, from ADDR) added or
# deleted among others numbers the entries after it again, and with them
# their sets and rules; what the kernel counted for those goes on under the
# new names. Real traffic over IPv4 and IPv6 to rules of every kind before
# and after the change (ports in maps, limit, log, from ADDR, the shipped
# allow ssh, a port range), then changes in place -- one cutting that range
# in two -- and through reloads that renumber the lines of a file or join
# address intervals: no rule's packet count goes back, every rule that
# counted still counts, and a limit's meter keeps the sources it holds.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon-lib.sh"
pc_require
pcd_setup

P() { pcd_as_member "$@" >"$PC_TMP/out" 2>&1 || pc_fail "portctl $*: $(cat "$PC_TMP/out")"; }

pc_config_write 10-x.rules 'allow 2001/tcp' 'allow 2002/tcp log'
pc_config_write 95-late.rules 'allow 3000-3010/tcp' 'limit 2005/tcp rate 100/second' 'allow 2006/tcp from 10.99.7.2' \
	'allow 2006/tcp from fd99:7::2' 'allow 2007/tcp' 'limit 2009/tcp'
# Rules of one port each from a host and networks: a run of ports, its
# addresses elements of proto . port . address sets.
pc_config_write 80-hosts.rules 'allow 2030/tcp from 10.99.7.2, fd99:7::2' \
	'allow 2031/tcp from 10.99.7.0/24, fd99:7::/64'
pcd_start
pc_listen host tcp:22 tcp:2001 tcp:2002 tcp:2005 tcp:2006 tcp:2007 tcp:2009 tcp:3005 tcp:2030 tcp:2031

# What limit 2009/tcp's kernel rules dropped (a rule's own counter, kept
# on a rule that comes again under a new meter's name).
drops() {
	pc_in host nft list chain inet portctl in_public |
		awk '/dport 2009 add @/ && / drop / { for (i = 1; i < NF; i++) if ($i == "packets") n += $(i + 1) }
		     END { print n + 0 }'
}
# Over its limit (6 a minute, a burst of 6): some of 10 connections dropped.
for _ in 1 2 3 4 5 6 7 8 9 10; do
	pc_probe peer tcp 10.99.7.1 2009 300 >/dev/null
done
dropped=$(drops)
[ "$dropped" -gt 0 ] || pc_fail "limit 2009/tcp dropped nothing"

# One connection to each port over both families.
# EXTRA4: more ports, over IPv4 alone.
EXTRA4=
traffic() {
	for port in 22 2001 2002 2005 2006 2007 3005 2030 2031; do
		pc_expect open pc_probe peer tcp 10.99.7.1 $port
		pc_expect open pc_probe peer tcp fd99:7::1 $port
	done
	for port in $EXTRA4; do
		pc_expect open pc_probe peer tcp 10.99.7.1 $port
	done
}

# kept BEFORE AFTER WHAT [GONE]: no counter of BEFORE went back or went
# missing (but the rules GONE, deleted, separated by ';'), and enough of
# them counted.
kept() {
	python3 - "$1" "$2" "${4:-}" >"$PC_TMP/lost" <<'PY' || pc_fail "$3: counters lost: $(cat "$PC_TMP/lost")"
import sys
def load(p):
    return dict(l.rsplit(" ", 1) for l in open(p).read().splitlines())
a, b = load(sys.argv[1]), load(sys.argv[2])
gone = sys.argv[3]
bad = ["%s: %s -> %s" % (k, a[k], b.get(k, "missing")) for k in a
       if k.split("|", 1)[1] not in gone.split(";") and int(b.get(k, -1)) < int(a[k])]
print("; ".join(bad) or "too few rules counted")
sys.exit(1 if bad or sum(int(v) > 0 for v in a.values()) < 6 else 0)
PY
	pc_log "ok: $3: counters kept"
}

# Does limit 2009/tcp's IPv4 meter hold the peer (the zone's meter, filled
# by the packet path, keyed by source and the rule's tag)?
meter_knows_peer() {
	m=$(pc_in host nft list chain inet portctl in_public |
		sed -n 's/.*tcp dport 2009 add @\(meter4_[a-z0-9_]*\) { ip saddr \. \(0x[0-9a-f]*\) .*/\1 \2/p' |
		head -1)
	set -- $m
	[ $# -eq 2 ] && pc_in host nft list set inet portctl "$1" | grep -q "10.99.7.2 \. $2"
}

step=0
# change WHAT GONE CMD...: traffic, counters, CMD, counters kept (but
# the rule GONE's, when CMD deletes it).
change() {
	what=$1 gone=$2
	shift 2
	step=$((step + 1))
	traffic
	pc_probe peer tcp 10.99.7.1 2009 300 >/dev/null
	meter_knows_peer || pc_fail "$what: limit 2009/tcp's meter does not hold the peer"

	pcd_counters "$PC_TMP/before.$step"
	"$@"
	pcd_counters "$PC_TMP/after.$step"
	kept "$PC_TMP/before.$step" "$PC_TMP/after.$step" "$what" "$gone"
	[ "$(drops)" -ge "$dropped" ] || pc_fail "$what: limit's drops went from $dropped to $(drops)"
	# The limit's meter still knows the peer: not made again empty.
	meter_knows_peer || pc_fail "$what: limit 2009/tcp's meter forgot the peer"
}

# The CLI's first rule, of a port and a host, joins 80-hosts.rules' run
# of ports, which a small run's last file names: the run is named anew,
# its sets made again, their counters carried; and back at its delete.
change "a run of ports named anew" "" P allow 2032/tcp from 10.99.7.9
change "a run of ports named back" "allow 2032/tcp from 10.99.7.9" \
	P delete allow 2032/tcp from 10.99.7.9
change "limit in place before later entries" "" P limit 2003/tcp
change "logged allow in place" "" P allow 2004/tcp log
change "delete of the limit" "limit 2003/tcp" P delete limit 2003/tcp
change "address rule in place" "" P allow 2008/tcp from 10.99.7.2
change "delete of the address rule" "allow 2008/tcp from 10.99.7.2" \
	P delete allow 2008/tcp from 10.99.7.2
# A range cut in two by a rule put before it, made whole again, in place
# (the CLI's rule heads 95-late's run) and by a reload.
change "a range cut in two" "" P deny 3008/tcp
# A limit between the CLI's rules and the range cuts their run in two (the
# range's segments move to a run of their own), its delete joins them.
change "a range of the CLI's" "" P allow 2020-2021/tcp
change "a port run cut in two" "" P limit 2011/tcp
change "two port runs joined" "limit 2011/tcp" P delete limit 2011/tcp
change "a range made whole" "deny 3008/tcp" P delete deny 3008/tcp
# A rule of its own of one port and an address ("allow 2022/tcp from" the
# peer) joins a run scoped to that port when a second of its port comes
# next to it: its kernel rules become set elements, which go on with what
# they counted; and back when that one goes.
pc_listen host tcp:2022
P allow 2022/tcp from 10.99.7.2
EXTRA4=2022
change "a rule of its own joins a run of its port" "" P allow 2022/tcp from 10.99.7.3
change "a run's rule becomes a rule of its own" "allow 2022/tcp from 10.99.7.3" \
	P delete allow 2022/tcp from 10.99.7.3
cut_by_reload() {
	echo 'deny 3007/tcp' >>"$PC_TMP/etc/rules.d/90-portctl.rules"
	P reload
}
change "a range cut in two by a reload" "" cut_by_reload

# An address run's interval cut in two by a host put before its rule: the
# kernel refuses a boundary inside an interval, so the interval goes and
# comes again in the same transaction, its counter carried (the table was
# replaced whole, every counter at 0).
pc_in peer ip addr add 10.99.7.200/24 dev vp || pc_fail "a second peer address"
printf 'deny from 10.99.7.128/25\ndeny from fd99:7::80/121\n' >"$PC_TMP/etc/rules.d/70-addrs.rules"
P reload
pc_expect timeout pc_probe peer tcp 10.99.7.1 2040 300 10.99.7.200
[ "$(pcd_rule_field 'deny from 10.99.7.128/25' packets)" -gt 0 ] ||
	pc_fail "deny from 10.99.7.128/25 counted nothing"
cut_interval() {
	printf 'deny from 10.99.7.201\ndeny from 10.99.7.128/25\ndeny from fd99:7::80/121\n' \
		>"$PC_TMP/etc/rules.d/70-addrs.rules"
	P reload
}
change "an address run's interval cut in two" "" cut_interval
# A file edited in place, as a configuration manager does: an interval put
# just below one whose line moved (its start comes again with the new
# line; its end must come with it, or the kernel refuses the new end
# under it); then, no line moving, two intervals joined (an allow's hole
# filled) and another cut (a hole made): the join's lone end and start
# before the cut interval's pair the kernel refuses, so intervals go
# whole. Refused, the table was replaced whole, every counter at 0.
below_moved() {
	printf '%s\n' 'deny from 10.99.7.64/26' 'deny from 10.99.7.201' \
		'deny from 10.99.7.128/25' 'deny from fd99:7::80/121' >"$PC_TMP/etc/rules.d/70-addrs.rules"
	P reload
}
change "an interval below one whose line moved" "" below_moved
holes() {
	printf '%s\n' "$@" >"$PC_TMP/etc/rules.d/75-holes.rules"
	P reload
}
# Deny intervals [0.0, 0.64) [0.128, 1.0) [2.0, 3.0) of 10.98, the allow
# rules before them making the holes.
change "intervals with holes" "" holes 'allow from 10.98.0.64/26' 'allow from 10.98.9.9' \
	'deny from 10.98.0.0/24' 'deny from 10.98.2.0/24'
change "two intervals joined, a third cut, no line moved" \
	"allow from 10.98.0.64/26;allow from 10.98.9.9" holes 'allow from 10.98.9.8' \
	'allow from 10.98.2.128/25' 'deny from 10.98.0.0/24' 'deny from 10.98.2.0/24'

# A line at the head of a file: every later line, and entry, renumbered.
renumber() {
	{ echo 'allow 2000/tcp log'; cat "$PC_TMP/etc/rules.d/10-x.rules"; } >"$PC_TMP/x.new"
	mv "$PC_TMP/x.new" "$PC_TMP/etc/rules.d/10-x.rules"
	P reload
}
change "reload with a line added at the top" "" renumber
# The same files read again at start: the kernel's counters are taken over.
restart() {
	pcd_stop
	pcd_start
}
change "restart" "" restart

# 100 rules of their own renumbered at once: the counters of the first 64
# are asked for rule by rule, the rest read in one dump of the table; each
# goes on under the rule's new line.
seq 100 | awk '{ printf "allow %d/tcp from 10.99.7.2 %s\n", 4100 + $1, $1 % 2 ? "to 10.99.7.0/24" : "port 1024-65535/tcp to 10.99.0.0/16" }' \
	>"$PC_TMP/etc/rules.d/60-many.rules"
P reload
pc_listen host tcp:4101 tcp:4200
pc_expect open pc_probe peer tcp 10.99.7.1 4101
pc_expect open pc_probe peer tcp 10.99.7.1 4200
first=$(pcd_rule_field 'allow 4101/tcp from 10.99.7.2 to 10.99.7.0/24' packets)
last=$(pcd_rule_field 'allow 4200/tcp from 10.99.7.2 port 1024-65535/tcp to 10.99.0.0/16' packets)
[ "$first" -gt 0 ] && [ "$last" -gt 0 ] || pc_fail "4101 and 4200 counted $first and $last"
{ echo 'allow 4100/tcp'; cat "$PC_TMP/etc/rules.d/60-many.rules"; } >"$PC_TMP/many.new"
mv "$PC_TMP/many.new" "$PC_TMP/etc/rules.d/60-many.rules"
P reload
[ "$(pcd_rule_field 'allow 4101/tcp from 10.99.7.2 to 10.99.7.0/24' packets)" -ge "$first" ] ||
	pc_fail "100 renumbered: the first's counter went back"
[ "$(pcd_rule_field 'allow 4200/tcp from 10.99.7.2 port 1024-65535/tcp to 10.99.0.0/16' packets)" -ge "$last" ] ||
	pc_fail "100 renumbered: the last's counter went back"
pc_log "ok: 100 rules renumbered: counters kept, asked for one by one and dumped"
# 60 more: the zone's chain is cut into blocks (chains it jumps to), and
# the rules that move into them go on with their counters; back under the
# size, the blocks are unmade, and again.
moved() {
	first=$(pcd_rule_field 'allow 4101/tcp from 10.99.7.2 to 10.99.7.0/24' packets)
	last=$(pcd_rule_field 'allow 4200/tcp from 10.99.7.2 port 1024-65535/tcp to 10.99.0.0/16' packets)
	"$@"
	P reload
	blocks=$(pc_in host nft list table inet portctl | grep -c "chain in_public_B")
	[ "$(pcd_rule_field 'allow 4101/tcp from 10.99.7.2 to 10.99.7.0/24' packets)" -ge "$first" ] &&
		[ "$(pcd_rule_field 'allow 4200/tcp from 10.99.7.2 port 1024-65535/tcp to 10.99.0.0/16' packets)" -ge "$last" ] ||
		pc_fail "$blocks blocks after $*: a counter went back"
	pc_log "ok: $blocks blocks after $*: counters kept"
}
more() { seq 60 | awk '{ printf "allow %d/tcp from 10.99.7.3 %s\n", 4300 + $1, $1 % 2 ? "to 10.99.7.0/24" : "port 1024-65535/tcp to 10.99.0.0/16" }' >>"$PC_TMP/etc/rules.d/60-many.rules"; }
fewer() { head -101 "$PC_TMP/etc/rules.d/60-many.rules" >"$PC_TMP/many.new" && mv "$PC_TMP/many.new" "$PC_TMP/etc/rules.d/60-many.rules"; }
moved more
[ "$blocks" -gt 0 ] || pc_fail "no blocks with 160 rules of their own"
moved fewer
[ "$blocks" -eq 0 ] || pc_fail "$blocks blocks with 100 rules of their own"
moved more
pcd_stop
pc_log "PASS"
