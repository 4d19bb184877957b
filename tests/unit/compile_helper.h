/* Test helpers for the compiler: a configuration from rule text through the
 * real parser and validator, and packets to evaluate against the plan. */
#ifndef PORTCTL_COMPILE_HELPER_H
#define PORTCTL_COMPILE_HELPER_H

#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "portctl/compile.h"
#include "portctl/config.h"
#include "portctl/plan.h"

/* Parse texts[i] as admin rules file names[i], in order, and validate
 * them together. */
/* Parse and validate admin rules files, then (defaults non-NULL) the
 * shipped defaults.rules' text, last, as pc_config_load puts it. */
static inline struct pc_config *config_from_files_defaults(const char *const *names,
							   const char *const *texts, size_t n,
							   const char *defaults)
{
	struct pc_config *cfg = pc_config_new();
	struct pc_diags d;
	int r = 0;

	pc_diags_init(&d);
	ck_assert_ptr_nonnull(cfg);
	for (size_t i = 0; r == 0 && i < n; i++) {
		char *data = strdup(texts[i]);

		ck_assert_ptr_nonnull(data);
		r = pc_parse_buffer(cfg, names[i], data, strlen(data), PC_ORIGIN_ADMIN, &d);
	}
	if (r == 0 && defaults) {
		char *data = strdup(defaults);

		ck_assert_ptr_nonnull(data);
		r = pc_parse_buffer(cfg, "defaults.rules", data, strlen(data), PC_ORIGIN_DEFAULTS,
				    &d);
	}
	if (r == 0)
		r = pc_config_validate(cfg, &d);
	if (r != 0)
		pc_diags_print(stderr, &d, &cfg->sources);
	ck_assert_int_eq(r, 0);
	pc_diags_free(&d);
	return cfg;
}

static inline struct pc_config *config_from_files(const char *const *names,
						  const char *const *texts, size_t n)
{
	return config_from_files_defaults(names, texts, n, NULL);
}

/* Parse and validate text as one admin rules file named "test.rules". */
static inline struct pc_config *config_from_text(const char *text)
{
	const char *name = "test.rules";

	return config_from_files(&name, &text, 1);
}

static inline struct pc_plan *plan_from_config(const struct pc_config *cfg)
{
	struct pc_plan *plan = NULL;
	struct pc_diags d;

	pc_diags_init(&d);
	ck_assert_int_eq(pc_plan_build(cfg, &plan, &d), 0);
	pc_diags_free(&d);
	return plan;
}

static inline struct pc_ruleset *ruleset_from_config(const struct pc_config *cfg)
{
	struct pc_ruleset *rs = NULL;
	struct pc_diags d;

	pc_diags_init(&d);
	ck_assert_int_eq(pc_compile(cfg, &rs, &d), 0);
	pc_diags_free(&d);
	return rs;
}

/* Entries' set names made readable for tests: "_p" and 16 hex digits
 * (and "d1" for a second of the same name) becomes "_P", "_a…" "_A",
 * "_r…" "_R" and "_c…" "_C", in place. */
static inline char *names_unhash(char *s)
{
	char *w = s;

	for (const char *p = s; *p;) {
		size_t n = 2;

		if (p[0] == '_' && (p[1] == 'p' || p[1] == 'a' || p[1] == 'r' || p[1] == 'c')) {
			while (n < 18 && ((p[n] >= '0' && p[n] <= '9') || (p[n] >= 'a' && p[n] <= 'f')))
				n++;
			if (n == 18 && p[n] == 'd' && p[n + 1] >= '0' && p[n + 1] <= '9')
				for (n++; p[n] >= '0' && p[n] <= '9'; n++)
					;
			if (n >= 18 && (p[n] == '_' || p[n] == ' ' || p[n] == '\n' || !p[n])) {
				*w++ = '_';
				*w++ = (char)(p[1] - 'a' + 'A');
				p += n;
				continue;
			}
		}
		*w++ = *p++;
	}
	*w = 0;
	return s;
}

/* The printed ruleset, malloc'ed. */
static inline char *ruleset_text(const struct pc_ruleset *rs)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(pc_ruleset_print(f, rs), 0);
	fclose(f);
	return buf;
}

/* A packet: "in"/"out", "tcp"/"udp"/"sctp"/"icmp", port, source, destination, interface. */
static inline struct pc_packet packet_make(enum pc_dir dir, uint8_t l4proto, uint16_t dport,
					   const char *saddr, const char *daddr, const char *ifname)
{
	struct pc_packet p = { .dir = dir, .l4proto = l4proto, .dport = dport };

	p.family = strchr(saddr, ':') ? AF_INET6 : AF_INET;
	ck_assert_int_eq(inet_pton(p.family, saddr, p.saddr), 1);
	ck_assert_int_eq(inet_pton(p.family, daddr, p.daddr), 1);
	if (dir != PC_DIR_OUT)
		p.iif = ifname;
	else
		p.oif = ifname;
	return p;
}

static inline struct pc_verdict plan_eval_ok(const struct pc_plan *plan, const struct pc_packet *p)
{
	struct pc_verdict v;

	ck_assert_int_eq(pc_plan_eval(plan, p, &v), 0);
	return v;
}

/* The line of the deciding rule, 0 when a policy or the preamble decided. */
static inline unsigned int verdict_line(const struct pc_verdict *v)
{
	return v->by == PC_DECIDED_RULE ? v->rule->loc.line : 0;
}

#endif
