#!/bin/bash
# Benchmark (on demand, not in make check): 100,000 blocked addresses.
#
#   - a set file of 100,000 addresses (99,000 IPv4, 1,000 IPv6) used as
#     "deny from @blocklist": reload that loads them all (the list was
#     empty), side by side with `nft -f` of the same two sets and rule in a
#     table of its own, and their ratio; a no-op reload; a reload after one
#     line of the list changed (an element difference);
#   - `portctl status` and `status --json` round trip and portctld CPU;
#   - one `portctl allow PORT/tcp` among them, and on an empty configuration;
#   - portctld's VmRSS (RssAnon: its own, without shared library pages) and
#     VmHWM with the 100,000, and idle on an empty one, each after the
#     daemon's idle heap trim;
#   - portctld CPU per `status --json` at 1k/10k/100k `deny from ADDR` rules.
#
# Medians of RUNS. Runs in a private network namespace (root).
# usage: bench_100k.sh [BUILDDIR] [RUNS]
set -euo pipefail
B=${1:-$(cd "$(dirname "$0")/../.." && pwd)}
SRC=$(cd "$(dirname "$0")/../.." && pwd)
RUNS=${2:-5}
[ "$(id -u)" -eq 0 ] || { echo "bench_100k: needs root (network namespace)" >&2; exit 77; }
command -v nft >/dev/null || { echo "bench_100k: needs nft" >&2; exit 77; }

if [ "${PC_BENCH_INNER:-}" != 1 ]; then
	PC_BENCH_INNER=1 exec unshare -n "$0" "$B" "$RUNS"
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
cpu_us() { echo $(($(cut -d' ' -f1 "/proc/$PID/schedstat") / 1000)); }
ms() { awk -v u="$1" 'BEGIN { printf "%.2f", u / 1000 }'; }
kib() { sed -n "s/^$1:[[:space:]]*\([0-9]*\) kB/\1/p" "/proc/$PID/status"; }
pctl() { "$B/portctl" -s "$T/sock" "$@"; }

# 99,000 IPv4 hosts in 10.0.0.0/8 and 1,000 IPv6 hosts, with a comment.
list_write() {
	{
		echo "# bench: 100,000 addresses"
		awk 'BEGIN { for (i = 1; i <= 99000; i++)
			printf "10.%d.%d.%d\n", int(i / 65536), int(i / 256) % 256, i % 256
		for (i = 1; i <= 1000; i++) printf "2001:db8::%x\n", i }'
	} >"$1"
}

# settle: wait until portctld's CPU time stands still for 200 ms (a drift
# check after a big commit, whose events overflowed, runs by itself);
# prints the CPU it used meanwhile, in µs.
settle() {
	local c0 a b
	c0=$(cpu_us)
	a=$c0
	while :; do
		sleep 0.2
		b=$(cpu_us)
		[ "$a" = "$b" ] && break
		a=$b
	done
	echo $((b - c0))
}

daemon_start() {
	"$B/src/daemon/portctld" --config "$T/etc" --data-dir "$SRC/rules" --state-dir "$T/state" \
		--socket "$T/sock" 2>"$T/log" &
	PID=$!
	for _ in $(seq 2000); do pctl status >/dev/null 2>&1 && return 0; sleep 0.01; done
	cat "$T/log" >&2
	exit 1
}

daemon_stop() {
	kill "$PID"; wait "$PID" 2>/dev/null || true; PID=""
}

config_reset() {
	rm -rf "$T/etc" "$T/state"
	mkdir -p "$T/etc/rules.d" "$T/etc/sets"
}

# time_us CMD...: wall time of one run, in µs.
time_us() {
	local t0
	t0=$(now_us)
	"$@" >/dev/null
	echo $(($(now_us) - t0))
}

# cli_changes N: "MEDIAN FIRST" round trip of N `portctl allow` of fresh
# ports (the first after a reload may take the full path).
cli_changes() {
	local t=() i
	for i in $(seq "$1"); do t+=("$(time_us pctl allow $((20000 + i))/tcp)"); done
	echo "$(printf '%s\n' "${t[@]}" | median) ${t[0]}"
}

echo "# 100,000 blocked addresses, median of $RUNS, in a private network namespace"

# --- idle, empty configuration ---
config_reset
daemon_start
# The daemon gives freed heap back 0.5 s after its last request.
sleep 1
idle_rss=$(kib VmRSS)
idle_anon=$(kib RssAnon)
empty_change=$(cli_changes "$RUNS")
daemon_stop

# --- the set: loaded by a reload (the list was empty), versus nft -f ---
config_reset
list_write "$T/full.txt"
: >"$T/etc/sets/block.txt"
printf 'set blocklist file sets/block.txt\ndeny from @blocklist\n' >"$T/etc/rules.d/10-block.rules"
daemon_start
load=() check=() noop=() one=() nftf=()
settle >/dev/null
for _ in $(seq "$RUNS"); do
	cp "$T/full.txt" "$T/etc/sets/block.txt"
	load+=("$(time_us pctl reload)")
	check+=("$(settle)")
	noop+=("$(time_us pctl reload)")
	sed -i '2s/.*/10.200.0.1/' "$T/etc/sets/block.txt"
	one+=("$(time_us pctl reload)")
	: >"$T/etc/sets/block.txt"
	pctl reload >/dev/null
	settle >/dev/null
done
cp "$T/full.txt" "$T/etc/sets/block.txt"
pctl reload >/dev/null
settle >/dev/null
{
	echo "table inet bench {"
	echo " set bl4 { type ipv4_addr; elements = {"
	grep -v '^#' "$T/full.txt" | grep -v : | paste -sd,
	echo " } }"
	echo " set bl6 { type ipv6_addr; elements = {"
	grep -v "^#" "$T/full.txt" | grep : | paste -sd,
	echo " } }"
	echo " chain input { type filter hook input priority 10; ip saddr @bl4 drop; ip6 saddr @bl6 drop; }"
	echo "}"
} >"$T/bench.nft"
for _ in $(seq "$RUNS"); do
	nftf+=("$(time_us nft -f "$T/bench.nft")")
	nft delete table inet bench
done
m_load=$(printf '%s\n' "${load[@]}" | median)
m_nft=$(printf '%s\n' "${nftf[@]}" | median)
printf 'reload loading 100,000 addresses   %9s ms   nft -f of the same sets %9s ms   ratio %.2fx\n' \
	"$(ms "$m_load")" "$(ms "$m_nft")" "$(awk -v a="$m_load" -v b="$m_nft" 'BEGIN { print a / b }')"
printf '  then the drift check its overflowed events call for: portctld CPU %s ms\n' \
	"$(ms "$(printf '%s\n' "${check[@]}" | median)")"
printf 'reload, nothing changed            %9s ms\n' "$(ms "$(printf '%s\n' "${noop[@]}" | median)")"
printf 'reload, one list line changed      %9s ms\n' "$(ms "$(printf '%s\n' "${one[@]}" | median)")"

# --- status ---
st=() stc=() js=() jsc=()
for _ in $(seq "$RUNS"); do
	c0=$(cpu_us); st+=("$(time_us pctl status)"); stc+=($(($(cpu_us) - c0)))
	c0=$(cpu_us); js+=("$(time_us pctl status --json)"); jsc+=($(($(cpu_us) - c0)))
done
printf 'status                             %9s ms   portctld CPU %9s ms\n' \
	"$(ms "$(printf '%s\n' "${st[@]}" | median)")" "$(ms "$(printf '%s\n' "${stc[@]}" | median)")"
printf 'status --json                      %9s ms   portctld CPU %9s ms\n' \
	"$(ms "$(printf '%s\n' "${js[@]}" | median)")" "$(ms "$(printf '%s\n' "${jsc[@]}" | median)")"

# --- one CLI change among them ---
read -r change change1 <<<"$(cli_changes "$RUNS")"
read -r echange echange1 <<<"$empty_change"
printf 'portctl allow PORT/tcp             %9s ms   (first %s ms; empty configuration %s ms, first %s ms)\n' \
	"$(ms "$change")" "$(ms "$change1")" "$(ms "$echange")" "$(ms "$echange1")"
sleep 1
printf 'portctld with 100,000: VmRSS %d KiB (RssAnon %d KiB), VmHWM %d KiB\n' \
	"$(kib VmRSS)" "$(kib RssAnon)" "$(kib VmHWM)"
printf 'portctld idle, empty configuration: VmRSS %d KiB (RssAnon %d KiB; the rest is shared library pages)\n' \
	"$idle_rss" "$idle_anon"
daemon_stop

# --- status CPU at 1k/10k/100k rules ---
for n in 1000 10000 100000; do
	config_reset
	awk -v n="$n" 'BEGIN { for (i = 1; i <= n; i++)
		printf "deny from 10.%d.%d.%d\n", int(i / 65536), int(i / 256) % 256, i % 256 }' \
		>"$T/etc/rules.d/10-rules.rules"
	t0=$(now_us)
	daemon_start
	ready=$(($(now_us) - t0))
	stc=()
	for _ in $(seq "$RUNS"); do
		c0=$(cpu_us); pctl status --json >/dev/null; stc+=($(($(cpu_us) - c0)))
	done
	printf '%6d deny rules: status --json portctld CPU %9s ms   start to ready %9s ms   VmHWM %d KiB\n' \
		"$n" "$(ms "$(printf '%s\n' "${stc[@]}" | median)")" "$(ms "$ready")" "$(kib VmHWM)"
	daemon_stop
done
