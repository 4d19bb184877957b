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
	free(app->addrs);
	*app = (struct pc_rule_append){ 0 };
}

/* --- bans: the address run at the head of each zone's chain --- */

/* One source prefix and nothing else: what bans_place's rules are. */
static bool rule_is_ban(const struct pc_rule *r)
{
	return r->n_from == 1 && rule_addr_side(r) == 1;
}

static ssize_t rule_zone(const struct pc_plan *plan, const struct pc_rule *r, size_t i)
{
	return rule_zone_index(plan->cfg, r, i);
}

static bool rule_in_zone(const struct pc_plan *plan, const struct pc_rule *r, size_t z)
{
	for (size_t i = 0; i < (r->n_zones ? r->n_zones : 1); i++)
		if (rule_zone(plan, r, i) == (ssize_t)z)
			return true;
	return false;
}

/* Entry 0 of the zone's chain when it is a run of source-address rules. */
static struct pc_plan_entry *ban_run(const struct pc_plan *plan, size_t z, const struct pc_rule *r)
{
	const struct pc_plan_chain *c = &plan->zones[z].dir[r->dir];

	if (c->n_entries == 0 || c->entries[0].kind != PC_ENTRY_ADDRS || c->entries[0].match_dst)
		return NULL;
	return &c->entries[0];
}

static struct pc_plan_spans *run_spans(struct pc_plan_entry *e, const struct pc_rule *r)
{
	return r->from[0].family == AF_INET ? &e->addr4 : &e->addr6;
}

/* The run's map of r's family for single addresses (hosts) or for
 * ranges, as addr_map_lower names them, or -1. */
static ssize_t ban_map_find(const struct pc_plan *plan, const struct pc_ruleset *rs,
			    const struct pc_rule *r, size_t z, bool hosts)
{
	char name[SET_NAME_MAX], suffix[ADDR_MAP_SUFFIX_MAX];

	addr_map_suffix(suffix, r->from[0].family, false, hosts);
	entry_set_name(name, sizeof(name), r->dir, plan->zones[z].zone->name, 0, suffix);
	return ruleset_set_find(rs, name);
}

/* First span that ends at or after key: spans are disjoint and sorted. */
static size_t span_first(const struct pc_plan_spans *s, const uint8_t *key)
{
	size_t a = 0, b = s->n;

	while (a < b) {
		size_t m = a + (b - a) / 2;

		if (key_cmp(s->items[m].hi, key) < 0)
			a = m + 1;
		else
			b = m;
	}
	return a;
}

static bool key_is_zero(const uint8_t *k)
{
	static const uint8_t zero[16];

	return key_cmp(k, zero) == 0;
}

/* Record span of r's run in zone z and build its elements, in the map
 * that holds spans of its shape. A range at the lowest key is refused: the
 * interval map's opening end element at 0 would come or go. */
static int addr_piece_add(struct pc_rule_append *app, const struct pc_plan *plan,
			  const struct pc_ruleset *rs, const struct pc_rule *r, size_t z,
			  const struct pc_plan_span *span, uint8_t width)
{
	bool host = span_is_host(span);
	ssize_t obj = ban_map_find(plan, rs, r, z, host);
	struct pc_append_addr *aa;
	struct nftnl_set *s;

	if (obj < 0 || (!host && key_is_zero(span->lo)))
		return -EOPNOTSUPP;
	aa = PC_ARRAY_PUSH(app->addrs, app->n_addrs, app->cap_addrs);
	if (!aa)
		return -ENOMEM;
	*aa = (struct pc_append_addr){ .zone = z, .obj = (size_t)obj, .span = *span, .width = width };
	s = append_target(app, rs, obj);
	return s ? set_add_addr_span(s, span, width, &app->n_elems) : -ENOMEM;
}

/* The parts of [lo, hi] no span decides yet: earlier rules keep theirs. */
static int ban_pieces_add(struct pc_rule_append *app, const struct pc_plan *plan,
			  const struct pc_ruleset *rs, size_t z, const struct pc_plan_spans *spans,
			  const struct pc_rule *r, const uint8_t *lo, const uint8_t *hi)
{
	struct pc_plan_span piece = { .verdict = action_verdict(r->action), .rule = r };
	uint8_t at[16];
	bool more = true;
	int ret = 0;

	memcpy(at, lo, 16);
	for (size_t i = span_first(spans, lo);
	     ret >= 0 && more && i < spans->n && key_cmp(spans->items[i].lo, hi) <= 0; i++) {
		if (key_cmp(spans->items[i].lo, at) > 0) {
			memcpy(piece.lo, at, 16);
			memcpy(piece.hi, spans->items[i].lo, 16);
			key_dec(piece.hi, spans->width);
			ret = addr_piece_add(app, plan, rs, r, z, &piece, spans->width);
		}
		memcpy(at, spans->items[i].hi, 16);
		more = key_inc(at, spans->width);
	}
	if (ret >= 0 && more && key_cmp(at, hi) <= 0) {
		memcpy(piece.lo, at, 16);
		memcpy(piece.hi, hi, 16);
		ret = addr_piece_add(app, plan, rs, r, z, &piece, spans->width);
	}
	return ret;
}

int pc_ban_add_prepare(const struct pc_plan *plan, const struct pc_ruleset *rs,
		       const struct pc_rule *r, const struct pc_rule *run_end,
		       struct pc_rule_append *out)
{
	uint8_t lo[16], hi[16];
	int ret = 0;

	*out = (struct pc_rule_append){ 0 };
	if (!rule_is_ban(r))
		return -EOPNOTSUPP;
	key_from_prefix(&r->from[0], lo, hi);
	for (size_t i = 0; ret >= 0 && i < (r->n_zones ? r->n_zones : 1); i++) {
		ssize_t z = rule_zone(plan, r, i);
		struct pc_plan_entry *e = z < 0 ? NULL : ban_run(plan, (size_t)z, r);

		/* r must come last in the run: a later rule in it would lose
		 * to r where a full compile puts r before it. */
		if (!e || (uintptr_t)e->last >= (uintptr_t)run_end)
			ret = -EOPNOTSUPP;
		if (ret >= 0)
			ret = ban_pieces_add(out, plan, rs, (size_t)z, run_spans(e, r), r, lo, hi);
	}
	if (ret < 0)
		pc_rule_append_free(out);
	return ret;
}

static int spans_insert(struct pc_plan_spans *s, const struct pc_plan_span *sp)
{
	size_t at = span_first(s, sp->lo);
	struct pc_plan_span *slot = PC_ARRAY_PUSH(s->items, s->n, s->cap);

	if (!slot)
		return -ENOMEM;
	memmove(&s->items[at + 1], &s->items[at], (s->n - 1 - at) * sizeof(*sp));
	s->items[at] = *sp;
	return 0;
}

int pc_ban_add_commit(struct pc_plan *plan, struct pc_ruleset *rs, const struct pc_rule *r,
		      struct pc_rule_append *app)
{
	int ret = 0;

	for (size_t i = 0; i < (r->n_zones ? r->n_zones : 1); i++)
		ban_run(plan, (size_t)rule_zone(plan, r, i), r)->last = r;
	/* The pieces were cut while r was parsed at the end of the rules. */
	for (size_t i = 0; ret >= 0 && i < app->n_addrs; i++) {
		struct pc_append_addr *aa = &app->addrs[i];

		aa->span.rule = r;
		ret = spans_insert(run_spans(ban_run(plan, aa->zone, r), r), &aa->span);
		if (ret >= 0)
			ret = set_add_addr_span(rs->objs[aa->obj].obj, &aa->span, aa->width,
						&rs->n_elems);
	}
	return ret;
}

/* Whether another rule from first to last overlaps [lo, hi]: it would
 * decide what r decided. Rules of other zones count too, which only costs
 * a full compile, and lets one pass serve the runs of every zone. */
static bool rules_overlap(const struct pc_rule *first, const struct pc_rule *last,
			  const struct pc_rule *r, const uint8_t *lo, const uint8_t *hi)
{
	for (const struct pc_rule *q = first; q <= last; q++) {
		for (size_t i = 0; q != r && i < q->n_from; i++) {
			uint8_t qlo[16], qhi[16];

			if (q->from[i].family != r->from[0].family)
				continue;
			key_from_prefix(&q->from[i], qlo, qhi);
			if (key_cmp(qlo, hi) <= 0 && key_cmp(lo, qhi) <= 0)
				return true;
		}
	}
	return false;
}

static int ban_zone_remove(struct pc_rule_append *app, const struct pc_plan *plan,
			   const struct pc_ruleset *rs, const struct pc_rule *r, size_t z)
{
	struct pc_plan_entry *e = ban_run(plan, z, r);
	size_t hosts_gone = 0, ranges_gone = 0, hosts = 0, ranges = 0;
	const struct pc_plan_spans *spans = run_spans(e, r);
	uint8_t lo[16], hi[16];
	int ret = 0;

	key_from_prefix(&r->from[0], lo, hi);
	for (size_t i = span_first(spans, lo);
	     ret >= 0 && i < spans->n && key_cmp(spans->items[i].lo, hi) <= 0; i++) {
		if (spans->items[i].rule != r)
			continue;
		ret = addr_piece_add(app, plan, rs, r, z, &spans->items[i], spans->width);
		*(span_is_host(&spans->items[i]) ? &hosts_gone : &ranges_gone) += 1;
	}
	/* An emptied map goes away with its kernel rule in a full compile.
	 * Counting stops once both maps are known to keep an element. */
	for (size_t i = 0; ret >= 0 && i < spans->n && (hosts <= hosts_gone || ranges <= ranges_gone);
	     i++)
		*(span_is_host(&spans->items[i]) ? &hosts : &ranges) += 1;
	if (ret >= 0 && ((hosts_gone && hosts_gone == hosts) ||
			 (ranges_gone && ranges_gone == ranges)))
		ret = -EOPNOTSUPP;
	return ret;
}

int pc_ban_remove_prepare(const struct pc_plan *plan, const struct pc_ruleset *rs,
			  const struct pc_rule *r, struct pc_rule_append *out)
{
	const struct pc_rule *first = r, *last = r;
	size_t nz = r->n_zones ? r->n_zones : 1;
	uint8_t lo[16], hi[16];
	int ret = 0;

	*out = (struct pc_rule_append){ 0 };
	if (!rule_is_ban(r))
		return -EOPNOTSUPP;
	/* Every zone's run must hold another rule; all of them are checked
	 * for overlap in one pass over the rules they span. */
	for (size_t i = 0; i < nz; i++) {
		ssize_t z = rule_zone(plan, r, i);
		const struct pc_plan_entry *e = z < 0 ? NULL : ban_run(plan, (size_t)z, r);

		if (!e || e->first == e->last)
			return -EOPNOTSUPP;
		first = (uintptr_t)e->first < (uintptr_t)first ? e->first : first;
		last = (uintptr_t)e->last > (uintptr_t)last ? e->last : last;
	}
	key_from_prefix(&r->from[0], lo, hi);
	if (rules_overlap(first, last, r, lo, hi))
		return -EOPNOTSUPP;
	for (size_t i = 0; ret >= 0 && i < nz; i++)
		ret = ban_zone_remove(out, plan, rs, r, (size_t)rule_zone(plan, r, i));
	if (ret < 0)
		pc_rule_append_free(out);
	return ret;
}

/* The run's rule next to r, towards step: the run holds another (prepare
 * made sure), and every rule between is in the same array. */
static const struct pc_rule *run_neighbour(const struct pc_plan *plan, size_t z,
					   const struct pc_rule *r, int step)
{
	const struct pc_rule *q = r + step;

	while (!rule_in_zone(plan, q, z))
		q += step;
	return q;
}

/* Hand what r headed in zone z to the run's new first rule: the entry and
 * the objects lowered for it (their rule is the run's first, l->rule). */
static void run_first_replace(struct pc_plan *plan, struct pc_ruleset *rs, size_t z,
			      struct pc_plan_entry *e, const struct pc_rule *r)
{
	const struct pc_rule *next = run_neighbour(plan, z, r, 1);

	for (size_t i = 0; i < rs->n_objs; i++)
		if (rs->objs[i].rule == r && rs->objs[i].zone == plan->zones[z].zone)
			rs->objs[i].rule = next;
	e->first = next;
}

static void spans_remove(struct pc_plan_spans *s, const struct pc_plan_span *sp)
{
	size_t at = span_first(s, sp->lo);

	memmove(&s->items[at], &s->items[at + 1], (s->n - at - 1) * sizeof(*sp));
	s->n--;
}

/* Record, once, that map aa->obj lost elements. The lowering made room
 * for every set: this cannot fail after the kernel changed. */
static void stale_mark(struct pc_ruleset *rs, const struct pc_append_addr *aa, int dir)
{
	for (size_t i = 0; i < rs->n_stale; i++)
		if (rs->stale[i].obj == aa->obj)
			return;
	assert(rs->n_stale < rs->cap_stale);
	rs->stale[rs->n_stale++] =
		(struct pc_stale_map){ .obj = aa->obj, .zone = aa->zone, .dir = dir, .width = aa->width };
}

void pc_ban_remove_commit(struct pc_plan *plan, struct pc_ruleset *rs, const struct pc_rule *r,
			  const struct pc_rule_append *app)
{
	for (size_t i = 0; i < (r->n_zones ? r->n_zones : 1); i++) {
		size_t z = (size_t)rule_zone(plan, r, i);
		struct pc_plan_entry *e = ban_run(plan, z, r);

		if (e->first == r)
			run_first_replace(plan, rs, z, e, r);
		if (e->last == r)
			e->last = run_neighbour(plan, z, r, -1);
	}
	for (size_t i = 0; i < app->n_addrs; i++)
		spans_remove(run_spans(ban_run(plan, app->addrs[i].zone, r), r), &app->addrs[i].span);
	for (size_t i = 0; i < app->n_addrs; i++)
		stale_mark(rs, &app->addrs[i], r->dir);
	rs->n_elems -= app->n_elems;
	rs->n_stale_elems += app->n_elems;
}

int pc_ruleset_refresh(const struct pc_plan *plan, struct pc_ruleset *rs)
{
	while (rs->n_stale > 0) {
		const struct pc_stale_map *m = &rs->stale[rs->n_stale - 1];
		const struct pc_plan_entry *e = &plan->zones[m->zone].dir[m->dir].entries[0];
		struct nftnl_set *s;
		int ret = addr_map_remake(rs->objs[m->obj].obj, m->width == 4 ? &e->addr4 : &e->addr6,
					  &s);

		if (ret < 0)
			return ret;
		nftnl_set_free(rs->objs[m->obj].obj);
		rs->objs[m->obj].obj = s;
		rs->n_stale--;
	}
	rs->n_stale_elems = 0;
	return 0;
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
		for (int dir = 0; dir < 2; dir++) {
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
