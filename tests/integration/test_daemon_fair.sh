#!/bin/sh
# Unprivileged clients cannot starve root: with 500 hostile connections of
# uid 65534 (idle, slow readers, oversized, garbage, half-closed) and 70
# clients of it asking once a second, root's 50 status and 50 allow all
# succeed; the daemon logs the flood in a few summary lines. The median
# latency is printed, not asserted.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon-lib.sh"
pc_require
pcd_setup
pc_config_write 10-base.rules 'allow 22/tcp'
pcd_start

fds() {
	ls "/proc/$PCD_PID/fd" | wc -l
}
fds0=$(fds)
# Where uid 65534 can read it, and a python3 it may run (a python3 under
# root's home, pyenv's, is out of its reach).
mkdir "$PC_TMP/nobody"
cp "$top_srcdir/tests/integration/hostile_clients.py" "$PC_TMP/nobody/"
chown -R 65534:65534 "$PC_TMP/nobody"
as_nobody() {
	setpriv --reuid 65534 --regid 65534 --clear-groups "$@"
}
py=""
for p in python3 /usr/bin/python3; do
	as_nobody "$p" -c pass 2>/dev/null && py=$p && break
done
[ -n "$py" ] || pc_skip "no python3 that uid 65534 can run"

# Each call's time goes into a file; the median is a figure for the log.
timed() {
	start=$(date +%s%N)
	"$PCD_PORTCTL" -s "$PCD_SOCK" "$@" >/dev/null 2>>"$PC_TMP/root.err" || return 1
	echo $((($(date +%s%N) - start) / 1000)) >>"$PC_TMP/times"
}
median_ms() {
	sort -n "$1" | awk '{ v[NR] = $1 } END { m = v[int((NR + 1) / 2)]; printf "%.1f", m / 1000 }'
}
# The same calls at rest, for comparison.
for i in $(seq 10); do
	timed status || pc_fail "status at rest"
	timed allow $((20100 + i))/tcp || pc_fail "allow at rest"
done
mv "$PC_TMP/times" "$PC_TMP/times.rest"

attack_start=$(date +%s)
pc_background host setpriv --reuid 65534 --regid 65534 --clear-groups "$py" \
	"$PC_TMP/nobody/hostile_clients.py" "$PCD_SOCK" 500 70 "$PC_TMP/nobody/stats.json"
hostile=$PC_LAST_PID
# Every kind in play before root starts: the first slow reader has been
# dropped for not reading (2 s), so the others hold their slots meanwhile.
for _ in $(seq 200); do
	grep -q "did not read its response" "$PC_TMP/portctld.log" && break
	sleep 0.05
done
grep -q "did not read its response" "$PC_TMP/portctld.log" || pc_fail "no slow reader was dropped"

ok_status=0
ok_allow=0
for i in $(seq 50); do
	timed status && ok_status=$((ok_status + 1))
	timed allow $((20000 + i))/tcp && ok_allow=$((ok_allow + 1))
done
pcd_log "daemon holding $(fds) fds under attack (at rest: $fds0)"
pcd_log "root under attack: $ok_status/50 status, $ok_allow/50 allow;" \
	"median $(median_ms "$PC_TMP/times") ms (at rest: $(median_ms "$PC_TMP/times.rest") ms)"
kill -0 "$PCD_PID" || pc_fail "portctld died"
[ "$ok_status" -eq 50 ] && [ "$ok_allow" -eq 50 ] ||
	pc_fail "root failed under attack: $(sort "$PC_TMP/root.err" | uniq -c)"
[ "$(pcd_nft_has 20050)" = True ] || pc_fail "20050/tcp is not in the table"

pc_stop "$hostile"
attack_s=$(($(date +%s) - attack_start))
pcd_log "hostile clients: $(cat "$PC_TMP/nobody/stats.json")"
python3 - "$PC_TMP/nobody/stats.json" <<'PY' || pc_fail "the hostile clients were not limited"
import json, sys
s = json.load(open(sys.argv[1]))
sys.exit(0 if s["refusals"] > 0 and s["closed_by_daemon"] > 500 else 1)
PY
# Their connections all close: wait for the daemon to see it.
for _ in $(seq 100); do
	[ "$(fds)" -le "$fds0" ] && break
	sleep 0.05
done
[ "$(fds)" -le "$fds0" ] || pc_fail "$(fds) fds still open after the clients left (at rest: $fds0)"

# Refused, closed and dropped clients: for each of the 5 kinds the first in
# full, then a summary every 10 s; never a line per client.
n=$(grep -c "refused\|closed\|dropped" "$PC_TMP/portctld.log")
max=$((5 * (2 + attack_s / 10)))
pcd_log "flood lines in the log: $n in $attack_s s (at most $max)"
grep "refused\|closed\|dropped" "$PC_TMP/portctld.log" | head -n "$max" >&2
[ "$n" -le "$max" ] || pc_fail "$n log lines about refused clients"
"$PCD_PORTCTL" -s "$PCD_SOCK" status >/dev/null || pc_fail "status after the attack"
exit 0
