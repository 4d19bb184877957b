#!/bin/sh
# Benchmark: the time of one "portctl ban" (fail2ban's actionban) with N
# bans already in force, beside the same ban with one ban in force (the
# block sets exist, so both take the element-only fast path) and with none
# (the first ban creates the sets: a full compile). Medians of R runs.
# Root; runs in a network namespace of its own.
#   usage: bench_ban.sh [N (10000)] [R (7)]
set -u
N=${1:-10000}
R=${2:-7}
: "${top_builddir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_srcdir:=$top_builddir}"
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root for a network namespace"; exit 77; }
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/daemon-lib.sh"
pc_require
pcd_setup
pc_config_write 10-base.rules 'allow 22/tcp' 'allow 443/tcp'
pcd_start
pctl() { "$PCD_PORTCTL" -s "$PCD_SOCK" "$@" >/dev/null || pc_fail "portctl $*"; }

# ms_median: the median of microsecond figures on stdin, in ms.
ms_median() {
	sort -n | awk '{ v[NR] = $1 } END { printf "%.2f", v[int((NR + 1) / 2)] / 1000 }'
}

# The daemon's time on a CPU so far, in ns: its share of a request
# without the client's start-up, which dwarfs and blurs it.
daemon_cpu_ns() {
	cut -d' ' -f1 "/proc/$PCD_PID/schedstat"
}

# median_ban: "WALL CPU", the medians (ms) of the ban's wall time and of
# the daemon's CPU time for it, in R runs of "ban X; unban X".
median_ban() {
	for i in $(seq "$R"); do
		c0=$(daemon_cpu_ns)
		t0=$(date +%s%N)
		pctl ban 198.18.255.254
		t1=$(date +%s%N)
		c1=$(daemon_cpu_ns)
		pctl unban 198.18.255.254
		echo "$(((t1 - t0) / 1000)) $(((c1 - c0) / 1000))"
	done >"$PC_TMP/runs"
	echo "$(cut -d' ' -f1 "$PC_TMP/runs" | ms_median) $(cut -d' ' -f2 "$PC_TMP/runs" | ms_median)"
}

# No ban yet: the ban creates the block sets (a full compile and apply).
set -- $(median_ban)
empty_wall=$1 empty_cpu=$2
pctl ban 198.18.0.1
set -- $(median_ban)
small_wall=$1 small_cpu=$2
# Seeded through the CLI as fail2ban adds them, one ban a request, with
# a few clients at a time to spare the start-up of each.
t0=$(date +%s%N)
i=1
while [ "$i" -lt "$N" ]; do
	echo "198.18.$((i / 256 % 256)).$((i % 256))"
	i=$((i + 1))
done | xargs -P 8 -n 1 "$PCD_PORTCTL" -s "$PCD_SOCK" ban >/dev/null || pc_fail "seeding failed"
seed=$((($(date +%s%N) - t0) / 1000000))
set -- $(median_ban)
big_wall=$1 big_cpu=$2
printf 'seeded %s bans through the CLI in %s ms\n' "$N" "$seed"
printf '%-30s %12s %12s %12s\n' "one ban, median of $R runs" "0 in force" "1 in force" "$N in force"
printf '%-30s %9s ms %9s ms %9s ms\n' "portctl ban, wall time" "$empty_wall" "$small_wall" \
	"$big_wall"
printf '%-30s %9s ms %9s ms %9s ms\n' "portctld CPU time" "$empty_cpu" "$small_cpu" "$big_cpu"
