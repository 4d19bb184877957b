#!/bin/bash
# Benchmark (on demand, not in make check): one change of each kind --
# allow, deny, reject, limit, a limit's delete, delete, insert, a delete in
# the middle of 90-portctl.rules (and one before a logged rule, and one
# whose neighbours become one run), ban,
# unban, a deny from an address, an
# allow of a port from an address (a rule of its own), the first outbound
# rule, a service by its name -- on an empty
# configuration and on 10,000 rules of several shapes, medians of R runs,
# with the ratio to empty; nft's own add/delete of a rule and of a map
# element beside them. Then the round trip of "portctl allow 443/tcp" on
# an empty configuration with its parts, the daemon's CPU per ban and
# unban among 10,000 bans (also in a PID namespace) and start to ready
# with 10,000 rules. Root; network namespaces of its own.
#   usage: bench_shapes.sh [BUILDDIR] [R (5)] [N (10000)] [SHAPES...]
#   shapes: a b c d e g h i j k l m n o p q r s start reload change (default: all); ready: start to
#   ready alone, of shape (a) or of the shape READY_SHAPE names; start, reload
#   and change: of shape (a) or of the shape F_SHAPE names
#   INSTR=1: instead of times, the daemon's instructions per change (the
#   daemon under callgrind, counting during the timed command alone): the
#   same on every run, so a ratio that moves is the code's, not the
#   machine's; the kernel's part is not in it. The table alone; every
#   shape but start.
set -u
top_srcdir=$(cd "$(dirname "$0")/../.." && pwd)
top_builddir=$(cd "${1:-$top_srcdir}" && pwd)
R=${2:-5}
N=${3:-10000}
shift 3 2>/dev/null || shift $#
SHAPES=${*:-a b c d e g h i j k l m n o p q r s start reload change}
[ "$SHAPES" = none ] && SHAPES=
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root for a network namespace"; exit 77; }
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/daemon-lib.sh"
pc_require
pcd_setup
RD="$PC_TMP/etc/rules.d"
OPS=${OPS:-"allow deny reject limit unlimit delete insert middle join logged ban unban from pfrom out svc"}

pctl() { "$PCD_PORTCTL" -s "$PCD_SOCK" "$@" >/dev/null || pc_fail "portctl $*"; }
cpu_ns() { cut -d' ' -f1 "/proc/$PCD_PID/schedstat"; }
now_ns() { date +%s%N; }
# "WALL_MEDIAN CPU_MEDIAN" in ms of the "wall cpu" microsecond lines on stdin.
medians() {
	cat >"$PC_TMP/med"
	w=$(cut -d' ' -f1 "$PC_TMP/med" | sort -n | awk '{ v[NR] = $1 } END { printf "%.2f", v[int((NR + 1) / 2)] / 1000 }')
	c=$(cut -d' ' -f2 "$PC_TMP/med" | sort -n | awk '{ v[NR] = $1 } END { printf "%.2f", v[int((NR + 1) / 2)] / 1000 }')
	echo "$w $c"
}

# The files of a shape with n rules (n = 0: the empty configuration).
shape_files() {
	shape=$1 n=$2
	rm -f "$RD"/*.rules
	[ "$n" -gt 0 ] || return 0
	case "$shape" in
	b) seq "$n" | awk '{ printf "allow %d/tcp\n", 10000 + $1 }' >"$RD/95-late.rules" ;;
	c) seq $((n / 2)) | awk '{ printf "deny from 10.%d.%d.%d\n", int($1 / 65536), int($1 / 256) % 256, $1 % 256 }
		END { for (i = 1; i <= '$((n / 2))'; i++) printf "allow %d/tcp\n", 10000 + i }' \
		>"$RD/10-bulk.rules" ;;
	d) { echo "zone lan interface vh policy in drop"
	     seq "$n" | awk '{ printf "allow %d/tcp zone %s\n", 10000 + int(($1 + 1) / 2), $1 % 2 ? "public" : "lan" }'
	   } >"$RD/10-bulk.rules" ;;
	e) { seq "$n" | awk '{ printf "allow %d/tcp\n", 10000 + $1 }'
	     for i in $(seq 20); do echo "limit $((30000 + i))/tcp"; echo "allow $((31000 + i))/tcp log"; done
	   } >"$RD/10-bulk.rules" ;;
	g) seq "$n" | awk '{ printf "allow %d/tcp\n", 10000 + $1 }' >"$RD/90-portctl.rules" ;;
	# Rules of one port and a source each (a service per client): one run
	# of ports, their addresses in sets of proto . port . address.
	h) seq "$n" | awk '{ printf "allow %d/tcp from 10.%d.%d.0/24\n", 10000 + $1, int($1 / 256), $1 % 256 }' \
		>"$RD/10-bulk.rules" ;;
	# A block list written as rules: addresses alone.
	i) seq "$n" | awk '{ printf "deny from 10.%d.%d.%d\n", int($1 / 65536), int($1 / 256) % 256, $1 % 256 }' \
		>"$RD/10-bulk.rules" ;;
	# One port from many hosts ("allow ssh from" an inventory).
	j) seq "$n" | awk '{ printf "allow 22/tcp from 10.%d.%d.%d\n", int($1 / 65536), int($1 / 256) % 256, $1 % 256 }' \
		>"$RD/10-bulk.rules" ;;
	# A source and a destination network each, one destination for all:
	# a run of ports toward networks (the network in its elements).
	k) seq "$n" | awk '{ printf "allow %d/tcp from 10.%d.%d.0/24 to 10.99.7.0/24\n", 10000 + $1, int($1 / 256), $1 % 256 }' \
		>"$RD/10-bulk.rules" ;;
	# The same toward a /24 and a /16 in turn: allow rules toward networks
	# of any length are one run too, each length with sets of its own.
	o) seq "$n" | awk '{ printf "allow %d/tcp from 10.%d.%d.0/24 to %s\n", 10000 + $1, int($1 / 256), $1 % 256,
			     $1 % 2 ? "10.99.7.0/24" : "10.99.0.0/16" }' \
		>"$RD/10-bulk.rules" ;;
	# Every other one toward a second network, of the other family, which
	# no source of its family reaches: a rule of two destinations is a
	# pair per destination its sources reach, one run (until 36ed904,
	# kernel rules of their own).
	p) seq "$n" | awk '{ printf "allow %d/tcp from 10.%d.%d.0/24 to %s\n", 10000 + $1, int($1 / 256), $1 % 256,
			     $1 % 2 ? "10.99.7.0/24" : "10.99.0.0/16,fd98::/16" }' \
		>"$RD/10-bulk.rules" ;;
	# Dual stack: toward an IPv4 network, an IPv4 host, an IPv6 network in
	# turn; allow rules, so one run of sets per family and length.
	q) seq "$n" | awk '{ if ($1 % 3 == 0) printf "allow %d/tcp from 10.%d.%d.0/24 to 10.99.7.0/24\n", 10000 + $1, int($1 / 256), $1 % 256;
			     else if ($1 % 3 == 1) printf "allow %d/tcp from 10.%d.%d.0/24 to 10.99.7.5\n", 10000 + $1, int($1 / 256), $1 % 256;
			     else printf "allow %d/tcp from fd98:%x::/64 to fd99:7::/64\n", 10000 + $1, $1 }' \
		>"$RD/10-bulk.rules" ;;
	# Denies toward a /24 and a /16 in turn (a segmentation list): one run
	# of one verdict, each length with sets of its own (until 2026-12-07,
	# kernel rules of their own).
	r) seq "$n" | awk '{ printf "deny %d/tcp from 10.%d.%d.0/24 to %s\n", 10000 + $1, int($1 / 256), $1 % 256,
			     $1 % 2 ? "10.99.7.0/24" : "10.99.0.0/16" }' \
		>"$RD/10-bulk.rules" ;;
	# Rules of a port, a source and one host each: a run of ports toward
	# hosts, the host in its sets' elements.
	l) seq "$n" | awk '{ printf "allow %d/tcp from 10.%d.%d.0/24 to 10.99.7.1\n", 10000 + $1, int($1 / 256), $1 % 256 }' \
		>"$RD/10-bulk.rules" ;;
	# Port rules and address rules in turn: a run of one rule each, too
	# small for sets in a zone cut into blocks (kernel rules of their own).
	m) seq "$n" | awk '{ if ($1 % 2) printf "allow %d/tcp\n", 10000 + $1;
			     else printf "deny from 10.%d.%d.%d\n", int($1 / 65536), int($1 / 256) % 256, $1 % 256 }' \
		>"$RD/10-bulk.rules" ;;
	# The same in the CLI's own file: a delete among them joins the runs
	# on either side.
	n) seq "$n" | awk '{ if ($1 % 2) printf "allow %d/tcp\n", 10000 + $1;
			     else printf "deny from 10.%d.%d.%d\n", int($1 / 65536), int($1 / 256) % 256, $1 % 256 }' \
		>"$RD/90-portctl.rules" ;;
	# Many zones: 100 of 100 port rules each, the changes in public (no
	# rule of the bulk); a change walks every zone's names and sets.
	s) { for z in $(seq 100); do echo "zone z$z interface vz$z policy in drop"; done
	     seq "$n" | awk '{ printf "allow %d/tcp zone z%d\n", 10000 + $1, 1 + $1 % 100 }'
	   } >"$RD/10-bulk.rules" ;;
	*) seq "$n" | awk '{ printf "allow %d/tcp\n", 10000 + $1 }' >"$RD/10-bulk.rules" ;;
	esac
}

# Bans seeded into the state directory before the daemon starts.
bans_seed() {
	mkdir -p "$PC_TMP/state"
	seq "$1" | awk 'BEGIN { printf "{\"version\":1,\"bans\":[" }
		{ printf "%s{\"address\":\"198.19.%d.%d\",\"expires\":0}", (NR > 1 ? "," : ""), int($1 / 256), $1 % 256 }
		END { print "]}" }' >"$PC_TMP/state/bans.json"
}

start() {
	rm -rf "$PC_TMP/state"
	[ "${BANS:-0}" -gt 0 ] && bans_seed "$BANS"
	daemon_start
}

# portctld started (under callgrind with INSTR=1).
daemon_start() {
	if [ "${INSTR:-0}" = 1 ]; then
		# shellcheck disable=SC2046
		nsenter --net="/run/netns/$(pc_ns host)" valgrind --tool=callgrind --instr-atstart=no \
			--callgrind-out-file="$PC_TMP/cg.out" "$PC_PORTCTLD" $(pc_portctld_args) \
			--socket "$PCD_SOCK" 2>>"$PC_TMP/portctld.log" &
		PCD_PID=$!
		pc_until 120 answers || pc_fail "portctld did not start under callgrind"
	else
		pcd_start
	fi
}

answers() { "$PCD_PORTCTL" -s "$PCD_SOCK" status >/dev/null 2>&1; }

# The instructions counted since the last call, in thousands: callgrind
# dumps them (and counts again from 0) into a file of its own.
instr_take() {
	callgrind_control -d "$PCD_PID" >/dev/null 2>&1 || pc_fail "callgrind_control -d"
	f=$(ls -t "$PC_TMP"/cg.out.* | head -1)
	awk '/^totals:/ { printf "%d", $2 / 1000 }' "$f"
	mkdir -p /tmp/cg; mv "$f" /tmp/cg/
}

# What comes before each timed change: nothing, a restart, a reload, or
# another change.
prep() {
	case "$PREP" in
	start) pcd_stop; daemon_start ;;
	reload) pctl reload ;;
	change) pctl allow 65000/tcp; pctl delete allow 65000/tcp ;;
	esac
}

# timed CMD...: "wall cpu" in microseconds of one portctl command.
timed() {
	prep
	if [ "${INSTR:-0}" = 1 ]; then
		instr_take >/dev/null
		callgrind_control -i on "$PCD_PID" >/dev/null 2>&1
		pctl "$@"
		callgrind_control -i off "$PCD_PID" >/dev/null 2>&1
		echo "0 $(instr_take)"
		return
	fi
	c0=$(cpu_ns); t0=$(now_ns)
	pctl "$@"
	t1=$(now_ns); c1=$(cpu_ns)
	echo "$(((t1 - t0) / 1000)) $(((c1 - c0) / 1000))"
}

# op_once OP I: one timed change of kind OP (run I), undone untimed.
op_once() {
	p=$((2000 + $2))
	case "$1" in
	allow | deny | reject | limit) timed "$1" "$p/tcp"; pctl delete "$1" "$p/tcp" ;;
	delete) pctl allow "$p/tcp"; timed delete allow "$p/tcp" ;;
	# The zone's last limit: its meters go with it (but in (e)).
	unlimit) pctl limit "$p/tcp"; timed delete limit "$p/tcp" ;;
	insert) timed insert "$INS_POS" allow "$p/tcp"; pctl delete allow "$p/tcp" ;;
	# A delete in the middle of 90-portctl.rules: the later rule's line
	# (and its elements' comment) moves.
	middle) pctl allow "$p/tcp"; pctl allow "$((p + 500))/tcp"
		timed delete allow "$p/tcp"; pctl delete allow "$((p + 500))/tcp" ;;
	# The same before a logged rule: its log prefix names its line.
	logged) pctl allow "$p/tcp"; pctl allow "$((p + 500))/tcp" log
		timed delete allow "$p/tcp"; pctl delete allow "$((p + 500))/tcp" log ;;
	# A delete whose neighbours become one run: the deny between two
	# allow rules; in (n), one of the file's own, in its middle, put back.
	join) if [ "$shape" = n ] && [ "$MEASURED" -gt 0 ]; then
		r=$((N / 4 * 2 + 2 * $2)) a="10.$((r / 65536)).$((r / 256 % 256)).$((r % 256))"
		timed delete deny from "$a"; pctl insert "$r" deny from "$a"
	      else
		pctl allow "$p/tcp"; pctl deny from "192.0.2.$2"; pctl allow "$((p + 500))/tcp"
		timed delete deny from "192.0.2.$2"
		pctl delete allow "$p/tcp"; pctl delete allow "$((p + 500))/tcp"
	      fi ;;
	ban) timed ban "203.0.113.$2"; pctl unban "203.0.113.$2" ;;
	unban) pctl ban "203.0.113.$2"; timed unban "203.0.113.$2" ;;
	from) timed deny from "203.0.113.$2"; pctl delete deny from "203.0.113.$2" ;;
	pfrom) timed allow "$p/tcp" from "192.0.2.$2"; pctl delete allow "$p/tcp" from "192.0.2.$2" ;;
	# The first rule of a chain that had none.
	out) timed deny out to "203.0.113.$2"; pctl delete deny out to "203.0.113.$2" ;;
	# A shipped service by its name.
	svc) timed allow https; pctl delete allow https ;;
	esac
}

# measure SHAPE N: one "OP WALL CPU" line per operation into $PC_TMP/res.SHAPE.N
measure() {
	shape_files "$1" "$2"
	MEASURED=$2
	start
	# insert: the first place among 90-portctl.rules' (none yet): after
	# every rule of the files sorting before it.
	INS_POS=$(($(cat "$RD"/[0-8]*.rules 2>/dev/null | grep -cE '^(allow|deny|reject|limit) ') + 1))
	: >"$PC_TMP/res.$1.$2"
	for op in $OPS; do
		# Not in a pipeline: a restart must stay this shell's child.
		for i in $(seq "$R"); do op_once "$op" "$i"; done >"$PC_TMP/runs"
		if [ "${INSTR:-0}" = 1 ]; then
			# The median: a timer's work (the state written a moment
			# after a burst of changes) may fall inside one run.
			echo "$op 0 $(cut -d' ' -f2 "$PC_TMP/runs" | sort -n |
				awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')" >>"$PC_TMP/res.$1.$2"
		else
			echo "$op $(medians <"$PC_TMP/runs")" >>"$PC_TMP/res.$1.$2"
		fi
	done
	pcd_stop
}

# nft_ref N: "ADD_RULE DEL_RULE ADD_ELEM DEL_ELEM" medians (ms) of nft on a
# chain of N rules and a verdict map of N elements, in a table of its own.
nft_ref() {
	{
		printf 'table inet benchref {\n chain c { type filter hook input priority 10; }\n'
		printf ' map m { type inet_proto . inet_service : verdict; counter; }\n}\n'
		if [ "$1" -gt 0 ]; then
			seq "$1" | awk '{ printf "add rule inet benchref c tcp dport %d accept\n", 10000 + $1 }'
			printf 'add element inet benchref m {'
			seq "$1" | awk '{ printf "%s tcp . %d : accept", (NR > 1 ? "," : ""), 10000 + $1 }'
			echo "}"
		fi
	} >"$PC_TMP/ref.nft"
	pc_in host nft -f "$PC_TMP/ref.nft" || pc_fail "nft -f of the reference table"
	for i in $(seq "$R"); do
		t0=$(now_ns)
		pc_in host nft add rule inet benchref c tcp dport 2000 accept
		t1=$(now_ns)
		h=$(pc_in host nft -a list chain inet benchref c | sed -n 's/.*dport 2000 accept # handle //p')
		t2=$(now_ns)
		pc_in host nft delete rule inet benchref c handle "$h"
		t3=$(now_ns)
		pc_in host nft add element inet benchref m '{ tcp . 2000 : accept }'
		t4=$(now_ns)
		pc_in host nft delete element inet benchref m '{ tcp . 2000 }'
		t5=$(now_ns)
		echo "$(((t1 - t0) / 1000)) $(((t3 - t2) / 1000)) $(((t4 - t3) / 1000)) $(((t5 - t4) / 1000))"
	done >"$PC_TMP/nftruns"
	pc_in host nft delete table inet benchref
	for f in 1 2 3 4; do
		cut -d' ' -f"$f" "$PC_TMP/nftruns" | sort -n |
			awk '{ v[NR] = $1 } END { printf "%.2f ", v[int((NR + 1) / 2)] / 1000 }'
	done
	echo
}

shape_label() {
	case "$1" in
	a) echo "(a) 10k allow N/tcp in 10-bulk.rules" ;;
	b) echo "(b) the same in 95-late.rules" ;;
	c) echo "(c) 5k deny from + 5k allow, one file" ;;
	d) echo "(d) 10k rules over two zones" ;;
	e) echo "(e) 10k + 1,000 bans + limit/log rules" ;;
	g) echo "(g) 10k in 90-portctl.rules (the CLI's)" ;;
	h) echo "(h) 10k allow N/tcp from NET" ;;
	i) echo "(i) 10k deny from ADDR (a block list)" ;;
	j) echo "(j) 10k allow 22/tcp from ADDR" ;;
	k) echo "(k) 10k ... from NET to NET (one NET)" ;;
	o) echo "(o) the same, /24 and /16 in turn" ;;
	p) echo "(p) every other toward two nets" ;;
	r) echo "(r) deny ... to NET, /24 and /16 in turn" ;;
	q) echo "(q) to NET4, HOST4, NET6 in turn" ;;
	l) echo "(l) 10k ... from NET to HOST" ;;
	m) echo "(m) 10k allow N/tcp, deny from ADDR in turn" ;;
	n) echo "(n) the same in 90-portctl.rules" ;;
	s) echo "(s) 100 zones of 100 allow N/tcp" ;;
	start) echo "(f) 10k (${F_SHAPE:-a}), each change right after start" ;;
	reload) echo "(f) 10k (${F_SHAPE:-a}), each change after a reload" ;;
	change) echo "(f) 10k (${F_SHAPE:-a}), each change after a change" ;;
	esac
}

# Start to ready (socket answering, ruleset in force) with N rules: a
# restart (the kernel kept the table: only the difference, none here, is
# installed; the state directory kept, with the memo of the stop) and a
# cold start (no table, no state directory: all of it). Ready is the first
# answer of the daemon to "portctl zones", which costs nothing to answer
# (the socket is bound before the first transaction, so a client that
# connects early waits for it); the daemon's CPU time to then beside it
# (the wall time on a loaded machine is mostly other processes').
ready_ms() {
	for i in $(seq "$R"); do
		[ "$1" = cold ] && rm -rf "$PC_TMP/state" &&
			pc_in host nft delete table inet portctl 2>/dev/null
		t0=$(now_ns)
		# shellcheck disable=SC2046
		nsenter --net="/run/netns/$(pc_ns host)" "$PC_PORTCTLD" $(pc_portctld_args) \
			--socket "$PCD_SOCK" 2>>"$PC_TMP/portctld.log" &
		PCD_PID=$!
		until "$PCD_PORTCTL" -s "$PCD_SOCK" zones >/dev/null 2>&1; do :; done
		t1=$(now_ns)
		c1=$(cpu_ns)
		pcd_stop
		echo "$(((t1 - t0) / 1000)) $((c1 / 1000))"
	done | medians
}
ready_report() {
	BANS=0
	shape_files "${READY_SHAPE:-a}" "$N"
	start
	pcd_stop
	set -- $(ready_ms warm) $(ready_ms cold)
	printf 'start to ready with %s rules of shape (%s), wall (daemon CPU): restart %s ms (%s ms; the table ' \
		"$N" "${READY_SHAPE:-a}" "$1" "$2"
	printf 'kept, its flags alone sent), cold start %s ms (%s ms; no table: all of it in one ' "$3" "$4"
	printf 'transaction)\n'
}
# "ready" alone: only start to ready.
if [ "$SHAPES" = ready ]; then
	ready_report
	exit 0
fi

if [ "${INSTR:-0}" = 1 ]; then
	command -v callgrind_control >/dev/null || { echo "SKIP: INSTR=1 needs valgrind"; exit 77; }
	# Right after a start the idle memory release (500 ms after ready)
	# falls inside the count: callgrind stretches every gap.
	case " $SHAPES " in
	*" start "*) pc_fail "INSTR=1: not 'start' (its count would hold the idle memory release)" ;;
	esac
	echo "median of $R runs: the daemon's thousands of instructions per change (ratio to empty)"
else
	echo "median of $R runs: daemon CPU ms (ratio 10k/empty), then the portctl command's wall ms"
fi
printf '%-42s' "shape"
for op in $OPS; do printf ' %-17s' "$op"; done
echo
for s in $SHAPES; do
	case "$s" in
	start | reload | change) PREP=$s; shape=${F_SHAPE:-a} ;;
	*) PREP=""; shape=$s ;;
	esac
	BANS=0
	[ "$s" = e ] && BANS=1000
	measure "$shape" 0
	measure "$shape" "$N"
	for size in "$N" 0; do
		if [ "$size" = 0 ]; then printf '%-42s' "    empty"; else printf '%-42s' "$(shape_label "$s")"; fi
		for op in $OPS; do
			set -- $(grep "^$op " "$PC_TMP/res.$shape.0") && e=$3
			set -- $(grep "^$op " "$PC_TMP/res.$shape.$size")
			if [ "${INSTR:-0}" = 1 ]; then
				printf ' %7d %5.2fx    ' "$3" "$(awk -v a="$3" -v b="$e" 'BEGIN { print a / b }')"
			else
				printf ' %5.2f %4.2fx %5.1f' "$3" "$(awk -v a="$3" -v b="$e" 'BEGIN { print a / b }')" "$2"
			fi
		done
		echo
	done
done
[ "${INSTR:-0}" = 1 ] && exit 0
PREP=""
set -- $(nft_ref 0)
printf 'nft, empty:      add rule %s ms, delete rule %s ms, add element %s ms, delete element %s ms\n' "$@"
set -- $(nft_ref "$N")
printf 'nft, %s:     add rule %s ms, delete rule %s ms, add element %s ms, delete element %s ms\n' "$N" "$@"

# The round trip of "portctl allow 443/tcp" on an empty configuration and
# its parts: exec (portctl version: no socket), the daemon's CPU (parse,
# compile, difference), and from strace -T inside the daemon, the time in
# netlink and in fsync.
shape_files a 0
start
for i in $(seq "$R"); do
	t0=$(now_ns); "$PCD_PORTCTL" version >/dev/null; t1=$(now_ns)
	echo "$(((t1 - t0) / 1000)) 0"
done | medians >"$PC_TMP/exec"
for i in $(seq "$R"); do
	c0=$(cpu_ns); t0=$(now_ns)
	pctl allow 443/tcp
	t1=$(now_ns); c1=$(cpu_ns)
	pctl delete allow 443/tcp
	echo "$(((t1 - t0) / 1000)) $(((c1 - c0) / 1000))"
done | medians >"$PC_TMP/rt"
if command -v strace >/dev/null; then
	strace -f -T -yy -e trace=sendmsg,recvmsg,sendto,recvfrom,fsync,fdatasync -o "$PC_TMP/strace" \
		-p "$PCD_PID" 2>/dev/null &
	SPID=$!
	pc_until 5 grep -q . "/proc/$PCD_PID/status" # attached
	sleep 0.5 # strace prints nothing when attached: give it the moment
	for i in $(seq "$R"); do pctl allow 443/tcp; pctl delete allow 443/tcp; done
	kill "$SPID"; wait "$SPID" 2>/dev/null
	# Netlink: the daemon's sendmsg/recvmsg other than on its Unix socket.
	n=$(grep -E 'sendmsg|recvmsg' "$PC_TMP/strace" | grep NETLINK | sed -n 's/.*<\([0-9.]*\)>$/\1/p' |
		awk -v r="$R" '{ s += $1 } END { printf "%.2f", s * 1000 / (2 * r) }')
	f=$(grep -E 'fsync|fdatasync' "$PC_TMP/strace" | sed -n 's/.*<\([0-9.]*\)>$/\1/p' |
		awk -v r="$R" '{ s += $1 } END { printf "%.2f", s * 1000 / (2 * r) }')
	echo "$n $f" >"$PC_TMP/sys"
else
	echo "? ?" >"$PC_TMP/sys"
fi
pcd_stop
set -- $(cat "$PC_TMP/rt") $(cut -d' ' -f1 "$PC_TMP/exec") $(cat "$PC_TMP/sys")
printf 'portctl allow 443/tcp, empty: %s ms round trip; exec %s ms, daemon CPU %s ms, ' "$1" "$3" "$2"
printf 'in netlink %s ms, in fsync %s ms (strace -T, per change)\n' "$4" "$5"

# Daemon CPU per ban and unban among 10,000 bans, plain and in a PID namespace.
ban_cpu() {
	for i in $(seq "$R"); do
		c0=$(cpu_ns); t0=$(now_ns); pctl ban 203.0.113.7; t1=$(now_ns); c1=$(cpu_ns)
		pctl unban 203.0.113.7; t2=$(now_ns); c2=$(cpu_ns)
		echo "$(((t1 - t0) / 1000)) $(((c1 - c0) / 1000)) $(((t2 - t1) / 1000)) $(((c2 - c1) / 1000))"
	done >"$PC_TMP/banruns"
	{ cut -d' ' -f1,2 "$PC_TMP/banruns" | medians; cut -d' ' -f3,4 "$PC_TMP/banruns" | medians; } | tr '\n' ' '
}
BANS=$N
start
set -- $(ban_cpu)
printf 'among %s bans: ban %s ms (daemon CPU %s ms), unban %s ms (CPU %s ms)\n' "$N" "$@"
pcd_stop
PC_PORTCTLD_REAL=$PC_PORTCTLD
PC_PORTCTLD="$PC_TMP/portctld-pidns"
printf '#!/bin/sh\nexec unshare -p -f --kill-child %s "$@"\n' "$PC_PORTCTLD_REAL" >"$PC_PORTCTLD"
chmod +x "$PC_PORTCTLD"
rm -rf "$PC_TMP/state"; bans_seed "$N"
pcd_start
# The daemon's own pid (the wrapper's child) for its CPU time.
PCD_WRAP=$PCD_PID
PCD_PID=$(pgrep -P "$PCD_WRAP" | head -1)
set -- $(ban_cpu)
printf 'the same in a PID namespace: ban %s ms (CPU %s ms), unban %s ms (CPU %s ms)\n' "$@"
kill "$PCD_PID"; wait "$PCD_WRAP" 2>/dev/null
PCD_PID=""
PC_PORTCTLD=$PC_PORTCTLD_REAL


ready_report
