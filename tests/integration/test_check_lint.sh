#!/bin/sh
# "portctl check" lint: a rule that can never match names the earlier rule
# that decides all of its traffic; duplicates are named; warnings exit 0,
# --strict makes them errors (exit 2); rate, limit and partial overlaps
# shadow nothing; defaults.rules is not linted (it is there to be overridden).
set -u

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
portctl="$top_builddir/portctl"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() {
	echo "FAIL: $*"
	failures=$((failures + 1))
}
mkdir -p "$tmp/etc/rules.d"
# lint EXPECTED_RC [--strict] LINE...: check a file of these lines.
lint() {
	want=$1
	shift
	strict=
	[ "$1" = --strict ] && strict=--strict && shift
	printf '%s\n' "$@" >"$tmp/t.rules"
	(cd "$tmp" && "$portctl" --config "$tmp/etc" --data-dir "$top_srcdir/rules" check \
		$strict t.rules >out 2>err)
	rc=$?
	[ "$rc" -eq "$want" ] || fail "check $*: exit $rc, want $want: $(cat "$tmp/err")"
}
warnings() { grep -c ": warning: " "$tmp/err"; }
expect() { grep -qxF -- "$1" "$tmp/err" || fail "no line '$1' in: $(cat "$tmp/err")"; }
clean() { [ "$(warnings)" = 0 ] || fail "unexpected warning for '$1': $(cat "$tmp/err")"; }

lint 0 'allow from 10.0.0.0/8' 'deny from 10.0.1.100'
expect "t.rules:2:1: warning: never matches: t.rules:1 'allow from 10.0.0.0/8' decides all of its traffic first"
expect "  hint: move it above, or narrow the earlier rule"
grep -q "^ok: 2 rules" "$tmp/out" || fail "summary: $(cat "$tmp/out")"
lint 2 --strict 'allow from 10.0.0.0/8' 'deny from 10.0.1.100'
grep -q "^invalid: 0 errors, 1 warning" "$tmp/err" || fail "strict: $(cat "$tmp/err")"

lint 0 'allow 22/tcp' 'allow 22/tcp comment "again"' 'allow ssh'
expect "t.rules:2:1: warning: duplicate of t.rules:1 'allow 22/tcp'"
expect "t.rules:3:1: warning: duplicate of t.rules:1 'allow 22/tcp'"

# Ports: the earlier rule's ranges together cover; another protocol does not.
lint 0 'deny 1000-2000/tcp' 'allow 1500-1800' 'reject 1500-1800/tcp from 192.0.2.0/24'
expect "t.rules:3:1: warning: never matches: t.rules:1 'deny 1000-2000/tcp' decides all of its traffic first"
[ "$(warnings)" = 1 ] || fail "udp half of 1500-1800 is not covered: $(cat "$tmp/err")"
lint 0 'allow 80,81/tcp' 'deny 80-81/tcp' 'allow 53' 'deny 53/udp from 192.0.2.1'
[ "$(warnings)" = 2 ] || fail "unions: $(cat "$tmp/err")"
# Zones and directions: only the same ones.
lint 0 'zone a interface eth1' 'allow 22/tcp zone a' 'deny 22/tcp' 'deny out 22/tcp zone a'
clean "other zone, other direction"
lint 0 'zone a interface eth1' 'allow 22/tcp zone a,public' 'deny 22/tcp zone a'
expect "t.rules:3:1: warning: never matches: t.rules:2 'allow 22/tcp zone a,public' decides all of its traffic first"
# Rate and limit decide only part of their traffic: no warning.
lint 0 'allow 22/tcp rate 10/second' 'deny 22/tcp' 'limit 80/tcp' 'deny 80/tcp from 192.0.2.1'
clean "rate and limit"
# A narrower earlier rule, or disjoint addresses: no warning.
lint 0 'allow 22/tcp from 10.0.0.0/8' 'deny 22/tcp' 'deny from 2001:db8::/32' 'allow from 10.1.0.0/16'
clean "narrower first"
# Protocol rules and source ports.
lint 0 'deny icmp' 'allow icmp echo-request from 192.0.2.1' 'allow icmpv6 echo-request' \
	'deny from any port 53/udp' 'allow 5353/udp from 192.0.2.1 port 53' 'allow proto gre' 'deny proto esp'
expect "t.rules:2:1: warning: never matches: t.rules:1 'deny icmp' decides all of its traffic first"
expect "t.rules:5:1: warning: never matches: t.rules:4 'deny from any port 53/udp' decides all of its traffic first"
[ "$(warnings)" = 2 ] || fail "protocol rules: $(cat "$tmp/err")"
# Everything from an address covers its protocol rules too.
lint 0 'deny from 192.0.2.1' 'allow icmp from 192.0.2.1'
[ "$(warnings)" = 1 ] || fail "all traffic covers icmp: $(cat "$tmp/err")"

# The shipped defaults.rules after an admin "deny ssh" is not a warning.
printf 'deny ssh\n' >"$tmp/etc/rules.d/10-a.rules"
"$portctl" --config "$tmp/etc" --data-dir "$top_srcdir/rules" check >"$tmp/out" 2>"$tmp/err" ||
	fail "whole configuration: $(cat "$tmp/err")"
clean "defaults.rules overridden"

[ "$failures" -eq 0 ] || exit 1
echo "all passed"
