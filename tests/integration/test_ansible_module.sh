#!/bin/sh
# The portctl Ansible module (packaging/ansible/collections/…/portctl/portctl),
# built and installed with ansible-galaxy from the source tree, documented
# (ansible-doc renders it), and run by Debian's ansible-core with -c local
# against a portctld in the test's namespace, in one playbook: check mode
# (changed reported, kernel and file unchanged), present (changed, in the
# kernel), present again in other words (changed=false), diff mode (the
# 90-portctl.rules lines), a bad rule (failed with portctl's message,
# nothing changed), absent (check mode, then for real, then again),
# disabled / enabled (table out and back), reloaded (check mode, once).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon-lib.sh"
command -v ansible-playbook >/dev/null 2>&1 && command -v ansible-galaxy >/dev/null 2>&1 ||
	pc_skip "needs ansible-playbook and ansible-galaxy (Debian package ansible-core)"
pc_require
pcd_setup

COLLECTION="$top_srcdir/packaging/ansible/collections/ansible_collections/portctl/portctl"
F90="$PC_TMP/etc/rules.d/90-portctl.rules"
mkdir -p "$PC_TMP/ansible" "$PC_TMP/galaxy"
export ANSIBLE_LOCAL_TEMP="$PC_TMP/ansible" ANSIBLE_REMOTE_TEMP="$PC_TMP/ansible"
export ANSIBLE_RETRY_FILES_ENABLED=false ANSIBLE_NOCOLOR=1 ANSIBLE_PYTHON_INTERPRETER=auto_silent
export ANSIBLE_COLLECTIONS_PATH="$PC_TMP/galaxy" ANSIBLE_GALAXY_CACHE_DIR="$PC_TMP/ansible"
# No session of the shell running the tests reaches the lock-out guard.
export SSH_CONNECTION=""

pcd_log "ansible-galaxy builds and installs the collection; ansible-doc renders it"
ansible-galaxy collection build "$COLLECTION" --output-path "$PC_TMP" >"$PC_TMP/galaxy.log" 2>&1 &&
	ansible-galaxy collection install "$PC_TMP"/portctl-portctl-*.tar.gz -p "$PC_TMP/galaxy" \
		>>"$PC_TMP/galaxy.log" 2>&1 || pc_fail "ansible-galaxy: $(cat "$PC_TMP/galaxy.log")"
ansible-doc portctl.portctl.portctl >"$PC_TMP/doc" 2>&1 || pc_fail "ansible-doc: $(cat "$PC_TMP/doc")"
for word in "OPTIONS" "rule" "reloaded" "EXAMPLES" "RETURN VALUES" "check_mode"; do
	grep -q "$word" "$PC_TMP/doc" || pc_fail "ansible-doc lacks $word: $(cat "$PC_TMP/doc")"
done

pc_config_write 10-base.rules 'allow 443/tcp'
pcd_start
pc_listen host tcp:8443
# In rules.d, not yet loaded: for state reloaded.
pc_config_write 20-extra.rules 'allow 9000/tcp'

cat >"$PC_TMP/play.yml" <<'YML'
- hosts: all
  gather_facts: false
  module_defaults:
    portctl.portctl.portctl:
      executable: "{{ pc_bin }}"
      socket: "{{ pc_sock }}"
      config: "{{ pc_etc }}"
      data_dir: "{{ pc_share }}"
  vars:
    f90: "{{ pc_etc }}/rules.d/90-portctl.rules"
  tasks:
    - name: Kernel before
      ansible.builtin.command: nft -s list table inet portctl
      register: t0
      changed_when: false

    - name: Check mode, present
      portctl.portctl.portctl: {rule: allow 8443/tcp, zone: public, comment: alt web}
      check_mode: true
      diff: true
      register: r_check
    - name: Kernel after check mode
      ansible.builtin.command: nft -s list table inet portctl
      register: t_check
      changed_when: false
    - name: The rules file after check mode
      ansible.builtin.stat: {path: "{{ f90 }}"}
      register: s_check
    - name: Check mode reported a change and made none
      ansible.builtin.assert:
        that:
          - r_check is changed
          - "'would add' in r_check.msg"
          - t_check.stdout == t0.stdout
          - not s_check.stat.exists

    - name: Present
      portctl.portctl.portctl: {rule: allow 8443/tcp, zone: public, comment: alt web}
      diff: true
      register: r_add
    - name: Present again, in other words
      portctl.portctl.portctl: {rule: "allow in 8443/tcp", zone: public, comment: alt web}
      register: r_again
    - name: Kernel after present
      ansible.builtin.command: nft -s list table inet portctl
      register: t_add
      changed_when: false
    - name: Added once, idempotent
      ansible.builtin.assert:
        that:
          - r_add is changed
          - r_again is not changed
          - "'already present at' in r_again.msg"
          - "'8443' in t_add.stdout"

    - name: Checksum of the rules file
      ansible.builtin.stat: {path: "{{ f90 }}"}
      register: s_before
    - name: A bad rule
      portctl.portctl.portctl: {rule: allow 99999/tcp}
      register: r_bad
      ignore_errors: true
    - name: A bad rule in check mode
      portctl.portctl.portctl: {rule: allow 99999/tcp}
      check_mode: true
      register: r_bad_check
      ignore_errors: true
    - name: Kernel after the bad rule
      ansible.builtin.command: nft -s list table inet portctl
      register: t_bad
      changed_when: false
    - name: Checksum after the bad rule
      ansible.builtin.stat: {path: "{{ f90 }}"}
      register: s_after
    - name: The bad rule failed with portctl's message and changed nothing
      ansible.builtin.assert:
        that:
          - r_bad is failed
          - r_bad.rc == 2
          - "'the rule was refused, nothing changed' in r_bad.msg"
          - "'99999' in r_bad.msg"
          - r_bad_check is failed
          - t_bad.stdout == t_add.stdout
          - s_after.stat.checksum == s_before.stat.checksum

    - name: Absent, check mode
      portctl.portctl.portctl: {rule: allow 8443/tcp, state: absent}
      check_mode: true
      register: r_abs_check
    - name: Kernel after absent in check mode
      ansible.builtin.command: nft -s list table inet portctl
      register: t_abs_check
      changed_when: false
    - name: Absent
      portctl.portctl.portctl: {rule: allow 8443/tcp zone public, state: absent}
      diff: true
      register: r_abs
    - name: Absent again
      portctl.portctl.portctl: {rule: allow 8443/tcp, state: absent}
      register: r_abs_again
    - name: Absent by meaning, idempotent
      ansible.builtin.assert:
        that:
          - r_abs_check is changed
          - t_abs_check.stdout == t_add.stdout
          - r_abs is changed
          - r_abs_again is not changed

    - name: Disabled, check mode
      portctl.portctl.portctl: {state: disabled}
      check_mode: true
      register: r_dis_check
    - name: Disabled
      portctl.portctl.portctl: {state: disabled}
      register: r_dis
    - name: Disabled again
      portctl.portctl.portctl: {state: disabled}
      register: r_dis_again
    - name: Kernel while disabled
      ansible.builtin.command: nft list table inet portctl
      register: t_dis
      changed_when: false
      failed_when: false
    - name: Enabled
      portctl.portctl.portctl: {state: enabled}
      diff: true
      register: r_en
    - name: Enabled again
      portctl.portctl.portctl: {state: enabled}
      register: r_en_again
    - name: Kernel after enabled
      ansible.builtin.command: nft -s list table inet portctl
      register: t_en
      changed_when: false
    - name: Reloaded, check mode (a file was added to rules.d)
      portctl.portctl.portctl: {state: reloaded}
      check_mode: true
      diff: true
      register: r_rel_check
    - name: Kernel after reloaded in check mode
      ansible.builtin.command: nft -s list table inet portctl
      register: t_rel_check
      changed_when: false
    - name: Reloaded
      portctl.portctl.portctl: {state: reloaded}
      register: r_rel
    - name: Reloaded again, nothing to reload
      portctl.portctl.portctl: {state: reloaded}
      register: r_rel_again
    - name: Kernel after reloaded
      ansible.builtin.command: nft -s list table inet portctl
      register: t_rel
      changed_when: false
    - name: Disabled and enabled
      ansible.builtin.assert:
        that:
          - r_dis_check is changed
          - r_dis is changed
          - r_dis_again is not changed
          - t_dis.rc != 0
          - r_en is changed
          - r_en_again is not changed
          - t_en.stdout == t0.stdout
    - name: Reloaded when the files changed, once
      ansible.builtin.assert:
        that:
          - r_rel_check is changed
          - t_rel_check.stdout == t0.stdout
          - r_rel is changed
          - r_rel_again is not changed
          - "'9000' in t_rel.stdout and '9000' not in t0.stdout"
YML

pcd_log "one playbook: check mode, present, idempotence, diff, bad rule, absent, disable/enable"
pc_in host ansible-playbook -i localhost, -c local "$PC_TMP/play.yml" \
	-e pc_bin="$PCD_PORTCTL" -e pc_sock="$PCD_SOCK" -e pc_etc="$PC_TMP/etc" \
	-e pc_share="$PC_TMP/share" >"$PC_TMP/play.log" 2>&1 ||
	pc_fail "ansible-playbook failed: $(cat "$PC_TMP/play.log")"
grep -q "^localhost *: ok=[0-9]* *changed=9 .*failed=0" "$PC_TMP/play.log" ||
	pc_fail "unexpected recap: $(cat "$PC_TMP/play.log")"
# Diff mode: the line check mode would add and present added, and the one
# absent removed, with the file's name.
[ "$(grep -c '^+allow 8443/tcp zone public comment "alt web"$' "$PC_TMP/play.log")" -eq 2 ] ||
	pc_fail "diff mode did not show the added line twice: $(cat "$PC_TMP/play.log")"
grep -q '^-allow 8443/tcp zone public comment "alt web"$' "$PC_TMP/play.log" ||
	pc_fail "diff mode did not show the removed line: $(cat "$PC_TMP/play.log")"
grep -q "^--- before: $F90" "$PC_TMP/play.log" || pc_fail "diff without the file's name"
grep -q "^-disabled$" "$PC_TMP/play.log" && grep -q "^+enabled$" "$PC_TMP/play.log" ||
	pc_fail "diff mode did not show disabled -> enabled"
grep -q "^+ rule allow 9000/tcp ($PC_TMP/etc/rules.d/20-extra.rules:1)$" "$PC_TMP/play.log" ||
	pc_fail "diff mode did not show what reloaded would change: $(cat "$PC_TMP/play.log")"

pcd_log "afterwards: the rule is gone from the file and the kernel, portctl enabled"
grep -q 8443 "$F90" && pc_fail "8443 left in 90-portctl.rules: $(cat "$F90")"
pc_expect timeout pc_probe peer tcp 10.99.7.1 8443
exit 0
