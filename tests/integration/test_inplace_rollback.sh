#!/bin/sh
# A change made in place that cannot reach its file is taken back from the
# kernel whole: a limit that cuts the CLI's port run in two (the shipped
# allow ssh is in that run) and the delete that joins the run again, a
# delete and an insert in the middle of 90-portctl.rules (the later rules'
# lines move), each with 90-portctl.rules unwritable. Afterwards the kernel holds what the
# files say (a reload sends nothing, diff finds nothing), traffic goes as
# before, and the same changes then go through.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon-lib.sh"
pc_require
pcd_setup

P() { pcd_as_member "$@" >"$PC_TMP/out" 2>&1 || pc_fail "portctl $*: $(cat "$PC_TMP/out")"; }
f90="$PC_TMP/etc/rules.d/90-portctl.rules"

# Nothing to send: the kernel holds what the files compile to.
as_files() {
	pc_monitor_start host "$PC_TMP/monitor"
	P reload
	pc_monitor_stop
	n=$(grep -c "^# new generation .*(portctld)" "$PC_TMP/monitor")
	[ "$n" -eq 0 ] || pc_fail "$1: a reload sent $n transactions: $(cat "$PC_TMP/monitor")"
	P diff
	pc_log "ok: $1: the kernel holds the files"
}

# refused WHAT CMD...: with the rules directory and file read-only, CMD
# fails, says it rolled back, and the file is as it was.
refused() {
	what=$1
	shift
	cp "$f90" "$PC_TMP/f90.before"
	chmod 555 "$PC_TMP/etc/rules.d"
	chmod 444 "$f90"
	pcd_as_member "$@" 2>"$PC_TMP/err" >/dev/null
	rc=$?
	chmod 755 "$PC_TMP/etc/rules.d"
	chmod 644 "$f90"
	[ $rc -eq 1 ] || pc_fail "$what: exited $rc, expected 1: $(cat "$PC_TMP/err")"
	grep -q "rolled back" "$PC_TMP/err" || pc_fail "$what: no rollback said: $(cat "$PC_TMP/err")"
	cmp -s "$f90" "$PC_TMP/f90.before" || pc_fail "$what: the file changed"
	as_files "$what"
}

pcd_start
pc_listen host tcp:22 tcp:2001 tcp:2003 tcp:2020
P allow 2001/tcp
P allow 2020-2021/tcp

refused "a limit cutting the port run" limit 2003/tcp
pc_expect open pc_probe peer tcp 10.99.7.1 22
pc_expect open pc_probe peer tcp 10.99.7.1 2001
pc_expect open pc_probe peer tcp 10.99.7.1 2020
pc_expect timeout pc_probe peer tcp 10.99.7.1 2003 300

P limit 2003/tcp
as_files "the limit made"
pc_expect open pc_probe peer tcp 10.99.7.1 2003
pc_expect open pc_probe peer tcp fd99:7::1 22

refused "its delete joining the runs" delete limit 2003/tcp
pc_expect open pc_probe peer tcp 10.99.7.1 2003
pc_expect open pc_probe peer tcp 10.99.7.1 22

P delete limit 2003/tcp
as_files "the limit deleted"
pc_expect timeout pc_probe peer tcp 10.99.7.1 2003 300
pc_expect open pc_probe peer tcp 10.99.7.1 2020

# The lines status gives are the file's again, and the kernel's elements
# name the rules by their text (not their line, which moved and came back).
line_of() { grep -n "^$1\$" "$f90" | cut -d: -f1; }
at_line() {
	[ "$(pcd_rule_field "$1" line)" = "$2" ] ||
		pc_fail "$3: '$1' is at line $(pcd_rule_field "$1" line), the file has it at $2"
	pc_in host nft list table inet portctl | grep -q "comment \"$1\"" ||
		pc_fail "$3: no element names '$1': $(pc_in host nft list table inet portctl)"
}
l20=$(line_of "allow 2020-2021/tcp")
refused "a delete in the middle of the file" delete allow 2001/tcp
at_line "allow 2020-2021/tcp" "$l20" "the middle delete refused"
pc_expect open pc_probe peer tcp 10.99.7.1 2001
refused "an insert in the middle of the file" insert "$(pcd_rule_field 'allow 2001/tcp' number)" allow 2003/tcp
at_line "allow 2020-2021/tcp" "$l20" "the middle insert refused"
at_line "allow 2001/tcp" "$(line_of "allow 2001/tcp")" "the middle insert refused"
pc_expect timeout pc_probe peer tcp 10.99.7.1 2003 300

P delete allow 2001/tcp
as_files "the middle delete made"
at_line "allow 2020-2021/tcp" "$((l20 - 1))" "the middle delete made"
pc_expect timeout pc_probe peer tcp 10.99.7.1 2001 300
pc_expect open pc_probe peer tcp 10.99.7.1 2020
pcd_stop
pc_log "PASS"
