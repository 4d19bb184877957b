/* Unit tests of the daemon's log: control characters in a message (from a
 * client or a file) come out as visible escapes, never as a line of their
 * own with a forged "<N>" priority. */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>

#include "../../src/daemon/log.h"

static const char *escaped(const char *in, size_t size)
{
	static char out[256];

	ck_assert_uint_le(size, sizeof(out));
	log_escape(out, size, in);
	return out;
}

START_TEST(test_escape_control_characters)
{
	ck_assert_str_eq(escaped("plain text, caf\xc3\xa9", 256), "plain text, caf\xc3\xa9");
	ck_assert_str_eq(escaped("a\n<3>forged", 256), "a\\n<3>forged");
	ck_assert_str_eq(escaped("\r\t\x1b[2J\x7f\x01", 256), "\\r\\t\\x1b[2J\\x7f\\x01");
	/* Cut short rather than cut inside an escape. */
	ck_assert_str_eq(escaped("abc\x1b", 7), "abc");
	ck_assert_str_eq(escaped("ab\x1b", 7), "ab\\x1b");
	ck_assert_str_eq(escaped("x", 1), "");
}
END_TEST

START_TEST(test_log_line_cannot_be_forged)
{
	FILE *tmp = tmpfile();
	char buf[512];
	int lines = 0;

	ck_assert_ptr_nonnull(tmp);
	fflush(stderr);
	ck_assert_int_ge(dup2(fileno(tmp), STDERR_FILENO), 0);
	unsetenv("JOURNAL_STREAM");
	log_error("unknown key '%s'", "k\n<3>portctld: FORGED\r\n");
	setenv("JOURNAL_STREAM", "8:1", 1);
	log_warning("unknown key '%s'", "k\n<3>FORGED");
	fflush(stderr);
	rewind(tmp);
	while (fgets(buf, sizeof(buf), tmp)) {
		lines++;
		ck_assert_ptr_nonnull(strstr(buf, "unknown key 'k\\n<3>"));
	}
	ck_assert_int_eq(lines, 2);
	fclose(tmp);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("log");
	TCase *tc = tcase_create("escape");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_escape_control_characters);
	tcase_add_test(tc, test_log_line_cannot_be_forged);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
