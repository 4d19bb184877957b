/* The portctl program's command table and what every command shares: the
 * context from the global options, exit codes, and option parsing. */
#ifndef PORTCTL_CLI_H
#define PORTCTL_CLI_H

#include <stdbool.h>

#include "portctl/config.h"
#include <jansson.h>

/* Documented in portctl(8). */
enum cli_exit {
	CLI_EXIT_OK = 0,
	CLI_EXIT_FAILURE = 1,
	CLI_EXIT_USAGE = 2, /* bad usage or a bad rule */
	CLI_EXIT_UNREACHABLE = 3,
	CLI_EXIT_PERMISSION = 4,
};

/* What the global options set; owned by main() and passed to commands. */
struct cli_context {
	const char *prog;
	bool json;
	struct pc_paths paths;
};

struct cli_command {
	const char *name;
	/* argv[0] is the command's name; returns an enum cli_exit. */
	int (*run)(struct cli_context *ctx, int argc, char *argv[]);
	bool needs_daemon;
	const char *summary;
};

/* The table lives in portctl.c; one entry per command. */
extern const struct cli_command cli_commands[];
extern const size_t cli_n_commands;

/*
 * Parse a command's own options, --help and --json (more may follow).
 * Prints usage on --help and returns -1 with *exit_code set; else returns
 * the index of the first operand.
 */
/* --help and --json, and the refusal of unknown options, for a command's
 * own getopt loop: 0 when parsing goes on, -1 when the command must stop
 * with *exit_code. */
int cli_option_common(struct cli_context *ctx, int c, const char *cmd, const char *usage,
		      int *exit_code);
int cli_options_parse(struct cli_context *ctx, int argc, char *argv[], const char *usage,
		      int *exit_code);

int cmd_check(struct cli_context *ctx, int argc, char *argv[]);
int cmd_help(struct cli_context *ctx, int argc, char *argv[]);
int cmd_version(struct cli_context *ctx, int argc, char *argv[]);

/* Commands answered by portctld (cmd_daemon.c, cmd_rule.c, cmd_status.c,
 * cmd_reload.c). */
struct pc_response;
/* Send cmd and wait for the answer; an enum cli_exit (3 when unreachable). */
int cli_daemon_call(struct cli_context *ctx, const char *cmd, const json_t *args,
		    struct pc_response *resp);
/* A paged read (status, metrics): where its items and their total are. */
struct cli_paged {
	const char *in;    /* NULL: the answer's data; else its member */
	const char *items; /* the array of this page's items */
	const char *total; /* how many there are in all */
	/* Non-NULL: items is a text, and this member says how many items the
	 * page's text holds; the pages' texts are joined. */
	const char *count;
	size_t want;       /* how many to read (SIZE_MAX: all) */
};
/* cli_daemon_call for a paged read: the pages from args' "offset" on, as
 * one answer whose items are all the pages' (read on one connection;
 * again from the first when the configuration changed in between). */
int cli_daemon_call_paged(struct cli_context *ctx, const char *cmd, const json_t *args,
			  const struct cli_paged *p, struct pc_response *resp);
/* Print the answer's message (or JSON) and release it; returns its status. */
int cli_response_finish(struct cli_context *ctx, struct pc_response *resp);
int cli_daemon_simple(struct cli_context *ctx, const char *cmd, const json_t *args);
/* An error that ends the command: "PROG: message" (then hint's line, if
 * any) on stderr and, with --json, {"status", "message"} on stdout, the
 * envelope of a daemon's answer. Returns status. */
int cli_error(const struct cli_context *ctx, int status, const char *hint, const char *fmt, ...)
    _printf_(4, 5);
/* --json output: j indented, keys in their order, and a newline.
 * CLI_EXIT_OK or CLI_EXIT_FAILURE. */
int cli_json_print(const json_t *j);
/* Every command's --json answer, the daemon's or the CLI's own:
 * {"status": EXIT, "message": TEXT, "data": DATA (may be absent)}. */
int cli_json_envelope(int status, const char *message, const json_t *data);
int cmd_allow(struct cli_context *ctx, int argc, char *argv[]);
int cmd_deny(struct cli_context *ctx, int argc, char *argv[]);
int cmd_reject(struct cli_context *ctx, int argc, char *argv[]);
int cmd_limit(struct cli_context *ctx, int argc, char *argv[]);
int cmd_forward(struct cli_context *ctx, int argc, char *argv[]);
int cmd_masquerade(struct cli_context *ctx, int argc, char *argv[]);
int cmd_insert(struct cli_context *ctx, int argc, char *argv[]);
int cmd_delete(struct cli_context *ctx, int argc, char *argv[]);
int cmd_zone(struct cli_context *ctx, int argc, char *argv[]);
int cmd_service(struct cli_context *ctx, int argc, char *argv[]);
int cmd_status(struct cli_context *ctx, int argc, char *argv[]);
int cmd_zones(struct cli_context *ctx, int argc, char *argv[]);
int cmd_services(struct cli_context *ctx, int argc, char *argv[]);
int cmd_reload(struct cli_context *ctx, int argc, char *argv[]);
/* cmd_apply.c: apply [--confirm], confirm, panic; reload shares its options. */
int cmd_apply(struct cli_context *ctx, int argc, char *argv[]);
int cmd_confirm(struct cli_context *ctx, int argc, char *argv[]);
int cmd_panic(struct cli_context *ctx, int argc, char *argv[]);
/* cmd_enable.c: disable, enable, reset. */
int cmd_disable(struct cli_context *ctx, int argc, char *argv[]);
int cmd_enable(struct cli_context *ctx, int argc, char *argv[]);
int cmd_reset(struct cli_context *ctx, int argc, char *argv[]);
/* Parse --force/--confirm/--json/--help for argv[0] ("apply", "reload")
 * and send it with the session; an enum cli_exit. */
int cli_files_apply(struct cli_context *ctx, int argc, char *argv[], const char *usage,
		    bool confirm_allowed);
/* status: panic mode and a pending confirmation, when there are. */
void cli_trust_status_print(const json_t *data);
/* session.c: the admin's SSH session ("CLIENT CPORT SERVER SPORT") from
 * SSH_CONNECTION, or under sudo from the nearest ancestor that has it;
 * NULL when none (caller frees). */
char *cli_ssh_connection(void);
/* Add "ssh_connection" (when known) and "force" (when set) to a request's
 * args, for portctld's lock-out guard. Returns 0 or -ENOMEM. */
int cli_guard_args(json_t *args, bool force);
/* Send cmd with the session and --force added to args (consumed; NULL
 * means out of memory). Returns the exit code. */
int cli_guarded_call(struct cli_context *ctx, const char *cmd, json_t *args, bool force);
/* cmd_ban.c, cmd_exposure.c */
int cmd_ban(struct cli_context *ctx, int argc, char *argv[]);
int cmd_unban(struct cli_context *ctx, int argc, char *argv[]);
int cmd_exposure(struct cli_context *ctx, int argc, char *argv[]);
/* cmd_explain.c (daemon or offline), cmd_export.c (export, diff) */
int cmd_explain(struct cli_context *ctx, int argc, char *argv[]);
int cmd_export(struct cli_context *ctx, int argc, char *argv[]);
int cmd_diff(struct cli_context *ctx, int argc, char *argv[]);
/* cmd_watch.c */
int cmd_watch(struct cli_context *ctx, int argc, char *argv[]);
/* cmd_metrics.c */
int cmd_metrics(struct cli_context *ctx, int argc, char *argv[]);
/* habits.c: a ufw or firewall-cmd idiom answered with portctl's words on
 * stderr, returning CLI_EXIT_USAGE; -1 when argv is not one. _rule takes
 * a rule command's argv (argv[0] the action), _command main's. */
int cli_habit_rule(const struct cli_context *ctx, int argc, char *argv[]);
int cli_habit_command(const struct cli_context *ctx, int argc, char *argv[]);
/* cmd_import.c: import ufw|firewalld [DIR] */
int cmd_import(struct cli_context *ctx, int argc, char *argv[]);

#endif
