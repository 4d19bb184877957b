#!/bin/sh
# A configuration the kernel refuses changes nothing and names FILE:LINE:COL;
# another nftables user's table is never touched by an apply.
. "$(dirname "$0")/lib.sh"
pc_require
pc_ns_add host

pc_in host nft add table inet other
pc_in host nft add chain inet other keep '{ type filter hook input priority 10; policy accept; }'
pc_in host nft add rule inet other keep tcp dport 9999 counter accept

pc_config_write 10-web.rules 'allow 443/tcp' 'allow 22/tcp from 10.0.0.0/8'
pc_apply host || pc_fail "first apply failed: $(cat "$PC_TMP/apply.err")"
before=$(pc_in host nft list ruleset)
echo "$before" | grep -q 'table inet other' || pc_fail "table inet other was deleted"

# The validator accepts this; the kernel is made to refuse the last rule
# of the files by the test driver refuseapply, which tells the transport so
# (an empty defaults.rules: no shipped "allow ssh" comes after them).
: >"$PC_TMP/etc/defaults.rules"
pc_config_write 10-web.rules 'allow 443/tcp' 'allow 444/tcp' 'allow 22/tcp from 10.0.0.0/8'
rc=0
# shellcheck disable=SC2046
pc_in host "$top_builddir/tests/integration/refuseapply" "$PC_TMP/etc" "$top_srcdir/rules" \
	"$PC_TMP/state" 2>"$PC_TMP/apply.err" || rc=$?
[ "$rc" -eq 1 ] || pc_fail "kernel refusal gave exit $rc, expected 1"
grep -q '10-web.rules:3:1: error: kernel refused rule .*Invalid argument' "$PC_TMP/apply.err" ||
	pc_fail "error does not name the rule: $(cat "$PC_TMP/apply.err")"
after=$(pc_in host nft list ruleset)
[ "$after" = "$before" ] || pc_fail "ruleset changed after a refused transaction"
grep -q 'allow 444' "$PC_TMP/state/last-good/etc/rules.d/10-web.rules" &&
	pc_fail "a refused configuration was saved as the last good one"

# The same files, applied by portctld, apply, and the foreign table survives.
pc_apply host || pc_fail "apply failed: $(cat "$PC_TMP/apply.err")"
pc_in host nft list table inet other | grep -q 'tcp dport 9999' || pc_fail "table inet other changed"
pc_in host nft list table inet portctl | grep -q '444' || pc_fail "new rule not applied"
exit 0
