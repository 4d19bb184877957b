# Helpers for the apply --confirm, lock-out guard and panic tests (sourced
# after lib.sh and daemon-lib.sh).

# No session unless a test sets one: an SSH_CONNECTION of the shell running
# the tests must not reach portctl (empty: portctl looks no further).
SSH_CONNECTION=""
export SSH_CONNECTION

# tw_status_field FIELD: a top-level field of status --json's data ("" if absent).
tw_status_field() {
	"$PCD_PORTCTL" -s "$PCD_SOCK" --json status >"$PC_TMP/status.json" 2>/dev/null ||
		{ echo ""; return; }
	python3 - "$PC_TMP/status.json" "$1" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))["data"]
v = d.get(sys.argv[2], "")
print(json.dumps(v) if isinstance(v, (bool, dict, list)) else v)
PY
}

# tw_wait CMD...: until CMD succeeds, at most 15 s (an upper bound for a
# slow machine, not a measurement).
tw_wait() {
	for _ in $(seq 150); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}

tw_source_is() {
	[ "$(tw_status_field source)" = "$1" ]
}
