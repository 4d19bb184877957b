/* portctld's serve mode: start-up in the order privilege demands (socket
 * and netlink first, then the privileged writer, then the drop to the
 * daemon's user with CAP_NET_ADMIN), the first apply with its fallbacks,
 * readiness, and the loop. */
#include "config.h"

#include <errno.h>
#include <malloc.h>
#include <grp.h>
#include <limits.h>
#include <stdio.h>
#include <time.h>

#include "handlers.h"
#include "drift.h"
#include "lock.h"
#include "log.h"
#include "memory.h"
#include "persist.h"
#include "portctl/daemon.h"
#include "privsep.h"
#include "temporary.h"

#define SAFE_POLICY_NAME "built-in safe policy"
/* The preamble (loopback, established, ICMP) is always compiled in; this
 * adds SSH so the machine stays reachable, and drops everything else. */
#define SAFE_POLICY_TEXT                                                                           \
	"zone public policy in drop default\n"                                                     \
	"allow 22/tcp comment \"portctld safe policy\"\n"

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
	dm->bans_allowed = s->bans;
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
	confirm_reload(userdata);
}

/* The earlier of a pending confirmation's deadline and a ban's expiry. */
static uint64_t on_deadline(void *userdata)
{
	uint64_t confirm = confirm_deadline(userdata), bans = bans_deadline(userdata);
	uint64_t drift = drift_deadline(userdata), first = confirm < bans ? confirm : bans;
	uint64_t temp = temporary_deadline(userdata);

	first = first < temp ? first : temp;
	first = first < drift ? first : drift;
	return first < pc_state_save_due() ? first : pc_state_save_due();
}

/* The last good copy's write, left for after the reply (pc_state_save). */
static void state_copy_flush(void)
{
	int r = pc_state_flush();

	if (r < 0)
		log_warning_errno(r, "cannot save the last good configuration: %m");
}

static void on_expire(void *userdata)
{
	confirm_expire(userdata);
	if (bans_deadline(userdata) <= pc_now_ms())
		bans_expire_due(userdata);
	if (temporary_deadline(userdata) <= pc_now_ms())
		temporary_expire_due(userdata);
	drift_expire(userdata);
	if (pc_state_save_due() <= pc_now_ms())
		state_copy_flush();
}

static const struct pc_server_ops server_ops = {
	.request = daemon_request,
	.reload = on_sighup,
	.write_group = write_group,
	.deadline = on_deadline,
	.expire = on_expire,
};

static int safe_policy(struct pc_config **out)
{
	char *text = strdup(SAFE_POLICY_TEXT);
	struct pc_diags d;
	int r;

	*out = pc_config_new();
	if (!text || !*out) {
		free(text);
		return -ENOMEM;
	}
	pc_diags_init(&d);
	r = pc_parse_buffer(*out, SAFE_POLICY_NAME, text, strlen(SAFE_POLICY_TEXT),
			    PC_ORIGIN_ADMIN, &d);
	if (r >= 0)
		r = pc_config_validate(*out, &d);
	diags_log(&d);
	pc_diags_free(&d);
	return r;
}

/* Start-up's one transaction: cfg (taken) with the bans kept in the
 * state directory (taken when it goes through) and panic mode as it was
 * marked. */
static int startup_commit(struct daemon *dm, struct pc_config *cfg, enum daemon_source source,
			  struct bans *bans)
{
	bool disabled = state_disabled_marked(dm);
	struct next nx = {.cfg = cfg, .source = source, .bans = bans,
			  .panic = !disabled && state_panic_marked(dm), .disable = disabled,
			  .intro = "the configuration was not applied:"};
	struct pc_reply reply = {0};
	int r;

	/* The temporary rules startup_temporary placed in cfg, if any. */
	nx.runtime = dm->runtime;
	dm->runtime = (struct runtime){0};
	r = state_commit(dm, &nx, &reply);
	if (r < 0)
		log_error("%s", reply.message ? reply.message : strerror(-r));
	next_free(&nx);
	free(reply.message);
	json_decref(reply.data);
	return r;
}

/* The temporary rules saved with the time they have left, placed in files
 * and made the model's runtime rules, for the first transaction. */
static int startup_temporary(struct daemon *dm, struct pc_config *files)
{
	struct pc_diags d;
	int r = temporary_load(&dm->paths, (uint64_t)time(NULL), &dm->runtime);

	if (r < 0 && r != -ENOMEM) {
		log_error_errno(r, "the temporary rules under %s could not be read: %m",
			       dm->paths.state_dir);
		return 0;
	}
	if (r < 0 || dm->runtime.n == 0)
		return r;
	pc_diags_init(&d);
	r = runtime_place(&dm->paths, files, &dm->runtime, &d);
	diags_log(&d);
	pc_diags_free(&d);
	if (r >= 0)
		log_info("%zu temporary rule(s) kept from before the restart", dm->runtime.n);
	return r;
}

/* The files with the temporary rules did not apply: a temporary rule may
 * name what the files no longer define. The files alone, then. */
static int startup_without_temporary(struct daemon *dm, struct bans *bans)
{
	struct pc_config *files = NULL;
	struct pc_diags d;
	int r;

	log_error("the configuration with the temporary rules did not apply: the temporary "
		  "rules are left out");
	runtime_clear(&dm->runtime);
	pc_diags_init(&d);
	r = pc_config_load(&dm->paths, &files, &d);
	pc_diags_free(&d);
	if (r < 0) {
		pc_config_free(files);
		return r;
	}
	return startup_commit(dm, files, SOURCE_FILES, bans);
}

/* The files are invalid (or the kernel refused them): keep protecting. */
static int startup_fallback(struct daemon *dm, struct bans *bans)
{
	struct pc_config *cfg = NULL;
	int r = state_table_exists(dm);

	if (r > 0) {
		log_error("keeping the rules the kernel holds in table inet portctl");
		dm->panic = state_panic_marked(dm);
		return state_keep(dm, confirm_last_good(dm, &cfg) >= 0 ? cfg : NULL,
				  SOURCE_LAST_GOOD, bans);
	}
	if (confirm_last_good(dm, &cfg) >= 0 &&
	    startup_commit(dm, cfg, SOURCE_LAST_GOOD, bans) >= 0) {
		log_error("THE KERNEL HELD NO RULES OF OURS: loaded the last configuration that "
			  "applied cleanly, from %s/last-good; fix the files and run 'portctl reload'",
			  dm->paths.state_dir);
		return 0;
	}
	r = safe_policy(&cfg);
	if (r >= 0)
		r = startup_commit(dm, TAKE_PTR(cfg), SOURCE_SAFE, bans);
	pc_config_free(cfg);
	if (r < 0)
		return log_error_errno(r, "cannot load even the safe policy: %m");
	log_error("SAFE POLICY ACTIVE: no valid configuration and no last good copy; inbound "
		  "traffic is dropped except SSH (22/tcp), loopback and established "
		  "connections. Fix the files and run 'portctl reload'");
	return 0;
}

/*
 * The first transaction: an unconfirmed apply's rollback if one was left
 * pending, else the files, with the bans and panic mode as they were; if
 * that fails, the fallbacks. Takes files.
 */
static int startup_apply(struct daemon *dm, struct pc_config *files, int prepared)
{
	struct pc_config *rollback = NULL;
	struct bans bans = {0};
	int r = bans_load(&dm->paths, &bans);

	if (r < 0)
		log_error_errno(r, "the bans under %s could not be read: %m", dm->paths.state_dir);
	if (bans_expire(&bans, (uint64_t)time(NULL)))
		log_info("bans that expired while portctld was stopped are lifted");
	r = confirm_startup(dm, &rollback);
	if (r > 0) {
		pc_config_free(files);
		r = startup_commit(dm, rollback, SOURCE_ROLLBACK, &bans);
		if (r >= 0)
			log_error("ROLLED BACK: the rules in force before the unconfirmed apply are "
				  "back; the files in %s still hold the unconfirmed change",
				  dm->paths.sysconf_dir);
	} else if (r == 0 && prepared >= 0) {
		size_t n_temporary;

		r = startup_temporary(dm, files);
		n_temporary = dm->runtime.n;
		if (r < 0)
			pc_config_free(files);
		else
			r = startup_commit(dm, files, SOURCE_FILES, &bans);
		if (r < 0 && r != -ENOMEM && n_temporary)
			r = startup_without_temporary(dm, &bans);
		if (r >= 0)
			log_info("configuration applied: %zu rules in %zu zones",
				 dm->applied->cfg->n_rules, dm->applied->cfg->n_zones);
	} else {
		pc_config_free(files);
		r = r < 0 ? r : -EINVAL;
	}
	if (r < 0 && r != -ENOMEM) {
		log_error("the configuration in %s was not applied", dm->paths.sysconf_dir);
		r = startup_fallback(dm, &bans);
	}
	if (r >= 0 && dm->disabled)
		log_warning("portctl is DISABLED (marked in %s): table inet %s is not in the kernel; "
			    "'portctl enable' puts the rules back",
			    dm->paths.state_dir, PC_TABLE_NAME);
	if (r >= 0 && dm->panic)
		log_error("PANIC MODE is on (marked in %s): every packet but loopback is dropped; "
			  "'portctl panic off' puts the rules back",
			  dm->paths.state_dir);
	bans_clear(&bans);
	return r;
}

/* As root, before the drop: portctl.conf alone, for the socket's mode and
 * group. Everything else is read after the drop, as the daemon's user, as
 * every reload reads it: a file only root may read is refused at start too. */
static mode_t startup_settings(struct daemon *dm)
{
	_cleanup_free_ char *path = NULL;
	struct pc_config *cfg = pc_config_new();
	char *data = NULL;
	struct pc_diags d;
	size_t len;
	mode_t mode;

	if (!cfg)
		return 0666;
	pc_diags_init(&d);
	/* Errors are reported when the whole configuration is loaded. */
	if (asprintf(&path, "%s/portctl.conf", dm->paths.sysconf_dir) >= 0 &&
	    pc_read_file(path, 1024 * 1024, &data, &len) >= 0)
		(void)pc_settings_parse(cfg, path, data, len, &d);
	dm->have_group =
		group_resolve(cfg->settings.group ? cfg->settings.group : "portctl", &dm->group);
	mode = cfg->settings.socket_mode;
	pc_diags_free(&d);
	pc_config_free(cfg);
	return mode;
}

/* Become the daemon's user; what needs root comes first: the state
 * directory handed over, and the writer of the CLI rules file forked. */
static int privileges_drop(struct daemon *dm, const struct privs_user *user)
{
	char path90[PATH_MAX];
	int r;

	if (user->change) {
		if (snprintf(path90, sizeof(path90), "%s/rules.d/%s", dm->paths.sysconf_dir,
			     PC_CLI_RULES_FILE) >= (int)sizeof(path90))
			return log_error_errno(-ENAMETOOLONG, "configuration path too long");
		/* Without it the rules still go in; only saving state fails. */
		(void)privs_state_dir_own(dm->paths.state_dir, user);
		r = privsep_start(path90);
		if (r < 0)
			return r;
	}
	memory_prepare();
	return privs_drop_to(user);
}

/* Load the files, as the daemon's user. */
static int startup_prepare(struct daemon *dm, struct pc_config **files)
{
	struct pc_diags d;
	struct pc_config *defaults;
	int r;

	pc_diags_init(&d);
	r = pc_config_load(&dm->paths, files, &d);
	if (r >= 0 && pc_diags_has_errors(&d))
		r = -EINVAL;
	if (*files)
		settings_take(dm, &(*files)->settings);
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

/* After start-up's transaction: while anyone listens, the kernel builds an
 * event for every element of a commit (a third of a cold start with 10,000
 * rules); a commit of others in between is caught up with. The
 * subscription needs the CAP_NET_ADMIN the daemon keeps. Without it the
 * daemon still works; it just cannot notice foreign edits. */
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
	if (dm->drift)
		state_events_hook(dm, drift_quiet);
	drift_catch_up(dm);
}

static void daemon_done(struct daemon *dm)
{
	confirm_done(dm);
	server_free(dm->server);
	drift_free(dm->drift);
	state_done(dm);
	/* The table stays: OWNER|PERSIST keeps it after the socket closes. */
	pc_nl_close(dm->nl);
	privsep_stop();
}

int pc_daemon_run(const struct pc_daemon_args *args)
{
	struct daemon dm = {.paths = args->paths, .log_level_override = args->log_level};
	struct pc_config *files = NULL;
	struct privs_user user;
	int prepared = 0, r;
	_cleanup_close_ int lock_fd = -1;
	mode_t mode;

	dm.stats.started = (uint64_t)time(NULL);
	/* No fast bins: a compile's or a table read's many small frees would
	 * otherwise be consolidated, all of them, by the next large malloc,
	 * in some later change's time (half a millisecond at 10,000 rules). */
	mallopt(M_MXFAST, 0);
	if (args->log_level >= 0)
		log_set_max_level((enum pc_log_level)args->log_level);
	/* Before the socket and the kernel; released after daemon_done. */
	lock_fd = daemon_lock_take(dm.paths.socket_path);
	if (lock_fd < 0)
		return lock_fd;
	r = privs_user_lookup(args->user ? args->user : PC_DAEMON_USER, args->user != NULL, &user);
	if (r < 0)
		return r;
	mode = startup_settings(&dm);
	r = server_new(dm.paths.socket_path, mode, dm.group, dm.have_group, &server_ops, &dm,
		       &dm.server);
	if (r >= 0) {
		r = pc_nl_open(&dm.nl);
		if (r < 0)
			log_error_errno(r, "cannot open the nftables netlink socket: %m");
	}
	if (r >= 0)
		r = privileges_drop(&dm, &user);
	if (r >= 0)
		prepared = startup_prepare(&dm, &files);
	if (r >= 0) {
		state_memo_take(&dm);
		r = startup_apply(&dm, TAKE_PTR(files), prepared);
	}
	if (r >= 0)
		drift_start(&dm);
	if (r >= 0) {
		r = notify_send("READY=1\nSTATUS=serving");
		if (r < 0)
			log_warning_errno(r, "cannot notify systemd: %m");
		log_info("listening on %s", dm.paths.socket_path);
		/* The start-up compile's freed heap and the code only start-up
		 * ran go back (see daemon_request). */
		memory_release();
		r = server_run(dm.server);
		state_copy_flush();
		if (r >= 0)
			state_memo_keep(&dm);
	}
	pc_config_free(files);
	daemon_done(&dm);
	return r < 0 ? r : 0;
}
