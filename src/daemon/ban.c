/* Bans ("portctl ban ADDR", fail2ban's action): addresses dropped ahead of
 * every rule of their zones, kept across CLI changes and reloads, each one
 * a single element added to or removed from the zones' block sets. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>

#include "commands.h"
#include "log.h"

/* How ban rules are named in diagnostics and in "portctl status". */
#define BAN_SOURCE "ban"
#define BAN_COMMENT "portctl ban"
/* INET6_ADDRSTRLEN plus "/128". */
#define BAN_ADDR_MAX 64

struct pc_ban {
	char addr[BAN_ADDR_MAX]; /* canonical: inet_ntop text, "/len" unless a host */
	char zone[PC_NAME_MAX + 1]; /* "" for every zone */
};

/* Canonical text of an address with an optional prefix length, so that
 * "2001:DB8::0001" and "2001:db8::1" are one ban. Host bits under the
 * prefix are left for the parser to refuse with its hint. */
static int ban_addr_canonical(const char *text, char out[BAN_ADDR_MAX])
{
	char host[BAN_ADDR_MAX], canon[INET6_ADDRSTRLEN];
	unsigned char bin[sizeof(struct in6_addr)];
	const char *slash = strchr(text, '/');
	size_t n = slash ? (size_t)(slash - text) : strlen(text);
	int family, max_len;
	char *end;
	long len;

	if (n == 0 || n >= sizeof(host))
		return -EINVAL;
	memcpy(host, text, n);
	host[n] = '\0';
	family = strchr(host, ':') ? AF_INET6 : AF_INET;
	max_len = family == AF_INET6 ? 128 : 32;
	if (inet_pton(family, host, bin) != 1 || !inet_ntop(family, bin, canon, sizeof(canon)))
		return -EINVAL;
	if (!slash) {
		snprintf(out, BAN_ADDR_MAX, "%s", canon);
		return 0;
	}
	errno = 0;
	len = strtol(slash + 1, &end, 10);
	if (slash[1] < '0' || slash[1] > '9' || *end || errno || len < 0 || len > max_len)
		return -EINVAL;
	if (len == max_len)
		snprintf(out, BAN_ADDR_MAX, "%s", canon);
	else
		snprintf(out, BAN_ADDR_MAX, "%s/%ld", canon, len);
	return 0;
}

/* A zone name as the grammar allows it; the parser checks it exists. */
static bool ban_zone_valid(const char *zone)
{
	size_t n = strlen(zone);

	if (n == 0 || n > PC_NAME_MAX || zone[0] < 'a' || zone[0] > 'z')
		return false;
	return strspn(zone, "abcdefghijklmnopqrstuvwxyz0123456789_-") == n;
}

static int ban_find(const struct daemon *dm, const struct pc_ban *b)
{
	for (size_t i = 0; i < dm->n_bans; i++)
		if (streq(dm->bans[i].addr, b->addr) && streq(dm->bans[i].zone, b->zone))
			return (int)i;
	return -ENOENT;
}

/* The ban's rule: every zone of cfg unless the ban names one. */
static int ban_rule_text(const struct pc_ban *b, const struct pc_config *cfg,
			 struct pc_strbuf *out)
{
	int r = pc_strbuf_printf(out, "deny from %s zone ", b->addr);

	if (r >= 0 && b->zone[0])
		r = pc_strbuf_printf(out, "%s", b->zone);
	for (size_t i = 0; r >= 0 && !b->zone[0] && i < cfg->n_zones; i++)
		r = pc_strbuf_printf(out, "%s%s", i ? "," : "", cfg->zones[i].name);
	if (r >= 0)
		r = pc_strbuf_printf(out, " comment \"%s\"", BAN_COMMENT);
	return r;
}

/* Parse one ban rule into cfg and move it to position `at`. */
static int ban_parse_at(const struct pc_ban *b, struct pc_config *cfg, size_t at,
			struct pc_diags *d)
{
	struct pc_strbuf text = {0};
	size_t n_rules = cfg->n_rules;
	struct pc_rule rule;
	int r;

	r = ban_rule_text(b, cfg, &text);
	if (r < 0) {
		pc_strbuf_free(&text);
		return r;
	}
	/* pc_parse_buffer takes the text. */
	r = pc_parse_buffer(cfg, BAN_SOURCE, text.buf, text.len, PC_ORIGIN_CLI, d);
	if (r < 0)
		return r;
	if (cfg->n_rules != n_rules + 1)
		return -EINVAL;
	rule = cfg->rules[n_rules];
	memmove(&cfg->rules[at + 1], &cfg->rules[at], (n_rules - at) * sizeof(rule));
	cfg->rules[at] = rule;
	return 0;
}

int bans_place(const struct daemon *dm, struct pc_config *cfg, struct pc_diags *d)
{
	int r;

	/* Ahead of every rule: a banned host must not reach a port that a
	 * rule of the zone allows. Consecutive, so the compiler merges them
	 * into one address set per zone and family. */
	for (size_t i = 0; i < dm->n_bans; i++) {
		r = ban_parse_at(&dm->bans[i], cfg, i, d);
		if (r < 0)
			return r;
	}
	return 0;
}

void bans_clear(struct daemon *dm)
{
	free(dm->bans);
	dm->bans = NULL;
	dm->n_bans = dm->cap_bans = 0;
}

static int ban_from_args(json_t *args, struct pc_ban *b, struct pc_reply *reply)
{
	const char *addr = json_string_value(json_object_get(args, "address"));
	json_t *zone = json_object_get(args, "zone");

	*b = (struct pc_ban){0};
	if (!addr || ban_addr_canonical(addr, b->addr) < 0)
		return reply_set(reply, PC_STATUS_USAGE,
				 "\"address\" must be an IPv4 or IPv6 address, optionally with "
				 "a prefix length (203.0.113.7, 2001:db8::/64)"),
		       -EINVAL;
	if (zone && !json_is_null(zone)) {
		if (!json_is_string(zone) || !ban_zone_valid(json_string_value(zone)))
			return reply_set(reply, PC_STATUS_USAGE,
					 "\"zone\" must be a zone name ('portctl zones' lists "
					 "them)"),
			       -EINVAL;
		snprintf(b->zone, sizeof(b->zone), "%s", json_string_value(zone));
	}
	return 0;
}

/* Apply dm->bans as they now stand; the change's text is the ban's rule. */
static int bans_commit(struct daemon *dm, const struct pc_peer *peer, enum change_kind kind,
		       const struct pc_ban *b, struct pc_reply *reply)
{
	char rule[BAN_ADDR_MAX + PC_NAME_MAX + 32];
	struct change ch = {.kind = kind, .rule = rule, .peer = peer};

	snprintf(rule, sizeof(rule), "%s%s%s", b->addr, b->zone[0] ? " zone " : "", b->zone);
	return change_apply(dm, &ch, reply);
}

int cmd_ban(struct daemon *dm, const struct pc_peer *peer, json_t *args, struct pc_reply *reply)
{
	struct pc_ban b, *slot;
	int r;

	if (ban_from_args(args, &b, reply) < 0)
		return 0;
	if (ban_find(dm, &b) >= 0)
		return reply_set(reply, PC_STATUS_OK, "%s is already banned%s%s", b.addr,
				 b.zone[0] ? " in zone " : "", b.zone);
	slot = PC_ARRAY_PUSH(dm->bans, dm->n_bans, dm->cap_bans);
	if (!slot)
		return -ENOMEM;
	*slot = b;
	r = bans_commit(dm, peer, CHANGE_BAN, &b, reply);
	if (r < 0 || reply->status != PC_STATUS_OK)
		dm->n_bans--;
	return r;
}

int cmd_unban(struct daemon *dm, const struct pc_peer *peer, json_t *args,
	      struct pc_reply *reply)
{
	struct pc_ban b;
	int i, r;

	if (ban_from_args(args, &b, reply) < 0)
		return 0;
	i = ban_find(dm, &b);
	if (i < 0)
		return reply_set(reply, PC_STATUS_FAILURE, "%s is not banned%s%s", b.addr,
				 b.zone[0] ? " in zone " : "", b.zone);
	memmove(&dm->bans[i], &dm->bans[i + 1], (dm->n_bans - (size_t)i - 1) * sizeof(b));
	dm->n_bans--;
	r = bans_commit(dm, peer, CHANGE_UNBAN, &b, reply);
	if (r < 0 || reply->status != PC_STATUS_OK) {
		/* Put it back where it was: the kernel still holds it. */
		memmove(&dm->bans[i + 1], &dm->bans[i], (dm->n_bans - (size_t)i) * sizeof(b));
		dm->bans[i] = b;
		dm->n_bans++;
	}
	return r;
}

int bans_restore(struct daemon *dm)
{
	static const struct pc_peer self = {0};
	struct pc_reply reply = {0};
	struct pc_ban none = {.addr = "all bans"};
	int r;

	if (dm->n_bans == 0)
		return 0;
	r = bans_commit(dm, &self, CHANGE_BAN, &none, &reply);
	if (r >= 0 && reply.status != PC_STATUS_OK)
		r = -ECANCELED;
	if (r < 0)
		log_error("the %zu banned address(es) could not be restored after the reload: %s",
			  dm->n_bans, reply.message ? reply.message : strerror(-r));
	free(reply.message);
	json_decref(reply.data);
	return r;
}
