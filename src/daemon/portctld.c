/* portctld's entry point: options, and the one-shot modes --apply-once
 * (load, apply, exit), --check (compile and print, no kernel) and
 * --remove-table (the package's removal takes our table out). */
#include "config.h"
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "portctl/apply.h"
#include "portctl/daemon.h"
#include "portctl/netlink.h"
#include "portctl/util.h"

#include "lock.h"

/* Exit codes of the one-shot modes. */
enum {
	EXIT_OK = 0,
	EXIT_FAILURE_RUN = 1, /* the kernel refused, or I/O failed */
	EXIT_INVALID = 2,     /* bad usage or an invalid configuration */
};

enum mode { MODE_SERVE, MODE_APPLY_ONCE, MODE_CHECK, MODE_REMOVE_TABLE };

struct options {
	enum mode mode;
	bool foreground;
	struct pc_paths paths;
	const char *user;
};

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: portctld [OPTION]...\n"
		"Keep the nftables table inet portctl in step with the rule files.\n"
		"\n"
		"  -c, --config DIR     configuration directory (default %s)\n"
		"      --data-dir DIR   shipped zones and services (default %s)\n"
		"      --state-dir DIR  state: last configuration that applied (default %s)\n"
		"  -s, --socket PATH    CLI socket (default %s/portctl.sock)\n"
		"  -u, --user NAME      serve as this user with CAP_NET_ADMIN only (default %s;\n"
		"                       root: stay uid 0)\n"
		"  -f, --foreground     stay in the foreground, log to stderr\n"
		"      --apply-once     load and apply the configuration, then exit\n"
		"                       (exit 0 ok, 1 kernel or I/O failure, 2 invalid configuration)\n"
		"      --check          compile and print what would be loaded; touch no kernel\n"
		"                       (exit 0 ok, 2 invalid configuration)\n"
		"      --remove-table   delete table inet portctl if no portctld runs: the machine\n"
		"                       is then unfiltered by portctl (exit 0 deleted or none,\n"
		"                       1 a portctld runs or the kernel refused)\n"
		"  -h, --help           show this help\n"
		"  -V, --version        show the version\n",
		PORTCTL_SYSCONFDIR, PORTCTL_DATADIR, PORTCTL_STATEDIR, PORTCTL_RUNDIR,
		PC_DAEMON_USER);
}

enum { OPT_DATA_DIR = 256, OPT_STATE_DIR, OPT_APPLY_ONCE, OPT_CHECK, OPT_REMOVE_TABLE };

static int options_parse(int argc, char *argv[], struct options *o)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "data-dir", required_argument, NULL, OPT_DATA_DIR },
		{ "state-dir", required_argument, NULL, OPT_STATE_DIR },
		{ "socket", required_argument, NULL, 's' },
		{ "user", required_argument, NULL, 'u' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "apply-once", no_argument, NULL, OPT_APPLY_ONCE },
		{ "check", no_argument, NULL, OPT_CHECK },
		{ "remove-table", no_argument, NULL, OPT_REMOVE_TABLE },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	int c;

	pc_paths_default(&o->paths);
	while ((c = getopt_long(argc, argv, "c:s:u:fhV", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			o->paths.sysconf_dir = optarg;
			break;
		case OPT_DATA_DIR:
			o->paths.data_dir = optarg;
			break;
		case OPT_STATE_DIR:
			o->paths.state_dir = optarg;
			break;
		case 's':
			o->paths.socket_path = optarg;
			break;
		case 'u':
			o->user = optarg;
			break;
		case 'f':
			o->foreground = true;
			break;
		case OPT_APPLY_ONCE:
		case OPT_CHECK:
		case OPT_REMOVE_TABLE:
			if (o->mode != MODE_SERVE) {
				fprintf(stderr, "portctld: --apply-once, --check and --remove-table "
						"exclude each other\n");
				return -EINVAL;
			}
			o->mode = c == OPT_CHECK ? MODE_CHECK
				  : c == OPT_APPLY_ONCE ? MODE_APPLY_ONCE : MODE_REMOVE_TABLE;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("portctld %s\n", PACKAGE_VERSION);
			return 0;
		default:
			fprintf(stderr, "Try 'portctld --help'.\n");
			return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "portctld: unexpected argument '%s'\nTry 'portctld --help'.\n",
			argv[optind]);
		return -EINVAL;
	}
	return 1;
}

static void diags_report(const struct pc_diags *d, const struct pc_applied *a)
{
	pc_diags_print(stderr, d, a && a->cfg ? &a->cfg->sources : NULL);
}

static int run_check(const struct options *o)
{
	struct pc_applied *a = NULL;
	struct pc_diags d;
	int r;

	pc_diags_init(&d);
	r = pc_apply_prepare(&o->paths, &a, &d);
	diags_report(&d, a);
	if (r >= 0)
		pc_ruleset_print_nft(stdout, a->ruleset);
	else if (r != -EINVAL)
		fprintf(stderr, "portctld: loading the configuration failed: %s\n", strerror(-r));
	pc_applied_free(a);
	pc_diags_free(&d);
	return r < 0 ? EXIT_INVALID : EXIT_OK;
}

static int apply_exit_code(int r, const struct pc_applied *a)
{
	if (r >= 0)
		return EXIT_OK;
	return a && a->stage == PC_APPLY_CONFIG && r == -EINVAL ? EXIT_INVALID : EXIT_FAILURE_RUN;
}

/* True, with a message ending in hint, when a portctld serves on our socket. */
static bool daemon_running(const struct options *o, const char *hint)
{
	pid_t holder;

	if (daemon_lock_check(o->paths.socket_path, &holder) != -EBUSY)
		return false;
	if (holder > 0)
		fprintf(stderr, "portctld: portctld is already running (pid %d): ", (int)holder);
	else
		fprintf(stderr, "portctld: portctld is already running: ");
	fprintf(stderr, "%s\n", hint);
	return true;
}

static int run_apply_once(const struct options *o)
{
	struct pc_applied *a = NULL;
	struct pc_nl *nl = NULL;
	struct pc_diags d;
	int r;

	/* A running daemon would take our table for drift and put its own
	 * back (or, owning it, make the kernel refuse us): reload it instead. */
	if (daemon_running(o, "use 'portctl reload'"))
		return EXIT_FAILURE_RUN;
	r = pc_nl_open(&nl);
	if (r < 0) {
		fprintf(stderr, "portctld: cannot open the nftables netlink socket: %s\n",
			strerror(-r));
		return EXIT_FAILURE_RUN;
	}
	pc_diags_init(&d);
	r = pc_apply_config(&o->paths, nl, NULL, &a, &d);
	diags_report(&d, a);
	if (r < 0 && !pc_diags_has_errors(&d))
		fprintf(stderr, "portctld: applying the configuration failed: %s\n", strerror(-r));
	else if (r < 0)
		fprintf(stderr, "portctld: nothing was changed\n");
	r = apply_exit_code(r, a);
	pc_applied_free(a);
	pc_diags_free(&d);
	pc_nl_close(nl);
	return r;
}

/* The package's removal: the daemon is stopped, and the rules it left in
 * the kernel (they outlive it on purpose) go with the package. */
static int run_remove_table(const struct options *o)
{
	struct pc_nl *nl = NULL;
	int r;

	/* It would put the table back, or own it (the kernel refuses then). */
	if (daemon_running(o, "stop it first (systemctl stop portctld.socket portctld.service)"))
		return EXIT_FAILURE_RUN;
	r = pc_nl_open(&nl);
	if (r >= 0)
		r = pc_nl_table_delete(nl);
	pc_nl_close(nl);
	if (r == -EPERM)
		fprintf(stderr, "portctld: table inet %s is owned by a running process; "
				"stop it first\n", PC_TABLE_NAME);
	else if (r < 0)
		fprintf(stderr, "portctld: cannot delete table inet %s: %s\n", PC_TABLE_NAME,
			strerror(-r));
	else if (r > 0)
		printf("portctld: table inet %s deleted: portctl filters nothing now\n",
		       PC_TABLE_NAME);
	else
		printf("portctld: no table inet %s: nothing to delete\n", PC_TABLE_NAME);
	return r < 0 ? EXIT_FAILURE_RUN : EXIT_OK;
}

int main(int argc, char *argv[])
{
	struct options o = { .mode = MODE_SERVE };
	int r = options_parse(argc, argv, &o);

	if (r <= 0)
		return r < 0 ? EXIT_INVALID : EXIT_OK;
	switch (o.mode) {
	case MODE_CHECK:
		return run_check(&o);
	case MODE_APPLY_ONCE:
		return run_apply_once(&o);
	case MODE_REMOVE_TABLE:
		return run_remove_table(&o);
	case MODE_SERVE:
		break;
	}
	return pc_daemon_run(&(struct pc_daemon_args){
			       .paths = o.paths, .log_level = -1, .user = o.user}) < 0
		       ? EXIT_FAILURE_RUN
		       : EXIT_OK;
}
