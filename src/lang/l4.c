/* The words of protocol rules: ICMP and ICMPv6 type names as nft spells
 * them, and IP protocol names, each also accepted as a number. */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "lang.h"
#include "portctl/config.h"

struct named { const char *name; uint8_t v; };

static const struct named icmp4_types[] = {
	{ "echo-reply", 0 },		 { "destination-unreachable", 3 },
	{ "source-quench", 4 },		 { "redirect", 5 },
	{ "echo-request", 8 },		 { "router-advertisement", 9 },
	{ "router-solicitation", 10 },	 { "time-exceeded", 11 },
	{ "parameter-problem", 12 },	 { "timestamp-request", 13 },
	{ "timestamp-reply", 14 },	 { "info-request", 15 },
	{ "info-reply", 16 },		 { "address-mask-request", 17 },
	{ "address-mask-reply", 18 },
};

static const struct named icmp6_types[] = {
	{ "destination-unreachable", 1 }, { "packet-too-big", 2 },
	{ "time-exceeded", 3 },		  { "parameter-problem", 4 },
	{ "echo-request", 128 },	  { "echo-reply", 129 },
	{ "mld-listener-query", 130 },	  { "mld-listener-report", 131 },
	{ "mld-listener-done", 132 },	  { "nd-router-solicit", 133 },
	{ "nd-router-advert", 134 },	  { "nd-neighbor-solicit", 135 },
	{ "nd-neighbor-advert", 136 },	  { "nd-redirect", 137 },
	{ "router-renumbering", 138 },	  { "ind-neighbor-solicit", 141 },
	{ "ind-neighbor-advert", 142 },	  { "mld2-listener-report", 143 },
};

/* "proto" takes the protocols that have no rule form of their own. */
static const struct named ip_protos[] = {
	{ "ipip", IPPROTO_IPIP }, { "gre", IPPROTO_GRE }, { "esp", IPPROTO_ESP },
	{ "ah", IPPROTO_AH },	  { "ospf", 89 },	   { "vrrp", 112 },
	{ "l2tp", 115 },	  { "udplite", IPPROTO_UDPLITE },
};

static int named_parse(const struct named *v, size_t n, const char *s, size_t len, uint32_t max,
		       uint8_t *out)
{
	uint32_t x;

	for (size_t i = 0; i < n; i++) {
		if (strlen(v[i].name) == len && memcmp(v[i].name, s, len) == 0) {
			*out = v[i].v;
			return 0;
		}
	}
	if (number_parse(s, len, max, &x) < 0)
		return -EINVAL;
	*out = (uint8_t)x;
	return 0;
}

static const char *named_name(const struct named *v, size_t n, uint8_t x)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].v == x)
			return v[i].name;
	return NULL;
}

int pc_icmp_type_parse(bool v6, const char *s, size_t len, uint8_t *out)
{
	return v6 ? named_parse(icmp6_types, ARRAY_SIZE(icmp6_types), s, len, 255, out)
		  : named_parse(icmp4_types, ARRAY_SIZE(icmp4_types), s, len, 255, out);
}

const char *pc_icmp_type_name(bool v6, uint8_t type)
{
	return v6 ? named_name(icmp6_types, ARRAY_SIZE(icmp6_types), type)
		  : named_name(icmp4_types, ARRAY_SIZE(icmp4_types), type);
}

size_t pc_icmp_type_names(bool v6, const char **names, size_t max)
{
	const struct named *v = v6 ? icmp6_types : icmp4_types;
	size_t n = v6 ? ARRAY_SIZE(icmp6_types) : ARRAY_SIZE(icmp4_types);

	for (size_t i = 0; i < n && i < max; i++)
		names[i] = v[i].name;
	return n < max ? n : max;
}

int pc_ip_proto_parse(const char *s, size_t len, uint8_t *out)
{
	int r = named_parse(ip_protos, ARRAY_SIZE(ip_protos), s, len, 255, out);

	return r < 0 || *out == 0 ? -EINVAL : 0;
}

const char *pc_ip_proto_name(uint8_t proto)
{
	static const struct named more[] = {
		{ "icmp", IPPROTO_ICMP }, { "tcp", IPPROTO_TCP },	  { "udp", IPPROTO_UDP },
		{ "icmpv6", IPPROTO_ICMPV6 }, { "sctp", IPPROTO_SCTP },
	};
	const char *n = named_name(ip_protos, ARRAY_SIZE(ip_protos), proto);

	return n ? n : named_name(more, ARRAY_SIZE(more), proto);
}

size_t pc_ip_proto_names(const char **names, size_t max)
{
	for (size_t i = 0; i < ARRAY_SIZE(ip_protos) && i < max; i++)
		names[i] = ip_protos[i].name;
	return ARRAY_SIZE(ip_protos) < max ? ARRAY_SIZE(ip_protos) : max;
}
