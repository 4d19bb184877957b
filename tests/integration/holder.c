/* Test helper: apply a configuration and keep the netlink socket open, so
 * the table stays owned, until SIGTERM or SIGINT. Prints "ready" first. */
#include "config.h"
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "portctl/apply.h"

int main(int argc, char *argv[])
{
	struct pc_paths paths = { 0 };
	struct pc_applied *a = NULL;
	struct pc_nl *nl = NULL;
	struct pc_diags d;
	sigset_t set;
	int r, sig;

	if (argc != 4) {
		fprintf(stderr, "usage: holder CONFIG_DIR DATA_DIR STATE_DIR\n");
		return 2;
	}
	paths.sysconf_dir = argv[1];
	paths.data_dir = argv[2];
	paths.state_dir = argv[3];
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);
	pc_diags_init(&d);
	r = pc_nl_open(&nl);
	if (r >= 0)
		r = pc_apply_config(&paths, nl, NULL, &a, &d);
	pc_diags_print(stderr, &d, a && a->cfg ? &a->cfg->sources : NULL);
	if (r < 0) {
		fprintf(stderr, "holder: %s\n", strerror(-r));
	} else {
		printf("ready %s\n", pc_nl_last_stats(nl)->owned ? "owned" : "unowned");
		fflush(stdout);
		sigwait(&set, &sig);
	}
	pc_applied_free(a);
	pc_diags_free(&d);
	pc_nl_close(nl);
	return r < 0;
}
