# Helpers for the serve-mode tests (sourced after lib.sh): a test group,
# portctld started in the host namespace, portctl run as a member of the
# group and as an outsider, and queries of status and the kernel table.

PCD_PORTCTL="$top_builddir/portctl"
PCD_GROUP="pct$$"
PCD_PID=""

pcd_log() {
	pc_log "$*"
}

pcd_cleanup() {
	rc=$?
	if [ -n "$PCD_PID" ]; then
		kill "$PCD_PID" 2>/dev/null && wait "$PCD_PID" 2>/dev/null
	fi
	getent group "$PCD_GROUP" >/dev/null && groupdel "$PCD_GROUP"
	(exit $rc)
	pc_cleanup
}

# Namespaces host and peer on a veth link, a group for writers, settings.
pcd_setup() {
	[ -x "$PCD_PORTCTL" ] || pc_skip "portctl not built at $PCD_PORTCTL"
	command -v setpriv >/dev/null || pc_skip "needs setpriv"
	command -v groupadd >/dev/null || pc_skip "needs groupadd"
	# A run killed before its cleanup leaves its group behind; a later run
	# with the same pid takes another name rather than failing.
	for _ in 1 2 3 4 5; do
		getent group "$PCD_GROUP" >/dev/null || break
		PCD_GROUP="pct$$r$RANDOM"
	done
	groupadd "$PCD_GROUP" || pc_fail "groupadd $PCD_GROUP"
	trap pcd_cleanup EXIT
	PCD_GID=$(getent group "$PCD_GROUP" | cut -d: -f3)
	PCD_SOCK="$PC_TMP/run/portctl.sock"
	pc_ns_add host
	pc_ns_add peer
	pc_link host vh 10.99.7.1 fd99:7::1 peer vp 10.99.7.2 fd99:7::2
	pc_config_write portctl.conf "socket-group = $PCD_GROUP" "socket-mode = 0666"
	chmod 755 "$PC_TMP"
}

pcd_start() {
	# shellcheck disable=SC2046
	nsenter --net="/run/netns/$(pc_ns host)" "$PC_PORTCTLD" $(pc_portctld_args) --socket "$PCD_SOCK" \
		2>>"$PC_TMP/portctld.log" &
	PCD_PID=$!
	for _ in $(seq 100); do
		# status, not version: version is answered by portctl itself.
		"$PCD_PORTCTL" -s "$PCD_SOCK" status >/dev/null 2>&1 && return 0
		kill -0 "$PCD_PID" 2>/dev/null || break
		sleep 0.05
	done
	cat "$PC_TMP/portctld.log" >&2
	pc_fail "portctld did not start"
}

pcd_stop() {
	kill "$PCD_PID" && wait "$PCD_PID"
	PCD_PID=""
}

# portctl as uid 65534 in the writers' group, and outside it.
pcd_as_member() {
	setpriv --reuid 65534 --regid 65534 --groups "$PCD_GID" \
		"$PCD_PORTCTL" -s "$PCD_SOCK" "$@"
}

pcd_as_other() {
	setpriv --reuid 65534 --regid 65534 --clear-groups "$PCD_PORTCTL" -s "$PCD_SOCK" "$@"
}

# pcd_nft_has PORT: True when a set element or a rule's match of table
# inet portctl carries that port. nft 1.0.6 prints the JSON of a table whose
# flags are "persist" alone (its owner gone) cut short: then the text.
pcd_nft_has() {
	pc_in host nft -j list table inet portctl >"$PC_TMP/table.json" 2>/dev/null ||
		{ echo False; return; }
	python3 -c 'import json, sys; json.load(open(sys.argv[1]))' "$PC_TMP/table.json" 2>/dev/null || {
		if pc_in host nft list table inet portctl | grep -Eq "(dport|proto-dst|\.) $1( |,|$)"
		then echo True; else echo False; fi
		return
	}
	python3 - "$PC_TMP/table.json" "$1" <<'PY'
import json, sys
port = int(sys.argv[2])
def has(o):
    if isinstance(o, dict):
        if port in (o.get("concat") or []) or o.get("right") == port:
            return True
        return any(has(v) for v in o.values())
    if isinstance(o, list):
        return any(has(v) for v in o)
    return False
print(has(json.load(open(sys.argv[1]))["nftables"]))
PY
}

# pcd_rule_field TEXT FIELD: a field of the rule with that text in status --json.
pcd_rule_field() {
	"$PCD_PORTCTL" -s "$PCD_SOCK" --json status >"$PC_TMP/status.json" ||
		pc_fail "status --json"
	python3 - "$PC_TMP/status.json" "$1" "$2" <<'PY'
import json, sys
rules = json.load(open(sys.argv[1]))["data"]["rules"]
print(next((r[sys.argv[3]] for r in rules if r["text"] == sys.argv[2]), ""))
PY
}

# pcd_counters FILE: every rule's packets, one "FILE|TEXT PACKETS" a line
# (a line number changes when a line above it comes or goes; the rule
# stays the same).
pcd_counters() {
	pcd_as_member status --json >"$PC_TMP/status.json" || pc_fail "status --json"
	python3 - "$PC_TMP/status.json" >"$1" <<'PY' || pc_fail "cannot read status --json"
import json, os, sys
for r in json.load(open(sys.argv[1]))["data"]["rules"]:
    print("%s|%s %d" % (os.path.basename(r["file"]), r["text"], r["packets"]))
PY
}

# pcd_in_place CMD...: portctl CMD as a member commits exactly once, in
# place (the daemon logs at level debug).
pcd_in_place() {
	: >"$PC_TMP/portctld.log"
	pc_monitor_start host "$PC_TMP/monitor"
	pcd_as_member "$@" >"$PC_TMP/out" 2>&1 || pc_fail "portctl $*: $(cat "$PC_TMP/out")"
	pc_monitor_stop
	n=$(grep -c "^# new generation .*(portctld)" "$PC_TMP/monitor")
	[ "$n" -eq 1 ] || pc_fail "$*: $n transactions: $(head -c 2000 "$PC_TMP/monitor")"
	grep -qE "in place: (added|deleted) " "$PC_TMP/portctld.log" ||
		pc_fail "$*: not in place: $(cat "$PC_TMP/portctld.log")"
}

# pcd_by_rule TEXT: the rule TEXT is kernel rules of its own (no set) in
# a block of in_public (in_public_B...), as a small run among many is.
pcd_by_rule() {
	pc_in host nft list table inet portctl |
		awk -v c="comment \"$1\"" '/^\tchain / { ch = $2 } index($0, c) { print ch }' |
		grep -q '^in_public_B' || pc_fail "'$1' is not a rule of its own in a block of in_public"
}

# pcd_bans_file: the path of a file holding the bans the state directory
# keeps, as portctld reads them at start: bans.json with bans.journal's
# records replayed over it when the journal follows its generation.
pcd_bans_file() {
	python3 "$top_srcdir/tests/integration/bans_saved.py" "$PC_TMP/state" \
		>"$PC_TMP/bans.saved.json"
	echo "$PC_TMP/bans.saved.json"
}
