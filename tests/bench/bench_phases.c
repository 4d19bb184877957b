/* Benchmark driver: where one full apply spends its time, phase by phase
 * (load and validate, plan, lower, kernel transaction, state save), as
 * medians over several runs in one process. Usage:
 * bench_phases CONFIG_DIR DATA_DIR STATE_DIR RUNS (root, in a namespace). */
#include "config.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "portctl/apply.h"
#include "portctl/plan.h"

enum phase { PH_LOAD, PH_PLAN, PH_LOWER, PH_KERNEL, PH_STATE, PH_FREE, PH_N };

static const char *const phase_names[PH_N] = { "load+validate", "plan",  "lower",
					       "kernel",	"state", "free" };

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static int run_once(const struct pc_paths *paths, struct pc_nl *nl, double t[PH_N])
{
	struct pc_config *cfg = NULL;
	struct pc_plan *plan = NULL;
	struct pc_ruleset *rs = NULL;
	struct pc_diags d;
	double t0 = now_ms();
	int r;

	pc_diags_init(&d);
	r = pc_config_load(paths, &cfg, &d);
	t[PH_LOAD] = now_ms() - t0;
	if (r >= 0)
		r = pc_plan_build(cfg, &plan, &d);
	t[PH_PLAN] = now_ms() - t0 - t[PH_LOAD];
	t0 = now_ms();
	if (r >= 0)
		r = pc_ruleset_lower(plan, &rs, &d);
	t[PH_LOWER] = now_ms() - t0;
	t0 = now_ms();
	/* No previous ruleset: the full replacement, as --apply-once does. */
	if (r >= 0)
		r = pc_nl_apply(nl, rs, NULL, 0, &d);
	t[PH_KERNEL] = now_ms() - t0;
	t0 = now_ms();
	if (r >= 0)
		r = pc_state_save(paths, cfg);
	if (r >= 0)
		r = pc_state_flush();
	t[PH_STATE] = now_ms() - t0;
	t0 = now_ms();
	if (r < 0)
		pc_diags_print(stderr, &d, cfg ? &cfg->sources : NULL);
	pc_ruleset_free(rs);
	pc_plan_free(plan);
	pc_config_free(cfg);
	pc_diags_free(&d);
	t[PH_FREE] = now_ms() - t0;
	return r;
}

int main(int argc, char *argv[])
{
	struct pc_paths paths = { 0 };
	struct pc_nl *nl = NULL;
	double t[64][PH_N];
	int runs, r;

	if (argc != 5) {
		fprintf(stderr, "usage: bench_phases CONFIG_DIR DATA_DIR STATE_DIR RUNS\n");
		return 2;
	}
	paths.sysconf_dir = argv[1];
	paths.data_dir = argv[2];
	paths.state_dir = argv[3];
	runs = atoi(argv[4]);
	if (runs < 1 || runs > 64)
		runs = 5;
	r = pc_nl_open(&nl);
	for (int i = 0; r >= 0 && i < runs; i++)
		r = run_once(&paths, nl, t[i]);
	if (r < 0) {
		fprintf(stderr, "bench_phases: %s\n", strerror(-r));
	} else {
		for (int p = 0; p < PH_N; p++) {
			double v[64];

			for (int i = 0; i < runs; i++)
				v[i] = t[i][p];
			qsort(v, (size_t)runs, sizeof(v[0]), cmp_double);
			printf("%s %.2f ms%s", phase_names[p], v[runs / 2], p + 1 < PH_N ? ", " : "\n");
		}
	}
	pc_nl_close(nl);
	return r < 0;
}
