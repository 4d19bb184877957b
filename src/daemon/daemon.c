/* portctld's serve mode: start-up in the order privilege demands (socket
 * and netlink first, then drop to CAP_NET_ADMIN), the first apply with its
 * fallbacks, readiness, and the loop. */
#include "config.h"

#include <errno.h>
#include <malloc.h>
#include <grp.h>
#include <stdio.h>

#include "commands.h"
#include "drift.h"
#include "log.h"
#include "portctl/daemon.h"

#define SAFE_POLICY_NAME "built-in safe policy"
/* The preamble (loopback, established, ICMP) is always compiled in; this
 * adds SSH so the machine stays reachable, and drops everything else. */
#define SAFE_POLICY_TEXT                                                                           \
	"zone public policy in drop default\n"                                                     \
	"allow 22/tcp comment \"portctld safe policy\"\n"

void diags_log(const struct pc_diags *d)
{
	for (size_t i = 0; i < d->n; i++) {
		const struct pc_diag *g = &d->items[i];

		log_full_errno(g->severity == PC_SEV_ERROR ? PC_LOG_ERR : PC_LOG_WARNING, 0,
			       "%s:%u:%u: %s%s%s%s", g->loc.file ? g->loc.file : "portctld",
			       g->loc.line, g->loc.col, g->message, g->hint ? " (hint: " : "",
			       g->hint ? g->hint : "", g->hint ? ")" : "");
	}
	if (d->n_dropped)
		log_error("... and %zu more diagnostics", d->n_dropped);
}

/* socket-group is a group name or, for hosts and demos without one, a
 * numeric gid. */
static bool group_resolve(const char *name, gid_t *gid)
{
	struct group *gr = getgrnam(name);
	unsigned long v;
	char *end;

	if (gr) {
		*gid = gr->gr_gid;
		return true;
	}
	errno = 0;
	v = strtoul(name, &end, 10);
	if (*name < '0' || *name > '9' || *end || errno || v >= (gid_t)-1)
		return false;
	*gid = (gid_t)v;
	return true;
}

static void settings_take(struct daemon *dm, const struct pc_settings *s)
{
	const char *group = s->group ? s->group : "portctl";

	dm->cli_changes = s->cli_changes;
	dm->table_owner = s->table_owner;
	dm->have_group = group_resolve(group, &dm->group);
	if (!dm->have_group)
		log_notice("group '%s' does not exist: only root may change rules", group);
	if (dm->log_level_override < 0)
		log_set_max_level(s->log_level);
}

static bool write_group(void *userdata, gid_t *gid)
{
	struct daemon *dm = userdata;

	*gid = dm->group;
	return dm->have_group;
}

static void on_sighup(void *userdata)
{
	bans_model_refresh(userdata);
	daemon_reload(userdata, NULL);
}

static uint64_t on_deadline(void *userdata)
{
	uint64_t c = confirm_deadline(userdata), d = drift_deadline(userdata);

	return c < d ? c : d;
}

static void on_expire(void *userdata)
{
	bans_model_refresh(userdata);
	confirm_expire(userdata);
	drift_expire(userdata);
}

static const struct pc_server_ops server_ops = {
	.request = daemon_request,
	.reload = on_sighup,
	.write_group = write_group,
	.deadline = on_deadline,
	.expire = on_expire,
};

/* The state directory's copy of the last configuration that applied. */
static int last_good_prepare(struct daemon *dm, struct pc_applied **out)
{
	char buf[8192];
	struct pc_paths snap;
	struct pc_diags d;
	int r;

	*out = NULL;
	r = pc_state_paths(&dm->paths, &snap, buf, sizeof(buf));
	if (r < 0)
		return r;
	pc_diags_init(&d);
	r = pc_apply_prepare(&snap, out, &d);
	if (r < 0) {
		log_warning("the last good copy under %s cannot be used either", dm->paths.state_dir);
		diags_log(&d);
		pc_applied_free(*out);
		*out = NULL;
	}
	pc_diags_free(&d);
	return r;
}

static int safe_policy_prepare(struct pc_applied **out)
{
	struct pc_applied *a = calloc(1, sizeof(*a));
	char *text = strdup(SAFE_POLICY_TEXT);
	struct pc_diags d;
	int r = -ENOMEM;

	*out = a;
	if (!a || !text || !(a->cfg = pc_config_new())) {
		free(text);
		return -ENOMEM;
	}
	pc_diags_init(&d);
	r = pc_parse_buffer(a->cfg, SAFE_POLICY_NAME, text, strlen(SAFE_POLICY_TEXT),
			    PC_ORIGIN_ADMIN, &d);
	if (r >= 0)
		r = pc_config_validate(a->cfg, &d);
	if (r >= 0)
		r = pc_compile(a->cfg, &a->ruleset, &d);
	diags_log(&d);
	pc_diags_free(&d);
	return r;
}

static int kernel_apply(struct daemon *dm, struct pc_applied *a)
{
	struct pc_diags d;
	int r;

	pc_diags_init(&d);
	r = pc_nl_apply(dm->nl, a->ruleset, NULL, daemon_apply_flags(dm), &d);
	diags_log(&d);
	pc_diags_free(&d);
	return r;
}

static void applied_take(struct daemon *dm, struct pc_applied *a, enum daemon_source source)
{
	pc_applied_free(dm->applied);
	dm->applied = a;
	dm->source = source;
}

/* The files are invalid (or the kernel refused them): keep protecting. */
static int startup_fallback(struct daemon *dm)
{
	struct pc_applied *a = NULL;
	int r = pc_nl_table_exists(dm->nl);

	if (r > 0) {
		log_error("keeping the rules the kernel holds in table inet portctl");
		if (last_good_prepare(dm, &a) >= 0)
			applied_take(dm, a, SOURCE_LAST_GOOD);
		else
			dm->source = SOURCE_KERNEL;
		return 0;
	}
	if (last_good_prepare(dm, &a) >= 0 && kernel_apply(dm, a) >= 0) {
		log_error("THE KERNEL HELD NO RULES OF OURS: loaded the last configuration that "
			  "applied cleanly, from %s/last-good; fix the files and run 'portctl reload'",
			  dm->paths.state_dir);
		applied_take(dm, a, SOURCE_LAST_GOOD);
		return 0;
	}
	pc_applied_free(a);
	r = safe_policy_prepare(&a);
	if (r >= 0)
		r = kernel_apply(dm, a);
	if (r < 0) {
		pc_applied_free(a);
		return log_error_errno(r, "cannot load even the safe policy: %m");
	}
	log_error("SAFE POLICY ACTIVE: no valid configuration and no last good copy; inbound "
		  "traffic is dropped except SSH (22/tcp), loopback and established "
		  "connections. Fix the files and run 'portctl reload'");
	applied_take(dm, a, SOURCE_SAFE);
	return 0;
}

static int startup_apply(struct daemon *dm, struct pc_applied *pre, int prepared)
{
	int r = prepared;

	if (r >= 0)
		r = kernel_apply(dm, pre);
	if (r < 0) {
		log_error("the configuration in %s was not applied", dm->paths.sysconf_dir);
		pc_applied_free(pre);
		return startup_fallback(dm);
	}
	r = pc_state_save(&dm->paths, pre->cfg);
	if (r < 0)
		log_warning_errno(r, "cannot save the last good configuration: %m");
	log_info("configuration applied: %zu rules in %zu zones", pre->cfg->n_rules,
		 pre->cfg->n_zones);
	applied_take(dm, pre, SOURCE_FILES);
	return 0;
}

/* Load the files first: the socket's mode and group come from them. */
static int startup_prepare(struct daemon *dm, struct pc_applied **pre)
{
	struct pc_diags d;
	struct pc_config *defaults;
	int r;

	pc_diags_init(&d);
	r = pc_apply_prepare(&dm->paths, pre, &d);
	if (*pre && (*pre)->cfg)
		settings_take(dm, &(*pre)->cfg->settings);
	else if ((defaults = pc_config_new())) {
		settings_take(dm, &defaults->settings);
		pc_config_free(defaults);
	}
	if (r < 0) {
		diags_log(&d);
		log_error_errno(r, "the configuration is invalid: %m");
	}
	pc_diags_free(&d);
	return r;
}

/* Before dropping privileges: the subscription needs CAP_NET_ADMIN. Without
 * it the daemon still works; it just cannot notice foreign edits. */
static void drift_start(struct daemon *dm)
{
	int r = drift_open(&dm->drift);

	if (r >= 0)
		r = server_watch(dm->server, drift_fd(dm->drift), drift_event, dm);
	if (r < 0) {
		log_warning_errno(r, "cannot watch nftables events, drift goes unnoticed: %m");
		drift_free(dm->drift);
		dm->drift = NULL;
	}
}

static void daemon_done(struct daemon *dm)
{
	trust_done(dm);
	server_free(dm->server);
	drift_free(dm->drift);
	pc_applied_free(dm->applied);
	daemon_runtime_clear(dm);
	bans_clear(dm);
	/* The table stays: OWNER|PERSIST keeps it after the socket closes. */
	pc_nl_close(dm->nl);
}

int pc_daemon_run(const struct pc_daemon_args *args)
{
	struct daemon dm = {.paths = args->paths, .log_level_override = args->log_level};
	struct pc_applied *pre = NULL;
	mode_t mode;
	int prepared, r;

	if (args->log_level >= 0)
		log_set_max_level((enum pc_log_level)args->log_level);
	prepared = startup_prepare(&dm, &pre);
	mode = pre && pre->cfg ? pre->cfg->settings.socket_mode : 0666;
	r = server_new(dm.paths.socket_path, mode, dm.group, dm.have_group, &server_ops, &dm,
		       &dm.server);
	if (r >= 0) {
		r = pc_nl_open(&dm.nl);
		if (r < 0)
			log_error_errno(r, "cannot open the nftables netlink socket: %m");
	}
	if (r >= 0)
		drift_start(&dm);
	if (r >= 0)
		r = privs_drop();
	/* A rollback left pending, or panic mode, decides what goes in first. */
	if (r >= 0)
		r = trust_startup(&dm, &pre, prepared);
	if (r == 0)
		r = startup_apply(&dm, TAKE_PTR(pre), prepared);
	if (r >= 0) {
		r = notify_send("READY=1\nSTATUS=serving");
		if (r < 0)
			log_warning_errno(r, "cannot notify systemd: %m");
		log_info("listening on %s", dm.paths.socket_path);
		/* The start-up compile's freed heap goes back (see daemon_request). */
		malloc_trim(0);
		r = server_run(dm.server);
	}
	pc_applied_free(pre);
	daemon_done(&dm);
	return r < 0 ? r : 0;
}
