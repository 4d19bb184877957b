#!/bin/sh
# First of the suite: record the root namespace's nftables ruleset, which
# no test may change (root-ruleset-after.sh compares).
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root" >&2; exit 77; }
command -v nft >/dev/null 2>&1 || { echo "SKIP: needs nft" >&2; exit 77; }
: "${top_builddir:=.}"
nft list ruleset >"$top_builddir/tests/integration/root-ruleset.before" 2>&1
