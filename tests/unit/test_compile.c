/* Unit tests of lowering: the libnftnl objects of each rule form, checked
 * through libnftnl's own text of rules, sets and elements. */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <stdlib.h>

#include <libnftnl/chain.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <linux/netfilter/nf_tables.h>

#include "compile_helper.h"
#include "../../src/compile/compile-internal.h"

#define ZONES "zone public interface eth0 default\n"
/* Every zone chain opens with its ban lookups (v4 and v6, single addresses
 * and wider) and the jump to the built-in part. */
#define ZONE_HEAD 5
/* A zone whose inbound policy is drop answers ping (ICMP and ICMPv6 echo
 * requests) after its rules. */
#define ZONE_PING 2

struct compiled {
	struct pc_config *cfg;
	struct pc_ruleset *rs;
	char *text;
};

static struct compiled compiled_new(const char *rules)
{
	struct compiled c;

	c.cfg = config_from_text(rules);
	c.rs = ruleset_from_config(c.cfg);
	c.text = names_unhash(ruleset_text(c.rs));
	return c;
}

static void compiled_free(struct compiled *c)
{
	free(c->text);
	pc_ruleset_free(c->rs);
	pc_config_free(c->cfg);
}

static void assert_has(const struct compiled *c, const char *needle)
{
	if (!strstr(c->text, needle)) {
		fprintf(stderr, "%s", c->text);
		ck_abort_msg("missing \"%s\" in the ruleset printed above", needle);
	}
}

static void assert_lacks(const struct compiled *c, const char *needle)
{
	if (strstr(c->text, needle)) {
		fprintf(stderr, "%s", c->text);
		ck_abort_msg("unexpected \"%s\" in the ruleset printed above", needle);
	}
}

/* The printed text of the object at index i. */
static char *object_text(const struct pc_nft_object *o)
{
	char *buf = malloc(1 << 16);

	ck_assert_ptr_nonnull(buf);
	if (o->kind == PC_NFT_RULE)
		nftnl_rule_snprintf(buf, 1 << 16, o->obj, NFTNL_OUTPUT_DEFAULT, 0);
	else if (o->kind == PC_NFT_SET)
		nftnl_set_snprintf(buf, 1 << 16, o->obj, NFTNL_OUTPUT_DEFAULT, 0);
	else
		buf[0] = '\0';
	return buf;
}

/* Number of chains whose name begins with prefix. */
static size_t chain_count_prefixed(const struct pc_ruleset *rs, const char *prefix)
{
	size_t n = 0;

	for (size_t i = 0; i < rs->n_objs; i++)
		n += rs->objs[i].kind == PC_NFT_CHAIN &&
		     !strncmp(nftnl_chain_get_str(rs->objs[i].obj, NFTNL_CHAIN_NAME), prefix,
			      strlen(prefix));
	return n;
}

/* Number of rules of the ruleset whose chain is name. */
static size_t chain_rule_count(const struct pc_ruleset *rs, const char *name)
{
	size_t n = 0;

	for (size_t i = 0; i < rs->n_objs; i++) {
		if (rs->objs[i].kind == PC_NFT_RULE &&
		    streq(nftnl_rule_get_str(rs->objs[i].obj, NFTNL_RULE_CHAIN), name))
			n++;
	}
	return n;
}

/* The forward base chain: its bans, then the implied accept of our own
 * DNAT (ct mark FORWARD), ahead of any dispatch to fwd_<zone> and so of
 * the published-port jump there. */
static void assert_forward_accept_after_bans(const struct pc_ruleset *rs)
{
	bool seen = false;

	for (size_t i = 0; !seen && i < rs->n_objs; i++) {
		_cleanup_free_ char *t = NULL;

		if (rs->objs[i].kind != PC_NFT_RULE ||
		    !streq(nftnl_rule_get_str(rs->objs[i].obj, NFTNL_RULE_CHAIN), "forward"))
			continue;
		t = object_text(&rs->objs[i]);
		seen = strstr(t, "[ ct load mark => reg 1 ]") != NULL;
		if (!seen && !strstr(t, "set ban"))
			ck_abort_msg("a forward rule before the implied accept: %s", t);
	}
	ck_assert_msg(seen, "no implied accept in the forward chain");
}

/* portctld --check: the objects in nft's words, not libnftnl's registers. */
struct prefixes {
	uint8_t width;
	uint8_t next[16]; /* the first key not yet covered */
	uint8_t hi[16];
	bool done;
};

static int prefix_check(const uint8_t *addr, unsigned len, void *arg)
{
	struct prefixes *p = arg;
	unsigned bits = p->width * 8u;
	uint8_t end[16];

	ck_assert(!p->done);
	ck_assert_uint_le(len, bits);
	/* Each prefix begins where the last ended, its host bits clear. */
	ck_assert_int_eq(memcmp(addr, p->next, 16), 0);
	for (unsigned i = len; i < bits; i++)
		ck_assert_uint_eq(addr[i / 8] >> (7 - i % 8) & 1, 0);
	memcpy(end, addr, 16);
	for (unsigned i = len; i < bits; i++)
		end[i / 8] |= (uint8_t)(1u << (7 - i % 8));
	/* The widest: its double is not aligned here, or passes hi. */
	if (len > 0 && !(addr[(len - 1) / 8] >> (7 - (len - 1) % 8) & 1)) {
		uint8_t wider[16];

		memcpy(wider, end, 16);
		wider[(len - 1) / 8] |= (uint8_t)(1u << (7 - (len - 1) % 8));
		ck_assert_int_gt(memcmp(wider, p->hi, 16), 0);
	}
	memcpy(p->next, end, 16);
	p->done = !key_inc(p->next, p->width);
	return 0;
}

/* span [lo, hi] as prefixes: they cover it exactly, in order, and each is
 * the widest aligned there (the one before it ends below its double's
 * start, or its double passes hi). */
static void span_prefixes_check(const uint8_t *lo, const uint8_t *hi, uint8_t width)
{
	struct prefixes p = { .width = width };
	uint8_t past[16];

	memcpy(p.next, lo, 16);
	memcpy(p.hi, hi, 16);
	ck_assert_int_eq(span_prefixes(lo, hi, width, prefix_check, &p), 0);
	memcpy(past, hi, 16);
	if (key_inc(past, width))
		ck_assert_int_eq(memcmp(p.next, past, 16), 0);
	else
		ck_assert(p.done);
}

static int prefix_count(const uint8_t *addr, unsigned len, void *arg)
{
	(void)addr;
	(void)len;
	(*(unsigned *)arg)++;
	return 0;
}

START_TEST(test_span_prefixes)
{
	static const struct {
		uint32_t lo, hi;
		unsigned n;
	} known[] = {
		{ 0x0a000100, 0x0a00ffff, 8 }, /* 10.0.1.0/24 ... 10.0.128.0/17 */
		{ 0x0a000001, 0x0a000006, 4 }, /* .1/32 .2/31 .4/31 .6/32 */
		{ 0, 0xffffffff, 1 },
		{ 0xffffffff, 0xffffffff, 1 },
		{ 1, 0xfffffffe, 62 },
	};
	uint64_t x = 0x9e3779b97f4a7c15u;

	for (size_t i = 0; i < sizeof(known) / sizeof(*known); i++) {
		uint8_t lo[16] = { 0 }, hi[16] = { 0 };
		unsigned n = 0;

		for (int b = 0; b < 4; b++) {
			lo[b] = (uint8_t)(known[i].lo >> (24 - 8 * b));
			hi[b] = (uint8_t)(known[i].hi >> (24 - 8 * b));
		}
		span_prefixes_check(lo, hi, 4);
		ck_assert_int_eq(span_prefixes(lo, hi, 4, prefix_count, &n), 0);
		ck_assert_uint_eq(n, known[i].n);
	}
	/* Random spans of IPv4 keys and of IPv6 keys (the wide path). */
	for (int i = 0; i < 2000; i++) {
		uint8_t width = i % 4 ? 4 : 16, a[16] = { 0 }, b[16] = { 0 };

		for (int k = 0; k < width; k++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			a[k] = (uint8_t)x;
			/* Mostly near a: the spans real rules leave. */
			b[k] = k < width - 2 ? a[k] : (uint8_t)(x >> 8);
		}
		if (memcmp(a, b, 16) > 0)
			span_prefixes_check(b, a, width);
		else
			span_prefixes_check(a, b, width);
	}
}
END_TEST

START_TEST(test_print_nft)
{
	struct compiled c = compiled_new(ZONES "zone private source 10.0.0.0/8\n"
					       "allow 22/tcp\n"
					       "allow 8080/tcp from 192.0.2.0/24 comment \"intranet\"\n"
					       "deny from 198.51.100.0/25\n"
					       "allow 5001/tcp from 203.0.113.0/24\n"
					       "allow 5002/udp from 203.0.113.7\n");
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(pc_ruleset_print_nft(f, c.rs), 0);
	fclose(f);
	names_unhash(text);
	ck_assert_msg(strncmp(text, "table inet portctl {\n", 21) == 0, "%s", text);
	ck_assert_ptr_nonnull(strstr(text, "\tchain input {\n\t\ttype filter hook input priority 0; "
					   "policy accept;\n"));
	ck_assert_ptr_nonnull(strstr(text, "\t\tmeta nfproto ipv4 ip saddr 192.0.2.0/24 meta l4proto "
					   "tcp th dport 8080 counter accept comment \"intranet\"\n"));
	ck_assert_ptr_nonnull(strstr(text, "\t\tmeta l4proto . th dport @in_public_P_ports_accept accept\n"));
	ck_assert_ptr_nonnull(strstr(text, "elements = { 6 . 22 }"));
	ck_assert_ptr_nonnull(strstr(text, "elements = { 198.51.100.0/25 }"));
	/* A run of ports: proto . port . address, masked to its sets' prefix. */
	ck_assert_ptr_nonnull(strstr(text, "\t\tmeta nfproto ipv4 meta l4proto . th dport . ip saddr & "
					   "255.255.255.0 @in_public_C_l24_src4_accept accept\n"));
	ck_assert_ptr_nonnull(strstr(text, "\t\tmeta nfproto ipv4 meta l4proto . th dport . ip saddr "
					   "@in_public_C_l32_src4_accept accept\n"));
	ck_assert_ptr_nonnull(strstr(text, "elements = { 6 . 5001 . 203.0.113.0 }"));
	ck_assert_ptr_nonnull(strstr(text, "elements = { 17 . 5002 . 203.0.113.7 }"));
	ck_assert_msg(!strstr(text, "[ payload") && !strstr(text, "[ cmp"), "%s", text);
	compiled_free(&c);
}
END_TEST

START_TEST(test_shape_and_preamble)
{
	struct compiled c = compiled_new(ZONES "zone private source 10.0.0.0/8\n");

	ck_assert_int_eq(c.rs->objs[0].kind, PC_NFT_TABLE);
	/* input, output, forward, do_reject, preamble_in/out/fwd, and
	 * in/out/fwd/pub of two zones */
	ck_assert_uint_eq(c.rs->n_chains, 15);
	assert_has(&c, "inet portctl input");
	assert_has(&c, "type filter hook input prio 0 policy accept");
	assert_has(&c, "type filter hook output prio 0 policy accept");
	/* iif lo accept; ct state established,related accept; invalid drop */
	assert_has(&c, "[ meta load iif => reg 1 ]\n  [ cmp eq reg 1 0x00000001 ]\n"
		       "  [ immediate reg 0 accept ]");
	assert_has(&c, "[ bitwise reg 1 = ( reg 1 & 0x00000006 ) ^ 0x00000000 ]");
	assert_has(&c, "[ bitwise reg 1 = ( reg 1 & 0x00000001 ) ^ 0x00000000 ]\n"
		       "  [ cmp neq reg 1 0x00000000 ]\n  [ immediate reg 0 drop ]");
	/* ND before ct invalid: the icmp6_early lookup comes before it. */
	char *early = strstr(c.text, "set icmp6_early ]");
	char *invalid = strstr(c.text, "( reg 1 & 0x00000001 )");
	ck_assert_ptr_nonnull(early);
	ck_assert(early < invalid);
	/* Dispatch: ip saddr vmap, iifname vmap, default jump. */
	assert_has(&c, "[ payload load 4b @ network header + 12 => reg 1 ]\n"
		       "  [ lookup reg 1 set zone_src4_in dreg 0 ]");
	assert_has(&c, "[ payload load 4b @ network header + 16 => reg 1 ]\n"
		       "  [ lookup reg 1 set zone_dst4_out dreg 0 ]");
	assert_has(&c, "[ meta load iifname => reg 1 ]\n  [ lookup reg 1 set zone_iif_in dreg 0 ]");
	assert_has(&c, "[ immediate reg 0 jump -> in_public ]");
	assert_has(&c, "element 0000000a  : jump -> in_private");
	assert_has(&c, "element 0000000b  : 1 [end]");
	assert_has(&c, "element 30687465 00000000 00000000 00000000  : jump -> in_public");
	/* Zone policies: inbound drop, outbound accept, with a counter. */
	assert_has(&c, "inet portctl in_public\n  [ counter pkts 0 bytes 0 ]\n"
		       "  [ immediate reg 0 drop ]");
	assert_has(&c, "inet portctl out_public\n  [ counter pkts 0 bytes 0 ]\n"
		       "  [ immediate reg 0 accept ]");
	/* The shared reject chain. */
	assert_has(&c, "[ reject type 1 code 0 ]");
	assert_has(&c, "[ reject type 2 code 1 ]");
	compiled_free(&c);
}
END_TEST

/* The settings of a portctl.conf text applied to a configuration from rules. */
static struct compiled compiled_with_settings(const char *rules, const char *conf)
{
	struct compiled c;
	struct pc_diags d;

	pc_diags_init(&d);
	c.cfg = config_from_text(rules);
	ck_assert_int_eq(pc_settings_parse(c.cfg, "portctl.conf", strdup(conf), strlen(conf), &d),
			 0);
	pc_diags_free(&d);
	c.rs = ruleset_from_config(c.cfg);
	c.text = ruleset_text(c.rs);
	return c;
}

#define RPF_ZONES ZONES "zone private source 10.0.0.0/8,fd00::/8\nzone lab source 10.1.0.0/16\n"

/* Source dispatch is guarded by a reverse-path check: a source a zone claims
 * that does not route back out of the input interface is dropped first. */
START_TEST(test_reverse_path_strict)
{
	struct compiled c = compiled_new(RPF_ZONES);
	const char *rpf4 = strstr(c.text, "set zone_src4_rpf ]");
	const char *vmap4 = strstr(c.text, "set zone_src4_in dreg 0 ]");

	assert_has(&c, "[ payload load 4b @ network header + 12 => reg 1 ]\n"
		       "  [ lookup reg 1 set zone_src4_rpf ]\n"
		       "  [ fib saddr . iif oif present => reg 1 ]\n"
		       "  [ cmp eq reg 1 0x00000000 ]\n"
		       "  [ counter pkts 0 bytes 0 ]\n"
		       "  [ immediate reg 0 drop ]");
	assert_has(&c, "[ payload load 16b @ network header + 8 => reg 1 ]\n"
		       "  [ lookup reg 1 set zone_src6_rpf ]\n"
		       "  [ fib saddr . iif oif present => reg 1 ]");
	ck_assert_ptr_nonnull(rpf4);
	ck_assert_ptr_nonnull(vmap4);
	ck_assert(rpf4 < vmap4);
	/* The check's set holds every zone source, joined: 10.0.0.0/8 in one
	 * span where the dispatch map cuts it in three around lab's /16. */
	assert_has(&c, "zone_src4_rpf portctl 4\n\telement 00000000  : 1 [end]\t"
		       "element 0000000a  : 0 [end]\telement 0000000b  : 1 [end]\n");
	assert_has(&c, "element 0000010a  : jump -> in_lab 0 [end]");
	/* Outbound dispatch by destination has no such check. */
	assert_lacks(&c, "fib daddr");
	ck_assert_uint_eq(chain_rule_count(c.rs, "input"), chain_rule_count(c.rs, "output") + 2);
	compiled_free(&c);
}
END_TEST

START_TEST(test_reverse_path_loose_and_off)
{
	struct compiled c = compiled_with_settings(RPF_ZONES, "reverse-path = loose\n");

	assert_has(&c, "[ lookup reg 1 set zone_src4_rpf ]\n"
		       "  [ fib saddr oif present => reg 1 ]\n"
		       "  [ cmp eq reg 1 0x00000000 ]");
	assert_lacks(&c, "saddr . iif");
	compiled_free(&c);

	c = compiled_with_settings(RPF_ZONES, "reverse-path = off\n");
	assert_lacks(&c, "fib");
	assert_lacks(&c, "_rpf");
	assert_has(&c, "[ lookup reg 1 set zone_src4_in dreg 0 ]");
	compiled_free(&c);

	/* No zone sources, nothing to check. */
	c = compiled_new(ZONES);
	assert_lacks(&c, "fib");
	compiled_free(&c);
}
END_TEST

START_TEST(test_port_map_exact_and_range)
{
	struct compiled c = compiled_new(ZONES "allow 443/tcp comment \"web\"\n"
					      "deny 1500/tcp\n"
					      "allow 1000-2000/tcp\n"
					      "reject 113/tcp\n");

	/* A plain set per verdict, exact ports or ranges, each with its rule. */
	assert_has(&c, "[ meta load l4proto => reg 1 ]\n"
		       "  [ payload load 2b @ transport header + 2 => reg 9 ]\n"
		       "  [ lookup reg 1 set in_public_P_ports_accept ]\n"
		       "  [ immediate reg 0 accept ]");
	assert_has(&c, "[ lookup reg 1 set in_public_P_ports_drop ]\n"
		       "  [ immediate reg 0 drop ]");
	assert_has(&c, "[ lookup reg 1 set in_public_P_ranges_accept ]\n"
		       "  [ immediate reg 0 accept ]");
	assert_has(&c, "[ lookup reg 1 set in_public_P_ports_reject ]\n"
		       "  [ immediate reg 0 jump -> do_reject ]");
	assert_lacks(&c, "_ranges_drop");
	/* Exact ports with the rule's comment, ranges apart; no element has
	 * a verdict (the kernel would walk every verdict map whenever a rule
	 * is added). */
	assert_has(&c, "in_public_P_ports_accept portctl 0\n"
		       "\telement 00000006 0000bb01  : 0 [end]  userdata = { \\x00\\x04web\\x00 }");
	assert_has(&c, "in_public_P_ports_drop portctl 0\n"
		       "\telement 00000006 0000dc05  : 0 [end]");
	assert_has(&c, "element 00000006 0000e803  - 00000006 0000db05  : 0 [end]");
	assert_has(&c, "element 00000006 0000dd05  - 00000006 0000d007  : 0 [end]");
	assert_has(&c, "in_public_P_ports_reject portctl 0\n"
		       "\telement 00000006 00007100  : 0 [end]");
	assert_lacks(&c, ": accept");
	assert_lacks(&c, ": drop");
	ck_assert_uint_eq(chain_rule_count(c.rs, "in_public"), ZONE_HEAD + ZONE_PING + 5);
	compiled_free(&c);
}
END_TEST

START_TEST(test_set_flags)
{
	struct compiled c = compiled_new(ZONES "allow 22/tcp\nallow 8000-8100/udp\n");
	size_t found = 0;

	for (size_t i = 0; i < c.rs->n_objs; i++) {
		const struct pc_nft_object *o = &c.rs->objs[i];
		char name[256];

		if (o->kind != PC_NFT_SET)
			continue;
		snprintf(name, sizeof(name), "%s", nftnl_set_get_str(o->obj, NFTNL_SET_NAME));
		names_unhash(name);
		if (streq(name, "in_public_P_ports_accept")) {
			ck_assert_uint_eq(nftnl_set_get_u32(o->obj, NFTNL_SET_FLAGS), 0);
			ck_assert_uint_eq(nftnl_set_get_u32(o->obj, NFTNL_SET_KEY_TYPE), 781);
			ck_assert_uint_eq(nftnl_set_get_u32(o->obj, NFTNL_SET_KEY_LEN), 8);
			found++;
		} else if (streq(name, "in_public_P_ranges_accept")) {
			ck_assert_uint_eq(nftnl_set_get_u32(o->obj, NFTNL_SET_FLAGS),
					  NFT_SET_INTERVAL | NFT_SET_CONCAT);
			ck_assert(!nftnl_set_is_set(o->obj, NFTNL_SET_DATA_TYPE));
			found++;
		}
	}
	ck_assert_uint_eq(found, 2);
	compiled_free(&c);
}
END_TEST

START_TEST(test_rule_with_from_and_comment)
{
	struct compiled c = compiled_new(ZONES "allow 22/tcp from 10.0.0.0/8 comment \"ssh\"\n");

	assert_has(&c, "[ meta load nfproto => reg 1 ]\n  [ cmp eq reg 1 0x00000002 ]\n"
		       "  [ payload load 4b @ network header + 12 => reg 1 ]\n"
		       "  [ bitwise reg 1 = ( reg 1 & 0x000000ff ) ^ 0x00000000 ]\n"
		       "  [ cmp eq reg 1 0x0000000a ]\n"
		       "  [ meta load l4proto => reg 1 ]\n  [ cmp eq reg 1 0x00000006 ]\n"
		       "  [ payload load 2b @ transport header + 2 => reg 1 ]\n"
		       "  [ cmp eq reg 1 0x00001600 ]\n  [ counter pkts 0 bytes 0 ]\n"
		       "  [ immediate reg 0 accept ]\n  userdata = { \\x00\\x04ssh\\x00 }");
	/* No IPv6 copy of an IPv4-only rule. */
	assert_lacks(&c, "[ payload load 16b @ network header + 8 => reg 1 ]\n  [ bitwise");
	compiled_free(&c);
}
END_TEST

/* Every rule carries its chain's key, one number per name, however the
 * names are asked for in turn (a difference files rules by it). */
static int u32_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

START_TEST(test_chain_keys)
{
	struct compiled c = compiled_new(ZONES "zone private source 10.0.0.0/8\n"
					       "allow 22/tcp from 10.1.0.0/16\n"
					       "limit 80/tcp\nallow 53 zone private\n"
					       "forward 8080/tcp to 10.0.0.5:80\n");
	char long_name[300];
	size_t n = 0;

	for (size_t i = 0; i < c.rs->n_objs; i++) {
		const struct pc_nft_object *o = &c.rs->objs[i];

		if (o->kind != PC_NFT_RULE)
			continue;
		ck_assert_uint_ne(o->chain_key, 0);
		ck_assert_uint_eq(o->chain_key,
				  pc_chain_key(nftnl_rule_get_str(o->obj, NFTNL_RULE_CHAIN)));
		for (size_t j = 0; j < i; j++)
			if (c.rs->objs[j].kind == PC_NFT_RULE)
				ck_assert_int_eq(c.rs->objs[j].chain_key == o->chain_key,
						 streq(nftnl_rule_get_str(c.rs->objs[j].obj,
									  NFTNL_RULE_CHAIN),
						       nftnl_rule_get_str(o->obj, NFTNL_RULE_CHAIN)));
		n++;
	}
	ck_assert_uint_gt(n, 10);
	ck_assert_uint_eq(pc_chain_key("in_public"), pc_chain_key("in_public"));
	ck_assert_uint_ne(pc_chain_key("in_public"), pc_chain_key("pub_public"));
	ck_assert_uint_eq(pc_chain_key("pub_public"), pc_chain_key("pub_public"));
	memset(long_name, 'x', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	ck_assert_uint_eq(pc_chain_key(long_name), 0);
	ck_assert_uint_eq(pc_chain_key(NULL), 0);
	/* Thousands of names (a block chain per ~64 rules), the table they
	 * are found by grown many times: each keeps its key, asked again in
	 * another order, and no two share one. */
	{
		enum { N_NAMES = 5000 };
		static uint32_t keys[N_NAMES];
		char name[64];

		for (unsigned i = 0; i < N_NAMES; i++) {
			snprintf(name, sizeof(name), "in_public_BB%016xd%u", i * 2654435761u, i % 7);
			keys[i] = pc_chain_key(name);
			ck_assert_uint_ne(keys[i], 0);
			ck_assert_uint_ne(keys[i], pc_chain_key("in_public"));
		}
		for (unsigned k = 0; k < N_NAMES; k++) {
			unsigned i = (k * 7919u) % N_NAMES;

			snprintf(name, sizeof(name), "in_public_BB%016xd%u", i * 2654435761u, i % 7);
			ck_assert_uint_eq(pc_chain_key(name), keys[i]);
		}
		qsort(keys, N_NAMES, sizeof(*keys), u32_cmp);
		for (unsigned i = 1; i < N_NAMES; i++)
			ck_assert_uint_lt(keys[i - 1], keys[i]);
		ck_assert_uint_eq(pc_chain_key("pub_public"), pc_chain_key("pub_public"));
	}
	compiled_free(&c);
}
END_TEST

START_TEST(test_nat_chains)
{
	struct compiled c = compiled_new(ZONES "allow 22/tcp\n");

	/* No forward, no masquerade: no nat chain at all, and the forward
	 * chain has no implied accept of our DNAT. */
	assert_lacks(&c, "type nat");
	assert_lacks(&c, "ct load mark");
	compiled_free(&c);

	c = compiled_new(ZONES "zone private source 10.0.0.0/8\n"
			       "forward 8080/tcp to 10.0.0.5:80\n"
			       "forward 53 to [2001:db8::5] zone private\n"
			       "masquerade zone private out eth0\n");
	assert_has(&c, "prerouting use 0 type nat hook prerouting prio -100 policy accept");
	assert_has(&c, "postrouting use 0 type nat hook postrouting prio 100 policy accept");
	assert_has(&c, "forward use 0 type filter hook forward prio 0 policy accept");
	/* The forward: the host's own 8080, marked, then DNAT with a port. */
	assert_has(&c, "[ cmp eq reg 1 0x0000901f ]\n"
		       "  [ fib daddr type => reg 1 ]\n  [ cmp eq reg 1 0x00000002 ]\n"
		       "  [ counter pkts 0 bytes 0 ]\n  [ ct load mark => reg 1 ]\n"
		       "  [ bitwise reg 1 = ( reg 1 & 0xfeffffff ) ^ 0x01000000 ]\n"
		       "  [ ct set mark with reg 1 ]\n"
		       "  [ immediate reg 1 0x0500000a ]\n  [ immediate reg 2 0x00005000 ]\n"
		       "  [ nat dnat ip addr_min reg 1 addr_max reg 1 proto_min reg 2 "
		       "proto_max reg 2 flags 0x3 ]");
	/* The same port: no proto registers; IPv6, in the private zone's chain. */
	assert_has(&c, "nat dnat ip6 addr_min reg 1 addr_max reg 1 flags 0x1 ]");
	/* Its bans, the masquerade's zone mark, tcp and udp of the forward,
	 * and the accept that keeps the default zone's forwards out. */
	ck_assert_uint_eq(chain_rule_count(c.rs, "nat_private"), 4 + 1 + 2 + 1);
	/* private masquerades: its zone number goes into the connection mark. */
	assert_has(&c, "[ bitwise reg 1 = ( reg 1 & 0xff00ffff ) ^ 0x00010000 ]");
	assert_has(&c, "[ bitwise reg 1 = ( reg 1 & 0x00ff0000 ) ^ 0x00000000 ]\n"
		       "  [ cmp eq reg 1 0x00010000 ]\n  [ meta load oifname => reg 1 ]\n"
		       "  [ cmp eq reg 1 0x30687465 0x00000000 ]\n  [ counter pkts 0 bytes 0 ]\n"
		       "  [ masq ]");
	/* The forward chain accepts our DNAT'ed connections. */
	assert_has(&c, "[ ct load status => reg 1 ]\n"
		       "  [ bitwise reg 1 = ( reg 1 & 0x00000020 ) ^ 0x00000000 ]\n"
		       "  [ cmp eq reg 1 0x00000020 ]\n  [ counter pkts 0 bytes 0 ]\n"
		       "  [ immediate reg 0 accept ]");
	/* The filter side knows nothing of them: no rule of its own for 8080. */
	assert_lacks(&c, "0x0000901f ]\n  [ counter pkts 0 bytes 0 ]\n  [ immediate reg 0 accept");
	assert_forward_accept_after_bans(c.rs);
	compiled_free(&c);

	/* A wildcard interface: prerouting's dispatch is the same interval
	 * map of 16-byte names as input's. */
	c = compiled_new(ZONES "zone lan interface br-*\n"
			       "forward 8080/tcp to 10.0.0.5:80 zone lan\n");
	assert_has(&c, "nat_iif portctl c\n");
	assert_has(&c, "[ meta load iifname => reg 1 ]\n  [ lookup reg 1 set nat_iif dreg 0 ]");
	assert_has(&c, "element 002d7262 00000000 00000000 00000000  : jump -> nat_lan");
	assert_has(&c, "element 002d7262 00000000 00000000 00000000  : jump -> in_lan");
	assert_forward_accept_after_bans(c.rs);
	compiled_free(&c);
}
END_TEST

START_TEST(test_rule_several_sources_and_ports)
{
	struct compiled c = compiled_new(ZONES "allow 22,80-90/tcp,53/udp from 10.0.0.0/8,"
					      "172.16.0.0/12,2001:db8::/32 log\n");

	/* Sets per family and protocol; one rule per (family, proto) and a log rule each. */
	assert_has(&c, "_from4 portctl 4");
	assert_has(&c, "_tcp portctl 4");
	assert_has(&c, "[ lookup reg 1 set in_public_R_");
	assert_has(&c, "_from4 ]");
	assert_has(&c, "_tcp ]");
	assert_has(&c, "[ payload load 16b @ network header + 8 => reg 1 ]");
	assert_has(&c, "[ cmp eq reg 1 0x00003500 ]");
	assert_has(&c, "[ log prefix portctl public test.rules:2  ]");
	assert_has(&c, "[ limit rate 10/minute burst 5 type packets flags 0x0 ]");
	/* v4 tcp, v4 udp, v6 tcp, v6 udp: a log and a main rule each, + policy. */
	ck_assert_uint_eq(chain_rule_count(c.rs, "in_public"), ZONE_HEAD + ZONE_PING + 9);
	compiled_free(&c);
}
END_TEST

/* A rule of its own of a few ports and addresses: a kernel rule per
 * combination, no set (a zone of thousands of them would be thousands of
 * sets, which the kernel loads in quadratic time); past 8 combinations,
 * sets. */
START_TEST(test_rule_few_values_no_sets)
{
	struct compiled c = compiled_new(ZONES "allow 22,80/tcp from 10.0.0.0/8,172.16.0.0/12 "
					       "to 192.0.2.0/24,198.51.100.0/24\n");
	struct compiled big = compiled_new(ZONES "allow 22,80,443/tcp from 10.0.0.0/8,172.16.0.0/12 "
						 "to 192.0.2.0/24,198.51.100.0/24\n");

	assert_lacks(&c, "[ lookup reg 1 set in_public_R_");
	assert_has(&c, "[ cmp eq reg 1 0x00001600 ]");
	assert_has(&c, "[ cmp eq reg 1 0x00005000 ]");
	assert_has(&c, "[ cmp eq reg 1 0x000010ac ]");
	assert_has(&c, "[ cmp eq reg 1 0x006433c6 ]");
	/* 2 ports x 2 sources x 2 destinations, + policy. */
	ck_assert_uint_eq(chain_rule_count(c.rs, "in_public"), ZONE_HEAD + ZONE_PING + 9);
	assert_has(&big, "[ lookup reg 1 set in_public_R_");
	ck_assert_uint_eq(chain_rule_count(big.rs, "in_public"), ZONE_HEAD + ZONE_PING + 2);
	compiled_free(&c);
	compiled_free(&big);
}
END_TEST

START_TEST(test_log_level_and_prefix)
{
	struct compiled c = compiled_new(ZONES "allow 22/tcp log level info prefix \"ssh\"\n");

	/* The user's prefix in place of "portctl", ZONE FILE:LINE kept; the
	 * level on the kernel log statement. */
	assert_has(&c, "[ log prefix ssh public test.rules:2  level 6 ]");
	compiled_free(&c);
}
END_TEST

START_TEST(test_limit_meter_and_rate)
{
	struct compiled c = compiled_new(ZONES "limit 22/tcp\n"
					      "reject 80/tcp rate 3/minute burst 4\n"
					      "limit 23/tcp rate 5/hour\n");
	const char *tag22, *tag23;

	/* One meter per zone and family, its keys the source and a rule's tag. */
	assert_has(&c, "meter4_public portctl 30 timeout 60000ms size 65535");
	assert_has(&c, "meter6_public portctl 30 timeout 60000ms size 65535");
	assert_lacks(&c, "_meter4 ");
	assert_has(&c, "[ payload load 4b @ network header + 12 => reg 1 ]\n"
		       "  [ immediate reg 9 0x");
	assert_has(&c, " ]\n  [ dynset add reg_key 1 set meter4_public timeout 60000ms "
		       "expr [ limit rate 6/minute burst 6 type packets flags 0x1 ] ]\n"
		       "  [ counter pkts 0 bytes 0 ]\n  [ immediate reg 0 drop ]");
	assert_has(&c, "[ payload load 16b @ network header + 8 => reg 1 ]\n"
		       "  [ immediate reg 2 0x");
	assert_has(&c, " ]\n  [ dynset add reg_key 1 set meter6_public timeout 60000ms ");
	/* A window longer than the set's timeout: the rule's elements last it. */
	assert_has(&c, "set meter4_public timeout 3600000ms expr [ limit rate 5/hour");
	/* Each rule its own tag. */
	tag22 = strstr(c.text, "[ immediate reg 9 0x");
	ck_assert_ptr_nonnull(tag22);
	tag23 = strstr(tag22 + 1, "[ immediate reg 9 0x");
	ck_assert_ptr_nonnull(tag23);
	while (tag23 && !strncmp(tag22, tag23, 30))
		tag23 = strstr(tag23 + 1, "[ immediate reg 9 0x");
	ck_assert_ptr_nonnull(tag23);
	assert_has(&c, "[ limit rate 3/minute burst 4 type packets flags 0x0 ]\n"
		       "  [ counter pkts 0 bytes 0 ]\n  [ immediate reg 0 jump -> do_reject ]");
	compiled_free(&c);
}
END_TEST

START_TEST(test_from_only_block)
{
	struct compiled c = compiled_new(ZONES "deny from 203.0.113.7,2001:db8:bad::/48\n"
					      "reject out to 198.51.100.0/24\n");

	/* A single address goes to a hash set (flags 0), without the end
	 * element an interval set (flags 4) would give it; a set per verdict,
	 * whose rule says it. */
	assert_has(&c, "[ lookup reg 1 set in_public_A_src4_drop ]\n"
		       "  [ immediate reg 0 drop ]");
	assert_has(&c, "in_public_A_src4_drop portctl 0\n\telement 077100cb  : 0 [end]");
	assert_lacks(&c, "element 087100cb");
	assert_has(&c, "[ lookup reg 1 set in_public_A_src6_ranges_drop ]");
	assert_has(&c, "in_public_A_src6_ranges_drop portctl 4\n");
	assert_lacks(&c, "set in_public_A_src6_drop ");
	assert_lacks(&c, "_src4_accept");
	assert_has(&c, "[ payload load 4b @ network header + 16 => reg 1 ]\n"
		       "  [ lookup reg 1 set out_public_A_dst4_ranges_reject ]\n"
		       "  [ immediate reg 0 jump -> do_reject ]");
	assert_has(&c, "element 006433c6  : 0 [end]");
	assert_lacks(&c, ": jump -> do_reject");
	compiled_free(&c);
}
END_TEST

START_TEST(test_sources_recorded)
{
	struct compiled c = compiled_new(ZONES "allow 22/tcp from 10.0.0.0/8\n");
	size_t with_rule = 0;

	for (size_t i = 0; i < c.rs->n_objs; i++) {
		const struct pc_nft_object *o = &c.rs->objs[i];

		if (o->rule) {
			ck_assert_uint_eq(o->rule->loc.line, 2);
			ck_assert_str_eq(o->zone->name, "public");
			with_rule++;
		}
	}
	/* in_public's, and pub_public's for published ports */
	ck_assert_uint_eq(with_rule, 2);
	compiled_free(&c);
}
END_TEST

START_TEST(test_deterministic)
{
	const char *rules = ZONES "zone lab interface eth1 source 10.0.0.0/8,fd00::/8\n"
				  "allow 22/tcp from 10.0.0.0/8,192.168.0.0/16 log\n"
				  "allow 80,443/tcp zone lab,public\n"
				  "deny from 203.0.113.0/24\nlimit 2222/tcp\n";
	struct compiled a = compiled_new(rules), b = compiled_new(rules);

	ck_assert_uint_eq(a.rs->n_objs, b.rs->n_objs);
	ck_assert_str_eq(a.text, b.text);
	for (size_t i = 0; i < a.rs->n_objs; i++) {
		char *ta = object_text(&a.rs->objs[i]), *tb = object_text(&b.rs->objs[i]);

		ck_assert_str_eq(ta, tb);
		free(ta);
		free(tb);
	}
	compiled_free(&a);
	compiled_free(&b);
}
END_TEST

START_TEST(test_size_100k_ports)
{
	struct pc_strbuf sb = { 0 };
	struct compiled c;

	ck_assert_int_eq(pc_strbuf_append(&sb, ZONES, strlen(ZONES)), 0);
	for (unsigned int i = 1; i <= 100000; i++) {
		const char *proto = i <= 65535 ? "tcp" : "udp";
		unsigned int port = i <= 65535 ? i : i - 65535;

		ck_assert_int_eq(pc_strbuf_printf(&sb, "allow %u/%s\n", port, proto), 0);
	}
	c = compiled_new(sb.buf);
	ck_assert_uint_lt(c.rs->n_rules, 100);
	ck_assert_uint_ge(c.rs->n_elems, 100000);
	/* Lookups, not a rule per port; with the (empty) sets of dropped and
	 * rejected ports, and of ranges of each verdict (a big block names
	 * the run). */
	ck_assert_uint_eq(chain_rule_count(c.rs, "in_public"), ZONE_HEAD + ZONE_PING + 7);
	pc_strbuf_free(&sb);
	compiled_free(&c);
}
END_TEST

static int line_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The ruleset as text with each set's elements sorted: a set changed in
 * place holds its elements in another order than a fresh compile's. */
static char *ruleset_canonical(const struct pc_ruleset *rs)
{
	struct pc_strbuf sb = { 0 };

	for (size_t i = 0; i < rs->n_objs; i++) {
		const struct pc_nft_object *o = &rs->objs[i];
		struct nftnl_set_elems_iter *it;
		struct nftnl_set_elem *e;
		char **lines = NULL;
		size_t n = 0;

		if (o->kind != PC_NFT_SET) {
			char *t = object_text(o);

			ck_assert_int_eq(pc_strbuf_printf(&sb, "%s\n", t), 0);
			free(t);
			continue;
		}
		ck_assert_int_eq(pc_strbuf_printf(&sb, "set %s\n",
						  nftnl_set_get_str(o->obj, NFTNL_SET_NAME)), 0);
		it = nftnl_set_elems_iter_create(o->obj);
		/* _next gives the element it is at, then moves on. */
		while ((e = nftnl_set_elems_iter_next(it))) {
			char buf[512];

			nftnl_set_elem_snprintf(buf, sizeof(buf), e, NFTNL_OUTPUT_DEFAULT, 0);
			lines = realloc(lines, (n + 1) * sizeof(*lines));
			ck_assert_ptr_nonnull(lines);
			lines[n++] = strdup(buf);
		}
		nftnl_set_elems_iter_destroy(it);
		if (n) /* an empty set (no bans) has no array */
			qsort(lines, n, sizeof(*lines), line_cmp);
		for (size_t k = 0; k < n; k++) {
			ck_assert_int_eq(pc_strbuf_printf(&sb, "  %s\n", lines[k]), 0);
			free(lines[k]);
		}
		free(lines);
	}
	return sb.buf;
}

static void assert_same_as_compile(const struct pc_ruleset *rs, const char *rules)
{
	struct compiled want = compiled_new(rules);
	char *got = ruleset_canonical(rs), *exp = ruleset_canonical(want.rs);

	if (strcmp(got, exp)) {
		fprintf(stderr, "in place:\n%s\nfull compile:\n%s", got, exp);
		ck_abort_msg("the ruleset changed in place differs from a full compile");
	}
	ck_assert_uint_eq(rs->n_elems, want.rs->n_elems);
	free(got);
	free(exp);
	compiled_free(&want);
}

/* A compiled configuration to change in place, as portctld keeps it. */
struct in_place {
	struct pc_config *cfg;
	struct pc_plan *plan;
	struct pc_ruleset *rs;
	struct pc_diags d;
	struct pc_rule_edit ed;
};

static void in_place_init(struct in_place *t, const char *rules)
{
	t->cfg = config_from_text(rules);
	t->plan = plan_from_config(t->cfg);
	t->rs = NULL;
	pc_diags_init(&t->d);
	ck_assert_int_eq(pc_ruleset_lower(t->plan, &t->rs, &t->d), 0);
}

static void in_place_free(struct in_place *t)
{
	pc_diags_free(&t->d);
	pc_ruleset_free(t->rs);
	pc_plan_free(t->plan);
	pc_config_free(t->cfg);
}

/* Parse text as one more rule, at the end, and validate it: its index. */
static size_t rule_parse_last(struct in_place *t, const char *text)
{
	char *data = strdup(text);

	ck_assert_ptr_nonnull(data);
	ck_assert_int_eq(pc_parse_buffer(t->cfg, "test.rules", data, strlen(text), PC_ORIGIN_CLI, &t->d),
			 0);
	ck_assert_int_eq(pc_config_validate_rule(t->cfg, t->cfg->n_rules - 1, &t->d), 0);
	return t->cfg->n_rules - 1;
}

/* The rule parsed last moves to index at, as portctld moves it once the
 * kernel holds the change; plan and ruleset follow. */
static void rule_move_last_to(struct in_place *t, size_t at)
{
	struct pc_rules_moved moved = pc_config_rule_put(t->cfg, at);

	pc_plan_rules_shift(t->plan, t->rs, &moved);
}

#define APPEND_HEAD ZONES "allow 80/tcp comment \"web\"\nallow 1000-2000/tcp comment \"apps\"\n"
#define APPEND_TAIL "allow 22/tcp comment \"ssh\"\n"
#define APPEND_NEW "allow 443/tcp,1500-3100/tcp comment \"new\"\n"

/* A CLI rule added in place, before a rule that follows 90-portctl.rules
 * (defaults.rules' "allow ssh"), gives what a full compile gives. */
START_TEST(test_append_before_later_rules)
{
	struct in_place t;

	in_place_init(&t, APPEND_HEAD APPEND_TAIL);
	rule_parse_last(&t, APPEND_NEW);
	rule_move_last_to(&t, 2);
	ck_assert_int_eq(pc_rule_edit_prepare(t.plan, t.rs, &t.cfg->rules[2], false, &t.ed), 0);
	/* 443, and 2001-3100: 1500-2000 stays with the earlier rule. */
	ck_assert_uint_eq(t.ed.add.n_ports, 2);
	ck_assert_uint_eq(t.ed.add.ports[1].port.lo, 2001);
	ck_assert_uint_eq(t.ed.del.n_ports, 0);
	ck_assert_int_eq(pc_rule_edit_commit(t.plan, t.rs, &t.ed), 0);
	pc_rule_edit_free(&t.ed);
	assert_same_as_compile(t.rs, APPEND_HEAD APPEND_NEW APPEND_TAIL);
	ck_assert_ptr_eq(t.plan->zones[0].dir[PC_DIR_IN].entries[0].last, &t.cfg->rules[3]);

	/* Port 22 was the later rule's; the new rule, before it, takes it. */
	rule_parse_last(&t, "allow 20-23/tcp comment \"x\"\n");
	rule_move_last_to(&t, 3);
	ck_assert_int_eq(pc_rule_edit_prepare(t.plan, t.rs, &t.cfg->rules[3], false, &t.ed), 0);
	ck_assert_uint_eq(t.ed.del.n_ports, 1); /* the 22 of "ssh" */
	ck_assert_int_eq(pc_rule_edit_commit(t.plan, t.rs, &t.ed), 0);
	pc_rule_edit_free(&t.ed);
	ck_assert_int_eq(pc_ruleset_ports_sync(t.rs), 0);
	assert_same_as_compile(t.rs, APPEND_HEAD APPEND_NEW "allow 20-23/tcp comment \"x\"\n"
					APPEND_TAIL);
	in_place_free(&t);
}
END_TEST

/* The later rules alone make up the last port map: the new rule heads
 * it, after the "from" rule; a rule of its own kind is refused. */
START_TEST(test_append_heads_a_later_run)
{
	struct in_place t;

	in_place_init(&t, ZONES "allow 25/tcp from 10.0.0.0/8\n" APPEND_TAIL);
	rule_parse_last(&t, "allow 443/tcp comment \"new\"\n");
	rule_move_last_to(&t, 1);
	ck_assert_int_eq(pc_rule_edit_prepare(t.plan, t.rs, &t.cfg->rules[1], false, &t.ed), 0);
	ck_assert_int_eq(pc_rule_edit_commit(t.plan, t.rs, &t.ed), 0);
	pc_rule_edit_free(&t.ed);
	ck_assert_ptr_eq(t.plan->zones[0].dir[PC_DIR_IN].entries[1].first, &t.cfg->rules[1]);
	/* It heads the block of its file's rules the run is named by. */
	ck_assert_ptr_eq(t.plan->zones[0].dir[PC_DIR_IN].entries[1].anchor, &t.cfg->rules[1]);
	ck_assert_uint_eq(t.plan->zones[0].dir[PC_DIR_IN].entries[1].anchor_n, 2);
	assert_same_as_compile(t.rs, ZONES "allow 25/tcp from 10.0.0.0/8\n"
					"allow 443/tcp comment \"new\"\n" APPEND_TAIL);
	/* Not port-only: not a port map's change. */
	rule_parse_last(&t, "limit 443/tcp\n");
	ck_assert_int_eq(pc_rule_edit_prepare(t.plan, t.rs, &t.cfg->rules[t.cfg->n_rules - 1],
					      false, &t.ed),
			 -EOPNOTSUPP);
	in_place_free(&t);
}
END_TEST

/* A file whose port rules and address rules alternate: a run of each kind
 * per rule, named by the file alike (their name_nth counts within a kind).
 * Cut into blocks, each block chain has a name of its own: until 2026-12
 * a run of ports and one of addresses could name one chain, which the
 * zone then jumped to twice. */
START_TEST(test_blocks_named_apart)
{
	struct pc_strbuf text = { 0 };
	struct compiled c;
	size_t n = 0;
	const char **names = NULL;

	pc_strbuf_printf(&text, ZONES);
	for (int i = 0; i < 600; i++) {
		if (i % 2)
			pc_strbuf_printf(&text, "deny from 10.0.%d.%d\n", i / 256, i % 256);
		else
			pc_strbuf_printf(&text, "allow %d/tcp\n", 10000 + i);
	}
	c = compiled_new(text.buf);
	names = calloc(c.rs->n_objs, sizeof(*names));
	ck_assert_ptr_nonnull(names);
	for (size_t i = 0; i < c.rs->n_objs; i++) {
		const char *name;

		if (c.rs->objs[i].kind != PC_NFT_CHAIN)
			continue;
		name = nftnl_chain_get_str(c.rs->objs[i].obj, NFTNL_CHAIN_NAME);
		for (size_t k = 0; k < n; k++)
			ck_assert_msg(!streq(names[k], name), "two chains named %s", name);
		names[n++] = name;
	}
	ck_assert_msg(chain_count_prefixed(c.rs, "in_public_B") >= 4, "too few blocks");
	free(names);
	free(text.buf);
	compiled_free(&c);
}
END_TEST


static Suite *compile_suite(void)
{
	Suite *s = suite_create("compile");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_shape_and_preamble);
	tcase_add_test(tc, test_nat_chains);
	tcase_add_test(tc, test_chain_keys);
	tcase_add_test(tc, test_port_map_exact_and_range);
	tcase_add_test(tc, test_set_flags);
	tcase_add_test(tc, test_reverse_path_strict);
	tcase_add_test(tc, test_reverse_path_loose_and_off);
	tcase_add_test(tc, test_rule_with_from_and_comment);
	tcase_add_test(tc, test_rule_several_sources_and_ports);
	tcase_add_test(tc, test_rule_few_values_no_sets);
	tcase_add_test(tc, test_log_level_and_prefix);
	tcase_add_test(tc, test_limit_meter_and_rate);
	tcase_add_test(tc, test_from_only_block);
	tcase_add_test(tc, test_sources_recorded);
	tcase_add_test(tc, test_deterministic);
	tcase_add_test(tc, test_size_100k_ports);
	tcase_add_test(tc, test_append_before_later_rules);
	tcase_add_test(tc, test_print_nft);
	tcase_add_test(tc, test_span_prefixes);
	tcase_add_test(tc, test_append_heads_a_later_run);
	tcase_add_test(tc, test_blocks_named_apart);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(compile_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
