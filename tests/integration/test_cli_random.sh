#!/bin/sh
# Random CLI changes against portctld (real kernel) on configurations of
# mixed rules before and after the CLI's file: allow, deny, reject and limit
# rules of ports, ranges, sources and destinations of either family or both,
# zones (three, or 30 more), logged rules, outbound rules, in a zone cut
# into blocks or not;
# temporary rules, inserts anywhere among the CLI's rules, deletes, bans
# and unbans. After each change a reload sends nothing
# (the model the change left in memory is the full compile of the files, the
# runtime rules and the bans), and every few changes a restart finds the
# kernel's table as the files say (it changes no rule, set or element).
# Seeds: PORTCTL_SEED (one) or three; PORTCTL_STEPS steps each (60).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon-lib.sh"
pc_require
pcd_setup

RD="$PC_TMP/etc/rules.d"
A="$PC_TMP/added"
B="$PC_TMP/banned"
STEPS=${PORTCTL_STEPS:-60}
zones=0
pc_config_write portctl.conf "socket-group = $PCD_GROUP" "socket-mode = 0666" "log-level = debug"

# rnd N: r is a pseudo-random number in [0, N) (an LCG: the same run for
# the same seed).
rnd() {
	seed=$(((seed * 1103515245 + 12345) % 2147483648))
	r=$((seed / 65536 % $1))
}
# pick WORD...: w is one of the words.
pick() {
	rnd $#
	shift "$r"
	w=$1
}

v4_src() {
	rnd 4
	case $r in
	0) w="10.2.$((seed % 4)).0/24" ;;
	1) w="10.0.0.0/16" ;;
	*) rnd 64; w="10.1.$((seed % 3)).$r" ;;
	esac
}
v6_src() {
	rnd 3
	case $r in
	0) w="2001:db8:$((seed % 4))::/48" ;;
	*) rnd 64; w="2001:db8::$r" ;;
	esac
}
ports() {
	rnd 100
	p=$((2000 + r))
	pick "$p/tcp" "$p/udp" "$p" "$p,$((p + 7))/tcp" "$p-$((p + 5))/tcp" "$p/tcp"
}
# rule: w is a random rule (without its action's word when $1 is given).
rule() {
	pick allow allow deny deny reject limit
	act=$w
	rnd 3
	fam=$r # 0: IPv4, 1: IPv6, 2: both
	src="" dst=""
	if [ "$fam" -ne 1 ]; then v4_src; src=$w; fi
	if [ "$fam" -ne 0 ]; then v6_src; src="${src:+$src,}$w"; fi
	pick 10.99.7.1 10.99.7.0/24 10.99.0.0/16
	d4=$w
	pick fd99:7::1 fd99:7::/64
	d6=$w
	case $fam in
	0) dst=$d4 ;;
	1) dst=$d6 ;;
	*) dst="$d4,$d6" ;;
	esac
	ports
	pp=$w
	rnd 8
	case $r in
	0 | 1) w="$act $pp" ;;
	2 | 3) w="$act $pp from $src" ;;
	4) w="$act from $src" ;;
	5) w="$act $pp from $src to $dst" ;;
	6) w="$act $pp to $dst" ;;
	*) w="$act out $pp to $dst" ;;
	esac
	# A limit needs a port and is inbound.
	case "$w" in
	"limit from"* | "limit out"*) w="allow${w#limit}" ;;
	esac
	rnd 6
	[ "$r" -eq 0 ] && w="$w zone dmz"
	[ "$r" -eq 1 ] && w="$w zone internal,dmz"
	[ "$r" -eq 2 ] && [ "$zones" -gt 0 ] && w="$w zone z$((seed % zones + 1))"
	rnd 8
	[ "$r" -eq 0 ] && w="$w log"
	rnd 3
	[ "$r" -eq 0 ] && w="$w comment \"c$seed\""
	return 0
}

# The CLI's rules' numbers, first and last.
cli_numbers() {
	pcd_as_member --json status >"$PC_TMP/status.json" || pc_fail "status --json"
	python3 - "$PC_TMP/status.json" <<'PY'
import json, os, sys
n = [r["number"] for r in json.load(open(sys.argv[1]))["data"]["rules"]
     if os.path.basename(r.get("file") or "") == "90-portctl.rules"]
print(min(n), max(n))
PY
}

# The model in memory is the full compile's: a reload sends nothing.
reload_quiet() {
	pc_monitor_start host "$PC_TMP/monitor"
	pcd_as_member reload >"$PC_TMP/out" 2>&1 || pc_fail "seed $seed0: reload: $(cat "$PC_TMP/out")"
	pc_monitor_stop
	n=$(grep -c "^# new generation .*(portctld)" "$PC_TMP/monitor")
	[ "$n" -eq 0 ] ||
		pc_fail "seed $seed0, step $step: a reload after '$what' sent $n transaction(s): $(head -c 3000 "$PC_TMP/monitor")"
}

# The kernel holds what the files say: a restart changes nothing in the
# table, and (read back, or built on the stop's memo) the table then is
# what portctld applied and the files are what it has in force (diff).
restart_quiet() {
	pcd_stop
	pc_monitor_start host "$PC_TMP/monitor"
	pcd_start
	pc_monitor_stop
	grep -E '^(add|insert|delete|replace) (rule|element|set|chain|map) ' "$PC_TMP/monitor" | grep -q . &&
		pc_fail "seed $seed0, step $step: the restart after '$what' changed the table: $(head -c 3000 "$PC_TMP/monitor")"
	"$PCD_PORTCTL" -s "$PCD_SOCK" diff >"$PC_TMP/diff" 2>&1 ||
		pc_fail "seed $seed0, step $step: after the restart after '$what', diff: $(head -c 3000 "$PC_TMP/diff")"
}

# How many rules the CLI's file holds.
cli_count() {
	grep -cE '^(allow|deny|reject|limit) ' "$RD/90-portctl.rules"
}

# change WHAT CMD...: CMD as a member; refused (exit 2) changes nothing,
# other failures fail the test. Returns 0 when it was taken.
change() {
	what=$1
	shift
	pcd_as_member "$@" >"$PC_TMP/out" 2>&1
	rc=$?
	[ "$rc" -eq 0 ] && taken=$((taken + 1)) && return 0
	refused=$((refused + 1))
	[ "$rc" -eq 2 ] || pc_fail "seed $seed0, step $step: '$what' failed ($rc): $(cat "$PC_TMP/out")"
	return 1
}

run_seed() {
	seed0=$1 seed=$1
	pcd_stop 2>/dev/null
	rm -rf "$PC_TMP/state"
	: >"$PC_TMP/portctld.log"
	: >"$A"
	: >"$B"
	: >"$RD/90-portctl.rules"
	: >"$RD/10-a.rules"
	: >"$RD/95-b.rules"
	# The bulk before the CLI's file, or after it; or 400 rules before it,
	# port rules and address rules in turn, so many small runs that the
	# zone is cut into blocks.
	rnd 3
	case $r in
	0) before=50 after=8 ;;
	1) before=8 after=50 ;;
	*) before=400 after=8 ;;
	esac
	# Or many zones besides (their rules among the rest, their bans).
	zones=0
	rnd 3
	if [ "$r" -eq 0 ]; then
		zones=30
		i=1
		while [ "$i" -le "$zones" ]; do
			echo "zone z$i interface vz$i policy in drop" >>"$RD/10-a.rules"
			i=$((i + 1))
		done
	fi
	i=0
	while [ "$i" -lt "$before" ]; do
		if [ "$before" -gt 50 ] && [ $((i % 8)) -ne 7 ]; then
			# Port rules and address rules in turn: runs of one.
			if [ $((i % 2)) -eq 0 ]; then w="allow $((3000 + i))/tcp"
			else w="deny from 10.5.$((i / 256)).$((i % 256))"; fi
		else
			rule
		fi
		echo "$w" >>"$RD/10-a.rules"
		i=$((i + 1))
	done
	i=0
	while [ "$i" -lt "$after" ]; do rule; echo "$w" >>"$RD/95-b.rules"; i=$((i + 1)); done
	pcd_start
	step=0 taken=0 refused=0
	while [ "$step" -lt "$STEPS" ]; do
		rnd 20
		if [ "$r" -eq 0 ]; then
			# A temporary rule: kept by a reload and a restart.
			rule
			eval "set -- $w"
			change "$w --timeout 1h" "$@" --timeout 1h
		elif [ "$r" -lt 9 ]; then
			rule
			# shellcheck disable=SC2086 # the rule's words
			eval "set -- $w"
			was=$(cli_count)
			# Taken and written (the same rule twice is taken once).
			change "$w" "$@" && [ "$(cli_count)" -gt "$was" ] && printf '%s\n' "$w" >>"$A"
		elif [ "$r" -lt 12 ] && [ -s "$A" ]; then
			rule
			# shellcheck disable=SC2046 # two numbers
			set -- $(cli_numbers)
			first=$1 last=$2
			# Before any of the CLI's rules, or after the last.
			rnd $((last - first + 2))
			at=$((first + r))
			rtext=$w
			eval "set -- $w"
			was=$(cli_count)
			change "insert $at $rtext" insert "$at" "$@" && [ "$(cli_count)" -gt "$was" ] &&
				printf '%s\n' "$rtext" >>"$A"
		elif [ "$r" -lt 16 ] && [ -s "$A" ]; then
			rnd "$(wc -l <"$A")"
			rtext=$(sed -n "$((r + 1))p" "$A")
			eval "set -- $rtext"
			change "delete $rtext" delete "$@" ||
				pc_fail "seed $seed0, step $step: the delete of '$rtext' was refused: $(cat "$PC_TMP/out")"
			sed -i "$((r + 1))d" "$A"
		elif [ "$r" -lt 19 ]; then
			rnd 64
			pick "10.3.$((seed % 4)).$r" "2001:db8:ba::$r" "10.4.$((seed % 4)).0/24" "10.1.0.$r"
			addr=$w
			pick "" "" "--timeout 1h" "--zone dmz"
			[ "$w" = "--zone dmz" ] && [ "$zones" -gt 0 ] && w="--zone z$((seed % zones + 1))"
			# shellcheck disable=SC2086 # no option, or one
			change "ban $addr $w" ban "$addr" $w && echo "$addr $w" >>"$B"
		elif [ -s "$B" ]; then
			rnd "$(wc -l <"$B")"
			# shellcheck disable=SC2046 # the address and its option
			set -- $(sed -n "$((r + 1))p" "$B")
			addr=$1
			shift
			zone=""
			[ "${1:-}" = "--zone" ] && zone="--zone $2"
			# shellcheck disable=SC2086 # no option, or one
			change "unban $addr $zone" unban "$addr" $zone ||
				pc_fail "seed $seed0, step $step: the unban of $addr was refused: $(cat "$PC_TMP/out")"
			sed -i "$((r + 1))d" "$B"
		else
			step=$((step + 1))
			continue
		fi
		reload_quiet
		[ $((step % 10)) -eq 9 ] && restart_quiet
		step=$((step + 1))
	done
	in_place=$(grep -cE "in place: (added|deleted) " "$PC_TMP/portctld.log")
	memo=$(grep -c "holds what portctld left at its stop: not read back" "$PC_TMP/portctld.log")
	blocks=$(pc_in host nft list table inet portctl | grep -cE '^[[:space:]]+chain in_public_B')
	pc_log "ok: seed $seed0: $before rules before the CLI's, $after after, $zones zones of their own, $blocks blocks; $STEPS changes ($taken taken, $refused refused; rules $in_place in place), $(wc -l <"$A") rules added and $(wc -l <"$B") bans left, each reload after them sent nothing, each restart changed nothing ($memo of $((STEPS / 10)) built on the stop's memo)"
}

for s in ${PORTCTL_SEED:-11 4242 90210}; do
	run_seed "$s"
done
