#!/bin/sh
# portctl metrics against a real daemon and real traffic: the rule that
# decided the packets counts them, promtool (Debian's prometheus) accepts
# the text, an unprivileged user may read it like status, a comment with
# quotes, a backslash and a newline comes back intact through the label
# escaping, counters do not go down across unrelated changes, bans, the
# last change's result and a drift repair show, and --output replaces its
# file at once.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon-lib.sh"
pc_require
# CI installs prometheus (tools/deps.sh): without promtool this fails.
command -v promtool >/dev/null || pc_fail "needs promtool (apt-get install prometheus)"
pcd_setup
# Not the table's owner, so that nft may change it: drift, below.
pc_config_write portctl.conf "socket-group = $PCD_GROUP" "socket-mode = 0666" "table-owner = no"

pc_config_write 20-web.rules \
	'allow 1500/tcp comment "web \"front\" C:\\dir\nline2"' \
	'allow 3000/tcp'
pcd_start
pc_listen host tcp:1500 tcp:3000
WEB="$PC_TMP/etc/rules.d/20-web.rules"

# metrics_get FILE NAME LABEL=VALUE...: the sample of NAME whose labels
# (unescaped) include those; its value, or "" when there is none. Fails
# when more than one matches.
metrics_get() {
	python3 - "$@" <<'PY'
import re, sys
path, name, want = sys.argv[1], sys.argv[2], dict(a.split("=", 1) for a in sys.argv[3:])
unesc = lambda v: re.sub(r'\\(.)', lambda m: {"n": "\n"}.get(m.group(1), m.group(1)), v)
found = []
for line in open(path, encoding="utf-8"):
    m = re.match(r'([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$', line.rstrip("\n"))
    if not m or m.group(1) != name:
        continue
    labels = {k: unesc(v) for k, v in re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(2) or "")}
    if all(labels.get(k) == v for k, v in want.items()):
        found.append(m.group(3))
if len(found) > 1:
    sys.exit(f"{len(found)} samples of {name} match {want}")
print(found[0] if found else "")
PY
}

metrics_read() {
	"$PCD_PORTCTL" -s "$PCD_SOCK" metrics >"$PC_TMP/$1.prom" || pc_fail "portctl metrics"
	promtool check metrics <"$PC_TMP/$1.prom" >"$PC_TMP/promtool.out" 2>&1 ||
		{ cat "$PC_TMP/promtool.out" >&2; pc_fail "promtool check metrics refused $1.prom"; }
}

pcd_log "traffic to 1500 is counted on its rule, with its labels"
pc_expect open pc_probe peer tcp 10.99.7.1 1500
metrics_read traffic
comment='web "front" C:\dir
line2'
web=$(metrics_get "$PC_TMP/traffic.prom" portctl_rule_packets_total "source=$WEB:1" \
	zone=public direction=in "comment=$comment")
[ "${web:-0}" -gt 0 ] || pc_fail "the 1500 rule counted '$web' packets"
bytes=$(metrics_get "$PC_TMP/traffic.prom" portctl_rule_bytes_total "source=$WEB:1")
[ "${bytes:-0}" -gt 0 ] || pc_fail "the 1500 rule counted '$bytes' bytes"
other=$(metrics_get "$PC_TMP/traffic.prom" portctl_rule_packets_total "source=$WEB:2" \
	"rule=allow 3000/tcp" comment=)
[ "$other" = 0 ] || pc_fail "the 3000 rule counted '$other', it decided nothing"
# The escaping itself, as bytes: \" \\ and \n, the newline not raw.
grep -qF 'comment="web \"front\" C:\\dir\nline2"}' "$PC_TMP/traffic.prom" ||
	pc_fail "the comment label is not escaped as the text format wants"
[ "$(metrics_get "$PC_TMP/traffic.prom" portctl_last_apply_success)" = 1 ] ||
	pc_fail "the start-up's apply is not a success"
[ "$(metrics_get "$PC_TMP/traffic.prom" portctl_info source=files)" = 1 ] ||
	pc_fail "no portctl_info from the files"

pcd_log "an unprivileged user outside the group reads them, like status"
pcd_as_other metrics >"$PC_TMP/other.prom" || pc_fail "metrics as an unprivileged user"
n=$(metrics_get "$PC_TMP/other.prom" portctl_rule_packets_total "source=$WEB:1")
[ "${n:-0}" -ge "$web" ] || pc_fail "the unprivileged user saw '$n' packets, root $web"

pcd_log "unrelated changes (a CLI rule, a new file, a ban) leave the counter growing"
"$PCD_PORTCTL" -s "$PCD_SOCK" allow 8080/tcp >/dev/null || pc_fail "allow 8080/tcp"
pc_config_write 30-more.rules 'allow 4000/udp'
"$PCD_PORTCTL" -s "$PCD_SOCK" reload >/dev/null || pc_fail "reload"
"$PCD_PORTCTL" -s "$PCD_SOCK" ban 10.99.9.9 >/dev/null || pc_fail "ban"
metrics_read changed
after=$(metrics_get "$PC_TMP/changed.prom" portctl_rule_packets_total "source=$WEB:1")
[ -n "$after" ] && [ "$after" -ge "$web" ] ||
	pc_fail "the 1500 rule's counter went from $web to '$after' across unrelated changes"
[ "$(metrics_get "$PC_TMP/changed.prom" portctl_rule_packets_total 'rule=allow 4000/udp')" = 0 ] ||
	pc_fail "the new file's rule is not in the metrics"
[ "$(metrics_get "$PC_TMP/changed.prom" portctl_bans 'zone=*')" = 1 ] ||
	pc_fail "the ban is not counted"
ok=$(metrics_get "$PC_TMP/changed.prom" portctl_applies_total result=ok)
[ "${ok:-0}" -ge 4 ] || pc_fail "start, allow, reload and ban counted as '$ok' applies"

pcd_log "a refused change: last apply failed, counted, the rules stay"
"$PCD_PORTCTL" -s "$PCD_SOCK" allow 99999/tcp >/dev/null 2>&1 && pc_fail "allow 99999/tcp"
metrics_read refused
[ "$(metrics_get "$PC_TMP/refused.prom" portctl_last_apply_success)" = 0 ] ||
	pc_fail "a refused rule left portctl_last_apply_success at 1"
[ "$(metrics_get "$PC_TMP/refused.prom" portctl_applies_total result=failed)" = 1 ] ||
	pc_fail "the refused rule is not counted as failed"

pcd_log "--output: the file replaced whole, no temporary left, readable by all"
mkdir "$PC_TMP/textfile"
echo 'stale 1' >"$PC_TMP/textfile/portctl.prom"
pcd_as_other metrics --output "$PC_TMP/textfile/portctl.prom" 2>/dev/null &&
	pc_fail "an unprivileged user wrote into a directory it may not write"
"$PCD_PORTCTL" -s "$PCD_SOCK" metrics --output "$PC_TMP/textfile/portctl.prom" ||
	pc_fail "metrics --output"
[ "$(ls "$PC_TMP/textfile")" = portctl.prom ] || pc_fail "left: $(ls "$PC_TMP/textfile")"
[ "$(stat -c %a "$PC_TMP/textfile/portctl.prom")" = 644 ] || pc_fail "not mode 644"
grep -q '^stale' "$PC_TMP/textfile/portctl.prom" && pc_fail "the old text is still there"
promtool check metrics <"$PC_TMP/textfile/portctl.prom" || pc_fail "promtool refused --output's file"
[ -n "$(metrics_get "$PC_TMP/textfile/portctl.prom" portctl_rule_packets_total "source=$WEB:1")" ] ||
	pc_fail "--output's file lacks the rules"
pcd_log "drift: a rule someone else added is found, repaired and counted"
drift_counted() {
	"$PCD_PORTCTL" -s "$PCD_SOCK" metrics >"$PC_TMP/drift.prom" &&
		[ "$(metrics_get "$PC_TMP/drift.prom" portctl_drift_repairs_total)" = 1 ]
}
pc_in host nft add rule inet portctl in_public tcp dport 9999 accept || pc_fail "nft add rule"
pc_until 15 drift_counted || pc_fail "no drift repair counted: $(tail -3 "$PC_TMP/portctld.log")"
[ "$(metrics_get "$PC_TMP/drift.prom" portctl_drift_detected_total)" = 1 ] ||
	pc_fail "the drift is not counted as found"
exit 0
