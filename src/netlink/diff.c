/* Comparing objects of two rulesets by what the kernel would hold, and the
 * element deletes and adds that turn one set into another. */
#include "config.h"
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <libnftnl/chain.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>

#include "internal.h"
#include "portctl/util.h"

/* Element lists are cut into messages well below the 64 KiB attribute limit. */
#define ELEMS_MSG_MAX (48u * 1024u)


static int append_attr(struct pc_strbuf *sb, const void *data, uint32_t len)
{
	int r = pc_strbuf_append(sb, (const char *)&len, sizeof(len));

	return r < 0 || !len ? r : pc_strbuf_append(sb, data, len);
}

static int set_expr_print_cb(struct nftnl_expr *e, void *data)
{
	char buf[512];
	int n = nftnl_expr_snprintf(buf, sizeof(buf), e, NFTNL_OUTPUT_DEFAULT, 0);

	if (n < 0 || (size_t)n >= sizeof(buf))
		return -1;
	return pc_strbuf_append(data, buf, (size_t)n) < 0 ? -1 : 0;
}

static const uint16_t set_attrs[] = {
	NFTNL_SET_TABLE,     NFTNL_SET_NAME,      NFTNL_SET_FLAGS,     NFTNL_SET_KEY_TYPE,
	NFTNL_SET_KEY_LEN,   NFTNL_SET_DATA_TYPE, NFTNL_SET_DATA_LEN,  NFTNL_SET_FAMILY,
	NFTNL_SET_POLICY,    NFTNL_SET_DESC_SIZE, NFTNL_SET_TIMEOUT,   NFTNL_SET_GC_INTERVAL,
	NFTNL_SET_USERDATA,  NFTNL_SET_OBJ_TYPE,  NFTNL_SET_DESC_CONCAT,
};

/* A set's definition without its elements, as comparable bytes. */
static int print_set_definition(struct pc_strbuf *sb, const struct nftnl_set *s)
{
	int r = 0;

	for (size_t i = 0; r >= 0 && i < ARRAY_SIZE(set_attrs); i++) {
		uint32_t len = 0;
		const void *data = nftnl_set_is_set(s, set_attrs[i]) ?
					   nftnl_set_get_data(s, set_attrs[i], &len) : NULL;

		r = append_attr(sb, data, data ? len : 0);
	}
	if (r >= 0 && nftnl_set_expr_foreach(s, set_expr_print_cb, sb) < 0)
		r = -ENOMEM;
	return r;
}

/* 1 when the two printed differ (or one is too big to print: not known to
 * be equal), 0 when equal, -errno. */
static int printed_differ(struct pc_strbuf *x, struct pc_strbuf *y, int r)
{
	if (r >= 0)
		r = x->len != y->len || (x->len && memcmp(x->buf, y->buf, x->len));
	else if (r == -EMSGSIZE)
		r = 1;
	pc_strbuf_free(x);
	pc_strbuf_free(y);
	return r;
}

int set_definition_differs(const struct nftnl_set *a, const struct nftnl_set *b)
{
	struct pc_strbuf x = { 0 }, y = { 0 };
	int r = print_set_definition(&x, a);

	if (r >= 0)
		r = print_set_definition(&y, b);
	return printed_differ(&x, &y, r);
}

/* What a chain is: its name and, for a base chain, its hook, priority,
 * type and policy; not what the kernel counts (its use, a base chain's
 * packets and bytes) nor its handle. */
int chain_differs(const struct nftnl_chain *a, const struct nftnl_chain *b)
{
	static const uint16_t attrs[] = { NFTNL_CHAIN_NAME, NFTNL_CHAIN_HOOKNUM, NFTNL_CHAIN_PRIO,
					  NFTNL_CHAIN_TYPE, NFTNL_CHAIN_POLICY, NFTNL_CHAIN_DEV };

	for (size_t i = 0; i < ARRAY_SIZE(attrs); i++) {
		uint32_t la = 0, lb = 0;
		bool sa = nftnl_chain_is_set(a, attrs[i]), sb = nftnl_chain_is_set(b, attrs[i]);
		const void *da = sa ? nftnl_chain_get_data(a, attrs[i], &la) : NULL;
		const void *db = sb ? nftnl_chain_get_data(b, attrs[i], &lb) : NULL;

		if (sa != sb || la != lb || (la && memcmp(da, db, la)))
			return 1;
	}
	return 0;
}

static int elem_attr(struct pc_strbuf *sb, struct nftnl_set_elem *e, uint16_t attr)
{
	uint32_t len = 0;
	const void *data = nftnl_set_elem_is_set(e, attr) ? nftnl_set_elem_get(e, attr, &len) : NULL;

	return append_attr(sb, data, data ? len : 0);
}

static int elem_expr_print_cb(struct nftnl_expr *e, void *data)
{
	/* Counter values are state, not definition: compare the kind only. */
	const char *name = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);

	return pc_strbuf_append(data, name, strlen(name) + 1) < 0 ? -1 : 0;
}

int elem_ref_fill(struct elem_ref *ref, struct nftnl_set_elem *e)
{
	/* Not the timeout: an element that counts down in the kernel (a ban
	 * with --timeout) is the same element whatever time it has left. */
	static const uint16_t content_attrs[] = { NFTNL_SET_ELEM_VERDICT, NFTNL_SET_ELEM_CHAIN,
						  NFTNL_SET_ELEM_DATA, NFTNL_SET_ELEM_OBJREF };
	uint32_t flags = nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_FLAGS) ?
				 nftnl_set_elem_get_u32(e, NFTNL_SET_ELEM_FLAGS) : 0;
	int r;

	ref->e = e;
	r = elem_attr(&ref->id, e, NFTNL_SET_ELEM_KEY);
	if (r >= 0)
		r = elem_attr(&ref->id, e, NFTNL_SET_ELEM_KEY_END);
	/* An interval's end sorts before the start of the next interval at
	 * the same key, as nft orders them: deleted in the other order, the
	 * end is not found (ENOENT). */
	flags = ~flags;
	if (r >= 0)
		r = append_attr(&ref->id, &flags, sizeof(flags));
	for (size_t i = 0; r >= 0 && i < ARRAY_SIZE(content_attrs); i++)
		r = elem_attr(&ref->content, e, content_attrs[i]);
	if (r >= 0 && nftnl_set_elem_expr_foreach(e, elem_expr_print_cb, &ref->content) < 0)
		r = -ENOMEM;
	if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_USERDATA))
		ref->udata = nftnl_set_elem_get(e, NFTNL_SET_ELEM_USERDATA, &ref->udata_len);
	return r;
}

void elem_list_free(struct elem_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		pc_strbuf_free(&l->items[i].id);
		pc_strbuf_free(&l->items[i].content);
	}
	free(l->items);
	memset(l, 0, sizeof(*l));
}

uint64_t elem_lapse_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static bool elem_is_end(struct nftnl_set_elem *e)
{
	return nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_FLAGS) &&
	       (nftnl_set_elem_get_u32(e, NFTNL_SET_ELEM_FLAGS) & NFT_SET_ELEM_INTERVAL_END);
}

static bool set_is_rbtree(struct nftnl_set *s)
{
	uint32_t flags = nftnl_set_get_u32(s, NFTNL_SET_FLAGS);

	return (flags & NFT_SET_INTERVAL) && !(flags & NFT_SET_CONCAT);
}

bool elem_lapsed(struct elem_lapse *lp, struct nftnl_set_elem *e)
{
	bool lapsed;

	if (!lp->clock_ms)
		return false;
	if (elem_is_end(e))
		lapsed = lp->prev;
	else
		lapsed = nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_TIMEOUT) &&
			 lp->clock_ms + nftnl_set_elem_get_u64(e, NFTNL_SET_ELEM_TIMEOUT) <= lp->by_ms;
	lp->prev = lapsed && !elem_is_end(e);
	return lapsed;
}

static int elem_list_add_cb(struct nftnl_set_elem *e, void *data)
{
	struct elem_list *l = data;
	struct elem_ref *ref = PC_ARRAY_PUSH(l->items, l->n, l->cap);

	if (!ref || elem_ref_fill(ref, e) < 0)
		return -1;
	ref->lapsed = elem_lapsed(&l->lapse, e);
	return 0;
}

static int strbuf_cmp(const struct pc_strbuf *a, const struct pc_strbuf *b)
{
	size_t n = a->len < b->len ? a->len : b->len;
	int c = n ? memcmp(a->buf, b->buf, n) : 0;

	if (c)
		return c;
	return (a->len > b->len) - (a->len < b->len);
}

static int elem_ref_cmp(const void *a, const void *b)
{
	return strbuf_cmp(&((const struct elem_ref *)a)->id, &((const struct elem_ref *)b)->id);
}

struct elem_ref *elem_list_find(const struct elem_list *l, const struct elem_ref *key)
{
	return l->n ? bsearch(key, l->items, l->n, sizeof(*l->items), elem_ref_cmp) : NULL;
}

int elem_list_load(struct elem_list *l, struct nftnl_set *s)
{
	if (nftnl_set_elem_foreach(s, elem_list_add_cb, l) < 0)
		return -ENOMEM;
	/* An empty set (a meter) has no array: qsort must not see NULL. */
	if (l->n)
		qsort(l->items, l->n, sizeof(*l->items), elem_ref_cmp);
	return 0;
}

/* The element messages of one set under construction. */
struct elem_msgs {
	struct batch *b;
	struct nftnl_set *set;
	ssize_t obj;
	uint16_t type;
	struct nlmsghdr *nlh;
	struct nlattr *nest;
	int i;
};

static int elem_msgs_flush(struct elem_msgs *m)
{
	if (!m->nlh)
		return 0;
	mnl_attr_nest_end(m->nlh, m->nest);
	m->nlh = NULL;
	return batch_commit(m->b, &(struct batch_origin){
					  .obj = m->obj,
					  .what = m->type == NFT_MSG_NEWSETELEM ? "set element add" :
										   "set element delete" });
}

static int elem_msgs_start(struct elem_msgs *m)
{
	char *at = batch_reserve(m->b);
	uint16_t family = (uint16_t)nftnl_set_get_u32(m->set, NFTNL_SET_FAMILY);

	if (!at)
		return -ENOMEM;
	m->nlh = nftnl_nlmsg_build_hdr(at, m->type, family,
				       m->type == NFT_MSG_NEWSETELEM ? NLM_F_CREATE : 0, 0);
	mnl_attr_put_strz(m->nlh, NFTA_SET_ELEM_LIST_TABLE, nftnl_set_get_str(m->set, NFTNL_SET_TABLE));
	mnl_attr_put_strz(m->nlh, NFTA_SET_ELEM_LIST_SET, nftnl_set_get_str(m->set, NFTNL_SET_NAME));
	m->nest = mnl_attr_nest_start(m->nlh, NFTA_SET_ELEM_LIST_ELEMENTS);
	return 0;
}

/* A new element with those attributes of e. */
static struct nftnl_set_elem *elem_copy(struct nftnl_set_elem *e, const uint16_t *attrs, size_t n)
{
	struct nftnl_set_elem *k = nftnl_set_elem_alloc();

	for (size_t i = 0; k && i < n; i++) {
		uint32_t len;
		const void *data;

		if (!nftnl_set_elem_is_set(e, attrs[i]))
			continue;
		data = nftnl_set_elem_get(e, attrs[i], &len);
		if (nftnl_set_elem_set(k, attrs[i], data, len) < 0) {
			nftnl_set_elem_free(k);
			return NULL;
		}
	}
	return k;
}

/* A delete names the element by its key alone. */
static struct nftnl_set_elem *elem_key_only(struct nftnl_set_elem *e)
{
	static const uint16_t attrs[] = { NFTNL_SET_ELEM_KEY, NFTNL_SET_ELEM_KEY_END,
					  NFTNL_SET_ELEM_FLAGS };

	return elem_copy(e, attrs, ARRAY_SIZE(attrs));
}

/* e with a counter that starts at the given values (the kernel takes an
 * element's counter from the message when there is one). */
static struct nftnl_set_elem *elem_counted(struct nftnl_set_elem *e, uint64_t packets,
					   uint64_t bytes)
{
	static const uint16_t attrs[] = { NFTNL_SET_ELEM_KEY,	  NFTNL_SET_ELEM_KEY_END,
					  NFTNL_SET_ELEM_FLAGS,	  NFTNL_SET_ELEM_VERDICT,
					  NFTNL_SET_ELEM_CHAIN,	  NFTNL_SET_ELEM_DATA,
					  NFTNL_SET_ELEM_USERDATA, NFTNL_SET_ELEM_OBJREF,
					  NFTNL_SET_ELEM_TIMEOUT };
	struct nftnl_set_elem *k = elem_copy(e, attrs, ARRAY_SIZE(attrs));
	struct nftnl_expr *ctr = k ? nftnl_expr_alloc("counter") : NULL;

	if (!ctr) {
		if (k)
			nftnl_set_elem_free(k);
		return NULL;
	}
	nftnl_expr_set_u64(ctr, NFTNL_EXPR_CTR_PACKETS, packets);
	nftnl_expr_set_u64(ctr, NFTNL_EXPR_CTR_BYTES, bytes);
	nftnl_set_elem_add_expr(k, ctr);
	return k;
}

static int elem_msgs_put(struct elem_msgs *m, struct nftnl_set_elem *e)
{
	struct nftnl_set_elem *k = NULL;
	int r = 0;

	if (m->nlh && (size_t)((char *)mnl_nlmsg_get_payload_tail(m->nlh) - (char *)m->nest) >
			      ELEMS_MSG_MAX)
		r = elem_msgs_flush(m);
	if (r >= 0 && !m->nlh)
		r = elem_msgs_start(m);
	if (r < 0)
		return r;
	if (m->type == NFT_MSG_DELSETELEM) {
		k = elem_key_only(e);
		if (!k)
			return -ENOMEM;
		e = k;
	}
	nftnl_set_elem_nlmsg_build(m->nlh, e, ++m->i);
	if (k)
		nftnl_set_elem_free(k);
	return 0;
}

/* An element to add; old: the one of the same key and content it takes
 * the place of, only its comment changed (FILE:LINE renumbered). */
struct elem_add {
	const struct elem_ref *ref, *old;
};

struct elem_counter {
	bool found;
	uint64_t packets, bytes;
};

static int elem_counter_cb(struct nftnl_expr *e, void *data)
{
	struct elem_counter *c = data;

	if (!c->found && streq(nftnl_expr_get_str(e, NFTNL_EXPR_NAME), "counter")) {
		c->found = true;
		c->packets = nftnl_expr_get_u64(e, NFTNL_EXPR_CTR_PACKETS);
		c->bytes = nftnl_expr_get_u64(e, NFTNL_EXPR_CTR_BYTES);
	}
	return 0;
}

/* --- counters carried from elements that go to like ones that come --- */

/* The length of an entry's name part at p ('_' and what follows), else
 * 0: digits (by its place), or a kind letter and 16 hex digits with
 * perhaps 'd' and digits (by what it is named by, pc_plan_entry_base). */
static size_t entry_part(const char *p)
{
	size_t n = 1;

	if (*p != '_')
		return 0;
	if (p[1] == 'p' || p[1] == 'a' || p[1] == 'r' || p[1] == 'c') {
		for (n = 2; n < 18 && isxdigit((unsigned char)p[n]); n++)
			;
		if (n < 18)
			return 0;
		if (p[n] == 'd' && isdigit((unsigned char)p[n + 1]))
			for (n++; isdigit((unsigned char)p[n]); n++)
				;
	} else {
		while (isdigit((unsigned char)p[n]))
			n++;
		if (n == 1)
			return 0;
	}
	return p[n] == '_' || !p[n] ? n - 1 : 0;
}

/* A run's verdict word that ends name ("_accept", "_drop", "_reject" after
 * "_ports", "_src4_ranges" and the like): its index, -1 if none. A run's
 * accepted and dropped ports or addresses were one verdict map ("_ports",
 * "_src4_ranges") before each verdict had a set: they have one shape, so
 * that an upgrade carries the elements' counters (their keys are
 * disjoint). */
static const char *const verdict_words[] = { "_accept", "_drop", "_reject" };

static int run_verdict_at_end(const char *name, size_t len)
{
	static const char *const runs[] = { "_ports", "_ranges", "_src4", "_src6", "_dst4", "_dst6" };

	for (size_t w = 0; w < ARRAY_SIZE(verdict_words); w++) {
		size_t n = strlen(verdict_words[w]);

		if (len < n || strcmp(name + len - n, verdict_words[w]) != 0)
			continue;
		for (size_t k = 0; k < ARRAY_SIZE(runs); k++) {
			size_t m = strlen(runs[k]);

			if (len - n >= m && !strncmp(name + len - n - m, runs[k], m))
				return (int)w;
		}
	}
	return -1;
}

/* The verdict a run's set says by its name for its elements ("accept",
 * "drop", "reject"), NULL if it is no such set. */
static const char *run_verdict_word(const char *name)
{
	int w = run_verdict_at_end(name, strlen(name));

	return w < 0 ? NULL : verdict_words[w] + 1;
}

void name_shape(const char *name, struct pc_strbuf *out)
{
	size_t len = strlen(name);
	int w = run_verdict_at_end(name, len);
	const char *end = name + len - (w < 0 ? 0 : strlen(verdict_words[w]));

	out->len = 0;
	for (const char *p = name; p < end;) {
		size_t digits = entry_part(p);

		if (digits) {
			pc_strbuf_append(out, "_#", 2);
			p += 1 + digits;
		} else {
			pc_strbuf_append(out, p++, 1);
		}
	}
	pc_strbuf_append(out, "", 0); /* an empty name is a string too */
}

static bool elem_attr_same(struct nftnl_set_elem *a, struct nftnl_set_elem *b, uint16_t attr)
{
	bool sa = nftnl_set_elem_is_set(a, attr), sb = nftnl_set_elem_is_set(b, attr);
	uint32_t la = 0, lb = 0;
	const void *da, *db;

	if (sa != sb)
		return false;
	if (!sa)
		return true;
	da = nftnl_set_elem_get(a, attr, &la);
	db = nftnl_set_elem_get(b, attr, &lb);
	return la == lb && (!la || !memcmp(da, db, la));
}

/* The same verdict or data: the kernel's element (with its own counter
 * expression) and the compiled one (counted by its set's). */
static bool elem_does_same(struct nftnl_set_elem *a, struct nftnl_set_elem *b)
{
	return elem_attr_same(a, b, NFTNL_SET_ELEM_VERDICT) &&
	       elem_attr_same(a, b, NFTNL_SET_ELEM_CHAIN) && elem_attr_same(a, b, NFTNL_SET_ELEM_DATA);
}

/* An element's verdict in words: its own, else what its set's name says
 * (word, run_verdict_word); NULL for any other (a jump to a zone). */
static const char *elem_verdict_word(struct nftnl_set_elem *e, const char *word)
{
	if (!nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_VERDICT))
		return word;
	switch ((int)nftnl_set_elem_get_u32(e, NFTNL_SET_ELEM_VERDICT)) {
	case NF_ACCEPT:
		return "accept";
	case NF_DROP:
		return "drop";
	case NFT_JUMP: /* compile's REJECT_CHAIN */
		if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_CHAIN) &&
		    streq(nftnl_set_elem_get_str(e, NFTNL_SET_ELEM_CHAIN), "do_reject"))
			return "reject";
		break;
	}
	return NULL;
}

/* elem_does_same for a kernel element a of a set whose name says aword and
 * b of one that says bword: a verdict map's element and one of a set per
 * verdict (before and after an upgrade) do the same when the verdicts do. */
static bool elem_does_same_as(struct nftnl_set_elem *a, const char *aword,
			      struct nftnl_set_elem *b, const char *bword)
{
	const char *va = elem_verdict_word(a, aword), *vb = elem_verdict_word(b, bword);

	if (!va && !vb)
		return elem_does_same(a, b);
	return va && vb && streq(va, vb) && elem_attr_same(a, b, NFTNL_SET_ELEM_DATA);
}

/* The keys an element covers: [KEY, KEY_END], or its key alone. An
 * element of an interval set (ends apart) tells nothing on its own. */
static bool elem_span(struct nftnl_set_elem *e, const void **lo, const void **hi, uint32_t *len)
{
	uint32_t l2 = 0;

	if (!nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_KEY) ||
	    (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_FLAGS) &&
	     nftnl_set_elem_get_u32(e, NFTNL_SET_ELEM_FLAGS)))
		return false;
	*lo = nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY, len);
	*hi = nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_KEY_END)
		      ? nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY_END, &l2)
		      : *lo;
	return !l2 || l2 == *len;
}

/* An element of a range of keys ([KEY, KEY_END]): the only kind that
 * comes in pieces; one of a single key is found by its key. */
static bool elem_is_range(struct nftnl_set_elem *e)
{
	return nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_KEY_END);
}

static bool elems_overlap(struct nftnl_set_elem *a, struct nftnl_set_elem *b)
{
	const void *alo, *ahi, *blo, *bhi;
	uint32_t la, lb;

	return elem_span(a, &alo, &ahi, &la) && elem_span(b, &blo, &bhi, &lb) && la == lb &&
	       memcmp(alo, bhi, la) <= 0 && memcmp(blo, ahi, la) <= 0;
}

static struct carry_set *carry_set_find(struct elem_carry *c, const char *shape, size_t *from)
{
	for (; *from < c->n; (*from)++)
		if (streq(c->v[*from].shape, shape))
			return &c->v[(*from)++];
	return NULL;
}

static int elem_lists_load(struct elem_list *n, struct elem_list *o, struct nftnl_set *news,
			   struct nftnl_set *olds);

static int set_elem_get_cb(const struct nlmsghdr *nlh, void *data)
{
	return nftnl_set_elems_nlmsg_parse(nlh, data) < 0 ? MNL_CB_ERROR : MNL_CB_OK;
}

/* The kernel's elements of olds with the keys of v[0..n), into into: one
 * request for them all; one the kernel lacks (drift) ends it, then one at
 * a time. */
static int elems_get(struct pc_nl *nl, struct nftnl_set *olds, const struct elem_ref *const *v,
		     size_t n, struct nftnl_set *into)
{
	_cleanup_free_ char *buf = malloc(64 * 1024);
	struct nftnl_set *q = nftnl_set_alloc();
	struct nlmsghdr *nlh;
	size_t asked = 0;
	int r = buf && q ? 0 : -ENOMEM;

	if (r >= 0) {
		nftnl_set_set_str(q, NFTNL_SET_TABLE, nftnl_set_get_str(olds, NFTNL_SET_TABLE));
		nftnl_set_set_str(q, NFTNL_SET_NAME, nftnl_set_get_str(olds, NFTNL_SET_NAME));
		nftnl_set_set_u32(q, NFTNL_SET_FAMILY, nftnl_set_get_u32(olds, NFTNL_SET_FAMILY));
	}
	for (size_t i = 0; r >= 0 && i < n; i++) {
		struct nftnl_set_elem *k;

		if (elem_is_end(v[i]->e)) /* an interval's end counts nothing */
			continue;
		k = elem_key_only(v[i]->e);
		if (!k)
			r = -ENOMEM;
		else
			nftnl_set_elem_add(q, k);
		asked++;
	}
	if (r >= 0 && asked) {
		nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETSETELEM,
					    (uint16_t)nftnl_set_get_u32(olds, NFTNL_SET_FAMILY),
					    NLM_F_ACK, nl_next_seq(nl, 1));
		nftnl_set_elems_nlmsg_build_payload(nlh, q);
		r = nl_query(nl, buf, nlh, set_elem_get_cb, into);
	}
	if (r == -ENOENT && n > 1) {
		r = 0;
		for (size_t i = 0; r >= 0 && i < n; i++)
			r = elems_get(nl, olds, &v[i], 1, into);
	}
	if (q)
		nftnl_set_free(q);
	return r == -ENOENT ? 0 : r;
}

/* The same for any number of them, in chunks that fit a message. */
static int elems_get_all(struct pc_nl *nl, struct nftnl_set *olds, const struct elem_ref *const *v,
			 size_t n, struct nftnl_set *into)
{
	int r = 0;

	for (size_t k = 0; r >= 0 && k < n; k += 128)
		r = elems_get(nl, olds, &v[k], n - k < 128 ? n - k : 128, into);
	/* A read the kernel refuses costs those counters, not the change. */
	return r == -ENOMEM ? r : 0;
}

/* What the kernel counted for the elements of olds that leave it: all of
 * them, or those stays (the set of that name after the change) lacks or
 * holds otherwise, asked for by key a chunk at a time. */
static int elems_leaving_read(struct pc_nl *nl, struct nftnl_set *olds, struct nftnl_set *stays,
			      struct nftnl_set *into)
{
	struct elem_list n = { 0 }, o = { 0 };
	struct elem_ref **leaving = NULL;
	size_t n_leaving = 0, cap = 0;
	int r;

	if (!stays)
		return set_elems_dump(nl, olds, into);
	r = elem_lists_load(&n, &o, stays, olds);
	for (size_t i = 0, j = 0; r >= 0 && j < o.n; j++) {
		struct elem_ref **slot;

		while (i < n.n && strbuf_cmp(&n.items[i].id, &o.items[j].id) < 0)
			i++;
		if (i < n.n && !strbuf_cmp(&n.items[i].id, &o.items[j].id) &&
		    !strbuf_cmp(&n.items[i].content, &o.items[j].content))
			continue;
		slot = PC_ARRAY_PUSH(leaving, n_leaving, cap);
		if (!slot)
			r = -ENOMEM;
		else
			*slot = &o.items[j];
	}
	if (r >= 0)
		r = elems_get_all(nl, olds, (const struct elem_ref *const *)leaving, n_leaving, into);
	free(leaving);
	elem_list_free(&n);
	elem_list_free(&o);
	return r;
}

int elem_carry_load(struct pc_nl *nl, struct elem_carry *c, struct nftnl_set *olds,
		    struct nftnl_set *stays)
{
	struct pc_strbuf shape = { 0 };
	struct carry_set *cs = PC_ARRAY_PUSH(c->v, c->n, c->cap);
	int r;

	if (!cs)
		return -ENOMEM;
	*cs = (struct carry_set){ 0 };
	name_shape(nftnl_set_get_str(olds, NFTNL_SET_NAME), &shape);
	cs->shape = shape.buf;
	cs->verdict = run_verdict_word(nftnl_set_get_str(olds, NFTNL_SET_NAME));
	cs->kset = nftnl_set_alloc();
	if (!cs->shape || !cs->kset)
		return -ENOMEM;
	/* As rule counters (delta.c): a dump cut short is read on. */
	nl->dump_intr_read = true;
	r = elems_leaving_read(nl, olds, stays, cs->kset);
	nl->dump_intr_read = false;
	/* A read the kernel refuses costs those counters, not the change. */
	if (r < 0 && r != -ENOMEM)
		r = 0;
	return r < 0 ? r : elem_list_load(&cs->elems, cs->kset);
}

int elem_carry_load_elems(struct pc_nl *nl, struct elem_carry *c, struct nftnl_set *dels)
{
	struct pc_strbuf shape = { 0 };
	struct elem_list l = { 0 };
	const struct elem_ref **v = NULL;
	struct carry_set *cs = PC_ARRAY_PUSH(c->v, c->n, c->cap);
	int r;

	if (!cs)
		return -ENOMEM;
	*cs = (struct carry_set){ 0 };
	name_shape(nftnl_set_get_str(dels, NFTNL_SET_NAME), &shape);
	cs->shape = shape.buf;
	cs->verdict = run_verdict_word(nftnl_set_get_str(dels, NFTNL_SET_NAME));
	cs->kset = nftnl_set_alloc();
	r = cs->shape && cs->kset ? elem_list_load(&l, dels) : -ENOMEM;
	if (r >= 0 && l.n && !(v = calloc(l.n, sizeof(*v))))
		r = -ENOMEM;
	for (size_t i = 0; r >= 0 && i < l.n; i++)
		v[i] = &l.items[i];
	if (r >= 0)
		r = elems_get_all(nl, dels, v, l.n, cs->kset);
	if (r >= 0)
		r = elem_list_load(&cs->elems, cs->kset);
	free(v);
	elem_list_free(&l);
	return r;
}

void elem_carry_free(struct elem_carry *c)
{
	for (size_t i = 0; i < c->n; i++) {
		free(c->v[i].shape);
		elem_list_free(&c->v[i].elems);
		if (c->v[i].kset)
			nftnl_set_free(c->v[i].kset);
	}
	free(c->v);
	free(c->rules);
	*c = (struct elem_carry){ 0 };
}

/* A set of a run's, of addresses (in_public_a3_src4_accept,
 * ..._dst6_ranges_drop) or of ports (..._ports_accept, ..._ranges_drop):
 * what a rule of its own that joins such a run, or leaves it, counted goes
 * with it by its comment, and so does what the rules of a small run made
 * rule by rule (small_runs_by_rule) counted when it grows into sets, or
 * back -- not any element's of that comment (a line that another rule
 * took). A shape (name_shape) ends before the verdict: "..._ports". */
bool run_set_name(const char *name)
{
	return strstr(name, "_src4") || strstr(name, "_src6") || strstr(name, "_dst4") ||
	       strstr(name, "_dst6") || strstr(name, "_ports") || strstr(name, "_ranges");
}

static bool run_set_takes_rules(const char *name)
{
	return run_verdict_word(name) && run_set_name(name);
}

/* The data a rule's expressions compare with, in 4-byte words (as the
 * registers hold them): a cmp's, a range's bounds. */
struct rule_words {
	uint32_t w[64];
	size_t n;
};

static void words_put(struct rule_words *rw, const void *data, uint32_t len)
{
	for (uint32_t at = 0; data && at < len && rw->n < ARRAY_SIZE(rw->w); at += 4) {
		uint32_t w = 0;

		memcpy(&w, (const uint8_t *)data + at, len - at < 4 ? len - at : 4);
		rw->w[rw->n++] = w;
	}
}

static void words_put_attr(struct rule_words *rw, struct nftnl_expr *e, uint16_t attr)
{
	uint32_t len = 0;
	const void *data = nftnl_expr_get(e, attr, &len);

	words_put(rw, data, len);
}

static int rule_words_cb(struct nftnl_expr *e, void *data)
{
	const char *name = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);

	if (streq(name, "cmp")) {
		words_put_attr(data, e, NFTNL_EXPR_CMP_DATA);
	} else if (streq(name, "range")) {
		words_put_attr(data, e, NFTNL_EXPR_RANGE_FROM_DATA);
		words_put_attr(data, e, NFTNL_EXPR_RANGE_TO_DATA);
	}
	return 0;
}

/* Does rule match what element e says, for the carry of a counter between
 * them? Each word of e's key (a protocol, a port, an address's words) is
 * among the data rule compares with, in any order: two rules of one
 * comment differ there. */
static bool rule_holds_key(struct nftnl_rule *rule, struct nftnl_set_elem *e)
{
	struct rule_words rw = { .n = 0 };
	uint32_t len = 0;
	const void *key = nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY, &len);

	if (!rule || !key || len % 4)
		return false;
	nftnl_expr_foreach(rule, rule_words_cb, &rw);
	for (uint32_t at = 0; at < len; at += 4) {
		uint32_t w;
		size_t i = 0;

		memcpy(&w, (const uint8_t *)key + at, 4);
		while (i < rw.n && rw.w[i] != w)
			i++;
		if (i == rw.n)
			return false;
	}
	return true;
}

/* The counters of the rules that go under ref's comment, taken: those
 * whose matches hold ref's key (rules of one comment each to its own
 * element), else all of that comment. 1, or 0: none counted. */
static int elem_carry_take_rules(struct elem_carry *c, const struct elem_ref *ref,
				 struct elem_counter *ctr)
{
	bool by_key = false;

	for (size_t i = 0; ref->udata_len && i < c->n_rules && !by_key; i++) {
		struct carry_rule *cr = &c->rules[i];

		by_key = !cr->taken && cr->len == ref->udata_len &&
			 !memcmp(cr->udata, ref->udata, cr->len) && rule_holds_key(cr->rule, ref->e);
	}
	*ctr = (struct elem_counter){ 0 };
	for (size_t i = 0; ref->udata_len && i < c->n_rules; i++) {
		struct carry_rule *cr = &c->rules[i];
		uint64_t packets = 0, bytes = 0;
		int r;

		if (cr->taken || cr->len != ref->udata_len || memcmp(cr->udata, ref->udata, cr->len) ||
		    (by_key && !rule_holds_key(cr->rule, ref->e)))
			continue;
		cr->taken = true;
		r = c->rule_ctr(c->ctx, cr->chain, cr->handle, &packets, &bytes);
		if (r < 0)
			return r;
		ctr->found = true;
		ctr->packets += packets;
		ctr->bytes += bytes;
	}
	return ctr->found && ctr->packets ? 1 : 0;
}

/* The counter an element of set may carry over from a set's element,
 * taken: 1, or 0: none. */
static int elem_carry_take_sets(struct elem_carry *c, const char *set,
				const struct elem_ref *ref, struct elem_counter *ctr)
{
	const char *word = run_verdict_word(set);
	struct pc_strbuf shape = { 0 };
	struct carry_set *cs;
	size_t from = 0;

	if (!c || !c->n)
		return 0;
	name_shape(set, &shape);
	if (!shape.buf)
		return -ENOMEM;
	while ((cs = carry_set_find(c, shape.buf, &from))) {
		struct elem_ref *k = elem_list_find(&cs->elems, ref);

		if (!k || k->taken || !elem_does_same_as(k->e, cs->verdict, ref->e, word))
			continue;
		*ctr = (struct elem_counter){ 0 };
		nftnl_set_elem_expr_foreach(k->e, elem_counter_cb, ctr);
		k->taken = true;
		break;
	}
	if (cs || !elem_is_range(ref->e)) {
		pc_strbuf_free(&shape);
		return cs && ctr->found && ctr->packets ? 1 : 0;
	}
	/* A range no set had: the pieces of one cut or made one on the way
	 * (their sum), within a bounded number of looks. */
	*ctr = (struct elem_counter){ 0 };
	for (from = 0; (cs = carry_set_find(c, shape.buf, &from)) && cs->elems.n <= c->looks_left;) {
		c->looks_left -= cs->elems.n;
		for (size_t i = 0; i < cs->elems.n; i++) {
			struct elem_ref *k = &cs->elems.items[i];
			struct elem_counter one = { 0 };

			if (k->taken || !elem_does_same_as(k->e, cs->verdict, ref->e, word) ||
			    !elems_overlap(k->e, ref->e))
				continue;
			k->taken = true;
			nftnl_set_elem_expr_foreach(k->e, elem_counter_cb, &one);
			ctr->found |= one.found;
			ctr->packets += one.packets;
			ctr->bytes += one.bytes;
		}
	}
	pc_strbuf_free(&shape);
	return ctr->found && ctr->packets ? 1 : 0;
}

/* The counter an element of set may carry over, taken: 1, or 0: none. */
static int elem_carry_take(struct elem_carry *c, const char *set, const struct elem_ref *ref,
			   struct elem_counter *ctr)
{
	int r = c ? elem_carry_take_sets(c, set, ref, ctr) : 0;

	return r == 0 && c && c->n_rules && run_set_takes_rules(set) ? elem_carry_take_rules(c, ref, ctr)
							       : r;
}

/* Is k an element of comment udata, and, when by_key, one whose key rule
 * holds? */
static bool elem_of_comment(const struct elem_ref *k, const void *udata, uint32_t len,
			    struct nftnl_rule *rule, bool by_key)
{
	return !k->taken && k->udata_len == len && !memcmp(k->udata, udata, len) &&
	       (!by_key || rule_holds_key(rule, k->e));
}

int elem_carry_take_comment(struct elem_carry *c, struct nftnl_rule *rule, const void *udata,
			    uint32_t len, uint64_t *packets, uint64_t *bytes)
{
	bool by_key = false;

	/* Those whose key rule holds (rules of one comment each with its
	 * own elements), else every element of the comment. */
	for (size_t i = 0; len && i < c->n && !by_key; i++)
		for (size_t j = 0; c->v[i].verdict && run_set_name(c->v[i].shape) &&
				   j < c->v[i].elems.n && !by_key;
		     j++)
			by_key = elem_of_comment(&c->v[i].elems.items[j], udata, len, rule, true);
	*packets = *bytes = 0;
	for (size_t i = 0; len && i < c->n; i++)
		for (size_t j = 0; c->v[i].verdict && run_set_name(c->v[i].shape) &&
				   j < c->v[i].elems.n;
		     j++) {
			struct elem_ref *k = &c->v[i].elems.items[j];
			struct elem_counter one = { 0 };

			if (!elem_of_comment(k, udata, len, rule, by_key))
				continue;
			k->taken = true;
			nftnl_set_elem_expr_foreach(k->e, elem_counter_cb, &one);
			*packets += one.packets;
			*bytes += one.bytes;
		}
	return *packets ? 1 : 0;
}

/* e, or e with the counter carried to it. */
static int elem_put_carried(struct elem_msgs *m, struct elem_carry *c, struct nftnl_set_elem *e,
			    const struct elem_ref *ref)
{
	struct elem_counter ctr;
	struct nftnl_set_elem *k;
	int r = elem_carry_take(c, nftnl_set_get_str(m->set, NFTNL_SET_NAME), ref, &ctr);

	if (r <= 0)
		return r < 0 ? r : elem_msgs_put(m, e);
	k = elem_counted(e, ctr.packets, ctr.bytes);
	if (!k)
		return -ENOMEM;
	r = elem_msgs_put(m, k);
	nftnl_set_elem_free(k);
	return r;
}

struct carried_put {
	struct elem_msgs m;
	struct elem_carry *c;
	int err;
};

static int elem_put_carried_cb(struct nftnl_set_elem *e, void *data)
{
	struct carried_put *p = data;
	struct elem_ref ref = { 0 };

	p->err = elem_ref_fill(&ref, e);
	if (p->err >= 0)
		p->err = elem_put_carried(&p->m, p->c, e, &ref);
	pc_strbuf_free(&ref.id);
	pc_strbuf_free(&ref.content);
	return p->err < 0 ? -1 : 0;
}

int diff_build_set_elems_carried(struct batch *b, struct nftnl_set *s, ssize_t obj,
				 struct elem_carry *c)
{
	struct carried_put p = { .m = { .b = b, .set = s, .obj = obj, .type = NFT_MSG_NEWSETELEM },
				 .c = c };

	if (nftnl_set_elem_foreach(s, elem_put_carried_cb, &p) < 0)
		return p.err < 0 ? p.err : -ENOMEM;
	return elem_msgs_flush(&p.m);
}

int put_set_carried(struct batch *b, struct nftnl_set *s, ssize_t obj, struct elem_carry *c)
{
	int r;

	if (!c || (!c->n && !c->n_rules))
		return put_set(b, s, obj);
	r = put_set_head(b, s, obj);
	return r < 0 ? r : diff_build_set_elems_carried(b, s, obj, c);
}

/* The old elements of a set whose key is gone: pieces of them may come
 * back under other keys (a range another rule cuts in two, or pieces made
 * one again), and their counters with them. */
struct pieces {
	struct elem_ref **v;
	size_t n, cap;
};

static int pieces_gone(const struct elem_list *n, const struct elem_list *o, struct pieces *gone)
{
	for (size_t i = 0, j = 0; j < o->n; j++) {
		struct elem_ref **slot;

		while (i < n->n && strbuf_cmp(&n->items[i].id, &o->items[j].id) < 0)
			i++;
		if (o->items[j].lapsed || !elem_is_range(o->items[j].e) ||
		    (i < n->n && !strbuf_cmp(&n->items[i].id, &o->items[j].id)))
			continue;
		slot = PC_ARRAY_PUSH(gone->v, gone->n, gone->cap);
		if (!slot)
			return -ENOMEM;
		*slot = &o->items[j];
	}
	return 0;
}

static bool pieces_any(const struct pieces *gone, struct nftnl_set_elem *e)
{
	for (size_t g = 0; elem_is_range(e) && g < gone->n; g++)
		if (!gone->v[g]->taken && elem_does_same(gone->v[g]->e, e) &&
		    elems_overlap(gone->v[g]->e, e))
			return true;
	return false;
}

/* The counters of the gone pieces that e overlaps and does the same as,
 * not yet given: their sum, each given once. */
static void pieces_take(struct pieces *gone, const struct elem_list *kernel,
			struct nftnl_set_elem *e, struct elem_counter *sum)
{
	for (size_t g = 0; g < gone->n; g++) {
		struct elem_counter c = { 0 };
		const struct elem_ref *ke;

		if (gone->v[g]->taken || !elem_does_same(gone->v[g]->e, e) ||
		    !elems_overlap(gone->v[g]->e, e))
			continue;
		gone->v[g]->taken = true;
		ke = elem_list_find(kernel, gone->v[g]);
		if (ke)
			nftnl_set_elem_expr_foreach(ke->e, elem_counter_cb, &c);
		if (!c.found)
			continue;
		sum->found = true;
		sum->packets += c.packets;
		sum->bytes += c.bytes;
	}
}

/* The kernel's elements whose counters the adds may take: the ones they
 * replace under the same key, and the gone pieces (NULL: none). */
static int elems_asked_read(struct pc_nl *nl, struct nftnl_set *olds, const struct elem_add *adds,
			    size_t n_adds, const struct pieces *gone, struct nftnl_set *into)
{
	const struct elem_ref **v = NULL;
	size_t n = 0, cap = 0;
	int r = 0;

	for (size_t k = 0; r >= 0 && k < n_adds; k++) {
		const struct elem_ref **slot;

		if (!adds[k].old)
			continue;
		slot = PC_ARRAY_PUSH(v, n, cap);
		if (!slot)
			r = -ENOMEM;
		else
			*slot = adds[k].old;
	}
	for (size_t g = 0; r >= 0 && gone && g < gone->n; g++) {
		const struct elem_ref **slot = PC_ARRAY_PUSH(v, n, cap);

		if (!slot)
			r = -ENOMEM;
		else
			*slot = gone->v[g];
	}
	if (r >= 0)
		r = elems_get_all(nl, olds, v, n, into);
	free(v);
	return r;
}

/* Add the elements; a renumbered one with the counter the kernel has for
 * it, read once for the set (kernel: the dump, NULL until needed); one
 * that covers gone pieces with the sum of theirs; a new one with a
 * counter carried from a set that lost it. */
static int elems_add(struct pc_nl *nl, struct elem_msgs *add, struct nftnl_set *olds,
		     const struct elem_add *adds, size_t n_adds, struct pieces *gone,
		     struct elem_carry *carry)
{
	struct nftnl_set *kset = NULL;
	struct elem_list kernel = { 0 };
	/* Pieces are looked for among a bounded number of pairs. */
	bool pieces = nl && gone->n && n_adds <= (1u << 20) / gone->n;
	int r = 0;

	for (size_t k = 0; r >= 0 && k < n_adds; k++) {
		struct elem_counter c = { 0 };
		struct nftnl_set_elem *e;
		const struct elem_ref *ke;

		if (!nl || (!adds[k].old && !(pieces && pieces_any(gone, adds[k].ref->e)))) {
			r = elem_put_carried(add, carry, adds[k].ref->e, adds[k].ref);
			continue;
		}
		if (!kset) {
			kset = nftnl_set_alloc();
			r = kset ? elems_asked_read(nl, olds, adds, n_adds, pieces ? gone : NULL, kset)
				 : -ENOMEM;
			if (r >= 0)
				r = elem_list_load(&kernel, kset);
			if (r < 0)
				break;
		}
		if (adds[k].old) {
			ke = elem_list_find(&kernel, adds[k].old);
			if (ke)
				nftnl_set_elem_expr_foreach(ke->e, elem_counter_cb, &c);
		} else {
			pieces_take(gone, &kernel, adds[k].ref->e, &c);
		}
		if (!c.found) {
			r = elem_put_carried(add, carry, adds[k].ref->e, adds[k].ref);
			continue;
		}
		e = elem_counted(adds[k].ref->e, c.packets, c.bytes);
		if (!e) {
			r = -ENOMEM;
			break;
		}
		r = elem_msgs_put(add, e);
		nftnl_set_elem_free(e);
	}
	elem_list_free(&kernel);
	if (kset)
		nftnl_set_free(kset);
	return r;
}

static bool udata_equal(const struct elem_ref *a, const struct elem_ref *b)
{
	return a->udata_len == b->udata_len &&
	       (!a->udata_len || !memcmp(a->udata, b->udata, a->udata_len));
}

/* A set's elements in the order the compiler made them. */
struct elem_vec {
	struct nftnl_set_elem **v;
	size_t n, cap;
};

static int elem_vec_push_cb(struct nftnl_set_elem *e, void *data)
{
	struct elem_vec *ev = data;
	struct nftnl_set_elem **slot = PC_ARRAY_PUSH(ev->v, ev->n, ev->cap);

	if (!slot)
		return -1;
	*slot = e;
	return 0;
}

struct expr_kinds {
	char buf[64];
	size_t len;
};

static int expr_kind_cb(struct nftnl_expr *e, void *data)
{
	struct expr_kinds *k = data;
	const char *name = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);
	size_t n = strlen(name) + 1;

	if (k->len + n > sizeof(k->buf))
		return -1;
	memcpy(k->buf + k->len, name, n);
	k->len += n;
	return 0;
}

/* What elem_ref_fill and udata_equal compare, without building either:
 * key, flags, content, the kinds of expressions and the user data. */
static bool elem_same(struct nftnl_set_elem *a, struct nftnl_set_elem *b)
{
	static const uint16_t attrs[] = { NFTNL_SET_ELEM_KEY,	   NFTNL_SET_ELEM_KEY_END,
					  NFTNL_SET_ELEM_FLAGS,	   NFTNL_SET_ELEM_VERDICT,
					  NFTNL_SET_ELEM_CHAIN,	   NFTNL_SET_ELEM_DATA,
					  NFTNL_SET_ELEM_OBJREF,   NFTNL_SET_ELEM_USERDATA };
	struct expr_kinds ka = { .len = 0 }, kb = { .len = 0 };

	for (size_t i = 0; i < ARRAY_SIZE(attrs); i++)
		if (!elem_attr_same(a, b, attrs[i]))
			return false;
	if (nftnl_set_elem_expr_foreach(a, expr_kind_cb, &ka) < 0 ||
	    nftnl_set_elem_expr_foreach(b, expr_kind_cb, &kb) < 0)
		return false;
	return ka.len == kb.len && !memcmp(ka.buf, kb.buf, ka.len);
}

static int elem_list_load_range(struct elem_list *l, struct nftnl_set_elem **v,
				const bool *lapsed, size_t from, size_t to)
{
	for (size_t k = from; k < to; k++) {
		struct elem_ref *ref = PC_ARRAY_PUSH(l->items, l->n, l->cap);

		if (!ref || elem_ref_fill(ref, v[k]) < 0)
			return -ENOMEM;
		ref->lapsed = lapsed && lapsed[k];
	}
	if (l->n)
		qsort(l->items, l->n, sizeof(*l->items), elem_ref_cmp);
	return 0;
}

/* Both sets as sorted lists of what differs between them: the elements
 * both have the same at the head and at the tail of the compiler's order
 * are left out, so that one element more or less in a set of 10,000
 * costs comparing them, not sorting and copying them. A lapsed element is
 * never left out (it must be added again). */
static int elem_lists_load(struct elem_list *n, struct elem_list *o, struct nftnl_set *news,
			   struct nftnl_set *olds)
{
	struct elem_vec nv = { 0 }, ov = { 0 };
	_cleanup_free_ bool *lapsed = NULL;
	size_t head = 0, tail = 0;
	int r = 0;

	if (nftnl_set_elem_foreach(news, elem_vec_push_cb, &nv) < 0 ||
	    nftnl_set_elem_foreach(olds, elem_vec_push_cb, &ov) < 0)
		r = -ENOMEM;
	if (r >= 0 && o->lapse.clock_ms && ov.n) {
		lapsed = malloc(ov.n * sizeof(*lapsed));
		if (!lapsed)
			r = -ENOMEM;
		for (size_t k = 0; r >= 0 && k < ov.n; k++)
			lapsed[k] = elem_lapsed(&o->lapse, ov.v[k]);
	}
	while (r >= 0 && head < nv.n && head < ov.n && !(lapsed && lapsed[head]) &&
	       elem_same(nv.v[head], ov.v[head]))
		head++;
	while (r >= 0 && tail < nv.n - head && tail < ov.n - head &&
	       !(lapsed && lapsed[ov.n - 1 - tail]) &&
	       elem_same(nv.v[nv.n - 1 - tail], ov.v[ov.n - 1 - tail]))
		tail++;
	/* An rbtree set: the interval around the first and the last
	 * difference stays in view, which a new boundary may cut
	 * (intervals_cut). */
	if (set_is_rbtree(news)) {
		if (head > 0 && !elem_is_end(ov.v[head - 1]))
			head--;
		if (tail > 0 && elem_is_end(ov.v[ov.n - tail]))
			tail--;
	}
	if (r >= 0)
		r = elem_list_load_range(n, nv.v, NULL, head, nv.n - tail);
	if (r >= 0)
		r = elem_list_load_range(o, ov.v, lapsed, head, ov.n - tail);
	free(nv.v);
	free(ov.v);
	return r;
}

/* The last of o's items below key (by id): its index, or SIZE_MAX. */
static size_t elem_list_below(const struct elem_list *o, const struct elem_ref *key)
{
	size_t a = 0, b = o->n;

	while (a < b) {
		size_t m = a + (b - a) / 2;

		if (strbuf_cmp(&o->items[m].id, &key->id) < 0)
			a = m + 1;
		else
			b = m;
	}
	return a ? a - 1 : SIZE_MAX;
}

static int elem_add_cmp(const void *a, const void *b)
{
	return strbuf_cmp(&((const struct elem_add *)a)->ref->id,
			  &((const struct elem_add *)b)->ref->id);
}

/* What one set's difference does: each of o's items kept as it is,
 * deleted, or neither (lapsed: added again, not deleted); the adds. */
enum elem_fate { ELEM_NEITHER, ELEM_KEPT, ELEM_DELETED };
struct set_change {
	uint8_t *fate; /* enum elem_fate, by o's index */
	size_t n_dels;
	struct elem_add *adds;
	size_t n_adds, cap_adds;
};

static int change_add(struct set_change *ch, const struct elem_ref *now, const struct elem_ref *old)
{
	struct elem_add *slot = PC_ARRAY_PUSH(ch->adds, ch->n_adds, ch->cap_adds);

	if (!slot)
		return -ENOMEM;
	*slot = (struct elem_add){ now, old };
	return 0;
}

static void change_delete(struct set_change *ch, size_t q)
{
	ch->fate[q] = ELEM_DELETED;
	ch->n_dels++;
}

/* o's kept item q goes, and the same element of n comes again (with the
 * counter the kernel has for it: counted). */
static int elem_again(const struct elem_list *n, const struct elem_list *o, size_t q, bool counted,
		      struct set_change *ch)
{
	const struct elem_ref *now = elem_list_find(n, &o->items[q]);

	change_delete(ch, q);
	return now ? change_add(ch, now, counted ? &o->items[q] : NULL) : 0;
}

/* An rbtree interval set refuses an element that comes inside one of its
 * intervals (EEXIST): an interval that a new boundary cuts (a span split
 * in two) goes and comes again, start and end, its counter carried (its
 * start may go and come already, its comment naming a line that moved). */
static int intervals_cut(const struct elem_list *n, const struct elem_list *o,
			 struct set_change *ch)
{
	size_t was = ch->n_adds;

	for (size_t k = 0; k < was; k++) {
		size_t j = ch->adds[k].old ? SIZE_MAX : elem_list_below(o, ch->adds[k].ref);

		if (j == SIZE_MAX || elem_is_end(o->items[j].e))
			continue;
		for (size_t q = j; q <= j + 1 && q < o->n; q++)
			if (ch->fate[q] == ELEM_KEPT && elem_again(n, o, q, true, ch) < 0)
				return -ENOMEM;
	}
	return 0;
}

/* The kernel takes an rbtree interval's elements deleted as a pair, its
 * start then its end: this kernel refuses an end deleted after the start
 * of another interval (ENOENT), as a delete that joins two intervals and
 * another that shortens a third would send them in key order. An interval
 * that loses one of its elements loses both, and the one that stays is
 * added again (a start with its counter), as nft sends intervals whole. */
static int intervals_whole(const struct elem_list *n, const struct elem_list *o,
			   struct set_change *ch)
{
	for (size_t j = 0; j < o->n; j++) {
		bool end = elem_is_end(o->items[j].e);
		size_t p = end ? j - 1 : j + 1;

		if (ch->fate[j] != ELEM_DELETED || (end ? j == 0 : j + 1 == o->n) ||
		    ch->fate[p] != ELEM_KEPT || elem_is_end(o->items[p].e) == end)
			continue;
		if (elem_again(n, o, p, end, ch) < 0)
			return -ENOMEM;
	}
	return 0;
}

/* Deletes go first so that an interval replaced by a neighbouring one is
 * gone before the new one arrives, and an element whose content or comment
 * changed (its comment names FILE:LINE, and a rule above it went away; a
 * ban's names its end) is deleted and added again under the same key. An
 * old element that has lapsed is not deleted: the kernel refuses to delete
 * it (ENOENT), which would cost a full replace. Returns 1, or 0 when a full
 * replace is needed (a constant or anonymous set changed). */
int diff_set(struct pc_nl *nl, struct batch *b, struct nftnl_set *news, struct nftnl_set *olds,
	     ssize_t obj, const struct elem_lapse *lapse, struct elem_carry *carry, size_t *added,
	     size_t *deleted)
{
	struct elem_list n = { 0 }, o = { .lapse = *lapse };
	struct elem_msgs del = { .b = b, .set = olds, .obj = obj, .type = NFT_MSG_DELSETELEM };
	struct elem_msgs add = { .b = b, .set = news, .obj = obj, .type = NFT_MSG_NEWSETELEM };
	struct set_change ch = { 0 };
	struct pieces gone = { 0 };
	size_t i = 0, j = 0, was;
	uint32_t flags = nftnl_set_get_u32(news, NFTNL_SET_FLAGS);
	int r = elem_lists_load(&n, &o, news, olds);
	bool rbtree = set_is_rbtree(news);

	/* The deletes are sent in key order once all are known. */
	ch.fate = calloc(o.n + 1, sizeof(*ch.fate));
	if (r >= 0 && !ch.fate)
		r = -ENOMEM;

	while (r >= 0 && (i < n.n || j < o.n)) {
		int c = i == n.n ? 1 : j == o.n ? -1 : strbuf_cmp(&n.items[i].id, &o.items[j].id);

		if (c == 0) {
			bool same = !strbuf_cmp(&n.items[i].content, &o.items[j].content);

			if (!same || !udata_equal(&n.items[i], &o.items[j]) || o.items[j].lapsed) {
				if (!o.items[j].lapsed)
					change_delete(&ch, j);
				r = change_add(&ch, &n.items[i], same ? &o.items[j] : NULL);
			} else {
				ch.fate[j] = ELEM_KEPT;
			}
			i++, j++;
		} else if (c > 0) {
			if (!o.items[j].lapsed)
				change_delete(&ch, j);
			j++;
		} else {
			r = change_add(&ch, &n.items[i++], NULL);
		}
	}
	was = ch.n_adds;
	if (r >= 0 && rbtree && ch.n_adds)
		r = intervals_cut(&n, &o, &ch);
	if (r >= 0 && rbtree)
		r = intervals_whole(&n, &o, &ch);
	/* The adds end sorted, as nft sends them. */
	if (r >= 0 && ch.n_adds > was)
		qsort(ch.adds, ch.n_adds, sizeof(*ch.adds), elem_add_cmp);
	/* Constant and anonymous sets cannot change in place. */
	if (r >= 0 && (ch.n_adds || ch.n_dels) && (flags & (NFT_SET_CONSTANT | NFT_SET_ANONYMOUS)))
		r = -ECANCELED;
	if (r >= 0 && ch.n_adds && ch.n_dels)
		r = pieces_gone(&n, &o, &gone);
	for (size_t k = 0; r >= 0 && ch.n_dels && k < o.n; k++)
		if (ch.fate[k] == ELEM_DELETED)
			r = elem_msgs_put(&del, o.items[k].e);
	if (r >= 0)
		r = elem_msgs_flush(&del);
	if (r >= 0)
		r = elems_add(nl, &add, olds, ch.adds, ch.n_adds, &gone, carry);
	if (r >= 0)
		r = elem_msgs_flush(&add);
	*added += ch.n_adds;
	*deleted += (size_t)del.i;
	free(ch.fate);
	free(ch.adds);
	free(gone.v);
	elem_list_free(&n);
	elem_list_free(&o);
	if (r == -ECANCELED)
		return 0;
	return r < 0 ? r : 1;
}

/* -1, 0, 1 by key (big-endian bytes: memcmp is numeric order), then flags. */
static int elem_key_cmp(struct nftnl_set_elem *a, struct nftnl_set_elem *b, bool *same)
{
	uint32_t la = 0, lb = 0, fa, fb;
	const void *ka = nftnl_set_elem_get(a, NFTNL_SET_ELEM_KEY, &la);
	const void *kb = nftnl_set_elem_get(b, NFTNL_SET_ELEM_KEY, &lb);
	int c = memcmp(ka, kb, la < lb ? la : lb);

	if (c || la != lb)
		return c ? c : la < lb ? -1 : 1;
	fa = nftnl_set_elem_is_set(a, NFTNL_SET_ELEM_FLAGS)
		 ? nftnl_set_elem_get_u32(a, NFTNL_SET_ELEM_FLAGS)
		 : 0;
	fb = nftnl_set_elem_is_set(b, NFTNL_SET_ELEM_FLAGS)
		 ? nftnl_set_elem_get_u32(b, NFTNL_SET_ELEM_FLAGS)
		 : 0;
	*same = fa == fb;
	return 0;
}

/* Key order, an interval's end before a start at the same key. */
static int elem_order(const void *a, const void *b)
{
	struct nftnl_set_elem *x = *(struct nftnl_set_elem *const *)a;
	struct nftnl_set_elem *y = *(struct nftnl_set_elem *const *)b;
	bool same = true;
	int c = elem_key_cmp(x, y, &same);

	return c ? c : same ? 0 : elem_is_end(x) ? -1 : 1;
}

int diff_set_sorted(struct batch *b, struct nftnl_set *news, struct nftnl_set *olds, ssize_t obj,
		    size_t *added, size_t *deleted)
{
	struct elem_msgs del = { .b = b, .set = olds, .obj = obj, .type = NFT_MSG_DELSETELEM };
	struct elem_msgs add = { .b = b, .set = news, .obj = obj, .type = NFT_MSG_NEWSETELEM };
	struct nftnl_set_elems_iter *in = nftnl_set_elems_iter_create(news);
	struct nftnl_set_elems_iter *io = nftnl_set_elems_iter_create(olds);
	_cleanup_free_ struct nftnl_set_elem **adds = NULL;
	size_t n_adds = 0, cap_adds = 0;
	struct nftnl_set_elem *n, *o;
	int r = in && io ? 0 : -ENOMEM;
	/* An rbtree set refuses an element inside one of its intervals
	 * (EEXIST): the kept start of the interval a new one comes in (start:
	 * its old and new element), and whether its kept end must go and
	 * come again with it. */
	bool rbtree = set_is_rbtree(news), cut_end = false, cuts = false;
	struct nftnl_set_elem *start[2] = { NULL, NULL };

	n = in ? nftnl_set_elems_iter_next(in) : NULL;
	o = io ? nftnl_set_elems_iter_next(io) : NULL;
	while (r >= 0 && (n || o)) {
		bool same = true, cut;
		int c = !n ? 1 : !o ? -1 : elem_key_cmp(n, o, &same);
		struct nftnl_set_elem **slot;

		bool gone = c > 0 || !same;
		/* The kernel takes an interval's elements deleted as a pair
		 * (intervals_whole): an end that goes takes its kept start
		 * along, and a start that goes its kept end. */
		bool whole = rbtree && gone && elem_is_end(o) && start[0];

		cut = rbtree && c < 0 && start[0];
		/* Deletes first (an interval end may move to a neighbour's key). */
		if (cut || whole)
			r = elem_msgs_put(&del, start[0]);
		if (r >= 0 && gone)
			r = elem_msgs_put(&del, o);
		cut_end |= cut || (rbtree && gone && !elem_is_end(o));
		cuts |= cut || whole;
		/* The kept end of a cut interval goes and comes again too. */
		if (rbtree && c == 0 && same && cut_end && elem_is_end(o)) {
			r = elem_msgs_put(&del, o);
			same = false;
		}
		if (r >= 0 && (c < 0 || !same)) {
			slot = PC_ARRAY_PUSH(adds, n_adds, cap_adds);
			r = slot ? 0 : -ENOMEM;
			if (slot)
				*slot = n;
		}
		if (r >= 0 && (cut || whole)) {
			slot = PC_ARRAY_PUSH(adds, n_adds, cap_adds);
			r = slot ? 0 : -ENOMEM;
			if (slot)
				*slot = start[1];
			start[0] = start[1] = NULL;
		}
		if (rbtree && c >= 0) {
			bool kept = c == 0 && same && !elem_is_end(o);

			start[0] = kept ? o : NULL;
			start[1] = kept ? n : NULL;
			cut_end &= !elem_is_end(o);
		}
		if (c <= 0)
			n = nftnl_set_elems_iter_next(in);
		if (c >= 0)
			o = nftnl_set_elems_iter_next(io);
	}
	if (r >= 0 && cuts)
		qsort(adds, n_adds, sizeof(*adds), elem_order);
	if (r >= 0)
		r = elem_msgs_flush(&del);
	for (size_t i = 0; r >= 0 && i < n_adds; i++)
		r = elem_msgs_put(&add, adds[i]);
	if (r >= 0)
		r = elem_msgs_flush(&add);
	*added += n_adds;
	*deleted += (size_t)del.i;
	if (in)
		nftnl_set_elems_iter_destroy(in);
	if (io)
		nftnl_set_elems_iter_destroy(io);
	return r < 0 ? r : 1;
}

static int elem_put_cb(struct nftnl_set_elem *e, void *data)
{
	return elem_msgs_put(data, e) < 0 ? -1 : 0;
}

int diff_build_set_elems(struct batch *b, struct nftnl_set *set, ssize_t obj, bool add)
{
	struct elem_msgs m = { .b = b, .set = set, .obj = obj,
			       .type = add ? NFT_MSG_NEWSETELEM : NFT_MSG_DELSETELEM };

	if (nftnl_set_elem_foreach(set, elem_put_cb, &m) < 0)
		return -ENOMEM;
	return elem_msgs_flush(&m);
}

struct pieces_put {
	struct pc_nl *nl;
	struct elem_msgs m;
	struct pieces gone;
	struct nftnl_set *kset;
	struct elem_list kernel;
	int err;
};

static int elem_put_pieces_cb(struct nftnl_set_elem *e, void *data)
{
	struct pieces_put *p = data;
	struct elem_counter c = { 0 };
	struct nftnl_set_elem *k;

	if (!pieces_any(&p->gone, e))
		return elem_msgs_put(&p->m, e) < 0 ? -1 : 0;
	if (!p->kset) {
		p->kset = nftnl_set_alloc();
		p->err = p->kset ? elems_get_all(p->nl, p->m.set,
						 (const struct elem_ref *const *)p->gone.v, p->gone.n,
						 p->kset)
				 : -ENOMEM;
		if (p->err >= 0)
			p->err = elem_list_load(&p->kernel, p->kset);
		if (p->err < 0)
			return -1;
	}
	pieces_take(&p->gone, &p->kernel, e, &c);
	if (!c.found)
		return elem_msgs_put(&p->m, e) < 0 ? -1 : 0;
	k = elem_counted(e, c.packets, c.bytes);
	p->err = k ? elem_msgs_put(&p->m, k) : -ENOMEM;
	if (k)
		nftnl_set_elem_free(k);
	return p->err < 0 ? -1 : 0;
}

int diff_build_set_elems_pieces(struct pc_nl *nl, struct batch *b, struct nftnl_set *adds,
				struct nftnl_set *dels, ssize_t obj)
{
	struct pieces_put p = { .nl = nl,
				.m = { .b = b, .set = adds, .obj = obj, .type = NFT_MSG_NEWSETELEM } };
	struct elem_list gone = { 0 };
	int r = dels ? elem_list_load(&gone, dels) : 0;

	for (size_t i = 0; r >= 0 && i < gone.n; i++) {
		struct elem_ref **slot;

		if (!elem_is_range(gone.items[i].e))
			continue;
		slot = PC_ARRAY_PUSH(p.gone.v, p.gone.n, p.gone.cap);
		if (!slot)
			r = -ENOMEM;
		else
			*slot = &gone.items[i];
	}
	if (r >= 0 && nftnl_set_elem_foreach(adds, elem_put_pieces_cb, &p) < 0)
		r = p.err < 0 ? p.err : -ENOMEM;
	if (r >= 0)
		r = elem_msgs_flush(&p.m);
	elem_list_free(&p.kernel);
	if (p.kset)
		nftnl_set_free(p.kset);
	free(p.gone.v);
	elem_list_free(&gone);
	return r;
}

#define ELEMS_DUMP_BUF_SIZE (64 * 1024)

struct elem_dump {
	struct nftnl_set *set;
	int err;
};

static int elem_dump_cb(const struct nlmsghdr *nlh, void *data)
{
	struct elem_dump *dump = data;

	if (nftnl_set_elems_nlmsg_parse(nlh, dump->set) < 0) {
		dump->err = -EBADMSG;
		return MNL_CB_ERROR;
	}
	return MNL_CB_OK;
}

int set_elems_dump(struct pc_nl *nl, const struct nftnl_set *like, struct nftnl_set *into)
{
	_cleanup_free_ char *buf = malloc(ELEMS_DUMP_BUF_SIZE);
	struct elem_dump dump = { .set = into };
	uint32_t family = nftnl_set_get_u32(like, NFTNL_SET_FAMILY);
	struct nlmsghdr *nlh;
	int r;

	if (!buf)
		return -ENOMEM;
	nftnl_set_set_str(into, NFTNL_SET_TABLE, nftnl_set_get_str(like, NFTNL_SET_TABLE));
	nftnl_set_set_str(into, NFTNL_SET_NAME, nftnl_set_get_str(like, NFTNL_SET_NAME));
	nftnl_set_set_u32(into, NFTNL_SET_FAMILY, family);
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETSETELEM, (uint16_t)family, NLM_F_DUMP,
				    nl_next_seq(nl, 1));
	nftnl_set_elems_nlmsg_build_payload(nlh, into);
	r = nl_query(nl, buf, nlh, elem_dump_cb, &dump);
	return dump.err ? dump.err : r;
}
