/* Lint for "portctl check": rules that can never match because an earlier
 * rule of the same zone and direction decides all of their traffic, and
 * duplicates. Conservative by design: a rule shadows another only when it
 * decides every packet it matches (no rate, not limit) and its match is a
 * superset on every axis (zones, addresses, protocols, ports). */
#include "config.h"

#include <netinet/in.h>
#include <string.h>

#include "lang.h"
#include "portctl/config.h"

static const enum pc_proto lint_protos[3] = {PC_PROTO_TCP, PC_PROTO_UDP, PC_PROTO_SCTP};

static const char *zone_of(const struct pc_config *cfg, const struct pc_rule *r, size_t i)
{
	if (r->n_zones)
		return r->zones[i].name;
	return cfg->n_zones ? cfg->zones[cfg->default_zone].name : "";
}

/* Every zone of b is a zone of a. */
static bool zones_covered(const struct pc_config *cfg, const struct pc_rule *a,
			  const struct pc_rule *b)
{
	for (size_t i = 0; i < (b->n_zones ? b->n_zones : 1); i++) {
		bool found = false;

		for (size_t j = 0; !found && j < (a->n_zones ? a->n_zones : 1); j++)
			found = streq(zone_of(cfg, b, i), zone_of(cfg, a, j));
		if (!found)
			return false;
	}
	return true;
}

static bool addrs_any(const struct pc_prefix *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i].family == 0)
			return true;
	return n == 0;
}

static bool prefix_covers(const struct pc_prefix *a, const struct pc_prefix *b)
{
	size_t full = a->len / 8;
	uint8_t rest = a->len % 8;

	if (a->family != b->family || a->len > b->len || memcmp(a->addr, b->addr, full) != 0)
		return false;
	return rest == 0 || ((a->addr[full] ^ b->addr[full]) & (uint8_t)(0xff << (8 - rest))) == 0;
}

/* Every address of list b is in list a. */
static bool addrs_covered(const struct pc_prefix *a, size_t na, const struct pc_prefix *b,
			  size_t nb)
{
	if (addrs_any(a, na))
		return true;
	if (addrs_any(b, nb))
		return false;
	for (size_t i = 0; i < nb; i++) {
		bool found = false;

		for (size_t j = 0; !found && j < na; j++)
			found = prefix_covers(&a[j], &b[i]);
		if (!found)
			return false;
	}
	return true;
}

static bool ports_have(const struct pc_port_range *v, size_t n, enum pc_proto p)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].protos & p)
			return true;
	return false;
}

/* lo-hi of protocol p lies in the union of v's ranges of p. */
static bool range_covered(const struct pc_port_range *v, size_t n, enum pc_proto p, uint16_t lo,
			  uint16_t hi)
{
	uint32_t pos = lo;
	bool moved = true;

	while (pos <= hi && moved) {
		moved = false;
		for (size_t i = 0; i < n && pos <= hi; i++) {
			if ((v[i].protos & p) && v[i].lo <= pos && pos <= v[i].hi) {
				pos = (uint32_t)v[i].hi + 1;
				moved = true;
			}
		}
	}
	return pos > hi;
}

/* For protocol p, b's list (empty: every port) is within a's. */
static bool list_covered(const struct pc_port_range *a, size_t na, const struct pc_port_range *b,
			 size_t nb, enum pc_proto p)
{
	if (na == 0)
		return true;
	if (nb == 0 || !ports_have(a, na, p))
		return false;
	for (size_t i = 0; i < nb; i++)
		if ((b[i].protos & p) && !range_covered(a, na, p, b[i].lo, b[i].hi))
			return false;
	return true;
}

static bool rule_all_traffic(const struct pc_rule *r)
{
	return r->n_ports == 0 && r->n_sports == 0 && r->l4proto == 0;
}

/* What a rule matches besides addresses: a's is a superset of b's. */
static bool traffic_covered(const struct pc_rule *a, const struct pc_rule *b)
{
	if (rule_all_traffic(a))
		return true;
	if (rule_all_traffic(b))
		return false;
	if (b->l4proto) {
		if (a->l4proto != b->l4proto)
			return false;
		if (a->n_icmp_types == 0)
			return true;
		if (b->n_icmp_types == 0)
			return false;
		for (size_t i = 0; i < b->n_icmp_types; i++)
			if (!memchr(a->icmp_types, b->icmp_types[i], a->n_icmp_types))
				return false;
		return true;
	}
	if (a->l4proto)
		return false;
	for (size_t k = 0; k < 3; k++) {
		enum pc_proto p = lint_protos[k];

		/* Protocols b has no kernel rule for need no cover. */
		if ((b->n_ports && !ports_have(b->ports, b->n_ports, p)) ||
		    (b->n_sports && !ports_have(b->sports, b->n_sports, p)))
			continue;
		if (!list_covered(a->ports, a->n_ports, b->ports, b->n_ports, p) ||
		    !list_covered(a->sports, a->n_sports, b->sports, b->n_sports, p))
			return false;
	}
	return true;
}

/* "from @NAME" covers only the same set's rules (its entries are read
 * later, from a list file); b's set is "any" to addrs_covered. */
static bool set_covered(const struct pc_name *a, const struct pc_name *b)
{
	return !a->name || (b->name && streq(a->name, b->name));
}

static bool is_nat(const struct pc_rule *r)
{
	return r->action == PC_FORWARD || r->action == PC_MASQUERADE;
}

static bool match_covered(const struct pc_config *cfg, const struct pc_rule *a,
			  const struct pc_rule *b)
{
	/* NAT rules live in chains of their own: they shadow only their kind. */
	if (is_nat(a) || is_nat(b))
		return a->action == b->action && b->action == PC_FORWARD &&
		       zones_covered(cfg, a, b) &&
		       addrs_covered(a->from, a->n_from, b->from, b->n_from) &&
		       traffic_covered(a, b);
	return a->dir == b->dir && zones_covered(cfg, a, b) &&
	       set_covered(&a->from_set_name, &b->from_set_name) &&
	       set_covered(&a->to_set_name, &b->to_set_name) &&
	       addrs_covered(a->from, a->n_from, b->from, b->n_from) &&
	       addrs_covered(a->to, a->n_to, b->to, b->n_to) && traffic_covered(a, b);
}

/* Whether every packet a matches is decided by a: not when a rate lets
 * some fall through, nor for limit (its meter is per source). */
static bool rule_decides_all(const struct pc_rule *a)
{
	return a->action != PC_LIMIT && !a->rate.set;
}

bool pc_rule_log_same(const struct pc_rule *a, const struct pc_rule *b)
{
	int la = a->log_level_set ? a->log_level : 4, lb = b->log_level_set ? b->log_level : 4;

	if (a->log != b->log || la != lb)
		return false;
	return a->log_prefix ? b->log_prefix && streq(a->log_prefix, b->log_prefix)
			     : !b->log_prefix;
}

static bool rule_duplicate(const struct pc_config *cfg, const struct pc_rule *a,
			   const struct pc_rule *b)
{
	if (a->action == PC_FORWARD &&
	    (a->fwd_port != b->fwd_port || a->fwd_addr.family != b->fwd_addr.family ||
	     memcmp(a->fwd_addr.addr, b->fwd_addr.addr, sizeof(a->fwd_addr.addr)) != 0))
		return false;
	return a->action == b->action && pc_rule_log_same(a, b) && a->rate.set == b->rate.set &&
	       (!a->rate.set || (a->rate.count == b->rate.count && a->rate.unit == b->rate.unit &&
				 a->rate.burst == b->rate.burst)) &&
	       match_covered(cfg, a, b) && match_covered(cfg, b, a);
}

static const char *file_of(const struct pc_rule *r)
{
	return r->loc.file ? r->loc.file : "-";
}

void pc_config_lint(const struct pc_config *cfg, struct pc_diags *d)
{
	for (size_t i = 0; i < cfg->n_rules; i++) {
		const struct pc_rule *b = &cfg->rules[i];

		/* defaults.rules is there to be overridden by earlier rules. */
		if (b->origin == PC_ORIGIN_DEFAULTS)
			continue;
		for (size_t j = 0; j < i; j++) {
			const struct pc_rule *a = &cfg->rules[j];

			if (rule_duplicate(cfg, a, b)) {
				pc_diag_add(d, PC_SEV_WARNING, &b->loc, "delete one of them",
					    "duplicate of %s:%u '%s'", file_of(a), a->loc.line,
					    a->text);
				break;
			}
			if (rule_decides_all(a) && match_covered(cfg, a, b)) {
				pc_diag_add(d, PC_SEV_WARNING, &b->loc,
					    "move it above, or narrow the earlier rule",
					    "never matches: %s:%u '%s' decides all of its traffic "
					    "first",
					    file_of(a), a->loc.line, a->text);
				break;
			}
		}
	}
}
