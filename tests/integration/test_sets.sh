#!/bin/sh
# Named address sets: a list file of IPv4 and IPv6 lines with comments
# feeds "deny from @blocklist" (real probes from listed and unlisted
# sources), an inline set "allow 8022/tcp from @admins"; a changed file is
# one transaction of element changes only; a bad line or an unknown set is
# refused with FILE:LINE:COL and nothing applied; check reads list files.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon-lib.sh"
pc_require
pcd_setup

# Sources of the peer: .2 is the usual one, .3 and .5 go on the list, .4
# is an admin.
for a in 10.99.7.3 10.99.7.4 10.99.7.5; do
	pc_in peer ip addr add "$a/24" dev vp
done
for a in fd99:7::3 fd99:7::4 fd99:7::5; do
	pc_in peer ip addr add "$a/64" dev vp nodad
done

mkdir -p "$PC_TMP/etc/sets"
LIST="$PC_TMP/etc/sets/block.txt"
cat >"$LIST" <<'EOF'
# a block list, as the feeds write them
; Spamhaus-style comment

10.99.7.3 ; SBL0001
fd99:7::3/128   # an IPv6 host
192.0.2.0/24
2001:db8:bad::/48
EOF
pc_config_write 10-sets.rules \
	'set blocklist file sets/block.txt' \
	'set admins 10.99.7.4,fd99:7::4' \
	'deny from @blocklist' \
	'allow 443/tcp' \
	'allow 8022/tcp from @admins'
# Not the table's owner, so that nft may change it by hand (drift, below).
pc_config_write portctl.conf "socket-group = $PCD_GROUP" "socket-mode = 0666" "table-owner = no"
pcd_start
pc_listen host tcp:443 tcp:8022

pcd_log "listed sources get no answer, others do (IPv4 and IPv6)"
pc_expect timeout pc_probe peer tcp 10.99.7.1 443 300 10.99.7.3
pc_expect timeout pc_probe peer tcp fd99:7::1 443 300 fd99:7::3
pc_expect open pc_probe peer tcp 10.99.7.1 443 1000 10.99.7.2
pc_expect open pc_probe peer tcp fd99:7::1 443 1000 fd99:7::2
pc_expect open pc_probe peer tcp 10.99.7.1 443 1000 10.99.7.5

pcd_log "an inline set: only its addresses reach 8022"
pc_expect open pc_probe peer tcp 10.99.7.1 8022 1000 10.99.7.4
pc_expect open pc_probe peer tcp fd99:7::1 8022 1000 fd99:7::4
pc_expect timeout pc_probe peer tcp 10.99.7.1 8022 300 10.99.7.2

pcd_log "kernel: named sets looked up by the rules"
[ "$(pc_nft_json host 'sorted(s["set"]["name"] for s in r if "set" in s and s["set"]["name"].startswith("set_"))')" = \
	"['set_admins_v4', 'set_admins_v6', 'set_blocklist_v4', 'set_blocklist_v6']" ] ||
	pc_fail "named sets missing: $(pc_in host nft list table inet portctl)"

pcd_log "explain names the set and the list line"
"$PCD_PORTCTL" -s "$PCD_SOCK" explain in tcp 8022 from 10.99.7.4 >"$PC_TMP/explain" ||
	pc_fail "explain: $(cat "$PC_TMP/explain")"
grep -q "matched @admins (inline: 10.99.7.4)" "$PC_TMP/explain" ||
	pc_fail "explain: $(cat "$PC_TMP/explain")"
"$PCD_PORTCTL" -s "$PCD_SOCK" explain in tcp 443 from 192.0.2.9 >"$PC_TMP/explain" ||
	pc_fail "explain: $(cat "$PC_TMP/explain")"
grep -q "matched @blocklist (file $LIST:6: 192.0.2.0/24)" "$PC_TMP/explain" ||
	pc_fail "explain: $(cat "$PC_TMP/explain")"

pcd_log "status counts entries; --set lists them; export keeps the file"
"$PCD_PORTCTL" -s "$PCD_SOCK" status >"$PC_TMP/status" || pc_fail "status"
grep -Eq '@blocklist +4 entries \(2 IPv4, 2 IPv6\) +file '"$LIST" "$PC_TMP/status" ||
	pc_fail "status: $(cat "$PC_TMP/status")"
grep -q "10.99.7.3" "$PC_TMP/status" && pc_fail "status lists entries: $(cat "$PC_TMP/status")"
"$PCD_PORTCTL" -s "$PCD_SOCK" status --set blocklist --offset 1 --limit 2 >"$PC_TMP/entries" ||
	pc_fail "status --set"
[ "$(cat "$PC_TMP/entries")" = "$(printf 'fd99:7::3\n192.0.2.0/24')" ] ||
	pc_fail "status --set: $(cat "$PC_TMP/entries")"
"$PCD_PORTCTL" -s "$PCD_SOCK" export | grep -qx "set blocklist file $LIST *# .*10-sets.rules:1" ||
	pc_fail "export: $("$PCD_PORTCTL" -s "$PCD_SOCK" export)"

# reload_elements WHAT PATTERN: a reload is one transaction whose every
# line matches PATTERN (element changes of the list's sets).
reload_elements() {
	pc_monitor_start host "$PC_TMP/monitor"
	pcd_as_member reload >/dev/null || pc_fail "$1: reload"
	pc_monitor_stop
	[ "$(grep -c "^# new generation" "$PC_TMP/monitor")" -eq 1 ] ||
		pc_fail "$1: not one transaction: $(cat "$PC_TMP/monitor")"
	grep -v "^# new generation" "$PC_TMP/monitor" | grep -Ev "$2" |
		grep -q . && pc_fail "$1: not element changes alone: $(cat "$PC_TMP/monitor")"
}

pcd_log "a changed list: reload is one transaction of element changes only"
sed -i 's/^10.99.7.3 ; SBL0001$/10.99.7.5/' "$LIST"
"$PCD_PORTCTL" -s "$PCD_SOCK" diff >"$PC_TMP/diff" 2>&1
grep -q "^- @blocklist 10.99.7.3" "$PC_TMP/diff" && grep -q "^+ @blocklist 10.99.7.5" "$PC_TMP/diff" ||
	pc_fail "diff: $(cat "$PC_TMP/diff")"
reload_elements "a changed list" '^(add|delete) element inet portctl set_blocklist_v4 \{ 10\.99\.7\.[35] \}$'
pc_expect open pc_probe peer tcp 10.99.7.1 443 1000 10.99.7.3
pc_expect timeout pc_probe peer tcp 10.99.7.1 443 300 10.99.7.5

pcd_log "a prefix that grows and one that moves: elements only, and the kernel holds the list"
sed -i 's|^192.0.2.0/24$|192.0.2.0/23|; s|^2001:db8:bad::/48$|2001:db8:bae::/48|' "$LIST"
reload_elements "a prefix grown and one moved" '^(add|delete) element inet portctl set_blocklist_v[46] '
pc_in host nft get element inet portctl set_blocklist_v4 '{ 192.0.3.9 }' >/dev/null ||
	pc_fail "192.0.3.9 not blocked"
pc_in host nft get element inet portctl set_blocklist_v6 '{ 2001:db8:bad::1 }' >/dev/null 2>&1 &&
	pc_fail "2001:db8:bad::1 still blocked"

pcd_log "a host taken out of a prefix (its pieces listed instead): its interval cut in two, elements only"
sed -i 's|^192.0.2.0/23$|192.0.2.0/30\n192.0.2.4/31\n192.0.2.6/32\n192.0.2.8/29\n192.0.2.16/28\n192.0.2.32/27\n192.0.2.64/26\n192.0.2.128/25\n192.0.3.0/24|' "$LIST"
reload_elements "a prefix cut in two" '^(add|delete) element inet portctl set_blocklist_v4 '
pc_in host nft get element inet portctl set_blocklist_v4 '{ 192.0.2.7 }' >/dev/null 2>&1 &&
	pc_fail "192.0.2.7 still blocked"
pc_in host nft get element inet portctl set_blocklist_v4 '{ 192.0.2.9 }' >/dev/null ||
	pc_fail "192.0.2.9 not blocked"
# And back as it was: the pieces joined, elements only.
sed -i '/^192\.0\.2\.\(0\/30\|4\/31\|6\/32\|8\/29\|16\/28\|32\/27\|64\/26\|128\/25\)$/d; s|^192.0.3.0/24$|192.0.2.0/23|' "$LIST"
reload_elements "the pieces joined" '^(add|delete) element inet portctl set_blocklist_v4 '
pc_in host nft get element inet portctl set_blocklist_v4 '{ 192.0.2.7 }' >/dev/null ||
	pc_fail "192.0.2.7 not blocked again"
"$PCD_PORTCTL" -s "$PCD_SOCK" diff >"$PC_TMP/diff" 2>&1
grep -q "^[!?]" "$PC_TMP/diff" && pc_fail "the kernel differs: $(cat "$PC_TMP/diff")"

# Two joins in one reload: in key order an interval's end deleted alone, the
# next one's start, then another end, which the kernel refuses right after
# another interval's start (ENOENT); intervals go whole.
printf '198.51.100.0/25\n198.51.100.192/26\n203.0.113.0/25\n203.0.113.192/26\n' >>"$LIST"
reload_elements "four intervals" '^(add|delete) element inet portctl set_blocklist_v4 '
sed -i 's|^198.51.100.192/26$|198.51.100.128/26|; s|^203.0.113.192/26$|203.0.113.128/26|' "$LIST"
printf '198.51.100.192/26\n203.0.113.192/26\n' >>"$LIST"
reload_elements "two joins" '^(add|delete) element inet portctl set_blocklist_v4 '
pc_in host nft get element inet portctl set_blocklist_v4 '{ 203.0.113.150 }' >/dev/null ||
	pc_fail "203.0.113.150 not blocked once joined"
sed -i '/^198\.51\.100\.\|^203\.0\.113\./d' "$LIST"
reload_elements "the joined gone" '^(add|delete) element inet portctl set_blocklist_v4 '

pcd_log "a reload with the list unchanged sends nothing"
pc_monitor_start host "$PC_TMP/monitor"
pcd_as_member reload >/dev/null || pc_fail "reload"
pc_monitor_stop
grep -q "new generation" "$PC_TMP/monitor" && pc_fail "a transaction: $(cat "$PC_TMP/monitor")"

pcd_log "a bad list line: FILE:LINE:COL, nothing applied"
printf '203.0.113.1\n  10.0.0.1/8 ; host bits\n' >>"$LIST"
pc_monitor_start host "$PC_TMP/monitor"
pcd_as_member reload >"$PC_TMP/out" 2>&1 && pc_fail "reload of a bad list succeeded"
pc_monitor_stop
grep -q "$LIST:9:3: error: '10.0.0.1/8' has host bits set" "$PC_TMP/out" ||
	pc_fail "no FILE:LINE:COL: $(cat "$PC_TMP/out")"
grep -q "new generation" "$PC_TMP/monitor" && pc_fail "the kernel changed: $(cat "$PC_TMP/monitor")"
pc_expect timeout pc_probe peer tcp 10.99.7.1 443 300 10.99.7.5

pcd_log "portctl check reads list files too"
"$PCD_PORTCTL" --config "$PC_TMP/etc" --data-dir "$PC_TMP/share" check \
	"$PC_TMP/etc/rules.d/10-sets.rules" >"$PC_TMP/out" 2>&1
rc=$?
[ $rc -eq 2 ] || pc_fail "check exited $rc: $(cat "$PC_TMP/out")"
grep -q "$LIST:9:3:" "$PC_TMP/out" || pc_fail "check: $(cat "$PC_TMP/out")"
sed -i '$d' "$LIST"

pcd_log "an unknown set and a missing file are refused"
pc_config_write 20-more.rules 'deny from @blocklst'
pcd_as_member reload >"$PC_TMP/out" 2>&1 && pc_fail "reload with @blocklst succeeded"
grep -q "20-more.rules:1:11: error: unknown set 'blocklst'" "$PC_TMP/out" ||
	pc_fail "unknown set: $(cat "$PC_TMP/out")"
grep -q "did you mean 'blocklist'" "$PC_TMP/out" || pc_fail "no hint: $(cat "$PC_TMP/out")"
pc_config_write 20-more.rules 'set gone file sets/none.txt' 'deny from @gone'
pcd_as_member reload >"$PC_TMP/out" 2>&1 && pc_fail "reload with a missing file succeeded"
grep -q "20-more.rules:1:15: error: set 'gone': cannot read" "$PC_TMP/out" ||
	pc_fail "missing file: $(cat "$PC_TMP/out")"
rm -f "$PC_TMP/etc/rules.d/20-more.rules"
pc_expect timeout pc_probe peer tcp 10.99.7.1 443 300 10.99.7.5
pc_expect open pc_probe peer tcp 10.99.7.1 443 1000 10.99.7.2

pcd_log "a big set (compared as one sum) that drifts is repaired"
# Hosts apart from each other: a hash set, whose elements nft can delete.
awk 'BEGIN { for (i = 0; i < 2000; i++) printf "10.98.%d.%d\n", i / 100, 2 * (i % 100) }' \
	>"$PC_TMP/etc/sets/big.txt"
pc_config_write 30-big.rules 'set big file sets/big.txt' 'deny from @big'
pcd_as_member reload >/dev/null || pc_fail "reload of a set of 2,000"
has_98() { pc_in host nft get element inet portctl set_big_v4 '{ 10.98.3.8 }' >/dev/null 2>&1; }
has_98 || pc_fail "10.98.3.8 not in the kernel"
pc_in host nft delete element inet portctl set_big_v4 '{ 10.98.3.8 }' || pc_fail "nft delete element"
pc_until 15 grep -q "drift repaired" "$PC_TMP/portctld.log" ||
	pc_fail "not repaired: $(tail -5 "$PC_TMP/portctld.log")"
has_98 || pc_fail "the deleted element was not put back"
grep -q "missing: set elements of 'deny from @big'" "$PC_TMP/portctld.log" ||
	pc_fail "drift not logged by the set's sum: $(tail -5 "$PC_TMP/portctld.log")"

pcd_log "a CLI rule may use a set"
pcd_as_member allow 8443/tcp from @admins >/dev/null || pc_fail "allow from @admins"
pc_listen host tcp:8443
pc_expect open pc_probe peer tcp 10.99.7.1 8443 1000 10.99.7.4
pc_expect timeout pc_probe peer tcp 10.99.7.1 8443 300 10.99.7.2
pcd_as_member allow 8443/tcp from @admins >"$PC_TMP/out" || pc_fail "allow again"
grep -q "already" "$PC_TMP/out" || pc_fail "the same rule added twice: $(cat "$PC_TMP/out")"
pcd_as_member allow 8443/tcp from @blocklist >"$PC_TMP/out" || pc_fail "allow from @blocklist"
grep -q "already" "$PC_TMP/out" && pc_fail "@blocklist taken for @admins: $(cat "$PC_TMP/out")"
pcd_as_member delete allow 8443/tcp from @blocklist >/dev/null || pc_fail "delete by meaning"
grep -qx "allow 8443/tcp from @admins" "$PC_TMP/etc/rules.d/90-portctl.rules" ||
	pc_fail "the wrong rule deleted: $(cat "$PC_TMP/etc/rules.d/90-portctl.rules")"
exit 0
