/* The lock-out guard (lockout.c): whether a change would cut the SSH
 * session of the admin making it. */
#ifndef PORTCTL_DAEMON_LOCKOUT_H
#define PORTCTL_DAEMON_LOCKOUT_H

#include <stdbool.h>

#include <jansson.h>

#include "portctl/config.h"
#include "serve.h"

/* What guards a change against cutting the admin's own SSH session
 * (lockout.c): the session the CLI reported, and --force / --confirm. */
struct guard_opts {
	const char *ssh_connection; /* "CLIENT CPORT SERVER SPORT", or NULL */
	bool force;
	bool confirm;     /* an apply --confirm: warn, do not refuse */
	bool can_confirm; /* the command takes --confirm (apply, reload) */
};

void guard_opts_from_args(json_t *args, struct guard_opts *g);
/*
 * Whether applying cfg (validated and compiled) would cut the session in
 * g, where the configuration in force (old, may be NULL) did not. Returns
 * 0 when the change may go ahead (a warning may be put in *warning, freed
 * by the caller), or -EPERM with the refusal in reply.
 */
int guard_check(const struct guard_opts *g, const struct pc_config *old,
		const struct pc_config *cfg, struct pc_reply *reply, char **warning);
struct pc_plan;
struct pc_rule_append;
/* The guard for a change made in place: 0 when the elements in app cannot
 * cut the session, 1 when they would (take the full path), -EPERM (reply
 * set) for a malformed session. any: every element on the session's port
 * counts (elements taken out), not only those that refuse it. O(n app). */
int guard_check_in_place(const struct guard_opts *g, const struct pc_plan *plan,
			 const struct pc_rule_append *app, bool any, struct pc_reply *reply);

#endif
