#!/bin/bash
# Benchmark: `portctl allow PORT/tcp` and `portctl delete` round trips
# (medians) next to `nft add rule` and `nft delete rule`, on an empty and
# a 10,000-rule configuration, and portctld's RSS idle. Runs in a private
# network namespace (root); usage: bench_cli.sh [BUILDDIR] [N]
set -euo pipefail
B=${1:-$(cd "$(dirname "$0")/../.." && pwd)}
SRC=$(cd "$(dirname "$0")/../.." && pwd)
N=${2:-21}
[ "$(id -u)" -eq 0 ] || { echo "bench_cli: needs root (network namespace)" >&2; exit 77; }

if [ "${PC_BENCH_INNER:-}" != 1 ]; then
	PC_BENCH_INNER=1 exec unshare -n "$0" "$B" "$N"
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
now_us() { echo $(($(date +%s%N) / 1000)); }

run_case() {
	local label=$1 nrules=$2
	rm -rf "$T/etc" "$T/state"
	mkdir -p "$T/etc/rules.d"
	echo "socket-mode = 0666" >"$T/etc/portctl.conf"
	if [ "$nrules" -gt 0 ]; then
		seq 1 "$nrules" | awk '{printf "allow %d/tcp\n", 10000 + $1}' >"$T/etc/rules.d/50-bulk.rules"
	fi
	"$B/src/daemon/portctld" --config "$T/etc" --data-dir "$SRC/rules" --state-dir "$T/state" \
		--socket "$T/sock" 2>"$T/log" &
	PID=$!
	for _ in $(seq 200); do "$B/portctl" -s "$T/sock" status >/dev/null 2>&1 && break; sleep 0.05; done
	local rss
	# Idle: the daemon gives freed heap back after PC_SERVER_TRIM_IDLE_MS.
	sleep 1
	rss=$(sed -n 's/^VmRSS:[ \t]*//p' /proc/$PID/status)
	local times=() t0 p
	for i in $(seq 1 "$N"); do
		p=$((1000 + i))
		t0=$(now_us)
		# As an admin over SSH types it: the lock-out guard runs.
		SSH_CONNECTION="192.0.2.1 50000 127.0.0.1 22" \
			"$B/portctl" -s "$T/sock" allow "$p/tcp" >/dev/null
		times+=($(($(now_us) - t0)))
	done
	local pc_med pc_del
	pc_med=$(printf '%s\n' "${times[@]}" | median)
	# Deleted in the order added: each renumbers the comments below it.
	times=()
	for i in $(seq 1 "$N"); do
		p=$((1000 + i))
		t0=$(now_us)
		SSH_CONNECTION="192.0.2.1 50000 127.0.0.1 22" \
			"$B/portctl" -s "$T/sock" delete allow "$p/tcp" >/dev/null
		times+=($(($(now_us) - t0)))
	done
	pc_del=$(printf '%s\n' "${times[@]}" | median)
	kill "$PID"; wait "$PID" 2>/dev/null || true; PID=""
	# nft on the same kind of table: the rules as one rule per port.
	nft flush ruleset
	nft add table inet bench
	nft add chain inet bench input '{ type filter hook input priority 0; }'
	if [ "$nrules" -gt 0 ]; then
		seq 1 "$nrules" | awk '{printf "add rule inet bench input tcp dport %d accept\n", 10000 + $1}' >"$T/nft.txt"
		nft -f "$T/nft.txt"
	fi
	times=()
	for i in $(seq 1 "$N"); do
		p=$((1000 + i))
		t0=$(now_us)
		nft add rule inet bench input tcp dport "$p" accept
		times+=($(($(now_us) - t0)))
	done
	local nft_med nft_del h
	nft_med=$(printf '%s\n' "${times[@]}" | median)
	times=()
	for h in $(nft -a list chain inet bench input | sed -n 's/.*dport 1[0-9][0-9][0-9] accept # handle //p'); do
		t0=$(now_us)
		nft delete rule inet bench input handle "$h"
		times+=($(($(now_us) - t0)))
	done
	nft_del=$(printf '%s\n' "${times[@]}" | median)
	nft flush ruleset
	awk -v l="$label" -v a="$pc_med" -v b="$nft_med" -v c="$pc_del" -v d="$nft_del" -v r="$rss" 'BEGIN {
		printf "%-14s portctl allow %7.2f ms, nft add rule %7.2f ms;", l, a / 1000, b / 1000
		printf " portctl delete %7.2f ms, nft delete rule %7.2f ms; portctld RSS idle %s\n",
			c / 1000, d / 1000, r }'
}

echo "median of $N runs each, in a private network namespace"
run_case "empty" 0
run_case "10,000 rules" 10000
