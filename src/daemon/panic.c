/* panic on|off: swap the whole table for "loopback only" in one
 * transaction, and back to the configuration in force. The mode is marked
 * in the state directory so that a restarted daemon keeps panicking. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "commands.h"
#include "log.h"
#include "persist.h"

#define PANIC_MARKER "panic.json"

static int marker_path(const struct daemon *dm, char *buf, size_t size)
{
	if (!dm->paths.state_dir)
		return -EINVAL;
	return snprintf(buf, size, "%s/%s", dm->paths.state_dir, PANIC_MARKER) >= (int)size
		   ? -ENAMETOOLONG
		   : 0;
}

bool panic_marked(const struct daemon *dm)
{
	char path[PATH_MAX];

	return marker_path(dm, path, sizeof(path)) >= 0 && access(path, F_OK) == 0;
}

static int marker_write(const struct daemon *dm, uid_t uid)
{
	char path[PATH_MAX];
	_cleanup_free_ char *text = NULL;
	json_t *meta;
	int r = marker_path(dm, path, sizeof(path));

	if (r < 0)
		return r;
	meta = json_pack("{s:I,s:i}", "since", (json_int_t)time(NULL), "uid", (int)uid);
	text = meta ? json_dumps(meta, JSON_COMPACT) : NULL;
	json_decref(meta);
	if (!text)
		return -ENOMEM;
	return file_replace(path, text, strlen(text), 0644);
}

static int marker_remove(const struct daemon *dm)
{
	char path[PATH_MAX];
	int r = marker_path(dm, path, sizeof(path));

	if (r >= 0 && unlink(path) < 0 && errno != ENOENT)
		r = -errno;
	return r;
}

static int panic_apply(struct daemon *dm, const struct pc_ruleset *old, struct pc_diags *d)
{
	struct pc_ruleset *rs = NULL;
	int r = pc_ruleset_panic(&rs);

	if (r >= 0)
		r = pc_nl_apply(dm->nl, rs, old, daemon_apply_flags(dm) | PC_NL_FULL, d);
	pc_ruleset_free(rs);
	return r;
}

int panic_startup(struct daemon *dm)
{
	struct pc_diags d;
	int r;

	pc_diags_init(&d);
	r = panic_apply(dm, NULL, &d);
	pc_diags_free(&d);
	if (r < 0)
		/* The table the kernel kept (OWNER|PERSIST) is most likely the
		 * panic one already; never fall back to the files here. */
		log_error_errno(r, "cannot load the panic ruleset again: %m");
	log_error("PANIC MODE is on (marked in %s/%s): every packet but loopback is dropped; "
		  "'portctl panic off' puts the rules back",
		  dm->paths.state_dir, PANIC_MARKER);
	return 0;
}

bool panic_refuses(const struct daemon *dm, const char *cmd, struct pc_reply *reply)
{
	if (!dm->panic || streq(cmd, "panic") || streq(cmd, "confirm"))
		return false;
	log_warning("panic mode is on: '%s' refused", cmd);
	if (reply)
		reply_set(reply, PC_STATUS_FAILURE,
			  "panic mode is on, and '%s' would lift it: run 'portctl panic off' "
			  "first (it puts the previous rules back), then try again",
			  cmd);
	return true;
}

static int panic_on(struct daemon *dm, const struct pc_peer *peer, const struct guard_opts *g,
		    struct pc_reply *reply)
{
	struct pc_diags d;
	int r;

	if (dm->panic)
		return reply_set(reply, PC_STATUS_OK, "panic mode is already on");
	/* Panic drops established connections too: the admin's session goes
	 * at once, so over SSH it takes --force. */
	if (g->ssh_connection && !g->force)
		return reply_set(reply, PC_STATUS_FAILURE,
				 "panic mode drops every packet but loopback, established "
				 "connections included: it would cut your SSH session (%s) at "
				 "once, and only the console could run 'portctl panic off'. Use "
				 "--force if that is what you want",
				 g->ssh_connection);
	r = marker_write(dm, peer->uid);
	if (r < 0)
		return reply_set(reply, PC_STATUS_FAILURE,
				 "cannot mark panic mode under %s (%s): nothing changed",
				 dm->paths.state_dir, strerror(-r));
	pc_diags_init(&d);
	r = panic_apply(dm, dm->applied ? dm->applied->ruleset : NULL, &d);
	if (r < 0) {
		marker_remove(dm);
		reply_diags(reply, PC_STATUS_FAILURE,
			    "the kernel refused the panic ruleset, nothing changed:", &d, NULL);
		pc_diags_free(&d);
		return 0;
	}
	pc_diags_free(&d);
	dm->panic = true;
	log_error("PANIC MODE ON (uid %u pid %d): every packet in and out is dropped except "
		  "loopback, established connections too",
		  peer->uid, (int)peer->pid);
	return reply_set(reply, PC_STATUS_OK,
			 "PANIC MODE ON: every packet in and out is dropped except loopback, "
			 "established connections too. 'portctl panic off' puts the rules back.");
}

/* The model in force before panic goes back as it was; with no model (the
 * daemon kept a table it could not describe) the files are applied. */
static int panic_restore(struct daemon *dm, struct pc_reply *reply)
{
	struct pc_diags d;
	int r;

	if (!dm->applied || !dm->applied->ruleset) {
		dm->panic = false;
		r = daemon_reload(dm, reply);
		dm->panic = r < 0;
		return r;
	}
	pc_diags_init(&d);
	r = pc_nl_apply(dm->nl, dm->applied->ruleset, NULL, daemon_apply_flags(dm), &d);
	if (r < 0)
		reply_diags(reply, PC_STATUS_FAILURE,
			    "the kernel refused the previous rules, panic mode stays on:", &d,
			    dm->applied->cfg);
	pc_diags_free(&d);
	return r;
}

static int panic_off(struct daemon *dm, const struct pc_peer *peer, struct pc_reply *reply)
{
	int r;

	if (!dm->panic)
		return reply_set(reply, PC_STATUS_OK, "panic mode is not on");
	r = panic_restore(dm, reply);
	if (r < 0)
		return 0;
	dm->panic = false;
	r = marker_remove(dm);
	if (r < 0)
		log_warning_errno(r,
				  "cannot remove the panic mark: %m; a restart would panic again");
	log_notice("uid %u pid %d: panic mode off, the previous rules are back", peer->uid,
		   (int)peer->pid);
	return reply_set(reply, PC_STATUS_OK,
			 "panic mode off: the rules in force before it are back (%zu rules)",
			 dm->applied && dm->applied->cfg ? dm->applied->cfg->n_rules : 0);
}

int cmd_panic(struct daemon *dm, const struct pc_peer *peer, json_t *args, struct pc_reply *reply)
{
	const char *mode = json_string_value(json_object_get(args, "mode"));
	struct guard_opts g;

	guard_opts_from_args(args, &g);
	if (mode && streq(mode, "on"))
		return panic_on(dm, peer, &g, reply);
	if (mode && streq(mode, "off"))
		return panic_off(dm, peer, reply);
	return reply_set(reply, PC_STATUS_USAGE, "panic needs \"mode\": \"on\" or \"off\"");
}
