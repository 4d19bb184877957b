/* Bans: per scope (every zone, or one zone) and family, a hash set of the
 * banned single addresses and an interval set of the wider spans, whose
 * elements carry the ban's remaining time as a kernel timeout. Built the
 * same way by a full compile and by pc_ruleset_bans_update, so that the
 * two agree element for element. */
#include "config.h"

#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <libnftnl/set.h>

#include "compile-internal.h"
#include "nft-build.h"
#include "portctl/compile.h"
#include "portctl/util.h"

uint64_t bans_clock_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static bool ban_in_force(const struct pc_ban_entry *b, uint64_t now_ms)
{
	return b->expires == 0 || b->expires * 1000u > now_ms;
}

/* Never-expiring bans first, then the latest to expire: where bans
 * overlap, the one that holds longest decides, so that a shorter one
 * lapsing in the kernel leaves no hole in a longer one. */
static uint32_t ban_prio(const struct pc_ban_entry *b)
{
	if (b->expires == 0)
		return 0;
	return UINT32_MAX - (uint32_t)(b->expires < UINT32_MAX - 1 ? b->expires : UINT32_MAX - 1);
}

/* The spans of the bans of one scope (zone < 0: every zone) and family. */
static int ban_spans_build(const struct pc_config *cfg, uint64_t now_ms, ssize_t zone,
			   uint8_t family, struct pc_plan_spans *out)
{
	_cleanup_free_ struct span_item *items = NULL;
	size_t n = 0, cap = 0;

	out->width = family == AF_INET ? 4 : 16;
	for (size_t i = 0; i < cfg->n_bans; i++) {
		const struct pc_ban_entry *b = &cfg->bans[i];
		const struct pc_zone *z = b->zone ? pc_config_zone(cfg, b->zone) : NULL;
		struct span_item *it;

		if (b->addr.family != family || !ban_in_force(b, now_ms))
			continue;
		if (zone < 0 ? b->zone != NULL : !z || z - cfg->zones != zone)
			continue;
		it = PC_ARRAY_PUSH(items, n, cap);
		if (!it)
			return -ENOMEM;
		*it = (struct span_item){ .prio = ban_prio(b), .seq = (uint32_t)i,
					  .verdict = PC_VERDICT_DROP, .ban = b };
		key_from_prefix(&b->addr, it->lo, it->hi);
	}
	return spans_flatten(items, n, out);
}

static int bans_build(const struct pc_config *cfg, uint64_t now_ms, ssize_t zone,
		      struct pc_plan_bans *out)
{
	int r = ban_spans_build(cfg, now_ms, zone, AF_INET, &out->addr4);

	return r < 0 ? r : ban_spans_build(cfg, now_ms, zone, AF_INET6, &out->addr6);
}

void bans_free(struct pc_plan_bans *b)
{
	spans_free(&b->addr4);
	spans_free(&b->addr6);
}

int plan_bans_build(struct pc_plan *plan)
{
	int r = bans_build(plan->cfg, plan->now_ms, -1, &plan->bans);

	for (size_t z = 0; r >= 0 && z < plan->n_zones; z++)
		r = bans_build(plan->cfg, plan->now_ms, (ssize_t)z, &plan->zones[z].bans);
	return r;
}

int pc_plan_bans_refresh(struct pc_plan *plan)
{
	bans_free(&plan->bans);
	for (size_t z = 0; z < plan->n_zones; z++)
		bans_free(&plan->zones[z].bans);
	plan->now_ms = bans_clock_ms();
	return plan_bans_build(plan);
}

const struct pc_ban_entry *bans_find(const struct pc_plan_bans *b, uint8_t family,
				     const uint8_t *addr)
{
	const struct pc_plan_span *sp;
	uint8_t key[16] = { 0 };

	memcpy(key, addr, family == AF_INET ? 4 : 16);
	sp = spans_find(family == AF_INET ? &b->addr4 : &b->addr6, key);
	return sp ? sp->ban : NULL;
}

void ban_set_name(char *buf, size_t size, uint8_t family, bool nets, const char *zone)
{
	snprintf(buf, size, "ban%c%s%s%s", family == AF_INET ? '4' : '6', nets ? "net" : "",
		 zone ? "_" : "", zone ? zone : "");
}

struct nftnl_set *ban_set_new(const char *name, uint32_t id, uint8_t family, bool nets)
{
	return set_new(name, id, (nets ? NFT_SET_INTERVAL : 0) | NFT_SET_TIMEOUT,
		       family == AF_INET ? NFT_DTYPE_IPADDR : NFT_DTYPE_IP6ADDR,
		       family == AF_INET ? 4 : 16);
}

/* A span of one address: it goes to the hash set. */
static bool span_single(const struct pc_plan_span *sp, uint8_t width)
{
	return !memcmp(sp->lo, sp->hi, width);
}

/* An element to delete, or an opening one: its key and whether it ends an
 * interval. */
static int elem_key_add(struct nftnl_set *s, const uint8_t *key, uint8_t width, uint32_t flags)
{
	struct elem_spec e = { .key = key, .len = width, .verdict = -1, .flags = flags };

	return set_add_elem(s, &e);
}

int ban_comment(const struct pc_ban_entry *b, char *buf, size_t size)
{
	char addr[64], until[32] = "";
	time_t t = (time_t)b->expires;
	struct tm tm;

	if (pc_prefix_format(&b->addr, addr, sizeof(addr)) < 0)
		return -EINVAL;
	/* The end time, not the time left: it changes only when the ban does,
	 * so a recompile finds the element unchanged (see src/netlink/diff.c). */
	if (b->expires && gmtime_r(&t, &tm))
		strftime(until, sizeof(until), " until %Y-%m-%dT%H:%M:%SZ", &tm);
	snprintf(buf, size, "portctl ban %s%s", addr, until);
	return 0;
}

/* One span: its (start) element, with the deciding ban's comment and the
 * time it has left as a timeout; for a wider span, then the end element
 * one past it (an end element takes no timeout; the kernel drops it with
 * its start). */
static int ban_span_add(struct nftnl_set *s, const struct pc_plan_span *sp, uint8_t width,
			uint64_t now_ms, size_t *n_elems)
{
	char comment[PC_COMMENT_MAX + 1];
	uint8_t end[16];
	struct elem_spec e = { .key = sp->lo, .len = width, .verdict = -1 };
	int r;

	if (sp->ban->expires)
		e.timeout_ms = sp->ban->expires * 1000u - now_ms;
	if (ban_comment(sp->ban, comment, sizeof(comment)) >= 0)
		e.comment = comment;
	r = set_add_elem(s, &e);
	if (r < 0)
		return r;
	(*n_elems)++;
	if (span_single(sp, width))
		return 0;
	memcpy(end, sp->hi, 16);
	if (!key_inc(end, width))
		return 0;
	e = (struct elem_spec){ .key = end, .len = width, .verdict = -1,
				.flags = NFT_SET_ELEM_INTERVAL_END };
	(*n_elems)++;
	return set_add_elem(s, &e);
}

/* nft opens an rbtree set with an end element at key 0, unless its first
 * span starts there. */
static int nets_open(struct nftnl_set *nets, const struct pc_plan_span *first, uint8_t width,
		     size_t *n_elems)
{
	static const uint8_t zero[16];

	if (!first || !memcmp(first->lo, zero, width))
		return 0;
	(*n_elems)++;
	return elem_key_add(nets, zero, width, NFT_SET_ELEM_INTERVAL_END);
}

int ban_sets_fill(struct nftnl_set *hosts, struct nftnl_set *nets,
		  const struct pc_plan_spans *spans, uint64_t now_ms, size_t *n_elems)
{
	const struct pc_plan_span *first_net = NULL;
	int r;

	for (size_t i = 0; !first_net && i < spans->n; i++)
		if (!span_single(&spans->items[i], spans->width))
			first_net = &spans->items[i];
	r = nets_open(nets, first_net, spans->width, n_elems);
	for (size_t i = 0; r >= 0 && i < spans->n; i++) {
		const struct pc_plan_span *sp = &spans->items[i];

		r = ban_span_add(span_single(sp, spans->width) ? hosts : nets, sp, spans->width,
				 now_ms, n_elems);
	}
	return r;
}

static size_t set_elem_count(struct nftnl_set *s)
{
	struct nftnl_set_elems_iter *it = nftnl_set_elems_iter_create(s);
	size_t n = 0;

	for (struct nftnl_set_elem *e = it ? nftnl_set_elems_iter_next(it) : NULL; e;
	     e = nftnl_set_elems_iter_next(it))
		n++;
	nftnl_set_elems_iter_destroy(it);
	return n;
}

/* The ban sets come first among the sets (see lower_all): every zone's
 * BAN_SETS, then each zone's, in the configuration's zone order. */
static ssize_t ban_set_obj(const struct pc_ruleset *rs, size_t k, const char *name)
{
	size_t i = 1 + rs->n_chains + k;

	if (i >= rs->n_objs || rs->objs[i].kind != PC_NFT_SET ||
	    !streq(nftnl_set_get_str(rs->objs[i].obj, NFTNL_SET_NAME), name))
		return -1;
	return (ssize_t)i;
}

/* rs's ban set k (ban_set_obj's), empty, named and numbered as in rs. */
static int ban_set_again(const struct pc_ruleset *rs, size_t k, uint8_t family, bool nets,
			 const char *zone, size_t *obj, struct nftnl_set **out)
{
	char name[128];
	ssize_t i;

	ban_set_name(name, sizeof(name), family, nets, zone);
	i = ban_set_obj(rs, k, name);
	if (i < 0)
		return -EINVAL; /* not a ruleset compiled from this configuration */
	*obj = (size_t)i;
	*out = ban_set_new(name, nftnl_set_get_u32(rs->objs[i].obj, NFTNL_SET_ID), family, nets);
	return *out ? 0 : -ENOMEM;
}

int pc_ruleset_bans_update(struct pc_ruleset *rs, const struct pc_config *cfg)
{
	size_t n_sets = BAN_SETS * (cfg->n_zones + 1), n_elems = 0, n_old = 0, next;
	_cleanup_free_ struct nftnl_set **news = calloc(n_sets, sizeof(*news));
	_cleanup_free_ size_t *objs = calloc(n_sets, sizeof(*objs));
	uint64_t now_ms = bans_clock_ms();
	int r = news && objs ? 0 : -ENOMEM;

	/* Every new set is made before any is swapped in: on failure rs keeps
	 * what it had. k: a scope and family, its hosts set 2k, its nets 2k + 1. */
	for (size_t k = 0; r >= 0 && k < n_sets / 2; k++) {
		ssize_t zone = (ssize_t)(k / 2) - 1;
		const char *zname = zone < 0 ? NULL : cfg->zones[zone].name;
		uint8_t family = k % 2 == 0 ? AF_INET : AF_INET6;
		struct pc_plan_spans spans = { 0 };

		r = ban_set_again(rs, 2 * k, family, false, zname, &objs[2 * k], &news[2 * k]);
		if (r >= 0)
			r = ban_set_again(rs, 2 * k + 1, family, true, zname, &objs[2 * k + 1],
					  &news[2 * k + 1]);
		if (r >= 0)
			r = ban_spans_build(cfg, now_ms, zone, family, &spans);
		if (r >= 0)
			r = ban_sets_fill(news[2 * k], news[2 * k + 1], &spans, now_ms, &n_elems);
		spans_free(&spans);
	}
	/* And no more ban sets than cfg has zones for. */
	next = 1 + rs->n_chains + n_sets;
	if (r >= 0 && next < rs->n_objs && rs->objs[next].kind == PC_NFT_SET &&
	    !strncmp(nftnl_set_get_str(rs->objs[next].obj, NFTNL_SET_NAME), "ban", 3))
		r = -EINVAL;
	if (r < 0) {
		for (size_t k = 0; news && k < n_sets; k++)
			if (news[k])
				nftnl_set_free(news[k]);
		return r;
	}
	for (size_t k = 0; k < n_sets; k++) {
		n_old += set_elem_count(rs->objs[objs[k]].obj);
		nftnl_set_free(rs->objs[objs[k]].obj);
		rs->objs[objs[k]].obj = news[k];
	}
	rs->n_elems = rs->n_elems - n_old + n_elems;
	rs->bans_clock_ms = now_ms;
	rs->bans_from = NULL;
	return 0;
}

int pc_ruleset_bans_sync(struct pc_ruleset *rs)
{
	return rs && rs->bans_from ? pc_ruleset_bans_update(rs, rs->bans_from) : 0;
}

/* Every ban span of the plan, for following the entries of cfg->bans
 * when they move: f(span, arg) on each. */
static void plan_ban_spans_each(struct pc_plan *plan, void (*f)(struct pc_plan_span *, void *),
				void *arg)
{
	for (size_t z = 0; z <= plan->n_zones; z++) {
		struct pc_plan_bans *b = z == 0 ? &plan->bans : &plan->zones[z - 1].bans;

		for (size_t i = 0; i < b->addr4.n; i++)
			f(&b->addr4.items[i], arg);
		for (size_t i = 0; i < b->addr6.n; i++)
			f(&b->addr6.items[i], arg);
	}
}

struct ban_move {
	const struct pc_ban_entry *old_base, *gone, *new_base;
	const struct pc_ban_entry *stand_in; /* for spans of the entry gone */
};

static void ban_span_follow(struct pc_plan_span *sp, void *arg)
{
	const struct ban_move *m = arg;

	if (!sp->ban)
		return;
	if (sp->ban == m->gone)
		sp->ban = m->stand_in;
	else if (m->gone && sp->ban > m->gone)
		sp->ban = sp->ban - 1;
	else if (m->new_base != m->old_base)
		sp->ban = m->new_base + (sp->ban - m->old_base);
}

/* The edit reads every ban a few times: compares of a constant size,
 * which the compiler makes inline, not calls to memcmp. */
static bool prefix_same(const struct pc_prefix *a, const struct pc_prefix *b)
{
	if (a->family != b->family || a->len != b->len)
		return false;
	return a->family == AF_INET ? !memcmp(a->addr, b->addr, 4) : !memcmp(a->addr, b->addr, 16);
}

static bool zone_same(const char *a, const char *b)
{
	return a == b || (a && b && streq(a, b));
}

/* Whether ban b belongs to the set of scope zone (-1: every zone) and family. */
static bool ban_in_scope(const struct pc_config *cfg, const struct pc_ban_entry *b, ssize_t zone,
			 uint8_t family)
{
	if (b->addr.family != family)
		return false;
	if (zone < 0)
		return b->zone == NULL;
	return b->zone && streq(b->zone, cfg->zones[zone].name);
}

/* Whether prefix a holds prefix b (same family). */
static bool prefix_holds(const struct pc_prefix *a, const struct pc_prefix *b)
{
	uint64_t x[2], y[2];

	if (a->len > b->len)
		return false;
	memcpy(x, a->addr, sizeof(x));
	memcpy(y, b->addr, sizeof(y));
	for (unsigned int w = 0; w < 2; w++) {
		unsigned int bits = a->len > 64 * w ? a->len - 64 * w : 0;
		uint64_t mask = bits >= 64 ? UINT64_MAX : bits ? ~(UINT64_MAX >> bits) : 0;

		if (be64toh(x[w] ^ y[w]) & mask)
			return false;
	}
	return true;
}

/* The spans of region from the bans of one scope that fall in it, among
 * cfg's bans [first, end). */
static int ban_region_build(const struct pc_config *cfg, uint64_t now_ms, ssize_t zone,
			    const struct pc_prefix *region, size_t first, size_t end,
			    struct pc_plan_spans *out)
{
	_cleanup_free_ struct span_item *items = NULL;
	size_t n = 0, cap = 0;

	out->width = region->family == AF_INET ? 4 : 16;
	for (size_t i = first; i < end; i++) {
		const struct pc_ban_entry *b = &cfg->bans[i];
		struct span_item *it;

		if (!ban_in_scope(cfg, b, zone, region->family) || !ban_in_force(b, now_ms) ||
		    !prefix_holds(region, &b->addr))
			continue;
		it = PC_ARRAY_PUSH(items, n, cap);
		if (!it)
			return -ENOMEM;
		*it = (struct span_item){ .prio = ban_prio(b), .seq = (uint32_t)i,
					  .verdict = PC_VERDICT_DROP, .ban = b };
		key_from_prefix(&b->addr, it->lo, it->hi);
	}
	return spans_flatten(items, n, out);
}

static bool span_same(const struct pc_plan_span *a, const struct pc_plan_span *b,
		      const struct pc_ban_entry *changed)
{
	return a->ban == b->ban && a->ban != changed && !key_cmp(a->lo, b->lo) &&
	       !key_cmp(a->hi, b->hi);
}


/* Whether spans has a wide one outside [first, last); the first found ends
 * the search. */
static bool nets_outside(const struct pc_plan_spans *spans, size_t first, size_t last)
{
	for (size_t k = 0; k < spans->n; k++) {
		if (k == first)
			k = last;
		if (k < spans->n && !span_single(&spans->items[k], spans->width))
			return true;
	}
	return false;
}

int pc_plan_ban_edit(struct pc_plan *plan, struct pc_config *cfg, const struct pc_prefix *addr,
		     const char *zone, uint64_t expires, bool unban, struct pc_ban_delta *out)
{
	const struct pc_zone *zp = zone ? pc_config_zone(cfg, zone) : NULL;
	ssize_t scope = zp ? zp - cfg->zones : -1, at = -1;
	struct pc_plan_spans *spans, fresh = { 0 };
	struct pc_plan_bans *pb;
	struct ban_move m = { .old_base = cfg->bans, .stand_in = &out->removed };
	const struct pc_ban_entry *changed = NULL;
	const struct pc_prefix *region = addr;
	uint8_t lo[16], hi[16];
	size_t first, last, n_old, nets_old = 0, nets_fresh = 0, own_first, own_end, i = 0, j = 0;
	int r = 0;

	*out = (struct pc_ban_delta){ .family = addr->family };
	if ((zone && !zp) || (addr->family != AF_INET && addr->family != AF_INET6))
		return -EINVAL;
	out->set = 2 * (size_t)(scope + 1) + (addr->family == AF_INET ? 0 : 1);
	pb = scope < 0 ? &plan->bans : &plan->zones[scope].bans;
	spans = addr->family == AF_INET ? &pb->addr4 : &pb->addr6;

	/* In one reading of the bans: addr's own entry, and the region: the
	 * widest ban of the scope that holds addr (lapsed or not: its old
	 * spans may still be there), else addr's own. Bans are prefixes, so
	 * any other either lies within it or is disjoint: a full compile makes
	 * the same spans inside it, and none across its edges. */
	for (size_t k = 0; k < cfg->n_bans; k++) {
		const struct pc_ban_entry *b = &cfg->bans[k];

		if (at < 0 && prefix_same(&b->addr, addr) && zone_same(b->zone, zone))
			at = (ssize_t)k;
		if (b->addr.len < region->len && ban_in_scope(cfg, b, scope, addr->family) &&
		    prefix_holds(&b->addr, region))
			region = &b->addr;
	}
	/* A copy: the entry may move below. */
	out->region = *region;
	key_from_prefix(&out->region, lo, hi);
	/* Where the nets set's opening element (nets_open) could come or
	 * go with a span at key 0: left to the full difference. */
	if (!lo[0] && !memcmp(lo, lo + 1, 15))
		return -EAGAIN;

	/* cfg's bans as a full compile would hold them, the plan's spans following. */
	if (unban) {
		if (at < 0)
			return 0;
		out->removed = cfg->bans[at];
		m.gone = &cfg->bans[at];
		memmove(&cfg->bans[at], &cfg->bans[at + 1],
			(cfg->n_bans - (size_t)at - 1) * sizeof(*cfg->bans));
		cfg->n_bans--;
	} else if (at >= 0 && cfg->bans[at].expires != expires) {
		cfg->bans[at].expires = expires;
		changed = &cfg->bans[at];
	} else if (at < 0) {
		r = pc_config_ban_add(cfg, addr, zone, expires);
		if (r < 0)
			return r;
	}
	m.new_base = cfg->bans;
	if (m.gone || m.new_base != m.old_base)
		plan_ban_spans_each(plan, ban_span_follow, &m);

	/* The old spans of the region, the new ones, and what differs. */
	out->now_ms = bans_clock_ms();
	/* A host that no wider ban holds holds no ban but its own. */
	own_first = 0;
	own_end = cfg->n_bans;
	if (out->region.len == (addr->family == AF_INET ? 32 : 128)) {
		own_first = unban ? 0 : at >= 0 ? (size_t)at : cfg->n_bans - 1;
		own_end = unban ? 0 : own_first + 1;
	}
	r = ban_region_build(cfg, out->now_ms, scope, &out->region, own_first, own_end, &fresh);
	if (r < 0)
		return r; /* cfg changed, the plan's spans unchanged: the caller rebuilds */
	first = spans_first_ending_at(spans, lo);
	for (last = first; last < spans->n && key_cmp(spans->items[last].lo, hi) <= 0; last++)
		;
	n_old = last - first;
	for (size_t k = first; k < last; k++)
		nets_old += !span_single(&spans->items[k], spans->width);
	for (size_t k = 0; k < fresh.n; k++)
		nets_fresh += !span_single(&fresh.items[k], fresh.width);
	/* The nets set opens with its first wide span, and closes with its last. */
	if (!nets_old != !nets_fresh && !nets_outside(spans, first, last))
		out->open = nets_fresh ? 1 : -1;
	out->del.width = out->add.width = spans->width ? spans->width : fresh.width;
	/* Both sorted by key: paired in one walk. */
	while (r >= 0 && (i < n_old || j < fresh.n)) {
		const struct pc_plan_span *o = i < n_old ? &spans->items[first + i] : NULL;
		const struct pc_plan_span *f = j < fresh.n ? &fresh.items[j] : NULL;
		int c = !o ? 1 : !f ? -1 : key_cmp(o->lo, f->lo);
		struct pc_plan_span *slot;

		if (c == 0 && span_same(o, f, changed)) {
			i++, j++;
			continue;
		}
		if (c <= 0) {
			slot = PC_ARRAY_PUSH(out->del.items, out->del.n, out->del.cap);
			if (!slot)
				r = -ENOMEM;
			else
				*slot = *o, i++;
		}
		if (c >= 0 && r >= 0) {
			slot = PC_ARRAY_PUSH(out->add.items, out->add.n, out->add.cap);
			if (!slot)
				r = -ENOMEM;
			else
				*slot = *f, j++;
		}
	}
	/* The region's spans replaced in the plan. */
	if (r >= 0 && spans->n - n_old + fresh.n > spans->cap) {
		size_t cap = 2 * (spans->n - n_old + fresh.n);
		struct pc_plan_span *v = realloc(spans->items, cap * sizeof(*v));

		if (v) {
			spans->items = v;
			spans->cap = cap;
		} else {
			r = -ENOMEM;
		}
	}
	if (r < 0) {
		spans_free(&fresh);
		return r;
	}
	spans->width = fresh.width;
	memmove(&spans->items[first + fresh.n], &spans->items[last],
		(spans->n - last) * sizeof(*spans->items));
	if (fresh.n)
		memcpy(&spans->items[first], fresh.items, fresh.n * sizeof(*fresh.items));
	spans->n = spans->n - n_old + fresh.n;
	spans_free(&fresh);
	return 1;
}

void pc_ban_delta_free(struct pc_ban_delta *dl)
{
	spans_free(&dl->del);
	spans_free(&dl->add);
}

/* One of the scope's two ban sets in an append, made at its first element. */
struct delta_set {
	size_t obj;
	uint32_t id;
	char name[128];
	struct nftnl_set *elems;
};

static int delta_set_get(struct pc_rule_append *app, struct delta_set *ds, uint8_t family,
			 bool nets, struct nftnl_set **out)
{
	struct pc_append_set *as;

	if (!ds->elems) {
		as = PC_ARRAY_PUSH(app->sets, app->n_sets, app->cap_sets);
		if (!as)
			return -ENOMEM;
		*as = (struct pc_append_set){ .obj = ds->obj,
					      .elems = ban_set_new(ds->name, ds->id, family, nets) };
		if (!as->elems) {
			app->n_sets--;
			return -ENOMEM;
		}
		ds->elems = as->elems;
	}
	*out = ds->elems;
	return 0;
}

/* A span whose deciding ban has ended: the kernel holds it no more. */
static bool span_lapsed(const struct pc_plan_span *sp, uint64_t now_ms)
{
	return !ban_in_force(sp->ban, now_ms);
}

int pc_ban_delta_elems(struct pc_ruleset *rs, const struct pc_config *cfg,
		       const struct pc_ban_delta *dl, struct pc_rule_append *del,
		       struct pc_rule_append *add)
{
	static const uint8_t zero[16];
	ssize_t zone = (ssize_t)(dl->set / 2) - 1;
	struct delta_set dels[2] = { 0 }, adds[2] = { 0 };
	uint8_t width = dl->family == AF_INET ? 4 : 16;
	struct nftnl_set *s;
	size_t n_elems = 0;
	int r = 0;

	if (zone >= (ssize_t)cfg->n_zones)
		return -EINVAL;
	for (int nets = 0; nets < 2; nets++) {
		ssize_t obj;

		ban_set_name(dels[nets].name, sizeof(dels[nets].name), dl->family, nets,
			     zone < 0 ? NULL : cfg->zones[zone].name);
		obj = ban_set_obj(rs, 2 * dl->set + (size_t)nets, dels[nets].name);
		if (obj < 0)
			return -EINVAL;
		dels[nets].obj = (size_t)obj;
		dels[nets].id = nftnl_set_get_u32(rs->objs[obj].obj, NFTNL_SET_ID);
		adds[nets] = dels[nets];
	}
	/* The kernel refuses to delete an element that timed out: one whose
	 * ban has ended is not sent (the kernel let it lapse, as a full
	 * compile at now leaves it out); one that may be about to, the
	 * full difference decides. */
	for (size_t i = 0; i < dl->del.n; i++) {
		const struct pc_plan_span *sp = &dl->del.items[i];

		if (span_lapsed(sp, dl->now_ms))
			continue;
		if (sp->ban->expires && sp->ban->expires * 1000u <= dl->now_ms + 2000u)
			return -EAGAIN;
	}
	if (dl->open < 0)
		r = delta_set_get(del, &dels[1], dl->family, true, &s);
	if (r >= 0 && dl->open < 0)
		r = elem_key_add(s, zero, width, NFT_SET_ELEM_INTERVAL_END);
	/* Whole, as the kernel holds them, so that they can be put back. */
	for (size_t i = 0; r >= 0 && i < dl->del.n; i++) {
		const struct pc_plan_span *sp = &dl->del.items[i];
		bool nets = !span_single(sp, width);

		if (span_lapsed(sp, dl->now_ms))
			continue;
		r = delta_set_get(del, &dels[nets], dl->family, nets, &s);
		if (r >= 0)
			r = ban_span_add(s, sp, width, dl->now_ms, &n_elems);
	}
	if (r >= 0 && dl->open > 0)
		r = delta_set_get(add, &adds[1], dl->family, true, &s);
	if (r >= 0 && dl->open > 0)
		r = elem_key_add(s, zero, width, NFT_SET_ELEM_INTERVAL_END);
	for (size_t i = 0; r >= 0 && i < dl->add.n; i++) {
		const struct pc_plan_span *sp = &dl->add.items[i];
		bool nets = !span_single(sp, width);

		r = delta_set_get(add, &adds[nets], dl->family, nets, &s);
		if (r >= 0)
			r = ban_span_add(s, sp, width, dl->now_ms, &n_elems);
	}
	if (r >= 0)
		rs->bans_from = cfg;
	return r;
}
