/* portctl ban / unban: drop every packet of an address ahead of all rules
 * (fail2ban's action), or lift that again. One element per change. */
#include "config.h"

#include <getopt.h>
#include <jansson.h>
#include <stdio.h>

#include "cli.h"
#include "portctl/proto.h"

#define BAN_USAGE_TAIL                                                                             \
	" ADDRESS [--zone ZONE]\n\n"                                                               \
	"ADDRESS is IPv4 or IPv6, optionally with a prefix length. Without --zone\n"               \
	"the ban covers every zone. Bans stay in force across reloads and rule\n"                  \
	"changes, until unban or a restart of portctld; they are not written to\n"                 \
	"any file (fail2ban keeps its own record).\n"

static int ban_run(struct cli_context *ctx, int argc, char *argv[], const char *cmd)
{
	static const struct option options[] = {
		{"help", no_argument, NULL, 'h'},
		{"json", no_argument, NULL, 'j'},
		{"zone", required_argument, NULL, 'z'},
		{0},
	};
	const char *zone = NULL;
	json_t *args;
	int c, r;

	optind = 0;
	while ((c = getopt_long(argc, argv, "+hjz:", options, NULL)) != -1) {
		switch (c) {
		case 'h':
			printf("usage: %s %s" BAN_USAGE_TAIL, ctx->prog, cmd);
			return CLI_EXIT_OK;
		case 'j':
			ctx->json = true;
			break;
		case 'z':
			zone = optarg;
			break;
		default:
			fprintf(stderr, "Run '%s %s --help' for usage.\n", ctx->prog, cmd);
			return CLI_EXIT_USAGE;
		}
	}
	if (argc - optind != 1) {
		fprintf(stderr, "%s %s: give exactly one ADDRESS; '%s %s --help' says more\n",
			ctx->prog, cmd, ctx->prog, cmd);
		return CLI_EXIT_USAGE;
	}
	args = json_pack("{s:s}", "address", argv[optind]);
	if (!args || (zone && json_object_set_new(args, "zone", json_string(zone)) < 0)) {
		json_decref(args);
		return CLI_EXIT_FAILURE;
	}
	r = cli_daemon_simple(ctx, cmd, args);
	json_decref(args);
	return r;
}

int cmd_ban(struct cli_context *ctx, int argc, char *argv[])
{
	return ban_run(ctx, argc, argv, "ban");
}

int cmd_unban(struct cli_context *ctx, int argc, char *argv[])
{
	return ban_run(ctx, argc, argv, "unban");
}
