/* Reading counters back: dump our table's rules and set elements and tie
 * each counter to the object (and element) of the applied ruleset. */
#include "config.h"
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>

#include "internal.h"
#include "portctl/util.h"

/* What nl_query receives into (socket.c's NL_RECV_SIZE). */
#define NL_QUERY_BUF_SIZE (64 * 1024)

struct counter_value {
	bool found;
	uint64_t packets, bytes;
};

static int counter_expr_cb(struct nftnl_expr *e, void *data)
{
	struct counter_value *v = data;

	if (!v->found && streq(nftnl_expr_get_str(e, NFTNL_EXPR_NAME), "counter")) {
		v->found = true;
		v->packets = nftnl_expr_get_u64(e, NFTNL_EXPR_CTR_PACKETS);
		v->bytes = nftnl_expr_get_u64(e, NFTNL_EXPR_CTR_BYTES);
	}
	return 0;
}

/* A kernel rule, by chain and position in it (the dump keeps chain order). */
struct kernel_rule {
	char *chain;
	size_t pos;
	uint64_t handle;
	struct counter_value v;
};

struct rule_dump {
	struct kernel_rule *items;
	size_t n, cap;
	int err;
};

static int rule_dump_cb(const struct nlmsghdr *nlh, void *data)
{
	struct rule_dump *dump = data;
	struct nftnl_rule *r = nftnl_rule_alloc();
	struct kernel_rule *k;

	if (!r || nftnl_rule_nlmsg_parse(nlh, r) < 0)
		goto fail;
	k = PC_ARRAY_PUSH(dump->items, dump->n, dump->cap);
	if (!k)
		goto fail;
	k->chain = strdup(nftnl_rule_get_str(r, NFTNL_RULE_CHAIN));
	k->pos = dump->n >= 2 && streq(dump->items[dump->n - 2].chain, k->chain ? k->chain : "") ?
			 dump->items[dump->n - 2].pos + 1 : 0;
	k->handle = nftnl_rule_get_u64(r, NFTNL_RULE_HANDLE);
	nftnl_expr_foreach(r, counter_expr_cb, &k->v);
	nftnl_rule_free(r);
	return k->chain ? MNL_CB_OK : MNL_CB_ERROR;
fail:
	nftnl_rule_free(r);
	dump->err = -ENOMEM;
	return MNL_CB_ERROR;
}

/* The rules of one chain of ours, into dump (in chain order). */
static int chain_rules_dump(struct pc_nl *nl, const char *chain, struct rule_dump *dump)
{
	struct nftnl_rule *q = nftnl_rule_alloc();
	int r;

	if (!q)
		return -ENOMEM;
	nftnl_rule_set_str(q, NFTNL_RULE_TABLE, PC_TABLE_NAME);
	nftnl_rule_set_str(q, NFTNL_RULE_CHAIN, chain);
	r = nl_dump(nl, NFT_MSG_GETRULE, nl_rule_payload, q, rule_dump_cb, dump);
	nftnl_rule_free(q);
	return r < 0 ? r : dump->err;
}

static void rule_dump_free(struct rule_dump *dump)
{
	for (size_t i = 0; i < dump->n; i++)
		free(dump->items[i].chain);
	free(dump->items);
}

static int kernel_rule_cmp(const void *a, const void *b)
{
	const struct kernel_rule *x = a, *y = b;
	int c = strcmp(x->chain, y->chain);

	return c ? c : (x->pos > y->pos) - (x->pos < y->pos);
}

static int rules_dump(struct pc_nl *nl, struct rule_dump *dump)
{
	int ret = nl_dump_rules(nl, rule_dump_cb, dump);

	if (dump->err)
		return dump->err;
	/* Positions are counted in dump order (chain order) above; sorted,
	 * a rule is found by chain and position in O(log n). */
	if (ret >= 0 && dump->n)
		qsort(dump->items, dump->n, sizeof(*dump->items), kernel_rule_cmp);
	return ret;
}

static int kernel_rule_handle_cmp(const void *a, const void *b)
{
	const struct kernel_rule *x = a, *y = b;

	return (x->handle > y->handle) - (x->handle < y->handle);
}

static const struct kernel_rule *kernel_rule_find(const struct rule_dump *dump, const char *chain,
						  size_t pos)
{
	struct kernel_rule key = { .chain = (char *)chain, .pos = pos };

	return dump->n ? bsearch(&key, dump->items, dump->n, sizeof(*dump->items), kernel_rule_cmp)
		       : NULL;
}

static int counters_push(struct pc_nl_counters *out, size_t obj, const struct nftnl_set_elem *e,
			 const struct counter_value *v)
{
	struct pc_nl_counter *c = PC_ARRAY_PUSH(out->items, out->n, out->cap);

	if (!c)
		return -ENOMEM;
	c->obj = obj;
	c->elem = e;
	c->packets = v->packets;
	c->bytes = v->bytes;
	return 0;
}

/* Position of each rule within its chain, counted over the ruleset. */
struct chain_pos {
	const char *chain;
	size_t next;
};

/* The position of each rule in its chain, counted over the ruleset as it
 * goes; NULL when out of memory. A chain's rules are together but for the
 * jumps to its blocks (lower.c): the chain sought is the last one seen, or
 * one seen lately. */
static size_t *chain_pos_next(struct chain_pos **cp, size_t *n_cp, size_t *cap_cp,
			      const char *chain)
{
	size_t j = *n_cp;

	while (j > 0 && !streq((*cp)[j - 1].chain, chain))
		j--;
	if (j-- == 0) {
		struct chain_pos *p = PC_ARRAY_PUSH(*cp, *n_cp, *cap_cp);

		if (!p)
			return NULL;
		p->chain = chain;
		j = *n_cp - 1;
	}
	return &(*cp)[j].next;
}

static int rules_match(const struct pc_ruleset *rs, const struct rule_dump *dump,
		       struct pc_nl_counters *out)
{
	struct chain_pos *cp = NULL;
	size_t n_cp = 0, cap_cp = 0;
	int r = 0;

	for (size_t i = 0; r >= 0 && i < rs->n_objs; i++) {
		const char *chain;
		const struct kernel_rule *k;
		size_t *pos;

		if (rs->objs[i].kind != PC_NFT_RULE)
			continue;
		chain = nftnl_rule_get_str(rs->objs[i].obj, NFTNL_RULE_CHAIN);
		pos = chain_pos_next(&cp, &n_cp, &cap_cp, chain);
		if (!pos) {
			r = -ENOMEM;
			break;
		}
		k = kernel_rule_find(dump, chain, (*pos)++);
		if (k && k->v.found)
			r = counters_push(out, i, NULL, &k->v);
	}
	free(cp);
	return r;
}

struct elem_match {
	const struct elem_list *ours;
	struct pc_nl_counters *out;
	size_t obj;
	int err;
};

static int elem_match_cb(struct nftnl_set_elem *e, void *data)
{
	struct elem_match *m = data;
	struct elem_ref key = { 0 };
	struct counter_value v = { 0 };
	const struct elem_ref *ours;
	int r = elem_ref_fill(&key, e);

	nftnl_set_elem_expr_foreach(e, counter_expr_cb, &v);
	ours = r >= 0 && v.found ? elem_list_find(m->ours, &key) : NULL;
	if (ours)
		r = counters_push(m->out, m->obj, ours->e, &v);
	pc_strbuf_free(&key.id);
	pc_strbuf_free(&key.content);
	m->err = r < 0 ? r : 0;
	return r < 0 ? -1 : 0;
}

static int set_counters_read(struct pc_nl *nl, const struct pc_ruleset *rs, size_t i,
			     struct pc_nl_counters *out)
{
	struct nftnl_set *kset = nftnl_set_alloc();
	struct elem_list ours = { 0 };
	struct elem_match m = { .ours = &ours, .out = out, .obj = i };
	int r;

	if (!kset)
		return -ENOMEM;
	r = set_elems_dump(nl, rs->objs[i].obj, kset);
	if (r >= 0)
		r = elem_list_load(&ours, rs->objs[i].obj);
	if (r >= 0 && nftnl_set_elem_foreach(kset, elem_match_cb, &m) < 0)
		r = m.err ? m.err : -ENOMEM;
	elem_list_free(&ours);
	nftnl_set_free(kset);
	return r;
}

/* Only sets whose elements carry a counter (a counter for every element
 * of the set, or on its elements) are dumped: a ban set or a named address
 * set of 100,000 entries has none, and its dump would cost status dearly. */
static int expr_count_cb(struct nftnl_expr *e, void *data)
{
	(void)e;
	(*(size_t *)data)++;
	return 0;
}

static bool set_has_elem_counters(struct nftnl_set *s)
{
	struct nftnl_set_elems_iter *it;
	struct nftnl_set_elem *e;
	size_t n = 0;

	if (nftnl_set_get_u32(s, NFTNL_SET_FLAGS) & NFT_SET_ANONYMOUS)
		return false;
	nftnl_set_expr_foreach(s, expr_count_cb, &n);
	if (n)
		return true;
	/* The elements of one set are made alike: the first tells. */
	it = nftnl_set_elems_iter_create(s);
	if (!it)
		return true;
	e = nftnl_set_elems_iter_next(it);
	if (e)
		nftnl_set_elem_expr_foreach(e, expr_count_cb, &n);
	nftnl_set_elems_iter_destroy(it);
	return n > 0;
}

int pc_nl_read_counters(struct pc_nl *nl, const struct pc_ruleset *rs, struct pc_nl_counters *out)
{
	struct rule_dump dump = { 0 };
	int r;

	r = rules_dump(nl, &dump);

	if (r >= 0)
		r = rules_match(rs, &dump, out);
	rule_dump_free(&dump);
	/* Anonymous sets get a kernel-chosen name: their elements carry no
	 * per-rule counters worth reading. */
	for (size_t i = 0; r >= 0 && i < rs->n_objs; i++)
		if (rs->objs[i].kind == PC_NFT_SET && set_has_elem_counters(rs->objs[i].obj))
			r = set_counters_read(nl, rs, i, out);
	if (r < 0)
		pc_nl_counters_free(out);
	return r;
}

int rule_handles_match(struct pc_nl *nl, const struct pc_ruleset *rs)
{
	struct rule_dump dump = { 0 };
	struct chain_pos *cp = NULL;
	size_t n_cp = 0, cap_cp = 0, n_rules = 0;
	int r = rules_dump(nl, &dump);
	bool same = true;

	for (size_t i = 0; r >= 0 && same && i < rs->n_objs; i++) {
		const char *chain;
		const struct kernel_rule *k;
		size_t *pos;

		if (rs->objs[i].kind != PC_NFT_RULE)
			continue;
		n_rules++;
		chain = nftnl_rule_get_str(rs->objs[i].obj, NFTNL_RULE_CHAIN);
		pos = chain_pos_next(&cp, &n_cp, &cap_cp, chain);
		if (!pos) {
			r = -ENOMEM;
			break;
		}
		k = kernel_rule_find(&dump, chain, (*pos)++);
		same = k && rs->objs[i].handle && k->handle == rs->objs[i].handle;
	}
	if (r >= 0)
		r = same && n_rules == dump.n;
	free(cp);
	rule_dump_free(&dump);
	return r;
}

int rule_counters_read(struct pc_nl *nl, const char *chain, struct rule_counter **out, size_t *n)
{
	struct rule_dump dump = { 0 };
	/* A chain gone from the kernel (drift): no counters, as a dump of
	 * all would find. */
	int r = chain ? chain_rules_dump(nl, chain, &dump) : rules_dump(nl, &dump);

	r = r == -ENOENT && chain ? 0 : r;

	*out = NULL;
	*n = 0;
	if (r >= 0 && dump.n) {
		*out = calloc(dump.n, sizeof(**out));
		r = *out ? 0 : -ENOMEM;
	}
	for (size_t i = 0; r >= 0 && i < dump.n; i++) {
		if (!dump.items[i].v.found)
			continue;
		(*out)[*n].handle = dump.items[i].handle;
		(*out)[*n].packets = dump.items[i].v.packets;
		(*out)[(*n)++].bytes = dump.items[i].v.bytes;
	}
	rule_dump_free(&dump);
	return r;
}

void pc_nl_counters_free(struct pc_nl_counters *c)
{
	free(c->items);
	memset(c, 0, sizeof(*c));
}

/* --- Counters of some objects only (a page of status) --- */

/* One rule of ours, asked for by handle: a round trip, whatever the size
 * of the table. */
static int rule_get_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nftnl_rule *r = nftnl_rule_alloc();
	struct counter_value *v = data;

	if (!r)
		return MNL_CB_ERROR;
	if (nftnl_rule_nlmsg_parse(nlh, r) >= 0)
		nftnl_expr_foreach(r, counter_expr_cb, v);
	nftnl_rule_free(r);
	return MNL_CB_OK;
}

static int rule_counter_get(struct pc_nl *nl, char *buf, const char *chain, uint64_t handle,
			    struct counter_value *v)
{
	struct nftnl_rule *r = nftnl_rule_alloc();
	struct nlmsghdr *nlh;
	int ret;

	if (!r)
		return -ENOMEM;
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, PC_TABLE_NAME);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, chain);
	nftnl_rule_set_u64(r, NFTNL_RULE_HANDLE, handle);
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETRULE, NFPROTO_INET, NLM_F_ACK,
				    nl_next_seq(nl, 1));
	nftnl_rule_nlmsg_build_payload(nlh, r);
	nftnl_rule_free(r);
	ret = nl_query(nl, buf, nlh, rule_get_cb, v);
	/* Gone from the kernel (drift): no counter, as a dump would find. */
	return ret == -ENOENT ? 0 : ret;
}

int rule_counter_read(struct pc_nl *nl, const char *chain, uint64_t handle, uint64_t *packets,
		      uint64_t *bytes)
{
	_cleanup_free_ char *buf = malloc(NL_QUERY_BUF_SIZE);
	struct counter_value v = { 0 };
	int ret = buf ? rule_counter_get(nl, buf, chain, handle, &v) : -ENOMEM;

	*packets = v.packets;
	*bytes = v.bytes;
	return ret;
}

/* Elements asked for by key, a chunk per message: the kernel answers each
 * with the element as it holds it, counter included. */
#define ELEM_GET_CHUNK 128

static int set_elem_get_cb(const struct nlmsghdr *nlh, void *data)
{
	return nftnl_set_elems_nlmsg_parse(nlh, data) < 0 ? MNL_CB_ERROR : MNL_CB_OK;
}

static struct nftnl_set_elem *elem_key_clone(const struct nftnl_set_elem *e)
{
	static const uint16_t attrs[] = { NFTNL_SET_ELEM_KEY, NFTNL_SET_ELEM_KEY_END };
	/* libnftnl takes no const, but reading an attribute changes nothing. */
	struct nftnl_set_elem *k = nftnl_set_elem_alloc();

	for (size_t i = 0; k && i < ARRAY_SIZE(attrs); i++) {
		uint32_t len = 0;
		const void *v;

		if (!nftnl_set_elem_is_set(e, attrs[i]))
			continue;
		v = nftnl_set_elem_get((struct nftnl_set_elem *)e, attrs[i], &len);
		if (nftnl_set_elem_set(k, attrs[i], v, len) < 0) {
			nftnl_set_elem_free(k);
			return NULL;
		}
	}
	if (k && nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_FLAGS))
		nftnl_set_elem_set_u32(k, NFTNL_SET_ELEM_FLAGS,
				       nftnl_set_elem_get_u32((struct nftnl_set_elem *)e,
							      NFTNL_SET_ELEM_FLAGS));
	return k;
}

static bool elem_same_key(struct nftnl_set_elem *a, const struct nftnl_set_elem *b)
{
	uint32_t la = 0, lb = 0;
	const void *ka = nftnl_set_elem_get(a, NFTNL_SET_ELEM_KEY, &la);
	const void *kb = nftnl_set_elem_get((struct nftnl_set_elem *)b, NFTNL_SET_ELEM_KEY, &lb);

	return ka && kb && la == lb && !memcmp(ka, kb, la);
}

/* refs[0..n) are elements of one set object: each that the kernel holds
 * with a counter gets it in packets[i], bytes[i]. */
static int elems_counters_get(struct pc_nl *nl, char *buf, const struct pc_ruleset *rs,
			      const struct pc_nl_counter_ref *refs, size_t n, uint64_t *packets,
			      uint64_t *bytes)
{
	const struct nftnl_set *like = rs->objs[refs[0].obj].obj;
	struct nftnl_set *q = nftnl_set_alloc(), *kset = nftnl_set_alloc();
	struct nftnl_set_elems_iter *it;
	struct nftnl_set_elem *ke;
	struct nlmsghdr *nlh;
	int r = 0;

	if (!q || !kset) {
		r = -ENOMEM;
		goto out;
	}
	nftnl_set_set_str(q, NFTNL_SET_TABLE, PC_TABLE_NAME);
	nftnl_set_set_str(q, NFTNL_SET_NAME, nftnl_set_get_str(like, NFTNL_SET_NAME));
	nftnl_set_set_u32(q, NFTNL_SET_FAMILY, NFPROTO_INET);
	for (size_t i = 0; i < n; i++) {
		struct nftnl_set_elem *k = elem_key_clone(refs[i].elem);

		if (!k) {
			r = -ENOMEM;
			goto out;
		}
		nftnl_set_elem_add(q, k);
	}
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETSETELEM, NFPROTO_INET, NLM_F_ACK,
				    nl_next_seq(nl, 1));
	nftnl_set_elems_nlmsg_build_payload(nlh, q);
	r = nl_query(nl, buf, nlh, set_elem_get_cb, kset);
	/* One element the kernel lacks (drift) ends the message there: ask
	 * for the others one at a time. */
	if (r == -ENOENT && n > 1) {
		r = 0;
		for (size_t i = 0; r >= 0 && i < n; i++)
			r = elems_counters_get(nl, buf, rs, &refs[i], 1, &packets[i], &bytes[i]);
		goto out;
	}
	if (r == -ENOENT)
		r = 0;
	if (r < 0)
		goto out;
	it = nftnl_set_elems_iter_create(kset);
	if (!it) {
		r = -ENOMEM;
		goto out;
	}
	while (r >= 0 && (ke = nftnl_set_elems_iter_next(it))) {
		struct counter_value v = { 0 };

		nftnl_set_elem_expr_foreach(ke, counter_expr_cb, &v);
		for (size_t i = 0; v.found && i < n; i++)
			if (elem_same_key(ke, refs[i].elem)) {
				packets[i] = v.packets;
				bytes[i] = v.bytes;
				break;
			}
	}
	nftnl_set_elems_iter_destroy(it);
out:
	nftnl_set_free(q);
	nftnl_set_free(kset);
	return r;
}

/* A chain whose rules' counters a request reads many of: dumped once
 * (a page of status among 10,000 rules of their own reads 2,000 kernel
 * rules, in_ and pub_, of a few dozen chains), its rules by handle. */
#define CHAIN_DUMP_MIN 8

static const char *ref_chain(const struct pc_ruleset *rs, const struct pc_nl_counter_ref *ref)
{
	const struct pc_nft_object *o = &rs->objs[ref->obj];

	return !ref->elem && o->kind == PC_NFT_RULE && o->handle
		       ? nftnl_rule_get_str(o->obj, NFTNL_RULE_CHAIN)
		       : NULL;
}

struct chain_ref {
	const char *chain;
	size_t i;
};

static int chain_ref_cmp(const void *a, const void *b)
{
	return strcmp(((const struct chain_ref *)a)->chain, ((const struct chain_ref *)b)->chain);
}

/* The counters of the rule refs of the chains CHAIN_DUMP_MIN or more of
 * them are of, each chain dumped once; done[i] for those read (a rule gone
 * from the kernel, drift: no counter, as rule_counter_get). */
static int chains_counters_read(struct pc_nl *nl, const struct pc_ruleset *rs,
				const struct pc_nl_counter_ref *refs, size_t n, uint64_t *packets,
				uint64_t *bytes, bool *done)
{
	_cleanup_free_ struct chain_ref *v = malloc((n + 1) * sizeof(*v));
	size_t m = 0;
	int r = v ? 0 : -ENOMEM;

	for (size_t i = 0; r >= 0 && i < n; i++)
		if ((v[m].chain = ref_chain(rs, &refs[i])))
			v[m++].i = i;
	if (r >= 0 && m > 1)
		qsort(v, m, sizeof(*v), chain_ref_cmp);
	for (size_t a = 0, b; r >= 0 && a < m; a = b) {
		struct rule_dump dump = { 0 };

		for (b = a + 1; b < m && streq(v[b].chain, v[a].chain); b++)
			;
		if (b - a < CHAIN_DUMP_MIN)
			continue;
		r = chain_rules_dump(nl, v[a].chain, &dump);
		/* By handle: found in O(log n) each, not a scan of the chain. */
		if (r >= 0 && dump.n > 1)
			qsort(dump.items, dump.n, sizeof(*dump.items), kernel_rule_handle_cmp);
		for (size_t k = a; r >= 0 && k < b; k++) {
			struct kernel_rule key = { .handle = rs->objs[refs[v[k].i].obj].handle };
			const struct kernel_rule *found =
				dump.n ? bsearch(&key, dump.items, dump.n, sizeof(*dump.items),
						 kernel_rule_handle_cmp)
				       : NULL;

			packets[v[k].i] = found ? found->v.packets : 0;
			bytes[v[k].i] = found ? found->v.bytes : 0;
			done[v[k].i] = true;
		}
		rule_dump_free(&dump);
	}
	return r;
}

int pc_nl_read_counters_of(struct pc_nl *nl, const struct pc_ruleset *rs,
			   const struct pc_nl_counter_ref *refs, size_t n, uint64_t *packets,
			   uint64_t *bytes)
{
	_cleanup_free_ char *buf = malloc(NL_QUERY_BUF_SIZE);
	_cleanup_free_ bool *done = calloc(n + 1, sizeof(*done));
	int r = buf && done ? 0 : -ENOMEM;

	if (r >= 0)
		r = chains_counters_read(nl, rs, refs, n, packets, bytes, done);
	for (size_t i = 0; r >= 0 && i < n;) {
		struct counter_value v = { 0 };
		size_t j;

		if (done[i]) {
			i++;
			continue;
		}
		if (!refs[i].elem) {
			const char *chain = ref_chain(rs, &refs[i]);

			if (chain)
				r = rule_counter_get(nl, buf, chain, rs->objs[refs[i].obj].handle, &v);
			packets[i] = v.packets;
			bytes[i] = v.bytes;
			i++;
			continue;
		}
		/* A run of elements of one set, up to a chunk, in one message. */
		for (j = i + 1; j < n && j - i < ELEM_GET_CHUNK && refs[j].elem &&
				refs[j].obj == refs[i].obj;
		     j++)
			;
		r = elems_counters_get(nl, buf, rs, &refs[i], j - i, &packets[i], &bytes[i]);
		i = j;
	}
	return r;
}

bool pc_nl_set_counted(const struct nftnl_set *s)
{
	return set_has_elem_counters((struct nftnl_set *)s);
}
