#!/bin/sh
# A zone of many small runs: port rules and address rules in turn, 300 of
# them in the CLI's file, each its own run. The zone chain is cut into
# blocks, and a run of fewer than 16 rules of a file of more than 64 such
# runs has no sets: its rules are kernel rules of their own (a set per
# small run would make thousands, which the kernel loads in quadratic
# time). Real traffic reaches them and status counts it at each rule (also
# at each of two rules of one comment); changes are made in place, one
# transaction each, also the one that makes the run of the CLI's port rules
# 16 long, a run with sets, and the delete that makes it small again, with
# every counter kept (also of two rules of one comment: each to its own
# element, and back), and a delete whose neighbours become one run (of
# addresses, of ports); a reload of the same files and a restart change
# nothing. The same runs in a file before the CLI's, which keeps a few:
# the CLI's keep their sets, and a rule added there is an element.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon-lib.sh"
pc_require
pcd_setup
pc_config_write portctl.conf "socket-group = $PCD_GROUP" "socket-mode = 0666" "log-level = debug"

RULES90="$PC_TMP/etc/rules.d/90-portctl.rules"
# No default rules: the CLI's last run is the file's, not one with allow ssh.
: >"$PC_TMP/etc/defaults.rules"
P() { pcd_as_member "$@" >"$PC_TMP/out" 2>&1 || pc_fail "portctl $*: $(cat "$PC_TMP/out")"; }
sets() { pc_in host nft list table inet portctl | grep -c '^	set '; }
# One connection to each port from the peer, each let in (refused:
# nothing listens there).
hit() {
	for port in "$@"; do
		pc_expect refused pc_probe peer tcp 10.99.7.1 "$port"
	done
}
# The CLI's rules of 7001 and 7002 have one comment.
text_of() {
	case $1 in
	7001 | 7002) echo "allow $1/tcp comment \"w\"" ;;
	*) echo "allow $1/tcp" ;;
	esac
}
# counted PORT: the packets status gives the rule of PORT.
counted() { pcd_rule_field "$(text_of "$1")" packets; }
# restart_sends_nothing PORT N: a restart changes nothing in the table,
# and PORT's rule still counts N packets or more.
restart_sends_nothing() {
	pcd_stop
	pc_monitor_start host "$PC_TMP/monitor"
	pcd_start
	pc_monitor_stop
	grep -E '^(add|insert|delete) (rule|element|set|chain) ' "$PC_TMP/monitor" | grep -q . &&
		pc_fail "the restart changed the table: $(head -c 2000 "$PC_TMP/monitor")"
	[ "$(counted "$1")" -ge "$2" ] || pc_fail "the rule of $1 lost its count over the restart"
}

{
	seq 300 | awk '{ if ($1 % 2) printf "allow %d/tcp\n", 6000 + $1;
			 else printf "deny from 10.50.%d.%d\n", int($1 / 256), $1 % 256 }'
	# A small run of two rules with one comment: each counts its own.
	echo 'allow 6401/tcp comment "web"'
	echo 'allow 6402/tcp comment "web"'
} >"$RULES90"
pcd_start
n_sets=$(sets)
[ "$n_sets" -lt 40 ] || pc_fail "300 rules in small runs made $n_sets sets"
pc_in host nft list table inet portctl | grep -q "chain in_public_B" || pc_fail "no blocks"
pc_log "ok: 300 rules in small runs: $n_sets sets, blocks"
hit 6001 6151 6299
pc_expect timeout pc_probe peer tcp 10.99.7.1 6002 300
for port in 6001 6151 6299; do
	[ "$(counted $port)" -ge 1 ] || pc_fail "allow $port/tcp counted $(counted $port)"
done
[ "$(counted 6003)" -eq 0 ] || pc_fail "allow 6003/tcp counted another rule's packets"
hit 6402
web1=$(pcd_rule_field 'allow 6401/tcp comment "web"' packets)
web2=$(pcd_rule_field 'allow 6402/tcp comment "web"' packets)
[ "$web1" -eq 0 ] && [ "$web2" -ge 1 ] ||
	pc_fail "two rules of one comment: 6401 counted $web1, 6402 $web2 (6402 was hit)"
pc_log "ok: traffic let in, counted at its rule"

# Port rules of the CLI's after them (and after the file's last two): a
# small run of the file, each rule in place, no set.
ports=$(seq 7001 7012)
# shellcheck disable=SC2046
for port in $ports; do pcd_in_place $(text_of "$port" | tr -d '"'); done
[ "$(sets)" -eq "$n_sets" ] || pc_fail "12 port rules made sets: $(sets), not $n_sets"
hit $ports 7002
before=$(for port in $ports; do counted "$port"; done | tr '\n' ' ')
# Up to 16 rules in the run: it gets its sets, its rules' counters carried
# to their elements.
last=7012
while [ "$(sets)" -eq "$n_sets" ]; do
	last=$((last + 1))
	[ "$last" -le 7016 ] || pc_fail "16 rules in a run and no sets"
	pcd_in_place allow "$last/tcp"
done
pc_in host nft list table inet portctl | grep -q "tcp \. $last counter" ||
	pc_fail "$last is no set element"
after=$(for port in $ports; do counted "$port"; done | tr '\n' ' ')
[ "$before" = "$after" ] || pc_fail "counters of the run made with sets: $before -> $after"
hit "$last" 7001
pc_log "ok: the run made with sets in place at $last, counters kept ($after)"
before=$(for port in $ports; do counted "$port"; done | tr '\n' ' ')
pcd_in_place delete allow "$last/tcp"
[ "$(sets)" -eq "$n_sets" ] || pc_fail "the run made small kept its sets: $(sets)"
after=$(for port in $ports; do counted "$port"; done | tr '\n' ' ')
[ "$before" = "$after" ] || pc_fail "counters of the run made small: $before -> $after"
pc_expect timeout pc_probe peer tcp 10.99.7.1 "$last" 300
hit 7001 7012
pc_log "ok: small again, rules of their own in place, counters kept"
# Deletes whose neighbours become one run: of addresses (the port rule
# between two deny rules) and of ports (the deny rule between two allow
# rules), each in place, the neighbours' counters kept.
hit 6099 6101 6199 6201
before=$(for port in 6099 6199 6201; do counted "$port"; done | tr '\n' ' ')
pcd_in_place delete allow 6101/tcp
pcd_in_place delete deny from 10.50.0.200
after=$(for port in 6099 6199 6201; do counted "$port"; done | tr '\n' ' ')
[ "$before" = "$after" ] || pc_fail "counters of the runs joined: $before -> $after"
pc_expect timeout pc_probe peer tcp 10.99.7.1 6101 300
hit 6199 6201
pc_in host nft list table inet portctl >"$PC_TMP/table"
grep -q '10\.50\.0\.200' "$PC_TMP/table" && pc_fail "deny from 10.50.0.200 still in force"
grep -q '10\.50\.0\.100' "$PC_TMP/table" && grep -q '10\.50\.0\.102' "$PC_TMP/table" ||
	pc_fail "the deny rules around 6101 went with it"
pc_log "ok: runs joined by a delete between them, in place"
# A rule among the file's small runs, through a reload: one transaction.
sed -i 's|^allow 6151/tcp$|allow 6151/tcp\nallow 6152/tcp|' "$RULES90"
pc_monitor_start host "$PC_TMP/monitor"
P reload
pc_monitor_stop
[ "$(grep -c "^# new generation .*(portctld)" "$PC_TMP/monitor")" -eq 1 ] ||
	pc_fail "the reload: $(head -c 2000 "$PC_TMP/monitor")"
hit 6152 6151
# The same files again: nothing to send.
pc_monitor_start host "$PC_TMP/monitor"
P reload
pc_monitor_stop
grep -q "^# new generation .*(portctld)" "$PC_TMP/monitor" &&
	pc_fail "a reload that changes nothing: $(head -c 2000 "$PC_TMP/monitor")"
# A restart finds the kernel as the files say: nothing sent (but the
# table's ownership, taken again).
restart_sends_nothing 6151 2
pcd_stop

# The same small runs in a file before the CLI's, which keeps its port
# rules: the file's are by rule, the CLI's few keep their sets, and a rule
# added there is an element, not a kernel rule.
grep -vE '^allow 70[0-9][0-9]/tcp' "$RULES90" >"$PC_TMP/etc/rules.d/10-mix.rules"
grep -E '^allow 70[0-9][0-9]/tcp' "$RULES90" >"$PC_TMP/rules90" && mv "$PC_TMP/rules90" "$RULES90"
pcd_start
pcd_by_rule "10-mix.rules:$(grep -nx 'allow 6151/tcp' "$PC_TMP/etc/rules.d/10-mix.rules" | cut -d: -f1)"
pc_in host nft list table inet portctl | grep -q "tcp \. 7001 counter" ||
	pc_fail "the CLI's run after a file of small runs has no sets"
pcd_in_place allow 7100/tcp
pc_in host nft list table inet portctl >"$PC_TMP/table"
grep -q "tcp \. 7100 counter" "$PC_TMP/table" || pc_fail "allow 7100/tcp is no element"
grep -q "dport 7100 " "$PC_TMP/table" && pc_fail "allow 7100/tcp is a kernel rule"
hit 7100 6151
# Both lowerings in one zone, read back at a restart: nothing sent.
restart_sends_nothing 7100 1
pcd_stop
pc_log "PASS"
