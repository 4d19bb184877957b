#!/bin/sh
# Install what portctl needs to build and test on Debian 12, when missing.
# Used by tools/try-it.sh and tools/test.sh; safe to run again.
set -eu

# Build, then test: nft and iproute2 for the namespace tests, netbase so nft
# prints protocol names, systemd-analyze for the units, ansible-core for the
# fleet playbook and the Ansible module (ansible-galaxy, ansible-doc),
# fail2ban for its action's test (installed, not started),
# prometheus for promtool, which checks portctl metrics (not started either),
# iptables (iptables-nft) to write docker's rules as docker does.
PKGS="build-essential autoconf automake libtool pkg-config
      libnftnl-dev libmnl-dev libcap-ng-dev libjansson-dev check
      nftables iproute2 procps util-linux passwd python3 git netbase
      systemd ansible-core fail2ban prometheus iptables"
[ "${PORTCTL_FUZZ:-0}" = 1 ] && PKGS="$PKGS clang"

missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing packages:$missing — run as root (or: sudo apt-get install$missing)" >&2
	exit 1
fi
echo "deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
# fail2ban is a test client here: a service started by its install would
# watch this machine's sshd and change its firewall.
case " $missing " in
*" fail2ban "*)
	if [ -d /run/systemd/system ]; then
		systemctl disable --now fail2ban.service >/dev/null 2>&1 || true
	fi
	;;
esac
# Only promtool is wanted: not a Prometheus server listening on :9090.
case " $missing " in
*" prometheus "*)
	if [ -d /run/systemd/system ]; then
		systemctl disable --now prometheus.service >/dev/null 2>&1 || true
	fi
	;;
esac
