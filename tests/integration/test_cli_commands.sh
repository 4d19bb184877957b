#!/bin/sh
# The commands test_daemon.sh leaves out, against a running daemon: deny,
# reject and limit with their effect on real traffic, zones, services,
# version, status numbered/verbose, --json on every read command, and --help
# on every command of `portctl --help`.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon-lib.sh"
pc_require
pcd_setup

pcd_start
pc_listen host tcp:443 tcp:444 tcp:445 tcp:446
P() { "$PCD_PORTCTL" -s "$PCD_SOCK" "$@"; }
# Rules from the command line, so that insert may place others ahead.
pcd_as_member allow 440-449/tcp comment range || pc_fail "allow a range failed"

pcd_log "deny and reject, inserted ahead of the range: timeout and refusal"
pc_expect open pc_probe peer tcp 10.99.7.1 444
pcd_as_member insert 1 deny 444/tcp || pc_fail "insert 1 deny failed"
pcd_as_member insert 1 reject 445/tcp || pc_fail "insert 1 reject failed"
pc_expect timeout pc_probe peer tcp 10.99.7.1 444
pc_expect refused pc_probe peer tcp 10.99.7.1 445
pc_expect refused pc_probe peer tcp fd99:7::1 445
pc_expect open pc_probe peer tcp 10.99.7.1 443

pcd_log "limit: the sixth new connection of a burst from one source is dropped"
pcd_as_member insert 1 limit 446/tcp rate 5/minute burst 5 || pc_fail "limit failed"
opened=0
for _ in 1 2 3 4 5 6 7 8; do
	[ "$(pc_probe peer tcp 10.99.7.1 446)" = open ] && opened=$((opened + 1))
done
pcd_log "limit let $opened of 8 connections through"
[ "$opened" -ge 1 ] && [ "$opened" -le 6 ] || pc_fail "limit let $opened of 8 through"

pcd_log "status numbered lists the rules in first-match order"
P status numbered >"$PC_TMP/out" || pc_fail "status numbered"
order=$(grep -o "limit 446/tcp\|reject 445/tcp\|deny 444/tcp\|allow 440-449/tcp" "$PC_TMP/out" | tr '\n' ',')
[ "$order" = "limit 446/tcp,reject 445/tcp,deny 444/tcp,allow 440-449/tcp," ] ||
	pc_fail "status numbered shows the order $order: $(cat "$PC_TMP/out")"
P status verbose >/dev/null || pc_fail "status verbose"

pcd_log "status: column headers, the counters aligned past a long rule, the zone once"
pcd_as_member allow 4343/tcp zone internal comment "a comment long enough to pass forty-eight characters" ||
	pc_fail "allow a long rule"
for detail in "" numbered verbose; do
	# shellcheck disable=SC2086 # no word: plain status
	P status $detail >"$PC_TMP/out" || pc_fail "status $detail"
	python3 - "$PC_TMP/out" "$detail" <<'PY' || pc_fail "status $detail: $(cat "$PC_TMP/out")"
import sys
lines = open(sys.argv[1]).read().split("\n")
head = lines.index("Rules (first match wins):") + 1
hdr, rows = lines[head], [l for l in lines[head + 1:] if l.startswith(("allow", "deny", "reject", "limit", "["))]
want = {"": "RULE", "numbered": "NUM   RULE", "verbose": "NUM   RULE"}[sys.argv[2]]
assert hdr.startswith(want) and hdr.split()[-3:] == (["PACKETS", "BYTES", "FROM"][-3:] if sys.argv[2] == "verbose" else ["ZONE", "PACKETS", "BYTES"]), hdr
# Every row's counters end in the column where the header's BYTES ends.
end = hdr.index("BYTES") + len("BYTES")
for r in rows:
    assert r[:end].rstrip()[-1].isdigit() and r[end:end + 1] in ("", " "), (hdr, r)
long = [r for r in rows if "4343/tcp" in r][0]
assert long.count("internal") == 1 and "zone internal" not in long, long
zh = lines[lines.index("Zones:") + 1].split()
assert zh == ["ZONE", "IN", "OUT", "FORWARD", "INTERFACES", "SOURCES"], zh
PY
done

pcd_log "a ban's address with host bits set says so (exit 2)"
pcd_as_member ban 10.0.0.1/8 >"$PC_TMP/out" 2>&1
rc=$?
[ $rc -eq 2 ] || pc_fail "ban 10.0.0.1/8 exited $rc"
[ "$(cat "$PC_TMP/out")" = "portctl: '10.0.0.1/8' has host bits set after the prefix: did you mean 10.0.0.0/8?" ] ||
	pc_fail "ban 10.0.0.1/8 says: $(cat "$PC_TMP/out")"

pcd_log "zones, services, version"
P zones >"$PC_TMP/out" || pc_fail "zones"
grep -q "public" "$PC_TMP/out" || pc_fail "zones lacks public"
P services >"$PC_TMP/out" || pc_fail "services"
grep -q "https" "$PC_TMP/out" || pc_fail "services lacks https"
P version >"$PC_TMP/out" || pc_fail "version"
grep -q "[0-9]\.[0-9]" "$PC_TMP/out" || pc_fail "version prints no version: $(cat "$PC_TMP/out")"

pcd_log "--json on the read commands is JSON"
for cmd in "status" "status numbered" "zones" "services" "version" "explain in tcp 443" \
	"export" "diff"; do
	# shellcheck disable=SC2086
	P --json $cmd >"$PC_TMP/out"
	rc=$?
	[ $rc -le 1 ] || pc_fail "--json $cmd exited $rc"
	python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$PC_TMP/out" ||
		pc_fail "--json $cmd is not JSON: $(head -c 300 "$PC_TMP/out")"
done

pcd_log "--help on every command"
P --help >"$PC_TMP/help" || pc_fail "portctl --help"
commands=$(sed -n '/^Commands:/,/^$/p' "$PC_TMP/help" | awk 'NF && !/^Commands:/ {print $1}')
[ "$(echo "$commands" | wc -w)" -ge 20 ] || pc_fail "too few commands in --help: $commands"
for c in $commands; do
	P "$c" --help >"$PC_TMP/out" 2>&1 || pc_fail "portctl $c --help exited $?"
	grep -qi "usage" "$PC_TMP/out" || pc_fail "portctl $c --help prints no usage"
done
P help allow >"$PC_TMP/out" || pc_fail "portctl help allow"
grep -qi "usage" "$PC_TMP/out" || pc_fail "portctl help allow prints no usage"

pcd_log "bad usage is exit 2"
P frobnicate >/dev/null 2>&1
[ $? -eq 2 ] || pc_fail "an unknown command is not exit 2"
P status --no-such-option >/dev/null 2>&1
[ $? -eq 2 ] || pc_fail "an unknown option is not exit 2"

pcd_log "a rule already there is not added twice (exit 0, says where it is)"
pcd_as_member allow 4242/tcp >/dev/null || pc_fail "allow 4242/tcp"
pcd_as_member allow 4242/tcp >"$PC_TMP/out" 2>&1 || pc_fail "a repeated allow failed: $(cat "$PC_TMP/out")"
grep -q "already present at .*90-portctl.rules:[0-9]*" "$PC_TMP/out" || pc_fail "repeat says: $(cat "$PC_TMP/out")"
[ "$(grep -c '^allow 4242/tcp$' "$PC_TMP/etc/rules.d/90-portctl.rules")" -eq 1 ] ||
	pc_fail "the rule was written twice"
[ "$(P status | grep -c 'allow 4242/tcp')" -eq 1 ] || pc_fail "status shows the rule twice"
pcd_as_member allow 4242/tcp --runtime >"$PC_TMP/out" 2>&1 || pc_fail "allow --runtime of a rule there"
grep -q "already present" "$PC_TMP/out" || pc_fail "a runtime repeat says: $(cat "$PC_TMP/out")"
# portctld counts the rules in force by signature, so that a new rule is
# not compared with every one: the count follows deletes and other files.
pcd_as_member delete allow 4242/tcp >/dev/null || pc_fail "delete allow 4242/tcp"
pcd_as_member allow 4242/tcp >"$PC_TMP/out" 2>&1 || pc_fail "allow 4242/tcp again: $(cat "$PC_TMP/out")"
grep -q "already present" "$PC_TMP/out" && pc_fail "a deleted rule is still present: $(cat "$PC_TMP/out")"
pcd_as_member allow 4242/tcp >"$PC_TMP/out" 2>&1 || pc_fail "a repeated allow failed"
grep -q "already present at .*90-portctl.rules" "$PC_TMP/out" || pc_fail "repeat after a delete says: $(cat "$PC_TMP/out")"
pc_config_write 30-site.rules "allow 4245/tcp"
P reload >/dev/null || pc_fail "reload with 30-site.rules"
pcd_as_member allow 4245/tcp >"$PC_TMP/out" 2>&1 || pc_fail "allow of another file's rule"
grep -q "already present at .*30-site.rules" "$PC_TMP/out" || pc_fail "another file's rule: $(cat "$PC_TMP/out")"

pcd_log "malformed deletes get an answer, not a dropped connection (a use-after-free once)"
for bad in "allow 1000/tcp" "foo"; do
	pcd_as_member delete "$bad" >"$PC_TMP/out" 2>&1
	rc=$?
	[ $rc -eq 2 ] || pc_fail "delete '$bad' exited $rc, not 2: $(cat "$PC_TMP/out")"
done
P status >/dev/null || pc_fail "the daemon stopped answering after a malformed delete"

pcd_log "a full-path change with a power-of-two number of sources (a use-after-free once)"
n=$(P --json status | python3 -c 'import json,sys; d=json.load(sys.stdin)["data"]["rules"]; print(len({r["file"] for r in d if r["file"]}))')
i=0
while [ $i -lt 8 ]; do
	pc_config_write "7$i-extra.rules" "allow 5$i$i/udp"
	i=$((i + 1))
done
P reload >/dev/null || pc_fail "reload with extra files"
for port in 8081 8082 8083 8084; do
	pcd_as_member limit $port/tcp >"$PC_TMP/out" 2>&1 ||
		pc_fail "limit $port/tcp with $n+8 files: $(cat "$PC_TMP/out")"
done

pcd_log "log level and prefix from the command line, kept in the rule's text"
pcd_as_member allow 4243/tcp log level info prefix "my ssh" >/dev/null ||
	pc_fail "allow with log level and prefix"
grep -q '^allow 4243/tcp log level info prefix "my ssh"$' "$PC_TMP/etc/rules.d/90-portctl.rules" ||
	pc_fail "90-portctl.rules: $(cat "$PC_TMP/etc/rules.d/90-portctl.rules")"
pc_in host nft list table inet portctl | grep -q 'log prefix "my ssh public 90-portctl.rules:[0-9]* " level info' ||
	pc_fail "no log with level and prefix in the table"
pcd_as_member allow 4243/tcp log prefix "my ssh" level info >"$PC_TMP/out" 2>&1 || pc_fail "repeat"
grep -q "already present" "$PC_TMP/out" || pc_fail "a repeat in another order says: $(cat "$PC_TMP/out")"
pcd_as_member allow 4244/tcp log level lod >"$PC_TMP/out" 2>&1 && pc_fail "an unknown level was accepted"
grep -q "unknown log level 'lod'" "$PC_TMP/out" || pc_fail "unknown level says: $(cat "$PC_TMP/out")"
grep -q "4244" "$PC_TMP/etc/rules.d/90-portctl.rules" && pc_fail "a refused rule was written"

pcd_log "no daemon at the socket: exit 3, and what to do"
"$PCD_PORTCTL" -s "$PC_TMP/no-such.sock" status 2>"$PC_TMP/err"
[ $? -eq 3 ] || pc_fail "an unreachable daemon is not exit 3"
grep -q "Is the daemon running" "$PC_TMP/err" || pc_fail "no hint: $(cat "$PC_TMP/err")"
exit 0
