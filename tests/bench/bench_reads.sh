#!/bin/bash
# Benchmark: diff, explain and exposure at 1,000, 10,000 and 100,000 rules
# (`deny from ADDR` each, as bench_status.sh). Per command, medians of RUNS:
#  - portctld's CPU (/proc/PID/schedstat: the daemon's own thread, the time
#    it could serve nobody else);
#  - diff's worker CPU (the child that answers it, from its debug line);
#  - exposure's wall time (the CLI reads the files itself: no daemon CPU);
#  - the hold: wall time of another client's `allow` sent as soon as
#    portctld has taken a diff request, beside the same allow alone.
# Runs in a private network namespace (root).
# usage: bench_reads.sh [BUILDDIR] [RUNS] [SIZES...]
set -euo pipefail
B=${1:-$(cd "$(dirname "$0")/../.." && pwd)}
SRC=$(cd "$(dirname "$0")/../.." && pwd)
RUNS=${2:-5}
shift $(($# > 2 ? 2 : $#))
SIZES=("$@")
[ ${#SIZES[@]} -gt 0 ] || SIZES=(1000 10000 100000)
[ "$(id -u)" -eq 0 ] || { echo "bench_reads: needs root (network namespace)" >&2; exit 77; }

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
now_us() { echo $(($(date +%s%N) / 1000)); }
pctl() { "$B/portctl" -c "$T/etc" -d "$SRC/rules" -s "$T/sock" "$@"; }

# cpu CMD...: portctld CPU (µs) for one CMD, median of RUNS after a warm-up.
cpu() {
	local c=() c0 i
	"$@" >/dev/null || true
	for i in $(seq "$RUNS"); do
		c0=$(cpu_us)
		"$@" >/dev/null || true
		c+=($(($(cpu_us) - c0)))
	done
	printf '%s\n' "${c[@]}" | median
}

wall() {
	local w=() t0 i
	for i in $(seq "$RUNS"); do
		t0=$(now_us)
		"$@" >/dev/null
		w+=($(($(now_us) - t0)))
	done
	printf '%s\n' "${w[@]}" | median
}

# The workers' own CPU, from their "answered by worker" debug lines.
worker_cpu() {
	local us
	us=$(grep -o 'answered by worker pid [0-9]* in [0-9]* us' "$T/log" | awk '{print $7}' | median)
	echo "${us:-0}"
}

# An allow sent as soon as portctld has taken a diff request, then taken
# back: its wall time (without workers, it waits for the whole diff).
allow_during_diff() {
	local w=() t0 i d
	for i in $(seq "$RUNS"); do
		"$B/portctl" -s "$T/sock" diff >/dev/null &
		d=$!
		until grep -q "pid $d: diff\$" "$T/log" || ! kill -0 "$d" 2>/dev/null; do :; done
		t0=$(now_us)
		pctl allow 4999/tcp >/dev/null
		w+=($(($(now_us) - t0)))
		wait "$d" || true
		pctl delete allow 4999/tcp >/dev/null
	done
	printf '%s\n' "${w[@]}" | median
}

allow_alone() {
	local w=() t0 i
	for i in $(seq "$RUNS"); do
		t0=$(now_us)
		pctl allow 4999/tcp >/dev/null
		w+=($(($(now_us) - t0)))
		pctl delete allow 4999/tcp >/dev/null
	done
	printf '%s\n' "${w[@]}" | median
}

run_size() {
	local n=$1
	rm -rf "$T/etc" "$T/state" "$T/log"
	mkdir -p "$T/etc/rules.d"
	echo "log-level = debug" >"$T/etc/portctl.conf"
	awk -v n="$n" 'BEGIN { for (i = 1; i <= n; i++)
		printf "deny from 10.%d.%d.%d\n", int(i / 65536), int(i / 256) % 256, i % 256 }' \
		>"$T/etc/rules.d/10-bulk.rules"
	"$B/src/daemon/portctld" --config "$T/etc" --data-dir "$SRC/rules" --state-dir "$T/state" \
		--socket "$T/sock" 2>"$T/log" &
	PID=$!
	for _ in $(seq 2000); do pctl status --limit 1 >/dev/null 2>&1 && break; sleep 0.01; done
	echo "$n $(cpu pctl diff) $(worker_cpu) $(cpu pctl explain in tcp 22 from 10.0.0.5)" \
		"$(cpu pctl exposure) $(wall pctl exposure) $(allow_alone) $(allow_during_diff)"
	kill "$PID"; wait "$PID" 2>/dev/null || true; PID=""
}

echo "diff, explain, exposure: medians of $RUNS, deny-from rules, private network namespace"
for n in "${SIZES[@]}"; do run_size "$n"; done | awk '
	function ms(us) { return us / 1000 }
	{ printf "%6d rules: portctld CPU: diff %6.2f ms (its worker %7.1f ms)  explain %5.2f ms  exposure %4.2f ms | exposure (CLI) %7.1f ms | allow %5.2f ms alone, %6.2f ms during a diff\n",
		$1, ms($2), ms($3), ms($4), ms($5), ms($6), ms($7), ms($8) }'
