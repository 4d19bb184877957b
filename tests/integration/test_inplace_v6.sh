#!/bin/sh
# In-place changes over IPv6 (real kernel, real traffic from fd99:7::2 and
# fd99:7::3), with 300 rules, a limit and a v6 deny in force: allow,
# reject, limit, allow from and deny from a v6 address, ban and unban of a
# v6 address, of a v6 prefix and of an address inside it, insert at the
# file's end and the deletes are one transaction each and do what they say
# to v6 traffic (and v4), the counter of the SSH allow after them carries;
# a reload afterwards sends nothing.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon-lib.sh"
pc_require
pcd_setup

HOST=fd99:7::1
A=fd99:7::2 # the peer's address
B=fd99:7::3 # the peer's second address: denied, allowed alone, banned
pc_in peer ip addr add "$B/64" dev vp nodad || pc_fail "second peer address"
RULES90="$PC_TMP/etc/rules.d/90-portctl.rules"

# expect WANT PORT [SOURCE]: a TCP probe over IPv6 from the peer gives WANT.
expect() {
	pc_expect "$1" pc_probe peer tcp "$HOST" "$2" 500 "${3:-$A}"
}

# one CMD...: CMD makes portctld commit exactly once, and leaves no drift.
one() {
	pc_monitor_start host "$PC_TMP/monitor"
	pcd_as_member "$@" >"$PC_TMP/out" 2>&1 || pc_fail "$*: $(cat "$PC_TMP/out")"
	pc_monitor_stop
	n=$(grep -c "^# new generation .*(portctld)" "$PC_TMP/monitor")
	[ "$n" -eq 1 ] || pc_fail "$* made $n transactions, not 1: $(cat "$PC_TMP/monitor")"
	pcd_as_member diff >"$PC_TMP/out" 2>&1 || pc_fail "after $*: portctl diff: $(cat "$PC_TMP/out")"
	pc_log "ok: $*: one transaction"
}

# The model in memory is what the files compile to: nothing to send.
same_as_files() {
	pc_monitor_start host "$PC_TMP/monitor"
	pcd_as_member reload >"$PC_TMP/out" 2>&1 || pc_fail "reload: $(cat "$PC_TMP/out")"
	pc_monitor_stop
	n=$(grep -c "^# new generation .*(portctld)" "$PC_TMP/monitor")
	[ "$n" -eq 0 ] || pc_fail "the reload after the changes ($1) made $n transactions"
	pc_log "ok: reload after the changes ($1): nothing sent"
}

{
	i=0
	while [ $i -lt 300 ]; do
		echo "allow $((10000 + i))/tcp"
		i=$((i + 1))
	done
	echo "limit 30001/tcp"
	echo "deny from fd99:8::/64"
} >"$PC_TMP/etc/rules.d/10-bulk.rules"
pc_listen host tcp:2001 tcp:2002 tcp:2003 tcp:2005 tcp:2006
pcd_start
pcd_as_member ban 2001:db8::9 >/dev/null || pc_fail "ban 2001:db8::9"

# Packets counted by the port-map element of the shipped SSH allow
# (defaults.rules, which sorts after 90-portctl.rules).
ssh_counted() {
	pc_in host nft list table inet portctl |
		sed -n 's/.*tcp \. 22 counter packets \([0-9]*\) .*/\1/p' | head -1
}
pc_probe peer tcp "$HOST" 22 500 "$A" >/dev/null
ssh_before=$(ssh_counted)
[ "${ssh_before:-0}" -gt 0 ] || pc_fail "the SSH element counted nothing"

one allow 2001/tcp
expect open 2001
one reject 2002/tcp
expect refused 2002
one limit 2003/tcp
expect open 2003
one allow 2006/tcp from "$B"
expect open 2006 "$B"
expect timeout 2006
one deny from "$B"
one allow 2005/tcp
expect open 2005
expect timeout 2005 "$B"
one ban "$A"
expect timeout 2001
expect open 2001 "$B"
one unban "$A"
expect open 2001
one ban fd99:7::/126
expect timeout 2001
expect timeout 2001 "$B"
# An address banned inside a banned prefix stays banned when the prefix
# is lifted (the ban set's intervals around it made again).
pcd_as_member ban "$A" >"$PC_TMP/out" 2>&1 || pc_fail "ban $A inside a prefix: $(cat "$PC_TMP/out")"
one unban fd99:7::/126
expect timeout 2001
expect open 2001 "$B"
one unban "$A"
expect open 2001
pc_expect open pc_probe peer tcp 10.99.7.1 2001
# Entries of their own made in place (limit, deny from, allow from)
# number the port maps after them anew: the SSH element's counter carries.
[ "$(ssh_counted)" -ge "$ssh_before" ] ||
	pc_fail "the SSH element's counter went back from $ssh_before to $(ssh_counted)"
same_as_files "added"

one delete allow 2005/tcp
expect timeout 2005
one delete deny from "$B"
one delete allow 2006/tcp from "$B"
expect timeout 2006 "$B"
pos=$(cat "$PC_TMP/etc/rules.d/10-bulk.rules" "$RULES90" | grep -cE '^(allow|deny|reject|limit) ')
one insert "$((pos + 1))" allow 2005/tcp
expect open 2005 "$B"
one delete allow 2005/tcp
one delete limit 2003/tcp
expect timeout 2003
expect refused 2002
pc_expect open pc_probe peer tcp 10.99.7.1 2001
pc_expect refused pc_probe peer tcp 10.99.7.1 2002
same_as_files "deleted"
pc_in host nft list table inet portctl | grep -q "2001:db8::9" || pc_fail "the ban from the start is gone"
pcd_stop
exit 0
