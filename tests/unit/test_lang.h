/* Helpers shared by the rule language's unit tests: parse a text into a
 * fresh configuration and look at the diagnostics it produced. */
#ifndef PORTCTL_TEST_LANG_H
#define PORTCTL_TEST_LANG_H

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "portctl/config.h"

struct lang_fixture {
	struct pc_config *cfg;
	struct pc_diags d;
};

static inline void fixture_setup(struct lang_fixture *f)
{
	f->cfg = pc_config_new();
	ck_assert_ptr_nonnull(f->cfg);
	pc_diags_init(&f->d);
}

static inline void fixture_teardown(struct lang_fixture *f)
{
	pc_config_free(f->cfg);
	pc_diags_free(&f->d);
}

static inline int fixture_parse_origin(struct lang_fixture *f, const char *name, const char *text,
				       size_t len, enum pc_origin origin)
{
	char *data = malloc(len + 1);

	ck_assert_ptr_nonnull(data);
	memcpy(data, text, len);
	data[len] = '\0';
	return pc_parse_buffer(f->cfg, name, data, len, origin, &f->d);
}

static inline int fixture_parse(struct lang_fixture *f, const char *text)
{
	return fixture_parse_origin(f, "t.rules", text, strlen(text), PC_ORIGIN_ADMIN);
}

/* The shipped zones most tests need, as if from the data dir. */
static inline void fixture_shipped(struct lang_fixture *f)
{
	static const char z[] = "zone public policy in drop default\n"
				"zone internal\n"
				"zone trusted policy in accept\n"
				"service ssh 22/tcp\n"
				"service http 80/tcp\n"
				"service https 443/tcp\n"
				"service dns 53\n";

	ck_assert_int_eq(
	    fixture_parse_origin(f, "shipped.rules", z, sizeof(z) - 1, PC_ORIGIN_SHIPPED), 0);
}

/* Diagnostic i is at line:col and its message holds text. */
#define assert_diag(f, i, l, c, text)                                                              \
	do {                                                                                       \
		ck_assert_uint_gt((f)->d.n, (i));                                                  \
		ck_assert_msg((f)->d.items[i].loc.line == (l) && (f)->d.items[i].loc.col == (c),   \
			      "diag %d at %u:%u, want %u:%u: %s", (int)(i),                        \
			      (f)->d.items[i].loc.line, (f)->d.items[i].loc.col, (unsigned)(l),    \
			      (unsigned)(c), (f)->d.items[i].message);                             \
		ck_assert_msg(strstr((f)->d.items[i].message, (text)) != NULL,                     \
			      "diag %d is '%s', want '%s'", (int)(i), (f)->d.items[i].message,     \
			      (text));                                                             \
	} while (0)

#define assert_hint(f, i, text)                                                                    \
	do {                                                                                       \
		ck_assert_ptr_nonnull((f)->d.items[i].hint);                                       \
		ck_assert_str_eq((f)->d.items[i].hint, (text));                                    \
	} while (0)

#endif
