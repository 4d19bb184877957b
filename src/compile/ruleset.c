/* The compiler's entry point and the text form of a ruleset: plan, lower,
 * and print the objects the way libnftnl describes them. */
#include "config.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <libnftnl/chain.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>

#include "compile-internal.h"
#include "portctl/compile.h"
#include "portctl/plan.h"
#include "portctl/util.h"

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
	uint8_t bit = l4_proto(l4proto);

	for (size_t i = 0; i < r->n_ports; i++)
		if ((r->ports[i].protos & bit) && r->ports[i].lo <= port && port <= r->ports[i].hi)
			return true;
	return false;
}

static int rules_zones_cmp(const struct pc_rule *a, const struct pc_rule *b)
{
	if (a->dir != b->dir)
		return a->dir < b->dir ? -1 : 1;
	if (a->n_zones != b->n_zones)
		return a->n_zones < b->n_zones ? -1 : 1;
	for (size_t i = 0; i < a->n_zones; i++) {
		int c = strcmp(a->zones[i].name, b->zones[i].name);

		if (c != 0)
			return c;
	}
	return 0;
}

static bool rules_same_zones(const struct pc_rule *a, const struct pc_rule *b)
{
	return rules_zones_cmp(a, b) == 0;
}

/* inet_proto . inet_service: proto in byte 0, port big endian at 4. */
static bool elem_port_key(const struct nftnl_set_elem *e, uint8_t *l4proto, uint16_t *port)
{
	uint32_t len = 0;
	/* libnftnl takes no const, but reading an attribute changes nothing. */
	const uint8_t *key = e ? nftnl_set_elem_get((struct nftnl_set_elem *)e, NFTNL_SET_ELEM_KEY, &len) : NULL;

	if (!key || len != 8)
		return false;
	*l4proto = key[0];
	*port = (uint16_t)(key[4] << 8 | key[5]);
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
	uint8_t l4proto;
	uint16_t port;

	if (!elem_port_key(e, &l4proto, &port))
		return first;
	for (const struct pc_rule *r = first; r < cfg->rules + cfg->n_rules; r++)
		if (!rule_is_nat(r) && rules_same_zones(r, first) && rule_has_port(r, l4proto, port))
			return r;
	return first;
}

/*
 * pc_ruleset_elem_rule for many elements at once, in O((P + n) log) for P
 * ports of all rules, where one call each is O(rules) per element. Rules
 * are grouped by zones and direction; within a group, walking rule numbers
 * downwards, each rule paints its ports into a segment tree over the port
 * space (the last paint is the lowest number), and a query whose run
 * starts at k, asked once every rule from k on is painted, reads its port.
 */
#define PORT_SPACE 65536u
#define NO_RULE UINT32_MAX

struct port_tree_node {
	uint32_t rule;
	uint32_t group; /* stamp: a node of an earlier group holds nothing */
};

struct owner_query {
	uint32_t group, first;
	uint16_t port;
	uint8_t slot; /* 0 tcp, 1 udp, 2 sctp */
	size_t item;
};

/* By zones and direction, then by number (the rules are one array). */
static int rule_ptr_cmp(const void *a, const void *b)
{
	const struct pc_rule *x = *(const struct pc_rule *const *)a;
	const struct pc_rule *y = *(const struct pc_rule *const *)b;
	int c = rules_zones_cmp(x, y);

	return c != 0 ? c : x < y ? -1 : x > y;
}

static int owner_query_cmp(const void *a, const void *b)
{
	const struct owner_query *x = a, *y = b;

	if (x->group != y->group)
		return x->group < y->group ? -1 : 1;
	/* Latest runs first: the walk goes down the rule numbers. */
	return x->first > y->first ? -1 : x->first < y->first;
}

static int proto_slot(uint8_t l4proto)
{
	return l4proto == 6 ? 0 : l4proto == 17 ? 1 : l4proto == 132 ? 2 : -1;
}

static void tree_paint(struct port_tree_node *t, uint32_t lo, uint32_t hi, uint32_t rule,
		       uint32_t group)
{
	/* Rules come in decreasing numbers: painting over is taking the min. */
	for (lo += PORT_SPACE, hi += PORT_SPACE + 1; lo < hi; lo >>= 1, hi >>= 1) {
		if (lo & 1)
			t[lo++] = (struct port_tree_node){ rule, group };
		if (hi & 1)
			t[--hi] = (struct port_tree_node){ rule, group };
	}
}

static uint32_t tree_read(const struct port_tree_node *t, uint16_t port, uint32_t group)
{
	uint32_t best = NO_RULE;

	for (uint32_t i = port + PORT_SPACE; i > 0; i >>= 1)
		if (t[i].group == group && t[i].rule < best)
			best = t[i].rule;
	return best;
}

static void rule_paint(struct port_tree_node *trees, const struct pc_rule *r, uint32_t rule,
		       uint32_t group)
{
	static const uint8_t bits[] = { PC_PROTO_TCP, PC_PROTO_UDP, PC_PROTO_SCTP };

	if (rule_is_nat(r))
		return; /* a forward's port is no element of a filter map */
	for (size_t p = 0; p < r->n_ports; p++)
		for (size_t s = 0; s < ARRAY_SIZE(bits); s++)
			if (r->ports[p].protos & bits[s])
				tree_paint(trees + s * 2 * PORT_SPACE, r->ports[p].lo, r->ports[p].hi,
					   rule, group);
}

int pc_ruleset_elem_rules(const struct pc_config *cfg, struct pc_elem_owner *items, size_t n)
{
	_cleanup_free_ const struct pc_rule **sorted = NULL;
	_cleanup_free_ uint32_t *order = NULL, *group = NULL;
	_cleanup_free_ struct owner_query *q = NULL;
	_cleanup_free_ struct port_tree_node *trees = NULL;
	_cleanup_free_ bool *asked = NULL;
	size_t n_q = 0, n_sorted = 0, k = 0;

	for (size_t i = 0; i < n; i++)
		items[i].rule = items[i].first;
	if (n == 0 || cfg->n_rules == 0)
		return 0;
	sorted = malloc(cfg->n_rules * sizeof(*sorted));
	order = malloc(cfg->n_rules * sizeof(*order));
	group = malloc(cfg->n_rules * sizeof(*group));
	asked = calloc(cfg->n_rules, sizeof(*asked));
	q = malloc(n * sizeof(*q));
	if (!sorted || !order || !group || !asked || !q)
		return -ENOMEM;

	for (size_t i = 0; i < n; i++)
		if (items[i].first >= cfg->rules && items[i].first < cfg->rules + cfg->n_rules)
			asked[items[i].first - cfg->rules] = true;
	/* Only the rules that paint a port and those a query starts at: the
	 * others (100,000 addresses beside a few ports) change no answer. */
	for (size_t i = 0; i < cfg->n_rules; i++)
		if (asked[i] || (cfg->rules[i].n_ports && !rule_is_nat(&cfg->rules[i])))
			sorted[n_sorted++] = &cfg->rules[i];
	qsort(sorted, n_sorted, sizeof(*sorted), rule_ptr_cmp);
	for (size_t i = 0, g = 1; i < n_sorted; i++) {
		if (i > 0 && rules_zones_cmp(sorted[i - 1], sorted[i]) != 0)
			g++;
		order[i] = (uint32_t)(sorted[i] - cfg->rules);
		group[order[i]] = (uint32_t)g;
	}

	for (size_t i = 0; i < n; i++) {
		const struct pc_rule *first = items[i].first;
		uint8_t l4proto;
		uint16_t port;
		int slot;

		/* A protocol no rule can name matches no rule: first stays. */
		if (!first || first < cfg->rules || first >= cfg->rules + cfg->n_rules ||
		    !elem_port_key(items[i].elem, &l4proto, &port) || (slot = proto_slot(l4proto)) < 0)
			continue;
		q[n_q++] = (struct owner_query){ .group = group[first - cfg->rules],
						 .first = (uint32_t)(first - cfg->rules),
						 .port = port, .slot = (uint8_t)slot, .item = i };
	}
	if (n_q == 0)
		return 0;
	qsort(q, n_q, sizeof(*q), owner_query_cmp);
	/* Zeroed: group stamps start at 1. */
	trees = calloc(3 * 2 * PORT_SPACE, sizeof(*trees));
	if (!trees)
		return -ENOMEM;

	/* order lists each group's rules by number; walk each group downwards. */
	for (size_t i = 0; i < n_q;) {
		uint32_t g = q[i].group;
		size_t end, at;

		while (k < n_sorted && group[order[k]] < g)
			k++;
		for (end = k; end < n_sorted && group[order[end]] == g; end++)
			;
		at = end;
		for (; i < n_q && q[i].group == g; i++) {
			uint32_t best;

			for (; at > k && order[at - 1] >= q[i].first; at--)
				rule_paint(trees, &cfg->rules[order[at - 1]], order[at - 1], g);
			best = tree_read(trees + q[i].slot * 2 * PORT_SPACE, q[i].port, g);
			if (best != NO_RULE)
				items[q[i].item].rule = &cfg->rules[best];
		}
		k = end;
	}
	return 0;
}
