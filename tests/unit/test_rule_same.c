/* Unit tests of rule equality by meaning (src/daemon/rule_same.c), as
 * delete and the duplicate check use it through rule_present: defaults
 * filled in, word and list order, services and ranges; and the rule a
 * delete by comment or by its text takes in place. No kernel, no root. */
#include "config.h"

#include <check.h>
#include <stdlib.h>

#include "../../src/daemon/model.h"

static struct pc_config *cfg;

static void add_text(const char *name, const char *text, enum pc_origin origin)
{
	struct pc_diags d;
	char *data = strdup(text);

	ck_assert_ptr_nonnull(data);
	pc_diags_init(&d);
	ck_assert_int_eq(pc_parse_buffer(cfg, name, data, strlen(text), origin, &d), 0);
	ck_assert(!pc_diags_has_errors(&d));
	pc_diags_free(&d);
}

static void setup(void)
{
	struct pc_diags d;

	cfg = pc_config_new();
	ck_assert_ptr_nonnull(cfg);
	add_text("zones.rules", "zone public policy in drop default\nzone internal\nzone dmz\n",
		 PC_ORIGIN_SHIPPED);
	add_text("services.rules", "service ssh 22/tcp\nservice web 80,443/tcp\n",
		 PC_ORIGIN_SHIPPED);
	add_text("90-portctl.rules",
		 "allow 8443/tcp\n"
		 "allow 80,443/tcp comment \"web\"\n"
		 "allow 53 zone internal,dmz from 10.0.0.0/8,192.0.2.1\n"
		 "allow out 25/tcp\n"
		 "limit 2222/tcp\n"
		 "deny from 198.51.100.0/24 log\n"
		 "allow 6000-6009/udp\n"
		 "allow 2200/tcp log level info prefix ssh\n"
		 "allow out 443/tcp to 203.0.113.0/24,2001:db8::/32\n",
		 PC_ORIGIN_ADMIN);
	add_text("defaults.rules", "allow ssh comment \"default\"\n", PC_ORIGIN_DEFAULTS);
	pc_diags_init(&d);
	ck_assert_int_eq(pc_config_validate(cfg, &d), 0);
	pc_diags_free(&d);
}

static void teardown(void)
{
	pc_config_free(cfg);
}

/* The text of the rule in force that text means, "" for none; the same
 * with the index of signatures the daemon keeps, which must skip no rule
 * that means the same. */
static const char *present(const char *text)
{
	struct rule_index ix = {0};
	const struct pc_rule *r = rule_present(cfg, text, NULL), *with_index;

	ck_assert_int_eq(rule_index_get(&ix, cfg, "/nowhere/90-portctl.rules"), 0);
	with_index = rule_present(cfg, text, &ix);
	rule_index_drop(&ix);
	ck_assert_ptr_eq(with_index, r);
	return r ? r->text : "";
}

/* The count of signatures (struct pc_keycount): each key's count through
 * thousands of keys in and some out, the table grown many times; a key
 * out that was not in is refused. */
START_TEST(test_keycount)
{
	struct pc_keycount kc = { 0 };

	ck_assert_uint_eq(pc_keycount_get(&kc, 7), 0);
	ck_assert_int_eq(pc_keycount_add(&kc, 7, -1), -EINVAL);
	for (uint64_t k = 0; k < 5000; k++)
		for (uint64_t t = 0; t <= k % 3; t++)
			ck_assert_int_eq(pc_keycount_add(&kc, k << 20, 1), 0);
	for (uint64_t k = 0; k < 5000; k += 2)
		ck_assert_int_eq(pc_keycount_add(&kc, k << 20, -1), 0);
	for (uint64_t k = 0; k < 5000; k++)
		ck_assert_uint_eq(pc_keycount_get(&kc, k << 20), k % 3 + 1 - (k % 2 == 0));
	ck_assert_uint_eq(pc_keycount_get(&kc, 1), 0);
	/* A key whose count fell to 0 is none, and goes out no further. */
	ck_assert_int_eq(pc_keycount_add(&kc, 0, -1), -EINVAL);
	ck_assert_int_eq(pc_keycount_add(&kc, 0, 1), 0);
	ck_assert_uint_eq(pc_keycount_get(&kc, 0), 1);
	pc_keycount_free(&kc);
}
END_TEST

/* Keys that differ in a few bits anywhere (the signatures of a block list
 * differ in their top 16 alone) spread over the slots: no run of used
 * slots (the probes a look-up may walk) longer than 64. A hash of some
 * middle bits made runs of thousands. */
START_TEST(test_keycount_spread)
{
	for (unsigned shift = 0; shift <= 48; shift += 8) {
		struct pc_keycount kc = { 0 };
		size_t run = 0, longest = 0;

		for (uint64_t k = 0; k < 10000; k++)
			ck_assert_int_eq(pc_keycount_add(&kc, (k & 0xffff) << shift | 0x2a, 1), 0);
		for (size_t i = 0; i < 2 * kc.n_slots; i++) {
			run = kc.slots[i % kc.n_slots].used ? run + 1 : 0;
			longest = run > longest ? run : longest;
		}
		ck_assert_msg(longest <= 64, "keys shifted by %u: a run of %zu used slots", shift,
			      longest);
		pc_keycount_free(&kc);
	}
}
END_TEST

START_TEST(test_defaults_filled_in)
{
	ck_assert_str_eq(present("allow 8443/tcp"), "allow 8443/tcp");
	ck_assert_str_eq(present("allow in 8443/tcp"), "allow 8443/tcp");
	ck_assert_str_eq(present("allow 8443/tcp zone public"), "allow 8443/tcp");
	ck_assert_str_eq(present("allow in 8443/tcp zone public from any"), "allow 8443/tcp");
	/* Another zone, direction, protocol or action is another rule. */
	ck_assert_str_eq(present("allow 8443/tcp zone internal"), "");
	ck_assert_str_eq(present("allow out 8443/tcp"), "");
	ck_assert_str_eq(present("allow 8443"), "");
	ck_assert_str_eq(present("allow 8443/udp"), "");
	ck_assert_str_eq(present("deny 8443/tcp"), "");
	ck_assert_str_eq(present("allow out 25/tcp zone public"), "allow out 25/tcp");
	/* A limit without a rate has the default one. */
	ck_assert_str_eq(present("limit 2222/tcp rate 6/minute burst 6"), "limit 2222/tcp");
	ck_assert_str_eq(present("limit 2222/tcp rate 7/minute"), "");
}
END_TEST

START_TEST(test_order_and_lists)
{
	const char *r53 = "allow 53 zone internal,dmz from 10.0.0.0/8,192.0.2.1";

	ck_assert_str_eq(present("allow 53 from 192.0.2.1,10.0.0.0/8 zone dmz,internal"), r53);
	ck_assert_str_eq(present("allow 53/tcp,53/udp from 10.0.0.0/8,192.0.2.1 zone dmz,internal"),
			 r53);
	/* Repeats do not count; nor does the order of destinations. */
	ck_assert_str_eq(present("allow 53 zone internal,dmz from 192.0.2.1,10.0.0.0/8,192.0.2.1"),
			 r53);
	ck_assert_str_eq(present("allow out 443/tcp to 2001:db8::/32,203.0.113.0/24"),
			 "allow out 443/tcp to 203.0.113.0/24,2001:db8::/32");
	ck_assert_str_eq(present("allow out 443/tcp to 2001:db8::/32"), "");
	ck_assert_str_eq(present("allow out 443/tcp from 203.0.113.0/24,2001:db8::/32"), "");
	/* A list with one item less or more is another rule. */
	ck_assert_str_eq(present("allow 53 zone internal from 10.0.0.0/8,192.0.2.1"), "");
	ck_assert_str_eq(present("allow 53 zone internal,dmz from 10.0.0.0/8"), "");
	ck_assert_str_eq(present("deny log from 198.51.100.0/24"), "deny from 198.51.100.0/24 log");
	ck_assert_str_eq(present("deny from 198.51.100.0/24"), "");
	/* The log's level and prefix are part of the meaning; warn is the default. */
	ck_assert_str_eq(present("allow 2200/tcp log prefix \"ssh\" level info"),
			 "allow 2200/tcp log level info prefix \"ssh\"");
	ck_assert_str_eq(present("allow 2200/tcp log prefix ssh"), "");
	ck_assert_str_eq(present("allow 2200/tcp log level info"), "");
	ck_assert_str_eq(present("deny from 198.51.100.0/24 log level warn"),
			 "deny from 198.51.100.0/24 log");
}
END_TEST

START_TEST(test_ports_services_comments)
{
	const char *web = "allow 80,443/tcp comment \"web\"";

	ck_assert_str_eq(present("allow 443,80/tcp"), web);
	ck_assert_str_eq(present("allow 80/tcp,443/tcp"), web);
	ck_assert_str_eq(present("allow web"), web);
	ck_assert_str_eq(present("allow web comment web"), web);
	ck_assert_str_eq(present("allow 80,443/tcp comment other"), "");
	ck_assert_str_eq(present("allow 80/tcp"), "");
	/* The shipped default, by its service or its port. */
	ck_assert_str_eq(present("allow ssh"), "allow ssh comment \"default\"");
	ck_assert_str_eq(present("allow 22/tcp"), "allow ssh comment \"default\"");
	/* Ranges written apart are one range. */
	ck_assert_str_eq(present("allow 6000-6004,6005-6009/udp"), "allow 6000-6009/udp");
	ck_assert_str_eq(present("allow 6000-6008/udp"), "");
	/* Unknown services and bad rules are nothing present. */
	ck_assert_str_eq(present("allow nosuch"), "");
	ck_assert_str_eq(present("allow 99999/tcp"), "");
}
END_TEST

/* The rule a delete by comment takes in place: one of the CLI's file alone;
 * else (none, another file's, several) the full path decides. */
static const char *picked(const char *comment)
{
	struct change ch = { .kind = CHANGE_DELETE, .comment = comment };
	size_t idx = SIZE_MAX;

	return delete_pick(cfg, "90-portctl.rules", &ch, NULL, &idx) == 1 ? cfg->rules[idx].text
									    : "";
}

START_TEST(test_delete_by_comment_pick)
{
	ck_assert_str_eq(picked("web"), "allow 80,443/tcp comment \"web\"");
	ck_assert_str_eq(picked("nosuch"), "");
	ck_assert_str_eq(picked("default"), "");
	add_text("90-portctl.rules", "allow 8080/tcp comment web\n", PC_ORIGIN_ADMIN);
	ck_assert_str_eq(picked("web"), "");
}
END_TEST

/* The rule a delete by its text takes in place, with and without the
 * index: the same one. With it, the rules outside the CLI's file and the
 * runtime rules after it are not read; those are never taken: another
 * file's rule alone is the full path's to refuse. */
START_TEST(test_delete_pick_index)
{
	static const struct {
		const char *text, *file; /* file NULL: none taken */
	} cases[] = {
		{ "allow 7/tcp", "/r/rules.d/90-portctl.rules" },
		{ "allow 8/tcp", "/r/rules.d/90-portctl.rules" },
		{ "allow 9/tcp", RUNTIME_NAME },
		{ "allow 10/tcp", NULL },
		{ "allow 1000/tcp", NULL },
		{ "allow ssh", NULL },
		{ "allow 11/tcp", NULL },
	};
	struct rule_index ix = {0};
	struct pc_diags d;

	pc_config_free(cfg);
	cfg = pc_config_new();
	ck_assert_ptr_nonnull(cfg);
	add_text("zones.rules", "zone public policy in drop default\n", PC_ORIGIN_SHIPPED);
	add_text("services.rules", "service ssh 22/tcp\n", PC_ORIGIN_SHIPPED);
	add_text("/r/rules.d/10-a.rules", "allow 1000/tcp\nallow 7/tcp\n", PC_ORIGIN_ADMIN);
	add_text("/r/rules.d/90-portctl.rules", "allow 7/tcp\nallow 8/tcp\nallow 9/tcp\n",
		 PC_ORIGIN_ADMIN);
	add_text(RUNTIME_NAME, "allow 9/tcp\n", PC_ORIGIN_CLI);
	add_text("/r/rules.d/95-late.rules", "allow 7/tcp\nallow 8/tcp\nallow 10/tcp\n",
		 PC_ORIGIN_ADMIN);
	add_text("defaults.rules", "allow ssh\n", PC_ORIGIN_DEFAULTS);
	pc_diags_init(&d);
	ck_assert_int_eq(pc_config_validate(cfg, &d), 0);
	pc_diags_free(&d);
	ck_assert_int_eq(rule_index_get(&ix, cfg, "/r/rules.d/90-portctl.rules"), 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct change ch = { .kind = CHANGE_DELETE, .rule = cases[i].text };
		size_t plain = SIZE_MAX, indexed = SIZE_MAX;
		int r = delete_pick(cfg, "/r/rules.d/90-portctl.rules", &ch, NULL, &plain);

		ck_assert_int_eq(delete_pick(cfg, "/r/rules.d/90-portctl.rules", &ch, &ix, &indexed),
				 r);
		if (!cases[i].file) {
			ck_assert_int_eq(r, 0);
			continue;
		}
		ck_assert_int_gt(r, 0);
		ck_assert_uint_eq(indexed, plain);
		ck_assert_str_eq(cfg->rules[plain].loc.file, cases[i].file);
		ck_assert_str_eq(cfg->rules[plain].text, cases[i].text);
	}
	rule_index_drop(&ix);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("rule_same");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_keycount);
	tcase_add_test(tc, test_keycount_spread);
	tcase_add_test(tc, test_defaults_filled_in);
	tcase_add_test(tc, test_order_and_lists);
	tcase_add_test(tc, test_ports_services_comments);
	tcase_add_test(tc, test_delete_by_comment_pick);
	tcase_add_test(tc, test_delete_pick_index);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
