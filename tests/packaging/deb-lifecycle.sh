#!/bin/bash
# The Debian package's life under a running systemd: install, upgrade,
# remove, purge, reinstall, in a booted Debian 12 container (systemd as PID
# 1, container-lib.sh) whose network namespace two peers send real traffic
# to. At each step: the units, table inet portctl in the container's kernel
# (nft), and traffic — a port allowed by the administrator's file, a port
# that is not, a banned peer. The upgrade must leave the service running the
# new binary with the rules, a rule added with "portctl allow" and the ban in
# force throughout: traffic probes run during it, and nft monitor must see
# no generation without our table. Remove must leave the machine unfiltered
# by portctl; purge removes the state and what the package made, keeps the
# administrator's file; a reinstall comes back with the shipped defaults.
#
#   usage: tests/packaging/deb-lifecycle.sh BUILDDIR/portctl_V_ARCH.deb [NEW.deb]
#
# The upgrade installs NEW.deb (default: the first one) repacked under the
# first one's version + "+lc1", so dpkg sees a newer version of the package;
# an older .deb as the first argument tests the upgrade from that release
# (whose daemon, before the drain at SIGTERM, may reset a client then).
# Needs root, systemd-nspawn (systemd-container), the minbase image of
# deb-chroot.sh, and a build directory with tests/integration/probe (the
# .deb's own directory, or top_builddir=DIR).
set -u
OLD=$(readlink -f "${1:?usage: $0 portctl_*.deb [NEW.deb]}")
NEW_SRC=$(readlink -f "${2:-$1}")
: "${top_builddir:=$(dirname "$OLD")}"
top_srcdir=$(cd "$(dirname "$0")/../.." && pwd)
export top_builddir top_srcdir
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/packaging/container-lib.sh"
pc_require
ct_require

ok() { pc_log "ok: $*"; }
check() {
	if eval "$1"; then ok "$2"; else pc_fail "$2 (${1})"; fi
}

# The newer package: the same files and scripts, a higher version.
VER=$(dpkg-deb -f "$OLD" Version)
NEWVER="$VER+lc1"
dpkg-deb -R "$NEW_SRC" "$PC_TMP/new" || pc_fail "dpkg-deb -R $NEW_SRC"
sed -i "s/^Version: .*/Version: $NEWVER/" "$PC_TMP/new/DEBIAN/control"
dpkg-deb -b -Zgzip "$PC_TMP/new" "$PC_TMP/portctl_new.deb" >/dev/null || pc_fail "dpkg-deb -b"
pc_log "packages: $(basename "$OLD") ($VER), then $(basename "$NEW_SRC") as $NEWVER"

pc_ns_add ct
pc_ns_add peer
pc_ns_add peer2
pc_link ct vc1 10.99.7.1 fd99:7::1 peer vp1 10.99.7.2 fd99:7::2
pc_link ct vc2 10.99.8.1 fd99:8::1 peer2 vp2 10.99.8.2 fd99:8::2

# The container has no route out: the package's dependencies (the first of
# each alternative) go into the image beforehand.
ct_prepare nftables $(dpkg-deb -f "$OLD" Depends | tr ',' '\n' | sed 's/|.*//; s/(.*)//' | tr -d ' ')
cp "$OLD" "$CT_ROOT/root/portctl_old.deb"
cp "$PC_TMP/portctl_new.deb" "$CT_ROOT/root/portctl_new.deb"
ct_boot ct
ok "container booted: $(ct systemctl is-system-running)"
pc_listen ct tcp:80 tcp:81 tcp:8080

state() { ct systemctl show -p ActiveState --value "$1"; }
enabled() { ct systemctl is-enabled "$1" 2>/dev/null; }
table() { ct nft list table inet portctl >/dev/null 2>&1; }
units() {
	got="$(state portctld.service) $(state portctld.socket)"
	[ "$got" = "$1 $2" ] || pc_fail "portctld.service, portctld.socket: $got, expected $1 $2"
	ok "portctld.service $1, portctld.socket $2"
}
apt_get() {
	ct sh -c "cd /root && apt-get $*" >"$PC_TMP/apt.log" 2>&1 ||
		{ cat "$PC_TMP/apt.log" >&2; pc_fail "apt-get $*"; }
	ok "apt-get $*"
}
# traffic OPEN80 OPEN81 OPEN8080 PEER2: what a probe gets; "open" or "timeout".
traffic() {
	pc_expect "$1" pc_probe peer tcp 10.99.7.1 80
	pc_expect "$2" pc_probe peer tcp 10.99.7.1 81
	pc_expect "$3" pc_probe peer tcp 10.99.7.1 8080
	pc_expect "$4" pc_probe peer2 tcp 10.99.8.1 80
}

pc_log "=== install $VER"
apt_get install -y -qq ./portctl_old.deb
check '[ "$(enabled portctld.service) $(enabled portctld.socket)" = "enabled enabled" ]' "both units enabled"
units inactive inactive
check '! table' "no table before the first start"
traffic open open open open
# The administrator's file, then the README's start.
echo 'allow 80/tcp' | ct tee /etc/portctl/rules.d/10-web.rules >/dev/null
ct systemctl start portctld.socket portctld.service ||
	{ ct journalctl -u portctld.service --no-pager >&2; pc_fail "systemctl start"; }
units active active
ct portctl allow 8080/tcp >/dev/null || pc_fail "portctl allow 8080/tcp"
ct portctl ban 10.99.8.2 >/dev/null || pc_fail "portctl ban 10.99.8.2"
check 'table' "table inet portctl in the kernel"
check 'ct grep -qs 10.99.8.2 /var/lib/portctl/bans.json /var/lib/portctl/bans.journal' "the ban is saved in /var/lib/portctl (bans.json or its journal)"
traffic open timeout open timeout

pc_log "=== upgrade to $NEWVER, traffic and nft monitor running"
pid=$(ct systemctl show -p MainPID --value portctld.service)
sock_since=$(ct systemctl show -p ActiveEnterTimestampMonotonic --value portctld.socket)
pc_monitor_start ct "$PC_TMP/monitor"
# probe_loop NAME NS ADDR: one probe after another to port 80 until told to stop.
probe_loop() {
	while [ ! -e "$PC_TMP/stop-loops" ]; do
		pc_probe "$2" tcp "$3" 80 300
	done >"$PC_TMP/loop.$1"
}
probe_loop allowed peer 10.99.7.1 &
loop1=$!
probe_loop banned peer2 10.99.8.1 &
loop2=$!
# And a client of the socket inside, one portctl status after another.
ct sh -c 'while [ ! -e /root/stop-loops ]; do
	err=$(portctl status 2>&1 >/dev/null) && echo ok || echo "failed: $err"; done' \
	>"$PC_TMP/loop.client" 2>&1 &
loop3=$!
PC_PIDS="$PC_PIDS $loop1 $loop2 $loop3"
apt_get install -y -qq ./portctl_new.deb
# One probe of each after the restart, then stop.
n1=$(wc -l <"$PC_TMP/loop.allowed")
pc_until 20 sh -c "[ \$(wc -l <'$PC_TMP/loop.allowed') -gt $((n1 + 1)) ]" || pc_fail "the probe loop stalled"
touch "$PC_TMP/stop-loops" "$CT_ROOT/root/stop-loops"
wait "$loop1" "$loop2" "$loop3"
pc_monitor_stop
check '[ "$(ct dpkg-query -W -f="\${Version}" portctl)" = "$NEWVER" ]' "dpkg: portctl $NEWVER installed"
units active active
newpid=$(ct systemctl show -p MainPID --value portctld.service)
check '[ "$newpid" != "$pid" ] && [ "$newpid" -gt 0 ]' "portctld restarted (pid $pid -> $newpid)"
check '[ "$(ct readlink /proc/$newpid/exe)" = /usr/sbin/portctld ]' \
	"it runs the installed binary ($(ct readlink /proc/$newpid/exe)), not the deleted one"
check '[ "$(ct systemctl show -p ActiveEnterTimestampMonotonic --value portctld.socket)" = "$sock_since" ]' \
	"the socket kept listening (never restarted)"
check '[ "$(grep -v open "$PC_TMP/loop.allowed" | wc -l)" -eq 0 ]' \
	"allowed peer: $(grep -c open "$PC_TMP/loop.allowed") of $(wc -l <"$PC_TMP/loop.allowed") probes during the upgrade open, none lost"
check '[ "$(grep -c open "$PC_TMP/loop.banned")" -eq 0 ]' \
	"banned peer: none of $(wc -l <"$PC_TMP/loop.banned") probes during the upgrade got in"
check '[ "$(grep -vc "^ok$" "$PC_TMP/loop.client")" -eq 0 ]' \
	"portctl status inside: $(grep -c "^ok$" "$PC_TMP/loop.client") of $(wc -l <"$PC_TMP/loop.client") answered during the upgrade, none failed $(grep -v "^ok$" "$PC_TMP/loop.client" | head -3)"
gens=$(grep -c "^# new generation" "$PC_TMP/monitor")
check '[ "$(grep -c "^# new generation .*(portctld)" "$PC_TMP/monitor")" -ge 1 ]' \
	"the new portctld took over the table (generations: $gens)"
# Every generation ends with our table in the kernel.
check 'awk "BEGIN { t = 1 } /^add table inet portctl/ { t = 1 } /^delete table inet portctl/ { t = 0 }
	/^# new generation/ && !t { bad++ } END { exit bad > 0 }" "$PC_TMP/monitor"' \
	"no generation without table inet portctl"
check 'ct grep -q 10.99.8.2 /var/lib/portctl/bans.json' "the ban is still in bans.json"
check 'ct portctl status | grep -q "allow 8080/tcp"' "portctl status answers, 8080 rule kept"
check '! ct journalctl -u portctld.service --no-pager | grep -qi "safe policy\|rolled back\|THE KERNEL HELD"' \
	"the new daemon started from the files, no fallback"
traffic open timeout open timeout

pc_log "=== remove"
apt_get remove -y -qq portctl
check 'grep -q "table inet portctl deleted" "$PC_TMP/apt.log"' "prerm: $(grep 'table inet portctl' "$PC_TMP/apt.log")"
units inactive inactive
check '! ct pgrep -x portctld >/dev/null' "no portctld process left"
check '! table' "no table inet portctl in the kernel"
check '[ -z "$(ct nft list ruleset)" ]' "the container's ruleset is empty"
traffic open open open open
check 'ct test -f /etc/portctl/portctl.conf' "conffile kept"
check 'ct test -f /etc/portctl/rules.d/10-web.rules -a -f /etc/portctl/rules.d/90-portctl.rules' \
	"rules.d kept (10-web.rules, 90-portctl.rules)"
check 'ct test -f /var/lib/portctl/bans.json' "state kept"

pc_log "=== purge"
apt_get purge -y -qq portctl
check '! ct test -e /var/lib/portctl' "/var/lib/portctl removed"
check '! ct test -e /etc/portctl/portctl.conf' "conffile removed"
check '! ct test -e /etc/portctl/rules.d/90-portctl.rules' "90-portctl.rules (written by portctld) removed"
check 'ct test -f /etc/portctl/rules.d/10-web.rules' "the administrator's 10-web.rules kept"
check '! ct test -e /etc/systemd/system/sockets.target.wants/portctld.socket' "enablement links removed"
check 'ct getent passwd portctl >/dev/null && ct getent group portctl >/dev/null' \
	"user and group portctl kept (Debian keeps system users)"
check '[ -z "$(ct dpkg-query -W -f="\${db:Status-Abbrev}" portctl 2>/dev/null | tr -d " ")" ] ||
	[ "$(ct dpkg-query -W -f="\${db:Status-Abbrev}" portctl | tr -d " ")" = pn ]' "dpkg: nothing left"
traffic open open open open

pc_log "=== reinstall $NEWVER after purge"
apt_get install -y -qq ./portctl_new.deb
check '[ "$(enabled portctld.service) $(enabled portctld.socket)" = "enabled enabled" ]' "both units enabled"
units inactive inactive
check 'ct dpkg --verify portctl' "dpkg --verify: every file as shipped (portctl.conf the default)"
check '[ "$(ct stat -c "%a %U" /var/lib/portctl)" = "750 portctl" ]' "fresh /var/lib/portctl"
ct systemctl start portctld.socket portctld.service || pc_fail "systemctl start"
units active active
check 'ct portctl status | grep -q "allow ssh"' "the shipped default allow ssh is in force"
check '! ct portctl status | grep -q "8080"' "no 8080 (90-portctl.rules went with the purge)"
check '! ct portctl status | grep -qi "ban"' "no ban (bans.json went with the purge)"
traffic open timeout timeout open

ct_poweroff
ok "container powered off"
echo "deb-lifecycle: all checks passed"
