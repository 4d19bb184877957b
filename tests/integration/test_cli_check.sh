#!/bin/sh
# End-to-end test of the built "portctl check": exit codes 0/2/1, the
# FILE:LINE:COL format with caret and hint, the summary line and --json.
set -u

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
portctl="$top_builddir/portctl"
data="$top_srcdir/tests/data"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0

fail() {
	echo "FAIL: $*"
	failures=$((failures + 1))
}

# run EXPECTED_RC ARGS...: run portctl with the fixture dirs, keep output.
run() {
	want=$1
	shift
	"$portctl" --config "$data/lang/etc" --data-dir "$data/lang/data" "$@" \
		>"$tmp/out" 2>"$tmp/err"
	rc=$?
	[ "$rc" -eq "$want" ] || fail "portctl $* exited $rc, want $want: $(cat "$tmp/err")"
}

expect_in() {
	grep -qF -- "$2" "$1" || fail "$1 lacks '$2': $(cat "$1")"
}

# The fixture configuration and the product's example are valid.
run 0 check
expect_in "$tmp/out" "ok: 3 rules, 4 zones, 7 services"
run 0 check "$data/product-example.rules"
expect_in "$tmp/out" "ok: 12 rules, 6 zones, 7 services"

# One changed word: the error names FILE:LINE:COL, shows the line and a caret.
sed 's|allow 60000-61000/udp |allow 60000-61000/udpp |' "$data/product-example.rules" \
	>"$tmp/bad.rules"
run 2 check "$tmp/bad.rules"
expect_in "$tmp/err" "$tmp/bad.rules:14:19: error: unknown protocol 'udpp'"
expect_in "$tmp/err" "allow 60000-61000/udpp"
expect_in "$tmp/err" "                  ^~~~"
expect_in "$tmp/err" "  hint: did you mean 'udp'?"
expect_in "$tmp/err" "invalid: 1 error, 0 warnings"

# --json, before or after the command.
run 2 --json check "$tmp/bad.rules"
python3 - "$tmp/out" 2 <<'PY' || fail "json output: $(cat "$tmp/out")"
import json, sys
e = json.load(open(sys.argv[1]))
assert set(e) == {"status", "message", "data"} and e["status"] == int(sys.argv[2]), e
j = e["data"]
assert j["valid"] is False, j
e = j["errors"][0]
assert (e["line"], e["column"], e["severity"]) == (14, 19, "error"), e
assert e["message"] == "unknown protocol 'udpp'" and e["hint"] == "did you mean 'udp'?", e
PY
run 0 check --json "$data/product-example.rules"
python3 - "$tmp/out" 0 <<'PY' || fail "json output: $(cat "$tmp/out")"
import json, sys
e = json.load(open(sys.argv[1]))
assert set(e) == {"status", "message", "data"} and e["status"] == int(sys.argv[2]), e
j = e["data"]
# The example's "allow https" is "allow 443/tcp" again: a duplicate, a warning.
assert j["valid"] is True and j["rules"] == 12 and j["warning_count"] == 1, j
w = j["errors"][0]
assert (w["line"], w["column"], w["severity"]) == (16, 1, "warning"), w
assert w["message"].startswith("duplicate of ") and \
    w["message"].endswith("product-example.rules:11 'allow 443/tcp'"), w
PY

# A file that cannot be read is an I/O error, not an invalid rule.
run 1 check "$tmp/does-not-exist.rules"
expect_in "$tmp/err" "does-not-exist.rules: error: cannot read: No such file or directory"

# --rules-dir: a candidate directory checked as a whole, instead of
# CONFIG/rules.d (whose zone internal and service web are not read). A zone
# defined in one file and used in another passes, though not file by file.
mkdir "$tmp/cand"
echo 'zone dmz interface eth9' >"$tmp/cand/10-zones.rules"
echo 'allow 80/tcp zone dmz' >"$tmp/cand/20-web.rules"
echo 'not read: not a .rules file' >"$tmp/cand/README"
run 0 check --rules-dir "$tmp/cand"
expect_in "$tmp/out" "ok: 1 rule, 5 zones, 6 services"
run 2 check "$tmp/cand/20-web.rules"
expect_in "$tmp/err" "20-web.rules:1:19: error: unknown zone 'dmz'"

# A service defined in two files, each valid alone: both FILE:LINE named.
echo 'service myapp 8080/tcp' >"$tmp/cand/30-a.rules"
echo 'service myapp 8081/tcp' >"$tmp/cand/40-b.rules"
run 0 check "$tmp/cand/40-b.rules"
run 2 check --rules-dir "$tmp/cand"
expect_in "$tmp/err" "$tmp/cand/40-b.rules:1:9: error: service 'myapp' is already defined at $tmp/cand/30-a.rules:1"
run 2 --json check -r "$tmp/cand"
python3 - "$tmp/out" 2 <<'PY' || fail "json output: $(cat "$tmp/out")"
import json, sys
e = json.load(open(sys.argv[1]))
assert set(e) == {"status", "message", "data"} and e["status"] == int(sys.argv[2]), e
j = e["data"]
assert j["valid"] is False and j["error_count"] == 1, j
assert j["errors"][0]["file"].endswith("/cand/40-b.rules"), j
PY

# A missing candidate is an error (exit 1), not an empty set of rules.
run 1 check --rules-dir "$tmp/no-such-dir"
expect_in "$tmp/err" "$tmp/no-such-dir: error: cannot open directory: No such file or directory"
run 2 check --rules-dir "$tmp/cand" "$tmp/cand/30-a.rules"
expect_in "$tmp/err" "give FILE... or --rules-dir DIR, not both"
run 2 check --rules-dir

# Help everywhere, and bad usage.
run 0 check --help
expect_in "$tmp/out" "validate: portctl check %s"
expect_in "$tmp/out" "--rules-dir DIR"
run 0 help check
expect_in "$tmp/out" "usage: portctl check"
run 0 --help
expect_in "$tmp/out" "check"
run 2 frobnicate
run 2 check --bogus
run 0 --version
expect_in "$tmp/out" "portctl "

if [ "$failures" -ne 0 ]; then
	echo "$failures failure(s)"
	exit 1
fi
echo "all portctl check tests passed"
