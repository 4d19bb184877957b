#!/bin/sh
# What portctl does with the words it is given, without a daemon: writing
# commands are never run from an abbreviation (refused before any
# connection).
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
readers=" exposure status zones services check explain export diff help version "
"$portctl" help | sed -n '/^Commands:/,/^$/s/^  \([a-z-]*\) .*/\1/p' >"$tmp/commands"
[ "$(wc -l <"$tmp/commands")" -ge 20 ] || fail "help lists too few commands: $(cat "$tmp/commands")"
writers=0
while read -r cmd; do
	short=${cmd%?}
	# A cut name that is itself a command is not an abbreviation.
	grep -qx -- "$short" "$tmp/commands" && continue
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

[ "$failures" -eq 0 ] || exit 1
echo "PASS"

