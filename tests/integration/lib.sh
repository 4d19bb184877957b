# Shared helpers for the integration tests: network namespaces and veth
# links created per test (PID-based names), cleanup traps, traffic probes.
#
# Usage in a test:
#   . "$(dirname "$0")/lib.sh"
#   pc_require            # exits 77 unless root with ip, nft, unshare, python3
#   pc_ns_add host; pc_ns_add peer1
#   pc_link host vh1 10.99.1.1 fd99:1::1 peer1 vp1 10.99.1.2 fd99:1::2
#   pc_config_write '10-test.rules' 'allow 443/tcp'
#   pc_apply host || pc_fail "apply failed"
#   pc_expect open pc_probe peer1 tcp 10.99.1.1 443
#
# Everything a test creates is removed by the EXIT trap; the root
# namespace's nftables ruleset is compared before and after.

set -u

: "${top_builddir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_srcdir:=$top_builddir}"

PC_PORTCTLD="$top_builddir/src/daemon/portctld"
PC_PROBE="$top_builddir/tests/integration/probe"
PC_HOLDER="$top_builddir/tests/integration/holder"
PC_TEST=$(basename "$0" .sh)
PC_ID="pc$$"
PC_NAMESPACES=""
PC_PIDS=""
PC_TMP=""
PC_ROOT_RULESET=""

pc_skip() {
	echo "SKIP: $PC_TEST: $*" >&2
	exit 77
}

pc_fail() {
	echo "FAIL: $PC_TEST: $*" >&2
	exit 1
}

pc_log() {
	echo "# $*" >&2
}

pc_cleanup() {
	rc=$?
	for pid in $PC_PIDS; do
		kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	done
	for ns in $PC_NAMESPACES; do
		ip netns del "$ns" 2>/dev/null
	done
	if [ -n "$PC_TMP" ]; then
		[ -n "${PC_KEEP:-}" ] && cp -r "$PC_TMP" /tmp/kept.$$; rm -rf "$PC_TMP"
	fi
	if [ -n "$PC_ROOT_RULESET" ] && [ "$(nft list ruleset 2>&1)" != "$PC_ROOT_RULESET" ]; then
		echo "FAIL: $PC_TEST: the root namespace's nftables ruleset changed" >&2
		rc=1
	fi
	exit $rc
}

pc_require() {
	[ "$(id -u)" -eq 0 ] || pc_skip "needs root (network namespaces)"
	for tool in ip nft unshare python3; do
		command -v "$tool" >/dev/null 2>&1 || pc_skip "needs $tool"
	done
	[ -x "$PC_PORTCTLD" ] || pc_skip "portctld not built at $PC_PORTCTLD"
	[ -x "$PC_PROBE" ] || pc_skip "probe not built at $PC_PROBE"
	ip netns add "${PC_ID}-check" 2>/dev/null || pc_skip "cannot create network namespaces"
	ip netns del "${PC_ID}-check"
	PC_ROOT_RULESET=$(nft list ruleset 2>&1)
	PC_TMP=$(mktemp -d "${TMPDIR:-/tmp}/portctl-$PC_TEST.XXXXXX")
	mkdir -p "$PC_TMP/etc/rules.d" "$PC_TMP/state" "$PC_TMP/share"
	trap pc_cleanup EXIT
	# The shipped files, where a daemon serving as an unprivileged user can
	# read them (a checkout under /root cannot be), owned and moded as a
	# package installs them.
	cp -R "$top_srcdir/rules/." "$PC_TMP/share/"
	chmod -R u=rwX,go=rX "$PC_TMP/share"
	trap 'exit 1' INT TERM
}

# The namespace's real name for a test-local one ("host" -> "pc1234-host").
pc_ns() {
	echo "${PC_ID}-$1"
}

pc_ns_add() {
	ip netns add "$(pc_ns "$1")" || pc_fail "ip netns add $1"
	PC_NAMESPACES="$PC_NAMESPACES $(pc_ns "$1")"
	pc_in "$1" ip link set lo up
}

# Run a command inside a test namespace.
pc_in() {
	ns=$(pc_ns "$1")
	shift
	nsenter --net="/run/netns/$ns" "$@"
}

# pc_link NS_A IF_A V4_A V6_A NS_B IF_B V4_B V6_B: a veth pair with /24 and
# /64 addresses (no duplicate address detection, so IPv6 works at once).
pc_link() {
	ip link add "$2" netns "$(pc_ns "$1")" type veth peer name "$6" netns "$(pc_ns "$5")" ||
		pc_fail "veth $2/$6"
	pc_in "$1" ip addr add "$3/24" dev "$2"
	pc_in "$1" ip addr add "$4/64" dev "$2" nodad
	pc_in "$1" ip link set "$2" up
	pc_in "$5" ip addr add "$7/24" dev "$6"
	pc_in "$5" ip addr add "$8/64" dev "$6" nodad
	pc_in "$5" ip link set "$6" up
}

# pc_config_write NAME LINE...: a file in the test's rules.d (or, for
# portctl.conf, the configuration directory itself).
pc_config_write() {
	name=$1
	shift
	case "$name" in
	*.rules) path="$PC_TMP/etc/rules.d/$name" ;;
	*) path="$PC_TMP/etc/$name" ;;
	esac
	printf '%s\n' "$@" >"$path"
}

pc_config_clear() {
	rm -f "$PC_TMP"/etc/rules.d/*.rules
}

pc_portctld_args() {
	echo "--config $PC_TMP/etc --data-dir $PC_TMP/share --state-dir $PC_TMP/state"
}

# pc_apply NS [ENV=VALUE...]: portctld --apply-once there; stderr is kept in
# $PC_TMP/apply.err, and the exit code returned.
pc_apply() {
	ns=$1
	shift
	# An owned table outlives --apply-once with only the persist flag, which
	# Debian 12's nft 1.0.6 does not know: its JSON listing then stops at the
	# table's flags (pc_nft_json). Unowned unless the test asks for it.
	grep -qs '^table-owner' "$PC_TMP/etc/portctl.conf" ||
		echo 'table-owner = no' >>"$PC_TMP/etc/portctl.conf"
	# shellcheck disable=SC2046
	pc_in "$ns" env "$@" "$PC_PORTCTLD" --apply-once $(pc_portctld_args) 2>"$PC_TMP/apply.err"
}

# pc_background NS CMD...: start a command in a namespace, wait for its
# first output line ("ready"), remember it for cleanup.
pc_background() {
	ns=$1
	shift
	PC_N=$((${PC_N:-0} + 1))
	fifo="$PC_TMP/fifo.$PC_N"
	mkfifo "$fifo"
	# Not through pc_in: a backgrounded function would be a subshell, and
	# its PID not the command's.
	nsenter --net="/run/netns/$(pc_ns "$ns")" "$@" >"$fifo" &
	PC_PIDS="$PC_PIDS $!"
	PC_LAST_PID=$!
	read -r PC_READY <"$fifo" || pc_fail "$* did not start"
	rm -f "$fifo"
}

pc_listen() {
	ns=$1
	shift
	pc_background "$ns" "$PC_PROBE" listen "$@"
}

pc_stop() {
	kill "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	PC_PIDS=$(echo "$PC_PIDS" | sed "s/ $1\b//")
}

# pc_probe NS tcp|udp ADDR PORT [TIMEOUT_MS [SOURCE]]: prints open, refused or timeout.
pc_probe() {
	ns=$1
	shift
	pc_in "$ns" "$PC_PROBE" "$@"
}

# pc_expect WANT CMD...: the command's output must be WANT.
pc_expect() {
	want=$1
	shift
	got=$("$@")
	[ "$got" = "$want" ] || pc_fail "'$*' gave '$got', expected '$want'"
	pc_log "ok: $* -> $got"
}

# The nftables ruleset of a test namespace, as JSON, queried with python3:
# pc_nft_json NS 'PYTHON EXPRESSION over r (the parsed list)'.
pc_nft_json() {
	pc_in "$1" nft -j list ruleset >"$PC_TMP/ruleset.json" || pc_fail "nft -j list ruleset"
	python3 - "$PC_TMP/ruleset.json" "$2" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["nftables"]
print(eval(sys.argv[2]))
PY
}

# pc_until SECONDS CMD...: poll (every 50 ms) until CMD succeeds; 1 when it
# did not within SECONDS. For waiting on an event, never a fixed sleep.
pc_until() {
	tries=$(($1 * 20))
	shift
	while [ "$tries" -gt 0 ]; do
		"$@" && return 0
		tries=$((tries - 1))
		sleep 0.05
	done
	return 1
}

# pc_monitor_start NS FILE ... pc_monitor_stop: FILE gets what nft monitor
# saw in NS between the two. Both ends wait for the kernel's word, without
# a commit of their own (which would change the generation id): start
# until the monitor's socket has joined NFNLGRP_NFTABLES, stop until it has
# read its queue empty and printed the last generation it got.

# "GROUPS RMEM" of the monitor's netlink socket in /proc/net/netlink.
pc_monitor_sock() {
	inodes=$(ls -l "/proc/$PC_MON_PID/fd" 2>/dev/null | sed -n 's/.*socket:\[\([0-9]*\)\]$/\1/p')
	pc_in "$PC_MON_NS" cat /proc/net/netlink |
		awk -v inodes=" $(echo $inodes) " '$2 == 12 && index(inodes, " " $10 " ") { print $4, $5 }'
}

pc_monitor_subscribed() {
	set -- $(pc_monitor_sock)
	[ $# -eq 2 ] && [ $((0x$1 & 0x40)) -ne 0 ]
}

pc_monitor_drained() {
	set -- $(pc_monitor_sock)
	[ $# -eq 2 ] && [ "$2" -eq 0 ] || return 1
	[ ! -s "$PC_MON_FILE" ] || tail -1 "$PC_MON_FILE" | grep -q "^# new generation"
}

pc_monitor_start() {
	PC_MON_NS=$1
	PC_MON_FILE=$2
	nsenter --net="/run/netns/$(pc_ns "$1")" nft monitor >"$2" 2>&1 &
	PC_MON_PID=$!
	PC_PIDS="$PC_PIDS $PC_MON_PID"
	for _ in $(seq 300); do
		pc_monitor_subscribed && return 0
		sleep 0.05
	done
	pc_fail "nft monitor did not subscribe"
}

pc_monitor_stop() {
	for _ in $(seq 300); do
		pc_monitor_drained && break
		sleep 0.05
	done
	pc_monitor_drained || pc_fail "nft monitor did not print what it got"
	pc_stop "$PC_MON_PID"
}
