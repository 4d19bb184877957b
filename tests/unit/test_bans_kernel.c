/* Bans against the real kernel, in a private network namespace: a first
 * ban and an unban are element-only transactions, a recompile whose ban
 * timeouts merely shrank sends nothing, and an element that lapsed in the
 * kernel is neither drift nor deleted again. */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "compile_helper.h"
#include "portctl/netlink.h"

#define ZONES                                                                                      \
	"zone public interface eth0 default\n"                                                     \
	"zone office interface eth1\n"                                                             \
	"allow 22/tcp\n"

static void ban_len(struct pc_config *cfg, const char *addr, uint8_t len, const char *zone,
		    uint64_t expires)
{
	struct pc_prefix p = { .family = strchr(addr, ':') ? AF_INET6 : AF_INET, .len = len };

	ck_assert_int_eq(inet_pton(p.family, addr, p.addr), 1);
	ck_assert_int_eq(pc_config_ban_add(cfg, &p, zone, expires), 0);
}

static void ban(struct pc_config *cfg, const char *addr, const char *zone, uint64_t expires)
{
	ban_len(cfg, addr, strchr(addr, ':') ? 128 : 32, zone, expires);
}

static void apply_ok(struct pc_nl *nl, const struct pc_ruleset *rs, const struct pc_ruleset *old)
{
	struct pc_diags d;

	pc_diags_init(&d);
	ck_assert_int_eq(pc_nl_apply(nl, rs, old, 0, &d), 0);
	ck_assert_uint_eq(d.n_errors, 0);
	pc_diags_free(&d);
}

static size_t mismatches(struct pc_nl *nl, const struct pc_ruleset *rs)
{
	struct pc_nl_mismatches m = { 0 };
	size_t n;

	ck_assert_int_eq(pc_nl_verify(nl, rs, &m), 0);
	for (size_t i = 0; i < m.n; i++)
		fprintf(stderr, "mismatch %c %s: %s\n", m.items[i].op, m.items[i].what,
			m.items[i].text);
	n = m.n;
	pc_nl_mismatches_free(&m);
	return n;
}

static bool set_lists(const char *set, const char *needle)
{
	char cmd[128], buf[4096];
	size_t n;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "nft list set inet portctl %s", set);
	p = popen(cmd, "r");
	ck_assert_ptr_nonnull(p);
	n = fread(buf, 1, sizeof(buf) - 1, p);
	buf[n] = '\0';
	pclose(p);
	return strstr(buf, needle) != NULL;
}

START_TEST(test_ban_unban_are_element_changes)
{
	struct pc_config *cfg = config_from_text(ZONES);
	struct pc_ruleset *a = ruleset_from_config(cfg), *b, *c;
	struct pc_nl *nl = NULL;

	ck_assert_int_eq(pc_nl_open(&nl), 0);
	apply_ok(nl, a, NULL);
	ban(cfg, "203.0.113.7", NULL, 0);
	ban(cfg, "2001:db8::7", "office", (uint64_t)time(NULL) + 3600);
	b = ruleset_from_config(cfg);
	apply_ok(nl, b, a);
	ck_assert(pc_nl_last_stats(nl)->incremental);
	/* One message per set that gained elements. */
	ck_assert_uint_eq(pc_nl_last_stats(nl)->n_msgs, 2);
	ck_assert(set_lists("ban4", "203.0.113.7"));
	ck_assert(set_lists("ban6_office", "2001:db8::7 timeout"));
	ck_assert_uint_eq(mismatches(nl, b), 0);

	/* Compiled again later: only the timeouts differ, nothing is sent. */
	usleep(20000);
	c = ruleset_from_config(cfg);
	ck_assert_uint_gt(c->bans_clock_ms, b->bans_clock_ms);
	apply_ok(nl, c, b);
	ck_assert(pc_nl_last_stats(nl)->incremental);
	ck_assert_uint_eq(pc_nl_last_stats(nl)->n_msgs, 0);

	/* Unban: element deletes. */
	cfg->n_bans = 1;
	ck_assert_int_eq(pc_ruleset_bans_update(b, cfg), 0);
	apply_ok(nl, b, c);
	ck_assert(pc_nl_last_stats(nl)->incremental);
	ck_assert(!set_lists("ban6_office", "2001:db8::7"));
	ck_assert_uint_eq(mismatches(nl, b), 0);
	pc_ruleset_free(a);
	pc_ruleset_free(b);
	pc_ruleset_free(c);
	pc_nl_close(nl);
	pc_config_free(cfg);
}
END_TEST

START_TEST(test_lapsed_ban)
{
	struct pc_config *cfg = config_from_text(ZONES);
	struct pc_ruleset *a, *b;
	struct pc_nl *nl = NULL;
	int tries;

	ck_assert_int_eq(pc_nl_open(&nl), 0);
	ban(cfg, "203.0.113.7", NULL, 0);
	/* Two seconds at least: time() may be just before its next second. */
	ban(cfg, "198.51.100.9", NULL, (uint64_t)time(NULL) + 3);
	a = ruleset_from_config(cfg);
	apply_ok(nl, a, NULL);
	ck_assert(set_lists("ban4", "198.51.100.9 timeout"));
	/* The kernel drops it by itself: wait for that, 10 s at most. */
	for (tries = 0; tries < 200 && set_lists("ban4", "198.51.100.9"); tries++)
		usleep(50000);
	ck_assert_int_lt(tries, 200);
	/* Not drift: a repair would put it back with its old timeout. */
	ck_assert_uint_eq(mismatches(nl, a), 0);
	/* The ban leaves the model (the daemon's expiry): the element it
	 * was is not deleted again, so this stays an element change. */
	cfg->n_bans = 1;
	b = ruleset_from_config(cfg);
	apply_ok(nl, b, a);
	ck_assert(pc_nl_last_stats(nl)->incremental);
	ck_assert(set_lists("ban4", "203.0.113.7"));
	ck_assert_uint_eq(mismatches(nl, b), 0);
	pc_ruleset_free(a);
	pc_ruleset_free(b);
	pc_nl_close(nl);
	pc_config_free(cfg);
}
END_TEST

/* Single addresses go to the hash set, wider spans to the interval set,
 * and one kind's change leaves the other's set alone: a fail2ban ban among
 * many blocked networks is one insert for the kernel, not a rebuild. */
START_TEST(test_hosts_and_nets_apart)
{
	struct pc_config *cfg = config_from_text(ZONES);
	struct pc_ruleset *a, *b;
	struct pc_nl *nl = NULL;

	ck_assert_int_eq(pc_nl_open(&nl), 0);
	ban_len(cfg, "198.51.100.0", 24, NULL, (uint64_t)time(NULL) + 600);
	/* Lasts longer than the /24 around it: a span of its own. */
	ban(cfg, "198.51.100.9", NULL, 0);
	ban_len(cfg, "2001:db8:bad::", 48, "office", 0);
	a = ruleset_from_config(cfg);
	apply_ok(nl, a, NULL);
	ck_assert(set_lists("ban4", "198.51.100.9 comment"));
	ck_assert(set_lists("ban4net", "198.51.100.0-198.51.100.8 timeout"));
	ck_assert(set_lists("ban4net", "198.51.100.10-198.51.100.255 timeout"));
	ck_assert(!set_lists("ban4net", "198.51.100.9 "));
	ck_assert(set_lists("ban6net_office", "2001:db8:bad::/48"));
	ck_assert(!set_lists("ban6_office", "2001:db8:bad"));
	ck_assert_uint_eq(mismatches(nl, a), 0);

	/* Another host: one element into the hash set, nothing else sent. */
	ban(cfg, "203.0.113.7", NULL, 0);
	b = ruleset_from_config(cfg);
	apply_ok(nl, b, a);
	ck_assert(pc_nl_last_stats(nl)->incremental);
	ck_assert_uint_eq(pc_nl_last_stats(nl)->n_msgs, 1);
	ck_assert(set_lists("ban4", "203.0.113.7"));
	ck_assert(!set_lists("ban4net", "203.0.113.7"));
	ck_assert_uint_eq(mismatches(nl, b), 0);
	pc_ruleset_free(a);
	pc_ruleset_free(b);
	pc_nl_close(nl);
	pc_config_free(cfg);
}
END_TEST

static void netns_enter(void)
{
	ck_assert_int_eq(unshare(CLONE_NEWNET), 0);
}

int main(void)
{
	Suite *s = suite_create("bans-kernel");
	TCase *tc = tcase_create("kernel");
	SRunner *sr;
	int failed;

	if (geteuid() != 0) {
		fprintf(stderr, "test_bans_kernel: needs root for a network namespace; skipped\n");
		return 77;
	}
	if (getenv("CK_FORK") && streq(getenv("CK_FORK"), "no")) {
		fprintf(stderr, "test_bans_kernel: needs CK_FORK (one namespace per test); skipped\n");
		return 77;
	}
	/* A ban that lapses by itself takes a few seconds. */
	tcase_set_timeout(tc, 30);
	tcase_add_checked_fixture(tc, netns_enter, NULL);
	tcase_add_test(tc, test_ban_unban_are_element_changes);
	tcase_add_test(tc, test_lapsed_ban);
	tcase_add_test(tc, test_hosts_and_nets_apart);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
