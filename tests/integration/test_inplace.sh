#!/bin/sh
# Rule changes made in place (real kernel, real traffic), on configurations
# of several shapes: the bulk of the rules before the CLI rules file or
# after it, limit and logged rules among them, rules of their own (each a
# kernel rule: new ones are placed among 3,000), a ban in force; and a block
# list written as rules, and one port from many hosts. Each change -- allow, reject, limit, insert at the
# file's end, deny from, runtime and temporary rules, and the deletes -- is
# one transaction and does what it says to real traffic (a new service is
# none); and the model it leaves in memory is the full compile's: a reload
# of the same files then sends nothing at all.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon-lib.sh"
pc_require
pcd_setup

# transactions N WHAT CMD...: CMD makes portctld commit exactly N times.
transactions() {
	want=$1 what=$2
	shift 2
	pc_monitor_start host "$PC_TMP/monitor"
	"$@" >"$PC_TMP/out" 2>&1 || pc_fail "$what: $(cat "$PC_TMP/out")"
	pc_monitor_stop
	n=$(grep -c "^# new generation .*(portctld)" "$PC_TMP/monitor")
	[ "$n" -eq "$want" ] || pc_fail "$what made $n transactions, not $want: $(cat "$PC_TMP/monitor")"
	pc_log "ok: $what: $n transaction(s)"
}
one() { transactions 1 "$*" pcd_as_member "$@"; }
# refused WHAT TEXT CMD...: CMD exits 2 saying TEXT, and nothing changes:
# no transaction, the CLI's file as it was.
refused() {
	what=$1 text=$2
	shift 2
	cat "$PC_TMP/etc/rules.d/90-portctl.rules" >"$PC_TMP/before90" 2>/dev/null
	pc_monitor_start host "$PC_TMP/monitor"
	"$@" >"$PC_TMP/out" 2>&1
	rc=$?
	pc_monitor_stop
	[ "$rc" -eq 2 ] || pc_fail "$what: exit $rc, not 2: $(cat "$PC_TMP/out")"
	grep -qF "$text" "$PC_TMP/out" || pc_fail "$what: not '$text': $(cat "$PC_TMP/out")"
	n=$(grep -c "^# new generation" "$PC_TMP/monitor")
	[ "$n" -eq 0 ] || pc_fail "$what made $n transactions: $(cat "$PC_TMP/monitor")"
	cat "$PC_TMP/etc/rules.d/90-portctl.rules" 2>/dev/null | cmp -s - "$PC_TMP/before90" ||
		pc_fail "$what: 90-portctl.rules changed"
	pc_log "ok: $what: refused, nothing sent or written"
}
# The last transaction sent the elements of tcp port $2 (and $3...) alone:
# the later rules of the file, whose lines moved, keep theirs (the kernel
# names 90-portctl.rules' rules by their text, not their line).
element_alone() {
	what=$1
	shift
	grep -Ev '^(# new generation|(add|delete) element inet portctl )' "$PC_TMP/monitor" |
		grep -q . && pc_fail "$what: not elements alone: $(cat "$PC_TMP/monitor")"
	others=$(grep -E '^(add|delete) element' "$PC_TMP/monitor")
	for elem in "$@"; do
		grep -q "tcp \. $elem " "$PC_TMP/monitor" ||
			pc_fail "$what: $elem not sent: $(cat "$PC_TMP/monitor")"
		others=$(printf '%s\n' "$others" | grep -v "tcp \. $elem ")
	done
	[ -z "$others" ] || pc_fail "$what: other elements sent again: $(cat "$PC_TMP/monitor")"
	pc_log "ok: $what: the elements of $* alone"
}
# relogged WHAT CHANGE: the last transaction, made in place, sent the
# change and made again the logged rule 2002, whose line it moved (its log
# prefix names the line): only its log rules, naming the new line.
relogged() {
	grep -qF "in place: $2" "$PC_TMP/portctld.log" || pc_fail "$1: not in place"
	line=$(grep -n '^allow 2002/tcp log$' "$PC_TMP/etc/rules.d/90-portctl.rules" | cut -d: -f1)
	grep -E '^(add|insert) rule' "$PC_TMP/monitor" | grep -q "90-portctl.rules:$line " ||
		pc_fail "$1: no log rule naming line $line: $(cat "$PC_TMP/monitor")"
	grep -E '^(add|insert) rule' "$PC_TMP/monitor" | grep -F 'allow 2002/tcp log' |
		grep -v ' log prefix ' | grep -q . &&
		pc_fail "$1: the logged rule's other rules were sent again: $(cat "$PC_TMP/monitor")"
	pc_log "ok: $1: in place, the logged rule's log prefix names line $line"
}
# The model in memory is what the files compile to: nothing to send.
same_as_files() {
	transactions 0 "reload after the changes ($1)" pcd_as_member reload
}

bulk() {
	i=0
	while [ $i -lt 300 ]; do
		echo "allow $((10000 + i))/tcp"
		i=$((i + 1))
	done
}
# 1,500 rules no run merges (a port, a source and a destination network
# each, every other one of the clients' source ports too: allow rules
# toward networks, in a row, would be a run): a kernel rule each, the
# zone chain cut into blocks
# (chains it jumps to).
own() {
	seq 1500 | awk '{ printf "allow %d/tcp from 10.%d.%d.0/24 %s\n", 10000 + $1, int($1 / 256), $1 % 256,
			  $1 % 2 ? "to 10.99.7.0/24" : "port 1024-65535/tcp to 10.99.0.0/16" }'
}
# 1,500 rules of a port, a source and one host each: a run of ports, the
# host in its sets' elements (meta l4proto . th dport . ip daddr . ip saddr).
tohost() {
	seq 1500 | awk '{ printf "allow %d/tcp from 10.%d.%d.0/24 to 10.99.7.1\n", 10000 + $1, int($1 / 256), $1 % 256 }'
	seq 100 | awk '{ printf "allow %d/tcp from fd98:%x::/64 to fd99:7::1\n", 12000 + $1, $1 }'
}

pc_listen host tcp:2001 tcp:2002 tcp:2003 tcp:2004 tcp:2005 tcp:2006 tcp:2007 tcp:2008 tcp:2009 tcp:2010 tcp:22
pc_listen host tcp:2691 tcp:2693
# The log says which changes were made in place.
pc_config_write portctl.conf "socket-group = $PCD_GROUP" "socket-mode = 0666" "log-level = debug"
for shape in early late mixed own tohost; do
	pc_log "shape: $shape"
	rm -f "$PC_TMP"/etc/rules.d/*.rules "$PC_TMP"/state/bans.*
	: >"$PC_TMP/portctld.log"
	case $shape in
	early) bulk >"$PC_TMP/etc/rules.d/10-bulk.rules" ;;
	late) bulk >"$PC_TMP/etc/rules.d/95-late.rules" ;;
	mixed) { bulk; echo "limit 30001/tcp"; echo "allow 30002/tcp log"; echo "deny from 10.1.2.3"; } \
		>"$PC_TMP/etc/rules.d/10-bulk.rules" ;;
	own) own >"$PC_TMP/etc/rules.d/10-bulk.rules" ;;
	tohost) tohost >"$PC_TMP/etc/rules.d/10-bulk.rules" ;;
	esac
	pcd_start
	pcd_as_member ban 192.0.2.9 >/dev/null || pc_fail "ban"
	one allow 2001/tcp
	pc_expect open pc_probe peer tcp 10.99.7.1 2001
	one reject 2002/tcp
	pc_expect refused pc_probe peer tcp 10.99.7.1 2002
	one limit 2003/tcp
	pc_expect open pc_probe peer tcp 10.99.7.1 2003
	# The ruleset a rule's own entry was spliced into still bans in place.
	one ban 10.99.7.2
	pc_expect timeout pc_probe peer tcp 10.99.7.1 2003
	one unban 10.99.7.2
	one deny 2004/tcp
	pc_expect timeout pc_probe peer tcp 10.99.7.1 2004
	same_as_files "$shape, added"
	# A port range (the CLI's run has no range set: the run is made
	# again with one) and a rule of two zones, in place, and their deletes.
	one allow 2690-2692/tcp
	grep -qF "in place: added allow 2690-2692/tcp" "$PC_TMP/portctld.log" ||
		pc_fail "$shape: a port range not in place"
	# Appended after the limit above, the range joins 95-late.rules' run
	# of 300 ports (late), which has its range sets (empty) ready:
	# elements alone. (Elsewhere it joins the CLI's small run, with the
	# defaults, made again with a range set.)
	case $shape in late)
		grep -E '^(add|insert|delete) (set|rule|chain) ' "$PC_TMP/monitor" | grep -q . &&
			pc_fail "$shape: a range into a big run sent more than elements: $(cat "$PC_TMP/monitor")"
		pc_log "ok: $shape: a range into a big run: elements alone" ;;
	esac
	pc_expect open pc_probe peer tcp 10.99.7.1 2691
	one allow 2693/tcp zone public,internal
	grep -qF "in place: added allow 2693/tcp zone public,internal" "$PC_TMP/portctld.log" ||
		pc_fail "$shape: a rule of two zones not in place"
	# Public's run of port rules takes it as an element (internal makes
	# an entry for it): that run is not made again.
	case $shape in
	early | late | mixed)
		grep -qE '^add element inet portctl in_public_.* tcp \. 2693 ' "$PC_TMP/monitor" ||
			pc_fail "$shape: the rule of two zones is no element of public's run: $(cat "$PC_TMP/monitor")"
		grep -E '^(add|delete) element inet portctl in_public' "$PC_TMP/monitor" |
			grep -v 'tcp \. 2693 ' | grep -q . &&
			pc_fail "$shape: the rule of two zones sent public's run again: $(head -c 3000 "$PC_TMP/monitor")"
		pc_log "ok: $shape: a rule of two zones: an element of public's run" ;;
	esac
	pc_expect open pc_probe peer tcp 10.99.7.1 2693
	same_as_files "$shape, a range and two zones"
	# A rule of its own in two zones, between the CLI's port rules and the
	# run after them (the defaults', and in late 95-late.rules'), which it
	# cuts in two in each zone; and its delete, which joins them back.
	: >"$PC_TMP/portctld.log"
	one limit 2694/tcp zone public,internal
	one delete limit 2694/tcp zone public,internal
	grep -qF "in place: added limit 2694/tcp zone public,internal" "$PC_TMP/portctld.log" &&
		grep -qF "in place: deleted limit 2694/tcp zone public,internal" \
			"$PC_TMP/portctld.log" ||
		pc_fail "$shape: a limit of two zones, or its delete, not in place"
	same_as_files "$shape, a limit of two zones and its delete"
	one delete allow 2690-2692/tcp
	pc_expect timeout pc_probe peer tcp 10.99.7.1 2691
	one delete allow 2693/tcp zone public,internal
	pc_expect timeout pc_probe peer tcp 10.99.7.1 2693
	grep -qF "in place: deleted allow 2690-2692/tcp" "$PC_TMP/portctld.log" &&
		grep -qF "in place: deleted allow 2693/tcp zone public,internal" "$PC_TMP/portctld.log" ||
		pc_fail "$shape: the deletes of a range and of a rule of two zones not in place"
	one delete deny 2004/tcp
	one delete limit 2003/tcp
	pc_expect timeout pc_probe peer tcp 10.99.7.1 2003
	one delete reject 2002/tcp
	pc_expect timeout pc_probe peer tcp 10.99.7.1 2002
	# Inserted at the end of the file's rules, where the next allow goes:
	# after the rules of the files sorting before it, and its own.
	pos=$(cat "$PC_TMP"/etc/rules.d/[0-8]*.rules "$PC_TMP/etc/rules.d/90-portctl.rules" \
		2>/dev/null | grep -cE '^(allow|deny|reject|limit) ')
	one insert "$((pos + 1))" allow 2004/tcp
	pc_expect open pc_probe peer tcp 10.99.7.1 2004
	one delete allow 2001/tcp
	pc_expect timeout pc_probe peer tcp 10.99.7.1 2001
	pc_expect open pc_probe peer tcp 10.99.7.1 22
	same_as_files "$shape, deleted"

	# In the middle of the file the later rules' lines move; their
	# elements, named by the rules' text, stay: one transaction of the
	# changed rule's element, and what the files give.
	one allow 2005/tcp
	one allow 2006/tcp
	one insert "$(pcd_rule_field 'allow 2005/tcp' number)" allow 2007/tcp
	element_alone "insert in the middle" 2007
	[ "$(pcd_rule_field 'allow 2006/tcp' number)" -eq \
		"$(($(pcd_rule_field 'allow 2007/tcp' number) + 2))" ] ||
		pc_fail "2007 is not two rules before 2006"
	pc_expect open pc_probe peer tcp 10.99.7.1 2007
	one delete allow 2005/tcp
	element_alone "delete in the middle" 2005
	pc_expect timeout pc_probe peer tcp 10.99.7.1 2005
	pc_expect open pc_probe peer tcp 10.99.7.1 2006
	same_as_files "$shape, in the middle"
	# A rule of its own between the CLI's port rules and those after it
	# (allow ssh of the defaults; in late 95-late.rules' too): its delete
	# joins them, in early under the big file's name, allow ssh apart;
	# one put between them again cuts them, in place too.
	one deny from 203.0.113.7
	one allow 2008/tcp
	: >"$PC_TMP/portctld.log"
	one delete deny from 203.0.113.7
	grep -qF "in place: deleted deny from 203.0.113.7" "$PC_TMP/portctld.log" ||
		pc_fail "$shape: the delete that joins two port runs not in place"
	pc_expect open pc_probe peer tcp 10.99.7.1 2008
	pc_expect open pc_probe peer tcp 10.99.7.1 22
	same_as_files "$shape, two port runs joined"
	# And one put between them again, which cuts the run they made.
	: >"$PC_TMP/portctld.log"
	one insert "$(pcd_rule_field 'allow 2008/tcp' number)" deny from 203.0.113.8
	grep -qF "in place: added deny from 203.0.113.8" "$PC_TMP/portctld.log" ||
		pc_fail "$shape: the insert that cuts a port run from the defaults' not in place"
	pc_expect open pc_probe peer tcp 10.99.7.1 2008
	pc_expect open pc_probe peer tcp 10.99.7.1 22
	same_as_files "$shape, a port run cut"
	one delete deny from 203.0.113.8
	one delete allow 2008/tcp
	# A rule with an entry of its own (a limit) in the middle, and its
	# delete; then a rule put before a logged rule of the file, whose log
	# prefix names its line, which moves: each one transaction, and what
	# the files give (a stale prefix would be sent again by the reload).
	one insert "$(pcd_rule_field 'allow 2006/tcp' number)" limit 2003/tcp
	pc_expect open pc_probe peer tcp 10.99.7.1 2003
	same_as_files "$shape, a limit in the middle"
	# The kernel holds the rules in the files' order, the limit's where
	# they fall among the others: a restart finds nothing to change in the
	# table (its flags alone), and the changes go on from there.
	pcd_stop
	pc_monitor_start host "$PC_TMP/monitor"
	pcd_start
	pc_monitor_stop
	grep -E '^(add|insert|delete) (rule|element|set|chain) ' "$PC_TMP/monitor" | grep -q . &&
		pc_fail "$shape: the restart changed the table: $(head -c 2000 "$PC_TMP/monitor")"
	pc_log "ok: $shape: a restart finds the kernel as the files say"
	one delete limit 2003/tcp
	pc_expect timeout pc_probe peer tcp 10.99.7.1 2003
	same_as_files "$shape, a limit from the middle"
	one allow 2002/tcp log
	pc_expect open pc_probe peer tcp 10.99.7.1 2002
	counted=$(pcd_rule_field 'allow 2002/tcp log' packets)
	[ "${counted:-0}" -gt 0 ] || pc_fail "$shape: the logged rule counted nothing"
	: >"$PC_TMP/portctld.log"
	one insert "$(pcd_rule_field 'allow 2007/tcp' number)" allow 2005/tcp
	relogged "$shape: a rule put before a logged rule" "added allow 2005/tcp"
	pc_expect open pc_probe peer tcp 10.99.7.1 2005
	same_as_files "$shape, before a logged rule"
	: >"$PC_TMP/portctld.log"
	one delete allow 2005/tcp
	relogged "$shape: a rule deleted before a logged rule" "deleted allow 2005/tcp"
	pc_expect timeout pc_probe peer tcp 10.99.7.1 2005
	same_as_files "$shape, deleted before a logged rule"
	# A rule of its own (a limit) put before it: the change is a rule too.
	: >"$PC_TMP/portctld.log"
	one insert "$(pcd_rule_field 'allow 2007/tcp' number)" limit 2005/tcp
	relogged "$shape: a limit put before a logged rule" "added limit 2005/tcp"
	same_as_files "$shape, a limit before a logged rule"
	one delete limit 2005/tcp
	same_as_files "$shape, a limit deleted before a logged rule"
	[ "$(pcd_rule_field 'allow 2002/tcp log' packets)" -ge "$counted" ] ||
		pc_fail "$shape: the logged rule's counter was lost"
	one delete allow 2002/tcp log
	one delete allow 2007/tcp
	one delete allow 2006/tcp
	# Runtime and temporary rules and their deletes: in place too, each
	# one transaction, and what they say to traffic.
	one allow 2008/tcp --runtime
	pc_expect open pc_probe peer tcp 10.99.7.1 2008
	one allow 2009/tcp --timeout 1h
	pc_expect open pc_probe peer tcp 10.99.7.1 2009
	one delete allow 2008/tcp
	pc_expect timeout pc_probe peer tcp 10.99.7.1 2008
	one delete allow 2009/tcp
	pc_expect timeout pc_probe peer tcp 10.99.7.1 2009
	for what in "added allow 2008/tcp" "added allow 2009/tcp" "deleted allow 2008/tcp" \
		"deleted allow 2009/tcp"; do
		grep -qF "in place: runtime rule $what" "$PC_TMP/portctld.log" ||
			pc_fail "$shape: runtime rule $what, not in place"
	done
	same_as_files "$shape, runtime rules gone"
	# A new service: nothing for the kernel, its line in the file; then a
	# rule by its name.
	transactions 0 "service myapp" pcd_as_member service myapp 2010/tcp
	grep -qF "in place: defined service myapp 2010/tcp" "$PC_TMP/portctld.log" ||
		pc_fail "$shape: the service was not defined in place"
	grep -qx "service myapp 2010/tcp" "$PC_TMP/etc/rules.d/90-portctl.rules" ||
		pc_fail "$shape: the service is not in the file"
	one allow myapp
	pc_expect open pc_probe peer tcp 10.99.7.1 2010
	same_as_files "$shape, a service defined"
	pcd_stop
done

# Rules of their own in blocks: a change goes into the block it falls in,
# a chain of about 64 rules, in place (the kernel rebuilds and walks that
# chain, not the zone's 1,500 rules): one transaction whose rules are the
# block's, traffic over IPv4 and IPv6, and a reload and a restart find
# nothing to change. A reload that leaves fewer than 128 entries unmakes
# the blocks (the zone chain holds its rules again), one that makes them
# many again makes them again.
pc_log "shape: rules of their own, in blocks"
rm -f "$PC_TMP"/etc/rules.d/*.rules "$PC_TMP"/state/bans.*
: >"$PC_TMP/portctld.log"
own >"$PC_TMP/etc/rules.d/10-bulk.rules"
blocks() { pc_in host nft list table inet portctl | grep -c "chain in_public_B"; }
in_a_block() {
	grep -E '^(add|insert) rule inet portctl in_public ' "$PC_TMP/monitor" |
		grep -q . && pc_fail "$1: rules added to the zone chain: $(cat "$PC_TMP/monitor")"
	grep -qE '^(add|insert) rule inet portctl in_public_B[a-z][0-9a-f]+ .*'"$2" "$PC_TMP/monitor" ||
		pc_fail "$1: not added to a block: $(cat "$PC_TMP/monitor")"
	grep -qF "in place: added $1" "$PC_TMP/portctld.log" || pc_fail "$1: not in place"
	pc_log "ok: $1: in place, into a block"
}
pcd_start
n_blocks=$(blocks)
[ "$n_blocks" -ge 10 ] || pc_fail "1,500 rules of their own in $n_blocks blocks"
pc_log "1,500 rules of their own: $n_blocks blocks"
pc_expect timeout pc_probe peer tcp 10.99.7.1 2001
one allow 2001/tcp from 10.99.7.2 to 10.99.7.0/24
in_a_block "allow 2001/tcp from 10.99.7.2 to 10.99.7.0/24" "dport 2001"
pc_expect open pc_probe peer tcp 10.99.7.1 2001
# (Of the clients' source ports too: next to the first, an allow toward a
# network would join it in a run.)
one allow 2002/tcp from fd99:7::2 port 1024-65535/tcp to fd99:7::/64
in_a_block "allow 2002/tcp from fd99:7::2 port 1024-65535/tcp to fd99:7::/64" "dport 2002"
pc_expect open pc_probe peer tcp fd99:7::1 2002
pc_expect timeout pc_probe peer tcp 10.99.7.1 2002
one limit 2003/tcp
in_a_block "limit 2003/tcp" "dport 2003"
pc_expect open pc_probe peer tcp 10.99.7.1 2003
same_as_files "blocks, added"
pcd_stop
pc_monitor_start host "$PC_TMP/monitor"
pcd_start
pc_monitor_stop
grep -E '^(add|insert|delete) (rule|element|set|chain) ' "$PC_TMP/monitor" | grep -q . &&
	pc_fail "blocks: the restart changed the table: $(head -c 2000 "$PC_TMP/monitor")"
one delete allow 2001/tcp from 10.99.7.2 to 10.99.7.0/24
grep -qE '^delete rule inet portctl in_public_B' "$PC_TMP/monitor" ||
	pc_fail "the delete took no rule out of a block: $(cat "$PC_TMP/monitor")"
pc_expect timeout pc_probe peer tcp 10.99.7.1 2001
one delete limit 2003/tcp
pc_expect timeout pc_probe peer tcp 10.99.7.1 2003
same_as_files "blocks, deleted"
# A rule whose entry begins a block (about one in 64; the name its comment
# gives decides): the block is made in place -- its chains, the zone's
# jumps to them, the entries after it up to the next block moved into it --
# one transaction; its delete unmakes it. The traffic of the rules moved
# goes on.
k=0
while [ "$(blocks)" -eq "$n_blocks" ]; do
	k=$((k + 1))
	[ $k -le 400 ] || pc_fail "no rule of 400 began a block"
	[ $k -eq 1 ] || one delete allow 2004/tcp from 10.99.7.2 to 10.99.7.0/24 comment "b$((k - 1))"
	: >"$PC_TMP/portctld.log"
	one allow 2004/tcp from 10.99.7.2 to 10.99.7.0/24 comment "b$k"
done
made="allow 2004/tcp from 10.99.7.2 to 10.99.7.0/24 comment"
grep -qF "in place: added $made" "$PC_TMP/portctld.log" || pc_fail "$made b$k: not in place"
grep -qE '^add chain inet portctl in_public_B' "$PC_TMP/monitor" &&
	grep -qE '^add chain inet portctl pub_public_B' "$PC_TMP/monitor" ||
	pc_fail "$made: no block chain came: $(cat "$PC_TMP/monitor")"
pc_log "ok: $made: a block made in place ($k rules tried)"
pc_expect open pc_probe peer tcp 10.99.7.1 2004
pc_expect open pc_probe peer tcp fd99:7::1 2002
same_as_files "blocks, one made"
: >"$PC_TMP/portctld.log"
one delete $made "b$k"
[ "$(blocks)" -eq "$n_blocks" ] || pc_fail "$made deleted: $(blocks) blocks, not $n_blocks"
grep -qF "in place: deleted $made" "$PC_TMP/portctld.log" || pc_fail "its delete: not in place"
grep -qE '^delete chain inet portctl in_public_B' "$PC_TMP/monitor" ||
	pc_fail "$made deleted: no block chain went: $(cat "$PC_TMP/monitor")"
pc_log "ok: $made deleted: the block unmade in place"
pc_expect timeout pc_probe peer tcp 10.99.7.1 2004
pc_expect open pc_probe peer tcp fd99:7::1 2002
same_as_files "blocks, one unmade"
own | head -100 >"$PC_TMP/etc/rules.d/10-bulk.rules"
one reload
[ "$(blocks)" -eq 0 ] || pc_fail "100 rules of their own still in blocks"
pc_expect open pc_probe peer tcp fd99:7::1 2002
own >"$PC_TMP/etc/rules.d/10-bulk.rules"
one reload
[ "$(blocks)" -eq "$n_blocks" ] ||
	pc_fail "1,500 rules of their own again: $(blocks) blocks, not $n_blocks"
pc_expect open pc_probe peer tcp fd99:7::1 2002
same_as_files "blocks, made again"
pcd_stop

# Rules toward one host each: a rule of a port, a source and a host that
# joins their run is elements alone (the host in the key), IPv4 and IPv6,
# and so is its delete; it opens the port to that host alone, not to
# another address of this machine; a restart sends nothing.
pc_log "shape: rules toward a host"
rm -f "$PC_TMP"/etc/rules.d/*.rules "$PC_TMP"/state/bans.*
tohost >"$PC_TMP/etc/rules.d/10-bulk.rules"
pc_in host ip addr add 10.99.7.3/24 dev vh || pc_fail "a second address"
pc_in host ip addr add fd99:7::3/64 dev vh nodad || pc_fail "a second IPv6 address"
pcd_start
[ "$(blocks)" -eq 0 ] || pc_fail "rules toward a host: in blocks, not a run"
one allow 2001/tcp from 10.99.7.2 to 10.99.7.1
element_alone "allow 2001/tcp from 10.99.7.2 to 10.99.7.1" "2001 \. 10\.99\.7\.1 \. 10\.99\.7\.2"
pc_expect open pc_probe peer tcp 10.99.7.1 2001
pc_expect timeout pc_probe peer tcp 10.99.7.3 2001
# status counts the element's packets as the rule's.
[ "$(pcd_rule_field 'allow 2001/tcp from 10.99.7.2 to 10.99.7.1' packets)" -gt 0 ] ||
	pc_fail "toward a host: status counts no packet for the rule"
one allow 2001/tcp from fd99:7::/64 to fd99:7::1
element_alone "allow 2001/tcp from fd99:7::/64 to fd99:7::1" "2001 \. fd99:7::1 \. fd99:7::"
pc_expect open pc_probe peer tcp fd99:7::1 2001
pc_expect timeout pc_probe peer tcp fd99:7::3 2001
same_as_files "toward a host, added"
pcd_stop
pc_monitor_start host "$PC_TMP/monitor"
pcd_start
pc_monitor_stop
grep -E '^(add|insert|delete) (rule|element|set|chain) ' "$PC_TMP/monitor" | grep -q . &&
	pc_fail "toward a host: the restart changed the table: $(head -c 2000 "$PC_TMP/monitor")"
[ "$(pcd_rule_field 'allow 2001/tcp from 10.99.7.2 to 10.99.7.1' packets)" -gt 0 ] ||
	pc_fail "toward a host: the restart lost the rule's counter"
one delete allow 2001/tcp from 10.99.7.2 to 10.99.7.1
element_alone "delete allow 2001/tcp from 10.99.7.2 to 10.99.7.1" "2001 \. 10\.99\.7\.1 \. 10\.99\.7\.2"
pc_expect timeout pc_probe peer tcp 10.99.7.1 2001
pc_expect open pc_probe peer tcp fd99:7::1 2001
one delete allow 2001/tcp from fd99:7::/64 to fd99:7::1
pc_expect timeout pc_probe peer tcp fd99:7::1 2001
same_as_files "toward a host, deleted"
pcd_stop
pc_in host ip addr del 10.99.7.3/24 dev vh
pc_in host ip addr del fd99:7::3/64 dev vh

# Rules toward networks: allow rules of a port, a source and a destination
# network or host each, in a row, are a run (the network in the
# elements), whatever the networks' lengths (a /24, the /16 around it, a
# host) and families. A rule of the CLI's next to such a run, after it
# (IPv4) or before it (IPv6, 95-late.rules), joins it as elements alone,
# toward the run's networks, another network, the wider one, a host, or
# one of each family, and so does its delete; it opens the port toward that network alone, not
# toward an address of this machine outside it; status counts its
# packets; a restart sends nothing.
pc_log "shape: rules toward a network"
rm -f "$PC_TMP"/etc/rules.d/*.rules "$PC_TMP"/state/bans.*
seq 1500 | awk '{ printf "allow %d/tcp from 10.%d.%d.0/24 to %s\n", 10000 + $1, int($1 / 256), $1 % 256,
		  $1 % 3 == 0 ? "10.99.7.0/24" : $1 % 3 == 1 ? "10.99.0.0/16" : "10.99.7.9" }' \
	>"$PC_TMP/etc/rules.d/10-bulk.rules"
seq 100 | awk '{ printf "allow %d/tcp from fd98:%x::/64 to %s\n", 12000 + $1, $1, $1 % 2 ? "fd99:7::/64" : "fd99::/16" }' \
	>"$PC_TMP/etc/rules.d/95-late.rules"
pc_in host ip addr add 10.99.8.1/24 dev vh || pc_fail "an address outside 10.99.7.0/24"
pc_in host ip addr add fd99:8::1/64 dev vh nodad || pc_fail "an address outside fd99:7::/64"
pc_in peer ip route add 10.99.8.0/24 dev vp || pc_fail "the peer's route to 10.99.8.0/24"
pc_in peer ip route add fd99:8::/64 dev vp || pc_fail "the peer's route to fd99:8::/64"
pcd_start
[ "$(blocks)" -eq 0 ] || pc_fail "rules toward a network: in blocks, not a run"
one allow 2001/tcp from 10.99.7.2 to 10.99.7.0/24
element_alone "allow 2001/tcp from 10.99.7.2 to 10.99.7.0/24" "2001 \. 10\.99\.7\.0 \. 10\.99\.7\.2"
pc_expect open pc_probe peer tcp 10.99.7.1 2001
pc_expect timeout pc_probe peer tcp 10.99.8.1 2001
one allow 2003/tcp from 10.99.7.2 to 10.99.8.0/24
element_alone "allow 2003/tcp from 10.99.7.2 to 10.99.8.0/24" "2003 \. 10\.99\.8\.0 \. 10\.99\.7\.2"
pc_expect open pc_probe peer tcp 10.99.8.1 2003
pc_expect timeout pc_probe peer tcp 10.99.7.1 2003
one allow 2005/tcp from 10.99.7.2 to 10.99.0.0/16
element_alone "allow 2005/tcp from 10.99.7.2 to 10.99.0.0/16" "2005 \. 10\.99\.0\.0 \. 10\.99\.7\.2"
pc_expect open pc_probe peer tcp 10.99.8.1 2005
pc_expect open pc_probe peer tcp 10.99.7.1 2005
one allow 2006/tcp from 10.99.7.2 to 10.99.8.1
element_alone "allow 2006/tcp from 10.99.7.2 to 10.99.8.1" "2006 \. 10\.99\.8\.1 \. 10\.99\.7\.2"
pc_expect open pc_probe peer tcp 10.99.8.1 2006
pc_expect timeout pc_probe peer tcp 10.99.7.1 2006
# Dual stack: a rule toward a host and a network of the other family, an
# element each.
one allow 2007/tcp from 10.99.7.2,fd99:7::2 to 10.99.8.1,fd99:8::/64
element_alone "allow 2007/tcp toward both families" "2007 \. 10\.99\.8\.1 \. 10\.99\.7\.2" \
	"2007 \. fd99:8:: \. fd99:7::2"
pc_expect open pc_probe peer tcp 10.99.8.1 2007
pc_expect open pc_probe peer tcp fd99:8::1 2007
pc_expect timeout pc_probe peer tcp 10.99.7.1 2007
pc_expect timeout pc_probe peer tcp fd99:7::1 2007
dual=$(pcd_rule_field 'allow 2007/tcp from 10.99.7.2,fd99:7::2 to 10.99.8.1,fd99:8::/64' packets)
[ "$dual" -gt 1 ] ||
	pc_fail "toward both families: status counts not both families' packets for the rule"
[ "$(pcd_rule_field 'allow 2001/tcp from 10.99.7.2 to 10.99.7.0/24' packets)" -gt 0 ] ||
	pc_fail "toward a network: status counts no packet for the rule"
[ "$(pcd_rule_field 'allow 2005/tcp from 10.99.7.2 to 10.99.0.0/16' packets)" -gt 0 ] ||
	pc_fail "toward the wider network: status counts no packet for the rule"
one allow 2002/tcp from fd99:7::/64 to fd99:7::/64
element_alone "allow 2002/tcp from fd99:7::/64 to fd99:7::/64" "2002 \. fd99:7:: \. fd99:7::"
pc_expect open pc_probe peer tcp fd99:7::1 2002
pc_expect timeout pc_probe peer tcp fd99:8::1 2002
pc_expect timeout pc_probe peer tcp 10.99.7.1 2002
same_as_files "toward a network, added"
pcd_stop
pc_monitor_start host "$PC_TMP/monitor"
pcd_start
pc_monitor_stop
grep -E '^(add|insert|delete) (rule|element|set|chain) ' "$PC_TMP/monitor" | grep -q . &&
	pc_fail "toward a network: the restart changed the table: $(head -c 2000 "$PC_TMP/monitor")"
[ "$(pcd_rule_field 'allow 2001/tcp from 10.99.7.2 to 10.99.7.0/24' packets)" -gt 0 ] ||
	pc_fail "toward a network: the restart lost the rule's counter"
# A ban with the run in force: its sets' elements alone, and it wins over
# the run's rules toward the /24, the /16 and a host, not over those of
# the other family; a restart keeps it and sends nothing; the unban opens
# them again.
bans_alone() {
	grep -Ev '^(# new generation|(add|delete) element inet portctl )' "$PC_TMP/monitor" |
		grep -q . && pc_fail "$1: not elements alone: $(cat "$PC_TMP/monitor")"
	grep -q "10\.99\.7\.2" "$PC_TMP/monitor" || pc_fail "$1: not sent: $(cat "$PC_TMP/monitor")"
	pc_log "ok: $1: elements alone"
}
one ban 10.99.7.2
bans_alone "ban with a run toward networks"
pc_expect timeout pc_probe peer tcp 10.99.7.1 2001
pc_expect timeout pc_probe peer tcp 10.99.8.1 2005
pc_expect timeout pc_probe peer tcp 10.99.8.1 2007
pc_expect open pc_probe peer tcp fd99:8::1 2007
pcd_stop
pc_monitor_start host "$PC_TMP/monitor"
pcd_start
pc_monitor_stop
grep -E '^(add|insert|delete) (rule|element|set|chain) ' "$PC_TMP/monitor" | grep -q . &&
	pc_fail "a ban and a run: the restart changed the table: $(head -c 2000 "$PC_TMP/monitor")"
pc_expect timeout pc_probe peer tcp 10.99.7.1 2001
one unban 10.99.7.2
bans_alone "unban with a run toward networks"
pc_expect open pc_probe peer tcp 10.99.7.1 2001
pc_expect open pc_probe peer tcp 10.99.8.1 2005
pc_expect open pc_probe peer tcp 10.99.8.1 2007
# Its two elements' counters went on through the restarts and the ban.
[ "$(pcd_rule_field 'allow 2007/tcp from 10.99.7.2,fd99:7::2 to 10.99.8.1,fd99:8::/64' packets)" -gt "$dual" ] ||
	pc_fail "toward both families: the counter did not go on through the restarts and the ban"
one delete allow 2001/tcp from 10.99.7.2 to 10.99.7.0/24
element_alone "delete allow 2001/tcp from 10.99.7.2 to 10.99.7.0/24" "2001 \. 10\.99\.7\.0 \. 10\.99\.7\.2"
pc_expect timeout pc_probe peer tcp 10.99.7.1 2001
pc_expect open pc_probe peer tcp fd99:7::1 2002
one delete allow 2002/tcp from fd99:7::/64 to fd99:7::/64
element_alone "delete allow 2002/tcp from fd99:7::/64 to fd99:7::/64" "2002 \. fd99:7:: \. fd99:7::"
pc_expect timeout pc_probe peer tcp fd99:7::1 2002
one delete allow 2003/tcp from 10.99.7.2 to 10.99.8.0/24
pc_expect timeout pc_probe peer tcp 10.99.8.1 2003
one delete allow 2005/tcp from 10.99.7.2 to 10.99.0.0/16
element_alone "delete allow 2005/tcp from 10.99.7.2 to 10.99.0.0/16" "2005 \. 10\.99\.0\.0 \. 10\.99\.7\.2"
pc_expect timeout pc_probe peer tcp 10.99.8.1 2005
one delete allow 2006/tcp from 10.99.7.2 to 10.99.8.1
element_alone "delete allow 2006/tcp from 10.99.7.2 to 10.99.8.1" "2006 \. 10\.99\.8\.1 \. 10\.99\.7\.2"
pc_expect timeout pc_probe peer tcp 10.99.8.1 2006
one delete allow 2007/tcp from 10.99.7.2,fd99:7::2 to 10.99.8.1,fd99:8::/64
element_alone "delete allow 2007/tcp toward both families" \
	"2007 \. 10\.99\.8\.1 \. 10\.99\.7\.2" "2007 \. fd99:8:: \. fd99:7::2"
pc_expect timeout pc_probe peer tcp 10.99.8.1 2007
pc_expect timeout pc_probe peer tcp fd99:8::1 2007
same_as_files "toward a network, deleted"
pcd_stop

# Denies toward networks: rules of one verdict toward a /24 and the /16
# around it in turn are one run too (every lookup drops, so they commute
# however the networks nest). A deny of the CLI's after the run joins it
# as an element alone and closes its port toward that network alone (the
# /16 holds 10.99.8.1, the /24 not), status counts it, and its delete
# opens it again.
pc_log "shape: denies toward networks"
rm -f "$PC_TMP"/etc/rules.d/*.rules
seq 1500 | awk '{ printf "deny %d/tcp from 10.%d.%d.0/24 to %s\n", 10000 + $1, int($1 / 256), $1 % 256,
		  $1 % 2 ? "10.99.7.0/24" : "10.99.0.0/16" }' >"$PC_TMP/etc/rules.d/10-bulk.rules"
printf 'allow 2008/tcp\nallow 2009/tcp\n' >"$PC_TMP/etc/rules.d/95-late.rules"
pcd_start
[ "$(blocks)" -eq 0 ] || pc_fail "denies toward networks: in blocks, not a run"
pc_expect open pc_probe peer tcp 10.99.8.1 2008
one deny 2008/tcp from 10.99.7.2 to 10.99.0.0/16
element_alone "deny 2008/tcp toward the /16" "2008 \. 10\.99\.0\.0 \. 10\.99\.7\.2"
pc_expect timeout pc_probe peer tcp 10.99.8.1 2008
pc_expect timeout pc_probe peer tcp 10.99.7.1 2008
pc_expect open pc_probe peer tcp fd99:7::1 2008
one deny 2009/tcp from 10.99.7.2 to 10.99.7.0/24
element_alone "deny 2009/tcp toward the /24" "2009 \. 10\.99\.7\.0 \. 10\.99\.7\.2"
pc_expect timeout pc_probe peer tcp 10.99.7.1 2009
pc_expect open pc_probe peer tcp 10.99.8.1 2009
[ "$(pcd_rule_field 'deny 2008/tcp from 10.99.7.2 to 10.99.0.0/16' packets)" -gt 0 ] ||
	pc_fail "denies toward networks: status counts no packet for the rule"
one delete deny 2008/tcp from 10.99.7.2 to 10.99.0.0/16
element_alone "delete deny 2008/tcp toward the /16" "2008 \. 10\.99\.0\.0 \. 10\.99\.7\.2"
pc_expect open pc_probe peer tcp 10.99.8.1 2008
same_as_files "denies toward networks"
one delete deny 2009/tcp from 10.99.7.2 to 10.99.7.0/24
pc_expect open pc_probe peer tcp 10.99.7.1 2009
pcd_stop
pc_in peer ip route del 10.99.8.0/24 dev vp
pc_in peer ip route del fd99:8::/64 dev vp
pc_in host ip addr del 10.99.8.1/24 dev vh
pc_in host ip addr del fd99:8::1/64 dev vh

# A block list written as rules: a "deny from" appended to the CLI's file
# joins the list's run, so it is the run's set elements alone, IPv4 and
# IPv6, and so is its delete (the last of the run taken out); the traffic
# and a reload and a restart agree.
pc_log "shape: a block list written as rules"
rm -f "$PC_TMP"/etc/rules.d/*.rules "$PC_TMP"/state/bans.*
{
	seq 1500 | awk '{ printf "deny from 10.200.%d.%d\n", int($1 / 256), $1 % 256 }'
	seq 100 | awk '{ printf "deny from fd99:200::%x\n", $1 }'
} >"$PC_TMP/etc/rules.d/10-bulk.rules"
elements_only() {
	grep -Ev '^(# new generation|(add|delete) element inet portctl )' "$PC_TMP/monitor" |
		grep -q . && pc_fail "$1: not elements alone: $(cat "$PC_TMP/monitor")"
	grep -q "$2" "$PC_TMP/monitor" || pc_fail "$1: $2 not sent: $(cat "$PC_TMP/monitor")"
	pc_log "ok: $1: elements alone"
}
pcd_start
pc_expect open pc_probe peer tcp 10.99.7.1 22
one deny from 10.99.7.2
elements_only "deny from, IPv4" "10.99.7.2"
pc_expect timeout pc_probe peer tcp 10.99.7.1 22
one deny from fd99:7::2
elements_only "deny from, IPv6" "fd99:7::2"
pc_expect timeout pc_probe peer tcp fd99:7::1 22
same_as_files "block list, denied"
pcd_stop
pc_monitor_start host "$PC_TMP/monitor"
pcd_start
pc_monitor_stop
grep -E '^(add|insert|delete) (rule|element|set|chain) ' "$PC_TMP/monitor" | grep -q . &&
	pc_fail "block list: the restart changed the table: $(head -c 2000 "$PC_TMP/monitor")"
one delete deny from fd99:7::2
elements_only "delete deny from, IPv6" "fd99:7::2"
one delete deny from 10.99.7.2
elements_only "delete deny from, IPv4" "10.99.7.2"
pc_expect open pc_probe peer tcp 10.99.7.1 22
pc_expect open pc_probe peer tcp fd99:7::1 22
same_as_files "block list, deleted"
# Its first networks (the list has hosts alone): elements alone too, a
# big run having its sets of ranges, empty ones too; and their deletes.
one deny from 10.99.7.0/28
elements_only "deny from a first network, IPv4" "10.99.7.0/28"
pc_expect timeout pc_probe peer tcp 10.99.7.1 22
one deny from fd99:7::/64
elements_only "deny from a first network, IPv6" "fd99:7::/64"
pc_expect timeout pc_probe peer tcp fd99:7::1 22
same_as_files "block list, networks denied"
one delete deny from 10.99.7.0/28
elements_only "delete deny from a first network, IPv4" "10.99.7.0/28"
one delete deny from fd99:7::/64
elements_only "delete deny from a first network, IPv6" "fd99:7::/64"
pc_expect open pc_probe peer tcp 10.99.7.1 22
pc_expect open pc_probe peer tcp fd99:7::1 22
same_as_files "block list, networks deleted"
pcd_stop

# SSH from many hosts: address rules of one port in a row are one address
# run scoped to that port. A host added to it (or taken out) is set
# elements alone; it opens that port to the host and no other.
pc_log "shape: one port from many hosts"
rm -f "$PC_TMP"/etc/rules.d/*.rules "$PC_TMP"/state/bans.*
seq 1500 | awk '{ printf "allow 2011/tcp from 10.200.%d.%d\n", int($1 / 256), $1 % 256 }' \
	>"$PC_TMP/etc/rules.d/10-bulk.rules"
pc_listen host tcp:2011 tcp:2012
pcd_start
pc_expect timeout pc_probe peer tcp 10.99.7.1 2011
one allow 2011/tcp from 10.99.7.2
elements_only "allow 2011/tcp from a host" "10.99.7.2"
pc_expect open pc_probe peer tcp 10.99.7.1 2011
pc_expect timeout pc_probe peer tcp 10.99.7.1 2012
same_as_files "one port from many hosts, added"
pcd_stop
pc_monitor_start host "$PC_TMP/monitor"
pcd_start
pc_monitor_stop
grep -E '^(add|insert|delete) (rule|element|set|chain) ' "$PC_TMP/monitor" | grep -q . &&
	pc_fail "one port from many hosts: the restart changed the table: $(head -c 2000 "$PC_TMP/monitor")"
pc_expect open pc_probe peer tcp 10.99.7.1 2011
one delete allow 2011/tcp from 10.99.7.2
elements_only "delete allow 2011/tcp from a host" "10.99.7.2"
pc_expect timeout pc_probe peer tcp 10.99.7.1 2011
same_as_files "one port from many hosts, deleted"
# The run's first network and first IPv6 address (it has IPv4 hosts
# alone): elements alone, its usual sets being there, empty ones too.
one allow 2011/tcp from 10.99.7.0/24
elements_only "allow 2011/tcp from a first network" "tcp \. 2011 \. 10\.99\.7\.0 "
pc_expect open pc_probe peer tcp 10.99.7.1 2011
# A host that the network's rule before it holds whole adds no element:
# written, no transaction; nor for its delete.
transactions 0 "allow 2011/tcp from a host its network's rule holds" \
	pcd_as_member allow 2011/tcp from 10.99.7.2
grep -qx 'allow 2011/tcp from 10.99.7.2' "$PC_TMP/etc/rules.d/90-portctl.rules" ||
	pc_fail "a rule held whole by the one before it: not written"
same_as_files "one port from many hosts, a host its network holds"
transactions 0 "delete allow 2011/tcp from a host its network's rule holds" \
	pcd_as_member delete allow 2011/tcp from 10.99.7.2
# A misspelt zone or service (each change's names are looked up alone):
# refused with a hint, nothing sent, nothing written.
refused "allow in a misspelt zone" "unknown zone 'dmzz'" pcd_as_member allow 2012/tcp zone dmzz
refused "allow of a misspelt service" "did you mean 'https'?" pcd_as_member allow htps
refused "a ban in a misspelt zone" "did you mean 'dmz'?" pcd_as_member ban 10.9.9.9 --zone dmzz
one allow 2011/tcp from fd99:7::2
elements_only "allow 2011/tcp from a first IPv6 host" "tcp \. 2011 \. fd99:7::2 "
pc_expect open pc_probe peer tcp fd99:7::1 2011
same_as_files "one port from many hosts, first network and IPv6"
one delete allow 2011/tcp from 10.99.7.0/24
elements_only "delete allow 2011/tcp from a first network" "tcp \. 2011 \. 10\.99\.7\.0 "
one delete allow 2011/tcp from fd99:7::2
pc_expect timeout pc_probe peer tcp 10.99.7.1 2011
pc_expect timeout pc_probe peer tcp fd99:7::1 2011
same_as_files "one port from many hosts, first network and IPv6 deleted"
pcd_stop

# Rules of one port each from hosts and networks (a service per client):
# one run of ports, per port its addresses as elements of proto . port .
# address sets by prefix length. A rule of a new port and a host, and its
# delete, are elements alone, in place; the port opens to that host only.
pc_log "shape: ports from many hosts"
rm -f "$PC_TMP"/etc/rules.d/*.rules "$PC_TMP"/state/bans.*
seq 1500 | awk '{ printf "allow %d/tcp from 10.%d.%d.0/24\n", 10000 + $1, 100 + int($1 / 256), $1 % 256;
		  if ($1 % 100 == 0) printf "deny %d/tcp from 10.99.7.0/24\n", 10000 + $1 }' \
	>"$PC_TMP/etc/rules.d/10-bulk.rules"
# Outbound, by destination: a run of ports of its own, long enough that
# its file names it (the CLI's rule after it leaves its sets as they are).
{ printf 'deny out 2060/tcp to 10.99.7.2\ndeny out 2061/tcp to 10.99.7.0/24, fd99:7::/64\n'
  seq 100 | awk '{ printf "deny out %d/tcp to 10.98.0.%d\n", 3000 + $1, $1 }'
} >"$PC_TMP/etc/rules.d/20-out.rules"
pc_listen host tcp:2041 tcp:2042 tcp:2043 udp:2043 tcp:2044
pc_listen peer tcp:2060 tcp:2061 tcp:2062
: >"$PC_TMP/portctld.log"
pcd_start
# Promise 5: the packet path stays O(1) -- 1,500 rules of a port and a
# network are a few kernel rules (a set each per prefix length and verdict).
n=$(pc_in host nft list chain inet portctl in_public | grep -c .)
[ "$n" -lt 60 ] || pc_fail "1,500 rules of a port and a source made $n lines of in_public"
pc_expect timeout pc_probe peer tcp 10.99.7.1 2041
one allow 2041/tcp from 10.99.7.2
elements_only "allow 2041/tcp from a host" "tcp . 2041 . 10.99.7.2"
grep -qF "in place: added allow 2041/tcp from 10.99.7.2" "$PC_TMP/portctld.log" ||
	pc_fail "ports from many hosts: not in place"
pc_expect open pc_probe peer tcp 10.99.7.1 2041
pc_expect timeout pc_probe peer tcp 10.99.7.1 2042
one allow 2042/tcp from fd99:7::2
elements_only "allow 2042/tcp from an IPv6 host" "tcp . 2042 . fd99:7::2"
pc_expect open pc_probe peer tcp fd99:7::1 2042
pc_expect timeout pc_probe peer tcp 10.99.7.1 2042
same_as_files "ports from many hosts, added"
# A rule of two ports over tcp and udp: four elements, in place.
pc_expect timeout pc_probe peer udp 10.99.7.1 2043
one allow 2043,2044 from 10.99.7.2
elements_only "allow 2043,2044 from a host" "udp . 2043 . 10.99.7.2"
pc_expect open pc_probe peer udp 10.99.7.1 2043
pc_expect open pc_probe peer tcp 10.99.7.1 2044
pc_expect open pc_probe peer tcp 10.99.7.1 2043
one delete allow 2043,2044 from 10.99.7.2
pc_expect timeout pc_probe peer udp 10.99.7.1 2043
pc_expect timeout pc_probe peer tcp 10.99.7.1 2044
same_as_files "ports from many hosts, two ports over two protocols"
pc_expect timeout pc_probe host tcp 10.99.7.2 2060
pc_expect timeout pc_probe host tcp fd99:7::2 2061
pc_expect open pc_probe host tcp 10.99.7.2 2062
one deny out 2062/tcp to 10.99.7.2
elements_only "deny out 2062/tcp to a host" "tcp . 2062 . 10.99.7.2"
pc_expect timeout pc_probe host tcp 10.99.7.2 2062
pc_expect open pc_probe host tcp fd99:7::2 2062
same_as_files "ports to many hosts, added"
one delete allow 2041/tcp from 10.99.7.2
elements_only "delete allow 2041/tcp from a host" "tcp . 2041 . 10.99.7.2"
grep -qF "in place: deleted allow 2041/tcp from 10.99.7.2" "$PC_TMP/portctld.log" ||
	pc_fail "ports from many hosts: the delete not in place"
pc_expect timeout pc_probe peer tcp 10.99.7.1 2041
pc_expect open pc_probe peer tcp fd99:7::1 2042
same_as_files "ports from many hosts, deleted"
pcd_stop

# A rule of a port and a source next to a lone one: the two become a run
# of ports in place (the lone one's kernel rules go, the run's sets come),
# and a delete leaves a rule of its own again, in place.
pc_log "shape: a lone rule of a port and a source, then a second"
rm -f "$PC_TMP"/etc/rules.d/*.rules "$PC_TMP"/state/bans.*
bulk >"$PC_TMP/etc/rules.d/10-bulk.rules"
pc_listen host tcp:2051 tcp:2052
: >"$PC_TMP/portctld.log"
pcd_start
one allow 2051/tcp from 10.99.7.2
one allow 2052/tcp from 10.99.7.2
grep -qF "in place: added allow 2052/tcp from 10.99.7.2" "$PC_TMP/portctld.log" ||
	pc_fail "the second rule of a port and a source: not in place"
pc_expect open pc_probe peer tcp 10.99.7.1 2051
pc_expect open pc_probe peer tcp 10.99.7.1 2052
same_as_files "a lone rule of a port and a source, joined"
one delete allow 2051/tcp from 10.99.7.2
grep -qF "in place: deleted allow 2051/tcp from 10.99.7.2" "$PC_TMP/portctld.log" ||
	pc_fail "the delete that leaves one alone: not in place"
pc_expect timeout pc_probe peer tcp 10.99.7.1 2051
pc_expect open pc_probe peer tcp 10.99.7.1 2052
same_as_files "a rule of a port and a source alone again"
pcd_stop

# A rule of several zones with an entry of its own: its entry goes into each
# zone's chain, in place, one transaction; traffic of the zone it names.
pc_log "shape: a rule of several zones"
rm -f "$PC_TMP"/etc/rules.d/*.rules "$PC_TMP"/state/bans.*
{ echo "zone lan interface nolan0"; bulk; } >"$PC_TMP/etc/rules.d/10-bulk.rules"
pc_listen host tcp:2031
: >"$PC_TMP/portctld.log"
pcd_start
one allow 2031/tcp from 10.99.7.2 zone public,lan
grep -qF "in place: added allow 2031/tcp from 10.99.7.2 zone public,lan" "$PC_TMP/portctld.log" ||
	pc_fail "a rule of several zones: not in place"
pc_expect open pc_probe peer tcp 10.99.7.1 2031
same_as_files "a rule of several zones, added"
one delete allow 2031/tcp from 10.99.7.2 zone public,lan
pc_expect timeout pc_probe peer tcp 10.99.7.1 2031
same_as_files "a rule of several zones, deleted"
pcd_stop

# The array of rules fills up as rules are added: it grows under the plan
# and ruleset in force (their pointers follow), and the changes go on in
# place, each one transaction, and what the files give. Few rules, so that
# a hundred or so changes fill it; no 90-portctl.rules, so that the first
# change makes it.
pc_log "shape: few rules, the array of rules grows"
rm -f "$PC_TMP"/etc/rules.d/*.rules "$PC_TMP"/state/bans.*
pc_config_write portctl.conf "socket-group = $PCD_GROUP" "socket-mode = 0666" "log-level = debug"
: >"$PC_TMP/portctld.log"
pcd_start
# Until the array grew (a file is read with some room to spare), and a few
# more after it.
i=0 grown=
while [ -z "$grown" ] || [ $i -lt $((grown + 5)) ]; do
	[ $i -lt 1000 ] || pc_fail "1000 rules added and the array did not grow"
	one allow $((3000 + i))/tcp
	i=$((i + 1))
	if [ $i -eq 1 ]; then
		# Traffic counted by the first rule, to outlive the growth.
		pc_listen host tcp:3000
		pc_expect open pc_probe peer tcp 10.99.7.1 3000
		p3000=$(pcd_rule_field 'allow 3000/tcp' packets)
		[ "$p3000" -gt 0 ] || pc_fail "allow 3000/tcp counted nothing"
	fi
	[ -z "$grown" ] && grep -q "in place: room for" "$PC_TMP/portctld.log" && grown=$i
done
pc_log "the array grew at change $grown"
[ "$(pcd_rule_field 'allow 3000/tcp' packets)" = "$p3000" ] ||
	pc_fail "the first rule's counter changed as the array grew: $p3000 -> $(pcd_rule_field 'allow 3000/tcp' packets)"
# The first of them made 90-portctl.rules, in place too.
grep -q "in place: .*/90-portctl.rules made" "$PC_TMP/portctld.log" ||
	pc_fail "the first change did not make 90-portctl.rules in place"
[ "$(head -1 "$PC_TMP/etc/rules.d/90-portctl.rules")" = "allow 3000/tcp" ] ||
	pc_fail "90-portctl.rules does not start with the first change"
one insert 1 allow 2001/tcp
pc_expect open pc_probe peer tcp 10.99.7.1 2001
pc_listen host tcp:$((3000 + i - 1))
pc_expect open pc_probe peer tcp 10.99.7.1 $((3000 + i - 1))
same_as_files "the rules grown"
pcd_stop
exit 0
