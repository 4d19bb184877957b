#!/bin/sh
# Bans in the kernel, without the daemon (tests/integration/banapply): a
# ban of every zone and a zone's ban, applied as element changes on top of
# the table, cut the banned peers' established TCP streams and their ping,
# IPv4 and IPv6, while another peer (in another zone than a ban of its
# address) keeps its stream, ping and new connections. A ban with a
# timeout lapses in the kernel by itself, and the next change then goes
# through as an element change still; an unban lets the peer in again.
. "$(dirname "$0")/lib.sh"
pc_require

STREAM="$top_srcdir/tests/integration/stream.py"
PING="$top_srcdir/tests/integration/ping.py"
BANAPPLY="$top_builddir/tests/integration/banapply"
[ -x "$BANAPPLY" ] || pc_skip "banapply not built"

pc_ns_add host
for i in 1 2 3; do
	pc_ns_add "peer$i"
	pc_link host "vh$i" "10.99.$i.1" "fd99:$i::1" "peer$i" "vp$i" "10.99.$i.2" "fd99:$i::2"
done
# peer1 and peer3 are in public (the default zone), peer2 in lab.
pc_config_write 10-test.rules 'zone lab interface vh2' 'allow 5000/tcp zone public,lab' \
	'allow 443/tcp zone public,lab'


mkfifo "$PC_TMP/ban.in"
# shellcheck disable=SC2046
nsenter --net="/run/netns/$(pc_ns host)" "$BANAPPLY" $(echo "$PC_TMP/etc $top_srcdir/rules $PC_TMP/state") \
	<"$PC_TMP/ban.in" >"$PC_TMP/ban.out" 2>&1 &
PC_PIDS="$PC_PIDS $!"
exec 7>"$PC_TMP/ban.in"
lines() { [ "$(grep -c . "$PC_TMP/ban.out")" -ge "$1" ]; }
pc_until 10 lines 1 || pc_fail "banapply did not start: $(cat "$PC_TMP/ban.out")"
[ "$(head -1 "$PC_TMP/ban.out")" = ready ] || pc_fail "banapply: $(cat "$PC_TMP/ban.out")"
N=1
# bans BAN...: replace the bans; banapply's answer in $got (not a
# subshell: N counts the answers).
bans() {
	N=$((N + 1))
	echo "bans $*" >&7
	pc_until 10 lines "$N" || pc_fail "banapply did not answer 'bans $*'"
	got=$(sed -n "${N}p" "$PC_TMP/ban.out")
	pc_log "bans $*: $got"
}

pc_listen host tcp:443
pc_background host python3 "$STREAM" server 5000
# Streams: peer1 (v4, v6), peer2 (v4, v6), and peer3 (v4), the control.
for s in 1:10.99.1.1:p1v4 1:fd99:1::1:p1v6 2:10.99.2.1:p2v4 2:fd99:2::1:p2v6 3:10.99.3.1:p3v4; do
	peer=${s%%:*}
	rest=${s#*:}
	name=${rest##*:}
	addr=${rest%:*}
	pc_background "peer$peer" python3 "$STREAM" client "$addr" 5000 "$PC_TMP/$name"
done
count() { cat "$PC_TMP/$1"; }
grows_past() { [ "$(count "$1")" -gt "$2" ]; }
for s in p1v4 p1v6 p2v4 p2v6 p3v4; do
	pc_until 10 grows_past "$s" 3 || pc_fail "stream $s does not pass data"
done
pc_expect reply pc_in peer1 python3 "$PING" 10.99.1.1 2000
pc_expect reply pc_in peer2 python3 "$PING" fd99:2::1 2000

pc_log "the bans go in as one element change"
BASE="10.99.1.2 fd99:1::/64 10.99.2.2@lab fd99:2::2@lab 10.99.3.2@lab fd99:3::2@lab"
bans "$BASE"
case "$got" in
"ok incremental "*) ;;
*) pc_fail "bans: $got" ;;
esac

pc_log "the banned streams stop while the control stream goes on"
c=$(count p3v4)
pc_until 10 grows_past p3v4 $((c + 5)) || pc_fail "the control stream stopped"
before=""
for s in p1v4 p1v6 p2v4 p2v6; do before="$before $(count "$s")"; done
c=$(count p3v4)
pc_until 10 grows_past p3v4 $((c + 20)) || pc_fail "the control stream stopped"
after=""
for s in p1v4 p1v6 p2v4 p2v6; do after="$after $(count "$s")"; done
[ "$before" = "$after" ] || pc_fail "banned streams passed data: $before ->$after"
pc_log "ok: banned streams stay at$after while the control stream grew by 20"

pc_log "no ping, no new connection from the banned peers; the other peer keeps both"
pc_expect timeout pc_in peer1 python3 "$PING" 10.99.1.1 500
pc_expect timeout pc_in peer1 python3 "$PING" fd99:1::1 500
pc_expect timeout pc_in peer2 python3 "$PING" 10.99.2.1 500
pc_expect timeout pc_in peer2 python3 "$PING" fd99:2::1 500
pc_expect timeout pc_probe peer1 tcp 10.99.1.1 443 500
pc_expect timeout pc_probe peer2 tcp fd99:2::1 443 500
pc_expect reply pc_in peer3 python3 "$PING" 10.99.3.1 2000
pc_expect reply pc_in peer3 python3 "$PING" fd99:3::1 2000
pc_expect open pc_probe peer3 tcp 10.99.3.1 443
pc_expect open pc_probe peer3 tcp fd99:3::1 443

pc_log "a ban with a timeout lapses in the kernel by itself"
bans "$BASE 10.99.3.2+4"
case "$got" in "ok incremental "*) ;; *) pc_fail "timed ban: $got" ;; esac
pc_expect timeout pc_probe peer3 tcp 10.99.3.1 443 500
pc_in host nft list set inet portctl ban4 | grep -q '10\.99\.3\.2 timeout ' ||
	pc_fail "no timed element: $(pc_in host nft list set inet portctl ban4)"
lapsed() { ! pc_in host nft list set inet portctl ban4 | grep -q '10\.99\.3\.2'; }
pc_until 10 lapsed || pc_fail "the element did not lapse: $(pc_in host nft list set inet portctl ban4)"
pc_expect open pc_probe peer3 tcp 10.99.3.1 443
pc_in host nft list set inet portctl ban4 | grep -q '10\.99\.1\.2' || pc_fail "a ban without timeout lapsed"
# The lapsed element is not deleted again: still an element change.
bans "$BASE"
case "$got" in "ok incremental "*) ;; *) pc_fail "after the lapse: $got" ;; esac

pc_log "unban: ping and new connections again"
bans
case "$got" in "ok incremental "*) ;; *) pc_fail "unban: $got" ;; esac
pc_expect reply pc_in peer1 python3 "$PING" 10.99.1.1 2000
# The ban stopped neighbour discovery too: the first tries may fail at once.
opens() { [ "$(pc_probe peer2 tcp fd99:2::1 443)" = open ]; }
pc_until 10 opens || pc_fail "peer2 does not reach fd99:2::1 port 443 after the unban"
exit 0
