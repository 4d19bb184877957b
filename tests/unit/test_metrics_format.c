/* Unit tests of portctl metrics' text: label values escaped as the
 * Prometheus text format wants (\\, \", \n), one family per metric with its
 * samples together, and no rule samples when the counters are unknown. */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/cli/metrics-format.h"

static char *escaped(const char *in)
{
	static char out[256];
	struct pc_strbuf sb = {0};

	ck_assert_int_eq(metrics_label_escape(&sb, in), 0);
	ck_assert_uint_lt(sb.len, sizeof(out));
	memcpy(out, sb.buf ? sb.buf : "", sb.len + 1);
	pc_strbuf_free(&sb);
	return out;
}

START_TEST(test_label_escape)
{
	ck_assert_str_eq(escaped(""), "");
	ck_assert_str_eq(escaped("web \xc3\xa9t\xc3\xa9"), "web \xc3\xa9t\xc3\xa9");
	ck_assert_str_eq(escaped("say \"hi\""), "say \\\"hi\\\"");
	ck_assert_str_eq(escaped("C:\\dir\\"), "C:\\\\dir\\\\");
	ck_assert_str_eq(escaped("two\nlines\n"), "two\\nlines\\n");
	/* Only those three: a tab stays a tab. */
	ck_assert_str_eq(escaped("\\\"\n\t"), "\\\\\\\"\\n\t");
}
END_TEST

static char *formatted(const char *json)
{
	json_t *data = json_loads(json, 0, NULL);
	struct pc_strbuf sb = {0};

	ck_assert_ptr_nonnull(data);
	ck_assert_int_eq(metrics_format(data, &sb), 0);
	json_decref(data);
	return sb.buf;
}

START_TEST(test_format_rules)
{
	char *text = formatted(
	    "{\"version\":\"1.2\",\"started\":1700000000,\"source\":\"files\",\"panic\":false,"
	    "\"counters\":true,\"last_apply\":1700000001,\"last_apply_ok\":true,"
	    "\"applies\":{\"ok\":3,\"failed\":1},\"drift\":{\"found\":2,\"repairs\":1},"
	    "\"bans\":{\"*\":1,\"public\":0},\"rules\":["
	    "{\"file\":\"/etc/portctl/rules.d/x.rules\",\"line\":12,\"text\":\"allow 22/tcp\","
	    "\"zones\":[\"lab\",\"office\"],\"direction\":\"in\",\"comment\":\"a \\\"b\\\"\","
	    "\"packets\":5,\"bytes\":300},"
	    "{\"file\":null,\"line\":0,\"text\":\"deny 25/tcp\",\"zones\":[\"public\"],"
	    "\"direction\":\"out\",\"packets\":0,\"bytes\":0}]}");

	ck_assert_ptr_nonnull(strstr(
	    text, "portctl_rule_packets_total{zone=\"lab,office\",direction=\"in\","
		  "source=\"/etc/portctl/rules.d/x.rules:12\",rule=\"allow 22/tcp\","
		  "comment=\"a \\\"b\\\"\"} 5\n"));
	ck_assert_ptr_nonnull(strstr(
	    text, "portctl_rule_bytes_total{zone=\"public\",direction=\"out\",source=\"\","
		  "rule=\"deny 25/tcp\",comment=\"\"} 0\n"));
	ck_assert_ptr_nonnull(strstr(text, "# TYPE portctl_rule_packets_total counter\n"));
	ck_assert_ptr_nonnull(strstr(text, "portctl_info{version=\"1.2\",source=\"files\"} 1\n"));
	ck_assert_ptr_nonnull(strstr(text, "portctl_bans{zone=\"*\"} 1\n"));
	ck_assert_ptr_nonnull(strstr(text, "portctl_applies_total{result=\"failed\"} 1\n"));
	ck_assert_ptr_nonnull(strstr(text, "portctl_drift_repairs_total 1\n"));
	ck_assert_ptr_nonnull(strstr(text, "portctl_last_apply_success 1\n"));
	/* A family's samples follow its TYPE line: the bytes come after every
	 * packets sample. */
	ck_assert(strstr(text, "portctl_rule_packets_total{zone=\"public\"") <
		  strstr(text, "# TYPE portctl_rule_bytes_total"));
	free(text);
}
END_TEST

START_TEST(test_format_without_counters)
{
	char *text = formatted("{\"version\":\"1.2\",\"started\":1,\"source\":\"kernel\","
			       "\"panic\":true,\"counters\":false,\"last_apply\":0,"
			       "\"last_apply_ok\":false,\"applies\":{\"ok\":0,\"failed\":0},"
			       "\"drift\":{\"found\":0,\"repairs\":0},\"bans\":{\"*\":0},"
			       "\"rules\":null}");

	ck_assert_ptr_null(strstr(text, "portctl_rule_"));
	ck_assert_ptr_nonnull(strstr(text, "portctl_panic 1\n"));
	free(text);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("metrics_format");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_label_escape);
	tcase_add_test(tc, test_format_rules);
	tcase_add_test(tc, test_format_without_counters);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
