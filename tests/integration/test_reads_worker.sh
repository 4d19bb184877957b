#!/bin/sh
# The reads whose work grows with the configuration do not hold portctld.
# diff (the files compiled, the kernel's table read whole) is answered by a
# child process: with it stopped in the middle, and its client too, another
# client's allow goes through; resumed, it answers in full (the table having
# changed meanwhile is not called drift), and it is reaped. One at a time per unprivileged user: the next is told to retry.
# explain answers from the plan in force: after changes made in place, it
# says what the files, compiled afresh (--offline), say.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon-lib.sh"
pc_require
pcd_setup
N=10000
pc_config_write portctl.conf "socket-group = $PCD_GROUP" "socket-mode = 0666" "log-level = debug"
pc_config_write 10-zones.rules \
	'zone office interface vh source 10.99.0.0/16,fd99:7::/64 policy in reject' \
	'service admin 8443/tcp,9000-9100/udp'
pc_config_write 20-web.rules \
	'allow 22/tcp from 10.99.7.2 zone office' \
	'allow 80,443/tcp comment "web"' \
	'reject 113/tcp' \
	'deny from 203.0.113.7' \
	'deny out 25/tcp'
awk -v n="$N" 'BEGIN { for (i = 1; i <= n; i++)
	printf "deny from 10.%d.%d.%d\n", 100 + int(i / 65536), int(i / 256) % 256, i % 256 }' \
	>"$PC_TMP/etc/rules.d/30-bulk.rules"
pcd_start
LOG="$PC_TMP/portctld.log"
P() { "$PCD_PORTCTL" -c "$PC_TMP/etc" -d "$PC_TMP/share" -s "$PCD_SOCK" "$@"; }
requests() { grep -c "pid $1: $2\$" "$LOG" || true; }
# The daemon's diff workers: "PID STATE" each.
workers() {
	for s in /proc/[0-9]*/stat; do
		read -r pid comm state ppid _ 2>/dev/null <"$s" || continue
		[ "$ppid" = "$PCD_PID" ] && [ "$comm" = "(portctld-read)" ] && echo "$pid $state"
	done
	true
}
# wait_for WHAT CMD...: until CMD succeeds, for 10 s at most.
wait_for() {
	what=$1
	shift
	tries=2000
	until "$@"; do
		tries=$((tries - 1))
		[ "$tries" -gt 0 ] || pc_fail "waited in vain for $what"
		sleep 0.005
	done
}
has_worker() { [ -n "$(workers)" ]; }
requested() { [ "$(requests "$big" diff)" -gt 0 ]; }
no_worker() { [ -z "$(workers)" ]; }

pcd_log "explain after changes in place: the plan in force answers as the files do"
P allow 8080/tcp >/dev/null || pc_fail "allow 8080/tcp"
P deny from 10.99.7.2 >/dev/null || pc_fail "deny from 10.99.7.2"
P insert $((N + 6)) reject 8081/tcp >/dev/null || pc_fail "insert reject 8081/tcp"
P limit 2222/tcp rate 5/minute >/dev/null || pc_fail "limit 2222/tcp"
P delete allow 8080/tcp >/dev/null || pc_fail "delete allow 8080/tcp"
for q in "in tcp 8080" "in tcp 8081" "in tcp 2222" "in tcp 22 from 10.99.7.2 on vh" \
	"in tcp 80 from 10.99.7.2" "in tcp 80 from 10.100.0.9" "in tcp 113" \
	"out tcp 25 to 198.51.100.1" "in udp 9050 on vh" "in icmp from 203.0.113.7" \
	"in tcp 443 from fd99:7::2 on vh"; do
	# shellcheck disable=SC2086
	P --json explain $q >"$PC_TMP/daemon.json" || pc_fail "explain $q"
	# shellcheck disable=SC2086
	P --json explain --offline $q >"$PC_TMP/files.json" || pc_fail "explain --offline $q"
	python3 - "$PC_TMP/daemon.json" "$PC_TMP/files.json" "$q" <<'PY' || pc_fail "explain $q differs"
import json, sys
# What the daemon alone adds: where the answer comes from, the other
# tables' port publications, the interface of the route it looked up.
extra = {"configuration", "panic", "published", "published_unknown", "published_error",
         "interface_from"}
a, b = (json.load(open(f))["data"] for f in sys.argv[1:3])
if a.get("interface_from") == "route":
    extra.add("interface")
a, b = ({k: v for k, v in x.items() if k not in extra} for x in (a, b))
if a != b:
    sys.exit("explain %s: daemon %s, files %s" % (sys.argv[3], a, b))
PY
done

# The stand-in for a source not given is found again after a change: a
# ban of the one it was leaves it standing for something else.
src() { P --json explain in tcp 22 | python3 -c 'import json, sys; print(json.load(sys.stdin)["data"]["source"])'; }
[ "$(src)" = 192.0.2.1 ] || pc_fail "explain's stand-in source is $(src)"
P ban 192.0.2.1 >/dev/null || pc_fail "ban 192.0.2.1"
[ "$(src)" = 198.51.100.1 ] || pc_fail "after a ban of it, explain's stand-in source is $(src)"
P unban 192.0.2.1 >/dev/null || pc_fail "unban 192.0.2.1"

pcd_log "diff: answered by a worker; an allow goes through while it is stopped"
# Every bulk rule changed and one line added: an answer larger than a
# socket buffer, so the worker cannot finish while its client does not read.
sed -i -e 's/^deny from/reject from/' -e '1i allow 7777/tcp' "$PC_TMP/etc/rules.d/30-bulk.rules"
"$PCD_PORTCTL" -s "$PCD_SOCK" diff >"$PC_TMP/diff.out" &
big=$!
wait_for "the diff request" requested
kill -STOP "$big" || pc_fail "diff ended before it could be stopped"
wait_for "a diff worker" has_worker
worker=$(workers | cut -d' ' -f1)
kill -STOP "$worker"
P allow 4100/tcp >/dev/null || pc_fail "allow 4100/tcp while a diff was under way"
[ "$(pcd_nft_has 4100)" = True ] || pc_fail "4100/tcp is not in the kernel"
kill -0 "$worker" || pc_fail "the diff worker did not wait"
kill -CONT "$worker"
kill -CONT "$big"
wait "$big"
rc=$?
[ "$rc" -eq 1 ] || pc_fail "diff exited $rc, expected 1 (a difference)"
grep -q '^+ allow 7777/tcp  .*30-bulk.rules:1$' "$PC_TMP/diff.out" ||
	pc_fail "diff does not show the new line: $(head -3 "$PC_TMP/diff.out")"
[ "$(grep -c '^- deny from 10\.100\.' "$PC_TMP/diff.out")" -eq "$N" ] &&
	[ "$(grep -c '^+ reject from 10\.100\.' "$PC_TMP/diff.out")" -eq "$N" ] ||
	pc_fail "diff does not list every changed rule once"
# The table changed (4100/tcp) while the worker held the rules as asked
# about: a kernel compared then would be said not to, never to have drifted.
grep -q '^!' "$PC_TMP/diff.out" && pc_fail "diff says the kernel drifted: $(grep '^!' "$PC_TMP/diff.out")"
wait_for "the worker reaped" no_worker

pcd_log "diff --json: every change, the kernel as applied; after a reload nothing"
P --json diff >"$PC_TMP/diff.json"
python3 - "$PC_TMP/diff.json" "$N" <<'PY' || pc_fail "diff --json is not whole"
import json, sys
d = json.load(open(sys.argv[1]))["data"]
n = int(sys.argv[2])
assert not d["equal"] and d["kernel"]["matches"], d["kernel"]
texts = [c["op"] + c["text"] for c in d["changes"]]
assert len(texts) == 2 * n + 1 and "+allow 7777/tcp" in texts, (len(texts), texts[:3])
assert sum(t.startswith("-deny from 10.100.") for t in texts) == n
assert sum(t.startswith("+reject from 10.100.") for t in texts) == n
PY
P reload >/dev/null || pc_fail "reload"
P diff >"$PC_TMP/diff.out" || pc_fail "diff after reload: $(head -3 "$PC_TMP/diff.out")"
[ -s "$PC_TMP/diff.out" ] && pc_fail "diff after reload printed: $(head -3 "$PC_TMP/diff.out")"

pcd_log "diff: one worker at a time per unprivileged user"
sed -i 's/^reject from/deny from/' "$PC_TMP/etc/rules.d/30-bulk.rules"
setpriv --reuid 65534 --regid 65534 --clear-groups \
	"$PCD_PORTCTL" -s "$PCD_SOCK" diff >/dev/null 2>&1 &
big=$!
wait_for "the first diff's request" requested
kill -STOP "$big"
wait_for "the first diff's worker" has_worker
worker=$(workers | cut -d' ' -f1)
kill -STOP "$worker"
pcd_as_other diff >"$PC_TMP/second.out" 2>&1 && pc_fail "a second diff of the same user ran"
grep -q "busy" "$PC_TMP/second.out" || pc_fail "second diff: $(cat "$PC_TMP/second.out")"
P diff >/dev/null
[ $? -eq 1 ] || pc_fail "root's diff was not answered beside it"
kill -KILL "$big"
kill -CONT "$worker"
wait "$big" 2>/dev/null
wait_for "the workers reaped" no_worker
pc_log "ok"
