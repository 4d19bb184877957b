/* Builders for the libnftnl expressions, sets and elements the compiler
 * emits; each mirrors what nft itself sends for the same statement. */
#include "config.h"

#include <netinet/in.h>

#include <errno.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_conntrack_tuple_common.h>
#include <linux/netfilter/nf_nat.h>
#include <string.h>

#include <libnftnl/udata.h>

#include "compile-internal.h"
#include "nft-build.h"
#include "portctl/compile.h"

static int rule_add(struct nftnl_rule *r, struct nftnl_expr *e)
{
	if (!e)
		return -ENOMEM;
	nftnl_rule_add_expr(r, e);
	return 0;
}

struct nftnl_chain *chain_new(const char *name, int hook, uint32_t policy)
{
	struct nftnl_chain *c = nftnl_chain_alloc();

	if (!c)
		return NULL;
	nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, PC_TABLE_NAME);
	nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, name);
	nftnl_chain_set_u32(c, NFTNL_CHAIN_FAMILY, NFPROTO_INET);
	if (hook >= 0) {
		nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM, (uint32_t)hook);
		nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, 0);
		nftnl_chain_set_str(c, NFTNL_CHAIN_TYPE, "filter");
		nftnl_chain_set_u32(c, NFTNL_CHAIN_POLICY, policy);
	}
	return c;
}

struct nftnl_rule *rule_new(const char *chain)
{
	struct nftnl_rule *r = nftnl_rule_alloc();

	if (!r)
		return NULL;
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, PC_TABLE_NAME);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, chain);
	nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, NFPROTO_INET);
	return r;
}

int rule_add_meta(struct nftnl_rule *r, uint32_t key, uint32_t dreg)
{
	struct nftnl_expr *e = nftnl_expr_alloc("meta");

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
		nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, dreg);
	}
	return rule_add(r, e);
}

int rule_add_cmp(struct nftnl_rule *r, uint32_t op, uint32_t sreg, const void *data, uint32_t len)
{
	struct nftnl_expr *e = nftnl_expr_alloc("cmp");

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, sreg);
		nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, op);
		nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, data, len);
	}
	return rule_add(r, e);
}

int rule_add_cmp_u8(struct nftnl_rule *r, uint32_t sreg, uint8_t v)
{
	return rule_add_cmp(r, NFT_CMP_EQ, sreg, &v, sizeof(v));
}

int rule_add_payload(struct nftnl_rule *r, uint32_t base, uint32_t off, uint32_t len,
		     uint32_t dreg)
{
	struct nftnl_expr *e = nftnl_expr_alloc("payload");

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, base);
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, off);
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, len);
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, dreg);
	}
	return rule_add(r, e);
}

int rule_add_bitwise(struct nftnl_rule *r, uint32_t reg, const void *mask, uint32_t len)
{
	static const uint8_t zero[16];
	struct nftnl_expr *e = nftnl_expr_alloc("bitwise");

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, reg);
		nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, reg);
		nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, len);
		nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, mask, len);
		nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, zero, len);
	}
	return rule_add(r, e);
}

int rule_add_lookup(struct nftnl_rule *r, uint32_t sreg, const struct nftnl_set *s, int dreg)
{
	struct nftnl_expr *e = nftnl_expr_alloc("lookup");

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, sreg);
		if (dreg >= 0)
			nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_DREG, (uint32_t)dreg);
		nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET,
				   nftnl_set_get_str(s, NFTNL_SET_NAME));
		nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SET_ID, nftnl_set_get_u32(s, NFTNL_SET_ID));
	}
	return rule_add(r, e);
}

int rule_add_fib(struct nftnl_rule *r, uint32_t flags, uint32_t result, uint32_t dreg)
{
	struct nftnl_expr *e = nftnl_expr_alloc("fib");

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_FLAGS, flags);
		nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_RESULT, result);
		nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_DREG, dreg);
	}
	return rule_add(r, e);
}

int rule_add_counter(struct nftnl_rule *r)
{
	return rule_add(r, nftnl_expr_alloc("counter"));
}

static int rule_add_immediate(struct nftnl_rule *r, int verdict, const char *chain)
{
	struct nftnl_expr *e = nftnl_expr_alloc("immediate");

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
		nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, (uint32_t)verdict);
		if (chain)
			nftnl_expr_set_str(e, NFTNL_EXPR_IMM_CHAIN, chain);
	}
	return rule_add(r, e);
}

int rule_add_jump(struct nftnl_rule *r, const char *chain)
{
	return rule_add_immediate(r, NFT_JUMP, chain);
}

int rule_add_verdict(struct nftnl_rule *r, enum pc_verdict_kind v)
{
	switch (v) {
	case PC_VERDICT_DROP:
		return rule_add_immediate(r, NF_DROP, NULL);
	case PC_VERDICT_REJECT:
		return rule_add_jump(r, REJECT_CHAIN);
	case PC_VERDICT_ACCEPT:
		break;
	}
	return rule_add_immediate(r, NF_ACCEPT, NULL);
}

/* ct KEY & mask != 0 */
static int rule_add_ct_bits(struct nftnl_rule *r, uint32_t key, uint32_t mask)
{
	uint32_t zero = 0;
	struct nftnl_expr *e = nftnl_expr_alloc("ct");
	int ret;

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, key);
		nftnl_expr_set_u32(e, NFTNL_EXPR_CT_DREG, NFT_REG_1);
	}
	ret = rule_add(r, e);
	if (ret >= 0)
		ret = rule_add_bitwise(r, NFT_REG_1, &mask, sizeof(mask));
	if (ret >= 0)
		ret = rule_add_cmp(r, NFT_CMP_NEQ, NFT_REG_1, &zero, sizeof(zero));
	return ret;
}

int rule_add_ct_state(struct nftnl_rule *r, uint32_t mask)
{
	return rule_add_ct_bits(r, NFT_CT_STATE, mask);
}

int rule_add_ct_status(struct nftnl_rule *r, uint32_t mask)
{
	return rule_add_ct_bits(r, NFT_CT_STATUS, mask);
}

int rule_add_ct_original(struct nftnl_rule *r, uint32_t key, uint32_t dreg)
{
	struct nftnl_expr *e = nftnl_expr_alloc("ct");

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, key);
		nftnl_expr_set_u8(e, NFTNL_EXPR_CT_DIR, IP_CT_DIR_ORIGINAL);
		nftnl_expr_set_u32(e, NFTNL_EXPR_CT_DREG, dreg);
	}
	return rule_add(r, e);
}

static struct nftnl_expr *limit_new(uint32_t rate, uint64_t unit, uint32_t burst, bool over)
{
	struct nftnl_expr *e = nftnl_expr_alloc("limit");

	if (e) {
		nftnl_expr_set_u64(e, NFTNL_EXPR_LIMIT_RATE, rate);
		nftnl_expr_set_u64(e, NFTNL_EXPR_LIMIT_UNIT, unit);
		nftnl_expr_set_u32(e, NFTNL_EXPR_LIMIT_BURST, burst);
		nftnl_expr_set_u32(e, NFTNL_EXPR_LIMIT_TYPE, NFT_LIMIT_PKTS);
		nftnl_expr_set_u32(e, NFTNL_EXPR_LIMIT_FLAGS, over ? NFT_LIMIT_F_INV : 0);
	}
	return e;
}

int rule_add_limit(struct nftnl_rule *r, uint32_t rate, uint64_t unit, uint32_t burst, bool over)
{
	return rule_add(r, limit_new(rate, unit, burst, over));
}

/* level < 0: the kernel's default; the kernel refuses a level with a
 * group, so it is set only for the kernel log. */
int rule_add_log(struct nftnl_rule *r, const char *prefix, int group, int level)
{
	struct nftnl_expr *e = nftnl_expr_alloc("log");

	if (e)
		nftnl_expr_set_str(e, NFTNL_EXPR_LOG_PREFIX, prefix);
	if (e && group >= 0)
		nftnl_expr_set_u16(e, NFTNL_EXPR_LOG_GROUP, (uint16_t)group);
	else if (e && level >= 0)
		nftnl_expr_set_u32(e, NFTNL_EXPR_LOG_LEVEL, (uint32_t)level);
	return rule_add(r, e);
}

int rule_add_reject(struct nftnl_rule *r, uint32_t type, uint8_t code)
{
	struct nftnl_expr *e = nftnl_expr_alloc("reject");

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_REJECT_TYPE, type);
		nftnl_expr_set_u8(e, NFTNL_EXPR_REJECT_CODE, code);
	}
	return rule_add(r, e);
}

int rule_add_imm_u32(struct nftnl_rule *r, uint32_t dreg, uint32_t value)
{
	struct nftnl_expr *e = nftnl_expr_alloc("immediate");

	if (!e)
		return -ENOMEM;
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, dreg);
	nftnl_expr_set(e, NFTNL_EXPR_IMM_DATA, &value, sizeof(value));
	return rule_add(r, e);
}

int rule_add_dynset_limit(struct nftnl_rule *r, uint32_t sreg, const struct nftnl_set *s,
			  uint64_t timeout_ms, uint32_t rate, uint64_t unit, uint32_t burst)
{
	struct nftnl_expr *stmt = limit_new(rate, unit, burst, true);
	struct nftnl_expr *e;

	if (!stmt)
		return -ENOMEM;
	e = nftnl_expr_alloc("dynset");
	if (!e) {
		nftnl_expr_free(stmt);
		return -ENOMEM;
	}
	nftnl_expr_set_u32(e, NFTNL_EXPR_DYNSET_SREG_KEY, sreg);
	nftnl_expr_set_u32(e, NFTNL_EXPR_DYNSET_OP, NFT_DYNSET_OP_ADD);
	nftnl_expr_set_str(e, NFTNL_EXPR_DYNSET_SET_NAME, nftnl_set_get_str(s, NFTNL_SET_NAME));
	nftnl_expr_set_u32(e, NFTNL_EXPR_DYNSET_SET_ID, nftnl_set_get_u32(s, NFTNL_SET_ID));
	if (timeout_ms)
		nftnl_expr_set_u64(e, NFTNL_EXPR_DYNSET_TIMEOUT, timeout_ms);
	nftnl_expr_add_expr(e, NFTNL_EXPR_DYNSET_EXPRESSIONS, stmt);
	return rule_add(r, e);
}

/* The TLV buffer nft puts in user data: one comment attribute. */
static struct nftnl_udata_buf *udata_comment(uint8_t type, const char *comment)
{
	struct nftnl_udata_buf *u = nftnl_udata_buf_alloc(NFT_USERDATA_MAXLEN);

	if (u && !nftnl_udata_put_strz(u, type, comment)) {
		nftnl_udata_buf_free(u);
		return NULL;
	}
	return u;
}

int rule_set_comment(struct nftnl_rule *r, const char *comment)
{
	struct nftnl_udata_buf *u = udata_comment(NFTNL_UDATA_RULE_COMMENT, comment);

	if (!u)
		return -ENOMEM;
	nftnl_rule_set_data(r, NFTNL_RULE_USERDATA, nftnl_udata_buf_data(u),
			    nftnl_udata_buf_len(u));
	nftnl_udata_buf_free(u);
	return 0;
}

struct nftnl_set *set_new(const char *name, uint32_t id, uint32_t flags, uint32_t key_type,
			  uint32_t key_len)
{
	struct nftnl_set *s = nftnl_set_alloc();

	if (!s)
		return NULL;
	nftnl_set_set_str(s, NFTNL_SET_TABLE, PC_TABLE_NAME);
	nftnl_set_set_str(s, NFTNL_SET_NAME, name);
	nftnl_set_set_u32(s, NFTNL_SET_FAMILY, NFPROTO_INET);
	nftnl_set_set_u32(s, NFTNL_SET_ID, id);
	nftnl_set_set_u32(s, NFTNL_SET_FLAGS, flags);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, key_type);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, key_len);
	return s;
}

int set_key_host_order(struct nftnl_set *s)
{
	struct nftnl_udata_buf *u = nftnl_udata_buf_alloc(NFT_USERDATA_MAXLEN);

	if (!u)
		return -ENOMEM;
	if (!nftnl_udata_put_u32(u, NFTNL_UDATA_SET_KEYBYTEORDER, NFT_BYTEORDER_HOST)) {
		nftnl_udata_buf_free(u);
		return -ENOMEM;
	}
	nftnl_set_set_data(s, NFTNL_SET_USERDATA, nftnl_udata_buf_data(u), nftnl_udata_buf_len(u));
	nftnl_udata_buf_free(u);
	return 0;
}

void set_make_vmap(struct nftnl_set *s)
{
	nftnl_set_set_u32(s, NFTNL_SET_FLAGS, nftnl_set_get_u32(s, NFTNL_SET_FLAGS) | NFT_SET_MAP);
	nftnl_set_set_u32(s, NFTNL_SET_DATA_TYPE, NFT_DATA_VERDICT);
	nftnl_set_set_u32(s, NFTNL_SET_DATA_LEN, 0);
}

int set_add_counter(struct nftnl_set *s)
{
	struct nftnl_expr *e = nftnl_expr_alloc("counter");

	if (!e)
		return -ENOMEM;
	nftnl_set_add_expr(s, e);
	return 0;
}

static void elem_set_data(struct nftnl_set_elem *el, const struct elem_spec *e)
{
	if (e->jump) {
		nftnl_set_elem_set_u32(el, NFTNL_SET_ELEM_VERDICT, (uint32_t)NFT_JUMP);
		nftnl_set_elem_set_str(el, NFTNL_SET_ELEM_CHAIN, e->jump);
		return;
	}
	switch ((enum pc_verdict_kind)e->verdict) {
	case PC_VERDICT_ACCEPT:
		nftnl_set_elem_set_u32(el, NFTNL_SET_ELEM_VERDICT, NF_ACCEPT);
		break;
	case PC_VERDICT_DROP:
		nftnl_set_elem_set_u32(el, NFTNL_SET_ELEM_VERDICT, NF_DROP);
		break;
	case PC_VERDICT_REJECT:
		nftnl_set_elem_set_u32(el, NFTNL_SET_ELEM_VERDICT, (uint32_t)NFT_JUMP);
		nftnl_set_elem_set_str(el, NFTNL_SET_ELEM_CHAIN, REJECT_CHAIN);
		break;
	}
}

int set_add_elem(struct nftnl_set *s, const struct elem_spec *e)
{
	struct nftnl_set_elem *el = nftnl_set_elem_alloc();

	if (!el)
		return -ENOMEM;
	nftnl_set_elem_set(el, NFTNL_SET_ELEM_KEY, e->key, e->len);
	if (e->key_end)
		nftnl_set_elem_set(el, NFTNL_SET_ELEM_KEY_END, e->key_end, e->len);
	if (e->flags)
		nftnl_set_elem_set_u32(el, NFTNL_SET_ELEM_FLAGS, e->flags);
	if (e->timeout_ms)
		nftnl_set_elem_set_u64(el, NFTNL_SET_ELEM_TIMEOUT, e->timeout_ms);
	if (!(e->flags & NFT_SET_ELEM_INTERVAL_END) && (e->verdict >= 0 || e->jump))
		elem_set_data(el, e);
	if (e->comment) {
		struct nftnl_udata_buf *u = udata_comment(NFTNL_UDATA_SET_ELEM_COMMENT, e->comment);

		if (!u) {
			nftnl_set_elem_free(el);
			return -ENOMEM;
		}
		nftnl_set_elem_set(el, NFTNL_SET_ELEM_USERDATA, nftnl_udata_buf_data(u),
				   nftnl_udata_buf_len(u));
		nftnl_udata_buf_free(u);
	}
	nftnl_set_elem_add(s, el);
	return 0;
}

int set_add_span(struct nftnl_set *s, const struct pc_plan_span *sp, uint8_t width, bool map,
		 const char *jump, size_t *n_elems)
{
	char comment[PC_COMMENT_MAX + 1];
	uint8_t end[16];
	struct elem_spec e = { .key = sp->lo, .len = width, .verdict = map ? (int)sp->verdict : -1,
			       .jump = jump };
	int r;

	if (sp->rule) {
		pc_rule_comment(sp->rule, comment, sizeof(comment));
		e.comment = comment;
	}
	r = set_add_elem(s, &e);
	(*n_elems)++;
	memcpy(end, sp->hi, 16);
	/* A span that reaches the last key has no end element. */
	if (r < 0 || !key_inc(end, width))
		return r;
	e = (struct elem_spec){ .key = end, .len = width, .verdict = -1,
				.flags = NFT_SET_ELEM_INTERVAL_END };
	r = set_add_elem(s, &e);
	(*n_elems)++;
	return r;
}

int set_add_key(struct nftnl_set *s, const struct pc_plan_span *sp, uint8_t width,
		size_t *n_elems)
{
	char comment[PC_COMMENT_MAX + 1];
	struct elem_spec e = { .key = sp->lo, .len = width, .verdict = -1 };

	if (sp->rule) {
		pc_rule_comment(sp->rule, comment, sizeof(comment));
		e.comment = comment;
	}
	(*n_elems)++;
	return set_add_elem(s, &e);
}

int set_add_addr(struct nftnl_set *s, const struct pc_plan_span *sp, uint8_t width,
		 size_t *n_elems)
{
	return span_is_host(sp) ? set_add_key(s, sp, width, n_elems)
				: set_add_span(s, sp, width, false, NULL, n_elems);
}

int set_add_spans_open(struct nftnl_set *s, const struct pc_plan_spans *spans, bool always,
		       size_t *n_elems)
{
	static const uint8_t zero[16];
	struct elem_spec e = { .key = zero, .len = spans->width, .verdict = -1,
			       .flags = NFT_SET_ELEM_INTERVAL_END };

	/* nft opens an rbtree set with an end element at key 0. */
	if ((spans->n == 0 && !always) || (spans->n && key_cmp(spans->items[0].lo, zero) == 0))
		return 0;
	(*n_elems)++;
	return set_add_elem(s, &e);
}

int set_add_spans(struct nftnl_set *s, const struct pc_plan_spans *spans, bool map,
		  const char *(*jump_of)(const struct pc_plan_span *, void *), void *ctx,
		  size_t *n_elems)
{
	int r = set_add_spans_open(s, spans, false, n_elems);

	for (size_t i = 0; r >= 0 && i < spans->n; i++)
		r = set_add_span(s, &spans->items[i], spans->width, map,
				 jump_of ? jump_of(&spans->items[i], ctx) : NULL, n_elems);
	return r;
}

void pc_rule_append_free(struct pc_rule_append *app)
{
	for (size_t i = 0; i < app->n_sets; i++)
		nftnl_set_free(app->sets[i].elems);
	free(app->sets);
	free(app->ports);
	*app = (struct pc_rule_append){ 0 };
}

/* --- NAT (lower_nat) --- */

struct nftnl_chain *chain_new_nat(const char *name, int hook, int prio)
{
	struct nftnl_chain *c = chain_new(name, hook, NF_ACCEPT);

	if (c) {
		nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, prio);
		nftnl_chain_set_str(c, NFTNL_CHAIN_TYPE, "nat");
	}
	return c;
}

int rule_add_data(struct nftnl_rule *r, uint32_t dreg, const void *data, uint32_t len)
{
	struct nftnl_expr *e = nftnl_expr_alloc("immediate");

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, dreg);
		nftnl_expr_set(e, NFTNL_EXPR_IMM_DATA, data, len);
	}
	return rule_add(r, e);
}

static int rule_add_ct(struct nftnl_rule *r, uint32_t key, uint32_t reg, bool set)
{
	struct nftnl_expr *e = nftnl_expr_alloc("ct");

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, key);
		nftnl_expr_set_u32(e, set ? NFTNL_EXPR_CT_SREG : NFTNL_EXPR_CT_DREG, reg);
	}
	return rule_add(r, e);
}

/* reg = (reg & mask) ^ xor: nft's "or" and "and" on a register. */
static int rule_add_bitwise_xor(struct nftnl_rule *r, uint32_t reg, uint32_t mask, uint32_t xor)
{
	struct nftnl_expr *e = nftnl_expr_alloc("bitwise");

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, reg);
		nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, reg);
		nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, sizeof(mask));
		nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, &mask, sizeof(mask));
		nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, &xor, sizeof(xor));
	}
	return rule_add(r, e);
}

int rule_add_ct_mark_set(struct nftnl_rule *r, uint32_t field, uint32_t value)
{
	int ret = rule_add_ct(r, NFT_CT_MARK, NFT_REG_1, false);

	if (ret >= 0)
		ret = rule_add_bitwise_xor(r, NFT_REG_1, ~field, value);
	return ret < 0 ? ret : rule_add_ct(r, NFT_CT_MARK, NFT_REG_1, true);
}

int rule_add_ct_match(struct nftnl_rule *r, uint32_t key, uint32_t field, uint32_t value)
{
	int ret = rule_add_ct(r, key, NFT_REG_1, false);

	if (ret >= 0)
		ret = rule_add_bitwise(r, NFT_REG_1, &field, sizeof(field));
	return ret < 0 ? ret : rule_add_cmp(r, NFT_CMP_EQ, NFT_REG_1, &value, sizeof(value));
}

int rule_add_dnat(struct nftnl_rule *r, uint8_t nfproto, bool port)
{
	struct nftnl_expr *e = nftnl_expr_alloc("nat");

	if (e) {
		/* As the kernel reports it: both ends of each range, and the
		 * flags it derives from the registers given. */
		nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_TYPE, NFT_NAT_DNAT);
		nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_FAMILY, nfproto);
		nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_ADDR_MIN, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_ADDR_MAX, NFT_REG_1);
		if (port) {
			nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_PROTO_MIN, NFT_REG_2);
			nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_PROTO_MAX, NFT_REG_2);
		}
		nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_FLAGS,
				   NF_NAT_RANGE_MAP_IPS | (port ? NF_NAT_RANGE_PROTO_SPECIFIED : 0));
	}
	return rule_add(r, e);
}

int rule_add_masq(struct nftnl_rule *r)
{
	return rule_add(r, nftnl_expr_alloc("masq"));
}
