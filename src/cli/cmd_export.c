/* portctl export and portctl diff: the configuration in force as a rules
 * file, and what a reload would change (files vs. the daemon's rules and
 * the kernel's table), in rule-file words. */
#include "config.h"

#include <stdio.h>

#include "cli.h"
#include "portctl/proto.h"

static const char export_usage[] =
    "export [--json]\n"
    "\n"
    "Print the configuration portctld has in force as one valid rules file:\n"
    "the zones and services the administrator defined, then every rule in\n"
    "order, each with a comment naming the FILE:LINE it came from. Settings\n"
    "stay in portctl.conf and shipped definitions in the data directory, so\n"
    "with those the file alone gives the same rules:\n"
    "    portctl export > /tmp/all.rules && portctl check /tmp/all.rules\n";

static const char diff_usage[] =
    "diff [--json]\n"
    "\n"
    "Show what 'portctl reload' would change: the files compared with the\n"
    "rules portctld has in force, as lines of rules files:\n"
    "    + allow 8080/tcp                          # rules.d/10-web.rules:4\n"
    "    - deny 25/tcp                             # rules.d/10-web.rules:7\n"
    "A changed rule shows as a removal and an addition (first match wins, so\n"
    "order matters). It also checks that the kernel's table inet portctl still\n"
    "holds what portctld applied, and lists what someone else changed ('!').\n"
    "\n"
    "Exit status: 0 no difference, 1 a difference (or a failure), 2 the files\n"
    "are invalid, 3 daemon unreachable.\n";

static int simple_options(struct cli_context *ctx, int argc, char *argv[], const char *usage,
			  int *code)
{
	int i = cli_options_parse(ctx, argc, argv, usage, code);

	if (i < 0)
		return -1;
	if (i != argc) {
		fprintf(stderr, "%s: %s takes no arguments\n", ctx->prog, argv[0]);
		*code = CLI_EXIT_USAGE;
		return -1;
	}
	return 0;
}

int cmd_export(struct cli_context *ctx, int argc, char *argv[])
{
	struct pc_response resp;
	const char *text;
	int code;

	if (simple_options(ctx, argc, argv, export_usage, &code) < 0)
		return code;
	/* A page of rules per request: portctld serves others between two. */
	code = cli_daemon_call_paged(ctx, "export", NULL,
				     &(struct cli_paged){.items = "text",
							 .total = "rules_total",
							 .count = "rules_count",
							 .want = SIZE_MAX},
				     &resp);
	if (code != CLI_EXIT_OK)
		return code;
	text = json_string_value(json_object_get(resp.data, "text"));
	if (ctx->json || resp.status != PC_STATUS_OK || !text)
		return cli_response_finish(ctx, &resp);
	fputs(text, stdout);
	pc_response_done(&resp);
	return CLI_EXIT_OK;
}

/* A file under the configuration directory, as "rules.d/10-web.rules". */
static const char *file_short(const struct cli_context *ctx, const char *file)
{
	size_t n = strlen(ctx->paths.sysconf_dir);

	if (file && strncmp(file, ctx->paths.sysconf_dir, n) == 0 && file[n] == '/')
		return file + n + 1;
	return file;
}

static void change_print(const struct cli_context *ctx, const json_t *c)
{
	const char *file = json_string_value(json_object_get(c, "file"));
	int len = printf("%s %s", json_string_value(json_object_get(c, "op")),
			 json_string_value(json_object_get(c, "text")));

	if (file)
		printf("%*s# %s:%lld", len < 44 ? 44 - len : 1, "", file_short(ctx, file),
		       (long long)json_integer_value(json_object_get(c, "line")));
	putchar('\n');
}

static void kernel_print(const struct cli_context *ctx, const json_t *k)
{
	const json_t *list = json_object_get(k, "differences");
	size_t i;
	json_t *v;

	if (!json_is_true(json_object_get(k, "checked"))) {
		printf("? the kernel's table was not compared: %s\n",
		       json_string_value(json_object_get(k, "reason")));
		return;
	}
	if (json_is_true(json_object_get(k, "matches")))
		return;
	printf("! table inet portctl in the kernel differs from what portctld applied "
	       "(changed by someone else; 'portctl reload' puts it back):\n");
	json_array_foreach(list, i, v)
	{
		const char *op = json_string_value(json_object_get(v, "op"));
		const char *rule = json_string_value(json_object_get(v, "rule"));

		printf("!   %s %s",
		       op[0] == '-'   ? "missing:"
		       : op[0] == '+' ? "not ours:"
				      : "changed:",
		       json_string_value(json_object_get(v, "what")));
		if (rule)
			printf(" of '%s' (%s:%lld)", rule,
			       file_short(ctx, json_string_value(json_object_get(v, "file"))),
			       (long long)json_integer_value(json_object_get(v, "line")));
		else
			printf(": %s", json_string_value(json_object_get(v, "object")));
		putchar('\n');
	}
}

int cmd_diff(struct cli_context *ctx, int argc, char *argv[])
{
	struct pc_response resp;
	bool equal;
	size_t i;
	json_t *v;
	int code;

	if (simple_options(ctx, argc, argv, diff_usage, &code) < 0)
		return code;
	code = cli_daemon_call(ctx, "diff", NULL, &resp);
	if (code != CLI_EXIT_OK)
		return code;
	if (resp.status != PC_STATUS_OK || !resp.data)
		return cli_response_finish(ctx, &resp);
	equal = json_is_true(json_object_get(resp.data, "equal"));
	if (ctx->json) {
		cli_response_finish(ctx, &resp);
		return equal ? CLI_EXIT_OK : CLI_EXIT_FAILURE;
	}
	json_array_foreach(json_object_get(resp.data, "changes"), i, v) change_print(ctx, v);
	kernel_print(ctx, json_object_get(resp.data, "kernel"));
	pc_response_done(&resp);
	return equal ? CLI_EXIT_OK : CLI_EXIT_FAILURE;
}
