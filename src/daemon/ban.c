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
#define BAN_SUMMARY_MAX (BAN_ADDR_MAX + PC_NAME_MAX + 32)
/* Sources the configuration may hold beyond two per ban (files, and the
 * command line's) before bans_compact makes the model again. */
#define BANS_COMPACT_SLACK 256

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
	config_rule_move(cfg, n_rules, at);
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

/* How a ban is named in the log and in replies: "ADDR[ zone ZONE]". */
static void ban_summary(const struct pc_ban *b, char out[BAN_SUMMARY_MAX])
{
	snprintf(out, BAN_SUMMARY_MAX, "%s%s%s", b->addr, b->zone[0] ? " zone " : "", b->zone);
}

/* Apply dm->bans as they now stand; the change's text is the ban's rule. */
static int bans_commit(struct daemon *dm, const struct pc_peer *peer, enum change_kind kind,
		       const struct pc_ban *b, struct pc_reply *reply)
{
	char rule[BAN_SUMMARY_MAX];
	struct change ch = {.kind = kind, .rule = rule, .peer = peer};

	ban_summary(b, rule);
	return change_apply(dm, &ch, reply);
}

/* The log line and reply of change_apply for a ban or an unban. */
static void ban_done(const struct pc_peer *peer, const struct pc_ban *b, enum change_kind kind,
		     struct pc_reply *reply)
{
	char summary[BAN_SUMMARY_MAX];

	ban_summary(b, summary);
	change_done(peer, kind, false, summary, reply);
}

static bool rule_is_placed_ban(const struct pc_rule *r)
{
	return r->loc.file && streq(r->loc.file, BAN_SOURCE);
}

/*
 * Whether a ban can change the configuration in force in place, as
 * fast_add decides for an allow: files applied, nothing pending, a plan
 * kept; and the configuration opens with exactly the n bans bans_place
 * put there (a reload drops them until bans_restore).
 */
static bool bans_fast_ready(const struct daemon *dm, size_t n)
{
	const struct pc_config *cfg = dm->applied ? dm->applied->cfg : NULL;

	if (!applied_in_place_ok(dm) || n == 0 || cfg->n_rules < n)
		return false;
	return rule_is_placed_ban(&cfg->rules[n - 1]) &&
	       (n == cfg->n_rules || !rule_is_placed_ban(&cfg->rules[n]));
}

/*
 * A ban in O(change) once its zones have their block sets: the ban's rule
 * is parsed at the end of the configuration in force, its elements are
 * built against the applied plan and sent in one transaction carrying the
 * generation id, then the rule takes its place after the other bans.
 * Returns 1 when done (reply set), 0 when the full path must do it
 * (nothing changed), or -ENOMEM.
 */
static int ban_fast_add(struct daemon *dm, const struct pc_peer *peer, const struct pc_ban *b,
			struct pc_reply *reply)
{
	size_t n_old = dm->n_bans - 1, n_rules, n_sources;
	struct pc_applied *a = dm->applied;
	struct pc_rule_append app = {0};
	struct pc_config *cfg;
	struct pc_diags d;
	int r;

	if (!bans_fast_ready(dm, n_old) || a->cfg->n_rules == a->cfg->cap_rules)
		return 0;
	cfg = a->cfg;
	n_rules = cfg->n_rules;
	n_sources = cfg->sources.n;
	pc_diags_init(&d);
	r = ban_parse_at(b, cfg, n_rules, &d);
	if (r >= 0)
		r = pc_config_validate_rule(cfg, n_rules, &d);
	if (r >= 0)
		r = pc_ban_add_prepare(a->plan, a->ruleset, &cfg->rules[n_rules], &cfg->rules[n_old],
				       &app);
	if (r >= 0)
		r = pc_nl_apply_elements(dm->nl, a->ruleset, &app, true, &d);
	pc_diags_free(&d);
	if (r < 0) {
		/* The full path says what went wrong, at the rule. */
		config_truncate(cfg, n_rules, n_sources);
		pc_rule_append_free(&app);
		return r == -ENOMEM ? r : 0;
	}
	/* The kernel holds the ban: the model in memory follows. */
	config_rule_move(cfg, n_rules, n_old);
	pc_plan_rules_shift(a->plan, a->ruleset, &cfg->rules[n_old], &cfg->rules[n_rules], 1);
	if (pc_ban_add_commit(a->plan, a->ruleset, &cfg->rules[n_old], &app) < 0)
		applied_model_lost(dm);
	pc_rule_append_free(&app);
	ban_done(peer, b, CHANGE_BAN, reply);
	return 1;
}

/* An unban in O(change), as ban_fast_add: dm->bans[i]'s elements are
 * deleted in one transaction, then its rule leaves the configuration. */
static int ban_fast_remove(struct daemon *dm, const struct pc_peer *peer, size_t i,
			   const struct pc_ban *b, struct pc_reply *reply)
{
	struct pc_applied *a = dm->applied;
	struct pc_rule_append app = {0};
	struct pc_config *cfg;
	struct pc_diags d;
	size_t n_rules;
	int r;

	if (!bans_fast_ready(dm, dm->n_bans))
		return 0;
	cfg = a->cfg;
	n_rules = cfg->n_rules;
	pc_diags_init(&d);
	r = pc_ban_remove_prepare(a->plan, a->ruleset, &cfg->rules[i], &app);
	if (r >= 0)
		r = pc_nl_apply_elements(dm->nl, a->ruleset, &app, false, &d);
	pc_diags_free(&d);
	if (r < 0) {
		pc_rule_append_free(&app);
		return r == -ENOMEM ? r : 0;
	}
	/* Plan and ruleset let go of the rule before it leaves the array. */
	pc_ban_remove_commit(a->plan, a->ruleset, &cfg->rules[i], &app);
	config_rule_remove(cfg, i);
	pc_plan_rules_shift(a->plan, a->ruleset, &cfg->rules[i + 1], &cfg->rules[n_rules], -1);
	pc_rule_append_free(&app);
	/* Remade when what they hold for nothing reaches half of what is
	 * live: memory stays bounded, and each remake is paid for by as
	 * many unbans as it drops, however far apart they come. */
	if (a->ruleset->n_stale_elems > a->ruleset->n_elems / 2)
		bans_model_refresh(dm);
	ban_done(peer, b, CHANGE_UNBAN, reply);
	return 1;
}

/*
 * Each in-place ban parses its rule from a source of its own, which an
 * unban leaves behind: under fail2ban's churn they would pile up without
 * end. Once they outnumber the bans twice over, the model is made again
 * from the files and the bans in force (one compile; the kernel sees no
 * change), so the cost is spread over as many bans and unbans.
 */
static void bans_compact(struct daemon *dm)
{
	const struct pc_config *cfg = dm->applied ? dm->applied->cfg : NULL;

	if (!cfg || cfg->sources.n <= 2 * dm->n_bans + BANS_COMPACT_SLACK)
		return;
	log_info("%zu sources for %zu bans: making the model again", cfg->sources.n, dm->n_bans);
	bans_restore(dm);
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
	r = ban_fast_add(dm, peer, &b, reply);
	if (r > 0) {
		bans_compact(dm);
		return 0;
	}
	if (r == 0)
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
	r = ban_fast_remove(dm, peer, (size_t)i, &b, reply);
	if (r < 0)
		return r;
	memmove(&dm->bans[i], &dm->bans[i + 1], (dm->n_bans - (size_t)i - 1) * sizeof(b));
	dm->n_bans--;
	if (r > 0) {
		bans_compact(dm);
		return 0;
	}
	r = bans_commit(dm, peer, CHANGE_UNBAN, &b, reply);
	if (r < 0 || reply->status != PC_STATUS_OK) {
		/* Put it back where it was: the kernel still holds it. */
		memmove(&dm->bans[i + 1], &dm->bans[i], (dm->n_bans - (size_t)i) * sizeof(b));
		dm->bans[i] = b;
		dm->n_bans++;
	}
	return r;
}

void bans_model_refresh(struct daemon *dm)
{
	struct pc_applied *a = dm->applied;

	/* Only the fast unban makes maps stale, and it needs the plan. */
	if (a && a->ruleset && a->ruleset->n_stale > 0 && pc_ruleset_refresh(a->plan, a->ruleset) < 0)
		applied_model_lost(dm);
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
