/* The daemon's command table and its read-only handlers (version, zones,
 * services, status) and reload; rule changes live in change.c. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <sys/socket.h>

#include <libnftnl/set.h>

#include "commands.h"
#include "log.h"

struct command {
	const char *name;
	int (*run)(struct daemon *dm, const struct pc_peer *peer, json_t *args,
		   struct pc_reply *reply);
	bool needs_write;
	const char *help;
};

static const char *const policy_names[] = {
	[PC_POLICY_UNSET] = NULL, [PC_POLICY_ACCEPT] = "accept",
	[PC_POLICY_DROP] = "drop", [PC_POLICY_REJECT] = "reject",
};
static const char *const origin_names[] = {
	[PC_ORIGIN_SHIPPED] = "shipped", [PC_ORIGIN_ADMIN] = "admin", [PC_ORIGIN_CLI] = "cli",
	[PC_ORIGIN_DEFAULTS] = "defaults",
};
static const char *const source_names[] = {
	[SOURCE_FILES] = "files", [SOURCE_LAST_GOOD] = "last-good",
	[SOURCE_SAFE] = "safe-policy", [SOURCE_KERNEL] = "kernel",
	[SOURCE_ROLLBACK] = "rolled-back",
};

int reply_diags(struct pc_reply *reply, int status, const char *intro, const struct pc_diags *d,
		const struct pc_config *cfg)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	json_t *list = json_array();

	if (!f || !list) {
		if (f)
			fclose(f);
		json_decref(list);
		return -ENOMEM;
	}
	fprintf(f, "%s\n", intro);
	pc_diags_print(f, d, cfg ? &cfg->sources : NULL);
	fclose(f);
	for (size_t i = 0; i < d->n; i++) {
		const struct pc_diag *g = &d->items[i];

		json_array_append_new(
			list, json_pack("{s:s,s:s?,s:i,s:i,s:s,s:s?}", "severity",
					g->severity == PC_SEV_ERROR ? "error" : "warning", "file",
					g->loc.file, "line", (int)g->loc.line, "column",
					(int)g->loc.col, "message", g->message, "hint", g->hint));
	}
	/* Strip the last newline: the CLI prints the message as a line. */
	if (len > 0 && text[len - 1] == '\n')
		text[len - 1] = '\0';
	free(reply->message);
	reply->message = text;
	reply->status = status;
	json_decref(reply->data);
	reply->data = json_pack("{s:o}", "diagnostics", list);
	return 0;
}

unsigned daemon_apply_flags(const struct daemon *dm)
{
	return dm->table_owner ? PC_NL_OWNER : 0;
}

void daemon_runtime_clear(struct daemon *dm)
{
	for (size_t i = 0; i < dm->n_runtime; i++)
		free(dm->runtime[i]);
	free(dm->runtime);
	dm->runtime = NULL;
	dm->n_runtime = dm->cap_runtime = 0;
}

static int cmd_version(struct daemon *dm, const struct pc_peer *peer, json_t *args,
		       struct pc_reply *reply)
{
	reply->data = json_pack("{s:s,s:i}", "version", PACKAGE_VERSION, "protocol",
				PC_PROTO_VERSION);
	return reply_set(reply, PC_STATUS_OK, "portctld %s (protocol %d)", PACKAGE_VERSION,
			 PC_PROTO_VERSION);
}

static json_t *names_json(const struct pc_name *names, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < n; i++)
		json_array_append_new(a, json_string(names[i].name));
	return a;
}

static json_t *prefixes_json(const struct pc_prefix *p, size_t n)
{
	json_t *a = json_array();
	char buf[64];

	for (size_t i = 0; a && i < n; i++)
		if (pc_prefix_format(&p[i], buf, sizeof(buf)) >= 0)
			json_array_append_new(a, json_string(buf));
	return a;
}

static json_t *ports_json(const struct pc_port_range *p, size_t n)
{
	json_t *a = json_array();
	char buf[64];

	for (size_t i = 0; a && i < n; i++)
		if (pc_port_range_format(&p[i], buf, sizeof(buf)) >= 0)
			json_array_append_new(a, json_string(buf));
	return a;
}

static json_t *zone_json(const struct pc_config *cfg, size_t i)
{
	const struct pc_zone *z = &cfg->zones[i];

	return json_pack("{s:s,s:b,s:s,s:s,s:o,s:o,s:s,s:s?,s:i}", "name", z->name, "default",
			 i == cfg->default_zone, "policy_in",
			 z->policy_in == PC_POLICY_UNSET ? "drop" : policy_names[z->policy_in],
			 "policy_out",
			 z->policy_out == PC_POLICY_UNSET ? "accept" : policy_names[z->policy_out],
			 "interfaces", names_json(z->interfaces, z->n_interfaces), "sources",
			 prefixes_json(z->sources, z->n_sources), "origin", origin_names[z->origin],
			 "file", z->loc.file, "line", (int)z->loc.line);
}

static json_t *zones_json(const struct pc_config *cfg)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < cfg->n_zones; i++)
		json_array_append_new(a, zone_json(cfg, i));
	return a;
}

int need_model(const struct daemon *dm, struct pc_reply *reply)
{
	if (dm->applied && dm->applied->cfg)
		return 0;
	reply_set(reply, PC_STATUS_FAILURE,
		  "portctld kept the rules the kernel had at start-up but has no valid "
		  "configuration describing them: fix the errors it logged, then run "
		  "'portctl reload'");
	return -ENODATA;
}

static int cmd_zones(struct daemon *dm, const struct pc_peer *peer, json_t *args,
		     struct pc_reply *reply)
{
	if (need_model(dm, reply) < 0)
		return 0;
	reply->data = json_pack("{s:o}", "zones", zones_json(dm->applied->cfg));
	return reply_set(reply, PC_STATUS_OK, "%s", "");
}

static int cmd_services(struct daemon *dm, const struct pc_peer *peer, json_t *args,
			struct pc_reply *reply)
{
	const struct pc_config *cfg;
	json_t *a = json_array();

	if (need_model(dm, reply) < 0) {
		json_decref(a);
		return 0;
	}
	cfg = dm->applied->cfg;
	for (size_t i = 0; a && i < cfg->n_services; i++) {
		const struct pc_service *s = &cfg->services[i];

		json_array_append_new(a, json_pack("{s:s,s:o,s:s}", "name", s->name, "ports",
						   ports_json(s->ports, s->n_ports), "origin",
						   origin_names[s->origin]));
	}
	reply->data = json_pack("{s:o}", "services", a);
	return reply_set(reply, PC_STATUS_OK, "%s", "");
}

static bool rule_has_port(const struct pc_rule *r, uint8_t l4proto, uint16_t port)
{
	uint8_t bit = l4proto == 6 ? PC_PROTO_TCP : l4proto == 17 ? PC_PROTO_UDP
						   : l4proto == 132 ? PC_PROTO_SCTP : 0;

	for (size_t i = 0; i < r->n_ports; i++)
		if ((r->ports[i].protos & bit) && r->ports[i].lo <= port && port <= r->ports[i].hi)
			return true;
	return false;
}

static bool rules_same_zones(const struct pc_rule *a, const struct pc_rule *b)
{
	if (a->dir != b->dir || a->n_zones != b->n_zones)
		return false;
	for (size_t i = 0; i < a->n_zones; i++)
		if (!streq(a->zones[i].name, b->zones[i].name))
			return false;
	return true;
}

/*
 * The rule an element of a merged port map belongs to. The compiler keeps
 * the run's first rule on the set; within a run each port segment carries
 * the verdict of the first rule matching it, so the first rule from there
 * on (same zones and direction) that has the element's port is its owner.
 */
static const struct pc_rule *elem_rule(const struct pc_config *cfg, const struct pc_rule *first,
				       const struct nftnl_set_elem *e)
{
	uint32_t len = 0;
	/* libnftnl takes no const, but reading an attribute changes nothing. */
	const uint8_t *key = e ? nftnl_set_elem_get((struct nftnl_set_elem *)e, NFTNL_SET_ELEM_KEY, &len) : NULL;
	uint16_t port;

	/* inet_proto . inet_service: proto in byte 0, port big endian at 4. */
	if (!key || len != 8)
		return first;
	port = (uint16_t)(key[4] << 8 | key[5]);
	for (const struct pc_rule *r = first; r < cfg->rules + cfg->n_rules; r++)
		if (rules_same_zones(r, first) && rule_has_port(r, key[0], port))
			return r;
	return first;
}

/* Per-rule packet and byte totals: a rule's counters are spread over its
 * kernel rules and set elements, so sum them by the rule they came from. */
static int rule_counters(struct daemon *dm, uint64_t *packets, uint64_t *bytes)
{
	const struct pc_config *cfg = dm->applied->cfg;
	const struct pc_ruleset *rs = dm->applied->ruleset;
	struct pc_nl_counters c = {0};
	int r;

	if (!rs)
		return 0;
	r = pc_nl_read_counters(dm->nl, rs, &c);
	if (r < 0)
		return r;
	for (size_t i = 0; i < c.n; i++) {
		const struct pc_rule *rule = rs->objs[c.items[i].obj].rule;

		if (rule && rule >= cfg->rules && rule < cfg->rules + cfg->n_rules)
			rule = elem_rule(cfg, rule, c.items[i].elem);
		if (!rule || rule < cfg->rules || rule >= cfg->rules + cfg->n_rules)
			continue;
		packets[rule - cfg->rules] += c.items[i].packets;
		bytes[rule - cfg->rules] += c.items[i].bytes;
	}
	pc_nl_counters_free(&c);
	return 0;
}

static json_t *rule_json(const struct pc_config *cfg, size_t i, uint64_t packets, uint64_t bytes)
{
	const struct pc_rule *r = &cfg->rules[i];

	return json_pack("{s:I,s:s?,s:i,s:i,s:s,s:o,s:s,s:s?,s:I,s:I}", "number",
			 (json_int_t)(i + 1), "file", r->loc.file, "line", (int)r->loc.line,
			 "column", (int)r->loc.col, "text", r->text, "zones",
			 r->n_zones ? names_json(r->zones, r->n_zones)
				    : json_pack("[s]", cfg->zones[cfg->default_zone].name),
			 "origin", origin_names[r->origin], "comment", r->comment, "packets",
			 (json_int_t)packets, "bytes", (json_int_t)bytes);
}

static int cmd_status(struct daemon *dm, const struct pc_peer *peer, json_t *args,
		      struct pc_reply *reply)
{
	_cleanup_free_ uint64_t *packets = NULL, *bytes = NULL;
	const struct pc_config *cfg;
	json_t *rules;
	int r;

	if (need_model(dm, reply) < 0)
		return 0;
	cfg = dm->applied->cfg;
	packets = calloc(cfg->n_rules + 1, sizeof(*packets));
	bytes = calloc(cfg->n_rules + 1, sizeof(*bytes));
	rules = json_array();
	if (!packets || !bytes || !rules) {
		json_decref(rules);
		return -ENOMEM;
	}
	r = rule_counters(dm, packets, bytes);
	if (r < 0)
		log_warning_errno(r, "cannot read counters from the kernel: %m");
	for (size_t i = 0; i < cfg->n_rules; i++)
		json_array_append_new(rules, rule_json(cfg, i, packets[i], bytes[i]));
	reply->data = json_pack("{s:s,s:s,s:s,s:b,s:o,s:o}", "table", "inet " PC_TABLE_NAME,
				"source", source_names[dm->source], "default_zone",
				cfg->zones[cfg->default_zone].name, "counters", r >= 0, "zones",
				zones_json(cfg), "rules", rules);
	trust_status_add(dm, reply->data);
	return reply_set(reply, PC_STATUS_OK, "%s", "");
}

void daemon_take_reloaded(struct daemon *dm, struct pc_applied *a)
{
	pc_applied_free(dm->applied);
	dm->applied = a;
	dm->source = SOURCE_FILES;
	dm->cli_changes = a->cfg->settings.cli_changes;
	dm->table_owner = a->cfg->settings.table_owner;
	if (dm->log_level_override < 0)
		log_set_max_level(a->cfg->settings.log_level);
	if (dm->n_runtime > 0)
		log_notice("reload dropped %zu runtime rule(s)", dm->n_runtime);
	daemon_runtime_clear(dm);
	log_info("configuration applied: %zu rules, %zu zones", a->cfg->n_rules, a->cfg->n_zones);
}

int daemon_reload(struct daemon *dm, struct pc_reply *reply)
{
	struct pc_applied *a = NULL;
	struct pc_diags d;
	int r;

	if (panic_refuses(dm, "reload", reply))
		return -EBUSY;
	pc_diags_init(&d);
	r = pc_apply_config(&dm->paths, dm->nl, dm->applied, &a, &d);
	if (r < 0 && a && a->stage != PC_APPLY_STATE) {
		diags_log(&d);
		if (reply)
			reply_diags(reply,
				    a->stage == PC_APPLY_CONFIG ? PC_STATUS_USAGE : PC_STATUS_FAILURE,
				    a->stage == PC_APPLY_CONFIG
					    ? "reload refused, nothing changed: fix these errors "
					      "and run 'portctl reload' again"
					    : "the kernel refused the configuration, nothing changed",
				    &d, a->cfg);
		log_error("reload failed, the previous rules stay in force");
		pc_applied_free(a);
		pc_diags_free(&d);
		return r;
	}
	if (r < 0)
		log_warning_errno(r, "applied, but the last-good copy was not saved: %m");
	daemon_take_reloaded(dm, a);
	if (reply)
		reply_set(reply, PC_STATUS_OK, "reloaded: %zu rules in %zu zones applied",
			  a->cfg->n_rules, a->cfg->n_zones);
	/* Bans outlive reloads (fail2ban does not re-issue them); they follow
	 * in a second, element-only transaction, which replaces dm->applied
	 * (and frees a). */
	bans_restore(dm);
	pc_diags_free(&d);
	return 0;
}

/* From the CLI a reload is an apply without --confirm: the lock-out
 * guard sees it (SIGHUP goes through daemon_reload, with no session). */
static int cmd_reload(struct daemon *dm, const struct pc_peer *peer, json_t *args,
		      struct pc_reply *reply)
{
	json_object_del(args, "confirm");
	return cmd_apply(dm, peer, args, reply);
}

/* The rule text a CLI change sends; an action command's rule must start
 * with that action, so "allow" cannot smuggle in a "deny". */
static int args_rule(json_t *args, const char *action, const char **rule, struct pc_reply *reply)
{
	json_t *v = json_object_get(args, "rule");
	size_t n = action ? strlen(action) : 0;

	*rule = json_string_value(v);
	if (!*rule || !**rule || strchr(*rule, '\n') ||
	    (action && (strncmp(*rule, action, n) != 0 || ((*rule)[n] != ' ' && (*rule)[n])))) {
		reply_set(reply, PC_STATUS_USAGE, "the request needs a one-line \"rule\"%s%s",
			  action ? " starting with " : "", action ? action : "");
		return -EINVAL;
	}
	return 0;
}

static int args_number(json_t *args, const char *key, size_t *out, struct pc_reply *reply)
{
	json_t *v = json_object_get(args, key);

	*out = 0;
	if (!v)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > 10000000) {
		reply_set(reply, PC_STATUS_USAGE, "\"%s\" must be a rule number (1 or more)", key);
		return -EINVAL;
	}
	*out = (size_t)json_integer_value(v);
	return 0;
}

static int cmd_add(struct daemon *dm, const struct pc_peer *peer, json_t *args,
		   struct pc_reply *reply, const char *action)
{
	struct change ch = {.kind = CHANGE_ADD, .peer = peer};

	if (args_rule(args, action, &ch.rule, reply) < 0)
		return 0;
	ch.runtime = json_is_true(json_object_get(args, "runtime"));
	guard_opts_from_args(args, &ch.guard);
	return change_apply(dm, &ch, reply);
}

static int cmd_allow(struct daemon *dm, const struct pc_peer *peer, json_t *args,
		     struct pc_reply *reply)
{
	return cmd_add(dm, peer, args, reply, "allow");
}

static int cmd_deny(struct daemon *dm, const struct pc_peer *peer, json_t *args,
		    struct pc_reply *reply)
{
	return cmd_add(dm, peer, args, reply, "deny");
}

static int cmd_reject(struct daemon *dm, const struct pc_peer *peer, json_t *args,
		      struct pc_reply *reply)
{
	return cmd_add(dm, peer, args, reply, "reject");
}

static int cmd_limit(struct daemon *dm, const struct pc_peer *peer, json_t *args,
		     struct pc_reply *reply)
{
	return cmd_add(dm, peer, args, reply, "limit");
}

static int cmd_insert(struct daemon *dm, const struct pc_peer *peer, json_t *args,
		      struct pc_reply *reply)
{
	struct change ch = {.kind = CHANGE_INSERT, .peer = peer};

	if (args_rule(args, NULL, &ch.rule, reply) < 0 ||
	    args_number(args, "position", &ch.number, reply) < 0)
		return 0;
	if (ch.number == 0)
		return reply_set(reply, PC_STATUS_USAGE, "insert needs a \"position\"");
	ch.runtime = json_is_true(json_object_get(args, "runtime"));
	guard_opts_from_args(args, &ch.guard);
	return change_apply(dm, &ch, reply);
}

static int cmd_delete(struct daemon *dm, const struct pc_peer *peer, json_t *args,
		      struct pc_reply *reply)
{
	struct change ch = {.kind = CHANGE_DELETE, .peer = peer};
	int given;

	if (args_number(args, "number", &ch.number, reply) < 0)
		return 0;
	ch.rule = json_string_value(json_object_get(args, "rule"));
	ch.comment = json_string_value(json_object_get(args, "comment"));
	given = (ch.number > 0) + (ch.rule != NULL) + (ch.comment != NULL);
	if (given != 1)
		return reply_set(reply, PC_STATUS_USAGE,
				 "delete needs exactly one of \"number\", \"rule\", \"comment\"");
	if (ch.rule && args_rule(args, NULL, &ch.rule, reply) < 0)
		return 0;
	guard_opts_from_args(args, &ch.guard);
	return change_apply(dm, &ch, reply);
}

static const struct command commands[] = {
	{"version", cmd_version, false, "the daemon's version and protocol"},
	{"status", cmd_status, false, "zones, rules in order, per-rule counters"},
	{"zones", cmd_zones, false, "the zones in force"},
	{"services", cmd_services, false, "the service names known"},
	{"reload", cmd_reload, true, "re-read the configuration and apply it atomically"},
	{"allow", cmd_allow, true, "add an allow rule"},
	{"deny", cmd_deny, true, "add a deny rule"},
	{"reject", cmd_reject, true, "add a reject rule"},
	{"limit", cmd_limit, true, "add a rate-limited allow rule"},
	{"insert", cmd_insert, true, "add a rule at a position"},
	{"delete", cmd_delete, true, "remove a rule by number, text or comment"},
	{"ban", cmd_ban, true, "drop an address ahead of every rule (fail2ban)"},
	{"unban", cmd_unban, true, "lift a ban"},
	{"apply", cmd_apply, true, "reload; with \"confirm\", roll back unless confirmed in time"},
	{"confirm", cmd_confirm, true, "keep the rules of a pending apply --confirm"},
	{"panic", cmd_panic, true, "drop everything but loopback, or restore the rules"},
	{"explain", cmd_explain, false, "which zone and rule decide a packet, and why"},
	{"export", cmd_export, false, "the configuration in force as one rules file"},
	{"diff", cmd_diff, false, "what a reload would change, and whether the kernel drifted"},
};

static const struct command *command_find(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		if (streq(commands[i].name, name))
			return &commands[i];
	return NULL;
}

void daemon_request(void *userdata, const struct pc_peer *peer, const struct pc_request *req,
		    struct pc_reply *reply)
{
	struct daemon *dm = userdata;
	const struct command *cmd = command_find(req->cmd);
	int r;

	if (!cmd) {
		reply_set(reply, PC_STATUS_USAGE,
			  "unknown command '%s': this portctld may be older than portctl, "
			  "see 'portctl --help'",
			  req->cmd);
		return;
	}
	if (cmd->needs_write && !peer->may_write) {
		log_notice("uid %u pid %d: '%s' refused, not root or in the socket group",
			   peer->uid, (int)peer->pid, cmd->name);
		reply_set(reply, PC_STATUS_DENIED,
			  "permission denied: '%s' changes rules, which needs root or membership "
			  "in the group that owns the portctl socket (an administrator can run: "
			  "usermod -aG GROUP USER)",
			  cmd->name);
		return;
	}
	if (cmd->needs_write && panic_refuses(dm, cmd->name, reply))
		return;
	log_debug("uid %u pid %d: %s", peer->uid, (int)peer->pid, cmd->name);
	/* Bans and unbans keep maps stale in a burst; all else reads them. */
	if (cmd->run != cmd_ban && cmd->run != cmd_unban)
		bans_model_refresh(dm);
	r = cmd->run(dm, peer, req->args, reply);
	if (r < 0) {
		log_error_errno(r, "%s: %m", cmd->name);
		reply_set(reply, PC_STATUS_FAILURE, "%s failed: %s", cmd->name, strerror(-r));
	}
}
