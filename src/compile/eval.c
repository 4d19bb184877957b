/* Evaluating a packet against the plan, first match as the kernel does: the
 * oracle behind "portctl explain" and the differential tests. */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "compile-internal.h"
#include "portctl/util.h"

static bool bytes_has(const uint8_t *v, size_t n, uint8_t x)
{
	for (size_t i = 0; i < n; i++) {
		if (v[i] == x)
			return true;
	}
	return false;
}

static bool packet_by_source(const struct pc_packet *pkt)
{
	return pkt->dir != PC_DIR_OUT;
}

static bool packet_loopback(const struct pc_packet *pkt)
{
	const char *ifname = packet_by_source(pkt) ? pkt->iif : pkt->oif;

	return pkt->dir != PC_DIR_FWD && ifname && streq(ifname, "lo");
}

static bool packet_icmp_accepted(const struct pc_packet *pkt)
{
	return pkt->family == AF_INET6 && pkt->l4proto == IPPROTO_ICMPV6 &&
	       bytes_has(icmp6_early, sizeof(icmp6_early), pkt->icmp_type);
}

/* What a zone whose policy is drop accepts after its rules (lower.c). */
static bool packet_ping(const struct pc_packet *pkt)
{
	return (pkt->l4proto == IPPROTO_ICMP && pkt->icmp_type == PC_ICMP_ECHO_REQUEST) ||
	       (pkt->l4proto == IPPROTO_ICMPV6 && pkt->icmp_type == PC_ICMP6_ECHO_REQUEST);
}

static void addr_key(uint8_t family, const uint8_t *addr, uint8_t *key)
{
	memset(key, 0, 16);
	memcpy(key, addr, family == AF_INET ? 4 : 16);
}

static const struct pc_plan_span *spans_find_addr(const struct pc_plan_spans *v4,
						  const struct pc_plan_spans *v6, uint8_t family,
						  const uint8_t *addr)
{
	uint8_t key[16];

	addr_key(family, addr, key);
	return spans_find(family == AF_INET ? v4 : v6, key);
}

static const struct pc_plan_iface *ifaces_find_wild(const struct pc_plan_dispatch *dp,
						    const char *name)
{
	const struct pc_plan_iface *best = NULL;
	size_t best_len = 0;

	for (size_t i = 0; i < dp->n_ifaces; i++) {
		const char *w = dp->ifaces[i].name;
		size_t n = strlen(w);

		if (n < 2 || w[n - 1] != '*' || strncmp(name, w, n - 1) != 0)
			continue;
		if (!best || n > best_len)
			best = &dp->ifaces[i], best_len = n;
	}
	return best;
}

/* The zone of an interface name: its exact name, else the longest
 * wildcard (br-*) it begins with, as the lowering's interval map does. */
static const struct pc_plan_iface *ifaces_find(const struct pc_plan_dispatch *dp, const char *name)
{
	size_t lo = 0, hi = dp->n_ifaces;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(name, dp->ifaces[mid].name);

		if (c == 0)
			return &dp->ifaces[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return ifaces_find_wild(dp, name);
}

static size_t packet_zone(const struct pc_plan *plan, const struct pc_packet *pkt,
			  enum pc_zone_reason *reason)
{
	const struct pc_plan_dispatch *dp = &plan->dispatch[pkt->dir];
	const uint8_t *addr = packet_by_source(pkt) ? pkt->saddr : pkt->daddr;
	const char *ifname = packet_by_source(pkt) ? pkt->iif : pkt->oif;
	const struct pc_plan_span *s = spans_find_addr(&dp->addr4, &dp->addr6, pkt->family, addr);
	const struct pc_plan_iface *f;

	if (s) {
		*reason = PC_ZONE_BY_ADDRESS;
		return s->zone;
	}
	f = ifname ? ifaces_find(dp, ifname) : NULL;
	if (f) {
		*reason = PC_ZONE_BY_IFACE;
		return f->zone;
	}
	*reason = PC_ZONE_BY_DEFAULT;
	return dp->default_zone;
}

static bool l4proto_has_ports(uint8_t l4proto)
{
	return l4proto == IPPROTO_TCP || l4proto == IPPROTO_UDP || l4proto == IPPROTO_SCTP;
}

static bool prefix_contains(const struct pc_prefix *p, uint8_t family, const uint8_t *addr)
{
	uint8_t lo[16], hi[16], key[16];

	if (p->family == 0)
		return true;
	if (p->family != family)
		return false;
	key_from_prefix(p, lo, hi);
	addr_key(family, addr, key);
	return key_cmp(key, lo) >= 0 && key_cmp(key, hi) <= 0;
}

static bool prefixes_match(const struct pc_prefix *p, size_t n, uint8_t family,
			   const uint8_t *addr)
{
	if (n == 0)
		return true;
	for (size_t i = 0; i < n; i++) {
		if (prefix_contains(&p[i], family, addr))
			return true;
	}
	return false;
}

static bool ports_match(const struct pc_rule *r, const struct pc_packet *pkt)
{
	if (r->n_ports == 0)
		return true;
	if (!l4proto_has_ports(pkt->l4proto))
		return false;
	for (size_t i = 0; i < r->n_ports; i++) {
		const struct pc_port_range *pr = &r->ports[i];

		for (size_t p = 0; p < ARRAY_SIZE(pc_protos_all); p++) {
			if ((pr->protos & pc_protos_all[p]) &&
			    proto_l4(pc_protos_all[p]) == pkt->l4proto && pr->lo <= pkt->dport &&
			    pkt->dport <= pr->hi)
				return true;
		}
	}
	return false;
}

static bool sports_match(const struct pc_rule *r, const struct pc_packet *pkt)
{
	if (r->n_sports == 0)
		return true;
	for (size_t i = 0; i < r->n_sports; i++) {
		const struct pc_port_range *pr = &r->sports[i];

		for (size_t p = 0; p < ARRAY_SIZE(pc_protos_all); p++) {
			if ((pr->protos & pc_protos_all[p]) &&
			    proto_l4(pc_protos_all[p]) == pkt->l4proto && pr->lo <= pkt->sport &&
			    pkt->sport <= pr->hi)
				return true;
		}
	}
	return false;
}

/* icmp [TYPES], icmpv6 [TYPES], proto N; icmp is IPv4's, icmpv6 IPv6's. */
static bool l4_match(const struct pc_rule *r, const struct pc_packet *pkt)
{
	if (r->l4proto == 0)
		return true;
	if (pkt->l4proto != r->l4proto)
		return false;
	if ((r->l4proto == IPPROTO_ICMP && pkt->family != AF_INET) ||
	    (r->l4proto == IPPROTO_ICMPV6 && pkt->family != AF_INET6))
		return false;
	return r->n_icmp_types == 0 || bytes_has(r->icmp_types, r->n_icmp_types, pkt->icmp_type);
}

static bool rule_matches(const struct pc_rule *r, const struct pc_packet *pkt)
{
	return ports_match(r, pkt) && sports_match(r, pkt) && l4_match(r, pkt) &&
	       prefixes_match(r->from, r->n_from, pkt->family, pkt->saddr) &&
	       prefixes_match(r->to, r->n_to, pkt->family, pkt->daddr) &&
	       (!r->from_set || pc_addrset_contains(r->from_set, pkt->family, pkt->saddr)) &&
	       (!r->to_set || pc_addrset_contains(r->to_set, pkt->family, pkt->daddr));
}

static const struct pc_plan_port *ports_find(const struct pc_plan_entry *e, uint8_t l4proto,
					     uint16_t port)
{
	size_t lo = 0, hi = e->n_ports;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct pc_plan_port *p = &e->ports[mid];

		if (l4proto < p->l4proto || (l4proto == p->l4proto && port < p->lo))
			hi = mid;
		else if (l4proto > p->l4proto || port > p->hi)
			lo = mid + 1;
		else
			return p;
	}
	return NULL;
}

/* Whether address spans decide the packet by its far end's address (the
 * destination for a run of "to" rules); if so, fill verdict and rule. */
static bool spans_decide(const struct pc_plan_spans *addr4, const struct pc_plan_spans *addr6,
			 bool dst, const struct pc_packet *pkt, enum pc_verdict_kind *verdict,
			 const struct pc_rule **rule)
{
	const struct pc_plan_span *s =
		spans_find_addr(addr4, addr6, pkt->family, dst ? pkt->daddr : pkt->saddr);

	if (!s)
		return false;
	*verdict = s->verdict;
	*rule = s->rule;
	return true;
}

/* Whether the entry decides the packet; if so, fill verdict and rule. */
static bool entry_decides(const struct pc_plan_entry *e, const struct pc_packet *pkt,
			  enum pc_verdict_kind *verdict, const struct pc_rule **rule)
{
	const struct pc_plan_port *p;

	switch (e->kind) {
	case PC_ENTRY_PORTS:
		if (!l4proto_has_ports(pkt->l4proto))
			return false;
		p = ports_find(e, pkt->l4proto, pkt->dport);
		if (!p)
			return false;
		*verdict = p->verdict;
		*rule = p->rule;
		return true;
	case PC_ENTRY_ADDRS:
		if (e->scope_l4proto && (pkt->l4proto != e->scope_l4proto ||
					 pkt->dport < e->scope_lo || pkt->dport > e->scope_hi))
			return false;
		return spans_decide(&e->addr4, &e->addr6, e->match_dst, pkt, verdict, rule);
	case PC_ENTRY_PAIRS: {
		struct pc_pair_key key = { .l4proto = pkt->l4proto, .port = pkt->dport };
		unsigned bits = pkt->family == AF_INET ? 32 : 128;
		/* Toward networks, each length the run may have: the packet's
		 * network of that length. Their verdicts agree where they
		 * overlap (pairs_join); the first rule is the one named. */
		unsigned dlen = e->to_net ? 0 : bits, last = bits;
		bool found = false;

		if (!l4proto_has_ports(pkt->l4proto))
			return false;
		for (; dlen <= last; dlen++) {
			const struct pc_plan_pair *pp;
			enum pc_verdict_kind v;
			const struct pc_rule *r;

			if (e->to_host || e->to_net) {
				struct pc_prefix dst = { .family = pkt->family, .len = (uint8_t)dlen };
				uint8_t hi[16];

				memcpy(dst.addr, pkt->daddr, 16);
				key.dfamily = pkt->family;
				key.dlen = e->to_net ? (uint8_t)dlen : 0;
				key_from_prefix(&dst, key.dhost, hi);
			}
			if (!(pp = pairs_find(e, &key)) ||
			    !spans_decide(&pp->addr4, &pp->addr6, e->match_dst, pkt, &v, &r))
				continue;
			if (!found || r < *rule)
				*verdict = v, *rule = r;
			found = true;
		}
		return found;
	}
	case PC_ENTRY_RULE:
		if (!rule_matches(e->first, pkt))
			return false;
		*verdict = action_verdict(e->first->action);
		*rule = e->first;
		return true;
	}
	return false;
}

/* A ban of b on the packet's far end (inbound source, outbound destination). */
static bool packet_banned(const struct pc_plan_bans *b, const struct pc_packet *pkt,
			  struct pc_verdict *out)
{
	out->ban = bans_find(b, pkt->family, packet_by_source(pkt) ? pkt->saddr : pkt->daddr);
	if (!out->ban)
		return false;
	out->verdict = PC_VERDICT_DROP;
	out->by = PC_DECIDED_BAN;
	return true;
}

/* The first forward of zone z that DNATs the packet (prerouting runs
 * before input, and a forward implies its accept), or NULL. */
static const struct pc_rule *forward_find(const struct pc_plan *plan, size_t z,
					  const struct pc_packet *pkt)
{
	const struct pc_config *cfg = plan->cfg;

	if (pkt->dir != PC_DIR_IN)
		return NULL;
	for (size_t i = 0; i < cfg->n_rules; i++) {
		const struct pc_rule *r = &cfg->rules[i];

		if (r->action != PC_FORWARD || r->fwd_addr.family != pkt->family ||
		    !rule_matches(r, pkt))
			continue;
		for (size_t k = 0; k < (r->n_zones ? r->n_zones : 1); k++)
			if (rule_zone_index(cfg, r, k) == (ssize_t)z)
				return r;
	}
	return NULL;
}

int pc_plan_eval(const struct pc_plan *plan, const struct pc_packet *pkt, struct pc_verdict *out)
{
	const struct pc_plan_chain *c;
	size_t z;

	if (pkt->family != AF_INET && pkt->family != AF_INET6)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	/* In the kernel's order: input/output, then the zone chain with its
	 * bans and its jump to the built-in part (src/compile/lower.c). */
	if (packet_loopback(pkt)) {
		out->verdict = PC_VERDICT_ACCEPT;
		out->by = PC_DECIDED_PREAMBLE;
		return 0;
	}
	if (packet_banned(&plan->bans, pkt, out))
		return 0;
	/* Forwarded: replies to a banned host are dropped too. */
	if (pkt->dir == PC_DIR_FWD) {
		out->ban = bans_find(&plan->bans, pkt->family, pkt->daddr);
		if (out->ban) {
			out->verdict = PC_VERDICT_DROP;
			out->by = PC_DECIDED_BAN;
			return 0;
		}
	}
	z = packet_zone(plan, pkt, &out->zone_reason);
	out->zone = plan->zones[z].zone;
	if (packet_banned(&plan->zones[z].bans, pkt, out))
		return 0;
	out->rule = forward_find(plan, z, pkt);
	if (out->rule) {
		out->verdict = PC_VERDICT_ACCEPT;
		out->by = PC_DECIDED_RULE;
		return 0;
	}
	if (packet_icmp_accepted(pkt)) {
		out->verdict = PC_VERDICT_ACCEPT;
		out->by = PC_DECIDED_PREAMBLE;
		return 0;
	}
	c = &plan->zones[z].dir[pkt->dir];
	/* A published port: the zone's in rules decide, on the original port. */
	if (pkt->dir == PC_DIR_FWD && pkt->published &&
	    plan->cfg->settings.published == PC_PUBLISHED_OBEY)
		c = &plan->zones[z].dir[PC_DIR_IN];
	for (size_t i = 0; i < c->n_entries; i++) {
		if (entry_decides(&c->entries[i], pkt, &out->verdict, &out->rule)) {
			out->by = PC_DECIDED_RULE;
			return 0;
		}
	}
	out->verdict = c->policy;
	out->by = PC_DECIDED_POLICY;
	if (c->policy == PC_VERDICT_DROP && packet_ping(pkt)) {
		out->verdict = PC_VERDICT_ACCEPT;
		out->by = PC_DECIDED_PING;
	}
	return 0;
}
