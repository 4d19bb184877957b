#!/bin/sh
# apply --confirm with real traffic: a change that closes a port is rolled
# back when not confirmed, kept when confirmed, and rolled back by a daemon
# killed (kill -9) and restarted during the window; rule changes during the
# window are refused (they would be rolled back with it), bans are not.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon-lib.sh"
. "$(dirname "$0")/trust-lib.sh"
pc_require
pcd_setup

open_443() {
	pc_config_write 10-base.rules 'allow 22/tcp' 'allow 443/tcp comment "web"'
}
close_443() {
	pc_config_write 10-base.rules 'allow 22/tcp'
}

open_443
pcd_start
pc_listen host tcp:443
pc_expect open pc_probe peer tcp 10.99.7.1 443

pcd_log "not confirmed within 2 s: the previous rules come back, the files stay"
close_443
pcd_as_member apply --confirm 2 >"$PC_TMP/out" || pc_fail "apply --confirm 2 failed"
grep -q "portctl confirm" "$PC_TMP/out" || pc_fail "no hint to confirm: $(cat "$PC_TMP/out")"
grep -q "not the files" "$PC_TMP/out" || pc_fail "rollback scope not said: $(cat "$PC_TMP/out")"
# What the window looks like (closed port, marker, status) is checked with
# the long window below: 2 s may be over before a slow machine looks.
tw_wait tw_source_is rolled-back || pc_fail "no rollback: source $(tw_status_field source)"
pc_expect open pc_probe peer tcp 10.99.7.1 443
grep -q 443 "$PC_TMP/etc/rules.d/10-base.rules" && pc_fail "the rollback rewrote the files"
[ ! -e "$PC_TMP/state/pending-confirm.json" ] || pc_fail "pending marker left after rollback"
grep -q "ROLLED BACK" "$PC_TMP/portctld.log" || pc_fail "rollback not logged"
pcd_as_member confirm 2>/dev/null
[ $? -eq 1 ] || pc_fail "confirm with nothing pending must exit 1"

pcd_log "confirmed in time: the change stays after the window"
pcd_as_member apply --confirm 4 >/dev/null || pc_fail "second apply --confirm failed"
pcd_as_member confirm >"$PC_TMP/out" || pc_fail "confirm failed"
grep -q confirmed "$PC_TMP/out" || pc_fail "confirm said: $(cat "$PC_TMP/out")"
# Past the 4 s deadline: nothing may come back.
sleep 5
[ "$(tw_status_field source)" = files ] || pc_fail "source $(tw_status_field source) after confirm"
pc_expect timeout pc_probe peer tcp 10.99.7.1 443
[ ! -e "$PC_TMP/state/pending-confirm.json" ] || pc_fail "pending marker left after confirm"

pcd_log "kill -9 and restart during the window: rolled back at start-up"
open_443
pcd_as_member reload || pc_fail "reload"
pc_expect open pc_probe peer tcp 10.99.7.1 443
close_443
pcd_as_member apply --confirm 120 >/dev/null || pc_fail "apply --confirm 120 failed"
pc_expect timeout pc_probe peer tcp 10.99.7.1 443
[ -e "$PC_TMP/state/pending-confirm.json" ] || pc_fail "pending rollback not persisted"
[ -n "$(tw_status_field pending_confirm)" ] || pc_fail "status does not show the trial"
pcd_as_member status | grep -q "On trial" || pc_fail "status text does not show the trial"
# A rule change now would be rolled back with the trial (a temporary rule
# for good): refused, with what to do; a ban (kept through a rollback) not.
for change in "allow 8443/tcp" "allow 8443/tcp --timeout 1h" "allow 8443/tcp --runtime" \
	"delete allow 22/tcp" "service trialsvc 8444/tcp"; do
	# shellcheck disable=SC2086
	pcd_as_member $change >"$PC_TMP/out" 2>&1
	rc=$?
	[ "$rc" -eq 1 ] && grep -q "apply --confirm' is waiting.*portctl confirm" "$PC_TMP/out" ||
		pc_fail "'$change' during the trial: exit $rc, $(cat "$PC_TMP/out")"
done
grep -q 8443 "$PC_TMP/etc/rules.d/90-portctl.rules" 2>/dev/null && pc_fail "a refused rule was written"
pcd_as_member ban 192.0.2.77 >/dev/null || pc_fail "ban during the trial"
kill -9 "$PCD_PID"
wait "$PCD_PID" 2>/dev/null
pc_expect timeout pc_probe peer tcp 10.99.7.1 443
pcd_start
[ "$(tw_status_field source)" = rolled-back ] || pc_fail "restart did not roll back"
pc_expect open pc_probe peer tcp 10.99.7.1 443
[ ! -e "$PC_TMP/state/pending-confirm.json" ] || pc_fail "pending marker left after restart"
grep -q "PENDING CONFIRMATION FOUND" "$PC_TMP/portctld.log" || pc_fail "restart rollback not logged"
pc_in host nft list table inet portctl | grep -q "192\.0\.2\.77" ||
	pc_fail "the ban made during the trial is gone after its rollback"
pcd_log "and the rolled-back rules are the last good copy now"
grep -q 443 "$PC_TMP/state/last-good/etc/rules.d/10-base.rules" || pc_fail "last-good not restored"

pcd_log "usage errors"
pcd_as_member apply --confirm 0 2>/dev/null
[ $? -eq 2 ] || pc_fail "--confirm 0 must exit 2"
exit 0
