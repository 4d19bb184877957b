/* portctl apply [--confirm SECONDS], confirm, panic on|off: the commands
 * that keep an administrator from locking themselves out. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"

struct trial_opts {
	bool force;
	long confirm; /* seconds; 0: none */
	int first;    /* index of the first operand */
};

static int usage_error(const struct cli_context *ctx, const char *cmd, const char *what)
{
	fprintf(stderr, "%s: %s %s\nRun '%s %s --help' for usage.\n", ctx->prog, cmd, what,
		ctx->prog, cmd);
	return CLI_EXIT_USAGE;
}

static bool seconds_parse(const char *s, long *out)
{
	uint32_t v;

	if (pc_number_parse(s, 86400, &v) < 0 || v < 1)
		return false;
	*out = (long)v;
	return true;
}

/* --help, --json, --force, and (when allowed) --confirm SECONDS. */
static int trial_opts_parse(struct cli_context *ctx, int argc, char *argv[], const char *usage,
			    bool confirm_allowed, struct trial_opts *o, int *exit_code)
{
	static const struct option options[] = {
	    {"help", no_argument, NULL, 'h'},
	    {"json", no_argument, NULL, 'j'},
	    {"force", no_argument, NULL, 'f'},
	    {"confirm", required_argument, NULL, 'C'},
	    {0},
	};
	int c;

	optind = 0;
	while ((c = getopt_long(argc, argv, "hjf", options, NULL)) != -1) {
		switch (c) {
		case 'f':
			o->force = true;
			break;
		case 'C':
			if (confirm_allowed && seconds_parse(optarg, &o->confirm))
				break;
			*exit_code =
			    usage_error(ctx, argv[0],
					confirm_allowed ? "--confirm takes 1 to 86400 seconds"
							: "takes no --confirm");
			return -1;
		default:
			if (cli_option_common(ctx, c, argv[0], usage, exit_code) < 0)
				return -1;
		}
	}
	o->first = optind;
	return 0;
}

int cli_guarded_call(struct cli_context *ctx, const char *cmd, json_t *args, bool force)
{
	int code;

	if (!args || cli_guard_args(args, force) < 0) {
		json_decref(args);
		return CLI_EXIT_FAILURE;
	}
	code = cli_daemon_simple(ctx, cmd, args);
	json_decref(args);
	return code;
}

int cli_files_apply(struct cli_context *ctx, int argc, char *argv[], const char *usage,
		    bool confirm_allowed)
{
	struct trial_opts o = {0};
	json_t *args;
	int code;

	if (trial_opts_parse(ctx, argc, argv, usage, confirm_allowed, &o, &code) < 0)
		return code;
	if (o.first != argc)
		return usage_error(ctx, argv[0], "takes no arguments");
	args = o.confirm ? json_pack("{s:I}", "confirm", (json_int_t)o.confirm) : json_object();
	return cli_guarded_call(ctx, argv[0], args, o.force);
}

int cmd_apply(struct cli_context *ctx, int argc, char *argv[])
{
	return cli_files_apply(
	    ctx, argc, argv,
	    "apply [--confirm SECONDS] [--force] [--json]\n\n"
	    "Re-read the configuration and apply it atomically, like reload. With\n"
	    "--confirm, the change is on trial: unless 'portctl confirm' follows\n"
	    "within SECONDS, portctld puts the previous rules back in one transaction.\n"
	    "The rollback restores the previous rules' effect in the kernel, not the\n"
	    "files: they stay as you edited them. The timer runs in portctld; a lost\n"
	    "connection or a restart of portctld does not stop the rollback. Until\n"
	    "the trial ends, rule changes from the command line are refused (they\n"
	    "would be rolled back with it); ban and unban are not.\n\n"
	    "  --confirm SECONDS   roll back unless confirmed in time (1-86400)\n"
	    "  --force             apply even if it would cut your own SSH session\n"
	    "  --json              print the daemon's answer as JSON\n",
	    true);
}

int cmd_confirm(struct cli_context *ctx, int argc, char *argv[])
{
	struct trial_opts o = {0};
	int code;

	if (trial_opts_parse(ctx, argc, argv,
			     "confirm [--json]\n\n"
			     "Keep the rules of a pending 'portctl apply --confirm SECONDS'.\n",
			     false, &o, &code) < 0)
		return code;
	if (o.first != argc)
		return usage_error(ctx, "confirm", "takes no arguments");
	return cli_daemon_simple(ctx, "confirm", NULL);
}

int cmd_panic(struct cli_context *ctx, int argc, char *argv[])
{
	struct trial_opts o = {0};
	const char *mode;
	int code;

	if (trial_opts_parse(
		ctx, argc, argv,
		"panic on|off [--force] [--json]\n\n"
		"on:  drop every packet in and out except loopback, in one transaction.\n"
		"     Established connections are dropped too, your SSH session included;\n"
		"     over SSH it therefore needs --force. The mode survives a restart of\n"
		"     portctld, and rule changes are refused while it lasts.\n"
		"off: put back exactly the rules in force before, in one transaction.\n",
		false, &o, &code) < 0)
		return code;
	if (argc - o.first != 1)
		return usage_error(ctx, "panic", "needs 'on' or 'off'");
	mode = argv[o.first];
	if (!streq(mode, "on") && !streq(mode, "off"))
		return usage_error(ctx, "panic", "needs 'on' or 'off'");
	return cli_guarded_call(ctx, "panic", json_pack("{s:s}", "mode", mode), o.force);
}

void cli_trust_status_print(const json_t *data)
{
	const json_t *pending = json_object_get(data, "pending_confirm");

	if (json_is_true(json_object_get(data, "disabled")))
		printf("DISABLED: table inet portctl is not in the kernel, these rules filter "
		       "nothing; 'portctl enable' puts them back\n");
	if (json_is_true(json_object_get(data, "panic")))
		printf("PANIC MODE: every packet but loopback is dropped; 'portctl panic off' "
		       "puts these rules back\n");
	if (json_integer_value(json_object_get(data, "bans")) > 0) {
		const char *owner, *sep = "";
		json_t *n;

		printf("Bans: %lld (", (long long)json_integer_value(json_object_get(data, "bans")));
		json_object_foreach((json_t *)json_object_get(data, "bans_by"), owner, n) {
			printf("%s%s %lld", sep, owner, (long long)json_integer_value(n));
			sep = ", ";
		}
		printf(")\n");
	}
	if (pending)
		printf("On trial: rolled back in %lld s unless 'portctl confirm' (apply --confirm "
		       "%lld)\n",
		       (long long)json_integer_value(json_object_get(pending, "seconds_left")),
		       (long long)json_integer_value(json_object_get(pending, "seconds")));
}
