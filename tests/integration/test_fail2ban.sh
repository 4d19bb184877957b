#!/bin/sh
# fail2ban's portctl action end to end: the actionban command line, with
# <ip> and <bantime> substituted as fail2ban does, blocks real TCP traffic
# of a peer in one element-only transaction (no rule or table is replaced)
# once the zones' block sets exist, with fail2ban's bantime as the kernel
# timeout (none for a permanent ban); the per-zone form (options after the
# address) bans in that zone only; a reload keeps the ban; actionunban lets
# the peer in again; actionflush leaves the jail's bans for flushgrace, not those of others; actioncheck says what is
# wrong when portctld does not answer. (test_fail2ban_real.sh runs the
# same file in the real fail2ban.)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon-lib.sh"
pc_require
pcd_setup

ACTION="$top_srcdir/packaging/fail2ban/action.d/portctl.conf"

# f2b_command ACTION_KEY IP [TAG=VALUE...]: the command fail2ban would
# run, from the action file's [Definition] with [Init] tags, <ip> and
# <bantime> (600 unless given) replaced; portctl is pointed at the test's
# daemon the way a jail overrides an Init tag (portctl[portctl="..."]), and
# so are the other TAG=VALUE (portctl[zone_opt="--zone public"]).
f2b_command() {
	python3 - "$ACTION" "$PCD_PORTCTL -s $PCD_SOCK" "$@" <<'PY'
import configparser, re, sys
path, portctl, key, ip = sys.argv[1:5]
cp = configparser.RawConfigParser(interpolation=None)
cp.read(path)
tags = dict(cp["Init"]) if cp.has_section("Init") else {}
tags.update(portctl=portctl, ip=ip, name="sshd", bantime="600")
tags.update(a.split("=", 1) for a in sys.argv[5:])
cmd = cp["Definition"][key]
for _ in range(5):
    cmd = re.sub(r"<([\w-]+)>", lambda m: tags.get(m.group(1), m.group(0)), cmd)
if re.search(r"<[\w-]+>", cmd):
    sys.exit("unresolved tag in %s: %s" % (key, cmd))
print(cmd.strip())
PY
}

pc_config_write 10-base.rules 'allow 22/tcp comment "ssh"' 'allow 443/tcp'
pcd_start
pc_listen host tcp:22
pc_expect open pc_probe peer tcp 10.99.7.1 22

# ban_field ADDR FIELD: the ban's zone ("" for every zone) or its seconds
# left ("none" without a timeout) in the state directory; no
# output when ADDR is not banned.
ban_field() {
	python3 - "$(pcd_bans_file)" "$1" "$2" <<'PY'
import json, sys, time
path, addr, field = sys.argv[1:]
try:
    bans = json.load(open(path))["bans"]
except FileNotFoundError:
    bans = []
for b in bans:
    if b["address"] == addr:
        if field == "zone":
            print(b.get("zone") or "")
        else:
            print(b["expires"] - int(time.time()) if b["expires"] else "none")
PY
}

pcd_log "actioncheck passes while portctld answers"
check=$(f2b_command actioncheck 0.0.0.0) || pc_fail "cannot read actioncheck"
sh -c "$check" || pc_fail "actioncheck failed with portctld running: $check"

pcd_log "actionban, as fail2ban runs it"
# The first ban of a zone creates its block set (a structural change);
# every further ban is one element. Ban another host first, then watch.
# bantime -1 is fail2ban's permanent ban: no timeout.
first=$(f2b_command actionban 192.0.2.99 bantime=-1) || pc_fail "cannot read actionban"
sh -c "$first" || pc_fail "actionban failed: $first"
pc_expect open pc_probe peer tcp 10.99.7.1 22
[ "$(ban_field 192.0.2.99 expires)" = none ] ||
	pc_fail "a permanent ban has a timeout: $(cat "$(pcd_bans_file)")"
ban=$(f2b_command actionban 10.99.7.2) || pc_fail "cannot read actionban"
pcd_log "command: $ban"
pc_monitor_start host "$PC_TMP/monitor"
sh -c "$ban" || pc_fail "actionban failed: $ban"
pc_monitor_stop
pc_expect timeout pc_probe peer tcp 10.99.7.1 22
grep -q "add element inet portctl .*10.99.7.2" "$PC_TMP/monitor" ||
	pc_fail "no element added: $(cat "$PC_TMP/monitor")"
if grep -Eq "add (rule|chain|table)|delete (rule|chain|table)" "$PC_TMP/monitor"; then
	pc_fail "the ban was not element-only: $(cat "$PC_TMP/monitor")"
fi
pcd_log "ban transaction: $(grep -c . "$PC_TMP/monitor") monitor line(s), elements only"
# A ban is one transaction: nothing but the new address added to the ban
# sets, no element touched otherwise.
elements_only_check() { # VERB ADDR WHAT
	[ "$(grep -c "^# new generation" "$PC_TMP/monitor")" -eq 1 ] ||
		pc_fail "$3 was not one transaction: $(cat "$PC_TMP/monitor")"
	if grep -v "^# new generation" "$PC_TMP/monitor" |
		grep -Ev "^$1 element inet portctl ban4(_[a-z0-9_-]+)? \{ $2( counter packets [0-9]+ bytes [0-9]+)?( timeout [0-9a-z]+)?( expires [0-9a-z]+)? comment \"portctl ban $2[^\"]*\" \}$" |
		grep -q .; then
		pc_fail "$3 sent more than its own elements: $(cat "$PC_TMP/monitor")"
	fi
}
elements_only_check add 10.99.7.2 "the ban"
left=$(ban_field 10.99.7.2 expires)
if [ "$left" -le 590 ] || [ "$left" -gt 600 ]; then
	pc_fail "bantime 600 gave a ban ending in '$left' s: $(cat "$(pcd_bans_file)")"
fi
pc_in host nft list table inet portctl | grep -Eq "10\.99\.7\.2 .*timeout (10m|9m[0-9]+s)" ||
	pc_fail "no kernel timeout on the ban: $(pc_in host nft list table inet portctl)"

pcd_log "actionprolong (bantime.increment) sets the longer timeout"
prolong=$(f2b_command actionprolong 10.99.7.2 bantime=1200) || pc_fail "cannot read actionprolong"
sh -c "$prolong" || pc_fail "actionprolong failed: $prolong"
left=$(ban_field 10.99.7.2 expires)
[ "$left" -gt 1190 ] || pc_fail "the prolonged ban ends in '$left' s, not about 1200"
pc_expect timeout pc_probe peer tcp 10.99.7.1 22

pcd_log "a bantime over portctld's limit (3650 days) is a ban without timeout"
long=$(f2b_command actionban 192.0.2.98 bantime=999999999) || pc_fail "cannot read actionban"
sh -c "$long" || pc_fail "actionban with a long bantime failed: $long"
[ "$(ban_field 192.0.2.98 expires)" = none ] || pc_fail "a long ban got a timeout"

pcd_log "the per-zone form: options after the address"
zban=$(f2b_command actionban 198.51.100.7 zone_opt="--zone public") ||
	pc_fail "cannot read actionban"
sh -c "$zban" || pc_fail "per-zone actionban failed: $zban"
[ "$(ban_field 198.51.100.7 zone)" = public ] ||
	pc_fail "the per-zone ban is not in zone public: $(cat "$(pcd_bans_file)")"
zunban=$(f2b_command actionunban 198.51.100.7 zone_opt="--zone public") ||
	pc_fail "cannot read actionunban"
sh -c "$zunban" || pc_fail "per-zone actionunban failed: $zunban"
[ -z "$(ban_field 198.51.100.7 zone)" ] || pc_fail "the per-zone unban left the ban"

pcd_log "a repeated ban (fail2ban restarting) is accepted and changes nothing"
sh -c "$ban" || pc_fail "second actionban failed"

pcd_log "a reload keeps the ban"
"$PCD_PORTCTL" -s "$PCD_SOCK" reload >/dev/null || pc_fail "reload failed"
pc_expect timeout pc_probe peer tcp 10.99.7.1 22

pcd_log "actionunban lets the peer in again"
unban=$(f2b_command actionunban 10.99.7.2) || pc_fail "cannot read actionunban"
pc_monitor_start host "$PC_TMP/monitor"
sh -c "$unban" || pc_fail "actionunban failed: $unban"
pc_monitor_stop
pc_expect open pc_probe peer tcp 10.99.7.1 22
# The unban deletes its elements only.
elements_only_check delete 10.99.7.2 "the unban"

pcd_log "after bans and unbans the daemon's model still matches the kernel"
# model_check: diff finds nothing a reload would change (it keeps the
# bans), and no drift.
model_check() {
	"$PCD_PORTCTL" -s "$PCD_SOCK" --json diff >"$PC_TMP/diff.json" ||
		pc_fail "portctl diff found differences: $(cat "$PC_TMP/diff.json")"
	python3 - "$PC_TMP/diff.json" <<'PY' || pc_fail "the model drifted: $(cat "$PC_TMP/diff.json")"
import json, sys
d = json.load(open(sys.argv[1]))["data"]
sys.exit(0 if d["equal"] and d["kernel"]["checked"] and d["kernel"]["matches"] else 1)
PY
}
for a in 10.99.8.1 10.99.8.2 2001:db8::8 10.99.9.0/24; do
	"$PCD_PORTCTL" -s "$PCD_SOCK" ban "$a" >/dev/null || pc_fail "ban $a"
done
"$PCD_PORTCTL" -s "$PCD_SOCK" unban 10.99.8.1 >/dev/null || pc_fail "unban 10.99.8.1"
model_check
for a in 2001:db8::8 10.99.9.0/24; do
	"$PCD_PORTCTL" -s "$PCD_SOCK" unban "$a" >/dev/null || pc_fail "unban $a"
done
model_check
pcd_log "fail2ban's churn: 270 bans and unbans, and the model still matches"
i=0
while [ $i -lt 270 ]; do
	"$PCD_PORTCTL" -s "$PCD_SOCK" ban "198.18.0.$((i % 250 + 1))" >/dev/null || pc_fail "churn ban $i"
	"$PCD_PORTCTL" -s "$PCD_SOCK" unban "198.18.0.$((i % 250 + 1))" >/dev/null ||
		pc_fail "churn unban $i"
	i=$((i + 1))
done
model_check
pc_in host nft list table inet portctl | grep -q "10.99.8.2" || pc_fail "10.99.8.2 lost its ban"
pc_in host nft list table inet portctl | grep -Eq "10.99.8.1[^0-9]|2001:db8::8|10.99.9.0" &&
	pc_fail "an unbanned address is still in the table"

pcd_log "actionflush (fail2ban stopping a jail): the jail's bans end after flushgrace"
"$PCD_PORTCTL" -s "$PCD_SOCK" ban 192.0.2.77 >/dev/null || pc_fail "admin ban 192.0.2.77"
"$PCD_PORTCTL" -s "$PCD_SOCK" ban 192.0.2.78 --by f2b-other >/dev/null || pc_fail "ban by another jail"
ban=$(f2b_command actionban 10.99.7.2) || pc_fail "cannot read actionban"
sh -c "$ban" || pc_fail "actionban failed: $ban"
pc_expect timeout pc_probe peer tcp 10.99.7.1 22
flush=$(f2b_command actionflush 0.0.0.0 flushgrace=2s) || pc_fail "cannot read actionflush"
sh -c "$flush" >"$PC_TMP/out" || pc_fail "actionflush failed: $flush"
grep -q "end in 2s unless f2b-sshd bans them again" "$PC_TMP/out" || pc_fail "actionflush said: $(cat "$PC_TMP/out")"
pc_expect timeout pc_probe peer tcp 10.99.7.1 22
opens22() { [ "$(pc_probe peer tcp 10.99.7.1 22)" = open ]; }
pc_until 20 opens22 || pc_fail "the jail's ban did not lapse after flushgrace"
grep -q 192.0.2.77 "$(pcd_bans_file)" || pc_fail "the flush lifted the administrator's ban"
grep -q 192.0.2.78 "$(pcd_bans_file)" || pc_fail "the flush lifted another jail's ban"
sh -c "$flush" || pc_fail "actionflush with no ban of the jail failed"
"$PCD_PORTCTL" -s "$PCD_SOCK" unban --all >/dev/null || pc_fail "unban --all"

pcd_log "a bad address is refused with exit 2"
"$PCD_PORTCTL" -s "$PCD_SOCK" ban '10.0.0.1 zone x' 2>/dev/null
rc=$?
[ $rc -eq 2 ] || pc_fail "bad address exited $rc, expected 2"

pcd_log "actioncheck says what is wrong when portctld does not answer"
pcd_stop
sh -c "$check" 2>"$PC_TMP/check.err" && pc_fail "actioncheck passed with portctld stopped"
grep -q "portctld does not answer" "$PC_TMP/check.err" ||
	pc_fail "actioncheck said: $(cat "$PC_TMP/check.err")"
exit 0
