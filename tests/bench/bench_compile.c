/* Benchmark of the compiler: 1k, 10k and 100k one-port allow rules parsed,
 * planned and lowered; prints the median time and the object counts. Then
 * the in-memory side of one ban and one unban among 1k, 10k and 100k
 * bans in five zones (pc_ban_*: what portctld does besides the kernel),
 * and of remaking the maps the unban left stale (once per burst). */
#include "config.h"

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

#define BAN_ZONES "public,internal,dmz,trusted,block"

static int bans_text(size_t n, struct pc_strbuf *sb)
{
	int r = pc_strbuf_printf(sb, "zone public interface eth0 default\nzone internal\n"
				     "zone dmz\nzone trusted\nzone block\n");

	for (size_t i = 1; r >= 0 && i <= n; i++)
		r = pc_strbuf_printf(sb, "deny from 10.%zu.%zu.%zu zone " BAN_ZONES "\n",
				     i >> 16 & 0xff, i >> 8 & 0xff, i & 0xff);
	return r >= 0 ? pc_strbuf_printf(sb, "allow 22/tcp\n") : r;
}

/* One ban parsed at the end, prepared and committed in place before the
 * allow rule, then taken out again; medians of the two. */
static int bench_bans(size_t n)
{
	double t_ban[RUNS], t_unban[RUNS], t_refresh[RUNS];
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
	if (!cfg || pc_plan_build(cfg, &plan, &d) < 0 || pc_ruleset_lower(plan, &rs, &d) < 0)
		goto out;
	for (int i = 0; i < RUNS; i++) {
		char *text = strdup("deny from 192.0.2.1 zone " BAN_ZONES "\n");
		struct pc_rule_append app;
		size_t last = cfg->n_rules;
		struct pc_rule moved;
		double t0 = now_ms();

		/* As portctld: parse at the end (room was made by the allocator's
		 * doubling), then move the ban before the allow rule. */
		if (!text || cfg->n_rules == cfg->cap_rules ||
		    pc_parse_buffer(cfg, "ban", text, strlen(text), PC_ORIGIN_CLI, &d) < 0 ||
		    pc_config_validate_rule(cfg, last, &d) < 0 ||
		    pc_ban_add_prepare(plan, rs, &cfg->rules[last], &cfg->rules[n], &app) < 0)
			goto out;
		moved = cfg->rules[last];
		memmove(&cfg->rules[n + 1], &cfg->rules[n], (last - n) * sizeof(moved));
		cfg->rules[n] = moved;
		pc_plan_rules_shift(plan, rs, &cfg->rules[n], &cfg->rules[last], 1);
		if (pc_ban_add_commit(plan, rs, &cfg->rules[n], &app) < 0)
			goto out;
		pc_rule_append_free(&app);
		t_ban[i] = now_ms() - t0;

		t0 = now_ms();
		if (pc_ban_remove_prepare(plan, rs, &cfg->rules[n], &app) < 0)
			goto out;
		pc_ban_remove_commit(plan, rs, &cfg->rules[n], &app);
		pc_rule_append_free(&app);
		memmove(&cfg->rules[n], &cfg->rules[n + 1], (cfg->n_rules - n - 1) * sizeof(moved));
		cfg->n_rules--;
		pc_plan_rules_shift(plan, rs, &cfg->rules[n + 1], &cfg->rules[cfg->n_rules + 1], -1);
		t_unban[i] = now_ms() - t0;

		/* What portctld does once a burst of unbans is over. */
		t0 = now_ms();
		if (pc_ruleset_refresh(plan, rs) < 0)
			goto out;
		t_refresh[i] = now_ms() - t0;
	}
	qsort(t_ban, RUNS, sizeof(t_ban[0]), double_cmp);
	qsort(t_unban, RUNS, sizeof(t_unban[0]), double_cmp);
	qsort(t_refresh, RUNS, sizeof(t_refresh[0]), double_cmp);
	printf("%7zu bans: one ban in place median %7.3f ms, one unban %7.3f ms, "
	       "then the stale maps made again %7.3f ms\n",
	       n, t_ban[RUNS / 2], t_unban[RUNS / 2], t_refresh[RUNS / 2]);
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
