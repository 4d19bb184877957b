#!/bin/sh
# The CLI keeps a hand-written 90-portctl.rules as it is: comments, blank
# lines, a rule continued on a second line, logged rules (their log prefix
# names their line), an unterminated last line. Random changes -- allow,
# reject, insert anywhere, delete of what it added, services defined, defined
# again and deleted -- between hand appends to the file and restarts of the daemon, checked against a model of the
# text: after each change the file is exactly what the model says (each
# rule where the change put it, nothing else touched), and every few
# changes a reload sends nothing (the daemon's rules and lines are the
# file's). Three seeds; the daemon keeps the file's line count across
# changes in place, the full path and restarts.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon-lib.sh"
pc_require
pcd_setup

RD="$PC_TMP/etc/rules.d"
F="$RD/90-portctl.rules"
M="$PC_TMP/model"
A="$PC_TMP/added"
S="$PC_TMP/services"
pc_config_write portctl.conf "socket-group = $PCD_GROUP" "socket-mode = 0666" "log-level = debug"
seq 300 | awk '{ printf "allow %d/tcp\n", 10000 + $1 }' >"$RD/10-bulk.rules"
PRE=300

# rnd N: r is a pseudo-random number in [0, N) (an LCG: the same run
# for the same seed).
rnd() {
	seed=$(((seed * 1103515245 + 12345) % 2147483648))
	r=$((seed / 65536 % $1))
}
pctl() { pcd_as_member "$@" >"$PC_TMP/out" 2>&1; }
unterminated() { [ -s "$1" ] && [ -n "$(tail -c1 "$1")" ]; }
# The model's rules (a continued line's second line is not one).
m_rules() {
	awk '{ if (!cont && $0 ~ /^(allow|deny|reject|limit) /) n++; cont = ($0 ~ /\\$/) }
		END { print n + 0 }' "$M"
}
m_append() {
	unterminated "$M" && echo >>"$M"
	echo "$1" >>"$M"
}
# m_insert J TEXT: TEXT before the model's J-th rule (awk ends every
# line: an unterminated last line is kept so).
m_insert() {
	u=0
	unterminated "$M" && u=1
	awk -v j="$1" -v t="$2" '{ if (!cont && $0 ~ /^(allow|deny|reject|limit) / && ++n == j) print t
		print; cont = ($0 ~ /\\$/) }' "$M" >"$M.new"
	if [ $u = 1 ]; then head -c -1 "$M.new" >"$M"; else cat "$M.new" >"$M"; fi
}
m_delete() {
	u=0
	unterminated "$M" && [ "$(tail -n1 "$M")" != "$1" ] && u=1
	awk -v t="$1" '!d && $0 == t { d = 1; next } { print }' "$M" >"$M.new"
	if [ $u = 1 ]; then head -c -1 "$M.new" >"$M"; else cat "$M.new" >"$M"; fi
}

for seed0 in 1 2 3; do
	seed=$seed0
	[ -n "${PCD_PID:-}" ] && pcd_stop
	{
		echo "# hand-written head"
		echo
		echo 'allow 7001/tcp \'
		echo '  comment "two lines"'
		for i in $(seq 40); do
			case $((i % 7)) in
			0) echo "# note $i" ;;
			1) echo "allow $((8000 + i))/udp log" ;;
			2) echo ;;
			*) echo "allow $((8000 + i))/tcp" ;;
			esac
		done
		printf 'allow 7999/tcp'
	} >"$F"
	cp "$F" "$M"
	: >"$A"
	: >"$S"
	pcd_start
	changes=0 step=0 n_svc_changes=0
	while [ $changes -lt 40 ]; do
		step=$((step + 1))
		p=$((2000 + step))
		rnd 13
		n_added=$(wc -l <"$A")
		if [ $r -lt 4 ] && [ "$n_added" -gt 0 ]; then
			rnd "$n_added"
			rule=$(sed -n "$((r + 1))p" "$A")
			sed -i "$((r + 1))d" "$A"
			what="delete $rule"
			# shellcheck disable=SC2086
			pctl delete $rule || pc_fail "seed $seed0: $what: $(cat "$PC_TMP/out")"
			m_delete "$rule"
		elif [ $r -lt 7 ]; then
			n=$(m_rules)
			rnd $((n + 1))
			j=$((r + 1))
			rnd 3
			case $r in
			0) rule="allow $p/tcp" ;;
			1) rule="deny from 192.0.2.$((step % 250))" ;;
			*) rule="allow $p/udp log" ;;
			esac
			what="insert $((PRE + j)) $rule"
			# shellcheck disable=SC2086
			pctl insert $((PRE + j)) $rule || pc_fail "seed $seed0: $what: $(cat "$PC_TMP/out")"
			echo "$rule" >>"$A"
			if [ $j -le "$n" ]; then m_insert $j "$rule"; else m_append "$rule"; fi
		elif [ $r -lt 10 ]; then
			rule="allow $p/tcp"
			[ $r = 9 ] && rule="reject $p/udp"
			what=$rule
			# shellcheck disable=SC2086
			pctl $rule || pc_fail "seed $seed0: $what: $(cat "$PC_TMP/out")"
			echo "$rule" >>"$A"
			m_append "$rule"
		elif [ $r = 10 ]; then
			# A service: defined (appended), defined again (its line
			# replaced where it is) or deleted; the full path but the first.
			rnd 3
			op=$r
			n_svc=$(wc -l <"$S")
			if [ $op = 0 ] || [ "$n_svc" = 0 ]; then
				name="svc$step"
				what="service $name $((40000 + step))/tcp"
				echo "$name" >>"$S"
				m_append "$what"
			else
				rnd "$n_svc"
				k=$((r + 1))
				name=$(sed -n "${k}p" "$S")
				if [ $op = 1 ]; then
					what="service $name $((50000 + step))/udp"
					awk -v n="service $name " -v t="$what" 'index($0, n) == 1 { $0 = t } { print }' \
						"$M" >"$M.new"
					if unterminated "$M"; then head -c -1 "$M.new" >"$M"; else cat "$M.new" >"$M"; fi
				else
					what="delete service $name"
					sed -i "${k}d" "$S"
					m_delete "$(grep "^service $name " "$M")"
				fi
			fi
			# shellcheck disable=SC2086
			pctl $what || pc_fail "seed $seed0: $what: $(cat "$PC_TMP/out")"
			n_svc_changes=$((n_svc_changes + 1))
		elif [ $r = 11 ]; then
			# By hand: a comment appended, ended or not.
			if unterminated "$F"; then
				echo >>"$F"
				echo >>"$M"
			fi
			rnd 2
			if [ $r = 0 ]; then
				echo "# by hand $step" | tee -a "$M" >>"$F"
			else
				printf '# by hand, no newline %s' $step | tee -a "$M" >>"$F"
			fi
			continue
		else
			pcd_stop
			pcd_start
			continue
		fi
		changes=$((changes + 1))
		cmp -s "$F" "$M" ||
			pc_fail "seed $seed0, step $step: after '$what' the file is not the model's: $(diff "$M" "$F" | head -20)"
		if [ $((changes % 5)) = 0 ]; then
			pc_monitor_start host "$PC_TMP/monitor"
			pctl reload || pc_fail "seed $seed0: reload: $(cat "$PC_TMP/out")"
			pc_monitor_stop
			n=$(grep -c "^# new generation .*(portctld)" "$PC_TMP/monitor")
			[ "$n" -eq 0 ] ||
				pc_fail "seed $seed0, step $step: a reload after '$what' sent $n transaction(s): $(head -c 1500 "$PC_TMP/monitor")"
		fi
	done
	n_in_place=$(grep -c 'in place: ' "$PC_TMP/portctld.log")
	# The count matters in place: most changes must have been made there.
	[ "$n_in_place" -ge $((seed0 * 20)) ] || pc_fail "seed $seed0: only $n_in_place changes in place"
	pc_log "ok: seed $seed0: $changes changes ($n_svc_changes of services) in $step steps, the file the model's; $(wc -l <"$F") lines; $n_in_place in place so far"
done
pcd_stop
exit 0
