/* A rule put into or taken out of a compiled configuration without
 * compiling it again: the port map elements that change, built alone, and
 * the plan's pointers kept following the rules they name. */
#include "config.h"

#include <assert.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <libnftnl/set.h>

#include "compile-internal.h"
#include "nft-build.h"
#include "portctl/compile.h"

#define SET_NAME_MAX 256

/* The ruleset's set of that name, or -1; a ruleset has a few dozen objects. */
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

static int piece_add(struct pc_rule_append *app, size_t zone, int dir, size_t entry,
		     const struct pc_plan_port *p)
{
	struct pc_append_port *ap = PC_ARRAY_PUSH(app->ports, app->n_ports, app->cap_ports);

	if (!ap)
		return -ENOMEM;
	*ap = (struct pc_append_port){ .zone = zone, .dir = dir, .entry = entry, .port = *p };
	return 0;
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

static bool rule_moved(const struct pc_rule *p, const struct pc_rule *first,
		       const struct pc_rule *end)
{
	return (uintptr_t)p >= (uintptr_t)first && (uintptr_t)p < (uintptr_t)end;
}

static void rule_ptr_shift(const struct pc_rule **p, const struct pc_rules_moved *m)
{
	if (rule_moved(*p, m->first, m->end))
		*p = m->to ? m->to + (*p - m->first) : *p + m->by;
}

static void spans_rules_shift(struct pc_plan_spans *s, const struct pc_rules_moved *m)
{
	for (size_t i = 0; i < s->n; i++)
		rule_ptr_shift(&s->items[i].rule, m);
}

/* The segments of a port run that moved rules decide. A few rules moved
 * (the shipped defaults after the CLI's file, at each change) among the
 * 10,000 segments of a run: each one's own ports are looked up, as the
 * segments are sorted; many: every segment is read. */
static void ports_rules_shift(struct pc_plan_entry *e, const struct pc_rules_moved *m)
{
	const struct pc_rule *lo = (uintptr_t)m->first > (uintptr_t)e->first ? m->first : e->first;
	const struct pc_rule *hi = (uintptr_t)m->end < (uintptr_t)(e->last + 1) ? m->end : e->last + 1;

	if ((uintptr_t)lo >= (uintptr_t)hi)
		return;
	if ((size_t)(hi - lo) * 64 > e->n_ports) {
		for (size_t k = 0; k < e->n_ports; k++)
			rule_ptr_shift(&e->ports[k].rule, m);
		return;
	}
	for (const struct pc_rule *old = lo; (uintptr_t)old < (uintptr_t)hi; old++) {
		const struct pc_rule *now = old;

		/* Already in its new place: read it there. */
		rule_ptr_shift(&now, m);
		for (size_t i = 0; i < now->n_ports; i++)
			for (size_t p = 0; p < ARRAY_SIZE(pc_protos_all); p++) {
				uint8_t proto = proto_l4(pc_protos_all[p]);

				if (!(now->ports[i].protos & pc_protos_all[p]))
					continue;
				for (size_t k = segment_first(e, proto, now->ports[i].lo);
				     k < e->n_ports && e->ports[k].l4proto == proto &&
				     e->ports[k].lo <= now->ports[i].hi;
				     k++)
					if (e->ports[k].rule == old)
						e->ports[k].rule = now;
			}
	}
}

/* The spans of a PAIRS run that moved rules decide: each moved rule's
 * port's, or, many moved, every port's. */
static void pairs_rules_shift(struct pc_plan_entry *e, const struct pc_rules_moved *m)
{
	const struct pc_rule *lo = (uintptr_t)m->first > (uintptr_t)e->first ? m->first : e->first;
	const struct pc_rule *hi = (uintptr_t)m->end < (uintptr_t)(e->last + 1) ? m->end : e->last + 1;

	if (e->kind != PC_ENTRY_PAIRS || (uintptr_t)lo >= (uintptr_t)hi)
		return;
	if ((size_t)(hi - lo) * 64 > e->n_pairs) {
		for (size_t k = 0; k < e->n_pairs; k++) {
			spans_rules_shift(&e->pairs[k].addr4, m);
			spans_rules_shift(&e->pairs[k].addr6, m);
		}
		return;
	}
	for (const struct pc_rule *old = lo; (uintptr_t)old < (uintptr_t)hi; old++) {
		const struct pc_rule *now = old;
		struct pc_pair_key keys[PC_RULE_PAIRS_MAX];
		size_t n;

		rule_ptr_shift(&now, m);
		n = rule_addr_paired(now) ? rule_pairs(now, keys) : 0;
		for (size_t k = 0; k < n; k++) {
			struct pc_plan_pair *p = pairs_find(e, &keys[k]);

			for (size_t f = 0; p && f < 2; f++) {
				struct pc_plan_spans *s = f ? &p->addr6 : &p->addr4;

				for (size_t i = 0; i < s->n; i++)
					if (s->items[i].rule == old)
						s->items[i].rule = now;
			}
		}
	}
}

/* Is any of the moved rules one that objects name other than as the
 * first of an entry (a port forward, a masquerade: lower.c), or too many
 * to say? */
static bool moved_named_otherwise(const struct pc_rules_moved *m)
{
	if (m->end - m->first > 64)
		return true;
	for (const struct pc_rule *old = m->first; (uintptr_t)old < (uintptr_t)m->end; old++) {
		const struct pc_rule *now = old;

		rule_ptr_shift(&now, m);
		if (now->action == PC_FORWARD || now->action == PC_MASQUERADE)
			return true;
	}
	return false;
}

void pc_plan_rules_shift(struct pc_plan *plan, struct pc_ruleset *rs,
			 const struct pc_rules_moved *moved)
{
	const struct pc_rule *first = moved->first, *end = moved->end;
	bool objs_follow = false;

	if (first == end)
		return;
	for (size_t z = 0; z < plan->n_zones; z++) {
		for (int dir = 0; dir < PC_N_DIRS; dir++) {
			struct pc_plan_chain *c = &plan->zones[z].dir[dir];

			/* Only the entries from the first that ends in or after the
			 * moved rules to the last that begins before their end point
			 * at them (10,000 entries of rules of their own are not all
			 * read). */
			for (size_t i = chain_entry_at(c, first);
			     i < c->n_entries && (uintptr_t)c->entries[i].first < (uintptr_t)end; i++) {
				struct pc_plan_entry *e = &c->entries[i];

				/* An entry's segments and spans are its run's rules
				 * (found by its bounds before they move). */
				ports_rules_shift(e, moved);
				pairs_rules_shift(e, moved);
				objs_follow |= rule_moved(e->first, first, end);
				rule_ptr_shift(&e->first, moved);
				rule_ptr_shift(&e->last, moved);
				rule_ptr_shift(&e->anchor, moved);
				rule_ptr_shift(&e->anchor_last, moved);
				spans_rules_shift(&e->addr4, moved);
				spans_rules_shift(&e->addr6, moved);
			}
		}
	}
	/* Objects name the first rule of their entry, or a port forward or
	 * masquerade, or none: when no entry's first moved (the shipped
	 * defaults inside the CLI's port run, at each change), none of the
	 * 20,000 objects of rules of their own is read. */
	if (!objs_follow && !moved_named_otherwise(moved))
		return;
	for (size_t i = 0; i < rs->n_objs; i++)
		rule_ptr_shift(&rs->objs[i].rule, moved);
}

/* --- a rule put into or taken out of a port map's run, in place --- */

/* A port key as the span code has it: protocol byte, then the port. */
static void port_key3(uint8_t proto, uint16_t port, uint8_t key[16])
{
	memset(key, 0, 16);
	key[0] = proto;
	key[1] = (uint8_t)(port >> 8);
	key[2] = (uint8_t)(port & 0xff);
}

/* The run of a chain a port-only rule r goes into (or is taken out of):
 * its entry, and the run's first and last rule after the change. */
struct run_place {
	size_t entry;
	const struct pc_rule *first, *last;
};

static int run_place_insert(const struct pc_plan_chain *c, const struct pc_rule *r,
			    struct run_place *out)
{
	size_t k = chain_entry_at(c, r);

	if (k < c->n_entries && (uintptr_t)c->entries[k].first < (uintptr_t)r) {
		/* Inside a run: only a port map's run takes r without splitting. */
		if (c->entries[k].kind != PC_ENTRY_PORTS)
			return -EOPNOTSUPP;
		*out = (struct run_place){ k, c->entries[k].first, c->entries[k].last };
	} else if (k > 0 && c->entries[k - 1].kind == PC_ENTRY_PORTS) {
		*out = (struct run_place){ k - 1, c->entries[k - 1].first, r };
	} else if (k < c->n_entries && c->entries[k].kind == PC_ENTRY_PORTS) {
		*out = (struct run_place){ k, r, c->entries[k].last };
	} else {
		/* A new entry: its sets and kernel rules, and every later set renamed. */
		return -EOPNOTSUPP;
	}
	return 0;
}

static int run_place_remove(const struct pc_plan *plan, const struct pc_plan_chain *c, size_t z,
			    int dir, const struct pc_rule *r, struct run_place *out)
{
	size_t k = chain_entry_at(c, r);
	const struct pc_plan_entry *e = k < c->n_entries ? &c->entries[k] : NULL;
	const struct pc_rule *p;

	/* Not in the chain; or a run of r alone, which goes away with its
	 * sets and kernel rules. */
	if (!e || (uintptr_t)r < (uintptr_t)e->first || e->kind != PC_ENTRY_PORTS ||
	    e->first == e->last)
		return -EOPNOTSUPP;
	*out = (struct run_place){ k, e->first, e->last };
	if (r == e->first) {
		for (p = r + 1; !rule_in_chain(plan, p, z, dir); p++)
			;
		out->first = p;
	}
	if (r == e->last) {
		for (p = r - 1; !rule_in_chain(plan, p, z, dir); p--)
			;
		out->last = p;
	}
	return 0;
}

/* No rule but r has a port of proto where r has one in [lo, hi]. */
static bool later_rules_idle(const struct pc_config *cfg, const struct pc_rule *r,
			     enum pc_proto proto, uint16_t lo, uint16_t hi)
{
	for (size_t i = 0; i < r->n_ports; i++) {
		const struct pc_port_range *pr = &r->ports[i];
		uint16_t a = pr->lo > lo ? pr->lo : lo, b = pr->hi < hi ? pr->hi : hi;

		if ((pr->protos & proto) && a <= b && !pc_config_ports_alone(cfg, r, proto, a, b))
			return false;
	}
	return true;
}

/* The new deciders over [lo, hi] of proto, as items to flatten: the
 * entry's segments there (the first match among the old rules), minus
 * those of a removed rule, plus what changes: an added rule's own ports,
 * or the ports of the rules after a removed one (which may decide what it
 * decided; the rules before it did not, or it would not have). */
static int region_items(const struct pc_plan *plan, size_t z, int dir,
			const struct run_place *run, const struct pc_plan_entry *e, size_t from,
			size_t to, const struct pc_rule *r, bool remove, uint8_t proto, uint16_t lo,
			uint16_t hi, struct span_item **items, size_t *n, size_t *cap)
{
	enum pc_proto bit = l4_proto(proto);
	const struct pc_rule *p = remove ? r + 1 : r, *end = remove ? run->last : r;

	/* Only where r decided can a later rule decide now; when no other
	 * rule has a port there (the usual delete), none is read. */
	if (remove && later_rules_idle(plan->cfg, r, bit, lo, hi))
		end = r;
	for (size_t i = from; i < to; i++) {
		struct span_item *it;

		if (e->ports[i].rule == r)
			continue;
		it = PC_ARRAY_PUSH(*items, *n, *cap);
		if (!it)
			return -ENOMEM;
		*it = (struct span_item){ .prio = (uint32_t)(e->ports[i].rule - plan->cfg->rules),
					  .verdict = e->ports[i].verdict,
					  .rule = e->ports[i].rule };
		port_key3(proto, e->ports[i].lo, it->lo);
		port_key3(proto, e->ports[i].hi, it->hi);
	}
	for (; (uintptr_t)p <= (uintptr_t)end; p++) {
		bool checked = false;

		for (size_t i = 0; i < p->n_ports; i++) {
			const struct pc_port_range *pr = &p->ports[i];
			struct span_item *it;

			if (!(pr->protos & bit) || pr->hi < lo || pr->lo > hi)
				continue;
			if (!checked && p != r && !rule_in_chain(plan, p, z, dir))
				break;
			checked = true;
			it = PC_ARRAY_PUSH(*items, *n, *cap);
			if (!it)
				return -ENOMEM;
			*it = (struct span_item){ .prio = (uint32_t)(p - plan->cfg->rules),
						  .verdict = action_verdict(p->action),
						  .rule = p };
			port_key3(proto, pr->lo > lo ? pr->lo : lo, it->lo);
			port_key3(proto, pr->hi < hi ? pr->hi : hi, it->hi);
		}
	}
	return 0;
}

static bool port_same(const struct pc_plan_port *a, const struct pc_plan_port *b)
{
	return a->l4proto == b->l4proto && a->lo == b->lo && a->hi == b->hi &&
	       a->verdict == b->verdict && a->rule == b->rule;
}

static int port_cmp(const struct pc_plan_port *a, const struct pc_plan_port *b)
{
	if (a->l4proto != b->l4proto)
		return a->l4proto < b->l4proto ? -1 : 1;
	if (a->lo != b->lo)
		return a->lo < b->lo ? -1 : 1;
	return 0;
}

/* The element of p into the set of its kind of the entry. */
static int edit_elem(struct pc_rule_append *app, const struct pc_plan *plan,
		     const struct pc_ruleset *rs, size_t z, int dir, size_t entry,
		     const struct pc_plan_port *p)
{
	char name[SET_NAME_MAX];
	struct nftnl_set *s;
	ssize_t obj;
	int r;

	pc_plan_entry_base(name, sizeof(name), dir, plan->zones[z].zone->name,
			   &plan->zones[z].dir[dir].entries[entry]);
	strncat(name, port_map_suffix(port_kind(p)), sizeof(name) - strlen(name) - 1);
	obj = pc_ruleset_set_find(rs, name);
	if (obj < 0)
		return -EOPNOTSUPP; /* a map the run does not have: a new set */
	r = piece_add(app, z, dir, entry, p);
	if (r >= 0)
		app->ports[app->n_ports - 1].obj = (size_t)obj;
	s = r < 0 ? NULL : append_target(app, rs, obj);
	return s ? port_elem_add(s, p) : -ENOMEM;
}

/* Segments [from, to) of the entry made again over [klo, khi] of proto
 * from the run's rules: the pieces, and the elements that differ. */
static int region_make(struct pc_rule_edit *ed, const struct pc_plan *plan,
		       const struct pc_ruleset *rs, size_t z, int dir, const struct run_place *run,
		       const struct pc_rule *r, bool remove, size_t from, size_t to, uint8_t proto,
		       uint16_t klo, uint16_t khi)
{
	const struct pc_plan_entry *e = &plan->zones[z].dir[dir].entries[run->entry];
	struct pc_plan_spans spans = { .width = 3 };
	_cleanup_free_ struct span_item *items = NULL;
	size_t n_items = 0, cap = 0, i, k;
	struct pc_edit_region *rg;

	int ret;

	ret = region_items(plan, z, dir, run, e, from, to, r, remove, proto, klo, khi, &items,
			   &n_items, &cap);
	if (ret >= 0)
		ret = spans_flatten(items, n_items, &spans);
	rg = ret < 0 ? NULL : PC_ARRAY_PUSH(ed->regions, ed->n_regions, ed->cap_regions);
	if (!rg) {
		spans_free(&spans);
		return -ENOMEM;
	}
	*rg = (struct pc_edit_region){ .zone = z, .dir = dir, .entry = run->entry, .from = from,
				       .to = to };
	rg->pieces = calloc(spans.n ? spans.n : 1, sizeof(*rg->pieces));
	if (!rg->pieces) {
		spans_free(&spans);
		return -ENOMEM;
	}
	for (i = 0; i < spans.n; i++) {
		const struct pc_plan_span *s = &spans.items[i];

		rg->pieces[i] = (struct pc_plan_port){
			.l4proto = s->lo[0],
			.lo = (uint16_t)(s->lo[1] << 8 | s->lo[2]),
			.hi = (uint16_t)(s->hi[1] << 8 | s->hi[2]),
			.verdict = s->verdict,
			.rule = s->rule,
		};
	}
	rg->n_pieces = spans.n;
	spans_free(&spans);
	/* Both sorted: what only the old has goes, what only the new has comes. */
	for (i = from, k = 0; ret >= 0 && (i < to || k < rg->n_pieces);) {
		int c = i == to ? 1 : k == rg->n_pieces ? -1 : port_cmp(&e->ports[i], &rg->pieces[k]);

		if (c == 0 && port_same(&e->ports[i], &rg->pieces[k])) {
			i++, k++;
		} else if (c <= 0 && i < to) {
			ret = edit_elem(&ed->del, plan, rs, z, dir, run->entry, &e->ports[i++]);
		} else {
			ret = edit_elem(&ed->add, plan, rs, z, dir, run->entry, &rg->pieces[k++]);
		}
	}
	return ret;
}

/* The regions of one chain a change of r touches: r's own spans, widened
 * to the segments they overlap and the touching ones (which a change may
 * merge with), neighbouring regions joined. */
static int chain_edit(struct pc_rule_edit *ed, const struct pc_plan *plan,
		      const struct pc_ruleset *rs, size_t z, int dir, const struct run_place *run,
		      const struct pc_rule *rule, bool remove, const struct pc_plan_spans *own)
{
	const struct pc_plan_entry *e = &plan->zones[z].dir[dir].entries[run->entry];
	size_t from = 0, to = 0;
	uint32_t klo = 0, khi = 0;
	uint8_t proto = 0;
	bool open = false;
	int r = 0;

	for (size_t s = 0; r >= 0 && s < own->n; s++) {
		const struct pc_plan_span *sp = &own->items[s];
		uint8_t p = sp->lo[0];
		uint32_t lo = (uint32_t)(sp->lo[1] << 8 | sp->lo[2]);
		uint32_t hi = (uint32_t)(sp->hi[1] << 8 | sp->hi[2]);
		size_t i0 = segment_first(e, p, (uint16_t)lo), i1 = i0;

		while (i1 < e->n_ports && e->ports[i1].l4proto == p && e->ports[i1].lo <= hi)
			i1++;
		if (i1 > i0) {
			lo = lo < e->ports[i0].lo ? lo : e->ports[i0].lo;
			hi = hi > e->ports[i1 - 1].hi ? hi : e->ports[i1 - 1].hi;
		}
		if (i0 > 0 && e->ports[i0 - 1].l4proto == p && e->ports[i0 - 1].hi + 1u == lo)
			lo = e->ports[--i0].lo;
		if (i1 < e->n_ports && e->ports[i1].l4proto == p && e->ports[i1].lo == hi + 1u)
			hi = e->ports[i1++].hi;
		if (open && p == proto && lo <= khi + 1) {
			khi = hi > khi ? hi : khi;
			to = i1 > to ? i1 : to;
			continue;
		}
		if (open)
			r = region_make(ed, plan, rs, z, dir, run, rule, remove, from, to, proto,
					(uint16_t)klo, (uint16_t)khi);
		open = true;
		proto = p, klo = lo, khi = hi, from = i0, to = i1;
	}
	if (r >= 0 && open)
		r = region_make(ed, plan, rs, z, dir, run, rule, remove, from, to, proto,
				(uint16_t)klo, (uint16_t)khi);
	return r;
}

/* A set of ranges the change would leave empty: the full compile has no
 * such set (nor its kernel rules). Stops at the first segment that stays. */
static bool ranges_emptied(const struct pc_rule_edit *ed, const struct pc_plan_entry *e, size_t z,
			   int dir, size_t entry)
{
	if (run_has_all_sets(e->anchor_n))
		return false;
	for (int kind = 0; kind < PORT_KINDS; kind++) {
		size_t gone = 0, seen = 0;

		if (!(kind & PORT_KIND_RANGES))
			continue;

		for (size_t i = 0; i < ed->add.n_ports; i++) {
			const struct pc_append_port *ap = &ed->add.ports[i];

			if (ap->zone == z && ap->dir == dir && ap->entry == entry &&
			    port_kind(&ap->port) == kind)
				gone = SIZE_MAX; /* one comes: the set stays */
		}
		for (size_t i = 0; gone != SIZE_MAX && i < ed->del.n_ports; i++) {
			const struct pc_append_port *ap = &ed->del.ports[i];

			gone += ap->zone == z && ap->dir == dir && ap->entry == entry &&
				port_kind(&ap->port) == kind;
		}
		if (gone == 0 || gone == SIZE_MAX)
			continue;
		for (size_t i = 0; seen <= gone && i < e->n_ports; i++)
			seen += port_kind(&e->ports[i]) == kind;
		if (seen == gone)
			return true;
	}
	return false;
}

/* --- an address rule put into its run or taken out of it --- */

/* The ruleset's set of the entry for a span of family: hosts or ranges,
 * by verdict; -1 when the run has none (a new set: not in place). */
static ssize_t addr_set_obj(const struct pc_plan *plan, const struct pc_ruleset *rs, size_t z,
			    int dir, const struct pc_plan_entry *e, uint8_t family,
			    const struct pc_plan_span *sp)
{
	char name[SET_NAME_MAX], suffix[ADDR_SET_SUFFIX_MAX];

	pc_plan_entry_base(name, sizeof(name), dir, plan->zones[z].zone->name, e);
	addr_set_suffix(suffix, family, e->match_dst, span_is_host(sp), sp->verdict);
	strncat(name, suffix, sizeof(name) - strlen(name) - 1);
	return pc_ruleset_set_find(rs, name);
}

static bool span_same(const struct pc_plan_span *a, const struct pc_plan_span *b)
{
	return !key_cmp(a->lo, b->lo) && !key_cmp(a->hi, b->hi) && a->rule == b->rule &&
	       a->verdict == b->verdict;
}

/* The addresses of rule p (of the run's side) of family in [lo, hi], as
 * items of its precedence (its place among the rules). */
static int addr_items(const struct pc_plan *plan, const struct pc_rule *p, bool dst,
		      uint8_t family, const uint8_t *lo, const uint8_t *hi, struct span_item **items,
		      size_t *n, size_t *cap)
{
	size_t at = *n, kept = *n;
	int r = rule_addr_items(p, dst, family, (uint32_t)(p - plan->cfg->rules), items, n, cap);

	for (size_t i = at; r >= 0 && i < *n; i++) {
		struct span_item *it = &(*items)[i];

		if (key_cmp(it->hi, lo) < 0 || key_cmp(it->lo, hi) > 0)
			continue;
		if (key_cmp(it->lo, lo) < 0)
			memcpy(it->lo, lo, 16);
		if (key_cmp(it->hi, hi) > 0)
			memcpy(it->hi, hi, 16);
		(*items)[kept++] = *it;
	}
	*n = r < 0 ? *n : kept;
	return r;
}

/* Whether, after the change, the run still has a span of sp's kind (its
 * set stays): one outside the regions made again, or one they make.
 * Stops at the first. */
static bool kind_stays(const struct pc_rule_edit *ed, size_t first,
		       const struct pc_plan_spans *spans, const struct pc_plan_span *sp)
{
	for (size_t i = 0; i < spans->n; i++) {
		bool inside = false;

		for (size_t k = first; !inside && k < ed->n_addrs; k++)
			inside = i >= ed->addrs[k].from && i < ed->addrs[k].to;
		if (!inside && spans->items[i].verdict == sp->verdict &&
		    span_is_host(&spans->items[i]) == span_is_host(sp))
			return true;
	}
	for (size_t k = first; k < ed->n_addrs; k++)
		for (size_t i = 0; i < ed->addrs[k].n_pieces; i++)
			if (ed->addrs[k].pieces[i].verdict == sp->verdict &&
			    span_is_host(&ed->addrs[k].pieces[i]) == span_is_host(sp))
				return true;
	return false;
}

/* The ruleset's set of a PAIRS run for prefixes of len (toward networks of
 * dlen) and verdict v of family; -1 when the run has none (a new set: not
 * in place). */
static ssize_t pair_set_obj(const struct pc_plan *plan, const struct pc_ruleset *rs, size_t z,
			    int dir, const struct pc_plan_entry *e, uint8_t family, unsigned dlen,
			    unsigned len, enum pc_verdict_kind v)
{
	char name[SET_NAME_MAX], suffix[PAIR_SET_SUFFIX_MAX];

	pc_plan_entry_base(name, sizeof(name), dir, plan->zones[z].zone->name, e);
	pair_set_suffix(suffix, family, entry_pairs_side(e), dlen, len, v);
	strncat(name, suffix, sizeof(name) - strlen(name) - 1);
	return pc_ruleset_set_find(rs, name);
}

/* The elements of a span of a PAIRS run that comes (or goes), one per
 * prefix, into ed and ae. */
struct pair_emit {
	struct pc_rule_edit *ed;
	struct pc_addr_edit *ae;
	const struct pc_plan *plan;
	const struct pc_ruleset *rs;
	size_t z;
	int dir;
	const struct pc_plan_entry *e;
	const struct pc_plan_span *span;
	bool del;
};

static int pair_piece_emit(const uint8_t *addr, unsigned len, void *arg)
{
	struct pair_emit *pe = arg;
	struct pc_addr_edit *ae = pe->ae;
	ssize_t obj = pair_set_obj(pe->plan, pe->rs, pe->z, pe->dir, pe->e, ae->family,
				   ae->key.dlen, len, pe->span->verdict);
	struct pc_pair_piece *pp;
	struct nftnl_set *set;

	if (obj < 0)
		return -EOPNOTSUPP;
	pp = PC_ARRAY_PUSH(ae->pp, ae->n_pp, ae->cap_pp);
	set = pp ? append_target(pe->del ? &pe->ed->del : &pe->ed->add, pe->rs, obj) : NULL;
	if (!set)
		return -ENOMEM;
	*pp = (struct pc_pair_piece){ .obj = (size_t)obj, .del = pe->del, .len = (uint8_t)len,
				      .verdict = pe->span->verdict, .rule = pe->span->rule };
	memcpy(pp->addr, addr, 16);
	if (pe->del)
		ae->n_del++;
	else
		ae->n_add++;
	return pair_elem_add(set, &ae->key, ae->family, addr, pe->span->rule);
}

/* Whether a prefix of length len of span sp's verdict is in the set. */
struct piece_find {
	unsigned len;
	bool found;
};

static int piece_of_len(const uint8_t *addr, unsigned len, void *arg)
{
	struct piece_find *pf = arg;

	(void)addr;
	if (len == pf->len) {
		pf->found = true;
		return -1; /* found: stop */
	}
	return 0;
}

static bool span_has_len(const struct pc_plan_span *sp, uint8_t width, unsigned len)
{
	struct piece_find pf = { .len = len };

	span_prefixes(sp->lo, sp->hi, width, piece_of_len, &pf);
	return pf.found;
}

/* Whether, after the change, the PAIRS run keeps its set of the prefixes
 * of len (toward networks of dlen) and verdict v of family: one it always
 * has (pair_set_always), or one with an element one of the edit's regions
 * [first, n_addrs) adds, or one of the run's spans outside those regions. */
static bool pair_kind_stays(const struct pc_rule_edit *ed, size_t first,
			    const struct pc_plan_entry *e, uint8_t family, unsigned dlen,
			    unsigned len, enum pc_verdict_kind v)
{
	uint8_t width = family == AF_INET ? 4 : 16;

	if (pair_set_always(e, family, dlen, len, v))
		return true;
	for (size_t k = first; k < ed->n_addrs; k++) {
		const struct pc_addr_edit *ae = &ed->addrs[k];

		for (size_t i = 0; ae->family == family && ae->key.dlen == dlen && i < ae->n_pp; i++)
			if (!ae->pp[i].del && ae->pp[i].len == len && ae->pp[i].verdict == v)
				return true;
	}
	for (size_t k = 0; k < e->n_pairs; k++) {
		const struct pc_plan_pair *p = &e->pairs[k];
		const struct pc_plan_spans *sp = family == AF_INET ? &p->addr4 : &p->addr6;

		for (size_t i = 0; p->key.dlen == dlen && i < sp->n; i++) {
			bool inside = false;

			for (size_t a = first; !inside && a < ed->n_addrs; a++) {
				const struct pc_addr_edit *ae = &ed->addrs[a];

				inside = ae->family == family && !pair_key_cmp(&ae->key, &p->key) &&
					 i >= ae->from && i < ae->to;
			}
			if (!inside && sp->items[i].verdict == v &&
			    span_has_len(&sp->items[i], width, len))
				return true;
		}
	}
	return false;
}

/* No set of the PAIRS run emptied by the edit's regions [first, n_addrs):
 * the full compile has no such set (nor its kernel rules). */
static bool pair_sets_stay(const struct pc_rule_edit *ed, size_t first,
			   const struct pc_plan_entry *e)
{
	for (size_t k = first; k < ed->n_addrs; k++)
		for (size_t i = 0; i < ed->addrs[k].n_pp; i++) {
			const struct pc_pair_piece *pp = &ed->addrs[k].pp[i];

			if (pp->del && !pair_kind_stays(ed, first, e, ed->addrs[k].family,
							ed->addrs[k].key.dlen, pp->len, pp->verdict))
				return false;
		}
	return true;
}

/* One region [lo, hi] of the run's spans of family made again with r put
 * in (or taken out): the spans there, widened to those it overlaps or
 * touches, flattened with r's addresses (or, r gone, the addresses of the
 * run's rules after it, which may decide what it decided), as pc_plan_build
 * cuts them; the elements that differ into ed. */
static int addr_region(struct pc_rule_edit *ed, const struct pc_plan *plan,
		       const struct pc_ruleset *rs, size_t z, int dir, size_t entry,
		       const struct pc_rule *r, bool remove, uint8_t family, uint8_t lo[16],
		       uint8_t hi[16], const struct pc_plan_spans *spans,
		       const struct pc_plan_pair *pair)
{
	const struct pc_plan_entry *e = &plan->zones[z].dir[dir].entries[entry];
	uint8_t width = family == AF_INET ? 4 : 16, before[16], after[16];
	_cleanup_free_ struct span_item *items = NULL;
	struct pc_plan_spans flat = { .width = width };
	size_t n_items = 0, cap = 0, from, to, i, k;
	struct pc_addr_edit *ae;
	int ret = 0;

	memcpy(before, lo, 16);
	memcpy(after, hi, 16);
	if (!key_dec(before, width))
		memcpy(before, lo, 16);
	if (!key_inc(after, width))
		memcpy(after, hi, 16);
	from = spans_first_ending_at(spans, before);
	for (to = from; to < spans->n && key_cmp(spans->items[to].lo, after) <= 0; to++)
		;
	if (from < to && key_cmp(spans->items[from].lo, lo) < 0)
		memcpy(lo, spans->items[from].lo, 16);
	if (from < to && key_cmp(spans->items[to - 1].hi, hi) > 0)
		memcpy(hi, spans->items[to - 1].hi, 16);
	for (i = from; i < to; i++) {
		struct span_item *it;

		if (spans->items[i].rule == r)
			continue;
		it = PC_ARRAY_PUSH(items, n_items, cap);
		if (!it)
			return -ENOMEM;
		*it = (struct span_item){ .prio = (uint32_t)(spans->items[i].rule - plan->cfg->rules),
					  .verdict = spans->items[i].verdict,
					  .rule = spans->items[i].rule };
		memcpy(it->lo, spans->items[i].lo, 16);
		memcpy(it->hi, spans->items[i].hi, 16);
	}
	if (!remove)
		ret = addr_items(plan, r, e->match_dst, family, lo, hi, &items, &n_items, &cap);
	for (const struct pc_rule *p = r + 1; remove && ret >= 0 && (uintptr_t)p <= (uintptr_t)e->last;
	     p++)
		if (rule_in_chain(plan, p, z, dir) &&
		    (!pair || rule_names_pair(p, &pair->key)))
			ret = addr_items(plan, p, e->match_dst, family, lo, hi, &items, &n_items,
					 &cap);
	if (ret >= 0)
		ret = spans_flatten(items, n_items, &flat);
	ae = ret < 0 ? NULL : PC_ARRAY_PUSH(ed->addrs, ed->n_addrs, ed->cap_addrs);
	if (!ae) {
		spans_free(&flat);
		return -ENOMEM;
	}
	*ae = (struct pc_addr_edit){ .zone = z, .entry = entry, .dir = dir, .family = family,
				     .from = from, .to = to, .pieces = flat.items,
				     .n_pieces = flat.n, .pair = pair != NULL,
				     .key = pair ? pair->key : (struct pc_pair_key){ 0 },
				     .objs = calloc(flat.n + to - from + 1, sizeof(*ae->objs)),
				     .at = calloc(flat.n + to - from + 1, sizeof(*ae->at)),
				     .dels = calloc(flat.n + to - from + 1, sizeof(*ae->dels)) };
	if (!ae->objs || !ae->at || !ae->dels)
		return -ENOMEM;
	/* Both sorted: what only the old has goes, what only the new has comes. */
	for (i = from, k = 0; ret >= 0 && (i < to || k < flat.n);) {
		const struct pc_plan_span *o = i < to ? &spans->items[i] : NULL;
		const struct pc_plan_span *n = k < flat.n ? &flat.items[k] : NULL;
		int c = !o ? 1 : !n ? -1 : key_cmp(o->lo, n->lo);
		const struct pc_plan_span *sp;
		static const uint8_t zero[16];
		struct nftnl_set *set;
		ssize_t obj;

		if (c == 0 && span_same(o, n)) {
			i++, k++;
			continue;
		}
		sp = c <= 0 ? o : n;
		if (pair) {
			struct pair_emit pe = { .ed = ed, .ae = ae, .plan = plan, .rs = rs, .z = z,
						.dir = dir, .e = e, .span = sp, .del = c <= 0 };

			ret = span_prefixes(sp->lo, sp->hi, width, pair_piece_emit, &pe);
			if (c <= 0)
				i++;
			else
				k++;
			continue;
		}
		obj = addr_set_obj(plan, rs, z, dir, e, family, sp);
		/* A set the run lacks, or the interval sets' opening element. */
		if (obj < 0 || !key_cmp(sp->lo, zero))
			return -EOPNOTSUPP;
		ae->objs[ae->n_objs] = (size_t)obj;
		ae->dels[ae->n_objs] = c <= 0;
		ae->at[ae->n_objs++] = c <= 0 ? i : k;
		set = append_target(c <= 0 ? &ed->del : &ed->add, rs, obj);
		if (!set)
			return -ENOMEM;
		ret = set_add_addr(set, sp, width, c <= 0 ? &ae->n_del : &ae->n_add);
		if (c <= 0)
			i++;
		else
			k++;
	}
	return ret;
}

/* Whether the elements of run e of `before` rules, `after` after the
 * change, cannot take it: the run has no sets (small_runs_by_rule), or it
 * becomes small or no longer in a chain cut into blocks (which may make
 * its file's small runs lowered by rule, or no longer). has_sets: the run
 * is known to have them, so its file's are not by rule, nor after a
 * change that leaves its small runs as many (no count of the chain's). */
static bool run_size_refused(const struct pc_plan_chain *c, const struct pc_plan_entry *e,
			     size_t before, size_t after, bool has_sets)
{
	struct small_runs own;
	const struct small_runs *s;
	bool refused;
	int err;

	if (!chain_cut(c->n_entries))
		return false;
	if (run_small(e->kind, before) != run_small(e->kind, after))
		return true;
	if (!run_small(e->kind, before) || has_sets)
		return false;
	s = chain_small_runs(c, &own, &err);
	refused = err < 0 || small_runs_file_by_rule(s, entry_file(e));
	small_runs_free(&own);
	return refused;
}

/* Whether port run e has its sets in rs: every one has its set of single
 * ports accepted (entry_ports_lower). */
static bool port_run_has_sets(const struct pc_plan *plan, const struct pc_ruleset *rs, size_t z,
			      int dir, const struct pc_plan_entry *e)
{
	char name[SET_NAME_MAX];

	pc_plan_entry_base(name, sizeof(name), dir, plan->zones[z].zone->name, e);
	strncat(name, port_map_suffix(0), sizeof(name) - strlen(name) - 1);
	return pc_ruleset_set_find(rs, name) >= 0;
}

/* r's region of one family in run entry: from its lowest address to its
 * highest (a rule of several is rare in a block list), made again
 * (addr_region). */
static int addr_family_edit(struct pc_rule_edit *ed, const struct pc_plan *plan,
			    const struct pc_ruleset *rs, size_t z, int dir, size_t entry,
			    const struct pc_rule *r, bool remove, uint8_t family,
			    const struct pc_pair_key *key)
{
	const struct pc_plan_entry *e = &plan->zones[z].dir[dir].entries[entry];
	const struct pc_plan_pair *pair = NULL;
	struct pc_plan_pair fresh = { .addr4.width = 4, .addr6.width = 16 };
	const struct pc_plan_spans *spans = family == AF_INET ? &e->addr4 : &e->addr6;
	const struct pc_prefix *pf = e->match_dst ? r->to : r->from;
	size_t np = e->match_dst ? r->n_to : r->n_from, first = ed->n_addrs;
	uint8_t lo[16], hi[16], a[16], b[16];
	bool any = false;
	int ret;

	for (size_t i = 0; i < np; i++) {
		if (pf[i].family != family)
			continue;
		key_from_prefix(&pf[i], a, b);
		if (!any || key_cmp(a, lo) < 0)
			memcpy(lo, a, 16);
		if (!any || key_cmp(b, hi) > 0)
			memcpy(hi, b, 16);
		any = true;
	}
	if (!any)
		return 0;
	if (key) {
		/* A port the run has not named yet starts empty. */
		pair = pairs_find(e, key);
		if (!pair) {
			fresh.key = *key;
			pair = &fresh;
		}
		spans = family == AF_INET ? &pair->addr4 : &pair->addr6;
	}
	ret = addr_region(ed, plan, rs, z, dir, entry, r, remove, family, lo, hi, spans, pair);
	/* A set the change empties: the full compile has no such set (a run
	 * of ports': once all its regions are made, pair_sets_stay; a big run
	 * has them all). */
	for (size_t i = ret < 0 || pair ? 0 : ed->addrs[first].from;
	     ret >= 0 && !pair && !run_has_all_sets(e->anchor_n) && i < ed->addrs[first].to; i++)
		if (!kind_stays(ed, first, spans, &spans->items[i]))
			ret = -EOPNOTSUPP;
	return ret;
}

static int addr_edit_prepare(const struct pc_plan *plan, const struct pc_ruleset *rs,
			     const struct pc_rule *r, bool remove, struct pc_rule_edit *out)
{
	enum pc_entry_kind kind = rule_addr_paired(r) ? PC_ENTRY_PAIRS : PC_ENTRY_ADDRS;
	struct pc_pair_key keys[PC_RULE_PAIRS_MAX];
	size_t nz = r->n_zones ? r->n_zones : 1, n_keys = rule_pairs(r, keys);
	int ret = 0;

	for (size_t i = 0; ret >= 0 && i < nz; i++) {
		ssize_t z = rule_zone_index(plan->cfg, r, i);
		const struct pc_plan_chain *c;
		const struct pc_plan_entry *e;
		const struct pc_rule *first, *last, *p;
		struct pc_edit_head *h;
		struct run_count count;
		size_t k;

		if (z < 0)
			return -EOPNOTSUPP;
		c = &plan->zones[z].dir[r->dir];
		k = chain_entry_at(c, r);
		e = k < c->n_entries ? &c->entries[k] : NULL;
		if (remove) {
			/* In a run of more than it (a scoped run or one of
			 * ports: of two more, a scoped rule alone being a rule
			 * of its own). */
			if (!e || e->kind != kind || (uintptr_t)e->first > (uintptr_t)r ||
			    e->first == e->last ||
			    ((e->scope_l4proto || kind == PC_ENTRY_PAIRS) && e->n_rules < 3))
				return -EOPNOTSUPP;
			first = e->first, last = e->last;
			if (r == first) {
				for (p = r + 1; !rule_in_chain(plan, p, (size_t)z, r->dir); p++)
					;
				first = p;
			}
			if (r == last) {
				for (p = r - 1; !rule_in_chain(plan, p, (size_t)z, r->dir); p--)
					;
				last = p;
			}
		} else {
			/* Inside a run of its side, or next to one. */
			if (!(e && (uintptr_t)e->first < (uintptr_t)r)) {
				const struct pc_plan_entry *prev = k > 0 ? &c->entries[k - 1] : NULL;

				if (prev && prev->kind == kind && merges_with(r, prev))
					e = prev, k--;
			}
			if (!e || e->kind != kind || !merges_with(r, e))
				return -EOPNOTSUPP;
			first = (uintptr_t)r < (uintptr_t)e->first ? r : e->first;
			last = (uintptr_t)r > (uintptr_t)e->last ? r : e->last;
		}
		/* Named otherwise, its sets would go, with their counters; made
		 * big or small, the sets it always has would come or go. */
		if (!run_edit_keeps_name(plan, (size_t)z, r->dir, e, r, remove, &count) ||
		    run_has_all_sets(e->anchor_n) != run_has_all_sets(count.anchor_n) ||
		    run_size_refused(c, e, e->n_rules, count.n_rules, false))
			return -EOPNOTSUPP;
		if (kind == PC_ENTRY_PAIRS) {
			size_t at = out->n_addrs;

			/* Toward a destination, its family's sources alone. */
			for (size_t q = 0; ret >= 0 && q < n_keys; q++)
				for (int f = 0; ret >= 0 && f < 2; f++)
					if (!keys[q].dfamily ||
					    keys[q].dfamily == (f ? AF_INET6 : AF_INET))
						ret = addr_family_edit(out, plan, rs, (size_t)z,
								       r->dir, k, r, remove,
								       f ? AF_INET6 : AF_INET,
								       &keys[q]);
			if (ret >= 0 && !pair_sets_stay(out, at, e))
				ret = -EOPNOTSUPP;
		} else {
			ret = addr_family_edit(out, plan, rs, (size_t)z, r->dir, k, r, remove,
					       AF_INET, NULL);
			if (ret >= 0)
				ret = addr_family_edit(out, plan, rs, (size_t)z, r->dir, k, r,
						       remove, AF_INET6, NULL);
		}
		h = ret < 0 ? NULL : PC_ARRAY_PUSH(out->heads, out->n_heads, out->cap_heads);
		if (ret >= 0 && !h)
			ret = -ENOMEM;
		if (h)
			*h = (struct pc_edit_head){ .zone = (size_t)z, .dir = r->dir, .entry = k,
						    .first = first, .last = last,
						    .anchor = count.anchor,
						    .anchor_last = count.anchor_last,
						    .anchor_n = count.anchor_n,
						    .n_rules = count.n_rules,
						    .paired = kind == PC_ENTRY_PAIRS ? r : NULL };
	}
	return ret;
}

/* Is the rule's k-th zone among zones (a mask of k)? Past 64, all are. */
static bool zone_in(uint64_t zones, size_t k)
{
	return k >= 64 || (zones >> k) & 1;
}

int pc_rule_edit_prepare(const struct pc_plan *plan, const struct pc_ruleset *rs,
			 const struct pc_rule *r, bool remove, struct pc_rule_edit *out)
{
	return pc_rule_edit_prepare_zones(plan, rs, r, remove, UINT64_MAX, out);
}

int pc_rule_edit_prepare_zones(const struct pc_plan *plan, const struct pc_ruleset *rs,
			       const struct pc_rule *r, bool remove, uint64_t zones,
			       struct pc_rule_edit *out)
{
	struct pc_plan_spans own = { 0 };
	size_t nz = r->n_zones ? r->n_zones : 1;
	int ret;

	*out = (struct pc_rule_edit){ .removed = remove ? r : NULL };
	if (zones != UINT64_MAX && nz > 64)
		return -EOPNOTSUPP;
	if ((rule_addr_side(r) || rule_addr_paired(r)) && !r->from_set_name.name &&
	    !r->to_set_name.name) {
		if (zones != UINT64_MAX)
			return -EOPNOTSUPP;
		ret = addr_edit_prepare(plan, rs, r, remove, out);
		if (ret < 0)
			pc_rule_edit_free(out);
		return ret;
	}
	if (!rule_is_port_only(r))
		return -EOPNOTSUPP;
	ret = rule_spans(r, &own);
	for (size_t i = 0; ret >= 0 && i < nz; i++) {
		ssize_t z = rule_zone_index(plan->cfg, r, i);
		const struct pc_plan_chain *c;
		struct pc_edit_head *h;
		struct run_place run;
		struct run_count count;

		if (!zone_in(zones, i))
			continue;
		if (z < 0) {
			ret = -EOPNOTSUPP;
			break;
		}
		c = &plan->zones[z].dir[r->dir];
		ret = remove ? run_place_remove(plan, c, (size_t)z, r->dir, r, &run)
			     : run_place_insert(c, r, &run);
		/* Named otherwise, its sets would go, with their counters. */
		if (ret >= 0)
			ret = run_edit_keeps_name(plan, (size_t)z, r->dir, &c->entries[run.entry],
						  r, remove, &count);
		/* Its sets of ranges would come or go (run_has_all_sets), or it
		 * has none (run_size_refused). */
		if (ret > 0 && (run_has_all_sets(c->entries[run.entry].anchor_n) !=
					run_has_all_sets(count.anchor_n) ||
				run_size_refused(c, &c->entries[run.entry], c->entries[run.entry].n_rules,
						 count.n_rules,
						 port_run_has_sets(plan, rs, (size_t)z, r->dir,
								   &c->entries[run.entry]))))
			ret = 0;
		if (ret == 0)
			ret = -EOPNOTSUPP;
		if (ret >= 0)
			ret = chain_edit(out, plan, rs, (size_t)z, r->dir, &run, r, remove, &own);
		if (ret >= 0 && ranges_emptied(out, &c->entries[run.entry], (size_t)z, r->dir,
					       run.entry))
			ret = -EOPNOTSUPP;
		h = ret < 0 ? NULL : PC_ARRAY_PUSH(out->heads, out->n_heads, out->cap_heads);
		if (ret >= 0 && !h)
			ret = -ENOMEM;
		if (h)
			*h = (struct pc_edit_head){ .zone = (size_t)z, .dir = r->dir,
						    .entry = run.entry, .first = run.first,
						    .last = run.last, .anchor = count.anchor,
						    .anchor_last = count.anchor_last,
						    .anchor_n = count.anchor_n,
						    .n_rules = count.n_rules };
	}
	spans_free(&own);
	if (ret < 0)
		pc_rule_edit_free(out);
	return ret;
}

static int stale_mark_kind(struct pc_ruleset *rs, const struct pc_plan *plan, size_t obj,
			   size_t zone, int dir, size_t entry, int kind)
{
	struct pc_stale_map *m;

	if (rs->objs[obj].stale)
		return 0;
	m = PC_ARRAY_PUSH(rs->stale, rs->n_stale, rs->cap_stale);
	if (!m)
		return -ENOMEM;
	*m = (struct pc_stale_map){ .obj = obj, .zone = zone, .dir = dir, .entry = entry,
				    .kind = kind };
	rs->objs[obj].stale = true;
	rs->ports_from = plan;
	return 0;
}

static int stale_mark(struct pc_ruleset *rs, const struct pc_plan *plan,
		      const struct pc_append_port *ap)
{
	return stale_mark_kind(rs, plan, ap->obj, ap->zone, ap->dir, ap->entry,
			       port_kind(&ap->port));
}

/* A rule of a PAIRS run's port came or went: a port no rule names any
 * more goes (as pc_plan_build would not have it). */
static void pair_count(struct pc_plan_entry *e, const struct pc_pair_key *key, bool removed)
{
	struct pc_plan_pair *p = pairs_find(e, key);
	size_t at;

	if (!p)
		return; /* not in this chain's run: nothing to count */
	if (!removed) {
		p->n_rules++;
		return;
	}
	if (--p->n_rules)
		return;
	at = (size_t)(p - e->pairs);
	pair_free(p);
	memmove(p, p + 1, (e->n_pairs - at - 1) * sizeof(*p));
	e->n_pairs--;
}

/* An address region into the plan's spans, and rs's sets: the new
 * elements added, a set that lost some left stale. */
static int addr_edit_commit(struct pc_plan *plan, struct pc_ruleset *rs,
			    const struct pc_addr_edit *ae)
{
	struct pc_plan_entry *e = &plan->zones[ae->zone].dir[ae->dir].entries[ae->entry];
	struct pc_plan_spans *spans = ae->family == AF_INET ? &e->addr4 : &e->addr6;
	uint8_t width = ae->family == AF_INET ? 4 : 16;
	size_t n, unused = 0;
	int ret = 0;

	if (ae->pair) {
		struct pc_plan_pair *p = pairs_find(e, &ae->key);

		if (!p) {
			size_t at = pairs_at(e, &ae->key);

			if (!PC_ARRAY_PUSH(e->pairs, e->n_pairs, e->cap_pairs))
				return -ENOMEM;
			memmove(&e->pairs[at + 1], &e->pairs[at],
				(e->n_pairs - 1 - at) * sizeof(*e->pairs));
			p = &e->pairs[at];
			*p = (struct pc_plan_pair){ .key = ae->key, .addr4.width = 4,
						    .addr6.width = 16 };
		}
		spans = ae->family == AF_INET ? &p->addr4 : &p->addr6;
		for (size_t i = 0; ret >= 0 && i < ae->n_pp; i++)
			if (ae->pp[i].del)
				ret = stale_mark_kind(rs, plan, ae->pp[i].obj, ae->zone, ae->dir,
						      ae->entry,
						      pair_kind(ae->family, ae->key.dlen,
								ae->pp[i].len, ae->pp[i].verdict));
		for (size_t i = 0; ret >= 0 && i < ae->n_pp; i++)
			if (!ae->pp[i].del && !rs->objs[ae->pp[i].obj].stale)
				ret = pair_elem_add(rs->objs[ae->pp[i].obj].obj, &ae->key,
						    ae->family, ae->pp[i].addr, ae->pp[i].rule);
	}
	n = spans->n - (ae->to - ae->from) + ae->n_pieces;

	if (n > spans->cap) {
		size_t cap = 2 * n;
		struct pc_plan_span *v = realloc(spans->items, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		spans->items = v;
		spans->cap = cap;
	}
	spans->width = width;
	/* Deleted elements first: a set both loses and gains one. */
	for (size_t i = 0; ret >= 0 && !ae->pair && i < ae->n_objs; i++) {
		const struct pc_plan_span *sp = ae->dels[i] ? &spans->items[ae->at[i]] : NULL;

		if (sp)
			ret = stale_mark_kind(rs, plan, ae->objs[i], ae->zone, ae->dir, ae->entry,
					      addr_kind(ae->family, span_is_host(sp), sp->verdict));
	}
	for (size_t i = 0; ret >= 0 && !ae->pair && i < ae->n_objs; i++)
		if (!ae->dels[i] && !rs->objs[ae->objs[i]].stale)
			ret = set_add_addr(rs->objs[ae->objs[i]].obj, &ae->pieces[ae->at[i]], width,
					   &unused);
	if (spans->n > ae->to)
		memmove(&spans->items[ae->from + ae->n_pieces], &spans->items[ae->to],
			(spans->n - ae->to) * sizeof(*spans->items));
	if (ae->n_pieces)
		memcpy(&spans->items[ae->from], ae->pieces, ae->n_pieces * sizeof(*spans->items));
	spans->n = n;
	rs->n_elems = rs->n_elems + ae->n_add - ae->n_del;
	return ret;
}

int pc_rule_edit_commit(struct pc_plan *plan, struct pc_ruleset *rs, struct pc_rule_edit *ed)
{
	int ret = 0;

	for (size_t i = ed->n_regions; i-- > 0;) {
		const struct pc_edit_region *rg = &ed->regions[i];
		struct pc_plan_entry *e = &plan->zones[rg->zone].dir[rg->dir].entries[rg->entry];
		size_t n = e->n_ports - (rg->to - rg->from) + rg->n_pieces;

		if (n > e->cap_ports) {
			size_t cap = n > 2 * e->cap_ports ? n : 2 * e->cap_ports;
			struct pc_plan_port *v = realloc(e->ports, cap * sizeof(*v));

			if (!v)
				return -ENOMEM;
			e->ports = v;
			e->cap_ports = cap;
		}
		memmove(&e->ports[rg->from + rg->n_pieces], &e->ports[rg->to],
			(e->n_ports - rg->to) * sizeof(*e->ports));
		memcpy(&e->ports[rg->from], rg->pieces, rg->n_pieces * sizeof(*e->ports));
		e->n_ports = n;
	}
	for (size_t i = 0; ret >= 0 && i < ed->n_addrs; i++)
		ret = addr_edit_commit(plan, rs, &ed->addrs[i]);
	for (size_t i = 0; i < ed->n_heads; i++) {
		const struct pc_edit_head *h = &ed->heads[i];
		struct pc_plan_chain *c = &plan->zones[h->zone].dir[h->dir];
		struct pc_plan_entry *e = &c->entries[h->entry];
		const struct pc_zone *zone = plan->zones[h->zone].zone;

		/* The objects of the run are told by its first rule. */
		for (size_t k = 0; e->first != h->first && k < rs->n_objs; k++)
			if (rs->objs[k].rule == e->first && rs->objs[k].zone == zone)
				rs->objs[k].rule = h->first;
		/* Its last rule, and so the file it counts in, may change. */
		if (c->small)
			small_runs_follow(c->small, e, 1, -1);
		e->first = h->first;
		e->last = h->last;
		e->anchor = h->anchor;
		e->anchor_last = h->anchor_last;
		e->anchor_n = h->anchor_n;
		e->n_rules = h->n_rules;
		if (c->small && small_runs_follow(c->small, e, 1, 1) < 0)
			chain_small_forget(c);
		if (h->paired) {
			struct pc_pair_key keys[PC_RULE_PAIRS_MAX];
			size_t n = rule_pairs(h->paired, keys);

			for (size_t k = 0; k < n; k++)
				pair_count(e, &keys[k], ed->removed != NULL);
		}
	}
	/* A libnftnl set cannot lose an element: a set that lost some is
	 * made again when next read (pc_ruleset_sync); others take the new. */
	for (size_t i = 0; ret >= 0 && i < ed->del.n_ports; i++)
		ret = stale_mark(rs, plan, &ed->del.ports[i]);
	for (size_t i = 0; ret >= 0 && i < ed->add.n_ports; i++) {
		const struct pc_append_port *ap = &ed->add.ports[i];

		if (!rs->objs[ap->obj].stale)
			ret = port_elem_add(rs->objs[ap->obj].obj, &ap->port);
	}
	rs->n_elems += ed->add.n_ports;
	rs->n_elems -= ed->del.n_ports;
	return ret;
}

void pc_rule_edit_free(struct pc_rule_edit *ed)
{
	pc_rule_append_free(&ed->del);
	pc_rule_append_free(&ed->add);
	for (size_t i = 0; i < ed->n_regions; i++)
		free(ed->regions[i].pieces);
	free(ed->regions);
	for (size_t i = 0; i < ed->n_addrs; i++) {
		free(ed->addrs[i].pieces);
		free(ed->addrs[i].objs);
		free(ed->addrs[i].dels);
		free(ed->addrs[i].at);
		free(ed->addrs[i].pp);
	}
	free(ed->addrs);
	free(ed->heads);
	*ed = (struct pc_rule_edit){ 0 };
}

/* Segment p of entry's port maps into app, the map found in objs by kind. */
static int run_elem(struct pc_rule_append *app, const struct pc_ruleset *rs,
		    const ssize_t objs[PORT_KINDS], size_t zone, int dir, size_t entry,
		    const struct pc_plan_port *p)
{
	ssize_t obj = objs[port_kind(p)];
	struct nftnl_set *s;
	int ret;

	if (obj < 0)
		return -EOPNOTSUPP; /* a range map the run lacks: a new set */
	ret = piece_add(app, zone, dir, entry, p);
	if (ret >= 0)
		app->ports[app->n_ports - 1].obj = (size_t)obj;
	s = ret < 0 ? NULL : append_target(app, rs, obj);
	return s ? port_elem_add(s, p) : -ENOMEM;
}

/* How many segments from was's i-th and now's j-th on are the same (the
 * i-th and j-th are), when now has each of was's segments as it was and
 * others between them (a join's run under its first part's name): one more
 * segment of now's moves those after it, which then never match again, so
 * the stretch is found by doubling, then halving: a join costs its second
 * part's segments, not the 10,000 of a big first part. */
static size_t ports_same_from(const struct pc_plan_entry *was, size_t i,
			      const struct pc_plan_entry *now, size_t j)
{
	size_t max = was->n_ports - i < now->n_ports - j ? was->n_ports - i : now->n_ports - j;
	size_t lo = 1, hi = 1;

#define SAME(t) ((t) < max && port_same(&was->ports[i + (t)], &now->ports[j + (t)]))
	while (SAME(hi)) {
		lo = hi + 1;
		hi *= 2;
	}
	hi = hi < max ? hi : max;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (SAME(mid))
			lo = mid + 1;
		else
			hi = mid;
	}
#undef SAME
	return lo;
}

int pc_ruleset_runs_edit(struct pc_ruleset *rs, const struct pc_plan *plan,
			 const struct pc_plan_entry_change *ch)
{
	/* The run that stays, before the change and after it. */
	const struct pc_plan_chain *c = &plan->zones[ch->zone].dir[ch->dir];
	size_t entry = ch->kept ? ch->to : ch->from - 1;
	const struct pc_plan_entry *was = &ch->saved[ch->kept ? ch->kept_from : 0];
	const struct pc_plan_entry *now = &c->entries[entry];
	char name[SET_NAME_MAX];
	ssize_t objs[PORT_KINDS];
	struct pc_shared_edit *ed;
	int ret = 0;

	if (!ch->cut && !ch->join && !ch->kept)
		return 0;
	for (int kind = 0; kind < PORT_KINDS; kind++) {
		pc_plan_entry_base(name, sizeof(name), ch->dir, plan->zones[ch->zone].zone->name,
				   now);
		strncat(name, port_map_suffix(kind), sizeof(name) - strlen(name) - 1);
		objs[kind] = pc_ruleset_set_find(rs, name);
	}
	ed = calloc(1, sizeof(*ed));
	if (!ed)
		return -ENOMEM;
	/* Both sorted and disjoint: what was's segments have that now's do
	 * not goes, and the other way round comes. A cut (its first part
	 * stays) only loses, a join only gains. */
	for (size_t i = 0, j = 0; ret >= 0 && (i < was->n_ports || j < now->n_ports);) {
		const struct pc_plan_port *w = i < was->n_ports ? &was->ports[i] : NULL;
		const struct pc_plan_port *n = j < now->n_ports ? &now->ports[j] : NULL;
		int cmp = !w ? 1 : !n ? -1 : port_cmp(w, n);

		if (cmp == 0 && port_same(w, n)) {
			size_t same = ch->join && !ch->kept ? ports_same_from(was, i, now, j) : 1;

			i += same;
			j += same;
			continue;
		}
		if (cmp <= 0)
			ret = run_elem(&ed->del, rs, objs, ch->zone, ch->dir, entry, &was->ports[i++]);
		if (ret >= 0 && cmp >= 0)
			ret = run_elem(&ed->add, rs, objs, ch->zone, ch->dir, entry, &now->ports[j++]);
	}
	/* The maps are made again from the plan when next read whole; until
	 * then a difference sends these changes. */
	for (size_t i = 0; ret >= 0 && i < ed->del.n_ports; i++)
		ret = stale_mark(rs, plan, &ed->del.ports[i]);
	for (size_t i = 0; ret >= 0 && i < ed->add.n_ports; i++)
		ret = stale_mark(rs, plan, &ed->add.ports[i]);
	if (ret < 0) {
		pc_rule_append_free(&ed->del);
		pc_rule_append_free(&ed->add);
		free(ed);
		return ret;
	}
	rs->n_elems = rs->n_elems - ed->del.n_ports + ed->add.n_ports;
	rs->shared = ed;
	return 0;
}

/* map[i]: where old's object i is in rs, made from old by
 * pc_ruleset_chain_remake (and folds), or SIZE_MAX when rs dropped it. rs
 * keeps the objects of old it did not drop, in their order, with its own
 * among them: one of old's is at most that many further on. */
static size_t *objects_map(const struct pc_ruleset *old, const struct pc_ruleset *rs)
{
	size_t *map = malloc((old->n_objs + 1) * sizeof(*map));
	size_t own = rs->n_objs + rs->n_dropped - old->n_objs, j = 0;

	for (size_t i = 0; map && i < old->n_objs; i++) {
		size_t k = j, end = j + own + 1 < rs->n_objs ? j + own + 1 : rs->n_objs;

		while (k < end && rs->objs[k].obj != old->objs[i].obj)
			k++;
		map[i] = k < end ? k : SIZE_MAX;
		j = k < end ? k + 1 : j;
	}
	return map;
}

/* app's objects renamed by map: false when one of them is gone. */
static bool append_rebase(struct pc_rule_append *app, const size_t *map)
{
	bool kept = true;

	for (size_t i = 0; i < app->n_sets; i++)
		kept &= (app->sets[i].obj = map[app->sets[i].obj]) != SIZE_MAX;
	for (size_t i = 0; i < app->n_ports; i++)
		kept &= (app->ports[i].obj = map[app->ports[i].obj]) != SIZE_MAX;
	return kept;
}

/* The objects of zone that rs shares with the ruleset it was made from,
 * told by rule from, told by rule to (those it made are its own). */
static void objects_retag(struct pc_ruleset *rs, const struct pc_zone *zone,
			  const struct pc_rule *from, const struct pc_rule *to)
{
	for (size_t i = 0; i < rs->n_objs; i++)
		if (rs->objs[i].shared && rs->objs[i].zone == zone && rs->objs[i].rule == from)
			rs->objs[i].rule = to;
}

/* rs's stale maps of ch's chain named by their entries before the change
 * (the entries from the change on are not all made whole first when a run
 * keeps its sets, ch->kept): by their entries after it. */
static void stale_follow(struct pc_ruleset *rs, const struct pc_plan_entry_change *ch)
{
	for (size_t i = 0; i < rs->n_stale; i++) {
		struct pc_stale_map *m = &rs->stale[i];

		if (m->zone != ch->zone || m->dir != ch->dir || m->entry < ch->at)
			continue;
		if (m->entry >= ch->at + ch->n_saved)
			m->entry = m->entry + ch->n_new - ch->n_saved;
		else if (ch->kept && m->entry == ch->at + ch->kept_from)
			m->entry = ch->to;
	}
}

/* from's shared edits (a cut or joined run's element changes) moved to
 * to, made from it by pc_ruleset_chain_remake (and folds), renamed as to
 * has their objects. 0, -EOPNOTSUPP when to left one out, -ENOMEM. */
static int shared_move(struct pc_ruleset *from, struct pc_ruleset *to)
{
	_cleanup_free_ size_t *map = NULL;

	if (!from->shared)
		return 0;
	if (to->shared)
		return -EOPNOTSUPP;
	if (!(map = objects_map(from, to)))
		return -ENOMEM;
	if (!append_rebase(&from->shared->del, map) || !append_rebase(&from->shared->add, map))
		return -EOPNOTSUPP;
	to->shared = TAKE_PTR(from->shared);
	return 0;
}

/* b's sets and ports appended to a's; b emptied. */
static int append_merge(struct pc_rule_append *a, struct pc_rule_append *b)
{
	for (size_t i = 0; i < b->n_sets; i++) {
		struct pc_append_set *v = PC_ARRAY_PUSH(a->sets, a->n_sets, a->cap_sets);

		if (!v)
			return -ENOMEM;
		*v = b->sets[i];
		b->sets[i].elems = NULL;
	}
	for (size_t i = 0; i < b->n_ports; i++) {
		struct pc_append_port *v = PC_ARRAY_PUSH(a->ports, a->n_ports, a->cap_ports);

		if (!v)
			return -ENOMEM;
		*v = b->ports[i];
	}
	a->n_elems += b->n_elems;
	b->n_sets = 0;
	pc_rule_append_free(b);
	return 0;
}

/* The shared edits of another zone's cut or join (before) go on with rs's. */
static int shared_merge(struct pc_ruleset *rs, struct pc_shared_edit *before)
{
	int ret;

	if (!rs->shared) {
		rs->shared = before;
		return 0;
	}
	ret = append_merge(&rs->shared->del, &before->del);
	if (ret >= 0)
		ret = append_merge(&rs->shared->add, &before->add);
	pc_rule_append_free(&before->del);
	pc_rule_append_free(&before->add);
	free(before);
	return ret;
}

int pc_entry_edit_prepare(struct pc_plan *plan, struct pc_ruleset *rs, const struct pc_rule *r,
			  bool remove, struct pc_entry_edit *out)
{
	return pc_entry_edit_prepare_zones(plan, rs, r, remove, UINT64_MAX, out);
}

/* A run that would keep its sets through change ch (a cut or a join: the
 * run at from - 1; ch->kept: the one at to) but has none before or after
 * (its file's small runs are lowered by rule, as the chain keeps them
 * after the change): a cut or joined one is made again with the rest, its old
 * kernel rules told by its first rule (the same before and after); a kept
 * one (a big run's) is not made in place. 0, -EOPNOTSUPP or -ENOMEM. */
static int by_rule_widen(const struct pc_plan_chain *c, struct pc_plan_entry_change *ch)
{
	const struct pc_plan_entry *keeps = NULL;
	const struct pc_rule **v;
	bool small = false;

	if ((ch->cut || ch->join) && ch->from > 0)
		keeps = &c->entries[ch->from - 1];
	else if (ch->kept && ch->to < c->n_entries)
		keeps = &c->entries[ch->to];
	if (!keeps)
		return 0;
	small = run_small(keeps->kind, keeps->n_rules);
	for (size_t i = 0; !small && i < ch->n_saved; i++)
		small = run_small(ch->saved[i].kind, ch->saved[i].n_rules);
	if (!small || !small_runs_file_by_rule(c->small, entry_file(keeps)))
		return 0;
	if (ch->kept)
		return -EOPNOTSUPP;
	v = realloc(ch->old_firsts, (ch->n_old + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	v[ch->n_old++] = keeps->first;
	ch->old_firsts = v;
	ch->from--;
	ch->cut = ch->join = false;
	return 0;
}

/* Does change ch make chain c cut into blocks or no longer, or lower a
 * file's small runs by rule or no longer (small_runs_flip)? Then every
 * block, or such small run, is made otherwise: not in place. 1, 0 or
 * -ENOMEM. */
static int chain_lowering_flips(const struct pc_plan_chain *c,
				const struct pc_plan_entry_change *ch)
{
	bool cut = chain_cut(c->n_entries);
	struct small_runs before = { 0 };
	int r;

	if (cut != chain_cut(c->n_entries - ch->n_new + ch->n_saved))
		return 1;
	if (!c->small)
		return -ENOMEM; /* entries_replace counted them, or failed */
	/* After, as the chain keeps them; before from it, the new entries
	 * out and those they replaced in: no pass over the chain's. */
	r = small_runs_copy(c->small, &before);
	if (r >= 0)
		r = small_runs_follow(&before, &c->entries[ch->at], ch->n_new, -1);
	if (r >= 0)
		r = small_runs_follow(&before, ch->saved, ch->n_saved, 1);
	if (r >= 0)
		r = small_runs_flip(&before, c->small);
	small_runs_free(&before);
	return r;
}

/* Are the blocks chain c is cut into as they were before change ch, none
 * beginning among the entries made again? Then pc_ruleset_chain_remake
 * need not compare them with old's (a pass over the chain's entries and
 * its block chains). Not known, so false: at the chain's head (the first
 * entry begins none, whichever it is), when later entries were renumbered
 * (their old names are not kept), for a run kept at `to`, or where the
 * chain is not cut both before and after. */
static bool blocks_kept(const struct pc_plan_chain *c, const struct pc_plan_entry_change *ch)
{
	size_t before = c->n_entries - ch->n_new + ch->n_saved, end = ch->at + ch->n_new;

	if (!chain_cut(before) || !chain_cut(c->n_entries) || ch->at == 0 || ch->kept ||
	    ch->to > end)
		return false;
	for (size_t i = 0; i < ch->n_saved; i++)
		if (entry_block_starts(&ch->saved[i], before, ch->at + i))
			return false;
	for (size_t e = ch->from < ch->at ? ch->from : ch->at; e < end || e < ch->to; e++)
		if (chain_block_starts(c, e))
			return false;
	return true;
}

int pc_entry_edit_prepare_zones(struct pc_plan *plan, struct pc_ruleset *rs,
				const struct pc_rule *r, bool remove, uint64_t zones,
				struct pc_entry_edit *out)
{
	size_t nz = r->n_zones ? r->n_zones : 1, zone;
	int ret;

	*out = (struct pc_entry_edit){ 0 };
	/* What the difference compares must be whole: the ban sets, and the
	 * maps of the entries made again. Other stale maps stay stale,
	 * shared with the ruleset made (their kernel sets are right). */
	ret = pc_ruleset_bans_sync(rs);
	for (size_t k = 0; ret >= 0 && k < nz; k++) {
		if (!zone_in(zones, k))
			continue;
		size_t from, upto;

		ret = pc_plan_rule_zone(plan, r, k, &zone);
		from = ret < 0 ? 0 : pc_plan_entry_from(plan, zone, r->dir, r, remove, &upto);
		if (ret >= 0)
			ret = pc_ruleset_ports_sync_entries(rs, zone, r->dir, from, upto);
	}
	if (ret >= 0 && !(out->plan = calloc(nz, sizeof(*out->plan))))
		ret = -ENOMEM;
	/* Zone after zone, each remake made from the one before and folded
	 * into one ruleset made from rs. */
	for (size_t k = 0; ret >= 0 && k < nz; k++) {
		struct pc_plan_entry_change *ch = &out->plan[out->n_plan];
		struct pc_ruleset *next = NULL;

		if (!zone_in(zones, k))
			continue;
		ret = pc_plan_rule_zone(plan, r, k, &zone);
		if (ret >= 0)
			ret = remove ? pc_plan_entry_delete(plan, zone, r->dir, r, ch)
				     : pc_plan_entry_insert(plan, zone, r->dir, r, ch);
		if (ret < 0)
			break;
		out->n_plan++;
		ret = chain_lowering_flips(&plan->zones[zone].dir[ch->dir], ch);
		if (ret > 0)
			ret = -EOPNOTSUPP;
		else if (ret == 0)
			ret = by_rule_widen(&plan->zones[zone].dir[ch->dir], ch);
		if (ret < 0)
			break;
		ret = pc_ruleset_chain_remake(out->rs ? out->rs : rs, plan, ch->zone, ch->dir,
					      ch->from, ch->to, ch->old_firsts, ch->n_old,
					      ch->kept ? ch->saved[ch->kept_from].first : NULL,
					      blocks_kept(&plan->zones[zone].dir[ch->dir], ch), &next);
		if (ret >= 0)
			stale_follow(next, ch);
		/* The run kept at `to` is told by its own first rule now. */
		if (ret >= 0 && ch->kept)
			objects_retag(next, plan->zones[zone].zone, ch->saved[ch->kept_from].first,
				      plan->zones[zone].dir[ch->dir].entries[ch->to].first);
		/* A zone before's cut or join: its element changes go on. */
		if (ret >= 0 && out->rs)
			ret = shared_move(out->rs, next);
		if (ret >= 0 && out->rs && (ret = pc_ruleset_fold(next, out->rs)) < 0)
			pc_ruleset_free(next);
		else if (ret >= 0)
			out->rs = next;
		else
			pc_ruleset_free(next);
		if (ret >= 0 && (ch->cut || ch->join || ch->kept)) {
			struct pc_shared_edit *before = TAKE_PTR(out->rs->shared);

			ret = pc_ruleset_runs_edit(out->rs, plan, ch);
			if (before && ret >= 0)
				ret = shared_merge(out->rs, before);
			else if (before)
				out->rs->shared = before;
		}
	}
	return ret;
}

int pc_rule_edit_split(struct pc_plan *plan, struct pc_ruleset *rs, const struct pc_rule *r,
		       bool remove, struct pc_rule_edit *ed, struct pc_entry_edit *ec)
{
	uint64_t zones = pc_rule_elem_zones(plan, rs, r, remove);
	int ret;

	*ed = (struct pc_rule_edit){ 0 };
	*ec = (struct pc_entry_edit){ 0 };
	if (!zones)
		return -EOPNOTSUPP;
	ret = pc_rule_edit_prepare_zones(plan, rs, r, remove, zones, ed);
	if (ret >= 0)
		ret = pc_entry_edit_prepare_zones(plan, rs, r, remove, ~zones, ec);
	/* The ruleset's shared edits are to be the elements' alone. */
	if (ret >= 0 && ec->rs->shared)
		ret = -EOPNOTSUPP;
	if (ret < 0) {
		pc_entry_edit_undo(plan, ec);
		pc_rule_edit_free(ed);
	}
	return ret;
}

uint64_t pc_rule_elem_zones(const struct pc_plan *plan, const struct pc_ruleset *rs,
			    const struct pc_rule *r, bool remove)
{
	size_t nz = r->n_zones ? r->n_zones : 1;
	uint64_t zones = 0;

	for (size_t k = 0; nz > 1 && k < nz && k < 64; k++) {
		struct pc_rule_edit ed;

		if (pc_rule_edit_prepare_zones(plan, rs, r, remove, UINT64_C(1) << k, &ed) == 0)
			zones |= UINT64_C(1) << k;
		pc_rule_edit_free(&ed);
	}
	return zones;
}

void pc_entry_edit_undo(struct pc_plan *plan, struct pc_entry_edit *e)
{
	for (size_t k = e->n_plan; k-- > 0;)
		pc_plan_entry_change_undo(plan, &e->plan[k]);
	pc_ruleset_free(e->rs);
	free(e->plan);
	*e = (struct pc_entry_edit){ 0 };
}

int pc_ruleset_rules_remake(const struct pc_plan *plan, struct pc_ruleset *base,
			    const struct pc_rule *const *rules, size_t n, struct pc_ruleset **out)
{
	struct pc_ruleset *made = NULL;
	int ret = pc_ruleset_bans_sync(base);

	for (size_t i = 0; ret >= 0 && i < n; i++) {
		const struct pc_rule *r = rules[i];
		size_t nz = r->n_zones ? r->n_zones : 1;

		for (size_t k = 0; ret >= 0 && k < nz; k++) {
			const struct pc_plan_chain *c;
			struct pc_ruleset *next = NULL;
			size_t zone, e;

			ret = pc_plan_rule_zone(plan, r, k, &zone);
			if (ret < 0)
				break;
			c = &plan->zones[zone].dir[r->dir];
			e = chain_entry_at(c, r);
			/* Only a rule of its own is made again alone. */
			if (e == c->n_entries || c->entries[e].first != r ||
			    c->entries[e].kind != PC_ENTRY_RULE) {
				ret = -EOPNOTSUPP;
				break;
			}
			/* The same entry: its chain's blocks stay, unless it
			 * begins one (made again with it). */
			ret = pc_ruleset_chain_remake(made ? made : base, plan, zone, r->dir, e, e + 1,
						      &r, 1, NULL,
						      !chain_block_starts(c, e),
						      &next);
			if (ret >= 0 && made && (ret = pc_ruleset_fold(next, made)) < 0)
				pc_ruleset_free(next);
			else if (ret >= 0)
				made = next;
		}
	}
	/* A cut or joined run's element changes go on with what is made
	 * (renamed in part when it fails: base is let go then). */
	if (ret >= 0)
		ret = shared_move(base, made);
	if (ret < 0)
		pc_ruleset_free(made);
	else
		*out = made;
	return ret;
}

int pc_rule_edit_onto(struct pc_rule_edit *ed, const struct pc_ruleset *old,
		      struct pc_ruleset *rs)
{
	_cleanup_free_ size_t *map = objects_map(old, rs);
	bool kept;

	if (rs->shared)
		return -EOPNOTSUPP;
	if (!map)
		return -ENOMEM;
	kept = append_rebase(&ed->del, map) && append_rebase(&ed->add, map);
	for (size_t i = 0; kept && i < ed->n_addrs; i++) {
		for (size_t k = 0; k < ed->addrs[i].n_objs; k++)
			kept &= (ed->addrs[i].objs[k] = map[ed->addrs[i].objs[k]]) != SIZE_MAX;
		for (size_t k = 0; k < ed->addrs[i].n_pp; k++)
			kept &= (ed->addrs[i].pp[k].obj = map[ed->addrs[i].pp[k].obj]) != SIZE_MAX;
	}
	if (!kept)
		return -EOPNOTSUPP;
	rs->shared = calloc(1, sizeof(*rs->shared));
	if (!rs->shared)
		return -ENOMEM;
	rs->shared->del = ed->del;
	rs->shared->add = ed->add;
	ed->del = ed->add = (struct pc_rule_append){ 0 };
	return 0;
}

void pc_rule_edit_back(struct pc_rule_edit *ed, struct pc_ruleset *rs)
{
	if (!rs || !rs->shared)
		return;
	ed->del = rs->shared->del;
	ed->add = rs->shared->add;
	free(rs->shared);
	rs->shared = NULL;
}

void pc_entry_edit_free(struct pc_entry_edit *e)
{
	for (size_t k = 0; k < e->n_plan; k++)
		pc_plan_entry_change_free(&e->plan[k]);
	free(e->plan);
	*e = (struct pc_entry_edit){ 0 };
}
