/* The one path from a desired state to the kernel: compose (the files'
 * configuration, the runtime rules placed in it, the bans in its ban list)
 * → compile → guard → install (kernel.c, one transaction) → persist
 * (CLI rules file, bans, last good copy, panic mark) → adopt. Also the two
 * ways the same change is made in O(change) when the model in force allows
 * it: a rule appended to the CLI rules file, and a ban added or lifted. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "persist.h"
#include "kernel.h"
#include "reply.h"
#include "state.h"

#define PANIC_MARKER "panic.json"
#define DISABLED_MARKER "disabled.json"
/* As the loader: rules files beyond 64 MiB are refused anyway. */
#define FILE90_MAX ((size_t)64 * 1024 * 1024)

/* For metrics: when the last change ended and whether the kernel took it. */
static void apply_stats_record(struct daemon *dm, bool ok)
{
	dm->stats.last_apply = (uint64_t)time(NULL);
	dm->stats.last_apply_ok = ok;
	if (ok)
		dm->stats.applies_ok++;
	else
		dm->stats.applies_failed++;
}

static struct commit_mark commit_mark(const struct daemon *dm)
{
	return (struct commit_mark){.installed = dm->applied->ruleset->installed,
				    .applies = daemon_changes(dm)};
}

static uint64_t now_wall(void)
{
	return (uint64_t)time(NULL);
}

static unsigned install_flags(const struct daemon *dm, const struct pc_config *cfg)
{
	bool owner = cfg ? cfg->settings.table_owner : dm->table_owner;

	return owner ? PC_NL_OWNER : 0;
}

/* What the kernel holds now, as far as the daemon knows. */
static const struct pc_ruleset *installed(const struct daemon *dm)
{
	if (!dm->kernel_known || dm->disabled)
		return NULL;
	if (dm->panic)
		return dm->panic_ruleset;
	return dm->applied ? dm->applied->ruleset : NULL;
}

void next_free(struct next *nx)
{
	pc_config_free(nx->cfg);
	nx->cfg = NULL;
	runtime_clear(&nx->runtime);
}

/* The plan and ruleset in force fell behind the kernel (out of memory
 * while updating them in place): drop both, so that the next change
 * compiles the configuration and replaces the table whole. */
static void model_lost(struct daemon *dm)
{
	log_error("out of memory updating the rules in memory; the kernel holds them, and the "
		  "next change compiles everything and replaces the table");
	pc_plan_free(dm->applied->plan);
	dm->applied->plan = NULL;
	pc_ruleset_free(dm->applied->ruleset);
	dm->applied->ruleset = NULL;
}

int state_ruleset_sync(struct daemon *dm)
{
	return pc_ruleset_sync(dm->applied ? dm->applied->ruleset : NULL);
}

const struct rule_index *state_rule_index(struct daemon *dm)
{
	char path90[4096];

	if (!dm->applied || !dm->applied->cfg || path90_get(&dm->paths, path90, sizeof(path90)) < 0 ||
	    rule_index_get(&dm->index, dm->applied->cfg, path90) < 0)
		return NULL;
	return &dm->index;
}

static bool state_in_place_ok(const struct daemon *dm)
{
	const struct pc_applied *a = dm->applied;

	return a && a->cfg && a->plan && a->ruleset && dm->source == SOURCE_FILES &&
	       !dm->pending && !dm->panic && !dm->disabled;
}

/* The files and runtime rules in force, parsed again, for a change that
 * keeps them (bans). */
static int model_files(const struct daemon *dm, struct pc_config **out, struct pc_diags *d)
{
	int r;

	if (!dm->applied || !dm->applied->cfg)
		return pc_config_load(&dm->paths, out, d);
	r = config_from_sources(&dm->paths, dm->applied->cfg, out, d);
	if (r >= 0)
		r = runtime_place(&dm->paths, *out, &dm->runtime, d);
	return r;
}

/* The bans in force become next (taken). */
static void bans_adopt(struct daemon *dm, struct bans *next)
{
	bans_take(&dm->bans, next);
	dm->bans_expiry = bans_next_expiry(&dm->bans);
}

/* The same for a change of one ban, without reading every ban for the
 * earliest expiry. A ban again may make it later than it was: the
 * deadline comes early, finds nothing due and reads them all then
 * (bans_expire_due). */
static void bans_adopt_one(struct daemon *dm, struct bans *next, const struct ban_edit *one)
{
	uint64_t earliest = dm->bans_expiry, expires = one->ban->expires;

	bans_take(&dm->bans, next);
	if (one->unban && expires && expires == earliest)
		dm->bans_expiry = bans_next_expiry(&dm->bans);
	else if (!one->unban && expires && (!earliest || expires < earliest))
		dm->bans_expiry = expires;
}

/* Compose the next configuration with the bans and compile it. */
static int compose(struct daemon *dm, struct next *nx, const struct bans *bans,
		   struct pc_applied **out, struct pc_diags *d)
{
	struct pc_applied *a = calloc(1, sizeof(*a));
	int r = 0;

	*out = a;
	if (!a)
		return -ENOMEM;
	if (nx->cfg)
		a->cfg = TAKE_PTR(nx->cfg);
	else
		r = model_files(dm, &a->cfg, d);
	if (r >= 0 && !pc_diags_has_errors(d))
		r = bans_compose(bans, now_wall(), a->cfg, d);
	if (r >= 0 && !pc_diags_has_errors(d))
		r = pc_config_validate(a->cfg, d);
	if (r >= 0 && !pc_diags_has_errors(d))
		r = pc_plan_build(a->cfg, &a->plan, d);
	if (r >= 0 && !pc_diags_has_errors(d))
		r = pc_ruleset_lower(a->plan, &a->ruleset, d);
	if (r >= 0 && pc_diags_has_errors(d))
		r = -EINVAL;
	return r;
}

/* Whether the file on disk still holds old; no file and an empty one are
 * the same text, as to the loader and the writer. */
static bool file90_unchanged(const char *path, const char *old, size_t old_len)
{
	_cleanup_free_ char *data = NULL;
	size_t len = 0;
	int r = pc_read_file(path, FILE90_MAX, &data, &len);

	if (r == -ENOENT)
		return old_len == 0;
	return r >= 0 && len == old_len && (!len || !memcmp(data, old, len));
}

/* The file's new text, written, becomes its source in cfg: text's buffer
 * is taken (no copy of a file of 10,000 rules at each change), text left
 * empty. newlines: its '\n's (SIZE_MAX: counted when asked). */
static void file90_adopt(struct pc_config *cfg, const char *path, struct pc_strbuf *text,
			 size_t newlines)
{
	struct pc_source *src = (struct pc_source *)pc_sources_find(&cfg->sources, path);
	char *data = text->buf ? TAKE_PTR(text->buf) : strdup("");

	if (!src || !data) {
		free(data);
		pc_strbuf_free(text);
		return;
	}
	free(src->data);
	src->data = data;
	src->len = text->len;
	src->version = pc_source_data_version();
	src->newlines = newlines;
	*text = (struct pc_strbuf){ 0 };
}

static int file90_write(const struct next *nx, struct pc_reply *reply)
{
	_cleanup_free_ char *current = NULL;
	size_t current_len = 0;
	int r = rules_file_commit(nx->file90, nx->old90 ? nx->old90 : "", nx->old90_len,
				  nx->old90_exists,
				  nx->text90->buf ? nx->text90->buf : "", nx->text90->len, &current,
				  &current_len);

	if (r == -ESTALE)
		return r;
	if (r < 0) {
		log_error_errno(r, "cannot write %s: %m; rolling the kernel back", nx->file90);
		reply_set(reply, PC_STATUS_FAILURE,
			  "cannot write %s (%s): the change was rolled back; check the "
			  "directory's permissions and free space",
			  nx->file90, strerror(-r));
	}
	return r;
}

static void settings_adopt(struct daemon *dm, const struct pc_settings *s)
{
	dm->cli_changes = s->cli_changes;
	dm->bans_allowed = s->bans;
	dm->table_owner = s->table_owner;
	if (dm->log_level_override < 0)
		log_set_max_level(s->log_level);
}

static void mark_set(struct daemon *dm, const char *name, const char *what, bool on)
{
	int r;

	if (on) {
		char text[64];

		snprintf(text, sizeof(text), "{\"since\":%llu}", (unsigned long long)now_wall());
		r = state_file_write(&dm->paths, name, text);
	} else {
		r = state_file_remove(&dm->paths, name);
	}
	if (r < 0)
		log_warning_errno(r, "cannot %s the %s mark under %s: %m", on ? "write" : "remove",
				  what, dm->paths.state_dir);
}

static void panic_mark(struct daemon *dm, bool on)
{
	mark_set(dm, PANIC_MARKER, "panic", on);
}

static void disabled_mark(struct daemon *dm, bool on)
{
	mark_set(dm, DISABLED_MARKER, "disabled", on);
}

bool state_panic_marked(const struct daemon *dm)
{
	return state_file_exists(&dm->paths, PANIC_MARKER);
}

bool state_disabled_marked(const struct daemon *dm)
{
	return state_file_exists(&dm->paths, DISABLED_MARKER);
}

/* Disabled: our table out of the kernel (once: it stays out). */
static int install_nothing(struct daemon *dm, struct pc_diags *d)
{
	if (dm->disabled && dm->kernel_known)
		return 0;
	return kernel_remove(dm->nl, d);
}

int state_commit(struct daemon *dm, struct next *nx, struct pc_reply *reply)
{
	const struct bans *bans = nx->bans ? nx->bans : &dm->bans;
	bool panic = nx->panic < 0 ? dm->panic : nx->panic > 0;
	bool disabled = nx->disable ? nx->disable > 0 : dm->disabled;
	bool new_files = nx->cfg != NULL;
	bool have_model = dm->applied && dm->applied->ruleset;
	const struct pc_ruleset *old = installed(dm), *target;
	struct pc_ruleset *panic_rs = NULL;
	struct pc_applied *a = NULL;
	const struct pc_applied *model;
	unsigned flags;
	struct pc_diags d;
	int r = 0;

	pc_diags_init(&d);
	/* Compose and compile, unless the model in force stays as it is
	 * (panic on or off, a drift repair). Panic needs no model at all. */
	if (new_files || nx->bans || (!panic && !have_model)) {
		r = compose(dm, nx, bans, &a, &d);
		if (r == -ENOMEM)
			goto out;
		if (r < 0) {
			/* The caller logs what is worth logging: a client's bad
			 * rule is its own business, a bad file at start is not. */
			reply_diags(reply, PC_STATUS_USAGE,
				    nx->intro ? nx->intro : "refused, nothing changed:", &d,
				    a ? a->cfg : NULL);
			r = -ECANCELED;
			goto out;
		}
	}
	model = a ? a : dm->applied;
	/* Disabled, nothing filters: enable is checked against that. */
	if (nx->guard && !panic && !disabled &&
	    guard_check(nx->guard, dm->applied && !dm->disabled ? dm->applied->cfg : NULL,
			model->cfg, reply, nx->warning) < 0) {
		r = -ECANCELED;
		goto out;
	}
	if (nx->dry_run) {
		r = 0;
		goto out;
	}
	/* Checked before the kernel, so that the usual race costs no
	 * rollback; the writer checks again at the moment it writes. */
	if (nx->file90 &&
	    !file90_unchanged(nx->file90, nx->old90, nx->old90_len)) {
		r = -ESTALE;
		goto out;
	}
	if (panic) {
		r = pc_ruleset_panic(&panic_rs);
		if (r < 0)
			goto out;
		/* Marked first: a daemon restarted in between panics too. */
		if (!dm->panic)
			panic_mark(dm, true);
	}
	/* Marked first too: a daemon restarted in between stays disabled. */
	if (disabled && !dm->disabled)
		disabled_mark(dm, true);
	target = disabled ? NULL : panic ? panic_rs : model->ruleset;
	flags = install_flags(dm, model ? model->cfg : NULL) | nx->flags;
	r = disabled ? install_nothing(dm, &d) : kernel_install(dm->nl, target, old, flags, &d);
	if (r < 0) {
		if (panic && !dm->panic)
			panic_mark(dm, false);
		if (disabled && !dm->disabled)
			disabled_mark(dm, false);
		diags_log(&d);
		reply_diags(reply, PC_STATUS_FAILURE,
			    "the kernel refused the change, nothing changed:", &d,
			    model ? model->cfg : NULL);
		r = r == -ENOMEM ? r : -ECANCELED;
		goto out;
	}
	/* The kernel holds the change: now the files that keep it. */
	if (nx->file90) {
		struct pc_strbuf text = { 0 };

		r = file90_write(nx, reply);
		/* The candidate's text is its own: a copy. */
		if (r >= 0 && pc_strbuf_append(&text, nx->text90->buf ? nx->text90->buf : "",
					       nx->text90->len) >= 0)
			file90_adopt(a->cfg, nx->file90, &text, nx->newlines90);
	}
	if (r >= 0 && nx->bans) {
		r = bans_save(&dm->paths, nx->bans);
		if (r < 0)
			reply_set(reply, PC_STATUS_FAILURE,
				  "cannot save the bans under %s (%s): nothing changed",
				  dm->paths.state_dir, strerror(-r));
	}
	if (r < 0) {
		struct pc_diags d2;

		pc_diags_init(&d2);
		if (old && kernel_install(dm->nl, old, target, flags, &d2) < 0)
			log_error("rollback failed: the kernel holds the change, the files do not");
		pc_diags_free(&d2);
		if (panic && !dm->panic)
			panic_mark(dm, false);
		if (disabled && !dm->disabled)
			disabled_mark(dm, false);
		r = r == -ESTALE || r == -ENOMEM ? r : -ECANCELED;
		goto out;
	}
	if (!panic && dm->panic)
		panic_mark(dm, false);
	if (!disabled && dm->disabled)
		disabled_mark(dm, false);
	if (new_files && nx->source == SOURCE_FILES) {
		int r2 = pc_state_save(&dm->paths, a->cfg);

		if (r2 < 0)
			log_warning_errno(r2, "cannot save the last good configuration: %m");
	}
	/* Adopt: the model in force is the one the kernel holds. */
	if (a) {
		rule_index_drop(&dm->index);
		pc_applied_free(dm->applied);
		dm->applied = TAKE_PTR(a);
		pc_ruleset_free(TAKE_PTR(dm->spare));
		settings_adopt(dm, &dm->applied->cfg->settings);
		/* Made now, not in the next change's time (they read every rule). */
		(void)state_rule_index(dm);
		(void)pc_config_ports_index(dm->applied->cfg);
	}
	if (new_files) {
		dm->source = nx->source;
		runtime_clear(&dm->runtime);
		dm->runtime = nx->runtime;
		nx->runtime = (struct runtime){0};
		if (temporary_save(&dm->paths, &dm->runtime) < 0)
			log_warning("cannot save the temporary rules under %s: they end at a "
				    "restart",
				    dm->paths.state_dir);
	}
	if (nx->bans)
		bans_adopt(dm, nx->bans);
	dm->panic = panic;
	dm->disabled = disabled;
	pc_ruleset_free(dm->panic_ruleset);
	dm->panic_ruleset = TAKE_PTR(panic_rs);
	dm->kernel_known = true;
	r = 0;
out:
	/* -ESTALE is not an end: the caller redoes the change. */
	if (r != -ESTALE)
		apply_stats_record(dm, r == 0);
	pc_ruleset_free(panic_rs);
	pc_applied_free(a);
	next_free(nx);
	pc_diags_free(&d);
	return r;
}

/* A rule that is an entry of its own in its chain, new or going: the
 * ruleset in force with that chain's entries from there on made again,
 * the rest shared (see pc_ruleset_entry_add). */
/* The guard for a new or gone entry: a rule that may match the admin's
 * own session (any of its ports, or every port for a rule without) goes
 * the full path, which asks the guard. 1, 0 or -EPERM. */
static int entry_change_guard(const struct guard_opts *g, const struct pc_plan *plan,
			      const struct pc_rule *rule, struct pc_reply *reply)
{
	struct pc_rule_append touched = {0};
	static const struct pc_port_range all = {.lo = 0, .hi = UINT16_MAX,
						 .protos = PC_PROTO_TCP | PC_PROTO_UDP |
							   PC_PROTO_SCTP};
	const struct pc_port_range *ports = rule->n_ports ? rule->ports : &all;
	size_t n = rule->n_ports ? rule->n_ports : 1, nz = rule->n_zones ? rule->n_zones : 1;
	size_t zone;
	int r = 0;

	/* A NAT rule, an unknown zone: the full path (pc_entry_edit_prepare
	 * refuses it). */
	for (size_t k = 0; k < nz; k++)
		if (pc_plan_rule_zone(plan, rule, k, &zone) < 0)
			return 1;
	if (rule->dir != PC_DIR_IN)
		return 0;
	for (size_t k = 0; r >= 0 && k < nz; k++) {
		pc_plan_rule_zone(plan, rule, k, &zone);
		for (size_t i = 0; r >= 0 && i < n; i++)
			for (uint8_t bit = 1; r >= 0 && bit && bit <= PC_PROTO_SCTP; bit <<= 1) {
				struct pc_append_port *ap;

				if (!(ports[i].protos & bit))
					continue;
				ap = PC_ARRAY_PUSH(touched.ports, touched.n_ports,
						   touched.cap_ports);
				if (!ap) {
					r = -ENOMEM;
					break;
				}
				*ap = (struct pc_append_port){
					.zone = zone, .dir = PC_DIR_IN,
					.port = {.l4proto = bit == PC_PROTO_TCP	  ? IPPROTO_TCP
							    : bit == PC_PROTO_UDP ? IPPROTO_UDP
										  : IPPROTO_SCTP,
						 .lo = ports[i].lo, .hi = ports[i].hi}};
			}
	}
	if (r >= 0)
		r = guard_check_in_place(g, plan, &touched, true, reply);
	pc_rule_append_free(&touched);
	return r;
}

/* The lines of rules [from, to) (of one file) moved by delta. */
static void lines_move(struct pc_config *cfg, size_t from, size_t to, int32_t delta)
{
	for (size_t i = from; i < to; i++)
		cfg->rules[i].loc.line = (uint32_t)((int32_t)cfg->rules[i].loc.line + delta);
}

/* A logged rule's log prefix names its line: the ones a change moves are
 * made again with it, up to this many (each remake is O(objects)). */
#define MOVED_LOGGED_MAX 16

/* The logged rules of [from, to) into v (up to MOVED_LOGGED_MAX): how many,
 * or MOVED_LOGGED_MAX + 1 for more. The index knows when none of the CLI's
 * file is, without reading them. */
static size_t logged_of(const struct pc_config *cfg, const struct rule_index *ix, size_t from,
			size_t to, const struct pc_rule *v[MOVED_LOGGED_MAX])
{
	size_t n = 0;

	if (ix && ix->logged90 == 0)
		return 0;
	for (size_t i = from; i < to; i++) {
		if (!cfg->rules[i].log)
			continue;
		if (n == MOVED_LOGGED_MAX)
			return n + 1;
		v[n++] = &cfg->rules[i];
	}
	return n;
}

/* Parsing a rule must not move the rules under the pointers of the plan
 * and ruleset in force: a full array grows first, and they follow. */
static int rules_room(struct daemon *dm)
{
	struct pc_applied *a = dm->applied;
	struct pc_rules_moved moved;
	void *old;
	int r = pc_config_rules_grow(a->cfg, &moved, &old);

	if (r < 0 || !old)
		return r;
	pc_plan_rules_shift(a->plan, a->ruleset, &moved);
	/* The spare compiles the same rules: made again when next needed. */
	pc_ruleset_free(TAKE_PTR(dm->spare));
	free(old);
	log_debug("in place: room for %zu rules", a->cfg->cap_rules);
	return 0;
}

/* The logged rules the change moved, made again with it: onto ec's
 * ruleset, or onto one made from the ruleset in force (*relogged). */
static int relog(struct pc_applied *a, struct pc_entry_edit *ec, const struct pc_rule *const *logged,
		 size_t n, struct pc_ruleset **relogged)
{
	struct pc_ruleset *rs = NULL;
	int r;

	r = pc_ruleset_rules_remake(a->plan, ec->rs ? ec->rs : a->ruleset, logged, n, &rs);
	if (r >= 0 && ec->rs && (r = pc_ruleset_fold(rs, ec->rs)) < 0)
		pc_ruleset_free(rs);
	else if (r >= 0 && ec->rs)
		ec->rs = rs;
	else if (r >= 0)
		*relogged = rs;
	return r;
}

/*
 * A rule change from the command line -- allow, deny, reject, insert at the
 * file's end, delete of any of its rules, a runtime or temporary rule and
 * its delete -- in O(change), on the configuration, plan and ruleset in
 * force: the rule is parsed into (or found in) the configuration,
 * pc_rule_edit_prepare makes the regions of its port maps again as a full
 * compile would, and the elements that differ go to the kernel in one
 * transaction carrying the generation id; then the file (or the runtime
 * rules, a temporary one saved), then the model in memory. 1 done
 * (summary set), 0 when the change takes state_commit (nothing changed),
 * -ECANCELED refused (reply set), or -errno.
 */
int state_rule_edit(struct daemon *dm, const struct change *ch, struct pc_strbuf *summary,
		    struct pc_reply *reply)
{
	struct pc_applied *a = dm->applied;
	bool remove = ch->kind == CHANGE_DELETE, placed = false, exists90;
	struct pc_rule_edit ed = {0};
	struct pc_entry_edit ec = {0};
	/* The ruleset with the moved logged rules made again, when ed's
	 * elements ride on it. */
	struct pc_ruleset *relogged = NULL;
	const struct pc_rule *moved_logged[MOVED_LOGGED_MAX];
	size_t n_logged = 0;
	/* ed holds element changes; they ride on a ruleset's difference. */
	bool with_elems = false, riding = false;
	struct pc_strbuf newtext = {0};
	size_t newlines = SIZE_MAX; /* newtext's '\n's */
	/* A runtime rule's change: the runtime rules after it, rt_at its place
	 * among them. */
	struct runtime rt = {0};
	size_t rt_at = 0;
	bool runtime = false;
	struct pc_rules_moved moved;
	const struct rule_index *ix = state_rule_index(dm);
	size_t n_rules, n_sources, idx = 0, at = 0, end90, later = 0;
	/* The file's rules after the change's line move by shift lines. */
	bool shifted = false;
	int32_t shift = 0;
	uint32_t insert_line = 0;
	struct pc_source *src90;
	struct pc_config *cfg;
	struct pc_rule *rule;
	char path90[4096];
	struct pc_diags d;
	int r;

	/* (insert --runtime: the full path says no.) */
	if (!state_in_place_ok(dm) || ch->dry_run || (ch->runtime && ch->kind != CHANGE_ADD) ||
	    path90_get(&dm->paths, path90, sizeof(path90)) < 0)
		return 0;
	cfg = a->cfg;
	src90 = (struct pc_source *)pc_sources_find(&cfg->sources, path90);
	end90 = ix ? ix->end90 : cli_end(cfg, path90);
	if (remove) {
		r = delete_pick(cfg, path90, ch, ix, &at);
		if (r <= 0)
			return 0;
		runtime = r == 2;
		rt_at = at - end90;
		if ((!src90 && !runtime) ||
		    (runtime && (at < end90 || rt_at >= dm->runtime.n ||
				 !streq(dm->runtime.items[rt_at], cfg->rules[at].text))))
			return 0;
	} else {
		runtime = ch->runtime;
		rt_at = dm->runtime.n;
		/* The runtime rules follow the file's, in their order. */
		if (runtime && (end90 + rt_at > cfg->n_rules ||
				(rt_at && !rule_is_runtime(&cfg->rules[end90 + rt_at - 1])) ||
				(end90 + rt_at < cfg->n_rules &&
				 rule_is_runtime(&cfg->rules[end90 + rt_at]))))
			return 0;
		if ((r = rules_room(dm)) < 0)
			return r;
	}
	pc_diags_init(&d);
	n_rules = cfg->n_rules;
	n_sources = cfg->sources.n;
	/* No file yet (the first change): this one makes it, from nothing. */
	exists90 = src90 != NULL;
	if (!runtime && !exists90 && !(src90 = cli_source_add(cfg, path90))) {
		r = -ENOMEM;
		goto undo;
	}
	if (runtime && runtime_copy(&dm->runtime, &rt) < 0) {
		r = -ENOMEM;
		goto undo;
	}
	if (remove) {
		rule = &cfg->rules[at];
		/* The file's later rules move up. */
		if (!runtime)
			shift = -(int32_t)rules_text_span(src90->data, src90->len, rule->loc.line,
							  pc_source_newlines(src90));
		later = at + 1;
	} else {
		/* Inserted before another of the file's rules: they move down. */
		if (ch->kind == CHANGE_INSERT && ch->number != end90 + 1) {
			if (ch->number < 1 || ch->number > end90 ||
			    !cfg->rules[ch->number - 1].loc.file ||
			    !streq(cfg->rules[ch->number - 1].loc.file, path90)) {
				r = 0;
				goto undo;
			}
			insert_line = cfg->rules[ch->number - 1].loc.line;
			shift = 1;
		}
		r = rule_parse_one(cfg, runtime ? RUNTIME_NAME : CLI_NAME, ch->rule, &idx, &d);
		if (r >= 0)
			r = pc_config_validate_rule(cfg, idx, &d);
		if (r == -EINVAL) {
			reply_diags(reply, PC_STATUS_USAGE, "the rule was refused, nothing changed:",
				    &d, cfg);
			r = -ECANCELED;
			goto undo;
		}
		if (r < 0)
			goto undo;
		/* The parse added a source: the array may have moved. */
		src90 = (struct pc_source *)pc_sources_find(&cfg->sources, path90);
		rule = &cfg->rules[idx];
		if (runtime) {
			/* As runtime_place has it: after the runtime rules. */
			at = end90 + rt_at;
			r = runtime_push(&rt, rule->text, ch->expires);
			if (r < 0)
				goto undo;
		} else {
			rule->loc.file = src90->name;
			rule->loc.line = insert_line ? insert_line
						     : rules_text_next_line(src90->data, src90->len,
									    pc_source_newlines(src90));
			rule->origin = PC_ORIGIN_ADMIN;
			at = insert_line ? ch->number - 1 : end90;
			end90++;
		}
		/* In its place in file order, the plan's pointers moved with it. */
		moved = pc_config_rule_put(cfg, at);
		pc_plan_rules_shift(a->plan, a->ruleset, &moved);
		placed = true;
		rule = &cfg->rules[at];
		later = at + 1;
	}
	lines_move(cfg, later, end90, shift);
	shifted = shift && later < end90;
	/* The kernel names this file's rules by their text, not their line
	 * (pc_rule_comment), but a logged rule's log prefix names its line:
	 * moved, it is made again with the change (past a few, the full path). */
	if (shifted && (n_logged = logged_of(cfg, ix, later, end90, moved_logged)) >
				MOVED_LOGGED_MAX) {
		r = 0;
		goto undo;
	}
	/* Edited by hand since: the full path redoes the change on it. */
	if (!runtime && !file90_unchanged(path90, src90->data, src90->len)) {
		r = 0;
		goto undo;
	}
	/* A change that may decide the admin's own SSH reconnect goes the
	 * full path, whose guard refuses it or heeds --force. The session is
	 * judged by the plan in force, before the change touches it. */
	r = pc_rule_edit_prepare(a->plan, a->ruleset, rule, remove, &ed);
	if (r >= 0 && ed.n_addrs) {
		/* An address rule: any port of the zone, as an entry's. */
		r = entry_change_guard(&ch->guard, a->plan, rule, reply);
	} else if (r >= 0) {
		r = guard_check_in_place(&ch->guard, a->plan, &ed.add, false, reply);
		if (r == 0)
			r = guard_check_in_place(&ch->guard, a->plan, &ed.del, true, reply);
	} else if (r == -EOPNOTSUPP) {
		/* Not a port map's: perhaps an entry of its own, or one in some
		 * of its zones. */
		r = entry_change_guard(&ch->guard, a->plan, rule, reply);
		if (r == 0)
			with_elems = pc_rule_edit_split(a->plan, a->ruleset, rule, remove, &ed,
							&ec) == 0;
		if (r == 0 && !with_elems)
			r = pc_entry_edit_prepare(a->plan, a->ruleset, rule, remove, &ec);
	}
	if (r == -EPERM) {
		r = -ECANCELED;
		goto undo;
	}
	r = r > 0 ? -EOPNOTSUPP : r;
	with_elems |= r >= 0 && !ec.rs;
	if (r >= 0 && n_logged)
		r = relog(a, &ec, moved_logged, n_logged, &relogged);
	/* Elements sent with a ruleset's difference ride on it. */
	riding = with_elems && (ec.rs || relogged);
	if (r >= 0 && riding)
		r = pc_rule_edit_onto(&ed, a->ruleset, ec.rs ? ec.rs : relogged);
	if (r >= 0 && remove && runtime)
		runtime_remove(&rt, rt_at);
	else if (r >= 0 && !runtime) {
		newlines = pc_source_newlines(src90);
		r = rules_text_edit(src90->data, src90->len,
				    remove	  ? RULES_DELETE
				    : insert_line ? RULES_INSERT
						  : RULES_APPEND,
				    rule->loc.line, remove ? NULL : rule->text, &newtext, &newlines);
	}
	if (r >= 0 && riding)
		r = kernel_install_edit(dm->nl, ec.rs ? ec.rs : relogged, a->ruleset,
					install_flags(dm, cfg), &d);
	else if (r >= 0 && ec.rs)
		r = kernel_install(dm->nl, ec.rs, a->ruleset, install_flags(dm, cfg), &d);
	else if (r >= 0)
		r = kernel_install_elem_change(dm->nl, a->ruleset, &ed.del, &ed.add, &d);
	if (riding)
		pc_rule_edit_back(&ed, ec.rs ? ec.rs : relogged);
	if (r == -EOPNOTSUPP || r == -ESTALE) {
		if (r == -ESTALE)
			log_debug("in place: nftables changed since our last commit, the full path");
		r = 0;
		goto undo;
	}
	if (r < 0) {
		reply_diags(reply, PC_STATUS_FAILURE, "the kernel refused the change, nothing changed:",
			    &d, cfg);
		r = -ECANCELED;
		goto undo;
	}
	if (runtime) {
		/* What a temporary rule's change leaves is saved, as state_commit
		 * does: a failure costs it the restart alone. */
		if ((ch->expires || (remove && dm->runtime.expires && dm->runtime.expires[rt_at])) &&
		    temporary_save(&dm->paths, &rt) < 0)
			log_warning("cannot save the temporary rules under %s: they end at a "
				    "restart",
				    dm->paths.state_dir);
	} else {
		_cleanup_free_ char *current = NULL;
		size_t current_len;

		r = rules_file_commit(path90, src90->data, src90->len, exists90, newtext.buf,
				      newtext.len, &current, &current_len);
	}
	if (r < 0) {
		struct pc_diags d2;

		pc_diags_init(&d2);
		/* (The elements, then the rules: two transactions on this
		 * path alone when both were sent.) */
		if ((with_elems &&
		     kernel_install_elem_change(dm->nl, a->ruleset, &ed.add, &ed.del, &d2) < 0) ||
		    ((ec.rs || relogged) && kernel_install(dm->nl, a->ruleset,
							   ec.rs ? ec.rs : relogged,
							   install_flags(dm, cfg), &d2) < 0))
			log_error("rollback failed: the kernel holds the change, the files do not");
		pc_diags_free(&d2);
		if (r == -ESTALE) {
			/* Edited by hand at this very moment: the full path. */
			r = 0;
			goto undo;
		}
		reply_set(reply, PC_STATUS_FAILURE,
			  "cannot write %s (%s): the change was rolled back; check the "
			  "directory's permissions and free space",
			  path90, strerror(-r));
		r = -ECANCELED;
		goto undo;
	}
	/* Kernel and file hold the change: the model in memory follows. */
	if (!exists90)
		log_debug("in place: %s made", path90);
	pc_strbuf_printf(summary, "%s", rule->text);
	log_debug("in place: %s%s %s", runtime ? "runtime rule " : "", remove ? "deleted" : "added",
		  rule->text);
	if (ec.rs) {
		pc_ruleset_adopt(ec.rs, a->ruleset);
		a->ruleset = TAKE_PTR(ec.rs);
		pc_entry_edit_free(&ec);
	} else if (relogged) {
		pc_ruleset_adopt(relogged, a->ruleset);
		a->ruleset = TAKE_PTR(relogged);
	}
	if (with_elems && pc_rule_edit_commit(a->plan, a->ruleset, &ed) < 0)
		model_lost(dm);
	if (remove) {
		bool logged = rule->log && !runtime;

		moved = pc_config_rule_take(cfg, at);
		if (a->plan)
			pc_plan_rules_shift(a->plan, a->ruleset, &moved);
		if (ix)
			rule_index_remove(&dm->index, at, logged);
	} else if (ix) {
		rule_index_insert(&dm->index, at, rule, !runtime);
	}
	/* The spare no longer compiles the configuration in force. */
	pc_ruleset_free(TAKE_PTR(dm->spare));
	if (runtime) {
		runtime_clear(&dm->runtime);
		dm->runtime = rt;
	} else {
		file90_adopt(cfg, path90, &newtext, newlines);
		r = pc_state_save(&dm->paths, cfg);
		if (r < 0)
			log_warning_errno(r, "cannot save the last good configuration: %m");
	}
	pc_rule_edit_free(&ed);
	pc_strbuf_free(&newtext);
	pc_diags_free(&d);
	apply_stats_record(dm, true);
	return 1;
undo:
	/* 0 goes on to state_commit, which counts it. */
	if (r < 0)
		apply_stats_record(dm, false);
	if (shifted)
		lines_move(cfg, later, end90, -shift);
	pc_entry_edit_undo(a->plan, &ec);
	pc_ruleset_free(relogged);
	if (placed) {
		moved = pc_config_rule_take(cfg, at);
		pc_plan_rules_shift(a->plan, a->ruleset, &moved);
	}
	pc_config_truncate(cfg, n_rules, n_sources);
	pc_rule_edit_free(&ed);
	pc_strbuf_free(&newtext);
	runtime_clear(&rt);
	pc_diags_free(&d);
	return r;
}

int state_runtime_drop(struct daemon *dm, size_t i, struct pc_reply *reply)
{
	const struct rule_index *ix = state_rule_index(dm);
	struct pc_strbuf summary = {0};
	struct change ch = {.kind = CHANGE_DELETE};
	char path90[4096];
	int r;

	if (!dm->applied || !dm->applied->cfg || path90_get(&dm->paths, path90, sizeof(path90)) < 0)
		return 0;
	/* The runtime rules follow the file's: by its number. */
	ch.number = (ix ? ix->end90 : cli_end(dm->applied->cfg, path90)) + i + 1;
	r = state_rule_edit(dm, &ch, &summary, reply);
	pc_strbuf_free(&summary);
	return r;
}

/*
 * "portctl service NAME PORTS" of a name nothing defines, in O(change): no
 * rule can name it yet, so the kernel keeps what it holds; the line goes
 * to the end of the CLI rules file and the service into the configuration
 * in force. 1 done (summary set), 0 when the change takes state_commit
 * (a name defined already, shipped too, a bad line: nothing changed), or
 * -errno.
 */
int state_service_define(struct daemon *dm, const struct change *ch, struct pc_strbuf *summary,
			 struct pc_reply *reply)
{
	struct pc_applied *a = dm->applied;
	struct pc_strbuf newtext = {0};
	size_t n_rules, n_zones, n_services, n_sources, newlines;
	struct pc_source *src90;
	struct pc_service *svc;
	struct pc_config *cfg;
	char path90[4096];
	struct pc_diags d;
	bool exists90;
	char *data;
	int r;

	if (!state_in_place_ok(dm) || ch->dry_run || ch->kind != CHANGE_DEFINE ||
	    strncmp(ch->rule, "service ", 8) || strpbrk(ch->rule, "\n\r\\") ||
	    path90_get(&dm->paths, path90, sizeof(path90)) < 0 || !(data = strdup(ch->rule)))
		return 0;
	cfg = a->cfg;
	n_rules = cfg->n_rules;
	n_zones = cfg->n_zones;
	n_services = cfg->n_services;
	n_sources = cfg->sources.n;
	pc_diags_init(&d);
	r = pc_parse_buffer(cfg, CLI_NAME, data, strlen(ch->rule), PC_ORIGIN_CLI, &d);
	svc = cfg->n_services == n_services + 1 ? &cfg->services[n_services] : NULL;
	if (r < 0 || pc_diags_has_errors(&d) || !svc || cfg->n_rules != n_rules ||
	    cfg->n_zones != n_zones || pc_config_service(cfg, svc->name) != svc) {
		r = 0;
		goto undo;
	}
	src90 = (struct pc_source *)pc_sources_find(&cfg->sources, path90);
	exists90 = src90 != NULL;
	if (!exists90 && !(src90 = cli_source_add(cfg, path90))) {
		r = -ENOMEM;
		goto undo;
	}
	if (!file90_unchanged(path90, src90->data, src90->len)) {
		r = 0;
		goto undo;
	}
	newlines = pc_source_newlines(src90);
	svc->loc.file = src90->name;
	svc->loc.line = rules_text_next_line(src90->data, src90->len, newlines);
	svc->origin = PC_ORIGIN_ADMIN;
	r = rules_text_edit(src90->data, src90->len, RULES_APPEND, svc->loc.line, ch->rule,
			    &newtext, &newlines);
	if (r >= 0) {
		_cleanup_free_ char *current = NULL;
		size_t current_len;

		r = rules_file_commit(path90, src90->data, src90->len, exists90, newtext.buf,
				      newtext.len, &current, &current_len);
	}
	if (r == -ESTALE) {
		r = 0;
		goto undo;
	}
	if (r < 0) {
		reply_set(reply, PC_STATUS_FAILURE,
			  "cannot write %s (%s): nothing changed; check the directory's "
			  "permissions and free space",
			  path90, strerror(-r));
		r = -ECANCELED;
		goto undo;
	}
	log_debug("in place: defined %s", ch->rule);
	pc_strbuf_printf(summary, "%s", ch->rule);
	file90_adopt(cfg, path90, &newtext, newlines);
	r = pc_state_save(&dm->paths, cfg);
	if (r < 0)
		log_warning_errno(r, "cannot save the last good configuration: %m");
	pc_diags_free(&d);
	return 1;
undo:
	cfg->n_services = n_services;
	cfg->n_zones = n_zones;
	pc_config_truncate(cfg, n_rules, n_sources);
	pc_strbuf_free(&newtext);
	pc_diags_free(&d);
	return r;
}

/* After a failed ban_one_in_place: the configuration and plan in force
 * hold the bans in force again, the ruleset's ban sets follow them. */
static void bans_in_force_again(struct daemon *dm)
{
	struct pc_applied *a = dm->applied;
	struct pc_diags d;

	pc_diags_init(&d);
	if (bans_compose(&dm->bans, now_wall(), a->cfg, &d) < 0 ||
	    pc_plan_bans_refresh(a->plan) < 0)
		model_lost(dm);
	else
		a->ruleset->bans_from = a->cfg;
	pc_diags_free(&d);
}

/*
 * One ban or unban among many, in O(bans) without a sort or a copy of the
 * sets: the configuration and plan in force take it (pc_plan_ban_edit, the
 * spans of the one ban set around it made again), the elements that differ
 * are sent, the ruleset's ban sets are left to catch up when next read
 * (pc_ruleset_bans_sync), and the change is one journal record. 1 done,
 * 0 take the other ways (nothing changed), -errno.
 */
static int ban_one_in_place(struct daemon *dm, struct bans *next, const struct ban_edit *edit)
{
	const struct ban *one = edit->ban;
	struct pc_applied *a = dm->applied;
	struct commit_mark before = commit_mark(dm);
	struct pc_rule_append del = {0}, add = {0};
	struct pc_ban_delta dl = {0};
	struct pc_prefix p;
	struct pc_diags d;
	uint64_t expires = 0;
	/* The kernel's one ban for every owner's claim on the address. */
	bool lifted = !bans_effective(next, one, edit->at, &expires);
	int r, edited;

	pc_diags_init(&d);
	r = pc_prefix_parse(one->addr, &p, &d);
	if (r >= 0 && !lifted && expires && expires <= now_wall())
		r = -EAGAIN;
	edited = r < 0 ? r
		       : pc_plan_ban_edit(a->plan, a->cfg, &p, one->zone[0] ? one->zone : NULL,
					  expires, lifted, &dl);
	r = edited;
	if (r > 0)
		r = pc_ban_delta_elems(a->ruleset, a->cfg, &dl, &del, &add);
	if (r >= 0)
		r = kernel_install_elem_change(dm->nl, a->ruleset, &del, &add, &d);
	if (r == -ESTALE)
		log_debug("ban in place: nftables changed since our last commit, the full path");
	if (r >= 0) {
		r = bans_record(&dm->paths, one, edit->unban, next);
		/* Unsaved, a ban would not survive a restart: take it back. */
		if (r < 0) {
			log_error_errno(r, "cannot save the bans under %s: %m", dm->paths.state_dir);
			if (kernel_install_elem_change(dm->nl, a->ruleset, &add, &del, &d) < 0)
				log_error("rollback failed: the kernel holds the bans, the state "
					  "directory does not");
		}
	}
	pc_rule_append_free(&del);
	pc_rule_append_free(&add);
	pc_ban_delta_free(&dl);
	pc_diags_free(&d);
	if (r < 0) {
		/* The edit refuses (-EINVAL, -EAGAIN) before it changes anything;
		 * otherwise the bans in force are made whole again. */
		if (edited >= 0 || edited == -ENOMEM)
			bans_in_force_again(dm);
		return r == -ENOMEM ? r : 0;
	}
	bans_adopt_one(dm, next, edit);
	apply_stats_record(dm, true);
	/* Ban elements alone changed: one more in a row of such, or the first. */
	if (memcmp(&dm->bans_only[1], &before, sizeof(before)))
		dm->bans_only[0] = before;
	dm->bans_only[1] = commit_mark(dm);
	return 1;
}

/*
 * Bans in O(bans): the configuration in force takes the next bans, the
 * spare ruleset (a second compile of the same configuration, kept for
 * this) gets its ban sets made again from them (pc_ruleset_bans_update),
 * and the difference against what the kernel holds, ban elements only, is
 * installed; then the two rulesets swap places. No rule is compiled.
 */
int state_bans_in_place(struct daemon *dm, struct bans *next, const struct ban_edit *one)
{
	struct pc_applied *a = dm->applied;
	struct pc_ban_entry *saved = NULL;
	struct pc_ruleset *installed_rs;
	size_t n_saved;
	struct pc_diags d;
	int r;

	if (!state_in_place_ok(dm))
		return 0;
	if (one && dm->kernel_known) {
		r = ban_one_in_place(dm, next, one);
		if (r != 0)
			return r;
	}
	/* The ban sets of the ruleset in force are read below, as a whole. */
	r = pc_ruleset_bans_sync(a->ruleset);
	if (r < 0)
		return r;
	n_saved = a->cfg->n_bans;
	if (n_saved && !(saved = malloc(n_saved * sizeof(*saved))))
		return -ENOMEM;
	if (n_saved)
		memcpy(saved, a->cfg->bans, n_saved * sizeof(*saved));
	pc_diags_init(&d);
	r = dm->spare ? 0 : pc_ruleset_lower(a->plan, &dm->spare, &d);
	if (r >= 0)
		r = bans_compose(next, now_wall(), a->cfg, &d);
	if (r >= 0)
		r = pc_config_validate_bans(a->cfg, &d);
	if (r >= 0 && pc_diags_has_errors(&d))
		r = -EINVAL;
	if (r >= 0)
		r = pc_ruleset_bans_update(dm->spare, a->cfg);
	if (r >= 0)
		r = kernel_install(dm->nl, dm->spare, a->ruleset, install_flags(dm, a->cfg), &d);
	if (r >= 0) {
		r = one ? bans_record(&dm->paths, one->ban, one->unban, next)
			: bans_save(&dm->paths, next);
		if (r < 0) {
			/* Unsaved, a ban would not survive a restart: take it back. */
			log_error_errno(r, "cannot save the bans under %s: %m", dm->paths.state_dir);
			if (kernel_install(dm->nl, a->ruleset, dm->spare, install_flags(dm, a->cfg),
					   &d) < 0)
				log_error("rollback failed: the kernel holds the bans, the state "
					  "directory does not");
		}
	}
	pc_diags_free(&d);
	if (r < 0) {
		/* The full path says what went wrong (or fails the same way). */
		if (n_saved)
			memcpy(a->cfg->bans, saved, n_saved * sizeof(*saved));
		a->cfg->n_bans = n_saved;
		free(saved);
		return r == -ENOMEM ? r : 0;
	}
	free(saved);
	installed_rs = dm->spare;
	dm->spare = a->ruleset;
	a->ruleset = installed_rs;
	if (pc_plan_bans_refresh(a->plan) < 0)
		model_lost(dm);
	bans_adopt(dm, next);
	apply_stats_record(dm, true);
	return 1;
}

int state_keep(struct daemon *dm, struct pc_config *cfg, enum daemon_source source,
	       const struct bans *bans)
{
	struct next nx = {.cfg = cfg, .source = source, .panic = -1};
	struct pc_applied *a = NULL;
	struct pc_diags d;
	int r = bans_copy(bans, &dm->bans);

	dm->bans_expiry = bans_next_expiry(&dm->bans);
	dm->source = SOURCE_KERNEL;
	if (r < 0 || !cfg) {
		pc_config_free(cfg);
		return r;
	}
	pc_diags_init(&d);
	r = compose(dm, &nx, bans, &a, &d);
	pc_diags_free(&d);
	if (r >= 0 && dm->panic)
		r = pc_ruleset_panic(&dm->panic_ruleset);
	if (r < 0) {
		pc_applied_free(a);
		return r == -ENOMEM ? r : 0;
	}
	rule_index_drop(&dm->index);
	dm->applied = a;
	dm->source = source;
	settings_adopt(dm, &a->cfg->settings);
	(void)state_rule_index(dm);
	(void)pc_config_ports_index(a->cfg);
	return 0;
}

int state_read_counters_of(struct daemon *dm, const struct pc_nl_counter_ref *refs, size_t n,
			   uint64_t *packets, uint64_t *bytes)
{
	if (!dm->applied || !dm->applied->ruleset || dm->disabled)
		return 0;
	return kernel_read_counters_of(dm->nl, dm->applied->ruleset, refs, n, packets, bytes);
}

int state_verify(struct daemon *dm, struct pc_nl_mismatches *out)
{
	const struct pc_ruleset *rs;

	rs = installed(dm);
	if (!rs)
		return -ENODATA;
	return kernel_verify(dm->nl, rs, out);
}

int state_nat_scan(struct daemon *dm, struct pc_nat_scan *out)
{
	return kernel_nat_scan(dm->nl, out);
}

int state_table_exists(struct daemon *dm)
{
	return kernel_table_exists(dm->nl);
}

void state_events_hook(struct daemon *dm, bool (*quiet)(void *))
{
	kernel_quiet_hook(quiet, dm);
}

void state_table_touched(void)
{
	kernel_table_touched();
}

bool state_committed_since(struct daemon *dm)
{
	uint32_t genid;

	if (!dm->kernel_known)
		return false;
	return kernel_genid(dm->nl, &genid) < 0 || genid != pc_nl_last_stats(dm->nl)->genid;
}

/* Where a clean stop leaves its memo of the kernel's table. */
#define TABLE_MEMO "table-memo"
/* A memo of this many bytes is damaged: 20 a rule, 16 million rules. */
#define TABLE_MEMO_MAX (320u << 20)

void state_memo_keep(struct daemon *dm)
{
	const struct pc_ruleset *rs = installed(dm);
	_cleanup_free_ char *text = NULL;
	char path[PATH_MAX];
	size_t len = 0;
	int r = rs ? kernel_memo_make(dm->nl, rs, &text, &len) : 0;

	if (r > 0)
		r = state_file_path(&dm->paths, TABLE_MEMO, path, sizeof(path));
	/* Not synced (a crash is a start that reads the table back) and
	 * mode 0600: it says only what the table holds. */
	if (r >= 0 && text)
		r = file_replace(path, text, len, 0600);
	if (r < 0)
		log_warning_errno(r, "cannot leave a memo of table inet %s: the next start reads "
				  "it back: %m", PC_TABLE_NAME);
	else if (text)
		log_debug("left a memo of table inet %s for the next start", PC_TABLE_NAME);
}

void state_memo_take(struct daemon *dm)
{
	_cleanup_free_ char *text = NULL;
	char path[PATH_MAX];
	size_t len = 0;
	int r = state_file_path(&dm->paths, TABLE_MEMO, path, sizeof(path));

	if (r >= 0)
		r = pc_read_file(path, TABLE_MEMO_MAX, &text, &len);
	if (r == -ENOENT)
		return;
	/* Used once: the next start after this one has its own, or none. */
	if (r >= 0 || r == -EFBIG)
		r = state_file_remove(&dm->paths, TABLE_MEMO);
	if (r >= 0 && text)
		r = kernel_memo_take(dm->nl, text, len);
	if (r < 0)
		log_warning_errno(r, "the memo of the last stop is left unused: %m");
	else if (r == 0)
		log_info("the memo of the last stop is damaged or another boot's or network "
			 "namespace's: ignored");
}

void state_done(struct daemon *dm)
{
	rule_index_drop(&dm->index);
	pc_applied_free(TAKE_PTR(dm->applied));
	pc_ruleset_free(TAKE_PTR(dm->panic_ruleset));
	pc_ruleset_free(TAKE_PTR(dm->spare));
	runtime_clear(&dm->runtime);
	bans_clear(&dm->bans);
}
