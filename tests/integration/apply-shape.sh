#!/bin/sh
# After --apply-once, table inet portctl holds the expected chains, sets and
# comments; --check touches no kernel; the table persists after exit.
. "$(dirname "$0")/lib.sh"
pc_require
pc_ns_add host

pc_config_write 10-web.rules \
	'allow 443/tcp' \
	'allow 80/tcp comment "plain web"' \
	'allow 60000-61000/udp' \
	'allow 8080/tcp from 10.0.0.0/8 comment "intranet"' \
	'deny out 25/tcp'

# --check prints the objects and needs no kernel: run it outside any netns
# change and verify the root ruleset is untouched by the cleanup trap.
"$PC_PORTCTLD" --check $(pc_portctld_args) >"$PC_TMP/check.out" 2>"$PC_TMP/check.err" ||
	pc_fail "--check failed: $(cat "$PC_TMP/check.err")"
grep -qx 'table inet portctl {' "$PC_TMP/check.out" || pc_fail "--check printed no table"
# In nft's words, not libnftnl's register dump.
for line in '		type filter hook input priority 0; policy accept;' \
	'		meta nfproto ipv4 ip saddr 10.0.0.0/8 meta l4proto tcp th dport 8080 counter accept comment "intranet"' \
	'		meta l4proto . th dport @in_public_P_ports_accept accept' \
	'		elements = { 6 . 80,'; do
	sed -E 's/_p[0-9a-f]{16}/_P/g' "$PC_TMP/check.out" | grep -qxF "$line" || pc_fail "--check lacks '$line': $(cat "$PC_TMP/check.out")"
done
grep -q '\[ \(payload\|cmp\|meta\|immediate\)' "$PC_TMP/check.out" &&
	pc_fail "--check prints libnftnl's dump: $(cat "$PC_TMP/check.out")"

pc_apply host || pc_fail "apply failed: $(cat "$PC_TMP/apply.err")"
pc_expect True pc_nft_json host \
	'any(o.get("table", {}).get("name") == "portctl" and o["table"]["family"] == "inet" for o in r)'
pc_expect True pc_nft_json host \
	'{"input", "output", "in_public", "out_public"} <= {o["chain"]["name"] for o in r if "chain" in o}'
pc_expect True pc_nft_json host \
	'[c for c in r if "chain" in c and c["chain"]["name"] == "input"][0]["chain"]["hook"] == "input"'
# The run of port rules is a set lookup per verdict, not a rule per port (the
# chain also holds the bans, the preamble jump, the answer to ping and the
# policy).
pc_expect True pc_nft_json host \
	'len([o for o in r if "rule" in o and o["rule"]["chain"] == "in_public"]) < 17'
pc_expect True pc_nft_json host \
	'any("set" in o and o["set"]["type"] == ["inet_proto", "inet_service"] for o in r)'
pc_expect True pc_nft_json host \
	'any(o["rule"].get("comment") == "intranet" for o in r if "rule" in o)'
pc_in host nft list table inet portctl | grep -q 'comment "plain web"' ||
	pc_fail "element comment 'plain web' missing"

# portctld has exited; the table is still there, holding the rules.
pc_expect 1 pc_nft_json host 'len([o for o in r if "table" in o and o["table"]["name"] == "portctl"])'

# The configuration that applied is kept under the state directory.
[ -f "$PC_TMP/state/last-good/etc/rules.d/10-web.rules" ] || pc_fail "no saved copy"
cmp -s "$PC_TMP/state/last-good/etc/rules.d/10-web.rules" "$PC_TMP/etc/rules.d/10-web.rules" ||
	pc_fail "saved copy differs"

# An invalid configuration: exit 2, FILE:LINE:COL, nothing changed.
before=$(pc_in host nft list ruleset)
pc_config_write 20-bad.rules 'allow 443/tcp' 'allow 70000/tcp'
rc=0
pc_apply host || rc=$?
[ "$rc" -eq 2 ] || pc_fail "invalid configuration gave exit $rc, expected 2"
grep -q '20-bad.rules:2:[0-9]*: error' "$PC_TMP/apply.err" ||
	pc_fail "no FILE:LINE:COL in: $(cat "$PC_TMP/apply.err")"
[ "$(pc_in host nft list ruleset)" = "$before" ] || pc_fail "ruleset changed by an invalid configuration"
rc=0
"$PC_PORTCTLD" --check $(pc_portctld_args) >/dev/null 2>&1 || rc=$?
[ "$rc" -eq 2 ] || pc_fail "--check of an invalid configuration gave exit $rc"
exit 0
