/* apply [--confirm SECONDS] and confirm: apply the files, and unless
 * "portctl confirm" arrives in time put the previous ruleset back in one
 * transaction. The rollback copy is on disk first, so a restart of the
 * daemon during the window rolls back too. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "commands.h"
#include "log.h"
#include "persist.h"

/* Under the state directory: the previous configuration (laid out like
 * last-good) and, written after it, the marker that says a rollback is due. */
#define PENDING_NAME "pending-confirm"
#define PENDING_MARKER "pending-confirm.json"
/* pc_state_save's copy; a rollback makes the previous rules the last good. */
#define LAST_GOOD_NAME "last-good"
/* A day: anything longer is a typo, not a trial. */
#define CONFIRM_MAX_SECONDS 86400

struct pending {
	struct pc_applied *previous; /* what the kernel held before; owned */
	enum daemon_source source;   /* where previous came from */
	char **runtime;		     /* its --runtime rules, owned */
	size_t n_runtime, cap_runtime;
	uint64_t deadline; /* ms, CLOCK_MONOTONIC */
	time_t deadline_wall;
	unsigned seconds;
	uid_t uid;
};

static int state_path(const struct daemon *dm, const char *name, char *buf, size_t size)
{
	if (!dm->paths.state_dir)
		return -EINVAL;
	return snprintf(buf, size, "%s/%s", dm->paths.state_dir, name) >= (int)size ? -ENAMETOOLONG
										    : 0;
}

static void pending_free(struct pending *p)
{
	if (!p)
		return;
	pc_applied_free(p->previous);
	for (size_t i = 0; i < p->n_runtime; i++)
		free(p->runtime[i]);
	free(p->runtime);
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

	if (state_path(dm, PENDING_MARKER, path, sizeof(path)) >= 0 && unlink(path) < 0 &&
	    errno != ENOENT)
		log_warning_errno(-errno, "cannot remove %s: %m", path);
	if (state_path(dm, PENDING_NAME, path, sizeof(path)) >= 0)
		(void)pc_state_remove_tree(path);
}

static int pending_persist(const struct daemon *dm, const struct pending *p, uid_t uid)
{
	char buf[PATH_MAX * 2], path[PATH_MAX];
	_cleanup_free_ char *text = NULL;
	struct pc_paths from;
	json_t *meta;
	int r;

	r = cfg_origin(dm, p->previous->cfg, &from, buf, sizeof(buf));
	if (r >= 0)
		r = pc_state_save_named(&dm->paths, &from, PENDING_NAME, p->previous->cfg);
	if (r >= 0)
		r = state_path(dm, PENDING_MARKER, path, sizeof(path));
	if (r < 0)
		return r;
	meta = json_pack("{s:i,s:I,s:i}", "seconds", (int)p->seconds, "deadline",
			 (json_int_t)p->deadline_wall, "uid", (int)uid);
	text = meta ? json_dumps(meta, JSON_COMPACT) : NULL;
	json_decref(meta);
	if (!text)
		return -ENOMEM;
	return file_replace(path, text, strlen(text), 0644);
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

/* apply --confirm rolls back to a model of what the kernel holds. */
static int confirm_possible(const struct daemon *dm, struct pc_reply *reply)
{
	if (dm->pending) {
		uint64_t now = pc_now_ms();

		reply_set(reply, PC_STATUS_FAILURE,
			  "an 'apply --confirm' is already waiting (%llu s left): run 'portctl "
			  "confirm' to keep it, or let it roll back, then try again",
			  (unsigned long long)(dm->pending->deadline > now
						   ? (dm->pending->deadline - now + 999) / 1000
						   : 0));
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

static int apply_refused(struct pc_reply *reply, const struct pc_applied *a,
			 const struct pc_diags *d)
{
	return reply_diags(reply,
			   a && a->stage == PC_APPLY_CONFIG ? PC_STATUS_USAGE : PC_STATUS_FAILURE,
			   a && a->stage == PC_APPLY_CONFIG
			       ? "apply refused, nothing changed: fix these errors and try again"
			       : "the kernel refused the configuration, nothing changed",
			   d, a ? a->cfg : NULL);
}

/* Keep what the kernel holds now, to put it back when time runs out. */
static struct pending *pending_new(struct daemon *dm, unsigned seconds, uid_t uid)
{
	struct pending *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->previous = dm->applied;
	p->source = dm->source;
	p->seconds = seconds;
	p->uid = uid;
	p->deadline = pc_now_ms() + (uint64_t)seconds * 1000;
	p->deadline_wall = time(NULL) + seconds;
	return p;
}

/* The previous configuration and its runtime rules go with the pending
 * rollback; daemon_take_reloaded then finds neither to free. */
static void pending_take(struct daemon *dm, struct pending *p)
{
	p->runtime = TAKE_PTR(dm->runtime);
	p->n_runtime = dm->n_runtime;
	p->cap_runtime = dm->cap_runtime;
	dm->n_runtime = dm->cap_runtime = 0;
	dm->applied = NULL;
	dm->pending = p;
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

int cmd_apply(struct daemon *dm, const struct pc_peer *peer, json_t *args, struct pc_reply *reply)
{
	_cleanup_free_ char *warning = NULL;
	struct pc_applied *a = NULL;
	struct pending *p = NULL;
	struct guard_opts g;
	struct pc_diags d;
	unsigned seconds;
	int r;

	guard_opts_from_args(args, &g);
	g.can_confirm = true;
	if (args_seconds(args, &seconds, reply) < 0 || (seconds && confirm_possible(dm, reply) < 0))
		return 0;
	g.confirm = seconds > 0;
	pc_diags_init(&d);
	r = pc_apply_prepare(&dm->paths, &a, &d);
	if (r < 0) {
		apply_refused(reply, a, &d);
		goto out;
	}
	r = guard_check(dm, &g, dm->applied ? dm->applied->cfg : NULL, a->cfg, reply, &warning);
	if (r < 0)
		goto out;
	if (seconds) {
		p = pending_new(dm, seconds, peer->uid);
		r = p ? pending_persist(dm, p, peer->uid) : -ENOMEM;
		if (r < 0) {
			reply_set(reply, PC_STATUS_FAILURE,
				  "cannot save the rollback copy under %s (%s): nothing changed",
				  dm->paths.state_dir, strerror(-r));
			pending_forget_disk(dm);
			goto out;
		}
	}
	a->stage = PC_APPLY_KERNEL;
	r = pc_nl_apply(dm->nl, a->ruleset, dm->applied ? dm->applied->ruleset : NULL,
			a->cfg->settings.table_owner ? PC_NL_OWNER : 0, &d);
	if (r < 0) {
		if (p)
			pending_forget_disk(dm);
		apply_refused(reply, a, &d);
		goto out;
	}
	r = pc_state_save(&dm->paths, a->cfg);
	if (r < 0)
		log_warning_errno(r, "applied, but the last-good copy was not saved: %m");
	if (p) {
		pending_take(dm, TAKE_PTR(p));
		log_notice("uid %u: apply --confirm %u: the previous rules come back unless "
			   "confirmed in time",
			   peer->uid, seconds);
	}
	apply_reply(reply, a, dm->pending && seconds ? dm->pending : NULL, warning);
	daemon_take_reloaded(dm, TAKE_PTR(a));
	/* Bans outlive reloads (ban.c); not under a pending --confirm, whose
	 * rollback keeps its own view of what the kernel held. */
	if (!dm->pending)
		bans_restore(dm);
	r = 0;
out:
	if (p) {
		p->previous = NULL; /* still dm->applied */
		pending_free(p);
	}
	pc_applied_free(a);
	pc_diags_free(&d);
	return r == -ENOMEM ? r : 0;
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

/* Make p's configuration the one in force again (kernel, model, state). */
static int rollback(struct daemon *dm, struct pending *p)
{
	const struct pc_config *cfg = p->previous->cfg;
	unsigned flags = cfg->settings.table_owner ? PC_NL_OWNER : 0;
	char buf[PATH_MAX * 2];
	struct pc_paths from;
	struct pc_diags d;
	int r = 0;

	/* In panic mode the kernel keeps the panic ruleset; "panic off" puts
	 * back whatever is the model then. */
	if (!dm->panic) {
		pc_diags_init(&d);
		r = pc_nl_apply(dm->nl, p->previous->ruleset,
				dm->applied ? dm->applied->ruleset : NULL, flags, &d);
		/* Someone committed in between: send the whole table instead. */
		if (r == -ERESTART)
			r = pc_nl_apply(dm->nl, p->previous->ruleset, NULL, flags, &d);
		for (size_t i = 0; r < 0 && i < d.n; i++)
			log_error("rollback: %s", d.items[i].message);
		pc_diags_free(&d);
		if (r < 0)
			return r;
	}
	if (cfg_origin(dm, cfg, &from, buf, sizeof(buf)) < 0 ||
	    pc_state_save_named(&dm->paths, &from, LAST_GOOD_NAME, cfg) < 0)
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
	pc_applied_free(dm->applied);
	dm->applied = TAKE_PTR(p->previous);
	dm->source = p->source == SOURCE_FILES ? SOURCE_ROLLBACK : p->source;
	dm->cli_changes = dm->applied->cfg->settings.cli_changes;
	dm->table_owner = dm->applied->cfg->settings.table_owner;
	daemon_runtime_clear(dm);
	dm->runtime = TAKE_PTR(p->runtime);
	dm->n_runtime = p->n_runtime;
	dm->cap_runtime = p->cap_runtime;
	p->n_runtime = 0;
	pending_free(TAKE_PTR(dm->pending));
	/* Bans outlive a rollback as they outlive a reload. */
	if (!dm->panic)
		bans_restore(dm);
}

/* Load a configuration copy from the state directory. */
static int state_prepare(struct daemon *dm, const char *name, struct pc_applied **out)
{
	char buf[PATH_MAX * 2];
	struct pc_paths snap;
	struct pc_diags d;
	int r = pc_state_paths_named(&dm->paths, name, &snap, buf, sizeof(buf));

	*out = NULL;
	if (r < 0)
		return r;
	pc_diags_init(&d);
	r = pc_apply_prepare(&snap, out, &d);
	if (r < 0)
		diags_log(&d);
	pc_diags_free(&d);
	if (r < 0) {
		pc_applied_free(*out);
		*out = NULL;
	}
	return r;
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

/* Start-up with a rollback left pending: put the previous rules back
 * before anything else. Returns 1 when it did, 0 when there was none or it
 * could not (the normal start-up goes on), -errno on memory errors. */
static int pending_startup(struct daemon *dm, struct pc_applied **pre)
{
	char marker[PATH_MAX];
	struct pc_applied *a = NULL, *again = NULL;
	struct pc_paths snap;
	char buf[PATH_MAX * 2];
	struct pc_diags d;
	int r;

	if (state_path(dm, PENDING_MARKER, marker, sizeof(marker)) < 0 || access(marker, F_OK) < 0)
		return 0;
	marker_log(marker);
	r = state_prepare(dm, PENDING_NAME, &a);
	/* In panic mode only the model goes back; the kernel keeps panicking. */
	if (r >= 0 && !dm->panic) {
		pc_diags_init(&d);
		r = pc_nl_apply(dm->nl, a->ruleset, NULL,
				a->cfg->settings.table_owner ? PC_NL_OWNER : 0, &d);
		pc_diags_free(&d);
	}
	if (r < 0) {
		log_error_errno(r,
				"the rollback copy under %s/%s cannot be applied (%m): starting "
				"from the files instead",
				dm->paths.state_dir, PENDING_NAME);
		pc_applied_free(a);
		pending_forget_disk(dm);
		return r == -ENOMEM ? r : 0;
	}
	/* The copy becomes the last good one, and the model is read from there,
	 * so its file names outlive the pending copy removed next. */
	r = pc_state_paths_named(&dm->paths, PENDING_NAME, &snap, buf, sizeof(buf));
	if (r >= 0)
		r = pc_state_save_named(&dm->paths, &snap, LAST_GOOD_NAME, a->cfg);
	if (r >= 0 && state_prepare(dm, LAST_GOOD_NAME, &again) >= 0) {
		pc_applied_free(a);
		a = again;
	}
	pending_forget_disk(dm);
	log_error("ROLLED BACK: the rules in force before the unconfirmed apply are back; the "
		  "files in %s still hold the unconfirmed change",
		  dm->paths.sysconf_dir);
	pc_applied_free(*pre);
	*pre = NULL;
	dm->applied = a;
	dm->source = SOURCE_ROLLBACK;
	dm->cli_changes = a->cfg->settings.cli_changes;
	dm->table_owner = a->cfg->settings.table_owner;
	return 1;
}

int trust_startup(struct daemon *dm, struct pc_applied **pre, int prepared)
{
	/* Known first, so that a pending rollback leaves the kernel to it. */
	int handled, r;

	dm->panic = panic_marked(dm);
	handled = pending_startup(dm, pre);
	if (handled < 0 || !dm->panic)
		return handled;
	if (!handled) {
		/* Panic mode keeps the files out of the kernel, but "panic off"
		 * needs them as its model. */
		if (prepared >= 0)
			dm->applied = TAKE_PTR(*pre);
		dm->source = dm->applied ? SOURCE_FILES : SOURCE_KERNEL;
	}
	r = panic_startup(dm);
	return r < 0 ? r : 1;
}

void trust_done(struct daemon *dm)
{
	/* The pending copy stays on disk: the next start rolls back. */
	pending_free(TAKE_PTR(dm->pending));
}

void trust_status_add(const struct daemon *dm, json_t *data)
{
	uint64_t now = pc_now_ms();

	if (!data)
		return;
	json_object_set_new(data, "panic", json_boolean(dm->panic));
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
