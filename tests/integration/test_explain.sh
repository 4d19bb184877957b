#!/bin/sh
# The read side of trust against a running portctld: explain (daemon and
# offline), export and its round trip through check and reload, diff
# (files vs. daemon vs. kernel, exit codes), and drift: a hand edit of our
# table refused while the daemon owns it, repaired or reported without.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon-lib.sh"
pc_require
pcd_setup

P() {
	"$PCD_PORTCTL" -c "$PC_TMP/etc" -d "$top_srcdir/rules" -s "$PCD_SOCK" "$@"
}

# The kernel's table without what differs by nature between two applies of
# one configuration: handles, counter values, and the FILE:LINE the
# compiler writes into comments and log prefixes of rules without comment.
table_norm() {
	pc_in host nft -a list table inet portctl |
		sed -e 's/ # handle [0-9]*//' \
		    -e 's/counter packets [0-9]* bytes [0-9]*/counter/g' \
		    -e 's/comment "[^"]*\.rules:[0-9]*"/comment "FILE:LINE"/g' \
		    -e 's/prefix "portctl \([^ ]*\) [^ ]*\.rules:[0-9]* "/prefix "portctl \1 FILE:LINE "/g' |
		sed -E 's/_([pa])[0-9a-f]{16}(d[0-9]+)?_/_\1RUN_/g' |
		python3 -c '
import sys
# The sets, maps and chains in name order: a reload that renames sets
# makes them anew, after the others.
blocks, cur = [], []
for line in sys.stdin:
    cur.append(line)
    if line == "\t}\n":
        blocks.append("".join(cur)); cur = []
sys.stdout.write("".join(sorted(blocks)) + "".join(cur))'
}
# A run's maps are named by the file with most of its rules (the exported
# file holds them all): the table is the same but for those names.


pc_config_write portctl.conf "socket-group = $PCD_GROUP" "socket-mode = 0666"
pc_config_write 10-zones.rules \
	'zone office interface vh source 10.99.0.0/16,fd99:7::/64 policy in reject' \
	'service admin 8443/tcp,9000-9100/udp'
pc_config_write 20-web.rules \
	'allow 22/tcp from 10.99.7.2 zone office' \
	'allow 80,443/tcp comment "web"' \
	'reject 113/tcp' \
	'allow admin zone office log' \
	'deny from 203.0.113.7' \
	'deny out 25/tcp'
pcd_start

pcd_log "explain against the daemon: zone by source, rule FILE:LINE, verdict"
P explain in tcp 22 from 10.99.7.2 >"$PC_TMP/out" || pc_fail "explain failed"
grep -q "^zone:    office, because the source address 10.99.7.2 is in the zone's source 10.99.0.0/16" \
	"$PC_TMP/out" || pc_fail "zone reason: $(cat "$PC_TMP/out")"
grep -q "rules.d/20-web.rules:1 (rule 1)" "$PC_TMP/out" || pc_fail "rule place: $(cat "$PC_TMP/out")"
grep -q "^verdict: accept" "$PC_TMP/out" || pc_fail "verdict: $(cat "$PC_TMP/out")"
grep -q "^source:" "$PC_TMP/out" && pc_fail "online answer claims to come from the files"

P explain in udp 9050 --json on vh >"$PC_TMP/out.json" || pc_fail "explain --json failed"
python3 - "$PC_TMP/out.json" <<'PY' || pc_fail "explain --json: $(cat "$PC_TMP/out.json")"
import json, sys
a = json.load(open(sys.argv[1]))["data"]
assert a["configuration"] == "daemon", a
assert a["zone"] == "office" and a["zone_reason"] == "interface", a
assert a["rule"]["text"] == "allow admin zone office log" and a["rule"]["line"] == 4, a
assert a["verdict"] == "accept", a
PY
P explain in tcp 8080 on vh | grep -q "^verdict: reject" || pc_fail "office policy is reject"
P explain in tcp 8080 | grep -q "the default zone" || pc_fail "default zone not said"
P explain out tcp 25 to 198.51.100.1 | grep -q "^verdict: drop" || pc_fail "deny out 25"
P explain in tcp 99999 2>"$PC_TMP/err"
[ $? -eq 2 ] || pc_fail "bad port did not exit 2"
grep -q "1 to 65535" "$PC_TMP/err" || pc_fail "bad port message: $(cat "$PC_TMP/err")"

pcd_log "explain offline: the files, also when the daemon is unreachable"
P explain --offline in tcp 113 | grep -q "^source:  the files" || pc_fail "--offline not from files"
"$PCD_PORTCTL" -c "$PC_TMP/etc" -d "$top_srcdir/rules" -s "$PC_TMP/nosuch.sock" \
	explain in tcp 113 >"$PC_TMP/out" 2>"$PC_TMP/err" || pc_fail "offline fallback failed"
grep -q "not reachable" "$PC_TMP/err" || pc_fail "fallback not said: $(cat "$PC_TMP/err")"
grep -q "^verdict: reject" "$PC_TMP/out" || pc_fail "offline verdict: $(cat "$PC_TMP/out")"

pcd_log "diff: equal files give exit 0"
P diff >"$PC_TMP/out"
rc=$?
[ $rc -eq 0 ] || pc_fail "diff of an unchanged configuration exited $rc: $(cat "$PC_TMP/out")"
[ -s "$PC_TMP/out" ] && pc_fail "diff printed something: $(cat "$PC_TMP/out")"

pcd_log "diff: an added and a removed line, in rule-file words, exit 1"
printf 'allow 8080/tcp\n' >>"$PC_TMP/etc/rules.d/20-web.rules"
sed -i '/^reject 113/d' "$PC_TMP/etc/rules.d/20-web.rules"
P diff >"$PC_TMP/out"
rc=$?
[ $rc -eq 1 ] || pc_fail "diff of a changed file exited $rc"
grep -q '^+ allow 8080/tcp  *# rules.d/20-web.rules:6$' "$PC_TMP/out" ||
	pc_fail "added line: $(cat "$PC_TMP/out")"
grep -q '^- reject 113/tcp  *# rules.d/20-web.rules:3$' "$PC_TMP/out" ||
	pc_fail "removed line: $(cat "$PC_TMP/out")"
[ "$(wc -l <"$PC_TMP/out")" -eq 2 ] || pc_fail "more than two lines: $(cat "$PC_TMP/out")"
P reload >/dev/null || pc_fail "reload"
P diff >/dev/null || pc_fail "diff after reload is not empty"

pcd_log "export: valid, and alone it gives the same kernel table"
P export >"$PC_TMP/export.rules" || pc_fail "export failed"
grep -q '^allow 80,443/tcp comment "web"  *# .*rules.d/20-web.rules:2$' "$PC_TMP/export.rules" ||
	pc_fail "export text: $(cat "$PC_TMP/export.rules")"
P check "$PC_TMP/export.rules" >/dev/null || pc_fail "exported file does not check"
table_norm >"$PC_TMP/table.before"
mkdir "$PC_TMP/saved" && mv "$PC_TMP"/etc/rules.d/*.rules "$PC_TMP/saved/"
cp "$PC_TMP/export.rules" "$PC_TMP/etc/rules.d/50-export.rules"
P reload >/dev/null || pc_fail "reload from the exported file"
table_norm >"$PC_TMP/table.after"
diff -u "$PC_TMP/table.before" "$PC_TMP/table.after" >&2 ||
	pc_fail "the exported file gives another kernel table"
[ "$(grep -c 'accept\|drop\|jump\|goto' "$PC_TMP/table.after")" -gt 5 ] ||
	pc_fail "the table compared is nearly empty"
rm "$PC_TMP/etc/rules.d/50-export.rules" && mv "$PC_TMP"/saved/*.rules "$PC_TMP/etc/rules.d/"
P reload >/dev/null || pc_fail "reload back"

pcd_log "table-owner = yes (default): the kernel refuses a hand edit"
handle=$(pc_in host nft -a list chain inet portctl in_office | grep -v 'chain ' | sed -n 's/.* # handle \([0-9]*\)$/\1/p' | head -1)
[ -n "$handle" ] || pc_fail "no rule handle in in_office"
if pc_in host nft -j list table inet portctl | grep -q '"owner"'; then
	pc_in host nft delete rule inet portctl in_office handle "$handle" 2>"$PC_TMP/err" &&
		pc_fail "nft could delete a rule of the owned table"
	grep -q "Operation not permitted" "$PC_TMP/err" || pc_fail "refusal: $(cat "$PC_TMP/err")"
else
	pcd_log "kernel without NFT_TABLE_F_PERSIST: ownership not available, skipped"
fi
pcd_stop

# The number of rules of chain in_office (a repair re-adds the whole
# table, so handles may come back the same: count instead).
office_rules() {
	pc_in host nft -a list chain inet portctl in_office | grep -v 'chain ' | grep -c '# handle [0-9]*$'
}

rule_back() {
	[ "$(office_rules)" -eq "$rules" ]
}

pcd_log "table-owner = no, drift = repair: a hand-deleted rule comes back"
pc_config_write portctl.conf "socket-group = $PCD_GROUP" "socket-mode = 0666" \
	"table-owner = no" "drift = repair"
pcd_start
rules=$(office_rules)
[ "$rules" -ge 2 ] || pc_fail "in_office has $rules rules, expected 2 or more"
handle=$(pc_in host nft -a list chain inet portctl in_office | grep -v 'chain ' | sed -n 's/.* # handle \([0-9]*\)$/\1/p' | head -1)
pc_in host nft delete rule inet portctl in_office handle "$handle" ||
	pc_fail "nft delete rule failed with table-owner = no"
# The log line comes after the repair's commit: wait for it, not the rule.
pc_until 10 grep -q "drift repaired" "$PC_TMP/portctld.log" ||
	pc_fail "repair not logged: $(tail -5 "$PC_TMP/portctld.log")"
rule_back || pc_fail "the rule is not back after the repair"
grep -q "changed by another process" "$PC_TMP/portctld.log" || pc_fail "drift not logged"
P diff >/dev/null || pc_fail "diff after the repair is not empty"
pcd_stop

pcd_log "drift = report: logged, left as it is, shown by diff until reload"
pc_config_write portctl.conf "socket-group = $PCD_GROUP" "socket-mode = 0666" \
	"table-owner = no" "drift = report"
pcd_start
handle=$(pc_in host nft -a list chain inet portctl in_office | grep '10.99.7.2' | sed -n 's/.* # handle \([0-9]*\)$/\1/p' | head -1)
pc_in host nft delete rule inet portctl in_office handle "$handle" || pc_fail "nft delete rule"
pc_until 10 grep -q "drift = report" "$PC_TMP/portctld.log" ||
	pc_fail "drift not reported: $(tail -5 "$PC_TMP/portctld.log")"
rule_back && pc_fail "drift = report repaired the table"
P diff >"$PC_TMP/out"
rc=$?
[ $rc -eq 1 ] || pc_fail "diff with a drifted kernel exited $rc"
grep -q "^!   missing: rule of 'allow 22/tcp from 10.99.7.2 zone office' (rules.d/20-web.rules:1)" "$PC_TMP/out" ||
	pc_fail "drift in diff: $(cat "$PC_TMP/out")"
P reload >/dev/null || pc_fail "reload"
P diff >/dev/null || pc_fail "diff after reload is not empty"
pcd_stop
pcd_log "ok"
