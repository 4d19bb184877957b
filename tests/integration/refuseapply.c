/* Test driver for atomic.sh: what portctld --apply-once does, with the
 * transport told to put a rule the kernel refuses in place of the files'
 * last rule (pc_nl_test_refuse_last_rule), so that a refusal by the kernel
 * of a configuration the validator accepted can be seen end to end: exit
 * 1, the error at the rule's FILE:LINE:COL, nothing changed, nothing saved.
 * usage: refuseapply CONFIG_DIR DATA_DIR STATE_DIR */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "portctl/apply.h"
#include "../../src/netlink/internal.h"

int main(int argc, char *argv[])
{
	struct pc_paths paths = {0};
	struct pc_applied *a = NULL;
	struct pc_nl *nl = NULL;
	struct pc_diags d;
	int r;

	if (argc != 4) {
		fprintf(stderr, "usage: refuseapply CONFIG_DIR DATA_DIR STATE_DIR\n");
		return 2;
	}
	paths.sysconf_dir = argv[1];
	paths.data_dir = argv[2];
	paths.state_dir = argv[3];
	pc_diags_init(&d);
	r = pc_nl_open(&nl);
	if (r >= 0) {
		pc_nl_test_refuse_last_rule(nl, true);
		r = pc_apply_config(&paths, nl, NULL, &a, &d);
	}
	pc_diags_print(stderr, &d, a && a->cfg ? &a->cfg->sources : NULL);
	if (r < 0)
		fprintf(stderr, "refuseapply: %s\n", strerror(-r));
	pc_applied_free(a);
	pc_diags_free(&d);
	pc_nl_close(nl);
	return r < 0 ? 1 : 0;
}
