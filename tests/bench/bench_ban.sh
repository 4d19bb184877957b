#!/bin/sh
# Benchmark: the time of one "portctl ban" (fail2ban's actionban) with N
# bans already in force, beside the same ban with one ban in force (the
# block sets exist, so both are element-only). Medians of R runs. Root;
# runs in a network namespace of its own.
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

# median_ms CMD...: median wall time of R runs of "ban X; unban X".
median_ban_ms() {
	for i in $(seq "$R"); do
		t0=$(date +%s%N)
		pctl ban 198.18.255.254
		t1=$(date +%s%N)
		pctl unban 198.18.255.254
		echo $(((t1 - t0) / 1000))
	done | sort -n | awk '{ v[NR] = $1 } END { printf "%.2f", v[int((NR + 1) / 2)] / 1000 }'
}

pctl ban 198.18.0.1
small=$(median_ban_ms)
i=1
while [ "$i" -lt "$N" ]; do
	pctl ban "198.18.$((i / 256 % 256)).$((i % 256))"
	i=$((i + 1))
done
big=$(median_ban_ms)
printf 'one ban, 1 ban in force: %s ms (median of %s)\n' "$small" "$R"
printf 'one ban, %s bans in force: %s ms (median of %s)\n' "$N" "$big" "$R"
