#!/bin/sh
# The real fail2ban (Debian's package) with the shipped portctl action: two
# jails of its own read failure lines from log files and ban the peer
# through portctl, one in every zone (IPv4), one with the documented
# per-zone form portctl[zone_opt="--zone public"] (IPv6), fail2ban's bantime
# becoming the bans' timeout; the bans hold through a stop and start of
# portctld; fail2ban-client unban lets the peer in again; fail2ban's stop
# keeps them for the grace (flushgrace) of its actionflush, so a stop and
# start of fail2ban lets no banned peer in, while the administrator's ban
# and the other jail's hold; stopped for good, the jail's bans lapse after
# the grace. Another peer stays in throughout.
# fail2ban runs in the root namespace with a private configuration, socket,
# pidfile and database; its actions reach the test's portctld through the
# Unix socket.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon-lib.sh"
pc_require
for tool in fail2ban-server fail2ban-client; do
	command -v "$tool" >/dev/null 2>&1 || pc_skip "needs $tool (Debian package fail2ban)"
done
pcd_setup
pc_ns_add peer2
pc_link host vh2 10.99.8.1 fd99:8::1 peer2 vp2 10.99.8.2 fd99:8::2
pc_config_write 10-web.rules 'allow 80/tcp'

pcd_start
pc_listen host tcp:80
pc_expect open pc_probe peer tcp 10.99.7.1 80

# fail2ban's configuration directory: its own fail2ban.conf (log, socket,
# pidfile, database under $PC_TMP), a filter for "FAILED LOGIN from <HOST>"
# lines without a date, two jails, the action as shipped with portctl
# pointed at the test's daemon.
F2B="$PC_TMP/fail2ban"
mkdir -p "$F2B/action.d" "$F2B/filter.d"
cp "$top_srcdir/packaging/fail2ban/action.d/portctl.conf" "$F2B/action.d/"
cat >"$F2B/fail2ban.conf" <<CONF
[Definition]
loglevel = INFO
logtarget = $PC_TMP/fail2ban.log
syslogsocket = auto
socket = $F2B/fail2ban.sock
pidfile = $F2B/fail2ban.pid
dbfile = $F2B/fail2ban.sqlite3
dbpurgeage = 1d
allowipv6 = auto
CONF
cat >"$F2B/filter.d/pctest.conf" <<'CONF'
[Definition]
failregex = ^FAILED LOGIN from <HOST>$
datepattern = {NONE}
CONF
cat >"$F2B/jail.conf" <<CONF
[DEFAULT]
filter   = pctest
backend  = polling
usedns   = no
# Not this machine's own addresses to skip: a host whose name does not
# resolve (a chroot, a container) would only get a warning per ban.
ignoreself = false
maxretry = 2
findtime = 600
bantime  = 600

[pctest]
enabled  = true
logpath  = $PC_TMP/auth.log
action   = portctl[portctl="$PCD_PORTCTL -s $PCD_SOCK", flushgrace=1m]

[pczone]
enabled  = true
logpath  = $PC_TMP/auth-zone.log
action   = portctl[portctl="$PCD_PORTCTL -s $PCD_SOCK", zone_opt="--zone public", flushgrace=3s]
CONF
: >"$PC_TMP/auth.log"
: >"$PC_TMP/auth-zone.log"
F2BC() { fail2ban-client -c "$F2B" "$@"; }

# wait_for WHAT CMD...: CMD succeeds within 20 s, or the test fails.
# opens NS ADDR PORT: a connection from NS gets through. After an IPv6 ban
# the peer's neighbour entry for the host has failed (the ban dropped the
# host's answers too), so the first tries after an unban may fail at once.
opens() { [ "$(pc_probe "$1" tcp "$2" "$3")" = open ]; }

wait_for() {
	what=$1
	shift
	for _ in $(seq 400); do
		"$@" && return 0
		sleep 0.05
	done
	pc_fail "$what: not within 20 s; fail2ban's log: $(cat "$PC_TMP/fail2ban.log")"
}

# banned ADDR [ZONE]: portctld keeps a ban of ADDR in every zone (or in
# ZONE) in its state directory.
banned() {
	[ -s "$(pcd_bans_file)" ] &&
		python3 - "$(pcd_bans_file)" "$1" "${2:-}" <<'PY'
import json, sys
path, addr, zone = sys.argv[1:]
bans = json.load(open(path))["bans"]
sys.exit(0 if any(b["address"] == addr and (b.get("zone") or "") == zone for b in bans) else 1)
PY
}
not_banned() { ! banned "$@"; }

banned_probes() {
	pc_expect timeout pc_probe peer tcp 10.99.7.1 80
	# Not open: a timeout, or an error once the ban also stopped the
	# neighbour discovery between the two.
	case "$(pc_probe peer tcp fd99:7::1 80)" in
	timeout | error) pc_log "ok: peer to fd99:7::1 port 80 shut" ;;
	*) pc_fail "the banned peer reaches fd99:7::1 port 80" ;;
	esac
	pc_expect open pc_probe peer2 tcp 10.99.8.1 80
	pc_expect open pc_probe peer2 tcp fd99:8::1 80
}

f2b_start() {
	fail2ban-server -c "$F2B" -f -x >>"$PC_TMP/fail2ban.out" 2>&1 &
	F2B_PID=$!
	PC_PIDS="$PC_PIDS $F2B_PID"
}
f2b_stop() {
	F2BC stop >/dev/null || pc_fail "fail2ban-client stop failed"
	wait "$F2B_PID"
	PC_PIDS=$(echo "$PC_PIDS" | sed "s/ $F2B_PID\b//")
}
# left ADDR OWNER: seconds left of OWNER's ban of ADDR (none: fails).
left() {
	python3 - "$(pcd_bans_file)" "$1" "$2" <<'PY'
import json, sys, time
path, addr, by = sys.argv[1:]
for b in json.load(open(path))["bans"]:
    if b["address"] == addr and (b.get("by") or "") == by:
        print(b["expires"] - int(time.time()) if b["expires"] else "never")
        sys.exit(0)
sys.exit(1)
PY
}
renewed() { [ "$(left 10.99.7.2 f2b-pctest)" -gt 120 ] 2>/dev/null; }

pcd_log "fail2ban-server in the foreground, jails of its own"
f2b_start
wait_for "fail2ban-server answering" F2BC ping >/dev/null 2>&1
wait_for "the jails running" F2BC status pczone >/dev/null 2>&1

pcd_log "two failures of the peer in each log: fail2ban bans it through portctl"
printf 'FAILED LOGIN from %s\n' 10.99.7.2 10.99.7.2 >>"$PC_TMP/auth.log"
printf 'FAILED LOGIN from %s\n' fd99:7::2 fd99:7::2 >>"$PC_TMP/auth-zone.log"
wait_for "the ban of 10.99.7.2 in portctld" banned 10.99.7.2
wait_for "the ban of fd99:7::2 in zone public" banned fd99:7::2 public
F2BC status pctest | grep -q "Banned IP list:.*10.99.7.2" || pc_fail "fail2ban does not list the ban"
banned_probes
python3 - "$(pcd_bans_file)" <<'PY' || pc_fail "fail2ban's bantime 600 is not the bans' timeout"
import json, sys, time
for b in json.load(open(sys.argv[1]))["bans"]:
    left = b["expires"] - int(time.time())
    print("#", b["address"], b.get("zone") or "every zone", "ends in", left, "s", file=sys.stderr)
    if not 580 < left <= 600:
        sys.exit(1)
PY

pcd_log "portctld stopped and started: still banned, fail2ban not asked"
pcd_stop
pcd_start
banned_probes

pcd_log "fail2ban-client unban lets the peer in again"
F2BC unban 10.99.7.2 fd99:7::2 >/dev/null || pc_fail "fail2ban-client unban failed"
wait_for "the unban of 10.99.7.2 in portctld" not_banned 10.99.7.2
wait_for "the unban of fd99:7::2 in portctld" not_banned fd99:7::2 public
pc_expect open pc_probe peer tcp 10.99.7.1 80
wait_for "fd99:7::1 port 80 open to the peer after the unban" opens peer fd99:7::1 80

pcd_log "banned again by both jails, and by the administrator"
"$PCD_PORTCTL" -s "$PCD_SOCK" ban 192.0.2.77 >/dev/null || pc_fail "the administrator's ban failed"
F2BC set pctest banip 10.99.7.2 >/dev/null || pc_fail "fail2ban-client banip failed"
F2BC set pczone banip fd99:7::2 >/dev/null || pc_fail "fail2ban-client banip failed"
wait_for "the second ban of 10.99.7.2 in portctld" banned 10.99.7.2
wait_for "the second ban of fd99:7::2 in portctld" banned fd99:7::2 public
pc_expect timeout pc_probe peer tcp 10.99.7.1 80

pcd_log "fail2ban stopped and started: the peer stays out throughout, peer2 in"
# Probes in a loop until told to stop; a breach of either is written down.
: >"$PC_TMP/breach"
(
	while [ ! -e "$PC_TMP/probes.stop" ]; do
		[ "$(pc_probe peer tcp 10.99.7.1 80)" = open ] && echo "peer got in" >>"$PC_TMP/breach"
		[ "$(pc_probe peer2 tcp 10.99.8.1 80)" = open ] || echo "peer2 kept out" >>"$PC_TMP/breach"
		echo x >>"$PC_TMP/probes.count"
	done
) &
PROBES=$!
PC_PIDS="$PC_PIDS $PROBES"
f2b_stop
grep -q "Flush ticket(s) with portctl" "$PC_TMP/fail2ban.log" ||
	pc_fail "fail2ban did not flush with the action: $(cat "$PC_TMP/fail2ban.log")"
[ "$(left 10.99.7.2 f2b-pctest)" -le 60 ] || pc_fail "the flush did not shorten the ban to the grace"
f2b_start
wait_for "fail2ban-server answering again" F2BC ping >/dev/null 2>&1
wait_for "fail2ban's ban of 10.99.7.2 renewed from its database" renewed
touch "$PC_TMP/probes.stop"
wait "$PROBES"
PC_PIDS=$(echo "$PC_PIDS" | sed "s/ $PROBES\b//")
[ -s "$PC_TMP/breach" ] && pc_fail "during fail2ban's restart: $(sort "$PC_TMP/breach" | uniq -c)"
pc_log "ok: $(wc -l <"$PC_TMP/probes.count") rounds of probes during the restart, no breach"
[ "$(left 192.0.2.77 "")" = never ] || pc_fail "the administrator's ban changed with fail2ban's flush"

pcd_log "one jail stopped: its ban lapses after its grace (3s), the other's and the administrator's hold"
wait_for "the ban of fd99:7::2 restored" banned fd99:7::2 public
F2BC stop pczone >/dev/null || pc_fail "fail2ban-client stop pczone failed"
pc_until 30 not_banned fd99:7::2 public || pc_fail "pczone's ban did not lapse after its grace"
renewed || pc_fail "stopping pczone changed pctest's ban"
[ "$(left 192.0.2.77 "")" = never ] || pc_fail "stopping pczone changed the administrator's ban"
pc_expect timeout pc_probe peer tcp 10.99.7.1 80

pcd_log "fail2ban stopped for good: its ban holds for the grace; unban --all --by lifts it now"
f2b_stop
pc_expect timeout pc_probe peer tcp 10.99.7.1 80
[ "$(left 10.99.7.2 f2b-pctest)" -le 60 ] || pc_fail "the flush left more than the grace"
"$PCD_PORTCTL" -s "$PCD_SOCK" unban --all --by f2b-pctest >/dev/null || pc_fail "unban --all --by failed"
not_banned 10.99.7.2 || pc_fail "a ban is left after unban --all --by: $(cat "$(pcd_bans_file)")"
pc_expect open pc_probe peer tcp 10.99.7.1 80
banned 192.0.2.77 || pc_fail "the administrator's ban went with fail2ban's"

# fail2ban ran every action without an error, and without a warning about
# the action or the configuration (a new database, or a host name this
# machine cannot resolve, is no matter).
if grep -E "ERROR|WARNING" "$PC_TMP/fail2ban.log" "$PC_TMP/fail2ban.out" |
	grep -v "New database created" | grep -v "fail2ban.ipdns .*WARNING Unable to find a corresponding IP address"; then
	pc_fail "fail2ban logged errors or warnings (above)"
fi
"$PCD_PORTCTL" -s "$PCD_SOCK" status >/dev/null || pc_fail "portctld stopped answering"
exit 0
