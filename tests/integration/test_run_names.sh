#!/bin/sh
# A port run's maps are named by the file with most of its rules (when it
# has more than 64), else by its last file -- not by their place. So a
# change next to a big file, or in it, leaves the big file's maps as they
# are: not one of its elements is deleted or added again (nft monitor),
# and they go on counting. That holds for a `limit` that cuts the run in
# two and its delete that joins it again, across a restart and a reload,
# and for the first rule of the CLI's file ahead of defaults.rules' ssh.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon-lib.sh"
pc_require
pcd_setup

MON=$PC_TMP/monitor
# change WHAT CMD...: CMD under the monitor, one transaction of portctld.
change() {
	what=$1
	shift
	pc_monitor_start host "$MON"
	"$@" >"$PC_TMP/out" 2>&1 || pc_fail "$what: $(cat "$PC_TMP/out")"
	pc_monitor_stop
	n=$(grep -c "^# new generation .*(portctld)" "$MON")
	[ "$n" -eq 1 ] || pc_fail "$what made $n transactions, not 1: $(cat "$MON")"
}
# The big file's ports are 10000-10299: none may be in what was sent.
big_untouched() {
	grep -E "tcp \. 10[0-2][0-9]{2} " "$MON" >"$PC_TMP/touched" &&
		pc_fail "$1 sent the big file's elements again: $(head -5 "$PC_TMP/touched")"
	grep -E "^delete (set|map) .*$BIG" "$MON" && pc_fail "$1 deleted $BIG"
	pc_log "ok: $1: $(grep -c '^[a-z]' "$MON") line(s), the big file's map untouched"
}
# The map that holds tcp port 10005, and that element's packet count.
map_of_10005() {
	pc_in host nft list table inet portctl |
		awk '/^\t(map|set) / { name = $2 } /tcp \. 10005 / { print name; exit }'
}
packets_10005() {
	pc_in host nft list set inet portctl "$BIG" |
		sed -n 's/.*tcp \. 10005 counter packets \([0-9]*\) .*/\1/p'
}

i=0
while [ $i -lt 300 ]; do
	echo "allow $((10000 + i))/tcp"
	i=$((i + 1))
done >"$PC_TMP/etc/rules.d/95-late.rules"
pc_listen host tcp:10005 tcp:2001 tcp:2002 tcp:2005 tcp:22
pcd_start
BIG=$(map_of_10005)
case $BIG in
in_public_p*_ports_accept) ;;
*) pc_fail "port 10005 is in '$BIG', not a run's port map" ;;
esac
pc_expect open pc_probe peer tcp 10.99.7.1 10005
[ "$(packets_10005)" -ge 1 ] || pc_fail "10005 did not count"
before=$(packets_10005)

pcd_log "a CLI rule ahead of the big file: its element alone"
change "allow 2001/tcp" pcd_as_member allow 2001/tcp
big_untouched "allow 2001/tcp"
pc_expect open pc_probe peer tcp 10.99.7.1 2001

pcd_log "a limit cuts the run in two: the CLI's part is made again, the big file's stays"
change "limit 2002/tcp" pcd_as_member limit 2002/tcp
big_untouched "limit 2002/tcp"
[ "$(map_of_10005)" = "$BIG" ] || pc_fail "10005 moved to $(map_of_10005)"
pc_expect open pc_probe peer tcp 10.99.7.1 2002
pc_expect open pc_probe peer tcp 10.99.7.1 2001
pc_expect open pc_probe peer tcp 10.99.7.1 10005
[ "$(packets_10005)" -gt "$before" ] || pc_fail "10005's count went from $before to $(packets_10005)"
before=$(packets_10005)

pcd_log "its delete joins the two again: the big file's map stays"
change "delete limit 2002/tcp" pcd_as_member delete limit 2002/tcp
big_untouched "delete limit 2002/tcp"
pc_expect timeout pc_probe peer tcp 10.99.7.1 2002
change "delete allow 2001/tcp" pcd_as_member delete allow 2001/tcp
big_untouched "delete allow 2001/tcp"
pc_expect timeout pc_probe peer tcp 10.99.7.1 2001

pcd_log "a rule in the big file itself, by a reload: its element alone"
echo "allow 10300/tcp" >>"$PC_TMP/etc/rules.d/95-late.rules"
change "reload" pcd_as_member reload
big_untouched "reload with a line added to the big file"
grep -q "tcp \. 10300" "$MON" || pc_fail "10300 not sent: $(cat "$MON")"

pcd_log "a restart with the same files sends no set, element or rule"
pc_monitor_start host "$MON"
pcd_stop
pcd_start
pc_monitor_stop
# (At most the table's ownership flags.)
grep -Ev "^(# new generation|add table inet portctl)" "$MON" | grep -q . &&
	pc_fail "a restart sent more than the table's flags: $(cat "$MON")"
[ "$(map_of_10005)" = "$BIG" ] || pc_fail "after a restart 10005 is in $(map_of_10005)"
pc_expect open pc_probe peer tcp 10.99.7.1 10005
[ "$(packets_10005)" -gt "$before" ] || pc_fail "10005's count went from $before to $(packets_10005)"

pcd_log "a small run (defaults.rules' ssh alone): a first CLI rule is its element alone"
rm "$PC_TMP/etc/rules.d/95-late.rules"
pcd_as_member reload >/dev/null || pc_fail "reload"
change "allow 2005/tcp" pcd_as_member allow 2005/tcp
grep -Ev "^(# new generation|add element inet portctl in_public_p[0-9a-f]{16}_ports_accept \{ tcp \. 2005 )" \
	"$MON" | grep -q . && pc_fail "not element-only: $(cat "$MON")"
pc_expect open pc_probe peer tcp 10.99.7.1 2005
pc_expect open pc_probe peer tcp 10.99.7.1 22
pcd_stop
exit 0
