/* disable / enable: our table out of the kernel and back, through the one
 * path; the model (files, runtime rules, bans) is kept and may still be
 * changed meanwhile. The one path marks the state in the state directory,
 * so that a restarted daemon stays disabled until "portctl enable". */
#include "config.h"

#include <errno.h>
#include <stdio.h>

#include "log.h"
#include "handlers.h"

bool disabled_refuses(const struct daemon *dm, const char *cmd, json_t *args,
		      struct pc_reply *reply)
{
	/* Both would put a table in the kernel behind enable's back. */
	if (!dm->disabled || !(streq(cmd, "panic") || (streq(cmd, "apply") &&
						       json_object_get(args, "confirm"))))
		return false;
	reply_set(reply, PC_STATUS_FAILURE,
		  "portctl is disabled: '%s' needs it enabled; run 'portctl enable' first", cmd);
	return true;
}

int cmd_disable(struct daemon *dm, const struct pc_peer *peer, json_t *args,
		struct pc_reply *reply)
{
	struct next nx = {.panic = -1, .disable = 1, .source = dm->source,
			  .intro = "the configuration could not be read, nothing changed:"};
	int r;

	if (dm->disabled)
		return reply_set(reply, PC_STATUS_OK, "portctl is already disabled");
	if (dm->pending)
		return reply_set(reply, PC_STATUS_FAILURE,
				 "an 'apply --confirm' is on trial: run 'portctl confirm' or let it "
				 "roll back, then disable");
	r = state_commit(dm, &nx, reply);
	if (r < 0)
		return r == -ECANCELED ? 0 : r;
	log_warning("uid %u pid %d: portctl DISABLED: table inet %s is out of the kernel",
		    peer->uid, (int)peer->pid, PC_TABLE_NAME);
	return reply_set(reply, PC_STATUS_OK,
			 "portctl disabled: table inet %s is out of the kernel and portctl "
			 "filters nothing. Rules and bans are kept; it stays disabled across "
			 "restarts until 'portctl enable'.",
			 PC_TABLE_NAME);
}

int cmd_enable(struct daemon *dm, const struct pc_peer *peer, json_t *args, struct pc_reply *reply)
{
	struct guard_opts g;
	struct next nx = {.panic = -1, .disable = -1, .source = dm->source, .guard = &g,
			  .intro = "the rules were refused, portctl stays disabled:"};
	int r;

	guard_opts_from_args(args, &g);
	if (!dm->disabled)
		return reply_set(reply, PC_STATUS_OK, "portctl is already enabled");
	r = state_commit(dm, &nx, reply);
	if (r < 0)
		return r == -ECANCELED ? 0 : r;
	log_notice("uid %u pid %d: portctl enabled", peer->uid, (int)peer->pid);
	return reply_set(reply, PC_STATUS_OK,
			 "portctl enabled: %zu rules and %zu bans in force again, in one "
			 "transaction",
			 dm->applied && dm->applied->cfg ? dm->applied->cfg->n_rules : 0,
			 dm->bans.n);
}

void disabled_note(const struct daemon *dm, const char *cmd, struct pc_reply *reply)
{
	_cleanup_free_ char *m = NULL;

	if (!dm->disabled || streq(cmd, "disable") || reply->status != PC_STATUS_OK ||
	    !reply->message || !reply->message[0])
		return;
	m = TAKE_PTR(reply->message);
	reply_set(reply, PC_STATUS_OK, "%s (portctl is disabled: in force after 'portctl enable')",
		  m);
}
