/* Unit tests for hostile and huge input: nothing crashes, hangs or grows
 * without bound, and the product's example is accepted while each one-word
 * break of it is reported at its LINE:COL. */
#include "config.h"

#include <time.h>

#include "test_lang.h"

static struct lang_fixture F;

static void setup(void)
{
	fixture_setup(&F);
	fixture_shipped(&F);
}

static void teardown(void)
{
	fixture_teardown(&F);
}

static char *example_read(size_t *len)
{
	const char *top = getenv("top_srcdir");
	char path[4096], *data = NULL;

	snprintf(path, sizeof(path), "%s/tests/data/product-example.rules", top ? top : "..");
	ck_assert_int_eq(pc_read_file(path, 1 << 20, &data, len), 0);
	return data;
}

START_TEST(test_product_example_accepted)
{
	size_t len;
	char *data = example_read(&len);

	ck_assert_int_eq(pc_parse_buffer(F.cfg, "example.rules", data, len, PC_ORIGIN_ADMIN, &F.d),
			 0);
	ck_assert_int_eq(pc_config_validate(F.cfg, &F.d), 0);
	ck_assert_uint_eq(F.d.n, 0);
	ck_assert_uint_eq(F.cfg->n_rules, 12);
	ck_assert_str_eq(F.cfg->rules[1].text, "allow in 80,443/tcp zone public comment \"web\"");
	ck_assert_int_eq(F.cfg->rules[6].action, PC_LIMIT);
	ck_assert_str_eq(F.cfg->zones[F.cfg->default_zone].name, "public");
}
END_TEST

/* Each case changes one word of the example; the error is at line:col. */
static const struct {
	const char *from, *to;
	unsigned line, col;
	const char *message;
} breaks[] = {
    {"zone public   interface eth0,wlan0", "zone public   interfce eth0,wlan0", 2, 15,
     "unknown zone option 'interfce'"},
    {"192.168.0.0/16,fd00::/8", "192.168.0.1/16,fd00::/8", 3, 44, "has host bits set"},
    {"policy in accept", "policy in acept", 5, 47, "unknown policy 'acept'"},
    {"service web 80/tcp,443/tcp", "service web 80/tcp,443/tpc", 8, 24, "unknown protocol"},
    {"allow in 80,443/tcp zone public", "allow in 80,443/tcp zone pubic", 12, 26,
     "unknown zone 'pubic'"},
    {"allow 60000-61000/udp", "allow 61000-60000/udp", 14, 7, "backwards"},
    {"allow https ", "allow htps  ", 16, 7, "unknown service 'htps'"},
    {"deny out 25/tcp log", "deny out 25/tcp lgo", 18, 17, "unknown option 'lgo'"},
    {"deny from 203.0.113.7,", "deny from 203.0.113.777,", 20, 11, "invalid address"},
    {"zone domain,private comment \"WCF-WF 4.0 Samples\"\nallow out",
     "zone domain,private comment \"WCF-WF 4.0 Samples\nallow out", 21, 46, "unterminated string"},
    {"limit 22/tcp", "limit 22/tcp rate 0/minute", 17, 19, "invalid count '0'"},
    {"allow 22/tcp from 10.0.0.0/8", "allow 22/tcp from 10.0.0.0/8 to ::1", 13, 33,
     "different address families"},
};

START_TEST(test_product_example_breaks)
{
	size_t len;
	char *data = example_read(&len), *at, *text;

	at = strstr(data, breaks[_i].from);
	ck_assert_msg(at != NULL, "case %d: '%s' not in the example", _i, breaks[_i].from);
	text = malloc(len + strlen(breaks[_i].to) + 1);
	memcpy(text, data, at - data);
	strcpy(text + (at - data), breaks[_i].to);
	strcat(text, at + strlen(breaks[_i].from));
	fixture_parse_origin(&F, "example.rules", text, strlen(text), PC_ORIGIN_ADMIN);
	pc_config_validate(F.cfg, &F.d);
	ck_assert_uint_ge(F.d.n_errors, 1);
	assert_diag(&F, 0, breaks[_i].line, breaks[_i].col, breaks[_i].message);
	free(text);
	free(data);
}
END_TEST

START_TEST(test_empty_and_blank_inputs)
{
	ck_assert_int_eq(fixture_parse_origin(&F, "empty", "", 0, PC_ORIGIN_ADMIN), 0);
	ck_assert_int_eq(fixture_parse(&F, "\n\n   \t\n# only a comment\n\\\n"), 0);
	ck_assert_int_eq(pc_config_validate(F.cfg, &F.d), 0);
	ck_assert_uint_eq(F.cfg->n_rules, 0);
}
END_TEST

START_TEST(test_binary_garbage)
{
	size_t n = 1 << 20;
	char *junk = malloc(n);
	unsigned seed = 12345;

	for (size_t i = 0; i < n; i++) {
		seed = seed * 1103515245 + 12345;
		junk[i] = seed >> 16;
	}
	ck_assert_int_eq(fixture_parse_origin(&F, "junk", junk, n, PC_ORIGIN_ADMIN), -EINVAL);
	pc_config_validate(F.cfg, &F.d);
	ck_assert_uint_le(F.d.n, PC_DIAG_MAX);
	ck_assert_uint_gt(F.d.n_errors, 100);
	free(junk);
}
END_TEST

START_TEST(test_seventeen_megabyte_line)
{
	size_t n = 17 << 20;
	char *line = malloc(n + 16);

	memcpy(line, "allow ", 6);
	memset(line + 6, '1', n - 6);
	strcpy(line + n, "\nallow 22\n");
	ck_assert_int_eq(fixture_parse_origin(&F, "long", line, strlen(line), PC_ORIGIN_ADMIN),
			 -EINVAL);
	ck_assert_uint_eq(F.d.n_errors, 1);
	assert_diag(&F, 0, 1, 1, "line is longer than 16 MiB");
	ck_assert_uint_eq(F.cfg->n_rules, 1);
	ck_assert_uint_eq(F.cfg->rules[0].loc.line, 2);
	free(line);
}
END_TEST

START_TEST(test_long_continued_line_counts_joined)
{
	struct pc_strbuf sb = {0};

	/* 700,000 physical lines of 27 bytes: over 16 MiB only once joined. */
	pc_strbuf_printf(&sb, "allow 1");
	for (int i = 0; i < 700000; i++)
		pc_strbuf_printf(&sb, ",2,3,4,5,6,7,8,9,10,11,12 \\\n");
	pc_strbuf_printf(&sb, "\nallow 22\n");
	ck_assert_int_eq(fixture_parse(&F, sb.buf), -EINVAL);
	ck_assert_uint_eq(F.d.n_errors, 1);
	assert_diag(&F, 0, 1, 1, "line is longer than");
	ck_assert_uint_eq(F.cfg->rules[0].loc.line, 700002);
	pc_strbuf_free(&sb);
}
END_TEST

/* A real block list on one line: no cap that such a list hits. */
START_TEST(test_ten_thousand_addresses_one_line)
{
	struct pc_strbuf sb = {0};

	pc_strbuf_printf(&sb, "deny from ");
	for (int i = 0; i < 10000; i++)
		pc_strbuf_printf(&sb, "%s%d.%d.%d.%d", i ? "," : "", 10 + i % 3, (i >> 16) & 255,
				 (i >> 8) & 255, i & 255);
	pc_strbuf_printf(&sb, ",2001:db8::1\n");
	ck_assert_uint_gt(sb.len, 64 * 1024);
	ck_assert_int_eq(fixture_parse(&F, sb.buf), 0);
	ck_assert_uint_eq(F.cfg->n_rules, 1);
	ck_assert_uint_eq(F.cfg->rules[0].n_from, 10001);
	pc_strbuf_free(&sb);
}
END_TEST

START_TEST(test_hundred_thousand_rules)
{
	struct pc_strbuf sb = {0};
	struct timespec t0, t1;
	double secs;

	for (int i = 0; i < 100000; i++)
		pc_strbuf_printf(&sb, "allow %d/tcp zone internal comment \"rule %d\"\n",
				 1 + i % 65535, i);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ck_assert_int_eq(fixture_parse(&F, sb.buf), 0);
	ck_assert_int_eq(pc_config_validate(F.cfg, &F.d), 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	ck_assert_uint_eq(F.cfg->n_rules, 100000);
	ck_assert_uint_eq(F.cfg->rules[99999].loc.line, 100000);
	/* Generous even under sanitizers; the benchmark measures properly. */
	ck_assert_msg(secs < 5.0, "100,000 rules took %.2f s", secs);
	pc_strbuf_free(&sb);
}
END_TEST

START_TEST(test_ten_thousand_repeated_options)
{
	struct pc_strbuf sb = {0};

	pc_strbuf_printf(&sb, "allow 22");
	for (int i = 0; i < 10000; i++)
		pc_strbuf_printf(&sb, " log");
	pc_strbuf_printf(&sb, "\nallow 23");
	for (int i = 0; i < 1000; i++)
		pc_strbuf_printf(&sb, " zone public");
	pc_strbuf_printf(&sb, "\nallow 24 log\n");
	ck_assert_int_eq(fixture_parse(&F, sb.buf), -EINVAL);
	ck_assert_uint_eq(F.d.n_errors, 2);
	assert_diag(&F, 0, 1, 14, "'log' is given twice");
	assert_diag(&F, 1, 2, 22, "'zone' is given twice");
	assert_hint(&F, 1, "write zone public,public");
	ck_assert_uint_eq(F.cfg->n_rules, 1);
	pc_strbuf_free(&sb);
}
END_TEST

START_TEST(test_many_sources_checked_fast)
{
	struct pc_strbuf sb = {0};

	for (int z = 0; z < 20; z++) {
		pc_strbuf_printf(&sb, "zone z%d source 10.%d.0.0/24", z, z);
		for (int i = 1; i < 1000; i++)
			pc_strbuf_printf(&sb, ",10.%d.%d.%d/32", z, i / 256, i % 256);
		pc_strbuf_printf(&sb, "\n");
	}
	ck_assert_int_eq(fixture_parse(&F, sb.buf), 0);
	ck_assert_int_eq(pc_config_validate(F.cfg, &F.d), 0);
	/* Host routes inside the zone's own /24 only warn. */
	ck_assert_uint_eq(F.d.n_warnings, 20 * 255);
	pc_strbuf_free(&sb);
}
END_TEST

static Suite *robust_suite(void)
{
	Suite *s = suite_create("lang-robust");
	TCase *tc = tcase_create("input");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_product_example_accepted);
	tcase_add_loop_test(tc, test_product_example_breaks, 0, ARRAY_SIZE(breaks));
	tcase_add_test(tc, test_empty_and_blank_inputs);
	tcase_add_test(tc, test_binary_garbage);
	tcase_add_test(tc, test_seventeen_megabyte_line);
	tcase_add_test(tc, test_ten_thousand_addresses_one_line);
	tcase_add_test(tc, test_long_continued_line_counts_joined);
	tcase_add_test(tc, test_hundred_thousand_rules);
	tcase_add_test(tc, test_ten_thousand_repeated_options);
	tcase_add_test(tc, test_many_sources_checked_fast);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(robust_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
