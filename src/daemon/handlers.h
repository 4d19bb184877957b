/* The daemon's command handlers, as the command table (commands.c) and
 * the start-up and event loop (daemon.c) call them. Each handler turns a
 * request into the next desired state and calls down into state.c. */
#ifndef PORTCTL_DAEMON_HANDLERS_H
#define PORTCTL_DAEMON_HANDLERS_H

#include "reply.h"
#include "state.h"

typedef int command_fn(struct daemon *dm, const struct pc_peer *peer, json_t *args,
		       struct pc_reply *reply);

/* Handle one decoded request (dispatch through the command table). */
void daemon_request(void *userdata, const struct pc_peer *peer, const struct pc_request *req,
		    struct pc_reply *reply);

/* change.c: allow, deny, reject, limit, insert, delete. */
command_fn cmd_allow, cmd_deny, cmd_reject, cmd_limit, cmd_insert, cmd_delete;
command_fn cmd_zone, cmd_service;
command_fn cmd_forward, cmd_masquerade;
int change_apply(struct daemon *dm, const struct change *ch, struct pc_reply *reply);

/* ban.c: ban and unban; bans that expire. */
command_fn cmd_ban, cmd_unban;
/* The monotonic deadline (ms) of the next ban to expire, UINT64_MAX if none. */
uint64_t bans_deadline(const struct daemon *dm);
void bans_expire_due(struct daemon *dm);

/* confirm.c: reload, apply [--confirm], confirm, and the rollback. */
command_fn cmd_reload, cmd_apply, cmd_confirm;
/* SIGHUP: the files again, as reload without a session. */
void confirm_reload(struct daemon *dm);
/* The monotonic deadline (ms) of a pending confirmation, UINT64_MAX if none. */
uint64_t confirm_deadline(const struct daemon *dm);
/* Roll back when the deadline has passed. */
void confirm_expire(struct daemon *dm);
/* Start-up: the configuration an unconfirmed apply left to roll back to
 * (1, *out set), or none (0); -errno. */
int confirm_startup(struct daemon *dm, struct pc_config **out);
/* The state directory's copy of the last good configuration. */
int confirm_last_good(struct daemon *dm, struct pc_config **out);
void confirm_done(struct daemon *dm);
/* status --json: "panic", "bans" and "pending_confirm". */
void confirm_status_add(const struct daemon *dm, json_t *data);

/* metrics.c: per-rule counters, bans, applies and drift, for Prometheus. */
command_fn cmd_metrics;

/* panic.c: panic on|off. */
command_fn cmd_panic;
/* In panic mode every rule change but panic, confirm and bans is
 * refused: true with the refusal in reply (which may be NULL: SIGHUP). */
bool panic_refuses(const struct daemon *dm, const char *cmd, struct pc_reply *reply);

/* enable.c: disable, enable. */
command_fn cmd_disable, cmd_enable;
/* While disabled, panic and apply --confirm are refused: true with the
 * refusal in reply. */
bool disabled_refuses(const struct daemon *dm, const char *cmd, json_t *args,
		      struct pc_reply *reply);
/* A rule change while an apply --confirm is pending: refused (reply set). */
bool pending_refuses(const struct daemon *dm, const char *cmd, struct pc_reply *reply);
/* A change made while disabled says that the kernel has not got it yet. */
void disabled_note(const struct daemon *dm, const char *cmd, struct pc_reply *reply);

/* cmd_explain.c: read commands about the configuration in force. */
command_fn cmd_explain, cmd_export, cmd_diff;

#endif
