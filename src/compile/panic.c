/* The panic ruleset: table inet portctl holding nothing but "loopback
 * passes, everything else is dropped", established connections and
 * forwarded traffic included. */
#include "config.h"

#include <errno.h>
#include <linux/netfilter.h>
#include <string.h>

#include <libnftnl/chain.h>
#include <libnftnl/rule.h>
#include <libnftnl/table.h>

#include "nft-build.h"
#include "portctl/compile.h"
#include "portctl/util.h"

static int panic_push(struct pc_ruleset *rs, enum pc_nft_kind kind, void *obj)
{
	struct pc_nft_object *o = PC_ARRAY_PUSH(rs->objs, rs->n_objs, rs->cap_objs);

	if (!o)
		return -ENOMEM;
	*o = (struct pc_nft_object){.kind = kind, .obj = obj};
	if (kind == PC_NFT_RULE)
		o->chain_key = pc_chain_key(nftnl_rule_get_str(obj, NFTNL_RULE_CHAIN));
	return 0;
}

static int panic_table(struct pc_ruleset *rs)
{
	struct nftnl_table *t = nftnl_table_alloc();

	if (!t)
		return -ENOMEM;
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, PC_TABLE_NAME);
	nftnl_table_set_u32(t, NFTNL_TABLE_FAMILY, NFPROTO_INET);
	if (panic_push(rs, PC_NFT_TABLE, t) < 0) {
		nftnl_table_free(t);
		return -ENOMEM;
	}
	return 0;
}

/* A base chain whose policy is drop: even a rule someone deletes from it
 * cannot open the host. */
static int panic_chain(struct pc_ruleset *rs, const char *name, uint32_t hook)
{
	struct nftnl_chain *c = chain_new(name, (int)hook, NF_DROP);

	if (!c)
		return -ENOMEM;
	if (panic_push(rs, PC_NFT_CHAIN, c) < 0) {
		nftnl_chain_free(c);
		return -ENOMEM;
	}
	rs->n_chains++;
	return 0;
}

static struct nftnl_rule *panic_rule(struct pc_ruleset *rs, const char *chain)
{
	struct nftnl_rule *r = rule_new(chain);

	if (!r)
		return NULL;
	if (panic_push(rs, PC_NFT_RULE, r) < 0) {
		nftnl_rule_free(r);
		return NULL;
	}
	rs->n_rules++;
	return r;
}

/* "iif lo accept" (or oif), then "counter drop" so the drops are counted. */
static int panic_chain_rules(struct pc_ruleset *rs, const char *chain, uint32_t meta)
{
	uint32_t lo_index = 1; /* the loopback device is ifindex 1 in every namespace */
	struct nftnl_rule *r = panic_rule(rs, chain);
	int ret = r ? rule_add_meta(r, meta, NFT_REG_1) : -ENOMEM;

	if (ret >= 0)
		ret = rule_add_cmp(r, NFT_CMP_EQ, NFT_REG_1, &lo_index, sizeof(lo_index));
	if (ret >= 0)
		ret = rule_add_verdict(r, PC_VERDICT_ACCEPT);
	if (ret < 0)
		return ret;
	r = panic_rule(rs, chain);
	ret = r ? rule_add_counter(r) : -ENOMEM;
	if (ret >= 0)
		ret = rule_set_comment(r, "portctl panic mode");
	return ret < 0 ? ret : rule_add_verdict(r, PC_VERDICT_DROP);
}

/* Routed traffic, port-forwarded and published connections included:
 * "counter drop". No nat chains exist in panic mode, so nothing is
 * DNAT'ed to begin with; this stops what conntrack had translated before. */
static int panic_forward(struct pc_ruleset *rs)
{
	struct nftnl_rule *r = panic_rule(rs, "forward");
	int ret = r ? rule_add_counter(r) : -ENOMEM;

	if (ret >= 0)
		ret = rule_set_comment(r, "portctl panic mode");
	return ret < 0 ? ret : rule_add_verdict(r, PC_VERDICT_DROP);
}

int pc_ruleset_panic(struct pc_ruleset **out)
{
	struct pc_ruleset *rs = calloc(1, sizeof(*rs));
	int ret = rs ? panic_table(rs) : -ENOMEM;

	/* Chains before rules: one batch adds them in this order. */
	if (ret >= 0)
		ret = panic_chain(rs, "input", NF_INET_LOCAL_IN);
	if (ret >= 0)
		ret = panic_chain(rs, "output", NF_INET_LOCAL_OUT);
	if (ret >= 0)
		ret = panic_chain(rs, "forward", NF_INET_FORWARD);
	if (ret >= 0)
		ret = panic_chain_rules(rs, "input", NFT_META_IIF);
	if (ret >= 0)
		ret = panic_chain_rules(rs, "output", NFT_META_OIF);
	if (ret >= 0)
		ret = panic_forward(rs);
	if (ret < 0) {
		pc_ruleset_free(rs);
		return ret;
	}
	*out = rs;
	return 0;
}
