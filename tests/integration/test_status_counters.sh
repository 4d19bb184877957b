#!/bin/sh
# status --json gives each packet of a merged port map to the rule that
# decided it: the first of the overlapping rules of its zone, none of the
# shadowed ones, and not a rule of another zone with the same port.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon-lib.sh"
pc_require
pcd_setup

pc_config_write 10-zones.rules 'zone lab source 10.99.8.0/24'
pc_config_write 20-overlap.rules \
	'allow 1000-2000/tcp' \
	'allow 1500/tcp zone lab' \
	'allow 1500/tcp' \
	'deny 1600/tcp' \
	'allow 3000/tcp' \
	'allow 3000/tcp zone lab'
pcd_start
pc_listen host tcp:1500 tcp:1600 tcp:3000

pcd_log "traffic to 1500, 1600 and 3000 from the default zone"
pc_expect open pc_probe peer tcp 10.99.7.1 1500
pc_expect open pc_probe peer tcp 10.99.7.1 1600
pc_expect open pc_probe peer tcp 10.99.7.1 3000

pcd_log "counted on the deciding rules only"
range=$(pcd_rule_field 'allow 1000-2000/tcp' packets)
[ "${range:-0}" -gt 0 ] || pc_fail "the range rule counted '$range'"
for text in 'allow 1500/tcp zone lab' 'allow 1500/tcp' 'deny 1600/tcp' 'allow 3000/tcp zone lab'; do
	n=$(pcd_rule_field "$text" packets)
	[ "$n" = 0 ] || pc_fail "'$text' counted '$n', it decides nothing here"
done
late=$(pcd_rule_field 'allow 3000/tcp' packets)
[ "${late:-0}" -gt 0 ] || pc_fail "'allow 3000/tcp' counted '$late'"
exit 0
