/* The netlink transport against the real kernel, in a private network
 * namespace: full replace, element-only changes, genid, errors, ownership. */
#include "config.h"
#include <check.h>
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <libnftnl/chain.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>

#include "../../src/netlink/internal.h"
#include "portctl/netlink.h"

#define SET_NAME "in_allow"

/* Source rules the objects point to, as the compiler would tie them. */
static struct pc_rule test_rules[2] = {
	{ .loc = { .file = "10-web.rules", .line = 3, .col = 1, .len = 5 } },
	{ .loc = { .file = "10-web.rules", .line = 7, .col = 1, .len = 5 } },
};

static void ruleset_push(struct pc_ruleset *rs, enum pc_nft_kind kind, void *obj,
			 const struct pc_rule *rule)
{
	struct pc_nft_object *o = PC_ARRAY_PUSH(rs->objs, rs->n_objs, rs->cap_objs);

	ck_assert_ptr_nonnull(o);
	o->kind = kind;
	o->obj = obj;
	o->rule = rule;
	if (kind == PC_NFT_RULE)
		o->chain_key = pc_chain_key(nftnl_rule_get_str(obj, NFTNL_RULE_CHAIN));
}

static struct nftnl_table *table_make(void)
{
	struct nftnl_table *t = nftnl_table_alloc();

	nftnl_table_set_u32(t, NFTNL_TABLE_FAMILY, NFPROTO_INET);
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, PC_TABLE_NAME);
	return t;
}

static struct nftnl_chain *chain_make(void)
{
	struct nftnl_chain *c = nftnl_chain_alloc();

	nftnl_chain_set_u32(c, NFTNL_CHAIN_FAMILY, NFPROTO_INET);
	nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, PC_TABLE_NAME);
	nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, "input");
	nftnl_chain_set_str(c, NFTNL_CHAIN_TYPE, "filter");
	nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM, NF_INET_LOCAL_IN);
	nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, 0);
	nftnl_chain_set_u32(c, NFTNL_CHAIN_POLICY, NF_ACCEPT);
	return c;
}

/* Key of a "meta l4proto . th dport" element: two 4-byte registers. */
static struct nftnl_set_elem *elem_make(uint8_t proto, uint16_t port)
{
	struct nftnl_set_elem *e = nftnl_set_elem_alloc();
	uint8_t key[8] = { 0 };
	uint16_t p = htons(port);

	key[0] = proto;
	memcpy(key + 4, &p, 2);
	nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, key, sizeof(key));
	nftnl_set_elem_add_expr(e, nftnl_expr_alloc("counter"));
	return e;
}

static struct nftnl_set *set_make_named(const uint16_t *ports, size_t n, const char *name)
{
	struct nftnl_set *s = nftnl_set_alloc();

	nftnl_set_set_u32(s, NFTNL_SET_FAMILY, NFPROTO_INET);
	nftnl_set_set_str(s, NFTNL_SET_TABLE, PC_TABLE_NAME);
	nftnl_set_set_str(s, NFTNL_SET_NAME, name);
	nftnl_set_set_u32(s, NFTNL_SET_ID, 1);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, 8);
	/* inet_proto (12) . inet_service (13), as nft encodes the concatenation. */
	nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, (12u << 6) | 13u);
	nftnl_set_set_u32(s, NFTNL_SET_FLAGS, 0);
	for (size_t i = 0; i < n; i++)
		nftnl_set_elem_add(s, elem_make(IPPROTO_TCP, ports[i]));
	return s;
}

static void rule_expr(struct nftnl_rule *r, struct nftnl_expr *e)
{
	nftnl_rule_add_expr(r, e);
}

static struct nftnl_rule *rule_base(void)
{
	struct nftnl_rule *r = nftnl_rule_alloc();

	nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, NFPROTO_INET);
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, PC_TABLE_NAME);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, "input");
	return r;
}

/* meta l4proto . th dport @in_allow counter accept */
static struct nftnl_set *set_make(const uint16_t *ports, size_t n)
{
	return set_make_named(ports, n, SET_NAME);
}

static struct nftnl_rule *rule_lookup_make_named(const char *name)
{
	struct nftnl_rule *r = rule_base();
	struct nftnl_expr *e;

	e = nftnl_expr_alloc("meta");
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, NFT_META_L4PROTO);
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, NFT_REG32_00);
	rule_expr(r, e);
	e = nftnl_expr_alloc("payload");
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, NFT_PAYLOAD_TRANSPORT_HEADER);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, 2);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, 2);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, NFT_REG32_01);
	rule_expr(r, e);
	e = nftnl_expr_alloc("lookup");
	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, NFT_REG32_00);
	nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, name);
	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SET_ID, 1);
	rule_expr(r, e);
	rule_expr(r, nftnl_expr_alloc("counter"));
	e = nftnl_expr_alloc("immediate");
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, NF_ACCEPT);
	rule_expr(r, e);
	return r;
}

static struct nftnl_rule *rule_lookup_make(void)
{
	return rule_lookup_make_named(SET_NAME);
}

/* A rule the kernel refuses: a verdict code that does not exist. */
static struct nftnl_rule *rule_invalid_make(void)
{
	struct nftnl_rule *r = rule_base();
	struct nftnl_expr *e = nftnl_expr_alloc("immediate");

	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, 0x7fff);
	rule_expr(r, e);
	return r;
}

static struct pc_ruleset *ruleset_make(const uint16_t *ports, size_t n, bool invalid)
{
	struct pc_ruleset *rs = calloc(1, sizeof(*rs));

	ruleset_push(rs, PC_NFT_TABLE, table_make(), NULL);
	ruleset_push(rs, PC_NFT_SET, set_make(ports, n), &test_rules[0]);
	ruleset_push(rs, PC_NFT_CHAIN, chain_make(), NULL);
	ruleset_push(rs, PC_NFT_RULE, rule_lookup_make(), &test_rules[0]);
	if (invalid)
		ruleset_push(rs, PC_NFT_RULE, rule_invalid_make(), &test_rules[1]);
	return rs;
}

static void object_destroy(const struct pc_nft_object *o)
{
	if (!o->obj)
		return;
	switch (o->kind) {
	case PC_NFT_TABLE:
		nftnl_table_free(o->obj);
		break;
	case PC_NFT_CHAIN:
		nftnl_chain_free(o->obj);
		break;
	case PC_NFT_SET:
		nftnl_set_free(o->obj);
		break;
	case PC_NFT_RULE:
		nftnl_rule_free(o->obj);
		break;
	}
}

/* rs, its objects and those it left out (NULL ones: taken elsewhere). */
static void ruleset_destroy(struct pc_ruleset *rs)
{
	for (size_t i = 0; i < rs->n_objs; i++)
		object_destroy(&rs->objs[i]);
	for (size_t i = 0; i < rs->n_dropped; i++)
		object_destroy(&rs->dropped[i]);
	free(rs->objs);
	free(rs->dropped);
	free(rs);
}

/* rs without its objects: they went to a ruleset made from it. */
static void ruleset_shell_free(struct pc_ruleset *rs)
{
	free(rs->objs);
	free(rs);
}

static const uint16_t ports2[] = { 443, 80 };
static const uint16_t ports3[] = { 443, 80, 8443 };

static struct pc_nl *nl_open_checked(void)
{
	struct pc_nl *nl = NULL;

	ck_assert_int_eq(pc_nl_open(&nl), 0);
	return nl;
}

/* Sum of the element counters the kernel reports for our set. */
static size_t count_elements(struct pc_nl *nl, const struct pc_ruleset *rs)
{
	struct pc_nl_counters c = { 0 };
	size_t n = 0;

	ck_assert_int_eq(pc_nl_read_counters(nl, rs, &c), 0);
	for (size_t i = 0; i < c.n; i++)
		n += c.items[i].elem != NULL;
	pc_nl_counters_free(&c);
	return n;
}

START_TEST(test_full_apply_creates_table)
{
	struct pc_nl *nl = nl_open_checked();
	struct pc_ruleset *rs = ruleset_make(ports2, 2, false);
	struct pc_diags d;

	pc_diags_init(&d);
	ck_assert_int_eq(pc_nl_table_exists(nl), 0);
	ck_assert_int_eq(pc_nl_apply(nl, rs, NULL, 0, &d), 0);
	ck_assert_int_eq(d.n_errors, 0);
	ck_assert_int_eq(pc_nl_table_exists(nl), 1);
	ck_assert(!pc_nl_last_stats(nl)->incremental);
	/* table add, table delete, table add, set, elements, chain, rule */
	ck_assert_uint_eq(pc_nl_last_stats(nl)->n_msgs, 7);
	ck_assert_uint_eq(count_elements(nl, rs), 2);
	/* Applying again replaces, it does not fail on existing objects. */
	ck_assert_int_eq(pc_nl_apply(nl, rs, NULL, 0, &d), 0);
	ck_assert_uint_eq(count_elements(nl, rs), 2);
	pc_diags_free(&d);
	ruleset_destroy(rs);
	pc_nl_close(nl);
}
END_TEST

START_TEST(test_rule_counter_read_back)
{
	struct pc_nl *nl = nl_open_checked();
	struct pc_ruleset *rs = ruleset_make(ports2, 2, false);
	struct pc_nl_counters c = { 0 };
	struct pc_diags d;
	size_t rules = 0;

	pc_diags_init(&d);
	ck_assert_int_eq(pc_nl_apply(nl, rs, NULL, 0, &d), 0);
	ck_assert_int_eq(pc_nl_read_counters(nl, rs, &c), 0);
	for (size_t i = 0; i < c.n; i++) {
		if (c.items[i].elem)
			continue;
		rules++;
		ck_assert_uint_eq(c.items[i].obj, 3);
		ck_assert_uint_eq(c.items[i].packets, 0);
	}
	ck_assert_uint_eq(rules, 1);
	pc_nl_counters_free(&c);
	pc_diags_free(&d);
	ruleset_destroy(rs);
	pc_nl_close(nl);
}
END_TEST

START_TEST(test_elements_only_change_is_incremental)
{
	struct pc_nl *nl = nl_open_checked();
	struct pc_ruleset *a = ruleset_make(ports2, 2, false);
	struct pc_ruleset *b = ruleset_make(ports3, 3, false);
	struct pc_diags d;

	pc_diags_init(&d);
	ck_assert_int_eq(pc_nl_apply(nl, a, NULL, 0, &d), 0);
	ck_assert_int_eq(pc_nl_apply(nl, b, a, 0, &d), 0);
	ck_assert(pc_nl_last_stats(nl)->incremental);
	ck_assert_uint_eq(pc_nl_last_stats(nl)->n_msgs, 1);
	ck_assert_uint_eq(count_elements(nl, b), 3);
	/* And back: one delete message. */
	ck_assert_int_eq(pc_nl_apply(nl, a, b, 0, &d), 0);
	ck_assert(pc_nl_last_stats(nl)->incremental);
	ck_assert_uint_eq(pc_nl_last_stats(nl)->n_msgs, 1);
	ck_assert_uint_eq(count_elements(nl, a), 2);
	ck_assert_int_eq(d.n_errors, 0);
	pc_diags_free(&d);
	ruleset_destroy(a);
	ruleset_destroy(b);
	pc_nl_close(nl);
}
END_TEST

/* An element whose content changed under the same key (its comment names
 * a new FILE:LINE after a rule above it went away) is deleted and added
 * again in the one element-only transaction, not a new table. */
START_TEST(test_changed_element_is_replaced_in_place)
{
	struct pc_nl *nl = nl_open_checked();
	struct pc_ruleset *a = ruleset_make(ports2, 2, false);
	struct pc_ruleset *b = ruleset_make(ports2, 2, false);
	struct nftnl_set_elems_iter *it = nftnl_set_elems_iter_create(b->objs[1].obj);
	struct pc_nl_mismatches m = { 0 };
	struct pc_diags d;

	nftnl_set_elem_set(nftnl_set_elems_iter_next(it), NFTNL_SET_ELEM_USERDATA, "line 2", 6);
	nftnl_set_elems_iter_destroy(it);
	pc_diags_init(&d);
	ck_assert_int_eq(pc_nl_apply(nl, a, NULL, 0, &d), 0);
	ck_assert_int_eq(pc_nl_apply(nl, b, a, 0, &d), 0);
	ck_assert(pc_nl_last_stats(nl)->incremental);
	/* One delete message, then one add. */
	ck_assert_uint_eq(pc_nl_last_stats(nl)->n_msgs, 2);
	/* The kernel holds b's elements. (This fixture's rule names its
	 * registers as the kernel does not print them: not compared.) */
	ck_assert_int_eq(pc_nl_verify(nl, b, &m), 0);
	for (size_t i = 0; i < m.n; i++)
		ck_assert_str_ne(m.items[i].what, "set element");
	ck_assert_uint_eq(count_elements(nl, b), 2);
	ck_assert_int_eq(d.n_errors, 0);
	pc_nl_mismatches_free(&m);
	pc_diags_free(&d);
	ruleset_destroy(a);
	ruleset_destroy(b);
	pc_nl_close(nl);
}
END_TEST

START_TEST(test_stale_genid_is_refused)
{
	struct pc_nl *nl = nl_open_checked(), *other = nl_open_checked();
	struct pc_ruleset *a = ruleset_make(ports2, 2, false);
	struct batch_result res = { 0 };
	struct pc_diags d;
	struct nlmsghdr *nlh;
	struct batch b;
	uint32_t genid;

	pc_diags_init(&d);
	ck_assert_int_eq(pc_nl_genid(nl, &genid), 0);
	ck_assert_int_eq(pc_nl_apply(other, a, NULL, 0, &d), 0);
	ck_assert_int_eq(batch_init(&b, nl_next_seq(nl, 100), genid), 0);
	nlh = nftnl_nlmsg_build_hdr(batch_reserve(&b), NFT_MSG_NEWTABLE, NFPROTO_INET,
				    NLM_F_CREATE, 0);
	nftnl_table_nlmsg_build_payload(nlh, a->objs[0].obj);
	ck_assert_int_eq(batch_commit(&b, &(struct batch_origin){ .obj = 0, .what = "table" }), 0);
	ck_assert_int_eq(batch_finish(&b), 0);
	ck_assert_int_eq(nl_batch_talk(nl, &b, &res), -EINVAL);
	ck_assert_uint_eq(res.n, 1);
	ck_assert_int_eq(res.errs[0].err, -ERESTART);
	ck_assert_uint_eq(res.errs[0].seq, b.first_seq);
	batch_result_free(&res);
	batch_free(&b);
	pc_diags_free(&d);
	ruleset_destroy(a);
	pc_nl_close(other);
	pc_nl_close(nl);
}
END_TEST

START_TEST(test_kernel_error_names_rule_and_changes_nothing)
{
	struct pc_nl *nl = nl_open_checked();
	struct pc_ruleset *good = ruleset_make(ports2, 2, false);
	struct pc_ruleset *bad = ruleset_make(ports3, 3, true);
	struct pc_diags d;
	uint32_t before, after;

	pc_diags_init(&d);
	ck_assert_int_eq(pc_nl_apply(nl, good, NULL, 0, &d), 0);
	ck_assert_int_eq(pc_nl_genid(nl, &before), 0);
	ck_assert_int_eq(pc_nl_apply(nl, bad, NULL, 0, &d), -EINVAL);
	ck_assert_int_eq(d.n_errors, 1);
	ck_assert_ptr_eq(d.items[0].loc.file, test_rules[1].loc.file);
	ck_assert_uint_eq(d.items[0].loc.line, 7);
	ck_assert_ptr_nonnull(strstr(d.items[0].message, "kernel refused rule"));
	ck_assert_ptr_nonnull(strstr(d.items[0].message, "Invalid argument"));
	ck_assert_int_eq(pc_nl_genid(nl, &after), 0);
	ck_assert_uint_eq(before, after);
	ck_assert_uint_eq(count_elements(nl, good), 2);
	pc_diags_free(&d);
	ruleset_destroy(good);
	ruleset_destroy(bad);
	pc_nl_close(nl);
}
END_TEST

START_TEST(test_owner_excludes_others_and_persists)
{
	struct pc_nl *owner = nl_open_checked(), *other = nl_open_checked();
	struct pc_ruleset *a = ruleset_make(ports2, 2, false);
	struct pc_diags d;

	pc_diags_init(&d);
	ck_assert_int_eq(pc_nl_apply(owner, a, NULL, PC_NL_OWNER, &d), 0);
	ck_assert(pc_nl_last_stats(owner)->owned);
	ck_assert_int_eq(pc_nl_apply(other, a, NULL, 0, &d), -EPERM);
	ck_assert_int_ge(d.n_errors, 1);
	ck_assert_ptr_nonnull(strstr(d.items[0].message, "owns the table"));
	pc_nl_close(owner);
	/* PERSIST: the table outlives its owner, and can be claimed again. */
	ck_assert_int_eq(pc_nl_table_exists(other), 1);
	pc_diags_free(&d);
	pc_diags_init(&d);
	ck_assert_int_eq(pc_nl_apply(other, a, NULL, PC_NL_OWNER, &d), 0);
	ck_assert_int_eq(d.n_errors, 0);
	ck_assert(pc_nl_last_stats(other)->owned);
	pc_diags_free(&d);
	ruleset_destroy(a);
	pc_nl_close(other);
}
END_TEST

START_TEST(test_big_batch)
{
	enum { N = 100000 };
	struct pc_nl *nl = nl_open_checked();
	uint16_t *ports = malloc(N * sizeof(*ports));
	struct pc_ruleset *rs;
	struct pc_diags d;

	/* 100,000 distinct keys: ports 1..50000 for tcp and for udp. */
	for (size_t i = 0; i < N; i++)
		ports[i] = (uint16_t)(i % 50000 + 1);
	rs = ruleset_make(ports, 0, false);
	for (size_t i = 0; i < N; i++) {
		struct nftnl_set_elem *e = elem_make(i < 50000 ? IPPROTO_TCP : IPPROTO_UDP, ports[i]);

		nftnl_set_elem_add(rs->objs[1].obj, e);
	}
	pc_diags_init(&d);
	ck_assert_int_eq(pc_nl_apply(nl, rs, NULL, 0, &d), 0);
	/* Far beyond one socket buffer page: the batch grew and was sent whole. */
	ck_assert_uint_gt(pc_nl_last_stats(nl)->n_bytes, 3u << 20);
	ck_assert_uint_eq(count_elements(nl, rs), N);
	pc_diags_free(&d);
	ruleset_destroy(rs);
	free(ports);
	pc_nl_close(nl);
}
END_TEST

/* --- differences: rules by handle, counters kept --- */

/* "udp dport PORT counter accept" in chain, its counter starting at packets
 * (the kernel takes a counter's initial value), comment in user data. */
static struct nftnl_rule *rule_port_make(const char *chain, uint16_t port, const char *comment,
					 uint64_t packets)
{
	struct nftnl_rule *r = rule_base();
	uint8_t udp = IPPROTO_UDP;
	uint16_t p = htons(port);
	struct nftnl_expr *e;

	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, chain);
	e = nftnl_expr_alloc("meta");
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, NFT_META_L4PROTO);
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, NFT_REG_1);
	rule_expr(r, e);
	e = nftnl_expr_alloc("cmp");
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, NFT_CMP_EQ);
	nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, &udp, 1);
	rule_expr(r, e);
	e = nftnl_expr_alloc("payload");
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, NFT_PAYLOAD_TRANSPORT_HEADER);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, 2);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, 2);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, NFT_REG_1);
	rule_expr(r, e);
	e = nftnl_expr_alloc("cmp");
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, NFT_CMP_EQ);
	nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, &p, 2);
	rule_expr(r, e);
	e = nftnl_expr_alloc("counter");
	if (packets)
		nftnl_expr_set_u64(e, NFTNL_EXPR_CTR_PACKETS, packets);
	rule_expr(r, e);
	e = nftnl_expr_alloc("immediate");
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, NF_ACCEPT);
	rule_expr(r, e);
	nftnl_rule_set_data(r, NFTNL_RULE_USERDATA, comment, (uint32_t)strlen(comment));
	return r;
}

/* "ip saddr @blocked drop" */
static struct nftnl_rule *rule_blocked_make(void)
{
	struct nftnl_rule *r = rule_base();
	struct nftnl_expr *e;

	e = nftnl_expr_alloc("payload");
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, NFT_PAYLOAD_NETWORK_HEADER);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, 12);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, 4);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, NFT_REG_1);
	rule_expr(r, e);
	e = nftnl_expr_alloc("lookup");
	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, NFT_REG_1);
	nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, "blocked");
	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SET_ID, 2);
	rule_expr(r, e);
	rule_expr(r, nftnl_expr_alloc("counter"));
	e = nftnl_expr_alloc("immediate");
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, NF_DROP);
	rule_expr(r, e);
	return r;
}

/* Set "blocked" of IPv4 addresses, 10.0.0.1 in it (with timeout_ms when
 * the set has timeouts). */
static struct nftnl_set *set_blocked_make(uint32_t flags, uint64_t timeout_ms)
{
	struct nftnl_set *s = nftnl_set_alloc();
	struct nftnl_set_elem *e = nftnl_set_elem_alloc();
	uint32_t addr = htonl(0x0a000001);

	nftnl_set_set_u32(s, NFTNL_SET_FAMILY, NFPROTO_INET);
	nftnl_set_set_str(s, NFTNL_SET_TABLE, PC_TABLE_NAME);
	nftnl_set_set_str(s, NFTNL_SET_NAME, "blocked");
	nftnl_set_set_u32(s, NFTNL_SET_ID, 2);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, 4);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, 7); /* ipv4_addr */
	nftnl_set_set_u32(s, NFTNL_SET_FLAGS, flags);
	nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, &addr, sizeof(addr));
	if (timeout_ms)
		nftnl_set_elem_set_u64(e, NFTNL_SET_ELEM_TIMEOUT, timeout_ms);
	nftnl_set_elem_add(s, e);
	return s;
}

struct port_rule {
	uint16_t port;
	const char *comment;
	uint64_t packets;
};

/* Table, base chain input with the port rules; with extra: chain "extra"
 * jumped to from input, and set "blocked" with its rule (set_flags). */
static struct pc_ruleset *ruleset_ports_make(const struct port_rule *pr, size_t n, bool extra,
					     uint32_t set_flags)
{
	struct pc_ruleset *rs = calloc(1, sizeof(*rs));

	ruleset_push(rs, PC_NFT_TABLE, table_make(), NULL);
	ruleset_push(rs, PC_NFT_CHAIN, chain_make(), NULL);
	if (extra) {
		struct nftnl_chain *c = nftnl_chain_alloc();
		struct nftnl_rule *j = rule_base();
		struct nftnl_expr *e = nftnl_expr_alloc("immediate");

		nftnl_chain_set_u32(c, NFTNL_CHAIN_FAMILY, NFPROTO_INET);
		nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, PC_TABLE_NAME);
		nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, "extra");
		ruleset_push(rs, PC_NFT_CHAIN, c, NULL);
		ruleset_push(rs, PC_NFT_SET, set_blocked_make(set_flags, 0), NULL);
		ruleset_push(rs, PC_NFT_RULE, rule_blocked_make(), &test_rules[1]);
		nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
		nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, NFT_JUMP);
		nftnl_expr_set_str(e, NFTNL_EXPR_IMM_CHAIN, "extra");
		rule_expr(j, e);
		ruleset_push(rs, PC_NFT_RULE, j, NULL);
		ruleset_push(rs, PC_NFT_RULE, rule_port_make("extra", 7, "extra:1", 0), NULL);
	}
	for (size_t i = 0; i < n; i++)
		ruleset_push(rs, PC_NFT_RULE, rule_port_make("input", pr[i].port, pr[i].comment,
							     pr[i].packets),
			     &test_rules[0]);
	return rs;
}

/* The kernel's packet count of the rule at object i of rs (by position). */
static uint64_t rule_packets(struct pc_nl *nl, const struct pc_ruleset *rs, size_t i)
{
	struct pc_nl_counters c = { 0 };
	uint64_t v = UINT64_MAX;

	ck_assert_int_eq(pc_nl_read_counters(nl, rs, &c), 0);
	for (size_t k = 0; k < c.n; k++)
		if (!c.items[k].elem && c.items[k].obj == i)
			v = c.items[k].packets;
	pc_nl_counters_free(&c);
	return v;
}

/* The kernel holds exactly rs, rules in order. */
static void assert_kernel_holds(struct pc_nl *nl, const struct pc_ruleset *rs)
{
	struct pc_nl_mismatches m = { 0 };

	ck_assert_int_eq(pc_nl_verify(nl, rs, &m), 0);
	for (size_t i = 0; i < m.n; i++)
		fprintf(stderr, "mismatch %c %s %s\n", m.items[i].op, m.items[i].what, m.items[i].text);
	ck_assert_uint_eq(m.n, 0);
	pc_nl_mismatches_free(&m);
}

/* Apply next on top of *cur as a difference; next becomes *cur. */
static const struct pc_nl_stats *apply_diff_checked(struct pc_nl *nl, struct pc_ruleset **cur,
						    struct pc_ruleset *next)
{
	struct pc_diags d;

	pc_diags_init(&d);
	ck_assert_int_eq(pc_nl_apply(nl, next, *cur, 0, &d), 0);
	ck_assert_int_eq(d.n_errors, 0);
	pc_diags_free(&d);
	ruleset_destroy(*cur);
	*cur = next;
	ck_assert(pc_nl_last_stats(nl)->incremental);
	assert_kernel_holds(nl, next);
	return pc_nl_last_stats(nl);
}

/* Object index of the n-th rule (0-based) of a ports-only ruleset. */
#define PORT_RULE(n) (2 + (n))

START_TEST(test_rule_changes_keep_other_rules)
{
	static const struct port_rule a[] = { { 1, "f:1", 11 }, { 2, "f:2", 12 },
					      { 3, "f:3", 13 }, { 4, "f:4", 14 } };
	static const struct port_rule ins[] = { { 1, "f:1", 0 }, { 2, "f:2", 0 }, { 9, "f:3", 0 },
						{ 3, "f:4", 0 }, { 4, "f:5", 0 } };
	static const struct port_rule chg[] = { { 1, "f:1", 0 }, { 2, "f:2", 0 },
						{ 5, "f:3", 0 }, { 4, "f:4", 0 } };
	struct pc_nl *nl = nl_open_checked();
	struct pc_ruleset *cur = ruleset_ports_make(a, 4, false, 0);
	const struct pc_nl_stats *st;
	uint64_t h[4];
	struct pc_diags d;

	pc_diags_init(&d);
	ck_assert_int_eq(pc_nl_apply(nl, cur, NULL, 0, &d), 0);
	assert_kernel_holds(nl, cur);
	for (size_t i = 0; i < 4; i++) {
		h[i] = cur->objs[PORT_RULE(i)].handle;
		ck_assert_uint_ne(h[i], 0);
	}

	/* A rule inserted in the middle: one message; the others keep their
	 * handles and counts; the two after it only change their comment,
	 * so they are re-added with their counts. */
	st = apply_diff_checked(nl, &cur, ruleset_ports_make(ins, 5, false, 0));
	ck_assert_uint_eq(st->rules_added, 1);
	ck_assert_uint_eq(st->rules_replaced, 2);
	ck_assert_uint_eq(st->rules_deleted, 0);
	ck_assert_uint_eq(st->n_msgs, 1 + 2 * 2);
	ck_assert_uint_eq(cur->objs[PORT_RULE(0)].handle, h[0]);
	ck_assert_uint_eq(cur->objs[PORT_RULE(1)].handle, h[1]);
	ck_assert_uint_ne(cur->objs[PORT_RULE(2)].handle, 0);
	ck_assert_uint_ne(cur->objs[PORT_RULE(3)].handle, h[2]);
	ck_assert_uint_eq(rule_packets(nl, cur, PORT_RULE(0)), 11);
	ck_assert_uint_eq(rule_packets(nl, cur, PORT_RULE(1)), 12);
	ck_assert_uint_eq(rule_packets(nl, cur, PORT_RULE(2)), 0);
	ck_assert_uint_eq(rule_packets(nl, cur, PORT_RULE(3)), 13);
	ck_assert_uint_eq(rule_packets(nl, cur, PORT_RULE(4)), 14);
	h[2] = cur->objs[PORT_RULE(3)].handle;
	h[3] = cur->objs[PORT_RULE(4)].handle;

	/* Removed again, comments as before: one delete, two re-added. */
	st = apply_diff_checked(nl, &cur, ruleset_ports_make(a, 4, false, 0));
	ck_assert_uint_eq(st->rules_deleted, 1);
	ck_assert_uint_eq(st->rules_replaced, 2);
	ck_assert_uint_eq(cur->objs[PORT_RULE(1)].handle, h[1]);
	for (size_t i = 0; i < 4; i++)
		ck_assert_uint_eq(rule_packets(nl, cur, PORT_RULE(i)), 11 + i);
	h[2] = cur->objs[PORT_RULE(2)].handle;
	h[3] = cur->objs[PORT_RULE(3)].handle;

	/* A rule changed in the middle: delete and add; the rest stays. */
	st = apply_diff_checked(nl, &cur, ruleset_ports_make(chg, 4, false, 0));
	ck_assert_uint_eq(st->rules_added, 1);
	ck_assert_uint_eq(st->rules_deleted, 1);
	ck_assert_uint_eq(st->rules_replaced, 0);
	ck_assert_uint_eq(st->n_msgs, 2);
	ck_assert_uint_eq(cur->objs[PORT_RULE(0)].handle, h[0]);
	ck_assert_uint_eq(cur->objs[PORT_RULE(3)].handle, h[3]);
	ck_assert_uint_eq(rule_packets(nl, cur, PORT_RULE(2)), 0);
	ck_assert_uint_eq(rule_packets(nl, cur, PORT_RULE(3)), 14);
	pc_diags_free(&d);
	ruleset_destroy(cur);
	pc_nl_close(nl);
}
END_TEST

/* Rules that come together in a long chain: each goes after the one put
 * before it (by its id in the batch) rather than the kernel walking the
 * chain to the kept rule's handle again; near the head, by handle. Both
 * land in the order of the ruleset, the rest keeps its handles. */
START_TEST(test_rules_together_in_long_chain)
{
	enum { N = 600, AT = 500, K = 3 };
	static struct port_rule a[N], b[N + 2 * K];
	static char comments[N + 2 * K][16];
	struct pc_nl *nl = nl_open_checked();
	struct pc_ruleset *cur;
	const struct pc_nl_stats *st;
	uint64_t h_at, h_first;
	struct pc_diags d;
	size_t n = 0, g = 0;

	for (size_t i = 0; i < N; i++) {
		snprintf(comments[i], sizeof(comments[i]), "k:%zu", i + 1);
		a[i] = (struct port_rule){ (uint16_t)(i + 1), comments[i], 0 };
	}
	for (size_t i = 0; i < N; i++) {
		if (i == 1 || i == AT)
			for (size_t k = 0; k < K; k++, g++) {
				snprintf(comments[N + g], sizeof(comments[0]), "new:%zu", g);
				b[n++] = (struct port_rule){ (uint16_t)(2000 + g), comments[N + g], 0 };
			}
		b[n++] = a[i];
	}
	ck_assert_uint_eq(n, N + 2 * K);
	cur = ruleset_ports_make(a, N, false, 0);
	pc_diags_init(&d);
	ck_assert_int_eq(pc_nl_apply(nl, cur, NULL, 0, &d), 0);
	h_first = cur->objs[PORT_RULE(0)].handle;
	h_at = cur->objs[PORT_RULE(AT)].handle;
	st = apply_diff_checked(nl, &cur, ruleset_ports_make(b, n, false, 0));
	ck_assert_uint_eq(st->rules_added, 2 * K);
	ck_assert_uint_eq(st->n_msgs, 2 * K);
	ck_assert_uint_eq(cur->objs[PORT_RULE(0)].handle, h_first);
	ck_assert_uint_eq(cur->objs[PORT_RULE(AT + 2 * K)].handle, h_at);
	pc_diags_free(&d);
	ruleset_destroy(cur);
	pc_nl_close(nl);
}
END_TEST

START_TEST(test_new_chain_and_set_and_back)
{
	static const struct port_rule a[] = { { 1, "f:1", 11 }, { 2, "f:2", 12 } };
	struct pc_nl *nl = nl_open_checked();
	struct pc_ruleset *cur = ruleset_ports_make(a, 2, false, 0);
	const struct pc_nl_stats *st;
	struct pc_diags d;
	uint64_t h0, hb;

	pc_diags_init(&d);
	ck_assert_int_eq(pc_nl_apply(nl, cur, NULL, 0, &d), 0);
	h0 = cur->objs[PORT_RULE(0)].handle;
	st = apply_diff_checked(nl, &cur, ruleset_ports_make(a, 2, true, 0));
	ck_assert_uint_eq(st->chains_added, 1);
	ck_assert_uint_eq(st->sets_added, 1);
	ck_assert_uint_eq(st->rules_added, 3);
	ck_assert_uint_eq(st->rules_deleted + st->rules_replaced + st->chains_deleted, 0);
	/* The port rules (objects 7, 8) now come after the new ones. */
	ck_assert_uint_eq(cur->objs[7].handle, h0);
	ck_assert_uint_eq(rule_packets(nl, cur, 7), 11);
	ck_assert_uint_eq(rule_packets(nl, cur, 8), 12);
	hb = cur->objs[4].handle;

	/* The set comes back with another definition: it is replaced, with
	 * the one rule that uses it; the chain and the others stay. */
	st = apply_diff_checked(nl, &cur, ruleset_ports_make(a, 2, true, NFT_SET_TIMEOUT));
	ck_assert_uint_eq(st->sets_deleted, 1);
	ck_assert_uint_eq(st->sets_added, 1);
	ck_assert_uint_eq(st->rules_added, 1);
	ck_assert_uint_eq(st->rules_deleted, 1);
	ck_assert_uint_ne(cur->objs[4].handle, hb);
	ck_assert_uint_eq(cur->objs[7].handle, h0);

	/* And back: chain, set and their rules go. */
	st = apply_diff_checked(nl, &cur, ruleset_ports_make(a, 2, false, 0));
	ck_assert_uint_eq(st->chains_deleted, 1);
	ck_assert_uint_eq(st->sets_deleted, 1);
	ck_assert_uint_eq(st->rules_deleted, 3);
	ck_assert_uint_eq(st->rules_added + st->sets_added + st->chains_added, 0);
	ck_assert_uint_eq(cur->objs[PORT_RULE(0)].handle, h0);
	ck_assert_uint_eq(rule_packets(nl, cur, PORT_RULE(1)), 12);
	pc_diags_free(&d);
	ruleset_destroy(cur);
	pc_nl_close(nl);
}
END_TEST

/* cur made again in place (pc_ruleset_chain_remake's way): cur's objects
 * shared, but at the indices changed made's, cur's there left out. */
static struct pc_ruleset *ruleset_in_place(struct pc_ruleset *cur, struct pc_ruleset *made,
					   const size_t *changed, size_t n_changed)
{
	struct pc_ruleset *next = calloc(1, sizeof(*next));

	ck_assert_ptr_nonnull(next);
	next->dropped = calloc(cur->n_objs, sizeof(*next->dropped));
	ck_assert_ptr_nonnull(next->dropped);
	for (size_t i = 0; i < cur->n_objs; i++) {
		bool ch = false;

		for (size_t k = 0; k < n_changed; k++)
			ch |= changed[k] == i;
		if (ch) {
			next->dropped[next->n_dropped++] = cur->objs[i];
			ruleset_push(next, made->objs[i].kind, made->objs[i].obj, made->objs[i].rule);
			made->objs[i].obj = NULL;
		} else {
			ruleset_push(next, cur->objs[i].kind, cur->objs[i].obj, cur->objs[i].rule);
			next->objs[next->n_objs - 1].shared = true;
		}
	}
	return next;
}

/* A change made in place shares what it did not change; when a set comes
 * back with another definition, the rule using it goes and comes with it
 * even though that rule is one object on both sides (the difference looks
 * past the objects both begin and end with). */
START_TEST(test_redefined_set_takes_shared_rule)
{
	static const struct port_rule a[] = { { 1, "f:1", 11 }, { 2, "f:2", 12 } };
	static const size_t set[] = { 3 };
	struct pc_nl *nl = nl_open_checked();
	struct pc_ruleset *cur = ruleset_ports_make(a, 2, true, 0);
	struct pc_ruleset *made = ruleset_ports_make(a, 2, true, NFT_SET_TIMEOUT);
	struct pc_ruleset *next;
	const struct pc_nl_stats *st;
	struct pc_diags d;
	uint64_t h_port;

	pc_diags_init(&d);
	ck_assert_int_eq(pc_nl_apply(nl, cur, NULL, 0, &d), 0);
	h_port = cur->objs[7].handle;
	/* Objects 0-2 (table, chains) and 4-8 (the rules) shared. */
	ck_assert_int_eq(cur->objs[3].kind, PC_NFT_SET);
	next = ruleset_in_place(cur, made, set, 1);
	ck_assert_int_eq(pc_nl_apply(nl, next, cur, 0, &d), 0);
	ck_assert_int_eq(d.n_errors, 0);
	st = pc_nl_last_stats(nl);
	ck_assert(st->incremental);
	ck_assert_uint_eq(st->sets_deleted, 1);
	ck_assert_uint_eq(st->sets_added, 1);
	ck_assert_uint_eq(st->rules_deleted, 1);
	ck_assert_uint_eq(st->rules_added, 1);
	assert_kernel_holds(nl, next);
	ck_assert_uint_eq(next->objs[7].handle, h_port);
	ck_assert_uint_eq(rule_packets(nl, next, 7), 11);
	ruleset_shell_free(cur);
	ruleset_destroy(made);
	ruleset_destroy(next);
	pc_diags_free(&d);
	pc_nl_close(nl);
}
END_TEST

/* A ruleset made in place from the one in force (objects shared, the ones
 * left out listed): only what differs is compared. A chain that changes in
 * two places, around a rule both keep, is compared whole, and each new
 * rule still lands in its place. */
START_TEST(test_in_place_islands)
{
	static const struct port_rule a[] = { { 1, "f:1", 11 }, { 2, "f:2", 12 },
					      { 3, "f:3", 13 }, { 4, "f:4", 14 } };
	static const struct port_rule b[] = { { 5, "f:1", 0 }, { 2, "f:2", 0 },
					      { 3, "f:3", 0 }, { 6, "f:4", 0 } };
	const size_t one[] = { PORT_RULE(3) }, two[] = { PORT_RULE(0), PORT_RULE(3) };
	const size_t *changed[] = { one, two };
	const size_t n_changed[] = { 1, 2 };

	for (int t = 0; t < 2; t++) {
		struct pc_nl *nl = nl_open_checked();
		struct pc_ruleset *cur = ruleset_ports_make(a, 4, false, 0);
		struct pc_ruleset *made = ruleset_ports_make(b, 4, false, 0);
		struct pc_ruleset *next;
		const struct pc_nl_stats *st;
		uint64_t h1, h2;
		struct pc_diags d;

		pc_diags_init(&d);
		ck_assert_int_eq(pc_nl_apply(nl, cur, NULL, 0, &d), 0);
		h1 = cur->objs[PORT_RULE(1)].handle;
		h2 = cur->objs[PORT_RULE(2)].handle;
		next = ruleset_in_place(cur, made, changed[t], n_changed[t]);
		ck_assert_int_eq(pc_nl_apply(nl, next, cur, 0, &d), 0);
		ck_assert_int_eq(d.n_errors, 0);
		st = pc_nl_last_stats(nl);
		ck_assert(st->incremental);
		ck_assert_uint_eq(st->rules_added, n_changed[t]);
		ck_assert_uint_eq(st->rules_deleted, n_changed[t]);
		assert_kernel_holds(nl, next);
		ck_assert_uint_eq(next->objs[PORT_RULE(1)].handle, h1);
		ck_assert_uint_eq(next->objs[PORT_RULE(2)].handle, h2);
		ck_assert_uint_eq(rule_packets(nl, next, PORT_RULE(1)), 12);
		ck_assert_uint_eq(rule_packets(nl, next, PORT_RULE(2)), 13);
		ruleset_shell_free(cur);
		ruleset_destroy(made);
		ruleset_destroy(next);
		pc_diags_free(&d);
		pc_nl_close(nl);
	}
}
END_TEST

/* The same rule moved from a chain's end to its head, made in place: the
 * old one left out where it was, a new one like it at the head. They are
 * not kept as one (that would keep it at the end). */
START_TEST(test_in_place_rule_moved)
{
	static const struct port_rule a[] = { { 1, "f:1", 11 }, { 2, "f:2", 12 },
					      { 3, "f:3", 13 }, { 4, "f:4", 14 } };
	struct pc_nl *nl = nl_open_checked();
	struct pc_ruleset *cur = ruleset_ports_make(a, 4, false, 0);
	struct pc_ruleset *next = calloc(1, sizeof(*next));
	struct pc_diags d;

	pc_diags_init(&d);
	ck_assert_int_eq(pc_nl_apply(nl, cur, NULL, 0, &d), 0);
	next->dropped = calloc(1, sizeof(*next->dropped));
	next->dropped[next->n_dropped++] = cur->objs[PORT_RULE(3)];
	for (size_t i = 0; i < PORT_RULE(0); i++) {
		ruleset_push(next, cur->objs[i].kind, cur->objs[i].obj, cur->objs[i].rule);
		next->objs[i].shared = true;
	}
	ruleset_push(next, PC_NFT_RULE, rule_port_make("input", 4, "f:4", 0), &test_rules[0]);
	for (size_t i = PORT_RULE(0); i < PORT_RULE(3); i++) {
		ruleset_push(next, cur->objs[i].kind, cur->objs[i].obj, cur->objs[i].rule);
		next->objs[next->n_objs - 1].shared = true;
	}
	ck_assert_int_eq(pc_nl_apply(nl, next, cur, 0, &d), 0);
	ck_assert_int_eq(d.n_errors, 0);
	ck_assert(pc_nl_last_stats(nl)->incremental);
	assert_kernel_holds(nl, next);
	ruleset_shell_free(cur);
	ruleset_destroy(next);
	pc_diags_free(&d);
	pc_nl_close(nl);
}
END_TEST

/* Nothing changed: no transaction at all (the generation stays), even
 * when an element's timeout (time left) differs. */
START_TEST(test_unchanged_sends_nothing)
{
	static const struct port_rule a[] = { { 1, "f:1", 11 }, { 2, "f:2", 12 } };
	struct pc_nl *nl = nl_open_checked();
	struct pc_ruleset *cur = ruleset_ports_make(a, 2, true, NFT_SET_TIMEOUT);
	struct pc_ruleset *next = ruleset_ports_make(a, 2, true, NFT_SET_TIMEOUT);
	struct pc_diags d;
	uint32_t before, after;

	nftnl_set_free(cur->objs[3].obj);
	cur->objs[3].obj = set_blocked_make(NFT_SET_TIMEOUT, 60000);
	nftnl_set_free(next->objs[3].obj);
	next->objs[3].obj = set_blocked_make(NFT_SET_TIMEOUT, 59000);
	pc_diags_init(&d);
	ck_assert_int_eq(pc_nl_apply(nl, cur, NULL, 0, &d), 0);
	ck_assert_int_eq(pc_nl_genid(nl, &before), 0);
	apply_diff_checked(nl, &cur, next);
	ck_assert_uint_eq(pc_nl_last_stats(nl)->n_msgs, 0);
	ck_assert_int_eq(pc_nl_genid(nl, &after), 0);
	ck_assert_uint_eq(before, after);
	/* The handles carried over, so a next difference still works. */
	apply_diff_checked(nl, &cur, ruleset_ports_make(a, 1, true, NFT_SET_TIMEOUT));
	ck_assert_uint_eq(pc_nl_last_stats(nl)->rules_deleted, 1);
	ck_assert_uint_eq(pc_nl_last_stats(nl)->n_msgs, 1);
	ck_assert_uint_eq(rule_packets(nl, cur, 7), 11);
	pc_diags_free(&d);
	ruleset_destroy(cur);
	pc_nl_close(nl);
}
END_TEST

/* Elements renumbered (their comment alone changed) are added again with
 * the counts the kernel had for them. */
static int counter_start_cb(struct nftnl_expr *e, void *data)
{
	nftnl_expr_set_u64(e, NFTNL_EXPR_CTR_PACKETS, *(uint64_t *)data);
	return 0;
}

static void elems_mark(struct pc_ruleset *rs, const char *comment, uint64_t packets)
{
	struct nftnl_set_elems_iter *it = nftnl_set_elems_iter_create(rs->objs[1].obj);
	struct nftnl_set_elem *e;

	while ((e = nftnl_set_elems_iter_next(it))) {
		nftnl_set_elem_set(e, NFTNL_SET_ELEM_USERDATA, comment, (uint32_t)strlen(comment));
		if (packets)
			nftnl_set_elem_expr_foreach(e, counter_start_cb, &packets);
	}
	nftnl_set_elems_iter_destroy(it);
}

/* How many of rs's elements the kernel has, each of which must have
 * counted packets (what, in the failure). */
static size_t elems_counting(struct pc_nl *nl, const struct pc_ruleset *rs, uint64_t packets,
			     const char *what)
{
	struct pc_nl_counters c = { 0 };
	size_t n = 0;

	ck_assert_int_eq(pc_nl_read_counters(nl, rs, &c), 0);
	for (size_t i = 0; i < c.n; i++) {
		if (!c.items[i].elem)
			continue;
		n++;
		ck_assert_msg(c.items[i].packets == packets, "%s: %llu packets, not %llu", what,
			      (unsigned long long)c.items[i].packets, (unsigned long long)packets);
	}
	pc_nl_counters_free(&c);
	return n;
}

START_TEST(test_renumbered_elements_keep_counts)
{
	struct pc_nl *nl = nl_open_checked();
	struct pc_ruleset *a = ruleset_make(ports2, 2, false);
	struct pc_ruleset *b = ruleset_make(ports2, 2, false);
	struct pc_diags d;

	elems_mark(a, "f:1", 5);
	elems_mark(b, "f:2", 0);
	pc_diags_init(&d);
	ck_assert_int_eq(pc_nl_apply(nl, a, NULL, 0, &d), 0);
	ck_assert_int_eq(pc_nl_apply(nl, b, a, 0, &d), 0);
	ck_assert(pc_nl_last_stats(nl)->incremental);
	ck_assert_uint_eq(pc_nl_last_stats(nl)->elems_added, 2);
	ck_assert_uint_eq(elems_counting(nl, b, 5, "renumbered"), 2);
	pc_diags_free(&d);
	ruleset_destroy(a);
	ruleset_destroy(b);
	pc_nl_close(nl);
}
END_TEST

/* ruleset_make's, its set (and the rule's lookup) named name. */
static struct pc_ruleset *ruleset_named(const char *name)
{
	struct pc_ruleset *rs = calloc(1, sizeof(*rs));

	ruleset_push(rs, PC_NFT_TABLE, table_make(), NULL);
	ruleset_push(rs, PC_NFT_SET, set_make_named(ports2, 2, name), &test_rules[0]);
	ruleset_push(rs, PC_NFT_CHAIN, chain_make(), NULL);
	ruleset_push(rs, PC_NFT_RULE, rule_lookup_make_named(name), &test_rules[0]);
	return rs;
}

/* ruleset_named's set as the verdict map a portctld made for a run before
 * each verdict had a set: its elements' verdict v, its lookup decides. */
static struct pc_ruleset *ruleset_named_vmap(const char *name, uint32_t v)
{
	struct pc_ruleset *rs = ruleset_named(name);
	struct nftnl_set *s = rs->objs[1].obj;
	struct nftnl_set_elems_iter *it = nftnl_set_elems_iter_create(s);
	struct nftnl_expr_iter *ei = nftnl_expr_iter_create(rs->objs[3].obj);
	struct nftnl_set_elem *e;
	struct nftnl_expr *x;

	nftnl_set_set_u32(s, NFTNL_SET_FLAGS, NFT_SET_MAP);
	nftnl_set_set_u32(s, NFTNL_SET_DATA_TYPE, NFT_DATA_VERDICT);
	nftnl_set_set_u32(s, NFTNL_SET_DATA_LEN, 0);
	while ((e = nftnl_set_elems_iter_next(it)))
		nftnl_set_elem_set_u32(e, NFTNL_SET_ELEM_VERDICT, v);
	nftnl_set_elems_iter_destroy(it);
	while ((x = nftnl_expr_iter_next(ei)))
		if (streq(nftnl_expr_get_str(x, NFTNL_EXPR_NAME), "lookup"))
			nftnl_expr_set_u32(x, NFTNL_EXPR_LOOKUP_DREG, NFT_REG_VERDICT);
	nftnl_expr_iter_destroy(ei);
	return rs;
}

/* A portctld before 05625b8 named a run's map by its place
 * (in_public_3_ports); then by a file (in_public_p<hash>_ports); now it
 * has a set per verdict (in_public_p<hash>_ports_accept). An
 * upgrade -- a start with the old table in the kernel, or a difference
 * against it -- renames the map in one transaction, the elements keep
 * their counts; so does a second entry of a name (d1). */
START_TEST(test_upgraded_names_keep_counts)
{
	static const struct {
		const char *from, *to;
		int verdict; /* from is a verdict map of it; -1: a set */
		unsigned packets; /* carried */
	} renames[] = {
		{ "in_public_3_ports", "in_public_p0123456789abcdef_ports", -1, 5 },
		{ "in_public_p0123456789abcdef_ports", "in_public_p0123456789abcdefd1_ports", -1, 5 },
		{ "in_public_12_meter4", "in_public_rfedcba9876543210_meter4", -1, 5 },
		/* Before each verdict had a set of its own. */
		{ "in_public_p0123456789abcdef_ports", "in_public_p0123456789abcdef_ports_accept",
		  NF_ACCEPT, 5 },
		{ "in_public_p0123456789abcdef_ranges", "in_public_p0123456789abcdef_ranges_drop",
		  NF_DROP, 5 },
		{ "in_public_a0123456789abcdef_src4", "in_public_a0123456789abcdef_src4_accept",
		  NF_ACCEPT, 5 },
		/* Another verdict is another rule: its counters start again. */
		{ "in_public_p0123456789abcdef_ports", "in_public_p0123456789abcdef_ports_drop",
		  NF_ACCEPT, 0 },
	};

	for (size_t k = 0; k < sizeof(renames) / sizeof(renames[0]); k++) {
		for (int restart = 0; restart < 2; restart++) {
			struct pc_nl *nl = nl_open_checked();
			struct pc_ruleset *a =
				renames[k].verdict >= 0
					? ruleset_named_vmap(renames[k].from, (uint32_t)renames[k].verdict)
					: ruleset_named(renames[k].from);
			struct pc_ruleset *b = ruleset_named(renames[k].to);
			uint32_t before, after;
			struct pc_diags d;

			elems_mark(a, "f:1", 5);
			elems_mark(b, "f:1", 0);
			pc_diags_init(&d);
			ck_assert_int_eq(pc_nl_apply(nl, a, NULL, 0, &d), 0);
			if (restart) {
				pc_nl_close(nl);
				nl = nl_open_checked();
			}
			ck_assert_int_eq(pc_nl_genid(nl, &before), 0);
			ck_assert_int_eq(pc_nl_apply(nl, b, restart ? NULL : a, 0, &d), 0);
			ck_assert_int_eq(pc_nl_genid(nl, &after), 0);
			ck_assert_uint_eq(after, before + 1);
			ck_assert(pc_nl_last_stats(nl)->incremental);
			ck_assert_uint_eq(elems_counting(nl, b, renames[k].packets, renames[k].to), 2);
			pc_diags_free(&d);
			ruleset_destroy(a);
			ruleset_destroy(b);
			ck_assert_int_eq(pc_nl_table_delete(nl), 1);
			pc_nl_close(nl);
		}
	}
}
END_TEST

static int limit_rate_10(struct nftnl_expr *e, void *data)
{
	(void)data;
	nftnl_expr_set_u64(e, NFTNL_EXPR_LIMIT_RATE, 10);
	return 0;
}

/* A limit rule's meter rule as a portctld made it before a zone had one
 * meter (upgrade: a set of its own, keyed by the source alone) or after
 * (the zone's meter, keyed by source and the rule's tag, with the rule's
 * timeout), its counter at packets. */
static struct pc_ruleset *ruleset_meter(bool zone_meter, uint64_t packets)
{
	struct pc_ruleset *rs = calloc(1, sizeof(*rs));
	struct nftnl_set *s = nftnl_set_alloc();
	struct nftnl_rule *r = rule_base();
	const char *name = zone_meter ? "meter4_public" : "in_public_r0123456789abcdef_meter4";
	uint32_t tag = 0x12345678;
	struct nftnl_expr *e, *limit;

	nftnl_set_set_u32(s, NFTNL_SET_FAMILY, NFPROTO_INET);
	nftnl_set_set_str(s, NFTNL_SET_TABLE, PC_TABLE_NAME);
	nftnl_set_set_str(s, NFTNL_SET_NAME, name);
	nftnl_set_set_u32(s, NFTNL_SET_ID, 1);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, zone_meter ? 8 : 4);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, zone_meter ? (7u << 6) | 19u : 7u);
	nftnl_set_set_u32(s, NFTNL_SET_FLAGS, NFT_SET_EVAL | NFT_SET_TIMEOUT);
	nftnl_set_set_u32(s, NFTNL_SET_DESC_SIZE, 1023);
	nftnl_set_set_u64(s, NFTNL_SET_TIMEOUT, 60000);
	e = nftnl_expr_alloc("payload");
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, NFT_PAYLOAD_NETWORK_HEADER);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, 12);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, 4);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, NFT_REG_1);
	rule_expr(r, e);
	if (zone_meter) {
		e = nftnl_expr_alloc("immediate");
		nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG32_01);
		nftnl_expr_set(e, NFTNL_EXPR_IMM_DATA, &tag, sizeof(tag));
		rule_expr(r, e);
	}
	limit = nftnl_expr_alloc("limit");
	nftnl_expr_set_u64(limit, NFTNL_EXPR_LIMIT_RATE, 6);
	nftnl_expr_set_u64(limit, NFTNL_EXPR_LIMIT_UNIT, 60);
	nftnl_expr_set_u32(limit, NFTNL_EXPR_LIMIT_BURST, 6);
	nftnl_expr_set_u32(limit, NFTNL_EXPR_LIMIT_TYPE, NFT_LIMIT_PKTS);
	nftnl_expr_set_u32(limit, NFTNL_EXPR_LIMIT_FLAGS, NFT_LIMIT_F_INV);
	e = nftnl_expr_alloc("dynset");
	nftnl_expr_set_u32(e, NFTNL_EXPR_DYNSET_SREG_KEY, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_DYNSET_OP, NFT_DYNSET_OP_ADD);
	nftnl_expr_set_str(e, NFTNL_EXPR_DYNSET_SET_NAME, name);
	nftnl_expr_set_u32(e, NFTNL_EXPR_DYNSET_SET_ID, 1);
	if (zone_meter)
		nftnl_expr_set_u64(e, NFTNL_EXPR_DYNSET_TIMEOUT, 60000);
	nftnl_expr_add_expr(e, NFTNL_EXPR_DYNSET_EXPRESSIONS, limit);
	rule_expr(r, e);
	e = nftnl_expr_alloc("counter");
	nftnl_expr_set_u64(e, NFTNL_EXPR_CTR_PACKETS, packets);
	rule_expr(r, e);
	e = nftnl_expr_alloc("immediate");
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, NF_DROP);
	rule_expr(r, e);
	nftnl_rule_set_data(r, NFTNL_RULE_USERDATA, "\x00\x04x:1", 6);
	ruleset_push(rs, PC_NFT_TABLE, table_make(), NULL);
	ruleset_push(rs, PC_NFT_SET, s, &test_rules[0]);
	ruleset_push(rs, PC_NFT_CHAIN, chain_make(), NULL);
	ruleset_push(rs, PC_NFT_RULE, r, &test_rules[0]);
	return rs;
}

/* An upgrade to the zone's meter: a limit rule's meter rule is new (its
 * key and set changed), and goes on with the old one's counter; one whose
 * limit changed too starts again. */
START_TEST(test_upgraded_meter_rule_keeps_count)
{
	for (int changed = 0; changed < 2; changed++) {
		struct pc_nl *nl = nl_open_checked();
		struct pc_ruleset *a = ruleset_meter(false, 5);
		struct pc_ruleset *b = ruleset_meter(true, 0);
		struct pc_diags d;

		if (changed) {
			struct nftnl_expr_iter *it = nftnl_expr_iter_create(b->objs[3].obj);
			struct nftnl_expr *e;

			while ((e = nftnl_expr_iter_next(it)))
				if (streq(nftnl_expr_get_str(e, NFTNL_EXPR_NAME), "dynset"))
					nftnl_expr_expr_foreach(e, limit_rate_10, NULL);
			nftnl_expr_iter_destroy(it);
		}
		pc_diags_init(&d);
		ck_assert_int_eq(pc_nl_apply(nl, a, NULL, 0, &d), 0);
		ck_assert_int_eq(pc_nl_apply(nl, b, a, 0, &d), 0);
		ck_assert_int_eq(d.n_errors, 0);
		ck_assert(pc_nl_last_stats(nl)->incremental);
		ck_assert_uint_eq(rule_packets(nl, b, 3), changed ? 0 : 5);
		pc_diags_free(&d);
		ruleset_destroy(a);
		ruleset_destroy(b);
		ck_assert_int_eq(pc_nl_table_delete(nl), 1);
		pc_nl_close(nl);
	}
}
END_TEST

/* Someone else replaced our table: the difference is taken against what
 * the kernel holds, read back (here: all of b's elements already). Its
 * lookup rule is sent again: the kernel reports NFT_REG32_00 as NFT_REG_1. */
START_TEST(test_foreign_commit_difference_against_kernel)
{
	struct pc_nl *nl = nl_open_checked(), *other = nl_open_checked();
	struct pc_ruleset *a = ruleset_make(ports2, 2, false);
	struct pc_ruleset *b = ruleset_make(ports3, 3, false);
	struct pc_ruleset *c = ruleset_make(ports3, 3, false);
	struct pc_diags d;

	pc_diags_init(&d);
	ck_assert_int_eq(pc_nl_apply(nl, a, NULL, 0, &d), 0);
	/* Someone else changes our table: the kernel no longer holds a. */
	ck_assert_int_eq(pc_nl_apply(other, c, NULL, 0, &d), 0);
	ck_assert_int_eq(pc_nl_apply(nl, b, a, 0, &d), 0);
	ck_assert(pc_nl_last_stats(nl)->incremental);
	ck_assert_uint_eq(pc_nl_last_stats(nl)->elems_added + pc_nl_last_stats(nl)->elems_deleted, 0);
	ck_assert_uint_eq(count_elements(nl, b), 3);
	pc_diags_free(&d);
	ruleset_destroy(a);
	ruleset_destroy(b);
	ruleset_destroy(c);
	pc_nl_close(other);
	pc_nl_close(nl);
}
END_TEST

/* A commit to another table moves the generation, but our table is as we
 * left it: still a difference, on top of what a dump shows. */
START_TEST(test_foreign_table_commit_keeps_difference)
{
	static const struct port_rule a[] = { { 1, "f:1", 11 }, { 2, "f:2", 12 } };
	struct pc_nl *nl = nl_open_checked(), *other = nl_open_checked();
	struct pc_ruleset *cur = ruleset_ports_make(a, 2, false, 0);
	struct nftnl_table *t = nftnl_table_alloc();
	struct batch_result res = { 0 };
	struct nlmsghdr *nlh;
	struct pc_diags d;
	struct batch b;
	uint32_t genid;

	pc_diags_init(&d);
	ck_assert_int_eq(pc_nl_apply(nl, cur, NULL, 0, &d), 0);
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, "other");
	ck_assert_int_eq(pc_nl_genid(other, &genid), 0);
	ck_assert_int_eq(batch_init(&b, nl_next_seq(other, 100), genid), 0);
	nlh = nftnl_nlmsg_build_hdr(batch_reserve(&b), NFT_MSG_NEWTABLE, NFPROTO_INET,
				    NLM_F_CREATE, 0);
	nftnl_table_nlmsg_build_payload(nlh, t);
	ck_assert_int_eq(batch_commit(&b, &(struct batch_origin){ .obj = -1, .what = "table" }), 0);
	ck_assert_int_eq(batch_finish(&b), 0);
	ck_assert_int_eq(nl_batch_talk(other, &b, &res), 0);
	apply_diff_checked(nl, &cur, ruleset_ports_make(a, 1, false, 0));
	ck_assert_uint_eq(pc_nl_last_stats(nl)->rules_deleted, 1);
	ck_assert_uint_eq(rule_packets(nl, cur, PORT_RULE(0)), 11);
	batch_result_free(&res);
	batch_free(&b);

	/* Someone deletes our rule: the kernel no longer holds what we
	 * committed, so the same ruleset again is the difference against
	 * what it holds: the rule comes back, nothing else is sent. */
	{
		struct nftnl_rule *del = rule_base();
		struct pc_ruleset *again = ruleset_ports_make(a, 1, false, 0);

		nftnl_rule_set_u64(del, NFTNL_RULE_HANDLE, cur->objs[PORT_RULE(0)].handle);
		ck_assert_int_eq(pc_nl_genid(other, &genid), 0);
		ck_assert_int_eq(batch_init(&b, nl_next_seq(other, 100), genid), 0);
		nlh = nftnl_nlmsg_build_hdr(batch_reserve(&b), NFT_MSG_DELRULE, NFPROTO_INET, 0, 0);
		nftnl_rule_nlmsg_build_payload(nlh, del);
		ck_assert_int_eq(batch_commit(&b, &(struct batch_origin){ .obj = -1, .what = "rule" }),
				 0);
		ck_assert_int_eq(batch_finish(&b), 0);
		ck_assert_int_eq(nl_batch_talk(other, &b, &res), 0);
		ck_assert_int_eq(pc_nl_apply(nl, again, cur, 0, &d), 0);
		ck_assert(pc_nl_last_stats(nl)->incremental);
		ck_assert_uint_eq(pc_nl_last_stats(nl)->rules_added, 1);
		ck_assert_uint_eq(pc_nl_last_stats(nl)->n_msgs, 1);
		assert_kernel_holds(nl, again);
		nftnl_rule_free(del);
		ruleset_destroy(again);
		batch_result_free(&res);
		batch_free(&b);
	}
	nftnl_table_free(t);
	pc_diags_free(&d);
	ruleset_destroy(cur);
	pc_nl_close(other);
	pc_nl_close(nl);
}
END_TEST

/* old that is not what this handle installed last (the caller lost
 * track): never trusted blindly, the kernel ends up holding rs. */
START_TEST(test_stale_old_is_not_trusted)
{
	static const struct port_rule p[] = { { 1, "f:1", 0 }, { 2, "f:2", 0 }, { 3, "f:3", 0 } };
	struct pc_nl *nl = nl_open_checked();
	struct pc_ruleset *a = ruleset_ports_make(p, 2, false, 0);
	struct pc_ruleset *b = ruleset_ports_make(p, 3, false, 0);
	struct pc_ruleset *c = ruleset_ports_make(p, 1, false, 0);
	struct pc_diags d;

	pc_diags_init(&d);
	ck_assert_int_eq(pc_nl_apply(nl, a, NULL, 0, &d), 0);
	ck_assert_int_eq(pc_nl_apply(nl, b, a, 0, &d), 0);
	ck_assert(pc_nl_last_stats(nl)->incremental);
	/* a, not b: a blind difference would delete rule 2 and leave 3; the
	 * one against what the kernel holds deletes both. */
	ck_assert_int_eq(pc_nl_apply(nl, c, a, 0, &d), 0);
	ck_assert(pc_nl_last_stats(nl)->incremental);
	ck_assert_uint_eq(pc_nl_last_stats(nl)->rules_deleted, 2);
	assert_kernel_holds(nl, c);
	ck_assert_int_eq(d.n_errors, 0);
	pc_diags_free(&d);
	ruleset_destroy(a);
	ruleset_destroy(b);
	ruleset_destroy(c);
	pc_nl_close(nl);
}
END_TEST

/* A restart: a new handle, with no last commit of its own, applies the
 * same ruleset over the table the old one left. Nothing is sent but the
 * table's flags when it takes ownership again, every counter stays, and
 * the handles read back serve the next difference. */
START_TEST(test_restart_sends_only_the_difference)
{
	static const struct port_rule counted[] = { { 1, "f:1", 11 }, { 2, "f:2", 12 } };
	static const struct port_rule fresh[] = { { 1, "f:1", 0 }, { 2, "f:2", 0 } };
	struct pc_nl *first = nl_open_checked(), *nl;
	struct pc_ruleset *a = ruleset_ports_make(counted, 2, true, 0), *cur;
	uint32_t before, after;
	struct pc_diags d;

	pc_diags_init(&d);
	ck_assert_int_eq(pc_nl_apply(first, a, NULL, 0, &d), 0);
	pc_nl_close(first);
	nl = nl_open_checked();
	cur = ruleset_ports_make(fresh, 2, true, 0);
	ck_assert_int_eq(pc_nl_genid(nl, &before), 0);
	ck_assert_int_eq(pc_nl_apply(nl, cur, NULL, 0, &d), 0);
	ck_assert_int_eq(pc_nl_genid(nl, &after), 0);
	ck_assert_uint_eq(before, after);
	ck_assert(pc_nl_last_stats(nl)->incremental);
	ck_assert_uint_eq(pc_nl_last_stats(nl)->n_msgs, 0);
	ck_assert_uint_eq(rule_packets(nl, cur, 7), 11);
	ck_assert_uint_eq(rule_packets(nl, cur, 8), 12);
	/* The next change is a difference on top of it. */
	apply_diff_checked(nl, &cur, ruleset_ports_make(fresh, 1, true, 0));
	ck_assert_uint_eq(pc_nl_last_stats(nl)->rules_deleted, 1);
	ck_assert_uint_eq(pc_nl_last_stats(nl)->n_msgs, 1);
	ck_assert_uint_eq(rule_packets(nl, cur, 7), 11);
	pc_nl_close(nl);

	/* Owned: the new handle claims the orphaned table, in a transaction
	 * of the table's flags alone. (A table nobody owned is not claimed in
	 * place: the kernel refuses, and the table is replaced whole.) */
	first = nl_open_checked();
	ck_assert_int_eq(pc_nl_table_delete(first), 1);
	ck_assert_int_eq(pc_nl_apply(first, a, NULL, PC_NL_OWNER, &d), 0);
	ck_assert(pc_nl_last_stats(first)->owned);
	pc_nl_close(first);
	nl = nl_open_checked();
	ruleset_destroy(cur);
	cur = ruleset_ports_make(fresh, 2, true, 0);
	ck_assert_int_eq(pc_nl_apply(nl, cur, NULL, PC_NL_OWNER, &d), 0);
	ck_assert(pc_nl_last_stats(nl)->incremental);
	ck_assert(pc_nl_last_stats(nl)->owned);
	ck_assert_uint_eq(pc_nl_last_stats(nl)->n_msgs, 1);
	ck_assert_uint_eq(rule_packets(nl, cur, 7), 11);
	first = nl_open_checked();
	ck_assert_int_eq(pc_nl_apply(first, cur, NULL, 0, &d), -EPERM);
	pc_nl_close(first);
	ck_assert_int_eq(d.n_errors, 1);
	pc_diags_free(&d);
	ruleset_destroy(a);
	ruleset_destroy(cur);
	pc_nl_close(nl);
}
END_TEST

/* A transaction of one message from nl: the table "other" (another
 * program's), or the elements of set added. */
static void commit_one(struct pc_nl *nl, struct nftnl_set *set)
{
	struct batch_result res = { 0 };
	struct nlmsghdr *nlh;
	struct batch b;
	uint32_t genid;

	ck_assert_int_eq(pc_nl_genid(nl, &genid), 0);
	ck_assert_int_eq(batch_init(&b, nl_next_seq(nl, 100), genid), 0);
	if (set) {
		ck_assert_int_eq(diff_build_set_elems(&b, set, -1, true), 0);
	} else {
		struct nftnl_table *t = nftnl_table_alloc();

		nftnl_table_set_u32(t, NFTNL_TABLE_FAMILY, NFPROTO_INET);
		nftnl_table_set_str(t, NFTNL_TABLE_NAME, "other");
		nlh = nftnl_nlmsg_build_hdr(batch_reserve(&b), NFT_MSG_NEWTABLE, NFPROTO_INET,
					    NLM_F_CREATE, 0);
		nftnl_table_nlmsg_build_payload(nlh, t);
		nftnl_table_free(t);
		ck_assert_int_eq(batch_commit(&b, &(struct batch_origin){ .obj = -1 }), 0);
	}
	ck_assert_int_eq(batch_finish(&b), 0);
	ck_assert_int_eq(nl_batch_talk(nl, &b, &res), 0);
	batch_free(&b);
}

static struct pc_nl_event_summary events_read(struct pc_nl_events *ev, const struct pc_nl *self)
{
	struct pc_nl_event_summary s;

	ck_assert_int_eq(pc_nl_events_read(ev, pc_nl_portid(self), &s), 0);
	return s;
}

/* Commits are told apart by the socket that made them (its port id), and
 * only those touching our table count. */
START_TEST(test_events_tell_commits_apart)
{
	struct pc_nl *nl = nl_open_checked(), *other = nl_open_checked();
	struct pc_ruleset *a = ruleset_make(ports2, 2, false);
	struct pc_nl_events *ev = NULL;
	struct pc_nl_event_summary s;
	struct pc_diags d;

	pc_diags_init(&d);
	ck_assert_int_eq(pc_nl_events_open(&ev), 0);
	ck_assert_uint_ne(pc_nl_portid(nl), pc_nl_portid(other));
	ck_assert_int_eq(pc_nl_apply(nl, a, NULL, 0, &d), 0);
	s = events_read(ev, nl);
	ck_assert(!s.foreign && !s.overrun);
	ck_assert_uint_eq(s.n_ignored, 0);
	/* Another program's table: counted, not ours to compare. */
	commit_one(other, NULL);
	s = events_read(ev, nl);
	ck_assert(!s.foreign && !s.overrun);
	ck_assert_uint_eq(s.n_ignored, 1);
	/* Another socket's commit to our table. */
	ck_assert_int_eq(pc_nl_apply(other, a, NULL, 0, &d), 0);
	s = events_read(ev, nl);
	ck_assert(s.foreign && !s.overrun);
	ck_assert_uint_eq(s.n_foreign, 1);
	ck_assert_int_eq(s.pid, getpid());
	/* Nothing queued: nothing to say. */
	s = events_read(ev, nl);
	ck_assert(!s.foreign && !s.overrun);
	pc_nl_events_close(ev);
	pc_diags_free(&d);
	ruleset_destroy(a);
	pc_nl_close(other);
	pc_nl_close(nl);
}
END_TEST

/* Lost events are an overrun to resync once, not someone else's commit. */
START_TEST(test_events_overrun_is_not_foreign)
{
	struct pc_nl *nl = nl_open_checked();
	struct pc_ruleset *a = ruleset_make(ports2, 2, false);
	struct pc_nl_events *ev = NULL;
	struct pc_nl_event_summary s;
	struct pc_diags d;
	int tiny = 1;

	pc_diags_init(&d);
	ck_assert_int_eq(pc_nl_events_open(&ev), 0);
	/* The kernel's minimum: a few events fill it. */
	ck_assert_int_eq(setsockopt(pc_nl_events_fd(ev), SOL_SOCKET, SO_RCVBUFFORCE, &tiny,
				    sizeof(tiny)), 0);
	for (int i = 0; i < 20; i++)
		ck_assert_int_eq(pc_nl_apply(nl, a, NULL, 0, &d), 0);
	s = events_read(ev, nl);
	ck_assert(s.overrun);
	ck_assert(!s.foreign);
	pc_nl_events_close(ev);
	pc_diags_free(&d);
	ruleset_destroy(a);
	pc_nl_close(nl);
}
END_TEST

/* The differences about set elements (this fixture's rule names its
 * registers as the kernel does not print them: not compared). */
static size_t elem_mismatches(struct pc_nl *nl, const struct pc_ruleset *rs, char *op)
{
	struct pc_nl_mismatches m = { 0 };
	size_t n = 0;

	ck_assert_int_eq(pc_nl_verify(nl, rs, &m), 0);
	for (size_t i = 0; i < m.n; i++) {
		if (!streq(m.items[i].what, "set element"))
			continue;
		n++;
		*op = m.items[i].op;
	}
	pc_nl_mismatches_free(&m);
	return n;
}

/* A set the packet path fills (NFT_SET_EVAL, as a limit meter) holding
 * elements nobody configured is no difference; another set is. */
START_TEST(test_verify_ignores_meter_elements)
{
	struct pc_nl *nl = nl_open_checked(), *other = nl_open_checked();
	struct pc_ruleset *a = ruleset_make(ports2, 2, false);
	static const uint16_t ports_extra[] = { 9999 };
	struct nftnl_set *meter = nftnl_set_alloc(), *fill = nftnl_set_alloc(), *extra;
	struct nftnl_set_elem *e = nftnl_set_elem_alloc();
	uint32_t addr = htonl(0xc0000201);
	char op = 0;
	struct pc_diags d;

	nftnl_set_set_u32(meter, NFTNL_SET_FAMILY, NFPROTO_INET);
	nftnl_set_set_str(meter, NFTNL_SET_TABLE, PC_TABLE_NAME);
	nftnl_set_set_str(meter, NFTNL_SET_NAME, "meter4");
	nftnl_set_set_u32(meter, NFTNL_SET_ID, 2);
	nftnl_set_set_u32(meter, NFTNL_SET_KEY_TYPE, 7); /* ipv4_addr */
	nftnl_set_set_u32(meter, NFTNL_SET_KEY_LEN, 4);
	nftnl_set_set_u32(meter, NFTNL_SET_FLAGS, NFT_SET_EVAL | NFT_SET_TIMEOUT);
	nftnl_set_set_u64(meter, NFTNL_SET_TIMEOUT, 60000);
	ruleset_push(a, PC_NFT_SET, meter, &test_rules[0]);
	pc_diags_init(&d);
	ck_assert_int_eq(pc_nl_apply(nl, a, NULL, 0, &d), 0);
	ck_assert_uint_eq(elem_mismatches(nl, a, &op), 0);
	/* What traffic would do: an element in the meter. */
	nftnl_set_set_u32(fill, NFTNL_SET_FAMILY, NFPROTO_INET);
	nftnl_set_set_str(fill, NFTNL_SET_TABLE, PC_TABLE_NAME);
	nftnl_set_set_str(fill, NFTNL_SET_NAME, "meter4");
	nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, &addr, sizeof(addr));
	nftnl_set_elem_add(fill, e);
	commit_one(other, fill);
	ck_assert_uint_eq(elem_mismatches(nl, a, &op), 0);
	/* An element added to a configured set is someone else's. */
	extra = set_make(ports_extra, 1);
	commit_one(other, extra);
	ck_assert_uint_eq(elem_mismatches(nl, a, &op), 1);
	ck_assert_int_eq(op, '+');
	pc_diags_free(&d);
	nftnl_set_free(fill);
	nftnl_set_free(extra);
	ruleset_destroy(a);
	pc_nl_close(other);
	pc_nl_close(nl);
}
END_TEST

/* The memo of stop, made by a handle that installed rs (or no memo). */
static char *memo_of(struct pc_nl *nl, const struct pc_ruleset *rs, size_t *len)
{
	char *text = NULL;

	ck_assert_int_eq(pc_nl_memo_make(nl, rs, &text, len), 1);
	return text;
}

/* A new handle (a restart) that takes the memo, then installs rs with no
 * old ruleset: what became of the memo. */
static const char *restart_with_memo(struct pc_nl **nl, const char *memo, size_t len,
				     const struct pc_ruleset *rs)
{
	struct pc_diags d;

	pc_nl_close(*nl);
	*nl = nl_open_checked();
	ck_assert_int_eq(pc_nl_memo_take(*nl, memo, len), 1);
	pc_diags_init(&d);
	ck_assert_int_eq(pc_nl_apply(*nl, rs, NULL, 0, &d), 0);
	ck_assert_int_eq(d.n_errors, 0);
	pc_diags_free(&d);
	assert_kernel_holds(*nl, rs);
	return pc_nl_memo_outcome(*nl);
}

/* A clean stop's memo spares the next start its dump when the kernel still
 * holds that ruleset: the rules get their handles from it (the next
 * difference deletes the right rule, the others keep counting), in
 * whatever order the ruleset holds its chains and sets; not when anyone
 * committed since, nor for another ruleset; a damaged memo, or one of
 * another network namespace, is not taken. */
START_TEST(test_restart_memo)
{
	static const struct port_rule counted[] = { { 1, "f:1", 11 }, { 2, "f:2", 12 },
						    { 3, "f:3", 13 } };
	static const struct port_rule fresh[] = { { 1, "f:1", 0 }, { 2, "f:2", 0 }, { 3, "f:3", 0 } };
	static const struct port_rule two[] = { { 1, "f:1", 0 }, { 3, "f:3", 0 } };
	static const struct port_rule other[] = { { 1, "f:1", 0 }, { 4, "f:3", 0 } };
	struct pc_nl *nl = nl_open_checked(), *foreign;
	struct pc_ruleset *cur = ruleset_ports_make(counted, 3, true, 0), *next;
	struct pc_nft_object swap;
	struct pc_diags d;
	char *memo, *bad;
	size_t len;

	pc_diags_init(&d);
	ck_assert_int_eq(pc_nl_apply(nl, cur, NULL, 0, &d), 0);
	memo = memo_of(nl, cur, &len);
	next = ruleset_ports_make(fresh, 3, true, 0);
	ck_assert_str_eq(restart_with_memo(&nl, memo, len, next), PC_NL_MEMO_TAKEN);
	ck_assert(pc_nl_last_stats(nl)->incremental);
	ck_assert_uint_eq(pc_nl_last_stats(nl)->n_msgs, 0);
	ruleset_destroy(cur);
	cur = next;
	apply_diff_checked(nl, &cur, ruleset_ports_make(two, 2, true, 0));
	ck_assert_uint_eq(pc_nl_last_stats(nl)->rules_deleted, 1);
	ck_assert_uint_eq(rule_packets(nl, cur, PORT_RULE(5)), 11);
	ck_assert_uint_eq(rule_packets(nl, cur, PORT_RULE(6)), 13);
	free(memo);

	/* Its chain "extra" and set "blocked" the other way round. */
	memo = memo_of(nl, cur, &len);
	next = ruleset_ports_make(two, 2, true, 0);
	swap = next->objs[2];
	next->objs[2] = next->objs[3];
	next->objs[3] = swap;
	ck_assert_str_eq(restart_with_memo(&nl, memo, len, next), PC_NL_MEMO_TAKEN);
	ck_assert_uint_eq(rule_packets(nl, next, PORT_RULE(5)), 11);
	ruleset_destroy(cur);
	cur = next;
	free(memo);

	/* Another program committed (to its own table) since the stop. */
	memo = memo_of(nl, cur, &len);
	foreign = nl_open_checked();
	commit_one(foreign, NULL);
	pc_nl_close(foreign);
	next = ruleset_ports_make(two, 2, true, 0);
	ck_assert_str_ne(restart_with_memo(&nl, memo, len, next), PC_NL_MEMO_TAKEN);
	ck_assert_uint_eq(rule_packets(nl, next, PORT_RULE(6)), 13);
	ruleset_destroy(cur);
	cur = next;
	free(memo);

	/* Another ruleset compiled at the start. */
	memo = memo_of(nl, cur, &len);
	next = ruleset_ports_make(other, 2, true, 0);
	ck_assert_str_ne(restart_with_memo(&nl, memo, len, next), PC_NL_MEMO_TAKEN);
	ck_assert_uint_eq(rule_packets(nl, next, PORT_RULE(5)), 11);
	ruleset_destroy(cur);
	cur = next;
	free(memo);

	/* Damaged: a handle changed, the file cut short. */
	memo = memo_of(nl, cur, &len);
	bad = strdup(memo);
	bad[strchr(strstr(memo, "\nrules ") + 1, '\n') + 1 - memo] ^= 1;
	ck_assert_int_eq(pc_nl_memo_take(nl, bad, len), 0);
	ck_assert_int_eq(pc_nl_memo_take(nl, memo, len - 2), 0);
	ck_assert_int_eq(pc_nl_memo_take(nl, memo, len), 1);
	free(bad);

	/* Another network namespace's. */
	pc_nl_close(nl);
	ck_assert_int_eq(unshare(CLONE_NEWNET), 0);
	nl = nl_open_checked();
	ck_assert_int_eq(pc_nl_memo_take(nl, memo, len), 0);
	free(memo);
	pc_diags_free(&d);
	ruleset_destroy(cur);
	pc_nl_close(nl);
}
END_TEST

/* Each test runs in a forked child; a fresh namespace per test keeps them
 * independent of each other and of the machine's own ruleset. */
static void netns_enter(void)
{
	ck_assert_int_eq(unshare(CLONE_NEWNET), 0);
}

static Suite *netlink_suite(void)
{
	Suite *s = suite_create("netlink");
	TCase *tc = tcase_create("kernel");

	tcase_add_checked_fixture(tc, netns_enter, NULL);
	/* 100,000 elements under the sanitizers take a while. */
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_full_apply_creates_table);
	tcase_add_test(tc, test_rule_counter_read_back);
	tcase_add_test(tc, test_upgraded_meter_rule_keeps_count);
	tcase_add_test(tc, test_elements_only_change_is_incremental);
	tcase_add_test(tc, test_changed_element_is_replaced_in_place);
	tcase_add_test(tc, test_renumbered_elements_keep_counts);
	tcase_add_test(tc, test_upgraded_names_keep_counts);
	tcase_add_test(tc, test_foreign_commit_difference_against_kernel);
	tcase_add_test(tc, test_stale_genid_is_refused);
	tcase_add_test(tc, test_kernel_error_names_rule_and_changes_nothing);
	tcase_add_test(tc, test_owner_excludes_others_and_persists);
	tcase_add_test(tc, test_big_batch);
	tcase_add_test(tc, test_rule_changes_keep_other_rules);
	tcase_add_test(tc, test_rules_together_in_long_chain);
	tcase_add_test(tc, test_new_chain_and_set_and_back);
	tcase_add_test(tc, test_redefined_set_takes_shared_rule);
	tcase_add_test(tc, test_in_place_islands);
	tcase_add_test(tc, test_in_place_rule_moved);
	tcase_add_test(tc, test_unchanged_sends_nothing);
	tcase_add_test(tc, test_foreign_table_commit_keeps_difference);
	tcase_add_test(tc, test_stale_old_is_not_trusted);
	tcase_add_test(tc, test_restart_sends_only_the_difference);
	tcase_add_test(tc, test_restart_memo);
	tcase_add_test(tc, test_events_tell_commits_apart);
	tcase_add_test(tc, test_events_overrun_is_not_foreign);
	tcase_add_test(tc, test_verify_ignores_meter_elements);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr;
	int failed;

	if (geteuid() != 0) {
		fprintf(stderr, "test_netlink: needs root for a private network namespace; skipped\n");
		return 77;
	}
	if (getenv("CK_FORK") && streq(getenv("CK_FORK"), "no")) {
		fprintf(stderr, "test_netlink: needs CK_FORK (one namespace per test); skipped\n");
		return 77;
	}
	sr = srunner_create(netlink_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
