/* "portctl explain": parse a packet described in words, evaluate it with
 * pc_plan_eval (the same plan the kernel objects are lowered from) and say
 * which zone was chosen and why, which rule decided, and the verdict. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "compile-internal.h"
#include "portctl/explain.h"
#include "portctl/plan.h"
#include "portctl/util.h"

static int query_error(char *err, size_t size, const char *fmt, ...) _printf_(3, 4);

static int query_error(char *err, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, size, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static const struct {
	const char *name;
	uint8_t l4proto;
} protos[] = {
    {"tcp", IPPROTO_TCP},
    {"udp", IPPROTO_UDP},
    {"sctp", IPPROTO_SCTP},
};

static const char *proto_name(uint8_t l4proto)
{
	const char *n = pc_ip_proto_name(l4proto);

	return n ? n : "?";
}

static bool proto_has_ports(uint8_t l4proto)
{
	return l4proto == IPPROTO_TCP || l4proto == IPPROTO_UDP || l4proto == IPPROTO_SCTP;
}

static bool iface_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > PC_IFNAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.:@-",
			    s[i]))
			return false;
	return true;
}

/* One "from ADDR" / "to ADDR": the address and the family it implies. */
static int query_addr(struct pc_explain_query *q, const char *word, const char *value, bool *have,
		      uint8_t addr[16], char *err, size_t size)
{
	uint8_t family;

	if (*have)
		return query_error(err, size, "'%s' given twice", word);
	if (pc_host_parse(value, &family, addr) < 0)
		return query_error(err, size,
				   "%s '%s': expected one IPv4 or IPv6 address, e.g. 192.0.2.1 or "
				   "2001:db8::1",
				   word, value);
	if (q->family && q->family != family)
		return query_error(err, size,
				   q->l4proto == IPPROTO_ICMP	  ? "icmp is IPv4's: give IPv4 addresses"
				   : q->l4proto == IPPROTO_ICMPV6 ? "icmpv6 is IPv6's: give IPv6 addresses"
								  : "'from' and 'to' must be of one "
								    "address family");
	q->family = family;
	*have = true;
	return 0;
}

static int query_option(struct pc_explain_query *q, const char *word, const char *value, char *err,
			size_t size)
{
	if (streq(word, "from"))
		return query_addr(q, word, value, &q->have_from, q->from, err, size);
	if (streq(word, "to"))
		return query_addr(q, word, value, &q->have_to, q->to, err, size);
	if (streq(word, "port") && proto_has_ports(q->l4proto)) {
		if (q->sport)
			return query_error(err, size, "'port' given twice");
		if (pc_port_parse(value, &q->sport) < 0)
			return query_error(err, size,
					   "port '%s': the source port is a number from 1 to 65535",
					   value);
		return 0;
	}
	if (streq(word, "on")) {
		if (q->iface[0])
			return query_error(err, size, "'on' given twice");
		if (!iface_valid(value))
			return query_error(err, size,
					   "on '%s': expected an interface name (1-15 bytes of "
					   "letters, digits and _.:@-)",
					   value);
		strcpy(q->iface, value);
		return 0;
	}
	return query_error(err, size, "unexpected '%s': expected from ADDR, to ADDR or on IFACE",
			   word);
}

int pc_explain_parse(int argc, char *const argv[], struct pc_explain_query *q, char *err,
		     size_t err_size)
{
	size_t i;
	int r;

	memset(q, 0, sizeof(*q));
	if (argc < 3 && !(argc == 2 && (streq(argv[1], "icmp") || streq(argv[1], "icmpv6"))))
		return query_error(err, err_size,
				   "explain needs a direction, a protocol and a port, e.g. "
				   "'explain in tcp 22 from 192.0.2.1 on eth0'");
	if (argc > PC_EXPLAIN_WORDS_MAX)
		return query_error(err, err_size, "too many words");
	if (streq(argv[0], "in"))
		q->dir = PC_DIR_IN;
	else if (streq(argv[0], "out"))
		q->dir = PC_DIR_OUT;
	else if (streq(argv[0], "forward"))
		q->dir = PC_DIR_FWD;
	else
		return query_error(err, err_size, "'%s': the direction is 'in', 'out' or 'forward'",
				   argv[0]);
	int k = 3;

	for (i = 0; i < ARRAY_SIZE(protos) && !streq(argv[1], protos[i].name); i++)
		;
	if (i < ARRAY_SIZE(protos)) {
		q->l4proto = protos[i].l4proto;
		if (pc_port_parse(argv[2], &q->port) < 0)
			return query_error(err, err_size,
					   "'%s': the port is a number from 1 to 65535", argv[2]);
	} else if (streq(argv[1], "icmp") || streq(argv[1], "icmpv6")) {
		bool v6 = streq(argv[1], "icmpv6");

		q->l4proto = v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP;
		q->family = v6 ? AF_INET6 : AF_INET;
		q->icmp_type = v6 ? 128 : 8;
		k = 2;
		if (argc > 2 && !streq(argv[2], "from") && !streq(argv[2], "to") && !streq(argv[2], "on")) {
			if (pc_icmp_type_parse(v6, argv[2], strlen(argv[2]), &q->icmp_type) < 0)
				return query_error(err, err_size,
						   "'%s': not an %s type (a name such as "
						   "echo-request, or 0-255)",
						   argv[2], v6 ? "ICMPv6" : "ICMP");
			k = 3;
		}
	} else if (streq(argv[1], "proto")) {
		if (pc_ip_proto_parse(argv[2], strlen(argv[2]), &q->l4proto) < 0)
			return query_error(err, err_size,
					   "'%s': the protocol is a name (gre, esp, ah, …) or "
					   "a number from 1 to 255",
					   argv[2]);
	} else {
		return query_error(err, err_size,
				   "'%s': the protocol is tcp, udp, sctp, icmp, icmpv6 or proto",
				   argv[1]);
	}
	for (; k < argc; k += 2) {
		if (k + 1 >= argc)
			return query_error(err, err_size, "'%s' needs a value", argv[k]);
		r = query_option(q, argv[k], argv[k + 1], err, err_size);
		if (r < 0)
			return r;
	}
	return 0;
}

static bool prefix_contains(const struct pc_prefix *p, uint8_t family, const uint8_t *addr)
{
	size_t full = p->len / 8;
	uint8_t rest = p->len % 8;

	if (p->family == 0)
		return true;
	if (p->family != family)
		return false;
	if (memcmp(p->addr, addr, full) != 0)
		return false;
	if (rest == 0)
		return true;
	return ((p->addr[full] ^ addr[full]) & (uint8_t)(0xff << (8 - rest))) == 0;
}

static bool prefixes_contain(const struct pc_prefix *p, size_t n, uint8_t family,
			     const uint8_t *addr)
{
	for (size_t i = 0; i < n; i++)
		if (p[i].family != 0 && prefix_contains(&p[i], family, addr))
			return true;
	return false;
}

/* Whether any zone source, rule address or ban of cfg covers addr. */
static bool config_names_addr(const struct pc_config *cfg, uint8_t family, const uint8_t *addr)
{
	for (size_t i = 0; i < cfg->n_bans; i++)
		if (prefixes_contain(&cfg->bans[i].addr, 1, family, addr))
			return true;
	for (size_t i = 0; i < cfg->n_zones; i++)
		if (prefixes_contain(cfg->zones[i].sources, cfg->zones[i].n_sources, family, addr))
			return true;
	for (size_t i = 0; i < cfg->n_rules; i++) {
		const struct pc_rule *r = &cfg->rules[i];

		if (prefixes_contain(r->from, r->n_from, family, addr) ||
		    prefixes_contain(r->to, r->n_to, family, addr))
			return true;
	}
	for (size_t i = 0; i < cfg->n_sets; i++)
		if (pc_addrset_contains(cfg->sets[i], family, addr))
			return true;
	return false;
}

/* The fallback block of addr_unnamed: 240.0.0.K or 3fff::K, K in 1..65535. */
static void addr_fallback(uint8_t family, uint32_t k, uint8_t addr[16])
{
	memset(addr, 0, 16);
	if (family == AF_INET) {
		addr[0] = 240;
		addr[2] = (uint8_t)(k >> 8);
		addr[3] = (uint8_t)k;
	} else {
		addr[0] = 0x3f;
		addr[1] = 0xff;
		addr[14] = (uint8_t)(k >> 8);
		addr[15] = (uint8_t)k;
	}
}

struct k_range {
	uint32_t lo, hi;
};

static int k_range_cmp(const void *a, const void *b)
{
	const struct k_range *x = a, *y = b;

	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

struct k_ranges {
	struct k_range *items;
	size_t n, cap;
	bool all;
};

/* The part of the fallback block that p covers, as a range of K. */
static int k_ranges_add(struct k_ranges *kr, const struct pc_prefix *p, uint8_t family)
{
	unsigned block = family == AF_INET ? 16 : 112, bits;
	uint8_t base[16];
	uint32_t k;
	struct k_range *x;

	if (p->family != family)
		return 0;
	addr_fallback(family, 0, base);
	if (p->len <= block) {
		kr->all |= prefix_contains(p, family, base);
		return 0;
	}
	if (memcmp(p->addr, base, block / 8) != 0)
		return 0;
	bits = (family == AF_INET ? 32u : 128u) - p->len;
	k = (uint32_t)p->addr[block / 8] << 8 | p->addr[block / 8 + 1];
	x = PC_ARRAY_PUSH(kr->items, kr->n, kr->cap);
	if (!x)
		return -ENOMEM;
	x->lo = k & ~((1u << bits) - 1);
	x->hi = x->lo | ((1u << bits) - 1);
	return 0;
}

static int k_ranges_add_all(struct k_ranges *kr, const struct pc_prefix *p, size_t n,
			    uint8_t family)
{
	int r = 0;

	for (size_t i = 0; r >= 0 && i < n; i++)
		r = k_ranges_add(kr, &p[i], family);
	return r;
}

/* The first K of the fallback block that nothing in cfg names (65535 when
 * every one is named), in one pass over cfg: trying each K in turn took
 * 65,535 passes when something names the whole block (a zone with source
 * 0.0.0.0/0). */
static uint32_t fallback_unnamed(const struct pc_config *cfg, uint8_t family)
{
	struct k_ranges kr = {0};
	uint32_t k = 1;
	int r = 0;

	for (size_t i = 0; r >= 0 && i < cfg->n_bans; i++)
		r = k_ranges_add_all(&kr, &cfg->bans[i].addr, 1, family);
	for (size_t i = 0; r >= 0 && i < cfg->n_zones; i++)
		r = k_ranges_add_all(&kr, cfg->zones[i].sources, cfg->zones[i].n_sources, family);
	for (size_t i = 0; r >= 0 && i < cfg->n_rules; i++) {
		r = k_ranges_add_all(&kr, cfg->rules[i].from, cfg->rules[i].n_from, family);
		if (r >= 0)
			r = k_ranges_add_all(&kr, cfg->rules[i].to, cfg->rules[i].n_to, family);
	}
	for (size_t i = 0; r >= 0 && i < cfg->n_sets; i++)
		r = k_ranges_add_all(&kr, cfg->sets[i]->addrs, cfg->sets[i]->n_addrs, family);
	if (r < 0 || kr.all) {
		free(kr.items);
		return 65535;
	}
	qsort(kr.items, kr.n, sizeof(*kr.items), k_range_cmp);
	for (size_t i = 0; i < kr.n && kr.items[i].lo <= k; i++)
		if (kr.items[i].hi >= k)
			k = kr.items[i].hi + 1;
	free(kr.items);
	return k > 65535 ? 65535 : k;
}

/*
 * An address standing for "any address": one that nothing in the
 * configuration names, so no zone source and no from/to rule applies.
 * The documentation ranges come first; a configuration naming them all
 * is searched further in 240.0.0.0/4 or 3fff::/20.
 */
static void addr_unnamed(const struct pc_config *cfg, uint8_t family, uint8_t addr[16])
{
	static const char *const v4[] = {"192.0.2.1", "198.51.100.1", "203.0.113.1"};
	static const char *const v6[] = {"2001:db8::1", "3fff::1"};
	const char *const *list = family == AF_INET ? v4 : v6;
	size_t n = family == AF_INET ? ARRAY_SIZE(v4) : ARRAY_SIZE(v6);

	for (size_t i = 0; i < n; i++) {
		memset(addr, 0, 16);
		inet_pton(family, list[i], addr);
		if (!config_names_addr(cfg, family, addr))
			return;
	}
	addr_fallback(family, fallback_unnamed(cfg, family), addr);
}

static json_t *addr_json(uint8_t family, const uint8_t *addr)
{
	char buf[INET6_ADDRSTRLEN];

	if (!inet_ntop(family, addr, buf, sizeof(buf)))
		return json_null();
	return json_string(buf);
}

/* The zone source prefix that chose the zone: the longest that contains it. */
static json_t *zone_prefix_json(const struct pc_zone *z, uint8_t family, const uint8_t *addr)
{
	const struct pc_prefix *best = NULL;
	char buf[64];

	for (size_t i = 0; i < z->n_sources; i++)
		if (prefix_contains(&z->sources[i], family, addr) &&
		    (!best || z->sources[i].len > best->len))
			best = &z->sources[i];
	if (!best || pc_prefix_format(best, buf, sizeof(buf)) < 0)
		return json_null();
	return json_string(buf);
}

static const char *zone_reason_name(enum pc_zone_reason r, enum pc_dir dir)
{
	switch (r) {
	case PC_ZONE_BY_ADDRESS:
		return dir != PC_DIR_OUT ? "source" : "destination";
	case PC_ZONE_BY_IFACE:
		return "interface";
	case PC_ZONE_BY_DEFAULT:
		return "default";
	case PC_ZONE_BY_NONE:
		break;
	}
	return "none";
}

/* Which entry of a rule's set the packet's address matched, and where the
 * set came from: "matched @admins (file …: 10.0.0.0/8)". */
static json_t *set_match_json(const struct pc_addrset *s, const char *side, uint8_t family,
			      const uint8_t *addr)
{
	const struct pc_prefix *p = pc_addrset_find(s, family, addr);
	char text[64] = "";

	if (p)
		pc_prefix_format(p, text, sizeof(text));
	return json_pack("{s:s,s:s,s:s?,s:s,s:i}", "name", s->name, "side", side, "file", s->file,
			 "entry", text, "line", p && s->file ? (int)p->loc.line : 0);
}

static json_t *rule_json(const struct pc_config *cfg, const struct pc_rule *r,
			 const struct pc_packet *pkt)
{
	json_t *j = json_pack("{s:I,s:s?,s:i,s:i,s:s}", "number",
			      (json_int_t)(r - cfg->rules + 1), "file", r->loc.file, "line",
			      (int)r->loc.line, "column", (int)r->loc.col, "text", r->text);
	json_t *sets = (r->from_set || r->to_set) ? json_array() : NULL;

	if (r->from_set && sets)
		json_array_append_new(sets, set_match_json(r->from_set, "source", pkt->family,
							   pkt->saddr));
	if (r->to_set && sets)
		json_array_append_new(sets, set_match_json(r->to_set, "destination", pkt->family,
							   pkt->daddr));
	if (j && sets)
		json_object_set_new(j, "sets", sets);
	return j;
}

static json_t *ban_json(const struct pc_ban_entry *b)
{
	char addr[64], text[PC_COMMENT_MAX + 1];

	if (pc_prefix_format(&b->addr, addr, sizeof(addr)) < 0 ||
	    ban_comment(b, text, sizeof(text)) < 0)
		return NULL;
	return json_pack("{s:s,s:s?,s:o,s:s}", "address", addr, "zone", b->zone, "expires",
			 b->expires ? json_integer((json_int_t)b->expires) : json_null(), "text",
			 text);
}

static void packet_fill(const struct pc_explain_query *q, struct pc_packet *pkt, uint8_t *local,
			uint8_t *remote)
{
	memset(pkt, 0, sizeof(*pkt));
	pkt->dir = q->published ? PC_DIR_FWD : q->dir;
	pkt->published = q->published;
	pkt->family = q->family;
	pkt->l4proto = q->l4proto;
	pkt->dport = q->port;
	pkt->sport = q->sport;
	pkt->icmp_type = q->icmp_type;
	/* from is always the source, to the destination, in either direction;
	 * forwarded traffic has no local end. */
	memcpy(pkt->saddr, q->have_from ? q->from : (q->dir != PC_DIR_OUT ? remote : local), 16);
	memcpy(pkt->daddr, q->have_to ? q->to : (q->dir == PC_DIR_IN ? local : remote), 16);
	if (q->iface[0]) {
		if (q->dir != PC_DIR_OUT)
			pkt->iif = q->iface;
		else
			pkt->oif = q->iface;
	}
}

/* The kernel lets a packet into a zone by its source address only if the
 * source passes the reverse-path check, which needs the routes: explain
 * cannot know them, so it says which check it took as passed, or NULL. */
static const char *reverse_path_assumed(const struct pc_config *cfg,
					const struct pc_explain_query *q,
					const struct pc_verdict *v)
{
	if (q->dir == PC_DIR_OUT || !v->zone || v->zone_reason != PC_ZONE_BY_ADDRESS)
		return NULL;
	switch (cfg->settings.reverse_path) {
	case PC_RPF_STRICT:
		return "strict";
	case PC_RPF_LOOSE:
		return "loose";
	case PC_RPF_OFF:
		break;
	}
	return NULL;
}

/* Where a forward sends the packet: "10.0.0.5:80", "[2001:db8::5]:443". */
static json_t *forward_to_json(const struct pc_rule *fw, uint16_t port)
{
	char a[INET6_ADDRSTRLEN], buf[INET6_ADDRSTRLEN + 10];
	uint16_t to = fw->fwd_port ? fw->fwd_port : port;

	inet_ntop(fw->fwd_addr.family, fw->fwd_addr.addr, a, sizeof(a));
	snprintf(buf, sizeof(buf), fw->fwd_addr.family == AF_INET6 ? "[%s]:%u" : "%s:%u", a, to);
	return json_string(buf);
}

static json_t *answer_json(const struct pc_config *cfg, const struct pc_explain_query *q,
			   const struct pc_packet *pkt, const struct pc_verdict *v)
{
	static const char *const dir_words[PC_N_DIRS] = { "in", "out", "forward" };
	const uint8_t *zone_addr = q->dir != PC_DIR_OUT ? pkt->saddr : pkt->daddr;
	json_t *zone_match = json_null();
	const char *decided = v->by == PC_DECIDED_RULE	   ? "rule"
			      : v->by == PC_DECIDED_POLICY ? "policy"
			      : v->by == PC_DECIDED_BAN	   ? "ban"
			      : v->by == PC_DECIDED_PING   ? "ping"
							   : "builtin";
	json_t *a;

	if (v->zone && v->zone_reason == PC_ZONE_BY_ADDRESS)
		zone_match = zone_prefix_json(v->zone, pkt->family, zone_addr);
	else if (v->zone && v->zone_reason == PC_ZONE_BY_IFACE)
		zone_match = json_string(q->iface);
	a = json_pack(
	    "{s:s,s:s,s:i,s:s,s:o,s:b,s:o,s:b,s:s?,s:s?,s:s,s:o,s:s,s:o,s:s,s:b}", "direction",
	    dir_words[q->dir], "protocol", proto_name(q->l4proto), "port",
	    (int)q->port, "family", pkt->family == AF_INET ? "ipv4" : "ipv6", "source",
	    addr_json(pkt->family, pkt->saddr), "source_given", q->have_from, "destination",
	    addr_json(pkt->family, pkt->daddr), "destination_given", q->have_to, "interface",
	    q->iface[0] ? q->iface : NULL, "zone", v->zone ? v->zone->name : NULL, "zone_reason",
	    zone_reason_name(v->zone ? v->zone_reason : PC_ZONE_BY_NONE, q->dir), "zone_match",
	    zone_match, "decided_by", decided, "rule",
	    v->by == PC_DECIDED_RULE && v->rule ? rule_json(cfg, v->rule, pkt) : json_null(), "verdict",
	    pc_verdict_kind_name(v->verdict), "rate_limited",
	    v->by == PC_DECIDED_RULE && v->rule &&
		(v->rule->rate.set || v->rule->action == PC_LIMIT));
	if (a && v->by == PC_DECIDED_RULE && v->rule->action == PC_FORWARD &&
	    json_object_set_new(a, "forwarded_to", forward_to_json(v->rule, q->port)) < 0) {
		json_decref(a);
		return NULL;
	}
	if (a && (q->l4proto == IPPROTO_ICMP || q->l4proto == IPPROTO_ICMPV6)) {
		const char *tn = pc_icmp_type_name(q->l4proto == IPPROTO_ICMPV6, q->icmp_type);
		char num[8];

		snprintf(num, sizeof(num), "%u", q->icmp_type);
		if (json_object_set_new(a, "icmp_type", json_string(tn ? tn : num)) < 0) {
			json_decref(a);
			return NULL;
		}
	}
	if (a && q->sport && json_object_set_new(a, "source_port", json_integer(q->sport)) < 0) {
		json_decref(a);
		return NULL;
	}
	if (a && q->published &&
	    json_object_set_new(a, "published_judged_by",
				json_string(cfg->settings.published == PC_PUBLISHED_OBEY
						    ? "in" : "forward")) < 0) {
		json_decref(a);
		return NULL;
	}
	if (a && v->by == PC_DECIDED_BAN && json_object_set_new(a, "ban", ban_json(v->ban)) < 0) {
		json_decref(a);
		return NULL;
	}
	return a;
}

/* What the same packet would get on an interface of zone z: the answer
 * depends on the interface, so give each possible one its verdict. */
static json_t *iface_zone_verdict(const struct pc_plan *plan, const struct pc_packet *pkt,
				  const struct pc_zone *z)
{
	struct pc_packet on = *pkt;
	struct pc_verdict v;

	if (pkt->dir == PC_DIR_OUT)
		on.oif = z->interfaces[0].name;
	else
		on.iif = z->interfaces[0].name;
	if (pc_plan_eval(plan, &on, &v) < 0)
		return json_null();
	return json_string(pc_verdict_kind_name(v.verdict));
}

/* Without an interface, the default zone was taken: name the zones bound
 * to interfaces, which a packet arriving on one of them would be in, and
 * the verdict it would get there. */
static json_t *iface_zones_json(const struct pc_config *cfg, const struct pc_plan *plan,
				const struct pc_explain_query *q, const struct pc_packet *pkt,
				const struct pc_verdict *v)
{
	json_t *list = json_array(), *names;

	if (!list || q->iface[0] || !v->zone || v->zone_reason != PC_ZONE_BY_DEFAULT)
		return list;
	for (size_t i = 0; i < cfg->n_zones; i++) {
		const struct pc_zone *z = &cfg->zones[i];

		if (z->n_interfaces == 0)
			continue;
		names = json_array();
		for (size_t k = 0; names && k < z->n_interfaces; k++)
			json_array_append_new(names, json_string(z->interfaces[k].name));
		if (!names ||
		    json_array_append_new(list, json_pack("{s:s,s:o,s:o}", "zone", z->name,
							  "interfaces", names, "verdict",
							  iface_zone_verdict(plan, pkt, z))) < 0) {
			json_decref(list);
			return NULL;
		}
	}
	return list;
}

/* A kept plan may still hold a ban that has expired since it was made (the
 * daemon lifts them on a timer): such a verdict is taken again on a plan of
 * now, as a plan built for the question would give. */
static bool verdict_stale(const struct pc_verdict *v)
{
	return v->by == PC_DECIDED_BAN && v->ban && v->ban->expires &&
	       v->ban->expires * 1000u <= bans_clock_ms();
}

static void ends_find(const struct pc_config *cfg, uint8_t family, uint8_t remote[16],
		      uint8_t local[16])
{
	addr_unnamed(cfg, family, remote);
	/* The local end stands for this host: pick another unnamed address. */
	memcpy(local, remote, 16);
	local[family == AF_INET ? 3 : 15] ^= 3;
	if (config_names_addr(cfg, family, local))
		memcpy(local, remote, 16);
}

int pc_explain_eval_plan(const struct pc_config *cfg, const struct pc_plan *kept,
			 struct pc_explain_ends *ends, const struct pc_explain_query *q,
			 json_t **out, struct pc_diags *d)
{
	struct pc_explain_query full = *q;
	struct pc_plan *built = NULL;
	const struct pc_plan *plan = kept && kept->cfg == cfg ? kept : NULL;
	struct pc_explain_ends own = {0};
	struct pc_packet pkt;
	struct pc_verdict v;
	size_t f;
	int r = 0;

	*out = NULL;
	if (!full.family)
		full.family = AF_INET;
	f = full.family == AF_INET6;
	if (!ends)
		ends = &own;
	if (!ends->known[f]) {
		ends_find(cfg, full.family, ends->remote[f], ends->local[f]);
		ends->known[f] = true;
	}
	packet_fill(&full, &pkt, ends->local[f], ends->remote[f]);
	if (plan) {
		r = pc_plan_eval(plan, &pkt, &v);
		if (r >= 0 && verdict_stale(&v))
			plan = NULL;
	}
	if (!plan) {
		r = pc_plan_build(cfg, &built, d);
		if (r < 0)
			return r;
		plan = built;
		r = pc_plan_eval(plan, &pkt, &v);
	}
	if (r >= 0) {
		const char *rp = reverse_path_assumed(cfg, &full, &v);

		*out = answer_json(cfg, &full, &pkt, &v);
		if (*out && (json_object_set_new(*out, "reverse_path",
						 rp ? json_string(rp) : json_null()) < 0 ||
			     json_object_set_new(*out, "interface_from",
						 json_string(q->iface[0] ? "query" : "none")) < 0 ||
			     json_object_set_new(*out, "interface_zones",
						 iface_zones_json(cfg, plan, &full, &pkt, &v)) < 0)) {
			json_decref(*out);
			*out = NULL;
		}
		r = *out ? 0 : -ENOMEM;
	}
	pc_plan_free(built);
	return r;
}

int pc_explain_eval(const struct pc_config *cfg, const struct pc_explain_query *q, json_t **out,
		    struct pc_diags *d)
{
	return pc_explain_eval_plan(cfg, NULL, NULL, q, out, d);
}

static const char *jstr(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "";
}

static void print_packet(FILE *out, const json_t *a)
{
	bool in = !streq(jstr(a, "direction"), "out");
	long long port = json_integer_value(json_object_get(a, "port"));

	fprintf(out, "packet:  %s %s", jstr(a, "direction"), jstr(a, "protocol"));
	if (port)
		fprintf(out, "/%lld", port);
	if (json_is_string(json_object_get(a, "icmp_type")))
		fprintf(out, " %s", jstr(a, "icmp_type"));
	fprintf(out, " from %s%s", jstr(a, "source"),
		json_is_true(json_object_get(a, "source_given")) ? "" : " (any)");
	if (json_is_integer(json_object_get(a, "source_port")))
		fprintf(out, " port %lld",
			(long long)json_integer_value(json_object_get(a, "source_port")));
	fprintf(out, " to %s%s", jstr(a, "destination"),
		json_is_true(json_object_get(a, "destination_given")) ? "" : " (any)");
	if (json_is_string(json_object_get(a, "interface")))
		fprintf(out, " %s %s", in ? "in on" : "out on", jstr(a, "interface"));
	if (streq(jstr(a, "interface_from"), "route"))
		fprintf(out, " (the route to %s)", jstr(a, in ? "source" : "destination"));
	fputc('\n', out);
}

/* The zones a packet on another interface would be in (iface_zones_json). */
static void print_iface_zones(FILE *out, const json_t *a)
{
	const json_t *list = json_object_get(a, "interface_zones"), *z, *n;
	size_t i, k;

	if (json_array_size(list) == 0)
		return;
	fprintf(out, "note:    assumes no interface; on one of these it would be that zone:");
	json_array_foreach(list, i, z)
	{
		fprintf(out, "%s %s (", i ? "," : "", jstr(z, "zone"));
		json_array_foreach(json_object_get(z, "interfaces"), k, n)
			fprintf(out, "%s%s", k ? ", " : "", json_string_value(n));
		fprintf(out, ") %s", jstr(z, "verdict"));
	}
	fprintf(out, "; give 'on IFACE' to choose\n");
}

/* The reverse-path check explain took as passed (see reverse_path_assumed). */
static void print_reverse_path(FILE *out, const json_t *a)
{
	const char *rp = jstr(a, "reverse_path");
	bool iface = json_is_string(json_object_get(a, "interface"));

	if (streq(rp, "strict"))
		fprintf(out, "         (if %s routes back via %s; else dropped)\n",
			jstr(a, "source"),
			iface ? jstr(a, "interface") : "the interface it came in on");
	else if (streq(rp, "loose"))
		fprintf(out, "         (if %s routes back via any interface; else dropped)\n",
			jstr(a, "source"));
}

static void print_zone(FILE *out, const json_t *a)
{
	const char *reason = jstr(a, "zone_reason");

	if (!json_is_string(json_object_get(a, "zone"))) {
		fprintf(out, "zone:    none (decided before zone dispatch)\n");
		return;
	}
	fprintf(out, "zone:    %s, ", jstr(a, "zone"));
	if (streq(reason, "source") || streq(reason, "destination")) {
		fprintf(out, "because the %s address %s is in the zone's source %s\n", reason,
			jstr(a, streq(reason, "source") ? "source" : "destination"),
			jstr(a, "zone_match"));
		print_reverse_path(out, a);
	} else if (streq(reason, "interface")) {
		fprintf(out, "because of interface %s\n", jstr(a, "zone_match"));
	} else {
		fprintf(out, "the default zone (no zone source or interface matched%s)\n",
			json_is_string(json_object_get(a, "interface")) ? ""
									: "; no interface given");
	}
}

/* DNAT rules of other tables (the daemon adds them, see natscan.h). */
static void print_published(FILE *out, const json_t *a)
{
	const json_t *list = json_object_get(a, "published"), *p;
	size_t i;

	json_array_foreach(list, i, p) {
		fprintf(out, "publish: published to %s by table %s %s, chain %s (handle %lld); ",
			jstr(p, "to"), jstr(p, "family"), jstr(p, "table"), jstr(p, "chain"),
			(long long)json_integer_value(json_object_get(p, "handle")));
		if (streq(jstr(a, "published_judged_by"), "forward"))
			fprintf(out, "judged by the forward rules (published-ports = runtime)\n");
		else
			fprintf(out, "judged by the in rules on port %lld\n",
				(long long)json_integer_value(json_object_get(a, "port")));
	}
	if (json_integer_value(json_object_get(a, "published_unknown")) > 0)
		fprintf(out, "note:    %lld DNAT rule(s) of other tables have a shape portctl does "
			     "not read (sets, marks); not considered\n",
			(long long)json_integer_value(json_object_get(a, "published_unknown")));
}

static void print_set_matches(FILE *out, const json_t *sets)
{
	size_t i;
	json_t *m;

	json_array_foreach(sets, i, m) {
		const char *file = jstr(m, "file");
		long long line = (long long)json_integer_value(json_object_get(m, "line"));

		fprintf(out, "         matched @%s (", jstr(m, "name"));
		if (file[0])
			fprintf(out, "file %s:%lld", file, line);
		else
			fprintf(out, "inline");
		fprintf(out, ": %s)\n", jstr(m, "entry"));
	}
}

void pc_explain_print(FILE *out, const json_t *a)
{
	const char *decided = jstr(a, "decided_by");
	const json_t *rule = json_object_get(a, "rule");

	print_packet(out, a);
	print_zone(out, a);
	print_iface_zones(out, a);
	if (streq(decided, "rule")) {
		fprintf(out, "rule:    %s:%lld (rule %lld)\n         %s\n", jstr(rule, "file"),
			(long long)json_integer_value(json_object_get(rule, "line")),
			(long long)json_integer_value(json_object_get(rule, "number")),
			jstr(rule, "text"));
		if (json_is_string(json_object_get(a, "forwarded_to")))
			fprintf(out, "forward: forwarded to %s by %s:%lld (DNAT; the forward accepts it)\n",
				jstr(a, "forwarded_to"), jstr(rule, "file"),
				(long long)json_integer_value(json_object_get(rule, "line")));
		print_set_matches(out, json_object_get(rule, "sets"));
	} else if (streq(decided, "ban")) {
		fprintf(out, "rule:    banned (%s)%s\n", jstr(json_object_get(a, "ban"), "text"),
			json_is_string(json_object_get(a, "zone")) ? "" : ", in every zone");
	} else if (streq(decided, "ping")) {
		fprintf(out, "rule:    none matched: a zone whose %s policy is drop answers ping\n"
			     "         (write 'deny icmp echo-request' or 'deny icmpv6 echo-request' "
			     "to refuse it)\n",
			streq(jstr(a, "direction"), "in") ? "inbound" : "outbound");
	} else if (streq(decided, "policy")) {
		fprintf(out, "rule:    none matched: the zone's %s policy decides\n",
			streq(jstr(a, "direction"), "in")	   ? "inbound"
			: streq(jstr(a, "direction"), "out") ? "outbound"
							     : "forward");
	} else {
		fprintf(out, "rule:    built in (loopback, connection state, ND or "
			     "packet-too-big), before the zone's rules\n");
	}
	print_published(out, a);
	fprintf(out, "verdict: %s%s\n", jstr(a, "verdict"),
		json_is_true(json_object_get(a, "rate_limited"))
		    ? " (while under the rule's rate limit)"
		    : "");
}
