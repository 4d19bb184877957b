/* portctl allow|deny|reject|limit|insert|delete: rule changes sent to
 * portctld, which parses them with the same parser as the rule files. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"

struct rule_opts {
	bool runtime;
	bool force; /* even if it cuts the admin's own SSH session */
	bool dry_run; /* say what would change, change nothing */
	uint32_t timeout; /* seconds: a temporary rule; 0: none */
	int first; /* index of the first operand */
};

/* Options may stand anywhere among the rule's words; "--" ends them. */
static int rule_opts_parse(struct cli_context *ctx, int argc, char *argv[], const char *usage,
			   struct rule_opts *o, int *exit_code)
{
	static const struct option options[] = {
		{"help", no_argument, NULL, 'h'},
		{"json", no_argument, NULL, 'j'},
		{"runtime", no_argument, NULL, 'r'},
		{"force", no_argument, NULL, 'f'},
		{"dry-run", no_argument, NULL, 'n'},
		{"timeout", required_argument, NULL, 't'},
		{0},
	};
	int c, r;

	optind = 0;
	while ((c = getopt_long(argc, argv, "hjrfnt:", options, NULL)) != -1) {
		switch (c) {
		case 't':
			r = pc_duration_parse(optarg, &o->timeout);
			if (r < 0) {
				fprintf(stderr, "%s: %s: %s\nRun '%s %s --help' for usage.\n",
					ctx->prog, argv[0],
					r == -ERANGE ? "--timeout is at most 3650 days"
						     : "--timeout takes a duration: 30s, 10m, 2h, 1d",
					ctx->prog, argv[0]);
				*exit_code = CLI_EXIT_USAGE;
				return -1;
			}
			break;
		case 'n':
			o->dry_run = true;
			break;
		case 'r':
			o->runtime = true;
			break;
		case 'f':
			o->force = true;
			break;
		default:
			if (cli_option_common(ctx, c, argv[0], usage, exit_code) < 0)
				return -1;
		}
	}
	o->first = optind;
	return 0;
}

/* The rule's words, the action first, as one line in the grammar. */
static char *rule_text(const char *action, int argc, char *argv[])
{
	char **words = calloc((size_t)argc + 2, sizeof(char *));
	char *text;

	if (!words)
		return NULL;
	words[0] = (char *)action;
	for (int i = 0; i < argc; i++)
		words[i + 1] = argv[i];
	text = pc_rule_text_from_argv(argc + 1, words);
	free(words);
	return text;
}

static int usage_error(const struct cli_context *ctx, const char *cmd, const char *what)
{
	fprintf(stderr, "%s: %s %s\nRun '%s %s --help' for usage.\n", ctx->prog, cmd, what,
		ctx->prog, cmd);
	return CLI_EXIT_USAGE;
}

static const char rule_usage_fmt[] =
	"%s [--runtime | --timeout DURATION] [--dry-run] [--json] RULE...\n\n"
	"Add a rule at the end of the rules portctl manages, apply it now and\n"
	"persist it to rules.d/90-portctl.rules. RULE is what a rules file line\n"
	"holds after the action, e.g. '443/tcp', '80,443/tcp zone public\n"
	"comment web', 'from 203.0.113.7'; for forward '8080/tcp to\n"
	"10.0.0.5:80', for masquerade 'zone internal out eth0'; see\n"
	"portctl.rules(5).\n\n"
	"  --runtime   apply now, do not persist (dropped by the next reload)\n"
	"  --timeout DURATION\n"
	"              a temporary rule: removed after DURATION (30s, 10m, 2h, 1d),\n"
	"              kept until then through reloads and restarts; not persisted\n"
	"  --force     even if it would cut your own SSH session (SSH_CONNECTION)\n"
	"  --dry-run   check the change (rule, files, lock-out guard) and say what\n"
	"              it would do, with --json the rules file's text after it;\n"
	"              change nothing\n"
	"  --json      print the daemon's answer as JSON\n";

/* Whether a rule line is of the grammar: ufw's and firewall-cmd's idioms
 * are hinted at only when it is not (portctl has "proto gre" and
 * "from ADDR port 53" of its own). */
static bool rule_text_parses(const char *text)
{
	struct pc_config *cfg = pc_config_new();
	size_t len = strlen(text);
	char *line = malloc(len + 2);
	struct pc_diags d;
	bool ok;

	if (!cfg || !line) {
		free(line);
		pc_config_free(cfg);
		return true; /* no hint; the daemon says what is wrong */
	}
	memcpy(line, text, len);
	memcpy(line + len, "\n", 2);
	pc_diags_init(&d);
	ok = pc_parse_buffer(cfg, "<command line>", line, len + 1, PC_ORIGIN_CLI, &d) == 0;
	pc_diags_free(&d);
	pc_config_free(cfg);
	return ok;
}

static int cmd_action(struct cli_context *ctx, int argc, char *argv[], const char *action)
{
	_cleanup_free_ char *usage = NULL, *text = NULL;
	struct rule_opts o = {0};
	json_t *args;
	int code;

	if (asprintf(&usage, rule_usage_fmt, action) < 0)
		return CLI_EXIT_FAILURE;
	if (rule_opts_parse(ctx, argc, argv, usage, &o, &code) < 0)
		return code;
	if (o.first == argc && !streq(action, "deny"))
		return usage_error(ctx, action, "needs a rule, e.g. 443/tcp");
	text = rule_text(action, argc - o.first, argv + o.first);
	if (!text)
		return CLI_EXIT_FAILURE;
	if (!rule_text_parses(text) && (code = cli_habit_rule(ctx, argc, argv)) >= 0)
		return code;
	args = json_pack("{s:s,s:b,s:b}", "rule", text, "runtime", o.runtime, "dry_run",
			 o.dry_run);
	if (args && o.timeout &&
	    json_object_set_new(args, "timeout", json_integer(o.timeout)) < 0) {
		json_decref(args);
		return CLI_EXIT_FAILURE;
	}
	return cli_guarded_call(ctx, action, args, o.force);
}

int cmd_allow(struct cli_context *ctx, int argc, char *argv[])
{
	return cmd_action(ctx, argc, argv, "allow");
}

int cmd_deny(struct cli_context *ctx, int argc, char *argv[])
{
	return cmd_action(ctx, argc, argv, "deny");
}

int cmd_reject(struct cli_context *ctx, int argc, char *argv[])
{
	return cmd_action(ctx, argc, argv, "reject");
}

int cmd_limit(struct cli_context *ctx, int argc, char *argv[])
{
	return cmd_action(ctx, argc, argv, "limit");
}

int cmd_forward(struct cli_context *ctx, int argc, char *argv[])
{
	return cmd_action(ctx, argc, argv, "forward");
}

int cmd_masquerade(struct cli_context *ctx, int argc, char *argv[])
{
	return cmd_action(ctx, argc, argv, "masquerade");
}

static const char define_usage_fmt[] =
	"%s [--dry-run] [--force] [--json] NAME WORDS...\n\n"
	"Define a %s exactly as a rules file line does (see portctl.rules(5)),\n"
	"apply it now and persist it to rules.d/90-portctl.rules, e.g.\n"
	"%s. A shipped one of that name is replaced, portctl's own\n"
	"earlier definition is updated in place; one defined in your own files\n"
	"is edited there. 'portctl delete %s NAME' removes portctl's.\n";

/* "zone NAME ..." / "service NAME PORTS": the file's line after portctl. */
static int cmd_define(struct cli_context *ctx, int argc, char *argv[], const char *keyword,
		      const char *example)
{
	_cleanup_free_ char *usage = NULL, *text = NULL;
	struct rule_opts o = {0};
	int code;

	if (asprintf(&usage, define_usage_fmt, keyword, keyword, example, keyword) < 0)
		return CLI_EXIT_FAILURE;
	if (rule_opts_parse(ctx, argc, argv, usage, &o, &code) < 0)
		return code;
	if (o.runtime || o.timeout)
		return usage_error(ctx, keyword, "takes no --runtime or --timeout: it is persisted");
	if (argc - o.first < 2)
		return usage_error(ctx, keyword, "needs a name and its definition");
	text = rule_text(keyword, argc - o.first, argv + o.first);
	if (!text)
		return CLI_EXIT_FAILURE;
	return cli_guarded_call(ctx, keyword,
				json_pack("{s:s,s:b}", "rule", text, "dry_run", o.dry_run), o.force);
}

int cmd_zone(struct cli_context *ctx, int argc, char *argv[])
{
	return cmd_define(ctx, argc, argv, "zone",
			  "'portctl zone lab interface eth1 policy in accept'");
}

int cmd_service(struct cli_context *ctx, int argc, char *argv[])
{
	return cmd_define(ctx, argc, argv, "service", "'portctl service myapp 8080/tcp'");
}

/* A rule number as typed: digits only, 1 or more (the grammar's numbers). */
static bool number_parse(const char *s, long *out)
{
	uint32_t v;

	if (pc_number_parse(s, 10000000, &v) < 0 || v < 1)
		return false;
	*out = (long)v;
	return true;
}

int cmd_insert(struct cli_context *ctx, int argc, char *argv[])
{
	_cleanup_free_ char *text = NULL;
	struct rule_opts o = {0};
	json_t *args;
	long n;
	int code;

	if (rule_opts_parse(ctx, argc, argv,
			    "insert [--dry-run] [--json] N ACTION RULE...\n\n"
			    "Add a rule at position N (see 'portctl status numbered') and persist\n"
			    "it. N must fall among the rules portctl manages\n"
			    "(rules.d/90-portctl.rules) or right after them.\n",
			    &o, &code) < 0)
		return code;
	if (o.timeout)
		return usage_error(ctx, "insert", "takes no --timeout: use 'allow ... --timeout'");
	if (argc - o.first < 3 || !number_parse(argv[o.first], &n))
		return usage_error(ctx, "insert", "needs a position and a rule, e.g. 1 allow 22/tcp");
	text = pc_rule_text_from_argv(argc - o.first - 1, argv + o.first + 1);
	if (!text)
		return CLI_EXIT_FAILURE;
	args = json_pack("{s:s,s:I,s:b,s:b}", "rule", text, "position", (json_int_t)n, "runtime",
			 o.runtime, "dry_run", o.dry_run);
	return cli_guarded_call(ctx, "insert", args, o.force);
}

/* "comment" followed by the words of the comment, joined by spaces. */
static char *words_join(int argc, char *argv[])
{
	struct pc_strbuf sb = {0};

	for (int i = 0; i < argc; i++)
		if (pc_strbuf_printf(&sb, "%s%s", i ? " " : "", argv[i]) < 0) {
			pc_strbuf_free(&sb);
			return NULL;
		}
	return sb.buf;
}

static json_t *delete_args(int argc, char *argv[])
{
	_cleanup_free_ char *text = NULL;
	long n;

	if (argc == 1 && number_parse(argv[0], &n))
		return json_pack("{s:I}", "number", (json_int_t)n);
	if (argc == 2 && (streq(argv[0], "zone") || streq(argv[0], "service")))
		return json_pack("{s:s}", argv[0], argv[1]);
	if (argc >= 2 && streq(argv[0], "comment")) {
		text = words_join(argc - 1, argv + 1);
		return text ? json_pack("{s:s}", "comment", text) : NULL;
	}
	text = pc_rule_text_from_argv(argc, argv);
	return text ? json_pack("{s:s}", "rule", text) : NULL;
}

int cmd_delete(struct cli_context *ctx, int argc, char *argv[])
{
	struct rule_opts o = {0};
	json_t *args;
	int code;

	if (rule_opts_parse(ctx, argc, argv,
			    "delete [--dry-run] [--json] N | ACTION RULE... | comment TEXT |\n"
			    "       zone NAME | service NAME\n\n"
			    "Remove a rule portctl manages, by its number (see 'portctl status\n"
			    "numbered'), by its text ('delete allow 443/tcp'), or every rule with\n"
			    "a comment ('delete comment web'). By text, the rule that means the\n"
			    "same is found: 'delete allow in 443/tcp zone public' removes\n"
			    "'allow 443/tcp'. Rules from other files are edited in those files.\n"
			    "'delete zone NAME' and 'delete service NAME' remove one that\n"
			    "'portctl zone' or 'portctl service' defined.\n"
			    "--dry-run says what would be deleted and changes nothing.\n",
			    &o, &code) < 0)
		return code;
	if (o.timeout)
		return usage_error(ctx, "delete", "takes no --timeout");
	if (o.first == argc)
		return usage_error(ctx, "delete", "needs a rule number, a rule or 'comment TEXT'");
	args = delete_args(argc - o.first, argv + o.first);
	if (args && o.dry_run)
		json_object_set_new(args, "dry_run", json_true());
	return cli_guarded_call(ctx, "delete", args, o.force);
}
