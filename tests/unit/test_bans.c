/* Unit tests of bans in the compiler: validation, the ban sets and where
 * they are looked up, element timeouts, the O(bans) update against a full
 * compile, and the evaluator and explain agreeing with the kernel shape. */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <linux/netfilter/nf_tables.h>

#include "compile_helper.h"
#include "portctl/explain.h"

#define ZONES                                                                                      \
	"zone public interface eth0 default\n"                                                     \
	"zone office interface eth1 source 10.1.0.0/16,fd00:1::/32\n"                              \
	"allow 22/tcp\n"

static struct pc_prefix prefix(const char *text)
{
	struct pc_prefix p = { 0 };
	char buf[64];
	char *slash;

	snprintf(buf, sizeof(buf), "%s", text);
	slash = strchr(buf, '/');
	if (slash)
		*slash = '\0';
	p.family = strchr(buf, ':') ? AF_INET6 : AF_INET;
	ck_assert_int_eq(inet_pton(p.family, buf, p.addr), 1);
	p.len = slash ? (uint8_t)atoi(slash + 1) : p.family == AF_INET ? 32 : 128;
	return p;
}

static void ban(struct pc_config *cfg, const char *addr, const char *zone, uint64_t expires)
{
	struct pc_prefix p = prefix(addr);

	ck_assert_int_eq(pc_config_ban_add(cfg, &p, zone, expires), 0);
}

static uint64_t now_s(void)
{
	return (uint64_t)time(NULL);
}

/* Validate again after adding bans; the diagnostics' text in *msgs. */
static int validate(struct pc_config *cfg, char **msgs)
{
	struct pc_diags d;
	size_t len = 0;
	FILE *f = open_memstream(msgs, &len);
	int r;

	pc_diags_init(&d);
	r = pc_config_validate(cfg, &d);
	pc_diags_print(f, &d, &cfg->sources);
	fclose(f);
	pc_diags_free(&d);
	return r;
}

static char *text_of(const struct pc_ruleset *rs)
{
	return ruleset_text(rs);
}

static void assert_in(const char *text, const char *needle)
{
	if (!strstr(text, needle)) {
		fprintf(stderr, "%s", text);
		ck_abort_msg("missing \"%s\" in the text printed above", needle);
	}
}

static const struct nftnl_set *set_named(const struct pc_ruleset *rs, const char *name)
{
	for (size_t i = 0; i < rs->n_objs; i++)
		if (rs->objs[i].kind == PC_NFT_SET &&
		    streq(nftnl_set_get_str(rs->objs[i].obj, NFTNL_SET_NAME), name))
			return rs->objs[i].obj;
	ck_abort_msg("no set %s", name);
	return NULL;
}

/* The rules of one chain, printed, in order, concatenated. */
static char *chain_text(const struct pc_ruleset *rs, const char *chain)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	for (size_t i = 0; i < rs->n_objs; i++) {
		char one[8192];

		if (rs->objs[i].kind != PC_NFT_RULE ||
		    !streq(nftnl_rule_get_str(rs->objs[i].obj, NFTNL_RULE_CHAIN), chain))
			continue;
		nftnl_rule_snprintf(one, sizeof(one), rs->objs[i].obj, NFTNL_OUTPUT_DEFAULT, 0);
		fprintf(f, "%s\n", one);
	}
	fclose(f);
	return buf;
}

/* Elements of a set as (key byte string, flags, timeout, comment) lines. */
struct elem_line {
	char *buf;
	size_t len;
	FILE *f;
};

static int elem_line_cb(struct nftnl_set_elem *e, void *data)
{
	struct elem_line *l = data;
	uint32_t klen = 0, ulen = 0;
	const uint8_t *k = nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY, &klen);
	const char *u = nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_USERDATA)
				? nftnl_set_elem_get(e, NFTNL_SET_ELEM_USERDATA, &ulen)
				: NULL;

	for (uint32_t i = 0; i < klen; i++)
		fprintf(l->f, "%02x", k[i]);
	fprintf(l->f, " %s",
		nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_FLAGS) &&
			(nftnl_set_elem_get_u32(e, NFTNL_SET_ELEM_FLAGS) & NFT_SET_ELEM_INTERVAL_END)
		    ? "end"
		    : "start");
	if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_TIMEOUT))
		fprintf(l->f, " timeout");
	/* udata: type, length, the comment and its NUL. */
	if (u && ulen > 2)
		fprintf(l->f, " \"%s\"", u + 2);
	fputc('\n', l->f);
	return 0;
}

static char *elems_text(const struct nftnl_set *s)
{
	struct elem_line l = { 0 };

	l.f = open_memstream(&l.buf, &l.len);
	nftnl_set_elem_foreach((struct nftnl_set *)s, elem_line_cb, &l);
	fclose(l.f);
	return l.buf;
}

/* The timeout of the element with key hex, in ms, or 0. */
struct timeout_find {
	const char *hex;
	uint64_t ms;
};

static int timeout_cb(struct nftnl_set_elem *e, void *data)
{
	struct timeout_find *t = data;
	uint32_t klen = 0;
	const uint8_t *k = nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY, &klen);
	char hex[40] = "";

	for (uint32_t i = 0; i < klen; i++)
		snprintf(hex + 2 * i, 3, "%02x", k[i]);
	if (streq(hex, t->hex) && nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_TIMEOUT))
		t->ms = nftnl_set_elem_get_u64(e, NFTNL_SET_ELEM_TIMEOUT);
	return 0;
}

static uint64_t elem_timeout(const struct nftnl_set *s, const char *hex)
{
	struct timeout_find t = { .hex = hex };

	nftnl_set_elem_foreach((struct nftnl_set *)s, timeout_cb, &t);
	return t.ms;
}

static char *until_text(uint64_t t)
{
	static char buf[64];
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(buf, sizeof(buf), "until %Y-%m-%dT%H:%M:%SZ", &tm);
	return buf;
}

/* --- validation --- */

START_TEST(test_validate_bans)
{
	struct pc_config *cfg = config_from_text(ZONES);
	struct pc_diags d;
	char *msgs = NULL;

	ban(cfg, "203.0.113.7", NULL, 0);
	ban(cfg, "203.0.113.7", NULL, 0); /* a duplicate is merged, not refused */
	ban(cfg, "2001:db8::/32", "office", now_s() + 60);
	ck_assert_int_eq(validate(cfg, &msgs), 0);
	free(msgs);

	ban(cfg, "10.0.0.5/24", NULL, 0);
	ban(cfg, "192.0.2.1", "ofice", 0);
	ck_assert_int_eq(validate(cfg, &msgs), -EINVAL);
	assert_in(msgs, "'10.0.0.5/24' has host bits set after the prefix");
	assert_in(msgs, "did you mean 10.0.0.0/24?");
	assert_in(msgs, "unknown zone 'ofice' (ban of 192.0.2.1)");
	assert_in(msgs, "did you mean 'office'?");
	free(msgs);

	/* One ban added to a validated configuration. */
	pc_diags_init(&d);
	ck_assert_int_eq(pc_config_validate_ban(cfg, 2, &d), 0);
	ck_assert_int_eq(pc_config_validate_ban(cfg, 4, &d), -EINVAL);
	ck_assert_uint_eq(d.n_errors, 1);
	pc_diags_free(&d);
	pc_config_free(cfg);
}
END_TEST

/* --- lowering --- */

START_TEST(test_shape_without_bans)
{
	struct pc_config *cfg = config_from_text(ZONES);
	struct pc_ruleset *rs = ruleset_from_config(cfg);
	char *input = chain_text(rs, "input"), *in_office = chain_text(rs, "in_office");
	char *output = chain_text(rs, "output"), *pre = chain_text(rs, "preamble_in");
	const char *names[] = { "ban4",	       "ban4net",	 "ban6",	"ban6net",
				"ban4_public", "ban4net_public", "ban6_public", "ban6net_public",
				"ban4_office", "ban4net_office", "ban6_office", "ban6net_office" };

	/* The sets exist, empty, so the first ban is an element change;
	 * single addresses in a hash set, wider spans in an interval set. */
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		const struct nftnl_set *s = set_named(rs, names[i]);
		char *e = elems_text(s);

		ck_assert_uint_eq(nftnl_set_get_u32(s, NFTNL_SET_FLAGS),
				  (i % 2 ? NFT_SET_INTERVAL : 0) | NFT_SET_TIMEOUT);
		ck_assert_uint_eq(nftnl_set_get_u32(s, NFTNL_SET_KEY_LEN), i % 4 > 1 ? 16 : 4);
		ck_assert_str_eq(e, "");
		free(e);
	}
	/* input: loopback, the bans of every zone, then dispatch. */
	assert_in(input, "[ meta load iif => reg 1 ]\n  [ cmp eq reg 1 0x00000001 ]\n"
			 "  [ immediate reg 0 accept ]\n\n"
			 "inet portctl input\n  [ meta load nfproto => reg 1 ]\n"
			 "  [ cmp eq reg 1 0x00000002 ]\n"
			 "  [ payload load 4b @ network header + 12 => reg 1 ]\n"
			 "  [ lookup reg 1 set ban4 ]\n  [ counter pkts 0 bytes 0 ]\n"
			 "  [ immediate reg 0 drop ]\n\n"
			 "inet portctl input\n  [ meta load nfproto => reg 1 ]\n"
			 "  [ cmp eq reg 1 0x00000002 ]\n"
			 "  [ payload load 4b @ network header + 12 => reg 1 ]\n"
			 "  [ lookup reg 1 set ban4net ]\n  [ counter pkts 0 bytes 0 ]\n"
			 "  [ immediate reg 0 drop ]\n\n"
			 "inet portctl input\n  [ meta load nfproto => reg 1 ]\n"
			 "  [ cmp eq reg 1 0x0000000a ]\n"
			 "  [ payload load 16b @ network header + 8 => reg 1 ]\n"
			 "  [ lookup reg 1 set ban6 ]\n  [ counter pkts 0 bytes 0 ]\n"
			 "  [ immediate reg 0 drop ]\n\n"
			 "inet portctl input\n  [ meta load nfproto => reg 1 ]\n"
			 "  [ cmp eq reg 1 0x0000000a ]\n"
			 "  [ payload load 16b @ network header + 8 => reg 1 ]\n"
			 "  [ lookup reg 1 set ban6net ]\n  [ counter pkts 0 bytes 0 ]\n"
			 "  [ immediate reg 0 drop ]\n\n");
	/* Then (after the reverse-path check) the dispatch. */
	ck_assert_ptr_nonnull(strstr(strstr(input, "set ban6net ]"), "[ lookup reg 1 set zone_src4_in dreg 0 ]"));
	/* No conntrack before the bans: established connections are checked
	 * in the zone chains, after their bans. */
	ck_assert_ptr_null(strstr(input, "bitwise"));
	/* output: the destination. */
	assert_in(output, "[ payload load 4b @ network header + 16 => reg 1 ]\n"
			  "  [ lookup reg 1 set ban4 ]");
	assert_in(output, "[ payload load 4b @ network header + 16 => reg 1 ]\n"
			  "  [ lookup reg 1 set ban4net ]");
	assert_in(output, "[ payload load 16b @ network header + 24 => reg 1 ]\n"
			  "  [ lookup reg 1 set ban6 ]");
	assert_in(output, "[ payload load 16b @ network header + 24 => reg 1 ]\n"
			  "  [ lookup reg 1 set ban6net ]");
	/* A zone chain: its bans, the built-in part, then its rules. */
	assert_in(in_office, "inet portctl in_office\n  [ meta load nfproto => reg 1 ]\n"
			     "  [ cmp eq reg 1 0x00000002 ]\n"
			     "  [ payload load 4b @ network header + 12 => reg 1 ]\n"
			     "  [ lookup reg 1 set ban4_office ]\n  [ counter pkts 0 bytes 0 ]\n"
			     "  [ immediate reg 0 drop ]\n\n"
			     "inet portctl in_office\n  [ meta load nfproto => reg 1 ]\n"
			     "  [ cmp eq reg 1 0x00000002 ]\n"
			     "  [ payload load 4b @ network header + 12 => reg 1 ]\n"
			     "  [ lookup reg 1 set ban4net_office ]\n  [ counter pkts 0 bytes 0 ]\n"
			     "  [ immediate reg 0 drop ]\n\n"
			     "inet portctl in_office\n  [ meta load nfproto => reg 1 ]\n"
			     "  [ cmp eq reg 1 0x0000000a ]\n"
			     "  [ payload load 16b @ network header + 8 => reg 1 ]\n"
			     "  [ lookup reg 1 set ban6_office ]\n  [ counter pkts 0 bytes 0 ]\n"
			     "  [ immediate reg 0 drop ]\n\n"
			     "inet portctl in_office\n  [ meta load nfproto => reg 1 ]\n"
			     "  [ cmp eq reg 1 0x0000000a ]\n"
			     "  [ payload load 16b @ network header + 8 => reg 1 ]\n"
			     "  [ lookup reg 1 set ban6net_office ]\n  [ counter pkts 0 bytes 0 ]\n"
			     "  [ immediate reg 0 drop ]\n\n"
			     "inet portctl in_office\n  [ immediate reg 0 jump -> preamble_in ]\n\n"
			     "inet portctl in_office\n  [ meta load l4proto => reg 1 ]\n"
			     "  [ cmp eq reg 1 0x00000001 ]\n"
			     "  [ payload load 1b @ transport header + 0 => reg 1 ]\n"
			     "  [ cmp eq reg 1 0x00000008 ]\n  [ immediate reg 0 accept ]\n\n"
			     "inet portctl in_office\n  [ meta load l4proto => reg 1 ]\n"
			     "  [ cmp eq reg 1 0x0000003a ]\n"
			     "  [ payload load 1b @ transport header + 0 => reg 1 ]\n"
			     "  [ cmp eq reg 1 0x00000080 ]\n  [ immediate reg 0 accept ]\n\n"
			     "inet portctl in_office\n  [ counter pkts 0 bytes 0 ]\n"
			     "  [ immediate reg 0 drop ]");
	/* The built-in part: ND, established, invalid; echo-request is the zone's. */
	assert_in(pre, "[ lookup reg 1 set icmp6_early ]");
	assert_in(pre, "[ bitwise reg 1 = ( reg 1 & 0x00000006 ) ^ 0x00000000 ]\n"
		       "  [ cmp neq reg 1 0x00000000 ]\n  [ immediate reg 0 accept ]");
	ck_assert(!strstr(pre, "icmp_ok") && !strstr(pre, "0x00000008 ]"));
	ck_assert(strstr(pre, "set icmp6_early") < strstr(pre, "0x00000006"));
	free(input);
	free(output);
	free(in_office);
	free(pre);
	pc_ruleset_free(rs);
	pc_config_free(cfg);
}
END_TEST

START_TEST(test_ban_elements)
{
	struct pc_config *cfg = config_from_text(ZONES);
	uint64_t soon = now_s() + 100, later = now_s() + 3600;
	struct pc_ruleset *rs;
	char *e4, *n4, *e6, *eo, *ep, want[1024];

	ban(cfg, "10.0.0.0/24", NULL, soon);
	ban(cfg, "10.0.0.5", NULL, 0);
	ban(cfg, "203.0.113.7", NULL, 0);
	ban(cfg, "2001:db8:bad::/48", "office", later);
	ban(cfg, "198.51.100.1", NULL, now_s() - 1); /* expired: left out */
	rs = ruleset_from_config(cfg);
	e4 = elems_text(set_named(rs, "ban4"));
	n4 = elems_text(set_named(rs, "ban4net"));
	e6 = elems_text(set_named(rs, "ban6"));
	eo = elems_text(set_named(rs, "ban6net_office"));
	ep = elems_text(set_named(rs, "ban4_public"));
	/* The /24 ends sooner than the host inside it, which cuts it in
	 * three, so that its lapse in the kernel leaves the host banned. */
	snprintf(want, sizeof(want),
		 "00000000 end\n"
		 "0a000000 start timeout \"portctl ban 10.0.0.0/24 %s\"\n"
		 "0a000005 end\n"
		 "0a000006 start timeout \"portctl ban 10.0.0.0/24 %s\"\n"
		 "0a000100 end\n",
		 until_text(soon), until_text(soon));
	ck_assert_str_eq(n4, want);
	/* Single addresses: one element each, in the hash set. */
	ck_assert_str_eq(e4, "0a000005 start \"portctl ban 10.0.0.5\"\n"
			     "cb007107 start \"portctl ban 203.0.113.7\"\n");
	ck_assert_str_eq(e6, "");
	ck_assert_str_eq(ep, "");
	free(eo);
	eo = elems_text(set_named(rs, "ban6_office"));
	ck_assert_str_eq(eo, "");
	free(eo);
	eo = elems_text(set_named(rs, "ban6net_office"));
	snprintf(want, sizeof(want),
		 "00000000000000000000000000000000 end\n"
		 "20010db80bad00000000000000000000 start timeout \"portctl ban 2001:db8:bad::/48 %s\"\n"
		 "20010db80bae00000000000000000000 end\n",
		 until_text(later));
	ck_assert_str_eq(eo, want);
	/* The time left, in ms, counted from the compile. */
	ck_assert_uint_le(elem_timeout(set_named(rs, "ban4net"), "0a000000"), 100000);
	ck_assert_uint_gt(elem_timeout(set_named(rs, "ban4net"), "0a000000"), 95000);
	ck_assert_uint_eq(elem_timeout(set_named(rs, "ban4net"), "0a000006"),
			  elem_timeout(set_named(rs, "ban4net"), "0a000000"));
	ck_assert_uint_gt(rs->bans_clock_ms, 0);
	free(e4);
	free(n4);
	free(e6);
	free(eo);
	free(ep);
	pc_ruleset_free(rs);
	pc_config_free(cfg);
}
END_TEST

/* --- the O(bans) update --- */

static void assert_same_bans(const struct pc_ruleset *a, const struct pc_ruleset *b)
{
	char *ta = text_of(a), *tb = text_of(b);

	ck_assert_uint_eq(a->n_objs, b->n_objs);
	ck_assert_uint_eq(a->n_elems, b->n_elems);
	ck_assert_str_eq(ta, tb);
	for (size_t i = 0; i < a->n_objs; i++) {
		char *ea, *eb;

		if (a->objs[i].kind != PC_NFT_SET)
			continue;
		ea = elems_text(a->objs[i].obj);
		eb = elems_text(b->objs[i].obj);
		ck_assert_str_eq(ea, eb);
		ck_assert_uint_eq(nftnl_set_get_u32(a->objs[i].obj, NFTNL_SET_ID),
				  nftnl_set_get_u32(b->objs[i].obj, NFTNL_SET_ID));
		free(ea);
		free(eb);
	}
	free(ta);
	free(tb);
}

START_TEST(test_bans_update_matches_full_compile)
{
	struct pc_config *cfg = config_from_text(ZONES);
	struct pc_ruleset *rs = ruleset_from_config(cfg), *full;
	uint64_t later = now_s() + 3600;

	/* Ban: from none to a few, in every scope and family. */
	ban(cfg, "203.0.113.7", NULL, 0);
	ban(cfg, "2001:db8:bad::/48", "office", later);
	ban(cfg, "10.9.0.0/16", "public", later);
	ban(cfg, "10.9.1.1", "public", 0);
	ck_assert_int_eq(pc_ruleset_bans_update(rs, cfg), 0);
	full = ruleset_from_config(cfg);
	assert_same_bans(rs, full);
	pc_ruleset_free(full);

	/* Unban: back to one. */
	cfg->n_bans = 1;
	ck_assert_int_eq(pc_ruleset_bans_update(rs, cfg), 0);
	full = ruleset_from_config(cfg);
	assert_same_bans(rs, full);
	pc_ruleset_free(full);
	pc_ruleset_free(rs);
	pc_config_free(cfg);
}
END_TEST

START_TEST(test_bans_update_refuses_other_zones)
{
	struct pc_config *cfg = config_from_text(ZONES);
	struct pc_config *other = config_from_text("zone public interface eth0 default\n");
	struct pc_ruleset *rs = ruleset_from_config(cfg), *panic = NULL;
	char *before = text_of(rs), *after;

	ban(other, "203.0.113.7", NULL, 0);
	ck_assert_int_eq(pc_ruleset_bans_update(rs, other), -EINVAL);
	after = text_of(rs);
	ck_assert_str_eq(before, after);
	ck_assert_int_eq(pc_ruleset_panic(&panic), 0);
	ck_assert_int_eq(pc_ruleset_bans_update(panic, cfg), -EINVAL);
	free(before);
	free(after);
	pc_ruleset_free(panic);
	pc_ruleset_free(rs);
	pc_config_free(other);
	pc_config_free(cfg);
}
END_TEST

/* --- evaluation and explain --- */

START_TEST(test_eval_bans)
{
	struct pc_config *cfg = config_from_text(ZONES);
	struct pc_plan *plan;
	struct pc_packet p;
	struct pc_verdict v;

	ban(cfg, "203.0.113.7", NULL, 0);
	ban(cfg, "10.1.2.0/24", "office", 0);
	ban(cfg, "192.0.2.9", NULL, now_s() - 5); /* expired */
	plan = plan_from_config(cfg);

	/* Every zone: inbound from it, outbound to it, ping included. */
	p = packet_make(PC_DIR_IN, IPPROTO_TCP, 22, "203.0.113.7", "10.0.0.1", "eth0");
	v = plan_eval_ok(plan, &p);
	ck_assert_int_eq(v.by, PC_DECIDED_BAN);
	ck_assert_int_eq(v.verdict, PC_VERDICT_DROP);
	ck_assert_ptr_eq(v.ban, &cfg->bans[0]);
	ck_assert_ptr_null(v.zone);
	p = packet_make(PC_DIR_IN, IPPROTO_ICMP, 0, "203.0.113.7", "10.0.0.1", "eth0");
	p.icmp_type = 8;
	ck_assert_int_eq(plan_eval_ok(plan, &p).by, PC_DECIDED_BAN);
	p = packet_make(PC_DIR_OUT, IPPROTO_TCP, 443, "10.0.0.1", "203.0.113.7", "eth0");
	ck_assert_int_eq(plan_eval_ok(plan, &p).by, PC_DECIDED_BAN);
	/* Loopback comes first. */
	p = packet_make(PC_DIR_IN, IPPROTO_TCP, 22, "203.0.113.7", "10.0.0.1", "lo");
	ck_assert_int_eq(plan_eval_ok(plan, &p).by, PC_DECIDED_PREAMBLE);

	/* A zone's ban: only where the packet's zone is that zone. */
	p = packet_make(PC_DIR_IN, IPPROTO_TCP, 22, "10.1.2.3", "10.0.0.1", "eth0");
	v = plan_eval_ok(plan, &p);
	ck_assert_int_eq(v.by, PC_DECIDED_BAN);
	ck_assert_str_eq(v.zone->name, "office");
	ck_assert_ptr_eq(v.ban, &cfg->bans[1]);
	/* Outbound to 10.1.2.3 is in zone office too (by destination). */
	p = packet_make(PC_DIR_OUT, IPPROTO_UDP, 53, "10.0.0.1", "10.1.2.3", "eth0");
	ck_assert_int_eq(plan_eval_ok(plan, &p).by, PC_DECIDED_BAN);
	pc_plan_free(plan);

	/* The same prefix banned in zone public does nothing to zone office. */
	cfg->bans[1].zone = "public";
	plan = plan_from_config(cfg);
	p = packet_make(PC_DIR_IN, IPPROTO_TCP, 22, "10.1.2.3", "10.0.0.1", "eth0");
	v = plan_eval_ok(plan, &p);
	ck_assert_int_eq(v.by, PC_DECIDED_POLICY);
	ck_assert_str_eq(v.zone->name, "office");
	/* Expired: not banned. */
	p = packet_make(PC_DIR_IN, IPPROTO_TCP, 22, "192.0.2.9", "10.0.0.1", "eth0");
	ck_assert_int_eq(plan_eval_ok(plan, &p).by, PC_DECIDED_RULE);
	pc_plan_free(plan);
	pc_config_free(cfg);
}
END_TEST

static json_t *explain(const struct pc_config *cfg, char *words_line)
{
	char *words[PC_EXPLAIN_WORDS_MAX], *save = NULL, err[256];
	struct pc_explain_query q;
	struct pc_diags d;
	json_t *a = NULL;
	int n = 0;

	for (char *w = strtok_r(words_line, " ", &save); w; w = strtok_r(NULL, " ", &save))
		words[n++] = w;
	ck_assert_int_eq(pc_explain_parse(n, words, &q, err, sizeof(err)), 0);
	pc_diags_init(&d);
	ck_assert_int_eq(pc_explain_eval(cfg, &q, &a, &d), 0);
	pc_diags_free(&d);
	return a;
}

static char *explain_printed(const json_t *a)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	pc_explain_print(f, a);
	fclose(f);
	return buf;
}

START_TEST(test_explain_ban)
{
	struct pc_config *cfg = config_from_text(ZONES);
	char line1[] = "in tcp 22 from 203.0.113.7", line2[] = "in tcp 22 from 10.1.2.3";
	char line3[] = "in tcp 22";
	json_t *a;
	char *text;

	ban(cfg, "203.0.113.7", NULL, 0);
	ban(cfg, "10.1.0.0/16", "office", 0);
	a = explain(cfg, line1);
	ck_assert_str_eq(json_string_value(json_object_get(a, "decided_by")), "ban");
	ck_assert_str_eq(json_string_value(json_object_get(a, "verdict")), "drop");
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(a, "ban"), "address")),
			 "203.0.113.7");
	text = explain_printed(a);
	assert_in(text, "rule:    banned (portctl ban 203.0.113.7), in every zone\n");
	assert_in(text, "verdict: drop\n");
	free(text);
	json_decref(a);

	a = explain(cfg, line2);
	text = explain_printed(a);
	assert_in(text, "zone:    office, because the source address 10.1.2.3");
	assert_in(text, "rule:    banned (portctl ban 10.1.0.0/16)\n");
	free(text);
	json_decref(a);

	/* "Any" address stands for one no ban covers. */
	a = explain(cfg, line3);
	ck_assert_str_eq(json_string_value(json_object_get(a, "decided_by")), "rule");
	json_decref(a);
	pc_config_free(cfg);
}
END_TEST

static Suite *bans_suite(void)
{
	Suite *s = suite_create("bans");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_validate_bans);
	tcase_add_test(tc, test_shape_without_bans);
	tcase_add_test(tc, test_ban_elements);
	tcase_add_test(tc, test_bans_update_matches_full_compile);
	tcase_add_test(tc, test_bans_update_refuses_other_zones);
	tcase_add_test(tc, test_eval_bans);
	tcase_add_test(tc, test_explain_ban);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(bans_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
