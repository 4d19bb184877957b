/* Benchmark driver: the cost of adding one rule to a loaded configuration
 * (warm daemon path: load, compile, and the difference as one transaction). */
#include "config.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "portctl/apply.h"

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

/* The rule added and removed: a port (elements only) by default, or
 * another one given on the command line (a "deny from": new sets, rules). */
static const char *extra_rule = "allow 1/udp comment \"bench extra\"";

static int extra_rule_write(const char *dir, bool present)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/rules.d/zz-bench-extra.rules", dir);
	if (!present)
		return unlink(path) < 0 && errno != ENOENT ? -errno : 0;
	f = fopen(path, "w");
	if (!f)
		return -errno;
	fprintf(f, "%s\n", extra_rule);
	return fclose(f) ? -errno : 0;
}

/* One apply on top of *prev; replaces *prev with the new configuration. */
static int apply_step(const struct pc_paths *paths, struct pc_nl *nl, struct pc_applied **prev,
		      double *ms)
{
	struct pc_applied *a = NULL;
	struct pc_diags d;
	double t0 = now_ms();
	int r;

	pc_diags_init(&d);
	r = pc_apply_config(paths, nl, *prev, &a, &d);
	*ms = now_ms() - t0;
	if (r < 0) {
		pc_diags_print(stderr, &d, a && a->cfg ? &a->cfg->sources : NULL);
		pc_applied_free(a);
	} else {
		pc_applied_free(*prev);
		*prev = a;
	}
	pc_diags_free(&d);
	return r;
}

int main(int argc, char *argv[])
{
	struct pc_paths paths = { 0 };
	struct pc_applied *prev = NULL;
	struct pc_nl *nl = NULL;
	double ms[64], first;
	int runs, r, incremental = 0;

	if (argc != 5 && argc != 6) {
		fprintf(stderr, "usage: bench_incr CONFIG_DIR DATA_DIR STATE_DIR RUNS [RULE]\n");
		return 2;
	}
	if (argc == 6)
		extra_rule = argv[5];
	paths.sysconf_dir = argv[1];
	paths.data_dir = argv[2];
	paths.state_dir = argv[3];
	runs = atoi(argv[4]);
	if (runs < 1 || runs > 64)
		runs = 5;
	r = pc_nl_open(&nl);
	if (r >= 0)
		r = extra_rule_write(argv[1], false);
	if (r >= 0)
		r = apply_step(&paths, nl, &prev, &first);
	for (int i = 0; r >= 0 && i < runs; i++) {
		r = extra_rule_write(argv[1], i % 2 == 0);
		if (r >= 0)
			r = apply_step(&paths, nl, &prev, &ms[i]);
		incremental += r >= 0 && pc_nl_last_stats(nl)->incremental;
	}
	(void)extra_rule_write(argv[1], false);
	if (r < 0) {
		fprintf(stderr, "bench_incr: %s\n", strerror(-r));
	} else {
		qsort(ms, (size_t)runs, sizeof(ms[0]), cmp_double);
		printf("initial %.2f ms; one-rule change median %.2f ms (%d of %d incremental)\n",
		       first, ms[runs / 2], incremental, runs);
	}
	pc_applied_free(prev);
	pc_nl_close(nl);
	return r < 0;
}
