#!/bin/sh
# Port forwarding and masquerade through the protected host: a peer connects
# to the host's 8080 (8443 over IPv6), the host DNATs it to a backend
# namespace, which sees the peer's own address, or the host's with
# masquerade. Each change is one transaction; delete, reload and panic hold;
# a zone bound by an interface wildcard picks its forwards;
# a bad forward line names FILE:LINE and changes nothing.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon-lib.sh"
pc_require
pcd_setup

pc_ns_add back
pc_link host vb 10.98.7.1 fd98:7::1 back vk 10.98.7.2 fd98:7::2
pc_in back ip route add default via 10.98.7.1
pc_in back ip -6 route add default via fd98:7::1
# portctl does not switch forwarding on (portctl.rules(5)): the host does.
pc_in host sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 ||
	pc_fail "cannot enable forwarding in the host namespace"
# Link-local addresses out of duplicate address detection: neighbour
# discovery answers only then.
settled() { ! pc_in "$1" ip -6 addr | grep -q tentative; }
for ns in host peer back; do
	pc_until 10 settled $ns || pc_fail "IPv6 addresses of $ns stay tentative"
done
SEEN="$PC_TMP/seen"
: >"$SEEN"
pc_background back python3 "$top_srcdir/tests/integration/nat_backend.py" 80 "$SEEN"

pc_config_write 10-base.rules 'allow 22/tcp'
pcd_start
gens() { grep -c '^# new generation' "$PC_TMP/mon"; }
# seen_last ADDR: the backend's last client was ADDR (it writes that down
# after the handshake the probe already saw complete: wait for it).
last_is() { [ "$(tail -1 "$SEEN")" = "$1" ]; }
seen_last() { pc_until 5 last_is "$1"; }

pcd_log "no forward: 8080 is closed"
pc_expect timeout pc_probe peer tcp 10.99.7.1 8080

pcd_log "portctl forward: one transaction, the backend sees the peer"
pc_monitor_start host "$PC_TMP/mon"
pcd_as_member forward 8080/tcp to 10.98.7.2:80 comment web >"$PC_TMP/out" ||
	pc_fail "forward: $(cat "$PC_TMP/out")"
pc_monitor_stop
[ "$(gens)" -eq 1 ] || pc_fail "forward took $(gens) transactions"
grep -qx 'forward 8080/tcp to 10.98.7.2:80 comment "web"' "$PC_TMP/etc/rules.d/90-portctl.rules" ||
	pc_fail "forward not persisted: $(cat "$PC_TMP/etc/rules.d/90-portctl.rules")"
pc_expect open pc_probe peer tcp 10.99.7.1 8080
seen_last 10.99.7.2 || pc_fail "backend saw $(tail -1 "$SEEN"), not the peer"
[ "$(pcd_rule_field 'forward 8080/tcp to 10.98.7.2:80 comment "web"' packets)" -ge 1 ] ||
	pc_fail "the forward's counter did not count"

pcd_log "IPv6: forward 8443 to [fd98:7::2]:80"
pcd_as_member forward 8443/tcp to '[fd98:7::2]:80' >/dev/null || pc_fail "forward v6"
pc_expect open pc_probe peer tcp fd99:7::1 8443
seen_last fd99:7::2 || pc_fail "backend saw $(tail -1 "$SEEN") over IPv6"

pcd_log "masquerade out vb: the backend sees the host"
pc_monitor_start host "$PC_TMP/mon"
pcd_as_member masquerade out vb >/dev/null || pc_fail "masquerade"
pc_monitor_stop
[ "$(gens)" -eq 1 ] || pc_fail "masquerade took $(gens) transactions"
pc_expect open pc_probe peer tcp 10.99.7.1 8080
seen_last 10.98.7.1 || pc_fail "with masquerade the backend saw $(tail -1 "$SEEN")"
pc_expect open pc_probe peer tcp fd99:7::1 8443
seen_last fd98:7::1 || pc_fail "with masquerade the backend saw $(tail -1 "$SEEN") (IPv6)"

pcd_log "reload keeps them; the kernel matches (no drift)"
pcd_as_member reload >/dev/null || pc_fail "reload"
pc_expect open pc_probe peer tcp 10.99.7.1 8080
pcd_as_member diff >"$PC_TMP/diff" 2>&1
grep -q "table inet portctl in the kernel differs" "$PC_TMP/diff" &&
	pc_fail "the kernel's nat chains do not read back as applied: $(cat "$PC_TMP/diff")"
pcd_as_member --json diff | grep -q '"matches": *true' ||
	pc_fail "diff does not say the kernel matches: $(pcd_as_member --json diff)"

pcd_as_member export >"$PC_TMP/export" || pc_fail "export"
grep -q '^forward 8080/tcp to 10.98.7.2:80 comment "web"' "$PC_TMP/export" &&
	grep -q '^masquerade out vb' "$PC_TMP/export" || pc_fail "export: $(cat "$PC_TMP/export")"
pcd_as_member status >"$PC_TMP/status" || pc_fail "status"
grep -q "forward 8443/tcp to \[fd98:7::2\]:80" "$PC_TMP/status" || pc_fail "status: $(cat "$PC_TMP/status")"

pcd_log "panic on stops the forwarded port, panic off restores it"
pcd_as_member panic on >/dev/null || pc_fail "panic on"
pc_expect timeout pc_probe peer tcp 10.99.7.1 8080
pcd_as_member panic off >/dev/null || pc_fail "panic off"
pc_expect open pc_probe peer tcp 10.99.7.1 8080

pcd_log "a ban stops the forward for that host"
pcd_as_member ban 10.99.7.2 >/dev/null || pc_fail "ban"
pc_expect timeout pc_probe peer tcp 10.99.7.1 8080
pcd_as_member unban 10.99.7.2 >/dev/null || pc_fail "unban"
pc_expect open pc_probe peer tcp 10.99.7.1 8080

pcd_log "a zone by interface wildcard: prerouting picks it as input does"
pc_config_write 15-edge.rules 'zone edge interface vh*' 'forward 8081/tcp to 10.98.7.2:80 zone edge'
pcd_as_member reload >"$PC_TMP/out" 2>&1 || pc_fail "reload with a wildcard zone: $(cat "$PC_TMP/out")"
pc_expect open pc_probe peer tcp 10.99.7.1 8081
# The masquerade is the default zone's: edge's clients keep their address.
seen_last 10.99.7.2 || pc_fail "8081: the backend saw $(tail -1 "$SEEN")"
# The peer is in edge now, not in the default zone 8080 is forwarded for.
pc_expect timeout pc_probe peer tcp 10.99.7.1 8080
rm "$PC_TMP/etc/rules.d/15-edge.rules"
pcd_as_member reload >/dev/null || pc_fail "reload without the wildcard zone"
pc_expect open pc_probe peer tcp 10.99.7.1 8080

pcd_log "a bad forward line: FILE:LINE, nothing applied"
before=$(pc_in host nft list table inet portctl)
for bad in 'forward 8080/tcp to 10.98.7.300:80' 'forward 8080/tcp' 'forward 8080/tcp to 10.98.7.2:0' \
	'forward 8080/tcp to 10.98.7.2:80 from fd99::/64'; do
	pc_config_write 20-bad.rules '# a bad one' "$bad"
	pcd_as_member reload >"$PC_TMP/out" 2>&1 && pc_fail "reload accepted '$bad'"
	grep -q "20-bad.rules:2:" "$PC_TMP/out" || pc_fail "no FILE:LINE for '$bad': $(cat "$PC_TMP/out")"
	pcd_log "refused: $bad: $(grep -m1 '20-bad.rules:2:' "$PC_TMP/out")"
done
rm "$PC_TMP/etc/rules.d/20-bad.rules"
[ "$(pc_in host nft list table inet portctl)" = "$before" ] || pc_fail "a bad line changed the table"

pcd_log "forwarding the SSH port away from under the admin needs --force"
(export SSH_CONNECTION="10.99.7.2 40000 10.99.7.1 22"
	pcd_as_member forward 22/tcp to 10.98.7.2:80 >"$PC_TMP/out" 2>&1)
rc=$?
[ $rc -eq 1 ] && grep -q "would forward it" "$PC_TMP/out" ||
	pc_fail "forward of the SSH port: exit $rc: $(cat "$PC_TMP/out")"

pcd_log "delete removes a forward; the last one takes the nat chains along"
pcd_as_member delete forward 8080/tcp to 10.98.7.2:80 comment web >/dev/null || pc_fail "delete"
pc_expect timeout pc_probe peer tcp 10.99.7.1 8080
pc_expect open pc_probe peer tcp fd99:7::1 8443
pcd_as_member delete forward 8443/tcp to '[fd98:7::2]:80' >/dev/null || pc_fail "delete v6"
pcd_as_member delete masquerade out vb >/dev/null || pc_fail "delete masquerade"
pc_expect timeout pc_probe peer tcp fd99:7::1 8443
pc_in host nft list table inet portctl | grep -q "prerouting\|postrouting" &&
	pc_fail "nat chains left behind"
grep -q forward "$PC_TMP/etc/rules.d/90-portctl.rules" && pc_fail "forward left in the file"
pcd_log "ok"
