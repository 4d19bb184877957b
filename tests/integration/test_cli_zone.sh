#!/bin/sh
# Zones and services from the command line (real daemon, real kernel): the
# file's line after "portctl", applied in one transaction and persisted in
# 90-portctl.rules; updated in place; a shipped one replaced, the admin's
# refused with FILE:LINE; delete zone|service, refused while a rule uses
# it; zones/services say where each comes from. Exact messages and codes.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon-lib.sh"
pc_require
pcd_setup

F90="$PC_TMP/etc/rules.d/90-portctl.rules"
ADMIN="$PC_TMP/etc/rules.d/50-admin.rules"
ZONES="$PC_TMP/share/zones.rules"
pc_config_write 50-admin.rules "zone office source 192.0.2.0/24"
pcd_start
pc_listen host tcp:9000
pc_listen host tcp:8080

# expect_out CODE TEXT CMD...: exit code and one line of output, exactly.
expect_out() {
	code=$1 text=$2
	shift 2
	"$@" >"$PC_TMP/out" 2>&1
	rc=$?
	[ $rc -eq "$code" ] || pc_fail "'$*' exited $rc, not $code: $(cat "$PC_TMP/out")"
	grep -qxF -- "$text" "$PC_TMP/out" || pc_fail "'$*' said: $(cat "$PC_TMP/out"), not: $text"
	pc_log "ok: $* -> $rc: $text"
}

pcd_log "zone lab on the peer's interface, accept: one transaction, traffic gets in"
pc_expect timeout pc_probe peer tcp 10.99.7.1 9000
pc_monitor_start host "$PC_TMP/mon"
expect_out 0 "defined: zone lab interface vh policy in accept" \
	pcd_as_member zone lab interface vh policy in accept
pc_monitor_stop
n=$(grep -c '^# new generation' "$PC_TMP/mon")
[ "$n" -eq 1 ] || pc_fail "zone lab took $n transactions: $(cat "$PC_TMP/mon")"
pc_expect open pc_probe peer tcp 10.99.7.1 9000
grep -qx "zone lab interface vh policy in accept" "$F90" || pc_fail "not persisted: $(cat "$F90")"

pcd_log "a restart keeps it"
pcd_stop
pcd_start
pc_expect open pc_probe peer tcp 10.99.7.1 9000

pcd_log "the lock-out guard, --dry-run, a malformed line: nothing changes"
cp "$F90" "$PC_TMP/f90.before"
export SSH_CONNECTION="10.99.7.2 51234 10.99.7.1 9000"
pcd_as_member zone lab interface vh policy in drop 2>"$PC_TMP/err"
rc=$?
unset SSH_CONNECTION
[ $rc -eq 1 ] || pc_fail "a zone cutting the session exited $rc: $(cat "$PC_TMP/err")"
grep -q "would cut your SSH session from 10.99.7.2 port 51234 to port 9000 on vh" "$PC_TMP/err" ||
	pc_fail "no session in the refusal: $(cat "$PC_TMP/err")"
expect_out 0 "would define: zone lab interface vh policy in drop (dry run, nothing changed)" \
	pcd_as_member zone lab interface vh policy in drop --dry-run
expect_out 2 "portctl: the rule was refused, nothing changed:" \
	pcd_as_member zone lab interface vh policy in sideways
grep -qxF "command line:1:33: error: unknown policy 'sideways'" "$PC_TMP/out" ||
	pc_fail "no caret for the policy: $(cat "$PC_TMP/out")"
expect_out 2 "$F90:2:21: error: interface 'vh' is already in zone 'lab' ($F90:1)" \
	pcd_as_member zone lab2 interface vh
cmp -s "$F90" "$PC_TMP/f90.before" || pc_fail "90-portctl.rules changed: $(cat "$F90")"
pc_expect open pc_probe peer tcp 10.99.7.1 9000

pcd_log "a second definition replaces the first in place"
line=$(grep -n '^zone lab ' "$F90" | cut -d: -f1)
expect_out 0 "defined: zone lab interface vh policy in drop" \
	pcd_as_member zone lab interface vh policy in drop
[ "$(grep -c '^zone lab ' "$F90")" -eq 1 ] || pc_fail "zone lab twice: $(cat "$F90")"
[ "$(grep -n '^zone lab ' "$F90" | cut -d: -f1)" = "$line" ] || pc_fail "moved: $(cat "$F90")"
pc_expect timeout pc_probe peer tcp 10.99.7.1 9000
expect_out 0 "  $(printf '%-12s' '') from $F90:$line" pcd_as_member zones

pcd_log "the admin's own zone: refused, naming FILE:LINE"
expect_out 2 "portctl: zone 'office' is defined at $ADMIN:1, not by portctl: edit that file and run 'portctl reload'" \
	pcd_as_member zone office source 198.51.100.0/24
expect_out 2 "portctl: zone 'office' is defined at $ADMIN:1, not by portctl: edit that file and run 'portctl reload'" \
	pcd_as_member delete zone office

pcd_log "a shipped zone: replaced by a line, never deleted"
zl=$(grep -n '^zone trusted ' "$ZONES" | cut -d: -f1)
expect_out 0 "defined: zone trusted source 203.0.113.0/24 policy in accept" \
	pcd_as_member zone trusted source 203.0.113.0/24 policy in accept
pcd_as_member --json zones >"$PC_TMP/zones.json" || pc_fail "zones --json"
python3 - "$PC_TMP/zones.json" "$F90" <<'PY' || pc_fail "zones --json: $(cat "$PC_TMP/zones.json")"
import json, sys
z = {z["name"]: z for z in json.load(open(sys.argv[1]))["data"]["zones"]}
assert z["trusted"]["file"] == sys.argv[2] and z["trusted"]["sources"] == ["203.0.113.0/24"], z
assert z["internal"]["origin"] == "shipped", z
PY
expect_out 0 "deleted: zone trusted" pcd_as_member delete zone trusted
expect_out 2 "portctl: zone 'trusted' is shipped ($ZONES:$zl) and cannot be deleted, only replaced: 'portctl zone trusted ...'" \
	pcd_as_member delete zone trusted

pcd_log "a zone a rule uses is not deleted"
expect_out 0 "rule added: allow 9000/tcp zone lab" pcd_as_member allow 9000/tcp zone lab
pc_expect open pc_probe peer tcp 10.99.7.1 9000
rl=$(grep -n '^allow 9000/tcp zone lab$' "$F90" | cut -d: -f1)
rn=$(pcd_rule_field 'allow 9000/tcp zone lab' number)
expect_out 2 "portctl: zone 'lab' is used by rule $rn (allow 9000/tcp zone lab) at $F90:$rl: delete that rule first" \
	pcd_as_member delete zone lab
expect_out 0 "would delete: allow 9000/tcp zone lab (dry run, nothing changed)" \
	pcd_as_member delete --dry-run allow 9000/tcp zone lab
expect_out 0 "rule deleted: allow 9000/tcp zone lab" pcd_as_member delete allow 9000/tcp zone lab
expect_out 0 "deleted: zone lab" pcd_as_member delete zone lab
! grep -q '^zone ' "$F90" || pc_fail "zones left in 90-portctl.rules: $(cat "$F90")"
expect_out 2 "portctl: there is no zone 'lab': see 'portctl zones'" pcd_as_member delete zone lab

pcd_log "a service from the command line, then allowed by name"
pc_expect timeout pc_probe peer tcp 10.99.7.1 8080
expect_out 0 "defined: service myapp 8080/tcp" pcd_as_member service myapp 8080/tcp
expect_out 0 "rule added: allow myapp" pcd_as_member allow myapp
pc_expect open pc_probe peer tcp 10.99.7.1 8080
sl=$(grep -n '^service myapp ' "$F90" | cut -d: -f1)
pcd_as_member services | grep -qE "^  myapp +8080/tcp +$F90:$sl\$" ||
	pc_fail "services: $(pcd_as_member services | grep myapp)"
rn=$(pcd_rule_field 'allow myapp' number)
expect_out 2 "portctl: service 'myapp' is used by rule $rn (allow myapp) at $F90:$((sl + 1)): delete that rule first" \
	pcd_as_member delete service myapp
expect_out 0 "defined: service myapp 8081/tcp" pcd_as_member service myapp 8081/tcp
pc_expect timeout pc_probe peer tcp 10.99.7.1 8080
exit 0
