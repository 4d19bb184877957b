#!/bin/sh
# portctld started with an invalid configuration keeps protecting: it logs
# every error as FILE:LINE:COL and keeps the kernel's rules; with nothing of
# ours in the kernel it loads the last configuration that applied cleanly;
# with no such copy either, the safe policy (SSH in, the rest dropped).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon-lib.sh"
pc_require
pcd_setup
pc_listen host tcp:22 tcp:443 tcp:444

pcd_log "a valid configuration applies; the daemon stops, the rules stay"
pc_config_write 10-web.rules 'allow 443/tcp'
pcd_start
pc_expect open pc_probe peer tcp 10.99.7.1 443
pcd_stop

pcd_log "invalid at start: every error logged with FILE:LINE:COL, the kernel's rules kept"
pc_config_write 10-web.rules 'allow 443/tcp' 'allow 70000/tcp' 'allow 444/tcpx'
pcd_start
grep -q "10-web.rules:2:7: port 70000 is out of range" "$PC_TMP/portctld.log" || pc_fail "line 2 not logged: $(cat "$PC_TMP/portctld.log")"
grep -q "10-web.rules:3:11: unknown protocol .tcpx. (hint: did you mean .tcp.?)" "$PC_TMP/portctld.log" ||
	pc_fail "line 3 not logged with its hint"
grep -q "keeping the rules the kernel holds" "$PC_TMP/portctld.log" || pc_fail "keeping not said"
pc_expect open pc_probe peer tcp 10.99.7.1 443
pc_expect timeout pc_probe peer tcp 10.99.7.1 444
pcd_stop

pcd_log "invalid at start and nothing of ours in the kernel: the last good configuration"
pc_in host nft delete table inet portctl || pc_fail "cannot delete the persisted table"
: >"$PC_TMP/portctld.log"
pcd_start
grep -q "THE KERNEL HELD NO RULES OF OURS" "$PC_TMP/portctld.log" || pc_fail "last-good not said loudly"
pc_expect open pc_probe peer tcp 10.99.7.1 443
pc_expect timeout pc_probe peer tcp 10.99.7.1 444
pcd_stop

pcd_log "no last good copy either: the safe policy, SSH in and the rest dropped"
pc_in host nft delete table inet portctl || pc_fail "cannot delete the persisted table"
rm -rf "$PC_TMP/state"
: >"$PC_TMP/portctld.log"
pcd_start
grep -q "SAFE POLICY ACTIVE" "$PC_TMP/portctld.log" || pc_fail "safe policy not said loudly"
pc_expect open pc_probe peer tcp 10.99.7.1 22
pc_expect timeout pc_probe peer tcp 10.99.7.1 443
exit 0
