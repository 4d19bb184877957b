/* The daemon's context and its command table: what each request name does
 * and whether it needs write permission. */
#ifndef PORTCTL_DAEMON_COMMANDS_H
#define PORTCTL_DAEMON_COMMANDS_H

#include <stdbool.h>
#include <sys/types.h>

#include <jansson.h>

#include "portctl/apply.h"
#include "portctl/config.h"
#include "portctl/netlink.h"
#include "serve.h"

/* Where the configuration the kernel holds came from. */
enum daemon_source {
	SOURCE_FILES,     /* the configuration files */
	SOURCE_LAST_GOOD, /* the state directory's copy of the last good one */
	SOURCE_SAFE,      /* the built-in safe policy */
	SOURCE_KERNEL,    /* kept what the kernel had; model unknown */
};

/* Everything the daemon holds, owned by pc_daemon_run's stack frame. */
struct daemon {
	struct pc_paths paths;
	int log_level_override; /* -1: from portctl.conf */
	struct pc_nl *nl;
	struct pc_server *server;
	/* What the kernel holds: configuration and compiled ruleset. NULL
	 * when the daemon kept a table it has no model of. */
	struct pc_applied *applied;
	enum daemon_source source;
	/* Rules added with --runtime, in order; dropped by reload. */
	char **runtime;
	size_t n_runtime, cap_runtime;
	/* Settings that outlive an invalid configuration. */
	bool cli_changes;
	bool table_owner;
	gid_t group;
	bool have_group;
};

/* Handle one decoded request (dispatch through the command table). */
void daemon_request(void *userdata, const struct pc_peer *peer, const struct pc_request *req,
		    struct pc_reply *reply);

/* reload: load the files and apply them; reply may be NULL (SIGHUP). */
int daemon_reload(struct daemon *dm, struct pc_reply *reply);

/* The CLI's rule changes (change.c). */
enum change_kind { CHANGE_ADD, CHANGE_INSERT, CHANGE_DELETE };

struct change {
	enum change_kind kind;
	const char *rule;    /* ADD, INSERT; DELETE by text */
	size_t number;       /* INSERT position; DELETE by number (1-based), 0: unset */
	const char *comment; /* DELETE by comment */
	bool runtime;        /* not persisted */
	const struct pc_peer *peer;
};

int change_apply(struct daemon *dm, const struct change *ch, struct pc_reply *reply);

/* Helpers shared by the handlers. */
int reply_diags(struct pc_reply *reply, int status, const char *intro, const struct pc_diags *d,
		const struct pc_config *cfg);
unsigned daemon_apply_flags(const struct daemon *dm);
void daemon_runtime_clear(struct daemon *dm);

#endif
