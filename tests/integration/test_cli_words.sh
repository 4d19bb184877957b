#!/bin/sh
# What portctl does with the words it is given, without a daemon: writing
# commands are never run from an abbreviation (refused before any
# connection), "check -" reads standard input, a binary file gets one
# error, and --json prints a JSON error when portctld is unreachable.
set -u

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
portctl="$top_builddir/portctl"
data="$top_srcdir/tests/data"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# A socket that does not exist: a command that tries to connect exits 3.
nosock="$tmp/none.sock"
failures=0

fail() {
	echo "FAIL: $*"
	failures=$((failures + 1))
}

# run EXPECTED_RC ARGS...: run portctl with the fixture dirs, keep output.
run() {
	want=$1
	shift
	"$portctl" --socket "$nosock" --config "$data/lang/etc" --data-dir "$data/lang/data" "$@" \
		>"$tmp/out" 2>"$tmp/err" <"${stdin:-/dev/null}"
	rc=$?
	[ "$rc" -eq "$want" ] || fail "portctl $* exited $rc, want $want: $(cat "$tmp/err")"
}

expect_in() {
	grep -qF -- "$2" "$1" || fail "$1 lacks '$2': $(cat "$1")"
}

refusal="write it in full: commands that change rules are never abbreviated"

# The issue's example: "p on" was panic on.
run 2 p on
expect_in "$tmp/err" "portctl: 'p': did you mean 'panic'? $refusal"
[ -s "$tmp/out" ] && fail "p on printed on stdout: $(cat "$tmp/out")"
# The full name goes on to connect (and finds no daemon).
run 3 panic on
run 2 --json pan on
[ -s "$tmp/out" ] && fail "--json pan on printed on stdout: $(cat "$tmp/out")"

# Every command of the table, cut by one letter: the readers run, every
# other one (present or future) is refused before any connection.
readers=" exposure status zones services metrics check explain export diff import help version "
"$portctl" help | sed -n '/^Commands:/,/^$/s/^  \([a-z-]*\) .*/\1/p' >"$tmp/commands"
[ "$(wc -l <"$tmp/commands")" -ge 20 ] || fail "help lists too few commands: $(cat "$tmp/commands")"
writers=0
while read -r cmd; do
	short=${cmd%?}
	# A cut name that is itself a command is not an abbreviation.
	grep -qx -- "$short" "$tmp/commands" && continue
	# A cut name two commands start with ("zon": zone, zones) runs neither.
	if [ "$(grep -c -- "^$short" "$tmp/commands")" -gt 1 ]; then
		run 2 "$short"
		expect_in "$tmp/err" "portctl: ambiguous command '$short'; 'portctl help' lists them"
		continue
	fi
	case $readers in
	*" $cmd "*)
		run_rc=0
		"$portctl" --socket "$nosock" --config "$data/lang/etc" \
			--data-dir "$data/lang/data" "$short" >/dev/null 2>"$tmp/err" </dev/null ||
			run_rc=$?
		grep -qF "never abbreviated" "$tmp/err" && fail "reader '$short' refused"
		;;
	*)
		writers=$((writers + 1))
		run 2 "$short"
		expect_in "$tmp/err" "portctl: '$short': did you mean '$cmd'? $refusal"
		;;
	esac
done <"$tmp/commands"
[ "$writers" -ge 12 ] || fail "only $writers writing commands found"
# Readers keep their prefixes: "st" is status, which looks for the daemon.
run 3 st

# check -: the rules from standard input, named <stdin>.
stdin="$data/product-example.rules" run 0 check -
expect_in "$tmp/out" "ok: 12 rules, 6 zones, 7 services"
sed 's|allow 60000-61000/udp |allow 60000-61000/udpp |' "$data/product-example.rules" \
	>"$tmp/bad.rules"
stdin="$tmp/bad.rules" run 2 check -
expect_in "$tmp/err" "<stdin>:14:19: error: unknown protocol 'udpp'"
expect_in "$tmp/err" "                  ^~~~"
# From a pipe too (not a regular file), and between other files.
printf 'service web2 80/tcp\nservice web2 81/tcp\n' >"$tmp/dup.rules"
cat "$tmp/dup.rules" | "$portctl" --config "$data/lang/etc" --data-dir "$data/lang/data" \
	check "$data/product-example.rules" - >"$tmp/out" 2>"$tmp/err"
rc=$?
[ $rc -eq 2 ] || fail "check FILE - from a pipe exited $rc: $(cat "$tmp/err")"
expect_in "$tmp/err" "<stdin>:2:9: error: service 'web2' is already defined at <stdin>:1"
grep -q "/proc/\|/fd/" "$tmp/err" && fail "a stdin path leaked: $(cat "$tmp/err")"
stdin="$tmp/dup.rules" run 2 check - -
expect_in "$tmp/err" "portctl check: '-' (standard input) may be given once"

# A binary file: one error, at its first NUL byte.
for f in /bin/ls "$portctl"; do
	run 2 check "$f"
	expect_in "$tmp/err" "$f:1:8: error: not a text file: NUL byte; refusing to read it"
	[ "$(grep -c 'error:' "$tmp/err")" -eq 1 ] || fail "check $f: $(head -5 "$tmp/err")"
	expect_in "$tmp/err" "invalid: 1 error, 0 warnings"
done
stdin=/bin/ls run 2 --json check -
python3 - "$tmp/out" 2 <<'PY' || fail "json output: $(cat "$tmp/out")"
import json, sys
e = json.load(open(sys.argv[1]))
assert set(e) == {"status", "message", "data"} and e["status"] == int(sys.argv[2]), e
j = e["data"]
assert j["valid"] is False and j["error_count"] == 1, j
e = j["errors"][0]
assert (e["file"], e["line"], e["column"]) == ("<stdin>", 1, 8), e
assert e["message"] == "not a text file: NUL byte; refusing to read it", e
PY
# Not UTF-8: one error where the first bad byte is, whatever follows.
printf 'allow 22/tcp\n# caf\351\n# \351\351\n' >"$tmp/latin1.rules"
run 2 check "$tmp/latin1.rules"
expect_in "$tmp/err" "$tmp/latin1.rules:2:6: error: not UTF-8 text: byte 0xe9; refusing to read it"
[ "$(grep -c 'error:' "$tmp/err")" -eq 1 ] || fail "latin1: $(cat "$tmp/err")"
# The other files are still checked.
run 2 check /bin/ls "$tmp/bad.rules"
expect_in "$tmp/err" "$tmp/bad.rules:14:19: error: unknown protocol 'udpp'"
expect_in "$tmp/err" "invalid: 2 errors, 0 warnings"

# --json with the daemon unreachable: the answer's envelope, on stdout.
for cmd in status "allow 22/tcp" "ban 192.0.2.1" reload export diff metrics zones; do
	# shellcheck disable=SC2086 # the command's words
	run 3 --json $cmd
	python3 - "$tmp/out" "$nosock" <<'PY' || fail "--json $cmd: $(cat "$tmp/out")"
import json, sys
j = json.load(open(sys.argv[1]))
assert j == {"status": 3, "message": "cannot reach portctld at %s: No such file or directory"
             % sys.argv[2], "data": None}, j
PY
	expect_in "$tmp/err" "Is the daemon running?"
done
# The commands the CLI answers itself wear the same envelope.
run 0 --json version
run_json() {
	python3 - "$tmp/out" "$@" <<'PY' || fail "--json envelope: $(cat "$tmp/out")"
import json, sys
e = json.load(open(sys.argv[1]))
assert list(e) == ["status", "message", "data"] and e["status"] == int(sys.argv[2]), e
assert eval(sys.argv[3], {"d": e["data"], "m": e["message"]}), e
PY
}
run_json 0 "d['version'] != ''"
run 0 --json explain in tcp 22
run_json 0 "d['configuration'] == 'files' and d['port'] == 22"
run 2 --json check "$tmp/bad.rules"
run_json 2 "m == 'invalid' and d['error_count'] == 1"
# Without --json, nothing on stdout.
run 3 status
[ -s "$tmp/out" ] && fail "status printed on stdout: $(cat "$tmp/out")"

[ "$failures" -eq 0 ] || exit 1
echo "PASS"
