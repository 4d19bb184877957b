#!/bin/bash
# Benchmark: one `portctl status --json` on 2,500, 10,000 and 20,000 port
# rules (one merged port map): the daemon's CPU per call (from
# /proc/PID/schedstat, so it counts only portctld) and the round trip,
# medians, with each size's ratio to the smallest, next to `nft list table`
# of the same table (the kernel dump alone). Runs in a private
# network namespace (root); usage: bench_status.sh [BUILDDIR] [RUNS] [SIZES...]
set -euo pipefail
B=${1:-$(cd "$(dirname "$0")/../.." && pwd)}
SRC=$(cd "$(dirname "$0")/../.." && pwd)
RUNS=${2:-11}
shift $(($# > 2 ? 2 : $#))
SIZES=("$@")
[ ${#SIZES[@]} -gt 0 ] || SIZES=(2500 10000 20000)
[ "$(id -u)" -eq 0 ] || { echo "bench_status: needs root (network namespace)" >&2; exit 77; }

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
cpu_ns() { cut -d' ' -f1 "/proc/$PID/schedstat"; }

run_size() {
	local n=$1
	rm -rf "$T/etc" "$T/state"
	mkdir -p "$T/etc/rules.d"
	seq 1 "$n" | awk '{printf "allow %d/tcp\n", 10000 + $1}' >"$T/etc/rules.d/10-bulk.rules"
	"$B/src/daemon/portctld" --config "$T/etc" --data-dir "$SRC/rules" --state-dir "$T/state" \
		--socket "$T/sock" 2>"$T/log" &
	PID=$!
	for _ in $(seq 400); do "$B/portctl" -s "$T/sock" status >/dev/null 2>&1 && break; sleep 0.05; done
	local cpu=() wall=() nft=() c0 t0 i
	for i in $(seq 0 "$RUNS"); do
		c0=$(cpu_ns)
		t0=$(date +%s%N)
		"$B/portctl" -s "$T/sock" status --json >/dev/null
		# The first call warms up; it is not counted.
		[ "$i" -eq 0 ] && continue
		wall+=($((($(date +%s%N) - t0) / 1000)))
		cpu+=($((($(cpu_ns) - c0) / 1000)))
		t0=$(date +%s%N)
		nft list table inet portctl >/dev/null
		nft+=($((($(date +%s%N) - t0) / 1000)))
	done
	kill "$PID"; wait "$PID" 2>/dev/null || true; PID=""
	echo "$n $(printf '%s\n' "${cpu[@]}" | median) $(printf '%s\n' "${wall[@]}" | median)" \
		"$(printf '%s\n' "${nft[@]}" | median)"
}

echo "portctl status --json, median of $RUNS runs each, in a private network namespace"
for n in "${SIZES[@]}"; do run_size "$n"; done | awk '
	NR == 1 { n0 = $1; c0 = $2; w0 = $3 }
	{ printf "%6d rules: portctld CPU %8.2f ms (%5.1fx), round trip %8.2f ms (%5.1fx), nft list table %8.2f ms  [rules %4.1fx]\n",
		$1, $2 / 1000, $2 / c0, $3 / 1000, $3 / w0, $4 / 1000, $1 / n0 }'
