/* Unit tests of the lexer and parser: what each line means, its canonical
 * text, and every syntax error class at its exact LINE:COL. */
#include "config.h"

#include <arpa/inet.h>

#include "portctl/export.h"
#include "test_lang.h"

static struct lang_fixture F;

static void setup(void)
{
	fixture_setup(&F);
}

static void teardown(void)
{
	fixture_teardown(&F);
}

/* Parse one line that must be valid and return its rule. */
static const struct pc_rule *rule_parse_ok(const char *line)
{
	int r = fixture_parse(&F, line);

	ck_assert_msg(r == 0, "'%s' failed: %s", line, F.d.n ? F.d.items[0].message : "?");
	ck_assert_uint_ge(F.cfg->n_rules, 1);
	return &F.cfg->rules[F.cfg->n_rules - 1];
}

/* Parse one line that must fail with its first error at col of line 1. */
static void error_at(const char *line, unsigned col, const char *text)
{
	ck_assert_int_eq(fixture_parse(&F, line), -EINVAL);
	assert_diag(&F, 0, 1, col, text);
}

START_TEST(test_simple_rule)
{
	const struct pc_rule *r = rule_parse_ok("allow 443/tcp\n");

	ck_assert_int_eq(r->action, PC_ALLOW);
	ck_assert_int_eq(r->dir, PC_DIR_IN);
	ck_assert_uint_eq(r->n_ports, 1);
	ck_assert_uint_eq(r->ports[0].lo, 443);
	ck_assert_uint_eq(r->ports[0].hi, 443);
	ck_assert_uint_eq(r->ports[0].protos, PC_PROTO_TCP);
	ck_assert_str_eq(r->text, "allow 443/tcp");
	ck_assert_uint_eq(r->loc.line, 1);
	ck_assert_uint_eq(r->loc.col, 1);
	ck_assert_uint_eq(r->loc.len, 5);
}
END_TEST

START_TEST(test_proto_suffix_applies_backwards)
{
	const struct pc_rule *r = rule_parse_ok("allow 80,443/tcp,53,60000-61000/udp,7\n");

	ck_assert_uint_eq(r->n_ports, 5);
	ck_assert_uint_eq(r->ports[0].protos, PC_PROTO_TCP);
	ck_assert_uint_eq(r->ports[1].protos, PC_PROTO_TCP);
	ck_assert_uint_eq(r->ports[2].protos, PC_PROTO_UDP);
	ck_assert_uint_eq(r->ports[3].lo, 60000);
	ck_assert_uint_eq(r->ports[3].hi, 61000);
	ck_assert_uint_eq(r->ports[3].protos, PC_PROTO_UDP);
	ck_assert_uint_eq(r->ports[4].protos, PC_PROTO_DEFAULT);
	ck_assert_uint_eq(r->ports[1].loc.col, 10);
}
END_TEST

START_TEST(test_full_rule_and_text)
{
	const struct pc_rule *r =
	    rule_parse_ok("allow   in 80 , 443/tcp from 10.0.0.0/8,2001:db8::/32 zone a,b "
			  "rate 10/minute burst 20 log comment \"my \\\"web\\\"\"   # trailing\n");

	ck_assert_int_eq(r->dir, PC_DIR_IN);
	ck_assert_uint_eq(r->n_from, 2);
	ck_assert_uint_eq(r->from[0].family, AF_INET);
	ck_assert_uint_eq(r->from[0].len, 8);
	ck_assert_uint_eq(r->from[1].family, AF_INET6);
	ck_assert_uint_eq(r->from[1].len, 32);
	ck_assert_uint_eq(r->n_zones, 2);
	ck_assert_str_eq(r->zones[1].name, "b");
	ck_assert(r->rate.set);
	ck_assert_uint_eq(r->rate.count, 10);
	ck_assert_int_eq(r->rate.unit, PC_PER_MINUTE);
	ck_assert_uint_eq(r->rate.burst, 20);
	ck_assert(r->log);
	ck_assert_str_eq(r->comment, "my \"web\"");
	ck_assert_str_eq(r->text, "allow in 80,443/tcp from 10.0.0.0/8,2001:db8::/32 zone a,b "
				  "rate 10/minute burst 20 log comment \"my \\\"web\\\"\"");
}
END_TEST

START_TEST(test_comment_word_is_requoted)
{
	const struct pc_rule *r = rule_parse_ok("deny out 25/tcp comment spam\n");

	ck_assert_int_eq(r->action, PC_DENY);
	ck_assert_int_eq(r->dir, PC_DIR_OUT);
	ck_assert_str_eq(r->comment, "spam");
	ck_assert_str_eq(r->text, "deny out 25/tcp comment \"spam\"");
}
END_TEST

START_TEST(test_from_only_and_any)
{
	const struct pc_rule *r = rule_parse_ok("deny from 203.0.113.7,2001:db8:bad::/48\n");

	ck_assert_uint_eq(r->n_ports, 0);
	ck_assert_uint_eq(r->n_from, 2);
	ck_assert_uint_eq(r->from[0].len, 32);
	r = rule_parse_ok("allow 22 from any\n");
	ck_assert_uint_eq(r->from[0].family, 0);
}
END_TEST

START_TEST(test_log_level_and_prefix)
{
	const struct pc_rule *r = rule_parse_ok("allow 22/tcp log level info prefix ssh zone a\n");

	ck_assert(r->log);
	ck_assert(r->log_level_set);
	ck_assert_uint_eq(r->log_level, 6);
	ck_assert_str_eq(r->log_prefix, "ssh");
	ck_assert_str_eq(r->text, "allow 22/tcp log level info prefix \"ssh\" zone a");
	r = rule_parse_ok("allow 22 log prefix \"my ssh\" level emerg\n");
	ck_assert_uint_eq(r->log_level, 0);
	ck_assert_str_eq(r->log_prefix, "my ssh");
	r = rule_parse_ok("allow 22 log\n");
	ck_assert(!r->log_level_set);
	ck_assert_ptr_null(r->log_prefix);
	/* 64 bytes fit; 65 leave too little of the kernel's 128 for ours. */
	r = rule_parse_ok("allow 22 log prefix "
			  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n");
	ck_assert_uint_eq(strlen(r->log_prefix), 64);
	ck_assert_int_eq(fixture_parse(&F, "allow 22 log prefix "
					   "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n"),
			 -EINVAL);
	assert_diag(&F, 0, 1, 21, "log prefix is 65 bytes long, 1 to 64 are allowed");
}
END_TEST

START_TEST(test_log_denied_level_and_prefix)
{
	struct pc_strbuf sb = {0};

	ck_assert_int_eq(fixture_parse(&F, "zone lan policy in drop log-denied prefix drops "
					   "level notice\n"),
			 0);
	ck_assert(F.cfg->zones[0].log_denied);
	ck_assert_uint_eq(F.cfg->zones[0].log_level, 5);
	ck_assert_str_eq(F.cfg->zones[0].log_prefix, "drops");
	ck_assert_int_eq(pc_zone_text(&F.cfg->zones[0], &sb), 0);
	ck_assert_str_eq(sb.buf, "zone lan policy in drop log-denied level notice prefix \"drops\"");
	pc_strbuf_free(&sb);
	fixture_teardown(&F);
	fixture_setup(&F);
	ck_assert_int_eq(fixture_parse(&F, "zone lan log-denied level loud\n"), -EINVAL);
	assert_diag(&F, 0, 1, 27, "unknown log level 'loud'");
	ck_assert_uint_eq(F.cfg->n_zones, 0);
}
END_TEST

START_TEST(test_continuation_keeps_physical_places)
{
	const struct pc_rule *r = rule_parse_ok("allow 22/tcp \\\n    zone a,\\\n  b \\  \n log\n");

	ck_assert_uint_eq(r->n_zones, 2);
	ck_assert_uint_eq(r->zones[0].loc.line, 2);
	ck_assert_uint_eq(r->zones[0].loc.col, 10);
	ck_assert_uint_eq(r->zones[1].loc.line, 3);
	ck_assert_uint_eq(r->zones[1].loc.col, 3);
	ck_assert(r->log);
	ck_assert_str_eq(r->text, "allow 22/tcp zone a,b log");
	/* Errors after a continued line point at the right physical line. */
	ck_assert_int_eq(fixture_parse(&F, "allow 22 \\\n  zone a\nallow 70000\n"), -EINVAL);
	assert_diag(&F, 0, 3, 7, "out of range");
}
END_TEST

START_TEST(test_zone_and_service_definitions)
{
	ck_assert_int_eq(fixture_parse(&F, "zone lan interface eth1,wg0 source 192.168.0.0/16 "
					   "policy in accept policy out reject default\n"
					   "service web 80,443/tcp,8080-8090\n"),
			 0);
	ck_assert_uint_eq(F.cfg->n_zones, 1);
	ck_assert_str_eq(F.cfg->zones[0].name, "lan");
	ck_assert_uint_eq(F.cfg->zones[0].n_interfaces, 2);
	ck_assert_str_eq(F.cfg->zones[0].interfaces[1].name, "wg0");
	ck_assert_uint_eq(F.cfg->zones[0].n_sources, 1);
	ck_assert_int_eq(F.cfg->zones[0].policy_in, PC_POLICY_ACCEPT);
	ck_assert_int_eq(F.cfg->zones[0].policy_out, PC_POLICY_REJECT);
	ck_assert(F.cfg->zones[0].is_default);
	ck_assert_uint_eq(F.cfg->n_services, 1);
	ck_assert_uint_eq(F.cfg->services[0].n_ports, 3);
	ck_assert_uint_eq(F.cfg->services[0].ports[0].protos, PC_PROTO_TCP);
	ck_assert_uint_eq(F.cfg->services[0].ports[2].protos, PC_PROTO_DEFAULT);
}
END_TEST

START_TEST(test_errors_each_class)
{
	static const struct {
		const char *line;
		unsigned col;
		const char *message;
		const char *hint;
	} cases[] = {
	    {"alow 22\n", 1, "unknown statement 'alow'", "did you mean 'allow'?"},
	    {"allow 443/tpc\n", 11, "unknown protocol 'tpc'", "did you mean 'tcp'?"},
	    {"allow 0\n", 7, "port 0 is out of range", "ports are 1-65535"},
	    {"allow 22,65536/udp\n", 10, "port 65536 is out of range", NULL},
	    {"allow 90-80\n", 7, "port range 90-80 is backwards", "write 80-90"},
	    {"allow 8x\n", 7, "invalid port '8x'", NULL},
	    {"allow 22,\n", 10, "expected a port or a service after ','", NULL},
	    {"allow 22 zoen a\n", 10, "unknown option 'zoen'", "did you mean 'zone'?"},
	    {"allow 22 zone a zone b\n", 17, "'zone' is given twice", "write zone a,b"},
	    {"allow 22 log log\n", 14, "'log' is given twice", NULL},
	    {"allow 22 log level wran\n", 20, "unknown log level 'wran'", "did you mean 'warn'?"},
	    {"allow 22 level info\n", 10, "'level' belongs after 'log'", NULL},
	    {"allow 22 log level info level err\n", 25, "'level' is given twice", NULL},
	    {"allow 22 log prefix\n", 20, "expected a string after 'prefix'", NULL},
	    {"allow 22 log prefix \"\"\n", 21, "log prefix is 0 bytes long", NULL},
	    {"allow 22 rate 5/minit\n", 17, "unknown rate unit 'minit'", "did you mean 'minute'?"},
	    {"allow 22 rate 0/second\n", 15, "invalid count '0'", NULL},
	    {"allow 22 rate 5\n", 15, "a rate needs a unit", NULL},
	    {"allow 22 rate 5/hour burst\n", 27, "expected a count after 'burst'", NULL},
	    {"allow 22 from 10.0.0.1/8\n", 15, "has host bits set", "did you mean 10.0.0.0/8?"},
	    {"allow 22 from 2001:db8::1/32\n", 15, "has host bits set",
	     "did you mean 2001:db8::/32?"},
	    {"allow 22 from 10.0.0.0/33\n", 24, "invalid prefix length '33'", NULL},
	    {"allow 22 from 10.0.0.256\n", 15, "invalid address '10.0.0.256'", NULL},
	    {"allow 22 from any,10.0.0.1\n", 15, "'any' cannot be combined", NULL},
	    {"allow 22 comment \"abc\n", 18, "unterminated string", NULL},
	    {"allow 22 comment \"a\\qb\"\n", 20, "unknown escape", NULL},
	    {"allow 22 comment \"a\tb\"\n", 20, "control character 0x09 in string",
	     "write it as \\t"},
	    {"allow 22 comment\n", 17, "expected a string after 'comment'", NULL},
	    {"allow 22 in\n", 10, "the direction 'in' is out of place", NULL},
	    {"allow https/tcp\n", 7, "takes no '/PROTO'", NULL},
	    {"allow tcp\n", 7, "got keyword 'tcp'", NULL},
	    {"allow 22 10.0.0.1\n", 10, "unexpected '10.0.0.1'", NULL},
	    {"zone drop\n", 6, "'drop' is a keyword", NULL},
	    {"zone Public\n", 6, "invalid zone name 'Public'", NULL},
	    {"zone a interface thisnameistoolong0\n", 18, "invalid interface name", NULL},
	    {"zone a policy in allow\n", 18, "unknown policy 'allow'", NULL},
	    {"zone a policy sideways accept\n", 15, "expected 'in', 'out' or 'forward' after 'policy'", NULL},
	    {"zone a policy in drop policy in accept\n", 23, "'policy in' is given twice", NULL},
	    {"zone a policy forward drop policy forward accept\n", 28,
	     "'policy forward' is given twice", NULL},
	    {"zone a interface *\n", 18, "invalid interface name '*'", NULL},
	    {"zone a interface br*-\n", 18, "invalid interface name 'br*-'", NULL},
	    {"allow 22 forward\n", 10, "the direction 'forward' is out of place", NULL},
	    {"zone a default default\n", 16, "'default' is given twice", NULL},
	    {"zone a source any\n", 15, "not 'any'", NULL},
	    {"zone a interface eth0 interface eth1\n", 23, "'interface' is given twice",
	     "write interface eth0,eth1"},
	    {"zone a colour blue\n", 8, "unknown zone option 'colour'", NULL},
	    {"service web https\n", 13, "expected a port, got 'https'", NULL},
	    {"service web\n", 12, "expected a port after 'web'", NULL},
	    {"service web 80 log\n", 16, "expected end of line after 'the ports'", NULL},
	    {"allow 22 zone a,\"b\"\n", 17, "expected a zone name after ','", NULL},
	    {"  \"allow\" 22\n", 3, "a line starts with allow, deny", NULL},
	    {"allow 22 form 10.0.0.0/8\n", 10, "unknown option 'form'", "did you mean 'from'?"},
	    {"allow 22 rate 5/secnod\n", 17, "unknown rate unit", "did you mean 'second'?"},
	    {"allow icmp echo-reqest\n", 12, "unknown ICMP type 'echo-reqest'",
	     "did you mean 'echo-request'?"},
	    {"allow icmpv6 nd-neighbour-solicit\n", 14, "unknown ICMPv6 type",
	     "did you mean 'nd-neighbor-solicit'?"},
	    {"allow icmp 256\n", 12, "unknown ICMP type '256'", NULL},
	    {"allow proto grx\n", 13, "unknown IP protocol 'grx'", "did you mean 'gre'?"},
	    {"allow proto 0\n", 13, "unknown IP protocol '0'", NULL},
	    {"allow proto tcp\n", 13, "'proto' is for other protocols", NULL},
	    {"allow proto\n", 12, "expected a protocol name or number after 'proto'", NULL},
	    {"allow icmp from 10.0.0.1 port 53\n", 12, "a protocol rule takes no 'port'", NULL},
	    {"allow 22 port 53\n", 10, "'port' is out of place", "source ports follow the addresses: from any port 53"},
	    {"allow from any port http\n", 21, "expected a port, got 'http'", NULL},
	    {"allow icmp 22/tcp\n", 12, "unknown ICMP type '22/tcp'", NULL},
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		fixture_teardown(&F);
		fixture_setup(&F);
		error_at(cases[i].line, cases[i].col, cases[i].message);
		if (cases[i].hint)
			assert_hint(&F, 0, cases[i].hint);
		ck_assert_uint_eq(F.cfg->n_rules + F.cfg->n_zones + F.cfg->n_services, 0);
	}
}
END_TEST

START_TEST(test_forward_and_masquerade)
{
	const struct pc_rule *r = rule_parse_ok("forward 8080/tcp to 10.0.0.5:80 zone a from 10.1.0.0/16\n");
	uint8_t v6[16];

	ck_assert_int_eq(r->action, PC_FORWARD);
	ck_assert_uint_eq(r->n_ports, 1);
	ck_assert_uint_eq(r->ports[0].lo, 8080);
	ck_assert_uint_eq(r->fwd_addr.family, AF_INET);
	ck_assert_uint_eq(r->fwd_addr.len, 32);
	ck_assert_uint_eq(r->fwd_port, 80);
	ck_assert_uint_eq(r->n_zones, 1);
	ck_assert_uint_eq(r->n_from, 1);
	ck_assert_str_eq(r->text, "forward 8080/tcp to 10.0.0.5:80 zone a from 10.1.0.0/16");

	r = rule_parse_ok("forward 8000-8100,53 to [2001:db8::5]:443 comment x\n");
	inet_pton(AF_INET6, "2001:db8::5", v6);
	ck_assert_uint_eq(r->fwd_addr.family, AF_INET6);
	ck_assert_mem_eq(r->fwd_addr.addr, v6, 16);
	ck_assert_uint_eq(r->fwd_port, 443);
	ck_assert_uint_eq(r->n_ports, 2);
	ck_assert_uint_eq(r->ports[1].protos, PC_PROTO_TCP | PC_PROTO_UDP);
	r = rule_parse_ok("forward https to 2001:db8::5\n");
	ck_assert_uint_eq(r->fwd_port, 0);
	ck_assert_uint_eq(r->n_services, 1);
	r = rule_parse_ok("forward 22 to 10.0.0.5\n");
	ck_assert_uint_eq(r->fwd_port, 0);

	/* After an action, forward is the direction: a filter rule on routed
	 * traffic, its 'to' a destination prefix (IPv6 ones too). */
	r = rule_parse_ok("allow forward 80/tcp to 10.0.0.5,2001:db8::5\n");
	ck_assert_int_eq(r->action, PC_ALLOW);
	ck_assert_int_eq(r->dir, PC_DIR_FWD);
	ck_assert_uint_eq(r->n_to, 2);
	ck_assert_str_eq(r->text, "allow forward 80/tcp to 10.0.0.5,2001:db8::5");
	r = rule_parse_ok("deny forward from 10.0.0.0/8\n");
	ck_assert_int_eq(r->action, PC_DENY);
	ck_assert_int_eq(r->dir, PC_DIR_FWD);

	r = rule_parse_ok("masquerade zone a,b out eth0,wlan0 from 10.0.0.0/8\n");
	ck_assert_int_eq(r->action, PC_MASQUERADE);
	ck_assert_uint_eq(r->n_out_ifaces, 2);
	ck_assert_str_eq(r->out_ifaces[1].name, "wlan0");
	ck_assert_uint_eq(r->n_services, 0);
	ck_assert_uint_eq(r->n_zones, 2);
}
END_TEST

START_TEST(test_forward_errors)
{
	static const struct {
		const char *line;
		unsigned col;
		const char *message;
	} cases[] = {
	    {"forward 8080/tcp\n", 1, "'forward' needs 'to ADDR[:PORT]'"},
	    {"forward to 10.0.0.5\n", 9, "needs the port clients connect to"},
	    {"forward 8080 to 10.0.0.256:80\n", 17, "invalid address '10.0.0.256'"},
	    {"forward 8080 to 10.0.0.5:0\n", 26, "invalid port '0'"},
	    {"forward 8080 to 10.0.0.5:http\n", 26, "invalid port 'http'"},
	    {"forward 8080 to 10.0.0.0/8\n", 17, "is not a host address"},
	    {"forward 8080 to any\n", 17, "cannot forward to 'any'"},
	    {"forward 8080 to [2001:db8::5\n", 17, "invalid address"},
	    {"forward 8080 to 10.0.0.5 to 10.0.0.6\n", 26, "'to' is given twice"},
	    {"forward 8080 to 10.0.0.5 rate 5/second\n", 26, "unexpected 'rate'"},
	    /* forward first on a line is the statement, after an action the direction. */
	    {"forward forward 8080 to 10.0.0.5\n", 9, "takes no direction 'forward'"},
	    {"forward in 8080 to 10.0.0.5\n", 9, "takes no direction 'in'"},
	    {"allow forward 8080/tcp to 10.0.0.5:80\n", 27, "'to' takes addresses here"},
	    {"allow forward 8080/tcp to [2001:db8::5]:80\n", 27, "'to' takes addresses here"},
	    {"allow forward forward 80\n", 15, "the direction 'forward' is out of place"},
	    {"masquerade zone a\n", 1, "'masquerade' needs 'out IFACE'"},
	    {"masquerade out eth0 to 10.0.0.1\n", 21, "unexpected 'to'"},
	    {"masquerade out thisnameistoolong0\n", 16, "invalid interface name"},
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		fixture_teardown(&F);
		fixture_setup(&F);
		error_at(cases[i].line, cases[i].col, cases[i].message);
	}
}
END_TEST

START_TEST(test_protocol_rules)
{
	const struct pc_rule *r = rule_parse_ok("deny icmp echo-request,3,echo-request from 10.0.0.0/8\n");

	ck_assert_uint_eq(r->l4proto, 1);
	ck_assert_uint_eq(r->n_icmp_types, 2); /* a repeat is dropped */
	ck_assert_uint_eq(r->icmp_types[0], 8);
	ck_assert_uint_eq(r->icmp_types[1], 3);
	ck_assert_uint_eq(r->n_ports + r->n_sports, 0);
	ck_assert_str_eq(r->text, "deny icmp echo-request,3,echo-request from 10.0.0.0/8");
	fixture_teardown(&F);
	fixture_setup(&F);
	r = rule_parse_ok("allow icmpv6 zone a\n");
	ck_assert_uint_eq(r->l4proto, 58);
	ck_assert_uint_eq(r->n_icmp_types, 0);
	ck_assert_uint_eq(r->n_zones, 1);
	fixture_teardown(&F);
	fixture_setup(&F);
	r = rule_parse_ok("allow proto gre\n");
	ck_assert_uint_eq(r->l4proto, 47);
	fixture_teardown(&F);
	fixture_setup(&F);
	r = rule_parse_ok("allow 1024-65535/udp from 192.0.2.1 port 53,123/udp log\n");
	ck_assert_uint_eq(r->n_ports, 1);
	ck_assert_uint_eq(r->n_sports, 2);
	ck_assert_uint_eq(r->sports[0].lo, 53);
	ck_assert_uint_eq(r->sports[1].protos, PC_PROTO_UDP);
	ck_assert_uint_eq(r->sports[0].protos, PC_PROTO_UDP);
	ck_assert(r->log);
}
END_TEST

START_TEST(test_comment_too_long)
{
	char line[300];

	snprintf(line, sizeof(line), "allow 22 comment \"%0129d\"\n", 0);
	error_at(line, 18, "comment is 129 bytes long");
	fixture_teardown(&F);
	fixture_setup(&F);
	snprintf(line, sizeof(line), "allow 22 comment \"%0128d\"\n", 0);
	ck_assert_str_eq(rule_parse_ok(line)->comment + 127, "0");
}
END_TEST

START_TEST(test_error_skips_line_and_continues)
{
	ck_assert_int_eq(fixture_parse(&F, "allow 1x zone zone\n"
					   "allow 22\n"
					   "deny 99999 \\\n   log log\n"
					   "reject 113/tcp\n"
					   "limit 22/xyz\n"),
			 -EINVAL);
	ck_assert_uint_eq(F.d.n, 3);
	assert_diag(&F, 0, 1, 7, "invalid port '1x'");
	assert_diag(&F, 1, 3, 6, "port 99999 is out of range");
	assert_diag(&F, 2, 6, 10, "unknown protocol 'xyz'");
	ck_assert_uint_eq(F.cfg->n_rules, 2);
	ck_assert_str_eq(F.cfg->rules[1].text, "reject 113/tcp");
	ck_assert_uint_eq(F.cfg->rules[1].loc.line, 5);
}
END_TEST

START_TEST(test_hash_inside_string_is_not_a_comment)
{
	const struct pc_rule *r = rule_parse_ok("allow 22 comment \"a # b\" log # real comment\n");

	ck_assert_str_eq(r->comment, "a # b");
	ck_assert(r->log);
}
END_TEST

START_TEST(test_utf8_in_comments)
{
	/* Invalid UTF-8 is an error at its byte, in a comment or a string. */
	ck_assert_int_eq(fixture_parse(&F, "allow 22 # caf\xe9 \xff\xfe\n"), -EINVAL);
	assert_diag(&F, 0, 1, 15, "invalid UTF-8 byte 0xe9 in a comment");
	assert_hint(&F, 0, "save the file as UTF-8, e.g. with: iconv -f latin1 -t utf-8");
	ck_assert_int_eq(fixture_parse(&F, "# ok \xc3\xa9\n#\xc3\n"), -EINVAL);
	assert_diag(&F, 1, 2, 2, "invalid UTF-8 byte 0xc3 in a comment");
	ck_assert_str_eq(
	    rule_parse_ok("allow 23 comment \"caf\xc3\xa9\" # \xe2\x82\xac\n")->comment,
	    "caf\xc3\xa9");
	ck_assert_int_eq(fixture_parse(&F, "allow 24\nallow 25 comment \"caf\xe9\"\n"), -EINVAL);
	assert_diag(&F, 2, 2, 22, "invalid UTF-8 byte 0xe9 in a string");
	ck_assert_int_eq(fixture_parse(&F, "allow 26 zone caf\xc3\n"), -EINVAL);
	assert_diag(&F, 3, 1, 18, "invalid UTF-8 byte 0xc3 in a word");
	/* Overlong forms and surrogates are not UTF-8 either. */
	ck_assert_int_eq(fixture_parse(&F, "allow 27 comment \"\xc0\xaf \xed\xa0\x80\"\n"),
			 -EINVAL);
	assert_diag(&F, 4, 1, 19, "invalid UTF-8 byte 0xc0 in a string");
	ck_assert_int_eq(fixture_parse(&F, "allow 28 # \xed\xa0\x80\n"), -EINVAL);
	assert_diag(&F, 5, 1, 12, "invalid UTF-8 byte 0xed in a comment");
}
END_TEST

START_TEST(test_nul_bytes_reported_once_per_line)
{
	static const char text[] = "allow 22\0\0\0 log\nallow 23 # x\0y\n\0\0\nallow 24\n";

	ck_assert_int_eq(
	    fixture_parse_origin(&F, "nul.rules", text, sizeof(text) - 1, PC_ORIGIN_ADMIN),
	    -EINVAL);
	ck_assert_uint_eq(F.d.n_errors, 3);
	assert_diag(&F, 0, 1, 9, "NUL byte");
	assert_diag(&F, 1, 2, 13, "NUL byte");
	assert_diag(&F, 2, 3, 1, "NUL byte");
	ck_assert_uint_eq(F.cfg->n_rules, 1);
	/* A '\' ending a comment with a NUL in it continues nothing. */
	ck_assert_int_eq(fixture_parse_origin(&F, "nul2.rules", "allow 1 # a\0b \\\nallow 2\n", 24,
					      PC_ORIGIN_ADMIN),
			 -EINVAL);
	ck_assert_uint_eq(F.cfg->n_rules, 2);
	ck_assert_str_eq(F.cfg->rules[1].text, "allow 2");
	/* A string cut by a continuation is unterminated, at its quote. */
	ck_assert_int_eq(fixture_parse(&F, "allow 3 comment \"ab\\\n\"\n"), -EINVAL);
	assert_diag(&F, 4, 1, 17, "unterminated string");
}
END_TEST

START_TEST(test_rules_refused_in_shipped_files)
{
	static const char text[] = "zone a\nallow 22\n";

	ck_assert_int_eq(
	    fixture_parse_origin(&F, "zones.rules", text, sizeof(text) - 1, PC_ORIGIN_SHIPPED),
	    -EINVAL);
	assert_diag(&F, 0, 2, 1, "shipped files may hold only zone and service definitions");
	ck_assert_uint_eq(F.cfg->n_zones, 1);
}
END_TEST

START_TEST(test_crlf_and_missing_final_newline)
{
	ck_assert_int_eq(fixture_parse(&F, "allow 22\r\nallow 23 log\r\nallow 24"), 0);
	ck_assert_uint_eq(F.cfg->n_rules, 3);
	ck_assert(F.cfg->rules[1].log);
	ck_assert_str_eq(F.cfg->rules[2].text, "allow 24");
}
END_TEST

START_TEST(test_rule_text_from_argv)
{
	char *argv1[] = {"allow", "443/tcp", "comment", "my web"};
	char *argv2[] = {"allow", "80,443/tcp", "comment", "a,b", "zone", "x"};
	char *argv3[] = {"deny", "from", "10.0.0.0/8", "comment", "say \"hi\" \\ # now"};
	char *text = pc_rule_text_from_argv(4, argv1);

	ck_assert_str_eq(text, "allow 443/tcp comment \"my web\"");
	ck_assert_int_eq(fixture_parse(&F, text), 0);
	ck_assert_str_eq(F.cfg->rules[0].comment, "my web");
	ck_assert_str_eq(F.cfg->rules[0].text, text);
	free(text);
	text = pc_rule_text_from_argv(6, argv2);
	ck_assert_str_eq(text, "allow 80,443/tcp comment \"a,b\" zone x");
	ck_assert_int_eq(fixture_parse(&F, text), 0);
	ck_assert_str_eq(F.cfg->rules[1].comment, "a,b");
	free(text);
	text = pc_rule_text_from_argv(5, argv3);
	ck_assert_int_eq(fixture_parse(&F, text), 0);
	ck_assert_str_eq(F.cfg->rules[2].comment, "say \"hi\" \\ # now");
	ck_assert_str_eq(F.cfg->rules[2].text, text);
	free(text);
	/* portctl allow 22/tcp log level info prefix "my ssh" */
	text = pc_rule_text_from_argv(7, (char *[]){"allow", "22/tcp", "log", "level", "info",
						    "prefix", "my ssh"});
	ck_assert_str_eq(text, "allow 22/tcp log level info prefix \"my ssh\"");
	ck_assert_int_eq(fixture_parse(&F, text), 0);
	ck_assert_str_eq(F.cfg->rules[3].log_prefix, "my ssh");
	free(text);
}
END_TEST

START_TEST(test_format_helpers)
{
	struct pc_port_range r = {.lo = 60000, .hi = 61000, .protos = PC_PROTO_UDP};
	struct pc_prefix p = {.family = AF_INET6, .len = 32};
	char buf[64];

	/* The time a temporary rule has left, as status shows it. */
	pc_duration_format(1799, buf, sizeof(buf));
	ck_assert_str_eq(buf, "29m59s");
	pc_duration_format(1800, buf, sizeof(buf));
	ck_assert_str_eq(buf, "30m");
	pc_duration_format(93784, buf, sizeof(buf));
	ck_assert_str_eq(buf, "1d2h");
	pc_duration_format(0, buf, sizeof(buf));
	ck_assert_str_eq(buf, "0s");
	pc_duration_format(7, buf, sizeof(buf));
	ck_assert_str_eq(buf, "7s");
	ck_assert_int_gt(pc_port_range_format(&r, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "60000-61000/udp");
	r = (struct pc_port_range){.lo = 53, .hi = 53, .protos = PC_PROTO_DEFAULT};
	pc_port_range_format(&r, buf, sizeof(buf));
	ck_assert_str_eq(buf, "53");
	ck_assert_int_eq(pc_port_range_format(&r, buf, 2), -ENOSPC);
	inet_pton(AF_INET6, "2001:db8::", p.addr);
	pc_prefix_format(&p, buf, sizeof(buf));
	ck_assert_str_eq(buf, "2001:db8::/32");
	p.family = 0;
	pc_prefix_format(&p, buf, sizeof(buf));
	ck_assert_str_eq(buf, "any");
}
END_TEST

static Suite *lang_suite(void)
{
	Suite *s = suite_create("lang");
	TCase *tc = tcase_create("parser");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_simple_rule);
	tcase_add_test(tc, test_proto_suffix_applies_backwards);
	tcase_add_test(tc, test_full_rule_and_text);
	tcase_add_test(tc, test_comment_word_is_requoted);
	tcase_add_test(tc, test_from_only_and_any);
	tcase_add_test(tc, test_continuation_keeps_physical_places);
	tcase_add_test(tc, test_log_level_and_prefix);
	tcase_add_test(tc, test_log_denied_level_and_prefix);
	tcase_add_test(tc, test_zone_and_service_definitions);
	tcase_add_test(tc, test_errors_each_class);
	tcase_add_test(tc, test_forward_and_masquerade);
	tcase_add_test(tc, test_forward_errors);
	tcase_add_test(tc, test_comment_too_long);
	tcase_add_test(tc, test_error_skips_line_and_continues);
	tcase_add_test(tc, test_hash_inside_string_is_not_a_comment);
	tcase_add_test(tc, test_utf8_in_comments);
	tcase_add_test(tc, test_nul_bytes_reported_once_per_line);
	tcase_add_test(tc, test_rules_refused_in_shipped_files);
	tcase_add_test(tc, test_crlf_and_missing_final_newline);
	tcase_add_test(tc, test_rule_text_from_argv);
	tcase_add_test(tc, test_format_helpers);
	tcase_add_test(tc, test_protocol_rules);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(lang_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
