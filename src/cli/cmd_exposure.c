/* portctl exposure: the listening sockets of this network namespace (read
 * through NETLINK_SOCK_DIAG, no privilege needed) joined with the compiled
 * plan: which zones reach each listener and through which rule, and which
 * rules open ports nobody listens on. Works offline, like check. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <linux/inet_diag.h>
#include <linux/netfilter.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cli.h"
#include "portctl/natscan.h"
#include "portctl/netlink.h"
#include "portctl/plan.h"

static const char exposure_usage[] =
	"exposure [--json]\n"
	"\n"
	"List the TCP and UDP sockets listening in this network namespace and, for\n"
	"each, the zones whose inbound traffic reaches it and the rule (FILE:LINE)\n"
	"or policy that decides, as evaluated on the configuration in CONFIG (the\n"
	"same model portctld loads). A zone is probed from its first interface or\n"
	"source prefix; a rule limited with \"from\" decides only for its sources.\n"
	"Then list the allow rules that open ports no socket listens on, and the\n"
	"forwarded and published ports: portctl's forwards, and the DNAT rules\n"
	"of other tables (docker, podman; read from the kernel, as root) with\n"
	"the zones whose in rules accept the port clients connect to.\n"
	"Needs no daemon and no privilege.\n";

struct listener {
	uint8_t l4proto; /* IPPROTO_TCP or IPPROTO_UDP */
	uint8_t family;
	uint8_t addr[16];
	uint16_t port;
};

struct listeners {
	struct listener *items;
	size_t n, cap;
};

static bool listener_seen(const struct listeners *ls, const struct listener *l)
{
	for (size_t i = 0; i < ls->n; i++)
		if (ls->items[i].l4proto == l->l4proto && ls->items[i].family == l->family &&
		    ls->items[i].port == l->port && !memcmp(ls->items[i].addr, l->addr, 16))
			return true;
	return false;
}

static int listener_add(struct listeners *ls, const struct inet_diag_msg *m, uint8_t l4proto)
{
	struct listener l = {.l4proto = l4proto, .family = m->idiag_family,
			     .port = ntohs(m->id.idiag_sport)};
	struct listener *slot;

	/* A UDP socket "listens" when it is bound but not connected. */
	if (l4proto == IPPROTO_UDP && m->id.idiag_dport != 0)
		return 0;
	memcpy(l.addr, m->id.idiag_src, l.family == AF_INET ? 4 : 16);
	if (listener_seen(ls, &l))
		return 0;
	slot = PC_ARRAY_PUSH(ls->items, ls->n, ls->cap);
	if (!slot)
		return -ENOMEM;
	*slot = l;
	return 0;
}

static int diag_request(int fd, uint8_t family, uint8_t l4proto, uint32_t states)
{
	struct {
		struct nlmsghdr nlh;
		struct inet_diag_req_v2 req;
	} msg = {
		.nlh = {.nlmsg_len = sizeof(msg), .nlmsg_type = SOCK_DIAG_BY_FAMILY,
			.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP},
		.req = {.sdiag_family = family, .sdiag_protocol = l4proto, .idiag_states = states},
	};
	struct sockaddr_nl sa = {.nl_family = AF_NETLINK};

	if (sendto(fd, &msg, sizeof(msg), 0, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -errno;
	return 0;
}

/* Read one dump's answers until NLMSG_DONE. */
static int diag_read(int fd, uint8_t l4proto, struct listeners *ls)
{
	static char buf[32 * 1024] __attribute__((aligned(NLMSG_ALIGNTO)));

	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		struct nlmsghdr *h;

		if (n < 0)
			return errno == EINTR ? 0 : -errno;
		for (h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_type == NLMSG_DONE)
				return 0;
			if (h->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(h);

				return e->error ? e->error : -EPROTO;
			}
			if (h->nlmsg_len < NLMSG_LENGTH(sizeof(struct inet_diag_msg)))
				return -EBADMSG;
			if (listener_add(ls, NLMSG_DATA(h), l4proto) < 0)
				return -ENOMEM;
		}
	}
}

/* TCP in LISTEN and unconnected UDP sockets, IPv4 and IPv6. */
static int listeners_read(struct listeners *ls)
{
	static const struct {
		uint8_t family, l4proto;
		uint32_t states;
	} dumps[] = {
		{AF_INET, IPPROTO_TCP, 1u << TCP_LISTEN},
		{AF_INET6, IPPROTO_TCP, 1u << TCP_LISTEN},
		{AF_INET, IPPROTO_UDP, 1u << TCP_CLOSE},
		{AF_INET6, IPPROTO_UDP, 1u << TCP_CLOSE},
	};
	_cleanup_close_ int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	int r;

	if (fd < 0)
		return -errno;
	for (size_t i = 0; i < ARRAY_SIZE(dumps); i++) {
		r = diag_request(fd, dumps[i].family, dumps[i].l4proto, dumps[i].states);
		if (r >= 0)
			r = diag_read(fd, dumps[i].l4proto, ls);
		if (r < 0)
			return r;
	}
	return 0;
}

static bool addr_is_loopback(uint8_t family, const uint8_t *a)
{
	static const uint8_t v6_lo[16] = {[15] = 1};

	return family == AF_INET ? a[0] == 127 : !memcmp(a, v6_lo, 16);
}

static bool addr_is_any(uint8_t family, const uint8_t *a)
{
	static const uint8_t zero[16];

	return !memcmp(a, zero, family == AF_INET ? 4 : 16);
}

/*
 * A first packet of family that the plan puts in zone z, to port/proto:
 * from the first address of one of the zone's sources of that family (the
 * first such address the plan gives the zone: a longer prefix of another
 * zone may take it), else through its first interface (or, for the default
 * zone, none) from a documentation address no zone claims. Returns false
 * when no such packet exists.
 */
static bool probe_packet(const struct pc_plan *plan, size_t z, uint8_t family, uint8_t l4proto,
			 uint16_t port, struct pc_packet *pkt)
{
	static const char *const v4[] = {"192.0.2.1", "198.51.100.1", "203.0.113.1"};
	static const char *const v6[] = {"2001:db8::1", "2001:db8:ffff::1", "3fff::1"};
	const struct pc_zone *zone = plan->zones[z].zone;
	struct pc_verdict v;

	*pkt = (struct pc_packet){.dir = PC_DIR_IN, .family = family, .l4proto = l4proto,
				  .dport = port};
	for (size_t i = 0; i < zone->n_sources; i++)
		if (zone->sources[i].family == family) {
			memcpy(pkt->saddr, zone->sources[i].addr, 16);
			pkt->iif = "portctl-probe";
			if (pc_plan_eval(plan, pkt, &v) == 0 && v.zone == zone)
				return true;
		}
	if (pkt->iif) /* sources of family, but no first address its own */
		return false;
	if (zone->n_interfaces > 0)
		pkt->iif = zone->interfaces[0].name;
	else if (plan->dispatch[PC_DIR_IN].default_zone == z)
		pkt->iif = "portctl-probe";
	else
		return false;
	for (size_t i = 0; i < ARRAY_SIZE(v4); i++) {
		if (inet_pton(family, family == AF_INET ? v4[i] : v6[i], pkt->saddr) != 1)
			return false;
		if (pc_plan_eval(plan, pkt, &v) == 0 && v.zone == zone)
			return true;
	}
	return false;
}

static json_t *loc_json(const struct pc_rule *rule)
{
	char buf[4096];

	snprintf(buf, sizeof(buf), "%s:%u", rule->loc.file ? rule->loc.file : "?", rule->loc.line);
	return json_string(buf);
}

static const char *const decided_names[] = {
	[PC_DECIDED_PREAMBLE] = "built-in", [PC_DECIDED_RULE] = "rule", [PC_DECIDED_POLICY] = "policy",
	[PC_DECIDED_BAN] = "ban"};

/* One zone's answer for a listener, or NULL when no packet lands there. */
static json_t *zone_reach(const struct pc_plan *plan, size_t z, const struct listener *l,
			  uint8_t family)
{
	struct pc_packet pkt;
	struct pc_verdict v;

	if (!probe_packet(plan, z, family, l->l4proto, l->port, &pkt) ||
	    pc_plan_eval(plan, &pkt, &v) < 0)
		return NULL;
	return json_pack("{s:s, s:s, s:s, s:o?, s:s?}", "zone", plan->zones[z].zone->name,
			 "verdict", pc_verdict_kind_name(v.verdict), "by", decided_names[v.by],
			 "rule", v.by == PC_DECIDED_RULE ? loc_json(v.rule) : NULL, "text",
			 v.by == PC_DECIDED_RULE ? v.rule->text : NULL);
}

static json_t *listener_json(const struct pc_plan *plan, const struct listener *l)
{
	char addr[INET6_ADDRSTRLEN] = "?";
	json_t *zones = json_array();
	bool local = addr_is_loopback(l->family, l->addr);

	inet_ntop(l->family, l->addr, addr, sizeof(addr));
	for (size_t z = 0; zones && !local && z < plan->n_zones; z++) {
		/* A wildcard IPv6 socket takes IPv4 too (unless v6only). */
		for (int fam = 0; fam < 2; fam++) {
			uint8_t family = fam ? AF_INET6 : AF_INET;
			json_t *reach;

			if (family != l->family &&
			    !(l->family == AF_INET6 && addr_is_any(l->family, l->addr)))
				continue;
			reach = zone_reach(plan, z, l, family);
			if (reach) {
				json_object_set_new(reach, "family",
						    json_string(family == AF_INET ? "ipv4" : "ipv6"));
				json_array_append_new(zones, reach);
			}
		}
	}
	return json_pack("{s:s, s:s, s:s, s:i, s:b, s:o}", "proto",
			 l->l4proto == IPPROTO_TCP ? "tcp" : "udp", "family",
			 l->family == AF_INET ? "ipv4" : "ipv6", "address", addr, "port", l->port,
			 "loopback_only", local, "zones", zones);
}

static bool port_listened(const struct listeners *ls, uint8_t l4proto, uint16_t lo, uint16_t hi)
{
	for (size_t i = 0; i < ls->n; i++)
		if (ls->items[i].l4proto == l4proto && ls->items[i].port >= lo &&
		    ls->items[i].port <= hi && !addr_is_loopback(ls->items[i].family, ls->items[i].addr))
			return true;
	return false;
}

static const char *proto_name(uint8_t l4proto)
{
	return l4proto == IPPROTO_TCP ? "tcp" : l4proto == IPPROTO_UDP ? "udp" : "sctp";
}

static int unused_add(json_t *unused, const char *zone, uint8_t l4proto, uint16_t lo,
		      uint16_t hi, const struct pc_rule *rule)
{
	char ports[16];

	if (lo == hi)
		snprintf(ports, sizeof(ports), "%u", lo);
	else
		snprintf(ports, sizeof(ports), "%u-%u", lo, hi);
	return json_array_append_new(
		unused, json_pack("{s:s, s:s, s:s, s:o, s:s}", "zone", zone, "proto",
				  proto_name(l4proto), "ports", ports, "rule", loc_json(rule),
				  "text", rule->text));
}

/* A rule kept as its own kernel rule: each of its ports, per protocol. */
static int unused_rule(json_t *unused, const char *zone, const struct pc_rule *rule,
		       const struct listeners *ls)
{
	static const struct {
		uint8_t bit, l4proto;
	} protos[] = {{PC_PROTO_TCP, IPPROTO_TCP}, {PC_PROTO_UDP, IPPROTO_UDP},
		      {PC_PROTO_SCTP, IPPROTO_SCTP}};

	if (rule->action != PC_ALLOW && rule->action != PC_LIMIT)
		return 0;
	for (size_t i = 0; i < rule->n_ports; i++)
		for (size_t p = 0; p < ARRAY_SIZE(protos); p++)
			if ((rule->ports[i].protos & protos[p].bit) &&
			    !port_listened(ls, protos[p].l4proto, rule->ports[i].lo,
					   rule->ports[i].hi) &&
			    unused_add(unused, zone, protos[p].l4proto, rule->ports[i].lo,
				       rule->ports[i].hi, rule) < 0)
				return -ENOMEM;
	return 0;
}

/* Allow rules of every zone's inbound chain whose ports nobody listens on. */
static json_t *unused_json(const struct pc_plan *plan, const struct listeners *ls)
{
	json_t *unused = json_array();

	for (size_t z = 0; unused && z < plan->n_zones; z++) {
		const struct pc_plan_chain *ch = &plan->zones[z].dir[PC_DIR_IN];
		const char *zone = plan->zones[z].zone->name;

		for (size_t e = 0; e < ch->n_entries; e++) {
			const struct pc_plan_entry *en = &ch->entries[e];

			/* A run scoped to a port: its first rule says it. */
			if ((en->kind == PC_ENTRY_RULE ||
			     (en->kind == PC_ENTRY_ADDRS && en->scope_l4proto)) &&
			    unused_rule(unused, zone, en->first, ls) < 0)
				goto fail;
			/* Rules of one port each: a port once, by a rule it allows
			 * (toward hosts: one pair per host, in a row). */
			for (size_t k = 0, said = 0; en->kind == PC_ENTRY_PAIRS && k < en->n_pairs;
			     k++) {
				const struct pc_plan_pair *pp = &en->pairs[k];
				const struct pc_rule *by = NULL;

				if (said && pp->key.l4proto == en->pairs[said - 1].key.l4proto &&
				    pp->key.port == en->pairs[said - 1].key.port)
					continue;

				for (size_t i = 0; !by && i < pp->addr4.n + pp->addr6.n; i++) {
					const struct pc_plan_span *sp =
						i < pp->addr4.n ? &pp->addr4.items[i]
								: &pp->addr6.items[i - pp->addr4.n];

					if (sp->verdict == PC_VERDICT_ACCEPT)
						by = sp->rule;
				}
				if (!by)
					continue;
				said = k + 1;
				if (!port_listened(ls, pp->key.l4proto, pp->key.port, pp->key.port) &&
				    unused_add(unused, zone, pp->key.l4proto, pp->key.port,
					       pp->key.port, by) < 0)
					goto fail;
			}
			for (size_t k = 0; en->kind == PC_ENTRY_PORTS && k < en->n_ports; k++) {
				const struct pc_plan_port *p = &en->ports[k];

				if (p->verdict == PC_VERDICT_ACCEPT &&
				    !port_listened(ls, p->l4proto, p->lo, p->hi) &&
				    unused_add(unused, zone, p->l4proto, p->lo, p->hi, p->rule) < 0)
					goto fail;
			}
		}
	}
	return unused;
fail:
	json_decref(unused);
	return NULL;
}

/* --- forwarded and published ports --- */

static const char *l4_name(uint8_t l4proto)
{
	return l4proto == IPPROTO_UDP ? "udp" : l4proto == IPPROTO_SCTP ? "sctp" : "tcp";
}

/* Our forwards: each port, where it goes, and the zones it listens in. */
static int forwards_json(const struct pc_config *cfg, json_t *list)
{
	for (size_t i = 0; i < cfg->n_rules; i++) {
		const struct pc_rule *r = &cfg->rules[i];
		char port[16], to[INET6_ADDRSTRLEN + 10], a[INET6_ADDRSTRLEN];
		json_t *zones = json_array();

		if (r->action != PC_FORWARD) {
			json_decref(zones);
			continue;
		}
		for (size_t k = 0; zones && k < (r->n_zones ? r->n_zones : 1); k++)
			json_array_append_new(zones, json_string(r->n_zones ? r->zones[k].name
							: cfg->zones[cfg->default_zone].name));
		inet_ntop(r->fwd_addr.family, r->fwd_addr.addr, a, sizeof(a));
		for (size_t p = 0; zones && p < r->n_ports; p++) {
			pc_port_range_format(&r->ports[p], port, sizeof(port));
			if (r->fwd_port)
				snprintf(to, sizeof(to), r->fwd_addr.family == AF_INET6 ? "[%s]:%u" : "%s:%u",
					 a, r->fwd_port);
			else
				snprintf(to, sizeof(to), "%s", a);
			if (json_array_append_new(list, json_pack("{s:s,s:s,s:s,s:o,s:s,s:O}", "kind",
								  "forward", "port", port, "to", to,
								  "by", loc_json(r), "text", r->text,
								  "zones", zones)) < 0)
				return -ENOMEM;
		}
		json_decref(zones);
	}
	return 0;
}

/* A DNAT of another table: the zones whose in rules accept its port, as
 * the kernel judges a published port (on the port the client connected
 * to, in the client's zone). */
static json_t *published_json(const struct pc_plan *plan, const struct pc_nat_entry *e)
{
	json_t *zones = json_array();
	char to[64], port[16], by[160];
	uint8_t l4 = e->l4proto ? e->l4proto : IPPROTO_TCP;

	for (size_t z = 0; zones && z < plan->n_zones; z++) {
		struct pc_packet pkt;
		struct pc_verdict v;

		if (!probe_packet(plan, z, e->to_family, l4, e->dport_lo, &pkt) ||
		    pc_plan_eval(plan, &pkt, &v) < 0 || v.verdict != PC_VERDICT_ACCEPT)
			continue;
		json_array_append_new(zones, json_pack("{s:s,s:s,s:o?}", "zone",
						       plan->zones[z].zone->name, "by",
						       decided_names[v.by], "rule",
						       v.by == PC_DECIDED_RULE ? loc_json(v.rule) : NULL));
	}
	pc_nat_entry_to_format(e, to, sizeof(to));
	snprintf(port, sizeof(port), "%u", e->dport_lo);
	snprintf(by, sizeof(by), "table %s %s, chain %s",
		 e->table_family == NFPROTO_IPV4 ? "ip" : e->table_family == NFPROTO_IPV6 ? "ip6"
											   : "inet",
		 e->table, e->chain);
	return json_pack("{s:s,s:s,s:s,s:s,s:s,s:o}", "kind", "published", "proto", l4_name(l4),
			 "port", port, "to", to, "by", by, "zones", zones);
}

/* Forwards of ours and other tables' DNATs of a single port. Reading
 * the kernel needs CAP_NET_ADMIN; without it the report says so. */
static json_t *nat_json(const struct pc_plan *plan, json_t **error, size_t *unknown)
{
	json_t *list = json_array();
	struct pc_nat_scan scan = {0};
	struct pc_nl *nl = NULL;
	int r = list ? forwards_json(plan->cfg, list) : -ENOMEM;

	*error = NULL;
	*unknown = 0;
	if (r >= 0) {
		r = pc_nl_open(&nl);
		if (r >= 0)
			r = pc_nl_nat_scan(nl, &scan);
		pc_nl_close(nl);
		if (r < 0 && r != -ENOMEM) {
			*error = json_string(strerror(-r));
			r = 0;
		}
	}
	for (size_t i = 0; r >= 0 && i < scan.n; i++) {
		const struct pc_nat_entry *e = &scan.items[i];

		if (!e->dport_lo || e->dport_lo != e->dport_hi)
			continue;
		if (json_array_append_new(list, published_json(plan, e)) < 0)
			r = -ENOMEM;
	}
	*unknown = scan.n_unknown;
	pc_nat_scan_free(&scan);
	if (r < 0) {
		json_decref(list);
		return NULL;
	}
	return list;
}

static void nat_print_text(const json_t *report)
{
	const json_t *n, *z, *list = json_object_get(report, "nat");
	size_t i, j;

	if (json_array_size(list) == 0 && !json_object_get(report, "nat_error"))
		return;
	printf("\nForwarded and published ports:\n");
	json_array_foreach(list, i, n)
	{
		bool fwd = streq(json_string_value(json_object_get(n, "kind")), "forward");

		printf("  %s%s%s -> %s (%s%s): ", json_string_value(json_object_get(n, "port")),
		       fwd ? "" : "/", fwd ? "" : json_string_value(json_object_get(n, "proto")),
		       json_string_value(json_object_get(n, "to")), fwd ? "forward, " : "published by ",
		       json_string_value(json_object_get(n, "by")));
		if (json_array_size(json_object_get(n, "zones")) == 0)
			printf("reached from no zone");
		json_array_foreach(json_object_get(n, "zones"), j, z)
		{
			const json_t *rule = json_object_get(z, "rule");

			if (json_is_string(z))
				printf("%s%s", j ? ", " : "zone ", json_string_value(z));
			else
				printf("%s%s (%s)", j ? ", " : "reached from ",
				       json_string_value(json_object_get(z, "zone")),
				       rule ? json_string_value(rule)
					    : json_string_value(json_object_get(z, "by")));
		}
		putchar('\n');
	}
	if (json_object_get(report, "nat_error"))
		printf("  (other tables' DNAT rules not read: %s; run as root)\n",
		       json_string_value(json_object_get(report, "nat_error")));
	if (json_integer_value(json_object_get(report, "nat_unknown")) > 0)
		printf("  (%lld DNAT rule(s) of another shape not read)\n",
		       json_integer_value(json_object_get(report, "nat_unknown")));
}

static void exposure_print_text(const json_t *report)
{
	const json_t *l, *z, *u;
	size_t i, j;

	printf("%-5s %-40s %s\n", "PROTO", "LISTENING ON", "REACHED FROM");
	json_array_foreach(json_object_get(report, "listeners"), i, l)
	{
		const char *addr = json_string_value(json_object_get(l, "address"));
		bool v6 = streq(json_string_value(json_object_get(l, "family")), "ipv6");
		char where[64];
		int shown = 0;

		snprintf(where, sizeof(where), "%s%s%s:%lld", v6 ? "[" : "", addr, v6 ? "]" : "",
			 json_integer_value(json_object_get(l, "port")));
		printf("%-5s %-40s", json_string_value(json_object_get(l, "proto")), where);
		if (json_is_true(json_object_get(l, "loopback_only")))
			printf(" loopback only");
		json_array_foreach(json_object_get(l, "zones"), j, z)
		{
			const json_t *rule = json_object_get(z, "rule");

			if (!streq(json_string_value(json_object_get(z, "verdict")), "accept"))
				continue;
			printf("%s %s/%s (%s)", shown++ ? "," : "",
			       json_string_value(json_object_get(z, "zone")),
			       json_string_value(json_object_get(z, "family")),
			       rule ? json_string_value(rule)
				    : json_string_value(json_object_get(z, "by")));
		}
		if (!shown && !json_is_true(json_object_get(l, "loopback_only")))
			printf(" reached from no zone");
		putchar('\n');
	}
	if (json_array_size(json_object_get(report, "unused")) == 0)
		return;
	printf("\nRules that open ports nobody listens on:\n");
	json_array_foreach(json_object_get(report, "unused"), i, u)
		printf("  %s/%s in zone %s: %s (%s)\n",
		       json_string_value(json_object_get(u, "ports")),
		       json_string_value(json_object_get(u, "proto")),
		       json_string_value(json_object_get(u, "zone")),
		       json_string_value(json_object_get(u, "rule")),
		       json_string_value(json_object_get(u, "text")));
}

static void report_print_text(const json_t *report)
{
	exposure_print_text(report);
	nat_print_text(report);
}

static int exposure_report(const struct pc_plan *plan, const struct listeners *ls, bool json)
{
	json_t *listeners = json_array(), *report, *nat_error = NULL, *nat;
	size_t nat_unknown = 0;
	int r = 0;

	for (size_t i = 0; listeners && i < ls->n; i++)
		if (json_array_append_new(listeners, listener_json(plan, &ls->items[i])) < 0)
			r = -ENOMEM;
	nat = nat_json(plan, &nat_error, &nat_unknown);
	report = json_pack("{s:o, s:o, s:o, s:o?, s:I}", "listeners", listeners, "unused",
			   unused_json(plan, ls), "nat", nat,
			   "nat_error", nat_error, "nat_unknown", (json_int_t)nat_unknown);
	if (!report || r < 0) {
		json_decref(report);
		return -ENOMEM;
	}
	if (json) {
		r = cli_json_envelope(CLI_EXIT_OK, "", report) == CLI_EXIT_OK ? 0 : -EIO;
	} else {
		report_print_text(report);
	}
	json_decref(report);
	return r;
}

int cmd_exposure(struct cli_context *ctx, int argc, char *argv[])
{
	struct listeners ls = {0};
	struct pc_config *cfg = NULL;
	struct pc_plan *plan = NULL;
	struct pc_diags d;
	int code, r;

	if (cli_options_parse(ctx, argc, argv, exposure_usage, &code) < 0)
		return code;
	pc_diags_init(&d);
	r = pc_config_load(&ctx->paths, &cfg, &d);
	if (r >= 0 && !pc_diags_has_errors(&d))
		r = pc_plan_build(cfg, &plan, &d);
	if (r < 0 || pc_diags_has_errors(&d)) {
		pc_diags_print(stderr, &d, cfg ? &cfg->sources : NULL);
		fprintf(stderr, "%s exposure: the configuration is invalid; 'portctl check' shows "
				"the same errors\n", ctx->prog);
		code = r == -ENOMEM ? CLI_EXIT_FAILURE : CLI_EXIT_USAGE;
		goto out;
	}
	r = listeners_read(&ls);
	if (r < 0) {
		fprintf(stderr, "%s exposure: cannot read the listening sockets (sock_diag): %s\n",
			ctx->prog, strerror(-r));
		code = CLI_EXIT_FAILURE;
		goto out;
	}
	code = exposure_report(plan, &ls, ctx->json) < 0 ? CLI_EXIT_FAILURE : CLI_EXIT_OK;
out:
	free(ls.items);
	pc_plan_free(plan);
	pc_config_free(cfg);
	pc_diags_free(&d);
	return code;
}
