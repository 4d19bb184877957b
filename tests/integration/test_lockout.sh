#!/bin/sh
# The lock-out guard: with SSH_CONNECTION set as sshd sets it, a reload or
# a CLI rule change that would refuse the admin's reconnects is refused
# with the reason, unless --force (or apply --confirm) is given.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon-lib.sh"
. "$(dirname "$0")/trust-lib.sh"
pc_require
pcd_setup

pc_config_write 10-base.rules 'allow 443/tcp'
# An empty defaults.rules drops the shipped "allow ssh": below, the zone's
# policy must be what decides once the admin's ssh rule is gone.
: >"$PC_TMP/etc/defaults.rules"
pcd_start
# sshd on 2222: no shipped default rule speaks for that port.
pc_listen host tcp:2222
pcd_as_member allow 2222/tcp comment ssh || pc_fail "allow 2222/tcp without a session"
pc_expect open pc_probe peer tcp 10.99.7.1 2222

SESSION="10.99.7.2 51234 10.99.7.1 2222"

pcd_log "a CLI rule that would drop the session is refused, naming the rule"
n=$(pcd_rule_field 'allow 2222/tcp comment "ssh"' number)
SSH_CONNECTION=$SESSION
pcd_as_member insert "$n" deny 2222/tcp 2>"$PC_TMP/err"
rc=$?
SSH_CONNECTION=""
[ $rc -eq 1 ] || pc_fail "insert deny 2222 exited $rc, expected 1: $(cat "$PC_TMP/err")"
grep -q "would cut your SSH session from 10.99.7.2 port 51234 to port 2222 on vh" "$PC_TMP/err" ||
	pc_fail "no session in the refusal: $(cat "$PC_TMP/err")"
grep -q "90-portctl.rules:1 (deny 2222/tcp)" "$PC_TMP/err" ||
	pc_fail "the refusal does not name the rule: $(cat "$PC_TMP/err")"
grep -q -- "--force" "$PC_TMP/err" || pc_fail "no --force hint"
grep -q "deny" "$PC_TMP/etc/rules.d/90-portctl.rules" && pc_fail "refused rule was persisted"

pcd_log "deleting the rule that lets the session in is refused (zone policy decides)"
SSH_CONNECTION=$SESSION
pcd_as_member delete comment ssh 2>"$PC_TMP/err"
rc=$?
SSH_CONNECTION=""
[ $rc -eq 1 ] || pc_fail "delete exited $rc, expected 1"
grep -q "inbound policy of zone public would drop it" "$PC_TMP/err" ||
	pc_fail "no policy named: $(cat "$PC_TMP/err")"
pc_expect open pc_probe peer tcp 10.99.7.1 2222

pcd_log "a reload that would drop it is refused too, and suggests --confirm"
cp "$PC_TMP/etc/rules.d/90-portctl.rules" "$PC_TMP/90.saved"
pc_config_write 90-portctl.rules '# emptied by hand'
SSH_CONNECTION=$SESSION
pcd_as_member reload 2>"$PC_TMP/err"
rc=$?
SSH_CONNECTION=""
[ $rc -eq 1 ] || pc_fail "reload exited $rc, expected 1"
grep -q -- "--confirm SECONDS to try it safely" "$PC_TMP/err" || pc_fail "no --confirm hint"
pc_expect open pc_probe peer tcp 10.99.7.1 2222

pcd_log "a session from elsewhere is not guarded: the same reload passes"
SSH_CONNECTION="10.99.7.2 51234 10.99.7.1 2200"
pcd_as_member reload || pc_fail "reload for a session on port 2200 (already dropped) refused"
SSH_CONNECTION=""
pc_expect timeout pc_probe peer tcp 10.99.7.1 2222
cp "$PC_TMP/90.saved" "$PC_TMP/etc/rules.d/90-portctl.rules"
pcd_as_member reload || pc_fail "reload back"
pc_expect open pc_probe peer tcp 10.99.7.1 2222

pcd_log "--force applies it anyway"
SSH_CONNECTION=$SESSION
pcd_as_member delete comment ssh --force || pc_fail "delete --force refused"
SSH_CONNECTION=""
pc_expect timeout pc_probe peer tcp 10.99.7.1 2222

pcd_log "a deny made in place that would decide the session's reconnect is refused too"
# Zone lab accepts by policy, and holds a port run a CLI deny joins in
# place (element-only): the guard must look at the new elements.
pc_config_write 20-lab.rules 'zone lab interface vh policy in accept' 'allow 2400/tcp zone lab'
pcd_as_member reload >/dev/null || pc_fail "reload with zone lab"
pc_listen host tcp:2300 tcp:2301
pc_expect open pc_probe peer tcp 10.99.7.1 2300
cp "$PC_TMP/etc/rules.d/90-portctl.rules" "$PC_TMP/90.saved"
SSH_CONNECTION="10.99.7.2 51234 10.99.7.1 2300"
pcd_as_member deny 2300/tcp zone lab 2>"$PC_TMP/err"
rc=$?
SSH_CONNECTION=""
[ $rc -eq 1 ] || pc_fail "deny 2300 zone lab exited $rc, expected 1: $(cat "$PC_TMP/err")"
grep -q "deny 2300/tcp zone lab" "$PC_TMP/err" || pc_fail "the refusal does not name the rule: $(cat "$PC_TMP/err")"
cmp -s "$PC_TMP/90.saved" "$PC_TMP/etc/rules.d/90-portctl.rules" || pc_fail "refused rule was persisted"
pc_expect open pc_probe peer tcp 10.99.7.1 2300
SSH_CONNECTION="10.99.7.2 51234 10.99.7.1 2300"
pcd_as_member deny 2301/tcp zone lab || pc_fail "a deny of another port was refused"
SSH_CONNECTION=""
pc_expect timeout pc_probe peer tcp 10.99.7.1 2301
pc_expect open pc_probe peer tcp 10.99.7.1 2300

pcd_log "an address rule added in place (an entry of its own) that drops the session is refused"
cp "$PC_TMP/etc/rules.d/90-portctl.rules" "$PC_TMP/90.saved"
SSH_CONNECTION="10.99.7.2 51234 10.99.7.1 2300"
pcd_as_member deny from 10.99.7.2 zone lab 2>"$PC_TMP/err"
rc=$?
SSH_CONNECTION=""
[ $rc -eq 1 ] || pc_fail "deny from the session's address exited $rc, expected 1: $(cat "$PC_TMP/err")"
grep -q "would cut your SSH session" "$PC_TMP/err" || pc_fail "no session in the refusal: $(cat "$PC_TMP/err")"
cmp -s "$PC_TMP/90.saved" "$PC_TMP/etc/rules.d/90-portctl.rules" || pc_fail "refused rule was persisted"
pc_expect open pc_probe peer tcp 10.99.7.1 2300

pcd_log "a rule of its own in several zones, made in place, that drops the session is refused"
SSH_CONNECTION="10.99.7.2 51234 10.99.7.1 2300"
pcd_as_member deny 2300/tcp from 10.99.7.2 zone public,lab 2>"$PC_TMP/err"
rc=$?
[ $rc -eq 1 ] || pc_fail "deny of two zones exited $rc, expected 1: $(cat "$PC_TMP/err")"
grep -q "would cut your SSH session" "$PC_TMP/err" || pc_fail "no session in the refusal: $(cat "$PC_TMP/err")"
cmp -s "$PC_TMP/90.saved" "$PC_TMP/etc/rules.d/90-portctl.rules" || pc_fail "refused rule was persisted"
pcd_as_member deny 2302/tcp from 10.99.7.2 zone public,lab ||
	pc_fail "a deny of two zones and another port was refused"
SSH_CONNECTION=""
pc_expect open pc_probe peer tcp 10.99.7.1 2300

pcd_log "a rule of a port and a source joining a run of ports in place that drops the session is refused"
# A run of ports (rules of a port and a source each) right after the CLI's
# file: the CLI's deny joins it as set elements, which the guard must read.
pc_config_write 95-lab-hosts.rules 'allow 2500/tcp from 10.98.0.1 zone lab' \
	'allow 2501/tcp from 10.98.0.0/24 zone lab'
pcd_as_member reload >/dev/null || pc_fail "reload with the run of ports"
cp "$PC_TMP/etc/rules.d/90-portctl.rules" "$PC_TMP/90.saved"
SSH_CONNECTION="10.99.7.2 51234 10.99.7.1 2300"
pcd_as_member deny 2300/tcp from 10.99.7.2 zone lab 2>"$PC_TMP/err"
rc=$?
[ $rc -eq 1 ] || pc_fail "deny into a run of ports exited $rc, expected 1: $(cat "$PC_TMP/err")"
grep -q "would cut your SSH session" "$PC_TMP/err" || pc_fail "no session in the refusal: $(cat "$PC_TMP/err")"
cmp -s "$PC_TMP/90.saved" "$PC_TMP/etc/rules.d/90-portctl.rules" || pc_fail "refused rule was persisted"
pcd_as_member deny 2303/tcp from 10.99.7.2 zone lab ||
	pc_fail "a deny into the run of another port was refused"
SSH_CONNECTION=""
pc_expect open pc_probe peer tcp 10.99.7.1 2300

pcd_log "a port range that makes its port run again in place and drops the session is refused"
# Zone lab's port run (allow 2400/tcp, the CLI's deny 2301/tcp) has no set
# of ranges: a range put in it makes the run again with one (run_remake),
# which the guard must judge.
at=$(($(pcd_rule_field 'deny 2301/tcp zone lab' number) + 1))
cp "$PC_TMP/etc/rules.d/90-portctl.rules" "$PC_TMP/90.saved"
SSH_CONNECTION="10.99.7.2 51234 10.99.7.1 2300"
pcd_as_member insert "$at" deny 2298-2302/tcp zone lab 2>"$PC_TMP/err"
rc=$?
[ $rc -eq 1 ] || pc_fail "a range over the session's port exited $rc, expected 1: $(cat "$PC_TMP/err")"
grep -q "would cut your SSH session" "$PC_TMP/err" || pc_fail "no session in the refusal: $(cat "$PC_TMP/err")"
cmp -s "$PC_TMP/90.saved" "$PC_TMP/etc/rules.d/90-portctl.rules" || pc_fail "refused rule was persisted"
pc_monitor_start host "$PC_TMP/mon"
pcd_as_member insert "$at" deny 2350-2360/tcp zone lab || pc_fail "a range of other ports was refused"
pc_monitor_stop
grep -q "^add set inet portctl in_lab_p[0-9a-f]*_ranges_drop " "$PC_TMP/mon" ||
	pc_fail "the range did not make its run again with a set of ranges: $(cat "$PC_TMP/mon")"
SSH_CONNECTION=""
pc_expect open pc_probe peer tcp 10.99.7.1 2300

pcd_log "a malformed SSH_CONNECTION is a usage error"
SSH_CONNECTION="not a session"
pcd_as_member allow 2222/tcp 2>/dev/null
rc=$?
SSH_CONNECTION=""
[ $rc -eq 2 ] || pc_fail "malformed SSH_CONNECTION exited $rc, expected 2"
exit 0
