#!/bin/bash
# Benchmark (on demand, not in make check): portctld's memory when idle on
# an empty configuration, mapping by mapping, and again after work -- 1,000
# changes (500 allow, then their 500 delete: empty again), a reload of
# 10,000 rules and one back to empty -- with the peak; then what the idle
# release (memory.c) costs the first change after it. portctld serves as a
# user of /etc/passwd (--user nobody: no user "portctl" here), as the
# package runs it, and as root for comparison. Root; a network namespace
# of its own.
#   usage: bench_memory.sh [BUILDDIR] [R (7)]
# "Idle" is 1.5 s after the last request: the last good copy is written
# 200 ms after a change, and the release comes 500 ms after the last work
# (PC_SERVER_TRIM_IDLE_MS).
set -u
top_srcdir=$(cd "$(dirname "$0")/../.." && pwd)
top_builddir=$(cd "${1:-$top_srcdir}" && pwd)
R=${2:-7}
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root for a network namespace"; exit 77; }
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/daemon-lib.sh"
pc_require
pcd_setup

pctl() { "$PCD_PORTCTL" -s "$PCD_SOCK" "$@" >/dev/null || pc_fail "portctl $*"; }
idle() { sleep 1.5; }
kib() { awk -v k="$1:" '$1 == k { print $2 }' "/proc/${2:-$PCD_PID}/status"; }
cpu_ns() { cut -d' ' -f1 "/proc/$PCD_PID/schedstat"; }
median() { sort -n | awk '{ v[NR] = $1 } END { printf "%.2f", v[int((NR + 1) / 2)] / 1000 }'; }
# The privileged writer of 90-portctl.rules, portctld's one child when it
# serves as another user than root: its VmRSS, or "-".
writer_rss() {
	read -r pid _ <"/proc/$PCD_PID/task/$PCD_PID/children"
	if [ -n "${pid:-}" ]; then kib VmRSS "$pid"; else echo -; fi
}

# rss_line LABEL: VmRSS, its parts, Pss; the peak; the writer's VmRSS.
rss_line() {
	printf '  %-34s VmRSS %5s KiB (anon %4s, file %4s), Pss %4s, peak %5s; writer %4s\n' "$1" \
		"$(kib VmRSS)" "$(kib RssAnon)" "$(kib RssFile)" \
		"$(awk '/^Pss:/ { print $2 }' "/proc/$PCD_PID/smaps_rollup")" "$(kib VmHWM)" \
		"$(writer_rss)"
}

# breakdown: KiB mapped per object (program, library, heap, stack, other
# anonymous memory); "own" is what no other process shares (private).
breakdown() {
	python3 - "/proc/$PCD_PID/smaps" <<'PY'
import collections, os, sys
rows, cur = collections.OrderedDict(), None
for line in open(sys.argv[1]):
    f = line.split()
    if not f[0].endswith(':'):
        name = os.path.basename(f[5]) if len(f) > 5 else '[anon]'
        cur = rows.setdefault(name, collections.Counter())
    elif f[0] in ('Rss:', 'Pss:', 'Anonymous:', 'Private_Clean:', 'Private_Dirty:'):
        cur[f[0][:-1]] += int(f[1])
print('    %-24s %6s %6s %6s %6s' % ('mapping', 'Rss', 'Pss', 'own', 'anon'))
for name, c in sorted(rows.items(), key=lambda kv: -kv[1]['Rss']):
    if c['Rss']:
        print('    %-24s %6d %6d %6d %6d' % (name, c['Rss'], c['Pss'],
              c['Private_Clean'] + c['Private_Dirty'], c['Anonymous']))
PY
}

start_as() {
	rm -f "$PC_TMP/etc/rules.d/"*.rules
	rm -rf "$PC_TMP/state"
	PC_PORTCTLD=$1 pcd_start
	pc_until 5 test -d "$PC_TMP/state/last-good" || pc_fail "no last good copy"
	idle
}

echo "portctld idle on an empty configuration, KiB:"
start_as "$PC_PORTCTLD"
rss_line "as root (no user portctl: NSS)"
pcd_stop
printf '#!/bin/sh\nexec %s "$@" --user nobody\n' "$PC_PORTCTLD" >"$PC_TMP/portctld-user"
chmod +x "$PC_TMP/portctld-user"
start_as "$PC_TMP/portctld-user"
rss_line "as its own user (nobody)"
breakdown

for i in $(seq 500); do pctl allow "$((10000 + i))/tcp"; done
for i in $(seq 500); do pctl delete allow "$((10000 + i))/tcp"; done
idle
rss_line "after 1,000 changes (empty again)"
seq 1 10000 | sed 's|$|/tcp|; s|^|allow |' >"$PC_TMP/etc/rules.d/10-bulk.rules"
pctl reload
idle
rss_line "with 10,000 rules (reload)"
rm "$PC_TMP/etc/rules.d/10-bulk.rules"
pctl reload
idle
rss_line "after a reload back to empty"
breakdown

# The first change after the release maps again the code it runs.
: >"$PC_TMP/cost"
for i in $(seq "$R"); do
	idle
	c0=$(cpu_ns); t0=${EPOCHREALTIME/./}
	pctl allow 443/tcp
	t1=${EPOCHREALTIME/./}; c1=$(cpu_ns)
	pctl delete allow 443/tcp
	c2=$(cpu_ns); t2=${EPOCHREALTIME/./}
	pctl allow 443/tcp
	t3=${EPOCHREALTIME/./}; c3=$(cpu_ns)
	pctl delete allow 443/tcp
	echo "$((t1 - t0)) $(((c1 - c0) / 1000)) $((t3 - t2)) $(((c3 - c2) / 1000))" >>"$PC_TMP/cost"
done
pcd_stop
printf 'portctl allow 443/tcp, median of %s (ms): round trip / portctld CPU\n' "$R"
printf '  first after idle (pages mapped again)  %s / %s\n' \
	"$(cut -d' ' -f1 "$PC_TMP/cost" | median)" "$(cut -d' ' -f2 "$PC_TMP/cost" | median)"
printf '  right after another change            %s / %s\n' \
	"$(cut -d' ' -f3 "$PC_TMP/cost" | median)" "$(cut -d' ' -f4 "$PC_TMP/cost" | median)"

sleep 30 &
SLEEPER=$!
pc_until 5 grep -q '^State:.*S (sleeping)' "/proc/$SLEEPER/status"
printf 'sleep(1), libc alone (the floor of a glibc program): VmRSS %s KiB\n' "$(kib VmRSS "$SLEEPER")"
kill "$SLEEPER"; wait "$SLEEPER" 2>/dev/null
