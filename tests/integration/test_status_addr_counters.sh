#!/bin/sh
# status gives each packet of a merged address map to the rule that decided
# it: a range's element to its prefix rule (not the map's first rule), and a
# host that a wider, earlier prefix decides to that prefix's rule, not to
# the later rule naming the host alone. So it does for the same rules
# written by the command line (named in the kernel by their text), and for
# rules of one comment (each element's comment names both): by address.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon-lib.sh"
pc_require
pcd_setup
pc_config_write 20-addr.rules \
	'deny from 10.50.0.0/16' \
	'allow from 10.99.7.0/28' \
	'deny from 10.99.7.2' \
	'deny from 10.60.0.1' \
	'allow 1500/tcp'
pcd_start
pc_listen host tcp:1500
pc_expect open pc_probe peer tcp 10.99.7.1 1500

# Only 'allow from 10.99.7.0/28' decided the probes.
decided_by_prefix() {
	n=$(pcd_rule_field 'allow from 10.99.7.0/28' packets)
	[ "${n:-0}" -gt 0 ] || pc_fail "$1: 'allow from 10.99.7.0/28' counted '$n'"
	for text in 'deny from 10.50.0.0/16' 'deny from 10.99.7.2' 'deny from 10.60.0.1' 'allow 1500/tcp'; do
		n=$(pcd_rule_field "$text" packets)
		[ -z "$n" ] || [ "$n" = 0 ] || pc_fail "$1: '$text' counted '$n', it decides nothing here"
	done
}
decided_by_prefix "in a file"

# The same rules written by the command line: 90-portctl.rules' elements
# carry the rules' text, not their line; status reads them the same way,
# also after a delete above them moved their lines.
rm "$PC_TMP/etc/rules.d/20-addr.rules"
pcd_as_member reload >/dev/null || pc_fail "reload"
for text in 'deny from 10.50.0.0/16' 'allow from 10.99.7.0/28' 'deny from 10.99.7.2' \
	'deny from 10.60.0.1' 'allow 1500/tcp'; do
	# shellcheck disable=SC2086
	pcd_as_member $text >/dev/null || pc_fail "portctl $text"
done
pc_in host nft list table inet portctl | grep -q 'comment "deny from 10.60.0.1"' ||
	pc_fail "no element named by its rule's text: $(pc_in host nft list table inet portctl)"
pc_expect open pc_probe peer tcp 10.99.7.1 1500
decided_by_prefix "by the command line"
pcd_as_member delete deny from 10.50.0.0/16 >/dev/null || pc_fail "delete"
pc_expect open pc_probe peer tcp 10.99.7.1 1500
decided_by_prefix "after a delete above them"

# Two rules of one comment in a map of addresses and in one of ports and
# addresses, IPv4 and IPv6: the packet counts at the one whose addresses
# hold its source.
pc_config_write 10-lab.rules \
	'allow 1600/tcp from 10.98.0.0/24 comment "app"' \
	'allow 1600/tcp from 10.99.7.0/24 comment "app"' \
	'allow from 10.98.0.0/16 comment "lab"' \
	'allow from 10.99.7.0/28 comment "lab"' \
	'allow 1601/tcp from fd98::/64 comment "app6"' \
	'allow 1601/tcp from fd99:7::/64 comment "app6"' \
	'allow from fd98::/48 comment "lab6"' \
	'allow from fd99:7::/112 comment "lab6"'
pcd_as_member reload >/dev/null || pc_fail "reload"
pc_listen host tcp:1600 tcp:1601
pc_expect open pc_probe peer tcp 10.99.7.1 1600
pc_expect open pc_probe peer tcp 10.99.7.1 1500
pc_expect open pc_probe peer tcp fd99:7::1 1601 500 fd99:7::2
pc_expect open pc_probe peer tcp fd99:7::1 1500 500 fd99:7::2
# second_decided FIRST SECOND: SECOND counted the probe, FIRST nothing.
second_decided() {
	n1=$(pcd_rule_field "$1" packets)
	n2=$(pcd_rule_field "$2" packets)
	[ "${n1:-x}" = 0 ] && [ "${n2:-0}" -gt 0 ] ||
		pc_fail "one comment: '$1' counted '$n1', '$2' '$n2' (the second decided)"
}
second_decided 'allow 1600/tcp from 10.98.0.0/24 comment "app"' \
	'allow 1600/tcp from 10.99.7.0/24 comment "app"'
second_decided 'allow from 10.98.0.0/16 comment "lab"' 'allow from 10.99.7.0/28 comment "lab"'
second_decided 'allow 1601/tcp from fd98::/64 comment "app6"' \
	'allow 1601/tcp from fd99:7::/64 comment "app6"'
second_decided 'allow from fd98::/48 comment "lab6"' 'allow from fd99:7::/112 comment "lab6"'
exit 0
