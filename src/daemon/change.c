/* Rule changes from the command line: allow, deny, reject, limit, insert
 * and delete. Each request becomes the next desired state (model.c) and
 * goes the one path (state.c); a plain allow/deny/reject tries the same
 * path's O(change) way first. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <time.h>

#include "log.h"
#include "handlers.h"
#include "temporary.h"

/* A CLI rules file edited by hand while a change is made: the change is
 * made again on the new text this many times before giving up. */
#define CHANGE_ATTEMPTS 5
#define FILE90_MAX ((size_t)64 * 1024 * 1024)

static const char *const change_verbs[] = {
	[CHANGE_ADD] = "rule added", [CHANGE_INSERT] = "rule inserted",
	[CHANGE_DELETE] = "rule deleted", [CHANGE_DEFINE] = "defined",
	[CHANGE_UNDEFINE] = "deleted"};
static const char *const dry_run_verbs[] = {
	[CHANGE_ADD] = "would add", [CHANGE_INSERT] = "would insert",
	[CHANGE_DELETE] = "would delete", [CHANGE_DEFINE] = "would define",
	[CHANGE_UNDEFINE] = "would delete"};

/* --dry-run: what the change would do, and the CLI rules file's text
 * after it (for Ansible's check and diff modes). */
static int dry_run_done(const struct change *ch, const struct cand *c, struct pc_reply *reply)
{
	const char *summary = c->summary.buf ? c->summary.buf : "";

	if (c->file_changed)
		reply->data = json_pack("{s:s,s:s%}", "file", c->path90, "text",
					c->text90.buf ? c->text90.buf : "", c->text90.len);
	return reply_set(reply, PC_STATUS_OK, "%s%s: %s (dry run, nothing changed)",
			 dry_run_verbs[ch->kind], ch->runtime ? " until the next reload" : "",
			 summary);
}

static void temporary_done(const struct change *ch, const char *summary, struct pc_reply *reply)
{
	char left[32];

	pc_duration_format(ch->expires - (uint64_t)time(NULL), left, sizeof(left));
	log_notice("uid %u pid %d: rule added for %s: %s", ch->peer->uid, (int)ch->peer->pid,
		   left, summary);
	reply_set(reply, PC_STATUS_OK, "rule added for %s (until it expires or is deleted): %s",
		  left, summary);
}

/* Whether a rule text can be changed in place: one line starting with
 * "allow", "deny", "reject" or "limit", so the parse adds one rule and no
 * zone or service (which could move the arrays the plan points into). */
static bool in_place_text(const char *text)
{
	return (!strncmp(text, "allow ", 6) || !strncmp(text, "deny ", 5) ||
		!strncmp(text, "reject ", 7) || !strncmp(text, "limit ", 6)) &&
	       !strpbrk(text, "\n\r\\");
}

/* One attempt on the full path. -ESTALE: the file changed meanwhile. */
static int change_commit(struct daemon *dm, const struct change *ch, const char *override90,
			 size_t override90_len, struct pc_reply *reply)
{
	struct cand c = {0};
	struct pc_diags d;
	struct next nx = {.panic = -1, .source = SOURCE_FILES};
	int r;

	pc_diags_init(&d);
	r = cand_build(dm, ch, override90, override90_len, &c, reply, &d);
	if (r == -EBADMSG) {
		reply_diags(reply, PC_STATUS_FAILURE,
			    "the configuration files have errors; fix them first:", &d, c.cfg);
		r = -ECANCELED;
	} else if (r == -EINVAL) {
		reply_diags(reply, PC_STATUS_USAGE, "the rule was refused, nothing changed:", &d,
			    c.cfg);
		r = -ECANCELED;
	}
	if (r < 0)
		goto out;
	nx.cfg = TAKE_PTR(c.cfg);
	nx.runtime = c.runtime;
	c.runtime = (struct runtime){0};
	nx.guard = &ch->guard;
	nx.dry_run = ch->dry_run;
	nx.intro = "the rule was refused, nothing changed:";
	if (c.file_changed) {
		/* A zone or service parsed everything again: prev holds the old text. */
		const struct pc_source *src =
			c.new90 ? NULL
				: pc_sources_find(&(c.prev ? c.prev : nx.cfg)->sources, c.path90);

		nx.file90 = c.path90;
		nx.text90 = &c.text90;
		nx.newlines90 = c.newlines90;
		nx.old90 = src ? src->data : NULL;
		nx.old90_len = src ? src->len : 0;
		nx.old90_exists = src != NULL;
	}
	r = state_commit(dm, &nx, reply);
	if (r >= 0 && ch->dry_run)
		r = dry_run_done(ch, &c, reply);
	else if (r >= 0 && ch->expires)
		temporary_done(ch, c.summary.buf ? c.summary.buf : "", reply);
	else if (r >= 0)
		change_done(ch->peer, change_verbs[ch->kind], ch->runtime,
			    c.summary.buf ? c.summary.buf : "", reply);
out:
	next_free(&nx);
	cand_free(&c);
	pc_diags_free(&d);
	return r;
}

int change_apply(struct daemon *dm, const struct change *ch, struct pc_reply *reply)
{
	_cleanup_free_ char *current = NULL;
	const struct pc_rule *present;
	size_t current_len = 0;
	char path90[4096];
	int r;

	if (!dm->cli_changes)
		return reply_set(reply, PC_STATUS_DENIED,
				 "changes from the command line are turned off (cli-changes = no "
				 "in portctl.conf): edit the files in %s/rules.d and run "
				 "'portctl reload'",
				 dm->paths.sysconf_dir);
	/* As ufw: a rule that is already there is not added twice. */
	if (ch->kind == CHANGE_ADD && dm->applied &&
	    (present = rule_present(dm->applied->cfg, ch->rule, state_rule_index(dm))))
		return reply_set(reply, PC_STATUS_OK, "already present at %s:%u: %s (nothing changed)",
				 present->loc.file ? present->loc.file : "?", present->loc.line,
				 present->text);
	if (ch->kind != CHANGE_DEFINE && ch->kind != CHANGE_UNDEFINE &&
	    (!ch->rule || in_place_text(ch->rule))) {
		struct pc_strbuf summary = {0};

		r = state_rule_edit(dm, ch, &summary, reply);
		if (r > 0 && ch->expires)
			temporary_done(ch, summary.buf ? summary.buf : "", reply);
		else if (r > 0)
			change_done(ch->peer, change_verbs[ch->kind], ch->runtime,
				    summary.buf ? summary.buf : "", reply);
		pc_strbuf_free(&summary);
		if (r != 0)
			return r == -ECANCELED ? 0 : r;
	}
	if (ch->kind == CHANGE_DEFINE) {
		struct pc_strbuf summary = {0};

		r = state_service_define(dm, ch, &summary, reply);
		if (r > 0)
			change_done(ch->peer, change_verbs[ch->kind], false,
				    summary.buf ? summary.buf : "", reply);
		pc_strbuf_free(&summary);
		if (r != 0)
			return r == -ECANCELED ? 0 : r;
	}
	r = path90_get(&dm->paths, path90, sizeof(path90));
	for (int attempt = 0; r >= 0 && attempt < CHANGE_ATTEMPTS; attempt++) {
		r = change_commit(dm, ch, current, current_len, reply);
		if (r != -ESTALE)
			break;
		/* Edited by hand meanwhile: redo the change on what it holds now. */
		log_notice("%s was edited while a change was made: making it again on its new "
			   "content",
			   path90);
		free(TAKE_PTR(current));
		r = pc_read_file(path90, FILE90_MAX, &current, &current_len);
		if (r == -ENOENT) {
			current = strdup("");
			current_len = 0;
			r = current ? 0 : -ENOMEM;
		}
	}
	if (r == -ESTALE)
		return reply_set(reply, PC_STATUS_FAILURE,
				 "%s kept changing while the change was made, nothing changed: "
				 "try again",
				 path90);
	return r == -ECANCELED ? 0 : r;
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

/* "timeout": a temporary rule, a runtime rule that ends by itself. */
static int args_timeout(json_t *args, struct change *ch, struct pc_reply *reply)
{
	json_t *v = json_object_get(args, "timeout");

	if (!v || json_is_null(v))
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < 1 ||
	    json_integer_value(v) > TEMPORARY_MAX) {
		reply_set(reply, PC_STATUS_USAGE, "\"timeout\" must be 1 to %u seconds",
			  TEMPORARY_MAX);
		return -EINVAL;
	}
	ch->runtime = true;
	ch->expires = (uint64_t)time(NULL) + (uint64_t)json_integer_value(v);
	return 0;
}

static int cmd_add(struct daemon *dm, const struct pc_peer *peer, json_t *args,
		   struct pc_reply *reply, const char *action)
{
	struct change ch = {.kind = CHANGE_ADD, .peer = peer};

	if (args_rule(args, action, &ch.rule, reply) < 0)
		return 0;
	ch.runtime = json_is_true(json_object_get(args, "runtime"));
	if (args_timeout(args, &ch, reply) < 0)
		return 0;
	ch.dry_run = json_is_true(json_object_get(args, "dry_run"));
	guard_opts_from_args(args, &ch.guard);
	return change_apply(dm, &ch, reply);
}

int cmd_allow(struct daemon *dm, const struct pc_peer *peer, json_t *args, struct pc_reply *reply)
{
	return cmd_add(dm, peer, args, reply, "allow");
}

int cmd_deny(struct daemon *dm, const struct pc_peer *peer, json_t *args, struct pc_reply *reply)
{
	return cmd_add(dm, peer, args, reply, "deny");
}

int cmd_reject(struct daemon *dm, const struct pc_peer *peer, json_t *args, struct pc_reply *reply)
{
	return cmd_add(dm, peer, args, reply, "reject");
}

int cmd_limit(struct daemon *dm, const struct pc_peer *peer, json_t *args, struct pc_reply *reply)
{
	return cmd_add(dm, peer, args, reply, "limit");
}

int cmd_forward(struct daemon *dm, const struct pc_peer *peer, json_t *args, struct pc_reply *reply)
{
	return cmd_add(dm, peer, args, reply, "forward");
}

int cmd_masquerade(struct daemon *dm, const struct pc_peer *peer, json_t *args,
		   struct pc_reply *reply)
{
	return cmd_add(dm, peer, args, reply, "masquerade");
}

int cmd_insert(struct daemon *dm, const struct pc_peer *peer, json_t *args, struct pc_reply *reply)
{
	struct change ch = {.kind = CHANGE_INSERT, .peer = peer};

	if (args_rule(args, NULL, &ch.rule, reply) < 0 ||
	    args_number(args, "position", &ch.number, reply) < 0)
		return 0;
	if (ch.number == 0)
		return reply_set(reply, PC_STATUS_USAGE, "insert needs a \"position\"");
	if (json_object_get(args, "timeout"))
		return reply_set(reply, PC_STATUS_USAGE,
				 "insert cannot be temporary: use 'portctl allow ... --timeout "
				 "DURATION'");
	ch.runtime = json_is_true(json_object_get(args, "runtime"));
	ch.dry_run = json_is_true(json_object_get(args, "dry_run"));
	guard_opts_from_args(args, &ch.guard);
	return change_apply(dm, &ch, reply);
}

/* "zone NAME ..." and "service NAME PORTS": the file's line, persisted. */
static int cmd_define(struct daemon *dm, const struct pc_peer *peer, json_t *args,
		      struct pc_reply *reply, const char *keyword)
{
	struct change ch = {.kind = CHANGE_DEFINE, .peer = peer};

	if (args_rule(args, keyword, &ch.rule, reply) < 0)
		return 0;
	if (json_is_true(json_object_get(args, "runtime")) || json_object_get(args, "timeout"))
		return reply_set(reply, PC_STATUS_USAGE,
				 "a %s is always persisted: --runtime and --timeout are for rules",
				 keyword);
	ch.dry_run = json_is_true(json_object_get(args, "dry_run"));
	guard_opts_from_args(args, &ch.guard);
	return change_apply(dm, &ch, reply);
}

int cmd_zone(struct daemon *dm, const struct pc_peer *peer, json_t *args, struct pc_reply *reply)
{
	return cmd_define(dm, peer, args, reply, "zone");
}

int cmd_service(struct daemon *dm, const struct pc_peer *peer, json_t *args,
		struct pc_reply *reply)
{
	return cmd_define(dm, peer, args, reply, "service");
}

/* "delete zone NAME" / "delete service NAME". */
static int undefine(struct daemon *dm, const struct pc_peer *peer, json_t *args,
		    struct pc_reply *reply)
{
	const char *zone = json_string_value(json_object_get(args, "zone"));
	struct change ch = {.kind = CHANGE_UNDEFINE, .peer = peer, .rule = zone};

	if (!zone) {
		ch.rule = json_string_value(json_object_get(args, "service"));
		ch.service = true;
	}
	if (!ch.rule || !*ch.rule || strlen(ch.rule) > PC_NAME_MAX)
		return reply_set(reply, PC_STATUS_USAGE, "delete needs a zone or service name");
	ch.dry_run = json_is_true(json_object_get(args, "dry_run"));
	guard_opts_from_args(args, &ch.guard);
	return change_apply(dm, &ch, reply);
}

int cmd_delete(struct daemon *dm, const struct pc_peer *peer, json_t *args, struct pc_reply *reply)
{
	struct change ch = {.kind = CHANGE_DELETE, .peer = peer};
	int given;

	if (json_object_get(args, "zone") || json_object_get(args, "service"))
		return undefine(dm, peer, args, reply);
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
	ch.dry_run = json_is_true(json_object_get(args, "dry_run"));
	guard_opts_from_args(args, &ch.guard);
	return change_apply(dm, &ch, reply);
}
