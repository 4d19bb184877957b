/* metrics: what status shows (per-rule counters) plus what Prometheus
 * users alert on (bans in force, the last change and its result, drift),
 * as data; portctl turns it into the text exposition format. Read-only:
 * anyone who may run status may run it. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include "handlers.h"
#include "readout.h"
#include "log.h"

/* Every "*" ban applies in every zone; a zone cannot be named "*". */
#define BANS_EVERY_ZONE "*"

static int bans_add(json_t *per_zone, const char *zone)
{
	json_t *n = json_object_get(per_zone, zone);

	if (n)
		return json_integer_set(n, json_integer_value(n) + 1);
	return json_object_set_new(per_zone, zone, json_integer(1));
}

/* Bans in force by zone, every zone of the configuration listed (0 when
 * none), so that a gauge goes to 0 instead of vanishing. */
static json_t *bans_json(const struct daemon *dm)
{
	const struct pc_config *cfg = dm->applied ? dm->applied->cfg : NULL;
	uint64_t now = (uint64_t)time(NULL);
	json_t *per_zone = json_object();
	const struct ban *counted = NULL;

	if (!per_zone || json_object_set_new(per_zone, BANS_EVERY_ZONE, json_integer(0)) < 0)
		goto fail;
	for (size_t i = 0; cfg && i < cfg->n_zones; i++)
		if (json_object_set_new(per_zone, cfg->zones[i].name, json_integer(0)) < 0)
			goto fail;
	for (size_t i = 0; i < dm->bans.n; i++) {
		const struct ban *b = &dm->bans.items[i];

		if (b->expires && b->expires <= now)
			continue;
		/* Another owner's claim on an address counted: the same ban (the
		 * claims on one address are next to each other). */
		if (counted && streq(counted->addr, b->addr) && streq(counted->zone, b->zone))
			continue;
		counted = b;
		if (bans_add(per_zone, b->zone[0] ? b->zone : BANS_EVERY_ZONE) < 0)
			goto fail;
	}
	return per_zone;
fail:
	json_decref(per_zone);
	return NULL;
}

/* The rules as status shows them, with their direction; NULL when their
 * counters cannot be read (a 0 would look like a counter reset). */
static int rules_json(struct daemon *dm, size_t from, size_t to, json_t **out)
{
	_cleanup_free_ uint64_t *packets = NULL, *bytes = NULL;
	const struct pc_config *cfg = dm->applied->cfg;
	json_t *rules;
	int r;

	*out = NULL;
	packets = calloc(to - from + 1, sizeof(*packets));
	bytes = calloc(to - from + 1, sizeof(*bytes));
	if (!packets || !bytes)
		return -ENOMEM;
	r = rule_counters_page(dm, from, to, packets, bytes);
	if (r < 0)
		return log_warning_errno(r, "cannot read counters from the kernel: %m");
	rules = json_array();
	for (size_t i = from; rules && i < to; i++) {
		json_t *o = rule_json(cfg, i, packets[i - from], bytes[i - from]);

		if (!o || json_object_set_new(o, "direction",
					      json_string(cfg->rules[i].dir == PC_DIR_OUT ? "out"
											  : "in")) < 0 ||
		    json_array_append_new(rules, o) < 0) {
			json_decref(o);
			json_decref(rules);
			return -ENOMEM;
		}
	}
	if (!rules)
		return -ENOMEM;
	*out = rules;
	return 0;
}

int cmd_metrics(struct daemon *dm, const struct pc_peer *peer, json_t *args,
		struct pc_reply *reply)
{
	const struct daemon_stats *st = &dm->stats;
	json_t *rules = NULL, *bans = NULL;
	size_t from = 0, to = 0, total = 0;
	int r = 0;

	/* Without a model (a kept table) the daemon's own figures still go
	 * out: a scrape that fails tells less than one without rules. In
	 * panic mode the kernel holds none of the rules. A page of rules at a
	 * time (page_args); the bans come with the first. */
	if (!dm->panic && dm->applied && dm->applied->cfg && dm->applied->ruleset) {
		total = dm->applied->cfg->n_rules;
		page_args(args, total, &from, &to);
		r = rules_json(dm, from, to, &rules);
		if (r == -ENOMEM)
			return r;
	}
	if (from == 0) {
		bans = bans_json(dm);
		if (!bans) {
			json_decref(rules);
			return -ENOMEM;
		}
	}
	reply->data = json_pack(
	    "{s:s,s:I,s:s,s:b,s:b,s:I,s:b,s:{s:I,s:I},s:{s:I,s:I},s:o?,s:o?,s:I,s:I,s:I}",
	    "version",
	    PACKAGE_VERSION, "started", (json_int_t)st->started, "source",
	    source_name(dm->source), "panic", dm->panic, "counters", rules != NULL, "last_apply",
	    (json_int_t)st->last_apply, "last_apply_ok", st->last_apply_ok, "applies", "ok",
	    (json_int_t)st->applies_ok, "failed", (json_int_t)st->applies_failed, "drift",
	    "found", (json_int_t)st->drift_found, "repairs", (json_int_t)st->drift_repairs,
	    "bans", bans, "rules", rules, "rules_total", (json_int_t)total, "rules_offset",
	    (json_int_t)from, "generation", (json_int_t)readout_generation(dm));
	if (!reply->data)
		return -ENOMEM;
	return reply_set(reply, PC_STATUS_OK, "%s", "");
}
