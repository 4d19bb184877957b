/* The compiler's output: the nftables objects of table "inet portctl", in
 * the order they must be added, each tied back to the rule that made it. */
#ifndef PORTCTL_COMPILE_H
#define PORTCTL_COMPILE_H

#include <stdio.h>

#include "portctl/config.h"
#include "portctl/diag.h"

#define PC_TABLE_NAME "portctl"

enum pc_nft_kind { PC_NFT_TABLE, PC_NFT_CHAIN, PC_NFT_SET, PC_NFT_RULE };

struct pc_nft_object {
	enum pc_nft_kind kind;
	/* struct nftnl_table / nftnl_chain / nftnl_set (elements included) /
	 * nftnl_rule, owned by the ruleset. */
	void *obj;
	/* The rule or zone this object came from, for error messages that
	 * name FILE:LINE:COL; both NULL for the built-in preamble. */
	const struct pc_rule *rule;
	const struct pc_zone *zone;
};

struct pc_ruleset {
	struct pc_nft_object *objs;
	size_t n_objs, cap_objs;
	/* Totals, for benchmarks and status. */
	size_t n_chains, n_sets, n_rules, n_elems;
};

struct pc_plan;

/*
 * Compile a validated configuration into the objects of table inet
 * portctl: pc_plan_build, then pc_ruleset_lower. The objects point into
 * cfg (rule and zone), which must outlive the ruleset. On success *out
 * owns a new ruleset (pc_ruleset_free). Returns 0, -EINVAL with
 * diagnostics in d, or -ENOMEM.
 */
int pc_compile(const struct pc_config *cfg, struct pc_ruleset **out, struct pc_diags *d);

/* Lower a plan (see portctl/plan.h) into nftables objects. Same contract. */
int pc_ruleset_lower(const struct pc_plan *plan, struct pc_ruleset **out, struct pc_diags *d);

void pc_ruleset_free(struct pc_ruleset *rs);

/*
 * Print the ruleset as libnftnl's text of each object: the table, the sets
 * with their elements, then each chain followed by its rules. For
 * "portctld --check" and tests; two compilations of one configuration
 * print the same text. Returns 0 or -EIO.
 */
int pc_ruleset_print(FILE *out, const struct pc_ruleset *rs);

#endif
