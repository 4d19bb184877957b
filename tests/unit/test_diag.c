/* Unit tests of diagnostics: the printed FILE:LINE:COL format with the
 * source line, caret and hint, and the cap on stored diagnostics. */
#include "config.h"

#include "test_lang.h"

static char *print_to_string(const struct lang_fixture *f)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);

	ck_assert_ptr_nonnull(out);
	pc_diags_print(out, &f->d, &f->cfg->sources);
	fclose(out);
	return buf;
}

START_TEST(test_print_caret_and_hint)
{
	struct lang_fixture f;
	char *out;

	fixture_setup(&f);
	fixture_parse(&f, "allow 22\n\tallow 443/tpc zone a\n");
	out = print_to_string(&f);
	ck_assert_str_eq(out, "t.rules:2:12: error: unknown protocol 'tpc'\n"
			      "\tallow 443/tpc zone a\n"
			      "\t          ^~~\n"
			      "  hint: did you mean 'tcp'?\n");
	free(out);
	fixture_teardown(&f);
}
END_TEST

START_TEST(test_print_without_place_and_control_bytes)
{
	struct lang_fixture f;
	struct pc_loc file_only = {.file = "x.rules"};
	char *out;

	fixture_setup(&f);
	fixture_parse(&f, "allow 22 comment \"a\x01\"\n");
	pc_error(&f.d, NULL, "no zones are defined");
	pc_warning(&f.d, &file_only, "something about the file");
	out = print_to_string(&f);
	ck_assert_str_eq(out, "error: no zones are defined\n"
			      "t.rules:1:20: error: control character 0x01 in string\n"
			      "allow 22 comment \"a?\"\n"
			      "                   ^\n"
			      "x.rules: warning: something about the file\n");
	free(out);
	fixture_teardown(&f);
}
END_TEST

START_TEST(test_print_long_line_window)
{
	struct lang_fixture f;
	size_t n = 5000;
	char *line = malloc(n + 32), *out, *caret;

	fixture_setup(&f);
	memcpy(line, "allow ", 6);
	for (size_t i = 6; i < n; i += 2)
		memcpy(line + i, "1,", 2);
	strcpy(line + n, "99999\n");
	fixture_parse(&f, line);
	assert_diag(&f, 0, 1, n + 1, "port 99999 is out of range");
	out = print_to_string(&f);
	/* The shown window is bounded and the caret still sits under the word. */
	ck_assert_uint_lt(strlen(out), 600);
	caret = strstr(out, "^~~~~");
	ck_assert_ptr_nonnull(caret);
	ck_assert_int_eq(caret[-1], ' ');
	ck_assert_ptr_nonnull(strstr(out, "\n..."));
	ck_assert_ptr_nonnull(strstr(out, "1,1,99999\n"));
	free(out);
	free(line);
	fixture_teardown(&f);
}
END_TEST

START_TEST(test_cap_on_stored_diagnostics)
{
	struct lang_fixture f;
	struct pc_strbuf sb = {0};
	char *out;

	fixture_setup(&f);
	for (int i = 0; i < 1500; i++)
		pc_strbuf_printf(&sb, "alow %d\n", i);
	ck_assert_int_eq(fixture_parse(&f, sb.buf), -EINVAL);
	ck_assert_uint_eq(f.d.n, PC_DIAG_MAX);
	ck_assert_uint_eq(f.d.n_errors, 1500);
	ck_assert_uint_eq(f.d.n_dropped, 500);
	assert_diag(&f, 999, 1000, 1, "unknown statement 'alow'");
	out = print_to_string(&f);
	ck_assert_ptr_nonnull(strstr(out, "... and 500 more diagnostics not shown\n"));
	free(out);
	pc_strbuf_free(&sb);
	fixture_teardown(&f);
}
END_TEST

START_TEST(test_print_in_file_order)
{
	struct lang_fixture f;
	char *out, *first, *second, *third;

	fixture_setup(&f);
	fixture_parse(&f, "zone z default\nallow 22 zone nope\nallow 0\n");
	fixture_parse_origin(&f, "u.rules", "allow 1x\n", 9, PC_ORIGIN_ADMIN);
	pc_config_validate(f.cfg, &f.d);
	ck_assert_uint_eq(f.d.n_errors, 3);
	out = print_to_string(&f);
	first = strstr(out, "t.rules:2:15: error: unknown zone 'nope'");
	second = strstr(out, "t.rules:3:7: error: port 0");
	third = strstr(out, "u.rules:1:7: error: invalid port '1x'");
	ck_assert_ptr_nonnull(first);
	ck_assert_ptr_nonnull(second);
	ck_assert_ptr_nonnull(third);
	ck_assert(first < second && second < third);
	free(out);
	fixture_teardown(&f);
}
END_TEST

START_TEST(test_print_only_whole_utf8)
{
	struct lang_fixture f;
	char *out;

	/* The printed line goes into a JSON reply, which must be UTF-8: a
	 * stray byte shows as '?', a whole character as itself. */
	fixture_setup(&f);
	fixture_parse(&f, "allow 22 # caf\xc3\xa9 caf\xe9\n");
	out = print_to_string(&f);
	ck_assert_str_eq(out,
			 "t.rules:1:21: error: invalid UTF-8 byte 0xe9 in a comment\n"
			 "allow 22 # caf\xc3\xa9 caf?\n"
			 "                    ^\n"
			 "  hint: save the file as UTF-8, e.g. with: iconv -f latin1 -t utf-8\n");
	free(out);
	fixture_teardown(&f);
}
END_TEST

START_TEST(test_redacted_keeps_only_places)
{
	struct lang_fixture f;
	char *out;

	fixture_setup(&f);
	fixture_parse(&f, "SECRETLINE root:$6$abc\nallow 22/tpc\n");
	ck_assert_uint_eq(f.d.n, 2);
	pc_diags_redact(&f.d);
	out = print_to_string(&f);
	ck_assert_str_eq(out, "t.rules:1:1: error: " PC_DIAG_REDACTED "\n"
			      "t.rules:2:10: error: " PC_DIAG_REDACTED "\n");
	ck_assert_ptr_null(f.d.items[1].hint);
	free(out);
	fixture_teardown(&f);
}
END_TEST

static Suite *diag_suite(void)
{
	Suite *s = suite_create("diag");
	TCase *tc = tcase_create("print");

	tcase_add_test(tc, test_print_caret_and_hint);
	tcase_add_test(tc, test_print_without_place_and_control_bytes);
	tcase_add_test(tc, test_print_long_line_window);
	tcase_add_test(tc, test_cap_on_stored_diagnostics);
	tcase_add_test(tc, test_print_in_file_order);
	tcase_add_test(tc, test_print_only_whole_utf8);
	tcase_add_test(tc, test_redacted_keeps_only_places);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(diag_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
