/* Which rule a port map element's counters belong to: the batched
 * attribution status uses (pc_ruleset_elem_rules) gives, element for
 * element, what the one-at-a-time scan (pc_ruleset_elem_rule) gives. */
#include "config.h"

#include <check.h>
#include <stdlib.h>

#include <libnftnl/set.h>

#include "compile_helper.h"
#include "portctl/util.h"

#define ZONES                                                                                      \
	"zone public interface eth0 default\n"                                                     \
	"zone private interface eth1 source 192.168.0.0/16\n"                                      \
	"zone dmz interface eth2\n"

struct owners {
	struct pc_elem_owner *items;
	size_t n, cap;
	struct nftnl_set_elem **made; /* synthetic elements, freed with the list */
	size_t n_made;
};

static void owners_push(struct owners *o, const struct pc_rule *first,
			const struct nftnl_set_elem *e)
{
	if (o->n == o->cap) {
		o->cap = o->cap ? 2 * o->cap : 64;
		o->items = realloc(o->items, o->cap * sizeof(*o->items));
		ck_assert_ptr_nonnull(o->items);
	}
	o->items[o->n++] = (struct pc_elem_owner){ .first = first, .elem = e };
}

/* Every element of every set the compiler made for a rule's run. */
static void owners_from_ruleset(struct owners *o, const struct pc_ruleset *rs)
{
	for (size_t i = 0; i < rs->n_objs; i++) {
		struct nftnl_set_elems_iter *it;
		struct nftnl_set_elem *e;

		if (rs->objs[i].kind != PC_NFT_SET || !rs->objs[i].rule)
			continue;
		it = nftnl_set_elems_iter_create(rs->objs[i].obj);
		ck_assert_ptr_nonnull(it);
		while ((e = nftnl_set_elems_iter_next(it)))
			owners_push(o, rs->objs[i].rule, e);
		nftnl_set_elems_iter_destroy(it);
	}
}

/* Elements the compiler would not make: any rule as first, any port. */
static void owners_synthetic(struct owners *o, const struct pc_config *cfg)
{
	static const uint16_t ports[] = { 0, 1, 22, 25, 53, 79, 80, 81, 443, 999, 1000, 1500, 2000, 8080, 65535 };
	static const uint8_t protos[] = { 6, 17, 132, 1 };

	o->made = calloc(cfg->n_rules * ARRAY_SIZE(ports) * ARRAY_SIZE(protos), sizeof(*o->made));
	ck_assert_ptr_nonnull(o->made);
	for (size_t r = 0; r < cfg->n_rules; r++)
		for (size_t p = 0; p < ARRAY_SIZE(ports); p++)
			for (size_t q = 0; q < ARRAY_SIZE(protos); q++) {
				uint8_t key[8] = { protos[q], 0, 0, 0, ports[p] >> 8, ports[p] & 0xff, 0, 0 };
				struct nftnl_set_elem *e = nftnl_set_elem_alloc();

				ck_assert_ptr_nonnull(e);
				nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, key, sizeof(key));
				o->made[o->n_made++] = e;
				owners_push(o, &cfg->rules[r], e);
			}
	/* No key, and a first that is no rule: both answered by first. */
	owners_push(o, &cfg->rules[0], NULL);
	owners_push(o, NULL, o->made[0]);
}

static void owners_free(struct owners *o)
{
	for (size_t i = 0; i < o->n_made; i++)
		nftnl_set_elem_free(o->made[i]);
	free(o->made);
	free(o->items);
}

/* Compare both ways on cfg; returns how many elements left their first. */
static size_t check_same_attribution(const struct pc_config *cfg)
{
	struct pc_ruleset *rs = ruleset_from_config(cfg);
	struct owners o = { 0 };
	size_t moved = 0;

	owners_from_ruleset(&o, rs);
	owners_synthetic(&o, cfg);
	ck_assert_int_eq(pc_ruleset_elem_rules(cfg, o.items, o.n), 0);
	for (size_t i = 0; i < o.n; i++) {
		const struct pc_rule *want = o.items[i].first;

		if (want)
			want = pc_ruleset_elem_rule(cfg, want, o.items[i].elem);
		ck_assert_msg(o.items[i].rule == want, "element %zu: rule %td, want %td", i,
			      o.items[i].rule ? o.items[i].rule - cfg->rules + 1 : -1,
			      want ? want - cfg->rules + 1 : -1);
		moved += o.items[i].rule != o.items[i].first;
	}
	owners_free(&o);
	pc_ruleset_free(rs);
	return moved;
}

START_TEST(test_overlapping_zones)
{
	struct pc_config *cfg = config_from_text(
		ZONES "allow 22/tcp\n"
		      "allow 20-30/tcp zone private\n"
		      "deny 25/tcp\n"
		      "allow 80,443/tcp zone dmz,private\n"
		      "allow 1000-2000 zone private\n"
		      "reject 1500/udp zone private\n"
		      "allow out 53\n"
		      "deny out 25/tcp\n"
		      "allow 443/tcp zone private,dmz\n"
		      "allow 80/tcp\n"
		      "deny 79-81/tcp zone dmz\n"
		      "allow 8080/sctp zone dmz\n"
		      "allow 22/tcp zone private\n"
		      "allow 1-65535/udp zone dmz\n"
		      "allow 1000-1500/tcp\n"
		      "allow 999-2000/tcp\n");

	ck_assert_uint_gt(check_same_attribution(cfg), 0);
	pc_config_free(cfg);
}
END_TEST

/* Random runs of overlapping ports over several zones, both directions. */
START_TEST(test_random_configurations)
{
	static const char *const zones[] = { "", " zone private", " zone dmz", " zone dmz,private",
					     " zone public" };
	static const char *const actions[] = { "allow", "deny", "reject" };
	static const char *const protos[] = { "/tcp", "/udp", "", "/sctp" };
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	unsigned seed = (unsigned)_i * 7919u + 1;
	struct pc_config *cfg;

	ck_assert_ptr_nonnull(f);
	fputs(ZONES, f);
	for (int i = 0; i < 120; i++) {
		unsigned lo = (unsigned)rand_r(&seed) % 60 + 10, w = (unsigned)rand_r(&seed) % 4;

		/* Rules of no port among them: they paint nothing, but may
		 * be the first a synthetic element names. */
		if (rand_r(&seed) % 5 == 0) {
			fprintf(f, "%s from 10.0.%u.%u%s\n", actions[rand_r(&seed) % 3], lo, w,
				zones[rand_r(&seed) % 5]);
			continue;
		}
		fprintf(f, "%s%s %u", actions[rand_r(&seed) % 3], rand_r(&seed) % 4 ? "" : " out", lo);
		if (w)
			fprintf(f, "-%u", lo + w * 3);
		fprintf(f, "%s%s\n", protos[rand_r(&seed) % 4], zones[rand_r(&seed) % 5]);
	}
	fclose(f);
	cfg = config_from_text(text);
	check_same_attribution(cfg);
	pc_config_free(cfg);
	free(text);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("elem_owner");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_overlapping_zones);
	tcase_add_loop_test(tc, test_random_configurations, 0, 25);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
