/* portctl check: validate the configuration, or given rule files, without
 * a daemon or privileges; the pre-deploy validator for fleets. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>

#include "cli.h"

static const char check_usage[] =
    "check [--json] [FILE... | --rules-dir DIR]\n"
    "\n"
    "Validate rule files without applying them. Needs no daemon and no privilege.\n"
    "\n"
    "Without FILE, checks the whole configuration the daemon would load:\n"
    "CONFIG/portctl.conf, the shipped zones.rules and services.rules (from\n"
    "DATA_DIR, each replaced by a file of the same name in CONFIG),\n"
    "CONFIG/rules.d/*.rules in lexical order, then the default rules of\n"
    "defaults.rules (CONFIG's, else DATA_DIR's).\n"
    "\n"
    "With FILE..., checks the same but with exactly the given rule files, in\n"
    "the given order, instead of rules.d/ and defaults.rules. This validates\n"
    "a file before it is deployed, e.g. in an Ansible template or copy task:\n"
    "    validate: portctl check %s\n"
    "\n"
    "With --rules-dir DIR, checks the whole configuration as above but with\n"
    "DIR/*.rules instead of CONFIG/rules.d/*.rules: a candidate directory,\n"
    "validated as a whole (a zone defined in one file and used in another, a\n"
    "service defined in two) before it replaces rules.d/.\n"
    "\n"
    "Every problem is printed as FILE:LINE:COL: error: message, with the line\n"
    "and a caret under the word. On success prints a one-line summary.\n"
    "\n"
    "Options:\n"
    "  -r, --rules-dir DIR  read DIR/*.rules instead of CONFIG/rules.d/\n"
    "  -j, --json           print {\"valid\", \"errors\": [...], \"rules\", ...} instead\n"
    "  -h, --help           show this help\n"
    "\n"
    "Exit status: 0 valid (warnings allowed), 2 invalid, 1 a file (or DIR) could\n"
    "not be read.\n";

/* The options; returns the index of the first FILE, or -1 with *code. */
static int check_options_parse(struct cli_context *ctx, int argc, char *argv[],
			       const char **rules_dir, int *code)
{
	static const struct option options[] = {
	    {"help", no_argument, NULL, 'h'},
	    {"json", no_argument, NULL, 'j'},
	    {"rules-dir", required_argument, NULL, 'r'},
	    {0},
	};
	int c;

	optind = 0;
	while ((c = getopt_long(argc, argv, "+hjr:", options, NULL)) != -1) {
		if (c == 'r') {
			*rules_dir = optarg;
			continue;
		}
		if (cli_option_common(ctx, c, argv[0], check_usage, code) < 0)
			return -1;
	}
	if (*rules_dir && optind < argc) {
		fprintf(stderr, "%s %s: give FILE... or --rules-dir DIR, not both\n", ctx->prog,
			argv[0]);
		*code = CLI_EXIT_USAGE;
		return -1;
	}
	return optind;
}

static json_t *diag_to_json(const struct pc_diag *g)
{
	return json_pack("{s:s?, s:I, s:I, s:s, s:s?, s:s?}", "file", g->loc.file, "line",
			 (json_int_t)g->loc.line, "column", (json_int_t)g->loc.col, "severity",
			 g->severity == PC_SEV_ERROR ? "error" : "warning", "message", g->message,
			 "hint", g->hint);
}

static int check_print_json(const struct pc_config *cfg, const struct pc_diags *d, bool valid)
{
	json_t *errors = json_array(), *root;
	int r;

	if (!errors)
		return -ENOMEM;
	for (size_t i = 0; i < d->n; i++)
		if (json_array_append_new(errors, diag_to_json(&d->items[i])) < 0) {
			json_decref(errors);
			return -ENOMEM;
		}
	root = json_pack("{s:b, s:o, s:I, s:I, s:I, s:I, s:I, s:I}", "valid", valid, "errors",
			 errors, "error_count", (json_int_t)d->n_errors, "warning_count",
			 (json_int_t)d->n_warnings, "not_shown", (json_int_t)d->n_dropped, "rules",
			 (json_int_t)(cfg ? cfg->n_rules : 0), "zones",
			 (json_int_t)(cfg ? cfg->n_zones : 0), "services",
			 (json_int_t)(cfg ? cfg->n_services : 0));
	if (!root)
		return -ENOMEM;
	r = cli_json_print(root);
	json_decref(root);
	return r == CLI_EXIT_OK ? 0 : -EIO;
}

static void check_print_text(const struct pc_config *cfg, const struct pc_diags *d, bool valid)
{
	pc_diags_print(stderr, d, cfg ? &cfg->sources : NULL);
	if (!valid || !cfg) {
		fprintf(stderr, "invalid: %zu error%s, %zu warning%s\n", d->n_errors,
			d->n_errors == 1 ? "" : "s", d->n_warnings, d->n_warnings == 1 ? "" : "s");
		return;
	}
	printf("ok: %zu rule%s, %zu zone%s, %zu service%s", cfg->n_rules,
	       cfg->n_rules == 1 ? "" : "s", cfg->n_zones, cfg->n_zones == 1 ? "" : "s",
	       cfg->n_services, cfg->n_services == 1 ? "" : "s");
	if (d->n_warnings)
		printf(", %zu warning%s", d->n_warnings, d->n_warnings == 1 ? "" : "s");
	putchar('\n');
}

int cmd_check(struct cli_context *ctx, int argc, char *argv[])
{
	struct pc_config *cfg = NULL;
	const char *rules_dir = NULL;
	struct pc_diags d;
	int code, i, r;
	bool valid;

	i = check_options_parse(ctx, argc, argv, &rules_dir, &code);
	if (i < 0)
		return code;
	pc_diags_init(&d);
	if (rules_dir)
		r = pc_config_load_dir(&ctx->paths, rules_dir, &cfg, &d);
	else if (i == argc)
		r = pc_config_load(&ctx->paths, &cfg, &d);
	else
		r = pc_config_load_files(&ctx->paths, argv + i, argc - i, &cfg, &d);
	valid = r == 0 && !pc_diags_has_errors(&d);
	if (r == -ENOMEM) {
		fprintf(stderr, "%s check: out of memory\n", ctx->prog);
		code = CLI_EXIT_FAILURE;
	} else {
		if (ctx->json)
			check_print_json(cfg, &d, valid);
		else
			check_print_text(cfg, &d, valid);
		code = valid			? CLI_EXIT_OK
		       : r == -EINVAL || r == 0 ? CLI_EXIT_USAGE
						: CLI_EXIT_FAILURE;
	}
	pc_config_free(cfg);
	pc_diags_free(&d);
	return code;
}
