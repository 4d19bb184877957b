#!/bin/sh
# portctl ban / unban: options before or after the address (fail2ban puts
# them after), durations, unban --all, and the requests as protocol.md
# says (address, zone, timeout in seconds, all), against a stand-in daemon.
# A not-banned unban is the daemon's "OK": exit 0 with its sentence.
set -u
: "${top_builddir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_srcdir:=$top_builddir}"
PORTCTL="$top_builddir/portctl"
command -v python3 >/dev/null 2>&1 || { echo "SKIP: needs python3"; exit 77; }
TMP=$(mktemp -d "${TMPDIR:-/tmp}/portctl-cli-ban.XXXXXX")
PID=""
cleanup() {
	[ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT
fail() {
	echo "FAIL: test_cli_ban: $*" >&2
	exit 1
}

mkfifo "$TMP/ready"
python3 "$top_srcdir/tests/integration/fake_daemon.py" "$TMP/sock" "$TMP/log" \
	"203.0.113.9 was not banned" >"$TMP/ready" &
PID=$!
read -r _ <"$TMP/ready" || fail "the stand-in daemon did not start"
P() { "$PORTCTL" -s "$TMP/sock" "$@"; }

P ban 203.0.113.7 || fail "ban ADDR"
P ban 2001:db8::/48 --zone public --timeout 10m || fail "ban ADDR --zone --timeout"
P ban --timeout 2h --zone dmz 198.51.100.0/24 || fail "ban --timeout --zone ADDR"
P ban --zone=dmz 192.0.2.1 --timeout=1d || fail "ban --zone=Z ADDR --timeout=D"
P ban 192.0.2.2 --timeout 600 || fail "ban --timeout SECONDS"
P unban 203.0.113.9 >"$TMP/out" || fail "unban of an address not banned exited $?"
grep -q "203.0.113.9 was not banned" "$TMP/out" || fail "unban said: $(cat "$TMP/out")"
P unban 2001:db8::/48 --zone public || fail "unban ADDR --zone"
P unban --all || fail "unban --all"

python3 - "$TMP/log" <<'PY' || fail "the requests differ (above)"
import json, sys
want = [
    {"cmd": "ban", "args": {"address": "203.0.113.7"}},
    {"cmd": "ban", "args": {"address": "2001:db8::/48", "zone": "public", "timeout": 600}},
    {"cmd": "ban", "args": {"address": "198.51.100.0/24", "zone": "dmz", "timeout": 7200}},
    {"cmd": "ban", "args": {"address": "192.0.2.1", "zone": "dmz", "timeout": 86400}},
    {"cmd": "ban", "args": {"address": "192.0.2.2", "timeout": 600}},
    {"cmd": "unban", "args": {"address": "203.0.113.9"}},
    {"cmd": "unban", "args": {"address": "2001:db8::/48", "zone": "public"}},
    {"cmd": "unban", "args": {"all": True}},
]
got = [json.loads(l) for l in open(sys.argv[1])]
if got != want:
    for g, w in zip(got + [None] * len(want), want + [None] * len(got)):
        print("got ", g, "\nwant", w, file=sys.stderr)
    sys.exit(1)
PY

# Usage errors: exit 2, nothing sent.
before=$(grep -c . "$TMP/log")
for args in "ban" "ban 192.0.2.1 192.0.2.2" "ban 192.0.2.1 --timeout 0" \
	"ban 192.0.2.1 --timeout 10x" "ban 192.0.2.1 --timeout 3651d" "ban --all" \
	"unban" "unban --all 192.0.2.1" "unban --all --zone public" "unban 192.0.2.1 --timeout 5"; do
	# shellcheck disable=SC2086
	P $args 2>"$TMP/err"
	rc=$?
	[ $rc -eq 2 ] || fail "'portctl $args' exited $rc, not 2"
	grep -q "portctl" "$TMP/err" || fail "'portctl $args' said nothing"
done
[ "$(grep -c . "$TMP/log")" = "$before" ] || fail "a usage error reached the daemon"
echo "ok: ban/unban requests and usage errors"
exit 0
