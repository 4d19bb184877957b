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
	SOURCE_ROLLBACK,  /* an unconfirmed "apply --confirm" was rolled back */
};

struct pending;

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
	/* An "apply --confirm" waiting for "portctl confirm" (confirm.c);
	 * NULL when none. */
	struct pending *pending;
	/* Panic mode (panic.c): the kernel holds the panic ruleset, applied
	 * is still the configuration that "panic off" puts back. */
	bool panic;
	/* Events of other processes' commits (drift.c); NULL if unavailable. */
	struct drift *drift;
	/* Addresses banned with "portctl ban" (ban.c), kept ahead of every
	 * rule through CLI changes and reloads. */
	struct pc_ban *bans;
	size_t n_bans, cap_bans;
};

/* Every read command needs a model of the configuration the kernel
 * holds: 0, or -ENODATA with the reply saying what to do. */
int need_model(const struct daemon *dm, struct pc_reply *reply);
/* Log each diagnostic as FILE:LINE:COL: message (hint). */
void diags_log(const struct pc_diags *d);

/* Handle one decoded request (dispatch through the command table). */
void daemon_request(void *userdata, const struct pc_peer *peer, const struct pc_request *req,
		    struct pc_reply *reply);

/* reload: load the files and apply them; reply may be NULL (SIGHUP). */
int daemon_reload(struct daemon *dm, struct pc_reply *reply);

/* What guards a change against cutting the admin's own SSH session
 * (lockout.c): the session the CLI reported, and --force / --confirm. */
struct guard_opts {
	const char *ssh_connection; /* "CLIENT CPORT SERVER SPORT", or NULL */
	bool force;
	bool confirm;     /* an apply --confirm: warn, do not refuse */
	bool can_confirm; /* the command takes --confirm (apply, reload) */
};

/* The CLI's rule changes (change.c). */
/* BAN and UNBAN change dm->bans before change_apply, which applies the
 * files with the bans in place (bans_place). */
enum change_kind { CHANGE_ADD, CHANGE_INSERT, CHANGE_DELETE, CHANGE_BAN, CHANGE_UNBAN };

struct change {
	enum change_kind kind;
	const char *rule;    /* ADD, INSERT; DELETE by text */
	size_t number;       /* INSERT position; DELETE by number (1-based), 0: unset */
	const char *comment; /* DELETE by comment */
	bool runtime;        /* not persisted */
	const struct pc_peer *peer;
	struct guard_opts guard;
};

int change_apply(struct daemon *dm, const struct change *ch, struct pc_reply *reply);
/* Take back rules parsed into the configuration in force by a fast path
 * that gave up: rules past n_rules, and sources the parse added past
 * n_sources. */
void config_truncate(struct pc_config *cfg, size_t n_rules, size_t n_sources);
/* The log line and reply of a change that went through. */
void change_done(const struct pc_peer *peer, enum change_kind kind, bool runtime,
		 const char *summary, struct pc_reply *reply);
/* Whether a change may be made in place, on the plan and ruleset in force:
 * CLI changes on, the files applied, kept compiled, nothing pending, no
 * panic. */
bool applied_in_place_ok(const struct daemon *dm);
/* The plan and ruleset in force fell behind the kernel (out of memory
 * while updating them in place): drop both, so that the next change
 * compiles the configuration and replaces the table whole. */
void applied_model_lost(struct daemon *dm);
/* Move rule `from` to index `to`, the rules between one place along. */
void config_rule_move(struct pc_config *cfg, size_t from, size_t to);
/* Take rule i out, the rules after it one place back. */
void config_rule_remove(struct pc_config *cfg, size_t i);

/* Bans (ban.c): put dm->bans ahead of cfg's rules; re-apply them after a
 * reload; the ban and unban commands. */
struct pc_ban;
int bans_place(const struct daemon *dm, struct pc_config *cfg, struct pc_diags *d);
int bans_restore(struct daemon *dm);
void bans_clear(struct daemon *dm);
/* Make again the maps that unbans left stale (pc_ruleset_refresh) before
 * anything but a ban or an unban reads the ruleset in force. */
void bans_model_refresh(struct daemon *dm);
int cmd_ban(struct daemon *dm, const struct pc_peer *peer, json_t *args, struct pc_reply *reply);
int cmd_unban(struct daemon *dm, const struct pc_peer *peer, json_t *args, struct pc_reply *reply);

void guard_opts_from_args(json_t *args, struct guard_opts *g);
/*
 * Whether applying cfg (validated and compiled) would cut the session in
 * g, where the configuration in force (old, may be NULL) did not. Returns
 * 0 when the change may go ahead (a warning may be put in *warning, freed
 * by the caller), or -EPERM with the refusal in reply.
 */
int guard_check(const struct daemon *dm, const struct guard_opts *g, const struct pc_config *old,
		const struct pc_config *cfg, struct pc_reply *reply, char **warning);
struct pc_plan;
struct pc_rule_append;
/* The guard for a change made in place, where no plan of the new rules is
 * built: the elements in app are to join plan. 0 when they cannot cut the
 * session (none would decide its reconnect's packet), 1 when they would
 * (take the full path: guard_check decides there), -EPERM (reply set) for
 * a malformed session, as guard_check. O(log n), not a compile. */
int guard_check_in_place(const struct guard_opts *g, const struct pc_plan *plan,
			 const struct pc_rule_append *app, struct pc_reply *reply);

/* apply [--confirm SECONDS], reload from the CLI, confirm (confirm.c). */
int cmd_apply(struct daemon *dm, const struct pc_peer *peer, json_t *args, struct pc_reply *reply);
int cmd_confirm(struct daemon *dm, const struct pc_peer *peer, json_t *args,
		struct pc_reply *reply);
/* The monotonic deadline (ms) of a pending confirmation, UINT64_MAX if none. */
uint64_t confirm_deadline(const struct daemon *dm);
/* Roll back when the deadline has passed. */
void confirm_expire(struct daemon *dm);
/* Start-up: roll back a confirmation a previous run left pending, and put
 * panic mode back. Takes *pre (the files' configuration) when it applied
 * something itself and returns 1; 0 when the normal start-up should apply. */
int trust_startup(struct daemon *dm, struct pc_applied **pre, int prepared);
void trust_done(struct daemon *dm);

/* panic on|off (panic.c). */
int cmd_panic(struct daemon *dm, const struct pc_peer *peer, json_t *args, struct pc_reply *reply);
/* In panic mode every rule change but panic and confirm is refused:
 * returns true with the refusal in reply (which may be NULL: SIGHUP). */
bool panic_refuses(const struct daemon *dm, const char *cmd, struct pc_reply *reply);
/* Start-up: whether panic mode was on when the daemon stopped, and
 * putting the panic ruleset back in the kernel. */
bool panic_marked(const struct daemon *dm);
int panic_startup(struct daemon *dm);
/* status --json: "panic" and "pending_confirm". */
void trust_status_add(const struct daemon *dm, json_t *data);

/* After a reload applied a (to the kernel, saved as last good): make it
 * the configuration in force, with its settings. */
void daemon_take_reloaded(struct daemon *dm, struct pc_applied *a);

/* Read commands about the configuration in force (cmd_explain.c). */
int cmd_explain(struct daemon *dm, const struct pc_peer *peer, json_t *args,
		struct pc_reply *reply);
int cmd_export(struct daemon *dm, const struct pc_peer *peer, json_t *args,
	       struct pc_reply *reply);
int cmd_diff(struct daemon *dm, const struct pc_peer *peer, json_t *args, struct pc_reply *reply);

/* Helpers shared by the handlers. */
int reply_diags(struct pc_reply *reply, int status, const char *intro, const struct pc_diags *d,
		const struct pc_config *cfg);
unsigned daemon_apply_flags(const struct daemon *dm);
void daemon_runtime_clear(struct daemon *dm);

#endif
