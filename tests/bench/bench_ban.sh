#!/bin/sh
# Benchmark: the time of one "portctl ban" (fail2ban's actionban) with N
# bans already in force, beside the same ban with one ban in force (the
# block sets exist, so both take the element-only fast path) and with none
# (the first ban creates the sets: a full compile), the unban of the
# oldest ban in force (fail2ban lifts them in the order it made them), and
# a ban again with another timeout (fail2ban's start bans its database
# again), and a ban's expiry (its timeout lapsing).
# Medians of R runs.
# Root; runs in a network namespace of its own.
#   usage: bench_ban.sh [BUILDDIR] [N (10000)] [R (7)]
set -u
top_srcdir=$(cd "$(dirname "$0")/../.." && pwd)
top_builddir=$(cd "${1:-$top_srcdir}" && pwd)
N=${2:-10000}
R=${3:-7}
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

# median_ban: "WALL CPU WALL CPU", the medians (ms) of the ban's wall
# time and of the daemon's CPU time for it, then the same for the unban,
# in R runs of "ban X; unban X".
median_ban() {
	for i in $(seq "$R"); do
		c0=$(daemon_cpu_ns)
		t0=$(date +%s%N)
		pctl ban 198.18.255.254
		t1=$(date +%s%N)
		c1=$(daemon_cpu_ns)
		pctl unban 198.18.255.254
		t2=$(date +%s%N)
		c2=$(daemon_cpu_ns)
		echo "$(((t1 - t0) / 1000)) $(((c1 - c0) / 1000))" \
			"$(((t2 - t1) / 1000)) $(((c2 - c1) / 1000))"
	done >"$PC_TMP/runs"
	for f in 1 2 3 4; do
		printf '%s ' "$(cut -d' ' -f$f "$PC_TMP/runs" | ms_median)"
	done
}

# median_nft N: the reference, "WALL WALL": medians (ms) of nft adding
# one element to five hash verdict maps that hold N addresses each (one
# per zone, as portctld's), then of deleting it; in a table of its own.
median_nft() {
	{
		echo "table inet benchref {"
		for z in 1 2 3 4 5; do
			echo "map m$z { type ipv4_addr : verdict; counter; }"
		done
		echo "}"
		if [ "$1" -gt 0 ]; then
			for z in 1 2 3 4 5; do
				printf 'add element inet benchref m%s {' "$z"
				seq "$1" | awk '{ printf "%s 198.18.%d.%d : drop", (NR > 1 ? "," : ""), \
					int($1 / 256) % 256, $1 % 256 }'
				echo "}"
			done
		fi
	} >"$PC_TMP/ref.nft"
	pc_in host nft -f "$PC_TMP/ref.nft" || pc_fail "nft -f of the reference table"
	pc_in host sh -c '
		set -e
		for i in $(seq "$1"); do
			add= del=
			for z in 1 2 3 4 5; do
				add="$add add element inet benchref m$z { 198.18.255.254 : drop };"
				del="$del delete element inet benchref m$z { 198.18.255.254 };"
			done
			t0=$(date +%s%N); nft "$add"; t1=$(date +%s%N); nft "$del"; t2=$(date +%s%N)
			echo "$(((t1 - t0) / 1000)) $(((t2 - t1) / 1000))"
		done' sh "$R" >"$PC_TMP/nft-runs" || pc_fail "nft add element"
	pc_in host nft delete table inet benchref
	for f in 1 2; do
		printf '%s ' "$(cut -d' ' -f$f "$PC_TMP/nft-runs" | ms_median)"
	done
}

# median_runs TIMED [AFTER]: "WALL CPU", the medians (ms) of R runs of
# "portctl TIMED", each followed untimed by "portctl AFTER"; both are
# evaluated with i the run's number (1 to R).
median_runs() {
	for i in $(seq "$R"); do
		c0=$(daemon_cpu_ns)
		t0=$(date +%s%N)
		eval "pctl $1"
		t1=$(date +%s%N)
		c1=$(daemon_cpu_ns)
		[ -z "${2:-}" ] || eval "pctl $2"
		echo "$(((t1 - t0) / 1000)) $(((c1 - c0) / 1000))"
	done >"$PC_TMP/runs"
	for f in 1 2; do
		printf '%s ' "$(cut -d' ' -f$f "$PC_TMP/runs" | ms_median)"
	done
}

# median_expiry: "CPU", the median (ms) of the daemon's time for one ban's
# expiry (a ban of 2 s lapsing, 1-2 s later), R runs: from after the ban's
# request was done with (and the idle release after it, 0.5 s) to the
# expiry's log line.
median_expiry() {
	for i in $(seq "$R"); do
		n0=$(grep -c "ban(s) expired" "$PC_TMP/portctld.log")
		pctl ban "198.19.0.$i" --timeout 2
		sleep 0.7
		c0=$(daemon_cpu_ns)
		until [ "$(grep -c "ban(s) expired" "$PC_TMP/portctld.log")" -gt "$n0" ]; do
			sleep 0.01
		done
		c1=$(daemon_cpu_ns)
		echo "$(((c1 - c0) / 1000))"
	done >"$PC_TMP/runs"
	ms_median <"$PC_TMP/runs"
}

# No ban yet: the ban creates the block sets (a full compile and apply).
empty=$(median_ban)
pctl ban 198.18.0.1
small=$(median_ban)
# A ban again with another timeout (fail2ban's start bans its database
# again): of the one ban in force, then of the seeded ones from .101 on.
small_again=$(median_runs 'ban 198.18.0.1 --timeout $((3600 + i))')
small_expiry=$(median_expiry)
# Without a timeout again: the oldest ban, before the seeded ones.
pctl ban 198.18.0.1
# Seeded through the CLI as fail2ban adds them, one ban a request, with
# a few clients at a time to spare the start-up of each.
t0=$(date +%s%N)
i=1
while [ "$i" -lt "$N" ]; do
	echo "198.18.$((i / 256 % 256)).$((i % 256))"
	i=$((i + 1))
done | xargs -P 8 -n 1 "$PCD_PORTCTL" -s "$PCD_SOCK" ban >/dev/null || pc_fail "seeding failed"
seed=$((($(date +%s%N) - t0) / 1000000))
big=$(median_ban)
# The oldest ban in force lifted (fail2ban lifts its bans in the order it
# made them), banned again after it: 198.18.0.1, .2, ...
oldest=$(median_runs 'unban 198.18.0.$i' 'ban 198.18.0.$i')
again=$(median_runs 'ban 198.18.0.$((100 + i)) --timeout $((3600 + i))')
expiry=$(median_expiry)
nft0=$(median_nft 0)
nft1=$(median_nft 1)
nftn=$(median_nft "$N")
printf 'seeded %s bans through the CLI in %s ms\n' "$N" "$seed"
printf '%-30s %12s %12s %12s\n' "median of $R runs" "0 in force" "1 in force" "$N in force"
# row LABEL FIELD: one figure of each median_ban above.
row() {
	printf '%-30s %9s ms %9s ms %9s ms\n' "$1" "$(echo $empty | cut -d' ' -f$2)" \
		"$(echo $small | cut -d' ' -f$2)" "$(echo $big | cut -d' ' -f$2)"
}
# nft_row LABEL FIELD: one figure of each median_nft above.
nft_row() {
	printf '%-30s %9s ms %9s ms %9s ms\n' "$1" "$(echo $nft0 | cut -d' ' -f$2)" \
		"$(echo $nft1 | cut -d' ' -f$2)" "$(echo $nftn | cut -d' ' -f$2)"
}
row "portctl ban, wall time" 1
row "portctld CPU time" 2
nft_row "reference: nft add element" 1
row "portctl unban, wall time" 3
row "portctld CPU time" 4
nft_row "reference: nft delete element" 2
# The oldest's unban beside the one of the one ban in force (the same request).
printf '%-30s %12s %9s ms %9s ms\n' "unban of the oldest, wall" - \
	"$(echo $small | cut -d' ' -f3)" "$(echo $oldest | cut -d' ' -f1)"
printf '%-30s %12s %9s ms %9s ms\n' "portctld CPU time" - \
	"$(echo $small | cut -d' ' -f4)" "$(echo $oldest | cut -d' ' -f2)"
printf '%-30s %12s %9s ms %9s ms\n' "ban again (a new timeout), wall" - \
	"$(echo $small_again | cut -d' ' -f1)" "$(echo $again | cut -d' ' -f1)"
printf '%-30s %12s %9s ms %9s ms\n' "portctld CPU time" - \
	"$(echo $small_again | cut -d' ' -f2)" "$(echo $again | cut -d' ' -f2)"
printf '%-30s %12s %9s ms %9s ms\n' "a ban's expiry, portctld CPU" - "$small_expiry" "$expiry"
echo "(nft: one element in five hash maps holding that many addresses, as portctld's)"
