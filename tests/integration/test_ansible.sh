#!/bin/sh
# The fleet playbook (packaging/ansible/portctl-rules.yml) run by a real
# ansible-playbook against the local host and a portctld in the test's own
# namespace, paths and socket: its rule file reaches the kernel through the
# reload handler; the files are validated together with rules.d as a whole
# (portctl check --rules-dir on a candidate directory): a zone defined in
# one file and used in another passes, a broken file or a service defined in
# two files fails (in --check mode too) and neither rules.d nor the kernel
# table changes.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon-lib.sh"
command -v ansible-playbook >/dev/null 2>&1 ||
	pc_skip "needs ansible-playbook (Debian package ansible-core)"
pc_require
pcd_setup

PLAYBOOK="$top_srcdir/packaging/ansible/portctl-rules.yml"
WEB="$PC_TMP/etc/rules.d/50-web.rules"

# Ansible keeps its temporary files in the test's directory, not in ~root.
mkdir -p "$PC_TMP/ansible" "$PC_TMP/bad" "$PC_TMP/lab" "$PC_TMP/twice"
export ANSIBLE_LOCAL_TEMP="$PC_TMP/ansible" ANSIBLE_REMOTE_TEMP="$PC_TMP/ansible"
export ANSIBLE_RETRY_FILES_ENABLED=false ANSIBLE_NOCOLOR=1 ANSIBLE_PYTHON_INTERPRETER=auto_silent

# playbook [EXTRA-VAR...]: run it in the host namespace against the test's
# daemon; output in $PC_TMP/ansible.log, the exit code returned.
playbook() {
	pc_in host ansible-playbook -i localhost, -c local "$PLAYBOOK" \
		-e portctl_bin="$PCD_PORTCTL" -e portctl_confdir="$PC_TMP/etc" \
		-e portctl_datadir="$top_srcdir/rules" -e portctl_socket="$PCD_SOCK" \
		"$@" >"$PC_TMP/ansible.log" 2>&1
}

pc_config_write 10-base.rules 'allow 22/tcp'
pcd_start
pc_listen host tcp:443 tcp:8443
pc_expect timeout pc_probe peer tcp 10.99.7.1 443

pcd_log "the shipped example file, distributed and reloaded"
playbook || pc_fail "ansible-playbook failed: $(cat "$PC_TMP/ansible.log")"
cmp -s "$top_srcdir/packaging/ansible/files/50-web.rules" "$WEB" ||
	pc_fail "50-web.rules not installed"
grep -q "RUNNING HANDLER \[Reload portctld\]" "$PC_TMP/ansible.log" ||
	pc_fail "the reload handler did not run: $(cat "$PC_TMP/ansible.log")"
[ "$(pcd_nft_has 443)" = "True" ] || pc_fail "443 (allow https) not in the kernel table"
pc_expect open pc_probe peer tcp 10.99.7.1 443
[ -n "$(pcd_rule_field 'allow https comment "web"' number)" ] ||
	pc_fail "portctl status does not show the distributed rule"

pcd_log "a second run changes nothing and does not reload"
playbook || pc_fail "second run failed: $(cat "$PC_TMP/ansible.log")"
grep -q "RUNNING HANDLER" "$PC_TMP/ansible.log" &&
	pc_fail "reloaded although nothing changed: $(cat "$PC_TMP/ansible.log")"

# rules_d_snapshot FILE: every name and content in rules.d, hidden ones too.
rules_d_snapshot() {
	(cd "$PC_TMP/etc/rules.d" && ls -A && cat -- *) >"$1" || pc_fail "cannot read rules.d"
}

# expect_refused WHY: the last run failed at the whole-directory check,
# leaving rules.d, the kernel table and no candidate behind, and no reload.
expect_refused() {
	grep -q "TASK \[Validate the candidate as a whole" "$PC_TMP/ansible.log" &&
		grep -q '^fatal: .*"check", "--rules-dir"' "$PC_TMP/ansible.log" ||
		pc_fail "$1: not refused by the whole-directory check: $(cat "$PC_TMP/ansible.log")"
	grep -q "RUNNING HANDLER" "$PC_TMP/ansible.log" &&
		pc_fail "$1: reloaded: $(cat "$PC_TMP/ansible.log")"
	rules_d_snapshot "$PC_TMP/rules.after"
	cmp -s "$PC_TMP/rules.before" "$PC_TMP/rules.after" ||
		pc_fail "$1: rules.d changed: $(diff "$PC_TMP/rules.before" "$PC_TMP/rules.after")"
	ls -A "$PC_TMP/etc" | grep -q candidate &&
		pc_fail "$1: a candidate directory was left: $(ls -A "$PC_TMP/etc")"
	pc_in host nft -s list table inet portctl >"$PC_TMP/table.after" || pc_fail "nft list table"
	cmp -s "$PC_TMP/table.before" "$PC_TMP/table.after" ||
		pc_fail "$1: the kernel table changed: $(diff "$PC_TMP/table.before" "$PC_TMP/table.after")"
}

pcd_log "a zone defined in one file and used in another: deployed together"
echo 'zone lab source 192.0.2.0/24' >"$PC_TMP/lab/10-lab.rules"
echo 'allow 8080/tcp zone lab comment "lab"' >"$PC_TMP/lab/60-lab-web.rules"
playbook -e portctl_rules_src="$PC_TMP/lab" ||
	pc_fail "ansible-playbook failed: $(cat "$PC_TMP/ansible.log")"
cmp -s "$PC_TMP/lab/60-lab-web.rules" "$PC_TMP/etc/rules.d/60-lab-web.rules" ||
	pc_fail "60-lab-web.rules not installed"
grep -q "RUNNING HANDLER \[Reload portctld\]" "$PC_TMP/ansible.log" ||
	pc_fail "the reload handler did not run: $(cat "$PC_TMP/ansible.log")"
[ -n "$(pcd_rule_field 'allow 8080/tcp zone lab comment "lab"' number)" ] ||
	pc_fail "portctl status does not show the rule in the zone of the other file"

rules_d_snapshot "$PC_TMP/rules.before"
pc_in host nft -s list table inet portctl >"$PC_TMP/table.before" || pc_fail "nft list table"

pcd_log "a service defined in two files, each valid alone: refused, nothing changes"
echo 'service myapp 9000/tcp' >"$PC_TMP/twice/70-a.rules"
printf '%s\n' 'service myapp 9001/tcp' 'allow myapp' >"$PC_TMP/twice/80-b.rules"
for f in 70-a.rules 80-b.rules; do
	"$PCD_PORTCTL" --config "$PC_TMP/etc" --data-dir "$top_srcdir/rules" \
		check "$PC_TMP/twice/$f" >/dev/null 2>&1 || pc_fail "$f alone is not valid"
done
if playbook -e portctl_rules_src="$PC_TMP/twice"; then
	pc_fail "the playbook accepted service myapp twice: $(cat "$PC_TMP/ansible.log")"
fi
expect_refused "service twice"
grep -q "80-b.rules:1:9: error: service 'myapp' is already defined at .*/70-a.rules:1" \
	"$PC_TMP/ansible.log" || pc_fail "the refusal does not name both files: $(cat "$PC_TMP/ansible.log")"

pcd_log "the same in --check --diff mode: failed, not a change"
if playbook -e portctl_rules_src="$PC_TMP/twice" --check --diff; then
	pc_fail "--check reported the bad deploy as good: $(cat "$PC_TMP/ansible.log")"
fi
expect_refused "service twice, --check"
grep -q "failed=1" "$PC_TMP/ansible.log" || pc_fail "--check: not failed=1: $(cat "$PC_TMP/ansible.log")"

pcd_log "a good deploy in --check mode changes nothing and does not reload"
echo 'allow 8081/tcp zone lab' >"$PC_TMP/lab/60-lab-web.rules"
playbook -e portctl_rules_src="$PC_TMP/lab" --check --diff ||
	pc_fail "--check of a good deploy failed: $(cat "$PC_TMP/ansible.log")"
grep -q "+allow 8081/tcp zone lab" "$PC_TMP/ansible.log" ||
	pc_fail "--diff does not show the change: $(cat "$PC_TMP/ansible.log")"
grep -q "changed=1" "$PC_TMP/ansible.log" || pc_fail "--check: not changed=1: $(cat "$PC_TMP/ansible.log")"
rules_d_snapshot "$PC_TMP/rules.after"
cmp -s "$PC_TMP/rules.before" "$PC_TMP/rules.after" || pc_fail "--check changed rules.d"

pcd_log "a broken file is refused: nothing changes"
printf '%s\n' 'allow 8443/tcp' 'allow 70000/tcp' >"$PC_TMP/bad/50-web.rules"
if playbook -e portctl_rules_src="$PC_TMP/bad"; then
	pc_fail "the playbook accepted a broken file: $(cat "$PC_TMP/ansible.log")"
fi
expect_refused "broken file"
grep -q "candidate\.[^/]*/50-web.rules:2:7: error: port 70000 is out of range" \
	"$PC_TMP/ansible.log" || pc_fail "the refusal does not name LINE:COL: $(cat "$PC_TMP/ansible.log")"
pc_expect timeout pc_probe peer tcp 10.99.7.1 8443
pc_expect open pc_probe peer tcp 10.99.7.1 443
exit 0
