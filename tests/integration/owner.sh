#!/bin/sh
# Ownership: while a process holds the table, nobody else may change it;
# after portctld --apply-once exits, the table persists and is re-claimed.
. "$(dirname "$0")/lib.sh"
pc_require
[ -x "$PC_HOLDER" ] || pc_skip "holder not built"
pc_ns_add host

pc_config_write portctl.conf 'table-owner = yes'
pc_config_write 10-web.rules 'allow 443/tcp'
pc_apply host || pc_fail "apply failed: $(cat "$PC_TMP/apply.err")"
pc_in host nft list table inet portctl >/dev/null || pc_fail "table gone after --apply-once exited"

pc_background host "$PC_HOLDER" "$PC_TMP/etc" "$top_srcdir/rules" "$PC_TMP/state"
[ "$PC_READY" = "ready owned" ] || pc_fail "holder did not own the table: $PC_READY"
holder=$PC_LAST_PID
out=$(pc_in host nft add chain inet portctl intruder 2>&1) && pc_fail "foreign change accepted"
echo "$out" | grep -q 'Operation not permitted' || pc_fail "unexpected error: $out"
rc=0
pc_apply host || rc=$?
[ "$rc" -eq 1 ] || pc_fail "apply while owned elsewhere gave exit $rc"
grep -q 'owns the table' "$PC_TMP/apply.err" || pc_fail "no ownership message: $(cat "$PC_TMP/apply.err")"

# The owner goes away (a daemon crash): the rules stay, and can be claimed.
pc_stop "$holder"
pc_in host nft list table inet portctl | grep -q '443' || pc_fail "rules gone with the owner"
pc_apply host || pc_fail "re-claiming apply failed: $(cat "$PC_TMP/apply.err")"
exit 0
