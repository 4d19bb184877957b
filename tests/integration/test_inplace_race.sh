#!/bin/sh
# In-place changes racing other programs' commits (real kernel, real
# traffic). With 300 rules, a limit and a deny in force, and a run of
# rules of a port and a source each:
#  - while other programs commit to their own table without pause, every
#    change -- allow, limit, reject, deny from, ban, unban, delete, insert,
#    a rule of a port and a source into the run, one of a port, a source
#    and a destination into a block, a port range, a delete before a
#    logged rule, a reload of a file whose every rule moved a line -- is
#    taken (its generation-id batch refused by the kernel, it goes the
#    full path), is exactly one transaction of portctld, is in the rules
#    file once, does what it says to traffic, leaves no drift ('portctl
#    diff'), keeps the counters and leaves the other
#    table as it was; explain reads every table's rules whole; a reload
#    afterwards sends nothing (the model in memory is the full compile's);
#  - with table-owner = no, a program that changes our table between
#    changes (a port-map element deleted, a rule added, a ban element
#    deleted) is repaired, and the changes right after it are right;
#  - portctld started, and --apply-once, while others commit without
#    pause, apply the files.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon-lib.sh"
pc_require
pcd_setup

LOG="$PC_TMP/portctld.log"
MON="$PC_TMP/monitor"
RULES90="$PC_TMP/etc/rules.d/90-portctl.rules"
HOST=10.99.7.1
A=10.99.7.2 # the peer's address, allowed throughout
B=10.99.7.3 # the peer's second address: denied, banned
pc_in peer ip addr add "$B/24" dev vp || pc_fail "second peer address"

P() {
	"$PCD_PORTCTL" -c "$PC_TMP/etc" -d "$top_srcdir/rules" -s "$PCD_SOCK" "$@"
}

# expect WANT PORT [SOURCE]: a TCP probe from the peer gives WANT.
expect() {
	pc_expect "$1" pc_probe peer tcp "$HOST" "$2" 500 "${3:-$A}"
}

# No drift, and the files are what is in force.
no_drift() {
	P diff >"$PC_TMP/diff.out" 2>&1 || pc_fail "$1: portctl diff: $(cat "$PC_TMP/diff.out")"
}

# once TEXT: the CLI rules file holds TEXT exactly once (never applied twice).
once() {
	n=$(grep -cxF "$1" "$RULES90")
	[ "$n" -eq 1 ] || pc_fail "'$1' is $n times in 90-portctl.rules: $(cat "$RULES90")"
}

gens_by_us() {
	grep -c "^# new generation .*(portctld)" "$MON"
}

# The other program: its own table, a chain with a rule, a set with one
# element, then commits to it -- elements and rules added and deleted,
# alone and in nft -f batches -- until told to stop. Each of them counts
# its commits in $FOREIGN.count.K and records any refusal in $FOREIGN.err.
FOREIGN="$PC_TMP/foreign"
pc_in host nft -f - <<'EOF' || pc_fail "the other table"
table inet other {
	set s {
		type ipv4_addr
		elements = { 198.18.0.1 }
	}
	chain c {
		ip saddr @s tcp dport 2999 counter
	}
}
EOF
pc_in host nft list table inet other >"$PC_TMP/other.before" || pc_fail "list other"
cat >"$FOREIGN.sh" <<'EOF'
i=0
while [ ! -e "$1.stop" ]; do
	i=$((i + 1))
	e="192.$2.$((i / 250 % 250)).$((i % 250 + 1))"
	case $((i % 3)) in
	0) nft add element inet other s "{ $e }" && nft delete element inet other s "{ $e }" ;;
	1) printf 'add element inet other s { %s }\ndelete element inet other s { %s }\n' "$e" "$e" |
		nft -f - ;;
	2) printf 'add rule inet other c tcp dport %d drop\nflush chain inet other c\nadd rule inet other c ip saddr @s tcp dport 2999 counter\n' \
		$((30000 + i % 1000)) | nft -f - ;;
	esac || echo "commit $i refused" >>"$1.err"
	echo "$i" >"$1.count.$2"
done
EOF
# PC_RACE_LOOPS: how many of them commit at once (2; more for a stress run).
foreign_count() {
	sum=0
	for f in "$FOREIGN".count.*; do
		n=$(cat "$f" 2>/dev/null)
		sum=$((sum + ${n:-0}))
	done
	echo "$sum"
}
FOREIGN_PIDS=""
foreign_start() {
	rm -f "$FOREIGN.stop" "$FOREIGN".count.*
	FOREIGN_PIDS=""
	for k in $(seq "${PC_RACE_LOOPS:-2}"); do
		nsenter --net="/run/netns/$(pc_ns host)" sh "$FOREIGN.sh" "$FOREIGN" "$k" &
		FOREIGN_PIDS="$FOREIGN_PIDS $!"
		PC_PIDS="$PC_PIDS $!"
	done
}
# They stop between two commits, so their table is as they set it up.
foreign_stop() {
	touch "$FOREIGN.stop"
	for pid in $FOREIGN_PIDS; do
		wait "$pid"
		PC_PIDS=$(echo "$PC_PIDS" | sed "s/ $pid\b//")
	done
	[ ! -s "$FOREIGN.err" ] || pc_fail "another program was refused: $(head -3 "$FOREIGN.err")"
	pc_in host nft list table inet other >"$PC_TMP/other.after" || pc_fail "list other"
	diff -u "$PC_TMP/other.before" "$PC_TMP/other.after" >&2 ||
		pc_fail "the other programs' table changed"
}

# LAST: the foreign commits when the last change was made.
LAST=0
newer_commit() {
	[ "$(foreign_count)" -gt "$LAST" ]
}
# raced WHAT CMD...: CMD, made after another commit than ours since our
# last one (so that its generation-id batch cannot go through), is taken.
raced() {
	what=$1
	shift
	pc_until 10 newer_commit || pc_fail "the other programs do not commit"
	"$@" >"$PC_TMP/out" 2>&1 ||
		pc_fail "$what refused while racing: $(cat "$PC_TMP/out") $(grep -v "of other" "$LOG" | tail -5)"
	LAST=$(foreign_count)
	no_drift "$what"
	N=$((N + 1))
	pc_log "ok: $what taken"
}

# Every counter of the table, one "KEY PACKETS" a line, keyed by what does
# not change when an entry made in place numbers the later sets and rules
# anew: an element by its key and comment, a rule by its chain, comment
# and place among the rules so named.
table_counters() {
	pc_in host nft -j list table inet portctl >"$PC_TMP/c.json" || pc_fail "list table"
	python3 - "$PC_TMP/c.json" <<'PY'
import json, sys
from collections import Counter
seen = Counter()
def out(key, n):
    seen[key] += 1
    print("%s#%d" % (key, seen[key]), n)
def walk(o, found):
    if isinstance(o, dict):
        if isinstance(o.get("counter"), dict) and "packets" in o["counter"]:
            found.append((o.get("val"), o.get("comment"), o["counter"]["packets"]))
        for v in o.values():
            walk(v, found)
    elif isinstance(o, list):
        for v in o:
            walk(v, found)
for o in json.load(open(sys.argv[1]))["nftables"]:
    found = []
    if "rule" in o:
        walk(o["rule"]["expr"], found)
        for i, (_, _, n) in enumerate(found):
            out("rule:%s:%s/%d" % (o["rule"]["chain"], o["rule"].get("comment"), i), n)
    for kind in ("set", "map"):
        if kind in o:
            walk(o[kind].get("elem", []), found)
            for val, comment, n in found:
                out("elem:%s:%s" % (json.dumps(val, sort_keys=True).replace(" ", ""), comment), n)
PY
	[ $? -eq 0 ] || pc_fail "cannot read the table's counters"
}

# counters_kept BEFORE AFTER: every counter of BEFORE that counted is in
# AFTER and did not go back (a full replace of the table zeroes them).
counters_kept() {
	python3 - "$1" "$2" <<'PY'
import sys
def load(p):
    return dict(l.rsplit(" ", 1) for l in open(p).read().splitlines())
a, b = load(sys.argv[1]), load(sys.argv[2])
counted = [k for k in a if int(a[k]) > 0]
assert len(counted) >= 3, "too few counters counted anything: %s" % counted
lost = [(k, a[k], b.get(k)) for k in counted if k not in b or int(b[k]) < int(a[k])]
assert not lost, "gone or went back: %s" % lost[:5]
PY
}

{
	i=0
	while [ $i -lt 300 ]; do
		echo "allow $((10000 + i))/tcp"
		i=$((i + 1))
	done
	echo "limit 30001/tcp"
	echo "deny from 10.1.2.3"
} >"$PC_TMP/etc/rules.d/10-bulk.rules"
# A run of ports (rules of one port and a source each) right after the
# CLI's rules: a CLI rule of a port and a source joins it in place.
{
	echo "allow 12000/tcp from 10.99.7.0/24"
	i=1
	while [ $i -lt 100 ]; do
		echo "allow $((12000 + i))/tcp from 10.97.$((i / 250)).$((i % 250)) comment \"host $i\""
		i=$((i + 1))
	done
} >"$PC_TMP/etc/rules.d/95-hosts.rules"
# 200 rules of their own (a port, a source and a destination network): the zone's
# chain is cut into blocks, which the CLI's rules after them go into.
seq 200 | awk '{ printf "allow %d/tcp from 10.%d.%d.0/24 %s\n", 20000 + $1, 50 + int($1 / 256), $1 % 256,
		   $1 % 2 ? "port 1024-65535/tcp to 10.99.0.0/16" : "to 10.99.7.0/24" }' \
	>"$PC_TMP/etc/rules.d/50-own.rules"
# PC_SMALL_RUNS=1 (test_inplace_race_small.sh): 300 rules of a port or a
# source in turn in the CLI's file, each a run of its own: past 64 small
# runs of a file the zone lowers them rule by rule (no sets), and so the
# CLI's rules after them (no default rules after those: they would end
# the CLI's run in a file of few small runs, which keeps its sets).
if [ -n "${PC_SMALL_RUNS:-}" ]; then
	seq 300 | awk '{ if ($1 % 2) printf "allow %d/tcp\n", 6000 + $1;
			 else printf "deny from 10.50.%d.%d\n", int($1 / 256), $1 % 256 }' \
		>"$RULES90"
	: >"$PC_TMP/etc/defaults.rules"
fi
pc_config_write portctl.conf "socket-group = $PCD_GROUP" "socket-mode = 0666" "log-level = debug"
pc_listen host tcp:2001 tcp:2002 tcp:2003 tcp:2005 tcp:22 tcp:2012 tcp:2021
pcd_start

# Traffic that port-map elements of 10-bulk.rules and the SSH allow count.
for port in 22 10000 10001 10002 30001 12000; do
	pc_probe peer tcp "$HOST" "$port" >/dev/null
done
table_counters >"$PC_TMP/counters.before"

pcd_log "in-place changes while other programs commit to their own table"
N=0
pc_monitor_start host "$MON"
foreign_start
raced "allow 2001/tcp" P allow 2001/tcp
expect open 2001
raced "limit 2003/tcp" P limit 2003/tcp
expect open 2003
raced "reject 2002/tcp" P reject 2002/tcp
expect refused 2002
raced "deny from $B" P deny from "$B"
raced "allow 2005/tcp" P allow 2005/tcp
expect open 2005
expect timeout 2005 "$B"
expect open 2001 "$B"
raced "ban $B" P ban "$B"
expect timeout 2001 "$B"
raced "unban $B" P unban "$B"
expect open 2001 "$B"
raced "delete allow 2005/tcp" P delete allow 2005/tcp
expect timeout 2005
raced "delete deny from $B" P delete deny from "$B"
pos=$(cat "$PC_TMP/etc/rules.d/10-bulk.rules" "$PC_TMP/etc/rules.d/50-own.rules" "$RULES90" | grep -cE '^(allow|deny|reject|limit) ')
raced "insert $((pos + 1)) allow 2005/tcp" P insert "$((pos + 1))" allow 2005/tcp
expect open 2005 "$B"
raced "delete reject 2002/tcp" P delete reject 2002/tcp
expect timeout 2002
pc_listen host tcp:2011
raced "allow 2011/tcp from $A" P allow 2011/tcp from "$A"
expect open 2011
expect timeout 2011 "$B"
raced "delete allow 2011/tcp from $A" P delete allow 2011/tcp from "$A"
expect timeout 2011
raced "allow 2011/tcp from $A again" P allow 2011/tcp from "$A"
expect open 2011
raced "allow 2012/tcp from $A to $HOST" P allow 2012/tcp from "$A" to "$HOST"
expect open 2012
expect timeout 2012 "$B"
raced "allow 2020-2022/tcp" P allow 2020-2022/tcp
expect open 2021
# A logged rule after it, whose log prefix names its line: the delete
# before it makes it again (no drift: the prefix is the new line's).
raced "allow 2023/tcp log" P allow 2023/tcp log
raced "delete allow 2020-2022/tcp, before a logged rule" P delete allow 2020-2022/tcp
expect timeout 2021
raced "allow 2020-2022/tcp again" P allow 2020-2022/tcp
expect open 2021
# Reloads of an edit that makes every rule of a file again (each one's
# line, in its comment, moved): their counters, read from the kernel in
# dumps that another program's commit cuts short (EINTR), go on; such a
# reload is made again as a refused batch is (it failed, nothing said).
OWN="$PC_TMP/etc/rules.d/50-own.rules"
for k in 1 2 3 4 5 6 7 8; do
	sed -i "1i allow $((2030 + k))/tcp from 10.96.0.0/24 to 10.99.7.0/24" "$OWN"
	raced "reload, a line put first in 50-own.rules ($k)" P reload
	sed -i 1d "$OWN"
	raced "reload, that line taken out ($k)" P reload
done
# explain (in portctld) and exposure (in the CLI) read every table's rules
# (ports others publish) in one dump, which their commits cut short: read
# again, the answer whole.
for k in 1 2 3 4 5 6 7 8 9 10; do
	P --json explain in tcp 2001 from "$A" >"$PC_TMP/explain.json" ||
		pc_fail "explain while racing: $(cat "$PC_TMP/explain.json")"
	! grep -q published_error "$PC_TMP/explain.json" ||
		pc_fail "explain while racing: $(cat "$PC_TMP/explain.json")"
	nsenter --net="/run/netns/$(pc_ns host)" "$PCD_PORTCTL" -c "$PC_TMP/etc" -d "$top_srcdir/rules" \
		-s "$PCD_SOCK" --json exposure >"$PC_TMP/exposure.json" ||
		pc_fail "exposure while racing: $(cat "$PC_TMP/exposure.json")"
	! grep -q '"nat_error": "' "$PC_TMP/exposure.json" ||
		pc_fail "exposure while racing: $(cat "$PC_TMP/exposure.json")"
done
pc_log "ok: explain and exposure while racing: others' published ports read"
foreign_stop
pc_in host nft list table inet portctl | awk '/^\tchain / { c = $2 } / dport 2012 / { print c }' |
	grep -q '^in_public_B' || pc_fail "allow 2012/tcp from to is not in a block"
if [ -n "${PC_SMALL_RUNS:-}" ]; then
	pcd_by_rule "allow 2001/tcp"
	pcd_by_rule "allow 2011/tcp from $A"
fi
pc_monitor_stop
[ "$(gens_by_us)" -eq "$N" ] ||
	pc_fail "$N changes made $(gens_by_us) transactions: $(grep '(portctld)' "$MON")"
pcd_log "ok: $N changes, $N transactions, $(foreign_count) commits of the other programs"
# Each change came after another program's commit: the in-place batches
# (their generation id stale) were refused, then sent again on what
# portctld applied (the events said those commits left its table alone),
# or went the full path.
met=$(grep -c "debug: .*nftables changed since our last commit" "$LOG")
[ "$met" -ge 5 ] ||
	pc_fail "only $met in-place changes met the race: $(grep "last commit" "$LOG")"
grep -q "in place: added allow 2011/tcp from $A" "$LOG" ||
	pc_fail "the rule of a port and a source did not go in place: $(grep "2011" "$LOG")"
grep -q "in place: deleted allow 2020-2022/tcp" "$LOG" ||
	pc_fail "the delete before a logged rule did not go in place: $(grep "2020" "$LOG")"
for r in "allow 2001/tcp" "limit 2003/tcp" "allow 2005/tcp" "allow 2011/tcp from $A"; do
	once "$r"
done
grep -qE "2002|from $B" "$RULES90" && pc_fail "a deleted rule is still in the file: $(cat "$RULES90")"
table_counters >"$PC_TMP/counters.after"
counters_kept "$PC_TMP/counters.before" "$PC_TMP/counters.after" >&2 ||
	pc_fail "counters were reset while racing"

# 3,000 rules of their own, a few counting the peer's probes: a reload
# that makes them all again carries more chains' counters than are read
# chain by chain, in one dump of the table, which others' commits always
# cut short: read on, every counter carried, the table never installed
# whole (that would start them again). (nft itself, listing the table
# for the counters, would retry through the race: they are read before
# and after it.)
MANY="$PC_TMP/etc/rules.d/60-many.rules"
seq 3000 | awk '{ src = $1 % 750 == 1 ? "10.99.7.0/24" : sprintf("10.%d.%d.0/24", 60 + int($1 / 256), $1 % 256)
		  printf "allow %d/tcp from %s %s\n", 21000 + $1, src, $1 % 2 ? "port 1024-65535/tcp to 10.99.0.0/16" : "to 10.99.7.0/24" }' >"$MANY"
P reload >/dev/null || pc_fail "reload, 3,000 rules of their own more"
for port in 21001 21751 22501 23251; do
	pc_probe peer tcp "$HOST" "$port" >/dev/null
done
table_counters >"$PC_TMP/counters.many"
echo "test: 60-many reloads" >>"$LOG"
N=0
pc_monitor_start host "$MON"
foreign_start
LAST=0
for k in 1 2 3; do
	sed -i "1i allow $((2040 + k))/tcp from 10.96.0.0/24 to 10.99.7.0/24" "$MANY"
	raced "reload, a line put first in 60-many.rules ($k)" P reload
	sed -i 1d "$MANY"
	raced "reload, that line taken out of 60-many.rules ($k)" P reload
done
foreign_stop
pc_monitor_stop
[ "$(gens_by_us)" -eq "$N" ] ||
	pc_fail "$N reloads made $(gens_by_us) transactions: $(grep '(portctld)' "$MON")"
pc_log "60-many reloads made again $(sed -n '/^test: 60-many reloads$/,$p' "$LOG" | grep -c "making it again") times"
table_counters >"$PC_TMP/counters.many.after"
counters_kept "$PC_TMP/counters.many" "$PC_TMP/counters.many.after" >&2 ||
	pc_fail "counters were reset by the reloads of 60-many.rules while racing"
! grep -q "installing table inet portctl whole" "$LOG" ||
	pc_fail "the table was installed whole while racing: $(grep -B3 "installing table" "$LOG" | head -8)"
rm "$MANY"
P reload >/dev/null || pc_fail "reload, 60-many.rules gone"
pc_monitor_start host "$MON"
P reload >/dev/null || pc_fail "reload"
pc_monitor_stop
[ "$(gens_by_us)" -eq 0 ] || pc_fail "the reload after the race made $(gens_by_us) transactions"
no_drift "after the race"
expect open 2001
expect open 2003
pcd_stop

pcd_log "table-owner = no: another program changes our table between changes"
pc_config_write portctl.conf "socket-group = $PCD_GROUP" "socket-mode = 0666" "log-level = debug" \
	"table-owner = no"
: >"$LOG"
pcd_start

# holder PATTERN: the set or map of table inet portctl with an element
# that the extended regular expression PATTERN finds on its line, read from
# nft's text: the table left by the owned run before keeps the flag
# "persist" alone, whose JSON Debian 12's nft 1.0.6 cuts short (it reads
# the flag's name past the end of its table of names).
holder() {
	pc_in host nft list table inet portctl | WANT=$1 awk '
		/^\t(set|map) / { name = $2 }
		name != "" && $0 ~ ENVIRON["WANT"] { print name; exit }
		/^\t}/ { name = "" }'
}
repairs() {
	grep -c "drift repaired" "$LOG"
}
repaired() {
	[ "$(repairs)" -eq "$1" ]
}
compared() {
	grep -c "drift: comparing table inet portctl" "$LOG"
}
compared_more_than() {
	[ "$(compared)" -gt "$1" ]
}
# one WHAT CMD...: CMD is one transaction of portctld.
one() {
	what=$1
	shift
	pc_monitor_start host "$MON"
	"$@" >"$PC_TMP/out" 2>&1 || pc_fail "$what: $(cat "$PC_TMP/out")"
	pc_monitor_stop
	[ "$(gens_by_us)" -eq 1 ] || pc_fail "$what made $(gens_by_us) transactions: $(cat "$PC_TMP/out")"
	no_drift "$what"
	pc_log "ok: $what: one transaction"
}

# An element of ours deleted (of 10-bulk.rules' run of ports; the CLI's
# small run in the zone cut into blocks has none): repaired; the next
# change in place.
map=$(holder 'tcp \. 10001([^0-9-]|$)')
pc_in host nft delete element inet portctl "$map" '{ tcp . 10001 }' || pc_fail "nft delete element"
pc_until 10 repaired 1 || pc_fail "not repaired: $(tail -5 "$LOG")"
expect refused 10001
one "allow 2006/tcp after a repair" P allow 2006/tcp
pc_listen host tcp:2006
expect open 2006

# A rule of another program inserted ahead of ours, and at once a change:
# the change, whatever it meets first, leaves our table as we applied it.
n=$(compared)
pc_in host nft insert rule inet portctl in_public tcp dport 2002 accept || pc_fail "nft insert rule"
P allow 2007/tcp >"$PC_TMP/out" 2>&1 || pc_fail "allow 2007/tcp after a foreign rule: $(cat "$PC_TMP/out")"
pc_until 10 compared_more_than "$n" || pc_fail "the foreign rule was not compared: $(tail -5 "$LOG")"
no_drift "a foreign rule, then allow 2007/tcp"
pc_in host nft list chain inet portctl in_public | grep -q "dport 2002 accept" &&
	pc_fail "the foreign rule is still there"
expect timeout 2002
pc_listen host tcp:2007
expect open 2007

# A ban element of ours deleted, and at once the unban of that address.
P ban "$B" >/dev/null || pc_fail "ban $B"
expect timeout 2001 "$B"
bset=$(holder "$(echo "$B" | sed 's/\./\\./g')([^0-9./]|\$)")
n=$(compared)
pc_in host nft delete element inet portctl "$bset" "{ $B }" || pc_fail "nft delete element $bset"
P unban "$B" >"$PC_TMP/out" 2>&1 || pc_fail "unban after a foreign delete: $(cat "$PC_TMP/out")"
pc_until 10 compared_more_than "$n" || pc_fail "the foreign delete was not compared: $(tail -5 "$LOG")"
no_drift "a foreign delete of a ban, then the unban"
expect open 2001 "$B"
one "reject 2008/tcp after the unban" P reject 2008/tcp
expect refused 2008
[ "$(repairs)" -le 3 ] || pc_fail "$(repairs) repairs"
pc_monitor_start host "$MON"
P reload >/dev/null || pc_fail "reload"
pc_monitor_stop
[ "$(gens_by_us)" -eq 0 ] || pc_fail "the reload after the repairs made $(gens_by_us) transactions"
for r in "allow 2006/tcp" "allow 2007/tcp" "reject 2008/tcp"; do
	once "$r"
done
pcd_stop

pcd_log "portctld started, and --apply-once, while other programs commit"
foreign_start
# Each start finds the table of the last: a difference against what it
# holds, read anew at each try, or past them the table whole; one
# transaction either way, and a ban made after the first holds. (nft
# monitor is read to its end once the others stop: it never drains while
# they commit.)
pc_monitor_start host "$MON"
for k in 1 2 3 4; do
	sed -i "1i allow $((2050 + k))/tcp" "$OWN"
	pcd_start
	[ "$k" -eq 1 ] && { P ban "$B" >/dev/null || pc_fail "ban $B"; }
	pc_in host nft list table inet portctl | grep -qw "$((2050 + k))" ||
		pc_fail "start while racing ($k): allow $((2050 + k))/tcp not in force: $(grep -v drift: "$LOG" | tail -3)"
	expect timeout 2001 "$B"
	expect open 2001
	no_drift "start while racing ($k)"
	pcd_stop
done
pc_log "ok: portctld started 4 times while racing, its files and ban in force"
for k in 1 2 3 4 5 6; do
	sed -i "1i allow $((2040 + k))/tcp" "$OWN"
	pc_apply host || pc_fail "--apply-once while racing ($k): $(cat "$PC_TMP/apply.err")"
	pc_in host nft list table inet portctl | grep -qw "$((2040 + k))" ||
		pc_fail "--apply-once while racing ($k): allow $((2040 + k))/tcp not in force"
done
foreign_stop
pc_monitor_stop
# Four starts, the ban, six --apply-once: one transaction each.
[ "$(gens_by_us)" -eq 11 ] ||
	pc_fail "4 starts, a ban and 6 --apply-once made $(gens_by_us) transactions: $(grep '(portctld)' "$MON")"
pc_log "ok: --apply-once taken 6 times while racing"
exit 0
