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
#include <arpa/inet.h>
#include <endian.h>

#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nf_tables.h>
#include <libnftnl/chain.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>

#include "internal.h"
#include "portctl/util.h"

/* What nl_query may receive at once (socket.c's NL_RECV_SIZE). */
#define HELD_BUF_SIZE (64 * 1024)

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
	if (kind == PC_NFT_RULE)
		o->chain_key = pc_chain_key(nftnl_rule_get_str(obj, NFTNL_RULE_CHAIN));
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

/* 1 with the table's flags, 0 when there is no table, -errno. */
static int table_read(struct pc_nl *nl, struct held_ctx *x)
{
	int r = nl_table_get(nl, table_cb, x);

	return x->err ? x->err : r;
}

int held_table(struct pc_nl *nl, uint32_t *flags, uint32_t *owner)
{
	struct held_ctx x = { 0 };
	int r = table_read(nl, &x);

	*flags = x.flags;
	*owner = x.owner;
	return r;
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

/* A nested nft_data attribute's value (NFTA_DATA_VALUE) into e as attr;
 * a verdict (NFTA_DATA_VERDICT) as its code and chain. */
static int elem_data(struct nftnl_set_elem *e, const struct nlattr *nest, uint16_t attr)
{
	const struct nlattr *a, *v;

	mnl_attr_for_each_nested(a, nest) {
		switch (mnl_attr_get_type(a)) {
		case NFTA_DATA_VALUE:
			if (nftnl_set_elem_set(e, attr, mnl_attr_get_payload(a),
					       mnl_attr_get_payload_len(a)) < 0)
				return -ENOMEM;
			break;
		case NFTA_DATA_VERDICT:
			mnl_attr_for_each_nested(v, a) {
				if (mnl_attr_get_type(v) == NFTA_VERDICT_CODE)
					nftnl_set_elem_set_u32(e, NFTNL_SET_ELEM_VERDICT,
							       ntohl(mnl_attr_get_u32(v)));
				else if (mnl_attr_get_type(v) == NFTA_VERDICT_CHAIN &&
					 nftnl_set_elem_set_str(e, NFTNL_SET_ELEM_CHAIN,
								mnl_attr_get_str(v)) < 0)
					return -ENOMEM;
			}
			break;
		}
	}
	return 0;
}

/* An expression of the element, as its kind alone (diff.c compares kinds). */
static int elem_expr(struct nftnl_set_elem *e, const struct nlattr *nest)
{
	const struct nlattr *a;

	mnl_attr_for_each_nested(a, nest) {
		struct nftnl_expr *x;

		if (mnl_attr_get_type(a) != NFTA_EXPR_NAME)
			continue;
		x = nftnl_expr_alloc(mnl_attr_get_str(a));
		if (!x)
			return -ENOMEM;
		nftnl_set_elem_add_expr(e, x);
	}
	return 0;
}

/*
 * One element of a dump, parsed by hand into what the compiler sets: its
 * key, key end, flags, verdict or data, timeout, comment. Not its
 * expiration, nor the expressions the set's own gave it (libnftnl would
 * build a counter for each, only for it to be dropped); one that the set
 * did not give stays visible as an expression of its kind.
 */
static int elem_parse(const struct nlattr *nest, bool set_exprs, struct nftnl_set_elem **out)
{
	struct nftnl_set_elem *e = nftnl_set_elem_alloc();
	const struct nlattr *a, *x;
	int r = e ? 0 : -ENOMEM;

	mnl_attr_for_each_nested(a, nest) {
		if (r < 0)
			break;
		switch (mnl_attr_get_type(a)) {
		case NFTA_SET_ELEM_KEY:
			r = elem_data(e, a, NFTNL_SET_ELEM_KEY);
			break;
		case NFTA_SET_ELEM_KEY_END:
			r = elem_data(e, a, NFTNL_SET_ELEM_KEY_END);
			break;
		case NFTA_SET_ELEM_DATA:
			r = elem_data(e, a, NFTNL_SET_ELEM_DATA);
			break;
		case NFTA_SET_ELEM_FLAGS:
			nftnl_set_elem_set_u32(e, NFTNL_SET_ELEM_FLAGS, ntohl(mnl_attr_get_u32(a)));
			break;
		case NFTA_SET_ELEM_TIMEOUT:
			nftnl_set_elem_set_u64(e, NFTNL_SET_ELEM_TIMEOUT, be64toh(mnl_attr_get_u64(a)));
			break;
		case NFTA_SET_ELEM_USERDATA:
			r = nftnl_set_elem_set(e, NFTNL_SET_ELEM_USERDATA, mnl_attr_get_payload(a),
					       mnl_attr_get_payload_len(a));
			break;
		case NFTA_SET_ELEM_OBJREF:
			r = nftnl_set_elem_set_str(e, NFTNL_SET_ELEM_OBJREF, mnl_attr_get_str(a));
			break;
		case NFTA_SET_ELEM_EXPR:
			if (!set_exprs)
				r = elem_expr(e, a);
			break;
		case NFTA_SET_ELEM_EXPRESSIONS:
			mnl_attr_for_each_nested(x, a) {
				if (!set_exprs && r >= 0)
					r = elem_expr(e, x);
			}
			break;
		}
	}
	if (r < 0 && e) {
		nftnl_set_elem_free(e);
		e = NULL;
	}
	*out = e;
	return r < 0 ? r : 0;
}

/* An element's identity (key, key end, flags), hashed (FNV-1a). */
static uint64_t elem_id_hash(struct nftnl_set_elem *e)
{
	static const uint16_t attrs[] = { NFTNL_SET_ELEM_KEY, NFTNL_SET_ELEM_KEY_END };
	uint64_t h = 14695981039346656037ull;
	uint32_t flags = nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_FLAGS)
				 ? nftnl_set_elem_get_u32(e, NFTNL_SET_ELEM_FLAGS)
				 : 0;

	for (size_t i = 0; i < ARRAY_SIZE(attrs); i++) {
		uint32_t len = 0;
		const uint8_t *d = nftnl_set_elem_is_set(e, attrs[i])
					   ? nftnl_set_elem_get(e, attrs[i], &len)
					   : NULL;

		for (uint32_t k = 0; k < len; k++)
			h = (h ^ d[k]) * 1099511628211ull;
		h = (h ^ 0xff) * 1099511628211ull;
	}
	for (size_t k = 0; k < sizeof(flags); k++)
		h = (h ^ ((flags >> (8 * k)) & 0xff)) * 1099511628211ull;
	return h;
}

/* An element with its place: its identity's hash, then where the
 * compiled set has it (SIZE_MAX: not there) or where the dump had it. */
struct elem_place {
	uint64_t hash;
	size_t at;
	struct nftnl_set_elem *e;
};

struct elem_places {
	struct elem_place *items;
	size_t n, cap;
};

static int place_push_cb(struct nftnl_set_elem *e, void *data)
{
	struct elem_places *l = data;
	struct elem_place *p = PC_ARRAY_PUSH(l->items, l->n, l->cap);

	if (!p)
		return -1;
	*p = (struct elem_place){ .hash = elem_id_hash(e), .at = l->n - 1, .e = e };
	return 0;
}

/* The elements of a dump of one set, parsed into a list of places. */
struct elems_dump {
	struct elem_places k;
	bool set_exprs; /* the set gives every element its expressions */
	int err;
};

static int elems_cb(const struct nlmsghdr *nlh, void *data)
{
	struct elems_dump *x = data;
	const struct nlattr *a, *el;

	mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg)) {
		if (mnl_attr_get_type(a) != NFTA_SET_ELEM_LIST_ELEMENTS)
			continue;
		mnl_attr_for_each_nested(el, a) {
			struct nftnl_set_elem *e = NULL;

			x->err = elem_parse(el, x->set_exprs, &e);
			if (x->err >= 0 && place_push_cb(e, &x->k) < 0) {
				nftnl_set_elem_free(e);
				x->err = -ENOMEM;
			}
			if (x->err < 0)
				return MNL_CB_ERROR;
		}
	}
	return MNL_CB_OK;
}

static void elems_payload(struct nlmsghdr *nlh, void *obj)
{
	nftnl_set_elems_nlmsg_build_payload(nlh, obj);
}

static bool elem_attr_equal(struct nftnl_set_elem *a, struct nftnl_set_elem *b, uint16_t attr)
{
	uint32_t la = 0, lb = 0;
	const void *da = nftnl_set_elem_is_set(a, attr) ? nftnl_set_elem_get(a, attr, &la) : NULL;
	const void *db = nftnl_set_elem_is_set(b, attr) ? nftnl_set_elem_get(b, attr, &lb) : NULL;

	return la == lb && (!la || !memcmp(da, db, la));
}

static bool elem_id_equal(struct nftnl_set_elem *a, struct nftnl_set_elem *b)
{
	uint32_t fa = nftnl_set_elem_is_set(a, NFTNL_SET_ELEM_FLAGS)
			      ? nftnl_set_elem_get_u32(a, NFTNL_SET_ELEM_FLAGS)
			      : 0;
	uint32_t fb = nftnl_set_elem_is_set(b, NFTNL_SET_ELEM_FLAGS)
			      ? nftnl_set_elem_get_u32(b, NFTNL_SET_ELEM_FLAGS)
			      : 0;

	return fa == fb && elem_attr_equal(a, b, NFTNL_SET_ELEM_KEY) &&
	       elem_attr_equal(a, b, NFTNL_SET_ELEM_KEY_END);
}

/*
 * The kernel's elements (in hash order) put in the order the compiled set
 * has them, those it lacks last: then the difference (diff.c) finds what
 * did not change at the head of both and compares nothing one by one.
 * O(elements): an open-addressed table of the compiled set's identities.
 */
static int elems_order_like(struct elem_places *k, struct nftnl_set *like)
{
	struct elem_places c = { 0 };
	struct elem_place *out = NULL;
	size_t *slots = NULL, mask = 0, n_out, n_last = 0;
	int r = 0;

	if (nftnl_set_elem_foreach(like, place_push_cb, &c) < 0)
		r = -ENOMEM;
	while (r >= 0 && mask + 1 < 2 * c.n + 2)
		mask = mask * 2 + 1;
	if (r >= 0) {
		slots = malloc((mask + 1) * sizeof(*slots));
		out = calloc(c.n + k->n + 1, sizeof(*out));
		r = slots && out ? 0 : -ENOMEM;
	}
	if (r < 0)
		goto out;
	memset(slots, 0xff, (mask + 1) * sizeof(*slots));
	for (size_t i = 0; i < c.n; i++) {
		size_t h = (size_t)c.items[i].hash & mask;

		while (slots[h] != SIZE_MAX)
			h = (h + 1) & mask;
		slots[h] = i;
	}
	/* out: the compiled set's places (NULL where the kernel lacks one),
	 * then the kernel's others, in the dump's order. */
	n_out = c.n;
	for (size_t i = 0; i < k->n; i++) {
		size_t h = (size_t)k->items[i].hash & mask, at = SIZE_MAX;

		for (; slots[h] != SIZE_MAX; h = (h + 1) & mask) {
			const struct elem_place *p = &c.items[slots[h]];

			if (p->hash == k->items[i].hash && !out[p->at].e &&
			    elem_id_equal(p->e, k->items[i].e)) {
				at = p->at;
				break;
			}
		}
		out[at != SIZE_MAX ? at : n_out + n_last++] = k->items[i];
	}
	n_out += n_last;
	k->n = 0;
	for (size_t i = 0; i < n_out; i++)
		if (out[i].e)
			k->items[k->n++] = out[i];
out:
	free(out);
	free(slots);
	free(c.items);
	return r;
}

/* A set's elements, into the set, in like's order when like is given.
 * Not those of a set the packet path fills (a limit meter): they are
 * state, as verify sees it. */
static int set_elems_read(struct pc_nl *nl, struct nftnl_set *s, struct nftnl_set *like)
{
	struct elems_dump x = { 0 };
	size_t n_exprs = 0;
	int r;

	if (nftnl_set_get_u32(s, NFTNL_SET_FLAGS) & NFT_SET_EVAL)
		return 0;
	nftnl_set_expr_foreach(s, expr_count_cb, &n_exprs);
	x.set_exprs = n_exprs > 0;
	r = nl_dump(nl, NFT_MSG_GETSETELEM, elems_payload, s, elems_cb, &x);
	r = x.err < 0 ? x.err : r;
	if (r >= 0 && like)
		r = elems_order_like(&x.k, like);
	for (size_t i = 0; i < x.k.n; i++) {
		if (r >= 0)
			nftnl_set_elem_add(s, x.k.items[i].e);
		else
			nftnl_set_elem_free(x.k.items[i].e);
	}
	free(x.k.items);
	return r;
}

/* The set of like named as s, or NULL. */
static struct nftnl_set *set_like(const struct pc_ruleset *like, const struct nftnl_set *s)
{
	const char *name = nftnl_set_get_str(s, NFTNL_SET_NAME);

	for (size_t i = 0; like && i < like->n_objs; i++)
		if (like->objs[i].kind == PC_NFT_SET &&
		    streq(nftnl_set_get_str(like->objs[i].obj, NFTNL_SET_NAME), name))
			return like->objs[i].obj;
	return NULL;
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

static int held_dump(struct pc_nl *nl, const struct pc_ruleset *like, struct held_ctx *x)
{
	struct nftnl_chain *c = nftnl_chain_alloc();
	struct nftnl_set *s = nftnl_set_alloc();
	int r = c && s ? 0 : -ENOMEM;

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
			r = set_elems_read(nl, x->rs->objs[i].obj,
					   set_like(like, x->rs->objs[i].obj));
	if (r >= 0 && !x->err)
		r = nl_dump_rules(nl, rule_cb, x);
	if (c)
		nftnl_chain_free(c);
	if (s)
		nftnl_set_free(s);
	return x->err ? x->err : r;
}

int held_read(struct pc_nl *nl, const struct pc_ruleset *like, struct pc_ruleset **out,
	      uint32_t *flags, uint32_t *owner)
{
	struct held_ctx x = { .rs = calloc(1, sizeof(*x.rs)) };
	int r;

	*out = NULL;
	if (!x.rs)
		return -ENOMEM;
	r = table_read(nl, &x);
	if (r > 0) {
		int k = held_dump(nl, like, &x);

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
