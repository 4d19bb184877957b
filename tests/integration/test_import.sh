#!/bin/sh
# portctl import ufw|firewalld on configurations the real tools wrote
# (tests/data/import/, see generate.sh there): the output passes
# 'portctl check', holds the expected rules, and the report on stderr
# names what was not converted; then the hints for ufw and firewall-cmd
# habits. No root, no daemon. With PORTCTL_IMPORT_TOOLS=ROOT (extracted
# ufw and firewalld packages, see generate.sh) the configurations are
# made again by the tools and must import exactly like the checked-in ones.
set -u

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
portctl="$top_builddir/portctl"
data="$top_srcdir/tests/data/import"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0

fail() {
	echo "FAIL: $*"
	failures=$((failures + 1))
}

# run EXPECTED_RC ARGS...: portctl with the shipped zones and services.
run() {
	want=$1
	shift
	"$portctl" --socket "$tmp/none.sock" --config "$tmp/etc" --data-dir "$top_srcdir/rules" "$@" \
		>"$tmp/out" 2>"$tmp/err"
	rc=$?
	[ "$rc" -eq "$want" ] || fail "portctl $* exited $rc, want $want: $(cat "$tmp/err")"
}

expect_in() {
	grep -qxF -- "$2" "$1" || fail "$1 lacks the line '$2': $(cat "$1")"
}

# The rules of an import, without the comments that name its files.
rules_of() {
	grep -v '^#' "$1" | grep -v '^$'
}

mkdir -p "$tmp/etc/rules.d"

# --- ufw: ports, ranges, IPv6-only rules, limit, an interface, an app,
# reject, a source port, esp and a route rule (the last three reported).
run 1 import ufw "$data/ufw-a"
cp "$tmp/out" "$tmp/ufw-a.rules"
cp "$tmp/err" "$tmp/ufw-a.err"
run 0 check "$tmp/ufw-a.rules"
rules_of "$tmp/ufw-a.rules" >"$tmp/got"
cat >"$tmp/want" <<'RULES'
zone public policy in drop policy out accept default
zone ufw-eth1 interface eth1 policy in drop policy out accept
allow 22/tcp zone public,ufw-eth1
allow 8000-8100/tcp zone public,ufw-eth1 from 10.77.1.3
deny zone public,ufw-eth1 from fd77:1::3
limit 2222/tcp zone public,ufw-eth1
allow 5432/tcp zone ufw-eth1 comment "pg on lan"
allow 80,443/tcp zone public,ufw-eth1 comment "WWW Full"
reject 8443/tcp zone public,ufw-eth1
allow 9000/tcp zone public,ufw-eth1 from fd77:1::2
allow 7000-7010/udp zone public,ufw-eth1
RULES
diff "$tmp/want" "$tmp/got" >"$tmp/diff" || fail "ufw-a imported differently: $(cat "$tmp/diff")"
d="$data/ufw-a"
for line in \
	"portctl import: $d/ufw.conf: note: ufw was not enabled (ENABLED=no); its rules are imported anyway" \
	"portctl import: $d/user.rules:43: not converted: deny with source port 53 (portctl has no source ports)" \
	"portctl import: $d/user.rules:46: not converted: allow proto esp (portctl rules match tcp and udp ports only)" \
	"portctl import: $d/user.rules:49: not converted: a 'route' rule (forwarded traffic; portctl filters only this host's)" \
	"portctl import: 3 items not converted (above); the rest is on standard output"; do
	expect_in "$tmp/ufw-a.err" "$line"
done
# The shipped before/after rules hold nothing portctl's preamble lacks.
grep -q 'before\|after' "$tmp/ufw-a.err" && fail "shipped before/after rules reported: $(cat "$tmp/ufw-a.err")"

# Default reject, first match (a deny before an allow), v4- and v6-only
# sources, an interface, log, an outbound reject. Nothing left over: 0.
run 0 import ufw "$data/ufw-b"
cp "$tmp/out" "$tmp/ufw-b.rules"
run 0 check "$tmp/ufw-b.rules"
rules_of "$tmp/ufw-b.rules" >"$tmp/got"
cat >"$tmp/want" <<'RULES'
zone public policy in reject policy out accept default
zone ufw-eth1 interface eth1 policy in reject policy out accept
deny 80 zone public,ufw-eth1 from 10.77.1.3
allow 80/tcp zone public,ufw-eth1
allow 443/tcp zone public,ufw-eth1 from 10.77.1.0/24
allow 25/tcp zone public,ufw-eth1 from fd77:1::/64
reject 443/tcp zone ufw-eth1
allow 8081/tcp zone public,ufw-eth1 log
reject out 25/tcp zone public,ufw-eth1
RULES
diff "$tmp/want" "$tmp/got" >"$tmp/diff" || fail "ufw-b imported differently: $(cat "$tmp/diff")"

# A copy laid out as /etc is: DIR/../default/ufw holds the policies.
mkdir -p "$tmp/root/etc/ufw" "$tmp/root/etc/default"
cp "$data/ufw-b/user.rules" "$data/ufw-b/user6.rules" "$tmp/root/etc/ufw/"
cp "$data/ufw-b/default-ufw" "$tmp/root/etc/default/ufw"
run 0 import ufw "$tmp/root/etc/ufw"
expect_in "$tmp/out" "zone public policy in reject policy out accept default"

# --- firewalld: services (shipped, custom, with includes and destination
# addresses, one rule per address), ports, a range,
# rich rules (source, service, reject, limit, ipset, family), interface
# and source zones; icmp-block, policy, direct rule and the netbios helper
# reported; drop/reject rich rules ahead of the accepts, as firewalld runs them.
run 1 import firewalld "$data/firewalld-a"
cp "$tmp/out" "$tmp/fw-a.rules"
cp "$tmp/err" "$tmp/fw-a.err"
run 0 check "$tmp/fw-a.rules"
rules_of "$tmp/fw-a.rules" >"$tmp/got"
cat >"$tmp/want" <<'RULES'
zone block source 10.77.1.5 policy in reject   # firewalld zone block, target %%REJECT%%
zone internal interface eth1 policy in reject   # firewalld zone internal, target default
zone public policy in reject default   # firewalld zone public, target default
zone trusted source fd77:1::4 policy in accept   # firewalld zone trusted, target ACCEPT
allow 22/tcp zone internal comment "ssh"
allow 5353/udp zone internal to 224.0.0.251 comment "mdns"
allow 5353/udp zone internal to ff02::fb comment "mdns"
allow 138/udp zone internal comment "samba-client"
allow 137/udp zone internal comment "netbios-ns"
allow 546/udp zone internal to fe80::/64 comment "dhcpv6-client"
allow 5432/tcp zone internal comment "postgresql"
reject 8080/tcp zone public from 10.77.1.3
deny zone public from 10.77.1.4
allow 22/tcp zone public comment "ssh"
allow 443/tcp zone public comment "https"
allow 7070/tcp,7071/udp zone public comment "myapp"
allow 8080/tcp zone public
allow 60000-61000/udp zone public
allow 80/tcp zone public from 10.77.1.3
allow 2222/tcp zone public rate 3/minute
allow 8443/tcp zone public from fd77:1::3
RULES
diff "$tmp/want" "$tmp/got" >"$tmp/diff" || fail "firewalld-a imported differently: $(cat "$tmp/diff")"
d="$data/firewalld-a"
for line in \
	"portctl import: $d/zones/external.xml: note: zone external has no interface or source and is not the default: not imported" \
	"portctl import: $d/zones/internal.xml:7: not converted: service netbios-ns: helper netbios-ns" \
	"portctl import: $d/zones/public.xml:35: not converted: rich rule with icmp-block" \
	"portctl import: $d/policies/p1.xml: not converted: policy p1 (policies between zones)" \
	"portctl import: $d/direct.xml: not converted: 1 direct rule (iptables arguments)" \
	"portctl import: 4 items not converted (above); the rest is on standard output"; do
	expect_in "$tmp/fw-a.err" "$line"
done

# Another default zone (drop, a keyword here), a trusted interface, a
# source zone with a rich rule; portctl's public zone gives up "default".
run 0 import firewalld "$data/firewalld-b"
cp "$tmp/out" "$tmp/fw-b.rules"
cp "$tmp/err" "$tmp/fw-b.err"
run 0 check "$tmp/fw-b.rules"
rules_of "$tmp/fw-b.rules" >"$tmp/got"
cat >"$tmp/want" <<'RULES'
zone dmz source 10.77.1.3 policy in reject   # firewalld zone dmz, target default
zone drop-zone policy in drop default   # firewalld zone drop, target DROP
zone trusted interface eth1 policy in accept   # firewalld zone trusted, target ACCEPT
zone public policy in drop   # portctl's, no longer the default
allow 22/tcp zone dmz comment "ssh"
allow 8080/tcp zone dmz from 10.77.1.3
allow 22/tcp zone drop-zone comment "ssh"
allow 3000-3005/tcp zone drop-zone
RULES
diff "$tmp/want" "$tmp/got" >"$tmp/diff" || fail "firewalld-b imported differently: $(cat "$tmp/diff")"
expect_in "$tmp/fw-b.err" "portctl import: $data/firewalld-b/zones/drop.xml: note: zone drop is called drop-zone here (drop is a portctl keyword)"

# A broken zone file is reported with its line, the rest imported.
cp -R "$data/firewalld-b" "$tmp/fw-broken"
printf '<zone>\n  <service name="ssh">\n</zone>\n' >"$tmp/fw-broken/zones/work.xml"
run 1 import firewalld "$tmp/fw-broken"
expect_in "$tmp/err" "portctl import: $tmp/fw-broken/zones/work.xml:3: not converted: the file (mismatched end tag)"

# An interface wildcard portctl has no word for; firewalld's shipped
# public zone, its services' destination addresses kept.
mkdir -p "$tmp/fw-wild/zones"
printf '<zone>\n<interface name="eth+"/>\n</zone>\n' >"$tmp/fw-wild/zones/internal.xml"
run 1 import firewalld "$tmp/fw-wild"
expect_in "$tmp/err" "portctl import: $tmp/fw-wild/zones/internal.xml:2: not converted: zone internal: interface 'eth+' (not a name portctl accepts)"
expect_in "$tmp/out" "allow 546/udp zone public to fe80::/64 comment \"dhcpv6-client\""

# Usage and unreadable directories.
run 2 import
expect_in "$tmp/err" "portctl import: which firewall? 'ufw' or 'firewalld', then DIR if not /etc/ufw"
run 2 import iptables
run 1 import ufw "$tmp/nowhere"
expect_in "$tmp/err" "portctl import: $tmp/nowhere/user.rules: No such file or directory (is $tmp/nowhere ufw's directory?)"
run 1 import firewalld "$tmp/nowhere"
expect_in "$tmp/err" "portctl import: $tmp/nowhere: No such file or directory"

# --- The real tools again, when they are at hand: same configurations.
if [ -n "${PORTCTL_IMPORT_TOOLS:-}" ] && [ "$(id -u)" -eq 0 ]; then
	"$data/generate.sh" "$PORTCTL_IMPORT_TOOLS" "$tmp/live" >"$tmp/gen.err" 2>&1 ||
		fail "generate.sh: $(cat "$tmp/gen.err")"
	for set in ufw-a ufw-b firewalld-a firewalld-b; do
		"$portctl" --data-dir "$top_srcdir/rules" import "${set%%-*}" "$tmp/live/$set" 2>/dev/null |
			rules_of /dev/stdin >"$tmp/live.rules"
		"$portctl" --data-dir "$top_srcdir/rules" import "${set%%-*}" "$data/$set" 2>/dev/null |
			rules_of /dev/stdin >"$tmp/fixture.rules"
		cmp -s "$tmp/live.rules" "$tmp/fixture.rules" ||
			fail "$set: the tools now write what imports differently: $(diff "$tmp/fixture.rules" "$tmp/live.rules")"
	done
fi

# --- Habits: one line in portctl's words, exit 2, nothing sent.
hint() {
	hint_want=$1
	shift
	run 2 "$@"
	expect_in "$tmp/err" "$hint_want"
}
hint "portctl: did you mean: portctl allow 22/tcp from 192.0.2.7" \
	allow from 192.0.2.7 to any port 22 proto tcp
hint "portctl: did you mean: portctl allow 80,443/tcp" allow proto tcp from any to any port 80,443
hint "portctl: did you mean: portctl allow 1000-2000/tcp" allow 1000:2000/tcp
hint "portctl: did you mean: portctl allow 5432/tcp zone ZONE  (interfaces belong to zones: 'zone ZONE interface eth1' in a rules file)" \
	allow in on eth1 to any port 5432 proto tcp
hint "portctl: did you mean: portctl allow 22/udp from 10.0.0.1 port 53" \
	allow from 10.0.0.1 port 53 to any port 22 proto udp
hint "portctl: did you mean: portctl allow 443/tcp zone internal  (portctl's changes are permanent unless --runtime)" \
	--permanent --zone=internal --add-port=443/tcp
hint "portctl: did you mean: portctl allow 443/tcp  (portctl's changes are permanent unless --runtime)" \
	allow 443/tcp --permanent
hint "portctl: did you mean: portctl delete allow http" --remove-service=http
hint "portctl: did you mean: zone trusted source 10.0.0.0/8  (a line in /etc/portctl/rules.d/; see portctl.rules(5))" \
	--zone=trusted --add-source=10.0.0.0/8
hint "portctl: did you mean: portctl reload" firewall-cmd --reload
hint "portctl: did you mean: portctl allow 22/tcp  (portctl's words are ufw's)" ufw allow 22/tcp
hint "portctl: did you mean: portctl allow ssh from 10.0.0.0/8" allow from 10.0.0.0/8 to any app OpenSSH
hint "portctl: did you mean: portctl allow http,https" allow "Nginx Full"
hint "portctl: did you mean: portctl allow SERVICE  (ufw apps are portctl services: 'portctl services')" \
	allow app "My App"
# portctl's own words are left alone (here: on to the missing daemon),
# "proto" and "port" of its grammar too.
run 3 allow 22/tcp from 192.0.2.7 to any
run 3 deny from 192.0.2.1 port 53
run 3 allow proto gre

[ "$failures" -eq 0 ] || exit 1
echo "ok: import and habits"
