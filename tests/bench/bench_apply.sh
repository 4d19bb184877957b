#!/bin/sh
# On-demand benchmark (not part of make check): portctld --apply-once versus
# nft -f of the very same ruleset, and one-rule changes.
# Usage: tests/bench/bench_apply.sh [BUILDDIR] [RUNS]   (root; fresh namespaces)
#
# Like with like: the nft input is `nft list table inet portctl` of what
# portctld loaded for that configuration (verdict maps with per-element
# counters and comments, the preamble, every zone chain), so both load the
# same objects into the kernel. Each run happens in a fresh namespace, and
# the clock runs inside it, around the command only: namespace creation is
# excluded from both. Runs alternate between the two commands so that load
# from other processes hits both alike. "bare set" is the older reference
# (one plain set, no counters, no comments, no preamble) for context.
set -eu

builddir=$(cd "${1:-${top_builddir:-.}}" && pwd)
runs=${2:-7}
srcdir=$(cd "$(dirname "$0")/../.." && pwd)
portctld="$builddir/src/daemon/portctld"
incr="$builddir/tests/bench/bench_incr"
[ "$(id -u)" -eq 0 ] || { echo "bench_apply: needs root (network namespaces)" >&2; exit 77; }
[ -x "$portctld" ] && [ -x "$incr" ] || { echo "bench_apply: build portctld and bench_incr first" >&2; exit 1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/portctl-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# N distinct port rules: ports 1..65535 over tcp, then over udp.
gen_rules() {
	python3 - "$1" <<'PY'
import sys
n = int(sys.argv[1])
for i in range(n):
    print("allow %d/%s" % (i % 65535 + 1, "tcp" if i < 65535 else "udp"))
PY
}

gen_bare_nft() {
	python3 - "$1" <<'PY'
import sys
n = int(sys.argv[1])
el = ",\n".join("%s . %d" % ("tcp" if i < 65535 else "udp", i % 65535 + 1) for i in range(n))
print("table inet bench {\n set allow {\n  type inet_proto . inet_service\n  elements = {\n%s\n  }\n }\n"
      " chain input {\n  type filter hook input priority 0; policy drop;\n"
      "  meta l4proto . th dport @allow accept\n }\n}" % el)
PY
}

# What portctld loads, as nft input (nft 1.0.6 lists "flags " for a table
# without flags, which its own parser refuses: drop that line; and it
# cannot read back "ct original proto-dst" in a concatenation, which the
# published ports' chains have: "th dport", a load of the same size, there).
gen_same_nft() {
	unshare -n sh -c "'$portctld' --apply-once --config '$1' --data-dir '$srcdir/rules' \
		--state-dir '$tmp/state-list' && nft list table inet portctl" |
		sed -e '/^[[:space:]]*flags[[:space:]]*$/d' \
			-e 's/meta l4proto \. ct original proto-dst/meta l4proto . th dport/'
}

# Median wall time in ms of each command line (one argument each, run by
# sh), alternating, every run in a fresh namespace timed from inside.
medians_ms() {
	python3 - "$runs" "$@" <<'PY'
import subprocess, sys
runs = int(sys.argv[1]); cmds = sys.argv[2:]
timer = ("import subprocess, sys, time\n"
         "t0 = time.monotonic()\n"
         "subprocess.run(['sh', '-c', sys.argv[1]], check=True, stdout=subprocess.DEVNULL)\n"
         "print((time.monotonic() - t0) * 1000)\n")
t = [[] for _ in cmds]
for _ in range(runs):
    for i, c in enumerate(cmds):
        out = subprocess.run(["unshare", "-n", "python3", "-c", timer, c], check=True,
                             stdout=subprocess.PIPE, text=True).stdout
        t[i].append(float(out))
print(" ".join("%.1f" % sorted(x)[len(x) // 2] for x in t))
PY
}

kernel_rules() {
	unshare -n sh -c "'$portctld' --apply-once --config '$1' --data-dir '$srcdir/rules' \
		--state-dir '$tmp/state-list' && nft -j list table inet portctl" |
		python3 -c 'import json,sys; print(sum(1 for o in json.load(sys.stdin)["nftables"] if "rule" in o))'
}

echo "load: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores; median of $runs runs, alternating"
printf '%-8s %13s %15s %7s %15s %13s\n' rules "portctld(ms)" "nft -f same(ms)" ratio \
	"nft bare set(ms)" kernel-rules
for n in 1000 10000 100000; do
	cfg="$tmp/cfg$n"
	mkdir -p "$cfg/rules.d"
	gen_rules "$n" >"$cfg/rules.d/10-bench.rules"
	gen_same_nft "$cfg" >"$tmp/same$n.nft"
	gen_bare_nft "$n" >"$tmp/bare$n.nft"
	set -- $(medians_ms "'$portctld' --apply-once --config '$cfg' --data-dir '$srcdir/rules' --state-dir '$tmp/state'" \
		"nft -f '$tmp/same$n.nft'" "nft -f '$tmp/bare$n.nft'")
	krules=$(kernel_rules "$cfg")
	ratio=$(python3 -c "print('%.2f' % ($1 / $2))")
	printf '%-8s %13s %15s %7s %15s %13s\n' "$n" "$1" "$2" "$ratio" "$3" "$krules"
	# Port rules are set elements: the kernel rules are the zones' chains
	# (five shipped zones, their bans, preambles), the same at every size.
	[ "$krules" -eq "${krules_first:=$krules}" ] ||
		echo "WARNING: $krules kernel rules for $n port rules ($krules_first for 1000): they must not grow"
done

echo
echo "one-rule change, warm process (load + compile + transaction), median of $runs:"
mkdir -p "$tmp/empty/rules.d"
printf '  empty configuration:      '
unshare -n "$incr" "$tmp/empty" "$srcdir/rules" "$tmp/state" "$runs"
printf '  10,000-rule configuration: '
unshare -n "$incr" "$tmp/cfg10000" "$srcdir/rules" "$tmp/state" "$runs"
printf '  10,000 rules, + "deny from": '
unshare -n "$incr" "$tmp/cfg10000" "$srcdir/rules" "$tmp/state" "$runs" "deny from 10.99.9.9"
