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
