#!/bin/sh
# Promise 10 where a change in place moves rules between kernel objects:
# - a zone of rules of their own cut into blocks (chains the zone jumps
#   to): a CLI rule that begins a block makes it in place, and the rules
#   after it, up to the next block, move into it; its delete moves them
#   back. Every moved rule goes on with its counter.
# - a big file's run of ports after the CLI's rules: a `limit` put between
#   cuts the run in two, the rest keeping the run's name and sets; its
#   delete joins them again under that name. Every port goes on with its
#   counter.
# Real traffic over IPv4 and IPv6 to every rule before and after each
# change; each change made in place (one transaction).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon-lib.sh"
pc_require
pcd_setup
pc_config_write portctl.conf "socket-group = $PCD_GROUP" "socket-mode = 0666" "log-level = debug"

P() { pcd_as_member "$@" >"$PC_TMP/out" 2>&1 || pc_fail "portctl $*: $(cat "$PC_TMP/out")"; }

# hit ADDR PORT...: one connection to each port from the peer; each must be
# let in (refused: nothing listens, the host answers with a reset).
hit() {
	pc_in peer python3 - "$@" <<'PY' >"$PC_TMP/hit" 2>&1 || pc_fail "traffic: $(cat "$PC_TMP/hit")"
import errno, socket, sys
addr, ports = sys.argv[1], [int(p) for p in sys.argv[2:]]
family = socket.AF_INET6 if ":" in addr else socket.AF_INET
bad = []
for port in ports:
    s = socket.socket(family, socket.SOCK_STREAM)
    s.settimeout(1.0)
    err = s.connect_ex((addr, port))
    s.close()
    if err != errno.ECONNREFUSED:
        bad.append("%d: %s" % (port, errno.errorcode.get(err, err)))
if bad:
    sys.exit("not let in: " + ", ".join(bad))
PY
}

# kept BEFORE AFTER WHAT MIN: no counter of BEFORE went back or went
# missing (but a CLI rule the change deleted), and at least MIN of them
# counted.
kept() {
	python3 - "$1" "$2" "$4" >"$PC_TMP/lost" <<'PY' || pc_fail "$3: counters lost: $(cat "$PC_TMP/lost")"
import sys
def load(p):
    return dict(l.rsplit(" ", 1) for l in open(p).read().splitlines())
a, b = load(sys.argv[1]), load(sys.argv[2])
bad = ["%s: %s -> %s" % (k, a[k], b.get(k, "missing")) for k in a
       if not (k.startswith("90-portctl.rules|") and k not in b) and int(b.get(k, -1)) < int(a[k])]
counted = sum(int(v) > 0 for v in a.values())
print("; ".join(bad[:20]) or "%d rules counted, not %s" % (counted, sys.argv[3]))
sys.exit(1 if bad or counted < int(sys.argv[3]) else 0)
PY
	pc_log "ok: $3: counters kept"
}

step=0
# moved WHAT MIN CMD...: traffic to every rule, counters, CMD, traffic
# again (the rules still let it in), counters: none went back.
moved() {
	what=$1 min=$2
	shift 2
	step=$((step + 1))
	traffic
	pcd_counters "$PC_TMP/before.$step"
	"$@"
	traffic
	pcd_counters "$PC_TMP/after.$step"
	kept "$PC_TMP/before.$step" "$PC_TMP/after.$step" "$what" "$min"
}

# Part 1: 300 rules of their own over IPv4 and 40 over IPv6 (a port, a
# source and a destination network each, every other one naming the
# clients' source ports too: allow rules toward networks in a row are a
# run, a rule of source ports is not), in 95-late.rules, after the
# CLI's file: the CLI's rules come before them in the zone chain, after
# 10-first.rules' (a zone chain's first entry begins no block).
own4=$(seq 5001 5300)
own6=$(seq 6001 6040)
{
	for p in $own4; do echo "allow $p/tcp from 10.99.7.0/28 $([ $((p % 2)) = 1 ] && echo port 1024-65535/tcp to 10.99.4.0/22 || echo to 10.99.7.0/24)"; done
	for p in $own6; do echo "allow $p/tcp from fd99:7::/120 $([ $((p % 2)) = 1 ] && echo port 1024-65535/tcp to fd99:7::/56 || echo to fd99:7::/64)"; done
} >"$PC_TMP/etc/rules.d/95-late.rules"
echo "allow 5000/tcp from 10.99.7.0/28 port 1024-65535/tcp to 10.99.4.0/22" >"$PC_TMP/etc/rules.d/10-first.rules"
traffic() {
	hit 10.99.7.1 5000 $own4
	hit fd99:7::1 $own6
}
pcd_start
blocks() { pc_in host nft list table inet portctl | grep -c "chain in_public_B"; }
n_blocks=$(blocks)
[ "$n_blocks" -ge 2 ] || pc_fail "340 rules of their own in $n_blocks blocks"

# A CLI rule whose entry begins a block (about one in 64; the name its
# comment gives decides it): found by trying comments, each tried one
# deleted again.
make_block() {
	k=0
	while :; do
		k=$((k + 1))
		[ $k -le 400 ] || pc_fail "no rule of 400 began a block"
		pcd_in_place allow 7000/tcp from 10.99.7.0/28 to 10.99.7.0/24 comment "b$k"
		[ "$(blocks)" -gt "$n_blocks" ] && break
		pcd_in_place delete allow 7000/tcp from 10.99.7.0/28 to 10.99.7.0/24 comment "b$k"
	done
	grep -qE '^add chain inet portctl in_public_B' "$PC_TMP/monitor" ||
		pc_fail "no block chain came: $(cat "$PC_TMP/monitor")"
	pc_log "a block made in place ($k rules tried)"
}
moved "a block made in place, the rules after it moved into it" 300 make_block
unmake_block() {
	pcd_in_place delete allow 7000/tcp from 10.99.7.0/28 to 10.99.7.0/24 comment "b$k"
	[ "$(blocks)" -eq "$n_blocks" ] || pc_fail "the delete left $(blocks) blocks, not $n_blocks"
	grep -qE '^delete chain inet portctl in_public_B' "$PC_TMP/monitor" ||
		pc_fail "no block chain went: $(cat "$PC_TMP/monitor")"
}
moved "a block unmade in place, its rules moved back" 300 unmake_block
# The CLI's rule before 95-late.rules' and a limit, into a block in place.
moved "a rule into a block" 300 pcd_in_place allow 7001/tcp from 10.99.7.0/28 to 10.99.7.0/24
moved "a limit into a block" 300 pcd_in_place limit 7002/tcp
moved "the limit's delete" 300 pcd_in_place delete limit 7002/tcp
# The same read again at start: nothing goes back either.
restart() {
	pcd_stop
	pcd_start
}
moved "restart with blocks" 300 restart
pcd_stop

# Part 2: 100 ports in 95-late.rules, one run with the CLI's port rule
# before it; the run is named by its big block of 95-late.rules.
rm -f "$PC_TMP"/etc/rules.d/*.rules
ports=$(seq 8001 8100)
for p in $ports; do echo "allow $p/tcp"; done >"$PC_TMP/etc/rules.d/95-late.rules"
traffic() {
	hit 10.99.7.1 8000 $ports
	hit fd99:7::1 8000 $ports
}
pcd_start
P allow 8000/tcp
moved "a run cut in two by a limit, the rest keeping its name" 100 pcd_in_place limit 8200/tcp
moved "the two joined again under the rest's name" 100 pcd_in_place delete limit 8200/tcp
# A rule of its own cuts the run and goes.
moved "a run cut by a rule of its own" 100 pcd_in_place allow 8201/tcp from 10.99.7.2
moved "its delete" 100 pcd_in_place delete allow 8201/tcp from 10.99.7.2
pcd_stop
pc_log "PASS"
