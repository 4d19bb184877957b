/* Benchmark of the compiler: 1k, 10k and 100k one-port allow rules parsed,
 * planned and lowered; prints the median time and the object counts. Then
 * the in-memory side of one ban and one unban among 1k, 10k and 100k
 * bans (pc_ruleset_bans_update: what portctld does besides the kernel),
 * and of remaking the maps the unban left stale (once per burst). */
#include "config.h"

#include <sys/socket.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "portctl/compile.h"
#include "portctl/config.h"
#include "portctl/plan.h"

#define RUNS 5

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int rules_text(size_t n, struct pc_strbuf *sb)
{
	int r = pc_strbuf_printf(sb, "zone public interface eth0 default\n");

	for (size_t i = 1; r >= 0 && i <= n; i++)
		r = pc_strbuf_printf(sb, "allow %zu/%s\n", i <= 65535 ? i : i - 65535,
				     i <= 65535 ? "tcp" : "udp");
	return r;
}

static struct pc_config *config_load_text(const struct pc_strbuf *sb, struct pc_diags *d)
{
	struct pc_config *cfg = pc_config_new();
	char *data = strndup(sb->buf, sb->len);

	if (!cfg || !data || pc_parse_buffer(cfg, "bench.rules", data, sb->len, PC_ORIGIN_ADMIN, d) < 0 ||
	    pc_config_validate(cfg, d) < 0) {
		pc_config_free(cfg);
		return NULL;
	}
	return cfg;
}

static int double_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Median compile time (plan + lower) of n rules; the parse is not timed. */
static int bench_one(size_t n)
{
	struct pc_strbuf sb = { 0 };
	struct pc_diags d;
	struct pc_config *cfg;
	double t[RUNS];
	struct pc_ruleset *rs = NULL;

	pc_diags_init(&d);
	if (rules_text(n, &sb) < 0)
		return -ENOMEM;
	cfg = config_load_text(&sb, &d);
	pc_strbuf_free(&sb);
	if (!cfg) {
		pc_diags_free(&d);
		return -EINVAL;
	}
	for (int i = 0; i < RUNS; i++) {
		double t0 = now_ms();

		pc_ruleset_free(rs);
		rs = NULL;
		if (pc_compile(cfg, &rs, &d) < 0)
			break;
		t[i] = now_ms() - t0;
	}
	if (rs) {
		qsort(t, RUNS, sizeof(t[0]), double_cmp);
		printf("%7zu rules: median %8.2f ms  chains %zu sets %zu rules %zu elements %zu\n", n,
		       t[RUNS / 2], rs->n_chains, rs->n_sets, rs->n_rules, rs->n_elems);
	}
	pc_ruleset_free(rs);
	pc_config_free(cfg);
	pc_diags_free(&d);
	return 0;
}


static int bans_text(size_t n, struct pc_strbuf *sb)
{
	int r = pc_strbuf_printf(sb, "zone public interface eth0 default\nzone internal\n"
				     "zone dmz\nzone trusted\nzone block\n");

	(void)n;
	return r >= 0 ? pc_strbuf_printf(sb, "allow 22/tcp\n") : r;
}

static int ban_add(struct pc_config *cfg, size_t i)
{
	struct pc_prefix p = { .family = AF_INET, .len = 32,
			       .addr = { 10, (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i } };

	return pc_config_ban_add(cfg, &p, NULL, 0);
}

/* n bans in the configuration; then one more and one fewer, each the ban
 * sets made again (pc_ruleset_bans_update, what portctld does besides the
 * kernel); medians of the two. */
static int bench_bans(size_t n)
{
	double t_ban[RUNS], t_unban[RUNS];
	struct pc_strbuf sb = { 0 };
	struct pc_ruleset *rs = NULL;
	struct pc_plan *plan = NULL;
	struct pc_config *cfg;
	struct pc_diags d;
	int r = -ENOMEM;

	pc_diags_init(&d);
	if (bans_text(n, &sb) < 0)
		return -ENOMEM;
	cfg = config_load_text(&sb, &d);
	pc_strbuf_free(&sb);
	for (size_t i = 1; cfg && i <= n; i++)
		if (ban_add(cfg, i) < 0)
			goto out;
	if (!cfg || pc_plan_build(cfg, &plan, &d) < 0 || pc_ruleset_lower(plan, &rs, &d) < 0)
		goto out;
	for (int i = 0; i < RUNS; i++) {
		double t0 = now_ms();

		if (ban_add(cfg, n + 1) < 0 || pc_config_validate_ban(cfg, cfg->n_bans - 1, &d) < 0 ||
		    pc_ruleset_bans_update(rs, cfg) < 0)
			goto out;
		t_ban[i] = now_ms() - t0;
		t0 = now_ms();
		cfg->n_bans--;
		if (pc_ruleset_bans_update(rs, cfg) < 0)
			goto out;
		t_unban[i] = now_ms() - t0;
	}
	qsort(t_ban, RUNS, sizeof(t_ban[0]), double_cmp);
	qsort(t_unban, RUNS, sizeof(t_unban[0]), double_cmp);
	printf("%7zu bans: the ban sets made again for one ban more %7.3f ms, one fewer %7.3f ms\n",
	       n, t_ban[RUNS / 2], t_unban[RUNS / 2]);
	r = 0;
out:
	if (r < 0)
		pc_diags_print(stderr, &d, cfg ? &cfg->sources : NULL);
	pc_ruleset_free(rs);
	pc_plan_free(plan);
	pc_config_free(cfg);
	pc_diags_free(&d);
	return r;
}

int main(void)
{
	static const size_t sizes[] = { 1000, 10000, 100000 };

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		if (bench_one(sizes[i]) < 0) {
			fprintf(stderr, "bench_compile: %zu rules failed\n", sizes[i]);
			return EXIT_FAILURE;
		}
	}
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		if (bench_bans(sizes[i]) < 0) {
			fprintf(stderr, "bench_compile: %zu bans failed\n", sizes[i]);
			return EXIT_FAILURE;
		}
	}
	return EXIT_SUCCESS;
}
