/* Does the kernel still hold what we applied? Dump table inet portctl
 * (chains, sets with elements, rules) and compare each object, printed
 * without handles, positions and the state the kernel keeps by itself
 * (counters, quotas used, meters' elements, expired elements), with the
 * compiled ruleset. */
#include "config.h"
#include <assert.h>
#include <errno.h>
#include <stdio.h>
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

#define VERIFY_BUF_SIZE (64 * 1024)

/* One object as comparable text; obj indexes the ruleset, -1 for kernel ones. */
struct sig {
	char *text;
	char *chain; /* rules: their chain, for the order check */
	ssize_t obj;
	const char *what;
	/* An element of ours with a timeout: the kernel drops it when it
	 * expires, so its absence is no difference. */
	bool may_vanish;
};

struct sig_list {
	struct sig *items;
	size_t n, cap;
	int err;
};

static void sig_list_free(struct sig_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->items[i].text);
		free(l->items[i].chain);
	}
	free(l->items);
	*l = (struct sig_list){0};
}

/* Takes the strbuf's text. */
static int sig_push(struct sig_list *l, struct pc_strbuf *sb, const char *chain, ssize_t obj,
		    const char *what)
{
	struct sig *s;

	if (pc_strbuf_append(sb, "", 0) < 0)
		return -ENOMEM;
	s = PC_ARRAY_PUSH(l->items, l->n, l->cap);
	if (!s)
		return -ENOMEM;
	s->text = TAKE_PTR(sb->buf);
	*sb = (struct pc_strbuf){0};
	s->chain = chain ? strdup(chain) : NULL;
	s->obj = obj;
	s->what = what;
	return chain && !s->chain ? -ENOMEM : 0;
}

static int hex_append(struct pc_strbuf *sb, const void *data, uint32_t len)
{
	const uint8_t *p = data;
	int r = 0;

	for (uint32_t i = 0; r >= 0 && i < len; i++)
		r = pc_strbuf_printf(sb, "%02x", p[i]);
	return r;
}

/* Remove the first needle from s, keeping keep of its bytes (a separator). */
static void str_remove(char *s, const char *needle, size_t keep)
{
	char *p = strstr(s, needle);
	size_t n = strlen(needle) - keep;

	if (p)
		memmove(p, p + n, strlen(p + n) + 1);
}

int expr_sig_cb(struct nftnl_expr *e, void *data)
{
	struct pc_strbuf *sb = data;
	const char *name = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);
	char buf[1024];
	int n;

	/* A counter's values, a quota's use and when "last" matched are
	 * state, not definition. */
	if (streq(name, "counter") || streq(name, "last"))
		return pc_strbuf_printf(sb, "[%s] ", name) < 0 ? -1 : 0;
	if (streq(name, "quota"))
		return pc_strbuf_printf(sb, "[quota bytes %llu flags %u] ",
					(unsigned long long)nftnl_expr_get_u64(e, NFTNL_EXPR_QUOTA_BYTES),
					nftnl_expr_get_u32(e, NFTNL_EXPR_QUOTA_FLAGS)) < 0
			   ? -1
			   : 0;
	/* The kernel reports a log's level when we left the default (warning),
	 * and of the rest only what is not 0; the group says where it goes. */
	if (streq(name, "log"))
		return pc_strbuf_printf(sb,
					"[log prefix %s level %u group %d snaplen %u "
					"qthreshold %u flags %u] ",
					nftnl_expr_is_set(e, NFTNL_EXPR_LOG_PREFIX)
					    ? nftnl_expr_get_str(e, NFTNL_EXPR_LOG_PREFIX)
					    : "",
					nftnl_expr_is_set(e, NFTNL_EXPR_LOG_LEVEL)
					    ? nftnl_expr_get_u32(e, NFTNL_EXPR_LOG_LEVEL)
					    : 4,
					nftnl_expr_is_set(e, NFTNL_EXPR_LOG_GROUP)
					    ? (int)nftnl_expr_get_u16(e, NFTNL_EXPR_LOG_GROUP)
					    : -1,
					nftnl_expr_get_u32(e, NFTNL_EXPR_LOG_SNAPLEN),
					(unsigned)nftnl_expr_get_u16(e, NFTNL_EXPR_LOG_QTHRESHOLD),
					nftnl_expr_get_u32(e, NFTNL_EXPR_LOG_FLAGS)) < 0
			   ? -1
			   : 0;
	/* The kernel reports a lookup's flags even when 0; we leave them unset. */
	if (streq(name, "lookup"))
		return pc_strbuf_printf(sb, "[lookup set %s sreg %u dreg %d flags %u] ",
					nftnl_expr_get_str(e, NFTNL_EXPR_LOOKUP_SET),
					nftnl_expr_get_u32(e, NFTNL_EXPR_LOOKUP_SREG),
					nftnl_expr_is_set(e, NFTNL_EXPR_LOOKUP_DREG)
					    ? (int)nftnl_expr_get_u32(e, NFTNL_EXPR_LOOKUP_DREG)
					    : -1,
					nftnl_expr_is_set(e, NFTNL_EXPR_LOOKUP_FLAGS)
					    ? nftnl_expr_get_u32(e, NFTNL_EXPR_LOOKUP_FLAGS)
					    : 0) < 0
			   ? -1
			   : 0;
	n = nftnl_expr_snprintf(buf, sizeof(buf), e, NFTNL_OUTPUT_DEFAULT, 0);
	if (n < 0 || (size_t)n >= sizeof(buf))
		return -1;
	/* The kernel reports a meter's timeout even when 0 (the set's own);
	 * we leave it unset. */
	if (streq(name, "dynset"))
		str_remove(buf, " timeout 0ms ", 1);
	return pc_strbuf_printf(sb, "[%s %s] ", name, buf) < 0 ? -1 : 0;
}

static int rule_sig(struct sig_list *l, struct nftnl_rule *r, ssize_t obj)
{
	struct pc_strbuf sb = {0};
	const char *chain = nftnl_rule_get_str(r, NFTNL_RULE_CHAIN);
	int ret = pc_strbuf_printf(&sb, "rule %s: ", chain);

	if (ret >= 0 && nftnl_expr_foreach(r, expr_sig_cb, &sb) < 0)
		ret = -ENOMEM;
	if (ret >= 0 && nftnl_rule_is_set(r, NFTNL_RULE_USERDATA)) {
		uint32_t len = 0;
		const void *u = nftnl_rule_get_data(r, NFTNL_RULE_USERDATA, &len);

		ret = pc_strbuf_printf(&sb, "udata ");
		if (ret >= 0)
			ret = hex_append(&sb, u, len);
	}
	if (ret >= 0)
		ret = sig_push(l, &sb, chain, obj, "rule");
	pc_strbuf_free(&sb);
	return ret;
}

static int u32_attr(struct pc_strbuf *sb, const char *name, bool set, uint32_t v)
{
	return set ? pc_strbuf_printf(sb, " %s %u", name, v) : 0;
}

static int chain_sig(struct sig_list *l, struct nftnl_chain *c, ssize_t obj)
{
	struct pc_strbuf sb = {0};
	bool base = nftnl_chain_is_set(c, NFTNL_CHAIN_HOOKNUM);
	int r = pc_strbuf_printf(&sb, "chain %s", nftnl_chain_get_str(c, NFTNL_CHAIN_NAME));

	if (r >= 0 && base)
		r = pc_strbuf_printf(&sb, " type %s hook %u prio %d policy %u",
				     nftnl_chain_get_str(c, NFTNL_CHAIN_TYPE),
				     nftnl_chain_get_u32(c, NFTNL_CHAIN_HOOKNUM),
				     (int)nftnl_chain_get_s32(c, NFTNL_CHAIN_PRIO),
				     nftnl_chain_is_set(c, NFTNL_CHAIN_POLICY)
					 ? nftnl_chain_get_u32(c, NFTNL_CHAIN_POLICY)
					 : NF_ACCEPT);
	if (r >= 0)
		r = sig_push(l, &sb, NULL, obj, "chain");
	pc_strbuf_free(&sb);
	return r;
}

static int set_sig(struct sig_list *l, struct nftnl_set *s, ssize_t obj)
{
	struct pc_strbuf sb = {0};
	uint32_t flags = nftnl_set_get_u32(s, NFTNL_SET_FLAGS);
	int r = pc_strbuf_printf(&sb, "set %s", nftnl_set_get_str(s, NFTNL_SET_NAME));

	if (r >= 0)
		r = u32_attr(&sb, "flags", true, flags);
	if (r >= 0)
		r = u32_attr(&sb, "keytype", true, nftnl_set_get_u32(s, NFTNL_SET_KEY_TYPE));
	if (r >= 0)
		r = u32_attr(&sb, "keylen", true, nftnl_set_get_u32(s, NFTNL_SET_KEY_LEN));
	if (r >= 0)
		r = u32_attr(&sb, "datatype", nftnl_set_is_set(s, NFTNL_SET_DATA_TYPE),
			     nftnl_set_get_u32(s, NFTNL_SET_DATA_TYPE));
	if (r >= 0)
		r = sig_push(l, &sb, NULL, obj, "set");
	pc_strbuf_free(&sb);
	return r;
}

struct elem_ctx {
	struct sig_list *l;
	const char *set;
	ssize_t obj;
	bool timeout; /* the set gives its elements a timeout */
	bool timed;		 /* a set with element timeouts (bans) */
	struct elem_lapse lapse; /* ours: what ran out by now */
	/* A big set without timeouts is compared as one signature: the count
	 * and an order-free sum of its elements' hashes, not 100,000 texts. */
	bool summed;
	size_t n;
	uint64_t sum;
};

/* Elements a set may hold before it is compared as one sum. */
#define ELEMS_SUMMED_MIN 1024

static uint64_t sig_hash(const char *s, size_t n)
{
	uint64_t h = 14695981039346656037ull; /* FNV-1a, then a finaliser: sums of */
					      /* raw FNV values would cancel too easily */
	for (size_t i = 0; i < n; i++)
		h = (h ^ (uint8_t)s[i]) * 1099511628211ull;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	return h ^ (h >> 33);
}

static int elem_bytes(struct pc_strbuf *sb, struct nftnl_set_elem *e, uint16_t attr,
		      const char *name)
{
	uint32_t len = 0;
	const void *d;
	int r;

	if (!nftnl_set_elem_is_set(e, attr))
		return 0;
	d = nftnl_set_elem_get(e, attr, &len);
	r = pc_strbuf_printf(sb, " %s ", name);
	return r < 0 ? r : hex_append(sb, d, len);
}

static int elem_sig_cb(struct nftnl_set_elem *e, void *data)
{
	struct elem_ctx *c = data;
	struct pc_strbuf sb = {0};
	uint32_t flags = nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_FLAGS)
			     ? nftnl_set_elem_get_u32(e, NFTNL_SET_ELEM_FLAGS)
			     : 0;
	int r;

	/* Elements that ran out are gone from the kernel, and so is the
	 * interval end after one, but only once the kernel collects it: end
	 * elements of a timed set are compared by their starts alone. */
	if (elem_lapsed(&c->lapse, e) || (c->timed && (flags & NFT_SET_ELEM_INTERVAL_END)))
		return 0;
	r = pc_strbuf_printf(&sb, "element of %s: flags %u", c->set, flags);

	if (r >= 0)
		r = elem_bytes(&sb, e, NFTNL_SET_ELEM_KEY, "key");
	if (r >= 0)
		r = elem_bytes(&sb, e, NFTNL_SET_ELEM_KEY_END, "end");
	if (r >= 0 && nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_VERDICT))
		r = pc_strbuf_printf(&sb, " verdict %d",
				     (int)nftnl_set_elem_get_u32(e, NFTNL_SET_ELEM_VERDICT));
	if (r >= 0 && nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_CHAIN))
		r = pc_strbuf_printf(&sb, " chain %s",
				     nftnl_set_elem_get_str(e, NFTNL_SET_ELEM_CHAIN));
	if (r >= 0)
		r = elem_bytes(&sb, e, NFTNL_SET_ELEM_DATA, "data");
	if (r >= 0)
		r = elem_bytes(&sb, e, NFTNL_SET_ELEM_USERDATA, "udata");
	/* Element expressions are left out: a set with a counter gives every
	 * element one in the kernel, whether the element asked for it or not. */
	if (r >= 0 && c->summed) {
		c->sum += sig_hash(sb.buf, sb.len);
		c->n++;
		pc_strbuf_free(&sb);
		return 0;
	}
	if (r >= 0)
		r = sig_push(c->l, &sb, NULL, c->obj, "set element");
	if (r >= 0)
		c->l->items[c->l->n - 1].may_vanish =
		    c->timeout || nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_TIMEOUT);
	pc_strbuf_free(&sb);
	c->l->err = r < 0 ? r : c->l->err;
	return r < 0 ? -1 : 0;
}

/* A set the packet path fills (a limit meter: "add @set { ip saddr limit
 * ... }") holds elements nobody configured; only its definition is ours. */
static bool set_is_dynamic(struct nftnl_set *s)
{
	return nftnl_set_get_u32(s, NFTNL_SET_FLAGS) & NFT_SET_EVAL;
}

static int elem_count_cb(struct nftnl_set_elem *e, void *data)
{
	(void)e;
	(*(size_t *)data)++;
	return 0;
}

static int set_elems_sig(struct sig_list *l, struct nftnl_set *s, ssize_t obj, uint64_t clock_ms)
{
	struct elem_ctx c = {.l = l,
			     .set = nftnl_set_get_str(s, NFTNL_SET_NAME),
			     .obj = obj,
			     .timeout = nftnl_set_is_set(s, NFTNL_SET_TIMEOUT) &&
					nftnl_set_get_u64(s, NFTNL_SET_TIMEOUT) > 0,
			     .timed = nftnl_set_get_u32(s, NFTNL_SET_FLAGS) & NFT_SET_TIMEOUT,
			     .lapse = {.clock_ms = clock_ms, .by_ms = elem_lapse_now_ms()}};

	struct pc_strbuf sb = {0};
	size_t n = 0;

	if (set_is_dynamic(s))
		return 0;
	if (!c.timeout && !c.timed) {
		nftnl_set_elem_foreach(s, elem_count_cb, &n);
		c.summed = n >= ELEMS_SUMMED_MIN;
	}
	if (nftnl_set_elem_foreach(s, elem_sig_cb, &c) < 0)
		return l->err ? l->err : -ENOMEM;
	if (!c.summed)
		return 0;
	if (pc_strbuf_printf(&sb, "elements of %s: %zu, sum %016llx", c.set, c.n,
			     (unsigned long long)c.sum) < 0)
		return -ENOMEM;
	return sig_push(l, &sb, NULL, obj, "set elements");
}

/* The compiled ruleset's signatures. */
static int ruleset_sigs(const struct pc_ruleset *rs, struct sig_list *l)
{
	int r = 0;

	for (size_t i = 0; r >= 0 && i < rs->n_objs; i++) {
		const struct pc_nft_object *o = &rs->objs[i];

		switch (o->kind) {
		case PC_NFT_CHAIN:
			r = chain_sig(l, o->obj, (ssize_t)i);
			break;
		case PC_NFT_SET:
			r = set_sig(l, o->obj, (ssize_t)i);
			if (r >= 0)
				r = set_elems_sig(l, o->obj, (ssize_t)i, rs->bans_clock_ms);
			break;
		case PC_NFT_RULE:
			r = rule_sig(l, o->obj, (ssize_t)i);
			break;
		case PC_NFT_TABLE:
			break;
		}
	}
	return r;
}

/* Kernel dumps: one callback per message type, appending signatures. */
struct dump_ctx {
	struct sig_list *l;
	struct nftnl_set **sets; /* GETSET: the sets, for their element dumps */
	size_t n_sets, cap_sets;
};

static int chain_dump_cb(const struct nlmsghdr *nlh, void *data)
{
	struct dump_ctx *d = data;
	struct nftnl_chain *c = nftnl_chain_alloc();
	int r = -ENOMEM;

	if (c && nftnl_chain_nlmsg_parse(nlh, c) >= 0) {
		r = 0;
		if (streq(nftnl_chain_get_str(c, NFTNL_CHAIN_TABLE), PC_TABLE_NAME))
			r = chain_sig(d->l, c, -1);
	}
	nftnl_chain_free(c);
	d->l->err = r < 0 ? r : d->l->err;
	return r < 0 ? MNL_CB_ERROR : MNL_CB_OK;
}

static int rule_dump_cb(const struct nlmsghdr *nlh, void *data)
{
	struct dump_ctx *d = data;
	struct nftnl_rule *rule = nftnl_rule_alloc();
	int r = -ENOMEM;

	if (rule && nftnl_rule_nlmsg_parse(nlh, rule) >= 0) {
		r = 0;
		if (streq(nftnl_rule_get_str(rule, NFTNL_RULE_TABLE), PC_TABLE_NAME))
			r = rule_sig(d->l, rule, -1);
	}
	nftnl_rule_free(rule);
	d->l->err = r < 0 ? r : d->l->err;
	return r < 0 ? MNL_CB_ERROR : MNL_CB_OK;
}

static int set_dump_cb(const struct nlmsghdr *nlh, void *data)
{
	struct dump_ctx *d = data;
	struct nftnl_set *s = nftnl_set_alloc();
	struct nftnl_set **slot;

	if (!s || nftnl_set_nlmsg_parse(nlh, s) < 0)
		goto fail;
	if (!streq(nftnl_set_get_str(s, NFTNL_SET_TABLE), PC_TABLE_NAME)) {
		nftnl_set_free(s);
		return MNL_CB_OK;
	}
	slot = PC_ARRAY_PUSH(d->sets, d->n_sets, d->cap_sets);
	if (!slot)
		goto fail;
	*slot = s;
	return MNL_CB_OK;
fail:
	nftnl_set_free(s);
	d->l->err = -ENOMEM;
	return MNL_CB_ERROR;
}

static int elem_dump_cb(const struct nlmsghdr *nlh, void *data)
{
	return nftnl_set_elems_nlmsg_parse(nlh, data) < 0 ? MNL_CB_ERROR : MNL_CB_OK;
}

int nl_dump_family(struct pc_nl *nl, uint16_t type, uint16_t family,
		   void (*payload)(struct nlmsghdr *, void *), void *obj, mnl_cb_t cb, void *data)
{
	_cleanup_free_ char *buf = malloc(VERIFY_BUF_SIZE);
	struct nlmsghdr *nlh;

	if (!buf)
		return -ENOMEM;
	nlh = nftnl_nlmsg_build_hdr(buf, type, family, NLM_F_DUMP, nl_next_seq(nl, 1));
	if (payload)
		payload(nlh, obj);
	return nl_query(nl, buf, nlh, cb, data);
}

int nl_dump(struct pc_nl *nl, uint16_t type, void (*payload)(struct nlmsghdr *, void *),
	    void *obj, mnl_cb_t cb, void *data)
{
	return nl_dump_family(nl, type, NFPROTO_INET, payload, obj, cb, data);
}

static void chain_payload(struct nlmsghdr *nlh, void *obj)
{
	nftnl_chain_nlmsg_build_payload(nlh, obj);
}

void nl_rule_payload(struct nlmsghdr *nlh, void *obj)
{
	nftnl_rule_nlmsg_build_payload(nlh, obj);
}

struct chain_names {
	char **v;
	size_t n, cap;
};

static int chain_name_cb(const struct nlmsghdr *nlh, void *data)
{
	struct chain_names *names = data;
	struct nftnl_chain *c = nftnl_chain_alloc();
	char **slot;
	int r = MNL_CB_ERROR;

	if (c && nftnl_chain_nlmsg_parse(nlh, c) >= 0) {
		r = MNL_CB_OK;
		if (streq(nftnl_chain_get_str(c, NFTNL_CHAIN_TABLE), PC_TABLE_NAME)) {
			slot = PC_ARRAY_PUSH(names->v, names->n, names->cap);
			if (!slot || !(*slot = strdup(nftnl_chain_get_str(c, NFTNL_CHAIN_NAME)))) {
				names->n -= slot ? 1 : 0;
				r = MNL_CB_ERROR;
			}
		}
	}
	nftnl_chain_free(c);
	return r;
}

int nl_dump_rules(struct pc_nl *nl, mnl_cb_t cb, void *data)
{
	struct chain_names names = { 0 };
	struct nftnl_chain *c = nftnl_chain_alloc();
	struct nftnl_rule *rule = nftnl_rule_alloc();
	int r = c && rule ? 0 : -ENOMEM;

	if (r >= 0) {
		nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, PC_TABLE_NAME);
		r = nl_dump(nl, NFT_MSG_GETCHAIN, chain_payload, c, chain_name_cb, &names);
		nftnl_rule_set_str(rule, NFTNL_RULE_TABLE, PC_TABLE_NAME);
	}
	for (size_t i = 0; r >= 0 && i < names.n; i++) {
		nftnl_rule_set_str(rule, NFTNL_RULE_CHAIN, names.v[i]);
		r = nl_dump(nl, NFT_MSG_GETRULE, nl_rule_payload, rule, cb, data);
	}
	for (size_t i = 0; i < names.n; i++)
		free(names.v[i]);
	free(names.v);
	if (c)
		nftnl_chain_free(c);
	if (rule)
		nftnl_rule_free(rule);
	return r;
}

static void set_payload(struct nlmsghdr *nlh, void *obj)
{
	nftnl_set_nlmsg_build_payload(nlh, obj);
}

static void elems_payload(struct nlmsghdr *nlh, void *obj)
{
	nftnl_set_elems_nlmsg_build_payload(nlh, obj);
}

static int kernel_chains(struct pc_nl *nl, struct dump_ctx *d)
{
	struct nftnl_chain *c = nftnl_chain_alloc();
	int r;

	if (!c)
		return -ENOMEM;
	nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, PC_TABLE_NAME);
	r = nl_dump(nl, NFT_MSG_GETCHAIN, chain_payload, c, chain_dump_cb, d);
	nftnl_chain_free(c);
	return d->l->err ? d->l->err : r;
}

static int kernel_rules(struct pc_nl *nl, struct dump_ctx *d)
{
	int r = nl_dump_rules(nl, rule_dump_cb, d);

	return d->l->err ? d->l->err : r;
}

static int kernel_sets(struct pc_nl *nl, struct dump_ctx *d)
{
	struct nftnl_set *s = nftnl_set_alloc();
	int r;

	if (!s)
		return -ENOMEM;
	nftnl_set_set_str(s, NFTNL_SET_TABLE, PC_TABLE_NAME);
	r = nl_dump(nl, NFT_MSG_GETSET, set_payload, s, set_dump_cb, d);
	nftnl_set_free(s);
	if (d->l->err)
		return d->l->err;
	for (size_t i = 0; r >= 0 && i < d->n_sets; i++) {
		r = set_sig(d->l, d->sets[i], -1);
		if (r >= 0 && !set_is_dynamic(d->sets[i]))
			r = nl_dump(nl, NFT_MSG_GETSETELEM, elems_payload, d->sets[i], elem_dump_cb,
				 d->sets[i]);
		if (r >= 0)
			r = set_elems_sig(d->l, d->sets[i], -1, 0);
	}
	return r;
}

static int kernel_sigs(struct pc_nl *nl, struct sig_list *l)
{
	struct dump_ctx d = {.l = l};
	int r = kernel_chains(nl, &d);

	if (r >= 0)
		r = kernel_sets(nl, &d);
	if (r >= 0)
		r = kernel_rules(nl, &d);
	for (size_t i = 0; i < d.n_sets; i++)
		nftnl_set_free(d.sets[i]);
	free(d.sets);
	return r;
}

static int sig_cmp(const void *a, const void *b)
{
	return strcmp(((const struct sig *)a)->text, ((const struct sig *)b)->text);
}

static int mismatch_add(struct pc_nl_mismatches *out, char op, const struct sig *s)
{
	struct pc_nl_mismatch *m = PC_ARRAY_PUSH(out->items, out->n, out->cap);

	if (!m)
		return -ENOMEM;
	m->op = op;
	m->what = s->what;
	m->obj = s->obj;
	m->text = strdup(s->text);
	return m->text ? 0 : -ENOMEM;
}

/* Sorted merge: what only the ruleset has is missing, what only the kernel has is extra. */
static int sigs_compare(struct sig_list *ours, struct sig_list *kern, struct pc_nl_mismatches *out)
{
	size_t i = 0, j = 0;
	int r = 0;

	qsort(ours->items, ours->n, sizeof(*ours->items), sig_cmp);
	qsort(kern->items, kern->n, sizeof(*kern->items), sig_cmp);
	while (r >= 0 && (i < ours->n || j < kern->n)) {
		int c = i == ours->n   ? 1
			: j == kern->n ? -1
				       : strcmp(ours->items[i].text, kern->items[j].text);

		if (c == 0) {
			i++;
			j++;
		} else if (c < 0) {
			if (!ours->items[i].may_vanish)
				r = mismatch_add(out, '-', &ours->items[i]);
			i++;
		} else {
			r = mismatch_add(out, '+', &kern->items[j++]);
		}
	}
	return r;
}

/* Rules of one chain in order, as one text per chain: the same rules in
 * another order decide differently (first match wins). */
static int rule_order_compare(const struct sig_list *ours, const struct sig_list *kern,
			      struct pc_nl_mismatches *out)
{
	for (size_t i = 0; i < ours->n; i++) {
		const char *chain = ours->items[i].chain;
		size_t a = 0, b = 0;
		bool differs = false;

		if (!chain ||
		    (i > 0 && ours->items[i - 1].chain && streq(ours->items[i - 1].chain, chain)))
			continue;
		while (!differs) {
			while (a < ours->n &&
			       (!ours->items[a].chain || !streq(ours->items[a].chain, chain)))
				a++;
			while (b < kern->n &&
			       (!kern->items[b].chain || !streq(kern->items[b].chain, chain)))
				b++;
			if (a == ours->n || b == kern->n) {
				differs = (a == ours->n) != (b == kern->n);
				break;
			}
			differs = !streq(ours->items[a++].text, kern->items[b++].text);
		}
		if (differs) {
			struct sig s = {
			    .text = (char *)chain, .obj = -1, .what = "rule order of chain"};

			return mismatch_add(out, '~', &s);
		}
	}
	return 0;
}

int pc_nl_verify(struct pc_nl *nl, const struct pc_ruleset *rs, struct pc_nl_mismatches *out)
{
	struct sig_list ours = {0}, kern = {0};
	int r;

	r = pc_nl_table_exists(nl);

	if (r == 0) {
		struct sig s = {.text = "table inet " PC_TABLE_NAME, .obj = -1, .what = "table"};

		return mismatch_add(out, '-', &s);
	}
	if (r >= 0)
		r = ruleset_sigs(rs, &ours);
	if (r >= 0)
		r = kernel_sigs(nl, &kern);
	/* Dumps and the ruleset list rules in chain order; check that first,
	 * the sorted comparison below reorders the lists. */
	if (r >= 0)
		r = rule_order_compare(&ours, &kern, out);
	if (r >= 0 && out->n == 1) {
		/* A missing or extra rule also changes the order: say only that. */
		struct pc_nl_mismatches tmp = {0};

		r = sigs_compare(&ours, &kern, &tmp);
		if (r >= 0 && tmp.n > 0) {
			pc_nl_mismatches_free(out);
			*out = tmp;
		} else {
			pc_nl_mismatches_free(&tmp);
		}
	} else if (r >= 0) {
		r = sigs_compare(&ours, &kern, out);
	}
	sig_list_free(&ours);
	sig_list_free(&kern);
	if (r < 0)
		pc_nl_mismatches_free(out);
	return r;
}

static bool mismatches_same(const struct pc_nl_mismatches *a, const struct pc_nl_mismatches *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (a->items[i].op != b->items[i].op || strcmp(a->items[i].text, b->items[i].text))
			return false;
	return true;
}

int pc_nl_verify_settled(struct pc_nl *nl, const struct pc_ruleset *rs,
			 struct pc_nl_mismatches *out)
{
	struct pc_nl_mismatches again = {0};
	bool intr;
	int r;

	nl->dump_intr_read = true;
	nl->dump_intr = false;
	r = pc_nl_verify(nl, rs, out);
	if (r >= 0)
		r = pc_nl_verify(nl, rs, &again);
	intr = nl->dump_intr;
	nl->dump_intr_read = false;
	if (r >= 0 && intr && !mismatches_same(out, &again))
		r = -EINTR;
	pc_nl_mismatches_free(&again);
	if (r < 0)
		pc_nl_mismatches_free(out);
	return r;
}

void pc_nl_mismatches_free(struct pc_nl_mismatches *m)
{
	for (size_t i = 0; i < m->n; i++)
		free(m->items[i].text);
	free(m->items);
	*m = (struct pc_nl_mismatches){0};
}
