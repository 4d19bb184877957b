/* portctl reload: have portctld re-read the configuration and apply it in
 * one transaction; on errors nothing changes and they are printed. */
#include "config.h"

#include "cli.h"

int cmd_reload(struct cli_context *ctx, int argc, char *argv[])
{
	int code, i;

	i = cli_options_parse(ctx, argc, argv,
			      "reload [--json]\n\n"
			      "Re-read the configuration directory and apply it atomically. A bad\n"
			      "rule anywhere changes nothing; its FILE:LINE:COL is printed.\n"
			      "Rules added with --runtime are dropped.\n",
			      &code);
	if (i < 0)
		return code;
	if (i != argc) {
		fprintf(stderr, "%s: reload takes no arguments\n", ctx->prog);
		return CLI_EXIT_USAGE;
	}
	return cli_daemon_simple(ctx, "reload", NULL);
}
