#!/bin/sh
# The last good copy follows CLI changes after the reply (not on the
# request's way), is written at exit when a change is still pending, and
# after a kill -9 at any point a restart from it comes up with a whole
# configuration: the one before a change or the one after, never a mix.
# A hand edit of the same length, reloaded after the copy took a change
# (which it keeps unhashed), is found different and copied too.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon-lib.sh"
pc_require
pcd_setup
pc_listen host tcp:443 tcp:444 tcp:445 tcp:446 tcp:447 tcp:448
LG="$PC_TMP/state/last-good/etc/rules.d/90-portctl.rules"
pctl() { "$PCD_PORTCTL" -s "$PCD_SOCK" "$@" >/dev/null || pc_fail "portctl $*"; }
copy_has() { grep -q "^allow $1/tcp$" "$LG" 2>/dev/null; }

pcd_log "a CLI change reaches the copy shortly after its reply"
pc_config_write 10-web.rules 'allow 443/tcp'
pcd_start
pctl allow 444/tcp
pc_until 10 copy_has 444 || pc_fail "the copy never got 444"

pcd_log "a change still pending at SIGTERM is written before the exit"
pctl allow 445/tcp
pcd_stop
copy_has 445 || pc_fail "the copy lacks 445 after a clean exit"

pcd_log "a hand edit of the same length, reloaded after a change: the copy follows it"
pcd_start
pctl allow 448/tcp
pc_until 10 copy_has 448 || pc_fail "the copy never got 448"
sed -i 's|^allow 445/tcp$|allow 447/tcp|' "$PC_TMP/etc/rules.d/90-portctl.rules"
pctl reload
pc_until 10 copy_has 447 || pc_fail "the copy kept the text before the edit: $(cat "$LG")"
copy_has 445 && pc_fail "the copy still has 445: $(cat "$LG")"
pcd_stop

pcd_log "kill -9 right after a change, files broken: the copy is old or new, whole"
pcd_start
pctl allow 446/tcp
kill -9 "$PCD_PID"
wait "$PCD_PID" 2>/dev/null
PCD_PID=""
pc_in host nft delete table inet portctl || pc_fail "cannot delete the table"
pc_config_write 10-web.rules 'allow 443/tcp' 'allow 70000/tcp'
: >"$PC_TMP/portctld.log"
pcd_start
grep -q "THE KERNEL HELD NO RULES OF OURS" "$PC_TMP/portctld.log" ||
	pc_fail "did not start from the last good copy: $(cat "$PC_TMP/portctld.log")"
for port in 443 444 447 448; do
	pc_expect open pc_probe peer tcp 10.99.7.1 "$port"
done
pc_expect timeout pc_probe peer tcp 10.99.7.1 445
# 446: in the copy or not, but the kernel holds what the copy says.
if copy_has 446; then
	pc_expect open pc_probe peer tcp 10.99.7.1 446
else
	pc_expect timeout pc_probe peer tcp 10.99.7.1 446
fi
exit 0
