/* Unit tests of the compiler's plan: merging that keeps first match, zone
 * dispatch and policies, checked by evaluating packets with pc_plan_eval. */
#include "config.h"

#include <arpa/inet.h>
#include <check.h>
#include <stdlib.h>

#include "compile_helper.h"

#define ZONES "zone public interface eth0 default\n"

/* Evaluate a packet and check its verdict and deciding line (0: policy). */
static void expect(const struct pc_plan *plan, struct pc_packet p, enum pc_verdict_kind verdict,
		   unsigned int line)
{
	struct pc_verdict v = plan_eval_ok(plan, &p);

	ck_assert_str_eq(pc_verdict_kind_name(v.verdict), pc_verdict_kind_name(verdict));
	ck_assert_uint_eq(verdict_line(&v), line);
}

static struct pc_packet tcp_in(uint16_t port, const char *src)
{
	return packet_make(PC_DIR_IN, IPPROTO_TCP, port, src, strchr(src, ':') ? "2001:db8::1" : "192.0.2.1",
			   "eth0");
}

struct fixture {
	struct pc_config *cfg;
	struct pc_plan *plan;
};

static struct fixture fixture_new(const char *text)
{
	struct fixture f;

	f.cfg = config_from_text(text);
	f.plan = plan_from_config(f.cfg);
	return f;
}

static void fixture_free(struct fixture *f)
{
	pc_plan_free(f->plan);
	pc_config_free(f->cfg);
}

START_TEST(test_deny_between_allows)
{
	struct fixture f = fixture_new(ZONES "allow 1000-2000/tcp\n"
					     "deny 1500/tcp\n"
					     "allow 1400-1600/tcp,1500/udp\n");
	const struct pc_plan_chain *c = &f.plan->zones[0].dir[PC_DIR_IN];

	ck_assert_uint_eq(c->n_entries, 1);
	ck_assert_int_eq(c->entries[0].kind, PC_ENTRY_PORTS);
	/* 1000-2000 tcp stays the first rule's; 1500/tcp is shadowed by it. */
	expect(f.plan, tcp_in(1500, "198.51.100.1"), PC_VERDICT_ACCEPT, 2);
	expect(f.plan, tcp_in(1000, "198.51.100.1"), PC_VERDICT_ACCEPT, 2);
	expect(f.plan, tcp_in(2000, "198.51.100.1"), PC_VERDICT_ACCEPT, 2);
	expect(f.plan, tcp_in(2001, "198.51.100.1"), PC_VERDICT_DROP, 0);
	expect(f.plan, packet_make(PC_DIR_IN, IPPROTO_UDP, 1500, "198.51.100.1", "192.0.2.1", "eth0"),
	       PC_VERDICT_ACCEPT, 4);
	fixture_free(&f);
}
END_TEST

START_TEST(test_deny_cuts_later_range)
{
	struct fixture f = fixture_new(ZONES "allow 80/tcp\n"
					     "deny 1500/tcp\n"
					     "allow 1000-2000/tcp\n"
					     "reject 1800-1900/tcp\n");
	const struct pc_plan_entry *e = &f.plan->zones[0].dir[PC_DIR_IN].entries[0];

	/* 80, 1000-1499, 1500, 1501-2000: four disjoint segments. */
	ck_assert_uint_eq(e->n_ports, 4);
	expect(f.plan, tcp_in(1500, "198.51.100.1"), PC_VERDICT_DROP, 3);
	expect(f.plan, tcp_in(1499, "198.51.100.1"), PC_VERDICT_ACCEPT, 4);
	expect(f.plan, tcp_in(1501, "198.51.100.1"), PC_VERDICT_ACCEPT, 4);
	expect(f.plan, tcp_in(1850, "198.51.100.1"), PC_VERDICT_ACCEPT, 4);
	expect(f.plan, tcp_in(80, "198.51.100.1"), PC_VERDICT_ACCEPT, 2);
	fixture_free(&f);
}
END_TEST

START_TEST(test_reject_inside_allowed_range)
{
	struct fixture f = fixture_new(ZONES "reject 8050/tcp\n"
					     "allow 8000-8100/tcp\n");

	expect(f.plan, tcp_in(8050, "198.51.100.1"), PC_VERDICT_REJECT, 2);
	expect(f.plan, tcp_in(8049, "198.51.100.1"), PC_VERDICT_ACCEPT, 3);
	expect(f.plan, tcp_in(8051, "198.51.100.1"), PC_VERDICT_ACCEPT, 3);
	expect(f.plan, tcp_in(8101, "198.51.100.1"), PC_VERDICT_DROP, 0);
	ck_assert_uint_eq(f.plan->zones[0].dir[PC_DIR_IN].entries[0].n_ports, 3);
	fixture_free(&f);
}
END_TEST

START_TEST(test_from_breaks_run)
{
	struct fixture f = fixture_new(ZONES "allow 80/tcp\n"
					     "allow 22/tcp from 10.0.0.0/8\n"
					     "deny 22/tcp\n"
					     "allow 22/tcp,443/tcp\n");
	const struct pc_plan_chain *c = &f.plan->zones[0].dir[PC_DIR_IN];

	ck_assert_uint_eq(c->n_entries, 3);
	ck_assert_int_eq(c->entries[0].kind, PC_ENTRY_PORTS);
	ck_assert_int_eq(c->entries[1].kind, PC_ENTRY_RULE);
	ck_assert_int_eq(c->entries[2].kind, PC_ENTRY_PORTS);
	expect(f.plan, tcp_in(22, "10.1.2.3"), PC_VERDICT_ACCEPT, 3);
	expect(f.plan, tcp_in(22, "11.1.2.3"), PC_VERDICT_DROP, 4);
	expect(f.plan, tcp_in(443, "11.1.2.3"), PC_VERDICT_ACCEPT, 5);
	expect(f.plan, tcp_in(22, "2001:db8::1"), PC_VERDICT_DROP, 4);
	fixture_free(&f);
}
END_TEST

START_TEST(test_no_proto_and_service)
{
	struct fixture f = fixture_new(ZONES "service web 80/tcp,443/tcp\n"
					     "allow 53\n"
					     "allow web\n");

	expect(f.plan, packet_make(PC_DIR_IN, IPPROTO_UDP, 53, "198.51.100.1", "192.0.2.1", "eth0"),
	       PC_VERDICT_ACCEPT, 3);
	expect(f.plan, tcp_in(53, "198.51.100.1"), PC_VERDICT_ACCEPT, 3);
	expect(f.plan, packet_make(PC_DIR_IN, IPPROTO_SCTP, 53, "198.51.100.1", "192.0.2.1", "eth0"),
	       PC_VERDICT_DROP, 0);
	expect(f.plan, tcp_in(443, "198.51.100.1"), PC_VERDICT_ACCEPT, 4);
	expect(f.plan, packet_make(PC_DIR_IN, IPPROTO_UDP, 443, "198.51.100.1", "192.0.2.1", "eth0"),
	       PC_VERDICT_DROP, 0);
	fixture_free(&f);
}
END_TEST

START_TEST(test_from_only_block_merges)
{
	struct fixture f = fixture_new(ZONES "deny from 203.0.113.7,2001:db8:bad::/48\n"
					     "reject from 203.0.113.0/24\n"
					     "allow from 198.51.100.0/24\n"
					     "allow 22/tcp\n");
	const struct pc_plan_chain *c = &f.plan->zones[0].dir[PC_DIR_IN];

	ck_assert_uint_eq(c->n_entries, 2);
	ck_assert_int_eq(c->entries[0].kind, PC_ENTRY_ADDRS);
	/* 203.0.113.0-6, .7, .8-255, 198.51.100.0/24 */
	ck_assert_uint_eq(c->entries[0].addr4.n, 4);
	expect(f.plan, tcp_in(22, "203.0.113.7"), PC_VERDICT_DROP, 2);
	expect(f.plan, tcp_in(22, "203.0.113.8"), PC_VERDICT_REJECT, 3);
	expect(f.plan, tcp_in(9, "198.51.100.9"), PC_VERDICT_ACCEPT, 4);
	expect(f.plan, tcp_in(22, "2001:db8:bad:1::1"), PC_VERDICT_DROP, 2);
	expect(f.plan, tcp_in(22, "2001:db8:bae::1"), PC_VERDICT_ACCEPT, 5);
	expect(f.plan, tcp_in(23, "192.0.2.9"), PC_VERDICT_DROP, 0);
	fixture_free(&f);
}
END_TEST

/* Address rules of one port in a row are one run scoped to it; alone, or
 * between others, such a rule keeps a kernel rule of its own. */
START_TEST(test_one_port_from_many)
{
	struct fixture f = fixture_new(ZONES "allow 22/tcp from 10.0.0.1\n"
					     "allow 22/tcp from 10.0.0.0/24,2001:db8::/32\n"
					     "deny 22/tcp from 10.0.0.2\n"
					     "allow 23/tcp from 10.0.0.3\n"
					     "allow 22/udp from 10.0.0.4\n"
					     "deny from 10.0.0.5\n"
					     "allow 6000-6010/tcp from 10.0.0.6\n"
					     "allow 6000-6010/tcp from 10.0.0.7\n"
					     "allow 7000/tcp from 10.0.0.8\n"
					     "allow 7000-7001/tcp from 10.0.0.9\n");
	const struct pc_plan_chain *c = &f.plan->zones[0].dir[PC_DIR_IN];
	const struct pc_plan_entry *e = &c->entries[0];

	/* Lines 2-6, rules of one port each (a deny among them): per port,
	 * its addresses; 7; 8-9, of one port range; 10 and 11 alone. */
	ck_assert_uint_eq(c->n_entries, 5);
	ck_assert_int_eq(e->kind, PC_ENTRY_PAIRS);
	ck_assert_uint_eq(e->n_rules, 5);
	ck_assert_uint_eq(e->n_pairs, 3);
	ck_assert_uint_eq(e->pairs[0].key.l4proto, IPPROTO_TCP);
	ck_assert_uint_eq(e->pairs[0].key.port, 22);
	ck_assert_uint_eq(e->pairs[0].addr6.n, 1);
	ck_assert_uint_eq(e->pairs[1].key.port, 23);
	ck_assert_uint_eq(e->pairs[2].key.l4proto, IPPROTO_UDP);
	ck_assert_int_eq(c->entries[1].kind, PC_ENTRY_ADDRS);
	ck_assert_uint_eq(c->entries[1].scope_l4proto, 0);
	ck_assert_int_eq(c->entries[2].kind, PC_ENTRY_ADDRS);
	ck_assert_uint_eq(c->entries[2].scope_l4proto, IPPROTO_TCP);
	ck_assert_uint_eq(c->entries[2].scope_hi, 6010);
	ck_assert_int_eq(c->entries[3].kind, PC_ENTRY_RULE);
	ck_assert_int_eq(c->entries[4].kind, PC_ENTRY_RULE);
	/* Each port decides alone; first match within it. */
	expect(f.plan, tcp_in(22, "10.0.0.1"), PC_VERDICT_ACCEPT, 2);
	expect(f.plan, tcp_in(22, "10.0.0.2"), PC_VERDICT_ACCEPT, 3);
	expect(f.plan, tcp_in(22, "2001:db8:1::1"), PC_VERDICT_ACCEPT, 3);
	expect(f.plan, tcp_in(22, "10.0.1.2"), PC_VERDICT_DROP, 0);
	expect(f.plan, tcp_in(23, "10.0.0.1"), PC_VERDICT_DROP, 0);
	expect(f.plan, tcp_in(23, "10.0.0.3"), PC_VERDICT_ACCEPT, 5);
	expect(f.plan, tcp_in(23, "10.0.0.5"), PC_VERDICT_DROP, 7);
	expect(f.plan, packet_make(PC_DIR_IN, IPPROTO_UDP, 22, "10.0.0.1", "192.0.2.1", "eth0"),
	       PC_VERDICT_DROP, 0);
	expect(f.plan, packet_make(PC_DIR_IN, IPPROTO_UDP, 22, "10.0.0.4", "192.0.2.1", "eth0"),
	       PC_VERDICT_ACCEPT, 6);
	expect(f.plan, tcp_in(6005, "10.0.0.7"), PC_VERDICT_ACCEPT, 9);
	expect(f.plan, tcp_in(7001, "10.0.0.8"), PC_VERDICT_DROP, 0);
	expect(f.plan, tcp_in(7001, "10.0.0.9"), PC_VERDICT_ACCEPT, 11);
	fixture_free(&f);
}
END_TEST

/* Rules of a few ports each, over one protocol or both: each port of a
 * rule is a port of the run, first match among the rules naming it. */
START_TEST(test_few_ports_from_many)
{
	struct fixture f = fixture_new(ZONES "allow 80,443/tcp from 10.0.0.10\n"
					     "allow 53 from 10.0.0.11\n"
					     "deny 443/tcp from 10.0.0.0/24\n"
					     "allow 443/tcp from 10.0.0.12\n"
					     "allow 1-9,443/tcp from 10.0.0.13\n");
	const struct pc_plan_chain *c = &f.plan->zones[0].dir[PC_DIR_IN];

	ck_assert_uint_eq(c->n_entries, 2);
	ck_assert_int_eq(c->entries[0].kind, PC_ENTRY_PAIRS);
	ck_assert_uint_eq(c->entries[0].n_rules, 4);
	ck_assert_uint_eq(c->entries[0].n_pairs, 4); /* tcp 53, 80, 443; udp 53 */
	ck_assert_int_eq(c->entries[1].kind, PC_ENTRY_RULE); /* a range among its ports */
	expect(f.plan, tcp_in(443, "10.0.0.10"), PC_VERDICT_ACCEPT, 2);
	expect(f.plan, tcp_in(80, "10.0.0.10"), PC_VERDICT_ACCEPT, 2);
	expect(f.plan, tcp_in(53, "10.0.0.11"), PC_VERDICT_ACCEPT, 3);
	expect(f.plan, packet_make(PC_DIR_IN, IPPROTO_UDP, 53, "10.0.0.11", "192.0.2.1", "eth0"),
	       PC_VERDICT_ACCEPT, 3);
	expect(f.plan, packet_make(PC_DIR_IN, IPPROTO_UDP, 80, "10.0.0.10", "192.0.2.1", "eth0"),
	       PC_VERDICT_DROP, 0);
	expect(f.plan, tcp_in(443, "10.0.0.12"), PC_VERDICT_DROP, 4);
	expect(f.plan, tcp_in(80, "10.0.0.12"), PC_VERDICT_DROP, 0);
	expect(f.plan, tcp_in(5, "10.0.0.13"), PC_VERDICT_ACCEPT, 6);
	fixture_free(&f);
}
END_TEST

START_TEST(test_out_and_to)
{
	struct fixture f = fixture_new(ZONES "deny out 25/tcp log\n"
					     "deny out to 10.0.0.0/8\n"
					     "allow out 25/tcp to 192.0.2.0/24\n");
	struct pc_packet smtp = packet_make(PC_DIR_OUT, IPPROTO_TCP, 25, "192.0.2.1", "192.0.2.25",
					    "eth0");
	struct pc_packet other = packet_make(PC_DIR_OUT, IPPROTO_TCP, 80, "192.0.2.1", "10.9.9.9",
					     "eth0");
	struct pc_packet web = packet_make(PC_DIR_OUT, IPPROTO_TCP, 80, "192.0.2.1", "192.0.2.80",
					   "eth0");

	expect(f.plan, smtp, PC_VERDICT_DROP, 2);
	expect(f.plan, other, PC_VERDICT_DROP, 3);
	expect(f.plan, web, PC_VERDICT_ACCEPT, 0);
	ck_assert(f.plan->zones[0].dir[PC_DIR_OUT].entries[1].match_dst);
	/* Inbound on port 25 is untouched by out rules. */
	expect(f.plan, tcp_in(25, "198.51.100.1"), PC_VERDICT_DROP, 0);
	fixture_free(&f);
}
END_TEST

START_TEST(test_limit_rate_log_are_rules)
{
	struct fixture f = fixture_new(ZONES "limit 22/tcp\n"
					     "allow 80/tcp rate 10/second burst 20\n"
					     "allow 81/tcp log comment \"web\"\n"
					     "allow 82/tcp\n");
	const struct pc_plan_chain *c = &f.plan->zones[0].dir[PC_DIR_IN];

	ck_assert_uint_eq(c->n_entries, 4);
	for (size_t i = 0; i < 3; i++)
		ck_assert_int_eq(c->entries[i].kind, PC_ENTRY_RULE);
	ck_assert_int_eq(c->entries[3].kind, PC_ENTRY_PORTS);
	expect(f.plan, tcp_in(22, "198.51.100.1"), PC_VERDICT_ACCEPT, 2);
	expect(f.plan, tcp_in(80, "198.51.100.1"), PC_VERDICT_ACCEPT, 3);
	expect(f.plan, tcp_in(81, "198.51.100.1"), PC_VERDICT_ACCEPT, 4);
	expect(f.plan, tcp_in(82, "198.51.100.1"), PC_VERDICT_ACCEPT, 5);
	fixture_free(&f);
}
END_TEST

#define DISPATCH_ZONES                                                                             \
	"zone public interface eth0 default\n"                                                     \
	"zone private interface eth1 source 192.168.0.0/16,fd00::/8 policy in reject\n"            \
	"zone lab source 10.5.0.0/16,fc05::/16 policy in accept\n"                                 \
	"zone dmz interface eth2 policy out drop\n"                                                \
	"allow 22/tcp zone private\n"                                                              \
	"allow 80/tcp zone dmz\n"

static const char *zone_of(const struct pc_plan *plan, struct pc_packet p,
			   enum pc_zone_reason reason)
{
	struct pc_verdict v = plan_eval_ok(plan, &p);

	ck_assert_int_eq(v.zone_reason, reason);
	return v.zone->name;
}

START_TEST(test_zone_dispatch)
{
	struct fixture f = fixture_new(DISPATCH_ZONES);

	/* Source beats interface. */
	ck_assert_str_eq(zone_of(f.plan, tcp_in(22, "10.5.0.1"), PC_ZONE_BY_ADDRESS), "lab");
	ck_assert_str_eq(zone_of(f.plan, tcp_in(22, "192.168.4.255"), PC_ZONE_BY_ADDRESS),
			 "private");
	ck_assert_str_eq(zone_of(f.plan, tcp_in(22, "fc05::1"), PC_ZONE_BY_ADDRESS), "lab");
	ck_assert_str_eq(zone_of(f.plan, tcp_in(22, "fd00:6::1"), PC_ZONE_BY_ADDRESS), "private");
	ck_assert_str_eq(zone_of(f.plan,
				 packet_make(PC_DIR_IN, IPPROTO_TCP, 22, "10.0.0.1", "10.0.0.2",
					     "eth1"),
				 PC_ZONE_BY_IFACE),
			 "private");
	ck_assert_str_eq(zone_of(f.plan,
				 packet_make(PC_DIR_IN, IPPROTO_TCP, 22, "10.0.0.1", "10.0.0.2",
					     "eth9"),
				 PC_ZONE_BY_DEFAULT),
			 "public");
	/* Outbound: by destination, then output interface. */
	ck_assert_str_eq(zone_of(f.plan,
				 packet_make(PC_DIR_OUT, IPPROTO_TCP, 80, "10.0.0.1", "10.5.9.9",
					     "eth0"),
				 PC_ZONE_BY_ADDRESS),
			 "lab");
	ck_assert_str_eq(zone_of(f.plan,
				 packet_make(PC_DIR_OUT, IPPROTO_TCP, 80, "10.0.0.1", "10.0.0.2",
					     "eth2"),
				 PC_ZONE_BY_IFACE),
			 "dmz");
	fixture_free(&f);
}
END_TEST

/* A prefix inside another zone's: the longest prefix wins, and validation
 * lets it through (the same prefix in two zones it refuses). */
START_TEST(test_zone_longest_prefix)
{
	struct fixture f =
	    fixture_new(DISPATCH_ZONES "zone lab5 source 192.168.5.0/24,fd00:5::/32\n");

	ck_assert_str_eq(zone_of(f.plan, tcp_in(22, "192.168.5.1"), PC_ZONE_BY_ADDRESS), "lab5");
	ck_assert_str_eq(zone_of(f.plan, tcp_in(22, "192.168.4.255"), PC_ZONE_BY_ADDRESS),
			 "private");
	ck_assert_str_eq(zone_of(f.plan, tcp_in(22, "192.168.6.0"), PC_ZONE_BY_ADDRESS), "private");
	ck_assert_str_eq(zone_of(f.plan, tcp_in(22, "fd00:5::1"), PC_ZONE_BY_ADDRESS), "lab5");
	ck_assert_str_eq(zone_of(f.plan, tcp_in(22, "fd00:4:ffff::1"), PC_ZONE_BY_ADDRESS),
			 "private");
	/* 10.5.0.0/16, 192.168.0.0-4.255, 192.168.5.0/24 and 192.168.6.0-255.255 */
	ck_assert_uint_eq(f.plan->dispatch[PC_DIR_IN].addr4.n, 4);
	fixture_free(&f);
}
END_TEST

START_TEST(test_policy_endings)
{
	struct fixture f = fixture_new(DISPATCH_ZONES);

	expect(f.plan, tcp_in(22, "192.168.1.1"), PC_VERDICT_ACCEPT, 5);
	expect(f.plan, tcp_in(23, "192.168.1.1"), PC_VERDICT_REJECT, 0);
	expect(f.plan, tcp_in(23, "10.5.5.1"), PC_VERDICT_ACCEPT, 0);
	expect(f.plan, tcp_in(22, "10.1.1.1"), PC_VERDICT_DROP, 0);
	expect(f.plan, packet_make(PC_DIR_OUT, IPPROTO_TCP, 443, "10.0.0.1", "10.0.0.2", "eth2"),
	       PC_VERDICT_DROP, 0);
	expect(f.plan, packet_make(PC_DIR_OUT, IPPROTO_TCP, 443, "10.0.0.1", "10.0.0.2", "eth0"),
	       PC_VERDICT_ACCEPT, 0);
	fixture_free(&f);
}
END_TEST

START_TEST(test_preamble)
{
	struct fixture f = fixture_new(ZONES "deny from 127.0.0.0/8\n");
	struct pc_packet lo = packet_make(PC_DIR_IN, IPPROTO_TCP, 9, "127.0.0.1", "127.0.0.1", "lo");
	struct pc_packet ping = packet_make(PC_DIR_IN, IPPROTO_ICMP, 0, "127.0.0.1", "192.0.2.1",
					    "eth0");
	struct pc_packet nd = packet_make(PC_DIR_IN, IPPROTO_ICMPV6, 0, "fe80::1", "fe80::2", "eth0");
	struct pc_verdict v;

	v = plan_eval_ok(f.plan, &lo);
	ck_assert_int_eq(v.by, PC_DECIDED_PREAMBLE);
	/* Ping is the zone's, after its rules: "deny from" takes it away. */
	ping.icmp_type = 8;
	expect(f.plan, ping, PC_VERDICT_DROP, 2);
	inet_pton(AF_INET, "198.51.100.7", ping.saddr);
	v = plan_eval_ok(f.plan, &ping);
	ck_assert_int_eq(v.by, PC_DECIDED_PING);
	ck_assert_int_eq(v.verdict, PC_VERDICT_ACCEPT);
	ping.icmp_type = 13; /* timestamp: not needed, so the policy decides */
	v = plan_eval_ok(f.plan, &ping);
	ck_assert_int_eq(v.by, PC_DECIDED_POLICY);
	ck_assert_int_eq(v.verdict, PC_VERDICT_DROP);
	nd.icmp_type = 135;
	v = plan_eval_ok(f.plan, &nd);
	ck_assert_int_eq(v.by, PC_DECIDED_PREAMBLE);
	fixture_free(&f);
}
END_TEST

/* Forwarded traffic: zones by wildcard interface (an exact name wins, a
 * longer prefix wins), forward rules and policy; a published port goes to
 * the zone's in rules unless published-ports = runtime. */
#define FWD_ZONES                                                                     \
	ZONES "zone lan interface br-*,veth* policy forward drop\n"                 \
	      "zone x interface br-lan\n"                                             \
	      "zone y interface br-lab* policy forward reject\n"                      \
	      "allow forward 80/tcp zone lan\n"                                       \
	      "allow 8080/tcp zone lan\n"

/* Rules of a port, sources and one host each, in a row, are a run of
 * ports toward hosts: a pair per port and host, its spans the sources,
 * first match within it; a rule whose sources are of another family than
 * its host, or of two hosts, keeps a kernel rule of its own and cuts the
 * run; rules of sources alone are a run apart. */
START_TEST(test_toward_hosts)
{
	struct fixture f = fixture_new(ZONES "allow 22/tcp from 10.0.0.0/24 to 192.0.2.1\n"
					     "allow 22/tcp from 10.0.0.7 to 192.0.2.2\n"
					     "allow 22/tcp from 2001:db8:1::/48 to 2001:db8::1\n"
					     "allow 22/tcp from 10.1.0.0/16 to 192.0.2.0/24\n"
					     "deny 23/tcp from 10.0.0.7 to 192.0.2.1\n"
					     "reject 23/tcp from 10.0.0.0/24 to 192.0.2.1\n"
					     "deny 23/tcp from 2001:db8:1::7 to 2001:db8::1\n"
					     "allow 24/tcp from 10.0.0.0/8 to 192.0.2.1,192.0.2.2\n"
					     "allow 25/tcp from 10.0.0.1\n"
					     "allow 26/tcp from 10.0.0.1\n");
	const struct pc_plan_chain *c = &f.plan->zones[0].dir[PC_DIR_IN];
	const struct pc_plan_entry *e = &c->entries[0];

	ck_assert_uint_eq(c->n_entries, 4);
	/* Allow rules toward hosts are a run toward networks of the full
	 * length, of both families, with the network after them. */
	ck_assert_int_eq(e->kind, PC_ENTRY_PAIRS);
	ck_assert(e->to_net && !e->to_host);
	ck_assert_uint_eq(e->n_rules, 4);
	/* 22 toward 192.0.2.0/24, 192.0.2.1, .2, toward 2001:db8::1. */
	ck_assert_uint_eq(e->n_pairs, 4);
	ck_assert_uint_eq(e->pairs[0].key.dlen, 24);
	ck_assert_uint_eq(e->pairs[1].key.dlen, 32);
	ck_assert_uint_eq(e->pairs[3].key.dfamily, AF_INET6);
	ck_assert_uint_eq(e->pairs[3].key.dlen, 128);
	/* Other rules toward hosts: a run of their own, of both families and
	 * any verdict, the deny over the reject's network. */
	e = &c->entries[1];
	ck_assert_int_eq(e->kind, PC_ENTRY_PAIRS);
	ck_assert(e->to_host);
	ck_assert_uint_eq(e->n_rules, 3);
	ck_assert_uint_eq(e->n_pairs, 2);
	ck_assert_uint_eq(e->pairs[0].addr4.n, 3);
	ck_assert_int_eq(c->entries[2].kind, PC_ENTRY_RULE);
	ck_assert_int_eq(c->entries[3].kind, PC_ENTRY_PAIRS);
	ck_assert(!c->entries[3].to_host && !c->entries[3].to_net);
	expect(f.plan, tcp_in(22, "10.0.0.1"), PC_VERDICT_ACCEPT, 2);
	expect(f.plan, tcp_in(22, "10.0.0.7"), PC_VERDICT_ACCEPT, 2);
	expect(f.plan, tcp_in(22, "10.1.2.3"), PC_VERDICT_ACCEPT, 5);
	expect(f.plan, tcp_in(22, "10.2.0.1"), PC_VERDICT_DROP, 0);
	expect(f.plan, packet_make(PC_DIR_IN, IPPROTO_TCP, 22, "10.0.0.7", "192.0.2.2", "eth0"),
	       PC_VERDICT_ACCEPT, 3);
	expect(f.plan, packet_make(PC_DIR_IN, IPPROTO_TCP, 22, "10.0.0.8", "192.0.2.2", "eth0"),
	       PC_VERDICT_DROP, 0);
	expect(f.plan, packet_make(PC_DIR_IN, IPPROTO_TCP, 22, "10.1.0.1", "192.0.2.9", "eth0"),
	       PC_VERDICT_ACCEPT, 5);
	expect(f.plan, packet_make(PC_DIR_IN, IPPROTO_TCP, 22, "10.0.0.1", "192.0.3.1", "eth0"),
	       PC_VERDICT_DROP, 0);
	expect(f.plan, tcp_in(22, "2001:db8:1::5"), PC_VERDICT_ACCEPT, 4);
	expect(f.plan, packet_make(PC_DIR_IN, IPPROTO_TCP, 22, "2001:db8:1::5", "2001:db8::2",
				   "eth0"),
	       PC_VERDICT_DROP, 0);
	expect(f.plan, tcp_in(23, "10.0.0.7"), PC_VERDICT_DROP, 6);
	expect(f.plan, tcp_in(23, "10.0.0.8"), PC_VERDICT_REJECT, 7);
	expect(f.plan, tcp_in(23, "2001:db8:1::7"), PC_VERDICT_DROP, 8);
	expect(f.plan, tcp_in(23, "2001:db8:1::8"), PC_VERDICT_DROP, 0);
	expect(f.plan, packet_make(PC_DIR_IN, IPPROTO_TCP, 24, "10.1.0.1", "192.0.2.2", "eth0"),
	       PC_VERDICT_ACCEPT, 9);
	expect(f.plan, packet_make(PC_DIR_IN, IPPROTO_TCP, 25, "10.0.0.1", "192.0.2.9", "eth0"),
	       PC_VERDICT_ACCEPT, 10);
	fixture_free(&f);
}
END_TEST

static struct pc_packet tcp_to(uint16_t port, const char *src, const char *dst)
{
	return packet_make(PC_DIR_IN, IPPROTO_TCP, port, src, dst, "eth0");
}

/* Rules toward several destinations (dual stack, several hosts): each
 * destination a source of its family can reach is a pair of the run; one
 * no source can reach decides nothing. */
START_TEST(test_toward_several)
{
	struct fixture f =
		fixture_new(ZONES "allow 22/tcp from 10.0.0.0/24,2001:db8:1::/48 to 192.0.2.1,2001:db8::/64\n"
				  "allow 22/tcp from 10.1.0.0/16 to 192.0.2.0/24,fd97::/16\n"
				  "allow 80,443/tcp from 10.2.0.1 to 192.0.2.9,198.51.100.0/24\n"
				  "deny 23/tcp from 10.0.0.7 to 192.0.2.1,2001:db8::1\n"
				  "reject 23/tcp from 10.0.0.0/24,2001:db8:1::/48 to 192.0.2.2,2001:db8::1\n"
				  "deny 25/tcp from 10.0.0.7 to 192.0.2.0/24,198.51.100.0/24\n"
				  "deny 25/tcp from 10.0.0.8 to 203.0.113.0/24,10.9.0.0/16,2001:db8::/64\n"
				  "reject 26/tcp from 10.0.0.7 to 192.0.2.0/24,10.9.0.0/16,192.0.2.5\n");
	const struct pc_plan_chain *c = &f.plan->zones[0].dir[PC_DIR_IN];
	const struct pc_plan_entry *e = &c->entries[0];

	ck_assert_uint_eq(c->n_entries, 4);
	ck_assert_int_eq(e->kind, PC_ENTRY_PAIRS);
	ck_assert(e->to_net);
	ck_assert_uint_eq(e->n_rules, 3);
	/* 22 toward 192.0.2.1, 2001:db8::/64 and 192.0.2.0/24 (not fd97::/16:
	 * no IPv6 source), 80 and 443 toward two each. */
	ck_assert_uint_eq(e->n_pairs, 7);
	/* A destination's sources are of its family alone. */
	for (size_t i = 0; i < e->n_pairs; i++)
		ck_assert_uint_eq(e->pairs[i].key.dfamily == AF_INET ? e->pairs[i].addr6.n :
								       e->pairs[i].addr4.n,
				  0);
	/* Deny and reject toward hosts of both families. */
	ck_assert(c->entries[1].to_host);
	ck_assert_uint_eq(c->entries[1].n_rules, 2);
	ck_assert_uint_eq(c->entries[1].n_pairs, 3);
	/* Denies toward networks of any length (and no IPv6 source: no
	 * pair toward 2001:db8::/64); a reject after them is not of their
	 * run. */
	ck_assert(c->entries[2].to_net);
	ck_assert_uint_eq(c->entries[2].n_rules, 2);
	ck_assert_uint_eq(c->entries[2].n_pairs, 4);
	ck_assert_int_eq(c->entries[3].kind, PC_ENTRY_RULE);
	expect(f.plan, tcp_to(22, "10.0.0.5", "192.0.2.1"), PC_VERDICT_ACCEPT, 2);
	expect(f.plan, tcp_to(22, "2001:db8:1::5", "2001:db8::77"), PC_VERDICT_ACCEPT, 2);
	expect(f.plan, tcp_to(22, "10.1.2.3", "192.0.2.200"), PC_VERDICT_ACCEPT, 3);
	expect(f.plan, tcp_to(22, "2001:db8:1::5", "fd97::1"), PC_VERDICT_DROP, 0);
	expect(f.plan, tcp_to(443, "10.2.0.1", "198.51.100.7"), PC_VERDICT_ACCEPT, 4);
	expect(f.plan, tcp_to(80, "10.2.0.1", "192.0.2.9"), PC_VERDICT_ACCEPT, 4);
	expect(f.plan, tcp_to(443, "10.2.0.2", "198.51.100.7"), PC_VERDICT_DROP, 0);
	expect(f.plan, tcp_to(23, "10.0.0.7", "192.0.2.1"), PC_VERDICT_DROP, 5);
	expect(f.plan, tcp_to(23, "10.0.0.7", "192.0.2.2"), PC_VERDICT_REJECT, 6);
	expect(f.plan, tcp_to(23, "2001:db8:1::7", "2001:db8::1"), PC_VERDICT_REJECT, 6);
	expect(f.plan, tcp_to(25, "10.0.0.7", "198.51.100.3"), PC_VERDICT_DROP, 7);
	expect(f.plan, tcp_to(25, "10.0.0.8", "10.9.1.1"), PC_VERDICT_DROP, 8);
	expect(f.plan, tcp_to(25, "10.0.0.8", "192.0.2.3"), PC_VERDICT_DROP, 0);
	expect(f.plan, tcp_to(26, "10.0.0.7", "10.9.1.1"), PC_VERDICT_REJECT, 9);
	expect(f.plan, tcp_to(26, "10.0.0.7", "192.0.2.5"), PC_VERDICT_REJECT, 9);
	fixture_free(&f);
}
END_TEST

static struct pc_packet tcp_fwd(uint16_t port, const char *iif, bool published)
{
	struct pc_packet p = packet_make(PC_DIR_FWD, IPPROTO_TCP, port, "10.0.0.1", "10.0.9.9", iif);

	p.published = published;
	return p;
}

START_TEST(test_forward)
{
	struct fixture f = fixture_new(FWD_ZONES);

	ck_assert_str_eq(zone_of(f.plan, tcp_fwd(80, "br-abc", false), PC_ZONE_BY_IFACE), "lan");
	ck_assert_str_eq(zone_of(f.plan, tcp_fwd(80, "veth0", false), PC_ZONE_BY_IFACE), "lan");
	ck_assert_str_eq(zone_of(f.plan, tcp_fwd(80, "br-lan", false), PC_ZONE_BY_IFACE), "x");
	ck_assert_str_eq(zone_of(f.plan, tcp_fwd(80, "br-lab2", false), PC_ZONE_BY_IFACE), "y");
	ck_assert_str_eq(zone_of(f.plan, tcp_fwd(80, "br", false), PC_ZONE_BY_DEFAULT), "public");
	expect(f.plan, tcp_fwd(80, "br-abc", false), PC_VERDICT_ACCEPT, 5);
	expect(f.plan, tcp_fwd(81, "br-abc", false), PC_VERDICT_DROP, 0);
	expect(f.plan, tcp_fwd(81, "br-lan", false), PC_VERDICT_ACCEPT, 0);
	expect(f.plan, tcp_fwd(81, "br-lab", false), PC_VERDICT_REJECT, 0);
	expect(f.plan, tcp_fwd(81, "eth0", false), PC_VERDICT_ACCEPT, 0);
	/* Published: the in rules, on the original port. */
	expect(f.plan, tcp_fwd(8080, "br-abc", true), PC_VERDICT_ACCEPT, 6);
	expect(f.plan, tcp_fwd(80, "br-abc", true), PC_VERDICT_DROP, 0);
	expect(f.plan, tcp_fwd(8080, "eth0", true), PC_VERDICT_DROP, 0);
	fixture_free(&f);
	/* published-ports = runtime: the forward rules and policy decide. */
	f = fixture_new(FWD_ZONES);
	f.cfg->settings.published = PC_PUBLISHED_RUNTIME;
	expect(f.plan, tcp_fwd(8080, "br-abc", true), PC_VERDICT_DROP, 0);
	expect(f.plan, tcp_fwd(80, "br-abc", true), PC_VERDICT_ACCEPT, 5);
	expect(f.plan, tcp_fwd(8080, "eth0", true), PC_VERDICT_ACCEPT, 0);
	fixture_free(&f);
}
END_TEST

START_TEST(test_multi_zone_rule)
{
	struct fixture f = fixture_new(DISPATCH_ZONES "allow in 443/tcp zone dmz,private comment "
						      "\"WCF-WF 4.0 Samples\"\n");

	expect(f.plan, packet_make(PC_DIR_IN, IPPROTO_TCP, 443, "10.0.0.1", "10.0.0.2", "eth2"),
	       PC_VERDICT_ACCEPT, 7);
	expect(f.plan, tcp_in(443, "192.168.1.1"), PC_VERDICT_ACCEPT, 7);
	expect(f.plan, tcp_in(443, "10.1.1.1"), PC_VERDICT_DROP, 0);
	fixture_free(&f);
}
END_TEST

/* Rules of a port, sources and one network each, in a row, are a run of
 * ports toward networks when these are of one family and prefix length:
 * a pair per port and network, its spans the sources, first match within
 * it; a rule toward a network of another length begins another run, and
 * a packet toward none of them is the policy's. */
START_TEST(test_toward_networks)
{
	struct fixture f = fixture_new(ZONES "deny 22/tcp from 10.0.0.7 to 192.0.2.0/28\n"
					     "allow 22/tcp from 10.0.0.0/24 to 192.0.2.0/28\n"
					     "allow 23/tcp from 10.1.0.0/16 to 192.0.2.0/28\n"
					     "allow 22/tcp from 10.0.0.7 to 192.0.2.16/28\n"
					     "allow 24/tcp from 10.0.0.0/8 to 192.0.2.16/28\n"
					     "allow 22/tcp from 2001:db8:1::/48 to 2001:db8::/64\n"
					     "allow 26/tcp from 10.0.0.1 to 192.0.2.1\n"
					     "allow 27/tcp from 10.0.0.1 to 192.0.2.0/24\n"
					     "allow 27/tcp from 10.0.0.2 to 192.0.2.0/24\n"
					     "allow 27/tcp from 10.0.0.0/24 to 192.0.0.0/16\n"
					     "deny 28/tcp from 10.0.0.4 to 192.0.2.0/24\n"
					     "deny 28/tcp from 10.0.0.5 to 192.0.0.0/16\n"
					     "reject 28/tcp from 10.0.0.0/24 to 192.0.2.0/24\n");
	const struct pc_plan_chain *c = &f.plan->zones[0].dir[PC_DIR_IN];

	/* The deny and the allows after it are not one run (toward networks,
	 * rules of one verdict are); allows toward networks and hosts of any
	 * family and length are, and so are denies, however their networks
	 * nest, but not a reject after them. */
	ck_assert_uint_eq(c->n_entries, 4);
	ck_assert_int_eq(c->entries[0].kind, PC_ENTRY_RULE);
	ck_assert_int_eq(c->entries[1].kind, PC_ENTRY_PAIRS);
	ck_assert(c->entries[1].to_net && !c->entries[1].to_host);
	ck_assert_uint_eq(c->entries[1].n_rules, 9);
	/* 22 and 23 toward 192.0.2.0/28, 22 and 24 toward 192.0.2.16/28, 26
	 * toward 192.0.2.1, 27 toward 192.0.0.0/16 and 192.0.2.0/24, 22
	 * toward 2001:db8::/64. */
	ck_assert_uint_eq(c->entries[1].n_pairs, 8);
	ck_assert_uint_eq(c->entries[1].pairs[0].key.dfamily, AF_INET);
	ck_assert_uint_eq(c->entries[1].pairs[0].key.dlen, 28);
	ck_assert_int_eq(c->entries[2].kind, PC_ENTRY_PAIRS);
	ck_assert(c->entries[2].to_net);
	ck_assert_uint_eq(c->entries[2].n_pairs, 2);
	ck_assert_int_eq(c->entries[3].kind, PC_ENTRY_RULE);
	expect(f.plan, tcp_in(22, "10.0.0.7"), PC_VERDICT_DROP, 2);
	expect(f.plan, tcp_in(22, "10.0.0.8"), PC_VERDICT_ACCEPT, 3);
	expect(f.plan, packet_make(PC_DIR_IN, IPPROTO_TCP, 22, "10.0.0.7", "192.0.2.17", "eth0"),
	       PC_VERDICT_ACCEPT, 5);
	expect(f.plan, packet_make(PC_DIR_IN, IPPROTO_TCP, 22, "10.0.0.8", "192.0.2.17", "eth0"),
	       PC_VERDICT_DROP, 0);
	expect(f.plan, packet_make(PC_DIR_IN, IPPROTO_TCP, 23, "10.1.2.3", "192.0.2.5", "eth0"),
	       PC_VERDICT_ACCEPT, 4);
	expect(f.plan, packet_make(PC_DIR_IN, IPPROTO_TCP, 23, "10.1.2.3", "192.0.2.20", "eth0"),
	       PC_VERDICT_DROP, 0);
	expect(f.plan, packet_make(PC_DIR_IN, IPPROTO_TCP, 24, "10.9.9.9", "192.0.2.20", "eth0"),
	       PC_VERDICT_ACCEPT, 6);
	expect(f.plan, tcp_in(24, "10.9.9.9"), PC_VERDICT_DROP, 0);
	expect(f.plan, tcp_in(22, "2001:db8:1::5"), PC_VERDICT_ACCEPT, 7);
	expect(f.plan, packet_make(PC_DIR_IN, IPPROTO_TCP, 22, "2001:db8:1::5", "2001:db8:1::1",
				   "eth0"),
	       PC_VERDICT_DROP, 0);
	/* Inside both the /24 and the /16: the first rule that matches. */
	expect(f.plan, packet_make(PC_DIR_IN, IPPROTO_TCP, 27, "10.0.0.2", "192.0.2.200", "eth0"),
	       PC_VERDICT_ACCEPT, 10);
	expect(f.plan, packet_make(PC_DIR_IN, IPPROTO_TCP, 27, "10.0.0.3", "192.0.2.200", "eth0"),
	       PC_VERDICT_ACCEPT, 11);
	expect(f.plan, packet_make(PC_DIR_IN, IPPROTO_TCP, 27, "10.0.0.2", "192.0.3.1", "eth0"),
	       PC_VERDICT_ACCEPT, 11);
	expect(f.plan, packet_make(PC_DIR_IN, IPPROTO_TCP, 27, "10.0.1.2", "192.0.2.200", "eth0"),
	       PC_VERDICT_DROP, 0);
	expect(f.plan, packet_make(PC_DIR_IN, IPPROTO_TCP, 27, "10.0.0.2", "192.1.0.1", "eth0"),
	       PC_VERDICT_DROP, 0);
	expect(f.plan, packet_make(PC_DIR_IN, IPPROTO_TCP, 28, "10.0.0.4", "192.0.2.9", "eth0"),
	       PC_VERDICT_DROP, 12);
	expect(f.plan, packet_make(PC_DIR_IN, IPPROTO_TCP, 28, "10.0.0.5", "192.0.2.9", "eth0"),
	       PC_VERDICT_DROP, 13);
	expect(f.plan, packet_make(PC_DIR_IN, IPPROTO_TCP, 28, "10.0.0.5", "192.0.3.1", "eth0"),
	       PC_VERDICT_DROP, 13);
	expect(f.plan, packet_make(PC_DIR_IN, IPPROTO_TCP, 28, "10.0.0.6", "192.0.2.9", "eth0"),
	       PC_VERDICT_REJECT, 14);
	expect(f.plan, packet_make(PC_DIR_IN, IPPROTO_TCP, 28, "10.0.0.6", "192.0.3.1", "eth0"),
	       PC_VERDICT_DROP, 0);
	fixture_free(&f);
}
END_TEST

static Suite *plan_suite(void)
{
	Suite *s = suite_create("plan");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_deny_between_allows);
	tcase_add_test(tc, test_toward_hosts);
	tcase_add_test(tc, test_toward_networks);
	tcase_add_test(tc, test_toward_several);
	tcase_add_test(tc, test_deny_cuts_later_range);
	tcase_add_test(tc, test_reject_inside_allowed_range);
	tcase_add_test(tc, test_from_breaks_run);
	tcase_add_test(tc, test_no_proto_and_service);
	tcase_add_test(tc, test_from_only_block_merges);
	tcase_add_test(tc, test_one_port_from_many);
	tcase_add_test(tc, test_few_ports_from_many);
	tcase_add_test(tc, test_out_and_to);
	tcase_add_test(tc, test_limit_rate_log_are_rules);
	tcase_add_test(tc, test_zone_dispatch);
	tcase_add_test(tc, test_zone_longest_prefix);
	tcase_add_test(tc, test_policy_endings);
	tcase_add_test(tc, test_preamble);
	tcase_add_test(tc, test_multi_zone_rule);
	tcase_add_test(tc, test_forward);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(plan_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
