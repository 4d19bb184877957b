/* portctl disable, enable and reset: our table out of the kernel and back
 * (portctld does both, and remembers across restarts), and the way back to
 * the shipped defaults with the old files kept beside them. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "cli.h"
#include "portctl/proto.h"

/* --help, --json, --force; no operand. */
static int opts_parse(struct cli_context *ctx, int argc, char *argv[], const char *usage,
		      bool *force, int *exit_code)
{
	static const struct option options[] = {
	    {"help", no_argument, NULL, 'h'},
	    {"json", no_argument, NULL, 'j'},
	    {"force", no_argument, NULL, 'f'},
	    {0},
	};
	int c;

	optind = 0;
	while ((c = getopt_long(argc, argv, "hjf", options, NULL)) != -1) {
		if (c == 'f' && force) {
			*force = true;
			continue;
		}
		if (cli_option_common(ctx, c, argv[0], usage, exit_code) < 0)
			return -1;
	}
	if (optind != argc) {
		fprintf(stderr, "%s: %s takes no arguments\nRun '%s %s --help' for usage.\n",
			ctx->prog, argv[0], ctx->prog, argv[0]);
		*exit_code = CLI_EXIT_USAGE;
		return -1;
	}
	return 0;
}

int cmd_disable(struct cli_context *ctx, int argc, char *argv[])
{
	int code;

	if (opts_parse(ctx, argc, argv,
		       "disable [--json]\n\n"
		       "Take table inet portctl out of the kernel: portctl filters nothing\n"
		       "until 'portctl enable'. Rules and bans are kept (and may still be\n"
		       "changed); portctld stays disabled across restarts.\n",
		       NULL, &code) < 0)
		return code;
	return cli_daemon_simple(ctx, "disable", NULL);
}

int cmd_enable(struct cli_context *ctx, int argc, char *argv[])
{
	bool force = false;
	int code;

	if (opts_parse(ctx, argc, argv,
		       "enable [--force] [--json]\n\n"
		       "Put the rules and bans back after 'portctl disable', in one\n"
		       "transaction. Rules that would cut your own SSH session are refused\n"
		       "unless --force is given.\n",
		       &force, &code) < 0)
		return code;
	return cli_guarded_call(ctx, "enable", json_object(), force);
}

/* The files reset moves aside: rules.d's rules and the /etc copies of the
 * shipped files, which replace those. */
struct move {
	char *from, *to;
};

struct moved {
	struct move *items;
	size_t n, cap;
};

static void moved_free(struct moved *m)
{
	for (size_t i = 0; i < m->n; i++) {
		free(m->items[i].from);
		free(m->items[i].to);
	}
	free(m->items);
}

static int move_aside(struct moved *m, const char *path, const char *stamp)
{
	_cleanup_free_ char *from = strdup(path), *to = NULL;
	struct move *slot;

	if (!from || asprintf(&to, "%s.bak-%s", path, stamp) < 0)
		return -ENOMEM;
	if (rename(from, to) < 0)
		return errno == ENOENT ? 0 : -errno;
	slot = PC_ARRAY_PUSH(m->items, m->n, m->cap);
	if (!slot) {
		(void)rename(to, path);
		return -ENOMEM;
	}
	*slot = (struct move){TAKE_PTR(from), TAKE_PTR(to)};
	return 0;
}

static void moved_back(const struct moved *m)
{
	for (size_t i = m->n; i-- > 0;)
		if (rename(m->items[i].to, m->items[i].from) < 0)
			fprintf(stderr, "portctl: cannot move %s back to %s: %s\n", m->items[i].to,
				m->items[i].from, strerror(errno));
}

static int rules_d_move(struct moved *m, const char *sysconf, const char *stamp,
			const char **failed)
{
	_cleanup_free_ char *dir = NULL;
	struct dirent *de;
	DIR *dp;
	int r = 0;

	if (asprintf(&dir, "%s/rules.d", sysconf) < 0)
		return -ENOMEM;
	dp = opendir(dir);
	if (!dp)
		return errno == ENOENT ? 0 : -errno;
	while (r >= 0 && (de = readdir(dp))) {
		size_t n = strlen(de->d_name);
		_cleanup_free_ char *path = NULL;

		/* As the loader reads them: visible *.rules files. */
		if (de->d_name[0] == '.' || n <= 6 || !streq(de->d_name + n - 6, ".rules"))
			continue;
		if (asprintf(&path, "%s/%s", dir, de->d_name) < 0)
			r = -ENOMEM;
		else if ((r = move_aside(m, path, stamp)) < 0)
			*failed = strdup(path);
	}
	closedir(dp);
	return r;
}

static int files_move(struct moved *m, const char *sysconf, const char *stamp, char **failed)
{
	static const char *const shipped[] = {"zones.rules", "services.rules", PC_DEFAULTS_FILE};
	const char *f = NULL;
	int r = rules_d_move(m, sysconf, stamp, &f);

	for (size_t i = 0; r >= 0 && i < ARRAY_SIZE(shipped); i++) {
		_cleanup_free_ char *path = NULL;

		if (asprintf(&path, "%s/%s", sysconf, shipped[i]) < 0)
			return -ENOMEM;
		r = move_aside(m, path, stamp);
		if (r < 0)
			f = strdup(path);
	}
	*failed = (char *)f;
	return r;
}

static int reset_report(struct cli_context *ctx, const struct moved *m, const char *stamp)
{
	json_t *saved = json_array(), *j;
	int code = CLI_EXIT_OK;

	for (size_t i = 0; saved && i < m->n; i++)
		json_array_append_new(saved, json_pack("{s:s,s:s}", "file", m->items[i].from,
						       "saved_as", m->items[i].to));
	if (ctx->json) {
		j = json_pack("{s:o}", "saved", saved);
		code = j ? cli_json_envelope(CLI_EXIT_OK, "reset to the shipped defaults", j)
			 : CLI_EXIT_FAILURE;
		json_decref(j);
		return code;
	}
	json_decref(saved);
	printf("reset to the shipped defaults: the rules in force are now the shipped ones\n");
	if (m->n == 0)
		printf("no file needed saving (rules added with --runtime are gone)\n");
	else
		printf("the old files were saved (as *.bak-%s; rename one back and run "
		       "'portctl reload' to use it again):\n",
		       stamp);
	for (size_t i = 0; i < m->n; i++)
		printf("  %s -> %s\n", m->items[i].from, m->items[i].to);
	return code;
}

int cmd_reset(struct cli_context *ctx, int argc, char *argv[])
{
	_cleanup_free_ char *failed = NULL;
	struct moved m = {0};
	struct pc_response resp;
	char stamp[32];
	time_t now = time(NULL);
	bool force = false;
	json_t *args;
	int code, r;

	if (opts_parse(ctx, argc, argv,
		       "reset [--force] [--json]\n\n"
		       "Go back to the shipped defaults: every rules.d/*.rules file and the\n"
		       "copies of the shipped files in the configuration directory\n"
		       "(zones.rules, services.rules, defaults.rules) are renamed to\n"
		       "NAME.bak-TIMESTAMP, and portctld reloads, dropping runtime rules.\n"
		       "portctl.conf and the bans are kept. A result that would cut your own\n"
		       "SSH session is refused unless --force is given, and then the files\n"
		       "are put back. Needs root (it renames files in the configuration\n"
		       "directory).\n",
		       &force, &code) < 0)
		return code;
	strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", localtime(&now));
	r = files_move(&m, ctx->paths.sysconf_dir, stamp, &failed);
	if (r < 0) {
		moved_back(&m);
		moved_free(&m);
		return cli_error(ctx, r == -EACCES || r == -EPERM ? CLI_EXIT_PERMISSION
								  : CLI_EXIT_FAILURE,
				 NULL, "cannot move %s aside: %s; nothing changed",
				 failed ? failed : "a file", strerror(-r));
	}
	args = json_object();
	if (!args || cli_guard_args(args, force) < 0) {
		json_decref(args);
		moved_back(&m);
		moved_free(&m);
		return CLI_EXIT_FAILURE;
	}
	code = cli_daemon_call(ctx, "reload", args, &resp);
	json_decref(args);
	if (code == CLI_EXIT_OK && resp.status != PC_STATUS_OK) {
		moved_back(&m);
		code = cli_response_finish(ctx, &resp);
		if (!ctx->json)
			fprintf(stderr, "%s: reset refused: the files are back in place\n",
				ctx->prog);
	} else if (code != CLI_EXIT_OK) {
		moved_back(&m);
		fprintf(stderr, "%s: reset not done: the files are back in place\n", ctx->prog);
	} else {
		bool disabled = strstr(resp.message, "portctl is disabled") != NULL;

		pc_response_done(&resp);
		code = reset_report(ctx, &m, stamp);
		if (disabled && !ctx->json)
			printf("portctl stays disabled: 'portctl enable' puts the defaults in force\n");
	}
	moved_free(&m);
	return code;
}
