#!/bin/sh
# status gives each packet of a merged address map to the rule that decided
# it: a range's element to its prefix rule (not the map's first rule), and a
# host that a wider, earlier prefix decides to that prefix's rule, not to
# the later rule naming the host alone.
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

n=$(pcd_rule_field 'allow from 10.99.7.0/28' packets)
[ "${n:-0}" -gt 0 ] || pc_fail "'allow from 10.99.7.0/28' counted '$n'"
for text in 'deny from 10.50.0.0/16' 'deny from 10.99.7.2' 'deny from 10.60.0.1' 'allow 1500/tcp'; do
	n=$(pcd_rule_field "$text" packets)
	[ "$n" = 0 ] || pc_fail "'$text' counted '$n', it decides nothing here"
done
exit 0
