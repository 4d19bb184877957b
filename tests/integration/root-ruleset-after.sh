#!/bin/sh
# Last of the suite: the root namespace's nftables ruleset must be exactly
# what root-ruleset-before.sh recorded.
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root" >&2; exit 77; }
command -v nft >/dev/null 2>&1 || { echo "SKIP: needs nft" >&2; exit 77; }
: "${top_builddir:=.}"
before="$top_builddir/tests/integration/root-ruleset.before"
[ -f "$before" ] || { echo "SKIP: root-ruleset-before.sh did not run" >&2; exit 77; }
nft list ruleset 2>&1 | cmp -s - "$before" || {
	echo "FAIL: the root namespace's nftables ruleset changed during the suite" >&2
	exit 1
}
