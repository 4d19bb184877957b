/* Unit tests for the daemon's rate-limited log of client floods: the first
 * event in full, then one summary per interval naming the users. */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <unistd.h>

#include "../../src/daemon/logflood.h"

static char logged[4096];

/* Run with stderr going to a file; what was written comes back in logged. */
static FILE *capture_start(void)
{
	FILE *f = tmpfile();

	ck_assert_ptr_nonnull(f);
	fflush(stderr);
	ck_assert_int_ge(dup2(fileno(f), STDERR_FILENO), 0);
	return f;
}

static int capture_lines(FILE *f)
{
	size_t n;
	int lines = 0;

	fflush(stderr);
	rewind(f);
	n = fread(logged, 1, sizeof(logged) - 1, f);
	logged[n] = '\0';
	for (size_t i = 0; i < n; i++)
		lines += logged[i] == '\n';
	ck_assert_int_eq(ftruncate(fileno(f), 0), 0);
	rewind(f);
	return lines;
}

static struct log_flood refused(void)
{
	return (struct log_flood){.level = PC_LOG_WARNING, .verb = "refused", .what = "clients"};
}

START_TEST(test_flood_summary)
{
	struct log_flood f = refused();
	FILE *out = capture_start();
	const uint64_t t0 = 1000;

	ck_assert_uint_eq(log_flood_deadline(&f), UINT64_MAX);
	ck_assert(log_flood_note(&f, 65534, t0));
	for (int i = 0; i < 25000; i++)
		ck_assert(!log_flood_note(&f, 65534, t0 + 1));
	ck_assert(!log_flood_note(&f, 1000, t0 + 2));
	ck_assert_uint_eq(log_flood_deadline(&f), t0 + LOG_FLOOD_INTERVAL_MS);
	log_flood_flush(&f, t0 + LOG_FLOOD_INTERVAL_MS - 1);
	ck_assert_int_eq(capture_lines(out), 0);

	log_flood_flush(&f, t0 + LOG_FLOOD_INTERVAL_MS);
	ck_assert_int_eq(capture_lines(out), 1);
	ck_assert_ptr_nonnull(strstr(logged, "refused 25001 clients in the last 10 s "
					     "(25000 of uid 65534, 1 of uid 1000)"));
	/* Still counting: the flood goes on without a full line. */
	ck_assert_uint_eq(log_flood_deadline(&f), t0 + 2 * LOG_FLOOD_INTERVAL_MS);
	ck_assert(!log_flood_note(&f, 65534, t0 + LOG_FLOOD_INTERVAL_MS + 1));
	log_flood_flush(&f, t0 + 2 * LOG_FLOOD_INTERVAL_MS);
	ck_assert_int_eq(capture_lines(out), 1);
	ck_assert_ptr_nonnull(
	    strstr(logged, "refused 1 clients in the last 10 s (1 of uid 65534)"));
	/* A quiet interval ends it; the next event is logged in full again. */
	log_flood_flush(&f, t0 + 3 * LOG_FLOOD_INTERVAL_MS);
	ck_assert_int_eq(capture_lines(out), 0);
	ck_assert_uint_eq(log_flood_deadline(&f), UINT64_MAX);
	ck_assert(log_flood_note(&f, 65534, t0 + 4 * LOG_FLOOD_INTERVAL_MS));
	fclose(out);
}
END_TEST

START_TEST(test_flood_many_users)
{
	struct log_flood f = refused();
	FILE *out = capture_start();

	ck_assert(log_flood_note(&f, 1, 0));
	for (uid_t u = 1; u <= LOG_FLOOD_UIDS + 2; u++)
		ck_assert(!log_flood_note(&f, u, 1));
	ck_assert(!log_flood_note(&f, LOG_FLOOD_NO_UID, 1));
	log_flood_flush(&f, LOG_FLOOD_INTERVAL_MS);
	ck_assert_int_eq(capture_lines(out), 1);
	ck_assert_ptr_nonnull(strstr(logged,
				     "refused 7 clients in the last 10 s (1 of uid 1, "
				     "1 of uid 2, 1 of uid 3, 1 of uid 4, 2 of other users)"));
	fclose(out);
}
END_TEST

START_TEST(test_flood_no_uid)
{
	struct log_flood f = {.level = PC_LOG_WARNING, .verb = "failed", .what = "accepts"};
	FILE *out = capture_start();

	ck_assert(log_flood_note(&f, LOG_FLOOD_NO_UID, 0));
	ck_assert(!log_flood_note(&f, LOG_FLOOD_NO_UID, 1));
	log_flood_flush(&f, LOG_FLOOD_INTERVAL_MS);
	ck_assert_int_eq(capture_lines(out), 1);
	ck_assert_ptr_nonnull(strstr(logged, "failed 1 accepts in the last 10 s\n"));
	fclose(out);
}
END_TEST

static Suite *logflood_suite(void)
{
	Suite *s = suite_create("logflood");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_flood_summary);
	tcase_add_test(tc, test_flood_many_users);
	tcase_add_test(tc, test_flood_no_uid);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(logflood_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
