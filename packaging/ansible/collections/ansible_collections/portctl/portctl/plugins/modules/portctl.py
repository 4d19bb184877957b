#!/usr/bin/python
# -*- coding: utf-8 -*-
# The portctl module: rules present or absent (by meaning), reload, enable
# and disable, through the portctl command line, so that every change takes
# portctld's one path (one transaction, the lock-out guard, the rules file
# written only over what portctld read).
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: portctl
short_description: Manage portctl host firewall rules, reload, enable and disable
version_added: "0.1.0"
description:
  - Adds and removes rules of the portctl host firewall (nftables table C(inet portctl),
    managed by the C(portctld) daemon), and reloads, enables or disables it.
  - Every change goes through the C(portctl) command line, so it is applied in one
    transaction, checked by the lock-out guard against the SSH session Ansible runs over
    (C(SSH_CONNECTION)), and persisted in C(rules.d/90-portctl.rules).
  - Rules are compared by meaning, as C(portctl) compares them, so C(allow in 443/tcp zone
    public) is the rule C(allow 443/tcp) when C(public) is the default zone. A rule that is
    already present is not added again (C(changed=false)); one that is absent is not an
    error.
options:
  rule:
    description:
      - A rule as it is written after C(portctl) on the command line (or on a line of a
        rules file), its action first, for example C(allow 443/tcp), C(deny from
        203.0.113.7), C(limit ssh), C(allow out 53 zone internal).
      - Required when I(state) is C(present) or C(absent); not allowed otherwise.
      - A rule C(portctl) refuses fails the task with its message (C(FILE:LINE:COL) and a
        hint) and changes nothing.
    type: str
  zone:
    description:
      - Add C(zone ZONE) to I(rule) (a zone name, or several separated by commas).
    type: str
  comment:
    description:
      - Add C(comment "COMMENT") to I(rule). With I(state=absent) only a rule with this
        comment is removed; without it, a rule with any comment is.
    type: str
  state:
    description:
      - C(present) adds I(rule) unless a rule that means the same is in force;
        C(absent) deletes the rule that means I(rule), if any.
      - C(reloaded) has C(portctld) read its configuration again and apply it in one
        transaction when that changes something (as C(portctl diff) says), so a second run
        reports no change.
      - C(disabled) takes table C(inet portctl) out of the kernel (C(portctl disable); it
        stays disabled across restarts of C(portctld)); C(enabled) puts rules and bans back
        (C(portctl enable)).
    type: str
    choices: [present, absent, reloaded, enabled, disabled]
    default: present
  force:
    description:
      - Pass C(--force) to C(portctl) (rule changes, C(reloaded), C(enabled)), making a
        change the lock-out guard would refuse because it cuts the SSH session Ansible runs
        over.
    type: bool
    default: false
  executable:
    description:
      - The C(portctl) program to run; by default C(portctl) from C(PATH).
    type: path
  socket:
    description:
      - The socket of C(portctld) (C(portctl --socket)); by default C(portctl)'s,
        C(/run/portctl/portctl.sock).
    type: path
  config:
    description:
      - The configuration directory (C(portctl --config)); its C(rules.d/90-portctl.rules)
        is the file shown in diff mode.
    type: path
    default: /etc/portctl
  data_dir:
    description:
      - The directory of the shipped files (C(portctl --data-dir)); by default
        C(portctl)'s.
    type: path
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without
      modifying the target.
    support: full
    details:
      - Rule changes are checked by C(portctld) exactly as they would be made
        (C(portctl --dry-run)), the lock-out guard included, so a bad rule fails in check
        mode too.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in
      check_mode), when in diff mode.
    support: full
    details:
      - For rules, C(90-portctl.rules) before and after; for C(reloaded), what
        C(portctl diff) lists; for C(enabled) and C(disabled), the state.
notes:
  - Runs C(portctl) on the managed host, which needs C(portctld) running and root or
    membership in the socket's group (C(socket-group) in C(portctl.conf)).
  - To deploy whole rules files, see the playbook C(portctl-rules.yml) shipped beside this
    collection, which validates them together before it installs them.
requirements:
  - portctl (C(portctl) and a running C(portctld)) on the managed host
author:
  - portctl developers
"""

EXAMPLES = r"""
- name: Allow HTTPS
  portctl.portctl.portctl:
    rule: allow 443/tcp
    comment: web

- name: Allow the internal zone to reach PostgreSQL from one network
  portctl.portctl.portctl:
    rule: allow 5432/tcp from 10.0.0.0/8
    zone: internal

- name: No telnet, in whatever words it was added
  portctl.portctl.portctl:
    rule: allow in 23/tcp zone public
    state: absent

- name: Apply hand-edited rules files
  portctl.portctl.portctl:
    state: reloaded

- name: Take portctl's table out of the kernel (kept across restarts)
  portctl.portctl.portctl:
    state: disabled
"""

RETURN = r"""
msg:
  description: What C(portctl) answered (for a refused rule, the error with its place and
    hint).
  returned: always
  type: str
  sample: "rule added: allow 443/tcp comment \"web\""
rule:
  description: The rule sent to C(portctl), I(zone) and I(comment) included.
  returned: when I(rule) was given
  type: str
  sample: allow 443/tcp comment web
command:
  description: The last C(portctl) command run.
  returned: always
  type: list
  elements: str
  sample: ["portctl", "--json", "allow", "--dry-run", "443/tcp"]
rc:
  description: Its exit status (0 ok, 1 failure, 2 bad usage or bad rule, 3 daemon
    unreachable, 4 permission denied); 0 for an absent rule that was not there.
  returned: always
  type: int
  sample: 0
"""

import json
import os
import shlex

from ansible.module_utils.basic import AnsibleModule

ACTIONS = ("allow", "deny", "reject", "limit")
CLI_FILE = "90-portctl.rules"


class Portctl(object):
    """The portctl command line, with the module's global options."""

    def __init__(self, module):
        self.module = module
        p = module.params
        self.base = [p["executable"] or module.get_bin_path("portctl", required=True)]
        for opt, key in (("--socket", "socket"), ("--config", "config"),
                         ("--data-dir", "data_dir")):
            if p[key]:
                self.base += [opt, p[key]]
        self.base.append("--json")
        self.result = {"changed": False, "msg": "", "rc": 0, "command": []}

    def run(self, argv):
        """Run portctl; its exit status, JSON reply ({} if none) and message."""
        cmd = self.base + argv
        rc, out, err = self.module.run_command(cmd)
        try:
            reply = json.loads(out) if out.strip() else {}
        except ValueError:
            reply = {}
        msg = reply.get("message") or err.strip() or out.strip()
        self.result.update(rc=rc, command=cmd, msg=msg)
        return rc, reply, msg

    def fail(self):
        self.module.fail_json(**self.result)

    def call(self, argv):
        """Run portctl; fail the task with its message unless it succeeded."""
        rc, reply, msg = self.run(argv)
        if rc != 0:
            self.fail()
        return reply


def rules_file(module):
    return os.path.join(module.params["config"] or "/etc/portctl", "rules.d", CLI_FILE)


def read_text(path):
    try:
        with open(path) as f:
            return f.read()
    except (IOError, OSError):
        return ""


def rule_words(module):
    p = module.params
    try:
        words = shlex.split(p["rule"])
    except ValueError as e:
        module.fail_json(msg="rule: %s" % e, rule=p["rule"])
    if not words or words[0] not in ACTIONS:
        module.fail_json(msg="rule must start with %s, e.g. 'allow 443/tcp'"
                         % ", ".join(ACTIONS), rule=p["rule"])
    if p["zone"]:
        words += ["zone", p["zone"]]
    if p["comment"]:
        words += ["comment", p["comment"]]
    return words


def options(module, dry_run_ok=True):
    opts = []
    if module.check_mode and dry_run_ok:
        opts.append("--dry-run")
    if module.params["force"]:
        opts.append("--force")
    return opts


def rule_change(module, pc):
    """present: add unless present; absent: delete if present."""
    words = rule_words(module)
    pc.result["rule"] = " ".join(shlex.quote(w) for w in words)
    path = rules_file(module)
    before = read_text(path)
    if module.params["state"] == "present":
        argv = [words[0]] + options(module) + ["--"] + words[1:]
    else:
        argv = ["delete"] + options(module) + ["--"] + words
    rc, reply, msg = pc.run(argv)
    if rc == 0:
        pc.result["changed"] = not msg.startswith("already present at ")
    elif module.params["state"] == "absent" and rc == 2 and msg.startswith("no rule matches"):
        # Not there: what absent asks for (Ansible takes rc != 0 for a failure).
        pc.result.update(changed=False, rc=0)
    else:
        pc.fail()
    if module._diff and pc.result["changed"]:
        if module.check_mode:
            after = ((reply.get("data") or {}).get("text"))
            after = before if after is None else after
        else:
            after = read_text(path)
        pc.result["diff"] = {"before": before, "after": after,
                             "before_header": path, "after_header": path}


def reload(module, pc):
    """Reload when portctl diff says that it changes something."""
    # portctl diff exits 1 when there are differences, as diff(1) does.
    rc, reply, msg = pc.run(["diff"])
    data = reply.get("data")
    if rc not in (0, 1) or not isinstance(data, dict):
        pc.fail()
    pc.result.update(rc=0, msg="" if data.get("equal") else "would reload")
    changes = data.get("changes") or []
    pc.result["changed"] = not data.get("equal", False)
    if module._diff and pc.result["changed"]:
        lines = ["%s %s %s (%s:%s)" % (c.get("op"), c.get("kind"), c.get("text"),
                                       c.get("file"), c.get("line")) for c in changes]
        if not (data.get("kernel") or {}).get("matches", True):
            lines.append("~ the kernel's table differs from what portctld applied")
        pc.result["diff"] = {"prepared": "\n".join(lines) + "\n"}
    if pc.result["changed"] and not module.check_mode:
        pc.call(["reload"] + options(module, dry_run_ok=False))
    elif not pc.result["changed"]:
        pc.result["msg"] = "nothing to reload: the files are what the kernel holds"


def enable(module, pc):
    want_disabled = module.params["state"] == "disabled"
    data = pc.call(["status"]).get("data") or {}
    disabled = bool(data.get("disabled", False))
    pc.result["changed"] = disabled != want_disabled
    if module._diff and pc.result["changed"]:
        pc.result["diff"] = {"before": "disabled\n" if disabled else "enabled\n",
                             "after": "disabled\n" if want_disabled else "enabled\n"}
    if pc.result["changed"] and not module.check_mode:
        if want_disabled:
            pc.call(["disable"])
        else:
            pc.call(["enable"] + options(module, dry_run_ok=False))
    elif pc.result["changed"]:
        pc.result["msg"] = "would %s portctl" % ("disable" if want_disabled else "enable")


def main():
    module = AnsibleModule(
        argument_spec=dict(
            rule=dict(type="str"),
            zone=dict(type="str"),
            comment=dict(type="str"),
            state=dict(type="str", default="present",
                       choices=["present", "absent", "reloaded", "enabled", "disabled"]),
            force=dict(type="bool", default=False),
            executable=dict(type="path"),
            socket=dict(type="path"),
            config=dict(type="path", default="/etc/portctl"),
            data_dir=dict(type="path"),
        ),
        required_if=[("state", "present", ("rule",)), ("state", "absent", ("rule",))],
        supports_check_mode=True,
    )
    state = module.params["state"]
    if state not in ("present", "absent") and (module.params["rule"] or module.params["zone"]
                                               or module.params["comment"]):
        module.fail_json(msg="rule, zone and comment go with state present or absent, "
                             "not %s" % state)
    pc = Portctl(module)
    if state in ("present", "absent"):
        rule_change(module, pc)
    elif state == "reloaded":
        reload(module, pc)
    else:
        enable(module, pc)
    module.exit_json(**pc.result)


if __name__ == "__main__":
    main()
