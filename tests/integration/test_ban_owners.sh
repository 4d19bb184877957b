#!/bin/sh
# Bans have owners (portctl ban --by TAG; without it the administrator's):
# an unban --by lifts only that owner's claim, the address staying banned
# while another's holds it; unban --all --by lifts one owner's bans only;
# --grace shortens them instead, a ban again by the owner renews it, and
# they lapse by the grace otherwise. The owners are kept across a restart
# (bans.json and the journal); plain unban --all lifts everything.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon-lib.sh"
pc_require
pcd_setup
pc_ns_add peer2
pc_link host vh2 10.99.8.1 fd99:8::1 peer2 vp2 10.99.8.2 fd99:8::2
pc_config_write 10-web.rules 'allow 80/tcp'
P() { "$PCD_PORTCTL" -s "$PCD_SOCK" "$@"; }

pcd_start
pc_listen host tcp:80

in1() { [ "$(pc_probe peer tcp 10.99.7.1 80)" = open ]; }
in2() { [ "$(pc_probe peer2 tcp 10.99.8.1 80)" = open ]; }
out1() { ! in1; }
out2() { ! in2; }
# says WHAT EXPECTED CMD...: CMD exits 0 and prints EXPECTED exactly.
says() {
	what=$1 want=$2
	shift 2
	got=$("$@" 2>&1) || pc_fail "$what exited $?: $got"
	[ "$got" = "$want" ] || pc_fail "$what said '$got', not '$want'"
	pc_log "ok: $what: $got"
}

pcd_log "two owners of one address: it stays banned until both lift theirs"
says "ban by a" "banned: 10.99.7.2 by f2b-a" P ban 10.99.7.2 --by f2b-a
says "ban by b" "banned: 10.99.7.2 by f2b-b" P ban 10.99.7.2 --timeout 1h --by f2b-b
says "admin ban" "banned: 10.99.8.2" P ban 10.99.8.2
out1 || pc_fail "10.99.7.2 gets in"
P status --json | python3 -c '
import json, sys
def find(o):
    if isinstance(o, dict):
        if "bans_by" in o:
            return o["bans_by"]
        for v in o.values():
            r = find(v)
            if r is not None:
                return r
print(json.dumps(find(json.load(sys.stdin)), sort_keys=True))' >"$PC_TMP/by"
[ "$(cat "$PC_TMP/by")" = '{"(admin)": 1, "f2b-a": 1, "f2b-b": 1}' ] ||
	pc_fail "status --json bans_by: $(cat "$PC_TMP/by")"
P status | grep -qx "Bans: 3 (f2b-a 1, f2b-b 1, (admin) 1)" || pc_fail "status says: $(P status)"
P metrics | grep -qx 'portctl_bans{zone="\*"} 2' || pc_fail "metrics count the claims: $(P metrics | grep bans)"
says "unban by a" "10.99.7.2 by f2b-a stays banned: another owner's ban holds it" \
	P unban 10.99.7.2 --by f2b-a
out1 || pc_fail "10.99.7.2 gets in while f2b-b's ban holds"
says "unban by a again" "10.99.7.2 by f2b-a was not banned: nothing to do" \
	P unban 10.99.7.2 --by f2b-a
says "unban --all by c" "no address is banned by f2b-c" P unban --all --by f2b-c

pcd_log "unban --all --by lifts that owner's bans, not the administrator's"
says "unban --all by b" "unbanned: all 1 bans by f2b-b" P unban --all --by f2b-b
in1 || pc_fail "10.99.7.2 still out after its only owner's unban --all"
out2 || pc_fail "the administrator's ban of 10.99.8.2 was lifted"

pcd_log "the owners are kept across a restart"
P ban 10.99.7.2 --by f2b-a >/dev/null || pc_fail "ban by f2b-a"
pcd_stop
pcd_start
grep -q '"by": "f2b-a"' "$(pcd_bans_file)" || pc_fail "no owner kept: $(cat "$(pcd_bans_file)")"
out1 || pc_fail "10.99.7.2 gets in after the restart"
out2 || pc_fail "10.99.8.2 gets in after the restart"

pcd_log "a grace: f2b-a's ban holds, a ban again renews it, else it lapses"
says "flush with a grace" \
	"all 1 bans by f2b-a end in 3s unless f2b-a bans them again ('portctl unban --all --by f2b-a' lifts them now)" \
	P unban --all --by f2b-a --grace 3s
out1 || pc_fail "10.99.7.2 gets in at once despite the grace"
says "ban again within the grace" "banned: 10.99.7.2 by f2b-a" P ban 10.99.7.2 --by f2b-a --timeout 1h
P unban --all --by f2b-a --grace 2 >/dev/null || pc_fail "the second flush failed"
out1 || pc_fail "10.99.7.2 gets in at once despite the grace"
pc_until 20 in1 || pc_fail "f2b-a's ban did not lapse after its grace"
out2 || pc_fail "the administrator's ban of 10.99.8.2 lapsed with f2b-a's"

pcd_log "usage errors and plain unban --all"
P unban 10.99.8.2 --grace 1m >"$PC_TMP/out" 2>&1 && pc_fail "--grace without --all --by accepted"
grep -q "grace goes with --all --by TAG" "$PC_TMP/out" || pc_fail "said: $(cat "$PC_TMP/out")"
P ban 10.99.8.2 --by 'f2b a' >"$PC_TMP/out" 2>&1 && pc_fail "a blank in --by accepted"
grep -q '"by" must be up to 64 letters' "$PC_TMP/out" || pc_fail "said: $(cat "$PC_TMP/out")"
P ban 10.99.7.2 --by f2b-a >/dev/null || pc_fail "ban by f2b-a"
says "unban --all" "unbanned: all 2 bans" P unban --all
in1 || pc_fail "10.99.7.2 still out"
pc_until 10 in2 || pc_fail "10.99.8.2 still out"
exit 0
