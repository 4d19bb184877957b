/* What the kernel holds in table inet portctl, read back as a ruleset, so
 * that a start, a restart or a drift repair installs only the difference
 * against it (delta.c) and what stays keeps its counters. The objects are
 * trimmed to what the compiler sets: the kernel adds handles, use counts,
 * the defaults it reports, and a counter in every element of a set with
 * one; none of that is a difference. */
#include "config.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <libnftnl/chain.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>

#include "internal.h"
#include "portctl/util.h"

struct held_ctx {
	struct pc_ruleset *rs;
	uint32_t flags, owner;
	int err;
};

static int obj_push(struct held_ctx *x, enum pc_nft_kind kind, void *obj, uint64_t handle)
{
	struct pc_nft_object *o = PC_ARRAY_PUSH(x->rs->objs, x->rs->n_objs, x->rs->cap_objs);

	if (!o)
		return -ENOMEM;
	*o = (struct pc_nft_object){ .kind = kind, .obj = obj, .handle = handle };
	return 0;
}

static void object_free(struct pc_nft_object *o)
{
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

void held_free(struct pc_ruleset *rs)
{
	if (!rs)
		return;
	for (size_t i = 0; i < rs->n_objs; i++)
		object_free(&rs->objs[i]);
	free(rs->objs);
	free(rs);
}

static int table_cb(const struct nlmsghdr *nlh, void *data)
{
	struct held_ctx *x = data;
	struct nftnl_table *t = nftnl_table_alloc();

	if (!t || nftnl_table_nlmsg_parse(nlh, t) < 0) {
		nftnl_table_free(t);
		x->err = -ENOMEM;
		return MNL_CB_ERROR;
	}
	x->flags = nftnl_table_is_set(t, NFTNL_TABLE_FLAGS) ? nftnl_table_get_u32(t, NFTNL_TABLE_FLAGS)
							     : 0;
	x->owner = nftnl_table_is_set(t, NFTNL_TABLE_OWNER) ? nftnl_table_get_u32(t, NFTNL_TABLE_OWNER)
							     : 0;
	nftnl_table_free(t);
	return MNL_CB_OK;
}

static void table_payload(struct nlmsghdr *nlh, void *obj)
{
	nftnl_table_nlmsg_build_payload(nlh, obj);
}

/* 1 with the table's flags, 0 when there is no table, -errno. */
static int table_read(struct pc_nl *nl, struct held_ctx *x)
{
	_cleanup_free_ char *buf = malloc(MNL_SOCKET_BUFFER_SIZE);
	struct nftnl_table *t = nftnl_table_alloc();
	struct nlmsghdr *nlh;
	int r;

	if (!buf || !t) {
		nftnl_table_free(t);
		return -ENOMEM;
	}
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, PC_TABLE_NAME);
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETTABLE, NFPROTO_INET, NLM_F_ACK,
				    nl_next_seq(nl, 1));
	table_payload(nlh, t);
	nftnl_table_free(t);
	r = nl_query(nl, buf, nlh, table_cb, x);
	if (r == -ENOENT)
		return 0;
	return x->err ? x->err : r < 0 ? r : 1;
}

/* Chains: name, and for a base chain its hook, priority, type and policy. */
static void chain_trim(struct nftnl_chain *c)
{
	static const uint16_t keep[] = { NFTNL_CHAIN_NAME, NFTNL_CHAIN_FAMILY, NFTNL_CHAIN_TABLE,
					 NFTNL_CHAIN_HOOKNUM, NFTNL_CHAIN_PRIO, NFTNL_CHAIN_POLICY,
					 NFTNL_CHAIN_TYPE };

	for (uint16_t a = 0; a <= NFTNL_CHAIN_MAX; a++) {
		bool kept = false;

		for (size_t i = 0; i < ARRAY_SIZE(keep); i++)
			kept = kept || keep[i] == a;
		if (!kept)
			nftnl_chain_unset(c, a);
	}
}

static int chain_cb(const struct nlmsghdr *nlh, void *data)
{
	struct held_ctx *x = data;
	struct nftnl_chain *c = nftnl_chain_alloc();
	int r = -ENOMEM;

	if (c && nftnl_chain_nlmsg_parse(nlh, c) >= 0) {
		if (!streq(nftnl_chain_get_str(c, NFTNL_CHAIN_TABLE), PC_TABLE_NAME)) {
			nftnl_chain_free(c);
			return MNL_CB_OK;
		}
		chain_trim(c);
		r = obj_push(x, PC_NFT_CHAIN, c, 0);
	}
	if (r < 0) {
		if (c)
			nftnl_chain_free(c);
		x->err = r;
		return MNL_CB_ERROR;
	}
	return MNL_CB_OK;
}

static void chain_payload(struct nlmsghdr *nlh, void *obj)
{
	nftnl_chain_nlmsg_build_payload(nlh, obj);
}

/* What the kernel reports of a set beyond what the compiler sets (its
 * handle, the policy and garbage collection interval it chose), and what
 * it reports otherwise: no flags for none, a verdict map's data length,
 * which the compiler leaves 0. */
static void set_trim(struct nftnl_set *s)
{
	static const uint16_t drop[] = { NFTNL_SET_HANDLE, NFTNL_SET_POLICY,
					 NFTNL_SET_GC_INTERVAL, NFTNL_SET_ID };

	for (size_t i = 0; i < ARRAY_SIZE(drop); i++)
		nftnl_set_unset(s, drop[i]);
	if (!nftnl_set_is_set(s, NFTNL_SET_FLAGS))
		nftnl_set_set_u32(s, NFTNL_SET_FLAGS, 0);
	if (nftnl_set_is_set(s, NFTNL_SET_DATA_TYPE) &&
	    nftnl_set_get_u32(s, NFTNL_SET_DATA_TYPE) == NFT_DATA_VERDICT)
		nftnl_set_set_u32(s, NFTNL_SET_DATA_LEN, 0);
}

static int set_cb(const struct nlmsghdr *nlh, void *data)
{
	struct held_ctx *x = data;
	struct nftnl_set *s = nftnl_set_alloc();
	int r = -ENOMEM;

	if (s && nftnl_set_nlmsg_parse(nlh, s) >= 0) {
		if (!streq(nftnl_set_get_str(s, NFTNL_SET_TABLE), PC_TABLE_NAME)) {
			nftnl_set_free(s);
			return MNL_CB_OK;
		}
		set_trim(s);
		r = obj_push(x, PC_NFT_SET, s, 0);
	}
	if (r < 0) {
		if (s)
			nftnl_set_free(s);
		x->err = r;
		return MNL_CB_ERROR;
	}
	return MNL_CB_OK;
}

static void set_payload(struct nlmsghdr *nlh, void *obj)
{
	nftnl_set_nlmsg_build_payload(nlh, obj);
}

static int expr_count_cb(struct nftnl_expr *e, void *data)
{
	(void)e;
	(*(size_t *)data)++;
	return 0;
}

struct elem_copy_ctx {
	struct nftnl_set *into;
	bool set_exprs; /* the set gives every element its expressions */
};

static int expr_kind_copy_cb(struct nftnl_expr *e, void *data)
{
	struct nftnl_expr *k = nftnl_expr_alloc(nftnl_expr_get_str(e, NFTNL_EXPR_NAME));

	if (!k)
		return -1;
	nftnl_set_elem_add_expr(data, k);
	return 0;
}

/* The element as the compiler makes it: no expiration, and no expression
 * that the set's own gave it (one that it did not is a difference, which
 * an expression of the same kind keeps visible: diff.c compares kinds). */
static int elem_copy_cb(struct nftnl_set_elem *e, void *data)
{
	static const uint16_t attrs[] = { NFTNL_SET_ELEM_KEY,	  NFTNL_SET_ELEM_KEY_END,
					  NFTNL_SET_ELEM_FLAGS,	  NFTNL_SET_ELEM_VERDICT,
					  NFTNL_SET_ELEM_CHAIN,	  NFTNL_SET_ELEM_DATA,
					  NFTNL_SET_ELEM_USERDATA, NFTNL_SET_ELEM_OBJREF,
					  NFTNL_SET_ELEM_TIMEOUT };
	struct elem_copy_ctx *x = data;
	struct nftnl_set_elem *k = nftnl_set_elem_alloc();

	for (size_t i = 0; k && i < ARRAY_SIZE(attrs); i++) {
		uint32_t len;
		const void *d;

		if (!nftnl_set_elem_is_set(e, attrs[i]))
			continue;
		d = nftnl_set_elem_get(e, attrs[i], &len);
		if (nftnl_set_elem_set(k, attrs[i], d, len) < 0) {
			nftnl_set_elem_free(k);
			k = NULL;
		}
	}
	if (!k)
		return -1;
	nftnl_set_elem_add(x->into, k);
	if (!x->set_exprs && nftnl_set_elem_expr_foreach(e, expr_kind_copy_cb, k) < 0)
		return -1;
	return 0;
}

static int elems_cb(const struct nlmsghdr *nlh, void *data)
{
	return nftnl_set_elems_nlmsg_parse(nlh, data) < 0 ? MNL_CB_ERROR : MNL_CB_OK;
}

static void elems_payload(struct nlmsghdr *nlh, void *obj)
{
	nftnl_set_elems_nlmsg_build_payload(nlh, obj);
}

/* A set's elements, into the set. Not those of a set the packet path
 * fills (a limit meter): they are state, as verify sees it. */
static int set_elems_read(struct pc_nl *nl, struct nftnl_set *s)
{
	struct elem_copy_ctx x = { .into = s };
	struct nftnl_set *raw;
	size_t n_exprs = 0;
	int r;

	if (nftnl_set_get_u32(s, NFTNL_SET_FLAGS) & NFT_SET_EVAL)
		return 0;
	raw = nftnl_set_alloc();
	if (!raw)
		return -ENOMEM;
	nftnl_set_set_str(raw, NFTNL_SET_TABLE, PC_TABLE_NAME);
	nftnl_set_set_str(raw, NFTNL_SET_NAME, nftnl_set_get_str(s, NFTNL_SET_NAME));
	nftnl_set_set_u32(raw, NFTNL_SET_FAMILY, NFPROTO_INET);
	r = nl_dump(nl, NFT_MSG_GETSETELEM, elems_payload, raw, elems_cb, raw);
	nftnl_set_expr_foreach(s, expr_count_cb, &n_exprs);
	x.set_exprs = n_exprs > 0;
	if (r >= 0 && nftnl_set_elem_foreach(raw, elem_copy_cb, &x) < 0)
		r = -ENOMEM;
	nftnl_set_free(raw);
	return r;
}

static int rule_cb(const struct nlmsghdr *nlh, void *data)
{
	struct held_ctx *x = data;
	struct nftnl_rule *rule = nftnl_rule_alloc();
	int r = -ENOMEM;

	if (rule && nftnl_rule_nlmsg_parse(nlh, rule) >= 0) {
		if (!streq(nftnl_rule_get_str(rule, NFTNL_RULE_TABLE), PC_TABLE_NAME)) {
			nftnl_rule_free(rule);
			return MNL_CB_OK;
		}
		r = obj_push(x, PC_NFT_RULE, rule, nftnl_rule_get_u64(rule, NFTNL_RULE_HANDLE));
	}
	if (r < 0) {
		if (rule)
			nftnl_rule_free(rule);
		x->err = r;
		return MNL_CB_ERROR;
	}
	return MNL_CB_OK;
}

static void rule_payload(struct nlmsghdr *nlh, void *obj)
{
	nftnl_rule_nlmsg_build_payload(nlh, obj);
}

static int held_dump(struct pc_nl *nl, struct held_ctx *x)
{
	struct nftnl_chain *c = nftnl_chain_alloc();
	struct nftnl_set *s = nftnl_set_alloc();
	struct nftnl_rule *rule = nftnl_rule_alloc();
	int r = c && s && rule ? 0 : -ENOMEM;

	if (r >= 0) {
		nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, PC_TABLE_NAME);
		r = nl_dump(nl, NFT_MSG_GETCHAIN, chain_payload, c, chain_cb, x);
	}
	if (r >= 0 && !x->err) {
		nftnl_set_set_str(s, NFTNL_SET_TABLE, PC_TABLE_NAME);
		r = nl_dump(nl, NFT_MSG_GETSET, set_payload, s, set_cb, x);
	}
	for (size_t i = 0; r >= 0 && !x->err && i < x->rs->n_objs; i++)
		if (x->rs->objs[i].kind == PC_NFT_SET)
			r = set_elems_read(nl, x->rs->objs[i].obj);
	if (r >= 0 && !x->err) {
		nftnl_rule_set_str(rule, NFTNL_RULE_TABLE, PC_TABLE_NAME);
		r = nl_dump(nl, NFT_MSG_GETRULE, rule_payload, rule, rule_cb, x);
	}
	if (c)
		nftnl_chain_free(c);
	if (s)
		nftnl_set_free(s);
	if (rule)
		nftnl_rule_free(rule);
	return x->err ? x->err : r;
}

int held_read(struct pc_nl *nl, struct pc_ruleset **out, uint32_t *flags, uint32_t *owner)
{
	struct held_ctx x = { .rs = calloc(1, sizeof(*x.rs)) };
	int r;

	*out = NULL;
	if (!x.rs)
		return -ENOMEM;
	r = table_read(nl, &x);
	if (r > 0) {
		int k = held_dump(nl, &x);

		r = k < 0 ? k : 1;
	}
	if (r <= 0) {
		held_free(x.rs);
		return r;
	}
	*flags = x.flags;
	*owner = x.owner;
	*out = x.rs;
	return 1;
}
