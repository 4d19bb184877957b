#!/bin/bash
# Debian's fail2ban (1.0.2) with the packaged portctl action, in a booted
# Debian 12 container (systemd as PID 1, container-lib.sh) where both run
# as the packages install them. Two jails of the test's own read failure
# lines from log files (test_fail2ban_real.sh's approach): one bans in every
# zone (banaction = portctl), one in zone public only
# (action = portctl[zone_opt="--zone public"]). Then, with probes running
# from three peers the whole time: a restart of portctld, an upgrade of the
# package, a restart of fail2ban, 1,000 more bans, a restart of fail2ban
# with all of them. The banned peers must stay out throughout and the other
# peer in; each probe that says otherwise is counted against the step it
# happened in.
#
#   usage: [F2B_OPTS='flushgrace=1h'] tests/packaging/deb-fail2ban.sh BUILDDIR/portctl_V_ARCH.deb
#
# F2B_OPTS: options for both jails' portctl action (then both use the
# action = portctl[...] form). The upgrade installs the same .deb repacked
# under VERSION+f2b. Needs what deb-lifecycle.sh needs.
set -u
DEB=$(readlink -f "${1:?usage: $0 portctl_*.deb}")
: "${top_builddir:=$(dirname "$DEB")}"
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

VER=$(dpkg-deb -f "$DEB" Version)
NEWVER="$VER+f2b"
dpkg-deb -R "$DEB" "$PC_TMP/new" || pc_fail "dpkg-deb -R"
sed -i "s/^Version: .*/Version: $NEWVER/" "$PC_TMP/new/DEBIAN/control"
dpkg-deb -b -Zgzip "$PC_TMP/new" "$PC_TMP/portctl_new.deb" >/dev/null || pc_fail "dpkg-deb -b"

pc_ns_add ct
pc_ns_add peer
pc_ns_add peer2
pc_ns_add peer3
pc_link ct vc1 10.99.7.1 fd99:7::1 peer vp1 10.99.7.2 fd99:7::2
pc_link ct vc2 10.99.8.1 fd99:8::1 peer2 vp2 10.99.8.2 fd99:8::2
pc_link ct vc3 10.99.9.1 fd99:9::1 peer3 vp3 10.99.9.2 fd99:9::2

ct_prepare nftables fail2ban \
	$(dpkg-deb -f "$DEB" Depends | tr ',' '\n' | sed 's/|.*//; s/(.*)//' | tr -d ' ')
cp "$DEB" "$CT_ROOT/root/portctl_old.deb"
cp "$PC_TMP/portctl_new.deb" "$CT_ROOT/root/portctl_new.deb"
# Debian's sshd jail would fail without an sshd and its log: off. The
# test's jails, filter and logs; allowipv6 silences fail2ban's warning.
printf '[Definition]\nallowipv6 = auto\n' >"$CT_ROOT/etc/fail2ban/fail2ban.local"
cat >"$CT_ROOT/etc/fail2ban/filter.d/pctest.conf" <<'CONF'
[Definition]
failregex = ^FAILED LOGIN from <HOST>$
datepattern = {NONE}
CONF
if [ -n "${F2B_OPTS:-}" ]; then
	ACTION_ALL="action    = portctl[$F2B_OPTS]"
	ACTION_ZONE="action    = portctl[zone_opt=\"--zone public\", $F2B_OPTS]"
else
	ACTION_ALL="banaction = portctl"
	ACTION_ZONE='action    = portctl[zone_opt="--zone public"]'
fi
cat >"$CT_ROOT/etc/fail2ban/jail.d/zz-pctest.local" <<CONF
[sshd]
enabled = false

[pctest]
enabled   = true
filter    = pctest
backend   = polling
usedns    = no
ignoreself = false
maxretry  = 2
findtime  = 600
bantime   = 3600
logpath   = /var/log/pctest.log
$ACTION_ALL

[pczone]
enabled   = true
filter    = pctest
backend   = polling
usedns    = no
ignoreself = false
maxretry  = 2
findtime  = 600
bantime   = 3600
logpath   = /var/log/pctest-zone.log
$ACTION_ZONE
CONF
# fail2ban starts once the portctl action is installed, not at boot.
rm -f "$CT_ROOT/etc/systemd/system/multi-user.target.wants/fail2ban.service"
: >"$CT_ROOT/var/log/pctest.log"
: >"$CT_ROOT/var/log/pctest-zone.log"

ct_boot ct
ok "container booted: $(ct systemctl is-system-running)"
pc_listen ct tcp:80
ct sh -c 'cd /root && apt-get install -y -qq ./portctl_old.deb' >"$PC_TMP/apt.log" 2>&1 ||
	{ cat "$PC_TMP/apt.log" >&2; pc_fail "apt-get install"; }
echo 'allow 80/tcp' | ct tee /etc/portctl/rules.d/10-web.rules >/dev/null
ct systemctl start portctld.socket portctld.service || pc_fail "systemctl start portctld"
ok "portctl $VER installed and started; $(ct fail2ban-client --version | head -1)"
pc_log "jails: $(grep -E '^(ban)?action' "$CT_ROOT/etc/fail2ban/jail.d/zz-pctest.local" | tr -s ' ' | paste -sd ';')"

F2B() { ct fail2ban-client "$@"; }
jails_up() { F2B status pctest >/dev/null 2>&1 && F2B status pczone >/dev/null 2>&1; }
# n_bans [ADDR [ZONE]]: bans portctld holds (of ADDR, in ZONE or every zone).
n_bans() {
	ct python3 - /var/lib/portctl <"$top_srcdir/tests/integration/bans_saved.py" |
		python3 -c '
import json, sys
bans = json.load(sys.stdin)["bans"]
if len(sys.argv) > 1:
    bans = [b for b in bans if b["address"] == sys.argv[1]
            and (b.get("zone") or "") == (sys.argv[2] if len(sys.argv) > 2 else "")]
print(len(bans))' "$@"
}
has_bans() { [ "$(n_bans "$@")" -ge 1 ]; }
f2b_lists() { F2B status "$1" | grep -q "Banned IP list:.*$2"; }
probes() {
	pc_expect open pc_probe peer tcp 10.99.7.1 80
	pc_expect timeout pc_probe peer2 tcp 10.99.8.1 80
	pc_expect timeout pc_probe peer3 tcp 10.99.9.1 80
}

ct systemctl start fail2ban || pc_fail "systemctl start fail2ban"
pc_until 60 jails_up || { ct journalctl -u fail2ban --no-pager | tail >&2; pc_fail "fail2ban's jails did not start"; }
ok "fail2ban running with jails pctest and pczone"
pc_expect open pc_probe peer2 tcp 10.99.8.1 80

pc_log "=== ban: two failures of peer2 in pctest's log"
ct sh -c 'printf "FAILED LOGIN from 10.99.8.2\n" >>/var/log/pctest.log; printf "FAILED LOGIN from 10.99.8.2\n" >>/var/log/pctest.log'
pc_until 30 has_bans 10.99.8.2 || pc_fail "no ban of 10.99.8.2 in portctld: $(ct tail /var/log/fail2ban.log)"
check 'f2b_lists pctest 10.99.8.2' "fail2ban lists 10.99.8.2, portctld holds it in every zone"
pc_log "=== per-zone ban: peer3 in pczone (zone_opt=\"--zone public\")"
ct sh -c 'printf "FAILED LOGIN from 10.99.9.2\n" >>/var/log/pctest-zone.log; printf "FAILED LOGIN from 10.99.9.2\n" >>/var/log/pctest-zone.log'
pc_until 30 has_bans 10.99.9.2 public || pc_fail "no ban of 10.99.9.2 in zone public: $(ct tail /var/log/fail2ban.log)"
check 'f2b_lists pczone 10.99.9.2' "fail2ban lists 10.99.9.2, portctld holds it in zone public"
probes

# From here on each peer probes port 80 without a pause; "== STEP" lines
# mark where each step began.
probe_loop() {
	while [ ! -e "$PC_TMP/stop-loops" ]; do
		pc_probe "$2" tcp "$3" 80 300
	done >>"$PC_TMP/loop.$1"
}
step() {
	pc_log "=== $*"
	for f in allowed banned banned-zone; do echo "== $*" >>"$PC_TMP/loop.$f"; done
}
: >"$PC_TMP/loop.allowed" >"$PC_TMP/loop.banned" >"$PC_TMP/loop.banned-zone"
probe_loop allowed peer 10.99.7.1 &
LOOPS=$!
probe_loop banned peer2 10.99.8.1 &
LOOPS="$LOOPS $!"
probe_loop banned-zone peer3 10.99.9.1 &
LOOPS="$LOOPS $!"
PC_PIDS="$PC_PIDS $LOOPS"

step "restart of portctld"
pid=$(ct systemctl show -p MainPID --value portctld.service)
ct systemctl restart portctld.service || pc_fail "systemctl restart portctld"
check '[ "$(ct systemctl show -p MainPID --value portctld.service)" != "$pid" ]' "portctld restarted"
check 'has_bans 10.99.8.2 && has_bans 10.99.9.2 public' "both bans back from bans.json"
probes

step "package upgrade to $NEWVER"
ct sh -c 'cd /root && apt-get install -y -qq ./portctl_new.deb' >"$PC_TMP/apt.log" 2>&1 ||
	{ cat "$PC_TMP/apt.log" >&2; pc_fail "apt-get install (upgrade)"; }
check '[ "$(ct dpkg-query -W -f="\${Version}" portctl)" = "$NEWVER" ]' "portctl $NEWVER installed"
check '[ "$(ct systemctl is-active portctld.service)" = active ]' "portctld.service active"
check 'has_bans 10.99.8.2 && has_bans 10.99.9.2 public' "both bans in force"
probes

step "restart of fail2ban"
ct systemctl restart fail2ban || pc_fail "systemctl restart fail2ban"
pc_until 60 jails_up || pc_fail "fail2ban's jails did not come back"
pc_until 30 f2b_lists pctest 10.99.8.2 || pc_fail "fail2ban did not restore 10.99.8.2"
pc_until 30 f2b_lists pczone 10.99.9.2 || pc_fail "fail2ban did not restore 10.99.9.2"
pc_until 30 has_bans 10.99.8.2 || pc_fail "portctld lost 10.99.8.2"
pc_until 30 has_bans 10.99.9.2 public || pc_fail "portctld lost 10.99.9.2 in zone public"
ok "fail2ban restored both bans; portctld holds them"
probes

step "1,000 more bans through fail2ban"
addrs=$(for i in $(seq 0 999); do echo "198.18.$((i / 250)).$((i % 250 + 1))"; done)
start=$(date +%s%N)
# shellcheck disable=SC2086
F2B set pctest banip $addrs >/dev/null || pc_fail "fail2ban-client set pctest banip (1,000)"
enough() { [ "$(n_bans)" -ge 1002 ]; }
pc_until 300 enough || pc_fail "portctld holds $(n_bans) bans, not 1002: $(ct tail /var/log/fail2ban.log)"
ok "portctld holds $(n_bans) bans, $((($(date +%s%N) - start) / 1000000)) ms after fail2ban-client was handed 1,000"
check '[ "$(ct nft list table inet portctl | grep -o "198\.18\." | wc -l)" -ge 1000 ]' "the 1,000 addresses in the kernel table"
probes

step "restart of fail2ban with 1,002 bans"
restored() { [ "$(ct grep -c "Restore Ban" /var/log/fail2ban.log)" -ge $((r0 + 1002)) ]; }
r0=$(ct grep -c "Restore Ban" /var/log/fail2ban.log)
start=$(date +%s%N)
ct systemctl restart fail2ban || pc_fail "systemctl restart fail2ban"
pc_until 300 restored || pc_fail "fail2ban did not restore 1,002 bans: $(ct tail /var/log/fail2ban.log)"
ok "fail2ban restored 1,002 bans in $((($(date +%s%N) - start) / 1000000)) ms; portctld holds $(n_bans)"
check '[ "$(n_bans)" -ge 1002 ]' "every ban in portctld"
probes

step "end"
touch "$PC_TMP/stop-loops"
for pid in $LOOPS; do wait "$pid"; done
# tally FILE: per step, how many probes gave open, of how many.
tally() {
	awk '/^== / { step = substr($0, 4); order[++k] = step; next }
		{ n[step]++; if ($0 == "open") open[step]++ }
		END { for (i = 1; i < k; i++) printf "#   %-40s %4d of %4d open\n", order[i], open[order[i]], n[order[i]] }' "$1" >&2
}
pc_log "peer (allowed; every probe should be open):"
tally "$PC_TMP/loop.allowed"
pc_log "peer2 (banned in every zone; none should be open):"
tally "$PC_TMP/loop.banned"
pc_log "peer3 (banned in zone public; none should be open):"
tally "$PC_TMP/loop.banned-zone"
fails=0
[ "$(grep -v '^==' "$PC_TMP/loop.allowed" | grep -vc '^open$')" -eq 0 ] || { echo "FAIL: the allowed peer was refused"; fails=1; }
[ "$(grep -c '^open$' "$PC_TMP/loop.banned")" -eq 0 ] || { echo "FAIL: the peer banned in every zone got in"; fails=1; }
[ "$(grep -c '^open$' "$PC_TMP/loop.banned-zone")" -eq 0 ] || { echo "FAIL: the peer banned in zone public got in"; fails=1; }
if ct grep -E "ERROR|WARNING" /var/log/fail2ban.log | grep -v "New database created"; then
	echo "FAIL: fail2ban logged errors or warnings (above)"
	fails=1
fi
ct_poweroff
[ "$fails" -eq 0 ] || exit 1
echo "deb-fail2ban: all checks passed"
