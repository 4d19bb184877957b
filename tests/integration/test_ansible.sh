#!/bin/sh
# The fleet playbook (packaging/ansible/portctl-rules.yml) run by a real
# ansible-playbook against the local host and a portctld in the test's own
# namespace, paths and socket: its rule file reaches the kernel through the
# reload handler; a broken file is refused by validate: (portctl check) and
# neither the file in place nor the kernel table changes.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon-lib.sh"
command -v ansible-playbook >/dev/null 2>&1 ||
	pc_skip "needs ansible-playbook (Debian package ansible-core)"
pc_require
pcd_setup

PLAYBOOK="$top_srcdir/packaging/ansible/portctl-rules.yml"
WEB="$PC_TMP/etc/rules.d/50-web.rules"

# Ansible keeps its temporary files in the test's directory, not in ~root.
mkdir -p "$PC_TMP/ansible" "$PC_TMP/bad"
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

pcd_log "a broken file is refused by validate: nothing changes"
printf '%s\n' 'allow 8443/tcp' 'allow 70000/tcp' >"$PC_TMP/bad/50-web.rules"
cp "$WEB" "$PC_TMP/web.before"
pc_in host nft -s list table inet portctl >"$PC_TMP/table.before" || pc_fail "nft list table"
if playbook -e portctl_rules_src="$PC_TMP/bad"; then
	pc_fail "the playbook accepted a broken file: $(cat "$PC_TMP/ansible.log")"
fi
grep -q "failed to validate" "$PC_TMP/ansible.log" ||
	pc_fail "not refused by validate: $(cat "$PC_TMP/ansible.log")"
# Ansible validates its temporary copy, named "source".
grep -q "source:2:7: error: port 70000 is out of range" "$PC_TMP/ansible.log" ||
	pc_fail "the refusal does not name LINE:COL: $(cat "$PC_TMP/ansible.log")"
cmp -s "$PC_TMP/web.before" "$WEB" || pc_fail "the file in place was replaced"
pc_in host nft -s list table inet portctl >"$PC_TMP/table.after" || pc_fail "nft list table"
cmp -s "$PC_TMP/table.before" "$PC_TMP/table.after" ||
	pc_fail "the kernel table changed: $(diff "$PC_TMP/table.before" "$PC_TMP/table.after")"
pc_expect timeout pc_probe peer tcp 10.99.7.1 8443
pc_expect open pc_probe peer tcp 10.99.7.1 443
exit 0
