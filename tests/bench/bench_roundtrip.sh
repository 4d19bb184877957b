#!/bin/bash
# Benchmark (on demand, not in make check): the durable round trip of
# "portctl allow 443/tcp" on an empty configuration -- CLI start, request,
# kernel commit, CLI rules file written and fsync'd, reply, exit -- median of
# R runs, with its parts, beside "nft add rule" of the same (portctld's
# memory: bench_memory.sh). Root; network namespaces of its own.
#   usage: bench_roundtrip.sh [BUILDDIR] [R (21)]
# The parts: the CLI's start and exit without a request (portctl version;
# beside it a fork+exec of /bin/true, this machine's floor), the daemon's
# CPU per change (/proc/PID/schedstat), and from "perf trace" of the
# daemon (when perf is installed) the time in its syscalls between the
# request and the reply -- fsync, netlink (sendto/recvmsg/poll: the client's
# socket uses recvfrom/sendmsg), other files, the log -- and what it does
# after the reply (the last good copy's write, STATE_SAVE_DELAY_MS later).
# The rest of the round trip: the socket, wake-ups and scheduling. The
# traced syscall times are inflated by the tracing: they may add up to more
# than the CPU measured without it.
set -u
top_srcdir=$(cd "$(dirname "$0")/../.." && pwd)
top_builddir=$(cd "${1:-$top_srcdir}" && pwd)
R=${2:-21}
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root for a network namespace"; exit 77; }
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/daemon-lib.sh"
pc_require
pcd_setup

pctl() { "$PCD_PORTCTL" -s "$PCD_SOCK" "$@" >/dev/null || pc_fail "portctl $*"; }
cpu_ns() { cut -d' ' -f1 "/proc/$PCD_PID/schedstat"; }
# Microseconds, without a process of its own (bash 5).
now_us() { echo "${EPOCHREALTIME/./}"; }
# The median (ms, 2 decimals) of the microsecond numbers on stdin.
median() { sort -n | awk '{ v[NR] = $1 } END { printf "%.2f", v[int((NR + 1) / 2)] / 1000 }'; }

pcd_start
# Warm: the first change creates 90-portctl.rules, the first save the copy.
pctl allow 443/tcp
pctl delete allow 443/tcp

# Interleaved, so that the machine's load weighs on each alike.
: >"$PC_TMP/rt"
for i in $(seq "$R"); do
	t0=$(now_us); /bin/true; t1=$(now_us)
	"$PCD_PORTCTL" version >/dev/null; t2=$(now_us)
	c0=$(cpu_ns); t3=$(now_us)
	pctl allow 443/tcp
	t4=$(now_us); c1=$(cpu_ns)
	echo "$((t4 - t3)) $(((c1 - c0) / 1000)) $((t1 - t0)) $((t2 - t1))" >>"$PC_TMP/rt"
	pctl delete allow 443/tcp
done
cut -d' ' -f3 "$PC_TMP/rt" | median >"$PC_TMP/true"
cut -d' ' -f4 "$PC_TMP/rt" | median >"$PC_TMP/exec"
rt=$(cut -d' ' -f1 "$PC_TMP/rt" | median)
cpu=$(cut -d' ' -f2 "$PC_TMP/rt" | median)

# The daemon's syscalls, request by request, from perf trace.
parts="? ? ? ? ? ? ?"
if command -v perf >/dev/null && perf trace -o /dev/null -- true 2>/dev/null; then
	perf trace -p "$PCD_PID" -o "$PC_TMP/trace" 2>/dev/null &
	TPID=$!
	# perf says nothing when it has attached: give it the moment.
	sleep 1
	for i in $(seq "$R"); do
		pctl allow 443/tcp
		# The copy's write comes STATE_SAVE_DELAY_MS after the reply.
		pc_until 5 grep -q "^allow 443/tcp$" "$PC_TMP/state/last-good/etc/rules.d/90-portctl.rules"
		pctl delete allow 443/tcp
		pc_until 5 sh -c "! grep -q '^allow 443/tcp$' '$PC_TMP/state/last-good/etc/rules.d/90-portctl.rules'"
	done
	kill -INT "$TPID"; wait "$TPID" 2>/dev/null
	parts=$(python3 - "$PC_TMP/trace" <<'PY'
import re, statistics, sys
line_re = re.compile(r'^\s*([\d.]+) \(\s*([\d.]+) ms\): (\w+)\((.*)\)\s+=\s+(-?\d+)')
reqs, flushes, cur, where = [], [], None, None
for line in open(sys.argv[1]):
    m = line_re.match(line)
    if not m:
        continue
    dur, name, args, ret = float(m.group(2)), m.group(3), m.group(4), int(m.group(5))
    if name == 'recvfrom' and ret > 0:
        cur, where = {'fsync': 0.0, 'nfsync': 0, 'netlink': 0.0, 'files': 0.0, 'log': 0.0}, reqs
        continue
    if name == 'read' and 'timerfd' in args:
        cur, where = {'fsync': 0.0, 'nfsync': 0, 'netlink': 0.0, 'files': 0.0, 'log': 0.0}, flushes
        continue
    if cur is None:
        continue
    if (where is reqs and name == 'sendmsg') or (where is flushes and name == 'epoll_wait'):
        where.append(cur)
        cur = None
        continue
    if name in ('fsync', 'fdatasync'):
        cur['fsync'] += dur
        cur['nfsync'] += 1
    elif name in ('sendto', 'recvmsg', 'poll'):
        cur['netlink'] += dur
    elif name == 'write' and args.startswith('fd: 2'):
        cur['log'] += dur
    else:
        cur['files'] += dur
# Two requests a run: allow (timed above), then delete (the full path).
reqs = reqs[0::2]
flushes = [f for f in flushes if f['nfsync']]
def med(rows, k):
    return statistics.median(r[k] for r in rows) if rows else 0
print('%.2f %d %.2f %.2f %.2f %.2f %d' % (med(reqs, 'fsync'), med(reqs, 'nfsync'),
      med(reqs, 'netlink'), med(reqs, 'files'), med(reqs, 'log'), med(flushes, 'fsync'),
      med(flushes, 'nfsync')))
PY
)
fi
pcd_stop

# nft add rule of the same, in the namespace, timed there (no nsenter in it).
pc_in host nft -f - <<'NFT' || pc_fail "nft -f of the reference table"
table inet benchref {
	chain c { type filter hook input priority 10; }
}
NFT
nft_add=$(pc_in host bash -c '
	for i in $(seq '"$R"'); do
		t0=${EPOCHREALTIME/./}
		nft add rule inet benchref c tcp dport 443 accept
		t1=${EPOCHREALTIME/./}
		nft flush chain inet benchref c
		echo $((t1 - t0))
	done' | median)
pc_in host nft delete table inet benchref

set -- $parts
echo "portctl allow 443/tcp on an empty configuration, median of $R runs (ms):"
printf '  round trip (CLI start -> kernel -> rules file fsync'"'"'d -> reply -> exit) %s\n' "$rt"
printf '  nft add rule inet t c tcp dport 443 accept (kernel only, nothing saved)  %s\n' "$nft_add"
printf '  parts: CLI start+exit without a request (portctl version)   %s  (fork+exec of /bin/true: %s)\n' \
	"$(cat "$PC_TMP/exec")" "$(cat "$PC_TMP/true")"
printf '         daemon CPU, user and kernel (parse, compile, json...)  %s\n' "$cpu"
printf '           in netlink syscalls (the commit included; traced)    %s\n' "$3"
printf '           in other file syscalls (open, read, stat...; traced) %s\n' "$4"
printf '           in the log write (traced)                            %s\n' "$5"
printf '         waiting in fsync of the rules file (%s per change)       %s\n' "$2" "$1"
printf '         the rest: socket, wake-ups (negative: within the noise)   %s\n' \
	"$(awk -v rt="$rt" -v e="$(cat "$PC_TMP/exec")" -v c="$cpu" -v f="$1" \
		'BEGIN { if (f == "?") print "?"; else printf "%.2f", rt - e - c - f }')"
printf '  after the reply (200 ms later): the last good copy, %s fsync(s)   %s\n' "$7" "$6"
echo "(syscall times from perf trace -p, which slows each call: the parts are upper bounds)"

