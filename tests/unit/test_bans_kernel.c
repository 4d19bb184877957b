/* Bans against the real kernel, in a private network namespace: a first
 * ban and an unban are element-only transactions, a recompile whose ban
 * timeouts merely shrank sends nothing, and an element that lapsed in the
 * kernel is neither drift nor deleted again. */
#include "config.h"

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sched.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <linux/netfilter/nf_tables.h>

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

/* Bans lifted after they lapsed in the kernel (their expiry, or an unban
 * that came late), made in place: what lapsed is not deleted again (the
 * kernel would refuse it), the rest of the difference is sent (the nets
 * set's opening element goes with its last span), and the kernel holds
 * the full compile after each. */
START_TEST(test_lapsed_edits_in_place)
{
	struct pc_config *cfg = config_from_text(ZONES);
	struct pc_prefix net = { .family = AF_INET, .len = 24 };
	struct pc_prefix host = { .family = AF_INET, .len = 32 };
	uint64_t end = (uint64_t)time(NULL) + 3;
	struct pc_ruleset *rs = NULL, *want;
	struct pc_plan *plan = NULL;
	struct pc_nl *nl = NULL;
	struct pc_diags d;
	int tries;

	ck_assert_int_eq(pc_nl_open(&nl), 0);
	ban_len(cfg, "198.51.100.0", 24, NULL, end);
	ban(cfg, "198.51.100.9", NULL, 0);
	ban(cfg, "203.0.113.7", NULL, end);
	pc_diags_init(&d);
	ck_assert_int_eq(pc_plan_build(cfg, &plan, &d), 0);
	ck_assert_int_eq(pc_ruleset_lower(plan, &rs, &d), 0);
	ck_assert_int_eq(pc_nl_apply(nl, rs, NULL, 0, &d), 0);
	ck_assert(set_lists("ban4net", "198.51.100.10-198.51.100.255 timeout"));
	/* The kernel drops them by itself, and the model's clock passes end. */
	for (tries = 0; tries < 200 && (set_lists("ban4", "203.0.113.7") ||
					set_lists("ban4net", "198.51.100.10-") ||
					(uint64_t)time(NULL) < end);
	     tries++)
		usleep(50000);
	ck_assert_int_lt(tries, 200);

	for (int k = 0; k < 2; k++) {
		struct pc_rule_append del = { 0 }, add = { 0 };
		struct pc_prefix *p = k == 0 ? &net : &host;
		struct pc_ban_delta dl;

		ck_assert_int_eq(inet_pton(AF_INET, k == 0 ? "198.51.100.0" : "203.0.113.7",
					   p->addr),
				 1);
		ck_assert_int_eq(pc_plan_ban_edit(plan, cfg, p, NULL, 0, true, &dl), 1);
		ck_assert_int_eq(pc_ban_delta_elems(rs, cfg, &dl, &del, &add), 0);
		ck_assert_int_eq(pc_nl_apply_elem_change(nl, rs, &del, &add, &d), 0);
		ck_assert_uint_eq(d.n_errors, 0);
		/* The net: its opening element; the host: nothing at all. */
		ck_assert_uint_eq(pc_nl_last_stats(nl)->n_msgs, k == 0 ? 1 : 0);
		want = ruleset_from_config(cfg);
		ck_assert_uint_eq(mismatches(nl, want), 0);
		pc_ruleset_free(want);
		pc_rule_append_free(&del);
		pc_rule_append_free(&add);
		pc_ban_delta_free(&dl);
	}
	ck_assert(set_lists("ban4", "198.51.100.9"));
	pc_diags_free(&d);
	pc_ruleset_free(rs);
	pc_plan_free(plan);
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

/* --- the ban sets as the code before e8aa5ca laid them out --- */

static bool ban_net_name(const char *name)
{
	return !strncmp(name, "ban4net", 7) || !strncmp(name, "ban6net", 7);
}

static int lookup_net_cb(struct nftnl_expr *e, void *data)
{
	if (streq(nftnl_expr_get_str(e, NFTNL_EXPR_NAME), "lookup") &&
	    ban_net_name(nftnl_expr_get_str(e, NFTNL_EXPR_LOOKUP_SET)))
		*(bool *)data = true;
	return 0;
}

static void elem_put(struct nftnl_set *s, const uint8_t *key, uint32_t len, bool end)
{
	struct nftnl_set_elem *e = nftnl_set_elem_alloc();

	ck_assert_ptr_nonnull(e);
	nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, key, len);
	if (end)
		nftnl_set_elem_set_u32(e, NFTNL_SET_ELEM_FLAGS, NFT_SET_ELEM_INTERVAL_END);
	nftnl_set_elem_add(s, e);
}

/* rs with every ban in one interval set per scope and family, as before:
 * the hosts' sets made interval sets holding the hosts (one IPv4 host
 * here, after the opening element), the sets of wider spans and the rules
 * that look them up gone. */
static void ruleset_old_bans(struct pc_ruleset *rs, const char *host)
{
	size_t n = 0;

	for (size_t i = 0; i < rs->n_objs; i++) {
		struct pc_nft_object *o = &rs->objs[i];
		bool gone = false;

		if (o->kind == PC_NFT_SET && ban_net_name(nftnl_set_get_str(o->obj, NFTNL_SET_NAME))) {
			nftnl_set_free(o->obj);
			rs->n_sets--;
			gone = true;
		} else if (o->kind == PC_NFT_RULE) {
			nftnl_expr_foreach(o->obj, lookup_net_cb, &gone);
			if (gone) {
				nftnl_rule_free(o->obj);
				rs->n_rules--;
			}
		} else if (o->kind == PC_NFT_SET &&
			   !strncmp(nftnl_set_get_str(o->obj, NFTNL_SET_NAME), "ban", 3)) {
			struct nftnl_set *s = o->obj;
			uint32_t len = nftnl_set_get_u32(s, NFTNL_SET_KEY_LEN);
			uint8_t zero[16] = { 0 }, key[16] = { 0 };
			struct nftnl_set *old = nftnl_set_alloc();

			ck_assert_ptr_nonnull(old);
			nftnl_set_set_str(old, NFTNL_SET_TABLE, nftnl_set_get_str(s, NFTNL_SET_TABLE));
			nftnl_set_set_str(old, NFTNL_SET_NAME, nftnl_set_get_str(s, NFTNL_SET_NAME));
			nftnl_set_set_u32(old, NFTNL_SET_FAMILY, nftnl_set_get_u32(s, NFTNL_SET_FAMILY));
			nftnl_set_set_u32(old, NFTNL_SET_ID, nftnl_set_get_u32(s, NFTNL_SET_ID));
			nftnl_set_set_u32(old, NFTNL_SET_KEY_TYPE, nftnl_set_get_u32(s, NFTNL_SET_KEY_TYPE));
			nftnl_set_set_u32(old, NFTNL_SET_KEY_LEN, len);
			nftnl_set_set_u32(old, NFTNL_SET_FLAGS, NFT_SET_INTERVAL | NFT_SET_TIMEOUT);
			if (len == 4 && streq(nftnl_set_get_str(s, NFTNL_SET_NAME), "ban4")) {
				ck_assert_int_eq(inet_pton(AF_INET, host, key), 1);
				elem_put(old, zero, len, true);
				elem_put(old, key, len, false);
				key[3]++;
				elem_put(old, key, len, true);
			}
			nftnl_set_free(s);
			o->obj = old;
		}
		if (!gone)
			rs->objs[n++] = *o;
	}
	rs->n_objs = n;
}

/* A table of the code before, one host banned in it, is taken over in
 * one transaction by the sets of now (promise 7: bans hold through a
 * package upgrade): the host stays banned, in the hash set, and the
 * kernel holds what the configuration compiles to. */
START_TEST(test_old_ban_layout_taken_over)
{
	struct pc_config *cfg = config_from_text(ZONES);
	struct pc_ruleset *old, *now;
	struct pc_nl *nl = NULL;

	ck_assert_int_eq(pc_nl_open(&nl), 0);
	ban(cfg, "203.0.113.7", NULL, 0);
	old = ruleset_from_config(cfg);
	ruleset_old_bans(old, "203.0.113.7");
	apply_ok(nl, old, NULL);
	ck_assert(set_lists("ban4", "203.0.113.7"));
	ck_assert(set_lists("ban4", "flags interval,timeout"));
	ck_assert(!set_lists("ban4net", "ban4net"));
	now = ruleset_from_config(cfg);
	/* As portctld at start: against the table the kernel holds. */
	apply_ok(nl, now, NULL);
	ck_assert_uint_eq(mismatches(nl, now), 0);
	ck_assert(set_lists("ban4", "203.0.113.7"));
	ck_assert(!set_lists("ban4", "interval"));
	ck_assert(set_lists("ban4net", "flags interval,timeout"));
	pc_ruleset_free(old);
	pc_ruleset_free(now);
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
	tcase_add_test(tc, test_lapsed_edits_in_place);
	tcase_add_test(tc, test_hosts_and_nets_apart);
	tcase_add_test(tc, test_old_ban_layout_taken_over);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
