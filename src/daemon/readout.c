/* What status and metrics read out of the configuration in force: the
 * per-rule counters, a rule and zone names as JSON. Below the
 * handlers that show them (commands.c, metrics.c), above state.c. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>

#include "readout.h"
#include "state.h"

static const char *const origin_names[] = {
	[PC_ORIGIN_SHIPPED] = "shipped", [PC_ORIGIN_ADMIN] = "admin", [PC_ORIGIN_CLI] = "cli",
	[PC_ORIGIN_DEFAULTS] = "defaults",
};

static const char *const source_names[] = {
	[SOURCE_FILES] = "files", [SOURCE_LAST_GOOD] = "last-good",
	[SOURCE_SAFE] = "safe-policy", [SOURCE_KERNEL] = "kernel",
	[SOURCE_ROLLBACK] = "rolled-back",
};

const char *source_name(enum daemon_source source)
{
	return source_names[source];
}

const char *origin_name(enum pc_origin origin)
{
	return origin_names[origin];
}

json_t *names_json(const struct pc_name *names, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < n; i++)
		json_array_append_new(a, json_string(names[i].name));
	return a;
}

/* Per-rule packet and byte totals: a rule's counters are spread over its
 * kernel rules and set elements, so sum them by the rule they came from. */
int rule_counters(struct daemon *dm, uint64_t *packets, uint64_t *bytes)
{
	const struct pc_config *cfg = dm->applied->cfg;
	const struct pc_ruleset *rs;
	_cleanup_free_ struct pc_elem_owner *owners = NULL;
	struct pc_nl_counters c = {0};
	int r;

	r = state_read_counters(dm, &c);
	if (r < 0)
		return r;
	rs = dm->applied->ruleset;
	/* All at once: one element at a time would be quadratic. */
	owners = malloc((c.n + 1) * sizeof(*owners));
	if (!owners) {
		pc_nl_counters_free(&c);
		return -ENOMEM;
	}
	for (size_t i = 0; i < c.n; i++)
		owners[i] = (struct pc_elem_owner){ .first = rs->objs[c.items[i].obj].rule,
						    .elem = c.items[i].elem };
	r = pc_ruleset_elem_rules(cfg, owners, c.n);
	if (r < 0) {
		pc_nl_counters_free(&c);
		return r;
	}
	for (size_t i = 0; i < c.n; i++) {
		const struct pc_rule *rule = owners[i].rule;

		if (!rule || rule < cfg->rules || rule >= cfg->rules + cfg->n_rules)
			continue;
		packets[rule - cfg->rules] += c.items[i].packets;
		bytes[rule - cfg->rules] += c.items[i].bytes;
	}
	pc_nl_counters_free(&c);
	return 0;
}

json_t *rule_json(const struct pc_config *cfg, size_t i, uint64_t packets, uint64_t bytes)
{
	const struct pc_rule *r = &cfg->rules[i];

	return json_pack("{s:I,s:s?,s:i,s:i,s:s,s:o,s:s,s:s?,s:I,s:I}", "number",
			 (json_int_t)(i + 1), "file", r->loc.file, "line", (int)r->loc.line,
			 "column", (int)r->loc.col, "text", r->text, "zones",
			 r->n_zones ? names_json(r->zones, r->n_zones)
				    : json_pack("[s]", cfg->zones[cfg->default_zone].name),
			 "origin", origin_name(r->origin), "comment", r->comment, "packets",
			 (json_int_t)packets, "bytes", (json_int_t)bytes);
}
