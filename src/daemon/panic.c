/* panic on|off: the kernel holds "loopback only" instead of the desired
 * state's rules, and back; the one path marks the mode in the state
 * directory so that a restarted daemon keeps panicking. */
#include "config.h"

#include <errno.h>
#include <stdio.h>

#include "log.h"
#include "handlers.h"

bool panic_refuses(const struct daemon *dm, const char *cmd, struct pc_reply *reply)
{
	/* Bans are kept through panic mode, and come back with the rules. */
	if (!dm->panic || streq(cmd, "panic") || streq(cmd, "confirm") || streq(cmd, "ban") ||
	    streq(cmd, "unban"))
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
	struct next nx = {.panic = 1, .source = dm->source,
			  .intro = "the panic ruleset was refused, nothing changed:"};
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
	r = state_commit(dm, &nx, reply);
	if (r < 0)
		return r == -ECANCELED ? 0 : r;
	log_error("PANIC MODE ON (uid %u pid %d): every packet in and out is dropped except "
		  "loopback, established connections too",
		  peer->uid, (int)peer->pid);
	return reply_set(reply, PC_STATUS_OK,
			 "PANIC MODE ON: every packet in and out is dropped except loopback, "
			 "established connections too. 'portctl panic off' puts the rules back.");
}

static int panic_off(struct daemon *dm, const struct pc_peer *peer, struct pc_reply *reply)
{
	struct next nx = {.panic = 0, .source = dm->source,
			  .intro = "the rules were refused, panic mode stays on:"};
	struct pc_diags d;
	int r = 0;

	if (!dm->panic)
		return reply_set(reply, PC_STATUS_OK, "panic mode is not on");
	/* No model (the daemon kept a table it could not describe): the files. */
	if (!dm->applied || !dm->applied->cfg) {
		pc_diags_init(&d);
		r = pc_config_load(&dm->paths, &nx.cfg, &d);
		if (r >= 0 && pc_diags_has_errors(&d))
			r = -EINVAL;
		if (r == -EINVAL)
			reply_diags(reply, PC_STATUS_USAGE,
				    "the files have errors, panic mode stays on: fix them and "
				    "try again:",
				    &d, nx.cfg);
		pc_diags_free(&d);
		nx.source = SOURCE_FILES;
	}
	if (r >= 0)
		r = state_commit(dm, &nx, reply);
	next_free(&nx);
	if (r < 0)
		return r == -ECANCELED || r == -EINVAL ? 0 : r;
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
