#!/bin/bash
# Build portctl and show it doing its job inside a throwaway network
# namespace: portctld with the shipped defaults, `portctl allow 443/tcp` and
# `portctl status` run as an ordinary user, the resulting nftables table, and
# real traffic from a peer namespace. This machine's own firewall is untouched.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD

if [[ $(id -u) -ne 0 ]]; then
	echo "try-it: run as root (network namespaces need it): sudo $0" >&2
	exit 1
fi

tools/deps.sh
[[ -x configure ]] || autoreconf -fi
mkdir -p build
cd build
[[ -f Makefile ]] || ../configure --quiet
make -j"$(nproc)" --quiet >/dev/null
make --quiet tests/integration/probe >/dev/null
build=$PWD

demo=$(mktemp -d /tmp/portctl-try.XXXXXX)
host=portctl-try-$$
peer=portctl-peer-$$
daemon_pid=
cleanup() {
	[[ -n $daemon_pid ]] && kill "$daemon_pid" 2>/dev/null && wait "$daemon_pid" 2>/dev/null
	ip netns pids "$host" 2>/dev/null | xargs -r kill 2>/dev/null || true
	ip netns del "$host" 2>/dev/null || true
	ip netns del "$peer" 2>/dev/null || true
	rm -rf "$demo"
}
trap cleanup EXIT

# Enter only the network namespace: "ip netns exec" and "ip -n" also set up
# a mount namespace, which fails where / is not a mount point (a chroot).
in_ns() {
	local ns=$1
	shift
	nsenter --net="/run/netns/$ns" "$@"
}

say() { printf '\n### %s\n' "$*"; }
run() {
	printf '$ %s\n' "$*"
	"$@"
}

# The shipped defaults, in a directory of the demo's own. The only addition:
# the socket group is a numeric gid so that no group has to be created here.
mkdir -p "$demo/etc/rules.d" "$demo/state" "$demo/run"
cp "$top/rules/portctl.conf" "$demo/etc/"
echo "socket-group = 4711" >>"$demo/etc/portctl.conf"
chmod 755 "$demo"

# Two namespaces joined by a veth pair: "host" runs portctld, "peer" knocks.
ip netns add "$host"
ip netns add "$peer"
ip link add veth-host netns "$host" type veth peer name veth-peer netns "$peer"
in_ns "$host" ip addr add 192.0.2.1/24 dev veth-host
in_ns "$peer" ip addr add 192.0.2.2/24 dev veth-peer
in_ns "$host" ip link set veth-host up
in_ns "$peer" ip link set veth-peer up
in_ns "$host" ip link set lo up
in_ns "$peer" ip link set lo up

say "portctld starts with the shipped zones and services (default zone: public, inbound dropped)"
nsenter --net="/run/netns/$host" "$build/src/daemon/portctld" --foreground \
	--config "$demo/etc" --data-dir "$top/rules" --state-dir "$demo/state" \
	--socket "$demo/run/portctl.sock" 2>"$demo/portctld.log" &
daemon_pid=$!
for _ in $(seq 100); do
	[[ -S $demo/run/portctl.sock ]] && break
	sleep 0.05
done
[[ -S $demo/run/portctl.sock ]] || { cat "$demo/portctld.log"; exit 1; }
sed 's/^/  portctld: /' "$demo/portctld.log"

# An ordinary user (nobody) whose supplementary group is the socket group.
as_user() { setpriv --reuid 65534 --regid 65534 --groups 4711 "$@"; }
portctl() { as_user "$build/portctl" --socket "$demo/run/portctl.sock" "$@"; }

nsenter --net="/run/netns/$host" "$build/tests/integration/probe" listen tcp:443 tcp:444 >/dev/null &
sleep 0.2

say "Before: nothing is allowed in, so port 443 does not answer"
printf 'peer → 192.0.2.1:443  %s\n' "$(in_ns "$peer" "$build/tests/integration/probe" tcp 192.0.2.1 443 500)"

say "As user nobody (in the socket group): allow 443/tcp"
run portctl allow 443/tcp

say "After: 443 answers, 444 still does not"
printf 'peer → 192.0.2.1:443  %s\n' "$(in_ns "$peer" "$build/tests/integration/probe" tcp 192.0.2.1 443 500)"
printf 'peer → 192.0.2.1:444  %s\n' "$(in_ns "$peer" "$build/tests/integration/probe" tcp 192.0.2.1 444 500)"

say "portctl status: the rule, where it came from, and its counters"
run portctl status

say "The table portctld loaded, as nft sees it"
run in_ns "$host" nft list table inet portctl

say "A user outside the group may read but not change (exit 4)"
set +e
setpriv --reuid 65534 --regid 65534 --clear-groups "$build/portctl" --socket "$demo/run/portctl.sock" allow 80/tcp
echo "exit $?"
set -e

say "The rule was persisted for the next start"
run cat "$demo/etc/rules.d/90-portctl.rules"

say "Done: the namespaces are removed; this machine's own ruleset was never touched"
