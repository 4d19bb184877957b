/* The desired state's parts, without the kernel: the candidate a CLI rule
 * change makes (the files' texts parsed again, the runtime rules placed,
 * the change in the configuration and in the CLI rules file's text), and
 * the bans (parsed, kept, expired, composed ahead of every rule). */
#include "config.h"

#include <errno.h>
#include <stdio.h>

#include "log.h"
#include "model.h"

static bool rule_in_file(const struct pc_rule *r, const char *path)
{
	return r->loc.file && streq(r->loc.file, path);
}

bool rule_is_runtime(const struct pc_rule *r)
{
	return r->loc.file && streq(r->loc.file, RUNTIME_NAME);
}





/* Where rules of 90-portctl.rules end: after every rule of rules.d files
 * that sort up to it (files are read in lexical order). */
struct pc_source *cli_source_add(struct pc_config *cfg, const char *path90)
{
	char *empty = strdup("");
	struct pc_source *src;

	if (!empty || !pc_sources_add(&cfg->sources, path90, empty, 0)) {
		free(empty);
		return NULL;
	}
	/* As the loader reads it. */
	src = &cfg->sources.items[cfg->sources.n - 1];
	src->kind = PC_SOURCE_RULES;
	src->origin = PC_ORIGIN_ADMIN;
	return src;
}

size_t cli_end(const struct pc_config *cfg, const char *path90)
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
int rule_parse_one(struct pc_config *cfg, const char *name, const char *text, size_t *idx,
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


/* A set file's text, parsed by validation like the loader's. */
static int set_source_keep(struct pc_config *cfg, const struct pc_source *src, char *data)
{
	if (!pc_sources_add(&cfg->sources, src->name, data, src->len)) {
		free(data);
		return -ENOMEM;
	}
	cfg->sources.items[cfg->sources.n - 1].kind = PC_SOURCE_SET;
	return 0;
}

static bool source_is_admin_rules(const struct pc_source *src)
{
	return src->kind == PC_SOURCE_RULES && src->origin != PC_ORIGIN_CLI &&
	       src->origin != PC_ORIGIN_DEFAULTS;
}

/* Insertion sort: a handful of files, nearly in order already. */
static void sources_sort_by_name(const struct pc_config *cfg, size_t *idx, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		size_t v = idx[i], j = i;

		for (; j > 0 && strcmp(cfg->sources.items[idx[j - 1]].name,
				       cfg->sources.items[v].name) > 0;
		     j--)
			idx[j] = idx[j - 1];
		idx[j] = v;
	}
}

/*
 * A configuration parsed again from the texts old was read from, as each
 * was read (settings, rules with their origin), in the order they were
 * read, without reading any file: wherever they came from (the files, the
 * state directory's copies, the built-in safe policy). Command line,
 * runtime and ban rules are not files and are left out.
 */
int config_from_sources(const struct pc_paths *paths, const struct pc_config *old,
			struct pc_config **out, struct pc_diags *d)
{
	struct pc_config *cfg = pc_config_new();
	size_t errors = d->n_errors;
	int r = 0;

	(void)paths;
	*out = cfg;
	if (!cfg)
		return -ENOMEM;
	if (old->sets_dir && !(cfg->sets_dir = pc_arena_strdup(cfg->arena, old->sets_dir)))
		return -ENOMEM;
	/* A 90-portctl.rules the CLI created was added to the sources last,
	 * yet the loader reads rules.d in name order: the admin's rules files
	 * in that order (before 95-late.rules), then defaults.rules. */
	_cleanup_free_ size_t *order = malloc((old->sources.n + 1) * sizeof(*order));
	size_t n_admin = 0, next_admin = 0;

	if (!order)
		return -ENOMEM;
	for (size_t i = 0; i < old->sources.n; i++)
		if (source_is_admin_rules(&old->sources.items[i]))
			order[n_admin++] = i;
	sources_sort_by_name(old, order, n_admin);
	for (size_t k = 0; r != -ENOMEM && k < 2 * old->sources.n; k++) {
		const struct pc_source *src = &old->sources.items[k % old->sources.n];
		bool second = k >= old->sources.n;
		char *data;

		if (!second && source_is_admin_rules(src))
			src = &old->sources.items[order[next_admin++]];

		if (src->kind == PC_SOURCE_OTHER ||
		    (src->kind == PC_SOURCE_RULES && src->origin == PC_ORIGIN_CLI))
			continue;
		if ((src->kind == PC_SOURCE_RULES && src->origin == PC_ORIGIN_DEFAULTS) != second)
			continue;
		data = malloc(src->len + 1);
		if (!data)
			return -ENOMEM;
		memcpy(data, src->data, src->len);
		data[src->len] = '\0';
		if (src->kind == PC_SOURCE_SETTINGS)
			r = pc_settings_parse(cfg, src->name, data, src->len, d);
		else if (src->kind == PC_SOURCE_SET)
			r = set_source_keep(cfg, src, data);
		else
			r = pc_parse_file(cfg, src->name, data, src->len,
					  (enum pc_origin)src->origin, d);
	}
	if (r != -ENOMEM)
		r = pc_config_sets_reuse(cfg, old);
	if (r == -ENOMEM || pc_config_validate(cfg, d) == -ENOMEM)
		return -ENOMEM;
	return d->n_errors > errors ? -EINVAL : 0;
}

/* Shift the lines of the file's rules at or after line by delta. */
static void lines_shift(struct cand *c, uint32_t line, int32_t delta)
{
	struct pc_config *cfg = c->cfg;

	for (size_t i = 0; i < cfg->n_rules; i++)
		if (rule_in_file(&cfg->rules[i], c->path90) && cfg->rules[i].loc.line >= line)
			cfg->rules[i].loc.line = (uint32_t)((int32_t)cfg->rules[i].loc.line + delta);
}

static int text90_edit(struct cand *c, enum rules_edit how, uint32_t line, const char *rule)
{
	struct pc_strbuf out;
	int r = rules_text_edit(c->text90.buf ? c->text90.buf : "", c->text90.len, how, line, rule,
				&out, &c->newlines90);

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
	struct pc_config *cfg = c->cfg;
	struct pc_rule *rule;
	int r;

	pc_config_rule_move(cfg, idx, at);
	rule = &cfg->rules[at];
	/* Parsing the rule added a source: the array may have moved. */
	c->src90 = pc_sources_find(&cfg->sources, c->path90);
	if (runtime)
		return runtime_push(&c->runtime, rule->text, c->expires);
	if (!append)
		lines_shift(c, line, 1);
	r = text90_edit(c, append ? RULES_APPEND : RULES_INSERT, line, rule->text);
	if (r < 0)
		return r;
	if (!c->src90) {
		/* The file is new: a source of that name keeps loc.file valid. */
		c->src90 = cli_source_add(cfg, c->path90);
		if (!c->src90)
			return -ENOMEM;
		c->new90 = true;
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

static int change_add(struct cand *c, const struct change *ch, struct pc_diags *d)
{
	struct pc_config *cfg = c->cfg;
	size_t end = cli_end(cfg, c->path90), idx;
	uint32_t line = rules_text_next_line(c->text90.buf, c->text90.len, c->newlines90);
	int r;

	r = rule_parse_one(cfg, ch->runtime ? RUNTIME_NAME : CLI_NAME, ch->rule, &idx, d);
	if (r < 0)
		return r;
	c->expires = ch->expires;
	return cand_place(c, idx, ch->runtime ? end + runtime_count(cfg) - 1 : end, ch->runtime,
			  line, true);
}

/* The positions insert may use: the rules of 90-portctl.rules and the
 * place right after them; elsewhere the admin's own files decide. */
static int change_insert(struct cand *c, const struct change *ch, struct pc_reply *reply,
			 struct pc_diags *d)
{
	struct pc_config *cfg = c->cfg;
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
				: rules_text_next_line(c->text90.buf, c->text90.len, c->newlines90);
	r = rule_parse_one(cfg, CLI_NAME, ch->rule, &idx, d);
	if (r < 0)
		return r;
	return cand_place(c, idx, at, false, line, at == first + n90);
}

/* The rule the user typed, to compare by meaning (rule_same). Parsed
 * into the candidate, whose sources and arena outlive the reply:
 * diagnostics and the rule's lists point into them. The rule itself is
 * taken out again; *out keeps its parts. */
static int rule_typed(struct pc_config *cfg, const char *text, struct pc_rule *out,
		      struct pc_diags *d)
{
	size_t n_rules = cfg->n_rules, idx;
	int r = rule_parse_one(cfg, CLI_NAME, text, &idx, d);

	if (r >= 0)
		*out = cfg->rules[idx];
	cfg->n_rules = n_rules;
	return r;
}

static bool rule_selected(const struct pc_config *cfg, const struct pc_rule *r, size_t i,
			  const struct change *ch, const struct pc_rule *typed)
{
	if (ch->number)
		return i + 1 == ch->number;
	if (typed)
		return rule_same(cfg, r, typed);
	return r->comment && streq(r->comment, ch->comment);
}

static bool path_under(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	return path && !strncmp(path, dir, n) && path[n] == '/';
}

/* A rule the CLI may not delete: where it comes from, what to do instead. */
static int not_ours(const struct daemon *dm, const struct pc_rule *rule, size_t i,
		    struct pc_reply *reply)
{
	const char *file = rule->loc.file ? rule->loc.file : "?";

	if (rule->origin == PC_ORIGIN_DEFAULTS && !path_under(rule->loc.file, dm->paths.sysconf_dir))
		return reply_set(reply, PC_STATUS_USAGE,
				 "rule %zu (%s) is a shipped default, from %s:%u, which portctl "
				 "does not edit: to drop it, copy that file to %s/%s (a file there "
				 "replaces it), remove the line and run 'portctl reload'",
				 i + 1, rule->text, file, rule->loc.line, dm->paths.sysconf_dir,
				 PC_DEFAULTS_FILE);
	return reply_set(reply, PC_STATUS_USAGE,
			 "rule %zu (%s) comes from %s:%u, not from portctl: edit that file and "
			 "run 'portctl reload'",
			 i + 1, rule->text, file, rule->loc.line);
}

/* "delete deny from ADDR" of a banned address: bans are not rules. */
static bool ban_hint(const struct daemon *dm, const struct pc_rule *typed,
		     struct pc_reply *reply)
{
	char addr[BAN_ADDR_MAX];
	struct ban b;

	if (!typed || typed->action == PC_ALLOW || typed->action == PC_LIMIT ||
	    typed->n_from != 1 || typed->n_written_ports || typed->n_services || typed->n_to ||
	    pc_prefix_format(&typed->from[0], addr, sizeof(addr)) < 0 ||
	    ban_parse(addr, NULL, 0, &b) < 0)
		return false;
	for (size_t i = 0; i < dm->bans.n; i++)
		if (streq(dm->bans.items[i].addr, b.addr)) {
			reply_set(reply, PC_STATUS_USAGE,
				  "no rule matches, but %s is banned: a ban is not a rule, run "
				  "'portctl unban %s'%s%s",
				  b.addr, b.addr, dm->bans.items[i].zone[0] ? " --zone " : "",
				  dm->bans.items[i].zone);
			return true;
		}
	return false;
}

/* Remove rule i from the candidate (and from the file or runtime list). */
static int cand_remove(struct cand *c, size_t i, size_t runtime_index)
{
	struct pc_config *cfg = c->cfg;
	struct pc_rule *rule = &cfg->rules[i];
	int r;

	pc_strbuf_printf(&c->summary, "%s%s", c->summary.len ? "; " : "", rule->text);
	if (rule_is_runtime(rule)) {
		runtime_remove(&c->runtime, runtime_index);
	} else {
		uint32_t line = rule->loc.line;
		uint32_t span = rules_text_span(c->text90.buf, c->text90.len, line, c->newlines90);

		r = text90_edit(c, RULES_DELETE, line, NULL);
		if (r < 0)
			return r;
		lines_shift(c, line + 1, -(int32_t)span);
	}
	pc_config_rule_remove(cfg, i);
	return 0;
}

static int change_delete(const struct daemon *dm, struct cand *c, const struct change *ch,
			 struct pc_reply *reply, struct pc_diags *d)
{
	struct pc_config *cfg = c->cfg;
	struct pc_rule typed_rule, *typed = NULL;
	size_t n_found = 0, runtime_seen = runtime_count(cfg), foreign = SIZE_MAX;
	int r;

	if (ch->rule) {
		r = rule_typed(cfg, ch->rule, &typed_rule, d);
		if (r < 0)
			return r;
		typed = &typed_rule;
	}
	if (ch->number > cfg->n_rules)
		return reply_set(reply, PC_STATUS_USAGE,
				 "there is no rule %zu (there are %zu): see 'portctl status "
				 "numbered'%s",
				 ch->number, cfg->n_rules,
				 dm->bans.n ? "; bans are not numbered rules: lift one with "
					      "'portctl unban ADDRESS'"
					    : ""),
		       -ECANCELED;
	/* From the last rule back, so earlier indexes and lines stay valid. */
	for (size_t i = cfg->n_rules; i-- > 0;) {
		const struct pc_rule *rule = &cfg->rules[i];

		runtime_seen -= rule_is_runtime(rule);
		if (!rule_selected(cfg, rule, i, ch, typed))
			continue;
		if (!rule_in_file(rule, c->path90) && !rule_is_runtime(rule)) {
			/* By meaning, a rule of ours that means the same goes first. */
			if (typed) {
				foreign = i;
				continue;
			}
			return not_ours(dm, rule, i, reply), -ECANCELED;
		}
		r = cand_remove(c, i, runtime_seen);
		if (r < 0)
			return r;
		n_found++;
		if (typed)
			break;
	}
	if (n_found == 0 && foreign != SIZE_MAX)
		return not_ours(dm, &cfg->rules[foreign], foreign, reply), -ECANCELED;
	if (n_found == 0 && ban_hint(dm, typed, reply))
		return -ECANCELED;
	if (n_found == 0)
		return reply_set(reply, PC_STATUS_USAGE,
				 "no rule matches: see 'portctl status numbered' for the rules "
				 "in force"),
		       -ECANCELED;
	return 0;
}


int rule_index_get(struct rule_index *ix, const struct pc_config *cfg, const char *path90)
{
	if (ix->cfg == cfg)
		return 0;
	rule_index_drop(ix);
	ix->sigs = malloc((cfg->n_rules + 1) * sizeof(*ix->sigs));
	if (!ix->sigs)
		return -ENOMEM;
	ix->cap = cfg->n_rules + 1;
	ix->logged90 = 0;
	for (size_t i = 0; i < cfg->n_rules; i++) {
		const struct pc_rule *r = &cfg->rules[i];

		rule_signature(cfg, r, false, &ix->sigs[i]);
		if (pc_keycount_add(&ix->sig_counts, ix->sigs[i], 1) < 0) {
			rule_index_drop(ix);
			return -ENOMEM;
		}
		ix->logged90 += r->log && r->loc.file && streq(r->loc.file, path90);
	}
	ix->n = cfg->n_rules;
	ix->end90 = cli_end(cfg, path90);
	ix->cfg = cfg;
	return 0;
}

int rule_index_insert(struct rule_index *ix, size_t at, const struct pc_rule *r, bool in90)
{
	if (ix->n == ix->cap) {
		uint64_t *v = realloc(ix->sigs, 2 * ix->cap * sizeof(*v));

		if (!v) {
			rule_index_drop(ix);
			return -ENOMEM;
		}
		ix->sigs = v;
		ix->cap *= 2;
	}
	memmove(&ix->sigs[at + 1], &ix->sigs[at], (ix->n - at) * sizeof(*ix->sigs));
	rule_signature(ix->cfg, r, false, &ix->sigs[at]);
	if (pc_keycount_add(&ix->sig_counts, ix->sigs[at], 1) < 0) {
		rule_index_drop(ix);
		return -ENOMEM;
	}
	ix->n++;
	ix->end90 += in90 && at <= ix->end90;
	ix->logged90 += in90 && r->log;
	return 0;
}

void rule_index_remove(struct rule_index *ix, size_t at, bool logged)
{
	if (pc_keycount_add(&ix->sig_counts, ix->sigs[at], -1) < 0) {
		rule_index_drop(ix); /* made again when asked */
		return;
	}
	memmove(&ix->sigs[at], &ix->sigs[at + 1], (ix->n - at - 1) * sizeof(*ix->sigs));
	ix->n--;
	ix->end90 -= at < ix->end90;
	ix->logged90 -= logged;
}

void rule_index_drop(struct rule_index *ix)
{
	free(ix->sigs);
	pc_keycount_free(&ix->sig_counts);
	*ix = (struct rule_index){0};
}

/*
 * The rule a delete by text, number or comment takes, as change_delete
 * picks it, when it is a rule of the CLI rules file or a runtime rule: 1
 * or 2 with its index, 0 when the full path decides (another file's,
 * none, a comment that several rules have, or -ENOMEM).
 */
static int pick_kind(const struct pc_rule *r, const char *path90)
{
	return rule_in_file(r, path90) ? 1 : rule_is_runtime(r) ? 2 : 0;
}

int delete_pick(const struct pc_config *cfg, const char *path90, const struct change *ch,
		const struct rule_index *ix, size_t *idx)
{
	uint64_t sig = 0;
	struct pc_config *scratch = NULL;
	const struct pc_rule *typed = NULL;
	struct pc_diags d;
	size_t k, end = cfg->n_rules;
	int r = 0;

	if (ch->number) {
		if (ch->number > cfg->n_rules)
			return 0;
		*idx = ch->number - 1;
		return pick_kind(&cfg->rules[*idx], path90);
	}
	if (ch->comment) {
		size_t n = 0;

		for (size_t i = 0; i < cfg->n_rules && n < 2; i++)
			if (rule_selected(cfg, &cfg->rules[i], i, ch, NULL)) {
				*idx = i;
				n++;
			}
		return n == 1 ? pick_kind(&cfg->rules[*idx], path90) : 0;
	}
	if (!ch->rule || !(scratch = pc_config_new()))
		return 0;
	pc_diags_init(&d);
	if (rule_parse_one(scratch, CLI_NAME, ch->rule, &k, &d) >= 0)
		typed = &scratch->rules[k];
	if (typed && ix && (ix->cfg != cfg || !rule_signature(cfg, typed, true, &sig)))
		ix = NULL;
	/* Ours are the CLI file's rules and the runtime rules right after
	 * them: with the index, the rules of a later file (10,000 of them in
	 * 95-late.rules) are not read, nor those before the CLI file's. */
	if (ix)
		for (end = ix->end90; end < cfg->n_rules && rule_is_runtime(&cfg->rules[end]);)
			end++;
	/* From the last rule back (a runtime rule that means the same goes
	 * first); another file's goes on to one of ours before it. */
	for (size_t i = end; typed && i-- > 0;) {
		const struct pc_rule *rule = &cfg->rules[i];

		if (ix && i < ix->end90 && !rule_in_file(rule, path90))
			break;
		if ((ix && ix->sigs[i] != sig) || !rule_selected(cfg, rule, i, ch, typed))
			continue;
		if ((r = pick_kind(rule, path90)) > 0) {
			*idx = i;
			break;
		}
	}
	pc_diags_free(&d);
	pc_config_free(scratch);
	return r;
}

const struct pc_rule *rule_present(const struct pc_config *cfg, const char *text,
				   const struct rule_index *ix)
{
	struct pc_config *scratch = pc_config_new();
	const struct pc_rule *found = NULL;
	uint64_t sig = 0;
	struct pc_diags d;
	size_t idx;

	if (!scratch || !cfg)
		goto out;
	pc_diags_init(&d);
	/* Unparsable: not present; the change itself says what is wrong. */
	if (rule_parse_one(scratch, CLI_NAME, text, &idx, &d) >= 0) {
		if (ix && (ix->cfg != cfg || !rule_signature(cfg, &scratch->rules[idx], true, &sig)))
			ix = NULL;
		/* None has its signature, none is it (a change that adds it):
		 * not looked for. */
		bool none = ix && !pc_keycount_get(&ix->sig_counts, sig);

		for (size_t i = 0; !none && !found && i < cfg->n_rules; i++)
			if ((!ix || ix->sigs[i] == sig) &&
			    rule_same(cfg, &cfg->rules[i], &scratch->rules[idx]))
				found = &cfg->rules[i];
	}
	pc_diags_free(&d);
out:
	pc_config_free(scratch);
	return found;
}

int path90_get(const struct pc_paths *paths, char *buf, size_t size)
{
	return snprintf(buf, size, "%s/rules.d/%s", paths->sysconf_dir, PC_CLI_RULES_FILE) >=
			       (int)size
		       ? -ENAMETOOLONG
		       : 0;
}

void runtime_clear(struct runtime *rt)
{
	for (size_t i = 0; i < rt->n; i++)
		free(rt->items[i]);
	free(rt->items);
	free(rt->expires);
	*rt = (struct runtime){0};
}

int runtime_push(struct runtime *rt, const char *text, uint64_t expires)
{
	size_t n_expires = rt->n;
	uint64_t *e = PC_ARRAY_PUSH(rt->expires, n_expires, rt->cap_expires);
	char *copy = e ? strdup(text) : NULL;
	char **slot = copy ? PC_ARRAY_PUSH(rt->items, rt->n, rt->cap) : NULL;

	if (!slot) {
		free(copy);
		return -ENOMEM;
	}
	*e = expires;
	*slot = copy;
	return 0;
}

void runtime_remove(struct runtime *rt, size_t i)
{
	free(rt->items[i]);
	memmove(&rt->items[i], &rt->items[i + 1], (rt->n - i - 1) * sizeof(char *));
	memmove(&rt->expires[i], &rt->expires[i + 1], (rt->n - i - 1) * sizeof(uint64_t));
	rt->n--;
}

int runtime_copy(const struct runtime *from, struct runtime *to)
{
	*to = (struct runtime){0};
	for (size_t i = 0; i < from->n; i++)
		if (runtime_push(to, from->items[i], from->expires ? from->expires[i] : 0) < 0) {
			runtime_clear(to);
			return -ENOMEM;
		}
	return 0;
}

int runtime_temporary(const struct runtime *from, uint64_t now, struct runtime *to)
{
	*to = (struct runtime){0};
	for (size_t i = 0; i < from->n; i++) {
		uint64_t e = from->expires ? from->expires[i] : 0;

		if (e > now && runtime_push(to, from->items[i], e) < 0) {
			runtime_clear(to);
			return -ENOMEM;
		}
	}
	return 0;
}

uint64_t runtime_next_expiry(const struct runtime *rt)
{
	uint64_t first = 0;

	for (size_t i = 0; rt->expires && i < rt->n; i++)
		if (rt->expires[i] && (!first || rt->expires[i] < first))
			first = rt->expires[i];
	return first;
}

uint64_t runtime_rule_expires(const struct runtime *rt, const struct pc_rule *r, size_t *k)
{
	if (!rule_is_runtime(r))
		return 0;
	/* Runtime rules stand in cfg in the order of rt. */
	(*k)++;
	return *k <= rt->n && rt->expires ? rt->expires[*k - 1] : 0;
}

int runtime_place(const struct pc_paths *paths, struct pc_config *cfg, const struct runtime *rt,
		  struct pc_diags *d)
{
	char path90[4096];
	size_t pos, idx;
	int r = path90_get(paths, path90, sizeof(path90));

	if (r < 0)
		return r;
	pos = cli_end(cfg, path90);
	for (size_t i = 0; i < rt->n; i++) {
		r = rule_parse_one(cfg, RUNTIME_NAME, rt->items[i], &idx, d);
		if (r < 0)
			return r;
		pc_config_rule_move(cfg, idx, pos++);
	}
	return 0;
}

void cand_free(struct cand *c)
{
	pc_config_free(c->cfg);
	c->cfg = NULL;
	pc_config_free(c->prev);
	c->prev = NULL;
	pc_strbuf_free(&c->text90);
	pc_strbuf_free(&c->summary);
	runtime_clear(&c->runtime);
}

/* The files as the model in force read them (a CLI change must not apply
 * what someone edited since the last reload), with the CLI rules file's
 * text replaced by override90 when given (it was edited meanwhile). */
static int cand_files(const struct daemon *dm, struct cand *c, const char *override90,
		      size_t override90_len, struct pc_diags *d)
{
	const struct pc_config *in_force = dm->applied ? dm->applied->cfg : NULL;
	struct pc_config *copy = NULL;
	int r;

	if (!in_force || dm->source != SOURCE_FILES)
		return pc_config_load(&dm->paths, &c->cfg, d);
	if (!override90)
		return config_from_sources(&dm->paths, in_force, &c->cfg, d);
	/* The same texts, but the CLI rules file's as it is on disk now. */
	copy = pc_config_new();
	if (!copy)
		return -ENOMEM;
	for (size_t i = 0; i < in_force->sources.n; i++) {
		const struct pc_source *s = &in_force->sources.items[i];
		bool is90 = streq(s->name, c->path90);
		size_t len = is90 ? override90_len : s->len;
		char *data = malloc(len + 1);

		if (!data) {
			pc_config_free(copy);
			return -ENOMEM;
		}
		memcpy(data, is90 ? override90 : s->data, len);
		data[len] = '\0';
		if (!pc_sources_add(&copy->sources, s->name, data, len)) {
			pc_config_free(copy);
			return -ENOMEM;
		}
		copy->sources.items[copy->sources.n - 1].kind = s->kind;
		copy->sources.items[copy->sources.n - 1].origin = s->origin;
	}
	if (!pc_sources_find(&copy->sources, c->path90)) {
		char *data = malloc(override90_len + 1);

		if (!data || !pc_sources_add(&copy->sources, c->path90, data, override90_len)) {
			free(data);
			pc_config_free(copy);
			return -ENOMEM;
		}
		memcpy(data, override90, override90_len);
		data[override90_len] = '\0';
		copy->sources.items[copy->sources.n - 1].kind = PC_SOURCE_RULES;
		copy->sources.items[copy->sources.n - 1].origin = PC_ORIGIN_ADMIN;
	}
	r = config_from_sources(&dm->paths, copy, &c->cfg, d);
	pc_config_free(copy);
	return r;
}

/* --- zones and services from the command line --- */

struct def_found {
	const char *name;
	const struct pc_loc *loc;
	enum pc_origin origin;
};

static bool def_find(const struct pc_config *cfg, bool service, const char *name,
		     struct def_found *out)
{
	if (service) {
		for (size_t i = 0; i < cfg->n_services; i++)
			if (streq(cfg->services[i].name, name)) {
				*out = (struct def_found){name, &cfg->services[i].loc,
							  cfg->services[i].origin};
				return true;
			}
		return false;
	}
	for (size_t i = 0; i < cfg->n_zones; i++)
		if (streq(cfg->zones[i].name, name)) {
			*out = (struct def_found){name, &cfg->zones[i].loc, cfg->zones[i].origin};
			return true;
		}
	return false;
}

/* A definition the CLI may not touch: the admin's file to edit instead. */
static int def_not_ours(const char *what, const struct def_found *f, struct pc_reply *reply)
{
	return reply_set(reply, PC_STATUS_USAGE,
			 "%s '%s' is defined at %s:%u, not by portctl: edit that file and run "
			 "'portctl reload'",
			 what, f->name, f->loc->file ? f->loc->file : "?", f->loc->line),
	       -ECANCELED;
}

/* The first rule that names zone (or service) name. */
static const struct pc_rule *def_user(const struct pc_config *cfg, bool service,
				      const char *name, size_t *idx)
{
	for (size_t i = 0; i < cfg->n_rules; i++) {
		const struct pc_rule *r = &cfg->rules[i];
		const struct pc_name *names = service ? r->services : r->zones;
		size_t n = service ? r->n_services : r->n_zones;

		for (size_t k = 0; k < n; k++)
			if (streq(names[k].name, name)) {
				*idx = i;
				return r;
			}
	}
	return NULL;
}

/* The configuration again from its texts with the CLI rules file's new
 * text, runtime rules placed: a zone or service moves everything. */
static int cand_reparse(const struct daemon *dm, struct cand *c, struct pc_diags *d)
{
	struct pc_config *copy = pc_config_new();
	const struct pc_config *old = c->cfg;
	bool seen90 = false;
	int r = 0;

	if (!copy)
		return -ENOMEM;
	for (size_t i = 0; r >= 0 && i <= old->sources.n; i++) {
		const struct pc_source *s = i < old->sources.n ? &old->sources.items[i] : NULL;
		bool is90 = s ? streq(s->name, c->path90) : !seen90;
		const char *text = is90 ? (c->text90.buf ? c->text90.buf : "") : s ? s->data : NULL;
		size_t len = is90 ? c->text90.len : s ? s->len : 0;
		char *data;

		if (!text)
			continue;
		seen90 |= is90;
		data = malloc(len + 1);
		if (!data || !pc_sources_add(&copy->sources, s ? s->name : c->path90, data, len)) {
			free(data);
			r = -ENOMEM;
			break;
		}
		memcpy(data, text, len);
		data[len] = '\0';
		copy->sources.items[copy->sources.n - 1].kind = s ? s->kind : PC_SOURCE_RULES;
		copy->sources.items[copy->sources.n - 1].origin = s ? s->origin : PC_ORIGIN_ADMIN;
	}
	if (r >= 0) {
		c->prev = c->cfg;
		c->cfg = NULL;
		r = config_from_sources(&dm->paths, copy, &c->cfg, d);
	}
	pc_config_free(copy);
	if (r >= 0)
		r = runtime_place(&dm->paths, c->cfg, &c->runtime, d);
	c->src90 = c->cfg ? pc_sources_find(&c->cfg->sources, c->path90) : NULL;
	return r;
}

/* "zone NAME ..." / "service NAME ...": a shipped one is replaced by a
 * line appended, the CLI's own line is replaced in place, the admin's is
 * theirs to edit. */
static int change_define(const struct daemon *dm, struct cand *c, const struct change *ch,
			 struct pc_reply *reply, struct pc_diags *d)
{
	struct pc_config *cfg = c->cfg;
	size_t n_rules = cfg->n_rules, n_zones = cfg->n_zones, n_services = cfg->n_services;
	char name[PC_NAME_MAX + 1];
	struct def_found f;
	bool service;
	char *data = strdup(ch->rule);
	int r;

	if (!data)
		return -ENOMEM;
	r = pc_parse_buffer(cfg, CLI_NAME, data, strlen(ch->rule), PC_ORIGIN_CLI, d);
	if (r < 0)
		return r;
	if (cfg->n_rules != n_rules || cfg->n_zones + cfg->n_services != n_zones + n_services + 1) {
		pc_error(d, NULL, "a command line holds exactly one zone or service");
		return -EINVAL;
	}
	service = cfg->n_services > n_services;
	snprintf(name, sizeof(name), "%s",
		 service ? cfg->services[n_services].name : cfg->zones[n_zones].name);
	cfg->n_zones = n_zones;
	cfg->n_services = n_services;
	if (!def_find(cfg, service, name, &f) || f.origin == PC_ORIGIN_SHIPPED)
		r = text90_edit(c, RULES_APPEND, 0, ch->rule);
	else if (f.loc->file && streq(f.loc->file, c->path90)) {
		r = text90_edit(c, RULES_DELETE, f.loc->line, NULL);
		if (r >= 0)
			r = text90_edit(c, RULES_INSERT, f.loc->line, ch->rule);
	} else
		return def_not_ours(service ? "service" : "zone", &f, reply);
	if (r < 0)
		return r;
	return cand_reparse(dm, c, d);
}

static int change_undefine(const struct daemon *dm, struct cand *c, const struct change *ch,
			   struct pc_reply *reply, struct pc_diags *d)
{
	const char *what = ch->service ? "service" : "zone";
	const struct pc_rule *user;
	struct def_found f;
	size_t i;
	int r;

	if (!def_find(c->cfg, ch->service, ch->rule, &f))
		return reply_set(reply, PC_STATUS_USAGE, "there is no %s '%s': see 'portctl %ss'",
				 what, ch->rule, what),
		       -ECANCELED;
	if (f.origin == PC_ORIGIN_SHIPPED)
		return reply_set(reply, PC_STATUS_USAGE,
				 "%s '%s' is shipped (%s:%u) and cannot be deleted, only "
				 "replaced: 'portctl %s %s ...'",
				 what, f.name, f.loc->file ? f.loc->file : "?", f.loc->line, what,
				 f.name),
		       -ECANCELED;
	if (!f.loc->file || !streq(f.loc->file, c->path90))
		return def_not_ours(what, &f, reply);
	if ((user = def_user(c->cfg, ch->service, ch->rule, &i)))
		return reply_set(reply, PC_STATUS_USAGE,
				 "%s '%s' is used by rule %zu (%s) at %s:%u: delete that rule "
				 "first",
				 what, f.name, i + 1, user->text,
				 user->loc.file ? user->loc.file : "?", user->loc.line),
		       -ECANCELED;
	r = text90_edit(c, RULES_DELETE, f.loc->line, NULL);
	if (r < 0)
		return r;
	pc_strbuf_printf(&c->summary, "%s %s", what, ch->rule);
	return cand_reparse(dm, c, d);
}

int cand_build(const struct daemon *dm, const struct change *ch, const char *override90,
	       size_t override90_len, struct cand *c, struct pc_reply *reply, struct pc_diags *d)
{
	int r = path90_get(&dm->paths, c->path90, sizeof(c->path90));

	if (r < 0)
		return r;
	r = cand_files(dm, c, override90, override90_len, d);
	if ((r < 0 && r != -EINVAL) || r == -ENOMEM)
		return r;
	if (r < 0 || pc_diags_has_errors(d))
		return -EBADMSG;
	r = runtime_copy(&dm->runtime, &c->runtime);
	if (r >= 0)
		r = runtime_place(&dm->paths, c->cfg, &c->runtime, d);
	if (r < 0)
		return r;
	c->src90 = pc_sources_find(&c->cfg->sources, c->path90);
	r = pc_strbuf_append(&c->text90, c->src90 ? c->src90->data : "",
			     c->src90 ? c->src90->len : 0);
	c->newlines90 = c->src90 ? pc_source_newlines(c->src90) : 0;
	if (r < 0)
		return r;
	switch (ch->kind) {
	case CHANGE_ADD:
		r = change_add(c, ch, d);
		break;
	case CHANGE_INSERT:
		r = change_insert(c, ch, reply, d);
		break;
	case CHANGE_DELETE:
		r = change_delete(dm, c, ch, reply, d);
		break;
	case CHANGE_DEFINE:
		r = change_define(dm, c, ch, reply, d);
		break;
	case CHANGE_UNDEFINE:
		r = change_undefine(dm, c, ch, reply, d);
		break;
	}
	if (r >= 0 && ch->kind != CHANGE_DELETE && ch->kind != CHANGE_UNDEFINE)
		r = pc_strbuf_printf(&c->summary, "%s", ch->rule);
	return r;
}

/* --- the CLI rules file's text --- */

/* Byte offset of the start of 1-based line n in text (len if past the end).
 * newlines: text's '\n's, or SIZE_MAX; known, a line in the text's second
 * half is found from its end (a rule just added, deleted again: O(change)). */
static size_t line_offset(const char *text, size_t len, uint32_t n, size_t newlines)
{
	size_t off = 0;
	uint32_t l = 1;

	if (newlines != SIZE_MAX && n > 1 && n - 1 <= newlines && n - 1 > newlines / 2) {
		/* Line n starts after the (n-1)th '\n': the (newlines-n+2)th
		 * from the end. */
		const char *nl = text + len;

		for (size_t k = newlines - (n - 1) + 1; k > 0; k--)
			nl = memrchr(text, '\n', (size_t)(nl - text));
		return (size_t)(nl - text) + 1;
	}

	while (l < n && off + 8 <= len) {
		unsigned k = pc_newlines8(text + off);

		if (l + k >= n)
			break;
		l += k;
		off += 8;
	}
	for (; l < n && off < len; off++)
		l += text[off] == '\n';
	return off;
}

/* End of the logical line that starts at off: continuations ("\" at the
 * end of a physical line) belong to it. */
static size_t logical_line_end(const char *text, size_t len, size_t off)
{
	for (;;) {
		const char *nl = memchr(text + off, '\n', len - off);
		size_t end = nl ? (size_t)(nl - text) : len;

		if (!nl)
			return len;
		if (end == off || text[end - 1] != '\\')
			return end + 1;
		off = end + 1;
	}
}

uint32_t rules_text_span(const char *text, size_t len, uint32_t line, size_t newlines)
{
	size_t at = line_offset(text, len, line, newlines);
	size_t end = logical_line_end(text, len, at);
	uint32_t n = (uint32_t)pc_newlines(text + at, end - at);

	return n > 0 ? n : 1;
}

uint32_t rules_text_next_line(const char *text, size_t len, size_t newlines)
{
	/* An unterminated last line gets its newline before the new rule. */
	return (uint32_t)newlines + 1 + (len > 0 && text[len - 1] != '\n');
}

int rules_text_edit(const char *old, size_t old_len, enum rules_edit how, uint32_t line,
		    const char *rule_text, struct pc_strbuf *out, size_t *newlines)
{
	size_t at = how == RULES_APPEND ? old_len
					: line_offset(old, old_len, line, newlines ? *newlines : SIZE_MAX);
	size_t resume = at, added = 0;
	int r;

	*out = (struct pc_strbuf){0};
	if (how == RULES_DELETE)
		resume = logical_line_end(old, old_len, at);
	r = pc_strbuf_append(out, old, at);
	if (r >= 0 && at > 0 && old[at - 1] != '\n') {
		r = pc_strbuf_append(out, "\n", 1);
		added++;
	}
	if (r >= 0 && how != RULES_DELETE) {
		r = pc_strbuf_printf(out, "%s\n", rule_text);
		added += pc_newlines(rule_text, strlen(rule_text)) + 1;
	}
	if (r >= 0)
		r = pc_strbuf_append(out, old + resume, old_len - resume);
	if (r < 0)
		pc_strbuf_free(out);
	else if (newlines && *newlines != SIZE_MAX)
		*newlines += added - pc_newlines(old + at, resume - at);
	return r;
}

/* --- bans --- */

/* The address, its NUL, and the zone. */
static uint64_t ban_place_hash(const struct ban *b)
{
	return pc_fnv1a(pc_fnv1a(PC_FNV1A_START, b->addr, strlen(b->addr) + 1), b->zone,
			strlen(b->zone));
}

int ban_parse(const char *addr, const char *zone, uint64_t expires, struct ban *out)
{
	struct pc_prefix p;
	struct pc_diags d;
	int r;

	*out = (struct ban){.expires = expires};
	if (!addr || strlen(addr) >= BAN_ADDR_MAX || !strcmp(addr, "any"))
		return -EINVAL;
	pc_diags_init(&d);
	r = pc_prefix_parse(addr, &p, &d);
	pc_diags_free(&d);
	if (r < 0 || p.family == 0)
		return -EINVAL;
	r = pc_prefix_format(&p, out->addr, sizeof(out->addr));
	if (r < 0)
		return r;
	if (zone) {
		if (!pc_name_valid(zone) || strlen(zone) > PC_NAME_MAX)
			return -EINVAL;
		snprintf(out->zone, sizeof(out->zone), "%s", zone);
	}
	out->place = ban_place_hash(out);
	return 0;
}

int ban_owner_set(struct ban *b, const char *owner)
{
	if (!owner)
		owner = "";
	if (strlen(owner) > BAN_OWNER_MAX ||
	    strspn(owner, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") !=
		strlen(owner))
		return -EINVAL;
	snprintf(b->owner, sizeof(b->owner), "%s", owner);
	return 0;
}

bool ban_same_place(const struct ban *a, const struct ban *b)
{
	return a->place == b->place && streq(a->addr, b->addr) && streq(a->zone, b->zone);
}

ssize_t bans_index(const struct bans *bans, const struct ban *b)
{
	for (size_t i = 0; i < bans->n; i++)
		if (ban_same_place(&bans->items[i], b) && streq(bans->items[i].owner, b->owner))
			return (ssize_t)i;
	return -ENOENT;
}

ssize_t bans_place(const struct bans *bans, const struct ban *b)
{
	for (size_t i = 0; i < bans->n; i++)
		if (ban_same_place(&bans->items[i], b))
			return (ssize_t)i;
	return -ENOENT;
}

/* Room for a quarter more: the next ban appends to a copy in force without
 * moving the whole array (bans_view_append). */
static size_t bans_room(size_t n)
{
	return n + n / 4 + 16;
}

static struct ban *bans_base(const struct bans *bans)
{
	return bans->items ? bans->items - bans->skip : NULL;
}

/* One more slot at the end. Out of room, the slots left at the front are
 * taken back, with a quarter more room if they are fewer: a queue of bans
 * (the oldest lifted, a new one added) moves them all once in n/4 turns. */
static struct ban *bans_push(struct bans *bans)
{
	if (bans->n == bans->cap && bans->skip) {
		struct ban *base = bans_base(bans);

		memmove(base, bans->items, bans->n * sizeof(*base));
		bans->items = base;
		bans->cap += bans->skip;
		bans->skip = 0;
		if (bans->cap < bans_room(bans->n)) {
			base = realloc(base, bans_room(bans->n) * sizeof(*base));
			if (!base)
				return NULL;
			bans->items = base;
			bans->cap = bans_room(bans->n);
		}
	}
	return PC_ARRAY_PUSH(bans->items, bans->n, bans->cap);
}

int bans_insert(struct bans *bans, const struct ban *b)
{
	ssize_t at = bans_place(bans, b);
	size_t i;

	if (!bans_push(bans))
		return -ENOMEM;
	if (at < 0) {
		bans->items[bans->n - 1] = *b;
		return 0;
	}
	for (i = (size_t)at; i < bans->n - 1 && ban_same_place(&bans->items[i], b); i++)
		;
	memmove(&bans->items[i + 1], &bans->items[i], (bans->n - 1 - i) * sizeof(*b));
	bans->items[i] = *b;
	return 0;
}

bool bans_effective(const struct bans *bans, const struct ban *b, size_t at, uint64_t *expires)
{
	size_t first;

	if (at < bans->n && ban_same_place(&bans->items[at], b))
		first = at;
	else if (at > 0 && at <= bans->n && ban_same_place(&bans->items[at - 1], b))
		first = at - 1;
	else
		return false;
	while (first > 0 && ban_same_place(&bans->items[first - 1], b))
		first--;
	*expires = bans->items[first].expires;
	for (size_t i = first; i < bans->n && ban_same_place(&bans->items[i], b); i++)
		if (!bans->items[i].expires || (*expires && bans->items[i].expires > *expires))
			*expires = bans->items[i].expires;
	return true;
}

int bans_copy(const struct bans *from, struct bans *to)
{
	*to = (struct bans){0};
	if (!from->n)
		return 0;
	to->items = malloc(bans_room(from->n) * sizeof(*to->items));
	if (!to->items)
		return -ENOMEM;
	memcpy(to->items, from->items, from->n * sizeof(*to->items));
	to->n = from->n;
	to->cap = bans_room(from->n);
	return 0;
}

int bans_view_without(struct bans *in_force, size_t at, size_t n, struct bans *view)
{
	struct ban one, *gone = n == 1 ? &one : malloc(n * sizeof(*gone));
	struct ban *items = in_force->items;
	size_t after = in_force->n - at - n;

	if (!gone)
		return -ENOMEM;
	memcpy(gone, items + at, n * sizeof(*gone));
	*view = *in_force;
	view->n -= n;
	if (at < after) {
		memmove(items + n, items, at * sizeof(*gone));
		memcpy(items, gone, n * sizeof(*gone));
		view->items += n;
		view->cap -= n;
		view->skip += n;
	} else {
		memmove(items + at, items + at + n, after * sizeof(*gone));
		memcpy(items + at + after, gone, n * sizeof(*gone));
	}
	if (gone != &one)
		free(gone);
	return 0;
}

int bans_view_renew(struct bans *in_force, size_t at, const struct ban *b, struct bans *view)
{
	struct ban old;

	if (!bans_push(in_force))
		return -ENOMEM;
	in_force->n--;
	old = in_force->items[at];
	memmove(in_force->items + 1, in_force->items, at * sizeof(old));
	in_force->items[0] = old;
	in_force->items[in_force->n] = *b;
	*view = *in_force;
	view->items++;
	view->cap--;
	view->skip++;
	return 0;
}

int bans_view_append(struct bans *in_force, const struct ban *b, struct bans *view)
{
	if (!bans_push(in_force))
		return -ENOMEM;
	in_force->n--;
	in_force->items[in_force->n] = *b;
	*view = *in_force;
	view->n++;
	return 0;
}

size_t bans_expire(struct bans *bans, uint64_t now)
{
	size_t kept = 0, n = bans->n;

	for (size_t i = 0; i < n; i++)
		if (!bans->items[i].expires || bans->items[i].expires > now)
			bans->items[kept++] = bans->items[i];
	bans->n = kept;
	return n - kept;
}

uint64_t bans_next_expiry(const struct bans *bans)
{
	uint64_t next = 0;

	for (size_t i = 0; i < bans->n; i++)
		if (bans->items[i].expires && (!next || bans->items[i].expires < next))
			next = bans->items[i].expires;
	return next;
}

void bans_clear(struct bans *bans)
{
	free(bans_base(bans));
	*bans = (struct bans){0};
}

uint64_t daemon_changes(const struct daemon *dm)
{
	return dm->stats.applies_ok + dm->stats.applies_failed;
}

uint64_t expiry_retry_hold(const struct expiry_retry *r, uint64_t deadline)
{
	return deadline < r->at ? r->at : deadline;
}

void expiry_retry_failed(struct expiry_retry *r)
{
	r->wait_ms = r->wait_ms ? r->wait_ms * 2 : 1000;
	if (r->wait_ms > 60000)
		r->wait_ms = 60000;
	r->at = pc_now_ms() + r->wait_ms;
}

void expiry_retry_done(struct expiry_retry *r)
{
	*r = (struct expiry_retry){0};
}

void bans_release(struct bans *next, const struct bans *in_force)
{
	if (bans_base(next) != bans_base(in_force))
		free(bans_base(next));
	*next = (struct bans){0};
}

void bans_take(struct bans *to, struct bans *from)
{
	if (bans_base(to) != bans_base(from))
		free(bans_base(to));
	*to = *from;
	*from = (struct bans){0};
}

void ban_summary(const struct ban *b, char *out, size_t size)
{
	snprintf(out, size, "%s%s%s%s%s", b->addr, b->zone[0] ? " zone " : "", b->zone,
		 b->owner[0] ? " by " : "", b->owner);
}

int bans_compose(const struct bans *bans, uint64_t now, struct pc_config *cfg,
		 struct pc_diags *d)
{
	int r = 0;

	/* Not rules: the compiler checks them before any rule, and before
	 * established connections. */
	cfg->n_bans = 0;
	for (size_t i = 0, j; r >= 0 && i < bans->n; i = j) {
		const struct ban *b = &bans->items[i];
		uint64_t expires = b->expires;
		struct pc_prefix p;

		/* The claims of several owners: one ban, the one that lasts. */
		for (j = i + 1; j < bans->n && ban_same_place(&bans->items[j], b); j++)
			if (!bans->items[j].expires || (expires && bans->items[j].expires > expires))
				expires = bans->items[j].expires;
		if (expires && expires <= now)
			continue;
		r = pc_prefix_parse(b->addr, &p, d);
		if (r >= 0)
			r = pc_config_ban_add(cfg, &p, b->zone[0] ? b->zone : NULL, expires);
	}
	return r;
}

