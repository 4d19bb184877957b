/* Rule changes from the command line: build the configuration with the
 * change, apply it in one transaction, then persist it to 90-portctl.rules
 * (or roll the kernel back when the file cannot be written). */
#include "config.h"

#include <errno.h>
#include <stdio.h>

#include "commands.h"
#include "log.h"
#include "persist.h"

#define RUNTIME_NAME "runtime"
#define CLI_NAME "command line"

/* A configuration being changed, and what the change does to the file. */
struct cand {
	struct pc_applied *a;
	char path90[4096];
	struct pc_source *src90; /* NULL when the file did not exist */
	struct pc_strbuf text90; /* the file's new text */
	bool file_changed;
	size_t removed_runtime[64]; /* indexes into dm->runtime */
	size_t n_removed_runtime;
	char *added_runtime; /* owned */
	struct pc_strbuf summary;
};

static void cand_free(struct cand *c)
{
	pc_applied_free(c->a);
	pc_strbuf_free(&c->text90);
	pc_strbuf_free(&c->summary);
	free(c->added_runtime);
}

static bool rule_in_file(const struct pc_rule *r, const char *path)
{
	return r->loc.file && streq(r->loc.file, path);
}

static bool rule_is_runtime(const struct pc_rule *r)
{
	return r->loc.file && streq(r->loc.file, RUNTIME_NAME);
}

void config_rule_move(struct pc_config *cfg, size_t from, size_t to)
{
	struct pc_rule tmp = cfg->rules[from];

	if (from > to)
		memmove(&cfg->rules[to + 1], &cfg->rules[to], (from - to) * sizeof(tmp));
	else if (from < to)
		memmove(&cfg->rules[from], &cfg->rules[from + 1], (to - from) * sizeof(tmp));
	cfg->rules[to] = tmp;
}

void config_rule_remove(struct pc_config *cfg, size_t i)
{
	memmove(&cfg->rules[i], &cfg->rules[i + 1], (cfg->n_rules - i - 1) * sizeof(cfg->rules[0]));
	cfg->n_rules--;
}

/* Where rules of 90-portctl.rules end: after every rule of rules.d files
 * that sort up to it (files are read in lexical order). */
static size_t cli_end(const struct pc_config *cfg, const char *path90)
{
	const char *base90 = strrchr(path90, '/');
	size_t dirlen = (size_t)(base90 - path90);

	/* From the end: only the rules after that file are looked at. */
	for (size_t i = cfg->n_rules; i-- > 0;) {
		const char *f = cfg->rules[i].loc.file;

		if (f && strncmp(f, path90, dirlen) == 0 && f[dirlen] == '/' &&
		    strcmp(f + dirlen, base90) <= 0)
			return i + 1;
	}
	return 0;
}

/* Parse text as exactly one rule, appended to cfg; its index in *idx. */
static int rule_parse_one(struct pc_config *cfg, const char *name, const char *text, size_t *idx,
			  struct pc_diags *d)
{
	size_t n_rules = cfg->n_rules, n_zones = cfg->n_zones, n_services = cfg->n_services;
	char *data = strdup(text);
	int r;

	if (!data)
		return -ENOMEM;
	r = pc_parse_buffer(cfg, name, data, strlen(text), PC_ORIGIN_CLI, d);
	if (r < 0)
		return r;
	if (cfg->n_rules != n_rules + 1 || cfg->n_zones != n_zones ||
	    cfg->n_services != n_services) {
		pc_error(d, NULL, "a command line holds exactly one rule");
		return -EINVAL;
	}
	*idx = n_rules;
	return 0;
}

/* The configuration's source of that name, to change its text. */
static struct pc_source *source_find(struct pc_config *cfg, const char *name)
{
	return (struct pc_source *)pc_sources_find(&cfg->sources, name);
}

/* As the loader: rules files beyond 64 MiB are refused anyway. */
#define FILE90_MAX ((size_t)64 * 1024 * 1024)

/* Whether the file on disk still holds what the configuration in force
 * read from it (src NULL: no such file): CLI changes rewrite it from the
 * daemon's copy, and must not silently drop an edit made by hand since. */
static bool file90_unchanged(const char *path, const struct pc_source *src)
{
	_cleanup_free_ char *data = NULL;
	size_t len = 0;
	int r = pc_read_file(path, FILE90_MAX, &data, &len);

	if (r == -ENOENT)
		return !src || src->len == 0;
	return r >= 0 && src && len == src->len && !memcmp(data, src->data, len);
}

static int reply_file90_edited(struct pc_reply *reply, const char *path)
{
	return reply_set(reply, PC_STATUS_FAILURE,
			 "%s was changed since the last reload, nothing changed: run 'portctl "
			 "reload' to apply the files, then repeat the command",
			 path);
}

/* Under dir, "dir/..."; the rest after the slash in *rel. */
static bool path_under(const char *path, const char *dir, const char **rel)
{
	size_t n = dir ? strlen(dir) : 0;

	if (!n || strncmp(path, dir, n) || path[n] != '/')
		return false;
	*rel = path + n + 1;
	return true;
}

/* A configuration parsed again from the file texts old was loaded from,
 * in the order they were read, without reading any file: portctl.conf,
 * shipped zones and services (or their replacements), rules.d, defaults.rules.
 * Command line, runtime and ban rules are not files; the caller places them. */
static int config_from_sources(const struct pc_paths *paths, const struct pc_config *old,
			       struct pc_config **out, struct pc_diags *d)
{
	struct pc_config *cfg = pc_config_new();
	size_t errors = d->n_errors;
	int r = 0;

	*out = cfg;
	if (!cfg)
		return -ENOMEM;
	/* defaults.rules in a second pass: a 90-portctl.rules created by the
	 * CLI was added to the sources after it, yet its rules come first. */
	for (size_t k = 0; r != -ENOMEM && k < 2 * old->sources.n; k++) {
		size_t i = k % old->sources.n;
		const struct pc_source *src = &old->sources.items[i];
		const char *rel;
		char *data;
		bool settings, admin, shipped;

		settings = path_under(src->name, paths->sysconf_dir, &rel) &&
			   streq(rel, "portctl.conf");
		admin = !settings && path_under(src->name, paths->sysconf_dir, &rel) &&
			!strncmp(rel, "rules.d/", 8);
		shipped = !settings && !admin &&
			  (path_under(src->name, paths->sysconf_dir, &rel) ||
			   path_under(src->name, paths->data_dir, &rel));
		if (!settings && !admin && !shipped)
			continue;
		if ((shipped && pc_shipped_origin(rel) == PC_ORIGIN_DEFAULTS) != (k >= old->sources.n))
			continue;
		data = malloc(src->len + 1);
		if (!data)
			return -ENOMEM;
		memcpy(data, src->data, src->len);
		data[src->len] = '\0';
		if (settings)
			r = pc_settings_parse(cfg, src->name, data, src->len, d);
		else
			r = pc_parse_buffer(cfg, src->name, data, src->len,
					    admin ? PC_ORIGIN_ADMIN : pc_shipped_origin(rel), d);
	}
	if (r == -ENOMEM || pc_config_validate(cfg, d) == -ENOMEM)
		return -ENOMEM;
	return d->n_errors > errors ? -EINVAL : 0;
}

/* The configuration files plus the runtime rules, as they stand now. */
static int cand_load(struct daemon *dm, struct cand *c, struct pc_diags *d)
{
	size_t pos, idx;
	int r;

	if (snprintf(c->path90, sizeof(c->path90), "%s/rules.d/%s", dm->paths.sysconf_dir,
		     PC_CLI_RULES_FILE) >= (int)sizeof(c->path90))
		return -ENAMETOOLONG;
	c->a = calloc(1, sizeof(*c->a));
	if (!c->a)
		return -ENOMEM;
	/* The configuration in force, not the files as they are now: a CLI
	 * change must not apply what someone edited since the last reload. */
	if (dm->applied && dm->applied->cfg && dm->source == SOURCE_FILES)
		r = config_from_sources(&dm->paths, dm->applied->cfg, &c->a->cfg, d);
	else
		r = pc_config_load(&dm->paths, &c->a->cfg, d);
	if (r < 0 || pc_diags_has_errors(d))
		return r < 0 ? r : -EINVAL;
	pos = cli_end(c->a->cfg, c->path90);
	for (size_t i = 0; i < dm->n_runtime; i++) {
		r = rule_parse_one(c->a->cfg, RUNTIME_NAME, dm->runtime[i], &idx, d);
		if (r < 0)
			return r;
		config_rule_move(c->a->cfg, idx, pos++);
	}
	r = bans_place(dm, c->a->cfg, d);
	if (r < 0)
		return r;
	c->src90 = source_find(c->a->cfg, c->path90);
	return pc_strbuf_append(&c->text90, c->src90 ? c->src90->data : "",
				c->src90 ? c->src90->len : 0);
}

/* Shift the lines of the file's rules at or after line by delta. */
static void lines_shift(struct cand *c, uint32_t line, int32_t delta)
{
	struct pc_config *cfg = c->a->cfg;

	for (size_t i = 0; i < cfg->n_rules; i++)
		if (rule_in_file(&cfg->rules[i], c->path90) && cfg->rules[i].loc.line >= line)
			cfg->rules[i].loc.line = (uint32_t)((int32_t)cfg->rules[i].loc.line + delta);
}

static int text90_edit(struct cand *c, enum rules_edit how, uint32_t line, const char *rule)
{
	struct pc_strbuf out;
	int r = rules_text_edit(c->text90.buf ? c->text90.buf : "", c->text90.len, how, line, rule,
				&out);

	if (r < 0)
		return r;
	pc_strbuf_free(&c->text90);
	c->text90 = out;
	c->file_changed = true;
	return 0;
}

/* Put the parsed rule at index `at` and, unless runtime, at `line` of the file. */
static int cand_place(struct cand *c, size_t idx, size_t at, bool runtime, uint32_t line,
		      bool append)
{
	struct pc_config *cfg = c->a->cfg;
	struct pc_rule *rule;
	int r;

	config_rule_move(cfg, idx, at);
	rule = &cfg->rules[at];
	if (runtime) {
		c->added_runtime = strdup(rule->text);
		return c->added_runtime ? 0 : -ENOMEM;
	}
	if (!append)
		lines_shift(c, line, 1);
	r = text90_edit(c, append ? RULES_APPEND : RULES_INSERT, line, rule->text);
	if (r < 0)
		return r;
	if (!c->src90) {
		/* The file is new: a source of that name keeps loc.file valid. */
		char *data = strdup("");

		if (!data || !pc_sources_add(&cfg->sources, c->path90, data, 0))
			return -ENOMEM;
		c->src90 = source_find(cfg, c->path90);
	}
	rule->loc.file = c->src90->name;
	rule->loc.line = line;
	rule->origin = PC_ORIGIN_ADMIN;
	return 0;
}

static size_t runtime_count(const struct pc_config *cfg)
{
	size_t n = 0;

	for (size_t i = 0; i < cfg->n_rules; i++)
		n += rule_is_runtime(&cfg->rules[i]);
	return n;
}

static int change_add(struct daemon *dm, struct cand *c, const struct change *ch,
		      struct pc_reply *reply, struct pc_diags *d)
{
	struct pc_config *cfg = c->a->cfg;
	size_t end = cli_end(cfg, c->path90), idx;
	uint32_t line = rules_text_next_line(c->text90.buf, c->text90.len);
	int r;

	r = rule_parse_one(cfg, ch->runtime ? RUNTIME_NAME : CLI_NAME, ch->rule, &idx, d);
	if (r < 0)
		return r;
	return cand_place(c, idx, ch->runtime ? end + runtime_count(cfg) - 1 : end, ch->runtime,
			  line, true);
}

/* The positions insert may use: the rules of 90-portctl.rules and the
 * place right after them; elsewhere the admin's own files decide. */
static int change_insert(struct daemon *dm, struct cand *c, const struct change *ch,
			 struct pc_reply *reply, struct pc_diags *d)
{
	struct pc_config *cfg = c->a->cfg;
	size_t first = cli_end(cfg, c->path90), n90 = 0, at = ch->number - 1, idx;
	uint32_t line;
	int r;

	if (ch->runtime)
		return reply_set(reply, PC_STATUS_USAGE,
				 "insert cannot be --runtime: use 'portctl allow --runtime ...'"),
		       -ECANCELED;
	for (size_t i = 0; i < cfg->n_rules; i++)
		if (rule_in_file(&cfg->rules[i], c->path90)) {
			first = n90 ? first : i;
			n90++;
		}
	if (at < first || at > first + n90) {
		const struct pc_rule *there = at < cfg->n_rules ? &cfg->rules[at] : NULL;

		reply_set(reply, PC_STATUS_USAGE,
			  "position %zu is outside the rules portctl manages (positions %zu-%zu; "
			  "rule %zu comes from %s): choose a position in that range, or edit "
			  "that file and run 'portctl reload'",
			  ch->number, first + 1, first + n90 + 1, ch->number,
			  there && there->loc.file ? there->loc.file : "nowhere");
		return -ECANCELED;
	}
	line = at < first + n90 ? cfg->rules[at].loc.line
				: rules_text_next_line(c->text90.buf, c->text90.len);
	r = rule_parse_one(cfg, CLI_NAME, ch->rule, &idx, d);
	if (r < 0)
		return r;
	return cand_place(c, idx, at, false, line, at == first + n90);
}

/* The canonical text of a rule as the user typed it, to compare. */
static int rule_canonical(const char *text, char **out, struct pc_diags *d)
{
	struct pc_config *scratch = pc_config_new();
	size_t idx;
	int r;

	if (!scratch)
		return -ENOMEM;
	r = rule_parse_one(scratch, CLI_NAME, text, &idx, d);
	if (r >= 0) {
		*out = strdup(scratch->rules[idx].text);
		r = *out ? 0 : -ENOMEM;
	}
	pc_config_free(scratch);
	return r;
}

static bool rule_selected(const struct pc_rule *r, size_t i, const struct change *ch,
			  const char *canonical)
{
	if (ch->number)
		return i + 1 == ch->number;
	if (canonical)
		return streq(r->text, canonical);
	return r->comment && streq(r->comment, ch->comment);
}

/* Remove rule i from the candidate (and from the file or runtime list). */
static int cand_remove(struct cand *c, size_t i, size_t runtime_index)
{
	struct pc_config *cfg = c->a->cfg;
	struct pc_rule *rule = &cfg->rules[i];
	int r;

	pc_strbuf_printf(&c->summary, "%s%s", c->summary.len ? "; " : "", rule->text);
	if (rule_is_runtime(rule)) {
		if (c->n_removed_runtime == ARRAY_SIZE(c->removed_runtime))
			return -E2BIG;
		c->removed_runtime[c->n_removed_runtime++] = runtime_index;
	} else {
		uint32_t line = rule->loc.line;
		uint32_t span = rules_text_span(c->text90.buf, c->text90.len, line);

		r = text90_edit(c, RULES_DELETE, line, NULL);
		if (r < 0)
			return r;
		lines_shift(c, line + 1, -(int32_t)span);
	}
	config_rule_remove(cfg, i);
	return 0;
}

static int change_delete(struct daemon *dm, struct cand *c, const struct change *ch,
			 struct pc_reply *reply, struct pc_diags *d)
{
	struct pc_config *cfg = c->a->cfg;
	_cleanup_free_ char *canonical = NULL;
	size_t n_found = 0, runtime_seen = runtime_count(cfg);
	int r;

	if (ch->rule) {
		r = rule_canonical(ch->rule, &canonical, d);
		if (r < 0)
			return r;
	}
	if (ch->number > cfg->n_rules)
		return reply_set(reply, PC_STATUS_USAGE,
				 "there is no rule %zu (there are %zu): see 'portctl status numbered'",
				 ch->number, cfg->n_rules),
		       -ECANCELED;
	/* From the last rule back, so earlier indexes and lines stay valid. */
	for (size_t i = cfg->n_rules; i-- > 0;) {
		const struct pc_rule *rule = &cfg->rules[i];

		runtime_seen -= rule_is_runtime(rule);
		if (!rule_selected(rule, i, ch, canonical))
			continue;
		if (!rule_in_file(rule, c->path90) && !rule_is_runtime(rule)) {
			reply_set(reply, PC_STATUS_USAGE,
				  "rule %zu (%s) comes from %s:%u, not from portctl: edit that "
				  "file and run 'portctl reload'",
				  i + 1, rule->text, rule->loc.file ? rule->loc.file : "?",
				  rule->loc.line);
			return -ECANCELED;
		}
		r = cand_remove(c, i, runtime_seen);
		if (r < 0)
			return r;
		n_found++;
		if (canonical)
			break;
	}
	if (n_found == 0)
		return reply_set(reply, PC_STATUS_USAGE,
				 "no rule matches: see 'portctl status numbered' for the rules "
				 "in force"),
		       -ECANCELED;
	return 0;
}

/* Write 90-portctl.rules' new text; on failure the reply says so, and the
 * caller takes the kernel back (rollback_done reports how that went). */
static int file90_write(const char *path, const struct pc_source *was, const struct pc_strbuf *text,
			struct pc_reply *reply)
{
	_cleanup_free_ char *cur = NULL;
	size_t cur_len;
	int r = rules_file_commit(path, was && was->data ? was->data : "", was ? was->len : 0, was,
				  text->buf ? text->buf : "", text->len, &cur, &cur_len);

	if (r == -ESTALE)
		return reply_file90_edited(reply, path), r;
	if (r < 0) {
		log_error_errno(r, "cannot write %s: %m; rolling the kernel back", path);
		reply_set(reply, PC_STATUS_FAILURE,
			  "cannot write %s (%s): the change was rolled back; check the "
			  "directory's permissions and free space",
			  path, strerror(-r));
	}
	return r;
}

static void rollback_done(int r, struct pc_diags *d)
{
	if (r < 0)
		log_error("rollback failed: the kernel holds the change, the files do not");
	pc_diags_free(d);
}

/* The file's new text, written, becomes its source in cfg (diagnostics,
 * the copy of the last good configuration), which is saved. */
static void file90_adopt(struct daemon *dm, struct pc_config *cfg, struct pc_source *src,
			 struct pc_strbuf *text)
{
	int r;

	free(src->data);
	src->data = TAKE_PTR(text->buf);
	src->len = text->len;
	*text = (struct pc_strbuf){0};
	r = pc_state_save(&dm->paths, cfg);
	if (r < 0)
		log_warning_errno(r, "cannot save the last good configuration: %m");
}

/* Kernel first, then the file: a refused change leaves the file alone, and
 * a file that cannot be written takes the kernel back. */
static int cand_commit(struct daemon *dm, struct cand *c, const struct change *ch,
		       struct pc_reply *reply, struct pc_diags *d)
{
	const struct pc_ruleset *old = dm->applied ? dm->applied->ruleset : NULL;
	int r;

	/* Parsing the change added sources: the array may have moved since
	 * cand_load found the file's. */
	c->src90 = source_find(c->a->cfg, c->path90);
	r = pc_config_validate(c->a->cfg, d);
	if (r >= 0 && !pc_diags_has_errors(d))
		r = pc_plan_build(c->a->cfg, &c->a->plan, d);
	if (r >= 0 && !pc_diags_has_errors(d))
		r = pc_ruleset_lower(c->a->plan, &c->a->ruleset, d);
	if (r < 0 || pc_diags_has_errors(d))
		return reply_diags(reply, PC_STATUS_USAGE, "the rule was refused, nothing changed:",
				   d, c->a->cfg),
		       -ECANCELED;
	if (c->file_changed && dm->source == SOURCE_FILES && !file90_unchanged(c->path90, c->src90))
		return reply_file90_edited(reply, c->path90), -ECANCELED;
	if (guard_check(dm, &ch->guard, dm->applied ? dm->applied->cfg : NULL, c->a->cfg, reply,
			NULL) < 0)
		return -ECANCELED;
	r = pc_nl_apply(dm->nl, c->a->ruleset, old, daemon_apply_flags(dm), d);
	if (r < 0)
		return reply_diags(reply, PC_STATUS_FAILURE,
				   "the kernel refused the change, nothing changed:", d, c->a->cfg),
		       -ECANCELED;
	if (!c->file_changed)
		return 0;
	if (file90_write(c->path90, c->src90, &c->text90, reply) < 0) {
		struct pc_diags d2;

		pc_diags_init(&d2);
		rollback_done(old ? pc_nl_apply(dm->nl, old, c->a->ruleset, daemon_apply_flags(dm), &d2)
				  : 0,
			      &d2);
		return -ECANCELED;
	}
	file90_adopt(dm, c->a->cfg, c->src90, &c->text90);
	return 0;
}

static void runtime_update(struct daemon *dm, struct cand *c)
{
	/* removed_runtime holds indexes in descending order. */
	for (size_t k = 0; k < c->n_removed_runtime; k++) {
		size_t i = c->removed_runtime[k];

		free(dm->runtime[i]);
		memmove(&dm->runtime[i], &dm->runtime[i + 1],
			(dm->n_runtime - i - 1) * sizeof(char *));
		dm->n_runtime--;
	}
	if (c->added_runtime) {
		char **slot = PC_ARRAY_PUSH(dm->runtime, dm->n_runtime, dm->cap_runtime);

		if (slot)
			*slot = TAKE_PTR(c->added_runtime);
	}
}

static const char *const change_verbs[] = {
	[CHANGE_ADD] = "added", [CHANGE_INSERT] = "inserted", [CHANGE_DELETE] = "deleted",
	[CHANGE_BAN] = "banned", [CHANGE_UNBAN] = "unbanned"};

void change_done(const struct pc_peer *peer, enum change_kind kind, bool runtime,
		 const char *summary, struct pc_reply *reply)
{
	log_notice("uid %u pid %d: %s %s%s", peer->uid, (int)peer->pid, change_verbs[kind], summary,
		   runtime ? " (runtime)" : "");
	reply_set(reply, PC_STATUS_OK, "rule %s%s: %s", change_verbs[kind],
		  runtime ? " until the next reload (--runtime)" : "", summary);
}

bool applied_in_place_ok(const struct daemon *dm)
{
	const struct pc_applied *a = dm->applied;

	return dm->cli_changes && a && a->cfg && a->plan && a->ruleset &&
	       dm->source == SOURCE_FILES && !dm->pending && !dm->panic;
}

void applied_model_lost(struct daemon *dm)
{
	log_error("out of memory updating the rules in memory; the kernel holds them, and the "
		  "next change compiles everything and replaces the table");
	pc_plan_free(dm->applied->plan);
	dm->applied->plan = NULL;
	pc_ruleset_free(dm->applied->ruleset);
	dm->applied->ruleset = NULL;
}

void config_truncate(struct pc_config *cfg, size_t n_rules, size_t n_sources)
{
	cfg->n_rules = n_rules;
	while (cfg->sources.n > n_sources) {
		struct pc_source *src = &cfg->sources.items[--cfg->sources.n];

		free(src->name);
		free(src->data);
	}
}

/* Whether a rule text can be added in place: one line starting with
 * "allow", "deny" or "reject", so the parse adds one rule and no zone or
 * service (which could move the arrays the plan points into). */
static bool fast_add_text(const char *text)
{
	return (!strncmp(text, "allow ", 6) || !strncmp(text, "deny ", 5) ||
		!strncmp(text, "reject ", 7)) &&
	       !strpbrk(text, "\n\r\\");
}

/*
 * The usual change, "portctl allow 443/tcp" (or deny, reject), in
 * O(change): the rule is parsed into the configuration in force, and when
 * it merges into the last port map of its chains, only its new map
 * elements are built and sent, in one transaction carrying the generation
 * id. Rules after 90-portctl.rules (defaults.rules' "allow ssh", later
 * files, runtime rules) may follow it in that map as long as none of them
 * decides a port of the new rule.
 * Returns 1 when handled (reply set), 0 when the change needs the full path
 * (nothing changed), or -errno.
 */
static int fast_add(struct daemon *dm, const struct change *ch, struct pc_reply *reply,
		    struct pc_diags *d)
{
	struct pc_applied *a = dm->applied;
	struct pc_rule_append app = { 0 };
	struct pc_strbuf text = { 0 };
	size_t n_rules, n_sources, idx, at;
	struct pc_source *src90;
	struct pc_config *cfg;
	struct pc_rule *rule;
	char path90[4096];
	int r;

	if (ch->kind != CHANGE_ADD || ch->runtime || !fast_add_text(ch->rule) ||
	    !applied_in_place_ok(dm))
		return 0;
	cfg = a->cfg;
	if (snprintf(path90, sizeof(path90), "%s/rules.d/%s", dm->paths.sysconf_dir,
		     PC_CLI_RULES_FILE) >= (int)sizeof(path90))
		return 0;
	src90 = source_find(cfg, path90);
	/* Parsing must not move the rules (plan and ruleset point at them). */
	if (!src90 || cfg->n_rules == cfg->cap_rules)
		return 0;
	at = cli_end(cfg, path90);
	n_rules = cfg->n_rules;
	n_sources = cfg->sources.n;
	r = rule_parse_one(cfg, CLI_NAME, ch->rule, &idx, d);
	if (r >= 0)
		r = pc_config_validate_rule(cfg, idx, d);
	if (r == -EINVAL) {
		reply_diags(reply, PC_STATUS_USAGE, "the rule was refused, nothing changed:", d,
			    cfg);
		r = 1;
		goto undo;
	}
	if (r < 0)
		goto undo;
	rule = &cfg->rules[idx];
	/* The parse added a source: the array may have moved. */
	src90 = source_find(cfg, path90);
	rule->loc.file = src90->name;
	rule->loc.line = rules_text_next_line(src90->data, src90->len);
	rule->origin = PC_ORIGIN_ADMIN;
	if (!file90_unchanged(path90, src90)) {
		reply_file90_edited(reply, path90);
		r = 1;
		goto undo;
	}
	r = pc_rule_append_prepare(a->plan, a->ruleset, rule,
				   at < n_rules ? &cfg->rules[at] : NULL, &app);
	/* A deny that would decide the admin's own SSH reconnect goes the
	 * full path, whose guard refuses it or heeds --force. */
	if (r >= 0) {
		r = guard_check_in_place(&ch->guard, a->plan, &app, reply);
		if (r == -EPERM) {
			r = 1;
			goto undo;
		}
		r = r > 0 ? -EOPNOTSUPP : r;
	}
	if (r >= 0)
		r = rules_text_edit(src90->data, src90->len, RULES_APPEND, rule->loc.line,
				    rule->text, &text);
	if (r >= 0)
		r = pc_nl_apply_elements(dm->nl, a->ruleset, &app, true, d);
	if (r == -EOPNOTSUPP || r == -ESTALE) {
		r = 0;
		goto undo;
	}
	if (r < 0) {
		reply_diags(reply, PC_STATUS_FAILURE, "the kernel refused the change, nothing changed:",
			    d, cfg);
		r = 1;
		goto undo;
	}
	if (file90_write(path90, src90, &text, reply) < 0) {
		struct pc_diags d2;

		pc_diags_init(&d2);
		rollback_done(pc_nl_apply_elements(dm->nl, a->ruleset, &app, false, &d2), &d2);
		r = 1;
		goto undo;
	}
	/* Kernel and file hold the rule: the model in memory follows, the
	 * rule in its place in file order. */
	config_rule_move(cfg, idx, at);
	pc_plan_rules_shift(a->plan, a->ruleset, &cfg->rules[at], &cfg->rules[n_rules], 1);
	rule = &cfg->rules[at];
	if (pc_rule_append_commit(a->plan, a->ruleset, rule, &app) < 0)
		applied_model_lost(dm);
	file90_adopt(dm, cfg, src90, &text);
	change_done(ch->peer, CHANGE_ADD, false, ch->rule, reply);
	pc_rule_append_free(&app);
	return 1;
undo:
	config_truncate(cfg, n_rules, n_sources);
	pc_rule_append_free(&app);
	pc_strbuf_free(&text);
	return r;
}

int change_apply(struct daemon *dm, const struct change *ch, struct pc_reply *reply)
{
	struct cand c = {0};
	struct pc_diags d;
	int r;

	if (!dm->cli_changes)
		return reply_set(reply, PC_STATUS_DENIED,
				 "changes from the command line are turned off (cli-changes = no "
				 "in portctl.conf): edit the files in %s/rules.d and run "
				 "'portctl reload'",
				 dm->paths.sysconf_dir);
	pc_diags_init(&d);
	r = fast_add(dm, ch, reply, &d);
	if (r != 0) {
		pc_diags_free(&d);
		return r < 0 ? r : 0;
	}
	/* Diagnostics of the attempt would repeat in the full path's. */
	pc_diags_free(&d);
	pc_diags_init(&d);
	/* The full path diffs against the ruleset in force (a ban or an unban
	 * gets here without the refresh other commands had). */
	bans_model_refresh(dm);
	r = cand_load(dm, &c, &d);
	if (r == -EINVAL) {
		reply_diags(reply, PC_STATUS_FAILURE,
			    "the configuration files have errors; fix them first:", &d, c.a->cfg);
		goto out;
	}
	if (r >= 0)
		/* A ban's change is already in dm->bans, placed by cand_load. */
		r = ch->kind == CHANGE_BAN || ch->kind == CHANGE_UNBAN ? 0
		    : ch->kind == CHANGE_ADD	  ? change_add(dm, &c, ch, reply, &d)
		    : ch->kind == CHANGE_INSERT ? change_insert(dm, &c, ch, reply, &d)
						: change_delete(dm, &c, ch, reply, &d);
	if (r == -EINVAL) {
		reply_diags(reply, PC_STATUS_USAGE, "the rule was refused, nothing changed:", &d,
			    c.a->cfg);
		goto out;
	}
	if (r >= 0)
		r = cand_commit(dm, &c, ch, reply, &d);
	if (r < 0)
		goto out;
	if (ch->kind != CHANGE_DELETE)
		pc_strbuf_printf(&c.summary, "%s", ch->rule);
	change_done(ch->peer, ch->kind, ch->runtime, c.summary.buf ? c.summary.buf : "", reply);
	runtime_update(dm, &c);
	pc_applied_free(dm->applied);
	dm->applied = TAKE_PTR(c.a);
	dm->source = SOURCE_FILES;
out:
	cand_free(&c);
	pc_diags_free(&d);
	return r == -ECANCELED || r == -EINVAL ? 0 : r;
}
