/* portctl check: validate the configuration, or given rule files, without
 * a daemon or privileges; the pre-deploy validator for fleets. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

static const char check_usage[] =
    "check [--json] [--strict] [FILE... | --rules-dir DIR]\n"
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
    "FILE - reads standard input, named <stdin> in the messages.\n"
    "\n"
    "With --rules-dir DIR, checks the whole configuration as above but with\n"
    "DIR/*.rules instead of CONFIG/rules.d/*.rules: a candidate directory,\n"
    "validated as a whole (a zone defined in one file and used in another, a\n"
    "service defined in two) before it replaces rules.d/.\n"
    "\n"
    "Every problem is printed as FILE:LINE:COL: error: message, with the line\n"
    "and a caret under the word. On success prints a one-line summary.\n"
    "Warnings name rules that can never match (an earlier rule of the same\n"
    "zone and direction decides all of their traffic) and duplicates.\n"
    "\n"
    "Options:\n"
    "  -r, --rules-dir DIR  read DIR/*.rules instead of CONFIG/rules.d/\n"
    "  -j, --json           print {\"status\", \"message\", \"data\": {\"valid\", \"errors\": [...],\n"
    "                       \"rules\", ...}} instead\n"
    "  -s, --strict         treat warnings as errors (exit 2)\n"
    "  -h, --help           show this help\n"
    "\n"
    "Exit status: 0 valid (warnings allowed unless --strict), 2 invalid, 1 a file\n"
    "(or DIR) could not be read.\n";

/* The options; returns the index of the first FILE, or -1 with *code. */
static int check_options_parse(struct cli_context *ctx, int argc, char *argv[],
			       const char **rules_dir, bool *strict, int *code)
{
	static const struct option options[] = {
	    {"help", no_argument, NULL, 'h'},
	    {"json", no_argument, NULL, 'j'},
	    {"rules-dir", required_argument, NULL, 'r'},
	    {"strict", no_argument, NULL, 's'},
	    {0},
	};
	int c;

	optind = 0;
	while ((c = getopt_long(argc, argv, "+hjr:s", options, NULL)) != -1) {
		if (c == 'r') {
			*rules_dir = optarg;
			continue;
		}
		if (c == 's') {
			*strict = true;
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

static int check_print_json(const struct pc_config *cfg, const struct pc_diags *d, bool valid,
			    int code)
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
	r = cli_json_envelope(code, valid ? "valid" : "invalid", root);
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

#define STDIN_NAME "<stdin>"
/* The loader's own limit (64 MiB); a bigger file is left for it to refuse. */
#define TEXT_SCAN_MAX ((size_t)64 * 1024 * 1024)

/* The rule files to load: the operands, with "-" replaced by a private
 * copy of standard input that the loader can open by name. */
struct check_files {
	char **names;
	size_t n;
	int stdin_fd;
	char stdin_path[32];
};

static void check_files_done(struct check_files *f)
{
	free(f->names);
	if (f->stdin_fd >= 0)
		close(f->stdin_fd);
}

/*
 * A binary file (say /bin/ls) would get an error for nearly every line:
 * one error at its first NUL or non-UTF-8 byte says it all. Returns true
 * for text; else adds that error to d.
 */
static bool text_check(const char *name, const char *data, size_t len, struct pc_diags *d)
{
	size_t valid = pc_utf8_valid_len(data, len);
	const char *nul = memchr(data, '\0', len);
	size_t bad = nul && (size_t)(nul - data) < valid ? (size_t)(nul - data) : valid;
	struct pc_loc loc = {.file = name, .line = 1, .col = 1, .len = 1};

	if (bad == len)
		return true;
	for (size_t k = 0; k < bad; k++) {
		loc.col++;
		if (data[k] == '\n')
			loc.line++, loc.col = 1;
	}
	if (data[bad] == '\0')
		pc_diag_add(d, PC_SEV_ERROR, &loc,
			    "rule files are UTF-8 text; is it the file you meant?",
			    "not a text file: NUL byte; refusing to read it");
	else
		pc_diag_add(d, PC_SEV_ERROR, &loc,
			    "rule files are UTF-8 text; convert it, e.g. with: iconv -f latin1 -t utf-8",
			    "not UTF-8 text: byte 0x%02x; refusing to read it",
			    (unsigned char)data[bad]);
	return false;
}

/* Standard input into a memfd the loader reads like any file (mode 0600,
 * for its owner check), added to f's names unless it is not text (then
 * reported in d). Returns 0 or -errno. */
static int stdin_take(struct check_files *f, struct pc_diags *d)
{
	_cleanup_free_ char *data = NULL;
	size_t len = 0, done = 0;
	int r = pc_read_fd(STDIN_FILENO, TEXT_SCAN_MAX, &data, &len);

	if (r < 0)
		return r;
	if (!text_check(STDIN_NAME, data, len, d))
		return 0;
	f->stdin_fd = memfd_create("portctl-check-stdin", MFD_CLOEXEC);
	if (f->stdin_fd < 0 || fchmod(f->stdin_fd, 0600) < 0)
		return -errno;
	while (done < len) {
		ssize_t w = write(f->stdin_fd, data + done, len - done);

		if (w < 0)
			return -errno;
		done += (size_t)w;
	}
	snprintf(f->stdin_path, sizeof(f->stdin_path), "/proc/self/fd/%d", f->stdin_fd);
	f->names[f->n++] = f->stdin_path;
	return 0;
}

/* The operands that are text, with "-" taken from stdin; the others get
 * their one error in d. A file that cannot be read is left to the loader,
 * which says why. Returns 0, or -errno (reading stdin). */
static int check_files_collect(struct check_files *f, char *argv[], int argc, struct pc_diags *d)
{
	bool stdin_seen = false;
	int r;

	f->names = calloc((size_t)argc + 1, sizeof(*f->names));
	if (!f->names)
		return -ENOMEM;
	for (int i = 0; i < argc; i++) {
		_cleanup_free_ char *data = NULL;
		size_t len = 0;

		if (streq(argv[i], "-")) {
			if (stdin_seen)
				return -EEXIST;
			stdin_seen = true;
			r = stdin_take(f, d);
			if (r < 0)
				return r;
			continue;
		}
		if (pc_read_file(argv[i], TEXT_SCAN_MAX, &data, &len) < 0 ||
		    text_check(argv[i], data, len, d))
			f->names[f->n++] = argv[i];
	}
	return 0;
}

/* Every path in s becomes STDIN_NAME, which is shorter. */
static void text_rename(char *s, const char *path)
{
	size_t plen = strlen(path), nlen = strlen(STDIN_NAME);
	char *m;

	while (s && (m = strstr(s, path))) {
		memcpy(m, STDIN_NAME, nlen);
		memmove(m + nlen, m + plen, strlen(m + plen) + 1);
	}
}

/* Give the copy of stdin its name back, wherever the loader wrote its
 * path: the source, the diagnostics, and their messages ("first defined
 * at"). The name is shorter than the path, so it is replaced in place. */
static void stdin_rename(struct check_files *f, struct pc_config *cfg, struct pc_diags *d)
{
	const char *path = f->stdin_path;

	if (f->stdin_fd < 0)
		return;
	for (size_t i = 0; cfg && i < cfg->sources.n; i++)
		if (streq(cfg->sources.items[i].name, path))
			strcpy(cfg->sources.items[i].name, STDIN_NAME);
	for (size_t i = 0; i < d->n; i++) {
		struct pc_diag *g = &d->items[i];

		if (g->loc.file && streq(g->loc.file, path))
			g->loc.file = STDIN_NAME;
		text_rename(g->message, path);
		text_rename(g->hint, path);
	}
}

int cmd_check(struct cli_context *ctx, int argc, char *argv[])
{
	struct check_files f = {.stdin_fd = -1};
	struct pc_config *cfg = NULL;
	const char *rules_dir = NULL;
	bool strict = false;
	struct pc_diags d;
	int code, i, r;
	bool valid;

	i = check_options_parse(ctx, argc, argv, &rules_dir, &strict, &code);
	if (i < 0)
		return code;
	pc_diags_init(&d);
	if (rules_dir) {
		r = pc_config_load_dir(&ctx->paths, rules_dir, &cfg, &d);
	} else if (i == argc) {
		r = pc_config_load(&ctx->paths, &cfg, &d);
	} else {
		r = check_files_collect(&f, argv + i, argc - i, &d);
		if (r == -EEXIST) {
			fprintf(stderr, "%s check: '-' (standard input) may be given once\n",
				ctx->prog);
			check_files_done(&f);
			pc_diags_free(&d);
			return CLI_EXIT_USAGE;
		}
		if (r < 0 && r != -ENOMEM) {
			fprintf(stderr, "%s check: cannot read standard input: %s\n", ctx->prog,
				strerror(-r));
			check_files_done(&f);
			pc_diags_free(&d);
			return CLI_EXIT_FAILURE;
		}
		if (r == 0)
			r = pc_config_load_files(&ctx->paths, f.names, f.n, &cfg, &d);
		stdin_rename(&f, cfg, &d);
	}
	/* A file refused as binary is an invalid configuration, like a bad rule. */
	if (r == 0 && pc_diags_has_errors(&d))
		r = -EINVAL;
	if (r == 0)
		pc_config_lint(cfg, &d);
	valid = r == 0 && !pc_diags_has_errors(&d) && !(strict && d.n_warnings);
	if (r == -ENOMEM) {
		fprintf(stderr, "%s check: out of memory\n", ctx->prog);
		code = CLI_EXIT_FAILURE;
	} else {
		code = valid			? CLI_EXIT_OK
		       : r == -EINVAL || r == 0 ? CLI_EXIT_USAGE
						: CLI_EXIT_FAILURE;
		if (ctx->json)
			check_print_json(cfg, &d, valid, code);
		else
			check_print_text(cfg, &d, valid);
	}
	pc_config_free(cfg);
	pc_diags_free(&d);
	check_files_done(&f);
	return code;
}
