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

#endif
