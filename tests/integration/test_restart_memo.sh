#!/bin/sh
# A restart that does not read the table back: a clean stop leaves a memo
# of what the kernel holds (STATE/table-memo: a digest of the table, its
# rules' handles, the generation, the boot and network namespace), and the
# next start builds on it when nobody committed since and the files compile
# to the same table. With two zones, port and address rules, a limit and a
# logged rule, bans with and without a timeout, and changes made in place
# before the stop: the start claims the table in one transaction of its
# flags, every rule keeps its handle (and counter), and the changes after it
# delete the rules they mean; a second portctld, refused, leaves it alone.
# In a PID namespace, in panic mode and without the table's ownership
# (nothing sent) too. Anything committed
# while portctld was stopped (to its table or to another), files changed, a
# crash, a damaged memo: the table is read back, and holds what the files
# say.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon-lib.sh"
pc_require
command -v pgrep >/dev/null || pc_skip "needs pgrep"
pcd_setup

LOG="$PC_TMP/portctld.log"
MON="$PC_TMP/monitor"
MEMO="$PC_TMP/state/table-memo"

P() {
	"$PCD_PORTCTL" -s "$PCD_SOCK" "$@" >/dev/null || pc_fail "portctl $*"
}

pc_config_write portctl.conf "socket-group = $PCD_GROUP" "socket-mode = 0666" "log-level = debug"
pc_config_write 10-base.rules 'limit 22/tcp' 'allow 80/tcp' 'allow 443/tcp log' \
	'allow 5000/tcp from 10.99.7.2' 'deny from 10.99.8.0/24' 'allow 8080/tcp' \
	'deny from 10.99.9.5' 'allow 6000/tcp zone internal'
pc_config_write 20-other.rules 'allow 9000/tcp'

# The table's rules with their handles, and its objects, as the kernel
# lists them (counters left out: traffic moves them).
table_listed() {
	pc_in host nft -a list table inet portctl |
		sed 's/counter packets [0-9]* bytes [0-9]*/counter/; s/ expires [0-9dhms]*//' ||
		pc_fail "nft list table"
}

# What portctld's generations in the monitor window did, one event a line.
events_by_portctld() {
	awk '/^# new generation/ { if ($0 ~ /\(portctld\)$/) printf "%s", block; block = ""; next }
	     { block = block $0 "\n" }' "$MON"
}

gens_all() {
	grep -c "^# new generation" "$MON"
}

# restart WHAT: a clean stop, then a start under the monitor, its log alone.
restart() {
	pcd_stop
	[ -f "$MEMO" ] || pc_fail "$1: no memo left at the stop"
	start_watched "$1"
}

start_watched() {
	: >"$LOG"
	pc_monitor_start host "$MON"
	pcd_start
	pc_monitor_stop
	pcd_log "$1: $(gens_all) generation(s); $(grep -i "memo\|read back" "$LOG" | head -1)"
}

read_back_skipped() {
	grep -q "holds what portctld left at its stop: not read back" "$LOG"
}

# The start built on the memo: one transaction, the table's flags alone,
# every rule with its handle as before.
memo_used() {
	read_back_skipped || pc_fail "$1: the table was read back: $(cat "$LOG")"
	[ "$(gens_all)" -eq 1 ] || pc_fail "$1: expected one transaction: $(cat "$MON")"
	events_by_portctld | grep -q "rule\|element\|chain\|set " &&
		pc_fail "$1: the claim sent more than the table: $(events_by_portctld | head -5)"
	table_listed >"$PC_TMP/after"
	diff "$PC_TMP/before" "$PC_TMP/after" >&2 || pc_fail "$1: the table changed"
	[ ! -e "$MEMO" ] || pc_fail "$1: the memo is still there while portctld runs"
}

# Not used, and why; the table holds what the files say.
memo_not_used() {
	read_back_skipped && pc_fail "$1: built on a memo it should not have"
	grep -q "$2" "$LOG" || pc_fail "$1: not '$2': $(cat "$LOG")"
	"$PCD_PORTCTL" -s "$PCD_SOCK" diff >/dev/null || pc_fail "$1: the table differs"
}

pcd_start
for port in 22 80 443 8080; do pc_probe peer tcp 10.99.7.1 "$port" >/dev/null; done
P allow 7000/tcp
P deny from 10.99.10.1
P allow 7001/tcp from 10.99.7.2
P ban 203.0.113.7
P ban 198.51.100.0/24 --timeout 3600
table_listed >"$PC_TMP/before"

pcd_log "a clean stop leaves a memo, the next start builds on it"
restart "same files"
memo_used "a restart"
# shellcheck disable=SC2046
pc_in host "$PC_PORTCTLD" $(pc_portctld_args) --socket "$PCD_SOCK" 2>"$PC_TMP/second.err" &&
	pc_fail "a second portctld started"
grep -q "already running" "$PC_TMP/second.err" || pc_fail "second: $(cat "$PC_TMP/second.err")"
[ ! -e "$MEMO" ] || pc_fail "a second portctld, refused, left a memo"
pcd_stop
[ "$(stat -c %a "$MEMO")" = 600 ] || pc_fail "the memo's mode is $(stat -c %a "$MEMO")"
start_watched "again"
memo_used "a second restart"
pc_in host nft list table inet portctl | grep -q "tcp \. 80 counter packets [1-9]" ||
	pc_fail "the counter of 80/tcp went back"

pcd_log "changes after it delete the rules they mean"
: >"$LOG"
P delete allow 7001/tcp from 10.99.7.2
P delete deny from 10.99.10.1
P insert 10 deny from 10.99.11.1
P unban 203.0.113.7
grep -q "refused the difference" "$LOG" && pc_fail "the kernel refused a difference: $(cat "$LOG")"
"$PCD_PORTCTL" -s "$PCD_SOCK" diff >/dev/null || pc_fail "the table differs after the changes"
pc_expect timeout pc_probe peer tcp 10.99.7.1 7001
pc_expect refused pc_probe peer tcp 10.99.7.1 5000
pc_in host nft list table inet portctl | grep -q "10.99.10.1" && pc_fail "10.99.10.1 still denied"
table_listed >"$PC_TMP/before"

pcd_log "in a PID namespace"
pcd_stop
: >"$LOG"
# shellcheck disable=SC2046
nsenter --net="/run/netns/$(pc_ns host)" unshare --pid --fork --kill-child=TERM \
	"$PC_PORTCTLD" $(pc_portctld_args) --socket "$PCD_SOCK" 2>>"$LOG" &
UNSHARE_PID=$!
PC_PIDS="$PC_PIDS $UNSHARE_PID"
pc_until 5 "$PCD_PORTCTL" -s "$PCD_SOCK" status >/dev/null 2>&1 ||
	pc_fail "portctld in a PID namespace did not start"
PCD_PID=$(pgrep -P "$UNSHARE_PID")
grep -q '^NSpid:.*[[:space:]]1$' "/proc/$PCD_PID/status" || pc_fail "not in a PID namespace"
read_back_skipped || pc_fail "in a PID namespace: the table was read back: $(cat "$LOG")"
kill "$PCD_PID" && wait "$UNSHARE_PID"
PCD_PID=""
[ -f "$MEMO" ] || pc_fail "no memo left by portctld in a PID namespace"
start_watched "after the PID namespace"
memo_used "after the PID namespace"

pcd_log "a rule of ours deleted by hand while stopped: read back, put back"
handle=$(pc_in host nft -a list chain inet portctl in_public |
	sed -n 's/.* dport 5000 .* # handle \([0-9]*\)$/\1/p')
[ -n "$handle" ] || pc_fail "no rule for 5000/tcp"
pcd_stop
pc_in host nft delete rule inet portctl in_public handle "$handle" || pc_fail "nft delete rule"
start_watched "our table changed"
memo_not_used "our table changed" "not used (nftables changed since the stop)"
pc_in host nft list chain inet portctl in_public | grep -q "dport 5000" ||
	pc_fail "the rule deleted by hand is not back"

pcd_log "another program's table committed while stopped: read back, nothing of ours sent"
pcd_stop
pc_in host nft add table inet other || pc_fail "nft add table"
start_watched "another table"
memo_not_used "another table" "not used (nftables changed since the stop)"
events_by_portctld | grep -q "rule\|element\|chain\|set " &&
	pc_fail "sent more than the table's flags: $(events_by_portctld | head -5)"

pcd_log "files changed while stopped: read back, the new rule sent"
pcd_stop
pc_config_write 20-other.rules 'allow 9000/tcp' 'allow 9001/tcp'
start_watched "files changed"
memo_not_used "files changed" "not used (the ruleset compiled now differs"
events_by_portctld | grep -q "9001" || pc_fail "9001/tcp not sent: $(events_by_portctld)"

pcd_log "a crash leaves no memo: read back"
kill -9 "$PCD_PID" && wait "$PCD_PID" 2>/dev/null
PCD_PID=""
[ -e "$MEMO" ] && pc_fail "a memo after a crash"
start_watched "after a crash"
grep -q "memo of the last stop\\|not read back" "$LOG" && pc_fail "a memo after a crash: $(cat "$LOG")"
"$PCD_PORTCTL" -s "$PCD_SOCK" diff >/dev/null || pc_fail "the table differs after a crash"

pcd_log "a damaged memo is ignored: read back"
pcd_stop
sed -i '7s/[0-9]$/&0/' "$MEMO"
start_watched "damaged memo"
memo_not_used "damaged memo" "damaged or another boot's or network namespace's: ignored"
P delete allow 7000/tcp
"$PCD_PORTCTL" -s "$PCD_SOCK" diff >/dev/null || pc_fail "the table differs after a delete"

pcd_log "panic mode across a restart: the panic table's memo, then the rules back"
P panic on
table_listed >"$PC_TMP/before"
restart "in panic mode"
memo_used "in panic mode"
P panic off
grep -q "refused the difference" "$LOG" && pc_fail "panic off: refused: $(cat "$LOG")"
"$PCD_PORTCTL" -s "$PCD_SOCK" diff >/dev/null || pc_fail "the table differs after panic off"
pc_expect refused pc_probe peer tcp 10.99.7.1 80

pcd_log "table-owner = no: a restart on the memo sends nothing"
pc_config_write portctl.conf "socket-group = $PCD_GROUP" "socket-mode = 0666" \
	"log-level = debug" "table-owner = no"
P reload
table_listed >"$PC_TMP/before"
pcd_stop
start_watched "table-owner = no"
read_back_skipped || pc_fail "table-owner = no: the table was read back: $(cat "$LOG")"
[ "$(gens_all)" -eq 0 ] || pc_fail "table-owner = no: committed: $(cat "$MON")"
P delete deny from 10.99.11.1
"$PCD_PORTCTL" -s "$PCD_SOCK" diff >/dev/null || pc_fail "the table differs after a delete"
pcd_log "ok"
