/* Named address sets: the list-file parser (comments, blank lines, both
 * families, each bad line at FILE:LINE:COL), the set statement and @NAME,
 * their validation, lowering into shared kernel sets, and evaluation. */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <stdlib.h>

#include "compile_helper.h"
#include "test_lang.h"

static struct lang_fixture F;

static void setup(void)
{
	fixture_setup(&F);
}

static void teardown(void)
{
	fixture_teardown(&F);
}

static struct pc_addrset *set_new(void)
{
	struct pc_addrset *s = pc_arena_alloc(F.cfg->arena, sizeof(*s));

	ck_assert_ptr_nonnull(s);
	*s = (struct pc_addrset){ .name = "t", .file = "list.txt" };
	return s;
}

static const char *entry(const struct pc_addrset *s, size_t i, char *buf, size_t size)
{
	ck_assert_int_ge(pc_prefix_format(&s->addrs[i], buf, size), 0);
	return buf;
}

START_TEST(test_list_file_comments_families)
{
	static const char text[] = "# DROP list\n"
				   "; Spamhaus says\n"
				   "\n"
				   "   \t\n"
				   "1.10.16.0/20 ; SBL256894\n"
				   "  203.0.113.7\t# a host\n"
				   "2001:db8:bad::/48\r\n"
				   "2001:db8::1;no blank needed\n"
				   "198.51.100.0/24"; /* no final newline */
	struct pc_addrset *s = set_new();
	char buf[64];

	ck_assert_int_eq(pc_addrset_parse(F.cfg, s, "list.txt", text, sizeof(text) - 1, &F.d), 0);
	ck_assert_uint_eq(F.d.n, 0);
	ck_assert_uint_eq(s->n_addrs, 5);
	ck_assert_str_eq(entry(s, 0, buf, sizeof(buf)), "1.10.16.0/20");
	ck_assert_str_eq(entry(s, 1, buf, sizeof(buf)), "203.0.113.7");
	ck_assert_str_eq(entry(s, 2, buf, sizeof(buf)), "2001:db8:bad::/48");
	ck_assert_str_eq(entry(s, 3, buf, sizeof(buf)), "2001:db8::1");
	ck_assert_str_eq(entry(s, 4, buf, sizeof(buf)), "198.51.100.0/24");
	ck_assert_uint_eq(s->addrs[1].loc.line, 6);
	ck_assert_uint_eq(s->addrs[1].loc.col, 3);
	ck_assert(s->loaded);
}
END_TEST

/* Every bad line is reported in one pass, at its own LINE:COL. */
START_TEST(test_list_file_bad_lines)
{
	static const char text[] = "10.0.0.1\n"
				   "  10.0.0.1/8 ; host bits\n"
				   "10.0.0.300\n"
				   "10.0.0.2 10.0.0.3\n"
				   "any\n"
				   "10.0.0.0/33\n"
				   "2001:db8::/32\n";
	struct pc_addrset *s = set_new();

	ck_assert_int_eq(pc_addrset_parse(F.cfg, s, "list.txt", text, sizeof(text) - 1, &F.d),
			 -EINVAL);
	ck_assert_uint_eq(F.d.n_errors, 5);
	assert_diag(&F, 0, 2, 3, "'10.0.0.1/8' has host bits set");
	assert_hint(&F, 0, "did you mean 10.0.0.0/8?");
	assert_diag(&F, 1, 3, 1, "invalid address '10.0.0.300'");
	assert_diag(&F, 2, 4, 10, "unexpected '10.0.0.3' after the address");
	assert_diag(&F, 3, 5, 1, "not 'any'");
	assert_diag(&F, 4, 6, 10, "invalid prefix length '33'");
	ck_assert_str_eq(F.d.items[0].loc.file, "list.txt");
	/* The good lines are kept; the caller refuses the whole set anyway. */
	ck_assert_uint_eq(s->n_addrs, 2);
}
END_TEST

START_TEST(test_list_file_empty_and_membership)
{
	static const char text[] = "10.1.0.0/16\n2001:db8::/126\n192.0.2.77\n";
	struct pc_addrset *s = set_new();
	uint8_t a[16] = { 0 };

	ck_assert_int_eq(pc_addrset_parse(F.cfg, s, "e.txt", "", 0, &F.d), 0);
	ck_assert_uint_eq(s->n_addrs, 0);
	ck_assert_int_eq(pc_addrset_parse(F.cfg, s, "l.txt", text, sizeof(text) - 1, &F.d), 0);
	inet_pton(AF_INET, "10.1.255.3", a);
	ck_assert(pc_addrset_contains(s, AF_INET, a));
	inet_pton(AF_INET, "10.2.0.1", a);
	ck_assert(!pc_addrset_contains(s, AF_INET, a));
	inet_pton(AF_INET, "192.0.2.77", a);
	ck_assert_ptr_eq(pc_addrset_find(s, AF_INET, a), &s->addrs[2]);
	inet_pton(AF_INET6, "2001:db8::3", a);
	ck_assert(pc_addrset_contains(s, AF_INET6, a));
	inet_pton(AF_INET6, "2001:db8::4", a);
	ck_assert(!pc_addrset_contains(s, AF_INET6, a));
}
END_TEST

START_TEST(test_set_statement_and_refs)
{
	const struct pc_addrset *s;

	F.cfg->sets_dir = "/etc/portctl";
	fixture_shipped(&F);
	ck_assert_int_eq(fixture_parse(&F, "set admins 10.0.0.0/8, 2001:db8::/32\n"
					   "set bl file sets/drop.txt\n"
					   "set abs file \"/srv/my lists/x.txt\"\n"
					   "deny from @bl\n"
					   "allow 22/tcp from @admins to 10.1.1.1\n"),
			 0);
	ck_assert_uint_eq(F.cfg->n_sets, 3);
	s = pc_config_set(F.cfg, "admins");
	ck_assert_ptr_nonnull(s);
	ck_assert_ptr_null(s->file);
	ck_assert_uint_eq(s->n_addrs, 2);
	ck_assert_str_eq(pc_config_set(F.cfg, "bl")->file, "/etc/portctl/sets/drop.txt");
	ck_assert_str_eq(pc_config_set(F.cfg, "abs")->file, "/srv/my lists/x.txt");
	ck_assert_str_eq(F.cfg->rules[0].from_set_name.name, "bl");
	ck_assert_str_eq(F.cfg->rules[1].text, "allow 22/tcp from @admins to 10.1.1.1");
	ck_assert_uint_eq(F.cfg->rules[1].from_set_name.loc.col, 19);
}
END_TEST

START_TEST(test_set_syntax_errors)
{
	fixture_shipped(&F);
	ck_assert_int_eq(fixture_parse(&F, "deny from @bl,10.0.0.1\n"
					   "deny from 10.0.0.1,@bl\n"
					   "deny from @Bad\n"
					   "zone z source @bl\n"
					   "set any 10.0.0.1\n"
					   "set x any\n"
					   "set y file\n"
					   "set z @bl\n"
					   "forward 8080/tcp to 10.0.0.2 from @bl\n"),
			 -EINVAL);
	ck_assert_uint_eq(F.d.n_errors, 9);
	assert_diag(&F, 0, 1, 15, "a set stands alone in an address list");
	assert_diag(&F, 1, 2, 20, "a set stands alone in an address list");
	assert_diag(&F, 2, 3, 11, "invalid set name '@Bad'");
	assert_diag(&F, 3, 4, 15, "a zone source cannot be a set");
	assert_diag(&F, 4, 5, 5, "'any' is a keyword and cannot name a set");
	assert_diag(&F, 5, 6, 7, "not 'any'");
	assert_diag(&F, 6, 7, 11, "expected a file name");
	assert_diag(&F, 7, 8, 7, "a set cannot hold another set");
	assert_diag(&F, 8, 9, 35, "'forward' takes addresses, not a set");
	/* Only the administrator's files define sets. */
	ck_assert_int_eq(fixture_parse_origin(&F, "d.rules", "set s 10.0.0.1\n", 15,
					      PC_ORIGIN_DEFAULTS),
			 -EINVAL);
	ck_assert_int_eq(fixture_parse_origin(&F, "cli", "set s 10.0.0.1", 14, PC_ORIGIN_CLI),
			 -EINVAL);
}
END_TEST

START_TEST(test_set_validation)
{
	fixture_shipped(&F);
	ck_assert_int_eq(fixture_parse(&F, "set admins 10.0.0.1\n"
					   "set admins 10.0.0.2\n"
					   "set unused 10.0.0.3\n"
					   "set gone file /nonexistent/list.txt\n"
					   "allow 22/tcp from @admns\n"
					   "deny from @gone\n"
					   "allow 80/tcp from @admins to 2001:db8::1\n"),
			 0);
	ck_assert_int_eq(pc_config_validate(F.cfg, &F.d), -EINVAL);
	ck_assert_uint_eq(F.d.n_errors, 4);
	ck_assert_uint_eq(F.d.n_warnings, 1);
	assert_diag(&F, 0, 2, 5, "set 'admins' is already defined at t.rules:1");
	assert_diag(&F, 1, 4, 15, "set 'gone': cannot read /nonexistent/list.txt");
	assert_diag(&F, 2, 5, 19, "unknown set 'admns'");
	assert_hint(&F, 2, "did you mean 'admins'?");
	assert_diag(&F, 3, 7, 30, "different address families");
	assert_diag(&F, 4, 3, 5, "set 'unused' is not used");
}
END_TEST

/* A set file read into the sources (as the loader does) is parsed by
 * validation, once, at the list file's own LINE:COL. */
START_TEST(test_set_file_from_sources)
{
	static const char list[] = "10.9.0.0/16\n\n# x\n10.9.0.1/8\n";
	char *data = strdup(list);

	fixture_shipped(&F);
	ck_assert_int_eq(fixture_parse(&F, "set bl file /l.txt\ndeny from @bl\n"), 0);
	ck_assert_ptr_nonnull(pc_sources_add(&F.cfg->sources, "/l.txt", data, strlen(list)));
	F.cfg->sources.items[F.cfg->sources.n - 1].kind = PC_SOURCE_SET;
	ck_assert_int_eq(pc_config_validate(F.cfg, &F.d), -EINVAL);
	ck_assert_uint_eq(F.d.n_errors, 1);
	assert_diag(&F, 0, 4, 1, "host bits set");
	ck_assert_str_eq(F.d.items[0].loc.file, "/l.txt");
}
END_TEST

static struct pc_config *config_with_list(const char *list, struct pc_diags *d)
{
	static const char rules[] = "zone public default\nset bl file /l.txt\ndeny from @bl\n";
	struct pc_config *cfg = pc_config_new();
	char *text = strdup(rules), *data = strdup(list);

	ck_assert_ptr_nonnull(cfg);
	ck_assert_int_eq(pc_parse_buffer(cfg, "t.rules", text, strlen(rules), PC_ORIGIN_ADMIN, d), 0);
	ck_assert_ptr_nonnull(pc_sources_add(&cfg->sources, "/l.txt", data, strlen(list)));
	cfg->sources.items[cfg->sources.n - 1].kind = PC_SOURCE_SET;
	return cfg;
}

/* The daemon parses its configuration again for every change: a list file
 * whose text it parsed before is taken over, not parsed again. */
START_TEST(test_set_reuse)
{
	struct pc_config *old = config_with_list("10.0.0.1\n10.0.0.2\n", &F.d);
	struct pc_config *same = config_with_list("10.0.0.1\n10.0.0.2\n", &F.d);
	struct pc_config *other = config_with_list("10.0.0.3\n", &F.d);
	const struct pc_addrset *s;

	ck_assert_int_eq(pc_config_validate(old, &F.d), 0);
	ck_assert_int_eq(pc_config_sets_reuse(same, old), 0);
	s = pc_config_set(same, "bl");
	ck_assert(s->loaded);
	ck_assert_uint_eq(s->n_addrs, 2);
	ck_assert_ptr_ne(s->addrs, pc_config_set(old, "bl")->addrs);
	ck_assert_ptr_eq(s->addrs[1].loc.file, pc_sources_find(&same->sources, "/l.txt")->name);
	ck_assert_uint_eq(s->addrs[1].loc.line, 2);
	ck_assert_int_eq(pc_config_validate(same, &F.d), 0);
	/* Another text is parsed anew. */
	ck_assert_int_eq(pc_config_sets_reuse(other, old), 0);
	ck_assert(!pc_config_set(other, "bl")->loaded);
	ck_assert_int_eq(pc_config_validate(other, &F.d), 0);
	ck_assert_uint_eq(pc_config_set(other, "bl")->n_addrs, 1);
	pc_config_free(other);
	pc_config_free(same);
	pc_config_free(old);
}
END_TEST

/* One kernel set per family shared by every rule that names it: a hash
 * set for hosts only, an interval set once a prefix is there; both
 * families always, so a changed list changes elements only. */
START_TEST(test_set_lowered_shared)
{
	struct pc_config *cfg = config_from_text("zone public default\n"
						 "set bl 192.0.2.9,192.0.2.7,192.0.2.9\n"
						 "set nets 10.0.0.0/8,2001:db8::/32\n"
						 "deny from @bl\n"
						 "allow 22/tcp from @nets\n"
						 "allow out to @bl\n");
	struct pc_ruleset *rs = ruleset_from_config(cfg);
	char *text = ruleset_text(rs);
	int lookups = 0;

	ck_assert_ptr_nonnull(strstr(text, "set_bl_v4 portctl 0\n"));
	ck_assert_ptr_nonnull(strstr(text, "set_bl_v6 portctl 0\n"));
	ck_assert_ptr_nonnull(strstr(text, "set_nets_v4 portctl 4\n"));
	ck_assert_ptr_nonnull(strstr(text, "set_nets_v6 portctl 4\n"));
	/* Two hosts (the duplicate once), in key order. */
	ck_assert_ptr_nonnull(strstr(text, "set_bl_v4 portctl 0\n\telement 070200c0  : 0 [end]\t"
					   "element 090200c0  : 0 [end]\n"));
	for (size_t i = 0; text[i]; i++)
		lookups += strncmp(text + i, "lookup reg 1 set set_bl_v", 25) == 0;
	/* deny in the zone chain and in its published-port chain, allow out;
	 * each family */
	ck_assert_int_eq(lookups, 6);
	free(text);
	pc_ruleset_free(rs);
	pc_config_free(cfg);
}
END_TEST

START_TEST(test_set_eval)
{
	struct pc_config *cfg = config_from_text("zone public default\n"
						 "set bl 192.0.2.0/24,2001:db8:bad::1\n"
						 "set admins 10.0.0.4\n"
						 "deny from @bl\n"
						 "allow 22/tcp from @admins\n"
						 "allow 80/tcp\n");
	struct pc_plan *plan = plan_from_config(cfg);
	struct pc_verdict v;
	struct pc_packet pkt;

	pkt = packet_make(PC_DIR_IN, IPPROTO_TCP, 80, "192.0.2.5", "10.0.0.1", NULL);
	ck_assert_int_eq(pc_plan_eval(plan, &pkt, &v), 0);
	ck_assert_int_eq(v.verdict, PC_VERDICT_DROP);
	ck_assert_ptr_eq(v.rule, &cfg->rules[0]);
	pkt = packet_make(PC_DIR_IN, IPPROTO_TCP, 80, "2001:db8:bad::1", "2001:db8::2", NULL);
	ck_assert_int_eq(pc_plan_eval(plan, &pkt, &v), 0);
	ck_assert_ptr_eq(v.rule, &cfg->rules[0]);
	pkt = packet_make(PC_DIR_IN, IPPROTO_TCP, 80, "198.51.100.1", "10.0.0.1", NULL);
	ck_assert_int_eq(pc_plan_eval(plan, &pkt, &v), 0);
	ck_assert_ptr_eq(v.rule, &cfg->rules[2]);
	pkt = packet_make(PC_DIR_IN, IPPROTO_TCP, 22, "10.0.0.4", "10.0.0.1", NULL);
	ck_assert_int_eq(pc_plan_eval(plan, &pkt, &v), 0);
	ck_assert_ptr_eq(v.rule, &cfg->rules[1]);
	pkt = packet_make(PC_DIR_IN, IPPROTO_TCP, 22, "10.0.0.5", "10.0.0.1", NULL);
	ck_assert_int_eq(pc_plan_eval(plan, &pkt, &v), 0);
	ck_assert_int_eq(v.verdict, PC_VERDICT_DROP);
	ck_assert_ptr_null(v.rule);
	pc_plan_free(plan);
	pc_config_free(cfg);
}
END_TEST

static Suite *sets_suite(void)
{
	Suite *s = suite_create("sets");
	TCase *tc = tcase_create("sets");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_list_file_comments_families);
	tcase_add_test(tc, test_list_file_bad_lines);
	tcase_add_test(tc, test_list_file_empty_and_membership);
	tcase_add_test(tc, test_set_statement_and_refs);
	tcase_add_test(tc, test_set_syntax_errors);
	tcase_add_test(tc, test_set_validation);
	tcase_add_test(tc, test_set_file_from_sources);
	tcase_add_test(tc, test_set_reuse);
	tcase_add_test(tc, test_set_lowered_shared);
	tcase_add_test(tc, test_set_eval);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(sets_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
