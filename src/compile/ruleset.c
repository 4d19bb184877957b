/* The compiler's entry point and the text form of a ruleset: plan, lower,
 * and print the objects the way libnftnl describes them. */
#include "config.h"

#include <assert.h>
#include <errno.h>
#include <string.h>

#include <libnftnl/chain.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>

#include "portctl/compile.h"
#include "portctl/plan.h"

int pc_compile(const struct pc_config *cfg, struct pc_ruleset **out, struct pc_diags *d)
{
	struct pc_plan *plan = NULL;
	int r = pc_plan_build(cfg, &plan, d);

	if (r < 0)
		return r;
	r = pc_ruleset_lower(plan, out, d);
	pc_plan_free(plan);
	return r;
}

static int object_print(FILE *out, const struct pc_nft_object *o)
{
	int n = 0;

	switch (o->kind) {
	case PC_NFT_TABLE:
		n = nftnl_table_fprintf(out, o->obj, NFTNL_OUTPUT_DEFAULT, 0);
		break;
	case PC_NFT_CHAIN:
		n = nftnl_chain_fprintf(out, o->obj, NFTNL_OUTPUT_DEFAULT, 0);
		break;
	case PC_NFT_SET:
		n = nftnl_set_fprintf(out, o->obj, NFTNL_OUTPUT_DEFAULT, 0);
		break;
	case PC_NFT_RULE:
		n = nftnl_rule_fprintf(out, o->obj, NFTNL_OUTPUT_DEFAULT, 0);
		break;
	}
	return n < 0 || fputc('\n', out) == EOF ? -EIO : 0;
}

static int chain_rules_print(FILE *out, const struct pc_ruleset *rs, const char *chain)
{
	for (size_t i = 0; i < rs->n_objs; i++) {
		const struct pc_nft_object *o = &rs->objs[i];

		if (o->kind != PC_NFT_RULE ||
		    strcmp(nftnl_rule_get_str(o->obj, NFTNL_RULE_CHAIN), chain) != 0)
			continue;
		if (object_print(out, o) < 0)
			return -EIO;
	}
	return 0;
}

int pc_ruleset_print(FILE *out, const struct pc_ruleset *rs)
{
	for (size_t i = 0; i < rs->n_objs; i++) {
		const struct pc_nft_object *o = &rs->objs[i];

		if ((o->kind == PC_NFT_TABLE || o->kind == PC_NFT_SET) && object_print(out, o) < 0)
			return -EIO;
	}
	for (size_t i = 0; i < rs->n_objs; i++) {
		const struct pc_nft_object *o = &rs->objs[i];

		if (o->kind != PC_NFT_CHAIN)
			continue;
		if (object_print(out, o) < 0 ||
		    chain_rules_print(out, rs, nftnl_chain_get_str(o->obj, NFTNL_CHAIN_NAME)) < 0)
			return -EIO;
	}
	return fflush(out) == EOF ? -EIO : 0;
}

static bool rule_has_port(const struct pc_rule *r, uint8_t l4proto, uint16_t port)
{
	uint8_t bit = l4proto == 6 ? PC_PROTO_TCP : l4proto == 17 ? PC_PROTO_UDP
						   : l4proto == 132 ? PC_PROTO_SCTP : 0;

	for (size_t i = 0; i < r->n_ports; i++)
		if ((r->ports[i].protos & bit) && r->ports[i].lo <= port && port <= r->ports[i].hi)
			return true;
	return false;
}

static bool rules_same_zones(const struct pc_rule *a, const struct pc_rule *b)
{
	if (a->dir != b->dir || a->n_zones != b->n_zones)
		return false;
	for (size_t i = 0; i < a->n_zones; i++)
		if (!streq(a->zones[i].name, b->zones[i].name))
			return false;
	return true;
}

/*
 * The rule an element of a merged port map belongs to. The compiler keeps
 * the run's first rule on the set; within a run each port segment carries
 * the verdict of the first rule matching it, so the first rule from there
 * on (same zones and direction) that has the element's port is its owner.
 */
const struct pc_rule *pc_ruleset_elem_rule(const struct pc_config *cfg, const struct pc_rule *first,
					   const struct nftnl_set_elem *e)
{
	uint32_t len = 0;
	/* libnftnl takes no const, but reading an attribute changes nothing. */
	const uint8_t *key = e ? nftnl_set_elem_get((struct nftnl_set_elem *)e, NFTNL_SET_ELEM_KEY, &len) : NULL;
	uint16_t port;

	/* inet_proto . inet_service: proto in byte 0, port big endian at 4. */
	if (!key || len != 8)
		return first;
	port = (uint16_t)(key[4] << 8 | key[5]);
	for (const struct pc_rule *r = first; r < cfg->rules + cfg->n_rules; r++)
		if (rules_same_zones(r, first) && rule_has_port(r, key[0], port))
			return r;
	return first;
}
