#!/bin/sh
# portctld's serve mode end to end: permissions by group, allow/delete with
# the kernel table, real traffic and counters, persistence across restarts,
# kill -9 keeping the rules, and only CAP_NET_ADMIN left.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon-lib.sh"
pc_require
pcd_setup

pc_config_write 10-base.rules 'allow 22/tcp comment "ssh"'
pcd_start

pcd_log "capabilities: only CAP_NET_ADMIN"
capeff=$(sed -n 's/^CapEff:\t*//p' "/proc/$PCD_PID/status")
[ "$capeff" = "0000000000001000" ] || pc_fail "CapEff is $capeff, expected 0000000000001000"

pcd_log "a user outside the group may read but not change"
pcd_as_other zones >/dev/null || pc_fail "zones as a non-member failed"
pcd_as_other status >/dev/null || pc_fail "status as a non-member failed"
pcd_as_other allow 443/tcp 2>"$PC_TMP/err"
rc=$?
[ $rc -eq 4 ] || pc_fail "non-member allow exited $rc, expected 4"
grep -q "permission denied" "$PC_TMP/err" || pc_fail "no reason given: $(cat "$PC_TMP/err")"
[ ! -e "$PC_TMP/etc/rules.d/90-portctl.rules" ] || pc_fail "non-member changed the file"
[ "$(pcd_nft_has 443)" = "False" ] || pc_fail "non-member changed the kernel"

pcd_log "a member of the group adds a rule: kernel, file, traffic"
pc_listen host tcp:443 tcp:444 tcp:445 tcp:446 tcp:449
pc_expect timeout pc_probe peer tcp 10.99.7.1 443
pcd_as_member allow 443/tcp comment web || pc_fail "member allow failed"
grep -qx 'allow 443/tcp comment "web"' "$PC_TMP/etc/rules.d/90-portctl.rules" ||
	pc_fail "rule not persisted: $(cat "$PC_TMP/etc/rules.d/90-portctl.rules")"
[ "$(pcd_nft_has 443)" = "True" ] || pc_fail "443 not in the kernel table"
pc_expect open pc_probe peer tcp 10.99.7.1 443
pc_expect open pc_probe peer tcp fd99:7::1 443

pcd_log "status counters count that traffic"
packets=$(pcd_rule_field 'allow 443/tcp comment "web"' packets)
[ "$packets" -gt 0 ] || pc_fail "packets of the 443 rule: $packets"
pc_expect open pc_probe peer tcp 10.99.7.1 443
more=$(pcd_rule_field 'allow 443/tcp comment "web"' packets)
[ "$more" -gt "$packets" ] || pc_fail "counter did not grow: $packets -> $more"

pcd_log "a bad rule: exit 2, nothing changes"
cp "$PC_TMP/etc/rules.d/90-portctl.rules" "$PC_TMP/before"
pcd_as_member allow 70000/tcp 2>"$PC_TMP/err"
rc=$?
[ $rc -eq 2 ] || pc_fail "bad rule exited $rc, expected 2"
grep -q "command line:1:7" "$PC_TMP/err" || pc_fail "no FILE:LINE:COL: $(cat "$PC_TMP/err")"
cmp -s "$PC_TMP/before" "$PC_TMP/etc/rules.d/90-portctl.rules" || pc_fail "file changed"

pcd_log "delete by comment, by number, by text"
pcd_as_member delete comment web || pc_fail "delete comment failed"
pc_expect timeout pc_probe peer tcp 10.99.7.1 443
grep -q 443 "$PC_TMP/etc/rules.d/90-portctl.rules" && pc_fail "443 still in the file"
pcd_as_member allow 444/tcp || pc_fail "allow 444"
pcd_as_member allow 445/tcp || pc_fail "allow 445"
pc_expect open pc_probe peer tcp 10.99.7.1 444
n=$(pcd_rule_field 'allow 444/tcp' number)
[ "$n" = 2 ] || pc_fail "444 is rule $n, expected 2"
pcd_as_member delete "$n" || pc_fail "delete $n"
pc_expect timeout pc_probe peer tcp 10.99.7.1 444
pc_expect open pc_probe peer tcp 10.99.7.1 445
pcd_as_member delete allow 445/tcp || pc_fail "delete by text"
pc_expect timeout pc_probe peer tcp 10.99.7.1 445
pcd_as_member delete 1 2>/dev/null
[ $? -eq 2 ] || pc_fail "deleting a rule of another file must be refused (2)"

pcd_log "persistence across a restart"
pcd_as_member allow 446/tcp || pc_fail "allow 446"
pcd_stop
[ "$(pcd_nft_has 446)" = "True" ] || pc_fail "rules gone after SIGTERM"
pc_expect open pc_probe peer tcp 10.99.7.1 446
pcd_start
[ "$(pcd_rule_field 'allow 446/tcp' number)" = 2 ] || pc_fail "446 not back after restart"

pcd_log "kill -9 leaves the rules in force"
kill -9 "$PCD_PID"
wait "$PCD_PID" 2>/dev/null
[ "$(pcd_nft_has 446)" = "True" ] || pc_fail "rules gone after kill -9"
pc_expect open pc_probe peer tcp 10.99.7.1 446
pc_expect timeout pc_probe peer tcp 10.99.7.1 443
pcd_start
pcd_as_member status >/dev/null || pc_fail "status after restart"

pcd_log "a runtime rule is not persisted and reload drops it"
pcd_as_member allow 447/tcp --runtime || pc_fail "allow --runtime"
grep -q 447 "$PC_TMP/etc/rules.d/90-portctl.rules" && pc_fail "runtime rule persisted"
[ "$(pcd_nft_has 447)" = "True" ] || pc_fail "runtime rule not in the kernel"
pcd_as_member reload || pc_fail "reload"
[ "$(pcd_nft_has 447)" = "False" ] || pc_fail "reload kept the runtime rule"

pcd_log "an allow goes before defaults.rules' ssh as one transaction"
# table_canonical: table inet portctl without counters, each set's
# elements sorted (a hash set lists them in the order of its buckets).
table_canonical() {
	pc_in host nft -j -s list table inet portctl >"$PC_TMP/t.json" || pc_fail "nft list"
	python3 - "$PC_TMP/t.json" <<'PY'
import json, sys
for o in json.load(open(sys.argv[1]))["nftables"]:
    for v in o.values():
        if isinstance(v, dict):
            v.pop("handle", None)
            if isinstance(v.get("elem"), list):
                v["elem"] = sorted(v["elem"], key=json.dumps)
    print(json.dumps(o, sort_keys=True))
PY
}
pc_monitor_start host "$PC_TMP/monitor"
pcd_as_member allow 449/tcp || pc_fail "allow 449"
pc_monitor_stop
pc_expect open pc_probe peer tcp 10.99.7.1 449
[ "$(grep -c "^# new generation" "$PC_TMP/monitor")" -eq 1 ] ||
	pc_fail "not one transaction: $(cat "$PC_TMP/monitor")"
# A port run's maps are named by the file with most of its rules: with 449,
# 90-portctl.rules has more than 10-base.rules, so this once the maps are
# renamed (their counters carried); the next rule is elements only.
[ "$(pcd_rule_field 'allow 449/tcp' number)" = 3 ] || pc_fail "449 is not rule 3"
[ "$(pcd_rule_field 'allow ssh comment "portctl default: see defaults.rules"' number)" = 4 ] ||
	pc_fail "the default ssh rule is not rule 4, after 449"
# What the change left in the kernel is what compiling the files gives.
table_canonical >"$PC_TMP/in-place"
pcd_as_member reload >/dev/null || pc_fail "reload"
table_canonical >"$PC_TMP/compiled"
diff "$PC_TMP/compiled" "$PC_TMP/in-place" >&2 || pc_fail "the in-place change differs from a full compile"

pcd_log "deleting a rule above others: its element alone, the others keep theirs"
# 449 and 450 carry no comment of their own; deleting 446 (line 1) moves
# them up a line, but the kernel names 90-portctl.rules' rules by their
# text, not their line: their elements stay.
pc_monitor_start host "$PC_TMP/monitor"
pcd_as_member allow 450/tcp >/dev/null || pc_fail "allow 450"
pc_monitor_stop
grep -v "^# new generation" "$PC_TMP/monitor" |
	grep -Ev '^add element inet portctl in_public_p[0-9a-f]{16}_ports_accept \{ tcp \. 450 ' | grep -q . &&
	pc_fail "not element-only: $(cat "$PC_TMP/monitor")"
pc_monitor_start host "$PC_TMP/monitor"
pcd_as_member delete allow 446/tcp >/dev/null || pc_fail "delete 446"
pc_monitor_stop
pc_expect timeout pc_probe peer tcp 10.99.7.1 446
pc_expect open pc_probe peer tcp 10.99.7.1 449
[ "$(grep -c "^# new generation" "$PC_TMP/monitor")" -eq 1 ] ||
	pc_fail "not one transaction: $(cat "$PC_TMP/monitor")"
grep -v "^# new generation" "$PC_TMP/monitor" | grep -Ev '^delete element inet portctl .* tcp \. 446 ' |
	grep -q . && pc_fail "not 446's element alone: $(cat "$PC_TMP/monitor")"
pc_in host nft list table inet portctl | grep -q 'tcp \. 449 .*comment "allow 449/tcp"' ||
	pc_fail "449's element is not named by its text: $(pc_in host nft list table inet portctl)"
table_canonical >"$PC_TMP/in-place"
pcd_as_member reload >/dev/null || pc_fail "reload"
table_canonical >"$PC_TMP/compiled"
diff "$PC_TMP/compiled" "$PC_TMP/in-place" >&2 || pc_fail "the delete differs from a full compile"

pcd_log "a reload of a broken file: exit 2, FILE:LINE:COL and the word, nothing changes"
pc_in host nft -s list table inet portctl >"$PC_TMP/before.nft"
printf 'allow 443/tcp\nallow 70000/tcp\n' >"$PC_TMP/etc/rules.d/20-bad.rules"
pcd_as_member reload 2>"$PC_TMP/err"
rc=$?
[ $rc -eq 2 ] || pc_fail "reload of a broken file exited $rc, expected 2"
grep -q "20-bad.rules:2:7" "$PC_TMP/err" && grep -q "70000" "$PC_TMP/err" ||
	pc_fail "the error does not name FILE:LINE:COL and the word: $(cat "$PC_TMP/err")"
pc_in host nft -s list table inet portctl | cmp -s - "$PC_TMP/before.nft" ||
	pc_fail "a refused reload changed the kernel's table"
pc_expect timeout pc_probe peer tcp 10.99.7.1 443
rm "$PC_TMP/etc/rules.d/20-bad.rules"

pcd_log "a hand edit of 90-portctl.rules since the last reload is kept: the change is made on it"
f90="$PC_TMP/etc/rules.d/90-portctl.rules"
echo 'allow 451/tcp' >>"$f90"
pcd_as_member allow 452/tcp 2>"$PC_TMP/err" || pc_fail "allow after a hand edit: $(cat "$PC_TMP/err")"
grep -q "allow 451/tcp" "$f90" || pc_fail "the hand edit was lost"
grep -q "allow 452/tcp" "$f90" || pc_fail "the change did not reach the file"
[ "$(pcd_nft_has 452)" = "True" ] || pc_fail "the change did not reach the kernel"
[ "$(pcd_nft_has 451)" = "True" ] || pc_fail "the hand-edited rule is not what the change was made on"
pcd_as_member reload >/dev/null || pc_fail "reload after the hand edit"
[ "$(pcd_nft_has 451)" = "True" ] || pc_fail "the hand-edited rule did not load"

pcd_log "a file that cannot be written takes the kernel back"
# portctld keeps CAP_NET_ADMIN alone: a read-only rules.d (no replace) and
# file (no append) stop it too.
chmod 555 "$PC_TMP/etc/rules.d"
chmod 444 "$f90"
pcd_as_member allow 453/tcp 2>"$PC_TMP/err"
rc=$?
chmod 755 "$PC_TMP/etc/rules.d"
chmod 644 "$f90"
[ $rc -eq 1 ] || pc_fail "allow into a read-only rules.d exited $rc, expected 1"
grep -q "rolled back" "$PC_TMP/err" || pc_fail "no rollback said: $(cat "$PC_TMP/err")"
[ "$(pcd_nft_has 453)" = "False" ] || pc_fail "453 stayed in the kernel"
grep -q 453 "$f90" && pc_fail "453 reached the file"

pcd_log "insert outside portctl's rules and delete of no rule are usage errors"
pcd_as_member insert 99 allow 1/tcp 2>"$PC_TMP/err"
[ $? -eq 2 ] || pc_fail "insert 99 did not exit 2"
grep -q "outside the rules portctl manages" "$PC_TMP/err" || pc_fail "insert: $(cat "$PC_TMP/err")"
pcd_as_member delete allow 9/tcp 2>"$PC_TMP/err"
[ $? -eq 2 ] || pc_fail "delete of no rule did not exit 2"
grep -q "no rule matches" "$PC_TMP/err" || pc_fail "delete: $(cat "$PC_TMP/err")"

pcd_log "cli-changes = no refuses changes and points at rules.d"
pc_config_write portctl.conf "socket-group = $PCD_GROUP" "socket-mode = 0666" "cli-changes = no"
pcd_as_member reload || pc_fail "reload with cli-changes = no"
pcd_as_member allow 448/tcp 2>"$PC_TMP/err"
[ $? -eq 4 ] || pc_fail "cli-changes = no: allow not refused with 4"
grep -q "rules.d" "$PC_TMP/err" || pc_fail "refusal does not point at rules.d"
exit 0
