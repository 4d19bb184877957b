/* portctl reload: have portctld re-read the configuration and apply it in
 * one transaction; on errors nothing changes and they are printed. */
#include "config.h"

#include "cli.h"

int cmd_reload(struct cli_context *ctx, int argc, char *argv[])
{
	return cli_files_apply(ctx, argc, argv,
			       "reload [--force] [--json]\n\n"
			       "Re-read the configuration directory and apply it atomically. A bad\n"
			       "rule anywhere changes nothing; its FILE:LINE:COL is printed.\n"
			       "Rules added with --runtime are dropped. A configuration that would\n"
			       "cut your own SSH session is refused unless --force is given; to try\n"
			       "one safely, use 'portctl apply --confirm SECONDS'.\n",
			       false);
}
