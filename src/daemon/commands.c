/* The daemon's command table, its dispatch (who may write, panic mode),
 * and the read-only handlers version, zones, services and status; every
 * change is a handler of its own file that calls down into state.c. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>

#include "handlers.h"
#include "readout.h"
#include "log.h"

struct command {
	const char *name;
	command_fn *run;
	bool needs_write;
	const char *help;
};

static const char *const policy_names[] = {
	[PC_POLICY_UNSET] = NULL, [PC_POLICY_ACCEPT] = "accept",
	[PC_POLICY_DROP] = "drop", [PC_POLICY_REJECT] = "reject",
};

static int cmd_version(struct daemon *dm, const struct pc_peer *peer, json_t *args,
		       struct pc_reply *reply)
{
	reply->data = json_pack("{s:s,s:i}", "version", PACKAGE_VERSION, "protocol",
				PC_PROTO_VERSION);
	return reply_set(reply, PC_STATUS_OK, "portctld %s (protocol %d)", PACKAGE_VERSION,
			 PC_PROTO_VERSION);
}

/* portctl watch: the server keeps the connection and streams the packets
 * the ruleset logs to the watch group (server.c, watch.c). */
static int cmd_watch(struct daemon *dm, const struct pc_peer *peer, json_t *args,
		     struct pc_reply *reply)
{
	const struct pc_config *cfg = dm->applied ? dm->applied->cfg : NULL;

	reply->stream = true;
	reply->stream_group = (uint16_t)(cfg ? cfg->settings.watch_group : 2);
	return reply_set(reply, PC_STATUS_OK,
			 "watching the packets that rules with 'log' and zones with "
			 "'log-denied' drop or reject");
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

	return json_pack("{s:s,s:b,s:s,s:s,s:s,s:o,s:o,s:s,s:s?,s:i}", "name", z->name, "default",
			 i == cfg->default_zone, "policy_in",
			 z->policy_in == PC_POLICY_UNSET ? "drop" : policy_names[z->policy_in],
			 "policy_out",
			 z->policy_out == PC_POLICY_UNSET ? "accept" : policy_names[z->policy_out],
			 "policy_forward",
			 z->policy_fwd == PC_POLICY_UNSET ? "accept" : policy_names[z->policy_fwd],
			 "interfaces", names_json(z->interfaces, z->n_interfaces), "sources",
			 prefixes_json(z->sources, z->n_sources), "origin", origin_name(z->origin),
			 "file", z->loc.file, "line", (int)z->loc.line);
}

static json_t *zones_json(const struct pc_config *cfg)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < cfg->n_zones; i++)
		json_array_append_new(a, zone_json(cfg, i));
	return a;
}

/* A set in status: where it comes from and how big, never its entries. */
static json_t *set_summary_json(const struct pc_addrset *s)
{
	size_t v4 = 0;

	for (size_t i = 0; i < s->n_addrs; i++)
		v4 += s->addrs[i].family == AF_INET;
	return json_pack("{s:s,s:s?,s:s?,s:i,s:I,s:I,s:I}", "name", s->name, "file", s->file,
			 "defined_in", s->loc.file, "line", (int)s->loc.line, "entries",
			 (json_int_t)s->n_addrs, "ipv4", (json_int_t)v4, "ipv6",
			 (json_int_t)(s->n_addrs - v4));
}

static json_t *sets_json(const struct pc_config *cfg)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < cfg->n_sets; i++)
		json_array_append_new(a, set_summary_json(cfg->sets[i]));
	return a;
}

/* "offset" and "limit" of a paged read: a window of n items, of at most
 * READ_PAGE_MAX whatever the client asks, so that no answer keeps the
 * daemon from its other clients for long; a client wanting more asks
 * for the next page. */
void page_args(json_t *args, size_t n, size_t *from, size_t *to)
{
	json_int_t off = json_integer_value(json_object_get(args, "offset"));
	json_t *lim = json_object_get(args, "limit");
	size_t max = READ_PAGE_MAX;

	if (json_is_integer(lim) && json_integer_value(lim) >= 0 &&
	    (size_t)json_integer_value(lim) < max)
		max = (size_t)json_integer_value(lim);
	*from = off > 0 && (size_t)off < n ? (size_t)off : off > 0 ? n : 0;
	*to = n - *from > max ? *from + max : n;
}

/* status with "set": NAME: that set's entries, a page at a time. */
static int set_entries_reply(struct daemon *dm, json_t *args, const char *name,
			     struct pc_reply *reply)
{
	const struct pc_addrset *s = pc_config_set(dm->applied->cfg, name);
	json_t *a, *o;
	size_t from, to;
	char buf[64];

	if (!s)
		return reply_set(reply, PC_STATUS_USAGE, "no set named '%s'", name);
	page_args(args, s->n_addrs, &from, &to);
	a = json_array();
	for (size_t i = from; a && i < to; i++)
		if (pc_prefix_format(&s->addrs[i], buf, sizeof(buf)) >= 0)
			json_array_append_new(a, json_string(buf));
	o = set_summary_json(s);
	if (!a || !o || json_object_set_new(o, "elements", a) < 0 ||
	    json_object_set_new(o, "offset", json_integer((json_int_t)from)) < 0) {
		json_decref(o);
		return -ENOMEM;
	}
	reply->data = json_pack("{s:o,s:I}", "set", o, "generation",
				(json_int_t)readout_generation(dm));
	return reply->data ? reply_set(reply, PC_STATUS_OK, "%s", "") : -ENOMEM;
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

		json_array_append_new(a, json_pack("{s:s,s:o,s:s,s:s?,s:i}", "name", s->name,
						   "ports", ports_json(s->ports, s->n_ports),
						   "origin", origin_name(s->origin), "file",
						   s->loc.file, "line", (int)s->loc.line));
	}
	reply->data = json_pack("{s:o}", "services", a);
	return reply_set(reply, PC_STATUS_OK, "%s", "");
}

static int cmd_status(struct daemon *dm, const struct pc_peer *peer, json_t *args,
		      struct pc_reply *reply)
{
	_cleanup_free_ uint64_t *packets = NULL, *bytes = NULL;
	const char *set = json_string_value(json_object_get(args, "set"));
	const struct pc_config *cfg;
	size_t from, to, k = 0;
	json_t *rules;
	int r;

	if (need_model(dm, reply) < 0)
		return 0;
	cfg = dm->applied->cfg;
	if (set)
		return set_entries_reply(dm, args, set, reply);
	page_args(args, cfg->n_rules, &from, &to);
	packets = calloc(to - from + 1, sizeof(*packets));
	bytes = calloc(to - from + 1, sizeof(*bytes));
	rules = json_array();
	if (!packets || !bytes || !rules) {
		json_decref(rules);
		return -ENOMEM;
	}
	r = rule_counters_page(dm, from, to, packets, bytes);
	if (r < 0)
		log_warning_errno(r, "cannot read counters from the kernel: %m");
	/* Temporary rules are counted among the runtime rules from the start. */
	for (size_t i = 0; i < from; i++)
		(void)runtime_rule_expires(&dm->runtime, &cfg->rules[i], &k);
	for (size_t i = from; i < to; i++) {
		json_t *rj = rule_json(cfg, i, packets[i - from], bytes[i - from]);
		uint64_t expires = runtime_rule_expires(&dm->runtime, &cfg->rules[i], &k);
		uint64_t now = time(NULL);

		/* A temporary rule: the seconds it has left. */
		if (rj && expires)
			json_object_set_new(rj, "expires_in",
					    json_integer(expires > now ? (json_int_t)(expires - now)
								       : 0));
		json_array_append_new(rules, rj);
	}
	reply->data = json_pack("{s:s,s:s,s:s,s:b,s:o,s:o,s:I,s:I,s:I,s:o}", "table",
				"inet " PC_TABLE_NAME, "source", source_name(dm->source),
				"default_zone", cfg->zones[cfg->default_zone].name, "counters",
				r >= 0, "zones", zones_json(cfg), "rules", rules, "rules_total",
				(json_int_t)cfg->n_rules, "rules_offset", (json_int_t)from,
				"generation", (json_int_t)readout_generation(dm), "sets",
				sets_json(cfg));
	if (!reply->data)
		return -ENOMEM;
	confirm_status_add(dm, reply->data);
	json_object_set_new(reply->data, "disabled", json_boolean(dm->disabled));
	return reply_set(reply, PC_STATUS_OK, "%s", "");
}

static const struct command commands[] = {
	{"version", cmd_version, false, "the daemon's version and protocol"},
	{"status", cmd_status, false, "zones, rules in order, per-rule counters"},
	{"zones", cmd_zones, false, "the zones in force"},
	{"services", cmd_services, false, "the service names known"},
	{"metrics", cmd_metrics, false, "per-rule counters, bans, applies and drift, for Prometheus"},
	{"reload", cmd_reload, true, "re-read the configuration and apply it atomically"},
	{"allow", cmd_allow, true, "add an allow rule"},
	{"deny", cmd_deny, true, "add a deny rule"},
	{"reject", cmd_reject, true, "add a reject rule"},
	{"limit", cmd_limit, true, "add a rate-limited allow rule"},
	{"forward", cmd_forward, true, "add a port forward (DNAT)"},
	{"masquerade", cmd_masquerade, true, "add a masquerade (source NAT)"},
	{"insert", cmd_insert, true, "add a rule at a position"},
	{"delete", cmd_delete, true, "remove a rule by number, text or comment"},
	{"zone", cmd_zone, true, "define or replace a zone"},
	{"service", cmd_service, true, "define or replace a service"},
	{"ban", cmd_ban, true, "drop an address ahead of every rule (fail2ban)"},
	{"unban", cmd_unban, true, "lift a ban"},
	{"apply", cmd_apply, true, "reload; with \"confirm\", roll back unless confirmed in time"},
	{"confirm", cmd_confirm, true, "keep the rules of a pending apply --confirm"},
	{"panic", cmd_panic, true, "drop everything but loopback, or restore the rules"},
	{"disable", cmd_disable, true, "take our table out of the kernel until enable"},
	{"enable", cmd_enable, true, "put the rules back after disable"},
	{"explain", cmd_explain, false, "which zone and rule decide a packet, and why"},
	{"export", cmd_export, false, "the configuration in force as one rules file"},
	{"watch", cmd_watch, false, "stream the packets logged rules and log-denied zones deny"},
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
	if (cmd->needs_write && (panic_refuses(dm, cmd->name, reply) ||
				 disabled_refuses(dm, cmd->name, req->args, reply) ||
				 pending_refuses(dm, cmd->name, reply)))
		return;
	log_debug("uid %u pid %d: %s", peer->uid, (int)peer->pid, cmd->name);
	r = cmd->run(dm, peer, req->args, reply);
	if (r < 0) {
		log_error_errno(r, "%s: %m", cmd->name);
		reply_set(reply, PC_STATUS_FAILURE, "%s failed: %s", cmd->name, strerror(-r));
	} else if (cmd->needs_write) {
		disabled_note(dm, cmd->name, reply);
	}
}
