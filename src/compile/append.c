/* Adding one rule to a compiled configuration without compiling it again:
 * when the rule merges into the last port map of its chains, only its new
 * map elements are built. */
#include "config.h"

#include <assert.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <libnftnl/set.h>

#include "compile-internal.h"
#include "nft-build.h"
#include "portctl/compile.h"

#define SET_NAME_MAX 256

/* The ruleset's set of that name, or -1; a ruleset has a few dozen objects. */
static ssize_t ruleset_set_find(const struct pc_ruleset *rs, const char *name)
{
	for (size_t i = 0; i < rs->n_objs; i++)
		if (rs->objs[i].kind == PC_NFT_SET &&
		    streq(nftnl_set_get_str(rs->objs[i].obj, NFTNL_SET_NAME), name))
			return (ssize_t)i;
	return -1;
}

/* A set holding only new elements, named like the target so that the
 * netlink stage can send them as they are. */
static struct nftnl_set *elems_set_new(const struct nftnl_set *like)
{
	struct nftnl_set *s = nftnl_set_alloc();

	if (!s)
		return NULL;
	nftnl_set_set_str(s, NFTNL_SET_TABLE, nftnl_set_get_str(like, NFTNL_SET_TABLE));
	nftnl_set_set_str(s, NFTNL_SET_NAME, nftnl_set_get_str(like, NFTNL_SET_NAME));
	nftnl_set_set_u32(s, NFTNL_SET_FAMILY, nftnl_set_get_u32(like, NFTNL_SET_FAMILY));
	return s;
}

static struct nftnl_set *append_target(struct pc_rule_append *app, const struct pc_ruleset *rs,
				       ssize_t obj)
{
	struct pc_append_set *t;

	for (size_t i = 0; i < app->n_sets; i++)
		if (app->sets[i].obj == (size_t)obj)
			return app->sets[i].elems;
	t = PC_ARRAY_PUSH(app->sets, app->n_sets, app->cap_sets);
	if (!t)
		return NULL;
	t->obj = (size_t)obj;
	t->elems = elems_set_new(rs->objs[obj].obj);
	return t->elems;
}

/* First segment that ends at or after (proto, lo): segments are disjoint
 * and sorted by (l4proto, lo), so by (l4proto, hi) too. */
static size_t segment_first(const struct pc_plan_entry *e, uint8_t proto, uint16_t lo)
{
	size_t a = 0, b = e->n_ports;

	while (a < b) {
		size_t m = a + (b - a) / 2;
		const struct pc_plan_port *p = &e->ports[m];

		if (p->l4proto < proto || (p->l4proto == proto && p->hi < lo))
			a = m + 1;
		else
			b = m;
	}
	return a;
}

static int piece_add(struct pc_rule_append *app, size_t zone, int dir, size_t entry,
		     const struct pc_plan_port *p)
{
	struct pc_append_port *ap = PC_ARRAY_PUSH(app->ports, app->n_ports, app->cap_ports);

	if (!ap)
		return -ENOMEM;
	*ap = (struct pc_append_port){ .zone = zone, .dir = dir, .entry = entry, .port = *p };
	return 0;
}

/* The parts of span [lo, hi] of proto that no earlier rule of the run
 * decides: first match, so those parts keep their verdicts. A part that a
 * rule from run_end on decides would pass to the new rule, which comes
 * first: that takes a full compile. */
static int span_subtract(struct pc_rule_append *app, size_t zone, int dir, size_t entry,
			 const struct pc_plan_entry *e, const struct pc_plan_port *span,
			 const struct pc_rule *run_end)
{
	uint32_t lo = span->lo;
	int r = 0;

	for (size_t i = segment_first(e, span->l4proto, span->lo);
	     r >= 0 && lo <= span->hi && i < e->n_ports && e->ports[i].l4proto == span->l4proto &&
	     e->ports[i].lo <= span->hi;
	     i++) {
		struct pc_plan_port piece = *span;

		if (run_end && (uintptr_t)e->ports[i].rule >= (uintptr_t)run_end)
			return -EOPNOTSUPP;
		if (e->ports[i].lo > lo) {
			piece.lo = (uint16_t)lo;
			piece.hi = (uint16_t)(e->ports[i].lo - 1);
			r = piece_add(app, zone, dir, entry, &piece);
		}
		lo = (uint32_t)e->ports[i].hi + 1;
	}
	if (r >= 0 && lo <= span->hi) {
		struct pc_plan_port piece = *span;

		piece.lo = (uint16_t)lo;
		r = piece_add(app, zone, dir, entry, &piece);
	}
	return r;
}

/* The rule's own port space as disjoint spans, as the full compile cuts it. */
static int rule_spans(const struct pc_rule *r, struct pc_plan_spans *out)
{
	_cleanup_free_ struct span_item *items = NULL;
	size_t n = 0, cap = 0;
	int ret = rule_port_items(r, 0, &items, &n, &cap);

	out->width = 3;
	return ret < 0 ? ret : spans_flatten(items, n, out);
}

static int chain_append(struct pc_rule_append *app, const struct pc_plan *plan,
			const struct pc_ruleset *rs, const struct pc_rule *r, size_t z,
			const struct pc_plan_spans *spans, const struct pc_rule *run_end)
{
	const struct pc_plan_chain *c = &plan->zones[z].dir[r->dir];
	size_t first = app->n_ports, entry;
	const struct pc_plan_entry *e;
	int ret = 0;

	if (c->n_entries == 0 || c->entries[c->n_entries - 1].kind != PC_ENTRY_PORTS)
		return -EOPNOTSUPP;
	entry = c->n_entries - 1;
	e = &c->entries[entry];
	/* The run must hold a rule before r's place, or r would head it. */
	if (run_end && (uintptr_t)e->first >= (uintptr_t)run_end)
		return -EOPNOTSUPP;
	for (size_t i = 0; ret >= 0 && i < spans->n; i++) {
		const struct pc_plan_span *s = &spans->items[i];
		struct pc_plan_port span = {
			.l4proto = s->lo[0],
			.lo = (uint16_t)(s->lo[1] << 8 | s->lo[2]),
			.hi = (uint16_t)(s->hi[1] << 8 | s->hi[2]),
			.verdict = s->verdict,
			.rule = r,
		};

		ret = span_subtract(app, z, r->dir, entry, e, &span, run_end);
	}
	/* Exact ports go to the _ports map, ranges to _ranges (lower.c); a
	 * map the run does not have yet needs a new set and kernel rule. */
	for (size_t i = first; ret >= 0 && i < app->n_ports; i++) {
		const struct pc_plan_port *p = &app->ports[i].port;
		char name[SET_NAME_MAX];
		struct nftnl_set *s;
		ssize_t obj;

		entry_set_name(name, sizeof(name), r->dir, plan->zones[z].zone->name, entry,
			       port_map_suffix(p->lo != p->hi));
		obj = ruleset_set_find(rs, name);
		if (obj < 0)
			return -EOPNOTSUPP;
		app->ports[i].obj = (size_t)obj;
		s = append_target(app, rs, obj);
		ret = s ? port_elem_add(s, p) : -ENOMEM;
	}
	return ret;
}

int pc_rule_append_prepare(const struct pc_plan *plan, const struct pc_ruleset *rs,
			   const struct pc_rule *r, const struct pc_rule *run_end,
			   struct pc_rule_append *out)
{
	struct pc_plan_spans spans = { 0 };
	size_t nz = r->n_zones ? r->n_zones : 1;
	int ret;

	*out = (struct pc_rule_append){ 0 };
	if (!rule_is_port_only(r))
		return -EOPNOTSUPP;
	ret = rule_spans(r, &spans);
	for (size_t i = 0; ret >= 0 && i < nz; i++) {
		ssize_t z = rule_zone_index(plan->cfg, r, i);

		ret = z < 0 ? -EOPNOTSUPP
			    : chain_append(out, plan, rs, r, (size_t)z, &spans, run_end);
	}
	spans_free(&spans);
	if (ret < 0)
		pc_rule_append_free(out);
	return ret;
}

static int entry_insert(struct pc_plan_entry *e, const struct pc_plan_port *p)
{
	size_t at = segment_first(e, p->l4proto, p->lo);

	if (e->n_ports == e->cap_ports) {
		size_t cap = e->cap_ports ? e->cap_ports * 2 : 8;
		struct pc_plan_port *v = realloc(e->ports, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		e->ports = v;
		e->cap_ports = cap;
	}
	memmove(&e->ports[at + 1], &e->ports[at], (e->n_ports - at) * sizeof(*p));
	e->ports[at] = *p;
	e->n_ports++;
	return 0;
}

int pc_rule_append_commit(struct pc_plan *plan, struct pc_ruleset *rs, const struct pc_rule *r,
			  struct pc_rule_append *app)
{
	int ret = 0;

	for (size_t i = 0; ret >= 0 && i < app->n_ports; i++) {
		struct pc_append_port *ap = &app->ports[i];
		struct pc_plan_entry *e = &plan->zones[ap->zone].dir[ap->dir].entries[ap->entry];

		/* The pieces were cut while r was parsed at the end of the rules. */
		ap->port.rule = r;
		ret = entry_insert(e, &ap->port);
		if ((uintptr_t)e->last < (uintptr_t)r)
			e->last = r;
	}
	/* The same elements again, for the ruleset to keep: a libnftnl element
	 * cannot be moved from one set to another. */
	for (size_t i = 0; ret >= 0 && i < app->n_ports; i++) {
		ret = port_elem_add(rs->objs[app->ports[i].obj].obj, &app->ports[i].port);
		rs->n_elems += ret >= 0;
	}
	return ret;
}

void pc_rule_append_free(struct pc_rule_append *app)
{
	for (size_t i = 0; i < app->n_sets; i++)
		nftnl_set_free(app->sets[i].elems);
	free(app->sets);
	free(app->ports);
	*app = (struct pc_rule_append){ 0 };
}

static bool rule_moved(const struct pc_rule *p, const struct pc_rule *first,
		       const struct pc_rule *end)
{
	return (uintptr_t)p >= (uintptr_t)first && (uintptr_t)p < (uintptr_t)end;
}

static void rule_ptr_shift(const struct pc_rule **p, const struct pc_rule *first,
			   const struct pc_rule *end, ptrdiff_t delta)
{
	if (rule_moved(*p, first, end))
		*p += delta;
}

static void spans_rules_shift(struct pc_plan_spans *s, const struct pc_rule *first,
			      const struct pc_rule *end, ptrdiff_t delta)
{
	for (size_t i = 0; i < s->n; i++)
		rule_ptr_shift(&s->items[i].rule, first, end, delta);
}

void pc_plan_rules_shift(struct pc_plan *plan, struct pc_ruleset *rs, const struct pc_rule *first,
			 const struct pc_rule *end, ptrdiff_t delta)
{
	for (size_t z = 0; z < plan->n_zones; z++) {
		for (int dir = 0; dir < PC_N_DIRS; dir++) {
			struct pc_plan_chain *c = &plan->zones[z].dir[dir];

			for (size_t i = 0; i < c->n_entries; i++) {
				struct pc_plan_entry *e = &c->entries[i];
				/* An entry's segments and spans are its run's rules. */
				bool moved = (uintptr_t)e->last >= (uintptr_t)first &&
					     (uintptr_t)e->first < (uintptr_t)end;

				rule_ptr_shift(&e->first, first, end, delta);
				rule_ptr_shift(&e->last, first, end, delta);
				if (!moved)
					continue;
				for (size_t k = 0; k < e->n_ports; k++)
					rule_ptr_shift(&e->ports[k].rule, first, end, delta);
				spans_rules_shift(&e->addr4, first, end, delta);
				spans_rules_shift(&e->addr6, first, end, delta);
			}
		}
	}
	for (size_t i = 0; i < rs->n_objs; i++)
		rule_ptr_shift(&rs->objs[i].rule, first, end, delta);
}
