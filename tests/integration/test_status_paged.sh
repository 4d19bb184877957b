#!/bin/sh
# A big read does not hold portctld: with 50,000 rules, `status --json`
# and `metrics` are read a page at a time (each page one request), and
# another client's `allow` is served while such a read is under way (the
# reader stopped between two of its pages). The reader then starts again
# from its first page, the configuration having changed, and prints every
# rule once, in order, the new one included; plain status shows a page;
# export is read in pages too.
# A page's counters are read alone: the peer's packets, dropped by one host
# of the big address map, count for that host's rule, not the map's first.
# Bans alone (ban, unban) do not make status's index of the rules' counters
# again; a rule's change does.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon-lib.sh"
pc_require
pcd_setup
N=50000
pc_config_write portctl.conf "socket-group = $PCD_GROUP" "socket-mode = 0666" "log-level = debug"
awk -v n="$N" 'BEGIN { for (i = 1; i <= n; i++)
	printf "deny from 10.%d.%d.%d\n", int(i / 65536), int(i / 256) % 256, i % 256 }' \
	>"$PC_TMP/etc/rules.d/10-bulk.rules"
echo "deny from 10.99.7.2" >>"$PC_TMP/etc/rules.d/10-bulk.rules"
N=$((N + 1))
pcd_start
pc_listen host tcp:1500
LOG="$PC_TMP/portctld.log"
pctl() { "$PCD_PORTCTL" -s "$PCD_SOCK" "$@"; }
# requests PID CMD: how many CMD requests portctld took from PID.
requests() { grep -c "pid $1: $2\$" "$LOG" || true; }

pc_expect timeout pc_probe peer tcp 10.99.7.1 1500
n=$(pcd_rule_field "deny from 10.99.7.2" packets)
[ "${n:-0}" -gt 0 ] || pc_fail "'deny from 10.99.7.2' counted '$n'"
n=$(pcd_rule_field "deny from 10.0.0.1" packets)
[ "$n" = 0 ] || pc_fail "'deny from 10.0.0.1' counted '$n', it decides nothing here"
n=$("$PCD_PORTCTL" -s "$PCD_SOCK" --json status --offset "$((N - 1))" --limit 1 |
	python3 -c 'import json, sys; r = json.load(sys.stdin)["data"]["rules"][0]; print(r["text"], r["packets"])')
case $n in "deny from 10.99.7.2 "[1-9]*) ;; *) pc_fail "its page alone says '$n'" ;; esac

# What one request answers is a page, whatever the client asks for.
total=$(pctl status --json --limit 1 | python3 -c 'import json, sys; print(json.load(sys.stdin)["data"]["rules_total"])')
[ "$total" -gt "$N" ] || pc_fail "status says $total rules, expected more than $N"

for cmd in "status --json" metrics; do
	verb=${cmd%% *}
	# Not through pctl: a backgrounded function is a subshell of another pid.
	"$PCD_PORTCTL" -s "$PCD_SOCK" $cmd >"$PC_TMP/big.out" &
	big=$!
	# Stopped as soon as its first request is in: it has more to ask for.
	tries=2000
	while [ "$(requests "$big" "$verb")" -eq 0 ]; do
		kill -0 "$big" 2>/dev/null || break
		tries=$((tries - 1))
		[ "$tries" -gt 0 ] || pc_fail "$cmd: no request from pid $big in the log"
		sleep 0.005
	done
	kill -STOP "$big" || { tail -5 "$LOG"; pc_fail "$cmd ended before it could be stopped"; }
	before=$(requests "$big" "$verb")
	# Another client, served while the big read is under way.
	port=$((4000 + ${#verb}))
	pctl allow "$port/tcp" >/dev/null || pc_fail "allow $port/tcp while '$cmd' was under way"
	kill -0 "$big" || pc_fail "$cmd did not wait"
	kill -CONT "$big"
	wait "$big" || pc_fail "$cmd failed"
	after=$(requests "$big" "$verb")
	[ "$after" -gt "$before" ] ||
		pc_fail "$cmd: $before requests before the allow, $after in all: not read in pages"
	pcd_log "$cmd: $after requests, the allow served after request $before"
	case $cmd in
	status*)
		python3 - "$PC_TMP/big.out" "$port" <<'PY' || pc_fail "status --json is not whole"
import json, sys
d = json.load(open(sys.argv[1]))["data"]
rules = d["rules"]
assert len(rules) == d["rules_total"], (len(rules), d["rules_total"])
assert [r["number"] for r in rules] == list(range(1, len(rules) + 1))
assert any(r["text"] == "allow %s/tcp" % sys.argv[2] for r in rules), "the new rule is missing"
PY
		;;
	metrics)
		n=$(grep -c '^portctl_rule_packets_total{' "$PC_TMP/big.out")
		[ "$n" -eq $((total + 2)) ] || pc_fail "metrics has $n rules, expected $((total + 2))"
		;;
	esac
done

# export too comes a page per request, whole, each rule once.
"$PCD_PORTCTL" -s "$PCD_SOCK" export >"$PC_TMP/export.out" &
big=$!
wait "$big" || pc_fail "export failed"
[ "$(requests "$big" export)" -gt 1 ] || pc_fail "export was not read in pages"
[ "$(grep -c '^deny from' "$PC_TMP/export.out")" -eq "$N" ] || pc_fail "export is not whole"
[ "$(grep -c '^# rules, first match wins' "$PC_TMP/export.out")" -eq 1 ] ||
	pc_fail "export's head is not there once"

# Plain status: a page, and says how to see the others.
pctl status >"$PC_TMP/plain.out"
grep -q "rules 1-1000 of $((total + 2)):" "$PC_TMP/plain.out" || pc_fail "plain status is not a page"
[ "$(pctl status --all | grep -c '^deny from')" -eq "$N" ] || pc_fail "status --all is not whole"
pcd_log "bans alone keep the index of the rules' counters: no status remakes it after them"
# made: how many times status made its index of the rules' kernel objects.
made() { grep -c "the index of [0-9]* rules' counters made again" "$LOG" || true; }
pctl status >/dev/null
m0=$(made)
pctl ban 192.0.2.7 >/dev/null || pc_fail "ban 192.0.2.7"
pctl ban 2001:db8::7 --timeout 600 >/dev/null || pc_fail "ban 2001:db8::7"
pctl status >/dev/null
pctl unban 192.0.2.7 >/dev/null || pc_fail "unban 192.0.2.7"
before=$(pcd_rule_field "deny from 10.99.7.2" packets)
pc_expect timeout pc_probe peer tcp 10.99.7.1 1500
after=$(pcd_rule_field "deny from 10.99.7.2" packets)
[ "$(made)" -eq "$m0" ] || pc_fail "a status after bans made the index again ($m0 -> $(made))"
[ "$after" -gt "$before" ] || pc_fail "after the bans, 'deny from 10.99.7.2' counts $before -> $after"
# Nor do they start a paged read again: metrics and status --json come
# whole while bans keep coming (fail2ban under attack), however long the
# reading takes.
(i=0; while :; do i=$((i + 1)); pctl ban "198.18.$((i / 256 % 256)).$((i % 256))" >/dev/null || exit 1; done) &
banner=$!
PC_PIDS="$PC_PIDS $banner"
for cmd in metrics "status --json"; do
	bans0=$(grep -c ": banned " "$LOG" || true)
	"$PCD_PORTCTL" -s "$PCD_SOCK" $cmd >"$PC_TMP/big.out" 2>"$PC_TMP/big.err" ||
		{ kill "$banner"; pc_fail "$cmd while bans kept coming: $(cat "$PC_TMP/big.err")"; }
	pcd_log "$cmd: whole, $(($(grep -c ": banned " "$LOG" || true) - bans0)) bans made meanwhile"
done
kill "$banner"
wait "$banner" 2>/dev/null
# A rule's change does.
pctl allow 4100/tcp >/dev/null || pc_fail "allow 4100/tcp"
pctl status >/dev/null
[ "$(made)" -eq $((m0 + 1)) ] || pc_fail "the status after an allow did not make the index again"
pc_log "ok"
