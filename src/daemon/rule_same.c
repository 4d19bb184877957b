/* Rule equality by meaning, for delete and for the duplicate check: what
 * the user types and a rule in force are the same rule when they match
 * the same packets the same way, whatever the word order, the defaults
 * left out (direction in, the default zone, a port's protocols), the
 * order of lists, services or their ports, or ranges written apart. */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "model.h"

/* One protocol's port range. */
struct span {
	uint8_t proto;
	uint16_t lo, hi;
};

struct spans {
	struct span *items;
	size_t n, cap;
};

static int spans_add(struct spans *s, const struct pc_port_range *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		for (uint8_t bit = 1; bit && bit <= PC_PROTO_SCTP; bit <<= 1) {
			struct span *slot;

			if (!(p[i].protos & bit))
				continue;
			slot = PC_ARRAY_PUSH(s->items, s->n, s->cap);
			if (!slot)
				return -ENOMEM;
			*slot = (struct span){bit, p[i].lo, p[i].hi};
		}
	return 0;
}

static int span_cmp(const void *a, const void *b)
{
	const struct span *x = a, *y = b;

	if (x->proto != y->proto)
		return x->proto < y->proto ? -1 : 1;
	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	return (x->hi > y->hi) - (x->hi < y->hi);
}

/* Sorted, overlapping and adjacent ranges of a protocol merged. */
static void spans_normalize(struct spans *s)
{
	size_t out = 0;

	if (s->n > 1)
		qsort(s->items, s->n, sizeof(*s->items), span_cmp);
	for (size_t i = 0; i < s->n; i++) {
		struct span *last = out ? &s->items[out - 1] : NULL;

		if (last && last->proto == s->items[i].proto &&
		    (uint32_t)s->items[i].lo <= (uint32_t)last->hi + 1) {
			if (s->items[i].hi > last->hi)
				last->hi = s->items[i].hi;
			continue;
		}
		s->items[out++] = s->items[i];
	}
	s->n = out;
}

/* The ports a rule matches: in force (validated), its ports hold its
 * services' too; typed, the services are looked up in cfg. -ENOENT: a
 * service cfg does not know (then it is no rule of cfg). */
static int rule_spans(const struct pc_config *cfg, const struct pc_rule *r, bool typed,
		      struct spans *s)
{
	int ret = spans_add(s, r->ports, typed ? r->n_written_ports : r->n_ports);

	for (size_t i = 0; typed && ret >= 0 && i < r->n_services; i++) {
		const struct pc_service *svc = pc_config_service(cfg, r->services[i].name);

		ret = svc ? spans_add(s, svc->ports, svc->n_ports) : -ENOENT;
	}
	if (ret >= 0)
		spans_normalize(s);
	return ret;
}

static bool ports_same(const struct pc_config *cfg, const struct pc_rule *rule,
		       const struct pc_rule *typed)
{
	struct spans a = {0}, b = {0};
	bool same = rule_spans(cfg, rule, false, &a) >= 0 && rule_spans(cfg, typed, true, &b) >= 0 &&
		    a.n == b.n && (!a.n || !memcmp(a.items, b.items, a.n * sizeof(*a.items)));

	free(a.items);
	free(b.items);
	return same;
}

/* Every name of list a is in list b (the default zone for an empty one). */
static bool zones_within(const struct pc_config *cfg, const struct pc_rule *a,
			 const struct pc_rule *b)
{
	const char *def = cfg->n_zones ? cfg->zones[cfg->default_zone].name : "";

	for (size_t i = 0; i < (a->n_zones ? a->n_zones : 1); i++) {
		const char *name = a->n_zones ? a->zones[i].name : def;
		bool found = false;

		for (size_t j = 0; !found && j < (b->n_zones ? b->n_zones : 1); j++)
			found = streq(name, b->n_zones ? b->zones[j].name : def);
		if (!found)
			return false;
	}
	return true;
}

static bool prefix_eq(const struct pc_prefix *a, const struct pc_prefix *b)
{
	return a->family == b->family && a->len == b->len && !memcmp(a->addr, b->addr, 16);
}

static bool any_in(const struct pc_prefix *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i].family == 0)
			return true;
	return n == 0;
}

/* The same set of addresses ("any" anywhere in a list: the list is any). */
static bool prefixes_same(const struct pc_prefix *a, size_t na, const struct pc_prefix *b,
			  size_t nb)
{
	if (any_in(a, na) || any_in(b, nb))
		return any_in(a, na) && any_in(b, nb);
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < na; i++) {
			bool found = false;

			for (size_t j = 0; !found && j < nb; j++)
				found = prefix_eq(&a[i], &b[j]);
			if (!found)
				return false;
		}
		/* And the other way round. */
		const struct pc_prefix *t = a;
		size_t tn = na;

		a = b, na = nb, b = t, nb = tn;
	}
	return true;
}

static bool sports_same(const struct pc_rule *a, const struct pc_rule *b)
{
	struct spans x = {0}, y = {0};
	bool same = spans_add(&x, a->sports, a->n_sports) >= 0 &&
		    spans_add(&y, b->sports, b->n_sports) >= 0;

	if (same) {
		spans_normalize(&x);
		spans_normalize(&y);
		same = x.n == y.n && (!x.n || !memcmp(x.items, y.items, x.n * sizeof(*x.items)));
	}
	free(x.items);
	free(y.items);
	return same;
}

/* The same protocol and set of ICMP types (each list has no repeats). */
static bool l4_same(const struct pc_rule *a, const struct pc_rule *b)
{
	if (a->l4proto != b->l4proto || a->n_icmp_types != b->n_icmp_types)
		return false;
	for (size_t i = 0; i < a->n_icmp_types; i++)
		if (!memchr(b->icmp_types, a->icmp_types[i], b->n_icmp_types))
			return false;
	return sports_same(a, b);
}

/* "from @a" and "from @b" are other addresses, whatever the sets hold. */
static bool set_ref_same(const struct pc_name *a, const struct pc_name *b)
{
	return !a->name == !b->name && (!a->name || streq(a->name, b->name));
}

static struct pc_rate rate_of(const struct pc_rule *r)
{
	/* As validation fills in a limit's rate. */
	if (r->action == PC_LIMIT && !r->rate.set)
		return (struct pc_rate){.set = true, .count = 6, .unit = PC_PER_MINUTE, .burst = 6};
	return r->rate;
}

/* 16 bits that prefixes_same lists share: the least hash of its prefixes
 * (order and repeats do not count), 0 for any address. */
static uint16_t prefixes_key(const struct pc_prefix *p, size_t n)
{
	uint64_t least = UINT64_MAX;

	if (any_in(p, n))
		return 0;
	for (size_t i = 0; i < n; i++) {
		uint64_t h = 1469598103934665603ull; /* FNV-1a */

		h = (h ^ p[i].family) * 1099511628211ull;
		h = (h ^ p[i].len) * 1099511628211ull;
		for (size_t b = 0; b < sizeof(p[i].addr); b++)
			h = (h ^ p[i].addr[b]) * 1099511628211ull;
		least = h < least ? h : least;
	}
	return (uint16_t)(least ^ least >> 16 ^ least >> 32 ^ least >> 48);
}

/* The lowest and highest of n ports into *lo and *hi. */
static void ports_bounds(const struct pc_port_range *p, size_t n, uint32_t *lo, uint32_t *hi)
{
	for (size_t i = 0; i < n; i++) {
		*lo = p[i].lo < *lo ? p[i].lo : *lo;
		*hi = p[i].hi > *hi ? p[i].hi : *hi;
	}
}

bool rule_signature(const struct pc_config *cfg, const struct pc_rule *r, bool typed,
		    uint64_t *out)
{
	uint32_t lo = UINT16_MAX + 1, hi = 0;
	uint16_t addrs;

	/* In force, a rule's ports hold its services'; typed, as rule_spans. */
	ports_bounds(r->ports, typed ? r->n_written_ports : r->n_ports, &lo, &hi);
	for (size_t i = 0; typed && i < r->n_services; i++) {
		const struct pc_service *svc = cfg ? pc_config_service(cfg, r->services[i].name) : NULL;

		if (!svc)
			return false;
		ports_bounds(svc->ports, svc->n_ports, &lo, &hi);
	}
	lo = lo > UINT16_MAX ? 0 : lo;
	/* Rules of addresses alone (a block list) differ by them. */
	addrs = prefixes_key(r->from, r->n_from) ^
		(uint16_t)(prefixes_key(r->to, r->n_to) * 31u);
	*out = (uint64_t)r->action | (uint64_t)r->dir << 8 | (uint64_t)lo << 16 |
	       (uint64_t)hi << 32 | (uint64_t)addrs << 48;
	return true;
}

/* Cheaply, without the lists sorted: rules that cannot be the same. */
static bool signatures_differ(const struct pc_config *cfg, const struct pc_rule *rule,
			      const struct pc_rule *typed)
{
	uint64_t a, b;

	return rule_signature(cfg, typed, true, &b) && rule_signature(cfg, rule, false, &a) &&
	       a != b;
}

bool rule_same(const struct pc_config *cfg, const struct pc_rule *rule, const struct pc_rule *typed)
{
	struct pc_rate ra = rate_of(rule), rb = rate_of(typed);

	if (rule->action != typed->action || rule->dir != typed->dir ||
	    signatures_differ(cfg, rule, typed) ||
	    !pc_rule_log_same(rule, typed) || !l4_same(rule, typed))
		return false;
	if (ra.set != rb.set ||
	    (ra.set && (ra.count != rb.count || ra.unit != rb.unit || ra.burst != rb.burst)))
		return false;
	/* A comment given must match; none given matches any. */
	if (typed->comment && !(rule->comment && streq(rule->comment, typed->comment)))
		return false;
	if (!zones_within(cfg, rule, typed) || !zones_within(cfg, typed, rule))
		return false;
	if (!prefixes_same(rule->from, rule->n_from, typed->from, typed->n_from) ||
	    !prefixes_same(rule->to, rule->n_to, typed->to, typed->n_to) ||
	    !set_ref_same(&rule->from_set_name, &typed->from_set_name) ||
	    !set_ref_same(&rule->to_set_name, &typed->to_set_name))
		return false;
	return ports_same(cfg, rule, typed);
}
