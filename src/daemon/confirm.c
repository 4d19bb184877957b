/* reload, apply [--confirm SECONDS] and confirm: the files become the next
 * desired state; with --confirm the state in force before is kept, on disk
 * first, and put back through the same path unless "portctl confirm"
 * arrives in time (a restart during the window rolls back too). */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "temporary.h"
#include "persist.h"
#include "handlers.h"

/* Under the state directory: the previous configuration (laid out like
 * last-good) and, written after it, the marker that says a rollback is due. */
#define PENDING_NAME "pending-confirm"
#define PENDING_MARKER "pending-confirm.json"
/* pc_state_save's copy; a rollback makes the previous rules the last good. */
#define LAST_GOOD_NAME "last-good"
/* A day: anything longer is a typo, not a trial. */
#define CONFIRM_MAX_SECONDS 86400

static void pending_free(struct pending *p)
{
	if (!p)
		return;
	pc_config_free(p->previous);
	runtime_clear(&p->runtime);
	free(p);
}

/* Where cfg was read from: the files, or the state directory's last good
 * copy (after a start-up fallback or a rollback at start-up). */
static int cfg_origin(const struct daemon *dm, const struct pc_config *cfg, struct pc_paths *out,
		      char *buf, size_t size)
{
	int r = pc_state_paths(&dm->paths, out, buf, size);
	size_t n = r < 0 ? 0 : strlen(out->sysconf_dir);

	for (size_t i = 0; r >= 0 && i < cfg->sources.n; i++) {
		const char *name = cfg->sources.items[i].name;

		if (!strncmp(name, out->sysconf_dir, n) && name[n] == '/')
			return 0;
	}
	*out = dm->paths;
	return 0;
}

/* Forget a rollback on disk: the marker first, so a crash in between
 * leaves no marker pointing at a half-removed copy. */
static void pending_forget_disk(const struct daemon *dm)
{
	char path[PATH_MAX];
	int r = state_file_remove(&dm->paths, PENDING_MARKER);

	if (r < 0)
		log_warning_errno(r, "cannot remove %s/%s: %m", dm->paths.state_dir, PENDING_MARKER);
	if (state_file_path(&dm->paths, PENDING_NAME, path, sizeof(path)) >= 0)
		(void)pc_state_remove_tree(path);
}

static int pending_persist(const struct daemon *dm, const struct pending *p)
{
	char buf[PATH_MAX * 2];
	_cleanup_free_ char *text = NULL;
	struct pc_paths from;
	json_t *meta;
	int r;

	r = cfg_origin(dm, p->previous, &from, buf, sizeof(buf));
	if (r >= 0)
		r = pc_state_save_named(&dm->paths, &from, PENDING_NAME, p->previous);
	if (r < 0)
		return r;
	meta = json_pack("{s:i,s:I,s:i}", "seconds", (int)p->seconds, "deadline",
			 (json_int_t)p->deadline_wall, "uid", (int)p->uid);
	text = meta ? json_dumps(meta, JSON_COMPACT) : NULL;
	json_decref(meta);
	if (!text)
		return -ENOMEM;
	return state_file_write(&dm->paths, PENDING_MARKER, text);
}

static int args_seconds(json_t *args, unsigned *out, struct pc_reply *reply)
{
	json_t *v = json_object_get(args, "confirm");

	*out = 0;
	if (!v)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < 1 ||
	    json_integer_value(v) > CONFIRM_MAX_SECONDS) {
		reply_set(reply, PC_STATUS_USAGE, "\"confirm\" must be 1 to %d seconds",
			  CONFIRM_MAX_SECONDS);
		return -EINVAL;
	}
	*out = (unsigned)json_integer_value(v);
	return 0;
}

/* The seconds a pending apply --confirm has left. */
static unsigned long long pending_left(const struct pending *p)
{
	uint64_t now = pc_now_ms();

	return p->deadline > now ? (p->deadline - now + 999) / 1000 : 0;
}

/* The commands that change rules go on while an apply --confirm is
 * pending but these: a rule made meanwhile would be taken out of the
 * kernel by the rollback (a temporary one for good), its "added" reply
 * silently untrue. Bans are kept through a rollback; confirm, panic,
 * disable and enable, and apply and reload (which say so themselves),
 * have their own answers. As panic_refuses, by the commands let through,
 * so that a command that changes rules is refused unless said here. */
static const char *const pending_allowed[] = {
	"ban", "unban", "confirm", "panic", "disable", "enable", "apply", "reload",
};

bool pending_refuses(const struct daemon *dm, const char *cmd, struct pc_reply *reply)
{
	bool refused = dm->pending != NULL;

	for (size_t i = 0; refused && i < ARRAY_SIZE(pending_allowed); i++)
		refused = !streq(cmd, pending_allowed[i]);
	if (refused)
		reply_set(reply, PC_STATUS_FAILURE,
			  "an 'apply --confirm' is waiting (%llu s left), and '%s' would be rolled "
			  "back with it: run 'portctl confirm' to keep it, or let it roll back, then "
			  "try again",
			  pending_left(dm->pending), cmd);
	return refused;
}

/* apply --confirm rolls back to a model of what the kernel holds. */
static int confirm_possible(const struct daemon *dm, struct pc_reply *reply)
{
	if (dm->pending) {
		reply_set(reply, PC_STATUS_FAILURE,
			  "an 'apply --confirm' is already waiting (%llu s left): run 'portctl "
			  "confirm' to keep it, or let it roll back, then try again",
			  pending_left(dm->pending));
		return -EBUSY;
	}
	if (!dm->applied || !dm->applied->cfg || dm->source == SOURCE_SAFE ||
	    dm->source == SOURCE_KERNEL) {
		reply_set(reply, PC_STATUS_FAILURE,
			  "apply --confirm needs a configuration to roll back to, and the rules "
			  "in force are the %s: apply the files with 'portctl reload' instead",
			  dm->source == SOURCE_SAFE
			      ? "built-in safe policy"
			      : "kernel's, kept without a valid configuration");
		return -ENODATA;
	}
	return 0;
}

/* Keep the files and runtime rules in force, to put them back when time
 * runs out (the bans in force then are composed in as always). */
static int pending_new(const struct daemon *dm, unsigned seconds, uid_t uid,
		       struct pending **out)
{
	struct pending *p = calloc(1, sizeof(*p));
	struct pc_diags d;
	int r;

	*out = p;
	if (!p)
		return -ENOMEM;
	pc_diags_init(&d);
	r = config_from_sources(&dm->paths, dm->applied->cfg, &p->previous, &d);
	pc_diags_free(&d);
	if (r >= 0)
		r = runtime_copy(&dm->runtime, &p->runtime);
	p->source = dm->source;
	p->seconds = seconds;
	p->uid = uid;
	p->deadline = pc_now_ms() + (uint64_t)seconds * 1000;
	p->deadline_wall = time(NULL) + seconds;
	return r;
}

static void apply_reply(struct pc_reply *reply, const struct pc_applied *a, const struct pending *p,
			const char *warning)
{
	char when[32] = "";
	struct tm tm;

	if (!p) {
		reply_set(reply, PC_STATUS_OK, "reloaded: %zu rules in %zu zones applied%s%s",
			  a->cfg->n_rules, a->cfg->n_zones, warning ? "\nwarning: " : "",
			  warning ? warning : "");
		return;
	}
	if (localtime_r(&p->deadline_wall, &tm))
		strftime(when, sizeof(when), "%H:%M:%S", &tm);
	reply_set(reply, PC_STATUS_OK,
		  "applied: %zu rules in %zu zones, on trial for %u seconds.\n"
		  "Run 'portctl confirm' before %s to keep them. Otherwise portctld restores the "
		  "previous rules in one transaction: that restores their effect in the kernel, "
		  "not the files, which stay as you edited them (fix them before the next "
		  "reload).%s%s",
		  a->cfg->n_rules, a->cfg->n_zones, p->seconds, when, warning ? "\nwarning: " : "",
		  warning ? warning : "");
	json_decref(reply->data);
	reply->data = json_pack("{s:i,s:I}", "confirm_seconds", (int)p->seconds, "deadline",
				(json_int_t)p->deadline_wall);
}

/* The files as they are now, as the next desired state (runtime rules are
 * dropped by a reload, temporary ones kept until they expire). */
static int files_apply(struct daemon *dm, const struct guard_opts *g, struct pending *p,
		       char **warning, struct pc_reply *reply)
{
	struct next nx = {.source = SOURCE_FILES, .panic = -1, .guard = g, .warning = warning};
	size_t n_runtime = dm->runtime.n;
	struct pc_diags d;
	int r;

	pc_diags_init(&d);
	r = pc_config_load(&dm->paths, &nx.cfg, &d);
	if (r == -ENOMEM)
		goto out;
	if (r < 0 || pc_diags_has_errors(&d)) {
		diags_log(&d);
		reply_diags(reply, PC_STATUS_USAGE,
			    "reload refused, nothing changed: fix these errors and run 'portctl "
			    "reload' again",
			    &d, nx.cfg);
		log_error("reload failed, the previous rules stay in force");
		r = -ECANCELED;
		goto out;
	}
	nx.intro = "reload refused, nothing changed: fix these errors and run 'portctl reload' "
		   "again";
	r = temporary_place(dm, nx.cfg, &nx.runtime, &d);
	if (r < 0 && r != -ENOMEM) {
		reply_diags(reply, PC_STATUS_USAGE,
			    "reload refused, nothing changed: a temporary rule does not fit the "
			    "files; delete it first:",
			    &d, nx.cfg);
		r = -ECANCELED;
	}
	if (r < 0)
		goto out;
	n_runtime -= nx.runtime.n;
	if (p) {
		r = pending_persist(dm, p);
		if (r < 0) {
			reply_set(reply, PC_STATUS_FAILURE,
				  "cannot save the rollback copy under %s (%s): nothing changed",
				  dm->paths.state_dir, strerror(-r));
			pending_forget_disk(dm);
			r = -ECANCELED;
			goto out;
		}
	}
	r = state_commit(dm, &nx, reply);
	if (r < 0) {
		if (p)
			pending_forget_disk(dm);
		log_error("reload failed, the previous rules stay in force");
		goto out;
	}
	if (n_runtime > 0)
		log_notice("reload dropped %zu runtime rule(s)", n_runtime);
	log_info("configuration applied: %zu rules, %zu zones", dm->applied->cfg->n_rules,
		 dm->applied->cfg->n_zones);
out:
	next_free(&nx);
	pc_diags_free(&d);
	return r;
}

int cmd_apply(struct daemon *dm, const struct pc_peer *peer, json_t *args, struct pc_reply *reply)
{
	_cleanup_free_ char *warning = NULL;
	struct pending *p = NULL;
	struct guard_opts g;
	unsigned seconds;
	int r;

	guard_opts_from_args(args, &g);
	g.can_confirm = true;
	if (args_seconds(args, &seconds, reply) < 0 || (seconds && confirm_possible(dm, reply) < 0))
		return 0;
	g.confirm = seconds > 0;
	if (seconds) {
		r = pending_new(dm, seconds, peer->uid, &p);
		if (r < 0) {
			pending_free(p);
			return r;
		}
	}
	r = files_apply(dm, &g, p, &warning, reply);
	if (r < 0) {
		pending_free(p);
		return r == -ECANCELED ? 0 : r;
	}
	if (p) {
		dm->pending = p;
		log_notice("uid %u: apply --confirm %u: the previous rules come back unless "
			   "confirmed in time",
			   peer->uid, seconds);
	}
	apply_reply(reply, dm->applied, p, warning);
	return 0;
}

/* From the CLI a reload is an apply without --confirm: the lock-out
 * guard sees it (SIGHUP comes through confirm_reload, with no session). */
int cmd_reload(struct daemon *dm, const struct pc_peer *peer, json_t *args,
	       struct pc_reply *reply)
{
	json_object_del(args, "confirm");
	return cmd_apply(dm, peer, args, reply);
}

void confirm_reload(struct daemon *dm)
{
	struct pc_reply reply = {0};

	if (dm->panic)
		log_warning("panic mode is on: the reload (SIGHUP) is refused; 'portctl panic off' "
			    "first");
	else
		files_apply(dm, NULL, NULL, NULL, &reply);
	free(reply.message);
	json_decref(reply.data);
}

int cmd_confirm(struct daemon *dm, const struct pc_peer *peer, json_t *args, struct pc_reply *reply)
{
	if (!dm->pending)
		return reply_set(reply, PC_STATUS_FAILURE,
				 "nothing to confirm: no 'apply --confirm' is waiting (a rollback "
				 "may already have happened: see 'portctl status')");
	pending_forget_disk(dm);
	pending_free(TAKE_PTR(dm->pending));
	log_notice("uid %u: confirmed, the rules applied by 'apply --confirm' stay", peer->uid);
	return reply_set(reply, PC_STATUS_OK, "confirmed: the rules in force stay");
}

uint64_t confirm_deadline(const struct daemon *dm)
{
	return dm->pending ? dm->pending->deadline : UINT64_MAX;
}

/* Make p's files and runtime rules the desired state again. */
static int rollback(struct daemon *dm, struct pending *p)
{
	struct next nx = {.panic = -1, .intro = "the rollback was refused:"};
	struct pc_reply reply = {0};
	char buf[PATH_MAX * 2];
	struct pc_paths from;
	struct pc_diags d;
	int r;

	nx.source = p->source == SOURCE_FILES ? SOURCE_ROLLBACK : p->source;
	pc_diags_init(&d);
	r = config_from_sources(&dm->paths, p->previous, &nx.cfg, &d);
	if (r >= 0)
		r = runtime_copy(&p->runtime, &nx.runtime);
	if (r >= 0)
		r = runtime_place(&dm->paths, nx.cfg, &nx.runtime, &d);
	diags_log(&d);
	pc_diags_free(&d);
	if (r >= 0)
		r = state_commit(dm, &nx, &reply);
	next_free(&nx);
	if (r < 0)
		log_error("rollback: %s", reply.message ? reply.message : strerror(-r));
	free(reply.message);
	json_decref(reply.data);
	if (r < 0)
		return r;
	if (cfg_origin(dm, dm->applied->cfg, &from, buf, sizeof(buf)) < 0 ||
	    pc_state_save_named(&dm->paths, &from, LAST_GOOD_NAME, dm->applied->cfg) < 0)
		log_warning("rolled back, but the last-good copy was not updated");
	return 0;
}

void confirm_expire(struct daemon *dm)
{
	struct pending *p = dm->pending;
	int r;

	if (!p || pc_now_ms() < p->deadline)
		return;
	r = rollback(dm, p);
	if (r < 0) {
		/* Keep trying: the promise is that the change does not stay. */
		log_error_errno(r, "ROLLBACK FAILED: %m; trying again in 5 s");
		p->deadline = pc_now_ms() + 5000;
		return;
	}
	log_error("NOT CONFIRMED within %u s: ROLLED BACK to the previous rules in one "
		  "transaction%s; the files in %s still hold the unconfirmed change",
		  p->seconds, dm->panic ? " (panic mode stays on)" : "", dm->paths.sysconf_dir);
	pending_forget_disk(dm);
	pending_free(TAKE_PTR(dm->pending));
}

static void marker_log(const char *path)
{
	json_t *meta = json_load_file(path, 0, NULL);

	log_error("PENDING CONFIRMATION FOUND: portctld stopped while an 'apply --confirm %lld' "
		  "of uid %lld waited for 'portctl confirm'; rolling back to the rules in force "
		  "before it",
		  (long long)json_integer_value(json_object_get(meta, "seconds")),
		  (long long)json_integer_value(json_object_get(meta, "uid")));
	json_decref(meta);
}

/* A configuration copy from the state directory. */
static int state_copy_load(struct daemon *dm, const char *name, struct pc_config **out)
{
	char buf[PATH_MAX * 2];
	struct pc_paths snap;
	struct pc_diags d;
	int r = pc_state_paths_named(&dm->paths, name, &snap, buf, sizeof(buf));

	*out = NULL;
	if (r < 0)
		return r;
	pc_diags_init(&d);
	r = pc_config_load(&snap, out, &d);
	if (r >= 0 && pc_diags_has_errors(&d))
		r = -EINVAL;
	if (r < 0) {
		diags_log(&d);
		pc_config_free(TAKE_PTR(*out));
	}
	pc_diags_free(&d);
	return r;
}

int confirm_startup(struct daemon *dm, struct pc_config **out)
{
	char marker[PATH_MAX], buf[PATH_MAX * 2];
	struct pc_config *cfg = NULL, *again = NULL;
	struct pc_paths snap;
	int r;

	*out = NULL;
	if (state_file_path(&dm->paths, PENDING_MARKER, marker, sizeof(marker)) < 0 ||
	    access(marker, F_OK) < 0)
		return 0;
	marker_log(marker);
	r = state_copy_load(dm, PENDING_NAME, &cfg);
	if (r < 0) {
		log_error_errno(r,
				"the rollback copy under %s/%s cannot be used (%m): starting "
				"from the files instead",
				dm->paths.state_dir, PENDING_NAME);
		pending_forget_disk(dm);
		return r == -ENOMEM ? r : 0;
	}
	/* The copy becomes the last good one, and the model is read from there,
	 * so its file names outlive the pending copy removed next. */
	r = pc_state_paths_named(&dm->paths, PENDING_NAME, &snap, buf, sizeof(buf));
	if (r >= 0)
		r = pc_state_save_named(&dm->paths, &snap, LAST_GOOD_NAME, cfg);
	if (r >= 0 && state_copy_load(dm, LAST_GOOD_NAME, &again) >= 0) {
		pc_config_free(cfg);
		cfg = again;
	}
	pending_forget_disk(dm);
	*out = cfg;
	return 1;
}

int confirm_last_good(struct daemon *dm, struct pc_config **out)
{
	return state_copy_load(dm, LAST_GOOD_NAME, out);
}

void confirm_done(struct daemon *dm)
{
	/* The pending copy stays on disk: the next start rolls back. */
	pending_free(TAKE_PTR(dm->pending));
}

/* How many bans each owner holds: "(admin)" for those without --by. */
static json_t *bans_owners_json(const struct bans *bans)
{
	json_t *by = json_object();

	for (size_t i = 0; by && i < bans->n; i++) {
		const char *o = bans->items[i].owner[0] ? bans->items[i].owner : "(admin)";
		json_t *n = json_object_get(by, o);

		json_object_set_new(by, o, json_integer(n ? json_integer_value(n) + 1 : 1));
	}
	return by;
}

void confirm_status_add(const struct daemon *dm, json_t *data)
{
	uint64_t now = pc_now_ms();

	if (!data)
		return;
	json_object_set_new(data, "panic", json_boolean(dm->panic));
	json_object_set_new(data, "bans", json_integer((json_int_t)dm->bans.n));
	json_object_set_new(data, "bans_by", bans_owners_json(&dm->bans));
	if (!dm->pending)
		return;
	json_object_set_new(data, "pending_confirm",
			    json_pack("{s:i,s:I,s:I}", "seconds", (int)dm->pending->seconds,
				      "seconds_left",
				      (json_int_t)(dm->pending->deadline > now
						       ? (dm->pending->deadline - now + 999) / 1000
						       : 0),
				      "deadline", (json_int_t)dm->pending->deadline_wall));
}
