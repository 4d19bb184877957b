#!/bin/sh
# Bans saved as a journal: a ban or unban made in place is one record
# appended to STATE/bans.journal (fsync'd), not a rewrite of bans.json.
# At start the journal is replayed over bans.json and written into it; a
# journal left from before bans.json's last whole write (a crash between
# the two) is not replayed, and a half-written last record is left out.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon-lib.sh"
pc_require
pcd_setup
pc_config_write 10-web.rules 'allow 80/tcp'
P() { "$PCD_PORTCTL" -s "$PCD_SOCK" "$@" >"$PC_TMP/out" 2>&1 || pc_fail "portctl $*: $(cat "$PC_TMP/out")"; }
S="$PC_TMP/state"

# in_kernel ADDR: the kernel's ban set holds ADDR.
in_kernel() {
	pc_in host nft list set inet portctl ban4 | grep -q "$1"
}

# state_read_only, state_writable: the state directory and its bans files
# (bans.json is there once the bans were written whole).
state_read_only() {
	chmod 444 "$S"/bans.*
	chmod 555 "$S"
}
state_writable() {
	chmod 755 "$S"
	chmod 644 "$S"/bans.*
}

pcd_start
P ban 198.51.100.1
P ban 198.51.100.2 --timeout 1h
P ban 198.51.100.3
P unban 198.51.100.1
[ -s "$S/bans.journal" ] || pc_fail "the bans made in place were not journalled"
grep -q '"op":"unban"' "$S/bans.journal" || pc_fail "no unban record: $(cat "$S/bans.journal")"
grep -qs 198.51.100.3 "$S/bans.json" && pc_fail "a ban in place rewrote bans.json"

pcd_log "a ban that cannot be saved fails and is taken back from the kernel"
# portctld keeps CAP_NET_ADMIN alone: read-only files stop it.
state_read_only
"$PCD_PORTCTL" -s "$PCD_SOCK" ban 198.51.100.4 >"$PC_TMP/out" 2>&1
rc=$?
state_writable
[ $rc -ne 0 ] || pc_fail "a ban that could not be saved succeeded: $(cat "$PC_TMP/out")"
in_kernel 198.51.100.4 && pc_fail "the unsaved ban stayed in the kernel"
in_kernel 198.51.100.3 || pc_fail "the rollback took another ban away"
# Nor in the daemon's own list: the next ban and a reload compose from it.
P ban 198.51.100.5
P reload
in_kernel 198.51.100.4 && pc_fail "the unsaved ban came back with the next change"
in_kernel 198.51.100.5 || pc_fail "the ban after a failed one is not in force"
n=$("$PCD_PORTCTL" -s "$PCD_SOCK" metrics | awk '/^portctl_bans[{ ]/ { s += $NF } END { print s + 0 }')
[ "$n" = 3 ] || pc_fail "the daemon counts $n bans, not 3 (198.51.100.2, .3, .5)"

pcd_log "an unban that cannot be saved fails; the ban stays in the kernel and in the daemon's list"
# The oldest (the bans before an unban's place move over it), one in the
# middle held by two owners (both claims lifted at once), the newest.
P ban 198.51.100.3 --by f2b-x
for a in 198.51.100.2 198.51.100.3 198.51.100.5; do
	state_read_only
	"$PCD_PORTCTL" -s "$PCD_SOCK" unban "$a" >"$PC_TMP/out" 2>&1
	rc=$?
	state_writable
	[ $rc -ne 0 ] || pc_fail "an unban of $a that could not be saved succeeded: $(cat "$PC_TMP/out")"
	in_kernel "$a" || pc_fail "the unsaved unban of $a took it from the kernel"
done
# A ban again with a timeout, unsaved: the ban stays as it was, without one.
state_read_only
"$PCD_PORTCTL" -s "$PCD_SOCK" ban 198.51.100.5 --timeout 1h >"$PC_TMP/out" 2>&1
rc=$?
state_writable
[ $rc -ne 0 ] || pc_fail "a ban again that could not be saved succeeded: $(cat "$PC_TMP/out")"
# elem ADDR: ADDR's element in the kernel's ban set, with its timeout if any.
elem() {
	pc_in host nft list set inet portctl ban4 | tr ',{}' '\n\n\n' | grep -F "$1"
}
elem 198.51.100.5 | grep -q timeout && pc_fail "the unsaved ban again took: $(elem 198.51.100.5)"
# The next changes and a reload compose from the daemon's list: all there,
# the two claims on .3 still together (one lifted, the other holds).
P ban 198.51.100.6
P unban 198.51.100.6
P unban 198.51.100.3 --by f2b-x
grep -q "stays banned" "$PC_TMP/out" || pc_fail "the administrator's claim on .3 was lost: $(cat "$PC_TMP/out")"
P reload
for a in 198.51.100.2 198.51.100.3 198.51.100.5; do
	in_kernel "$a" || pc_fail "the ban of $a was lost after its failed unban"
done
elem 198.51.100.5 | grep -q timeout && pc_fail "the unsaved ban again came back: $(elem 198.51.100.5)"
# A ban again that is saved holds.
P ban 198.51.100.5 --timeout 1h
elem 198.51.100.5 | grep -q timeout || pc_fail "the ban again did not take: $(elem 198.51.100.5)"
P ban 198.51.100.5
n=$("$PCD_PORTCTL" -s "$PCD_SOCK" metrics | awk '/^portctl_bans[{ ]/ { s += $NF } END { print s + 0 }')
[ "$n" = 3 ] || pc_fail "after the failed unbans the daemon counts $n bans, not 3"

pcd_log "a ban's timeout lifts it as an unban would: a journal record, and nothing sent"
# The kernel lets the element lapse by itself; .22's other claim, longer,
# holds it, its end unchanged.
P ban 198.51.100.21 --timeout 2
P ban 198.51.100.22 --timeout 2 --by f2b-x
P ban 198.51.100.22 --timeout 3600
unbans=$(grep -c '"op":"unban"' "$S/bans.journal")
pc_monitor_start host "$PC_TMP/monitor"
# both_lapsed: the two claims of 2 s are no longer among the saved bans.
both_lapsed() {
	f=$(pcd_bans_file)
	! grep -q 198.51.100.21 "$f" && ! grep -q f2b-x "$f"
}
pc_until 200 both_lapsed || pc_fail "the bans of 2 s did not lapse: $(cat "$(pcd_bans_file)")"
pc_monitor_stop
n=$(grep -c "^# new generation .*(portctld)" "$PC_TMP/monitor")
[ "$n" -eq 0 ] || pc_fail "the expiries sent $n transactions: $(head -c 2000 "$PC_TMP/monitor")"
[ "$(grep -c '"op":"unban"' "$S/bans.journal")" -eq $((unbans + 2)) ] ||
	pc_fail "the expiries are not two unban records: $(tail -3 "$S/bans.journal")"
in_kernel 198.51.100.21 && pc_fail "the lapsed ban is in the kernel: $(elem 198.51.100.21)"
elem 198.51.100.22 | grep -q "expires 59m" || pc_fail "the longer claim on .22 lost its end: $(elem 198.51.100.22)"
"$PCD_PORTCTL" -s "$PCD_SOCK" diff >"$PC_TMP/out" 2>&1 || pc_fail "the table differs after the expiries: $(cat "$PC_TMP/out")"

pcd_log "an expiry that cannot be saved is tried again later, not over and over at once"
P ban 198.51.100.31 --timeout 2
n0=$(grep -c "expired bans could not be lifted" "$PC_TMP/portctld.log")
state_read_only
tried() { [ "$(grep -c "expired bans could not be lifted" "$PC_TMP/portctld.log")" -gt "$n0" ]; }
pc_until 200 tried || { state_writable; pc_fail "the expiry was not tried"; }
# A daemon that tries again at once spins: a core's worth of CPU, and the
# error logged thousands of times, in the window below.
c0=$(cut -d' ' -f1 "/proc/$PCD_PID/schedstat")
sleep 2
c1=$(cut -d' ' -f1 "/proc/$PCD_PID/schedstat")
n=$(($(grep -c "expired bans could not be lifted" "$PC_TMP/portctld.log") - n0))
state_writable
[ "$n" -le 5 ] && [ $(((c1 - c0) / 1000000)) -lt 400 ] ||
	pc_fail "a failed expiry was tried $n times in about 2 s, $(((c1 - c0) / 1000000)) ms of CPU"
lifted() { ! grep -q 198.51.100.31 "$(pcd_bans_file)"; }
pc_until 400 lifted || pc_fail "the expiry was not tried again once it could be saved"

pcd_log "kill -9 and start: the journal is replayed, then written into bans.json"
kill -9 "$PCD_PID"
wait "$PCD_PID" 2>/dev/null
pcd_start
in_kernel 198.51.100.2 && in_kernel 198.51.100.3 || pc_fail "journalled bans lost: $(pc_in host nft list set inet portctl ban4)"
in_kernel 198.51.100.1 && pc_fail "a journalled unban was lost"
# The expired claim on .22 stays lifted, the longer one holds, with its end.
elem 198.51.100.22 | grep -q "expires 59m" || pc_fail "after the restart .22 is $(elem 198.51.100.22)"
grep -q f2b-x "$(pcd_bans_file)" && pc_fail "the expired claim came back: $(cat "$(pcd_bans_file)")"
in_kernel 198.51.100.4 && pc_fail "the ban that failed came back"
[ -e "$S/bans.journal" ] && pc_fail "the journal was not written into bans.json at start"
grep -q 198.51.100.3 "$S/bans.json" || pc_fail "bans.json lacks the journalled ban"
P unban 198.51.100.22

pcd_log "a journal of another generation of bans.json is left out"
pcd_stop
gen=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("generation", 0))' "$S/bans.json")
printf '{"generation":%s}\n{"address":"198.51.100.9","expires":0,"op":"ban"}\n' $((gen - 1)) >"$S/bans.journal"
pcd_start
in_kernel 198.51.100.9 && pc_fail "a stale journal was replayed"
in_kernel 198.51.100.3 || pc_fail "the bans of bans.json were lost"

pcd_log "a half-written last record is left out, the records before it are kept"
pcd_stop
gen=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("generation", 0))' "$S/bans.json")
printf '{"generation":%s}\n{"address":"198.51.100.7","expires":0,"op":"ban"}\n{"address":"198.51.100.8","exp' "$gen" >"$S/bans.journal"
pcd_start
in_kernel 198.51.100.7 || pc_fail "the journal's whole record was lost"
in_kernel 198.51.100.8 && pc_fail "a half record was taken"
grep -q "malformed record" "$PC_TMP/portctld.log" || pc_fail "the half record was not logged"
pcd_stop
exit 0
