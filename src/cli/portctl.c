/* portctl: the command-line front end. Global options, the command table,
 * and the commands that need nothing but the table (help, version). */
#include "config.h"

#include <getopt.h>
#include <jansson.h>
#include <stdio.h>

#include "cli.h"

/* One line per command; a new command is a new file plus one entry here. */
const struct cli_command cli_commands[] = {
	{"allow", cmd_allow, true, "add an allow rule now and persist it"},
	{"deny", cmd_deny, true, "add a deny (silent drop) rule"},
	{"reject", cmd_reject, true, "add a reject rule"},
	{"limit", cmd_limit, true, "allow, rate-limiting new connections per source"},
	{"forward", cmd_forward, true, "forward a port to another host (DNAT)"},
	{"masquerade", cmd_masquerade, true, "masquerade a zone's traffic out an interface"},
	{"insert", cmd_insert, true, "add a rule at position N"},
	{"delete", cmd_delete, true, "remove a rule, or a zone or service portctl defined"},
	{"zone", cmd_zone, true, "define or replace a zone (interfaces, sources, policies)"},
	{"service", cmd_service, true, "define or replace a service name's ports"},
	{"ban", cmd_ban, true, "drop an address ahead of every rule (fail2ban)"},
	{"unban", cmd_unban, true, "lift a ban"},
	{"exposure", cmd_exposure, false, "listening sockets and the rules that reach them"},
	{"status", cmd_status, true, "zones, rules and their counters"},
	{"zones", cmd_zones, true, "the zones in force"},
	{"services", cmd_services, true, "the service names known"},
	{"metrics", cmd_metrics, true, "counters, bans, last change, drift for Prometheus"},
	{"reload", cmd_reload, true, "re-read the configuration and apply it"},
	{"apply", cmd_apply, true, "reload; --confirm SECONDS: roll back unless confirmed"},
	{"confirm", cmd_confirm, true, "keep the rules of a pending apply --confirm"},
	{"panic", cmd_panic, true, "on: drop everything but loopback; off: restore"},
	{"disable", cmd_disable, true, "take portctl's table out of the kernel until enable"},
	{"enable", cmd_enable, true, "put the rules back after disable"},
	{"reset", cmd_reset, true, "back to the shipped defaults, old files saved"},
	{"check", cmd_check, false, "validate rule files without applying them"},
	{"explain", cmd_explain, false, "which zone and rule decide a packet, and why"},
	{"export", cmd_export, true, "the configuration in force as one rules file"},
	{"watch", cmd_watch, true, "a live view of denied packets, zone and FILE:LINE"},
	{"diff", cmd_diff, true, "what reload would change, files vs. live kernel"},
	{"import", cmd_import, false, "print a ufw or firewalld configuration as a rules file"},
	{"help", cmd_help, false, "show the commands, or one command's help"},
	{"version", cmd_version, false, "show the version"},
};
const size_t cli_n_commands = ARRAY_SIZE(cli_commands);

static void usage_print(FILE *out, const char *prog)
{
	fprintf(out,
		"usage: %s [OPTIONS] COMMAND [ARGS...]\n"
		"\n"
		"Manage the host firewall's port rules (nftables table inet portctl).\n"
		"\n"
		"Options:\n"
		"  -h, --help            show this help\n"
		"  -V, --version         show the version\n"
		"  -j, --json            machine-readable output\n"
		"  -c, --config DIR      configuration directory (default %s)\n"
		"  -d, --data-dir DIR    shipped zones and services (default %s)\n"
		"  -s, --socket PATH     portctld's socket (default %s/portctl.sock)\n"
		"\n"
		"Commands:\n",
		prog, PORTCTL_SYSCONFDIR, PORTCTL_DATADIR, PORTCTL_RUNDIR);
	for (size_t i = 0; i < cli_n_commands; i++)
		fprintf(out, "  %-20s  %s\n", cli_commands[i].name, cli_commands[i].summary);
	fprintf(out, "\n'%s COMMAND --help' describes a command. Exit status: 0 ok, 1 failure,\n"
		     "2 bad usage or bad rule, 3 daemon unreachable, 4 permission denied.\n",
		prog);
}

int cli_option_common(struct cli_context *ctx, int c, const char *cmd, const char *usage,
		      int *exit_code)
{
	switch (c) {
	case 'h':
		fprintf(stdout, "usage: %s %s", ctx->prog, usage);
		*exit_code = CLI_EXIT_OK;
		return -1;
	case 'j':
		ctx->json = true;
		return 0;
	default:
		fprintf(stderr, "Run '%s %s --help' for usage.\n", ctx->prog, cmd);
		*exit_code = CLI_EXIT_USAGE;
		return -1;
	}
}

int cli_options_parse(struct cli_context *ctx, int argc, char *argv[], const char *usage,
		      int *exit_code)
{
	static const struct option options[] = {
		{"help", no_argument, NULL, 'h'},
		{"json", no_argument, NULL, 'j'},
		{0},
	};
	int c;

	optind = 0;
	while ((c = getopt_long(argc, argv, "+hj", options, NULL)) != -1)
		if (cli_option_common(ctx, c, argv[0], usage, exit_code) < 0)
			return -1;
	return optind;
}

/* The commands that only read may be abbreviated. Every other one changes
 * or drops traffic ("portctl p on" would be panic on), so a new command is
 * never abbreviated unless it is added here. */
static bool command_abbreviable(const struct cli_command *cmd)
{
	static const char *const readers[] = {
	    "exposure", "status", "zones", "services", "check",
	    "explain", "export", "diff", "import", "help", "version", "metrics",
	};

	for (size_t i = 0; i < ARRAY_SIZE(readers); i++)
		if (streq(cmd->name, readers[i]))
			return true;
	return false;
}

/* Exact name, or an unambiguous prefix of one (iproute2's "ip a"). */
static const struct cli_command *command_find(const char *name, bool *ambiguous)
{
	const struct cli_command *found = NULL;
	size_t n = strlen(name);

	*ambiguous = false;
	for (size_t i = 0; i < cli_n_commands; i++) {
		if (streq(cli_commands[i].name, name))
			return &cli_commands[i];
		if (n > 0 && strncmp(cli_commands[i].name, name, n) == 0) {
			*ambiguous = found != NULL;
			found = &cli_commands[i];
		}
	}
	return *ambiguous ? NULL : found;
}

int cmd_help(struct cli_context *ctx, int argc, char *argv[])
{
	const struct cli_command *cmd;
	char *help_argv[] = {NULL, "--help", NULL};
	int code, i;
	bool ambiguous;

	i = cli_options_parse(ctx, argc, argv, "help [COMMAND]\n\nShow the commands, or the "
					       "help of one command.\n", &code);
	if (i < 0)
		return code;
	if (i == argc) {
		usage_print(stdout, ctx->prog);
		return CLI_EXIT_OK;
	}
	cmd = command_find(argv[i], &ambiguous);
	if (!cmd) {
		fprintf(stderr, "%s: unknown command '%s'; '%s help' lists them\n", ctx->prog,
			argv[i], ctx->prog);
		return CLI_EXIT_USAGE;
	}
	help_argv[0] = (char *)cmd->name;
	return cmd->run(ctx, 2, help_argv);
}

int cmd_version(struct cli_context *ctx, int argc, char *argv[])
{
	int code;

	if (cli_options_parse(ctx, argc, argv, "version [--json]\n\nShow the version.\n", &code) < 0)
		return code;
	if (!ctx->json) {
		printf("portctl %s\n", PACKAGE_VERSION);
		return CLI_EXIT_OK;
	}

	json_t *j = json_pack("{s:s}", "version", PACKAGE_VERSION);

	code = j ? cli_json_envelope(CLI_EXIT_OK, "", j) : CLI_EXIT_FAILURE;
	json_decref(j);
	return code;
}

int main(int argc, char *argv[])
{
	static const struct option options[] = {
		{"help", no_argument, NULL, 'h'},      {"version", no_argument, NULL, 'V'},
		{"json", no_argument, NULL, 'j'},      {"config", required_argument, NULL, 'c'},
		{"data-dir", required_argument, NULL, 'd'}, {"socket", required_argument, NULL, 's'},
		{0},
	};
	struct cli_context ctx = {.prog = "portctl"};
	const struct cli_command *cmd;
	bool ambiguous;
	int c;

	pc_paths_default(&ctx.paths);
	if ((c = cli_habit_command(&ctx, argc, argv)) >= 0)
		return c;
	while ((c = getopt_long(argc, argv, "+hVjc:d:s:", options, NULL)) != -1) {
		switch (c) {
		case 'h':
			usage_print(stdout, ctx.prog);
			return CLI_EXIT_OK;
		case 'V':
			return cmd_version(&ctx, 1, (char *[]){"version", NULL});
		case 'j':
			ctx.json = true;
			break;
		case 'c':
			ctx.paths.sysconf_dir = optarg;
			break;
		case 'd':
			ctx.paths.data_dir = optarg;
			break;
		case 's':
			ctx.paths.socket_path = optarg;
			break;
		default:
			fprintf(stderr, "Run '%s --help' for usage.\n", ctx.prog);
			return CLI_EXIT_USAGE;
		}
	}
	if (optind == argc) {
		usage_print(stderr, ctx.prog);
		return CLI_EXIT_USAGE;
	}
	cmd = command_find(argv[optind], &ambiguous);
	if (!cmd) {
		fprintf(stderr, "%s: %s command '%s'; '%s help' lists them\n", ctx.prog,
			ambiguous ? "ambiguous" : "unknown", argv[optind], ctx.prog);
		return CLI_EXIT_USAGE;
	}
	if (!streq(cmd->name, argv[optind]) && !command_abbreviable(cmd)) {
		fprintf(stderr,
			"%s: '%s': did you mean '%s'? write it in full: commands that change "
			"rules are never abbreviated\n",
			ctx.prog, argv[optind], cmd->name);
		return CLI_EXIT_USAGE;
	}
	return cmd->run(&ctx, argc - optind, argv + optind);
}
