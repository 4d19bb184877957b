#!/bin/bash
# Produce the ufw and firewalld configurations of tests/data/import/ with
# the real tools, as Debian 12 ships them, without installing them or
# touching this machine's firewall:
#
#   apt-get download ufw firewalld python3-firewall python3-nftables
#   for p in *.deb; do dpkg -x "$p" ROOT; done
#   tests/data/import/generate.sh ROOT OUTDIR
#
# ufw runs with --rootdir/--datadir in a sandbox directory and in a
# private network namespace (unshare -n), so the iptables it may call see
# only that namespace; firewall-offline-cmd edits XML files only, with
# --system-config/--default-config. Needs root (ufw insists), python3-gi
# and libnftables1 (firewalld imports them even offline).
# test_import.sh runs this when PORTCTL_IMPORT_TOOLS=ROOT is set, and
# checks that what it produces imports exactly like the checked-in files.
#
# generate.sh --ufw-enable ROOT FIXTURE SANDBOX: enable the ufw
# configuration FIXTURE (one of the directories made here) in the current
# network namespace, for test_import.sh to compare verdicts; the caller
# runs it in a namespace of its own.
set -eu
mode=generate
if [ "$1" = "--ufw-enable" ]; then
	mode=enable
	shift
fi
P=$(realpath "$1")
PY=/usr/bin/python3
export PYTHONPATH="$P/usr/lib/python3/dist-packages"

# A ufw root and data directory: what ufw's postinst would create.
ufw_sandbox() {
	S=$1
	mkdir -p "$S/etc/ufw" "$S/etc/default" "$S/lib/ufw" "$S/usr/share"
	cp -a "$P/lib/ufw/." "$S/lib/ufw/"
	cp -a "$P/usr/share/ufw" "$S/usr/share/"
	cp -a "$P/etc/ufw/applications.d" "$S/etc/ufw/"
	for f in before.rules before6.rules after.rules after6.rules user.rules user6.rules ufw.conf; do
		cp "$P/usr/share/ufw/$f" "$S/etc/ufw/"
	done
	# ufw-init would apply sysctl settings, some of them not per namespace.
	sed 's|^IPT_SYSCTL=.*|IPT_SYSCTL=/dev/null|' "$P/etc/default/ufw" >"$S/etc/default/ufw"
	chmod -R go-w "$S"
}

# ufw_set NAME: run the ufw commands on stdin, one a line, in a sandbox
# and keep the files it writes as OUT/NAME.
ufw_set() {
	name=$1
	S="$T/$name"
	ufw_sandbox "$S"
	while read -r line; do
		[ -n "$line" ] || continue
		eval "set -- $line"
		unshare -n $PY "$P/usr/sbin/ufw" --rootdir="$S" --datadir="$S" "$@" >/dev/null 2>"$T/err" ||
			{ cat "$T/err" >&2; exit 1; }
	done
	rm -rf "${OUT:?}/$name"
	mkdir -p "$OUT/$name"
	cp "$S"/etc/ufw/*.rules "$S/etc/ufw/ufw.conf" "$OUT/$name/"
	cp "$S/etc/default/ufw" "$OUT/$name/default-ufw"
}

if [ $mode = enable ]; then
	S=$3
	ufw_sandbox "$S"
	cp "$2"/user.rules "$2"/user6.rules "$S/etc/ufw/"
	sed 's|^IPT_SYSCTL=.*|IPT_SYSCTL=/dev/null|' "$2/default-ufw" >"$S/etc/default/ufw"
	chmod -R go-w "$S"
	$PY "$P/usr/sbin/ufw" --rootdir="$S" --datadir="$S" --force enable >/dev/null
	exit 0
fi

OUT=$2
mkdir -p "$OUT"
OUT=$(realpath "$OUT")
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

ufw_set ufw-a <<'UFW'
allow 22/tcp
allow from 10.77.1.3 to any port 8000:8100 proto tcp
deny from fd77:1::3
limit 2222/tcp
allow in on eth1 to any port 5432 proto tcp comment 'pg on lan'
allow 'WWW Full'
reject 8443/tcp
allow proto tcp from fd77:1::2 to any port 9000
allow 7000:7010/udp
deny proto udp from 10.77.1.3 port 53
allow proto esp from 10.77.1.3
route allow in on eth1 out on eth2
UFW

ufw_set ufw-b <<'UFW'
default reject incoming
deny from 10.77.1.3 to any port 80
allow 80/tcp
allow from 10.77.1.0/24 to any port 443 proto tcp
allow from fd77:1::/64 to any port 25 proto tcp
reject in on eth1 to any port 443 proto tcp
allow log 8081/tcp
reject out 25/tcp
--force enable
UFW

FOC="$PY $P/usr/bin/firewall-offline-cmd --default-config $P/usr/lib/firewalld --system-config"

# fw_set NAME: firewall-offline-cmd with the arguments on stdin, one call
# a line, on a fresh copy of /etc/firewalld; the result is OUT/NAME.
fw_set() {
	name=$1
	S="$T/$name"
	mkdir -p "$S"
	cp -a "$P/etc/firewalld/." "$S/"
	while read -r line; do
		[ -n "$line" ] || continue
		eval "set -- $line"
		$FOC "$S" "$@" >/dev/null 2>"$T/err" || { cat "$T/err" >&2; exit 1; }
	done
	find "$S" -name "*.old" -delete
	rm -rf "${OUT:?}/$name"
	cp -a "$S" "$OUT/$name"
}

fw_set firewalld-a <<'FW'
--zone=public --remove-service-from-zone=dhcpv6-client
--zone=public --add-service=https
--zone=public --add-port=8080/tcp
--zone=public --add-port=60000-61000/udp
--zone=public --add-rich-rule='rule family=ipv4 source address=10.77.1.3 service name=http accept'
--zone=public --add-rich-rule='rule family=ipv4 source address=10.77.1.3 port port=8080 protocol=tcp reject'
--zone=public --add-rich-rule='rule port port=2222 protocol=tcp accept limit value=3/m'
--new-ipset=blocked --type=hash:ip
--ipset=blocked --add-entry=10.77.1.4
--zone=public --add-rich-rule='rule source ipset=blocked drop'
--zone=public --add-rich-rule='rule family=ipv6 source address=fd77:1::3 port port=8443 protocol=tcp accept'
--zone=public --add-rich-rule='rule family=ipv4 source address=10.77.1.3 icmp-block name=echo-request'
--zone=internal --add-interface=eth1
--zone=internal --add-service=postgresql
--zone=block --add-source=10.77.1.5
--zone=trusted --add-source=fd77:1::4
--zone=external --add-masquerade
--new-service=myapp
--service=myapp --add-port=7070/tcp
--service=myapp --add-port=7071/udp
--zone=public --add-service=myapp
--new-policy=p1
--direct --add-rule ipv4 filter INPUT 0 -p tcp --dport 9 -j ACCEPT
FW

fw_set firewalld-b <<'FW'
--set-default-zone=drop
--zone=drop --add-service=ssh
--zone=drop --add-port=3000-3005/tcp
--zone=trusted --add-interface=eth1
--zone=dmz --add-source=10.77.1.3
--zone=dmz --add-rich-rule='rule family=ipv4 source address=10.77.1.3 port port=8080 protocol=tcp accept'
FW
