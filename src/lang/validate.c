/* Validation: resolves a parsed configuration (replacements, the default
 * zone, service names into ports) and checks what the grammar cannot. */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <sys/socket.h>

#include "lang.h"

/* Words a misspelt service name may have been meant as. */
static const char *const option_words[] = {"zone", "from", "to", "rate", "log", "comment"};

struct validator {
	struct pc_config *cfg;
	struct pc_diags *d;
	struct strmap zones;	/* name -> index in cfg->zones */
	struct strmap services; /* name -> index in cfg->services */
	const char **zone_names;
	const char **service_names; /* option words included, for hints */
	size_t n_service_names;
	const char *shipped_default;
	/* One rule or ban of a validated configuration: its names are found
	 * by a scan, not maps built of every zone and service at each change. */
	bool scan;
	bool nomem;
};

static bool zone_find(const struct validator *v, const char *name, size_t *idx)
{
	const struct pc_zone *z;

	if (!v->scan)
		return strmap_get(&v->zones, name, idx);
	z = pc_config_zone(v->cfg, name);
	if (z)
		*idx = (size_t)(z - v->cfg->zones);
	return z != NULL;
}

static bool service_find(const struct validator *v, const char *name, size_t *idx)
{
	const struct pc_service *svc;

	if (!v->scan)
		return strmap_get(&v->services, name, idx);
	svc = pc_config_service(v->cfg, name);
	if (svc)
		*idx = (size_t)(svc - v->cfg->services);
	return svc != NULL;
}

static void where_format(char *buf, size_t size, const struct pc_loc *loc)
{
	snprintf(buf, size, "%s:%u", loc->file ? loc->file : "?", loc->line);
}

static void duplicate_report(struct validator *v, const char *what, const char *name,
			     const struct pc_loc *loc, const struct pc_loc *first)
{
	char where[256];

	where_format(where, sizeof(where), first);
	pc_diag_add(v->d, PC_SEV_ERROR, loc,
		    "define it once; your definition replaces a shipped one of the same name",
		    "%s '%s' is already defined at %s", what, name, where);
}

/* The replacing zone inherits the shipped default, unmarked (line 0), so
 * that the choice survives validating the configuration again. */
static void zone_replace(struct pc_zone *shipped, const struct pc_zone *z)
{
	bool inherit = shipped->is_default && !z->is_default;

	*shipped = *z;
	if (inherit) {
		shipped->is_default = true;
		shipped->default_loc = (struct pc_loc){0};
	}
}

/* An administrator's zone replaces the shipped one in its place; two of the
 * same origin are an error. Compacts cfg->zones in place. */
static void zones_resolve(struct validator *v)
{
	struct pc_config *cfg = v->cfg;
	size_t out = 0, idx;

	for (size_t i = 0; i < cfg->n_zones; i++) {
		struct pc_zone z = cfg->zones[i];

		if (z.is_default && z.origin == PC_ORIGIN_SHIPPED && z.default_loc.line) {
			if (!v->shipped_default)
				v->shipped_default = z.name;
			else if (!streq(v->shipped_default, z.name))
				pc_error(v->d, &z.default_loc,
					 "zone '%s' is marked default, but '%s' already is", z.name,
					 v->shipped_default);
		}
		if (strmap_get(&v->zones, z.name, &idx)) {
			struct pc_zone *e = &cfg->zones[idx];

			if (e->origin == PC_ORIGIN_SHIPPED && z.origin != PC_ORIGIN_SHIPPED)
				zone_replace(e, &z);
			else if (z.origin != PC_ORIGIN_SHIPPED || e->origin == PC_ORIGIN_SHIPPED)
				duplicate_report(v, "zone", z.name, &z.loc, &e->loc);
			continue;
		}
		if (strmap_put(&v->zones, z.name, out) < 0)
			v->nomem = true;
		cfg->zones[out++] = z;
	}
	cfg->n_zones = out;
}

static void services_resolve(struct validator *v)
{
	struct pc_config *cfg = v->cfg;
	size_t out = 0, idx;

	for (size_t i = 0; i < cfg->n_services; i++) {
		struct pc_service s = cfg->services[i];

		if (strmap_get(&v->services, s.name, &idx)) {
			struct pc_service *e = &cfg->services[idx];

			if (e->origin == PC_ORIGIN_SHIPPED && s.origin != PC_ORIGIN_SHIPPED)
				*e = s;
			else if (s.origin != PC_ORIGIN_SHIPPED || e->origin == PC_ORIGIN_SHIPPED)
				duplicate_report(v, "service", s.name, &s.loc, &e->loc);
			continue;
		}
		if (strmap_put(&v->services, s.name, out) < 0)
			v->nomem = true;
		cfg->services[out++] = s;
	}
	cfg->n_services = out;
}

static int names_build(struct validator *v)
{
	struct pc_config *cfg = v->cfg;

	v->zone_names = calloc(cfg->n_zones + 1, sizeof(*v->zone_names));
	v->n_service_names = cfg->n_services + ARRAY_SIZE(option_words);
	v->service_names = calloc(v->n_service_names, sizeof(*v->service_names));
	if (!v->zone_names || !v->service_names)
		return -ENOMEM;
	for (size_t i = 0; i < cfg->n_zones; i++)
		v->zone_names[i] = cfg->zones[i].name;
	for (size_t i = 0; i < cfg->n_services; i++)
		v->service_names[i] = cfg->services[i].name;
	for (size_t i = 0; i < ARRAY_SIZE(option_words); i++)
		v->service_names[cfg->n_services + i] = option_words[i];
	return 0;
}

static void unknown_report(struct validator *v, const char *what, const struct pc_name *n,
			   const char *const *names, size_t n_names)
{
	const char *s = suggest_from(n->name, strlen(n->name), names, n_names);
	char hint[96];

	if (s)
		snprintf(hint, sizeof(hint), "did you mean '%s'?", s);
	pc_diag_add(v->d, PC_SEV_ERROR, &n->loc, s ? hint : NULL, "unknown %s '%s'", what, n->name);
}

static bool zone_marked_default(const struct pc_zone *z)
{
	return z->is_default && z->origin != PC_ORIGIN_SHIPPED && z->default_loc.line != 0;
}

/* portctl.conf's default-zone wins, then an administrator's zone marked
 * default, then the shipped default (kept by a zone that replaced it). */
static void default_zone_choose(struct validator *v)
{
	struct pc_config *cfg = v->cfg;
	const struct pc_zone *first = NULL;
	char where[256];
	size_t idx;

	if (cfg->settings.default_zone) {
		struct pc_name n = {cfg->settings.default_zone, cfg->settings.default_zone_loc};

		if (zone_find(v, n.name, &idx))
			cfg->default_zone = idx;
		else
			unknown_report(v, "zone", &n, v->zone_names, cfg->n_zones);
		return;
	}
	for (size_t i = 0; i < cfg->n_zones; i++) {
		const struct pc_zone *z = &cfg->zones[i];

		if (!zone_marked_default(z))
			continue;
		if (first) {
			where_format(where, sizeof(where), &first->default_loc);
			pc_diag_add(v->d, PC_SEV_ERROR, &z->default_loc,
				    "mark one zone default, or set default-zone in portctl.conf",
				    "zone '%s' is marked default, but '%s' already is at %s",
				    z->name, first->name, where);
			continue;
		}
		first = z;
		cfg->default_zone = i;
	}
	for (size_t i = 0; !first && i < cfg->n_zones; i++) {
		if (cfg->zones[i].is_default) {
			cfg->default_zone = i;
			return;
		}
	}
	if (first)
		return;
	pc_diag_add(v->d, PC_SEV_ERROR, NULL,
		    cfg->n_zones ? "mark one zone 'default', or set default-zone in portctl.conf"
				 : "install the shipped zones.rules or define a zone",
		    cfg->n_zones ? "no default zone" : "no zones are defined");
}

static void interfaces_check(struct validator *v)
{
	struct pc_config *cfg = v->cfg;
	struct strmap seen = {0};
	char where[256];
	size_t zi;

	for (size_t i = 0; i < cfg->n_zones; i++) {
		for (size_t k = 0; k < cfg->zones[i].n_interfaces; k++) {
			const struct pc_name *n = &cfg->zones[i].interfaces[k];

			if (!strmap_get(&seen, n->name, &zi)) {
				if (strmap_put(&seen, n->name, i) < 0)
					v->nomem = true;
				continue;
			}
			where_format(where, sizeof(where), &cfg->zones[zi].loc);
			pc_diag_add(v->d, PC_SEV_ERROR, &n->loc, "an interface belongs to one zone",
				    "interface '%s' is already in zone '%s' (%s)", n->name,
				    cfg->zones[zi].name, where);
		}
	}
	strmap_free(&seen);
}

struct zone_source {
	const struct pc_prefix *p;
	const struct pc_zone *z;
};

/* By address, then length; equal prefixes in zone order, so that the one
 * reported is always the later definition. */
static int source_cmp(const void *a, const void *b)
{
	const struct zone_source *sa = a, *sb = b;
	const struct pc_prefix *x = sa->p, *y = sb->p;
	int r;

	if (x->family != y->family)
		return x->family < y->family ? -1 : 1;
	r = memcmp(x->addr, y->addr, sizeof(x->addr));
	if (r)
		return r;
	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	if (sa->z != sb->z)
		return sa->z < sb->z ? -1 : 1;
	return x < y ? -1 : x > y;
}

static bool prefix_contains(const struct pc_prefix *a, const struct pc_prefix *b)
{
	unsigned full = a->len / 8, rest = a->len % 8;

	if (a->family != b->family || a->len > b->len)
		return false;
	if (memcmp(a->addr, b->addr, full) != 0)
		return false;
	return !rest || ((a->addr[full] ^ b->addr[full]) & (0xff << (8 - rest))) == 0;
}

/* inner lies inside outer, its nearest enclosing prefix. In the same zone
 * it adds nothing; in another zone it is a more specific binding (the
 * longest prefix wins), unless it is the same prefix: then nothing says
 * which zone gets it. */
static void source_overlap_report(struct validator *v, const struct zone_source *outer,
				  const struct zone_source *inner)
{
	char a[64], b[64], where[256];

	if (outer->z != inner->z && outer->p->len != inner->p->len)
		return;
	pc_prefix_format(outer->p, a, sizeof(a));
	pc_prefix_format(inner->p, b, sizeof(b));
	where_format(where, sizeof(where), &outer->p->loc);
	if (outer->z == inner->z)
		pc_warning(v->d, &inner->p->loc, "source %s of zone '%s' is inside %s (%s)", b,
			   inner->z->name, a, where);
	else
		pc_diag_add(v->d, PC_SEV_ERROR, &inner->p->loc,
			    "a prefix belongs to one zone (a longer one inside it need not)",
			    "source %s of zone '%s' is already a source of zone '%s' (%s)", b,
			    inner->z->name, outer->z->name, where);
}

/* Sorted by address then length, a prefix lies inside an earlier one only
 * if one on the stack of enclosing prefixes contains it: O(n log n). The
 * top of the stack is its nearest enclosing prefix, the one that would
 * otherwise decide its zone; equal prefixes sort next to each other. */
static void sources_check(struct validator *v)
{
	struct pc_config *cfg = v->cfg;
	struct zone_source *all = NULL, **stack = NULL;
	size_t n = 0, cap = 0, top = 0;

	for (size_t i = 0; i < cfg->n_zones; i++) {
		for (size_t k = 0; k < cfg->zones[i].n_sources; k++) {
			struct zone_source *s = PC_ARRAY_PUSH(all, n, cap);

			if (!s) {
				v->nomem = true;
				goto out;
			}
			s->p = &cfg->zones[i].sources[k];
			s->z = &cfg->zones[i];
		}
	}
	if (n < 2)
		goto out;
	qsort(all, n, sizeof(*all), source_cmp);
	stack = calloc(n, sizeof(*stack));
	if (!stack) {
		v->nomem = true;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		while (top > 0 && !prefix_contains(stack[top - 1]->p, all[i].p))
			top--;
		if (top > 0)
			source_overlap_report(v, stack[top - 1], &all[i]);
		stack[top++] = &all[i];
	}
out:
	free(stack);
	free(all);
}

/* Service words become ports after the ones written, each with the
 * service word's place, so errors later still point at the word. */
static void rule_services_expand(struct validator *v, struct pc_rule *r)
{
	size_t total = r->n_written_ports, idx;
	struct pc_port_range *ports;
	bool ok = true;

	for (size_t i = 0; i < r->n_services; i++) {
		if (!service_find(v, r->services[i].name, &idx)) {
			unknown_report(v, "service", &r->services[i], v->service_names,
				       v->n_service_names);
			ok = false;
			continue;
		}
		total += v->cfg->services[idx].n_ports;
	}
	r->n_ports = r->n_written_ports;
	if (!ok || r->n_services == 0)
		return;
	ports = pc_arena_alloc(v->cfg->arena, total * sizeof(*ports));
	if (!ports) {
		v->nomem = true;
		return;
	}
	if (r->n_written_ports)
		memcpy(ports, r->ports, r->n_written_ports * sizeof(*ports));
	total = r->n_written_ports;
	for (size_t i = 0; i < r->n_services; i++) {
		const struct pc_service *svc;

		service_find(v, r->services[i].name, &idx);
		svc = &v->cfg->services[idx];
		for (size_t k = 0; k < svc->n_ports; k++) {
			ports[total] = svc->ports[k];
			ports[total++].loc = r->services[i].loc;
		}
	}
	r->ports = ports;
	r->n_ports = total;
}

static unsigned families(const struct pc_prefix *v, size_t n)
{
	unsigned m = n ? 0 : 3;

	for (size_t i = 0; i < n; i++)
		m |= v[i].family == AF_INET ? 1 : v[i].family == AF_INET6 ? 2 : 3;
	return m;
}

/* forward and masquerade: the parser checked their shape; a forward's
 * clients ("from") must be of its backend's family, as DNAT cannot
 * change it. */
static void nat_check(struct validator *v, const struct pc_rule *r)
{
	unsigned fam = r->fwd_addr.family == AF_INET ? 1 : 2;

	if (r->action == PC_FORWARD && (families(r->from, r->n_from) & fam) == 0)
		pc_diag_add(v->d, PC_SEV_ERROR, &r->from[0].loc,
			    "write another forward for the clients of the other family",
			    "'from' and 'to' of a forward are of different address families");
}

/* Source and destination ports must share a protocol, or nothing matches. */
static void sports_check(struct validator *v, const struct pc_rule *r)
{
	uint8_t d = 0, sp = 0;

	for (size_t i = 0; i < r->n_ports; i++)
		d |= r->ports[i].protos;
	for (size_t i = 0; i < r->n_sports; i++)
		sp |= r->sports[i].protos;
	if (r->n_ports && (d & sp) == 0)
		pc_diag_add(v->d, PC_SEV_ERROR, &r->sports[0].loc,
			    "give the source ports the protocol of the ports, e.g. port 53/udp",
			    "the source ports and the ports have no protocol in common; nothing "
			    "could match");
}

/* @NAME of a rule: a set defined anywhere in the configuration. */
static const struct pc_addrset *set_ref_resolve(struct validator *v, const struct pc_name *n)
{
	const struct pc_config *cfg = v->cfg;
	_cleanup_free_ const char **names = NULL;
	const struct pc_addrset *s;

	if (!n->name)
		return NULL;
	s = pc_config_set(cfg, n->name);
	if (s) {
		((struct pc_addrset *)s)->used = true;
		return s;
	}
	names = calloc(cfg->n_sets + 1, sizeof(*names));
	if (!names) {
		v->nomem = true;
		return NULL;
	}
	for (size_t i = 0; i < cfg->n_sets; i++)
		names[i] = cfg->sets[i]->name;
	unknown_report(v, "set", n, names, cfg->n_sets);
	return NULL;
}

/* The families a side of a rule can match: its addresses or its set's. */
static unsigned side_families(const struct pc_prefix *p, size_t n, const struct pc_addrset *s)
{
	return s ? families(s->addrs, s->n_addrs) : families(p, n);
}

static void rule_check(struct validator *v, struct pc_rule *r)
{
	static const char *const actions[] = {"allow", "deny", "reject", "limit"};
	size_t idx;

	for (size_t i = 0; i < r->n_zones; i++)
		if (!zone_find(v, r->zones[i].name, &idx))
			unknown_report(v, "zone", &r->zones[i], v->zone_names, v->cfg->n_zones);
	rule_services_expand(v, r);
	r->from_set = set_ref_resolve(v, &r->from_set_name);
	r->to_set = set_ref_resolve(v, &r->to_set_name);
	if (r->action == PC_FORWARD || r->action == PC_MASQUERADE) {
		nat_check(v, r);
		return;
	}
	if (r->l4proto == IPPROTO_ICMP || r->l4proto == IPPROTO_ICMPV6) {
		unsigned fam = r->l4proto == IPPROTO_ICMP ? 1 : 2;

		if ((families(r->from, r->n_from) & families(r->to, r->n_to) & fam) == 0)
			pc_diag_add(v->d, PC_SEV_ERROR, &r->loc,
				    fam == 1 ? "write 'icmpv6' for IPv6" : "write 'icmp' for IPv4",
				    "'%s' is for IPv%c addresses only; nothing could match",
				    fam == 1 ? "icmp" : "icmpv6", fam == 1 ? '4' : '6');
	}
	if (r->n_sports)
		sports_check(v, r);
	if (r->n_written_ports == 0 && r->n_services == 0 && r->n_from == 0 && r->n_to == 0 &&
	    r->l4proto == 0 && !r->from_set_name.name && !r->to_set_name.name)
		pc_diag_add(v->d, PC_SEV_ERROR, &r->loc,
			    "give a port (22/tcp), a service (ssh) or 'from ADDR'",
			    "'%s' needs a target", actions[r->action]);
	if ((side_families(r->from, r->n_from, r->from_set) &
	     side_families(r->to, r->n_to, r->to_set)) == 0)
		pc_diag_add(
		    v->d, PC_SEV_ERROR, r->to_set ? &r->to_set_name.loc : &r->to[0].loc,
		    "use addresses of one family in 'from' and 'to'",
		    "'from' and 'to' are of different address families; nothing could match");
	if (r->action == PC_DENY && r->rate.set)
		pc_diag_add(v->d, PC_SEV_ERROR, &r->rate.loc,
			    "'deny' drops every match; use 'limit' to allow up to a rate",
			    "'rate' cannot be used with 'deny'");
	if (r->action == PC_LIMIT && r->dir == PC_DIR_OUT)
		pc_diag_add(v->d, PC_SEV_ERROR, &r->loc, "write 'allow out … rate N/minute'",
			    "'limit' applies to inbound connections only");
	if (r->action == PC_LIMIT && !r->rate.set)
		r->rate = (struct pc_rate){
		    .set = true, .count = 6, .unit = PC_PER_MINUTE, .burst = 6, .loc = r->loc};
}

/* A ban's loc is set when its address came from a file; the CLI's has none. */
static const struct pc_loc *ban_loc(const struct pc_ban_entry *b)
{
	return b->addr.loc.file ? &b->addr.loc : NULL;
}

/* Duplicates and overlaps are fine: the compiler merges them. */
static void ban_check(struct validator *v, const struct pc_ban_entry *b)
{
	char addr[64], fixed[64], hint[96];
	struct pc_prefix masked;
	size_t idx;

	if (b->addr.family != AF_INET && b->addr.family != AF_INET6) {
		pc_diag_add(v->d, PC_SEV_ERROR, ban_loc(b), "give an IPv4 or IPv6 address or prefix",
			    "a ban needs an address");
		return;
	}
	if (b->addr.len > (b->addr.family == AF_INET ? 32 : 128)) {
		pc_diag_add(v->d, PC_SEV_ERROR, ban_loc(b), NULL,
			    "invalid prefix length %u in a ban", b->addr.len);
		return;
	}
	pc_prefix_format(&b->addr, addr, sizeof(addr));
	masked = b->addr;
	if (prefix_clear_host_bits(masked.addr, b->addr.family == AF_INET ? 4 : 16, b->addr.len)) {
		pc_prefix_format(&masked, fixed, sizeof(fixed));
		snprintf(hint, sizeof(hint), "did you mean %s?", fixed);
		pc_diag_add(v->d, PC_SEV_ERROR, ban_loc(b), hint,
			    "'%s' has host bits set after the prefix", addr);
	}
	if (b->zone && !zone_find(v, b->zone, &idx)) {
		const char *s = suggest_from(b->zone, strlen(b->zone), v->zone_names,
					     v->cfg->n_zones);

		if (s)
			snprintf(hint, sizeof(hint), "did you mean '%s'?", s);
		pc_diag_add(v->d, PC_SEV_ERROR, ban_loc(b), s ? hint : NULL,
			    "unknown zone '%s' (ban of %s)", b->zone, addr);
	}
}

/* Each set defined once; a file's lines parsed from the text the loader
 * read (or the daemon kept), once however often validation runs. */
static void sets_check(struct validator *v)
{
	struct pc_config *cfg = v->cfg;

	for (size_t i = 0; i < cfg->n_sets; i++) {
		struct pc_addrset *s = cfg->sets[i];
		const struct pc_source *src;
		const struct pc_addrset *first = pc_config_set(cfg, s->name);

		if (first != s)
			duplicate_report(v, "set", s->name, &s->loc, &first->loc);
		if (s->loaded || !s->file)
			continue;
		src = pc_sources_find(&cfg->sources, s->file);
		if (!src || src->kind != PC_SOURCE_SET) {
			pc_diag_add(v->d, PC_SEV_ERROR, &s->file_loc,
				    "create it (one address or prefix a line), or fix the path",
				    "set '%s': cannot read %s", s->name, s->file);
			continue;
		}
		if (pc_addrset_parse(cfg, s, src->name, src->data, src->len, v->d) == -ENOMEM)
			v->nomem = true;
	}
}

/* After the rules: a set no rule uses is most likely a typo in a rule. */
static void sets_unused_warn(struct validator *v)
{
	for (size_t i = 0; i < v->cfg->n_sets; i++) {
		const struct pc_addrset *s = v->cfg->sets[i];
		char hint[128];

		if (s->used || pc_config_set(v->cfg, s->name) != s)
			continue;
		snprintf(hint, sizeof(hint), "use it as 'from @%s' or 'to @%s', or remove it",
			 s->name, s->name);
		pc_diag_add(v->d, PC_SEV_WARNING, &s->loc, hint, "set '%s' is not used", s->name);
	}
}

static void validator_free(struct validator *v)
{
	strmap_free(&v->zones);
	strmap_free(&v->services);
	free(v->zone_names);
	free(v->service_names);
}

int pc_config_validate(struct pc_config *cfg, struct pc_diags *d)
{
	struct validator v = {.cfg = cfg, .d = d};
	size_t errors = d->n_errors;

	pc_config_ports_forget(cfg); /* services give rules their ports again */
	zones_resolve(&v);
	services_resolve(&v);
	if (names_build(&v) < 0 || v.nomem) {
		validator_free(&v);
		return -ENOMEM;
	}
	default_zone_choose(&v);
	interfaces_check(&v);
	sources_check(&v);
	sets_check(&v);
	for (size_t i = 0; i < cfg->n_rules; i++)
		rule_check(&v, &cfg->rules[i]);
	sets_unused_warn(&v);
	for (size_t i = 0; i < cfg->n_bans; i++)
		ban_check(&v, &cfg->bans[i]);
	validator_free(&v);
	if (v.nomem)
		return -ENOMEM;
	return d->n_errors > errors ? -EINVAL : 0;
}

/* A validator for rules and bans of a validated configuration, whose
 * zones and services are resolved already. */
static int validator_ready(struct validator *v, struct pc_config *cfg)
{
	for (size_t z = 0; !v->scan && z < cfg->n_zones; z++)
		if (strmap_put(&v->zones, cfg->zones[z].name, z) < 0)
			v->nomem = true;
	for (size_t k = 0; !v->scan && k < cfg->n_services; k++)
		if (strmap_put(&v->services, cfg->services[k].name, k) < 0)
			v->nomem = true;
	if (names_build(v) < 0 || v->nomem) {
		validator_free(v);
		return -ENOMEM;
	}
	return 0;
}

/* Check one rule, or bans [from, to), of a validated configuration: one
 * validator for them all. */
static int validate_one(struct pc_config *cfg, struct pc_rule *rule, size_t from, size_t to,
			struct pc_diags *d)
{
	struct validator v = {.cfg = cfg, .d = d, .scan = rule || to - from <= 1};
	size_t errors = d->n_errors;

	if (validator_ready(&v, cfg) < 0)
		return -ENOMEM;
	if (rule)
		rule_check(&v, rule);
	else
		for (size_t i = from; i < to; i++)
			ban_check(&v, &cfg->bans[i]);
	validator_free(&v);
	if (v.nomem)
		return -ENOMEM;
	return d->n_errors > errors ? -EINVAL : 0;
}

int pc_config_validate_rule(struct pc_config *cfg, size_t i, struct pc_diags *d)
{
	return validate_one(cfg, &cfg->rules[i], 0, 0, d);
}

int pc_config_validate_ban(struct pc_config *cfg, size_t i, struct pc_diags *d)
{
	return validate_one(cfg, NULL, i, i + 1, d);
}

int pc_config_validate_bans(struct pc_config *cfg, struct pc_diags *d)
{
	return validate_one(cfg, NULL, 0, cfg->n_bans, d);
}
