/* Benchmark of the rule language: parse and validate 1k, 10k and 100k
 * generated rules; prints rules per second (median of 5) and peak RSS. */
#include "config.h"

#include <stdio.h>
#include <sys/resource.h>
#include <time.h>

#include "portctl/config.h"

#define RUNS 5

static const char shipped[] = "zone public policy in drop default\n"
			      "zone internal interface eth1 source 192.168.0.0/16\n"
			      "zone trusted interface wg0 policy in accept\n"
			      "service ssh 22/tcp\n"
			      "service https 443/tcp\n"
			      "service dns 53\n";

/* A mix like a real file: plain ports, lists, ranges, services, address
 * blocks, options and comments. */
static int rules_generate(struct pc_strbuf *sb, size_t n)
{
	int r = 0;

	for (size_t i = 0; r >= 0 && i < n; i++) {
		unsigned p = 1 + i % 65000;

		switch (i % 6) {
		case 0:
			r = pc_strbuf_printf(sb, "allow %u/tcp\n", p);
			break;
		case 1:
			r = pc_strbuf_printf(
			    sb, "allow in %u,%u/udp zone internal comment \"rule %zu\"\n", p, p + 1,
			    i);
			break;
		case 2:
			r = pc_strbuf_printf(sb, "deny from 10.%zu.%zu.%zu\n", (i >> 16) & 255,
					     (i >> 8) & 255, i & 255);
			break;
		case 3:
			r = pc_strbuf_printf(
			    sb, "allow %u-%u/tcp from 192.168.0.0/16 zone public,trusted\n", p,
			    p + 10);
			break;
		case 4:
			r = pc_strbuf_printf(sb, "limit ssh rate 10/minute burst 5 log\n");
			break;
		default:
			r = pc_strbuf_printf(sb, "reject out %u \\\n    comment spam\n", p);
		}
	}
	return r;
}

static double seconds_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (t1.tv_sec - t0->tv_sec) + (t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/* One parse + validate of text; returns seconds, or -1 on failure. */
static double run_once(const struct pc_strbuf *text, size_t n, size_t *arena)
{
	struct pc_config *cfg = pc_config_new();
	char *a = strdup(shipped), *b = malloc(text->len + 1);
	struct pc_diags d;
	struct timespec t0;
	double secs = -1;

	pc_diags_init(&d);
	if (!cfg || !a || !b) {
		free(a);
		free(b);
		pc_config_free(cfg);
		return -1;
	}
	memcpy(b, text->buf, text->len + 1);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (pc_parse_buffer(cfg, "shipped", a, strlen(shipped), PC_ORIGIN_SHIPPED, &d) == 0 &&
	    pc_parse_buffer(cfg, "bench.rules", b, text->len, PC_ORIGIN_ADMIN, &d) == 0 &&
	    pc_config_validate(cfg, &d) == 0 && cfg->n_rules == n)
		secs = seconds_since(&t0);
	else
		pc_diags_print(stderr, &d, &cfg->sources);
	*arena = pc_arena_size(cfg->arena);
	pc_config_free(cfg);
	pc_diags_free(&d);
	return secs;
}

static int double_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(void)
{
	static const size_t sizes[] = {1000, 10000, 100000};

	for (size_t s = 0; s < ARRAY_SIZE(sizes); s++) {
		struct pc_strbuf text = {0};
		double t[RUNS];
		size_t arena = 0;
		struct rusage ru;

		if (rules_generate(&text, sizes[s]) < 0)
			return EXIT_FAILURE;
		for (int i = 0; i < RUNS; i++) {
			t[i] = run_once(&text, sizes[s], &arena);
			if (t[i] < 0)
				return EXIT_FAILURE;
		}
		qsort(t, RUNS, sizeof(t[0]), double_cmp);
		getrusage(RUSAGE_SELF, &ru);
		printf("%7zu rules (%5.1f MiB text): median %8.2f ms, %10.0f rules/s, arena %6.1f "
		       "MiB, "
		       "peak RSS %6.1f MiB\n",
		       sizes[s], text.len / 1048576.0, t[RUNS / 2] * 1e3, sizes[s] / t[RUNS / 2],
		       arena / 1048576.0, ru.ru_maxrss / 1024.0);
		pc_strbuf_free(&text);
	}
	return EXIT_SUCCESS;
}
