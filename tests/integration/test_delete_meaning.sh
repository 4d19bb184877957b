#!/bin/sh
# delete by meaning and duplicates (real daemon, real kernel): a rule is
# found whatever defaults, word order and list order the user writes; the
# shipped "allow ssh" names its FILE:LINE and the /etc override to use; a
# banned address points at unban; a duplicate is "already present at
# FILE:LINE" (exit 0) and changes nothing. Exact messages and exit codes.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon-lib.sh"
. "$(dirname "$0")/trust-lib.sh"
pc_require
pcd_setup

F90="$PC_TMP/etc/rules.d/90-portctl.rules"
DEFAULTS="$PC_TMP/share/defaults.rules"
SSH_LINE=$(grep -n '^allow ssh' "$DEFAULTS" | cut -d: -f1)
pcd_start
pc_listen host tcp:8443

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

pcd_log "delete with the defaults written out, or in another order"
for form in "allow 8443/tcp zone public" "allow in 8443/tcp" \
	"allow in 8443/tcp from any zone public"; do
	expect_out 0 "rule added: allow 8443/tcp" pcd_as_member allow 8443/tcp
	pc_expect open pc_probe peer tcp 10.99.7.1 8443
	# shellcheck disable=SC2086
	expect_out 0 "rule deleted: allow 8443/tcp" pcd_as_member delete $form
	pc_expect timeout pc_probe peer tcp 10.99.7.1 8443
done
[ -z "$(grep -v '^#' "$F90" | grep .)" ] || pc_fail "90-portctl.rules kept rules: $(cat "$F90")"

pcd_log "lists in another order, a service for its ports, a comment not given"
pcd_as_member allow 53 zone public from 10.0.0.0/8,192.0.2.1 comment dns >/dev/null ||
	pc_fail "allow 53"
pcd_as_member allow 80,443/tcp >/dev/null || pc_fail "allow 80,443/tcp"
expect_out 0 'rule deleted: allow 53 zone public from 10.0.0.0/8,192.0.2.1 comment "dns"' \
	pcd_as_member delete allow 53/udp,53/tcp from 192.0.2.1,10.0.0.0/8
expect_out 0 "rule deleted: allow 80,443/tcp" pcd_as_member delete allow 443,80/tcp
expect_out 2 "portctl: no rule matches: see 'portctl status numbered' for the rules in force" \
	pcd_as_member delete allow 8443/tcp zone internal

pcd_log "duplicates: already present at FILE:LINE, by meaning, nothing changed"
pcd_as_member allow 8443/tcp >/dev/null || pc_fail "allow 8443/tcp"
line=$(grep -n '^allow 8443/tcp$' "$F90" | cut -d: -f1)
cp "$F90" "$PC_TMP/f90.before"
for form in "allow 8443/tcp" "allow in 8443/tcp zone public"; do
	# shellcheck disable=SC2086
	expect_out 0 "already present at $F90:$line: allow 8443/tcp (nothing changed)" \
		pcd_as_member $form
done
expect_out 0 "already present at $DEFAULTS:$SSH_LINE: allow ssh comment \"portctl default: see defaults.rules\" (nothing changed)" \
	pcd_as_member allow 22/tcp
cmp -s "$F90" "$PC_TMP/f90.before" || pc_fail "a duplicate changed 90-portctl.rules: $(cat "$F90")"

pcd_log "the shipped default: its FILE:LINE and the /etc override"
n=$(pcd_rule_field 'allow ssh comment "portctl default: see defaults.rules"' number)
for form in "allow ssh" "allow 22/tcp zone public"; do
	# shellcheck disable=SC2086
	expect_out 2 "portctl: rule $n (allow ssh comment \"portctl default: see defaults.rules\") is a shipped default, from $DEFAULTS:$SSH_LINE, which portctl does not edit: to drop it, copy that file to $PC_TMP/etc/defaults.rules (a file there replaces it), remove the line and run 'portctl reload'" \
		pcd_as_member delete $form
done
expect_out 2 "portctl: rule $n (allow ssh comment \"portctl default: see defaults.rules\") is a shipped default, from $DEFAULTS:$SSH_LINE, which portctl does not edit: to drop it, copy that file to $PC_TMP/etc/defaults.rules (a file there replaces it), remove the line and run 'portctl reload'" \
	pcd_as_member delete "$n"

pcd_log "--dry-run: what would change, with the file's text after it; nothing changes"
cp "$F90" "$PC_TMP/f90.before"
pc_in host nft -s list table inet portctl >"$PC_TMP/table.before"
expect_out 0 "would add: allow 9999/tcp (dry run, nothing changed)" \
	pcd_as_member allow 9999/tcp --dry-run
expect_out 0 "would delete: allow 8443/tcp (dry run, nothing changed)" \
	pcd_as_member delete --dry-run allow in 8443/tcp
expect_out 0 "already present at $F90:$line: allow 8443/tcp (nothing changed)" \
	pcd_as_member allow 8443/tcp --dry-run
pcd_as_member --json allow 9999/tcp --dry-run >"$PC_TMP/dry.json" || pc_fail "--json --dry-run"
python3 - "$PC_TMP/dry.json" "$F90" <<'PY' || pc_fail "dry run data: $(cat "$PC_TMP/dry.json")"
import json, sys
d = json.load(open(sys.argv[1]))["data"]
assert d["file"] == sys.argv[2], d
assert d["text"] == open(sys.argv[2]).read() + "allow 9999/tcp\n", d
PY
expect_out 2 "portctl: the rule was refused, nothing changed:" pcd_as_member allow 99999/tcp --dry-run
cmp -s "$F90" "$PC_TMP/f90.before" || pc_fail "a dry run changed 90-portctl.rules"
pc_in host nft -s list table inet portctl >"$PC_TMP/table.after"
cmp -s "$PC_TMP/table.before" "$PC_TMP/table.after" || pc_fail "a dry run changed the kernel"

pcd_log "a ban is not a rule: unban"
pcd_as_member ban 192.0.2.9 >/dev/null || pc_fail "ban"
expect_out 2 "portctl: no rule matches, but 192.0.2.9 is banned: a ban is not a rule, run 'portctl unban 192.0.2.9'" \
	pcd_as_member delete deny from 192.0.2.9
expect_out 2 "portctl: there is no rule 9 (there are 2): see 'portctl status numbered'; bans are not numbered rules: lift one with 'portctl unban ADDRESS'" \
	pcd_as_member delete 9
exit 0
