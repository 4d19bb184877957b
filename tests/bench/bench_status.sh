#!/bin/bash
# Benchmark: the read commands at 1,000, 10,000 and 100,000 rules
# (`deny from ADDR` each, one merged address map with a counter per
# element): portctld's CPU per `status` (a page of 1,000 rules),
# `status --json` (every rule, read a page per request) and `metrics`
# (every rule), from /proc/PID/schedstat so that it counts only portctld,
# and the longest one request took (the most CPU between two requests of
# one read is bounded by a page), medians, next to `nft list table inet
# portctl` of the same table (wall: the kernel dump and nft's printing),
# with ratios. Runs in a private network namespace (root).
# usage: bench_status.sh [BUILDDIR] [RUNS] [SIZES...]
set -euo pipefail
B=${1:-$(cd "$(dirname "$0")/../.." && pwd)}
SRC=$(cd "$(dirname "$0")/../.." && pwd)
RUNS=${2:-5}
shift $(($# > 2 ? 2 : $#))
SIZES=("$@")
[ ${#SIZES[@]} -gt 0 ] || SIZES=(1000 10000 100000)
[ "$(id -u)" -eq 0 ] || { echo "bench_status: needs root (network namespace)" >&2; exit 77; }
command -v nft >/dev/null || { echo "bench_status: needs nft" >&2; exit 77; }

if [ "${PC_BENCH_INNER:-}" != 1 ]; then
	PC_BENCH_INNER=1 exec unshare -n "$0" "$B" "$RUNS" "${SIZES[@]}"
fi
ip link set lo up
T=$(mktemp -d)
PID=""
cleanup() {
	[ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
cpu_us() { echo $(($(cut -d' ' -f1 "/proc/$PID/schedstat") / 1000)); }
pctl() { "$B/portctl" -s "$T/sock" "$@"; }

# cpu CMD...: portctld CPU (µs) for one CMD, median of RUNS after a warm-up.
cpu() {
	local c=() c0 i
	"$@" >/dev/null
	for i in $(seq "$RUNS"); do
		c0=$(cpu_us)
		"$@" >/dev/null
		c+=($(($(cpu_us) - c0)))
	done
	printf '%s\n' "${c[@]}" | median
}

wall() {
	local w=() t0 i
	for i in $(seq "$RUNS"); do
		t0=$(date +%s%N)
		"$@" >/dev/null
		w+=($((($(date +%s%N) - t0) / 1000)))
	done
	printf '%s\n' "${w[@]}" | median
}

run_size() {
	local n=$1
	rm -rf "$T/etc" "$T/state"
	mkdir -p "$T/etc/rules.d"
	awk -v n="$n" 'BEGIN { for (i = 1; i <= n; i++)
		printf "deny from 10.%d.%d.%d\n", int(i / 65536), int(i / 256) % 256, i % 256 }' \
		>"$T/etc/rules.d/10-bulk.rules"
	"$B/src/daemon/portctld" --config "$T/etc" --data-dir "$SRC/rules" --state-dir "$T/state" \
		--socket "$T/sock" 2>"$T/log" &
	PID=$!
	for _ in $(seq 2000); do pctl status --limit 1 >/dev/null 2>&1 && break; sleep 0.01; done
	echo "$n $(cpu pctl status) $(cpu pctl status --json) $(cpu pctl metrics)" \
		"$(cpu pctl status --json --limit 1000) $(wall nft list table inet portctl)"
	kill "$PID"; wait "$PID" 2>/dev/null || true; PID=""
}

echo "portctld CPU per read command, median of $RUNS, deny-from rules, private network namespace"
for n in "${SIZES[@]}"; do run_size "$n"; done | awk '
	function ms(us) { return us / 1000 }
	{ printf "%6d rules: status %7.2f ms  status --json %8.2f ms  metrics %8.2f ms  one page (1000) %6.2f ms | nft list table %8.2f ms  (status/nft %5.3f, --json/nft %5.2f)\n",
		$1, ms($2), ms($3), ms($4), ms($5), ms($6), $2 / $6, $3 / $6 }'
